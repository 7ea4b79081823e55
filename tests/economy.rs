//! The network's economy in runs: supply that answers incentives, the burn-and-mint price
//! emerging in a market pool, staking and slashing, settlement fees, pricing policies and
//! verification runs.

use depinsim::experiment::run_replication;
use depinsim::metrics::Metrics;
use depinsim::metrics::names;
use depinsim::scenario::overrides::parse_override;
use depinsim::scenario::{load_file, load_str};

fn run(text: &str) -> Metrics {
    let s = load_str(text, "t", "t", &[]).unwrap_or_else(|e| panic!("{e}"));
    run_replication(&s, 0).metrics
}

fn shipped(path: &str, sets: &[&str]) -> Metrics {
    let sets: Vec<_> = sets
        .iter()
        .map(|s| parse_override(s).expect("override"))
        .collect();
    let s = load_file(std::path::Path::new(path), &sets).unwrap_or_else(|e| panic!("{e}"));
    run_replication(&s, 0).metrics
}

fn conserved(m: &Metrics) {
    assert!(
        m[names::token::CONSERVATION_ERROR] < 1e-9,
        "conservation error {}",
        m[names::token::CONSERVATION_ERROR]
    );
    assert!(m.values().all(|v| v.is_finite()), "a NaN or infinity");
}

/// The shipped oversupply scenario, shortened to 90 days and lighter demand.
fn oversupply(sets: &[&str]) -> Metrics {
    let mut all = vec![
        "simulation.horizon_h=2160",
        "inference.users[0].rate_per_s=0.5",
    ];
    all.extend_from_slice(sets);
    shipped("scenarios/oversupply.yaml", &all)
}

#[test]
fn rewards_draw_idle_cards_in_until_supply_outgrows_demand() {
    let rewarded = oversupply(&[]);
    let fees_only = oversupply(&["token.emission.schedule.constant.per_epoch=0"]);
    conserved(&rewarded);
    conserved(&fees_only);
    let gpus = |m: &Metrics| m[&names::pool("gamers", names::pool::GPUS_FINAL)];
    // Rewards worth far more than a home card's power bring most of the 400 potential
    // cards in; fees alone bring fewer.
    assert!(gpus(&rewarded) > 200.0, "{}", gpus(&rewarded));
    assert!(gpus(&rewarded) > 1.5 * gpus(&fees_only));
    assert_eq!(
        rewarded[&names::pool("gamers", names::pool::JOINED_GPUS)]
            - rewarded[&names::pool("gamers", names::pool::LEFT_GPUS)],
        gpus(&rewarded) - 10.0
    );
    // The same demand on more GPUs: utilisation falls and capacity outruns demand.
    assert!(rewarded[names::gpu::UTILISATION] < fees_only[names::gpu::UTILISATION]);
    assert!(
        rewarded[names::provider::CAPACITY_DEMAND] > fees_only[names::provider::CAPACITY_DEMAND]
    );
    // The subsidy, not the fees, pays the cards that joined.
    assert!(rewarded[names::token::SUBSIDY] > 10.0);
    assert!(
        rewarded[&names::provider_kind("sharing", names::provider::ROI)]
            > fees_only[&names::provider_kind("sharing", names::provider::ROI)]
    );
    // With an owner's cost for lending the card, fees pay fewer cards.
    let dear = oversupply(&[
        "token.emission.schedule.constant.per_epoch=0",
        "providers[0].costs.opportunity_usd_per_hour=0.1",
    ]);
    assert!(
        gpus(&dear) < gpus(&fees_only),
        "{} vs {}",
        gpus(&dear),
        gpus(&fees_only)
    );
}

