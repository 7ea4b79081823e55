//! The job queue's backfilling rule (EASY backfilling, Lifka 1995): when the job at the head
//! of the line does not fit, the earliest time it would (its shadow time) and the GPUs spare
//! then, and whether a later job may start now without delaying it. Arithmetic on GPU counts
//! per provider group only: [`super::jobs`] finds placements and draws courses, this file
//! says whether one may go ahead.
//!
//! The estimate assumes that the GPUs idle now stay idle and that the running jobs end when
//! their drawn courses say; inference, failures, owners' hours and supply may change what is
//! idle before the shadow time, so [`super::jobs`] makes a new reservation at every retry.

use crate::core::engine::SimTime;

/// GPUs taken from provider groups: `(group, GPUs)`, each group at most once.
pub type Gpus = [(usize, u32)];

/// What the head of the line is promised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// The head fits once the running jobs that end by `at` (its shadow time) have ended;
    /// `spare[p]` GPUs of group `p` are idle then beyond those its placement takes.
    At {
        /// The shadow time.
        at: SimTime,
        /// Idle GPUs per group at the shadow time that the head's placement leaves.
        spare: Vec<u32>,
    },
    /// The head would not fit even after every running job ended (inference or offline GPUs
    /// hold what it needs, or a job that never ends does): its start cannot be estimated.
    /// `usable[p]` says whether the head could ever use group `p`.
    Unknown {
        /// Whether the head's placement rule may use each group at all.
        usable: Vec<bool>,
    },
}

impl Reservation {
    /// The reservation of a head that does not fit now, from the GPUs idle now per group,
    /// the running jobs' planned ends and GPUs (an end of `SimTime::MAX` never comes), the
    /// head's placement on given idle GPUs per group, and whether it may use each group.
    pub fn new<'a>(
        idle: &[u32],
        running: impl IntoIterator<Item = (SimTime, &'a Gpus)>,
        place: impl Fn(&[u32]) -> Option<Vec<(usize, u32)>>,
        usable: impl Fn(usize) -> bool,
    ) -> Self {
        let mut ends: Vec<(SimTime, &Gpus)> = running
            .into_iter()
            .filter(|&(end, _)| end < SimTime::MAX)
            .collect();
        // Stable: jobs ending at once are added together, in the order given.
        ends.sort_by_key(|&(end, _)| end);
        let mut avail = idle.to_vec();
        let mut i = 0;
        while i < ends.len() {
            let at = ends[i].0;
            while i < ends.len() && ends[i].0 == at {
                for &(p, n) in ends[i].1 {
                    avail[p] += n;
                }
                i += 1;
            }
            if let Some(head) = place(&avail) {
                for (p, n) in head {
                    avail[p] -= n;
                }
                return Reservation::At { at, spare: avail };
            }
        }
        Reservation::Unknown {
            usable: (0..idle.len()).map(usable).collect(),
        }
    }

