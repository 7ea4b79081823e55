//! What a replication holds in memory, estimated from a validated scenario before it runs,
//! so that a run too large for the machine is refused with the estimate and its largest
//! part instead of being killed part-way (issue 13).
//!
//! Each part is a count the scenario fixes times the bytes of the structures the simulation
//! allocates for one of it, taken with `size_of` of the real types (each module states its
//! own, beside its fields), so the estimate follows the code. What it counts:
//! - per provider group: its pool state, marks and windows, its station, failure stream,
//!   supply and token state; per user group and pool it may use, a candidate;
//! - per GPU, only what exists per GPU: a failure clock for every GPU of a group with a
//!   Weibull shape, and a pending repair for each GPU expected to be offline; replicas exist
//!   only once they open (`inference/station.rs`), so an idle card costs nothing;
//! - requests in flight at the busiest (their slab slots, places in a queue or a replica's
//!   batch, events) and the replicas holding them: see [`requests_in_flight`];
//! - the latency histograms, time-series rows, jobs (waiting, running, their failures'
//!   events) and the metrics a replication ends with.
//!
//! The estimate is of memory the simulation touches. Vectors that grow by doubling are
//! counted at their length: a large one is mapped pages that are resident only once written.
//! For the same reason a queue's first places, reserved when its group is made (up to
//! 65,536 of 4 bytes), count only once requests fill them: they are address space
//! (`RLIMIT_AS` counts it, as it counts each thread's stack and allocator arena), not
//! memory in use.

use crate::core::engine::queued_event_bytes;
use crate::core::units::SECONDS_PER_HOUR;
use crate::metrics::{EpochRow, LatencyHist};
use crate::scenario::Scenario;

use super::event::Event;
use super::inference::sizes as inference;
use super::pool::{PoolDelta, PoolMark, PoolState};
use super::replica::{RUNNING_BYTES, Work};

/// What a run holds besides its replications: the binary and its libraries, the thread
/// pool, the scenario and the Parquet writer. A one-replication run of the quickstart over
/// 72 simulated seconds peaks at 25 MiB resident on x86-64 Linux (`/usr/bin/time -v`), of
/// which the estimate of its replication is 3.9 MiB.
pub const PROCESS_BYTES: u64 = 22 << 20;

/// Copies of a finished replication's metrics and time-series rows a run holds at its end:
/// the outputs, the copies the summary and the time series are made from, and the
/// Parquet tables written from them (`commands/run.rs`).
pub const KEPT_COPIES: u64 = 3;

/// Upper bounds on the metrics a replication ends with: fixed ones, and per user region,
/// provider group and job class (counted in the summary.json of the shipped scenarios,
/// token metrics included, and rounded up).
const METRICS_FIXED: u64 = 150;
const METRICS_PER_REGION: u64 = 20;
const METRICS_PER_GROUP: u64 = 25;
const METRICS_PER_JOB_CLASS: u64 = 30;

/// One metric in a replication's map: its name and value in a B-tree node (nodes are at
/// least half full, so up to twice their entries' size) and the name's bytes on the heap
/// (about 32 characters, in a 48-byte allocation).
const METRIC_BYTES: u64 = 2 * (size_of::<String>() + size_of::<f64>()) as u64 + 48;

/// How far the requests in flight exceed Little's law at the peak rate (see
/// [`requests_in_flight`]): twice, for queueing and for the Poisson peaks above the mean.
const IN_FLIGHT_MARGIN: f64 = 2.0;

/// One part of a replication's memory: `count` things of `each` bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// What is counted, in words ("requests in flight").
    pub what: &'static str,
    /// How many.
    pub count: u64,
    /// Bytes each.
    pub each: u64,
    /// What makes it smaller, for the message that refuses a run.
    pub fix: &'static str,
}

impl Part {
    /// Bytes of the part (saturating).
    pub fn bytes(&self) -> u64 {
        self.count.saturating_mul(self.each)
    }
}

