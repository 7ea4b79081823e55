//! depinsim: a discrete-event simulator of the economics of decentralized GPU compute
//! networks (DePIN).
//!
//! Data flows one way:
//!
//! ```text
//! scenario.yaml --scenario--> Scenario --model::World + engine--> events
//!      --metrics::Recorder--> per-replication metrics --experiment (rayon)--> summaries
//!      --export--> summary.json, run.json, timeseries.parquet, scenario.resolved.yaml
//! ```
//!
//! A run from code:
//!
//! ```
//! use depinsim::scenario::load_str;
//! use depinsim::experiment::run_replication;
//!
//! let yaml = "
//! simulation: {horizon_h: 0.2, warmup_h: 0.05}
//! regions: [{name: us-east}]
//! providers: [{name: dc, region: us-east, gpu: h100_sxm, count: 4, hourly_cost_usd: 1.5}]
//! inference: {users: [{region: us-east, rate_per_s: 2}]}
//! ";
//! let scenario = load_str(yaml, "example", "example", &[]).expect("valid scenario");
//! let out = run_replication(&scenario, 0);
//! assert!(out.metrics["inference.completed_requests.count"] > 0.0);
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
