//! `depinsim baseline` and `depinsim check` end to end: the exact tier, regressions that a
//! change of design makes and no others, changes within the margins, inconclusive runs, the
//! JUnit file as a CI system reads it, the false-alarm rate and power the self-test measures,
//! and bad input. See issue 15.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use depinsim::metrics::names;
use serde_json::Value;

/// token-designs shortened: three days, 8 replications (a second of running).
const TOKENS: &str = "scenarios/token-designs.yaml";
const SHORT: [&str; 4] = ["--set", "simulation.horizon_h=72", "--replications", "8"];

fn depinsim() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("depinsim");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// Writes the baseline of token-designs, short, in `dir`.
fn tokens_baseline(dir: &Path) -> PathBuf {
    let file = dir.join("token-designs.baseline.json");
    depinsim()
        .args(["baseline", TOKENS, "--quiet", "--out"])
        .arg(&file)
        .args(SHORT)
        .assert()
        .success();
    file
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).expect("file")).expect("JSON")
}

/// Checks token-designs against `baseline` with `set` overrides; returns the exit code and
/// check.json.
fn check_tokens(baseline: &Path, dir: &Path, set: &[&str]) -> (i32, Value) {
    let json = dir.join(format!("check-{}.json", set.len()));
    let _ = fs::remove_file(&json);
    let mut cmd = depinsim();
    cmd.args(["check", TOKENS, "--quiet", "--baseline"])
        .arg(baseline)
        .arg("--json")
        .arg(&json);
    for s in set {
        cmd.args(["--set", s]);
    }
    let out = cmd.output().expect("runs");
    let code = out.status.code().expect("exit code");
    (code, read_json(&json))
}

fn verdict<'a>(check: &'a Value, metric: &str) -> &'a str {
    check["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["metric"] == metric)
        .unwrap_or_else(|| panic!("{metric} not judged"))["verdict"]
        .as_str()
        .expect("verdict")
}

fn judged<'a>(check: &'a Value, metric: &str) -> &'a Value {
    check["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["metric"] == metric)
        .expect("judged")
}

#[test]
fn an_unchanged_model_passes_on_the_exact_tier_and_the_junit_file_parses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let baseline = tokens_baseline(dir.path());
    let b = read_json(&baseline);
    assert_eq!(b["scenario"], "token-designs");
    assert_eq!(b["seeds"].as_array().expect("seeds").len(), 8);
    assert_eq!(b["overrides"][0], "simulation.horizon_h=72");
    let values = b["metrics"][names::token::MINTED]["values"]
        .as_array()
        .expect("values");
    assert_eq!(values.len(), 8);

    // A scenario run by `check` on the baseline's seed and overrides.
    let junit = dir.path().join("junit.xml");
    let json = dir.path().join("check.json");
    depinsim()
        .args(["check", TOKENS, "--quiet", "--baseline"])
        .arg(&baseline)
        .arg("--junit")
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .assert()
        .code(0);
    let c = read_json(&json);
    assert_eq!(
        (c["tier"].as_str(), c["exit_code"].as_u64()),
        (Some("exact"), Some(0))
    );
    assert_eq!(c["summary_sha256"], b["summary_sha256"]);

    // The JUnit file, read as a CI system reads it.
    let text = fs::read_to_string(&junit).expect("junit");
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    assert_eq!(suite.attribute("name"), Some("token-designs"));
    let props: Vec<(&str, &str)> = suite
        .children()
        .filter(|n| n.has_tag_name("properties"))
        .flat_map(|p| p.children().filter(|n| n.has_tag_name("property")))
        .map(|p| {
            (
                p.attribute("name").expect("name"),
                p.attribute("value").expect("value"),
            )
        })
        .collect();
    assert!(props.contains(&("seed", "42")), "{props:?}");
    assert!(props.contains(&("depinsim_version", env!("CARGO_PKG_VERSION"))));
    assert!(props.contains(&("tier", "exact")));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let metrics = b["metrics"].as_object().expect("metrics").len();
    assert_eq!(cases.len(), metrics);
    assert_eq!(suite.attribute("tests"), Some(metrics.to_string().as_str()));
    assert_eq!(suite.attribute("failures"), Some("0"));
    assert!(
        cases
            .iter()
            .all(|c| !c.children().any(|n| n.has_tag_name("failure")))
    );

    // The same from a run's directory; check.json goes into it.
    let run = dir.path().join("run");
    depinsim()
        .args(["run", TOKENS, "--quiet", "--out"])
        .arg(&run)
        .args(SHORT)
        .assert()
        .success();
    depinsim()
        .args(["check", "--quiet", "--baseline"])
        .arg(&baseline)
        .arg(&run)
        .assert()
        .code(0);
    assert_eq!(read_json(&run.join("check.json"))["tier"], "exact");
}

