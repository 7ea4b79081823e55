//! Scenario files: YAML text -> serde mirror ([`raw`]) -> validated, typed [`Scenario`].
//!
//! Only this module knows YAML. Loading goes: read the file, parse it into a document,
//! apply `--set` overrides, deserialize into [`raw::RawScenario`] (collecting every unknown
//! field), then validate every value. Every problem is an [`issue::Issue`] that names the
//! YAML path, the line where it can, and the fix.

pub mod issue;
pub mod lines;
mod load;
pub mod overrides;
pub mod path;
pub mod raw;
mod shape;
mod validate;

pub use load::{LoadError, load_file, load_str, schema_json};

use crate::dist::Dist;
use crate::engine::SimTime;
use crate::model::gpu::{GpuClass, Roofline};
use raw::{RawScenario, Routing};

/// A region, validated.
#[derive(Clone, Debug)]
pub struct Region {
    /// Unique name.
    pub name: String,
    /// Offset of local time from UTC, hours.
    pub utc_offset_h: f64,
    /// Access bandwidth, bit/s.
    pub bandwidth_bps: f64,
}

/// A pool of identical GPUs in one region (a provider group), validated.
#[derive(Clone, Debug)]
pub struct Pool {
    /// Unique name.
    pub name: String,
    /// Index into [`Scenario::regions`].
    pub region: usize,
    /// GPU class from the datasheet table.
    pub class: &'static GpuClass,
    /// Number of GPUs.
    pub count: u32,
    /// Provider's cost per GPU-hour online, USD.
    pub hourly_cost_usd: f64,
    /// Users' price per busy GPU-hour, USD.
    pub price_usd_per_gpu_hour: f64,
    /// Achievable rates for the served model.
    pub roofline: Roofline,
    /// Whether the model's weights fit in one GPU's memory.
    pub fits: bool,
}

/// Users in one region, validated.
#[derive(Clone, Debug)]
pub struct UserGroup {
    /// Index into [`Scenario::regions`].
    pub region: usize,
    /// Mean request rate, per second.
    pub rate_per_s: f64,
    /// Daily cycle (amplitude, local peak hour).
    pub cycle: Option<(f64, f64)>,
}

/// A validated scenario: every value checked, every default filled.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub(crate) name: String,
    pub(crate) horizon: SimTime,
    pub(crate) warmup: SimTime,
    pub(crate) epoch: SimTime,
    pub(crate) replications: u32,
    pub(crate) seed: u64,
    pub(crate) regions: Vec<Region>,
    /// Round-trip times in seconds, row-major `regions x regions`.
    pub(crate) rtt_s: Vec<f64>,
    pub(crate) bytes_per_token: f64,
    pub(crate) pools: Vec<Pool>,
    pub(crate) users: Vec<UserGroup>,
    pub(crate) prompt: Dist,
    pub(crate) output: Dist,
    pub(crate) service: Option<Dist>,
    pub(crate) routing: Routing,
    pub(crate) max_queue_per_gpu: Option<u32>,
    pub(crate) max_rtt_s: Option<f64>,
    pub(crate) raw: RawScenario,
}

impl Scenario {
    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Master seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Number of replications.
    pub fn replications(&self) -> u32 {
        self.replications
    }
    /// Simulated horizon.
    pub fn horizon(&self) -> SimTime {
        self.horizon
    }
    /// Warm-up excluded from statistics.
    pub fn warmup(&self) -> SimTime {
        self.warmup
    }
    /// Regions.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }
    /// GPU pools.
    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }
    /// User groups.
    pub fn users(&self) -> &[UserGroup] {
        &self.users
    }
    /// The service-time override, if any.
    pub fn service_override(&self) -> Option<&Dist> {
        self.service.as_ref()
    }
    /// Round-trip time between two regions, seconds.
    pub fn rtt_s(&self, a: usize, b: usize) -> f64 {
        self.rtt_s[a * self.regions.len() + b]
    }
    /// The scenario as resolved YAML: every default filled in, so a run can be repeated.
    pub fn resolved_yaml(&self) -> String {
        serde_saphyr::to_string(&self.raw)
            .unwrap_or_else(|e| format!("# could not serialize the scenario: {e}\n"))
    }

    /// Pools that can serve users in `region`, nearest first (ties by order in the file).
    pub fn candidate_pools(&self, region: usize) -> Vec<usize> {
        let mut list: Vec<usize> = (0..self.pools.len())
            .filter(|&p| self.pools[p].fits)
            .filter(|&p| {
                self.max_rtt_s
                    .is_none_or(|m| self.rtt_s(region, self.pools[p].region) <= m)
            })
            .collect();
        list.sort_by(|&a, &b| {
            let (ra, rb) = (
                self.rtt_s(region, self.pools[a].region),
                self.rtt_s(region, self.pools[b].region),
            );
            ra.total_cmp(&rb).then(a.cmp(&b))
        });
        list
    }
}
