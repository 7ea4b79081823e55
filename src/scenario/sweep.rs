//! Sweep files: which scenario a sweep varies, and how its variants are chosen.
//!
//! A sweep file names its base scenario (relative to the sweep file) and a design: `grid`
//! (every combination of the axes' values), `zip` (the axes' values side by side), `list`
//! (variants written out), `random` and `latin_hypercube` (samples over ranges, linear or
//! log), `morris` (elementary effects) and `sobol` (Saltelli's design for Sobol indices).
//! An axis is a path as `--set` takes it. The file is checked here, against its JSON Schema
//! and then value by value, every problem at once; whether each axis is a field of the
//! scenario is checked when the variants are loaded, before anything runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::defaults::{DEFAULT_DESIGN_SEED, DEFAULT_MORRIS_LEVELS, MAX_VARIANTS};
use super::lines::LineIndex;
use super::load::{LoadError, parse};
use super::overrides::{Override, parse_override};
use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;

/// A sweep file.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawSweep {
    /// The scenario the sweep varies, relative to the sweep file.
    pub base: String,
    /// The label of the variant the others are compared with; default: the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Fields changed in every variant, by `--set` path, before the variant's own (e.g.
    /// `simulation.horizon_h: 72`); `--set` on the command line comes after these.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, Value>,
    /// How the variants are chosen.
    pub design: Design,
    /// Metrics the sweep's report charts for each variant, by name as in summary.json (e.g.
    /// `inference.ttft_s.p95`), and for a `morris` or `sobol` design the ones its
    /// sensitivity indices are computed for; default: the headline metrics in the report,
    /// and no indices. Each must be a metric of every variant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
}

/// How a sweep's variants are chosen.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub enum Design {
    /// Every combination of the axes' values (the first axis varies slowest).
    Grid {
        /// The axes, each with its values.
        axes: Vec<ValuesAxis>,
    },
    /// The axes' values side by side: variant i takes value i of every axis (all axes have
    /// as many values).
    Zip {
        /// The axes, each with its values.
        axes: Vec<ValuesAxis>,
    },
    /// Variants written out, each a set of `--set` assignments.
    List {
        /// The variants.
        variants: Vec<ListedVariant>,
    },
    /// Samples drawn uniformly (on the axis's scale) and independently.
    Random {
        /// Variants to draw.
        samples: u32,
        /// Seed of the draw (default 1; apart from the simulation's seed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
        /// The ranges.
        axes: Vec<RangeAxis>,
    },
    /// A Latin hypercube: each axis's range cut into `samples` equal strata (on its scale),
    /// each stratum sampled once, strata paired across axes at random (McKay, Beckman and
    /// Conover 1979).
    LatinHypercube {
        /// Variants to draw.
        samples: u32,
        /// Seed of the draw (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
        /// The ranges.
        axes: Vec<RangeAxis>,
    },
    /// Morris's elementary effects: `trajectories` one-at-a-time paths of k + 1 points on a
    /// grid of `levels` levels per axis (Morris 1991), for mu* and sigma per axis.
    Morris {
        /// Paths (r); 10 or more are advised.
        trajectories: u32,
        /// Levels of the grid (p, default 4, even).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        levels: Option<u32>,
        /// Seed of the draw (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
        /// The ranges.
        axes: Vec<RangeAxis>,
    },
    /// Saltelli's design for Sobol first-order and total indices: N base samples give
    /// N (k + 2) variants (Saltelli et al. 2010).
    Sobol {
        /// Base samples (N); 500 or more are advised.
        samples: u32,
        /// Seed of the draw (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
        /// The ranges.
        axes: Vec<RangeAxis>,
    },
}

impl Design {
    /// Whether the design gives sensitivity indices (`morris` and `sobol`), written to
    /// sensitivity.json for the sweep's `metrics`.
    pub fn gives_indices(&self) -> bool {
        matches!(self, Design::Morris { .. } | Design::Sobol { .. })
    }

    /// The seed a sampled design draws its points (and bootstrap resamples) from: the
    /// file's, or [`DEFAULT_DESIGN_SEED`]; a listed design draws nothing.
    pub fn seed(&self) -> u64 {
        match self {
            Design::Random { seed, .. }
            | Design::LatinHypercube { seed, .. }
            | Design::Morris { seed, .. }
            | Design::Sobol { seed, .. } => seed.unwrap_or(DEFAULT_DESIGN_SEED),
            Design::Grid { .. } | Design::Zip { .. } | Design::List { .. } => DEFAULT_DESIGN_SEED,
        }
    }
}

