//! The `training` section: classes of training and fine-tuning jobs, each of which must fit
//! somewhere in the network under its placement rule.

use std::collections::HashMap;

use super::names::Names;
use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::physics::local_sgd::LocalSgd;
use crate::physics::training::{DataParallel, JobKind, activation_bytes};
use crate::scenario::defaults::{self, MAX_ARRIVALS_PER_DAY};
use crate::scenario::raw::{self, RawJobClass};
use crate::scenario::spec::{JobClass, JobQueue, Placement, Pool};

/// A placement as the file writes it.
fn placement_name(p: Placement) -> &'static str {
    match p {
        Placement::OneProvider => "one_provider",
        Placement::OneRegion => "one_region",
        Placement::Anywhere => "anywhere",
    }
}

/// Bytes in a GiB.
const GIB: f64 = 1_073_741_824.0;

/// The job classes at `at`; a class without GPUs gives none.
pub(super) fn validate(
    classes: &mut [RawJobClass],
    pools: &[Pool],
    at: &YamlPath,
    issues: &mut Issues,
) -> Vec<JobClass> {
    let mut names = Names::new("training");
    let mut out = Vec::new();
    for (i, j) in classes.iter_mut().enumerate() {
        let jp = at.index(i);
        names.check(&jp, &j.name, i, issues);
        let local_sgd = super::local_sgd::validate(j, &jp, issues);
        let sized = sizes(j, &jp, issues);
        let fix = "give the number of data-parallel GPUs";
        if !issues.at_least_one(&jp.key("gpus"), j.gpus, fix) {
            continue;
        }
        let class = job_class(j, local_sgd);
        if sized {
            placeable(&class, pools, &jp, issues);
        }
        out.push(class);
    }
    out
}

/// The queue policy, its default filled in (for scenario.resolved.yaml) when the scenario
/// has job classes; without any it is left out, and the policy does nothing.
pub(super) fn queue(policy: &mut Option<raw::JobQueue>, has_jobs: bool) -> JobQueue {
    if has_jobs && policy.is_none() {
        *policy = raw::default_job_queue();
    }
    match policy {
        Some(raw::JobQueue::Fcfs) => JobQueue::Fcfs,
        Some(raw::JobQueue::Backfill) => JobQueue::Backfill,
        None => defaults::JOB_QUEUE,
    }
}

/// The class's rate, size and recovery times at `at`. Returns whether its model, tokens and
/// batch are usable, which placing it needs.
fn sizes(j: &RawJobClass, at: &YamlPath, issues: &mut Issues) -> bool {
    issues.within(
        &at.key("arrivals_per_day"),
        j.arrivals_per_day,
        0.0,
        MAX_ARRIVALS_PER_DAY,
        "give the mean number of jobs per day",
    );
    let ok = issues.positive(
        &at.key("params_b"),
        j.params_b,
        "give the parameter count in billions, e.g. 8",
    ) & issues.positive(
        &at.key("tokens_b"),
        j.tokens_b,
        "give the tokens to process in billions",
    ) & issues.positive(
        &at.key("tokens_per_step_m"),
        j.tokens_per_step_m,
        "give the global batch in million tokens, e.g. 4",
    );
    if let Some(c) = j.checkpoint_s {
        issues.non_negative(
            &at.key("checkpoint_s"),
            c,
            "give the checkpoint write time in seconds, or null to derive it",
        );
    }
    issues.positive(
        &at.key("checkpoint_write_gbps"),
        j.checkpoint_write_gbps,
        "give one GPU's write rate to storage in Gbit/s, e.g. 16",
    );
    let ok =
        ok & issues.within(
            &at.key("memory_utilisation"),
            j.memory_utilisation,
            0.01,
            1.0,
            "give the share of a GPU's memory the job may use, e.g. 0.9",
        ) & issues.within(
            &at.key("micro_batch_tokens"),
            j.micro_batch_tokens,
            1.0,
            1e9,
            "give the tokens in flight on one GPU, e.g. 8192",
        );
    issues.non_negative(
        &at.key("restart_s"),
        j.restart_s,
        "give the restart time in seconds",
    );
    if let Some(m) = j.checkpoint_interval_min {
        issues.positive(
            &at.key("checkpoint_interval_min"),
            m,
            "give minutes of work between checkpoints, or null for Young/Daly",
        );
    }
    ok
}

