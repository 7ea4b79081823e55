//! Checks of the economy's sections: provider costs, supply, pricing, and the token's
//! staking, lock-up, settlement and verification.

use super::defaults::{
    self, DATACENTER_PUE, IDLE_POWER_SHARE, LIFETIME_YEARS, MAX_HORIZON_H, ONE_SECOND_H,
};
use super::raw::{PricingPolicy, RawChain, RawProviderGroup, RawScenario, RawToken};
use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::economics::ledger::{Lockup, Settlement, StakeRule};
use crate::economics::onchain::Chain;
use crate::economics::pricing::{Pricing, UtilisationRule};
use crate::economics::provider::{CostItems, CostModel, ProviderKind, SupplyRule};
use crate::physics::gpu::GpuClass;

/// A provider group's cost model, filling its defaults in place; None after an issue.
pub(super) fn cost_model(
    g: &mut RawProviderGroup,
    class: Option<&GpuClass>,
    kind: ProviderKind,
    electricity: f64,
    gp: &YamlPath,
    issues: &mut Issues,
) -> Option<CostModel> {
    match (g.hourly_cost_usd, g.costs.as_mut()) {
        (Some(_), Some(_)) => {
            issues.push(
                &gp.key("costs"),
                "both hourly_cost_usd and costs are given",
                "keep one: hourly_cost_usd for one all-in figure, or costs item by item",
            );
            None
        }
        (None, None) => {
            issues.push(
                gp,
                "the group's costs are missing",
                "give hourly_cost_usd (all-in USD per GPU-hour online) or costs (item by item)",
            );
            None
        }
        (Some(h), None) => issues
            .non_negative(
                &gp.key("hourly_cost_usd"),
                h,
                "give the provider's cost per GPU-hour in USD",
            )
            .then(|| CostModel::flat(h)),
        (None, Some(_)) if class.is_none() => None,
        (None, Some(c)) => {
            let class = class?;
            let cp = gp.key("costs");
            let dc = kind == ProviderKind::Datacenter;
            let hardware = match c.hardware_usd {
                Some(h) => h,
                None if dc => {
                    issues.push(
                        &cp.key("hardware_usd"),
                        "a datacenter provider's hardware price is missing",
                        "give the price paid per GPU in USD, its share of the host included",
                    );
                    0.0
                }
                None => defaults::SHARING_HARDWARE_USD,
            };
            c.hardware_usd = Some(hardware);
            let lifetime = *c.lifetime_years.get_or_insert(LIFETIME_YEARS);
            let busy = *c.busy_power_w.get_or_insert(class.tdp_w);
            let idle = *c.idle_power_w.get_or_insert(IDLE_POWER_SHARE * class.tdp_w);
            let pue = *c.pue.get_or_insert(if dc {
                DATACENTER_PUE
            } else {
                defaults::SHARING_PUE
            });
            let kwh = *c.electricity_usd_per_kwh.get_or_insert(electricity);
            let mut ok = issues.non_negative(&cp.key("hardware_usd"), hardware, "e.g. 1599")
                & issues.positive(&cp.key("lifetime_years"), lifetime, "e.g. 5")
                & issues.non_negative(&cp.key("busy_power_w"), busy, "e.g. 700")
                & issues.non_negative(&cp.key("idle_power_w"), idle, "e.g. 70")
                & issues.within(
                    &cp.key("pue"),
                    pue,
                    1.0,
                    5.0,
                    "1 for a home, about 1.56 for a datacenter",
                )
                & issues.non_negative(&cp.key("electricity_usd_per_kwh"), kwh, "e.g. 0.13")
                & issues.non_negative(
                    &cp.key("hosting_usd_per_hour"),
                    c.hosting_usd_per_hour,
                    "e.g. 0",
                )
                & issues.non_negative(
                    &cp.key("bandwidth_usd_per_month"),
                    c.bandwidth_usd_per_month,
                    "e.g. 50",
                )
                & issues.non_negative(
                    &cp.key("opportunity_usd_per_hour"),
                    c.opportunity_usd_per_hour,
                    "e.g. 0",
                );
            if ok && idle > busy {
                ok = false;
                issues.push(
                    &cp.key("idle_power_w"),
                    format!("idle power ({idle} W) is above busy power ({busy} W)"),
                    "give an idle draw below the busy draw",
                );
            }
            (ok && hardware.is_finite()).then(|| {
                CostItems {
                    hardware_usd: hardware,
                    lifetime_years: lifetime,
                    busy_power_w: busy,
                    idle_power_w: idle,
                    pue,
                    electricity_usd_per_kwh: kwh,
                    hosting_usd_per_hour: c.hosting_usd_per_hour,
                    bandwidth_usd_per_month: c.bandwidth_usd_per_month,
                    opportunity_usd_per_hour: c.opportunity_usd_per_hour,
                }
                .model()
            })
        }
    }
}

