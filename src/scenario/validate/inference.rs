//! The `inference` section, but for its users (`users.rs`): the served model, continuous
//! batching, whether any provider group holds the model, request sizes and service times,
//! the latency objectives, and how requests pick a pool and a replica.

use crate::core::diagnostics::Issues;
use crate::core::dist::Dist;
use crate::core::engine::{SimTime, from_secs};
use crate::core::path::YamlPath;
use crate::physics::catalogue::{ModelSpec, find_model, model_ids};
use crate::physics::formats::WeightFormat;
use crate::physics::serving::{BatchPolicy, ServedModel, TensorParallel};
use crate::scenario::defaults;
use crate::scenario::raw::{self, RawBatching, RawInference, RawModel, TensorParallelRule};
use crate::scenario::spec::{Dispatch, Pool, Routing};

/// The served model at `at`, from the catalogue and the scenario's overrides. Every field is
/// written back so that scenario.resolved.yaml shows it.
pub(super) fn served_model(
    m: &mut RawModel,
    at: &YamlPath,
    issues: &mut Issues,
) -> Option<ServedModel> {
    let spec = find_model(&m.name);
    if spec.is_none() && !given_in_full(m, at, issues) {
        return None;
    }
    let params_b = *m.params_b.get_or_insert(spec.map_or(0.0, |s| s.params_b));
    // The formats are written back only when given, so a scenario without them resolves to
    // the text it did before they existed (absent is bf16).
    let weight_format = m.weight_format.unwrap_or_default();
    let kv_element = m.kv_cache_format.unwrap_or_default().bytes_per_element();
    let bytes = *m.bytes_per_param.get_or_insert(
        m.weight_format
            .map_or(defaults::BYTES_PER_PARAM, WeightFormat::bytes_per_weight),
    );
    let context = *m
        .context_tokens
        .get_or_insert(spec.map_or(0, |s| s.context_tokens));
    let kv = *m
        .kv_bytes_per_token
        .get_or_insert(spec.map_or(0.0, |s| s.kv_bytes_per_token_at(kv_element)));
    let ok = issues.positive(
        &at.key("params_b"),
        params_b,
        "give the parameter count in billions, e.g. 8",
    ) & issues.positive(
        &at.key("bytes_per_param"),
        bytes,
        "2 for BF16, 1 for FP8 or INT8, 0.5 for 4-bit, or leave it to weight_format",
    ) & issues.positive(
        &at.key("kv_bytes_per_token"),
        kv,
        "2 x layers x KV heads x head dimension x 2 bytes, e.g. 131072 for Llama 3 8B",
    );
    let compute = compute_shape(m, spec, ok.then_some(params_b), at, issues);
    let context_ok = context_fits(context, spec, &at.key("context_tokens"), issues);
    let c = compute.filter(|_| ok && context_ok)?;
    Some(ServedModel {
        params: params_b * 1e9,
        non_embedding_params: c.non_embedding_b * 1e9,
        lm_head_params: c.lm_head_b * 1e9,
        layers: c.layers,
        attention_heads: c.attention_heads,
        head_dim: c.head_dim,
        bytes_per_param: bytes,
        weight_format,
        kv_bytes_per_token: kv,
        context_tokens: context,
    })
}

/// What sets a token's FLOPs: the parameters that multiply it, and the shape of attention.
struct Compute {
    non_embedding_b: f64,
    lm_head_b: f64,
    layers: u32,
    attention_heads: u32,
    head_dim: u32,
}

