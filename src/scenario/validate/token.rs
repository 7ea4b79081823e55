//! The `token` section: the emission within its maximum supply over the horizon, a price
//! path that resolves (a CSV file read beforehand, see `files.rs`) and the depth of its
//! market, the shares of each emission and fee, and the staking, lock-up and settlement
//! rules in token epochs.

use super::files::Files;
use crate::core::diagnostics::Issues;
use crate::core::engine::{SimTime, from_secs};
use crate::core::path::YamlPath;
use crate::core::units::NANOS_PER_HOUR;
use crate::economics::ledger::{Design, Lockup, Settlement, StakeRule};
use crate::economics::onchain::Chain;
use crate::economics::price::PricePathSpec;
use crate::scenario::defaults::{MAX_MARKET_DEPTH_USD, MIN_MARKET_DEPTH_USD};
use crate::scenario::raw::{RawChain, RawLockup, RawSettlement, RawStaking, RawToken};
use crate::scenario::spec::TokenSpec;

/// The token at `at` over a run of `horizon`; `stakers` is the number of GPUs in the network
/// at the start. None after a problem.
pub(super) fn validate(
    t: &RawToken,
    horizon: SimTime,
    stakers: u64,
    files: &Files,
    at: &YamlPath,
    issues: &mut Issues,
) -> Option<TokenSpec> {
    let ep = at.key("emission");
    let mut ok = t
        .emission
        .validate(horizon as f64 / NANOS_PER_HOUR, &ep, issues);
    let price = t
        .price
        .resolve(|file| files.text(file), &at.key("price"), issues);
    ok &= shares(t, at, issues);
    ok &= market_depth(t, at, issues);
    let rules = rules(t, stakers, at, issues);
    ok &= rules.is_some();
    let epoch = from_secs(t.emission.epoch_h * 3600.0);
    if ok && epoch == 0 {
        ok = false;
        issues.push(
            &ep.key("epoch_h"),
            "shorter than a nanosecond",
            "give the epoch length in hours, e.g. 24",
        );
    }
    let (price, rules) = (price?, rules?);
    let sell_share = match &t.price {
        PricePathSpec::Amm(a) => a.provider_sell_share,
        _ => 0.0,
    };
    ok.then(|| TokenSpec {
        symbol: t.symbol.clone(),
        emission: t.emission.clone(),
        epoch,
        price,
        design: Design {
            staking: rules.staking,
            lockup: rules.lockup,
            settlement: rules.settlement,
            sell_share,
            ..Design::basic(t.work_share, t.payment, t.take_rate)
        },
        market_depth_usd: t.market_depth_usd,
        reward_valuation: t.reward_valuation,
    })
}

/// Whether the outside market's depth under the token at `at`, if given, is a positive
/// number of USD for an exogenous price.
fn market_depth(t: &RawToken, at: &YamlPath, issues: &mut Issues) -> bool {
    let Some(depth) = t.market_depth_usd else {
        return true;
    };
    let at = at.key("market_depth_usd");
    if matches!(t.price, PricePathSpec::Amm(_)) {
        issues.push(
            &at,
            "an `amm` price is a pool of its own depth (its reserves), not an outside market",
            "remove market_depth_usd, or give an exogenous price (constant, gbm or csv)",
        );
        return false;
    }
    issues.within(
        &at,
        depth,
        MIN_MARKET_DEPTH_USD,
        MAX_MARKET_DEPTH_USD,
        "give the USD of the outside market's depth, e.g. 1000000 (about 100 times the +2% depth an exchange quotes), or leave it out for unlimited depth",
    )
}

/// Whether the shares of each emission paid for work and of each fee kept, at `at`, are
/// shares.
fn shares(t: &RawToken, at: &YamlPath, issues: &mut Issues) -> bool {
    issues.within(
        &at.key("work_share"),
        t.work_share,
        0.0,
        1.0,
        "a share between 0 and 1: the part of each emission paid for work, the rest for availability",
    ) & issues.within(
        &at.key("take_rate"),
        t.take_rate,
        0.0,
        1.0,
        "a share between 0 and 1, e.g. 0.05",
    )
}

/// The token's optional rules, in token epochs.
struct Rules {
    staking: Option<StakeRule>,
    lockup: Option<Lockup>,
    settlement: Option<Settlement>,
}

