//! The `simulation` section: horizon, warm-up, time-series epochs and replications.

use crate::core::diagnostics::Issues;
use crate::core::engine::{SimTime, from_secs};
use crate::core::path::YamlPath;
use crate::scenario::defaults::{MAX_HORIZON_H, MAX_REPLICATIONS, MAX_ROWS, ONE_SECOND_H};
use crate::scenario::raw::RawSimulation;

/// The section's times, as simulated time.
pub(super) struct Times {
    /// Simulated horizon.
    pub(super) horizon: SimTime,
    /// Warm-up excluded from statistics.
    pub(super) warmup: SimTime,
    /// Length of one time-series row.
    pub(super) epoch: SimTime,
}

/// Checks the section at `at`.
pub(super) fn validate(s: &RawSimulation, at: &YamlPath, issues: &mut Issues) -> Times {
    let horizon_ok = horizon_and_warmup(s, at, issues);
    epochs(s, horizon_ok, at, issues);
    if s.replications == 0 || s.replications > MAX_REPLICATIONS {
        issues.push(
            &at.key("replications"),
            format!(
                "must be between 1 and {MAX_REPLICATIONS}, got {}",
                s.replications
            ),
            "use at least 2 for confidence intervals, e.g. 8",
        );
    }
    let h = |x: f64| from_secs(x * 3600.0);
    Times {
        horizon: h(s.horizon_h),
        warmup: h(s.warmup_h),
        epoch: h(s.epoch_h),
    }
}

/// A horizon from one second to a century, and a warm-up that leaves time to measure.
/// Returns whether the horizon is usable.
fn horizon_and_warmup(s: &RawSimulation, at: &YamlPath, issues: &mut Issues) -> bool {
    let horizon_ok = issues.within(
        &at.key("horizon_h"),
        s.horizon_h,
        ONE_SECOND_H,
        MAX_HORIZON_H,
        "give the simulated time in hours (one second to a century), e.g. 24",
    );
    if issues.non_negative(
        &at.key("warmup_h"),
        s.warmup_h,
        "give the warm-up in hours, e.g. 1",
    ) && horizon_ok
        && s.warmup_h >= s.horizon_h
    {
        issues.push(
            &at.key("warmup_h"),
            format!(
                "warm-up ({} h) leaves nothing to measure before the horizon ({} h)",
                s.warmup_h, s.horizon_h
            ),
            "make warmup_h smaller than horizon_h",
        );
    }
    horizon_ok
}

/// An epoch of at least one second, and no more time-series rows than memory holds.
fn epochs(s: &RawSimulation, horizon_ok: bool, at: &YamlPath, issues: &mut Issues) {
    if issues.within(
        &at.key("epoch_h"),
        s.epoch_h,
        ONE_SECOND_H,
        MAX_HORIZON_H,
        "give the time-series step in hours (at least one second), e.g. 1",
    ) && horizon_ok
        && (s.horizon_h / s.epoch_h).ceil() * f64::from(s.replications) > MAX_ROWS
    {
        issues.push(
            &at.key("epoch_h"),
            format!(
                "gives more than {MAX_ROWS} time-series rows over the horizon and replications"
            ),
            "use a longer epoch_h or fewer replications",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, load, only_issue};
    use crate::core::engine::from_secs;
    use crate::scenario::defaults;

    #[test]
    fn every_setting_out_of_range_is_named_at_once() {
        check(
            "simulation: {horizon_h: 1e9, warmup_h: -1, epoch_h: 0, replications: 0}",
            &[
                (
                    "simulation.horizon_h",
                    "must be between 0.0002777777777777778 and 876600",
                ),
                ("simulation.warmup_h", "must be zero or more, got -1"),
                ("simulation.epoch_h", "must be between"),
                (
                    "simulation.replications",
                    "must be between 1 and 100000, got 0",
                ),
            ],
        );
    }

    #[test]
    fn the_warm_up_and_the_rows_must_fit_the_horizon() {
        let cases: [(&str, &[(&str, &str)]); 4] = [
            (
                "simulation: {horizon_h: 2, warmup_h: 2}",
                &[(
                    "simulation.warmup_h",
                    "leaves nothing to measure before the horizon (2 h)",
                )],
            ),
            (
                "simulation: {horizon_h: 1000, warmup_h: 1, epoch_h: 0.001, replications: 4}",
                &[("simulation.epoch_h", "more than 2000000 time-series rows")],
            ),
            (
                "simulation: {horizon_h: 1000, warmup_h: 1, epoch_h: 0.001, replications: 2}",
                &[],
            ),
            (
                "simulation: {horizon_h: 2, warmup_h: 0.5, replications: 100001}",
                &[("simulation.replications", "got 100001")],
            ),
        ];
        for (fragment, want) in cases {
            check(fragment, want);
        }
    }

    #[test]
    fn a_bad_horizon_hides_what_depends_on_it() {
        // The warm-up and the rows are measured against the horizon, so only it is named.
        check(
            "simulation: {horizon_h: 0, warmup_h: 5, epoch_h: 0.00001}",
            &[
                ("simulation.horizon_h", "must be between"),
                ("simulation.epoch_h", "must be between"),
            ],
        );
    }

    #[test]
    fn defaults_fill_the_section_and_times_are_nanoseconds() {
        let s = load("simulation: {}").expect("valid");
        assert_eq!(s.horizon(), from_secs(defaults::HORIZON_H * 3600.0));
        assert_eq!(s.warmup(), from_secs(defaults::WARMUP_H * 3600.0));
        assert_eq!(s.epoch, from_secs(defaults::EPOCH_H * 3600.0));
        assert_eq!(s.replications(), defaults::REPLICATIONS);
        assert_eq!(s.seed(), defaults::SEED);
        assert_eq!(
            only_issue("simulation: {replications: 0}").fix,
            "use at least 2 for confidence intervals, e.g. 8"
        );
    }
}
