//! What one GPU achieves, as the time model uses it: FLOP/s, bytes/s by batch and KV-cache
//! reads. Datasheet peaks times efficiency factors here; a calibration profile gives its own
//! (`crate::calibration::Profile::rates`).

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
        Self {
            flops,
            training_flops: flops,
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

    /// The same rates with their efficiency factors marked as resting on `basis`.
    pub fn with_basis(mut self, basis: FactorBasis) -> Self {
        if let Some(e) = &mut self.efficiency {
            e.basis = basis;
        }
        self
    }
}
