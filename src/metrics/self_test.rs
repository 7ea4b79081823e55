//! The self-test of a regression check: what its verdicts do when nothing changed, and what
//! change they catch.
//!
//! Each trial is a neutral change: the run side replays the baseline's scenario on other
//! seeds (still paired with the baseline by replication index), so its differences carry
//! the full noise of two independent runs and no real change. The share of trials with any
//! regression is the measured false-alarm rate (with Holm's correction, as `check` runs,
//! and without it, to show what the correction buys).
//!
//! A metric's detectable change is read off the trials rather than a formula: in each
//! trial, [`change_caught`] is the smallest change that, added to the run side's values of
//! that metric alone, its regression test would reject at Holm's strictest level. The
//! detectable change is the order statistic of these that exceeds their 80th percentile
//! with confidence 1 - 0.05 / F jointly for the F varying metrics (Bonferroni: the r-th
//! smallest of T, r the least with P(Binomial(T, 0.8) < r) >= 1 - 0.05 / F), so that, with
//! 95% confidence, a change that size is caught in at least 80% of such runs for every
//! metric at once, whatever the baseline's own luck, the few degrees of freedom or the
//! shape of the noise. Its measured power is the share of the trials in which it, planted,
//! is judged a regression by the whole check (the other metrics' p-values in Holm's family
//! as they were).

use serde::Serialize;

use super::regression::{
    BaselineValues, Direction, Margins, POWER, Verdict, change_caught, check, decide, judge_pairs,
    provisional_verdict,
};
use super::summary::Metrics;

/// One metric's sensitivity, from the self-test's trials.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sensitivity {
    /// The metric's name.
    pub metric: String,
    /// The baseline's mean.
    pub baseline: f64,
    /// The margin, in the metric's unit.
    pub margin: f64,
    /// Which way is worse.
    pub direction: Direction,
    /// The paired differences' standard deviation, pooled over the trials (root of the
    /// mean variance).
    pub std: f64,
    /// Pairs per trial (the fewest in any trial).
    pub n: usize,
    /// The smallest change (from the baseline, on the bad side) the check detects in at least
    /// 80% of runs (at 95% confidence for all metrics together), in the metric's unit.
    pub detectable: f64,
    /// The same as a share of the baseline's mean (none at a mean of zero).
    pub detectable_relative: Option<f64>,
    /// Share of the trials in which that change, planted, was judged a regression.
    pub power: f64,
}

/// What the self-test measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SelfTest {
    /// Neutral changes emulated.
    pub trials: usize,
    /// Trials in which some metric was judged a regression, with Holm's correction.
    pub false_alarms: usize,
    /// The same with each metric tested at the family's level alone.
    pub false_alarms_uncorrected: usize,
    /// Metrics judged in each trial (the largest count).
    pub metrics_judged: usize,
    /// Metrics in Holm's family (whose differences vary), the largest count of any trial.
    pub family: usize,
    /// The confidence, jointly for the family, that every detectable change is caught in
    /// at least 80% of runs: 0.95 when the trials allow it, less with too few (Bonferroni
    /// over the family, at the rank used).
    pub confidence: f64,
    /// The fewest trials that reach 95% joint confidence for this family.
    pub trials_for_confidence: usize,
    /// Every metric the baseline defines.
    pub sensitivity: Vec<Sensitivity>,
}

