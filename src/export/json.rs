//! summary.json (deterministic: no wall times, no dates) and run.json (provenance and cost).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::NANOS_PER_SEC;
use crate::metrics::MetricSummary;
use crate::scenario::Scenario;

/// The contents of summary.json.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// Master seed.
    pub seed: u64,
    /// Replications run.
    pub replications: u32,
    /// Simulated horizon, hours.
    pub horizon_h: f64,
    /// Warm-up excluded from the metrics, hours.
    pub warmup_h: f64,
    /// Every metric across replications.
    pub metrics: &'a BTreeMap<String, MetricSummary>,
}

impl<'a> Summary<'a> {
    /// The summary of a run of `s`.
    pub fn new(s: &'a Scenario, metrics: &'a BTreeMap<String, MetricSummary>) -> Self {
        let h = |t: u64| t as f64 / NANOS_PER_SEC as f64 / 3600.0;
        Self {
            scenario: s.name(),
            seed: s.seed(),
            replications: s.replications(),
            horizon_h: h(s.horizon()),
            warmup_h: h(s.warmup()),
            metrics,
        }
    }
}

/// Where a GPU class's figures came from.
#[derive(Debug, Serialize)]
pub struct ProfileUse {
    /// Class identifier.
    pub gpu: &'static str,
    /// `datasheet`, `derived` or `measured`.
    pub kind: &'static str,
    /// Citation.
    pub source: &'static str,
}

/// The contents of run.json.
#[derive(Debug, Serialize)]
pub struct RunInfo {
    /// depinsim version.
    pub version: &'static str,
    /// Scenario name.
    pub scenario: String,
    /// Scenario file as given.
    pub scenario_file: String,
    /// Master seed.
    pub seed: u64,
    /// When the run started, seconds since 1970-01-01 UTC.
    pub started_unix_s: u64,
    /// `--set` overrides applied, in order.
    pub overrides: Vec<String>,
    /// Worker threads.
    pub threads: usize,
    /// Replications run.
    pub replications: u32,
    /// Wall-clock seconds of the simulation (excluding file output).
    pub wall_s: f64,
    /// Events processed, all replications.
    pub events: u64,
    /// Events per wall-clock second.
    pub events_per_s: f64,
    /// Requests simulated, all replications.
    pub requests: u64,
    /// Requests per wall-clock second.
    pub requests_per_s: f64,
    /// GPU profiles the run used.
    pub gpu_profiles: Vec<ProfileUse>,
}

impl RunInfo {
    /// The GPU profiles used by `s`, one per class, in first-use order.
    pub fn profiles(s: &Scenario) -> Vec<ProfileUse> {
        let mut out: Vec<ProfileUse> = Vec::new();
        for p in s.pools() {
            if !out.iter().any(|u| u.gpu == p.class.id) {
                out.push(ProfileUse {
                    gpu: p.class.id,
                    kind: "datasheet",
                    source: p.class.source,
                });
            }
        }
        out
    }
}
