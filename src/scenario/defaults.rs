//! Every default a scenario gets for a value it leaves out, and the limits validation holds
//! values to, each with where its figure comes from. The serde mirror (`raw.rs`) fills the
//! defaults that do not depend on anything else, so they appear in the JSON Schema;
//! validation fills those that depend on a provider group's GPU class or region. A figure
//! marked "assumed" is a modelling choice, not a measurement: set it from your own data.

use super::spec::JobQueue;
use crate::economics::provider::RewardValuation;

// Simulation.

/// Simulated hours: one day (assumed).
pub const HORIZON_H: f64 = 24.0;
/// Warm-up hours discarded from every statistic (assumed).
pub const WARMUP_H: f64 = 1.0;
/// Hours per row of the time series (assumed).
pub const EPOCH_H: f64 = 1.0;
/// Replications (assumed; confidence intervals need at least 2).
pub const REPLICATIONS: u32 = 8;
/// The master seed.
pub const SEED: u64 = 1;

// Regions and the network.

/// Access bandwidth of a region's hosts, Mbit/s: consumer GPU hosts on marketplaces such as
/// Vast.ai list about 1 Gbit/s.
pub const BANDWIDTH_MBPS: f64 = 1000.0;
/// Electricity price, USD per kWh: the US average retail price across sectors in 2024 (EIA,
/// Electric Power Monthly).
pub const ELECTRICITY_USD_PER_KWH: f64 = 0.13;
/// Round trip inside one region, ms: inside one availability zone or between zones, round
/// trips are 0.25-3.4 ms (AWS and IBM Cloud published latencies).
pub const INTRA_REGION_RTT_MS: f64 = 1.0;
/// Bytes on the wire per token of prompt or output: about 4 characters of UTF-8 text per
/// token (OpenAI's tokenizer rule of thumb).
pub const BYTES_PER_TOKEN: f64 = 4.0;

// Provider groups: datacenter GPU classes, and consumer cards.

/// Mean time between failures of a datacenter GPU, hours: Llama 3's 419 unexpected
/// interruptions over 16,384 H100s in 54 days (16,384 x 54 x 24 / 419 = 50,676 h).
pub const DATACENTER_MTBF_H: f64 = 50_700.0;
/// Mean time between failures of a consumer card, hours (assumed: hosts that owners reboot,
/// game on and switch off).
pub const CONSUMER_MTBF_H: f64 = 500.0;
/// Hours a failed datacenter GPU stays offline (assumed: a node swap by on-site staff).
pub const DATACENTER_REPAIR_H: f64 = 4.0;
/// Hours a failed consumer card stays offline (assumed: a host restarted by its owner).
pub const CONSUMER_REPAIR_H: f64 = 1.0;
/// Weibull shape of the time between failures: 1, exponential, as a failure rate alone
/// implies. HPC systems fit 0.7-0.8 (Schroeder and Gibson, DSN 2006).
pub const FAILURE_SHAPE: f64 = 1.0;
/// Probability that a failure is a departure for good (assumed: every failure is repaired).
pub const DEPARTURE_PROBABILITY: f64 = 0.0;
/// Bandwidth between a datacenter group's GPUs, Gbit/s per GPU: InfiniBand per GPU in Llama
/// 3's cluster. Consumer cards get their region's bandwidth (no NVLink; traffic leaves
/// through the host's network).
pub const DATACENTER_INTERCONNECT_GBPS: f64 = 400.0;
/// One-way latency between a datacenter group's GPUs, microseconds: the same
/// InfiniBand-class fabric as the cloud reference ([`CLOUD_LATENCY_US`], assumed). Consumer
/// cards get half their region's own round trip.
pub const DATACENTER_INTERCONNECT_LATENCY_US: f64 = CLOUD_LATENCY_US;
/// GPUs per datacenter host: HGX/DGX and cloud 8-GPU nodes.
pub const DATACENTER_GPUS_PER_HOST: u32 = 8;
/// GPUs per consumer host: one card per gaming PC.
pub const CONSUMER_GPUS_PER_HOST: u32 = 1;
/// Latency of one step of a ring all-reduce between the GPUs of one host, microseconds
/// (assumed: NVLink and PCIe peer-to-peer transfers take about a microsecond). The link's
/// bandwidth comes by GPU class from `physics::comm::HOST_LINKS` (datasheets).
pub const HOST_LINK_LATENCY_US: f64 = 1.0;
/// Most pipeline stages a replica may span (`inference.pipeline.max_stages`): a Llama 2
/// 70B replica has 80 layers, and a stage holds at least one.
pub const MAX_PIPELINE_STAGES: u32 = 1024;

