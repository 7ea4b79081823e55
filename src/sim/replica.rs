//! The run-time state of one continuously batching replica: a fluid model with
//! piecewise-constant rates over its prefill queue and decoding batch, whose events are
//! admissions, first tokens and completions ([`crate::physics::serving`] has the plan and the
//! step cost it runs at).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use crate::core::engine::{SimTime, to_secs};
use crate::physics::serving::Serving;

/// Steps after which a replica counts its steps afresh (keeps completion times exact to
/// well under a token).
const REBASE_STEPS: f64 = 1e6;

/// A request's work on a replica.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Work {
    /// Slab slot of the request.
    pub slot: u32,
    /// Prompt tokens to prefill (0: none, the first token comes at admission).
    pub prompt: f64,
    /// Decode steps after the first token (or seconds of service, for drawn times).
    pub decode: f64,
    /// KV tokens read per step while running (mean context).
    pub load: f64,
    /// KV tokens reserved while admitted.
    pub reserve: u64,
}

/// A running request, ordered by when it finishes (earliest first in the max-heap).
#[derive(Clone, Copy, Debug)]
struct Running {
    finish: f64,
    work: Work,
}

impl PartialEq for Running {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Running {}
impl PartialOrd for Running {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Running {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .finish
            .total_cmp(&self.finish)
            .then(other.work.slot.cmp(&self.work.slot))
    }
}

/// Bytes of a request in a replica's batch (for the memory estimate, `footprint.rs`); in
/// the prefill queue it is a [`Work`], which is smaller.
pub(crate) const RUNNING_BYTES: usize = size_of::<Running>();

/// What changed when a replica was brought up to date.
#[derive(Debug, Default)]
pub struct Settled {
    /// Requests whose first token came out.
    pub first: Vec<u32>,
    /// Requests that finished.
    pub done: Vec<u32>,
}

impl Settled {
    /// Forgets the last changes.
    pub fn clear(&mut self) {
        self.first.clear();
        self.done.clear();
    }
}

/// Run-time state of one replica.
#[derive(Clone, Debug, Default)]
pub struct Replica {
    /// Pool the replica belongs to.
    pub pool: u32,
    /// Time of its pending event, if any: an event at another time is stale.
    pub next_at: Option<SimTime>,
    /// Position in its pool's list of active replicas.
    pub pos: u32,
    prefill: VecDeque<Work>,
    /// Prompt tokens left of the head of `prefill`.
    head_left: f64,
    /// Prompt tokens left over all of `prefill`.
    prefill_left: f64,
    running: BinaryHeap<Running>,
    /// Decode steps every running request has taken since the replica became active.
    v: f64,
    kv_reserved: u64,
    kv_load: f64,
    last: SimTime,
    step_s: f64,
    chunk: f64,
}

impl Replica {
    /// An idle replica of pool `pool`.
    pub fn new(pool: u32) -> Self {
        Self {
            pool,
            ..Self::default()
        }
    }

    /// Requests admitted (prefilling or running).
    #[inline]
    pub fn len(&self) -> usize {
        self.prefill.len() + self.running.len()
    }

    /// Whether no request is admitted.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Requests decoding (the batch).
    #[inline]
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Whether a request reserving `reserve` KV tokens can be admitted now.
    #[inline]
    pub fn has_room(&self, serving: &Serving, reserve: u64) -> bool {
        self.len() < serving.max_batch as usize
            && self.kv_reserved.saturating_add(reserve) <= serving.kv_capacity_tokens
    }

    /// Starts an idle replica at `now`.
    pub fn activate(&mut self, now: SimTime) {
        debug_assert!(self.is_empty());
        self.v = 0.0;
        self.last = now;
        self.step_s = 0.0;
        self.chunk = 0.0;
        self.next_at = None;
    }