#[test]
fn gpus_that_lose_money_leave_after_the_stated_reviews() {
    // Datacenter H100s that cost 5 USD an hour to run and earn only fees: after four
    // weekly reviews of cash losses a quarter leave at each review.
    let text = "simulation: {horizon_h: 1008, warmup_h: 1, epoch_h: 24, replications: 1, seed: 2}
regions: [{name: a}]
providers:
  - {name: dc, region: a, gpu: h100_sxm, count: 64, costs: {hardware_usd: 25000, hosting_usd_per_hour: 5}, mtbf_h: 1.0e12}
inference:
  service_time_s: {exponential: {mean: 1}}
  users: [{region: a, rate_per_s: 1}]
supply: {review_h: 168, exit_after_reviews: 4, exit_share: 0.25}
";
    let m = run(text);
    // Reviews at weeks 1..6: the 4th, 5th and 6th each remove a quarter (rounded up).
    assert_eq!(m[names::provider::SUPPLY_REVIEWS], 6.0);
    assert_eq!(
        m[&names::pool("dc", names::pool::LEFT_GPUS)],
        16.0 + 12.0 + 9.0
    );
    assert_eq!(m[&names::pool("dc", names::pool::GPUS_FINAL)], 27.0);
    assert_eq!(m[&names::pool("dc", names::pool::JOINED_GPUS)], 0.0);
    // Providers pay for GPUs while they are in the network: hosting and power.
    assert!(
        m[&names::pool("dc", names::pool::GPUS_MEAN)] < 64.0
            && m[&names::pool("dc", names::pool::GPUS_MEAN)] > 27.0
    );
}

