//! Training and fine-tuning job classes, and the cloud reference they are compared with.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scenario::defaults;

/// A class of training or fine-tuning jobs.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "JobClass")]
#[schemars(deny_unknown_fields)]
pub struct RawJobClass {
    /// Unique name (letters, digits, '-' and '_').
    pub name: String,
    /// `training` (all weights trained: 6N FLOPs per token, full gradients exchanged) or
    /// `fine_tuning` (LoRA-style adapters: 4N FLOPs per token, 1% of the gradients).
    pub kind: JobKind,
    /// Mean arrivals per day (Poisson).
    pub arrivals_per_day: f64,
    /// Model parameters, billions.
    pub params_b: f64,
    /// Tokens to process, billions.
    pub tokens_b: f64,
    /// Data-parallel GPUs wanted.
    pub gpus: u32,
    /// Global batch, million tokens per step. Default 4 (Llama 3's initial batch).
    #[serde(default = "default_batch")]
    pub tokens_per_step_m: f64,
    /// Where the GPUs may be.
    #[serde(default)]
    pub placement: Placement,
    /// Time to write one checkpoint, s. Default `null`: each GPU writes its share of the
    /// trained states (16 bytes per trained parameter: a 70B model's ~1.1 TB; a LoRA
    /// job's adapters only) over its link off the host, at most `checkpoint_write_gbps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_s: Option<f64>,
    /// Highest rate at which one GPU's share of a checkpoint is written to storage, Gbit/s.
    /// Default 16 (2 GB/s; assumed: about half of one PCIe 4.0 NVMe drive's sequential
    /// write per GPU).
    #[serde(default = "default_checkpoint_write")]
    pub checkpoint_write_gbps: f64,
    /// Time from a failure to training again (detect, re-place, reload), s. Default 600
    /// (assumed).
    #[serde(default = "default_restart")]
    pub restart_s: f64,
    /// Work between checkpoints, minutes; `null` uses the Young/Daly interval
    /// sqrt(2 x checkpoint x MTBF) for the placement the job gets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_interval_min: Option<f64>,
    /// How the data-parallel workers hold the model: `replicated` (PyTorch DDP: every GPU
    /// holds all the states; the trained gradients are all-reduced, 2(n-1)/n x their bytes a
    /// step), `sharded` (ZeRO-3 / FSDP: 1/n of the states each; the BF16 weights are
    /// all-gathered for the forward and the backward pass and the gradients reduce-scattered,
    /// 3(n-1)/n x the weights' bytes for full training) or `auto` (the default: replicated
    /// where it fits the placement's GPUs, as practitioners do, else sharded). Memory and
    /// traffic both follow it.
    #[serde(default)]
    pub data_parallel: DataParallel,
    /// Tokens in flight on one GPU (its micro-batch), for activation memory with full
    /// activation checkpointing (Korthikanti et al. 2022: each layer's input kept, one layer
    /// recomputed at a time). Default 8,192 (one sequence of Llama 3's pretraining length).
    #[serde(default = "default_micro_batch")]
    pub micro_batch_tokens: f64,
    /// Share of a GPU's memory (as the driver offers it) the job may use for its states and
    /// activations. Default 0.9 (assumed: the rest goes to the CUDA context, NCCL's buffers
    /// and allocator fragmentation).
    #[serde(default = "default_job_memory")]
    pub memory_utilisation: f64,
    /// How the workers synchronise: `every_step` (the default: every step all-reduces the
    /// gradients, or gathers and scatters them when sharded, over the slowest link) or
    /// `local_sgd` (the DiLoCo family: each worker takes `local_sgd.inner_steps` steps on
    /// its own, then the workers exchange pseudo-gradients; see `local_sgd`).
    #[serde(default)]
    pub sync: Sync,
    /// Local SGD's settings (each left out takes its default); unused unless `sync` is
    /// `local_sgd`, so that `--set ...sync=every_step` compares the two on one class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_sgd: Option<RawLocalSgd>,
}

/// How a job's workers synchronise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sync {
    /// Every step exchanges the gradients (synchronous data parallelism).
    #[default]
    EveryStep,
    /// Inner steps on each worker, then an outer synchronisation of pseudo-gradients.
    LocalSgd,
}

