//! The CUDA calibration backend (feature `cuda`): compiles the kernels in `kernels/` with
//! NVRTC at run time, checks each against a CPU reference on fresh random inputs (every
//! output element written, relative error within the precision's tolerance), then times it
//! with device events (a warm-up, then `reps` repetitions: median and spread).
//!
//! The driver, NVRTC and cuBLAS are loaded at run time, so this compiles without a CUDA
//! toolkit; without a driver or a GPU, [`calibrate`] returns [`CudaError::Unavailable`]
//! instead of panicking.

use std::path::Path;
use std::sync::Arc;

use cudarc::cublas::{CudaBlas, Gemm, GemmConfig, sys::cublasOperation_t};
use cudarc::driver::{CudaContext, CudaSlice, CudaStream, LaunchConfig, PushKernelArg, sys};
use cudarc::nvrtc::{CompileOptions, compile_ptx_with_opts};
use half::bf16;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{Peaks, Point, Profile, Provenance, Source};
use crate::model::gpu::find_class;

/// The sizes measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// Bytes copied (device to device, and between host and device).
    pub copy_bytes: Vec<usize>,
    /// Decode weight matrix: rows x cols (cols a multiple of 8).
    pub decode_shape: (usize, usize),
    /// Decode batches (at most 64).
    pub decode_batches: Vec<usize>,
    /// Attention: heads, head dimension, and the cached positions measured (at most 8192).
    pub attention: (usize, usize, Vec<usize>),
    /// Matrix dimensions (multiples of 16).
    pub matmul_sizes: Vec<usize>,
    /// Timed repetitions per point.
    pub reps: u32,
}

impl Grid {
    /// A quick grid.
    pub fn small() -> Self {
        Self {
            copy_bytes: vec![64 << 20, 256 << 20],
            decode_shape: (4096, 4096),
            decode_batches: vec![1, 8, 64],
            attention: (32, 128, vec![1024, 4096]),
            matmul_sizes: vec![1024, 4096],
            reps: 10,
        }
    }

    /// The full grid.
    pub fn full() -> Self {
        Self {
            copy_bytes: vec![16 << 20, 64 << 20, 256 << 20, 1 << 30],
            decode_shape: (8192, 8192),
            decode_batches: vec![1, 2, 4, 8, 16, 32, 64],
            attention: (32, 128, vec![512, 1024, 2048, 4096, 8192]),
            matmul_sizes: vec![1024, 2048, 4096, 8192],
            reps: 50,
        }
    }
}

