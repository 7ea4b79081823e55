//! Scenario sections of the network's economy: provider costs, endogenous supply, pricing,
//! and the token's staking, lock-up, settlement and verification.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scenario::defaults;

/// A provider group's costs, item by item. Every item is per GPU.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Costs")]
pub struct RawCosts {
    /// Price paid for the GPU (its share of the host), USD, written off straight-line over
    /// `lifetime_years` while it is in the network. Default: 0 for `sharing` providers
    /// (hardware they already own); `datacenter` providers must give it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hardware_usd: Option<f64>,
    /// Years to write the hardware off over. Default 5 (assumed: cloud operators depreciate
    /// servers over 5-6 years in their annual reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_years: Option<f64>,
    /// Power drawn while busy, W. Default: the GPU class's board power (TDP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub busy_power_w: Option<f64>,
    /// Power drawn while online and idle, W. Default: 10% of the board power (assumed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_power_w: Option<f64>,
    /// Facility power per watt of IT power (PUE). Default: datacenter 1.56 (Uptime
    /// Institute global survey 2024), sharing 1.0 (a home PC has no facility).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pue: Option<f64>,
    /// Electricity price, USD per kWh. Default: the region's `electricity_usd_per_kwh`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub electricity_usd_per_kwh: Option<f64>,
    /// Hosting (rack space, cooling contracts, staff), USD per GPU-hour. Default 0.
    pub hosting_usd_per_hour: f64,
    /// Internet access, USD per month per GPU. Default 0.
    pub bandwidth_usd_per_month: f64,
    /// What the owner gives up per hour lent (gaming, wear), USD. Default 0: the card
    /// would otherwise sit idle.
    pub opportunity_usd_per_hour: f64,
}

/// How the price users pay per busy GPU-hour is set.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Pricing")]
pub struct RawPricing {
    /// `fixed`: each group's `price_usd_per_gpu_hour`; `utilisation`: that price times
    /// `(utilisation / target)^elasticity`, clamped to `[min_multiplier, max_multiplier]`,
    /// from the group's utilisation over the last simulation epoch; `asking`: each group's
    /// price is its providers' asking price, and a request goes to the cheapest group that
    /// can take it (ties: the nearest), within `max_rtt_ms`. Default fixed.
    pub policy: PricingPolicy,
    /// Utilisation at which the price is the group's own. Default 0.7 (assumed).
    pub target: f64,
    /// How strongly the price follows utilisation. Default 1 (assumed).
    pub elasticity: f64,
    /// Lowest multiplier. Default 0.5 (assumed).
    pub min_multiplier: f64,
    /// Highest multiplier. Default 2 (assumed).
    pub max_multiplier: f64,
    /// What users pay for: `busy_gpu_hour` (the default: each GPU-hour a GPU serves at least
    /// one request or is reserved by a job, at the group's price, as a compute marketplace
    /// bills usage), `token` (each answer's tokens at the network-wide
    /// `usd_per_million_output_tokens` and `usd_per_million_prompt_tokens`, as an inference
    /// marketplace prices; jobs still pay per busy GPU-hour) or `leased_gpu_hour` (each
    /// GPU-hour the GPUs are lent and online, busy or idle, at the group's price: users lease
    /// the network's GPUs, as a compute marketplace leases them). The multiplier scales all
    /// three; `asking` needs `busy_gpu_hour`.
    pub unit: PriceUnitName,
    /// With `unit: token`: USD per million output tokens (no default: networks differ).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_per_million_output_tokens: Option<f64>,
    /// With `unit: token`: USD per million prompt tokens. Default 0 (only output priced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_per_million_prompt_tokens: Option<f64>,
}

/// What users pay for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceUnitName {
    /// Each busy GPU-hour.
    #[default]
    BusyGpuHour,
    /// Each token answered.
    Token,
    /// Each GPU-hour lent and online.
    LeasedGpuHour,
}

impl Default for RawPricing {
    fn default() -> Self {
        Self {
            policy: PricingPolicy::Fixed,
            target: defaults::PRICING_TARGET,
            elasticity: defaults::PRICING_ELASTICITY,
            min_multiplier: defaults::PRICING_MIN_MULTIPLIER,
            max_multiplier: defaults::PRICING_MAX_MULTIPLIER,
            unit: PriceUnitName::BusyGpuHour,
            usd_per_million_output_tokens: None,
            usd_per_million_prompt_tokens: None,
        }
    }
}

/// A pricing policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PricingPolicy {
    /// The group's price, always.
    #[default]
    Fixed,
    /// The group's price scaled by its utilisation.
    Utilisation,
    /// Providers' asking prices, cheapest first.
    Asking,
}

