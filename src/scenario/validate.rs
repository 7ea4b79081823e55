//! Checks a [`RawScenario`] and turns it into a typed [`Scenario`]. Every problem is recorded
//! (with its path and a fix) before anything is returned, so a user sees them all at once.

use std::collections::HashMap;
use std::path::Path;

use super::defaults::{
    self, MAX_HORIZON_H, MAX_RATE_PER_S, MAX_REPLICATIONS, MAX_REQUESTS, MAX_ROWS, ONE_SECOND_H,
};
use super::raw::{self, RawCalibration, RawScenario};
use super::validate_economy::{cost_model, pricing, supply, token_rules, verification};
use super::{
    Cloud, CloudServing, Dispatch, JobClass, Placement, Pool, Region, Routing, Scenario, TokenSpec,
    UserGroup, Viability,
};
use crate::calibration::Profile;
use crate::core::diagnostics::Issues;
use crate::core::engine::{SimTime, from_secs};
use crate::core::path::YamlPath;
use crate::economics::ledger::Design;
use crate::economics::provider::ProviderKind;
use crate::physics::catalogue::{find_model, model_ids};
use crate::physics::gpu::{GpuClass, Roofline, class_ids, find_class};
use crate::physics::rates::Rates;
use crate::physics::serving::{BatchPolicy, ServedModel, Serving, Unfit};
use crate::physics::training::JobKind;

const HOUR_S: f64 = 3600.0;

/// Names appear inside dot-separated metric names (`region.<name>.ttft_s.p95`).
const NAME_FIX: &str = "use letters, digits, '-' and '_' only (names appear in metric names)";

/// Checks that item `i` of `list` has a usable name that no earlier item has.
fn unique_name(
    issues: &mut Issues,
    item: &YamlPath,
    name: &str,
    seen: &mut HashMap<String, usize>,
    i: usize,
    list: &str,
) {
    if !name_ok(name) {
        issues.push(
            &item.key("name"),
            format!("`{name}` is not a usable name"),
            NAME_FIX,
        );
    } else if let Some(j) = seen.insert(name.to_string(), i) {
        issues.push(
            &item.key("name"),
            format!("`{name}` is also the name of {list}[{j}]"),
            "give every item a distinct name",
        );
    }
}

fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Validates `raw`, filling its remaining defaults in place (for scenario.resolved.yaml);
/// files the scenario names (a price path) are read relative to `dir`.
pub fn validate(mut raw: RawScenario, stem: &str, dir: &Path) -> Result<Scenario, Issues> {
    let mut issues = Issues::default();
    let root = YamlPath::root();
    let name = raw.name.get_or_insert_with(|| stem.to_string()).clone();
    let (horizon, warmup, epoch) = simulation(&raw, &root.key("simulation"), &mut issues);
    let regions = regions(&raw, &root.key("regions"), &mut issues);
    let index: HashMap<&str, usize> = regions
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.as_str(), i))
        .collect();
    let rtt_s = rtt_matrix(&raw, &index, &root.key("network"), &mut issues);
    let profiles = calibration_profiles(&raw, dir, &mut issues);
    let (pools, model, policy) = pools(
        &mut raw,
        &index,
        &profiles,
        &root.key("providers"),
        &mut issues,
    );
    let users = users(
        &raw,
        &index,
        &root.key("inference").key("users"),
        &mut issues,
    );
    let jobs = jobs(&raw, &pools, &root.key("training"), &mut issues);
    let cloud = cloud(&raw, &root.key("cloud"), &mut issues);
    let inf = &raw.inference;
    let ip = root.key("inference");
    let prompt = inf
        .prompt_tokens
        .validate(&ip.key("prompt_tokens"), &mut issues);
    let output = inf
        .output_tokens
        .validate(&ip.key("output_tokens"), &mut issues);
    let service = inf
        .service_time_s
        .as_ref()
        .map(|d| d.validate(&ip.key("service_time_s"), &mut issues));
    if let Some(m) = inf.max_rtt_ms {
        issues.non_negative(
            &ip.key("max_rtt_ms"),
            m,
            "give a round trip in ms, or null for no limit",
        );
    }
    issues.non_negative(
        &root.key("network").key("bytes_per_token"),
        raw.network.bytes_per_token,
        "e.g. 4",
    );
    let slo = raw.inference.slo_ttft_s;
    issues.positive(
        &ip.key("slo_ttft_s"),
        slo,
        "give the time-to-first-token objective in seconds, e.g. 0.5",
    );
    let slo_tpot = raw.inference.slo_tpot_s;
    issues.positive(
        &ip.key("slo_tpot_s"),
        slo_tpot,
        "give the time-per-output-token objective in seconds, e.g. 0.05",
    );
    let token = token(&raw, horizon, dir, &mut issues);
    let supply = supply(&raw, &mut issues);
    let pricing = pricing(&raw, &mut issues);
    let verification = verification(
        &raw,
        pools.iter().filter(|q| q.serving.is_ok()).count(),
        &mut issues,
    );
    let v = &raw.viability;
    let vp = root.key("viability");
    issues.positive(
        &vp.key("max_cost_ratio"),
        v.max_cost_ratio,
        "e.g. 1 (no dearer than the cloud)",
    );
    issues.within(
        &vp.key("min_slo_attainment"),
        v.min_slo_attainment,
        0.0,
        1.0,
        "a share between 0 and 1, e.g. 0.95",
    );
    if !issues.is_empty() {
        return Err(issues);
    }
    let (Some(prompt), Some(output), Some(mut cloud), Some(model), Some(policy)) =
        (prompt, output, cloud, model, policy)
    else {
        return Err(issues);
    };
    let service = match service {
        Some(Some(d)) => Some(d),
        Some(None) => return Err(issues),
        None => None,
    };
    // The cloud's GPUs run at the rates the network's GPUs of the same class run at.
    let cloud_rates = class_rates(
        cloud.class,
        &profiles,
        f64::from(policy.token_budget),
        f64::from(model.context_tokens),
        &raw.calibration,
    );
    cloud.flops = cloud_rates.training_flops;
    cloud.serving = match &service {
        Some(d) => CloudServing::Drawn(d.mean()),
        None => {
            let node = raw.cloud.gpus_per_node;
            Serving::plan(cloud.class, node, node, &model, &policy, &cloud_rates)
                .map_or(CloudServing::Unfit, CloudServing::Batched)
        }
    };
    let mut scenario = Scenario {
        name,
        horizon,
        warmup,
        epoch,
        replications: raw.simulation.replications,
        seed: raw.simulation.seed,
        regions,
        rtt_s,
        bytes_per_token: raw.network.bytes_per_token,
        pools,
        users,
        prompt,
        output,
        service,
        routing: match raw.inference.routing {
            raw::Routing::NearestFree => Routing::NearestFree,
            raw::Routing::LeastLatency => Routing::LeastLatency,
        },
        dispatch: match raw.inference.dispatch {
            raw::Dispatch::Spread => Dispatch::Spread,
            raw::Dispatch::Pack => Dispatch::Pack,
        },
        max_queue_per_gpu: raw.inference.max_queue_per_gpu,
        max_rtt_s: raw.inference.max_rtt_ms.map(|ms| ms / 1e3),
        jobs,
        slo_ttft: from_secs(slo),
        slo_tpot: from_secs(slo_tpot),
        model,
        cloud,
        token,
        pricing,
        supply,
        verification,
        viability: Viability {
            max_cost_ratio: raw.viability.max_cost_ratio,
            min_slo_attainment: raw.viability.min_slo_attainment,
        },
        resolved_yaml: String::new(),
    };
    reachability(&scenario, &root, &mut issues);
    if issues.is_empty() {
        scenario.resolved_yaml = serde_saphyr::to_string(&raw)
            .unwrap_or_else(|e| format!("# could not serialize the scenario: {e}\n"));
        Ok(scenario)
    } else {
        Err(issues)
    }
}

/// The token section: emission within its maximum supply over the horizon, a price path
/// that resolves (a CSV file that reads and parses), shares in range.
fn token(
    raw: &RawScenario,
    horizon: SimTime,
    dir: &Path,
    issues: &mut Issues,
) -> Option<TokenSpec> {
    let t = raw.token.as_ref()?;
    let tp = YamlPath::root().key("token");
    let ep = tp.key("emission");
    let mut ok = t.emission.validate(horizon as f64 / 3.6e12, &ep, issues);
    let price = t.price.resolve_in(dir, &tp.key("price"), issues);
    ok &= issues.within(
        &tp.key("work_share"),
        t.work_share,
        0.0,
        1.0,
        "a share between 0 and 1: the part of each emission paid for work, the rest for availability",
    ) & issues.within(
        &tp.key("take_rate"),
        t.take_rate,
        0.0,
        1.0,
        "a share between 0 and 1, e.g. 0.05",
    );
    let stakers: u64 = raw.providers.iter().map(|g| u64::from(g.count)).sum();
    let rules = token_rules(t, t.emission.epoch_h, stakers, issues);
    ok &= rules.is_some();
    let sell_share = match &t.price {
        crate::economics::price::PricePathSpec::Amm(a) => a.provider_sell_share,
        _ => 0.0,
    };
    let epoch = from_secs(t.emission.epoch_h * 3600.0);
    if ok && epoch == 0 {
        ok = false;
        issues.push(
            &ep.key("epoch_h"),
            "shorter than a nanosecond",
            "give the epoch length in hours, e.g. 24",
        );
    }
    let price = price?;
    ok.then(|| TokenSpec {
        symbol: t.symbol.clone(),
        emission: t.emission.clone(),
        epoch,
        price,
        design: {
            let (staking, lockup, settlement) = rules.unwrap_or((None, None, None));
            Design {
                staking,
                lockup,
                settlement,
                sell_share,
                ..Design::basic(t.work_share, t.payment, t.take_rate)
            }
        },
    })
}

