//! A sweep's directory, which is both its results and its state: `sweep.json` (the resolved
//! design, the depinsim version, the base scenario's hash), one file per finished cell
//! (`cells/<variant id>/<replication>.json`, written atomically as it finishes), each
//! variant's `summary.json` and `scenario.resolved.yaml` under `variants/<variant id>/`, and
//! at the end `results.parquet` and `compare.json`. Run again on the same directory, a sweep
//! finds the cells already done; a directory of another sweep or version is refused.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::file::{StreamedFile, WriteError, write_atomic};
use super::json::Summary;
use crate::metrics::{MetricSummary, Metrics};
use crate::scenario::Scenario;

/// The file that makes a folder a sweep's.
pub const MANIFEST: &str = "sweep.json";

/// The contents of sweep.json: what the sweep is, enough to resume it or refuse to mix it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The depinsim version that ran it.
    pub depinsim_version: String,
    /// The base scenario, as given.
    pub base: String,
    /// SHA-256 of the base scenario file.
    pub base_sha256: String,
    /// The sweep file (or the `--grid` design), as read.
    pub sweep: Value,
    /// The `--set` overrides applied to every variant, in order.
    pub set: Vec<String>,
    /// Master seed: replication i of every variant runs on the same seed.
    pub seed: u64,
    /// Replications of every variant.
    pub replications: u32,
    /// Position of the variant the others are compared with.
    pub baseline: usize,
    /// The swept fields, in the design's order.
    pub axes: Vec<String>,
    /// The variants, in the design's order.
    pub variants: Vec<VariantEntry>,
    /// The share of the cells this directory holds, when it is one shard of the sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
}

/// Shard `k` of `n` (1 <= k <= n): the cells whose position in the design's order, counted
/// from 0, is k - 1 modulo n.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which shard, from 1.
    pub k: u32,
    /// How many shards.
    pub n: u32,
}

/// One variant in sweep.json.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariantEntry {
    /// How tables name it.
    pub label: String,
    /// SHA-256 of its resolved scenario without `simulation.replications`.
    pub id: String,
    /// The value of each axis.
    pub params: BTreeMap<String, Value>,
}

impl Manifest {
    /// Why results in a directory with manifest `old` cannot be mixed with this sweep's, if
    /// they cannot: another version, another base scenario, another design or seed.
    pub fn conflict(&self, old: &Manifest) -> Option<String> {
        if old.depinsim_version != self.depinsim_version {
            return Some(format!(
                "it holds results of depinsim {}, this is {}",
                old.depinsim_version, self.depinsim_version
            ));
        }
        if old.base_sha256 != self.base_sha256 || old.base != self.base {
            return Some(format!(
                "it holds results of another base scenario ({} with SHA-256 {}…)",
                old.base,
                old.base_sha256.get(..12).unwrap_or_default()
            ));
        }
        let ids = |m: &Manifest| m.variants.iter().map(|v| v.id.clone()).collect::<Vec<_>>();
        if ids(old) != ids(self) || old.axes != self.axes {
            return Some("it holds another sweep (other variants, overrides or seed)".to_string());
        }
        None
    }
}

/// Why a directory cannot hold this sweep (exit 2), or could not be read (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum SweepDirError {
    /// The directory holds something else.
    #[error(
        "output directory `{dir}` cannot take this sweep: {why}\n    fix: choose another with --out, or pass --force to replace it"
    )]
    Incompatible {
        /// The directory.
        dir: PathBuf,
        /// What is in it.
        why: String,
    },
    /// A file of the sweep could not be read back.
    #[error("cannot read {}: {why}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        why: String,
    },
    /// A file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// A sweep's directory, open for its cells.
#[derive(Debug)]
pub struct SweepDir {
    dir: PathBuf,
}

/// One finished cell, as its file holds it.
#[derive(Debug, Serialize, Deserialize)]
struct CellRecord {
    replication: u32,
    seed: u64,
    /// Null stands for a value that is not finite (an undefined metric).
    metrics: BTreeMap<String, Option<f64>>,
}

