//! `inference.pipeline`: the limit on stages, and, when no provider group can serve even in
//! pipeline stages, which limit binds: the stages allowed or the hosts a group has.

use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::physics::pipeline::{self, Pipeline};
use crate::physics::serving::{BatchPolicy, ServedModel};
use crate::scenario::defaults;
use crate::scenario::raw::{RawPipeline, RawProviderGroup};
use crate::scenario::spec::Pool;

/// The pipeline option at `at`, if given and valid.
pub(super) fn validate(
    raw: Option<&RawPipeline>,
    at: &YamlPath,
    issues: &mut Issues,
) -> Option<Pipeline> {
    let p = raw?;
    let at = at.key("max_stages");
    let max = defaults::MAX_PIPELINE_STAGES;
    if p.max_stages < 2 || p.max_stages > max {
        issues.push(
            &at,
            format!("must be between 2 and {max}, got {}", p.max_stages),
            "give the most hosts one replica may span, e.g. 8, or remove pipeline",
        );
        return None;
    }
    Some(Pipeline {
        max_stages: p.max_stages,
    })
}

/// When no group can serve the model even in stages (`serving` is Some(0)), records why for
/// the group that comes nearest: the model needs more stages than `max_stages` allows (at
/// `at`, the pipeline), or more than the group has hosts (at the group's `count`).
#[allow(clippy::too_many_arguments)]
pub(super) fn fits(
    pools: &[Pool],
    groups: &[RawProviderGroup],
    (model, policy): (Option<&ServedModel>, Option<&BatchPolicy>),
    pipe: &Pipeline,
    serving: Option<usize>,
    at: &YamlPath,
    providers: &YamlPath,
    issues: &mut Issues,
) {
    let (Some(model), Some(policy)) = (model, policy) else {
        return;
    };
    if pools.is_empty() || serving != Some(0) {
        return;
    }
    // Each group's stages needed (None: more than max_stages) and its hosts.
    let needs = pools.iter().filter_map(|p| {
        let i = groups.iter().position(|g| g.name == p.name)?;
        let host = groups[i].gpus_per_host.unwrap_or(1).max(1);
        let need = pipeline::stages_needed(p.class, host, model, policy, pipe.max_stages);
        let (_, hosts) = pipeline::stage_hosts(p.count, host, model);
        Some((i, need, hosts))
    });
    let mut short_of_hosts = None;
    for (i, need, hosts) in needs {
        if let Some(s) = need {
            let worse = short_of_hosts.is_some_and(|(_, _, h)| h >= hosts);
            if !worse {
                short_of_hosts = Some((i, s, hosts));
            }
        }
    }
    match short_of_hosts {
        Some((i, s, hosts)) => issues.push(
            &providers.index(i).key("count"),
            format!(
                "a pipeline replica of the model needs {s} stages of one host each, more than the {hosts} host(s) of `{}` (no group has enough)",
                groups[i].name
            ),
            format!("give a group at least {s} hosts, or hosts with more memory"),
        ),
        None => issues.push(
            &at.key("max_stages"),
            format!(
                "the model does not fit in {} stages on any provider group's hosts (weights, and one full-context KV cache, shared by the stages)",
                pipe.max_stages
            ),
            if pipe.max_stages >= model.layers {
                format!(
                    "the model has {} layers, one a stage at most: serve a smaller or more quantised model (bytes_per_param), or use hosts with more memory",
                    model.layers
                )
            } else {
                "allow more stages, or serve a smaller or more quantised model (bytes_per_param)"
                    .into()
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;

    /// Consumer cards one to a host serving Llama 2 70B in NF4 (36.7 GB of weights).
    fn swarm(count: u32, max_stages: u32) -> String {
        format!(
            "providers: [{{name: swarm, region: us-east, gpu: rtx_3090, count: {count}, hourly_cost_usd: 0.1}}]
inference:
  users: [{{region: us-east, rate_per_s: 0.1}}]
  model: {{name: llama-2-70b, bytes_per_param: 0.53125}}
  pipeline: {{max_stages: {max_stages}}}"
        )
    }

    #[test]
    fn stages_and_hosts_are_checked_and_named() {
        check(
            &swarm(8, 0),
            &[(
                "inference.pipeline.max_stages",
                "must be between 2 and 1024, got 0",
            )],
        );
        check(
            &swarm(8, 5000),
            &[(
                "inference.pipeline.max_stages",
                "must be between 2 and 1024, got 5000",
            )],
        );
        // Two stages of 40 layers fit a 3090 each; one card is one host, one stage.
        check(
            &swarm(1, 8),
            &[(
                "providers[0].count",
                "a pipeline replica of the model needs 2 stages of one host each, more than the 1 host(s) of `swarm`",
            )],
        );
        // 36.7 GB of weights do not fit... in 1 stage, and a limit of 2 is enough.
        check(&swarm(8, 2), &[]);
    }

    #[test]
    fn spread_regions_are_listed_regions_once_and_need_a_pipeline() {
        let spread = |list: &str, pipeline: &str| {
            format!(
                "regions: [{{name: us-east}}, {{name: eu-west}}]
network: {{rtt_ms: {{us-east: {{eu-west: 76}}}}}}
providers: [{{name: swarm, region: us-east, gpu: rtx_3090, count: 8, hourly_cost_usd: 0.1, spread_regions: {list}}}]
inference:
  users: [{{region: us-east, rate_per_s: 0.1}}]
  model: {{name: llama-2-70b, bytes_per_param: 0.53125}}
  {pipeline}"
            )
        };
        let pipe = "pipeline: {max_stages: 4}";
        check(&spread("[eu-west]", pipe), &[]);
        check(
            &spread("[eu-west, mars]", pipe),
            &[("providers[0].spread_regions[1]", "`mars` is not a region")],
        );
        check(
            &spread("[eu-west, us-east]", pipe),
            &[(
                "providers[0].spread_regions[1]",
                "`us-east` is listed already",
            )],
        );
        check(
            &spread("[eu-west]", ""),
            &[
                (
                    "providers[0].spread_regions",
                    "need a valid inference.pipeline",
                ),
                ("inference.model", ""),
            ],
        );
    }
}
