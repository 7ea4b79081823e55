//! A run's output directory and its files: summary.json, run.json, scenario.resolved.yaml,
//! timeseries.parquet, replications.parquet and, for `viability`, viability.json. They are written into a staging
//! folder that becomes the directory whole on [`RunDir::commit`] (see [`super::outdir`]), so
//! each file is as atomic as the directory.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::file::WriteError;
use super::json::{RunInfo, summary_text};
use super::outdir::{OutDirError, Staging};
use super::parquet;
use super::sweep_results::write_replications;
use crate::metrics::{EpochRow, MetricSummary, Metrics};
use crate::scenario::Scenario;

/// What one run produced, as written to its directory.
#[derive(Debug)]
pub struct RunResults<'a> {
    /// The scenario run, with every default filled in.
    pub scenario: &'a Scenario,
    /// Every metric across replications.
    pub summary: &'a BTreeMap<String, MetricSummary>,
    /// Provenance and cost of the run.
    pub info: &'a RunInfo,
    /// The time series, one row per replication and epoch.
    pub rows: &'a [EpochRow],
    /// Each replication's seed and metrics, in order (replications.parquet).
    pub replications: &'a [(u64, Metrics)],
}

/// An output directory being written: nothing appears under its name until
/// [`RunDir::commit`], and dropping it leaves no trace.
#[derive(Debug)]
pub struct RunDir {
    staging: Staging,
}

impl RunDir {
    /// Checks that `dir` may receive results (empty, or `force`) and starts its staging
    /// folder, so that an unusable path is refused before any work is done.
    ///
    /// # Errors
    /// As [`Staging::new`].
    pub fn create(dir: &Path, force: bool) -> Result<Self, OutDirError> {
        Ok(Self {
            staging: Staging::new(dir, force)?,
        })
    }

    /// Writes summary.json, run.json, scenario.resolved.yaml, timeseries.parquet and
    /// replications.parquet (replication, seed, metric, value: what `compare` pairs).
    ///
    /// # Errors
    /// The file that could not be written, and why.
    pub fn write_results(&self, r: &RunResults<'_>) -> Result<(), WriteError> {
        let summary = summary_text(r.scenario, r.summary).map_err(|source| WriteError::Json {
            path: "summary.json".into(),
            source,
        })?;
        self.file("summary.json", summary.as_bytes())?;
        self.json("run.json", r.info)?;
        self.file(
            "scenario.resolved.yaml",
            r.scenario.resolved_yaml().as_bytes(),
        )?;
        let name = "timeseries.parquet";
        parquet::write(r.rows, &self.staging.path().join(name)).map_err(|source| {
            WriteError::Parquet {
                path: name.into(),
                source,
            }
        })?;
        let name = "replications.parquet";
        write_replications(r.replications, &self.staging.path().join(name)).map_err(|source| {
            WriteError::Parquet {
                path: name.into(),
                source,
            }
        })
    }

    /// Writes viability.json: the viability table, as it serializes.
    ///
    /// # Errors
    /// As [`RunDir::write_results`].
    pub fn write_viability(&self, table: &impl Serialize) -> Result<(), WriteError> {
        self.json("viability.json", table)
    }

    /// Moves the finished directory into place (see [`Staging::commit`]) and returns its
    /// path.
    ///
    /// # Errors
    /// As [`Staging::commit`].
    pub fn commit(self) -> Result<PathBuf, OutDirError> {
        self.staging.commit()
    }

    /// `value` as pretty JSON with a final newline, in the file `name`.
    fn json(&self, name: &str, value: &impl Serialize) -> Result<(), WriteError> {
        let text = serde_json::to_string_pretty(value).map_err(|source| WriteError::Json {
            path: name.into(),
            source,
        })?;
        self.file(name, (text + "\n").as_bytes())
    }

    fn file(&self, name: &str, contents: &[u8]) -> Result<(), WriteError> {
        fs::write(self.staging.path().join(name), contents).map_err(|source| WriteError::Io {
            path: name.into(),
            source,
        })
    }
}

