//! One provider group's GPUs at run time: how many serve in replicas, are reserved by jobs,
//! are offline (awaiting repair, or outside the network) or idle; the GPU-time integrals that
//! utilisation, availability, costs and token rewards need; what users pay under a changing
//! price multiplier; and the counts a token epoch settles (failures, missed objectives,
//! payments).
//!
//! Every change goes through a method that first brings the integrals up to its time, so
//! they are exact (integers of GPU-nanoseconds) whatever the order of events. A [`PoolMark`]
//! is the pool's state at one moment; [`PoolState::since`] gives what happened from a mark
//! to now ([`PoolDelta`]): the one window type of time-series epochs, the warm-up, token
//! epochs and supply reviews.

use crate::core::engine::SimTime;
use crate::core::units::NANOS_PER_HOUR;

/// `x` as an f64 from its two 64-bit halves: u128 -> f64 is a library call where u64 -> f64
/// is one instruction. Two roundings instead of one: within 2^-52 relative, and exact below
/// 2^53.
#[inline]
pub fn fast_f64(x: u128) -> f64 {
    ((x >> 64) as u64 as f64) * 18_446_744_073_709_551_616.0 + (x as u64 as f64)
}

/// Which GPU-time users pay for by the hour (at the group's price times its multiplier).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HourlyBasis {
    /// Busy GPU-time: serving, or reserved by jobs.
    Busy,
    /// GPU-time reserved by jobs only (answers are paid per token).
    Reserved,
    /// GPU-time lent and online, busy or idle (users lease the GPUs).
    Online,
}

/// Run-time state of a provider group's GPUs, in four cache lines (`repr(C, align(64))`,
/// 256 bytes): a token epoch reads every group's window (the integrals, counts, price and
/// fees that [`PoolState::mark`] reads come first, in declaration order), and with 10,000
/// groups that pass is bound by memory traffic.
///
/// GPUs in the network = `max_gpus` - those outside it; of them, `serving + reserved` are
/// busy, `offline` - outside await repair, and the rest are idle (none while the owners have
/// the GPUs back). Outside the network, each counted apart: GPUs not joined yet, GPUs that
/// left by choice, and GPUs that left for good after a failure; a GPU that joins takes the
/// place of one not joined yet, then of one that left, then of one that failed out.
#[derive(Clone, Debug)]
#[repr(C, align(64))]
pub struct PoolState {
    /// Integral of busy GPUs (serving or reserved), GPU-nanoseconds, up to `last`.
    busy_area: u128,
    /// Integral of offline GPUs (every GPU while the owners have them back).
    offline_area: u128,
    /// Integral of GPUs in active replicas.
    serving_area: u128,
    /// Integral of GPUs outside the network.
    outside_area: u128,
    /// Integral of GPUs in the network while their owners have them back.
    away_area: u128,
    /// Hourly area ([`HourlyBasis`]) when the multiplier last changed.
    fee_mark: u128,
    /// Time the integrals were last brought up to date.
    last: SimTime,
    /// What users pay per busy GPU-hour before the multiplier, USD.
    price: f64,
    /// Multiplier on the group's price now.
    price_mult: f64,
    /// Users' hourly fees up to the hourly area `fee_mark`, USD.
    fees_acc: f64,
    /// Users' fees paid per token so far, USD.
    token_fees: f64,
    /// The most GPUs the group can have (the scenario's `max_count`).
    max_gpus: u32,
    /// GPUs in active replicas.
    serving: u32,
    /// GPUs reserved by training or fine-tuning jobs.
    reserved: u32,
    /// GPUs not online: awaiting repair, or outside the network.
    offline: u32,
    /// Times the multiplier changed.
    price_changes: u32,
    /// GPUs outside the network that have not joined yet.
    not_joined: u32,
    /// GPUs outside the network that left by choice.
    gone: u32,
    /// GPUs outside the network that left for good after a failure.
    lost: u32,
    /// The owners have taken the GPUs back for now.
    away: bool,
    /// Which GPU-time users pay for by the hour.
    hourly: HourlyBasis,
    /// GPU failures so far.
    failures: u64,
    /// Requests answered outside the latency objectives so far.
    slo_misses: u64,
    /// Payments so far: requests answered, verification runs, jobs' groups.
    payments: u64,
    /// GPUs that joined after the start, so far.
    joined: u32,
    /// GPUs that left by choice, so far.
    left: u32,
    /// GPUs that left for good after a failure, so far.
    failed_out: u32,
    /// What one GPU busy all the time would have been charged up to `charge_mark`, USD.
    charge_acc: f64,
    /// When the multiplier last changed.
    charge_mark: SimTime,
    /// Failures and GPUs failed out when the warm-up ended.
    warm_failures: u64,
    warm_failed_out: u32,
}

