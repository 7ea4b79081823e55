//! The fewest servers that meet latency objectives for a given demand, as a buyer of cloud
//! GPUs would size a deployment: each replica runs at the largest batch whose time per output
//! token and prefill meet the objectives, its batch slots are servers of an M/M/c queue, and
//! the fleet is the smallest whose share of requests waiting longer than the time-to-first-
//! token objective leaves is at most the allowed miss share.
//!
//! Assumptions (stated where the user reads them, `cloud.sizing` in the schema): requests have
//! the mean prompt and output of those served; a slot is held for the mean time a request
//! spends in the replica (Little's law at the chosen batch); holding times are treated as
//! exponential for the wait's tail, `P(W > t) = C(c, a) exp(-(c - a) t / hold)`, which is
//! exact for M/M/c and close for the many-slot fleets of batched serving; a prompt is
//! prefilled in chunks of the token budget left by the batch's decoding tokens.

use super::serving::Serving;

/// A replica at the batch that meets the objectives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObjectiveBatch {
    /// Requests decoding at once.
    pub batch: u32,
    /// Time per output token at that batch, s.
    pub tpot_s: f64,
    /// Prefill of one prompt at that batch (its first token), s.
    pub prefill_s: f64,
    /// Requests per second one replica completes at that batch.
    pub rps: f64,
    /// Whether the objectives are met (false: even a lone request misses one, and the batch
    /// is 1).
    pub meets: bool,
}

impl ObjectiveBatch {
    /// Mean time a request holds a slot, s (Little's law: batch / throughput).
    pub fn hold_s(&self) -> f64 {
        f64::from(self.batch) / self.rps
    }
}

/// The batch of `serving`'s replicas at which requests of `prompt` and `output` tokens meet
/// a time per output token of `slo_tpot_s` and a prefill within `slo_ttft_s`, and a replica
/// completes the most requests per second (the fewest replicas for a demand; the larger
/// batch on a tie). The time per output token is the steady step's; the prefill is the
/// prompt's chunks, each in a step that carries a whole chunk of the token budget left by
/// the batch's decoding tokens (the slowest steps a prompt meets).
pub fn objective_batch(
    serving: &Serving,
    prompt: f64,
    output: f64,
    slo_ttft_s: f64,
    slo_tpot_s: f64,
) -> ObjectiveBatch {
    let at = |b: u32| {
        let bf = f64::from(b);
        let step = serving.steady_step_s(prompt, output, bf);
        let chunk = (serving.token_budget - bf).min(prompt).max(1.0);
        let chunk_step = serving
            .cost
            .step_s_at(bf, bf * (prompt + output / 2.0), chunk, prompt);
        let prefill = (prompt / chunk).ceil().max(1.0) * chunk_step;
        let rps = serving.replica_rps(prompt, output, bf);
        ObjectiveBatch {
            batch: b,
            tpot_s: step,
            prefill_s: prefill,
            rps,
            meets: step <= slo_tpot_s && prefill <= slo_ttft_s && rps > 0.0,
        }
    };
    let limit = serving.batch_limit(prompt + output) as u32;
    (1..=limit.max(1))
        .map(at)
        .filter(|o| o.meets)
        .fold(None, |best: Option<ObjectiveBatch>, o| match best {
            Some(b) if b.rps > o.rps => Some(b),
            _ => Some(o),
        })
        .unwrap_or_else(|| at(1))
}

/// The fewest servers of `slots` slots each such that, with Poisson arrivals at `lambda`
/// per second and each request holding a slot for `hold_s` on average, the share of requests
/// that wait longer than `slack_s` for a slot is at most `miss` (0 servers for no demand;
/// None when no finite number does: a slot that is never freed).
///
/// The Erlang B recursion runs once up the slot count, `B(k) = a B(k-1) / (k + a B(k-1))`,
/// and at each whole server with `c > a` slots Erlang C is `c B / (c - a (1 - B))`: the cost
/// is linear in the offered load `a = lambda hold_s`.
pub fn servers_for(lambda: f64, hold_s: f64, slots: u32, slack_s: f64, miss: f64) -> Option<u32> {
    servers_by(lambda, hold_s, slots, miss, |c, a, wait| {
        wait * (-(c - a) / hold_s * slack_s.max(0.0)).exp()
    })
}

