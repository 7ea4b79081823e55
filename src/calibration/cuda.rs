//! The CUDA calibration backend (feature `cuda`): compiles the kernels in `kernels/` with
//! NVRTC at run time, checks each against a CPU reference on fresh random inputs (outputs
//! poisoned with NaN first, so every element must be written; relative error
//! ||out - ref|| / ||ref|| within the precision's tolerance), then times it with device
//! events: a warm-up, then `reps` repetitions, the median and the spread.
//!
//! Every buffer a timed kernel streams is larger than the L2 caches of the GPUs in the
//! catalogue (50-60 MB on Hopper) wherever the grid allows, so the rates are those of device
//! memory, not of the cache: decode reads a 256 MiB weight matrix, attention at least
//! 256 MiB of keys and values (as many requests as that takes).
//!
//! The driver, NVRTC and cuBLAS are loaded at run time, so this compiles without a CUDA
//! toolkit; without a driver, NVRTC, cuBLAS or a GPU, [`calibrate`] returns
//! [`CudaError::Unavailable`] instead of panicking, and [`compile`] needs NVRTC alone.

mod attention;
mod check;
mod common;
mod compiler;
mod copy;
mod decode;
mod device;
mod matmul;

use std::path::Path;
use std::sync::Arc;

use cudarc::cublas::CudaBlas;
use cudarc::driver::{CudaContext, sys};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

pub use common::{CudaError, Grid};
use common::{contained, drv, nvrtc_present};
pub use compiler::{Compiled, compile, include_dirs, nvrtc_version};
use device::Device;

use super::{Peaks, Profile, Provenance, Source};
use crate::physics::gpu::{GpuClass, find_class};

/// Whether the driver, NVRTC and cuBLAS libraries load, and GPU 0 opens: the reason if not.
pub fn check_available() -> Result<Arc<CudaContext>, CudaError> {
    contained(|| {
        // SAFETY: these only try to load the shared libraries.
        if !unsafe { cudarc::driver::sys::is_culib_present() } {
            return Err(CudaError::Unavailable(
                "no NVIDIA driver found (libcuda could not be loaded): run on a machine with \
                 an NVIDIA GPU and its driver, or use --backend cpu"
                    .into(),
            ));
        }
        nvrtc_present()?;
        // SAFETY: as above.
        if !unsafe { cudarc::cublas::sys::is_culib_present() } {
            return Err(CudaError::Unavailable(
                "cuBLAS (libcublas and libcublasLt, part of the CUDA toolkit) could not be \
                 loaded: put a folder with libcublas.so (a link to libcublas.so.12 or .13) on \
                 LD_LIBRARY_PATH; kernels/calibrate.sh does this"
                    .into(),
            ));
        }
        CudaContext::new(0).map_err(|e| {
            CudaError::Unavailable(format!("no usable GPU 0 ({e:?}); use --backend cpu"))
        })
    })
}

/// The GPU class a device name belongs to.
pub fn class_of(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_uppercase();
    let id = if n.contains("H200") {
        "h200_sxm"
    } else if n.contains("H100") && n.contains("PCIE") {
        "h100_pcie"
    } else if n.contains("H100") {
        "h100_sxm"
    } else if n.contains("A100") {
        "a100_80gb_sxm"
    } else if n.contains("L40S") {
        "l40s"
    } else if n.contains("4090") {
        "rtx_4090"
    } else if n.contains("3090") {
        "rtx_3090"
    } else {
        return None;
    };
    Some(id)
}

/// The NVIDIA kernel module's version (`/proc/driver/nvidia/version`), where Linux shows it.
fn kernel_module_version() -> Option<String> {
    let text = std::fs::read_to_string("/proc/driver/nvidia/version").ok()?;
    let line = text.lines().next()?;
    let after = line.split("Kernel Module").nth(1)?;
    after.split_whitespace().next().map(str::to_string)
}

