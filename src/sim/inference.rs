//! Inference serving at run time: users issue requests, each is routed to a provider group,
//! admitted at once to a replica if one has room (a new replica when a host has idle GPUs for
//! it, else an active one with batch and KV-cache room, by the dispatch rule), queued FIFO if
//! the group's queue has room, dropped otherwise. In its replica it is prefilled, then decoded
//! with the batch ([`crate::sim::replica`]); when a replica frees room the queue's head is
//! admitted. Requests join a group's queue when issued; their network round trip and payload
//! transfer are added to their latency (queue order ignores the few milliseconds of
//! propagation).
//!
//! Requests are refused when their prompt does not fit the model's context; verification
//! runs (shadow requests on other groups) use GPUs and are paid for, but are never recorded.
//!
//! The subsystem owns the users, the requests, the replicas and each group's queue; it is
//! handed the groups' GPUs ([`PoolState`]) and the event queue.

mod batched;
mod cloud;
mod drawn;
mod metrics;
mod replicas;
mod requests;
mod routing;
mod station;
mod users;

use crate::core::dist::unit;
use crate::core::engine::{EventQueue, SimTime, from_secs, to_secs};
use crate::core::rng::{StreamRng, Streams};
use crate::metrics::Recorder;
use crate::metrics::recorder::{Completion, EpochAcc};
use crate::physics::serving::Serving;
use crate::scenario::Scenario;

use super::event::Event;
use super::pool::PoolState;
use super::replica::{Replica, Settled};
use requests::{Request, Requests};
use station::{RequestMark, Station};
use users::Users;

/// Bytes of inference's run-time state, for the memory estimate (`footprint.rs`).
pub(crate) mod sizes {
    use super::requests::Request;
    use super::station::{RequestMark, Station};
    use super::users::{Candidate, Users};
    use crate::sim::replica::Replica;

    /// Per provider group: its station and its integrals at the warm-up and the last epoch.
    pub(crate) const GROUP: usize = size_of::<Station>() + 2 * size_of::<RequestMark>();
    /// Per user group.
    pub(crate) const USER_GROUP: usize = size_of::<Users>();
    /// Per pool a user group may use.
    pub(crate) const CANDIDATE: usize = size_of::<Candidate>();
    /// Per request in flight: its slab slot, its place in the free list, and its place in
    /// a queue.
    pub(crate) const REQUEST: usize = size_of::<Request>() + 2 * size_of::<u32>();
    /// Per replica that exists: itself, its places in the active and idle lists, and with
    /// drawn service times the request it serves.
    pub(crate) const REPLICA: usize = size_of::<Replica>() + 3 * size_of::<u32>();
}

/// How replicas serve.
enum Mode {
    /// Continuous batching: each replica is a fluid model brought up to date at its events.
    Batched {
        /// Scratch: what a replica reported when brought up to date.
        settled: Settled,
        /// Scratch: replicas whose next event must be planned again.
        dirty: Vec<u32>,
    },
    /// Drawn service times: each replica is one GPU serving one request at a time for its
    /// drawn time.
    Drawn {
        /// The request each replica serves (one entry per replica that exists).
        solo: Vec<u32>,
        /// Scratch: (time, replica) of requests' ends, to schedule.
        pending: Vec<(SimTime, u32)>,
    },
}

/// Verification runs: each request `redundancy` times, and a spot check at a rate.
struct Verification {
    /// Spot-check draws (their own stream, so that other draws do not shift).
    rng: StreamRng,
    /// Runs that found no other group with room.
    skipped: u64,
}

/// The inference of one replication.
pub struct Inference<'s> {
    s: &'s Scenario,
    users: Vec<Users>,
    stations: Vec<Station>,
    /// Every replica that has opened, numbered in the order they first did (a group's
    /// replicas that never opened do not exist: see `station.rs`).
    replicas: Vec<Replica>,
    reqs: Requests,
    mode: Mode,
    rec: Recorder,
    verification: Verification,
    /// Requests issued over the whole horizon.
    issued: u64,
    /// Each station's integrals at the end of the warm-up, and of the last time-series epoch.
    warm: Vec<RequestMark>,
    epoch: Vec<RequestMark>,
}

