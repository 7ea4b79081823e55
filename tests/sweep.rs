//! Sweeps end to end: the same answer whatever the threads or interruptions, common random
//! numbers, paired intervals, comparisons of runs, and bad input refused before anything runs.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use depinsim::core::rng::replication_seed;
use depinsim::experiment::run_replication;
use depinsim::metrics::Metrics;
use depinsim::metrics::difference::{Pairing, differences};
use depinsim::metrics::names;
use depinsim::scenario::load_str;
use depinsim::scenario::overrides::parse_override;

fn depinsim() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("depinsim");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// A quick sweep of the quickstart: 3 variants of 2 replications of 2 hours.
const SWEEP: [&str; 9] = [
    "sweep",
    "scenarios/quickstart.yaml",
    "--grid",
    "inference.users.0.rate_per_s=[1.5, 2, 2.5]",
    "--set",
    "simulation.horizon_h=2",
    "--replications",
    "2",
    "--quiet",
];

/// Every file of a sweep's directory but the cells, by relative path, with its bytes.
fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("ls") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("inside").display().to_string();
                files.push((rel, fs::read(&p).expect("read")));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_sweep_gives_the_same_files_whatever_the_threads_or_a_resume() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = |name: &str, threads: &str| {
        let out = tmp.path().join(name);
        depinsim()
            .args(SWEEP)
            .args(["--threads", threads, "--out"])
            .arg(&out)
            .assert()
            .success();
        out
    };
    let one = run("one", "1");
    let two = run("two", "2");
    let (a, b) = (outputs(&one), outputs(&two));
    let names: Vec<&str> = a.iter().map(|f| f.0.as_str()).collect();
    assert!(names.contains(&"results.parquet") && names.contains(&"compare.json"));
    assert_eq!(
        names.iter().filter(|n| n.ends_with("summary.json")).count(),
        3
    );
    assert_eq!(names.iter().filter(|n| n.starts_with("cells/")).count(), 6);
    assert_eq!(a, b, "threads 1 and 2 differ");

    // A resume after losing some cells and every assembled file runs only what is missing.
    let cells: Vec<String> = names
        .iter()
        .filter(|n| n.starts_with("cells/") && n.ends_with("1.json"))
        .map(|n| (*n).to_string())
        .collect();
    for c in &cells {
        fs::remove_file(two.join(c)).expect("rm cell");
    }
    fs::remove_file(two.join("results.parquet")).expect("rm");
    fs::remove_file(two.join("compare.json")).expect("rm");
    let resumed = depinsim()
        .args(SWEEP)
        .args(["--threads", "2", "--out"])
        .arg(&two)
        .assert()
        .success();
    let said = String::from_utf8_lossy(&resumed.get_output().stderr).into_owned();
    assert!(said.is_empty(), "quiet: {said}");
    assert_eq!(outputs(&two), a, "a resumed sweep differs");

    // More replications: the first two are kept as they were, two more run.
    let before = fs::read(one.join(&cells[0])).expect("cell");
    let four = SWEEP.map(|a| if a == "2" { "4" } else { a });
    depinsim()
        .args(four)
        .arg("--out")
        .arg(&one)
        .assert()
        .success();
    assert_eq!(fs::read(one.join(&cells[0])).expect("cell"), before);
    let summaries = outputs(&one)
        .into_iter()
        .filter(|f| f.0.ends_with("summary.json"))
        .count();
    assert_eq!(summaries, 3);
    let any = outputs(&one)
        .into_iter()
        .find(|f| f.0.ends_with("summary.json"))
        .expect("summary");
    assert!(String::from_utf8_lossy(&any.1).contains("\"replications\": 4"));
}