/// Staking: tokens each GPU must have staked to serve, and what is slashed. Stakes settle at
/// token epochs: GPUs that joined buy theirs at the market, GPUs that left start unbonding.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Staking")]
pub struct RawStaking {
    /// Tokens staked per GPU. The GPUs in the network at the start stake from the initial
    /// supply. No default: networks differ.
    pub per_gpu: f64,
    /// Hours a stake stays locked after its GPU leaves before it can be sold. Default 504
    /// (21 days: the Cosmos SDK's unbonding period, which Akash uses).
    #[serde(default = "default_unbonding")]
    pub unbonding_h: f64,
    /// Share of a GPU's stake burned when the GPU fails. Default 0.
    #[serde(default)]
    pub slash_per_failure: f64,
    /// Tokens burned from a group's stake per request it answered outside the latency
    /// objectives. Default 0.
    #[serde(default)]
    pub slash_per_slo_miss: f64,
    /// Return per year that the USD held in stakes forgoes, charged on the stakes' market
    /// value while they are held: a cost in providers' returns and in the supply rule's
    /// join and leave decisions. Default 0.045 (assumed: about the US one-year Treasury
    /// yield through 2025, the risk-free return the money could earn instead); 0 treats
    /// stakes as free.
    #[serde(default = "default_cost_of_capital")]
    pub cost_of_capital_per_year: f64,
}

fn default_unbonding() -> f64 {
    defaults::UNBONDING_H
}

fn default_cost_of_capital() -> f64 {
    defaults::STAKE_COST_OF_CAPITAL_PER_YEAR
}

/// Reward lock-up: a share of every reward is locked and released linearly.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Lockup")]
pub struct RawLockup {
    /// Share of each reward locked. Filecoin locks 0.75 (FIP-0004).
    pub share: f64,
    /// Hours over which a locked reward is released linearly. Filecoin: 4320 (180 days).
    pub release_h: f64,
}

/// The chain that settles users' payments, and how payments are batched.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Settlement")]
pub struct RawSettlement {
    /// The chain's fees: `{solana: {sol_usd}}`, `{ethereum: {gas_price_gwei, eth_usd}}`,
    /// `{l2: {fee_per_tx_usd}}`, or `{custom: {fee_per_tx_usd, fee_per_payment_usd}}`.
    pub chain: RawChain,
    /// Payments (one per request answered, one per job) carried by one transaction.
    /// Default 1: every payment its own transaction.
    #[serde(default = "default_settlement_batch")]
    pub batch: u32,
}

fn default_settlement_batch() -> u32 {
    defaults::SETTLEMENT_BATCH
}

/// A chain's fee model.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "SettlementChain")]
pub enum RawChain {
    /// Solana: 5,000 lamports per signature, one signature, no priority fee.
    Solana {
        /// SOL price, USD.
        sol_usd: f64,
    },
    /// Ethereum L1: a 21,000-gas transfer per transaction.
    Ethereum {
        /// Gas price, gwei.
        gas_price_gwei: f64,
        /// ETH price, USD.
        eth_usd: f64,
    },
    /// An Ethereum layer 2 at an assumed fee per transaction.
    L2 {
        /// Fee per transaction, USD.
        fee_per_tx_usd: f64,
    },
    /// Fees given directly.
    Custom {
        /// Fee per transaction, USD.
        fee_per_tx_usd: f64,
        /// Fee per payment in a transaction, USD. Default 0.
        #[serde(default)]
        fee_per_payment_usd: f64,
    },
}