/// A replication's memory, part by part, and what the run keeps of it once it ends.
#[derive(Clone, Debug, PartialEq)]
pub struct Footprint {
    /// What one replication holds at its peak.
    pub parts: Vec<Part>,
    /// Bytes a finished replication hands back and the run keeps until its end: its
    /// metrics and time-series rows.
    pub kept: u64,
    /// Bytes of the scenario itself, shared by the replications.
    pub shared: u64,
}

impl Footprint {
    /// The estimate for scenario `s`.
    pub fn of(s: &Scenario) -> Self {
        let groups = s.pools().len() as u64;
        let regions = s.regions().len() as u64;
        let users = s.users().len() as u64;
        let event = queued_event_bytes::<Event>() as u64;
        let in_flight = requests_in_flight(s);
        let slots: u64 = s
            .pools()
            .iter()
            .filter_map(|p| p.serving.ok())
            .map(|plan| u64::from(plan.replicas).saturating_mul(u64::from(plan.max_batch)))
            .fold(0, u64::saturating_add);
        let batched = s.service_override().is_none();
        let replicas: u64 = s
            .pools()
            .iter()
            .filter_map(|p| p.serving.ok())
            .map(|plan| u64::from(plan.replicas))
            .sum();
        // A batching replica that has served keeps its prefill queue and batch, at least
        // four places each (a vector's first allocation); a request in it has its places
        // there (counted twice: they grow by doubling) and up to two events of its replica.
        // With drawn times a replica serves one request, whose end is its one event.
        let (replica_queues, in_replica) = if batched {
            let places = (size_of::<Work>() + RUNNING_BYTES) as u64;
            (4 * places, 2 * places + 2 * event)
        } else {
            (0, event)
        };
        let (clocks, repairs) = failure_events(s);
        let epochs = (s.horizon().div_ceil(s.epoch.max(1))).max(1);
        let hist = LatencyHist::heap_bytes() as u64;
        let metrics = metric_count(s);
        let (jobs, job_failures) = job_counts(s);
        let parts = vec![
            Part {
                what: "requests in flight at the busiest",
                count: in_flight,
                each: inference::REQUEST as u64,
                fix: "lower request rates (inference.users[].rate_per_s), a shorter horizon, or bounded queues (inference.max_queue_per_gpu)",
            },
            Part {
                what: "of them in replicas (at most the replicas' batches)",
                count: in_flight.min(slots),
                each: in_replica,
                fix: "lower request rates (inference.users[].rate_per_s), a shorter horizon, or bounded queues (inference.max_queue_per_gpu)",
            },
            Part {
                what: "replicas that opened (at most the requests in flight)",
                count: replicas.min(in_flight),
                each: inference::REPLICA as u64 + replica_queues,
                fix: "lower request rates (inference.users[].rate_per_s), a shorter horizon, or bounded queues (inference.max_queue_per_gpu)",
            },
            Part {
                what: "failure clocks (one per GPU of a group with a Weibull failure_shape)",
                count: clocks,
                each: event,
                fix: "fewer GPUs (providers[].count, max_count) in groups with a Weibull failure_shape, or failure_shape 1 (one clock per group)",
            },
            Part {
                what: "repairs pending (GPUs offline after a failure)",
                count: repairs,
                each: event,
                fix: "fewer GPUs (providers[].count, max_count) or shorter repairs (repair_h)",
            },
            Part {
                what: "provider groups",
                count: groups,
                each: group_bytes(s),
                fix: "fewer provider groups",
            },
            Part {
                what: "user groups and the pools each may use",
                count: users.saturating_mul(groups.max(1)),
                each: (inference::CANDIDATE + inference::USER_GROUP) as u64,
                fix: "fewer user groups or provider groups",
            },
            Part {
                what: "latency histograms (TTFT, TPOT, end to end: per region, overall)",
                count: 3 * (regions + 2),
                each: hist + size_of::<LatencyHist>() as u64,
                fix: "fewer regions",
            },
            Part {
                what: "time-series rows",
                count: epochs,
                each: size_of::<EpochRow>() as u64,
                fix: "a longer simulation.epoch_h or a shorter horizon",
            },
            Part {
                what: "jobs (waiting or running)",
                count: jobs,
                each: super::jobs::BYTES_PER_JOB as u64,
                fix: "fewer job arrivals (training[].arrivals_per_day) or a shorter horizon",
            },
            Part {
                what: "job failures scheduled",
                count: job_failures,
                each: event,
                fix: "fewer job arrivals or GPUs per job, or a shorter horizon",
            },
            Part {
                what: "metrics",
                count: metrics,
                each: METRIC_BYTES,
                fix: "fewer provider groups, regions or job classes",
            },
        ];
        let kept = metrics
            .saturating_mul(METRIC_BYTES)
            .saturating_add(epochs.saturating_mul(size_of::<EpochRow>() as u64));
        let shared = groups.saturating_mul(size_of::<crate::scenario::Pool>() as u64 + 64);
        Self {
            parts,
            kept,
            shared,
        }
    }

