//! The economy's sections but for the token's own (`token.rs`): what a provider group's GPUs
//! cost (all in, or item by item with defaults by kind), providers joining and leaving,
//! and pricing (verification is `verification.rs`).

use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::economics::pricing::{PriceUnit, Pricing, UtilisationRule};
use crate::economics::provider::{CostItems, CostModel, ProviderKind, SupplyRule};
use crate::physics::gpu::GpuClass;
use crate::scenario::defaults::{self, MAX_HORIZON_H, ONE_SECOND_H};
use crate::scenario::raw::{PriceUnitName, PricingPolicy, RawCosts, RawPricing, RawProviderGroup};

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
    let fix = "give the reviews of losses before GPUs leave, e.g. 4";
    if !issues.at_least_one(&at.key("exit_after_reviews"), s.exit_after_reviews, fix) {
        return None;
    }
    ok.then_some(*s)
}

/// The pricing policy and the unit users pay for at `at`. Its utilisation rule is checked
/// whatever the policy, so that a scenario switched to `utilisation` with `--set` is as
/// valid as it was.
pub(super) fn pricing(r: &RawPricing, at: &YamlPath, issues: &mut Issues) -> (Pricing, PriceUnit) {
    let rule = UtilisationRule {
        target: r.target,
        elasticity: r.elasticity,
        min_multiplier: r.min_multiplier,
        max_multiplier: r.max_multiplier,
    };
    rule.validate(at, issues);
    let policy = match r.policy {
        PricingPolicy::Fixed => Pricing::Fixed,
        PricingPolicy::Utilisation => Pricing::Utilisation(rule),
        PricingPolicy::Asking => Pricing::Asking,
    };
    (policy, price_unit(r, at, issues))
}

