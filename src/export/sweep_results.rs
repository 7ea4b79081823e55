//! The files a sweep assembles at the end, variant by variant in the design's order so that
//! memory holds one variant at a time: `results.parquet` (tidy: one row per variant,
//! replication and metric, with a column per swept field) and `compare.json` (every metric
//! of every variant against the baseline, paired). `run`'s `replications.parquet` is the
//! same table for one scenario, without the variant columns.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_io::parquet::write::{BatchedWriter, ParquetWriter};
use serde::Serialize;
use serde_json::Value;

use super::file::{StreamedFile, WriteError, partial};
use super::sweep::{Manifest, SweepDir, VariantEntry};
use crate::metrics::Metrics;
use crate::metrics::difference::{Difference, Pairing};

fn parquet_err(path: &Path) -> impl FnOnce(PolarsError) -> WriteError + '_ {
    move |source| WriteError::Parquet {
        path: path.to_path_buf(),
        source,
    }
}

/// The long table of one scenario's replications: replication, seed, metric, value (null
/// where the metric was not defined), in replication then metric order.
pub fn replications_frame(cells: &[(u64, Metrics)]) -> PolarsResult<DataFrame> {
    let rows = cells.iter().map(|c| c.1.len()).sum::<usize>();
    let (mut rep, mut seed, mut metric, mut value) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    for (r, (s, m)) in cells.iter().enumerate() {
        for (k, v) in m {
            rep.push(r as u32);
            seed.push(*s);
            metric.push(k.as_str());
            value.push(v.is_finite().then_some(*v));
        }
    }
    df!(
        "replication" => rep,
        "seed" => seed,
        "metric" => metric,
        "value" => value,
    )
}

/// Writes `run`'s replications.parquet.
///
/// # Errors
/// What polars or the file system refused.
pub fn write_replications(cells: &[(u64, Metrics)], path: &Path) -> PolarsResult<()> {
    let mut df = replications_frame(cells)?;
    ParquetWriter::new(File::create(path)?).finish(&mut df)?;
    Ok(())
}

/// Reads a replications.parquet `run` wrote: each replication's seed and metrics, in order.
///
/// # Errors
/// The file cannot be read or is not such a table.
pub fn read_replications(path: &Path) -> PolarsResult<Vec<(u64, Metrics)>> {
    use polars_io::SerReader;
    let df = polars_io::parquet::read::ParquetReader::new(File::open(path)?).finish()?;
    let rep = df.column("replication")?.u32()?;
    let seed = df.column("seed")?.u64()?;
    let metric = df.column("metric")?.str()?;
    let value = df.column("value")?.f64()?;
    let mut out: Vec<(u64, Metrics)> = Vec::new();
    for i in 0..df.height() {
        let (Some(r), Some(s), Some(k)) = (rep.get(i), seed.get(i), metric.get(i)) else {
            continue;
        };
        let r = r as usize;
        while out.len() <= r {
            out.push((s, Metrics::new()));
        }
        out[r].0 = s;
        out[r]
            .1
            .insert(k.to_string(), value.get(i).unwrap_or(f64::NAN));
    }
    Ok(out)
}

/// How a swept field is stored: numbers as Float64, anything else as its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AxisColumn {
    Number,
    Text,
}

/// Rows gathered before they are written as one row group: a few MB in memory, and few
/// enough row groups that the file's metadata (held until the file is closed) stays small
/// whatever the number of variants.
const ROW_GROUP_ROWS: usize = 1 << 17;

/// results.parquet, written a variant at a time and renamed into place when finished.
pub struct ResultsWriter {
    target: PathBuf,
    tmp: PathBuf,
    axes: Vec<(String, AxisColumn)>,
    writer: Option<BatchedWriter<File>>,
    /// Rows not yet written.
    pending: Option<DataFrame>,
}

impl ResultsWriter {
    /// Starts results.parquet in `dir` for the variants of `manifest`.
    pub fn new(dir: &SweepDir, manifest: &Manifest) -> Self {
        let axes = manifest
            .axes
            .iter()
            .map(|a| {
                let numeric = manifest
                    .variants
                    .iter()
                    .all(|v| v.params.get(a).is_none_or(Value::is_number));
                let kind = if numeric {
                    AxisColumn::Number
                } else {
                    AxisColumn::Text
                };
                (a.clone(), kind)
            })
            .collect();
        let target = dir.file_path("results.parquet");
        Self {
            tmp: partial(&target),
            target,
            axes,
            writer: None,
            pending: None,
        }
    }

