//! Turns a finished replication into named metrics over the measurement window
//! [warm-up, horizon]. Names are `<scope>.<quantity>_<unit>.<statistic>`; the README lists them.

use crate::engine::SimTime;
use crate::metrics::recorder::GroupStats;
use crate::metrics::{LatencyHist, Metrics};

use super::tokens::Tokens;
use super::world::World;

const NANOS_PER_HOUR: f64 = 3.6e12;

/// Collects the metrics of `w` at `horizon`.
pub(super) fn collect(w: &World<'_>, horizon: SimTime) -> Metrics {
    let s = w.scenario();
    let rec = w.recorder();
    let window_ns = (horizon - s.warmup()) as f64;
    let window_h = window_ns / NANOS_PER_HOUR;
    let mut m = Metrics::new();
    let all = rec.overall();
    group(&mut m, "inference", &all);
    m.insert(
        "inference.clamped_latencies.count".into(),
        (all.ttft.clamped() + all.tpot.clamped() + all.e2e.clamped()) as f64,
    );
    for (r, g) in s.regions().iter().zip(&rec.regions) {
        group(&mut m, &format!("region.{}", r.name), g);
    }
    m.insert(
        "inference.too_long_requests.count".into(),
        rec.too_long as f64,
    );
    m.insert(
        "inference.in_flight_requests.count".into(),
        (all.arrived - all.completed - all.dropped) as f64,
    );
    if all.arrived > 0 {
        m.insert(
            "inference.drop_ratio.mean".into(),
            all.dropped as f64 / all.arrived as f64,
        );
    }
    m.insert(
        "inference.preempted_requests.count".into(),
        rec.preempted as f64,
    );
    m.insert(
        "inference.withdrawn_requests.count".into(),
        rec.withdrawn as f64,
    );
    m.insert(
        "inference.throughput_rps.mean".into(),
        all.completed as f64 / (window_ns / 1e9),
    );
    if all.completed > 0 {
        m.insert(
            "inference.wait_s.mean".into(),
            rec.wait_sum_ns as f64 / 1e9 / all.completed as f64,
        );
        m.insert(
            "inference.waited_ratio.mean".into(),
            rec.waited as f64 / all.completed as f64,
        );
        m.insert(
            "inference.service_s.mean".into(),
            rec.service_sum_ns as f64 / 1e9 / all.completed as f64,
        );
    }
    m.insert(
        "inference.output_tokens.count".into(),
        rec.output_tokens as f64,
    );

    let (mut busy, mut system, mut gpus, mut revenue, mut cost) = (0.0, 0.0, 0.0, 0.0, 0.0);
    // Users pay for the GPU time of serving replicas; the batch is averaged over replica time.
    let (mut inference_revenue, mut running, mut replica_time) = (0.0, 0.0, 0.0);
    let mut costs = Vec::with_capacity(s.pools().len());
    let pools = s.pools().iter().zip(w.pool_states()).zip(w.warm_areas());
    for (((p, st), warm), warm_offline) in pools.zip(w.warm_offline()) {
        let a = st.areas_at(horizon);
        let b = (a.busy - warm.busy) as f64;
        let serving = (a.serving - warm.serving) as f64;
        let pool_revenue = b / NANOS_PER_HOUR * p.price_usd_per_gpu_hour;
        // Providers pay for their GPUs until they leave the network.
        let departed = (st.departed_area_at(horizon) - warm_offline.1) as f64;
        let pool_cost =
            (f64::from(p.count) * window_h - departed / NANOS_PER_HOUR) * p.hourly_cost_usd;
        let key = |q: &str| format!("pool.{}.{q}", p.name);
        m.insert(
            key("utilisation_ratio.mean"),
            b / (f64::from(p.count) * window_ns),
        );
        m.insert(key("served_requests.count"), st.served as f64);
        let offline = (st.offline_area_at(horizon) - warm_offline.0) as f64;
        m.insert(key("departed_gpus.count"), f64::from(st.departed));
        m.insert(
            key("available_ratio.mean"),
            1.0 - offline / (f64::from(p.count) * window_ns),
        );
        m.insert(key("revenue_usd.total"), pool_revenue);
        m.insert(key("profit_usd.total"), pool_revenue - pool_cost);
        costs.push(pool_cost);
        busy += b;
        system += (a.system - warm.system) as f64;
        gpus += f64::from(p.count);
        revenue += pool_revenue;
        cost += pool_cost;
        inference_revenue += serving / NANOS_PER_HOUR * p.price_usd_per_gpu_hour;
        running += (a.running - warm.running) as f64;
        replica_time += serving / f64::from(st.tp);
    }
    m.insert(
        "gpu.utilisation_ratio.mean".into(),
        busy / (gpus * window_ns),
    );
    m.insert(
        "inference.in_system_requests.mean".into(),
        system / window_ns,
    );
    // Requests decoding per active replica, averaged over the time replicas were active.
    let batch = (replica_time > 0.0).then(|| running / replica_time);
    if let Some(b) = batch {
        m.insert("inference.batch_mean.mean".into(), b);
    }
    m.insert("provider.revenue_usd.total".into(), revenue);
    w.jobs().metrics(s, &mut m);
    if let Some(t) = w.tokens() {
        t.metrics(s, &mut m);
        returns_with_rewards(s, t, &costs, &mut m);
    }
    m.insert("provider.cost_usd.total".into(), cost);
    m.insert("provider.profit_usd.total".into(), revenue - cost);
    // The same requests on the cloud, its replicas at the network's mean batch.
    let cloud = s.cloud().usd_per_million_tokens(
        s.prompt.mean(),
        s.output.mean().max(1.0),
        batch.unwrap_or(1.0),
    );
    if let Some(cloud) = cloud {
        m.insert("inference.cloud_usd_per_million_tokens.mean".into(), cloud);
    }
    // The window's GPU time against the tokens answered in the window.
    if rec.window_tokens > 0 {
        let price = inference_revenue / rec.window_tokens as f64 * 1e6;
        m.insert("inference.price_usd_per_million_tokens.mean".into(), price);
        if let Some(cloud) = cloud.filter(|&c| c > 0.0) {
            m.insert("inference.cost_vs_cloud_ratio.mean".into(), price / cloud);
        }
    }
    m
}

