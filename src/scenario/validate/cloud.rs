//! The `cloud` section: the centralized reference every workload is compared with, and how
//! it serves the scenario's model once that is known.

use super::calibration::{Profiles, class_rates};
use super::names::gpu_class;
use crate::core::diagnostics::Issues;
use crate::core::dist::Dist;
use crate::core::path::YamlPath;
use crate::physics::comm::{HostLink, host_link_gb_s};
use crate::physics::serving::{BatchPolicy, ServedModel, Serving};
use crate::scenario::defaults;
use crate::scenario::raw::{self, RawCalibration, RawCloud, RawTiers};
use crate::scenario::spec::{Cloud, CloudServing, CloudSizing, Provisioned, Tier};

/// The cloud at `at`, to be completed by [`serve`]; None when its GPU class is unknown.
/// The tiers' default prices, which are an H100 SXM's, are filled in place for that class.
pub(super) fn validate(c: &mut RawCloud, at: &YamlPath, issues: &mut Issues) -> Option<Cloud> {
    let class = gpu_class(&c.gpu, &at.key("gpu"), issues);
    let listed = defaults::CLOUD_PRICES_USD_PER_GPU_HOUR
        .iter()
        .find(|(gpu, _)| *gpu == c.gpu);
    let price = match (c.price_usd_per_gpu_hour, listed) {
        (Some(p), _) => p,
        (None, Some(&(_, p))) => *c.price_usd_per_gpu_hour.insert(p),
        (None, None) => {
            if class.is_some() {
                issues.push(
                    &at.key("price_usd_per_gpu_hour"),
                    format!("no default hyperscaler price for the class `{}`", c.gpu),
                    "give the cloud's price per GPU-hour of that class, USD (defaults exist for h100_sxm and a100_80gb_sxm)",
                );
            }
            0.0
        }
    };
    if c.tiers.is_none() && c.gpu == defaults::CLOUD_TIERS_GPU {
        c.tiers = Some(RawTiers::default());
    }
    let mut tiers = vec![Tier {
        name: "hyperscaler",
        price_usd_per_gpu_hour: price,
    }];
    if let Some(t) = &c.tiers {
        let at = at.key("tiers");
        for (name, price) in [("neocloud", t.neocloud), ("marketplace", t.marketplace)] {
            let fix = "give the tier's price per GPU-hour, USD, above 0";
            issues.positive(&at.key(name), price, fix);
            tiers.push(Tier {
                name,
                price_usd_per_gpu_hour: price,
            });
        }
    }
    issues.non_negative(
        &at.key("price_usd_per_gpu_hour"),
        price,
        "give the cloud price per GPU-hour, USD",
    );
    issues.positive(
        &at.key("interconnect_gbps"),
        c.interconnect_gbps,
        "give the bandwidth per GPU, Gbit/s",
    );
    issues.non_negative(
        &at.key("latency_us"),
        c.latency_us,
        "give the one-way latency, microseconds",
    );
    issues.positive(
        &at.key("mtbf_h"),
        c.mtbf_h,
        "give the mean time between failures of one GPU, hours",
    );
    let fix = "give the GPUs of one cloud node, e.g. 8";
    issues.at_least_one(&at.key("gpus_per_node"), c.gpus_per_node, fix);
    if let Some(a) = c.attainment
        && !(a > 0.0 && a < 1.0)
    {
        issues.push(
            &at.key("attainment"),
            format!("attainment {a} is not a share strictly between 0 and 1"),
            "give the share of requests to answer within the objectives, e.g. 0.99, or leave \
             it out for the network's own",
        );
    }
    Some(Cloud {
        class: class?,
        // The class's rates, profile or datasheet: set by `serve` once the model and the
        // batching policy are known.
        flops: f64::NAN,
        rates: None,
        price_usd_per_gpu_hour: price,
        tiers,
        bandwidth_bytes_per_s: c.interconnect_gbps * 1e9 / 8.0,
        latency_s: c.latency_us / 1e6,
        mtbf_s: c.mtbf_h * 3600.0,
        serving: CloudServing::Unfit,
        sizing: match c.sizing {
            raw::CloudSizing::RightSized => CloudSizing::RightSized,
            raw::CloudSizing::MatchedBatch => CloudSizing::MatchedBatch,
        },
        provisioned: match c.provisioned {
            raw::Provisioned::Hourly => Provisioned::Hourly,
            raw::Provisioned::Peak => Provisioned::Peak,
        },
        attainment: c.attainment,
    })
}

/// What the cloud needs to serve the scenario's model, all of it valid.
pub(super) struct Served<'a> {
    pub(super) model: &'a ServedModel,
    pub(super) policy: &'a BatchPolicy,
    /// The drawn service time, if requests are not batched on the roofline.
    pub(super) service: Option<&'a Dist>,
    pub(super) profiles: &'a Profiles,
    pub(super) calibration: &'a RawCalibration,
    /// GPUs of one cloud node.
    pub(super) gpus_per_node: u32,
}

