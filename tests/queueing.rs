//! The simulated queue against exact queueing theory: Erlang C (M/M/c), Pollaczek-Khinchine
//! (M/D/1, M/G/1) and Little's law, on the shipped validation scenario. See issue 2.

use std::path::Path;

use depinsim::experiment::run_all;
use depinsim::metrics::names;
use depinsim::metrics::{MetricSummary, aggregate};
use depinsim::physics::queueing::{erlang_c, mmc_mean_wait, pk_mean_wait};
use depinsim::scenario::load_file;
use depinsim::scenario::overrides::parse_override;

fn run(sets: &[&str]) -> std::collections::BTreeMap<String, MetricSummary> {
    let ovs: Vec<_> = sets
        .iter()
        .map(|s| parse_override(s).expect("override"))
        .collect();
    let s = load_file(Path::new("scenarios/mmc-validation.yaml"), &ovs).expect("scenario");
    let outs = run_all(&s, 0, &|| {}).expect("threads");
    let metrics: Vec<_> = outs.into_iter().map(|o| o.metrics).collect();
    aggregate(&metrics)
}

fn close(what: &str, sim: f64, exact: f64, tol: f64) {
    let err = (sim / exact - 1.0).abs();
    assert!(
        err < tol,
        "{what}: simulated {sim:.5}, exact {exact:.5}, error {:.2}% (limit {:.0}%)",
        err * 100.0,
        tol * 100.0
    );
}

#[test]
fn mm8_wait_matches_erlang_c_and_littles_law_holds() {
    let m = run(&["simulation.horizon_h=60"]);
    close(
        "M/M/8 mean wait",
        m[names::inference::WAIT_S].mean,
        mmc_mean_wait(8, 6.4, 1.0),
        0.03,
    );
    close(
        "M/M/8 probability of waiting",
        m[names::inference::WAITED_RATIO].mean,
        erlang_c(8, 6.4),
        0.03,
    );
    close(
        "M/M/8 utilisation",
        m[names::gpu::UTILISATION].mean,
        0.8,
        0.01,
    );
    assert_eq!(
        m[names::inference::DROPPED_REQUESTS].mean,
        0.0,
        "an unlimited queue drops nothing"
    );
    // Little's law: L = lambda W, with W the mean time in system (wait + service).
    let lambda = m[names::inference::THROUGHPUT_RPS].mean;
    let w = m[names::inference::WAIT_S].mean + m[names::inference::SERVICE_S].mean;
    close(
        "Little's law L = lambda W",
        m[names::inference::IN_SYSTEM_REQUESTS].mean,
        lambda * w,
        0.01,
    );
}

#[test]
fn md1_wait_matches_pollaczek_khinchine() {
    let m = run(&[
        "providers.pool.count=1",
        "inference.users.0.rate_per_s=0.7",
        "inference.service_time_s={constant: 1.0}",
        "simulation.horizon_h=150",
    ]);
    close(
        "M/D/1 mean wait",
        m[names::inference::WAIT_S].mean,
        pk_mean_wait(0.7, 1.0, 1.0),
        0.03,
    );
}

#[test]
fn mg1_lognormal_wait_matches_pollaczek_khinchine() {
    // Lognormal with median 0.8 s and sigma 0.6: E[S] = 0.8 e^(0.18), E[S^2] = 0.64 e^(0.72).
    let (mean, second) = (0.8 * 0.18f64.exp(), 0.64 * 0.72f64.exp());
    let m = run(&[
        "providers.pool.count=1",
        "inference.users.0.rate_per_s=0.7",
        "inference.service_time_s={lognormal: {median: 0.8, sigma: 0.6}}",
        "simulation.horizon_h=300",
    ]);
    close(
        "M/G/1 mean service",
        m[names::inference::SERVICE_S].mean,
        mean,
        0.01,
    );
    close(
        "M/G/1 mean wait",
        m[names::inference::WAIT_S].mean,
        pk_mean_wait(0.7, mean, second),
        0.03,
    );
}

#[test]
fn a_loss_system_drops_what_erlang_b_predicts() {
    // With no queue (max_queue_per_gpu: 0) M/M/c is Erlang's loss system: the blocking
    // probability is Erlang B, B(c, a) = a^c / c! / sum_k a^k / k!.
    let m = run(&["inference.max_queue_per_gpu=0", "simulation.horizon_h=30"]);
    let (c, a) = (8, 6.4f64);
    let terms: Vec<f64> = (0..=c)
        .scan(1.0, |t, k| {
            if k > 0 {
                *t *= a / f64::from(k);
            }
            Some(*t)
        })
        .collect();
    let erlang_b = terms[c as usize] / terms.iter().sum::<f64>();
    close(
        "M/M/8/8 blocking",
        m[names::inference::DROP_RATIO].mean,
        erlang_b,
        0.03,
    );
}
