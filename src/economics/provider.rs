//! Provider economics: what a GPU costs its provider, and the rule by which providers join
//! and leave a network.
//!
//! A provider's costs split three ways ([`CostModel`]):
//! - **operating** costs, paid per hour in the network and avoidable by leaving: idle power,
//!   hosting, bandwidth, the owner's opportunity cost;
//! - **busy** costs on top, per busy hour: power above idle;
//! - **hardware** written off per hour in the network (straight line over its life). A
//!   sharing-economy provider lends hardware it already owns and writes off nothing; a
//!   datacenter provider bought it to rent out.
//!
//! Supply answers incentives ([`SupplyRule`]): at every review, a group whose income per
//! GPU-hour beats its full cost (operating + busy + hardware) by the hurdle attracts a share
//! of its remaining potential GPUs, who start serving after an onboarding delay; a group
//! whose income has stayed below its operating cost for several reviews in a row loses a
//! share of its GPUs. Sunk hardware does not make a provider leave, only cash losses do.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::core::units::HOURS_PER_YEAR;

/// What kind of provider a group is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Owners lend hardware they already have (an idle gaming card): no hardware to pay off.
    #[default]
    Sharing,
    /// Hardware bought to rent out, written off over its life.
    Datacenter,
}

impl ProviderKind {
    /// The name used in metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sharing => "sharing",
            Self::Datacenter => "datacenter",
        }
    }
}

/// How providers value the token rewards they earn in USD, in their returns and in the supply
/// rule's reviews.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RewardValuation {
    /// Each epoch's rewards at the market price when they are paid, before the epoch's
    /// trades.
    #[default]
    Spot,
    /// As many of an epoch's rewards as providers sold that epoch at the average price their
    /// sales fetched, the rest at the price after the epoch's trades.
    Sales,
    /// Every reward at the market price at the end of the span judged: the last settled
    /// epoch for returns, the review itself for a supply review.
    Final,
}

/// USD per token of an epoch's `minted` rewards valued at what the epoch's sales fetched:
/// providers sold `sold` tokens for `fetched` USD, and as many of the rewards as they sold
/// (tokens are fungible: what they sold of earlier, released rewards counts too) are worth
/// the sales' average price, the rest `close`, the market price after the epoch's trades.
pub fn sales_value_per_token(minted: f64, sold: f64, fetched: f64, close: f64) -> f64 {
    if sold <= 0.0 || minted <= 0.0 {
        return close;
    }
    let k = sold.min(minted);
    (k * (fetched / sold) + (minted - k) * close) / minted
}

/// A GPU's costs to its provider, USD.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CostModel {
    /// Per hour in the network, avoidable by leaving (idle power, hosting, bandwidth,
    /// opportunity cost).
    pub operating_usd_per_h: f64,
    /// Extra per busy hour (power above idle).
    pub busy_extra_usd_per_h: f64,
    /// Hardware written off per hour in the network.
    pub hardware_usd_per_h: f64,
    /// Price of the hardware.
    pub hardware_usd: f64,
}

impl CostModel {
    /// An all-in cost per hour online, as one figure: all of it operating.
    pub fn flat(usd_per_h: f64) -> Self {
        Self {
            operating_usd_per_h: usd_per_h,
            ..Self::default()
        }
    }

    /// Operating costs (avoidable) of `member_h` GPU-hours in the network of which `busy_h`
    /// busy.
    pub fn operating(&self, member_h: f64, busy_h: f64) -> f64 {
        member_h * self.operating_usd_per_h + busy_h * self.busy_extra_usd_per_h
    }

    /// Full costs: operating plus hardware written off.
    pub fn full(&self, member_h: f64, busy_h: f64) -> f64 {
        self.operating(member_h, busy_h) + member_h * self.hardware_usd_per_h
    }

    /// Years until the hardware is paid back by `income` minus operating costs over
    /// `member_h` GPU-hours of which `busy_h` busy; None when it never is (no margin) or
    /// there is nothing to pay back.
    pub fn payback_years(&self, income: f64, member_h: f64, busy_h: f64) -> Option<f64> {
        let margin = income - self.operating(member_h, busy_h);
        if self.hardware_usd <= 0.0 || margin <= 0.0 || member_h <= 0.0 {
            return None;
        }
        // Margin per GPU-hour, over a year of the same.
        Some(self.hardware_usd / (margin / member_h * HOURS_PER_YEAR))
    }
}