/// The staking, lock-up and settlement rules under the token at `at`; None after a problem.
fn rules(t: &RawToken, stakers: u64, at: &YamlPath, issues: &mut Issues) -> Option<Rules> {
    let epoch_h = t.emission.epoch_h;
    let mut ok = true;
    let staking = t.staking.as_ref().map(|s| {
        let (rule, fine) = staking(s, t, stakers, &at.key("staking"), issues);
        ok &= fine;
        rule
    });
    if staking.is_none() {
        ok &= pool_within_supply(t, at, issues);
    }
    let lockup = t.reward_lockup.as_ref().map(|l| {
        let (rule, fine) = lockup(l, epoch_h, &at.key("reward_lockup"), issues);
        ok &= fine;
        rule
    });
    let settlement = t.settlement.as_ref().map(|s| {
        let (rule, fine) = settlement(s, &at.key("settlement"), issues);
        ok &= fine;
        rule
    });
    ok.then_some(Rules {
        staking,
        lockup,
        settlement,
    })
}

/// Whole token epochs of `epoch_h` hours in `h` hours, rounded up, at least 1.
fn epochs(h: f64, epoch_h: f64) -> u32 {
    (h / epoch_h).ceil().clamp(1.0, f64::from(u32::MAX)) as u32
}

/// The tokens in the market pool at the start, if the price is a pool's.
fn pool_reserve(t: &RawToken) -> Option<f64> {
    match &t.price {
        PricePathSpec::Amm(a) => Some(a.token_reserve),
        _ => None,
    }
}

/// The staking rule at `at`, and whether it is valid: the stakes of the `stakers` GPUs at
/// the start and the pool's reserve must come out of the initial supply.
fn staking(
    s: &RawStaking,
    t: &RawToken,
    stakers: u64,
    at: &YamlPath,
    issues: &mut Issues,
) -> (StakeRule, bool) {
    let in_range = issues.non_negative(&at.key("per_gpu"), s.per_gpu, "tokens per GPU, e.g. 1000")
        & issues.non_negative(&at.key("unbonding_h"), s.unbonding_h, "hours, e.g. 504")
        & issues.within(
            &at.key("slash_per_failure"),
            s.slash_per_failure,
            0.0,
            1.0,
            "a share of the stake, e.g. 0.01",
        )
        & issues.non_negative(
            &at.key("slash_per_slo_miss"),
            s.slash_per_slo_miss,
            "tokens per request, e.g. 0.1",
        )
        & issues.within(
            &at.key("cost_of_capital_per_year"),
            s.cost_of_capital_per_year,
            0.0,
            1.0,
            "a return per year, e.g. 0.045",
        );
    let ok = in_range && stakes_within_supply(s, t, stakers, at, issues);
    let rule = StakeRule {
        per_gpu: s.per_gpu,
        unbonding_epochs: if s.unbonding_h > 0.0 {
            epochs(s.unbonding_h, t.emission.epoch_h)
        } else {
            0
        },
        slash_per_failure: s.slash_per_failure,
        slash_per_slo_miss: s.slash_per_slo_miss,
        cost_of_capital_per_year: s.cost_of_capital_per_year,
    };
    (rule, ok)
}

/// Whether the stakes of `stakers` GPUs and the market pool's tokens come out of the
/// initial supply.
fn stakes_within_supply(
    s: &RawStaking,
    t: &RawToken,
    stakers: u64,
    at: &YamlPath,
    issues: &mut Issues,
) -> bool {
    let need = s.per_gpu * stakers as f64;
    let pool = pool_reserve(t).map_or(0.0, |r| r.max(0.0));
    if need + pool <= t.emission.initial_supply {
        return true;
    }
    issues.push(
        &at.key("per_gpu"),
        format!(
            "{stakers} GPUs staking {} each need {need} tokens, and the market pool holds {pool}, but the initial supply is {}",
            s.per_gpu, t.emission.initial_supply
        ),
        "lower per_gpu or the pool's token_reserve, or raise emission.initial_supply",
    );
    false
}

