//! Continuous batching against hand-computed rooflines and conservation laws: a request
//! alone streams at exactly one roofline step per token, batching multiplies throughput
//! under load, the KV cache bounds the batch, and Little's law holds with batches.

use depinsim::experiment::run_replication;
use depinsim::metrics::Metrics;
use depinsim::metrics::names;
use depinsim::scenario::load_str;
use depinsim::scenario::overrides::parse_override;

/// One region, no network delay, one pool, constant request sizes.
fn scenario(gpu: &str, count: u32, rate: f64, prompt: u32, output: u32, extra: &str) -> String {
    format!(
        "simulation: {{horizon_h: 2, warmup_h: 0.2, epoch_h: 1, replications: 1, seed: 3}}
regions: [{{name: lab}}]
network: {{intra_region_rtt_ms: 0, bytes_per_token: 0}}
providers:
  - {{name: pool, region: lab, gpu: {gpu}, count: {count}, hourly_cost_usd: 1, price_usd_per_gpu_hour: 2, mtbf_h: 1.0e12}}
inference:
  model: {{name: llama-3.1-8b, context_tokens: 32768}}
  max_queue_per_gpu: null
  prompt_tokens: {{constant: {prompt}}}
  output_tokens: {{constant: {output}}}
  users:
    - {{region: lab, rate_per_s: {rate}}}
{extra}"
    )
}

fn run(text: &str, sets: &[&str]) -> Metrics {
    let ovs: Vec<_> = sets
        .iter()
        .map(|s| parse_override(s).expect("override"))
        .collect();
    let s = load_str(text, "test", "test", &ovs).unwrap_or_else(|e| panic!("{e}"));
    run_replication(&s, 0).metrics
}

/// Llama 3.1 8B (8.03e9 parameters, 131,072 KV bytes a token) on an H100 SXM at the default
/// efficiencies: 80% of 989 TFLOP/s, 90% of 3.35 TB/s.
const PARAMS: f64 = 8.03e9;
const KV: f64 = 131_072.0;
const FLOPS: f64 = 989e12 * 0.8;
const BW: f64 = 3.35e12 * 0.9;
/// From its config.json: a vocabulary of 128,256 and a hidden size of 4096, with an input
/// embedding and an LM head of 128,256 x 4096 each (untied), so 8.03e9 - 2 x 128,256 x 4096
/// parameters in the transformer blocks; 32 layers of 32 query heads x 128.
const NON_EMBEDDING: f64 = PARAMS - 2.0 * 128_256.0 * 4096.0;
const LAYERS: f64 = 32.0;
const ATTENTION_DIM: f64 = 32.0 * 128.0;

/// A prompt of `p` tokens prefilled while nothing decodes: 2 FLOPs per non-embedding
/// parameter a token (no LM head: nothing is sampled from a prompt token but the last), and
/// causal attention, 4 x layers x attention width FLOPs for each of the P (P + 1) / 2
/// query-key pairs (QK^T and the product with V); compute-bound.
fn prefill_s(p: f64) -> f64 {
    (2.0 * NON_EMBEDDING * p + 4.0 * LAYERS * ATTENTION_DIM * p * (p + 1.0) / 2.0) / FLOPS
}

#[test]
fn a_request_alone_takes_one_roofline_step_per_token() {
    // Rare requests on eight GPUs: every request has a replica to itself.
    let m = run(&scenario("h100_sxm", 8, 0.05, 1000, 101, ""), &[]);
    assert!(m[names::inference::COMPLETED_REQUESTS] > 200.0);
    // TTFT: the 1,000-token prompt in one chunk, compute-bound.
    let prefill = prefill_s(1000.0);
    let ttft = m[names::inference::TTFT_MEAN];
    assert!((ttft - prefill).abs() < 2e-9, "TTFT {ttft} vs {prefill}");
    // TPOT: each step reads the weights and the request's KV cache (mean context
    // 1000 + 101 / 2 tokens): memory-bound.
    let step = (2.0 * PARAMS + 1050.5 * KV) / BW;
    let tpot = m[names::inference::TPOT_MEAN];
    assert!((tpot - step).abs() < 2e-9, "TPOT {tpot} vs {step}");
    assert_eq!(m[names::inference::SLO_ATTAINMENT], 1.0);
    // A replica decodes one request, after prefilling it with none: the time-average batch
    // is the decoding share of the replica's time.
    let share = 100.0 * step / (prefill + 100.0 * step);
    let b = m[names::inference::BATCH_MEAN];
    assert!((b - share).abs() < 1e-6, "batch {b} vs {share}");
    // An objective tighter than the step is missed by every request.
    let strict = run(
        &scenario("h100_sxm", 8, 0.05, 1000, 101, ""),
        &[&format!("inference.slo_tpot_s={}", step * 0.99)],
    );
    assert_eq!(strict[names::inference::TPOT_ATTAINMENT], 0.0);
    assert_eq!(strict[names::inference::TTFT_ATTAINMENT], 1.0);
    assert_eq!(strict[names::inference::SLO_ATTAINMENT], 0.0);
}

