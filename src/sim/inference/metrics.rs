//! Inference's metrics over the measurement window [warm-up, horizon]: counts, latencies by
//! region and overall, queueing, batching, and what the window's answers cost users against
//! the cloud reference.

use crate::core::engine::{SimTime, to_secs};
use crate::economics::pricing::PriceUnit;
use crate::economics::verification::{Cost, Work};
use crate::metrics::names::{self, LATENCY_QUANTILES, users};
use crate::metrics::recorder::GroupStats;
use crate::metrics::{LatencyHist, Metrics};
use crate::scenario::CloudSizing;
use crate::sim::pool::PoolDelta;

use super::{Inference, cloud};

impl Inference<'_> {
    /// Adds inference's metrics at `horizon`; `gpus` are the groups' windows since the
    /// warm-up.
    pub fn metrics(&self, horizon: SimTime, gpus: &[PoolDelta], m: &mut Metrics) {
        use names::inference as n;
        let s = self.s;
        let rec = &self.rec;
        let window_ns = (horizon - s.warmup()) as f64;
        let all = rec.overall();
        group(m, &names::inference, &all);
        let clamped = all.ttft.clamped() + all.tpot.clamped() + all.e2e.clamped();
        m.insert(n::CLAMPED_LATENCIES.into(), clamped as f64);
        for (r, g) in s.regions().iter().zip(&rec.regions) {
            group(m, &|q| names::region(&r.name, q), g);
        }
        m.insert(n::TOO_LONG_REQUESTS.into(), rec.too_long as f64);
        let in_flight = all.arrived - all.completed - all.dropped;
        m.insert(n::IN_FLIGHT_REQUESTS.into(), in_flight as f64);
        if all.arrived > 0 {
            m.insert(
                n::DROP_RATIO.into(),
                all.dropped as f64 / all.arrived as f64,
            );
        }
        m.insert(n::PREEMPTED_REQUESTS.into(), rec.preempted as f64);
        m.insert(n::WITHDRAWN_REQUESTS.into(), rec.withdrawn as f64);
        m.insert(
            n::THROUGHPUT_RPS.into(),
            all.completed as f64 / (window_ns / 1e9),
        );
        if all.completed > 0 {
            let completed = all.completed as f64;
            m.insert(n::WAIT_S.into(), rec.wait_sum_ns as f64 / 1e9 / completed);
            m.insert(n::WAITED_RATIO.into(), rec.waited as f64 / completed);
            m.insert(
                n::SERVICE_S.into(),
                rec.service_sum_ns as f64 / 1e9 / completed,
            );
        }
        m.insert(n::OUTPUT_TOKENS.into(), rec.output_tokens as f64);
        m.insert(n::WINDOW_OUTPUT_TOKENS.into(), rec.window_tokens as f64);
        // What users paid for inference ([`inference_fees`]); the batch is averaged over replica
        // time.
        let (mut revenue, mut running, mut replica_time, mut system) = (0.0, 0.0, 0.0, 0.0);
        for ((p, st), (d, warm)) in s
            .pools()
            .iter()
            .zip(&self.stations)
            .zip(gpus.iter().zip(&self.warm))
        {
            let now = st.mark(horizon);
            revenue += inference_fees(s.price_unit(), d);
            running += (now.running - warm.running) as f64;
            replica_time += d.serving as f64 / f64::from(st.tp());
            system += (now.system - warm.system) as f64;
            m.insert(
                names::pool(&p.name, names::pool::SERVED_REQUESTS),
                st.served_count() as f64,
            );
        }
        m.insert(n::IN_SYSTEM_REQUESTS.into(), system / window_ns);
        // Requests decoding per active replica, averaged over the time replicas were active.
        let batch = (replica_time > 0.0).then(|| running / replica_time);
        if let Some(b) = batch {
            m.insert(n::BATCH_MEAN.into(), b);
        }
        let (redundancy, spot) = s.verification();
        if redundancy > 1 || spot > 0.0 {
            m.insert(
                n::VERIFICATION_SKIPPED.into(),
                self.verification.skipped as f64,
            );
        }
        m.insert(n::PROMPT_TOKENS.into(), rec.prompt_tokens as f64);
        // The same demand on the cloud, sized both ways.
        let matched = cloud::matched_batch(s.cloud(), rec, batch.unwrap_or(1.0));
        let slo = (to_secs(s.slo_ttft()), to_secs(s.slo_tpot()));
        let attainment = all.attainment(all.met_both).unwrap_or(1.0);
        let window = (s.warmup(), horizon);
        let rtt = |a: usize, b: usize| s.rtt_s(a, b);
        let right = cloud::right_sized(s.cloud(), rec, window, slo, &rtt, attainment);
        if let Some(r) = right {
            m.insert(
                n::CLOUD_RIGHT_SIZED_USD_PER_MILLION_TOKENS.into(),
                r.usd_per_million_tokens,
            );
            m.insert(n::CLOUD_GPUS.into(), r.gpus);
            m.insert(n::CLOUD_BATCH.into(), f64::from(r.batch));
            m.insert(n::CLOUD_REGIONS.into(), r.regions as f64);
            m.insert(
                n::CLOUD_MEETS_OBJECTIVES.into(),
                f64::from(u8::from(r.meets)),
            );
        }
        if let Some(c) = matched {
            m.insert(n::CLOUD_MATCHED_BATCH_USD_PER_MILLION_TOKENS.into(), c);
        }
        let right = right.map(|r| r.usd_per_million_tokens);
        let chosen = match s.cloud().sizing {
            CloudSizing::RightSized => right,
            CloudSizing::MatchedBatch => matched,
        };
        if let Some(c) = chosen {
            m.insert(n::CLOUD_USD_PER_MILLION_TOKENS.into(), c);
        }
        // The window's GPU time against the tokens answered in the window.
        if rec.window_tokens > 0 {
            let price = revenue / rec.window_tokens as f64 * 1e6;
            m.insert(n::PRICE_USD_PER_MILLION_TOKENS.into(), price);
            // Verification accounted beside the simulation adds to the cost of the work.
            let price = match self.verification_cost(revenue) {
                Some(c) => {
                    let per_million = c.total_usd() / rec.window_tokens as f64 * 1e6;
                    m.insert(n::VERIFICATION_GPU_USD.into(), c.gpu_usd);
                    m.insert(n::VERIFICATION_CHAIN_FEES_USD.into(), c.chain_usd);
                    m.insert(n::VERIFICATION_CAPITAL_USD.into(), c.capital_usd);
                    m.insert(n::VERIFICATION_USD_PER_MILLION_TOKENS.into(), per_million);
                    m.insert(n::VERIFICATION_LATENCY_S.into(), c.latency_s);
                    let verified = price + per_million;
                    m.insert(n::VERIFIED_PRICE_USD_PER_MILLION_TOKENS.into(), verified);
                    verified
                }
                None => price,
            };
            for (name, cloud) in [
                (n::COST_VS_CLOUD, chosen),
                (n::COST_VS_CLOUD_RIGHT_SIZED, right),
                (n::COST_VS_CLOUD_MATCHED_BATCH, matched),
            ] {
                if let Some(c) = cloud.filter(|&c| c > 0.0) {
                    m.insert(name.into(), price / c);
                }
            }
        }
    }
}

