//! The event kernel: integer simulated time, a queue ordered by (time, insertion sequence),
//! and a [`Simulation`] that feeds a [`Model`] its events in that order.
//!
//! The engine knows nothing of GPUs, files or randomness: a model defines its own event enum
//! (small, `Copy`-friendly values that carry indices, never boxed closures) and handles each
//! event by mutating itself and scheduling more. Two events at the same instant run in the
//! order they were scheduled, so a run is a pure function of the model and its seeds.
//!
//! ```
//! use depinsim::core::engine::{EventQueue, Model, SimTime, Simulation};
//!
//! struct Ticker { ticks: u32 }
//! impl Model for Ticker {
//!     type Event = ();
//!     fn handle(&mut self, _now: SimTime, _ev: (), queue: &mut EventQueue<()>) {
//!         self.ticks += 1;
//!         queue.schedule_in(10, ());
//!     }
//! }
//! let mut sim = Simulation::new(Ticker { ticks: 0 });
//! sim.queue_mut().schedule_at(0, ());
//! sim.run_until(95);
//! assert_eq!(sim.model().ticks, 10); // t = 0, 10, ..., 90
//! assert_eq!(sim.now(), 95);
//! ```

use std::collections::HashSet;

use super::units::SECONDS_PER_HOUR;

/// Simulated time in nanoseconds since the start of the run (584 years fit in a `u64`).
pub type SimTime = u64;

/// Nanoseconds in one simulated second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Converts hours to [`SimTime`] (through seconds, as [`from_secs`] rounds them).
#[inline]
pub fn from_hours(hours: f64) -> SimTime {
    from_secs(hours * SECONDS_PER_HOUR)
}

/// Converts seconds to [`SimTime`], rounding to the nearest nanosecond (halves away from
/// zero) and saturating at the ends of the range (negative or NaN inputs give 0).
#[inline]
pub fn from_secs(seconds: f64) -> SimTime {
    let ns = seconds * NANOS_PER_SEC as f64;
    // Fast path (0 to ~285 years): truncation through i64 is one instruction, and the
    // rounding is branch-free; `f64::round` is an out-of-line libm call on baseline x86-64
    // and showed up at 7% of a run's profile.
    if ns > 0.0 && ns < 9.0e18 {
        let whole = ns as i64;
        (whole + i64::from(ns - whole as f64 >= 0.5)) as u64
    } else if ns >= u64::MAX as f64 {
        u64::MAX
    } else if ns > 0.0 {
        ns.round() as u64
    } else {
        0
    }
}

/// Converts [`SimTime`] to seconds.
pub fn to_secs(t: SimTime) -> f64 {
    t as f64 / NANOS_PER_SEC as f64
}

/// Identifies a scheduled event so that it can be cancelled before it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(u128);

impl EventId {
    /// The simulated time the event was scheduled for.
    pub fn time(self) -> SimTime {
        (self.0 >> 64) as SimTime
    }
}

/// A 4-ary min-heap of (key, event), with keys and events in separate arrays: a pop
/// compares up to four contiguous keys per level and moves a hole instead of swapping, which
/// measured faster than `std::collections::BinaryHeap` for the small pending sets of
/// queueing models. Keys are unique (they embed the sequence number), so ties cannot occur.
struct QuadHeap<E> {
    keys: Vec<u128>,
    events: Vec<E>,
}