/// An axis with listed values.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[schemars(deny_unknown_fields)]
pub struct ValuesAxis {
    /// The field, as `--set` takes it: `providers.consumer.bandwidth_gbps`,
    /// `inference.users.0.rate_per_s`.
    pub path: String,
    /// The values, each any YAML value the field takes (a number, a string, a mapping such
    /// as a distribution).
    pub values: Vec<Value>,
}

/// An axis with a range of numbers.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[schemars(deny_unknown_fields)]
pub struct RangeAxis {
    /// The field, as `--set` takes it.
    pub path: String,
    /// Lowest value.
    pub low: f64,
    /// Highest value.
    pub high: f64,
    /// How the range is spread: `linear` (default) or `log` (needs low > 0).
    #[serde(default, skip_serializing_if = "Scale::is_linear")]
    pub scale: Scale,
    /// Round every value to a whole number (a GPU count).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub integer: bool,
}

/// How a range is spread.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Evenly in the value.
    #[default]
    Linear,
    /// Evenly in the value's logarithm.
    Log,
}

impl Scale {
    fn is_linear(&self) -> bool {
        *self == Scale::Linear
    }
}

impl RangeAxis {
    /// The value at `u` in [0, 1] of the range, on its scale, rounded if `integer`.
    pub fn at(&self, u: f64) -> f64 {
        let v = match self.scale {
            Scale::Linear => self.low + u * (self.high - self.low),
            Scale::Log => (self.low.ln() + u * (self.high.ln() - self.low.ln())).exp(),
        };
        let v = v.clamp(self.low, self.high);
        if self.integer { v.round() } else { v }
    }
}

/// A variant written out in a `list` design.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[schemars(deny_unknown_fields)]
pub struct ListedVariant {
    /// Its label (default: its assignments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fields to change, by `--set` path; empty: the base scenario as it is.
    #[serde(default)]
    pub set: BTreeMap<String, Value>,
}

/// A checked sweep file.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The file as read, for sweep.json.
    pub raw: RawSweep,
    /// The base scenario's path, relative to the working directory.
    pub base: PathBuf,
}

impl Sweep {
    /// A sweep of `scenario` over `axes` as a grid, for `depinsim sweep SCENARIO --grid`.
    ///
    /// # Errors
    /// The problems of the design, as for a file.
    pub fn grid(scenario: &Path, axes: Vec<ValuesAxis>) -> Result<Sweep, LoadError> {
        let raw = RawSweep {
            base: scenario.display().to_string(),
            baseline: None,
            set: BTreeMap::new(),
            design: Design::Grid { axes },
            metrics: Vec::new(),
        };
        let mut issues = Issues::default();
        check(&raw, &mut issues);
        if !issues.is_empty() {
            return Err(LoadError::Invalid {
                origin: "--grid".into(),
                issues: issues.into_located(|_| None, |_| false),
            });
        }
        Ok(Sweep {
            raw,
            base: scenario.to_path_buf(),
        })
    }

    /// The axes' paths, in the design's order.
    pub fn paths(&self) -> Vec<&str> {
        match &self.raw.design {
            Design::Grid { axes } | Design::Zip { axes } => {
                axes.iter().map(|a| a.path.as_str()).collect()
            }
            Design::List { variants } => {
                let mut paths: Vec<&str> = Vec::new();
                for v in variants {
                    for p in v.set.keys() {
                        if !paths.contains(&p.as_str()) {
                            paths.push(p);
                        }
                    }
                }
                paths
            }
            Design::Random { axes, .. }
            | Design::LatinHypercube { axes, .. }
            | Design::Morris { axes, .. }
            | Design::Sobol { axes, .. } => axes.iter().map(|a| a.path.as_str()).collect(),
        }
    }
}

/// The JSON Schema of sweep files.
pub fn sweep_schema_value() -> Value {
    schemars::schema_for!(RawSweep).to_value()
}

/// The JSON Schema of sweep files, pretty-printed.
pub fn sweep_schema_json() -> String {
    serde_json::to_string_pretty(&sweep_schema_value()).unwrap_or_default()
}

/// Reads and checks the sweep file at `path`.
///
/// # Errors
/// The file cannot be read or parsed, or has problems (all of them, with their lines).
pub fn load_sweep(path: &Path) -> Result<Sweep, LoadError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    load_sweep_str(&text, &shown, dir)
}

