//! Whether a run's metrics moved from a baseline's by more than a margin: the statistics of
//! `depinsim check`.
//!
//! Per metric, the run's replication i is paired with the baseline's replication i (the same
//! seed, so common random numbers cancel most of the noise) and the differences
//! d_i = now_i - baseline_i are judged against a margin m (the largest change that does not
//! matter, [`Margin::width`]), with n pairs, mean d and standard error se = s / sqrt(n):
//!
//! - **pass** (equivalence, two one-sided tests: Schuirmann 1987): the 90% interval
//!   d +/- t(0.95, n-1) se lies inside [-m, m]. Equivalence needs no correction for
//!   multiplicity: a metric passes only if each of its own two tests rejects.
//! - **regression**: the one-sided test of H0 "the change is at most m on the bad side"
//!   rejects, t = (d - m) / se on n - 1 degrees of freedom for "higher is worse" (mirrored
//!   for "lower is worse"; with "both" sides bad, twice the smaller one-sided p-value), after
//!   Holm's step-down correction across every metric (Holm 1979): the chance of any false
//!   regression in the whole family stays at most [`FAMILY_ALPHA`] however the metrics
//!   correlate.
//! - **improvement**: the same on the good side (only for a one-sided direction).
//! - **inconclusive** otherwise, with the replications that would decide at the observed
//!   mean and spread ([`replications_needed`]).
//!
//! When every difference is the same (a metric the change did not touch, or a deterministic
//! one), there is no noise to test against: the difference itself is compared with the
//! margin, and the metric is left out of Holm's family. A metric with a single pair (the
//! others undefined on one side) is inconclusive: one difference cannot tell a change from
//! noise.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::summary::Metrics;

/// The family-wise error rate of the regression (and of the improvement) verdicts: the most
/// probability that a check with no real change reports any regression.
pub const FAMILY_ALPHA: f64 = 0.05;

/// The confidence of the equivalence interval: 90%, two one-sided tests at 5% each.
pub const EQUIVALENCE_LEVEL: f64 = 0.90;

/// The power at which the self-test states the smallest change a check detects.
pub const POWER: f64 = 0.80;

/// Which way a metric gets worse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A rise beyond the margin is a regression, a fall beyond it an improvement (costs,
    /// latencies).
    HigherIsWorse,
    /// A fall beyond the margin is a regression, a rise an improvement (revenue, attainment).
    LowerIsWorse,
    /// Any move beyond the margin is a regression.
    Both,
}

/// The largest change of a metric that does not matter, and which way is worse.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Margin {
    /// Share of the baseline's mean (0.02: 2%).
    pub relative: f64,
    /// The floor, in the metric's unit, for metrics near zero.
    pub absolute: f64,
    /// Which way is worse.
    pub direction: Direction,
}

impl Margin {
    /// The default: 2% of the baseline's mean, at least 0.001 in the metric's unit, either
    /// way. 2% is well above what a deterministic model's refactoring moves (nothing) and
    /// below what a change of design does (an emission rate +10% moves minted tokens by
    /// 10%); 0.001 is a tenth of a percentage point of a share, a millisecond of a latency,
    /// a tenth of a cent, so that a metric at zero is not judged on rounding.
    pub const DEFAULT: Self = Self {
        relative: 0.02,
        absolute: 1e-3,
        direction: Direction::Both,
    };

    /// The margin, in the metric's unit, for a baseline mean of `baseline_mean`.
    pub fn width(&self, baseline_mean: f64) -> f64 {
        (self.relative * baseline_mean.abs()).max(self.absolute)
    }

    /// What is wrong with the margin, if anything: each part finite and not negative.
    pub fn problem(&self) -> Option<String> {
        for (name, v) in [("relative", self.relative), ("absolute", self.absolute)] {
            if !(v.is_finite() && v >= 0.0) {
                return Some(format!(
                    "`{name}` is {v}; a margin is a finite number, 0 or more"
                ));
            }
        }
        None
    }
}

