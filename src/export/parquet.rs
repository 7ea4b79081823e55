//! The per-epoch time series as Parquet (one row per replication and epoch), for notebooks.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;
use polars_io::parquet::write::ParquetWriter;

use crate::metrics::EpochRow;

/// Builds the time-series table.
pub fn frame(rows: &[EpochRow]) -> PolarsResult<DataFrame> {
    let col = |f: fn(&EpochRow) -> u64| rows.iter().map(f).collect::<Vec<u64>>();
    let colf = |f: fn(&EpochRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let colo = |f: fn(&EpochRow) -> Option<f64>| rows.iter().map(f).collect::<Vec<Option<f64>>>();
    df!(
        "replication" => rows.iter().map(|r| r.replication).collect::<Vec<u32>>(),
        "epoch" => rows.iter().map(|r| r.epoch).collect::<Vec<u32>>(),
        "start_h" => colf(|r| r.start_h),
        "warmup" => rows.iter().map(|r| r.warmup).collect::<Vec<bool>>(),
        "arrived_requests" => col(|r| r.arrived),
        "completed_requests" => col(|r| r.completed),
        "dropped_requests" => col(|r| r.dropped),
        "e2e_mean_s" => colo(|r| r.e2e_mean_s),
        "gpu_utilisation_ratio" => colf(|r| r.gpu_utilisation),
        "in_system_requests_mean" => colf(|r| r.in_system_mean),
        "queued_requests_at_end" => col(|r| r.queued_at_end),
        "revenue_usd" => colf(|r| r.revenue_usd),
        "gpus" => col(|r| r.gpus),
        "token_price_usd" => colo(|r| r.token_price_usd),
        "token_circulating" => colo(|r| r.token_circulating),
        "token_staked" => colo(|r| r.token_staked),
        "token_locked" => colo(|r| r.token_locked),
        "token_burned" => colo(|r| r.token_burned),
    )
}

/// Writes the time series to `path`.
pub fn write(rows: &[EpochRow], path: &Path) -> PolarsResult<()> {
    let mut df = frame(rows)?;
    let file = File::create(path)?;
    ParquetWriter::new(file).finish(&mut df)?;
    Ok(())
}

/// Reads back a time series [`write()`] wrote.
///
/// # Errors
/// The file cannot be read, or lacks a column of the right type.
pub fn read(path: &Path) -> PolarsResult<Vec<EpochRow>> {
    use polars_io::SerReader;
    let df = polars_io::parquet::read::ParquetReader::new(File::open(path)?).finish()?;
    let n = df.height();
    let u32s = |name: &str| -> PolarsResult<Vec<u32>> {
        let c = df.column(name)?.u32()?;
        Ok((0..n).map(|i| c.get(i).unwrap_or(0)).collect())
    };
    let u64s = |name: &str| -> PolarsResult<Vec<u64>> {
        let c = df.column(name)?.u64()?;
        Ok((0..n).map(|i| c.get(i).unwrap_or(0)).collect())
    };
    let f64s = |name: &str| -> PolarsResult<Vec<Option<f64>>> {
        let c = df.column(name)?.f64()?;
        Ok((0..n).map(|i| c.get(i)).collect())
    };
    let warmup: Vec<bool> = {
        let c = df.column("warmup")?.bool()?;
        (0..n).map(|i| c.get(i).unwrap_or(false)).collect()
    };
    let (replication, epoch) = (u32s("replication")?, u32s("epoch")?);
    let (start_h, e2e, util, in_system, revenue) = (
        f64s("start_h")?,
        f64s("e2e_mean_s")?,
        f64s("gpu_utilisation_ratio")?,
        f64s("in_system_requests_mean")?,
        f64s("revenue_usd")?,
    );
    let (arrived, completed, dropped, queued, gpus) = (
        u64s("arrived_requests")?,
        u64s("completed_requests")?,
        u64s("dropped_requests")?,
        u64s("queued_requests_at_end")?,
        u64s("gpus")?,
    );
    let (price, circulating, staked, locked, burned) = (
        f64s("token_price_usd")?,
        f64s("token_circulating")?,
        f64s("token_staked")?,
        f64s("token_locked")?,
        f64s("token_burned")?,
    );
    Ok((0..n)
        .map(|i| EpochRow {
            replication: replication[i],
            epoch: epoch[i],
            start_h: start_h[i].unwrap_or(f64::NAN),
            warmup: warmup[i],
            arrived: arrived[i],
            dropped: dropped[i],
            completed: completed[i],
            e2e_mean_s: e2e[i],
            gpu_utilisation: util[i].unwrap_or(f64::NAN),
            in_system_mean: in_system[i].unwrap_or(f64::NAN),
            queued_at_end: queued[i],
            revenue_usd: revenue[i].unwrap_or(f64::NAN),
            gpus: gpus[i],
            token_price_usd: price[i],
            token_circulating: circulating[i],
            token_staked: staked[i],
            token_locked: locked[i],
            token_burned: burned[i],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars_io::SerReader;
    use polars_io::parquet::read::ParquetReader;

    #[test]
    fn round_trips_through_parquet() {
        let row = |epoch, e2e| EpochRow {
            replication: 1,
            epoch,
            start_h: f64::from(epoch),
            warmup: epoch == 0,
            arrived: 10,
            dropped: 1,
            completed: 9,
            e2e_mean_s: e2e,
            gpu_utilisation: 0.5,
            in_system_mean: 2.0,
            queued_at_end: 3,
            revenue_usd: 1.25,
            gpus: 4,
            token_price_usd: e2e,
            token_circulating: None,
            token_staked: None,
            token_locked: None,
            token_burned: None,
        };
        let rows = vec![row(0, None), row(1, Some(0.25))];
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("ts.parquet");
        write(&rows, &path).expect("write");
        let df = ParquetReader::new(File::open(&path).expect("open"))
            .finish()
            .expect("read");
        assert_eq!(df.height(), 2);
        assert_eq!(df.width(), 18);
        let e2e = df.column("e2e_mean_s").expect("column");
        assert_eq!(e2e.null_count(), 1);
        assert_eq!(e2e.f64().expect("f64").get(1), Some(0.25));
        assert_eq!(read(&path).expect("read back"), rows);
    }
}
