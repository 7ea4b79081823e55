//! The built-in GPU datasheet table.
//!
//! Every rate here is a vendor datasheet peak (dense, no sparsity), not a measurement: the
//! efficiency factors of the scenario's `calibration` block turn peaks into achievable rates.
//! Sources: NVIDIA H100/H200/A100/L40S/RTX 4090/RTX 3090 and AMD MI300X datasheets, collected
//! from the vendors' published datasheets; reference rental prices from Vast.ai medians and Akash's
//! price list (read 2026-09).
//!
//! Besides the BF16 peak each class has its dense FP8 and INT8 tensor peaks, which the served
//! model's `weight_format` selects (`super::formats`); each figure is cited where it is set.
//! NVIDIA's datacenter datasheets quote these "with sparsity" (2:4 structured sparsity, which
//! serving does not use), so the dense figure is half the one printed; the GeForce
//! whitepapers print both. Ampere (A100, RTX 3090) has INT8 but no FP8 tensor cores.
//!
//! Memory is counted in bytes the way the hardware has it. A datasheet's "80 GB" is 80 GiB
//! (memory capacities use binary prefixes: JEDEC JESD100B.01), and of that the driver
//! offers what `nvidia-smi` reports as memory.total (`rocm-smi`'s VRAM Total for AMD), a
//! little less where ECC or the driver keeps some: 81,559 MiB of an H100's 81,920. That
//! figure, as published nvidia-smi and rocm-smi outputs show it for each class, is what the
//! serving plan shares out (vLLM's gpu_memory_utilization is a share of the device's total;
//! what CUDA itself reports is a few hundred MiB lower still, which the scenario's runtime
//! reserve covers).

