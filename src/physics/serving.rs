//! Serving a model with continuous batching: how a provider group is cut into replicas and how
//! long one engine step takes (`crate::sim::replica` runs a replica at that cost).
//!
//! A replica is `tp` GPUs of one host holding one copy of the weights (tensor parallel only
//! inside a host); by default it uses the smallest `tp` whose memory holds the weights and one
//! full-context request's KV cache ([`TensorParallel`] has the other rules). A GPU's memory is what its driver offers (in bytes, not
//! the datasheet's round GB), of which the scenario's memory utilisation is shared out as in
//! vLLM: the runtime's reserve (activations, CUDA graphs, the CUDA context and workspaces)
//! first, then the weights, and the rest is KV cache. Each engine step
//! (iteration-level scheduling, as in Orca and vLLM) reads the weights and the KV cache of
//! the running requests once and processes one token of each running request plus a chunk of
//! waiting prompts (chunked prefill, as in Sarathi-Serve and vLLM), within a token budget:
//!
//! ```text
//! step = max(weights / bandwidth, (2 N x tokens + 2 H x decoding) / FLOP/s)
//!      + max(KV bytes read / bandwidth, 4 L d x query-key pairs / FLOP/s)
//! ```
//!
//! The matrix products (with the weights they read) and attention (with the KV cache it
//! reads) are separate kernels that run one after the other (cuBLAS or CUTLASS GEMMs, then
//! FlashAttention or TensorRT-LLM's XQA), so each is bounded by its own roofline and their
//! times add: at a large batch the products are compute-bound while attention is bound by
//! its KV reads, and a single roofline over the whole step would let those reads hide under
//! the products' FLOPs. At batch 1 both are memory-bound and a prompt alone is
//! compute-bound in both, where the sum equals the single roofline.
//!
//! N is the non-embedding parameter count (the transformer blocks: Kaplan et al. 2020), H the
//! LM head's (vocabulary x hidden, multiplied only where a token is sampled, so once per
//! output token), L the layers and d the attention width (query heads x head dimension). A
//! query attending to one earlier token costs 4 d FLOPs a layer: 2 d for its dot product with
//! the key and 2 d for adding the value (Hoffmann et al. 2022, "Training compute-optimal
//! large language models", appendix F, counts the same two products). Under the causal mask
//! the i-th token of a prompt attends to i tokens, P (P + 1) / 2 pairs over a prompt of P, so
//! its attention costs `2 L d P (P + 1)` FLOPs, half the unmasked square (FlashAttention-2,
//! Dao 2023, counts causal attention the same way); a decoding token attends to its whole
//! context, the same tokens whose KV cache the step reads.
//!
//! Between events the batch is constant, so every running request advances at one token per
//! step and the waiting prompts at `chunk` tokens per step: the replica is a fluid model with
//! piecewise-constant rates, and only admissions, first tokens and completions are events.
//! That needs a constant cost per prompt token, so a prompt's attention is spread evenly over
//! its tokens: each costs the prompt's mean, `4 L d (P + 1) / 2` FLOPs. A prompt's total is
//! exact; only its share between chunks is averaged (in an engine a chunk late in a long
//! prompt costs more than an early one). Each request's KV cache (prompt + output) is reserved
//! when it is admitted, so a batch never outgrows memory and nothing is preempted for space; a
//! running request's KV read (and its attention) counts its mean context, prompt + output / 2.
//!
//! Communication adds to the step ([`Comm`], `physics::comm`): a tensor-parallel replica's
//! two all-reduces a layer over its host's GPU link, and a pipeline replica's stages and hops
//! (`physics::pipeline` plans those).

use super::comm::{Comm, HostLink};
use super::formats::WeightFormat;
use super::gpu::GpuClass;
use super::rates::{BATCH_GRID, Rates};

/// Cost of one engine step, in seconds per unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepCost {
    /// Reading the weights once.
    pub weights_s: f64,
    /// Reading one token's KV cache.
    pub kv_s_per_token: f64,
    /// Multiplying one token, prompt or output, by the transformer blocks (2N FLOPs, N the
    /// non-embedding parameters).
    pub flop_s_per_token: f64,
    /// The LM head for one output token (2 x vocabulary x hidden FLOPs).
    pub head_flop_s: f64,
    /// Attention of one query to one earlier token (4 x layers x attention width FLOPs).
    pub attention_flop_s: f64,
    /// Memory time at batch 2^i relative to batch 1 (from a calibration profile's decode
    /// bandwidth by batch; 1 everywhere without one).
    pub memory_scale: [f64; BATCH_GRID],
    /// Whether KV-cache reads follow `memory_scale` too (true: they run at the decode
    /// bandwidth, as weights do; false: at a profile's attention rate, which already counts
    /// the whole batch's reads).
    pub kv_scales_with_batch: bool,
    /// What communication adds: tensor-parallel all-reduces, a pipeline's stages and hops.
    /// The fields above are then one stage's.
    pub comm: Comm,
}

