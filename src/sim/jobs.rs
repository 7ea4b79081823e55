//! Training and fine-tuning jobs at run time: Poisson arrivals per job class, placement on
//! idle GPUs of the provider pools (which inference then cannot use), the job's wall time
//! under failures from the training time model, and the same job on the cloud reference.
//!
//! A job's whole course (steps, checkpoints, failures, rollbacks) is drawn when it is placed,
//! per checkpoint segment ([`run_job`]); the engine only sees its arrival and its end, when
//! its GPUs return to the pools and waiting jobs are placed, first come first served.
//! A job placed `anywhere` takes GPUs from the groups with the most idle GPUs first, so it
//! spans as few groups as it can. Gradients of a job inside one provider group cross that
//! group's interconnect; a job spread
//! over groups exchanges them over the hosts' access links (the slowest one) with the worst
//! one-way latency between the regions involved.

use std::collections::VecDeque;

use rand_distr::{Distribution, Exp1};

use crate::core::dist::Dist;
use crate::core::engine::{EventQueue, SimTime, from_secs, to_secs};
use crate::core::rng::{StreamRng, Streams};
use crate::core::units::SECONDS_PER_HOUR;
use crate::metrics::Metrics;
use crate::metrics::names;
use crate::scenario::{JobClass, Placement, Scenario};

use super::event::Event;
use super::pool::PoolState;
use crate::physics::training::{JobTime, Recovery, StepModel, run_job, young_daly_interval_s};

/// Failures after which a job is abandoned: it cannot make progress between them.
const MAX_FAILURES: u64 = 10_000_000;

/// What was measured about one job class (jobs that arrived after the warm-up).
#[derive(Clone, Debug, Default)]
struct ClassStats {
    arrived: u64,
    placed: u64,
    completed: u64,
    abandoned: u64,
    wait_s: f64,
    /// Wait + wall time of the jobs that finish (not abandoned).
    result_s: f64,
    useful_s: f64,
    wall_s: f64,
    lost_s: f64,
    failures: u64,
    compute_share: f64,
    /// Sum over jobs of model FLOPs / (datasheet peak FLOP/s of their GPUs x wall time).
    mfu: f64,
    cloud_mfu: f64,
    cost_usd: f64,
    cloud_wall_s: f64,
    cloud_cost_usd: f64,
    flops: f64,
}

struct ClassState {
    clock_s: f64,
    arrivals: StreamRng,
    failures: StreamRng,
    cloud: StreamRng,
    stats: ClassStats,
}

/// A placed job: its class, its GPUs and whether it counts in the statistics.
struct Placed {
    class: usize,
    gpus: Vec<(usize, u32)>,
    measured: bool,
}

/// The jobs of one replication.
pub struct Jobs {
    classes: Vec<ClassState>,
    waiting: VecDeque<(usize, SimTime)>,
    running: Vec<Option<Placed>>,
}

impl Jobs {
    /// Job state for scenario `s` with the replication's streams.
    pub fn new(s: &Scenario, streams: &Streams) -> Self {
        let classes = (0..s.jobs().len() as u64)
            .map(|i| ClassState {
                clock_s: 0.0,
                arrivals: streams.indexed("job_arrivals", i),
                failures: streams.indexed("job_failures", i),
                cloud: streams.indexed("cloud_failures", i),
                stats: ClassStats::default(),
            })
            .collect();
        Self {
            classes,
            waiting: VecDeque::new(),
            running: Vec::new(),
        }
    }

    /// Schedules each class's first arrival.
    pub fn start(&mut self, s: &Scenario, q: &mut EventQueue<Event>) {
        for c in 0..self.classes.len() {
            self.schedule_arrival(s, c, q);
        }
    }

    fn schedule_arrival(&mut self, s: &Scenario, c: usize, q: &mut EventQueue<Event>) {
        let rate = s.jobs()[c].rate_per_s;
        let st = &mut self.classes[c];
        if rate <= 0.0 {
            return;
        }
        let e: f64 = Exp1.sample(&mut st.arrivals);
        st.clock_s += e / rate;
        if st.clock_s < to_secs(s.horizon()) {
            q.schedule_at(from_secs(st.clock_s), Event::JobArrival(c as u32));
        }
    }

    /// A job of class `c` arrives: it waits in line, and the line is served.
    pub fn arrival(
        &mut self,
        s: &Scenario,
        c: usize,
        now: SimTime,
        pools: &mut [PoolState],
        q: &mut EventQueue<Event>,
    ) {
        self.schedule_arrival(s, c, q);
        if now >= s.warmup() {
            self.classes[c].stats.arrived += 1;
        }
        self.waiting.push_back((c, now));
        self.place_waiting(s, now, pools, q);
    }

    /// A job ends: its GPUs return to their pools and waiting jobs are placed.
    pub fn done(
        &mut self,
        s: &Scenario,
        slot: usize,
        now: SimTime,
        pools: &mut [PoolState],
        q: &mut EventQueue<Event>,
    ) {
        let Some(job) = self.running.get_mut(slot).and_then(Option::take) else {
            return;
        };
        for &(p, n) in &job.gpus {
            // Each group the job ran on is paid once.
            pools[p].release(now, n);
        }
        if job.measured {
            self.classes[job.class].stats.completed += 1;
        }
        self.place_waiting(s, now, pools, q);
    }