/// The supply rule, if the scenario has one.
pub(super) fn supply(raw: &RawScenario, issues: &mut Issues) -> Option<SupplyRule> {
    let s = raw.supply.as_ref()?;
    let p = YamlPath::root().key("supply");
    let ok = issues.within(
        &p.key("review_h"),
        s.review_h,
        ONE_SECOND_H,
        MAX_HORIZON_H,
        "hours between reviews, e.g. 168",
    ) & issues.within(
        &p.key("hurdle"),
        s.hurdle,
        0.0,
        100.0,
        "a share above full cost, e.g. 0.15",
    ) & issues.within(
        &p.key("join_share"),
        s.join_share,
        1e-9,
        1.0,
        "a share between 0 and 1, e.g. 0.1",
    ) & issues.non_negative(&p.key("onboarding_h"), s.onboarding_h, "hours, e.g. 72")
        & issues.within(
            &p.key("exit_share"),
            s.exit_share,
            1e-9,
            1.0,
            "a share between 0 and 1, e.g. 0.25",
        );
    if s.exit_after_reviews == 0 {
        issues.push(
            &p.key("exit_after_reviews"),
            "must be at least 1",
            "give the reviews of losses before GPUs leave, e.g. 4",
        );
        return None;
    }
    ok.then_some(*s)
}

/// The pricing policy. Its utilisation rule is checked whatever the policy, so that a
/// scenario switched to `utilisation` with `--set` is as valid as it was.
pub(super) fn pricing(raw: &RawScenario, issues: &mut Issues) -> Pricing {
    let r = &raw.pricing;
    let rule = UtilisationRule {
        target: r.target,
        elasticity: r.elasticity,
        min_multiplier: r.min_multiplier,
        max_multiplier: r.max_multiplier,
    };
    rule.validate(&YamlPath::root().key("pricing"), issues);
    match r.policy {
        PricingPolicy::Fixed => Pricing::Fixed,
        PricingPolicy::Utilisation => Pricing::Utilisation(rule),
        PricingPolicy::Asking => Pricing::Asking,
    }
}