/// A margin for the metrics whose names match `metric` (a pattern in which `*` stands for
/// any characters): the parts it gives replace the default's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarginOverride {
    /// A metric name, or a pattern with `*` (e.g. `token.*`).
    pub metric: String,
    /// Share of the baseline's mean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative: Option<f64>,
    /// Floor in the metric's unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absolute: Option<f64>,
    /// Which way is worse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
}

/// Every metric's margin: a default and overrides by name or pattern.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Margins {
    /// The margin of every metric no override names.
    pub default: Margin,
    /// Applied in order, each to the metrics it matches; a later one's parts win.
    #[serde(default)]
    pub overrides: Vec<MarginOverride>,
}

impl Default for Margins {
    fn default() -> Self {
        Self {
            default: Margin::DEFAULT,
            overrides: Vec::new(),
        }
    }
}

impl Margins {
    /// The margin of metric `name`.
    pub fn of(&self, name: &str) -> Margin {
        let mut m = self.default;
        for o in self.overrides.iter().filter(|o| matches(&o.metric, name)) {
            m.relative = o.relative.unwrap_or(m.relative);
            m.absolute = o.absolute.unwrap_or(m.absolute);
            m.direction = o.direction.unwrap_or(m.direction);
        }
        m
    }

    /// Every problem of the margins, each with where it is (`default`, `overrides[2]`).
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .default
            .problem()
            .map(|p| format!("margins.default: {p}"))
            .into_iter()
            .collect();
        for (i, o) in self.overrides.iter().enumerate() {
            let m = Margin {
                relative: o.relative.unwrap_or(0.0),
                absolute: o.absolute.unwrap_or(0.0),
                direction: Direction::Both,
            };
            if let Some(p) = m.problem() {
                out.push(format!("margins.overrides[{i}] (`{}`): {p}", o.metric));
            }
        }
        out
    }
}

/// Whether `name` matches `pattern`, in which `*` stands for any run of characters.
pub fn matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name.ends_with(last) || name.len() < first.len() + last.len() {
        return false;
    }
    // Both ends are character boundaries: the name starts with `first` and ends with `last`.
    let mut rest = &name[first.len()..name.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(at) => rest = &rest[at + p.len()..],
            None => return false,
        }
    }
    true
}

/// A metric's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The change is within the margin.
    Pass,
    /// Worse by more than the margin (or missing from the run).
    Regression,
    /// Better by more than the margin.
    Improvement,
    /// The replications cannot tell.
    Inconclusive,
}

/// One metric judged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Judgement {
    /// The metric's name.
    pub metric: String,
    /// The baseline's mean over the pairs.
    pub baseline: f64,
    /// The run's mean over the pairs.
    pub now: f64,
    /// Mean of the paired differences, now - baseline.
    pub change: f64,
    /// The 90% interval of the change (equal to it when every difference is the same).
    pub ci90_low: f64,
    /// Upper end of the 90% interval.
    pub ci90_high: f64,
    /// Standard deviation of the differences (0 when all are the same).
    pub std: f64,
    /// The margin, in the metric's unit.
    pub margin: f64,
    /// Which way is worse.
    pub direction: Direction,
    /// Pairs where both sides defined the metric.
    pub n: usize,
    /// The regression test's p-value before correction; none when every difference is the
    /// same.
    pub p_regression: Option<f64>,
    /// The improvement test's p-value (one-sided directions only).
    pub p_improvement: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, when it is not the tests': the metric is missing from the run, or has one pair.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For an inconclusive verdict: the replications that would decide at the observed
    /// change and spread (none when they would be more than ten million, or the change sits
    /// on the margin); see [`Checked::with_replications_needed`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replications_needed: Option<u64>,
}

/// A whole check: each metric of the baseline judged, and those new in the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Checked {
    /// Every metric the baseline defines, by name.
    pub metrics: Vec<Judgement>,
    /// Metrics the run defines and the baseline does not: listed, not judged.
    pub new_metrics: Vec<String>,
    /// Metrics in Holm's family (those whose differences vary).
    pub family: usize,
}

