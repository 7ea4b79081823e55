//! Global sensitivity analysis of a sweep over k parameters: Morris elementary effects to
//! screen them (Morris 1991; mu* of Campolongo, Cariboni and Saltelli 2007), and Sobol
//! indices from a Saltelli design to apportion the output's variance among them (first order
//! by Saltelli et al. 2010, totals by Jansen 1999), each with bootstrap 95% intervals and
//! warnings in plain words a caller can print.
//!
//! Everything here lives in the unit hypercube [0, 1]^k: mapping a coordinate to a
//! parameter's real range is the caller's. The code is pure and deterministic: a design and
//! its bootstrap draw only from the stream they are given. The workflow is the same for both
//! methods: build a design, run the model once at each of its `points()` in order, and hand
//! the outputs back with the design.
//!
//! ```
//! use depinsim::core::rng::Streams;
//! use depinsim::metrics::sensitivity::{saltelli_design, sobol_indices, sobol_warnings};
//!
//! let mut rng = Streams::new(1, 0).stream("sensitivity");
//! let design = saltelli_design(2, 1000, &mut rng)?;
//! let y: Vec<f64> = design.points().map(|x| x[0] + 0.5 * x[1]).collect();
//! let s = sobol_indices(&design, &y, &mut rng, 200)?;
//! assert!(s[0].total > s[1].total);
//! for warning in sobol_warnings(&design, &s, &["price", "demand"]) {
//!     println!("{warning}");
//! }
//! # Ok::<(), depinsim::metrics::sensitivity::SensitivityError>(())
//! ```

use std::slice::ChunksExact;

use rand::RngExt;

use crate::core::rng::StreamRng;

/// Fewest Morris trajectories before [`morris_warnings`] calls the sample small (Campolongo
/// et al. 2007 use 10 or more).
pub const MORRIS_MIN_TRAJECTORIES: usize = 10;

/// Widest 95% interval of a factor's mu*, as a share of the largest mu* among the factors,
/// before [`morris_warnings`] says the factor's rank is uncertain.
pub const MORRIS_MAX_RELATIVE_WIDTH: f64 = 0.5;

/// Fewest Saltelli base samples before [`sobol_warnings`] calls the sample small: below
/// this, indices of a few factors are commonly off by 0.05 or more.
pub const SOBOL_MIN_SAMPLES: usize = 500;

/// Widest 95% interval of a Sobol index (a share of the output's variance) before
/// [`sobol_warnings`] calls it too wide to use.
pub const SOBOL_MAX_WIDTH: f64 = 0.1;

/// What is wrong with a design's settings or a model's outputs. Every variant is the
/// caller's to fix (the message says how); none leaves anything half-built behind.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SensitivityError {
    /// No factor to vary.
    #[error("k = 0 factors: a sensitivity analysis needs at least one parameter to vary")]
    NoFactors,
    /// A Morris grid of an odd number of levels, or fewer than 2.
    #[error(
        "levels = {0}: a Morris grid needs an even number of levels, at least 2 (4 is usual), \
         so that every step of p / (2 (p - 1)) lands on the grid"
    )]
    Levels(usize),
    /// Fewer than 2 Morris trajectories: no standard deviation of the effects.
    #[error(
        "trajectories = {0}: Morris needs at least 2 trajectories for the spread of the \
         effects, and 10 or more to screen factors"
    )]
    TooFewTrajectories(usize),
    /// Fewer than 2 Saltelli base samples: no variance.
    #[error(
        "n = {0}: a Saltelli design needs at least 2 base samples, and 500 or more for \
         indices worth reading"
    )]
    TooFewSamples(usize),
    /// A design with more coordinates than memory can hold.
    #[error("the design has more points than memory can hold: lower k, trajectories or n")]
    TooLarge,
    /// Outputs that do not match the design point for point.
    #[error(
        "{got} outputs for a design of {expected} points: run the model once at each of the \
         design's points(), in that order, and pass every output"
    )]
    OutputLength {
        /// Points in the design.
        expected: usize,
        /// Outputs given.
        got: usize,
    },
    /// An output that is infinite or not a number.
    #[error(
        "output {index} (at point {index} of the design) is {value}: every run must give a \
         finite number; fix the model, or narrow the parameter ranges to where it has one"
    )]
    NonFinite {
        /// Position of the output, which is the position of its point in the design.
        index: usize,
        /// The value given.
        value: f64,
    },
    /// Outputs over the base samples that are all equal, so no variance to apportion.
    #[error(
        "every output over the base samples A and B equals {value}: Sobol indices are shares \
         of the output's variance and none exist; check that the output depends on the swept \
         parameters (or that it is the output meant)"
    )]
    ZeroVariance {
        /// The one value every output over A and B took.
        value: f64,
    },
}

/// A bootstrap 95% percentile interval (the 2.5% and 97.5% quantiles of the resampled
/// estimates, interpolated linearly between order statistics).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

impl Interval {
    /// Whether `x` lies inside, ends included.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    /// Whether zero lies inside with room on both sides: the estimate cannot be told apart
    /// from zero, and its sign is unknown.
    pub fn straddles_zero(&self) -> bool {
        self.low < 0.0 && 0.0 < self.high
    }

    /// High less low.
    pub fn width(&self) -> f64 {
        self.high - self.low
    }