/// Verifying inference: by running it again elsewhere (`reexecute`, `spot_check`), or by
/// proofs and challenges whose cost is accounted beside the simulation (`fingerprint`,
/// `optimistic`, `zk`). The cost of each method is in the viability table and in the
/// providers' returns; the README gives the formulas.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Verification")]
pub struct RawVerification {
    /// How results are verified. `reexecute` (the default): each request runs `redundancy`
    /// times on different groups, and a share `spot_check_rate` once more. `spot_check`: a
    /// share `spot_check_rate` (which must be given) runs again on another group.
    /// `fingerprint`: proof of inference in the TOPLOC manner (a validator's cost as a
    /// fraction of the work, proof bytes settled on chain). `optimistic`: opML's challenge
    /// window, bond and detection probability. `zk`: zero-knowledge proofs (proving cost as
    /// a multiple of the work, proof latency and bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<RawVerificationMethod>,
    /// Times each request is executed (1: no redundancy; 2: every request twice on
    /// different groups), under `reexecute`. Default 1.
    pub redundancy: u32,
    /// Share of requests executed once more by another group as a spot check, under
    /// `reexecute` and `spot_check`. Default 0.
    pub spot_check_rate: f64,
    /// `fingerprint`: the validator's cost as a fraction of the work. Default 0.01: TOPLOC's
    /// validation is up to ~100x faster than the inference (Ong et al., ICML 2025).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validator_cost_fraction: Option<f64>,
    /// `fingerprint`: proof bytes per output token. Default 8.0625: TOPLOC's 258 bytes per
    /// 32 tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof_bytes_per_token: Option<f64>,
    /// `optimistic`: hours a result can be challenged before it is final. Default 168 (7
    /// days, the optimistic rollups' fault-proof window, which opML follows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge_window_h: Option<f64>,
    /// `optimistic`: share of results challengers re-execute, the probability that a false
    /// result is detected (and its bond slashed), in (0, 1]. Default 1: opML's assumption
    /// of one honest verifier checking every result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection_probability: Option<f64>,
    /// `optimistic`: the bond put up with each result, as a multiple of its fee, locked for
    /// the challenge window. Default 1 / detection_probability: the smallest bond that makes
    /// cheating lose money.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bond_multiple: Option<f64>,
    /// `optimistic`: return per year the bonded money forgoes. Default 0.045, as for stakes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_of_capital_per_year: Option<f64>,
    /// `optimistic`: bytes committed on chain per result. Default 32 (one hash, assumed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commitment_bytes: Option<f64>,
    /// `zk`: proving cost as a multiple of the work. Default ~5,270: zkLLM's 13B proof (under
    /// 15 minutes on an A100) against the forward pass at the A100's peak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proving_cost_multiple: Option<f64>,
    /// `zk`: seconds until an answer's proof exists. Default 900 (zkLLM, 13B).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof_latency_s: Option<f64>,
    /// `zk`: proof bytes per answer. Default 200,000 (zkLLM: under 200 kB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof_bytes: Option<f64>,
    /// `fingerprint`, `optimistic`, `zk`: how the proofs (or commitments) reach the chain.
    /// `root` (default): one Merkle root of all of them every `root_interval_h`, one
    /// transaction of `root_usd` each, while the validators keep the proofs and check a
    /// disputed answer's against the root (as rollups post state roots, not transactions);
    /// `proofs`: every proof's bytes at `chain_usd_per_kb`, the costlier design.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_chain: Option<RawOnChain>,
    /// `on_chain: root`: hours between roots. Default 1: OP Mainnet's proposer posts an
    /// output root every 1,800 two-second L2 blocks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_interval_h: Option<f64>,
    /// `on_chain: root`: USD per root settled. Default 0.1463: an Ethereum transaction
    /// (21,000 gas) carrying 32 bytes of calldata (16 gas a byte), at 2 gwei and $3,400 per
    /// ETH.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_usd: Option<f64>,
    /// `on_chain: proofs`: USD per kB (1,000 bytes) settled on chain. Default 0.1088:
    /// Ethereum calldata (16 gas a byte) at 2 gwei and $3,400 per ETH.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_usd_per_kb: Option<f64>,
}

/// How verification's proofs reach the chain (see [`RawVerification::on_chain`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawOnChain {
    /// One Merkle root of them every `root_interval_h`.
    Root,
    /// Every proof's bytes.
    Proofs,
}

/// How inference is verified (see [`RawVerification::method`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawVerificationMethod {
    /// Requests run again on other groups (`redundancy`, `spot_check_rate`).
    #[default]
    Reexecute,
    /// A sampled share of requests run again.
    SpotCheck,
    /// Activation fingerprints checked by a validator (TOPLOC).
    Fingerprint,
    /// A challenge window with bonds (opML).
    Optimistic,
    /// Zero-knowledge proofs (zkLLM).
    Zk,
}

impl Default for RawVerification {
    fn default() -> Self {
        Self {
            method: None,
            redundancy: defaults::REDUNDANCY,
            spot_check_rate: defaults::SPOT_CHECK_RATE,
            validator_cost_fraction: None,
            proof_bytes_per_token: None,
            challenge_window_h: None,
            detection_probability: None,
            bond_multiple: None,
            cost_of_capital_per_year: None,
            commitment_bytes: None,
            proving_cost_multiple: None,
            proof_latency_s: None,
            proof_bytes: None,
            on_chain: None,
            root_interval_h: None,
            root_usd: None,
            chain_usd_per_kb: None,
        }
    }
}