/// The FLOP counts of the model at `at` (filled from the catalogue's `spec`), which are part of
/// its `params_b` when that is valid.
fn compute_shape(
    m: &mut RawModel,
    spec: Option<&ModelSpec>,
    params_b: Option<f64>,
    at: &YamlPath,
    issues: &mut Issues,
) -> Option<Compute> {
    let c = Compute {
        non_embedding_b: *m
            .non_embedding_params_b
            .get_or_insert(spec.map_or(0.0, |s| s.non_embedding_params_b())),
        lm_head_b: *m
            .lm_head_params_b
            .get_or_insert(spec.map_or(0.0, |s| s.lm_head_params_b())),
        layers: *m.layers.get_or_insert(spec.map_or(0, |s| s.layers)),
        attention_heads: *m.attention_heads.get_or_insert(spec.map_or(0, |s| s.heads)),
        head_dim: *m.head_dim.get_or_insert(spec.map_or(0, |s| s.head_dim)),
    };
    let ok = issues.positive(
        &at.key("non_embedding_params_b"),
        c.non_embedding_b,
        "the transformer blocks' parameters in billions (params_b less the embedding and the LM head), e.g. 6.98 for Llama 3 8B",
    ) & issues.non_negative(
        &at.key("lm_head_params_b"),
        c.lm_head_b,
        "vocabulary x hidden size in billions, e.g. 0.525 for Llama 3 8B",
    ) & issues.at_least_one(&at.key("layers"), c.layers, "e.g. 32 for Llama 3 8B")
        & issues.at_least_one(
            &at.key("attention_heads"),
            c.attention_heads,
            "e.g. 32 for Llama 3 8B",
        )
        & issues.at_least_one(&at.key("head_dim"), c.head_dim, "e.g. 128 for Llama 3 8B");
    let computing = c.non_embedding_b + c.lm_head_b;
    match params_b {
        Some(all) if ok && computing > all * (1.0 + 1e-9) => {
            issues.push(
                &at.key("non_embedding_params_b"),
                format!(
                    "non_embedding_params_b + lm_head_params_b ({computing:.3}) is more than params_b ({all}): the parameters that compute are some of all the parameters"
                ),
                "give non_embedding_params_b and lm_head_params_b of the model params_b counts (a catalogue model's counts do not follow a params_b of your own)",
            );
            None
        }
        Some(_) if ok => Some(c),
        _ => None,
    }
}

/// Whether a model outside the catalogue gives the fields the catalogue would; records at
/// `at` which it lacks.
fn given_in_full(m: &RawModel, at: &YamlPath, issues: &mut Issues) -> bool {
    let missing: Vec<&str> = [
        ("params_b", m.params_b.is_none()),
        ("non_embedding_params_b", m.non_embedding_params_b.is_none()),
        ("lm_head_params_b", m.lm_head_params_b.is_none()),
        ("layers", m.layers.is_none()),
        ("attention_heads", m.attention_heads.is_none()),
        ("head_dim", m.head_dim.is_none()),
        ("context_tokens", m.context_tokens.is_none()),
        ("kv_bytes_per_token", m.kv_bytes_per_token.is_none()),
    ]
    .iter()
    .filter(|f| f.1)
    .map(|f| f.0)
    .collect();
    if !missing.is_empty() {
        issues.push(
            &at.key("name"),
            format!(
                "`{}` is not in the model catalogue, and {} not given",
                m.name,
                missing.join(", ")
            ),
            format!(
                "use one of: {}; or give params_b, non_embedding_params_b, lm_head_params_b, layers, attention_heads, head_dim, context_tokens and kv_bytes_per_token",
                model_ids()
            ),
        );
    }
    missing.is_empty()
}

/// Whether `context` tokens (at `at`) hold a prompt and an output token, and no more than
/// the catalogue's model supports.
fn context_fits(
    context: u32,
    spec: Option<&ModelSpec>,
    at: &YamlPath,
    issues: &mut Issues,
) -> bool {
    if context < 2 {
        issues.push(
            at,
            "must be at least 2 (a prompt token and an output token)",
            "give the longest prompt + output served, e.g. 8192",
        );
        return false;
    }
    if let Some(s) = spec.filter(|s| context > s.context_tokens) {
        issues.push(
            at,
            format!("{} supports at most {} tokens", s.id, s.context_tokens),
            format!("give at most {}", s.context_tokens),
        );
        return false;
    }
    true
}

