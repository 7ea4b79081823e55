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

use std::ffi::CString;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cudarc::cublas::{CudaBlas, Gemm, GemmConfig, sys::cublasOperation_t};
use cudarc::driver::{
    CudaContext, CudaModule, CudaSlice, CudaStream, LaunchConfig, PushKernelArg, sys,
};
use cudarc::nvrtc::{Ptx, result as nvrtc};
use half::bf16;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::kernels::{
    ATTENTION_WARPS, DECODE_BATCHES, HEAD_DIM, KERNELS, Resources, decode_function,
    parse_ptxas_log, source_hash,
};
use super::{Peaks, Point, Profile, Provenance, Source};
use crate::physics::gpu::find_class;

/// The sizes measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// Bytes copied (device to device, and between host and device).
    pub copy_bytes: Vec<usize>,
    /// Decode weight matrix: rows x cols (cols a multiple of 8).
    pub decode_shape: (usize, usize),
    /// Decode batches, each one of [`DECODE_BATCHES`].
    pub decode_batches: Vec<usize>,
    /// Attention: the cached positions measured.
    pub attention_positions: Vec<usize>,
    /// Attention: heads per request.
    pub attention_heads: usize,
    /// Attention: keys and values read per measurement, at least (whole requests added until
    /// reached), bytes.
    pub attention_min_bytes: usize,
    /// Matrix dimensions (multiples of 16).
    pub matmul_sizes: Vec<usize>,
    /// Timed repetitions per point.
    pub reps: u32,
}

impl Grid {
    /// A quick grid (tens of seconds on an H100-class GPU).
    pub fn small() -> Self {
        Self {
            copy_bytes: vec![256 << 20],
            decode_shape: (16_384, 8192),
            decode_batches: vec![1, 8, 64],
            attention_positions: vec![1024, 8192],
            attention_heads: 32,
            attention_min_bytes: 256 << 20,
            matmul_sizes: vec![2048, 8192],
            reps: 10,
        }
    }

    /// The full grid (about a minute on an H100-class GPU, most of it the host's references
    /// and random inputs).
    pub fn full() -> Self {
        Self {
            copy_bytes: vec![16 << 20, 64 << 20, 256 << 20, 1 << 30],
            decode_shape: (16_384, 8192),
            decode_batches: DECODE_BATCHES.to_vec(),
            attention_positions: vec![512, 1024, 2048, 4096, 8192],
            attention_heads: 32,
            attention_min_bytes: 256 << 20,
            matmul_sizes: vec![1024, 2048, 4096, 8192],
            reps: 50,
        }
    }
}

/// Why the CUDA backend could not calibrate.
#[derive(Debug, thiserror::Error)]
pub enum CudaError {
    /// No driver, NVRTC, cuBLAS or GPU: nothing was measured.
    #[error("{0}")]
    Unavailable(String),
    /// The caller's input is at fault: a kernel source that cannot be read (a wrong
    /// `--kernels` folder), an architecture NVRTC does not compile for.
    #[error("{0}")]
    Input(String),
    /// A kernel did not compile.
    #[error("compiling {kernel}: {message}")]
    Compile {
        /// The kernel file.
        kernel: String,
        /// NVRTC's log, or why the file could not be read.
        message: String,
    },
    /// A kernel's output did not match the CPU reference: nothing of it was timed.
    #[error("{kernel} at size {size}: {what}")]
    Check {
        /// The kernel.
        kernel: &'static str,
        /// The size checked.
        size: usize,
        /// What was wrong.
        what: String,
    },
    /// A driver or cuBLAS call failed.
    #[error("{0}")]
    Driver(String),
}

fn drv(e: impl std::fmt::Debug) -> CudaError {
    CudaError::Driver(format!("{e:?}"))
}

/// Runs `f`, turning a panic inside cudarc (a shared library that does not load, a symbol
/// it lacks) into an error that says so.
fn contained<T>(f: impl FnOnce() -> Result<T, CudaError>) -> Result<T, CudaError> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    r.unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_else(|| "unknown panic".into());
        if msg.contains("load") || msg.contains("symbol") {
            Err(CudaError::Unavailable(format!(
                "a CUDA library did not load or lacks a function this build needs ({msg}); \
                 kernels/calibrate.sh links the toolkit's libraries where this build looks"
            )))
        } else {
            Err(CudaError::Driver(format!(
                "the CUDA backend stopped: {msg}"
            )))
        }
    })
}

