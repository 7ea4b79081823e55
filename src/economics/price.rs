//! The token's USD price: a constant-product market ([`Amm`]), the burn-and-mint equilibrium
//! price ([`bme_equilibrium_price`]), and exogenous price paths ([`PricePathSpec`] as written
//! in a scenario, [`PricePath`] once resolved, stepped by [`PriceProcess`]).
//!
//! In YAML a price path is a one-key mapping:
//! `{constant: {usd: 0.5}}`,
//! `{gbm: {initial_usd: 1, drift_per_year: 0, volatility_per_year: 0.8}}`, or
//! `{csv: {path: "prices.csv"}}`, where the file holds lines `hour,usd` (see [`parse_csv`]).

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;

// GBM drift and volatility are per year.
use crate::core::units::HOURS_PER_YEAR;

/// The smallest price a [`PriceProcess`] returns: a path that reaches zero (or underflows
/// below this) is held here and flagged by [`PriceProcess::hit_zero`].
pub const MIN_PRICE_USD: f64 = 1e-12;

/// Uniswap v2's swap fee: 0.3% of the input.
pub const DEFAULT_FEE: f64 = 0.003;

/// What to do about any problem of a price path (a scenario's `token.price`).
const PRICE_FIX: &str =
    "give a positive price, a non-negative volatility, or a CSV file of `hour,usd` lines";

/// What to do about a problem of an `amm` pool.
const AMM_FIX: &str = "give positive, finite reserves, a fee in [0, 1), a provider_sell_share between 0 and 1 and a speculation of 0 or more";

/// The smallest reserve a pool keeps: the smallest positive normal `f64`.
const MIN_RESERVE: f64 = f64::MIN_POSITIVE;

/// What is wrong with a pool of `token` tokens and `usd` dollars charging `fee`: each
/// reserve must be positive and finite, and the fee in [0, 1).
fn pool_problems(token: f64, usd: f64, fee: f64) -> [Option<String>; 3] {
    [
        (!(token.is_finite() && token > 0.0))
            .then(|| format!("token reserve must be positive and finite, got {token}")),
        (!(usd.is_finite() && usd > 0.0))
            .then(|| format!("USD reserve must be positive and finite, got {usd}")),
        (!(0.0..1.0).contains(&fee)).then(|| format!("fee must be in [0, 1), got {fee}")),
    ]
}

/// A constant-product pool of the token against USD, as in Uniswap v2 (Adams, Zinsmeister and
/// Robinson, "Uniswap v2 Core", 2020): reserves `x` (tokens) and `y` (USD) trade along
/// `x * y = k`, and the fee `f` is taken from the input, so an input `d` moves the reserves as
/// if only `d * (1 - f)` had been paid while the whole `d` stays in the pool; `k` therefore never
/// decreases.
///
/// Reserves stay positive and finite: a trade that would empty a reserve leaves at least the
/// smallest positive normal `f64` in it, and a trade whose input would overflow a reserve is
/// refused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Amm {
    token: f64,
    usd: f64,
    fee: f64,
}

impl Amm {
    /// A pool holding `token` tokens and `usd` dollars, charging `fee` (a fraction of the
    /// input, [`DEFAULT_FEE`] in Uniswap v2).
    ///
    /// # Errors
    /// If a reserve is not positive and finite, or `fee` is not in [0, 1).
    pub fn new(token: f64, usd: f64, fee: f64) -> Result<Self, String> {
        match pool_problems(token, usd, fee).into_iter().flatten().next() {
            Some(problem) => Err(problem),
            None => Ok(Self { token, usd, fee }),
        }
    }

    /// The token reserve `x`.
    pub fn token_reserve(&self) -> f64 {
        self.token
    }

    /// The USD reserve `y`.
    pub fn usd_reserve(&self) -> f64 {
        self.usd
    }

    /// The fee, a fraction of each trade's input.
    pub fn fee(&self) -> f64 {
        self.fee
    }

    /// The invariant `k = x * y` (may be `inf` for reserves whose product overflows).
    pub fn k(&self) -> f64 {
        self.token * self.usd
    }

    /// The marginal (spot) price in USD per token, `y / x`, clamped to the positive normal
    /// finite range [`f64::MIN_POSITIVE`, `f64::MAX`] so that it is never 0, infinite or NaN.
    pub fn price(&self) -> f64 {
        (self.usd / self.token).clamp(f64::MIN_POSITIVE, f64::MAX)
    }

    /// Sells `tokens_in` tokens to the pool and returns the USD paid out,
    /// `dy = y * dx * (1 - f) / (x + dx * (1 - f))`.
    ///
    /// # Errors
    /// If `tokens_in` is negative or not finite, or the token reserve would overflow.
    pub fn sell_tokens(&mut self, tokens_in: f64) -> Result<f64, String> {
        let (x, y) = swap(self.token, self.usd, tokens_in, self.fee, "tokens_in")?;
        let out = self.usd - y;
        self.token = x;
        self.usd = y;
        Ok(out)
    }

    /// Buys tokens with `usd_in` dollars and returns the tokens paid out,
    /// `dx = x * dy * (1 - f) / (y + dy * (1 - f))`.
    ///
    /// # Errors
    /// If `usd_in` is negative or not finite, or the USD reserve would overflow.
    pub fn buy_tokens_with_usd(&mut self, usd_in: f64) -> Result<f64, String> {
        let (y, x) = swap(self.usd, self.token, usd_in, self.fee, "usd_in")?;
        let out = self.token - x;
        self.token = x;
        self.usd = y;
        Ok(out)
    }

