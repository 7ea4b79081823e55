//! The token economy in a run: emissions as scheduled, both currencies conserved under every
//! payment design, the subsidy ratio, and bad token sections refused.

use depinsim::economics::emission::Emission;
use depinsim::experiment::run_replication;
use depinsim::metrics::Metrics;
use depinsim::metrics::names;
use depinsim::scenario::{load_str, load_str_in};

/// A small network with a token section `token` (YAML, indented two spaces).
fn scenario(token: &str) -> String {
    format!(
        "simulation: {{horizon_h: 120, warmup_h: 1, epoch_h: 24, replications: 1, seed: 5}}
regions: [{{name: a}}]
providers:
  - {{name: dc, region: a, gpu: h100_sxm, count: 8, hourly_cost_usd: 1.4}}
  - {{name: home, region: a, gpu: rtx_4090, count: 16, hourly_cost_usd: 0.14, mtbf_h: 50}}
inference:
  model: {{name: llama-3.1-8b, context_tokens: 32768}}
  routing: nearest_free
  users: [{{region: a, rate_per_s: 1}}]
token:
{token}"
    )
}

const IO_LIKE: &str = "  emission:
    schedule: {exponential_decay: {initial_per_epoch: 4566.21, decay: 0.0102, period_h: 730.5}}
    epoch_h: 1
    initial_supply: 500000000
    max_supply: 800000000
  price: {gbm: {initial_usd: 2.0, drift_per_year: 0.0, volatility_per_year: 0.8}}
  work_share: 0.5
";

fn run(text: &str) -> Metrics {
    let s = load_str(text, "t", "t", &[]).unwrap_or_else(|e| panic!("{e}"));
    run_replication(&s, 0).metrics
}

#[test]
fn hourly_emission_mints_what_the_schedule_says_and_conserves_tokens_and_usd() {
    let m = run(&scenario(IO_LIKE));
    assert_eq!(m[names::token::EPOCHS], 120.0);
    let e: Emission = serde_saphyr::from_str(
        "schedule: {exponential_decay: {initial_per_epoch: 4566.21, decay: 0.0102, period_h: 730.5}}
epoch_h: 1
initial_supply: 500000000
max_supply: 800000000",
    )
    .expect("emission");
    assert!((m[names::token::MINTED] - e.total_over(120.0)).abs() < 1e-6);
    assert!((m[names::token::MINTED] - 120.0 * 4566.21).abs() < 1e-6);
    assert!((m[names::token::SUPPLY] - 500e6 - m[names::token::MINTED]).abs() < 1e-3);
    assert!(m[names::token::CONSERVATION_ERROR] < 1e-12);
    // Direct payment: providers receive every fee, tokens are a subsidy on top.
    assert!(
        (m[names::provider::FEES_RECEIVED_USD] - m[names::token::USERS_PAID_USD]).abs()
            < 1e-9 * m[names::token::USERS_PAID_USD]
    );
    let subsidy = m[names::token::MINTED_USD] / m[names::token::USERS_PAID_USD];
    assert!((m[names::token::SUBSIDY] - subsidy).abs() < 1e-12);
    let rewards = m[&names::pool("dc", names::pool::TOKEN_REWARDS)]
        + m[&names::pool("home", names::pool::TOKEN_REWARDS)];
    assert!((rewards - m[names::token::MINTED]).abs() < 1e-6);
    assert!(m[names::token::PRICE_USD] > 0.0);
}

#[test]
fn every_payment_design_conserves_both_currencies() {
    for payment in ["direct", "burn_and_mint", "buyback_and_burn"] {
        let token = format!("{IO_LIKE}  payment: {payment}\n  take_rate: 0.05\n");
        let m = run(&scenario(&token));
        assert!(
            m[names::token::CONSERVATION_ERROR] < 1e-12,
            "{payment}: {}",
            m[names::token::CONSERVATION_ERROR]
        );
        let supply = 500e6 + m[names::token::MINTED] - m[names::token::BURNED];
        assert!((m[names::token::SUPPLY] - supply).abs() < 1e-3, "{payment}");
        let paid = m[names::token::USERS_PAID_USD];
        let received = m[names::provider::FEES_RECEIVED_USD]
            + m[names::token::TREASURY_USD]
            + m[names::token::BURN_USD];
        assert!((paid - received).abs() < 1e-9 * paid, "{payment}");
        match payment {
            "direct" => assert_eq!(m[names::token::BURNED], 0.0),
            "burn_and_mint" => {
                assert_eq!(m[names::provider::FEES_RECEIVED_USD], 0.0);
                assert!(m[names::token::BURNED] > 0.0);
            }
            _ => assert!((m[names::token::BURN_USD] - 0.05 * paid).abs() < 1e-9 * paid),
        }
    }
}

