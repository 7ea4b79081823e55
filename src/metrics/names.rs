//! Every metric's name, defined once: the simulation writes summaries under these names and
//! the viability table, the command line's headline, reports and checks read them back, so
//! a renamed metric is a compile error, never a silent "no data".
//!
//! Names are `<scope>.<quantity>_<unit>.<statistic>`: the scope is `inference`, `gpu`,
//! `provider`, `token`, or a named one (`region.<name>`, `pool.<name>`, `job.<class>`,
//! `provider.<kind>`); the statistic is `count`, `mean`, `total`, `final`, `max` or a
//! percentile (`p10` ... `p99`). Fixed names are constants with the whole name; the
//! quantities of named scopes are constants without their scope, joined by the builders
//! ([`region`], [`pool()`], [`job()`], [`provider_kind`]).

/// A latency family (`ttft_s`, say) and its statistics: `mean`, `p50`, `p95`, `p99`.
pub const LATENCY_QUANTILES: [(f64, &str); 3] = [(0.5, "p50"), (0.95, "p95"), (0.99, "p99")];

/// `<family>.<statistic>`, e.g. `latency(users::TTFT_S, "p95")` = `ttft_s.p95`.
pub fn latency(family: &str, statistic: &str) -> String {
    format!("{family}.{statistic}")
}

/// What is measured for a group of users, under the scope `inference` (all users) or
/// [`region`] (the users of one region).
pub mod users {
    /// Requests issued.
    pub const ARRIVED_REQUESTS: &str = "arrived_requests.count";
    /// Requests answered.
    pub const COMPLETED_REQUESTS: &str = "completed_requests.count";
    /// Requests turned away.
    pub const DROPPED_REQUESTS: &str = "dropped_requests.count";
    /// Share of finished requests meeting both latency objectives.
    pub const SLO_ATTAINMENT: &str = "slo_attainment_ratio.mean";
    /// Share meeting the time-to-first-token objective.
    pub const TTFT_ATTAINMENT: &str = "ttft_attainment_ratio.mean";
    /// Share meeting the time-per-output-token objective.
    pub const TPOT_ATTAINMENT: &str = "tpot_attainment_ratio.mean";
    /// Time to first token, s (a latency family).
    pub const TTFT_S: &str = "ttft_s";
    /// Time per output token after the first, s (a latency family).
    pub const TPOT_S: &str = "tpot_s";
    /// End-to-end latency, s (a latency family).
    pub const E2E_S: &str = "e2e_s";
}

/// The scope of all users.
pub const INFERENCE: &str = "inference";

/// `inference.<quantity>` for a quantity of [`users`] (and latency statistics).
pub fn inference(quantity: &str) -> String {
    format!("{INFERENCE}.{quantity}")
}

/// `region.<name>.<quantity>` for a quantity of [`users`].
pub fn region(name: &str, quantity: &str) -> String {
    format!("region.{name}.{quantity}")
}

