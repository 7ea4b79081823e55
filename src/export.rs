//! Files: the only module that writes them and knows their formats. A run's output
//! directory is written whole or not at all ([`run`], on [`outdir`]); a single file, such as
//! a calibration profile, is written beside its target and renamed into place ([`mod@file`],
//! [`profile`]). [`json`] holds the records of summary.json and run.json, [`parquet`] the
//! time series. A sweep's directory ([`sweep`]) is its state as well as its results: its
//! cells are written as they finish and read back to assemble [`sweep_results`].

pub mod baseline;
pub mod check;
pub mod file;
pub mod json;
pub mod outdir;
pub mod parquet;
pub mod profile;
pub mod report;
pub mod run;
pub mod sweep;
pub mod sweep_results;