#[test]
fn availability_rewards_follow_online_gpu_hours() {
    // All of the emission for availability: each group earns in proportion to its GPUs
    // online, so 8 H100s (never failing here) earn 8/24 less the home cards' downtime.
    let token = IO_LIKE.replace("work_share: 0.5", "work_share: 0");
    let m = run(&scenario(&token));
    let (dc, home) = (
        m[&names::pool("dc", names::pool::TOKEN_REWARDS)],
        m[&names::pool("home", names::pool::TOKEN_REWARDS)],
    );
    let home_up = m[&names::pool("home", names::pool::AVAILABLE)];
    assert!(
        dc / (dc + home) > 8.0 / 24.0,
        "downtime lowers the home share"
    );
    assert!((dc / home - 8.0 / (16.0 * home_up)).abs() < 0.02 * dc / home);
}

#[test]
fn a_price_path_from_a_csv_file_is_followed_and_a_zero_price_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("prices.csv"),
        "hour,usd\n0,1.0\n50,0.0\n120,0.5\n",
    )
    .expect("write");
    let token = IO_LIKE.replace(
        "price: {gbm: {initial_usd: 2.0, drift_per_year: 0.0, volatility_per_year: 0.8}}",
        "price: {csv: {path: prices.csv}}",
    );
    let text = scenario(&token);
    let s = load_str_in(&text, "t", "t", &[], dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let m = run_replication(&s, 0).metrics;
    assert_eq!(m[names::token::PRICE_USD], 0.5);
    assert_eq!(m[names::token::PRICE_HIT_ZERO], 1.0);
    assert!(
        m.values().all(|v| v.is_finite()),
        "no NaN or infinity in the outputs"
    );
}

#[test]
fn shipped_token_scenarios_carry_the_reference_schedules() {
    use depinsim::economics::emission::{helium, io_net, render};
    use depinsim::scenario::load_file;
    use depinsim::scenario::overrides::parse_override;
    let io = load_file(std::path::Path::new("scenarios/token-designs.yaml"), &[]).expect("io");
    assert_eq!(io.token().expect("token").emission, io_net());
    let one = [parse_override("simulation.replications=1").expect("override")];
    let hnt = load_file(std::path::Path::new("scenarios/token-helium.yaml"), &one).expect("hnt");
    assert_eq!(hnt.token().expect("token").emission, helium());
    // Three years of HIP-20: 24 months of 5M HNT, then 12 of 2.5M.
    let m = run_replication(&hnt, 0).metrics;
    assert_eq!(m[names::token::MINTED], 24.0 * 5e6 + 12.0 * 2.5e6);
    assert!(m[names::token::CONSERVATION_ERROR] < 1e-12);
    // Render: the shipped schedule is the reference one; its first month mints 570,426.
    let month = [
        parse_override("simulation.replications=1").expect("override"),
        parse_override("simulation.horizon_h=730.5").expect("override"),
    ];
    let rnd =
        load_file(std::path::Path::new("scenarios/token-render.yaml"), &month).expect("render");
    // (Its initial supply is the pool's tokens; the reference counts emissions only.)
    let e = &rnd.token().expect("token").emission;
    assert_eq!(
        (&e.schedule, e.epoch_h),
        (&render().schedule, render().epoch_h)
    );
    let m = run_replication(&rnd, 0).metrics;
    assert_eq!(m[names::token::MINTED], 570_426.0);
    assert!(m[names::token::CONSERVATION_ERROR] < 1e-12);
}