/// Inference over all users.
pub mod inference {
    /// Requests issued.
    pub const ARRIVED_REQUESTS: &str = "inference.arrived_requests.count";
    /// Requests answered.
    pub const COMPLETED_REQUESTS: &str = "inference.completed_requests.count";
    /// Requests turned away.
    pub const DROPPED_REQUESTS: &str = "inference.dropped_requests.count";
    /// Share of finished requests meeting both latency objectives.
    pub const SLO_ATTAINMENT: &str = "inference.slo_attainment_ratio.mean";
    /// Share meeting the time-to-first-token objective.
    pub const TTFT_ATTAINMENT: &str = "inference.ttft_attainment_ratio.mean";
    /// Share meeting the time-per-output-token objective.
    pub const TPOT_ATTAINMENT: &str = "inference.tpot_attainment_ratio.mean";
    /// Mean time to first token, s.
    pub const TTFT_MEAN: &str = "inference.ttft_s.mean";
    /// 50th percentile of the time to first token, s.
    pub const TTFT_P50: &str = "inference.ttft_s.p50";
    /// 95th percentile of the time to first token, s.
    pub const TTFT_P95: &str = "inference.ttft_s.p95";
    /// 99th percentile of the time to first token, s.
    pub const TTFT_P99: &str = "inference.ttft_s.p99";
    /// Mean time per output token, s.
    pub const TPOT_MEAN: &str = "inference.tpot_s.mean";
    /// 50th percentile of the time per output token, s.
    pub const TPOT_P50: &str = "inference.tpot_s.p50";
    /// 95th percentile of the time per output token, s.
    pub const TPOT_P95: &str = "inference.tpot_s.p95";
    /// 99th percentile of the time per output token, s.
    pub const TPOT_P99: &str = "inference.tpot_s.p99";
    /// Mean end-to-end latency, s.
    pub const E2E_MEAN: &str = "inference.e2e_s.mean";
    /// 50th percentile of the end-to-end latency, s.
    pub const E2E_P50: &str = "inference.e2e_s.p50";
    /// 95th percentile of the end-to-end latency, s.
    pub const E2E_P95: &str = "inference.e2e_s.p95";
    /// 99th percentile of the end-to-end latency, s.
    pub const E2E_P99: &str = "inference.e2e_s.p99";
    /// Latencies beyond the histograms' range, recorded at its top.
    pub const CLAMPED_LATENCIES: &str = "inference.clamped_latencies.count";
    /// Requests refused because their prompt does not fit the context (in the drops).
    pub const TOO_LONG_REQUESTS: &str = "inference.too_long_requests.count";
    /// Requests still queued or in service at the horizon.
    pub const IN_FLIGHT_REQUESTS: &str = "inference.in_flight_requests.count";
    /// Dropped / arrived.
    pub const DROP_RATIO: &str = "inference.drop_ratio.mean";
    /// Requests whose GPU failed while serving them (served again).
    pub const PREEMPTED_REQUESTS: &str = "inference.preempted_requests.count";
    /// Requests dropped because the owners took their GPUs back (in the drops).
    pub const WITHDRAWN_REQUESTS: &str = "inference.withdrawn_requests.count";
    /// Completions per second.
    pub const THROUGHPUT_RPS: &str = "inference.throughput_rps.mean";
    /// Mean queueing wait, s.
    pub const WAIT_S: &str = "inference.wait_s.mean";
    /// Share of answered requests that waited at all.
    pub const WAITED_RATIO: &str = "inference.waited_ratio.mean";
    /// Mean time in a replica, s.
    pub const SERVICE_S: &str = "inference.service_s.mean";
    /// Output tokens of the measured requests.
    pub const OUTPUT_TOKENS: &str = "inference.output_tokens.count";
    /// Output tokens of the requests answered in the window (after the warm-up), whenever
    /// they were issued: over the window's length, the steady-state throughput.
    pub const WINDOW_OUTPUT_TOKENS: &str = "inference.window_output_tokens.count";
    /// Time-average requests queued or in service (Little's L).
    pub const IN_SYSTEM_REQUESTS: &str = "inference.in_system_requests.mean";
    /// Requests decoding per active replica.
    pub const BATCH_MEAN: &str = "inference.batch_mean.mean";
    /// Verification runs that found no other group with room.
    pub const VERIFICATION_SKIPPED: &str = "inference.verification_skipped.count";
    /// Verifiers' or provers' GPU time for the window's answers at the network's price, USD
    /// (`fingerprint`, `optimistic`, `zk`; see `economics::verification`).
    pub const VERIFICATION_GPU_USD: &str = "inference.verification_gpu_usd.total";
    /// Proofs and commitments of the window's answers settled on chain, USD.
    pub const VERIFICATION_CHAIN_FEES_USD: &str = "inference.verification_chain_fees_usd.total";
    /// Return forgone on bonds locked for the challenge window, USD (`optimistic`).
    pub const VERIFICATION_CAPITAL_USD: &str = "inference.verification_capital_usd.total";
    /// Verification's GPU time, chain fees and capital per million output tokens, USD.
    pub const VERIFICATION_USD_PER_MILLION_TOKENS: &str =
        "inference.verification_usd_per_million_tokens.mean";
    /// Time from an answer until it counts as verified, s.
    pub const VERIFICATION_LATENCY_S: &str = "inference.verification_latency_s.mean";
    /// What users paid plus what verifying the answers cost, per million output tokens, USD:
    /// the network's cost of verified work (the cost ratios use it when it is given).
    pub const VERIFIED_PRICE_USD_PER_MILLION_TOKENS: &str =
        "inference.verified_price_usd_per_million_tokens.mean";
    /// Prompt tokens of the measured requests answered, as served.
    pub const PROMPT_TOKENS: &str = "inference.prompt_tokens.count";
    /// The same demand on the cloud reference, sized as `cloud.sizing` says, USD per million
    /// output tokens.
    pub const CLOUD_USD_PER_MILLION_TOKENS: &str = "inference.cloud_usd_per_million_tokens.mean";
    /// The same demand on the fewest cloud GPUs that meet the objectives, USD per million
    /// output tokens (provisioned GPU-hours).
    pub const CLOUD_RIGHT_SIZED_USD_PER_MILLION_TOKENS: &str =
        "inference.cloud_right_sized_usd_per_million_tokens.mean";
    /// The same requests on cloud replicas at the network's mean batch, USD per million output
    /// tokens (busy GPU-hours).
    pub const CLOUD_MATCHED_BATCH_USD_PER_MILLION_TOKENS: &str =
        "inference.cloud_matched_batch_usd_per_million_tokens.mean";
    /// Right-sized cloud GPUs provisioned, averaged over the measurement window.
    pub const CLOUD_GPUS: &str = "inference.cloud_gpus.mean";
    /// The batch right-sized cloud replicas run at: the fastest that meets the objectives.
    pub const CLOUD_BATCH: &str = "inference.cloud_batch.mean";
    /// Regions the right-sized cloud has fleets in: one serving every user region, or one
    /// near each, whichever costs less while meeting the objectives.
    pub const CLOUD_REGIONS: &str = "inference.cloud_regions.mean";
    /// 1 when a right-sized cloud replica meets both objectives at all (0: even a lone
    /// request misses one, and the cloud is sized at batch 1 regardless).
    pub const CLOUD_MEETS_OBJECTIVES: &str = "inference.cloud_meets_objectives_ratio.mean";
    /// What users paid for serving, USD per million output tokens.
    pub const PRICE_USD_PER_MILLION_TOKENS: &str = "inference.price_usd_per_million_tokens.mean";
    /// Network price / cloud cost per output token, the cloud sized as `cloud.sizing` says.
    pub const COST_VS_CLOUD: &str = "inference.cost_vs_cloud_ratio.mean";
    /// Network price / right-sized cloud cost per output token.
    pub const COST_VS_CLOUD_RIGHT_SIZED: &str = "inference.cost_vs_cloud_right_sized_ratio.mean";
    /// Network price / matched-batch cloud cost per output token.
    pub const COST_VS_CLOUD_MATCHED_BATCH: &str =
        "inference.cost_vs_cloud_matched_batch_ratio.mean";
}