impl StepCost {
    /// One step in which `batch` requests decode a token each, reading `kv_tokens` tokens of
    /// KV cache between them (and attending to as many), and `chunk` tokens of prompts of
    /// `prompt` tokens are prefilled. Memory time is scaled by the bandwidth at that batch
    /// (linear between the tabulated powers of two, the last one beyond them). The matrix
    /// products and attention are rooflines of their own, added: they run as separate
    /// kernels, so attention's KV reads do not hide under the products' FLOPs.
    /// A pipeline moves the batch in micro-batches, each through every stage and hop
    /// ([`Comm::cycle_s`]).
    #[inline]
    pub fn step_s_at(&self, batch: f64, kv_tokens: f64, chunk: f64, prompt: f64) -> f64 {
        let k = self.comm.micro_batches(batch);
        let (b, kv, ch) = (batch / k, kv_tokens / k, chunk / k);
        self.comm.cycle_s(self.stage_s(b, kv, ch, prompt), b + ch)
    }

    /// One stage's roofline for `batch` decoding tokens over `kv_tokens` and a `chunk` of
    /// prompts of `prompt` tokens.
    #[inline]
    fn stage_s(&self, batch: f64, kv_tokens: f64, chunk: f64, prompt: f64) -> f64 {
        let scale = self.scale(batch);
        let kv = self.kv_s_per_token * kv_tokens;
        let kv = if self.kv_scales_with_batch {
            kv * scale
        } else {
            kv
        };
        let pairs = kv_tokens + chunk * mean_pairs(prompt);
        let linear = (self.weights_s * scale)
            .max(self.flop_s_per_token * (batch + chunk) + self.head_flop_s * batch);
        linear + kv.max(self.attention_flop_s * pairs)
    }

    #[inline]
    fn scale(&self, batch: f64) -> f64 {
        let s = &self.memory_scale;
        if batch <= 1.0 {
            return s[0];
        }
        let i = (batch as u32).ilog2() as usize;
        if i + 1 >= BATCH_GRID {
            return s[BATCH_GRID - 1];
        }
        let lo = f64::from(1u32 << i);
        s[i] + (batch - lo) / lo * (s[i + 1] - s[i])
    }
}

/// Query-key pairs per token of a prompt of `prompt` tokens, on average over the prompt: under
/// the causal mask the i-th token attends to itself and the i - 1 before it, P (P + 1) / 2
/// pairs in all.
#[inline]
pub fn mean_pairs(prompt: f64) -> f64 {
    (prompt + 1.0) / 2.0
}

/// The served model, as the planner needs it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServedModel {
    /// Parameters, all of them: what the weights weigh.
    pub params: f64,
    /// Parameters that multiply every token: the transformer blocks, without the input
    /// embedding (a lookup) and the LM head.
    pub non_embedding_params: f64,
    /// Parameters of the LM head (vocabulary x hidden), multiplied once per output token.
    pub lm_head_params: f64,
    /// Transformer layers.
    pub layers: u32,
    /// Attention (query) heads: a tensor-parallel degree must divide them.
    pub attention_heads: u32,
    /// Dimension of one attention head.
    pub head_dim: u32,
    /// Bytes per parameter (the weight format's, unless the scenario gives its own).
    pub bytes_per_param: f64,
    /// How the weights are stored: the precision of the step's products (FLOP/s at the FP8
    /// peak for FP8 on a class with FP8 tensor cores, the BF16 peak for weight-only formats).
    pub weight_format: WeightFormat,
    /// KV-cache bytes per token (in the KV cache's format).
    pub kv_bytes_per_token: f64,
    /// Longest request (prompt + output), tokens.
    pub context_tokens: u32,
}

impl ServedModel {
    /// Bytes of weights.
    pub fn weight_bytes(&self) -> f64 {
        self.params * self.bytes_per_param
    }

    /// FLOPs of one query attending to one earlier token, over all layers: QK^T and the
    /// product with V, 2 x attention width (heads x head dimension) each.
    pub fn attention_flops_per_pair(&self) -> f64 {
        4.0 * f64::from(self.layers) * f64::from(self.attention_heads) * f64::from(self.head_dim)
    }

    /// Values of one token's activations between layers: query heads x head dimension, the
    /// hidden size of every model in the catalogue.
    pub fn activation_width(&self) -> f64 {
        f64::from(self.attention_heads) * f64::from(self.head_dim)
    }
}

/// How a group picks the tensor-parallel degree of its replicas, among the powers of two up
/// to its hosts' GPUs that divide the model's attention heads (an engine splits the heads
/// between the GPUs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TensorParallel {
    /// The smallest degree whose memory holds the weights and one full-context KV cache.
    Smallest,
    /// Of the degrees that hold them, the one whose replicas complete the most requests per
    /// second at full batches, for requests of `prompt` and `output` tokens (per GPU of the
    /// group: replicas that leave a host's GPUs idle count against it).
    Throughput {
        /// Prompt tokens of the mean request.
        prompt: f64,
        /// Output tokens of the mean request.
        output: f64,
    },
    /// This many GPUs a replica.
    Gpus(u32),
}

/// The batching policy of every replica.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchPolicy {
    /// Most requests in a replica at once (vLLM's `max_num_seqs`).
    pub max_batch: u32,
    /// Most tokens processed in one step (vLLM's `max_num_batched_tokens`).
    pub token_budget: u32,
    /// Share of GPU memory for the runtime, weights and KV cache (vLLM's
    /// `gpu_memory_utilization`).
    pub memory_utilisation: f64,
    /// Bytes of that share each GPU keeps for the runtime: activations, CUDA graphs, the
    /// CUDA context and libraries' workspaces.
    pub runtime_reserve_bytes: f64,
    /// How the tensor-parallel degree is picked.
    pub tensor_parallel: TensorParallel,
}

