//! User groups at run time: each issues requests as a Poisson process (thinned by a daily
//! cycle when it has one), draws each request's prompt and output lengths, and knows the
//! pools it may use, nearest first, with their round trip and transfer cost.

use rand_distr::{Distribution, Exp1};

use crate::core::dist::unit;
use crate::core::engine::{SimTime, from_secs};
use crate::core::rng::{StreamRng, Streams};
use crate::core::units::SECONDS_PER_HOUR;
use crate::scenario::{Scenario, UserGroup};

/// A pool a user group may use, with the network costs precomputed.
#[derive(Clone, Debug)]
pub(super) struct Candidate {
    pub(super) pool: usize,
    /// The round trip between the users and the pool (routing and its limits use it).
    pub(super) rtt: SimTime,
    /// What of it an answer's first token and end-to-end time add to the replica's own
    /// time: the round trip, less the client's legs a pipeline's steps already carry.
    pub(super) net_rtt: SimTime,
    /// What each output token after the first adds, ns: for a pipeline, the same rest of the
    /// round trip (its client drives every token); 0 otherwise (tokens stream).
    pub(super) token_extra_ns: u32,
    pub(super) secs_per_byte: f64,
}

/// Run-time state of a user group.
pub(super) struct Users {
    pub(super) region: usize,
    rate: f64,
    /// Rate bound for thinning: rate x (1 + amplitude).
    rate_max: f64,
    /// (amplitude, peak local hour, UTC offset).
    cycle: Option<(f64, f64, f64)>,
    /// Time of the last candidate arrival, seconds (kept in f64 so rounding never drifts).
    clock_s: f64,
    /// Pools the group may use, nearest first.
    pub(super) candidates: Vec<Candidate>,
    arrivals: StreamRng,
    tokens: StreamRng,
    service: StreamRng,
}

/// One request's draws.
pub(super) struct Draw {
    pub(super) prompt: f64,
    pub(super) output: f64,
    /// Its service time, when the scenario draws them.
    pub(super) service_s: Option<f64>,
}

impl Users {
    /// User group `i` of `s`, with its own streams.
    pub(super) fn new(s: &Scenario, i: usize, u: &UserGroup, streams: &Streams) -> Self {
        let region = &s.regions()[u.region];
        let candidates = s
            .candidate_pools(u.region)
            .into_iter()
            .map(|p| {
                let pr = s.pools()[p].region;
                let bw = region.bandwidth_bps.min(s.regions()[pr].bandwidth_bps);
                let rtt_s = s.rtt_s(u.region, pr);
                // A pipeline's steps already carry the client's legs inside the group's
                // region: only the rest of the user's round trip is added.
                let in_steps = s.pools()[p]
                    .serving
                    .as_ref()
                    .map_or(0.0, |sv| sv.cost.comm.client_rtt_s);
                let rest = from_secs((rtt_s - in_steps).max(0.0));
                Candidate {
                    pool: p,
                    rtt: from_secs(rtt_s),
                    net_rtt: rest,
                    token_extra_ns: if in_steps > 0.0 {
                        u32::try_from(rest).unwrap_or(u32::MAX)
                    } else {
                        0
                    },
                    secs_per_byte: 8.0 / bw,
                }
            })
            .collect();
        let amp = u.cycle.map_or(0.0, |c| c.0);
        Self {
            region: u.region,
            rate: u.rate_per_s,
            rate_max: u.rate_per_s * (1.0 + amp),
            cycle: u
                .cycle
                .filter(|c| c.0 > 0.0)
                .map(|(a, peak)| (a, peak, region.utc_offset_h)),
            clock_s: 0.0,
            candidates,
            arrivals: streams.indexed("arrivals", i as u64),
            tokens: streams.indexed("tokens", i as u64),
            service: streams.indexed("service", i as u64),
        }
    }

