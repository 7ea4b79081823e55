//! Summaries across replications: mean, sample standard deviation, a 95% confidence interval
//! from Student's t distribution, and the number of replications that defined the metric.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Metric values of one replication, by dot-separated name (unit last: `inference.ttft_s.p99`).
pub type Metrics = BTreeMap<String, f64>;

/// One metric summarised across replications.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// Mean over replications.
    pub mean: f64,
    /// Sample standard deviation (n - 1); null with one replication.
    pub std: Option<f64>,
    /// Lower end of the 95% confidence interval of the mean; null with one replication.
    pub ci95_low: Option<f64>,
    /// Upper end of the 95% confidence interval of the mean; null with one replication.
    pub ci95_high: Option<f64>,
    /// Replications in which the metric was defined (a region with no completed request has
    /// no latency quantile).
    pub n: usize,
}

/// Summarises each metric over the replications (in replication order, so the result is the
/// same whatever thread ran which replication).
pub fn aggregate(reps: &[Metrics]) -> BTreeMap<String, MetricSummary> {
    let mut values: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for m in reps {
        for (k, v) in m {
            if v.is_finite() {
                values.entry(k.as_str()).or_default().push(*v);
            }
        }
    }
    values
        .into_iter()
        .map(|(k, v)| (k.to_string(), summarise(&v)))
        .collect()
}

/// Mean, std and t-based 95% interval of a sample.
pub fn summarise(v: &[f64]) -> MetricSummary {
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return MetricSummary {
            mean,
            std: None,
            ci95_low: None,
            ci95_high: None,
            n,
        };
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let std = var.sqrt();
    let half = t975(n - 1) * std / (n as f64).sqrt();
    MetricSummary {
        mean,
        std: Some(std),
        ci95_low: Some(mean - half),
        ci95_high: Some(mean + half),
        n,
    }
}

/// The 97.5% quantile of Student's t with `dof` degrees of freedom.
pub fn t975(dof: usize) -> f64 {
    StudentsT::new(0.0, 1.0, dof as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(1.959_963_984_540_054)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Standard two-sided 95% critical values.
        for (dof, t) in [
            (1, 12.706),
            (4, 2.776),
            (9, 2.262),
            (29, 2.045),
            (1000, 1.962),
        ] {
            assert!((t975(dof) - t).abs() < 1e-3, "dof {dof}: {}", t975(dof));
        }
    }

    #[test]
    fn summary_of_a_known_sample() {
        let s = summarise(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(s.mean, 3.0);
        let std = 2.5f64.sqrt();
        assert!((s.std.unwrap_or_default() - std).abs() < 1e-12);
        let half = 2.776_445 * std / 5f64.sqrt();
        assert!((s.ci95_high.unwrap_or_default() - (3.0 + half)).abs() < 1e-4);
        assert_eq!(s.n, 5);
    }

    #[test]
    fn one_replication_has_no_interval_and_missing_values_are_not_counted() {
        let mut a = Metrics::new();
        a.insert("x".into(), 2.0);
        a.insert("y".into(), 1.0);
        let mut b = Metrics::new();
        b.insert("x".into(), 4.0);
        let s = aggregate(&[a, b]);
        assert_eq!(s["x"].n, 2);
        assert_eq!(s["y"].n, 1);
        assert_eq!(s["y"].std, None);
    }
}
