//! GPU 0 opened for measuring: its one stream and its loaded kernels, timing with device
//! events, and the pattern every kernel follows: run once, check the output against the
//! reference, and only then time it.

use std::sync::Arc;

use cudarc::cublas::{GemmConfig, sys::cublasOperation_t};
use cudarc::driver::{
    CudaContext, CudaFunction, CudaModule, CudaSlice, CudaStream, DeviceRepr, sys,
};
use cudarc::nvrtc::Ptx;
use half::bf16;

use super::common::{CudaError, drv};
use super::compiler::Compiled;
use crate::calibration::Point;

/// The device with the kernels loaded, and how many repetitions each point is timed.
pub(super) struct Device<'a> {
    ctx: &'a Arc<CudaContext>,
    /// The one stream every launch and copy goes to, in order.
    pub(super) stream: Arc<CudaStream>,
    modules: Vec<(&'static str, Arc<CudaModule>)>,
    /// Timed repetitions per point.
    pub(super) reps: u32,
}

impl<'a> Device<'a> {
    /// Loads the `compiled` kernels into `ctx`, to run on its default stream.
    pub(super) fn new(
        ctx: &'a Arc<CudaContext>,
        compiled: &[Compiled],
        reps: u32,
    ) -> Result<Self, CudaError> {
        let stream = ctx.default_stream();
        let mut modules = Vec::new();
        for c in compiled {
            modules.push((
                c.file,
                ctx.load_module(Ptx::from_binary(c.cubin.clone()))
                    .map_err(drv)?,
            ));
        }
        Ok(Self {
            ctx,
            stream,
            modules,
            reps,
        })
    }

    /// The entry point `name` of the kernel source `file`.
    pub(super) fn function(&self, file: &str, name: &str) -> Result<CudaFunction, CudaError> {
        let m = self
            .modules
            .iter()
            .find(|(n, _)| *n == file)
            .map(|(_, m)| m)
            .ok_or_else(|| CudaError::Driver(format!("{file} not compiled")))?;
        m.load_function(name).map_err(drv)
    }

    /// Median and spread of `reps` timings (seconds) of `f` between two events, after one
    /// warm-up.
    pub(super) fn time(
        &self,
        mut f: impl FnMut() -> Result<(), CudaError>,
    ) -> Result<(f64, f64), CudaError> {
        f()?;
        self.stream.synchronize().map_err(drv)?;
        let flags = Some(sys::CUevent_flags::CU_EVENT_DEFAULT);
        let mut t = Vec::with_capacity(self.reps as usize);
        for _ in 0..self.reps.max(1) {
            let start = self.ctx.new_event(flags).map_err(drv)?;
            let end = self.ctx.new_event(flags).map_err(drv)?;
            start.record(&self.stream).map_err(drv)?;
            f()?;
            end.record(&self.stream).map_err(drv)?;
            t.push(f64::from(start.elapsed_ms(&end).map_err(drv)?) / 1e3);
        }
        t.sort_by(f64::total_cmp);
        let median = t[t.len() / 2];
        Ok((
            median,
            (t[t.len() - 1] - t[0]) / median.max(f64::MIN_POSITIVE),
        ))
    }

    /// Runs `launch` once into `out`, hands what it wrote to `check`, and only if that
    /// passes times `launch` (see [`Device::time`]): the point of `work` per run at size
    /// `x`. Nothing that fails its check is timed.
    pub(super) fn checked<T: DeviceRepr>(
        &self,
        (x, work): (usize, f64),
        out: &mut CudaSlice<T>,
        mut launch: impl FnMut(&mut CudaSlice<T>) -> Result<(), CudaError>,
        check: impl FnOnce(&[T]) -> Result<(), CudaError>,
    ) -> Result<Point, CudaError> {
        launch(out)?;
        check(&self.stream.clone_dtoh(out).map_err(drv)?)?;
        let timing = self.time(|| launch(out))?;
        Ok(point(x, work, timing, self.reps))
    }
}

/// The rate of `work` per run at size `x`, from a timing's median and spread.
pub(super) fn point(x: usize, work: f64, (t, spread): (f64, f64), reps: u32) -> Point {
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
pub(super) fn bf16_gemm(
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
