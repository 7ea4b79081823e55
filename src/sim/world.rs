//! The world of one replication: users issuing requests, routing, GPU pools serving them,
//! and the recorder measuring it all. It implements [`Model`] for the engine.
//!
//! A request's life: issued by a user group (Poisson, optionally thinned by a daily cycle);
//! refused if its prompt does not fit the model's context; routed to a pool ([`Routing`]);
//! admitted at once to a replica of that pool if one has room (a new replica when a host has
//! idle GPUs for it, else the least loaded active one with batch and KV-cache room), queued
//! FIFO if there is room, dropped otherwise. In its replica it is prefilled, then decoded
//! with the batch ([`crate::physics::serving`]); when a replica frees room the queue's head is
//! admitted. Requests join the pool's queue when issued; their network round trip and
//! payload transfer are added to their latency (queue order ignores the few milliseconds of
//! propagation).

use rand_distr::{Distribution, Exp1};

use crate::core::dist::unit;
use crate::core::engine::{EventQueue, Model, SimTime, from_secs, to_secs};
use crate::core::rng::{StreamRng, Streams};
use crate::economics::pricing::Pricing;
use crate::metrics::recorder::Completion;
use crate::metrics::{EpochRow, Metrics, Recorder};
use crate::scenario::{Dispatch, Routing, Scenario};

use super::event::Event;
use super::jobs::Jobs;
use super::pool::{Areas, PoolState, time_to_failure};
use super::replica::{Replica, Settled, Work, delay_ns};
use super::supply::Supply;
use super::tokens::Tokens;
use crate::physics::serving::Serving;

