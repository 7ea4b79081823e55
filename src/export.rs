//! Files: the output directory (written whole or not at all), summary.json, run.json and
//! timeseries.parquet. Only this module knows file formats.

pub mod json;
pub mod outdir;
pub mod parquet;
