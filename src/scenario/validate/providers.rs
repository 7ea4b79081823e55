//! The `providers` section: each group's name, region, GPU class and counts, what it is
//! (sharing or datacenter), its costs (`economy.rs`) and price, failures and the hours it is
//! lent, its hosts; then the rates of its GPUs and how it serves the model.

use super::calibration::{Profiles, class_rates};
use super::economy::cost_model;
use super::names::{Names, gpu_class};
use super::regions::Regions;
use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::economics::provider::{CostModel, ProviderKind};
use crate::physics::comm::{HostLink, host_link_gb_s};
use crate::physics::gpu::GpuClass;
use crate::physics::pipeline::{self, Hops, Pipeline};
use crate::physics::roofline::Roofline;
use crate::physics::serving::{BatchPolicy, ServedModel, Serving, Unfit};
use crate::scenario::defaults;
use crate::scenario::raw::{RawCalibration, RawProviderGroup, RawRegion};
use crate::scenario::spec::Pool;

/// The token budget and context to read rates at, and the parameters and bytes per
/// parameter of a roofline, when the batching policy or the model did not validate: the
/// scenario is refused then, and the rates and roofline made with them go unused.
const STAND_IN_TOKENS: f64 = 2048.0;
const STAND_IN_MODEL: (f64, f64) = (8e9, 2.0);

/// What a group without a serving plan (for want of a valid model, policy or efficiency
/// factors) reports as its shortfall.
const NO_PLAN: Unfit = Unfit {
    need_gb: 0.0,
    have_gb: 0.0,
    gpus: 0,
};

/// What the groups need from the sections checked before them.
pub(super) struct Context<'a> {
    /// The validated regions.
    pub(super) regions: &'a Regions,
    /// The regions as written, for their electricity prices and bandwidths.
    pub(super) raw_regions: &'a [RawRegion],
    /// Each region's own round trip, s.
    pub(super) intra_rtt_s: &'a [f64],
    /// The round trip between every two regions, s, row by row.
    pub(super) rtt_s: &'a [f64],
    /// Calibration profiles by class.
    pub(super) profiles: &'a Profiles,
    /// The efficiency factors, and whether they are valid.
    pub(super) calibration: &'a RawCalibration,
    pub(super) efficiencies_ok: bool,
    /// The served model and the batching policy, if valid.
    pub(super) model: Option<&'a ServedModel>,
    pub(super) policy: Option<&'a BatchPolicy>,
    /// Pipeline replicas across hosts, if the scenario allows them.
    pub(super) pipeline: Option<Pipeline>,
    /// Whether service times are drawn instead of batched on the roofline.
    pub(super) drawn: bool,
}

/// Records at `at` that there is no provider group.
pub(super) fn require_some(groups: &[RawProviderGroup], at: &YamlPath, issues: &mut Issues) {
    if groups.is_empty() {
        issues.push(at, "no providers", "list at least one provider group");
    }
}

/// Every group of the section at `at`, filling its defaults in place; a group whose region,
/// class, price or costs are unusable gives no pool.
pub(super) fn validate(
    groups: &mut [RawProviderGroup],
    cx: &Context,
    at: &YamlPath,
    issues: &mut Issues,
) -> Vec<Pool> {
    let mut names = Names::new("providers");
    let mut pools = Vec::new();
    for (i, g) in groups.iter_mut().enumerate() {
        let gp = at.index(i);
        names.check(&gp, &g.name, i, issues);
        pools.extend(group(g, cx, &gp, issues));
    }
    pools
}

