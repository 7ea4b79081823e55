//! Baseline files: what `depinsim check` compares a run with, written by `depinsim baseline`
//! and kept under version control beside the scenario, reviewed like code.
//!
//! A baseline is pretty JSON (f64s round-trip exactly, serde_json's `float_roundtrip`) with
//! the scenario's name and identity, the overrides it was run with, its seed, each
//! replication's seed, the depinsim version, the SHA-256 of the run's summary.json (the
//! exact tier), the margins (edited by hand, kept by `--update`) and every metric's
//! per-replication values with their mean and 95% interval.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::file::{WriteError, write_json_atomic};
use crate::metrics::regression::{BaselineValues, Margins};
use crate::metrics::{Metrics, summary::summarise};

/// The format version this build writes and reads.
pub const BASELINE_FORMAT: u32 = 1;

/// A baseline file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// The format version ([`BASELINE_FORMAT`]).
    pub format: u32,
    /// The scenario's name (its `name`, or its file's stem).
    pub scenario: String,
    /// The resolved scenario's SHA-256 without its replication count
    /// (`Scenario::identity`).
    pub scenario_identity: String,
    /// The scenario file, as given to `depinsim baseline`.
    pub scenario_file: String,
    /// The `--set` overrides it was run with; `check SCENARIO` applies them again first.
    pub overrides: Vec<String>,
    /// The master seed.
    pub seed: u64,
    /// Replications run.
    pub replications: u32,
    /// Each replication's seed, in order: a run is paired with the baseline only on these.
    pub seeds: Vec<u64>,
    /// The depinsim version that wrote it.
    pub depinsim_version: String,
    /// The SHA-256 of the run's summary.json: a run with the same one passes at once.
    pub summary_sha256: String,
    /// Every metric's margin.
    pub margins: Margins,
    /// Every metric the run defined, by name.
    pub metrics: BTreeMap<String, BaselineMetric>,
}

/// One metric of a baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineMetric {
    /// The mean over the replications that defined it.
    pub mean: f64,
    /// Lower end of the 95% interval of the mean (none with one value).
    pub ci95_low: Option<f64>,
    /// Upper end of the 95% interval of the mean.
    pub ci95_high: Option<f64>,
    /// Each replication's value, in order; null where a replication did not define it.
    pub values: Vec<Option<f64>>,
}

/// A baseline file that cannot be used: a usage error (exit 2), naming the file.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file cannot be read.
    #[error(
        "cannot read the baseline {}: {error}\n    fix: give a file `depinsim baseline` wrote",
        .path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        error: std::io::Error,
    },
    /// The file is not a baseline, or not one this build reads.
    #[error("{}: {message}\n    fix: {fix}", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        message: String,
        /// What to do.
        fix: String,
    },
}

impl Baseline {
    /// The baseline of a run: each replication's seed and metrics in order.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        scenario: &str,
        identity: &str,
        scenario_file: &str,
        overrides: Vec<String>,
        seed: u64,
        replications: &[(u64, Metrics)],
        summary_sha256: String,
        margins: Margins,
    ) -> Self {
        let mut values: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
        for (i, (_, m)) in replications.iter().enumerate() {
            for (k, v) in m {
                let row = values
                    .entry(k.clone())
                    .or_insert_with(|| vec![None; replications.len()]);
                row[i] = v.is_finite().then_some(*v);
            }
        }
        let metrics = values
            .into_iter()
            .filter_map(|(k, values)| {
                let defined: Vec<f64> = values.iter().flatten().copied().collect();
                if defined.is_empty() {
                    return None;
                }
                let s = summarise(&defined);
                Some((
                    k,
                    BaselineMetric {
                        mean: s.mean,
                        ci95_low: s.ci95_low,
                        ci95_high: s.ci95_high,
                        values,
                    },
                ))
            })
            .collect();
        Self {
            format: BASELINE_FORMAT,
            scenario: scenario.to_string(),
            scenario_identity: identity.to_string(),
            scenario_file: scenario_file.to_string(),
            overrides,
            seed,
            replications: replications.len() as u32,
            seeds: replications.iter().map(|r| r.0).collect(),
            depinsim_version: env!("CARGO_PKG_VERSION").to_string(),
            summary_sha256,
            margins,
            metrics,
        }
    }

    /// Every metric's per-replication values, as the check takes them.
    pub fn values(&self) -> BaselineValues {
        self.metrics
            .iter()
            .map(|(k, m)| (k.clone(), m.values.clone()))
            .collect()
    }

    /// Reads and checks a baseline file.
    ///
    /// # Errors
    /// The file cannot be read, is not JSON of this form (with the line and the field), or is
    /// inconsistent (seeds or values not one per replication, a margin below zero).
    pub fn read(path: &Path) -> Result<Self, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|error| BaselineError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        let malformed = |message: String, fix: &str| BaselineError::Malformed {
            path: path.to_path_buf(),
            message,
            fix: fix.to_string(),
        };
        let de = &mut serde_json::Deserializer::from_str(&text);
        let b: Self = serde_path_to_error::deserialize(de).map_err(|e| {
            let at = e.path().to_string();
            let inner = e.into_inner();
            let place = if at.is_empty() || at == "." {
                String::new()
            } else {
                format!(" at `{at}`")
            };
            malformed(
                format!("not a baseline{place}: {inner}"),
                "write it again with `depinsim baseline SCENARIO --out FILE`, or mend the field named",
            )
        })?;
        if b.format != BASELINE_FORMAT {
            return Err(malformed(
                format!(
                    "format {} is not the format {BASELINE_FORMAT} this depinsim reads",
                    b.format
                ),
                "write the baseline again with this version of depinsim",
            ));
        }
        let reps = b.replications as usize;
        if b.seeds.len() != reps {
            return Err(malformed(
                format!(
                    "`seeds` holds {} seeds for {reps} replications",
                    b.seeds.len()
                ),
                "give one seed per replication, as `depinsim baseline` writes them",
            ));
        }
        if reps < 2 {
            return Err(malformed(
                format!("{reps} replication(s): a baseline needs at least 2"),
                "write it again with --replications 2 or more",
            ));
        }
        if let Some((k, m)) = b.metrics.iter().find(|(_, m)| m.values.len() != reps) {
            return Err(malformed(
                format!(
                    "`metrics.{k}.values` holds {} values for {reps} replications",
                    m.values.len()
                ),
                "give one value (or null) per replication",
            ));
        }
        if let Some(p) = b.margins.problems().into_iter().next() {
            return Err(malformed(p, "give margins of 0 or more"));
        }
        Ok(b)
    }

    /// Writes the baseline to `path` (atomically; an existing file only when `replace`).
    ///
    /// # Errors
    /// As [`write_json_atomic`].
    pub fn write(&self, path: &Path, replace: bool) -> Result<(), WriteError> {
        write_json_atomic(path, self, replace)
    }
}

