//! `depinsim check`'s tables: each metric's baseline, now, change with its 90% interval,
//! margin and verdict; and the self-test's false alarms and detectable changes.

use std::fmt::Write as _;

use crate::export::check::{CheckReport, Tier, direction};
use crate::metrics::regression::{Judgement, Outcome, Verdict};
use crate::metrics::self_test::SelfTest;

/// A number in 4 significant figures (plain for moderate magnitudes, else scientific).
fn num(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let a = x.abs();
    if a == 0.0 || (1e-3..1e6).contains(&a) {
        let digits = if a == 0.0 {
            0
        } else {
            (3 - a.log10().floor() as i32).clamp(0, 6) as usize
        };
        format!("{x:.digits$}")
    } else {
        format!("{x:.3e}")
    }
}

/// A change, with its share of the baseline where that is defined.
fn change(x: f64, baseline: f64) -> String {
    let sign = if x > 0.0 { "+" } else { "" };
    if baseline != 0.0 && baseline.is_finite() && x.is_finite() {
        format!("{sign}{}%", num(100.0 * x / baseline.abs()))
    } else {
        format!("{sign}{}", num(x))
    }
}

/// Rows as indented, left-aligned columns, a line each.
fn columns<const N: usize>(rows: &[[String; N]]) -> String {
    let widths: Vec<usize> = (0..N)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(s, "  {}", cells.join("  ").trim_end());
    }
    s
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Regression => "REGRESSION",
        Verdict::Improvement => "improvement",
        Verdict::Inconclusive => "inconclusive",
    }
}

fn row(j: &Judgement) -> [String; 6] {
    let interval = if j.note.is_some() {
        j.note.clone().unwrap_or_default()
    } else if j.ci90_low == j.ci90_high {
        format!("{} (every replication)", change(j.change, j.baseline))
    } else {
        format!(
            "{} ({} to {})",
            change(j.change, j.baseline),
            change(j.ci90_low, j.baseline),
            change(j.ci90_high, j.baseline)
        )
    };
    let mut v = verdict(j.verdict).to_string();
    if j.verdict == Verdict::Inconclusive && j.note.is_none() {
        match j.replications_needed {
            Some(n) => {
                let _ = write!(v, " (~{n} replications)");
            }
            None => v.push_str(" (on the margin)"),
        }
    }
    [
        j.metric.clone(),
        num(j.baseline),
        num(j.now),
        interval,
        format!("±{} {}", num(j.margin), direction(j.direction)),
        v,
    ]
}

/// The check's table: the metrics that did not pass (all of them with `all`), worst first,
/// then the counts and the outcome.
pub fn table(r: &CheckReport<'_>, all: bool) -> String {
    let tier = match r.tier {
        Tier::Exact => "exact tier: summary.json is byte-identical to the baseline's".to_string(),
        Tier::Statistical => format!(
            "statistical tier (summary.json differs): {} paired replications, 90% equivalence intervals, Holm at {} over {} varying metrics",
            r.pairs,
            crate::metrics::regression::FAMILY_ALPHA,
            r.family
        ),
    };
    let mut s = format!(
        "check of `{}` against {} (seed {})\n{tier}\n",
        r.scenario, r.baseline_file, r.seed
    );
    if let Some(note) = &r.note {
        let _ = writeln!(s, "note: {note}");
    }
    let rank = |v: Verdict| match v {
        Verdict::Regression => 0,
        Verdict::Inconclusive => 1,
        Verdict::Improvement => 2,
        Verdict::Pass => 3,
    };
    let mut shown: Vec<&Judgement> = r
        .metrics
        .iter()
        .filter(|j| all || j.verdict != Verdict::Pass)
        .collect();
    shown.sort_by_key(|j| rank(j.verdict));
    if !shown.is_empty() {
        let header = [
            "metric",
            "baseline",
            "now",
            "change (90% interval)",
            "margin",
            "verdict",
        ]
        .map(String::from);
        let rows: Vec<[String; 6]> = std::iter::once(header)
            .chain(shown.iter().map(|j| row(j)))
            .collect();
        s.push_str(&columns(&rows));
    }
    let count = |v: Verdict| r.metrics.iter().filter(|j| j.verdict == v).count();
    let _ = writeln!(
        s,
        "{} metrics: {} pass, {} regression, {} improvement, {} inconclusive{}",
        r.metrics.len(),
        count(Verdict::Pass),
        count(Verdict::Regression),
        count(Verdict::Improvement),
        count(Verdict::Inconclusive),
        if all || count(Verdict::Pass) == 0 {
            ""
        } else {
            " (--all lists the passing ones)"
        }
    );
    if !r.new_metrics.is_empty() {
        let _ = writeln!(
            s,
            "new in the run, not judged: {}",
            r.new_metrics.join(", ")
        );
    }
    let outcome = match r.outcome {
        Outcome::Pass => "pass",
        Outcome::Regression => "REGRESSION",
        Outcome::Inconclusive => "inconclusive",
    };
    let tier = match r.tier {
        Tier::Exact => "exact tier",
        Tier::Statistical => "statistical tier",
    };
    let _ = write!(s, "outcome: {outcome} (exit {}; {tier})", r.exit_code);
    s
}

/// The self-test's report: false alarms with and without Holm's correction, and each
/// varying metric's detectable change and measured power.
pub fn self_test(t: &SelfTest, scenario: &str) -> String {
    let rate = |k: usize| 100.0 * k as f64 / t.trials.max(1) as f64;
    let mut s = format!(
        "self-test of `{scenario}`: {} neutral changes (the run on other seeds, paired by replication)\n",
        t.trials
    );
    let _ = writeln!(
        s,
        "false alarms (any regression): {} of {} ({:.1}%) with Holm's correction; {} ({:.1}%) without; family-wise level {}",
        t.false_alarms,
        t.trials,
        rate(t.false_alarms),
        t.false_alarms_uncorrected,
        rate(t.false_alarms_uncorrected),
        crate::metrics::regression::FAMILY_ALPHA
    );
    let _ = writeln!(
        s,
        "{} metrics judged, {} of them vary; the smallest change each detects in at least 80% of runs ({:.0}% confidence for all of them together), and the share of these trials (in sample) in which it was caught:",
        t.metrics_judged,
        t.family,
        100.0 * t.confidence
    );
    if t.confidence < 0.95 - 1e-12 {
        let _ = writeln!(
            s,
            "too few trials for 95% confidence: give --trials {} or more",
            t.trials_for_confidence
        );
    }
    let mut rows = vec![[
        "metric".to_string(),
        "baseline".into(),
        "margin".into(),
        "std of difference".into(),
        "detectable".into(),
        "caught in trials".into(),
    ]];
    for m in t.sensitivity.iter().filter(|m| m.std > 0.0) {
        rows.push([
            m.metric.clone(),
            num(m.baseline),
            format!("±{}", num(m.margin)),
            num(m.std),
            match m.detectable_relative {
                Some(r) => format!("{} ({}%)", num(m.detectable), num(100.0 * r)),
                None => num(m.detectable),
            },
            format!("{:.0}%", 100.0 * m.power),
        ]);
    }
    s.push_str(&columns(&rows));
    let fixed = t.sensitivity.len() - (rows.len() - 1);
    let _ = write!(
        s,
        "{fixed} metrics do not vary between seeds: any change beyond their margin is caught"
    );
    s
}