/// One group at `at`.
fn group(
    g: &mut RawProviderGroup,
    cx: &Context,
    at: &YamlPath,
    issues: &mut Issues,
) -> Option<Pool> {
    let region = cx.regions.lookup(&g.region, &at.key("region"), issues);
    let class = gpu_class(&g.gpu, &at.key("gpu"), issues);
    let max = counts(g, at, issues);
    let dc = class.is_some_and(|c| c.datacenter);
    let kind = *g.kind.get_or_insert(if dc {
        ProviderKind::Datacenter
    } else {
        ProviderKind::Sharing
    });
    let electricity = region.map_or(0.0, |r| cx.raw_regions[r].electricity_usd_per_kwh);
    let cost = cost_model(g, class, kind, electricity, at, issues);
    let price = price(g, class, at, issues);
    let availability = availability(g, dc, at, issues);
    let route = region.map(|home| spread(g, home, cx, at, issues));
    let region_mbps = route.as_ref().map_or(defaults::BANDWIDTH_MBPS, |rs| {
        rs.iter()
            .map(|&r| cx.raw_regions[r].bandwidth_mbps)
            .fold(f64::INFINITY, f64::min)
    });
    let intra_rtt_s = region.map_or(0.0, |r| cx.intra_rtt_s[r]);
    let mut hosts = hosts(g, dc, (region_mbps, intra_rtt_s), at, issues);
    hosts.link = host_link(g, class, at, issues);
    hosts.route = route.unwrap_or_default();
    let checked = Checked {
        name: g.name.clone(),
        region: region?,
        class: class?,
        count: max,
        initial: g.count,
        kind,
        cost: cost?,
        price: price?,
        availability,
        hosts,
    };
    Some(pool(checked, cx))
}

/// The group's most GPUs (`max_count`, filled from `count`): at least 1, and not below
/// `count`.
fn counts(g: &mut RawProviderGroup, at: &YamlPath, issues: &mut Issues) -> u32 {
    let max = *g.max_count.get_or_insert(g.count);
    let fix = "give the number of GPUs, or remove the group";
    if issues.at_least_one(&at.key("count"), max, fix) && max < g.count {
        issues.push(
            &at.key("max_count"),
            format!("{max} is below count ({})", g.count),
            "give the most GPUs the group can grow to, at least count",
        );
    }
    max
}

/// What users pay per busy GPU-hour: the group's, else its class's reference price (filled
/// in place).
fn price(
    g: &mut RawProviderGroup,
    class: Option<&GpuClass>,
    at: &YamlPath,
    issues: &mut Issues,
) -> Option<f64> {
    let price = g
        .price_usd_per_gpu_hour
        .or(class.and_then(|c| c.reference_price_usd_per_hour));
    match (price, class) {
        (Some(v), _) => {
            issues.non_negative(
                &at.key("price_usd_per_gpu_hour"),
                v,
                "give the price users pay per busy GPU-hour",
            );
        }
        (None, Some(c)) => issues.push(
            &at.key("price_usd_per_gpu_hour"),
            format!("`{}` has no reference price", c.id),
            "set price_usd_per_gpu_hour",
        ),
        (None, None) => {}
    }
    g.price_usd_per_gpu_hour = price;
    price
}

/// When a group's GPUs are there: how often they fail and for how long, whether a failure
/// is a departure, and the local hours they are lent.
struct Availability {
    mtbf_h: f64,
    window: Option<(f64, f64)>,
    shape: f64,
    depart: f64,
    repair_h: f64,
}

/// The group's failures and lending hours, filling defaults by kind of GPU class (`dc`:
/// datacenter).
fn availability(
    g: &mut RawProviderGroup,
    dc: bool,
    at: &YamlPath,
    issues: &mut Issues,
) -> Availability {
    let mtbf_h = by_kind(
        &mut g.mtbf_h,
        dc,
        defaults::DATACENTER_MTBF_H,
        defaults::CONSUMER_MTBF_H,
    );
    issues.positive(
        &at.key("mtbf_h"),
        mtbf_h,
        "give the mean time between failures of one GPU, hours",
    );
    let window = g.online_local_h.map(|[from, to]| (from, to));
    if let Some(w) = window {
        lending_window(w, &at.key("online_local_h"), issues);
    }
    let (shape, depart, repair_h) = after_failures(g, dc, at, issues);
    Availability {
        mtbf_h,
        window,
        shape,
        depart,
        repair_h,
    }
}

