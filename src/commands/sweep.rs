//! `depinsim sweep`: expand the design, load and check every variant before anything runs,
//! run the cells not yet done (each written as it finishes), then assemble each variant's
//! summary, results.parquet and compare.json in the design's order.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context, Result};
use depinsim::cli::SweepArgs;
use depinsim::core::digest::sha256_hex;
use depinsim::core::rng::replication_seed;
use depinsim::experiment::design::{Variant, expand};
use depinsim::experiment::sensitivity::indices;
use depinsim::experiment::sweep::{VariantWork, run_cells};
use depinsim::experiment::worker_threads;
use depinsim::export::sweep::{Manifest, SweepDir, VariantEntry};
use depinsim::export::sweep_results::{CompareWriter, Named, ResultsWriter};
use depinsim::metrics::aggregate;
use depinsim::metrics::difference::{Pairing, differences};
use depinsim::report::compare::{Compared, table};
use depinsim::scenario::overrides::{Override, parse_override};
use depinsim::scenario::sweep::{Sweep, ValuesAxis, load_sweep, override_at};
use depinsim::scenario::{LoadError, Scenario, load_file};
use depinsim::sim::footprint::Footprint;
use rayon::prelude::*;

use super::Usage;

/// Runs the sweep and writes its directory.
pub(super) fn sweep(args: SweepArgs) -> Result<ExitCode> {
    let sweep = if args.grid.is_empty() {
        load_sweep(&args.file)?
    } else {
        Sweep::grid(&args.file, grid_axes(&args.grid)?)?
    };
    let mut common = sweep
        .raw
        .set
        .iter()
        .map(|(path, value)| override_at(path, value))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Usage)?;
    let opts = &args.options;
    common.extend(super::run_overrides(opts)?);
    let (variants, sample) = expand(&sweep.raw.design).map_err(|e| Usage(e.to_string()))?;
    let overrides_of = |v: &Variant| -> Result<Vec<Override>, String> {
        let mut ovs = common.clone();
        for (path, value) in &v.params {
            ovs.push(override_at(path, value)?);
        }
        Ok(ovs)
    };
    let load = |i: usize| -> Result<Scenario, LoadError> {
        let ovs = overrides_of(&variants[i]).map_err(LoadError::Override)?;
        load_file(&sweep.base, &ovs)
    };

    // Every variant is loaded and checked before anything runs or is written.
    type Checked = (String, u64, u32, Footprint);
    let checked: Vec<Result<Checked, LoadError>> = (0..variants.len())
        .into_par_iter()
        .map(|i| {
            load(i).map(|s| {
                let f = Footprint::of(&s);
                (s.identity().to_string(), s.seed(), s.replications(), f)
            })
        })
        .collect();
    let entries = check_variants(&variants, checked)?;
    let (seed, replications) = (entries[0].1, entries[0].2);
    // Memory: the largest variant's replications on every thread the cells may use.
    let cells_at_most = variants.len().saturating_mul(replications as usize);
    let in_flight = worker_threads(usize::from(opts.threads), cells_at_most);
    if let Some(f) = entries
        .iter()
        .map(|e| &e.3)
        .max_by_key(|f| f.run(in_flight, replications))
    {
        super::memory::admit(
            f,
            in_flight,
            replications,
            opts.max_memory,
            "the sweep's largest variant",
        )?;
    }
    let baseline = baseline_of(
        &variants,
        args.baseline.as_deref().or(sweep.raw.baseline.as_deref()),
    )?;
    let base_text =
        std::fs::read(&sweep.base).with_context(|| format!("reading {}", sweep.base.display()))?;
    let manifest = Manifest {
        depinsim_version: env!("CARGO_PKG_VERSION").to_string(),
        base: sweep.base.display().to_string(),
        base_sha256: sha256_hex(&base_text),
        sweep: serde_json::to_value(&sweep.raw).unwrap_or_default(),
        set: common.iter().map(|o| o.text.clone()).collect(),
        seed,
        replications,
        baseline,
        axes: sweep.paths().iter().map(|p| (*p).to_string()).collect(),
        variants: variants
            .iter()
            .zip(&entries)
            .map(|(v, e)| VariantEntry {
                label: v.label.clone(),
                id: e.0.clone(),
                params: v.params.iter().cloned().collect(),
            })
            .collect(),
    };
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| super::default_out(&args.file));
    let (dir, resumed) = SweepDir::open(&out, &manifest, opts.force)?;

    // The cells not yet done, once per distinct variant.
    let mut seen = std::collections::BTreeSet::new();
    let work: Vec<VariantWork> = manifest
        .variants
        .iter()
        .enumerate()
        .filter(|(_, v)| seen.insert(v.id.clone()))
        .filter_map(|(i, v)| {
            let missing: Vec<u32> = (0..replications)
                .filter(|&r| !dir.has_cell(&v.id, r))
                .collect();
            (!missing.is_empty() || !dir.has_summary(&v.id, replications)).then_some(VariantWork {
                variant: i,
                replications: missing,
            })
        })
        .collect();
    let cells: usize = work.iter().map(|w| w.replications.len()).sum();
    if resumed && !opts.quiet {
        err!(
            "resuming {}: {} of {} cells to run",
            out.display(),
            cells,
            manifest.variants.len() * replications as usize
        );
    }
    let progress = super::progress_bar(
        cells as u64,
        opts.quiet,
        "{spinner} cells {pos}/{len} [{bar:30}] {per_sec} eta {eta}",
    );
    let sink = |v: usize, r: u32, o: &depinsim::sim::world::ReplicationOutput| {
        let id = &manifest.variants[v].id;
        dir.write_cell(id, r, replication_seed(seed, u64::from(r)), &o.metrics)
            .map_err(anyhow::Error::from)?;
        progress.inc(1);
        Ok(())
    };
    let finish = |v: usize, s: &Scenario| {
        let id = &manifest.variants[v].id;
        let cells = dir.read_cells(id, replications)?;
        let metrics: Vec<_> = cells.into_iter().map(|c| c.1).collect();
        dir.write_variant(id, s, &aggregate(&metrics))?;
        Ok(())
    };
    let load_any = |i: usize| load(i).map_err(anyhow::Error::from);
    let failures = run_cells(
        &work,
        usize::from(opts.threads),
        args.keep_going,
        &load_any,
        &sink,
        &finish,
    )
    .context("cannot start worker threads")?;
    progress.finish_and_clear();
    if !failures.is_empty() {
        for f in &failures {
            err!(
                "variant {} ({}) failed: {:#}",
                f.variant,
                manifest.variants[f.variant].label,
                f.error
            );
        }
        err!(
            "{} variant(s) failed; run the same command again to retry them (finished cells are kept)",
            failures.len()
        );
        return Ok(ExitCode::from(1));
    }

    let design_seed = sweep.raw.design.seed();
    let (compared, outputs) = assemble(&dir, &manifest, &sweep.raw.metrics)?;
    if !outputs.is_empty() {
        let mut all = serde_json::Map::new();
        for (metric, values) in sweep.raw.metrics.iter().zip(&outputs) {
            let Some(found) = indices(&sample, &manifest.axes, values, design_seed) else {
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
    if !opts.quiet {
        let base = &manifest.variants[baseline].label;
        out!("{}", table(base, Pairing::Paired, &compared, &[]));
        out!("wrote {}", dir.path().display());
    }
    Ok(ExitCode::SUCCESS)
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

/// What each variant was checked for (its identity, seed, replications and memory), or
/// every problem of every variant at once: a problem several variants share is told once,
/// with the variants it is in.
fn check_variants<T>(variants: &[Variant], checked: Vec<Result<T, LoadError>>) -> Result<Vec<T>> {
    let mut problems: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut ok = Vec::new();
    for (i, c) in checked.into_iter().enumerate() {
        match c {
            Ok(e) => ok.push(e),
            Err(LoadError::Invalid { issues, .. }) => {
                for issue in issues {
                    let text = issue.to_string();
                    if !problems.contains_key(&text) {
                        order.push(text.clone());
                    }
                    problems.entry(text).or_default().push(i);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !problems.is_empty() {
        let mut s = format!(
            "{} problem(s) in the sweep's variants (nothing was run):",
            problems.len()
        );
        for text in order {
            let at = &problems[&text];
            let names: Vec<&str> = at
                .iter()
                .take(3)
                .map(|&i| variants[i].label.as_str())
                .collect();
            let more = if at.len() > 3 {
                format!(" and {} more", at.len() - 3)
            } else {
                String::new()
            };
            s.push_str(&format!(
                "\n  {text}\n    in variant(s): {}{more}",
                names.join("; ")
            ));
        }
        return Err(Usage(s).into());
    }
    Ok(ok)
}

/// The baseline's position: the variant labelled `name`, or the first.
fn baseline_of(variants: &[Variant], name: Option<&str>) -> Result<usize> {
    let Some(name) = name else { return Ok(0) };
    variants
        .iter()
        .position(|v| v.label == name)
        .ok_or_else(|| {
            let labels: Vec<&str> = variants.iter().take(5).map(|v| v.label.as_str()).collect();
            Usage(format!(
                "baseline `{name}` is not a variant of the sweep\n    fix: give one of its labels, e.g. `{}`",
                labels.join("`, `")
            ))
            .into()
        })
}

/// `--grid 'PATH=[V1, V2]'` arguments as axes.
fn grid_axes(grid: &[String]) -> Result<Vec<ValuesAxis>> {
    grid.iter()
        .map(|g| {
            let ov = parse_override(g).map_err(|m| Usage(m.replacen("--set", "--grid", 1)))?;
            let path = g.split_once('=').map_or(g.as_str(), |p| p.0).trim().to_string();
            match ov.value {
                serde_json::Value::Array(values) => Ok(ValuesAxis { path, values }),
                other => Err(Usage(format!(
                    "--grid '{g}': the values must be a YAML list, got {other}\n    fix: write --grid '{path}=[V1, V2, ...]'"
                ))
                .into()),
            }
        })
        .collect()
}
