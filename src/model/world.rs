//! The world of one replication: users issuing requests, routing, GPU pools serving them,
//! and the recorder measuring it all. It implements [`Model`] for the engine.
//!
//! A request's life: issued by a user group (Poisson, optionally thinned by a daily cycle);
//! routed to a pool ([`Routing`]); served at once if a GPU is free, queued FIFO if there is
//! room, dropped otherwise; on completion the next queued request starts. Requests join the
//! pool's queue when issued; their network round trip and payload transfer are added to their
//! latency (queue order ignores the few milliseconds of propagation).

use rand_distr::{Distribution, Exp1};

use crate::dist::unit;
use crate::engine::{EventQueue, Model, SimTime, from_secs, to_secs};
use crate::metrics::recorder::Completion;
use crate::metrics::{EpochRow, Metrics, Recorder};
use crate::rng::{StreamRng, Streams};
use crate::scenario::Scenario;
use crate::scenario::raw::Routing;

use super::jobs::Jobs;
use super::pool::PoolState;

const NANOS_PER_HOUR: f64 = 3.6e12;
const DAY: SimTime = 86_400 * crate::engine::NANOS_PER_SEC;

/// The model's events: small values carrying indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// User group `0` issues a request.
    Arrival(u32),
    /// The request in slab slot `0` finishes service.
    Complete(u32),
    /// An epoch ends: write a time-series row.
    Epoch,
    /// The warm-up ends: statistics start.
    WarmupEnd,
    /// A job of class `0` arrives.
    JobArrival(u32),
    /// The job in slot `0` ends.
    JobDone(u32),
    /// A GPU of pool `0` may fail.
    GpuFailure(u32),
    /// A failed GPU of pool `0` is repaired.
    GpuRepair(u32),
    /// The owners of pool `0` lend their GPUs again.
    Lend(u32),
    /// The owners of pool `0` take their GPUs back.
    Withdraw(u32),
}

/// A pool a user group may use, with the network costs precomputed.
#[derive(Clone, Debug)]
struct Candidate {
    pool: usize,
    rtt: SimTime,
    secs_per_byte: f64,
}

/// Run-time state of a user group.
struct Users {
    region: usize,
    rate: f64,
    /// Rate bound for thinning: rate x (1 + amplitude).
    rate_max: f64,
    /// (amplitude, peak local hour, UTC offset).
    cycle: Option<(f64, f64, f64)>,
    /// Time of the last candidate arrival, seconds (kept in f64 so rounding never drifts).
    clock_s: f64,
    candidates: Vec<Candidate>,
    arrivals: StreamRng,
    tokens: StreamRng,
    service: StreamRng,
}

/// A request in flight.
#[derive(Clone, Copy, Debug, Default)]
struct Request {
    user: u32,
    pool: u32,
    issued: SimTime,
    started: SimTime,
    service: SimTime,
    /// Network and prefill time before the first token, excluding queueing.
    ttft_extra: SimTime,
    /// Network time of the whole exchange.
    net: SimTime,
    output_tokens: u32,
    /// Position in its pool's list of requests in service.
    pos: u32,
    /// Preempted by a GPU failure: the request moved to another slot and this slot's
    /// pending completion is void.
    dead: bool,
}

/// What a finished replication hands back.
#[derive(Clone, Debug)]
pub struct ReplicationOutput {
    /// Scalar metrics over the measurement window.
    pub metrics: Metrics,
    /// Per-epoch time series.
    pub rows: Vec<EpochRow>,
    /// Events the engine processed.
    pub events: u64,
    /// Requests issued over the whole horizon.
    pub requests: u64,
}

/// One replication's state.
pub struct World<'s> {
    s: &'s Scenario,
    replication: u32,
    users: Vec<Users>,
    pools: Vec<PoolState>,
    /// Mean service time per pool, seconds (for least-latency routing).
    mean_service_s: Vec<f64>,
    reqs: Vec<Request>,
    free: Vec<u32>,
    rec: Recorder,
    issued: u64,
    epoch_index: u32,
    epoch_start: SimTime,
    epoch_areas: Vec<(u128, u128)>,
    warm_areas: Vec<(u128, u128)>,
    jobs: Jobs,
    /// One failure stream per pool.
    failures: Vec<StreamRng>,
    warm_offline: Vec<u128>,
}