    /// Whether a job that would hold `gpus` from now until `end` may start without delaying
    /// the head: it ends by the shadow time, or every GPU it holds is spare then (and is
    /// spare no more); with an unknown shadow time, only on groups the head can never use.
    pub fn admit(&mut self, end: SimTime, gpus: &Gpus) -> bool {
        match self {
            Reservation::At { at, spare } => {
                if end <= *at {
                    return true;
                }
                if !gpus.iter().all(|&(p, n)| n <= spare[p]) {
                    return false;
                }
                for &(p, n) in gpus {
                    spare[p] -= n;
                }
                true
            }
            Reservation::Unknown { usable } => gpus.iter().all(|&(p, _)| !usable[p]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A head that wants `n` GPUs of one group (`one_provider`), the first that has them.
    fn one_group(n: u32) -> impl Fn(&[u32]) -> Option<Vec<(usize, u32)>> {
        move |avail: &[u32]| avail.iter().position(|&a| a >= n).map(|p| vec![(p, n)])
    }

    /// A head that wants `n` GPUs wherever they are, first groups first.
    fn anywhere(n: u32) -> impl Fn(&[u32]) -> Option<Vec<(usize, u32)>> {
        move |avail: &[u32]| {
            let mut left = n;
            let mut out = Vec::new();
            for (p, &a) in avail.iter().enumerate() {
                let k = a.min(left);
                if k > 0 {
                    out.push((p, k));
                    left -= k;
                }
            }
            (left == 0).then_some(out)
        }
    }

    #[test]
    fn the_shadow_time_is_the_first_planned_end_at_which_the_head_fits() {
        // 16 GPUs: 2 idle, 6 until t = 10, 8 until t = 20. A head of 12 fits at 20 (2 + 6 +
        // 8 = 16 idle), leaving 4 spare; one of 8 fits at 10 on 2 + 6, leaving none.
        let (a, b): (&Gpus, &Gpus) = (&[(0, 6)], &[(0, 8)]);
        let running = [(20, b), (10, a)];
        let r = Reservation::new(&[2], running, one_group(12), |_| true);
        assert_eq!(
            r,
            Reservation::At {
                at: 20,
                spare: vec![4]
            }
        );
        let r = Reservation::new(&[2], running, one_group(8), |_| true);
        assert_eq!(
            r,
            Reservation::At {
                at: 10,
                spare: vec![0]
            }
        );
    }

    #[test]
    fn jobs_ending_at_the_same_time_free_their_gpus_together() {
        // Two jobs of 4 end at t = 5: both count, so 4 of the 8 stay spare for a head of 4.
        let g: &Gpus = &[(0, 4)];
        let r = Reservation::new(&[0], [(5, g), (5, g)], one_group(4), |_| true);
        assert_eq!(
            r,
            Reservation::At {
                at: 5,
                spare: vec![4]
            }
        );
    }

    #[test]
    fn a_later_job_may_start_if_it_ends_by_the_shadow_time_or_uses_spare_gpus() {
        // Shadow time 20 with 4 GPUs of group 0 spare and 3 of group 1.
        let mut r = Reservation::At {
            at: 20,
            spare: vec![4, 3],
        };
        // Ends before or at the shadow time: any GPUs, spare or not, and nothing is used up.
        assert!(r.admit(19, &[(0, 16), (1, 8)]));
        assert!(r.admit(20, &[(0, 16)]));
        // Ends later: only on spare GPUs, which it then holds.
        assert!(!r.admit(21, &[(0, 5)]));
        assert!(!r.admit(21, &[(0, 1), (1, 4)]));
        assert!(r.admit(21, &[(0, 3), (1, 3)]));
        assert_eq!(
            r,
            Reservation::At {
                at: 20,
                spare: vec![1, 0]
            }
        );
        assert!(!r.admit(SimTime::MAX, &[(0, 2)]));
        assert!(r.admit(SimTime::MAX, &[(0, 1)]));
        assert!(!r.admit(21, &[(0, 1)]), "the spare GPUs are all held now");
        assert!(
            r.admit(20, &[(0, 1)]),
            "ending by the shadow time still may"
        );
    }

    #[test]
    fn without_a_shadow_time_only_gpus_the_head_cannot_use_are_lent() {
        // 8 GPUs in group 0, all busy with a job that never ends (abandoned) and 4 idle in
        // group 1 that the head may not use (too little memory): the head of 8 cannot be
        // placed on any end, so nothing it could use may be taken, however short the job.
        let never: &Gpus = &[(0, 8)];
        let mut r = Reservation::new(&[0, 4], [(SimTime::MAX, never)], anywhere(8), |p| p == 0);
        assert_eq!(
            r,
            Reservation::Unknown {
                usable: vec![true, false]
            }
        );
        assert!(!r.admit(1, &[(0, 1)]));
        assert!(!r.admit(1, &[(0, 1), (1, 1)]));
        assert!(r.admit(SimTime::MAX, &[(1, 4)]));
    }

    #[test]
    fn a_head_spread_over_groups_keeps_what_it_needs_in_each() {
        // Groups of 4 and 4: 1 idle in each, a job holds 3 + 3 until t = 7. A head of 7
        // anywhere takes 4 + 3 at t = 7: group 1 keeps 1 spare, group 0 none.
        let g: &Gpus = &[(0, 3), (1, 3)];
        let mut r = Reservation::new(&[1, 1], [(7, g)], anywhere(7), |_| true);
        assert_eq!(
            r,
            Reservation::At {
                at: 7,
                spare: vec![0, 1]
            }
        );
        assert!(!r.admit(8, &[(0, 1)]));
        assert!(r.admit(8, &[(1, 1)]));
    }
}