    /// Bytes one replication holds at its peak.
    pub fn replication(&self) -> u64 {
        self.parts
            .iter()
            .fold(0u64, |sum, p| sum.saturating_add(p.bytes()))
    }

    /// Bytes of a run of `replications` replications, `in_flight` of them at once: the
    /// process, the scenario, each replication in flight at its peak, and [`KEPT_COPIES`] of
    /// what every finished one hands back.
    pub fn run(&self, in_flight: usize, replications: u32) -> u64 {
        PROCESS_BYTES
            .saturating_add(self.shared)
            .saturating_add(self.replication().saturating_mul(in_flight as u64))
            .saturating_add(
                self.kept
                    .saturating_mul(KEPT_COPIES)
                    .saturating_mul(u64::from(replications)),
            )
    }

    /// The largest part.
    pub fn largest(&self) -> Option<&Part> {
        self.parts.iter().max_by_key(|p| p.bytes())
    }
}

/// Bytes one replication of `s` holds at its peak ([`Footprint::replication`]).
pub fn replication_bytes(s: &Scenario) -> u64 {
    Footprint::of(s).replication()
}

/// Bytes per provider group: its state in the world (the pool, its warm-up and time-series
/// marks, the two windows of the end), in inference, reliability and supply, and with a
/// token in the token economy and its ledger.
fn group_bytes(s: &Scenario) -> u64 {
    let world = size_of::<PoolState>() + 2 * size_of::<PoolMark>() + 2 * size_of::<PoolDelta>();
    let token = if s.token().is_some() {
        super::tokens::BYTES_PER_GROUP
    } else {
        0
    };
    (world
        + inference::GROUP
        + super::reliability::BYTES_PER_GROUP
        + super::supply::BYTES_PER_GROUP
        + token) as u64
}

/// Requests in flight at the busiest, an estimate. Little's law at the peak rate (the users'
/// rates at the top of their daily cycles, verification runs included) with every request
/// as long in its replica as at a full batch (the slowest it runs), times
/// `IN_FLIGHT_MARGIN` (2) / (1 - the peak load on the network's capacity at full batches), the
/// M/M/1 growth of the queue as load nears capacity. At or above capacity, or when that is
/// more, the most the groups' queues and batches hold; never more than the requests the
/// whole horizon issues (at the peak rate for the part of it up to a day).
pub fn requests_in_flight(s: &Scenario) -> u64 {
    let (redundancy, spot) = s.verification();
    let runs = f64::from(redundancy) + spot;
    let mean_rate: f64 = s.users().iter().map(|u| u.rate_per_s).sum::<f64>() * runs;
    let peak_rate: f64 = s
        .users()
        .iter()
        .map(|u| u.rate_per_s * (1.0 + u.cycle.map_or(0.0, |c| c.0)))
        .sum::<f64>()
        * runs;
    // Over a day or more the daily cycles average out; a shorter horizon may fall at their
    // peaks.
    let horizon_s = crate::core::engine::to_secs(s.horizon());
    let issued =
        mean_rate * horizon_s + (peak_rate - mean_rate) * horizon_s.min(24.0 * SECONDS_PER_HOUR);
    let (prompt, output) = (s.prompt.mean(), s.output.mean().max(1.0));
    let (mut room, mut capacity, mut slowest) = (0.0f64, 0.0f64, 0.0f64);
    for p in s.pools() {
        let Ok(plan) = p.serving else { continue };
        let queue = s
            .max_queue_per_gpu
            .map_or(f64::INFINITY, |q| f64::from(q) * f64::from(p.count));
        room += f64::from(plan.replicas) * f64::from(plan.max_batch) + queue;
        let (rps, in_replica_s) = match s.service_override() {
            Some(d) => (f64::from(plan.replicas) / d.mean(), d.mean()),
            None => {
                let b = plan.batch_limit(prompt + output);
                let one = plan.replica_rps(prompt, output, b);
                (f64::from(plan.replicas) * one, b / one)
            }
        };
        capacity += rps;
        slowest = slowest.max(in_replica_s);
    }
    let load = peak_rate / capacity;
    let little = if load < 1.0 {
        IN_FLIGHT_MARGIN * peak_rate * slowest / (1.0 - load)
    } else {
        f64::INFINITY
    };
    let n = little.min(room).min(issued);
    if n.is_finite() { n.ceil() as u64 } else { 0 }
}

