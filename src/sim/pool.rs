//! One provider group at run time: its GPUs (serving in replicas, reserved by jobs, offline,
//! or idle), the requests waiting for it, and the time integrals (busy GPUs, requests in
//! system, batch) that utilisation, revenue and Little's law need.

use std::collections::VecDeque;

use rand_distr::{Distribution, Exp1, Gamma};

use crate::core::dist::unit;
use crate::core::engine::SimTime;
use crate::core::rng::StreamRng;

/// Time until a GPU fails, drawn from a Weibull of shape `k` and mean `mtbf` (seconds): from
/// a repair (as good as new), or from an arbitrary moment of a long-running fleet
/// (`stationary`: the forward recurrence time, a length-biased interval cut uniformly), so a
/// fleet starts in its steady state instead of all new.
pub fn time_to_failure(rng: &mut StreamRng, mtbf: f64, k: f64, stationary: bool) -> f64 {
    let scale = mtbf / statrs::function::gamma::gamma(1.0 + 1.0 / k);
    if stationary {
        // x f(x) of a Weibull is, in y = (x / scale)^k, a Gamma(1 + 1/k, 1) density.
        let y: f64 = match Gamma::new(1.0 + 1.0 / k, 1.0) {
            Ok(g) => g.sample(rng),
            Err(_) => 1.0, // unreachable for a validated shape
        };
        unit(rng) * scale * y.powf(1.0 / k)
    } else {
        let e: f64 = Exp1.sample(rng);
        scale * e.powf(1.0 / k)
    }
}

/// `x` as an f64 from its two 64-bit halves: u128 -> f64 is a library call where u64 -> f64
/// is one instruction. Two roundings instead of one: within 2^-52 relative, and exact below
/// 2^53.
#[inline]
pub fn fast_f64(x: u128) -> f64 {
    ((x >> 64) as u64 as f64) * 18_446_744_073_709_551_616.0 + (x as u64 as f64)
}

/// Time integrals of a pool, in unit-nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Areas {
    /// GPUs serving or reserved by a job.
    pub busy: u128,
    /// GPUs in serving replicas.
    pub serving: u128,
    /// Requests decoding (the batches).
    pub running: u128,
    /// Requests in the system: waiting or admitted to a replica.
    pub system: u128,
}

/// Run-time state of a GPU pool. The fields a token epoch reads for every group come first,
/// in declaration order (`repr(C)`), so that they fill the first two cache lines: with 10,000
/// groups each epoch's pass over them is bound by memory traffic.
#[derive(Clone, Debug)]
#[repr(C, align(64))]
pub struct PoolState {
    /// Time integrals up to `last`.
    pub areas: Areas,
    /// Integral of offline GPUs over time, GPU-nanoseconds.
    pub offline_area: u128,
    /// Time the integrals were last brought up to date.
    pub last: SimTime,
    /// What users pay per busy GPU-hour before the multiplier, USD.
    pub price: f64,
    /// Multiplier on the group's price now.
    pub price_mult: f64,
    /// GPUs in the pool.
    pub count: u32,
    /// GPUs in active replicas (serving at least one request).
    pub busy: u32,
    /// GPUs reserved by training or fine-tuning jobs.
    pub reserved: u32,
    /// GPUs offline after a failure, until repaired (departed ones for good).
    pub offline: u32,
    /// Times the multiplier changed.
    pub price_changes: u32,
    /// The owners have taken the GPUs back for now.
    pub away: bool,
    /// Busy area when the multiplier last changed.
    pub fee_mark: u128,
    /// Users' fees up to the busy area `fee_mark`, USD.
    pub fees_acc: f64,
    /// GPU failures so far.
    pub failures: u64,
    /// Requests answered outside the latency objectives so far.
    pub slo_misses: u64,
    /// Payments so far: requests answered and verification runs.
    pub payments: u64,
    /// GPUs that left the network after a failure (counted in `offline`).
    pub departed: u32,
    /// GPUs per replica.
    pub tp: u32,
    /// Integral of departed GPUs over time, GPU-nanoseconds.
    pub departed_area: u128,
    /// Whether failures are simulated for this pool.
    pub can_fail: bool,
    /// Active replicas (indices into the world's replicas).
    pub active: Vec<u32>,
    /// Idle replicas, the next to open last.
    pub idle_replicas: Vec<u32>,
    /// Requests admitted to replicas.
    pub in_replicas: u32,
    /// Requests decoding.
    pub running: u32,
    /// Requests waiting, by slab index, in arrival order.
    pub queue: VecDeque<u32>,
    /// Largest queue allowed (usize::MAX: no limit).
    pub capacity: usize,
    /// Requests served (measured: issued after the warm-up).
    pub served: u64,
    /// GPUs that joined and that left the group (by decision) so far.
    pub joined: u32,
    /// GPUs that left by decision so far.
    pub left: u32,
    /// Failure clocks of GPUs that left, to be dropped when they ring.
    pub stale_clocks: u32,
}