    /// The percentile interval of a sample of estimates; `None` when it is empty. Quantiles
    /// are linear between order statistics (R's type 7).
    fn percentile(mut sorted: Vec<f64>) -> Option<Self> {
        sorted.sort_by(f64::total_cmp);
        let last = sorted.len().checked_sub(1)? as f64;
        let quantile = |q: f64| {
            let (at, base) = (q * last, (q * last).floor());
            let (lo, hi) = (base as usize, (q * last).ceil() as usize);
            sorted[lo] + (at - base) * (sorted[hi] - sorted[lo])
        };
        let (low, high) = (quantile(0.025), quantile(0.975));
        Some(Self { low, high })
    }
}

/// One move of a Morris trajectory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MorrisStep {
    /// The factor that moved (0-based).
    pub factor: usize,
    /// By how much: +Δ or -Δ, Δ = p / (2 (p - 1)).
    pub change: f64,
}

/// Morris's one-at-a-time design: r trajectories of k + 1 points on a grid of p levels
/// {0, 1/(p-1), ..., 1} in each coordinate. A trajectory starts at a random grid point and
/// moves each factor once, in a random order, by Δ = p / (2 (p - 1)): up from the lower half
/// of the levels, down from the upper half, so every level is equally likely to appear.
#[derive(Clone, Debug, PartialEq)]
pub struct MorrisDesign {
    k: usize,
    levels: usize,
    trajectories: usize,
    delta: f64,
    /// r (k + 1) points of k coordinates, trajectory by trajectory.
    points: Vec<f64>,
    /// r k steps, trajectory by trajectory; step s leads from point s to point s + 1.
    steps: Vec<MorrisStep>,
}

impl MorrisDesign {
    /// Factors.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Grid levels p.
    pub fn levels(&self) -> usize {
        self.levels
    }

    /// Trajectories r.
    pub fn trajectories(&self) -> usize {
        self.trajectories
    }

    /// The step Δ = p / (2 (p - 1)), on the [0, 1] scale.
    pub fn delta(&self) -> f64 {
        self.delta
    }

    /// Model runs the design needs: r (k + 1).
    pub fn runs(&self) -> usize {
        self.points.len() / self.k
    }

    /// Every point, each a slice of k coordinates in [0, 1]: trajectory 1's k + 1 points in
    /// the order they are visited, then trajectory 2's, and so on.
    pub fn points(&self) -> ChunksExact<'_, f64> {
        self.points.chunks_exact(self.k)
    }

    /// Each trajectory's k steps, in order: step s of a trajectory leads from its point s to
    /// its point s + 1.
    pub fn steps(&self) -> ChunksExact<'_, MorrisStep> {
        self.steps.chunks_exact(self.k)
    }
}

/// Builds a Morris design of `trajectories` trajectories over `k` factors on a grid of
/// `levels` levels (even, at least 2; 4 is usual), drawing from `rng`.
pub fn morris_design(
    k: usize,
    trajectories: usize,
    levels: usize,
    rng: &mut StreamRng,
) -> Result<MorrisDesign, SensitivityError> {
    if k == 0 {
        return Err(SensitivityError::NoFactors);
    }
    if levels < 2 || !levels.is_multiple_of(2) {
        return Err(SensitivityError::Levels(levels));
    }
    if trajectories < 2 {
        return Err(SensitivityError::TooFewTrajectories(trajectories));
    }
    let mut points = room(k, k.saturating_add(1), trajectories)?;
    let (half, grid) = (levels / 2, (levels - 1) as f64);
    // Δ is half the levels, in grid steps of 1 / (p - 1).
    let delta = half as f64 / grid;
    let mut steps = Vec::with_capacity(trajectories * k);
    let mut order: Vec<usize> = (0..k).collect();
    let mut at = vec![0usize; k];
    for _ in 0..trajectories {
        at.iter_mut().for_each(|l| *l = rng.random_range(0..levels));
        shuffle(&mut order, rng);
        points.extend(at.iter().map(|&l| l as f64 / grid));
        for &factor in &order {
            let (to, change) = if at[factor] < half {
                (at[factor] + half, delta)
            } else {
                (at[factor] - half, -delta)
            };
            at[factor] = to;
            steps.push(MorrisStep { factor, change });
            points.extend(at.iter().map(|&l| l as f64 / grid));
        }
    }
    Ok(MorrisDesign {
        k,
        levels,
        trajectories,
        delta,
        points,
        steps,
    })
}

/// An empty vector with room for `per` points of `k` coordinates in each of `count`
/// trajectories (or base samples), or the error saying that the design is too large to hold.
fn room(k: usize, per: usize, count: usize) -> Result<Vec<f64>, SensitivityError> {
    let coordinates = per.checked_mul(count).and_then(|p| p.checked_mul(k));
    let mut room = Vec::new();
    let reserved = coordinates.map(|c| room.try_reserve_exact(c));
    match reserved {
        Some(Ok(())) => Ok(room),
        _ => Err(SensitivityError::TooLarge),
    }
}

/// Fisher-Yates, written out so that the draws are this file's and stay fixed.
fn shuffle(v: &mut [usize], rng: &mut StreamRng) {
    for i in (1..v.len()).rev() {
        v.swap(i, rng.random_range(0..=i));
    }
}