/// The Weibull shape of the times between failures, the probability that a failure is a
/// departure, and the hours a repair takes.
fn after_failures(
    g: &mut RawProviderGroup,
    dc: bool,
    at: &YamlPath,
    issues: &mut Issues,
) -> (f64, f64, f64) {
    let shape = *g.failure_shape.get_or_insert(defaults::FAILURE_SHAPE);
    issues.within(
        &at.key("failure_shape"),
        shape,
        0.1,
        10.0,
        "a Weibull shape between 0.1 and 10 (1: exponential; 0.7-0.8 fits HPC failures)",
    );
    let depart = *g
        .departure_probability
        .get_or_insert(defaults::DEPARTURE_PROBABILITY);
    issues.within(
        &at.key("departure_probability"),
        depart,
        0.0,
        1.0,
        "a probability between 0 and 1",
    );
    let repair_h = by_kind(
        &mut g.repair_h,
        dc,
        defaults::DATACENTER_REPAIR_H,
        defaults::CONSUMER_REPAIR_H,
    );
    issues.positive(
        &at.key("repair_h"),
        repair_h,
        "give the mean time a failed GPU stays offline, hours",
    );
    (shape, depart, repair_h)
}

/// Local hours `(from, to)` at `at`, each in [0, 24], not the same.
fn lending_window((from, to): (f64, f64), at: &YamlPath, issues: &mut Issues) {
    let fix = "a local hour between 0 and 24";
    let ok = issues.within(&at.index(0), from, 0.0, 24.0, fix)
        & issues.within(&at.index(1), to, 0.0, 24.0, fix);
    if ok && from == to {
        issues.push(
            at,
            "the window is empty",
            "give different hours, or remove online_local_h for always",
        );
    }
}

/// The bandwidth (Gbit/s) and one-way latency (s) between the group's GPUs, and its GPUs per
/// host, filled by kind of GPU class (`dc`: datacenter; consumer cards get their region's
/// bandwidth and half its own round trip, `region`: Mbit/s and s).
fn hosts(
    g: &mut RawProviderGroup,
    dc: bool,
    region: (f64, f64),
    at: &YamlPath,
    issues: &mut Issues,
) -> Hosts {
    let (region_mbps, region_rtt_s) = region;
    let ic = by_kind(
        &mut g.interconnect_gbps,
        dc,
        defaults::DATACENTER_INTERCONNECT_GBPS,
        region_mbps / 1000.0,
    );
    issues.positive(
        &at.key("interconnect_gbps"),
        ic,
        "give the bandwidth between the group's GPUs, Gbit/s",
    );
    let latency_us = by_kind(
        &mut g.interconnect_latency_us,
        dc,
        defaults::DATACENTER_INTERCONNECT_LATENCY_US,
        region_rtt_s / 2.0 * 1e6,
    );
    issues.non_negative(
        &at.key("interconnect_latency_us"),
        latency_us,
        "give the one-way latency between the group's GPUs, microseconds, e.g. 5",
    );
    let host = by_kind(
        &mut g.gpus_per_host,
        dc,
        defaults::DATACENTER_GPUS_PER_HOST,
        defaults::CONSUMER_GPUS_PER_HOST,
    );
    let fix = "give the number of GPUs in one host, e.g. 8";
    issues.at_least_one(&at.key("gpus_per_host"), host, fix);
    Hosts {
        interconnect_gbps: ic,
        latency_s: latency_us / 1e6,
        per_host: host,
        link: HostLink {
            bytes_per_s: 0.0,
            latency_s: 0.0,
        },
        route: Vec::new(),
    }
}

/// The regions the group's hosts sit in, its own first, then its `spread_regions` (each
/// checked at `at`: a listed region, once, and only where pipeline replicas can use it).
fn spread(
    g: &RawProviderGroup,
    home: usize,
    cx: &Context,
    at: &YamlPath,
    issues: &mut Issues,
) -> Vec<usize> {
    let sp = at.key("spread_regions");
    if !g.spread_regions.is_empty() && cx.pipeline.is_none() {
        issues.push(
            &sp,
            "spread regions matter only to pipeline replicas, which need a valid inference.pipeline",
            "set `inference.pipeline: {max_stages: N}`, or remove spread_regions",
        );
    }
    let mut route = vec![home];
    for (i, name) in g.spread_regions.iter().enumerate() {
        let Some(r) = cx.regions.lookup(name, &sp.index(i), issues) else {
            continue;
        };
        if route.contains(&r) {
            issues.push(
                &sp.index(i),
                format!("`{name}` is listed already (as the group's region or above)"),
                "list each further region once, and not the group's own `region`",
            );
        } else {
            route.push(r);
        }
    }
    route
}