/// Checks sweep `text`; `origin` names it, and the base scenario is relative to `dir`.
///
/// # Errors
/// As [`load_sweep`].
pub fn load_sweep_str(text: &str, origin: &str, dir: &Path) -> Result<Sweep, LoadError> {
    let doc = parse(text, origin)?;
    let lines = LineIndex::build(text);
    let invalid = |issues: Issues| LoadError::Invalid {
        origin: origin.to_string(),
        issues: issues.into_located(|p| lines.locate_below_root(p), |_| false),
    };
    let mut issues = Issues::default();
    if doc.get("base").is_none() && doc.get("regions").is_some() {
        issues.push(
            &YamlPath::root(),
            "this is a scenario, not a sweep file",
            "write a sweep file naming it (`base: scenario.yaml` and a `design`), or give `--grid PATH=[V1, V2]` to sweep it directly",
        );
        return Err(invalid(issues));
    }
    let found = super::shape::check(&doc, &sweep_schema_value(), &mut issues);
    if found.fatal > 0 || found.unknown > 0 {
        return Err(invalid(issues));
    }
    let raw: RawSweep = match serde_path_to_error::deserialize(doc) {
        Ok(raw) => raw,
        Err(e) => {
            let e: serde_path_to_error::Error<serde_json::Error> = e;
            issues.push(
                &YamlPath::from_serde(e.path()),
                e.inner().to_string(),
                "see `depinsim schema --sweep` for the expected form",
            );
            return Err(invalid(issues));
        }
    };
    check(&raw, &mut issues);
    if !issues.is_empty() {
        return Err(invalid(issues));
    }
    let base = dir.join(&raw.base);
    Ok(Sweep { raw, base })
}

/// The `--set` override that writes `value` at `path`, or why the path is malformed.
pub fn override_at(path: &str, value: &Value) -> Result<Override, String> {
    let mut ov = parse_override(&format!("{path}=0"))?;
    ov.text = format!(
        "{path}={}",
        serde_json::to_string(value).unwrap_or_default()
    );
    ov.value = value.clone();
    Ok(ov)
}

/// Every problem of the design's values.
fn check(raw: &RawSweep, issues: &mut Issues) {
    let design = YamlPath::root().key("design");
    if raw.base.trim().is_empty() {
        issues.push(
            &YamlPath::root().key("base"),
            "is empty",
            "name the scenario the sweep varies, relative to the sweep file",
        );
    }
    for path in raw.set.keys() {
        check_field(
            path,
            &YamlPath::root().key("set").key(path.as_str()),
            issues,
        );
    }
    let count = match &raw.design {
        Design::Grid { axes } => {
            let at = design.key("grid").key("axes");
            check_values_axes(axes, &at, issues);
            axes.iter().map(|a| a.values.len() as u64).product::<u64>()
        }
        Design::Zip { axes } => {
            let at = design.key("zip").key("axes");
            check_values_axes(axes, &at, issues);
            if let Some(first) = axes.first() {
                for (i, a) in axes.iter().enumerate().skip(1) {
                    if a.values.len() != first.values.len() {
                        issues.push(
                            &at.index(i).key("values"),
                            format!(
                                "has {} values where the first axis has {}",
                                a.values.len(),
                                first.values.len()
                            ),
                            "give every axis of a zip as many values (variant i takes value i of each), or use `grid` for every combination",
                        );
                    }
                }
            }
            axes.first().map_or(0, |a| a.values.len() as u64)
        }
        Design::List { variants } => {
            let at = design.key("list").key("variants");
            if variants.is_empty() {
                issues.push(
                    &at,
                    "is empty",
                    "list at least one variant, e.g. `- {name: base}`",
                );
            }
            let mut names = BTreeMap::new();
            for (i, v) in variants.iter().enumerate() {
                for path in v.set.keys() {
                    check_path(path, &at.index(i).key("set").key(path.as_str()), issues);
                }
                if let Some(n) = &v.name
                    && let Some(first) = names.insert(n.clone(), i)
                {
                    issues.push(
                        &at.index(i).key("name"),
                        format!("`{n}` is also the name of variant {first}"),
                        "give each variant its own name",
                    );
                }
            }
            variants.len() as u64
        }
        Design::Random {
            samples,
            axes,
            seed: _,
        }
        | Design::LatinHypercube {
            samples,
            axes,
            seed: _,
        } => {
            let key = if matches!(raw.design, Design::Random { .. }) {
                "random"
            } else {
                "latin_hypercube"
            };
            let at = design.key(key);
            issues.at_least_one(
                &at.key("samples"),
                *samples,
                "draw at least one sample, e.g. `samples: 64`",
            );
            check_range_axes(axes, &at.key("axes"), issues);
            u64::from(*samples)
        }
        Design::Morris {
            trajectories,
            levels,
            axes,
            seed: _,
        } => {
            let at = design.key("morris");
            if *trajectories < 2 {
                issues.push(
                    &at.key("trajectories"),
                    format!("must be at least 2, got {trajectories}"),
                    "give at least 2 trajectories (10 or more for stable indices)",
                );
            }
            let p = levels.unwrap_or(DEFAULT_MORRIS_LEVELS);
            if p < 2 || p % 2 != 0 {
                issues.push(
                    &at.key("levels"),
                    format!("must be an even number of at least 2, got {p}"),
                    "give an even number of levels, e.g. 4",
                );
            }
            check_range_axes(axes, &at.key("axes"), issues);
            u64::from(*trajectories) * (axes.len() as u64 + 1)
        }
        Design::Sobol { samples, axes, .. } => {
            let at = design.key("sobol");
            if *samples < 2 {
                issues.push(
                    &at.key("samples"),
                    format!("must be at least 2, got {samples}"),
                    "give at least 2 base samples (500 or more for stable indices)",
                );
            }
            check_range_axes(axes, &at.key("axes"), issues);
            u64::from(*samples) * (axes.len() as u64 + 2)
        }
    };
    if count > MAX_VARIANTS {
        issues.push(
            &design,
            format!("gives {count} variants, more than {MAX_VARIANTS}"),
            "use fewer values or samples, or split the study into several sweeps",
        );
    }
}

