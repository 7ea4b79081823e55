//! Probability distributions selectable from a scenario: the YAML form ([`DistSpec`]), its
//! validated form ([`Dist`]) with sampling, and the moments that analytic checks need.
//!
//! In YAML a distribution is a one-key mapping:
//! `{exponential: {mean: 0.5}}`, `{lognormal: {median: 1020, sigma: 1.0}}`,
//! `{gamma: {shape: 2, scale: 64}}`, `{weibull: {shape: 0.7, scale: 3600}}`,
//! `{uniform: {low: 1, high: 9}}`, `{constant: 128}`, or an empirical table
//! `{empirical: {values: [1, 2, 5], weights: [0.5, 0.3, 0.2]}}`.

use rand::Rng;
use rand_distr::{Distribution, Exp, Gamma, LogNormal, Weibull};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;

/// A distribution as written in a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub enum DistSpec {
    /// Always the same value.
    Constant(f64),
    /// Exponential with the given mean (memoryless: Poisson arrivals, M/M/c service).
    Exponential {
        /// Mean (> 0).
        mean: f64,
    },
    /// Lognormal given by its median `exp(mu)` and the standard deviation `sigma` of its log.
    Lognormal {
        /// Median (> 0).
        median: f64,
        /// Standard deviation of the logarithm (>= 0).
        sigma: f64,
    },
    /// Gamma with shape k and scale theta (mean k * theta).
    Gamma {
        /// Shape k (> 0).
        shape: f64,
        /// Scale theta (> 0).
        scale: f64,
    },
    /// Weibull with shape k and scale lambda (k < 1: infant mortality, k > 1: wear-out).
    Weibull {
        /// Shape k (> 0).
        shape: f64,
        /// Scale lambda (> 0).
        scale: f64,
    },
    /// Uniform on [low, high].
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound (>= low).
        high: f64,
    },
    /// A table of values with probabilities proportional to `weights` (equal if omitted).
    Empirical {
        /// The values (at least one).
        values: Vec<f64>,
        /// Relative weights, one per value (>= 0, not all 0).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weights: Option<Vec<f64>>,
    },
}

/// A validated distribution, ready to sample.
#[derive(Clone, Debug)]
pub enum Dist {
    /// A point mass.
    Constant(f64),
    /// Exponential.
    Exponential(Exp<f64>, f64),
    /// Lognormal (with mu, sigma).
    Lognormal(LogNormal<f64>, f64, f64),
    /// Gamma (with shape, scale).
    Gamma(Gamma<f64>, f64, f64),
    /// Weibull (with shape, scale).
    Weibull(Weibull<f64>, f64, f64),
    /// Uniform on [low, high].
    Uniform(f64, f64),
    /// Values with cumulative probabilities (last = 1).
    Empirical(Vec<f64>, Vec<f64>),
}

impl DistSpec {
    /// Validates the parameters, recording every problem under `path`. `min` is the smallest
    /// value a sample may meaningfully take (0 for durations and counts).
    pub fn validate(&self, path: &YamlPath, issues: &mut Issues) -> Option<Dist> {
        let before = issues.len();
        let fix = "see `depinsim schema` for the distribution forms";
        let dist = match *self {
            DistSpec::Constant(v) => {
                issues.non_negative(&path.key("constant"), v, "give a value of 0 or more");
                Dist::Constant(v)
            }
            DistSpec::Exponential { mean } => {
                let p = path.key("exponential");
                issues.positive(&p.key("mean"), mean, "give the mean, e.g. mean: 0.5");
                Dist::Exponential(Exp::new(1.0 / mean).ok()?, mean)
            }
            DistSpec::Lognormal { median, sigma } => {
                let p = path.key("lognormal");
                issues.positive(&p.key("median"), median, "give the median, e.g. 512");
                issues.non_negative(&p.key("sigma"), sigma, "give sigma >= 0, e.g. 1.0");
                let mu = median.ln();
                Dist::Lognormal(LogNormal::new(mu, sigma).ok()?, mu, sigma)
            }
            DistSpec::Gamma { shape, scale } => {
                let p = path.key("gamma");
                issues.positive(&p.key("shape"), shape, fix);
                issues.positive(&p.key("scale"), scale, fix);
                Dist::Gamma(Gamma::new(shape, scale).ok()?, shape, scale)
            }
            DistSpec::Weibull { shape, scale } => {
                let p = path.key("weibull");
                issues.positive(&p.key("shape"), shape, fix);
                issues.positive(&p.key("scale"), scale, fix);
                Dist::Weibull(Weibull::new(scale, shape).ok()?, shape, scale)
            }
            DistSpec::Uniform { low, high } => {
                let p = path.key("uniform");
                issues.non_negative(&p.key("low"), low, "give low >= 0");
                if !(high.is_finite() && high >= low) {
                    issues.push(
                        &p.key("high"),
                        format!("must be at least low ({low}), got {high}"),
                        "swap low and high",
                    );
                }
                Dist::Uniform(low, high)
            }
            DistSpec::Empirical {
                ref values,
                ref weights,
            } => Self::empirical(&path.key("empirical"), values, weights.as_deref(), issues)?,
        };
        (issues.len() == before).then_some(dist)
    }