/// An item-by-item cost breakdown, resolved into a [`CostModel`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostItems {
    /// Hardware price per GPU, USD.
    pub hardware_usd: f64,
    /// Years to write it off over.
    pub lifetime_years: f64,
    /// Power while busy, W.
    pub busy_power_w: f64,
    /// Power while idle, W.
    pub idle_power_w: f64,
    /// Facility power per watt of IT power (power usage effectiveness).
    pub pue: f64,
    /// Electricity, USD per kWh.
    pub electricity_usd_per_kwh: f64,
    /// Hosting (rack space, staff), USD per hour.
    pub hosting_usd_per_hour: f64,
    /// Internet access, USD per month.
    pub bandwidth_usd_per_month: f64,
    /// What the owner gives up per hour lent, USD.
    pub opportunity_usd_per_hour: f64,
}

impl CostItems {
    /// The cost model: power at `pue` times the draw at the electricity price, bandwidth
    /// over 730.5-hour months, hardware straight-line over its life.
    pub fn model(&self) -> CostModel {
        let kwh = |w: f64| w * self.pue / 1000.0 * self.electricity_usd_per_kwh;
        CostModel {
            operating_usd_per_h: kwh(self.idle_power_w)
                + self.hosting_usd_per_hour
                + self.bandwidth_usd_per_month / (HOURS_PER_YEAR / 12.0)
                + self.opportunity_usd_per_hour,
            busy_extra_usd_per_h: kwh(self.busy_power_w - self.idle_power_w),
            hardware_usd_per_h: self.hardware_usd / (self.lifetime_years * HOURS_PER_YEAR),
            hardware_usd: self.hardware_usd,
        }
    }
}

/// How providers join and leave: a group whose income per GPU-hour beats its full cost by
/// the hurdle attracts GPUs (up to its `max_count`), one whose income stays below its
/// operating cost loses them. Income is fees received plus token rewards (valued as
/// `token.reward_valuation` says: by default at the price when earned), less slashed stakes
/// and the stakes' cost of capital. (The scenario's `supply` section.)
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Supply")]
pub struct SupplyRule {
    /// Hours between reviews of income against costs. Default 168 (weekly, assumed).
    pub review_h: f64,
    /// Share by which income per GPU-hour must beat the full cost (operating + power +
    /// hardware written off) for GPUs to join. Default 0.15 (assumed: a return above costs
    /// that an owner needs to bother).
    pub hurdle: f64,
    /// Share of the group's remaining potential GPUs that decide to join at a review that
    /// clears the hurdle. Default 0.1 (assumed).
    pub join_share: f64,
    /// Hours from deciding to join to serving (setup, verification, staking). Default 72
    /// (assumed).
    pub onboarding_h: f64,
    /// Consecutive reviews with income below operating cost before GPUs leave. Default 4
    /// (assumed: a month of weekly losses).
    pub exit_after_reviews: u32,
    /// Share of the group's GPUs that leave at each review after that. Default 0.25
    /// (assumed).
    pub exit_share: f64,
}

impl Default for SupplyRule {
    fn default() -> Self {
        Self {
            review_h: 168.0,
            hurdle: 0.15,
            join_share: 0.1,
            onboarding_h: 72.0,
            exit_after_reviews: 4,
            exit_share: 0.25,
        }
    }
}

/// What one review decides for one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing changes.
    Stay,
    /// This many GPUs decide to join.
    Join(u32),
    /// This many GPUs leave.
    Leave(u32),
}

/// What a review knows about one group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Review {
    /// Income per GPU-hour a GPU in the group can expect (fees + rewards), USD.
    pub income_per_h: f64,
    /// Full cost per GPU-hour at the group's utilisation, USD.
    pub full_cost_per_h: f64,
    /// Operating cost per GPU-hour at the group's utilisation, USD.
    pub operating_cost_per_h: f64,
    /// GPUs in the group now.
    pub members: u32,
    /// GPUs that decided to join and are onboarding.
    pub onboarding: u32,
    /// Most GPUs the group can have.
    pub max: u32,
}