#[test]
fn a_sweep_killed_mid_run_resumes_to_the_same_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let args = [
        "sweep",
        "scenarios/quickstart.yaml",
        "--grid",
        "inference.users.0.rate_per_s=[1, 1.5, 2, 2.5, 3, 3.5]",
        "--set",
        "simulation.horizon_h=3",
        "--replications",
        "3",
        "--threads",
        "1",
        "--quiet",
    ];
    let whole = tmp.path().join("whole");
    depinsim()
        .args(args)
        .arg("--out")
        .arg(&whole)
        .assert()
        .success();

    let cut = tmp.path().join("cut");
    let bin = assert_cmd::cargo::cargo_bin!("depinsim");
    let mut child = std::process::Command::new(bin)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .arg("--out")
        .arg(&cut)
        .spawn()
        .expect("spawn");
    // Kill it (SIGKILL) once some cells are written and before the end.
    let started = Instant::now();
    let cells = || {
        fs::read_dir(cut.join("cells"))
            .map(|d| {
                d.flatten()
                    .map(|v| fs::read_dir(v.path()).map_or(0, |c| c.count()))
                    .sum::<usize>()
            })
            .unwrap_or(0)
    };
    while cells() < 2 && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(
        !cut.join("results.parquet").exists(),
        "the sweep finished before it was killed; give it more to do"
    );
    depinsim()
        .args(args)
        .arg("--out")
        .arg(&cut)
        .assert()
        .success();
    let clean = |dir: &Path| {
        outputs(dir)
            .into_iter()
            .filter(|f| !f.0.ends_with(".partial"))
            .collect::<Vec<_>>()
    };
    assert_eq!(clean(&cut), clean(&whole));
}

const SMALL: &str = "
simulation: {horizon_h: 2, warmup_h: 0.25, replications: 6, seed: 9}
regions: [{name: us-east}, {name: eu}]
network: {rtt_ms: {us-east: {eu: 90}}}
providers:
  - {name: dc, region: us-east, gpu: h100_sxm, count: 2, hourly_cost_usd: 1.5}
EXTRA
inference:
  model: {name: llama-3.1-8b, context_tokens: 8192}
  users: [{region: us-east, rate_per_s: 3}, {region: eu, rate_per_s: 1}]
";

fn small(extra: &str, sets: &[&str]) -> Vec<Metrics> {
    let text = SMALL.replace("EXTRA", extra);
    let ovs: Vec<_> = sets
        .iter()
        .map(|s| parse_override(s).expect("override"))
        .collect();
    let s = load_str(&text, "small", "small", &ovs).expect("valid");
    (0..s.replications())
        .map(|i| run_replication(&s, i).metrics)
        .collect()
}

#[test]
fn common_random_numbers_keep_the_arrivals_when_a_group_or_a_price_changes() {
    let base = small("", &[]);
    let more = small(
        "  - {name: gamers, region: eu, gpu: rtx_4090, count: 6, hourly_cost_usd: 0.2}",
        &[],
    );
    let dearer = small("", &["providers.0.price_usd_per_gpu_hour=4.5"]);
    let arrived = |m: &Metrics| m[names::inference::ARRIVED_REQUESTS];
    for i in 0..base.len() {
        assert_eq!(arrived(&base[i]), arrived(&more[i]), "replication {i}");
        assert_eq!(arrived(&base[i]), arrived(&dearer[i]), "replication {i}");
    }
    // The replications themselves differ from one another: they are not one run repeated.
    assert_ne!(arrived(&base[0]), arrived(&base[1]));
    // ... and the extra group did change what was served.
    assert_ne!(
        base[0][names::gpu::UTILISATION],
        more[0][names::gpu::UTILISATION]
    );
}

#[test]
fn a_paired_difference_is_far_narrower_than_an_unpaired_one() {
    // Two variants 1% apart in the request rate. Paired: the same seeds. Unpaired: the
    // variant on other seeds, as two separate studies would run it.
    let seeds: Vec<u64> = (0..8).map(|i| replication_seed(9, i)).collect();
    assert_eq!(seeds.len(), 8);
    let reps = "simulation.replications=8";
    let a = small("", &[reps]);
    let b = small("", &[reps, "inference.users.0.rate_per_s=3.03"]);
    let b_other = small(
        "",
        &[
            reps,
            "inference.users.0.rate_per_s=3.03",
            "simulation.seed=1009",
        ],
    );
    let key = names::inference::TTFT_P95;
    let width = |d: &depinsim::metrics::difference::Difference| {
        d.ci95_high.expect("ci") - d.ci95_low.expect("ci")
    };
    let paired = width(&differences(&a, &b, Pairing::Paired)[key]);
    let unpaired = width(&differences(&a, &b_other, Pairing::Unpaired)[key]);
    eprintln!(
        "TTFT p95 difference, 95% interval width: paired {paired:.3e} s, unpaired {unpaired:.3e} s ({:.1}x)",
        unpaired / paired
    );
    assert!(
        unpaired >= 3.0 * paired,
        "paired {paired:.3e}, unpaired {unpaired:.3e}: only {:.1}x narrower",
        unpaired / paired
    );
}

