//! The CPU calibration backend: the same three measurements as the GPU kernels, on the host's
//! cores with rayon, so that CPU-only providers get profiles and the whole pipeline runs on
//! machines without a GPU.
//!
//! - copy: a parallel streaming copy between two buffers (achieved memory bandwidth, bytes
//!   read + written);
//! - decode: `batch` matrix-vector products over the same f32 weight matrix at once, each tile
//!   of weight rows applied to every vector while it is in cache, so the weights are read from
//!   memory once for the batch as a serving engine's decode step reads them (bytes/s of weights
//!   read: memory-bound at small batches, then compute-bound at about the matrix product's
//!   FLOP/s);
//! - matmul: a blocked n x n x n f32 matrix product (achieved FLOP/s).
//!
//! Every kernel is checked before it is timed, on fresh random inputs: the copy must write
//! every element (the destination starts as NaN), the products must match a plain reference
//! within f32 tolerance (all of the matrix-vector outputs; a sample of the matrix product's
//! entries, every one of them for small sizes). Timing takes `reps` repetitions after one
//! warm-up, and reports the median and the spread (max - min) / median.

use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use super::{Curve, Peaks, Point, Profile, Provenance, Source};

/// The sizes measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// Buffer sizes of the copy, bytes.
    pub copy_bytes: Vec<usize>,
    /// Weight matrix of decode: rows x cols.
    pub decode_shape: (usize, usize),
    /// Batches of decode.
    pub decode_batches: Vec<usize>,
    /// Dimensions of the matrix product.
    pub matmul_sizes: Vec<usize>,
    /// Timed repetitions per point.
    pub reps: u32,
}

impl Grid {
    /// A grid that runs in seconds (for CI).
    pub fn small() -> Self {
        Self {
            copy_bytes: vec![1 << 20, 16 << 20],
            decode_shape: (1024, 1024),
            decode_batches: vec![1, 4, 16],
            matmul_sizes: vec![64, 256],
            reps: 5,
        }
    }

    /// The full grid (about a minute on two cores).
    pub fn full() -> Self {
        Self {
            copy_bytes: vec![1 << 20, 16 << 20, 256 << 20],
            decode_shape: (4096, 4096),
            decode_batches: vec![1, 2, 4, 8, 16, 32, 64],
            matmul_sizes: vec![128, 256, 512, 1024],
            reps: 15,
        }
    }
}

/// A kernel's output did not match its reference.
#[derive(Debug, thiserror::Error)]
#[error("{kernel} at size {size}: {what}")]
pub struct CheckFailed {
    /// The kernel.
    pub kernel: &'static str,
    /// The size checked.
    pub size: usize,
    /// What was wrong.
    pub what: String,
}

/// Median and spread of `reps` timings of `f` (after one warm-up run), seconds.
fn time(reps: u32, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let mut t: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    let median = t[t.len() / 2];
    let spread = (t[t.len() - 1] - t[0]) / median.max(f64::MIN_POSITIVE);
    (median, spread)
}

fn random(rng: &mut Xoshiro256PlusPlus, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// Parallel copy of `src` into `dst`.
fn copy(src: &[f64], dst: &mut [f64]) {
    dst.par_chunks_mut(1 << 16)
        .zip(src.par_chunks(1 << 16))
        .for_each(|(d, s)| d.copy_from_slice(s));
}

/// Lanes of a partial sum: independent accumulators the compiler keeps in one vector register
/// (a single running sum would make every addition wait for the one before it).
const LANES: usize = 4;
/// Rows each parallel task owns.
const TASK_ROWS: usize = 64;

/// `b += w x`, lane by lane.
#[inline(always)]
fn madd(acc: &mut [f32; LANES], w: &[f32; LANES], x: &[f32; LANES]) {
    for l in 0..LANES {
        acc[l] += w[l] * x[l];
    }
}

/// `out[i][j] = sum_c rows[i][c] xs[j][c]`: `R` weight rows against `V` activation vectors,
/// each piece of weight loaded once for all `V` (`R x V` accumulators of [`LANES`] lanes).
#[inline(always)]
fn tile<const R: usize, const V: usize>(rows: [&[f32]; R], xs: [&[f32]; V]) -> [[f32; V]; R] {
    let cols = rows[0].len();
    let full = cols / LANES * LANES;
    let w_lanes: [&[[f32; LANES]]; R] = std::array::from_fn(|i| rows[i][..full].as_chunks().0);
    let x_lanes: [&[[f32; LANES]]; V] = std::array::from_fn(|j| xs[j][..full].as_chunks().0);
    let mut acc = [[[0.0f32; LANES]; V]; R];
    for k in 0..full / LANES {
        let w: [[f32; LANES]; R] = std::array::from_fn(|i| w_lanes[i][k]);
        let x: [[f32; LANES]; V] = std::array::from_fn(|j| x_lanes[j][k]);
        for (a, w) in acc.iter_mut().zip(&w) {
            for (a, x) in a.iter_mut().zip(&x) {
                madd(a, w, x);
            }
        }
    }
    std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            let tail: f32 = (full..cols).map(|c| rows[i][c] * xs[j][c]).sum();
            acc[i][j].iter().sum::<f32>() + tail
        })
    })
}

