//! A job's course: its step on the GPUs it gets (memory and traffic under the parallelism
//! it runs with), its checkpoint time, and its steps, checkpoints, failures and rollbacks
//! drawn per checkpoint segment ([`run_job`]), on the network or on the cloud reference.

use rand::RngExt;

use crate::core::dist::Dist;
use crate::core::engine::{SimTime, to_secs};
use crate::core::rng::StreamRng;
use crate::physics::local_sgd::{LocalSgd, Round, run_local_sgd};
use crate::physics::training::{
    DataParallel, JobTime, Recovery, StepModel, run_job, young_daly_interval_s,
};
use crate::scenario::{JobClass, Scenario};

/// Failures after which a job is abandoned: it cannot make progress between them.
const MAX_FAILURES: u64 = 10_000_000;

/// What a job's GPUs do, synchronising every step or by local SGD.
#[derive(Clone, Copy, Debug)]
pub(super) struct JobStep {
    /// How the workers hold the model.
    pub(super) parallel: DataParallel,
    /// Bytes each GPU holds (the most any worker's GPU holds).
    pub(super) memory_bytes: f64,
    /// Share of the time computing.
    pub(super) compute_share: f64,
    /// Share of the time the GPUs wait on exchanges (1 - the compute share).
    pub(super) idle_share: f64,
    /// One step (every step) or one inner step (local SGD), s.
    pub(super) step_s: f64,
    /// One synchronisation's exchange, s, hidden or not.
    pub(super) exchange_s: f64,
    /// The failure-free course: work in rounds (or steps) of `round_s`, on `workers`.
    rounds: f64,
    round_s: f64,
    workers: u32,
    /// Bandwidth of the link the exchange crosses, bytes/s (checkpoints are written at
    /// most this fast).
    pub(super) link_bandwidth: f64,
    local_sgd: bool,
}

