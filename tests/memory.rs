//! Memory known before running (issue 13, item 10): a run, viability or sweep whose
//! estimate does not fit what the process may use is refused at validation with the
//! estimate and the fix (exit 2, nothing written), `--max-memory` sets the limit, and the
//! networks of millions of cards that used to be killed for memory now run.

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

fn depinsim() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("depinsim");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// The quickstart for two simulated hours, one replication, into `out`, with `args`.
fn quickstart(out: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    depinsim()
        .args(["run", "scenarios/quickstart.yaml", "--quiet", "--out"])
        .arg(out)
        .args(["--replications", "1", "--set", "simulation.horizon_h=2"])
        .args(args)
        .assert()
}

#[test]
fn hundreds_of_millions_of_idle_cards_run_in_little_memory() {
    // See issue 13: 100 million RTX 4090s were killed for memory (exit 137: a replica of
    // 144 bytes each, 14 GB a replication) and 4 billion H100s aborted on a 576 GB
    // allocation (exit 134). Replicas now exist only once they open.
    let tmp = tempfile::tempdir().expect("tempdir");
    for (i, set) in [
        "providers.1.count=100000000",
        "providers.0.count=4000000000",
    ]
    .iter()
    .enumerate()
    {
        let out = tmp.path().join(i.to_string());
        quickstart(&out, &["--set", set]).success();
        assert!(out.join("summary.json").is_file(), "{set}");
    }
}

#[test]
fn a_run_too_large_for_the_limit_is_refused_with_the_estimate_and_nothing_written() {
    // 4 billion H100s failing with a Weibull shape have a failure clock each: 28 bytes
    // (a 16-byte key and a 12-byte event), 104 GiB for one replication. The limit is given,
    // so that the test does not depend on the machine.
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("big");
    quickstart(
        &out,
        &[
            "--set",
            "providers.0.count=4000000000",
            "--set",
            "providers.0.failure_shape=0.7",
            "--max-memory",
            "16GiB",
        ],
    )
    .code(2)
    .stderr(
        predicate::str::contains("the run would need about 104 GiB of memory")
            .and(predicate::str::contains("more than 80% of the 16.0 GiB"))
            .and(predicate::str::contains("(--max-memory)"))
            .and(predicate::str::contains(
                "4,000,000,000 failure clocks (one per GPU of a group with a Weibull failure_shape) x 28 B = 104 GiB",
            ))
            .and(predicate::str::contains("fix: fewer GPUs"))
            .and(predicate::str::contains("panicked").not()),
    );
    assert!(!out.exists(), "nothing is written");
    assert_eq!(std::fs::read_dir(tmp.path()).expect("dir").count(), 0);
}

#[test]
fn queues_without_a_limit_under_overload_are_refused_for_their_requests() {
    // A million requests a second on 40 GPUs with no queue limit: every request of the two
    // hours (at the peak of the daily cycle, 1.5 million a second) may be waiting, 80
    // bytes each (a 72-byte slab slot, its places in the free list and a queue): 1.08e10 x
    // 80 B = 805 GiB.
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("overload");
    quickstart(
        &out,
        &[
            "--set",
            "inference.max_queue_per_gpu=null",
            "--set",
            "inference.users.0.rate_per_s=1000000",
            "--max-memory",
            "64GiB",
        ],
    )
    .code(2)
    .stderr(
        predicate::str::contains("would need about 805 GiB")
            .and(predicate::str::contains(
                "requests in flight at the busiest x 80 B",
            ))
            .and(predicate::str::contains(
                "bounded queues (inference.max_queue_per_gpu)",
            )),
    );
    assert!(!out.exists());
}

#[test]
fn max_memory_sets_the_limit_both_ways() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let small = tmp.path().join("small");
    quickstart(&small, &["--max-memory", "1MiB"])
        .code(2)
        .stderr(
            predicate::str::contains("of the 1.00 MiB this process may use (--max-memory)").and(
                predicate::str::contains("give the memory the run may use with --max-memory"),
            ),
        );
    assert!(!small.exists());
    let generous = tmp.path().join("generous");
    quickstart(&generous, &["--max-memory", "64GiB"]).success();
    assert!(generous.join("summary.json").is_file());
}

#[test]
fn a_max_memory_that_is_not_a_size_is_a_usage_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (command, file) in [
        ("run", "scenarios/quickstart.yaml"),
        ("viability", "scenarios/quickstart.yaml"),
        ("sweep", "scenarios/sweeps/settlement.yaml"),
    ] {
        for bad in ["lots", "8GB!", "0", "-1GiB"] {
            let out = tmp.path().join("x");
            depinsim()
                .args([command, file, "--out"])
                .arg(&out)
                .arg(format!("--max-memory={bad}"))
                .assert()
                .code(2)
                .stderr(predicate::str::contains("--max-memory"));
            assert!(!out.exists(), "{command} --max-memory {bad}");
        }
    }
}

#[test]
fn a_sweep_is_refused_for_its_largest_variant_before_its_directory_exists() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("sweep");
    depinsim()
        .args([
            "sweep",
            "--threads",
            "2",
            "scenarios/quickstart.yaml",
            "--grid",
            "providers.0.count=[8, 4000000000]",
            "--set",
            "providers.0.failure_shape=0.7",
            "--replications",
            "1",
            "--max-memory",
            "16GiB",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(
            // Two cells (variant x replication) on two threads: both may be the largest.
            predicate::str::contains("the sweep's largest variant would need about 209 GiB")
                .and(predicate::str::contains(
                    "2 replication(s) at once x 104 GiB each",
                ))
                .and(predicate::str::contains("4,000,000,000 failure clocks")),
        );
    assert!(!out.exists());
}

#[test]
fn validate_states_each_scenarios_memory() {
    depinsim()
        .args(["validate", "scenarios/quickstart.yaml"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"memory: about [0-9.]+ MiB per replication \(largest part: 15 latency histograms",
            )
            .expect("regex"),
        );
}
