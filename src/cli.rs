//! The command line: clap definitions only.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// depinsim: simulate the economics of decentralized GPU compute networks.
#[derive(Debug, Parser)]
#[command(name = "depinsim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write summary.json, run.json, timeseries.parquet and
    /// scenario.resolved.yaml.
    Run(RunArgs),
    /// Run a scenario like `run`, then print the viability table (inference, training and
    /// fine-tuning against the cloud reference, with 95% intervals) and write viability.json.
    Viability(RunArgs),
    /// Check scenario files and report every problem, with its line and a fix.
    Validate(ValidateArgs),
    /// Run every variant of a sweep (a sweep file, or a scenario with `--grid`), each with
    /// the same seeds, and write each variant's summary, results.parquet and compare.json
    /// (paired differences against the baseline). Run again on the same `--out` to resume.
    Sweep(SweepArgs),
    /// Find by bisection the highest value of a parameter (a request rate) or the lowest (a
    /// GPU count) at which the latency-objective attainment still meets a target, on the
    /// same replications and seeds at every probe; writes capacity.json.
    Capacity(CapacityArgs),
    /// Combine the shards of a sweep (`sweep --shard K/N`) into exactly what one machine
    /// would have written.
    Merge(MergeArgs),
    /// Compare the variants of a sweep with its baseline, or two runs, metric by metric, with
    /// 95% intervals: paired when they share seeds, unpaired (and labelled so) when not.
    Compare(CompareArgs),
    /// Run a scenario and write a baseline file for `check`: its seeds, every metric's
    /// per-replication values, the SHA-256 of its summary.json, and the margins a check
    /// holds each metric to. With `--update`, write the new one beside the old and print
    /// what changed.
    Baseline(BaselineArgs),
    /// Check a run's directory (or a scenario, run first with the baseline's seed,
    /// replications and overrides) against a baseline: byte-identical summary.json passes at
    /// once; otherwise each metric's paired difference is judged against its margin (pass,
    /// regression, improvement, inconclusive). Exit 0 pass, 1 regression, 2 bad input, 3
    /// inconclusive only.
    Check(CheckArgs),
    /// Draw a run's or a finished sweep's charts (PNG and SVG under plots/) and write
    /// report.html (one self-contained page) and report.md into its directory; run again, it
    /// replaces only its own files.
    Report(ReportArgs),
    /// Print a completion script for a shell (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or with `--out DIR` write one page per command there.
    Man(ManArgs),
    /// Print the JSON Schema of scenario files (for editor completion and checks), or with
    /// `--sweep` of sweep files.
    Schema(SchemaArgs),
    /// What verifying a computation on Ethereum by re-executing it costs: gas, USD and days
    /// of full blocks, for a matrix product, at several gas prices and gas per multiply-add.
    Onchain(OnchainArgs),
    /// Measure what a device achieves (memory bandwidth, decode, matrix product), check every
    /// kernel against a reference first, and write a calibration profile with its
    /// provenance; or write a class's datasheet profile.
    Calibrate(CalibrateArgs),
}

/// Where a calibration profile comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Microbenchmarks on this machine's CPU cores.
    Cpu,
    /// The CUDA kernels in kernels/ on GPU 0 (needs a build with `--features cuda`).
    Cuda,
    /// The datasheet peaks of `--class`, no measurement.
    Datasheet,
    /// `--class`'s peaks at the efficiencies of the measured profile `--from` (another GPU
    /// of the family), marked derived.
    Derived,
}

/// Sizes measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GridSize {
    /// Seconds: a few sizes, few repetitions (CI).
    Small,
    /// The full grid.
    Full,
}

