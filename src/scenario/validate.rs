//! Checks a [`RawScenario`] and turns it into a typed [`Scenario`]. The files the scenario
//! names are read first ([`files`]); then every section is checked, in the order below,
//! each recording all its problems (with path and fix) and filling its defaults in place for
//! scenario.resolved.yaml; only a scenario without a problem is assembled, so a user sees
//! every problem at once.

mod calibration;
mod cloud;
mod economy;
mod files;
mod inference;
mod local_sgd;
mod names;
mod pipeline;
mod providers;
mod regions;
mod simulation;
#[cfg(test)]
mod testing;
mod token;
mod training;
mod users;
mod verification;
mod viability;

use std::path::Path;

use self::calibration::Profiles;
use self::cloud::Served;
use self::files::Files;
use self::inference::Requests;
use self::regions::Regions;
use self::simulation::Times;
use super::raw::RawScenario;
use super::spec::{Cloud, JobClass, JobQueue, Pool, Scenario, TokenSpec, UserGroup, Viability};
use crate::core::diagnostics::Issues;
use crate::core::digest::sha256_hex;
use crate::core::engine::SimTime;
use crate::core::path::YamlPath;
use crate::economics::pricing::{PriceUnit, Pricing};
use crate::economics::provider::SupplyRule;
use crate::economics::verification::Method;
use crate::physics::serving::{BatchPolicy, ServedModel};

/// Validates `raw`, filling its remaining defaults in place (for scenario.resolved.yaml);
/// files the scenario names (calibration profiles, a price path) are read relative to `dir`.
pub fn validate(mut raw: RawScenario, stem: &str, dir: &Path) -> Result<Scenario, Issues> {
    let files = Files::read(&raw, dir);
    let mut issues = Issues::default();
    let name = raw.name.get_or_insert_with(|| stem.to_string()).clone();
    let checked = check(&mut raw, &files, &mut issues);
    if !issues.is_empty() {
        return Err(issues);
    }
    let Some(mut scenario) = assemble(name, checked, &raw) else {
        return Err(issues);
    };
    let users = YamlPath::root().key("inference").key("users");
    users::reachability(&scenario, &users, &mut issues);
    if !issues.is_empty() {
        return Err(issues);
    }
    let text = |raw: &RawScenario| {
        serde_saphyr::to_string(raw)
            .unwrap_or_else(|e| format!("# could not serialize the scenario: {e}\n"))
    };
    scenario.resolved_yaml = text(&raw);
    // What identifies the scenario's results, replication by replication: everything but
    // how many replications were asked for.
    raw.simulation.replications = 0;
    scenario.identity = sha256_hex(text(&raw).as_bytes());
    Ok(scenario)
}

/// Every section, checked: what assembling the scenario needs, a part None (or left out of
/// its list) after a problem.
struct Checked {
    times: Times,
    regions: Regions,
    rtt_s: Vec<f64>,
    profiles: Profiles,
    model: Option<ServedModel>,
    policy: Option<BatchPolicy>,
    pools: Vec<Pool>,
    users: Vec<UserGroup>,
    jobs: Vec<JobClass>,
    job_queue: JobQueue,
    cloud: Option<Cloud>,
    requests: Requests,
    slo: (SimTime, SimTime),
    token: Option<TokenSpec>,
    supply: Option<SupplyRule>,
    pricing: Pricing,
    price_unit: PriceUnit,
    verification: Method,
    viability: Viability,
}

/// Checks every section of `raw`, in an order that lets each use what it depends on.
fn check(raw: &mut RawScenario, files: &Files, issues: &mut Issues) -> Checked {
    let root = YamlPath::root();
    let (ip, np, tp) = (
        root.key("inference"),
        root.key("network"),
        root.key("token"),
    );
    let times = simulation::validate(&raw.simulation, &root.key("simulation"), issues);
    let regions = regions::validate(&raw.regions, &root.key("regions"), issues);
    let rtt_s = regions::rtt_matrix(&raw.network, &regions, &np, issues);
    let cp = root.key("calibration");
    let profiles = calibration::profiles(&raw.calibration, files, &cp, issues);
    let requests = inference::requests(&raw.inference, &ip, issues);
    let (pools, model, policy) = supply_side(raw, &regions, &rtt_s, &profiles, &requests, issues);
    let users = users::validate(
        &raw.inference.users,
        &regions,
        &raw.simulation,
        !raw.training.is_empty(),
        &ip.key("users"),
        issues,
    );
    let jobs = training::validate(&mut raw.training, &pools, &root.key("training"), issues);
    let job_queue = training::queue(&mut raw.job_queue, !raw.training.is_empty());
    let cloud = cloud::validate(&mut raw.cloud, &root.key("cloud"), issues);
    regions::payload(&raw.network, &np, issues);
    let slo = inference::objectives(&raw.inference, &ip, issues);
    let stakers = raw.providers.iter().map(|g| u64::from(g.count)).sum();
    let token = raw
        .token
        .as_ref()
        .and_then(|t| token::validate(t, times.horizon, stakers, files, &tp, issues));
    let supply = economy::supply(raw.supply.as_ref(), &root.key("supply"), issues);
    let (pricing, price_unit) = economy::pricing(&raw.pricing, &root.key("pricing"), issues);
    let serving = providers::serving(&pools);
    let verification =
        verification::validate(raw.token.as_mut(), serving, &tp.key("verification"), issues);
    let viability = viability::validate(&raw.viability, &root.key("viability"), issues);
    Checked {
        times,
        regions,
        rtt_s,
        profiles,
        model,
        policy,
        pools,
        users,
        jobs,
        job_queue,
        cloud,
        requests,
        slo,
        token,
        supply,
        pricing,
        price_unit,
        verification,
        viability,
    }
}