    fn empirical(
        path: &YamlPath,
        values: &[f64],
        weights: Option<&[f64]>,
        issues: &mut Issues,
    ) -> Option<Dist> {
        if values.is_empty() {
            issues.push(
                &path.key("values"),
                "the table is empty",
                "list at least one value",
            );
            return None;
        }
        for (i, v) in values.iter().enumerate() {
            issues.non_negative(&path.key("values").index(i), *v, "values must be 0 or more");
        }
        let weights: Vec<f64> = match weights {
            None => vec![1.0; values.len()],
            Some(w) if w.len() != values.len() => {
                issues.push(
                    &path.key("weights"),
                    format!("has {} weights for {} values", w.len(), values.len()),
                    "give one weight per value, or omit weights for equal weights",
                );
                return None;
            }
            Some(w) => w.to_vec(),
        };
        for (i, w) in weights.iter().enumerate() {
            issues.non_negative(
                &path.key("weights").index(i),
                *w,
                "weights must be 0 or more",
            );
        }
        let total: f64 = weights.iter().sum();
        if !(total.is_finite() && total > 0.0) {
            issues.push(
                &path.key("weights"),
                "weights sum to zero",
                "give at least one positive weight",
            );
            return None;
        }
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        if let Some(last) = cdf.last_mut() {
            *last = 1.0;
        }
        Some(Dist::Empirical(values.to_vec(), cdf))
    }
}

impl Dist {
    /// Draws one value. A constant (the usual token counts of a queueing check) is read at
    /// the call site; the others are drawn out of line, so that how the compiler happens to
    /// partition the crate does not change what a constant costs.
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            _ => self.draw(rng),
        }
    }

    /// Draws one value of a distribution that is not a constant.
    fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential(d, _) => d.sample(rng),
            Dist::Lognormal(d, _, _) => d.sample(rng),
            Dist::Gamma(d, _, _) => d.sample(rng),
            Dist::Weibull(d, _, _) => d.sample(rng),
            Dist::Uniform(lo, hi) => lo + (hi - lo) * unit(rng),
            Dist::Empirical(values, cdf) => {
                let u = unit(rng);
                let i = cdf.partition_point(|&c| c <= u).min(values.len() - 1);
                values[i]
            }
        }
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential(_, m) => *m,
            Dist::Lognormal(_, mu, s) => (mu + s * s / 2.0).exp(),
            Dist::Gamma(_, k, theta) => k * theta,
            Dist::Weibull(_, k, lambda) => lambda * statrs::function::gamma::gamma(1.0 + 1.0 / k),
            Dist::Uniform(lo, hi) => (lo + hi) / 2.0,
            Dist::Empirical(values, cdf) => weighted(values, cdf, |v| v),
        }
    }

    /// The second moment `E[X^2]` (what the Pollaczek-Khinchine formula needs).
    pub fn second_moment(&self) -> f64 {
        match self {
            Dist::Constant(v) => v * v,
            Dist::Exponential(_, m) => 2.0 * m * m,
            Dist::Lognormal(_, mu, s) => (2.0 * mu + 2.0 * s * s).exp(),
            Dist::Gamma(_, k, theta) => k * (k + 1.0) * theta * theta,
            Dist::Weibull(_, k, lambda) => {
                lambda * lambda * statrs::function::gamma::gamma(1.0 + 2.0 / k)
            }
            Dist::Uniform(lo, hi) => (lo * lo + lo * hi + hi * hi) / 3.0,
            Dist::Empirical(values, cdf) => weighted(values, cdf, |v| v * v),
        }
    }
}

