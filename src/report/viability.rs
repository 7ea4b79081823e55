//! The viability table: for inference and for each training or fine-tuning job class, its
//! goodput or objective attainment, its cost per unit of work on the network and on the cloud
//! reference, their ratio, and a verdict that takes the confidence intervals into account:
//! viable only when the whole interval is on the good side of every criterion of the
//! scenario's `viability` section, not viable when the whole interval is on the bad side of
//! one, uncertain otherwise. Job rows also show waits and time to result (wait + wall time),
//! marked as lower bounds where jobs were still waiting at the horizon.
//!
//! Every verdict is also given against each tier of the cloud market (`cloud.tiers`:
//! hyperscaler on demand, neocloud, marketplace): the same cluster at the tier's price, so
//! the tier's cost is the hyperscaler's times the ratio of the prices. With verification
//! accounted beside the simulation (`token.verification.method`: `fingerprint`,
//! `optimistic`, `zk`), the network's cost per unit includes what verifying the work costs.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::metrics::MetricSummary;
use crate::metrics::names;
use crate::physics::training::JobKind;
use crate::scenario::{CloudSizing, Dispatch, Scenario};

/// The verdict on one workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every criterion met with 95% confidence.
    Viable,
    /// Some criterion missed with 95% confidence.
    NotViable,
    /// The confidence intervals straddle a threshold: more replications may tell.
    Uncertain,
    /// The run produced no measurement (no request completed, no job placed).
    NoData,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Viable => "viable",
            Verdict::NotViable => "not viable",
            Verdict::Uncertain => "uncertain",
            Verdict::NoData => "no data",
        }
    }
}

/// One row of the table.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// `inference`, or the job class's name.
    pub workload: String,
    /// `inference`, `training` or `fine_tuning`.
    pub kind: &'static str,
    /// How the network dispatched requests to replicas in the run the row comes from
    /// (`spread`, or `pack`: inference only).
    pub dispatch: Option<&'static str>,
    /// How the cloud reference is sized (`right_sized` or `matched_batch`, inference only:
    /// a job's cloud reference is a co-located cluster of the job's size).
    pub cloud_sizing: Option<&'static str>,
    /// Whether the right-sized cloud meets the objectives at all (false: even a lone
    /// request misses one, and the cloud is sized only to keep up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_meets_objectives: Option<bool>,
    /// Unit of work the costs are per.
    pub unit: &'static str,
    /// Useful work / wall time (jobs).
    pub goodput: Option<MetricSummary>,
    /// Share of requests meeting the TTFT objective (inference).
    pub slo_attainment: Option<MetricSummary>,
    /// Cost per unit on the network, USD.
    pub network_cost_usd: Option<MetricSummary>,
    /// Cost per unit on the cloud, USD.
    pub cloud_cost_usd: Option<MetricSummary>,
    /// Network cost / cloud cost, against the hyperscaler tier.
    pub cost_ratio: Option<MetricSummary>,
    /// Network wall time / cloud wall time (jobs).
    pub time_ratio: Option<MetricSummary>,
    /// The verdict against the hyperscaler tier.
    pub verdict: Verdict,
    /// What verifying the answers cost per unit, USD, when the method's cost is accounted
    /// beside the simulation (`fingerprint`, `optimistic`, `zk`): part of the network's cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_usd: Option<MetricSummary>,
    /// The cloud's cost, the cost ratio and the verdict against each tier of the cloud
    /// market, the hyperscaler's first.
    pub tiers: Vec<TierRow>,
    /// Waits and time to result (jobs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<JobTimes>,
}

/// One workload against one tier of the cloud market: the same cluster at the tier's price,
/// so its cost is the hyperscaler's scaled by the ratio of the prices, and the cost ratio by
/// its inverse (intervals included: a constant factor scales them exactly).
#[derive(Clone, Debug, Serialize)]
pub struct TierRow {
    /// `hyperscaler`, `neocloud` or `marketplace`.
    pub tier: &'static str,
    /// The tier's price per GPU-hour, USD.
    pub price_usd_per_gpu_hour: f64,
    /// Cost per unit on the tier, USD.
    pub cloud_cost_usd: Option<MetricSummary>,
    /// Network cost / the tier's cost.
    pub cost_ratio: Option<MetricSummary>,
    /// The verdict against the tier.
    pub verdict: Verdict,
}