impl PoolState {
    /// An idle pool of `count` GPUs in replicas of `tp`, whose replicas are `replicas`.
    pub fn new(count: u32, tp: u32, replicas: std::ops::Range<u32>, capacity: usize) -> Self {
        Self {
            count,
            tp,
            busy: 0,
            reserved: 0,
            offline: 0,
            departed: 0,
            departed_area: 0,
            can_fail: true,
            away: false,
            active: Vec::with_capacity(replicas.len()),
            idle_replicas: replicas.rev().collect(),
            in_replicas: 0,
            running: 0,
            queue: VecDeque::with_capacity(capacity.min(1 << 16)),
            capacity,
            areas: Areas::default(),
            offline_area: 0,
            last: 0,
            served: 0,
            failures: 0,
            slo_misses: 0,
            payments: 0,
            joined: 0,
            left: 0,
            stale_clocks: 0,
            price_changes: 0,
            price: 0.0,
            price_mult: 1.0,
            fees_acc: 0.0,
            fee_mark: 0,
        }
    }

    /// The same pool with only `members` of its GPUs in the network: the others count as
    /// departed until they join.
    pub fn with_members(mut self, members: u32) -> Self {
        let out = self.count - members.min(self.count);
        self.offline = out;
        self.departed = out;
        self
    }

    /// GPUs in the network (online, offline for repair, busy or idle).
    #[inline]
    pub fn members(&self) -> u32 {
        self.count - self.departed
    }

    /// GPU-time in the network up to `now`, GPU-nanoseconds.
    pub fn member_area_at(&self, now: SimTime) -> u128 {
        u128::from(self.count) * u128::from(now) - self.departed_area_at(now)
    }

    /// Users' fees up to `now`, USD.
    pub fn fees_at(&self, now: SimTime) -> f64 {
        let busy = self.busy_area_at(now) - self.fee_mark;
        self.fees_acc + fast_f64(busy) / 3.6e12 * self.price * self.price_mult
    }

    /// Changes the price multiplier at `now`.
    pub fn set_price_mult(&mut self, now: SimTime, mult: f64) {
        self.fees_acc = self.fees_at(now);
        self.fee_mark = self.busy_area_at(now);
        self.price_mult = mult;
        self.price_changes = self.price_changes.wrapping_add(1);
    }

    /// `n` GPUs join (at most those not in the network); returns how many did.
    pub fn join(&mut self, now: SimTime, n: u32) -> u32 {
        self.advance(now);
        let k = n.min(self.departed);
        self.departed -= k;
        self.offline -= k;
        self.joined += k;
        k
    }

    /// Up to `n` idle GPUs leave the network; returns how many did.
    pub fn leave(&mut self, now: SimTime, n: u32) -> u32 {
        self.advance(now);
        let k = n.min(self.idle());
        self.departed += k;
        self.offline += k;
        self.left += k;
        k
    }