/// The rows `rows` (each `cols` long, stacked) against every vector of `x`, written to
/// `out[r * batch + b]`. Four rows at a time (64 KiB of weights at 4,096 columns: they stay in
/// cache), applied to the vectors four at a time in tiles of two rows (eight accumulators:
/// what fits in registers), then to the last one to three vectors all four rows at once: every
/// weight is read from memory once for the whole batch.
fn decode_rows(rows: &[f32], cols: usize, x: &[Vec<f32>], out: &mut [f32]) {
    let batch = x.len();
    let n = rows.len() / cols;
    let row = |r: usize| &rows[r * cols..(r + 1) * cols];
    let vectors =
        |b: usize| -> [&[f32]; 3] { std::array::from_fn(|j| x[(b + j).min(batch - 1)].as_slice()) };
    let mut put = |r: usize, b: usize, got: &[f32]| {
        out[r * batch + b..][..got.len()].copy_from_slice(got);
    };
    let mut r = 0;
    while r + 4 <= n {
        let mut b = 0;
        while batch - b >= 4 {
            for h in [r, r + 2] {
                let xs: [&[f32]; 4] = std::array::from_fn(|j| x[b + j].as_slice());
                for (i, v) in tile::<2, 4>([row(h), row(h + 1)], xs).iter().enumerate() {
                    put(h + i, b, v);
                }
            }
            b += 4;
        }
        if b < batch {
            let ws: [&[f32]; 4] = std::array::from_fn(|i| row(r + i));
            let [x0, x1, x2] = vectors(b);
            let mut put_all = |got: &[&[f32]]| {
                for (i, v) in got.iter().enumerate() {
                    put(r + i, b, v);
                }
            };
            match batch - b {
                3 => put_all(
                    &tile::<4, 3>(ws, [x0, x1, x2])
                        .each_ref()
                        .map(|v| v.as_slice()),
                ),
                2 => put_all(&tile::<4, 2>(ws, [x0, x1]).each_ref().map(|v| v.as_slice())),
                _ => put_all(&tile::<4, 1>(ws, [x0]).each_ref().map(|v| v.as_slice())),
            }
        }
        r += 4;
    }
    // The last one to three rows, one at a time.
    for i in r..n {
        for (j, xj) in x.iter().enumerate() {
            put(i, j, &tile::<1, 1>([row(i)], [xj.as_slice()])[0]);
        }
    }
}

/// `y[b][r] = sum_c w[r][c] x[b][c]` for every vector `b`: the weights are read from memory
/// once for the whole batch (each tile of rows is applied to every vector while it is in
/// cache), as a serving engine's decode step reads them, so the batch costs arithmetic, not
/// bandwidth, until the product becomes compute-bound.
fn decode(w: &[f32], cols: usize, x: &[Vec<f32>], y: &mut [Vec<f32>]) {
    let rows = w.len() / cols;
    let batch = x.len();
    // Row-major by row then vector: each task owns a block of rows of every output.
    let mut out = vec![0.0f32; rows * batch];
    out.par_chunks_mut(TASK_ROWS * batch)
        .zip(w.par_chunks(TASK_ROWS * cols))
        .for_each(|(o, block)| decode_rows(block, cols, x, o));
    for (b, yb) in y.iter_mut().enumerate() {
        yb.clear();
        yb.extend(out.iter().skip(b).step_by(batch.max(1)).take(rows));
    }
}