/// A metric's summary times `k` (> 0).
fn scaled(m: &MetricSummary, k: f64) -> MetricSummary {
    MetricSummary {
        mean: m.mean * k,
        std: m.std.map(|x| x * k),
        ci95_low: m.ci95_low.map(|x| x * k),
        ci95_high: m.ci95_high.map(|x| x * k),
        n: m.n,
    }
}

/// A workload's rows against each tier of `s`'s cloud, from its cost and ratio against the
/// hyperscaler tier (the scenario's price) and its attainment criterion, if any.
fn tier_rows(
    s: &Scenario,
    cloud: Option<&MetricSummary>,
    ratio: Option<&MetricSummary>,
    slo: Option<(&MetricSummary, f64)>,
) -> Vec<TierRow> {
    let c = s.cloud();
    let base = c.price_usd_per_gpu_hour;
    c.tiers
        .iter()
        .map(|t| {
            let k = t.price_usd_per_gpu_hour / base;
            let usable = base > 0.0 && k.is_finite() && k > 0.0;
            let cost_ratio = ratio.filter(|_| usable).map(|r| scaled(r, 1.0 / k));
            TierRow {
                tier: t.name,
                price_usd_per_gpu_hour: t.price_usd_per_gpu_hour,
                cloud_cost_usd: cloud.filter(|_| usable).map(|x| scaled(x, k)),
                verdict: verdict(cost_ratio.as_ref(), s.viability().max_cost_ratio, slo),
                cost_ratio,
            }
        })
        .collect()
}

/// How long a job class's jobs waited for GPUs and took to give their result, h.
#[derive(Clone, Debug, Serialize)]
pub struct JobTimes {
    /// Mean wait of placed jobs.
    pub wait_h: Option<MetricSummary>,
    /// Mean wait with jobs still waiting at the horizon counted up to it: a lower bound.
    pub censored_wait_h: Option<MetricSummary>,
    /// Mean wait + wall time of the jobs that finish.
    pub time_to_result_h: Option<MetricSummary>,
    /// The same with jobs still waiting at the horizon counted as waiting up to it: a lower
    /// bound.
    pub censored_time_to_result_h: Option<MetricSummary>,
    /// Jobs still waiting at the horizon, per replication.
    pub waiting_jobs: Option<MetricSummary>,
}

impl JobTimes {
    /// A job class's times from a run's summary.
    fn of(class: &str, m: &BTreeMap<String, MetricSummary>) -> Self {
        let get = |q: &str| m.get(&names::job(class, q)).cloned();
        JobTimes {
            wait_h: get(names::job::WAIT_H),
            censored_wait_h: get(names::job::CENSORED_WAIT_H),
            time_to_result_h: get(names::job::TIME_TO_RESULT_H),
            censored_time_to_result_h: get(names::job::CENSORED_TIME_TO_RESULT_H),
            waiting_jobs: get(names::job::WAITING_JOBS),
        }
    }

    /// Whether some replication ended with a job still waiting: the waits and times to
    /// result are then censored at the horizon.
    fn censored(&self) -> bool {
        self.waiting_jobs.as_ref().is_some_and(|w| w.mean > 0.0)
    }
}

/// Builds the table from a run's summary.
pub fn table(s: &Scenario, m: &BTreeMap<String, MetricSummary>) -> Vec<Row> {
    let get = |k: &str| m.get(k).cloned();
    let v = s.viability();
    let mut rows = inference_rows(s, m);
    for j in s.jobs() {
        let key = |q: &str| get(&names::job(&j.name, q));
        let cost_ratio = key(names::job::COST_VS_CLOUD);
        let cloud = key(names::job::CLOUD_USD_PER_PFLOP);
        let tiers = tier_rows(s, cloud.as_ref(), cost_ratio.as_ref(), None);
        rows.push(Row {
            workload: j.name.clone(),
            kind: match j.kind {
                JobKind::Training => "training",
                JobKind::FineTuning => "fine_tuning",
            },
            dispatch: None,
            cloud_sizing: None,
            cloud_meets_objectives: None,
            unit: "PFLOP of model work",
            goodput: key(names::job::GOODPUT),
            slo_attainment: None,
            network_cost_usd: key(names::job::USD_PER_PFLOP),
            cloud_cost_usd: cloud,
            verdict: verdict(cost_ratio.as_ref(), v.max_cost_ratio, None),
            cost_ratio,
            time_ratio: key(names::job::TIME_VS_CLOUD),
            verification_usd: None,
            tiers,
            times: Some(JobTimes::of(&j.name, m)),
        });
    }
    rows
}

