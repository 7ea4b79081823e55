//! report.html and report.md of a run: one self-contained page (the charts as inline SVG,
//! the CSS and the font inline, no script, nothing fetched from anywhere; addresses appear
//! as text) and a Markdown summary for pull requests. Every string that comes from the
//! scenario or the run is escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::plot::chart::{FONT, FONT_TTF};
use super::run::HEADLINE;
use crate::metrics::{MetricSummary, names};

/// What the page shows, besides the charts.
#[derive(Debug)]
pub struct Page<'a> {
    /// The scenario's name.
    pub scenario: &'a str,
    /// summary.json's metrics.
    pub summary: &'a BTreeMap<String, MetricSummary>,
    /// run.json.
    pub info: &'a Value,
    /// viability.json, when the run wrote one.
    pub viability: Option<&'a Value>,
    /// Seed, replications, horizon and warm-up, from summary.json.
    pub seed: u64,
    /// Replications run.
    pub replications: u32,
    /// Simulated horizon, hours.
    pub horizon_h: f64,
    /// Warm-up excluded, hours.
    pub warmup_h: f64,
}

pub use crate::core::markup::escape;

/// A metric's mean with its 95% interval, in 4 significant figures.
fn with_interval(m: &MetricSummary) -> String {
    match (m.ci95_low, m.ci95_high) {
        (Some(lo), Some(hi)) => format!("{} [{} .. {}]", sig(m.mean), sig(lo), sig(hi)),
        _ => sig(m.mean),
    }
}

fn sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 8) as usize;
    if x.abs() >= 1e7 || x.abs() < 1e-4 {
        format!("{x:.3e}")
    } else {
        format!("{x:.digits$}")
    }
}

/// The headline rows the run has: (label, value with interval).
fn headline(summary: &BTreeMap<String, MetricSummary>) -> Vec<(&'static str, String)> {
    HEADLINE
        .iter()
        .filter_map(|(label, key)| Some((*label, with_interval(summary.get(*key)?))))
        .collect()
}

/// The viability verdicts: (workload, tier, cost ratio with interval, verdict).
fn verdicts(viability: Option<&Value>) -> Vec<[String; 4]> {
    let mut out = Vec::new();
    for row in viability.and_then(Value::as_array).into_iter().flatten() {
        let how: Vec<String> = [&row["dispatch"], &row["cloud_sizing"]]
            .iter()
            .filter_map(|v| v.as_str())
            .map(|v| v.replace('_', " "))
            .collect();
        let name = row["workload"].as_str().unwrap_or("?");
        let workload = if how.is_empty() {
            name.to_string()
        } else {
            format!("{name} ({})", how.join(", "))
        };
        for t in row["tiers"].as_array().into_iter().flatten() {
            let ratio = serde_json::from_value::<MetricSummary>(t["cost_ratio"].clone())
                .map(|m| with_interval(&m))
                .unwrap_or_else(|_| "-".into());
            out.push([
                workload.clone(),
                t["tier"].as_str().unwrap_or("?").to_string(),
                ratio,
                t["verdict"].as_str().unwrap_or("?").replace('_', " "),
            ]);
        }
    }
    out
}

/// What a reader should not miss: clamped latencies and calibration, a price that hit zero,
/// demand the network did not serve.
fn warnings(p: &Page<'_>) -> Vec<String> {
    let mut w = Vec::new();
    let mean = |k: &str| p.summary.get(k).map(|m| m.mean).unwrap_or(0.0);
    if mean(names::inference::CLAMPED_LATENCIES) > 0.0 {
        w.push(format!(
            "{} latencies a replication on average lay beyond the histograms' range and were clamped: the highest quantiles are lower bounds",
            sig(mean(names::inference::CLAMPED_LATENCIES))
        ));
    }
    if mean(names::inference::DROPPED_REQUESTS) > 0.0 {
        w.push(format!(
            "unserved demand: {} requests a replication were turned away (drop ratio {})",
            sig(mean(names::inference::DROPPED_REQUESTS)),
            sig(mean(names::inference::DROP_RATIO))
        ));
    }
    if mean(names::token::PRICE_HIT_ZERO) > 0.0 {
        w.push("the token's price fell to zero and was floored there in some epochs".into());
    }
    for g in p.info["gpu_profiles"].as_array().into_iter().flatten() {
        let clamped = g["clamped"].as_array().map_or(0, Vec::len);
        if clamped > 0 {
            w.push(format!(
                "the calibration of {} was used outside its measured sizes ({clamped} curves clamped)",
                g["gpu"].as_str().unwrap_or("?")
            ));
        }
    }
    w
}

