//! A sensitivity design's indices for one metric: the metric's mean in each variant, in the
//! design's order, through the Morris or Sobol estimators, with bootstrap intervals drawn
//! from the design seed's `sensitivity_bootstrap` stream.

use serde_json::{Value, json};

use super::design::Sample;
use crate::core::rng::Streams;
use crate::metrics::sensitivity::{
    Interval, SensitivityError, morris_indices, morris_warnings, sobol_indices, sobol_warnings,
};

/// Bootstrap resamples behind every interval (Efron and Tibshirani 1993 advise 1,000 or
/// more for percentile intervals).
pub const BOOTSTRAP: usize = 1000;

/// The indices of `metric` (its mean per variant in `outputs`), by axis, and the warnings a
/// reader should see; `None` for a design that gives no indices.
///
/// # Errors
/// The outputs do not fit the design, are not finite, or do not vary.
pub fn indices(
    sample: &Sample,
    axes: &[String],
    outputs: &[f64],
    seed: u64,
) -> Option<Result<(Value, Vec<String>), SensitivityError>> {
    let mut rng = Streams::new(seed, 0).stream("sensitivity_bootstrap");
    let names: Vec<&str> = axes.iter().map(String::as_str).collect();
    let ci = |i: &Option<Interval>| i.map(|i| json!([i.low, i.high]));
    match sample {
        Sample::Plain => None,
        Sample::Morris(d) => Some(morris_indices(d, outputs, &mut rng, BOOTSTRAP).map(|ix| {
            let warnings = morris_warnings(d, &ix, &names);
            let rows: Vec<Value> = ix
                .iter()
                .map(|x| {
                    json!({"axis": axes[x.factor], "mu": x.mu, "mu_star": x.mu_star,
                        "sigma": x.sigma, "mu_star_ci95": ci(&x.mu_star_ci)})
                })
                .collect();
            (json!({"method": "morris", "indices": rows}), warnings)
        })),
        Sample::Saltelli(d) => Some(sobol_indices(d, outputs, &mut rng, BOOTSTRAP).map(|ix| {
            let warnings = sobol_warnings(d, &ix, &names);
            let rows: Vec<Value> = ix
                .iter()
                .map(|x| {
                    json!({"axis": axes[x.factor], "first": x.first,
                        "first_ci95": ci(&x.first_ci), "total": x.total,
                        "total_ci95": ci(&x.total_ci)})
                })
                .collect();
            (json!({"method": "sobol", "indices": rows}), warnings)
        })),
    }
}