    /// Draws the next arrival time (None at or past `horizon_s`).
    pub(super) fn next_arrival(&mut self, horizon_s: f64) -> Option<SimTime> {
        if self.rate <= 0.0 {
            return None;
        }
        loop {
            let e: f64 = Exp1.sample(&mut self.arrivals);
            self.clock_s += e / self.rate_max;
            if self.clock_s >= horizon_s {
                return None;
            }
            let Some((amp, peak, offset)) = self.cycle else {
                break;
            };
            let local_h = (self.clock_s / SECONDS_PER_HOUR + offset).rem_euclid(24.0);
            let rate =
                self.rate * (1.0 + amp * (std::f64::consts::TAU * (local_h - peak) / 24.0).cos());
            if unit(&mut self.arrivals) * self.rate_max < rate {
                break;
            }
        }
        Some(from_secs(self.clock_s))
    }

    /// Draws a request: its service time (when drawn), then its prompt and output lengths
    /// as whole tokens (outputs at least one).
    pub(super) fn draw(&mut self, s: &Scenario) -> Draw {
        let service_s = s.service_override().map(|d| d.sample(&mut self.service));
        let prompt = round_tokens(s.prompt.sample(&mut self.tokens), 0.0);
        let output = round_tokens(s.output.sample(&mut self.tokens), 1.0);
        Draw {
            prompt,
            output,
            service_s,
        }
    }
}

/// Rounds a sampled token count to a whole number in [min, u32::MAX] without libm's `round`
/// (samples are finite and non-negative after validation).
#[inline]
fn round_tokens(x: f64, min: f64) -> f64 {
    ((x + 0.5).clamp(0.0, f64::from(u32::MAX)) as u32 as f64).max(min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    #[test]
    fn token_counts_round_to_whole_tokens_within_bounds() {
        assert_eq!(round_tokens(2.4, 0.0), 2.0);
        assert_eq!(round_tokens(2.5, 0.0), 3.0);
        assert_eq!(round_tokens(0.2, 1.0), 1.0);
        assert_eq!(round_tokens(1e12, 0.0), f64::from(u32::MAX));
    }

    #[test]
    fn candidates_are_the_pools_in_reach_nearest_first() {
        let s = load_str(
            "regions: [{name: a}, {name: b}, {name: c}]
network: {rtt_ms: {a: {b: 50, c: 10}, b: {c: 70}}}
providers:
  - {name: far, region: b, gpu: h100_sxm, count: 1, hourly_cost_usd: 1}
  - {name: near, region: c, gpu: h100_sxm, count: 1, hourly_cost_usd: 1}
  - {name: home, region: a, gpu: h100_sxm, count: 1, hourly_cost_usd: 1}
inference: {users: [{region: a, rate_per_s: 1}], max_rtt_ms: 60}
",
            "t",
            "t",
            &[],
        )
        .expect("valid");
        let u = Users::new(&s, 0, &s.users()[0], &Streams::new(1, 0));
        let order: Vec<(usize, SimTime)> = u.candidates.iter().map(|c| (c.pool, c.rtt)).collect();
        // Home (1 ms inside a region), then 10 ms, then 50 ms; none beyond max_rtt_ms.
        assert_eq!(
            order,
            vec![(2, 1_000_000), (1, 10_000_000), (0, 50_000_000)]
        );
    }

    #[test]
    fn a_flat_process_issues_at_its_rate() {
        let s = load_str(
            "regions: [{name: a}]
providers: [{name: p, region: a, gpu: h100_sxm, count: 1, hourly_cost_usd: 1}]
inference: {users: [{region: a, rate_per_s: 5}]}
",
            "t",
            "t",
            &[],
        )
        .expect("valid");
        let mut u = Users::new(&s, 0, &s.users()[0], &Streams::new(3, 0));
        let horizon_s = 10_000.0;
        let mut n = 0u64;
        while u.next_arrival(horizon_s).is_some() {
            n += 1;
        }
        // Poisson: 50,000 expected, standard deviation ~224.
        assert!((n as f64 - 50_000.0).abs() < 1_000.0, "{n}");
    }
}