/// A uniform draw in [0, 1) with 53 random bits.
#[inline]
pub fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn weighted(values: &[f64], cdf: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut prev = 0.0;
    values
        .iter()
        .zip(cdf)
        .map(|(v, c)| {
            let p = c - prev;
            prev = *c;
            p * f(*v)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng::Streams;

    fn valid(spec: DistSpec) -> Dist {
        let mut issues = Issues::default();
        let d = spec.validate(&YamlPath::root(), &mut issues);
        assert!(issues.is_empty(), "{issues:?}");
        d.expect("valid")
    }

    /// Sample mean and second moment over n draws agree with the analytic ones within `tol`.
    fn check_moments(spec: DistSpec, tol: f64) {
        let d = valid(spec.clone());
        let mut rng = Streams::new(11, 0).stream("test");
        let n = 400_000;
        let (mut s1, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let x = d.sample(&mut rng);
            s1 += x;
            s2 += x * x;
        }
        let (m1, m2) = (s1 / n as f64, s2 / n as f64);
        assert!(
            (m1 / d.mean() - 1.0).abs() < tol,
            "{spec:?}: mean {m1} vs {}",
            d.mean()
        );
        assert!(
            (m2 / d.second_moment() - 1.0).abs() < 3.0 * tol,
            "{spec:?}: E[X^2] {m2} vs {}",
            d.second_moment()
        );
    }

    #[test]
    fn sample_moments_match_the_formulas() {
        check_moments(DistSpec::Exponential { mean: 2.0 }, 0.01);
        check_moments(
            DistSpec::Lognormal {
                median: 100.0,
                sigma: 0.5,
            },
            0.01,
        );
        check_moments(
            DistSpec::Gamma {
                shape: 2.0,
                scale: 3.0,
            },
            0.01,
        );
        check_moments(
            DistSpec::Weibull {
                shape: 1.5,
                scale: 10.0,
            },
            0.01,
        );
        check_moments(
            DistSpec::Uniform {
                low: 1.0,
                high: 9.0,
            },
            0.01,
        );
        check_moments(DistSpec::Constant(4.0), 1e-12);
        check_moments(
            DistSpec::Empirical {
                values: vec![1.0, 2.0, 5.0],
                weights: Some(vec![0.5, 0.3, 0.2]),
            },
            0.01,
        );
    }

    #[test]
    fn weibull_with_shape_one_is_exponential() {
        let w = valid(DistSpec::Weibull {
            shape: 1.0,
            scale: 3.0,
        });
        assert!((w.mean() - 3.0).abs() < 1e-9);
        assert!((w.second_moment() - 18.0).abs() < 1e-9);
    }

    #[test]
    fn empirical_without_weights_is_uniform_over_values() {
        let d = valid(DistSpec::Empirical {
            values: vec![2.0, 4.0],
            weights: None,
        });
        assert!((d.mean() - 3.0).abs() < 1e-12);
    }

    #[test]
    fn bad_parameters_are_all_reported() {
        let cases = [
            (DistSpec::Exponential { mean: -1.0 }, 1, "exponential.mean"),
            (
                DistSpec::Lognormal {
                    median: 0.0,
                    sigma: -1.0,
                },
                2,
                "lognormal.median",
            ),
            (
                DistSpec::Gamma {
                    shape: 0.0,
                    scale: f64::NAN,
                },
                2,
                "gamma.shape",
            ),
            (
                DistSpec::Uniform {
                    low: 5.0,
                    high: 1.0,
                },
                1,
                "uniform.high",
            ),
            (
                DistSpec::Empirical {
                    values: vec![],
                    weights: None,
                },
                1,
                "empirical.values",
            ),
            (
                DistSpec::Empirical {
                    values: vec![1.0],
                    weights: Some(vec![1.0, 2.0]),
                },
                1,
                "empirical.weights",
            ),
            (
                DistSpec::Empirical {
                    values: vec![1.0],
                    weights: Some(vec![0.0]),
                },
                1,
                "empirical.weights",
            ),
        ];
        for (spec, count, first) in cases {
            let mut issues = Issues::default();
            assert!(
                spec.validate(&YamlPath::root(), &mut issues).is_none(),
                "{spec:?}"
            );
            assert_eq!(issues.len(), count, "{spec:?}: {issues:?}");
            let shown = format!("{issues:?}");
            assert!(
                shown.contains(&first.split('.').next_back().unwrap_or_default().to_string()),
                "{shown}"
            );
        }
    }
}