/// See issue 12 (item 15): the capacity against demand counted full batches only, however
/// the replicas ran. Rare requests on eight H100s each get a replica to themselves (a mean
/// batch below 1, counted as 1). At batch 1 the steady-state model answers one request per
/// 100 decode steps of the 101-token output, its prompt prefilled in 10-token chunks beside
/// them: each step reads the weights and 1000 + 101 / 2 tokens of KV cache, memory-bound
/// (11 tokens of compute take 0.2 ms against 5.4 ms of reads). So the eight replicas answer
/// 8 / (100 x step) requests a second against the users' 0.05.
#[test]
fn capacity_is_also_counted_at_the_batch_the_replicas_ran() {
    let m = run(&scenario("h100_sxm", 8, 0.05, 1000, 101, ""), &[]);
    assert!(m[names::inference::BATCH_MEAN] < 1.0);
    let step = (2.0 * PARAMS + 1050.5 * KV) / BW;
    let compute = (2.0 * NON_EMBEDDING * 11.0) / FLOPS;
    assert!(compute < 0.05 * step, "{compute} vs {step}");
    let want = 8.0 / (100.0 * step) / 0.05;
    let got = m[names::provider::CAPACITY_DEMAND_AS_RUN];
    assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
    // Full batches would carry many times the demand that the replicas, as they ran, can.
    // (About 20 times: a full batch of 256 is compute-bound in its matrix products, which
    // attention's reads of the KV cache do not overlap.)
    assert!(m[names::provider::CAPACITY_DEMAND] > 15.0 * got);
}

/// See issue 12 (item 6): a 30,000-token prompt took 2N x P / FLOP/s = 0.609 s, with N all
/// 8.03e9 parameters and no attention.
#[test]
fn a_long_prompt_pays_for_its_attention_in_prefill() {
    let m = run(&scenario("h100_sxm", 8, 0.05, 30_000, 11, ""), &[]);
    assert!(m[names::inference::COMPLETED_REQUESTS] > 200.0);
    // 15 chunks of up to 2,048 tokens, each compute-bound, cost the whole prompt's FLOPs:
    // 2 x 6.98e9 x 30,000 = 4.19e14 in the blocks and 2 x 32 x 4096 x 30,000 x 30,001 =
    // 2.36e14 in attention, 0.827 s at 791 TFLOP/s.
    let want = prefill_s(30_000.0);
    assert!((want - 0.8275).abs() < 1e-3, "{want}");
    let ttft = m[names::inference::TTFT_MEAN];
    assert!((ttft - want).abs() < 2e-9, "TTFT {ttft} vs {want}");
    // Attention alone is 0.298 s, 49% of the old figure.
    let old = 2.0 * PARAMS * 30_000.0 / FLOPS;
    let attention = 2.0 * LAYERS * ATTENTION_DIM * 30_000.0 * 30_001.0 / FLOPS;
    assert!((old - 0.609).abs() < 1e-3 && (attention / old - 0.49).abs() < 0.01);
}