/// GPUs of the whole network.
pub mod gpu {
    /// Busy GPU-time / GPU-time in the network.
    pub const UTILISATION: &str = "gpu.utilisation_ratio.mean";
}

/// `pool.<name>.<quantity>` for a quantity of [`pool`](mod@pool).
pub fn pool(name: &str, quantity: &str) -> String {
    format!("pool.{name}.{quantity}")
}

/// What is measured for one provider group, under [`pool()`].
pub mod pool {
    /// Busy GPU-time / GPU-time in the network.
    pub const UTILISATION: &str = "utilisation_ratio.mean";
    /// Online GPU-time / GPU-time in the network.
    pub const AVAILABLE: &str = "available_ratio.mean";
    /// Requests answered that were issued after the warm-up.
    pub const SERVED_REQUESTS: &str = "served_requests.count";
    /// GPUs that left the network for good after a failure, from the warm-up on.
    pub const DEPARTED_GPUS: &str = "departed_gpus.count";
    /// GPU failures (those of GPUs lent to jobs with them), from the warm-up on.
    pub const FAILURES: &str = "failures.count";
    /// GPUs in the network, time-average.
    pub const GPUS_MEAN: &str = "gpus.mean";
    /// GPUs in the network at the horizon.
    pub const GPUS_FINAL: &str = "gpus.final";
    /// GPUs that joined after the start.
    pub const JOINED_GPUS: &str = "joined_gpus.count";
    /// GPUs that left by choice.
    pub const LEFT_GPUS: &str = "left_gpus.count";
    /// Users' fees, USD.
    pub const REVENUE_USD: &str = "revenue_usd.total";
    /// Providers' full cost, USD.
    pub const COST_USD: &str = "cost_usd.total";
    /// Revenue less cost, USD.
    pub const PROFIT_USD: &str = "profit_usd.total";
    /// Fees and token rewards (valued as `token.reward_valuation` says) less slashed stakes
    /// and the stakes' cost of capital, USD.
    pub const INCOME_WITH_REWARDS_USD: &str = "income_with_rewards_usd.total";
    /// (Income - cost) / cost.
    pub const ROI: &str = "roi_ratio.mean";
    /// Years until the hardware is paid back.
    pub const PAYBACK_YEARS: &str = "payback_years.mean";
    /// Tokens earned.
    pub const TOKEN_REWARDS: &str = "token_rewards.total";
    /// Tokens earned, USD when earned.
    pub const TOKEN_REWARDS_USD: &str = "token_rewards_usd.total";
    /// Fees received after the network's take, USD.
    pub const FEES_RECEIVED_USD: &str = "fees_received_usd.total";
    /// Stakes bought, USD.
    pub const STAKE_USD: &str = "stake_usd.total";
    /// Stakes slashed, USD.
    pub const SLASHED_USD: &str = "slashed_usd.total";
    /// The return the USD in the group's stakes forwent while held, over the measurement
    /// window (`token.staking.cost_of_capital_per_year`), USD.
    pub const STAKE_CAPITAL_COST_USD: &str = "stake_capital_cost_usd.total";
    /// What verifying the group's answers cost it (`fingerprint`, `optimistic`, `zk`), in
    /// proportion to its inference fees over the window its income is measured on, USD: out
    /// of its income.
    pub const VERIFICATION_USD: &str = "verification_usd.total";
}