#[test]
fn two_runs_are_compared_paired_on_the_same_seeds_and_unpaired_otherwise() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = |name: &str, sets: &[&str]| {
        let out = tmp.path().join(name);
        let mut cmd = depinsim();
        cmd.args([
            "run",
            "scenarios/quickstart.yaml",
            "--quiet",
            "--replications",
            "3",
        ])
        .args(["--set", "simulation.horizon_h=2"]);
        for s in sets {
            cmd.args(["--set", s]);
        }
        cmd.arg("--out").arg(&out).assert().success();
        assert!(out.join("replications.parquet").is_file());
        out
    };
    let a = run("a", &[]);
    let b = run("b", &["inference.users.0.rate_per_s=2.5"]);
    let c = run("c", &["simulation.seed=7"]);
    let table = |x: &Path, y: &Path| {
        let o = depinsim().arg("compare").arg(x).arg(y).assert().success();
        String::from_utf8_lossy(&o.get_output().stdout).into_owned()
    };
    let ab = table(&a, &b);
    assert!(ab.contains("(paired") && ab.contains("TTFT p95"), "{ab}");
    let ac = table(&a, &c);
    assert!(ac.contains("UNPAIRED"), "{ac}");
}

/// Runs `sweep` with `args` and checks the failure contract: exit 2, every fragment in the
/// message, no output directory.
fn refused(args: &[&str], expect: &[&str]) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let o = depinsim()
        .arg("sweep")
        .args(args)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&o.get_output().stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    for e in expect {
        assert!(stderr.contains(e), "`{e}` not in:\n{stderr}");
    }
    assert!(!out.exists(), "an output directory was written");
}

#[test]
fn bad_sweeps_are_refused_before_anything_runs() {
    let q = "scenarios/quickstart.yaml";
    refused(
        &[q, "--grid", "providers.0.cuont=[1, 2]"],
        &["providers[0].cuont", "count", "in variant(s)", "1 problem"],
    );
    refused(&[q, "--grid", "providers.0.count=[]"], &["is empty"]);
    refused(
        &[q, "--grid", "providers.0.count=4"],
        &["must be a YAML list"],
    );
    refused(
        &[q, "--grid", "providers.0.count=[4, -1]"],
        &["providers[0].count", "providers.0.count=-1"],
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("s.yaml");
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join(q);
    fs::write(
        &file,
        format!(
            "base: {}\ndesign: {{random: {{samples: 4, axes: [{{path: providers.0.count, low: 9, high: 2}}]}}}}\n",
            base.display()
        ),
    )
    .expect("write");
    refused(
        &[file.to_str().expect("utf-8")],
        &["design.random.axes[0]", "above its high", "line 2"],
    );
    refused(&[q], &["this is a scenario, not a sweep file", "--grid"]);
    refused(&["missing.yaml"], &["cannot read", "missing.yaml"]);
}

#[test]
fn a_folder_of_another_sweep_is_refused_and_kept() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    depinsim()
        .args(SWEEP)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let before = outputs(&out);
    let o = depinsim()
        .args(SWEEP)
        .args(["--seed", "5", "--out"])
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&o.get_output().stderr).into_owned();
    assert!(
        stderr.contains("another sweep") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(outputs(&out), before);
    fs::write(tmp.path().join("notes"), "mine").expect("write");
    let mine = tmp.path().join("mine");
    fs::create_dir(&mine).expect("mkdir");
    fs::write(mine.join("notes.txt"), "precious").expect("write");
    depinsim()
        .args(SWEEP)
        .arg("--out")
        .arg(&mine)
        .assert()
        .code(2);
    assert_eq!(
        fs::read_to_string(mine.join("notes.txt")).expect("kept"),
        "precious"
    );
}