impl<'s> World<'s> {
    /// Builds replication `replication` of scenario `s` with the given random streams.
    pub fn new(s: &'s Scenario, replication: u32, streams: &Streams) -> Self {
        let users = s
            .users()
            .iter()
            .enumerate()
            .map(|(i, u)| build_users(s, i, u, streams))
            .collect();
        let pools: Vec<PoolState> = s
            .pools()
            .iter()
            .map(|p| {
                let cap = s
                    .max_queue_per_gpu
                    .map_or(usize::MAX, |q| q as usize * p.count as usize);
                let mut state = PoolState::new(p.count, cap);
                // A pool expected to see fewer than one failure in a million runs needs no
                // failure events and no preemption bookkeeping.
                state.can_fail = f64::from(p.count) * to_secs(s.horizon()) / p.mtbf_s > 1e-6;
                state.tracked = state.can_fail || p.online_local_h.is_some();
                state
            })
            .collect();
        let mean_service_s = s
            .pools()
            .iter()
            .map(|p| match s.service_override() {
                Some(d) => d.mean(),
                None => p
                    .roofline
                    .service_s(s.prompt.mean().round(), s.output.mean().round().max(1.0)),
            })
            .collect();
        let n = pools.len();
        Self {
            s,
            replication,
            users,
            pools,
            mean_service_s,
            reqs: Vec::new(),
            free: Vec::new(),
            rec: Recorder::new(s.regions().len()),
            issued: 0,
            epoch_index: 0,
            epoch_start: 0,
            epoch_areas: vec![(0, 0); n],
            warm_areas: vec![(0, 0); n],
            jobs: Jobs::new(s, streams),
            failures: (0..n as u64)
                .map(|i| streams.indexed("gpu_failures", i))
                .collect(),
            warm_offline: vec![0; n],
        }
    }

    /// Schedules the first events: one arrival per user group, the first epoch end and the
    /// end of the warm-up.
    pub fn start(&mut self, q: &mut EventQueue<Event>) {
        if self.s.warmup() > 0 {
            q.schedule_at(self.s.warmup(), Event::WarmupEnd);
        }
        q.schedule_at(self.s.epoch.min(self.s.horizon()), Event::Epoch);
        self.jobs.start(self.s, q);
        for (i, p) in self.s.pools().iter().enumerate() {
            if let Some((from, to)) = p.online_local_h {
                // Local hour h falls at UTC hour h - offset; the first of each is the next one
                // at or after time 0.
                let offset = self.s.regions()[p.region].utc_offset_h;
                let at = |h: f64| from_secs((h - offset).rem_euclid(24.0) * 3600.0);
                q.schedule_at(at(from), Event::Lend(i as u32));
                q.schedule_at(at(to), Event::Withdraw(i as u32));
                let now_local = offset.rem_euclid(24.0);
                let lent = if from < to {
                    (from..to).contains(&now_local)
                } else {
                    now_local >= from || now_local < to
                };
                self.pools[i].away = !lent;
            }
            if !self.pools[i].can_fail {
                continue;
            }
            let e: f64 = Exp1.sample(&mut self.failures[i]);
            q.schedule_at(
                from_secs(e * p.mtbf_s / f64::from(p.count)),
                Event::GpuFailure(i as u32),
            );
        }
        for u in 0..self.users.len() {
            if let Some(t) = self.next_arrival(u) {
                q.schedule_at(t, Event::Arrival(u as u32));
            }
        }
    }