    /// Brings the time integrals up to `now`; call before any change to the counts.
    #[inline]
    pub fn advance(&mut self, now: SimTime) {
        if now == self.last {
            return;
        }
        self.areas = self.areas_at(now);
        self.offline_area = self.offline_area_at(now);
        self.departed_area = self.departed_area_at(now);
        self.last = now;
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

    /// Whether a new replica can start: enough idle GPUs of one host.
    #[inline]
    pub fn can_open(&self) -> bool {
        self.idle() >= self.tp && !self.idle_replicas.is_empty()
    }

    /// Offline GPU-time up to `now`, GPU-nanoseconds.
    pub fn offline_area_at(&self, now: SimTime) -> u128 {
        let offline = if self.away { self.count } else { self.offline };
        self.offline_area + u128::from(offline) * u128::from(now - self.last)
    }

    /// Departed GPU-time up to `now`, GPU-nanoseconds.
    pub fn departed_area_at(&self, now: SimTime) -> u128 {
        self.departed_area + u128::from(self.departed) * u128::from(now - self.last)
    }

    /// Occupied GPU-time (serving or reserved) up to `now`, GPU-nanoseconds.
    #[inline]
    pub fn busy_area_at(&self, now: SimTime) -> u128 {
        self.areas.busy + u128::from(self.busy + self.reserved) * u128::from(now - self.last)
    }

    /// The time integrals at `now`, without changing the pool.
    pub fn areas_at(&self, now: SimTime) -> Areas {
        let dt = u128::from(now - self.last);
        let a = &self.areas;
        Areas {
            busy: a.busy + u128::from(self.busy + self.reserved) * dt,
            serving: a.serving + u128::from(self.busy) * dt,
            running: a.running + u128::from(self.running) * dt,
            system: a.system + (u128::from(self.in_replicas) + self.queue.len() as u128) * dt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_token_epoch_reads_fits_in_two_cache_lines() {
        use std::mem::offset_of;
        assert_eq!(offset_of!(PoolState, areas), 0);
        assert_eq!(offset_of!(Areas, busy), 0);
        for end in [
            offset_of!(PoolState, offline_area) + 16,
            offset_of!(PoolState, price_mult) + 8,
            offset_of!(PoolState, price_changes) + 4,
            offset_of!(PoolState, away) + 1,
        ] {
            assert!(end <= 128, "{end}");
        }
        assert_eq!(std::mem::align_of::<PoolState>(), 64);
    }
    use crate::core::rng::Streams;

    #[test]
    fn weibull_failures_have_their_mean_and_stationary_residual() {
        let mut rng = Streams::new(1, 0).stream("test");
        let n = 400_000;
        for k in [0.7, 1.0, 2.0] {
            let mean: f64 = (0..n)
                .map(|_| time_to_failure(&mut rng, 100.0, k, false))
                .sum::<f64>()
                / n as f64;
            assert!((mean / 100.0 - 1.0).abs() < 0.01, "k {k}: mean {mean}");
            // The forward recurrence time has mean E[X^2] / (2 E[X]).
            let g = |x: f64| statrs::function::gamma::gamma(x);
            let want = 100.0 * g(1.0 + 2.0 / k) / (2.0 * g(1.0 + 1.0 / k).powi(2));
            let res: f64 = (0..n)
                .map(|_| time_to_failure(&mut rng, 100.0, k, true))
                .sum::<f64>()
                / n as f64;
            assert!(
                (res / want - 1.0).abs() < 0.015,
                "k {k}: residual {res} vs {want}"
            );
        }
    }

    #[test]
    fn integrals_accumulate_piecewise_constant_occupancy() {
        let mut p = PoolState::new(2, 1, 0..2, 4);
        p.advance(10);
        p.busy = 2;
        p.in_replicas = 2;
        p.running = 2;
        p.advance(20); // 2 busy for 10 ns
        p.queue.push_back(0);
        p.reserved = 0;
        let a = p.areas_at(25);
        assert_eq!((a.busy, a.serving, a.running, a.system), (30, 30, 30, 35));
        p.advance(30); // 2 busy + 1 queued for 10 ns
        assert_eq!((p.areas.busy, p.areas.system), (40, 50));
        assert!(!p.can_open());
        p.busy = 0;
        assert!(p.can_open());
        p.tp = 4; // a replica needs more GPUs than the pool has idle
        assert!(!p.can_open());
    }
}
