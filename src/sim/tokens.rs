//! The token economy at run time: at the end of every token epoch, the GPU-hours each
//! provider group worked and was online, the fees its users paid, its failures, missed
//! objectives, payments and GPUs go to the [`crate::economics::ledger::Ledger`] with the
//! epoch's emission and market: an exogenous price (in any amount, or through an outside
//! market of stated depth that the epoch's purchases move until the next epoch opens at the
//! path's price again), or a constant-product pool that the epoch's trades move.
//!
//! Providers' token rewards are valued in USD as the scenario says (`reward_valuation`): at
//! the price when paid, at what their sales fetched, or at the price at the end of the span
//! judged.
//!
//! The ledger covers whole epochs from time 0 (the warm-up included: supply is a stock, not
//! a rate); an epoch cut short by the horizon is not settled.

use rand_distr::{Distribution, StandardNormal};

use crate::core::engine::SimTime;
use crate::core::rng::{StreamRng, Streams};
use crate::core::units::{HOURS_PER_YEAR, NANOS_PER_HOUR};
use crate::economics::ledger::{EpochInput, Ledger, Market};
use crate::economics::outside::Book;
use crate::economics::price::{Amm, PriceProcess};
use crate::economics::provider::{RewardValuation, sales_value_per_token};
use crate::metrics::Metrics;
use crate::metrics::names;
use crate::scenario::Scenario;

use super::pool::{HourlyBasis, PoolMark, PoolState};

/// Counts at the end of the last epoch, kept only when staking or settlement uses them.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    payments: u64,
    misses: u64,
    failures: u64,
}

/// What a group has earned so far, kept at the end of the warm-up.
#[derive(Clone, Copy, Debug, Default)]
struct Earned {
    /// Token rewards at the price when paid, USD.
    spot_usd: f64,
    /// Token rewards at what the sales fetched, USD.
    sales_usd: f64,
    /// Tokens earned.
    tokens: f64,
    /// Fees received, USD.
    fees: f64,
    /// Stakes slashed, USD.
    slashed: f64,
    /// The stakes' cost of capital, USD.
    capital: f64,
}

impl Earned {
    /// Moves each amount the share `by` of the way to `to`'s.
    fn toward(&mut self, to: &Earned, by: f64) {
        self.spot_usd += by * (to.spot_usd - self.spot_usd);
        self.sales_usd += by * (to.sales_usd - self.sales_usd);
        self.tokens += by * (to.tokens - self.tokens);
        self.fees += by * (to.fees - self.fees);
        self.slashed += by * (to.slashed - self.slashed);
        self.capital += by * (to.capital - self.capital);
    }
}

/// One epoch's inputs per group.
#[derive(Clone, Debug, Default)]
struct Scratch {
    fees: Vec<f64>,
    work: Vec<f64>,
    online: Vec<f64>,
    members: Vec<u32>,
    failures: Vec<u32>,
    misses: Vec<u64>,
    payments: Vec<u64>,
}

/// The state of the token economy at the end of the last epoch, for the time series.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TokenState {
    /// Market price, USD.
    pub price_usd: f64,
    /// Tokens circulating.
    pub circulating: f64,
    /// Tokens staked.
    pub staked: f64,
    /// Tokens locked (rewards under lock-up, stakes unbonding).
    pub locked: f64,
    /// Tokens burned so far.
    pub burned: f64,
}

/// Bytes of the token economy per provider group: its marks, counts and earnings, its
/// capital, sales and reviews, an epoch's scratch inputs, and the ledger's per-group totals
/// (for the memory estimate, `footprint.rs`).
pub(crate) const BYTES_PER_GROUP: usize = size_of::<PoolMark>()
    + size_of::<Counts>()
    + size_of::<Earned>()
    + 2 * size_of::<f64>()
    + size_of::<(f64, f64)>()
    + 3 * size_of::<f64>()
    + 2 * size_of::<u32>()
    + 2 * size_of::<u64>()
    + crate::economics::ledger::BYTES_PER_GROUP;

