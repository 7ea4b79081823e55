//! Low-communication training (`sync: local_sgd`) in runs: a round's time pinned to its
//! formula for a fixed placement, H = 1 on a flat ring equal to every-step training, memory
//! of a worker that must hold every state, and bad settings refused where they are written.

use depinsim::experiment::run_replication;
use depinsim::metrics::names;
use depinsim::scenario::overrides::parse_override;
use depinsim::scenario::{LoadError, load_str};

/// Two regions 100 ms apart, a group of four 8-H100 hosts in each that never fail, hosts
/// linked at 1 Gbit/s, and one 10B pretraining job on all 64 GPUs.
const TWO_SITES: &str = "
simulation: {horizon_h: 24, warmup_h: 0, epoch_h: 6, replications: 1, seed: 5}
regions:
  - {name: a, bandwidth_mbps: 1000}
  - {name: b, bandwidth_mbps: 1000}
network: {rtt_ms: {a: {b: 100}}}
calibration: {compute_efficiency: 0.4, bundled_profiles: false}
providers:
  - {name: site-a, region: a, gpu: h100_sxm, count: 32, gpus_per_host: 8, interconnect_gbps: 400, hourly_cost_usd: 1.0, mtbf_h: 1.0e15}
  - {name: site-b, region: b, gpu: h100_sxm, count: 32, gpus_per_host: 8, interconnect_gbps: 400, hourly_cost_usd: 1.0, mtbf_h: 1.0e15}
inference: {users: [{region: a, rate_per_s: 0}]}
training:
  - {name: pt, kind: training, arrivals_per_day: 48, params_b: 10, tokens_b: 100, gpus: 64, tokens_per_step_m: 8, placement: anywhere, data_parallel: sharded, checkpoint_s: 0}
";

fn run(sets: &[&str]) -> depinsim::metrics::Metrics {
    let ovs: Vec<_> = sets
        .iter()
        .map(|s| parse_override(s).expect("override"))
        .collect();
    let s = load_str(TWO_SITES, "two-sites", "two-sites", &ovs).expect("valid");
    run_replication(&s, 0).metrics
}

fn job(m: &depinsim::metrics::Metrics, q: &str) -> f64 {
    m[&names::job("pt", q)]
}

#[test]
fn a_local_sgd_job_takes_its_rounds_exactly() {
    // 8 workers (hosts) of 8 GPUs, each computing 1M of the 8M tokens of an inner step:
    // 6 x 1e10 x 1e6 / (8 x 989e12 x 0.4) s, plus its FSDP collectives inside the host,
    // 3 x 7/8 x 2e10 / 50e9 + 3 x 7 x 5 us. The exchange: int8, 10 GB in a ring of 8 over
    // 1 Gbit/s (125 MB/s) with 50 ms one way: 2 x 7/8 x 1e10 / 1.25e8 + 2 x 7 x 0.05 s.
    // H = 50; 100B tokens are 100e9 / (8e6 x 50) = 250 rounds. Nothing fails.
    let m = run(&[
        "training.pt.sync=local_sgd",
        "training.pt.local_sgd.inner_steps=50",
        "training.pt.local_sgd.payload_bits=8",
    ]);
    let compute = 6.0 * 1e10 * 1e6 / (8.0 * 989e12 * 0.4);
    let fsdp = 3.0 * 7.0 / 8.0 * 2e10 / 50e9 + 3.0 * 7.0 * 5e-6;
    let exchange = 2.0 * 7.0 / 8.0 * 1e10 / 1.25e8 + 2.0 * 7.0 * 0.05;
    let round = 50.0 * (compute + fsdp) + exchange;
    let wall_h = 250.0 * round / 3600.0;
    assert!(
        (job(&m, names::job::WALL_H) / wall_h - 1.0).abs() < 1e-9,
        "{}",
        job(&m, names::job::WALL_H)
    );
    assert!((job(&m, names::job::COMPUTE_SHARE) - 50.0 * compute / round).abs() < 1e-9);
    assert!((job(&m, names::job::IDLE_SHARE) - (50.0 * fsdp + exchange) / round).abs() < 1e-9);
    assert!((job(&m, names::job::EXCHANGE_S) - exchange).abs() < 1e-9);
    assert!((job(&m, names::job::STEP_S) - (compute + fsdp)).abs() < 1e-9);
    // Every step over the same links instead: all-gathers and a reduce-scatter of the 20 GB
    // of BF16 weights and gradients in a ring of 64 GPUs, every step, at 1 Gbit/s.
    let every = run(&[]);
    let comm = 3.0 * 63.0 / 64.0 * 2e10 / 1.25e8 + 3.0 * 63.0 * 0.05;
    let every_compute = 6.0 * 1e10 * 8e6 / (64.0 * 989e12 * 0.4);
    let step = every_compute + comm;
    assert!((job(&every, names::job::STEP_S) - step).abs() < 1e-6);
    // 19 s of compute against 472 s of exchange: 3.9%, where local SGD computes 83%.
    assert!((job(&every, names::job::COMPUTE_SHARE) - every_compute / step).abs() < 1e-9);
    assert!(job(&m, names::job::COMPUTE_SHARE) > 0.8);
}