/// Morris's measures of one factor, over the trajectories' elementary effects
/// EE = Δy / Δ (per unit of the [0, 1] scale).
#[derive(Clone, Debug, PartialEq)]
pub struct MorrisIndex {
    /// The factor (0-based).
    pub factor: usize,
    /// Mean effect: its sign says the direction, but effects of opposite signs cancel.
    pub mu: f64,
    /// Mean absolute effect (Campolongo et al. 2007): the measure to rank factors by.
    pub mu_star: f64,
    /// Sample standard deviation of the effects (r - 1): non-zero when the effect depends on
    /// where it is taken, from non-linearity or interactions.
    pub sigma: f64,
    /// Bootstrap 95% interval of `mu_star`, resampling whole trajectories; `None` when no
    /// resample was asked for.
    pub mu_star_ci: Option<Interval>,
}

/// Morris's measures for every factor of `design`, from `outputs` (one per point, in the
/// order of `design.points()`), with `bootstrap` resamples of the trajectories (0 for none,
/// 1000 or more for an interval worth reading) drawn from `rng`.
pub fn morris_indices(
    design: &MorrisDesign,
    outputs: &[f64],
    rng: &mut StreamRng,
    bootstrap: usize,
) -> Result<Vec<MorrisIndex>, SensitivityError> {
    check_outputs(outputs, design.runs())?;
    let (k, r) = (design.k, design.trajectories);
    let effects = elementary_effects(design, outputs);
    let resampled = resampled_mu_star(&effects, k, rng, bootstrap);
    let indices = resampled.into_iter().enumerate().map(|(factor, sample)| {
        let ee: Vec<f64> = effects.iter().skip(factor).step_by(k).copied().collect();
        let mu = ee.iter().sum::<f64>() / r as f64;
        let var = ee.iter().map(|e| (e - mu).powi(2)).sum::<f64>() / (r - 1) as f64;
        MorrisIndex {
            factor,
            mu,
            mu_star: ee.iter().map(|e| e.abs()).sum::<f64>() / r as f64,
            sigma: var.sqrt(),
            mu_star_ci: Interval::percentile(sample),
        }
    });
    Ok(indices.collect())
}

/// Each trajectory's elementary effects EE = Δy / Δ: `effects[t * k + i]` is trajectory t's
/// effect of factor i.
fn elementary_effects(design: &MorrisDesign, outputs: &[f64]) -> Vec<f64> {
    let k = design.k;
    let mut effects = vec![0.0; design.trajectories * k];
    let runs = design.steps().zip(outputs.chunks_exact(k + 1));
    for (t, (steps, y)) in runs.enumerate() {
        for (s, step) in steps.iter().enumerate() {
            effects[t * k + step.factor] = (y[s + 1] - y[s]) / step.change;
        }
    }
    effects
}

/// Each factor's mu* in `bootstrap` resamples of the trajectories (the rows of `effects`).
fn resampled_mu_star(
    effects: &[f64],
    k: usize,
    rng: &mut StreamRng,
    bootstrap: usize,
) -> Vec<Vec<f64>> {
    let r = effects.len() / k;
    let mut resampled = vec![Vec::with_capacity(bootstrap); k];
    let mut sums = vec![0.0; k];
    for _ in 0..bootstrap {
        sums.fill(0.0);
        for _ in 0..r {
            let t = rng.random_range(0..r);
            let row = &effects[t * k..(t + 1) * k];
            sums.iter_mut().zip(row).for_each(|(m, e)| *m += e.abs());
        }
        let means = sums.iter().map(|m| m / r as f64);
        resampled.iter_mut().zip(means).for_each(|(o, m)| o.push(m));
    }
    resampled
}

/// Saltelli's design for Sobol indices: two independent n x k matrices of base samples, A
/// and B, and for each factor i the matrix AB_i, which is A with its column i taken from B.
///
/// The base samples are plain pseudo-random uniforms from the stream, not a quasi-random
/// sequence: rows are then independent, which is what the bootstrap over rows in
/// [`sobol_indices`] assumes (over a low-discrepancy sequence it would overstate the
/// uncertainty). The price is slower convergence, as 1/sqrt(n): on the Ishigami function
/// the least precise index (S_T1) has a standard error of 0.01 at n = 16384, and 0.02 is
/// three standard errors at n = 49152 (see the tests).
#[derive(Clone, Debug, PartialEq)]
pub struct SaltelliDesign {
    k: usize,
    n: usize,
    /// n (k + 2) points of k coordinates: A, B, AB_1, ..., AB_k, n rows each.
    points: Vec<f64>,
}

impl SaltelliDesign {
    /// Factors.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Base samples n: the rows of each matrix.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Model runs the design needs: n (k + 2).
    pub fn runs(&self) -> usize {
        self.n * (self.k + 2)
    }

    /// Every point, each a slice of k coordinates in [0, 1): the n rows of A, then the n
    /// rows of B, then those of AB_1, ..., AB_k (so point (2 + i) n + j is row j of AB_(i+1),
    /// counting factors from 1).
    pub fn points(&self) -> ChunksExact<'_, f64> {
        self.points.chunks_exact(self.k)
    }
}

