//! What one GPU achieves, as the time model uses it: FLOP/s, bytes/s by batch and KV-cache
//! reads. Datasheet peaks times efficiency factors here; a calibration profile gives its own
//! (`crate::calibration::Profile::rates`).
//!
//! FLOP/s are BF16 products'; FP8 and INT8 products (the served model's `weight_format`,
//! [`super::formats`]) run at the class's dense FP8 or INT8 peak times the same compute
//! efficiency, measured on BF16 products and assumed to carry over. A profile measures BF16
//! products only, so its FP8 and INT8 rates are derived: the measured BF16 rate times the
//! datasheet's FP8/BF16 (INT8/BF16) peak ratio of the profile's class.

use super::formats::{Matmul, WeightFormat};
use super::gpu::GpuClass;

/// Batches at which the decode bandwidth is tabulated: 1, 2, 4, ..., 256.
pub const BATCH_GRID: usize = 9;

/// What one GPU achieves, as the time model uses it.
#[derive(Clone, Debug, PartialEq)]
pub struct Rates {
    /// FLOP/s of prefill steps (a product the size of the token budget).
    pub flops: f64,
    /// FLOP/s of training steps (large products).
    pub training_flops: f64,
    /// FLOP/s of prefill-sized FP8 and INT8 products.
    pub low_precision: LowPrecision,
    /// Bytes/s of decode at batch 1.
    pub bytes_per_s: f64,
    /// Time to read a byte at batch 2^i relative to batch 1 (1 everywhere: the bandwidth does
    /// not depend on the batch).
    pub memory_scale: [f64; BATCH_GRID],
    /// Bytes/s of KV-cache reads, from a profile's attention curve at the model's context
    /// length; None: KV reads run at the decode bandwidth of the batch, as weights do.
    pub kv_bytes_per_s: Option<f64>,
    /// Where the rates come from: `datasheet` (peaks x the scenario's efficiency factors),
    /// or the profile's source.
    pub kind: &'static str,
    /// The profile file, or the datasheet's citation.
    pub origin: String,
    /// Lookups outside the profile's grid, clamped to its nearest point.
    pub clamped: Vec<String>,
    /// The efficiency factors the datasheet peaks were scaled by, and what they rest on
    /// (None: a profile's rates).
    pub efficiency: Option<Efficiency>,
}

/// FLOP/s of FP8 and INT8 products, and where they come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LowPrecision {
    /// FP8 products (None: the device has no FP8 tensor cores).
    pub fp8_flops: Option<f64>,
    /// INT8 products, OP/s (None: no INT8 tensor cores, or a CPU profile).
    pub int8_flops: Option<f64>,
    /// How they follow from the datasheet or the profile.
    pub basis: &'static str,
}

impl LowPrecision {
    /// The FP8 and INT8 rates of a profile whose BF16 products run at `flops`, derived from
    /// the datasheet ratios of its `class` (None: a CPU profile, which has neither).
    pub fn derived(flops: f64, class: Option<&GpuClass>) -> Self {
        let at = |m: Matmul| Some(flops * m.over_bf16(class?)?);
        Self {
            fp8_flops: at(Matmul::Fp8),
            int8_flops: at(Matmul::Int8),
            basis: PROFILE_LOW_PRECISION,
        }
    }
}

/// How datasheet rates get their FP8 and INT8 FLOP/s.
pub const DATASHEET_LOW_PRECISION: &str = "datasheet FP8/INT8 peak x compute_efficiency (a factor of BF16 products, assumed for FP8 and INT8)";

/// How a profile's rates get their FP8 and INT8 FLOP/s: derived, not measured.
pub const PROFILE_LOW_PRECISION: &str = "derived: the profile's measured BF16 product x the datasheet FP8/BF16 (INT8/BF16) peak ratio of its class";

/// Efficiency factors (achieved / datasheet peak) and what they rest on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Efficiency {
    /// Share of the datasheet BF16 FLOP/s.
    pub compute: f64,
    /// Share of the datasheet memory bandwidth.
    pub memory: f64,
    /// Where the factors come from for this class.
    pub basis: FactorBasis,
}

