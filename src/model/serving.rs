//! Serving a model with continuous batching: how a provider group is cut into replicas, how
//! long one engine step takes, and the run-time state of one replica.
//!
//! A replica is `tp` GPUs of one host holding one copy of the weights (tensor parallel only
//! inside a host); it uses the smallest `tp` whose memory, at the scenario's memory
//! utilisation, holds the weights and one full-context request's KV cache. Each engine step
//! (iteration-level scheduling, as in Orca and vLLM) reads the weights and the KV cache of
//! the running requests once and processes one token of each running request plus a chunk of
//! waiting prompts (chunked prefill, as in Sarathi-Serve and vLLM), within a token budget:
//!
//! ```text
//! step = max((weights + KV bytes read) / bandwidth, 2 N x tokens / FLOP/s)
//! ```
//!
//! Between events the batch is constant, so every running request advances at one token per
//! step and the waiting prompts at `chunk` tokens per step: the replica is a fluid model with
//! piecewise-constant rates, and only admissions, first tokens and completions are events.
//! Each request's KV cache (prompt + output) is reserved when it is admitted, so a batch
//! never outgrows memory and nothing is preempted for space; a running request's KV read
//! counts its mean context, prompt + output / 2.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use crate::engine::{SimTime, to_secs};

use super::gpu::GpuClass;
use crate::calibration::{BATCH_GRID, Rates};

/// Steps after which a replica counts its steps afresh (keeps completion times exact to
/// well under a token).
const REBASE_STEPS: f64 = 1e6;

/// Cost of one engine step, in seconds per unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepCost {
    /// Reading the weights once.
    pub weights_s: f64,
    /// Reading one token's KV cache.
    pub kv_s_per_token: f64,
    /// Processing one token (2N FLOPs).
    pub flop_s_per_token: f64,
    /// Memory time at batch 2^i relative to batch 1 (from a calibration profile's decode
    /// bandwidth by batch; 1 everywhere without one).
    pub memory_scale: [f64; BATCH_GRID],
    /// Whether KV-cache reads follow `memory_scale` too (true: they run at the decode
    /// bandwidth, as weights do; false: at a profile's attention rate, which already counts
    /// the whole batch's reads).
    pub kv_scales_with_batch: bool,
}

impl StepCost {
    /// One step at batch 1 that reads `kv_tokens` tokens of KV cache and processes `tokens`
    /// tokens.
    #[inline]
    pub fn step_s(&self, kv_tokens: f64, tokens: f64) -> f64 {
        self.step_s_at(1.0, kv_tokens, tokens)
    }

