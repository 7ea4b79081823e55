//! A run's headline figures (what `run` and `viability` print last), and how each provider
//! group serves the model (what `validate` prints).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::export::json::{RunInfo, ServingPlan};
use crate::metrics::MetricSummary;
use crate::metrics::names;
use crate::sim::footprint::Footprint;

/// The headline metrics, with their labels, in the order shown.
pub const HEADLINE: [(&str, &str); 8] = [
    ("requests completed", names::inference::COMPLETED_REQUESTS),
    ("drop ratio", names::inference::DROP_RATIO),
    ("TTFT p95 (s)", names::inference::TTFT_P95),
    ("TPOT p95 (s)", names::inference::TPOT_P95),
    ("SLO attainment", names::inference::SLO_ATTAINMENT),
    ("end-to-end p95 (s)", names::inference::E2E_P95),
    ("GPU utilisation", names::gpu::UTILISATION),
    ("provider net profit (USD)", names::provider::NET_PROFIT_USD),
];

/// What ran (replications, seed, wall time, speed), then each headline metric the run
/// has, with its 95% interval where there is one (not with one replication).
pub fn headline(info: &RunInfo, summary: &BTreeMap<String, MetricSummary>) -> String {
    let mut s = format!(
        "{}: {} replications, seed {}, {:.1} s wall, {:.2e} requests/s",
        info.scenario, info.replications, info.seed, info.wall_s, info.requests_per_s
    );
    for (label, key) in HEADLINE {
        let Some(m) = summary.get(key) else { continue };
        let _ = match (m.ci95_low, m.ci95_high) {
            (Some(lo), Some(hi)) => write!(
                s,
                "\n  {label:<24} {:>12.4}  [95% CI {lo:.4} .. {hi:.4}]",
                m.mean
            ),
            _ => write!(s, "\n  {label:<24} {:>12.4}", m.mean),
        };
    }
    s
}

/// One line: how `plan`'s group serves the model (replicas, GPUs each, KV cache, batch and
/// capacity at the mean request), or why it serves no requests.
pub fn serving_line(plan: &ServingPlan) -> String {
    match (&plan.unfit, plan.tensor_parallel) {
        (Some(why), _) => format!("  {}: serves no requests: {why}", plan.pool),
        (None, Some(tp)) => {
            let kv = plan
                .kv_cache_tokens
                .map_or(String::new(), |k| format!(", KV cache {k} tokens each"));
            let stages = plan
                .pipeline_stages
                .map_or(String::new(), |n| format!(" in {n} pipeline stages"));
            let matmul = plan.matmul.as_ref().map_or(String::new(), |m| {
                // Weights not stored in BF16: their products at their own precision, or
                // dequantised (weight-only formats, and W8A8 formats the class cannot run).
                let f = m.weight_format;
                match (m.precision, f) {
                    ("bf16", "fp8" | "int8_w8a8") => format!(
                        ", {f} weights dequantised to bf16 products (no {} tensor cores)",
                        f.trim_end_matches("_w8a8")
                    ),
                    ("bf16", _) => format!(", {f} weights dequantised to bf16 products"),
                    (p, _) => format!(", {f} weights, {p} products"),
                }
            });
            format!(
                "  {}: {} replica(s) of {tp} GPU(s){stages}{kv}, {:.0} mean-size requests each, ~{:.1} requests/s at full batches{matmul}",
                plan.pool, plan.replicas, plan.batch_at_mean_request, plan.capacity_rps
            )
        }
        (None, None) => format!("  {}", plan.pool),
    }
}

/// A number of bytes for people, in binary units (memory limits are in them): `512 B`,
/// `28.0 KiB`, `2.63 GiB` (three significant figures).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {}", UNITS[unit])
}

/// A count with its thousands grouped: `4,000,000,000`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `validate`'s line on memory: a replication's estimate, its largest part, and a run's on
/// `threads` threads.
pub fn memory_line(footprint: &Footprint, threads: usize, replications: u32) -> String {
    let largest = footprint.largest().map_or(String::new(), |p| {
        format!(
            " (largest part: {} {}, {})",
            count(p.count),
            p.what,
            size(p.bytes())
        )
    });
    format!(
        "  memory: about {} per replication{largest}; {} for {replications} replication(s) on {threads} thread(s)",
        size(footprint.replication()),
        size(footprint.run(threads, replications)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(mean: f64, ci: Option<(f64, f64)>) -> MetricSummary {
        MetricSummary {
            mean,
            std: ci.map(|_| 0.1),
            ci95_low: ci.map(|c| c.0),
            ci95_high: ci.map(|c| c.1),
            n: 4,
        }
    }

    #[test]
    fn the_headline_shows_the_metrics_the_run_has_in_order() {
        let summary = BTreeMap::from([
            (names::gpu::UTILISATION.to_string(), m(0.5, None)),
            (
                names::inference::COMPLETED_REQUESTS.to_string(),
                m(1234.5, Some((1200.0, 1269.0))),
            ),
            ("not.shown.mean".to_string(), m(3.0, None)),
        ]);
        assert_eq!(
            headline(&RunInfo::example("hand-made"), &summary),
            "hand-made: 4 replications, seed 7, 1.3 s wall, 9.88e3 requests/s\n  \
             requests completed          1234.5000  [95% CI 1200.0000 .. 1269.0000]\n  \
             GPU utilisation                0.5000"
        );
        assert_eq!(
            headline(&RunInfo::example("hand-made"), &BTreeMap::new()),
            "hand-made: 4 replications, seed 7, 1.3 s wall, 9.88e3 requests/s"
        );
    }

    #[test]
    fn a_serving_line_says_how_a_group_serves_or_why_not() {
        let mut plan = ServingPlan {
            pool: "dc".into(),
            tensor_parallel: Some(2),
            pipeline_stages: None,
            replicas: 4,
            kv_cache_tokens: Some(100_000),
            batch_at_mean_request: 63.6,
            capacity_rps: 12.34,
            unfit: None,
            matmul: None,
        };
        assert_eq!(
            serving_line(&plan),
            "  dc: 4 replica(s) of 2 GPU(s), KV cache 100000 tokens each, 64 mean-size \
             requests each, ~12.3 requests/s at full batches"
        );
        // Weights not in BF16 say what their products run at.
        plan.matmul = Some(crate::export::json::MatmulUse {
            weight_format: "fp8",
            precision: "bf16",
            prefill_flops: 2.5e14,
            basis: None,
        });
        assert!(
            serving_line(&plan).ends_with(
                "full batches, fp8 weights dequantised to bf16 products (no fp8 tensor cores)"
            ),
            "{}",
            serving_line(&plan)
        );
        plan.matmul = None;
        plan.kv_cache_tokens = None;
        assert!(serving_line(&plan).starts_with("  dc: 4 replica(s) of 2 GPU(s), 64 mean"));
        plan.unfit = Some("too small".into());
        assert_eq!(serving_line(&plan), "  dc: serves no requests: too small");
    }

    #[test]
    fn sizes_are_in_binary_units_with_three_figures() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(28 * 1024), "28.0 KiB");
        assert_eq!(size(12 << 20), "12.0 MiB");
        assert_eq!(size(2_821_696 * 1024), "2.69 GiB");
        assert_eq!(size(576_000_000_000), "536 GiB");
        assert_eq!(size(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn counts_group_their_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(4_000_000_000), "4,000,000,000");
        assert_eq!(count(123_456_789_012), "123,456,789,012");
    }
}
