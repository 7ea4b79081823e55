//! `depinsim baseline`: run a scenario and write the baseline file `check` compares runs
//! with; with `--update`, write the new one beside the old and print what changed.

use std::process::ExitCode;

use anyhow::Result;
use depinsim::cli::BaselineArgs;
use depinsim::core::digest::sha256_hex;
use depinsim::export::baseline::{Baseline, default_path, pending_path};
use depinsim::export::check::CheckReport;
use depinsim::export::json::summary_text;
use depinsim::metrics::Metrics;
use depinsim::metrics::regression::{Margins, check};
use depinsim::report;
use depinsim::scenario::load_file;
use depinsim::scenario::overrides::Override;

use super::Usage;

/// Writes the baseline (or, with `--update`, the pending one).
pub(super) fn baseline(args: BaselineArgs) -> Result<ExitCode> {
    let mut ovs = super::overrides(&args.set)?;
    let sim_field = |key, value| Override::field(&["simulation", key], value);
    ovs.extend(args.seed.map(|seed| sim_field("seed", seed.into())));
    ovs.extend(
        args.replications
            .map(|r| sim_field("replications", r.into())),
    );
    let scenario = load_file(&args.scenario, &ovs)?;
    if scenario.replications() < 2 {
        return Err(Usage(format!(
            "{}: {} replication(s); a baseline needs at least 2 for the statistical tier of `check`\n    fix: give --replications 8 (or set simulation.replications)",
            args.scenario.display(),
            scenario.replications()
        ))
        .into());
    }
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| default_path(&args.scenario));
    let old = if args.update {
        if !path.is_file() {
            return Err(Usage(format!(
                "--update: {} does not exist\n    fix: write it first, without --update",
                path.display()
            ))
            .into());
        }
        Some(Baseline::read(&path)?)
    } else {
        None
    };
    let target = if args.update {
        pending_path(&path)
    } else {
        path.clone()
    };
    if target.exists() && !args.force {
        if args.update {
            return Err(Usage(format!(
                "{} exists: a pending baseline not yet accepted\n    fix: review it and rename it over {}, or delete it, or give --force to replace it",
                target.display(),
                path.display()
            ))
            .into());
        }
        return Err(Usage(format!(
            "{} exists\n    fix: give --update to write the new baseline beside it (as {}) and see what changed, or --force to replace it",
            target.display(),
            pending_path(&path).display()
        ))
        .into());
    }
    super::memory::admit_run(&scenario, args.threads, args.max_memory, "the run")?;
    let (summary, _, _, replications) = super::run::simulate(&scenario, args.threads, args.quiet)?;
    let sha = sha256_hex(summary_text(&scenario, &summary)?.as_bytes());
    // The margins are the reviewed part of a baseline: a replaced one (--force) keeps those
    // of the file it replaces, as --update does, when that file is a baseline.
    let replaced = (!args.update && args.force && path.is_file())
        .then(|| Baseline::read(&path).ok())
        .flatten();
    let margins = old
        .as_ref()
        .or(replaced.as_ref())
        .map_or_else(Margins::default, |b| b.margins.clone());
    let new = Baseline::new(
        scenario.name(),
        scenario.identity(),
        &args.scenario.display().to_string(),
        ovs.into_iter().map(|o| o.text).collect(),
        scenario.seed(),
        &replications,
        sha,
        margins,
    );
    new.write(&target, args.force)?;
    match &old {
        Some(old) => out!("{}", changes(old, &new, &replications, &path)),
        None if !args.quiet && replaced.is_some() => out!(
            "wrote {}: {} metrics over {} replications (seed {}); margins kept from the file it replaced",
            target.display(),
            new.metrics.len(),
            new.replications,
            new.seed,
        ),
        None if !args.quiet => out!(
            "wrote {}: {} metrics over {} replications (seed {}); margins: {:.0}% of the baseline, at least {}, either way (edit `margins` to change them)",
            target.display(),
            new.metrics.len(),
            new.replications,
            new.seed,
            100.0 * new.margins.default.relative,
            new.margins.default.absolute
        ),
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// What the pending baseline `new` changes against `old` (at `path`), as `check` would
/// judge it, and how to accept it.
fn changes(
    old: &Baseline,
    new: &Baseline,
    reps: &[(u64, Metrics)],
    path: &std::path::Path,
) -> String {
    let pending = pending_path(path);
    let accept = format!(
        "to accept it: mv {} {} (and review the diff)",
        pending.display(),
        path.display()
    );
    if old.scenario != new.scenario || old.seeds != new.seeds {
        return format!(
            "wrote {}; it is of scenario `{}` on seeds {:?}, the old one of `{}` on {:?}, so the two are not compared\n{accept}",
            pending.display(),
            new.scenario,
            new.seeds,
            old.scenario,
            old.seeds
        );
    }
    let metrics: Vec<Metrics> = reps.iter().map(|r| r.1.clone()).collect();
    let checked = check(&old.values(), &metrics, &old.margins, true).with_replications_needed();
    let pairs = metrics.len().min(old.seeds.len());
    let r = CheckReport::new(old, path, &new.summary_sha256, &checked, pairs);
    format!(
        "wrote {}; against the old baseline:\n{}\n{accept}",
        pending.display(),
        report::check::table(&r, false)
    )
}