    /// The same with `batch` requests decoding: memory time scaled by the bandwidth at that
    /// batch (linear between the tabulated powers of two, the last one beyond them).
    #[inline]
    pub fn step_s_at(&self, batch: f64, kv_tokens: f64, tokens: f64) -> f64 {
        let scale = self.scale(batch);
        let kv = self.kv_s_per_token * kv_tokens;
        let memory = if self.kv_scales_with_batch {
            (self.weights_s + kv) * scale
        } else {
            self.weights_s * scale + kv
        };
        memory.max(self.flop_s_per_token * tokens)
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

/// The served model, as the planner needs it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServedModel {
    /// Parameters.
    pub params: f64,
    /// Bytes per parameter.
    pub bytes_per_param: f64,
    /// KV-cache bytes per token.
    pub kv_bytes_per_token: f64,
    /// Longest request (prompt + output), tokens.
    pub context_tokens: u32,
}

impl ServedModel {
    /// Bytes of weights.
    pub fn weight_bytes(&self) -> f64 {
        self.params * self.bytes_per_param
    }
}

/// The batching policy of every replica.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchPolicy {
    /// Most requests in a replica at once (vLLM's `max_num_seqs`).
    pub max_batch: u32,
    /// Most tokens processed in one step (vLLM's `max_num_batched_tokens`).
    pub token_budget: u32,
    /// Share of GPU memory for weights and KV cache (vLLM's `gpu_memory_utilization`).
    pub memory_utilisation: f64,
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

impl Serving {
    /// Plans the replicas of a group of `count` GPUs of `class`, `gpus_per_host` to a host.
    pub fn plan(
        class: &GpuClass,
        count: u32,
        gpus_per_host: u32,
        model: &ServedModel,
        policy: &BatchPolicy,
        rates: &Rates,
    ) -> Result<Self, Unfit> {
        let host = count.min(gpus_per_host).max(1);
        let weights = model.weight_bytes();
        let full_request = model.kv_bytes_per_token * f64::from(model.context_tokens);
        let usable = |tp: u32| f64::from(tp) * class.vram_gb * 1e9 * policy.memory_utilisation;
        let largest = 1u32 << (31 - host.leading_zeros());
        // KV tokens a replica of `t` GPUs holds; it must take one full-context request.
        let kv_tokens = |t: u32| ((usable(t) - weights) / model.kv_bytes_per_token).floor();
        let tp = std::iter::successors(Some(1u32), |t| t.checked_mul(2))
            .take_while(|&t| t <= host)
            .find(|&t| kv_tokens(t) >= f64::from(model.context_tokens))
            .ok_or(Unfit {
                need_gb: (weights + full_request) / 1e9,
                have_gb: usable(largest) / 1e9,
                gpus: largest,
            })?;
        let tpf = f64::from(tp);
        let bandwidth = tpf * rates.bytes_per_s;
        let flops = tpf * rates.flops;
        // Replicas never span hosts: whole hosts, then the last, partly filled one.
        let host_size = gpus_per_host.max(1);
        let replicas = count / host_size * (host_size / tp) + count % host_size / tp;
        Ok(Self {
            tp,
            replicas,
            max_batch: policy.max_batch,
            token_budget: f64::from(policy.token_budget),
            kv_capacity_tokens: kv_tokens(tp).min(u64::MAX as f64 / 2.0) as u64,
            cost: StepCost {
                weights_s: weights / bandwidth,
                kv_s_per_token: model.kv_bytes_per_token
                    / rates.kv_bytes_per_s.map_or(bandwidth, |kv| tpf * kv),
                flop_s_per_token: 2.0 * model.params / flops,
                memory_scale: rates.memory_scale,
                kv_scales_with_batch: rates.kv_bytes_per_s.is_none(),
            },
        })
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
                memory_scale: [1.0; BATCH_GRID],
                kv_scales_with_batch: true,
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
    /// finish, within the token budget (which caps completions when prompts are long).
    pub fn replica_rps(&self, prompt: f64, output: f64, b: f64) -> f64 {
        let decode = (output - 1.0).max(1.0);
        let by_decode = b / decode;
        let per_step = if prompt > 0.0 {
            by_decode.min((self.token_budget - b).max(0.0) / prompt)
        } else {
            by_decode
        };
        let tokens = b + per_step * prompt;
        let step = self.cost.step_s_at(b, b * (prompt + output / 2.0), tokens);
        per_step / step
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
        self.cost.step_s(0.0, prompt) + (output - 1.0).max(0.0) * self.cost.step_s(load, 1.0)
    }
}

/// A request's work on a replica.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Work {
    /// Slab slot of the request.
    pub slot: u32,
    /// Prompt tokens to prefill (0: none, the first token comes at admission).
    pub prompt: f64,
    /// Decode steps after the first token (or seconds of service, for drawn times).
    pub decode: f64,
    /// KV tokens read per step while running (mean context).
    pub load: f64,
    /// KV tokens reserved while admitted.
    pub reserve: u64,
}

/// A running request, ordered by when it finishes (earliest first in the max-heap).
#[derive(Clone, Copy, Debug)]
struct Running {
    finish: f64,
    work: Work,
}

impl PartialEq for Running {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Running {}
impl PartialOrd for Running {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Running {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .finish
            .total_cmp(&self.finish)
            .then(other.work.slot.cmp(&self.work.slot))
    }
}

/// What changed when a replica was brought up to date.
#[derive(Debug, Default)]
pub struct Settled {
    /// Requests whose first token came out.
    pub first: Vec<u32>,
    /// Requests that finished.
    pub done: Vec<u32>,
}

impl Settled {
    /// Forgets the last changes.
    pub fn clear(&mut self) {
        self.first.clear();
        self.done.clear();
    }
}

/// Run-time state of one replica.
#[derive(Clone, Debug, Default)]
pub struct Replica {
    /// Pool the replica belongs to.
    pub pool: u32,
    /// Time of its pending event, if any: an event at another time is stale.
    pub next_at: Option<SimTime>,
    /// Position in its pool's list of active replicas.
    pub pos: u32,
    prefill: VecDeque<Work>,
    /// Prompt tokens left of the head of `prefill`.
    head_left: f64,
    /// Prompt tokens left over all of `prefill`.
    prefill_left: f64,
    running: BinaryHeap<Running>,
    /// Decode steps every running request has taken since the replica became active.
    v: f64,
    kv_reserved: u64,
    kv_load: f64,
    last: SimTime,
    step_s: f64,
    chunk: f64,
}

impl Replica {
    /// An idle replica of pool `pool`.
    pub fn new(pool: u32) -> Self {
        Self {
            pool,
            ..Self::default()
        }
    }

