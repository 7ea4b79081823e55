//! A sweep's plan: its variants expanded, every one loaded and checked before anything runs,
//! and the manifest that says what the sweep is. `sweep` and `merge` both start from it, so
//! a merge checks that the shards are of the sweep the files describe now.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use depinsim::core::digest::sha256_hex;
use depinsim::experiment::design::{Sample, Variant, expand};
use depinsim::export::sweep::{Manifest, VariantEntry};
use depinsim::scenario::overrides::{Override, parse_override};
use depinsim::scenario::sweep::{Sweep, ValuesAxis, override_at};
use depinsim::scenario::{LoadError, Scenario, load_file};
use depinsim::sim::footprint::Footprint;
use rayon::prelude::*;

use super::Usage;

/// A sweep ready to run: its file, its variants and the overrides every one gets.
pub(super) struct Plan {
    /// The sweep file (or `--grid` design).
    pub sweep: Sweep,
    /// The variants, in the design's order.
    pub variants: Vec<Variant>,
    /// A sensitivity design's sample.
    pub sample: Sample,
    /// Overrides every variant gets before its own: the file's `set`, then the command's.
    pub common: Vec<Override>,
    /// What the sweep is (sweep.json).
    pub manifest: Manifest,
    /// The memory of the variant whose replication needs the most.
    pub largest: Option<Footprint>,
}

impl Plan {
    /// Expands `sweep`'s design and loads every variant with `common` then its own values;
    /// the baseline is `baseline` (a label), the file's, or the first variant.
    ///
    /// # Errors
    /// Every problem of every variant at once (exit 2), or the base file cannot be read.
    pub fn new(sweep: Sweep, common: Vec<Override>, baseline: Option<&str>) -> Result<Plan> {
        let (variants, sample) = expand(&sweep.raw.design).map_err(|e| Usage(e.to_string()))?;
        let mut plan = Plan {
            sweep,
            variants,
            sample,
            common,
            manifest: Manifest::default(),
            largest: None,
        };
        type Checked = (String, u64, u32, Footprint);
        let checked: Vec<Result<Checked, LoadError>> = (0..plan.variants.len())
            .into_par_iter()
            .map(|i| {
                plan.load(i).map(|s| {
                    let f = Footprint::of(&s);
                    (s.identity().to_string(), s.seed(), s.replications(), f)
                })
            })
            .collect();
        let mut entries = check_variants(&plan.variants, checked)?;
        let baseline = baseline_of(
            &plan.variants,
            baseline.or(plan.sweep.raw.baseline.as_deref()),
        )?;
        let base = &plan.sweep.base;
        let base_text =
            std::fs::read(base).with_context(|| format!("reading {}", base.display()))?;
        plan.manifest = Manifest {
            depinsim_version: env!("CARGO_PKG_VERSION").to_string(),
            base: base.display().to_string(),
            base_sha256: sha256_hex(&base_text),
            sweep: serde_json::to_value(&plan.sweep.raw).unwrap_or_default(),
            set: plan.common.iter().map(|o| o.text.clone()).collect(),
            seed: entries[0].1,
            replications: entries[0].2,
            baseline,
            axes: plan
                .sweep
                .paths()
                .iter()
                .map(|p| (*p).to_string())
                .collect(),
            variants: plan
                .variants
                .iter()
                .zip(&entries)
                .map(|(v, e)| VariantEntry {
                    label: v.label.clone(),
                    id: e.0.clone(),
                    params: v.params.iter().cloned().collect(),
                })
                .collect(),
            shard: None,
        };
        plan.largest = entries
            .iter_mut()
            .max_by_key(|e| e.3.replication())
            .map(|e| e.3.clone());
        Ok(plan)
    }

    /// Every variant with `replications` replications from now on (the cells run so far
    /// are the first of them: replication i keeps its seed).
    pub fn grow(&mut self, replications: u32) {
        let ov = Override::field(&["simulation", "replications"], replications.into());
        self.manifest.set.push(ov.text.clone());
        self.common.push(ov);
        self.manifest.replications = replications;
    }

    /// Loads variant `i`.
    ///
    /// # Errors
    /// As [`load_file`].
    pub fn load(&self, i: usize) -> Result<Scenario, LoadError> {
        let mut ovs = self.common.clone();
        for (path, value) in &self.variants[i].params {
            ovs.push(override_at(path, value).map_err(LoadError::Override)?);
        }
        load_file(&self.sweep.base, &ovs)
    }
}

/// The overrides of a sweep file's `set`, as `--set` would give them.
///
/// # Errors
/// A malformed path (a checked file has none).
pub(super) fn file_overrides(sweep: &Sweep) -> Result<Vec<Override>> {
    Ok(sweep
        .raw
        .set
        .iter()
        .map(|(path, value)| override_at(path, value))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Usage)?)
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
pub(super) fn grid_axes(grid: &[String]) -> Result<Vec<ValuesAxis>> {
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
