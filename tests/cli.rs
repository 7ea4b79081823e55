//! `depinsim` end to end: outputs, determinism, the output-directory contract and bad input.
//! See issue 2.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use depinsim::metrics::names;
use predicates::prelude::*;

/// A quick variant of the quickstart scenario: 2 simulated hours, 4 replications.
const QUICK: [&str; 4] = [
    "--set",
    "simulation.horizon_h=2",
    "--set",
    "simulation.replications=4",
];

fn depinsim() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("depinsim");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn run_quick(out: &Path, threads: &str) -> Vec<u8> {
    depinsim()
        .args([
            "run",
            "scenarios/quickstart.yaml",
            "--quiet",
            "--threads",
            threads,
            "--out",
        ])
        .arg(out)
        .args(QUICK)
        .assert()
        .success();
    fs::read(out.join("summary.json")).expect("summary.json")
}

#[test]
fn run_writes_the_four_outputs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("q");
    let summary: serde_json::Value = serde_json::from_slice(&run_quick(&out, "2")).expect("json");
    assert_eq!(summary["scenario"], "quickstart");
    assert_eq!(summary["seed"], 42);
    assert_eq!(summary["replications"], 4);
    let ttft = &summary["metrics"][names::inference::TTFT_P99];
    for field in ["mean", "std", "ci95_low", "ci95_high", "n"] {
        assert!(ttft.get(field).is_some(), "metric lacks {field}: {ttft}");
    }
    assert_eq!(ttft["n"], 4);
    assert!(
        ttft["ci95_low"].as_f64() <= ttft["mean"].as_f64()
            && ttft["mean"].as_f64() <= ttft["ci95_high"].as_f64()
    );
    let run: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("run.json")).expect("run.json")).expect("json");
    assert!(run["events"].as_u64().unwrap_or(0) > 0);
    assert!(run["requests_per_s"].as_f64().unwrap_or(0.0) > 0.0);
    assert_eq!(run["gpu_profiles"][0]["kind"], "datasheet");
    // The efficiency factors were measured on an H100 SXM; on the RTX 4090 they are assumed.
    assert_eq!(run["gpu_profiles"][0]["gpu"], "h100_sxm");
    assert_eq!(run["gpu_profiles"][0]["efficiency"]["basis"], "measured");
    assert_eq!(run["gpu_profiles"][1]["gpu"], "rtx_4090");
    assert_eq!(run["gpu_profiles"][1]["efficiency"]["basis"], "assumed");
    assert_eq!(run["gpu_profiles"][1]["efficiency"]["compute"], 0.8);
    // 8 H100s serve Llama 3.1 8B one GPU per replica; a 24 GB RTX 4090 (24,564 MiB) gives
    // 90% less a 1.5 GiB reserve, 21.57 GB, and keeps 21.57 - 16.06 GB for 42,044 tokens of
    // KV cache.
    assert_eq!(run["serving"][0]["tensor_parallel"], 1);
    assert_eq!(run["serving"][0]["replicas"], 8);
    assert_eq!(run["serving"][1]["kv_cache_tokens"], 42_044);
    assert!(
        out.join("timeseries.parquet")
            .metadata()
            .expect("parquet")
            .len()
            > 0
    );
    let resolved = fs::read_to_string(out.join("scenario.resolved.yaml")).expect("resolved");
    assert!(
        resolved.contains("horizon_h: 2"),
        "overrides are in the resolved scenario"
    );
    assert!(
        resolved.contains("price_usd_per_gpu_hour"),
        "defaults are filled in"
    );
}

#[test]
fn summary_is_byte_identical_across_thread_counts_and_reruns() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let one = run_quick(&tmp.path().join("t1"), "1");
    let two = run_quick(&tmp.path().join("t2"), "2");
    let again = run_quick(&tmp.path().join("t2b"), "2");
    assert!(one == two, "--threads 1 and --threads 2 differ");
    assert!(two == again, "two runs differ");
}