/// Run-time state of the token economy.
pub struct Tokens {
    ledger: Ledger,
    price: PriceProcess,
    /// The market pool, when the price is endogenous.
    pool: Option<Amm>,
    rng: StreamRng,
    epoch: u64,
    /// Each group at the end of the last epoch.
    last: Vec<PoolMark>,
    last_counts: Vec<Counts>,
    last_time: SimTime,
    /// Largest conservation error seen (tokens, USD), relative.
    worst: (f64, f64),
    /// What each group had earned at the end of the warm-up.
    warm: Vec<Earned>,
    /// The cost of capital of each group's stakes so far, USD.
    capital: Vec<f64>,
    /// Each group's token rewards so far at what the sales fetched, USD (with `sales`).
    sales_usd: Vec<f64>,
    /// Each group's tokens earned by the last supply review, and its rewards by then, each
    /// review's at the price then, USD (with `final`).
    reviewed: Vec<(f64, f64)>,
    /// The base yields are quoted on (stakes, else the supply, at the price), integrated
    /// over the settled epochs: USD-hours, and the hours.
    yield_base: (f64, f64),
    scratch: Scratch,
}

impl Tokens {
    /// The economy of scenario `s` (None without a token section).
    pub fn new(s: &Scenario, streams: &Streams) -> Option<Self> {
        let t = s.token()?;
        let n = s.pools().len();
        // The price path was validated with the scenario, so this never drops the economy.
        let price = PriceProcess::new(t.price.clone()).ok()?;
        let pool = t.pool().map(|a| a.pool());
        let members: Vec<u32> = s.pools().iter().map(|p| p.initial).collect();
        let per_gpu = t.design.staking.map_or(0.0, |r| r.per_gpu);
        Some(Self {
            ledger: Ledger::with_stakes(
                t.emission.initial_supply,
                &members,
                per_gpu,
                pool.as_ref(),
            ),
            price,
            pool,
            rng: streams.stream("token_price"),
            epoch: 0,
            last: vec![PoolMark::default(); n],
            last_counts: vec![Counts::default(); n],
            last_time: 0,
            worst: (0.0, 0.0),
            warm: vec![Earned::default(); n],
            capital: vec![0.0; n],
            sales_usd: vec![0.0; n],
            reviewed: vec![(0.0, 0.0); n],
            yield_base: (0.0, 0.0),
            scratch: Scratch::default(),
        })
    }