/// Failure clocks (one per GPU that can join a group with a Weibull shape) and repairs
/// expected pending at once (the GPUs' share offline, repair / (MTBF + repair)), over the
/// groups expected to see a failure.
fn failure_events(s: &Scenario) -> (u64, u64) {
    let horizon_s = crate::core::engine::to_secs(s.horizon());
    let (mut clocks, mut repairs) = (0u64, 0u64);
    for p in s.pools() {
        if f64::from(p.count) * horizon_s / p.mtbf_s <= 1e-6 {
            continue; // no failure events (reliability.rs)
        }
        if p.failure_shape != 1.0 {
            clocks = clocks.saturating_add(u64::from(p.count));
        }
        let offline = f64::from(p.count) * p.repair_s / (p.mtbf_s + p.repair_s);
        repairs = repairs.saturating_add(offline.ceil() as u64);
    }
    (clocks, repairs)
}

/// Jobs waiting or running at once (at most every arrival over the horizon) and the
/// failures scheduled for the running ones: each class's arrivals, and for the most of its
/// jobs that fit the network at once, the failures of their GPUs over the horizon at the
/// shortest MTBF.
fn job_counts(s: &Scenario) -> (u64, u64) {
    let horizon_s = crate::core::engine::to_secs(s.horizon());
    let gpus: f64 = s.pools().iter().map(|p| f64::from(p.count)).sum();
    let mtbf_s = s
        .pools()
        .iter()
        .map(|p| p.mtbf_s)
        .fold(f64::INFINITY, f64::min);
    let (mut jobs, mut failures) = (0.0f64, 0.0f64);
    for j in s.jobs() {
        let arrivals = (j.rate_per_s * horizon_s).ceil() + 1.0;
        let running = arrivals.min((gpus / f64::from(j.gpus.max(1))).floor());
        jobs += arrivals;
        failures += running * f64::from(j.gpus) * horizon_s / mtbf_s;
    }
    (jobs.ceil() as u64, failures.ceil() as u64)
}