/// A job's course on the GPUs it would get, drawn from a copy of its class's failure stream
/// that replaces the class's own only if the job starts (so a backfilling candidate that is
/// turned down leaves no trace).
pub(super) struct Course {
    pub(super) gpus: Vec<(usize, u32)>,
    pub(super) step: JobStep,
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
        let failed_at = |at| {
            if at < left_s {
                failed_at_s.push(at);
            }
        };
        // A job of one worker has no peer holding the global state: it recovers from its
        // checkpoints, as every-step training does.
        let net = if step.local_sgd && step.workers > 1 {
            let checkpoint = j.interval_s.map(|i| (i, checkpoint_s));
            exponential(mtbf_s).and_then(|d| {
                run_local_sgd(
                    step.rounds,
                    step.round_s,
                    step.workers,
                    j.restart_s,
                    checkpoint,
                    &d,
                    MAX_FAILURES,
                    &mut failures,
                    failed_at,
                )
            })
        } else {
            let work_s = step.rounds * step.round_s;
            course_of(
                j,
                work_s,
                step.round_s,
                checkpoint_s,
                mtbf_s,
                &mut failures,
                failed_at,
            )
        };
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

/// The same job on the cloud reference: every step over the cloud's GPUs and fabric (the
/// way a co-located cluster trains, on the job's own tokens), its MTBF, the parallelism its
/// GPUs' memory allows, and a checkpoint over its fabric.
pub(super) fn cloud_course(s: &Scenario, j: &JobClass, rng: &mut StreamRng) -> Option<JobTime> {
    let cloud = s.cloud();
    let step = StepModel {
        params: j.params,
        flops_per_param_token: j.flops_per_param_token(),
        tokens_per_step: j.tokens_per_step,
        workers: j.gpus,
        worker_flops: cloud.flops,
        gradient_bytes: j.gradient_bytes(),
        // A job too big for the cloud's GPUs replicated is sharded there.
        parallel: j
            .every_step_parallel_for(j.usable_bytes(cloud.class))
            .unwrap_or(DataParallel::Sharded),
        link_bandwidth: cloud.bandwidth_bytes_per_s,
        link_latency: cloud.latency_s,
    };
    let work_s = steps(j) * step.step_s();
    course_of(
        j,
        work_s,
        step.step_s(),
        j.checkpoint_s_over(cloud.bandwidth_bytes_per_s),
        cloud.mtbf_s / f64::from(j.gpus),
        rng,
        |_| {},
    )
}

/// Steps of the job's global batch in its tokens.
fn steps(j: &JobClass) -> f64 {
    (j.tokens / j.tokens_per_step).ceil()
}

/// The link between the job's GPUs (bytes/s, one-way latency s): a job inside one provider
/// group crosses that group's interconnect; a job spread over groups the hosts' access
/// links (the slowest one) with the worst one-way latency between the regions involved.
fn link(s: &Scenario, gpus: &[(usize, u32)]) -> (f64, f64) {
    let pools = s.pools();
    match gpus {
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
    }
}

/// The job's step on its placement and its failure rate (failures per second, any GPU's).
fn network_step(s: &Scenario, j: &JobClass, gpus: &[(usize, u32)]) -> (JobStep, f64) {
    let pools = s.pools();
    let rate = gpus
        .iter()
        .map(|&(p, n)| f64::from(n) / pools[p].mtbf_s)
        .sum();
    let step = match j.local_sgd {
        None => every_step(s, j, gpus),
        Some(l) => local_sgd_step(s, j, &l, gpus),
    };
    (step, rate)
}

/// Every step over all the job's GPUs, replicated or sharded as its class says for the GPU
/// with the least memory it got, at the slowest GPU's FLOP/s, over [`link`].
fn every_step(s: &Scenario, j: &JobClass, gpus: &[(usize, u32)]) -> JobStep {
    let pools = s.pools();
    let usable = gpus
        .iter()
        .map(|&(p, _)| j.usable_bytes(pools[p].class))
        .fold(f64::INFINITY, f64::min);
    // Placement took only GPUs the job fits on.
    let parallel = j
        .parallel_for(usable, j.gpus)
        .unwrap_or(DataParallel::Sharded);
    let worker_flops = gpus
        .iter()
        .map(|&(p, _)| pools[p].roofline.flops)
        .fold(f64::INFINITY, f64::min);
    let (link_bandwidth, link_latency) = link(s, gpus);
    let step = StepModel {
        params: j.params,
        flops_per_param_token: j.flops_per_param_token(),
        tokens_per_step: j.tokens_per_step,
        workers: j.gpus,
        worker_flops,
        gradient_bytes: j.gradient_bytes(),
        parallel,
        link_bandwidth,
        link_latency,
    };
    JobStep {
        parallel,
        memory_bytes: j.memory_per_gpu_bytes(parallel, j.gpus),
        compute_share: step.compute_share(),
        idle_share: step.comm_s() / step.step_s(),
        step_s: step.step_s(),
        exchange_s: step.comm_s(),
        rounds: steps(j),
        round_s: step.step_s(),
        workers: j.gpus,
        link_bandwidth,
        local_sgd: false,
    }
}

/// Local SGD: the job's GPUs in each group make workers of [`JobClass::worker_gpus`] GPUs
/// (the rest of a group's share one smaller worker); each worker takes an equal share of
/// the global batch, the slowest paces the round, and the exchange crosses [`link`].
fn local_sgd_step(s: &Scenario, j: &JobClass, l: &LocalSgd, gpus: &[(usize, u32)]) -> JobStep {
    let pools = s.pools();
    // (group, GPUs) of each kind of worker and how many of it.
    let mut kinds: Vec<(usize, u32, u32)> = Vec::new();
    for &(p, n) in gpus {
        let size = j.worker_gpus(pools[p].gpus_per_host);
        if n / size > 0 {
            kinds.push((p, size, n / size));
        }
        if n % size > 0 {
            kinds.push((p, n % size, 1));
        }
    }
    let workers: u32 = kinds.iter().map(|k| k.2).sum();
    let sharded = kinds.iter().any(|&(p, g, _)| {
        j.parallel_for(j.usable_bytes(pools[p].class), g) == Some(DataParallel::Sharded)
    });
    // A worker of one GPU holds every state whatever it is asked to do.
    let parallel = if sharded && l.hierarchical {
        DataParallel::Sharded
    } else if l.hierarchical {
        j.data_parallel.unwrap_or(DataParallel::Replicated)
    } else {
        DataParallel::Replicated
    };
    let inner = |&(p, g, _): &(usize, u32, u32)| StepModel {
        params: j.params,
        flops_per_param_token: j.flops_per_param_token(),
        tokens_per_step: j.tokens_per_step / f64::from(workers),
        workers: g,
        worker_flops: pools[p].roofline.flops,
        gradient_bytes: j.gradient_bytes(),
        parallel,
        link_bandwidth: pools[p].interconnect_bytes_per_s,
        link_latency: pools[p].interconnect_latency_s,
    };
    let slowest = kinds
        .iter()
        .map(inner)
        .max_by(|a, b| a.step_s().total_cmp(&b.step_s()))
        .expect("a placed job has GPUs");
    // Every GPU's inner compute, each worker's at its own speed, against the GPU-time of
    // rounds paced by the slowest: faster workers' wait for it is idle time too.
    let gpu_compute_s: f64 = kinds
        .iter()
        .map(|k| f64::from(k.1 * k.2) * inner(k).compute_s())
        .sum();
    let (bandwidth, latency) = link(s, gpus);
    let trained = j.params * j.kind.trained_share();
    let exchange_s = l.sync_s.unwrap_or_else(|| {
        let payload = l.payload_bytes(trained);
        kinds
            .iter()
            .map(|&(p, g, _)| {
                let inside = (l.hierarchical && parallel == DataParallel::Replicated && g > 1)
                    .then(|| {
                        let q = &pools[p];
                        (
                            g,
                            trained,
                            q.interconnect_bytes_per_s,
                            q.interconnect_latency_s,
                        )
                    });
                Round::exchange_s(workers, payload, (bandwidth, latency), inside)
            })
            .fold(0.0, f64::max)
    });
    let round = Round {
        inner: slowest,
        inner_steps: l.inner_steps,
        exchange_s,
        overlap: l.overlap,
    };
    let compute_share =
        f64::from(l.inner_steps) * gpu_compute_s / (f64::from(j.gpus) * round.round_s());
    let tokens = j.tokens * l.token_ratio_at(workers);
    let memory_bytes = kinds
        .iter()
        .map(|&(_, g, _)| j.memory_per_gpu_bytes(parallel, g))
        .fold(0.0, f64::max);
    JobStep {
        parallel,
        memory_bytes,
        compute_share,
        idle_share: 1.0 - compute_share,
        step_s: slowest.step_s(),
        exchange_s,
        rounds: (tokens / (j.tokens_per_step * f64::from(l.inner_steps))).ceil(),
        round_s: round.round_s(),
        workers,
        link_bandwidth: bandwidth,
        local_sgd: true,
    }
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

/// Exponential failures of mean `mtbf_s`.
fn exponential(mtbf_s: f64) -> Option<Dist> {
    Some(Dist::Exponential(
        rand_distr::Exp::new(1.0 / mtbf_s).ok()?,
        mtbf_s,
    ))
}

/// The every-step course of `work_s` seconds of steps of `step_s` with exponential failures
/// of mean `mtbf_s` (the whole job's); `failed_at` hears each failure's time since the start.
fn course_of(
    j: &JobClass,
    work_s: f64,
    step_s: f64,
    checkpoint_s: f64,
    mtbf_s: f64,
    rng: &mut StreamRng,
    failed_at: impl FnMut(f64),
) -> Option<JobTime> {
    let recovery = Recovery {
        interval_s: j
            .interval_s
            .unwrap_or_else(|| young_daly_interval_s(checkpoint_s, mtbf_s))
            .max(step_s),
        checkpoint_s,
        restart_s: j.restart_s,
    };
    let failures = exponential(mtbf_s)?;
    run_job(work_s, &recovery, &failures, MAX_FAILURES, rng, failed_at)
}