/// Provenance rows: (what, value).
fn provenance(p: &Page<'_>) -> Vec<(&'static str, String)> {
    let text = |k: &str| p.info[k].as_str().unwrap_or("-").to_string();
    let overrides: Vec<String> = p.info["overrides"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o.as_str().map(str::to_string))
        .collect();
    let profiles: Vec<String> = p.info["gpu_profiles"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| {
            format!(
                "{}: {} ({})",
                g["gpu"].as_str().unwrap_or("?"),
                g["kind"].as_str().unwrap_or("?"),
                g["source"].as_str().unwrap_or("?")
            )
        })
        .collect();
    vec![
        ("depinsim version", text("version")),
        ("scenario file", text("scenario_file")),
        ("scenario identity (SHA-256)", text("scenario_identity")),
        ("seed", p.seed.to_string()),
        ("replications", p.replications.to_string()),
        (
            "horizon, warm-up",
            format!("{} h, {} h excluded", p.horizon_h, p.warmup_h),
        ),
        (
            "overrides",
            if overrides.is_empty() {
                "none".into()
            } else {
                overrides.join("; ")
            },
        ),
        ("calibration", profiles.join("; ")),
    ]
}

/// Base64 (RFC 4648, with padding) of `bytes`.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn table(rows: &[Vec<String>], header: &[&str]) -> String {
    let mut s = String::from("<table>\n<tr>");
    for h in header {
        let _ = write!(s, "<th>{}</th>", escape(h));
    }
    s.push_str("</tr>\n");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{}</td>", escape(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    s
}