/// Where `depinsim baseline --update` writes the new baseline beside the old one at `path`:
/// `NAME.pending.json` for `NAME.json` (accepting it is renaming it over the old one).
pub fn pending_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let pending = match name.strip_suffix(".json") {
        Some(stem) => format!("{stem}.pending.json"),
        None => format!("{name}.pending"),
    };
    path.with_file_name(pending)
}

/// The default baseline file of scenario file `scenario`: beside it, `NAME.baseline.json`.
pub fn default_path(scenario: &Path) -> PathBuf {
    let stem = scenario
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    scenario.with_file_name(format!("{stem}.baseline.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Baseline {
        let reps = vec![
            (
                7,
                Metrics::from([("a".into(), 1.5), ("b".into(), f64::NAN)]),
            ),
            (
                9,
                Metrics::from([("a".into(), 0.1 + 0.2), ("b".into(), 2.0)]),
            ),
        ];
        Baseline::new(
            "s",
            "id",
            "s.yaml",
            vec![],
            1,
            &reps,
            "00".into(),
            Margins::default(),
        )
    }

    #[test]
    fn values_survive_the_file_exactly() {
        let b = example();
        assert_eq!(b.metrics["a"].values, vec![Some(1.5), Some(0.1 + 0.2)]);
        assert_eq!(b.metrics["b"].values, vec![None, Some(2.0)]);
        assert_eq!(b.metrics["a"].mean, (1.5 + (0.1 + 0.2)) / 2.0);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.baseline.json");
        b.write(&path, false).expect("written");
        assert_eq!(Baseline::read(&path).expect("read back"), b);
        assert!(matches!(b.write(&path, false), Err(WriteError::Exists(_))));
    }

    #[test]
    fn a_damaged_baseline_is_refused_with_its_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("b.json");
        let text = serde_json::to_string_pretty(&example()).expect("json");
        let cases = [
            (
                text.replace("\"seed\": 1", "\"seed\": \"one\""),
                "at `seed`",
            ),
            (text.replace("\"format\": 1", "\"format\": 9"), "format 9"),
            (
                text.replace("\"seeds\": [\n    7,", "\"seeds\": ["),
                "1 seeds for 2",
            ),
            (
                text.replace("\"relative\": 0.02", "\"relative\": -1.0"),
                "margins.default",
            ),
            ("{".to_string(), "not a baseline"),
        ];
        for (bad, want) in cases {
            std::fs::write(&path, &bad).expect("write");
            let e = Baseline::read(&path).expect_err(want).to_string();
            assert!(e.contains(want) && e.contains("fix:"), "{want}: {e}");
        }
    }

    #[test]
    fn pending_and_default_paths_sit_beside_their_files() {
        assert_eq!(
            pending_path(Path::new("b/q.baseline.json")),
            Path::new("b/q.baseline.pending.json")
        );
        assert_eq!(
            default_path(Path::new("scenarios/quickstart.yaml")),
            Path::new("scenarios/quickstart.baseline.json")
        );
    }
}