/// A pool's integrals and fees at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PoolMark {
    /// When the mark was taken.
    pub at: SimTime,
    /// Busy GPU-time so far (serving or reserved), GPU-nanoseconds.
    pub busy: u128,
    /// GPU-time in active replicas so far.
    pub serving: u128,
    /// Offline GPU-time so far (outside the network included).
    pub offline: u128,
    /// GPU-time outside the network so far.
    pub outside: u128,
    /// GPU-time in the network while the owners had the GPUs back, so far.
    pub away: u128,
    /// Users' fees so far, USD.
    pub fees: f64,
    /// Of them, paid per token.
    pub token_fees: f64,
    /// Price changes so far.
    pub price_changes: u32,
}

/// What a pool did between a [`PoolMark`] and now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolDelta {
    /// Length of the window, nanoseconds.
    pub dt: SimTime,
    /// The group's `max_gpus`.
    pub max_gpus: u32,
    /// Busy GPU-time, GPU-nanoseconds.
    pub busy: u128,
    /// GPU-time in active replicas.
    pub serving: u128,
    /// Offline GPU-time (outside the network included).
    pub offline: u128,
    /// GPU-time outside the network.
    pub outside: u128,
    /// GPU-time in the network while the owners had the GPUs back.
    pub away: u128,
    /// Users' fees, USD.
    pub fees: f64,
    /// Of them, paid per token.
    pub token_fees: f64,
    /// Whether the price multiplier changed in the window.
    pub price_changed: bool,
}

impl PoolDelta {
    /// GPU-time in the network, GPU-nanoseconds: what providers pay for.
    #[inline]
    pub fn member_ns(&self) -> f64 {
        f64::from(self.max_gpus) * self.dt as f64 - self.outside as f64
    }

    /// GPU-time in the network, GPU-hours.
    #[inline]
    pub fn member_h(&self) -> f64 {
        self.member_ns() / NANOS_PER_HOUR
    }

    /// Busy GPU-time, GPU-hours.
    #[inline]
    pub fn busy_h(&self) -> f64 {
        self.busy as f64 / NANOS_PER_HOUR
    }

    /// GPU-time in the network that its owners lent (all of it for a group without
    /// owners' hours), GPU-nanoseconds: what a provider pays for and answers for.
    #[inline]
    pub fn lent_ns(&self) -> f64 {
        self.member_ns() - self.away as f64
    }

    /// The same in GPU-hours.
    #[inline]
    pub fn lent_h(&self) -> f64 {
        self.lent_ns() / NANOS_PER_HOUR
    }

    /// Lent GPU-time that was not online (awaiting repair), GPU-nanoseconds.
    #[inline]
    pub fn unavailable_ns(&self) -> f64 {
        self.offline as f64 - self.outside as f64 - self.away as f64
    }
}

impl PoolState {
    /// A pool of at most `max_gpus` GPUs, `initial` of them in the network, users paying
    /// `price` per busy GPU-hour.
    pub fn new(max_gpus: u32, initial: u32, price: f64) -> Self {
        let not_joined = max_gpus - initial.min(max_gpus);
        Self {
            busy_area: 0,
            offline_area: 0,
            serving_area: 0,
            outside_area: 0,
            away_area: 0,
            fee_mark: 0,
            last: 0,
            price,
            price_mult: 1.0,
            fees_acc: 0.0,
            token_fees: 0.0,
            max_gpus,
            serving: 0,
            reserved: 0,
            offline: not_joined,
            price_changes: 0,
            not_joined,
            gone: 0,
            lost: 0,
            away: false,
            hourly: HourlyBasis::Busy,
            failures: 0,
            slo_misses: 0,
            payments: 0,
            joined: 0,
            left: 0,
            failed_out: 0,
            charge_acc: 0.0,
            charge_mark: 0,
            warm_failures: 0,
            warm_failed_out: 0,
        }
    }

