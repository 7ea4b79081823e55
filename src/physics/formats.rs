//! Numeric formats of a served model: how its weights and its KV cache are stored (bytes a
//! weight, bytes a cached element) and at which tensor-core precision its matrix products run.
//!
//! A format sets two things the step cost uses: the bytes read (the weights once a step, the
//! KV cache of every running request) and the peak the FLOPs run at. FP8 is served W8A8, as
//! TensorRT-LLM's and vLLM's FP8 checkpoints are: weights and activations in FP8 (E4M3), the
//! products on the FP8 tensor cores, accumulated in FP32. Weight-only formats (INT8, 4-bit)
//! store the weights small but dequantise them to 16 bits inside the product (W8A16, W4A16:
//! AWQ, GPTQ, Marlin), so they read fewer bytes and run at the BF16 peak. INT8 W8A8
//! (SmoothQuant) runs at the INT8 tensor peak.
//!
//! A class without FP8 tensor cores (A100, RTX 3090: Ampere) serves FP8 weights weight-only,
//! dequantised to 16 bits at its BF16 peak, as vLLM does there with its FP8 Marlin kernels
//! ("weight-only FP8" for GPUs of compute capability below 8.9): the checkpoint still loads and
//! still weighs a byte a weight, only its products are not faster. That fallback, rather than
//! a refusal, lets a network of mixed generations serve one FP8 checkpoint on all of them;
//! `depinsim validate` and run.json say which classes fell back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::gpu::GpuClass;

/// How the weights are stored, and so what the matrix products run at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WeightFormat {
    /// BF16 (or FP16): 2 bytes a weight, products at the dense BF16 tensor peak.
    #[default]
    Bf16,
    /// FP8 (E4M3) weights and activations, W8A8 as TensorRT-LLM and vLLM serve FP8
    /// checkpoints: 1 byte a weight, products at the dense FP8 tensor peak. A class without FP8
    /// tensor cores (A100, RTX 3090) serves them weight-only: 1 byte a weight at its BF16 peak.
    Fp8,
    /// INT8 weights and activations, W8A8 (SmoothQuant): 1 byte a weight, products at the
    /// dense INT8 tensor peak.
    Int8W8a8,
    /// INT8 weight-only, W8A16: 1 byte a weight, dequantised to 16 bits for the product (BF16
    /// peak).
    Int8,
    /// 4-bit weight-only, W4A16 (AWQ, GPTQ): half a byte a weight, dequantised to 16 bits for
    /// the product (BF16 peak).
    Int4,
}

/// The precision of a matrix product on the tensor cores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matmul {
    /// BF16 (or FP16) inputs, FP32 accumulation.
    Bf16,
    /// FP8 inputs, FP32 accumulation.
    Fp8,
    /// INT8 inputs, INT32 accumulation.
    Int8,
}

impl Matmul {
    /// The dense datasheet peak of `class` at this precision, T(FL)OP/s; None where the class
    /// has no tensor cores for it.
    pub fn peak_tflops(self, class: &GpuClass) -> Option<f64> {
        match self {
            Matmul::Bf16 => Some(class.bf16_tflops),
            Matmul::Fp8 => class.fp8_tflops,
            Matmul::Int8 => class.int8_tops,
        }
    }

    /// The peak at this precision relative to the BF16 peak of `class` (None: no such tensor
    /// cores).
    pub fn over_bf16(self, class: &GpuClass) -> Option<f64> {
        Some(self.peak_tflops(class)? / class.bf16_tflops)
    }

    /// The name run.json and the tables use.
    pub fn label(self) -> &'static str {
        match self {
            Matmul::Bf16 => "bf16",
            Matmul::Fp8 => "fp8",
            Matmul::Int8 => "int8",
        }
    }
}

impl WeightFormat {
    /// Bytes a weight takes in memory and is read as.
    pub fn bytes_per_weight(self) -> f64 {
        match self {
            WeightFormat::Bf16 => 2.0,
            WeightFormat::Fp8 | WeightFormat::Int8W8a8 | WeightFormat::Int8 => 1.0,
            WeightFormat::Int4 => 0.5,
        }
    }