impl<E: Copy> QuadHeap<E> {
    fn new() -> Self {
        Self {
            keys: Vec::new(),
            events: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.keys.len()
    }

    #[inline]
    fn peek_key(&self) -> Option<u128> {
        self.keys.first().copied()
    }

    #[inline]
    fn push(&mut self, key: u128, event: E) {
        let mut i = self.keys.len();
        self.keys.push(key);
        self.events.push(event);
        while i > 0 {
            let parent = (i - 1) / 4;
            let pk = self.keys[parent];
            if pk < key {
                break;
            }
            self.keys[i] = pk;
            self.events[i] = self.events[parent];
            i = parent;
        }
        self.keys[i] = key;
        self.events[i] = event;
    }

    #[inline]
    fn pop(&mut self) -> Option<(u128, E)> {
        let top = (*self.keys.first()?, *self.events.first()?);
        let (key, event) = (self.keys.pop()?, self.events.pop()?);
        let n = self.keys.len();
        if n == 0 {
            return Some(top);
        }
        let mut i = 0;
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let (mut m, mut mk) = (first, self.keys[first]);
            for j in first + 1..(first + 4).min(n) {
                let k = self.keys[j];
                if k < mk {
                    m = j;
                    mk = k;
                }
            }
            if key < mk {
                break;
            }
            self.keys[i] = mk;
            self.events[i] = self.events[m];
            i = m;
        }
        self.keys[i] = key;
        self.events[i] = event;
        Some(top)
    }
}

/// Bytes one pending event of type `E` takes in an [`EventQueue`]: its key and itself, each
/// in its own array.
pub const fn queued_event_bytes<E>() -> usize {
    size_of::<u128>() + size_of::<E>()
}

/// The future event list: a 4-ary heap keyed by (time, insertion sequence).
pub struct EventQueue<E> {
    heap: QuadHeap<E>,
    next_seq: u64,
    now: SimTime,
    /// Key of the last event handed out; every key at or below it has fired or was cancelled.
    last_key: Option<u128>,
    cancelled: HashSet<u128>,
    processed: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue at time 0.
    pub fn new() -> Self {
        Self {
            heap: QuadHeap::new(),
            next_seq: 0,
            now: 0,
            last_key: None,
            cancelled: HashSet::new(),
            processed: 0,
        }
    }

    /// The current simulated time: the time of the event being handled, or the horizon
    /// reached by the last `run_until`.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at absolute time `at`. A time in the past is moved to `now`, so an
    /// event can never run before the one that scheduled it.
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, event: E) -> EventId {
        let at = at.max(self.now);
        let key = ((at as u128) << 64) | self.next_seq as u128;
        self.next_seq += 1;
        self.heap.push(key, event);
        EventId(key)
    }

    /// Schedules `event` after a delay, saturating at the end of time.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimTime, event: E) -> EventId {
        self.schedule_at(self.now.saturating_add(delay), event)
    }

    /// Cancels a pending event. Returns `false`, and does nothing, when the event has already
    /// fired or was already cancelled.
    pub fn cancel(&mut self, id: EventId) -> bool {
        let seq = id.0 as u64;
        if seq >= self.next_seq || self.last_key.is_some_and(|last| id.0 <= last) {
            return false;
        }
        self.cancelled.insert(id.0)
    }

    /// Number of events still to fire (cancelled ones excluded).
    pub fn len(&self) -> usize {
        self.heap.len() - self.cancelled.len()
    }

    /// Whether no event is left to fire.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events handed out so far.
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// Time of the next event to fire, if any.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.skip_cancelled();
        self.heap.peek_key().map(|k| (k >> 64) as SimTime)
    }

    fn skip_cancelled(&mut self) {
        while !self.cancelled.is_empty() {
            match self.heap.peek_key() {
                Some(key) if self.cancelled.contains(&key) => {
                    self.heap.pop();
                    self.cancelled.remove(&key);
                    self.last_key = Some(key);
                }
                _ => break,
            }
        }
    }

    /// Removes and returns the next event if it fires at or before `limit`, advancing `now`
    /// to its time.
    #[inline]
    pub fn pop_until(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        self.skip_cancelled();
        let time = (self.heap.peek_key()? >> 64) as SimTime;
        if time > limit {
            return None;
        }
        let (key, event) = self.heap.pop()?;
        self.last_key = Some(key);
        self.now = time;
        self.processed += 1;
        Some((time, event))
    }
}