    /// The same pool with users paying by the hour for `hourly` GPU-time (busy by default).
    pub fn paid_for(mut self, hourly: HourlyBasis) -> Self {
        self.hourly = hourly;
        self
    }

    /// GPUs outside the network now.
    #[inline]
    fn outside(&self) -> u32 {
        self.not_joined + self.gone + self.lost
    }

    /// Brings the integrals up to `now`.
    #[inline]
    fn advance(&mut self, now: SimTime) {
        if now == self.last {
            return;
        }
        let dt = u128::from(now - self.last);
        self.busy_area += u128::from(self.serving + self.reserved) * dt;
        self.serving_area += u128::from(self.serving) * dt;
        self.offline_area += u128::from(self.offline_now()) * dt;
        self.outside_area += u128::from(self.outside()) * dt;
        if self.away {
            self.away_area += u128::from(self.members()) * dt;
        }
        self.last = now;
    }

    /// GPUs counted offline now: every GPU while the owners have them back.
    #[inline]
    fn offline_now(&self) -> u32 {
        if self.away {
            self.max_gpus
        } else {
            self.offline
        }
    }

    /// The most GPUs the group can have.
    #[inline]
    pub fn max_gpus(&self) -> u32 {
        self.max_gpus
    }

    /// GPUs in the network (online, offline for repair, busy or idle).
    #[inline]
    pub fn members(&self) -> u32 {
        self.max_gpus - self.outside()
    }

    /// GPUs neither serving, reserved nor offline (none while the owners have them).
    #[inline]
    pub fn idle(&self) -> u32 {
        if self.away {
            0
        } else {
            self.max_gpus - self.serving - self.reserved - self.offline
        }
    }

    /// GPUs in active replicas.
    #[inline]
    pub fn serving(&self) -> u32 {
        self.serving
    }

    /// GPUs reserved by jobs.
    #[inline]
    pub fn reserved(&self) -> u32 {
        self.reserved
    }

    /// GPUs not online (awaiting repair or outside the network).
    #[inline]
    pub fn offline(&self) -> u32 {
        self.offline
    }

    /// Whether the owners have taken the GPUs back.
    #[inline]
    pub fn away(&self) -> bool {
        self.away
    }

    /// `n` idle GPUs start serving in a replica.
    #[inline]
    pub fn occupy(&mut self, now: SimTime, n: u32) {
        self.advance(now);
        self.serving += n;
    }

    /// `n` serving GPUs stop (their replica holds no request any more).
    #[inline]
    pub fn vacate(&mut self, now: SimTime, n: u32) {
        self.advance(now);
        self.serving -= n;
    }

    /// A job reserves `n` idle GPUs.
    pub fn reserve(&mut self, now: SimTime, n: u32) {
        self.advance(now);
        self.reserved += n;
    }

    /// A job ends: its `n` GPUs return, and the group is paid once for it.
    pub fn release(&mut self, now: SimTime, n: u32) {
        self.advance(now);
        self.reserved -= n;
        self.payments += 1;
    }

    /// An online GPU fails: it goes offline, to be repaired, or (`departs`) leaves the network
    /// for good.
    pub fn fail(&mut self, now: SimTime, departs: bool) {
        self.advance(now);
        self.offline += 1;
        self.failures += 1;
        if departs {
            self.lost += 1;
            self.failed_out += 1;
        }
    }

    /// A GPU lent to a job fails: counted (and slashed) like any failure; the job's own
    /// model restarts it on a replacement, so the group's GPUs stay as they are.
    pub fn record_job_failure(&mut self) {
        self.failures += 1;
    }

    /// A failed GPU is repaired.
    pub fn repair(&mut self, now: SimTime) {
        self.advance(now);
        self.offline -= 1;
    }

    /// The owners lend their GPUs again.
    pub fn lend(&mut self, now: SimTime) {
        self.advance(now);
        self.away = false;
    }

    /// The owners take their GPUs back.
    pub fn withdraw(&mut self, now: SimTime) {
        self.advance(now);
        self.away = true;
    }