/// Local SGD (DiLoCo, Douillard et al. 2023; INTELLECT-1, Jaghouar et al. 2024): workers
/// take inner steps on their own share of each global batch, then all-reduce their
/// pseudo-gradients (the change of their weights since the last synchronisation) in a ring.
/// A worker is a host (hierarchical) or a GPU (flat). Inside a host the job's
/// `data_parallel` choice holds over the host's GPUs only: each worker keeps every model
/// state (sharded across its own host's GPUs at most) plus the outer optimizer's state, so
/// memory, not bandwidth, can decide where a job fits. A failed worker loses only its own
/// inner steps since the last synchronisation and rejoins from the last global state at
/// the first synchronisation after its restart; the job checkpoints only if
/// `checkpoint_interval_min` is given (the global state survives on the other workers).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(rename = "LocalSgd")]
#[schemars(deny_unknown_fields)]
pub struct RawLocalSgd {
    /// Inner steps H between outer synchronisations. Default 100 (INTELLECT-1; DiLoCo's
    /// experiments use 500).
    #[schemars(range(min = 1))]
    pub inner_steps: u32,
    /// Bits per exchanged pseudo-gradient value, 1 to 32. Default 16 (BF16, as DiLoCo);
    /// INTELLECT-1 sends 8 (int8), MuLoCo 2.
    pub payload_bits: f64,
    /// Share of the pseudo-gradient's values sent, (0, 1]. Default 1; DeMo-style
    /// compression sends a small share (up to ~85x less data per GPU than AdamW-DDP).
    pub sent_fraction: f64,
    /// Share of the exchange hidden behind the next round's inner steps (streaming
    /// DiLoCo), [0, 1]; at most the inner steps' time is hidden. Default 0.
    pub overlap: f64,
    /// Workers are hosts (`true`, the default: an exchange inside each host, then a ring
    /// across hosts, so the ring has one member per host) or GPUs (`false`: a flat ring of
    /// every GPU, each holding all the states).
    pub hierarchical: bool,
    /// Tokens needed to reach the loss every-step training reaches, as a ratio (>= 1).
    /// Default 1: DiLoCo matches synchronous training at 8 workers; at more workers and a
    /// fixed token budget its loss rises (Charles et al. 2025), see
    /// `token_ratio_per_doubling`.
    pub token_ratio: f64,
    /// Growth of `token_ratio` with each doubling of the workers W: the job processes
    /// tokens x token_ratio x (1 + this)^log2(W). Default 0 (assumed).
    pub token_ratio_per_doubling: f64,
    /// Bytes per trained parameter of the outer optimizer's state held on the GPUs (sharded
    /// over a host's GPUs). Default 8: the last global weights and the outer Nesterov
    /// momentum in FP32; 0 keeps them in host memory.
    pub outer_state_bytes_per_param: f64,
    /// A measured time of one outer synchronisation, s, used instead of the exchange's
    /// ring model. Default `null`: computed from the payload over the placement's links.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_s: Option<f64>,
}

impl Default for RawLocalSgd {
    fn default() -> Self {
        Self {
            inner_steps: defaults::LOCAL_SGD_INNER_STEPS,
            payload_bits: defaults::LOCAL_SGD_PAYLOAD_BITS,
            sent_fraction: defaults::LOCAL_SGD_SENT_FRACTION,
            overlap: defaults::LOCAL_SGD_OVERLAP,
            hierarchical: defaults::LOCAL_SGD_HIERARCHICAL,
            token_ratio: defaults::LOCAL_SGD_TOKEN_RATIO,
            token_ratio_per_doubling: defaults::LOCAL_SGD_TOKEN_RATIO_PER_DOUBLING,
            outer_state_bytes_per_param: defaults::LOCAL_SGD_OUTER_STATE_BYTES_PER_PARAM,
            sync_s: None,
        }
    }
}

/// How a job's data-parallel workers hold the model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataParallel {
    /// Replicated where the whole model state fits one GPU of the placement, else sharded.
    #[default]
    Auto,
    /// Every GPU holds all the states (PyTorch DDP).
    Replicated,
    /// Fully sharded states (ZeRO-3, PyTorch FSDP).
    Sharded,
}