/// The hops of a pipeline over `route` (region indices, the group's own first), `n` regions
/// in all: between two hosts of one region `latency_s`, between regions half their round
/// trip; the client in the group's own region.
fn route_hops(route: &[usize], n: usize, rtt_s: &[f64], latency_s: f64, bytes_per_s: f64) -> Hops {
    let Some(&home) = route.first() else {
        return Hops::within(latency_s, bytes_per_s, 0.0);
    };
    let mut hops = Hops::within(latency_s, bytes_per_s, rtt_s[home * n + home]);
    if route.len() > 1 {
        hops.legs_s = (0..route.len())
            .map(|j| {
                let (a, b) = (route[j], route[(j + 1) % route.len()]);
                if a == b {
                    latency_s
                } else {
                    rtt_s[a * n + b] / 2.0
                }
            })
            .collect();
        hops.back_s = route.iter().map(|&r| rtt_s[r * n + home] / 2.0).collect();
    }
    hops
}

/// The link between the GPUs of one host, filled by GPU class.
fn host_link(
    g: &mut RawProviderGroup,
    class: Option<&GpuClass>,
    at: &YamlPath,
    issues: &mut Issues,
) -> HostLink {
    let gbps = *g
        .host_link_gbps
        .get_or_insert(class.map_or(0.0, |c| host_link_gb_s(c.id) * 8.0));
    if class.is_some() {
        issues.positive(
            &at.key("host_link_gbps"),
            gbps,
            "give the bandwidth of one GPU's link to the others of its host, Gbit/s",
        );
    }
    let latency_us = *g
        .host_link_latency_us
        .get_or_insert(defaults::HOST_LINK_LATENCY_US);
    issues.non_negative(
        &at.key("host_link_latency_us"),
        latency_us,
        "give the latency of one all-reduce step inside a host, microseconds, e.g. 1",
    );
    HostLink {
        bytes_per_s: gbps * 1e9 / 8.0,
        latency_s: latency_us / 1e6,
    }
}

/// What links a group's GPUs.
#[derive(Clone)]
struct Hosts {
    interconnect_gbps: f64,
    latency_s: f64,
    per_host: u32,
    /// Between the GPUs of one host.
    link: HostLink,
    /// The regions its hosts sit in, its own first (indices).
    route: Vec<usize>,
}

/// The value of `slot`, filled when left out with the default for datacenter GPU classes
/// (`dc`) or for consumer cards.
fn by_kind<T: Copy>(slot: &mut Option<T>, dc: bool, datacenter: T, consumer: T) -> T {
    *slot.get_or_insert(if dc { datacenter } else { consumer })
}

/// A group whose region, class, price and costs are usable.
struct Checked {
    name: String,
    region: usize,
    class: &'static GpuClass,
    count: u32,
    initial: u32,
    kind: ProviderKind,
    cost: CostModel,
    price: f64,
    availability: Availability,
    hosts: Hosts,
}

