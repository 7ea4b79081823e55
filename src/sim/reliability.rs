//! When GPUs are online: failures and repairs, and the hours their owners lend them.
//!
//! Failures: with exponential times between failures, candidate failures come at the rate of
//! the whole group and hit a GPU chosen uniformly, so only online GPUs fail and each at rate
//! 1 / MTBF; with a Weibull shape, each GPU in the network has its own clock. A serving GPU
//! stops its replica (its requests are served again from the start), an idle GPU goes
//! offline, and a GPU reserved by a job is left to the job's own failure model (which counts
//! its failures against the group, for slashing: [`super::jobs`]). A failed GPU
//! is repaired after an exponential time, or leaves the network for good.
//!
//! Owners' hours: a group with `online_local_h` lends its GPUs from one local hour to
//! another each day; while the owners have them, nothing runs on them.

use rand_distr::{Distribution, Exp1, Gamma};

use crate::core::dist::unit;
use crate::core::engine::{EventQueue, NANOS_PER_SEC, SimTime, from_hours, from_secs, to_secs};
use crate::core::rng::{StreamRng, Streams};
use crate::scenario::Scenario;

use super::event::Event;
use super::pool::PoolState;

const DAY: SimTime = 86_400 * NANOS_PER_SEC;

/// What a failure event hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hit {
    /// Nothing happens: the clock of a GPU that left, a GPU switched off by its owners or
    /// reserved by a job, or (exponential) one already offline.
    Nothing,
    /// GPU `0` of the group's active replicas, counted in order.
    Serving(u32),
    /// An idle GPU.
    Idle,
}

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

/// Bytes of a [`Reliability`] per provider group: its failure stream, whether it can fail,
/// and its stale clocks (for the memory estimate, `footprint.rs`).
pub(crate) const BYTES_PER_GROUP: usize =
    size_of::<StreamRng>() + size_of::<bool>() + size_of::<u32>();

/// The failures and owners' hours of one replication.
pub struct Reliability {
    /// One failure stream per group.
    clocks: Vec<StreamRng>,
    /// Whether failures are simulated for a group: one expected to see fewer than one
    /// failure in a million runs needs no failure events.
    can_fail: Vec<bool>,
    /// Failure clocks of GPUs that left the network, to be dropped when they ring.
    stale: Vec<u32>,
}

impl Reliability {
    /// The failure streams of scenario `s`.
    pub fn new(s: &Scenario, streams: &Streams) -> Self {
        let n = s.pools().len();
        Self {
            clocks: (0..n as u64)
                .map(|i| streams.indexed("gpu_failures", i))
                .collect(),
            can_fail: s
                .pools()
                .iter()
                .map(|p| f64::from(p.count) * to_secs(s.horizon()) / p.mtbf_s > 1e-6)
                .collect(),
            stale: vec![0; n],
        }
    }

    /// Schedules group `pool`'s owners' hours (and sets whether they have the GPUs at time
    /// 0) and its first failures.
    pub fn start(
        &mut self,
        s: &Scenario,
        pool: usize,
        gpus: &mut PoolState,
        q: &mut EventQueue<Event>,
    ) {
        let p = &s.pools()[pool];
        if let Some((from, to)) = p.online_local_h {
            // Local hour h falls at UTC hour h - offset; the first of each is the next one
            // at or after time 0.
            let offset = s.regions()[p.region].utc_offset_h;
            let at = |h: f64| from_hours((h - offset).rem_euclid(24.0));
            q.schedule_at(at(from), Event::Lend(pool as u32));
            q.schedule_at(at(to), Event::Withdraw(pool as u32));
            let now_local = offset.rem_euclid(24.0);
            let lent = if from < to {
                (from..to).contains(&now_local)
            } else {
                now_local >= from || now_local < to
            };
            if !lent {
                gpus.withdraw(0);
            }
        }
        if !self.can_fail[pool] {
            return;
        }
        if p.failure_shape == 1.0 {
            // Exponential: one process at the rate of the whole group.
            let e: f64 = Exp1.sample(&mut self.clocks[pool]);
            q.schedule_at(
                from_secs(e * p.mtbf_s / f64::from(p.count)),
                Event::GpuFailure(pool as u32),
            );
        } else {
            // One clock per GPU in the network, each at a random point of its life.
            for _ in 0..p.initial {
                let t = self.time_to_failure(s, pool, true);
                q.schedule_at(from_secs(t), Event::GpuFailure(pool as u32));
            }
        }
    }

    /// The owners lend or take back group `pool`'s GPUs: the same again in a day.
    pub fn owners_again(event: Event, q: &mut EventQueue<Event>) {
        q.schedule_in(DAY, event);
    }

    /// A failure event of group `pool`: draws the next one and which GPU it hits.
    pub fn draw_failure(
        &mut self,
        s: &Scenario,
        pool: usize,
        gpus: &PoolState,
        q: &mut EventQueue<Event>,
    ) -> Hit {
        let spec = &s.pools()[pool];
        let exponential = spec.failure_shape == 1.0;
        let rng = &mut self.clocks[pool];
        let hit = if exponential {
            let e: f64 = Exp1.sample(rng);
            q.schedule_in(
                from_secs(e * spec.mtbf_s / f64::from(spec.count)),
                Event::GpuFailure(pool as u32),
            );
            (unit(rng) * f64::from(spec.count)) as u32
        } else {
            // This event is one online GPU's own clock: it hits one of them.
            let online = gpus.max_gpus() - gpus.offline();
            (unit(rng) * f64::from(online)) as u32
        };
        if !exponential && self.stale[pool] > 0 {
            // The clock of a GPU that left the network.
            self.stale[pool] -= 1;
            return Hit::Nothing;
        }
        let (serving, reserved) = (gpus.serving(), gpus.reserved());
        if gpus.away() || (!exponential && hit >= serving && hit < serving + reserved) {
            // Switched off by its owners, or lent to a job (whose model has its own
            // failures): this GPU's clock starts again.
            if !exponential {
                let t = self.time_to_failure(s, pool, false);
                q.schedule_in(from_secs(t), Event::GpuFailure(pool as u32));
            }
            return Hit::Nothing;
        }
        if hit < serving {
            Hit::Serving(hit)
        } else if exponential && hit < serving + reserved + gpus.offline() {
            Hit::Nothing
        } else {
            Hit::Idle
        }
    }

