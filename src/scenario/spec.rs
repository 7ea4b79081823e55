//! The validated scenario: every value checked, every default filled, in types that know
//! nothing of the file's format. Validation builds them from the serde mirror.

use crate::core::dist::Dist;
use crate::core::engine::SimTime;
use crate::economics::emission::Emission;
use crate::economics::ledger::Design;
use crate::economics::price::{AmmSpec, PricePath};
use crate::economics::pricing::{PriceUnit, Pricing};
use crate::economics::provider::{CostModel, ProviderKind, RewardValuation, SupplyRule};
use crate::economics::verification::Method;
use crate::physics::gpu::GpuClass;
use crate::physics::local_sgd::LocalSgd;
use crate::physics::rates::Rates;
use crate::physics::roofline::Roofline;
use crate::physics::serving::{ServedModel, Serving, Unfit};
use crate::physics::training::{self, DataParallel, GRADIENT_BYTES_PER_PARAM, JobKind};

/// A region, validated.
#[derive(Clone, Debug)]
pub struct Region {
    /// Unique name.
    pub name: String,
    /// Offset of local time from UTC, hours.
    pub utc_offset_h: f64,
    /// Access bandwidth, bit/s.
    pub bandwidth_bps: f64,
}

/// A pool of identical GPUs in one region (a provider group), validated.
#[derive(Clone, Debug)]
pub struct Pool {
    /// Unique name.
    pub name: String,
    /// Index into [`Scenario::regions`].
    pub region: usize,
    /// GPU class from the datasheet table.
    pub class: &'static GpuClass,
    /// Most GPUs the group can have (its GPUs at the start without a supply section).
    pub count: u32,
    /// GPUs in the group at the start.
    pub initial: u32,
    /// Sharing-economy or datacenter provider.
    pub kind: ProviderKind,
    /// What a GPU costs its provider.
    pub cost: CostModel,
    /// Users' price per busy GPU-hour, USD.
    pub price_usd_per_gpu_hour: f64,
    /// Achievable rates for the served model.
    pub roofline: Roofline,
    /// What one GPU achieves, and where that comes from.
    pub rates: crate::physics::rates::Rates,
    /// How the group serves the model, or why it cannot.
    pub serving: Result<Serving, Unfit>,
    /// Mean time between failures of one GPU, seconds.
    pub mtbf_s: f64,
    /// Mean time to repair a failed GPU, seconds.
    pub repair_s: f64,
    /// Weibull shape of the time between failures (1: exponential).
    pub failure_shape: f64,
    /// Probability that a failure is a departure for good.
    pub departure_p: f64,
    /// Local hours `(from, to)` when the GPUs are lent; None: always.
    pub online_local_h: Option<(f64, f64)>,
    /// Bandwidth between the group's own GPUs, bytes/s per GPU.
    pub interconnect_bytes_per_s: f64,
    /// One-way latency between the group's own GPUs, s.
    pub interconnect_latency_s: f64,
    /// GPUs per host.
    pub gpus_per_host: u32,
    /// The link between the GPUs of one host (tensor parallel's all-reduces).
    pub host_link: crate::physics::comm::HostLink,
}

/// How a request chooses among the GPU pools that can serve it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routing {
    /// The nearest pool that starts the request at once, else the nearest queue with room.
    NearestFree,
    /// The pool with the lowest expected latency: RTT, transfer, queueing and service.
    LeastLatency,
}

/// Which replica of a pool a request joins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dispatch {
    /// A new replica when a host has idle GPUs for one, else the least loaded with room.
    Spread,
    /// The fullest replica with room, a new one only when none has room.
    Pack,
}

/// Where a job's GPUs may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// All in one provider group.
    OneProvider,
    /// All in one region.
    OneRegion,
    /// Anywhere: gradients cross the wide-area network.
    Anywhere,
}

/// How waiting jobs start (the scenario's `job_queue`; the schema states the rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobQueue {
    /// Strictly in arrival order: a job that does not fit blocks every job behind it.
    Fcfs,
    /// EASY backfilling: a later job may start first when that does not delay the head of
    /// the line's estimated start (its shadow time).
    Backfill,
}

