//! Where a request goes: the scenario's routing rule over the user group's candidate pools
//! (nearest first), among those that would start it at once, then those that would queue it;
//! with `pricing: asking`, the cheapest asking price first.

use crate::core::engine::to_secs;
use crate::economics::pricing::Pricing;
use crate::scenario::Routing;
use crate::sim::pool::PoolState;

use super::requests::Request;
use super::users::Candidate;
use super::{Inference, Mode};

impl Inference<'_> {
    /// KV-cache tokens a request reserves in its replica (none for drawn service times).
    #[inline]
    pub(super) fn reserve(&self, r: &Request) -> u64 {
        if matches!(self.mode, Mode::Drawn { .. }) {
            0
        } else {
            u64::from(r.prompt) + u64::from(r.output_tokens)
        }
    }

    /// Whether `pool` would start a request reserving `reserve` KV tokens at once.
    #[inline]
    pub(super) fn admits_now(&self, pool: usize, reserve: u64, gpus: &[PoolState]) -> bool {
        let st = &self.stations[pool];
        let plan = &st.plan;
        st.queued() == 0
            && !gpus[pool].away()
            && (st.can_open(&gpus[pool])
                || (plan.max_batch > 1
                    && st
                        .active()
                        .iter()
                        .any(|&r| self.replicas[r as usize].has_room(plan, reserve))))
    }

    /// Whether `pool` would take a request now or queue it.
    #[inline]
    pub(super) fn has_room(&self, pool: usize, reserve: u64, gpus: &[PoolState]) -> bool {
        !gpus[pool].away()
            && (self.stations[pool].queue_has_room() || self.admits_now(pool, reserve, gpus))
    }

    /// Picks a candidate (index into user group `u`'s candidate list), or None to drop.
    pub(super) fn route(&self, u: usize, req: &Request, gpus: &[PoolState]) -> Option<usize> {
        let s = self.s;
        let cands = &self.users[u].candidates;
        let reserve = self.reserve(req);
        if *s.pricing() == Pricing::Asking {
            // Cheapest first among the pools that start it at once, then among those that
            // queue it; candidates are in order of distance, so ties go to the nearest.
            let price = |c: &Candidate| s.pools()[c.pool].price_usd_per_gpu_hour;
            let cheapest = |ok: &dyn Fn(usize) -> bool| {
                let mut best: Option<(f64, usize)> = None;
                for (i, c) in cands.iter().enumerate() {
                    if ok(c.pool) && best.is_none_or(|(b, _)| price(c) < b) {
                        best = Some((price(c), i));
                    }
                }
                best.map(|(_, i)| i)
            };
            return cheapest(&|p| self.admits_now(p, reserve, gpus))
                .or_else(|| cheapest(&|p| self.has_room(p, reserve, gpus)));
        }
        match s.routing {
            Routing::NearestFree => cands
                .iter()
                .position(|c| self.admits_now(c.pool, reserve, gpus))
                .or_else(|| {
                    cands
                        .iter()
                        .position(|c| self.has_room(c.pool, reserve, gpus))
                }),
            Routing::LeastLatency => self.least_latency(cands, req, reserve, gpus),
        }
    }

    /// The candidate with the least estimated latency: round trip, transfers, the wait for
    /// the requests ahead at the group's capacity (less its GPUs offline or lent to jobs),
    /// and the request's service alone.
    fn least_latency(
        &self,
        cands: &[Candidate],
        req: &Request,
        reserve: u64,
        gpus: &[PoolState],
    ) -> Option<usize> {
        let s = self.s;
        let (prompt, output) = (f64::from(req.prompt), f64::from(req.output_tokens));
        let mut best: Option<(f64, usize)> = None;
        for (i, c) in cands.iter().enumerate() {
            let p = &gpus[c.pool];
            let st = &self.stations[c.pool];
            if p.away() {
                continue;
            }
            let wait = if self.admits_now(c.pool, reserve, gpus) {
                0.0
            } else if st.queue_has_room() {
                let share =
                    f64::from(p.max_gpus() - p.reserved() - p.offline()) / f64::from(p.max_gpus());
                let rps = st.capacity_rps * share;
                if rps > 0.0 {
                    (st.queued() + 1) as f64 / rps
                } else {
                    1e12 // nothing can serve it until a GPU comes back
                }
            } else {
                continue;
            };
            let service = match s.service_override() {
                Some(_) => req.service_s,
                None => st.plan.alone_s(prompt, output),
            };
            let est = to_secs(c.rtt)
                + c.secs_per_byte * (prompt + output) * s.bytes_per_token
                + wait
                + service;
            if best.is_none_or(|(b, _)| est < b) {
                best = Some((est, i));
            }
        }
        best.map(|(_, i)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng::Streams;
    use crate::scenario::{Scenario, load_str};

    /// Users in `a`; one H100 group in `a` (1 ms away), one in `b` (40 ms away); drawn
    /// service times of 1 s, so that a group with its GPU busy queues.
    fn scenario(extra: &str) -> Scenario {
        load_str(
            &format!(
                "regions: [{{name: a}}, {{name: b}}]
network: {{rtt_ms: {{a: {{b: 40}}}}}}
providers:
  - {{name: far, region: b, gpu: h100_sxm, count: 1, hourly_cost_usd: 1, price_usd_per_gpu_hour: 1.0}}
  - {{name: near, region: a, gpu: h100_sxm, count: 1, hourly_cost_usd: 1, price_usd_per_gpu_hour: 3.0}}
inference:
  users: [{{region: a, rate_per_s: 1}}]
  service_time_s: {{constant: 1.0}}
{extra}"
            ),
            "t",
            "t",
            &[],
        )
        .expect("valid scenario")
    }

    fn gpus(s: &Scenario) -> Vec<PoolState> {
        s.pools()
            .iter()
            .map(|p| PoolState::new(p.count, p.initial, p.price_usd_per_gpu_hour))
            .collect()
    }

    /// The name of the group a request from the users of `a` goes to.
    fn routed(s: &Scenario, inf: &Inference<'_>, gpus: &[PoolState]) -> Option<String> {
        let req = Request {
            service_s: 1.0,
            ..Request::default()
        };
        inf.route(0, &req, gpus)
            .map(|c| s.pools()[inf.users[0].candidates[c].pool].name.clone())
    }

    #[test]
    fn nearest_free_takes_the_nearest_group_that_starts_it_then_the_nearest_that_queues_it() {
        let s = scenario("");
        let inf = Inference::new(&s, &Streams::new(1, 0));
        let mut g = gpus(&s);
        assert_eq!(routed(&s, &inf, &g).as_deref(), Some("near"));
        g[1].reserve(0, 1); // near's GPU goes to a job
        assert_eq!(routed(&s, &inf, &g).as_deref(), Some("far"));
        g[0].reserve(0, 1); // both busy: the nearest with queue room
        assert_eq!(routed(&s, &inf, &g).as_deref(), Some("near"));
        g[1].withdraw(0); // near's owners take it back: never routed there
        assert_eq!(routed(&s, &inf, &g).as_deref(), Some("far"));
    }

    #[test]
    fn asking_prices_route_to_the_cheapest_group_that_starts_it() {
        let s = scenario("pricing: {policy: asking}\n");
        let inf = Inference::new(&s, &Streams::new(1, 0));
        let mut g = gpus(&s);
        // far asks 1.0 USD per GPU-hour against near's 3.0.
        assert_eq!(routed(&s, &inf, &g).as_deref(), Some("far"));
        g[0].reserve(0, 1);
        assert_eq!(routed(&s, &inf, &g).as_deref(), Some("near"));
    }

    #[test]
    fn least_latency_weighs_the_round_trip_against_the_wait() {
        let s = scenario("  routing: least_latency\n");
        let inf = Inference::new(&s, &Streams::new(1, 0));
        let mut g = gpus(&s);
        assert_eq!(routed(&s, &inf, &g).as_deref(), Some("near"));
        // Near's only GPU is lent to a job: nothing there serves until it returns, so 40 ms of
        // round trip is the better bet.
        g[1].reserve(0, 1);
        assert_eq!(routed(&s, &inf, &g).as_deref(), Some("far"));
    }

    /// Near has 2 GPUs, one lent to a job and one busy: a request waits for the 1 request per
    /// second the free half of its capacity (2 replicas at 1 s each) answers, 1 s, then is
    /// served for 1 s: 2.001 s. Far, idle, 40 ms away: 1.04 s; 1.5 s away: 2.5 s.
    #[test]
    fn least_latency_sends_a_request_where_round_trip_wait_and_service_are_least() {
        for (rtt_ms, want) in [(40, "far"), (1500, "near")] {
            let s = load_str(
                &format!(
                    "regions: [{{name: a}}, {{name: b}}]
network: {{rtt_ms: {{a: {{b: {rtt_ms}}}}}}}
providers:
  - {{name: far, region: b, gpu: h100_sxm, count: 1, hourly_cost_usd: 1}}
  - {{name: near, region: a, gpu: h100_sxm, count: 2, hourly_cost_usd: 1}}
inference:
  users: [{{region: a, rate_per_s: 1}}]
  service_time_s: {{constant: 1.0}}
  routing: least_latency
"
                ),
                "t",
                "t",
                &[],
            )
            .expect("valid scenario");
            let inf = Inference::new(&s, &Streams::new(1, 0));
            let mut g = gpus(&s);
            g[1].reserve(0, 1);
            g[1].occupy(0, 1);
            assert_eq!(routed(&s, &inf, &g).as_deref(), Some(want), "{rtt_ms} ms");
        }
    }

    #[test]
    fn nothing_with_room_drops_the_request() {
        let s = scenario("  max_queue_per_gpu: 0\n");
        let inf = Inference::new(&s, &Streams::new(1, 0));
        let mut g = gpus(&s);
        g[0].reserve(0, 1);
        g[1].reserve(0, 1);
        assert_eq!(routed(&s, &inf, &g), None);
    }
}
