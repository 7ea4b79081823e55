//! A provider group as a queueing station for inference: its replicas (the servers, active
//! or idle), the FIFO queue of requests waiting for it, and the integrals of requests
//! decoding and in the system (Little's law). Every change goes through a method that first
//! brings the integrals up to its time.
//!
//! A replica exists only once it has opened: a group of millions of cards, most of them
//! idle, holds a count of replicas never opened instead of a replica each. A stopped
//! replica goes back to the idle list and opens again before a new one is made, so the
//! replicas that exist are the most that were ever active at once.

use std::collections::VecDeque;

use crate::core::engine::SimTime;
use crate::physics::serving::Serving;
use crate::sim::pool::PoolState;

/// The request integrals of a station at one moment, request-nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct RequestMark {
    /// Requests decoding (the batches).
    pub(super) running: u128,
    /// Requests in the system: waiting or admitted to a replica.
    pub(super) system: u128,
}

/// One provider group's inference state.
#[derive(Clone, Debug)]
pub(super) struct Station {
    /// How the group serves (a placeholder for groups that cannot, which get no requests).
    pub(super) plan: Serving,
    /// Requests per second the group completes with full batches.
    pub(super) capacity_rps: f64,
    /// Active replicas (indices into the subsystem's replicas).
    active: Vec<u32>,
    /// Idle replicas that have served before, the next to open last.
    idle_replicas: Vec<u32>,
    /// Replicas the group can hold that have never opened (they do not exist yet).
    unopened: u32,
    /// Requests waiting, by slot, in arrival order.
    queue: VecDeque<u32>,
    /// Largest queue allowed (usize::MAX: no limit).
    max_queue: usize,
    /// Requests admitted to replicas.
    in_replicas: u32,
    /// Requests decoding.
    running: u32,
    /// Requests answered that were issued after the warm-up.
    served: u64,
    running_area: u128,
    system_area: u128,
    last: SimTime,
}

impl Station {
    /// An idle station serving by `plan`, none of whose `plan.replicas` replicas has opened.
    pub(super) fn new(plan: Serving, max_queue: usize, capacity_rps: f64) -> Self {
        Self {
            plan,
            capacity_rps,
            active: Vec::new(),
            idle_replicas: Vec::new(),
            unopened: plan.replicas,
            queue: VecDeque::with_capacity(max_queue.min(1 << 16)),
            max_queue,
            in_replicas: 0,
            running: 0,
            served: 0,
            running_area: 0,
            system_area: 0,
            last: 0,
        }
    }

    #[inline]
    fn advance(&mut self, now: SimTime) {
        if now == self.last {
            return;
        }
        let dt = u128::from(now - self.last);
        self.running_area += u128::from(self.running) * dt;
        self.system_area += (u128::from(self.in_replicas) + self.queue.len() as u128) * dt;
        self.last = now;
    }

    /// The integrals at `now`, without changing the station.
    pub(super) fn mark(&self, now: SimTime) -> RequestMark {
        let dt = u128::from(now - self.last);
        RequestMark {
            running: self.running_area + u128::from(self.running) * dt,
            system: self.system_area
                + (u128::from(self.in_replicas) + self.queue.len() as u128) * dt,
        }
    }

    /// GPUs per replica.
    #[inline]
    pub(super) fn tp(&self) -> u32 {
        self.plan.tp
    }

    /// Whether a new replica can start: enough idle GPUs of one host and a replica to open.
    #[inline]
    pub(super) fn can_open(&self, gpus: &PoolState) -> bool {
        gpus.idle() >= self.plan.tp && (self.unopened > 0 || !self.idle_replicas.is_empty())
    }

    /// Active replicas.
    #[inline]
    pub(super) fn active(&self) -> &[u32] {
        &self.active
    }

    /// Opens an idle replica: the last one stopped, else a new one numbered `new` (which the
    /// caller then creates). Returns it and its position among the active ones.
    #[inline]
    pub(super) fn open(&mut self, new: u32) -> Option<(u32, u32)> {
        let r = match self.idle_replicas.pop() {
            Some(r) => r,
            None if self.unopened > 0 => {
                self.unopened -= 1;
                new
            }
            None => return None,
        };
        let pos = self.active.len() as u32;
        self.active.push(r);
        Some((r, pos))
    }

    /// Closes replica `r` at position `pos`; returns the replica moved into `pos`, if any.
    #[inline]
    pub(super) fn close(&mut self, r: u32, pos: u32) -> Option<u32> {
        self.active.swap_remove(pos as usize);
        self.idle_replicas.push(r);
        self.active.get(pos as usize).copied()
    }

