//! `depinsim report`: a run's charts, report.html and report.md, from the files in its
//! directory; `run` and `viability` call it at their end unless `--no-report`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use depinsim::cli::ReportArgs;
use depinsim::export::report::{ReportFiles, png, read_run_records, write_report};
use depinsim::report::html::{Page, html, markdown};
use depinsim::report::plot::chart::SIZE;
use depinsim::report::plot::run::{CHART_STEMS, RunRecords, charts};

/// Writes the report of the run in `args.dir`.
pub(super) fn report(args: ReportArgs) -> Result<ExitCode> {
    let written = write(&args.dir)?;
    if !args.quiet {
        out!(
            "wrote {} and {written} charts under {}",
            args.dir.join("report.html").display(),
            args.dir.join("plots").display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Renders the report of the run in `dir` in memory, then writes it; returns the number of
/// charts.
pub(super) fn write(dir: &Path) -> Result<usize> {
    let files = render(dir)?;
    let ours: Vec<String> = CHART_STEMS
        .iter()
        .flat_map(|s| [format!("plots/{s}.png"), format!("plots/{s}.svg")])
        .chain(["report.html".to_string(), "report.md".to_string()])
        .collect();
    write_report(dir, &files, &ours)?;
    Ok((files.len() - 2) / 2)
}

/// Every file of the report, rendered: nothing is written if anything fails.
fn render(dir: &Path) -> Result<ReportFiles> {
    let r = read_run_records(dir)?;
    let drawn = charts(&RunRecords {
        summary: &r.summary.metrics,
        rows: &r.rows,
        viability: r.viability.as_ref(),
    });
    let mut files = ReportFiles::new();
    let mut inline = Vec::new();
    let mut linked = Vec::new();
    for (stem, chart) in &drawn {
        let svg = chart
            .svg()
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("drawing the chart {stem}"))?;
        let rgb = chart.rgb().map_err(anyhow::Error::msg)?;
        let png = png(&rgb, SIZE.0, SIZE.1).map_err(anyhow::Error::msg)?;
        inline.push((chart.title().to_string(), svg.clone()));
        linked.push((chart.title().to_string(), format!("plots/{stem}.png")));
        files.push((format!("plots/{stem}.png"), png));
        files.push((format!("plots/{stem}.svg"), svg.into_bytes()));
    }
    let page = Page {
        scenario: &r.summary.scenario,
        summary: &r.summary.metrics,
        info: &r.info,
        viability: r.viability.as_ref(),
        seed: r.summary.seed,
        replications: r.summary.replications,
        horizon_h: r.summary.horizon_h,
        warmup_h: r.summary.warmup_h,
    };
    files.push(("report.html".into(), html(&page, &inline).into_bytes()));
    files.push(("report.md".into(), markdown(&page, &linked).into_bytes()));
    Ok(files)
}
