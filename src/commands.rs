//! The subcommands: straight pipelines from arguments to files. `anyhow` lives only here.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use depinsim::calibration::{Profile, cpu};
use depinsim::cli::{Backend, CalibrateArgs, Cli, Command, GridSize, RunArgs, ValidateArgs};
use depinsim::core::diagnostics::Issues;
use depinsim::core::path::YamlPath;
use depinsim::economics::onchain::{EvmVerification, matmul};
use depinsim::experiment::{run_all, threads_for};
use depinsim::export::json::{RunInfo, ServingPlan, Summary};
use depinsim::export::outdir::{OutDirError, Staging};
use depinsim::export::parquet;
use depinsim::metrics::{MetricSummary, aggregate};
use depinsim::physics::gpu::{class_ids, find_class};
use depinsim::scenario::overrides::{Override, parse_override};
use depinsim::scenario::{LoadError, Scenario, load_file, schema_json};
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
            let mut problems = Issues::default();
            if !v.validate(&YamlPath::root(), &mut problems) {
                for i in problems.iter() {
                    err!("--{}: {}", i.path.to_string().replace('_', "-"), i.message);
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
    if path.exists() && !a.force {
        return Err(Usage(format!(
            "{} exists; give another --out, or --force to replace it",
            path.display()
        ))
        .into());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // Written beside the target, then renamed: never half a profile.
    let tmp = path.with_extension("yaml.partial");
    std::fs::write(&tmp, profile.to_yaml())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    out!("{}", profile_table(&profile));
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
    let mut rows = vec![format!(
        "{:<20} {:<7} {:>9} {:>7} {:>7} {:>8}",
        "kernel", "arch", "registers", "stack", "spills", "shared"
    )];
    let mut local = 0;
    for arch in &a.arch {
        let compiled = match cuda::compile(&a.kernels, arch) {
            Ok(c) => c,
            Err(CudaError::Unavailable(why) | CudaError::Input(why)) => {
                return Err(Usage(format!("--compile-only: {why}")).into());
            }
            Err(e) => return Err(anyhow::Error::new(e).context("compiling the CUDA kernels")),
        };
        for r in compiled.iter().flat_map(|c| &c.resources) {
            local += usize::from(r.uses_local_memory());
            rows.push(format!(
                "{:<20} {:<7} {:>9} {:>6}B {:>6}B {:>7}B{}",
                r.function,
                r.arch,
                r.registers,
                r.stack_bytes,
                r.spill_stores + r.spill_loads,
                r.shared_bytes,
                if r.uses_local_memory() {
                    "  local memory"
                } else {
                    ""
                }
            ));
        }
    }
    let dirs = cuda::include_dirs();
    rows.push(format!(
        "NVRTC {}; headers from: {}",
        cuda::nvrtc_version()?,
        if dirs.is_empty() {
            "none found".to_string()
        } else {
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    out!("{}", rows.join("\n"));
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

/// A short table of a profile: each point's median, spread and share of the peak (none for
/// host-device copies, which PCIe bounds), then the targets a GPU calibration should reach.
fn profile_table(p: &Profile) -> String {
    use depinsim::calibration::Bound;
    let mut s = format!(
        "{} ({:?}): {}\n{:<14} {:>12} {:>16} {:>8} {:>8}\n",
        p.class, p.source, p.provenance.device, "curve", "size", "median", "spread", "of peak"
    );
    for (name, curve, bound) in p.curves() {
        let unit = if bound == Bound::Compute {
            "GFLOP/s"
        } else {
            "GB/s"
        };
        for q in &curve.0 {
            let share = p.peak(bound).map_or("-".to_string(), |peak| {
                format!("{:.1}%", 100.0 * q.median / peak)
            });
            s += &format!(
                "{name:<14} {:>12} {:>10.1} {unit:<7}{:>7.1}% {share:>8}\n",
                q.x,
                q.median / 1e9,
                100.0 * q.spread
            );
        }
    }
    if p.source == depinsim::calibration::Source::Measured {
        for t in p.targets() {
            s += &format!(
                "target: {} = {:.2} (at least {:.2}): {}\n",
                t.what,
                t.value,
                t.threshold,
                if t.met() { "met" } else { "MISSED" }
            );
        }
    }
    s.trim_end().to_string()
}

fn overrides(set: &[String]) -> Result<Vec<Override>> {
    set.iter()
        .map(|s| parse_override(s).map_err(|m| Usage(m).into()))
        .collect()
}

fn run(args: RunArgs, viability: bool) -> Result<ExitCode> {
    let mut set = args.set.clone();
    if let Some(seed) = args.seed {
        set.push(format!("simulation.seed={seed}"));
    }
    if let Some(r) = args.replications {
        set.push(format!("simulation.replications={r}"));
    }
    let scenario = load_file(&args.scenario, &overrides(&set)?)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.scenario));
    let staging = Staging::new(&out, args.force)?;

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
        overrides: set,
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

    write_outputs(staging.path(), &scenario, &summary, &info, &rows)?;
    let table = viability.then(|| depinsim::viability::table(&scenario, &summary));
    if let Some(t) = &table {
        let json = serde_json::to_string_pretty(t)? + "\n";
        std::fs::write(staging.path().join("viability.json"), json)
            .context("writing viability.json")?;
    }
    let dir = staging.commit()?;
    if let Some(t) = &table {
        out!("{}", depinsim::viability::render(t));
    }
    if !args.quiet {
        print_table(&scenario, &summary, &info, &dir);
    }
    Ok(ExitCode::SUCCESS)
}

fn write_outputs(
    dir: &Path,
    s: &Scenario,
    summary: &std::collections::BTreeMap<String, MetricSummary>,
    info: &RunInfo,
    rows: &[depinsim::metrics::EpochRow],
) -> Result<()> {
    let json = serde_json::to_string_pretty(&Summary::new(s, summary))? + "\n";
    std::fs::write(dir.join("summary.json"), json).context("writing summary.json")?;
    std::fs::write(
        dir.join("run.json"),
        serde_json::to_string_pretty(info)? + "\n",
    )
    .context("writing run.json")?;
    std::fs::write(dir.join("scenario.resolved.yaml"), s.resolved_yaml())
        .context("writing scenario.resolved.yaml")?;
    parquet::write(rows, &dir.join("timeseries.parquet")).context("writing timeseries.parquet")?;
    Ok(())
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

fn print_table(
    s: &Scenario,
    summary: &std::collections::BTreeMap<String, MetricSummary>,
    info: &RunInfo,
    dir: &Path,
) {
    out!(
        "{}: {} replications, seed {}, {:.1} s wall, {:.2e} requests/s",
        s.name(),
        s.replications(),
        s.seed(),
        info.wall_s,
        info.requests_per_s
    );
    let rows = [
        ("requests completed", "inference.completed_requests.count"),
        ("drop ratio", "inference.drop_ratio.mean"),
        ("TTFT p95 (s)", "inference.ttft_s.p95"),
        ("TPOT p95 (s)", "inference.tpot_s.p95"),
        ("SLO attainment", "inference.slo_attainment_ratio.mean"),
        ("end-to-end p95 (s)", "inference.e2e_s.p95"),
        ("GPU utilisation", "gpu.utilisation_ratio.mean"),
        ("provider profit (USD)", "provider.profit_usd.total"),
    ];
    for (label, key) in rows {
        if let Some(m) = summary.get(key) {
            match (m.ci95_low, m.ci95_high) {
                (Some(lo), Some(hi)) => out!(
                    "  {label:<24} {:>12.4}  [95% CI {lo:.4} .. {hi:.4}]",
                    m.mean
                ),
                _ => out!("  {label:<24} {:>12.4}", m.mean),
            }
        }
    }
    out!("wrote {}", dir.display());
}

fn validate(args: ValidateArgs) -> Result<ExitCode> {
    let ovs = overrides(&args.set)?;
    let mut failed = 0;
    for path in &args.scenarios {
        match load_file(path, &ovs) {
            Ok(s) => {
                out!("ok: {} ({})", path.display(), s.name());
                for plan in ServingPlan::of(&s) {
                    out!("{}", plan.line());
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
