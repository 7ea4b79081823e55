//! Training and fine-tuning jobs at run time: Poisson arrivals per job class, placement on
//! idle GPUs of the provider pools (which inference then cannot use), the job's wall time
//! under failures from the training time model, and the same job on the cloud reference.
//!
//! A job's whole course (steps, checkpoints, failures, rollbacks) is drawn when it is placed
//! ([`super::job_course`]); the engine sees its arrival, the failures of its
//! GPUs (each counted against the group it hits, chosen in proportion to the group's GPUs
//! over their MTBF, so the token slashes it like a serving GPU's; the job's own model
//! restarts it) and its end, when its GPUs return to the pools and waiting jobs are placed:
//! the head of the line whenever it fits, and under `job_queue: backfill` later jobs that do
//! not delay it ([`super::job_queue`]).
//! A job placed `anywhere` takes GPUs from the groups with the most idle GPUs first, so it
//! spans as few groups as it can.

use std::collections::VecDeque;

use rand_distr::{Distribution, Exp1};

use crate::core::engine::{EventQueue, SimTime, from_secs, to_secs};
use crate::core::rng::{StreamRng, Streams};
use crate::core::units::SECONDS_PER_HOUR;
use crate::metrics::Metrics;
use crate::metrics::names;
use crate::scenario::{JobClass, JobQueue, Placement, Scenario};

use super::event::Event;
use super::job_course::{Course, cloud_course, failed_group};
use super::job_queue::Reservation;
use super::pool::PoolState;
use crate::physics::training::DataParallel;

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
    /// Sums over jobs of the share of time waiting on exchanges, the (inner) step, s, and
    /// one synchronisation's exchange, s.
    idle_share: f64,
    step_s: f64,
    exchange_s: f64,
    /// Sum over jobs of the checkpoint write time, s.
    checkpoint_s: f64,
    /// Jobs run fully sharded.
    sharded: u64,
    /// Sum over jobs of the memory each GPU holds, bytes.
    memory_bytes: f64,
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
    /// Which group each failure of a job spanning several groups hits.
    failure_groups: StreamRng,
    cloud: StreamRng,
    stats: ClassStats,
}

/// A placed job: its class, its GPUs, its planned end, whether it counts in the statistics
/// and, for a measured job that finishes, what one GPU of each of its groups had been charged
/// when it started ([`PoolState::charge_per_gpu_at`]).
struct Placed {
    class: usize,
    gpus: Vec<(usize, u32)>,
    end: SimTime,
    measured: bool,
    charged_from: Option<Vec<f64>>,
}

impl Placed {
    /// What users paid for the job from its start to `now` and, after `now`, at the prices
    /// in force at `now` until its end, USD.
    fn charge_usd(&self, pools: &[PoolState], now: SimTime) -> f64 {
        let Some(from) = &self.charged_from else {
            return 0.0;
        };
        let after_h = to_secs(self.end.saturating_sub(now)) / SECONDS_PER_HOUR;
        self.gpus
            .iter()
            .zip(from)
            .map(|(&(p, n), from)| {
                let pool = &pools[p];
                let later = after_h * pool.price() * pool.price_mult();
                f64::from(n) * (pool.charge_per_gpu_at(now) - from + later)
            })
            .sum()
    }
}