impl SupplyRule {
    /// Decides for one group; `losing` counts the consecutive reviews with income below
    /// operating cost, and is updated.
    pub fn decide(&self, r: &Review, losing: &mut u32) -> Decision {
        if r.income_per_h < r.operating_cost_per_h {
            *losing += 1;
        } else {
            *losing = 0;
        }
        if *losing >= self.exit_after_reviews && r.members > 0 {
            let n = (self.exit_share * f64::from(r.members)).ceil() as u32;
            return Decision::Leave(n.clamp(1, r.members));
        }
        let room = r.max.saturating_sub(r.members + r.onboarding);
        if room > 0 && r.income_per_h >= (1.0 + self.hurdle) * r.full_cost_per_h {
            let n = (self.join_share * f64::from(room)).ceil() as u32;
            return Decision::Join(n.clamp(1, room));
        }
        Decision::Stay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewards_at_sales_count_what_was_sold_at_its_fill_and_the_rest_at_the_close() {
        // 40 of 100 tokens sold for 30 USD (0.75 each), the close at 0.5: 30 + 60 x 0.5 =
        // 60 USD for the 100, 0.6 each.
        assert!((sales_value_per_token(100.0, 40.0, 30.0, 0.5) - 0.6).abs() < 1e-15);
        // Sales of released rewards beyond the epoch's 10 tokens: all 10 at the fill, 0.5.
        assert_eq!(sales_value_per_token(10.0, 20.0, 10.0, 0.9), 0.5);
        // Nothing sold (or nothing to value): the close.
        assert_eq!(sales_value_per_token(10.0, 0.0, 0.0, 0.9), 0.9);
        assert_eq!(sales_value_per_token(0.0, 5.0, 4.0, 0.9), 0.9);
    }

    #[test]
    fn cost_items_add_up_by_hand() {
        // An H100 at 700 W busy, 70 W idle, PUE 1.5, 0.10 USD/kWh; 25,000 USD over 5 years;
        // 0.20 USD/h hosting; 73.05 USD/month bandwidth.
        let m = CostItems {
            hardware_usd: 25_000.0,
            lifetime_years: 5.0,
            busy_power_w: 700.0,
            idle_power_w: 70.0,
            pue: 1.5,
            electricity_usd_per_kwh: 0.10,
            hosting_usd_per_hour: 0.20,
            bandwidth_usd_per_month: 73.05,
            opportunity_usd_per_hour: 0.0,
        }
        .model();
        assert!((m.operating_usd_per_h - (0.0105 + 0.20 + 0.1)).abs() < 1e-12);
        assert!((m.busy_extra_usd_per_h - 0.0945).abs() < 1e-12);
        assert!((m.hardware_usd_per_h - 25_000.0 / 43_830.0).abs() < 1e-12);
        // 100 h in the network, 40 busy.
        let op = 100.0 * 0.3105 + 40.0 * 0.0945;
        assert!((m.operating(100.0, 40.0) - op).abs() < 1e-9);
        assert!((m.full(100.0, 40.0) - op - 100.0 * 25_000.0 / 43_830.0).abs() < 1e-9);
        // Earning 2 USD per hour: a margin of (200 - op) / 100 per hour pays 25,000 back in
        // 25,000 / (margin * 8766) years.
        let years = m.payback_years(200.0, 100.0, 40.0).unwrap();
        assert!((years - 25_000.0 / ((200.0 - op) / 100.0 * 8766.0)).abs() < 1e-9);
        assert_eq!(m.payback_years(op, 100.0, 40.0), None);
        assert_eq!(CostModel::flat(1.0).payback_years(5.0, 1.0, 1.0), None);
    }

    fn rule() -> SupplyRule {
        SupplyRule {
            review_h: 168.0,
            hurdle: 0.2,
            join_share: 0.1,
            onboarding_h: 72.0,
            exit_after_reviews: 3,
            exit_share: 0.25,
        }
    }

    fn review(income: f64) -> Review {
        Review {
            income_per_h: income,
            full_cost_per_h: 1.0,
            operating_cost_per_h: 0.4,
            members: 40,
            onboarding: 10,
            max: 150,
        }
    }

    #[test]
    fn gpus_join_above_the_hurdle_and_leave_after_sustained_cash_losses() {
        let mut losing = 0;
        // 1.2 x full cost: a tenth of the 100 GPUs not yet in or onboarding join.
        assert_eq!(rule().decide(&review(1.2), &mut losing), Decision::Join(10));
        // Above operating cost but below the hurdle: nobody moves, nobody loses.
        assert_eq!(rule().decide(&review(0.9), &mut losing), Decision::Stay);
        assert_eq!(losing, 0);
        // Below operating cost: two reviews pass, the third makes a quarter leave.
        for _ in 0..2 {
            assert_eq!(rule().decide(&review(0.3), &mut losing), Decision::Stay);
        }
        assert_eq!(
            rule().decide(&review(0.3), &mut losing),
            Decision::Leave(10)
        );
        // One good review resets the count.
        rule().decide(&review(0.5), &mut losing);
        assert_eq!(losing, 0);
        // A full group takes nobody; at least one GPU moves when a share rounds to 0.
        let full = Review {
            members: 140,
            ..review(5.0)
        };
        assert_eq!(rule().decide(&full, &mut losing), Decision::Stay);
        let small = Review {
            members: 1,
            onboarding: 0,
            max: 2,
            ..review(5.0)
        };
        assert_eq!(rule().decide(&small, &mut losing), Decision::Join(1));
    }
}