    /// Places waiting jobs in arrival order while the first one fits.
    pub fn place_waiting(
        &mut self,
        s: &Scenario,
        now: SimTime,
        pools: &mut [PoolState],
        q: &mut EventQueue<Event>,
    ) {
        while let Some(&(c, arrived)) = self.waiting.front() {
            let Some(gpus) = placement(s, &s.jobs()[c], pools) else {
                break;
            };
            self.waiting.pop_front();
            for &(p, n) in &gpus {
                pools[p].reserve(now, n);
            }
            let measured = arrived >= s.warmup();
            let wall = self.run(s, c, &gpus, now, arrived, measured);
            let slot = self
                .running
                .iter()
                .position(Option::is_none)
                .unwrap_or(self.running.len());
            let job = Placed {
                class: c,
                gpus,
                measured,
            };
            if slot == self.running.len() {
                self.running.push(Some(job));
            } else {
                self.running[slot] = Some(job);
            }
            q.schedule_at(
                now.saturating_add(from_secs(wall)),
                Event::JobDone(slot as u32),
            );
        }
    }

    /// Draws the job's course on its GPUs and on the cloud, records it, and returns its wall
    /// time in seconds (until it finishes or is abandoned).
    fn run(
        &mut self,
        s: &Scenario,
        c: usize,
        gpus: &[(usize, u32)],
        now: SimTime,
        arrived: SimTime,
        measured: bool,
    ) -> f64 {
        let j = &s.jobs()[c];
        let (step, failure_rate) = network_step(s, j, gpus);
        let cloud = s.cloud();
        let cloud_step = StepModel {
            worker_flops: cloud.flops,
            link_bandwidth: cloud.bandwidth_bytes_per_s,
            link_latency: cloud.latency_s,
            ..step
        };
        let st = &mut self.classes[c];
        let net = course(j, &step, 1.0 / failure_rate, &mut st.failures);
        let cl = course(
            j,
            &cloud_step,
            cloud.mtbf_s / f64::from(j.gpus),
            &mut st.cloud,
        );
        let wall = net.map_or(f64::INFINITY, |t| t.wall_s());
        if measured {
            let x = &mut st.stats;
            x.placed += 1;
            x.wait_s += to_secs(now - arrived);
            match net {
                Some(t) => {
                    x.result_s += to_secs(now - arrived) + t.wall_s();
                    x.useful_s += t.useful_s;
                    x.wall_s += t.wall_s();
                    x.lost_s += t.lost_s;
                    x.failures += t.failures;
                    x.compute_share += step.compute_share();
                    x.flops += j.total_flops();
                    let peak: f64 = gpus
                        .iter()
                        .map(|&(p, n)| f64::from(n) * s.pools()[p].class.bf16_tflops * 1e12)
                        .sum();
                    x.mfu += j.total_flops() / (peak * t.wall_s());
                    let price: f64 = gpus
                        .iter()
                        .map(|&(p, n)| f64::from(n) * s.pools()[p].price_usd_per_gpu_hour)
                        .sum();
                    x.cost_usd += price * t.wall_s() / SECONDS_PER_HOUR;
                    if let Some(ct) = cl {
                        x.cloud_wall_s += ct.wall_s();
                        let peak = f64::from(j.gpus) * cloud.class.bf16_tflops * 1e12;
                        x.cloud_mfu += j.total_flops() / (peak * ct.wall_s());
                        x.cloud_cost_usd +=
                            f64::from(j.gpus) * cloud.price_usd_per_gpu_hour * ct.wall_s()
                                / SECONDS_PER_HOUR;
                    }
                }
                None => x.abandoned += 1,
            }
        }
        wall
    }