#[test]
fn rewards_raise_providers_returns_by_their_value() {
    let base = run(&scenario(IO_LIKE));
    let rich = run(&scenario(&IO_LIKE.replace("4566.21", "45662.1")));
    let income = |m: &Metrics| {
        m[&names::pool("dc", names::pool::INCOME_WITH_REWARDS_USD)]
            + m[&names::pool("home", names::pool::INCOME_WITH_REWARDS_USD)]
    };
    for m in [&base, &rich] {
        let profit = income(m) - m[names::provider::COST_USD];
        assert!((m[names::provider::NET_PROFIT_USD] - profit).abs() < 1e-6);
        // With direct payment, income = fees (the same busy GPU-hours at the same prices,
        // settled by epoch) + rewards.
        let rewards = income(m) - m[names::provider::REVENUE_USD];
        assert!(rewards > 0.0 && rewards <= m[names::token::MINTED_USD]);
    }
    // Ten times the emission: the same workload (same streams), ten times the rewards.
    assert_eq!(
        base[names::inference::COMPLETED_REQUESTS],
        rich[names::inference::COMPLETED_REQUESTS]
    );
    let gain = |m: &Metrics| income(m) - m[names::provider::REVENUE_USD];
    assert!(
        (gain(&rich) / gain(&base) - 10.0).abs() < 0.01,
        "{}",
        gain(&rich) / gain(&base)
    );
    assert!(
        rich[&names::provider_kind("sharing", names::provider::ROI)]
            > base[&names::provider_kind("sharing", names::provider::ROI)]
    );
}

/// One RTX 4090 (`hourly_cost_usd` its cost, `price` its users' price per GPU-hour) in one
/// region, users at `rate_per_s`, daily token epochs minting 48 tokens onto 1,000 at 1 USD
/// paid by availability, fees paid directly (unless `token_extra` says otherwise), and
/// `token_extra` (indented token keys) on top; run once.
fn one_card(
    horizon_h: f64,
    warmup_h: f64,
    card: (f64, f64),
    rate_per_s: f64,
    token_extra: &str,
) -> Metrics {
    run(&one_card_text(
        "{constant: {usd: 1}}",
        (horizon_h, warmup_h),
        card,
        rate_per_s,
        token_extra,
    ))
}

/// The scenario of the same card with the token's price `token_price`, over (horizon,
/// warm-up) `span`.
fn one_card_text(
    token_price: &str,
    span: (f64, f64),
    card: (f64, f64),
    rate_per_s: f64,
    token_extra: &str,
) -> String {
    let (horizon_h, warmup_h) = span;
    let (hourly_cost_usd, price) = card;
    format!(
        "simulation: {{horizon_h: {horizon_h}, warmup_h: {warmup_h}, epoch_h: 24, replications: 1, seed: 1}}
regions: [{{name: a}}]
providers:
  - {{name: home, region: a, gpu: rtx_4090, count: 1, hourly_cost_usd: {hourly_cost_usd}, price_usd_per_gpu_hour: {price}, mtbf_h: 1.0e12}}
inference: {{users: [{{region: a, rate_per_s: {rate_per_s}}}], model: {{name: llama-3.1-8b, context_tokens: 8192}}}}
token:
  emission: {{schedule: {{constant: {{per_epoch: 48}}}}, epoch_h: 24, initial_supply: 1000}}
  price: {token_price}
  work_share: 0
{token_extra}"
    )
}

/// See issue 12 (item 13): returns set income and cost over the same span. One card earns
/// 48 tokens at 1 USD a day (2 USD an hour) and costs 1 USD an hour; with a 12 h warm-up, a
/// 48 h horizon and daily epochs, income counted the whole first epoch (96 USD against 36 h
/// of cost: ROI 1.67). Now the epoch that straddles the warm-up counts its half after it
/// (24 + 48 = 72 USD) against the 36 h of cost to the last settled epoch: ROI 1.
#[test]
fn returns_set_income_and_cost_over_the_same_span() {
    let m = one_card(48.0, 12.0, (1.0, 0.0), 0.0001, "");
    let income = m[&names::pool("home", names::pool::INCOME_WITH_REWARDS_USD)];
    assert!((income - 72.0).abs() < 1e-9, "income {income}");
    let roi = m[&names::pool("home", names::pool::ROI)];
    assert!((roi - 1.0).abs() < 1e-9, "ROI {roi}");
    // The settled span ends at the last epoch: a 60 h horizon adds 12 h of cost but no
    // settled income, and changes nothing.
    let m = one_card(60.0, 12.0, (1.0, 0.0), 0.0001, "");
    let roi = m[&names::pool("home", names::pool::ROI)];
    assert!((roi - 1.0).abs() < 1e-9, "ROI at 60 h {roi}");
}