    /// The precision the products run at on a class that has the tensor cores for it.
    pub fn matmul(self) -> Matmul {
        match self {
            WeightFormat::Fp8 => Matmul::Fp8,
            WeightFormat::Int8W8a8 => Matmul::Int8,
            WeightFormat::Bf16 | WeightFormat::Int8 | WeightFormat::Int4 => Matmul::Bf16,
        }
    }

    /// The precision the products run at on `class`: [`WeightFormat::matmul`], or BF16 where
    /// the class lacks those tensor cores (the weights are then dequantised to 16 bits).
    pub fn matmul_on(self, class: &GpuClass) -> Matmul {
        let m = self.matmul();
        if m.peak_tflops(class).is_some() {
            m
        } else {
            Matmul::Bf16
        }
    }

    /// The name the scenario file uses.
    pub fn label(self) -> &'static str {
        match self {
            WeightFormat::Bf16 => "bf16",
            WeightFormat::Fp8 => "fp8",
            WeightFormat::Int8W8a8 => "int8_w8a8",
            WeightFormat::Int8 => "int8",
            WeightFormat::Int4 => "int4",
        }
    }
}

/// How the KV cache is stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KvFormat {
    /// BF16 (or FP16): 2 bytes a cached element.
    #[default]
    Bf16,
    /// FP8 (E4M3): 1 byte a cached element (TensorRT-LLM's and vLLM's `kv_cache_dtype fp8`).
    Fp8,
    /// INT8: 1 byte a cached element.
    Int8,
}

impl KvFormat {
    /// Bytes a cached key or value element takes.
    pub fn bytes_per_element(self) -> f64 {
        match self {
            KvFormat::Bf16 => 2.0,
            KvFormat::Fp8 | KvFormat::Int8 => 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::gpu::{GPU_CLASSES, find_class};

    #[test]
    fn formats_set_the_bytes_and_the_precision_of_the_products() {
        let h100 = find_class("h100_sxm").expect("class");
        let a100 = find_class("a100_80gb_sxm").expect("class");
        let cases = [
            (WeightFormat::Bf16, 2.0, Matmul::Bf16, Matmul::Bf16),
            (WeightFormat::Fp8, 1.0, Matmul::Fp8, Matmul::Bf16),
            (WeightFormat::Int8W8a8, 1.0, Matmul::Int8, Matmul::Int8),
            (WeightFormat::Int8, 1.0, Matmul::Bf16, Matmul::Bf16),
            (WeightFormat::Int4, 0.5, Matmul::Bf16, Matmul::Bf16),
        ];
        for (f, bytes, on_h100, on_a100) in cases {
            assert_eq!(f.bytes_per_weight(), bytes, "{f:?}");
            assert_eq!(f.matmul_on(h100), on_h100, "{f:?}");
            assert_eq!(f.matmul_on(a100), on_a100, "{f:?}");
        }
        // An H100's FP8 peak is twice its BF16 peak (1,979 against 989 dense).
        assert!((Matmul::Fp8.over_bf16(h100).expect("fp8") - 2.001).abs() < 1e-3);
        assert_eq!(Matmul::Fp8.over_bf16(a100), None);
        assert_eq!(
            (
                KvFormat::Bf16.bytes_per_element(),
                KvFormat::Fp8.bytes_per_element()
            ),
            (2.0, 1.0)
        );
    }

    #[test]
    fn every_class_has_int8_and_every_class_from_ada_and_hopper_on_has_fp8() {
        for c in GPU_CLASSES {
            let int8 = Matmul::Int8.over_bf16(c).expect("every class has INT8");
            assert!((1.9..=4.1).contains(&int8), "{}: {int8}", c.id);
            let ampere = matches!(c.id, "a100_80gb_sxm" | "rtx_3090");
            assert_eq!(c.fp8_tflops.is_none(), ampere, "{}", c.id);
            if let Some(r) = Matmul::Fp8.over_bf16(c) {
                assert!((1.99..=2.03).contains(&r), "{}: {r}", c.id);
            }
        }
    }

    #[test]
    fn names_are_the_files() {
        for f in [
            WeightFormat::Bf16,
            WeightFormat::Fp8,
            WeightFormat::Int8W8a8,
            WeightFormat::Int8,
            WeightFormat::Int4,
        ] {
            let json = serde_json::to_string(&f).expect("json");
            assert_eq!(json, format!("\"{}\"", f.label()));
        }
    }
}