#[test]
fn the_resolved_scenario_repeats_the_run_exactly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let first = run_quick(&tmp.path().join("a"), "2");
    let resolved = tmp.path().join("a").join("scenario.resolved.yaml");
    depinsim()
        .args(["run", "--quiet", "--out"])
        .arg(tmp.path().join("b"))
        .arg(&resolved)
        .assert()
        .success();
    let second = fs::read(tmp.path().join("b").join("summary.json")).expect("summary");
    assert!(
        first == second,
        "re-running scenario.resolved.yaml gives another summary"
    );
}

#[test]
fn viability_prints_the_table_and_writes_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("v");
    let assert = depinsim()
        .args([
            "viability",
            "scenarios/training-vs-inference.yaml",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .args([
            "--set",
            "simulation.horizon_h=24",
            "--set",
            "simulation.replications=3",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    for word in [
        "workload",
        "pretrain-70b",
        "finetune-8b",
        "inference",
        "right_sized",
        "matched_batch",
        "pack",
        "not viable",
        "[95% CI]",
    ] {
        assert!(stdout.contains(word), "`{word}` missing from:\n{stdout}");
    }
    let rows: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("viability.json")).expect("viability.json"))
            .expect("json");
    // Inference under both cloud sizings, the scenario's own first, as the scenario
    // dispatches (spread) and again with the network packing its replicas; then each job
    // class.
    assert_eq!(rows.as_array().map(Vec::len), Some(7));
    for (i, (dispatch, sizing)) in [
        ("spread", "right_sized"),
        ("spread", "matched_batch"),
        ("pack", "right_sized"),
        ("pack", "matched_batch"),
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(rows[i]["dispatch"], dispatch, "row {i}");
        assert_eq!(rows[i]["cloud_sizing"], sizing, "row {i}");
    }
    // The same demand: the right-sized cloud costs the same whichever way the network
    // dispatched; packing lowers the network's own cost.
    let cost = |i: usize, k: &str| rows[i][k]["mean"].as_f64().expect("a cost");
    let (spread, pack) = (cost(0, "cloud_cost_usd"), cost(2, "cloud_cost_usd"));
    assert!((spread / pack - 1.0).abs() < 0.05, "{spread} vs {pack}");
    assert!(cost(2, "network_cost_usd") < cost(0, "network_cost_usd"));
    assert!(rows[4]["cloud_sizing"].is_null() && rows[4]["dispatch"].is_null());
    assert!(
        out.join("summary.json").exists(),
        "viability writes the run's outputs too"
    );
    // Every row against each tier of the cloud market: the hyperscaler's first, as the row's
    // own figures; a tier's cost ratio is the hyperscaler's times 6.88 / the tier's price
    // (AWS p5 6.88, Lambda 3.99, Vast.ai 2.40 per H100 GPU-hour).
    assert!(stdout.contains("by cloud tier"), "{stdout}");
    for (i, row) in rows.as_array().expect("rows").iter().enumerate() {
        let tiers = row["tiers"].as_array().expect("tiers");
        let names: Vec<&str> = tiers.iter().filter_map(|t| t["tier"].as_str()).collect();
        assert_eq!(names, ["hyperscaler", "neocloud", "marketplace"], "row {i}");
        assert_eq!(tiers[0]["verdict"], row["verdict"], "row {i}");
        assert_eq!(tiers[0]["cost_ratio"], row["cost_ratio"], "row {i}");
        let ratio = |t: usize| tiers[t]["cost_ratio"]["mean"].as_f64().expect("ratio");
        for (t, price) in [(1, 3.99), (2, 2.40)] {
            let want = ratio(0) * 6.88 / price;
            assert!((ratio(t) / want - 1.0).abs() < 1e-12, "row {i} tier {t}");
            assert_eq!(tiers[t]["price_usd_per_gpu_hour"], price);
        }
    }
}

#[test]
fn a_non_empty_output_directory_is_kept_unless_forced() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("mine");
    fs::create_dir(&out).expect("mkdir");
    fs::write(out.join("notes.txt"), "precious").expect("write");
    depinsim()
        .args(["run", "scenarios/quickstart.yaml", "--quiet", "--out"])
        .arg(&out)
        .args(QUICK)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not empty").and(predicate::str::contains("--force")));
    assert_eq!(
        fs::read_to_string(out.join("notes.txt")).expect("kept"),
        "precious"
    );
    depinsim()
        .args([
            "run",
            "scenarios/quickstart.yaml",
            "--quiet",
            "--force",
            "--out",
        ])
        .arg(&out)
        .args(QUICK)
        .assert()
        .success();
    assert!(out.join("summary.json").exists() && !out.join("notes.txt").exists());
    let siblings = fs::read_dir(tmp.path()).expect("ls").count();
    assert_eq!(siblings, 1, "no staging folder is left behind");
}

