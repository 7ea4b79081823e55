//! Drawn service times: each replica is one GPU serving one request at a time for the time
//! drawn for it, so its first token and end are fixed when it starts, and a GPU that finishes
//! hands over to the next waiting request.

use crate::core::engine::{EventQueue, SimTime, from_secs};
use crate::sim::event::Event;
use crate::sim::pool::PoolState;

use super::{Inference, Mode};

impl Inference<'_> {
    /// Replica `r` serves the request in `slot` for its drawn time from `now`: its first
    /// token and end are fixed now.
    fn serve_drawn(&mut self, r: u32, slot: u32, now: SimTime) {
        let Mode::Drawn { solo, pending } = &mut self.mode else {
            return;
        };
        let req = &mut self.reqs[slot];
        req.admitted = now;
        req.first = now;
        let done = now.saturating_add(from_secs(req.service_s));
        self.replicas[r as usize].next_at = Some(done);
        solo[r as usize] = slot;
        pending.push((done, r));
    }

    /// Admits the request in `slot` to one-request replica `r` at `now`.
    pub(super) fn place_drawn(&mut self, r: u32, slot: u32, now: SimTime) {
        let pool = self.replicas[r as usize].pool as usize;
        self.stations[pool].started(now);
        self.serve_drawn(r, slot, now);
    }

    /// Schedules the ends of the requests started since the last flush.
    pub(super) fn flush_drawn(&mut self, q: &mut EventQueue<Event>) {
        if let Mode::Drawn { pending, .. } = &mut self.mode {
            for (at, r) in pending.drain(..) {
                q.schedule_at(at, Event::Step(r));
            }
        }
    }

    /// One-request replica `r` finished its request at `now`.
    pub(super) fn step_drawn(
        &mut self,
        r: u32,
        now: SimTime,
        gpus: &mut [PoolState],
        q: &mut EventQueue<Event>,
    ) {
        let Mode::Drawn { solo, .. } = &mut self.mode else {
            return;
        };
        let slot = std::mem::replace(&mut solo[r as usize], u32::MAX);
        let pool = self.replicas[r as usize].pool as usize;
        self.complete(slot, now, gpus);
        // The GPU takes the next waiting request (one in, one out of the replica), if any.
        match self.stations[pool].pop_head(now) {
            Some(next) => self.serve_drawn(r, next, now),
            None => {
                self.stations[pool].finished(now);
                self.deactivate(r, now, gpus);
            }
        }
        self.flush_drawn(q);
    }

    /// Takes the request out of one-request replica `r` into `out` and stops it.
    pub(super) fn evict_drawn(
        &mut self,
        r: u32,
        now: SimTime,
        gpus: &mut [PoolState],
        out: &mut Vec<u32>,
    ) {
        let Mode::Drawn { solo, .. } = &mut self.mode else {
            return;
        };
        let slot = std::mem::replace(&mut solo[r as usize], u32::MAX);
        let pool = self.replicas[r as usize].pool as usize;
        self.stations[pool].finished(now);
        out.push(slot);
        self.deactivate(r, now, gpus);
    }
}