/// The unit users pay for, with its per-token prices where it has them.
fn price_unit(r: &RawPricing, at: &YamlPath, issues: &mut Issues) -> PriceUnit {
    let (output, prompt) = (
        r.usd_per_million_output_tokens,
        r.usd_per_million_prompt_tokens,
    );
    if r.unit != PriceUnitName::Token {
        for (key, given) in [
            ("usd_per_million_output_tokens", output),
            ("usd_per_million_prompt_tokens", prompt),
        ] {
            if given.is_some() {
                issues.push(
                    &at.key(key),
                    format!(
                        "a per-token price is given, but users pay by the {}",
                        match r.unit {
                            PriceUnitName::LeasedGpuHour => "leased GPU-hour",
                            _ => "busy GPU-hour",
                        }
                    ),
                    "set `unit: token`, or remove the per-token price",
                );
            }
        }
    }
    if r.policy == PricingPolicy::Asking && r.unit != PriceUnitName::BusyGpuHour {
        issues.push(
            &at.key("unit"),
            "`asking` matches providers' asking prices per busy GPU-hour",
            "use `unit: busy_gpu_hour` with `policy: asking`, or another policy",
        );
    }
    match r.unit {
        PriceUnitName::BusyGpuHour => PriceUnit::BusyGpuHour,
        PriceUnitName::LeasedGpuHour => PriceUnit::LeasedGpuHour,
        PriceUnitName::Token => {
            let out = match output {
                Some(v) => {
                    issues.positive(&at.key("usd_per_million_output_tokens"), v, "e.g. 0.05");
                    v
                }
                None => {
                    issues.push(
                        &at.key("usd_per_million_output_tokens"),
                        "`unit: token` needs the price of output tokens",
                        "give `usd_per_million_output_tokens`, e.g. 0.05",
                    );
                    0.0
                }
            };
            let inp = prompt.unwrap_or(0.0);
            issues.non_negative(&at.key("usd_per_million_prompt_tokens"), inp, "e.g. 0.02");
            PriceUnit::Token {
                usd_per_prompt_token: inp / 1e6,
                usd_per_output_token: out / 1e6,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, load};
    use super::*;
    use crate::core::units::HOURS_PER_YEAR;

    /// A providers section of one group in us-east with `rest` inside its mapping.
    fn group(rest: &str) -> String {
        format!("providers: [{{name: g, region: us-east, {rest}}}]")
    }

    #[test]
    fn costs_are_given_once_and_in_range() {
        let cases: [(String, &[(&str, &str)]); 5] = [
            (
                group("gpu: h100_sxm, count: 4, hourly_cost_usd: 1, costs: {}"),
                &[(
                    "providers[0].costs",
                    "both hourly_cost_usd and costs are given",
                )],
            ),
            (
                group("gpu: h100_sxm, count: 4"),
                &[("providers[0]", "the group's costs are missing")],
            ),
            (
                group("gpu: h100_sxm, count: 4, hourly_cost_usd: -1"),
                &[("providers[0].hourly_cost_usd", "must be zero or more")],
            ),
            (
                group("gpu: h100_sxm, count: 4, costs: {pue: 0.5}"),
                &[
                    (
                        "providers[0].costs.hardware_usd",
                        "a datacenter provider's hardware price is missing",
                    ),
                    ("providers[0].costs.pue", "must be between 1 and 5, got 0.5"),
                ],
            ),
            (
                group(
                    "gpu: rtx_4090, count: 4, costs: {idle_power_w: 500, lifetime_years: 0, hosting_usd_per_hour: -1}",
                ),
                &[
                    (
                        "providers[0].costs.lifetime_years",
                        "must be a positive number",
                    ),
                    (
                        "providers[0].costs.hosting_usd_per_hour",
                        "must be zero or more",
                    ),
                ],
            ),
        ];
        for (fragment, want) in cases {
            check(&fragment, want);
        }
        check(
            &group("gpu: rtx_4090, count: 4, costs: {idle_power_w: 500}"),
            &[(
                "providers[0].costs.idle_power_w",
                "idle power (500 W) is above busy power (450 W)",
            )],
        );
    }

    #[test]
    fn cost_items_are_filled_by_kind_and_region() {
        let s = load(
            "regions: [{name: us-east, electricity_usd_per_kwh: 0.2}, {name: eu-west}]
providers:
  - {name: dc, region: us-east, gpu: h100_sxm, count: 4, costs: {hardware_usd: 25000}}
  - {name: home, region: eu-west, gpu: rtx_4090, count: 2, costs: {}}",
        )
        .expect("valid");
        let items = |hardware_usd, busy_power_w: f64, pue, electricity_usd_per_kwh| CostItems {
            hardware_usd,
            lifetime_years: defaults::LIFETIME_YEARS,
            busy_power_w,
            idle_power_w: defaults::IDLE_POWER_SHARE * busy_power_w,
            pue,
            electricity_usd_per_kwh,
            hosting_usd_per_hour: 0.0,
            bandwidth_usd_per_month: 0.0,
            opportunity_usd_per_hour: 0.0,
        };
        // The H100's 700 W at PUE 1.56 and 0.20 USD/kWh; the 4090's 450 W at home, at 0.13.
        let dc = items(25_000.0, 700.0, defaults::DATACENTER_PUE, 0.2).model();
        let home = items(0.0, 450.0, defaults::SHARING_PUE, 0.13).model();
        assert_eq!(s.pools()[0].cost, dc);
        assert_eq!(s.pools()[1].cost, home);
        assert!((dc.operating_usd_per_h - 70.0 * 1.56 / 1000.0 * 0.2).abs() < 1e-15);
        assert_eq!(dc.hardware_usd_per_h, 25_000.0 / (5.0 * HOURS_PER_YEAR));
        assert_eq!(home.hardware_usd_per_h, 0.0);
        let yaml = s.resolved_yaml();
        for filled in [
            "pue: 1.56",
            "pue: 1.0",
            "idle_power_w: 70.0",
            "electricity_usd_per_kwh: 0.2",
            "lifetime_years: 5.0",
        ] {
            assert!(yaml.contains(filled), "`{filled}` in\n{yaml}");
        }
    }

    #[test]
    fn supply_pricing_and_verification_name_each_bad_setting() {
        let token = "token: {emission: {schedule: {constant: {per_epoch: 1}}, epoch_h: 1}, price: {constant: {usd: 1}}, work_share: 1";
        let cases: [(String, &[(&str, &str)]); 8] = [
            (
                "pricing: {unit: token}".into(),
                &[("pricing.usd_per_million_output_tokens", "needs the price of output tokens")],
            ),
            (
                "pricing: {unit: token, usd_per_million_output_tokens: 0, usd_per_million_prompt_tokens: -1}".into(),
                &[
                    ("pricing.usd_per_million_output_tokens", "must be a positive number"),
                    ("pricing.usd_per_million_prompt_tokens", "must be zero or more"),
                ],
            ),
            (
                "pricing: {policy: asking, unit: leased_gpu_hour, usd_per_million_output_tokens: 1}".into(),
                &[
                    ("pricing.unit", "`asking` matches providers' asking prices per busy GPU-hour"),
                    ("pricing.usd_per_million_output_tokens", "a per-token price is given"),
                ],
            ),
            (
                "supply: {review_h: 0, hurdle: 200, join_share: 0, onboarding_h: -1, exit_share: 2}".into(),
                &[
                    ("supply.review_h", "must be between"),
                    ("supply.hurdle", "must be between 0 and 100"),
                    ("supply.join_share", "must be between"),
                    ("supply.onboarding_h", "must be zero or more"),
                    ("supply.exit_share", "must be between"),
                ],
            ),
            ("supply: {exit_after_reviews: 0}".into(), &[("supply.exit_after_reviews", "must be at least 1")]),
            (
                "pricing: {policy: asking, min_multiplier: 3, max_multiplier: 2}".into(),
                &[("pricing.min_multiplier", "min_multiplier (3) is above max_multiplier (2)")],
            ),
            (
                format!("{token}, verification: {{redundancy: 0, spot_check_rate: 2}}}}"),
                &[
                    ("token.verification.spot_check_rate", "must be between 0 and 1"),
                    ("token.verification.redundancy", "must be at least 1"),
                ],
            ),
            (
                format!("{token}, verification: {{redundancy: 2, spot_check_rate: 0.1}}}}"),
                &[("token.verification.redundancy", "each request needs 3 different groups, but 1 can serve")],
            ),
        ];
        for (fragment, want) in cases {
            check(&fragment, want);
        }
    }

    #[test]
    fn the_policies_and_rules_reach_the_scenario() {
        let s = load("").expect("valid");
        assert_eq!(*s.pricing(), Pricing::Fixed);
        assert_eq!(s.supply(), None);
        assert_eq!(
            s.verification(),
            (defaults::REDUNDANCY, defaults::SPOT_CHECK_RATE)
        );
        let s = load("pricing: {policy: utilisation, target: 0.5}\nsupply: {}").expect("valid");
        let rule = UtilisationRule {
            target: 0.5,
            elasticity: defaults::PRICING_ELASTICITY,
            min_multiplier: defaults::PRICING_MIN_MULTIPLIER,
            max_multiplier: defaults::PRICING_MAX_MULTIPLIER,
        };
        assert_eq!(*s.pricing(), Pricing::Utilisation(rule));
        assert_eq!(s.supply(), Some(&SupplyRule::default()));
        assert_eq!(
            *load("pricing: {policy: asking}").expect("valid").pricing(),
            Pricing::Asking
        );
    }
}