    /// `n` GPUs join (at most those outside the network); returns how many did. They take
    /// the places of GPUs not joined yet first, then of those that left, then of those that
    /// failed out.
    pub fn join(&mut self, now: SimTime, n: u32) -> u32 {
        self.advance(now);
        let mut left = n;
        for bucket in [&mut self.not_joined, &mut self.gone, &mut self.lost] {
            let k = left.min(*bucket);
            *bucket -= k;
            left -= k;
        }
        let k = n - left;
        self.offline -= k;
        self.joined += k;
        k
    }

    /// Up to `n` GPUs that are neither busy nor under repair leave the network by choice
    /// (their owners may have them at the time); returns how many did.
    pub fn leave(&mut self, now: SimTime, n: u32) -> u32 {
        self.advance(now);
        let k = n.min(self.max_gpus - self.serving - self.reserved - self.offline);
        self.gone += k;
        self.offline += k;
        self.left += k;
        k
    }

    /// An answer was paid for; `missed` when it was outside the latency objectives.
    #[inline]
    /// `token_usd` is what its tokens cost at the network's per-token prices (0 when users
    /// pay by the hour), which the multiplier scales.
    pub fn record_answer(&mut self, missed: bool, token_usd: f64) {
        self.payments += 1;
        self.slo_misses += u64::from(missed);
        self.token_fees += token_usd * self.price_mult;
    }

    /// A verification run was paid for (`token_usd` as for an answer).
    #[inline]
    pub fn record_verification(&mut self, token_usd: f64) {
        self.payments += 1;
        self.token_fees += token_usd * self.price_mult;
    }

    /// GPU failures so far.
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// Answers outside the latency objectives so far.
    pub fn slo_misses(&self) -> u64 {
        self.slo_misses
    }

    /// Payments so far.
    pub fn payments(&self) -> u64 {
        self.payments
    }

    /// GPUs that joined after the start.
    pub fn joined(&self) -> u32 {
        self.joined
    }

    /// GPUs that left by choice.
    pub fn left(&self) -> u32 {
        self.left
    }

    /// GPUs that left for good after a failure.
    pub fn failed_out(&self) -> u32 {
        self.failed_out
    }

    /// The warm-up ends: failures and departures count in the metrics from now on.
    pub fn end_warmup(&mut self) {
        self.warm_failures = self.failures;
        self.warm_failed_out = self.failed_out;
    }

    /// GPU failures since the warm-up.
    pub fn failures_measured(&self) -> u64 {
        self.failures - self.warm_failures
    }

    /// GPUs that left for good after a failure since the warm-up.
    pub fn failed_out_measured(&self) -> u32 {
        self.failed_out - self.warm_failed_out
    }

    /// GPUs outside the network now, by why: (not joined yet, left by choice, failed out).
    pub fn outside_by_kind(&self) -> (u32, u32, u32) {
        (self.not_joined, self.gone, self.lost)
    }

    /// What users pay per busy GPU-hour before the multiplier, USD.
    #[inline]
    pub fn price(&self) -> f64 {
        self.price
    }

    /// The multiplier on the price now.
    #[inline]
    pub fn price_mult(&self) -> f64 {
        self.price_mult
    }

    /// Which GPU-time users pay for by the hour.
    #[inline]
    pub fn hourly_basis(&self) -> HourlyBasis {
        self.hourly
    }

    /// Times the multiplier changed.
    #[inline]
    pub fn price_changes(&self) -> u32 {
        self.price_changes
    }

    /// Changes the price multiplier at `now`.
    pub fn set_price_mult(&mut self, now: SimTime, mult: f64) {
        self.fees_acc = self.hourly_fees_at(now);
        self.fee_mark = self.hourly_area_at(now);
        self.charge_acc = self.charge_per_gpu_at(now);
        self.charge_mark = now;
        self.price_mult = mult;
        self.price_changes = self.price_changes.wrapping_add(1);
    }

    /// Users' fees up to `now`, USD: by the hour and per token.
    pub fn fees_at(&self, now: SimTime) -> f64 {
        self.hourly_fees_at(now) + self.token_fees
    }

    /// Users' fees paid per token so far, USD.
    pub fn token_fees(&self) -> f64 {
        self.token_fees
    }

    /// Users' hourly fees up to `now`, USD.
    fn hourly_fees_at(&self, now: SimTime) -> f64 {
        let area = self.hourly_area_at(now) - self.fee_mark;
        self.fees_acc + fast_f64(area) / NANOS_PER_HOUR * self.price * self.price_mult
    }