/// Continuous batching at `at`: a memory share in (0, 1], a runtime reserve of 0 to 1 TiB, a
/// batch of at least 1, a token budget that lets a full batch take a step, and a
/// tensor-parallel degree of at least one GPU that divides the model's attention heads (when
/// the `model` is valid). `means` are the mean prompt and output tokens that `throughput`
/// sizes replicas for (None after a problem with the request sizes, which refuses the
/// scenario anyway).
pub(super) fn batch_policy(
    b: &RawBatching,
    model: Option<&ServedModel>,
    means: Option<(f64, f64)>,
    at: &YamlPath,
    issues: &mut Issues,
) -> Option<BatchPolicy> {
    let mut ok = issues.within(
        &at.key("memory_utilisation"),
        b.memory_utilisation,
        1e-6,
        1.0,
        "a share of GPU memory between 0 and 1, e.g. 0.9",
    );
    ok &= issues.within(
        &at.key("runtime_reserve_gib"),
        b.runtime_reserve_gib,
        0.0,
        1024.0,
        "the GiB each GPU keeps for activations, CUDA graphs and the runtime, e.g. 1.5",
    );
    let fix = "e.g. 256 (1 serves one request at a time)";
    if !issues.at_least_one(&at.key("max_batch"), b.max_batch, fix) {
        ok = false;
    } else if b.max_batched_tokens < b.max_batch {
        ok = false;
        issues.push(
            &at.key("max_batched_tokens"),
            format!(
                "{} is below max_batch ({}): a full batch could not take a step",
                b.max_batched_tokens, b.max_batch
            ),
            format!("give at least {}, e.g. 2048", b.max_batch),
        );
    }
    let tensor_parallel = degree(
        b.tensor_parallel,
        model,
        means,
        &at.key("tensor_parallel"),
        issues,
    );
    ok.then_some(BatchPolicy {
        max_batch: b.max_batch,
        token_budget: b.max_batched_tokens,
        memory_utilisation: b.memory_utilisation,
        runtime_reserve_bytes: b.runtime_reserve_gib * 1_073_741_824.0,
        tensor_parallel: tensor_parallel?,
    })
}

/// The tensor-parallel rule at `at`: a number of GPUs must be at least 1 and divide the
/// attention heads of the `model`.
fn degree(
    tp: raw::TensorParallel,
    model: Option<&ServedModel>,
    means: Option<(f64, f64)>,
    at: &YamlPath,
    issues: &mut Issues,
) -> Option<TensorParallel> {
    match tp {
        raw::TensorParallel::Rule(TensorParallelRule::Smallest) => Some(TensorParallel::Smallest),
        raw::TensorParallel::Rule(TensorParallelRule::Throughput) => Some(match means {
            Some((prompt, output)) => TensorParallel::Throughput { prompt, output },
            None => TensorParallel::Smallest,
        }),
        raw::TensorParallel::Gpus(n) => {
            let fix = "give the GPUs of one replica, or smallest or throughput";
            if !issues.at_least_one(at, n, fix) {
                return None;
            }
            let heads = model.map_or(n, |m| m.attention_heads);
            if !heads.is_multiple_of(n) {
                let divisors: Vec<String> = std::iter::successors(Some(1u32), |d| d.checked_mul(2))
                    .take_while(|&d| d <= heads)
                    .filter(|&d| heads.is_multiple_of(d))
                    .map(|d| d.to_string())
                    .collect();
                issues.push(
                    at,
                    format!("{n} GPUs do not split the model's {heads} attention heads evenly"),
                    format!(
                        "give one of {}, or smallest or throughput",
                        divisors.join(", ")
                    ),
                );
                return None;
            }
            Some(TensorParallel::Gpus(n))
        }
    }
}

/// When a valid model fits no provider group, records at `at` (the model) how far the
/// group nearest to holding it falls short; nothing when no group could be planned
/// (`serving` is None: the batching policy or the efficiencies had a problem). With a
/// number of GPUs per replica (`policy`), says so at `tp`.
pub(super) fn model_fits(
    pools: &[Pool],
    model: Option<&ServedModel>,
    serving: Option<usize>,
    (policy, tp): (Option<&BatchPolicy>, &YamlPath),
    at: &YamlPath,
    issues: &mut Issues,
) {
    if model.is_none() || pools.is_empty() || serving != Some(0) {
        return;
    }
    if let Some(TensorParallel::Gpus(n)) = policy.map(|p| p.tensor_parallel) {
        issues.push(
            tp,
            format!("no provider group can serve the model in replicas of {n} GPU(s) of one host: its hosts have fewer, or {n} GPU(s) hold less than the weights and one full-context KV cache"),
            "give another number of GPUs, or smallest",
        );
        return;
    }
    let worst = pools
        .iter()
        .filter_map(|q| q.serving.as_ref().err())
        .max_by(|a, b| a.have_gb.total_cmp(&b.have_gb));
    if let Some(u) = worst {
        issues.push(
            at,
            format!(
                "the model needs {:.1} GB (weights and one full-context KV cache), more than any provider group can give one replica ({:.1} GB usable on {} GPU(s) of a host)",
                u.need_gb, u.have_gb, u.gpus
            ),
            "serve a smaller or more quantised model (bytes_per_param), a shorter context_tokens, or add GPUs with more memory (or more per host)",
        );
    }
}

