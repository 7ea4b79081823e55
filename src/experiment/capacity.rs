//! Capacity search, as serving studies run it: the highest value of a parameter (a request
//! rate) or the lowest (a GPU count) at which the latency-objective attainment still meets a
//! target, by bisection. Every probe runs the same replications on the same seeds (common
//! random numbers), so neighbouring probes differ by the parameter, not by luck.

use serde::Serialize;

/// One probe: the parameter's value and the attainment's mean and 95% interval there.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Probe {
    /// The parameter's value.
    pub value: f64,
    /// Mean attainment over the replications.
    pub mean: f64,
    /// Its 95% interval; null with one replication.
    pub ci95: Option<(f64, f64)>,
}

/// What the search found.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The target is met up to (a decreasing attainment) or from (an increasing one)
    /// `capacity`.
    Found {
        /// The last value found to meet the target.
        capacity: f64,
        /// The first value found to miss it.
        misses_at: f64,
    },
    /// Every value of the range meets the target (both ends do).
    AllMeet,
    /// No value of the range meets it (neither end does).
    NoneMeet,
}

/// A search's probes, in the order run, its outcome, and the bracket in which the
/// attainment's 95% interval crosses the target: between the last probe whose whole
/// interval meets the target and the first whose whole interval misses it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Search {
    /// Every probe, in the order run.
    pub probes: Vec<Probe>,
    /// What was found.
    pub outcome: Outcome,
    /// Where the interval crosses the target; null without intervals.
    pub bracket: Option<(f64, f64)>,
}

/// How the search is run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// Lowest value.
    pub low: f64,
    /// Highest value.
    pub high: f64,
    /// Values are whole numbers (a GPU count).
    pub integer: bool,
    /// Stop when the meeting and missing values are this close (at least 1 for whole
    /// numbers).
    pub tolerance: f64,
    /// The attainment to meet.
    pub target: f64,
}

/// The most probes one bisection runs: 40 halvings narrow any range below 10^-12 of its
/// width.
pub const MAX_HALVINGS: usize = 40;

/// Bisects `range` with `probe` (the attainment at a value): first for the mean, then for
/// each end of the interval, so that the bracket is as fine as the tolerance.
///
/// # Errors
/// What `probe` returned.
pub fn search<E>(
    range: Range,
    probe: &mut dyn FnMut(f64) -> Result<Probe, E>,
) -> Result<Search, E> {
    let target = range.target;
    let mut probes: Vec<Probe> = Vec::new();
    let mut at = |x: f64, probes: &mut Vec<Probe>| -> Result<Probe, E> {
        if let Some(p) = probes.iter().find(|p| p.value == x) {
            return Ok(*p);
        }
        let p = probe(x)?;
        probes.push(p);
        Ok(p)
    };
    let (lo, hi) = (at(range.low, &mut probes)?, at(range.high, &mut probes)?);
    let meets = |p: &Probe| p.mean >= target;
    let (good, bad) = match (meets(&lo), meets(&hi)) {
        (true, true) => {
            return Ok(Search {
                probes,
                outcome: Outcome::AllMeet,
                bracket: None,
            });
        }
        (false, false) => {
            return Ok(Search {
                probes,
                outcome: Outcome::NoneMeet,
                bracket: None,
            });
        }
        (true, false) => (range.low, range.high),
        (false, true) => (range.high, range.low),
    };
    let (capacity, misses_at) = bisect(range, good, bad, &mut |x| {
        at(x, &mut probes).map(|p| meets(&p))
    })?;
    // The bracket: where the interval's far end stops meeting (from the `good` end of the
    // range), and where its near end starts missing (towards the `bad` end).
    let surely_meets = |p: &Probe| p.ci95.map(|(lo, _)| lo >= target);
    let surely_misses = |p: &Probe| p.ci95.map(|(_, hi)| hi < target);
    let bracket = match (
        surely_meets(&at(good, &mut probes)?),
        surely_misses(&at(bad, &mut probes)?),
    ) {
        (Some(first), Some(last)) => {
            let meet_end = if first {
                bisect(range, good, capacity, &mut |x| {
                    at(x, &mut probes).map(|p| surely_meets(&p) == Some(true))
                })?
                .0
            } else {
                good
            };
            let miss_end = if last {
                bisect(range, bad, misses_at, &mut |x| {
                    at(x, &mut probes).map(|p| surely_misses(&p) == Some(true))
                })?
                .0
            } else {
                bad
            };
            Some((meet_end, miss_end))
        }
        _ => None,
    };
    Ok(Search {
        probes,
        outcome: Outcome::Found {
            capacity,
            misses_at,
        },
        bracket,
    })
}