fn simulation(raw: &RawScenario, p: &YamlPath, issues: &mut Issues) -> (SimTime, SimTime, SimTime) {
    let s = &raw.simulation;
    let horizon_ok = issues.within(
        &p.key("horizon_h"),
        s.horizon_h,
        ONE_SECOND_H,
        MAX_HORIZON_H,
        "give the simulated time in hours (one second to a century), e.g. 24",
    );
    if issues.non_negative(
        &p.key("warmup_h"),
        s.warmup_h,
        "give the warm-up in hours, e.g. 1",
    ) && horizon_ok
        && s.warmup_h >= s.horizon_h
    {
        issues.push(
            &p.key("warmup_h"),
            format!(
                "warm-up ({} h) leaves nothing to measure before the horizon ({} h)",
                s.warmup_h, s.horizon_h
            ),
            "make warmup_h smaller than horizon_h",
        );
    }
    if issues.within(
        &p.key("epoch_h"),
        s.epoch_h,
        ONE_SECOND_H,
        MAX_HORIZON_H,
        "give the time-series step in hours (at least one second), e.g. 1",
    ) && horizon_ok
        && (s.horizon_h / s.epoch_h).ceil() * f64::from(s.replications) > MAX_ROWS
    {
        issues.push(
            &p.key("epoch_h"),
            format!(
                "gives more than {MAX_ROWS} time-series rows over the horizon and replications"
            ),
            "use a longer epoch_h or fewer replications",
        );
    }
    if s.replications == 0 || s.replications > MAX_REPLICATIONS {
        issues.push(
            &p.key("replications"),
            format!(
                "must be between 1 and {MAX_REPLICATIONS}, got {}",
                s.replications
            ),
            "use at least 2 for confidence intervals, e.g. 8",
        );
    }
    let h = |x: f64| from_secs(x * HOUR_S);
    (h(s.horizon_h), h(s.warmup_h), h(s.epoch_h))
}

fn regions(raw: &RawScenario, p: &YamlPath, issues: &mut Issues) -> Vec<Region> {
    if raw.regions.is_empty() {
        issues.push(
            p,
            "no regions",
            "list at least one region, e.g. `- {name: us-east}`",
        );
    }
    let mut seen = HashMap::new();
    raw.regions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let rp = p.index(i);
            unique_name(issues, &rp, &r.name, &mut seen, i, "regions");
            issues.within(
                &rp.key("utc_offset_h"),
                r.utc_offset_h,
                -12.0,
                14.0,
                "give the offset of local time from UTC in hours",
            );
            issues.positive(
                &rp.key("bandwidth_mbps"),
                r.bandwidth_mbps,
                "give the access bandwidth in Mbit/s, e.g. 1000",
            );
            Region {
                name: r.name.clone(),
                utc_offset_h: r.utc_offset_h,
                bandwidth_bps: r.bandwidth_mbps * 1e6,
            }
        })
        .collect()
}