#[test]
fn a_change_of_design_fails_on_the_metrics_it_moves_and_no_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let baseline = tokens_baseline(dir.path());
    // Emissions +10%: 4,566.21 tokens an hour become 5,022.83.
    let (code, c) = check_tokens(
        &baseline,
        dir.path(),
        &["token.emission.schedule.exponential_decay.initial_per_epoch=5022.83105022831"],
    );
    assert_eq!((code, c["tier"].as_str()), (1, Some("statistical")));
    let minted = judged(&c, names::token::MINTED);
    assert_eq!(minted["verdict"], "regression");
    // Every epoch mints 10% more: the change is 10% of the baseline in every replication.
    let ratio =
        minted["change"].as_f64().expect("change") / minted["baseline"].as_f64().expect("b");
    assert!((ratio - 0.1).abs() < 1e-9, "{ratio}");
    for unrelated in [
        names::inference::TTFT_P99,
        names::inference::COMPLETED_REQUESTS,
        names::gpu::UTILISATION,
        names::provider::REVENUE_USD,
    ] {
        assert_eq!(verdict(&c, unrelated), "pass", "{unrelated}");
    }

    // The gaming cards' price +25% (0.38 USD an hour, the class's default, to 0.475).
    let (code, c) = check_tokens(
        &baseline,
        dir.path(),
        &["providers.1.price_usd_per_gpu_hour=0.475"],
    );
    assert_eq!(code, 1);
    let revenue = judged(&c, &names::pool("eu-gamers-4090", names::pool::REVENUE_USD));
    assert_eq!(revenue["verdict"], "regression");
    let ratio = revenue["change"].as_f64().expect("c") / revenue["baseline"].as_f64().expect("b");
    // Revenue is price x busy GPU-time, and the price does not steer requests here.
    assert!((ratio - 0.25).abs() < 1e-6, "{ratio}");
    for unrelated in [
        names::inference::TTFT_P99,
        names::token::MINTED,
        &names::pool("us-dc-h100", names::pool::REVENUE_USD),
    ] {
        assert_eq!(verdict(&c, unrelated), "pass", "{unrelated}");
    }

    // The same price +1%: well inside every 2% margin, so the check passes (exit 0)
    // although summary.json differs.
    let (code, c) = check_tokens(
        &baseline,
        dir.path(),
        &["providers.1.price_usd_per_gpu_hour=0.3838"],
    );
    assert_eq!((code, c["tier"].as_str()), (0, Some("statistical")));
    assert!(
        c["metrics"]
            .as_array()
            .expect("m")
            .iter()
            .all(|m| m["verdict"] == "pass")
    );
}