/// Metrics a replication ends with, at most.
fn metric_count(s: &Scenario) -> u64 {
    METRICS_FIXED
        + METRICS_PER_REGION * s.regions().len() as u64
        + METRICS_PER_GROUP * s.pools().len() as u64
        + METRICS_PER_JOB_CLASS * s.jobs().len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    fn scenario(providers: &str, inference: &str, horizon_h: f64) -> Scenario {
        let text = format!(
            "simulation: {{horizon_h: {horizon_h}, warmup_h: 0, epoch_h: {horizon_h}, replications: 2}}
regions: [{{name: a}}]
providers: [{providers}]
inference: {{users: [{{region: a, rate_per_s: 0.01}}], {inference}}}
"
        );
        match load_str(&text, "t", "t", &[]) {
            Ok(s) => s,
            Err(e) => panic!("invalid test scenario: {e}"),
        }
    }

    /// A group of `n` consumer cards failing with a Weibull shape, MTBF 999 h and 1 h
    /// repairs (a thousandth of them offline), over 36 s with one request expected: only the
    /// GPUs change between two sizes.
    fn weibull_cards(n: u64) -> Footprint {
        let p = format!(
            "{{name: p, region: a, gpu: rtx_4090, count: {n}, hourly_cost_usd: 0.1, failure_shape: 0.7, mtbf_h: 999, repair_h: 1}}"
        );
        Footprint::of(&scenario(&p, "", 0.01))
    }

    #[test]
    fn memory_grows_by_a_failure_clock_per_gpu_and_a_repair_per_gpu_offline() {
        // A pending event is a 16-byte key (u128: time and sequence) and a 12-byte event
        // (a u32 tag and two u32 fields): 28 bytes. Each GPU of a Weibull group has its own
        // clock, and one in a thousand is awaiting repair: 28 x 1.001 bytes per GPU.
        let (small, large) = (weibull_cards(1_000_000), weibull_cards(3_000_000));
        let grown = large.replication() - small.replication();
        assert_eq!(grown, 2_000_000 * 28 + 2_000 * 28);
        // Nothing else grows: the replicas of idle cards do not exist.
        assert_eq!(large.kept, small.kept);
        let part = |f: &Footprint, what: &str| {
            f.parts
                .iter()
                .find(|p| p.what.starts_with(what))
                .map(Part::bytes)
        };
        assert_eq!(part(&large, "failure clocks"), Some(3_000_000 * 28));
        assert_eq!(part(&large, "repairs"), Some(3_000 * 28));
        assert!(
            large
                .largest()
                .is_some_and(|p| p.what.starts_with("failure clocks"))
        );
    }

    #[test]
    fn a_billion_idle_cards_failing_exponentially_cost_their_repairs_only() {
        // MTBF 499 h and 1 h repairs: one card in 500 is offline, 2 million of a billion.
        let p = "{name: p, region: a, gpu: rtx_4090, count: 1000000000, hourly_cost_usd: 0.1, mtbf_h: 499, repair_h: 1}";
        let f = Footprint::of(&scenario(p, "", 0.01));
        let repairs = f.parts.iter().find(|p| p.what.starts_with("repairs"));
        assert_eq!(repairs.map(|p| p.count), Some(2_000_000));
        // The rest (histograms, one request, the group) is a few MiB; the cards' billion
        // replicas, 144 bytes each before issue 13, are not there.
        let rest = f.replication() - 2_000_000 * 28;
        assert!(rest < 8 << 20, "{rest} bytes besides the repairs");
    }

    /// Ten GPUs serving one request each for a drawn second, with `users` and `queue`.
    fn drawn(rate: f64, queue: &str, horizon_h: f64) -> u64 {
        let p = "{name: p, region: a, gpu: h100_sxm, count: 10, hourly_cost_usd: 1}";
        let inference = format!(
            "users: [{{region: a, rate_per_s: {rate}}}], service_time_s: {{constant: 1.0}}, max_queue_per_gpu: {queue}"
        );
        let text = format!(
            "simulation: {{horizon_h: {horizon_h}, warmup_h: 0, epoch_h: {horizon_h}}}
regions: [{{name: a}}]
providers: [{p}]
inference: {{{inference}}}
"
        );
        match load_str(&text, "t", "t", &[]) {
            Ok(s) => requests_in_flight(&s),
            Err(e) => panic!("invalid test scenario: {e}"),
        }
    }

    #[test]
    fn requests_in_flight_follow_little_below_capacity_and_the_room_above_it() {
        // 10 GPUs at 1 s a request answer 10 requests/s. At 5 requests/s the load is 0.5:
        // 2 x 5/s x 1 s / (1 - 0.5) = 20 in flight.
        assert_eq!(drawn(5.0, "64", 1.0), 20);
        // At 20/s the queues fill: 10 GPUs hold one each and queue 64 each.
        assert_eq!(drawn(20.0, "64", 1.0), 10 + 640);
        // Without a queue limit, every request of the hour may still be waiting.
        assert_eq!(drawn(20.0, "null", 1.0), 72_000);
        // Never more than the requests issued: 2/s over 1.8 s.
        assert_eq!(drawn(2.0, "64", 0.0005), 4);
    }
}
