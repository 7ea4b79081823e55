//! Pipeline replicas: a model that no host of a group holds, cut into stages of one host each
//! (as Petals serves Llama 2 70B over consumer GPUs: Borzunov et al. 2023, arXiv 2312.08361).
//!
//! A replica takes the fewest stages, up to the scenario's `max_stages`, whose largest stage
//! (`ceil(L / S)` of the L layers) holds its share of the weights and of one full-context
//! request's KV cache on one host's GPUs (tensor parallel inside the stage over as many of
//! the host's GPUs as divide the attention heads). Its step is the pipeline's cycle
//! ([`crate::physics::comm::Comm`] states the cost and the in-flight rule); its KV capacity is
//! what the largest stage holds for its layers.

use super::comm::{Comm, HostLink};
use super::gpu::GpuClass;
use super::rates::Rates;
use super::serving::{
    BatchPolicy, ServedModel, Serving, Shape, Unfit, degrees_up_to, usable_per_gpu,
};

/// How provider groups may serve in pipeline stages (`inference.pipeline`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pipeline {
    /// Most stages (hosts) one replica may span.
    pub max_stages: u32,
}

/// The links a group's pipeline crosses: its stages take the group's regions in turn (its own
/// region first), one host a stage.
#[derive(Clone, Debug, PartialEq)]
pub struct Hops {
    /// One-way latency from the stage in the group's `j`-th region to the next stage (in the
    /// next region, or the group's own host latency when both are in one region), s.
    pub legs_s: Vec<f64>,
    /// One-way latency from a last stage in the `j`-th region back to the client, who sits
    /// in the group's own region, s.
    pub back_s: Vec<f64>,
    /// One-way latency from the client to the first stage (in the group's own region), s.
    pub out_s: f64,
    /// Bandwidth of a host's link to the others, bytes/s.
    pub bytes_per_s: f64,
}

impl Hops {
    /// Every host in one region: hops of `latency_s` one way, a client `client_rtt_s` away.
    pub fn within(latency_s: f64, bytes_per_s: f64, client_rtt_s: f64) -> Self {
        let half = client_rtt_s / 2.0;
        Self {
            legs_s: vec![latency_s],
            back_s: vec![half],
            out_s: half,
            bytes_per_s,
        }
    }

    /// The latency of the hops between `stages` stages, s: stage k sits in region k mod n,
    /// so leg j is crossed once for each k < stages - 1 with k mod n = j.
    pub fn between_stages_s(&self, stages: u32) -> f64 {
        let n = self.legs_s.len().max(1) as u32;
        let hops = stages.saturating_sub(1);
        self.legs_s
            .iter()
            .enumerate()
            .map(|(j, leg)| {
                let crossings = hops / n + u32::from((j as u32) < hops % n);
                f64::from(crossings) * leg
            })
            .sum()
    }

    /// The client's round trip for `stages` stages, s: out to the first stage, back from the
    /// last one's region.
    pub fn client_s(&self, stages: u32) -> f64 {
        let n = self.back_s.len().max(1);
        let last = (stages.max(1) as usize - 1) % n;
        self.out_s + self.back_s.get(last).copied().unwrap_or(0.0)
    }
}

/// Layers of the largest of `stages` stages of a model of `layers` layers.
pub fn largest_stage_layers(layers: u32, stages: u32) -> u32 {
    layers.div_ceil(stages.max(1))
}

/// GPUs of one stage (a host's that divide the attention heads), and how many stages a group
/// of `count` GPUs, `gpus_per_host` to a host, can field.
pub fn stage_hosts(count: u32, gpus_per_host: u32, model: &ServedModel) -> (u32, u32) {
    let host = gpus_per_host.max(1);
    let t = degrees_up_to(count.min(host).max(1), model.attention_heads.max(1));
    let hosts = count / host + u32::from(count % host >= t);
    (t, hosts)
}

/// KV-cache tokens the largest of `stages` stages of `t` GPUs holds for its layers (negative
/// when its share of the weights does not fit).
fn kv_tokens(
    class: &GpuClass,
    t: u32,
    stages: u32,
    model: &ServedModel,
    policy: &BatchPolicy,
) -> f64 {
    let share = f64::from(largest_stage_layers(model.layers, stages)) / f64::from(model.layers);
    let usable = f64::from(t) * usable_per_gpu(class, policy);
    ((usable - share * model.weight_bytes()) / (share * model.kv_bytes_per_token)).floor()
}