/// Builds the symmetric RTT matrix in seconds, reporting unknown regions, conflicting
/// directions and missing pairs.
fn rtt_matrix(
    raw: &RawScenario,
    index: &HashMap<&str, usize>,
    p: &YamlPath,
    issues: &mut Issues,
) -> Vec<f64> {
    let n = raw.regions.len();
    let net = &raw.network;
    issues.non_negative(
        &p.key("intra_region_rtt_ms"),
        net.intra_region_rtt_ms,
        "e.g. 1.0",
    );
    let mut ms: Vec<Option<f64>> = vec![None; n * n];
    let known = || {
        raw.regions
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mp = p.key("rtt_ms");
    for (a, row) in &net.rtt_ms {
        let Some(&i) = index.get(a.as_str()) else {
            issues.push(
                &mp.key(a),
                format!("`{a}` is not a region"),
                format!("use one of: {}", known()),
            );
            continue;
        };
        for (b, &v) in row {
            let vp = mp.key(a).key(b);
            let Some(&j) = index.get(b.as_str()) else {
                issues.push(
                    &vp,
                    format!("`{b}` is not a region"),
                    format!("use one of: {}", known()),
                );
                continue;
            };
            if !issues.non_negative(&vp, v, "give the round-trip time in ms") {
                continue;
            }
            match ms[i * n + j] {
                Some(old) if old != v => issues.push(
                    &vp,
                    format!("conflicts with the other direction ({old} ms)"),
                    "give one value per pair",
                ),
                _ => {
                    ms[i * n + j] = Some(v);
                    ms[j * n + i] = Some(v);
                }
            }
        }
    }
    for i in 0..n {
        ms[i * n + i].get_or_insert(net.intra_region_rtt_ms);
        for j in i + 1..n {
            if ms[i * n + j].is_none() {
                let (a, b) = (&raw.regions[i].name, &raw.regions[j].name);
                issues.push(
                    &mp,
                    format!("no round-trip time between `{a}` and `{b}`"),
                    format!("add `{a}: {{{b}: <ms>}}` under network.rtt_ms"),
                );
            }
        }
    }
    ms.into_iter().map(|v| v.unwrap_or(0.0) / 1e3).collect()
}

/// The scenario's calibration profiles by GPU class, read relative to `dir`: each must load,
/// be a profile of its class (or of `cpu`), and have matrix-product and decode points.
fn calibration_profiles(
    raw: &RawScenario,
    dir: &Path,
    issues: &mut Issues,
) -> HashMap<String, (Profile, String)> {
    let pp = YamlPath::root().key("calibration").key("profiles");
    let mut out = HashMap::new();
    for (class, file) in &raw.calibration.profiles {
        let at = pp.key(class);
        if find_class(class).is_none() {
            issues.push(
                &at,
                format!("unknown GPU class `{class}`"),
                format!("use one of: {}", class_ids()),
            );
            continue;
        }
        match Profile::load(&dir.join(file)) {
            Err(e) => issues.push(
                &at,
                e.to_string(),
                "give the path, relative to the scenario file, of a profile written by `depinsim calibrate`",
            ),
            Ok(p) if p.class != *class && p.class != "cpu" => issues.push(
                &at,
                format!("{file} is a profile of `{}`", p.class),
                format!("give a profile of `{class}` (or of `cpu`)"),
            ),
            Ok(p) if p.matmul.is_empty() && p.matmul_library.is_empty() || p.decode.is_empty() => {
                issues.push(
                    &at,
                    format!("{file} has no matrix-product or no decode points"),
                    "give a profile with matmul and decode points",
                );
            }
            Ok(p) => {
                out.insert(class.clone(), (p, file.clone()));
            }
        }
    }
    if raw.calibration.bundled_profiles {
        let bundled = crate::calibration::bundled::all();
        for class in crate::physics::gpu::GPU_CLASSES {
            if out.contains_key(class.id) {
                continue;
            }
            if let Some((path, p)) = crate::calibration::bundled::best(class.id, &bundled) {
                out.insert(
                    class.id.to_string(),
                    (p.clone(), format!("bundled: kernels/profiles/{path}")),
                );
            }
        }
    }
    out
}

/// The rates of `class`: its calibration profile's (the scenario's, else a bundled one), read
/// at the token budget and the model's context; else its datasheet peaks times the
/// efficiency factors.
fn class_rates(
    class: &GpuClass,
    profiles: &HashMap<String, (Profile, String)>,
    budget: f64,
    context: f64,
    cal: &RawCalibration,
) -> Rates {
    match profiles.get(class.id) {
        // Checked to have the points these lookups need.
        Some((profile, file)) => profile
            .rates(budget, context, file)
            .unwrap_or_else(|_| Rates::efficiency(class, 1.0, 1.0)),
        None => Rates::efficiency(class, cal.compute_efficiency, cal.memory_efficiency),
    }
}

fn pools(
    raw: &mut RawScenario,
    index: &HashMap<&str, usize>,
    profiles: &HashMap<String, (Profile, String)>,
    p: &YamlPath,
    issues: &mut Issues,
) -> (Vec<Pool>, Option<ServedModel>, Option<BatchPolicy>) {
    if raw.providers.is_empty() {
        issues.push(p, "no providers", "list at least one provider group");
    }
    let cal = raw.calibration.clone();
    let cp = YamlPath::root().key("calibration");
    let eff_ok = issues.within(
        &cp.key("compute_efficiency"),
        cal.compute_efficiency,
        1e-6,
        1.0,
        "give achieved / peak FLOP/s, e.g. 0.8",
    ) & issues.within(
        &cp.key("memory_efficiency"),
        cal.memory_efficiency,
        1e-6,
        1.0,
        "give achieved / peak bandwidth, e.g. 0.9",
    );
    let model = served_model(raw, issues);
    let policy = batch_policy(raw, issues);
    let drawn = raw.inference.service_time_s.is_some();
    let mut seen = HashMap::new();
    let mut pools = Vec::new();
    let mut unfit = Vec::new();
    for (i, g) in raw.providers.iter_mut().enumerate() {
        let gp = p.index(i);
        unique_name(issues, &gp, &g.name, &mut seen, i, "providers");
        let region = index.get(g.region.as_str()).copied();
        if region.is_none() {
            issues.push(
                &gp.key("region"),
                format!("`{}` is not a region", g.region),
                "use the name of a region listed under `regions`",
            );
        }
        let class = find_class(&g.gpu);
        if class.is_none() {
            issues.push(
                &gp.key("gpu"),
                format!("unknown GPU class `{}`", g.gpu),
                format!("use one of: {}", class_ids()),
            );
        }
        let max = *g.max_count.get_or_insert(g.count);
        if max == 0 {
            issues.push(
                &gp.key("count"),
                "must be at least 1",
                "give the number of GPUs, or remove the group",
            );
        } else if max < g.count {
            issues.push(
                &gp.key("max_count"),
                format!("{max} is below count ({})", g.count),
                "give the most GPUs the group can grow to, at least count",
            );
        }
        let dc = class.is_some_and(|c| c.datacenter);
        let kind = *g.kind.get_or_insert(if dc {
            ProviderKind::Datacenter
        } else {
            ProviderKind::Sharing
        });
        let electricity = region.map_or(0.0, |r| raw.regions[r].electricity_usd_per_kwh);
        let cost = cost_model(g, class, kind, electricity, &gp, issues);
        let price = g
            .price_usd_per_gpu_hour
            .or(class.and_then(|c| c.reference_price_usd_per_hour));
        match (price, class) {
            (Some(v), _) => {
                issues.non_negative(
                    &gp.key("price_usd_per_gpu_hour"),
                    v,
                    "give the price users pay per busy GPU-hour",
                );
            }
            (None, Some(c)) => issues.push(
                &gp.key("price_usd_per_gpu_hour"),
                format!("`{}` has no reference price", c.id),
                "set price_usd_per_gpu_hour",
            ),
            (None, None) => {}
        }
        g.price_usd_per_gpu_hour = price;
        let mtbf_h = *g.mtbf_h.get_or_insert(if dc {
            defaults::DATACENTER_MTBF_H
        } else {
            defaults::CONSUMER_MTBF_H
        });
        issues.positive(
            &gp.key("mtbf_h"),
            mtbf_h,
            "give the mean time between failures of one GPU, hours",
        );
        let window = g.online_local_h.map(|[from, to]| (from, to));
        if let Some((from, to)) = window {
            let wp = gp.key("online_local_h");
            let ok =
                issues.within(
                    &wp.index(0),
                    from,
                    0.0,
                    24.0,
                    "a local hour between 0 and 24",
                ) & issues.within(&wp.index(1), to, 0.0, 24.0, "a local hour between 0 and 24");
            if ok && from == to {
                issues.push(
                    &wp,
                    "the window is empty",
                    "give different hours, or remove online_local_h for always",
                );
            }
        }
        let shape = *g.failure_shape.get_or_insert(defaults::FAILURE_SHAPE);
        issues.within(
            &gp.key("failure_shape"),
            shape,
            0.1,
            10.0,
            "a Weibull shape between 0.1 and 10 (1: exponential; 0.7-0.8 fits HPC failures)",
        );
        let depart = *g
            .departure_probability
            .get_or_insert(defaults::DEPARTURE_PROBABILITY);
        issues.within(
            &gp.key("departure_probability"),
            depart,
            0.0,
            1.0,
            "a probability between 0 and 1",
        );
        let repair_h = *g.repair_h.get_or_insert(if dc {
            defaults::DATACENTER_REPAIR_H
        } else {
            defaults::CONSUMER_REPAIR_H
        });
        issues.positive(
            &gp.key("repair_h"),
            repair_h,
            "give the mean time a failed GPU stays offline, hours",
        );
        let region_mbps =
            region.map_or(defaults::BANDWIDTH_MBPS, |r| raw.regions[r].bandwidth_mbps);
        let ic = *g.interconnect_gbps.get_or_insert(if dc {
            defaults::DATACENTER_INTERCONNECT_GBPS
        } else {
            region_mbps / 1000.0
        });
        issues.positive(
            &gp.key("interconnect_gbps"),
            ic,
            "give the bandwidth between the group's GPUs, Gbit/s",
        );
        let host = *g.gpus_per_host.get_or_insert(if dc {
            defaults::DATACENTER_GPUS_PER_HOST
        } else {
            defaults::CONSUMER_GPUS_PER_HOST
        });
        if host == 0 {
            issues.push(
                &gp.key("gpus_per_host"),
                "must be at least 1",
                "give the number of GPUs in one host, e.g. 8",
            );
        }
        if let (Some(region), Some(class), Some(price), Some(cost)) = (region, class, price, cost) {
            let budget = policy
                .as_ref()
                .map_or(2048.0, |b| f64::from(b.token_budget));
            let context = model
                .as_ref()
                .map_or(2048.0, |m| f64::from(m.context_tokens));
            let rates = class_rates(class, profiles, budget, context, &cal);
            // Without a valid model or policy the scenario is refused below; the placeholder
            // is never used.
            let serving = match (&model, &policy) {
                _ if drawn => Ok(Serving::single_server(max)),
                (Some(m), Some(pol)) if eff_ok => {
                    Serving::plan(class, max, host.max(1), m, pol, &rates)
                }
                _ => Err(Unfit {
                    need_gb: 0.0,
                    have_gb: 0.0,
                    gpus: 0,
                }),
            };
            if let Err(why) = serving {
                unfit.push((i, why));
            }
            let (params, bytes) = model
                .as_ref()
                .map_or((8e9, 2.0), |m| (m.params, m.bytes_per_param));
            let roofline = Roofline::from_rates(&rates, params, bytes);
            pools.push(Pool {
                name: g.name.clone(),
                region,
                class,
                count: max,
                initial: g.count,
                kind,
                cost,
                price_usd_per_gpu_hour: price,
                roofline,
                rates,
                serving,
                mtbf_s: mtbf_h * 3600.0,
                repair_s: repair_h * 3600.0,
                failure_shape: shape,
                departure_p: depart,
                online_local_h: window,
                interconnect_bytes_per_s: ic * 1e9 / 8.0,
            });
        }
    }
    if model.is_some() && !pools.is_empty() && pools.iter().all(|q| q.serving.is_err()) {
        let worst = unfit
            .iter()
            .map(|(_, u)| u)
            .max_by(|a, b| a.have_gb.total_cmp(&b.have_gb));
        if let Some(u) = worst {
            issues.push(
                &YamlPath::root().key("inference").key("model"),
                format!(
                    "the model needs {:.1} GB (weights and one full-context KV cache), more than any provider group can give one replica ({:.1} GB usable on {} GPU(s) of a host)",
                    u.need_gb, u.have_gb, u.gpus
                ),
                "serve a smaller or more quantised model (bytes_per_param), a shorter context_tokens, or add GPUs with more memory (or more per host)",
            );
        }
    }
    (pools, model, policy)
}

/// Resolves the served model from the catalogue and the scenario's overrides, writing every
/// field back so that scenario.resolved.yaml shows it.
fn served_model(raw: &mut RawScenario, issues: &mut Issues) -> Option<ServedModel> {
    let mp = YamlPath::root().key("inference").key("model");
    let m = &mut raw.inference.model;
    let spec = find_model(&m.name);
    if spec.is_none() {
        let missing: Vec<&str> = [
            ("params_b", m.params_b.is_none()),
            ("context_tokens", m.context_tokens.is_none()),
            ("kv_bytes_per_token", m.kv_bytes_per_token.is_none()),
        ]
        .iter()
        .filter(|f| f.1)
        .map(|f| f.0)
        .collect();
        if !missing.is_empty() {
            issues.push(
                &mp.key("name"),
                format!(
                    "`{}` is not in the model catalogue, and {} not given",
                    m.name,
                    missing.join(", ")
                ),
                format!(
                    "use one of: {}; or give params_b, context_tokens and kv_bytes_per_token",
                    model_ids()
                ),
            );
            return None;
        }
    }
    let params_b = *m.params_b.get_or_insert(spec.map_or(0.0, |s| s.params_b));
    let bytes = *m.bytes_per_param.get_or_insert(defaults::BYTES_PER_PARAM);
    let context = *m
        .context_tokens
        .get_or_insert(spec.map_or(0, |s| s.context_tokens));
    let kv = *m
        .kv_bytes_per_token
        .get_or_insert(spec.map_or(0.0, |s| s.kv_bytes_per_token()));
    let ok = issues.positive(
        &mp.key("params_b"),
        params_b,
        "give the parameter count in billions, e.g. 8",
    ) & issues.positive(&mp.key("bytes_per_param"), bytes, "2 for BF16, 1 for FP8")
        & issues.positive(
            &mp.key("kv_bytes_per_token"),
            kv,
            "2 x layers x KV heads x head dimension x 2 bytes, e.g. 131072 for Llama 3 8B",
        );
    let mut context_ok = true;
    if context < 2 {
        context_ok = false;
        issues.push(
            &mp.key("context_tokens"),
            "must be at least 2 (a prompt token and an output token)",
            "give the longest prompt + output served, e.g. 8192",
        );
    } else if let Some(s) = spec.filter(|s| context > s.context_tokens) {
        context_ok = false;
        issues.push(
            &mp.key("context_tokens"),
            format!("{} supports at most {} tokens", s.id, s.context_tokens),
            format!("give at most {}", s.context_tokens),
        );
    }
    (ok && context_ok).then_some(ServedModel {
        params: params_b * 1e9,
        bytes_per_param: bytes,
        kv_bytes_per_token: kv,
        context_tokens: context,
    })
}

fn batch_policy(raw: &RawScenario, issues: &mut Issues) -> Option<BatchPolicy> {
    let b = &raw.inference.batching;
    let bp = YamlPath::root().key("inference").key("batching");
    let mut ok = issues.within(
        &bp.key("memory_utilisation"),
        b.memory_utilisation,
        1e-6,
        1.0,
        "a share of GPU memory between 0 and 1, e.g. 0.9",
    );
    if b.max_batch == 0 {
        ok = false;
        issues.push(
            &bp.key("max_batch"),
            "must be at least 1",
            "e.g. 256 (1 serves one request at a time)",
        );
    } else if b.max_batched_tokens < b.max_batch {
        ok = false;
        issues.push(
            &bp.key("max_batched_tokens"),
            format!(
                "{} is below max_batch ({}): a full batch could not take a step",
                b.max_batched_tokens, b.max_batch
            ),
            format!("give at least {}, e.g. 2048", b.max_batch),
        );
    }
    ok.then_some(BatchPolicy {
        max_batch: b.max_batch,
        token_budget: b.max_batched_tokens,
        memory_utilisation: b.memory_utilisation,
    })
}

fn users(
    raw: &RawScenario,
    index: &HashMap<&str, usize>,
    p: &YamlPath,
    issues: &mut Issues,
) -> Vec<UserGroup> {
    let list = &raw.inference.users;
    if list.is_empty() {
        issues.push(
            p,
            "no users",
            "list at least one user group, e.g. `- {region: us-east, rate_per_s: 5}`",
        );
    }
    let mut out = Vec::new();
    for (i, u) in list.iter().enumerate() {
        let up = p.index(i);
        let region = index.get(u.region.as_str()).copied();
        if region.is_none() {
            issues.push(
                &up.key("region"),
                format!("`{}` is not a region", u.region),
                "use the name of a region listed under `regions`",
            );
        }
        issues.within(
            &up.key("rate_per_s"),
            u.rate_per_s,
            0.0,
            MAX_RATE_PER_S,
            "give the mean request rate per second",
        );
        let cycle = u.daily_cycle.as_ref().map(|c| {
            let cp = up.key("daily_cycle");
            issues.within(
                &cp.key("amplitude"),
                c.amplitude,
                0.0,
                1.0,
                "a relative swing between 0 (flat) and 1",
            );
            issues.within(
                &cp.key("peak_local_h"),
                c.peak_local_h,
                0.0,
                24.0,
                "a local hour between 0 and 24",
            );
            (c.amplitude, c.peak_local_h)
        });
        if let Some(region) = region {
            out.push(UserGroup {
                region,
                rate_per_s: u.rate_per_s,
                cycle,
            });
        }
    }
    if !list.is_empty() && list.iter().all(|u| u.rate_per_s == 0.0) {
        issues.push(
            p,
            "every user group has a rate of 0: nothing would happen",
            "give at least one group a positive rate_per_s",
        );
    }
    let sim = &raw.simulation;
    let rate: f64 = list.iter().map(|u| u.rate_per_s).sum();
    let requests = rate * sim.horizon_h * 3600.0 * f64::from(sim.replications);
    if requests > MAX_REQUESTS {
        issues.push(
            p,
            format!("the run would simulate about {requests:.1e} requests, more than {MAX_REQUESTS:.0e} (hours of computing)"),
            "shorten simulation.horizon_h, lower the rates, or run fewer replications",
        );
    }
    out
}

/// Every user group must have at least one pool that fits the model within `max_rtt_ms`.
fn reachability(s: &Scenario, root: &YamlPath, issues: &mut Issues) {
    for (i, u) in s.users.iter().enumerate() {
        if s.candidate_pools(u.region).is_empty() {
            let why = match s.max_rtt_s {
                Some(m) => format!(
                    "no GPU pool that holds the model is within max_rtt_ms ({} ms)",
                    m * 1e3
                ),
                None => "no GPU pool holds the model".to_string(),
            };
            issues.push(
                &root.key("inference").key("users").index(i),
                format!(
                    "users in `{}` cannot be served: {why}",
                    s.regions[u.region].name
                ),
                "raise inference.max_rtt_ms or add a provider group nearby",
            );
        }
    }
}

fn jobs(raw: &RawScenario, pools: &[Pool], p: &YamlPath, issues: &mut Issues) -> Vec<JobClass> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for (i, j) in raw.training.iter().enumerate() {
        let jp = p.index(i);
        unique_name(issues, &jp, &j.name, &mut seen, i, "training");
        issues.within(
            &jp.key("arrivals_per_day"),
            j.arrivals_per_day,
            0.0,
            defaults::MAX_ARRIVALS_PER_DAY,
            "give the mean number of jobs per day",
        );
        let ok = issues.positive(
            &jp.key("params_b"),
            j.params_b,
            "give the parameter count in billions, e.g. 8",
        ) & issues.positive(
            &jp.key("tokens_b"),
            j.tokens_b,
            "give the tokens to process in billions",
        ) & issues.positive(
            &jp.key("tokens_per_step_m"),
            j.tokens_per_step_m,
            "give the global batch in million tokens, e.g. 4",
        );
        issues.non_negative(
            &jp.key("checkpoint_s"),
            j.checkpoint_s,
            "give the checkpoint write time in seconds",
        );
        issues.non_negative(
            &jp.key("restart_s"),
            j.restart_s,
            "give the restart time in seconds",
        );
        if let Some(m) = j.checkpoint_interval_min {
            issues.positive(
                &jp.key("checkpoint_interval_min"),
                m,
                "give minutes of work between checkpoints, or null for Young/Daly",
            );
        }
        if j.gpus == 0 {
            issues.push(
                &jp.key("gpus"),
                "must be at least 1",
                "give the number of data-parallel GPUs",
            );
            continue;
        }
        let class = JobClass {
            name: j.name.clone(),
            kind: match j.kind {
                raw::JobKind::Training => JobKind::Training,
                raw::JobKind::FineTuning => JobKind::FineTuning,
            },
            rate_per_s: j.arrivals_per_day / 86_400.0,
            params: j.params_b * 1e9,
            tokens: j.tokens_b * 1e9,
            gpus: j.gpus,
            tokens_per_step: j.tokens_per_step_m * 1e6,
            placement: match j.placement {
                raw::Placement::OneProvider => Placement::OneProvider,
                raw::Placement::OneRegion => Placement::OneRegion,
                raw::Placement::Anywhere => Placement::Anywhere,
            },
            checkpoint_s: j.checkpoint_s,
            restart_s: j.restart_s,
            interval_s: j.checkpoint_interval_min.map(|m| m * 60.0),
        };
        if ok {
            placeable(&class, pools, &jp, issues);
        }
        out.push(class);
    }
    out
}