/// Without staking, whether the market pool's tokens (under the token at `at`) come out of
/// the initial supply.
fn pool_within_supply(t: &RawToken, at: &YamlPath, issues: &mut Issues) -> bool {
    let Some(reserve) = pool_reserve(t).filter(|&r| r > t.emission.initial_supply) else {
        return true;
    };
    issues.push(
        &at.key("price").key("amm").key("token_reserve"),
        format!(
            "the pool's {reserve} tokens are more than the initial supply of {}",
            t.emission.initial_supply
        ),
        "lower token_reserve or raise emission.initial_supply",
    );
    false
}

/// The lock-up at `at` in epochs of `epoch_h` hours, and whether it is valid.
fn lockup(l: &RawLockup, epoch_h: f64, at: &YamlPath, issues: &mut Issues) -> (Lockup, bool) {
    let ok = issues.within(
        &at.key("share"),
        l.share,
        0.0,
        1.0,
        "a share between 0 and 1, e.g. 0.75",
    ) & issues.positive(
        &at.key("release_h"),
        l.release_h,
        "hours, e.g. 4320 (180 days)",
    );
    let rule = Lockup {
        share: l.share,
        release_epochs: epochs(l.release_h, epoch_h),
    };
    (rule, ok)
}

/// The settlement at `at`: the chain's fees and the batch, and whether they are valid.
fn settlement(s: &RawSettlement, at: &YamlPath, issues: &mut Issues) -> (Settlement, bool) {
    let chain = match s.chain {
        RawChain::Solana { sol_usd } => Chain::solana(sol_usd, 1, 0.0, 0),
        RawChain::Ethereum {
            gas_price_gwei,
            eth_usd,
        } => Chain::ethereum_l1(gas_price_gwei, eth_usd),
        RawChain::L2 { fee_per_tx_usd } => Chain::l2_assumed(fee_per_tx_usd),
        RawChain::Custom {
            fee_per_tx_usd,
            fee_per_payment_usd,
        } => Chain {
            name: "custom".into(),
            fee_per_tx_usd,
            fee_per_payment_usd,
            assumptions: String::new(),
        },
    };
    let fix = "give the payments carried by one transaction, e.g. 100";
    let ok = chain.validate(&at.key("chain"), issues)
        & issues.at_least_one(&at.key("batch"), s.batch, fix);
    let rule = Settlement {
        fee_per_tx_usd: chain.fee_per_tx_usd,
        fee_per_payment_usd: chain.fee_per_payment_usd,
        batch: s.batch,
    };
    (rule, ok)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, load, load_in};
    use super::*;

    /// A token section: 10 tokens an hour from a supply of 1,000, a constant price, with
    /// the fields `rest` adds (none repeating these).
    fn token(rest: &str) -> String {
        format!(
            "token: {{emission: {{schedule: {{constant: {{per_epoch: 10}}}}, epoch_h: 24, initial_supply: 1000}}, work_share: 0.5{rest}}}"
        )
    }

    #[test]
    fn every_part_of_the_token_is_checked_at_once() {
        let cases: [(String, &[(&str, &str)]); 8] = [
            (token(", price: {constant: {usd: 1}}"), &[]),
            (
                token(", price: {constant: {usd: 0}}, take_rate: -0.1")
                    .replace("work_share: 0.5", "work_share: 1.5"),
                &[
                    (
                        "token.price",
                        "constant usd must be positive and finite, got 0",
                    ),
                    ("token.work_share", "must be between 0 and 1, got 1.5"),
                    ("token.take_rate", "must be between 0 and 1, got -0.1"),
                ],
            ),
            (
                // Four H100s staking 300 each need 1,200 of the 1,000 tokens.
                token(
                    ", price: {constant: {usd: 1}}, staking: {per_gpu: 300, slash_per_failure: 2}",
                ),
                &[("token.staking.slash_per_failure", "must be between 0 and 1")],
            ),
            (
                token(", price: {constant: {usd: 1}}, staking: {per_gpu: 300}"),
                &[(
                    "token.staking.per_gpu",
                    "4 GPUs staking 300 each need 1200 tokens, and the market pool holds 0, but the initial supply is 1000",
                )],
            ),
            (
                token(
                    ", price: {amm: {token_reserve: 2000, usd_reserve: 100, provider_sell_share: 0.5}}",
                ),
                &[(
                    "token.price.amm.token_reserve",
                    "the pool's 2000 tokens are more than the initial supply of 1000",
                )],
            ),
            (
                token(
                    ", price: {gbm: {initial_usd: 1, drift_per_year: 0, volatility_per_year: 1}}, market_depth_usd: 1e307",
                ),
                &[("token.market_depth_usd", "must be between 0.01 and")],
            ),
            (
                token(
                    ", price: {amm: {token_reserve: 100, usd_reserve: 100, provider_sell_share: 0.5}}, market_depth_usd: 1000",
                ),
                &[(
                    "token.market_depth_usd",
                    "an `amm` price is a pool of its own depth",
                )],
            ),
            (
                token(
                    ", price: {constant: {usd: 1}}, reward_lockup: {share: 2, release_h: 0},
                       settlement: {chain: {solana: {sol_usd: 0}}, batch: 0}",
                ),
                &[
                    ("token.reward_lockup.share", "must be between 0 and 1"),
                    ("token.reward_lockup.release_h", "must be a positive number"),
                    (
                        "token.settlement.chain",
                        "fee_per_tx_usd is 0; it must be a finite number greater than 0",
                    ),
                    ("token.settlement.batch", "must be at least 1"),
                ],
            ),
        ];
        for (fragment, want) in cases {
            check(&fragment, want);
        }
    }

    #[test]
    fn the_emission_must_fit_its_cap_and_its_epoch_a_nanosecond() {
        // Two hourly epochs of 10 tokens over the base's 2 hours, 5 tokens under the cap.
        let capped = token(", price: {constant: {usd: 1}}").replace(
            "epoch_h: 24, initial_supply: 1000",
            "epoch_h: 1, initial_supply: 1000, max_supply: 1005",
        );
        check(
            &capped,
            &[(
                "token.emission.schedule",
                "mints 2.000000e1 tokens in 2 h, more than the 5.000000e0 left",
            )],
        );
        let short = token(", price: {constant: {usd: 1}}").replace("epoch_h: 24", "epoch_h: 1e-13");
        check(
            &short,
            &[("token.emission.epoch_h", "shorter than a nanosecond")],
        );
    }

    #[test]
    fn a_price_csv_is_read_beside_the_scenario() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("p.csv"), "hour,usd\n0,1\n10,3\n").expect("write");
        std::fs::write(dir.path().join("bad.csv"), "0,1\n0,2\n").expect("write");
        let s = load_in(&token(", price: {csv: {path: p.csv}}"), dir.path()).expect("valid");
        let price = &s.token().expect("a token").price;
        assert_eq!(
            price,
            &crate::economics::price::PricePath::Csv {
                points: vec![(0.0, 1.0), (10.0, 3.0)]
            }
        );
        for (file, message) in [
            ("bad.csv", "bad.csv: line 2: hours not increasing"),
            ("nowhere.csv", "nowhere.csv: "),
        ] {
            let issues = load_in(
                &token(&format!(", price: {{csv: {{path: {file}}}}}")),
                dir.path(),
            )
            .unwrap_err();
            assert_eq!(issues.len(), 1, "{issues:?}");
            assert_eq!(issues[0].path.to_string(), "token.price");
            assert!(
                issues[0].message.starts_with(message),
                "{}",
                issues[0].message
            );
        }
    }

    #[test]
    fn rules_are_counted_in_token_epochs() {
        let s = load(&token(
            ", price: {constant: {usd: 1}}, staking: {per_gpu: 100}, reward_lockup: {share: 0.75, release_h: 4320},
               settlement: {chain: {custom: {fee_per_tx_usd: 0.01}}, batch: 10}",
        ))
        .expect("valid");
        let t = s.token().expect("a token");
        assert_eq!(t.epoch, from_secs(24.0 * 3600.0));
        let d = &t.design;
        let stake = d.staking.as_ref().expect("staking");
        assert_eq!(
            (stake.per_gpu, stake.unbonding_epochs),
            (100.0, 21),
            "504 h of 24-hour epochs"
        );
        let lock = d.lockup.as_ref().expect("lock-up");
        assert_eq!((lock.share, lock.release_epochs), (0.75, 180));
        let pay = d.settlement.as_ref().expect("settlement");
        assert_eq!(
            (pay.fee_per_tx_usd, pay.fee_per_payment_usd, pay.batch),
            (0.01, 0.0, 10)
        );
        assert_eq!(epochs(1.0, 24.0), 1, "at least one epoch");
        assert_eq!(epochs(25.0, 24.0), 2, "rounded up");
    }
}