    /// Brings the replica up to `now`, reporting first tokens and completions in `out`.
    pub fn advance(&mut self, now: SimTime, out: &mut Settled) {
        let dt = to_secs(now - self.last);
        self.last = now;
        if self.step_s > 0.0 && dt > 0.0 {
            let steps = dt / self.step_s;
            if !self.running.is_empty() {
                self.v += steps;
            }
            if self.chunk > 0.0 {
                let tokens = steps * self.chunk;
                self.head_left -= tokens;
                self.prefill_left -= tokens;
            }
        }
        if self.v > REBASE_STEPS {
            self.rebase();
        }
        // Completions: those due by now, allowing for the nanosecond rounding of event times.
        let tol = 1e-9 * (1.0 + self.v);
        while let Some(top) = self.running.peek() {
            if top.finish > self.v + tol {
                break;
            }
            let w = top.work;
            self.running.pop();
            self.kv_reserved -= w.reserve;
            self.kv_load -= w.load;
            out.done.push(w.slot);
        }
        if self.running.is_empty() {
            self.kv_load = 0.0;
        }
        // First tokens: prompts fully processed.
        while let Some(&head) = self.prefill.front() {
            if self.head_left > 1e-9 * (1.0 + head.prompt) {
                break;
            }
            self.prefill.pop_front();
            let carry = (-self.head_left).max(0.0);
            self.head_left = self.prefill.front().map_or(0.0, |n| n.prompt - carry);
            if self.prefill.is_empty() {
                self.prefill_left = 0.0;
            }
            out.first.push(head.slot);
            self.start_decode(head, out);
        }
    }

    /// Counts steps from now on, so that a replica that never empties keeps its precision.
    fn rebase(&mut self) {
        let v = self.v;
        let mut batch = std::mem::take(&mut self.running).into_vec();
        for r in &mut batch {
            r.finish -= v;
        }
        self.running = BinaryHeap::from(batch);
        self.v = 0.0;
    }

    fn start_decode(&mut self, w: Work, out: &mut Settled) {
        if w.decode <= 0.0 {
            self.kv_reserved -= w.reserve;
            out.done.push(w.slot);
            return;
        }
        if self.running.is_empty() {
            self.v = 0.0;
        }
        self.kv_load += w.load;
        self.running.push(Running {
            finish: self.v + w.decode,
            work: w,
        });
    }

    /// Admits `w` at the time of the last [`Replica::advance`]; a request with no prompt to
    /// prefill starts decoding at once and is reported in `out.first`.
    pub fn admit(&mut self, w: Work, out: &mut Settled) {
        self.kv_reserved += w.reserve;
        if w.prompt <= 0.0 {
            out.first.push(w.slot);
            self.start_decode(w, out);
        } else {
            if self.prefill.is_empty() {
                self.head_left = w.prompt;
            }
            self.prefill_left += w.prompt;
            self.prefill.push_back(w);
        }
    }

    /// Sets the rates for the current batch and returns the delay to the next first token or
    /// completion, seconds (None when idle).
    pub fn plan_next(&mut self, serving: &Serving) -> Option<f64> {
        let b = self.running.len() as f64;
        self.chunk = if self.prefill.is_empty() {
            0.0
        } else {
            (serving.token_budget - b).min(self.prefill_left).max(0.0)
        };
        if b == 0.0 && self.chunk == 0.0 {
            self.step_s = 0.0;
            return None;
        }
        // The chunk's tokens go to the head of the queue until its prompt is done (an event),
        // so they cost what that prompt's tokens cost on average.
        let prompt = self.prefill.front().map_or(0.0, |w| w.prompt);
        self.step_s = serving.cost.step_s_at(b, self.kv_load, self.chunk, prompt);
        let mut dt = f64::INFINITY;
        if let Some(top) = self.running.peek() {
            dt = (top.finish - self.v).max(0.0) * self.step_s;
        }
        if self.chunk > 0.0 {
            dt = dt.min(self.head_left.max(0.0) / self.chunk * self.step_s);
        }
        Some(dt)
    }

