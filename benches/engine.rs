//! Benchmark: raw throughput of the event engine (`engine::EventQueue` + `Simulation::run_until`)
//! on the smallest useful model, an M/M/c queue, reported as simulated requests per second
//! (each request is two events: its arrival and its departure).
//!
//! Target: at least 5 million requests per second (10 million events per second) on one core.
//!
//! Cases (group `mmc`): c = 1 at rho = 0.8, c = 8 at rho = 0.8, c = 64 at rho = 0.9, each
//! simulating a fixed 1,000,000 requests: arrivals stop being scheduled after the millionth, and
//! the run drains the queue, so every iteration serves exactly that many. Before anything is
//! timed, the model is checked against theory: for M/M/1 at rho = 0.8 the mean queueing wait
//! over 2,000,000 requests must be within 5% of rho / (mu - lambda), or the benchmark panics.

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use depinsim::core::engine::{EventQueue, Model, SimTime, Simulation, from_secs, to_secs};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp1};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Service rate of one server, per second (mean service time 1 ms = 1e6 ns, so rounding
/// sampled times to whole nanoseconds is negligible).
const MU: f64 = 1_000.0;
/// Requests simulated per timed iteration.
const REQUESTS: u64 = 1_000_000;
/// Requests in the pre-timing sanity check.
const CHECK_REQUESTS: u64 = 2_000_000;
/// Waiting-room capacity reserved up front: far above any queue length these loads reach, so
/// the steady state never allocates (a longer queue would still work, by growing once).
const QUEUE_CAPACITY: usize = 1 << 14;

/// The model's events: small, `Copy`, no payload (servers are interchangeable).
#[derive(Clone, Copy, Debug)]
enum Ev {
    Arrival,
    Departure,
}

/// An M/M/c queue: Poisson arrivals, `servers` identical exponential servers, one FIFO queue.
struct Mmc {
    rng: Xoshiro256PlusPlus,
    /// Mean interarrival time, seconds.
    mean_interarrival: f64,
    /// Mean service time, seconds.
    mean_service: f64,
    servers: u32,
    busy: u32,
    /// Arrival times of the requests waiting for a server, oldest first.
    waiting: VecDeque<SimTime>,
    /// Arrivals still to generate (the first is scheduled by hand).
    arrivals_left: u64,
    /// Sum over started requests of (service start - arrival), nanoseconds.
    total_wait: u128,
    /// Requests whose service has begun.
    started: u64,
    /// Requests whose service has ended.
    served: u64,
}

impl Mmc {
    fn new(servers: u32, rho: f64, requests: u64, seed: u64) -> Self {
        let lambda = rho * servers as f64 * MU;
        Self {
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            mean_interarrival: 1.0 / lambda,
            mean_service: 1.0 / MU,
            servers,
            busy: 0,
            waiting: VecDeque::with_capacity(QUEUE_CAPACITY),
            arrivals_left: requests,
            total_wait: 0,
            started: 0,
            served: 0,
        }
    }

    #[inline]
    fn exp(&mut self, mean: f64) -> SimTime {
        let x: f64 = Exp1.sample(&mut self.rng);
        from_secs(x * mean)
    }

    #[inline]
    fn start_service(&mut self, now: SimTime, arrived: SimTime, queue: &mut EventQueue<Ev>) {
        self.total_wait += (now - arrived) as u128;
        self.started += 1;
        let service = self.exp(self.mean_service);
        queue.schedule_in(service, Ev::Departure);
    }
}

impl Model for Mmc {
    type Event = Ev;

    #[inline]
    fn handle(&mut self, now: SimTime, ev: Ev, queue: &mut EventQueue<Ev>) {
        match ev {
            Ev::Arrival => {
                self.arrivals_left -= 1;
                if self.arrivals_left > 0 {
                    let gap = self.exp(self.mean_interarrival);
                    queue.schedule_in(gap, Ev::Arrival);
                }
                if self.busy < self.servers {
                    self.busy += 1;
                    self.start_service(now, now, queue);
                } else {
                    self.waiting.push_back(now);
                }
            }
            Ev::Departure => {
                self.served += 1;
                match self.waiting.pop_front() {
                    // The freed server takes the oldest waiting request.
                    Some(arrived) => self.start_service(now, arrived, queue),
                    None => self.busy -= 1,
                }
            }
        }
    }
}

/// Outcome of one run, returned (and black-boxed) so the work cannot be optimized away.
#[derive(Clone, Copy, Debug)]
struct Outcome {
    total_wait: u128,
    served: u64,
    events: u64,
}

/// Simulates `requests` requests of an M/M/c queue to completion.
fn run_mmc(servers: u32, rho: f64, requests: u64, seed: u64) -> Outcome {
    let mut sim = Simulation::new(Mmc::new(servers, rho, requests, seed));
    if requests > 0 {
        sim.queue_mut().schedule_at(0, Ev::Arrival);
    }
    let events = sim.run_until(SimTime::MAX);
    let m = sim.model();
    Outcome {
        total_wait: m.total_wait,
        served: m.served,
        events,
    }
}

/// Panics unless the simulated M/M/1 (rho = 0.8) mean queueing wait matches theory within 5%.
fn sanity_check() {
    let rho = 0.8;
    let lambda = rho * MU;
    let expected = rho / (MU - lambda); // seconds: 4 ms
    let out = run_mmc(1, rho, CHECK_REQUESTS, 0x5EED);
    assert_eq!(
        out.served, CHECK_REQUESTS,
        "M/M/1 sanity check: served {} requests, expected {CHECK_REQUESTS}",
        out.served
    );
    assert_eq!(
        out.events,
        2 * CHECK_REQUESTS,
        "M/M/1 sanity check: {} events handled, expected 2 per request",
        out.events
    );
    let mean = to_secs((out.total_wait / out.served as u128) as SimTime);
    let rel = (mean - expected).abs() / expected;
    assert!(
        rel <= 0.05,
        "M/M/1 sanity check failed: mean queueing wait {:.6} s over {CHECK_REQUESTS} requests \
         at rho = {rho}, theory rho/(mu - lambda) = {expected:.6} s ({:.2}% off, limit 5%): \
         the model or the engine is wrong, so its timings would be meaningless",
        mean,
        rel * 100.0
    );
    eprintln!(
        "M/M/1 sanity check passed: mean wait {:.4} ms vs theory {:.4} ms ({:+.2}%)",
        mean * 1e3,
        expected * 1e3,
        (mean - expected) / expected * 100.0
    );
}

fn bench_mmc(c: &mut Criterion) {
    sanity_check();

    let mut group = c.benchmark_group("mmc");
    // Each iteration takes ~0.1 s: flat sampling keeps 10 samples within the time budget.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(REQUESTS));
    for &(servers, rho) in &[(1u32, 0.8f64), (8, 0.8), (64, 0.9)] {
        let id = BenchmarkId::from_parameter(format!("c={servers}/rho={rho}"));
        group.bench_with_input(id, &(servers, rho), |b, &(servers, rho)| {
            let mut seed = 0u64;
            b.iter(|| {
                seed += 1;
                let out = run_mmc(black_box(servers), black_box(rho), REQUESTS, seed);
                debug_assert_eq!(out.served, REQUESTS);
                black_box(out)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_mmc);
criterion_main!(benches);