/// `provider.<kind>.<quantity>` for a kind of provider (`sharing`, `datacenter`).
pub fn provider_kind(kind: &str, quantity: &str) -> String {
    format!("provider.{kind}.{quantity}")
}

/// Providers, all together or by kind (under [`provider_kind`]: [`provider::ROI`] and
/// `roi_ratio.p10` / `p50` / `p90` across the kind's groups).
pub mod provider {
    /// GPUs in the network, time-average.
    pub const GPUS_MEAN: &str = "provider.gpus.mean";
    /// GPUs in the network at the horizon.
    pub const GPUS_FINAL: &str = "provider.gpus.final";
    /// Requests the network's GPUs could answer with full batches / requests issued.
    pub const CAPACITY_DEMAND: &str = "provider.capacity_demand_ratio.mean";
    /// Requests the network's GPUs could answer at the mean batch each group's replicas
    /// ran / requests issued.
    pub const CAPACITY_DEMAND_AS_RUN: &str = "provider.capacity_demand_at_mean_batch_ratio.mean";
    /// Users' fees, USD.
    pub const REVENUE_USD: &str = "provider.revenue_usd.total";
    /// Full cost, USD.
    pub const COST_USD: &str = "provider.cost_usd.total";
    /// Revenue less cost, USD.
    pub const PROFIT_USD: &str = "provider.profit_usd.total";
    /// Fees and token rewards less slashed stakes, USD.
    pub const INCOME_USD: &str = "provider.income_usd.total";
    /// Income less cost, USD.
    pub const NET_PROFIT_USD: &str = "provider.net_profit_usd.total";
    /// Supply reviews held.
    pub const SUPPLY_REVIEWS: &str = "provider.supply_reviews.count";
    /// Token rewards, USD when earned.
    pub const TOKEN_REWARDS_USD: &str = "provider.token_rewards_usd.total";
    /// Fees received after the network's take, USD.
    pub const FEES_RECEIVED_USD: &str = "provider.fees_received_usd.total";
    /// (Income - cost) / cost, under [`super::provider_kind`].
    pub const ROI: &str = "roi_ratio.mean";
    /// The spread of ROI across a kind's groups, weighted by GPU-hours: percentiles and
    /// their statistic names, under [`super::provider_kind`].
    pub const ROI_PERCENTILES: [(f64, &str); 3] = [
        (0.1, "roi_ratio.p10"),
        (0.5, "roi_ratio.p50"),
        (0.9, "roi_ratio.p90"),
    ];
}

