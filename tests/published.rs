//! Published figures: each scenario under `scenarios/published/` reproduces a throughput that
//! a vendor or a paper measured, with inputs taken only from that source and the datasheets.
//! Each has its own test functions below, named after the scenario, and asserts the figure
//! within a stated tolerance on a short horizon.

use std::path::Path;

use depinsim::core::engine::to_secs;
use depinsim::experiment::run_replication;
use depinsim::metrics::names;
use depinsim::scenario::load_file;

/// Output tokens a second over the measured window (after the warm-up) of one replication of
/// the scenario `file`, with its GPU utilisation and the requests it turned away.
fn output_tokens_per_s(file: &str) -> (f64, f64, f64) {
    let s = load_file(Path::new(file), &[]).unwrap_or_else(|e| panic!("{file}: {e}"));
    let window_s = to_secs(s.horizon() - s.warmup());
    let m = run_replication(&s, 0).metrics;
    (
        m[names::inference::OUTPUT_TOKENS] / window_s,
        m[names::gpu::UTILISATION],
        m[names::inference::DROPPED_REQUESTS],
    )
}

/// NVIDIA TensorRT-LLM, docs/source/performance/perf-overview.md, the table generated with
/// release 0.17 (file at commit 258c7540c03517def55d9a5aadfa9288af474e1b): LLaMA v3.1 8B, TP 1,
/// FP8 (weights and KV cache), H100 80GB HBM3, input/output lengths 1000, 1000: 15244.78
/// output tokens/s at saturation. The scenario takes its batch limit (640 requests, 2,048
/// tokens a step) from trtllm-bench's tuning heuristic for that dataset, its KV share from the
/// page's --kv_cache_free_gpu_mem_fraction 0.95, and everything else from the defaults; see
/// its opening comment. Within 25%.
#[test]
fn trtllm_8b_fp8_on_one_h100_within_a_quarter_of_the_published_throughput() {
    const PUBLISHED: f64 = 15_244.78;
    let (got, utilisation, dropped) = output_tokens_per_s("scenarios/published/trtllm-8b-fp8.yaml");
    // Saturated, as the benchmark: the GPU always busy, more requests offered than served.
    assert!(utilisation > 0.999, "utilisation {utilisation}");
    assert!(
        dropped > 0.0,
        "the offered load must exceed what the GPU serves"
    );
    let ratio = got / PUBLISHED;
    assert!(
        (0.75..=1.25).contains(&ratio),
        "{got:.0} output tokens/s against the published {PUBLISHED}: {ratio:.3}"
    );
}