    /// The GPU a failure hit goes offline: to be repaired, or gone for good.
    pub fn fail(
        &mut self,
        s: &Scenario,
        pool: usize,
        now: SimTime,
        gpus: &mut PoolState,
        q: &mut EventQueue<Event>,
    ) {
        let spec = &s.pools()[pool];
        let rng = &mut self.clocks[pool];
        let departs = spec.departure_p > 0.0 && unit(rng) < spec.departure_p;
        gpus.fail(now, departs);
        if !departs {
            let e: f64 = Exp1.sample(rng);
            q.schedule_in(from_secs(e * spec.repair_s), Event::GpuRepair(pool as u32));
        }
    }

    /// A GPU of group `pool` was repaired: as good as new, its clock starts again.
    pub fn repaired(&mut self, s: &Scenario, pool: usize, q: &mut EventQueue<Event>) {
        if s.pools()[pool].failure_shape != 1.0 {
            let t = self.time_to_failure(s, pool, false);
            q.schedule_in(from_secs(t), Event::GpuFailure(pool as u32));
        }
    }

    /// `k` GPUs joined group `pool`: each gets its own clock (Weibull failures).
    pub fn joined(&mut self, s: &Scenario, pool: usize, k: u32, q: &mut EventQueue<Event>) {
        if self.can_fail[pool] && s.pools()[pool].failure_shape != 1.0 {
            for _ in 0..k {
                let t = self.time_to_failure(s, pool, false);
                q.schedule_in(from_secs(t), Event::GpuFailure(pool as u32));
            }
        }
    }

    /// `k` GPUs left group `pool`: their clocks will be dropped when they ring.
    pub fn left(&mut self, s: &Scenario, pool: usize, k: u32) {
        if s.pools()[pool].failure_shape != 1.0 {
            self.stale[pool] += k;
        }
    }

    /// Seconds until a GPU of `pool` fails ([`time_to_failure`]).
    fn time_to_failure(&mut self, s: &Scenario, pool: usize, stationary: bool) -> f64 {
        let spec = &s.pools()[pool];
        time_to_failure(
            &mut self.clocks[pool],
            spec.mtbf_s,
            spec.failure_shape,
            stationary,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

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

    fn scenario(extra: &str) -> Scenario {
        load_str(
            &format!(
                "regions: [{{name: a, utc_offset_h: 2}}]
providers: [{{name: p, region: a, gpu: rtx_4090, count: 4, hourly_cost_usd: 0.2{extra}}}]
inference: {{users: [{{region: a, rate_per_s: 1}}], model: {{name: llama-3.1-8b, context_tokens: 8192}}}}
"
            ),
            "t",
            "t",
            &[],
        )
        .expect("valid")
    }

    #[test]
    fn owners_hours_are_scheduled_at_local_time() {
        // Lent 18:00-24:00 local at UTC+2: from 16:00 UTC to 22:00 UTC; at 00:00 UTC (02:00
        // local) the owners have them.
        let s = scenario(", online_local_h: [18, 24]");
        let mut r = Reliability::new(&s, &Streams::new(1, 0));
        let mut q = EventQueue::default();
        let mut gpus = PoolState::new(4, 4, 0.3);
        r.start(&s, 0, &mut gpus, &mut q);
        assert!(gpus.away());
        let mut events = Vec::new();
        while let Some((t, e)) = q.pop_until(u64::MAX) {
            if matches!(e, Event::Lend(_) | Event::Withdraw(_)) {
                events.push((t, e));
            }
        }
        let h = |x: u64| x * 3_600 * NANOS_PER_SEC;
        assert_eq!(
            events,
            vec![(h(16), Event::Lend(0)), (h(22), Event::Withdraw(0))]
        );
    }

    #[test]
    fn a_failure_takes_an_idle_gpu_offline_and_a_repair_brings_it_back() {
        let s = scenario(", mtbf_h: 1, repair_h: 1");
        let mut r = Reliability::new(&s, &Streams::new(1, 0));
        let mut q = EventQueue::default();
        let mut gpus = PoolState::new(4, 4, 0.3);
        assert_eq!(r.draw_failure(&s, 0, &gpus, &mut q), Hit::Idle);
        r.fail(&s, 0, 10, &mut gpus, &mut q);
        assert_eq!((gpus.offline(), gpus.failures(), gpus.members()), (1, 1, 4));
        // The next failure and the repair are both scheduled.
        let kinds: Vec<Event> =
            std::iter::from_fn(|| q.pop_until(u64::MAX).map(|(_, e)| e)).collect();
        assert!(kinds.contains(&Event::GpuRepair(0)) && kinds.contains(&Event::GpuFailure(0)));
        gpus.repair(20);
        assert_eq!(gpus.idle(), 4);
        // While the owners have the GPUs, a failure hits nothing.
        gpus.withdraw(30);
        assert_eq!(r.draw_failure(&s, 0, &gpus, &mut q), Hit::Nothing);
    }
}
