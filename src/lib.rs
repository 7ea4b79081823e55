//! depinsim: a discrete-event simulator of the economics of decentralized GPU compute
//! networks (DePIN).
//!
//! Data flows one way:
//!
//! ```text
//! scenario.yaml --scenario--> Scenario --sim::World on core::engine--> events
//!      --metrics::Recorder--> per-replication metrics --experiment (rayon)--> summaries
//!      --export--> summary.json, run.json, timeseries.parquet, scenario.resolved.yaml
//!      --report--> the viability table and the headline
//! ```
//!
//! The modules are layers, each importing only from those below it (ARCHITECTURE.md):
//! [`core`], [`metrics`], [`physics`], [`economics`], [`calibration`], [`scenario`], [`sim`],
//! [`experiment`], [`export`], [`report`] and [`cli`].
//!
//! A run from code:
//!
//! ```
//! use depinsim::scenario::load_str;
//! use depinsim::experiment::run_replication;
//! use depinsim::metrics::names;
//!
//! let yaml = "
//! simulation: {horizon_h: 0.2, warmup_h: 0.05}
//! regions: [{name: us-east}]
//! providers: [{name: dc, region: us-east, gpu: h100_sxm, count: 4, hourly_cost_usd: 1.5}]
//! inference: {users: [{region: us-east, rate_per_s: 2}]}
//! ";
//! let scenario = load_str(yaml, "example", "example", &[]).expect("valid scenario");
//! let out = run_replication(&scenario, 0);
//! assert!(out.metrics[names::inference::COMPLETED_REQUESTS] > 0.0);
//! ```
#![warn(missing_docs)]

pub mod calibration;
pub mod cli;
pub mod core;
pub mod economics;
pub mod experiment;
pub mod export;
pub mod metrics;
pub mod physics;
pub mod report;
pub mod scenario;
pub mod sim;
