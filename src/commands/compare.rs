//! `depinsim compare`: a sweep's variants against its baseline, or one run against another,
//! with paired intervals where the replications share seeds.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use depinsim::cli::CompareArgs;
use depinsim::export::sweep::SweepDir;
use depinsim::export::sweep_results::read_replications;
use depinsim::metrics::Metrics;
use depinsim::metrics::difference::{Pairing, differences};
use depinsim::report::compare::{Compared, table};

use super::Usage;

/// Prints the comparison table.
pub(super) fn compare(args: CompareArgs) -> Result<ExitCode> {
    match args.dirs.as_slice() {
        [sweep] => compare_sweep(sweep, &args),
        [a, b] => compare_runs(a, b, &args),
        _ => Err(Usage("give a sweep's directory, or two runs' directories".into()).into()),
    }
}

fn compare_sweep(path: &Path, args: &CompareArgs) -> Result<ExitCode> {
    if !path.join("sweep.json").is_file() {
        return Err(Usage(format!(
            "`{}` holds no sweep.json\n    fix: give a directory `depinsim sweep` wrote, or two runs' directories",
            path.display()
        ))
        .into());
    }
    let (dir, m) = SweepDir::existing(path)?;
    let baseline = match &args.baseline {
        None => m.baseline,
        Some(name) => m.variants.iter().position(|v| &v.label == name).ok_or_else(|| {
            Usage(format!(
                "baseline `{name}` is not a variant of the sweep in {}\n    fix: give one of the labels in its sweep.json",
                path.display()
            ))
        })?,
    };
    let cells = |id: &str| -> Result<Vec<Metrics>> {
        Ok(dir
            .read_cells(id, m.replications)
            .context("the sweep has not finished: run it again to complete it")?
            .into_iter()
            .map(|c| c.1)
            .collect())
    };
    let base = cells(&m.variants[baseline].id)?;
    let mut rows = Vec::new();
    for (i, v) in m.variants.iter().enumerate() {
        if i != baseline {
            rows.push(Compared {
                label: v.label.clone(),
                metrics: differences(&base, &cells(&v.id)?, Pairing::Paired),
            });
        }
    }
    let base_label = &m.variants[baseline].label;
    out!(
        "{}",
        table(base_label, Pairing::Paired, &rows, &args.metrics)
    );
    Ok(ExitCode::SUCCESS)
}

fn compare_runs(a: &Path, b: &Path, args: &CompareArgs) -> Result<ExitCode> {
    let read = |dir: &Path| {
        let file = dir.join("replications.parquet");
        if !file.is_file() {
            return Err(anyhow::Error::from(Usage(format!(
                "`{}` holds no replications.parquet\n    fix: give directories `depinsim run` wrote",
                dir.display()
            ))));
        }
        read_replications(&file).with_context(|| format!("reading {}", file.display()))
    };
    let (ra, rb) = (read(a)?, read(b)?);
    let n = ra.len().min(rb.len());
    let paired = ra.iter().zip(&rb).all(|(x, y)| x.0 == y.0);
    let pairing = if paired {
        Pairing::Paired
    } else {
        Pairing::Unpaired
    };
    let (ma, mb): (Vec<Metrics>, Vec<Metrics>) = match pairing {
        Pairing::Paired => (
            ra.into_iter().take(n).map(|c| c.1).collect(),
            rb.into_iter().take(n).map(|c| c.1).collect(),
        ),
        Pairing::Unpaired => (
            ra.into_iter().map(|c| c.1).collect(),
            rb.into_iter().map(|c| c.1).collect(),
        ),
    };
    let rows = [Compared {
        label: b.display().to_string(),
        metrics: differences(&ma, &mb, pairing),
    }];
    out!(
        "{}",
        table(&a.display().to_string(), pairing, &rows, &args.metrics)
    );
    Ok(ExitCode::SUCCESS)
}
