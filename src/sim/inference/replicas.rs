//! Requests on replicas, whatever the service mode: opening and stopping replicas, admitting
//! the queue's head when a replica frees room, and taking requests out when a GPU fails or the
//! owners take their GPUs back. The modes' own paths are in `batched.rs` (continuously
//! batching replicas) and `drawn.rs` (one request per GPU for a drawn time); this file
//! dispatches to them.
//!
//! Events name replicas, not requests: a replica keeps the time of its one pending event
//! (`next_at`), and an event at any other time is stale and ignored.

use crate::core::engine::{EventQueue, SimTime};
use crate::scenario::Dispatch;
use crate::sim::event::Event;
use crate::sim::pool::PoolState;
use crate::sim::replica::Replica;

use super::{Inference, Mode};

impl Inference<'_> {
    /// A replica of `pool` to admit a request reserving `reserve` KV tokens, by the
    /// scenario's dispatch rule; a new replica is opened at `now`.
    pub(super) fn pick_replica(
        &mut self,
        pool: usize,
        reserve: u64,
        now: SimTime,
        gpus: &mut [PoolState],
    ) -> Option<u32> {
        if gpus[pool].away() {
            return None;
        }
        let st = &self.stations[pool];
        let plan = &st.plan;
        let with_room = || {
            st.active()
                .iter()
                .copied()
                .filter(|&r| self.replicas[r as usize].has_room(plan, reserve))
        };
        let joined = if plan.max_batch == 1 {
            None // every active replica is full
        } else {
            match self.s.dispatch {
                Dispatch::Spread if st.can_open(&gpus[pool]) => None,
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
        let st = &mut self.stations[pool];
        if !st.can_open(&gpus[pool]) {
            return None;
        }
        let new = self.replicas.len() as u32;
        let (r, pos) = st.open(new)?;
        gpus[pool].occupy(now, st.tp());
        if r == new {
            self.replicas.push(Replica::new(pool as u32));
            if let Mode::Drawn { solo, .. } = &mut self.mode {
                solo.push(u32::MAX);
            }
        }
        let rep = &mut self.replicas[r as usize];
        rep.pos = pos;
        rep.activate(now);
        Some(r)
    }

    /// Stops replica `r` (it holds no request) at `now`.
    pub(super) fn deactivate(&mut self, r: u32, now: SimTime, gpus: &mut [PoolState]) {
        let rep = &mut self.replicas[r as usize];
        rep.next_at = None;
        let (pool, pos) = (rep.pool as usize, rep.pos);
        let st = &mut self.stations[pool];
        if let Some(moved) = st.close(r, pos) {
            self.replicas[moved as usize].pos = pos;
        }
        gpus[pool].vacate(now, st.tp());
    }

    /// Admits the request in `slot` to replica `r` at `now`.
    #[inline]
    pub(super) fn place(&mut self, r: u32, slot: u32, now: SimTime, gpus: &mut [PoolState]) {
        match self.mode {
            Mode::Drawn { .. } => self.place_drawn(r, slot, now),
            Mode::Batched { .. } => self.place_batched(r, slot, now, gpus),
        }
    }

    /// Admits waiting requests of `pool` in arrival order while a replica takes the first.
    pub fn refill(&mut self, pool: usize, now: SimTime, gpus: &mut [PoolState]) {
        while let Some(head) = self.stations[pool].head() {
            let reserve = self.reserve(&self.reqs[head]);
            let Some(r) = self.pick_replica(pool, reserve, now, gpus) else {
                break;
            };
            self.stations[pool].pop_head(now);
            self.place(r, head, now, gpus);
        }
    }

    /// Requests of every group wait for GPUs that came back (a job's end, say).
    pub fn refill_all(&mut self, now: SimTime, gpus: &mut [PoolState], q: &mut EventQueue<Event>) {
        for pool in 0..self.stations.len() {
            if self.stations[pool].queued() > 0 {
                self.refill(pool, now, gpus);
            }
        }
        self.flush(now, q);
    }

    /// Plans the next event of every replica touched since the last flush.
    #[inline]
    pub fn flush(&mut self, now: SimTime, q: &mut EventQueue<Event>) {
        match self.mode {
            Mode::Drawn { .. } => self.flush_drawn(q),
            Mode::Batched { .. } => self.flush_batched(now, q),
        }
    }

    /// Replica `r` reached its planned event.
    pub fn step(
        &mut self,
        r: u32,
        now: SimTime,
        gpus: &mut [PoolState],
        q: &mut EventQueue<Event>,
    ) {
        if self.replicas[r as usize].next_at != Some(now) {
            return; // superseded by a later plan
        }
        match self.mode {
            Mode::Drawn { .. } => self.step_drawn(r, now, gpus, q),
            Mode::Batched { .. } => self.step_batched(r, now, gpus, q),
        }
    }

    /// Takes every request out of replica `r` into `out` and stops it.
    fn evict(&mut self, r: u32, now: SimTime, gpus: &mut [PoolState], out: &mut Vec<u32>) {
        match self.mode {
            Mode::Drawn { .. } => self.evict_drawn(r, now, gpus, out),
            Mode::Batched { .. } => self.evict_batched(r, now, gpus, out),
        }
    }

    /// GPU `gpu` of `pool` (counting the GPUs of its active replicas in order) failed while
    /// serving: its replica stops, and its requests go back to the head of the queue to be
    /// served again from the start.
    pub fn preempt(&mut self, pool: usize, gpu: u32, now: SimTime, gpus: &mut [PoolState]) {
        let st = &self.stations[pool];
        let r = st.active()[(gpu / st.tp()) as usize];
        let mut evicted = Vec::new();
        self.evict(r, now, gpus, &mut evicted);
        let warmup = self.s.warmup();
        for &slot in evicted.iter().rev() {
            self.stations[pool].push_front(now, slot);
            let r = &self.reqs[slot];
            self.rec.preempted += u64::from(r.issued >= warmup && !r.shadow);
        }
    }

    /// The owners take the GPUs of `pool` back: the requests on them and queued for them
    /// are dropped (their users get no answer from this pool).
    pub fn withdraw(&mut self, pool: usize, now: SimTime, gpus: &mut [PoolState]) {
        let mut dropped = Vec::new();
        while let Some(&r) = self.stations[pool].active().last() {
            self.evict(r, now, gpus, &mut dropped);
        }
        gpus[pool].withdraw(now);
        self.stations[pool].drain_queue(now, &mut dropped);
        let warmup = self.s.warmup();
        for &slot in &dropped {
            let r = &self.reqs[slot];
            if r.shadow {
                continue;
            }
            let measured = r.issued >= warmup;
            let region = self.users[r.user as usize].region;
            self.rec.dropped(region, measured);
            self.rec.withdrawn += u64::from(measured);
        }
        self.reqs.release_all(dropped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::engine::NANOS_PER_SEC;
    use crate::core::rng::Streams;
    use crate::scenario::{Scenario, load_str};

    /// One group of `count` H100s serving users in one region.
    fn scenario(count: u32, inference: &str) -> Scenario {
        load_str(
            &format!(
                "simulation: {{horizon_h: 1, warmup_h: 0}}
regions: [{{name: a}}]
network: {{intra_region_rtt_ms: 0, bytes_per_token: 0}}
providers: [{{name: p, region: a, gpu: h100_sxm, count: {count}, hourly_cost_usd: 1}}]
inference: {{users: [{{region: a, rate_per_s: 1}}], {inference}}}
"
            ),
            "t",
            "t",
            &[],
        )
        .expect("valid scenario")
    }

    fn submit(
        inf: &mut Inference<'_>,
        gpus: &mut [PoolState],
        q: &mut EventQueue<Event>,
        now: SimTime,
    ) {
        let req = super::super::requests::Request {
            issued: now,
            admitted: now,
            first: now,
            prompt: 100,
            output_tokens: 10,
            service_s: 1.0,
            ..Default::default()
        };
        inf.submit(0, req, now, gpus, q);
    }

    /// Runs the queue's `Step` events to the end.
    fn drain(
        inf: &mut Inference<'_>,
        gpus: &mut [PoolState],
        q: &mut EventQueue<Event>,
    ) -> Vec<SimTime> {
        let mut times = Vec::new();
        while let Some((t, e)) = q.pop_until(u64::MAX) {
            if let Event::Step(r) = e {
                inf.step(r, t, gpus, q);
                times.push(t);
            }
        }
        times
    }

    #[test]
    fn a_drawn_request_starts_on_an_idle_gpu_and_the_next_waits_for_it() {
        let s = scenario(1, "service_time_s: {constant: 1.0}");
        let mut inf = Inference::new(&s, &Streams::new(1, 0));
        let mut gpus = vec![PoolState::new(1, 1, 2.0)];
        let mut q = EventQueue::default();
        submit(&mut inf, &mut gpus, &mut q, 0);
        assert_eq!((gpus[0].serving(), inf.stations[0].queued()), (1, 0));
        submit(&mut inf, &mut gpus, &mut q, 0);
        assert_eq!(inf.stations[0].queued(), 1);
        // The GPU takes the second when the first ends, then stops.
        let ends = drain(&mut inf, &mut gpus, &mut q);
        assert_eq!(ends, vec![NANOS_PER_SEC, 2 * NANOS_PER_SEC]);
        assert_eq!((gpus[0].serving(), gpus[0].payments()), (0, 2));
        // Two GPU-seconds busy; one request waited one second.
        let m = gpus[0].mark(2 * NANOS_PER_SEC);
        assert_eq!(m.busy, 2 * u128::from(NANOS_PER_SEC));
        assert_eq!(
            inf.stations[0].mark(2 * NANOS_PER_SEC).system,
            3 * u128::from(NANOS_PER_SEC)
        );
    }

    #[test]
    fn batching_admits_a_request_to_a_running_replica_with_room() {
        let s = scenario(1, "model: {name: llama-3.1-8b, context_tokens: 8192}");
        let mut inf = Inference::new(&s, &Streams::new(1, 0));
        let mut gpus = vec![PoolState::new(1, 1, 2.0)];
        let mut q = EventQueue::default();
        submit(&mut inf, &mut gpus, &mut q, 0);
        submit(&mut inf, &mut gpus, &mut q, 0);
        // One replica holds both; nothing waits.
        let r = inf.stations[0].active()[0];
        assert_eq!(
            (inf.replicas[r as usize].len(), inf.stations[0].queued()),
            (2, 0)
        );
        drain(&mut inf, &mut gpus, &mut q);
        assert!(inf.stations[0].active().is_empty());
        assert_eq!(gpus[0].payments(), 2);
    }

    #[test]
    fn a_failed_gpu_sends_its_requests_back_to_the_head_of_the_queue() {
        let s = scenario(2, "service_time_s: {constant: 1.0}");
        let mut inf = Inference::new(&s, &Streams::new(1, 0));
        let mut gpus = vec![PoolState::new(2, 2, 2.0)];
        let mut q = EventQueue::default();
        for _ in 0..3 {
            submit(&mut inf, &mut gpus, &mut q, 0);
        }
        assert_eq!(inf.stations[0].queued(), 1);
        let waiting = inf.stations[0].head();
        inf.preempt(0, 1, 10, &mut gpus);
        assert_eq!(gpus[0].serving(), 1);
        assert_eq!(inf.stations[0].queued(), 2);
        // The preempted request is ahead of the one that was waiting.
        assert_ne!(inf.stations[0].head(), waiting);
        assert_eq!(inf.rec.preempted, 1);
    }

    #[test]
    fn owners_taking_their_gpus_back_drop_every_request_on_them_and_queued() {
        let s = scenario(1, "service_time_s: {constant: 1.0}");
        let mut inf = Inference::new(&s, &Streams::new(1, 0));
        let mut gpus = vec![PoolState::new(1, 1, 2.0)];
        let mut q = EventQueue::default();
        submit(&mut inf, &mut gpus, &mut q, 0);
        submit(&mut inf, &mut gpus, &mut q, 0);
        inf.withdraw(0, 5, &mut gpus);
        assert!(gpus[0].away());
        assert_eq!((gpus[0].serving(), inf.stations[0].queued()), (0, 0));
        assert_eq!(inf.rec.withdrawn, 2);
        // Their stale events do nothing; nothing is paid.
        drain(&mut inf, &mut gpus, &mut q);
        assert_eq!(gpus[0].payments(), 0);
    }
}