impl Checked {
    /// How many metrics got verdict `v`.
    pub fn count(&self, v: Verdict) -> usize {
        self.metrics.iter().filter(|j| j.verdict == v).count()
    }

    /// The same, with [`replications_needed`] filled in for each inconclusive metric.
    pub fn with_replications_needed(mut self) -> Self {
        let family = self.family;
        for j in &mut self.metrics {
            if j.verdict == Verdict::Inconclusive {
                j.replications_needed = replications_needed(j, family);
            }
        }
        self
    }
}

/// A baseline's per-replication values of each metric (`None` where a replication did not
/// define it), in replication order.
pub type BaselineValues = BTreeMap<String, Vec<Option<f64>>>;

/// Judges every metric of `baseline` against the run's replications `now` (in replication
/// order, paired by index), with Holm's correction when `holm` (without it, each regression
/// test runs at [`FAMILY_ALPHA`] on its own: for measuring what the correction buys).
pub fn check(baseline: &BaselineValues, now: &[Metrics], margins: &Margins, holm: bool) -> Checked {
    let mut metrics: Vec<Judgement> = baseline
        .iter()
        .filter_map(|(name, values)| judge(name, values, now, margins.of(name)))
        .collect();
    let family = decide(&mut metrics, holm);
    let known: BTreeSet<&str> = baseline.keys().map(String::as_str).collect();
    let new_metrics: BTreeSet<String> = now
        .iter()
        .flat_map(|m| m.iter())
        .filter(|(k, v)| v.is_finite() && !known.contains(k.as_str()))
        .map(|(k, _)| k.clone())
        .collect();
    Checked {
        metrics,
        new_metrics: new_metrics.into_iter().collect(),
        family,
    }
}

/// The statistics of one metric, before the verdicts that depend on the whole family; none
/// for a metric the baseline never defined.
pub fn judge(
    name: &str,
    baseline: &[Option<f64>],
    now: &[Metrics],
    margin: Margin,
) -> Option<Judgement> {
    let defined: Vec<f64> = baseline
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if defined.is_empty() {
        return None;
    }
    let width = margin.width(defined.iter().sum::<f64>() / defined.len() as f64);
    let pairs: Vec<(f64, f64)> = baseline
        .iter()
        .zip(now)
        .filter_map(|(b, m)| {
            let b = b.filter(|v| v.is_finite())?;
            let r = m.get(name).copied().filter(|v| v.is_finite())?;
            Some((b, r))
        })
        .collect();
    Some(judge_pairs(name, &pairs, width, margin.direction))
}

/// One metric judged from its pairs (baseline, now) and its margin's width; the verdict is
/// provisional for varying differences until [`decide`] applies the family's correction.
pub fn judge_pairs(
    name: &str,
    pairs: &[(f64, f64)],
    margin: f64,
    direction: Direction,
) -> Judgement {
    let n = pairs.len();
    let mut j = Judgement {
        metric: name.to_string(),
        baseline: f64::NAN,
        now: f64::NAN,
        change: f64::NAN,
        ci90_low: f64::NAN,
        ci90_high: f64::NAN,
        std: f64::NAN,
        margin,
        direction,
        n,
        p_regression: None,
        p_improvement: None,
        verdict: Verdict::Regression,
        note: None,
        replications_needed: None,
    };
    if n == 0 {
        j.note = Some("missing from the run".into());
        return j;
    }
    let nf = n as f64;
    j.baseline = pairs.iter().map(|p| p.0).sum::<f64>() / nf;
    j.now = pairs.iter().map(|p| p.1).sum::<f64>() / nf;
    let d: Vec<f64> = pairs.iter().map(|(b, r)| r - b).collect();
    let mean = d.iter().sum::<f64>() / nf;
    j.change = mean;
    let (lo, hi) = d
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if n == 1 {
        // One difference says nothing of the noise: no verdict either way.
        j.ci90_low = mean;
        j.ci90_high = mean;
        j.verdict = Verdict::Inconclusive;
        j.note = Some("one paired replication: at least 2 are needed".into());
        return j;
    }
    let scale = j.baseline.abs().max(j.now.abs());
    if hi - lo <= 1e-9 * scale {
        // Every difference the same: no noise to test against.
        j.std = 0.0;
        j.ci90_low = mean;
        j.ci90_high = mean;
        j.verdict = if mean.abs() <= margin {
            Verdict::Pass
        } else if worse(direction, mean) {
            Verdict::Regression
        } else {
            Verdict::Improvement
        };
        return j;
    }
    let std = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nf - 1.0)).sqrt();
    j.std = std;
    let se = std / nf.sqrt();
    let t = students_t(n - 1);
    let half = t.inverse_cdf(0.5 + EQUIVALENCE_LEVEL / 2.0) * se;
    j.ci90_low = mean - half;
    j.ci90_high = mean + half;
    // P(T >= x) and P(T <= x) on n - 1 degrees of freedom.
    let above = |x: f64| 1.0 - t.cdf(x);
    let below = |x: f64| t.cdf(x);
    let rise = above((mean - margin) / se); // H1: change > m
    let fall = below((mean + margin) / se); // H1: change < -m
    (j.p_regression, j.p_improvement) = match direction {
        Direction::HigherIsWorse => (Some(rise), Some(fall)),
        Direction::LowerIsWorse => (Some(fall), Some(rise)),
        Direction::Both => (Some((2.0 * rise.min(fall)).min(1.0)), None),
    };
    j.verdict = provisional_verdict(&j);
    j
}