#[test]
fn faster_workers_waiting_for_the_slowest_count_as_idle() {
    // Site b on A100s (312 TFLOP/s): its four hosts pace every round, and the H100 hosts
    // wait. Inner compute: H100 6e10 x 1e6 / (8 x 989e12 x 0.4), A100 the same at 312e12;
    // round = 50 x (A100 compute + FSDP) + exchange; compute share = 50 x (32 x H100 + 32 x
    // A100 compute) / (64 x round).
    let m = run(&[
        "providers.site-b.gpu=a100_80gb_sxm",
        "training.pt.sync=local_sgd",
        "training.pt.local_sgd.inner_steps=50",
        "training.pt.local_sgd.payload_bits=8",
    ]);
    let h100 = 6.0 * 1e10 * 1e6 / (8.0 * 989e12 * 0.4);
    let a100 = 6.0 * 1e10 * 1e6 / (8.0 * 312e12 * 0.4);
    let fsdp = 3.0 * 7.0 / 8.0 * 2e10 / 50e9 + 3.0 * 7.0 * 5e-6;
    let exchange = 2.0 * 7.0 / 8.0 * 1e10 / 1.25e8 + 2.0 * 7.0 * 0.05;
    let round = 50.0 * (a100 + fsdp) + exchange;
    let share = 50.0 * (32.0 * h100 + 32.0 * a100) / (64.0 * round);
    assert!(
        (job(&m, names::job::COMPUTE_SHARE) - share).abs() < 1e-9,
        "{}",
        job(&m, names::job::COMPUTE_SHARE)
    );
    assert!((job(&m, names::job::IDLE_SHARE) - (1.0 - share)).abs() < 1e-9);
    assert!((job(&m, names::job::STEP_S) - (a100 + fsdp)).abs() < 1e-9);
}

#[test]
fn one_inner_step_of_sixteen_bits_on_a_flat_ring_runs_as_every_step_training() {
    // Replicated states fit when the model is small: 1B parameters, 16 GB of states per GPU.
    let small = [
        "training.pt.params_b=1",
        "training.pt.data_parallel=replicated",
    ];
    let every = run(&small);
    let flat = run(&[
        small[0],
        small[1],
        "training.pt.sync=local_sgd",
        "training.pt.local_sgd.inner_steps=1",
        "training.pt.local_sgd.payload_bits=16",
        "training.pt.local_sgd.hierarchical=false",
        "training.pt.local_sgd.outer_state_bytes_per_param=0",
    ]);
    for q in [
        names::job::WALL_H,
        names::job::COMPUTE_SHARE,
        names::job::IDLE_SHARE,
        names::job::EXCHANGE_S,
        names::job::GPU_MEMORY_GIB,
    ] {
        let (a, b) = (job(&every, q), job(&flat, q));
        assert!(
            (a - b).abs() <= 1e-12 * a.abs(),
            "{q}: every step {a}, flat local SGD {b}"
        );
    }
}

