//! The `viability` section: what counts as viable in `depinsim viability`.

use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::scenario::raw::RawViability;
use crate::scenario::spec::Viability;

/// The criteria at `at`: a positive cost ratio, an attainment share in [0, 1].
pub(super) fn validate(v: &RawViability, at: &YamlPath, issues: &mut Issues) -> Viability {
    issues.positive(
        &at.key("max_cost_ratio"),
        v.max_cost_ratio,
        "e.g. 1 (no dearer than the cloud)",
    );
    issues.within(
        &at.key("min_slo_attainment"),
        v.min_slo_attainment,
        0.0,
        1.0,
        "a share between 0 and 1, e.g. 0.95",
    );
    Viability {
        max_cost_ratio: v.max_cost_ratio,
        min_slo_attainment: v.min_slo_attainment,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, load};
    use crate::scenario::defaults;

    #[test]
    fn the_criteria_are_a_ratio_and_a_share() {
        check(
            "viability: {max_cost_ratio: 0, min_slo_attainment: 2}",
            &[
                (
                    "viability.max_cost_ratio",
                    "must be a positive number, got 0",
                ),
                (
                    "viability.min_slo_attainment",
                    "must be between 0 and 1, got 2",
                ),
            ],
        );
        let v = *load("").expect("valid").viability();
        assert_eq!(
            (v.max_cost_ratio, v.min_slo_attainment),
            (defaults::MAX_COST_RATIO, defaults::MIN_SLO_ATTAINMENT)
        );
        let v = *load("viability: {max_cost_ratio: 1.5}")
            .expect("valid")
            .viability();
        assert_eq!(v.max_cost_ratio, 1.5);
    }
}