/// Builds a Saltelli design of `n` base samples (500 or more; a power of two is customary
/// but not needed) over `k` factors, drawing A and then B from `rng`.
pub fn saltelli_design(
    k: usize,
    n: usize,
    rng: &mut StreamRng,
) -> Result<SaltelliDesign, SensitivityError> {
    if k == 0 {
        return Err(SensitivityError::NoFactors);
    }
    if n < 2 {
        return Err(SensitivityError::TooFewSamples(n));
    }
    let mut points = room(k, k.saturating_add(2), n)?;
    points.extend((0..2 * n * k).map(|_| rng.random::<f64>()));
    let b = n * k; // where B starts
    for i in 0..k {
        for j in 0..n {
            points.extend_from_within(j * k..(j + 1) * k);
            let last = points.len() - k + i;
            points[last] = points[b + j * k + i];
        }
    }
    Ok(SaltelliDesign { k, n, points })
}

/// The Sobol indices of one factor, as shares of the output's variance V.
#[derive(Clone, Debug, PartialEq)]
pub struct SobolIndex {
    /// The factor (0-based).
    pub factor: usize,
    /// First-order index S_i: the share of V the factor explains alone.
    pub first: f64,
    /// Bootstrap 95% interval of `first`; `None` when no resample was asked for.
    pub first_ci: Option<Interval>,
    /// Total index S_Ti: the share of V that would remain if every other factor were fixed,
    /// its interactions included. S_Ti - S_i is what it contributes through interactions.
    pub total: f64,
    /// Bootstrap 95% interval of `total`; `None` when no resample was asked for.
    pub total_ci: Option<Interval>,
}

/// Sobol indices for every factor of `design`, from `outputs` (one per point, in the order
/// of `design.points()`), with `bootstrap` resamples of the rows (0 for none, 1000 or more
/// for an interval worth reading) drawn from `rng`.
///
/// With f0 and V the mean and variance (n - 1 in the denominator's place: 2n - 1) of f over
/// A and B together, and sums over the rows j:
/// - first order, Saltelli et al. 2010 (Table 2, (b)):
///   S_i = (1/n) Σ (f(B)_j - f0) (f(AB_i)_j - f(A)_j) / V. Centring f(B) on f0 does not
///   change the expectation (the differences average zero) but keeps the estimator's
///   variance from growing with f0², so the indices do not depend on the output's level;
/// - total, Jansen 1999: S_Ti = (1/2n) Σ (f(A)_j - f(AB_i)_j)² / V.
///
/// A resample in which every output over A and B is equal has no variance and is left out
/// of the intervals.
pub fn sobol_indices(
    design: &SaltelliDesign,
    outputs: &[f64],
    rng: &mut StreamRng,
    bootstrap: usize,
) -> Result<Vec<SobolIndex>, SensitivityError> {
    check_outputs(outputs, design.runs())?;
    let (k, n) = (design.k, design.n);
    let rows: Vec<usize> = (0..n).collect();
    let point = sobol_estimate(outputs, n, &rows)
        .ok_or(SensitivityError::ZeroVariance { value: outputs[0] })?;
    let mut firsts = vec![Vec::with_capacity(bootstrap); k];
    let mut totals = vec![Vec::with_capacity(bootstrap); k];
    let mut drawn = vec![0; n];
    for _ in 0..bootstrap {
        drawn.iter_mut().for_each(|j| *j = rng.random_range(0..n));
        let Some(estimate) = sobol_estimate(outputs, n, &drawn) else {
            continue;
        };
        for (i, (s, st)) in estimate.into_iter().enumerate() {
            firsts[i].push(s);
            totals[i].push(st);
        }
    }
    let intervals = firsts.into_iter().zip(totals);
    let indices = point.into_iter().zip(intervals).enumerate();
    let indices = indices.map(|(factor, ((first, total), (fs, ts)))| SobolIndex {
        factor,
        first,
        first_ci: Interval::percentile(fs),
        total,
        total_ci: Interval::percentile(ts),
    });
    Ok(indices.collect())
}

/// (S_i, S_Ti) for each factor over the given rows (repeats allowed); `None` when every
/// output over A and B in those rows is the same.
fn sobol_estimate(outputs: &[f64], n: usize, rows: &[usize]) -> Option<Vec<(f64, f64)>> {
    let (fa, rest) = outputs.split_at(n);
    let (fb, fab) = rest.split_at(n);
    let m = rows.len() as f64;
    let first = fa[rows[0]];
    if rows.iter().all(|&j| fa[j] == first && fb[j] == first) {
        return None;
    }
    let f0 = rows.iter().map(|&j| fa[j] + fb[j]).sum::<f64>() / (2.0 * m);
    let squares = rows
        .iter()
        .map(|&j| (fa[j] - f0).powi(2) + (fb[j] - f0).powi(2));
    let var = squares.sum::<f64>() / (2.0 * m - 1.0);
    let indices = fab.chunks_exact(n).map(|ab| {
        let (mut s, mut t) = (0.0, 0.0);
        for &j in rows {
            let d = ab[j] - fa[j];
            s += (fb[j] - f0) * d;
            t += d * d;
        }
        (s / m / var, t / (2.0 * m) / var)
    });
    Some(indices.collect())
}

/// Checks that there is one finite output per point.
fn check_outputs(outputs: &[f64], expected: usize) -> Result<(), SensitivityError> {
    let got = outputs.len();
    if got != expected {
        return Err(SensitivityError::OutputLength { expected, got });
    }
    let Some((index, &value)) = outputs.iter().enumerate().find(|(_, y)| !y.is_finite()) else {
        return Ok(());
    };
    Err(SensitivityError::NonFinite { index, value })
}