/// The self-test of `baseline` under `margins` from `trials`, each the run side's
/// replications (paired by index with the baseline's) of one neutral change.
pub fn self_test(
    baseline: &BaselineValues,
    trials: &[Vec<Metrics>],
    margins: &Margins,
) -> SelfTest {
    let checked: Vec<_> = trials
        .iter()
        .map(|t| check(baseline, t, margins, true))
        .collect();
    let any_regression =
        |c: &super::regression::Checked| c.metrics.iter().any(|j| j.verdict == Verdict::Regression);
    let false_alarms = checked.iter().filter(|c| any_regression(c)).count();
    let false_alarms_uncorrected = trials
        .iter()
        .filter(|t| any_regression(&check(baseline, t, margins, false)))
        .count();
    let family = checked.iter().map(|c| c.family).max().unwrap_or(0);
    let metrics_judged = checked.iter().map(|c| c.metrics.len()).max().unwrap_or(0);
    let names: Vec<&String> = checked
        .first()
        .map(|c| c.metrics.iter().map(|j| &j.metric).collect())
        .unwrap_or_default();
    let sensitivity = names
        .iter()
        .enumerate()
        .map(|(k, name)| sensitivity(k, name, baseline, trials, &checked, family))
        .collect();
    let rank = confident_rank(trials.len(), family);
    SelfTest {
        trials: trials.len(),
        false_alarms,
        false_alarms_uncorrected,
        metrics_judged,
        family,
        confidence: joint_confidence(trials.len(), rank, family),
        trials_for_confidence: (1..=100_000)
            .find(|&t| joint_confidence(t, confident_rank(t, family), family) >= 0.95 - 1e-12)
            .unwrap_or(100_000),
        sensitivity,
    }
}

/// Metric `k` (named `name`) of every trial's check: its pooled spread, detectable change,
/// and that change's measured power.
fn sensitivity(
    k: usize,
    name: &str,
    baseline: &BaselineValues,
    trials: &[Vec<Metrics>],
    checked: &[super::regression::Checked],
    family: usize,
) -> Sensitivity {
    let first = &checked[0].metrics[k];
    let (margin, direction) = (first.margin, first.direction);
    let rows: Vec<_> = checked.iter().map(|c| &c.metrics[k]).collect();
    let var = rows.iter().map(|j| j.std.powi(2)).filter(|v| v.is_finite());
    let (sum, count) = var.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    let std = if count == 0 {
        0.0
    } else {
        (sum / count as f64).sqrt()
    };
    let n = rows.iter().map(|j| j.n).min().unwrap_or(0);
    let mut caught_at: Vec<f64> = checked
        .iter()
        .filter_map(|c| change_caught(&c.metrics[k], c.family))
        .collect();
    caught_at.sort_by(f64::total_cmp);
    let detectable = caught_at
        .get(confident_rank(caught_at.len(), family).saturating_sub(1))
        .copied()
        .unwrap_or(f64::NAN);
    let values = &baseline[name];
    let defined: Vec<f64> = values.iter().flatten().copied().collect();
    let mean = defined.iter().sum::<f64>() / defined.len().max(1) as f64;
    // Planted a hair beyond the detectable change, so that at zero spread (detectable =
    // the margin) the planted change is beyond the margin, as "detectable" means.
    let planted = detectable * (1.0 + 1e-6) + f64::MIN_POSITIVE;
    let signed = if direction == Direction::LowerIsWorse {
        -planted
    } else {
        planted
    };
    let caught = trials
        .iter()
        .zip(checked)
        .filter(|(t, c)| {
            let pairs: Vec<(f64, f64)> = values
                .iter()
                .zip(t.iter())
                .filter_map(|(b, m)| {
                    let b = b.filter(|v| v.is_finite())?;
                    let r = m.get(name).copied().filter(|v| v.is_finite())?;
                    Some((b, r + signed))
                })
                .collect();
            let mut judged = c.metrics.clone();
            judged[k] = judge_pairs(name, &pairs, margin, direction);
            for j in &mut judged {
                if j.p_regression.is_some() {
                    j.verdict = provisional_verdict(j);
                }
            }
            decide(&mut judged, true);
            judged[k].verdict == Verdict::Regression
        })
        .count();
    Sensitivity {
        metric: name.to_string(),
        baseline: mean,
        margin,
        direction,
        std,
        n,
        detectable,
        detectable_relative: (mean != 0.0).then(|| detectable / mean.abs()),
        power: caught as f64 / trials.len().max(1) as f64,
    }
}

/// The joint confidence, over `family` metrics (Bonferroni), that the order statistic of
/// rank `rank` of `t` samples lies above each one's [`POWER`] quantile.
fn joint_confidence(t: usize, rank: usize, family: usize) -> f64 {
    use statrs::distribution::{Binomial, DiscreteCDF};
    let Ok(b) = Binomial::new(POWER, t as u64) else {
        return 0.0;
    };
    let each = if rank == 0 {
        0.0
    } else {
        b.cdf(rank as u64 - 1)
    };
    (1.0 - family.max(1) as f64 * (1.0 - each)).max(0.0)
}