impl<'s> Inference<'s> {
    /// The users, groups and replicas of scenario `s` with the replication's streams.
    pub fn new(s: &'s Scenario, streams: &Streams) -> Self {
        let users = s
            .users()
            .iter()
            .enumerate()
            .map(|(i, u)| Users::new(s, i, u, streams))
            .collect();
        let (prompt, output) = (s.prompt.mean(), s.output.mean().max(1.0));
        let stations: Vec<Station> = s
            .pools()
            .iter()
            .map(|p| {
                let plan = p.serving.unwrap_or(Serving::single_server(0));
                let max_queue = s
                    .max_queue_per_gpu
                    .map_or(usize::MAX, |q| q as usize * p.count as usize);
                let capacity_rps = match s.service_override() {
                    Some(d) => f64::from(plan.replicas) / d.mean(),
                    None => plan.capacity_rps(prompt, output),
                };
                Station::new(plan, max_queue, capacity_rps)
            })
            .collect();
        let mode = if s.service_override().is_some() {
            Mode::Drawn {
                solo: Vec::new(),
                pending: Vec::new(),
            }
        } else {
            Mode::Batched {
                settled: Settled::default(),
                dirty: Vec::new(),
            }
        };
        Self {
            s,
            users,
            warm: vec![RequestMark::default(); stations.len()],
            epoch: vec![RequestMark::default(); stations.len()],
            stations,
            replicas: Vec::new(),
            reqs: Requests::default(),
            mode,
            rec: Recorder::new(s.regions().len(), s.slo_ttft(), s.slo_tpot()),
            verification: Verification {
                rng: streams.stream("verification"),
                skipped: 0,
            },
            issued: 0,
        }
    }

    /// Schedules each user group's first request.
    pub fn start(&mut self, q: &mut EventQueue<Event>) {
        for u in 0..self.users.len() {
            if let Some(t) = self.users[u].next_arrival(to_secs(self.s.horizon())) {
                q.schedule_at(t, Event::Arrival(u as u32));
            }
        }
    }

    /// Requests issued over the whole horizon.
    pub fn issued(&self) -> u64 {
        self.issued
    }

    /// Requests per second group `pool` completes with full batches.
    pub fn capacity_rps(&self, pool: usize) -> f64 {
        self.stations[pool].capacity_rps
    }

    /// User group `u` issues a request at `now`.
    pub fn arrival(
        &mut self,
        u: usize,
        now: SimTime,
        gpus: &mut [PoolState],
        q: &mut EventQueue<Event>,
    ) {
        let s = self.s;
        if let Some(t) = self.users[u].next_arrival(to_secs(s.horizon())) {
            q.schedule_at(t, Event::Arrival(u as u32));
        }
        self.issued += 1;
        let measured = now >= s.warmup();
        let region = self.users[u].region;
        self.rec.arrived(region, measured);
        let draw = self.users[u].draw(s);
        let (mut prompt, mut output) = (draw.prompt, draw.output);
        if draw.service_s.is_none() {
            // A served request has at least one prompt token and fits the context: longer
            // prompts are refused, outputs are cut at the context (as vLLM does).
            let context = f64::from(s.model().context_tokens);
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
            token_extra_ns: 0,
            prompt: prompt as u32,
            output_tokens: output as u32,
            service_s: draw.service_s.unwrap_or(0.0),
            shadow: false,
        };
        let Some(c) = self.route(u, &req, gpus) else {
            self.rec.dropped(region, measured);
            return;
        };
        let cand = &self.users[u].candidates[c];
        let pool = cand.pool;
        let up = cand.secs_per_byte * prompt * s.bytes_per_token;
        let down = cand.secs_per_byte * output * s.bytes_per_token;
        let req = Request {
            pool: pool as u32,
            ttft_extra: cand.net_rtt + from_secs(up),
            net: cand.net_rtt + from_secs(up + down),
            token_extra_ns: cand.token_extra_ns,
            ..req
        };
        self.submit(pool, req, now, gpus, q);
        let (redundancy, spot) = s.verification();
        let mut runs = redundancy - 1;
        if spot > 0.0 && unit(&mut self.verification.rng) < spot {
            runs += 1;
        }
        if runs > 0 {
            self.verify(u, req, runs, now, gpus, q);
        }
    }