/// The name of factor `i` in warnings: `names[i]`, or `x1`, `x2`, ... by 1-based position
/// when `names` has none for it.
fn factor_name(names: &[&str], i: usize) -> String {
    names
        .get(i)
        .map_or_else(|| format!("x{}", i + 1), |name| (*name).to_string())
}

/// What a reader of Morris results should be told, in plain words naming each factor
/// (`names[i]` for factor i, or `x1`, `x2`, ... by position; pass `&[]` for positions only):
/// fewer than [`MORRIS_MIN_TRAJECTORIES`] trajectories, no intervals, and any factor whose mu*
/// interval is wider than [`MORRIS_MAX_RELATIVE_WIDTH`] of the largest mu*, so that its rank
/// among the factors is not settled.
pub fn morris_warnings(
    design: &MorrisDesign,
    indices: &[MorrisIndex],
    names: &[&str],
) -> Vec<String> {
    let mut out = Vec::new();
    let r = design.trajectories;
    if r < MORRIS_MIN_TRAJECTORIES {
        out.push(format!(
            "only {r} Morris trajectories: screening needs at least \
             {MORRIS_MIN_TRAJECTORIES}; rerun with more trajectories"
        ));
    }
    if indices.iter().all(|x| x.mu_star_ci.is_none()) {
        out.push(NO_INTERVALS.to_string());
    }
    let largest = indices.iter().map(|x| x.mu_star).fold(0.0, f64::max);
    for x in indices {
        let Some(ci) = x.mu_star_ci else { continue };
        if ci.width() > MORRIS_MAX_RELATIVE_WIDTH * largest {
            let (name, mu_star) = (factor_name(names, x.factor), x.mu_star);
            out.push(format!(
                "mu* of {name} is {mu_star:.3} with a 95% interval [{:.3}, {:.3}], wider than \
                 {MORRIS_MAX_RELATIVE_WIDTH} times the largest mu* ({largest:.3}): its rank \
                 among the factors is uncertain; add trajectories",
                ci.low, ci.high
            ));
        }
    }
    out
}

/// What a reader of Sobol indices should be told, in plain words naming each factor
/// (`names[i]` for factor i, or `x1`, `x2`, ... by position; pass `&[]` for positions only):
/// fewer than [`SOBOL_MIN_SAMPLES`] base samples, no intervals, a first-order index whose
/// interval straddles zero (the factor may have no effect on its own; a total index cannot,
/// as Jansen's estimator is a mean of squares), and an interval wider than
/// [`SOBOL_MAX_WIDTH`], with the n that would narrow it to that width.
pub fn sobol_warnings(
    design: &SaltelliDesign,
    indices: &[SobolIndex],
    names: &[&str],
) -> Vec<String> {
    let mut out = Vec::new();
    let n = design.n;
    if n < SOBOL_MIN_SAMPLES {
        out.push(format!(
            "only {n} base samples: Sobol indices from fewer than {SOBOL_MIN_SAMPLES} are \
             commonly off by 0.05 or more; rerun with a larger n"
        ));
    }
    if indices.iter().all(|x| x.first_ci.is_none()) {
        out.push(NO_INTERVALS.to_string());
    }
    for x in indices {
        let name = factor_name(names, x.factor);
        if let Some(ci) = x.first_ci.filter(Interval::straddles_zero) {
            out.push(format!(
                "the first-order index of {name} is {:.3} with a 95% interval [{:.3}, {:.3}], \
                 which straddles zero: {name} may not affect the output on its own",
                x.first, ci.low, ci.high
            ));
        }
        for (kind, ci) in [("first-order", x.first_ci), ("total", x.total_ci)] {
            let Some(ci) = ci.filter(|ci| ci.width() > SOBOL_MAX_WIDTH) else {
                continue;
            };
            let needed = (n as f64 * (ci.width() / SOBOL_MAX_WIDTH).powi(2)).ceil();
            out.push(format!(
                "the 95% interval of {name}'s {kind} index, [{:.3}, {:.3}], is {:.3} wide, more \
                 than {SOBOL_MAX_WIDTH}: about n = {needed} base samples would narrow it to that",
                ci.low,
                ci.high,
                ci.width()
            ));
        }
    }
    out
}

