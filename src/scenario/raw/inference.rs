//! The inference section as written: the model served, batching, users, routing and dispatch.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::core::dist::DistSpec;
use crate::physics::formats::{KvFormat, WeightFormat};
use crate::scenario::defaults;

/// Inference demand and how it is served.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Inference")]
pub struct RawInference {
    /// The model served.
    #[serde(default)]
    pub model: RawModel,
    /// Groups of users issuing requests (at least one).
    pub users: Vec<RawUserGroup>,
    /// Prompt length, tokens. Default lognormal with median 1020: the conversation trace of
    /// Azure's LLM inference service (Patel et al., Splitwise, ISCA 2024); sigma 1.0 assumed.
    #[serde(default = "default_prompt")]
    pub prompt_tokens: DistSpec,
    /// Output length, tokens (at least 1 is generated). Default lognormal with median 129
    /// (same trace); sigma 1.0 assumed.
    #[serde(default = "default_output")]
    pub output_tokens: DistSpec,
    /// If set, each GPU serves one request at a time for a time in seconds drawn from this
    /// distribution, instead of batched replicas on the roofline (for checks against
    /// queueing theory, or measured latencies); time to first token is then the whole answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_time_s: Option<DistSpec>,
    /// How a request picks a GPU pool.
    #[serde(default)]
    pub routing: Routing,
    /// Which replica of the pool a request joins.
    #[serde(default)]
    pub dispatch: Dispatch,
    /// Requests that may wait per GPU of a pool before new ones are turned away (admission
    /// control, a design choice of the network rather than a measured figure). Default 64;
    /// 0 makes a loss system; `null` for no limit (memory then grows with an overloaded queue).
    #[serde(default = "default_queue")]
    pub max_queue_per_gpu: Option<u32>,
    /// Pools farther than this round trip are never used, ms (`null`: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rtt_ms: Option<f64>,
    /// Time-to-first-token objective, s: a request meets it when its TTFT is at most this.
    /// Default 0.5, the upper end of the 200-500 ms objectives common for chat at p95/p99.
    #[serde(default = "default_slo_ttft")]
    pub slo_ttft_s: f64,
    /// Time-per-output-token objective, s: a request meets it when its mean time between
    /// output tokens after the first is at most this. Default 0.05, the upper end of the
    /// 25-50 ms common for chat (MLPerf's Llama 2 70B interactive objective is 40 ms).
    #[serde(default = "default_slo_tpot")]
    pub slo_tpot_s: f64,
    /// Continuous batching of each replica.
    #[serde(default)]
    pub batching: RawBatching,
    /// Serving in pipeline stages across hosts, for groups none of whose hosts holds the
    /// model (without it such a group cannot serve). A replica is then the fewest hosts of
    /// the group, up to `max_stages`, whose shares of the layers fit (each stage one host,
    /// tensor parallel over its GPUs), and its step is one pass of a micro-batch through every
    /// stage and hop: between hosts the group's `interconnect_latency_us` plus activations
    /// (hidden size x 2 bytes a token) over its `interconnect_gbps`, and the client's round
    /// trip (the group's region's own). With fewer sequences than stages in flight the
    /// pipeline idles (tokens/s = sequences / round trip); a failed GPU stops its replica
    /// until enough GPUs are idle to form it again. Default: none (groups whose hosts cannot
    /// hold the model do not serve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<RawPipeline>,
}

/// Pipeline replicas across hosts (`inference.pipeline`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Pipeline")]
pub struct RawPipeline {
    /// Most stages (hosts) one replica may span: at least 2, at most 1024. A group whose
    /// model needs more stages than this, or than it has hosts, cannot serve.
    pub max_stages: u32,
}

fn default_slo_tpot() -> f64 {
    defaults::SLO_TPOT_S
}

fn default_slo_ttft() -> f64 {
    defaults::SLO_TTFT_S
}

fn default_prompt() -> DistSpec {
    DistSpec::Lognormal {
        median: defaults::PROMPT_MEDIAN_TOKENS,
        sigma: defaults::TOKENS_SIGMA,
    }
}
fn default_output() -> DistSpec {
    DistSpec::Lognormal {
        median: defaults::OUTPUT_MEDIAN_TOKENS,
        sigma: defaults::TOKENS_SIGMA,
    }
}
fn default_queue() -> Option<u32> {
    Some(defaults::MAX_QUEUE_PER_GPU)
}