/// The analyst's criteria for calling a workload viable on the network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viability {
    /// Highest acceptable cost per unit of work on the network / on the cloud.
    pub max_cost_ratio: f64,
    /// Lowest acceptable share of inference requests that meet the TTFT objective.
    pub min_slo_attainment: f64,
}

/// A class of training or fine-tuning jobs, validated.
#[derive(Clone, Debug)]
pub struct JobClass {
    /// Unique name.
    pub name: String,
    /// Training or fine-tuning.
    pub kind: JobKind,
    /// Arrivals per second.
    pub rate_per_s: f64,
    /// Model parameters.
    pub params: f64,
    /// Tokens to process.
    pub tokens: f64,
    /// GPUs wanted.
    pub gpus: u32,
    /// Tokens per step.
    pub tokens_per_step: f64,
    /// Where the GPUs may be.
    pub placement: Placement,
    /// Checkpoint write time, s (None: the checkpoint's bytes over the bandwidth it is
    /// written over, [`JobClass::checkpoint_s_over`]).
    pub checkpoint_s: Option<f64>,
    /// Highest rate at which one GPU's share of a checkpoint is written to storage, bytes/s.
    pub checkpoint_write_bytes_per_s: f64,
    /// Restart time, s.
    pub restart_s: f64,
    /// Work between checkpoints, s (None: Young/Daly for the placement).
    pub interval_s: Option<f64>,
    /// How the workers hold the model (None: replicated where it fits, else sharded).
    pub data_parallel: Option<DataParallel>,
    /// Tokens in flight on one GPU (its micro-batch), for activation memory.
    pub micro_batch_tokens: f64,
    /// Share of a GPU's memory the job may use.
    pub memory_utilisation: f64,
    /// Local SGD's settings; None synchronises every step.
    pub local_sgd: Option<LocalSgd>,
}

impl JobClass {
    /// FLOPs per parameter per token: 6 for training, 4 for fine-tuning.
    pub fn flops_per_param_token(&self) -> f64 {
        self.kind.flops_per_param_token()
    }

    /// Gradient bytes exchanged per step (BF16 gradients of the trained parameters).
    pub fn gradient_bytes(&self) -> f64 {
        self.params * self.kind.trained_share() * GRADIENT_BYTES_PER_PARAM
    }

    /// GPUs a worker's model states are sharded over at most, on hosts of `host` GPUs:
    /// every GPU of the job when it synchronises every step; under local SGD the job's
    /// GPUs on one host (hierarchical) or one GPU (a flat ring).
    pub fn worker_gpus(&self, host: u32) -> u32 {
        match self.local_sgd {
            None => self.gpus,
            Some(l) if l.hierarchical => host.min(self.gpus).max(1),
            Some(_) => 1,
        }
    }

    /// Bytes one GPU holds under `parallel` when a worker's states are sharded over at most
    /// `shards` GPUs: its share of the model states, of the outer optimizer's state under
    /// local SGD, and its activations.
    pub fn memory_per_gpu_bytes(&self, parallel: DataParallel, shards: u32) -> f64 {
        let outer = self.local_sgd.map_or(0.0, |l| {
            self.params * self.kind.trained_share() * l.outer_state_bytes_per_param
                / f64::from(shards.max(1))
        });
        training::memory_per_gpu_bytes(
            self.kind,
            parallel,
            self.params,
            shards,
            self.micro_batch_tokens,
        ) + outer
    }

    /// Bytes of a GPU of `class` the job may use.
    pub fn usable_bytes(&self, class: &GpuClass) -> f64 {
        class.memory_bytes() * self.memory_utilisation
    }

    /// The parallelism the job runs with on GPUs that each offer `usable` bytes, its
    /// workers' states sharded over at most `shards` GPUs: the one asked for, or replicated
    /// where it fits and sharded otherwise; None if it does not fit.
    pub fn parallel_for(&self, usable: f64, shards: u32) -> Option<DataParallel> {
        self.choose(|p| self.memory_per_gpu_bytes(p, shards) <= usable)
    }