    /// Requests admitted (prefilling or running).
    #[inline]
    pub fn len(&self) -> usize {
        self.prefill.len() + self.running.len()
    }

    /// Whether no request is admitted.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Requests decoding (the batch).
    #[inline]
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Whether a request reserving `reserve` KV tokens can be admitted now.
    #[inline]
    pub fn has_room(&self, serving: &Serving, reserve: u64) -> bool {
        self.len() < serving.max_batch as usize
            && self.kv_reserved.saturating_add(reserve) <= serving.kv_capacity_tokens
    }

    /// Starts an idle replica at `now`.
    pub fn activate(&mut self, now: SimTime) {
        debug_assert!(self.is_empty());
        self.v = 0.0;
        self.last = now;
        self.step_s = 0.0;
        self.chunk = 0.0;
        self.next_at = None;
    }

    /// Brings the replica up to `now`, reporting first tokens and completions in `out`.
    pub fn advance(&mut self, now: SimTime, out: &mut Settled) {
        let dt = to_secs(now - self.last);
        self.last = now;
        if self.step_s > 0.0 && dt > 0.0 {
            let steps = dt / self.step_s;
            if !self.running.is_empty() {
                self.v += steps;
            }
            if self.chunk > 0.0 {
                let tokens = steps * self.chunk;
                self.head_left -= tokens;
                self.prefill_left -= tokens;
            }
        }
        if self.v > REBASE_STEPS {
            self.rebase();
        }
        // Completions: those due by now, allowing for the nanosecond rounding of event times.
        let tol = 1e-9 * (1.0 + self.v);
        while let Some(top) = self.running.peek() {
            if top.finish > self.v + tol {
                break;
            }
            let w = top.work;
            self.running.pop();
            self.kv_reserved -= w.reserve;
            self.kv_load -= w.load;
            out.done.push(w.slot);
        }
        if self.running.is_empty() {
            self.kv_load = 0.0;
        }
        // First tokens: prompts fully processed.
        while let Some(&head) = self.prefill.front() {
            if self.head_left > 1e-9 * (1.0 + head.prompt) {
                break;
            }
            self.prefill.pop_front();
            let carry = (-self.head_left).max(0.0);
            self.head_left = self.prefill.front().map_or(0.0, |n| n.prompt - carry);
            if self.prefill.is_empty() {
                self.prefill_left = 0.0;
            }
            out.first.push(head.slot);
            self.start_decode(head, out);
        }
    }

    /// Counts steps from now on, so that a replica that never empties keeps its precision.
    fn rebase(&mut self) {
        let v = self.v;
        let mut batch = std::mem::take(&mut self.running).into_vec();
        for r in &mut batch {
            r.finish -= v;
        }
        self.running = BinaryHeap::from(batch);
        self.v = 0.0;
    }

    fn start_decode(&mut self, w: Work, out: &mut Settled) {
        if w.decode <= 0.0 {
            self.kv_reserved -= w.reserve;
            out.done.push(w.slot);
            return;
        }
        if self.running.is_empty() {
            self.v = 0.0;
        }
        self.kv_load += w.load;
        self.running.push(Running {
            finish: self.v + w.decode,
            work: w,
        });
    }

    /// Admits `w` at the time of the last [`Replica::advance`]; a request with no prompt to
    /// prefill starts decoding at once and is reported in `out.first`.
    pub fn admit(&mut self, w: Work, out: &mut Settled) {
        self.kv_reserved += w.reserve;
        if w.prompt <= 0.0 {
            out.first.push(w.slot);
            self.start_decode(w, out);
        } else {
            if self.prefill.is_empty() {
                self.head_left = w.prompt;
            }
            self.prefill_left += w.prompt;
            self.prefill.push_back(w);
        }
    }