impl SweepDir {
    /// Opens `dir` for the sweep `manifest` describes: a new or empty directory gets its
    /// sweep.json; one with the same sweep's sweep.json is resumed (sweep.json updated to
    /// the replications asked for now); anything else is refused, unless `force`, which
    /// empties it first. Returns the directory and whether it resumed.
    ///
    /// # Errors
    /// [`SweepDirError::Incompatible`] before anything is written, or what the file system
    /// refused.
    pub fn open(
        dir: &Path,
        manifest: &Manifest,
        force: bool,
    ) -> Result<(Self, bool), SweepDirError> {
        let incompatible = |why: String| SweepDirError::Incompatible {
            dir: dir.to_path_buf(),
            why,
        };
        let mut resumed = false;
        match fs::metadata(dir) {
            Ok(m) if !m.is_dir() => {
                return Err(incompatible("it is not a directory".into()));
            }
            Ok(_) => {
                let path = dir.join(MANIFEST);
                let empty = fs::read_dir(dir)
                    .map_err(|e| read_err(dir, e.to_string()))?
                    .next()
                    .is_none();
                let why = if empty {
                    None
                } else if path.exists() {
                    let old: Manifest = read_json(&path)?;
                    manifest.conflict(&old)
                } else {
                    Some("it is not empty and holds no sweep".to_string())
                };
                match why {
                    Some(_) if force => {
                        fs::remove_dir_all(dir).map_err(|e| read_err(dir, e.to_string()))?;
                    }
                    Some(why) => return Err(incompatible(why)),
                    None => resumed = !empty,
                }
            }
            Err(_) => {}
        }
        let this = Self {
            dir: dir.to_path_buf(),
        };
        this.json(MANIFEST, manifest)?;
        Ok((this, resumed))
    }

