//! Checking a kernel's output against a CPU reference before it is timed, and the random
//! inputs the checks run on.

use half::bf16;
use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::common::CudaError;

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
pub(super) fn all_written(kernel: &'static str, size: usize, out: &[f32]) -> Result<(), CudaError> {
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
pub(super) fn within(
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
pub(super) const FP32_TOL: f64 = 1e-4;
/// Relative tolerance of a bf16 output (8 bits of mantissa).
pub(super) const BF16_TOL: f64 = 1e-2;

pub(super) fn random_bf16(rng: &mut Xoshiro256PlusPlus, n: usize) -> Vec<bf16> {
    (0..n)
        .map(|_| bf16::from_f32(rng.random_range(-1.0f32..1.0)))
        .collect()
}

pub(super) fn random_f32(rng: &mut Xoshiro256PlusPlus, n: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|_| scale * rng.random_range(-1.0f32..1.0))
        .collect()
}

/// Up to `k` distinct indices below `n`, sorted (all of them when `n <= k`).
pub(super) fn sample(rng: &mut Xoshiro256PlusPlus, n: usize, k: usize) -> Vec<usize> {
    if n <= k {
        return (0..n).collect();
    }
    let mut s: Vec<usize> = (0..k).map(|_| rng.random_range(0..n)).collect();
    s.sort_unstable();
    s.dedup();
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

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
}
