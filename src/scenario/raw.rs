//! The scenario file as written: serde types that mirror the YAML, reject unknown fields and
//! carry the defaults. The JSON Schema (`depinsim schema`) is generated from these types, so
//! the doc comments here are what editors show. Unknown fields are collected by the loader
//! (all of them, with their lines) rather than refused by serde at the first one; the schema
//! still forbids them. Nothing here is validated yet: see
//! `validate.rs` and `validate/` for the checks that turn this into a [`crate::scenario::Scenario`].

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::defaults;
use crate::economics::emission::Emission;
use crate::economics::ledger::Payment;
use crate::economics::price::PricePathSpec;
use crate::economics::provider::{ProviderKind, RewardValuation, SupplyRule};

mod economy;
mod inference;
mod training;
pub use economy::{
    PriceUnitName, PricingPolicy, RawChain, RawCosts, RawLockup, RawOnChain, RawPricing,
    RawSettlement, RawStaking, RawVerification, RawVerificationMethod,
};
pub use inference::{
    Dispatch, RawBatching, RawDailyCycle, RawInference, RawModel, RawPipeline, RawUserGroup,
    Routing, TensorParallel, TensorParallelRule,
};
pub(crate) use training::default_job_queue;
pub use training::{
    CloudSizing, DataParallel, JobKind, JobQueue, Placement, Provisioned, RawCloud, RawJobClass,
    RawLocalSgd, RawTiers, Sync,
};

/// A depinsim scenario: regions and their network, GPU providers, and the demand they serve.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Scenario")]
pub struct RawScenario {
    /// Short name of the scenario (defaults to the file name without extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What question the scenario asks.
    #[serde(default)]
    pub description: String,
    /// Horizon, warm-up, epochs, replications and seed.
    #[serde(default)]
    pub simulation: RawSimulation,
    /// Regions where users and providers sit (at least one).
    pub regions: Vec<RawRegion>,
    /// Round-trip times between regions and payload size.
    #[serde(default)]
    pub network: RawNetwork,
    /// Groups of identical GPUs offered by providers (at least one).
    pub providers: Vec<RawProviderGroup>,
    /// Inference demand: the model served, users, request sizes, routing.
    pub inference: RawInference,
    /// Efficiency factors that turn datasheet peaks into achievable rates.
    #[serde(default)]
    pub calibration: RawCalibration,
    /// Training and fine-tuning job classes (none by default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub training: Vec<RawJobClass>,
    /// How waiting training and fine-tuning jobs start when GPUs free up: `fcfs` (strictly
    /// in arrival order) or `backfill` (a later job may start first when that does not delay
    /// the head of the line). Default backfill, Slurm's default scheduler plugin
    /// (`sched/backfill`); filled in only when the scenario has job classes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(default = "training::default_job_queue")]
    pub job_queue: Option<JobQueue>,
    /// The centralized cloud that every workload is compared with.
    #[serde(default)]
    pub cloud: RawCloud,
    /// What counts as viable in `depinsim viability`.
    #[serde(default)]
    pub viability: RawViability,
    /// The network's token (absent: no token, providers earn fees only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<RawToken>,
    /// How users' prices are set: fixed, following utilisation, or providers' asking prices
    /// matched cheapest first. Default fixed.
    #[serde(default)]
    pub pricing: RawPricing,
    /// Providers joining and leaving on their returns (absent: every group keeps its
    /// `count` GPUs, less failures that are departures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supply: Option<SupplyRule>,
}

