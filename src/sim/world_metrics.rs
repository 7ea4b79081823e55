//! Turns a finished replication into named metrics over the measurement window
//! [warm-up, horizon]. Names are `<scope>.<quantity>_<unit>.<statistic>`; the README lists them.

use crate::core::engine::SimTime;
use crate::metrics::recorder::GroupStats;
use crate::metrics::{LatencyHist, Metrics};

use super::world::World;
use crate::economics::provider::ProviderKind;

const NANOS_PER_HOUR: f64 = 3.6e12;

/// Collects the metrics of `w` at `horizon`.
pub(super) fn collect(w: &World<'_>, horizon: SimTime) -> Metrics {
    let s = w.scenario();
    let rec = w.recorder();
    let window_ns = (horizon - s.warmup()) as f64;
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

    let (mut busy, mut system, mut member, mut revenue, mut cost) = (0.0, 0.0, 0.0, 0.0, 0.0);
    // Users pay for the GPU time of serving replicas; the batch is averaged over replica time.
    let (mut inference_revenue, mut running, mut replica_time) = (0.0, 0.0, 0.0);
    let mut costs = Vec::with_capacity(s.pools().len());
    let (mut capacity, mut gpus_final) = (0.0, 0u64);
    let pools = s.pools().iter().zip(w.pool_states()).zip(w.warm_areas());
    for (i, (((p, st), warm), warm_offline)) in pools.zip(w.warm_offline()).enumerate() {
        let a = st.areas_at(horizon);
        let b = (a.busy - warm.busy) as f64;
        let serving = (a.serving - warm.serving) as f64;
        let pool_revenue = st.fees_at(horizon) - w.warm_fees()[i];
        // Providers pay for their GPUs while they are in the network.
        let departed = (st.departed_area_at(horizon) - warm_offline.1) as f64;
        let member_ns = f64::from(p.count) * window_ns - departed;
        let member_h = member_ns / NANOS_PER_HOUR;
        let pool_cost = p.cost.full(member_h, b / NANOS_PER_HOUR);
        let key = |q: &str| format!("pool.{}.{q}", p.name);
        if member_ns > 0.0 {
            m.insert(key("utilisation_ratio.mean"), b / member_ns);
            let offline = (st.offline_area_at(horizon) - warm_offline.0) as f64 - departed;
            m.insert(key("available_ratio.mean"), 1.0 - offline / member_ns);
        }
        m.insert(key("served_requests.count"), st.served as f64);
        // GPUs that left after a failure (not those that never joined or left by choice).
        let departed_after_failure = i64::from(st.departed) - i64::from(p.count - p.initial)
            + i64::from(st.joined)
            - i64::from(st.left);
        m.insert(key("departed_gpus.count"), departed_after_failure as f64);
        m.insert(key("failures.count"), st.failures as f64);
        m.insert(key("gpus.mean"), member_ns / window_ns);
        m.insert(key("gpus.final"), f64::from(st.members()));
        m.insert(key("joined_gpus.count"), f64::from(st.joined));
        m.insert(key("left_gpus.count"), f64::from(st.left));
        m.insert(key("revenue_usd.total"), pool_revenue);
        m.insert(key("cost_usd.total"), pool_cost);
        m.insert(key("profit_usd.total"), pool_revenue - pool_cost);
        costs.push(pool_cost);
        busy += b;
        system += (a.system - warm.system) as f64;
        member += member_ns;
        revenue += pool_revenue;
        cost += pool_cost;
        gpus_final += u64::from(st.members());
        // Capacity of the GPUs in the network, averaged over the window.
        capacity += w.capacity_rps()[i] * member_ns / window_ns / f64::from(p.count);
        // Users pay the serving share of the group's fees.
        if b > 0.0 {
            inference_revenue += serving / b * pool_revenue;
        }
        running += (a.running - warm.running) as f64;
        replica_time += serving / f64::from(st.tp);
    }
    if member > 0.0 {
        m.insert("gpu.utilisation_ratio.mean".into(), busy / member);
    }
    m.insert("provider.gpus.mean".into(), member / window_ns);
    m.insert("provider.gpus.final".into(), gpus_final as f64);
    let demand: f64 = s.users().iter().map(|u| u.rate_per_s).sum();
    if demand > 0.0 {
        // Requests per second the network's GPUs could answer with full batches, against
        // the requests users issue: above 1, supply outgrows demand.
        m.insert(
            "provider.capacity_demand_ratio.mean".into(),
            capacity / demand,
        );
    }
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
    }
    returns(w, horizon, &costs, &mut m);
    if let Some(n) = w.supply_reviews() {
        m.insert("provider.supply_reviews.count".into(), n as f64);
    }
    let (redundancy, spot) = s.verification();
    if redundancy > 1 || spot > 0.0 {
        m.insert(
            "inference.verification_skipped.count".into(),
            w.verification_skipped() as f64,
        );
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

/// Providers' returns: per group and per kind of provider (sharing economy, datacenter),
/// income (fees, and token rewards at the price when earned, less slashed stakes) over the
/// measurement window against full costs, and the years until hardware is paid back.
fn returns(w: &World<'_>, horizon: SimTime, costs: &[f64], m: &mut Metrics) {
    let s = w.scenario();
    let window_ns = (horizon - s.warmup()) as f64;
    // (income, cost) per kind; each group's ROI with its GPU-hours, for percentiles.
    let mut kinds = [(0.0, 0.0); 2];
    let mut rois: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
    let pools = s.pools().iter().zip(w.pool_states()).zip(w.warm_areas());
    for (i, (((p, st), warm), warm_offline)) in pools.zip(w.warm_offline()).enumerate() {
        let cost = costs[i];
        let fees = st.fees_at(horizon) - w.warm_fees()[i];
        let income = match w.tokens() {
            Some(t) => {
                let (rewards, received) = t.window_income(i);
                rewards + received - t.slashed_usd(i)
            }
            None => fees,
        };
        let key = |q: &str| format!("pool.{}.{q}", p.name);
        let departed = (st.departed_area_at(horizon) - warm_offline.1) as f64;
        let member_h = (f64::from(p.count) * window_ns - departed) / NANOS_PER_HOUR;
        let busy_h = (st.busy_area_at(horizon) - warm.busy) as f64 / NANOS_PER_HOUR;
        if w.tokens().is_some() {
            m.insert(key("income_with_rewards_usd.total"), income);
        }
        if cost > 0.0 {
            let roi = (income - cost) / cost;
            m.insert(key("roi_ratio.mean"), roi);
            rois[usize::from(p.kind == ProviderKind::Datacenter)].push((roi, member_h));
        }
        if let Some(y) = p.cost.payback_years(income, member_h, busy_h) {
            m.insert(key("payback_years.mean"), y);
        }
        let k = &mut kinds[usize::from(p.kind == ProviderKind::Datacenter)];
        k.0 += income;
        k.1 += cost;
    }
    let (income, cost) = (kinds[0].0 + kinds[1].0, kinds[0].1 + kinds[1].1);
    m.insert("provider.income_usd.total".into(), income);
    m.insert("provider.net_profit_usd.total".into(), income - cost);
    for (kind, ((income, cost), mut r)) in [ProviderKind::Sharing, ProviderKind::Datacenter]
        .into_iter()
        .zip(kinds.into_iter().zip(rois))
    {
        let name = kind.name();
        if cost > 0.0 {
            m.insert(
                format!("provider.{name}.roi_ratio.mean"),
                (income - cost) / cost,
            );
        }
        // The spread of returns across the kind's groups, weighted by GPU-hours.
        r.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: f64 = r.iter().map(|x| x.1).sum();
        if total > 0.0 {
            for (q, label) in [(0.1, "p10"), (0.5, "p50"), (0.9, "p90")] {
                let mut acc = 0.0;
                let at = r
                    .iter()
                    .find(|x| {
                        acc += x.1;
                        acc >= q * total
                    })
                    .map_or(r[r.len() - 1].0, |x| x.0);
                m.insert(format!("provider.{name}.roi_ratio.{label}"), at);
            }
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