    /// Buys exactly `tokens_out` tokens and returns the USD it costs, the inverse of
    /// [`Amm::buy_tokens_with_usd`]: `dy = y * dx / ((x - dx) * (1 - f))` (Uniswap v2's
    /// `getAmountIn`, without its integer rounding).
    ///
    /// # Errors
    /// If `tokens_out` is negative or not finite, is not below the token reserve, or the cost
    /// would overflow the USD reserve.
    pub fn buy_exact_tokens(&mut self, tokens_out: f64) -> Result<f64, String> {
        if !(tokens_out.is_finite() && tokens_out >= 0.0) {
            return Err(format!(
                "tokens_out must be non-negative and finite, got {tokens_out}"
            ));
        }
        if tokens_out >= self.token {
            return Err(format!(
                "tokens_out {tokens_out} is not below the token reserve {}",
                self.token
            ));
        }
        let (x, y) = (self.token, self.usd);
        // x - dx > 0 exactly because dx < x.
        let new_x = x - tokens_out;
        let usd_in = y * tokens_out / (new_x * (1.0 - self.fee));
        let mut new_y = y + usd_in;
        if !new_y.is_finite() {
            return Err(format!(
                "buying {tokens_out} tokens would overflow the USD reserve"
            ));
        }
        new_y = keep_k(x * y, new_x, new_y);
        self.token = new_x;
        self.usd = new_y;
        Ok(new_y - y)
    }
}

/// The reserves after `amount` goes into reserve `r_in` and the swap's output leaves `r_out`:
/// returns `(new_r_in, new_r_out)`.
fn swap(r_in: f64, r_out: f64, amount: f64, fee: f64, what: &str) -> Result<(f64, f64), String> {
    if !(amount.is_finite() && amount >= 0.0) {
        return Err(format!(
            "{what} must be non-negative and finite, got {amount}"
        ));
    }
    let new_in = r_in + amount;
    if !new_in.is_finite() {
        return Err(format!("{what} {amount} would overflow the pool's reserve"));
    }
    let effective = amount * (1.0 - fee);
    // effective <= amount, so r_in + effective is finite; the fraction lies in [0, 1].
    let fraction = effective / (r_in + effective);
    let new_out = (r_out - r_out * fraction).clamp(MIN_RESERVE, r_out);
    Ok((new_in, keep_k(r_in * r_out, new_in, new_out)))
}

/// Raises `new_out` by a few ulps, if rounding left `new_in * new_out` below `k`, so that the
/// invariant never decreases.
fn keep_k(k: f64, new_in: f64, mut new_out: f64) -> f64 {
    for _ in 0..8 {
        if new_in * new_out >= k {
            break;
        }
        new_out = new_out.next_up();
    }
    new_out
}

/// The burn-and-mint equilibrium price in USD per token: the price at which the tokens burned
/// to pay an epoch's fees, `usd_burned_per_epoch / price`, equal the tokens minted as rewards in
/// that epoch, i.e. `usd_burned_per_epoch / tokens_minted_per_epoch`.
///
/// With a market pool, the tokens that meet the burns are those providers sell: a share s of
/// each emission E. The pool is in balance at `usd_burned_per_epoch / (s x E)`, so pass the
/// tokens sold, s x E; the unsold (1 - s) x E keeps adding to supply.
///
/// Burn-and-mint equilibrium was described by Kyle Samani (Multicoin Capital, "New Models for
/// Utility Tokens", 2018) following Factom, in the line of Multicoin's token-velocity analysis;
/// Helium (Data Credits burned from HNT) and the Render Network (RNP-001) use it. Above this
/// price fewer tokens are burned than minted and supply grows; below it supply shrinks.
///
/// Returns `inf` when nothing is minted but something is burned, and NaN when both are 0 (any
/// price balances) or an input is negative or NaN.
pub fn bme_equilibrium_price(usd_burned_per_epoch: f64, tokens_minted_per_epoch: f64) -> f64 {
    if usd_burned_per_epoch.is_nan()
        || tokens_minted_per_epoch.is_nan()
        || usd_burned_per_epoch < 0.0
        || tokens_minted_per_epoch < 0.0
    {
        return f64::NAN;
    }
    usd_burned_per_epoch / tokens_minted_per_epoch
}

/// An exogenous token price path as written in a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub enum PricePathSpec {
    /// The same price throughout.
    Constant {
        /// Price in USD per token (> 0).
        usd: f64,
    },
    /// Geometric Brownian motion, `dS = mu S dt + sigma S dW`, with time in years.
    Gbm {
        /// Price at hour 0 in USD per token (> 0).
        initial_usd: f64,
        /// Drift mu per year (`E[S_t] = S_0 exp(mu t)`).
        drift_per_year: f64,
        /// Volatility sigma per square-root year (>= 0).
        volatility_per_year: f64,
    },
    /// A table of `hour,usd` points read from a CSV file, linearly interpolated and held
    /// constant before the first and after the last point.
    Csv {
        /// Path of the CSV file, relative to the scenario file.
        path: String,
    },
    /// Endogenous: the price of a constant-product pool of the token against USD. Each token
    /// epoch providers sell a share of the rewards they can sell, burns and buy-backs buy,
    /// GPUs that join buy their stakes, and speculators trade a random amount.
    Amm(AmmSpec),
}

/// An endogenous market: a constant-product pool and the flows through it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct AmmSpec {
    /// Tokens in the pool at hour 0 (> 0), part of the initial supply.
    pub token_reserve: f64,
    /// USD in the pool at hour 0 (> 0); the initial price is usd_reserve / token_reserve.
    pub usd_reserve: f64,
    /// Fee on each trade's input. Default 0.003 (Uniswap v2).
    #[serde(default = "default_amm_fee")]
    pub fee: f64,
    /// Share of the rewards providers can sell (earned unlocked, or released) that they
    /// sell each epoch to pay their costs. No default: surveys of providers differ.
    pub provider_sell_share: f64,
    /// Standard deviation of speculators' net purchase per day, USD (normal, mean 0; a
    /// negative draw is a sale of that many dollars' worth). Default 0.
    #[serde(default)]
    pub speculation_usd_per_day: f64,
}