#[test]
fn every_shipped_sweep_file_loads_with_all_its_variants() {
    use depinsim::experiment::design::expand;
    use depinsim::scenario::load_file;
    use depinsim::scenario::sweep::{load_sweep, override_at};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("ls")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    for f in files {
        let s = load_sweep(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let (variants, _) = expand(&s.raw.design).expect("design");
        let common: Vec<_> = s
            .raw
            .set
            .iter()
            .map(|(p, v)| override_at(p, v).expect("path"))
            .collect();
        for v in variants {
            let mut ovs = common.clone();
            ovs.extend(
                v.params
                    .iter()
                    .map(|(p, x)| override_at(p, x).expect("path")),
            );
            load_file(&s.base, &ovs)
                .unwrap_or_else(|e| panic!("{}: variant {}: {e}", f.display(), v.label));
        }
    }
}

#[test]
fn a_morris_sweep_writes_its_indices_with_their_warnings() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("m.yaml");
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.yaml");
    fs::write(
        &file,
        format!(
            "base: {}\nset: {{simulation.horizon_h: 1.5, simulation.replications: 1}}\n\
             design: {{morris: {{trajectories: 3, axes: [{{path: inference.users.0.rate_per_s, low: 1, high: 4}}, \
             {{path: providers.0.hourly_cost_usd, low: 1, high: 3}}]}}}}\n\
             metrics: [{}]\n",
            base.display(),
            names::inference::ARRIVED_REQUESTS
        ),
    )
    .expect("write");
    let out = tmp.path().join("out");
    let o = depinsim()
        .arg("sweep")
        .arg(&file)
        .args(["--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&o.get_output().stderr).into_owned();
    assert!(stderr.contains("only 3 Morris trajectories"), "{stderr}");
    let s: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("sensitivity.json")).expect("read"))
            .expect("json");
    let ix = &s[names::inference::ARRIVED_REQUESTS]["indices"];
    // A provider's cost does not change what users ask for: with common random numbers its
    // elementary effects on arrivals are exactly zero, while the rate's are not.
    assert_eq!(ix[1]["axis"], "providers.0.hourly_cost_usd");
    assert_eq!(ix[1]["mu_star"], 0.0);
    assert!(ix[0]["mu_star"].as_f64().expect("mu*") > 0.0);
    // 3 trajectories of 3 points each.
    let m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("sweep.json")).expect("read"))
            .expect("json");
    assert_eq!(m["variants"].as_array().expect("list").len(), 9);
}

#[test]
fn shards_merged_are_byte_identical_to_one_machine() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let whole = tmp.path().join("whole");
    depinsim()
        .args(SWEEP)
        .arg("--out")
        .arg(&whole)
        .assert()
        .success();
    let shard = |k: u32, n: u32| {
        let out = tmp.path().join(format!("s{k}of{n}"));
        depinsim()
            .args(SWEEP)
            .args(["--shard", &format!("{k}/{n}"), "--out"])
            .arg(&out)
            .assert()
            .success();
        out
    };
    let merged = |name: &str, shards: &[std::path::PathBuf]| {
        let out = tmp.path().join(name);
        depinsim()
            .arg("merge")
            .args(shards)
            .args(["--quiet", "--out"])
            .arg(&out)
            .assert()
            .success();
        out
    };
    let one = merged("one", &[shard(1, 1)]);
    let three: Vec<_> = (1..=3).map(|k| shard(k, 3)).collect();
    // Each shard holds its share of the 6 cells and no assembled file.
    for s in &three {
        let files = outputs(s);
        assert_eq!(
            files.iter().filter(|f| f.0.starts_with("cells/")).count(),
            2
        );
        assert!(!s.join("results.parquet").exists());
    }
    let merged3 = merged("three", &three);
    assert_eq!(outputs(&one), outputs(&whole));
    assert_eq!(outputs(&merged3), outputs(&whole));

    // Shards of another sweep, a shard given twice or missing, a whole sweep: refused.
    let other = tmp.path().join("other");
    depinsim()
        .args(SWEEP)
        .args(["--seed", "77", "--shard", "3/3", "--out"])
        .arg(&other)
        .assert()
        .success();
    let refuse = |shards: &[&Path], want: &str| {
        let out = tmp.path().join("refused");
        let o = depinsim()
            .arg("merge")
            .args(shards)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&o.get_output().stderr).into_owned();
        assert!(stderr.contains(want), "`{want}` not in {stderr}");
        assert!(!out.exists(), "an output directory was written");
    };
    refuse(&[&three[0], &three[1], &other], "another sweep");
    refuse(&[&three[0], &three[0], &three[2]], "given twice");
    refuse(&[&three[0], &three[2]], "shard(s) 2/3 missing");
    refuse(&[&three[0], &whole], "a whole sweep, not a shard");
    for bad in ["0/3", "4/3", "2"] {
        refused(
            &[
                "scenarios/quickstart.yaml",
                "--grid",
                "providers.0.count=[4]",
                "--shard",
                bad,
            ],
            &["--shard", "1 <= K <= N"],
        );
    }
}