    /// Sets the rates for the current batch and returns the delay to the next first token or
    /// completion, seconds (None when idle).
    pub fn plan_next(&mut self, serving: &Serving) -> Option<f64> {
        let b = self.running.len() as f64;
        self.chunk = if self.prefill.is_empty() {
            0.0
        } else {
            (serving.token_budget - b).min(self.prefill_left).max(0.0)
        };
        if b == 0.0 && self.chunk == 0.0 {
            self.step_s = 0.0;
            return None;
        }
        self.step_s = serving.cost.step_s_at(b, self.kv_load, b + self.chunk);
        let mut dt = f64::INFINITY;
        if let Some(top) = self.running.peek() {
            dt = (top.finish - self.v).max(0.0) * self.step_s;
        }
        if self.chunk > 0.0 {
            dt = dt.min(self.head_left.max(0.0) / self.chunk * self.step_s);
        }
        Some(dt)
    }

    /// Takes every admitted request out (a failure or the owners stopping the replica),
    /// appending their slots to `out` in admission order of the prefill queue, then the batch.
    pub fn drain(&mut self, out: &mut Vec<u32>) {
        out.extend(self.prefill.drain(..).map(|w| w.slot));
        let mut batch = std::mem::take(&mut self.running).into_vec();
        batch.sort_by(|a, b| b.cmp(a));
        out.extend(batch.iter().map(|r| r.work.slot));
        self.head_left = 0.0;
        self.prefill_left = 0.0;
        self.kv_reserved = 0;
        self.kv_load = 0.0;
        self.step_s = 0.0;
        self.chunk = 0.0;
        self.next_at = None;
    }
}

/// Rounds a delay in seconds up to whole nanoseconds, at least one.
#[inline]
pub fn delay_ns(dt: f64) -> SimTime {
    let ns = dt * 1e9;
    if ns >= 1.8e19 {
        return u64::MAX;
    }
    let whole = ns as u64;
    (whole + u64::from((whole as f64) < ns)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalogue::find_model;
    use crate::model::gpu::find_class;

    fn llama8b() -> ServedModel {
        let m = find_model("llama-3-8b").expect("catalogued");
        ServedModel {
            params: 8e9,
            bytes_per_param: 2.0,
            kv_bytes_per_token: m.kv_bytes_per_token(),
            context_tokens: m.context_tokens,
        }
    }

    const POLICY: BatchPolicy = BatchPolicy {
        max_batch: 256,
        token_budget: 2048,
        memory_utilisation: 0.9,
    };

    fn plan(gpu: &str, count: u32, host: u32, model: &ServedModel) -> Result<Serving, Unfit> {
        let class = find_class(gpu).expect("class");
        Serving::plan(
            class,
            count,
            host,
            model,
            &POLICY,
            &Rates::efficiency(class, 0.8, 0.9),
        )
    }

    #[test]
    fn plan_picks_the_smallest_tensor_parallel_degree_that_fits() {
        // 8B in BF16 (16 GB) fits one H100 with 56 GB left for the KV cache.
        let s = plan("h100_sxm", 8, 8, &llama8b()).expect("fits");
        assert_eq!((s.tp, s.replicas), (1, 8));
        assert_eq!(
            s.kv_capacity_tokens,
            ((80e9 * 0.9 - 16e9) / 131_072.0) as u64
        );
        // 70B in BF16 (140 GB) needs two H100s (144 GB usable, 4 GB of KV for an 8k context
        // at 320 KiB a token = 2.7 GB).
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
        assert!((e.have_gb - 21.6).abs() < 1e-9);
    }

    #[test]
    fn replicas_never_span_hosts() {
        // 70B at 80% memory needs four H100s (two hold 128 GB < 141 GB of weights); two
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
            12,
            6,
            &big,
            &policy,
            &Rates::efficiency(class, 0.8, 0.9),
        )
        .expect("fits");
        assert_eq!((s.tp, s.replicas), (4, 2));
        // A partly filled last host still holds what fits in it: 8 + 4 GPUs in hosts of 8.
        let s = Serving::plan(
            class,
            12,
            8,
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
        assert!((attn.step_s_at(4.0, 1e4, 4.0) - (1.5 * w + kv)).abs() < 1e-15);
        let (w, kv) = (decode.weights_s, decode.kv_s_per_token * 1e4);
        assert!((decode.step_s_at(4.0, 1e4, 4.0) - 1.5 * (w + kv)).abs() < 1e-15);
    }

    fn plan_with(class: &GpuClass, model: &ServedModel, rates: &Rates) -> Serving {
        Serving::plan(class, 1, 1, model, &POLICY, rates).expect("fits")
    }

    #[test]
    fn memory_time_follows_the_profile_by_batch_between_powers_of_two() {
        let mut cost = plan("h100_sxm", 1, 1, &llama8b()).expect("fits").cost;
        cost.memory_scale = [1.0, 1.0, 1.5, 2.0, 2.0, 2.0, 2.0, 2.0, 4.0];
        let mem = |b: f64| cost.step_s_at(b, 0.0, 1.0) / cost.weights_s;
        assert_eq!(mem(1.0), 1.0);
        assert_eq!(mem(4.0), 1.5);
        // Linear between 4 and 8: halfway at 6.
        assert!((mem(6.0) - 1.75).abs() < 1e-12);
        assert_eq!(mem(8.0), 2.0);
        assert_eq!(mem(256.0), 4.0);
        assert_eq!(mem(1000.0), 4.0);
        // Compute-bound steps do not change.
        let chunk = cost.step_s_at(1.0, 0.0, 2048.0);
        assert_eq!(cost.step_s_at(4.0, 0.0, 2048.0), chunk);
    }

    #[test]
    fn step_time_is_the_roofline_of_weights_kv_and_tokens() {
        let s = plan("h100_sxm", 1, 1, &llama8b()).expect("fits");
        let bw = 3.35e12 * 0.9;
        let flops = 989e12 * 0.8;
        // Decode at batch 1 with a 1,000-token context: memory-bound.
        let want = (16e9 + 1000.0 * 131_072.0) / bw;
        assert!((s.cost.step_s(1000.0, 1.0) - want).abs() < 1e-15);
        // A 2,048-token prefill chunk: compute-bound.
        assert!((s.cost.step_s(0.0, 2048.0) - 2.0 * 8e9 * 2048.0 / flops).abs() < 1e-15);
    }

    fn work(slot: u32, prompt: f64, output: f64) -> Work {
        Work {
            slot,
            prompt,
            decode: output - 1.0,
            load: prompt + output / 2.0,
            reserve: (prompt + output) as u64,
        }
    }

    /// Runs a replica to quiescence, returning (first token, done) times per slot.
    fn drive(s: &Serving, arrivals: &[(SimTime, Work)]) -> Vec<(SimTime, SimTime)> {
        let mut r = Replica::new(0);
        r.activate(0);
        let mut times = vec![(0, 0); arrivals.len()];
        let mut out = Settled::default();
        let mut next = 0;
        let mut pending: Option<SimTime> = None;
        loop {
            let arrival = arrivals.get(next).map(|a| a.0);
            let now = match (arrival, pending) {
                (Some(a), Some(p)) => a.min(p),
                (Some(a), None) => a,
                (None, Some(p)) => p,
                (None, None) => break,
            };
            out.clear();
            r.advance(now, &mut out);
            if arrival == Some(now) {
                r.admit(arrivals[next].1, &mut out);
                next += 1;
            }
            for &f in &out.first {
                times[f as usize].0 = now;
            }
            for &d in &out.done {
                times[d as usize].1 = now;
            }
            pending = r.plan_next(s).map(|dt| now + delay_ns(dt));
        }
        times
    }

    #[test]
    fn a_request_alone_takes_its_prefill_then_one_step_per_token() {
        let s = plan("h100_sxm", 1, 1, &llama8b()).expect("fits");
        let t = drive(&s, &[(0, work(0, 1000.0, 101.0))]);
        let prefill = s.cost.step_s(0.0, 1000.0);
        let decode = 100.0 * s.cost.step_s(1050.5, 1.0);
        assert!((to_secs(t[0].0) - prefill).abs() < 2e-9);
        assert!((to_secs(t[0].1) - prefill - decode).abs() < 4e-9);
        assert!((to_secs(t[0].1) - s.alone_s(1000.0, 101.0)).abs() < 4e-9);
    }

    #[test]
    fn a_batch_shares_each_step_and_finishes_in_order_of_length() {
        let s = plan("h100_sxm", 1, 1, &llama8b()).expect("fits");
        // Two one-token prompts admitted together share one prefill chunk of two tokens; the
        // head's prompt is done halfway through it.
        let t = drive(&s, &[(0, work(0, 1.0, 11.0)), (0, work(1, 1.0, 21.0))]);
        let step = |kv: f64, tokens: f64| s.cost.step_s(kv, tokens);
        let f0 = 0.5 * step(0.0, 2.0);
        // Then request 0 decodes (mean context 6.5) while request 1's prompt is processed.
        let f1 = f0 + step(6.5, 2.0);
        // Both decode in the same steps: request 0 has 9 tokens left...
        let d0 = f1 + 9.0 * step(6.5 + 11.5, 2.0);
        // ...and request 1, 9 of its 20 done, finishes alone.
        let d1 = d0 + 11.0 * step(11.5, 1.0);
        for (got, want) in [(t[0].0, f0), (t[1].0, f1), (t[0].1, d0), (t[1].1, d1)] {
            assert!((to_secs(got) - want).abs() < 1e-8, "{got} vs {want}");
        }
        // Batching: the pair finishes far sooner than one after the other.
        assert!(to_secs(t[1].1) < 0.7 * (s.alone_s(1.0, 11.0) + s.alone_s(1.0, 21.0)));
    }

    #[test]
    fn kv_capacity_and_batch_size_bound_admission() {
        let mut s = plan("rtx_4090", 1, 1, &llama8b()).expect("fits");
        let r = Replica::new(0);
        // 21.6 GB - 16 GB = 5.6 GB of KV at 128 KiB a token: 42,724 tokens.
        assert_eq!(s.kv_capacity_tokens, 42_724);
        assert!(r.has_room(&s, 42_724) && !r.has_room(&s, 42_725));
        assert_eq!(s.batch_limit(1000.0), 42.0);
        s.max_batch = 1;
        let mut r = Replica::new(0);
        r.activate(0);
        r.admit(work(0, 10.0, 10.0), &mut Settled::default());
        assert!(!r.has_room(&s, 1));
    }

    #[test]
    fn drawn_service_times_run_one_at_a_time_for_exactly_their_length() {
        let s = Serving::single_server(1);
        let w = Work {
            slot: 0,
            prompt: 0.0,
            decode: 2.5,
            load: 0.0,
            reserve: 0,
        };
        let t = drive(&s, &[(7, w)]);
        assert_eq!(t[0], (7, 7 + 2_500_000_000));
    }

    #[test]
    fn a_replica_that_never_empties_keeps_exact_completion_times() {
        // Step counts are rebased past a million steps; completions stay on the nanosecond.
        let mut s = Serving::single_server(1);
        s.max_batch = 2;
        let long = |slot, decode| Work {
            slot,
            prompt: 0.0,
            decode,
            load: 0.0,
            reserve: 0,
        };
        let t = drive(
            &s,
            &[(0, long(0, 2e6)), (1_500_000_000_000_000, long(1, 10.0))],
        );
        assert_eq!(t[1].1, 1_500_010_000_000_000);
        assert_eq!(t[0].1, 2_000_000_000_000_000);
    }

    #[test]
    fn drain_returns_everyone_and_empties_the_replica() {
        let s = plan("h100_sxm", 1, 1, &llama8b()).expect("fits");
        let mut r = Replica::new(0);
        r.activate(0);
        let mut out = Settled::default();
        for i in 0..3 {
            r.admit(work(i, 100.0, 50.0), &mut out);
        }
        r.plan_next(&s);
        r.advance(1_000_000_000, &mut out);
        assert!(r.running() > 0);
        let mut slots = Vec::new();
        r.drain(&mut slots);
        slots.sort_unstable();
        assert_eq!(slots, vec![0, 1, 2]);
        assert!(r.is_empty() && r.has_room(&s, s.kv_capacity_tokens));
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