fn check_values_axes(axes: &[ValuesAxis], at: &YamlPath, issues: &mut Issues) {
    if axes.is_empty() {
        issues.push(
            at,
            "is empty",
            "give at least one axis, e.g. `- {path: providers.0.count, values: [4, 8]}`",
        );
    }
    check_distinct(axes.iter().map(|a| a.path.as_str()), at, issues);
    for (i, a) in axes.iter().enumerate() {
        check_path(&a.path, &at.index(i).key("path"), issues);
        if a.values.is_empty() {
            issues.push(
                &at.index(i).key("values"),
                "is empty",
                "give the axis at least one value, e.g. `values: [4, 8]`",
            );
        }
    }
}

fn check_range_axes(axes: &[RangeAxis], at: &YamlPath, issues: &mut Issues) {
    if axes.is_empty() {
        issues.push(
            at,
            "is empty",
            "give at least one axis, e.g. `- {path: providers.0.count, low: 4, high: 64}`",
        );
    }
    check_distinct(axes.iter().map(|a| a.path.as_str()), at, issues);
    for (i, a) in axes.iter().enumerate() {
        let at = at.index(i);
        check_path(&a.path, &at.key("path"), issues);
        if !a.low.is_finite() || !a.high.is_finite() || a.low > a.high {
            issues.push(
                &at,
                format!("the range's low ({}) is above its high ({})", a.low, a.high),
                "give finite numbers with low <= high",
            );
        } else if a.scale == Scale::Log && a.low <= 0.0 {
            issues.push(
                &at.key("low"),
                format!("must be positive on a log scale, got {}", a.low),
                "give a positive low, or `scale: linear`",
            );
        }
        if a.integer && (a.high - a.low).abs() < 1.0 && a.low.ceil() > a.high.floor() {
            issues.push(
                &at,
                format!("holds no whole number from {} to {}", a.low, a.high),
                "widen the range, or remove `integer: true`",
            );
        }
    }
}

fn check_distinct<'a>(paths: impl Iterator<Item = &'a str>, at: &YamlPath, issues: &mut Issues) {
    let mut seen = BTreeMap::new();
    for (i, p) in paths.enumerate() {
        if let Some(first) = seen.insert(p, i) {
            issues.push(
                &at.index(i).key("path"),
                format!("`{p}` is also axis {first}"),
                "give each field one axis (put both values on the same axis)",
            );
        }
    }
}

fn check_path(path: &str, at: &YamlPath, issues: &mut Issues) {
    if matches!(path, "simulation.seed" | "simulation.replications") {
        issues.push(
            at,
            format!("`{path}` cannot be swept: every variant runs the same replications on the same seeds, so that their differences are paired"),
            "give the sweep's seed and replications with --seed and --replications (or in the base scenario)",
        );
        return;
    }
    check_field(path, at, issues);
}