    /// Settles the epoch that ends at `now`.
    pub fn settle(&mut self, s: &Scenario, now: SimTime, pools: &[PoolState]) {
        let Some(t) = s.token() else { return };
        let dt_h = (now - self.last_time) as f64 / NANOS_PER_HOUR;
        let x = &mut self.scratch;
        let n = pools.len();
        for v in [&mut x.fees, &mut x.work, &mut x.online] {
            v.resize(n, 0.0);
        }
        x.members.clear();
        x.failures.clear();
        x.misses.clear();
        x.payments.clear();
        // One epoch's GPU-time of one group fits in a u64 (2^64 ns is 584 GPU-years), and
        // u64 -> f64 is one instruction where u128 -> f64 is a library call.
        let hours = |ns: u128| ns as u64 as f64 / NANOS_PER_HOUR;
        // Only what the design uses is gathered: a pass over every group is memory-bound.
        let (stakes, settles) = (t.design.staking.is_some(), t.design.settlement.is_some());
        let out = x
            .work
            .iter_mut()
            .zip(x.online.iter_mut().zip(x.fees.iter_mut()));
        for ((p, last), (work, (online, fee))) in pools.iter().zip(self.last.iter_mut()).zip(out) {
            // The mark's fees are what the ledger settled of the group's fees so far, so that
            // a changed price settles what users paid less exactly that.
            let settled = last.fees;
            let d = p.roll(last, now);
            *work = hours(d.busy);
            *fee = if d.price_changed || p.hourly_basis() != HourlyBasis::Busy {
                d.fees
            } else {
                // Users paid for busy GPU-hours at a price that did not change in the epoch.
                *work * p.price() * p.price_mult()
            };
            last.fees = settled + *fee;
            *online = f64::from(d.max_gpus) * dt_h - hours(d.offline);
        }
        if stakes || settles {
            for (p, last) in pools.iter().zip(self.last_counts.iter_mut()) {
                if stakes {
                    x.members.push(p.members());
                    x.failures.push((p.failures() - last.failures) as u32);
                    x.misses.push(p.slo_misses() - last.misses);
                }
                if settles {
                    x.payments.push(p.payments() - last.payments);
                }
                *last = Counts {
                    payments: p.payments(),
                    misses: p.slo_misses(),
                    failures: p.failures(),
                };
            }
        }
        if let Some(r) = t
            .design
            .staking
            .filter(|r| r.cost_of_capital_per_year > 0.0)
        {
            // The stakes were held through the epoch at its opening price.
            let rate = r.cost_of_capital_per_year * dt_h / HOURS_PER_YEAR * self.price.price();
            for (c, &staked) in self.capital.iter_mut().zip(&self.ledger.group_staked) {
                *c += staked * rate;
            }
        }
        let price = self.price.advance(&mut self.rng, dt_h);
        let speculation = match t.pool() {
            Some(a) if a.speculation_usd_per_day > 0.0 => {
                let z: f64 = StandardNormal.sample(&mut self.rng);
                z * a.speculation_usd_per_day * (dt_h / 24.0).sqrt()
            }
            _ => 0.0,
        };
        let minted = t.emission.minted(self.epoch, self.ledger.supply);
        let input = EpochInput {
            minted,
            price_usd: price,
            fees_usd: &x.fees,
            work: &x.work,
            online: &x.online,
            members: &x.members,
            failures: &x.failures,
            slo_misses: &x.misses,
            payments: &x.payments,
            speculation_usd: speculation,
        };
        // The outside market's book opens at the path's price each epoch.
        let book = t
            .market_depth_usd
            .and_then(|depth| Book::open(price, depth));
        let (minted, close) = match (self.pool.as_mut(), book) {
            (Some(a), _) => {
                let minted = self.ledger.settle(&t.design, &input, &mut Market::Pool(a));
                self.price.set(a.price());
                (minted, a.price())
            }
            (None, Some(mut book)) => {
                let mut market = Market::Outside {
                    price,
                    book: &mut book,
                };
                let minted = self.ledger.settle(&t.design, &input, &mut market);
                // The book's impact lasts until the epoch ends: the next opens at the path's
                // price, which is what the unsold rewards are worth.
                (minted, price)
            }
            (None, None) => {
                let minted = self
                    .ledger
                    .settle(&t.design, &input, &mut Market::Price(price));
                (minted, price)
            }
        };
        if t.reward_valuation == RewardValuation::Sales {
            let (sold, fetched) = self.ledger.epoch_sales;
            let per_token = sales_value_per_token(minted, sold, fetched, close);
            for (v, &tokens) in self.sales_usd.iter_mut().zip(&self.ledger.epoch_tokens) {
                *v += tokens * per_token;
            }
        }
        let err = self
            .ledger
            .conservation_error(t.emission.initial_supply, self.pool.as_ref());
        debug_assert!(err.0 < 1e-9 && err.1 < 1e-9, "conservation broken: {err:?}");
        self.worst = (self.worst.0.max(err.0), self.worst.1.max(err.1));
        let base = self.yield_base_now();
        self.yield_base.0 += base * dt_h;
        self.yield_base.1 += dt_h;
        self.epoch += 1;
        let warmup = s.warmup();
        if self.last_time < warmup && now > warmup {
            // The epoch straddles the end of the warm-up: only its share after it is measured.
            let before = (warmup - self.last_time) as f64 / (now - self.last_time) as f64;
            for i in 0..self.warm.len() {
                let now = self.earned(i);
                self.warm[i].toward(&now, before);
            }
        }
        self.last_time = now;
        if now <= warmup {
            // An epoch that ends by the end of the warm-up is not measured.
            self.mark_warmup();
        }
    }

    /// Epochs settled.
    pub fn epochs(&self) -> u64 {
        self.epoch
    }

    /// When the last settled epoch ended, and each group then: the span income is measured
    /// over ends here.
    pub fn settled(&self) -> (SimTime, &[PoolMark]) {
        (self.last_time, &self.last)
    }