/// How one provider group serves the model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Serving {
    /// GPUs per replica (tensor parallel degree).
    pub tp: u32,
    /// Replicas the group can hold.
    pub replicas: u32,
    /// Most requests in a replica at once.
    pub max_batch: u32,
    /// Most tokens processed in one step.
    pub token_budget: f64,
    /// KV-cache capacity of a replica, tokens.
    pub kv_capacity_tokens: u64,
    /// Step cost of a replica.
    pub cost: StepCost,
}

/// The largest power of two up to `host` that divides `heads`: the most GPUs a replica can
/// have.
pub(crate) fn degrees_up_to(host: u32, heads: u32) -> u32 {
    let mut t = 1u32 << (31 - host.max(1).leading_zeros());
    while !heads.is_multiple_of(t) {
        t /= 2;
    }
    t
}

/// Why a group cannot serve the model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unfit {
    /// Memory wanted: weights plus one full-context KV cache, GB.
    pub need_gb: f64,
    /// Usable memory of the largest replica the group allows, GB.
    pub have_gb: f64,
    /// GPUs in that replica.
    pub gpus: u32,
}

/// The shape of a group's replicas, for [`Serving::of_shape`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Shape {
    /// GPUs per replica (all stages).
    pub(crate) tp: u32,
    /// Replicas the group holds.
    pub(crate) replicas: u32,
    /// KV-cache tokens one replica holds.
    pub(crate) kv_tokens: f64,
    /// Share of the layers one stage holds (1: the whole model).
    pub(crate) share: f64,
    /// Communication of each step.
    pub(crate) comm: Comm,
}

/// Bytes of one GPU's memory for weights and KV cache: the policy's share of what the driver
/// offers, less the runtime's reserve.
pub(crate) fn usable_per_gpu(class: &GpuClass, policy: &BatchPolicy) -> f64 {
    (class.memory_bytes() * policy.memory_utilisation - policy.runtime_reserve_bytes).max(0.0)
}

impl Serving {
    /// Plans the replicas of a group of `count` GPUs of `class`, `gpus_per_host` to a host
    /// joined by `link`, at the degree the policy's [`TensorParallel`] picks.
    pub fn plan(
        class: &GpuClass,
        (count, gpus_per_host): (u32, u32),
        link: &HostLink,
        model: &ServedModel,
        policy: &BatchPolicy,
        rates: &Rates,
    ) -> Result<Self, Unfit> {
        let host = count.min(gpus_per_host).max(1);
        let weights = model.weight_bytes();
        let full_request = model.kv_bytes_per_token * f64::from(model.context_tokens);
        let per_gpu = usable_per_gpu(class, policy);
        let usable = |tp: u32| f64::from(tp) * per_gpu;
        // KV tokens a replica of `t` GPUs holds; it must take one full-context request.
        let kv_tokens = |t: u32| ((usable(t) - weights) / model.kv_bytes_per_token).floor();
        let fits = |t: u32| kv_tokens(t) >= f64::from(model.context_tokens);
        let heads = model.attention_heads.max(1);
        let mut degrees = std::iter::successors(Some(1u32), |t| t.checked_mul(2))
            .take_while(|&t| t <= host)
            .filter(|&t| heads.is_multiple_of(t));
        let build = |t: u32| {
            let host_size = gpus_per_host.max(1);
            // Replicas never span hosts: whole hosts, then the last, partly filled one.
            let replicas = count / host_size * (host_size / t) + count % host_size / t;
            let layers = f64::from(model.layers);
            let comm = Comm::tensor_parallel(t, layers, model.activation_width(), link);
            let shape = Shape {
                tp: t,
                replicas,
                kv_tokens: kv_tokens(t),
                share: 1.0,
                comm,
            };
            Self::of_shape(&shape, model, policy, rates)
        };
        let chosen = match policy.tensor_parallel {
            TensorParallel::Smallest => degrees.find(|&t| fits(t)).map(build),
            TensorParallel::Throughput { prompt, output } => {
                degrees.filter(|&t| fits(t)).map(build).reduce(|best, s| {
                    // Per GPU of the group, which is the same count at every degree; ties
                    // (within rounding: compute-bound degrees tie exactly in the algebra)
                    // keep the smaller degree.
                    let (now, was) = (
                        s.capacity_rps(prompt, output),
                        best.capacity_rps(prompt, output),
                    );
                    let more = now > was * (1.0 + 1e-9);
                    if more { s } else { best }
                })
            }
            TensorParallel::Gpus(n) => {
                (n <= host && heads.is_multiple_of(n.max(1)) && fits(n)).then(|| build(n))
            }
        };
        let gpus = match policy.tensor_parallel {
            TensorParallel::Gpus(n) => n,
            _ => degrees_up_to(host, heads),
        };
        chosen.ok_or(Unfit {
            need_gb: (weights + full_request) / 1e9,
            have_gb: usable(gpus) / 1e9,
            gpus,
        })
    }