// Provider costs, item by item.

/// What a sharing provider paid for hardware it already owned: nothing to write off.
pub const SHARING_HARDWARE_USD: f64 = 0.0;
/// Years to write hardware off over (assumed: cloud operators depreciate servers over 5-6
/// years in their annual reports).
pub const LIFETIME_YEARS: f64 = 5.0;
/// Idle power as a share of the class's board power (assumed).
pub const IDLE_POWER_SHARE: f64 = 0.1;
/// Facility power per watt of IT power in a datacenter: Uptime Institute's global average
/// power usage effectiveness, 2024 survey.
pub const DATACENTER_PUE: f64 = 1.56;
/// Facility power per watt of IT power at home: a home PC has no facility.
pub const SHARING_PUE: f64 = 1.0;

// Inference.

/// The served model: a catalogue entry.
pub const MODEL: &str = "llama-3-8b";
/// Bytes per weight when the scenario gives no weight format: BF16's.
pub const BYTES_PER_PARAM: f64 = 2.0;
/// Median prompt tokens: the conversation trace of Azure's LLM inference service (Patel et
/// al., Splitwise, ISCA 2024).
pub const PROMPT_MEDIAN_TOKENS: f64 = 1020.0;
/// Median output tokens, from the same trace.
pub const OUTPUT_MEDIAN_TOKENS: f64 = 129.0;
/// Standard deviation of the log of prompt and output lengths (assumed).
pub const TOKENS_SIGMA: f64 = 1.0;
/// Requests that may wait per GPU before new ones are turned away (assumed: admission
/// control is a design choice of the network, not a measured figure).
pub const MAX_QUEUE_PER_GPU: u32 = 64;
/// Time-to-first-token objective, s: the upper end of the 200-500 ms objectives common for
/// chat at p95/p99.
pub const SLO_TTFT_S: f64 = 0.5;
/// Time-per-output-token objective, s: the upper end of the 25-50 ms common for chat
/// (MLPerf's Llama 2 70B interactive objective is 40 ms).
pub const SLO_TPOT_S: f64 = 0.05;
/// Most requests in one replica at once: vLLM's max_num_seqs.
pub const MAX_BATCH: u32 = 256;
/// Most tokens one engine step processes: vLLM's max_num_batched_tokens with chunked
/// prefill in its OpenAI-compatible server.
pub const MAX_BATCHED_TOKENS: u32 = 2048;
/// Share of GPU memory for the runtime, weights and KV cache: vLLM's gpu_memory_utilization.
pub const MEMORY_UTILISATION: f64 = 0.9;
/// GiB of each GPU's share kept for the runtime (activations, CUDA graphs, the CUDA context
/// and workspaces), between what vLLM's profiles of Llama 3.1 8B leave unaccounted of the
/// driver's memory: 0.8 GiB on an RTX 3090 with chunked prefill (vllm-project/vllm#10517:
/// 24,576 MiB x 0.9 - 14.99 GiB of weights - 5.82 GiB of KV cache) and 3.4 GiB on an H100
/// with 8,192-token steps (vllm-project/vllm#10511: 81,559 MiB x 0.9 - 14.96 - 53.29 GiB),
/// with 0.1-0.5 GiB of CUDA graphs, captured afterwards, on top of the first.
pub const RUNTIME_RESERVE_GIB: f64 = 1.5;
/// GPUs per replica: `smallest`, the fewest that hold the model, as vLLM's documentation
/// ("Parallelism and Scaling") advises: a single GPU if the model fits on one, and otherwise
/// "increase the number of GPUs ... until there is enough GPU memory for the model".
pub const TENSOR_PARALLEL: &str = "smallest";
/// Local hour of the daily demand peak (assumed: an evening peak of consumer chat traffic).
pub const PEAK_LOCAL_H: f64 = 20.0;