    /// The state at the end of the last epoch.
    pub fn state(&self) -> TokenState {
        let l = &self.ledger;
        TokenState {
            price_usd: self.price.price(),
            circulating: l.circulating,
            staked: l.staked,
            locked: l.vesting + l.unbonding,
            burned: l.burned,
        }
    }

    /// Group `i`'s income so far, for a supply review: fees received and token rewards
    /// valued as the scenario says (with `final`, those since the last review at the price
    /// now), less slashed stakes and the cost of capital of its stakes, USD.
    pub fn income(&self, s: &Scenario, i: usize) -> f64 {
        let l = &self.ledger;
        let rewards = match s.token().map(|t| t.reward_valuation) {
            Some(RewardValuation::Sales) => self.sales_usd[i],
            Some(RewardValuation::Final) => {
                let (tokens, usd) = self.reviewed[i];
                usd + (l.provider_tokens[i] - tokens) * self.price.price()
            }
            _ => l.provider_tokens_usd[i],
        };
        l.provider_usd[i] + rewards - l.slashed_usd[i] - self.capital[i]
    }

    /// A supply review judged [`Tokens::income`]: with `final`, the rewards up to now keep
    /// the price now, and later ones are valued at later reviews' prices.
    pub fn reviewed(&mut self) {
        let price = self.price.price();
        for (r, &tokens) in self.reviewed.iter_mut().zip(&self.ledger.provider_tokens) {
            *r = (tokens, r.1 + (tokens - r.0) * price);
        }
    }

    /// The cost of capital of group `i`'s stakes in the epochs settled after the warm-up,
    /// USD.
    pub fn capital_cost_usd(&self, i: usize) -> f64 {
        self.capital[i] - self.warm[i].capital
    }

    /// Names the token metrics; `window_h` is the measurement window.
    pub fn metrics(&self, s: &Scenario, m: &mut Metrics) {
        use names::token as n;
        let Some(t) = s.token() else { return };
        let l = &self.ledger;
        let price = self.price.price();
        let mut put = |k: &str, v: f64| {
            m.insert(k.into(), v);
        };
        put(n::EPOCHS, l.epochs as f64);
        put(n::SUPPLY, l.supply);
        put(n::CIRCULATING, l.circulating);
        put(n::STAKED, l.staked);
        put(n::LOCKED, l.vesting + l.unbonding);
        put(n::MINTED, l.minted);
        put(n::BURNED, l.burned);
        put(n::SLASHED, l.slashed);
        put(n::MINTED_USD, l.minted_usd);
        put(n::PRICE_USD, price);
        put(n::MARKET_CAP_USD, l.supply * price);
        put(
            n::PRICE_HIT_ZERO,
            f64::from(u8::from(self.price.hit_zero())),
        );
        put(n::USERS_PAID_USD, l.users_paid_usd);
        put(n::TREASURY_USD, l.treasury_usd);
        put(n::BURN_USD, l.burn_usd);
        put(n::CHAIN_FEES_USD, l.chain_fees_usd);
        if t.design.settlement.is_some() {
            put(n::PAYMENTS, l.payments as f64);
            put(n::TRANSACTIONS, l.transactions as f64);
        }
        put(n::PROVIDER_SALES_USD, l.provider_sales_usd);
        put(n::STAKE_USD, l.stake_usd.iter().sum());
        put(n::STAKE_SHORTFALL, l.stake_shortfall);
        put(n::UNMINTED_EPOCHS, l.unminted_epochs as f64);
        if let Some(a) = &self.pool {
            put(n::POOL_TOKEN_RESERVE, a.token_reserve());
            put(n::POOL_USD_RESERVE, a.usd_reserve());
        }
        let end = l.conservation_error_by_group(t.emission.initial_supply, self.pool.as_ref());
        put(
            n::CONSERVATION_ERROR,
            self.worst.0.max(self.worst.1).max(end.0).max(end.1),
        );
        if let Some(r) = l.subsidy_ratio() {
            put(n::SUBSIDY, r);
        }
        // Yields per year on the stakes (or, without staking, on the market value of the
        // supply): from users' fees (real yield) and from emissions.
        // The base at the final price, and averaged over the settled epochs (a yield quoted
        // on the final price alone swings with wherever the price ended).
        let years = l.epochs as f64 * t.emission.epoch_h / HOURS_PER_YEAR;
        let base = self.yield_base_now();
        if years > 0.0 && base > 0.0 {
            put(n::REAL_YIELD, l.users_paid_usd / years / base);
            put(n::EMISSION_YIELD, l.minted_usd / years / base);
        }
        let (usd_h, h) = self.yield_base;
        if years > 0.0 && usd_h > 0.0 {
            let mean = usd_h / h;
            put(n::REAL_YIELD_ON_MEAN, l.users_paid_usd / years / mean);
            put(n::EMISSION_YIELD_ON_MEAN, l.minted_usd / years / mean);
        }
        let (mut tokens_usd, mut fees) = (0.0, 0.0);
        for (i, p) in s.pools().iter().enumerate() {
            let key = |q: &str| names::pool(&p.name, q);
            m.insert(key(names::pool::TOKEN_REWARDS), l.provider_tokens[i]);
            m.insert(
                key(names::pool::TOKEN_REWARDS_USD),
                l.provider_tokens_usd[i],
            );
            m.insert(key(names::pool::FEES_RECEIVED_USD), l.provider_usd[i]);
            if t.design.staking.is_some() {
                m.insert(key(names::pool::STAKE_USD), l.stake_usd[i]);
                m.insert(key(names::pool::SLASHED_USD), l.slashed_usd[i]);
            }
            tokens_usd += l.provider_tokens_usd[i];
            fees += l.provider_usd[i];
        }
        m.insert(names::provider::TOKEN_REWARDS_USD.into(), tokens_usd);
        m.insert(names::provider::FEES_RECEIVED_USD.into(), fees);
    }