const NANOS_PER_HOUR: f64 = 3.6e12;
const DAY: SimTime = 86_400 * crate::core::engine::NANOS_PER_SEC;

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
    /// Last admission to a replica.
    admitted: SimTime,
    /// When its first token came out.
    first: SimTime,
    /// Network time before the first token: the round trip and the prompt's upload.
    ttft_extra: SimTime,
    /// Network time of the whole exchange.
    net: SimTime,
    prompt: u32,
    output_tokens: u32,
    /// Drawn service time, s (when the scenario draws them).
    service_s: f64,
    /// A verification run: uses GPUs and is paid for, but is not a user's answer.
    shadow: bool,
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
    replicas: Vec<Replica>,
    /// How each pool serves (a placeholder for pools that cannot, which get no requests).
    serving: Vec<Serving>,
    /// Requests per second each pool completes with full batches (for least-latency routing).
    capacity_rps: Vec<f64>,
    reqs: Vec<Request>,
    free: Vec<u32>,
    rec: Recorder,
    issued: u64,
    epoch_index: u32,
    epoch_start: SimTime,
    epoch_areas: Vec<Areas>,
    warm_areas: Vec<Areas>,
    jobs: Jobs,
    /// The token economy, if any.
    tokens: Option<Tokens>,
    /// One failure stream per pool.
    failures: Vec<StreamRng>,
    /// Offline and departed GPU-time at the end of the warm-up.
    warm_offline: Vec<(u128, u128)>,
    /// Scratch: what a replica reported when brought up to date.
    settled: Settled,
    /// Scratch: replicas whose next event must be planned again.
    dirty: Vec<u32>,
    /// Service times are drawn: every replica is one GPU serving one request at a time,
    /// which takes a shorter path than batching (the request in `solo`).
    drawn: bool,
    /// The request each replica serves, when service times are drawn.
    solo: Vec<u32>,
    /// Per pool, the previous time-series row's fees (USD) and departed GPU-time.
    epoch_marks: Vec<(f64, u128)>,
    /// Per pool, users' fees at the end of the warm-up.
    warm_fees: Vec<f64>,
    /// Providers' supply decisions.
    supply: Supply,
    /// Verification runs that found no other group with room.
    verification_skipped: u64,
    /// Spot-check draws (their own stream, so that other draws do not shift).
    verify_rng: StreamRng,
    /// Scratch: (time, replica) of drawn requests' ends, to schedule.
    pending: Vec<(SimTime, u32)>,
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
        let serving: Vec<Serving> = s
            .pools()
            .iter()
            .map(|p| p.serving.unwrap_or(Serving::single_server(0)))
            .collect();
        let mut replicas = Vec::new();
        let pools: Vec<PoolState> = s
            .pools()
            .iter()
            .zip(&serving)
            .enumerate()
            .map(|(i, (p, sv))| {
                let cap = s
                    .max_queue_per_gpu
                    .map_or(usize::MAX, |q| q as usize * p.count as usize);
                let first = replicas.len() as u32;
                replicas.extend((0..sv.replicas).map(|_| Replica::new(i as u32)));
                let mut state = PoolState::new(p.count, sv.tp, first..replicas.len() as u32, cap)
                    .with_members(p.initial);
                state.price = p.price_usd_per_gpu_hour;
                // A pool expected to see fewer than one failure in a million runs needs no
                // failure events.
                state.can_fail = f64::from(p.count) * to_secs(s.horizon()) / p.mtbf_s > 1e-6;
                state
            })
            .collect();
        let (prompt, output) = (s.prompt.mean(), s.output.mean().max(1.0));
        let capacity_rps = serving
            .iter()
            .map(|sv| match s.service_override() {
                Some(d) => f64::from(sv.replicas) / d.mean(),
                None => sv.capacity_rps(prompt, output),
            })
            .collect();
        let n = pools.len();
        let n_replicas = replicas.len();
        Self {
            s,
            replication,
            users,
            pools,
            replicas,
            serving,
            capacity_rps,
            reqs: Vec::new(),
            free: Vec::new(),
            rec: Recorder::new(s.regions().len(), s.slo_ttft(), s.slo_tpot()),
            issued: 0,
            epoch_index: 0,
            epoch_start: 0,
            epoch_areas: vec![Areas::default(); n],
            warm_areas: vec![Areas::default(); n],
            jobs: Jobs::new(s, streams),
            tokens: Tokens::new(s, streams),
            failures: (0..n as u64)
                .map(|i| streams.indexed("gpu_failures", i))
                .collect(),
            warm_offline: vec![(0, 0); n],
            settled: Settled::default(),
            dirty: Vec::new(),
            drawn: s.service_override().is_some(),
            solo: vec![u32::MAX; n_replicas],
            pending: Vec::new(),
            epoch_marks: vec![(0.0, 0); n],
            warm_fees: vec![0.0; n],
            supply: Supply::new(n),
            verification_skipped: 0,
            verify_rng: streams.stream("verification"),
        }
    }

    /// Schedules the first events: one arrival per user group, the first epoch end and the
    /// end of the warm-up.
    pub fn start(&mut self, q: &mut EventQueue<Event>) {
        if self.s.warmup() > 0 {
            q.schedule_at(self.s.warmup(), Event::WarmupEnd);
        }
        q.schedule_at(self.s.epoch.min(self.s.horizon()), Event::Epoch);
        if let Some(at) = self.tokens.as_ref().and_then(|t| t.next_end(self.s)) {
            q.schedule_at(at, Event::TokenEpoch);
        }
        if let (Some(rule), None) = (self.s.supply(), &self.tokens) {
            let at = from_secs(rule.review_h * 3600.0);
            if at <= self.s.horizon() {
                q.schedule_at(at, Event::Review);
            }
        }
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
            if p.failure_shape == 1.0 {
                // Exponential: one process at the rate of the whole pool.
                let e: f64 = Exp1.sample(&mut self.failures[i]);
                q.schedule_at(
                    from_secs(e * p.mtbf_s / f64::from(p.count)),
                    Event::GpuFailure(i as u32),
                );
            } else {
                // One clock per GPU in the network, each at a random point of its life.
                for _ in 0..p.initial {
                    let t = self.time_to_failure(i, true);
                    q.schedule_at(from_secs(t), Event::GpuFailure(i as u32));
                }
            }
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
        let drawn = self.s.service.as_ref().map(|d| d.sample(&mut g.service));
        let mut prompt = round_tokens(self.s.prompt.sample(&mut g.tokens), 0.0);
        let mut output = round_tokens(self.s.output.sample(&mut g.tokens), 1.0);
        if drawn.is_none() {
            // A served request has at least one prompt token and fits the context: longer
            // prompts are refused, outputs are cut at the context (as vLLM does).
            let context = f64::from(self.s.model().context_tokens);
            prompt = prompt.max(1.0);
            if prompt >= context {
                self.rec.too_long += u64::from(measured);
                self.rec.dropped(region, measured);
                return;
            }
            output = output.min(context - prompt);
        }
        let req = Request {
            user: u as u32,
            pool: 0,
            issued: now,
            admitted: now,
            first: now,
            ttft_extra: 0,
            net: 0,
            prompt: prompt as u32,
            output_tokens: output as u32,
            service_s: drawn.unwrap_or(0.0),
            shadow: false,
        };
        let Some(c) = self.route(u, &req) else {
            self.rec.dropped(region, measured);
            return;
        };
        let cand = &self.users[u].candidates[c];
        let pool = cand.pool;
        let up = cand.secs_per_byte * prompt * self.s.bytes_per_token;
        let down = cand.secs_per_byte * output * self.s.bytes_per_token;
        let req = Request {
            pool: pool as u32,
            ttft_extra: cand.rtt + from_secs(up),
            net: cand.rtt + from_secs(up + down),
            ..req
        };
        self.submit(pool, req, now, q);
        let (redundancy, spot) = self.s.verification();
        let mut runs = redundancy - 1;
        if spot > 0.0 && unit(&mut self.verify_rng) < spot {
            runs += 1;
        }
        if runs > 0 {
            self.verify(u, req, runs, now, q);
        }
    }

    /// Starts `req` on a replica of `pool` at once, or queues it.
    fn submit(&mut self, pool: usize, req: Request, now: SimTime, q: &mut EventQueue<Event>) {
        let slot = self.alloc(req);
        let p = &mut self.pools[pool];
        p.advance(now);
        if p.queue.is_empty()
            && let Some(r) = self.pick_replica(pool, self.reserve(&self.reqs[slot as usize]), now)
        {
            self.place(r, slot, now);
            self.flush(now, q);
        } else {
            self.pools[pool].queue.push_back(slot);
        }
    }

    /// Runs `req` `runs` more times as verification, each on the nearest other group with
    /// room; a run that finds none is skipped.
    fn verify(
        &mut self,
        u: usize,
        req: Request,
        runs: u32,
        now: SimTime,
        q: &mut EventQueue<Event>,
    ) {
        let mut used = vec![req.pool as usize];
        let reserve = self.reserve(&req);
        for _ in 0..runs {
            let pick = self.users[u]
                .candidates
                .iter()
                .find(|c| !used.contains(&c.pool) && self.has_room(c.pool, reserve))
                .map(|c| c.pool);
            let Some(pool) = pick else {
                self.verification_skipped += u64::from(runs) - (used.len() as u64 - 1);
                return;
            };
            used.push(pool);
            let shadow = Request {
                pool: pool as u32,
                shadow: true,
                ..req
            };
            self.submit(pool, shadow, now, q);
        }
    }

    /// KV-cache tokens a request reserves in its replica (none for drawn service times).
    #[inline]
    fn reserve(&self, r: &Request) -> u64 {
        if self.s.service.is_some() {
            0
        } else {
            u64::from(r.prompt) + u64::from(r.output_tokens)
        }
    }

    /// The work of the request in `slot` on a replica.
    #[inline]
    fn work(&self, slot: u32) -> Work {
        let r = &self.reqs[slot as usize];
        if self.s.service.is_some() {
            Work {
                slot,
                prompt: 0.0,
                decode: r.service_s,
                load: 0.0,
                reserve: 0,
            }
        } else {
            let (p, o) = (f64::from(r.prompt), f64::from(r.output_tokens));
            Work {
                slot,
                prompt: p,
                decode: o - 1.0,
                load: p + o / 2.0,
                reserve: self.reserve(r),
            }
        }
    }

    /// Whether `pool` would start a request reserving `reserve` KV tokens at once.
    #[inline]
    fn admits_now(&self, pool: usize, reserve: u64) -> bool {
        let p = &self.pools[pool];
        let sv = &self.serving[pool];
        p.queue.is_empty()
            && !p.away
            && (p.can_open()
                || (sv.max_batch > 1
                    && p.active
                        .iter()
                        .any(|&r| self.replicas[r as usize].has_room(sv, reserve))))
    }

    /// Whether `pool` would take a request now or queue it.
    #[inline]
    fn has_room(&self, pool: usize, reserve: u64) -> bool {
        let p = &self.pools[pool];
        !p.away && (p.queue.len() < p.capacity || self.admits_now(pool, reserve))
    }

    /// Picks a candidate (index into the group's candidate list), or None to drop.
    fn route(&self, u: usize, req: &Request) -> Option<usize> {
        let cands = &self.users[u].candidates;
        let reserve = self.reserve(req);
        if *self.s.pricing() == Pricing::Asking {
            // Cheapest first among the pools that start it at once, then among those that
            // queue it; candidates are in order of distance, so ties go to the nearest.
            let price = |c: &Candidate| self.s.pools()[c.pool].price_usd_per_gpu_hour;
            let cheapest = |ok: &dyn Fn(usize) -> bool| {
                let mut best: Option<(f64, usize)> = None;
                for (i, c) in cands.iter().enumerate() {
                    if ok(c.pool) && best.is_none_or(|(b, _)| price(c) < b) {
                        best = Some((price(c), i));
                    }
                }
                best.map(|(_, i)| i)
            };
            return cheapest(&|p| self.admits_now(p, reserve))
                .or_else(|| cheapest(&|p| self.has_room(p, reserve)));
        }
        match self.s.routing {
            Routing::NearestFree => cands
                .iter()
                .position(|c| self.admits_now(c.pool, reserve))
                .or_else(|| cands.iter().position(|c| self.has_room(c.pool, reserve))),
            Routing::LeastLatency => {
                let (prompt, output) = (f64::from(req.prompt), f64::from(req.output_tokens));
                let mut best: Option<(f64, usize)> = None;
                for (i, c) in cands.iter().enumerate() {
                    let p = &self.pools[c.pool];
                    if p.away {
                        continue;
                    }
                    let wait = if self.admits_now(c.pool, reserve) {
                        0.0
                    } else if p.queue.len() < p.capacity {
                        // The pool's capacity, less its GPUs offline or lent to jobs.
                        let share =
                            f64::from(p.count - p.reserved - p.offline) / f64::from(p.count);
                        let rps = self.capacity_rps[c.pool] * share;
                        if rps > 0.0 {
                            (p.queue.len() + 1) as f64 / rps
                        } else {
                            1e12 // nothing can serve it until a GPU comes back
                        }
                    } else {
                        continue;
                    };
                    let service = match self.s.service {
                        Some(_) => req.service_s,
                        None => self.serving[c.pool].alone_s(prompt, output),
                    };
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

    /// A replica of `pool` to admit a request reserving `reserve` KV tokens, by the
    /// scenario's dispatch rule; a new replica is opened at `now`.
    fn pick_replica(&mut self, pool: usize, reserve: u64, now: SimTime) -> Option<u32> {
        if self.pools[pool].away {
            return None;
        }
        let sv = &self.serving[pool];
        let p = &self.pools[pool];
        let with_room = || {
            p.active
                .iter()
                .copied()
                .filter(|&r| self.replicas[r as usize].has_room(sv, reserve))
        };
        let joined = if sv.max_batch == 1 {
            None // every active replica is full
        } else {
            match self.s.dispatch {
                Dispatch::Spread if p.can_open() => None,
                Dispatch::Spread => with_room().min_by_key(|&r| self.replicas[r as usize].len()),
                // Ties go to the earliest in the list, like min_by_key.
                Dispatch::Pack => with_room().max_by_key(|&r| {
                    (
                        self.replicas[r as usize].len(),
                        std::cmp::Reverse(self.replicas[r as usize].pos),
                    )
                }),
            }
        };
        if joined.is_some() {
            return joined;
        }
        let p = &mut self.pools[pool];
        if !p.can_open() {
            return None;
        }
        let r = p.idle_replicas.pop()?;
        p.busy += p.tp;
        let rep = &mut self.replicas[r as usize];
        rep.pos = p.active.len() as u32;
        p.active.push(r);
        rep.activate(now);
        Some(r)
    }

    /// Brings replica `r` up to `now` and records what happened in it: first tokens and
    /// completed requests. Its pool must already be advanced to `now`.
    fn sync(&mut self, r: u32, now: SimTime) {
        let mut out = std::mem::take(&mut self.settled);
        out.clear();
        let rep = &mut self.replicas[r as usize];
        let before = rep.running();
        rep.advance(now, &mut out);
        let after = rep.running();
        self.settled_to_requests(r, before, after, now, &mut out);
        self.settled = out;
    }

    fn settled_to_requests(
        &mut self,
        r: u32,
        before: usize,
        after: usize,
        now: SimTime,
        out: &mut Settled,
    ) {
        let pool = self.replicas[r as usize].pool as usize;
        let p = &mut self.pools[pool];
        p.running = p.running + after as u32 - before as u32;
        for &slot in &out.first {
            self.reqs[slot as usize].first = now;
        }
        for i in 0..out.done.len() {
            self.complete(out.done[i], now);
        }
    }

    /// Admits the request in `slot` to replica `r` at `now`.
    fn place(&mut self, r: u32, slot: u32, now: SimTime) {
        if self.drawn {
            // One request for its drawn time: its first token and end are fixed now.
            let req = &mut self.reqs[slot as usize];
            req.admitted = now;
            req.first = now;
            let done = now.saturating_add(from_secs(req.service_s));
            let rep = &mut self.replicas[r as usize];
            rep.next_at = Some(done);
            self.solo[r as usize] = slot;
            let p = &mut self.pools[rep.pool as usize];
            p.in_replicas += 1;
            p.running += 1;
            self.pending.push((done, r));
            return;
        }
        self.sync(r, now);
        let w = self.work(slot);
        self.reqs[slot as usize].admitted = now;
        let mut out = std::mem::take(&mut self.settled);
        out.clear();
        let rep = &mut self.replicas[r as usize];
        let before = rep.running();
        rep.admit(w, &mut out);
        let after = rep.running();
        self.pools[rep.pool as usize].in_replicas += 1;
        self.settled_to_requests(r, before, after, now, &mut out);
        self.settled = out;
        if !self.dirty.contains(&r) {
            self.dirty.push(r);
        }
    }

    /// Admits waiting requests of `pool` in arrival order while a replica takes the first.
    fn refill(&mut self, pool: usize, now: SimTime) {
        while let Some(&head) = self.pools[pool].queue.front() {
            let reserve = self.reserve(&self.reqs[head as usize]);
            let Some(r) = self.pick_replica(pool, reserve, now) else {
                break;
            };
            self.pools[pool].queue.pop_front();
            self.place(r, head, now);
        }
    }

    /// Stops replica `r` (it holds no request).
    fn deactivate(&mut self, r: u32) {
        let rep = &mut self.replicas[r as usize];
        rep.next_at = None;
        let (pool, pos) = (rep.pool as usize, rep.pos as usize);
        let p = &mut self.pools[pool];
        p.active.swap_remove(pos);
        if let Some(&moved) = p.active.get(pos) {
            self.replicas[moved as usize].pos = pos as u32;
        }
        p.idle_replicas.push(r);
        p.busy -= p.tp;
    }

    /// Schedules the ends of requests placed with drawn service times.
    #[inline]
    fn schedule_pending(&mut self, q: &mut EventQueue<Event>) {
        for (at, r) in self.pending.drain(..) {
            q.schedule_at(at, Event::Step(r));
        }
    }

    /// Plans the next event of every replica touched since the last flush.
    fn flush(&mut self, now: SimTime, q: &mut EventQueue<Event>) {
        self.schedule_pending(q);
        while let Some(r) = self.dirty.pop() {
            let rep = &mut self.replicas[r as usize];
            let pool = rep.pool as usize;
            if self.pools[pool].active.get(rep.pos as usize) != Some(&r) {
                continue; // stopped since
            }
            rep.next_at = rep.plan_next(&self.serving[pool]).map(|dt| {
                let at = now.saturating_add(delay_ns(dt));
                q.schedule_at(at, Event::Step(r));
                at
            });
        }
    }

    /// Replica `r` reached its planned event.
    fn step(&mut self, r: u32, now: SimTime, q: &mut EventQueue<Event>) {
        let rep = &self.replicas[r as usize];
        if rep.next_at != Some(now) {
            return; // superseded by a later plan
        }
        let pool = rep.pool as usize;
        self.pools[pool].advance(now);
        if self.drawn {
            let slot = std::mem::replace(&mut self.solo[r as usize], u32::MAX);
            self.pools[pool].running -= 1;
            self.complete(slot, now);
            // The GPU takes the next waiting request, if any.
            match self.pools[pool].queue.pop_front() {
                Some(next) => self.place(r, next, now),
                None => self.deactivate(r),
            }
            self.schedule_pending(q);
            return;
        }
        self.sync(r, now);
        if self.replicas[r as usize].is_empty() {
            self.deactivate(r);
        } else {
            self.dirty.push(r);
        }
        self.refill(pool, now);
        self.flush(now, q);
    }

    /// Takes every request out of replica `r` into `out` and stops it.
    fn evict(&mut self, r: u32, now: SimTime, out: &mut Vec<u32>) {
        if self.drawn {
            let slot = std::mem::replace(&mut self.solo[r as usize], u32::MAX);
            let p = &mut self.pools[self.replicas[r as usize].pool as usize];
            p.running -= 1;
            p.in_replicas -= 1;
            out.push(slot);
            self.deactivate(r);
            return;
        }
        self.sync(r, now);
        let rep = &mut self.replicas[r as usize];
        let running = rep.running() as u32;
        let start = out.len();
        rep.drain(out);
        let p = &mut self.pools[rep.pool as usize];
        p.running -= running;
        p.in_replicas -= (out.len() - start) as u32;
        self.deactivate(r);
    }

    /// A GPU of `pool` fails. Candidate failures come at the rate of the whole pool and hit a
    /// GPU chosen uniformly, so only online GPUs fail and each at rate 1 / MTBF: a serving
    /// GPU stops its replica, whose requests go back to the head of the queue to be served
    /// again from the start; an idle GPU goes offline; a GPU reserved by a job is left to
    /// the job's own failure model.
    fn gpu_failure(&mut self, pool: usize, now: SimTime, q: &mut EventQueue<Event>) {
        let spec = &self.s.pools()[pool];
        let exponential = spec.failure_shape == 1.0;
        let hit = if exponential {
            let e: f64 = Exp1.sample(&mut self.failures[pool]);
            q.schedule_in(
                from_secs(e * spec.mtbf_s / f64::from(spec.count)),
                Event::GpuFailure(pool as u32),
            );
            (unit(&mut self.failures[pool]) * f64::from(spec.count)) as u32
        } else {
            // This event is one online GPU's own clock: it hits one of them.
            let online = self.pools[pool].count - self.pools[pool].offline;
            (unit(&mut self.failures[pool]) * f64::from(online)) as u32
        };
        let p = &mut self.pools[pool];
        if !exponential && p.stale_clocks > 0 {
            // The clock of a GPU that left the network.
            p.stale_clocks -= 1;
            return;
        }
        if p.away || (!exponential && hit >= p.busy && hit < p.busy + p.reserved) {
            // Switched off by its owners, or lent to a job (whose model has its own
            // failures): this GPU's clock starts again.
            if !exponential {
                let t = self.time_to_failure(pool, false);
                q.schedule_in(from_secs(t), Event::GpuFailure(pool as u32));
            }
            return;
        }
        p.advance(now);
        if hit < p.busy {
            let r = p.active[(hit / p.tp) as usize];
            let mut evicted = Vec::new();
            self.evict(r, now, &mut evicted);
            let warmup = self.s.warmup();
            for &slot in evicted.iter().rev() {
                self.pools[pool].queue.push_front(slot);
                let r = &self.reqs[slot as usize];
                self.rec.preempted += u64::from(r.issued >= warmup && !r.shadow);
            }
        } else if exponential && hit < p.busy + p.reserved + p.offline {
            return;
        }
        self.pools[pool].offline += 1;
        self.pools[pool].failures += 1;
        if spec.departure_p > 0.0 && unit(&mut self.failures[pool]) < spec.departure_p {
            self.pools[pool].departed += 1;
        } else {
            let e: f64 = Exp1.sample(&mut self.failures[pool]);
            q.schedule_in(from_secs(e * spec.repair_s), Event::GpuRepair(pool as u32));
        }
        self.refill(pool, now);
        self.flush(now, q);
    }

    /// Seconds until a GPU of `pool` fails ([`time_to_failure`]).
    fn time_to_failure(&mut self, pool: usize, stationary: bool) -> f64 {
        let spec = &self.s.pools()[pool];
        time_to_failure(
            &mut self.failures[pool],
            spec.mtbf_s,
            spec.failure_shape,
            stationary,
        )
    }

    /// The owners take the GPUs of `pool` back: the requests on them and queued for them
    /// are dropped (their users get no answer from this pool).
    fn withdraw(&mut self, pool: usize, now: SimTime) {
        self.pools[pool].advance(now);
        let mut dropped = Vec::new();
        while let Some(&r) = self.pools[pool].active.last() {
            self.evict(r, now, &mut dropped);
        }
        let p = &mut self.pools[pool];
        p.away = true;
        dropped.extend(p.queue.drain(..));
        let warmup = self.s.warmup();
        for &slot in &dropped {
            let r = &self.reqs[slot as usize];
            if r.shadow {
                continue;
            }
            let measured = r.issued >= warmup;
            let region = self.users[r.user as usize].region;
            self.rec.dropped(region, measured);
            self.rec.withdrawn += u64::from(measured);
        }
        self.free.extend(dropped);
    }

    /// Requests of every pool wait for GPUs that came back (a repair, a job's end, owners).
    fn refill_all(&mut self, now: SimTime, q: &mut EventQueue<Event>) {
        for pool in 0..self.pools.len() {
            if !self.pools[pool].queue.is_empty() {
                self.pools[pool].advance(now);
                self.refill(pool, now);
            }
        }
        self.flush(now, q);
    }

    /// The request in `slot` has its last token at `now`.
    fn complete(&mut self, slot: u32, now: SimTime) {
        let r = self.reqs[slot as usize];
        self.free.push(slot);
        let p = &mut self.pools[r.pool as usize];
        p.in_replicas -= 1;
        p.payments += 1;
        if r.shadow {
            return;
        }
        let measured = r.issued >= self.s.warmup();
        let wait = r.admitted - r.issued;
        let service = now - r.admitted;
        let answer = (now - r.issued).saturating_add(r.net);
        let streamed = self.s.service.is_none();
        let (ttft, tpot) = if streamed {
            let tpot =
                (r.output_tokens > 1).then(|| (now - r.first) / u64::from(r.output_tokens - 1));
            ((r.first - r.issued).saturating_add(r.ttft_extra), tpot)
        } else {
            (answer, None)
        };
        let region = self.users[r.user as usize].region;
        if now >= self.s.warmup() {
            self.rec.window_tokens += u64::from(r.output_tokens);
        }
        let met = self.rec.meets(ttft, tpot);
        let p = &mut self.pools[r.pool as usize];
        p.slo_misses += u64::from(!met);
        p.served += u64::from(measured);
        self.rec.completed(
            Completion {
                region,
                wait,
                service,
                ttft,
                tpot,
                e2e: answer,
                output_tokens: r.output_tokens,
            },
            measured,
        );
    }

    fn close_epoch(&mut self, now: SimTime) {
        let acc = self.rec.take_epoch();
        let dt = (now - self.epoch_start) as f64;
        let (mut busy, mut system, mut member, mut revenue, mut queued) =
            (0.0, 0.0, 0.0, 0.0, 0u64);
        let mut gpus = 0u64;
        let pricing = self.s.pricing();
        for (i, p) in self.pools.iter_mut().enumerate() {
            let a = p.areas_at(now);
            let a0 = self.epoch_areas[i];
            self.epoch_areas[i] = a;
            let b = (a.busy - a0.busy) as f64;
            let departed = p.departed_area_at(now);
            let (fees0, departed0) = self.epoch_marks[i];
            let m = f64::from(p.count) * dt - (departed - departed0) as f64;
            let fees = p.fees_at(now);
            self.epoch_marks[i] = (fees, departed);
            busy += b;
            member += m;
            system += (a.system - a0.system) as f64;
            gpus += u64::from(p.members());
            revenue += fees - fees0;
            queued += p.queue.len() as u64;
            if let Pricing::Utilisation(rule) = pricing
                && m > 0.0
            {
                let u = b / m;
                p.set_price_mult(now, rule.multiplier(u));
            }
        }
        let token = self.tokens.as_ref().map(|t| t.state());
        self.rec.rows.push(EpochRow {
            replication: self.replication,
            epoch: self.epoch_index,
            start_h: self.epoch_start as f64 / NANOS_PER_HOUR,
            warmup: self.epoch_start < self.s.warmup(),
            arrived: acc.arrived,
            dropped: acc.dropped,
            completed: acc.completed,
            e2e_mean_s: (acc.completed > 0).then(|| acc.e2e_sum_s / acc.completed as f64),
            gpu_utilisation: if member > 0.0 { busy / member } else { 0.0 },
            in_system_mean: if dt > 0.0 { system / dt } else { 0.0 },
            queued_at_end: queued,
            revenue_usd: revenue,
            gpus,
            token_price_usd: token.map(|t| t.price_usd),
            token_circulating: token.map(|t| t.circulating),
            token_staked: token.map(|t| t.staked),
            token_locked: token.map(|t| t.locked),
            token_burned: token.map(|t| t.burned),
        });
        self.epoch_index += 1;
        self.epoch_start = now;
    }

    /// Providers review their returns: some GPUs leave now, some decide to join.
    fn review(&mut self, now: SimTime, q: &mut EventQueue<Event>) {
        let Some(rule) = self.s.supply() else { return };
        let income: Vec<f64> = match &self.tokens {
            Some(t) => (0..self.pools.len()).map(|i| t.income(i)).collect(),
            None => self.pools.iter().map(|p| p.fees_at(now)).collect(),
        };
        let joins = self
            .supply
            .review(rule, self.s, &mut self.pools, &income, now);
        let delay = from_secs(rule.onboarding_h * 3600.0);
        for (g, n) in joins {
            q.schedule_in(delay, Event::Join(g as u32, n));
        }
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
            Event::Step(r) => self.step(r, now, q),
            Event::GpuFailure(p) => self.gpu_failure(p as usize, now, q),
            Event::GpuRepair(p) => {
                let pool = &mut self.pools[p as usize];
                pool.advance(now);
                pool.offline -= 1;
                if self.s.pools()[p as usize].failure_shape != 1.0 {
                    // A repaired GPU is as good as new: its clock starts again.
                    let t = self.time_to_failure(p as usize, false);
                    q.schedule_in(from_secs(t), Event::GpuFailure(p));
                }
                self.refill(p as usize, now);
                self.flush(now, q);
            }
            Event::Lend(p) => {
                q.schedule_in(DAY, Event::Lend(p));
                let pool = &mut self.pools[p as usize];
                pool.advance(now);
                pool.away = false;
                self.refill(p as usize, now);
                self.flush(now, q);
            }
            Event::Withdraw(p) => {
                q.schedule_in(DAY, Event::Withdraw(p));
                self.withdraw(p as usize, now);
            }
            Event::JobArrival(c) => self
                .jobs
                .arrival(self.s, c as usize, now, &mut self.pools, q),
            Event::JobDone(slot) => {
                self.jobs
                    .done(self.s, slot as usize, now, &mut self.pools, q);
                self.refill_all(now, q);
            }
            Event::Epoch => {
                // Inference may have freed GPUs since the last job event.
                self.jobs.place_waiting(self.s, now, &mut self.pools, q);
                self.close_epoch(now);
                let next = now.saturating_add(self.s.epoch);
                if next < self.s.horizon() {
                    q.schedule_at(next, Event::Epoch);
                }
            }
            Event::TokenEpoch => {
                if let Some(t) = self.tokens.as_mut() {
                    t.settle(self.s, now, &self.pools);
                    if let Some(at) = t.next_end(self.s) {
                        q.schedule_at(at, Event::TokenEpoch);
                    }
                    // Reviews come after the epochs that pay the income they judge: every
                    // ceil(review / epoch) epochs.
                    if let (Some(rule), Some(tok)) = (self.s.supply(), self.s.token()) {
                        let every = (rule.review_h / tok.emission.epoch_h).ceil().max(1.0) as u64;
                        if t.epochs() % every == 0 {
                            self.review(now, q);
                        }
                    }
                }
            }
            Event::Review => {
                self.review(now, q);
                if let Some(rule) = self.s.supply() {
                    let next = now.saturating_add(from_secs(rule.review_h * 3600.0));
                    if next <= self.s.horizon() {
                        q.schedule_at(next, Event::Review);
                    }
                }
            }
            Event::Join(p, n) => {
                let pool = p as usize;
                self.supply.onboarding[pool] -= n;
                let k = self.pools[pool].join(now, n);
                if self.pools[pool].can_fail && self.s.pools()[pool].failure_shape != 1.0 {
                    for _ in 0..k {
                        let t = self.time_to_failure(pool, false);
                        q.schedule_in(from_secs(t), Event::GpuFailure(p));
                    }
                }
                self.refill(pool, now);
                self.flush(now, q);
            }
            Event::WarmupEnd => {
                for (i, p) in self.pools.iter().enumerate() {
                    self.warm_fees[i] = p.fees_at(now);
                    self.warm_areas[i] = p.areas_at(now);
                    self.warm_offline[i] = (p.offline_area_at(now), p.departed_area_at(now));
                }
                if let Some(t) = self.tokens.as_mut() {
                    t.mark_warmup();
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
    pub(super) fn warm_areas(&self) -> &[Areas] {
        &self.warm_areas
    }
    pub(super) fn warm_offline(&self) -> &[(u128, u128)] {
        &self.warm_offline
    }
    pub(super) fn jobs(&self) -> &Jobs {
        &self.jobs
    }
    pub(super) fn warm_fees(&self) -> &[f64] {
        &self.warm_fees
    }
    pub(super) fn capacity_rps(&self) -> &[f64] {
        &self.capacity_rps
    }
    pub(super) fn supply_reviews(&self) -> Option<u64> {
        self.s.supply().map(|_| self.supply.reviews)
    }
    pub(super) fn verification_skipped(&self) -> u64 {
        self.verification_skipped
    }
    pub(super) fn tokens(&self) -> Option<&Tokens> {
        self.tokens.as_ref()
    }
}