/// Blocked product `c = a b` of n x n row-major matrices, rows of `c` in parallel.
fn matmul(a: &[f32], b: &[f32], c: &mut [f32], n: usize) {
    const K: usize = 64;
    c.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        row.fill(0.0);
        let ai = &a[i * n..(i + 1) * n];
        for k0 in (0..n).step_by(K) {
            for k in k0..(k0 + K).min(n) {
                let aik = ai[k];
                let bk = &b[k * n..(k + 1) * n];
                for (cj, &bkj) in row.iter_mut().zip(bk) {
                    *cj += aik * bkj;
                }
            }
        }
    });
}

/// Relative error of `got` against `want`, scaled by the size of the sum (f32 products
/// accumulate error with the number of terms).
fn close(got: f32, want: f64, terms: usize) -> bool {
    let tol = 1e-5 * (terms as f64).sqrt() * want.abs().max(1.0);
    (f64::from(got) - want).abs() <= tol
}

/// Measures the grid and returns a measured profile of class `cpu`.
///
/// # Errors
/// A kernel that does not match its reference (nothing is timed then).
pub fn calibrate(grid: &Grid, seed: u64) -> Result<Profile, CheckFailed> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut copy_pts = Vec::new();
    for &bytes in &grid.copy_bytes {
        let n = bytes / 8;
        let src: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
        let mut dst = vec![f64::NAN; n];
        copy(&src, &mut dst);
        if let Some(i) = dst.iter().zip(&src).position(|(d, s)| d != s) {
            return Err(CheckFailed {
                kernel: "copy",
                size: bytes,
                what: format!("element {i} not copied"),
            });
        }
        let (t, spread) = time(grid.reps, || copy(&src, &mut dst));
        copy_pts.push(Point {
            x: bytes as f64,
            median: 2.0 * (n * 8) as f64 / t,
            spread,
            reps: grid.reps,
        });
    }

    let (rows, cols) = grid.decode_shape;
    let w = random(&mut rng, rows * cols);
    let mut decode_pts = Vec::new();
    for &batch in &grid.decode_batches {
        let x: Vec<Vec<f32>> = (0..batch).map(|_| random(&mut rng, cols)).collect();
        let mut y = vec![vec![f32::NAN; rows]; batch];
        decode(&w, cols, &x, &mut y);
        for (b, (xb, yb)) in x.iter().zip(&y).enumerate() {
            for r in 0..rows {
                let want: f64 = w[r * cols..(r + 1) * cols]
                    .iter()
                    .zip(xb)
                    .map(|(&a, &c)| f64::from(a) * f64::from(c))
                    .sum();
                if !close(yb[r], want, cols) {
                    return Err(CheckFailed {
                        kernel: "decode",
                        size: batch,
                        what: format!("vector {b} row {r}: {} against {want}", yb[r]),
                    });
                }
            }
        }
        let (t, spread) = time(grid.reps, || decode(&w, cols, &x, &mut y));
        decode_pts.push(Point {
            x: batch as f64,
            median: (rows * cols * 4) as f64 / t,
            spread,
            reps: grid.reps,
        });
    }

    let mut matmul_pts = Vec::new();
    for &n in &grid.matmul_sizes {
        let a = random(&mut rng, n * n);
        let b = random(&mut rng, n * n);
        let mut c = vec![f32::NAN; n * n];
        matmul(&a, &b, &mut c, n);
        // Every entry of small products, 256 random entries of large ones.
        let entries: Vec<(usize, usize)> = if n <= 128 {
            (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).collect()
        } else {
            (0..256)
                .map(|_| (rng.random_range(0..n), rng.random_range(0..n)))
                .collect()
        };
        if let Some(i) = c.iter().position(|v| v.is_nan()) {
            return Err(CheckFailed {
                kernel: "matmul",
                size: n,
                what: format!("element {i} not written"),
            });
        }
        for (i, j) in entries {
            let want: f64 = (0..n)
                .map(|k| f64::from(a[i * n + k]) * f64::from(b[k * n + j]))
                .sum();
            if !close(c[i * n + j], want, n) {
                return Err(CheckFailed {
                    kernel: "matmul",
                    size: n,
                    what: format!("({i}, {j}): {} against {want}", c[i * n + j]),
                });
            }
        }
        let (t, spread) = time(grid.reps, || matmul(&a, &b, &mut c, n));
        matmul_pts.push(Point {
            x: n as f64,
            median: 2.0 * (n as f64).powi(3) / t,
            spread,
            reps: grid.reps,
        });
    }

    let max = |p: &[Point]| p.iter().map(|q| q.median).fold(0.0, f64::max);
    Ok(Profile {
        class: "cpu".into(),
        source: Source::Measured,
        provenance: Provenance {
            device: cpu_name(),
            date: Some(today()),
            citation: Some(format!(
                "depinsim {} cpu backend, {} threads, f32",
                env!("CARGO_PKG_VERSION"),
                rayon::current_num_threads()
            )),
            ..Provenance::default()
        },
        peaks: Peaks {
            flops: max(&matmul_pts),
            bytes_per_s: max(&copy_pts).max(max(&decode_pts)),
        },
        copy: Curve(copy_pts),
        decode: Curve(decode_pts),
        matmul: Curve(matmul_pts),
        ..Profile::empty()
    })
}

