//! A run's report files: what `depinsim report` reads back from a run's directory
//! (summary.json, run.json, timeseries.parquet, viability.json), and the files it writes
//! there (report.html, report.md, plots/NAME.png and plots/NAME.svg). Everything is read
//! and checked, and every file rendered, before the first is written; a report written
//! again replaces its own files and removes those of its charts that no longer apply,
//! never another file.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::file::{WriteError, write_atomic};
use crate::metrics::{EpochRow, MetricSummary};

/// summary.json, as read back.
#[derive(Debug, Deserialize)]
pub struct SummaryFile {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// Replications run.
    pub replications: u32,
    /// Simulated horizon, hours.
    pub horizon_h: f64,
    /// Warm-up, hours.
    pub warmup_h: f64,
    /// Every metric.
    pub metrics: BTreeMap<String, MetricSummary>,
}

/// What a run's report is made from.
#[derive(Debug)]
pub struct RunRecords {
    /// summary.json.
    pub summary: SummaryFile,
    /// run.json (provenance), as JSON.
    pub info: Value,
    /// The time series.
    pub rows: Vec<EpochRow>,
    /// viability.json, when the run wrote one.
    pub viability: Option<Value>,
}

/// A folder that cannot be reported on: a usage error (exit 2) naming the file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}\n    fix: {fix}", .path.display())]
pub struct ReportInputError {
    /// The file (or folder) at fault.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub fix: String,
}

/// Refuses a file named `plots` where the report's charts go.
fn plots_usable(dir: &Path) -> Result<(), ReportInputError> {
    let plots = dir.join("plots");
    if plots.exists() && !plots.is_dir() {
        return Err(ReportInputError {
            path: plots,
            message: "is a file, where the report's charts go".into(),
            fix: "move it away, then run `depinsim report` again".into(),
        });
    }
    Ok(())
}

/// Reads the records of the run in `dir`, refusing a folder that is not a run, a run of
/// another depinsim version, or a damaged file.
///
/// # Errors
/// [`ReportInputError`] naming the file.
pub fn read_run_records(dir: &Path) -> Result<RunRecords, ReportInputError> {
    let bad = |name: &str, message: String, fix: &str| ReportInputError {
        path: dir.join(name),
        message,
        fix: fix.to_string(),
    };
    let rerun = "run the scenario again with `depinsim run`";
    if !dir.is_dir() {
        return Err(bad(
            "",
            "is not a folder".into(),
            "give a run's output directory",
        ));
    }
    plots_usable(dir)?;
    if !dir.join("summary.json").is_file() {
        return Err(bad(
            "summary.json",
            "is missing: the folder is not a run's output".into(),
            "give a directory `depinsim run` wrote",
        ));
    }
    let json = |name: &str| -> Result<Value, ReportInputError> {
        let bytes = fs::read(dir.join(name))
            .map_err(|e| bad(name, format!("cannot be read ({e})"), rerun))?;
        serde_json::from_slice(&bytes).map_err(|e| bad(name, format!("is damaged ({e})"), rerun))
    };
    let info = json("run.json")?;
    let version = info["version"].as_str().unwrap_or("an unknown version");
    if version != env!("CARGO_PKG_VERSION") {
        return Err(bad(
            "run.json",
            format!(
                "the run was written by depinsim {version}, this is {}",
                env!("CARGO_PKG_VERSION")
            ),
            rerun,
        ));
    }
    let summary: SummaryFile = serde_json::from_value(json("summary.json")?)
        .map_err(|e| bad("summary.json", format!("is damaged ({e})"), rerun))?;
    let ts = dir.join("timeseries.parquet");
    let rows = super::parquet::read(&ts)
        .map_err(|e| bad("timeseries.parquet", format!("cannot be read ({e})"), rerun))?;
    let viability = dir
        .join("viability.json")
        .is_file()
        .then(|| json("viability.json"))
        .transpose()?;
    if let Some(v) = &viability
        && !v
            .as_array()
            .is_some_and(|rows| rows.iter().all(|r| r["workload"].is_string()))
    {
        return Err(bad(
            "viability.json",
            "is damaged (not a viability table: a list of rows, each with a workload)".into(),
            rerun,
        ));
    }
    Ok(RunRecords {
        summary,
        info,
        rows,
        viability,
    })
}

/// What a sweep's report is made from.
#[derive(Debug)]
pub struct SweepRecords {
    /// sweep.json.
    pub manifest: super::sweep::Manifest,
    /// compare.json: every variant against the baseline, paired.
    pub compare: Value,
    /// sensitivity.json, for a Morris or Sobol design.
    pub sensitivity: Option<Value>,
}

/// Whether `dir` holds a sweep (its sweep.json) rather than a run.
pub fn is_sweep(dir: &Path) -> bool {
    dir.join("sweep.json").is_file()
}

/// Reads the records of the finished sweep in `dir`.
///
/// # Errors
/// [`ReportInputError`] naming the file: another version, a sweep not finished, a damaged
/// file.
pub fn read_sweep_records(dir: &Path) -> Result<SweepRecords, ReportInputError> {
    let bad = |name: &str, message: String, fix: &str| ReportInputError {
        path: dir.join(name),
        message,
        fix: fix.to_string(),
    };
    let (_, manifest) = super::sweep::SweepDir::existing(dir).map_err(|e| {
        bad(
            "sweep.json",
            format!("cannot be read ({e})"),
            "run the sweep again",
        )
    })?;
    if manifest.depinsim_version != env!("CARGO_PKG_VERSION") {
        return Err(bad(
            "sweep.json",
            format!(
                "the sweep was written by depinsim {}, this is {}",
                manifest.depinsim_version,
                env!("CARGO_PKG_VERSION")
            ),
            "run the sweep again with this version",
        ));
    }
    plots_usable(dir)?;
    let json = |name: &str, fix: &str| -> Result<Value, ReportInputError> {
        let bytes = fs::read(dir.join(name))
            .map_err(|e| bad(name, format!("cannot be read ({e})"), fix))?;
        serde_json::from_slice(&bytes).map_err(|e| bad(name, format!("is damaged ({e})"), fix))
    };
    let finish =
        "finish the sweep (run the same `depinsim sweep` again, or `depinsim merge` its shards)";
    let compare = json("compare.json", finish)?;
    let sensitivity = dir
        .join("sensitivity.json")
        .is_file()
        .then(|| json("sensitivity.json", finish))
        .transpose()?;
    Ok(SweepRecords {
        manifest,
        compare,
        sensitivity,
    })
}

/// The report's files, rendered: (path under the run's directory, contents).
pub type ReportFiles = Vec<(String, Vec<u8>)>;

/// PNG bytes of `rgb` pixels (8-bit RGB, row by row) of `width` x `height`.
///
/// # Errors
/// What the encoder refused.
pub fn png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(rgb, width, height, image::ColorType::Rgb8)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Writes `files` into the run's directory `dir`, each atomically, and removes every file of
/// `ours` (the names a report may write) that `files` no longer holds.
///
/// # Errors
/// What the file system refused.
pub fn write_report(dir: &Path, files: &ReportFiles, ours: &[String]) -> Result<(), WriteError> {
    for (name, bytes) in files {
        write_atomic(&dir.join(name), bytes, true)?;
    }
    for name in ours {
        if !files.iter().any(|(n, _)| n == name) {
            let path = dir.join(name);
            if path.is_file() {
                fs::remove_file(&path).map_err(|source| WriteError::Io { path, source })?;
            }
        }
    }
    Ok(())
}
