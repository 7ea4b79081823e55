//! The CUDA kernel sources of `kernels/` as the calibration sees them, in every build: which
//! file holds which entry points, the SHA-256 that identifies a source in a profile's
//! provenance, and the compiler's resource report (registers, stack, spills, shared memory)
//! read from NVRTC's log. Compiling and running them is the `cuda` feature's
//! (`calibration::cuda`); checking their arithmetic without a GPU is `tests/kernels.rs`'s.

use sha2::{Digest, Sha256};

/// Decode batches with a kernel of their own (`gemv_bf16_b<B>`): the batch is a
/// compile-time constant so that its accumulators stay in registers.
pub const DECODE_BATCHES: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];

/// Each kernel source and the entry points it defines.
pub const KERNELS: [(&str, &[&str]); 4] = [
    ("copy.cu", &["copy_f4"]),
    (
        "decode.cu",
        &[
            "gemv_bf16_b1",
            "gemv_bf16_b2",
            "gemv_bf16_b4",
            "gemv_bf16_b8",
            "gemv_bf16_b16",
            "gemv_bf16_b32",
            "gemv_bf16_b64",
        ],
    ),
    ("attention.cu", &["kv_attention_split", "kv_combine"]),
    ("matmul_wmma.cu", &["matmul_wmma_bf16"]),
];

/// The CUDA architectures of the catalogue's NVIDIA classes, which `--compile-only` and CI
/// compile for: sm_80 (A100), sm_86 (RTX 3090), sm_89 (RTX 4090, L40S), sm_90 (H100, H200).
pub const ARCHS: [&str; 4] = ["sm_80", "sm_86", "sm_89", "sm_90"];

/// Head dimension of the attention kernel (`HEAD_DIM` in attention.cu).
pub const HEAD_DIM: usize = 128;

/// Warps per block of the attention kernel (`WARPS` in attention.cu).
pub const ATTENTION_WARPS: u32 = 4;

/// The decode kernel for `batch`, if it has one.
pub fn decode_function(batch: usize) -> Option<String> {
    DECODE_BATCHES
        .contains(&batch)
        .then(|| format!("gemv_bf16_b{batch}"))
}

/// `sha256:<hex>` of a kernel source.
pub fn source_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// What the compiler (ptxas) reports for one entry point.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// The entry point.
    pub function: String,
    /// The architecture compiled for (`sm_90`).
    pub arch: String,
    /// Registers per thread.
    pub registers: u32,
    /// Stack frame, bytes per thread (local memory: arrays indexed at run time, say).
    pub stack_bytes: u32,
    /// Spilled stores, bytes.
    pub spill_stores: u32,
    /// Spilled loads, bytes.
    pub spill_loads: u32,
    /// Static shared memory, bytes per block.
    pub shared_bytes: u32,
}

impl Resources {
    /// Whether the entry point uses local memory (a stack frame or spills), which costs
    /// memory traffic the measurement would then wrongly charge to the device.
    pub fn uses_local_memory(&self) -> bool {
        self.stack_bytes > 0 || self.spill_stores > 0 || self.spill_loads > 0
    }
}

/// The number before `unit` in `line` (`"40 registers"` -> 40).
fn number_before(line: &str, unit: &str) -> Option<u32> {
    let end = line.find(unit)?;
    line[..end].split_whitespace().last()?.parse().ok()
}

/// Reads ptxas's verbose report (`-Xptxas=-v`, in NVRTC's log) into one entry per entry
/// point, in the order compiled.
pub fn parse_ptxas_log(log: &str) -> Vec<Resources> {
    let mut out: Vec<Resources> = Vec::new();
    for line in log.lines() {
        if let Some(rest) = line.split("Compiling entry function '").nth(1) {
            let mut parts = rest.split('\'');
            let function = parts.next().unwrap_or_default().to_string();
            let arch = parts.nth(1).unwrap_or_default().to_string();
            out.push(Resources {
                function,
                arch,
                ..Resources::default()
            });
            continue;
        }
        let Some(r) = out.last_mut() else { continue };
        if line.contains("bytes stack frame") {
            r.stack_bytes = number_before(line, "bytes stack frame").unwrap_or(0);
            r.spill_stores = number_before(line, "bytes spill stores").unwrap_or(0);
            r.spill_loads = number_before(line, "bytes spill loads").unwrap_or(0);
        }
        if line.contains(" registers") {
            r.registers = number_before(line, " registers").unwrap_or(0);
            r.shared_bytes = number_before(line, "bytes smem").unwrap_or(0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// NVRTC 13.0's log for attention.cu and the first decode kernel at sm_90.
    const LOG: &str = "ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'kv_combine' for 'sm_90'
ptxas info    : Function properties for kv_combine
ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 32 registers, used 0 barriers
ptxas info    : Compiling entry function 'kv_attention_split' for 'sm_90'
ptxas info    : Function properties for kv_attention_split
ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 37 registers, used 1 barriers, 2080 bytes smem
ptxas info    : Compiling entry function 'gemv_bf16' for 'sm_90'
ptxas info    : Function properties for gemv_bf16
ptxas         .     256 bytes stack frame, 8 bytes spill stores, 4 bytes spill loads
ptxas info    : Used 40 registers, used 0 barriers, 256 bytes cumulative stack size
ptxas info    : Compile time = 113.148 ms
";

    #[test]
    fn the_ptxas_report_is_read_per_entry_point() {
        let r = parse_ptxas_log(LOG);
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[1],
            Resources {
                function: "kv_attention_split".into(),
                arch: "sm_90".into(),
                registers: 37,
                stack_bytes: 0,
                spill_stores: 0,
                spill_loads: 0,
                shared_bytes: 2080,
            }
        );
        assert!(!r[0].uses_local_memory());
        assert_eq!(
            (r[2].stack_bytes, r[2].spill_stores, r[2].spill_loads),
            (256, 8, 4)
        );
        assert!(r[2].uses_local_memory());
        assert!(parse_ptxas_log("no report").is_empty());
    }

    #[test]
    fn source_hashes_are_sha256() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            source_hash("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn every_listed_entry_point_is_defined_in_its_source() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels");
        for (file, functions) in KERNELS {
            let src = std::fs::read_to_string(dir.join(file)).expect(file);
            for f in functions {
                // Either spelled out, or made by decode.cu's GEMV(B) macro.
                let defined = src.contains(&format!("void {f}("))
                    || f.strip_prefix("gemv_bf16_b")
                        .is_some_and(|b| src.contains(&format!("\nGEMV({b})")));
                assert!(defined, "{f} is not defined in {file}");
            }
        }
        let attention = std::fs::read_to_string(dir.join("attention.cu")).unwrap();
        assert!(attention.contains(&format!("#define HEAD_DIM {HEAD_DIM}")));
        assert!(attention.contains(&format!("#define WARPS {ATTENTION_WARPS}")));
        assert_eq!(decode_function(8).as_deref(), Some("gemv_bf16_b8"));
        assert_eq!(decode_function(3), None);
    }
}
