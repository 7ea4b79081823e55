//! summary.json (deterministic: no wall times, no dates) and run.json (provenance and cost).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::core::engine::NANOS_PER_SEC;
use crate::metrics::MetricSummary;
use crate::physics::formats::{Matmul, WeightFormat};
use crate::physics::rates::Rates;
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

/// summary.json's text, as `run` writes it (the exact tier of `check` hashes it).
///
/// # Errors
/// What serde_json refused.
pub fn summary_text(
    s: &Scenario,
    metrics: &BTreeMap<String, MetricSummary>,
) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string_pretty(&Summary::new(s, metrics))? + "\n")
}

/// The efficiency factors a class's datasheet peaks were scaled by.
#[derive(Debug, Serialize)]
pub struct EfficiencyUse {
    /// Share of the datasheet BF16 FLOP/s.
    pub compute: f64,
    /// Share of the datasheet memory bandwidth.
    pub memory: f64,
    /// `measured` (on a device of this class), `assumed` (measured on another class and
    /// carried over) or `scenario` (given in the scenario).
    pub basis: &'static str,
}

/// Where a GPU class's figures came from.
#[derive(Debug, Serialize)]
pub struct ProfileUse {
    /// Class identifier.
    pub gpu: &'static str,
    /// `datasheet` (peaks x the scenario's efficiency factors), or a profile's source:
    /// `measured`, `derived`, `datasheet profile`.
    pub kind: &'static str,
    /// The profile file, or the datasheet's citation.
    pub source: String,
    /// Achieved FLOP/s of prefill steps, per GPU.
    pub prefill_flops: f64,
    /// Achieved decode bandwidth at batch 1, bytes/s per GPU.
    pub decode_bytes_per_s: f64,
    /// Achieved KV-cache read rate (a profile's attention curve at the model's context),
    /// bytes/s per GPU; absent: KV reads run at the decode bandwidth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_bytes_per_s: Option<f64>,
    /// The products of a model not stored in BF16: their precision on this class and their
    /// FLOP/s (absent for a BF16 model, whose products run at `prefill_flops`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matmul: Option<MatmulUse>,
    /// Lookups outside the profile's measured grid, clamped to its nearest point.
    pub clamped: Vec<String>,
    /// The efficiency factors, when the figures are datasheet peaks times them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub efficiency: Option<EfficiencyUse>,
    /// Whether the class is the cloud reference's (and no provider group's).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cloud_only: bool,
}

/// The precision a class multiplies the served model's weights at, and how fast.
#[derive(Debug, Serialize)]
pub struct MatmulUse {
    /// The served model's `weight_format`.
    pub weight_format: &'static str,
    /// The precision of the products on this class: the format's (`fp8`, `int8`) or `bf16`
    /// (weight-only formats, and FP8 on a class without FP8 tensor cores).
    pub precision: &'static str,
    /// Achieved FLOP/s of prefill steps at that precision, per GPU.
    pub prefill_flops: f64,
    /// How an FP8 or INT8 rate follows from the datasheet or the profile (it is derived,
    /// not measured, for a profile); absent at BF16.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<&'static str>,
}

impl MatmulUse {
    /// How `rates` multiply weights stored in `format`; None for BF16 weights.
    pub fn of(rates: &Rates, format: WeightFormat) -> Option<Self> {
        let precision = rates.serving_matmul(format);
        (format != WeightFormat::Bf16).then(|| Self {
            weight_format: format.label(),
            precision: precision.label(),
            prefill_flops: rates.serving_flops(format),
            basis: (precision != Matmul::Bf16).then_some(rates.low_precision.basis),
        })
    }
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
    /// The resolved scenario's SHA-256 without its replication count
    /// (`Scenario::identity`).
    pub scenario_identity: String,
    /// The scenario file's opening comment: its question and sources.
    pub question: Option<String>,
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
    /// How each provider group serves the model.
    pub serving: Vec<ServingPlan>,
}

/// How one provider group serves the model, for run.json and `validate`.
#[derive(Debug, Serialize)]
pub struct ServingPlan {
    /// Provider group.
    pub pool: String,
    /// GPUs per replica, every pipeline stage's together (tensor parallel inside each host);
    /// None when the group cannot serve.
    pub tensor_parallel: Option<u32>,
    /// Pipeline stages (hosts) of one replica, when it spans more than one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_stages: Option<u32>,
    /// Replicas the group holds.
    pub replicas: u32,
    /// KV-cache capacity of one replica, tokens (None: not modelled, drawn service times).
    pub kv_cache_tokens: Option<u64>,
    /// Requests of the mean size one replica holds at once (batch and KV-cache limits).
    pub batch_at_mean_request: f64,
    /// Requests per second the group completes with full batches, at the mean request.
    pub capacity_rps: f64,
    /// Why the group cannot serve the model, if it cannot.
    pub unfit: Option<String>,
    /// How the group multiplies a model not stored in BF16 (absent for BF16 weights).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matmul: Option<MatmulUse>,
}