// Calibration.

/// Achieved share of the datasheet BF16 FLOP/s: a BF16 8192^3 matrix product reached ~798 of
/// the datasheet's 989 TFLOP/s on an H100 SXM 80GB (measured with PyTorch).
pub const COMPUTE_EFFICIENCY: f64 = 0.80;
/// Achieved share of the datasheet memory bandwidth: a device-to-device copy reached ~3.0 of
/// the datasheet's 3.35 TB/s on an H100 SXM 80GB (measured with PyTorch).
pub const MEMORY_EFFICIENCY: f64 = 0.90;
/// The class the two efficiency factors were measured on; on every other class they are an
/// assumption, and run.json's `gpu_profiles` says so.
pub const EFFICIENCY_MEASURED_ON: &str = "h100_sxm";
/// Whether a class without a profile of the scenario's uses one bundled with depinsim: a
/// measurement beats the efficiency factors.
pub const BUNDLED_PROFILES: bool = true;

// Training and fine-tuning jobs.

/// Global batch, million tokens per step: Llama 3's initial batch.
pub const TOKENS_PER_STEP_M: f64 = 4.0;
/// Highest rate at which one GPU's share of a checkpoint is written to storage, Gbit/s:
/// 2 GB/s (assumed: about half of one PCIe 4.0 NVMe drive's sequential write per GPU; a
/// slower link off the host binds first).
pub const CHECKPOINT_WRITE_GBPS: f64 = 16.0;
/// Tokens in flight on one GPU for activation memory: one 8,192-token sequence, Llama 3's
/// pretraining sequence length (Meta, "The Llama 3 Herd of Models", 2024).
pub const MICRO_BATCH_TOKENS: f64 = 8192.0;
/// Share of a GPU's memory a training job may use (assumed: the rest goes to the CUDA
/// context, NCCL's buffers and the caching allocator's fragmentation; vLLM leaves serving
/// the same 10%).
pub const JOB_MEMORY_UTILISATION: f64 = 0.9;
/// Seconds from a failure to training again: detect, re-place, reload (assumed).
pub const RESTART_S: f64 = 600.0;

// Low-communication training (`sync: local_sgd`).

/// Inner steps between outer synchronisations: INTELLECT-1's `inner_steps = 100` (10B on up
/// to 14 nodes of 8 H100 across three continents; Jaghouar et al. 2024, arXiv 2412.01152;
/// PrimeIntellect-ai/prime, configs/10B/H100.toml). DiLoCo's own experiments use 500
/// (Douillard et al. 2023, arXiv 2311.08105).
pub const LOCAL_SGD_INNER_STEPS: u32 = 100;
/// Bits per exchanged pseudo-gradient value: 16 (BF16, as DiLoCo exchanges them);
/// INTELLECT-1 sends int8 (8), MuLoCo 2-bit deltas with error feedback (arXiv 2505.23725).
pub const LOCAL_SGD_PAYLOAD_BITS: f64 = 16.0;
/// Share of the pseudo-gradient's values sent: all of them (DiLoCo, INTELLECT-1); DeMo
/// sends a few transform components per tensor, up to ~85x less data (Peng et al. 2024,
/// arXiv 2411.19870).
pub const LOCAL_SGD_SENT_FRACTION: f64 = 1.0;
/// Share of the exchange hidden behind the next inner steps: none (DiLoCo and INTELLECT-1
/// block on the outer step); streaming DiLoCo overlaps it (Douillard et al. 2025, arXiv
/// 2501.18512).
pub const LOCAL_SGD_OVERLAP: f64 = 0.0;
/// Workers are hosts: exchange inside a host, then a ring across hosts (INTELLECT-1's
/// ElasticDeviceMesh: a local process group per node, a global one across nodes).
pub const LOCAL_SGD_HIERARCHICAL: bool = true;
/// Tokens to reach every-step training's loss, as a ratio: 1. DiLoCo at 8 workers matches
/// synchronous training on C4 while communicating 500x less (Douillard et al. 2023, arXiv
/// 2311.08105, abstract); its scaling-law study (Charles et al. 2025, arXiv 2503.09799)
/// finds one worker at or below data-parallel loss, and the loss rising with more workers
/// at a fixed token budget, less so for larger models: `token_ratio_per_doubling` is for
/// that. Where a setup is outside those studies, 1 is an assumption.
pub const LOCAL_SGD_TOKEN_RATIO: f64 = 1.0;
/// Growth of the token ratio with each doubling of the workers: 0 (assumed; see
/// `LOCAL_SGD_TOKEN_RATIO`).
pub const LOCAL_SGD_TOKEN_RATIO_PER_DOUBLING: f64 = 0.0;
/// Bytes per trained parameter of the outer optimizer's state on the GPUs: the last global
/// weights and the outer Nesterov momentum, FP32 each (DiLoCo's outer SGD with Nesterov
/// momentum). 0 models keeping them in host memory, as PRIME can.
pub const LOCAL_SGD_OUTER_STATE_BYTES_PER_PARAM: f64 = 8.0;
/// Most bits per exchanged value: FP32.
pub const LOCAL_SGD_MAX_PAYLOAD_BITS: f64 = 32.0;

