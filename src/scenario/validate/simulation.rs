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
