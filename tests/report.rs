//! `depinsim report` (and the report `run` and `viability` write at their end): every chart
//! as PNG and SVG with its title and axis labels, pictures that are not blank, one
//! self-contained HTML page that escapes the scenario's text, the same bytes for the same
//! run, only its own files replaced, and bad input refused. See issue 16.

use std::fs;
use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;

fn depinsim() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("depinsim");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// training-vs-inference for two days (inference, training, fine-tuning and the viability
/// table), then token-designs for three (the token's charts).
fn runs(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let jobs = dir.join("jobs");
    depinsim()
        .args([
            "viability",
            "scenarios/training-vs-inference.yaml",
            "--quiet",
            "--replications",
            "4",
        ])
        .args(["--set", "simulation.horizon_h=48", "--out"])
        .arg(&jobs)
        .assert()
        .success();
    let tokens = dir.join("tokens");
    depinsim()
        .args([
            "run",
            "scenarios/token-designs.yaml",
            "--quiet",
            "--replications",
            "4",
        ])
        .args(["--set", "simulation.horizon_h=72", "--out"])
        .arg(&tokens)
        .assert()
        .success();
    (jobs, tokens)
}

/// quickstart for `hours`, 2 replications, without a report, into `run`.
fn quick_run(run: &Path, hours: &str) {
    depinsim()
        .args(["run", "scenarios/quickstart.yaml", "--quiet", "--no-report"])
        .args(["--replications", "2", "--set"])
        .arg(format!("simulation.horizon_h={hours}"))
        .arg("--out")
        .arg(run)
        .assert()
        .success();
}

/// Distinct colours among the pixels of a PNG.
fn colours(png: &Path) -> usize {
    let img = image::open(png).expect("a PNG").to_rgb8();
    let set: std::collections::BTreeSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    set.len()
}

#[test]
fn every_chart_is_a_picture_with_its_labels_and_the_page_stands_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (jobs, tokens) = runs(dir.path());
    // (run, chart, texts its SVG must hold: title, axis labels, legend)
    let charts: [(&Path, &str, &[&str]); 10] = [
        (
            &jobs,
            "utilisation",
            &[
                "GPU utilisation over time",
                "simulated time (h)",
                "busy share of GPU-time",
                "warm-up",
            ],
        ),
        (
            &jobs,
            "gpus",
            &["GPUs in the network", "GPUs at the end of the epoch"],
        ),
        (
            &jobs,
            "latency_by_region",
            &[
                "Time to first token by users",
                "time to first token (s)",
                "TTFT p99",
                "us-east",
            ],
        ),
        (
            &jobs,
            "attainment_by_region",
            &[
                "Latency objectives met",
                "share of requests",
                "both objectives",
            ],
        ),
        (
            &jobs,
            "provider_roi",
            &[
                "return on their costs",
                "(income - cost) / cost",
                "break-even",
            ],
        ),
        (
            &jobs,
            "training",
            &["goodput and time computing", "job class", "pretrain-70b"],
        ),
        (
            &jobs,
            "training_lost",
            &["Work lost to failures", "work lost per job (h)"],
        ),
        (
            &jobs,
            "viability",
            &[
                "against each tier of the cloud",
                "network cost / cloud cost",
                "against hyperscaler",
                "the cloud",
            ],
        ),
        (&tokens, "token_price", &["Token price", "USD per token"]),
        (
            &tokens,
            "token_supply",
            &["Token supply", "circulating", "staked", "burned"],
        ),
    ];
    for (run, name, texts) in charts {
        let png = run.join("plots").join(format!("{name}.png"));
        let size = fs::metadata(&png)
            .unwrap_or_else(|_| panic!("{name}.png"))
            .len();
        assert!(size > 10_000, "{name}.png is only {size} bytes");
        // Not blank nor one colour: axes, text, bars or lines and their bands.
        assert!(
            colours(&png) > 30,
            "{name}.png has {} colours",
            colours(&png)
        );
        let svg = fs::read_to_string(run.join("plots").join(format!("{name}.svg"))).expect("svg");
        for t in texts {
            assert!(svg.contains(t), "{name}.svg lacks `{t}`");
        }
    }
    // A run without a token draws no token chart.
    assert!(!jobs.join("plots/token_price.png").exists());

    let html = fs::read_to_string(jobs.join("report.html")).expect("report.html");
    assert!(html.len() < 3_000_000, "{} bytes", html.len());
    for t in [
        "The question",
        "Headline",
        "Viability against the cloud",
        "Warnings",
        "Provenance",
        "<svg",
        "@font-face",
        "data:font/ttf;base64,",
    ] {
        assert!(html.contains(t), "report.html lacks `{t}`");
    }
    // The scenario's opening comment, kept in run.json since the resolved scenario has none.
    assert!(
        html.contains("which of them is\nviable, and at what cost against a centralized cloud?")
    );
    // Nothing fetched: no script, and no src or href but data.
    assert!(!html.contains("<script"));
    for attr in ["src=", "href="] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            assert!(
                rest.trim_start_matches(['"', '\'']).starts_with("data:"),
                "{attr} at {i}"
            );
        }
    }
    assert!(!html.contains("url(http") && !html.contains("@import"));
    let md = fs::read_to_string(jobs.join("report.md")).expect("report.md");
    assert!(md.contains("| metric |") && md.contains("plots/utilisation.png"));
}