    /// The GPU-time users pay for by the hour up to `now`, GPU-nanoseconds.
    #[inline]
    fn hourly_area_at(&self, now: SimTime) -> u128 {
        match self.hourly {
            HourlyBasis::Busy => self.busy_area_at(now),
            HourlyBasis::Reserved => self.busy_area_at(now) - self.serving_area_at(now),
            HourlyBasis::Online => {
                u128::from(self.max_gpus) * u128::from(now) - self.offline_area_at(now)
            }
        }
    }

    /// What one GPU busy from the start to `now` would have been charged under the
    /// multipliers in force, USD: a job holding `n` GPUs from `a` to `b` pays `n` times the
    /// difference between `b` and `a`.
    pub fn charge_per_gpu_at(&self, now: SimTime) -> f64 {
        let since = (now - self.charge_mark) as f64 / NANOS_PER_HOUR;
        self.charge_acc + since * self.price * self.price_mult
    }

    /// Busy GPU-time (serving or reserved) up to `now`, GPU-nanoseconds.
    #[inline]
    pub fn busy_area_at(&self, now: SimTime) -> u128 {
        self.busy_area + u128::from(self.serving + self.reserved) * u128::from(now - self.last)
    }

    /// Offline GPU-time up to `now`, GPU-nanoseconds.
    #[inline]
    pub fn offline_area_at(&self, now: SimTime) -> u128 {
        self.offline_area + u128::from(self.offline_now()) * u128::from(now - self.last)
    }

    /// GPU-time outside the network up to `now`, GPU-nanoseconds.
    pub fn outside_area_at(&self, now: SimTime) -> u128 {
        self.outside_area + u128::from(self.outside()) * u128::from(now - self.last)
    }

    /// GPU-time in the network while the owners have the GPUs back, up to `now`.
    pub fn away_area_at(&self, now: SimTime) -> u128 {
        let away = if self.away { self.members() } else { 0 };
        self.away_area + u128::from(away) * u128::from(now - self.last)
    }

    /// GPU-time in active replicas up to `now`, GPU-nanoseconds.
    pub fn serving_area_at(&self, now: SimTime) -> u128 {
        self.serving_area + u128::from(self.serving) * u128::from(now - self.last)
    }

    /// The pool's state at `now`, without changing it.
    pub fn mark(&self, now: SimTime) -> PoolMark {
        PoolMark {
            at: now,
            busy: self.busy_area_at(now),
            serving: self.serving_area_at(now),
            offline: self.offline_area_at(now),
            outside: self.outside_area_at(now),
            away: self.away_area_at(now),
            fees: self.fees_at(now),
            token_fees: self.token_fees,
            price_changes: self.price_changes,
        }
    }

    /// What happened from `mark` to `now`.
    pub fn since(&self, mark: &PoolMark, now: SimTime) -> PoolDelta {
        delta(mark, &self.mark(now), self.max_gpus)
    }

    /// What happened from mark `a` to the later mark `b` of this pool.
    pub fn between(&self, a: &PoolMark, b: &PoolMark) -> PoolDelta {
        delta(a, b, self.max_gpus)
    }

    /// What happened from `mark` to `now`, moving `mark` to `now`.
    pub fn roll(&self, mark: &mut PoolMark, now: SimTime) -> PoolDelta {
        let m = self.mark(now);
        let d = delta(mark, &m, self.max_gpus);
        *mark = m;
        d
    }
}

