//! The roofline time model of one GPU class running one model: time = max(FLOPs / FLOP/s,
//! bytes / bytes/s), for prefill and decode at batch 1 and for training steps' compute.

use super::formats::WeightFormat;
use super::gpu::GpuClass;
use super::rates::Rates;

/// Achievable rates of one GPU class for one model: the roofline inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Roofline {
    /// Achievable FLOP/s (peak x compute efficiency).
    pub flops: f64,
    /// Achievable bytes/s (peak x memory efficiency).
    pub bytes_per_s: f64,
    /// Model parameters.
    pub params: f64,
    /// Bytes per parameter (2 for BF16).
    pub bytes_per_param: f64,
}

impl Roofline {
    /// Builds the roofline of `class` running a model of `params` parameters.
    pub fn new(
        class: &GpuClass,
        compute_eff: f64,
        memory_eff: f64,
        params: f64,
        bytes_per_param: f64,
    ) -> Self {
        Self {
            flops: class.bf16_tflops * 1e12 * compute_eff,
            bytes_per_s: class.mem_bandwidth_tbs * 1e12 * memory_eff,
            params,
            bytes_per_param,
        }
    }

    /// The roofline of `class` serving a model of `params` parameters stored in `format`: its
    /// bytes a weight, and its products at the format's peak on this class (FP8 at the FP8
    /// tensor peak where the class has one; weight-only formats at the BF16 peak).
    pub fn served(
        class: &GpuClass,
        format: WeightFormat,
        compute_eff: f64,
        memory_eff: f64,
        params: f64,
    ) -> Self {
        let peak = format
            .matmul_on(class)
            .peak_tflops(class)
            .unwrap_or(class.bf16_tflops);
        Self {
            flops: peak * 1e12 * compute_eff,
            ..Self::new(
                class,
                compute_eff,
                memory_eff,
                params,
                format.bytes_per_weight(),
            )
        }
    }

    /// The roofline of a model of `params` parameters at calibrated `rates` (training's
    /// FLOP/s, batch-1 bandwidth).
    pub fn from_rates(rates: &Rates, params: f64, bytes_per_param: f64) -> Self {
        Self {
            flops: rates.training_flops,
            bytes_per_s: rates.bytes_per_s,
            params,
            bytes_per_param,
        }
    }

    /// Prefill of `prompt` tokens at batch 1: 2N FLOPs per token, all weights read once;
    /// the larger of the two times (compute-bound for any real prompt).
    pub fn prefill_s(&self, prompt: f64) -> f64 {
        let compute = 2.0 * self.params * prompt / self.flops;
        let memory = self.params * self.bytes_per_param / self.bytes_per_s;
        compute.max(memory)
    }

    /// One decode step at batch 1: every weight is read for one token (memory-bound).
    pub fn decode_step_s(&self) -> f64 {
        let compute = 2.0 * self.params / self.flops;
        let memory = self.params * self.bytes_per_param / self.bytes_per_s;
        compute.max(memory)
    }

    /// Service time of a request: prefill yields the first token, then `output - 1` decode steps.
    pub fn service_s(&self, prompt: f64, output: f64) -> f64 {
        self.prefill_s(prompt) + (output - 1.0).max(0.0) * self.decode_step_s()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::gpu::{GPU_CLASSES, find_class};

    #[test]
    fn roofline_matches_a_hand_computed_case() {
        // Llama-3-8B in BF16 on an H100 SXM at 80% compute and 90% memory efficiency.
        let h100 = find_class("h100_sxm").expect("h100");
        let r = Roofline::new(h100, 0.8, 0.9, 8e9, 2.0);
        // prefill of 1000 tokens: 2 * 8e9 * 1000 / (989e12 * 0.8) = 0.020222... s
        assert!((r.prefill_s(1000.0) - 1.6e13 / 7.912e14).abs() < 1e-12);
        // decode step: 16e9 bytes / (3.35e12 * 0.9) = 5.3068 ms, above 2N / flops = 0.02 ms
        assert!((r.decode_step_s() - 16e9 / 3.015e12).abs() < 1e-12);
        let total = r.service_s(1000.0, 101.0);
        assert!((total - (1.6e13 / 7.912e14 + 100.0 * 16e9 / 3.015e12)).abs() < 1e-12);
        // a one-token prompt is memory-bound: reading the weights dominates.
        assert!((r.prefill_s(1.0) - r.decode_step_s()).abs() < 1e-15);
    }

    #[test]
    fn fp8_halves_the_bytes_and_doubles_the_flops_where_the_class_has_fp8() {
        let h100 = find_class("h100_sxm").expect("h100");
        let bf16 = Roofline::served(h100, WeightFormat::Bf16, 0.8, 0.9, 8e9);
        assert_eq!(bf16, Roofline::new(h100, 0.8, 0.9, 8e9, 2.0));
        let fp8 = Roofline::served(h100, WeightFormat::Fp8, 0.8, 0.9, 8e9);
        // 8e9 bytes at 3.015 TB/s; 2N x 1000 at 0.8 x 1,979 TFLOP/s.
        assert!((fp8.decode_step_s() - 8e9 / 3.015e12).abs() < 1e-12);
        assert!((fp8.prefill_s(1000.0) - 1.6e13 / (1979e12 * 0.8)).abs() < 1e-12);
        // INT4 weight-only: a quarter of the bytes, the BF16 peak.
        let int4 = Roofline::served(h100, WeightFormat::Int4, 0.8, 0.9, 8e9);
        assert_eq!((int4.bytes_per_param, int4.flops), (0.5, bf16.flops));
        // No FP8 tensor cores on an A100: a byte a weight at the BF16 peak.
        let a100 = find_class("a100_80gb_sxm").expect("a100");
        let fp8 = Roofline::served(a100, WeightFormat::Fp8, 0.8, 0.9, 8e9);
        assert_eq!((fp8.bytes_per_param, fp8.flops), (1.0, 312e12 * 0.8));
    }

    #[test]
    fn decode_is_memory_bound_and_prefill_compute_bound_on_every_class() {
        for c in GPU_CLASSES {
            let r = Roofline::new(c, 0.8, 0.9, 70e9, 2.0);
            let ridge = r.flops / r.bytes_per_s; // FLOP per byte where the two meet
            assert!(
                ridge > 1.0,
                "{}: decode (1 FLOP/byte) must sit left of the ridge",
                c.id
            );
            assert!(
                r.prefill_s(2048.0) > r.params * 2.0 / r.bytes_per_s,
                "{}",
                c.id
            );
        }
    }
}
