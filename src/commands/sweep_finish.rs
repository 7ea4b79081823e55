//! A sweep's last step, on one machine or after a merge: each variant's summary where it is
//! missing, then results.parquet, compare.json and sensitivity.json, a variant at a time in
//! the design's order, and the table.

use anyhow::{Context, Result};
use depinsim::experiment::sensitivity::indices;
use depinsim::export::sweep::{Manifest, SweepDir, VariantEntry};
use depinsim::export::sweep_results::{CompareWriter, Named, ResultsWriter};
use depinsim::metrics::aggregate;
use depinsim::metrics::difference::{Pairing, differences};
use depinsim::report::compare::{Compared, table};
use depinsim::scenario::Scenario;

use super::Usage;
use super::sweep_plan::Plan;

/// Writes variant `v`'s summary from its cells on disk.
///
/// # Errors
/// A cell is missing or unreadable, or the files cannot be written.
pub(super) fn write_summary(dir: &SweepDir, m: &Manifest, v: usize, s: &Scenario) -> Result<()> {
    let id = &m.variants[v].id;
    let cells = dir.read_cells(id, m.replications)?;
    let metrics: Vec<_> = cells.into_iter().map(|c| c.1).collect();
    dir.write_variant(id, s, &aggregate(&metrics))?;
    Ok(())
}

/// Completes the sweep in `dir`: the summaries not yet written, then the assembled files;
/// prints the table unless `quiet`.
///
/// # Errors
/// A cell is missing or unreadable, a sensitivity metric is not defined, or a file cannot
/// be written.
pub(super) fn complete(plan: &Plan, dir: &SweepDir, quiet: bool, report: bool) -> Result<()> {
    let m = &plan.manifest;
    for (i, v) in m.variants.iter().enumerate() {
        if !dir.has_summary(&v.id, m.replications) {
            write_summary(dir, m, i, &plan.load(i)?)?;
        }
    }
    let metrics = &plan.sweep.raw.metrics;
    let (compared, outputs) = assemble(dir, m, metrics)?;
    if !outputs.is_empty() && plan.sweep.raw.design.gives_indices() {
        let mut all = serde_json::Map::new();
        for (metric, values) in metrics.iter().zip(&outputs) {
            let Some(found) = indices(&plan.sample, &m.axes, values, plan.sweep.raw.design.seed())
            else {
                continue;
            };
            let (mut value, warnings) =
                found.map_err(|e| anyhow::anyhow!("sensitivity indices of `{metric}`: {e}"))?;
            for w in &warnings {
                err!("warning: {metric}: {w}");
            }
            value["warnings"] = serde_json::json!(warnings);
            all.insert(metric.clone(), value);
        }
        dir.json("sensitivity.json", &all)?;
    }
    // The report is drawn from the files just written, so that a sweep run on one machine
    // and its shards merged give the same one.
    let charts = if report {
        Some(super::report::write(dir.path()).with_context(|| {
            format!(
                "the sweep was written to {}, but not its report (`depinsim report` draws it)",
                dir.path().display()
            )
        })?)
    } else {
        None
    };
    if !quiet {
        let base = &m.variants[m.baseline].label;
        out!("{}", table(base, Pairing::Paired, &compared, &[]));
        match charts {
            Some(n) => out!(
                "wrote {} (report.html, report.md and {n} charts)",
                dir.path().display()
            ),
            None => out!("wrote {}", dir.path().display()),
        }
    }
    Ok(())
}

/// Writes results.parquet and compare.json, a variant at a time in the design's order, and
/// returns the comparisons for the table (the first 20 variants) and, for each of
/// `metrics`, its mean in every variant.
fn assemble(
    dir: &SweepDir,
    m: &Manifest,
    metrics: &[String],
) -> Result<(Vec<Compared>, Vec<Vec<f64>>)> {
    let base = &m.variants[m.baseline];
    let base_cells: Vec<_> = dir
        .read_cells(&base.id, m.replications)?
        .into_iter()
        .map(|c| c.1)
        .collect();
    fn named(index: usize, v: &VariantEntry) -> Named<'_> {
        Named {
            index,
            label: &v.label,
            id: &v.id,
        }
    }
    let mut results = ResultsWriter::new(dir, m);
    let mut compare = CompareWriter::new(dir, named(m.baseline, base), Pairing::Paired)?;
    let mut shown = Vec::new();
    let mut outputs = vec![Vec::with_capacity(m.variants.len()); metrics.len()];
    for (i, v) in m.variants.iter().enumerate() {
        let cells = dir.read_cells(&v.id, m.replications)?;
        results.add(v, &cells)?;
        let reps: Vec<_> = cells.into_iter().map(|c| c.1).collect();
        let summary = aggregate(&reps);
        for (name, out) in metrics.iter().zip(&mut outputs) {
            let mean = summary.get(name).map(|s| s.mean).ok_or_else(|| {
                Usage(format!(
                    "metric `{name}` is not defined in variant {i} ({})\n    fix: name a metric of summary.json in the sweep file's `metrics`",
                    v.label
                ))
            })?;
            out.push(mean);
        }
        let d = differences(&base_cells, &reps, Pairing::Paired);
        compare.add(named(i, v), &d)?;
        if i != m.baseline && shown.len() < 20 {
            shown.push(Compared {
                label: v.label.clone(),
                metrics: d,
            });
        }
    }
    results.finish()?;
    compare.finish()?;
    Ok((shown, outputs))
}