fn default_batch() -> f64 {
    defaults::TOKENS_PER_STEP_M
}
fn default_checkpoint_write() -> f64 {
    defaults::CHECKPOINT_WRITE_GBPS
}
fn default_micro_batch() -> f64 {
    defaults::MICRO_BATCH_TOKENS
}
fn default_job_memory() -> f64 {
    defaults::JOB_MEMORY_UTILISATION
}
fn default_restart() -> f64 {
    defaults::RESTART_S
}

/// Full training or parameter-efficient fine-tuning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Every weight trained: 6N FLOPs per token (Kaplan et al. 2020), all gradients exchanged.
    Training,
    /// LoRA-style: frozen weights need no weight gradients (about 4N FLOPs per token) and only
    /// the adapters' gradients (about 1% of the parameters, Hu et al. 2021) are exchanged.
    FineTuning,
}

/// Where a job's GPUs may be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// All in one provider group.
    OneProvider,
    /// All in one region.
    OneRegion,
    /// Anywhere: gradients cross the wide-area network.
    #[default]
    Anywhere,
}

/// How waiting jobs start. Jobs wait in one line in arrival order and are retried when a job
/// arrives or ends and at every epoch; under either policy the job at the head of the line
/// starts as soon as GPUs for it are idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobQueue {
    /// Strictly first come, first served: a job that does not fit blocks every job behind
    /// it, even one that would fit now (Slurm's `sched/builtin`).
    Fcfs,
    /// EASY backfilling (Lifka 1995; Slurm's `sched/backfill`). When the head of the line
    /// does not fit, its shadow time is the earliest planned end of running jobs at which it
    /// would: a job's whole course is drawn when it is placed, so its end is known exactly
    /// (a real scheduler uses users' time limits, which are longer, and backfills less). A
    /// later job that fits now starts at once if it ends by the shadow time, or if it uses
    /// only GPUs that would still be spare when the head starts then. Guaranteed: the head
    /// can still start at its shadow time, assuming that the GPUs idle now stay idle until
    /// then (not that it starts as early as under `fcfs`, had inference freed GPUs sooner).
    /// Inference may take idle GPUs meanwhile (or leave more idle), and failures, owners'
    /// hours and supply change what is there, so the shadow time is an estimate, made again
    /// at every retry. When the head would not fit even after every running job
    /// ended (inference or offline GPUs hold what it needs), its start cannot be estimated,
    /// and a later job may start only on GPUs the head can never use (too little memory).
    /// Only the head is protected: a backfilled job may delay the jobs behind it.
    Backfill,
}

/// The default queue policy as it is written in the file.
pub(crate) fn default_job_queue() -> Option<JobQueue> {
    Some(match defaults::JOB_QUEUE {
        crate::scenario::spec::JobQueue::Fcfs => JobQueue::Fcfs,
        crate::scenario::spec::JobQueue::Backfill => JobQueue::Backfill,
    })
}

