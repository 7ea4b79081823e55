//! `depinsim check`: a run (read from its directory, or a scenario run first) against a
//! baseline; `--self-test` is in [`super::self_test`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use depinsim::cli::CheckArgs;
use depinsim::core::digest::sha256_hex;
use depinsim::export::baseline::Baseline;
use depinsim::export::check::CheckReport;
use depinsim::export::file::WriteError;
use depinsim::export::json::summary_text;
use depinsim::export::run::{RunDir, read_run};
use depinsim::metrics::Metrics;
use depinsim::metrics::regression::check as judge;
use depinsim::report;
use depinsim::scenario::overrides::{Override, parse_override};
use depinsim::scenario::{Scenario, load_file};

use super::Usage;

/// A run to check: its scenario's name, summary.json's SHA-256, each replication's seed
/// and metrics, and (read from a run's directory) the overrides it ran with.
struct Checked {
    scenario: String,
    summary_sha256: String,
    replications: Vec<(u64, Metrics)>,
    overrides: Option<Vec<String>>,
}

/// Checks the run and writes check.json (and the JUnit file); the exit code is the
/// outcome's.
pub(super) fn check(args: CheckArgs) -> Result<ExitCode> {
    let baseline = Baseline::read(&args.baseline)?;
    if args.self_test {
        return super::self_test::self_test(&args, &baseline);
    }
    let json = if args.target.is_dir() {
        if args.out.is_some() || !args.set.is_empty() {
            return Err(Usage(format!(
                "{} is a run's directory: --out and --set apply to a scenario run by `check`\n    fix: drop them, or give the scenario file",
                args.target.display()
            ))
            .into());
        }
        Some(
            args.json
                .clone()
                .unwrap_or_else(|| args.target.join("check.json")),
        )
    } else {
        args.json
            .clone()
            .or_else(|| args.out.as_ref().map(|d| d.join("check.json")))
    };
    for (path, what) in json
        .iter()
        .map(|p| (p, "--json"))
        .chain(args.junit.iter().map(|p| (p, "--junit")))
    {
        writable(path, what, args.force)?;
    }
    let run = if args.target.is_dir() {
        let r = read_run(&args.target)?;
        Checked {
            scenario: r.scenario,
            summary_sha256: r.summary_sha256,
            replications: r.replications,
            overrides: r.overrides,
        }
    } else if args.target.is_file() {
        run_scenario(&args, &baseline)?
    } else {
        return Err(Usage(format!(
            "{} is neither a run's directory nor a scenario file\n    fix: give the --out of `depinsim run`, or a scenario YAML file",
            args.target.display()
        ))
        .into());
    };
    same_scenario(&run.scenario, &baseline, &args.baseline)?;
    let pairs = paired(&run.replications, &baseline, &args.baseline)?;
    let run_replications = run.replications.len();
    let metrics: Vec<Metrics> = run
        .replications
        .into_iter()
        .take(pairs)
        .map(|r| r.1)
        .collect();
    let checked =
        judge(&baseline.values(), &metrics, &baseline.margins, true).with_replications_needed();
    let mut report = CheckReport::new(
        &baseline,
        &args.baseline,
        &run.summary_sha256,
        &checked,
        pairs,
    );
    if run_replications != baseline.seeds.len() {
        report.add_note(&format!(
            "the run has {} replications and the baseline {}: the first {pairs} were paired",
            run_replications,
            baseline.seeds.len()
        ));
    }
    if let Some(ovs) = run.overrides.as_ref().filter(|o| **o != baseline.overrides) {
        report.add_note(&format!(
            "the run's overrides {ovs:?} are not the baseline's {:?}",
            baseline.overrides
        ));
    }
    let unwritable = |what: &str, path: &Path, e: WriteError| {
        Usage(format!(
            "cannot write {what} {}: {:#}\n    fix: give a path in a folder you can write",
            path.display(),
            anyhow::Error::from(e)
        ))
    };
    if let Some(path) = &args.junit {
        report
            .write_junit(path, args.force)
            .map_err(|e| unwritable("the JUnit file", path, e))?;
    }
    if let Some(path) = &json {
        report
            .write_json(path, args.force)
            .map_err(|e| unwritable("check.json", path, e))?;
    }
    let table = report::check::table(&report, args.all);
    if args.quiet {
        if let Some(last) = table.lines().last() {
            out!("{last}");
        }
    } else {
        out!("{table}");
    }
    Ok(ExitCode::from(report.exit_code))
}