/// Arguments of `depinsim calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// What measures.
    #[arg(long, value_enum)]
    pub backend: Backend,
    /// The GPU class (for `datasheet` and `derived`).
    #[arg(long)]
    pub class: Option<String>,
    /// The measured profile to derive from (for `derived`).
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// Profile file to write (default: `output/calibration/<class>-<backend>.yaml`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Sizes to measure.
    #[arg(long, value_enum, default_value_t = GridSize::Full)]
    pub grid: GridSize,
    /// Replace the profile file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Directory of the CUDA kernel sources (for `cuda`).
    #[arg(long, default_value = "kernels")]
    pub kernels: PathBuf,
    /// With `--backend cuda`: only compile the kernels with NVRTC for each `--arch` and print
    /// the compiler's resource report (registers, stack, spills, shared memory); needs NVRTC,
    /// not a GPU. Exit code 1 if a kernel uses local memory (a stack frame or spills).
    #[arg(long)]
    pub compile_only: bool,
    /// Architectures for `--compile-only` (repeatable; default: those of the catalogue's
    /// NVIDIA classes).
    #[arg(long, default_values = crate::calibration::kernels::ARCHS)]
    pub arch: Vec<String>,
}

/// Arguments of `depinsim onchain`: the computation and the chain's prices.
#[derive(Debug, Args)]
pub struct OnchainArgs {
    /// Rows of the left matrix (12288: one GPT-3 weight matrix).
    #[arg(long, default_value_t = 12_288)]
    pub m: u64,
    /// Columns of the left matrix, rows of the right one.
    #[arg(long, default_value_t = 12_288)]
    pub k: u64,
    /// Columns of the right matrix.
    #[arg(long, default_value_t = 12_288)]
    pub n: u64,
    /// USD per ETH.
    #[arg(long, default_value_t = 3_400.0)]
    pub eth_usd: f64,
    /// Block gas limit (60M from late 2025).
    #[arg(long, default_value_t = 60e6)]
    pub block_gas_limit: f64,
}

/// Arguments of `depinsim report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run's or a finished sweep's output directory.
    pub dir: PathBuf,
    /// No summary line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `depinsim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario YAML file.
    pub scenario: PathBuf,
    /// Write no report (report.html, report.md, plots/) after the run.
    #[arg(long)]
    pub no_report: bool,
    /// What `run` and `sweep` share.
    #[command(flatten)]
    pub options: RunOptions,
}

/// The options `run`, `viability` and `sweep` share.
#[derive(Debug, Args)]
pub struct RunOptions {
    /// Output directory (default: output/ and the file name without extension).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Master seed (overrides simulation.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of replications (overrides simulation.replications).
    #[arg(long)]
    pub replications: Option<u32>,
    /// Worker threads (at most 1024); 0 uses every core. Results do not depend on it.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub threads: u16,
    /// Override any scenario field: --set simulation.horizon_h=48 (repeatable; for a sweep,
    /// in every variant).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Replace the output directory if it holds other results (a sweep resumes its own).
    #[arg(long)]
    pub force: bool,
    /// No progress bar and no table.
    #[arg(long, short)]
    pub quiet: bool,
    /// The memory the run may use, e.g. 8GiB, 500MB or plain bytes (default: the smallest
    /// of physical memory, the cgroup's limit and RLIMIT_AS). A run whose estimate exceeds
    /// 80% of it is refused before it starts.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,
}

/// A memory size: plain bytes, or a number and a unit, B, kB, MB, GB, TB (powers of 1000)
/// or KiB, MiB, GiB, TiB (powers of 1024), in any case: `8GiB`, `500MB`, `1.5 GB`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "`{text}` is not a memory size: give bytes or a number and a unit, e.g. 8GiB, 500MB \
             or 1000000 (units: B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)"
        )
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    let bytes = match number.parse::<u64>() {
        Ok(n) => n.checked_mul(scale).ok_or_else(bad)?,
        Err(_) => {
            let x: f64 = number.parse().map_err(|_| bad())?;
            let b = x * scale as f64;
            if !(b.is_finite() && b < u64::MAX as f64) {
                return Err(bad());
            }
            b.round() as u64
        }
    };
    if bytes == 0 {
        return Err(format!(
            "`{text}`: the memory a run may use must be more than 0"
        ));
    }
    Ok(bytes)
}