/// The scope names (regions, groups, kinds, classes) for which `keys` hold `quantity` under
/// `scope` (one of [`region`], [`pool()`], [`provider_kind`], [`job()`]), in the keys' order:
/// readers enumerate what a run measured without spelling a name.
pub fn scopes_in<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    scope: fn(&str, &str) -> String,
    quantity: &str,
) -> Vec<String> {
    let probe = scope("\u{0}", quantity);
    let Some((before, after)) = probe.split_once('\u{0}') else {
        return Vec::new();
    };
    keys.into_iter()
        .filter_map(|k| k.strip_prefix(before)?.strip_suffix(after))
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect()
}

/// `job.<class>.<quantity>` for a quantity of [`job`](mod@job).
pub fn job(class: &str, quantity: &str) -> String {
    format!("job.{class}.{quantity}")
}

/// What is measured for one class of training or fine-tuning jobs, under [`job()`].
pub mod job {
    /// Jobs that arrived after the warm-up.
    pub const ARRIVED_JOBS: &str = "arrived_jobs.count";
    /// Of them, placed.
    pub const PLACED_JOBS: &str = "placed_jobs.count";
    /// Of them, finished.
    pub const COMPLETED_JOBS: &str = "completed_jobs.count";
    /// Of them, given up (no progress between failures).
    pub const ABANDONED_JOBS: &str = "abandoned_jobs.count";
    /// Of them, still waiting at the horizon.
    pub const WAITING_JOBS: &str = "waiting_jobs.count";
    /// Mean wait of placed jobs, h: jobs still waiting at the horizon are not in it (see
    /// [`CENSORED_WAIT_H`]).
    pub const WAIT_H: &str = "wait_h.mean";
    /// Mean wait of every job that arrived after the warm-up, h, a job still waiting at the
    /// horizon counted as horizon - arrival: its wait is right-censored there, so the mean is
    /// a lower bound (equal to [`WAIT_H`] when none is left waiting).
    pub const CENSORED_WAIT_H: &str = "censored_wait_h.mean";
    /// Mean time to result of placed jobs that finish (not abandoned), h: wait + wall time,
    /// the wall time as drawn at placement (it may end past the horizon).
    pub const TIME_TO_RESULT_H: &str = "time_to_result_h.mean";
    /// The same over those jobs and the jobs still waiting at the horizon, each of these
    /// counted as horizon - arrival (censored: its result is at least that far off), h: a
    /// lower bound. Abandoned jobs give no result and are left out of both.
    pub const CENSORED_TIME_TO_RESULT_H: &str = "censored_time_to_result_h.mean";
    /// Mean wall time, h.
    pub const WALL_H: &str = "wall_h.mean";
    /// Useful work / wall time.
    pub const GOODPUT: &str = "goodput_ratio.mean";
    /// Share of the time computing: compute / (compute + communication) per step, or under
    /// local SGD inner compute / round (the compute utilisation decentralized runs report).
    pub const COMPUTE_SHARE: &str = "compute_share_ratio.mean";
    /// Share of the time the GPUs wait on exchanges: communication per step, or under local
    /// SGD the workers' own collectives and the exchange not hidden behind inner steps
    /// (1 - the compute share).
    pub const IDLE_SHARE: &str = "idle_share_ratio.mean";
    /// One step (every step) or one inner step of the slowest worker (local SGD), s.
    pub const STEP_S: &str = "step_s.mean";
    /// One synchronisation's exchange, s: a step's collectives, or local SGD's outer
    /// synchronisation (all of it, hidden behind inner steps or not).
    pub const EXCHANGE_S: &str = "exchange_s.mean";
    /// Time to write one checkpoint, s.
    pub const CHECKPOINT_S: &str = "checkpoint_s.mean";
    /// Share of jobs run with fully sharded states (the rest replicated).
    pub const SHARDED: &str = "sharded_ratio.mean";
    /// Memory each GPU holds (its share of the model states and its activations), GiB.
    pub const GPU_MEMORY_GIB: &str = "gpu_memory_gib.mean";
    /// Model FLOPs / (datasheet peak x wall time).
    pub const MFU: &str = "mfu_ratio.mean";
    /// The same on the cloud reference.
    pub const CLOUD_MFU: &str = "cloud_mfu_ratio.mean";
    /// Failures per job over its whole course as drawn at placement (which may end past the
    /// horizon).
    pub const FAILURES: &str = "failures.mean";
    /// Work lost to failures per job, h.
    pub const LOST_H: &str = "lost_h.mean";
    /// Cost per PFLOP of model work, USD.
    pub const USD_PER_PFLOP: &str = "usd_per_pflop.mean";
    /// Wall time on the cloud reference, h.
    pub const CLOUD_WALL_H: &str = "cloud_wall_h.mean";
    /// Cost per PFLOP on the cloud reference, USD.
    pub const CLOUD_USD_PER_PFLOP: &str = "cloud_usd_per_pflop.mean";
    /// Network cost / cloud cost.
    pub const COST_VS_CLOUD: &str = "cost_vs_cloud_ratio.mean";
    /// Network wall time / cloud wall time.
    pub const TIME_VS_CLOUD: &str = "time_vs_cloud_ratio.mean";
}