/// The model being served: a catalogue entry by name (`depinsim schema` lists them), with any
/// field overridden, or a model of your own with every field given.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Model")]
pub struct RawModel {
    /// Catalogue name (llama-3-8b, llama-3.1-8b, llama-3.2-1b, llama-3.2-3b, llama-3-70b,
    /// llama-3.1-70b, llama-3.1-405b, mistral-7b, qwen2.5-7b, qwen2.5-72b; figures from each
    /// model's config.json and model card), or any name for a model whose fields are all given.
    /// Default llama-3-8b.
    pub name: String,
    /// Parameters, billions, all of them: what the weights weigh. Default: the catalogue's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params_b: Option<f64>,
    /// Parameters that multiply every token, billions: the transformer blocks without the
    /// input embedding (a lookup) and the LM head, Kaplan et al. (2020)'s non-embedding N; 2
    /// FLOPs each per prompt or output token. Default: the catalogue's, params_b less the
    /// embedding and the LM head (vocabulary x hidden size each, once if tied): 6.98 for
    /// Llama 3 8B.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_embedding_params_b: Option<f64>,
    /// Parameters of the LM head, billions: vocabulary x hidden size, 2 FLOPs each per output
    /// token (engines compute logits only where a token is sampled, not for every prompt
    /// token). Default: the catalogue's (0.525 for Llama 3 8B).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lm_head_params_b: Option<f64>,
    /// Transformer layers (config.json's num_hidden_layers). Default: the catalogue's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<u32>,
    /// Attention (query) heads (config.json's num_attention_heads; 32 for Llama 3 8B). A
    /// tensor-parallel degree must divide them. Default: the catalogue's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attention_heads: Option<u32>,
    /// Dimension of one attention head (128 for Llama 3 8B). Attention costs 4 x layers x
    /// heads x this FLOPs for each token a query attends to (QK^T and the product with V);
    /// under the causal mask a prompt of P tokens has P (P + 1) / 2 such pairs. Default: the
    /// catalogue's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<u32>,
    /// How the weights are stored, which sets their bytes (bytes_per_param) and the peak the
    /// products run at: bf16 (BF16 or FP16, 2 bytes, the BF16 peak); fp8 (W8A8 as
    /// TensorRT-LLM and vLLM serve FP8 checkpoints: 1 byte, the FP8 tensor peak; on a class
    /// without FP8 tensor cores, A100 and RTX 3090, weight-only at the BF16 peak, as vLLM's
    /// FP8 Marlin kernels serve it there); int8_w8a8 (SmoothQuant: 1 byte, the INT8 peak); int8
    /// (weight-only W8A16: 1 byte, dequantised to the BF16 peak); int4 (weight-only W4A16,
    /// AWQ or GPTQ: half a byte, the BF16 peak). Absent: bf16.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_format: Option<WeightFormat>,
    /// How the KV cache is stored, which sets its bytes (kv_bytes_per_token): bf16 (2 bytes
    /// an element), fp8 (1 byte: TensorRT-LLM's FP8 KV cache, vLLM's kv_cache_dtype fp8) or
    /// int8 (1 byte). Absent: bf16.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_cache_format: Option<KvFormat>,
    /// Bytes per weight in memory and read each step. Default: the weight format's (2 for
    /// bf16, 1 for fp8, int8_w8a8 and int8, 0.5 for int4); give your own for a mixed checkpoint
    /// (e.g. FP8 blocks with a BF16 LM head), and the format still sets the products' peak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_param: Option<f64>,
    /// Longest request served, prompt + output tokens (vLLM's max_model_len): longer prompts
    /// are refused and outputs are cut at it. Default: the catalogue's context length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u32>,
    /// KV-cache bytes per token as stored: 2 x layers x KV heads x head dimension x the KV
    /// cache format's bytes an element. Default: the catalogue's shape in kv_cache_format
    /// (131,072 for Llama 3 8B in BF16, 65,536 in FP8); a value given is used as it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_bytes_per_token: Option<f64>,
}

impl Default for RawModel {
    fn default() -> Self {
        Self {
            name: defaults::MODEL.into(),
            params_b: None,
            non_embedding_params_b: None,
            lm_head_params_b: None,
            layers: None,
            attention_heads: None,
            head_dim: None,
            weight_format: None,
            kv_cache_format: None,
            bytes_per_param: None,
            context_tokens: None,
            kv_bytes_per_token: None,
        }
    }
}

