//! One pool of identical GPUs at run time: who is busy, who waits, and the time integrals
//! (busy GPUs, requests in system) that utilisation and Little's law need.

use std::collections::VecDeque;

use crate::engine::SimTime;

/// Run-time state of a GPU pool.
#[derive(Clone, Debug)]
pub struct PoolState {
    /// GPUs in the pool.
    pub count: u32,
    /// GPUs serving a request.
    pub busy: u32,
    /// GPUs reserved by training or fine-tuning jobs.
    pub reserved: u32,
    /// GPUs offline after a failure, until repaired.
    pub offline: u32,
    /// Slab indices of the requests in service, for preemption by a failure (kept only when
    /// the pool can fail).
    pub in_service: Vec<u32>,
    /// Whether failures are simulated for this pool.
    pub can_fail: bool,
    /// Whether the requests in service are tracked (failures, or owners taking GPUs back).
    pub tracked: bool,
    /// The owners have taken the GPUs back for now.
    pub away: bool,
    /// Integral of offline GPUs over time, GPU-nanoseconds.
    pub offline_area: u128,
    /// Requests waiting, by slab index, in arrival order.
    pub queue: VecDeque<u32>,
    /// Largest queue allowed (usize::MAX: no limit).
    pub capacity: usize,
    /// Integral of occupied GPUs (serving or reserved by a job) over time, GPU-nanoseconds.
    pub busy_area: u128,
    /// Integral of requests in system (busy + queued) over time, request-nanoseconds.
    pub system_area: u128,
    /// Time the integrals were last brought up to date.
    pub last: SimTime,
    /// Requests served (measured: issued after the warm-up).
    pub served: u64,
    /// Their GPU time, nanoseconds (what their users pay for).
    pub served_ns: u128,
}

impl PoolState {
    /// An idle pool.
    pub fn new(count: u32, capacity: usize) -> Self {
        Self {
            count,
            busy: 0,
            reserved: 0,
            offline: 0,
            in_service: Vec::with_capacity(count as usize),
            can_fail: true,
            tracked: true,
            away: false,
            offline_area: 0,
            queue: VecDeque::with_capacity(capacity.min(1 << 16)),
            capacity,
            busy_area: 0,
            system_area: 0,
            last: 0,
            served: 0,
            served_ns: 0,
        }
    }

    /// Brings the time integrals up to `now`; call before any change to `busy` or `queue`.
    #[inline]
    pub fn advance(&mut self, now: SimTime) {
        let dt = u128::from(now - self.last);
        self.busy_area += u128::from(self.busy + self.reserved) * dt;
        self.offline_area += u128::from(if self.away { self.count } else { self.offline }) * dt;
        self.system_area += (u128::from(self.busy) + self.queue.len() as u128) * dt;
        self.last = now;
    }

    /// Whether a GPU is free.
    #[inline]
    pub fn has_free(&self) -> bool {
        !self.away && self.busy + self.reserved + self.offline < self.count
    }

    /// GPUs neither serving, reserved nor offline.
    #[inline]
    pub fn idle(&self) -> u32 {
        if self.away {
            0
        } else {
            self.count - self.busy - self.reserved - self.offline
        }
    }

    /// Whether a new request can be accepted (a free GPU or room in the queue).
    #[inline]
    pub fn has_room(&self) -> bool {
        self.has_free() || (!self.away && self.queue.len() < self.capacity)
    }

    /// Offline GPU-time up to `now`, GPU-nanoseconds.
    pub fn offline_area_at(&self, now: SimTime) -> u128 {
        let offline = if self.away { self.count } else { self.offline };
        self.offline_area + u128::from(offline) * u128::from(now - self.last)
    }

    /// (busy area, system area) at `now`, without changing the pool.
    pub fn areas_at(&self, now: SimTime) -> (u128, u128) {
        let dt = u128::from(now - self.last);
        (
            self.busy_area + u128::from(self.busy + self.reserved) * dt,
            self.system_area + (u128::from(self.busy) + self.queue.len() as u128) * dt,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrals_accumulate_piecewise_constant_occupancy() {
        let mut p = PoolState::new(2, 4);
        p.advance(10);
        p.busy = 2;
        p.advance(20); // 2 busy for 10 ns
        p.queue.push_back(0);
        assert_eq!(p.areas_at(25), (20 + 10, 20 + 15));
        p.advance(30); // 2 busy + 1 queued for 10 ns
        assert_eq!((p.busy_area, p.system_area), (40, 50));
        assert!(!p.has_free() && p.has_room());
    }
}