/// The provider groups as pools, with the served model and the batching policy that their
/// serving plans need (checked first; the policy sizes replicas for the mean of the
/// `requests`), and whether any group holds the model.
fn supply_side(
    raw: &mut RawScenario,
    regions: &Regions,
    rtt_s: &[f64],
    profiles: &Profiles,
    requests: &Requests,
    issues: &mut Issues,
) -> (Vec<Pool>, Option<ServedModel>, Option<BatchPolicy>) {
    let root = YamlPath::root();
    let (pp, ip) = (root.key("providers"), root.key("inference"));
    providers::require_some(&raw.providers, &pp, issues);
    let efficiencies_ok =
        calibration::efficiencies(&raw.calibration, &root.key("calibration"), issues);
    let model = inference::served_model(&mut raw.inference.model, &ip.key("model"), issues);
    let bp = ip.key("batching");
    let policy = inference::batch_policy(
        &raw.inference.batching,
        model.as_ref(),
        requests.means(),
        &bp,
        issues,
    );
    let pipe = pipeline::validate(raw.inference.pipeline.as_ref(), &ip.key("pipeline"), issues);
    let n = raw.regions.len();
    let intra_rtt_s: Vec<f64> = (0..n).map(|i| rtt_s[i * n + i]).collect();
    let cx = providers::Context {
        regions,
        raw_regions: &raw.regions,
        intra_rtt_s: &intra_rtt_s,
        rtt_s,
        profiles,
        calibration: &raw.calibration,
        efficiencies_ok,
        model: model.as_ref(),
        policy: policy.as_ref(),
        pipeline: pipe,
        drawn: raw.inference.service_time_s.is_some(),
    };
    let pools = providers::validate(&mut raw.providers, &cx, &pp, issues);
    let serving = providers::serving(&pools);
    let tp = (policy.as_ref(), &bp.key("tensor_parallel"));
    if let Some(p) = &pipe {
        let served = (model.as_ref(), policy.as_ref());
        let at = ip.key("pipeline");
        pipeline::fits(&pools, &raw.providers, served, p, serving, &at, &pp, issues);
    } else if raw.inference.pipeline.is_none() {
        inference::model_fits(
            &pools,
            model.as_ref(),
            serving,
            tp,
            &ip.key("model"),
            issues,
        );
    }
    (pools, model, policy)
}

/// The scenario from its checked sections, once none has a problem; None when a part that
/// recorded no problem is still missing.
fn assemble(name: String, c: Checked, raw: &RawScenario) -> Option<Scenario> {
    let (prompt, output) = (c.requests.prompt?, c.requests.output?);
    let (mut cloud, model, policy) = (c.cloud?, c.model?, c.policy?);
    let service = match c.requests.service {
        Some(d) => Some(d?),
        None => None,
    };
    cloud::serve(
        &mut cloud,
        &Served {
            model: &model,
            policy: &policy,
            service: service.as_ref(),
            profiles: &c.profiles,
            calibration: &raw.calibration,
            gpus_per_node: raw.cloud.gpus_per_node,
        },
    );
    let inf = &raw.inference;
    Some(Scenario {
        name,
        horizon: c.times.horizon,
        warmup: c.times.warmup,
        epoch: c.times.epoch,
        replications: raw.simulation.replications,
        seed: raw.simulation.seed,
        regions: c.regions.into_list(),
        rtt_s: c.rtt_s,
        bytes_per_token: raw.network.bytes_per_token,
        pools: c.pools,
        users: c.users,
        prompt,
        output,
        service,
        routing: inference::routing(inf.routing),
        dispatch: inference::dispatch(inf.dispatch),
        max_queue_per_gpu: inf.max_queue_per_gpu,
        max_rtt_s: inf.max_rtt_ms.map(|ms| ms / 1e3),
        jobs: c.jobs,
        job_queue: c.job_queue,
        slo_ttft: c.slo.0,
        slo_tpot: c.slo.1,
        model,
        cloud,
        token: c.token,
        pricing: c.pricing,
        price_unit: c.price_unit,
        supply: c.supply,
        verification: c.verification,
        viability: c.viability,
        resolved_yaml: String::new(),
        identity: String::new(),
        question: None,
    })
}
