//! Replications: each is an independent run of the world with its own seed, derived from the
//! master seed and its index; they run in parallel on a rayon pool and come back in index
//! order, so results do not depend on the thread count. A sweep's variants are expanded from
//! its design in [`design`], its cells (variant x replication) run in [`sweep`], and a
//! sensitivity design's indices come from [`sensitivity`]; [`capacity`] bisects a parameter
//! for the latency-objective attainment.

pub mod capacity;
pub mod design;
pub mod sensitivity;
pub mod sweep;

use rayon::prelude::*;

use crate::core::engine::Simulation;
use crate::core::rng::Streams;
use crate::scenario::Scenario;
use crate::sim::world::{ReplicationOutput, World};

/// Runs replication `index` of `s` to its horizon.
pub fn run_replication(s: &Scenario, index: u32) -> ReplicationOutput {
    let streams = Streams::new(s.seed(), u64::from(index));
    let mut sim = Simulation::new(World::new(s, index, &streams));
    let (world, queue) = sim.parts_mut();
    world.start(queue);
    sim.run_until(s.horizon());
    let events = sim.events_processed();
    sim.into_model().finish(s.horizon(), events)
}

/// The worker threads a run of `s` will use when `threads` are asked for (0: one per core):
/// never more than there are replications.
pub fn threads_for(s: &Scenario, threads: usize) -> usize {
    worker_threads(threads, s.replications() as usize)
}

/// The worker threads for `tasks` independent tasks when `threads` are asked for (0: one
/// per core): never more than there are tasks, at least one.
pub fn worker_threads(threads: usize, tasks: usize) -> usize {
    let asked = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    asked.min(tasks).max(1)
}

/// Runs every replication of `s` on `threads` threads (see [`threads_for`]), calling `done`
/// after each. Outputs are in replication order.
pub fn run_all(
    s: &Scenario,
    threads: usize,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<ReplicationOutput>, rayon::ThreadPoolBuildError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads_for(s, threads))
        .build()?;
    Ok(pool.install(|| {
        (0..s.replications())
            .into_par_iter()
            .map(|i| {
                let out = run_replication(s, i);
                done();
                out
            })
            .collect()
    }))
}
