//! Continuously batching replicas: admitting a request to a replica's prefill queue,
//! bringing a replica up to date at its events (first tokens, completions), planning its next
//! event, and draining it.

use crate::core::engine::{EventQueue, SimTime};
use crate::sim::event::Event;
use crate::sim::pool::PoolState;
use crate::sim::replica::{Settled, Work, delay_ns};

use super::{Inference, Mode};

impl Inference<'_> {
    /// The work of the request in `slot` on a batching replica.
    #[inline]
    fn work(&self, slot: u32) -> Work {
        let r = &self.reqs[slot];
        let (p, o) = (f64::from(r.prompt), f64::from(r.output_tokens));
        Work {
            slot,
            prompt: p,
            decode: o - 1.0,
            load: p + o / 2.0,
            reserve: self.reserve(r),
        }
    }

    /// Brings replica `r` up to `now` and records what happened in it: first tokens and
    /// completed requests.
    fn sync(&mut self, r: u32, now: SimTime, gpus: &mut [PoolState]) {
        let Mode::Batched { settled, .. } = &mut self.mode else {
            return;
        };
        let mut out = std::mem::take(settled);
        out.clear();
        let rep = &mut self.replicas[r as usize];
        let before = rep.running() as u32;
        rep.advance(now, &mut out);
        let after = rep.running() as u32;
        self.record(r, out, before, after, now, gpus);
    }

    /// Records what replica `r` reported at `now` (its batch went from `before` to `after`
    /// requests decoding): first tokens and completed requests. Always inlined into its two
    /// callers: as a call it costs 2% of a batching run's instructions (callgrind).
    #[inline(always)]
    fn record(
        &mut self,
        r: u32,
        out: Settled,
        before: u32,
        after: u32,
        now: SimTime,
        gpus: &mut [PoolState],
    ) {
        let st = &mut self.stations[self.replicas[r as usize].pool as usize];
        st.running_changed(now, before, after);
        st.removed(now, out.done.len() as u32);
        for &slot in &out.first {
            self.reqs[slot].first = now;
        }
        for &slot in &out.done {
            self.complete(slot, now, gpus);
        }
        if let Mode::Batched { settled, .. } = &mut self.mode {
            *settled = out;
        }
    }

    /// Admits the request in `slot` to batching replica `r` at `now`.
    pub(super) fn place_batched(
        &mut self,
        r: u32,
        slot: u32,
        now: SimTime,
        gpus: &mut [PoolState],
    ) {
        self.sync(r, now, gpus);
        let w = self.work(slot);
        self.reqs[slot].admitted = now;
        let Mode::Batched { settled, dirty } = &mut self.mode else {
            return;
        };
        let mut out = std::mem::take(settled);
        out.clear();
        let rep = &mut self.replicas[r as usize];
        let before = rep.running() as u32;
        rep.admit(w, &mut out);
        let after = rep.running() as u32;
        if !dirty.contains(&r) {
            dirty.push(r);
        }
        self.stations[rep.pool as usize].admitted(now);
        // Admitting reports only first tokens of requests with nothing to prefill and
        // completions of one-token answers, both at `now`.
        self.record(r, out, before, after, now, gpus);
    }

    /// Plans the next event of every batching replica touched since the last flush.
    pub(super) fn flush_batched(&mut self, now: SimTime, q: &mut EventQueue<Event>) {
        let Mode::Batched { dirty, .. } = &mut self.mode else {
            return;
        };
        while let Some(r) = dirty.pop() {
            let rep = &mut self.replicas[r as usize];
            let st = &self.stations[rep.pool as usize];
            if st.active().get(rep.pos as usize) != Some(&r) {
                continue; // stopped since
            }
            rep.next_at = rep.plan_next(&st.plan).map(|dt| {
                let at = now.saturating_add(delay_ns(dt));
                q.schedule_at(at, Event::Step(r));
                at
            });
        }
    }

    /// Batching replica `r` reached its planned event.
    pub(super) fn step_batched(
        &mut self,
        r: u32,
        now: SimTime,
        gpus: &mut [PoolState],
        q: &mut EventQueue<Event>,
    ) {
        let pool = self.replicas[r as usize].pool as usize;
        self.sync(r, now, gpus);
        if self.replicas[r as usize].is_empty() {
            self.deactivate(r, now, gpus);
        } else if let Mode::Batched { dirty, .. } = &mut self.mode {
            dirty.push(r);
        }
        self.refill(pool, now, gpus);
        self.flush_batched(now, q);
    }

    /// Takes every request out of batching replica `r` into `out` and stops it.
    pub(super) fn evict_batched(
        &mut self,
        r: u32,
        now: SimTime,
        gpus: &mut [PoolState],
        out: &mut Vec<u32>,
    ) {
        let pool = self.replicas[r as usize].pool as usize;
        self.sync(r, now, gpus);
        let rep = &mut self.replicas[r as usize];
        let running = rep.running() as u32;
        let start = out.len();
        rep.drain(out);
        let st = &mut self.stations[pool];
        st.running_changed(now, running, 0);
        st.removed(now, (out.len() - start) as u32);
        self.deactivate(r, now, gpus);
    }
}