fn default_amm_fee() -> f64 {
    DEFAULT_FEE
}

impl AmmSpec {
    /// Checks the parameters, recording every problem at `at` (the price path's place).
    /// Returns whether there was none.
    pub fn validate(&self, at: &YamlPath, issues: &mut Issues) -> bool {
        let (share, speculation) = (self.provider_sell_share, self.speculation_usd_per_day);
        let others = [
            (!(0.0..=1.0).contains(&share)).then(|| {
                format!("provider_sell_share must be a share between 0 and 1, got {share}")
            }),
            (!(speculation.is_finite() && speculation >= 0.0))
                .then(|| format!("speculation_usd_per_day must be 0 or more, got {speculation}")),
        ];
        let mut ok = true;
        for problem in pool_problems(self.token_reserve, self.usd_reserve, self.fee)
            .into_iter()
            .chain(others)
            .flatten()
        {
            ok = false;
            issues.push(at, format!("amm {problem}"), AMM_FIX);
        }
        ok
    }

    /// The pool at hour 0.
    pub fn pool(&self) -> Amm {
        // Validated: the reserves and fee are in range.
        Amm::new(self.token_reserve, self.usd_reserve, self.fee).unwrap_or(Amm {
            token: 1.0,
            usd: 1.0,
            fee: 0.0,
        })
    }
}

impl PricePathSpec {
    /// The resolved path, reading a CSV file's text with `read` (given the path as
    /// written); None after recording every problem at `at`: a parameter out of range,
    /// `read` failing, or the CSV not parsing (the message names the file).
    pub fn resolve(
        &self,
        read: impl FnOnce(&str) -> Result<String, String>,
        at: &YamlPath,
        issues: &mut Issues,
    ) -> Option<PricePath> {
        let path = match self {
            Self::Constant { usd } => PricePath::Constant { usd: *usd },
            Self::Gbm {
                initial_usd,
                drift_per_year,
                volatility_per_year,
            } => PricePath::Gbm {
                initial_usd: *initial_usd,
                drift_per_year: *drift_per_year,
                volatility_per_year: *volatility_per_year,
            },
            Self::Csv { path } => match read(path).and_then(|text| parse_csv(&text)) {
                Ok(points) => PricePath::Csv { points },
                Err(e) => {
                    issues.push(at, format!("{path}: {e}"), PRICE_FIX);
                    return None;
                }
            },
            Self::Amm(a) => PricePath::Amm(a.clone()),
        };
        path.validate(at, issues).then_some(path)
    }
}

/// A validated exogenous price path (a CSV file replaced by its points).
#[derive(Clone, Debug, PartialEq)]
pub enum PricePath {
    /// The same price throughout.
    Constant {
        /// Price in USD per token.
        usd: f64,
    },
    /// Geometric Brownian motion.
    Gbm {
        /// Price at hour 0.
        initial_usd: f64,
        /// Drift mu per year.
        drift_per_year: f64,
        /// Volatility sigma per square-root year.
        volatility_per_year: f64,
    },
    /// Points `(hour, usd)` with strictly increasing hours and non-negative prices.
    Csv {
        /// The points, at least one.
        points: Vec<(f64, f64)>,
    },
    /// Endogenous, through a constant-product pool.
    Amm(AmmSpec),
}

impl PricePath {
    /// Checks the parameters: a constant or initial price positive and finite, drift finite,
    /// volatility non-negative and finite, CSV points as [`parse_csv`] accepts them. Records
    /// every problem at `at` (the price path's place) and returns whether there was none.
    pub fn validate(&self, at: &YamlPath, issues: &mut Issues) -> bool {
        let before = issues.len();
        let mut problem = |message: String| issues.push(at, message, PRICE_FIX);
        match self {
            Self::Constant { usd } => positive("constant usd", *usd, &mut problem),
            Self::Gbm {
                initial_usd,
                drift_per_year,
                volatility_per_year,
            } => {
                positive("gbm initial_usd", *initial_usd, &mut problem);
                if !drift_per_year.is_finite() {
                    problem(format!(
                        "gbm drift_per_year must be finite, got {drift_per_year}"
                    ));
                }
                if !(volatility_per_year.is_finite() && *volatility_per_year >= 0.0) {
                    problem(format!(
                        "gbm volatility_per_year must be non-negative and finite, got {volatility_per_year}"
                    ));
                }
            }
            Self::Csv { points } => csv_problems(points, &mut problem),
            Self::Amm(a) => {
                a.validate(at, issues);
            }
        }
        issues.len() == before
    }
}

/// Calls `problem` for an empty table, and for each point with a negative or non-finite
/// value or an hour not above the previous one.
fn csv_problems(points: &[(f64, f64)], problem: &mut impl FnMut(String)) {
    if points.is_empty() {
        problem("csv price path has no points".into());
    }
    for (i, &(h, usd)) in points.iter().enumerate() {
        if !(h.is_finite() && usd.is_finite() && usd >= 0.0) {
            problem(format!("csv point {i}: invalid ({h}, {usd})"));
        } else if i > 0 && h <= points[i - 1].0 {
            problem(format!("csv point {i}: hours not increasing"));
        }
    }
}

fn positive(what: &str, v: f64, problem: &mut impl FnMut(String)) {
    if !(v.is_finite() && v > 0.0) {
        problem(format!("{what} must be positive and finite, got {v}"));
    }
}