    /// Draws the next arrival time of user group `u` (None past the horizon).
    fn next_arrival(&mut self, u: usize) -> Option<SimTime> {
        let horizon_s = to_secs(self.s.horizon());
        let g = &mut self.users[u];
        if g.rate <= 0.0 {
            return None;
        }
        loop {
            let e: f64 = Exp1.sample(&mut g.arrivals);
            g.clock_s += e / g.rate_max;
            if g.clock_s >= horizon_s {
                return None;
            }
            let Some((amp, peak, offset)) = g.cycle else {
                break;
            };
            let local_h = (g.clock_s / 3600.0 + offset).rem_euclid(24.0);
            let rate =
                g.rate * (1.0 + amp * (std::f64::consts::TAU * (local_h - peak) / 24.0).cos());
            if unit(&mut g.arrivals) * g.rate_max < rate {
                break;
            }
        }
        Some(from_secs(g.clock_s))
    }

    fn arrival(&mut self, u: usize, now: SimTime, q: &mut EventQueue<Event>) {
        if let Some(t) = self.next_arrival(u) {
            q.schedule_at(t, Event::Arrival(u as u32));
        }
        self.issued += 1;
        let measured = now >= self.s.warmup();
        let region = self.users[u].region;
        self.rec.arrived(region, measured);
        let g = &mut self.users[u];
        let prompt = round_tokens(self.s.prompt.sample(&mut g.tokens), 0.0);
        let output = round_tokens(self.s.output.sample(&mut g.tokens), 1.0);
        let drawn = self.s.service.as_ref().map(|d| d.sample(&mut g.service));
        let Some(c) = self.route(u, prompt, output, drawn) else {
            self.rec.dropped(region, measured);
            return;
        };
        let cand = &self.users[u].candidates[c];
        let pool = cand.pool;
        let up = cand.secs_per_byte * prompt * self.s.bytes_per_token;
        let down = cand.secs_per_byte * output * self.s.bytes_per_token;
        let (service_s, first_s) = match drawn {
            Some(d) => (d, d),
            None => {
                let r = &self.s.pools()[pool].roofline;
                (r.service_s(prompt, output), r.prefill_s(prompt))
            }
        };
        let req = Request {
            user: u as u32,
            pool: pool as u32,
            issued: now,
            started: now,
            service: from_secs(service_s),
            ttft_extra: cand.rtt + from_secs(up + first_s),
            net: cand.rtt + from_secs(up + down),
            output_tokens: output as u32,
            pos: 0,
            dead: false,
        };
        let slot = self.alloc(req);
        self.admit(pool, slot, now, q);
    }

    /// Picks a candidate (index into the group's candidate list), or None to drop.
    fn route(&self, u: usize, prompt: f64, output: f64, drawn: Option<f64>) -> Option<usize> {
        let cands = &self.users[u].candidates;
        match self.s.routing {
            Routing::NearestFree => cands
                .iter()
                .position(|c| self.pools[c.pool].has_free())
                .or_else(|| cands.iter().position(|c| self.pools[c.pool].has_room())),
            Routing::LeastLatency => {
                let mut best: Option<(f64, usize)> = None;
                for (i, c) in cands.iter().enumerate() {
                    let p = &self.pools[c.pool];
                    if !p.has_room() {
                        continue;
                    }
                    let wait = if p.has_free() {
                        0.0
                    } else {
                        (p.queue.len() + 1) as f64 * self.mean_service_s[c.pool]
                            / f64::from(p.count)
                    };
                    let service = drawn.unwrap_or_else(|| {
                        self.s.pools()[c.pool].roofline.service_s(prompt, output)
                    });
                    let est = to_secs(c.rtt)
                        + c.secs_per_byte * (prompt + output) * self.s.bytes_per_token
                        + wait
                        + service;
                    if best.is_none_or(|(b, _)| est < b) {
                        best = Some((est, i));
                    }
                }
                best.map(|(_, i)| i)
            }
        }
    }

