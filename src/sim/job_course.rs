//! A job's course: its step on the GPUs it gets (memory and traffic under the parallelism
//! it runs with), its checkpoint time, and its steps, checkpoints, failures and rollbacks
//! drawn per checkpoint segment ([`run_job`]), on the network or on the cloud reference.

use rand::RngExt;

use crate::core::dist::Dist;
use crate::core::engine::{SimTime, to_secs};
use crate::core::rng::StreamRng;
use crate::physics::training::{
    DataParallel, JobTime, Recovery, StepModel, run_job, young_daly_interval_s,
};
use crate::scenario::{JobClass, Scenario};

/// Failures after which a job is abandoned: it cannot make progress between them.
const MAX_FAILURES: u64 = 10_000_000;

/// A job's course on the GPUs it would get, drawn from a copy of its class's failure stream
/// that replaces the class's own only if the job starts (so a backfilling candidate that is
/// turned down leaves no trace).
pub(super) struct Course {
    pub(super) gpus: Vec<(usize, u32)>,
    pub(super) step: StepModel,
    /// Seconds to write one checkpoint on these GPUs.
    pub(super) checkpoint_s: f64,
    pub(super) net: Option<JobTime>,
    pub(super) failures: StreamRng,
    /// Times of the job's failures before the horizon, seconds after its start.
    pub(super) failed_at_s: Vec<f64>,
}

impl Course {
    /// Seconds until the job finishes or is abandoned (never, for the engine).
    pub(super) fn wall_s(&self) -> f64 {
        self.net.map_or(f64::INFINITY, |t| t.wall_s())
    }

    /// The course job `j` would have on `gpus` if it started at `now`, drawn from a copy of
    /// its class's failure stream `failures`.
    pub(super) fn draw(
        s: &Scenario,
        j: &JobClass,
        gpus: Vec<(usize, u32)>,
        now: SimTime,
        failures: &StreamRng,
    ) -> Self {
        let (step, failure_rate) = network_step(s, j, &gpus);
        let checkpoint_s = j.checkpoint_s_over(step.link_bandwidth);
        let mut failures = failures.clone();
        let left_s = to_secs(s.horizon().saturating_sub(now));
        let mut failed_at_s = Vec::new();
        let mtbf_s = 1.0 / failure_rate;
        let net = course_of(j, &step, checkpoint_s, mtbf_s, &mut failures, |at| {
            if at < left_s {
                failed_at_s.push(at);
            }
        });
        Course {
            gpus,
            step,
            checkpoint_s,
            net,
            failures,
            failed_at_s,
        }
    }
}

/// The same job on the cloud reference, its `step` on the network given: the cloud's GPUs,
/// fabric and MTBF, the parallelism its GPUs' memory allows, and a checkpoint over its fabric.
pub(super) fn cloud_course(
    s: &Scenario,
    j: &JobClass,
    step: &StepModel,
    rng: &mut StreamRng,
) -> Option<JobTime> {
    let cloud = s.cloud();
    let cloud_step = StepModel {
        worker_flops: cloud.flops,
        link_bandwidth: cloud.bandwidth_bytes_per_s,
        link_latency: cloud.latency_s,
        // A job too big for the cloud's GPUs replicated is sharded there.
        parallel: j
            .parallel_for(j.usable_bytes(cloud.class))
            .unwrap_or(DataParallel::Sharded),
        ..*step
    };
    course_of(
        j,
        &cloud_step,
        j.checkpoint_s_over(cloud.bandwidth_bytes_per_s),
        cloud.mtbf_s / f64::from(j.gpus),
        rng,
        |_| {},
    )
}

/// The job's step on its placement and its failure rate (failures per second). Gradients of
/// a job inside one provider group cross that group's interconnect; a job spread over
/// groups exchanges them over the hosts' access links (the slowest one) with the worst
/// one-way latency between the regions involved. The job runs
/// replicated or sharded as its class says for the GPU with the least memory it got.
fn network_step(s: &Scenario, j: &JobClass, gpus: &[(usize, u32)]) -> (StepModel, f64) {
    let pools = s.pools();
    let usable = gpus
        .iter()
        .map(|&(p, _)| j.usable_bytes(pools[p].class))
        .fold(f64::INFINITY, f64::min);
    // Placement took only GPUs the job fits on.
    let parallel = j.parallel_for(usable).unwrap_or(DataParallel::Sharded);
    let worker_flops = gpus
        .iter()
        .map(|&(p, _)| pools[p].roofline.flops)
        .fold(f64::INFINITY, f64::min);
    let (bandwidth, latency) = match gpus {
        [(p, _)] => (
            pools[*p].interconnect_bytes_per_s,
            pools[*p].interconnect_latency_s,
        ),
        _ => {
            let bw = gpus
                .iter()
                .map(|&(p, _)| s.regions()[pools[p].region].bandwidth_bps / 8.0)
                .fold(f64::INFINITY, f64::min);
            let lat = gpus
                .iter()
                .flat_map(|&(a, _)| gpus.iter().map(move |&(b, _)| (a, b)))
                .map(|(a, b)| s.rtt_s(pools[a].region, pools[b].region) / 2.0)
                .fold(0.0, f64::max);
            (bw, lat)
        }
    };
    let step = StepModel {
        params: j.params,
        flops_per_param_token: j.flops_per_param_token(),
        tokens_per_step: j.tokens_per_step,
        workers: j.gpus,
        worker_flops,
        gradient_bytes: j.gradient_bytes(),
        parallel,
        link_bandwidth: bandwidth,
        link_latency: latency,
    };
    let rate = gpus
        .iter()
        .map(|&(p, n)| f64::from(n) / pools[p].mtbf_s)
        .sum();
    (step, rate)
}

/// The group of `gpus` a job's failure hits: each in proportion to its GPUs over their MTBF.
pub(super) fn failed_group(s: &Scenario, gpus: &[(usize, u32)], rng: &mut StreamRng) -> usize {
    let pools = s.pools();
    let weight = |&(p, n): &(usize, u32)| f64::from(n) / pools[p].mtbf_s;
    if let [(p, _)] = gpus {
        return *p;
    }
    let mut u = rng.random::<f64>() * gpus.iter().map(weight).sum::<f64>();
    for g in gpus {
        u -= weight(g);
        if u < 0.0 {
            return g.0;
        }
    }
    gpus[gpus.len() - 1].0
}

/// The job's course with exponential failures of mean `mtbf_s` (the whole job's); `failed_at`
/// hears each failure's time since the start.
fn course_of(
    j: &JobClass,
    step: &StepModel,
    checkpoint_s: f64,
    mtbf_s: f64,
    rng: &mut StreamRng,
    failed_at: impl FnMut(f64),
) -> Option<JobTime> {
    let work = (j.tokens / j.tokens_per_step).ceil() * step.step_s();
    let recovery = Recovery {
        interval_s: j
            .interval_s
            .unwrap_or_else(|| young_daly_interval_s(checkpoint_s, mtbf_s))
            .max(step.step_s()),
        checkpoint_s,
        restart_s: j.restart_s,
    };
    let failures = Dist::Exponential(rand_distr::Exp::new(1.0 / mtbf_s).ok()?, mtbf_s);
    run_job(work, &recovery, &failures, MAX_FAILURES, rng, failed_at)
}