    /// The parallelism the same job runs with when it synchronises every step over all its
    /// GPUs (as on the cloud reference), each offering `usable` bytes.
    pub fn every_step_parallel_for(&self, usable: f64) -> Option<DataParallel> {
        self.choose(|p| {
            training::memory_per_gpu_bytes(
                self.kind,
                p,
                self.params,
                self.gpus,
                self.micro_batch_tokens,
            ) <= usable
        })
    }

    /// The parallelism asked for if it `fits`, else replicated or sharded, the first that
    /// fits.
    fn choose(&self, fits: impl Fn(DataParallel) -> bool) -> Option<DataParallel> {
        match self.data_parallel {
            Some(p) => fits(p).then_some(p),
            None => [DataParallel::Replicated, DataParallel::Sharded]
                .into_iter()
                .find(|&p| fits(p)),
        }
    }

    /// Whether the job fits on GPUs of `class`, `host` to a host, under some parallelism
    /// it allows.
    pub fn fits_on(&self, class: &GpuClass, host: u32) -> bool {
        self.parallel_for(self.usable_bytes(class), self.worker_gpus(host))
            .is_some()
    }

    /// Seconds to write a checkpoint when each GPU's link to storage offers `bandwidth`
    /// bytes/s: the class's own figure, or each GPU writing its share of the trained states
    /// (a distributed checkpoint: every rank writes 1/n, replicated or not) at that
    /// bandwidth, at most the storage rate.
    pub fn checkpoint_s_over(&self, bandwidth: f64) -> f64 {
        self.checkpoint_s.unwrap_or_else(|| {
            let bytes = self.params * self.kind.checkpoint_bytes_per_param() / f64::from(self.gpus);
            bytes / bandwidth.min(self.checkpoint_write_bytes_per_s)
        })
    }

    /// Total model FLOPs of the job.
    pub fn total_flops(&self) -> f64 {
        self.flops_per_param_token() * self.params * self.tokens
    }
}

/// The centralized cloud reference, validated.
#[derive(Clone, Debug)]
pub struct Cloud {
    /// GPU class.
    pub class: &'static GpuClass,
    /// Achievable FLOP/s of one GPU.
    pub flops: f64,
    /// What one GPU achieves, and where the figures come from (None until the model is
    /// known).
    pub rates: Option<Rates>,
    /// Price per GPU-hour, USD: the hyperscaler tier, the headline reference.
    pub price_usd_per_gpu_hour: f64,
    /// The tiers of the cloud market every viability verdict is given against, the
    /// hyperscaler's first (at `price_usd_per_gpu_hour`).
    pub tiers: Vec<Tier>,
    /// Bandwidth per GPU, bytes/s.
    pub bandwidth_bytes_per_s: f64,
    /// One-way latency, s.
    pub latency_s: f64,
    /// Mean time between failures of one GPU, s.
    pub mtbf_s: f64,
    /// How the cloud serves the scenario's model.
    pub serving: CloudServing,
    /// How the cloud is sized for inference (the headline cost; both are reported).
    pub sizing: CloudSizing,
    /// When right-sized GPUs are provisioned.
    pub provisioned: Provisioned,
    /// Share of requests the right-sized cloud must answer within the objectives (None: the
    /// network's own).
    pub attainment: Option<f64>,
}

/// How the cloud reference is sized for inference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloudSizing {
    /// The fewest GPUs that meet the objectives for the demand, per provisioned GPU-hour.
    RightSized,
    /// The network's requests at the network's mean batch, per busy GPU-hour.
    MatchedBatch,
}

/// When right-sized cloud GPUs are provisioned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provisioned {
    /// Each hour of the day, to that hour's demand.
    Hourly,
    /// For the busiest hour of the day, all day.
    Peak,
}

/// How the cloud reference serves the scenario's inference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CloudServing {
    /// Replicas on one cloud node, batched like the network's.
    Batched(Serving),
    /// One request at a time per GPU for the mean drawn service time, s.
    Drawn(f64),
    /// The model does not fit a cloud node.
    Unfit,
}

