//! Measurement: streaming statistics while a replication runs (never a vector of every
//! request), and summaries across replications with confidence intervals.

pub mod difference;
pub mod hist;
pub mod names;
pub mod recorder;
pub mod regression;
pub mod self_test;
pub mod sensitivity;
pub mod summary;

pub use hist::LatencyHist;
pub use recorder::{EpochRow, Recorder};
pub use summary::{MetricSummary, Metrics, aggregate};