#[test]
fn a_report_is_the_same_bytes_again_and_touches_only_its_own_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("q");
    quick_run(&run, "3");
    assert!(
        !run.join("report.html").exists(),
        "--no-report wrote a report"
    );
    depinsim().arg("report").arg(&run).assert().success();
    let snapshot = |d: &Path| -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<_> = ["report.html", "report.md"]
            .iter()
            .map(|n| (n.to_string(), fs::read(d.join(n)).expect("file")))
            .collect();
        let mut plots: Vec<_> = fs::read_dir(d.join("plots"))
            .expect("plots")
            .map(|e| e.expect("entry").path())
            .collect();
        plots.sort();
        for p in plots {
            files.push((p.display().to_string(), fs::read(&p).expect("plot")));
        }
        files
    };
    let first = snapshot(&run);
    // The user's own files, and a chart of ours that no longer applies.
    fs::write(run.join("notes.txt"), "mine").expect("write");
    fs::write(run.join("plots/mine.svg"), "mine").expect("write");
    fs::write(run.join("plots/token_price.png"), "stale").expect("write");
    depinsim()
        .args(["report", "--quiet"])
        .arg(&run)
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(run.join("notes.txt")).expect("kept"),
        "mine"
    );
    assert_eq!(
        fs::read_to_string(run.join("plots/mine.svg")).expect("kept"),
        "mine"
    );
    assert!(
        !run.join("plots/token_price.png").exists(),
        "a stale chart of ours was kept"
    );
    fs::remove_file(run.join("plots/mine.svg")).expect("remove");
    assert_eq!(snapshot(&run), first, "the same run gave other bytes");
}

#[test]
fn the_scenarios_text_is_escaped_in_the_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("x");
    depinsim()
        .args([
            "run",
            "scenarios/quickstart.yaml",
            "--quiet",
            "--replications",
            "2",
        ])
        .args([
            "--set",
            "simulation.horizon_h=2",
            "--set",
            "name=<script>alert(1)</script>",
            "--out",
        ])
        .arg(&run)
        .assert()
        .success();
    let html = fs::read_to_string(run.join("report.html")).expect("report.html");
    assert!(
        !html.contains("<script"),
        "the name reached the page unescaped"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Markdown renders raw HTML on a pull request: there too.
    let md = fs::read_to_string(run.join("report.md")).expect("report.md");
    assert!(
        !md.contains("<script") && md.contains("&lt;script&gt;"),
        "{md}"
    );
    for svg in fs::read_dir(run.join("plots")).expect("plots") {
        let text = fs::read_to_string(svg.expect("entry").path()).unwrap_or_default();
        assert!(!text.contains("<script"));
    }
}

#[test]
fn what_is_not_a_run_is_refused_and_no_report_is_left() {
    let dir = tempfile::tempdir().expect("tempdir");
    let refused = |path: &Path, want: &str| {
        let out = depinsim().arg("report").arg(path).output().expect("runs");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(want) && err.contains("fix:"), "{err}");
        assert!(!path.join("report.html").exists());
    };
    refused(dir.path(), "summary.json");
    let run = dir.path().join("q");
    quick_run(&run, "2");
    // A folder where the page goes: refused before any chart is written.
    fs::create_dir(run.join("report.html")).expect("mkdir");
    let out = depinsim().arg("report").arg(&run).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !run.join("plots").exists(),
        "charts were written before the refusal"
    );
    fs::remove_dir(run.join("report.html")).expect("rmdir");
    // A viability.json that is JSON but not a viability table.
    fs::write(run.join("viability.json"), "{\"a\": 1}").expect("write");
    refused(&run, "viability.json");
    fs::remove_file(run.join("viability.json")).expect("remove");
    fs::write(run.join("plots"), "not a folder").expect("write");
    refused(&run, "plots");
    fs::remove_file(run.join("plots")).expect("remove");
    fs::write(dir.path().join("sweep.json"), "{}").expect("write");
    refused(dir.path(), "sweep");
    let summary = fs::read(run.join("summary.json")).expect("summary");
    fs::write(run.join("summary.json"), &summary[..summary.len() / 2]).expect("damage");
    refused(&run, "summary.json");
    fs::write(run.join("summary.json"), &summary).expect("restore");
    let info = fs::read_to_string(run.join("run.json")).expect("run.json");
    let old = info.replacen(
        &format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"version\": \"0.0.1\"",
        1,
    );
    fs::write(run.join("run.json"), old).expect("write");
    refused(&run, "written by depinsim 0.0.1");
}