/// Calibrates GPU 0 with the kernels in `kernels` (the folder of the `.cu` files).
///
/// # Errors
/// [`CudaError::Unavailable`] without a driver, NVRTC, cuBLAS or GPU; a compile or check
/// failure; a failed driver call.
pub fn calibrate(grid: &Grid, kernels: &Path, seed: u64) -> Result<Profile, CudaError> {
    let ctx = check_available()?;
    contained(|| measure(&ctx, grid, kernels, seed))
}

fn measure(
    ctx: &Arc<CudaContext>,
    grid: &Grid,
    kernels: &Path,
    seed: u64,
) -> Result<Profile, CudaError> {
    // One stream and no other: cudarc's per-buffer event tracking is not needed.
    // SAFETY: every launch and copy is on the device's one stream (`Device::stream`), in
    // order.
    unsafe { ctx.disable_event_tracking() };
    let name = ctx.name().map_err(drv)?;
    let class = class_named(&name)?;
    let (major, minor) = ctx.compute_capability().map_err(drv)?;
    let arch = format!("sm_{major}{minor}");
    let driver_api = driver_api_version();
    let compiled = compile(kernels, &arch)?;
    let dev = Device::new(ctx, &compiled, grid.reps)?;
    let provenance = Provenance {
        device: name,
        driver: Some(match kernel_module_version() {
            Some(v) => format!("{v} (CUDA driver API {driver_api})"),
            None => format!("CUDA driver API {driver_api}"),
        }),
        cuda: Some(format!(
            "compute capability {major}.{minor}, NVRTC {}, kernels built for {arch}",
            nvrtc_version()?
        )),
        date: Some(super::cpu::today()),
        citation: Some(format!(
            "depinsim {} cuda backend",
            env!("CARGO_PKG_VERSION")
        )),
        kernels: compiled
            .iter()
            .map(|c| (c.file.to_string(), c.hash.clone()))
            .collect(),
        ..Provenance::default()
    };
    let mut p = Profile {
        class: class.id.into(),
        source: Source::Measured,
        peaks: Peaks {
            flops: class.bf16_tflops * 1e12,
            bytes_per_s: class.mem_bandwidth_tbs * 1e12,
        },
        ..Profile::empty()
    };
    // The families draw their random inputs from one generator in this order, which, with
    // the seed, fixes every input: keep it.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    copy::measure(&dev, grid, &mut rng, &mut p)?;
    let blas = CudaBlas::new(dev.stream.clone()).map_err(drv)?;
    decode::measure(&dev, &blas, grid, &mut rng, &mut p)?;
    attention::measure(&dev, grid, &mut rng, &mut p)?;
    matmul::measure(&dev, &blas, grid, &mut rng, &mut p)?;
    p.provenance = provenance;
    Ok(p)
}

/// The datasheet class of the device named `name` (its peaks are needed).
fn class_named(name: &str) -> Result<&'static GpuClass, CudaError> {
    let class_id = class_of(name).ok_or_else(|| {
        CudaError::Unavailable(format!(
            "`{name}` is not a GPU class of the datasheet table: its peaks are unknown"
        ))
    })?;
    find_class(class_id).ok_or_else(|| CudaError::Unavailable(class_id.into()))
}

/// The CUDA driver API's version, `major.minor`.
fn driver_api_version() -> String {
    let mut v = 0;
    // SAFETY: writes one int.
    unsafe { sys::cuDriverGetVersion(&mut v) };
    format!("{}.{}", v / 1000, (v % 1000) / 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_map_to_classes() {
        assert_eq!(class_of("NVIDIA H100 80GB HBM3"), Some("h100_sxm"));
        assert_eq!(class_of("NVIDIA H100 PCIe"), Some("h100_pcie"));
        assert_eq!(class_of("NVIDIA H200"), Some("h200_sxm"));
        assert_eq!(class_of("NVIDIA GeForce RTX 4090"), Some("rtx_4090"));
        assert_eq!(class_of("Tesla T4"), None);
    }

    #[test]
    fn without_a_driver_it_says_so() {
        // On machines without libcuda this is the path taken; with a GPU it opens one.
        match check_available() {
            Ok(_) => {}
            Err(CudaError::Unavailable(why)) => assert!(!why.is_empty()),
            Err(e) => panic!("unexpected {e}"),
        }
    }
}