    /// Starts `req` on a replica of `pool` at once, or queues it.
    fn submit(
        &mut self,
        pool: usize,
        req: Request,
        now: SimTime,
        gpus: &mut [PoolState],
        q: &mut EventQueue<Event>,
    ) {
        let slot = self.reqs.alloc(req);
        if self.stations[pool].queued() == 0
            && let Some(r) = self.pick_replica(pool, self.reserve(&req), now, gpus)
        {
            self.place(r, slot, now, gpus);
            self.flush(now, q);
        } else {
            self.stations[pool].push_back(now, slot);
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
        gpus: &mut [PoolState],
        q: &mut EventQueue<Event>,
    ) {
        let mut used = vec![req.pool as usize];
        let reserve = self.reserve(&req);
        for _ in 0..runs {
            let pick = self.users[u]
                .candidates
                .iter()
                .find(|c| !used.contains(&c.pool) && self.has_room(c.pool, reserve, gpus))
                .map(|c| c.pool);
            let Some(pool) = pick else {
                self.verification.skipped += u64::from(runs) - (used.len() as u64 - 1);
                return;
            };
            used.push(pool);
            let shadow = Request {
                pool: pool as u32,
                shadow: true,
                ..req
            };
            self.submit(pool, shadow, now, gpus, q);
        }
    }

    /// The request in `slot` has its last token at `now` (its station already counts it
    /// out of its replica).
    fn complete(&mut self, slot: u32, now: SimTime, gpus: &mut [PoolState]) {
        let s = self.s;
        let r = self.reqs[slot];
        self.reqs.release(slot);
        let pool = r.pool as usize;
        if r.shadow {
            gpus[pool].record_verification(s.price_unit().token_usd(r.prompt, r.output_tokens));
            return;
        }
        let measured = r.issued >= s.warmup();
        let wait = r.admitted - r.issued;
        let service = now - r.admitted;
        let later = u64::from(r.output_tokens.saturating_sub(1));
        let token_extra = u64::from(r.token_extra_ns);
        let answer = (now - r.issued)
            .saturating_add(r.net)
            .saturating_add(token_extra * later);
        let (ttft, tpot) = if s.service_override().is_none() {
            let tpot = (r.output_tokens > 1).then(|| (now - r.first) / later + token_extra);
            ((r.first - r.issued).saturating_add(r.ttft_extra), tpot)
        } else {
            (answer, None)
        };
        let region = self.users[r.user as usize].region;
        if now >= s.warmup() {
            self.rec.window_tokens += u64::from(r.output_tokens);
        }
        let met = self.rec.meets(ttft, tpot);
        gpus[pool].record_answer(!met, s.price_unit().token_usd(r.prompt, r.output_tokens));
        if measured {
            self.stations[pool].served();
        }
        self.rec.completed(
            Completion {
                region,
                wait,
                service,
                ttft,
                tpot,
                e2e: answer,
                output_tokens: r.output_tokens,
                prompt_tokens: r.prompt,
                issued: r.issued,
            },
            measured,
        );
    }

    /// Closes a time-series epoch at `now`: its request counts, the requests in the system
    /// integrated over it (request-nanoseconds), and those waiting at its end.
    pub fn close_epoch(&mut self, now: SimTime) -> (EpochAcc, f64, u64) {
        let mut system = 0.0;
        let mut queued = 0;
        for (mark, st) in self.epoch.iter_mut().zip(&self.stations) {
            let m = st.mark(now);
            system += (m.system - mark.system) as f64;
            queued += st.queued() as u64;
            *mark = m;
        }
        (self.rec.take_epoch(), system, queued)
    }

    /// Marks the end of the warm-up: the request integrals from here on are measured.
    pub fn mark_warmup(&mut self, now: SimTime) {
        for (w, st) in self.warm.iter_mut().zip(&self.stations) {
            *w = st.mark(now);
        }
    }
}
