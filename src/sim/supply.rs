//! Providers' supply decisions at run time: at every review each group compares the
//! income per GPU-hour it earned since the last review with its costs, by the scenario's
//! [`SupplyRule`]; GPUs that decide to join start serving after the onboarding delay, GPUs
//! that leave go at once (idle ones only: busy GPUs finish their work and may leave at a
//! later review).

use crate::core::engine::SimTime;
use crate::economics::provider::{Decision, Review, SupplyRule};
use crate::scenario::Scenario;

use super::pool::PoolState;

const NANOS_PER_HOUR: f64 = 3.6e12;

/// What a group had at the last review.
#[derive(Clone, Copy, Debug, Default)]
struct Mark {
    member: u128,
    busy: u128,
    income: f64,
}

/// Run-time state of supply decisions.
#[derive(Clone, Debug)]
pub struct Supply {
    marks: Vec<Mark>,
    /// Consecutive reviews below operating cost, per group.
    losing: Vec<u32>,
    /// GPUs onboarding, per group.
    pub onboarding: Vec<u32>,
    /// Reviews held.
    pub reviews: u64,
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

    /// Reviews every group at `now`, given each group's income so far (`income[g]`, USD).
    /// GPUs that leave do so here; returns the (group, GPUs) that decided to join.
    pub fn review(
        &mut self,
        rule: &SupplyRule,
        s: &Scenario,
        pools: &mut [PoolState],
        income: &[f64],
        now: SimTime,
    ) -> Vec<(usize, u32)> {
        self.reviews += 1;
        // (member hours, busy hours, income) per group since the last review.
        let mut since = Vec::with_capacity(pools.len());
        let (mut all_member, mut all_busy, mut all_income) = (0.0, 0.0, 0.0);
        for ((p, mark), &inc) in pools.iter().zip(&mut self.marks).zip(income) {
            let member = p.member_area_at(now);
            let busy = p.busy_area_at(now);
            let d = (
                (member - mark.member) as f64 / NANOS_PER_HOUR,
                (busy - mark.busy) as f64 / NANOS_PER_HOUR,
                inc - mark.income,
            );
            *mark = Mark {
                member,
                busy,
                income: inc,
            };
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
        let mut joins = Vec::new();
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
                max: p.count,
            };
            match rule.decide(&r, &mut self.losing[g]) {
                Decision::Stay => {}
                Decision::Join(n) => {
                    self.onboarding[g] += n;
                    joins.push((g, n));
                }
                Decision::Leave(n) => {
                    let k = p.leave(now, n);
                    if s.pools()[g].failure_shape != 1.0 {
                        p.stale_clocks += k;
                    }
                }
            }
        }
        joins
    }
}