/// The network's token: its emission, its market price, and how providers are paid.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Token")]
pub struct RawToken {
    /// Ticker, for reports. Default TOKEN.
    #[serde(default = "default_symbol")]
    pub symbol: String,
    /// Supply at time 0, epoch length (hourly 1, daily 24, weekly 168), schedule of tokens
    /// minted per epoch, and the maximum supply minting never passes.
    pub emission: Emission,
    /// Market price in USD: `{constant: {usd: 1}}`, a geometric Brownian motion
    /// `{gbm: {initial_usd, drift_per_year, volatility_per_year}}`, or `{csv: {path}}` (lines
    /// `hour,usd`, relative to the scenario file).
    pub price: PricePathSpec,
    /// Depth of the outside market an exogenous price (`constant`, `gbm`, `csv`) is quoted
    /// on, USD: the network's purchases (burns, buy-backs, stakes) move the price as in a
    /// constant-product pool that holds this many USD D, and D / price tokens, at the path's
    /// price when the epoch settles. A purchase of X USD fills at price x (1 + X / D) on
    /// average and leaves the price at price x (1 + X / D)^2 for the epoch's later trades;
    /// the next epoch opens at the path's price again. D is about 100 times the "+2% depth"
    /// exchanges quote (the USD of asks within 2% above the price: (1 + X / D)^2 = 1.02 at
    /// X = 0.00995 D). Absent: unlimited, every purchase fills at the path's price. Not with
    /// `amm`, a pool with its own depth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market_depth_usd: Option<f64>,
    /// How providers value their token rewards in USD, in their returns and in the supply
    /// rule's reviews: `spot`, each epoch's rewards at the market price when they are paid,
    /// before the epoch's trades; `sales`, as many of an epoch's rewards as providers sold
    /// that epoch (`amm`'s `provider_sell_share`) at the average price their sales fetched,
    /// the rest at the price after the epoch's trades (with an exogenous price providers do
    /// not sell: all of it); `final`, every reward at the market price at the end of the span
    /// judged (the last settled epoch for returns, the review for a review). Default spot,
    /// as income received in a token is valued at its fair market value when received (US
    /// IRS Notice 2014-21).
    #[serde(default = "default_reward_valuation")]
    pub reward_valuation: RewardValuation,
    /// Share of each epoch's emission paid for work (busy GPU-hours: serving or lent to
    /// jobs), pro rata; the rest pays for availability (online GPU-hours), pro rata. No
    /// default: designs differ (io.net pays block rewards for uptime, Render for work).
    pub work_share: f64,
    /// How users' fees reach providers: `direct`, `burn_and_mint` (fees buy tokens that are
    /// burned; providers earn emissions), `buyback_and_burn` (the take buys tokens back and
    /// burns them). Default direct.
    #[serde(default)]
    pub payment: Payment,
    /// Share of every fee kept by the network (treasury, or buy-back in buyback_and_burn).
    /// Default 0.
    #[serde(default)]
    pub take_rate: f64,
    /// Stakes required to serve, and slashing (absent: no staking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staking: Option<RawStaking>,
    /// A share of every reward locked and released linearly (absent: rewards are free at
    /// once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward_lockup: Option<RawLockup>,
    /// The chain that settles users' payments (absent: settlement costs nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<RawSettlement>,
    /// Redundant execution and spot checks: verification runs are real requests on other
    /// groups, paid by users at those groups' prices.
    #[serde(default)]
    pub verification: RawVerification,
}

fn default_symbol() -> String {
    defaults::TOKEN_SYMBOL.into()
}

fn default_reward_valuation() -> RewardValuation {
    defaults::REWARD_VALUATION
}

/// The analyst's criteria for calling a workload viable on the network.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(rename = "Viability")]
#[schemars(deny_unknown_fields)]
pub struct RawViability {
    /// Highest acceptable cost per unit of work on the network / on the cloud. Default 1: no
    /// dearer than the cloud.
    pub max_cost_ratio: f64,
    /// Lowest acceptable share of inference requests that meet the TTFT objective. Default
    /// 0.95, since objectives are usually set at the 95th percentile.
    pub min_slo_attainment: f64,
}

impl Default for RawViability {
    fn default() -> Self {
        Self {
            max_cost_ratio: defaults::MAX_COST_RATIO,
            min_slo_attainment: defaults::MIN_SLO_ATTAINMENT,
        }
    }
}

/// How long to simulate and how many times.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Simulation")]
pub struct RawSimulation {
    /// Simulated time, hours (measurement runs from warmup_h to horizon_h).
    pub horizon_h: f64,
    /// Warm-up discarded from every statistic, hours (lets queues reach steady state).
    pub warmup_h: f64,
    /// Length of one row of the per-epoch time series, hours.
    pub epoch_h: f64,
    /// Independent replications (Monte Carlo runs); confidence intervals need at least 2.
    pub replications: u32,
    /// Master seed; each replication's seed is derived from it and the replication index.
    pub seed: u64,
}

impl Default for RawSimulation {
    fn default() -> Self {
        Self {
            horizon_h: defaults::HORIZON_H,
            warmup_h: defaults::WARMUP_H,
            epoch_h: defaults::EPOCH_H,
            replications: defaults::REPLICATIONS,
            seed: defaults::SEED,
        }
    }
}

/// A region: where users issue requests and providers host GPUs.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Region")]
pub struct RawRegion {
    /// Unique name, used by the RTT matrix, providers and users.
    pub name: String,
    /// Offset of local time from UTC, hours (drives the daily demand cycle).
    #[serde(default)]
    pub utc_offset_h: f64,
    /// Access bandwidth of hosts in the region, Mbit/s. Default 1000: consumer GPU hosts on
    /// marketplaces such as Vast.ai list about 1 Gbit/s.
    #[serde(default = "default_bandwidth")]
    pub bandwidth_mbps: f64,
    /// Electricity price for providers in the region, USD per kWh. Default 0.13: the US
    /// average retail price across sectors in 2024 (EIA, Electric Power Monthly).
    #[serde(default = "default_electricity")]
    pub electricity_usd_per_kwh: f64,
}