#[test]
fn noise_the_replications_cannot_resolve_is_inconclusive_with_exit_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let baseline = tokens_baseline(dir.path());
    // Replace one metric's baseline values by the run's own +/-5%, alternately: mean change
    // 0, std 5.3%, so the 90% interval (+/- 1.895 x 5.3% / sqrt 8 = +/- 3.6%) is wider than
    // the 2% margin, and no test rejects.
    let mut b = read_json(&baseline);
    let metric = names::token::MINTED_USD;
    let values = b["metrics"][metric]["values"]
        .as_array_mut()
        .expect("values");
    for (i, v) in values.iter_mut().enumerate() {
        let x = v.as_f64().expect("value");
        *v = Value::from(x * if i % 2 == 0 { 1.05 } else { 0.95 });
    }
    b["summary_sha256"] = Value::from("0".repeat(64));
    fs::write(&baseline, serde_json::to_string_pretty(&b).expect("json")).expect("write");
    let (code, c) = check_tokens(&baseline, dir.path(), &[]);
    assert_eq!(code, 3);
    assert_eq!(c["outcome"], "inconclusive");
    let j = judged(&c, metric);
    assert_eq!(j["verdict"], "inconclusive");
    assert!(j["replications_needed"].as_u64().expect("needed") > 8);
}

#[test]
fn a_baseline_is_renewed_beside_the_old_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let baseline = tokens_baseline(dir.path());
    // A margin edited by hand is kept.
    let mut b = read_json(&baseline);
    b["margins"]["overrides"] = serde_json::json!([{"metric": "token.*", "relative": 0.2}]);
    fs::write(&baseline, serde_json::to_string_pretty(&b).expect("json")).expect("write");
    let before = fs::read(&baseline).expect("old");
    // Without --update an existing baseline is refused, untouched.
    depinsim()
        .args(["baseline", TOKENS, "--quiet", "--out"])
        .arg(&baseline)
        .args(SHORT)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--update"));
    let out = depinsim()
        .args(["baseline", TOKENS, "--update", "--out"])
        .arg(&baseline)
        .args(SHORT)
        .args([
            "--set",
            "token.emission.schedule.exponential_decay.initial_per_epoch=5022.83105022831",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let pending = dir.path().join("token-designs.baseline.pending.json");
    assert!(text.contains("mv ") && text.contains("pending"), "{text}");
    // +10% minted is within the edited 20% margin; the providers' rewards are not.
    assert!(
        text.contains(&names::pool("us-dc-h100", names::pool::TOKEN_REWARDS_USD)),
        "{text}"
    );
    assert!(
        !text.contains(&format!("{} ", names::token::MINTED)),
        "{text}"
    );
    assert_eq!(fs::read(&baseline).expect("old"), before);
    let p = read_json(&pending);
    assert_eq!(p["margins"], b["margins"]);
    assert_ne!(p["summary_sha256"], b["summary_sha256"]);
}

#[test]
fn bad_input_is_refused_with_its_place_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let baseline = tokens_baseline(dir.path());
    let refused = |args: &[&str], want: &str| {
        let out = depinsim().args(args).output().expect("runs");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(want) && err.contains("fix:"),
            "{args:?}: {err}"
        );
    };
    let b = baseline.to_str().expect("utf-8");
    // A baseline of another scenario.
    refused(
        &["check", "scenarios/quickstart.yaml", "--baseline", b],
        "baseline of scenario `token-designs`, but the run is of `quickstart`",
    );
    // A damaged baseline, named with the field.
    let damaged = dir.path().join("damaged.json");
    let text = fs::read_to_string(&baseline)
        .expect("b")
        .replace("\"seed\": 42", "\"seed\": -1");
    fs::write(&damaged, text).expect("write");
    refused(
        &[
            "check",
            TOKENS,
            "--baseline",
            damaged.to_str().expect("utf-8"),
        ],
        "at `seed`",
    );
    fs::write(&damaged, "not json").expect("write");
    refused(
        &[
            "check",
            TOKENS,
            "--baseline",
            damaged.to_str().expect("utf-8"),
        ],
        "not a baseline",
    );
    // A run without replications.parquet.
    let run = dir.path().join("run");
    depinsim()
        .args(["run", TOKENS, "--quiet", "--out"])
        .arg(&run)
        .args(SHORT)
        .assert()
        .success();
    let parquet = run.join("replications.parquet");
    let kept = fs::read(&parquet).expect("parquet");
    fs::remove_file(&parquet).expect("remove");
    refused(
        &["check", run.to_str().expect("utf-8"), "--baseline", b],
        "replications.parquet",
    );
    fs::write(&parquet, kept).expect("restore");
    // Replications on other seeds.
    let other = dir.path().join("other");
    depinsim()
        .args(["run", TOKENS, "--quiet", "--seed", "7", "--out"])
        .arg(&other)
        .args(SHORT)
        .assert()
        .success();
    refused(
        &["check", other.to_str().expect("utf-8"), "--baseline", b],
        "do not share seeds",
    );
    // A baseline needs two replications.
    refused(
        &["baseline", TOKENS, "--replications", "1", "--out", "x.json"],
        "at least 2",
    );
    // Nothing was left behind, and the run's directory got no check.json.
    assert!(
        !Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("x.json")
            .exists()
    );
    assert!(!other.join("check.json").exists());
}

