//! The subcommands, one file each: pipelines from arguments to the library, whose results
//! go to `export` (files) and `report` (text). This file dispatches, maps errors to exit
//! codes and holds what the subcommands share. `anyhow` lives only in the binary.

use std::process::ExitCode;

use anyhow::Result;
use depinsim::cli::{Cli, Command, RunOptions};
use depinsim::export::baseline::BaselineError;
use depinsim::export::file::WriteError;
use depinsim::export::outdir::OutDirError;
use depinsim::export::report::ReportInputError;
use depinsim::export::run::NotARun;
use depinsim::export::sweep::SweepDirError;
use depinsim::scenario::overrides::{Override, parse_override};
use depinsim::scenario::sweep::sweep_schema_json;
use depinsim::scenario::{LoadError, schema_json};

/// Writes a line to standard output; a closed pipe (`depinsim schema | head`) is not an error.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// Writes a line to standard error, ignoring a closed pipe.
macro_rules! err {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

mod baseline;
mod calibrate;
mod capacity;
mod check;
mod compare;
mod manual;
mod memory;
mod merge;
mod onchain;
mod report;
mod run;
mod self_test;
mod slurm;
mod sweep;
mod sweep_finish;
mod sweep_plan;
mod sweep_target;
mod validate;

/// A usage error that is not a scenario problem (bad --set syntax, say): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

/// Exit code for an error: 2 when the user's input is at fault, 1 otherwise.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    let usage = e.chain().any(|c| {
        c.is::<LoadError>()
            || c.is::<BaselineError>()
            || c.is::<ReportInputError>()
            || c.is::<NotARun>()
            || c.is::<Usage>()
            || matches!(c.downcast_ref::<WriteError>(), Some(WriteError::Exists(_)))
            || matches!(
                c.downcast_ref::<SweepDirError>(),
                Some(SweepDirError::Incompatible { .. })
            )
            || matches!(
                c.downcast_ref::<OutDirError>(),
                Some(
                    OutDirError::NotEmpty(_)
                        | OutDirError::NotADirectory(_)
                        | OutDirError::Unusable { .. }
                )
            )
    });
    if usage { 2 } else { 1 }
}

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(args, false),
        Command::Viability(args) => run::run(args, true),
        Command::Validate(args) => validate::validate(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Compare(args) => compare::compare(args),
        Command::Merge(args) => merge::merge(args),
        Command::Capacity(args) => capacity::capacity(args),
        Command::Baseline(args) => baseline::baseline(args),
        Command::Check(args) => check::check(args),
        Command::Schema(args) => {
            if args.sweep {
                out!("{}", sweep_schema_json());
            } else {
                out!("{}", schema_json());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Calibrate(a) => calibrate::calibrate(a),
        Command::Report(a) => report::report(a),
        Command::Completions(a) => manual::completions(a),
        Command::Man(a) => manual::man(a),
        Command::Onchain(a) => Ok(onchain::onchain(a)),
    }
}

/// The `--set` overrides, then those `--seed` and `--replications` stand for.
fn run_overrides(o: &RunOptions) -> Result<Vec<Override>> {
    let mut ovs = overrides(&o.set)?;
    let sim = |key, value| Override::field(&["simulation", key], value);
    ovs.extend(o.seed.map(|seed| sim("seed", seed.into())));
    ovs.extend(o.replications.map(|r| sim("replications", r.into())));
    Ok(ovs)
}

/// `output/<file stem>`.
fn default_out(file: &std::path::Path) -> std::path::PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    std::path::PathBuf::from("output").join(stem)
}

/// The `--set` arguments, parsed; a malformed one is a usage error.
fn overrides(set: &[String]) -> Result<Vec<Override>> {
    set.iter()
        .map(|s| parse_override(s).map_err(|m| Usage(m).into()))
        .collect()
}

/// A bar on a terminal only (never on a pipe, where it would mix with the output, nor when
/// `quiet`), drawn with `template`.
fn progress_bar(len: u64, quiet: bool, template: &str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