/// Whether `path` is written as `--set` takes it.
fn check_field(path: &str, at: &YamlPath, issues: &mut Issues) {
    if let Err(e) = parse_override(&format!("{path}=0")) {
        let reason = e.split_once(": ").map_or(e.as_str(), |(_, r)| r);
        issues.push(
            at,
            format!("`{path}` is not a field path: {reason}"),
            "write the path as `--set` takes it, e.g. `providers.0.count` or `inference.users.0.rate_per_s`",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match load_sweep_str(text, "s.yaml", Path::new(".")) {
            Ok(_) => Vec::new(),
            Err(LoadError::Invalid { issues, .. }) => {
                issues.iter().map(ToString::to_string).collect()
            }
            Err(e) => vec![e.to_string()],
        }
    }

    #[test]
    fn a_grid_file_is_read_with_its_base_beside_it() {
        let s = load_sweep_str(
            "base: q.yaml\ndesign: {grid: {axes: [{path: providers.0.count, values: [1, 2]}]}}\n",
            "dir/s.yaml",
            Path::new("dir"),
        )
        .expect("valid");
        assert_eq!(s.base, Path::new("dir/q.yaml"));
        assert_eq!(s.paths(), ["providers.0.count"]);
    }

    #[test]
    fn every_problem_of_a_design_is_reported_at_its_place() {
        let cases: &[(&str, &[&str])] = &[
            (
                "base: q.yaml\ndesign: {grid: {axes: []}}\n",
                &["design.grid.axes", "is empty"],
            ),
            (
                "base: q.yaml\ndesign: {grid: {axes: [{path: a.b, values: []}]}}\n",
                &["design.grid.axes[0].values", "is empty"],
            ),
            (
                "base: q.yaml\ndesign: {zip: {axes: [{path: a, values: [1, 2]}, {path: b, values: [1]}]}}\n",
                &[
                    "design.zip.axes[1].values",
                    "has 1 values where the first axis has 2",
                ],
            ),
            (
                "base: q.yaml\ndesign: {random: {samples: 4, axes: [{path: a, low: 5, high: 1}]}}\n",
                &["design.random.axes[0]", "low (5) is above its high (1)"],
            ),
            (
                "base: q.yaml\ndesign: {latin_hypercube: {samples: 0, axes: [{path: a, low: 0, high: 1, scale: log}]}}\n",
                &["samples", "must be positive on a log scale"],
            ),
            (
                "base: q.yaml\ndesign: {morris: {trajectories: 1, levels: 3, axes: [{path: a, low: 0, high: 1}]}}\n",
                &["trajectories", "levels", "must be an even number"],
            ),
            (
                "base: q.yaml\ndesign: {grid: {axes: [{path: a, values: [1]}, {path: a, values: [2]}]}}\n",
                &["design.grid.axes[1].path", "is also axis 0"],
            ),
            (
                "base: q.yaml\ndesign: {grid: {axes: [{path: 'a..b', values: [1]}]}}\n",
                &["not a field path"],
            ),
            (
                "base: q.yaml\ndesign: {list: {variants: [{set: {simulation.seed: 2}}]}}\n",
                &["cannot be swept", "--seed"],
            ),
            ("base: q.yaml\ndesign: {grdi: {axes: []}}\n", &["design"]),
            (
                "regions: [{name: a}]\n",
                &["this is a scenario, not a sweep file", "--grid"],
            ),
        ];
        for (text, want) in cases {
            let got = problems(text).join("\n");
            for w in *want {
                assert!(got.contains(w), "`{w}` not in:\n{got}\nfor {text}");
            }
        }
    }

    #[test]
    fn a_range_maps_the_unit_interval_on_its_scale() {
        let axis = |scale, integer| RangeAxis {
            path: "a".into(),
            low: 1.0,
            high: 100.0,
            scale,
            integer,
        };
        let lin = axis(Scale::Linear, false);
        assert_eq!(lin.at(0.0), 1.0);
        assert_eq!(lin.at(0.5), 50.5);
        assert_eq!(lin.at(1.0), 100.0);
        let log = axis(Scale::Log, false);
        assert!((log.at(0.5) - 10.0).abs() < 1e-12);
        assert_eq!(log.at(1.0), 100.0);
        assert_eq!(axis(Scale::Log, true).at(0.25), 3.0); // 10^0.5 = 3.16
    }

    #[test]
    fn an_override_at_a_path_carries_any_value() {
        let v: Value = serde_json::json!({"exponential": {"mean_s": 2}});
        let ov = override_at("inference.users.0.prompt_tokens", &v).expect("path");
        assert_eq!(ov.value, v);
        assert!(ov.text.starts_with("inference.users.0.prompt_tokens={"));
        assert!(override_at("a..b", &v).is_err());
    }
}