/// How waiting jobs start: EASY backfilling, as Slurm's default scheduler plugin does
/// (`SchedulerType=sched/backfill`, slurm.conf), which is how shared GPU clusters run their
/// queues; strict first come, first served (`sched/builtin`) leaves GPUs idle behind a large
/// job at the head of the line.
pub const JOB_QUEUE: JobQueue = JobQueue::Backfill;

// The cloud reference.

/// GPU class of the cloud cluster.
pub const CLOUD_GPU: &str = "h100_sxm";
/// Cloud price per GPU-hour, USD: AWS p5 (8 H100) on demand after the June 2025 price cut,
/// per GPU.
pub const CLOUD_PRICE_USD_PER_GPU_HOUR: f64 = 6.88;
/// Hyperscaler prices per GPU-hour by cloud GPU class, USD: H100 SXM as above; A100 80GB SXM
/// AWS p4de (8 A100 80GB) on demand, per GPU, 3.43. Other classes have no sourced default.
pub const CLOUD_PRICES_USD_PER_GPU_HOUR: [(&str, f64); 2] = [
    (CLOUD_GPU, CLOUD_PRICE_USD_PER_GPU_HOUR),
    ("a100_80gb_sxm", 3.43),
];
/// The neocloud tier's price per H100 SXM GPU-hour, USD: Lambda's 8x H100 SXM on demand,
/// per GPU (lambda.ai/pricing, read 2026-09-25; one GPU 4.29). Neoclouds listed H100s at
/// about $2-4 in May 2026 (price surveys).
pub const CLOUD_NEOCLOUD_USD_PER_GPU_HOUR: f64 = 3.99;
/// The marketplace tier's price per H100 SXM GPU-hour, USD: Vast.ai's median of verified
/// single-GPU offers (console.vast.ai bundles, read 2026-10-19); RunPod's community cloud
/// 2.69 and Akash's "starting at" 2.71 are close. Marketplaces listed H100s at about
/// $1.5-2.7 in May 2026 (price surveys).
pub const CLOUD_MARKETPLACE_USD_PER_GPU_HOUR: f64 = 2.40;
/// The GPU class the tiers' default prices are for.
pub const CLOUD_TIERS_GPU: &str = "h100_sxm";
/// Cloud bandwidth per GPU, Gbit/s: 3,200 Gbit/s per 8-GPU p5 node.
pub const CLOUD_INTERCONNECT_GBPS: f64 = 400.0;
/// One-way latency between cloud GPUs, microseconds (assumed: an InfiniBand-class fabric).
pub const CLOUD_LATENCY_US: f64 = 5.0;
/// Mean time between failures of a cloud GPU, hours: Llama 3's, as for datacenter groups.
pub const CLOUD_MTBF_H: f64 = DATACENTER_MTBF_H;
/// GPUs per cloud node: a p5.
pub const CLOUD_GPUS_PER_NODE: u32 = 8;
/// How the cloud reference is sized for inference: `right_sized`, the fewest GPUs that meet
/// the network's objectives for the same demand, as a buyer renting cloud GPUs would size a
/// deployment (vLLM's and cloud providers' capacity-planning guides size replicas by the
/// throughput at the latency objective).
pub const CLOUD_SIZING: &str = "right_sized";
/// When right-sized cloud GPUs are provisioned: `hourly`, each hour of the day to that
/// hour's demand (on-demand instances are billed per second on AWS, Google Cloud and Azure,
/// and autoscalers add and remove replicas within minutes).
pub const CLOUD_PROVISIONED: &str = "hourly";
/// The smallest share of requests a right-sized cloud may let miss the objectives when the
/// network missed fewer (or none): one in ten thousand, below what a run of fewer than
/// 10,000 requests resolves (assumed).
pub const CLOUD_MIN_MISS: f64 = 1e-4;