/// The class in the simulation's units.
fn job_class(j: &RawJobClass, local_sgd: Option<LocalSgd>) -> JobClass {
    JobClass {
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
        checkpoint_write_bytes_per_s: j.checkpoint_write_gbps * 1e9 / 8.0,
        restart_s: j.restart_s,
        interval_s: j.checkpoint_interval_min.map(|m| m * 60.0),
        data_parallel: match j.data_parallel {
            raw::DataParallel::Auto => None,
            raw::DataParallel::Replicated => Some(DataParallel::Replicated),
            raw::DataParallel::Sharded => Some(DataParallel::Sharded),
        },
        micro_batch_tokens: j.micro_batch_tokens,
        memory_utilisation: j.memory_utilisation,
        local_sgd,
    }
}

/// A job class must fit somewhere: enough GPUs with enough memory for its share of the model
/// states and its activations, under its placement rule.
fn placeable(j: &JobClass, pools: &[Pool], at: &YamlPath, issues: &mut Issues) {
    let fit: Vec<&Pool> = pools
        .iter()
        .filter(|q| j.fits_on(q.class, q.gpus_per_host) && q.online_local_h.is_none())
        .collect();
    if fit.is_empty() {
        let least = j.data_parallel.unwrap_or(DataParallel::Sharded);
        let shards = pools
            .iter()
            .map(|q| j.worker_gpus(q.gpus_per_host))
            .max()
            .unwrap_or(1);
        let need = j.memory_per_gpu_bytes(least, shards);
        let most = pools
            .iter()
            .map(|q| j.usable_bytes(q.class))
            .fold(0.0, f64::max);
        let activations = activation_bytes(j.params, j.micro_batch_tokens);
        let fix = if activations >= most {
            "use fewer micro_batch_tokens: the activations alone exceed what the job may use"
        } else if j.local_sgd.is_some() {
            "under local_sgd each worker holds every state (sharded over its own host's GPUs at most): use data_parallel: sharded or auto, hosts with more GPUs, local_sgd.outer_state_bytes_per_param: 0, or a smaller model"
        } else if least == DataParallel::Replicated {
            "use data_parallel: sharded or auto (the states are then split across the GPUs), or a smaller model"
        } else {
            "use more GPUs (sharded states are split across them), fewer micro_batch_tokens, or a smaller model"
        };
        issues.push(
            &at.key("gpus"),
            format!(
                "each GPU would hold {:.1} GiB {} ({:.1} GiB of model states and {:.1} GiB of activations), more than the {:.1} GiB the job may use of any provider GPU",
                need / GIB,
                match least {
                    DataParallel::Replicated => "replicated",
                    DataParallel::Sharded => "fully sharded",
                },
                (need - activations) / GIB,
                activations / GIB,
                most / GIB,
            ),
            fix,
        );
        return;
    }
    if j.local_sgd.is_some() && !fit.iter().any(|q| remainder_fits(j, q)) {
        let host = fit
            .iter()
            .map(|q| j.worker_gpus(q.gpus_per_host))
            .max()
            .unwrap_or(1);
        issues.push(
            &at.key("gpus"),
            format!(
                "under local SGD the job's GPUs form workers of {host} (one per host); the {} left over would form a worker that cannot hold every model state",
                j.gpus % host
            ),
            "ask for a multiple of the GPUs per host",
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
        issues.push(&at.key("gpus"), format!("wants {} GPUs, but at most {available} with enough memory exist under placement {}", j.gpus, placement_name(j.placement)), "ask for fewer GPUs, relax the placement, or add providers");
    }
}

/// Whether the worker left over when `j`'s GPUs fill whole workers on hosts of `q` (if any)
/// holds every state it must.
fn remainder_fits(j: &JobClass, q: &Pool) -> bool {
    let rest = j.gpus % j.worker_gpus(q.gpus_per_host);
    rest == 0 || j.parallel_for(j.usable_bytes(q.class), rest).is_some()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, load, only_issue};
    use super::*;
    use crate::scenario::defaults;

    /// A training section of one class: a fine-tuning job of 8B parameters on 4 GPUs, with
    /// the fields `over` gives in place of its own or beside them.
    fn job(over: &[(&str, &str)]) -> String {
        let mut fields = vec![
            ("name", "ft"),
            ("kind", "fine_tuning"),
            ("arrivals_per_day", "2"),
            ("params_b", "8"),
            ("tokens_b", "0.1"),
            ("gpus", "4"),
        ];
        for &(k, v) in over {
            match fields.iter_mut().find(|f| f.0 == k) {
                Some(f) => f.1 = v,
                None => fields.push((k, v)),
            }
        }
        let inside: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        format!("training: [{{{}}}]", inside.join(", "))
    }

    #[test]
    fn a_job_class_is_checked_field_by_field() {
        let cases: [(String, &[(&str, &str)]); 4] = [
            (job(&[]), &[]),
            (
                job(&[("gpus", "0"), ("params_b", "-1")]),
                &[
                    ("training[0].gpus", "must be at least 1"),
                    ("training[0].params_b", "must be a positive number"),
                ],
            ),
            (
                job(&[
                    ("arrivals_per_day", "2e6"),
                    ("tokens_b", "0"),
                    ("tokens_per_step_m", "0"),
                    ("checkpoint_s", "-1"),
                    ("restart_s", "-1"),
                    ("checkpoint_interval_min", "0"),
                    ("checkpoint_write_gbps", "0"),
                    ("micro_batch_tokens", "0"),
                    ("memory_utilisation", "1.5"),
                    ("data_parallel", "sharded"),
                ]),
                &[
                    ("training[0].arrivals_per_day", "must be between 0 and 1000000"),
                    ("training[0].tokens_b", "must be a positive number"),
                    ("training[0].tokens_per_step_m", "must be a positive number"),
                    ("training[0].checkpoint_s", "must be zero or more"),
                    ("training[0].restart_s", "must be zero or more"),
                    ("training[0].checkpoint_interval_min", "must be a positive number"),
                    ("training[0].checkpoint_write_gbps", "must be a positive number"),
                    ("training[0].micro_batch_tokens", "must be between 1 and"),
                    ("training[0].memory_utilisation", "must be between 0.01 and 1"),
                ],
            ),
            (
                "training: [{name: a, kind: training, arrivals_per_day: 1, params_b: 1, tokens_b: 1, gpus: 1},
                            {name: a, kind: training, arrivals_per_day: 1, params_b: 1, tokens_b: 1, gpus: 1}]"
                    .into(),
                &[("training[1].name", "`a` is also the name of training[0]")],
            ),
        ];
        for (fragment, want) in cases {
            check(&fragment, want);
        }
    }

    #[test]
    fn a_job_class_must_fit_somewhere() {
        let cases: [(String, &[(&str, &str)]); 3] = [
            (
                // 405B x 16 bytes over 2 GPUs: 3,240e9 bytes (3,017.5 GiB) each, against the
                // 0.9 x 81,559 MiB = 71.7 GiB of an H100 a job may use.
                "training: [{name: big, kind: training, arrivals_per_day: 1, params_b: 405, tokens_b: 1, gpus: 2}]".into(),
                &[("training[0].gpus", "fully sharded (3017.5 GiB of model states and")],
            ),
            (
                job(&[("gpus", "100"), ("placement", "one_provider")]),
                &[(
                    "training[0].gpus",
                    "wants 100 GPUs, but at most 4 with enough memory exist under placement one_provider",
                )],
            ),
            (
                "providers:
  - {name: a, region: us-east, gpu: h100_sxm, count: 4, hourly_cost_usd: 1}
  - {name: b, region: us-east, gpu: h100_sxm, count: 4, hourly_cost_usd: 1}
  - {name: c, region: eu-west, gpu: h100_sxm, count: 4, hourly_cost_usd: 1}
  - {name: d, region: eu-west, gpu: h100_sxm, count: 4, hourly_cost_usd: 1, online_local_h: [18, 23]}
training: [{name: ft, kind: fine_tuning, arrivals_per_day: 2, params_b: 8, tokens_b: 0.1, gpus: 9, placement: one_region}]"
                    .into(),
                &[(
                    "training[0].gpus",
                    "wants 9 GPUs, but at most 8 with enough memory exist under placement one_region",
                )],
            ),
        ];
        for (fragment, want) in cases {
            check(&fragment, want);
        }
        check(
            &job(&[("gpus", "12")]),
            &[("training[0].gpus", "at most 4")],
        );
        // The fix names what can help: activations alone too big, or replication forced.
        for (over, fix) in [
            (
                ("micro_batch_tokens", "1000000"),
                "use fewer micro_batch_tokens",
            ),
            (
                ("data_parallel", "replicated"),
                "use data_parallel: sharded or auto",
            ),
        ] {
            let fragment = job(&[over, ("kind", "training"), ("params_b", "70")]);
            let issue = only_issue(&fragment);
            assert!(issue.fix.starts_with(fix), "{fragment}: {issue:?}");
        }
    }

    #[test]
    fn the_job_queue_is_filled_in_with_job_classes_and_a_bad_one_is_refused() {
        let s = load(&job(&[])).expect("valid");
        assert_eq!(s.job_queue(), defaults::JOB_QUEUE);
        assert!(s.resolved_yaml().contains("job_queue: backfill"));
        // Without job classes the policy does nothing and stays out of the resolved file.
        assert!(
            !load("")
                .expect("valid")
                .resolved_yaml()
                .contains("job_queue")
        );
        let fcfs = format!("{}\njob_queue: fcfs", job(&[]));
        assert_eq!(load(&fcfs).expect("valid").job_queue(), JobQueue::Fcfs);
        let bad = format!("{}\njob_queue: lifo", job(&[]));
        let issue = only_issue(&bad);
        assert_eq!(issue.path.to_string(), "job_queue", "{issue:?}");
        assert!(issue.message.contains("lifo"), "{issue:?}");
        assert!(issue.fix.contains("backfill"), "{issue:?}");
    }

    #[test]
    fn a_job_class_is_in_the_simulation_units_with_its_defaults() {
        let s = load(&job(&[])).expect("valid");
        let j = &s.jobs()[0];
        assert_eq!(
            (j.kind, j.placement),
            (JobKind::FineTuning, Placement::Anywhere)
        );
        assert_eq!(j.rate_per_s, 2.0 / 86_400.0);
        assert_eq!((j.params, j.tokens, j.gpus), (8e9, 0.1e9, 4));
        assert_eq!(j.tokens_per_step, defaults::TOKENS_PER_STEP_M * 1e6);
        assert_eq!((j.checkpoint_s, j.restart_s), (None, defaults::RESTART_S));
        assert_eq!(
            (j.data_parallel, j.micro_batch_tokens, j.memory_utilisation),
            (
                None,
                defaults::MICRO_BATCH_TOKENS,
                defaults::JOB_MEMORY_UTILISATION
            )
        );
        assert_eq!(
            j.checkpoint_write_bytes_per_s,
            defaults::CHECKPOINT_WRITE_GBPS * 1e9 / 8.0
        );
        assert_eq!(j.interval_s, None);
        let s = load(&job(&[
            ("kind", "training"),
            ("checkpoint_interval_min", "30"),
        ]))
        .expect("valid");
        assert_eq!(
            (s.jobs()[0].kind, s.jobs()[0].interval_s),
            (JobKind::Training, Some(1800.0))
        );
    }
}