impl Inference<'_> {
    /// What the users paid for inference in the groups' windows `gpus` (the rest paid for
    /// jobs), USD.
    pub fn fees_usd(&self, gpus: &[PoolDelta]) -> f64 {
        gpus.iter()
            .map(|d| inference_fees(self.s.price_unit(), d))
            .sum()
    }

    /// Each group's inference fees in its window of `gpus`, USD.
    pub fn fees_by_group_usd(&self, gpus: &[PoolDelta]) -> Vec<f64> {
        let unit = self.s.price_unit();
        gpus.iter().map(|d| inference_fees(unit, d)).collect()
    }

    /// What verifying the measurement window's answers costs, for the methods accounted
    /// beside the simulation (None for re-execution, whose runs are paid as requests);
    /// `fees_usd` is what users paid for the window's inference. The window's answers are
    /// its output tokens at the measured requests' mean length.
    pub fn verification_cost(&self, fees_usd: f64) -> Option<Cost> {
        let rec = &self.rec;
        let (completed, tokens) = (rec.all.completed as f64, rec.output_tokens as f64);
        let window_tokens = rec.window_tokens as f64;
        let work = Work {
            fees_usd,
            answers: if tokens > 0.0 {
                window_tokens * completed / tokens
            } else {
                0.0
            },
            output_tokens: window_tokens,
            service_s: if completed > 0.0 {
                rec.service_sum_ns as f64 / 1e9 / completed
            } else {
                0.0
            },
            window_s: to_secs(self.s.horizon() - self.s.warmup()),
        };
        self.s.verification_method().cost(&work)
    }

    /// Requests per second each group completes at the mean batch its replicas ran from the
    /// warm-up to `horizon` (`gpus`: the groups' windows), by the same steady-state model as
    /// [`Inference::capacity_rps`] at full batches. The batch is at least 1: a replica also
    /// runs while it only prefills, and a group whose replicas never ran counts at 1. With
    /// drawn service times every GPU serves one request at a time either way.
    pub fn capacity_at_mean_batch_rps(&self, horizon: SimTime, gpus: &[PoolDelta]) -> Vec<f64> {
        let s = self.s;
        let (prompt, output) = (s.prompt.mean(), s.output.mean().max(1.0));
        let windows = gpus.iter().zip(&self.warm);
        self.stations
            .iter()
            .zip(windows)
            .map(|(st, (d, warm))| {
                if s.service_override().is_some() {
                    return st.capacity_rps;
                }
                let replica_time = d.serving as f64 / f64::from(st.tp());
                let running = (st.mark(horizon).running - warm.running) as f64;
                let b = if replica_time > 0.0 {
                    running / replica_time
                } else {
                    1.0
                };
                let plan = &st.plan;
                let b = b.clamp(1.0, plan.batch_limit(prompt + output));
                f64::from(plan.replicas) * plan.replica_rps(prompt, output, b)
            })
            .collect()
    }
}