/// Where `holds` stops holding between `yes` (where it holds) and `no` (where it may not):
/// the last value found to hold and the first found not to, within the range's tolerance.
fn bisect<E>(
    range: Range,
    mut yes: f64,
    mut no: f64,
    holds: &mut dyn FnMut(f64) -> Result<bool, E>,
) -> Result<(f64, f64), E> {
    let close = range.tolerance.max(if range.integer { 1.0 } else { 0.0 });
    for _ in 0..MAX_HALVINGS {
        if (no - yes).abs() <= close {
            break;
        }
        let mut mid = (yes + no) / 2.0;
        if range.integer {
            mid = mid.round();
            if mid == yes || mid == no {
                break;
            }
        }
        if holds(mid)? {
            yes = mid;
        } else {
            no = mid;
        }
    }
    Ok((yes, no))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attainment 1 - x / 100 (falling with a rate), interval +/- 0.01.
    fn falling(x: f64) -> Result<Probe, ()> {
        let mean = 1.0 - x / 100.0;
        Ok(Probe {
            value: x,
            mean,
            ci95: Some((mean - 0.01, mean + 0.01)),
        })
    }

    fn range(low: f64, high: f64, integer: bool) -> Range {
        Range {
            low,
            high,
            integer,
            tolerance: 0.01,
            target: 0.95,
        }
    }

    #[test]
    fn the_highest_rate_that_meets_the_target_is_found_within_the_tolerance() {
        // 1 - x / 100 >= 0.95 up to x = 5.
        let s = search(range(0.0, 20.0, false), &mut falling).expect("search");
        let Outcome::Found {
            capacity,
            misses_at,
        } = s.outcome
        else {
            panic!("{s:?}");
        };
        assert!(capacity <= 5.0 && misses_at > 5.0 && misses_at - capacity <= 0.01);
        // The interval (+/- 0.01 in attainment, +/- 1 in x) crosses 0.95 between 4 and 6.
        let (a, b) = s.bracket.expect("bracket");
        assert!(
            (3.98..=4.0).contains(&a) && (6.0..=6.02).contains(&b),
            "{a} {b}"
        );
        assert!(s.probes.len() <= 2 + 3 * MAX_HALVINGS);
    }

    #[test]
    fn the_fewest_gpus_that_meet_the_target_are_a_whole_number() {
        // Attainment rising with a GPU count: 0.9 + 0.01 n meets 0.95 from n = 5.
        let mut rising = |n: f64| -> Result<Probe, ()> {
            Ok(Probe {
                value: n,
                mean: 0.9 + 0.01 * n,
                ci95: None,
            })
        };
        let s = search(range(1.0, 16.0, true), &mut rising).expect("search");
        assert_eq!(
            s.outcome,
            Outcome::Found {
                capacity: 5.0,
                misses_at: 4.0
            }
        );
        assert_eq!(s.bracket, None);
    }

    #[test]
    fn a_range_that_all_meets_or_all_misses_says_so() {
        let s = search(range(0.0, 4.0, false), &mut falling).expect("search");
        assert_eq!((s.outcome, s.probes.len()), (Outcome::AllMeet, 2));
        let s = search(range(6.0, 9.0, false), &mut falling).expect("search");
        assert_eq!(s.outcome, Outcome::NoneMeet);
    }
}