#[test]
fn a_target_half_width_adds_paired_blocks_until_met_or_capped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = [
        "sweep",
        "scenarios/quickstart.yaml",
        "--grid",
        "inference.users.0.rate_per_s=[1.5, 2]",
        "--set",
        "simulation.horizon_h=2",
        "--quiet",
    ];
    // An unreachable target: blocks of 2 replications up to the cap of 6.
    let adaptive = tmp.path().join("adaptive");
    let o = depinsim()
        .args(base)
        .args(["--replications", "2", "--max-replications", "6"])
        .args([
            "--target-halfwidth",
            "inference.ttft_s.p95=0.0001%",
            "--out",
        ])
        .arg(&adaptive)
        .assert()
        .success();
    let said = String::from_utf8_lossy(&o.get_output().stderr).into_owned();
    assert!(said.contains("cap of 6 replications"), "{said}");
    // What it gives is what 6 replications from the start give.
    let fixed = tmp.path().join("fixed");
    depinsim()
        .args(base)
        .args(["--replications", "6", "--out"])
        .arg(&fixed)
        .assert()
        .success();
    let without_manifest = |d: &Path| {
        outputs(d)
            .into_iter()
            .filter(|f| f.0 != "sweep.json")
            .collect::<Vec<_>>()
    };
    assert_eq!(without_manifest(&adaptive), without_manifest(&fixed));
    // A loose target is met at once.
    let loose = tmp.path().join("loose");
    let o = depinsim()
        .args(base)
        .args([
            "--replications",
            "2",
            "--target-halfwidth",
            "inference.ttft_s.p95=50%",
            "--out",
        ])
        .arg(&loose)
        .assert()
        .success();
    let said = String::from_utf8_lossy(&o.get_output().stderr).into_owned();
    assert!(said.contains("met with 2 replications"), "{said}");
}

#[test]
fn a_capacity_search_brackets_the_rate_where_the_attainment_crosses_its_target() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("cap");
    let args = [
        "capacity",
        "scenarios/quickstart.yaml",
        "--vary",
        "inference.users.0.rate_per_s",
        "--set",
        "simulation.horizon_h=1",
        "--set",
        "simulation.warmup_h=0.25",
        "--replications",
        "2",
        "--tolerance",
        "4",
        "--quiet",
    ];
    depinsim()
        .args(args)
        .args(["--low", "1", "--high", "200", "--out"])
        .arg(&out)
        .assert()
        .success();
    let c: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("capacity.json")).expect("read"))
            .expect("json");
    let found = &c["search"]["outcome"]["found"];
    let (cap, miss) = (
        found["capacity"].as_f64().expect("capacity"),
        found["misses_at"].as_f64().expect("misses"),
    );
    assert!(cap < miss && miss - cap <= 4.0, "{c}");
    // The probes at both ends of the answer say what the answer says.
    let probes = c["search"]["probes"].as_array().expect("probes");
    let at = |x: f64| {
        probes
            .iter()
            .find(|p| p["value"].as_f64() == Some(x))
            .and_then(|p| p["mean"].as_f64())
            .expect("probed")
    };
    assert!(at(cap) >= 0.95 && at(miss) < 0.95);
    let bracket = c["search"]["bracket"].as_array().expect("bracket");
    let (a, b) = (
        bracket[0].as_f64().expect("a"),
        bracket[1].as_f64().expect("b"),
    );
    assert!(a <= cap && miss <= b, "{a} {cap} {miss} {b}");

    // A range upside down is refused before anything runs.
    let bad = tmp.path().join("bad");
    depinsim()
        .args(args)
        .args(["--low", "9", "--high", "2", "--out"])
        .arg(&bad)
        .assert()
        .code(2);
    assert!(!bad.exists());
}