fn default_bandwidth() -> f64 {
    defaults::BANDWIDTH_MBPS
}

fn default_electricity() -> f64 {
    defaults::ELECTRICITY_USD_PER_KWH
}

/// The network between regions.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Network")]
pub struct RawNetwork {
    /// Round-trip time inside one region, ms. Default 1.0: inside one availability zone or
    /// between zones, round trips are 0.25-3.4 ms (AWS and IBM Cloud published latencies).
    pub intra_region_rtt_ms: f64,
    /// Round-trip times between regions, ms: `rtt_ms: {us-east: {eu-west: 76}}`. One direction
    /// is enough (the matrix is symmetric); every pair of distinct regions needs a value.
    pub rtt_ms: BTreeMap<String, BTreeMap<String, f64>>,
    /// Bytes on the wire per token of prompt or output. Default 4: about 4 characters of
    /// UTF-8 text per token (OpenAI's tokenizer rule of thumb).
    pub bytes_per_token: f64,
}

impl Default for RawNetwork {
    fn default() -> Self {
        Self {
            intra_region_rtt_ms: defaults::INTRA_REGION_RTT_MS,
            rtt_ms: BTreeMap::new(),
            bytes_per_token: defaults::BYTES_PER_TOKEN,
        }
    }
}

/// A group of identical GPUs in one region, serving the model in replicas of one or more GPUs
/// of a host, and lending GPUs to training and fine-tuning jobs.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "ProviderGroup")]
pub struct RawProviderGroup {
    /// Unique name of the group.
    pub name: String,
    /// Region the GPUs sit in.
    pub region: String,
    /// GPU class from the built-in datasheet table (`depinsim schema` lists them): h100_sxm,
    /// h100_pcie, h200_sxm, a100_80gb_sxm, l40s, rtx_4090, rtx_3090, mi300x.
    pub gpu: String,
    /// GPUs in the group at the start.
    pub count: u32,
    /// Most GPUs the group can grow to when providing pays (idle cards whose owners would
    /// lend them, racks that could be rented out); only a `supply` section makes GPUs join
    /// and leave. Default: count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<u32>,
    /// `sharing` (owners lend hardware they already have, such as a gaming card) or
    /// `datacenter` (hardware bought to rent out). Default: datacenter GPU classes
    /// datacenter, consumer cards sharing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ProviderKind>,
    /// What one GPU costs its provider per hour online, USD, all in (power, hardware,
    /// hosting), all of it avoidable by leaving. Give this or `costs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly_cost_usd: Option<f64>,
    /// Costs item by item: hardware written off, power at the electricity price, hosting,
    /// bandwidth, the owner's opportunity cost. Give this or `hourly_cost_usd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub costs: Option<RawCosts>,
    /// What users pay per busy GPU-hour, USD. Defaults to the class's marketplace reference
    /// price (Vast.ai medians, Akash list prices); classes without one need it set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_usd_per_gpu_hour: Option<f64>,
    /// Mean time between failures of one GPU, hours. Default: datacenter classes 50,700 h
    /// (Llama 3: 419 unexpected interruptions over 16,384 H100s in 54 days); consumer cards
    /// 500 h (assumed: hosts that owners reboot, game on and switch off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtbf_h: Option<f64>,
    /// Mean time a failed GPU stays offline, hours (exponential). Default: datacenter 4 h,
    /// consumer cards 1 h (both assumed: a node swap by on-site staff; a host restarted by
    /// its owner). A request on a GPU that fails is served again from the head of the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair_h: Option<f64>,
    /// Weibull shape of the time between failures of one GPU (its mean stays mtbf_h).
    /// Default 1: exponential, as a failure rate alone implies. HPC systems' times between
    /// failures fit Weibull shapes of 0.7-0.8, a hazard that falls with time since the last
    /// repair (Schroeder and Gibson, DSN 2006).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_shape: Option<f64>,
    /// Probability that a failed GPU leaves the network for good instead of being repaired.
    /// Default 0 (assumed: every failure is repaired; set it to model hosts that drop out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure_probability: Option<f64>,
    /// Hours of the local day when the owners lend their GPUs, `[from, to]` (may wrap past
    /// midnight, e.g. `[22, 18]`); outside them the GPUs are their owners' (a gaming card in
    /// the evening) and serve nothing: requests on them or queued for them are dropped, and
    /// jobs are never placed on such a group. Default: always lent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_local_h: Option<[f64; 2]>,
    /// Bandwidth between the group's own GPUs for gradient exchange, Gbit/s per GPU. Default:
    /// datacenter classes 400 (InfiniBand per GPU in Llama 3's cluster); consumer cards the
    /// region's bandwidth (no NVLink; traffic leaves through the host's network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interconnect_gbps: Option<f64>,
    /// One-way latency between the group's own GPUs for gradient exchange, microseconds.
    /// Default: datacenter classes 5 (an InfiniBand-class fabric, as the cloud reference's
    /// `latency_us`); consumer cards half their region's own round trip (traffic leaves
    /// through the host's network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interconnect_latency_us: Option<f64>,
    /// GPUs per host: a model replica spans GPUs of one host only (tensor parallel). Default:
    /// datacenter classes 8 (HGX/DGX and cloud 8-GPU nodes), consumer cards 1 (one card per
    /// gaming PC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus_per_host: Option<u32>,
    /// Bandwidth of one GPU's link to the other GPUs of its host, one direction, Gbit/s: what
    /// a tensor-parallel replica's all-reduces cross (two a layer, of the step's
    /// activations). Default by GPU class: half the datasheet's bidirectional NVLink (H100
    /// and H200 SXM 3,600, A100 SXM 2,400) or Infinity Fabric (MI300X 3,584) figure, PCIe x16
    /// for cards without one (H100 PCIe 512, L40S, RTX 4090 and 3090 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_link_gbps: Option<f64>,
    /// Latency of one step of a ring all-reduce between the GPUs of one host, microseconds.
    /// Default 1 (assumed: NVLink and PCIe peer-to-peer transfers take about a microsecond).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_link_latency_us: Option<f64>,
    /// Further regions the group's hosts sit in, beside `region`, for a swarm spread across
    /// the world (as Petals' volunteers are). A pipeline replica's stages then take the
    /// regions in turn (`region`, these in order, then `region` again), and each hop between
    /// stages in two regions costs half their round trip (`network.rtt_ms`) one way instead
    /// of `interconnect_latency_us`; the token returns to the client, in `region`, from the
    /// last stage's region. Without a pipeline (`inference.pipeline`) it has no effect, and it
    /// is refused. For everything else (prices, lending hours, routing, training) the hosts
    /// count as in `region`; to train across regions, list a group per region. With spread
    /// regions the default `interconnect_gbps` of consumer cards is the slowest region's
    /// bandwidth. Default: none (every host in `region`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spread_regions: Vec<String>,
}