/// What happened from mark `a` to mark `b` of a pool of `max_gpus`.
fn delta(a: &PoolMark, b: &PoolMark, max_gpus: u32) -> PoolDelta {
    PoolDelta {
        dt: b.at - a.at,
        max_gpus,
        busy: b.busy - a.busy,
        serving: b.serving - a.serving,
        offline: b.offline - a.offline,
        outside: b.outside - a.outside,
        away: b.away - a.away,
        fees: b.fees - a.fees,
        token_fees: b.token_fees - a.token_fees,
        price_changed: b.price_changes != a.price_changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_is_four_cache_lines_with_its_window_first() {
        use std::mem::offset_of;
        assert_eq!(std::mem::align_of::<PoolState>(), 64);
        assert_eq!(std::mem::size_of::<PoolState>(), 256);
        // What `mark` reads, and the counts a window's integrals need, before the counters
        // only staking, settlement and metrics read.
        let window_end = [
            offset_of!(PoolState, busy_area) + 16,
            offset_of!(PoolState, offline_area) + 16,
            offset_of!(PoolState, serving_area) + 16,
            offset_of!(PoolState, outside_area) + 16,
            offset_of!(PoolState, away_area) + 16,
            offset_of!(PoolState, fee_mark) + 16,
            offset_of!(PoolState, fees_acc) + 8,
            offset_of!(PoolState, token_fees) + 8,
            offset_of!(PoolState, hourly) + 1,
            offset_of!(PoolState, price_mult) + 8,
            offset_of!(PoolState, price_changes) + 4,
            offset_of!(PoolState, lost) + 4,
            offset_of!(PoolState, away) + 1,
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        assert!(
            window_end <= offset_of!(PoolState, failures),
            "{window_end}"
        );
    }

    /// Pins the integrals: 2 of 4 GPUs serve from 10 to 30 ns, a job reserves 1 from 20 to
    /// 40, and the owners take the group back from 30 to 35.
    #[test]
    fn integrals_follow_the_counts_piece_by_piece() {
        let mut p = PoolState::new(4, 4, 2.0);
        p.occupy(10, 2);
        p.reserve(20, 1);
        assert_eq!(p.idle(), 1);
        p.vacate(30, 2);
        p.withdraw(30);
        assert_eq!(p.idle(), 0);
        p.lend(35);
        p.release(40, 1);
        let m = p.mark(50);
        assert_eq!(m.serving, 2 * 20);
        assert_eq!(m.busy, 2 * 20 + 20);
        assert_eq!(m.offline, 4 * 5);
        assert_eq!(m.outside, 0);
        assert_eq!(p.payments(), 1);
        // Fees: busy GPU-time at 2 USD per GPU-hour.
        assert!((m.fees - 60.0 / 3.6e12 * 2.0).abs() < 1e-24);
    }

    #[test]
    fn counts_outside_the_network_are_kept_by_kind() {
        // 10 slots, 6 in the network at the start.
        let mut p = PoolState::new(10, 6, 1.0);
        assert_eq!((p.members(), p.idle(), p.offline()), (6, 6, 4));
        assert_eq!(p.join(100, 3), 3);
        p.fail(200, true);
        p.fail(200, false);
        assert_eq!(p.leave(300, 2), 2);
        p.repair(400);
        // 6 + 3 joined - 1 failed out - 2 left.
        assert_eq!(p.members(), 6);
        assert_eq!(
            (p.joined(), p.left(), p.failed_out(), p.failures()),
            (3, 2, 1, 2)
        );
        assert_eq!(
            p.members() + (10 - 6) + p.left() + p.failed_out() - p.joined(),
            10
        );
        // Joins take at most the slots outside; leaving takes only idle GPUs.
        assert_eq!(p.join(500, 100), 4);
        p.occupy(500, 9);
        assert_eq!(p.leave(600, 5), 1);
    }

    #[test]
    fn a_window_reports_gpu_time_in_the_network_and_fees() {
        let mut p = PoolState::new(3, 2, 1.0);
        let start = p.mark(0);
        p.occupy(0, 1);
        p.join(3_600_000_000_000, 1); // one hour in, the third GPU joins
        p.set_price_mult(3_600_000_000_000, 2.0);
        let d = p.since(&start, 7_200_000_000_000);
        // Two GPUs for the first hour, three for the second.
        assert_eq!(d.member_h(), 5.0);
        assert_eq!(d.busy_h(), 2.0);
        assert!((d.fees - 3.0).abs() < 1e-12, "{}", d.fees);
        assert!(d.price_changed);
        assert_eq!(d.unavailable_ns(), 0.0);
        // A GPU busy for both hours is charged 1 USD for the first and 2 for the second,
        // and one busy for the second hour only, 2 USD.
        let hour = 3_600_000_000_000;
        assert!((p.charge_per_gpu_at(2 * hour) - 3.0).abs() < 1e-12);
        assert!((p.charge_per_gpu_at(2 * hour) - p.charge_per_gpu_at(hour) - 2.0).abs() < 1e-12);
    }
}
