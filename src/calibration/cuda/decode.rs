//! Decode: bf16 matrix-vector products over one weight matrix larger than the L2 cache,
//! `batch` vectors at once, by decode.cu's kernel for that batch and by cuBLAS at the same
//! shapes: bytes of weights read per second.

use cudarc::cublas::{CudaBlas, Gemm};
use cudarc::driver::{CudaSlice, LaunchConfig, PushKernelArg};
use half::bf16;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::check::{BF16_TOL, FP32_TOL, all_written, random_bf16, random_f32, sample, within};
use super::common::{CudaError, Grid, drv};
use super::device::{Device, bf16_gemm};
use crate::calibration::kernels::{DECODE_BATCHES, decode_function};
use crate::calibration::{Point, Profile};

/// The weights, on the host for the reference and on the device.
struct Weights {
    host: Vec<bf16>,
    dev: CudaSlice<bf16>,
    rows: usize,
    cols: usize,
}

/// One batch: its inputs, and the rows of the output checked against the reference.
struct Batch<'w> {
    w: &'w Weights,
    batch: usize,
    x: Vec<f32>,
    check_rows: Vec<usize>,
}

impl Batch<'_> {
    /// The checked rows of every vector's product, by the reference, with `xs(i)` the
    /// input's element `i` as the kernel reads it.
    fn reference(&self, xs: impl Fn(usize) -> f64) -> Vec<f64> {
        let (w, cols) = (&self.w.host, self.w.cols);
        let mut want = Vec::with_capacity(self.batch * self.check_rows.len());
        for bi in 0..self.batch {
            for &ri in &self.check_rows {
                want.push(
                    (0..cols)
                        .map(|ci| f64::from(w[ri * cols + ci].to_f32()) * xs(bi * cols + ci))
                        .sum(),
                );
            }
        }
        want
    }

    /// The checked rows of every vector's product in `y` (batch x rows).
    fn picked(&self, y: &[f32]) -> Vec<f32> {
        let rows = self.w.rows;
        (0..self.batch)
            .flat_map(|bi| self.check_rows.iter().map(move |&ri| y[bi * rows + ri]))
            .collect()
    }

    /// Bytes of weights one product reads.
    fn weight_bytes(&self) -> f64 {
        (self.w.rows * self.w.cols * 2) as f64
    }
}

/// The kernel's and cuBLAS's curves at every batch of the grid, on the same inputs.
pub(super) fn measure(
    dev: &Device<'_>,
    blas: &CudaBlas,
    grid: &Grid,
    rng: &mut Xoshiro256PlusPlus,
    p: &mut Profile,
) -> Result<(), CudaError> {
    let (rows, cols) = grid.decode_shape;
    let host = random_bf16(rng, rows * cols);
    let w = Weights {
        dev: dev.stream.clone_htod(&host).map_err(drv)?,
        host,
        rows,
        cols,
    };
    for &batch in &grid.decode_batches {
        let x = random_f32(rng, batch * cols, 1.0);
        let check_rows = sample(rng, rows, 256);
        let b = Batch {
            w: &w,
            batch,
            x,
            check_rows,
        };
        p.decode.0.push(kernel(dev, &b)?);
        p.decode_library.0.push(library(dev, blas, &b)?);
    }
    Ok(())
}

/// decode.cu's kernel for the batch, accumulating in fp32.
fn kernel(dev: &Device<'_>, b: &Batch<'_>) -> Result<Point, CudaError> {
    let f = decode_function(b.batch).ok_or_else(|| {
        CudaError::Driver(format!(
            "decode batch {} has no kernel (one of {DECODE_BATCHES:?})",
            b.batch
        ))
    })?;
    let gemv = dev.function("decode.cu", &f)?;
    let stream = &dev.stream;
    let (rows, cols) = (b.w.rows, b.w.cols);
    let x_dev = stream.clone_htod(&b.x).map_err(drv)?;
    let mut y_dev = stream
        .clone_htod(&vec![f32::NAN; b.batch * rows])
        .map_err(drv)?;
    let (r, c) = (rows as i32, cols as i32);
    let cfg = LaunchConfig {
        grid_dim: ((rows * 32).div_ceil(256) as u32, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    };
    let run = |y: &mut CudaSlice<f32>| -> Result<(), CudaError> {
        let mut l = stream.launch_builder(&gemv);
        l.arg(&b.w.dev).arg(&x_dev).arg(y).arg(&r).arg(&c);
        // SAFETY: the arguments match the kernel's signature and buffer sizes.
        unsafe { l.launch(cfg) }.map(|_| ()).map_err(drv)
    };
    let check = |y: &[f32]| {
        all_written("decode", b.batch, y)?;
        let want = b.reference(|i| f64::from(b.x[i]));
        within("decode", b.batch, &b.picked(y), &want, FP32_TOL)
    };
    dev.checked((b.batch, b.weight_bytes()), &mut y_dev, run, check)
}

/// cuBLAS at the same shape, on the inputs rounded to bf16 and with a bf16 output.
fn library(dev: &Device<'_>, blas: &CudaBlas, b: &Batch<'_>) -> Result<Point, CudaError> {
    // Column-major: Y^T (rows x batch) = op(W) X^T with W read transposed from its
    // row-major (cols x rows column-major) storage.
    let stream = &dev.stream;
    let xb: Vec<bf16> = b.x.iter().map(|&v| bf16::from_f32(v)).collect();
    let xb_dev = stream.clone_htod(&xb).map_err(drv)?;
    let mut yb_dev = stream
        .alloc_zeros::<bf16>(b.batch * b.w.rows)
        .map_err(drv)?;
    let (r, c) = (b.w.rows as i32, b.w.cols as i32);
    let gcfg = bf16_gemm(true, (r, b.batch as i32, c), (c, c, r));
    let gemm = |yb: &mut CudaSlice<bf16>| -> Result<(), CudaError> {
        // SAFETY: W holds rows x cols, X batch x cols, Y batch x rows elements.
        unsafe { blas.gemm(gcfg, &b.w.dev, &xb_dev, yb) }.map_err(drv)
    };
    let check = |yb: &[bf16]| {
        let yb: Vec<f32> = yb.iter().map(|v| v.to_f32()).collect();
        let want = b.reference(|i| f64::from(xb[i].to_f32()));
        within("decode_library", b.batch, &b.picked(&yb), &want, BF16_TOL)
    };
    dev.checked((b.batch, b.weight_bytes()), &mut yb_dev, gemm, check)
}
