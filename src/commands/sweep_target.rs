//! `--target-halfwidth`: replications added to every variant in paired blocks until each
//! named metric's 95% interval is as narrow as asked, in every variant, or a cap is reached.

use anyhow::Result;
use depinsim::export::sweep::{Manifest, SweepDir};
use depinsim::metrics::aggregate;

use super::Usage;

/// How narrow one metric's interval must be.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Target {
    /// The metric, as in summary.json.
    pub metric: String,
    /// The largest half-width allowed.
    pub width: Width,
}

/// A half-width in the metric's unit, or relative to the absolute value of its mean.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Width {
    /// In the metric's unit.
    Absolute(f64),
    /// As a share of |mean|.
    Relative(f64),
}

/// `METRIC=VALUE` or `METRIC=N%`.
pub(super) fn parse_target(text: &str) -> Result<Target> {
    let bad = |why: &str| {
        Usage(format!(
            "--target-halfwidth '{text}': {why}\n    fix: give METRIC=VALUE (absolute) or METRIC=N% (of the mean), e.g. --target-halfwidth inference.ttft_s.p95=1%"
        ))
    };
    let (metric, value) = text
        .rsplit_once('=')
        .ok_or_else(|| bad("expected METRIC=VALUE"))?;
    let number = |v: &str| -> Result<f64, Usage> {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x > 0.0)
            .ok_or_else(|| bad("the half-width must be a positive number"))
    };
    let width = match value.trim().strip_suffix('%') {
        Some(pct) => Width::Relative(number(pct)? / 100.0),
        None => Width::Absolute(number(value)?),
    };
    if metric.trim().is_empty() {
        return Err(bad("the metric is missing").into());
    }
    Ok(Target {
        metric: metric.trim().to_string(),
        width,
    })
}

/// What the targets say of the replications so far: `None` when every variant meets every
/// target, or the widest miss, in words.
///
/// # Errors
/// A cell is unreadable, or a target's metric is not defined in a variant.
pub(super) fn miss(dir: &SweepDir, m: &Manifest, targets: &[Target]) -> Result<Option<String>> {
    let mut worst: Option<(f64, String)> = None;
    for v in &m.variants {
        let reps: Vec<_> = dir
            .read_cells(&v.id, m.replications)?
            .into_iter()
            .map(|c| c.1)
            .collect();
        let summary = aggregate(&reps);
        for t in targets {
            let s = summary.get(&t.metric).ok_or_else(|| {
                Usage(format!(
                    "--target-halfwidth: metric `{}` is not defined in variant `{}`\n    fix: name a metric of its summary.json",
                    t.metric, v.label
                ))
            })?;
            let half = match (s.ci95_low, s.ci95_high) {
                (Some(lo), Some(hi)) => (hi - lo) / 2.0,
                _ => f64::INFINITY,
            };
            let (allowed, shown) = match t.width {
                Width::Absolute(w) => (w, format!("{w}")),
                Width::Relative(r) => (r * s.mean.abs(), format!("{}% of the mean", r * 100.0)),
            };
            let ratio = half / allowed;
            if ratio > 1.0 && worst.as_ref().is_none_or(|w| ratio > w.0) {
                worst = Some((
                    ratio,
                    format!(
                        "{} in `{}` has a half-width of {half:.4e}, above {shown}",
                        t.metric, v.label
                    ),
                ));
            }
        }
    }
    Ok(worst.map(|w| w.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_absolute_or_a_share_of_the_mean() {
        let t = parse_target("inference.ttft_s.p95=0.01").expect("valid");
        assert_eq!(t.width, Width::Absolute(0.01));
        let t = parse_target("a.b=2.5%").expect("valid");
        assert_eq!(
            (t.metric.as_str(), t.width),
            ("a.b", Width::Relative(0.025))
        );
        for bad in ["a.b", "a.b=0", "a.b=-1%", "=1", "a.b=x"] {
            let e = parse_target(bad).expect_err(bad);
            assert!(e.is::<Usage>(), "{e}");
        }
    }
}
