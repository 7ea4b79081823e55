//! A run's charts, from its summary, its time series and its viability table: each chart a
//! file stem and a [`Chart`], only those the run has data for.

use std::collections::BTreeMap;

use serde_json::Value;

use super::chart::{Bar, BarChart, Chart, LineChart, Series};
use crate::metrics::names::{self, scopes_in};
use crate::metrics::summary::summarise;
use crate::metrics::{EpochRow, MetricSummary};

/// The file stem of every chart a run may have, in the order shown.
pub const CHART_STEMS: [&str; 10] = [
    "utilisation",
    "gpus",
    "latency_by_region",
    "attainment_by_region",
    "token_price",
    "token_supply",
    "provider_roi",
    "training",
    "training_lost",
    "viability",
];

/// What a run's charts are drawn from.
#[derive(Debug)]
pub struct RunRecords<'a> {
    /// summary.json's metrics.
    pub summary: &'a BTreeMap<String, MetricSummary>,
    /// The time series, every replication's epochs.
    pub rows: &'a [EpochRow],
    /// viability.json, when the run wrote one.
    pub viability: Option<&'a Value>,
    /// The simulated horizon, hours (where the last epoch ends).
    pub horizon_h: f64,
    /// The warm-up the summary excludes, hours.
    pub warmup_h: f64,
}

/// Every chart of the run, in the order the report shows them: (file stem, chart).
pub fn charts(r: &RunRecords<'_>) -> Vec<(&'static str, Chart)> {
    let mut out = Vec::new();
    let over_time = |title: &str, y_label: &str, series: Vec<Series>| {
        Chart::Line(LineChart {
            title: title.into(),
            x_label: "simulated time (h)".into(),
            y_label: y_label.into(),
            series,
            shaded: (r.warmup_h > 0.0).then(|| (0.0, r.warmup_h, "warm-up (excluded)".to_string())),
        })
    };
    if !r.rows.is_empty() {
        out.push((
            "utilisation",
            over_time(
                "GPU utilisation over time",
                "busy share of GPU-time in the network",
                vec![band(
                    "mean over replications (95% band), over each epoch",
                    r,
                    When::Middle,
                    1.0,
                    |e| Some(e.gpu_utilisation),
                )],
            ),
        ));
        out.push((
            "gpus",
            over_time(
                "GPUs in the network",
                "GPUs at the end of the epoch",
                vec![band(
                    "mean over replications (95% band), at each epoch's end",
                    r,
                    When::End,
                    f64::INFINITY,
                    |e| Some(e.gpus as f64),
                )],
            ),
        ));
    }
    let keys = || r.summary.keys().map(String::as_str);
    let regions = scopes_in(keys(), names::region, names::users::SLO_ATTAINMENT);
    if !regions.is_empty() {
        let quantiles: Vec<(String, Vec<Option<Bar>>)> = names::LATENCY_QUANTILES
            .iter()
            .map(|(_, stat)| {
                let q = names::latency(names::users::TTFT_S, stat);
                (format!("TTFT {stat}"), bars(r, names::region, &regions, &q))
            })
            .collect();
        out.push((
            "latency_by_region",
            Chart::Bars(BarChart {
                title: "Time to first token by users' region".into(),
                x_label: "users' region".into(),
                y_label: "time to first token (s)".into(),
                categories: regions.clone(),
                series: quantiles,
                reference: None,
            }),
        ));
        let attainment = |q: &str| bars(r, names::region, &regions, q);
        out.push((
            "attainment_by_region",
            Chart::Bars(BarChart {
                title: "Latency objectives met, by users' region".into(),
                x_label: "users' region".into(),
                y_label: "share of requests".into(),
                categories: regions.clone(),
                series: vec![
                    (
                        "both objectives".into(),
                        attainment(names::users::SLO_ATTAINMENT),
                    ),
                    (
                        "first token".into(),
                        attainment(names::users::TTFT_ATTAINMENT),
                    ),
                    (
                        "time per token".into(),
                        attainment(names::users::TPOT_ATTAINMENT),
                    ),
                ],
                reference: None,
            }),
        ));
    }
    if r.rows.iter().any(|e| e.token_price_usd.is_some()) {
        out.push((
            "token_price",
            over_time(
                "Token price",
                "USD per token",
                vec![band(
                    "mean over replications (95% band), at each epoch's end",
                    r,
                    When::End,
                    f64::INFINITY,
                    |e| e.token_price_usd,
                )],
            ),
        ));
        let buckets: [(&str, Column); 4] = [
            ("circulating", |e| e.token_circulating),
            ("staked", |e| e.token_staked),
            ("locked", |e| e.token_locked),
            ("burned", |e| e.token_burned),
        ];
        out.push((
            "token_supply",
            over_time(
                "Token supply",
                "tokens",
                buckets
                    .iter()
                    .map(|(n, f)| band(n, r, When::End, f64::INFINITY, *f))
                    .collect(),
            ),
        ));
    }
    let kinds = scopes_in(keys(), names::provider_kind, names::provider::ROI);
    if !kinds.is_empty() {
        let stat = |q: &str| bars(r, names::provider_kind, &kinds, q);
        let mut series = vec![("mean over groups".to_string(), stat(names::provider::ROI))];
        for (_, q) in names::provider::ROI_PERCENTILES {
            series.push((
                format!("{} of groups", q.rsplit('.').next().unwrap_or(q)),
                stat(q),
            ));
        }
        out.push((
            "provider_roi",
            Chart::Bars(BarChart {
                title: "Providers' return on their costs, by kind".into(),
                x_label: "kind of provider".into(),
                y_label: "(income - cost) / cost".into(),
                categories: kinds,
                series,
                reference: Some((0.0, "break-even".into())),
            }),
        ));
    }
    let classes = scopes_in(keys(), names::job, names::job::GOODPUT);
    if !classes.is_empty() {
        let stat = |q: &str| bars(r, names::job, &classes, q);
        out.push((
            "training",
            Chart::Bars(BarChart {
                title: "Training and fine-tuning: goodput and time computing".into(),
                x_label: "job class".into(),
                y_label: "share".into(),
                categories: classes.clone(),
                series: vec![
                    (
                        "goodput (useful work / wall time)".into(),
                        stat(names::job::GOODPUT),
                    ),
                    (
                        "share of a step computing".into(),
                        stat(names::job::COMPUTE_SHARE),
                    ),
                    (
                        "share waiting on communication".into(),
                        stat(names::job::IDLE_SHARE),
                    ),
                ],
                reference: None,
            }),
        ));
        out.push((
            "training_lost",
            Chart::Bars(BarChart {
                title: "Work lost to failures".into(),
                x_label: "job class".into(),
                y_label: "work lost per job (h)".into(),
                categories: classes.clone(),
                series: vec![("mean per job".into(), stat(names::job::LOST_H))],
                reference: None,
            }),
        ));
    }
    if let Some(chart) = r.viability.and_then(viability) {
        out.push(("viability", chart));
    }
    out
}

