//! The world of one replication: the provider groups' GPUs, shared by the subsystems that
//! use them (inference serving, reliability, jobs, the token economy, providers' supply
//! decisions) and the time series, tied to the event engine. It implements [`Model`]: each
//! event goes to the subsystem it belongs to, and the world passes on what one subsystem's
//! change means for another (a failed serving GPU stops its replica; GPUs that come back
//! take waiting requests).

use crate::core::engine::{EventQueue, Model, SimTime, from_hours};
use crate::core::rng::Streams;
use crate::economics::pricing::{PriceUnit, Pricing};
use crate::metrics::{EpochRow, Metrics};
use crate::scenario::Scenario;

use super::event::Event;
use super::inference::Inference;
use super::jobs::Jobs;
use super::pool::{HourlyBasis, PoolDelta, PoolMark, PoolState};
use super::reliability::{Hit, Reliability};
use super::supply::Supply;
use super::timeseries::{EpochRequests, TimeSeries};
use super::tokens::Tokens;

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
    /// Each provider group's GPUs.
    gpus: Vec<PoolState>,
    inference: Inference<'s>,
    reliability: Reliability,
    jobs: Jobs,
    /// The token economy, if any.
    tokens: Option<Tokens>,
    supply: Supply,
    series: TimeSeries,
    /// Each group at the end of the warm-up.
    warm: Vec<PoolMark>,
}

impl<'s> World<'s> {
    /// Builds replication `replication` of scenario `s` with the given random streams.
    pub fn new(s: &'s Scenario, replication: u32, streams: &Streams) -> Self {
        let hourly = match s.price_unit() {
            PriceUnit::BusyGpuHour => HourlyBasis::Busy,
            PriceUnit::Token { .. } => HourlyBasis::Reserved,
            PriceUnit::LeasedGpuHour => HourlyBasis::Online,
        };
        let gpus: Vec<PoolState> = s
            .pools()
            .iter()
            .map(|p| PoolState::new(p.count, p.initial, p.price_usd_per_gpu_hour).paid_for(hourly))
            .collect();
        let n = gpus.len();
        Self {
            s,
            gpus,
            inference: Inference::new(s, streams),
            reliability: Reliability::new(s, streams),
            jobs: Jobs::new(s, streams),
            tokens: Tokens::new(s, streams),
            supply: Supply::new(n),
            series: TimeSeries::new(replication, s.warmup(), n),
            warm: vec![PoolMark::default(); n],
        }
    }

    /// Schedules the first events: the end of the warm-up, the first time-series and token
    /// epochs and review, jobs, owners' hours and failures, and each user group's first
    /// request.
    pub fn start(&mut self, q: &mut EventQueue<Event>) {
        let s = self.s;
        if s.warmup() > 0 {
            q.schedule_at(s.warmup(), Event::WarmupEnd);
        }
        q.schedule_at(s.epoch.min(s.horizon()), Event::Epoch);
        if let Some(at) = self.tokens.as_ref().and_then(|t| t.next_end(s)) {
            q.schedule_at(at, Event::TokenEpoch);
        }
        self.supply.start(s, q);
        self.jobs.start(s, q);
        for (i, gpus) in self.gpus.iter_mut().enumerate() {
            self.reliability.start(s, i, gpus, q);
        }
        self.inference.start(q);
    }

    /// Waiting requests of `pool` take GPUs that came back.
    fn refill(&mut self, pool: usize, now: SimTime, q: &mut EventQueue<Event>) {
        self.inference.refill(pool, now, &mut self.gpus);
        self.inference.flush(now, q);
    }

    /// A GPU of `pool` may fail.
    fn gpu_failure(&mut self, pool: usize, now: SimTime, q: &mut EventQueue<Event>) {
        let s = self.s;
        match self.reliability.draw_failure(s, pool, &self.gpus[pool], q) {
            Hit::Nothing => return,
            Hit::Serving(gpu) => self.inference.preempt(pool, gpu, now, &mut self.gpus),
            Hit::Idle => {}
        }
        self.reliability.fail(s, pool, now, &mut self.gpus[pool], q);
        self.refill(pool, now, q);
    }

    /// A time-series epoch ends: its row, then utilisation pricing from its utilisation.
    fn epoch(&mut self, now: SimTime) {
        let (acc, system_ns, queued) = self.inference.close_epoch(now);
        let requests = EpochRequests {
            acc,
            system_ns,
            queued,
        };
        let token = self.tokens.as_ref().map(Tokens::state);
        let utilisation = self.series.close(now, &self.gpus, requests, token);
        if let Pricing::Utilisation(rule) = self.s.pricing() {
            for (p, u) in self.gpus.iter_mut().zip(utilisation) {
                if let Some(u) = u {
                    p.set_price_mult(now, rule.multiplier(u));
                }
            }
        }
    }

    /// Providers review their returns: some GPUs leave now, some decide to join.
    fn review(&mut self, now: SimTime, q: &mut EventQueue<Event>) {
        let s = self.s;
        let Some(rule) = s.supply() else { return };
        let income: Vec<f64> = match &self.tokens {
            Some(t) => (0..self.gpus.len()).map(|i| t.income(s, i)).collect(),
            None => self.gpus.iter().map(|p| p.fees_at(now)).collect(),
        };
        let decided = self.supply.review(rule, s, &mut self.gpus, &income, now);
        if let Some(t) = self.tokens.as_mut() {
            t.reviewed();
        }
        for (g, k) in decided.leaves {
            self.reliability.left(s, g, k);
        }
        let delay = from_hours(rule.onboarding_h);
        for (g, n) in decided.joins {
            q.schedule_in(delay, Event::Join(g as u32, n));
        }
    }

