//! Providers' supply decisions at run time: at every review each group compares the
//! income per GPU-hour it earned since the last review with its costs, by the scenario's
//! [`SupplyRule`]; GPUs that decide to join start serving after the onboarding delay, GPUs
//! that leave go at once (idle ones only: busy GPUs finish their work and may leave at a
//! later review).
//!
//! Reviews are their own events without a token; with one, they follow the token epochs
//! that pay the income they judge, every ceil(review / epoch) epochs.

use crate::core::engine::{EventQueue, SimTime, from_hours};
use crate::economics::provider::{Decision, Review, SupplyRule};
use crate::scenario::Scenario;

use super::event::Event;
use super::pool::{PoolMark, PoolState};

/// What a group had at the last review.
#[derive(Clone, Copy, Debug, Default)]
struct Mark {
    pool: PoolMark,
    income: f64,
}

/// What a review decided: groups and GPUs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decisions {
    /// GPUs that decided to join, to start after onboarding.
    pub joins: Vec<(usize, u32)>,
    /// GPUs that left at once.
    pub leaves: Vec<(usize, u32)>,
}

/// Bytes of a [`Supply`] per provider group: its mark, its losing streak and the GPUs
/// onboarding (for the memory estimate, `footprint.rs`).
pub(crate) const BYTES_PER_GROUP: usize = size_of::<Mark>() + 2 * size_of::<u32>();

/// Run-time state of supply decisions.
#[derive(Clone, Debug)]
pub struct Supply {
    marks: Vec<Mark>,
    /// Consecutive reviews below operating cost, per group.
    losing: Vec<u32>,
    /// GPUs onboarding, per group.
    onboarding: Vec<u32>,
    /// Reviews held.
    reviews: u64,
}

impl Supply {
    /// No review yet, for `groups` groups.
    pub fn new(groups: usize) -> Self {
        Self {
            marks: vec![Mark::default(); groups],
            losing: vec![0; groups],
            onboarding: vec![0; groups],
            reviews: 0,
        }
    }

    /// Schedules the first review, unless there is no supply rule or reviews follow token
    /// epochs.
    pub fn start(&self, s: &Scenario, q: &mut EventQueue<Event>) {
        if let (Some(rule), None) = (s.supply(), s.token()) {
            let at = from_hours(rule.review_h);
            if at <= s.horizon() {
                q.schedule_at(at, Event::Review);
            }
        }
    }

    /// A `Review` event at `now`: schedules the next one.
    pub fn next_review(&self, s: &Scenario, now: SimTime, q: &mut EventQueue<Event>) {
        if let Some(rule) = s.supply() {
            let next = now.saturating_add(from_hours(rule.review_h));
            if next <= s.horizon() {
                q.schedule_at(next, Event::Review);
            }
        }
    }

    /// Whether the token epoch that made `epochs` in all is followed by a review.
    pub fn due_after_token_epoch(s: &Scenario, epochs: u64) -> bool {
        match (s.supply(), s.token()) {
            (Some(rule), Some(tok)) => {
                let every = (rule.review_h / tok.emission.epoch_h).ceil().max(1.0) as u64;
                epochs.is_multiple_of(every)
            }
            _ => false,
        }
    }

    /// `n` GPUs of group `g` finished onboarding.
    pub fn onboarded(&mut self, g: usize, n: u32) {
        self.onboarding[g] -= n;
    }

    /// Reviews held, when the scenario has a supply rule.
    pub fn reviews(&self, s: &Scenario) -> Option<u64> {
        s.supply().map(|_| self.reviews)
    }

    /// Reviews every group at `now`, given each group's income so far (`income[g]`, USD).
    /// GPUs that leave do so here.
    pub fn review(
        &mut self,
        rule: &SupplyRule,
        s: &Scenario,
        pools: &mut [PoolState],
        income: &[f64],
        now: SimTime,
    ) -> Decisions {
        self.reviews += 1;
        // (member hours, busy hours, income) per group since the last review.
        let mut since = Vec::with_capacity(pools.len());
        let (mut all_member, mut all_busy, mut all_income) = (0.0, 0.0, 0.0);
        for ((p, mark), &inc) in pools.iter().zip(&mut self.marks).zip(income) {
            let d = p.roll(&mut mark.pool, now);
            let d = (d.lent_h(), d.busy_h(), inc - mark.income);
            mark.income = inc;
            all_member += d.0;
            all_busy += d.1;
            all_income += d.2;
            since.push(d);
        }
        // A group with no GPU-hours expects what the network's GPUs earned on average.
        let network = if all_member > 0.0 {
            (all_income / all_member, all_busy / all_member)
        } else {
            (0.0, 0.0)
        };
        let mut out = Decisions::default();
        for (g, (p, &(member_h, busy_h, inc))) in pools.iter_mut().zip(&since).enumerate() {
            let (income_per_h, busy_share) = if member_h > 0.0 {
                (inc / member_h, busy_h / member_h)
            } else {
                network
            };
            let cost = &s.pools()[g].cost;
            let r = Review {
                income_per_h,
                full_cost_per_h: cost.full(1.0, busy_share),
                operating_cost_per_h: cost.operating(1.0, busy_share),
                members: p.members(),
                onboarding: self.onboarding[g],
                max: p.max_gpus(),
            };
            match rule.decide(&r, &mut self.losing[g]) {
                Decision::Stay => {}
                Decision::Join(n) => {
                    self.onboarding[g] += n;
                    out.joins.push((g, n));
                }
                Decision::Leave(n) => {
                    let k = p.leave(now, n);
                    out.leaves.push((g, k));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    #[test]
    fn a_review_lets_a_paying_group_grow_and_a_losing_one_shrink() {
        let s = load_str(
            "regions: [{name: a}]
providers:
  - {name: paid, region: a, gpu: rtx_4090, count: 4, max_count: 10, hourly_cost_usd: 1}
  - {name: idle, region: a, gpu: rtx_4090, count: 4, hourly_cost_usd: 1}
inference: {users: [{region: a, rate_per_s: 1}], model: {name: llama-3.1-8b, context_tokens: 8192}}
supply: {review_h: 10, exit_after_reviews: 1}
",
            "t",
            "t",
            &[],
        )
        .expect("valid scenario");
        let rule = *s.supply().expect("a supply rule");
        let mut pools: Vec<PoolState> = s
            .pools()
            .iter()
            .map(|p| PoolState::new(p.count, p.initial, 0.5))
            .collect();
        let mut supply = Supply::new(2);
        let ten_hours = 36_000 * crate::core::engine::NANOS_PER_SEC;
        // 40 GPU-hours each: 100 USD is 2.5 USD per GPU-hour against a full cost of 1.0 and a
        // hurdle of 15%; 0 USD is below the operating cost.
        let d = supply.review(&rule, &s, &mut pools, &[100.0, 0.0], ten_hours);
        // ceil(10% of the 6 GPUs not in the network) join; ceil(25% of 4) idle GPUs leave.
        assert_eq!(d.joins, vec![(0, 1)]);
        assert_eq!(d.leaves, vec![(1, 1)]);
        assert_eq!((pools[0].members(), pools[1].members()), (4, 3));
        assert_eq!(supply.reviews(&s), Some(1));
        // The next review judges only what was earned since: nothing, so both groups are
        // below operating cost and each sheds a GPU.
        let d = supply.review(&rule, &s, &mut pools, &[100.0, 0.0], 2 * ten_hours);
        assert!(d.joins.is_empty());
        assert_eq!(d.leaves, vec![(0, 1), (1, 1)]);
    }
}