/// The cloud's FLOP/s and serving plan. Its GPUs run at the rates the network's GPUs of the
/// same class run at.
pub(super) fn serve(cloud: &mut Cloud, s: &Served) {
    let rates = class_rates(
        cloud.class,
        s.profiles,
        f64::from(s.policy.token_budget),
        f64::from(s.model.context_tokens),
        s.calibration,
    );
    cloud.flops = rates.training_flops;
    let plan = match s.service {
        Some(d) => CloudServing::Drawn(d.mean()),
        None => {
            let node = s.gpus_per_node;
            // The cloud's 8-GPU nodes join their GPUs by the class's own link.
            let link = HostLink {
                bytes_per_s: host_link_gb_s(cloud.class.id) * 1e9,
                latency_s: defaults::HOST_LINK_LATENCY_US / 1e6,
            };
            Serving::plan(cloud.class, (node, node), &link, s.model, s.policy, &rates)
                .map_or(CloudServing::Unfit, CloudServing::Batched)
        }
    };
    cloud.serving = plan;
    cloud.rates = Some(rates);
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, load};
    use crate::scenario::defaults;
    use crate::scenario::spec::{CloudServing, CloudSizing, Provisioned};

    #[test]
    fn every_cloud_setting_is_checked_at_once() {
        check(
            "cloud: {gpu: nope, price_usd_per_gpu_hour: -1, interconnect_gbps: 0, latency_us: -1, mtbf_h: 0, gpus_per_node: 0, attainment: 1}",
            &[
                ("cloud.attainment", "not a share strictly between 0 and 1"),
                ("cloud.gpu", "unknown GPU class `nope`"),
                ("cloud.price_usd_per_gpu_hour", "must be zero or more"),
                ("cloud.interconnect_gbps", "must be a positive number"),
                ("cloud.latency_us", "must be zero or more"),
                ("cloud.mtbf_h", "must be a positive number"),
                ("cloud.gpus_per_node", "must be at least 1"),
            ],
        );
    }

    #[test]
    fn the_hyperscaler_price_follows_the_cloud_class() {
        // AWS p4de: 8 A100 80GB at 3.43 a GPU-hour; no tiers (their defaults are an H100's).
        let s = load("cloud: {gpu: a100_80gb_sxm}").expect("valid");
        let c = s.cloud();
        assert_eq!(c.price_usd_per_gpu_hour, 3.43);
        assert_eq!(c.tiers.len(), 1);
        // A class without a sourced price must be given one.
        check(
            "cloud: {gpu: l40s}",
            &[(
                "cloud.price_usd_per_gpu_hour",
                "no default hyperscaler price for the class `l40s`",
            )],
        );
        check("cloud: {gpu: l40s, price_usd_per_gpu_hour: 1.9}", &[]);
    }

    #[test]
    fn the_cloud_is_an_h100_cluster_serving_like_the_network() {
        let s = load("").expect("valid");
        let c = s.cloud();
        assert_eq!(c.class.id, defaults::CLOUD_GPU);
        assert_eq!(
            c.price_usd_per_gpu_hour,
            defaults::CLOUD_PRICE_USD_PER_GPU_HOUR
        );
        assert_eq!(c.bandwidth_bytes_per_s, 400e9 / 8.0);
        assert_eq!(c.latency_s, 5e-6);
        assert_eq!(c.mtbf_s, defaults::CLOUD_MTBF_H * 3600.0);
        assert_eq!(
            c.flops,
            s.pools()[0].rates.training_flops,
            "the same class, the same rates"
        );
        let CloudServing::Batched(plan) = c.serving else {
            panic!("an 8B model fits a p5 node: {:?}", c.serving);
        };
        assert_eq!(plan.tp * plan.replicas, defaults::CLOUD_GPUS_PER_NODE);
        // Right-sized per hour of the day, to the network's own attainment, by default.
        assert_eq!(
            (c.sizing, c.provisioned, c.attainment),
            (CloudSizing::RightSized, Provisioned::Hourly, None)
        );
        let other = load("cloud: {sizing: matched_batch, provisioned: peak, attainment: 0.9}")
            .expect("valid");
        let c = other.cloud();
        assert_eq!(
            (c.sizing, c.provisioned, c.attainment),
            (CloudSizing::MatchedBatch, Provisioned::Peak, Some(0.9))
        );
        let drawn = load(
            "inference: {users: [{region: us-east, rate_per_s: 2}], service_time_s: {constant: 0.5}}",
        )
        .expect("valid");
        assert_eq!(drawn.cloud().serving, CloudServing::Drawn(0.5));
    }
}