#[test]
fn a_local_sgd_worker_holds_every_state_so_single_cards_may_not_fit() {
    // An 8B model on single-card 24 GB hosts: every step shards the 128 GB of states over
    // 64 GPUs (2 GB each), but a local-SGD worker of one card must hold all of them.
    let text = "
simulation: {horizon_h: 24, warmup_h: 0, epoch_h: 6, replications: 1, seed: 5}
regions: [{name: a}]
providers:
  - {name: gamers, region: a, gpu: rtx_4090, count: 64, hourly_cost_usd: 0.1}
inference: {users: [{region: a, rate_per_s: 0}]}
training:
  - {name: pt, kind: training, arrivals_per_day: 1, params_b: 8, tokens_b: 10, gpus: 64, micro_batch_tokens: 1024}
";
    assert!(
        load_str(text, "cards", "cards", &[]).is_ok(),
        "every step fits sharded"
    );
    let local = parse_override("training.pt.sync=local_sgd").expect("override");
    match load_str(text, "cards", "cards", &[local]) {
        Err(LoadError::Invalid { issues, .. }) => {
            let i = issues
                .iter()
                .find(|i| i.path.to_string() == "training[0].gpus")
                .expect("the job's GPUs");
            assert!(i.fix.contains("local_sgd"), "{}", i.fix);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_job_whose_leftover_worker_cannot_hold_the_states_is_refused() {
    // 57 GPUs on 8-GPU hosts: seven workers and one of a single H100, which would have to
    // hold 10B x (16 + 8) bytes = 240 GB.
    let ovs = [
        parse_override("training.pt.sync=local_sgd").expect("override"),
        parse_override("training.pt.gpus=57").expect("override"),
    ];
    match load_str(TWO_SITES, "two-sites", "two-sites", &ovs) {
        Err(LoadError::Invalid { issues, .. }) => {
            let i = issues
                .iter()
                .find(|i| i.path.to_string() == "training[0].gpus")
                .expect("the job's GPUs");
            assert!(i.message.contains("left over"), "{}", i.message);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // 56 GPUs, seven whole hosts, fit.
    let ovs = [
        parse_override("training.pt.sync=local_sgd").expect("override"),
        parse_override("training.pt.gpus=56").expect("override"),
    ];
    assert!(load_str(TWO_SITES, "two-sites", "two-sites", &ovs).is_ok());
}

#[test]
fn impossible_local_sgd_settings_are_refused_where_they_are_written() {
    let cases = [
        (
            "training.pt.local_sgd.inner_steps=0",
            "training[0].local_sgd.inner_steps",
        ),
        (
            "training.pt.local_sgd.payload_bits=0",
            "training[0].local_sgd.payload_bits",
        ),
        (
            "training.pt.local_sgd.payload_bits=0.5",
            "training[0].local_sgd.payload_bits",
        ),
        (
            "training.pt.local_sgd.sync_s=-1",
            "training[0].local_sgd.sync_s",
        ),
        (
            "training.pt.local_sgd.overlap=1.5",
            "training[0].local_sgd.overlap",
        ),
        (
            "training.pt.local_sgd.sent_fraction=0",
            "training[0].local_sgd.sent_fraction",
        ),
        (
            "training.pt.local_sgd.token_ratio=0.5",
            "training[0].local_sgd.token_ratio",
        ),
    ];
    for (set, path) in cases {
        let ovs = [
            parse_override("training.pt.sync=local_sgd").expect("override"),
            parse_override(set).expect("override"),
        ];
        match load_str(TWO_SITES, "two-sites", "two-sites", &ovs) {
            Err(LoadError::Invalid { issues, .. }) => assert!(
                issues.iter().any(|i| i.path.to_string() == path),
                "{set}: {issues:?}"
            ),
            other => panic!("{set}: expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn the_command_line_refuses_zero_inner_steps_with_exit_code_two_and_no_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = dir.path().join("two-sites.yaml");
    std::fs::write(&scenario, TWO_SITES).expect("write");
    let out = dir.path().join("out");
    assert_cmd::cargo::cargo_bin_cmd!("depinsim")
        .arg("run")
        .arg(&scenario)
        .args(["--out"])
        .arg(&out)
        .args([
            "--set",
            "training.pt.sync=local_sgd",
            "--set",
            "training.pt.local_sgd.inner_steps=0",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "training[0].local_sgd.inner_steps",
        ));
    assert!(!out.exists(), "no partial output");
}
