//! How the price users pay per busy GPU-hour is set: each group's own price, that price
//! scaled by the group's utilisation, or providers' asking prices matched cheapest first.

use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;

/// A validated pricing policy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pricing {
    /// Each group's price, always.
    Fixed,
    /// Each group's price times a multiplier of its utilisation over the last epoch.
    Utilisation(UtilisationRule),
    /// Each group's price is its providers' asking price, and a request goes to the
    /// cheapest group that can take it.
    Asking,
}

/// What users pay for. Jobs pay by the busy GPU-hour under every unit but the lease (where
/// their GPUs are leased GPUs like any other).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PriceUnit {
    /// Each busy GPU-hour (serving at least one request, or reserved by a job) at the group's
    /// price, as a compute marketplace bills usage.
    BusyGpuHour,
    /// Each token answered at one network-wide price, as an inference marketplace does.
    Token {
        /// USD per prompt token.
        usd_per_prompt_token: f64,
        /// USD per output token.
        usd_per_output_token: f64,
    },
    /// Each GPU-hour the groups' GPUs are lent and online, busy or idle, at the group's
    /// price: users lease the network's GPUs, as a compute marketplace leases them.
    LeasedGpuHour,
}

impl PriceUnit {
    /// What an answer of `prompt` and `output` tokens costs before any multiplier, USD (0
    /// when users pay by the hour).
    #[inline]
    pub fn token_usd(&self, prompt: u32, output: u32) -> f64 {
        match *self {
            PriceUnit::Token {
                usd_per_prompt_token,
                usd_per_output_token,
            } => {
                f64::from(prompt) * usd_per_prompt_token + f64::from(output) * usd_per_output_token
            }
            _ => 0.0,
        }
    }
}

/// A group's price multiplier as a function of its utilisation:
/// `(utilisation / target)^elasticity`, clamped to `[min_multiplier, max_multiplier]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UtilisationRule {
    /// Utilisation at which the price is the group's own (multiplier 1).
    pub target: f64,
    /// How strongly the price follows utilisation.
    pub elasticity: f64,
    /// Lowest multiplier.
    pub min_multiplier: f64,
    /// Highest multiplier.
    pub max_multiplier: f64,
}

impl UtilisationRule {
    /// The multiplier at `utilisation` (busy / online GPU-time).
    pub fn multiplier(&self, utilisation: f64) -> f64 {
        (utilisation / self.target)
            .powf(self.elasticity)
            .clamp(self.min_multiplier, self.max_multiplier)
    }

    /// Records every problem under `at` (the rule's section): a target utilisation in
    /// (0, 1], an elasticity in [0, 10], positive multipliers in order (so that
    /// [`UtilisationRule::multiplier`] never meets an empty range). Returns whether there
    /// was none.
    pub fn validate(&self, at: &YamlPath, issues: &mut Issues) -> bool {
        let ok = issues.within(
            &at.key("target"),
            self.target,
            1e-6,
            1.0,
            "a utilisation between 0 and 1, e.g. 0.7",
        ) & issues.within(&at.key("elasticity"), self.elasticity, 0.0, 10.0, "e.g. 1")
            & issues.positive(&at.key("min_multiplier"), self.min_multiplier, "e.g. 0.5")
            & issues.positive(&at.key("max_multiplier"), self.max_multiplier, "e.g. 2");
        if ok && self.min_multiplier > self.max_multiplier {
            issues.push(
                &at.key("min_multiplier"),
                format!(
                    "min_multiplier ({}) is above max_multiplier ({})",
                    self.min_multiplier, self.max_multiplier
                ),
                "give a range with min_multiplier <= max_multiplier",
            );
            return false;
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: UtilisationRule = UtilisationRule {
        target: 0.7,
        elasticity: 1.0,
        min_multiplier: 0.5,
        max_multiplier: 2.0,
    };

    #[test]
    fn the_multiplier_follows_utilisation_within_its_range() {
        let cases = [
            (0.7, 1.0),
            (0.35, 0.5),
            (0.1, 0.5),
            (1.0, 1.0 / 0.7),
            (0.0, 0.5),
        ];
        for (u, want) in cases {
            assert_eq!(RULE.multiplier(u), want, "at {u}");
        }
        let steep = UtilisationRule {
            elasticity: 2.0,
            ..RULE
        };
        assert!((steep.multiplier(0.7 * 1.2) - 1.44).abs() < 1e-12);
        assert_eq!(steep.multiplier(1.0), 2.0, "clamped at the top");
    }

    #[test]
    fn a_rule_out_of_range_names_each_field() {
        let check = |rule: UtilisationRule| -> Vec<String> {
            let mut issues = Issues::default();
            let ok = rule.validate(&YamlPath::root().key("pricing"), &mut issues);
            assert_eq!(ok, issues.is_empty());
            issues.iter().map(|i| i.path.to_string()).collect()
        };
        assert!(check(RULE).is_empty());
        let bad = UtilisationRule {
            target: 0.0,
            elasticity: 11.0,
            min_multiplier: 0.0,
            max_multiplier: f64::NAN,
        };
        assert_eq!(
            check(bad),
            [
                "pricing.target",
                "pricing.elasticity",
                "pricing.min_multiplier",
                "pricing.max_multiplier"
            ]
        );
        let reversed = UtilisationRule {
            min_multiplier: 3.0,
            ..RULE
        };
        assert_eq!(check(reversed), ["pricing.min_multiplier"]);
    }
}
