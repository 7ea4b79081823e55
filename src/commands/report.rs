//! `depinsim report`: a run's (or a finished sweep's) charts, report.html and report.md,
//! from the files in its directory; `run`, `viability`, `sweep` and `merge` call it at their
//! end unless `--no-report`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use depinsim::cli::ReportArgs;
use depinsim::export::report::{
    ReportFiles, ReportInputError, is_sweep, png, read_run_records, read_sweep_records,
    write_report,
};
use depinsim::report::html::{Page, SweepPage, html, markdown, sweep_html, sweep_markdown};
use depinsim::report::plot::chart::{Chart, SIZE};
use depinsim::report::plot::run::{CHART_STEMS, RunRecords, charts};
use depinsim::report::plot::sweep::{charts as sweep_charts, chosen_metrics};

/// Writes the report of the run or sweep in `args.dir`.
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

/// Renders the report of the run or sweep in `dir` in memory, then writes it; returns the
/// number of charts.
pub(super) fn write(dir: &Path) -> Result<usize> {
    let (files, ours) = if is_sweep(dir) {
        let files = render_sweep(dir)?;
        // A sweep's charts are named `sweep_*`: those of an earlier report are ours.
        let mut ours: Vec<String> = std::fs::read_dir(dir.join("plots"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with("sweep_") && (n.ends_with(".png") || n.ends_with(".svg")))
            .map(|n| format!("plots/{n}"))
            .collect();
        ours.extend(["report.html".to_string(), "report.md".to_string()]);
        (files, ours)
    } else {
        let ours = CHART_STEMS
            .iter()
            .flat_map(|s| [format!("plots/{s}.png"), format!("plots/{s}.svg")])
            .chain(["report.html".to_string(), "report.md".to_string()])
            .collect();
        (render(dir)?, ours)
    };
    // Nothing is written while anything stands in the way of a file.
    if let Some((name, _)) = files.iter().find(|(n, _)| dir.join(n).is_dir()) {
        return Err(ReportInputError {
            path: dir.join(name),
            message: "is a folder, where the report writes a file".into(),
            fix: "move it away, then run `depinsim report` again".into(),
        }
        .into());
    }
    write_report(dir, &files, &ours)?;
    Ok((files.len() - 2) / 2)
}

/// Each chart's PNG and SVG files, and its (title, SVG) for the page and (title, file) for
/// the Markdown.
type Drawn = (ReportFiles, Vec<(String, String)>, Vec<(String, String)>);

fn draw(drawn: &[(String, Chart)]) -> Result<Drawn> {
    let mut files = ReportFiles::new();
    let mut inline = Vec::new();
    let mut linked = Vec::new();
    for (stem, chart) in drawn {
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
    Ok((files, inline, linked))
}

/// Every file of a run's report, rendered: nothing is written if anything fails.
fn render(dir: &Path) -> Result<ReportFiles> {
    let r = read_run_records(dir)?;
    let drawn: Vec<(String, Chart)> = charts(&RunRecords {
        summary: &r.summary.metrics,
        rows: &r.rows,
        viability: r.viability.as_ref(),
        horizon_h: r.summary.horizon_h,
        warmup_h: r.summary.warmup_h,
    })
    .into_iter()
    .map(|(s, c)| (s.to_string(), c))
    .collect();
    let (mut files, inline, linked) = draw(&drawn)?;
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

/// Every file of a sweep's report, rendered.
fn render_sweep(dir: &Path) -> Result<ReportFiles> {
    let r = read_sweep_records(dir)?;
    let drawn = sweep_charts(&r.manifest, &r.compare, r.sensitivity.as_ref());
    let (mut files, inline, linked) = draw(&drawn)?;
    let metrics = chosen_metrics(&r.manifest, &r.compare);
    let page = SweepPage {
        manifest: &r.manifest,
        compare: &r.compare,
        metrics: &metrics,
    };
    files.push((
        "report.html".into(),
        sweep_html(&page, &inline).into_bytes(),
    ));
    files.push((
        "report.md".into(),
        sweep_markdown(&page, &linked).into_bytes(),
    ));
    Ok(files)
}