/// Whether a run of `s` with `dispatch: pack` tells something the run of `s` does not: the
/// scenario spreads requests over batched replicas.
pub fn wants_packed_run(s: &Scenario) -> bool {
    s.dispatch() == Dispatch::Spread && s.service_override().is_none() && !s.users().is_empty()
}

/// Inserts the inference rows of the same scenario run with `dispatch: pack` (`packed`,
/// its summary `m`) after the table's own inference rows.
pub fn add_packed_rows(
    rows: &mut Vec<Row>,
    packed: &Scenario,
    m: &BTreeMap<String, MetricSummary>,
) {
    let at = rows.iter().take_while(|r| r.kind == "inference").count();
    let extra = inference_rows(packed, m);
    rows.splice(at..at, extra);
}

/// The inference rows of a run: one per cloud sizing, the scenario's own first.
fn inference_rows(s: &Scenario, m: &BTreeMap<String, MetricSummary>) -> Vec<Row> {
    let get = |k: &str| m.get(k).cloned();
    let v = s.viability();
    let slo = get(names::inference::SLO_ATTAINMENT);
    let mut sizings = [
        (
            CloudSizing::RightSized,
            "right_sized",
            names::inference::CLOUD_RIGHT_SIZED_USD_PER_MILLION_TOKENS,
            names::inference::COST_VS_CLOUD_RIGHT_SIZED,
        ),
        (
            CloudSizing::MatchedBatch,
            "matched_batch",
            names::inference::CLOUD_MATCHED_BATCH_USD_PER_MILLION_TOKENS,
            names::inference::COST_VS_CLOUD_MATCHED_BATCH,
        ),
    ];
    // The scenario's own sizing first: it is the headline.
    sizings.sort_by_key(|(sizing, ..)| *sizing != s.cloud().sizing);
    let dispatch = match s.dispatch() {
        Dispatch::Spread => "spread",
        Dispatch::Pack => "pack",
    };
    sizings
        .iter()
        .map(|&(sizing, label, cloud, ratio)| {
            let cost_ratio = get(ratio);
            let cloud = get(cloud);
            let criterion = slo.as_ref().map(|x| (x, v.min_slo_attainment));
            let tiers = tier_rows(s, cloud.as_ref(), cost_ratio.as_ref(), criterion);
            Row {
                workload: "inference".into(),
                kind: "inference",
                dispatch: Some(dispatch),
                cloud_sizing: Some(label),
                cloud_meets_objectives: (sizing == CloudSizing::RightSized)
                    .then(|| get(names::inference::CLOUD_MEETS_OBJECTIVES))
                    .flatten()
                    .map(|m| m.mean >= 1.0),
                unit: "million output tokens",
                goodput: None,
                verdict: verdict(
                    cost_ratio.as_ref(),
                    v.max_cost_ratio,
                    slo.as_ref().map(|x| (x, v.min_slo_attainment)),
                ),
                slo_attainment: slo.clone(),
                // With verification accounted beside the simulation, the work's cost with it.
                network_cost_usd: get(names::inference::VERIFIED_PRICE_USD_PER_MILLION_TOKENS)
                    .or_else(|| get(names::inference::PRICE_USD_PER_MILLION_TOKENS)),
                cloud_cost_usd: cloud,
                cost_ratio,
                time_ratio: None,
                verification_usd: get(names::inference::VERIFICATION_USD_PER_MILLION_TOKENS),
                tiers,
                times: None,
            }
        })
        .collect()
}

/// Lower and upper ends of a metric's interval (the mean with one replication).
/// The 95% interval of `m`: (-inf, inf) when it has none (fewer than two replications), so
/// that one value decides nothing.
fn bounds(m: &MetricSummary) -> (f64, f64) {
    match (m.ci95_low, m.ci95_high) {
        (Some(lo), Some(hi)) if m.n >= 2 => (lo, hi),
        _ => (f64::NEG_INFINITY, f64::INFINITY),
    }
}

