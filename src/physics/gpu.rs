//! The built-in GPU datasheet table.
//!
//! Every figure here is a vendor datasheet peak (dense, no sparsity), not a measurement: the
//! efficiency factors of the scenario's `calibration` block turn peaks into achievable rates.
//! Sources: NVIDIA H100/H200/A100/L40S/RTX 4090/RTX 3090 and AMD MI300X datasheets, collected
//! from the vendors' published datasheets; reference rental prices from Vast.ai medians and Akash's
//! price list (read 2026-09).

/// One GPU class from the datasheet table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GpuClass {
    /// Identifier used in scenario files (e.g. `h100_sxm`).
    pub id: &'static str,
    /// Marketing name.
    pub name: &'static str,
    /// Dense BF16/FP16 tensor throughput, TFLOP/s.
    pub bf16_tflops: f64,
    /// Memory, GB (10^9 bytes).
    pub vram_gb: f64,
    /// Memory bandwidth, TB/s.
    pub mem_bandwidth_tbs: f64,
    /// Board power, W.
    pub tdp_w: f64,
    /// Reference rental price, USD per GPU-hour, where a public figure exists.
    pub reference_price_usd_per_hour: Option<f64>,
    /// Where the figures come from.
    pub source: &'static str,
    /// A datacenter part (sets reliability and interconnect defaults) rather than a
    /// consumer card.
    pub datacenter: bool,
}

/// The datasheet table. Prices: Vast.ai medians (H100 SXM 2.40; A100 80GB 0.78-1.20, RTX 4090
/// 0.31-0.45, RTX 3090 0.18-0.30: midpoints) and Akash's "starting at" H200 price (4.45).
pub const GPU_CLASSES: &[GpuClass] = &[
    GpuClass {
        id: "h100_sxm",
        name: "NVIDIA H100 SXM 80GB",
        bf16_tflops: 989.0,
        vram_gb: 80.0,
        mem_bandwidth_tbs: 3.35,
        tdp_w: 700.0,
        reference_price_usd_per_hour: Some(2.40),
        source: "datasheet: NVIDIA H100 Tensor Core GPU datasheet",
        datacenter: true,
    },
    GpuClass {
        id: "h100_pcie",
        name: "NVIDIA H100 PCIe 80GB",
        bf16_tflops: 756.0,
        vram_gb: 80.0,
        mem_bandwidth_tbs: 2.0,
        tdp_w: 350.0,
        reference_price_usd_per_hour: None,
        source: "datasheet: NVIDIA H100 Tensor Core GPU datasheet",
        datacenter: true,
    },
    GpuClass {
        id: "h200_sxm",
        name: "NVIDIA H200 SXM 141GB",
        bf16_tflops: 989.0,
        vram_gb: 141.0,
        mem_bandwidth_tbs: 4.8,
        tdp_w: 700.0,
        reference_price_usd_per_hour: Some(4.45),
        source: "datasheet: NVIDIA H200 Tensor Core GPU datasheet",
        datacenter: true,
    },
    GpuClass {
        id: "a100_80gb_sxm",
        name: "NVIDIA A100 SXM 80GB",
        bf16_tflops: 312.0,
        vram_gb: 80.0,
        mem_bandwidth_tbs: 2.04,
        tdp_w: 400.0,
        reference_price_usd_per_hour: Some(0.99),
        source: "datasheet: NVIDIA A100 Tensor Core GPU datasheet",
        datacenter: true,
    },
    GpuClass {
        id: "l40s",
        name: "NVIDIA L40S 48GB",
        bf16_tflops: 362.0,
        vram_gb: 48.0,
        mem_bandwidth_tbs: 0.864,
        tdp_w: 350.0,
        reference_price_usd_per_hour: None,
        source: "datasheet: NVIDIA L40S datasheet",
        datacenter: true,
    },
    GpuClass {
        id: "rtx_4090",
        name: "NVIDIA GeForce RTX 4090 24GB",
        bf16_tflops: 165.0,
        vram_gb: 24.0,
        mem_bandwidth_tbs: 1.008,
        tdp_w: 450.0,
        reference_price_usd_per_hour: Some(0.38),
        source: "datasheet: NVIDIA Ada Lovelace architecture whitepaper (FP16 tensor, FP32 accumulate)",
        datacenter: false,
    },
    GpuClass {
        id: "rtx_3090",
        name: "NVIDIA GeForce RTX 3090 24GB",
        bf16_tflops: 71.0,
        vram_gb: 24.0,
        mem_bandwidth_tbs: 0.936,
        tdp_w: 350.0,
        reference_price_usd_per_hour: Some(0.24),
        source: "datasheet: NVIDIA Ampere GA102 whitepaper (FP16 tensor, FP32 accumulate; approximate)",
        datacenter: false,
    },
    GpuClass {
        id: "mi300x",
        name: "AMD Instinct MI300X 192GB",
        bf16_tflops: 1307.0,
        vram_gb: 192.0,
        mem_bandwidth_tbs: 5.3,
        tdp_w: 750.0,
        reference_price_usd_per_hour: None,
        source: "datasheet: AMD Instinct MI300X data sheet",
        datacenter: true,
    },
];

/// Looks up a class by its identifier.
pub fn find_class(id: &str) -> Option<&'static GpuClass> {
    GPU_CLASSES.iter().find(|c| c.id == id)
}

/// The identifiers of every class, for error messages.
pub fn class_ids() -> String {
    GPU_CLASSES
        .iter()
        .map(|c| c.id)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_found() {
        for c in GPU_CLASSES {
            assert_eq!(find_class(c.id), Some(c));
            assert!(c.source.starts_with("datasheet"));
        }
        assert_eq!(find_class("h100"), None);
    }
}