/// The rank r (from 1) of the order statistic of `t` samples that lies above their
/// [`POWER`] quantile with confidence 1 - 0.05 / `family`: the least r with
/// P(Binomial(t, POWER) <= r - 1) >= that, at most `t`.
pub fn confident_rank(t: usize, family: usize) -> usize {
    use statrs::distribution::{Binomial, DiscreteCDF};
    let Ok(b) = Binomial::new(POWER, t as u64) else {
        return t;
    };
    let confidence = 1.0 - 0.05 / family.max(1) as f64;
    (0..t as u64)
        .find(|&j| b.cdf(j) >= confidence)
        .map_or(t, |j| j as usize + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn the_confident_rank_clears_the_80th_percentile_at_95_percent() {
        use statrs::distribution::{Binomial, DiscreteCDF};
        let b = Binomial::new(0.8, 200).expect("valid");
        let r = confident_rank(200, 1) as u64;
        // Normal approximation: 160 + 1.645 x sqrt(200 x 0.8 x 0.2) = 169.3.
        assert!((169..=171).contains(&r), "{r}");
        assert!(b.cdf(r - 1) >= 0.95 && b.cdf(r - 2) < 0.95);
        // 100 metrics: confidence 0.9995, z = 3.29, 160 + 3.29 x 5.66 = 178.6.
        let r = confident_rank(200, 100) as u64;
        assert!((178..=181).contains(&r), "{r}");
        assert!(b.cdf(r - 1) >= 0.9995 && b.cdf(r - 2) < 0.9995);
        // Ten trials: P(at most 9 of 10 below) = 1 - 0.8^10 = 0.89 < 0.95, so the largest,
        // and the joint confidence over 2 metrics is 1 - 2 x 0.8^10 = 0.785.
        assert_eq!(confident_rank(10, 1), 10);
        assert!((joint_confidence(10, 10, 2) - (1.0 - 2.0 * 0.8f64.powi(10))).abs() < 1e-12);
        assert!((joint_confidence(200, confident_rank(200, 100), 100) - 0.95).abs() < 0.05);
    }

    #[test]
    fn planted_detectable_changes_are_caught_and_neutral_ones_rarely() {
        // Ten metrics of mean 100 and noise of std 0 to 9 between seeds, 8 replications,
        // 200 neutral trials against one fixed baseline.
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let mut draw = |sd: f64| {
            let z: f64 = StandardNormal.sample(&mut rng);
            100.0 + sd * z
        };
        let name = |k: usize| format!("m{k}");
        let baseline: BaselineValues = (0..10)
            .map(|k| (name(k), (0..8).map(|_| Some(draw(k as f64))).collect()))
            .collect();
        let trials: Vec<Vec<Metrics>> = (0..200)
            .map(|_| {
                (0..8)
                    .map(|_| (0..10).map(|k| (name(k), draw(k as f64))).collect())
                    .collect()
            })
            .collect();
        let t = self_test(&baseline, &trials, &Margins::default());
        assert_eq!((t.trials, t.metrics_judged, t.family), (200, 10, 9));
        // 9 metrics need 1 - 0.8^T >= 1 - 0.05/9 at the largest rank, T >= 24 (0.8^24 = 0.0047).
        assert!(t.confidence >= 0.95 && (20..=30).contains(&t.trials_for_confidence));
        assert!(t.false_alarms <= t.false_alarms_uncorrected);
        assert!(t.false_alarms <= 17, "{}", t.false_alarms);
        for s in &t.sensitivity {
            assert!(s.power >= 0.8, "{s:?}");
            assert!(s.detectable >= s.margin - (s.baseline - 100.0).abs() - 1e-9);
        }
        // No noise: any change just beyond the 2% margin is caught.
        assert_eq!(t.sensitivity[0].std, 0.0);
        assert!((t.sensitivity[0].detectable - 2.0).abs() < 1e-9);
        assert_eq!(t.sensitivity[0].power, 1.0);
        // More noise, a larger detectable change.
        assert!(t.sensitivity[9].detectable > t.sensitivity[2].detectable);
    }
}