/// A varying metric's verdict before the family's correction: pass when its 90% interval
/// lies inside the margin, else inconclusive.
pub fn provisional_verdict(j: &Judgement) -> Verdict {
    if j.ci90_low >= -j.margin && j.ci90_high <= j.margin {
        Verdict::Pass
    } else {
        Verdict::Inconclusive
    }
}

/// Whether a change of sign `change` is on the bad side of `direction`.
fn worse(direction: Direction, change: f64) -> bool {
    match direction {
        Direction::HigherIsWorse => change > 0.0,
        Direction::LowerIsWorse => change < 0.0,
        Direction::Both => true,
    }
}

/// Applies the family's tests to the provisional verdicts of [`judge_pairs`]: a regression
/// where Holm's procedure (or, without `holm`, the test at [`FAMILY_ALPHA`] alone) rejects,
/// else an improvement likewise. Returns the family's size.
pub fn decide(metrics: &mut [Judgement], holm: bool) -> usize {
    let family: Vec<usize> = (0..metrics.len())
        .filter(|&i| metrics[i].p_regression.is_some())
        .collect();
    let reject = |p: Vec<f64>| -> Vec<bool> {
        if holm {
            holm_rejects(&p, FAMILY_ALPHA)
        } else {
            p.iter().map(|&x| x <= FAMILY_ALPHA).collect()
        }
    };
    let regress = reject(
        family
            .iter()
            .map(|&i| p_or_one(metrics[i].p_regression))
            .collect(),
    );
    let improve = reject(
        family
            .iter()
            .map(|&i| p_or_one(metrics[i].p_improvement))
            .collect(),
    );
    for (k, &i) in family.iter().enumerate() {
        if regress[k] {
            metrics[i].verdict = Verdict::Regression;
        } else if improve[k] {
            metrics[i].verdict = Verdict::Improvement;
        }
    }
    family.len()
}

fn p_or_one(p: Option<f64>) -> f64 {
    p.unwrap_or(1.0)
}

/// Holm's step-down procedure at family-wise level `alpha`: the i-th smallest of m p-values
/// is rejected when it and every smaller one are at most alpha / (m - rank + 1).
pub fn holm_rejects(p: &[f64], alpha: f64) -> Vec<bool> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let mut out = vec![false; m];
    for (rank, &i) in order.iter().enumerate() {
        if p[i] <= alpha / (m - rank) as f64 {
            out[i] = true;
        } else {
            break;
        }
    }
    out
}