/// The centralized cloud reference: the same job on a co-located cluster.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(rename = "Cloud")]
#[schemars(deny_unknown_fields)]
pub struct RawCloud {
    /// GPU class of the cloud cluster. Default h100_sxm.
    pub gpu: String,
    /// Price per GPU-hour of the hyperscaler tier, the headline reference, USD. Default by
    /// class: h100_sxm 6.88, AWS p5 (8 H100) on demand after the June 2025 price cut, per GPU
    /// (us-east-1, read 2026-11); a100_80gb_sxm 3.43, AWS p4de (8 A100 80GB) per GPU; another
    /// class needs it given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_usd_per_gpu_hour: Option<f64>,
    /// The cheaper tiers of the cloud market, USD per GPU-hour: every viability verdict is
    /// also given against each. The same cluster at another price (assumed: a neocloud's
    /// 8-GPU nodes have InfiniBand as a hyperscaler's do; a marketplace's hosts often do not,
    /// which the price does not capture). Defaults for h100_sxm: neocloud 3.99, marketplace
    /// 2.40; for another class, give them (left out, only the hyperscaler tier is shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tiers: Option<RawTiers>,
    /// Bandwidth per GPU for gradient exchange, Gbit/s. Default 400: 3,200 Gbit/s per
    /// 8-GPU p5 node.
    pub interconnect_gbps: f64,
    /// One-way latency between GPUs, microseconds. Default 5 (InfiniBand-class fabric, assumed).
    pub latency_us: f64,
    /// Mean time between failures of one GPU, hours. Default 50,700 (Llama 3).
    pub mtbf_h: f64,
    /// GPUs per cloud node; an inference replica uses GPUs of one node. Default 8 (p5).
    pub gpus_per_node: u32,
    /// How the cloud is sized to serve the scenario's inference demand. `right_sized` (the
    /// default) answers "what would the same demand cost a buyer renting cloud GPUs?": the
    /// fewest cloud GPUs whose replicas meet the same latency objectives, at the same
    /// attainment, for the demand the network served, paid per provisioned GPU-hour (idle
    /// provisioned time counts). Each replica runs at the batch with the most requests per
    /// second among those whose time per output token and prefill meet the objectives; its
    /// batch slots are servers of an M/M/c queue, and each hour's fleet is the smallest whose
    /// share of requests waiting past what the time-to-first-token objective leaves (after
    /// the prefill and the users' round trip) is at most the network's miss share (at least
    /// one request in 10,000). The cloud has a fleet in each user region or one fleet in a
    /// single region for all (the farthest users' round trip counted), whichever is cheaper.
    /// `matched_batch` answers "what does the network's way of serving cost on cloud GPUs?":
    /// the same requests on cloud replicas at the network's own mean batch, paid per busy
    /// GPU-hour. `depinsim viability` shows the verdict under both.
    pub sizing: CloudSizing,
    /// When right-sized GPUs are provisioned: `hourly` (the default: each hour of the day to
    /// that hour's demand, as autoscaled on-demand instances, billed per second) or `peak`
    /// (one fleet sized for the busiest hour of the day, all day: reserved capacity).
    pub provisioned: Provisioned,
    /// Share of requests the right-sized cloud must answer within both objectives. Default:
    /// the network's own attainment in the run (the same attainment), with at most one
    /// request in 10,000 allowed to miss when the network missed fewer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attainment: Option<f64>,
}

/// Prices of the cloud market's cheaper tiers, USD per GPU-hour (the hyperscaler tier is
/// `cloud.price_usd_per_gpu_hour`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(rename = "CloudTiers")]
#[schemars(deny_unknown_fields)]
pub struct RawTiers {
    /// A neocloud's on-demand price per GPU-hour, USD. Default 3.99: Lambda, 8x H100 SXM,
    /// per GPU (lambda.ai/pricing, read 2026-09-25; 4.29 for one GPU).
    pub neocloud: f64,
    /// A marketplace's price per GPU-hour, USD. Default 2.40: Vast.ai, H100 SXM, the median
    /// of verified offers (read 2026-10-19; RunPod community 2.69, Akash from 2.71).
    pub marketplace: f64,
}

impl Default for RawTiers {
    fn default() -> Self {
        Self {
            neocloud: defaults::CLOUD_NEOCLOUD_USD_PER_GPU_HOUR,
            marketplace: defaults::CLOUD_MARKETPLACE_USD_PER_GPU_HOUR,
        }
    }
}

/// How the cloud reference is sized for inference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloudSizing {
    /// The fewest GPUs that meet the objectives for the demand, per provisioned GPU-hour.
    #[default]
    RightSized,
    /// The network's requests at the network's mean batch, per busy GPU-hour.
    MatchedBatch,
}

/// When right-sized cloud GPUs are provisioned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provisioned {
    /// Each hour of the day, to that hour's demand.
    #[default]
    Hourly,
    /// For the busiest hour of the day, all day.
    Peak,
}

impl Default for RawCloud {
    fn default() -> Self {
        Self {
            gpu: defaults::CLOUD_GPU.into(),
            price_usd_per_gpu_hour: None,
            tiers: None,
            interconnect_gbps: defaults::CLOUD_INTERCONNECT_GBPS,
            latency_us: defaults::CLOUD_LATENCY_US,
            mtbf_h: defaults::CLOUD_MTBF_H,
            gpus_per_node: defaults::CLOUD_GPUS_PER_NODE,
            sizing: CloudSizing::default(),
            provisioned: Provisioned::default(),
            attainment: None,
        }
    }
}