/// Why the CUDA backend could not calibrate.
#[derive(Debug, thiserror::Error)]
pub enum CudaError {
    /// No driver, no NVRTC, or no GPU: nothing was measured.
    #[error("{0}")]
    Unavailable(String),
    /// A kernel did not compile.
    #[error("compiling {kernel}: {message}")]
    Compile {
        /// The kernel file.
        kernel: String,
        /// NVRTC's log.
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

/// Whether the driver and NVRTC libraries load, and GPU 0 opens: the reason if not.
pub fn check_available() -> Result<Arc<CudaContext>, CudaError> {
    // SAFETY: these only try to load the shared libraries.
    let driver = unsafe { cudarc::driver::sys::is_culib_present() };
    if !driver {
        return Err(CudaError::Unavailable(
            "no NVIDIA driver found (libcuda could not be loaded): run on a machine with an \
             NVIDIA GPU and its driver, or use --backend cpu"
                .into(),
        ));
    }
    // SAFETY: as above.
    let nvrtc = unsafe { cudarc::nvrtc::sys::is_culib_present() };
    if !nvrtc {
        return Err(CudaError::Unavailable(
            "NVRTC (libnvrtc, part of the CUDA toolkit) could not be loaded: install the CUDA \
             toolkit or put its lib64 on LD_LIBRARY_PATH"
                .into(),
        ));
    }
    CudaContext::new(0)
        .map_err(|e| CudaError::Unavailable(format!("no usable GPU 0 ({e:?}); use --backend cpu")))
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

/// FNV-1a 64 of a kernel's source, hex (identifies the source a profile was measured with).
fn hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

/// Median and spread of `reps` timings (ms) of `f` between two events, after one warm-up.
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

fn close(got: f32, want: f64, tol: f64) -> bool {
    (f64::from(got) - want).abs() <= tol * want.abs().max(1.0)
}

/// Calibrates GPU 0 with the kernels in `kernels` (the directory of the `.cu` files).
///
/// # Errors
/// [`CudaError::Unavailable`] without a driver, NVRTC or GPU; a compile or check failure; a
/// failed driver call.
pub fn calibrate(grid: &Grid, kernels: &Path, seed: u64) -> Result<Profile, CudaError> {
    let ctx = check_available()?;
    let stream = ctx.default_stream();
    let name = ctx.name().map_err(drv)?;
    let class_id = class_of(&name).ok_or_else(|| {
        CudaError::Unavailable(format!(
            "`{name}` is not a GPU class of the datasheet table: its peaks are unknown"
        ))
    })?;
    let class = find_class(class_id).ok_or_else(|| CudaError::Unavailable(class_id.into()))?;
    let (major, minor) = ctx.compute_capability().map_err(drv)?;
    let arch: Option<&'static str> = match (major, minor) {
        (9, 0) => Some("sm_90"),
        (8, 9) => Some("sm_89"),
        (8, 6) => Some("sm_86"),
        (8, 0) => Some("sm_80"),
        _ => None,
    };
    let mut driver_version = 0;
    // SAFETY: writes one int.
    unsafe { sys::cuDriverGetVersion(&mut driver_version) };
    let include = std::env::var("CUDA_HOME").unwrap_or_else(|_| "/usr/local/cuda".into());

    let mut provenance = Provenance {
        device: name.clone(),
        driver: Some(format!(
            "CUDA driver API {}.{}",
            driver_version / 1000,
            (driver_version % 1000) / 10
        )),
        cuda: Some(format!("compute capability {major}.{minor}")),
        date: Some(super::cpu::today()),
        citation: Some(format!(
            "depinsim {} cuda backend",
            env!("CARGO_PKG_VERSION")
        )),
        ..Provenance::default()
    };
    let mut load = |file: &str, func: &str| -> Result<cudarc::driver::CudaFunction, CudaError> {
        let path = kernels.join(file);
        let src = std::fs::read_to_string(&path).map_err(|e| CudaError::Compile {
            kernel: path.display().to_string(),
            message: e.to_string(),
        })?;
        provenance.kernels.insert(file.to_string(), hash(&src));
        let opts = CompileOptions {
            arch,
            include_paths: vec![format!("{include}/include")],
            ..CompileOptions::default()
        };
        let ptx = compile_ptx_with_opts(&src, opts).map_err(|e| CudaError::Compile {
            kernel: file.into(),
            message: format!("{e:?}"),
        })?;
        let module = ctx.load_module(ptx).map_err(drv)?;
        module.load_function(func).map_err(drv)
    };
    let copy_f = load("copy.cu", "copy_f4")?;
    let gemv_f = load("decode.cu", "gemv_bf16")?;
    let attn_f = load("attention.cu", "kv_attention")?;
    let mm_f = load("matmul_wmma.cu", "matmul_wmma_bf16")?;
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

    // Copies: device to device, host to device, device to host.
    for &bytes in &grid.copy_bytes {
        let n = bytes / 4;
        let host: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
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
            time(&ctx, &stream, reps, || run(&mut dst))?,
            reps,
        ));
        let mut dev = stream.alloc_zeros::<f32>(n).map_err(drv)?;
        let h2d = time(&ctx, &stream, reps, || {
            stream.memcpy_htod(&host, &mut dev).map_err(drv)
        })?;
        p.host_to_device
            .0
            .push(point(bytes, (n * 4) as f64, h2d, reps));
        let mut out = vec![0.0f32; n];
        let d2h = time(&ctx, &stream, reps, || {
            stream.memcpy_dtoh(&dev, &mut out).map_err(drv)
        })?;
        p.device_to_host
            .0
            .push(point(bytes, (n * 4) as f64, d2h, reps));
    }