#[test]
fn batching_multiplies_throughput_of_a_saturated_gpu() {
    // 40 requests a second on one H100: far more than it serves one at a time. A short
    // queue keeps the overload from growing without end.
    let text = scenario("h100_sxm", 1, 40.0, 500, 200, "")
        .replace("max_queue_per_gpu: null", "max_queue_per_gpu: 8");
    let one = run(&text, &["inference.batching.max_batch=1"]);
    let many = run(&text, &[]);
    // One at a time, the GPU completes 1 / (prefill + 199 decode steps) a second.
    let alone = prefill_s(500.0) + 199.0 * (2.0 * PARAMS + 600.0 * KV) / BW;
    let rps_one = one[names::inference::THROUGHPUT_RPS];
    assert!(
        (rps_one * alone - 1.0).abs() < 0.02,
        "{rps_one} vs {}",
        1.0 / alone
    );
    let rps_many = many[names::inference::THROUGHPUT_RPS];
    assert!(rps_many > 20.0 * rps_one, "{rps_many} vs {rps_one}");
    assert!(many[names::inference::BATCH_MEAN] > 20.0);
    // The batch shares each step: tokens come slower than alone, but within the objective.
    assert!(many[names::inference::TPOT_MEAN] > one[names::inference::TPOT_MEAN]);
}

/// Bytes in a MiB and a GiB.
const MIB: f64 = 1_048_576.0;
const GIB: f64 = 1_073_741_824.0;

/// See issue 12 (item 7): Llama-3-70B on H100s was planned at TP 2 with 8,544 KV tokens
/// (2 x 80e9 x 0.9 - 141.2e9 bytes of weights, at 327,680 bytes a token).
#[test]
fn gpu_memory_is_counted_in_gibibytes() {
    let text = scenario("h100_sxm", 8, 1.0, 1000, 100, "").replace(
        "model: {name: llama-3.1-8b, context_tokens: 32768}",
        "model: {name: llama-3-70b}",
    );
    let plan = |sets: &[&str]| {
        let ovs: Vec<_> = sets
            .iter()
            .map(|s| parse_override(s).expect("override"))
            .collect();
        let s = load_str(&text, "test", "test", &ovs).unwrap_or_else(|e| panic!("{e}"));
        s.pools()[0].serving.expect("serves")
    };
    // An H100's driver offers 81,559 MiB; 90% of it less the default 1.5 GiB reserve is what
    // each GPU gives. 70.6e9 parameters in BF16 do not fit one; two leave room for 29,041
    // tokens of 80 layers x 8 KV heads x 128 x 2 x 2 bytes = 327,680 bytes each.
    let weights = 70.6e9 * 2.0;
    let kv = 2.0 * 80.0 * 8.0 * 128.0 * 2.0;
    let per_gpu = 81_559.0 * MIB * 0.9 - 1.5 * GIB;
    assert!(per_gpu < weights);
    let want = ((2.0 * per_gpu - weights) / kv).floor();
    assert_eq!(want, 29_041.0);
    let s = plan(&[]);
    assert_eq!((s.tp, s.kv_capacity_tokens as f64), (2, want));
    // Without the reserve, the ~38,800 tokens the issue counts.
    let none = plan(&["inference.batching.runtime_reserve_gib=0"]);
    let all = ((2.0 * 81_559.0 * MIB * 0.9 - weights) / kv).floor();
    assert_eq!(
        (none.tp, none.kv_capacity_tokens as f64, all),
        (2, all, 38_871.0)
    );
}

/// See issue 12 (item 7): the degree was always the smallest that fits.
#[test]
fn the_tensor_parallel_degree_can_be_chosen_for_throughput() {
    // Long answers to short prompts, where decoding (memory) rather than prefill (compute)
    // bounds a replica.
    let text = scenario("h100_sxm", 8, 1.0, 200, 1000, "").replace(
        "model: {name: llama-3.1-8b, context_tokens: 32768}",
        "model: {name: llama-3-70b}",
    );
    let plan = |tp: &str| {
        let ovs =
            [parse_override(&format!("inference.batching.tensor_parallel={tp}")).expect("set")];
        let s = load_str(&text, "test", "test", &ovs).unwrap_or_else(|e| panic!("{e}"));
        s.pools()[0].serving.expect("serves")
    };
    // Two H100s hold 70B with 29,041 KV tokens, 24 requests of 1,200 tokens; four hold 256
    // (the batch cap) at twice the bandwidth: more requests a second from the same 8 GPUs.
    let (smallest, best) = (plan("smallest"), plan("throughput"));
    assert_eq!((smallest.tp, smallest.batch_limit(1200.0)), (2, 24.0));
    assert_eq!((best.tp, best.batch_limit(1200.0)), (4, 256.0));
    let rps = |s: &depinsim::physics::serving::Serving| s.capacity_rps(200.0, 1000.0);
    assert!(
        rps(&best) > 5.0 * rps(&smallest),
        "{} {}",
        rps(&best),
        rps(&smallest)
    );
    // Eight GPUs serve it too, as one replica: no faster per GPU, so not chosen.
    let eight = plan("8");
    assert_eq!((eight.tp, eight.replicas), (8, 1));
    assert!(rps(&eight) <= rps(&best));
}