/// The token economy.
pub mod token {
    /// Token epochs settled.
    pub const EPOCHS: &str = "token.epochs.count";
    /// Supply at the horizon.
    pub const SUPPLY: &str = "token.supply.final";
    /// Tokens circulating at the horizon.
    pub const CIRCULATING: &str = "token.circulating.final";
    /// Tokens staked at the horizon.
    pub const STAKED: &str = "token.staked.final";
    /// Tokens locked (lock-up and unbonding) at the horizon.
    pub const LOCKED: &str = "token.locked.final";
    /// Tokens minted.
    pub const MINTED: &str = "token.minted.total";
    /// Tokens burned.
    pub const BURNED: &str = "token.burned.total";
    /// Tokens slashed.
    pub const SLASHED: &str = "token.slashed.total";
    /// Tokens minted, USD when minted.
    pub const MINTED_USD: &str = "token.minted_usd.total";
    /// Market price at the horizon, USD.
    pub const PRICE_USD: &str = "token.price_usd.final";
    /// Supply x price at the horizon, USD.
    pub const MARKET_CAP_USD: &str = "token.market_cap_usd.final";
    /// 1 if the price path reached zero.
    pub const PRICE_HIT_ZERO: &str = "token.price_hit_zero.count";
    /// What users paid, USD.
    pub const USERS_PAID_USD: &str = "token.users_paid_usd.total";
    /// The network's take, USD.
    pub const TREASURY_USD: &str = "token.treasury_usd.total";
    /// Spent on burns, USD.
    pub const BURN_USD: &str = "token.burn_usd.total";
    /// Settlement chain fees, USD.
    pub const CHAIN_FEES_USD: &str = "token.chain_fees_usd.total";
    /// Payments settled.
    pub const PAYMENTS: &str = "token.payments.count";
    /// Settlement transactions.
    pub const TRANSACTIONS: &str = "token.transactions.count";
    /// What providers' token sales fetched, USD.
    pub const PROVIDER_SALES_USD: &str = "token.provider_sales_usd.total";
    /// Stakes bought, USD.
    pub const STAKE_USD: &str = "token.stake_usd.total";
    /// Stakes that could not be bought, tokens.
    pub const STAKE_SHORTFALL: &str = "token.stake_shortfall.total";
    /// Epochs that minted nothing (the maximum supply reached).
    pub const UNMINTED_EPOCHS: &str = "token.unminted_epochs.count";
    /// The market pool's token reserve at the horizon.
    pub const POOL_TOKEN_RESERVE: &str = "token.pool_token_reserve.final";
    /// The market pool's USD reserve at the horizon.
    pub const POOL_USD_RESERVE: &str = "token.pool_usd_reserve.final";
    /// Largest relative error of the conservation laws.
    pub const CONSERVATION_ERROR: &str = "token.conservation_error_ratio.max";
    /// Emission in USD / users' fees.
    pub const SUBSIDY: &str = "token.subsidy_ratio.mean";
    /// Users' fees per year / the stakes' (or supply's) market value.
    pub const REAL_YIELD: &str = "token.real_yield_ratio.mean";
    /// Emission in USD per year / the same base.
    pub const EMISSION_YIELD: &str = "token.emission_yield_ratio.mean";
    /// Users' fees per year over the stakes' (or supply's) market value averaged over the
    /// settled epochs (time-weighted), rather than at the final price.
    pub const REAL_YIELD_ON_MEAN: &str = "token.real_yield_on_average_value_ratio.mean";
    /// Emission in USD per year over the same average base.
    pub const EMISSION_YIELD_ON_MEAN: &str = "token.emission_yield_on_average_value_ratio.mean";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn well_formed(name: &str) -> bool {
        let parts: Vec<&str> = name.split('.').collect();
        let stat = parts[parts.len() - 1];
        parts.len() >= 3
            && parts.iter().all(|p| !p.is_empty())
            && [
                "count", "mean", "total", "final", "max", "p10", "p50", "p90", "p95", "p99",
            ]
            .contains(&stat)
    }