/// Runs `run` on a scenario with the given text (or no file) and checks the failure contract:
/// exit code 2, every expected fragment in the message, no panic, no output folder.
fn bad(text: Option<&str>, sets: &[&str], expect: &[&str]) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("bad.yaml");
    if let Some(t) = text {
        fs::write(&file, t).expect("write");
    }
    let out = tmp.path().join("out");
    let mut cmd = depinsim();
    cmd.args(["run", "--quiet", "--out"]).arg(&out).arg(&file);
    for s in sets {
        cmd.args(["--set", s]);
    }
    let assert = cmd.assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
    for e in expect {
        assert!(stderr.contains(e), "expected `{e}` in:\n{stderr}");
    }
    assert!(!out.exists(), "an output folder was created");
    let leftovers: Vec<PathBuf> = fs::read_dir(tmp.path())
        .expect("ls")
        .map(|e| e.expect("entry").path())
        .filter(|p| p != &file)
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

const GOOD: &str = "regions: [{name: us-east}, {name: eu-west}]
network: {rtt_ms: {us-east: {eu-west: 76}}}
providers:
  - {name: dc, region: us-east, gpu: h100_sxm, count: 4, hourly_cost_usd: 1.5}
inference:
  users:
    - {region: us-east, rate_per_s: 2}
";

#[test]
fn the_good_base_scenario_is_valid() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("good.yaml");
    fs::write(&file, GOOD).expect("write");
    depinsim()
        .arg("validate")
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("ok:"));
}

#[test]
fn bad_input_exits_2_with_the_place_and_no_output() {
    bad(
        Some(""),
        &[],
        &[
            "required section `regions` is missing",
            "`providers`",
            "`inference`",
        ],
    );
    bad(
        Some("regions: [{name: a\n"),
        &[],
        &["not valid YAML", "line"],
    );
    bad(
        Some("- just\n- a list\n"),
        &[],
        &["top level must be a mapping", "found a list"],
    );
    bad(
        Some(&GOOD.replace("count: 4", "count: 4, colour: red")),
        &[],
        &["line 4", "providers[0].colour", "unknown field `colour`"],
    );
    bad(
        Some(&GOOD.replace("rate_per_s: 2", "rate_per_s: -2")),
        &[],
        &[
            "line 7",
            "inference.users[0].rate_per_s",
            "must be between 0 and",
        ],
    );
    bad(
        Some(&GOOD.replace(
            "rate_per_s: 2",
            "rate_per_s: 2, daily_cycle: {amplitude: 1.5}",
        )),
        &[],
        &["daily_cycle.amplitude", "between 0 and 1"],
    );
    bad(
        Some(&GOOD.replace("network: {rtt_ms: {us-east: {eu-west: 76}}}", "network: {}")),
        &[],
        &[
            "no round-trip time between `us-east` and `eu-west`",
            "network.rtt_ms",
        ],
    );
    bad(
        Some(&GOOD.replace("h100_sxm", "h100")),
        &[],
        &["line 4", "unknown GPU class `h100`", "h100_sxm"],
    );
    bad(None, &[], &["cannot read scenario file", "bad.yaml"]);
    bad(
        Some("regions: []\nregions: []\n"),
        &[],
        &[
            "line 2",
            "duplicate mapping key",
            "bad.yaml:2:1",
            "fix: a key appears twice",
        ],
    );
    bad(
        Some("regions: {name: a}\nproviders: []\ninference: {users: []}\n"),
        &[],
        &["regions: expected a list, found a mapping"],
    );
    bad(
        Some(&format!("{GOOD}simulation: [1, 2]\n")),
        &[],
        &["line 8", "simulation: expected a mapping, found a list"],
    );
    // 405B in BF16 (810 GB) and a 128k-token KV cache on 4 H100s of one host (301 GB usable).
    bad(
        Some(GOOD),
        &["inference.model.name=llama-3.1-405b"],
        &[
            "needs 877.6 GB",
            "301.4 GB usable on 4 GPU(s)",
            "inference.model",
        ],
    );
    bad(
        Some(GOOD),
        &["inference.model.name=my-model"],
        &[
            "inference.model.name",
            "not in the model catalogue",
            "params_b, non_embedding_params_b, lm_head_params_b, layers, attention_heads, head_dim, context_tokens, kv_bytes_per_token not given",
        ],
    );
    bad(
        Some(GOOD),
        &["inference.model.context_tokens=100000"],
        &["inference.model.context_tokens", "at most 8192"],
    );
    bad(
        Some(GOOD),
        &["inference.batching.max_batched_tokens=16"],
        &[
            "inference.batching.max_batched_tokens",
            "below max_batch (256)",
        ],
    );
    bad(
        Some(GOOD),
        &["simulation.horizon_h"],
        &["--set", "PATH=VALUE"],
    );
}