/// report.html: `charts` are (title, SVG text) in the order shown.
pub fn html(p: &Page<'_>, charts: &[(String, String)]) -> String {
    let mut s =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(s, "<title>depinsim report: {}</title>", escape(p.scenario));
    let _ = writeln!(
        s,
        "<style>\n@font-face {{ font-family: \"{FONT}\"; src: url(data:font/ttf;base64,{}) format(\"truetype\"); }}\n{CSS}</style>\n</head>\n<body>",
        base64(FONT_TTF)
    );
    let _ = writeln!(s, "<h1>{}</h1>", escape(p.scenario));
    if let Some(q) = p.info["question"].as_str() {
        let _ = writeln!(
            s,
            "<section><h2>The question</h2>\n<pre class=\"question\">{}</pre></section>",
            escape(q)
        );
    }
    let head: Vec<Vec<String>> = headline(p.summary)
        .into_iter()
        .map(|(l, v)| vec![l.to_string(), v])
        .collect();
    if !head.is_empty() {
        let _ = writeln!(
            s,
            "<section><h2>Headline (mean over {} {} [95% interval])</h2>\n{}</section>",
            p.replications,
            if p.replications == 1 {
                "replication, no interval"
            } else {
                "replications"
            },
            table(&head, &["metric", "value"])
        );
    }
    let v: Vec<Vec<String>> = verdicts(p.viability).into_iter().map(Vec::from).collect();
    if !v.is_empty() {
        let _ = writeln!(
            s,
            "<section><h2>Viability against the cloud</h2>\n{}</section>",
            table(
                &v,
                &[
                    "workload",
                    "cloud tier",
                    "network cost / cloud cost",
                    "verdict"
                ]
            )
        );
    }
    let w = warnings(p);
    s.push_str("<section><h2>Warnings</h2>\n");
    if w.is_empty() {
        s.push_str("<p>None.</p>\n");
    } else {
        s.push_str("<ul>\n");
        for x in &w {
            let _ = writeln!(s, "<li>{}</li>", escape(x));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("</section>\n<section><h2>Charts</h2>\n");
    for (title, svg) in charts {
        let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        let _ = writeln!(
            s,
            "<figure aria-label=\"{}\">{body}</figure>",
            escape(title)
        );
    }
    s.push_str("</section>\n");
    let prov: Vec<Vec<String>> = provenance(p)
        .into_iter()
        .map(|(k, v)| vec![k.to_string(), v])
        .collect();
    let _ = writeln!(
        s,
        "<section><h2>Provenance</h2>\n{}</section>\n</body>\n</html>",
        table(&prov, &["", ""])
    );
    s
}

/// Text from the scenario or the run in Markdown: HTML's special characters as entities
/// (GitHub renders raw HTML in Markdown), `|` escaped (it ends a table's cell), on one line.
fn md(text: &str) -> String {
    escape(text).replace('|', "\\|").replace('\n', " ")
}

/// report.md: the headline, the verdicts, the warnings and the provenance, for a pull
/// request; `charts` are (title, file under the run's directory).
pub fn markdown(p: &Page<'_>, charts: &[(String, String)]) -> String {
    let cell = md;
    let mut s = format!("# depinsim report: {}\n\n", cell(p.scenario));
    if let Some(q) = p.info["question"].as_str() {
        let first = q.split("\n\n").next().unwrap_or(q);
        let _ = writeln!(s, "> {}\n", cell(first));
    }
    let _ = writeln!(s, "| metric | mean [95% interval] |\n|---|---|");
    for (l, v) in headline(p.summary) {
        let _ = writeln!(s, "| {l} | {v} |");
    }
    let v = verdicts(p.viability);
    if !v.is_empty() {
        let _ = writeln!(
            s,
            "\n| workload | cloud tier | network / cloud cost | verdict |\n|---|---|---|---|"
        );
        for r in v {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                cell(&r[0]),
                cell(&r[1]),
                r[2],
                r[3]
            );
        }
    }
    let w = warnings(p);
    if !w.is_empty() {
        s.push_str("\nWarnings:\n");
        for x in w {
            let _ = writeln!(s, "- {x}");
        }
    }
    s.push_str("\nCharts: ");
    let links: Vec<String> = charts
        .iter()
        .map(|(t, f)| format!("[{}]({f})", cell(t)))
        .collect();
    s.push_str(&links.join(", "));
    s.push_str("\n\n");
    for (k, v) in provenance(p) {
        let _ = writeln!(s, "- {k}: {}", cell(&v));
    }
    s
}

/// What a sweep's page shows, besides the charts.
#[derive(Debug)]
pub struct SweepPage<'a> {
    /// sweep.json.
    pub manifest: &'a crate::export::sweep::Manifest,
    /// compare.json.
    pub compare: &'a Value,
    /// The metrics shown.
    pub metrics: &'a [String],
}

/// Each variant's row: label, its parameters, then each metric's change from the baseline
/// with its paired 95% interval.
fn variant_rows(p: &SweepPage<'_>) -> Vec<Vec<String>> {
    let m = p.manifest;
    p.compare["variants"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let entry = v["index"].as_u64().and_then(|k| m.variants.get(k as usize));
            let mut row = vec![v["label"].as_str().unwrap_or("?").to_string()];
            for a in &m.axes {
                row.push(
                    entry
                        .and_then(|e| e.params.get(a))
                        .map_or("-".into(), |x| x.to_string().trim_matches('"').to_string()),
                );
            }
            for k in p.metrics {
                let d = &v["metrics"][k];
                row.push(
                    match (
                        d["difference"].as_f64(),
                        d["ci95_low"].as_f64(),
                        d["ci95_high"].as_f64(),
                    ) {
                        (Some(x), Some(lo), Some(hi)) => {
                            format!("{} [{} .. {}]", sig(x), sig(lo), sig(hi))
                        }
                        (Some(x), _, _) => sig(x),
                        _ => "-".into(),
                    },
                );
            }
            row
        })
        .collect()
}

