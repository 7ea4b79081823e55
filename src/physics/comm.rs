//! Serving across GPUs and hosts: what communication adds to an engine step (the pipeline
//! plan itself is [`super::pipeline`]).
//!
//! **Tensor parallel inside a host** (Megatron-LM, Shoeybi et al. 2019, sec. 3) splits each
//! layer's attention and MLP between the host's `tp` GPUs and joins the partial results with
//! two all-reduces per layer, each of the step's activations: tokens in the step x the
//! activation width x 2 bytes (BF16). Each all-reduce is a ring over the host's GPU link
//! ([`HostLink`]: NVLink, Infinity Fabric or PCIe), [`ring_allreduce_s`]: 2 (tp - 1) steps
//! moving bytes / tp and paying the link's latency once each. Engines run these collectives
//! between the layers' kernels (vLLM's custom all-reduce, NCCL), so the time adds to the
//! step's roofline rather than hiding under it.
//!
//! **Pipeline stages across hosts** (as Petals serves a model over consumer GPUs: Borzunov
//! et al. 2023, arXiv 2312.08361) give each of `S` hosts an equal share of the layers. One
//! token of a sequence passes through every stage in turn: the client sends its hidden state
//! to the first stage, each stage sends its output to the next, and the last returns it to the
//! client, which samples the next token. That is S + 1 transfers of the activation width x 2
//! bytes per token, each costing the link's one-way latency plus bytes / bandwidth; the
//! client's two legs are one round trip between the client and the swarm. So a lone
//! sequence's time per token is the sum of the stage times and the hops ([`Comm`]).
//!
//! Sequences in flight are the pipeline's work: with `b` of them a replica moves them as
//! `k = min(b, S)` micro-batches of `b / k` sequences each (at least one). Every sequence
//! waits one full cycle per token (its micro-batch's pass through all stages and hops), so a
//! replica's step is that cycle at micro-batch `b / k`: with fewer sequences than stages the
//! pipeline idles and tokens/s = b / cycle; with at least S, the stages work on different
//! micro-batches at once, and when the hops are short the throughput approaches that of the
//! slowest stage (all stages are equal here), `b / (S x stage time)`.
//!
//! Approximations, stated: the layers split evenly (a fluid share: `L / S` each; the memory
//! check uses the largest stage, `ceil(L / S)` layers); the LM head's cost is spread over the
//! stages like the rest; every stage of a replica is one whole host of one provider group, so
//! its hops cross that group's links between hosts and the client sits one round trip of the
//! group's region away; a micro-batch's prefill chunk travels with its decoding tokens.

use super::training::ring_allreduce_s;

/// Bytes per activation value passed between GPUs or stages (BF16).
pub const ACTIVATION_BYTES: f64 = 2.0;

/// The link between the GPUs of one host, for tensor parallel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HostLink {
    /// Bandwidth of one GPU's link in one direction, bytes/s.
    pub bytes_per_s: f64,
    /// Latency of one step of a ring collective, s.
    pub latency_s: f64,
}

/// GB/s in one direction of one GPU's link to the other GPUs of its host, by GPU class, and
/// where the figure comes from: half the datasheet's bidirectional NVLink or Infinity Fabric
/// figure, or PCIe x16 in one direction for cards without it.
pub const HOST_LINKS: &[(&str, f64, &str)] = &[
    ("h100_sxm", 450.0, "NVIDIA H100 datasheet: NVLink 900 GB/s"),
    (
        "h100_pcie",
        64.0,
        "PCIe Gen5 x16: 64 GB/s a direction (no NVLink bridge assumed)",
    ),
    ("h200_sxm", 450.0, "NVIDIA H200 datasheet: NVLink 900 GB/s"),
    (
        "a100_80gb_sxm",
        300.0,
        "NVIDIA A100 datasheet: NVLink 600 GB/s",
    ),
    (
        "l40s",
        32.0,
        "NVIDIA L40S datasheet: PCIe Gen4 x16, no NVLink",
    ),
    (
        "rtx_4090",
        32.0,
        "PCIe Gen4 x16: 32 GB/s a direction, no NVLink",
    ),
    (
        "rtx_3090",
        32.0,
        "PCIe Gen4 x16: 32 GB/s a direction (no NVLink bridge assumed)",
    ),
    (
        "mi300x",
        448.0,
        "AMD MI300X data sheet: Infinity Fabric 896 GB/s peer to peer",
    ),
];

/// GB/s a direction of a GPU class's link inside its host; PCIe Gen4 x16 for a class the
/// table does not list.
pub fn host_link_gb_s(class_id: &str) -> f64 {
    HOST_LINKS
        .iter()
        .find(|l| l.0 == class_id)
        .map_or(32.0, |l| l.1)
}

/// What communication adds to one engine step of a replica.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comm {
    /// Pipeline stages of the replica (1: one host).
    pub stages: f64,
    /// Tensor-parallel all-reduces of one stage's step: the latency part, s.
    pub tp_fixed_s: f64,
    /// ...and the part per token in the stage's step, s.
    pub tp_per_token_s: f64,
    /// The hops of one pass through the pipeline (between stages and to and from the
    /// client): the latency part, s.
    pub hop_fixed_s: f64,
    /// ...and the part per token passed, s.
    pub hop_per_token_s: f64,
    /// The client's round trip inside `hop_fixed_s` (a pipeline's: each token goes out to
    /// the first stage and back from the last), s; 0 for one host.
    pub client_rtt_s: f64,
}

