//! `depinsim capacity`: bisect one field of a scenario for the latency-objective attainment,
//! every probe on the same replications and seeds, print the probes and the answer, and
//! write capacity.json.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, Result};
use depinsim::cli::CapacityArgs;
use depinsim::experiment::capacity::{Outcome, Probe, Range, Search, search};
use depinsim::experiment::{run_all, threads_for};
use depinsim::export::file::write_atomic;
use depinsim::metrics::names;
use depinsim::metrics::summary::summarise;
use depinsim::scenario::overrides::Override;
use depinsim::scenario::sweep::override_at;
use depinsim::scenario::{Scenario, load_file};
use depinsim::sim::footprint::Footprint;
use serde_json::{Value, json};

use super::Usage;

/// Runs the search.
pub(super) fn capacity(args: CapacityArgs) -> Result<ExitCode> {
    let opts = &args.options;
    let usage = |m: String| anyhow::Error::from(Usage(m));
    if !(args.low.is_finite() && args.high.is_finite() && args.low < args.high) {
        return Err(usage(format!(
            "--low {} --high {}: the range must be finite with low below high\n    fix: give e.g. --low 1 --high 64",
            args.low, args.high
        )));
    }
    if let Some(t) = args.tolerance.filter(|t| !(t.is_finite() && *t > 0.0)) {
        return Err(usage(format!(
            "--tolerance {t}: must be a positive number\n    fix: leave it out for 1% of the range"
        )));
    }
    let base = super::run_overrides(opts)?;
    let value = |x: f64| -> Value {
        if args.integer {
            Value::from(x.round() as i64)
        } else {
            serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
        }
    };
    let load = |x: f64| -> Result<Scenario> {
        let mut ovs: Vec<Override> = base.clone();
        ovs.push(override_at(&args.vary, &value(x)).map_err(Usage)?);
        Ok(load_file(&args.scenario, &ovs)?)
    };
    // Both ends are checked before anything runs, memory included.
    let low = load(args.low)?;
    let high = load(args.high)?;
    for s in [&low, &high] {
        super::memory::admit(
            &Footprint::of(s),
            threads_for(s, usize::from(opts.threads)),
            s.replications(),
            opts.max_memory,
            "a probe",
        )?;
    }
    let target = args
        .attainment
        .unwrap_or(low.viability().min_slo_attainment);
    if !(target > 0.0 && target <= 1.0) {
        return Err(usage(format!(
            "--attainment {target}: must be a share in (0, 1]\n    fix: give e.g. --attainment 0.95"
        )));
    }
    let range = Range {
        low: args.low,
        high: args.high,
        integer: args.integer,
        tolerance: args.tolerance.unwrap_or((args.high - args.low) / 100.0),
        target,
    };
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| super::default_out(&args.scenario))
        .join("capacity.json");
    if out.exists() && !opts.force {
        return Err(depinsim::export::file::WriteError::Exists(out).into());
    }
    let mut probe = |x: f64| -> Result<Probe> {
        let s = load(x)?;
        let outputs = run_all(&s, usize::from(opts.threads), &|| {})
            .context("cannot start worker threads")?;
        let values: Vec<f64> = outputs
            .iter()
            .filter_map(|o| o.metrics.get(names::inference::SLO_ATTAINMENT).copied())
            .filter(|v| v.is_finite())
            .collect();
        if values.is_empty() {
            return Err(usage(format!(
                "at {} = {x}, no request was answered, so there is no attainment\n    fix: a scenario with inference users, and a range in which requests are served",
                args.vary
            )));
        }
        let m = summarise(&values);
        let p = Probe {
            value: x,
            mean: m.mean,
            ci95: m.ci95_low.zip(m.ci95_high),
        };
        if !opts.quiet {
            err!("  {} = {x}: attainment {:.4}", args.vary, p.mean);
        }
        Ok(p)
    };
    let found = search(range, &mut probe)?;
    let record = json!({
        "scenario": args.scenario.display().to_string(),
        "vary": args.vary,
        "target_attainment": target,
        "replications": low.replications(),
        "seed": low.seed(),
        "search": found,
    });
    let text = serde_json::to_string_pretty(&record).unwrap_or_default() + "\n";
    write_atomic(&out, text.as_bytes(), opts.force)?;
    if !opts.quiet {
        out!("{}", report(&args.vary, target, &found));
        out!("wrote {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The probes by value, then the answer and the bracket.
fn report(vary: &str, target: f64, s: &Search) -> String {
    let mut probes = s.probes.clone();
    probes.sort_by(|a, b| a.value.total_cmp(&b.value));
    let mut t = format!("attainment of the latency objectives against {vary} (target {target}):");
    for p in &probes {
        let ci = p.ci95.map_or(String::new(), |(lo, hi)| {
            format!("  [95% CI {lo:.4} .. {hi:.4}]")
        });
        let _ = write!(t, "\n  {:>14.6} {:>8.4}{ci}", p.value, p.mean);
    }
    let _ = match &s.outcome {
        Outcome::Found {
            capacity,
            misses_at,
        } => write!(
            t,
            "\nmeets {target} at {vary} = {capacity}, misses it at {misses_at}"
        ),
        Outcome::AllMeet => write!(t, "\nevery value from the range meets {target}: widen it"),
        Outcome::NoneMeet => write!(t, "\nno value of the range meets {target}: widen it"),
    };
    if let Some((a, b)) = s.bracket {
        let _ = write!(
            t,
            "\nthe attainment's 95% interval crosses {target} between {a} and {b}"
        );
    }
    t
}