/// Whether NVRTC loads: the reason if not.
fn nvrtc_present() -> Result<(), CudaError> {
    // SAFETY: this only tries to load the shared library.
    if unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        Ok(())
    } else {
        Err(CudaError::Unavailable(
            "NVRTC (libnvrtc, part of the CUDA toolkit) could not be loaded: install the CUDA \
             toolkit, or put a folder with libnvrtc.so (a link to libnvrtc.so.12 or .13) on \
             LD_LIBRARY_PATH; kernels/calibrate.sh does this"
                .into(),
        ))
    }
}

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

/// Folders that may hold the toolkit's headers (mma.h, cuda_bf16.h), which NVRTC needs for
/// the WMMA kernel: `$CUDA_HOME`, `$CUDA_PATH`, `/usr/local/cuda`, and the toolkit of the
/// `nvcc` on `PATH`; those that exist.
pub fn include_dirs() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = ["CUDA_HOME", "CUDA_PATH"]
        .iter()
        .filter_map(|v| std::env::var_os(v).map(PathBuf::from))
        .collect();
    roots.push(PathBuf::from("/usr/local/cuda"));
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("nvcc").is_file()
                && let Some(root) = dir.parent()
            {
                roots.push(root.to_path_buf());
            }
        }
    }
    let mut out: Vec<PathBuf> = Vec::new();
    for inc in roots.into_iter().map(|r| r.join("include")) {
        if inc.is_dir() && !out.contains(&inc) {
            out.push(inc);
        }
    }
    out
}

/// One kernel source, compiled.
#[derive(Debug)]
pub struct Compiled {
    /// The file in `kernels/`.
    pub file: &'static str,
    /// SHA-256 of the source.
    pub hash: String,
    /// The machine code (CUBIN) for the architecture asked for.
    pub cubin: Vec<u8>,
    /// The compiler's report of each entry point.
    pub resources: Vec<Resources>,
}

/// NVRTC's version, `major.minor`.
pub fn nvrtc_version() -> Result<String, CudaError> {
    contained(|| {
        nvrtc_present()?;
        let (mut major, mut minor) = (0, 0);
        // SAFETY: writes two ints.
        unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor) }
            .result()
            .map_err(drv)?;
        Ok(format!("{major}.{minor}"))
    })
}

