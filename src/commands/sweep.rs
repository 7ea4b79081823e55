//! `depinsim sweep`: plan the sweep (every variant loaded and checked before anything runs),
//! run the cells not yet done (each written as it finishes; with `--shard K/N` only the
//! K-th share of them), then complete it; or, with `--emit-slurm N`, write the Slurm script
//! that runs it as a job array of N shards and a dependent merge.

use std::process::ExitCode;

use anyhow::{Context, Result};
use depinsim::cli::SweepArgs;
use depinsim::core::rng::replication_seed;
use depinsim::experiment::sweep::{VariantWork, run_cells};
use depinsim::experiment::worker_threads;
use depinsim::export::sweep::{MANIFEST, Shard, SweepDir};
use depinsim::scenario::Scenario;
use depinsim::scenario::defaults::MAX_ADAPTIVE_REPLICATIONS;
use depinsim::scenario::sweep::{Sweep, load_sweep};

use super::Usage;
use super::sweep_finish::{complete, write_summary};
use super::sweep_plan::{Plan, file_overrides, grid_axes};
use super::sweep_target::{miss, parse_target};

/// Runs the sweep and writes its directory.
pub(super) fn sweep(args: SweepArgs) -> Result<ExitCode> {
    let opts = &args.options;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let sweep = if args.grid.is_empty() {
        load_sweep(&args.file)?
    } else {
        Sweep::grid(&args.file, grid_axes(&args.grid)?)?
    };
    let mut common = file_overrides(&sweep)?;
    common.extend(super::run_overrides(opts)?);
    let mut plan = Plan::new(sweep, common, args.baseline.as_deref())?;
    plan.manifest.shard = shard;
    // Memory: the largest variant's replications on every thread the cells may use.
    let replications = plan.manifest.replications;
    let cells_at_most = plan.variants.len().saturating_mul(replications as usize);
    let in_flight = worker_threads(usize::from(opts.threads), cells_at_most);
    if let Some(f) = &plan.largest {
        super::memory::admit(
            f,
            in_flight,
            replications,
            opts.max_memory,
            "the sweep's largest variant",
        )?;
    }
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| super::default_out(&args.file));
    if let Some(n) = args.emit_slurm {
        return super::slurm::emit(&out, n, opts.force);
    }
    let targets = args
        .target_halfwidth
        .iter()
        .map(|t| parse_target(t))
        .collect::<Result<Vec<_>>>()?;
    if !targets.is_empty() && shard.is_some() {
        return Err(Usage(
            "--target-halfwidth cannot be used with --shard: a shard cannot see the other shards' results\n    fix: give the sweep enough --replications for every shard, or run it on one machine".into(),
        )
        .into());
    }
    let (dir, resumed) = SweepDir::open(&out, &plan.manifest, opts.force)?;
    if resumed && !opts.quiet {
        err!("resuming {}", out.display());
    }
    let block = plan.manifest.replications;
    let cap = args.max_replications.unwrap_or(MAX_ADAPTIVE_REPLICATIONS);
    loop {
        if let Some(code) = run_pass(&plan, &dir, &args, shard)? {
            return Ok(code);
        }
        if targets.is_empty() {
            break;
        }
        let r = plan.manifest.replications;
        let Some(why) = miss(&dir, &plan.manifest, &targets)? else {
            err!("every --target-halfwidth met with {r} replications");
            break;
        };
        if r >= cap {
            err!(
                "stopped at the cap of {r} replications (--max-replications) with a target unmet: {why}"
            );
            break;
        }
        let next = (r + block).min(cap);
        if !opts.quiet {
            err!("{why}: adding replications {r}..{next} to every variant");
        }
        plan.grow(next);
        dir.json(MANIFEST, &plan.manifest)?;
    }
    if let Some(s) = shard {
        if !opts.quiet {
            out!(
                "wrote shard {}/{} to {}; merge the shards with `depinsim merge`",
                s.k,
                s.n,
                dir.path().display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    complete(&plan, &dir, opts.quiet, !args.no_report)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the cells of `plan` not yet in `dir` (those of `shard` if given) and writes the
/// summaries of the variants it completes; the exit code when variants failed.
fn run_pass(
    plan: &Plan,
    dir: &SweepDir,
    args: &SweepArgs,
    shard: Option<Shard>,
) -> Result<Option<ExitCode>> {
    let (m, opts) = (&plan.manifest, &args.options);
    let work = work(dir, plan, shard);
    let cells: usize = work.iter().map(|w| w.replications.len()).sum();
    let progress = super::progress_bar(
        cells as u64,
        opts.quiet,
        "{spinner} cells {pos}/{len} [{bar:30}] {per_sec} eta {eta}",
    );
    let sink = |v: usize, r: u32, o: &depinsim::sim::world::ReplicationOutput| {
        let seed = replication_seed(m.seed, u64::from(r));
        dir.write_cell(&m.variants[v].id, r, seed, &o.metrics)?;
        progress.inc(1);
        Ok(())
    };
    // A shard holds only some of a variant's cells: summaries wait for the merge.
    let finish = |v: usize, s: &Scenario| match shard {
        Some(_) => Ok(()),
        None => write_summary(dir, m, v, s),
    };
    let load = |i: usize| plan.load(i).map_err(anyhow::Error::from);
    let failures = run_cells(
        &work,
        usize::from(opts.threads),
        args.keep_going,
        &load,
        &sink,
        &finish,
    )
    .context("cannot start worker threads")?;
    progress.finish_and_clear();
    if failures.is_empty() {
        return Ok(None);
    }
    for f in &failures {
        let label = &m.variants[f.variant].label;
        err!("variant {} ({label}) failed: {:#}", f.variant, f.error);
    }
    err!(
        "{} variant(s) failed; run the same command again to retry them (finished cells are kept)",
        failures.len()
    );
    Ok(Some(ExitCode::from(1)))
}

/// The cells still to run, once per distinct variant: those of `shard` if given (the cells
/// of the distinct variants in the design's order, replication by replication, dealt round
/// robin), and the variants whose summary is missing.
fn work(dir: &SweepDir, plan: &Plan, shard: Option<Shard>) -> Vec<VariantWork> {
    let m = &plan.manifest;
    let mut seen = std::collections::BTreeSet::new();
    let mut cell = 0u64;
    let mut work = Vec::new();
    for (i, v) in m.variants.iter().enumerate() {
        if !seen.insert(v.id.as_str()) {
            continue;
        }
        let mut missing = Vec::new();
        for r in 0..m.replications {
            let mine = shard.is_none_or(|s| cell % u64::from(s.n) == u64::from(s.k - 1));
            cell += 1;
            if mine && !dir.has_cell(&v.id, r) {
                missing.push(r);
            }
        }
        let unsummarised = shard.is_none() && !dir.has_summary(&v.id, m.replications);
        if !missing.is_empty() || unsummarised {
            work.push(VariantWork {
                variant: i,
                replications: missing,
            });
        }
    }
    work
}

/// `K/N` with 1 <= K <= N.
fn parse_shard(text: &str) -> Result<Shard> {
    let bad = |why: &str| {
        Usage(format!(
            "--shard '{text}': {why}\n    fix: give K/N with 1 <= K <= N, e.g. --shard 2/8 for the second of eight shards"
        ))
    };
    let (k, n) = text.split_once('/').ok_or_else(|| bad("expected K/N"))?;
    let (k, n): (u32, u32) = (
        k.trim()
            .parse()
            .map_err(|_| bad("K is not a whole number"))?,
        n.trim()
            .parse()
            .map_err(|_| bad("N is not a whole number"))?,
    );
    if n == 0 || k == 0 || k > n {
        return Err(bad(&format!("shard {k} of {n} does not exist")).into());
    }
    Ok(Shard { k, n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_is_k_of_n_counted_from_one() {
        assert_eq!(parse_shard("2/3").expect("valid"), Shard { k: 2, n: 3 });
        for bad in ["0/3", "4/3", "1/0", "a/2", "3", "-1/2"] {
            let e = parse_shard(bad).expect_err(bad);
            assert!(
                e.is::<Usage>() && e.to_string().contains("1 <= K <= N"),
                "{e}"
            );
        }
    }
}