    fn alloc(&mut self, req: Request) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.reqs[i as usize] = req;
                i
            }
            None => {
                self.reqs.push(req);
                (self.reqs.len() - 1) as u32
            }
        }
    }

    fn admit(&mut self, pool: usize, slot: u32, now: SimTime, q: &mut EventQueue<Event>) {
        let p = &mut self.pools[pool];
        p.advance(now);
        if p.has_free() {
            p.busy += 1;
            self.start_service(pool, slot, now, q);
        } else {
            p.queue.push_back(slot);
        }
    }

    /// Puts the request in `slot` on a GPU of `pool` (already counted busy) at `now`.
    #[inline]
    fn start_service(&mut self, pool: usize, slot: u32, now: SimTime, q: &mut EventQueue<Event>) {
        let p = &mut self.pools[pool];
        let r = &mut self.reqs[slot as usize];
        r.started = now;
        if p.tracked {
            r.pos = p.in_service.len() as u32;
            p.in_service.push(slot);
        }
        q.schedule_at(now.saturating_add(r.service), Event::Complete(slot));
    }

    /// Takes the request in `slot` off its pool's list of requests in service.
    #[inline]
    fn end_service(&mut self, pool: usize, slot: u32) {
        let p = &mut self.pools[pool];
        if !p.tracked {
            return;
        }
        let pos = self.reqs[slot as usize].pos as usize;
        p.in_service.swap_remove(pos);
        if let Some(&moved) = p.in_service.get(pos) {
            self.reqs[moved as usize].pos = pos as u32;
        }
    }

    /// Starts the next queued request of `pool` if a GPU is free.
    fn serve_next(&mut self, pool: usize, now: SimTime, q: &mut EventQueue<Event>) {
        let p = &mut self.pools[pool];
        if !p.has_free() {
            return;
        }
        if let Some(next) = p.queue.pop_front() {
            p.busy += 1;
            self.start_service(pool, next, now, q);
        }
    }

    /// A GPU of `pool` fails. Candidate failures come at the rate of the whole pool and hit a
    /// GPU chosen uniformly, so only online GPUs fail and each at rate 1 / MTBF: a busy GPU's
    /// request goes back to the head of the queue, an idle GPU goes offline, and a GPU
    /// reserved by a job is left to the job's own failure model.
    fn gpu_failure(&mut self, pool: usize, now: SimTime, q: &mut EventQueue<Event>) {
        let spec = &self.s.pools()[pool];
        let e: f64 = Exp1.sample(&mut self.failures[pool]);
        q.schedule_in(
            from_secs(e * spec.mtbf_s / f64::from(spec.count)),
            Event::GpuFailure(pool as u32),
        );
        let hit = (unit(&mut self.failures[pool]) * f64::from(spec.count)) as u32;
        let p = &mut self.pools[pool];
        if p.away {
            return; // switched off by their owners: nothing to fail
        }
        p.advance(now);
        if hit < p.busy {
            let k = (unit(&mut self.failures[pool]) * p.in_service.len() as f64) as usize;
            let Some(&slot) = p.in_service.get(k) else {
                return;
            };
            self.end_service(pool, slot);
            let mut moved = self.reqs[slot as usize];
            self.reqs[slot as usize].dead = true;
            moved.dead = false;
            let fresh = self.alloc(moved);
            let p = &mut self.pools[pool];
            p.queue.push_front(fresh);
            p.busy -= 1;
            if moved.issued >= self.s.warmup() {
                self.rec.preempted += 1;
            }
        } else if hit >= p.busy + p.reserved + p.offline {
            // An idle GPU.
        } else {
            return;
        }
        let p = &mut self.pools[pool];
        p.offline += 1;
        let e: f64 = Exp1.sample(&mut self.failures[pool]);
        q.schedule_in(from_secs(e * spec.repair_s), Event::GpuRepair(pool as u32));
    }

    /// The owners take the GPUs of `pool` back: the requests on them and queued for them
    /// are dropped (their users get no answer from this pool).
    fn withdraw(&mut self, pool: usize, now: SimTime) {
        let warmup = self.s.warmup();
        let p = &mut self.pools[pool];
        p.advance(now);
        p.away = true;
        p.busy = 0;
        // Requests in service still have a completion event, which frees their slot;
        // queued ones have none, so their slots are freed here.
        let serving: Vec<u32> = p.in_service.drain(..).collect();
        let queued: Vec<u32> = p.queue.drain(..).collect();
        for &slot in serving.iter().chain(&queued) {
            let r = &mut self.reqs[slot as usize];
            r.dead = true;
            let measured = r.issued >= warmup;
            let region = self.users[r.user as usize].region;
            self.rec.dropped(region, measured);
            self.rec.withdrawn += u64::from(measured);
        }
        self.free.extend(queued);
    }

    /// A failed GPU of `pool` is back.
    fn gpu_repair(&mut self, pool: usize, now: SimTime, q: &mut EventQueue<Event>) {
        let p = &mut self.pools[pool];
        p.advance(now);
        p.offline -= 1;
        self.serve_next(pool, now, q);
    }

    fn complete(&mut self, slot: u32, now: SimTime, q: &mut EventQueue<Event>) {
        let r = self.reqs[slot as usize];
        self.free.push(slot);
        if r.dead {
            return;
        }
        self.end_service(r.pool as usize, slot);
        let measured = r.issued >= self.s.warmup();
        let wait = r.started - r.issued;
        let streamed = self.s.service.is_none();
        let ttft = if streamed {
            wait.saturating_add(r.ttft_extra)
        } else {
            wait.saturating_add(r.service).saturating_add(r.net)
        };
        let region = self.users[r.user as usize].region;
        self.rec.completed(
            Completion {
                region,
                wait,
                service: r.service,
                ttft,
                e2e: wait.saturating_add(r.service).saturating_add(r.net),
                output_tokens: r.output_tokens,
            },
            measured,
        );
        let p = &mut self.pools[r.pool as usize];
        p.advance(now);
        if measured {
            p.served += 1;
            p.served_ns += u128::from(r.service);
        }
        // The GPU that just finished is online: it takes the next request, if any.
        match p.queue.pop_front() {
            Some(next) => self.start_service(r.pool as usize, next, now, q),
            None => p.busy -= 1,
        }
    }

    fn close_epoch(&mut self, now: SimTime) {
        let acc = self.rec.take_epoch();
        let dt = (now - self.epoch_start) as f64;
        let (mut busy, mut system, mut gpus, mut revenue, mut queued) = (0.0, 0.0, 0.0, 0.0, 0u64);
        for (i, p) in self.pools.iter().enumerate() {
            let (b, s) = p.areas_at(now);
            let (b0, s0) = self.epoch_areas[i];
            self.epoch_areas[i] = (b, s);
            busy += (b - b0) as f64;
            system += (s - s0) as f64;
            gpus += f64::from(p.count);
            revenue += (b - b0) as f64 / NANOS_PER_HOUR * self.s.pools()[i].price_usd_per_gpu_hour;
            queued += p.queue.len() as u64;
        }
        self.rec.rows.push(EpochRow {
            replication: self.replication,
            epoch: self.epoch_index,
            start_h: self.epoch_start as f64 / NANOS_PER_HOUR,
            warmup: self.epoch_start < self.s.warmup(),
            arrived: acc.arrived,
            dropped: acc.dropped,
            completed: acc.completed,
            e2e_mean_s: (acc.completed > 0).then(|| acc.e2e_sum_s / acc.completed as f64),
            gpu_utilisation: if dt > 0.0 { busy / (gpus * dt) } else { 0.0 },
            in_system_mean: if dt > 0.0 { system / dt } else { 0.0 },
            queued_at_end: queued,
            revenue_usd: revenue,
        });
        self.epoch_index += 1;
        self.epoch_start = now;
    }

    /// Ends the replication at `horizon` (the engine's clock) and computes its metrics.
    pub fn finish(mut self, horizon: SimTime, events: u64) -> ReplicationOutput {
        if self.epoch_start < horizon {
            self.close_epoch(horizon);
        }
        let metrics = super::world_metrics::collect(&self, horizon);
        ReplicationOutput {
            metrics,
            rows: std::mem::take(&mut self.rec.rows),
            events,
            requests: self.issued,
        }
    }
}

