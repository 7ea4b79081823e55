//! The comparison table: each variant against the baseline, metric by metric, with the
//! difference's 95% interval and whether it is paired.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::run::HEADLINE;
use crate::metrics::difference::{Difference, Pairing};

/// One variant's differences from the baseline.
#[derive(Debug)]
pub struct Compared {
    /// The variant's label.
    pub label: String,
    /// Its differences, by metric.
    pub metrics: BTreeMap<String, Difference>,
}

/// The metrics shown: those named or starting with one of `wanted`, or without any, the
/// headline metrics.
fn shown<'a>(
    d: &'a BTreeMap<String, Difference>,
    wanted: &[String],
) -> Vec<(String, &'a Difference)> {
    if wanted.is_empty() {
        HEADLINE
            .iter()
            .filter_map(|(label, key)| Some(((*label).to_string(), d.get(*key)?)))
            .collect()
    } else {
        d.iter()
            .filter(|(k, _)| wanted.iter().any(|w| k.starts_with(w.as_str())))
            .map(|(k, v)| (k.clone(), v))
            .collect()
    }
}

/// The table: a block per variant, a line per metric shown.
pub fn table(baseline: &str, pairing: Pairing, variants: &[Compared], wanted: &[String]) -> String {
    let how = match pairing {
        Pairing::Paired => "paired: replication i of each ran on the same seed",
        Pairing::Unpaired => {
            "UNPAIRED: the seeds differ, so the intervals are Welch's on independent samples"
        }
    };
    let mut s = format!("against {baseline} ({how})");
    for v in variants {
        let _ = write!(s, "\n{}", v.label);
        let rows = shown(&v.metrics, wanted);
        if rows.is_empty() {
            s.push_str("\n  (no metric shown: give --metric NAME or a prefix)");
        }
        let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(20);
        for (label, d) in rows {
            let ci = match (d.ci95_low, d.ci95_high) {
                (Some(lo), Some(hi)) => format!("  [95% CI {lo:.4} .. {hi:.4}]"),
                _ => String::new(),
            };
            let _ = write!(
                s,
                "\n  {label:<width$} {:>12.4} -> {:>12.4}  difference {:>+12.4}{ci}  n {}",
                d.baseline, d.variant, d.difference, d.n
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::names;

    #[test]
    fn the_headline_metrics_are_shown_unless_others_are_asked_for() {
        let d = Difference {
            baseline: 1.0,
            variant: 1.5,
            difference: 0.5,
            ci95_low: Some(0.25),
            ci95_high: Some(0.75),
            n: 4,
        };
        let metrics = BTreeMap::from([
            (names::inference::TTFT_P95.to_string(), d.clone()),
            ("token.price_usd.mean".to_string(), d),
        ]);
        let v = [Compared {
            label: "rate=2".into(),
            metrics,
        }];
        let t = table("rate=1", Pairing::Paired, &v, &[]);
        assert!(t.contains("TTFT p95 (s)"), "{t}");
        assert!(t.contains("[95% CI 0.2500 .. 0.7500]"), "{t}");
        assert!(!t.contains("token.price_usd"), "{t}");
        let t = table("rate=1", Pairing::Unpaired, &v, &["token.".into()]);
        assert!(
            t.contains("token.price_usd.mean") && t.contains("UNPAIRED"),
            "{t}"
        );
    }
}
