//! The subcommands: straight pipelines from arguments to files. `anyhow` lives only here.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use depinsim::calibration::{Profile, cpu};
use depinsim::cli::{Backend, CalibrateArgs, Cli, Command, GridSize, RunArgs, ValidateArgs};
use depinsim::economics::onchain::{EvmVerification, matmul};
use depinsim::experiment::{run_all, threads_for};
use depinsim::export;
use depinsim::export::file::WriteError;
use depinsim::export::json::{RunInfo, ServingPlan};
use depinsim::export::outdir::OutDirError;
use depinsim::export::run::{RunDir, RunResults};
use depinsim::metrics::aggregate;
use depinsim::physics::gpu::{class_ids, find_class};
use depinsim::report;
use depinsim::scenario::overrides::{Override, parse_override};
use depinsim::scenario::{LoadError, load_file, schema_json};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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

/// A usage error that is not a scenario problem (bad --set syntax, say): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

/// Exit code for an error: 2 when the user's input is at fault, 1 otherwise.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    let usage = e.chain().any(|c| {
        c.is::<LoadError>()
            || c.is::<Usage>()
            || matches!(c.downcast_ref::<WriteError>(), Some(WriteError::Exists(_)))
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
        Command::Run(args) => run(args, false),
        Command::Viability(args) => run(args, true),
        Command::Validate(args) => validate(args),
        Command::Schema => {
            out!("{}", schema_json());
            Ok(ExitCode::SUCCESS)
        }
        Command::Calibrate(a) => calibrate(a),
        Command::Onchain(a) => {
            let v = EvmVerification {
                multiply_adds: matmul(a.m, a.k, a.n),
                eth_usd: a.eth_usd,
                block_gas_limit: a.block_gas_limit,
                ..EvmVerification::default()
            };
            let problems = v.validate();
            if !problems.is_empty() {
                for (field, why) in problems {
                    err!("--{}: {why}", field.replace('_', "-"));
                }
                return Ok(ExitCode::from(2));
            }
            out!("{}", v.table());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `depinsim calibrate`: measure (or look up), check, write the profile, print a table.
fn calibrate(a: CalibrateArgs) -> Result<ExitCode> {
    let class = || -> Result<_> {
        let Some(id) = a.class.as_deref() else {
            return Err(Usage(format!(
                "--backend {} needs --class (one of: {})",
                format!("{:?}", a.backend).to_lowercase(),
                class_ids()
            ))
            .into());
        };
        find_class(id).ok_or_else(|| {
            Usage(format!(
                "--class: unknown GPU class `{id}` (use one of: {})",
                class_ids()
            ))
            .into()
        })
    };
    if a.compile_only {
        if a.backend != Backend::Cuda {
            return Err(Usage("--compile-only goes with --backend cuda".into()).into());
        }
        return compile_kernels(&a);
    }
    let profile = match a.backend {
        Backend::Datasheet => Profile::datasheet(class()?),
        Backend::Derived => {
            let target = class()?;
            let Some(from) = a.from.as_deref() else {
                return Err(
                    Usage("--backend derived needs --from, a measured profile".into()).into(),
                );
            };
            let source = Profile::load(from).map_err(|e| Usage(e.to_string()))?;
            if source.source != depinsim::calibration::Source::Measured {
                return Err(Usage(format!(
                    "--from {}: derive from a measured profile, not a {:?} one",
                    from.display(),
                    source.source
                ))
                .into());
            }
            source.derive(target, &from.display().to_string())
        }
        Backend::Cpu => {
            let grid = match a.grid {
                GridSize::Small => cpu::Grid::small(),
                GridSize::Full => cpu::Grid::full(),
            };
            cpu::calibrate(&grid, 1).context("a CPU kernel failed its correctness check")?
        }
        Backend::Cuda => cuda_profile(&a)?,
    };
    let backend = format!("{:?}", a.backend).to_lowercase();
    let path = a.out.unwrap_or_else(|| {
        PathBuf::from("output/calibration").join(format!("{}-{backend}.yaml", profile.class))
    });
    export::profile::write(&profile, &path, a.force)?;
    out!("{}", report::calibration::profile(&profile));
    out!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// `--backend cuda` in a build without the `cuda` feature: say how to get one.
#[cfg(not(feature = "cuda"))]
fn no_cuda<T>() -> Result<T> {
    Err(Usage(
        "--backend cuda: this depinsim was built without the `cuda` feature; build it with \
         `cargo build --release --features cuda` (no CUDA toolkit needed to build) and run it \
         on a machine with an NVIDIA driver, or use --backend cpu"
            .into(),
    )
    .into())
}

#[cfg(not(feature = "cuda"))]
fn cuda_profile(_: &CalibrateArgs) -> Result<Profile> {
    no_cuda()
}

#[cfg(not(feature = "cuda"))]
fn compile_kernels(_: &CalibrateArgs) -> Result<ExitCode> {
    no_cuda()
}

/// `--compile-only`: every kernel for every `--arch`, with the compiler's report; exit 1 if
/// one uses local memory, 2 without NVRTC or the sources. Prints nothing until all compiled.
#[cfg(feature = "cuda")]
fn compile_kernels(a: &CalibrateArgs) -> Result<ExitCode> {
    use depinsim::calibration::cuda::{self, CudaError};
    let mut resources = Vec::new();
    for arch in &a.arch {
        let compiled = match cuda::compile(&a.kernels, arch) {
            Ok(c) => c,
            Err(CudaError::Unavailable(why) | CudaError::Input(why)) => {
                return Err(Usage(format!("--compile-only: {why}")).into());
            }
            Err(e) => return Err(anyhow::Error::new(e).context("compiling the CUDA kernels")),
        };
        resources.extend(compiled.into_iter().flat_map(|c| c.resources));
    }
    let table =
        report::calibration::resources(&resources, &cuda::nvrtc_version()?, &cuda::include_dirs());
    out!("{table}");
    let local = resources.iter().filter(|r| r.uses_local_memory()).count();
    if local > 0 {
        err!("{local} kernel(s) use local memory: their timings would include its traffic");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--backend cuda`: no driver or GPU is the user's setup (exit 2); a kernel that fails its
/// check is a failed run (exit 1).
#[cfg(feature = "cuda")]
fn cuda_profile(a: &CalibrateArgs) -> Result<Profile> {
    use depinsim::calibration::cuda::{self, CudaError};
    let grid = match a.grid {
        GridSize::Small => cuda::Grid::small(),
        GridSize::Full => cuda::Grid::full(),
    };
    match cuda::calibrate(&grid, &a.kernels, 1) {
        Ok(p) => Ok(p),
        Err(CudaError::Unavailable(why) | CudaError::Input(why)) => {
            Err(Usage(format!("--backend cuda: {why}")).into())
        }
        Err(e) => Err(anyhow::Error::new(e).context("CUDA calibration failed")),
    }
}

fn overrides(set: &[String]) -> Result<Vec<Override>> {
    set.iter()
        .map(|s| parse_override(s).map_err(|m| Usage(m).into()))
        .collect()
}

/// The `--set` overrides, then those `--seed` and `--replications` stand for.
fn run_overrides(args: &RunArgs) -> Result<Vec<Override>> {
    let mut ovs = overrides(&args.set)?;
    let sim = |key, value| Override::field(&["simulation", key], value);
    ovs.extend(args.seed.map(|seed| sim("seed", seed.into())));
    ovs.extend(args.replications.map(|r| sim("replications", r.into())));
    Ok(ovs)
}

fn run(args: RunArgs, viability: bool) -> Result<ExitCode> {
    let ovs = run_overrides(&args)?;
    let scenario = load_file(&args.scenario, &ovs)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.scenario));
    let run_dir = RunDir::create(&out, args.force)?;

    let progress = progress_bar(u64::from(scenario.replications()), args.quiet);
    let started = started_unix_s();
    let start = Instant::now();
    let tick = || progress.inc(1);
    let outputs = run_all(&scenario, usize::from(args.threads), &tick)
        .context("cannot start worker threads")?;
    let wall_s = start.elapsed().as_secs_f64();
    progress.finish_and_clear();

    let metrics: Vec<_> = outputs.iter().map(|o| o.metrics.clone()).collect();
    let summary = aggregate(&metrics);
    let rows: Vec<_> = outputs
        .iter()
        .flat_map(|o| o.rows.iter().cloned())
        .collect();
    let events: u64 = outputs.iter().map(|o| o.events).sum();
    let requests: u64 = outputs.iter().map(|o| o.requests).sum();
    let threads = threads_for(&scenario, usize::from(args.threads));
    let info = RunInfo {
        version: env!("CARGO_PKG_VERSION"),
        scenario: scenario.name().to_string(),
        scenario_file: args.scenario.display().to_string(),
        seed: scenario.seed(),
        started_unix_s: started,
        overrides: ovs.into_iter().map(|o| o.text).collect(),
        threads,
        replications: scenario.replications(),
        wall_s,
        events,
        events_per_s: events as f64 / wall_s.max(1e-9),
        requests,
        requests_per_s: requests as f64 / wall_s.max(1e-9),
        gpu_profiles: RunInfo::profiles(&scenario),
        serving: ServingPlan::of(&scenario),
    };

    run_dir.write_results(&RunResults {
        scenario: &scenario,
        summary: &summary,
        info: &info,
        rows: &rows,
    })?;
    let table = viability.then(|| report::viability::table(&scenario, &summary));
    if let Some(t) = &table {
        run_dir.write_viability(t)?;
    }
    let dir = run_dir.commit()?;
    if let Some(t) = &table {
        out!("{}", report::viability::render(t));
    }
    if !args.quiet {
        out!("{}", report::run::headline(&info, &summary));
        out!("wrote {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn started_unix_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn default_out(scenario: &Path) -> PathBuf {
    let stem = scenario
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    PathBuf::from("output").join(stem)
}

fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} replications {pos}/{len} [{bar:30}] {elapsed_precise}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn validate(args: ValidateArgs) -> Result<ExitCode> {
    let ovs = overrides(&args.set)?;
    let mut failed = 0;
    for path in &args.scenarios {
        match load_file(path, &ovs) {
            Ok(s) => {
                out!("ok: {} ({})", path.display(), s.name());
                for plan in ServingPlan::of(&s) {
                    out!("{}", report::run::serving_line(&plan));
                }
            }
            Err(e) => {
                err!("{e}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        err!(
            "{failed} of {} scenario files have problems",
            args.scenarios.len()
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

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
        let got = run_overrides(&a).expect("overrides");
        assert_eq!(got, want.map(|t| parse_override(t).expect("parses")));
        assert!(run_overrides(&run_args(&[])).expect("none").is_empty());
        let bad = run_overrides(&run_args(&["--set", "simulation"])).expect_err("no =");
        assert!(bad.is::<Usage>(), "{bad:#}");
    }
}