impl Model for World<'_> {
    type Event = Event;

    #[inline]
    fn handle(&mut self, now: SimTime, event: Event, q: &mut EventQueue<Event>) {
        match event {
            Event::Arrival(u) => self.arrival(u as usize, now, q),
            Event::Complete(slot) => self.complete(slot, now, q),
            Event::GpuFailure(p) => self.gpu_failure(p as usize, now, q),
            Event::GpuRepair(p) => self.gpu_repair(p as usize, now, q),
            Event::Lend(p) => {
                q.schedule_in(DAY, Event::Lend(p));
                let pool = &mut self.pools[p as usize];
                pool.advance(now);
                pool.away = false;
                while !self.pools[p as usize].queue.is_empty() && self.pools[p as usize].has_free()
                {
                    self.serve_next(p as usize, now, q);
                }
            }
            Event::Withdraw(p) => {
                q.schedule_in(DAY, Event::Withdraw(p));
                self.withdraw(p as usize, now);
            }
            Event::JobArrival(c) => self
                .jobs
                .arrival(self.s, c as usize, now, &mut self.pools, q),
            Event::JobDone(slot) => self
                .jobs
                .done(self.s, slot as usize, now, &mut self.pools, q),
            Event::Epoch => {
                // Inference may have freed GPUs since the last job event.
                self.jobs.place_waiting(self.s, now, &mut self.pools, q);
                self.close_epoch(now);
                let next = now.saturating_add(self.s.epoch);
                if next < self.s.horizon() {
                    q.schedule_at(next, Event::Epoch);
                }
            }
            Event::WarmupEnd => {
                for (i, p) in self.pools.iter().enumerate() {
                    self.warm_areas[i] = p.areas_at(now);
                    self.warm_offline[i] = p.offline_area_at(now);
                }
            }
        }
    }
}