#[test]
fn the_kv_cache_bounds_the_batch() {
    // An RTX 4090's driver offers 24,564 MiB; 90% of it, less the 1.5 GiB runtime reserve
    // and 16.06 GB of weights, leaves 5.51 GB for the KV cache: 42,044 tokens, room for 8
    // requests of 4,000 + 1,000 tokens.
    let cap = ((24_564.0 * MIB * 0.9 - 1.5 * GIB - PARAMS * 2.0) / KV).floor();
    assert_eq!(cap, 42_044.0);
    let text = scenario("rtx_4090", 1, 5.0, 4000, 1000, "")
        .replace("max_queue_per_gpu: null", "max_queue_per_gpu: 8");
    let plan = load_str(&text, "test", "test", &[]).expect("valid").pools()[0]
        .serving
        .expect("serves");
    assert_eq!(plan.kv_capacity_tokens as f64, cap);
    let m = run(&text, &[]);
    let b = m[names::inference::BATCH_MEAN];
    assert!(b <= 8.0 && b > 6.0, "batch {b}");
    // More memory for the cache, a bigger batch: 0.95 leaves 6.80 GB, 51,870 tokens, 10.
    let more = run(&text, &["inference.batching.memory_utilisation=0.95"]);
    let b2 = more[names::inference::BATCH_MEAN];
    assert!(b2 > b && b2 <= 10.0, "batch {b2}");
    assert!(more[names::inference::THROUGHPUT_RPS] > m[names::inference::THROUGHPUT_RPS]);
}

#[test]
fn littles_law_holds_with_batches() {
    // Poisson arrivals of variable sizes on two GPUs at about half their capacity.
    let text = scenario("h100_sxm", 2, 20.0, 1000, 200, "").replace(
        "output_tokens: {constant: 200}",
        "output_tokens: {exponential: {mean: 200}}",
    );
    let m = run(&text, &["simulation.horizon_h=6"]);
    let lambda = m[names::inference::THROUGHPUT_RPS];
    let w = m[names::inference::WAIT_S] + m[names::inference::SERVICE_S];
    let l = m[names::inference::IN_SYSTEM_REQUESTS];
    assert!(
        (l / (lambda * w) - 1.0).abs() < 0.02,
        "L {l}, lambda W {}",
        lambda * w
    );
    assert!(m[names::inference::BATCH_MEAN] > 2.0);
}

#[test]
fn requests_turned_away_count_against_the_objectives() {
    // A loss system (no queue) under overload: every answered request meets the loose
    // objectives, so attainment is exactly the share answered.
    let text = scenario("rtx_4090", 1, 20.0, 4000, 100, "");
    let m = run(
        &text,
        &[
            "inference.max_queue_per_gpu=0",
            "inference.slo_ttft_s=1000",
            "inference.slo_tpot_s=1000",
        ],
    );
    let (done, dropped) = (
        m[names::inference::COMPLETED_REQUESTS],
        m[names::inference::DROPPED_REQUESTS],
    );
    assert!(dropped > 0.0);
    let want = done / (done + dropped);
    assert!((m[names::inference::SLO_ATTAINMENT] - want).abs() < 1e-12);
}

#[test]
fn prompts_longer_than_the_context_are_refused_and_outputs_cut() {
    let text = scenario("h100_sxm", 2, 1.0, 1000, 200, "");
    let m = run(&text, &["inference.model.context_tokens=1100"]);
    // Every request fits its prompt (1,000 < 1,100) but its output is cut to 100 tokens.
    let done = m[names::inference::COMPLETED_REQUESTS];
    assert_eq!(m[names::inference::OUTPUT_TOKENS], done * 100.0);
    assert_eq!(m[names::inference::TOO_LONG_REQUESTS], 0.0);
    let refused = run(&text, &["inference.model.context_tokens=1000"]);
    assert_eq!(refused[names::inference::COMPLETED_REQUESTS], 0.0);
    assert_eq!(
        refused[names::inference::TOO_LONG_REQUESTS],
        refused[names::inference::ARRIVED_REQUESTS]
    );
}