/// The fewest single-slot servers such that the share of requests whose wait plus service
/// exceeds `deadline_s` is at most `miss`, with exponential service of mean `hold_s`
/// (M/M/c: the wait, when there is one, is exponential at rate `c mu - lambda`, and the
/// answer is the sum of two exponentials).
pub fn servers_for_answer(lambda: f64, hold_s: f64, deadline_s: f64, miss: f64) -> Option<u32> {
    let mu = 1.0 / hold_s;
    let t = deadline_s.max(0.0);
    servers_by(lambda, hold_s, 1, miss, |c, a, wait| {
        let theta = (c - a) * mu;
        let served_late = (-mu * t).exp();
        let both_late = if (theta - mu).abs() < 1e-12 * mu {
            (-mu * t).exp() * (1.0 + mu * t)
        } else {
            (theta * (-mu * t).exp() - mu * (-theta * t).exp()) / (theta - mu)
        };
        (1.0 - wait) * served_late + wait * both_late
    })
}

/// The fewest servers whose `late(c, a, erlang_c)` share is at most `miss`.
fn servers_by(
    lambda: f64,
    hold_s: f64,
    slots: u32,
    miss: f64,
    late: impl Fn(f64, f64, f64) -> f64,
) -> Option<u32> {
    if lambda <= 0.0 {
        return Some(0);
    }
    let a = lambda * hold_s;
    if !(a.is_finite() && a < f64::from(u32::MAX)) {
        return None;
    }
    let slots = u64::from(slots.max(1));
    let mut b = 1.0;
    let mut k: u64 = 0;
    loop {
        k += 1;
        let kf = k as f64;
        b = a * b / (kf + a * b);
        if k.is_multiple_of(slots) && kf > a {
            let wait = kf * b / (kf - a * (1.0 - b));
            if late(kf, a, wait) <= miss {
                return u32::try_from(k / slots).ok();
            }
            if wait < 1e-300 && late(kf, a, 0.0) > miss {
                // No queue left and service alone misses: more servers cannot help.
                return None;
            }
        }
    }
}