#[test]
fn every_type_error_is_reported_at_once_in_file_order() {
    let text = GOOD
        .replace("count: 4", "count: four")
        .replace("rate_per_s: 2", "rate_per_s: [2]")
        .replace("{name: eu-west}", "{name: eu-west, bandwith_mbps: 5}");
    bad(
        Some(&text),
        &[],
        &[
            "3 problems",
            "line 1",
            "did you mean `bandwidth_mbps`",
            "line 4",
            "count: expected a whole number",
            "line 7",
            "rate_per_s: expected a number",
        ],
    );
}

#[test]
fn unknown_fields_do_not_hide_value_problems() {
    let text = GOOD.replace("count: 4", "count: 0, colour: red");
    bad(
        Some(&text),
        &[],
        &[
            "2 problems",
            "unknown field `colour`",
            "providers[0].count: must be at least 1",
        ],
    );
}

#[test]
fn problems_from_set_are_not_blamed_on_the_file() {
    bad(
        Some(GOOD),
        &["simulation.replications=0"],
        &[
            "simulation.replications: must be between 1",
            "(value given with --set)",
        ],
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("s.yaml");
    fs::write(&file, GOOD).expect("write");
    let out = depinsim()
        .arg("validate")
        .arg(&file)
        .args(["--set", "simulation.replications=0"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        !stderr.contains("line "),
        "a --set value has no line in the file:\n{stderr}"
    );
}

#[test]
fn unusable_output_paths_and_thread_counts_are_refused_before_running() {
    let tmp = tempfile::tempdir().expect("tempdir");
    fs::write(tmp.path().join("afile"), "x").expect("write");
    depinsim()
        .args(["run", "scenarios/quickstart.yaml", "--quiet", "--out"])
        .arg(tmp.path().join("afile").join("sub"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("cannot create the output directory")
                .and(predicate::str::contains("--out")),
        );
    depinsim()
        .args(["run", "scenarios/quickstart.yaml", "--quiet", "--out", "."])
        .assert()
        .code(2);
    depinsim()
        .args(["run", "scenarios/quickstart.yaml", "--threads", "5000"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--threads"));
    assert_eq!(
        fs::read_dir(tmp.path()).expect("ls").count(),
        1,
        "nothing was left behind"
    );
}

#[test]
fn impossible_simulation_settings_are_refused() {
    bad(
        Some(GOOD),
        &[
            "simulation.horizon_h=1e9",
            "simulation.replications=0",
            "simulation.warmup_h=-1",
        ],
        &[
            "3 problems",
            "simulation.horizon_h",
            "simulation.replications",
            "simulation.warmup_h",
        ],
    );
}

#[test]
fn names_that_would_break_metric_names_are_refused() {
    bad(
        Some(
            &GOOD
                .replace("name: dc", "name: my.pool")
                .replace("{name: eu-west}", "{name: ''}"),
        ),
        &[],
        &[
            "providers[0].name",
            "`my.pool` is not a usable name",
            "regions[1].name",
            "letters, digits",
        ],
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = GOOD
        .replace("count: 4", "count: 0")
        .replace("rate_per_s: 2", "rate_per_s: -1")
        .replace("{name: eu-west}", "{name: eu-west, bandwidth_mbps: -5}");
    bad(
        Some(&text),
        &[],
        &[
            "3 problems",
            "regions[1].bandwidth_mbps",
            "providers[0].count",
            "inference.users[0].rate_per_s",
        ],
    );
}

#[test]
fn validate_accepts_every_shipped_scenario() {
    let mut cmd = depinsim();
    cmd.arg("validate");
    for dir in ["scenarios", "scenarios/published"] {
        for entry in fs::read_dir(dir).expect("scenarios/") {
            let p = entry.expect("entry").path();
            if p.extension().is_some_and(|e| e == "yaml") {
                cmd.arg(p);
            }
        }
    }
    cmd.assert().success();
}

#[test]
fn schema_is_json_with_every_section() {
    let out = depinsim()
        .arg("schema")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let schema: serde_json::Value = serde_json::from_slice(&out).expect("json");
    for section in [
        "regions",
        "providers",
        "inference",
        "simulation",
        "network",
        "calibration",
    ] {
        assert!(
            schema["properties"].get(section).is_some(),
            "schema lacks {section}"
        );
    }
    assert_eq!(
        schema["additionalProperties"], false,
        "unknown fields are refused"
    );
}

#[test]
fn validate_shows_how_each_group_serves_the_model() {
    // Llama 3.1 70B with an 8k context: 141 GB of weights need two H100s per replica; a
    // gaming card cannot hold it and serves nothing.
    depinsim()
        .args([
            "validate",
            "scenarios/quickstart.yaml",
            "--set",
            "inference.model.name=llama-3.1-70b",
            "--set",
            "inference.model.context_tokens=8192",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("us-dc-h100: 4 replica(s) of 2 GPU(s), KV cache 29041 tokens")
                .and(predicate::str::contains(
                    "eu-gamers-4090: serves no requests",
                ))
                .and(predicate::str::contains("21.6 GB usable")),
        );
}

/// An unknown weight or KV-cache format is refused with the place and the choices; FP8 on a
/// class without FP8 tensor cores is served weight-only, and `validate` says so.
#[test]
fn numeric_formats_are_checked_and_a_fallback_is_shown() {
    bad(
        Some(&GOOD.replace(
            "inference:\n",
            "inference:\n  model: {name: llama-3.1-8b, weight_format: fp4, kv_cache_format: e5m2}\n",
        )),
        &[],
        &[
            "inference.model.weight_format",
            "unknown choice `fp4`",
            "use one of: bf16, fp8, int8_w8a8, int8, int4",
            "inference.model.kv_cache_format",
            "unknown choice `e5m2`",
            "use one of: bf16, fp8, int8",
        ],
    );
    bad(
        Some(GOOD),
        &["inference.model.weight_format=16"],
        &["inference.model.weight_format"],
    );
    depinsim()
        .args([
            "validate",
            "scenarios/quickstart.yaml",
            "--set",
            "inference.model.weight_format=fp8",
            "--set",
            "inference.model.kv_cache_format=fp8",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("us-dc-h100: 8 replica(s) of 1 GPU(s)")
                .and(predicate::str::contains("fp8 weights, fp8 products"))
                .and(predicate::str::contains(
                    "fp8 weights dequantised to bf16 products (no fp8 tensor cores)",
                )),
        );
}

#[test]
fn bad_token_sections_exit_2_naming_the_place() {
    let token = "token:
  emission:
    schedule: {constant: {per_epoch: 1000}}
    epoch_h: 1
    initial_supply: 100
    max_supply: 1000
  price: {constant: {usd: 1}}
  work_share: 0.5
";
    let text = format!("{GOOD}{token}");
    // 24 hours of 1,000 tokens an hour do not fit under a cap 900 tokens away.
    bad(
        Some(&text),
        &[],
        &[
            "token.emission.schedule",
            "maximum supply",
            "raise max_supply",
        ],
    );
    let fits = "token.emission.max_supply=1e9";
    bad(
        Some(&text),
        &[
            fits,
            "token.price={gbm: {initial_usd: -1, drift_per_year: 0, volatility_per_year: 0.5}}",
        ],
        &["token.price", "initial_usd must be positive"],
    );
    bad(
        Some(&text),
        &[fits, "token.work_share=1.5", "token.take_rate=-0.1"],
        &["token.work_share", "token.take_rate", "between 0 and 1"],
    );
    bad(
        Some(&text),
        &[fits, "token.price={csv: {path: nowhere.csv}}"],
        &["token.price", "nowhere.csv"],
    );
    // A market pool with an empty reserve, a stake the supply cannot cover, a batch of 0,
    // and verification on more groups than there are.
    bad(
        Some(&text),
        &[
            fits,
            "token.price={amm: {token_reserve: 0, usd_reserve: 100, provider_sell_share: 0.5}}",
        ],
        &["token.price", "token reserve must be positive"],
    );
    bad(
        Some(&text),
        &[
            fits,
            "token.staking={per_gpu: 50}",
            "token.settlement={chain: {solana: {sol_usd: 150}}, batch: 0}",
            "token.verification={redundancy: 3}",
        ],
        &[
            "token.staking.per_gpu",
            "need 200 tokens",
            "token.settlement.batch",
            "token.verification.redundancy",
            "needs 3 different groups",
        ],
    );
    // A depth of no dollars, a depth on a pool, and a valuation that is not one.
    bad(
        Some(&text),
        &[fits, "token.market_depth_usd=0"],
        &[
            "token.market_depth_usd",
            "must be between 0.01 and",
            "leave it out for unlimited depth",
        ],
    );
    bad(
        Some(&text),
        &[
            fits,
            "token.market_depth_usd=1e6",
            "token.price={amm: {token_reserve: 10, usd_reserve: 100, provider_sell_share: 0.5}}",
        ],
        &[
            "token.market_depth_usd",
            "own depth",
            "remove market_depth_usd",
        ],
    );
    bad(
        Some(&text),
        &[fits, "token.reward_valuation=average"],
        &["token.reward_valuation", "spot", "sales", "final"],
    );
}

#[test]
fn impossible_verification_and_cloud_tiers_exit_2_naming_the_place() {
    let token = "token:
  emission: {schedule: {constant: {per_epoch: 1}}, epoch_h: 1}
  price: {constant: {usd: 1}}
  work_share: 0.5
";
    let text = format!("{GOOD}{token}");
    // A verification cost multiple below 0, and the other impossible values of each method.
    bad(
        Some(&text),
        &["token.verification={method: zk, proving_cost_multiple: -1}"],
        &[
            "token.verification.proving_cost_multiple",
            "must be zero or more",
            "multiple of the work",
        ],
    );
    bad(
        Some(&text),
        &["token.verification={method: fingerprint, validator_cost_fraction: -0.01}"],
        &[
            "token.verification.validator_cost_fraction",
            "must be zero or more",
        ],
    );
    bad(
        Some(&text),
        &["token.verification={method: optimistic, detection_probability: 1.2}"],
        &[
            "token.verification.detection_probability",
            "must be between 0 and 1",
        ],
    );
    bad(
        Some(&text),
        &["token.verification={method: spot_check, spot_check_rate: -0.5}"],
        &[
            "token.verification.spot_check_rate",
            "must be between 0 and 1",
        ],
    );
    bad(
        Some(&text),
        &["token.verification={method: proof_of_luck}"],
        &[
            "token.verification.method",
            "fingerprint",
            "optimistic",
            "zk",
        ],
    );
    bad(
        Some(GOOD),
        &["cloud.tiers={neocloud: 0, marketplace: -2}"],
        &[
            "cloud.tiers.neocloud",
            "cloud.tiers.marketplace",
            "must be a positive number",
        ],
    );
}

#[test]
fn bad_provider_economics_exit_2_naming_the_place() {
    // Costs given twice, or not at all; a datacenter without its hardware price; a fleet
    // that could shrink below its start; a supply rule and a pricing range out of order.
    bad(
        Some(GOOD),
        &["providers[0].costs={hosting_usd_per_hour: 0.5}"],
        &["providers[0].costs", "both hourly_cost_usd and costs"],
    );
    bad(
        Some(GOOD),
        &[
            "providers[0]={name: dc, region: us-east, gpu: h100_sxm, count: 4, max_count: 2, costs: {pue: 0.5}}",
            "supply={exit_after_reviews: 0}",
            "pricing={policy: utilisation, min_multiplier: 3, max_multiplier: 2}",
        ],
        &[
            "providers[0].max_count",
            "below count",
            "providers[0].costs.hardware_usd",
            "hardware price is missing",
            "providers[0].costs.pue",
            "supply.exit_after_reviews",
            "pricing.min_multiplier",
        ],
    );
    bad(
        Some(GOOD),
        &["providers[0]={name: dc, region: us-east, gpu: h100_sxm, count: 4}"],
        &["providers[0]", "costs are missing", "hourly_cost_usd"],
    );
}

#[test]
fn onchain_prices_one_gpt_matrix_product_on_ethereum() {
    // 12288^3 multiply-adds at the 8-gas floor: ~1.5e13 gas, ~$10B at 200 gwei and
    // $3,400/ETH, ~34 days of every 60M-gas block.
    depinsim().arg("onchain").assert().success().stdout(
        predicate::str::contains("1.484e13")
            .and(predicate::str::contains("$10.1B"))
            .and(predicate::str::contains("34.4")),
    );
    depinsim()
        .args(["onchain", "--eth-usd=-5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--eth-usd"));
}

#[test]
fn calibrate_cpu_writes_a_checked_profile_and_never_overwrites() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("cpu.yaml");
    depinsim()
        .args(["calibrate", "--backend", "cpu", "--grid", "small", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("matmul").and(predicate::str::contains("of peak")));
    let p = depinsim::calibration::Profile::load(&out).expect("a valid profile");
    assert_eq!(p.source, depinsim::calibration::Source::Measured);
    assert!(p.provenance.date.is_some() && !p.provenance.device.is_empty());
    assert!(!p.copy.0.is_empty() && !p.decode.0.is_empty() && !p.matmul.0.is_empty());
    // A second run refuses to replace it, and leaves it as it was.
    let before = fs::read(&out).expect("read");
    depinsim()
        .args(["calibrate", "--backend", "cpu", "--grid", "small", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(fs::read(&out).expect("read"), before);
}

#[test]
fn calibrate_refuses_what_it_cannot_do_with_exit_2() {
    // This build has no `cuda` feature: it says how to get one, and panics nowhere.
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("gpu.yaml");
    let cuda = depinsim()
        .args(["calibrate", "--backend", "cuda", "--out"])
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&cuda.get_output().stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("--features cuda") || stderr.contains("no NVIDIA driver"),
        "{stderr}"
    );
    assert!(!out.exists());
    depinsim()
        .args(["calibrate", "--backend", "datasheet", "--class", "h100"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown GPU class `h100`"));
    depinsim()
        .args(["calibrate", "--backend", "datasheet"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs --class"));
    // Deriving needs a measured profile to derive from.
    depinsim()
        .args(["calibrate", "--backend", "derived", "--class", "h100_pcie"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs --from"));
    depinsim()
        .args([
            "calibrate",
            "--backend",
            "derived",
            "--class",
            "h100_pcie",
            "--from",
        ])
        .arg("kernels/profiles/datasheet/h100_sxm.yaml")
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("derive from a measured profile"));
    assert!(!out.exists());
}

#[test]
fn a_measured_cpu_profile_slows_decode_by_the_ratio_of_its_bandwidth() {
    // The CI path of calibration: measure this machine's CPU, point a scenario's RTX 4090s at
    // that profile, and decode runs at the profile's rates instead of the datasheet's: time
    // per output token grows by the ratio of the two roofline step times.
    let tmp = tempfile::tempdir().expect("tempdir");
    depinsim()
        .args(["calibrate", "--backend", "cpu", "--grid", "small", "--out"])
        .arg(tmp.path().join("cpu.yaml"))
        .assert()
        .success();
    let profile =
        depinsim::calibration::Profile::load(&tmp.path().join("cpu.yaml")).expect("profile");
    let cpu_bw = profile.decode.at(1.0).expect("decode").value;
    let text = |profiles: &str| {
        format!(
            "simulation: {{horizon_h: 4, warmup_h: 0.1, replications: 1, seed: 3}}
regions: [{{name: a}}]
providers: [{{name: home, region: a, gpu: rtx_4090, count: 4, hourly_cost_usd: 0.1, mtbf_h: 1.0e12}}]
calibration: {{profiles: {{{profiles}}}}}
inference:
  model: {{params_b: 0.1, non_embedding_params_b: 0.09, lm_head_params_b: 0.005, layers: 4, attention_heads: 4, head_dim: 64, bytes_per_param: 2, context_tokens: 4096, kv_bytes_per_token: 100}}
  prompt_tokens: {{constant: 10}}
  output_tokens: {{constant: 50}}
  users: [{{region: a, rate_per_s: 0.002}}]
"
        )
    };
    let run = |name: &str, profiles: &str| -> serde_json::Value {
        let file = tmp.path().join(format!("{name}.yaml"));
        fs::write(&file, text(profiles)).expect("write");
        let out = tmp.path().join(name);
        depinsim()
            .args(["run", "--quiet", "--out"])
            .arg(&out)
            .arg(&file)
            .assert()
            .success();
        let read = |f: &str| -> serde_json::Value {
            serde_json::from_slice(&fs::read(out.join(f)).expect("read")).expect("json")
        };
        let mut s = read("summary.json");
        s["run"] = read("run.json");
        s
    };
    let sheet = run("sheet", "");
    let measured = run("measured", "rtx_4090: cpu.yaml");
    assert_eq!(measured["run"]["gpu_profiles"][0]["kind"], "measured");
    assert_eq!(measured["run"]["gpu_profiles"][0]["source"], "cpu.yaml");
    let tpot = |s: &serde_json::Value| {
        s["metrics"][names::inference::TPOT_MEAN]["mean"]
            .as_f64()
            .expect("tpot")
    };
    // A decode step reads the 0.2 GB of weights and does 2N FLOPs (N: the 0.095B parameters
    // that multiply an output token; attention over ~35 tokens of context adds 0.1%), on the datasheet's
    // 1,008 GB/s x 0.9 and 165 TFLOP/s x 0.8, or at the profile's batch-1 bandwidth and
    // its matrix-product rate at the token budget (2,048): whichever bounds the step. On a
    // loaded machine the CPU's product can be the slower, so both are counted.
    let rates = profile.rates(2048.0, 4096.0, "cpu.yaml").expect("rates");
    assert_eq!(rates.bytes_per_s, cpu_bw);
    let step = |bw: f64, flops: f64| (0.2e9 / bw).max(2.0 * 0.095e9 / flops);
    let want = step(cpu_bw, rates.flops) / step(1.008e12 * 0.9, 165e12 * 0.8);
    let got = tpot(&measured) / tpot(&sheet);
    assert!(
        (got / want - 1.0).abs() < 0.05,
        "TPOT ratio {got}, bandwidth ratio {want}"
    );
    // A profile of another class is refused, naming the place.
    bad(
        Some(&text("rtx_4090: cpu.yaml").replace("cpu.yaml", "nowhere.yaml")),
        &[],
        &["calibration.profiles.rtx_4090", "nowhere.yaml"],
    );
}

#[test]
fn bad_pipelines_exit_2_naming_the_place() {
    // Llama 2 70B in NF4 needs two RTX 3090 hosts a replica: a group of one host cannot
    // field them, and a limit on stages must allow at least two.
    let petals = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/published/petals-70b.yaml"),
    )
    .expect("petals-70b.yaml");
    bad(
        Some(&petals),
        &["providers[0].count=1"],
        &[
            "providers[0].count",
            "needs 2 stages of one host each, more than the 1 host(s) of `swarm-3090`",
        ],
    );
    for stages in ["0", "1", "2000"] {
        bad(
            Some(&petals),
            &[&format!("inference.pipeline.max_stages={stages}")],
            &[
                "inference.pipeline.max_stages",
                "must be between 2 and 1024",
            ],
        );
    }
}