/// A job class must fit somewhere: enough GPUs with enough memory for its share of the model
/// states, under its placement rule.
fn placeable(j: &JobClass, pools: &[Pool], p: &YamlPath, issues: &mut Issues) {
    let need = j.state_bytes_per_gpu() / 1e9;
    let fit: Vec<&Pool> = pools
        .iter()
        .filter(|q| q.class.vram_gb >= need && q.online_local_h.is_none())
        .collect();
    if fit.is_empty() {
        issues.push(
            &p.key("gpus"),
            format!("each GPU would hold {need:.1} GB of model states, more than any provider GPU"),
            "use more GPUs (states are sharded across them) or a smaller model",
        );
        return;
    }
    let available = match j.placement {
        Placement::OneProvider => fit.iter().map(|q| q.count).max().unwrap_or(0),
        Placement::OneRegion => {
            let mut by_region: HashMap<usize, u32> = HashMap::new();
            for q in &fit {
                *by_region.entry(q.region).or_default() += q.count;
            }
            by_region.values().copied().max().unwrap_or(0)
        }
        Placement::Anywhere => fit.iter().map(|q| q.count).sum(),
    };
    if j.gpus > available {
        issues.push(&p.key("gpus"), format!("wants {} GPUs, but at most {available} with enough memory exist under placement {:?}", j.gpus, j.placement), "ask for fewer GPUs, relax the placement, or add providers");
    }
}