    /// Appends the rows of one variant.
    ///
    /// # Errors
    /// What polars or the file system refused.
    pub fn add(&mut self, v: &VariantEntry, cells: &[(u64, Metrics)]) -> Result<(), WriteError> {
        let mut df = replications_frame(cells).map_err(parquet_err(&self.target))?;
        let rows = df.height();
        let mut columns = vec![
            Column::new("variant".into(), vec![v.label.as_str(); rows]),
            Column::new("variant_id".into(), vec![v.id.as_str(); rows]),
        ];
        for (name, kind) in &self.axes {
            let value = v.params.get(name);
            columns.push(match kind {
                AxisColumn::Number => {
                    Column::new(name.into(), vec![value.and_then(Value::as_f64); rows])
                }
                AxisColumn::Text => {
                    let text = value.map(|v| match v {
                        Value::String(s) => s.clone(),
                        v => v.to_string(),
                    });
                    Column::new(name.into(), vec![text; rows])
                }
            });
        }
        let err = parquet_err(&self.target);
        let mut front = DataFrame::new(rows, columns).map_err(parquet_err(&self.target))?;
        front.hstack_mut(df.columns()).map_err(err)?;
        df = front;
        match &mut self.pending {
            Some(p) => {
                p.vstack_mut(&df).map_err(parquet_err(&self.target))?;
            }
            None => self.pending = Some(df),
        }
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.height() >= ROW_GROUP_ROWS)
        {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the pending rows as one row group.
    fn flush(&mut self) -> Result<(), WriteError> {
        let Some(mut df) = self.pending.take() else {
            return Ok(());
        };
        df.rechunk_mut();
        if self.writer.is_none() {
            let file = File::create(&self.tmp).map_err(|source| WriteError::Io {
                path: self.tmp.clone(),
                source,
            })?;
            let w = ParquetWriter::new(file)
                .batched(df.schema())
                .map_err(parquet_err(&self.target))?;
            self.writer = Some(w);
        }
        if let Some(w) = &mut self.writer {
            w.write_batch(&df).map_err(parquet_err(&self.target))?;
        }
        Ok(())
    }

    /// Closes the file and renames it over results.parquet.
    ///
    /// # Errors
    /// What polars or the file system refused.
    pub fn finish(mut self) -> Result<(), WriteError> {
        self.flush()?;
        if let Some(w) = self.writer.take() {
            w.finish().map_err(parquet_err(&self.target))?;
            std::fs::rename(&self.tmp, &self.target).map_err(|source| WriteError::Io {
                path: self.target.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

impl Drop for ResultsWriter {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A variant as compare.json names it.
#[derive(Debug, Serialize)]
pub struct Named<'a> {
    /// Position in the design.
    pub index: usize,
    /// Label.
    pub label: &'a str,
    /// Identity.
    pub id: &'a str,
}

/// compare.json, written a variant at a time.
pub struct CompareWriter {
    file: StreamedFile,
    first: bool,
}

impl CompareWriter {
    /// Starts compare.json with the baseline and how the variants are paired with it.
    ///
    /// # Errors
    /// What the file system refused.
    pub fn new(dir: &SweepDir, baseline: Named<'_>, pairing: Pairing) -> Result<Self, WriteError> {
        let mut file = dir.stream("compare.json")?;
        let head = serde_json::json!({"baseline": baseline, "pairing": pairing});
        let head = head.to_string();
        // The object without its closing brace, then the list of variants.
        file.write(head.get(..head.len() - 1).unwrap_or_default().as_bytes())?;
        file.write(b",\"variants\":[\n")?;
        Ok(Self { file, first: true })
    }

    /// Adds one variant's differences, one line.
    ///
    /// # Errors
    /// What the file system refused.
    pub fn add(
        &mut self,
        v: Named<'_>,
        metrics: &std::collections::BTreeMap<String, Difference>,
    ) -> Result<(), WriteError> {
        #[derive(Serialize)]
        struct Row<'a> {
            #[serde(flatten)]
            variant: Named<'a>,
            metrics: &'a std::collections::BTreeMap<String, Difference>,
        }
        let line = serde_json::to_string(&Row {
            variant: v,
            metrics,
        })
        .map_err(|source| WriteError::Json {
            path: "compare.json".into(),
            source,
        })?;
        if !self.first {
            self.file.write(b",\n")?;
        }
        self.first = false;
        self.file.write(line.as_bytes())
    }

    /// Closes the list and renames the file into place.
    ///
    /// # Errors
    /// What the file system refused.
    pub fn finish(mut self) -> Result<(), WriteError> {
        self.file.write(b"\n]}\n")?;
        self.file.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars_io::SerReader;
    use polars_io::parquet::read::ParquetReader;

    #[test]
    fn the_long_table_has_a_row_per_replication_and_metric() {
        let cells = vec![
            (
                11,
                Metrics::from([("a".into(), 1.0), ("b".into(), f64::NAN)]),
            ),
            (12, Metrics::from([("a".into(), 2.0), ("b".into(), 3.0)])),
        ];
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("r.parquet");
        write_replications(&cells, &path).expect("write");
        let df = ParquetReader::new(File::open(&path).expect("open"))
            .finish()
            .expect("read");
        assert_eq!(df.height(), 4);
        let value = df.column("value").expect("value");
        assert_eq!(value.null_count(), 1);
        let seed = df.column("seed").expect("seed").u64().expect("u64");
        assert_eq!(seed.get(3), Some(12));
        // ... and reads back as it was written, replication by replication.
        let back = read_replications(&path).expect("read back");
        assert_eq!(back.len(), 2);
        assert_eq!((back[0].0, back[1].0), (11, 12));
        assert_eq!(back[1].1, cells[1].1);
        assert!(back[0].1["b"].is_nan() && back[0].1["a"] == 1.0);
    }
}