fn sweep_provenance(p: &SweepPage<'_>) -> Vec<Vec<String>> {
    let m = p.manifest;
    // The replication count has its own row: an adaptive sweep (`--target-halfwidth`) adds
    // an override per block, and its report must be that of the same count from the start.
    let set: Vec<&str> = m
        .set
        .iter()
        .map(String::as_str)
        .filter(|o| !o.starts_with("simulation.replications="))
        .collect();
    [
        ("depinsim version", m.depinsim_version.clone()),
        ("base scenario", m.base.clone()),
        ("base scenario SHA-256", m.base_sha256.clone()),
        ("seed", m.seed.to_string()),
        ("replications per variant", m.replications.to_string()),
        ("variants", m.variants.len().to_string()),
        ("baseline", m.variants[m.baseline].label.clone()),
        (
            "overrides of every variant",
            if set.is_empty() {
                "none".into()
            } else {
                set.join("; ")
            },
        ),
    ]
    .into_iter()
    .map(|(k, v)| vec![k.to_string(), v])
    .collect()
}

/// A sweep's report.html: `charts` are (title, SVG text).
pub fn sweep_html(p: &SweepPage<'_>, charts: &[(String, String)]) -> String {
    let m = p.manifest;
    let title = format!("sweep over {}", m.base);
    let mut s =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(s, "<title>depinsim report: {}</title>", escape(&title));
    let _ = writeln!(
        s,
        "<style>\n@font-face {{ font-family: \"{FONT}\"; src: url(data:font/ttf;base64,{}) format(\"truetype\"); }}\n{CSS}</style>\n</head>\n<body>",
        base64(FONT_TTF)
    );
    let _ = writeln!(s, "<h1>{}</h1>", escape(&title));
    let _ = writeln!(
        s,
        "<p>{} variants, each on the same {} seeds as the baseline (`{}`): every change below is a paired difference with its 95% interval.</p>",
        m.variants.len(),
        m.replications,
        escape(&m.variants[m.baseline].label)
    );
    let mut header: Vec<&str> = vec!["variant"];
    header.extend(m.axes.iter().map(String::as_str));
    header.extend(p.metrics.iter().map(String::as_str));
    let _ = writeln!(
        s,
        "<section><h2>Variants against the baseline</h2>\n{}</section>",
        table(&variant_rows(p), &header)
    );
    s.push_str("<section><h2>Charts</h2>\n");
    for (title, svg) in charts {
        let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        let _ = writeln!(
            s,
            "<figure aria-label=\"{}\">{body}</figure>",
            escape(title)
        );
    }
    let _ = writeln!(
        s,
        "</section>\n<section><h2>Provenance</h2>\n{}</section>\n</body>\n</html>",
        table(&sweep_provenance(p), &["", ""])
    );
    s
}

/// A sweep's report.md: the variants' table (the first 50), the charts and the provenance.
pub fn sweep_markdown(p: &SweepPage<'_>, charts: &[(String, String)]) -> String {
    let cell = md;
    let m = p.manifest;
    let mut s = format!("# depinsim report: sweep over {}\n\n", cell(&m.base));
    let mut header: Vec<String> = vec!["variant".into()];
    header.extend(m.axes.iter().map(|a| cell(a)));
    header.extend(p.metrics.iter().map(|k| cell(k)));
    let _ = writeln!(
        s,
        "| {} |\n|{}",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    let rows = variant_rows(p);
    for r in rows.iter().take(50) {
        let cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    if rows.len() > 50 {
        let _ = writeln!(s, "\n({} more variants in report.html)", rows.len() - 50);
    }
    let links: Vec<String> = charts
        .iter()
        .map(|(t, f)| format!("[{}]({f})", cell(t)))
        .collect();
    let _ = writeln!(s, "\nCharts: {}\n", links.join(", "));
    for r in sweep_provenance(p) {
        let _ = writeln!(s, "- {}: {}", r[0], cell(&r[1]));
    }
    s
}

const CSS: &str = "body { font-family: \"DejaVu Sans\", sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.8em; } h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
pre.question { white-space: pre-wrap; font-family: inherit; background: #f6f6f6; padding: 0.8em; }
figure { margin: 1.5em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; }
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_vectors() {
        // RFC 4648, section 10.
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(base64(plain.as_bytes()), coded, "{plain}");
        }
    }

    #[test]
    fn scenario_text_is_escaped() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