/// The warning for results without intervals.
const NO_INTERVALS: &str = "no bootstrap intervals were computed (bootstrap = 0), so the \
    estimates' uncertainty is unknown: pass bootstrap = 1000";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng::Streams;
    use std::f64::consts::PI;
    use std::sync::OnceLock;

    fn rng(seed: u64) -> StreamRng {
        Streams::new(seed, 0).stream("sensitivity")
    }

    /// Ishigami's function (Ishigami and Homma 1990), a = 7, b = 0.1, on [0, 1]^3 mapped to
    /// [-π, π]^3.
    fn ishigami(u: &[f64]) -> f64 {
        let (a, b) = (7.0, 0.1);
        let x: Vec<f64> = u.iter().map(|v| -PI + 2.0 * PI * v).collect();
        x[0].sin() + a * x[1].sin().powi(2) + b * x[2].powi(4) * x[0].sin()
    }

    /// Exact (S_1, S_2, S_3) and (S_T1, S_T2, S_T3) of Ishigami's function, from its
    /// partial variances: V_1 = (1 + b π^4 / 5)^2 / 2, V_2 = a^2 / 8, V_13 = 8 b^2 π^8 / 225,
    /// and V = a^2 / 8 + b π^4 / 5 + b^2 π^8 / 18 + 1/2 = V_1 + V_2 + V_13.
    fn ishigami_exact() -> ([f64; 3], [f64; 3]) {
        let (a, b) = (7.0f64, 0.1f64);
        let v = a * a / 8.0 + b * PI.powi(4) / 5.0 + b * b * PI.powi(8) / 18.0 + 0.5;
        let v1 = 0.5 * (1.0 + b * PI.powi(4) / 5.0).powi(2);
        let v2 = a * a / 8.0;
        let v13 = 8.0 * b * b * PI.powi(8) / 225.0;
        assert!((v1 + v2 + v13 - v).abs() < 1e-12);
        ([v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v])
    }

    /// N = 49152 base samples (245760 runs): the smallest multiple of 8192 at which 0.02 is
    /// at least three bootstrap standard errors of every index (the widest is S_T1's, about
    /// 0.0064; it falls as 1/sqrt(N)). Over 40 seeds the largest error at this N was 0.013.
    const ISHIGAMI_N: usize = 49_152;

    /// The Ishigami analysis at [`ISHIGAMI_N`] with 500 resamples (about 0.5 s in release),
    /// run once for the tests that read it.
    fn ishigami_analysis() -> &'static (SaltelliDesign, Vec<SobolIndex>) {
        static ANALYSIS: OnceLock<(SaltelliDesign, Vec<SobolIndex>)> = OnceLock::new();
        ANALYSIS.get_or_init(|| {
            let mut rng = rng(2024);
            let design = saltelli_design(3, ISHIGAMI_N, &mut rng).expect("valid design");
            let y: Vec<f64> = design.points().map(ishigami).collect();
            let indices = sobol_indices(&design, &y, &mut rng, 500).expect("valid outputs");
            (design, indices)
        })
    }

    #[test]
    fn ishigami_indices_are_within_0_02_of_exact() {
        let (s, st) = ishigami_exact();
        assert!((s[0] - 0.3139).abs() < 1e-4 && (st[2] - 0.2437).abs() < 1e-4);
        let (_, indices) = ishigami_analysis();
        for x in indices {
            let i = x.factor;
            let (e, et) = (x.first - s[i], x.total - st[i]);
            assert!(e.abs() < 0.02, "S_{}: {} vs {} exact", i + 1, x.first, s[i]);
            assert!(
                et.abs() < 0.02,
                "S_T{}: {} vs {} exact",
                i + 1,
                x.total,
                st[i]
            );
        }
    }

    #[test]
    fn ishigami_intervals_cover_the_exact_values_and_s3_straddles_zero() {
        let (s, st) = ishigami_exact();
        let (design, indices) = ishigami_analysis();
        let mut covered = 0;
        for x in indices {
            let (ci, cti) = (x.first_ci.expect("interval"), x.total_ci.expect("interval"));
            assert!(ci.contains(x.first) && cti.contains(x.total));
            covered +=
                usize::from(ci.contains(s[x.factor])) + usize::from(cti.contains(st[x.factor]));
        }
        assert!(
            covered >= 5,
            "{covered} of 6 intervals hold the exact index"
        );
        let s3 = indices[2].first_ci.expect("interval");
        assert!(s3.straddles_zero(), "{s3:?}");
        let warnings = sobol_warnings(design, indices, &[]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("first-order index of x3")
                && warnings[0].contains("straddles zero")
        );
        let named = sobol_warnings(design, indices, &["a", "b", "price"]);
        assert!(
            named[0].contains("of price")
                && named[0].contains("may not affect the output on its own")
        );
    }

    #[test]
    fn sobol_indices_do_not_depend_on_the_output_level_or_scale() {
        let mut r = rng(5);
        let design = saltelli_design(3, 600, &mut r).expect("valid design");
        let y: Vec<f64> = design.points().map(ishigami).collect();
        let moved: Vec<f64> = y.iter().map(|v| 1e4 + 10.0 * v).collect();
        let base = sobol_indices(&design, &y, &mut rng(1), 0).expect("valid outputs");
        let other = sobol_indices(&design, &moved, &mut rng(1), 0).expect("valid outputs");
        for (a, b) in base.iter().zip(&other) {
            assert!((a.first - b.first).abs() < 1e-9 && (a.total - b.total).abs() < 1e-9);
        }
    }

    #[test]
    fn a_factor_that_does_not_enter_has_zero_sobol_indices() {
        let mut r = rng(9);
        let design = saltelli_design(3, 1000, &mut r).expect("valid design");
        let y: Vec<f64> = design.points().map(|x| x[0] + x[1] * x[1]).collect();
        let indices = sobol_indices(&design, &y, &mut r, 200).expect("valid outputs");
        let none = &indices[2];
        assert_eq!((none.first, none.total), (0.0, 0.0));
        assert_eq!(
            none.total_ci,
            Some(Interval {
                low: 0.0,
                high: 0.0
            })
        );
        assert!(indices[0].first > 0.3 && indices[1].first > 0.3);
    }

    #[test]
    fn saltelli_points_are_a_then_b_then_a_with_one_column_of_b() {
        let (k, n) = (3, 5);
        let design = saltelli_design(k, n, &mut rng(3)).expect("valid design");
        let points: Vec<&[f64]> = design.points().collect();
        assert_eq!((points.len(), design.runs()), (n * (k + 2), n * (k + 2)));
        assert!(
            points
                .iter()
                .flat_map(|p| p.iter())
                .all(|v| (0.0..1.0).contains(v))
        );
        for i in 0..k {
            for j in 0..n {
                let (a, b, ab) = (points[j], points[n + j], points[(2 + i) * n + j]);
                for c in 0..k {
                    assert_eq!(ab[c], if c == i { b[c] } else { a[c] });
                }
            }
        }
    }

    /// Runs the Morris method on `f` over `k` factors: 20 trajectories, 4 levels.
    fn morris(k: usize, f: impl Fn(&[f64]) -> f64) -> (MorrisDesign, Vec<MorrisIndex>) {
        let mut r = rng(11);
        let design = morris_design(k, 20, 4, &mut r).expect("valid design");
        let y: Vec<f64> = design.points().map(f).collect();
        let indices = morris_indices(&design, &y, &mut r, 500).expect("valid outputs");
        (design, indices)
    }

    #[test]
    fn morris_effects_of_a_linear_function_are_its_coefficients() {
        let c = [2.0, -3.0, 0.5, 0.0];
        let linear = |x: &[f64]| x.iter().zip(&c).map(|(x, c)| x * c).sum::<f64>();
        let (_, indices) = morris(4, linear);
        for x in &indices {
            let ci = c[x.factor];
            assert!((x.mu - ci).abs() < 1e-12, "{x:?}");
            assert!((x.mu_star - ci.abs()).abs() < 1e-12, "{x:?}");
            assert!(x.sigma < 1e-12, "{x:?}");
        }
        assert_eq!(indices[3].mu_star, 0.0);
        assert_eq!(
            indices[3].mu_star_ci,
            Some(Interval {
                low: 0.0,
                high: 0.0
            })
        );
    }

    #[test]
    fn morris_sees_an_interaction_as_spread() {
        let (_, indices) = morris(3, |x| x[0] * x[1]);
        for x in &indices[..2] {
            assert!(x.sigma > 0.1, "{x:?}");
            assert!(x.mu_star_ci.is_some_and(|ci| ci.contains(x.mu_star)));
        }
        assert_eq!((indices[2].mu_star, indices[2].sigma), (0.0, 0.0));
    }

    #[test]
    fn morris_trajectories_move_each_factor_once_by_delta_on_the_grid() {
        for (levels, delta) in [(2, 1.0), (4, 2.0 / 3.0), (6, 0.6)] {
            let (k, r) = (5, 7);
            let design = morris_design(k, r, levels, &mut rng(levels as u64)).expect("valid");
            assert!((design.delta() - delta).abs() < 1e-15);
            let points: Vec<&[f64]> = design.points().collect();
            assert_eq!((points.len(), design.runs()), (r * (k + 1), r * (k + 1)));
            let grid = (levels - 1) as f64;
            let on_grid = |v: &f64| ((v * grid).round() - v * grid).abs() < 1e-12;
            assert!(
                points
                    .iter()
                    .flat_map(|p| p.iter())
                    .all(|v| (0.0..=1.0).contains(v) && on_grid(v))
            );
            for (t, steps) in design.steps().enumerate() {
                let mut moved: Vec<usize> = steps.iter().map(|s| s.factor).collect();
                moved.sort_unstable();
                assert_eq!(moved, (0..k).collect::<Vec<_>>());
                for (s, step) in steps.iter().enumerate() {
                    let (from, to) = (points[t * (k + 1) + s], points[t * (k + 1) + s + 1]);
                    for c in 0..k {
                        let want = if c == step.factor { step.change } else { 0.0 };
                        assert!((to[c] - from[c] - want).abs() < 1e-12);
                    }
                    assert_eq!(step.change.abs(), design.delta());
                }
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_designs_bit_for_bit() {
        let bits = |v: ChunksExact<'_, f64>| v.flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
        let m = |seed| morris_design(4, 10, 4, &mut rng(seed)).expect("valid");
        let s = |seed| saltelli_design(4, 64, &mut rng(seed)).expect("valid");
        assert_eq!(bits(m(1).points()), bits(m(1).points()));
        assert_eq!(
            m(1).steps().flatten().collect::<Vec<_>>(),
            m(1).steps().flatten().collect::<Vec<_>>()
        );
        assert_eq!(bits(s(1).points()), bits(s(1).points()));
        assert_ne!(bits(m(1).points()), bits(m(2).points()));
        assert_ne!(bits(s(1).points()), bits(s(2).points()));
        let y: Vec<f64> = s(1).points().map(ishigami).collect();
        let run = || sobol_indices(&s(1), &y, &mut rng(7), 50).expect("valid outputs");
        assert_eq!(run(), run());
    }

    #[test]
    fn bad_settings_are_errors_that_say_what_to_change() {
        use SensitivityError::*;
        let r = &mut rng(0);
        assert_eq!(morris_design(0, 10, 4, r), Err(NoFactors));
        assert_eq!(saltelli_design(0, 100, r), Err(NoFactors));
        for levels in [0, 1, 3, 5] {
            let e = morris_design(2, 10, levels, r);
            assert_eq!(e, Err(Levels(levels)));
            assert!(e.is_err_and(|e| e.to_string().contains("even number of levels")));
        }
        for t in [0, 1] {
            assert_eq!(morris_design(2, t, 4, r), Err(TooFewTrajectories(t)));
        }
        for n in [0, 1] {
            assert_eq!(saltelli_design(2, n, r), Err(TooFewSamples(n)));
        }
        assert_eq!(morris_design(2, usize::MAX / 2, 4, r), Err(TooLarge));
        assert_eq!(saltelli_design(usize::MAX, 2, r), Err(TooLarge));
        assert_eq!(saltelli_design(1, usize::MAX / 64, r), Err(TooLarge));
    }

    #[test]
    fn bad_outputs_are_errors_that_say_what_to_change() {
        use SensitivityError::*;
        let r = &mut rng(0);
        let m = morris_design(2, 4, 4, r).expect("valid");
        let s = saltelli_design(2, 8, r).expect("valid");
        let short = vec![1.0; 5];
        let e = morris_indices(&m, &short, r, 10);
        assert_eq!(
            e,
            Err(OutputLength {
                expected: 12,
                got: 5
            })
        );
        assert!(e.is_err_and(|e| {
            e.to_string()
                .contains("once at each of the design's points()")
        }));
        assert_eq!(
            sobol_indices(&s, &short, r, 10),
            Err(OutputLength {
                expected: 32,
                got: 5
            })
        );
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut y: Vec<f64> = (0..12).map(f64::from).collect();
            y[7] = bad;
            let e = morris_indices(&m, &y, r, 10);
            assert!(matches!(e, Err(NonFinite { index: 7, .. })), "{e:?}");
            let mut y: Vec<f64> = (0..32).map(f64::from).collect();
            y[31] = bad;
            assert!(matches!(
                sobol_indices(&s, &y, r, 10),
                Err(NonFinite { index: 31, .. })
            ));
        }
        let flat = vec![0.1; 32];
        let e = sobol_indices(&s, &flat, r, 10);
        assert_eq!(e, Err(ZeroVariance { value: 0.1 }));
        assert!(e.is_err_and(|e| e.to_string().contains("depends on the swept parameters")));
        // Morris on a constant output is well defined: no factor has an effect.
        let indices = morris_indices(&m, &[3.0; 12], r, 10).expect("valid outputs");
        assert!(indices.iter().all(|x| x.mu_star == 0.0 && x.sigma == 0.0));
    }

    #[test]
    fn small_samples_and_missing_intervals_are_warned_about() {
        let r = &mut rng(4);
        let m = morris_design(3, 5, 4, r).expect("valid");
        let y: Vec<f64> = m.points().map(|x| x[0] + 2.0 * x[1] * x[2]).collect();
        let indices = morris_indices(&m, &y, r, 0).expect("valid outputs");
        let warnings = morris_warnings(&m, &indices, &["price"]);
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("only 5 Morris trajectories"))
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("no bootstrap intervals"))
        );
        let s = saltelli_design(3, 100, r).expect("valid");
        let y: Vec<f64> = s.points().map(ishigami).collect();
        let indices = sobol_indices(&s, &y, r, 300).expect("valid outputs");
        let warnings = sobol_warnings(&s, &indices, &["price"]);
        assert!(warnings.iter().any(|w| w.contains("only 100 base samples")));
        let wide = warnings
            .iter()
            .filter(|w| w.contains("wide, more than 0.1"));
        assert!(wide.clone().count() >= 3, "{warnings:?}");
        assert!(
            wide.clone().any(|w| w.contains("of price"))
                && wide.clone().any(|w| w.contains("of x2"))
        );
    }

    #[test]
    fn a_wide_mu_star_interval_is_warned_about() {
        // One trajectory in ten sees a large effect of x1: its mu* is uncertain.
        let r = &mut rng(8);
        let m = morris_design(2, 10, 4, r).expect("valid");
        let y: Vec<f64> = m
            .points()
            .map(|x| x[1] + 50.0 * (x[0] * x[1]).powi(8))
            .collect();
        let indices = morris_indices(&m, &y, r, 500).expect("valid outputs");
        let warnings = morris_warnings(&m, &indices, &[]);
        assert!(
            warnings.iter().any(|w| w.starts_with("mu* of x1")),
            "{indices:?} {warnings:?}"
        );
    }

    #[test]
    fn percentile_intervals_interpolate_between_order_statistics() {
        let sample: Vec<f64> = (0..=100).rev().map(f64::from).collect();
        assert_eq!(
            Interval::percentile(sample),
            Some(Interval {
                low: 2.5,
                high: 97.5
            })
        );
        assert_eq!(
            Interval::percentile(vec![3.0]),
            Some(Interval {
                low: 3.0,
                high: 3.0
            })
        );
        assert_eq!(Interval::percentile(Vec::new()), None);
        let ci = Interval {
            low: -1.0,
            high: 2.0,
        };
        assert!(
            ci.straddles_zero()
                && !Interval {
                    low: 0.0,
                    high: 1.0
                }
                .straddles_zero()
        );
        assert_eq!(ci.width(), 3.0);
    }
}