/// A model driven by the engine: it owns its state and reacts to its own events.
pub trait Model {
    /// The model's event type: small and `Copy` (indices, not data).
    type Event: Copy;
    /// Handles one event at time `now`, scheduling any consequences on `queue`.
    fn handle(&mut self, now: SimTime, event: Self::Event, queue: &mut EventQueue<Self::Event>);
}

/// A model together with its event queue.
pub struct Simulation<M: Model> {
    model: M,
    queue: EventQueue<M::Event>,
}

impl<M: Model> Simulation<M> {
    /// Wraps a model with an empty queue at time 0.
    pub fn new(model: M) -> Self {
        Self {
            model,
            queue: EventQueue::new(),
        }
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.queue.now()
    }

    /// The model, for reading results.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model, for changes between runs.
    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    /// The event queue, for scheduling the first events.
    pub fn queue_mut(&mut self) -> &mut EventQueue<M::Event> {
        &mut self.queue
    }

    /// The model and the queue together, for starting a run.
    pub fn parts_mut(&mut self) -> (&mut M, &mut EventQueue<M::Event>) {
        (&mut self.model, &mut self.queue)
    }

    /// Events handled so far.
    pub fn events_processed(&self) -> u64 {
        self.queue.processed()
    }

    /// Handles the next event, if any. Returns whether one was handled.
    pub fn step(&mut self) -> bool {
        match self.queue.pop_until(SimTime::MAX) {
            Some((now, ev)) => {
                self.model.handle(now, ev, &mut self.queue);
                true
            }
            None => false,
        }
    }

    /// Handles every event due at or before `horizon`, then sets the clock to `horizon`.
    /// Returns the number of events handled.
    pub fn run_until(&mut self, horizon: SimTime) -> u64 {
        let before = self.queue.processed();
        while let Some((now, ev)) = self.queue.pop_until(horizon) {
            self.model.handle(now, ev, &mut self.queue);
        }
        self.queue.now = self.queue.now.max(horizon);
        self.queue.processed() - before
    }

    /// Gives the model back, dropping any pending events.
    pub fn into_model(self) -> M {
        self.model
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the order in which events arrive.
    struct Log(Vec<(SimTime, u32)>);
    impl Model for Log {
        type Event = u32;
        fn handle(&mut self, now: SimTime, ev: u32, _q: &mut EventQueue<u32>) {
            self.0.push((now, ev));
        }
    }

    fn run(events: &[(SimTime, u32)], horizon: SimTime) -> Vec<(SimTime, u32)> {
        let mut sim = Simulation::new(Log(Vec::new()));
        for &(t, e) in events {
            sim.queue_mut().schedule_at(t, e);
        }
        sim.run_until(horizon);
        sim.into_model().0
    }

    #[test]
    fn the_heap_sorts_like_a_sort() {
        // Pseudo-random keys pushed and popped in interleaved batches come out in order.
        let mut h = QuadHeap::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut out = Vec::new();
        for round in 0..50 {
            for _ in 0..(round % 7 + 1) * 5 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                h.push(u128::from(x), x);
            }
            for _ in 0..(round % 5) * 6 {
                if let Some((k, v)) = h.pop() {
                    assert_eq!(k, u128::from(v));
                    out.push(k);
                }
            }
        }
        let mut prev = 0;
        while let Some((k, _)) = h.pop() {
            assert!(k >= prev);
            prev = k;
        }
        assert_eq!(h.len(), 0);
    }

    #[test]
    fn events_come_out_in_time_order() {
        let got = run(&[(30, 3), (10, 1), (20, 2)], 100);
        assert_eq!(got, vec![(10, 1), (20, 2), (30, 3)]);
    }

    #[test]
    fn ties_resolve_in_scheduling_order() {
        let evs: Vec<_> = (0..100).map(|i| (5, i)).collect();
        let got = run(&evs, 10);
        assert_eq!(got, evs);
    }