/// Request sizes and service times, each None after a problem; `service` is None when
/// requests are served on the roofline, Some(None) when its distribution is unusable.
pub(super) struct Requests {
    pub(super) prompt: Option<Dist>,
    pub(super) output: Option<Dist>,
    pub(super) service: Option<Option<Dist>>,
}

impl Requests {
    /// The mean prompt and output tokens (at least one output token), if both are valid.
    pub(super) fn means(&self) -> Option<(f64, f64)> {
        Some((
            self.prompt.as_ref()?.mean(),
            self.output.as_ref()?.mean().max(1.0),
        ))
    }
}

/// The request sizes, the service-time override and the RTT limit of the section at `at`.
pub(super) fn requests(inf: &RawInference, at: &YamlPath, issues: &mut Issues) -> Requests {
    let prompt = inf.prompt_tokens.validate(&at.key("prompt_tokens"), issues);
    let output = inf.output_tokens.validate(&at.key("output_tokens"), issues);
    let service = inf
        .service_time_s
        .as_ref()
        .map(|d| d.validate(&at.key("service_time_s"), issues));
    if let Some(m) = inf.max_rtt_ms {
        issues.non_negative(
            &at.key("max_rtt_ms"),
            m,
            "give a round trip in ms, or null for no limit",
        );
    }
    Requests {
        prompt,
        output,
        service,
    }
}

/// The time-to-first-token and time-per-output-token objectives of the section at `at`.
pub(super) fn objectives(
    inf: &RawInference,
    at: &YamlPath,
    issues: &mut Issues,
) -> (SimTime, SimTime) {
    issues.positive(
        &at.key("slo_ttft_s"),
        inf.slo_ttft_s,
        "give the time-to-first-token objective in seconds, e.g. 0.5",
    );
    issues.positive(
        &at.key("slo_tpot_s"),
        inf.slo_tpot_s,
        "give the time-per-output-token objective in seconds, e.g. 0.05",
    );
    (from_secs(inf.slo_ttft_s), from_secs(inf.slo_tpot_s))
}

/// How a request picks a pool.
pub(super) fn routing(r: raw::Routing) -> Routing {
    match r {
        raw::Routing::NearestFree => Routing::NearestFree,
        raw::Routing::LeastLatency => Routing::LeastLatency,
    }
}