/// See issue 12 (item 15): yields quoted on the final market value only swing with where the
/// price and supply ended. Four daily epochs mint 48 tokens each onto 1,000 at 1 USD, no
/// staking: the supply after each is 1,048, 1,096, 1,144, 1,192, so the average base is
/// 1,120 USD against the final 1,192, and the emission yield is 192 USD over 4 days.
#[test]
fn yields_are_also_quoted_on_the_average_value_not_only_the_final() {
    let m = one_card(96.0, 0.0, (1.0, 0.5), 0.5, "");
    let years = 96.0 / 8766.0;
    let emission_final = m[names::token::EMISSION_YIELD];
    let emission_mean = m[names::token::EMISSION_YIELD_ON_MEAN];
    assert!((emission_final - 192.0 / years / 1192.0).abs() < 1e-9 * emission_final);
    assert!((emission_mean - 192.0 / years / 1120.0).abs() < 1e-9 * emission_mean);
    // Users' fees over the same two bases.
    let (real_final, real_mean) = (
        m[names::token::REAL_YIELD],
        m[names::token::REAL_YIELD_ON_MEAN],
    );
    assert!(real_final > 0.0);
    assert!((real_mean / real_final - 1192.0 / 1120.0).abs() < 1e-12);
}

/// See issue 12 (item 15): stakes cost the return their USD forgoes. One card stakes 100
/// tokens at 1 USD through two daily epochs; at 8.76% a year the stake forgoes
/// 100 x 0.0876 x 48 / 8766 = 0.048 USD, taken from the income its returns are judged on.
#[test]
fn stakes_cost_the_return_their_money_forgoes() {
    let load = |rate: f64| {
        let staking = format!("  staking: {{per_gpu: 100, cost_of_capital_per_year: {rate}}}\n");
        one_card(48.0, 0.0, (0.01, 0.3), 0.2, &staking)
    };
    let (free, costly) = (load(0.0), load(0.0876));
    let capital = costly[&names::pool("home", names::pool::STAKE_CAPITAL_COST_USD)];
    let want = 100.0 * 0.0876 * 48.0 / 8766.0;
    assert!((capital - want).abs() < 1e-12, "{capital} vs {want}");
    assert!(!free.contains_key(&names::pool("home", names::pool::STAKE_CAPITAL_COST_USD)));
    let income = |m: &Metrics| m[&names::pool("home", names::pool::INCOME_WITH_REWARDS_USD)];
    assert!((income(&free) - income(&costly) - want).abs() < 1e-9);
    let roi = |m: &Metrics| m[&names::pool("home", names::pool::ROI)];
    assert!(roi(&costly) < roi(&free));
}

/// A pool of 480 tokens against 480 USD without fee (k = 230,400), into which the card's
/// provider sells `sell` of its 48 tokens a day, valued `valuation`; two days, no warm-up,
/// free for users, costing 1 USD an hour.
fn selling_card(sell: f64, valuation: &str) -> Metrics {
    let pool = format!(
        "{{amm: {{token_reserve: 480, usd_reserve: 480, fee: 0, provider_sell_share: {sell}}}}}"
    );
    let extra = format!("  reward_valuation: {valuation}\n");
    run(&one_card_text(
        &pool,
        (48.0, 0.0),
        (1.0, 0.0),
        0.0001,
        &extra,
    ))
}

/// See issue 12 (item 15): rewards were valued only at the price when paid. The card earns
/// 48 tokens a day and sells them all into the pool: the first day's sale takes the pool
/// from 480 to 528 tokens and fetches 480 - 230,400 / 528 = 43.64 USD; the second's, to
/// 576 tokens, fetches 436.36 - 400 = 36.36 USD. At the price when paid (1, then
/// 230,400 / 528^2 = 100 / 121) the rewards are worth 48 + 48 x 100 / 121 = 87.67 USD; at
/// what the sales fetched, 480 - 400 = 80 USD; at the final price, 400 / 576 = 25 / 36,
/// 96 x 25 / 36 = 66.67 USD.
#[test]
fn rewards_can_be_valued_at_the_spot_price_what_sales_fetched_or_the_final_price() {
    let income = |m: &Metrics| m[&names::pool("home", names::pool::INCOME_WITH_REWARDS_USD)];
    let roi = |m: &Metrics| m[&names::pool("home", names::pool::ROI)];
    let k = 230_400.0;
    for (valuation, want) in [
        ("spot", 48.0 + 48.0 * 100.0 / 121.0),
        ("sales", 80.0),
        ("final", 96.0 * 25.0 / 36.0),
    ] {
        let m = selling_card(1.0, valuation);
        assert!(
            (income(&m) - want).abs() < 1e-9,
            "{valuation}: {}",
            income(&m)
        );
        // 48 h at 1 USD an hour.
        assert!((roi(&m) - (want - 48.0) / 48.0).abs() < 1e-9, "{valuation}");
        assert!((m[names::token::PROVIDER_SALES_USD] - 80.0).abs() < 1e-9);
        assert!((m[names::token::PRICE_USD] - k / (576.0 * 576.0)).abs() < 1e-12);
    }
    // Selling half: each day 24 tokens fetch what the pool pays, and the 24 kept are worth
    // the price after the sale, k / 504^2 on the first day and k / 528^2 on the second.
    let fetched = 480.0 - k / 528.0;
    let kept = 24.0 * (k / (504.0 * 504.0) + k / (528.0 * 528.0));
    let m = selling_card(0.5, "sales");
    let want = fetched + kept;
    assert!((income(&m) - want).abs() < 1e-9, "{} vs {want}", income(&m));
}