/// What a class's efficiency factors rest on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorBasis {
    /// Measured on a device of this class.
    Measured,
    /// Measured on another class and carried over: an assumption.
    Assumed,
    /// Given in the scenario.
    Scenario,
}

impl FactorBasis {
    /// The word run.json and the tables use.
    pub fn label(self) -> &'static str {
        match self {
            FactorBasis::Measured => "measured",
            FactorBasis::Assumed => "assumed",
            FactorBasis::Scenario => "scenario",
        }
    }
}

impl Rates {
    /// Datasheet peaks of `class` times the efficiency factors (marked as given in the
    /// scenario; [`Rates::with_basis`] says otherwise).
    pub fn efficiency(class: &GpuClass, compute: f64, memory: f64) -> Self {
        let flops = class.bf16_tflops * 1e12 * compute;
        let at = |peak: Option<f64>| peak.map(|p| p * 1e12 * compute);
        Self {
            flops,
            training_flops: flops,
            low_precision: LowPrecision {
                fp8_flops: at(class.fp8_tflops),
                int8_flops: at(class.int8_tops),
                basis: DATASHEET_LOW_PRECISION,
            },
            bytes_per_s: class.mem_bandwidth_tbs * 1e12 * memory,
            memory_scale: [1.0; BATCH_GRID],
            kv_bytes_per_s: None,
            kind: "datasheet",
            origin: class.source.to_string(),
            clamped: Vec::new(),
            efficiency: Some(Efficiency {
                compute,
                memory,
                basis: FactorBasis::Scenario,
            }),
        }
    }

    /// FLOP/s of prefill-sized products at precision `m`; None where these rates have none.
    pub fn matmul_flops(&self, m: Matmul) -> Option<f64> {
        match m {
            Matmul::Bf16 => Some(self.flops),
            Matmul::Fp8 => self.low_precision.fp8_flops,
            Matmul::Int8 => self.low_precision.int8_flops,
        }
    }

    /// The precision a model stored in `format` multiplies at: the format's, or BF16 where
    /// these rates have none at it (the weights are dequantised to 16 bits, weight-only).
    pub fn serving_matmul(&self, format: WeightFormat) -> Matmul {
        let m = format.matmul();
        if self.matmul_flops(m).is_some() {
            m
        } else {
            Matmul::Bf16
        }
    }

    /// FLOP/s of the serving step's products for a model stored in `format`, at
    /// [`Rates::serving_matmul`]'s precision.
    pub fn serving_flops(&self, format: WeightFormat) -> f64 {
        self.matmul_flops(format.matmul()).unwrap_or(self.flops)
    }

    /// The same rates with their efficiency factors marked as resting on `basis`.
    pub fn with_basis(mut self, basis: FactorBasis) -> Self {
        if let Some(e) = &mut self.efficiency {
            e.basis = basis;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::gpu::find_class;

    #[test]
    fn products_run_at_the_formats_peak_or_fall_back_to_bf16() {
        let h100 = Rates::efficiency(find_class("h100_sxm").expect("class"), 0.8, 0.9);
        assert_eq!(h100.flops, 989e12 * 0.8);
        assert_eq!(h100.serving_flops(WeightFormat::Fp8), 1979e12 * 0.8);
        assert_eq!(h100.serving_flops(WeightFormat::Int8W8a8), 1979e12 * 0.8);
        // Weight-only formats dequantise to 16 bits: the BF16 rate.
        for f in [WeightFormat::Bf16, WeightFormat::Int8, WeightFormat::Int4] {
            assert_eq!(h100.serving_flops(f), h100.flops, "{f:?}");
            assert_eq!(h100.serving_matmul(f), Matmul::Bf16);
        }
        // An A100 has no FP8 tensor cores: FP8 weights are served weight-only at BF16.
        let a100 = Rates::efficiency(find_class("a100_80gb_sxm").expect("class"), 0.8, 0.9);
        assert_eq!(a100.low_precision.fp8_flops, None);
        assert_eq!(a100.serving_matmul(WeightFormat::Fp8), Matmul::Bf16);
        assert_eq!(a100.serving_flops(WeightFormat::Fp8), 312e12 * 0.8);
        assert_eq!(a100.serving_flops(WeightFormat::Int8W8a8), 624e12 * 0.8);
    }
}