/// What `depinsim check` reads back from a run's directory.
#[derive(Debug)]
pub struct WrittenRun {
    /// The scenario's name, from summary.json.
    pub scenario: String,
    /// The SHA-256 of summary.json's bytes.
    pub summary_sha256: String,
    /// Each replication's seed and metrics, in order, from replications.parquet.
    pub replications: Vec<(u64, Metrics)>,
    /// The `--set` overrides it ran with, from run.json (none if run.json is unreadable).
    pub overrides: Option<Vec<String>>,
}

/// A directory that is not a run `depinsim run` wrote: a usage error (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}\n    fix: give a directory `depinsim run` wrote", .path.display())]
pub struct NotARun {
    /// The file that is missing or damaged.
    pub path: PathBuf,
    /// What is wrong with it.
    pub message: String,
}

/// Reads summary.json and replications.parquet of the run in `dir`.
///
/// # Errors
/// [`NotARun`] naming the file that is missing or damaged.
pub fn read_run(dir: &Path) -> Result<WrittenRun, NotARun> {
    let not = |name: &str, message: String| NotARun {
        path: dir.join(name),
        message,
    };
    let bytes = fs::read(dir.join("summary.json"))
        .map_err(|e| not("summary.json", format!("cannot be read ({e})")))?;
    let scenario = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("scenario")?.as_str().map(str::to_string))
        .ok_or_else(|| {
            not(
                "summary.json",
                "is not a summary (no `scenario` name in JSON)".into(),
            )
        })?;
    let reps = dir.join("replications.parquet");
    if !reps.is_file() {
        return Err(not("replications.parquet", "is missing".into()));
    }
    let replications = crate::export::sweep_results::read_replications(&reps)
        .map_err(|e| not("replications.parquet", format!("cannot be read ({e})")))?;
    let overrides = fs::read(dir.join("run.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| serde_json::from_value(v.get("overrides")?.clone()).ok());
    Ok(WrittenRun {
        scenario,
        summary_sha256: crate::core::digest::sha256_hex(&bytes),
        replications,
        overrides,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::run_replication;
    use crate::metrics::aggregate;
    use crate::scenario::load_str;

    const TINY: &str = "
simulation: {horizon_h: 0.2, warmup_h: 0.05, replications: 1}
regions: [{name: us-east}]
providers: [{name: dc, region: us-east, gpu: h100_sxm, count: 4, hourly_cost_usd: 1.5}]
inference: {users: [{region: us-east, rate_per_s: 2}]}
";

    #[test]
    fn the_files_appear_together_on_commit_and_not_before() {
        let s = load_str(TINY, "tiny", "tiny", &[]).expect("valid");
        let out = run_replication(&s, 0);
        let summary = aggregate(std::slice::from_ref(&out.metrics));
        let info = RunInfo::example("tiny");
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("out");
        let run = RunDir::create(&dir, false).expect("create");
        run.write_results(&RunResults {
            scenario: &s,
            summary: &summary,
            info: &info,
            rows: &out.rows,
            replications: &[(7, out.metrics.clone())],
        })
        .expect("results");
        run.write_viability(&["a row"]).expect("viability");
        assert!(!dir.exists(), "nothing under the final name before commit");
        assert_eq!(run.commit().expect("commit"), dir);
        let mut names: Vec<String> = fs::read_dir(&dir)
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "replications.parquet",
                "run.json",
                "scenario.resolved.yaml",
                "summary.json",
                "timeseries.parquet",
                "viability.json"
            ]
        );
        let read = |name: &str| fs::read_to_string(dir.join(name)).expect("read");
        assert_eq!(read("viability.json"), "[\n  \"a row\"\n]\n");
        assert!(read("summary.json").starts_with("{\n  \"scenario\": \"tiny\",\n  \"seed\": 1,"));
        assert_eq!(read("scenario.resolved.yaml"), s.resolved_yaml());
        assert_eq!(
            fs::read_dir(tmp.path()).expect("ls").count(),
            1,
            "no staging left"
        );
    }

    #[test]
    fn a_dropped_run_directory_leaves_nothing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("out");
        let run = RunDir::create(&dir, false).expect("create");
        run.write_viability(&1).expect("viability");
        drop(run);
        assert_eq!(fs::read_dir(tmp.path()).expect("ls").count(), 0);
    }
}
