//! Attention over a KV cache (attention.cu): one decode query per (request, head) over bf16
//! keys and values, split into chunks by `kv_attention_split` and combined by `kv_combine`,
//! as many requests as it takes to read at least the grid's bytes: bytes of keys and values
//! read per second.

use cudarc::driver::{CudaFunction, CudaSlice, LaunchConfig, PushKernelArg};
use half::bf16;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::check::{FP32_TOL, all_written, random_bf16, random_f32, sample, within};
use super::common::{CudaError, Grid, drv};
use super::device::Device;
use crate::calibration::kernels::{ATTENTION_WARPS, HEAD_DIM};
use crate::calibration::{Point, Profile};

/// Cached positions each block of the split kernel reads.
const CHUNK: usize = 256;

/// The inputs at one context length: `pairs` (request, head) queries over `seq` cached
/// positions, and the pairs checked against the reference.
struct Cache {
    seq: usize,
    pairs: usize,
    k: Vec<bf16>,
    v: Vec<bf16>,
    q: Vec<f32>,
    check_pairs: Vec<usize>,
}

impl Cache {
    /// Draws the keys, values and queries, then the pairs to check.
    fn draw(rng: &mut Xoshiro256PlusPlus, grid: &Grid, seq: usize) -> Self {
        let heads = grid.attention_heads.max(1);
        let pairs = grid
            .attention_min_bytes
            .div_ceil(pair_bytes(seq) * heads)
            .max(1)
            * heads;
        let k = random_bf16(rng, pairs * seq * HEAD_DIM);
        let v = random_bf16(rng, pairs * seq * HEAD_DIM);
        // Scores of a few units: a softmax far from uniform.
        let q = random_f32(rng, pairs * HEAD_DIM, 4.0);
        let check_pairs = sample(rng, pairs, 64);
        Self {
            seq,
            pairs,
            k,
            v,
            q,
            check_pairs,
        }
    }

    /// The checked pairs' outputs by the reference (a softmax in f64), and the same
    /// elements of the kernel's output `o`.
    fn compare(&self, o: &[f32]) -> (Vec<f32>, Vec<f64>) {
        let (seq, q, k, v) = (self.seq, &self.q, &self.k, &self.v);
        let mut want = Vec::with_capacity(self.check_pairs.len() * HEAD_DIM);
        let mut got = Vec::with_capacity(want.capacity());
        for &h in &self.check_pairs {
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
        (got, want)
    }
}

/// Bytes of keys and values of one (request, head) pair over `seq` positions.
fn pair_bytes(seq: usize) -> usize {
    seq * HEAD_DIM * 2 * 2
}

/// The attention curve at every context length of the grid.
pub(super) fn measure(
    dev: &Device<'_>,
    grid: &Grid,
    rng: &mut Xoshiro256PlusPlus,
    p: &mut Profile,
) -> Result<(), CudaError> {
    let split_f = dev.function("attention.cu", "kv_attention_split")?;
    let combine_f = dev.function("attention.cu", "kv_combine")?;
    for &seq in &grid.attention_positions {
        let cache = Cache::draw(rng, grid, seq);
        p.attention
            .0
            .push(kernels(dev, (&split_f, &combine_f), &cache)?);
    }
    Ok(())
}

/// The split kernel then the combining one, timed together.
fn kernels(
    dev: &Device<'_>,
    (split_f, combine_f): (&CudaFunction, &CudaFunction),
    c: &Cache,
) -> Result<Point, CudaError> {
    let (seq, pairs) = (c.seq, c.pairs);
    let chunks = seq.div_ceil(CHUNK);
    let stream = &dev.stream;
    let (k_dev, v_dev, q_dev) = (
        stream.clone_htod(&c.k).map_err(drv)?,
        stream.clone_htod(&c.v).map_err(drv)?,
        stream.clone_htod(&c.q).map_err(drv)?,
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
    let run = |o: &mut CudaSlice<f32>| -> Result<(), CudaError> {
        let mut b = stream.launch_builder(split_f);
        b.arg(&k_dev)
            .arg(&v_dev)
            .arg(&q_dev)
            .arg(&mut part_dev)
            .arg(&s32)
            .arg(&chunk32);
        // SAFETY: the arguments match the kernel's signature and buffer sizes.
        unsafe { b.launch(split_cfg) }.map_err(drv)?;
        let mut b = stream.launch_builder(combine_f);
        b.arg(&part_dev).arg(o).arg(&chunks32);
        // SAFETY: as above.
        unsafe { b.launch(combine_cfg) }.map(|_| ()).map_err(drv)
    };
    let check = |o: &[f32]| {
        all_written("attention", seq, o)?;
        let (got, want) = c.compare(o);
        within("attention", seq, &got, &want, FP32_TOL)
    };
    dev.checked(
        (seq, (pairs * pair_bytes(seq)) as f64),
        &mut o_dev,
        run,
        check,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_is_a_softmax_weighted_mean_of_the_values() {
        // Keys of zero give equal scores: the output is the mean of the values (0, 1, 2).
        let seq = 3;
        let c = Cache {
            seq,
            pairs: 2,
            k: vec![bf16::ZERO; 2 * seq * HEAD_DIM],
            v: (0..2 * seq * HEAD_DIM)
                .map(|i| bf16::from_f32(((i / HEAD_DIM) % seq) as f32))
                .collect(),
            q: vec![1.0; 2 * HEAD_DIM],
            check_pairs: vec![1],
        };
        let o: Vec<f32> = (0..2 * HEAD_DIM).map(|i| i as f32).collect();
        let (got, want) = c.compare(&o);
        assert_eq!(got, o[HEAD_DIM..]);
        assert_eq!(want.len(), HEAD_DIM);
        assert!(want.iter().all(|w| (w - 1.0).abs() < 1e-12), "{want:?}");
        assert_eq!(pair_bytes(1024), 1024 * HEAD_DIM * 4);
    }
}