/// The fewest stages, from 2 to `max_stages`, whose largest stage on a host of `gpus_per_host`
/// GPUs holds its share of the weights and one full-context KV cache; None when none does.
pub fn stages_needed(
    class: &GpuClass,
    gpus_per_host: u32,
    model: &ServedModel,
    policy: &BatchPolicy,
    max_stages: u32,
) -> Option<u32> {
    let (t, _) = stage_hosts(gpus_per_host, gpus_per_host, model);
    let cap = max_stages.min(model.layers.max(1));
    (2..=cap).find(|&s| kv_tokens(class, t, s, model, policy) >= f64::from(model.context_tokens))
}

/// The pipeline replicas of a group of `count` GPUs of `class`, `gpus_per_host` to a host
/// joined inside by `link` and to each other by `hops`, under `pipe`'s limit on stages.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    class: &GpuClass,
    (count, gpus_per_host): (u32, u32),
    link: &HostLink,
    hops: &Hops,
    model: &ServedModel,
    policy: &BatchPolicy,
    rates: &Rates,
    pipe: &Pipeline,
) -> Result<Serving, Unfit> {
    let (t, hosts) = stage_hosts(count, gpus_per_host, model);
    let need = model.weight_bytes() + model.kv_bytes_per_token * f64::from(model.context_tokens);
    let stages = stages_needed(class, gpus_per_host, model, policy, pipe.max_stages)
        .filter(|&s| s <= hosts)
        .ok_or(Unfit {
            need_gb: need / 1e9,
            have_gb: f64::from(t * pipe.max_stages.min(hosts)) * usable_per_gpu(class, policy)
                / 1e9,
            gpus: t * pipe.max_stages.min(hosts),
        })?;
    let width = model.activation_width();
    let layers = f64::from(model.layers) / f64::from(stages);
    let comm = Comm::tensor_parallel(t, layers, width, link).pipelined(
        stages,
        width,
        (hops.between_stages_s(stages), hops.bytes_per_s),
        hops.client_s(stages),
    );
    let shape = Shape {
        tp: t * stages,
        replicas: hosts / stages,
        kv_tokens: kv_tokens(class, t, stages, model, policy),
        share: 1.0 / f64::from(stages),
        comm,
    };
    Ok(Serving::of_shape(&shape, model, policy, rates))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::gpu::find_class;
    use crate::physics::serving::TensorParallel;
    use crate::physics::serving::tests::FREE;

    const GIB: f64 = 1_073_741_824.0;

    /// Llama 2 70B's shape (config.json): 80 layers, 64 heads of 128, 8 KV heads, 4,096
    /// tokens of context; 68.98e9 parameters, in Petals' NF4 (4.25 bits a weight).
    fn llama2_70b() -> ServedModel {
        ServedModel {
            params: 68.98e9,
            non_embedding_params: 68.98e9 - 2.0 * 32_000.0 * 8192.0,
            lm_head_params: 32_000.0 * 8192.0,
            layers: 80,
            attention_heads: 64,
            head_dim: 128,
            bytes_per_param: 4.25 / 8.0,
            // Weight-only 4-bit: dequantised to BF16 products.
            weight_format: crate::physics::formats::WeightFormat::Int4,
            kv_bytes_per_token: 2.0 * 80.0 * 8.0 * 128.0 * 2.0,
            context_tokens: 4096,
        }
    }

    const POLICY: BatchPolicy = BatchPolicy {
        max_batch: 64,
        token_budget: 2048,
        memory_utilisation: 0.9,
        runtime_reserve_bytes: 1.5 * GIB,
        tensor_parallel: TensorParallel::Smallest,
    };

    fn plan_on(count: u32, max_stages: u32) -> Result<Serving, Unfit> {
        plan_over(count, max_stages, &Hops::within(0.025, 12.5e6, 0.050))
    }

    fn plan_over(count: u32, max_stages: u32, hops: &Hops) -> Result<Serving, Unfit> {
        let class = find_class("rtx_3090").expect("class");
        let rates = Rates::efficiency(class, 0.8, 0.9);
        let pipe = Pipeline { max_stages };
        plan(
            class,
            (count, 1),
            &FREE,
            hops,
            &llama2_70b(),
            &POLICY,
            &rates,
            &pipe,
        )
    }

    #[test]
    fn stages_are_the_fewest_whose_largest_holds_its_share() {
        // A 3090 gives 0.9 x 24,576 MiB - 1.5 GiB = 21.58 GB. The weights weigh 36.65 GB and
        // a 4,096-token KV cache 1.34 GB: two stages of 40 layers want 19.0 GB each, which
        // fits; so 2 stages, and 10 cards make 5 replicas of 2 GPUs.
        let s = plan_on(10, 8).expect("fits");
        assert_eq!((s.stages(), s.tp, s.replicas), (2, 2, 5));
        // KV tokens of a stage: (21.58 GB - 36.65 / 2 GB) / (327,680 / 2 bytes).
        let usable = 24_576.0 * 1_048_576.0 * 0.9 - 1.5 * GIB;
        let want = ((usable - 0.5 * llama2_70b().weight_bytes()) / 163_840.0).floor();
        assert_eq!(s.kv_capacity_tokens, want as u64);
        // One card alone, or a limit of one stage, cannot.
        assert!(plan_on(1, 8).is_err());
        assert!(plan_on(10, 1).is_err());
    }

    #[test]
    fn a_lone_token_takes_every_stage_and_every_hop() {
        // Two stages on 3090s at 90% of 936 GB/s: each reads half the weights (18.33 GB) and
        // half of a 1,000-token KV cache; memory-bound at batch 1. One hop between the stages
        // (25 ms) and the client's round trip (50 ms), three transfers of 8192 x 2 bytes at
        // 12.5 MB/s.
        let s = plan_on(2, 8).expect("fits");
        let m = llama2_70b();
        let bw = 936e9 * 0.9;
        let stage = (m.weight_bytes() / 2.0 + 1000.0 * m.kv_bytes_per_token / 2.0) / bw;
        let hops = 0.025 + 0.050 + 3.0 * 16_384.0 / 12.5e6;
        let want = 2.0 * stage + hops;
        let got = s.cost.step_s_at(1.0, 1000.0, 0.0, 0.0);
        assert!((got - want).abs() < 1e-12, "{got} {want}");
        // Fewer sequences than stages idle the pipeline: two decode in two micro-batches of
        // one, each waiting a whole cycle, so tokens/s doubles.
        let two = s.cost.step_s_at(2.0, 2000.0, 0.0, 0.0);
        assert!((two - want).abs() < 1e-12, "{two} {want}");
        // Beyond the stages, micro-batches grow and the cycle with them.
        assert!(s.cost.step_s_at(8.0, 8000.0, 0.0, 0.0) > want);
    }

    #[test]
    fn stages_spread_over_regions_take_each_region_in_turn() {
        // Three regions A (own), B, C: A-B 76 ms, B-C 231 ms, C-A 166 ms round trips; hosts
        // of one region 5 ms apart; a client in A, whose own round trip is 10 ms.
        let hops = Hops {
            legs_s: vec![0.038, 0.1155, 0.083],
            back_s: vec![0.005, 0.038, 0.083],
            out_s: 0.005,
            bytes_per_s: 12.5e6,
        };
        // Two stages (A, B): one hop A-B, back from B. Four stages (A, B, C, A): hops A-B,
        // B-C, C-A, back from A. Five (A, B, C, A, B): A-B twice.
        assert!((hops.between_stages_s(2) - 0.038).abs() < 1e-15);
        assert!((hops.client_s(2) - (0.005 + 0.038)).abs() < 1e-15);
        assert!((hops.between_stages_s(4) - (0.038 + 0.1155 + 0.083)).abs() < 1e-15);
        assert!((hops.client_s(4) - 0.010).abs() < 1e-15);
        assert!((hops.between_stages_s(5) - (2.0 * 0.038 + 0.1155 + 0.083)).abs() < 1e-15);
        assert!((hops.client_s(5) - (0.005 + 0.038)).abs() < 1e-15);
        // One region: every hop the same, the client's round trip both ways.
        let one = Hops::within(0.025, 12.5e6, 0.050);
        assert_eq!(one.between_stages_s(3), 0.050);
        assert_eq!(one.client_s(3), 0.050);
        // A two-stage replica's lone token pays the stages, the A-B hop and the return from B.
        let spread = plan_over(2, 8, &hops).expect("fits");
        let alone = plan_on(2, 8).expect("fits");
        let extra = (0.038 + 0.043) - (0.025 + 0.050);
        let (a, b) = (
            spread.cost.step_s_at(1.0, 1000.0, 0.0, 0.0),
            alone.cost.step_s_at(1.0, 1000.0, 0.0, 0.0),
        );
        assert!((a - b - extra).abs() < 1e-12, "{a} {b}");
    }
}