impl ServingPlan {
    /// The plans of every group of `s`.
    pub fn of(s: &Scenario) -> Vec<Self> {
        let (prompt, output) = (s.prompt.mean(), s.output.mean().max(1.0));
        s.pools()
            .iter()
            .map(|p| match (&p.serving, s.service_override()) {
                (Ok(sv), drawn) => Self {
                    pool: p.name.clone(),
                    tensor_parallel: Some(sv.tp),
                    pipeline_stages: (sv.stages() > 1).then(|| sv.stages()),
                    replicas: sv.replicas,
                    kv_cache_tokens: drawn.is_none().then_some(sv.kv_capacity_tokens),
                    batch_at_mean_request: if drawn.is_some() {
                        1.0
                    } else {
                        sv.batch_limit(prompt + output)
                    },
                    capacity_rps: match drawn {
                        Some(d) => f64::from(sv.replicas) / d.mean(),
                        None => sv.capacity_rps(prompt, output),
                    },
                    unfit: None,
                    matmul: MatmulUse::of(&p.rates, s.model().weight_format),
                },
                (Err(u), _) => Self {
                    pool: p.name.clone(),
                    tensor_parallel: None,
                    pipeline_stages: None,
                    replicas: 0,
                    kv_cache_tokens: None,
                    batch_at_mean_request: 0.0,
                    capacity_rps: 0.0,
                    unfit: Some(format!(
                        "the model and one full-context KV cache need {:.1} GB; a replica of {} GPU(s) of one host has {:.1} GB usable",
                        u.need_gb, u.gpus, u.have_gb
                    )),
                    matmul: None,
                },
            })
            .collect()
    }
}

/// What a run cost: when it started, how long it took, what it processed.
#[derive(Clone, Copy, Debug)]
pub struct RunCost {
    /// When the run started, seconds since 1970-01-01 UTC.
    pub started_unix_s: u64,
    /// Wall-clock seconds of the simulation (excluding file output).
    pub wall_s: f64,
    /// Events processed, all replications.
    pub events: u64,
    /// Requests simulated, all replications.
    pub requests: u64,
}

impl RunInfo {
    /// The record of a run of `s`, read from `scenario_file` with `overrides` applied (as
    /// given, in order), on `threads` worker threads.
    pub fn new(
        s: &Scenario,
        scenario_file: &Path,
        overrides: Vec<String>,
        threads: usize,
        cost: RunCost,
    ) -> Self {
        let per_s = |n: u64| n as f64 / cost.wall_s.max(1e-9);
        Self {
            version: env!("CARGO_PKG_VERSION"),
            scenario: s.name().to_string(),
            scenario_file: scenario_file.display().to_string(),
            scenario_identity: s.identity().to_string(),
            question: s.question().map(str::to_string),
            seed: s.seed(),
            started_unix_s: cost.started_unix_s,
            overrides,
            threads,
            replications: s.replications(),
            wall_s: cost.wall_s,
            events: cost.events,
            events_per_s: per_s(cost.events),
            requests: cost.requests,
            requests_per_s: per_s(cost.requests),
            gpu_profiles: Self::profiles(s),
            serving: ServingPlan::of(s),
        }
    }

    /// The GPU profiles used by `s`, one per class, in first-use order: the provider
    /// groups', then the cloud reference's if no group has its class.
    pub fn profiles(s: &Scenario) -> Vec<ProfileUse> {
        let mut out: Vec<ProfileUse> = Vec::new();
        let cloud = s.cloud();
        let classes = s.pools().iter().map(|p| (p.class.id, &p.rates, false));
        let cloud = cloud.rates.as_ref().map(|r| (cloud.class.id, r, true));
        for (gpu, rates, cloud_only) in classes.chain(cloud) {
            if !out.iter().any(|u| u.gpu == gpu) {
                out.push(ProfileUse {
                    gpu,
                    kind: rates.kind,
                    source: rates.origin.clone(),
                    prefill_flops: rates.flops,
                    decode_bytes_per_s: rates.bytes_per_s,
                    kv_bytes_per_s: rates.kv_bytes_per_s,
                    matmul: MatmulUse::of(rates, s.model().weight_format),
                    clamped: rates.clamped.clone(),
                    efficiency: rates.efficiency.map(|e| EfficiencyUse {
                        compute: e.compute,
                        memory: e.memory,
                        basis: e.basis.label(),
                    }),
                    cloud_only,
                });
            }
        }
        out
    }
}

#[cfg(test)]
impl RunInfo {
    /// A run of 4 replications of `scenario` at seed 7 with made-up cost figures, for tests.
    pub(crate) fn example(scenario: &str) -> Self {
        Self {
            version: "0.0.0",
            scenario: scenario.into(),
            scenario_file: format!("{scenario}.yaml"),
            scenario_identity: "0".repeat(64),
            question: Some("What does it cost?".into()),
            seed: 7,
            started_unix_s: 0,
            overrides: Vec::new(),
            threads: 2,
            replications: 4,
            wall_s: 1.3,
            events: 1000,
            events_per_s: 800.0,
            requests: 12_345,
            requests_per_s: 9876.0,
            gpu_profiles: Vec::new(),
            serving: Vec::new(),
        }
    }
}