/// Compiles every kernel source of `kernels` (the folder of the `.cu` files) for `arch`
/// (`sm_90`) with NVRTC, with the compiler's resource report. Needs NVRTC, not a GPU.
///
/// # Errors
/// NVRTC missing, a source that cannot be read, or a compile error (with NVRTC's log).
pub fn compile(kernels: &Path, arch: &str) -> Result<Vec<Compiled>, CudaError> {
    contained(|| {
        nvrtc_present()?;
        let includes = include_dirs();
        let mut out = Vec::new();
        for (file, _) in KERNELS {
            let path = kernels.join(file);
            let src = std::fs::read_to_string(&path).map_err(|e| {
                CudaError::Input(format!(
                    "{}: {e}; give --kernels DIR, the folder of the calibration's .cu files",
                    path.display()
                ))
            })?;
            let bad = |message: String| CudaError::Compile {
                kernel: file.to_string(),
                message,
            };
            let csrc = CString::new(src.as_str()).map_err(|e| bad(e.to_string()))?;
            let name = CString::new(file).map_err(|e| bad(e.to_string()))?;
            let prog = nvrtc::create_program(&csrc, Some(&name)).map_err(|e| bad(e.to_string()))?;
            let mut opts = vec![
                format!("--gpu-architecture={arch}"),
                "--std=c++17".to_string(),
                "-Xptxas=-v".to_string(),
            ];
            opts.extend(
                includes
                    .iter()
                    .map(|d| format!("--include-path={}", d.display())),
            );
            // SAFETY: `prog` was created above and is destroyed once, below.
            let compiled = unsafe { nvrtc::compile_program(prog, &opts) };
            // SAFETY: as above.
            let log = unsafe { nvrtc::get_program_log(prog) }
                .map(|l| {
                    let bytes: Vec<u8> =
                        l.iter().map(|&c| c as u8).take_while(|&b| b != 0).collect();
                    String::from_utf8_lossy(&bytes).into_owned()
                })
                .unwrap_or_default();
            let cubin = compiled.map_err(|e| e.to_string()).and_then(|()| {
                let mut size = 0usize;
                // SAFETY: as above; the buffer holds `size` bytes.
                unsafe {
                    cudarc::nvrtc::sys::nvrtcGetCUBINSize(prog, &mut size)
                        .result()
                        .map_err(|e| e.to_string())?;
                    let mut buf = vec![0u8; size];
                    cudarc::nvrtc::sys::nvrtcGetCUBIN(prog, buf.as_mut_ptr().cast())
                        .result()
                        .map_err(|e| e.to_string())?;
                    Ok(buf)
                }
            });
            // SAFETY: as above; not used after this.
            let _ = unsafe { nvrtc::destroy_program(prog) };
            if log.contains("--gpu-architecture") {
                return Err(CudaError::Input(format!(
                    "NVRTC cannot compile for the architecture `{arch}` (give one such as \
                     sm_80, sm_86, sm_89, sm_90): {}",
                    log.trim()
                )));
            }
            let cubin = cubin.map_err(|e| {
                let hint = if log.contains("could not open source file") {
                    let looked = if includes.is_empty() {
                        "none of $CUDA_HOME, $CUDA_PATH, /usr/local/cuda or the toolkit of an \
                         nvcc on PATH has an include/ folder"
                            .to_string()
                    } else {
                        format!(
                            "looked in {}",
                            includes
                                .iter()
                                .map(|d| d.display().to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    format!(
                        "\nNVRTC needs the CUDA toolkit's headers: set CUDA_HOME to the toolkit \
                         (its include/ holds mma.h), or run kernels/nvrtc.sh; {looked}"
                    )
                } else {
                    String::new()
                };
                bad(format!("{e}\n{}{hint}", log.trim_end()))
            })?;
            out.push(Compiled {
                file,
                hash: source_hash(&src),
                cubin,
                resources: parse_ptxas_log(&log),
            });
        }
        Ok(out)
    })
}

/// Median and spread of `reps` timings (seconds) of `f` between two events, after one
/// warm-up.
fn time(
    ctx: &Arc<CudaContext>,
    stream: &Arc<CudaStream>,
    reps: u32,
    mut f: impl FnMut() -> Result<(), CudaError>,
) -> Result<(f64, f64), CudaError> {
    f()?;
    stream.synchronize().map_err(drv)?;
    let flags = Some(sys::CUevent_flags::CU_EVENT_DEFAULT);
    let mut t = Vec::with_capacity(reps as usize);
    for _ in 0..reps.max(1) {
        let start = ctx.new_event(flags).map_err(drv)?;
        let end = ctx.new_event(flags).map_err(drv)?;
        start.record(stream).map_err(drv)?;
        f()?;
        end.record(stream).map_err(drv)?;
        t.push(f64::from(start.elapsed_ms(&end).map_err(drv)?) / 1e3);
    }
    t.sort_by(f64::total_cmp);
    let median = t[t.len() / 2];
    Ok((
        median,
        (t[t.len() - 1] - t[0]) / median.max(f64::MIN_POSITIVE),
    ))
}

fn point(x: usize, work: f64, (t, spread): (f64, f64), reps: u32) -> Point {
    Point {
        x: x as f64,
        median: work / t,
        spread,
        reps,
    }
}

/// cuBLAS's column-major C (m x n) = op(A) B with bf16 operands, alpha 1 and beta 0; op(A)
/// is A transposed when `transpose_a`. `(m, n, k)` and the leading dimensions `(lda, ldb,
/// ldc)` as cuBLAS takes them.
fn bf16_gemm(
    transpose_a: bool,
    (m, n, k): (i32, i32, i32),
    (lda, ldb, ldc): (i32, i32, i32),
) -> GemmConfig<bf16> {
    GemmConfig {
        transa: if transpose_a {
            cublasOperation_t::CUBLAS_OP_T
        } else {
            cublasOperation_t::CUBLAS_OP_N
        },
        transb: cublasOperation_t::CUBLAS_OP_N,
        m,
        n,
        k,
        alpha: bf16::from_f32(1.0),
        lda,
        ldb,
        beta: bf16::from_f32(0.0),
        ldc,
    }
}

/// ||got - want|| / ||want||; NaN if any output is NaN (never written).
fn rel_error(got: &[f32], want: &[f64]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (&g, &w) in got.iter().zip(want) {
        let g = f64::from(g);
        num += (g - w) * (g - w);
        den += w * w;
    }
    (num / den.max(f64::MIN_POSITIVE)).sqrt()
}

/// Fails unless every element of `out` was written (not NaN).
fn all_written(kernel: &'static str, size: usize, out: &[f32]) -> Result<(), CudaError> {
    match out.iter().position(|v| v.is_nan()) {
        None => Ok(()),
        Some(i) => Err(CudaError::Check {
            kernel,
            size,
            what: format!("element {i} of {} not written", out.len()),
        }),
    }
}

/// Fails unless the relative error is within `tol`.
fn within(
    kernel: &'static str,
    size: usize,
    got: &[f32],
    want: &[f64],
    tol: f64,
) -> Result<(), CudaError> {
    let e = rel_error(got, want);
    if e <= tol {
        Ok(())
    } else {
        Err(CudaError::Check {
            kernel,
            size,
            what: format!("relative error {e:.3e} against the reference (tolerance {tol:.0e})"),
        })
    }
}

/// Relative tolerance of fp32 accumulation over bf16 inputs (exact in both the kernel and the
/// reference): rounding of sums of thousands of terms.
const FP32_TOL: f64 = 1e-4;
/// Relative tolerance of a bf16 output (8 bits of mantissa).
const BF16_TOL: f64 = 1e-2;

fn random_bf16(rng: &mut Xoshiro256PlusPlus, n: usize) -> Vec<bf16> {
    (0..n)
        .map(|_| bf16::from_f32(rng.random_range(-1.0f32..1.0)))
        .collect()
}

fn random_f32(rng: &mut Xoshiro256PlusPlus, n: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|_| scale * rng.random_range(-1.0f32..1.0))
        .collect()
}

/// Up to `k` distinct indices below `n`, sorted (all of them when `n <= k`).
fn sample(rng: &mut Xoshiro256PlusPlus, n: usize, k: usize) -> Vec<usize> {
    if n <= k {
        return (0..n).collect();
    }
    let mut s: Vec<usize> = (0..k).map(|_| rng.random_range(0..n)).collect();
    s.sort_unstable();
    s.dedup();
    s
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
    // SAFETY: every launch and copy below is on `stream`, in order.
    unsafe { ctx.disable_event_tracking() };
    let stream = ctx.default_stream();
    let name = ctx.name().map_err(drv)?;
    let class_id = class_of(&name).ok_or_else(|| {
        CudaError::Unavailable(format!(
            "`{name}` is not a GPU class of the datasheet table: its peaks are unknown"
        ))
    })?;
    let class = find_class(class_id).ok_or_else(|| CudaError::Unavailable(class_id.into()))?;
    let (major, minor) = ctx.compute_capability().map_err(drv)?;
    let arch = format!("sm_{major}{minor}");
    let mut driver_api = 0;
    // SAFETY: writes one int.
    unsafe { sys::cuDriverGetVersion(&mut driver_api) };
    let driver_api = format!("{}.{}", driver_api / 1000, (driver_api % 1000) / 10);

    let compiled = compile(kernels, &arch)?;
    let mut modules: Vec<(&str, Arc<CudaModule>)> = Vec::new();
    for c in &compiled {
        modules.push((
            c.file,
            ctx.load_module(Ptx::from_binary(c.cubin.clone()))
                .map_err(drv)?,
        ));
    }
    let function = |file: &str, f: &str| -> Result<cudarc::driver::CudaFunction, CudaError> {
        let m = modules
            .iter()
            .find(|(n, _)| *n == file)
            .map(|(_, m)| m)
            .ok_or_else(|| CudaError::Driver(format!("{file} not compiled")))?;
        m.load_function(f).map_err(drv)
    };
    let provenance = Provenance {
        device: name.clone(),
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
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let reps = grid.reps;
    let mut p = Profile {
        class: class.id.into(),
        source: Source::Measured,
        peaks: Peaks {
            flops: class.bf16_tflops * 1e12,
            bytes_per_s: class.mem_bandwidth_tbs * 1e12,
        },
        ..Profile::empty()
    };

    // Copies: device to device (the kernel), host to device and device to host (the driver's
    // copies, from and to pageable host memory).
    let copy_f = function("copy.cu", "copy_f4")?;
    for &bytes in &grid.copy_bytes {
        let n = bytes / 4;
        let host = random_f32(&mut rng, n, 1.0);
        let src = stream.clone_htod(&host).map_err(drv)?;
        let mut dst = stream.clone_htod(&vec![f32::NAN; n]).map_err(drv)?;
        let n4 = (n / 4) as u64;
        let cfg = LaunchConfig {
            grid_dim: (n4.div_ceil(256).min(65_535 * 8) as u32, 1, 1),
            block_dim: (256, 1, 1),
            shared_mem_bytes: 0,
        };
        let run = |dst: &mut CudaSlice<f32>| -> Result<(), CudaError> {
            let mut b = stream.launch_builder(&copy_f);
            b.arg(&src).arg(dst).arg(&n4);
            // SAFETY: the arguments match the kernel's signature and buffer sizes.
            unsafe { b.launch(cfg) }.map(|_| ()).map_err(drv)
        };
        run(&mut dst)?;
        let back = stream.clone_dtoh(&dst).map_err(drv)?;
        if let Some(i) = back.iter().zip(&host).position(|(a, b)| a != b) {
            return Err(CudaError::Check {
                kernel: "copy",
                size: bytes,
                what: format!("element {i} not copied"),
            });
        }
        p.copy.0.push(point(
            bytes,
            2.0 * (n4 * 16) as f64,
            time(ctx, &stream, reps, || run(&mut dst))?,
            reps,
        ));
        let mut dev = stream.alloc_zeros::<f32>(n).map_err(drv)?;
        let h2d = time(ctx, &stream, reps, || {
            stream.memcpy_htod(&host, &mut dev).map_err(drv)
        })?;
        p.host_to_device
            .0
            .push(point(bytes, (n * 4) as f64, h2d, reps));
        let mut out = vec![0.0f32; n];
        let d2h = time(ctx, &stream, reps, || {
            stream.memcpy_dtoh(&dev, &mut out).map_err(drv)
        })?;
        if out != host {
            return Err(CudaError::Check {
                kernel: "copy",
                size: bytes,
                what: "host to device and back changed the data".into(),
            });
        }
        p.device_to_host
            .0
            .push(point(bytes, (n * 4) as f64, d2h, reps));
    }

    // Decode: bf16 matrix-vector products, the kernel and cuBLAS at the same shapes.
    let blas = CudaBlas::new(stream.clone()).map_err(drv)?;
    let (rows, cols) = grid.decode_shape;
    let w = random_bf16(&mut rng, rows * cols);
    let w_dev = stream.clone_htod(&w).map_err(drv)?;
    let weight_bytes = (rows * cols * 2) as f64;
    for &batch in &grid.decode_batches {
        let f = decode_function(batch).ok_or_else(|| {
            CudaError::Driver(format!(
                "decode batch {batch} has no kernel (one of {DECODE_BATCHES:?})"
            ))
        })?;
        let gemv = function("decode.cu", &f)?;
        let x = random_f32(&mut rng, batch * cols, 1.0);
        let x_dev = stream.clone_htod(&x).map_err(drv)?;
        let mut y_dev = stream
            .clone_htod(&vec![f32::NAN; batch * rows])
            .map_err(drv)?;
        let (r, c) = (rows as i32, cols as i32);
        let cfg = LaunchConfig {
            grid_dim: ((rows * 32).div_ceil(256) as u32, 1, 1),
            block_dim: (256, 1, 1),
            shared_mem_bytes: 0,
        };
        let run = |y: &mut CudaSlice<f32>| -> Result<(), CudaError> {
            let mut b = stream.launch_builder(&gemv);
            b.arg(&w_dev).arg(&x_dev).arg(y).arg(&r).arg(&c);
            // SAFETY: the arguments match the kernel's signature and buffer sizes.
            unsafe { b.launch(cfg) }.map(|_| ()).map_err(drv)
        };
        run(&mut y_dev)?;
        let y = stream.clone_dtoh(&y_dev).map_err(drv)?;
        all_written("decode", batch, &y)?;
        let check_rows = sample(&mut rng, rows, 256);
        let reference = |xs: &dyn Fn(usize) -> f64| -> Vec<f64> {
            let mut want = Vec::with_capacity(batch * check_rows.len());
            for bi in 0..batch {
                for &ri in &check_rows {
                    want.push(
                        (0..cols)
                            .map(|ci| f64::from(w[ri * cols + ci].to_f32()) * xs(bi * cols + ci))
                            .sum(),
                    );
                }
            }
            want
        };
        let picked = |y: &[f32]| -> Vec<f32> {
            (0..batch)
                .flat_map(|bi| check_rows.iter().map(move |&ri| y[bi * rows + ri]))
                .collect()
        };
        within(
            "decode",
            batch,
            &picked(&y),
            &reference(&|i| f64::from(x[i])),
            FP32_TOL,
        )?;
        p.decode.0.push(point(
            batch,
            weight_bytes,
            time(ctx, &stream, reps, || run(&mut y_dev))?,
            reps,
        ));

        // cuBLAS, column-major: Y^T (rows x batch) = op(W) X^T with W read transposed from
        // its row-major (cols x rows column-major) storage.
        let xb: Vec<bf16> = x.iter().map(|&v| bf16::from_f32(v)).collect();
        let xb_dev = stream.clone_htod(&xb).map_err(drv)?;
        let mut yb_dev = stream.alloc_zeros::<bf16>(batch * rows).map_err(drv)?;
        let gcfg = bf16_gemm(true, (r, batch as i32, c), (c, c, r));
        let gemm = |yb: &mut CudaSlice<bf16>| -> Result<(), CudaError> {
            // SAFETY: W holds rows x cols, X batch x cols, Y batch x rows elements.
            unsafe { blas.gemm(gcfg, &w_dev, &xb_dev, yb) }.map_err(drv)
        };
        gemm(&mut yb_dev)?;
        let yb: Vec<f32> = stream
            .clone_dtoh(&yb_dev)
            .map_err(drv)?
            .iter()
            .map(|v| v.to_f32())
            .collect();
        within(
            "decode_library",
            batch,
            &picked(&yb),
            &reference(&|i| f64::from(xb[i].to_f32())),
            BF16_TOL,
        )?;
        p.decode_library.0.push(point(
            batch,
            weight_bytes,
            time(ctx, &stream, reps, || gemm(&mut yb_dev))?,
            reps,
        ));
    }
    drop(w_dev);

    // Attention over a KV cache: as many requests of `heads` heads as it takes to read
    // `attention_min_bytes`, positions split into chunks of CHUNK.
    const CHUNK: usize = 256;
    let split_f = function("attention.cu", "kv_attention_split")?;
    let combine_f = function("attention.cu", "kv_combine")?;
    let heads = grid.attention_heads.max(1);
    for &seq in &grid.attention_positions {
        let pair_bytes = seq * HEAD_DIM * 2 * 2;
        let pairs = grid.attention_min_bytes.div_ceil(pair_bytes * heads).max(1) * heads;
        let chunks = seq.div_ceil(CHUNK);
        let k = random_bf16(&mut rng, pairs * seq * HEAD_DIM);
        let v = random_bf16(&mut rng, pairs * seq * HEAD_DIM);
        // Scores of a few units: a softmax far from uniform.
        let q = random_f32(&mut rng, pairs * HEAD_DIM, 4.0);
        let (k_dev, v_dev, q_dev) = (
            stream.clone_htod(&k).map_err(drv)?,
            stream.clone_htod(&v).map_err(drv)?,
            stream.clone_htod(&q).map_err(drv)?,
        );
        let mut part_dev = stream
            .alloc_zeros::<f32>(pairs * chunks * (HEAD_DIM + 2))
            .map_err(drv)?;
        let mut o_dev = stream
            .clone_htod(&vec![f32::NAN; pairs * HEAD_DIM])
            .map_err(drv)?;
        let (s32, chunk32, chunks32) = (seq as i32, CHUNK as i32, chunks as i32);
        let split_cfg = LaunchConfig {
            grid_dim: (chunks as u32, pairs as u32, 1),
            block_dim: (32 * ATTENTION_WARPS, 1, 1),
            shared_mem_bytes: 0,
        };
        let combine_cfg = LaunchConfig {
            grid_dim: (pairs as u32, 1, 1),
            block_dim: (HEAD_DIM as u32, 1, 1),
            shared_mem_bytes: 0,
        };
        let mut run = |o: &mut CudaSlice<f32>| -> Result<(), CudaError> {
            let mut b = stream.launch_builder(&split_f);
            b.arg(&k_dev)
                .arg(&v_dev)
                .arg(&q_dev)
                .arg(&mut part_dev)
                .arg(&s32)
                .arg(&chunk32);
            // SAFETY: the arguments match the kernel's signature and buffer sizes.
            unsafe { b.launch(split_cfg) }.map_err(drv)?;
            let mut b = stream.launch_builder(&combine_f);
            b.arg(&part_dev).arg(o).arg(&chunks32);
            // SAFETY: as above.
            unsafe { b.launch(combine_cfg) }.map(|_| ()).map_err(drv)
        };
        run(&mut o_dev)?;
        let o = stream.clone_dtoh(&o_dev).map_err(drv)?;
        all_written("attention", seq, &o)?;
        let check_pairs = sample(&mut rng, pairs, 64);
        let mut want = Vec::with_capacity(check_pairs.len() * HEAD_DIM);
        let mut got = Vec::with_capacity(want.capacity());
        for &h in &check_pairs {
            let base = h * seq * HEAD_DIM;
            let scores: Vec<f64> = (0..seq)
                .map(|t| {
                    (0..HEAD_DIM)
                        .map(|i| {
                            f64::from(q[h * HEAD_DIM + i])
                                * f64::from(k[base + t * HEAD_DIM + i].to_f32())
                        })
                        .sum::<f64>()
                        / (HEAD_DIM as f64).sqrt()
                })
                .collect();
            let m = scores.iter().copied().fold(f64::MIN, f64::max);
            let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
            let sum: f64 = e.iter().sum();
            for i in 0..HEAD_DIM {
                want.push(
                    (0..seq)
                        .map(|t| e[t] * f64::from(v[base + t * HEAD_DIM + i].to_f32()))
                        .sum::<f64>()
                        / sum,
                );
                got.push(o[h * HEAD_DIM + i]);
            }
        }
        within("attention", seq, &got, &want, FP32_TOL)?;
        p.attention.0.push(point(
            seq,
            (pairs * pair_bytes) as f64,
            time(ctx, &stream, reps, || run(&mut o_dev))?,
            reps,
        ));
    }

    // Matrix products: the WMMA kernel and cuBLAS.
    let mm_f = function("matmul_wmma.cu", "matmul_wmma_bf16")?;
    for &n in &grid.matmul_sizes {
        let a = random_bf16(&mut rng, n * n);
        let b = random_bf16(&mut rng, n * n);
        let (a_dev, b_dev) = (
            stream.clone_htod(&a).map_err(drv)?,
            stream.clone_htod(&b).map_err(drv)?,
        );
        let mut c_dev = stream.clone_htod(&vec![f32::NAN; n * n]).map_err(drv)?;
        let n32 = n as i32;
        let tiles = (n / 16) * (n / 16);
        let cfg = LaunchConfig {
            grid_dim: ((tiles * 32).div_ceil(256) as u32, 1, 1),
            block_dim: (256, 1, 1),
            shared_mem_bytes: 0,
        };
        let run = |c: &mut CudaSlice<f32>| -> Result<(), CudaError> {
            let mut l = stream.launch_builder(&mm_f);
            l.arg(&a_dev).arg(&b_dev).arg(c).arg(&n32);
            // SAFETY: the arguments match the kernel's signature and buffer sizes.
            unsafe { l.launch(cfg) }.map(|_| ()).map_err(drv)
        };
        run(&mut c_dev)?;
        let c = stream.clone_dtoh(&c_dev).map_err(drv)?;
        all_written("matmul", n, &c)?;
        let entries: Vec<(usize, usize)> = (0..256)
            .map(|_| (rng.random_range(0..n), rng.random_range(0..n)))
            .collect();
        let want: Vec<f64> = entries
            .iter()
            .map(|&(i, j)| {
                (0..n)
                    .map(|k| f64::from(a[i * n + k].to_f32()) * f64::from(b[k * n + j].to_f32()))
                    .sum()
            })
            .collect();
        let got: Vec<f32> = entries.iter().map(|&(i, j)| c[i * n + j]).collect();
        within("matmul", n, &got, &want, FP32_TOL)?;
        let flops = 2.0 * (n as f64).powi(3);
        p.matmul.0.push(point(
            n,
            flops,
            time(ctx, &stream, reps, || run(&mut c_dev))?,
            reps,
        ));

        // cuBLAS is column-major: C^T = B^T A^T, so row-major C = A B is gemm(B, A).
        let mut cb_dev = stream.alloc_zeros::<bf16>(n * n).map_err(drv)?;
        let cfg = bf16_gemm(false, (n32, n32, n32), (n32, n32, n32));
        let gemm = |cb: &mut CudaSlice<bf16>| -> Result<(), CudaError> {
            // SAFETY: the buffers hold n x n elements each.
            unsafe { blas.gemm(cfg, &b_dev, &a_dev, cb) }.map_err(drv)
        };
        gemm(&mut cb_dev)?;
        let cb = stream.clone_dtoh(&cb_dev).map_err(drv)?;
        let got: Vec<f32> = entries
            .iter()
            .map(|&(i, j)| cb[i * n + j].to_f32())
            .collect();
        within("cublas", n, &got, &want, BF16_TOL)?;
        p.matmul_library.0.push(point(
            n,
            flops,
            time(ctx, &stream, reps, || gemm(&mut cb_dev))?,
            reps,
        ));
    }
    p.provenance = provenance;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::kernels::ARCHS;

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

    #[test]
    fn relative_error_is_a_norm_and_nan_fails() {
        assert_eq!(rel_error(&[3.0, 4.0], &[3.0, 4.0]), 0.0);
        assert!((rel_error(&[3.0, 4.5], &[3.0, 4.0]) - 0.1).abs() < 1e-12);
        assert!(within("t", 1, &[f32::NAN], &[1.0], 1.0).is_err());
        assert!(all_written("t", 1, &[1.0, f32::NAN]).is_err());
    }

    #[test]
    fn samples_are_distinct_and_in_range() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        assert_eq!(sample(&mut rng, 5, 10), vec![0, 1, 2, 3, 4]);
        let s = sample(&mut rng, 1000, 64);
        assert!(s.windows(2).all(|w| w[0] < w[1]) && *s.last().unwrap() < 1000);
    }

    /// With NVRTC present (CI installs it; see kernels/nvrtc.sh), every kernel compiles for
    /// the architectures of the catalogue without local memory. `DEPINSIM_REQUIRE_NVRTC=1`
    /// makes a missing NVRTC a failure instead of a skip.
    #[test]
    fn kernels_compile_without_local_memory_where_nvrtc_is() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels");
        let required = std::env::var_os("DEPINSIM_REQUIRE_NVRTC").is_some_and(|v| v == "1");
        for arch in ARCHS {
            match compile(&dir, arch) {
                Err(CudaError::Unavailable(why)) if !required => {
                    eprintln!("skipped: {why}");
                    return;
                }
                Err(e) => panic!("{arch}: {e}"),
                Ok(compiled) => {
                    let defined: usize = KERNELS.iter().map(|(_, f)| f.len()).sum();
                    let reported: Vec<&Resources> =
                        compiled.iter().flat_map(|c| &c.resources).collect();
                    assert_eq!(reported.len(), defined, "{arch}: {reported:?}");
                    for r in reported {
                        assert_eq!(r.arch, arch);
                        assert!(!r.uses_local_memory(), "{arch}: {r:?}");
                        assert!(r.registers > 0 && r.registers <= 255, "{r:?}");
                    }
                    assert!(compiled.iter().all(|c| !c.cubin.is_empty()));
                }
            }
        }
    }
}