// Viability.

/// Highest cost on the network per unit of work, relative to the cloud: no dearer.
pub const MAX_COST_RATIO: f64 = 1.0;
/// Lowest share of requests within the TTFT objective: objectives are usually set at the
/// 95th percentile.
pub const MIN_SLO_ATTAINMENT: f64 = 0.95;

// The token and the economy.

/// The token's ticker in reports.
pub const TOKEN_SYMBOL: &str = "TOKEN";
/// How providers value token rewards: at the market price when paid, before the epoch's
/// trades, as income received in a token is valued at its fair market value on the date of
/// receipt (US IRS Notice 2014-21, on mined virtual currency).
pub const REWARD_VALUATION: RewardValuation = RewardValuation::Spot;
// The outside market's depth (`token.market_depth_usd`) has no default figure: it differs by
// token and venue by orders of magnitude. Left out, an exogenous price is unlimited: every
// purchase fills at the path's price.
/// Utilisation at which a group's price is its own (assumed).
pub const PRICING_TARGET: f64 = 0.7;
/// How strongly the price follows utilisation (assumed).
pub const PRICING_ELASTICITY: f64 = 1.0;
/// Lowest price multiplier (assumed).
pub const PRICING_MIN_MULTIPLIER: f64 = 0.5;
/// Highest price multiplier (assumed).
pub const PRICING_MAX_MULTIPLIER: f64 = 2.0;
/// Hours a stake stays locked after its GPU leaves: 21 days, the Cosmos SDK's unbonding
/// period, which Akash uses.
pub const UNBONDING_H: f64 = 504.0;
/// Return per year the USD held in stakes forgoes (assumed: about the US one-year Treasury
/// yield through 2025, ~4-5%, the risk-free return the money could earn instead).
pub const STAKE_COST_OF_CAPITAL_PER_YEAR: f64 = 0.045;
/// Payments per settlement transaction: every payment its own.
pub const SETTLEMENT_BATCH: u32 = 1;
/// Times each request is executed: once, no redundancy.
pub const REDUNDANCY: u32 = 1;
/// Share of requests executed again as a spot check: none.
pub const SPOT_CHECK_RATE: f64 = 0.0;
/// How inference is verified: by running requests again (`reexecute`, as `redundancy` and
/// `spot_check_rate` say; with both at their defaults, nothing is run again).
pub const VERIFICATION_METHOD: &str = "reexecute";
/// `fingerprint`: the validator's cost as a fraction of the work. TOPLOC (Ong et al., ICML
/// 2025, PMLR v267): validation is up to ~100x faster than the inference it checks.
pub const FINGERPRINT_VALIDATOR_FRACTION: f64 = 0.01;
/// `fingerprint`: proof bytes per output token. TOPLOC: 258 bytes per 32 tokens.
pub const FINGERPRINT_PROOF_BYTES_PER_TOKEN: f64 = 258.0 / 32.0;
/// USD per kB (1,000 bytes) of proofs and commitments settled on chain: Ethereum calldata at
/// 16 gas per non-zero byte (EIP-2028) and 2 gwei (the middle of 2025's 1-3 gwei, Etherscan's
/// average gas price history), ETH at $3,400 (the figure `depinsim onchain` uses):
/// 16 x 1,000 x 2e-9 x 3,400 = $0.1088. A rollup's blob space costs far less (give it).
pub const PROOF_CHAIN_USD_PER_KB: f64 = 16.0 * 1000.0 * 2e-9 * 3400.0;
/// Hours between the Merkle roots of verification's proofs settled on chain: one an hour, as
/// OP Mainnet's proposer posts an output root every 1,800 two-second L2 blocks.
pub const PROOF_ROOT_INTERVAL_H: f64 = 1.0;
/// USD per root settled: an Ethereum transaction's 21,000 gas plus 32 bytes of calldata at
/// 16 gas a byte, at 2 gwei and $3,400 per ETH, as `PROOF_CHAIN_USD_PER_KB`:
/// 21,512 x 2e-9 x 3,400 = $0.1463.
pub const PROOF_ROOT_USD: f64 = (21_000.0 + 32.0 * 16.0) * 2e-9 * 3400.0;
/// `optimistic`: the challenge window, hours. Seven days, the fault-proof window of
/// Optimism's and Arbitrum's rollups, whose design opML ("opML is all you need",
/// ethresear.ch) follows.
pub const OPTIMISTIC_CHALLENGE_WINDOW_H: f64 = 168.0;
/// `optimistic`: the share of results challengers re-execute, the probability that a false
/// result is detected. opML's security assumption is one honest verifier checking every
/// result (AnyTrust): 1.
pub const OPTIMISTIC_DETECTION_PROBABILITY: f64 = 1.0;
/// `optimistic`: bytes committed on chain per result: one 32-byte hash of it (assumed: the
/// smallest commitment a fraud proof can be checked against).
pub const OPTIMISTIC_COMMITMENT_BYTES: f64 = 32.0;
// `optimistic`'s bond has no figure of its own: by default it is the result's fee divided by
// the detection probability, the smallest bond that makes cheating lose money, and its cost
// of capital is the stakes' (`STAKE_COST_OF_CAPITAL_PER_YEAR`).
/// zkLLM (Sun, Li and Zhang, CCS 2024, arXiv 2404.16109): a proof of a 13B model's inference
/// over 2,048 tokens in under 15 minutes on an A100.
pub const ZKLLM_PROOF_S: f64 = 900.0;
/// `zk`: proving cost as a multiple of the work: zkLLM's 900 s against the same forward pass
/// at an A100's datasheet peak (2 x 13e9 x 2,048 FLOP at 312 TFLOP/s = 0.171 s): ~5,270.
/// The forward pass runs below peak, so this is the high end of the multiple.
pub const ZK_PROVING_MULTIPLE: f64 = ZKLLM_PROOF_S / (2.0 * 13e9 * 2048.0 / 312e12);
/// `zk`: the time until an answer's proof exists, s: zkLLM's 13B proof.
pub const ZK_PROOF_LATENCY_S: f64 = ZKLLM_PROOF_S;
/// `zk`: proof bytes per answer: zkLLM's proofs are under 200 kB.
pub const ZK_PROOF_BYTES: f64 = 200_000.0;