/// The replications an inconclusive metric would need for a verdict at its observed mean
/// change and spread: for equivalence when the change is inside the margin, for the
/// regression (or improvement) test at Holm's strictest level (alpha / `family`) when it is
/// outside. None when it sits on the margin, or would need more than ten million.
pub fn replications_needed(j: &Judgement, family: usize) -> Option<u64> {
    if j.std.is_nan() || j.std == 0.0 {
        return None;
    }
    let gap = (j.margin - j.change.abs()).abs();
    if gap == 0.0 {
        return None;
    }
    let level = if j.change.abs() < j.margin {
        0.5 + EQUIVALENCE_LEVEL / 2.0
    } else {
        1.0 - one_sided_alpha(j.direction, family)
    };
    let decides = |n: u64| {
        let t = students_t((n - 1) as usize).inverse_cdf(level);
        t * j.std / (n as f64).sqrt() <= gap
    };
    const MOST: u64 = 10_000_000;
    if !decides(MOST) {
        return None;
    }
    let (mut lo, mut hi) = (1u64, MOST); // decides(hi), and lo is below any that does
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if decides(mid.max(2)) {
            hi = mid.max(2);
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// The one-sided level of the first step of Holm's procedure over `family` tests: alpha /
/// family, halved again when both directions are bad (a two-sided test).
fn one_sided_alpha(direction: Direction, family: usize) -> f64 {
    let a = FAMILY_ALPHA / family.max(1) as f64;
    if direction == Direction::Both {
        a / 2.0
    } else {
        a
    }
}

/// The smallest change, added to every run-side value of `j`'s metric on its bad side (a
/// rise for `both`), that its regression test rejects at Holm's strictest level in a
/// family of `family` (alpha / family, so whatever the other metrics do): m - d + t se for
/// a rise, m + d + t se for a fall, with t = t(1 - level, n - 1); zero spread, just beyond
/// m - d (or m + d). None for a metric missing from the run or with one pair.
pub fn change_caught(j: &Judgement, family: usize) -> Option<f64> {
    if j.n < 2 || !j.change.is_finite() {
        return None;
    }
    let offset = if j.direction == Direction::LowerIsWorse {
        j.change
    } else {
        -j.change
    };
    if j.std == 0.0 {
        return Some(j.margin + offset);
    }
    let t = students_t(j.n - 1).inverse_cdf(1.0 - one_sided_alpha(j.direction, family));
    Some(j.margin + offset + t * j.std / (j.n as f64).sqrt())
}

/// Student's t with `dof` degrees of freedom (at least one).
fn students_t(dof: usize) -> StudentsT {
    StudentsT::new(0.0, 1.0, dof.max(1) as f64).expect("a positive number of degrees of freedom")
}

/// A check's outcome as a whole, and its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every metric passed or improved (exit 0).
    Pass,
    /// Some metric regressed or is missing (exit 1).
    Regression,
    /// No regression, but some metric is inconclusive (exit 3).
    Inconclusive,
}

impl Outcome {
    /// The outcome of a check's verdicts.
    pub fn of(c: &Checked) -> Self {
        if c.count(Verdict::Regression) > 0 {
            Self::Regression
        } else if c.count(Verdict::Inconclusive) > 0 {
            Self::Inconclusive
        } else {
            Self::Pass
        }
    }

    /// The process's exit code: 0 pass, 1 regression, 3 inconclusive (2 is bad input).
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Pass => 0,
            Self::Regression => 1,
            Self::Inconclusive => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Student's t with 2 degrees of freedom in closed form: F(t) = 1/2 + t / (2 sqrt(2 + t^2)),
    /// and its quantile t_p = (2p - 1) / sqrt(2 p (1 - p)).
    fn t2_cdf(t: f64) -> f64 {
        0.5 + t / (2.0 * (2.0 + t * t).sqrt())
    }
    fn t2_quantile(p: f64) -> f64 {
        (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt()
    }

    fn pairs(d: &[f64]) -> Vec<(f64, f64)> {
        d.iter().map(|&x| (100.0, 100.0 + x)).collect()
    }

    #[test]
    fn patterns_match_with_stars_anywhere() {
        assert!(matches("token.*", "token.minted.total"));
        assert!(matches("*.p99", "inference.ttft_s.p99"));
        assert!(matches("pool.*.revenue_usd.*", "pool.eu.revenue_usd.total"));
        assert!(matches("a*b*c", "abc") && matches("a*b*c", "aXbYc"));
        assert!(!matches("a*b*c", "acb") && !matches("a*a", "a"));
        assert!(matches("exact", "exact") && !matches("exact", "exact.no"));
        // Names need not be ASCII in a hand-edited baseline: no slicing inside a character.
        assert!(!matches("*x", "fake.café") && matches("*é", "fake.café"));
        assert!(!matches("f*x", "fé") && matches("f*", "fé"));
    }

    #[test]
    fn overrides_apply_in_order_part_by_part() {
        let m = Margins {
            default: Margin::DEFAULT,
            overrides: vec![
                MarginOverride {
                    metric: "token.*".into(),
                    relative: Some(0.1),
                    absolute: None,
                    direction: Some(Direction::LowerIsWorse),
                },
                MarginOverride {
                    metric: "token.burned.*".into(),
                    relative: None,
                    absolute: Some(5.0),
                    direction: None,
                },
            ],
        };
        assert_eq!(m.of("inference.e2e_s.mean"), Margin::DEFAULT);
        let burned = m.of("token.burned.total");
        assert_eq!(
            (burned.relative, burned.absolute, burned.direction),
            (0.1, 5.0, Direction::LowerIsWorse)
        );
        // 10% of 30 is 3, under the floor of 5; of 100, 10.
        assert_eq!((burned.width(30.0), burned.width(-100.0)), (5.0, 10.0));
    }

    #[test]
    fn equal_differences_are_compared_with_the_margin_directly() {
        let up = pairs(&[0.5, 0.5, 0.5]);
        let j = judge_pairs("m", &up, 0.4, Direction::Both);
        assert_eq!(
            (j.verdict, j.std, j.p_regression),
            (Verdict::Regression, 0.0, None)
        );
        assert_eq!(
            judge_pairs("m", &up, 0.5, Direction::Both).verdict,
            Verdict::Pass
        );
        let lower = judge_pairs("m", &up, 0.4, Direction::LowerIsWorse);
        assert_eq!(lower.verdict, Verdict::Improvement);
        let one = judge_pairs("m", &up[..1], 0.4, Direction::Both);
        assert_eq!(
            (one.verdict, one.p_regression),
            (Verdict::Inconclusive, None)
        );
        assert_eq!(change_caught(&one, 1), None);
        let none = judge_pairs("m", &[], 0.4, Direction::Both);
        assert_eq!(none.verdict, Verdict::Regression);
        assert!(none.note.is_some());
    }

    #[test]
    fn the_tests_match_students_t_by_hand() {
        // Differences 1, 2, 3: mean 2, s = 1, se = 1/sqrt(3), 2 degrees of freedom.
        let p = pairs(&[1.0, 2.0, 3.0]);
        let se = 1.0 / 3f64.sqrt();
        let half = t2_quantile(0.95) * se; // 2.919986 / 1.732 = 1.6859
        let wide = judge_pairs("m", &p, 4.0, Direction::HigherIsWorse);
        assert!((wide.ci90_high - (2.0 + half)).abs() < 1e-9, "{wide:?}");
        assert_eq!(wide.verdict, Verdict::Pass); // [0.314, 3.686] inside +/- 4
        // Margin 0.1: t = (2 - 0.1) / se = 3.2909, p = 1 - F(t) = 0.04062.
        let narrow = judge_pairs("m", &p, 0.1, Direction::HigherIsWorse);
        let want = 1.0 - t2_cdf(1.9 / se);
        assert!((narrow.p_regression.expect("p") - want).abs() < 1e-9);
        assert!((want - 0.040_62).abs() < 1e-4);
        // Improvement side: H1 change < -0.1, t = (2 + 0.1) / se, p = F(t), near 1.
        assert!((narrow.p_improvement.expect("p") - t2_cdf(2.1 / se)).abs() < 1e-9);
        // Both sides bad: twice the smaller one-sided p.
        let both = judge_pairs("m", &p, 0.1, Direction::Both);
        assert!((both.p_regression.expect("p") - 2.0 * want).abs() < 1e-9);
        // Alone in the family, p = 0.0406 <= 0.05 is a regression; twice it is not.
        let mut one = vec![narrow];
        assert_eq!(decide(&mut one, true), 1);
        assert_eq!(one[0].verdict, Verdict::Regression);
        let mut two = vec![both];
        decide(&mut two, true);
        assert_eq!(two[0].verdict, Verdict::Inconclusive);
    }

    #[test]
    fn holm_steps_down_until_the_first_acceptance() {
        // Sorted 0.005 <= 0.05/4, 0.01 <= 0.05/3, then 0.03 > 0.05/2 stops: 0.04 is kept
        // though it is below 0.05 / 1.
        let p = [0.01, 0.04, 0.03, 0.005];
        assert_eq!(holm_rejects(&p, 0.05), vec![true, false, false, true]);
        assert_eq!(holm_rejects(&[0.06], 0.05), vec![false]);
        assert!(holm_rejects(&[], 0.05).is_empty());
    }

    #[test]
    fn the_outcome_is_the_worst_verdict() {
        let base = BaselineValues::from([
            ("a".to_string(), vec![Some(1.0), Some(2.0)]),
            ("gone".to_string(), vec![Some(1.0), None]),
            ("never".to_string(), vec![None, None]),
        ]);
        let now = vec![
            Metrics::from([("a".to_string(), 1.0), ("new".to_string(), 3.0)]),
            Metrics::from([("a".to_string(), 2.0)]),
        ];
        let c = check(&base, &now, &Margins::default(), true);
        let verdicts: Vec<_> = c
            .metrics
            .iter()
            .map(|j| (j.metric.as_str(), j.verdict))
            .collect();
        assert_eq!(
            verdicts,
            [("a", Verdict::Pass), ("gone", Verdict::Regression)]
        );
        assert_eq!(c.new_metrics, ["new"]);
        assert_eq!(Outcome::of(&c).exit_code(), 1);
    }

    #[test]
    fn replications_needed_is_the_least_that_decides() {
        // Change 0.5 inside a margin of 1, s = 2: equivalence needs t(0.95, n-1) 2 / sqrt(n)
        // <= 0.5, about (1.645 * 4)^2 = 43.3, a little more for t.
        let mut j = judge_pairs("m", &pairs(&[-1.5, 2.5, -1.5, 2.5]), 1.0, Direction::Both);
        assert_eq!(j.verdict, Verdict::Inconclusive);
        j.std = 2.0;
        let n = replications_needed(&j, 1).expect("decidable");
        let half = |n: u64| students_t(n as usize - 1).inverse_cdf(0.95) * 2.0 / (n as f64).sqrt();
        assert!(half(n) <= 0.5 && half(n - 1) > 0.5, "{n}");
        assert!((44..=47).contains(&n), "{n}");
        j.change = 1.0; // on the margin: nothing decides
        assert_eq!(replications_needed(&j, 1), None);
    }

    #[test]
    fn the_change_caught_is_just_rejected() {
        let mut j = judge_pairs("m", &pairs(&[1.0, 2.0, 3.0]), 0.1, Direction::HigherIsWorse);
        let at = change_caught(&j, 1).expect("defined");
        // m - d + t(0.95, 2) se = 0.1 - 2 + 2.919986 / sqrt(3).
        assert!((at - (0.1 - 2.0 + t2_quantile(0.95) / 3f64.sqrt())).abs() < 1e-9);
        let shifted = pairs(&[1.0 + at + 1e-9, 2.0 + at + 1e-9, 3.0 + at + 1e-9]);
        let p = judge_pairs("m", &shifted, 0.1, Direction::HigherIsWorse).p_regression;
        assert!((p.expect("p") - 0.05).abs() < 1e-6);
        j.direction = Direction::LowerIsWorse;
        assert!(change_caught(&j, 1).expect("defined") > at + 3.9);
    }
}
