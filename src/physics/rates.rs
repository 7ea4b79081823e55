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
}

impl Rates {
    /// Datasheet peaks of `class` times the efficiency factors.
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
        }
    }
}