    /// Ends the replication at `horizon` (the engine's clock) and computes its metrics.
    pub fn finish(mut self, horizon: SimTime, events: u64) -> ReplicationOutput {
        let s = self.s;
        if self.series.start() < horizon {
            self.epoch(horizon);
        }
        let windows: Vec<PoolDelta> = self
            .gpus
            .iter()
            .zip(&self.warm)
            .map(|(p, w)| p.since(w, horizon))
            .collect();
        // Token income is measured over whole epochs settled after the warm-up (the straddling
        // one pro-rated): returns set it against the costs of that span, not to the horizon.
        let settled: Vec<PoolDelta> = match &self.tokens {
            Some(t) => {
                let (until, marks) = t.settled();
                self.gpus
                    .iter()
                    .zip(&self.warm)
                    .zip(marks)
                    .map(|((p, w), m)| {
                        if until > w.at {
                            p.between(w, m)
                        } else {
                            p.between(w, w)
                        }
                    })
                    .collect()
            }
            None => windows.clone(),
        };
        let mut metrics = Metrics::new();
        self.inference.metrics(horizon, &windows, &mut metrics);
        let as_run = self.inference.capacity_at_mean_batch_rps(horizon, &windows);
        let capacity: Vec<(f64, f64)> = as_run
            .into_iter()
            .enumerate()
            .map(|(i, run)| (self.inference.capacity_rps(i), run))
            .collect();
        // Verification accounted beside the simulation is borne by the providers whose
        // answers it checks, in proportion to their inference fees.
        let fees = self.inference.fees_usd(&windows);
        let verification: Vec<f64> = match self.inference.verification_cost(fees) {
            Some(c) if fees > 0.0 => {
                let per_fee = c.total_usd() / fees;
                let by_group = self.inference.fees_by_group_usd(&settled);
                by_group.into_iter().map(|f| f * per_fee).collect()
            }
            _ => vec![0.0; s.pools().len()],
        };
        super::providers::metrics(
            s,
            &self.gpus,
            &super::providers::Windows {
                all: &windows,
                settled: &settled,
            },
            &capacity,
            &verification,
            self.tokens.as_ref(),
            &mut metrics,
        );
        self.jobs.metrics(s, &self.gpus, &mut metrics);
        if let Some(t) = &self.tokens {
            t.metrics(s, &mut metrics);
        }
        if let Some(n) = self.supply.reviews(s) {
            metrics.insert(
                crate::metrics::names::provider::SUPPLY_REVIEWS.into(),
                n as f64,
            );
        }
        ReplicationOutput {
            metrics,
            rows: self.series.into_rows(),
            events,
            requests: self.inference.issued(),
        }
    }
}

impl Model for World<'_> {
    type Event = Event;

    #[inline]
    fn handle(&mut self, now: SimTime, event: Event, q: &mut EventQueue<Event>) {
        let s = self.s;
        match event {
            Event::Arrival(u) => self.inference.arrival(u as usize, now, &mut self.gpus, q),
            Event::Step(r) => self.inference.step(r, now, &mut self.gpus, q),
            Event::GpuFailure(p) => self.gpu_failure(p as usize, now, q),
            Event::JobGpuFailure(p) => self.gpus[p as usize].record_job_failure(),
            Event::GpuRepair(p) => {
                self.gpus[p as usize].repair(now);
                self.reliability.repaired(s, p as usize, q);
                self.refill(p as usize, now, q);
            }
            Event::Lend(p) => {
                Reliability::owners_again(event, q);
                self.gpus[p as usize].lend(now);
                self.refill(p as usize, now, q);
            }
            Event::Withdraw(p) => {
                Reliability::owners_again(event, q);
                self.inference.withdraw(p as usize, now, &mut self.gpus);
            }
            Event::JobArrival(c) => self.jobs.arrival(s, c as usize, now, &mut self.gpus, q),
            Event::JobDone(slot) => {
                self.jobs.done(s, slot as usize, now, &mut self.gpus, q);
                self.inference.refill_all(now, &mut self.gpus, q);
            }
            Event::Epoch => {
                // Inference may have freed GPUs since the last job event.
                self.jobs.place_waiting(s, now, &mut self.gpus, q);
                self.epoch(now);
                let next = now.saturating_add(s.epoch);
                if next < s.horizon() {
                    q.schedule_at(next, Event::Epoch);
                }
            }
            Event::TokenEpoch => {
                let Some(t) = self.tokens.as_mut() else {
                    return;
                };
                t.settle(s, now, &self.gpus);
                if let Some(at) = t.next_end(s) {
                    q.schedule_at(at, Event::TokenEpoch);
                }
                if Supply::due_after_token_epoch(s, t.epochs()) {
                    self.review(now, q);
                }
            }
            Event::Review => {
                self.review(now, q);
                self.supply.next_review(s, now, q);
            }
            Event::Join(p, n) => {
                let pool = p as usize;
                self.supply.onboarded(pool, n);
                let k = self.gpus[pool].join(now, n);
                self.reliability.joined(s, pool, k, q);
                self.refill(pool, now, q);
            }
            Event::WarmupEnd => {
                for (w, p) in self.warm.iter_mut().zip(&mut self.gpus) {
                    *w = p.mark(now);
                    p.end_warmup();
                }
                self.inference.mark_warmup(now);
                if let Some(t) = self.tokens.as_mut() {
                    t.mark_warmup();
                }
            }
        }
    }
}