/// Relative slack in comparing an interval with a threshold: a ratio that equals it up to
/// rounding (a tier priced exactly at the network's price) counts as at it.
const TIE: f64 = 1e-9;

/// Viable when the cost ratio is surely at most `max_ratio` and the attainment (if any)
/// surely at least its minimum; not viable when either is surely on the wrong side. A metric
/// without an interval (one replication) is never sure.
pub fn verdict(
    cost_ratio: Option<&MetricSummary>,
    max_ratio: f64,
    slo: Option<(&MetricSummary, f64)>,
) -> Verdict {
    let Some(cost) = cost_ratio else {
        return Verdict::NoData;
    };
    let (lo, hi) = bounds(cost);
    let at_most = max_ratio * (1.0 + TIE);
    let mut good = hi <= at_most;
    let mut bad = lo > at_most;
    if let Some((att, min)) = slo {
        let (lo, hi) = bounds(att);
        let at_least = min * (1.0 - TIE);
        good &= lo >= at_least;
        bad |= hi < at_least;
    }
    match (good, bad) {
        (_, true) => Verdict::NotViable,
        (true, false) => Verdict::Viable,
        (false, false) => Verdict::Uncertain,
    }
}

/// The table as text, with 95% intervals.
pub fn render(rows: &[Row]) -> String {
    let cell = |m: &Option<MetricSummary>| match m {
        None => "-".to_string(),
        Some(m) => match (m.ci95_low, m.ci95_high) {
            (Some(lo), Some(hi)) => format!("{} [{}, {}]", sig(m.mean), sig(lo), sig(hi)),
            _ => sig(m.mean),
        },
    };
    let mut out = String::new();
    let header = [
        "workload",
        "kind",
        "dispatch",
        "cloud sized",
        "goodput",
        "SLO attainment",
        "network USD/unit",
        "cloud USD/unit",
        "cost ratio",
        "time ratio",
        "verdict",
    ];
    let body: Vec<[String; 11]> = rows
        .iter()
        .map(|r| {
            [
                r.workload.clone(),
                r.kind.to_string(),
                r.dispatch.unwrap_or("-").to_string(),
                match (r.cloud_sizing, r.cloud_meets_objectives) {
                    (Some(c), Some(false)) => format!("{c} (misses objectives)"),
                    (c, _) => c.unwrap_or("-").to_string(),
                },
                cell(&r.goodput),
                cell(&r.slo_attainment),
                cell(&r.network_cost_usd),
                cell(&r.cloud_cost_usd),
                cell(&r.cost_ratio),
                cell(&r.time_ratio),
                r.verdict.label().to_string(),
            ]
        })
        .collect();
    let (header, body) = with_job_times(&header, body, rows, &cell);
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            body.iter()
                .map(|b| b[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let _ = writeln!(out, "{}", line(&header));
    for b in &body {
        let _ = writeln!(
            out,
            "{}",
            line(&b.iter().map(String::as_str).collect::<Vec<_>>())
        );
    }
    let mut units: Vec<String> = Vec::new();
    for r in rows {
        let u = format!("{}: {}", r.workload, r.unit);
        if !units.contains(&u) {
            units.push(u);
        }
    }
    let _ = writeln!(
        out,
        "units: {}; ratios are network / cloud (the hyperscaler tier); [95% CI]",
        units.join(", ")
    );
    out.push_str(&job_times_note(rows));
    out.push_str(&verification_note(rows, &cell));
    out.push_str(&render_tiers(rows, &cell));
    out
}

/// What verification added to the network's cost, when some row accounts it.
fn verification_note(rows: &[Row], cell: &dyn Fn(&Option<MetricSummary>) -> String) -> String {
    let Some(r) = rows.iter().find(|r| r.verification_usd.is_some()) else {
        return String::new();
    };
    format!(
        "network USD/unit includes verification: {} USD per {} (proofs, validators, \
         challenges, bonds)\n",
        cell(&r.verification_usd),
        r.unit
    )
}

/// The cost ratio and verdict of each row against each tier of the cloud market, when there
/// is more than the hyperscaler tier.
fn render_tiers(rows: &[Row], cell: &dyn Fn(&Option<MetricSummary>) -> String) -> String {
    let Some(first) = rows.iter().find(|r| r.tiers.len() > 1) else {
        return String::new();
    };
    let mut header: Vec<String> = ["workload", "kind", "dispatch", "cloud sized"]
        .map(String::from)
        .to_vec();
    for t in &first.tiers {
        header.push(format!(
            "{} ${}/GPU-h",
            t.tier,
            sig(t.price_usd_per_gpu_hour)
        ));
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut b = vec![
                r.workload.clone(),
                r.kind.to_string(),
                r.dispatch.unwrap_or("-").to_string(),
                r.cloud_sizing.unwrap_or("-").to_string(),
            ];
            for t in &r.tiers {
                b.push(format!("{}  {}", cell(&t.cost_ratio), t.verdict.label()));
            }
            b.resize(header.len(), "-".into());
            b
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            body.iter()
                .map(|b| b[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = String::from("\nby cloud tier: cost ratio [95% CI] and verdict\n");
    let _ = writeln!(out, "{}", line(&header));
    for b in &body {
        let _ = writeln!(out, "{}", line(b));
    }
    out
}

/// The table's columns with the job columns added (wait, time to result, jobs still waiting
/// at the horizon) when some row is a job class's, after however many `render` has.
fn with_job_times<const N: usize>(
    header: &[&'static str],
    body: Vec<[String; N]>,
    rows: &[Row],
    cell: &dyn Fn(&Option<MetricSummary>) -> String,
) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let mut header = header.to_vec();
    let jobs = rows.iter().any(|r| r.times.is_some());
    if jobs {
        header.extend(["wait h", "time to result h", "waiting at end"]);
    }
    let body = body
        .into_iter()
        .zip(rows)
        .map(|(b, r)| {
            let mut b = b.to_vec();
            if jobs {
                b.extend(match &r.times {
                    Some(t) => job_cells(t, cell),
                    None => ["-".into(), "-".into(), "-".into()],
                });
            }
            b
        })
        .collect();
    (header, body)
}

/// A job class's wait, time to result and jobs waiting at the horizon: with jobs left
/// waiting, the censored means, marked `>=` (lower bounds).
fn job_cells(t: &JobTimes, cell: &dyn Fn(&Option<MetricSummary>) -> String) -> [String; 3] {
    let bound = |plain: &Option<MetricSummary>, censored: &Option<MetricSummary>| {
        if t.censored() && censored.is_some() {
            format!(">= {}", cell(censored))
        } else {
            cell(plain)
        }
    };
    [
        bound(&t.wait_h, &t.censored_wait_h),
        bound(&t.time_to_result_h, &t.censored_time_to_result_h),
        cell(&t.waiting_jobs),
    ]
}

/// What `>=` means, when a job row shows it.
fn job_times_note(rows: &[Row]) -> String {
    if !rows
        .iter()
        .any(|r| r.times.as_ref().is_some_and(JobTimes::censored))
    {
        return String::new();
    }
    "jobs: wait and time to result (wait + wall time) in hours; `>=`: jobs were still \
     waiting at the horizon, counted as waiting up to it (censored), so the mean is a lower \
     bound\n"
        .to_string()
}

/// Four decimals, or scientific notation for very small or very large values.
fn sig(x: f64) -> String {
    if x == 0.0 || (1e-3..1e5).contains(&x.abs()) {
        format!("{:.4}", x)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        format!("{x:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(mean: f64, lo: f64, hi: f64) -> MetricSummary {
        MetricSummary {
            mean,
            std: Some(0.0),
            ci95_low: Some(lo),
            ci95_high: Some(hi),
            n: 8,
        }
    }

    #[test]
    fn verdicts_respect_the_intervals() {
        assert_eq!(verdict(Some(&m(0.5, 0.4, 0.6)), 1.0, None), Verdict::Viable);
        assert_eq!(
            verdict(Some(&m(2.0, 1.5, 2.5)), 1.0, None),
            Verdict::NotViable
        );
        assert_eq!(
            verdict(Some(&m(1.0, 0.8, 1.2)), 1.0, None),
            Verdict::Uncertain
        );
        assert_eq!(verdict(None, 1.0, None), Verdict::NoData);
        // Cheap but missing the objective for sure: not viable.
        assert_eq!(
            verdict(
                Some(&m(0.5, 0.4, 0.6)),
                1.0,
                Some((&m(0.80, 0.78, 0.82), 0.95))
            ),
            Verdict::NotViable
        );
        // Cheap, objective met for sure: viable; straddling it: uncertain.
        assert_eq!(
            verdict(
                Some(&m(0.5, 0.4, 0.6)),
                1.0,
                Some((&m(0.97, 0.96, 0.98), 0.95))
            ),
            Verdict::Viable
        );
        assert_eq!(
            verdict(
                Some(&m(0.5, 0.4, 0.6)),
                1.0,
                Some((&m(0.95, 0.94, 0.96), 0.95))
            ),
            Verdict::Uncertain
        );
        // One replication has no interval: however far from parity, it decides nothing.
        let one = MetricSummary {
            mean: 9.0,
            std: None,
            ci95_low: None,
            ci95_high: None,
            n: 1,
        };
        assert_eq!(verdict(Some(&one), 1.0, None), Verdict::Uncertain);
        // A tier priced exactly at the network's price: 2.40 / 6.88 x 6.88 / 2.40 is 1 up to
        // rounding, and at parity counts as viable.
        let parity = 2.40 / 6.88 * 6.88 / 2.40;
        let tie = m(parity, parity - 1e-15, parity + 1e-13);
        assert_eq!(verdict(Some(&tie), 1.0, None), Verdict::Viable);
    }

    /// A row of `kind` with no figures but `times`.
    fn row(kind: &'static str, times: Option<JobTimes>) -> Row {
        Row {
            workload: kind.into(),
            kind,
            dispatch: None,
            cloud_sizing: None,
            cloud_meets_objectives: None,
            unit: "unit",
            goodput: None,
            slo_attainment: None,
            network_cost_usd: None,
            cloud_cost_usd: None,
            cost_ratio: None,
            time_ratio: None,
            verdict: Verdict::NoData,
            verification_usd: None,
            tiers: Vec::new(),
            times,
        }
    }

    /// Times with the given mean waiting jobs at the horizon: 2 h of wait for placed jobs and
    /// 10 h of time to result, 5 and 13 h with the waiting ones counted.
    fn times(waiting: f64) -> JobTimes {
        JobTimes {
            wait_h: Some(m(2.0, 1.0, 3.0)),
            censored_wait_h: Some(m(5.0, 4.0, 6.0)),
            time_to_result_h: Some(m(10.0, 9.0, 11.0)),
            censored_time_to_result_h: Some(m(13.0, 12.0, 14.0)),
            waiting_jobs: Some(m(waiting, 0.0, 2.0 * waiting)),
        }
    }

    #[test]
    fn job_rows_show_waits_and_time_to_result_marked_when_censored() {
        let text = render(&[row("inference", None), row("training", Some(times(1.5)))]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("verdict  wait h "), "{text}");
        assert!(
            lines[0].contains("time to result h  waiting at end"),
            "{text}"
        );
        assert!(
            lines[1]
                .trim_end()
                .ends_with("no data  -            -                 -"),
            "{text}"
        );
        assert!(
            lines[2].contains(">= 5 [4, 6]  >= 13 [12, 14]    1.5 [0, 3]"),
            "{text}"
        );
        assert!(text.contains("lower bound"), "{text}");
        // Nothing left waiting: the plain means, unmarked.
        let text = render(&[row("training", Some(times(0.0)))]);
        assert!(text.contains("2 [1, 3]  10 [9, 11]"), "{text}");
        assert!(
            !text.contains(">=") && !text.contains("lower bound"),
            "{text}"
        );
    }

    #[test]
    fn a_table_without_jobs_has_no_job_columns() {
        let text = render(&[row("inference", None)]);
        assert!(!text.contains("wait h"), "{text}");
        let header = text.lines().next().map(str::trim_end);
        assert!(
            header.is_some_and(|h| h.ends_with("time ratio  verdict")),
            "{text}"
        );
    }

    #[test]
    fn numbers_are_shown_compactly() {
        assert_eq!(sig(0.34321), "0.3432");
        assert_eq!(sig(14.7), "14.7");
        assert_eq!(sig(0.000_241_6), "2.416e-4");
        assert_eq!(sig(0.0), "0");
    }
}
