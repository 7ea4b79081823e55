//! Published figures: each scenario under `scenarios/published/` reproduces a figure that a
//! vendor or a paper measured, with inputs taken only from that source and the datasheets.
//! Each has its own test functions below, named after the scenario, and asserts the figure
//! within a stated tolerance on a short horizon.

use std::collections::BTreeMap;
use std::path::Path;

use depinsim::core::engine::to_secs;
use depinsim::experiment::{run_all, run_replication};
use depinsim::metrics::{MetricSummary, aggregate, names};
use depinsim::scenario::overrides::parse_override;
use depinsim::scenario::{load_file, load_str};

/// Output tokens a second over the measured window (after the warm-up) of one replication of
/// the scenario `file`, with its GPU utilisation and the requests it turned away.
fn output_tokens_per_s(file: &str) -> (f64, f64, f64) {
    let s = load_file(Path::new(file), &[]).unwrap_or_else(|e| panic!("{file}: {e}"));
    let window_s = to_secs(s.horizon() - s.warmup());
    let m = run_replication(&s, 0).metrics;
    (
        m[names::inference::WINDOW_OUTPUT_TOKENS] / window_s,
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
/// its opening comment.
///
/// The roofline by hand, in steady state: the KV cache holds (0.95 x 81,559 MiB - 1.5 GiB -
/// 8.03 GB) / 65,536 bytes = 1,092,588 tokens, 546 requests of 2,000 reserved; each step
/// decodes 546 tokens and prefills as many (1,000 prompt tokens per 1,000 output tokens);
/// its products 2 x 6.98e9 x 1,092 + 2 x 1.05e9 x 546 FLOPs at 0.8 x 1,979 TFLOP/s take
/// 10.36 ms, its KV reads 546 x 1,500 tokens x 65,536 bytes at 0.9 x 3.35 TB/s 17.80 ms:
/// 28.2 ms a step, 19,370 output tokens/s. The run gives about 19,640 (within 2%: contexts
/// and prefill chunks vary step by step).
///
/// That is 1.29 times the published figure: the roofline with the efficiency factors
/// measured on BF16 products and copies overstates what TensorRT-LLM's kernels reach at a
/// batch of ~550 by 29%, more than the 25% the reproduction aimed for. The test pins both
/// figures so that a change to the serving model that moves either shows here.
#[test]
fn trtllm_8b_fp8_on_one_h100_is_its_roofline_and_29_percent_above_the_published_throughput() {
    const PUBLISHED: f64 = 15_244.78;
    let (got, utilisation, dropped) = output_tokens_per_s("scenarios/published/trtllm-8b-fp8.yaml");
    // Saturated, as the benchmark: the GPU always busy, more requests offered than served.
    assert!(utilisation > 0.999, "utilisation {utilisation}");
    assert!(
        dropped > 0.0,
        "the offered load must exceed what the GPU serves"
    );
    let kv_tokens: f64 =
        ((0.95_f64 * 81_559.0 * 1_048_576.0 - 1.5 * 1_073_741_824.0 - 8.03e9) / 65_536.0).floor();
    let batch = (kv_tokens / 2000.0).floor();
    let products_s = (2.0 * 6.98e9 * 2.0 * batch + 2.0 * 1.05e9 * batch) / (0.8 * 1979e12);
    let kv_s = batch * 1500.0 * 65_536.0 / (0.9 * 3.35e12);
    let by_hand = batch / (products_s + kv_s);
    assert!(
        (got / by_hand - 1.0).abs() < 0.02,
        "{got:.0} output tokens/s against the roofline's {by_hand:.0}"
    );
    let ratio = got / PUBLISHED;
    assert!(
        (1.25..=1.33).contains(&ratio),
        "{got:.0} output tokens/s against the published {PUBLISHED}: {ratio:.3}"
    );
}

/// Runs a shipped published scenario with `sets` and summarises it.
fn published(file: &str, sets: &[&str]) -> BTreeMap<String, MetricSummary> {
    let ovs: Vec<_> = sets
        .iter()
        .map(|s| parse_override(s).expect("override"))
        .collect();
    let s = load_file(&Path::new("scenarios/published").join(file), &ovs).expect("valid");
    let outs = run_all(&s, 0, &|| {}).expect("threads");
    aggregate(&outs.into_iter().map(|o| o.metrics).collect::<Vec<_>>())
}

#[test]
fn intellect_1_computes_83_percent_of_the_time_across_continents_and_96_within_the_us() {
    // Jaghouar et al., "INTELLECT-1 Technical Report" (arXiv 2412.01152) and the release
    // post: compute utilisation 83% across three continents, 96% within the United States,
    // from 100 inner steps at the report's 36.2-41.4% MFU and a synchronisation of 1 to 7
    // minutes. By hand: an inner step is 6 x 1e10 x 1,048,576 / (8 x 989e12 x 0.388) =
    // 20.494 s of compute and 0.058 s of FSDP collectives over NVLink; 100 of them and a
    // 420 s synchronisation give 2,049.4 / 2,475.3 = 82.8%, and with 60 s, 96.9%.
    let global = published("intellect-1.yaml", &[]);
    let share = |m: &BTreeMap<String, MetricSummary>| {
        m[&names::job("intellect-1", names::job::COMPUTE_SHARE)].mean
    };
    let compute = 100.0 * 6.0 * 1e10 * 1_048_576.0 / (8.0 * 989e12 * 0.388);
    let inner = compute + 100.0 * (3.0 * 7.0 / 8.0 * 2e10 / 900e9 + 3.0 * 7.0 * 5e-6);
    assert!((share(&global) - compute / (inner + 420.0)).abs() < 1e-9);
    assert!((share(&global) - 0.83).abs() < 0.05, "{}", share(&global));
    let us = published(
        "intellect-1.yaml",
        &["training.intellect-1.local_sgd.sync_s=60"],
    );
    assert!((share(&us) - 0.96).abs() < 0.05, "{}", share(&us));
    // The exchange the run reports is the stated one.
    assert_eq!(
        global[&names::job("intellect-1", names::job::EXCHANGE_S)].mean,
        420.0
    );
}

/// Tokens per second of one stream in `scenarios/published/petals-70b.yaml` with `sets`
/// applied: the inverse of the mean time per output token.
fn petals_70b_tokens_per_s(sets: &[String]) -> f64 {
    let ovs: Vec<_> = sets
        .iter()
        .map(|s| parse_override(s).expect("override"))
        .collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/published/petals-70b.yaml");
    let s = load_file(&path, &ovs).unwrap_or_else(|e| panic!("{e}"));
    let m = run_replication(&s, 0).metrics;
    1.0 / m[names::inference::TPOT_MEAN]
}

/// Petals (Borzunov et al. 2023, arXiv 2312.08361; the Petals README: "Single-batch
/// inference runs at up to 6 tokens/sec for Llama 2 (70B)") serves Llama 2 70B at a few
/// tokens per second to a single stream over consumer GPUs; the issue asks for 2-8 tokens/s
/// at the cited setup: 100 Mbit/s and a 100 ms round trip on every link, the paper's harder
/// emulated network.
///
/// By hand from the scenario's inputs: NF4 weights of 68.98e9 x 4.25 / 8 bytes = 36.65 GB
/// in two stages on RTX 3090s (936 GB/s x 0.9 = 842.4 GB/s), each reading half the weights
/// and half the KV cache of its mean context (128 + 128 / 2 = 192 tokens x 163,840 bytes):
/// 21.79 ms a stage; one hop between the stages (50 ms one way), the client's round trip
/// (100 ms), and three transfers of 8,192 x 2 bytes at 12.5 MB/s (3.93 ms): 197.5 ms a
/// token, 5.06 tokens/s.
#[test]
fn petals_70b_single_stream_is_within_2_to_8_tokens_per_s() {
    let tps = petals_70b_tokens_per_s(&[]);
    assert!((2.0..=8.0).contains(&tps), "{tps} tokens/s");
    let stage = (68.98e9 * 4.25 / 8.0 / 2.0 + 192.0 * 163_840.0 / 2.0) / (936e9 * 0.9);
    let token_s = 2.0 * stage + 0.050 + 0.100 + 3.0 * 16_384.0 / 12.5e6;
    assert!(
        (tps * token_s - 1.0).abs() < 1e-3,
        "{tps} vs {}",
        1.0 / token_s
    );
}

/// The first token of a Petals stream: the prompt's 128 tokens pass once through both stages
/// (each compute-bound: its half of the 68.46e9 non-embedding parameters, 2 FLOPs each a
/// token, at 0.8 x the 3090's 71 TFLOP/s BF16 peak, as NF4 weights are dequantised to 16
/// bits: 154 ms), the hop between them (50 ms), the client's legs (100 ms, counted once),
/// and three transfers of 128 x 16,384 bytes at 12.5 MB/s (503 ms).
#[test]
fn petals_70b_first_token_counts_the_client_round_trip_once() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/published/petals-70b.yaml");
    let s = load_file(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    let ttft = run_replication(&s, 0).metrics[names::inference::TTFT_MEAN];
    let stage = 2.0 * (68.98e9 - 2.0 * 32_000.0 * 8192.0) / 2.0 * 128.0 / (71e12 * 0.8);
    let want = 2.0 * stage + 0.050 + 0.100 + 3.0 * 128.0 * 16_384.0 / 12.5e6;
    assert!(
        (ttft / want - 1.0).abs() < 5e-3,
        "{ttft} s against {want} s"
    );
}

/// Tokens per second of one stream of petals-70b moved to two regions, us-east and eu-west,
/// with the group's hosts in us-east and, when `spread`, also in eu-west.
fn petals_70b_across(spread: bool) -> f64 {
    petals_70b_moved(spread, "us-east")
}

/// [`petals_70b_across`] with the users in `user_region`.
fn petals_70b_moved(spread: bool, user_region: &str) -> f64 {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/published/petals-70b.yaml");
    let text = std::fs::read_to_string(&path).expect("petals-70b.yaml");
    let list = if spread { "[eu-west]" } else { "[]" };
    let text = text
        .replace(
            "  - {name: internet, utc_offset_h: 0, bandwidth_mbps: 100}",
            "  - {name: us-east, utc_offset_h: -5, bandwidth_mbps: 100}\n  - {name: eu-west, utc_offset_h: 0, bandwidth_mbps: 100}",
        )
        .replace(
            "  intra_region_rtt_ms: 100",
            "  intra_region_rtt_ms: 10\n  rtt_ms: {us-east: {eu-west: 76}}",
        )
        .replace("region: internet, gpu", &format!("region: us-east, spread_regions: {list}, gpu"))
        .replace(
            "{region: internet, rate_per_s",
            &format!("{{region: {user_region}, rate_per_s"),
        );
    let s =
        load_str(&text, "petals-70b (moved)", "petals-70b", &[]).unwrap_or_else(|e| panic!("{e}"));
    1.0 / run_replication(&s, 0).metrics[names::inference::TPOT_MEAN]
}

/// A swarm spread over two continents (Petals' volunteers are): with hosts in us-east and
/// eu-west (76 ms round trip, IBM Cloud's Washington-London), a two-stage replica puts its
/// second stage in eu-west, so the hop between stages costs 38 ms one way instead of the
/// 5 ms between two us-east hosts (half the 10 ms regional round trip), and the token comes
/// back to the client from eu-west (38 ms) instead of from us-east (5 ms).
///
/// By hand: two stages of 21.79 ms (as above) and three transfers of 16,384 bytes at
/// 12.5 MB/s (3.93 ms); one region: 5 + 5 + 5 ms of latency, 62.5 ms a token; spread:
/// 38 + 5 + 38 ms, 128.5 ms a token.
#[test]
fn petals_70b_spread_over_two_continents_pays_each_crossing() {
    let stage = (68.98e9 * 4.25 / 8.0 / 2.0 + 192.0 * 163_840.0 / 2.0) / (936e9 * 0.9);
    let fixed = 2.0 * stage + 3.0 * 16_384.0 / 12.5e6;
    let one = petals_70b_across(false);
    let spread = petals_70b_across(true);
    for (tps, latency_s) in [(one, 0.015), (spread, 0.081)] {
        let want = 1.0 / (fixed + latency_s);
        assert!((tps / want - 1.0).abs() < 1e-3, "{tps} vs {want} tokens/s");
    }
}

/// A user on another continent drives every token over its own round trip: Petals' client
/// sends each new token back to the first stage. The steps carry the group's region's own
/// legs (10 ms); a user in eu-west, 76 ms from the us-east swarm, waits 66 ms more a token.
#[test]
fn petals_70b_remote_user_pays_its_round_trip_on_every_token() {
    let home = petals_70b_moved(false, "us-east");
    let away = petals_70b_moved(false, "eu-west");
    let added = 1.0 / away - 1.0 / home;
    assert!((added - 0.066).abs() < 1e-6, "{added} s a token");
}

/// The paper's point about geography: single-batch inference slows as the round trip between
/// the swarm's hosts (and to the client) grows, because every token crosses every hop. Each
/// step of 50 ms in the round trip adds 50 ms (the client's round trip) + 25 ms (the hop
/// between the two stages) to every token.
#[test]
fn petals_70b_single_stream_falls_as_rtt_grows() {
    let speeds: Vec<f64> = [5, 50, 100, 150, 200]
        .iter()
        .map(|ms| petals_70b_tokens_per_s(&[format!("network.intra_region_rtt_ms={ms}")]))
        .collect();
    for w in speeds.windows(2) {
        assert!(w[1] < w[0], "{speeds:?}");
    }
    // 1 / speed grows by 75 ms for each 50 ms of round trip.
    for w in speeds.windows(2).skip(1) {
        let added = 1.0 / w[1] - 1.0 / w[0];
        assert!((added - 0.075).abs() < 1e-4, "{added} s: {speeds:?}");
    }
}