/// Seconds of the window `[from_s, to_s)` (seconds from the start) that fall in each hour of
/// the day (hour 0 is 00:00-01:00 UTC of the simulation clock).
pub fn seconds_by_hour_of_day(from_s: f64, to_s: f64) -> [f64; 24] {
    let mut out = [0.0; 24];
    let mut t = from_s.max(0.0);
    while t < to_s {
        let hour_start = (t / 3600.0).floor() * 3600.0;
        let end = (hour_start + 3600.0).min(to_s);
        out[((hour_start / 3600.0) as u64 % 24) as usize] += end - t;
        t = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::gpu::find_class;
    use crate::physics::rates::Rates;
    use crate::physics::serving::BatchPolicy;
    use crate::physics::serving::tests::llama8b;

    /// Erlang C from the textbook sum, independently of the recursion.
    fn erlang_c_series(c: u32, a: f64) -> f64 {
        let mut term = 1.0;
        let mut sum = 1.0; // k = 0
        for k in 1..c {
            term *= a / f64::from(k);
            sum += term;
        }
        let top = term * a / f64::from(c) * f64::from(c) / (f64::from(c) - a);
        top / (sum + top)
    }

    #[test]
    fn servers_are_the_fewest_whose_late_share_is_within_the_allowed_miss() {
        // lambda 10/s, hold 0.5 s: a = 5 slots busy on average; 1.5 s of slack.
        let late = |c: u32| erlang_c_series(c, 5.0) * (-(f64::from(c) - 5.0) / 0.5 * 1.5).exp();
        // By hand: c = 6 leaves C(6, 5) e^-3, c = 7 C(7, 5) e^-6.
        assert!(late(6) > 0.01 && late(6) < 0.05, "{}", late(6));
        assert_eq!(servers_for(10.0, 0.5, 1, 1.5, 0.05), Some(6));
        assert_eq!(servers_for(10.0, 0.5, 1, 1.5, late(7) * 1.000_001), Some(7));
        // Without slack the criterion is Erlang C itself: the first c with C(c, 5) <= 0.2.
        let want = (6..40).find(|&c| erlang_c_series(c, 5.0) <= 0.2).unwrap();
        assert_eq!(servers_for(10.0, 0.5, 1, 0.0, 0.2), Some(want));
        // Slots come in whole servers: 4 slots a server, the same 7 slots need 2 servers.
        assert_eq!(servers_for(10.0, 0.5, 4, 1.5, late(7) * 1.000_001), Some(2));
        // No demand, no servers; any demand at least one stable server.
        assert_eq!(servers_for(0.0, 0.5, 1, 1.5, 0.05), Some(0));
        assert_eq!(servers_for(0.001, 0.5, 1, 1.5, 1.0), Some(1));
        // A slot that is never freed: no fleet, and no endless search.
        assert_eq!(servers_for(1.0, f64::INFINITY, 4, 1.5, 0.05), None);
    }

    #[test]
    fn drawn_answers_count_the_service_time_as_well_as_the_wait() {
        // M/M/c, lambda 10/s, mean service 0.5 s (mu 2), a 2 s deadline on wait + service.
        // A request that does not wait is late when its service exceeds 2 s: e^-4; one that
        // waits (probability C) is late when an Exp(theta) wait plus an Exp(2) service
        // exceed 2 s: (theta e^-2t - 2 e^-theta t) / (theta - 2), theta = 2 (c - 5).
        let late = |c: u32| {
            let (mu, t, theta) = (2.0f64, 2.0f64, 2.0 * (f64::from(c) - 5.0));
            let both = (theta * (-mu * t).exp() - mu * (-theta * t).exp()) / (theta - mu);
            (1.0 - erlang_c_series(c, 5.0)) * (-mu * t).exp() + erlang_c_series(c, 5.0) * both
        };
        let want = (6..50).find(|&c| late(c) <= 0.05).unwrap();
        assert_eq!(servers_for_answer(10.0, 0.5, 2.0, 0.05), Some(want));
        // Counting the service makes the fleet at least as large as counting the wait alone.
        assert!(want >= servers_for(10.0, 0.5, 1, 1.5, 0.05).unwrap());
        // A deadline the service alone misses too often: no fleet meets it.
        assert_eq!(servers_for_answer(10.0, 0.5, 2.0, 0.01), None);
    }

    #[test]
    fn the_objective_batch_is_the_fastest_that_meets_both_objectives() {
        let class = find_class("h100_sxm").unwrap();
        let policy = BatchPolicy {
            max_batch: 256,
            token_budget: 8192,
            memory_utilisation: 0.9,
            runtime_reserve_bytes: 0.0,
            tensor_parallel: crate::physics::serving::TensorParallel::Smallest,
        };
        let s = Serving::plan(
            class,
            (8, 8),
            &crate::physics::serving::tests::FREE,
            &llama8b(),
            &policy,
            &Rates::efficiency(class, 0.8, 0.9),
        )
        .unwrap();
        let (prompt, output) = (1000.0, 200.0);
        let tpot = |b: f64| s.steady_step_s(prompt, output, b);
        // An objective between two batches' step times picks the lower batch.
        let slo = (tpot(40.0) + tpot(41.0)) / 2.0;
        let o = objective_batch(&s, prompt, output, 10.0, slo);
        assert!(o.meets);
        // The most requests per second among the batches that meet it: here the largest.
        let best = (1..=40)
            .max_by(|&a, &b| {
                s.replica_rps(prompt, output, f64::from(a))
                    .total_cmp(&s.replica_rps(prompt, output, f64::from(b)))
            })
            .unwrap();
        assert_eq!(o.batch, best);
        assert_eq!(o.batch, 40);
        assert_eq!(o.tpot_s, tpot(40.0));
        // The prefill: one chunk of the budget left by 40 decoding tokens holds the prompt,
        // in a step of 40 decode tokens and the 1,000 prompt tokens.
        let chunk_step = s.cost.step_s_at(40.0, 40.0 * 1100.0, 1000.0, 1000.0);
        assert_eq!(o.prefill_s, chunk_step);
        // Little's law: the slot is held for the batch over the replica's throughput.
        assert!((o.hold_s() - 40.0 / s.replica_rps(prompt, output, 40.0)).abs() < 1e-12);
        // A loose objective allows any batch up to the KV-cache limit: the fastest is chosen.
        let loose = objective_batch(&s, prompt, output, 10.0, 1.0);
        let limit = s.batch_limit(prompt + output) as u32;
        assert!(loose.batch <= limit);
        for b in 1..=limit {
            assert!(
                s.replica_rps(prompt, output, f64::from(b)) <= loose.rps,
                "batch {b}"
            );
        }
        // A token budget no bigger than the batch leaves no room for prompts: such batches
        // complete nothing and are never chosen.
        let tight = Serving {
            token_budget: 64.0,
            ..s
        };
        let t = objective_batch(&tight, prompt, output, 1e3, 1.0);
        assert!(t.rps > 0.0 && t.batch < 64, "{t:?}");
        // An objective no batch meets: batch 1, marked as missing.
        let none = objective_batch(&s, prompt, output, 10.0, tpot(1.0) / 2.0);
        assert_eq!((none.batch, none.meets), (1, false));
    }

    #[test]
    fn a_window_splits_into_hours_of_the_day() {
        // 22:30 on day 0 to 01:15 on day 1, then a whole second day on top.
        let h = seconds_by_hour_of_day(22.5 * 3600.0, 25.25 * 3600.0);
        assert_eq!(h[22], 1800.0);
        assert_eq!(h[23], 3600.0);
        assert_eq!(h[0], 3600.0);
        assert_eq!(h[1], 900.0);
        assert_eq!(h.iter().sum::<f64>(), 2.75 * 3600.0);
        let two = seconds_by_hour_of_day(0.0, 48.0 * 3600.0);
        assert!(two.iter().all(|&s| s == 7200.0));
    }
}