/// The group as a pool: its GPUs' rates and roofline for the served model, and its plan for
/// serving it.
fn pool(g: Checked, cx: &Context) -> Pool {
    let budget = cx
        .policy
        .map_or(STAND_IN_TOKENS, |b| f64::from(b.token_budget));
    let context = cx
        .model
        .map_or(STAND_IN_TOKENS, |m| f64::from(m.context_tokens));
    let rates = class_rates(g.class, cx.profiles, budget, context, cx.calibration);
    let Hosts {
        interconnect_gbps,
        latency_s,
        per_host: host,
        link,
        route,
    } = g.hosts;
    let group = (g.count, host.max(1));
    let serving = match (cx.model, cx.policy) {
        _ if cx.drawn => Ok(Serving::single_server(g.count)),
        (Some(m), Some(pol)) if cx.efficiencies_ok => {
            Serving::plan(g.class, group, &link, m, pol, &rates).or_else(|unfit| {
                let Some(pipe) = cx.pipeline else {
                    return Err(unfit);
                };
                let n = cx.intra_rtt_s.len();
                let bytes_per_s = interconnect_gbps * 1e9 / 8.0;
                let hops = route_hops(&route, n, cx.rtt_s, latency_s, bytes_per_s);
                pipeline::plan(g.class, group, &link, &hops, m, pol, &rates, &pipe)
            })
        }
        _ => Err(NO_PLAN),
    };
    let (params, bytes) = cx
        .model
        .map_or(STAND_IN_MODEL, |m| (m.params, m.bytes_per_param));
    let roofline = Roofline::from_rates(&rates, params, bytes);
    let a = g.availability;
    Pool {
        name: g.name,
        region: g.region,
        class: g.class,
        count: g.count,
        initial: g.initial,
        kind: g.kind,
        cost: g.cost,
        price_usd_per_gpu_hour: g.price,
        roofline,
        rates,
        serving,
        mtbf_s: a.mtbf_h * 3600.0,
        repair_s: a.repair_h * 3600.0,
        failure_shape: a.shape,
        departure_p: a.depart,
        online_local_h: a.window,
        interconnect_bytes_per_s: interconnect_gbps * 1e9 / 8.0,
        interconnect_latency_s: latency_s,
        gpus_per_host: host.max(1),
        host_link: link,
    }
}

