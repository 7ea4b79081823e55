//! A sweep's cells (one replication of one variant) on a rayon pool. Each variant's scenario
//! is loaded when its first cell is due and dropped after its last, and every finished cell
//! goes straight to a sink (which writes it), so memory holds the variants in flight, not the
//! sweep. Replication i of every variant runs on the same seed and named streams: common
//! random numbers, so differences between variants are paired.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use super::{run_replication, worker_threads};
use crate::scenario::Scenario;
use crate::sim::world::ReplicationOutput;

/// The replications still to run of one variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantWork {
    /// The variant's position in the design.
    pub variant: usize,
    /// Its replications not yet run, in order.
    pub replications: Vec<u32>,
}

/// What stops a variant: its loading or its sink failed.
#[derive(Debug)]
pub struct CellFailure<E> {
    /// The variant's position in the design.
    pub variant: usize,
    /// Why.
    pub error: E,
}

/// Runs every cell of `work` on `threads` threads (0: one per core). `load` gives a
/// variant's scenario, `sink` receives each finished replication, and `finish` is called
/// once a variant's cells are all done (its summary can then be written). On a failure the
/// variant's
/// remaining cells are skipped; unless `keep_going`, so are every other variant's cells not
/// yet started. Returns the failures, in the design's order.
///
/// # Errors
/// The thread pool could not be started.
pub fn run_cells<E: Send>(
    work: &[VariantWork],
    threads: usize,
    keep_going: bool,
    load: &(dyn Fn(usize) -> Result<Scenario, E> + Sync),
    sink: &(dyn Fn(usize, u32, &ReplicationOutput) -> Result<(), E> + Sync),
    finish: &(dyn Fn(usize, &Scenario) -> Result<(), E> + Sync),
) -> Result<Vec<CellFailure<E>>, rayon::ThreadPoolBuildError> {
    let cells: usize = work.iter().map(|w| w.replications.len()).sum();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(worker_threads(threads, cells))
        .build()?;
    let stop = AtomicBool::new(false);
    let mut failures: Vec<CellFailure<E>> = pool.install(|| {
        work.par_iter()
            .filter_map(|w| {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
                let fail = |error| {
                    if !keep_going {
                        stop.store(true, Ordering::Relaxed);
                    }
                    Some(CellFailure {
                        variant: w.variant,
                        error,
                    })
                };
                let scenario = match load(w.variant) {
                    Ok(s) => s,
                    Err(e) => return fail(e),
                };
                let failed = AtomicBool::new(false);
                let errors: Vec<E> = w
                    .replications
                    .par_iter()
                    .filter_map(|&r| {
                        if stop.load(Ordering::Relaxed) || failed.load(Ordering::Relaxed) {
                            return None;
                        }
                        let out = run_replication(&scenario, r);
                        let result = sink(w.variant, r, &out);
                        result
                            .err()
                            .inspect(|_| failed.store(true, Ordering::Relaxed))
                    })
                    .collect();
                match errors.into_iter().next() {
                    Some(e) => fail(e),
                    None if stop.load(Ordering::Relaxed) => None,
                    None => finish(w.variant, &scenario).err().and_then(fail),
                }
            })
            .collect()
    });
    failures.sort_by_key(|f| f.variant);
    Ok(failures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;
    use std::sync::Mutex;

    const TINY: &str = "
simulation: {horizon_h: 0.05, warmup_h: 0.01, replications: 3, seed: 5}
regions: [{name: r}]
providers: [{name: p, region: r, gpu: h100_sxm, count: 1, hourly_cost_usd: 2}]
inference: {users: [{region: r, rate_per_s: 2}]}
";

    #[test]
    fn every_cell_reaches_the_sink_once_and_failures_stop_their_variant() {
        let work = vec![
            VariantWork {
                variant: 0,
                replications: vec![0, 1, 2],
            },
            VariantWork {
                variant: 1,
                replications: vec![1],
            },
            VariantWork {
                variant: 2,
                replications: vec![0, 1],
            },
        ];
        let seen = Mutex::new(Vec::new());
        let load = |v: usize| {
            if v == 2 {
                Err("no such file".to_string())
            } else {
                load_str(TINY, "t", "t", &[]).map_err(|e| e.to_string())
            }
        };
        let sink = |v: usize, r: u32, out: &ReplicationOutput| {
            assert!(out.events > 0);
            seen.lock().expect("lock").push((v, r));
            Ok(())
        };
        let finished = Mutex::new(Vec::new());
        let finish = |v: usize, _: &Scenario| {
            finished.lock().expect("lock").push(v);
            Ok(())
        };
        let failures = run_cells(&work, 2, true, &load, &sink, &finish).expect("pool");
        let mut finished = finished.into_inner().expect("lock");
        finished.sort_unstable();
        assert_eq!(finished, [0, 1]);
        let mut seen = seen.into_inner().expect("lock");
        seen.sort_unstable();
        assert_eq!(seen, [(0, 0), (0, 1), (0, 2), (1, 1)]);
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].variant, 2);
        assert_eq!(failures[0].error, "no such file");
    }

    #[test]
    fn a_cell_is_the_same_run_as_a_replication_of_run() {
        let s = load_str(TINY, "t", "t", &[]).expect("valid");
        let direct = run_replication(&s, 1).metrics;
        let got = Mutex::new(None);
        let work = [VariantWork {
            variant: 0,
            replications: vec![1],
        }];
        let load = |_| load_str(TINY, "t", "t", &[]).map_err(|e| e.to_string());
        let sink = |_, _, out: &ReplicationOutput| {
            *got.lock().expect("lock") = Some(out.metrics.clone());
            Ok(())
        };
        let finish = |_, _: &Scenario| Ok(());
        assert!(
            run_cells(&work, 1, false, &load, &sink, &finish)
                .expect("pool")
                .is_empty()
        );
        assert_eq!(got.into_inner().expect("lock"), Some(direct));
    }
}