impl Comm {
    /// No communication: one GPU of one host.
    pub const NONE: Comm = Comm {
        stages: 1.0,
        tp_fixed_s: 0.0,
        tp_per_token_s: 0.0,
        hop_fixed_s: 0.0,
        hop_per_token_s: 0.0,
        client_rtt_s: 0.0,
    };

    /// Tensor parallel over `tp` GPUs of a host joined by `link`, for a stage of `layers`
    /// layers (fractional under an even split) whose activations are `width` values a token:
    /// two ring all-reduces a layer.
    pub fn tensor_parallel(tp: u32, layers: f64, width: f64, link: &HostLink) -> Self {
        let per_step = 2.0 * layers;
        let token_bytes = width * ACTIVATION_BYTES;
        Self {
            tp_fixed_s: per_step * ring_allreduce_s(tp, 0.0, link.bytes_per_s, link.latency_s),
            tp_per_token_s: per_step * ring_allreduce_s(tp, token_bytes, link.bytes_per_s, 0.0),
            ..Self::NONE
        }
    }

    /// This replica cut into `stages` pipeline stages, whose hops between stages take
    /// `between_s` of latency in all and run at `hop_bytes_per_s`, and a client `client_rtt_s`
    /// away (its two legs at the same bandwidth), for activations of `width` values a token.
    pub fn pipelined(
        self,
        stages: u32,
        width: f64,
        (between_s, hop_bytes_per_s): (f64, f64),
        client_rtt_s: f64,
    ) -> Self {
        let s = f64::from(stages.max(1));
        Self {
            stages: s,
            hop_fixed_s: between_s + client_rtt_s,
            client_rtt_s,
            hop_per_token_s: (s + 1.0) * width * ACTIVATION_BYTES / hop_bytes_per_s,
            ..self
        }
    }

    /// Micro-batches a replica holding `batch` sequences moves them in: min(batch, stages),
    /// at least one.
    #[inline]
    pub fn micro_batches(&self, batch: f64) -> f64 {
        batch.clamp(1.0, self.stages)
    }

    /// One step of a replica whose stage takes `stage_s` for a micro-batch of `tokens`
    /// tokens: every stage in turn, each with its all-reduces, then the hops.
    #[inline]
    pub fn cycle_s(&self, stage_s: f64, tokens: f64) -> f64 {
        self.stages * (stage_s + self.tp_fixed_s + self.tp_per_token_s * tokens)
            + self.hop_fixed_s
            + self.hop_per_token_s * tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_parallel_costs_two_ring_all_reduces_a_layer() {
        // 4 GPUs, 80 layers, width 8192, 450 GB/s and 1 us a ring step. One all-reduce of T
        // tokens: 2 x 3 steps of 1 us, plus 2 x 3/4 x T x 8192 x 2 bytes / 450e9. Two a layer:
        // 160 all-reduces a step.
        let link = HostLink {
            bytes_per_s: 450e9,
            latency_s: 1e-6,
        };
        let c = Comm::tensor_parallel(4, 80.0, 8192.0, &link);
        assert!((c.tp_fixed_s - 160.0 * 6e-6).abs() < 1e-15);
        let per_token = 160.0 * 1.5 * 8192.0 * 2.0 / 450e9;
        assert!((c.tp_per_token_s / per_token - 1.0).abs() < 1e-12);
        // A step of 256 tokens: 0.96 ms + 2.237 ms.
        let step = c.cycle_s(0.0, 256.0);
        assert!((step - (160.0 * 6e-6 + 256.0 * per_token)).abs() < 1e-12);
        // One GPU exchanges nothing.
        assert_eq!(Comm::tensor_parallel(1, 80.0, 8192.0, &link), Comm::NONE);
    }

    #[test]
    fn a_pipeline_cycle_is_the_stage_times_and_the_hops() {
        // 3 stages of 10 ms each, hops of 20 ms one way at 12.5 MB/s (100 Mbit/s), a client
        // 50 ms round trip away, width 8192: per token 2 inter-stage latencies and the client's
        // round trip (90 ms), 4 transfers of 16,384 bytes (5.24 ms), and 30 ms of stages.
        let c = Comm::NONE.pipelined(3, 8192.0, (2.0 * 0.020, 12.5e6), 0.050);
        let want = 3.0 * 0.010 + 2.0 * 0.020 + 0.050 + 4.0 * 16_384.0 / 12.5e6;
        assert!((c.cycle_s(0.010, 1.0) - want).abs() < 1e-15);
        // Micro-batches: one per sequence up to the stages, then the stages.
        assert_eq!(c.micro_batches(0.0), 1.0);
        assert_eq!(c.micro_batches(2.0), 2.0);
        assert_eq!(c.micro_batches(7.0), 3.0);
    }

    #[test]
    fn every_class_has_a_host_link() {
        for c in crate::physics::gpu::GPU_CLASSES {
            assert!(HOST_LINKS.iter().any(|l| l.0 == c.id), "{}", c.id);
        }
    }
}