fn cloud(raw: &RawScenario, p: &YamlPath, issues: &mut Issues) -> Option<Cloud> {
    let c = &raw.cloud;
    let class = find_class(&c.gpu);
    if class.is_none() {
        issues.push(
            &p.key("gpu"),
            format!("unknown GPU class `{}`", c.gpu),
            format!("use one of: {}", class_ids()),
        );
    }
    issues.non_negative(
        &p.key("price_usd_per_gpu_hour"),
        c.price_usd_per_gpu_hour,
        "give the cloud price per GPU-hour, USD",
    );
    issues.positive(
        &p.key("interconnect_gbps"),
        c.interconnect_gbps,
        "give the bandwidth per GPU, Gbit/s",
    );
    issues.non_negative(
        &p.key("latency_us"),
        c.latency_us,
        "give the one-way latency, microseconds",
    );
    issues.positive(
        &p.key("mtbf_h"),
        c.mtbf_h,
        "give the mean time between failures of one GPU, hours",
    );
    if c.gpus_per_node == 0 {
        issues.push(
            &p.key("gpus_per_node"),
            "must be at least 1",
            "give the GPUs of one cloud node, e.g. 8",
        );
    }
    let class = class?;
    Some(Cloud {
        class,
        // The class's rates, profile or datasheet: set by `validate` once the model and the
        // batching policy are known.
        flops: f64::NAN,
        price_usd_per_gpu_hour: c.price_usd_per_gpu_hour,
        bandwidth_bytes_per_s: c.interconnect_gbps * 1e9 / 8.0,
        latency_s: c.latency_us / 1e6,
        mtbf_s: c.mtbf_h * 3600.0,
        serving: CloudServing::Unfit,
    })
}