/// Linear interpolation of `points` at hour `t`, held constant outside them.
fn interpolate(points: &[(f64, f64)], t: f64) -> f64 {
    let (first, last) = (points[0], points[points.len() - 1]);
    if t <= first.0 {
        return first.1;
    }
    if t >= last.0 {
        return last.1;
    }
    // 1 <= i <= len - 1: the first point strictly after t.
    let i = points.partition_point(|p| p.0 <= t);
    let (h0, v0) = points[i - 1];
    let (h1, v1) = points[i];
    v0 + (t - h0) / (h1 - h0) * (v1 - v0)
}

/// Steps a [`PricePath`] forward in time from hour 0.
///
/// [`PriceProcess::advance`] returns the price at the new time, never NaN, 0 or infinite: a
/// price below [`MIN_PRICE_USD`] (a CSV point at 0, or a GBM whose value underflows) is returned
/// as [`MIN_PRICE_USD`] and sets the sticky flag [`PriceProcess::hit_zero`]; a GBM that
/// overflows is held at `f64::MAX`.
#[derive(Clone, Debug)]
pub struct PriceProcess {
    path: PricePath,
    time_h: f64,
    /// GBM state: the natural log of the exact (unfloored) price.
    ln_price: f64,
    price: f64,
    hit_zero: bool,
}

impl PriceProcess {
    /// A process at hour 0.
    ///
    /// # Errors
    /// Every problem [`PricePath::validate`] finds in `path`.
    pub fn new(path: PricePath) -> Result<Self, Issues> {
        let mut issues = Issues::default();
        if !path.validate(&YamlPath::root(), &mut issues) {
            return Err(issues);
        }
        let mut process = Self {
            ln_price: 0.0,
            price: 0.0,
            time_h: 0.0,
            hit_zero: false,
            path,
        };
        let raw = match &process.path {
            PricePath::Constant { usd } => *usd,
            PricePath::Gbm { initial_usd, .. } => {
                process.ln_price = initial_usd.ln();
                *initial_usd
            }
            PricePath::Csv { points } => interpolate(points, 0.0),
            PricePath::Amm(a) => a.pool().price(),
        };
        process.set_price(raw);
        Ok(process)
    }

    /// The path being stepped.
    pub fn path(&self) -> &PricePath {
        &self.path
    }

    /// The current time in hours.
    pub fn time_h(&self) -> f64 {
        self.time_h
    }

    /// The current price in USD per token (see the type's documentation for the floor).
    pub fn price(&self) -> f64 {
        self.price
    }

    /// Whether the price has ever been below [`MIN_PRICE_USD`] (and was returned floored).
    pub fn hit_zero(&self) -> bool {
        self.hit_zero
    }

    /// Advances by `dt_h` hours and returns the new price.
    ///
    /// GBM takes the exact lognormal step (Glasserman, "Monte Carlo Methods in Financial
    /// Engineering", 2003, section 3.2.1):
    /// `S(t + dt) = S(t) exp((mu - sigma^2 / 2) dt + sigma sqrt(dt) Z)` with `dt = dt_h / 8766`
    /// years and `Z` standard normal drawn from `rng`; a step of 0 hours draws nothing. Constant
    /// and CSV paths draw nothing. A CSV path sets [`PriceProcess::hit_zero`] if a zero-price
    /// point lies within the step, even when the step's end is past it.
    ///
    /// # Panics
    /// If `dt_h` is negative or not finite.
    pub fn advance<R: Rng + ?Sized>(&mut self, rng: &mut R, dt_h: f64) -> f64 {
        assert!(
            dt_h.is_finite() && dt_h >= 0.0,
            "price step must be non-negative and finite, got {dt_h}"
        );
        let from = self.time_h;
        self.time_h += dt_h;
        let raw = match &self.path {
            PricePath::Constant { usd } => *usd,
            PricePath::Gbm {
                drift_per_year,
                volatility_per_year,
                ..
            } => {
                if dt_h > 0.0 {
                    let dt = dt_h / HOURS_PER_YEAR;
                    let sigma = *volatility_per_year;
                    let z: f64 = StandardNormal.sample(rng);
                    self.ln_price +=
                        (drift_per_year - 0.5 * sigma * sigma) * dt + sigma * dt.sqrt() * z;
                }
                self.ln_price.exp()
            }
            PricePath::Csv { points } => {
                let to = self.time_h;
                if points
                    .iter()
                    .any(|&(h, usd)| usd <= 0.0 && h > from && h <= to)
                {
                    self.hit_zero = true;
                }
                interpolate(points, to)
            }
            // The market sets this price through [`PriceProcess::set`].
            PricePath::Amm(_) => self.price,
        };
        self.set_price(raw);
        self.price
    }

    /// Sets the price of an endogenous path (the pool's price after an epoch's trades).
    pub fn set(&mut self, usd: f64) {
        self.set_price(usd);
    }

    fn set_price(&mut self, raw: f64) {
        if raw.is_nan() || raw < MIN_PRICE_USD {
            self.hit_zero = true;
            self.price = MIN_PRICE_USD;
        } else {
            self.price = raw.min(f64::MAX);
        }
    }
}