/// The groups that can serve the model; None when no group could be planned at all (the
/// model, the batching policy or the efficiency factors had a problem of their own).
pub(super) fn serving(pools: &[Pool]) -> Option<usize> {
    let planned = pools
        .iter()
        .all(|q| q.serving.as_ref().err() != Some(&NO_PLAN));
    planned.then(|| pools.iter().filter(|q| q.serving.is_ok()).count())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, load};
    use super::*;
    use crate::scenario::defaults::*;

    /// The base's two regions with a group of `group` (a flow mapping's inside) in us-east.
    fn providers(group: &str) -> String {
        format!("providers: [{{name: g, region: us-east, {group}}}]")
    }

    #[test]
    fn each_setting_of_a_group_is_checked_and_named() {
        let h100 = "gpu: h100_sxm, count: 4, hourly_cost_usd: 1";
        let cases: [(String, &[(&str, &str)]); 9] = [
            (
                providers("gpu: h100_sxm, count: 0, hourly_cost_usd: 1"),
                &[("providers[0].count", "must be at least 1")],
            ),
            (
                providers(&format!("{h100}, max_count: 2")),
                &[("providers[0].max_count", "2 is below count (4)")],
            ),
            (
                providers("gpu: h100, count: 4, hourly_cost_usd: 1"),
                &[("providers[0].gpu", "unknown GPU class `h100`")],
            ),
            (
                "providers: [{name: g, region: mars, gpu: h100_sxm, count: 4, hourly_cost_usd: 1}]"
                    .into(),
                &[("providers[0].region", "`mars` is not a region")],
            ),
            (
                providers("gpu: h100_pcie, count: 4, hourly_cost_usd: 1"),
                &[(
                    "providers[0].price_usd_per_gpu_hour",
                    "`h100_pcie` has no reference price",
                )],
            ),
            (
                providers(&format!("{h100}, price_usd_per_gpu_hour: -1")),
                &[(
                    "providers[0].price_usd_per_gpu_hour",
                    "must be zero or more",
                )],
            ),
            (
                providers(&format!(
                    "{h100}, mtbf_h: 0, failure_shape: 20, departure_probability: 2, repair_h: 0"
                )),
                &[
                    ("providers[0].mtbf_h", "must be a positive number, got 0"),
                    ("providers[0].failure_shape", "must be between 0.1 and 10"),
                    (
                        "providers[0].departure_probability",
                        "must be between 0 and 1",
                    ),
                    ("providers[0].repair_h", "must be a positive number"),
                ],
            ),
            (
                providers(&format!("{h100}, interconnect_gbps: 0, gpus_per_host: 0")),
                &[
                    (
                        "providers[0].interconnect_gbps",
                        "must be a positive number",
                    ),
                    ("providers[0].gpus_per_host", "must be at least 1"),
                ],
            ),
            (
                format!(
                    "providers: [{{name: g, region: us-east, {h100}}}, {{name: g, region: us-east, {h100}}}]"
                ),
                &[("providers[1].name", "`g` is also the name of providers[0]")],
            ),
        ];
        for (fragment, want) in cases {
            check(&fragment, want);
        }
    }

    #[test]
    fn the_lending_window_is_two_different_local_hours() {
        let h100 = "gpu: h100_sxm, count: 4, hourly_cost_usd: 1";
        let cases: [(&str, &[(&str, &str)]); 3] = [
            ("[22, 18]", &[]),
            (
                "[3, 3]",
                &[("providers[0].online_local_h", "the window is empty")],
            ),
            (
                "[25, -1]",
                &[
                    (
                        "providers[0].online_local_h[0]",
                        "must be between 0 and 24, got 25",
                    ),
                    (
                        "providers[0].online_local_h[1]",
                        "must be between 0 and 24, got -1",
                    ),
                ],
            ),
        ];
        for (window, want) in cases {
            check(
                &providers(&format!("{h100}, online_local_h: {window}")),
                want,
            );
        }
    }

    #[test]
    fn datacenter_classes_and_consumer_cards_get_their_own_defaults() {
        let s = load(
            "regions: [{name: us-east, bandwidth_mbps: 500}, {name: eu-west}]
providers:
  - {name: dc, region: us-east, gpu: h100_sxm, count: 4, hourly_cost_usd: 1}
  - {name: home, region: us-east, gpu: rtx_4090, count: 2, max_count: 6, hourly_cost_usd: 0.1}",
        )
        .expect("valid");
        let (dc, home) = (&s.pools()[0], &s.pools()[1]);
        assert_eq!(dc.kind, ProviderKind::Datacenter);
        assert_eq!(dc.mtbf_s, DATACENTER_MTBF_H * 3600.0);
        assert_eq!(dc.repair_s, DATACENTER_REPAIR_H * 3600.0);
        assert_eq!(dc.interconnect_bytes_per_s, 400e9 / 8.0);
        assert_eq!(
            dc.price_usd_per_gpu_hour, 2.40,
            "the class's reference price"
        );
        assert_eq!((dc.count, dc.initial), (4, 4));
        assert_eq!(home.kind, ProviderKind::Sharing);
        assert_eq!(home.mtbf_s, CONSUMER_MTBF_H * 3600.0);
        assert_eq!(home.repair_s, CONSUMER_REPAIR_H * 3600.0);
        assert_eq!(
            home.interconnect_bytes_per_s,
            0.5e9 / 8.0,
            "the region's 500 Mbit/s"
        );
        assert_eq!((home.count, home.initial), (6, 2));
        for p in [dc, home] {
            assert_eq!(
                (p.failure_shape, p.departure_p),
                (FAILURE_SHAPE, DEPARTURE_PROBABILITY)
            );
            assert_eq!(p.online_local_h, None);
        }
        let yaml = s.resolved_yaml();
        for filled in [
            "mtbf_h: 50700.0",
            "repair_h: 1.0",
            "gpus_per_host: 8",
            "gpus_per_host: 1",
            "kind: sharing",
            "max_count: 6",
        ] {
            assert!(yaml.contains(filled), "`{filled}` in\n{yaml}");
        }
    }

    #[test]
    fn a_group_serves_on_replicas_of_its_hosts() {
        let s = load(&providers(
            "gpu: h100_sxm, count: 4, hourly_cost_usd: 1, gpus_per_host: 2",
        ))
        .expect("valid");
        let plan = s.pools()[0].serving.expect("an 8B model fits one H100");
        assert_eq!((plan.tp, plan.replicas), (1, 4));
        let drawn = load(&format!(
            "{}\ninference: {{users: [{{region: us-east, rate_per_s: 2}}], service_time_s: {{constant: 0.5}}}}",
            providers("gpu: rtx_4090, count: 3, hourly_cost_usd: 1")
        ))
        .expect("valid");
        assert_eq!(drawn.pools()[0].serving, Ok(Serving::single_server(3)));
    }

    #[test]
    fn a_scenario_needs_a_provider_group() {
        let mut issues = Issues::default();
        require_some(&[], &YamlPath::root().key("providers"), &mut issues);
        let found: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            found,
            ["providers: no providers\n    fix: list at least one provider group"]
        );
    }
}