    /// Requests waiting.
    #[inline]
    pub(super) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Whether the queue has room for one more.
    #[inline]
    pub(super) fn queue_has_room(&self) -> bool {
        self.queue.len() < self.max_queue
    }

    /// The request at the head of the queue.
    #[inline]
    pub(super) fn head(&self) -> Option<u32> {
        self.queue.front().copied()
    }

    /// Takes the head of the queue.
    #[inline]
    pub(super) fn pop_head(&mut self, now: SimTime) -> Option<u32> {
        self.advance(now);
        self.queue.pop_front()
    }

    /// Queues a request last.
    #[inline]
    pub(super) fn push_back(&mut self, now: SimTime, slot: u32) {
        self.advance(now);
        self.queue.push_back(slot);
    }

    /// Queues a request first (it was being served and must start again).
    pub(super) fn push_front(&mut self, now: SimTime, slot: u32) {
        self.advance(now);
        self.queue.push_front(slot);
    }

    /// Empties the queue into `out`, in order.
    pub(super) fn drain_queue(&mut self, now: SimTime, out: &mut Vec<u32>) {
        self.advance(now);
        out.extend(self.queue.drain(..));
    }

    /// A request was admitted to a replica.
    #[inline]
    pub(super) fn admitted(&mut self, now: SimTime) {
        self.advance(now);
        self.in_replicas += 1;
    }

    /// A request was admitted to a replica and started decoding at once (a drawn time).
    #[inline]
    pub(super) fn started(&mut self, now: SimTime) {
        self.advance(now);
        self.in_replicas += 1;
        self.running += 1;
    }

    /// A decoding request left its replica (answered, or taken out).
    #[inline]
    pub(super) fn finished(&mut self, now: SimTime) {
        self.advance(now);
        self.in_replicas -= 1;
        self.running -= 1;
    }

    /// `n` requests left their replicas (answered, or taken out).
    #[inline]
    pub(super) fn removed(&mut self, now: SimTime, n: u32) {
        self.advance(now);
        self.in_replicas -= n;
    }

    /// The requests decoding went from `before` to `after` in one replica.
    #[inline]
    pub(super) fn running_changed(&mut self, now: SimTime, before: u32, after: u32) {
        self.advance(now);
        self.running = self.running + after - before;
    }

    /// A request issued after the warm-up was answered.
    #[inline]
    pub(super) fn served(&mut self) {
        self.served += 1;
    }

    /// Requests answered that were issued after the warm-up.
    pub(super) fn served_count(&self) -> u64 {
        self.served
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrals_count_requests_waiting_and_decoding() {
        let mut st = Station::new(Serving::single_server(2), 4, 1.0);
        st.push_back(10, 7);
        st.push_back(20, 8); // 1 waiting for 10 ns
        assert_eq!(st.pop_head(30), Some(7)); // 2 waiting for 10 ns
        st.admitted(30);
        st.running_changed(30, 0, 1);
        st.removed(50, 1); // 1 waiting and 1 decoding for 20 ns
        st.running_changed(50, 1, 0);
        let m = st.mark(60); // 1 waiting for 10 ns
        assert_eq!(m.running, 20);
        assert_eq!(m.system, 10 + 20 + 2 * 20 + 10);
    }

    #[test]
    fn replicas_open_from_the_idle_list_and_close_by_swapping() {
        let mut st = Station::new(Serving::single_server(3), 0, 1.0);
        assert_eq!(st.open(5), Some((5, 0)));
        assert_eq!(st.open(6), Some((6, 1)));
        assert_eq!(st.open(7), Some((7, 2)));
        // All three have opened: there is no fourth.
        assert_eq!(st.open(8), None);
        // Closing the first moves the last into its place.
        assert_eq!(st.close(5, 0), Some(7));
        assert_eq!(st.active(), &[7, 6]);
        assert_eq!(st.close(6, 1), None);
        // The last stopped opens again before any new one.
        assert_eq!(st.open(9), Some((6, 1)));
        assert_eq!(st.open(9), Some((5, 2)));
        assert_eq!(st.open(9), None);
        assert!(!st.queue_has_room());
    }

    #[test]
    fn a_replica_opens_only_on_idle_gpus_of_one_host() {
        let plan = Serving {
            tp: 2,
            ..Serving::single_server(2)
        };
        let st = Station::new(plan, 8, 1.0);
        let mut gpus = PoolState::new(3, 3, 1.0);
        assert!(st.can_open(&gpus));
        gpus.reserve(0, 2);
        assert!(!st.can_open(&gpus));
    }
}