/// Parses a price table: one `hour,usd` point per line, hours strictly increasing, prices
/// non-negative. Blank lines are skipped, `#` starts a comment, and the first non-blank line may
/// be a header whose two fields are both non-numeric (such as `hour,usd`).
///
/// # Errors
/// A message naming the line (1-based) for a line without exactly two fields, a non-numeric or
/// non-finite field, a negative price, or an hour not above the previous one; and an error if
/// the table has no points.
pub fn parse_csv(text: &str) -> Result<Vec<(f64, f64)>, String> {
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut seen_content = false;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let first_content = !seen_content;
        seen_content = true;
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 2 {
            return Err(format!(
                "line {line_no}: expected two fields `hour,usd`, found {} in `{line}`",
                fields.len()
            ));
        }
        let (hour, usd) = (fields[0].parse::<f64>(), fields[1].parse::<f64>());
        if first_content && hour.is_err() && usd.is_err() {
            continue; // header
        }
        let hour = number(line_no, "hour", fields[0], hour)?;
        let usd = number(line_no, "usd", fields[1], usd)?;
        if usd < 0.0 {
            return Err(format!("line {line_no}: negative price {usd}"));
        }
        if let Some(&(prev, _)) = points.last()
            && hour <= prev
        {
            return Err(format!(
                "line {line_no}: hours not increasing ({hour} after {prev})"
            ));
        }
        points.push((hour, usd));
    }
    if points.is_empty() {
        return Err("empty price table: no `hour,usd` points".into());
    }
    Ok(points)
}

