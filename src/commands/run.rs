//! `depinsim run` and `depinsim viability`: load the scenario, run its replications, write
//! the output directory, print the tables.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use depinsim::cli::RunArgs;
use depinsim::core::rng::replication_seed;
use depinsim::experiment::run_all;
use depinsim::export::json::{RunCost, RunInfo};
use depinsim::export::run::{RunDir, RunResults};
use depinsim::metrics::{EpochRow, MetricSummary, Metrics, aggregate};
use depinsim::report;
use depinsim::scenario::overrides::Override;
use depinsim::scenario::{Scenario, load_file};

/// Runs the scenario and writes its outputs; with `viability`, also the viability table.
pub(super) fn run(args: RunArgs, viability: bool) -> Result<ExitCode> {
    let opts = &args.options;
    let ovs = super::run_overrides(opts)?;
    let scenario = load_file(&args.scenario, &ovs)?;
    let threads = super::memory::admit_run(&scenario, opts.threads, opts.max_memory, "the run")?;
    let ovs_given = ovs.clone();
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| super::default_out(&args.scenario));
    let run_dir = RunDir::create(&out, opts.force)?;

    let sim = simulate(&scenario, opts.threads, opts.quiet)?;
    let ovs = ovs.into_iter().map(|o| o.text).collect();
    let info = write_results(&run_dir, &scenario, &args.scenario, ovs, threads, &sim)?;
    let summary = sim.0;
    let mut table = viability.then(|| report::viability::table(&scenario, &summary));
    if let Some(t) = &mut table
        && report::viability::wants_packed_run(&scenario)
    {
        // The same scenario with the network packing requests into as few replicas as it
        // can: the network's cost at its best batching, beside the cost as it dispatches.
        let mut packed_ovs = ovs_given.clone();
        packed_ovs.push(Override::field(&["inference", "dispatch"], "pack".into()));
        let packed = load_file(&args.scenario, &packed_ovs)?;
        let (packed_summary, _, _, _) = simulate(&packed, opts.threads, opts.quiet)?;
        report::viability::add_packed_rows(t, &packed, &packed_summary);
    }
    if let Some(t) = &table {
        run_dir.write_viability(t)?;
    }
    let dir = run_dir.commit()?;
    let charts = if args.no_report {
        None
    } else {
        Some(super::report::write(&dir).with_context(|| {
            format!(
                "the run was written to {}, but not its report (`depinsim report` draws it)",
                dir.display()
            )
        })?)
    };
    if let Some(t) = &table {
        out!("{}", report::viability::render(t));
    }
    if !opts.quiet {
        out!("{}", report::run::headline(&info, &summary));
        match charts {
            Some(n) => out!(
                "wrote {} (report.html, report.md and {n} charts)",
                dir.display()
            ),
            None => out!("wrote {}", dir.display()),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a run's files (`run_dir` is committed by the caller) and returns its provenance:
/// `file` the scenario as given, `ovs` the overrides' texts, `threads` those used.
pub(super) fn write_results(
    run_dir: &RunDir,
    scenario: &Scenario,
    file: &std::path::Path,
    ovs: Vec<String>,
    threads: usize,
    sim: &Simulated,
) -> Result<RunInfo> {
    let (summary, rows, cost, replications) = sim;
    let info = RunInfo::new(scenario, file, ovs, threads, *cost);
    run_dir.write_results(&RunResults {
        scenario,
        summary,
        info: &info,
        rows,
        replications,
    })?;
    Ok(info)
}

/// What a run produced: the summary, the time series, what the simulation cost (file
/// output excluded), and each replication's seed and metrics.
pub(super) type Simulated = (
    BTreeMap<String, MetricSummary>,
    Vec<EpochRow>,
    RunCost,
    Vec<(u64, Metrics)>,
);

/// Every replication of `s` (a progress bar on a terminal unless `quiet`), combined.
pub(super) fn simulate(s: &Scenario, threads: u16, quiet: bool) -> Result<Simulated> {
    let progress = super::progress_bar(
        u64::from(s.replications()),
        quiet,
        "{spinner} replications {pos}/{len} [{bar:30}] {elapsed_precise}",
    );
    let started_unix_s = started_unix_s();
    let start = Instant::now();
    let tick = || progress.inc(1);
    let outputs = run_all(s, usize::from(threads), &tick).context("cannot start worker threads")?;
    let wall_s = start.elapsed().as_secs_f64();
    progress.finish_and_clear();

    let metrics: Vec<_> = outputs.iter().map(|o| o.metrics.clone()).collect();
    let rows = outputs
        .iter()
        .flat_map(|o| o.rows.iter().cloned())
        .collect();
    let cost = RunCost {
        started_unix_s,
        wall_s,
        events: outputs.iter().map(|o| o.events).sum(),
        requests: outputs.iter().map(|o| o.requests).sum(),
    };
    let summary = aggregate(&metrics);
    let replications = metrics
        .into_iter()
        .enumerate()
        .map(|(i, m)| (replication_seed(s.seed(), i as u64), m))
        .collect();
    Ok((summary, rows, cost, replications))
}

fn started_unix_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{Usage, default_out, run_overrides};
    use clap::Parser;
    use depinsim::cli::{Cli, Command};
    use depinsim::scenario::overrides::parse_override;
    use std::path::Path;

    fn run_args(args: &[&str]) -> RunArgs {
        let argv = ["depinsim", "run", "s.yaml"].iter().chain(args);
        match Cli::try_parse_from(argv).expect("valid arguments").command {
            Command::Run(a) => a,
            c => panic!("parsed as {c:?}"),
        }
    }

    #[test]
    fn seed_and_replications_are_the_overrides_they_stand_for() {
        let a = run_args(&[
            "--replications",
            "3",
            "--set",
            "simulation.horizon_h=2",
            "--seed",
            "18446744073709551615",
        ]);
        let want = [
            "simulation.horizon_h=2",
            "simulation.seed=18446744073709551615",
            "simulation.replications=3",
        ];
        let got = run_overrides(&a.options).expect("overrides");
        assert_eq!(got, want.map(|t| parse_override(t).expect("parses")));
        assert!(
            run_overrides(&run_args(&[]).options)
                .expect("none")
                .is_empty()
        );
        let bad = run_overrides(&run_args(&["--set", "simulation"]).options).expect_err("no =");
        assert!(bad.is::<Usage>(), "{bad:#}");
    }

    #[test]
    fn the_default_output_directory_is_named_after_the_file() {
        assert_eq!(
            default_out(Path::new("scenarios/quickstart.yaml")),
            Path::new("output/quickstart")
        );
        assert_eq!(default_out(Path::new("/")), Path::new("output/run"));
    }
}