/// Efficiency factors: achieved / datasheet peak.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Calibration")]
pub struct RawCalibration {
    /// Achieved share of the datasheet BF16 FLOP/s. Default 0.80: a BF16 8192^3 matrix product
    /// reached ~798 of the datasheet's 989 TFLOP/s on an H100 SXM 80GB (measured with PyTorch).
    pub compute_efficiency: f64,
    /// Achieved share of the datasheet memory bandwidth. Default 0.90: a device-to-device copy
    /// reached ~3.0 of the datasheet's 3.35 TB/s on an H100 SXM 80GB (measured with PyTorch).
    /// Both defaults were measured on that class only: on every other class they are an
    /// assumption, and run.json's `gpu_profiles` marks them `assumed` there.
    pub memory_efficiency: f64,
    /// Calibration profiles by GPU class, files relative to the scenario:
    /// `{h100_sxm: profiles/h100.yaml}` (`depinsim calibrate` writes them). A class with a
    /// profile runs at its measured rates (prefill at the token budget's matrix size, decode
    /// by batch, training at large sizes) instead of its datasheet peaks times the two
    /// factors above. A profile of class `cpu` may stand for any class. The cloud
    /// reference's GPUs of a class with a profile run at the same rates. Default: none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: BTreeMap<String, String>,
    /// Whether a class without a profile here uses the best profile bundled with depinsim
    /// (measured on a device of the class, else derived from one of its family; see
    /// `kernels/profiles/`), as run.json's `gpu_profiles` then says. Default true: a
    /// measurement beats the efficiency factors; false runs every class without a profile at
    /// its datasheet peaks times the factors.
    pub bundled_profiles: bool,
}

impl Default for RawCalibration {
    fn default() -> Self {
        Self {
            compute_efficiency: defaults::COMPUTE_EFFICIENCY,
            memory_efficiency: defaults::MEMORY_EFFICIENCY,
            profiles: BTreeMap::new(),
            bundled_profiles: defaults::BUNDLED_PROFILES,
        }
    }
}