/// Arguments of `depinsim sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Sweep YAML file (it names its base scenario), or with `--grid` a scenario file.
    pub file: PathBuf,
    /// An axis of a grid over the scenario, without a sweep file: --grid 'PATH=[V1, V2]'
    /// (YAML list syntax; repeatable, every combination runs).
    #[arg(long = "grid", value_name = "PATH=[V1, V2, ...]")]
    pub grid: Vec<String>,
    /// What `run` and `sweep` share. A directory of the same sweep is resumed: finished
    /// cells are kept, missing ones run.
    #[command(flatten)]
    pub options: RunOptions,
    /// The label of the variant the others are compared with (default: the sweep file's
    /// `baseline`, or the first variant).
    #[arg(long)]
    pub baseline: Option<String>,
    /// When a variant fails, report it, finish the others, then exit 1 (default: stop at
    /// the first failure).
    #[arg(long)]
    pub keep_going: bool,
    /// Add replications to every variant, in blocks of `--replications`, until this metric's
    /// 95% interval has at most this half-width in every variant: METRIC=VALUE (in the
    /// metric's unit) or METRIC=N% (of its mean); repeatable. Not with `--shard`.
    #[arg(long, value_name = "METRIC=VALUE|METRIC=N%")]
    pub target_halfwidth: Vec<String>,
    /// The most replications `--target-halfwidth` may reach (default 64).
    #[arg(long, value_name = "N")]
    pub max_replications: Option<u32>,
    /// Run only shard K of N of the cells (variant x replication, dealt round robin in the
    /// design's order), into its own `--out`; `depinsim merge` combines the shards.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Run nothing: check the sweep and write `OUT/sweep.sbatch`, which submits a Slurm job
    /// array of N shards and a merge job that waits for them (`sh OUT/sweep.sbatch`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000), conflicts_with = "shard")]
    pub emit_slurm: Option<u32>,
    /// Write no report (report.html, report.md, plots/) when the sweep is complete.
    #[arg(long)]
    pub no_report: bool,
}

/// Arguments of `depinsim capacity`.
#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// Scenario YAML file.
    pub scenario: PathBuf,
    /// The field to vary, as `--set` takes it (e.g. `inference.users.0.rate_per_s`).
    #[arg(long)]
    pub vary: String,
    /// Lowest value to try.
    #[arg(long, allow_negative_numbers = true)]
    pub low: f64,
    /// Highest value to try.
    #[arg(long, allow_negative_numbers = true)]
    pub high: f64,
    /// The attainment to meet: share of requests answered within both latency objectives
    /// (default: the scenario's `viability.min_slo_attainment`, 0.95 unless set).
    #[arg(long)]
    pub attainment: Option<f64>,
    /// The field takes whole numbers (a GPU count).
    #[arg(long)]
    pub integer: bool,
    /// Stop when the values that meet and miss are this close (default: 1% of the range; at
    /// least 1 with `--integer`).
    #[arg(long)]
    pub tolerance: Option<f64>,
    /// What `run` and `sweep` share (`--out` is where capacity.json goes).
    #[command(flatten)]
    pub options: RunOptions,
}

/// Arguments of `depinsim merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' output directories (every shard of one sweep).
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// The merged sweep's directory: what one machine would have written.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace `--out` if it holds something other than this sweep.
    #[arg(long)]
    pub force: bool,
    /// No table.
    #[arg(long, short)]
    pub quiet: bool,
    /// Write no report (report.html, report.md, plots/).
    #[arg(long)]
    pub no_report: bool,
}

/// Arguments of `depinsim compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// A sweep's output directory, or two runs' output directories.
    #[arg(required = true, num_args = 1..=2)]
    pub dirs: Vec<PathBuf>,
    /// For a sweep: the label of the variant to compare with (default: the sweep's
    /// baseline).
    #[arg(long)]
    pub baseline: Option<String>,
    /// Metrics to show, by name or prefix (repeatable; default: the headline metrics).
    #[arg(long = "metric")]
    pub metrics: Vec<String>,
}