/// Refuses `path` (the file of option `what`) before anything runs: it exists and `force` is
/// not given, or its folder cannot be made.
fn writable(path: &Path, what: &str, force: bool) -> Result<()> {
    if path.exists() && !force {
        return Err(Usage(format!(
            "{} exists\n    fix: give {what} another file, or --force to replace it",
            path.display()
        ))
        .into());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            Usage(format!(
                "cannot make the folder of {what} {}: {e}\n    fix: give a path in a folder you can write",
                path.display()
            ))
        })?;
    }
    Ok(())
}

/// A run of scenario `name` is checked only against a baseline of the same name.
fn same_scenario(name: &str, baseline: &Baseline, file: &Path) -> Result<()> {
    if name == baseline.scenario {
        return Ok(());
    }
    Err(Usage(format!(
        "{} is a baseline of scenario `{}`, but the run is of `{name}`\n    fix: give the baseline of `{name}` (`depinsim baseline` writes one)",
        file.display(),
        baseline.scenario,
    ))
    .into())
}

/// How many replications pair with the baseline's: the run's replication i must have run
/// on the baseline's seed i.
fn paired(run: &[(u64, Metrics)], baseline: &Baseline, file: &Path) -> Result<usize> {
    let n = run.len().min(baseline.seeds.len());
    if let Some(i) = (0..n).find(|&i| run[i].0 != baseline.seeds[i]) {
        return Err(Usage(format!(
            "replication {i} of the run ran on seed {}, the baseline's ({}) on {}: they do not share seeds, so they cannot be paired\n    fix: run on the baseline's master seed ({}), or write the baseline again",
            run[i].0,
            file.display(),
            baseline.seeds[i],
            baseline.seed
        ))
        .into());
    }
    if n < 2 {
        return Err(Usage(format!(
            "the run has {n} replication(s) to pair with the baseline's; the check needs at least 2\n    fix: run it with --replications {}",
            baseline.replications
        ))
        .into());
    }
    Ok(n)
}

/// The baseline's scenario as `check SCENARIO` runs it: the baseline's overrides, then
/// `seed` and its replication count, then `extra` (so a `--set` of the seed shows as a run
/// that cannot be paired rather than being ignored).
pub(super) fn scenario_of(
    file: &Path,
    baseline: &Baseline,
    extra: &[String],
    seed: u64,
) -> Result<(Scenario, Vec<Override>)> {
    let mut ovs = Vec::new();
    for text in &baseline.overrides {
        ovs.push(parse_override(text).map_err(|m| {
            Usage(format!(
                "the baseline's override `{text}`: {m}\n    fix: write the baseline again"
            ))
        })?);
    }
    let sim = |key, value| Override::field(&["simulation", key], value);
    ovs.push(sim("seed", seed.into()));
    ovs.push(sim("replications", baseline.replications.into()));
    ovs.extend(super::overrides(extra)?);
    Ok((load_file(file, &ovs)?, ovs))
}

/// Runs the scenario `args.target` as the baseline was run (writing its directory to
/// `--out` when given).
fn run_scenario(args: &CheckArgs, baseline: &Baseline) -> Result<Checked> {
    let (scenario, ovs) = scenario_of(&args.target, baseline, &args.set, baseline.seed)?;
    same_scenario(scenario.name(), baseline, &args.baseline)?;
    let threads = super::memory::admit_run(&scenario, args.threads, args.max_memory, "the run")?;
    let run_dir = args
        .out
        .as_ref()
        .map(|d| RunDir::create(d, args.force))
        .transpose()?;
    let sim = super::run::simulate(&scenario, args.threads, args.quiet)?;
    let summary_sha256 = sha256_hex(summary_text(&scenario, &sim.0)?.as_bytes());
    if let Some(dir) = run_dir {
        let texts = ovs.into_iter().map(|o| o.text).collect();
        super::run::write_results(&dir, &scenario, &args.target, texts, threads, &sim)?;
        let _: PathBuf = dir.commit()?;
    }
    Ok(Checked {
        scenario: scenario.name().to_string(),
        summary_sha256,
        replications: sim.3,
        overrides: None,
    })
}
