//! Matrix products: n x n x n in bf16 by the plain tensor-core kernel (matmul_wmma.cu) and
//! by cuBLAS, the reference for achievable FLOP/s, on the same matrices.

use cudarc::cublas::{CudaBlas, Gemm};
use cudarc::driver::{CudaFunction, CudaSlice, LaunchConfig, PushKernelArg};
use half::bf16;
use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::check::{BF16_TOL, FP32_TOL, all_written, random_bf16, within};
use super::common::{CudaError, Grid, drv};
use super::device::{Device, bf16_gemm};
use crate::calibration::{Point, Profile};

/// One product C = A B (row-major) on the device, with the entries of C checked and their
/// reference values.
struct Product {
    n: usize,
    a_dev: CudaSlice<bf16>,
    b_dev: CudaSlice<bf16>,
    entries: Vec<(usize, usize)>,
    want: Vec<f64>,
}

impl Product {
    /// Draws A, B and the entries to check, uploads A and B.
    fn draw(dev: &Device<'_>, rng: &mut Xoshiro256PlusPlus, n: usize) -> Result<Self, CudaError> {
        let a = random_bf16(rng, n * n);
        let b = random_bf16(rng, n * n);
        let (a_dev, b_dev) = (
            dev.stream.clone_htod(&a).map_err(drv)?,
            dev.stream.clone_htod(&b).map_err(drv)?,
        );
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
        Ok(Self {
            n,
            a_dev,
            b_dev,
            entries,
            want,
        })
    }

    /// The checked entries of `c` (n x n, row-major).
    fn picked<T: Copy>(&self, c: &[T], f32_of: impl Fn(T) -> f32) -> Vec<f32> {
        let n = self.n;
        self.entries
            .iter()
            .map(|&(i, j)| f32_of(c[i * n + j]))
            .collect()
    }

    fn flops(&self) -> f64 {
        2.0 * (self.n as f64).powi(3)
    }
}

/// The kernel's and cuBLAS's curves at every size of the grid.
pub(super) fn measure(
    dev: &Device<'_>,
    blas: &CudaBlas,
    grid: &Grid,
    rng: &mut Xoshiro256PlusPlus,
    p: &mut Profile,
) -> Result<(), CudaError> {
    let mm_f = dev.function("matmul_wmma.cu", "matmul_wmma_bf16")?;
    for &n in &grid.matmul_sizes {
        let m = Product::draw(dev, rng, n)?;
        p.matmul.0.push(wmma(dev, &mm_f, &m)?);
        p.matmul_library.0.push(cublas(dev, blas, &m)?);
    }
    Ok(())
}

/// The WMMA kernel, one warp per 16 x 16 tile of C, accumulating in fp32.
fn wmma(dev: &Device<'_>, mm_f: &CudaFunction, m: &Product) -> Result<Point, CudaError> {
    let n = m.n;
    let stream = &dev.stream;
    let mut c_dev = stream.clone_htod(&vec![f32::NAN; n * n]).map_err(drv)?;
    let n32 = n as i32;
    let tiles = (n / 16) * (n / 16);
    let cfg = LaunchConfig {
        grid_dim: ((tiles * 32).div_ceil(256) as u32, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    };
    let run = |c: &mut CudaSlice<f32>| -> Result<(), CudaError> {
        let mut l = stream.launch_builder(mm_f);
        l.arg(&m.a_dev).arg(&m.b_dev).arg(c).arg(&n32);
        // SAFETY: the arguments match the kernel's signature and buffer sizes.
        unsafe { l.launch(cfg) }.map(|_| ()).map_err(drv)
    };
    let check = |c: &[f32]| {
        all_written("matmul", n, c)?;
        within("matmul", n, &m.picked(c, |v| v), &m.want, FP32_TOL)
    };
    dev.checked((n, m.flops()), &mut c_dev, run, check)
}

/// cuBLAS's product, with a bf16 output.
fn cublas(dev: &Device<'_>, blas: &CudaBlas, m: &Product) -> Result<Point, CudaError> {
    let n = m.n;
    let n32 = n as i32;
    // Column-major: C^T = B^T A^T, so row-major C = A B is gemm(B, A).
    let mut cb_dev = dev.stream.alloc_zeros::<bf16>(n * n).map_err(drv)?;
    let cfg = bf16_gemm(false, (n32, n32, n32), (n32, n32, n32));
    let gemm = |cb: &mut CudaSlice<bf16>| -> Result<(), CudaError> {
        // SAFETY: the buffers hold n x n elements each.
        unsafe { blas.gemm(cfg, &m.b_dev, &m.a_dev, cb) }.map_err(drv)
    };
    let check = |cb: &[bf16]| {
        let got = m.picked(cb, |v| v.to_f32());
        within("cublas", n, &got, &m.want, BF16_TOL)
    };
    dev.checked((n, m.flops()), &mut cb_dev, gemm, check)
}
