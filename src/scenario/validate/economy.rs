//! The economy's sections but for the token's own (`token.rs`): what a provider group's GPUs
//! cost (all in, or item by item with defaults by kind), providers joining and leaving,
//! pricing, and verification by running requests again elsewhere.

use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::economics::pricing::{Pricing, UtilisationRule};
use crate::economics::provider::{CostItems, CostModel, ProviderKind, SupplyRule};
use crate::physics::gpu::GpuClass;
use crate::scenario::defaults::{self, MAX_HORIZON_H, ONE_SECOND_H};
use crate::scenario::raw::{PricingPolicy, RawCosts, RawPricing, RawProviderGroup, RawToken};

/// The costs of the group at `at`, of `kind` and paying `electricity` USD per kWh in its
/// region: `hourly_cost_usd` or `costs`, exactly one. Fills the items' defaults in place;
/// None after a problem, or when the class is unknown.
pub(super) fn cost_model(
    g: &mut RawProviderGroup,
    class: Option<&GpuClass>,
    kind: ProviderKind,
    electricity: f64,
    at: &YamlPath,
    issues: &mut Issues,
) -> Option<CostModel> {
    match (g.hourly_cost_usd, g.costs.as_mut()) {
        (Some(_), Some(_)) => {
            issues.push(
                &at.key("costs"),
                "both hourly_cost_usd and costs are given",
                "keep one: hourly_cost_usd for one all-in figure, or costs item by item",
            );
            None
        }
        (None, None) => {
            issues.push(
                at,
                "the group's costs are missing",
                "give hourly_cost_usd (all-in USD per GPU-hour online) or costs (item by item)",
            );
            None
        }
        (Some(h), None) => issues
            .non_negative(
                &at.key("hourly_cost_usd"),
                h,
                "give the provider's cost per GPU-hour in USD",
            )
            .then(|| CostModel::flat(h)),
        (None, Some(c)) => {
            let dc = kind == ProviderKind::Datacenter;
            let items = filled(c, class?, dc, electricity, &at.key("costs"), issues);
            checked(&items, &at.key("costs"), issues).then(|| items.model())
        }
    }
}

/// The items of `c`, filling what is left out: hardware already owned by a sharing provider
/// (a datacenter's is required), its write-off period, power from the class's board power,
/// PUE by kind (`dc`: datacenter), the region's electricity price.
fn filled(
    c: &mut RawCosts,
    class: &GpuClass,
    dc: bool,
    electricity: f64,
    at: &YamlPath,
    issues: &mut Issues,
) -> CostItems {
    let hardware = match c.hardware_usd {
        Some(h) => h,
        None if dc => {
            issues.push(
                &at.key("hardware_usd"),
                "a datacenter provider's hardware price is missing",
                "give the price paid per GPU in USD, its share of the host included",
            );
            0.0
        }
        None => defaults::SHARING_HARDWARE_USD,
    };
    c.hardware_usd = Some(hardware);
    CostItems {
        hardware_usd: hardware,
        lifetime_years: *c.lifetime_years.get_or_insert(defaults::LIFETIME_YEARS),
        busy_power_w: *c.busy_power_w.get_or_insert(class.tdp_w),
        idle_power_w: *c
            .idle_power_w
            .get_or_insert(defaults::IDLE_POWER_SHARE * class.tdp_w),
        pue: *c.pue.get_or_insert(if dc {
            defaults::DATACENTER_PUE
        } else {
            defaults::SHARING_PUE
        }),
        electricity_usd_per_kwh: *c.electricity_usd_per_kwh.get_or_insert(electricity),
        hosting_usd_per_hour: c.hosting_usd_per_hour,
        bandwidth_usd_per_month: c.bandwidth_usd_per_month,
        opportunity_usd_per_hour: c.opportunity_usd_per_hour,
    }
}