fn number(
    line_no: usize,
    what: &str,
    text: &str,
    parsed: Result<f64, std::num::ParseFloatError>,
) -> Result<f64, String> {
    match parsed {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(format!("line {line_no}: {what} `{text}` is not finite")),
        Err(_) => Err(format!("line {line_no}: {what} `{text}` is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::diagnostics::Issue;
    use crate::core::dist::unit;
    use crate::core::rng::Streams;

    /// Every problem's message, joined.
    fn messages(issues: &Issues) -> String {
        let all: Vec<&str> = issues.iter().map(|i| i.message.as_str()).collect();
        all.join("; ")
    }

    /// [`PricePathSpec::resolve`] at the top level, as a `Result`.
    fn resolve(
        spec: &PricePathSpec,
        read: impl FnOnce(&str) -> Result<String, String>,
    ) -> Result<PricePath, String> {
        let mut issues = Issues::default();
        spec.resolve(read, &YamlPath::root(), &mut issues)
            .ok_or_else(|| messages(&issues))
    }

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn amm_new_rejects_bad_inputs() {
        assert!(Amm::new(1.0, 1.0, DEFAULT_FEE).is_ok());
        assert!(Amm::new(1.0, 1.0, 0.0).is_ok());
        for (x, y, f) in [
            (0.0, 1.0, 0.0),
            (1.0, 0.0, 0.0),
            (-1.0, 1.0, 0.0),
            (f64::INFINITY, 1.0, 0.0),
            (1.0, f64::NAN, 0.0),
            (1.0, 1.0, 1.0),
            (1.0, 1.0, -0.1),
            (1.0, 1.0, f64::NAN),
        ] {
            assert!(Amm::new(x, y, f).is_err(), "({x}, {y}, {f})");
        }
    }

    #[test]
    fn amm_sell_matches_hand_computed_case() {
        // x = 900, y = 1000, f = 0.1, dx = 100: dx(1-f) = 90, dy = 1000 * 90 / 990 = 1000/11.
        let mut amm = Amm::new(900.0, 1000.0, 0.1).unwrap();
        let out = amm.sell_tokens(100.0).unwrap();
        assert!(rel(out, 1000.0 / 11.0) < 1e-14, "{out}");
        assert_eq!(amm.token_reserve(), 1000.0);
        assert!(rel(amm.usd_reserve(), 10_000.0 / 11.0) < 1e-14);
        assert!(rel(amm.price(), 10.0 / 11.0) < 1e-14);
        // Uniswap's 0.3%: x = 1000, y = 2000, dx = 10: dy = 2000 * 9.97 / 1009.97.
        let mut amm = Amm::new(1000.0, 2000.0, DEFAULT_FEE).unwrap();
        let out = amm.sell_tokens(10.0).unwrap();
        assert!(rel(out, 19_940.0 / 1009.97) < 1e-13, "{out}");
        assert!((out - 19.743_160_687_941_227).abs() < 1e-12, "{out}");
    }

    #[test]
    fn amm_buy_with_usd_matches_formula() {
        // x = 1000, y = 900, f = 0.1, dy = 100: dx = 1000 * 90 / 990 = 1000/11 tokens.
        let mut amm = Amm::new(1000.0, 900.0, 0.1).unwrap();
        let out = amm.buy_tokens_with_usd(100.0).unwrap();
        assert!(rel(out, 1000.0 / 11.0) < 1e-14, "{out}");
        assert_eq!(amm.usd_reserve(), 1000.0);
    }

    #[test]
    fn amm_buy_exact_tokens_inverts_buy_and_rejects_the_whole_reserve() {
        let start = Amm::new(5000.0, 1234.0, DEFAULT_FEE).unwrap();
        let mut a = start;
        let cost = a.buy_exact_tokens(321.0).unwrap();
        let mut b = start;
        let got = b.buy_tokens_with_usd(cost).unwrap();
        assert!(rel(got, 321.0) < 1e-12, "{got}");
        assert!(rel(a.usd_reserve(), b.usd_reserve()) < 1e-12);
        let expected = 1234.0 * 321.0 / ((5000.0 - 321.0) * (1.0 - DEFAULT_FEE));
        assert!(rel(cost, expected) < 1e-12);
        let mut c = start;
        assert!(c.buy_exact_tokens(5000.0).is_err());
        assert!(c.buy_exact_tokens(6000.0).is_err());
        assert!(c.buy_exact_tokens(-1.0).is_err());
        assert!(c.buy_exact_tokens(f64::NAN).is_err());
        assert_eq!(c, start, "a refused trade leaves the pool unchanged");
        assert_eq!(c.buy_exact_tokens(0.0).unwrap(), 0.0);
    }

    #[test]
    fn amm_rejects_bad_trade_inputs() {
        let mut amm = Amm::new(10.0, 10.0, DEFAULT_FEE).unwrap();
        assert!(amm.sell_tokens(-1.0).is_err());
        assert!(amm.sell_tokens(f64::NAN).is_err());
        assert!(amm.sell_tokens(f64::INFINITY).is_err());
        assert!(amm.buy_tokens_with_usd(-1.0).is_err());
        assert!(amm.buy_tokens_with_usd(f64::INFINITY).is_err());
        let mut big = Amm::new(f64::MAX / 2.0, 1.0, 0.0).unwrap();
        assert!(big.sell_tokens(f64::MAX).is_err(), "reserve overflow");
    }

    #[test]
    fn amm_k_never_decreases() {
        for fee in [0.0, DEFAULT_FEE, 0.05] {
            let mut rng = Streams::new(11, 0).stream("amm");
            let mut amm = Amm::new(1e6, 2e6, fee).unwrap();
            for _ in 0..20_000 {
                let k = amm.k();
                let u = unit(&mut rng);
                let size = 10f64.powf(6.0 * unit(&mut rng) - 2.0);
                if u < 1.0 / 3.0 {
                    amm.sell_tokens(size).unwrap();
                } else if u < 2.0 / 3.0 {
                    amm.buy_tokens_with_usd(size).unwrap();
                } else if size < amm.token_reserve() {
                    amm.buy_exact_tokens(size).unwrap();
                }
                assert!(amm.k() >= k, "fee {fee}: k fell from {k} to {}", amm.k());
                assert!(amm.token_reserve() > 0.0 && amm.usd_reserve() > 0.0);
            }
        }
    }

    #[test]
    fn amm_sell_then_buy_back_returns_less() {
        let mut amm = Amm::new(1e5, 3e5, DEFAULT_FEE).unwrap();
        let usd = amm.sell_tokens(1000.0).unwrap();
        let tokens = amm.buy_tokens_with_usd(usd).unwrap();
        assert!(tokens < 1000.0, "{tokens}");
        // Two fees of 0.3%, to first order.
        assert!(
            tokens > 1000.0 * (1.0 - DEFAULT_FEE).powi(2) * 0.99,
            "{tokens}"
        );
    }

    #[test]
    fn amm_price_impact_without_fee() {
        // y' / x' = (x y / (x + d)) / (x + d) = (x / (x + d))^2 * y / x.
        for d in [1.0, 50.0, 1000.0, 1e6] {
            let (x, y) = (1000.0, 4000.0);
            let mut amm = Amm::new(x, y, 0.0).unwrap();
            let p0 = amm.price();
            amm.sell_tokens(d).unwrap();
            let expected = (x / (x + d)).powi(2) * p0;
            assert!(rel(amm.price(), expected) < 1e-12, "d = {d}");
        }
    }

    #[test]
    fn amm_zero_fee_round_trip_restores_reserves() {
        let start = Amm::new(7.5e4, 1.25e5, 0.0).unwrap();
        let mut amm = start;
        let usd = amm.sell_tokens(2500.0).unwrap();
        let tokens = amm.buy_tokens_with_usd(usd).unwrap();
        assert!(rel(tokens, 2500.0) < 1e-12);
        assert!(rel(amm.token_reserve(), start.token_reserve()) < 1e-12);
        assert!(rel(amm.usd_reserve(), start.usd_reserve()) < 1e-12);
        let mut amm = start;
        let usd = amm.sell_tokens(2500.0).unwrap();
        let cost = amm.buy_exact_tokens(2500.0).unwrap();
        assert!(rel(cost, usd) < 1e-12);
        assert!(rel(amm.token_reserve(), start.token_reserve()) < 1e-12);
        assert!(rel(amm.usd_reserve(), start.usd_reserve()) < 1e-12);
    }

    #[test]
    fn amm_huge_sell_keeps_price_positive() {
        let mut last = f64::INFINITY;
        for dx in [1e3, 1e9, 1e15, 1e100, 1e300, f64::MAX / 4.0] {
            let mut amm = Amm::new(1e6, 1e6, DEFAULT_FEE).unwrap();
            let out = amm.sell_tokens(dx).unwrap();
            assert!(out.is_finite() && out <= 1e6, "{out}");
            let p = amm.price();
            assert!(p > 0.0 && p.is_finite(), "dx = {dx}: price {p}");
            assert!(p <= last, "dx = {dx}");
            assert!(amm.usd_reserve() > 0.0 && amm.token_reserve().is_finite());
            last = p;
        }
        let mut amm = Amm::new(1e6, 1e6, DEFAULT_FEE).unwrap();
        amm.buy_tokens_with_usd(1e300).unwrap();
        assert!(amm.token_reserve() > 0.0);
        assert!(amm.price().is_finite() && amm.price() > 1.0);
    }

    #[test]
    fn bme_price_balances_burn_and_mint() {
        let p = bme_equilibrium_price(50_000.0, 200_000.0);
        assert_eq!(p, 0.25);
        // At that price the burn of $50,000 of fees destroys exactly the 200,000 minted.
        assert_eq!(50_000.0 / p, 200_000.0);
        assert_eq!(bme_equilibrium_price(0.0, 10.0), 0.0);
        assert_eq!(bme_equilibrium_price(1.0, 0.0), f64::INFINITY);
        assert!(bme_equilibrium_price(0.0, 0.0).is_nan());
        assert!(bme_equilibrium_price(-1.0, 1.0).is_nan());
    }

    fn gbm(s0: f64, mu: f64, sigma: f64) -> PriceProcess {
        PriceProcess::new(PricePath::Gbm {
            initial_usd: s0,
            drift_per_year: mu,
            volatility_per_year: sigma,
        })
        .unwrap()
    }

    #[test]
    fn gbm_moments_match_lognormal() {
        let (s0, mu, sigma) = (2.0, 0.1, 0.3);
        let paths = 20_000;
        let streams = Streams::new(2024, 0);
        let (mut sum, mut sum_ln) = (0.0, 0.0);
        for i in 0..paths {
            let mut rng = streams.indexed("price", i);
            let mut p = gbm(s0, mu, sigma);
            for _ in 0..12 {
                p.advance(&mut rng, HOURS_PER_YEAR / 12.0);
            }
            assert!((p.time_h() - HOURS_PER_YEAR).abs() < 1e-9);
            sum += p.price();
            sum_ln += p.price().ln();
        }
        let n = paths as f64;
        let mean = sum / n;
        assert!(rel(mean, s0 * mu.exp()) < 0.01, "E[S_1] = {mean}");
        let mean_ln = sum_ln / n;
        let expected_ln = s0.ln() + mu - 0.5 * sigma * sigma;
        // Standard error sigma / sqrt(n) = 0.0021.
        assert!(
            (mean_ln - expected_ln).abs() < 0.01,
            "E[ln S_1] = {mean_ln}"
        );
    }

    #[test]
    fn gbm_same_seed_same_path() {
        let run = |seed: u64| {
            let mut rng = Streams::new(seed, 3).stream("token_price");
            let mut p = gbm(1.0, 0.0, 0.8);
            (0..100)
                .map(|_| p.advance(&mut rng, 24.0))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
    }

    #[test]
    fn gbm_without_volatility_is_deterministic_growth() {
        let mut rng = Streams::new(1, 0).stream("price");
        let mut p = gbm(3.0, 0.2, 0.0);
        let got = p.advance(&mut rng, HOURS_PER_YEAR / 2.0);
        assert!(rel(got, 3.0 * 0.1f64.exp()) < 1e-14);
        assert_eq!(p.advance(&mut rng, 0.0), got);
    }

    #[test]
    fn gbm_underflow_is_floored_and_flagged() {
        let mut rng = Streams::new(1, 0).stream("price");
        let mut p = gbm(1.0, -1e4, 0.0);
        assert!(!p.hit_zero());
        let got = p.advance(&mut rng, HOURS_PER_YEAR);
        assert_eq!(got, MIN_PRICE_USD);
        assert!(p.hit_zero());
        let mut up = gbm(1.0, 1e6, 0.0);
        assert_eq!(up.advance(&mut rng, HOURS_PER_YEAR), f64::MAX);
    }

    #[test]
    fn constant_path_stays() {
        let mut rng = Streams::new(1, 0).stream("price");
        let mut p = PriceProcess::new(PricePath::Constant { usd: 0.7 }).unwrap();
        assert_eq!(p.price(), 0.7);
        assert_eq!(p.advance(&mut rng, 1e6), 0.7);
        assert!(PriceProcess::new(PricePath::Constant { usd: 0.0 }).is_err());
    }

    fn csv(points: &[(f64, f64)]) -> PriceProcess {
        PriceProcess::new(PricePath::Csv {
            points: points.to_vec(),
        })
        .unwrap()
    }

    #[test]
    fn csv_interpolates_exactly_and_holds_outside() {
        let mut rng = Streams::new(1, 0).stream("price");
        let mut p = csv(&[(10.0, 2.0), (20.0, 4.0), (40.0, 1.0)]);
        assert_eq!(p.price(), 2.0, "held before the first point");
        assert_eq!(p.advance(&mut rng, 10.0), 2.0, "at a point");
        assert_eq!(p.advance(&mut rng, 5.0), 3.0, "midpoint");
        assert_eq!(p.advance(&mut rng, 5.0), 4.0, "at a point");
        assert_eq!(p.advance(&mut rng, 10.0), 2.5, "midpoint");
        assert_eq!(p.advance(&mut rng, 10.0), 1.0, "last point");
        assert_eq!(p.advance(&mut rng, 1e6), 1.0, "held after the last point");
        assert!(!p.hit_zero());
    }

    #[test]
    fn csv_zero_price_is_floored_and_flagged() {
        let mut rng = Streams::new(1, 0).stream("price");
        let mut p = csv(&[(0.0, 1.0), (10.0, 0.0), (20.0, 1.0)]);
        assert_eq!(p.advance(&mut rng, 10.0), MIN_PRICE_USD);
        assert!(p.hit_zero());
        // Stepping over the zero point also flags it.
        let mut q = csv(&[(0.0, 1.0), (10.0, 0.0), (20.0, 1.0)]);
        assert_eq!(q.advance(&mut rng, 20.0), 1.0);
        assert!(q.hit_zero());
        let r = csv(&[(0.0, 0.0)]);
        assert!(r.hit_zero() && r.price() == MIN_PRICE_USD);
    }

    #[test]
    fn parse_csv_accepts_header_comments_and_blank_lines() {
        let text = "# token price\nhour, usd\n\n0, 1.5\n12,2 # noon\r\n24.5,0\n";
        assert_eq!(
            parse_csv(text).unwrap(),
            vec![(0.0, 1.5), (12.0, 2.0), (24.5, 0.0)]
        );
        assert_eq!(parse_csv("5,1").unwrap(), vec![(5.0, 1.0)]);
    }

    #[test]
    fn parse_csv_errors_name_the_line() {
        let cases = [
            ("hour,usd\n0,1\n1,abc\n", "line 3", "not a number"),
            ("0,1\nx,2\n", "line 2", "not a number"),
            ("0,abc\n", "line 1", "not a number"),
            ("0,1\n1,-0.5\n", "line 2", "negative price"),
            ("0,1\n5,1\n5,2\n", "line 3", "not increasing"),
            ("0,1\n5,1\n# c\n4,2\n", "line 4", "not increasing"),
            ("0,1,2\n", "line 1", "two fields"),
            ("0\n", "line 1", "two fields"),
            ("0,inf\n", "line 1", "not finite"),
            ("NaN,1\n", "line 1", "not finite"),
            ("hour,usd\nhour,usd\n", "line 2", "not a number"),
        ];
        for (text, line, what) in cases {
            let err = parse_csv(text).unwrap_err();
            assert!(err.contains(line) && err.contains(what), "{text:?}: {err}");
        }
        for text in ["", "hour,usd\n", "# only a comment\n\n"] {
            let err = parse_csv(text).unwrap_err();
            assert!(err.contains("empty"), "{text:?}: {err}");
        }
    }

    #[test]
    fn spec_reads_yaml_and_resolves() {
        let spec: PricePathSpec = serde_saphyr::from_str(
            "{gbm: {initial_usd: 1, drift_per_year: 0, volatility_per_year: 0.8}}",
        )
        .unwrap();
        assert_eq!(
            resolve(&spec, |_| unreachable!()).unwrap(),
            PricePath::Gbm {
                initial_usd: 1.0,
                drift_per_year: 0.0,
                volatility_per_year: 0.8
            }
        );
        let spec: PricePathSpec = serde_saphyr::from_str("{constant: {usd: 2}}").unwrap();
        assert_eq!(spec, PricePathSpec::Constant { usd: 2.0 });
        let spec: PricePathSpec = serde_saphyr::from_str("{csv: {path: prices.csv}}").unwrap();
        let resolved = resolve(&spec, |p| {
            assert_eq!(p, "prices.csv");
            Ok("hour,usd\n0,1\n10,3\n".into())
        })
        .unwrap();
        assert_eq!(
            resolved,
            PricePath::Csv {
                points: vec![(0.0, 1.0), (10.0, 3.0)]
            }
        );
        let err = resolve(&spec, |_| Ok("0,1\n0,2\n".into())).unwrap_err();
        assert!(err.starts_with("prices.csv: line 2"), "{err}");
        let err = resolve(&spec, |_| Err("no such file".into())).unwrap_err();
        assert_eq!(err, "prices.csv: no such file");
        let bad = PricePathSpec::Gbm {
            initial_usd: 1.0,
            drift_per_year: 0.0,
            volatility_per_year: -0.1,
        };
        assert!(resolve(&bad, |_| unreachable!()).is_err());
    }

    #[test]
    fn every_problem_of_a_path_is_reported_at_its_place() {
        let at = YamlPath::root().key("token").key("price");
        let cases: [(PricePath, &[&str]); 3] = [
            (
                PricePath::Gbm {
                    initial_usd: -1.0,
                    drift_per_year: f64::NAN,
                    volatility_per_year: -0.1,
                },
                &[
                    "gbm initial_usd",
                    "gbm drift_per_year",
                    "gbm volatility_per_year",
                ],
            ),
            (
                PricePath::Amm(AmmSpec {
                    token_reserve: 0.0,
                    usd_reserve: f64::INFINITY,
                    fee: 1.0,
                    provider_sell_share: 2.0,
                    speculation_usd_per_day: -1.0,
                }),
                &[
                    "amm token reserve",
                    "amm USD reserve",
                    "amm fee",
                    "amm provider_sell_share",
                    "amm speculation_usd_per_day",
                ],
            ),
            (
                PricePath::Csv {
                    points: vec![(0.0, 1.0), (0.0, 2.0), (1.0, -1.0)],
                },
                &["csv point 1: hours", "csv point 2: invalid"],
            ),
        ];
        for (path, want) in cases {
            let mut issues = Issues::default();
            assert!(!path.validate(&at, &mut issues));
            let got: Vec<&Issue> = issues.iter().collect();
            assert_eq!(got.len(), want.len(), "{path:?}: {issues:?}");
            for (issue, start) in got.iter().zip(want) {
                assert_eq!(issue.path, at);
                assert!(issue.message.starts_with(start), "{}", issue.message);
                let fix = if start.starts_with("amm") {
                    AMM_FIX
                } else {
                    PRICE_FIX
                };
                assert_eq!(issue.fix, fix);
            }
        }
    }

    #[test]
    fn a_csv_spec_is_resolved_through_its_reader() {
        let spec = PricePathSpec::Csv {
            path: "p.csv".into(),
        };
        let read = |p: &str| match p {
            "p.csv" => Ok("0,1\n1,2\n".to_string()),
            _ => Err("no such file".to_string()),
        };
        assert_eq!(
            resolve(&spec, read).unwrap(),
            PricePath::Csv {
                points: vec![(0.0, 1.0), (1.0, 2.0)]
            }
        );
        let missing = PricePathSpec::Csv {
            path: "missing.csv".into(),
        };
        assert!(
            resolve(&missing, read)
                .unwrap_err()
                .starts_with("missing.csv: ")
        );
    }

    #[test]
    fn spec_schema_is_externally_tagged() {
        let schema = schemars::schema_for!(PricePathSpec).to_value();
        let text = schema.to_string();
        for key in [
            "constant",
            "gbm",
            "csv",
            "initial_usd",
            "volatility_per_year",
            "path",
        ] {
            assert!(text.contains(key), "{key} missing from {text}");
        }
        let json = serde_json::to_value(PricePathSpec::Csv {
            path: "a.csv".into(),
        })
        .unwrap();
        assert_eq!(json, serde_json::json!({"csv": {"path": "a.csv"}}));
    }
}