// Limits that keep a run within what one machine can hold and compute.

/// One second, in hours: the shortest horizon, epoch and review period.
pub const ONE_SECOND_H: f64 = 1.0 / 3600.0;
/// The longest horizon, hours: a century, well inside the 584 years a u64 of nanoseconds
/// holds.
pub const MAX_HORIZON_H: f64 = 876_600.0;
/// Most time-series rows (epochs x replications), kept in memory until written: 2 million
/// rows are about 200 MB.
pub const MAX_ROWS: f64 = 2_000_000.0;
/// Most replications per run.
pub const MAX_REPLICATIONS: u32 = 100_000;
/// Share of the memory the process may use (physical memory, the cgroup's limit,
/// `RLIMIT_AS`, or `--max-memory`) that a run's estimate (`sim::footprint`) may take; above
/// it the run is refused. The rest is headroom for what the estimate leaves out: the
/// allocator's rounding and per-thread arenas, the output stage's buffers, and the
/// estimate's own error (measured on the quickstart with 1 to 100 million cards, the
/// resident peak was within the estimate; see README, Memory).
pub const MEMORY_SHARE: f64 = 0.8;
/// Highest request rate of one user group: one per nanosecond of simulated time.
pub const MAX_RATE_PER_S: f64 = 1e9;
/// Most requests one run may simulate (about 5 hours at 5 million per second).
pub const MAX_REQUESTS: f64 = 1e11;
/// Most training or fine-tuning jobs of one class per day.
pub const MAX_ARRIVALS_PER_DAY: f64 = 1e6;
/// Least depth of an outside token market, USD: a cent.
pub const MIN_MARKET_DEPTH_USD: f64 = 0.01;
/// Most depth of an outside token market, USD: 10^15 (about ten times the world's yearly
/// output), so that the book's arithmetic stays within floating point.
pub const MAX_MARKET_DEPTH_USD: f64 = 1e15;