/// The metrics of one group of users, each named by `key` from its quantity.
/// What users paid a group in window `d` for inference (the rest paid for jobs): by the busy
/// GPU-hour, the serving share of the hourly fees; per token, the token fees (the hourly
/// fees are the jobs'); leased, the hourly fees but for the share of the lent, online
/// GPU-time that jobs reserved.
fn inference_fees(unit: PriceUnit, d: &PoolDelta) -> f64 {
    let (busy, serving) = (d.busy as f64, d.serving as f64);
    let hourly = d.fees - d.token_fees;
    let share = match unit {
        PriceUnit::BusyGpuHour => (busy > 0.0).then(|| serving / busy),
        PriceUnit::Token { .. } => None,
        PriceUnit::LeasedGpuHour => {
            let online = f64::from(d.max_gpus) * d.dt as f64 - d.offline as f64;
            (online > 0.0).then(|| 1.0 - (busy - serving) / online)
        }
    };
    d.token_fees + share.map_or(0.0, |s| s * hourly)
}

fn group(m: &mut Metrics, key: &dyn Fn(&str) -> String, g: &GroupStats) {
    for (name, met) in [
        (users::SLO_ATTAINMENT, g.met_both),
        (users::TTFT_ATTAINMENT, g.met_ttft),
        (users::TPOT_ATTAINMENT, g.met_tpot),
    ] {
        if let Some(share) = g.attainment(met) {
            m.insert(key(name), share);
        }
    }
    m.insert(key(users::ARRIVED_REQUESTS), g.arrived as f64);
    m.insert(key(users::COMPLETED_REQUESTS), g.completed as f64);
    m.insert(key(users::DROPPED_REQUESTS), g.dropped as f64);
    latency(m, &key(users::TTFT_S), &g.ttft);
    latency(m, &key(users::TPOT_S), &g.tpot);
    latency(m, &key(users::E2E_S), &g.e2e);
}

fn latency(m: &mut Metrics, family: &str, h: &LatencyHist) {
    if let Some(mean) = h.mean_s() {
        m.insert(names::latency(family, "mean"), mean);
    }
    for (q, label) in LATENCY_QUANTILES {
        if let Some(v) = h.quantile_s(q) {
            m.insert(names::latency(family, label), v);
        }
    }
}