/// The CPU's model name from /proc/cpuinfo, with the logical cores.
fn cpu_name() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    format!("{model} ({cores} logical cores)")
}

/// Today's date (UTC), ISO 8601.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil(secs / 86_400)
}

/// The date `days` after 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil(days: u64) -> String {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::tests::problems;

    #[test]
    fn dates_from_days() {
        assert_eq!(civil(0), "1970-01-01");
        assert_eq!(civil(20_417), "2025-11-25");
        assert_eq!(civil(11_016), "2000-02-29");
    }

    #[test]
    fn kernels_match_their_references_and_the_profile_is_valid() {
        // 97 rows (tasks of 64 and 33, each ending on a lone row) of 83 columns (a tail of
        // three after the lanes), batches that leave every remainder of vectors.
        let grid = Grid {
            copy_bytes: vec![1 << 16],
            decode_shape: (97, 83),
            decode_batches: vec![1, 2, 3, 4, 7, 9],
            matmul_sizes: vec![33, 130],
            reps: 2,
        };
        let p = calibrate(&grid, 7).expect("kernels pass their checks");
        assert!(problems(&p).is_empty(), "{:?}", problems(&p));
        assert_eq!(p.source, Source::Measured);
        assert_eq!(
            (p.copy.0.len(), p.decode.0.len(), p.matmul.0.len()),
            (1, 6, 2)
        );
        let back = Profile::from_yaml(&p.to_yaml(), "cpu.yaml").expect("round trip");
        assert_eq!(back, p);
    }

    /// The tiled product against the plain one, every output, at the shapes that exercise
    /// each tile and tail.
    #[test]
    fn decode_reads_the_weights_once_and_matches_the_plain_product() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        for (rows, cols) in [(1, 1), (3, 5), (4, 4), (70, 9), (130, 64)] {
            let w = random(&mut rng, rows * cols);
            for batch in [1, 2, 3, 4, 5, 8, 11] {
                let x: Vec<Vec<f32>> = (0..batch).map(|_| random(&mut rng, cols)).collect();
                let mut y = vec![vec![f32::NAN; rows]; batch];
                decode(&w, cols, &x, &mut y);
                for (b, (xb, yb)) in x.iter().zip(&y).enumerate() {
                    assert_eq!(yb.len(), rows);
                    for r in 0..rows {
                        let want: f64 = (0..cols)
                            .map(|c| f64::from(w[r * cols + c]) * f64::from(xb[c]))
                            .sum();
                        assert!(
                            close(yb[r], want, cols),
                            "{rows}x{cols} b{batch}: y[{b}][{r}]"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_wrong_product_is_caught() {
        // The reference check itself: a product off by one part in a thousand fails.
        assert!(close(1.0, 1.0, 100));
        assert!(!close(1.001, 1.0, 100));
    }
}