    // Decode: bf16 matrix-vector products.
    let (rows, cols) = grid.decode_shape;
    let w: Vec<bf16> = (0..rows * cols)
        .map(|_| bf16::from_f32(rng.random_range(-1.0f32..1.0)))
        .collect();
    let w_dev = stream.clone_htod(&w).map_err(drv)?;
    for &batch in &grid.decode_batches {
        let x: Vec<f32> = (0..batch * cols)
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect();
        let x_dev = stream.clone_htod(&x).map_err(drv)?;
        let mut y_dev = stream
            .clone_htod(&vec![f32::NAN; batch * rows])
            .map_err(drv)?;
        let (r, c, bt) = (rows as i32, cols as i32, batch as i32);
        let cfg = LaunchConfig {
            grid_dim: ((rows * 32).div_ceil(256) as u32, 1, 1),
            block_dim: (256, 1, 1),
            shared_mem_bytes: 0,
        };
        let run = |y: &mut CudaSlice<f32>| -> Result<(), CudaError> {
            let mut b = stream.launch_builder(&gemv_f);
            b.arg(&w_dev).arg(&x_dev).arg(y).arg(&r).arg(&c).arg(&bt);
            // SAFETY: the arguments match the kernel's signature and buffer sizes.
            unsafe { b.launch(cfg) }.map(|_| ()).map_err(drv)
        };
        run(&mut y_dev)?;
        let y = stream.clone_dtoh(&y_dev).map_err(drv)?;
        for bi in 0..batch {
            for ri in 0..rows {
                let want: f64 = (0..cols)
                    .map(|ci| f64::from(w[ri * cols + ci].to_f32()) * f64::from(x[bi * cols + ci]))
                    .sum();
                let got = y[bi * rows + ri];
                if !close(got, want, 1e-3 * (cols as f64).sqrt() / 8.0) {
                    return Err(CudaError::Check {
                        kernel: "decode",
                        size: batch,
                        what: format!("vector {bi} row {ri}: {got} against {want}"),
                    });
                }
            }
        }
        p.decode.0.push(point(
            batch,
            (rows * cols * 2) as f64,
            time(&ctx, &stream, reps, || run(&mut y_dev))?,
            reps,
        ));
    }

    // Attention over a KV cache.
    let (heads, d, ref seqs) = grid.attention;
    for &seq in seqs {
        let kv = |rng: &mut Xoshiro256PlusPlus| -> Vec<bf16> {
            (0..heads * seq * d)
                .map(|_| bf16::from_f32(rng.random_range(-1.0f32..1.0)))
                .collect()
        };
        let (k, v) = (kv(&mut rng), kv(&mut rng));
        let q: Vec<f32> = (0..heads * d)
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect();
        let (k_dev, v_dev, q_dev) = (
            stream.clone_htod(&k).map_err(drv)?,
            stream.clone_htod(&v).map_err(drv)?,
            stream.clone_htod(&q).map_err(drv)?,
        );
        let mut o_dev = stream.clone_htod(&vec![f32::NAN; heads * d]).map_err(drv)?;
        let (s32, d32) = (seq as i32, d as i32);
        let cfg = LaunchConfig {
            grid_dim: (heads as u32, 1, 1),
            block_dim: (256, 1, 1),
            shared_mem_bytes: ((seq + 256) * 4) as u32,
        };
        let run = |o: &mut CudaSlice<f32>| -> Result<(), CudaError> {
            let mut b = stream.launch_builder(&attn_f);
            b.arg(&k_dev)
                .arg(&v_dev)
                .arg(&q_dev)
                .arg(o)
                .arg(&s32)
                .arg(&d32);
            // SAFETY: the arguments match the kernel's signature and buffer sizes.
            unsafe { b.launch(cfg) }.map(|_| ()).map_err(drv)
        };
        run(&mut o_dev)?;
        let o = stream.clone_dtoh(&o_dev).map_err(drv)?;
        for h in 0..heads {
            let base = h * seq * d;
            let scores: Vec<f64> = (0..seq)
                .map(|t| {
                    (0..d)
                        .map(|i| f64::from(q[h * d + i]) * f64::from(k[base + t * d + i].to_f32()))
                        .sum::<f64>()
                        / (d as f64).sqrt()
                })
                .collect();
            let m = scores.iter().copied().fold(f64::MIN, f64::max);
            let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
            let sum: f64 = e.iter().sum();
            for i in 0..d {
                let want: f64 = (0..seq)
                    .map(|t| e[t] * f64::from(v[base + t * d + i].to_f32()))
                    .sum::<f64>()
                    / sum;
                let got = o[h * d + i];
                if !close(got, want, 1e-3) {
                    return Err(CudaError::Check {
                        kernel: "attention",
                        size: seq,
                        what: format!("head {h} dim {i}: {got} against {want}"),
                    });
                }
            }
        }
        let bytes = (2 * heads * seq * d * 2) as f64;
        p.attention.0.push(point(
            seq,
            bytes,
            time(&ctx, &stream, reps, || run(&mut o_dev))?,
            reps,
        ));
    }