/// Levels of a sweep's Morris grid when the file does not say (Saltelli et al. 2008,
/// *Global Sensitivity Analysis: The Primer*, sec. 3.3: p = 4 is the usual choice).
pub const DEFAULT_MORRIS_LEVELS: u32 = 4;
/// Seed of a sweep's sampled design when the file does not say. It is the design's own,
/// apart from the simulation's seed, so `--seed` changes the replications and not the
/// points (assumed: any fixed value serves).
pub const DEFAULT_DESIGN_SEED: u64 = 1;
/// The most replications `sweep --target-halfwidth` adds up to (assumed: an interval
/// narrows as 1 / sqrt(R), so 64 replications are 4x narrower than 4; past that the cap is
/// the user's to raise).
pub const MAX_ADAPTIVE_REPLICATIONS: u32 = 64;
/// Most variants one sweep may have: far more than any one study needs, and few enough that
/// the design itself fits in memory.
pub const MAX_VARIANTS: u64 = 10_000_000;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn the_schema_shows_each_default_stated_here() {
        let schema = super::super::load::schema_value();
        let cases: [(&str, Value); 55] = [
            ("Simulation/properties/horizon_h", json!(HORIZON_H)),
            ("Simulation/properties/warmup_h", json!(WARMUP_H)),
            ("Simulation/properties/epoch_h", json!(EPOCH_H)),
            ("Simulation/properties/replications", json!(REPLICATIONS)),
            ("Simulation/properties/seed", json!(SEED)),
            ("Region/properties/bandwidth_mbps", json!(BANDWIDTH_MBPS)),
            (
                "Region/properties/electricity_usd_per_kwh",
                json!(ELECTRICITY_USD_PER_KWH),
            ),
            (
                "Network/properties/intra_region_rtt_ms",
                json!(INTRA_REGION_RTT_MS),
            ),
            ("Network/properties/bytes_per_token", json!(BYTES_PER_TOKEN)),
            ("Model/properties/name", json!(MODEL)),
            ("Inference/properties/model", json!({ "name": MODEL })),
            (
                "Inference/properties/prompt_tokens",
                json!({"lognormal": {"median": PROMPT_MEDIAN_TOKENS, "sigma": TOKENS_SIGMA}}),
            ),
            (
                "Inference/properties/output_tokens",
                json!({"lognormal": {"median": OUTPUT_MEDIAN_TOKENS, "sigma": TOKENS_SIGMA}}),
            ),
            (
                "Inference/properties/max_queue_per_gpu",
                json!(MAX_QUEUE_PER_GPU),
            ),
            ("Inference/properties/slo_ttft_s", json!(SLO_TTFT_S)),
            ("Inference/properties/slo_tpot_s", json!(SLO_TPOT_S)),
            ("Batching/properties/max_batch", json!(MAX_BATCH)),
            (
                "Batching/properties/max_batched_tokens",
                json!(MAX_BATCHED_TOKENS),
            ),
            (
                "Batching/properties/memory_utilisation",
                json!(MEMORY_UTILISATION),
            ),
            (
                "Batching/properties/runtime_reserve_gib",
                json!(RUNTIME_RESERVE_GIB),
            ),
            (
                "Batching/properties/tensor_parallel",
                json!(TENSOR_PARALLEL),
            ),
            (
                "Inference/properties/batching",
                json!({
                    "max_batch": MAX_BATCH,
                    "max_batched_tokens": MAX_BATCHED_TOKENS,
                    "memory_utilisation": MEMORY_UTILISATION,
                    "runtime_reserve_gib": RUNTIME_RESERVE_GIB,
                    "tensor_parallel": TENSOR_PARALLEL
                }),
            ),
            ("DailyCycle/properties/peak_local_h", json!(PEAK_LOCAL_H)),
            (
                "Calibration/properties/compute_efficiency",
                json!(COMPUTE_EFFICIENCY),
            ),
            (
                "Calibration/properties/memory_efficiency",
                json!(MEMORY_EFFICIENCY),
            ),
            (
                "Calibration/properties/bundled_profiles",
                json!(BUNDLED_PROFILES),
            ),
            (
                "JobClass/properties/tokens_per_step_m",
                json!(TOKENS_PER_STEP_M),
            ),
            (
                "JobClass/properties/checkpoint_write_gbps",
                json!(CHECKPOINT_WRITE_GBPS),
            ),
            (
                "JobClass/properties/micro_batch_tokens",
                json!(MICRO_BATCH_TOKENS),
            ),
            (
                "JobClass/properties/memory_utilisation",
                json!(JOB_MEMORY_UTILISATION),
            ),
            ("JobClass/properties/data_parallel", json!("auto")),
            ("JobClass/properties/restart_s", json!(RESTART_S)),
            ("Cloud/properties/gpu", json!(CLOUD_GPU)),
            (
                "Cloud/properties/interconnect_gbps",
                json!(CLOUD_INTERCONNECT_GBPS),
            ),
            ("Cloud/properties/latency_us", json!(CLOUD_LATENCY_US)),
            ("Cloud/properties/mtbf_h", json!(CLOUD_MTBF_H)),
            ("Cloud/properties/gpus_per_node", json!(CLOUD_GPUS_PER_NODE)),
            ("Cloud/properties/sizing", json!(CLOUD_SIZING)),
            ("Cloud/properties/provisioned", json!(CLOUD_PROVISIONED)),
            ("Viability/properties/max_cost_ratio", json!(MAX_COST_RATIO)),
            (
                "Viability/properties/min_slo_attainment",
                json!(MIN_SLO_ATTAINMENT),
            ),
            ("Token/properties/symbol", json!(TOKEN_SYMBOL)),
            ("Token/properties/reward_valuation", json!(REWARD_VALUATION)),
            ("Pricing/properties/target", json!(PRICING_TARGET)),
            ("Pricing/properties/elasticity", json!(PRICING_ELASTICITY)),
            (
                "Pricing/properties/min_multiplier",
                json!(PRICING_MIN_MULTIPLIER),
            ),
            (
                "Pricing/properties/max_multiplier",
                json!(PRICING_MAX_MULTIPLIER),
            ),
            ("Staking/properties/unbonding_h", json!(UNBONDING_H)),
            (
                "Staking/properties/cost_of_capital_per_year",
                json!(STAKE_COST_OF_CAPITAL_PER_YEAR),
            ),
            ("Settlement/properties/batch", json!(SETTLEMENT_BATCH)),
            ("Verification/properties/redundancy", json!(REDUNDANCY)),
            (
                "Verification/properties/spot_check_rate",
                json!(SPOT_CHECK_RATE),
            ),
            (
                "Token/properties/verification",
                json!({"redundancy": REDUNDANCY, "spot_check_rate": SPOT_CHECK_RATE}),
            ),
            (
                "CloudTiers/properties/neocloud",
                json!(CLOUD_NEOCLOUD_USD_PER_GPU_HOUR),
            ),
            (
                "CloudTiers/properties/marketplace",
                json!(CLOUD_MARKETPLACE_USD_PER_GPU_HOUR),
            ),
        ];
        for (at, want) in cases {
            let got = schema.pointer(&format!("/$defs/{at}/default"));
            assert_eq!(got, Some(&want), "{at}");
        }
    }

    #[test]
    fn the_schema_shows_the_job_queue_default() {
        let schema = super::super::load::schema_value();
        let want = match JOB_QUEUE {
            JobQueue::Fcfs => "fcfs",
            JobQueue::Backfill => "backfill",
        };
        assert_eq!(
            schema.pointer("/properties/job_queue/default"),
            Some(&json!(want))
        );
    }
}
