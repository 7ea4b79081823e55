//! The `regions` section, and the `network` between them: the symmetric matrix of round
//! trips and the bytes a token takes on the wire.

use std::collections::HashMap;

use super::names::Names;
use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::scenario::raw::{RawNetwork, RawRegion};
use crate::scenario::spec::Region;

/// The validated regions, and where each name is among them.
pub(super) struct Regions {
    list: Vec<Region>,
    /// The last region of each name (names that repeat are refused).
    index: HashMap<String, usize>,
}

impl Regions {
    /// The region called `name`, or None after recording at `at` that there is none.
    pub(super) fn lookup(&self, name: &str, at: &YamlPath, issues: &mut Issues) -> Option<usize> {
        self.find(name, at, issues, || {
            "use the name of a region listed under `regions`".into()
        })
    }

    /// The region called `name`, or None after recording at `at` that there is none, with
    /// the fix `fix` gives.
    fn find(
        &self,
        name: &str,
        at: &YamlPath,
        issues: &mut Issues,
        fix: impl FnOnce() -> String,
    ) -> Option<usize> {
        let found = self.index.get(name).copied();
        if found.is_none() {
            issues.push(at, format!("`{name}` is not a region"), fix());
        }
        found
    }

    /// The regions, in the file's order.
    pub(super) fn into_list(self) -> Vec<Region> {
        self.list
    }
}

/// Checks the section at `at`: at least one region, usable distinct names, UTC offsets and
/// bandwidths in range.
pub(super) fn validate(regions: &[RawRegion], at: &YamlPath, issues: &mut Issues) -> Regions {
    if regions.is_empty() {
        issues.push(
            at,
            "no regions",
            "list at least one region, e.g. `- {name: us-east}`",
        );
    }
    let mut names = Names::new("regions");
    let list: Vec<Region> = regions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let rp = at.index(i);
            names.check(&rp, &r.name, i, issues);
            issues.within(
                &rp.key("utc_offset_h"),
                r.utc_offset_h,
                -12.0,
                14.0,
                "give the offset of local time from UTC in hours",
            );
            issues.positive(
                &rp.key("bandwidth_mbps"),
                r.bandwidth_mbps,
                "give the access bandwidth in Mbit/s, e.g. 1000",
            );
            Region {
                name: r.name.clone(),
                utc_offset_h: r.utc_offset_h,
                bandwidth_bps: r.bandwidth_mbps * 1e6,
            }
        })
        .collect();
    let index = list
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.clone(), i))
        .collect();
    Regions { list, index }
}

/// The symmetric matrix of round trips in seconds, row-major regions x regions, from the
/// `network` section at `at`: unknown regions, directions that disagree and missing pairs
/// are problems; a region to itself is the intra-region round trip.
pub(super) fn rtt_matrix(
    net: &RawNetwork,
    regions: &Regions,
    at: &YamlPath,
    issues: &mut Issues,
) -> Vec<f64> {
    issues.non_negative(
        &at.key("intra_region_rtt_ms"),
        net.intra_region_rtt_ms,
        "e.g. 1.0",
    );
    let n = regions.list.len();
    let mut ms: Vec<Option<f64>> = vec![None; n * n];
    let mp = at.key("rtt_ms");
    for (a, row) in &net.rtt_ms {
        let Some(i) = known(regions, a, &mp.key(a), issues) else {
            continue;
        };
        for (b, &v) in row {
            let vp = mp.key(a).key(b);
            let Some(j) = known(regions, b, &vp, issues) else {
                continue;
            };
            if !issues.non_negative(&vp, v, "give the round-trip time in ms") {
                continue;
            }
            match ms[i * n + j] {
                Some(old) if old != v => issues.push(
                    &vp,
                    format!("conflicts with the other direction ({old} ms)"),
                    "give one value per pair",
                ),
                _ => {
                    ms[i * n + j] = Some(v);
                    ms[j * n + i] = Some(v);
                }
            }
        }
    }
    complete(&mut ms, net, regions, &mp, issues);
    ms.into_iter().map(|v| v.unwrap_or(0.0) / 1e3).collect()
}

/// The region called `name` in the RTT matrix, or None after recording at `at` that there
/// is none.
fn known(regions: &Regions, name: &str, at: &YamlPath, issues: &mut Issues) -> Option<usize> {
    regions.find(name, at, issues, || {
        let names: Vec<&str> = regions.list.iter().map(|r| r.name.as_str()).collect();
        format!("use one of: {}", names.join(", "))
    })
}