    // Matrix products: the WMMA kernel and cuBLAS.
    let blas = CudaBlas::new(stream.clone()).map_err(drv)?;
    for &n in &grid.matmul_sizes {
        let a: Vec<bf16> = (0..n * n)
            .map(|_| bf16::from_f32(rng.random_range(-1.0f32..1.0)))
            .collect();
        let b: Vec<bf16> = (0..n * n)
            .map(|_| bf16::from_f32(rng.random_range(-1.0f32..1.0)))
            .collect();
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
        let entry = |i: usize, j: usize| -> f64 {
            (0..n)
                .map(|k| f64::from(a[i * n + k].to_f32()) * f64::from(b[k * n + j].to_f32()))
                .sum()
        };
        if let Some(i) = c.iter().position(|v| v.is_nan()) {
            return Err(CudaError::Check {
                kernel: "matmul",
                size: n,
                what: format!("element {i} not written"),
            });
        }
        let samples: Vec<(usize, usize)> = (0..256)
            .map(|_| (rng.random_range(0..n), rng.random_range(0..n)))
            .collect();
        for &(i, j) in &samples {
            let (got, want) = (c[i * n + j], entry(i, j));
            if !close(got, want, 1e-3 * (n as f64).sqrt() / 8.0) {
                return Err(CudaError::Check {
                    kernel: "matmul",
                    size: n,
                    what: format!("({i}, {j}): {got} against {want}"),
                });
            }
        }
        let flops = 2.0 * (n as f64).powi(3);
        p.matmul.0.push(point(
            n,
            flops,
            time(&ctx, &stream, reps, || run(&mut c_dev))?,
            reps,
        ));

        // cuBLAS is column-major: C^T = B^T A^T, so row-major C = A B is gemm(B, A).
        let mut cb_dev = stream.alloc_zeros::<bf16>(n * n).map_err(drv)?;
        let cfg = GemmConfig {
            transa: cublasOperation_t::CUBLAS_OP_N,
            transb: cublasOperation_t::CUBLAS_OP_N,
            m: n32,
            n: n32,
            k: n32,
            alpha: bf16::from_f32(1.0),
            lda: n32,
            ldb: n32,
            beta: bf16::from_f32(0.0),
            ldc: n32,
        };
        let gemm = |cb: &mut CudaSlice<bf16>| -> Result<(), CudaError> {
            // SAFETY: the buffers hold n x n elements each.
            unsafe { blas.gemm(cfg, &b_dev, &a_dev, cb) }.map_err(drv)
        };
        gemm(&mut cb_dev)?;
        let cb = stream.clone_dtoh(&cb_dev).map_err(drv)?;
        for &(i, j) in &samples {
            let (got, want) = (cb[i * n + j].to_f32(), entry(i, j));
            // A bf16 output has 8 bits of mantissa.
            if !close(got, want, 1e-2) {
                return Err(CudaError::Check {
                    kernel: "cublas",
                    size: n,
                    what: format!("({i}, {j}): {got} against {want}"),
                });
            }
        }
        p.matmul_library.0.push(point(
            n,
            flops,
            time(&ctx, &stream, reps, || gemm(&mut cb_dev))?,
            reps,
        ));
    }
    p.provenance = provenance;
    Ok(p)
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