/// See issue 12 (item 15): the supply rule judges rewards as they are valued. The card
/// costs 0.9 USD an hour (hurdle: 1.035) and sells its first day's 48 tokens into a pool of
/// 48 against 48 USD, fetching 24 USD and leaving the price at 24 / 96 = 0.25. At the price
/// when paid it earned 48 USD in 24 h, 2 an hour: a second card joins. At what the sale
/// fetched, 1 an hour: above the operating cost, below the hurdle, nothing moves. At the
/// price after the sale, 48 x 0.25 = 12 USD, 0.5 an hour: a loss, and the card leaves.
#[test]
fn supply_reviews_judge_rewards_as_they_are_valued() {
    let supply = "supply: {review_h: 24, join_share: 1, onboarding_h: 1, exit_after_reviews: 1, exit_share: 1}\n";
    let review = |valuation: &str| {
        let extra = format!("  reward_valuation: {valuation}\n");
        let pool = "{amm: {token_reserve: 48, usd_reserve: 48, fee: 0, provider_sell_share: 1}}";
        let text = one_card_text(pool, (30.0, 0.0), (0.9, 0.0), 0.0001, &extra)
            .replace("count: 1,", "count: 1, max_count: 2,");
        run(&format!("{text}{supply}"))
    };
    let moved = |m: &Metrics| {
        (
            m[&names::pool("home", names::pool::JOINED_GPUS)],
            m[&names::pool("home", names::pool::LEFT_GPUS)],
        )
    };
    assert_eq!(moved(&review("spot")), (1.0, 0.0));
    assert_eq!(moved(&review("sales")), (0.0, 0.0));
    assert_eq!(moved(&review("final")), (0.0, 1.0));
}

/// See issue 12 (item 15): an outside price filled any purchase at its price. A day's fees
/// F burned at 1 USD buy F tokens from an unlimited market; through a book of depth D = 10
/// USD (10 tokens against 10 USD) they buy 10 x F / (10 + F), at 1 + F / 10 USD each.
#[test]
fn an_outside_price_with_a_stated_depth_burns_fewer_tokens_for_the_same_fees() {
    let burn = |depth: &str| {
        let extra = format!("  payment: burn_and_mint\n{depth}");
        run(&one_card_text(
            "{constant: {usd: 1}}",
            (24.0, 0.0),
            (0.1, 2.0),
            0.5,
            &extra,
        ))
    };
    let unlimited = burn("");
    let thin = burn("  market_depth_usd: 10\n");
    let fees = unlimited[names::token::USERS_PAID_USD];
    assert!(fees > 1.0, "fees {fees}");
    assert_eq!(fees, thin[names::token::USERS_PAID_USD], "the same work");
    assert!((unlimited[names::token::BURNED] - fees).abs() < 1e-9 * fees);
    let want = 10.0 * fees / (10.0 + fees);
    let burned = thin[names::token::BURNED];
    assert!((burned - want).abs() < 1e-9 * want, "{burned} vs {want}");
    assert!((thin[names::token::BURN_USD] - fees).abs() < 1e-9 * fees);
    assert!(thin[names::token::CONSERVATION_ERROR] < 1e-12);
    // The path's price is the outside market's again when the next epoch opens.
    assert_eq!(thin[names::token::PRICE_USD], 1.0);
    // Providers sell nothing to an outside market, so what sales fetched values their
    // rewards at the path's price, as spot does: not at the book's price after the burns,
    // which lasts no longer than the epoch.
    let sales = burn("  market_depth_usd: 10\n  reward_valuation: sales\n");
    let income = |m: &Metrics| m[names::provider::INCOME_USD];
    assert_eq!(income(&sales), income(&thin));
}
