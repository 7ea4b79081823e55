//! The users of `inference.users`: where they are, how often they ask and how that swings
//! over the day; and whether every group of them can be served at all.

use super::regions::Regions;
use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::scenario::defaults::{MAX_RATE_PER_S, MAX_REQUESTS};
use crate::scenario::raw::{RawSimulation, RawUserGroup};
use crate::scenario::spec::{Scenario, UserGroup};

/// The user groups at `at`: at least one, in known regions, with rates and daily cycles in
/// range; not all idle, and not more requests over the run than it can simulate.
pub(super) fn validate(
    list: &[RawUserGroup],
    regions: &Regions,
    sim: &RawSimulation,
    has_jobs: bool,
    at: &YamlPath,
    issues: &mut Issues,
) -> Vec<UserGroup> {
    if list.is_empty() {
        issues.push(
            at,
            "no users",
            "list at least one user group, e.g. `- {region: us-east, rate_per_s: 5}`",
        );
    }
    let out = list
        .iter()
        .enumerate()
        .filter_map(|(i, u)| group(u, regions, &at.index(i), issues))
        .collect();
    // Users who never arrive are a training-only scenario's way of saying so.
    if !has_jobs && !list.is_empty() && list.iter().all(|u| u.rate_per_s == 0.0) {
        issues.push(
            at,
            "every user group has a rate of 0 and there are no training jobs: nothing would happen",
            "give at least one group a positive rate_per_s, or add training jobs",
        );
    }
    let rate: f64 = list.iter().map(|u| u.rate_per_s).sum();
    let requests = rate * sim.horizon_h * 3600.0 * f64::from(sim.replications);
    if requests > MAX_REQUESTS {
        issues.push(
            at,
            format!("the run would simulate about {requests:.1e} requests, more than {MAX_REQUESTS:.0e} (hours of computing)"),
            "shorten simulation.horizon_h, lower the rates, or run fewer replications",
        );
    }
    out
}

/// One user group at `at`; None when its region is unknown.
fn group(
    u: &RawUserGroup,
    regions: &Regions,
    at: &YamlPath,
    issues: &mut Issues,
) -> Option<UserGroup> {
    let region = regions.lookup(&u.region, &at.key("region"), issues);
    issues.within(
        &at.key("rate_per_s"),
        u.rate_per_s,
        0.0,
        MAX_RATE_PER_S,
        "give the mean request rate per second",
    );
    let cycle = u.daily_cycle.as_ref().map(|c| {
        let cp = at.key("daily_cycle");
        issues.within(
            &cp.key("amplitude"),
            c.amplitude,
            0.0,
            1.0,
            "a relative swing between 0 (flat) and 1",
        );
        issues.within(
            &cp.key("peak_local_h"),
            c.peak_local_h,
            0.0,
            24.0,
            "a local hour between 0 and 24",
        );
        (c.amplitude, c.peak_local_h)
    });
    Some(UserGroup {
        region: region?,
        rate_per_s: u.rate_per_s,
        cycle,
    })
}

/// Records at each group of `at` that no pool holding the model is within reach of it.
pub(super) fn reachability(s: &Scenario, at: &YamlPath, issues: &mut Issues) {
    for (i, u) in s.users.iter().enumerate() {
        if s.candidate_pools(u.region).is_empty() {
            let why = match s.max_rtt_s {
                Some(m) => format!(
                    "no GPU pool that holds the model is within max_rtt_ms ({} ms)",
                    m * 1e3
                ),
                None => "no GPU pool holds the model".to_string(),
            };
            issues.push(
                &at.index(i),
                format!(
                    "users in `{}` cannot be served: {why}",
                    s.regions[u.region].name
                ),
                "raise inference.max_rtt_ms or add a provider group nearby",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, load};

    #[test]
    fn user_groups_are_checked_one_by_one_and_together() {
        let cases: [(&str, &[(&str, &str)]); 5] = [
            ("inference: {users: []}", &[("inference.users", "no users")]),
            (
                "inference: {users: [{region: us-east, rate_per_s: 0}, {region: eu-west, rate_per_s: 0}]}",
                &[(
                    "inference.users",
                    "every user group has a rate of 0 and there are no training jobs",
                )],
            ),
            (
                "inference: {users: [{region: us-east, rate_per_s: 1}, {region: mars, rate_per_s: -1, daily_cycle: {amplitude: 2, peak_local_h: 30}}]}",
                &[
                    ("inference.users[1].region", "`mars` is not a region"),
                    (
                        "inference.users[1].rate_per_s",
                        "must be between 0 and 1000000000, got -1",
                    ),
                    (
                        "inference.users[1].daily_cycle.amplitude",
                        "must be between 0 and 1",
                    ),
                    (
                        "inference.users[1].daily_cycle.peak_local_h",
                        "must be between 0 and 24",
                    ),
                ],
            ),
            (
                "inference: {users: [{region: us-east, rate_per_s: 1e6}]}\nsimulation: {horizon_h: 1000, replications: 2}",
                &[(
                    "inference.users",
                    "the run would simulate about 7.2e12 requests, more than 1e11",
                )],
            ),
            (
                "inference: {users: [{region: eu-west, rate_per_s: 1}], max_rtt_ms: 10}",
                &[(
                    "inference.users[0]",
                    "users in `eu-west` cannot be served: no GPU pool that holds the model is within max_rtt_ms (10 ms)",
                )],
            ),
        ];
        for (fragment, want) in cases {
            check(fragment, want);
        }
    }

    #[test]
    fn a_group_far_away_is_served_without_a_limit_and_cycles_peak_in_the_evening() {
        let s = load(
            "inference: {users: [{region: eu-west, rate_per_s: 3, daily_cycle: {amplitude: 0.5}}]}",
        )
        .expect("valid");
        let u = &s.users()[0];
        assert_eq!((u.region, u.rate_per_s), (1, 3.0));
        assert_eq!(
            u.cycle,
            Some((0.5, crate::scenario::defaults::PEAK_LOCAL_H))
        );
        assert_eq!(s.candidate_pools(1), [0]);
    }
}