/// quickstart, 4 simulated hours, 8 replications: 155 metrics, most of them varying from
/// seed to seed.
fn quick_scenario(seed: u64) -> depinsim::scenario::Scenario {
    use depinsim::scenario::overrides::Override;
    let sim = |k, v: Value| Override::field(&["simulation", k], v);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.yaml");
    depinsim::scenario::load_file(
        &path,
        &[
            sim("horizon_h", 4.into()),
            sim("seed", seed.into()),
            sim("replications", 8.into()),
        ],
    )
    .expect("valid")
}

#[test]
fn the_self_test_counts_few_false_alarms_and_its_detectable_changes_are_caught() {
    use depinsim::export::baseline::Baseline;
    use depinsim::metrics::Metrics;
    use depinsim::metrics::regression::{Verdict, check, decide, judge, provisional_verdict};

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("quickstart.baseline.json");
    depinsim()
        .args([
            "baseline",
            "scenarios/quickstart.yaml",
            "--quiet",
            "--set",
            "simulation.horizon_h=4",
            "--out",
        ])
        .arg(&file)
        .assert()
        .success();
    let json = dir.path().join("self-test.json");
    depinsim()
        .args([
            "check",
            "--self-test",
            "scenarios/quickstart.yaml",
            "--trials",
            "200",
            "--quiet",
            "--baseline",
        ])
        .arg(&file)
        .arg("--json")
        .arg(&json)
        .assert()
        .success();
    let t = read_json(&json);
    let count = |k: &str| t[k].as_u64().expect("count");
    let (holm, raw) = (count("false_alarms"), count("false_alarms_uncorrected"));
    eprintln!("false alarms in 200 neutral changes: {holm} with Holm's correction, {raw} without");
    assert!(count("metrics_judged") >= 100 && count("family") >= 24);
    // At a family-wise level of 5%, more than 17 of 200 happens with probability ~1%.
    assert!(holm <= 17, "{holm}");
    assert!(raw >= holm);

    // Power, out of sample: 100 neutral changes on seeds the self-test never used, each
    // varying metric's detectable change planted on its bad side in that metric alone.
    let b = Baseline::read(&file).expect("baseline");
    let values = b.values();
    let trials: Vec<Vec<Metrics>> = (0..100u64)
        .map(|k| {
            let s = quick_scenario(depinsim::core::rng::mix(0xF2E5, k));
            depinsim::experiment::run_all(&s, 0, &|| ())
                .expect("threads")
                .into_iter()
                .map(|o| o.metrics)
                .collect()
        })
        .collect();
    let checked: Vec<_> = trials
        .iter()
        .map(|tr| check(&values, tr, &b.margins, true))
        .collect();
    let (mut tested, mut fewest) = (0, 100);
    for s in t["sensitivity"].as_array().expect("sensitivity") {
        if s["std"].as_f64().expect("std") == 0.0 {
            continue;
        }
        tested += 1;
        let name = s["metric"].as_str().expect("name");
        let sign = if s["direction"] == "lower_is_worse" {
            -1.0
        } else {
            1.0
        };
        let delta = sign * s["detectable"].as_f64().expect("detectable") * (1.0 + 1e-6);
        let k = checked[0]
            .metrics
            .iter()
            .position(|j| j.metric == name)
            .expect("judged");
        let caught = trials
            .iter()
            .zip(&checked)
            .filter(|(tr, c)| {
                let planted: Vec<Metrics> = tr
                    .iter()
                    .map(|m| {
                        let mut m = m.clone();
                        if let Some(v) = m.get_mut(name) {
                            *v += delta;
                        }
                        m
                    })
                    .collect();
                let mut judged = c.metrics.clone();
                judged[k] =
                    judge(name, &values[name], &planted, b.margins.of(name)).expect("defined");
                for j in judged.iter_mut().filter(|j| j.p_regression.is_some()) {
                    j.verdict = provisional_verdict(j);
                }
                decide(&mut judged, true);
                judged[k].verdict == Verdict::Regression
            })
            .count();
        assert!(
            caught >= 70,
            "{name}: the detectable change was caught in {caught} of 100"
        );
        fewest = fewest.min(caught);
    }
    eprintln!(
        "{tested} varying metrics: each detectable change caught in at least {fewest} of 100 fresh trials"
    );
    assert!(tested >= 24, "{tested}");
}

