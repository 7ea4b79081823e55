//! A sweep's charts, from its manifest, compare.json and sensitivity.json: each chosen
//! metric's paired change against each swept parameter, each metric's sensitivity indices
//! as a tornado, each variant's change as a bar (up to 30 variants), and the
//! cost-versus-latency front across variants.

use serde_json::Value;

use super::chart::{Bar, Chart, Heatmap, LineChart, Series, Tornado};
use crate::export::sweep::Manifest;
use crate::metrics::names;
use crate::report::run::HEADLINE;

/// The longest variant label a chart shows whole, in characters.
const LONGEST_LABEL: usize = 44;

/// A variant's label short enough for a chart's axis: as it is when it fits; else each
/// `path=value` assignment by the last segment of its path, without JSON's quotes; and if
/// that is still too long, its start and end around an ellipsis.
fn short_label(label: &str) -> String {
    if label.chars().count() <= LONGEST_LABEL {
        return label.to_string();
    }
    let short = label
        .split(", ")
        .map(|part| match part.split_once('=') {
            Some((path, value)) => {
                let key = path.rsplit('.').next().unwrap_or(path);
                format!("{key}={}", value.replace('"', ""))
            }
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let chars: Vec<char> = short.chars().collect();
    if chars.len() <= LONGEST_LABEL {
        return short;
    }
    let half = (LONGEST_LABEL - 1) / 2;
    let head: String = chars[..half].iter().collect();
    let tail: String = chars[chars.len() - half..].iter().collect();
    format!("{head}…{tail}")
}

/// The latency and the cost of the front.
const FRONT: (&str, &str) = (
    names::inference::TTFT_P95,
    names::inference::PRICE_USD_PER_MILLION_TOKENS,
);

/// The metrics a sweep's report shows: the sweep file's `metrics`, or the headline metrics
/// its variants have.
pub fn chosen_metrics(m: &Manifest, compare: &Value) -> Vec<String> {
    let listed: Vec<String> = m.sweep["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    if !listed.is_empty() {
        return listed;
    }
    let first = &compare["variants"][0]["metrics"];
    HEADLINE
        .iter()
        .map(|(_, k)| k.to_string())
        .filter(|k| first.get(k).is_some())
        .collect()
}

/// A variant's mean of a metric, its paired difference from the baseline, and the
/// difference's 95% interval.
type Compared = (f64, f64, Option<(f64, f64)>);

/// A variant's comparison with the baseline for `metric`.
fn compared(v: &Value, metric: &str) -> Option<Compared> {
    let d = v["metrics"].get(metric)?;
    Some((
        d["variant"].as_f64()?,
        d["difference"].as_f64()?,
        d["ci95_low"].as_f64().zip(d["ci95_high"].as_f64()),
    ))
}

/// Every chart of the sweep: (file stem, chart), stems `sweep_...`.
pub fn charts(m: &Manifest, compare: &Value, sensitivity: Option<&Value>) -> Vec<(String, Chart)> {
    let mut out = Vec::new();
    let metrics = chosen_metrics(m, compare);
    let variants: Vec<&Value> = compare["variants"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    for (i, metric) in metrics.iter().enumerate() {
        for (j, axis) in m.axes.iter().enumerate() {
            let mut points = Vec::new();
            let mut band = Vec::new();
            for v in &variants {
                let Some(entry) = v["index"].as_u64().and_then(|k| m.variants.get(k as usize))
                else {
                    continue;
                };
                let (Some(x), Some((_, d, ci))) = (
                    entry.params.get(axis).and_then(Value::as_f64),
                    compared(v, metric),
                ) else {
                    continue;
                };
                points.push((x, d));
                if let Some((lo, hi)) = ci {
                    band.push((x, lo, hi));
                }
            }
            if points.len() < 2 {
                continue;
            }
            out.push((
                format!("sweep_change_{i}_{j}"),
                Chart::Line(LineChart {
                    title: format!("{metric} against {axis}"),
                    x_label: axis.clone(),
                    y_label: format!("change of {metric} from the baseline"),
                    series: vec![Series {
                        name: "each variant, paired on the baseline's seeds (95% interval)".into(),
                        points,
                        band,
                        markers: true,
                    }],
                    shaded: None,
                }),
            ));
        }
    }
    if let Some(s) = sensitivity.and_then(Value::as_object) {
        for (i, (metric, v)) in s.iter().enumerate() {
            let (key, label) = if v["method"] == "morris" {
                ("mu_star", "mu* (mean absolute elementary effect)")
            } else {
                ("total", "total-effect index")
            };
            let mut bars: Vec<(String, Bar)> = v["indices"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|ix| {
                    let ci = &ix[format!("{key}_ci95")];
                    Some((
                        ix["axis"].as_str()?.to_string(),
                        Bar {
                            value: ix[key].as_f64()?,
                            interval: ci[0].as_f64().zip(ci[1].as_f64()),
                        },
                    ))
                })
                .collect();
            bars.sort_by(|a, b| b.1.value.total_cmp(&a.1.value));
            if !bars.is_empty() {
                out.push((
                    format!("sweep_sensitivity_{i}"),
                    Chart::Tornado(Tornado {
                        title: format!("What moves {metric}"),
                        x_label: format!("{label} (95% bootstrap interval)"),
                        bars,
                    }),
                ));
            }
        }
    }
    if m.sweep["design"].get("grid").is_some() && m.axes.len() >= 2 {
        for (i, metric) in metrics.iter().enumerate() {
            if let Some(h) = heatmap(m, &variants, metric) {
                out.push((format!("sweep_grid_{i}"), h));
            }
        }
    }
    for (i, metric) in metrics.iter().enumerate() {
        if let Some(c) = by_variant(compare, &variants, metric) {
            out.push((format!("sweep_variants_{i}"), c));
        }
    }
    if let Some(front) = front(&variants) {
        out.push(("sweep_front".to_string(), front));
    }
    out
}

/// The most variants whose changes are drawn side by side, one bar each.
const MOST_BARS: usize = 30;

/// Each variant's paired change of `metric` from the baseline with its 95% interval, a bar a
/// variant in the design's order: the picture of a sweep that compares named alternatives (a
/// `list` design) rather than a numeric parameter. None for the baseline alone or more than
/// [`MOST_BARS`] variants.
fn by_variant(compare: &Value, variants: &[&Value], metric: &str) -> Option<Chart> {
    let baseline = compare["baseline"]["index"].as_u64();
    let bars: Vec<(String, Bar)> = variants
        .iter()
        .filter(|v| v["index"].as_u64() != baseline)
        .filter_map(|v| {
            let (_, d, ci) = compared(v, metric)?;
            Some((
                short_label(v["label"].as_str()?),
                Bar {
                    value: d,
                    interval: ci,
                },
            ))
        })
        .collect();
    if bars.is_empty() || bars.len() > MOST_BARS {
        return None;
    }
    let against = compare["baseline"]["label"]
        .as_str()
        .map_or_else(|| "the baseline".to_string(), short_label);
    Some(Chart::Tornado(Tornado {
        title: format!("Change of {metric} from {against}"),
        x_label: "paired difference from the baseline (95% interval)".into(),
        bars,
    }))
}

/// The variants' latency against their cost, and the front of those no other variant beats
/// on both (lower is better on both).
fn front(variants: &[&Value]) -> Option<Chart> {
    let (latency, cost) = FRONT;
    let mut points: Vec<(f64, f64)> = variants
        .iter()
        .filter_map(|v| Some((compared(v, latency)?.0, compared(v, cost)?.0)))
        .collect();
    if points.len() < 2 {
        return None;
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut best = f64::INFINITY;
    let frontier: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| {
            let on = p.1 < best;
            best = best.min(p.1);
            on
        })
        .copied()
        .collect();
    Some(Chart::Line(LineChart {
        title: "Cost against latency across the variants".into(),
        x_label: "time to first token, p95 (s)".into(),
        y_label: "users' price (USD per million output tokens)".into(),
        series: vec![
            Series {
                name: "variants (the baseline among them)".into(),
                points,
                band: Vec::new(),
                markers: true,
            },
            Series {
                name: "the front: none both faster and cheaper".into(),
                points: frontier,
                band: Vec::new(),
                markers: false,
            },
        ],
        shaded: None,
    }))
}

/// A grid sweep's mean of `metric` over its first two parameters (averaged over any others).
fn heatmap(m: &Manifest, variants: &[&Value], metric: &str) -> Option<Chart> {
    let (ax, ay) = (&m.axes[0], &m.axes[1]);
    let distinct = |axis: &str| {
        let mut v: Vec<f64> = m
            .variants
            .iter()
            .filter_map(|e| e.params.get(axis).and_then(Value::as_f64))
            .collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let (xs, ys) = (distinct(ax), distinct(ay));
    if xs.len() < 2 || ys.len() < 2 {
        return None;
    }
    let mut sums = vec![vec![(0.0, 0usize); ys.len()]; xs.len()];
    for v in variants {
        let Some(e) = v["index"].as_u64().and_then(|k| m.variants.get(k as usize)) else {
            continue;
        };
        let at = |axis: &str, values: &[f64]| {
            let x = e.params.get(axis)?.as_f64()?;
            values.iter().position(|y| *y == x)
        };
        let (Some(i), Some(j), Some((mean, _, _))) =
            (at(ax, &xs), at(ay, &ys), compared(v, metric))
        else {
            continue;
        };
        sums[i][j].0 += mean;
        sums[i][j].1 += 1;
    }
    let cells: Vec<(usize, usize, f64)> = sums
        .iter()
        .enumerate()
        .flat_map(|(i, col)| {
            col.iter()
                .enumerate()
                .filter(|(_, c)| c.1 > 0)
                .map(move |(j, c)| (i, j, c.0 / c.1 as f64))
        })
        .collect();
    let more = if m.axes.len() > 2 {
        ", averaged over the other parameters"
    } else {
        ""
    };
    Some(Chart::Heatmap(Heatmap {
        title: format!("{metric} over {ax} and {ay}{more}"),
        x_label: ax.clone(),
        y_label: ay.clone(),
        x_values: xs.iter().map(|x| format!("{x}")).collect(),
        y_values: ys.iter().map(|y| format!("{y}")).collect(),
        cells,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_keep_each_assignments_last_segment() {
        assert_eq!(short_label("us-eu-centred"), "us-eu-centred");
        assert_eq!(
            short_label(
                "token.settlement.chain={\"solana\":{\"sol_usd\":150}}, token.settlement.batch=100"
            ),
            "chain={solana:{sol_usd:150}}, batch=100"
        );
        let long = short_label(&format!("a.b={}", "x".repeat(80)));
        assert_eq!(long.chars().count(), 2 * ((LONGEST_LABEL - 1) / 2) + 1);
        assert!(long.starts_with("b=xx") && long.contains('…') && long.ends_with("xx"));
    }
}