/// A tier of the cloud market: the same cluster at its price.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tier {
    /// `hyperscaler`, `neocloud` or `marketplace`.
    pub name: &'static str,
    /// Price per GPU-hour, USD.
    pub price_usd_per_gpu_hour: f64,
}

impl Cloud {
    /// USD per million output tokens of requests with these mean prompt and output lengths
    /// on the cloud, with its replicas at mean batch `batch` (the batch the network's
    /// replicas ran at, so both sides are compared at the same concurrency).
    pub fn usd_per_million_tokens(&self, prompt: f64, output: f64, batch: f64) -> Option<f64> {
        let gpu_s = match self.serving {
            CloudServing::Batched(s) => {
                let b = batch.clamp(1.0, s.batch_limit(prompt + output));
                s.gpu_seconds_per_request(prompt, output, b)
            }
            CloudServing::Drawn(mean) => mean,
            CloudServing::Unfit => return None,
        };
        Some(self.price_usd_per_gpu_hour * gpu_s / 3600.0 / output.max(1.0) * 1e6)
    }
}

/// The token economy, validated.
#[derive(Clone, Debug)]
pub struct TokenSpec {
    /// Ticker.
    pub symbol: String,
    /// Emission schedule, epochs, supply.
    pub emission: Emission,
    /// Epoch length.
    pub epoch: SimTime,
    /// Market price: exogenous, or a pool's.
    pub price: PricePath,
    /// Work share, payment design, take rate, staking, lock-up and settlement.
    pub design: Design,
    /// Depth of the outside market an exogenous price is quoted on, USD (None: unlimited).
    pub market_depth_usd: Option<f64>,
    /// How providers value their token rewards in USD.
    pub reward_valuation: RewardValuation,
}

impl TokenSpec {
    /// The market pool, when the price is endogenous.
    pub fn pool(&self) -> Option<&AmmSpec> {
        match &self.price {
            PricePath::Amm(a) => Some(a),
            _ => None,
        }
    }
}

/// Users in one region, validated.
#[derive(Clone, Debug)]
pub struct UserGroup {
    /// Index into [`Scenario::regions`].
    pub region: usize,
    /// Mean request rate, per second.
    pub rate_per_s: f64,
    /// Daily cycle (amplitude, local peak hour).
    pub cycle: Option<(f64, f64)>,
}

/// A validated scenario: every value checked, every default filled.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub(crate) name: String,
    pub(crate) horizon: SimTime,
    pub(crate) warmup: SimTime,
    pub(crate) epoch: SimTime,
    pub(crate) replications: u32,
    pub(crate) seed: u64,
    pub(crate) regions: Vec<Region>,
    /// Round-trip times in seconds, row-major `regions x regions`.
    pub(crate) rtt_s: Vec<f64>,
    pub(crate) bytes_per_token: f64,
    pub(crate) pools: Vec<Pool>,
    pub(crate) users: Vec<UserGroup>,
    pub(crate) prompt: Dist,
    pub(crate) output: Dist,
    pub(crate) service: Option<Dist>,
    pub(crate) routing: Routing,
    pub(crate) dispatch: Dispatch,
    pub(crate) max_queue_per_gpu: Option<u32>,
    pub(crate) max_rtt_s: Option<f64>,
    pub(crate) jobs: Vec<JobClass>,
    pub(crate) job_queue: JobQueue,
    pub(crate) slo_ttft: SimTime,
    pub(crate) slo_tpot: SimTime,
    pub(crate) model: ServedModel,
    pub(crate) cloud: Cloud,
    pub(crate) token: Option<TokenSpec>,
    pub(crate) pricing: Pricing,
    pub(crate) price_unit: PriceUnit,
    pub(crate) supply: Option<SupplyRule>,
    /// How inference is verified.
    pub(crate) verification: Method,
    pub(crate) viability: Viability,
    /// The scenario file with every default filled in, written once validation is done.
    pub(crate) resolved_yaml: String,
    /// SHA-256 of the resolved scenario with `simulation.replications` left out.
    pub(crate) identity: String,
    /// The file's opening comment: the question it asks and its sources.
    pub(crate) question: Option<String>,
}