    /// An existing sweep's directory, and its manifest, for reading.
    ///
    /// # Errors
    /// The directory holds no readable sweep.json.
    pub fn existing(dir: &Path) -> Result<(Self, Manifest), SweepDirError> {
        let m = read_json(&dir.join(MANIFEST))?;
        Ok((
            Self {
                dir: dir.to_path_buf(),
            },
            m,
        ))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn cell_path(&self, id: &str, replication: u32) -> PathBuf {
        self.dir
            .join("cells")
            .join(id)
            .join(format!("{replication}.json"))
    }

    /// Whether replication `replication` of variant `id` is done.
    pub fn has_cell(&self, id: &str, replication: u32) -> bool {
        self.cell_path(id, replication).is_file()
    }

    /// Writes a finished cell, atomically.
    ///
    /// # Errors
    /// What the file system refused.
    pub fn write_cell(
        &self,
        id: &str,
        replication: u32,
        seed: u64,
        metrics: &Metrics,
    ) -> Result<(), WriteError> {
        let record = CellRecord {
            replication,
            seed,
            metrics: metrics
                .iter()
                .map(|(k, v)| (k.clone(), v.is_finite().then_some(*v)))
                .collect(),
        };
        let path = self.cell_path(id, replication);
        let text = serde_json::to_string(&record).map_err(|source| WriteError::Json {
            path: path.clone(),
            source,
        })?;
        write_atomic(&path, text.as_bytes(), true)
    }

    /// Copies replication `replication` of variant `id` from another directory of the same
    /// sweep (a shard), byte for byte.
    ///
    /// # Errors
    /// The cell cannot be read there or written here.
    pub fn copy_cell(
        &self,
        from: &SweepDir,
        id: &str,
        replication: u32,
    ) -> Result<(), SweepDirError> {
        let source = from.cell_path(id, replication);
        let bytes = fs::read(&source).map_err(|e| read_err(&source, e.to_string()))?;
        Ok(write_atomic(
            &self.cell_path(id, replication),
            &bytes,
            true,
        )?)
    }

    /// The metrics of replications `0..replications` of variant `id`, in order (a value
    /// that was not finite comes back as NaN), with each replication's seed.
    ///
    /// # Errors
    /// A cell is missing or unreadable.
    pub fn read_cells(
        &self,
        id: &str,
        replications: u32,
    ) -> Result<Vec<(u64, Metrics)>, SweepDirError> {
        (0..replications)
            .map(|r| {
                let path = self.cell_path(id, r);
                let c: CellRecord = read_json(&path)?;
                if c.replication != r {
                    return Err(read_err(
                        &path,
                        format!("holds replication {}", c.replication),
                    ));
                }
                let metrics = c
                    .metrics
                    .into_iter()
                    .map(|(k, v)| (k, v.unwrap_or(f64::NAN)))
                    .collect();
                Ok((c.seed, metrics))
            })
            .collect()
    }

    /// Whether variant `id`'s summary covers `replications` replications.
    pub fn has_summary(&self, id: &str, replications: u32) -> bool {
        let path = self.dir.join("variants").join(id).join("summary.json");
        read_json::<Value>(&path)
            .ok()
            .and_then(|v| v.get("replications")?.as_u64())
            == Some(u64::from(replications))
    }

    /// Writes variant `id`'s summary.json (as `run` writes it) and scenario.resolved.yaml.
    ///
    /// # Errors
    /// What the file system refused.
    pub fn write_variant(
        &self,
        id: &str,
        scenario: &Scenario,
        summary: &BTreeMap<String, MetricSummary>,
    ) -> Result<(), WriteError> {
        let dir = Path::new("variants").join(id);
        self.file(
            &dir.join("scenario.resolved.yaml"),
            scenario.resolved_yaml().as_bytes(),
        )?;
        self.json(dir.join("summary.json"), &Summary::new(scenario, summary))
    }

    /// Starts a file of the directory that is written piece by piece.
    ///
    /// # Errors
    /// What the file system refused.
    pub fn stream(&self, name: &str) -> Result<StreamedFile, WriteError> {
        StreamedFile::create(&self.dir.join(name))
    }

    /// The path of a file of the directory.
    pub fn file_path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `value` as pretty JSON with a final newline, replacing the file `name`.
    ///
    /// # Errors
    /// What the file system refused.
    pub fn json(&self, name: impl AsRef<Path>, value: &impl Serialize) -> Result<(), WriteError> {
        let path = self.dir.join(name.as_ref());
        let text = serde_json::to_string_pretty(value).map_err(|source| WriteError::Json {
            path: path.clone(),
            source,
        })?;
        write_atomic(&path, (text + "\n").as_bytes(), true)
    }

    fn file(&self, name: &Path, contents: &[u8]) -> Result<(), WriteError> {
        write_atomic(&self.dir.join(name), contents, true)
    }
}

fn read_err(path: &Path, why: String) -> SweepDirError {
    SweepDirError::Read {
        path: path.to_path_buf(),
        why,
    }
}

/// Reads a JSON file depinsim wrote.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SweepDirError> {
    let text = fs::read_to_string(path).map_err(|e| read_err(path, e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| read_err(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(ids: &[&str]) -> Manifest {
        Manifest {
            depinsim_version: "0.1.0".into(),
            base: "q.yaml".into(),
            base_sha256: "ab".repeat(32),
            sweep: Value::Null,
            set: Vec::new(),
            seed: 1,
            replications: 2,
            baseline: 0,
            axes: vec!["a".into()],
            shard: None,
            variants: ids
                .iter()
                .map(|id| VariantEntry {
                    label: format!("a={id}"),
                    id: (*id).into(),
                    params: BTreeMap::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn cells_round_trip_exactly_and_undefined_metrics_come_back_as_nan() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (dir, resumed) =
            SweepDir::open(&tmp.path().join("s"), &manifest(&["x"]), false).expect("open");
        assert!(!resumed);
        let m = Metrics::from([
            ("a".to_string(), 0.1 + 0.2),
            ("b".to_string(), f64::NAN),
            ("c".to_string(), 1.0 / 3.0 * 1e-300),
        ]);
        assert!(!dir.has_cell("x", 0));
        dir.write_cell("x", 0, 99, &m).expect("write");
        assert!(dir.has_cell("x", 0));
        let back = dir.read_cells("x", 1).expect("read");
        assert_eq!(back[0].0, 99);
        assert_eq!(back[0].1["a"].to_bits(), (0.1f64 + 0.2).to_bits());
        assert_eq!(back[0].1["c"].to_bits(), (1.0f64 / 3.0 * 1e-300).to_bits());
        assert!(back[0].1["b"].is_nan());
        assert!(matches!(
            dir.read_cells("x", 2),
            Err(SweepDirError::Read { .. })
        ));
    }

    #[test]
    fn a_directory_of_another_sweep_is_refused_and_the_same_sweep_resumed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s");
        SweepDir::open(&path, &manifest(&["x", "y"]), false).expect("new");
        let mut more = manifest(&["x", "y"]);
        more.replications = 5;
        let (_, resumed) = SweepDir::open(&path, &more, false).expect("same sweep, more reps");
        assert!(resumed);
        let e = SweepDir::open(&path, &manifest(&["x", "z"]), false).expect_err("another");
        assert!(e.to_string().contains("another sweep"), "{e}");
        let mut old = manifest(&["x", "y"]);
        old.depinsim_version = "0.0.9".into();
        let e = SweepDir::open(&path, &old, false).expect_err("another version");
        assert!(
            e.to_string().contains("depinsim 0.1.0, this is 0.0.9"),
            "{e}"
        );
        // Nothing of the refused sweeps was written.
        let kept: Manifest = read_json(&path.join(MANIFEST)).expect("manifest");
        assert_eq!(kept, more);
        fs::write(tmp.path().join("mine.txt"), "x").expect("write");
        let e = SweepDir::open(tmp.path(), &more, false).expect_err("not a sweep");
        assert!(e.to_string().contains("holds no sweep"), "{e}");
        assert!(tmp.path().join("mine.txt").exists());
    }
}