    /// Replicas of `shape`: `shape.tp` GPUs each, whose step (each stage's, for a pipeline)
    /// covers `shape.share` of the model's layers on `shape.tp / stages` GPUs.
    pub(crate) fn of_shape(
        shape: &Shape,
        model: &ServedModel,
        policy: &BatchPolicy,
        rates: &Rates,
    ) -> Self {
        let Shape {
            tp,
            replicas,
            kv_tokens,
            share,
            comm,
        } = *shape;
        let tpf = f64::from(tp) / comm.stages;
        let bandwidth = tpf * rates.bytes_per_s;
        let flops = tpf * rates.serving_flops(model.weight_format);
        Self {
            tp,
            replicas,
            max_batch: policy.max_batch,
            token_budget: f64::from(policy.token_budget),
            kv_capacity_tokens: kv_tokens.min(u64::MAX as f64 / 2.0) as u64,
            cost: StepCost {
                weights_s: share * model.weight_bytes() / bandwidth,
                kv_s_per_token: share * model.kv_bytes_per_token
                    / rates.kv_bytes_per_s.map_or(bandwidth, |kv| tpf * kv),
                flop_s_per_token: share * 2.0 * model.non_embedding_params / flops,
                head_flop_s: share * 2.0 * model.lm_head_params / flops,
                // Attention runs in 16 bits whatever the weights' format (FlashAttention's
                // kernels; W8A8 quantises only the linear layers' products).
                attention_flop_s: share * model.attention_flops_per_pair() / (tpf * rates.flops),
                memory_scale: rates.memory_scale,
                kv_scales_with_batch: rates.kv_bytes_per_s.is_none(),
                comm,
            },
        }
    }

    /// Pipeline stages of a replica (1: one host).
    pub fn stages(&self) -> u32 {
        self.cost.comm.stages as u32
    }

    /// One request at a time per GPU, for drawn service times: a step is one second of work.
    pub fn single_server(count: u32) -> Self {
        Self {
            tp: 1,
            replicas: count,
            max_batch: 1,
            token_budget: f64::INFINITY,
            kv_capacity_tokens: u64::MAX,
            cost: StepCost {
                weights_s: 1.0,
                kv_s_per_token: 0.0,
                flop_s_per_token: 0.0,
                head_flop_s: 0.0,
                attention_flop_s: 0.0,
                memory_scale: [1.0; BATCH_GRID],
                kv_scales_with_batch: true,
                comm: Comm::NONE,
            },
        }
    }

    /// Requests a replica holds at once when each reserves `reserve` tokens of KV cache.
    pub fn batch_limit(&self, reserve: f64) -> f64 {
        let by_memory = if reserve > 0.0 {
            (self.kv_capacity_tokens as f64 / reserve).floor()
        } else {
            f64::INFINITY
        };
        f64::from(self.max_batch).min(by_memory).max(1.0)
    }

    /// Requests per second one replica completes at batch `b` in steady state: each step
    /// decodes a token of every request and prefills the prompts that replace those that
    /// finish, within the token budget (which caps completions when prompts are long). Every
    /// prompt is taken to be `prompt` tokens long: attention grows with the square of the
    /// length, so prompts of spread-out lengths with that mean cost somewhat more.
    pub fn replica_rps(&self, prompt: f64, output: f64, b: f64) -> f64 {
        let (per_step, step) = self.steady(prompt, output, b);
        per_step / step
    }

    /// A replica's step at batch `b` in steady state, s: the time per output token its
    /// decoding requests see.
    pub fn steady_step_s(&self, prompt: f64, output: f64, b: f64) -> f64 {
        self.steady(prompt, output, b).1
    }

    /// Requests completed per step, and the step's time, at batch `b` in steady state.
    fn steady(&self, prompt: f64, output: f64, b: f64) -> (f64, f64) {
        let decode = (output - 1.0).max(1.0);
        let by_decode = b / decode;
        let per_step = if prompt > 0.0 {
            by_decode.min((self.token_budget - b).max(0.0) / prompt)
        } else {
            by_decode
        };
        let chunk = per_step * prompt;
        let kv = b * (prompt + output / 2.0);
        (per_step, self.cost.step_s_at(b, kv, chunk, prompt))
    }

    /// Requests per second the whole group completes with full batches.
    pub fn capacity_rps(&self, prompt: f64, output: f64) -> f64 {
        let b = self.batch_limit(prompt + output);
        f64::from(self.replicas) * self.replica_rps(prompt, output, b)
    }

    /// GPU-seconds one request takes on a replica running at batch `b`.
    pub fn gpu_seconds_per_request(&self, prompt: f64, output: f64, b: f64) -> f64 {
        f64::from(self.tp) / self.replica_rps(prompt, output, b)
    }