    /// The base yields are quoted on now: the stakes (without staking, the supply) at the
    /// market price, USD.
    fn yield_base_now(&self) -> f64 {
        let l = &self.ledger;
        let held = if l.staked > 0.0 { l.staked } else { l.supply };
        held * self.price.price()
    }

    /// What group `i` has earned so far.
    fn earned(&self, i: usize) -> Earned {
        let l = &self.ledger;
        Earned {
            spot_usd: l.provider_tokens_usd[i],
            sales_usd: self.sales_usd[i],
            tokens: l.provider_tokens[i],
            fees: l.provider_usd[i],
            slashed: l.slashed_usd[i],
            capital: self.capital[i],
        }
    }

    /// Marks the end of the warm-up: income from here on is measured.
    pub fn mark_warmup(&mut self) {
        for i in 0..self.warm.len() {
            self.warm[i] = self.earned(i);
        }
    }

    /// Group `i`'s token rewards, valued as the scenario says (with `final`, at the price at
    /// the end of the last settled epoch), and fees received, USD, in the epochs settled
    /// after the warm-up (the share after it of an epoch that straddles it).
    pub fn window_income(&self, s: &Scenario, i: usize) -> (f64, f64) {
        let (now, warm) = (self.earned(i), &self.warm[i]);
        let rewards = match s.token().map(|t| t.reward_valuation) {
            Some(RewardValuation::Sales) => now.sales_usd - warm.sales_usd,
            Some(RewardValuation::Final) => (now.tokens - warm.tokens) * self.price.price(),
            _ => now.spot_usd - warm.spot_usd,
        };
        (rewards, now.fees - warm.fees)
    }

    /// USD value of group `i`'s stakes slashed in the epochs settled after the warm-up.
    pub fn slashed_usd(&self, i: usize) -> f64 {
        self.ledger.slashed_usd[i] - self.warm[i].slashed
    }

    /// When the next epoch ends (None past the horizon).
    pub fn next_end(&self, s: &Scenario) -> Option<SimTime> {
        let t = s.token()?;
        let at = t.epoch.checked_mul(self.epoch + 1)?;
        (at <= s.horizon()).then_some(at)
    }
}