#[test]
fn packing_replicas_trades_token_speed_for_busy_gpu_hours() {
    // Eight H100s at a few requests a second: spread, every request gets a replica of its
    // own; packed, they share one replica's steps.
    let text = scenario("h100_sxm", 8, 4.0, 1000, 200, "");
    let spread = run(&text, &[]);
    let pack = run(&text, &["inference.dispatch=pack"]);
    let get = |m: &Metrics, k: &str| m[k];
    assert!(
        get(&pack, names::inference::BATCH_MEAN) > 3.0 * get(&spread, names::inference::BATCH_MEAN)
    );
    assert!(get(&pack, names::gpu::UTILISATION) < 0.5 * get(&spread, names::gpu::UTILISATION));
    assert!(
        get(&pack, names::inference::PRICE_USD_PER_MILLION_TOKENS)
            < 0.5 * get(&spread, names::inference::PRICE_USD_PER_MILLION_TOKENS)
    );
    assert!(get(&pack, names::inference::TPOT_MEAN) > get(&spread, names::inference::TPOT_MEAN));
    // The same requests are answered either way.
    let done = |m: &Metrics| m[names::inference::COMPLETED_REQUESTS];
    assert!((done(&pack) - done(&spread)).abs() <= 0.01 * done(&spread));
}

#[test]
fn capacity_estimate_matches_a_saturated_replica() {
    // One H100 offered twice what it can serve, prompts of 1,020 and answers of 129 tokens:
    // the token budget (2,048 a step) binds on prefill, not the batch limit.
    let text = scenario("h100_sxm", 1, 80.0, 1020, 129, "")
        .replace("max_queue_per_gpu: null", "max_queue_per_gpu: 2000");
    let s = load_str(&text, "test", "test", &[]).expect("valid");
    let serving = s.pools()[0].serving.expect("serves");
    let capacity = serving.capacity_rps(1020.0, 129.0);
    let m = run_replication(&s, 0).metrics;
    let rps = m[names::inference::THROUGHPUT_RPS];
    assert!(
        (rps / capacity - 1.0).abs() < 0.05,
        "simulated {rps}, estimated {capacity}"
    );
    assert!(m[names::gpu::UTILISATION] > 0.99);
}

/// A calibration profile of the cloud reference's class applies to the cloud too: its
/// training FLOP/s and its serving come from the profile, as the network's GPUs of that
/// class do, so the comparison is like for like.
#[test]
fn a_profile_of_the_clouds_class_sets_the_cloud_rates_too() {
    use depinsim::calibration::{Curve, Point, Profile, Source};
    use depinsim::physics::gpu::find_class;
    use depinsim::scenario::load_str_in;

    let mut p = Profile::datasheet(find_class("h100_sxm").expect("class"));
    p.source = Source::Measured;
    p.provenance.date = Some("2026-12-01".into());
    let point = |x: f64, median: f64| Point {
        x,
        median,
        spread: 0.01,
        reps: 10,
    };
    p.matmul_library = Curve(vec![point(2048.0, 5.0e14), point(8192.0, 7.0e14)]);
    p.decode = Curve(vec![point(1.0, 2.5e12), point(256.0, 2.5e12)]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("h100.yaml"), p.to_yaml()).expect("write");
    let text = scenario("h100_sxm", 8, 1.0, 100, 10, "cloud: {gpu: h100_sxm}\n");
    let load = |extra: &str| {
        load_str_in(&format!("{text}{extra}"), "test", "test", &[], dir.path())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let sheet = load("");
    assert_eq!(sheet.cloud().flops, 989e12 * 0.8);
    let measured = load("calibration: {profiles: {h100_sxm: h100.yaml}}\n");
    assert_eq!(measured.cloud().flops, 7.0e14);
    assert_eq!(measured.pools()[0].rates.training_flops, 7.0e14);
    assert_eq!(measured.pools()[0].rates.kind, "measured");
}