/// Fills the diagonal with the intra-region round trip and records every pair of distinct
/// regions left without a value.
fn complete(
    ms: &mut [Option<f64>],
    net: &RawNetwork,
    regions: &Regions,
    at: &YamlPath,
    issues: &mut Issues,
) {
    let n = regions.list.len();
    for i in 0..n {
        ms[i * n + i].get_or_insert(net.intra_region_rtt_ms);
        for j in i + 1..n {
            if ms[i * n + j].is_none() {
                let (a, b) = (&regions.list[i].name, &regions.list[j].name);
                issues.push(
                    at,
                    format!("no round-trip time between `{a}` and `{b}`"),
                    format!("add `{a}: {{{b}: <ms>}}` under network.rtt_ms"),
                );
            }
        }
    }
}

/// The `network` section's bytes per token, at `at`.
pub(super) fn payload(net: &RawNetwork, at: &YamlPath, issues: &mut Issues) {
    issues.non_negative(&at.key("bytes_per_token"), net.bytes_per_token, "e.g. 4");
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, load};
    use super::*;

    #[test]
    fn regions_need_names_offsets_and_bandwidths_in_range() {
        check(
            "regions: [{name: us-east, utc_offset_h: 15}, {name: eu-west, bandwidth_mbps: 0}]",
            &[
                (
                    "regions[0].utc_offset_h",
                    "must be between -12 and 14, got 15",
                ),
                (
                    "regions[1].bandwidth_mbps",
                    "must be a positive number, got 0",
                ),
            ],
        );
        let mut issues = Issues::default();
        let regions = validate(&[], &YamlPath::root().key("regions"), &mut issues);
        assert!(regions.into_list().is_empty());
        let found: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            found,
            ["regions: no regions\n    fix: list at least one region, e.g. `- {name: us-east}`"]
        );
    }

    #[test]
    fn the_rtt_matrix_names_every_bad_entry() {
        let cases: [(&str, &[(&str, &str)]); 4] = [
            (
                "network: {intra_region_rtt_ms: -1, rtt_ms: {mars: {us-east: 1}, us-east: {venus: 2, eu-west: -3}}}",
                &[
                    ("network.intra_region_rtt_ms", "must be zero or more"),
                    ("network.rtt_ms.mars", "`mars` is not a region"),
                    ("network.rtt_ms.us-east.venus", "`venus` is not a region"),
                    (
                        "network.rtt_ms.us-east.eu-west",
                        "must be zero or more, got -3",
                    ),
                    (
                        "network.rtt_ms",
                        "no round-trip time between `us-east` and `eu-west`",
                    ),
                ],
            ),
            (
                // Rows are read in name order: eu-west's value comes first.
                "network: {rtt_ms: {us-east: {eu-west: 76}, eu-west: {us-east: 80}}}",
                &[(
                    "network.rtt_ms.us-east.eu-west",
                    "conflicts with the other direction (80 ms)",
                )],
            ),
            (
                "regions: [{name: us-east}, {name: us-east}]\nnetwork: {rtt_ms: {}}",
                &[
                    (
                        "regions[1].name",
                        "`us-east` is also the name of regions[0]",
                    ),
                    (
                        "network.rtt_ms",
                        "no round-trip time between `us-east` and `us-east`",
                    ),
                ],
            ),
            (
                "network: {rtt_ms: {us-east: {eu-west: 76}}, bytes_per_token: -1}",
                &[("network.bytes_per_token", "must be zero or more")],
            ),
        ];
        for (fragment, want) in cases {
            check(fragment, want);
        }
    }

    #[test]
    fn one_direction_fills_both_and_the_diagonal_is_the_intra_region_trip() {
        let s = load("network: {rtt_ms: {eu-west: {us-east: 80}}, intra_region_rtt_ms: 2}")
            .expect("valid");
        assert_eq!((s.rtt_s(0, 1), s.rtt_s(1, 0)), (0.08, 0.08));
        assert_eq!((s.rtt_s(0, 0), s.rtt_s(1, 1)), (0.002, 0.002));
        let s = load("").expect("valid");
        assert_eq!(
            s.rtt_s(1, 1),
            crate::scenario::defaults::INTRA_REGION_RTT_MS / 1e3
        );
        assert_eq!(s.regions()[0].bandwidth_bps, 1e9, "1000 Mbit/s by default");
    }

    #[test]
    fn an_unknown_region_in_the_matrix_lists_the_known_ones() {
        let issues = load("network: {rtt_ms: {us-east: {eu-west: 76, asia: 1}}}").unwrap_err();
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].fix, "use one of: us-east, eu-west");
    }
}
