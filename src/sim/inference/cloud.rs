//! The cloud reference for inference, sized two ways (`cloud.sizing`): right-sized, the
//! fewest cloud GPUs that meet the network's objectives at its attainment for the demand it
//! served, paid per provisioned GPU-hour; and matched-batch, the same requests on cloud
//! replicas at the network's mean batch, paid per busy GPU-hour. Both use the requests as
//! served (prompt and output means of the measured requests answered).

use crate::core::engine::{SimTime, to_secs};
use crate::core::units::SECONDS_PER_HOUR;
use crate::metrics::Recorder;
use crate::physics::sizing::{
    objective_batch, seconds_by_hour_of_day, servers_for, servers_for_answer,
};
use crate::scenario::defaults::CLOUD_MIN_MISS;
use crate::scenario::{Cloud, CloudServing, Provisioned};

/// The right-sized cloud for a run's demand.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct RightSized {
    /// USD per million output tokens.
    pub(super) usd_per_million_tokens: f64,
    /// GPUs provisioned, averaged over the window.
    pub(super) gpus: f64,
    /// The batch its replicas run at.
    pub(super) batch: u32,
    /// Whether a replica meets both objectives at all.
    pub(super) meets: bool,
    /// Regions the cloud has fleets in.
    pub(super) regions: usize,
}

/// Mean prompt and output tokens of the measured requests answered (None: none answered).
pub(super) fn served_means(rec: &Recorder) -> Option<(f64, f64)> {
    let n = rec.all.completed;
    (n > 0).then(|| {
        let n = n as f64;
        (rec.prompt_tokens as f64 / n, rec.output_tokens as f64 / n)
    })
}

/// USD per million output tokens of the served requests on cloud replicas at `batch`.
pub(super) fn matched_batch(cloud: &Cloud, rec: &Recorder, batch: f64) -> Option<f64> {
    let (prompt, output) = served_means(rec)?;
    cloud.usd_per_million_tokens(prompt, output, batch)
}