/// The token's staking, lock-up and settlement rules in epochs of `epoch_h`; `stakers` is
/// the number of GPUs staking at the start. None after an issue.
pub(super) fn token_rules(
    t: &RawToken,
    epoch_h: f64,
    stakers: u64,
    issues: &mut Issues,
) -> Option<(Option<StakeRule>, Option<Lockup>, Option<Settlement>)> {
    let tp = YamlPath::root().key("token");
    let epochs = |h: f64| (h / epoch_h).ceil().clamp(1.0, f64::from(u32::MAX)) as u32;
    let mut ok = true;
    let staking = t.staking.as_ref().map(|s| {
        let sp = tp.key("staking");
        ok &= issues.non_negative(&sp.key("per_gpu"), s.per_gpu, "tokens per GPU, e.g. 1000")
            & issues.non_negative(&sp.key("unbonding_h"), s.unbonding_h, "hours, e.g. 504")
            & issues.within(&sp.key("slash_per_failure"), s.slash_per_failure, 0.0, 1.0, "a share of the stake, e.g. 0.01")
            & issues.non_negative(&sp.key("slash_per_slo_miss"), s.slash_per_slo_miss, "tokens per request, e.g. 0.1");
        let need = s.per_gpu * stakers as f64;
        let pool = match &t.price {
            crate::economics::price::PricePathSpec::Amm(a) => a.token_reserve.max(0.0),
            _ => 0.0,
        };
        if ok && need + pool > t.emission.initial_supply {
            ok = false;
            issues.push(
                &sp.key("per_gpu"),
                format!(
                    "{stakers} GPUs staking {} each need {need} tokens, and the market pool holds {pool}, but the initial supply is {}",
                    s.per_gpu, t.emission.initial_supply
                ),
                "lower per_gpu or the pool's token_reserve, or raise emission.initial_supply",
            );
        }
        StakeRule {
            per_gpu: s.per_gpu,
            unbonding_epochs: if s.unbonding_h > 0.0 { epochs(s.unbonding_h) } else { 0 },
            slash_per_failure: s.slash_per_failure,
            slash_per_slo_miss: s.slash_per_slo_miss,
        }
    });
    if staking.is_none()
        && let crate::economics::price::PricePathSpec::Amm(a) = &t.price
        && a.token_reserve > t.emission.initial_supply
    {
        ok = false;
        issues.push(
            &tp.key("price").key("amm").key("token_reserve"),
            format!(
                "the pool's {} tokens are more than the initial supply of {}",
                a.token_reserve, t.emission.initial_supply
            ),
            "lower token_reserve or raise emission.initial_supply",
        );
    }
    let lockup = t.reward_lockup.as_ref().map(|l| {
        let lp = tp.key("reward_lockup");
        ok &= issues.within(
            &lp.key("share"),
            l.share,
            0.0,
            1.0,
            "a share between 0 and 1, e.g. 0.75",
        ) & issues.positive(
            &lp.key("release_h"),
            l.release_h,
            "hours, e.g. 4320 (180 days)",
        );
        Lockup {
            share: l.share,
            release_epochs: epochs(l.release_h),
        }
    });
    let settlement = t.settlement.as_ref().map(|s| {
        let sp = tp.key("settlement");
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
        ok &= chain.validate(&sp.key("chain"), issues);
        if s.batch == 0 {
            ok = false;
            issues.push(
                &sp.key("batch"),
                "must be at least 1",
                "give the payments carried by one transaction, e.g. 100",
            );
        }
        Settlement {
            fee_per_tx_usd: chain.fee_per_tx_usd,
            fee_per_payment_usd: chain.fee_per_payment_usd,
            batch: s.batch,
        }
    });
    ok.then_some((staking, lockup, settlement))
}

/// Executions per request and spot-check rate; `groups` provider groups can serve.
pub(super) fn verification(raw: &RawScenario, groups: usize, issues: &mut Issues) -> (u32, f64) {
    let Some(t) = raw.token.as_ref() else {
        return (defaults::REDUNDANCY, defaults::SPOT_CHECK_RATE);
    };
    let v = &t.verification;
    let vp = YamlPath::root().key("token").key("verification");
    issues.within(
        &vp.key("spot_check_rate"),
        v.spot_check_rate,
        0.0,
        1.0,
        "a share of requests, e.g. 0.05",
    );
    let extra = v.redundancy.saturating_sub(1) + u32::from(v.spot_check_rate > 0.0);
    if v.redundancy == 0 {
        issues.push(
            &vp.key("redundancy"),
            "must be at least 1",
            "1 runs each request once; 2 runs it twice on different groups",
        );
    } else if extra as usize >= groups.max(1) {
        issues.push(
            &vp.key("redundancy"),
            format!(
                "each request needs {} different groups, but {groups} can serve",
                extra + 1
            ),
            "lower redundancy (or spot checks), or add provider groups",
        );
    }
    (v.redundancy.max(1), v.spot_check_rate)
}