    /// Latency of a request served alone: its prefill, then one step per further token.
    pub fn alone_s(&self, prompt: f64, output: f64) -> f64 {
        let load = prompt + output / 2.0;
        let prefill = self.cost.step_s_at(0.0, 0.0, prompt, prompt);
        prefill + (output - 1.0).max(0.0) * self.cost.step_s_at(1.0, load, 0.0, 0.0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::physics::catalogue::find_model;
    use crate::physics::gpu::find_class;

    /// An 8B model with Llama 3 8B's shape and round counts: 8e9 parameters, 7e9 of them in
    /// the transformer blocks and 0.5e9 in the LM head; 32 layers of attention width 4096.
    pub(crate) fn llama8b() -> ServedModel {
        let m = find_model("llama-3-8b").expect("catalogued");
        ServedModel {
            params: 8e9,
            non_embedding_params: 7e9,
            lm_head_params: 0.5e9,
            layers: m.layers,
            attention_heads: m.heads,
            head_dim: m.head_dim,
            bytes_per_param: 2.0,
            weight_format: WeightFormat::Bf16,
            kv_bytes_per_token: m.kv_bytes_per_token(),
            context_tokens: m.context_tokens,
        }
    }

    /// A host link that costs nothing, for the tests of the plan's choices.
    pub(crate) const FREE: HostLink = HostLink {
        bytes_per_s: f64::INFINITY,
        latency_s: 0.0,
    };

    const MIB: f64 = 1_048_576.0;
    const GIB: f64 = 1_073_741_824.0;

    const POLICY: BatchPolicy = BatchPolicy {
        max_batch: 256,
        token_budget: 2048,
        memory_utilisation: 0.9,
        runtime_reserve_bytes: 1.5 * GIB,
        tensor_parallel: TensorParallel::Smallest,
    };

    pub(crate) fn plan(
        gpu: &str,
        count: u32,
        host: u32,
        model: &ServedModel,
    ) -> Result<Serving, Unfit> {
        let class = find_class(gpu).expect("class");
        Serving::plan(
            class,
            (count, host),
            &FREE,
            model,
            &POLICY,
            &Rates::efficiency(class, 0.8, 0.9),
        )
    }

    #[test]
    fn plan_picks_the_smallest_tensor_parallel_degree_that_fits() {
        // 8B in BF16 (16 GB) fits one H100: 90% of its 81,559 MiB less the 1.5 GiB reserve
        // is 75.4 GB, 59.4 GB of it left for the KV cache.
        let s = plan("h100_sxm", 8, 8, &llama8b()).expect("fits");
        assert_eq!((s.tp, s.replicas), (1, 8));
        let per_gpu = 81_559.0 * MIB * 0.9 - 1.5 * GIB;
        assert_eq!(s.kv_capacity_tokens, ((per_gpu - 16e9) / 131_072.0) as u64);
        // 70B in BF16 (140 GB) needs two H100s (150.7 GB usable, 2.7 GB of KV for an 8k
        // context at 320 KiB a token).
        let big = ServedModel {
            params: 70e9,
            kv_bytes_per_token: 327_680.0,
            ..llama8b()
        };
        let s = plan("h100_sxm", 8, 8, &big).expect("fits");
        assert_eq!((s.tp, s.replicas), (2, 4));
        // ...and cannot be served by gaming cards one to a host.
        let e = plan("rtx_4090", 64, 1, &big).expect_err("too big");
        assert_eq!(e.gpus, 1);
        let want = (24_564.0 * MIB * 0.9 - 1.5 * GIB) / 1e9;
        assert!((e.have_gb - want).abs() < 1e-9 && (want - 21.57).abs() < 0.01);
    }

    #[test]
    fn throughput_picks_the_degree_with_the_most_requests_per_second() {
        // 70B on a host of 8 H100s: two GPUs hold it with room for 32,703 KV tokens (27
        // requests of 1,000 + 200), four hold 256 (the batch cap), and eight the same 256 at
        // twice the speed in half as many replicas: a tie, which keeps the smaller degree.
        let big = ServedModel {
            params: 70e9,
            non_embedding_params: 68e9,
            lm_head_params: 1e9,
            layers: 80,
            attention_heads: 64,
            kv_bytes_per_token: 327_680.0,
            ..llama8b()
        };
        let class = find_class("h100_sxm").expect("class");
        let rates = Rates::efficiency(class, 0.8, 0.9);
        let at = |tensor_parallel: TensorParallel| {
            let policy = BatchPolicy {
                tensor_parallel,
                ..POLICY
            };
            Serving::plan(class, (8, 8), &FREE, &big, &policy, &rates)
        };
        let (prompt, output) = (1000.0, 200.0);
        let capacity = |t: u32| {
            at(TensorParallel::Gpus(t))
                .expect("fits")
                .capacity_rps(prompt, output)
        };
        assert!(at(TensorParallel::Gpus(1)).is_err());
        assert_eq!(at(TensorParallel::Smallest).expect("fits").tp, 2);
        assert_eq!(
            at(TensorParallel::Gpus(2))
                .expect("fits")
                .batch_limit(1200.0),
            27.0
        );
        assert!(capacity(4) > capacity(2), "{} {}", capacity(4), capacity(2));
        assert_eq!(capacity(8), capacity(4));
        let best = at(TensorParallel::Throughput { prompt, output }).expect("fits");
        assert_eq!((best.tp, best.replicas), (4, 2));
        // On A100s the compute-bound degrees tie in the algebra and differ only by rounding:
        // the choice is the smallest degree within rounding of the best.
        let a100 = find_class("a100_80gb_sxm").expect("class");
        let a100_rates = Rates::efficiency(a100, 0.8, 0.9);
        for (prompt, output) in [
            (1000.0, 200.0),
            (200.0, 1000.0),
            (2000.0, 100.0),
            (500.0, 500.0),
        ] {
            let plan = |tensor_parallel| {
                let policy = BatchPolicy {
                    tensor_parallel,
                    ..POLICY
                };
                Serving::plan(a100, (8, 8), &FREE, &big, &policy, &a100_rates)
            };
            let caps: Vec<(u32, f64)> = [2, 4, 8]
                .into_iter()
                .filter_map(|t| {
                    plan(TensorParallel::Gpus(t))
                        .ok()
                        .map(|s| (t, s.capacity_rps(prompt, output)))
                })
                .collect();
            let top = caps.iter().map(|c| c.1).fold(0.0, f64::max);
            let want = caps
                .iter()
                .find(|c| c.1 >= top * (1.0 - 1e-9))
                .expect("one fits")
                .0;
            let got = plan(TensorParallel::Throughput { prompt, output })
                .expect("fits")
                .tp;
            assert_eq!(got, want, "{prompt}/{output}: {caps:?}");
        }
        // A degree that does not divide the heads is never taken; one above the host is unfit.
        let odd = ServedModel {
            attention_heads: 28,
            ..big
        };
        let policy = BatchPolicy {
            tensor_parallel: TensorParallel::Throughput { prompt, output },
            ..POLICY
        };
        let s = Serving::plan(class, (8, 8), &FREE, &odd, &policy, &rates).expect("fits");
        assert_eq!(s.tp, 4);
        let e = Serving::plan(
            class,
            (4, 4),
            &FREE,
            &big,
            &BatchPolicy {
                tensor_parallel: TensorParallel::Gpus(8),
                ..POLICY
            },
            &rates,
        );
        assert_eq!(e.expect_err("no host of 8").gpus, 8);
    }

    #[test]
    fn tensor_parallel_steps_pay_two_all_reduces_a_layer() {
        // 70B (80 layers of 64 heads x 128) on four H100s joined by NVLink, 450 GB/s a
        // direction and 1 us a ring step. A decode step of 256 tokens adds 160 all-reduces of
        // 256 x 8192 x 2 bytes, each 2 x 3 ring steps of a quarter: 160 x (6 us + 1.5 x
        // 4,194,304 / 450e9 s) = 0.96 ms + 2.237 ms, to the same step without them.
        let big = ServedModel {
            params: 70e9,
            non_embedding_params: 68e9,
            lm_head_params: 1e9,
            layers: 80,
            attention_heads: 64,
            kv_bytes_per_token: 327_680.0,
            ..llama8b()
        };
        let class = find_class("h100_sxm").expect("class");
        let rates = Rates::efficiency(class, 0.8, 0.9);
        let policy = BatchPolicy {
            tensor_parallel: TensorParallel::Gpus(4),
            ..POLICY
        };
        let nvlink = HostLink {
            bytes_per_s: 450e9,
            latency_s: 1e-6,
        };
        let plan = |link: &HostLink| {
            Serving::plan(class, (8, 8), link, &big, &policy, &rates).expect("fits")
        };
        let (free, paid) = (plan(&FREE), plan(&nvlink));
        let at = |s: &Serving| s.cost.step_s_at(256.0, 256.0 * 1100.0, 0.0, 0.0);
        let want = 160.0 * (6e-6 + 1.5 * 256.0 * 8192.0 * 2.0 / 450e9);
        assert!(
            (at(&paid) - at(&free) - want).abs() < 1e-12,
            "{}",
            at(&paid) - at(&free)
        );
        // One GPU pays nothing: 8B on one H100 steps as before.
        let small = |link: &HostLink| {
            Serving::plan(class, (8, 8), link, &llama8b(), &POLICY, &rates).expect("fits")
        };
        assert_eq!(small(&nvlink).cost, small(&FREE).cost);
    }

    #[test]
    fn replicas_never_span_hosts() {
        // 70B at 80% memory needs four H100s (two hold 133.6 GB < 141 GB of weights); two
        // hosts of six GPUs hold one such replica each, not three between them.
        let big = ServedModel {
            params: 70.6e9,
            kv_bytes_per_token: 327_680.0,
            ..llama8b()
        };
        let policy = BatchPolicy {
            memory_utilisation: 0.8,
            ..POLICY
        };
        let class = find_class("h100_sxm").expect("class");
        let s = Serving::plan(
            class,
            (12, 6),
            &FREE,
            &big,
            &policy,
            &Rates::efficiency(class, 0.8, 0.9),
        )
        .expect("fits");
        assert_eq!((s.tp, s.replicas), (4, 2));
        // A partly filled last host still holds what fits in it: 8 + 4 GPUs in hosts of 8.
        let s = Serving::plan(
            class,
            (12, 8),
            &FREE,
            &big,
            &policy,
            &Rates::efficiency(class, 0.8, 0.9),
        )
        .expect("fits");
        assert_eq!(s.replicas, 3);
    }

    #[test]
    fn kv_reads_at_an_attention_rate_are_not_scaled_by_batch() {
        let class = find_class("h100_sxm").expect("class");
        let model = llama8b();
        let mut rates = Rates::efficiency(class, 0.8, 0.9);
        rates.memory_scale = [1.0, 1.0, 1.5, 2.0, 2.0, 2.0, 2.0, 2.0, 4.0];
        let decode = plan_with(class, &model, &rates).cost;
        rates.kv_bytes_per_s = Some(1.5e12);
        let attn = plan_with(class, &model, &rates).cost;
        // Weights as before; KV at the attention rate.
        assert_eq!(attn.weights_s, decode.weights_s);
        assert!((attn.kv_s_per_token - model.kv_bytes_per_token / 1.5e12).abs() < 1e-24);
        assert!(!attn.kv_scales_with_batch && decode.kv_scales_with_batch);
        // At batch 4 (scale 1.5) with 10,000 cached tokens, by hand.
        let (w, kv) = (attn.weights_s, attn.kv_s_per_token * 1e4);
        assert!((attn.step_s_at(4.0, 1e4, 0.0, 0.0) - (1.5 * w + kv)).abs() < 1e-15);
        let (w, kv) = (decode.weights_s, decode.kv_s_per_token * 1e4);
        assert!((decode.step_s_at(4.0, 1e4, 0.0, 0.0) - 1.5 * (w + kv)).abs() < 1e-15);
    }

    fn plan_with(class: &GpuClass, model: &ServedModel, rates: &Rates) -> Serving {
        Serving::plan(class, (1, 1), &FREE, model, &POLICY, rates).expect("fits")
    }

    #[test]
    fn memory_time_follows_the_profile_by_batch_between_powers_of_two() {
        let flat = plan("h100_sxm", 1, 1, &llama8b()).expect("fits").cost;
        let cost = StepCost {
            memory_scale: [1.0, 1.0, 1.5, 2.0, 2.0, 2.0, 2.0, 2.0, 4.0],
            ..flat
        };
        // Memory alone: the same step without its FLOPs.
        let memory = StepCost {
            flop_s_per_token: 0.0,
            head_flop_s: 0.0,
            attention_flop_s: 0.0,
            ..cost
        };
        let mem = |b: f64| memory.step_s_at(b, 0.0, 0.0, 0.0) / cost.weights_s;
        assert_eq!(mem(1.0), 1.0);
        assert_eq!(mem(4.0), 1.5);
        // Linear between 4 and 8: halfway at 6.
        assert!((mem(6.0) - 1.75).abs() < 1e-12);
        assert_eq!(mem(8.0), 2.0);
        assert_eq!(mem(256.0), 4.0);
        assert_eq!(mem(1000.0), 4.0);
        // Compute-bound steps do not change.
        let chunk = flat.step_s_at(4.0, 0.0, 2044.0, 2044.0);
        assert_eq!(cost.step_s_at(4.0, 0.0, 2044.0, 2044.0), chunk);
    }

    #[test]
    fn step_time_is_the_roofline_of_weights_kv_and_tokens() {
        let s = plan("h100_sxm", 1, 1, &llama8b()).expect("fits");
        let bw = 3.35e12 * 0.9;
        let flops = 989e12 * 0.8;
        // Decode at batch 1 with a 1,000-token context: memory-bound.
        let want = (16e9 + 1000.0 * 131_072.0) / bw;
        assert!((s.cost.step_s_at(1.0, 1000.0, 0.0, 0.0) - want).abs() < 1e-15);
        // A 2,048-token prompt in one chunk: compute-bound, 2N a token for the 7e9
        // non-embedding parameters (no LM head: no token is sampled from a prompt token) and
        // the causal attention, 4 x 32 layers x 4096 FLOPs for each of 2048 x 2049 / 2 pairs.
        let prefill = 2.0 * 7e9 * 2048.0 + 4.0 * 32.0 * 4096.0 * 2048.0 * 2049.0 / 2.0;
        let got = s.cost.step_s_at(0.0, 0.0, 2048.0, 2048.0);
        assert!((got / (prefill / flops) - 1.0).abs() < 1e-12, "{got}");
    }

    #[test]
    fn a_decode_step_counts_the_lm_head_and_attention_over_the_context() {
        let s = plan("h100_sxm", 1, 1, &llama8b()).expect("fits");
        let flops = 989e12 * 0.8;
        // The compute side alone (no memory time): 256 requests decoding over 300,000 cached
        // tokens and a 500-token chunk of a 1,000-token prompt.
        let compute = StepCost {
            weights_s: 0.0,
            kv_s_per_token: 0.0,
            ..s.cost
        };
        let want = 2.0 * 7e9 * (256.0 + 500.0)
            + 2.0 * 0.5e9 * 256.0
            + 4.0 * 32.0 * 4096.0 * (300_000.0 + 500.0 * 1001.0 / 2.0);
        let got = compute.step_s_at(256.0, 300_000.0, 500.0, 1000.0);
        assert!((got / (want / flops) - 1.0).abs() < 1e-12, "{got}");
        // Attention over the context is 524,288 FLOPs per cached token against its 131,072 KV
        // bytes: 4 FLOPs a byte, far left of an H100's ridge (~262 FLOP/byte), so decode stays
        // memory-bound.
        assert_eq!(llama8b().attention_flops_per_pair() / 131_072.0, 4.0);
    }

    /// FP8 weights and KV cache on an H100 (W8A8, as TensorRT-LLM serves FP8): a byte a
    /// weight and a byte a cached element, the linear layers' products at the FP8 peak
    /// (1,979 TFLOP/s dense), attention's at the BF16 one.
    #[test]
    fn an_fp8_step_reads_half_the_bytes_and_multiplies_at_the_fp8_peak() {
        let fp8 = ServedModel {
            bytes_per_param: 1.0,
            weight_format: WeightFormat::Fp8,
            kv_bytes_per_token: 65_536.0,
            ..llama8b()
        };
        let s = plan("h100_sxm", 1, 1, &fp8).expect("fits");
        let bf16 = plan("h100_sxm", 1, 1, &llama8b()).expect("fits");
        let (bw, flops) = (3.35e12 * 0.9, 1979e12 * 0.8);
        assert!((s.cost.weights_s - 8e9 / bw).abs() < 1e-15);
        assert!((s.cost.kv_s_per_token - 65_536.0 / bw).abs() < 1e-20);
        assert!((s.cost.flop_s_per_token - 2.0 * 7e9 / flops).abs() < 1e-20);
        // Attention stays at the BF16 peak (989 TFLOP/s dense): W8A8 quantises the linear
        // layers' products only.
        let bf16_flops = 989e12 * 0.8;
        assert!(
            (s.cost.attention_flop_s * bf16_flops / fp8.attention_flops_per_pair() - 1.0).abs()
                < 1e-12
        );
        // Half the weights leave room for more KV tokens, and each takes half the bytes.
        let per_gpu = 81_559.0 * MIB * 0.9 - 1.5 * GIB;
        assert_eq!(s.kv_capacity_tokens, ((per_gpu - 8e9) / 65_536.0) as u64);
        assert!(s.kv_capacity_tokens > 2 * bf16.kv_capacity_tokens);
        // A prompt in one chunk is compute-bound: its products twice as fast, its attention
        // (4 x 32 x 4,096 FLOPs a pair of 2,048 x 2,049 / 2 pairs) as fast. Decode at batch 1
        // is memory-bound: twice as fast.
        let (p, b) = (2048.0, 2048.0);
        let (products, attention) = (2.0 * 7e9 * p, 4.0 * 32.0 * 4096.0 * p * (p + 1.0) / 2.0);
        let want = ((products + attention) / 989.0) / (products / 1979.0 + attention / 989.0);
        let ratio = bf16.cost.step_s_at(0.0, 0.0, p, p) / s.cost.step_s_at(0.0, 0.0, p, p);
        assert!((ratio / want - 1.0).abs() < 1e-4, "{ratio} {want}");
        let ratio = bf16.cost.step_s_at(1.0, b, 0.0, 0.0) / s.cost.step_s_at(1.0, b, 0.0, 0.0);
        assert!((ratio - 2.0).abs() < 1e-9, "{ratio}");
        // On an A100 (no FP8 tensor cores) FP8 weights are dequantised: the BF16 peak.
        let a100 = plan("a100_80gb_sxm", 1, 1, &fp8).expect("fits");
        assert!((a100.cost.flop_s_per_token - 2.0 * 7e9 / (312e12 * 0.8)).abs() < 1e-20);
    }

    /// At a large batch the products are compute-bound and attention is bound by its reads
    /// of the KV cache: the two times add.
    #[test]
    fn products_and_attention_are_rooflines_of_their_own() {
        let s = plan("h100_sxm", 1, 1, &llama8b()).expect("fits");
        let (bw, flops) = (3.35e12 * 0.9, 989e12 * 0.8);
        // 256 requests decoding over 300,000 cached tokens and a 500-token chunk of a
        // 1,000-token prompt. Products: 2 x 7e9 x 756 + 2 x 0.5e9 x 256 FLOPs = 13.7 ms
        // against 16e9 bytes = 5.3 ms of weights. Attention: 300,000 x 131,072 bytes =
        // 13.0 ms of reads against 4 x 32 x 4096 x (300,000 + 500 x 1001 / 2) FLOPs = 0.36 ms.
        let products = (2.0 * 7e9 * 756.0 + 2.0 * 0.5e9 * 256.0) / flops;
        let attention = 300_000.0 * 131_072.0 / bw;
        assert!(products > 16e9 / bw);
        assert!(attention > 4.0 * 32.0 * 4096.0 * (300_000.0 + 500.0 * 500.5) / flops);
        let got = s.cost.step_s_at(256.0, 300_000.0, 500.0, 1000.0);
        assert!((got / (products + attention) - 1.0).abs() < 1e-12, "{got}");
        // One roofline over the whole step would have taken the larger, 13.7 ms.
        assert!(got > 1.9 * products.max(attention));
    }

    #[test]
    fn capacity_grows_with_batch_until_memory_or_compute_binds() {
        let s = plan("h100_sxm", 1, 1, &llama8b()).expect("fits");
        let r1 = s.replica_rps(1000.0, 200.0, 1.0);
        let r32 = s.replica_rps(1000.0, 200.0, 32.0);
        assert!(r32 > 10.0 * r1, "{r1} {r32}");
        // GPU time per request falls as the batch grows.
        assert!(
            s.gpu_seconds_per_request(1000.0, 200.0, 32.0)
                < s.gpu_seconds_per_request(1000.0, 200.0, 1.0) / 10.0
        );
    }
}