/// Rounds a sampled token count to a whole number in [min, u32::MAX] without libm's `round`
/// (samples are finite and non-negative after validation).
#[inline]
fn round_tokens(x: f64, min: f64) -> f64 {
    ((x + 0.5).clamp(0.0, f64::from(u32::MAX)) as u32 as f64).max(min)
}

fn build_users(s: &Scenario, i: usize, u: &crate::scenario::UserGroup, streams: &Streams) -> Users {
    let region = &s.regions()[u.region];
    let candidates = s
        .candidate_pools(u.region)
        .into_iter()
        .map(|p| {
            let pr = s.pools()[p].region;
            let bw = region.bandwidth_bps.min(s.regions()[pr].bandwidth_bps);
            Candidate {
                pool: p,
                rtt: from_secs(s.rtt_s(u.region, pr)),
                secs_per_byte: 8.0 / bw,
            }
        })
        .collect();
    let amp = u.cycle.map_or(0.0, |c| c.0);
    Users {
        region: u.region,
        rate: u.rate_per_s,
        rate_max: u.rate_per_s * (1.0 + amp),
        cycle: u
            .cycle
            .filter(|c| c.0 > 0.0)
            .map(|(a, peak)| (a, peak, region.utc_offset_h)),
        clock_s: 0.0,
        candidates,
        arrivals: streams.indexed("arrivals", i as u64),
        tokens: streams.indexed("tokens", i as u64),
        service: streams.indexed("service", i as u64),
    }
}

/// Read access for the metrics collector.
impl World<'_> {
    pub(super) fn scenario(&self) -> &Scenario {
        self.s
    }
    pub(super) fn recorder(&self) -> &Recorder {
        &self.rec
    }
    pub(super) fn pool_states(&self) -> &[PoolState] {
        &self.pools
    }
    pub(super) fn warm_areas(&self) -> &[(u128, u128)] {
        &self.warm_areas
    }
    pub(super) fn warm_offline(&self) -> &[u128] {
        &self.warm_offline
    }
    pub(super) fn jobs(&self) -> &Jobs {
        &self.jobs
    }
}