/// Which replica of a pool a request joins.
pub(super) fn dispatch(d: raw::Dispatch) -> Dispatch {
    match d {
        raw::Dispatch::Spread => Dispatch::Spread,
        raw::Dispatch::Pack => Dispatch::Pack,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, load, only_issue};
    use super::*;
    use crate::scenario::spec::{Dispatch, Routing};

    /// An inference section with the base's users and `rest`.
    fn inference(rest: &str) -> String {
        format!("inference: {{users: [{{region: us-east, rate_per_s: 2}}], {rest}}}")
    }

    #[test]
    fn the_model_comes_from_the_catalogue_or_in_full() {
        let cases: [(&str, &[(&str, &str)]); 7] = [
            (
                "model: {name: mine}",
                &[(
                    "inference.model.name",
                    "`mine` is not in the model catalogue, and params_b, non_embedding_params_b, lm_head_params_b, layers, attention_heads, head_dim, context_tokens, kv_bytes_per_token not given",
                )],
            ),
            (
                "model: {name: mine, params_b: 1, context_tokens: 2048}",
                &[("inference.model.name", "kv_bytes_per_token not given")],
            ),
            (
                "model: {name: mine, params_b: -1, bytes_per_param: 0, context_tokens: 1, kv_bytes_per_token: 0,
                         non_embedding_params_b: 0, lm_head_params_b: -1, layers: 0, attention_heads: 0, head_dim: 0}",
                &[
                    (
                        "inference.model.non_embedding_params_b",
                        "must be a positive number, got 0",
                    ),
                    ("inference.model.lm_head_params_b", "must be zero or more"),
                    ("inference.model.layers", "must be at least 1"),
                    ("inference.model.attention_heads", "must be at least 1"),
                    ("inference.model.head_dim", "must be at least 1"),
                    (
                        "inference.model.params_b",
                        "must be a positive number, got -1",
                    ),
                    (
                        "inference.model.bytes_per_param",
                        "must be a positive number, got 0",
                    ),
                    (
                        "inference.model.kv_bytes_per_token",
                        "must be a positive number, got 0",
                    ),
                    ("inference.model.context_tokens", "must be at least 2"),
                ],
            ),
            (
                "model: {name: llama-3-8b, context_tokens: 100000}",
                &[(
                    "inference.model.context_tokens",
                    "llama-3-8b supports at most 8192 tokens",
                )],
            ),
            (
                // A params_b of one's own on a catalogue model: its 6.98B non-embedding
                // parameters no longer fit in it.
                "model: {name: llama-3-8b, params_b: 1}",
                &[(
                    "inference.model.non_embedding_params_b",
                    "non_embedding_params_b + lm_head_params_b (7.505) is more than params_b (1)",
                )],
            ),
            (
                // ...and with every count given, a model of one's own is served.
                "model: {name: mine, params_b: 1, non_embedding_params_b: 0.8, lm_head_params_b: 0.1,
                         layers: 16, attention_heads: 16, head_dim: 128, context_tokens: 4096, kv_bytes_per_token: 32768}",
                &[],
            ),
            (
                // 405B in BF16 (810 GB) and a 128k-token KV cache against 4 H100s (301 GB).
                "model: {name: llama-3.1-405b}",
                &[("inference.model", "the model needs 877.6 GB")],
            ),
        ];
        for (rest, want) in cases {
            check(&inference(rest), want);
        }
        assert_eq!(
            only_issue(&inference(
                "model: {name: llama-3-8b, context_tokens: 100000}"
            ))
            .fix,
            "give at most 8192"
        );
    }

    #[test]
    fn a_catalogue_model_fills_every_field() {
        let s = load("").expect("valid");
        let (m, spec) = (
            s.model(),
            find_model("llama-3-8b").expect("in the catalogue"),
        );
        assert_eq!(
            (
                m.params,
                m.bytes_per_param,
                m.context_tokens,
                m.kv_bytes_per_token
            ),
            (spec.params_b * 1e9, 2.0, 8192, 131_072.0)
        );
        assert_eq!(
            (
                m.non_embedding_params,
                m.lm_head_params,
                m.layers,
                m.attention_heads,
                m.head_dim
            ),
            (
                spec.non_embedding_params_b() * 1e9,
                spec.lm_head_params_b() * 1e9,
                32,
                32,
                128
            )
        );
        let yaml = s.resolved_yaml();
        for filled in [
            "params_b: 8.03",
            "non_embedding_params_b: 6.979",
            "lm_head_params_b: 0.525",
            "layers: 32",
            "attention_heads: 32",
            "head_dim: 128",
            "bytes_per_param: 2.0",
            "context_tokens: 8192",
            "kv_bytes_per_token: 131072.0",
        ] {
            assert!(yaml.contains(filled), "`{filled}` in\n{yaml}");
        }
        let s = load(&inference("model: {name: llama-3-8b, bytes_per_param: 1}")).expect("valid");
        assert_eq!(s.model().bytes_per_param, 1.0);
    }

    #[test]
    fn the_formats_set_the_bytes_of_weights_and_kv_cache() {
        // Absent: BF16, and the resolved scenario shows no format (it resolves as before).
        let s = load("").expect("valid");
        assert_eq!(s.model().weight_format, WeightFormat::Bf16);
        assert!(!s.resolved_yaml().contains("format"));
        // FP8 weights and KV cache: a byte each, written back with the bytes they imply.
        let s = load(&inference(
            "model: {name: llama-3-8b, weight_format: fp8, kv_cache_format: fp8}",
        ))
        .expect("valid");
        let m = s.model();
        assert_eq!(
            (m.weight_format, m.bytes_per_param, m.kv_bytes_per_token),
            (WeightFormat::Fp8, 1.0, 65_536.0)
        );
        let yaml = s.resolved_yaml();
        for shown in [
            "weight_format: fp8",
            "kv_cache_format: fp8",
            "bytes_per_param: 1.0",
            "kv_bytes_per_token: 65536.0",
        ] {
            assert!(yaml.contains(shown), "`{shown}` in\n{yaml}");
        }
        // The H100 group multiplies at the FP8 peak.
        let flops = s.pools()[0].serving.expect("serves").cost.flop_s_per_token;
        let want = 2.0 * m.non_embedding_params / (1979e12 * 0.8);
        assert!((flops / want - 1.0).abs() < 1e-12);
        // 4-bit and INT8 weight-only; bytes given stay as given (a mixed checkpoint), and so
        // does a KV size given.
        for (model, bytes, kv) in [
            ("weight_format: int4", 0.5, 131_072.0),
            ("weight_format: int8, kv_cache_format: int8", 1.0, 65_536.0),
            ("weight_format: int8_w8a8", 1.0, 131_072.0),
            ("weight_format: fp8, bytes_per_param: 1.13", 1.13, 131_072.0),
            (
                "kv_cache_format: fp8, kv_bytes_per_token: 70000",
                2.0,
                70_000.0,
            ),
        ] {
            let s =
                load(&inference(&format!("model: {{name: llama-3-8b, {model}}}"))).expect("valid");
            let m = s.model();
            assert_eq!(
                (m.bytes_per_param, m.kv_bytes_per_token),
                (bytes, kv),
                "{model}"
            );
        }
    }

    #[test]
    fn an_unknown_format_is_refused_with_the_choices() {
        let fix = "use one of: bf16, fp8, int8_w8a8, int8, int4";
        let i = only_issue(&inference("model: {name: llama-3-8b, weight_format: fp4}"));
        assert_eq!(i.path.to_string(), "inference.model.weight_format");
        assert!(i.message.contains("unknown choice `fp4`"), "{}", i.message);
        assert_eq!(i.fix, fix);
        let i = only_issue(&inference(
            "model: {name: llama-3-8b, kv_cache_format: int4}",
        ));
        assert_eq!(i.path.to_string(), "inference.model.kv_cache_format");
        assert!(i.message.contains("unknown choice `int4`"), "{}", i.message);
        assert_eq!(i.fix, "use one of: bf16, fp8, int8");
        check(
            &inference("model: {name: llama-3-8b, weight_format: 8, kv_cache_format: [fp8]}"),
            &[
                ("inference.model.weight_format", "8"),
                ("inference.model.kv_cache_format", "list"),
            ],
        );
    }

    /// A class without FP8 tensor cores serves FP8 weights weight-only (the documented
    /// fallback), at its BF16 peak, with the byte a weight they take.
    #[test]
    fn fp8_on_a_class_without_fp8_falls_back_to_weight_only() {
        let s = load(
            "providers: [{name: a, region: us-east, gpu: a100_80gb_sxm, hourly_cost_usd: 1, count: 4}]
inference: {users: [{region: us-east, rate_per_s: 2}], model: {name: llama-3-8b, weight_format: fp8}}",
        )
        .expect("valid: FP8 on an A100 is served weight-only");
        let p = &s.pools()[0];
        assert_eq!(p.rates.low_precision.fp8_flops, None);
        let cost = p.serving.expect("serves").cost;
        let want = 2.0 * s.model().non_embedding_params / (312e12 * 0.8);
        assert!((cost.flop_s_per_token / want - 1.0).abs() < 1e-12);
        assert!((cost.weights_s * 2.04e12 * 0.9 / (8.03e9 * 1.0) - 1.0).abs() < 1e-12);
    }

    /// A batching policy or an efficiency factor with a problem of its own leaves no group a
    /// serving plan; that is not a second problem of the model (Llama 3 8B, ~17.1 GB with a
    /// full-context KV cache, fits an H100's 75 GB usable) nor of verification.
    #[test]
    fn a_bad_batching_policy_is_not_reported_as_a_model_that_fits_nowhere() {
        check(
            "inference: {users: [{region: us-east, rate_per_s: 2}], batching: {max_batch: 0}}",
            &[("inference.batching.max_batch", "must be at least 1")],
        );
        check(
            "calibration: {memory_efficiency: 0}
token:
  emission: {schedule: {constant: {per_epoch: 1}}, epoch_h: 1, initial_supply: 1000}
  work_share: 0.5
  price: {constant: {usd: 1}}
  verification: {redundancy: 2}",
            &[("calibration.memory_efficiency", "must be between")],
        );
    }

    #[test]
    fn a_batch_must_be_able_to_take_a_step() {
        let at = YamlPath::root().key("inference").key("batching");
        let cases = [
            ((256, 2048, 0.9, 1.5), vec![]),
            (
                (0, 2048, 2.0, -1.0),
                vec!["memory_utilisation", "runtime_reserve_gib", "max_batch"],
            ),
            ((256, 16, 0.9, 0.0), vec!["max_batched_tokens"]),
        ];
        for ((max_batch, max_batched_tokens, memory_utilisation, reserve), want) in cases {
            let b = RawBatching {
                max_batch,
                max_batched_tokens,
                memory_utilisation,
                runtime_reserve_gib: reserve,
                ..RawBatching::default()
            };
            let mut issues = Issues::default();
            let policy = batch_policy(&b, None, None, &at, &mut issues);
            let found: Vec<String> = issues.iter().map(|i| i.path.to_string()).collect();
            let want: Vec<String> = want.iter().map(|k| at.key(*k).to_string()).collect();
            assert_eq!(found, want);
            assert_eq!(policy.is_some(), want.is_empty());
        }
        let mut issues = Issues::default();
        let b = RawBatching {
            max_batched_tokens: 16,
            ..RawBatching::default()
        };
        batch_policy(&b, None, None, &at, &mut issues);
        let only = issues.iter().next().expect("one problem");
        assert_eq!(
            only.message,
            "16 is below max_batch (256): a full batch could not take a step"
        );
        assert_eq!(only.fix, "give at least 256, e.g. 2048");
    }

    #[test]
    fn the_tensor_parallel_degree_is_a_rule_or_a_divisor_of_the_heads() {
        let tp = |v: &str| inference(&format!("batching: {{tensor_parallel: {v}}}"));
        check(
            &tp("0"),
            &[("inference.batching.tensor_parallel", "must be at least 1")],
        );
        // Llama 3 8B has 32 attention heads.
        check(
            &tp("3"),
            &[(
                "inference.batching.tensor_parallel",
                "3 GPUs do not split the model's 32 attention heads evenly",
            )],
        );
        assert_eq!(
            only_issue(&tp("3")).fix,
            "give one of 1, 2, 4, 8, 16, 32, or smallest or throughput"
        );
        check(
            &tp("fast"),
            &[(
                "inference.batching.tensor_parallel",
                "unknown choice `fast`",
            )],
        );
        assert_eq!(
            only_issue(&tp("fast")).fix,
            "use one of: smallest, throughput, or a whole number"
        );
        // The base's group has 4 H100s: no replica of 8.
        check(
            &tp("8"),
            &[(
                "inference.batching.tensor_parallel",
                "no provider group can serve the model in replicas of 8 GPU(s) of one host",
            )],
        );
        let tp_of = |v: &str| {
            let s = load(&tp(v)).expect("valid");
            s.pools()[0].serving.expect("serves").tp
        };
        assert_eq!((tp_of("smallest"), tp_of("2"), tp_of("4")), (1, 2, 4));
        let s = load(&tp("throughput")).expect("valid");
        assert!(s.resolved_yaml().contains("tensor_parallel: throughput"));
    }

    #[test]
    fn request_sizes_service_times_and_objectives_are_checked_together() {
        check(
            &inference(
                "prompt_tokens: {lognormal: {median: -1, sigma: 1}}, output_tokens: {constant: -2},
                 service_time_s: {exponential: {mean: 0}}, max_rtt_ms: -4, slo_ttft_s: 0, slo_tpot_s: -1",
            ),
            &[
                ("inference.prompt_tokens.lognormal.median", "must be a positive number"),
                ("inference.output_tokens.constant", "must be zero or more"),
                ("inference.service_time_s.exponential.mean", "must be a positive number"),
                ("inference.max_rtt_ms", "must be zero or more"),
                ("inference.slo_ttft_s", "must be a positive number"),
                ("inference.slo_tpot_s", "must be a positive number"),
            ],
        );
    }

    #[test]
    fn routing_dispatch_and_objectives_reach_the_scenario() {
        let s = load("").expect("valid");
        assert_eq!(
            (s.routing, s.dispatch),
            (Routing::NearestFree, Dispatch::Spread)
        );
        assert_eq!(
            (s.slo_ttft(), s.slo_tpot()),
            (from_secs(0.5), from_secs(0.05))
        );
        assert_eq!(
            s.max_queue_per_gpu,
            Some(crate::scenario::defaults::MAX_QUEUE_PER_GPU)
        );
        let s = load(&inference(
            "routing: least_latency, dispatch: pack, slo_ttft_s: 2, max_queue_per_gpu: null, max_rtt_ms: 100",
        ))
        .expect("valid");
        assert_eq!(
            (s.routing, s.dispatch),
            (Routing::LeastLatency, Dispatch::Pack)
        );
        assert_eq!(s.slo_ttft(), from_secs(2.0));
        assert_eq!((s.max_queue_per_gpu, s.max_rtt_s), (None, Some(0.1)));
    }
}