/// A quantity of an epoch's row, where the row has it.
type Column = fn(&EpochRow) -> Option<f64>;

/// Where in its epoch a quantity is drawn: an average over the epoch at its middle, a
/// snapshot at its end.
#[derive(Clone, Copy)]
enum When {
    Middle,
    End,
}

/// The mean over replications of `f` in each epoch, with its 95% interval (kept within 0 and
/// `most`: every quantity drawn over time is a count, share or price), drawn at the epoch's
/// middle or end (the last epoch ends at the horizon).
fn band(name: &str, r: &RunRecords<'_>, when: When, most: f64, f: Column) -> Series {
    let mut by_epoch: BTreeMap<u32, (f64, Vec<f64>)> = BTreeMap::new();
    for e in r.rows {
        if let Some(v) = f(e).filter(|v| v.is_finite()) {
            by_epoch
                .entry(e.epoch)
                .or_insert((e.start_h, Vec::new()))
                .1
                .push(v);
        }
    }
    let starts: Vec<f64> = by_epoch.values().map(|(x, _)| *x).collect();
    let mut points = Vec::new();
    let mut interval = Vec::new();
    for (k, (start, v)) in by_epoch.values().enumerate() {
        let end = starts
            .get(k + 1)
            .copied()
            .unwrap_or(r.horizon_h)
            .max(*start);
        let x = match when {
            When::Middle => 0.5 * (start + end),
            When::End => end,
        };
        let m = summarise(v);
        points.push((x, m.mean));
        if let (Some(lo), Some(hi)) = (m.ci95_low, m.ci95_high) {
            interval.push((x, lo.max(0.0), hi.min(most)));
        }
    }
    if interval.len() != points.len() {
        interval.clear();
    }
    Series {
        name: name.to_string(),
        points,
        band: interval,
        markers: false,
    }
}

/// A bar for each of `scopes` (regions, kinds of provider, job classes): `quantity` under
/// `scope`, none where the run did not define it.
fn bars(
    r: &RunRecords<'_>,
    scope: fn(&str, &str) -> String,
    scopes: &[String],
    quantity: &str,
) -> Vec<Option<Bar>> {
    scopes
        .iter()
        .map(|g| bar(r.summary.get(&scope(g, quantity))))
        .collect()
}

/// A metric's mean and 95% interval as a bar.
fn bar(m: Option<&MetricSummary>) -> Option<Bar> {
    let m = m?;
    Some(Bar {
        value: m.mean,
        interval: m.ci95_low.zip(m.ci95_high),
    })
}

