//! Differences between two sets of replications, metric by metric, with 95% intervals.
//!
//! When both sides ran replication i on the same seed (a sweep's variants, or two runs with
//! the same master seed), the difference is paired: the interval is Student's t on the
//! per-replication differences d_i = x_i - y_i, over the replications where both defined
//! the metric, and common random numbers make it narrow. Otherwise it is unpaired: Welch's
//! interval on the two means (Welch 1947), wider, and labelled so.

use std::collections::BTreeMap;

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::summary::{Metrics, summarise};

/// One metric of a variant against the baseline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Difference {
    /// The baseline's mean over the replications used.
    pub baseline: f64,
    /// The variant's mean over the replications used.
    pub variant: f64,
    /// Variant minus baseline.
    pub difference: f64,
    /// Lower end of the difference's 95% interval; null with fewer than 2 replications.
    pub ci95_low: Option<f64>,
    /// Upper end of the difference's 95% interval.
    pub ci95_high: Option<f64>,
    /// Replications used: pairs where both sides defined the metric, or (unpaired) the
    /// smaller side.
    pub n: usize,
}

/// How two sets of replications are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pairing {
    /// Replication i on both sides ran on the same seed.
    Paired,
    /// The seeds differ: Welch's unpaired interval.
    Unpaired,
}

/// Every metric defined on both sides, compared replication by replication (`Paired`) or as
/// two independent samples. `base` and `variant` are in replication order.
pub fn differences(
    base: &[Metrics],
    variant: &[Metrics],
    pairing: Pairing,
) -> BTreeMap<String, Difference> {
    let names: std::collections::BTreeSet<&String> = base.iter().flat_map(|m| m.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let d = match pairing {
                Pairing::Paired => paired(base, variant, name),
                Pairing::Unpaired => unpaired(base, variant, name),
            }?;
            Some((name.clone(), d))
        })
        .collect()
}

fn finite(m: &Metrics, name: &str) -> Option<f64> {
    m.get(name).copied().filter(|v| v.is_finite())
}

fn paired(base: &[Metrics], variant: &[Metrics], name: &str) -> Option<Difference> {
    let pairs: Vec<(f64, f64)> = base
        .iter()
        .zip(variant)
        .filter_map(|(b, v)| Some((finite(b, name)?, finite(v, name)?)))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let d: Vec<f64> = pairs.iter().map(|(b, v)| v - b).collect();
    let s = summarise(&d);
    Some(Difference {
        baseline: pairs.iter().map(|p| p.0).sum::<f64>() / n,
        variant: pairs.iter().map(|p| p.1).sum::<f64>() / n,
        difference: s.mean,
        ci95_low: s.ci95_low,
        ci95_high: s.ci95_high,
        n: pairs.len(),
    })
}

fn unpaired(base: &[Metrics], variant: &[Metrics], name: &str) -> Option<Difference> {
    let values =
        |side: &[Metrics]| -> Vec<f64> { side.iter().filter_map(|m| finite(m, name)).collect() };
    let (b, v) = (values(base), values(variant));
    if b.is_empty() || v.is_empty() {
        return None;
    }
    let (sb, sv) = (summarise(&b), summarise(&v));
    let difference = sv.mean - sb.mean;
    let half = match (sb.std, sv.std) {
        (Some(xb), Some(xv)) => {
            let (qb, qv) = (xb * xb / b.len() as f64, xv * xv / v.len() as f64);
            let se2 = qb + qv;
            if se2 > 0.0 {
                // Welch-Satterthwaite degrees of freedom.
                let dof =
                    se2 * se2 / (qb * qb / (b.len() - 1) as f64 + qv * qv / (v.len() - 1) as f64);
                Some(t975_fractional(dof) * se2.sqrt())
            } else {
                Some(0.0)
            }
        }
        _ => None,
    };
    Some(Difference {
        baseline: sb.mean,
        variant: sv.mean,
        difference,
        ci95_low: half.map(|h| difference - h),
        ci95_high: half.map(|h| difference + h),
        n: b.len().min(v.len()),
    })
}

/// The 97.5% quantile of Student's t with `dof` (not necessarily whole) degrees of freedom.
fn t975_fractional(dof: f64) -> f64 {
    StudentsT::new(0.0, 1.0, dof)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(1.959_963_984_540_054)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reps(values: &[f64]) -> Vec<Metrics> {
        values
            .iter()
            .map(|&v| Metrics::from([("m".to_string(), v)]))
            .collect()
    }

    #[test]
    fn a_paired_difference_is_the_interval_of_the_differences() {
        // Differences 1, 2, 3: mean 2, std 1, t(2) = 4.303, half-width 4.303 / sqrt(3).
        let base = reps(&[10.0, 20.0, 30.0]);
        let var = reps(&[11.0, 22.0, 33.0]);
        let d = &differences(&base, &var, Pairing::Paired)["m"];
        assert_eq!(
            (d.baseline, d.variant, d.difference, d.n),
            (20.0, 22.0, 2.0, 3)
        );
        let half = 4.302_652_729_911_275 / 3f64.sqrt();
        assert!((d.ci95_high.expect("ci") - (2.0 + half)).abs() < 1e-9);
        assert!((d.ci95_low.expect("ci") - (2.0 - half)).abs() < 1e-9);
    }

    #[test]
    fn an_unpaired_difference_uses_welchs_interval() {
        // Means 2 and 5, variances 1 and 4, n = 3 each: se^2 = 1/3 + 4/3 = 5/3;
        // dof = (5/3)^2 / ((1/3)^2/2 + (4/3)^2/2) = 50/17 = 2.941.
        let base = reps(&[1.0, 2.0, 3.0]);
        let var = reps(&[3.0, 5.0, 7.0]);
        let d = &differences(&base, &var, Pairing::Unpaired)["m"];
        assert_eq!(d.difference, 3.0);
        let dof = 50.0 / 17.0;
        let half = t975_fractional(dof) * (5.0f64 / 3.0).sqrt();
        assert!((d.ci95_high.expect("ci") - 3.0 - half).abs() < 1e-12);
        // Between t(2) and t(3), as a dof of 2.94 must be.
        assert!(t975_fractional(dof) < 4.303 && t975_fractional(dof) > 3.182);
    }

    #[test]
    fn pairs_use_only_replications_where_both_sides_defined_the_metric() {
        let base = reps(&[1.0, f64::NAN, 3.0]);
        let var = reps(&[2.0, 5.0, f64::INFINITY]);
        let d = &differences(&base, &var, Pairing::Paired)["m"];
        assert_eq!((d.n, d.difference, d.ci95_low), (1, 1.0, None));
    }
}
