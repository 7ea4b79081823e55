//! `depinsim check --self-test`: neutral changes of the baseline's scenario emulated (the run
//! on other seeds, paired with the baseline by replication index), judged as `check` judges
//! a run: the measured false-alarm rate and each metric's detectable change.

use std::process::ExitCode;

use anyhow::{Context, Result};
use depinsim::cli::CheckArgs;
use depinsim::core::rng::{fnv1a64, mix};
use depinsim::experiment::run_all;
use depinsim::export::baseline::Baseline;
use depinsim::export::check::write_self_test;
use depinsim::export::file::WriteError;
use depinsim::metrics::Metrics;
use depinsim::metrics::self_test::self_test as measure;
use depinsim::report;

use super::Usage;
use super::check::scenario_of;

/// The master seed of self-test trial `k` of a baseline on `seed`: a stream of its own, so
/// that no trial reuses the baseline's seeds.
pub fn trial_seed(seed: u64, k: u64) -> u64 {
    mix(mix(seed, fnv1a64("check self-test")), k)
}

/// Runs the trials and prints (and with `--json`, writes) what they measured.
pub(super) fn self_test(args: &CheckArgs, baseline: &Baseline) -> Result<ExitCode> {
    if !args.target.is_file() {
        return Err(Usage(format!(
            "--self-test: {} is not a scenario file\n    fix: give the scenario the baseline was written from",
            args.target.display()
        ))
        .into());
    }
    if let Some(path) = args.json.as_ref().filter(|p| p.exists() && !args.force) {
        return Err(WriteError::Exists(path.clone()).into());
    }
    let (scenario, _) = scenario_of(&args.target, baseline, &args.set, baseline.seed)?;
    if scenario.name() != baseline.scenario || scenario.identity() != baseline.scenario_identity {
        return Err(Usage(format!(
            "--self-test: {} (with the baseline's overrides) is not the scenario {} was written from (`{}`)\n    fix: give that scenario, unchanged, or write the baseline again",
            args.target.display(),
            args.baseline.display(),
            baseline.scenario
        ))
        .into());
    }
    super::memory::admit_run(&scenario, args.threads, args.max_memory, "each trial")?;
    let trials = u64::from(args.trials);
    let bar = super::progress_bar(
        trials,
        args.quiet,
        "{spinner} neutral changes {pos}/{len} [{bar:30}] {elapsed_precise}",
    );
    let mut runs: Vec<Vec<Metrics>> = Vec::new();
    for k in 0..trials {
        let seed = trial_seed(baseline.seed, k);
        let (s, _) = scenario_of(&args.target, baseline, &args.set, seed)?;
        let outputs = run_all(&s, usize::from(args.threads), &|| ())
            .context("cannot start worker threads")?;
        runs.push(outputs.into_iter().map(|o| o.metrics).collect());
        bar.inc(1);
    }
    bar.finish_and_clear();
    let measured = measure(&baseline.values(), &runs, &baseline.margins);
    if let Some(path) = &args.json {
        write_self_test(path, &measured, args.force)?;
    }
    out!(
        "{}",
        report::check::self_test(&measured, &baseline.scenario)
    );
    Ok(ExitCode::SUCCESS)
}