#[test]
fn burn_and_mint_price_emerges_where_burns_equal_emissions() {
    // Users pay 2.40 USD per busy GPU-hour for about one busy GPU: ~2.4 USD an hour, all
    // burned through the pool; providers sell every reward. The pool starts at 4 USD a
    // token and must settle at fees / emission.
    let text = "simulation: {horizon_h: 2000, warmup_h: 1, epoch_h: 24, replications: 1, seed: 8}
regions: [{name: a}]
providers:
  - {name: dc, region: a, gpu: h100_sxm, count: 8, hourly_cost_usd: 1, mtbf_h: 1.0e12}
inference:
  service_time_s: {exponential: {mean: 1}}
  users: [{region: a, rate_per_s: 1}]
token:
  emission: {schedule: {constant: {per_epoch: 2.4}}, epoch_h: 1, initial_supply: 100000}
  price: {amm: {token_reserve: 300, usd_reserve: 1200, provider_sell_share: 1}}
  work_share: 1
  payment: burn_and_mint
";
    let s = load_str(text, "t", "t", &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = run_replication(&s, 0);
    let m = &out.metrics;
    conserved(m);
    let epochs = m[names::token::EPOCHS];
    let fees_per_epoch = m[names::token::BURN_USD] / epochs;
    let equilibrium = fees_per_epoch / 2.4;
    let price = m[names::token::PRICE_USD];
    assert!(
        (price / equilibrium - 1.0).abs() < 0.03,
        "price {price}, equilibrium {equilibrium}"
    );
    // Early epochs burn little at the high start price; over the second half of the run
    // burns match emissions and the supply stands still.
    assert!(m[names::token::BURNED] < m[names::token::MINTED]);
    let rows = &out.rows;
    let (mid, last) = (&rows[rows.len() / 2], &rows[rows.len() - 2]);
    let burned = last.token_burned.unwrap() - mid.token_burned.unwrap();
    let minted = 2.4 * (last.start_h - mid.start_h);
    assert!(
        (burned / minted - 1.0).abs() < 0.03,
        "burned {burned}, minted {minted}"
    );
    // The pool kept every dollar it was paid and paid out.
    assert!(m[names::token::POOL_USD_RESERVE] > 0.0);
}

/// See issue 12 (item 10): with providers selling a share s of the emission E into the pool,
/// the pool is in balance when burns buy back what providers sell: burns settle at s x E
/// tokens an epoch (not E), the price at what burns spend / (s x E), and supply grows by
/// (1 - s) x E an epoch.
#[test]
fn burn_and_mint_with_a_pool_balances_burns_against_providers_sales() {
    for s in [1.0, 0.5] {
        let text = format!(
            "simulation: {{horizon_h: 3000, warmup_h: 1, epoch_h: 24, replications: 1, seed: 8}}
regions: [{{name: a}}]
providers:
  - {{name: dc, region: a, gpu: h100_sxm, count: 8, hourly_cost_usd: 1, mtbf_h: 1.0e12}}
inference:
  service_time_s: {{exponential: {{mean: 1}}}}
  users: [{{region: a, rate_per_s: 1}}]
token:
  emission: {{schedule: {{constant: {{per_epoch: 2.4}}}}, epoch_h: 1, initial_supply: 100000}}
  price: {{amm: {{token_reserve: 300, usd_reserve: 1200, provider_sell_share: {s}}}}}
  work_share: 1
  payment: burn_and_mint
"
        );
        let sc = load_str(&text, "t", "t", &[]).unwrap_or_else(|e| panic!("{e}"));
        let out = run_replication(&sc, 0);
        let m = &out.metrics;
        conserved(m);
        let (e, rows) = (2.4, &out.rows);
        let (mid, last) = (&rows[rows.len() / 2], &rows[rows.len() - 2]);
        let hours = last.start_h - mid.start_h;
        let burned = last.token_burned.unwrap() - mid.token_burned.unwrap();
        assert!(
            (burned / (s * e * hours) - 1.0).abs() < 0.03,
            "s {s}: burned {burned} against s x E = {}",
            s * e * hours
        );
        let grown = (last.token_circulating.unwrap()
            + last.token_staked.unwrap()
            + last.token_locked.unwrap())
            - (mid.token_circulating.unwrap()
                + mid.token_staked.unwrap()
                + mid.token_locked.unwrap());
        assert!(
            (grown - (1.0 - s) * e * hours).abs() < 0.03 * e * hours,
            "s {s}: supply grew {grown} against (1 - s) x E = {}",
            (1.0 - s) * e * hours
        );
        let burn_usd_per_epoch = m[names::token::BURN_USD] / m[names::token::EPOCHS];
        let price = m[names::token::PRICE_USD];
        let want = burn_usd_per_epoch / (s * e);
        assert!(
            (price / want - 1.0).abs() < 0.05,
            "s {s}: price {price} against burns / (s x E) = {want}"
        );
    }
}

/// See issue 12 (item 12): owners' hours. Ten cards lent 18:00-24:00 local, at an
/// opportunity cost of 0.10 USD per GPU-hour and no other cost, over two days: they cost
/// 10 x 2 x 6 h x 0.10 = 12 USD (48 USD was charged for every hour of the day), their
/// availability is over the hours they are lent, and losing cards leave even when the
/// reviews fall in their owners' hours.
#[test]
fn owners_hours_are_neither_charged_nor_unavailable_and_do_not_stop_cards_leaving() {
    let text = "simulation: {horizon_h: 48, warmup_h: 0, epoch_h: 24, replications: 1, seed: 2}
regions: [{name: a, utc_offset_h: 0, electricity_usd_per_kwh: 0}]
providers:
  - {name: home, region: a, gpu: rtx_4090, count: 10, mtbf_h: 1.0e12, online_local_h: [18, 24],
     costs: {busy_power_w: 0, idle_power_w: 0, opportunity_usd_per_hour: 0.10}}
inference:
  service_time_s: {exponential: {mean: 1}}
  users: [{region: a, rate_per_s: 0.0001}]
";
    let m = run(text);
    let cost = m[&names::pool("home", names::pool::COST_USD)];
    assert!((cost - 12.0).abs() < 1e-9, "cost {cost}");
    assert!((m[&names::pool("home", names::pool::AVAILABLE)] - 1.0).abs() < 1e-12);
    // Losing cards lent 08:00-16:00 with reviews at 00:00 (their owners have them): a
    // quarter leaves at each review from the first on.
    let leaving = text.replace("[18, 24]", "[8, 16]").replace(
        "users: [{region: a, rate_per_s: 0.0001}]\n",
        "users: [{region: a, rate_per_s: 0.0001}]\nsupply: {review_h: 24, exit_after_reviews: 1}\n",
    );
    let m = run(&leaving);
    assert_eq!(m[&names::pool("home", names::pool::LEFT_GPUS)], 3.0 + 2.0);
}

const STAKED: &str =
    "simulation: {horizon_h: 480, warmup_h: 24, epoch_h: 24, replications: 1, seed: 3}
regions: [{name: a}]
providers:
  - {name: dc, region: a, gpu: h100_sxm, count: 8, hourly_cost_usd: 1.4, mtbf_h: 20}
  - {name: home, region: a, gpu: rtx_4090, count: 16, hourly_cost_usd: 0.14, mtbf_h: 10}
inference:
  model: {name: llama-3.1-8b, context_tokens: 32768}
  users: [{region: a, rate_per_s: 0.5}]
token:
  emission: {schedule: {constant: {per_epoch: 1000}}, epoch_h: 24, initial_supply: 1000000}
  price: {constant: {usd: 2}}
  work_share: 0.5
  staking: {per_gpu: 1000, unbonding_h: 168, slash_per_failure: 0.1}
  reward_lockup: {share: 0.75, release_h: 240}
";

#[test]
fn stakes_lock_supply_and_failures_burn_them() {
    // Failures are counted from the warm-up on, stakes slashed from the start.
    let m = run(&STAKED.replace("warmup_h: 24", "warmup_h: 0"));
    conserved(&m);
    // Every GPU stakes 1,000 tokens; each failure burns a tenth of a stake, which the
    // provider buys back.
    assert_eq!(m[names::token::STAKED], 24.0 * 1000.0);
    let failures = m[&names::pool("dc", names::pool::FAILURES)]
        + m[&names::pool("home", names::pool::FAILURES)];
    assert!(failures > 100.0);
    assert!(
        (m[names::token::SLASHED] - 100.0 * failures).abs() < 1e-6,
        "{} slashed",
        m[names::token::SLASHED]
    );
    assert!((m[names::token::STAKE_USD] - 2.0 * m[names::token::SLASHED]).abs() < 1e-6);
    assert_eq!(m[names::token::BURNED], m[names::token::SLASHED]);
    // Three quarters of 20 days of rewards, released over 10 days: the last 10 days'
    // releases are pending: 750 x (1 + 0.9 + ... + 0.1) = 4,125 tokens.
    assert!((m[names::token::LOCKED] - 4125.0).abs() < 1e-6);
    let supply = 1e6 + m[names::token::MINTED] - m[names::token::BURNED];
    let held = m[names::token::CIRCULATING] + m[names::token::STAKED] + m[names::token::LOCKED];
    assert!((held - supply).abs() < 1e-6);
    // Slashed stakes are a cost in providers' returns.
    assert!(m[&names::pool("home", names::pool::SLASHED_USD)] > 0.0);
}

#[test]
fn settlement_fees_follow_transactions_and_batching() {
    let with = |chain: &str, batch: u32| {
        run(&format!(
            "{STAKED}  settlement: {{chain: {chain}, batch: {batch}}}\n"
        ))
    };
    // 21,000 gas at 20 gwei and 3,400 USD/ETH: 1.428 USD a transaction.
    let eth = "{ethereum: {gas_price_gwei: 20, eth_usd: 3400}}";
    let one = with(eth, 1);
    conserved(&one);
    assert_eq!(one[names::token::TRANSACTIONS], one[names::token::PAYMENTS]);
    assert!((one[names::token::CHAIN_FEES_USD] - 1.428 * one[names::token::PAYMENTS]).abs() < 1e-6);
    // On L1 each answer's settlement costs more than the answer: providers pay the chain.
    assert!(one[names::provider::FEES_RECEIVED_USD] < 0.0);
    let hundred = with(eth, 100);
    let payments = hundred[names::token::PAYMENTS];
    let tx = hundred[names::token::TRANSACTIONS];
    // Each of the 20 epochs rounds its batches up.
    assert!(
        tx >= payments / 100.0 && tx <= payments / 100.0 + 20.0,
        "{tx} for {payments}"
    );
    assert!((hundred[names::token::CHAIN_FEES_USD] - 1.428 * tx).abs() < 1e-6);
    // Solana: 5,000 lamports at 150 USD/SOL, 0.00075 USD a transaction.
    let sol = with("{solana: {sol_usd: 150}}", 1);
    assert!(
        (sol[names::token::CHAIN_FEES_USD] - 0.00075 * sol[names::token::PAYMENTS]).abs() < 1e-6
    );
    assert!(sol[names::provider::FEES_RECEIVED_USD] > 0.0);
}

/// Two groups in one region: H100s listed first, cheaper RTX 4090s second.
fn two_prices(pricing: &str, token: &str) -> Metrics {
    run(&format!(
        "simulation: {{horizon_h: 48, warmup_h: 1, epoch_h: 1, replications: 1, seed: 9}}
regions: [{{name: a}}]
providers:
  - {{name: dear, region: a, gpu: h100_sxm, count: 8, hourly_cost_usd: 1, price_usd_per_gpu_hour: 2.4, mtbf_h: 1.0e12}}
  - {{name: cheap, region: a, gpu: rtx_4090, count: 8, hourly_cost_usd: 0.1, price_usd_per_gpu_hour: 0.3, mtbf_h: 1.0e12}}
inference:
  service_time_s: {{exponential: {{mean: 1}}}}
  users: [{{region: a, rate_per_s: 1}}]
{pricing}
{token}"
    ))
}

#[test]
fn asking_prices_are_matched_cheapest_first() {
    let fixed = two_prices("", "");
    let asking = two_prices("pricing: {policy: asking}", "");
    // By distance the first-listed group takes the load; by price the cheaper one does,
    // and the dearer one only the overflow of a busy moment.
    assert!(
        fixed[&names::pool("dear", names::pool::SERVED_REQUESTS)]
            > 0.99 * fixed[names::inference::COMPLETED_REQUESTS]
    );
    assert!(
        asking[&names::pool("cheap", names::pool::SERVED_REQUESTS)]
            > 0.99 * asking[names::inference::COMPLETED_REQUESTS]
    );
    assert!(asking[names::provider::REVENUE_USD] < 0.2 * fixed[names::provider::REVENUE_USD]);
}

#[test]
fn utilisation_pricing_lowers_prices_on_an_idle_network() {
    let fixed = two_prices("", "");
    let util = two_prices(
        "pricing: {policy: utilisation, target: 0.7, min_multiplier: 0.5}",
        "",
    );
    // About one GPU of 16 busy: far below the target, the price sits at its floor from
    // the end of the first hour (the warm-up) on, so revenue is half the fixed one.
    let ratio = util[names::provider::REVENUE_USD] / fixed[names::provider::REVENUE_USD];
    assert!((ratio - 0.5).abs() < 1e-12, "{ratio}");
}

#[test]
fn verification_runs_double_the_work_and_the_bill_but_not_the_answers() {
    // (Payments are counted where they are settled.)
    let token = "token:
  emission: {schedule: {constant: {per_epoch: 0}}, epoch_h: 1, initial_supply: 0}
  price: {constant: {usd: 1}}
  work_share: 1
  settlement: {chain: {solana: {sol_usd: 150}}}
";
    let once = two_prices("", token);
    let twice = two_prices("", &format!("{token}  verification: {{redundancy: 2}}\n"));
    assert_eq!(twice[names::inference::VERIFICATION_SKIPPED], 0.0);
    assert_eq!(
        once[names::inference::COMPLETED_REQUESTS],
        twice[names::inference::COMPLETED_REQUESTS]
    );
    // Every request runs once more on the other group: the cheap group's GPUs bill for
    // the copies of the dear group's answers.
    let busy = |m: &Metrics| {
        m[&names::pool("dear", names::pool::REVENUE_USD)] / 2.4
            + m[&names::pool("cheap", names::pool::REVENUE_USD)] / 0.3
    };
    let ratio = busy(&twice) / busy(&once);
    assert!((ratio - 2.0).abs() < 0.05, "{ratio}");
    assert!(twice[names::token::PAYMENTS] > 1.95 * once[names::token::PAYMENTS]);
}

#[test]
fn accounted_verification_adds_its_formula_to_the_cost_and_comes_out_of_income() {
    let token = "token:
  emission: {schedule: {constant: {per_epoch: 0}}, epoch_h: 1, initial_supply: 0}
  price: {constant: {usd: 1}}
  work_share: 1
";
    let pricing = "pricing: {unit: token, usd_per_million_output_tokens: 2}";
    let plain = two_prices(pricing, token);
    let proved = two_prices(
        pricing,
        &format!(
            "{token}  verification: {{method: fingerprint, on_chain: proofs, chain_usd_per_kb: 0.001}}\n"
        ),
    );
    // Fingerprints are accounted, not simulated: the same requests are served.
    use names::inference as i;
    assert_eq!(plain[i::COMPLETED_REQUESTS], proved[i::COMPLETED_REQUESTS]);
    assert!(!plain.contains_key(i::VERIFICATION_USD_PER_MILLION_TOKENS));
    // Users pay $2 per million output tokens. Verifying a million costs the validator
    // 0.01 x $2 = $0.02 (TOPLOC: validation ~100x faster than the inference) and the
    // proofs 1e6 x 258 / 32 bytes at $1e-6 a byte = $8.0625: $8.0825 in all.
    let price = proved[i::PRICE_USD_PER_MILLION_TOKENS];
    assert!((price / 2.0 - 1.0).abs() < 1e-9, "{price}");
    let per_million = proved[i::VERIFICATION_USD_PER_MILLION_TOKENS];
    assert!((per_million - 8.0825).abs() < 1e-6, "{per_million}");
    let verified = proved[i::VERIFIED_PRICE_USD_PER_MILLION_TOKENS];
    assert!((verified - price - per_million).abs() < 1e-9);
    // The cost ratio is the verified work's: it rises by verified / price.
    let ratio = proved[i::COST_VS_CLOUD] / plain[i::COST_VS_CLOUD];
    assert!((ratio - verified / price).abs() < 1e-9, "{ratio}");
    // Each group bears its share out of its income, and the shares add up to the cost
    // (the epochs settle the whole horizon, so income's window is the measured one).
    let mut borne = 0.0;
    for g in ["dear", "cheap"] {
        let income = |m: &Metrics| m[&names::pool(g, names::pool::INCOME_WITH_REWARDS_USD)];
        let share = proved
            .get(&names::pool(g, names::pool::VERIFICATION_USD))
            .copied()
            .unwrap_or(0.0);
        assert!(
            (income(&plain) - income(&proved) - share).abs() < 1e-9,
            "{g}"
        );
        borne += share;
    }
    let cost = proved[i::VERIFICATION_GPU_USD]
        + proved[i::VERIFICATION_CHAIN_FEES_USD]
        + proved[i::VERIFICATION_CAPITAL_USD];
    assert!(
        borne > 0.0 && (borne / cost - 1.0).abs() < 1e-9,
        "{borne} vs {cost}"
    );
    assert!(
        proved[&names::provider_kind("datacenter", names::provider::ROI)]
            < plain[&names::provider_kind("datacenter", names::provider::ROI)]
    );
    // By default one Merkle root an hour settles the proofs: 47 hours of window at
    // (21,000 + 32 x 16) gas x 2 gwei x $3,400 = $0.1462816 a root, however many proofs.
    let rooted = two_prices(
        pricing,
        &format!("{token}  verification: {{method: fingerprint}}\n"),
    );
    let fees = rooted[i::VERIFICATION_CHAIN_FEES_USD];
    assert!((fees - 47.0 * 0.1462816).abs() < 1e-9, "{fees}");
}

/// A network whose GPUs are lent to one long training job after another, with a stake of
/// 1,000 tokens per GPU and a tenth of it slashed per failure; `providers` are the groups.
fn jobs_staked(providers: &str, placement: &str) -> String {
    format!(
        "simulation: {{horizon_h: 2016, warmup_h: 0, epoch_h: 24, replications: 1, seed: 8}}
regions: [{{name: a}}]
providers:
{providers}
inference: {{users: [{{region: a, rate_per_s: 0.0001}}]}}
training:
  - {{name: pretrain, kind: training, arrivals_per_day: 24, params_b: 8, tokens_b: 200, gpus: 8, tokens_per_step_m: 4, placement: {placement}, checkpoint_s: 10, restart_s: 0.001}}
token:
  emission: {{schedule: {{constant: {{per_epoch: 1000}}}}, epoch_h: 24, initial_supply: 1000000}}
  price: {{constant: {{usd: 2}}}}
  work_share: 0.5
  staking: {{per_gpu: 1000, unbonding_h: 168, slash_per_failure: 0.1}}
"
    )
}

/// See issue 12 (item 14): a GPU that failed while lent to a job was never slashed, because
/// only the pools' own failure events (of idle and serving GPUs) reached the token. Eight
/// H100s with a 10 h MTBF are busy with jobs almost the whole 2,016 h (84 token epochs), so
/// they fail about 8 x 2,016 / 10 = 1,613 times (restarts take a millisecond, so the job is
/// exposed all the time), and each failure burns 100 tokens of stake.
#[test]
fn failures_of_gpus_lent_to_jobs_are_slashed() {
    let m = run(&jobs_staked(
        "  - {name: dc, region: a, gpu: h100_sxm, count: 8, hourly_cost_usd: 1.4, mtbf_h: 10, repair_h: 0.01}",
        "one_provider",
    ));
    conserved(&m);
    assert!(m[names::gpu::UTILISATION] > 0.99, "the jobs hold the GPUs");
    let failures = m[&names::pool("dc", names::pool::FAILURES)];
    // Poisson with mean ~1,613 (less the first job's wait of about an hour): sd 40.
    assert!((failures - 1613.0).abs() < 200.0, "{failures} failures");
    assert!(
        (m[names::token::SLASHED] - 100.0 * failures).abs() < 1e-6,
        "{} slashed",
        m[names::token::SLASHED]
    );
    assert!(m[&names::pool("dc", names::pool::SLASHED_USD)] > 0.0);
    // The failure count covers the measurement window: from a warm-up of half the run on,
    // about 806 (sd 28), while stakes are slashed for every failure from the start.
    let warm = run(&jobs_staked(
        "  - {name: dc, region: a, gpu: h100_sxm, count: 8, hourly_cost_usd: 1.4, mtbf_h: 10, repair_h: 0.01}",
        "one_provider",
    ).replace("warmup_h: 0", "warmup_h: 1008"));
    let measured = warm[&names::pool("dc", names::pool::FAILURES)];
    assert!(
        (measured - 806.0).abs() < 150.0,
        "{measured} failures after the warm-up"
    );
    assert!(warm[names::token::SLASHED] > 100.0 * (measured + 500.0));
}

/// A job spanning two groups: each failure hits a group in proportion to its GPUs over their
/// MTBF, here 4 / 10 h against 4 / 40 h, so the first suffers four times as many.
#[test]
fn a_job_failure_is_counted_against_the_group_it_hits() {
    let m = run(&jobs_staked(
        "  - {name: fragile, region: a, gpu: h100_sxm, count: 4, hourly_cost_usd: 1.4, mtbf_h: 10, repair_h: 0.01}
  - {name: sturdy, region: a, gpu: h100_sxm, count: 4, hourly_cost_usd: 1.4, mtbf_h: 40, repair_h: 0.01}",
        "anywhere",
    ));
    conserved(&m);
    let fragile = m[&names::pool("fragile", names::pool::FAILURES)];
    let sturdy = m[&names::pool("sturdy", names::pool::FAILURES)];
    // About 2,016 x (0.4 + 0.1) = 1,008 failures, 806 and 202 (sd 28 and 14).
    assert!(
        (fragile + sturdy - 1008.0).abs() < 150.0,
        "{fragile} + {sturdy}"
    );
    assert!((fragile / sturdy - 4.0).abs() < 1.0, "{fragile} / {sturdy}");
    assert!((m[names::token::SLASHED] - 100.0 * (fragile + sturdy)).abs() < 1e-6);
}

/// One region, four H100s that never fail, chat users at 2 requests a second, no warm-up
/// (so every answer and fee of the run is in the window); `pricing` is the pricing section.
fn priced(pricing: &str) -> Metrics {
    priced_with(pricing, "")
}

/// The same with `more` (YAML) at the end.
fn priced_with(pricing: &str, more: &str) -> Metrics {
    run(&format!(
        "simulation: {{horizon_h: 24, warmup_h: 0, epoch_h: 6, replications: 1, seed: 4}}
regions: [{{name: a}}]
providers:
  - {{name: dc, region: a, gpu: h100_sxm, count: 4, hourly_cost_usd: 1.4, price_usd_per_gpu_hour: 2.0, mtbf_h: 1.0e12}}
inference:
  model: {{name: llama-3.1-8b, context_tokens: 8192}}
  users: [{{region: a, rate_per_s: 2}}]
pricing: {pricing}
{more}"
    ))
}

/// With a token, users' payments follow the pricing unit too: the ledger settles what the
/// groups were paid (per token, or per leased hour), not their busy GPU-hours at the price.
#[test]
fn the_token_settles_what_the_pricing_unit_charged() {
    let token = "token:
  emission: {schedule: {constant: {per_epoch: 0}}, epoch_h: 6, initial_supply: 1000000}
  price: {constant: {usd: 1}}
  work_share: 1
";
    for unit in [
        "{unit: token, usd_per_million_output_tokens: 0.05}",
        "{unit: leased_gpu_hour}",
        "{unit: busy_gpu_hour}",
    ] {
        let m = priced_with(unit, token);
        conserved(&m);
        let revenue = m[&names::pool("dc", names::pool::REVENUE_USD)];
        let paid = m[names::token::USERS_PAID_USD];
        assert!(
            (paid / revenue - 1.0).abs() < 1e-9,
            "{unit}: paid {paid}, revenue {revenue}"
        );
        let received = m[&names::pool("dc", names::pool::FEES_RECEIVED_USD)];
        assert!(
            (received / revenue - 1.0).abs() < 1e-9,
            "{unit}: received {received}"
        );
    }
}

/// See issue 12 (item 2): users paid per busy GPU-hour only, so a network serving at batch
/// ~1 charged for slow, unbatched serving. Priced per token, as an inference marketplace
/// prices, users pay 0.05 USD per million output tokens and 0.01 per million prompt tokens,
/// whatever the batch: the network's price per million output tokens is 0.05 + 0.01 x
/// prompt / output tokens, and the group's revenue is those fees exactly.
#[test]
fn the_network_can_be_priced_per_token() {
    let m = priced(
        "{unit: token, usd_per_million_output_tokens: 0.05, usd_per_million_prompt_tokens: 0.01}",
    );
    let (prompt, output) = (
        m[names::inference::PROMPT_TOKENS],
        m[names::inference::OUTPUT_TOKENS],
    );
    let fees = (0.05 * output + 0.01 * prompt) / 1e6;
    let price = m[names::inference::PRICE_USD_PER_MILLION_TOKENS];
    assert!((price - fees / output * 1e6).abs() < 1e-12, "{price}");
    let revenue = m[&names::pool("dc", names::pool::REVENUE_USD)];
    assert!(
        (revenue / fees - 1.0).abs() < 1e-9,
        "{revenue} against {fees}"
    );
    // By the busy GPU-hour the same answers cost what the GPUs were busy for.
    let hourly = priced("{unit: busy_gpu_hour}");
    assert_eq!(hourly[names::inference::OUTPUT_TOKENS], output);
    assert!(hourly[&names::pool("dc", names::pool::REVENUE_USD)] > 10.0 * revenue);
}

/// Leased, as a compute marketplace leases GPUs, users pay for every GPU-hour the four GPUs
/// are lent and online, busy or idle: 4 x 24 h x 2 USD = 192 USD, and the network's price per
/// million output tokens is that over the tokens answered.
#[test]
fn the_network_can_be_priced_per_leased_gpu_hour() {
    let m = priced("{unit: leased_gpu_hour}");
    let revenue = m[&names::pool("dc", names::pool::REVENUE_USD)];
    assert!((revenue - 192.0).abs() < 1e-9, "{revenue}");
    let price = m[names::inference::PRICE_USD_PER_MILLION_TOKENS];
    let output = m[names::inference::OUTPUT_TOKENS];
    assert!((price - 192.0 / output * 1e6).abs() < 1e-9, "{price}");
}