    /// Takes every admitted request out (a failure or the owners stopping the replica),
    /// appending their slots to `out` in admission order of the prefill queue, then the batch.
    pub fn drain(&mut self, out: &mut Vec<u32>) {
        out.extend(self.prefill.drain(..).map(|w| w.slot));
        let mut batch = std::mem::take(&mut self.running).into_vec();
        batch.sort_by(|a, b| b.cmp(a));
        out.extend(batch.iter().map(|r| r.work.slot));
        self.head_left = 0.0;
        self.prefill_left = 0.0;
        self.kv_reserved = 0;
        self.kv_load = 0.0;
        self.step_s = 0.0;
        self.chunk = 0.0;
        self.next_at = None;
    }
}

/// Rounds a delay in seconds up to whole nanoseconds, at least one.
#[inline]
pub fn delay_ns(dt: f64) -> SimTime {
    let ns = dt * 1e9;
    if ns >= 1.8e19 {
        return u64::MAX;
    }
    let whole = ns as u64;
    (whole + u64::from((whole as f64) < ns)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::serving::tests::{llama8b, plan};

    fn work(slot: u32, prompt: f64, output: f64) -> Work {
        Work {
            slot,
            prompt,
            decode: output - 1.0,
            load: prompt + output / 2.0,
            reserve: (prompt + output) as u64,
        }
    }

    /// Runs a replica to quiescence, returning (first token, done) times per slot.
    fn drive(s: &Serving, arrivals: &[(SimTime, Work)]) -> Vec<(SimTime, SimTime)> {
        let mut r = Replica::new(0);
        r.activate(0);
        let mut times = vec![(0, 0); arrivals.len()];
        let mut out = Settled::default();
        let mut next = 0;
        let mut pending: Option<SimTime> = None;
        loop {
            let arrival = arrivals.get(next).map(|a| a.0);
            let now = match (arrival, pending) {
                (Some(a), Some(p)) => a.min(p),
                (Some(a), None) => a,
                (None, Some(p)) => p,
                (None, None) => break,
            };
            out.clear();
            r.advance(now, &mut out);
            if arrival == Some(now) {
                r.admit(arrivals[next].1, &mut out);
                next += 1;
            }
            for &f in &out.first {
                times[f as usize].0 = now;
            }
            for &d in &out.done {
                times[d as usize].1 = now;
            }
            pending = r.plan_next(s).map(|dt| now + delay_ns(dt));
        }
        times
    }

    #[test]
    fn a_request_alone_takes_its_prefill_then_one_step_per_token() {
        let s = plan("h100_sxm", 1, 1, &llama8b()).expect("fits");
        let t = drive(&s, &[(0, work(0, 1000.0, 101.0))]);
        let prefill = s.cost.step_s_at(0.0, 0.0, 1000.0, 1000.0);
        let decode = 100.0 * s.cost.step_s_at(1.0, 1050.5, 0.0, 0.0);
        assert!((to_secs(t[0].0) - prefill).abs() < 2e-9);
        assert!((to_secs(t[0].1) - prefill - decode).abs() < 4e-9);
        assert!((to_secs(t[0].1) - s.alone_s(1000.0, 101.0)).abs() < 4e-9);
    }

    #[test]
    fn a_batch_shares_each_step_and_finishes_in_order_of_length() {
        let s = plan("h100_sxm", 1, 1, &llama8b()).expect("fits");
        // Two one-token prompts admitted together share one prefill chunk of two tokens; the
        // head's prompt is done halfway through it.
        let t = drive(&s, &[(0, work(0, 1.0, 11.0)), (0, work(1, 1.0, 21.0))]);
        // A step: requests decoding, their KV tokens, prompt tokens in the chunk (of one-token
        // prompts).
        let step = |b: f64, kv: f64, chunk: f64| s.cost.step_s_at(b, kv, chunk, 1.0);
        let f0 = 0.5 * step(0.0, 0.0, 2.0);
        // Then request 0 decodes (mean context 6.5) while request 1's prompt is processed.
        let f1 = f0 + step(1.0, 6.5, 1.0);
        // Both decode in the same steps: request 0 has 9 tokens left...
        let d0 = f1 + 9.0 * step(2.0, 6.5 + 11.5, 0.0);
        // ...and request 1, 9 of its 20 done, finishes alone.
        let d1 = d0 + 11.0 * step(1.0, 11.5, 0.0);
        for (got, want) in [(t[0].0, f0), (t[1].0, f1), (t[0].1, d0), (t[1].1, d1)] {
            assert!((to_secs(got) - want).abs() < 1e-8, "{got} vs {want}");
        }
        // Batching: the pair finishes far sooner than one after the other.
        assert!(to_secs(t[1].1) < 0.7 * (s.alone_s(1.0, 11.0) + s.alone_s(1.0, 21.0)));
    }

    #[test]
    fn kv_capacity_and_batch_size_bound_admission() {
        let mut s = plan("rtx_4090", 1, 1, &llama8b()).expect("fits");
        let r = Replica::new(0);
        // 90% of 24,564 MiB, less 1.5 GiB and 16 GB of weights, is 5.57 GB of KV at 128 KiB a
        // token: 42,502 tokens.
        let cap =
            ((24_564.0 * 1_048_576.0 * 0.9 - 1.5 * 1_073_741_824.0 - 16e9) / 131_072.0) as u64;
        assert_eq!((s.kv_capacity_tokens, cap), (42_502, 42_502));
        assert!(r.has_room(&s, 42_502) && !r.has_room(&s, 42_503));
        assert_eq!(s.batch_limit(1000.0), 42.0);
        s.max_batch = 1;
        let mut r = Replica::new(0);
        r.activate(0);
        r.admit(work(0, 10.0, 10.0), &mut Settled::default());
        assert!(!r.has_room(&s, 1));
    }

    #[test]
    fn drawn_service_times_run_one_at_a_time_for_exactly_their_length() {
        let s = Serving::single_server(1);
        let w = Work {
            slot: 0,
            prompt: 0.0,
            decode: 2.5,
            load: 0.0,
            reserve: 0,
        };
        let t = drive(&s, &[(7, w)]);
        assert_eq!(t[0], (7, 7 + 2_500_000_000));
    }

    #[test]
    fn a_replica_that_never_empties_keeps_exact_completion_times() {
        // Step counts are rebased past a million steps; completions stay on the nanosecond.
        let mut s = Serving::single_server(1);
        s.max_batch = 2;
        let long = |slot, decode| Work {
            slot,
            prompt: 0.0,
            decode,
            load: 0.0,
            reserve: 0,
        };
        let t = drive(
            &s,
            &[(0, long(0, 2e6)), (1_500_000_000_000_000, long(1, 10.0))],
        );
        assert_eq!(t[1].1, 1_500_010_000_000_000);
        assert_eq!(t[0].1, 2_000_000_000_000_000);
    }

    #[test]
    fn drain_returns_everyone_and_empties_the_replica() {
        let s = plan("h100_sxm", 1, 1, &llama8b()).expect("fits");
        let mut r = Replica::new(0);
        r.activate(0);
        let mut out = Settled::default();
        for i in 0..3 {
            r.admit(work(i, 100.0, 50.0), &mut out);
        }
        r.plan_next(&s);
        r.advance(1_000_000_000, &mut out);
        assert!(r.running() > 0);
        let mut slots = Vec::new();
        r.drain(&mut slots);
        slots.sort_unstable();
        assert_eq!(slots, vec![0, 1, 2]);
        assert!(r.is_empty() && r.has_room(&s, s.kv_capacity_tokens));
    }
}