impl Scenario {
    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Master seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Number of replications.
    pub fn replications(&self) -> u32 {
        self.replications
    }
    /// Simulated horizon.
    pub fn horizon(&self) -> SimTime {
        self.horizon
    }
    /// Warm-up excluded from statistics.
    pub fn warmup(&self) -> SimTime {
        self.warmup
    }
    /// Regions.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }
    /// GPU pools.
    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }
    /// User groups.
    pub fn users(&self) -> &[UserGroup] {
        &self.users
    }
    /// Training and fine-tuning job classes.
    pub fn jobs(&self) -> &[JobClass] {
        &self.jobs
    }
    /// How waiting jobs start.
    pub fn job_queue(&self) -> JobQueue {
        self.job_queue
    }
    /// The inference time-to-first-token objective.
    pub fn slo_ttft(&self) -> SimTime {
        self.slo_ttft
    }
    /// The inference time-per-output-token objective.
    pub fn slo_tpot(&self) -> SimTime {
        self.slo_tpot
    }
    /// The served model.
    pub fn model(&self) -> &ServedModel {
        &self.model
    }
    /// The viability criteria.
    pub fn viability(&self) -> &Viability {
        &self.viability
    }
    /// The token economy, if the scenario has one.
    pub fn token(&self) -> Option<&TokenSpec> {
        self.token.as_ref()
    }
    /// How users' prices are set.
    pub fn pricing(&self) -> &Pricing {
        &self.pricing
    }
    /// What users pay for.
    pub fn price_unit(&self) -> PriceUnit {
        self.price_unit
    }
    /// How providers join and leave, if they do.
    pub fn supply(&self) -> Option<&SupplyRule> {
        self.supply.as_ref()
    }
    /// Executions per request and the share run once more, as the simulation runs them
    /// ((1, 0) for the methods whose cost is accounted rather than simulated).
    pub fn verification(&self) -> (u32, f64) {
        self.verification.reruns()
    }
    /// How inference is verified.
    pub fn verification_method(&self) -> Method {
        self.verification
    }
    /// The cloud reference.
    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }
    /// Which replica of a group a request joins.
    pub fn dispatch(&self) -> Dispatch {
        self.dispatch
    }
    /// The service-time override, if any.
    pub fn service_override(&self) -> Option<&Dist> {
        self.service.as_ref()
    }
    /// Round-trip time between two regions, seconds.
    pub fn rtt_s(&self, a: usize, b: usize) -> f64 {
        self.rtt_s[a * self.regions.len() + b]
    }
    /// The scenario as resolved YAML: every default filled in, so a run can be repeated.
    pub fn resolved_yaml(&self) -> &str {
        &self.resolved_yaml
    }
    /// The SHA-256 (hex) of the resolved scenario without `simulation.replications`:
    /// replication i of two scenarios with the same identity is the same run, so a sweep
    /// knows a variant by it, whatever its position or its replications.
    pub fn identity(&self) -> &str {
        &self.identity
    }
    /// The scenario file's opening comment (its question and sources), without the `#`s;
    /// the resolved YAML keeps no comment, so `run` records it in run.json for reports.
    pub fn question(&self) -> Option<&str> {
        self.question.as_deref()
    }

    /// Pools that can serve users in `region`, nearest first (ties by order in the file).
    pub fn candidate_pools(&self, region: usize) -> Vec<usize> {
        let mut list: Vec<usize> = (0..self.pools.len())
            .filter(|&p| self.pools[p].serving.is_ok())
            .filter(|&p| {
                self.max_rtt_s
                    .is_none_or(|m| self.rtt_s(region, self.pools[p].region) <= m)
            })
            .collect();
        list.sort_by(|&a, &b| {
            let (ra, rb) = (
                self.rtt_s(region, self.pools[a].region),
                self.rtt_s(region, self.pools[b].region),
            );
            ra.total_cmp(&rb).then(a.cmp(&b))
        });
        list
    }
}