    /// Adds the job metrics, `job.<class>.<quantity>_<unit>.<statistic>`.
    pub fn metrics(&self, s: &Scenario, m: &mut Metrics) {
        for (c, (j, st)) in s.jobs().iter().zip(&self.classes).enumerate() {
            let x = &st.stats;
            let key = |q: &str| names::job(&j.name, q);
            m.insert(key(names::job::ARRIVED_JOBS), x.arrived as f64);
            m.insert(key(names::job::PLACED_JOBS), x.placed as f64);
            m.insert(key(names::job::COMPLETED_JOBS), x.completed as f64);
            m.insert(key(names::job::ABANDONED_JOBS), x.abandoned as f64);
            // Jobs still waiting at the horizon have waited until it (at least).
            let (waiting, waited_s) = self
                .waiting
                .iter()
                .filter(|&&(class, arrived)| class == c && arrived >= s.warmup())
                .fold((0u64, 0.0), |(n, w), &(_, arrived)| {
                    (n + 1, w + to_secs(s.horizon().saturating_sub(arrived)))
                });
            m.insert(key(names::job::WAITING_JOBS), waiting as f64);
            let ran = (x.placed - x.abandoned) as f64;
            if x.placed > 0 {
                m.insert(
                    key(names::job::WAIT_H),
                    x.wait_s / x.placed as f64 / SECONDS_PER_HOUR,
                );
            }
            let hours = |total_s: f64, n: f64| total_s / n / SECONDS_PER_HOUR;
            if x.placed + waiting > 0 {
                let n = (x.placed + waiting) as f64;
                m.insert(
                    key(names::job::CENSORED_WAIT_H),
                    hours(x.wait_s + waited_s, n),
                );
            }
            if ran + waiting as f64 > 0.0 {
                let n = ran + waiting as f64;
                m.insert(
                    key(names::job::CENSORED_TIME_TO_RESULT_H),
                    hours(x.result_s + waited_s, n),
                );
            }
            if ran > 0.0 {
                m.insert(key(names::job::TIME_TO_RESULT_H), hours(x.result_s, ran));
                m.insert(key(names::job::WALL_H), x.wall_s / ran / SECONDS_PER_HOUR);
                m.insert(key(names::job::GOODPUT), x.useful_s / x.wall_s);
                m.insert(key(names::job::COMPUTE_SHARE), x.compute_share / ran);
                m.insert(key(names::job::MFU), x.mfu / ran);
                m.insert(key(names::job::CLOUD_MFU), x.cloud_mfu / ran);
                m.insert(key(names::job::FAILURES), x.failures as f64 / ran);
                m.insert(key(names::job::LOST_H), x.lost_s / ran / SECONDS_PER_HOUR);
                m.insert(
                    key(names::job::USD_PER_PFLOP),
                    x.cost_usd / (x.flops / 1e15),
                );
                m.insert(
                    key(names::job::CLOUD_WALL_H),
                    x.cloud_wall_s / ran / SECONDS_PER_HOUR,
                );
                m.insert(
                    key(names::job::CLOUD_USD_PER_PFLOP),
                    x.cloud_cost_usd / (x.flops / 1e15),
                );
                m.insert(
                    key(names::job::COST_VS_CLOUD),
                    x.cost_usd / x.cloud_cost_usd,
                );
                m.insert(key(names::job::TIME_VS_CLOUD), x.wall_s / x.cloud_wall_s);
            }
        }
    }
}

/// The job's step on its placement and its failure rate (failures per second).
fn network_step(s: &Scenario, j: &JobClass, gpus: &[(usize, u32)]) -> (StepModel, f64) {
    let pools = s.pools();
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
        link_bandwidth: bandwidth,
        link_latency: latency,
    };
    let rate = gpus
        .iter()
        .map(|&(p, n)| f64::from(n) / pools[p].mtbf_s)
        .sum();
    (step, rate)
}

/// The job's course with exponential failures of mean `mtbf_s` (the whole job's).
fn course(j: &JobClass, step: &StepModel, mtbf_s: f64, rng: &mut StreamRng) -> Option<JobTime> {
    let work = (j.tokens / j.tokens_per_step).ceil() * step.step_s();
    let recovery = Recovery {
        interval_s: j
            .interval_s
            .unwrap_or_else(|| young_daly_interval_s(j.checkpoint_s, mtbf_s))
            .max(step.step_s()),
        checkpoint_s: j.checkpoint_s,
        restart_s: j.restart_s,
    };
    let failures = Dist::Exponential(rand_distr::Exp::new(1.0 / mtbf_s).ok()?, mtbf_s);
    run_job(work, &recovery, &failures, MAX_FAILURES, rng)
}

/// Idle GPUs for job `j` under its placement rule, or None if they are not there now.
fn placement(s: &Scenario, j: &JobClass, pools: &[PoolState]) -> Option<Vec<(usize, u32)>> {
    let need_gb = j.state_bytes_per_gpu() / 1e9;
    let fits = |p: usize| {
        let spec = &s.pools()[p];
        spec.class.vram_gb >= need_gb && spec.online_local_h.is_none() && pools[p].idle() > 0
    };
    let take = |candidates: &mut dyn Iterator<Item = usize>| {
        let mut left = j.gpus;
        let mut out = Vec::new();
        for p in candidates {
            let n = pools[p].idle().min(left);
            out.push((p, n));
            left -= n;
            if left == 0 {
                return Some(out);
            }
        }
        None
    };
    let n = pools.len();
    match j.placement {
        Placement::OneProvider => (0..n)
            .find(|&p| fits(p) && pools[p].idle() >= j.gpus)
            .map(|p| vec![(p, j.gpus)]),
        Placement::OneRegion => (0..s.regions().len())
            .find_map(|r| take(&mut (0..n).filter(|&p| fits(p) && s.pools()[p].region == r))),
        Placement::Anywhere => {
            // Fewest pools: the groups with the most idle GPUs first (ties in file order).
            let mut order: Vec<usize> = (0..n).filter(|&p| fits(p)).collect();
            order.sort_by_key(|&p| (std::cmp::Reverse(pools[p].idle()), p));
            take(&mut order.into_iter())
        }
    }
}