/// How each replica batches requests (continuous batching with chunked prefill), and how its
/// GPUs' memory is shared out. Defaults are vLLM's: max_num_seqs 256, max_num_batched_tokens
/// 2048 (its OpenAI-compatible server with chunked prefill), gpu_memory_utilization 0.9.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "Batching")]
pub struct RawBatching {
    /// Most requests in one replica at once (prefilling or decoding). 1 serves one request at
    /// a time.
    pub max_batch: u32,
    /// Most tokens one engine step processes: one per decoding request plus a chunk of
    /// waiting prompts. At least max_batch.
    pub max_batched_tokens: u32,
    /// Share of each GPU's memory the engine takes, 0 to 1: the runtime reserve, the weights
    /// and the KV cache, in that order, as vLLM shares its gpu_memory_utilization. A GPU's
    /// memory is what its driver offers (nvidia-smi's memory.total, e.g. 81,559 MiB on an
    /// H100; datasheets' "GB" are GiB).
    pub memory_utilisation: f64,
    /// GiB of that share each GPU keeps for the runtime: activations of a step, CUDA graphs,
    /// the CUDA context and libraries' workspaces (vLLM profiles these before it sizes the
    /// KV cache). Default 1.5: vLLM's profiles of Llama 3.1 8B leave 0.8 GiB of an RTX 3090
    /// (24,576 MiB) unaccounted with chunked prefill (vllm-project/vllm#10517: 5.82 GiB of KV
    /// cache at a 35k context) and 3.4 GiB of an H100 with 8,192-token steps and 1.79 GiB
    /// outside PyTorch (vllm-project/vllm#10511); CUDA graphs, captured afterwards, take
    /// 0.1-0.5 GiB more.
    pub runtime_reserve_gib: f64,
    /// GPUs per replica (tensor parallel, inside one host), among the powers of two up to
    /// a host's GPUs that divide the model's attention heads: `smallest` (the default), the
    /// fewest whose memory holds the weights and one full-context KV cache, as vLLM's
    /// documentation advises (one GPU if the model fits, else more "until there is enough GPU
    /// memory for the model"); `throughput`, the degree that fits with the most requests per second per
    /// GPU of the group at full batches for the mean request (the step cost counts no
    /// traffic between a replica's GPUs, so this leans to larger degrees where the batch cap
    /// binds); or a number of GPUs (it must divide the attention heads; groups whose hosts
    /// are smaller, or whose GPUs that many do not hold the model, serve nothing).
    pub tensor_parallel: TensorParallel,
}

/// How a provider group picks the tensor-parallel degree of its replicas: a rule, or a
/// number of GPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TensorParallel {
    /// A rule.
    Rule(TensorParallelRule),
    /// This many GPUs a replica.
    Gpus(u32),
}

/// A rule for the tensor-parallel degree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TensorParallelRule {
    /// The fewest GPUs that hold the model.
    Smallest,
    /// The degree with the most requests per second per GPU.
    Throughput,
}

impl Default for TensorParallel {
    fn default() -> Self {
        Self::Rule(TensorParallelRule::Smallest)
    }
}

/// The two names and the number in one flat choice, so that `depinsim schema` and the
/// shape check see `smallest`, `throughput` or a whole number side by side.
impl JsonSchema for TensorParallel {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TensorParallel".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "GPUs per replica: a rule, or a number.",
            "oneOf": [
                {
                    "const": "smallest",
                    "type": "string",
                    "description": "The fewest GPUs whose memory holds the weights and one full-context KV cache."
                },
                {
                    "const": "throughput",
                    "type": "string",
                    "description": "The degree that fits with the most requests per second per GPU at full batches."
                },
                {
                    "type": "integer",
                    "format": "uint32",
                    "minimum": 0,
                    "description": "This many GPUs of one host per replica."
                }
            ]
        })
    }
}

impl Default for RawBatching {
    fn default() -> Self {
        Self {
            max_batch: defaults::MAX_BATCH,
            max_batched_tokens: defaults::MAX_BATCHED_TOKENS,
            memory_utilisation: defaults::MEMORY_UTILISATION,
            runtime_reserve_gib: defaults::RUNTIME_RESERVE_GIB,
            tensor_parallel: TensorParallel::default(),
        }
    }
}

/// Users in one region.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "UserGroup")]
pub struct RawUserGroup {
    /// Region the users are in.
    pub region: String,
    /// Mean request rate, requests per second (Poisson).
    pub rate_per_s: f64,
    /// Optional daily cycle of the rate, by the region's local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_cycle: Option<RawDailyCycle>,
}

/// rate(t) = rate_per_s x (1 + amplitude x cos(2 pi (local hour - peak_local_h) / 24)).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(rename = "DailyCycle")]
pub struct RawDailyCycle {
    /// Relative swing of the rate, 0 to 1 (0: flat; 1: zero at the trough).
    pub amplitude: f64,
    /// Local hour of the peak, 0 to 24. Default 20: an evening peak, assumed for consumer chat
    /// traffic; set it from your own traffic data.
    #[serde(default = "default_peak")]
    pub peak_local_h: f64,
}

fn default_peak() -> f64 {
    defaults::PEAK_LOCAL_H
}

/// How a request chooses among the GPU pools that can serve its model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    /// The nearest region (lowest RTT) whose pool starts the request at once; if none does,
    /// the nearest queue with room.
    #[default]
    NearestFree,
    /// The pool with the lowest expected latency: RTT + transfer + expected queueing wait +
    /// the request's time alone on a replica of that pool.
    LeastLatency,
}

/// Which replica of a pool a request joins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dispatch {
    /// A new replica if a host has idle GPUs for one, else the active replica with room that
    /// holds the fewest requests (a least-loaded balancer: lowest latency, most GPUs busy).
    #[default]
    Spread,
    /// The active replica with room that holds the most requests, a new replica only when
    /// none has room (bigger batches: fewer busy GPU-hours per token, slower tokens).
    Pack,
}