/// Whether every item at `at` is in range, idle power no more than busy power.
fn checked(c: &CostItems, at: &YamlPath, issues: &mut Issues) -> bool {
    let ok = issues.non_negative(&at.key("hardware_usd"), c.hardware_usd, "e.g. 1599")
        & issues.positive(&at.key("lifetime_years"), c.lifetime_years, "e.g. 5")
        & issues.non_negative(&at.key("busy_power_w"), c.busy_power_w, "e.g. 700")
        & issues.non_negative(&at.key("idle_power_w"), c.idle_power_w, "e.g. 70")
        & issues.within(
            &at.key("pue"),
            c.pue,
            1.0,
            5.0,
            "1 for a home, about 1.56 for a datacenter",
        )
        & issues.non_negative(
            &at.key("electricity_usd_per_kwh"),
            c.electricity_usd_per_kwh,
            "e.g. 0.13",
        )
        & issues.non_negative(
            &at.key("hosting_usd_per_hour"),
            c.hosting_usd_per_hour,
            "e.g. 0",
        )
        & issues.non_negative(
            &at.key("bandwidth_usd_per_month"),
            c.bandwidth_usd_per_month,
            "e.g. 50",
        )
        & issues.non_negative(
            &at.key("opportunity_usd_per_hour"),
            c.opportunity_usd_per_hour,
            "e.g. 0",
        );
    if ok && c.idle_power_w > c.busy_power_w {
        issues.push(
            &at.key("idle_power_w"),
            format!(
                "idle power ({} W) is above busy power ({} W)",
                c.idle_power_w, c.busy_power_w
            ),
            "give an idle draw below the busy draw",
        );
        return false;
    }
    ok
}

/// The supply rule at `at`, if the scenario has one.
pub(super) fn supply(
    s: Option<&SupplyRule>,
    at: &YamlPath,
    issues: &mut Issues,
) -> Option<SupplyRule> {
    let s = s?;
    let ok = issues.within(
        &at.key("review_h"),
        s.review_h,
        ONE_SECOND_H,
        MAX_HORIZON_H,
        "hours between reviews, e.g. 168",
    ) & issues.within(
        &at.key("hurdle"),
        s.hurdle,
        0.0,
        100.0,
        "a share above full cost, e.g. 0.15",
    ) & issues.within(
        &at.key("join_share"),
        s.join_share,
        1e-9,
        1.0,
        "a share between 0 and 1, e.g. 0.1",
    ) & issues.non_negative(&at.key("onboarding_h"), s.onboarding_h, "hours, e.g. 72")
        & issues.within(
            &at.key("exit_share"),
            s.exit_share,
            1e-9,
            1.0,
            "a share between 0 and 1, e.g. 0.25",
        );
    if s.exit_after_reviews == 0 {
        issues.push(
            &at.key("exit_after_reviews"),
            "must be at least 1",
            "give the reviews of losses before GPUs leave, e.g. 4",
        );
        return None;
    }
    ok.then_some(*s)
}

/// The pricing policy at `at`. Its utilisation rule is checked whatever the policy, so that
/// a scenario switched to `utilisation` with `--set` is as valid as it was.
pub(super) fn pricing(r: &RawPricing, at: &YamlPath, issues: &mut Issues) -> Pricing {
    let rule = UtilisationRule {
        target: r.target,
        elasticity: r.elasticity,
        min_multiplier: r.min_multiplier,
        max_multiplier: r.max_multiplier,
    };
    rule.validate(at, issues);
    match r.policy {
        PricingPolicy::Fixed => Pricing::Fixed,
        PricingPolicy::Utilisation => Pricing::Utilisation(rule),
        PricingPolicy::Asking => Pricing::Asking,
    }
}

/// Executions per request and the spot-check rate of the token's verification at `at`;
/// `groups` provider groups can serve, and each extra execution needs another.
pub(super) fn verification(
    t: Option<&RawToken>,
    groups: usize,
    at: &YamlPath,
    issues: &mut Issues,
) -> (u32, f64) {
    let Some(t) = t else {
        return (defaults::REDUNDANCY, defaults::SPOT_CHECK_RATE);
    };
    let v = &t.verification;
    issues.within(
        &at.key("spot_check_rate"),
        v.spot_check_rate,
        0.0,
        1.0,
        "a share of requests, e.g. 0.05",
    );
    let extra = v.redundancy.saturating_sub(1) + u32::from(v.spot_check_rate > 0.0);
    if v.redundancy == 0 {
        issues.push(
            &at.key("redundancy"),
            "must be at least 1",
            "1 runs each request once; 2 runs it twice on different groups",
        );
    } else if extra as usize >= groups.max(1) {
        issues.push(
            &at.key("redundancy"),
            format!(
                "each request needs {} different groups, but {groups} can serve",
                extra + 1
            ),
            "lower redundancy (or spot checks), or add provider groups",
        );
    }
    (v.redundancy.max(1), v.spot_check_rate)
}