/// Bytes of one job waiting or running (for the memory estimate, `footprint.rs`): its place
/// in the line, and once placed its slot, its GPUs in one group and what they were charged.
pub(crate) const BYTES_PER_JOB: usize = size_of::<(usize, SimTime)>()
    + size_of::<Option<Placed>>()
    + size_of::<(usize, u32)>()
    + size_of::<f64>();

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
                failure_groups: streams.indexed("job_failure_groups", i),
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
            let x = &mut self.classes[job.class].stats;
            x.completed += 1;
            x.cost_usd += job.charge_usd(pools, now);
        }
        self.place_waiting(s, now, pools, q);
    }

    /// Places waiting jobs: the head of the line while it fits, then, under backfilling,
    /// later jobs that fit and do not delay the head.
    pub fn place_waiting(
        &mut self,
        s: &Scenario,
        now: SimTime,
        pools: &mut [PoolState],
        q: &mut EventQueue<Event>,
    ) {
        while let Some(&(c, arrived)) = self.waiting.front() {
            let Some(gpus) = placement(s, &s.jobs()[c], &idle(pools)) else {
                break;
            };
            self.waiting.pop_front();
            let course = self.draw(s, c, gpus, now);
            self.launch(s, (c, arrived), course, now, pools, q);
        }
        if s.job_queue() == JobQueue::Backfill && self.waiting.len() > 1 {
            self.backfill(s, now, pools, q);
        }
    }

    /// EASY backfilling: the head of the line (which does not fit) gets a reservation, and
    /// each later job that fits now, in arrival order, starts if the reservation admits it.
    fn backfill(
        &mut self,
        s: &Scenario,
        now: SimTime,
        pools: &mut [PoolState],
        q: &mut EventQueue<Event>,
    ) {
        let head = &s.jobs()[self.waiting[0].0];
        let mut reservation = Reservation::new(
            &idle(pools),
            self.running
                .iter()
                .flatten()
                .map(|j| (j.end, j.gpus.as_slice())),
            |avail| placement(s, head, avail),
            |p| usable(s, head, p),
        );
        let mut i = 1;
        while i < self.waiting.len() {
            let (c, arrived) = self.waiting[i];
            let free = idle(pools);
            if free.iter().all(|&n| n == 0) {
                break;
            }
            if let Some(gpus) = placement(s, &s.jobs()[c], &free) {
                let course = self.draw(s, c, gpus, now);
                let end = now.saturating_add(from_secs(course.wall_s()));
                if reservation.admit(end, &course.gpus) {
                    self.waiting.remove(i);
                    self.launch(s, (c, arrived), course, now, pools, q);
                    continue;
                }
            }
            i += 1;
        }
    }

    /// The course a job of class `c` would have on `gpus` if it started at `now`.
    fn draw(&self, s: &Scenario, c: usize, gpus: Vec<(usize, u32)>, now: SimTime) -> Course {
        Course::draw(s, &s.jobs()[c], gpus, now, &self.classes[c].failures)
    }

    /// Starts the job of class `c` that arrived at `arrived` (`job`) on its drawn `course`:
    /// reserves its GPUs, records it and schedules its end.
    fn launch(
        &mut self,
        s: &Scenario,
        job: (usize, SimTime),
        course: Course,
        now: SimTime,
        pools: &mut [PoolState],
        q: &mut EventQueue<Event>,
    ) {
        let (c, arrived) = job;
        for &(p, n) in &course.gpus {
            pools[p].reserve(now, n);
        }
        let measured = arrived >= s.warmup();
        let wall = course.wall_s();
        self.record(s, c, &course, now - arrived, measured);
        let Course {
            gpus,
            failures,
            failed_at_s,
            net,
            ..
        } = course;
        let charged_from = (measured && net.is_some()).then(|| {
            gpus.iter()
                .map(|&(p, _)| pools[p].charge_per_gpu_at(now))
                .collect()
        });
        self.classes[c].failures = failures;
        let groups = &mut self.classes[c].failure_groups;
        for at in failed_at_s {
            let p = failed_group(s, &gpus, groups);
            q.schedule_at(
                now.saturating_add(from_secs(at)),
                Event::JobGpuFailure(p as u32),
            );
        }
        let end = now.saturating_add(from_secs(wall));
        let slot = self
            .running
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.running.len());
        let job = Placed {
            class: c,
            gpus,
            end,
            measured,
            charged_from,
        };
        if slot == self.running.len() {
            self.running.push(Some(job));
        } else {
            self.running[slot] = Some(job);
        }
        q.schedule_at(end, Event::JobDone(slot as u32));
    }

    /// Draws the job's course on the cloud and records both courses, after a wait of
    /// `waited`.
    fn record(&mut self, s: &Scenario, c: usize, course: &Course, waited: SimTime, measured: bool) {
        let j = &s.jobs()[c];
        let (step, gpus) = (course.step, &course.gpus);
        let cloud = s.cloud();
        let st = &mut self.classes[c];
        let cl = cloud_course(s, j, &mut st.cloud);
        if measured {
            let x = &mut st.stats;
            x.placed += 1;
            x.wait_s += to_secs(waited);
            match course.net {
                Some(t) => {
                    x.result_s += to_secs(waited) + t.wall_s();
                    x.useful_s += t.useful_s;
                    x.wall_s += t.wall_s();
                    x.lost_s += t.lost_s;
                    x.failures += t.failures;
                    x.compute_share += step.compute_share;
                    x.idle_share += step.idle_share;
                    x.step_s += step.step_s;
                    x.exchange_s += step.exchange_s;
                    x.checkpoint_s += course.checkpoint_s;
                    x.sharded += u64::from(step.parallel == DataParallel::Sharded);
                    x.memory_bytes += step.memory_bytes;
                    x.flops += j.total_flops();
                    let peak: f64 = gpus
                        .iter()
                        .map(|&(p, n)| f64::from(n) * s.pools()[p].class.bf16_tflops * 1e12)
                        .sum();
                    x.mfu += j.total_flops() / (peak * t.wall_s());
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
    }

    /// Adds the job metrics, `job.<class>.<quantity>_<unit>.<statistic>`, at the horizon.
    /// A job's cost is what users were charged for its GPUs (under utilisation pricing, at the
    /// multipliers in force while it ran); for a job still running at the horizon, the rest
    /// of its course at the prices in force then.
    pub fn metrics(&self, s: &Scenario, pools: &[PoolState], m: &mut Metrics) {
        for (c, (j, st)) in s.jobs().iter().zip(&self.classes).enumerate() {
            let running_usd: f64 = self
                .running
                .iter()
                .flatten()
                .filter(|job| job.class == c)
                .map(|job| job.charge_usd(pools, s.horizon()))
                .sum();
            let x = &ClassStats {
                cost_usd: st.stats.cost_usd + running_usd,
                ..st.stats.clone()
            };
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
                m.insert(key(names::job::IDLE_SHARE), x.idle_share / ran);
                m.insert(key(names::job::STEP_S), x.step_s / ran);
                m.insert(key(names::job::EXCHANGE_S), x.exchange_s / ran);
                m.insert(key(names::job::CHECKPOINT_S), x.checkpoint_s / ran);
                m.insert(key(names::job::SHARDED), x.sharded as f64 / ran);
                m.insert(
                    key(names::job::GPU_MEMORY_GIB),
                    x.memory_bytes / ran / 1_073_741_824.0,
                );
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

/// Idle GPUs of each group.
fn idle(pools: &[PoolState]) -> Vec<u32> {
    pools.iter().map(PoolState::idle).collect()
}

/// Whether job `j` may ever use group `p`: enough memory for its share of the model states
/// and its activations under a parallelism its class allows, and no owners' hours.
fn usable(s: &Scenario, j: &JobClass, p: usize) -> bool {
    let spec = &s.pools()[p];
    j.fits_on(spec.class, spec.gpus_per_host) && spec.online_local_h.is_none()
}

/// GPUs for job `j` under its placement rule with `idle[p]` idle GPUs in group `p`, or None
/// if they are not there. Under local SGD a group gives whole workers (hosts, or GPUs on a
/// flat ring), and the group that completes the job may give one smaller worker if the
/// job's states fit its GPUs.
fn placement(s: &Scenario, j: &JobClass, idle: &[u32]) -> Option<Vec<(usize, u32)>> {
    let fits = |p: usize| usable(s, j, p) && idle[p] > 0;
    // GPUs group `p` gives when `left` are still wanted.
    let chunk = |p: usize, left: u32| -> u32 {
        let n = idle[p].min(left);
        if j.local_sgd.is_none() {
            return n;
        }
        let size = j.worker_gpus(s.pools()[p].gpus_per_host);
        let rest = n % size;
        let usable = j.usable_bytes(s.pools()[p].class);
        if n == left && rest > 0 && j.parallel_for(usable, rest).is_some() {
            n
        } else {
            n - rest
        }
    };
    let take = |candidates: &mut dyn Iterator<Item = usize>| {
        let mut left = j.gpus;
        let mut out = Vec::new();
        for p in candidates {
            let n = chunk(p, left);
            if n == 0 {
                continue;
            }
            out.push((p, n));
            left -= n;
            if left == 0 {
                return Some(out);
            }
        }
        None
    };
    let n = idle.len();
    match j.placement {
        Placement::OneProvider => (0..n)
            .find(|&p| fits(p) && idle[p] >= j.gpus && chunk(p, j.gpus) == j.gpus)
            .map(|p| vec![(p, j.gpus)]),
        Placement::OneRegion => (0..s.regions().len())
            .find_map(|r| take(&mut (0..n).filter(|&p| fits(p) && s.pools()[p].region == r))),
        Placement::Anywhere => {
            // Fewest pools: the groups with the most idle GPUs first (ties in file order).
            let mut order: Vec<usize> = (0..n).filter(|&p| fits(p)).collect();
            order.sort_by_key(|&p| (std::cmp::Reverse(idle[p]), p));
            take(&mut order.into_iter())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::engine::from_hours;
    use crate::scenario::load_str;
    use crate::scenario::overrides::parse_override;

    /// One group of 16 H100s that never fail, and four classes of 8B fine-tuning jobs that
    /// arrive only when a test says so, at 128 PFLOP a step: `long` (8 GPUs, 40 steps, about
    /// 0.22 h), `head` (16 GPUs, 4 steps), `small` (4 GPUs, 1 step) and `slow` (4 GPUs, 100
    /// steps, about 1.1 h).
    const QUEUE: &str = "
simulation: {horizon_h: 100, warmup_h: 0, epoch_h: 100, replications: 1}
regions: [{name: lab}]
providers:
  - {name: dc, region: lab, gpu: h100_sxm, count: 16, hourly_cost_usd: 1.0, mtbf_h: 1.0e12}
inference: {users: [{region: lab, rate_per_s: 0.001}]}
training:
  - {name: long, kind: fine_tuning, arrivals_per_day: 0, params_b: 8, tokens_b: 0.16, gpus: 8, placement: one_provider}
  - {name: head, kind: fine_tuning, arrivals_per_day: 0, params_b: 8, tokens_b: 0.016, gpus: 16, placement: one_provider}
  - {name: small, kind: fine_tuning, arrivals_per_day: 0, params_b: 8, tokens_b: 0.004, gpus: 4, placement: one_provider}
  - {name: slow, kind: fine_tuning, arrivals_per_day: 0, params_b: 8, tokens_b: 0.4, gpus: 4, placement: one_provider}
";

    /// Jobs of the classes `(index, arrival in hours)` under the settings `sets`, each job's
    /// end handled as the world does, until the horizon: the job metrics.
    fn run(sets: &[&str], arrivals: &[(usize, f64)]) -> Metrics {
        let sets: Vec<_> = sets
            .iter()
            .map(|o| parse_override(o).expect("set"))
            .collect();
        let s = load_str(QUEUE, "queue", "queue", &sets).expect("valid");
        let mut pools: Vec<PoolState> = s
            .pools()
            .iter()
            .map(|p| PoolState::new(p.count, p.initial, p.price_usd_per_gpu_hour))
            .collect();
        let mut jobs = Jobs::new(&s, &Streams::new(1, 0));
        let mut q = EventQueue::new();
        let mut next = arrivals.iter().peekable();
        loop {
            let arrival = next.peek().map(|&&(c, h)| (c, from_hours(h)));
            let end = q.peek_time().filter(|&e| e <= s.horizon());
            match (arrival, end) {
                (Some((c, at)), end) if end.is_none_or(|e| at <= e) => {
                    next.next();
                    jobs.arrival(&s, c, at, &mut pools, &mut q);
                }
                (_, Some(_)) => {
                    if let Some((now, Event::JobDone(slot))) = q.pop_until(s.horizon()) {
                        jobs.done(&s, slot as usize, now, &mut pools, &mut q);
                    }
                }
                _ => break,
            }
        }
        let mut m = Metrics::new();
        jobs.metrics(&s, &pools, &mut m);
        m
    }

    /// A metric of class `class`.
    fn get(m: &Metrics, class: &str, quantity: &str) -> f64 {
        *m.get(&names::job(class, quantity))
            .unwrap_or_else(|| panic!("no {class} {quantity} in {m:#?}"))
    }

    #[test]
    fn backfill_starts_a_short_job_at_once_without_delaying_the_head() {
        // `long` holds 8 of the 16 GPUs from hour 0; `head` wants all 16 from hour 0.01; the
        // 4 GPUs `small` wants at hour 0.02 are idle, and it ends long before `long` does.
        let arrivals = [(0, 0.0), (1, 0.01), (2, 0.02)];
        let fcfs = run(&["job_queue=fcfs"], &arrivals);
        let backfill = run(&["job_queue=backfill"], &arrivals);
        let long_h = get(&fcfs, "long", names::job::WALL_H);
        let head_h = get(&fcfs, "head", names::job::WALL_H);
        assert!(get(&fcfs, "small", names::job::WALL_H) < long_h - 0.02);
        // The head starts when `long` ends, either way.
        for m in [&fcfs, &backfill] {
            let wait = get(m, "head", names::job::WAIT_H);
            assert!(
                (wait - (long_h - 0.01)).abs() < 1e-9,
                "head waited {wait} h"
            );
        }
        // Strictly in order, `small` waits behind the head until the head ends; backfilled,
        // it does not wait at all.
        let small = get(&fcfs, "small", names::job::WAIT_H);
        assert!((small - (long_h + head_h - 0.02)).abs() < 1e-9, "{small} h");
        assert_eq!(get(&backfill, "small", names::job::WAIT_H), 0.0);
    }

    #[test]
    fn backfill_holds_back_a_job_that_would_delay_the_head() {
        // `slow` outlasts `long`, and at `long`'s end the head needs every GPU: it must wait.
        let arrivals = [(0, 0.0), (1, 0.01), (3, 0.02)];
        let m = run(&["job_queue=backfill"], &arrivals);
        let (long_h, head_h) = (
            get(&m, "long", names::job::WALL_H),
            get(&m, "head", names::job::WALL_H),
        );
        assert!(get(&m, "slow", names::job::WALL_H) > long_h);
        assert!((get(&m, "head", names::job::WAIT_H) - (long_h - 0.01)).abs() < 1e-9);
        let slow = get(&m, "slow", names::job::WAIT_H);
        assert!((slow - (long_h + head_h - 0.02)).abs() < 1e-9, "{slow} h");
    }

    #[test]
    fn backfill_lends_a_long_job_the_gpus_the_head_leaves_spare() {
        // A head of 12 leaves 4 of the 16 GPUs spare at its shadow time: `slow` may hold
        // them past it, and the head still starts when `long` ends.
        let arrivals = [(0, 0.0), (1, 0.01), (3, 0.02)];
        let m = run(&["job_queue=backfill", "training.head.gpus=12"], &arrivals);
        let long_h = get(&m, "long", names::job::WALL_H);
        assert!(get(&m, "slow", names::job::WALL_H) > long_h);
        assert_eq!(get(&m, "slow", names::job::WAIT_H), 0.0);
        assert!((get(&m, "head", names::job::WAIT_H) - (long_h - 0.01)).abs() < 1e-9);
        // A second `slow` finds no spare GPU left and waits.
        let arrivals = [(0, 0.0), (1, 0.01), (3, 0.02), (3, 0.03)];
        let m = run(&["job_queue=backfill", "training.head.gpus=12"], &arrivals);
        assert!(get(&m, "slow", names::job::WAIT_H) > 0.0);
        assert!((get(&m, "head", names::job::WAIT_H) - (long_h - 0.01)).abs() < 1e-9);
    }

    #[test]
    fn jobs_waiting_at_the_horizon_count_as_waiting_until_it() {
        // A head that waits for `long` past a 0.1 h horizon: its censored wait is 0.1 - 0.01
        // h, `long`'s 0; the placed-only wait (0) hides it.
        let arrivals = [(0, 0.0), (1, 0.01)];
        let m = run(&["simulation.horizon_h=0.1"], &arrivals);
        assert!(get(&m, "long", names::job::WALL_H) > 0.1);
        assert_eq!(get(&m, "head", names::job::WAITING_JOBS), 1.0);
        assert!(!m.contains_key(&names::job("head", names::job::WAIT_H)));
        let censored = get(&m, "head", names::job::CENSORED_WAIT_H);
        assert!((censored - 0.09).abs() < 1e-9, "{censored} h");
        let result = get(&m, "head", names::job::CENSORED_TIME_TO_RESULT_H);
        assert!((result - 0.09).abs() < 1e-9, "{result} h");
        assert_eq!(get(&m, "long", names::job::CENSORED_WAIT_H), 0.0);
        let long = get(&m, "long", names::job::TIME_TO_RESULT_H);
        assert_eq!(long, get(&m, "long", names::job::WALL_H));
    }
}