#[test]
fn edited_baselines_and_unwritable_outputs_never_disagree_with_the_exit_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let baseline = tokens_baseline(dir.path());
    let mut b = read_json(&baseline);
    // A metric the run lacks, the summary's hash unchanged: not an exact pass but a
    // regression, in the exit code, check.json and the JUnit file alike.
    b["metrics"]["fake.café"] = b["metrics"][names::token::MINTED].clone();
    // A metric left with one pair: inconclusive, not judged on one difference.
    let values = b["metrics"][names::inference::TTFT_P99]["values"]
        .as_array_mut()
        .expect("values");
    for v in values.iter_mut().skip(1) {
        *v = Value::Null;
    }
    // A pattern ending inside a non-ASCII name's last character must not panic.
    b["margins"]["overrides"] = serde_json::json!([{"metric": "*x", "relative": 0.5}]);
    let edited = dir.path().join("edited.json");
    fs::write(&edited, serde_json::to_string_pretty(&b).expect("json")).expect("write");
    let junit = dir.path().join("edited.xml");
    let (code, c) = {
        let json = dir.path().join("edited-check.json");
        let out = depinsim()
            .args(["check", TOKENS, "--quiet", "--baseline"])
            .arg(&edited)
            .arg("--junit")
            .arg(&junit)
            .arg("--json")
            .arg(&json)
            .output()
            .expect("runs");
        (out.status.code(), read_json(&json))
    };
    assert_eq!((code, c["tier"].as_str()), (Some(1), Some("statistical")));
    assert!(c["note"].as_str().expect("note").contains("edited"));
    assert_eq!(verdict(&c, "fake.café"), "regression");
    assert_eq!(verdict(&c, names::inference::TTFT_P99), "inconclusive");
    let xml = fs::read_to_string(&junit).expect("junit");
    assert!(xml.contains("failures=\"1\""), "{xml}");

    // A JUnit path that cannot be written: exit 2 before anything runs, no check.json.
    let json = dir.path().join("never.json");
    let bad = baseline.join("x.xml"); // under a file
    depinsim()
        .args(["check", TOKENS, "--quiet", "--baseline"])
        .arg(&baseline)
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(&bad)
        .assert()
        .code(2);
    assert!(!json.exists());
    // The self-test writes no JUnit file, and says so.
    depinsim()
        .args([
            "check",
            "--self-test",
            TOKENS,
            "--trials",
            "2",
            "--baseline",
        ])
        .arg(&baseline)
        .arg("--junit")
        .arg(dir.path().join("st.xml"))
        .assert()
        .code(2);
    // --force replaces a baseline but keeps its reviewed margins.
    depinsim()
        .args(["baseline", TOKENS, "--quiet", "--force", "--out"])
        .arg(&edited)
        .args(SHORT)
        .assert()
        .success();
    assert_eq!(read_json(&edited)["margins"], b["margins"]);
}