    #[test]
    fn run_until_stops_at_the_horizon_and_keeps_later_events() {
        let mut sim = Simulation::new(Log(Vec::new()));
        sim.queue_mut().schedule_at(5, 1);
        sim.queue_mut().schedule_at(10, 2);
        sim.queue_mut().schedule_at(11, 3);
        assert_eq!(
            sim.run_until(10),
            2,
            "an event exactly at the horizon fires"
        );
        assert_eq!(sim.now(), 10);
        assert_eq!(sim.run_until(20), 1);
        assert_eq!(sim.model().0, vec![(5, 1), (10, 2), (11, 3)]);
        assert_eq!(sim.now(), 20);
    }

    #[test]
    fn cancelled_events_never_fire() {
        let mut sim = Simulation::new(Log(Vec::new()));
        let a = sim.queue_mut().schedule_at(5, 1);
        let b = sim.queue_mut().schedule_at(5, 2);
        sim.queue_mut().schedule_at(6, 3);
        assert!(sim.queue_mut().cancel(b));
        assert!(!sim.queue_mut().cancel(b), "cancelling twice is a no-op");
        assert_eq!(sim.queue_mut().len(), 2);
        sim.run_until(100);
        assert_eq!(sim.model().0, vec![(5, 1), (6, 3)]);
        assert!(
            !sim.queue_mut().cancel(a),
            "a fired event cannot be cancelled"
        );
        assert!(sim.queue_mut().is_empty());
    }

    #[test]
    fn an_event_in_the_past_runs_now() {
        struct Back(Vec<SimTime>);
        impl Model for Back {
            type Event = bool;
            fn handle(&mut self, now: SimTime, first: bool, q: &mut EventQueue<bool>) {
                self.0.push(now);
                if first {
                    q.schedule_at(0, false);
                }
            }
        }
        let mut sim = Simulation::new(Back(Vec::new()));
        sim.queue_mut().schedule_at(50, true);
        sim.run_until(100);
        assert_eq!(sim.model().0, vec![50, 50]);
    }

    #[test]
    fn events_scheduled_while_handling_interleave_correctly() {
        // Each event at t schedules another at t + 3; a fixed event sits at t = 4.
        struct Chain(Vec<(SimTime, u8)>);
        impl Model for Chain {
            type Event = u8;
            fn handle(&mut self, now: SimTime, ev: u8, q: &mut EventQueue<u8>) {
                self.0.push((now, ev));
                if ev == 0 {
                    q.schedule_in(3, 0);
                }
            }
        }
        let mut sim = Simulation::new(Chain(Vec::new()));
        sim.queue_mut().schedule_at(0, 0);
        sim.queue_mut().schedule_at(3, 9); // scheduled before the chain's t=3 event
        sim.run_until(6);
        assert_eq!(sim.model().0, vec![(0, 0), (3, 9), (3, 0), (6, 0)]);
        assert_eq!(sim.events_processed(), 4);
    }

    #[test]
    fn seconds_convert_both_ways() {
        assert_eq!(from_secs(1.5), 1_500_000_000);
        assert_eq!(from_secs(-1.0), 0);
        assert_eq!(from_secs(f64::NAN), 0);
        assert_eq!(from_secs(1e30), u64::MAX);
        assert_eq!(to_secs(2_500_000_000), 2.5);
        // The fast path rounds exactly like f64::round.
        for s in [0.5e-9, 1.5e-9, 2.4999e-9, 123.456_789_012_5, 3.0e9, 9.2e9] {
            assert_eq!(from_secs(s), (s * 1e9).round() as u64, "{s}");
        }
    }

    #[test]
    fn an_id_from_elsewhere_cancels_nothing() {
        let mut q: EventQueue<u8> = EventQueue::new();
        let mut other: EventQueue<u8> = EventQueue::new();
        for _ in 0..3 {
            other.schedule_at(1, 0);
        }
        let foreign = other.schedule_at(10, 0);
        q.schedule_at(1, 0);
        assert!(
            !q.cancel(foreign),
            "a sequence number this queue never issued"
        );
        assert_eq!(q.len(), 1);
    }
}