/// One GPU class from the datasheet table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GpuClass {
    /// Identifier used in scenario files (e.g. `h100_sxm`).
    pub id: &'static str,
    /// Marketing name.
    pub name: &'static str,
    /// Dense BF16/FP16 tensor throughput, TFLOP/s.
    pub bf16_tflops: f64,
    /// Dense FP8 tensor throughput (FP32 accumulation), TFLOP/s; None for a class without FP8
    /// tensor cores (Ampere: A100, RTX 3090).
    pub fp8_tflops: Option<f64>,
    /// Dense INT8 tensor throughput, TOP/s.
    pub int8_tops: Option<f64>,
    /// Memory as the datasheet states it, "GB": binary gigabytes (GiB, 2^30 bytes). The
    /// training jobs' memory check still compares it with 10^9-byte gigabytes (issue 12,
    /// item 5); serving uses [`GpuClass::memory_mib`].
    pub vram_gb: f64,
    /// Memory the driver offers, MiB (2^20 bytes): nvidia-smi's memory.total (rocm-smi's VRAM
    /// Total for AMD).
    pub memory_mib: f64,
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
        // Datasheet "FP8 Tensor Core 3,958 teraFLOPS*", "INT8 Tensor Core 3,958 TOPS*", each
        // *with sparsity: half of it dense.
        fp8_tflops: Some(1979.0),
        int8_tops: Some(1979.0),
        vram_gb: 80.0,
        // nvidia-smi on "NVIDIA H100 80GB HBM3": 81559MiB.
        memory_mib: 81_559.0,
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
        // Datasheet "FP8 Tensor Core 3,026 teraFLOPS*", "INT8 Tensor Core 3,026 TOPS*" (H100
        // PCIe column; *with sparsity): half of it dense.
        fp8_tflops: Some(1513.0),
        int8_tops: Some(1513.0),
        vram_gb: 80.0,
        // nvidia-smi on "NVIDIA H100 PCIe": 81559MiB.
        memory_mib: 81_559.0,
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
        // Datasheet (H200 SXM column) "FP8 Tensor Core 3,958 TFLOPS", "INT8 Tensor Core 3,958
        // TOPS", with sparsity: half of it dense.
        fp8_tflops: Some(1979.0),
        int8_tops: Some(1979.0),
        vram_gb: 141.0,
        // nvidia-smi on "NVIDIA H200": 143771MiB.
        memory_mib: 143_771.0,
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
        // Ampere has no FP8 tensor cores. Datasheet "INT8 Tensor Core 624 TOPS | 1248 TOPS*"
        // (*with sparsity): 624 dense.
        fp8_tflops: None,
        int8_tops: Some(624.0),
        vram_gb: 80.0,
        // nvidia-smi on "NVIDIA A100-SXM4-80GB": 81920MiB.
        memory_mib: 81_920.0,
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
        // Datasheet "FP8 Tensor Core 733 | 1,466* TFLOPS", "Peak INT8 Tensor 733 | 1,466*
        // TOPS" (*with sparsity): 733 dense.
        fp8_tflops: Some(733.0),
        int8_tops: Some(733.0),
        vram_gb: 48.0,
        // nvidia-smi on "NVIDIA L40S" (ECC on, as in every published output): 46068MiB.
        memory_mib: 46_068.0,
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
        // Ada whitepaper, appendix table (RTX 4090): "Peak FP8 Tensor TFLOPS with FP32
        // Accumulate 330.3/660.6" and "Peak INT8 Tensor TOPS 660.6/1321.2", dense/sparse. FP32
        // accumulation, as the BF16 figure (FP8 GEMMs accumulate in FP32).
        fp8_tflops: Some(330.3),
        int8_tops: Some(660.6),
        vram_gb: 24.0,
        // nvidia-smi on "NVIDIA GeForce RTX 4090": 24564MiB.
        memory_mib: 24_564.0,
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
        // Ampere has no FP8 tensor cores. GA102 whitepaper (RTX 3090): "Peak INT8 Tensor TOPS
        // 284/568", dense/sparse.
        fp8_tflops: None,
        int8_tops: Some(284.0),
        vram_gb: 24.0,
        // nvidia-smi on "NVIDIA GeForce RTX 3090": 24576MiB.
        memory_mib: 24_576.0,
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
        // Data sheet "Peak FP8 Performance 2,614.9 TFLOPs" and "Peak INT8 Performance
        // 2,614.9 TOPs" (5,229.8 with structured sparsity): dense.
        fp8_tflops: Some(2614.9),
        int8_tops: Some(2614.9),
        vram_gb: 192.0,
        // rocm-smi on "AMD Instinct MI300X": VRAM Total Memory 205822885888 B.
        memory_mib: 196_288.0,
        mem_bandwidth_tbs: 5.3,
        tdp_w: 750.0,
        reference_price_usd_per_hour: None,
        source: "datasheet: AMD Instinct MI300X data sheet",
        datacenter: true,
    },
];

impl GpuClass {
    /// Bytes the driver offers: [`GpuClass::memory_mib`] x 2^20.
    pub fn memory_bytes(&self) -> f64 {
        self.memory_mib * 1_048_576.0
    }
}

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

    /// See issue 12 (item 7): an "80 GB" H100 was read as 80 x 10^9 bytes.
    #[test]
    fn the_driver_offers_nearly_the_datasheets_gibibytes() {
        // The driver offers at most the datasheet's GiB, and no more than 5% less (ECC).
        for c in GPU_CLASSES {
            let datasheet = c.vram_gb * 1024.0 * 1024.0 * 1024.0;
            let offered = c.memory_bytes() / datasheet;
            assert!(offered <= 1.0 && offered > 0.93, "{}: {offered}", c.id);
        }
        let h100 = find_class("h100_sxm").expect("class");
        assert_eq!(h100.memory_bytes(), 81_559.0 * 1_048_576.0);
        assert!(h100.memory_bytes() > 85.5e9);
        let rtx = find_class("rtx_4090").expect("class");
        assert!((rtx.memory_bytes() / (24.0 * 1_073_741_824.0) - 1.0).abs() < 1e-3);
    }
}
