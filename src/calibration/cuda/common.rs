//! What every part of the CUDA backend shares: the sizes measured, the errors, and the
//! guards around a library that may not load.

use std::panic::AssertUnwindSafe;

use crate::calibration::kernels::DECODE_BATCHES;

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

pub(super) fn drv(e: impl std::fmt::Debug) -> CudaError {
    CudaError::Driver(format!("{e:?}"))
}

/// Runs `f`, turning a panic inside cudarc (a shared library that does not load, a symbol
/// it lacks) into an error that says so.
pub(super) fn contained<T>(f: impl FnOnce() -> Result<T, CudaError>) -> Result<T, CudaError> {
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
pub(super) fn nvrtc_present() -> Result<(), CudaError> {
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