/// Arguments of `depinsim baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Scenario YAML file.
    pub scenario: PathBuf,
    /// Baseline file to write (default: beside the scenario, NAME.baseline.json).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Master seed (overrides simulation.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of replications, at least 2 (overrides simulation.replications).
    #[arg(long)]
    pub replications: Option<u32>,
    /// Override any scenario field (repeatable); `check SCENARIO` applies them again.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Worker threads; 0 uses every core. Results do not depend on it.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub threads: u16,
    /// The baseline exists and is being renewed on purpose: write the new one beside it
    /// (NAME.pending.json, keeping its margins) and print what changed. Accepting it is
    /// renaming it over the old file, reviewed in the diff.
    #[arg(long)]
    pub update: bool,
    /// Replace the file written if it exists.
    #[arg(long)]
    pub force: bool,
    /// No progress bar and no summary line.
    #[arg(long, short)]
    pub quiet: bool,
    /// The memory the run may use (as for `run`).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,
}

/// Arguments of `depinsim check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A run's output directory, or a scenario file to run first (with the baseline's
    /// overrides, seed and replications, then `--set`).
    pub target: PathBuf,
    /// The baseline file.
    #[arg(long)]
    pub baseline: PathBuf,
    /// Also write the verdicts as JUnit XML (one test case per metric) to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write check.json here (default: check.json in the run's directory, or in `--out`).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// With a scenario: write the run's files to this directory too.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// With a scenario: further overrides, after the baseline's own (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Worker threads; 0 uses every core. Results do not depend on it.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub threads: u16,
    /// Replace files written (check.json, the JUnit file, `--out`) if they exist.
    #[arg(long)]
    pub force: bool,
    /// List every metric, the passing ones too.
    #[arg(long)]
    pub all: bool,
    /// No progress bar; only the outcome line.
    #[arg(long, short)]
    pub quiet: bool,
    /// Emulate neutral changes of the baseline's scenario (given as the target): the run on
    /// other seeds, paired by replication, `--trials` times; report the false-alarm rate and
    /// each metric's smallest change detected with 80% power (`--json` writes it; not with
    /// `--junit`, `--out` or `--all`).
    #[arg(long, conflicts_with_all = ["junit", "out", "all"])]
    pub self_test: bool,
    /// Neutral changes the self-test emulates.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub trials: u32,
    /// The memory the run may use (as for `run`).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,
}

/// Arguments of `depinsim completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: `depinsim completions bash > ~/.local/share/bash-completion/completions/depinsim`.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `depinsim man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write depinsim.1 and depinsim-COMMAND.1 for every command into this directory
    /// (e.g. ~/.local/share/man/man1) instead of printing depinsim.1.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Replace pages that exist.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `depinsim schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The schema of sweep files instead of scenario files.
    #[arg(long)]
    pub sweep: bool,
}

/// Arguments of `depinsim validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario YAML files.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Overrides to apply before checking, as for `run`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_read_decimal_and_binary_units() {
        let ok = [
            ("1000000", 1_000_000),
            ("8GiB", 8 << 30),
            ("8gib", 8 << 30),
            ("500MB", 500_000_000),
            ("1.5 GB", 1_500_000_000),
            ("1MiB", 1 << 20),
            ("2 TiB", 2 << 40),
            ("64kB", 64_000),
            ("12B", 12),
        ];
        for (text, bytes) in ok {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for text in [
            "", "lots", "8 GiBs", "-1GB", "1e3", "GB", "1..5GB", "0", "0.1B",
        ] {
            assert!(parse_size(text).is_err(), "{text} was accepted");
        }
        assert!(parse_size("20000000TB").is_err(), "overflow");
        assert!(parse_size("99999999999999999999").is_err(), "overflow");
    }
}