/// Providers' returns when they earn tokens: fees received and token rewards (at the price
/// when earned) over the measurement window, against their costs, per group and per kind of
/// provider (datacenter classes against consumer cards).
fn returns_with_rewards(s: &crate::scenario::Scenario, t: &Tokens, costs: &[f64], m: &mut Metrics) {
    // (income, cost) of datacenter and consumer groups.
    let mut kinds = [(0.0, 0.0); 2];
    for (i, (p, &cost)) in s.pools().iter().zip(costs).enumerate() {
        let (rewards, fees) = t.window_income(i);
        let income = rewards + fees;
        let key = |q: &str| format!("pool.{}.{q}", p.name);
        m.insert(key("income_with_rewards_usd.total"), income);
        if cost > 0.0 {
            m.insert(key("roi_with_rewards_ratio.mean"), (income - cost) / cost);
        }
        let k = &mut kinds[usize::from(!p.class.datacenter)];
        k.0 += income;
        k.1 += cost;
    }
    let (income, cost) = (kinds[0].0 + kinds[1].0, kinds[0].1 + kinds[1].1);
    m.insert(
        "provider.profit_with_rewards_usd.total".into(),
        income - cost,
    );
    for (name, (income, cost)) in ["datacenter", "consumer"].iter().zip(kinds) {
        if cost > 0.0 {
            m.insert(
                format!("provider.{name}.roi_with_rewards_ratio.mean"),
                (income - cost) / cost,
            );
        }
    }
}

fn group(m: &mut Metrics, scope: &str, g: &GroupStats) {
    for (name, met) in [
        ("slo_attainment_ratio", g.met_both),
        ("ttft_attainment_ratio", g.met_ttft),
        ("tpot_attainment_ratio", g.met_tpot),
    ] {
        if let Some(share) = g.attainment(met) {
            m.insert(format!("{scope}.{name}.mean"), share);
        }
    }
    m.insert(format!("{scope}.arrived_requests.count"), g.arrived as f64);
    m.insert(
        format!("{scope}.completed_requests.count"),
        g.completed as f64,
    );
    m.insert(format!("{scope}.dropped_requests.count"), g.dropped as f64);
    latency(m, &format!("{scope}.ttft_s"), &g.ttft);
    latency(m, &format!("{scope}.tpot_s"), &g.tpot);
    latency(m, &format!("{scope}.e2e_s"), &g.e2e);
}

fn latency(m: &mut Metrics, name: &str, h: &LatencyHist) {
    if let Some(mean) = h.mean_s() {
        m.insert(format!("{name}.mean"), mean);
    }
    for (q, label) in [(0.5, "p50"), (0.95, "p95"), (0.99, "p99")] {
        if let Some(v) = h.quantile_s(q) {
            m.insert(format!("{name}.{label}"), v);
        }
    }
}