/// The viability table as a chart: each workload's cost against each tier of the cloud,
/// with the cloud at 1.
fn viability(table: &Value) -> Option<Chart> {
    let rows = table.as_array()?;
    // A workload measured several ways (inference: each dispatch, each sizing of the cloud)
    // shows its first row, the network as it dispatched against the right-sized cloud; the
    // report's table has every row.
    let mut seen: Vec<&str> = Vec::new();
    let rows: Vec<&Value> = rows
        .iter()
        .filter(|r| match r["workload"].as_str() {
            Some(w) if !seen.contains(&w) => {
                seen.push(w);
                true
            }
            _ => false,
        })
        .collect();
    let workloads: Vec<String> = rows
        .iter()
        .map(|r| {
            let w = r["workload"].as_str().unwrap_or("?");
            match (r["dispatch"].as_str(), r["cloud_sizing"].as_str()) {
                (Some(d), Some(c)) => format!("{w} ({d}, {} cloud)", c.replace('_', "-")),
                _ => w.to_string(),
            }
        })
        .collect();
    let mut tiers: Vec<String> = Vec::new();
    for r in &rows {
        for t in r["tiers"].as_array().into_iter().flatten() {
            if let Some(name) = t["tier"].as_str()
                && !tiers.iter().any(|x| x == name)
            {
                tiers.push(name.to_string());
            }
        }
    }
    if workloads.is_empty() || tiers.is_empty() {
        return None;
    }
    let series = tiers
        .iter()
        .map(|tier| {
            let bars = rows
                .iter()
                .map(|r| {
                    let t = r["tiers"]
                        .as_array()?
                        .iter()
                        .find(|t| t["tier"] == **tier)?;
                    let c = &t["cost_ratio"];
                    Some(Bar {
                        value: c["mean"].as_f64()?,
                        interval: c["ci95_low"].as_f64().zip(c["ci95_high"].as_f64()),
                    })
                })
                .collect();
            (format!("against {tier}"), bars)
        })
        .collect();
    Some(Chart::Bars(BarChart {
        title: "Cost on the network against each tier of the cloud".into(),
        x_label: "workload".into(),
        y_label: "network cost / cloud cost".into(),
        categories: workloads,
        series,
        reference: Some((1.0, "the cloud's cost".into())),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(replication: u32, epoch: u32, util: f64, gpus: u64) -> EpochRow {
        EpochRow {
            replication,
            epoch,
            start_h: 6.0 * f64::from(epoch),
            warmup: epoch == 0,
            arrived: 0,
            dropped: 0,
            completed: 0,
            e2e_mean_s: None,
            gpu_utilisation: util,
            in_system_mean: 0.0,
            queued_at_end: 0,
            revenue_usd: 0.0,
            gpus,
            token_price_usd: None,
            token_circulating: None,
            token_staked: None,
            token_locked: None,
            token_burned: None,
        }
    }

    #[test]
    fn averages_sit_mid_epoch_snapshots_at_its_end_and_the_warmup_is_the_summarys() {
        // Two replications, epochs of 6 h, a 10 h horizon (the last epoch is cut at 10 h),
        // a 1 h warm-up.
        let rows = vec![
            row(0, 0, 0.2, 4),
            row(1, 0, 0.4, 6),
            row(0, 1, 0.5, 8),
            row(1, 1, 0.7, 8),
        ];
        let summary = BTreeMap::new();
        let r = RunRecords {
            summary: &summary,
            rows: &rows,
            viability: None,
            horizon_h: 10.0,
            warmup_h: 1.0,
        };
        let all = charts(&r);
        let line = |stem: &str| match &all.iter().find(|c| c.0 == stem).expect(stem).1 {
            Chart::Line(l) => l.clone(),
            _ => panic!("{stem} is not a line chart"),
        };
        let util = line("utilisation");
        assert_eq!(util.shaded.as_ref().map(|s| (s.0, s.1)), Some((0.0, 1.0)));
        // Epoch means at the middles 3 h and 8 h.
        let p = &util.series[0].points;
        assert!(
            (p[0].0 - 3.0).abs() < 1e-12 && (p[0].1 - 0.3).abs() < 1e-12,
            "{p:?}"
        );
        assert!(
            (p[1].0 - 8.0).abs() < 1e-12 && (p[1].1 - 0.6).abs() < 1e-12,
            "{p:?}"
        );
        // 0.3 +/- t(0.975, 1) x 0.1414 / sqrt 2 = 0.3 +/- 1.2706: clipped to [0, 1].
        let b = util.series[0].band[0];
        assert_eq!((b.1, b.2), (0.0, 1.0));
        // GPUs are counted at each epoch's end: 6 h and the horizon.
        let gpus = line("gpus");
        let q = &gpus.series[0].points;
        assert_eq!(q.iter().map(|x| x.0).collect::<Vec<_>>(), vec![6.0, 10.0]);
        assert_eq!((q[0].1, q[1].1), (5.0, 8.0));
        // Equal values: a band of no width.
        assert_eq!(
            (gpus.series[0].band[1].1, gpus.series[0].band[1].2),
            (8.0, 8.0)
        );
    }
}
