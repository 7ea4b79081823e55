//! `depinsim merge`: the shards of one sweep combined into what one machine would have
//! written. The shards must be every shard of the same sweep, and the sweep's files (base
//! scenario, overrides) must still describe it: the plan is made again from what sweep.json
//! records and checked against it, then the cells are copied and the sweep completed.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use depinsim::cli::MergeArgs;
use depinsim::export::sweep::{MANIFEST, Manifest, SweepDir};
use depinsim::scenario::overrides::parse_override;
use depinsim::scenario::sweep::{RawSweep, Sweep};

use super::Usage;
use super::sweep_finish::complete;
use super::sweep_plan::Plan;

/// Merges the shards into `--out`.
pub(super) fn merge(args: MergeArgs) -> Result<ExitCode> {
    let mut shards = Vec::new();
    for path in &args.shards {
        if !path.join(MANIFEST).is_file() {
            return Err(Usage(format!(
                "`{}` holds no {MANIFEST}\n    fix: give the directories `depinsim sweep --shard K/N` wrote",
                path.display()
            ))
            .into());
        }
        shards.push((path, SweepDir::existing(path)?));
    }
    let first = shards[0].1.1.clone();
    let whole = |m: &Manifest| Manifest {
        shard: None,
        ..m.clone()
    };
    let Some(s0) = first.shard else {
        return Err(Usage(format!(
            "`{}` holds a whole sweep, not a shard\n    fix: merge the directories of `depinsim sweep --shard K/N`",
            shards[0].0.display()
        ))
        .into());
    };
    let mut ks = BTreeSet::new();
    for (path, (_, m)) in &shards {
        let why = match m.shard {
            None => Some("it holds a whole sweep, not a shard".to_string()),
            Some(s) if s.n != s0.n => Some(format!("it is a shard of {}, not of {}", s.n, s0.n)),
            Some(s) if !ks.insert(s.k) => Some(format!("shard {}/{} is given twice", s.k, s.n)),
            Some(_) => whole(&first).conflict(&whole(m)),
        };
        if let Some(why) = why {
            return Err(Usage(format!(
                "cannot merge `{}` with `{}`: {why}\n    fix: merge every shard of one sweep, once each",
                path.display(),
                shards[0].0.display()
            ))
            .into());
        }
    }
    let missing: Vec<String> = (1..=s0.n)
        .filter(|k| !ks.contains(k))
        .map(|k| format!("{k}/{}", s0.n))
        .collect();
    if !missing.is_empty() {
        return Err(Usage(format!(
            "shard(s) {} missing\n    fix: run them (`depinsim sweep ... --shard K/N`) and give every shard's directory",
            missing.join(", ")
        ))
        .into());
    }

    // The plan made again from what the shards record must be the sweep they ran.
    let stale = |why: String| {
        Usage(format!(
            "the shards' sweep cannot be made again: {why}\n    fix: merge where the base scenario (`{}`) is as it was when the shards ran",
            first.base
        ))
    };
    let raw: RawSweep = serde_json::from_value(first.sweep.clone())
        .map_err(|e| stale(format!("{MANIFEST} is not readable ({e})")))?;
    let sweep = Sweep {
        raw,
        base: PathBuf::from(&first.base),
    };
    let common = first
        .set
        .iter()
        .map(|t| parse_override(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(stale)?;
    let baseline = first.variants[first.baseline].label.clone();
    let plan = Plan::new(sweep, common, Some(&baseline))?;
    if let Some(why) = plan.manifest.conflict(&whole(&first)) {
        return Err(stale(why).into());
    }

    // Every cell is found in a shard before anything is written.
    let m = &plan.manifest;
    let mut seen = BTreeSet::new();
    let mut copies = Vec::new();
    for v in &m.variants {
        if !seen.insert(v.id.as_str()) {
            continue;
        }
        for r in 0..m.replications {
            let Some((_, (from, _))) = shards.iter().find(|(_, (d, _))| d.has_cell(&v.id, r))
            else {
                return Err(Usage(format!(
                    "no shard holds replication {r} of variant `{}`\n    fix: run the shard that has it again to finish it, then merge",
                    v.label
                ))
                .into());
            };
            copies.push((from, v.id.as_str(), r));
        }
    }
    let (out, _) = SweepDir::open(&args.out, m, args.force)?;
    for (from, id, r) in copies {
        out.copy_cell(from, id, r)?;
    }
    complete(&plan, &out, args.quiet, !args.no_report)?;
    Ok(ExitCode::SUCCESS)
}