#[test]
fn a_sweeps_report_draws_each_change_the_sensitivity_and_the_front() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("sens");
    depinsim()
        .args([
            "sweep",
            "scenarios/sweeps/quickstart-sensitivity.yaml",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let plots = out.join("plots");
    // Three metrics by three inputs, a tornado per metric, and the front.
    for stem in [
        "sweep_change_0_0",
        "sweep_change_2_2",
        "sweep_sensitivity_0",
        "sweep_sensitivity_2",
        "sweep_front",
    ] {
        let png = plots.join(format!("{stem}.png"));
        assert!(fs::metadata(&png).expect("png").len() > 10_000, "{stem}");
        assert!(colours(&png) > 30, "{stem}");
    }
    let tornado = fs::read_to_string(plots.join("sweep_sensitivity_2.svg")).expect("svg");
    for t in [
        "What moves provider.net_profit_usd.total",
        "mu* (mean absolute elementary effect)",
        "providers.eu-gamers-4090.hourly_cost_usd",
    ] {
        assert!(tornado.contains(t), "{t}");
    }
    let change = fs::read_to_string(plots.join("sweep_change_0_0.svg")).expect("svg");
    assert!(change.contains("inference.ttft_s.p95 against inference.users.0.rate_per_s"));
    assert!(change.contains("change of inference.ttft_s.p95 from the baseline"));
    let front = fs::read_to_string(plots.join("sweep_front.svg")).expect("svg");
    assert!(
        front.contains("none both faster and cheaper")
            && front.contains("time to first token, p95 (s)")
    );
    let html = fs::read_to_string(out.join("report.html")).expect("html");
    assert!(html.contains("Variants against the baseline") && html.contains("sample 0"));
    assert!(!html.contains("<script"));
    // Drawn again from the same files: the same bytes.
    let before = fs::read(out.join("report.html")).expect("html");
    depinsim()
        .args(["report", "--quiet"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(fs::read(out.join("report.html")).expect("html"), before);
}

#[test]
fn a_list_sweep_draws_each_variants_change_of_the_metrics_it_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sweep = dir.path().join("h100s.yaml");
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.yaml");
    fs::write(
        &sweep,
        format!(
            "base: {}\nset: {{simulation.horizon_h: 3, simulation.replications: 2}}\n\
             metrics: [inference.ttft_s.p95, region.us-east.ttft_s.p95]\n\
             design:\n  list:\n    variants:\n      - name: as shipped\n\
             \x20     - {{name: more H100s, set: {{providers.us-dc-h100.count: 16}}}}\n",
            base.display()
        ),
    )
    .expect("write");
    let out = dir.path().join("out");
    depinsim()
        .arg("sweep")
        .arg(&sweep)
        .args(["--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    // The two metrics the file names, in its order: a bar for each variant's change, and no
    // sensitivity indices (a `list` design gives none).
    let plots = out.join("plots");
    let us = fs::read_to_string(plots.join("sweep_variants_1.svg")).expect("svg");
    for t in [
        "Change of region.us-east.ttft_s.p95 from as shipped",
        "more H100s",
        "paired difference from the baseline (95% interval)",
    ] {
        assert!(us.contains(t), "{t}");
    }
    let png = plots.join("sweep_variants_0.png");
    assert!(fs::metadata(&png).expect("png").len() > 10_000);
    assert!(colours(&png) > 30);
    assert!(!plots.join("sweep_variants_2.png").exists());
    assert!(!out.join("sensitivity.json").exists());
}

#[test]
fn a_grid_over_two_parameters_is_drawn_as_a_heatmap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("grid");
    depinsim()
        .args([
            "sweep",
            "scenarios/quickstart.yaml",
            "--quiet",
            "--replications",
            "2",
        ])
        .args(["--set", "simulation.horizon_h=2"])
        .args(["--grid", "inference.users.0.rate_per_s=[1.5, 3]"])
        .args(["--grid", "providers.us-dc-h100.count=[4, 8]", "--out"])
        .arg(&out)
        .assert()
        .success();
    // No sweep metrics named: the headline ones, the first of which is completed requests.
    let svg = fs::read_to_string(out.join("plots/sweep_grid_0.svg")).expect("heatmap");
    assert!(svg.contains("over inference.users.0.rate_per_s and providers.us-dc-h100.count"));
    // The SVG's texts, trimmed: every axis value is a label.
    let texts: Vec<&str> = svg
        .split("<text")
        .skip(1)
        .filter_map(|t| Some(t.split_once('>')?.1.split("</text>").next()?.trim()))
        .collect();
    for v in ["1.5", "3", "4", "8"] {
        assert!(texts.contains(&v), "axis value {v}: {texts:?}");
    }
    assert!(colours(&out.join("plots/sweep_grid_0.png")) > 30);
}