    #[test]
    fn scopes_are_found_from_the_builders_alone() {
        let keys = [
            region("us-east", users::TTFT_ATTAINMENT),
            region("eu", users::TTFT_ATTAINMENT),
            region("eu", users::SLO_ATTAINMENT),
            pool("dc", pool::ROI),
            provider::ROI.to_string(),
            provider_kind("sharing", provider::ROI),
        ];
        let k = || keys.iter().map(String::as_str);
        assert_eq!(
            scopes_in(k(), region, users::TTFT_ATTAINMENT),
            ["us-east", "eu"]
        );
        assert_eq!(scopes_in(k(), provider_kind, provider::ROI), ["sharing"]);
        assert_eq!(scopes_in(k(), pool, pool::ROI), ["dc"]);
        assert!(scopes_in(k(), job, job::GOODPUT).is_empty());
    }

    /// Every name this file defines, whole or under a scope, follows the grammar.
    #[test]
    fn names_follow_scope_quantity_statistic() {
        let source = include_str!("names.rs");
        let mut checked = 0;
        for line in source.lines() {
            let Some(rest) = line.trim().strip_prefix("pub const ") else {
                continue;
            };
            let Some(value) = rest.split('"').nth(1).filter(|_| rest.contains(": &str")) else {
                continue;
            };
            let name = if ["inference.", "gpu.", "provider.", "token."]
                .iter()
                .any(|s| value.starts_with(s))
            {
                value.to_string()
            } else if !value.contains('.') {
                // A latency family: its statistics are added.
                inference(&latency(value, "mean"))
            } else {
                pool("p", value)
            };
            assert!(well_formed(&name), "{name}");
            checked += 1;
        }
        assert!(checked > 80, "only {checked} names found");
        for (_, label) in LATENCY_QUANTILES {
            assert!(well_formed(&region("a", &latency(users::TTFT_S, label))));
        }
        for (_, label) in provider::ROI_PERCENTILES {
            assert!(well_formed(&provider_kind("sharing", label)));
        }
    }

    #[test]
    fn fixed_inference_names_are_the_users_quantities_under_inference() {
        for (whole, quantity) in [
            (inference::ARRIVED_REQUESTS, users::ARRIVED_REQUESTS),
            (inference::COMPLETED_REQUESTS, users::COMPLETED_REQUESTS),
            (inference::DROPPED_REQUESTS, users::DROPPED_REQUESTS),
            (inference::SLO_ATTAINMENT, users::SLO_ATTAINMENT),
        ] {
            assert_eq!(whole, inference(quantity));
        }
        assert_eq!(
            inference::TTFT_ATTAINMENT,
            inference(users::TTFT_ATTAINMENT)
        );
        assert_eq!(
            inference::TPOT_ATTAINMENT,
            inference(users::TPOT_ATTAINMENT)
        );
        for (family, stats) in [
            (
                users::TTFT_S,
                [
                    inference::TTFT_MEAN,
                    inference::TTFT_P50,
                    inference::TTFT_P95,
                    inference::TTFT_P99,
                ],
            ),
            (
                users::TPOT_S,
                [
                    inference::TPOT_MEAN,
                    inference::TPOT_P50,
                    inference::TPOT_P95,
                    inference::TPOT_P99,
                ],
            ),
            (
                users::E2E_S,
                [
                    inference::E2E_MEAN,
                    inference::E2E_P50,
                    inference::E2E_P95,
                    inference::E2E_P99,
                ],
            ),
        ] {
            for (whole, stat) in stats.into_iter().zip(["mean", "p50", "p95", "p99"]) {
                assert_eq!(whole, inference(&latency(family, stat)));
            }
        }
    }
}