/// The right-sized cloud for the measured requests answered in `[warmup, horizon]`, whose
/// share meeting both objectives was `attainment`; `slo` is (TTFT, TPOT) in seconds and
/// `rtt_s(a, b)` the round trip between user regions. The cloud is placed as a buyer would
/// place it: a fleet in each user region, or one fleet in a single region serving all (its
/// far users' round trip counted against the objective), whichever costs less while meeting
/// the objectives.
pub(super) fn right_sized(
    cloud: &Cloud,
    rec: &Recorder,
    window: (SimTime, SimTime),
    slo: (f64, f64),
    rtt_s: &dyn Fn(usize, usize) -> f64,
    attainment: f64,
) -> Option<RightSized> {
    let (prompt, output) = served_means(rec)?;
    let miss = (1.0 - cloud.attainment.unwrap_or(attainment)).max(CLOUD_MIN_MISS);
    let (slo_ttft, slo_tpot) = slo;
    let secs = seconds_by_hour_of_day(to_secs(window.0), to_secs(window.1));
    // A server's GPUs and slots, and the fewest servers for a demand and a round trip.
    let (gpus_per_server, slots, batch_meets, fleet): (u32, u32, bool, Fleet) = match cloud.serving
    {
        CloudServing::Batched(s) => {
            let o = objective_batch(&s, prompt, output, slo_ttft, slo_tpot);
            let hold = o.hold_s();
            let fleet: Fleet = Box::new(move |lambda, rtt| {
                let slack = slo_ttft - o.prefill_s - rtt;
                if slack < 0.0 {
                    return None;
                }
                servers_for(lambda, hold, o.batch, slack, miss)
            });
            (s.tp, o.batch, o.meets, fleet)
        }
        // One request per GPU: the answer is the time to first token.
        CloudServing::Drawn(mean) => {
            let fleet: Fleet =
                Box::new(move |lambda, rtt| servers_for_answer(lambda, mean, slo_ttft - rtt, miss));
            (1, 1, true, fleet)
        }
        CloudServing::Unfit => return None,
    };
    let demand = &rec.completed_by_hour;
    let regions = demand.len();
    let active: Vec<usize> = (0..regions)
        .filter(|&r| demand[r].iter().any(|&n| n > 0))
        .collect();
    let per_region: Vec<Demand> = active.iter().map(|&r| (demand[r], rtt_s(r, r))).collect();
    // All the demand in one place, the farthest active region's round trip away.
    let mut all = [0u64; 24];
    for &r in &active {
        for (c, &n) in all.iter_mut().zip(&demand[r]) {
            *c += n;
        }
    }
    let pooled = (0..regions).map(|at| {
        let rtt = active.iter().map(|&r| rtt_s(r, at)).fold(0.0, f64::max);
        vec![(all, rtt)]
    });
    let provisioned = |plan: &[Demand], servers: &dyn Fn(f64, f64) -> Option<u32>| {
        server_seconds(plan, &secs, cloud.provisioned, servers)
    };
    let best = std::iter::once(per_region.clone())
        .chain(pooled)
        .filter_map(|plan| provisioned(&plan, &fleet).map(|c| (c, plan.len())))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let (server_s, meets, fleets) = match best {
        Some((c, fleets)) => (c, batch_meets, fleets),
        // No placement meets the objectives: fleets near the users that keep up, and say so.
        None => {
            let keeping_up = |lambda: f64, _rtt: f64| {
                Some(fleet_keeping_up(
                    lambda,
                    slots,
                    prompt,
                    output,
                    &cloud.serving,
                ))
            };
            let s = provisioned(&per_region, &keeping_up).unwrap_or(0.0);
            (s, false, per_region.len())
        }
    };
    let window_s: f64 = secs.iter().sum();
    let gpu_h = server_s * f64::from(gpus_per_server) / SECONDS_PER_HOUR;
    let tokens = rec.output_tokens as f64;
    (tokens > 0.0 && window_s > 0.0).then(|| RightSized {
        usd_per_million_tokens: cloud.price_usd_per_gpu_hour * gpu_h / tokens * 1e6,
        gpus: gpu_h / (window_s / SECONDS_PER_HOUR),
        batch: slots,
        meets,
        regions: fleets,
    })
}

/// The fewest servers for a demand at a round trip (None: no number meets the objectives).
type Fleet = Box<dyn Fn(f64, f64) -> Option<u32>>;

/// One fleet's demand: measured requests by hour of the day, and its users' round trip.
type Demand = ([u64; 24], f64);

/// Server-seconds of `fleets` over a window of `secs` seconds in each hour of the day, each
/// fleet sized per hour by `servers(rate, round trip)` and provisioned hourly or for its
/// peak hour; None if some hour's demand cannot be met.
fn server_seconds(
    fleets: &[Demand],
    secs: &[f64; 24],
    provisioned: Provisioned,
    servers: &dyn Fn(f64, f64) -> Option<u32>,
) -> Option<f64> {
    let (mut hourly, mut peaks) = (0.0, 0u32);
    for (counts, rtt) in fleets {
        let mut peak = 0;
        for (&t, &n) in secs.iter().zip(counts) {
            let lambda = if t > 0.0 { n as f64 / t } else { 0.0 };
            let n = servers(lambda, *rtt)?;
            peak = peak.max(n);
            hourly += f64::from(n) * t;
        }
        peaks += peak;
    }
    Some(match provisioned {
        Provisioned::Hourly => hourly,
        Provisioned::Peak => f64::from(peaks) * secs.iter().sum::<f64>(),
    })
}

/// Servers that keep up with `lambda` at all (the objectives aside).
fn fleet_keeping_up(
    lambda: f64,
    slots: u32,
    prompt: f64,
    output: f64,
    serving: &CloudServing,
) -> u32 {
    let per_server = match serving {
        CloudServing::Batched(s) => s.replica_rps(prompt, output, f64::from(slots)),
        CloudServing::Drawn(mean) => 1.0 / mean,
        CloudServing::Unfit => 0.0,
    };
    if per_server > 0.0 {
        (lambda / per_server).ceil() as u32
    } else {
        0
    }
}
