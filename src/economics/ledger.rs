//! The token ledger: what each token epoch mints, burns and pays, and to whom.
//!
//! Each epoch the emission is split between work done (busy GPU-hours: serving replicas or
//! lent to jobs) and availability (online GPU-hours), each part pro rata over the provider
//! groups. Users' fees, in USD, then follow the payment design: paid to the providers
//! (`direct`), spent on tokens that are burned while the providers earn only emissions
//! (`burn_and_mint`, Render and Helium), or paid to the providers with the network's take
//! spent on buying tokens back and burning them (`buyback_and_burn`, io.net). A take rate
//! goes to the treasury first in every design.
//!
//! Supply is tracked in four places: circulating (held by anyone, the market pool included),
//! staked (providers' stakes, required to serve), locked (rewards under lock-up, stakes
//! unbonding) and burned. Each epoch, in this order:
//! 1. locked rewards and unbonded stakes due this epoch are released to circulation;
//! 2. the emission is minted and paid out; the lock-up share of each reward is locked and
//!    released linearly over the following epochs;
//! 3. users' fees are settled: the settlement chain's fees for the epoch's payments come out
//!    of them, then the payment design routes the rest;
//! 4. providers sell their share of the rewards they can sell (with a market pool);
//! 5. stakes are settled: failures and missed objectives are slashed (burned), GPUs that
//!    left start unbonding, GPUs that joined (and slashed stakes) are bought at the market;
//! 6. speculators trade (with a market pool).
//!
//! Tokens are bought (to burn, to stake) at the market: from the pool when the price is
//! endogenous, else at the exogenous price from circulation, never more than it holds; with
//! an outside market of stated depth ([`Market::Outside`]), along its book, so that a large
//! purchase pays more than the path's price.
//!
//! Conservation, checked after every epoch: initial supply + minted - burned = circulating +
//! staked + locked; tokens minted = tokens paid out; USD paid by users = USD received by
//! providers + treasury + USD spent on burns + chain fees; and the pool's reserves equal
//! what flowed in less what flowed out.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::outside::Book;
use super::price::{Amm, MIN_PRICE_USD};

/// How users' fees reach the providers.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Payment {
    /// Fees go to the providers (less the take rate, to the treasury).
    #[default]
    Direct,
    /// Fees (less the take rate) buy tokens at the market price, which are burned; providers
    /// earn the epoch's emission only.
    BurnAndMint,
    /// Fees go to the providers; the take rate buys tokens back at the market price and
    /// burns them.
    BuybackAndBurn,
}

/// What one epoch brings, per provider group.
#[derive(Clone, Debug, Default)]
pub struct EpochInput<'a> {
    /// Tokens the schedule mints this epoch.
    pub minted: f64,
    /// Market price of the token, USD (ignored with a market pool: the pool's price).
    pub price_usd: f64,
    /// Users' fees per group, USD.
    pub fees_usd: &'a [f64],
    /// Busy GPU-hours per group.
    pub work: &'a [f64],
    /// Online GPU-hours per group.
    pub online: &'a [f64],
    /// GPUs in each group at the epoch's end (stakes follow them).
    pub members: &'a [u32],
    /// GPU failures per group during the epoch.
    pub failures: &'a [u32],
    /// Requests answered outside the latency objectives, per group.
    pub slo_misses: &'a [u64],
    /// Payments to settle per group (requests answered, jobs).
    pub payments: &'a [u64],
    /// Speculators' net purchase, USD (negative: a sale of that many dollars' worth).
    pub speculation_usd: f64,
}

/// Staking rules, in token epochs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StakeRule {
    /// Tokens staked per GPU.
    pub per_gpu: f64,
    /// Epochs a stake stays locked after its GPU leaves.
    pub unbonding_epochs: u32,
    /// Share of a GPU's stake burned per failure.
    pub slash_per_failure: f64,
    /// Tokens burned per request answered outside the objectives.
    pub slash_per_slo_miss: f64,
    /// Return per year the USD held in stakes forgoes: a cost providers bear on the market
    /// value of their stakes.
    pub cost_of_capital_per_year: f64,
}

/// Reward lock-up, in token epochs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lockup {
    /// Share of each reward locked.
    pub share: f64,
    /// Epochs over which it is released, linearly, from the next epoch on.
    pub release_epochs: u32,
}

/// The settlement chain's fees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settlement {
    /// USD per transaction.
    pub fee_per_tx_usd: f64,
    /// USD per payment carried.
    pub fee_per_payment_usd: f64,
    /// Payments per transaction.
    pub batch: u32,
}

/// The payment design of a scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Design {
    /// Share of each epoch's emission paid for work; the rest pays for availability.
    pub work_share: f64,
    /// How fees reach providers.
    pub payment: Payment,
    /// Share of every fee kept by the network's treasury.
    pub take_rate: f64,
    /// Staking, if GPUs must stake to serve.
    pub staking: Option<StakeRule>,
    /// Reward lock-up, if any.
    pub lockup: Option<Lockup>,
    /// Settlement fees, if payments are settled on a chain.
    pub settlement: Option<Settlement>,
    /// Share of sellable rewards providers sell each epoch (with a market pool).
    pub sell_share: f64,
}

impl Design {
    /// A design with only the emission split, payment and take rate.
    pub fn basic(work_share: f64, payment: Payment, take_rate: f64) -> Self {
        Self {
            work_share,
            payment,
            take_rate,
            staking: None,
            lockup: None,
            settlement: None,
            sell_share: 0.0,
        }
    }
}

/// Where tokens are bought and sold.
#[derive(Debug)]
pub enum Market<'a> {
    /// At an exogenous price, from circulation, in any amount.
    Price(f64),
    /// At an exogenous price through an outside market of finite depth, from circulation,
    /// along its `book` (opened at `price`), which the epoch's purchases move. Rewards and
    /// slashed stakes are valued at `price`.
    Outside {
        /// The path's price, USD.
        price: f64,
        /// The book.
        book: &'a mut Book,
    },
    /// Through a constant-product pool.
    Pool(&'a mut Amm),
}

/// Bytes of a [`Ledger`] per provider group: its seven per-group totals (tokens earned and
/// their value, fees received, stakes and their cost, slashed value, the last epoch's pay).
pub const BYTES_PER_GROUP: usize = 7 * size_of::<f64>();

/// Running totals of the token economy of one replication.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ledger {
    /// Tokens in existence: circulating + staked + locked.
    pub supply: f64,
    /// Tokens anyone holds freely (the market pool's included).
    pub circulating: f64,
    /// Tokens staked by providers.
    pub staked: f64,
    /// Rewards under lock-up.
    pub vesting: f64,
    /// Stakes unbonding.
    pub unbonding: f64,
    /// Tokens minted so far.
    pub minted: f64,
    /// Tokens burned so far (bought and burned, and slashed).
    pub burned: f64,
    /// Tokens slashed so far (counted in `burned`).
    pub slashed: f64,
    /// USD value of the minted tokens, each at its epoch's price.
    pub minted_usd: f64,
    /// Tokens earned per group.
    pub provider_tokens: Vec<f64>,
    /// USD value of the tokens earned per group, each at its epoch's price.
    pub provider_tokens_usd: Vec<f64>,
    /// Fees received per group, USD (net of chain fees, which may exceed them).
    pub provider_usd: Vec<f64>,
    /// Tokens staked per group.
    pub group_staked: Vec<f64>,
    /// USD spent buying stakes per group.
    pub stake_usd: Vec<f64>,
    /// USD value of the stakes slashed per group, at the price of the epoch.
    pub slashed_usd: Vec<f64>,
    /// USD providers received selling rewards to the pool.
    pub provider_sales_usd: f64,
    /// USD paid by users.
    pub users_paid_usd: f64,
    /// USD kept by the treasury.
    pub treasury_usd: f64,
    /// USD spent on tokens to burn.
    pub burn_usd: f64,
    /// The tokens bought to burn, each at the price it was bought at, USD: what
    /// [`Ledger::burn_usd`] must equal (an independent check of the burns' booking).
    pub burn_value_usd: f64,
    /// USD paid to the settlement chain.
    pub chain_fees_usd: f64,
    /// Payments settled.
    pub payments: u64,
    /// Settlement transactions.
    pub transactions: u64,
    /// Epochs settled.
    pub epochs: u64,
    /// Epochs whose emission found no GPU online and was not minted.
    pub unminted_epochs: u64,
    /// Tokens paid out to providers, summed as they are paid (checks the split).
    pub paid_tokens: f64,
    /// USD received by providers, summed as it is paid.
    pub provider_usd_total: f64,
    /// Stake purchases the market could not fill in full (tokens short).
    pub stake_shortfall: f64,
    /// Tokens paid to each group in the last epoch settled.
    pub epoch_tokens: Vec<f64>,
    /// Tokens providers sold in the last epoch settled, and the USD the sales fetched.
    pub epoch_sales: (f64, f64),
    /// Locked rewards released per coming epoch (front: the next).
    vesting_due: VecDeque<f64>,
    /// Stakes released per coming epoch (front: the next).
    unbonding_due: VecDeque<f64>,
    /// The pool's reserves at the start, and what has flowed in and out since:
    /// (tokens, USD) at start, in, out.
    pool_flows: [(f64, f64); 3],
}

impl Ledger {
    /// A ledger of `groups` provider groups and `initial_supply` tokens, all circulating.
    pub fn new(groups: usize, initial_supply: f64) -> Self {
        Self {
            supply: initial_supply,
            circulating: initial_supply,
            provider_tokens: vec![0.0; groups],
            provider_tokens_usd: vec![0.0; groups],
            epoch_tokens: vec![0.0; groups],
            provider_usd: vec![0.0; groups],
            group_staked: vec![0.0; groups],
            stake_usd: vec![0.0; groups],
            slashed_usd: vec![0.0; groups],
            ..Self::default()
        }
    }

    /// The same, with the `members` GPUs of each group staking `per_gpu` tokens from the
    /// initial supply, and a market pool holding `pool` (tokens, USD) of it. The caller
    /// checks that the supply covers both.
    pub fn with_stakes(
        initial_supply: f64,
        members: &[u32],
        per_gpu: f64,
        pool: Option<&Amm>,
    ) -> Self {
        let mut l = Self::new(members.len(), initial_supply);
        for (s, &m) in l.group_staked.iter_mut().zip(members) {
            *s = f64::from(m) * per_gpu;
            l.staked += *s;
        }
        l.circulating -= l.staked;
        if let Some(a) = pool {
            l.pool_flows[0] = (a.token_reserve(), a.usd_reserve());
        }
        l
    }

    /// Settles one epoch; returns the tokens actually minted (none when no GPU was online).
    pub fn settle(&mut self, d: &Design, e: &EpochInput<'_>, market: &mut Market<'_>) -> f64 {
        self.epochs += 1;
        self.epoch_sales = (0.0, 0.0);
        let price = match market {
            Market::Price(p) | Market::Outside { price: p, .. } => *p,
            Market::Pool(a) => a.price(),
        };
        // 1. Releases.
        let released = self.vesting_due.pop_front().unwrap_or(0.0);
        self.vesting -= released;
        let unbonded = self.unbonding_due.pop_front().unwrap_or(0.0);
        self.unbonding -= unbonded;
        self.circulating += released + unbonded;

        // 2. Emission.
        let minted = self.mint(d, e, price);

        // 3. Fees.
        let payments: u64 = e.payments.iter().sum();
        self.payments += payments;
        let chain_total = match (&d.settlement, payments) {
            (Some(c), p) if p > 0 => {
                let tx = p.div_ceil(u64::from(c.batch.max(1)));
                self.transactions += tx;
                tx as f64 * c.fee_per_tx_usd + p as f64 * c.fee_per_payment_usd
            }
            _ => 0.0,
        };
        // Sums in locals (the per-group vector could alias the totals for the compiler), and
        // one purchase to burn per epoch.
        let (mut paid, mut treasury, mut received, mut to_burn, mut chain_fees) =
            (0.0, 0.0, 0.0, 0.0, 0.0);
        for (i, (&fee, provider)) in e.fees_usd.iter().zip(&mut self.provider_usd).enumerate() {
            paid += fee;
            let chain = if chain_total > 0.0 {
                chain_total * e.payments.get(i).copied().unwrap_or(0) as f64 / payments as f64
            } else {
                0.0
            };
            chain_fees += chain;
            let take = fee * d.take_rate;
            let net = fee - take - chain;
            let to_provider = match d.payment {
                Payment::Direct => {
                    treasury += take;
                    net
                }
                Payment::BurnAndMint => {
                    treasury += take;
                    to_burn += net.max(0.0);
                    // Chain fees beyond the fee come out of the providers' pockets.
                    net.min(0.0)
                }
                Payment::BuybackAndBurn => {
                    to_burn += take;
                    net
                }
            };
            *provider += to_provider;
            received += to_provider;
        }
        self.users_paid_usd += paid;
        self.treasury_usd += treasury;
        self.provider_usd_total += received;
        self.chain_fees_usd += chain_fees;
        self.burn(to_burn, market);

        // 4. Providers sell.
        if let Market::Pool(a) = market {
            let unlocked = minted * (1.0 - d.lockup.map_or(0.0, |l| l.share));
            let sell = d.sell_share * (unlocked + released);
            if sell > 0.0
                && let Ok(usd) = a.sell_tokens(sell)
            {
                self.pool_flows[1].0 += sell;
                self.pool_flows[2].1 += usd;
                self.provider_sales_usd += usd;
                self.epoch_sales = (sell, usd);
            }
        }

        // 5. Stakes.
        if let Some(rule) = d.staking {
            self.settle_stakes(&rule, e, price, market);
        }

        // 6. Speculators.
        if let Market::Pool(a) = market {
            let x = e.speculation_usd;
            if x > 0.0 {
                if let Ok(t) = a.buy_tokens_with_usd(x) {
                    self.pool_flows[1].1 += x;
                    self.pool_flows[2].0 += t;
                }
            } else if x < 0.0 {
                // Speculators sell tokens they hold outside the pool.
                let outside = (self.circulating - a.token_reserve()).max(0.0);
                let t = (-x / a.price()).min(outside);
                if t > 0.0
                    && let Ok(usd) = a.sell_tokens(t)
                {
                    self.pool_flows[1].0 += t;
                    self.pool_flows[2].1 += usd;
                }
            }
        }
        minted
    }

    /// Mints the epoch's emission and pays it out; returns the tokens minted.
    fn mint(&mut self, d: &Design, e: &EpochInput<'_>, price: f64) -> f64 {
        let total_work: f64 = e.work.iter().sum();
        let total_online: f64 = e.online.iter().sum();
        let minted = if total_online > 0.0 { e.minted } else { 0.0 };
        if minted == 0.0 && e.minted > 0.0 {
            self.unminted_epochs += 1;
        }
        // Work's share goes to availability when nothing was busy.
        let for_work = if total_work > 0.0 {
            minted * d.work_share
        } else {
            0.0
        };
        let for_online = minted - for_work;
        let per_work = if for_work > 0.0 {
            for_work / total_work
        } else {
            0.0
        };
        let per_online = if for_online > 0.0 {
            for_online / total_online
        } else {
            0.0
        };
        let mut paid = 0.0;
        for (((tokens, usd), this), (&w, &o)) in self
            .provider_tokens
            .iter_mut()
            .zip(self.provider_tokens_usd.iter_mut())
            .zip(self.epoch_tokens.iter_mut())
            .zip(e.work.iter().zip(e.online))
        {
            let t = w * per_work + o * per_online;
            *this = t;
            *tokens += t;
            *usd += t * price;
            paid += t;
        }
        self.paid_tokens += paid;
        self.minted += minted;
        self.minted_usd += minted * price;
        self.supply += minted;
        let locked = match d.lockup {
            Some(l) if l.share > 0.0 && l.release_epochs > 0 => {
                let locked = minted * l.share;
                let n = l.release_epochs as usize;
                if self.vesting_due.len() < n {
                    self.vesting_due.resize(n, 0.0);
                }
                let each = locked / n as f64;
                for due in self.vesting_due.iter_mut().take(n) {
                    *due += each;
                }
                self.vesting += locked;
                locked
            }
            _ => 0.0,
        };
        self.circulating += minted - locked;
        minted
    }

    /// Slashes, unbonds and buys stakes so that each group stakes `per_gpu` per member.
    fn settle_stakes(&mut self, r: &StakeRule, e: &EpochInput<'_>, price: f64, m: &mut Market<'_>) {
        for g in 0..self.group_staked.len() {
            let fails = f64::from(e.failures.get(g).copied().unwrap_or(0));
            let misses = e.slo_misses.get(g).copied().unwrap_or(0) as f64;
            let slash = (fails * r.slash_per_failure * r.per_gpu + misses * r.slash_per_slo_miss)
                .min(self.group_staked[g]);
            if slash > 0.0 {
                self.group_staked[g] -= slash;
                self.staked -= slash;
                self.burned += slash;
                self.slashed += slash;
                self.supply -= slash;
                self.slashed_usd[g] += slash * price;
            }
            let target = f64::from(e.members.get(g).copied().unwrap_or(0)) * r.per_gpu;
            let have = self.group_staked[g];
            if have > target {
                let out = have - target;
                self.group_staked[g] = target;
                self.staked -= out;
                self.unbonding += out;
                let n = r.unbonding_epochs.max(1) as usize;
                if self.unbonding_due.len() < n {
                    self.unbonding_due.resize(n, 0.0);
                }
                self.unbonding_due[n - 1] += out;
            } else if have < target {
                let (tokens, usd) = self.buy(target - have, m);
                self.stake_shortfall += target - have - tokens;
                self.group_staked[g] += tokens;
                self.staked += tokens;
                self.circulating -= tokens;
                self.stake_usd[g] += usd;
            }
        }
    }

    /// Buys up to `tokens` at the market (not removing them from circulation: the caller
    /// moves them); returns the tokens bought and their cost.
    fn buy(&mut self, tokens: f64, m: &mut Market<'_>) -> (f64, f64) {
        match m {
            Market::Price(p) => {
                let t = tokens.min(self.circulating.max(0.0));
                (t, t * *p)
            }
            Market::Outside { book, .. } => {
                // From circulation, and never more than half the book, as from a pool.
                let t = tokens
                    .min(self.circulating.max(0.0))
                    .min(0.5 * book.tokens());
                (t, book.buy_tokens(t))
            }
            Market::Pool(a) => {
                // Never more than half the pool: the price would run away.
                let t = tokens.min(0.5 * a.token_reserve());
                match a.buy_exact_tokens(t) {
                    Ok(usd) => {
                        self.pool_flows[1].1 += usd;
                        self.pool_flows[2].0 += t;
                        (t, usd)
                    }
                    Err(_) => (0.0, 0.0),
                }
            }
        }
    }

    /// Spends up to `usd` on tokens at the market and burns them: never more tokens than
    /// circulate, and none at a floored price (a path that reached zero is not a market
    /// anyone can buy from). What cannot be spent stays with the treasury.
    fn burn(&mut self, usd: f64, m: &mut Market<'_>) {
        if usd <= 0.0 {
            return;
        }
        let (tokens, spent, value) = match m {
            Market::Price(p) | Market::Outside { price: p, .. } if *p <= MIN_PRICE_USD => {
                (0.0, 0.0, 0.0)
            }
            Market::Outside { book, .. } => along_book(book, usd, self.circulating.max(0.0)),
            Market::Price(p) => {
                let wanted = usd / *p;
                let circulating = self.circulating.max(0.0);
                if wanted <= circulating {
                    (wanted, usd, wanted * *p)
                } else {
                    // Every circulating token, at its price; the rest is not spent.
                    let spent = circulating * *p;
                    (circulating, spent, spent)
                }
            }
            Market::Pool(a) => match a.buy_tokens_with_usd(usd) {
                Ok(t) => {
                    self.pool_flows[1].1 += usd;
                    self.pool_flows[2].0 += t;
                    (t, usd, usd)
                }
                Err(_) => (0.0, 0.0, 0.0),
            },
        };
        self.burned += tokens;
        self.supply -= tokens;
        self.circulating -= tokens;
        self.burn_usd += spent;
        self.burn_value_usd += value;
        self.treasury_usd += usd - spent;
    }

    /// Relative error of the conservation laws, (tokens, USD), from running totals (in
    /// constant time, so that it can be checked every epoch). `pool` is the market pool, if
    /// any, whose reserves must equal its flows.
    pub fn conservation_error(&self, initial_supply: f64, pool: Option<&Amm>) -> (f64, f64) {
        let scale = (initial_supply + self.minted).max(1.0);
        let held = self.circulating + self.staked + self.vesting + self.unbonding;
        let mut tokens = (initial_supply + self.minted - self.burned - held).abs() / scale;
        tokens =
            tokens.max((initial_supply + self.minted - self.burned - self.supply).abs() / scale);
        tokens = tokens.max((self.minted - self.paid_tokens).abs() / self.minted.max(1.0));
        let received =
            self.provider_usd_total + self.treasury_usd + self.burn_usd + self.chain_fees_usd;
        let mut usd = (self.users_paid_usd - received).abs() / self.users_paid_usd.max(1.0);
        usd = usd.max((self.burn_usd - self.burn_value_usd).abs() / self.burn_usd.max(1.0));
        if let Some(a) = pool {
            let [(t0, u0), (tin, uin), (tout, uout)] = self.pool_flows;
            tokens = tokens.max((t0 + tin - tout - a.token_reserve()).abs() / scale);
            usd = usd.max((u0 + uin - uout - a.usd_reserve()).abs() / (u0 + uin).max(1.0));
        }
        (tokens, usd)
    }

    /// The same, summing the per-group holdings (linear in the groups: for the end of a run).
    pub fn conservation_error_by_group(
        &self,
        initial_supply: f64,
        pool: Option<&Amm>,
    ) -> (f64, f64) {
        let held: f64 = self.provider_tokens.iter().sum();
        let staked: f64 = self.group_staked.iter().sum();
        let received: f64 = self.provider_usd.iter().sum::<f64>()
            + self.treasury_usd
            + self.burn_usd
            + self.chain_fees_usd;
        let (tokens, _) = self.conservation_error(initial_supply, pool);
        let scale = (initial_supply + self.minted).max(1.0);
        (
            tokens
                .max((self.minted - held).abs() / self.minted.max(1.0))
                .max((self.staked - staked).abs() / scale),
            (self.users_paid_usd - received).abs() / self.users_paid_usd.max(1.0),
        )
    }

    /// USD value of the emissions / fees paid by users: how much of providers' income is
    /// subsidy (None before any fee).
    pub fn subsidy_ratio(&self) -> Option<f64> {
        (self.users_paid_usd > 0.0).then(|| self.minted_usd / self.users_paid_usd)
    }
}

/// Spends up to `usd` on tokens along an outside market's `book`, never more than
/// `circulating`: returns the tokens bought, the USD spent, and their value at the book's
/// stated law, tokens x price x (1 + spent / D) from the book before the purchase (an
/// independent check of what the book charged).
fn along_book(book: &mut Book, usd: f64, circulating: f64) -> (f64, f64, f64) {
    let (price, depth) = (book.price(), book.depth());
    let value = |tokens: f64, spent: f64| tokens * price * (1.0 + spent / depth);
    if book.tokens_for(usd) <= circulating {
        let t = book.buy_with_usd(usd);
        (t, usd, value(t, usd))
    } else {
        // Every circulating token (fewer than the book holds), for less than `usd`.
        let spent = book.buy_tokens(circulating);
        (circulating, spent, value(circulating, spent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(payment: Payment) -> Design {
        Design::basic(0.75, payment, 0.2)
    }

    /// Settles `e` at its exogenous price.
    fn settle(l: &mut Ledger, d: &Design, e: &EpochInput<'_>) -> f64 {
        l.settle(d, e, &mut Market::Price(e.price_usd))
    }

    #[test]
    fn emission_splits_pro_rata_between_work_and_availability() {
        let mut l = Ledger::new(2, 1000.0);
        let e = EpochInput {
            minted: 100.0,
            price_usd: 2.0,
            fees_usd: &[0.0, 0.0],
            work: &[3.0, 1.0],
            online: &[4.0, 4.0],
            ..EpochInput::default()
        };
        assert_eq!(settle(&mut l, &design(Payment::Direct), &e), 100.0);
        // Work: 75 split 3:1; availability: 25 split 1:1.
        assert_eq!(l.provider_tokens, vec![56.25 + 12.5, 18.75 + 12.5]);
        assert_eq!(l.provider_tokens_usd[0], 2.0 * 68.75);
        assert_eq!(l.supply, 1100.0);
        assert_eq!(l.conservation_error(1000.0, None), (0.0, 0.0));
    }

    #[test]
    fn idle_or_offline_networks_mint_to_availability_or_not_at_all() {
        let mut l = Ledger::new(2, 0.0);
        let idle = EpochInput {
            minted: 10.0,
            price_usd: 1.0,
            fees_usd: &[0.0, 0.0],
            work: &[0.0, 0.0],
            online: &[1.0, 3.0],
            ..EpochInput::default()
        };
        settle(&mut l, &design(Payment::Direct), &idle);
        assert_eq!(l.provider_tokens, vec![2.5, 7.5]);
        let dark = EpochInput {
            online: &[0.0, 0.0],
            ..idle
        };
        assert_eq!(settle(&mut l, &design(Payment::Direct), &dark), 0.0);
        assert_eq!((l.minted, l.unminted_epochs), (10.0, 1));
    }

    #[test]
    fn payment_designs_route_fees_and_burns_and_conserve_both_currencies() {
        let e = EpochInput {
            minted: 50.0,
            price_usd: 0.5,
            fees_usd: &[80.0, 20.0],
            work: &[1.0, 1.0],
            online: &[1.0, 1.0],
            ..EpochInput::default()
        };
        let mut direct = Ledger::new(2, 1000.0);
        settle(&mut direct, &design(Payment::Direct), &e);
        assert_eq!(direct.provider_usd, vec![64.0, 16.0]);
        assert_eq!((direct.treasury_usd, direct.burned), (20.0, 0.0));

        let mut bme = Ledger::new(2, 1000.0);
        settle(&mut bme, &design(Payment::BurnAndMint), &e);
        // 80 USD of fees after the take buy 160 tokens at 0.5 USD, all burned.
        assert_eq!(bme.provider_usd, vec![0.0, 0.0]);
        assert_eq!((bme.burned, bme.supply), (160.0, 1000.0 + 50.0 - 160.0));

        let mut buyback = Ledger::new(2, 1000.0);
        settle(&mut buyback, &design(Payment::BuybackAndBurn), &e);
        assert_eq!(buyback.provider_usd, vec![64.0, 16.0]);
        assert_eq!((buyback.burned, buyback.treasury_usd), (40.0, 0.0));

        for l in [&direct, &bme, &buyback] {
            assert_eq!(
                l.conservation_error(1000.0, None),
                l.conservation_error_by_group(1000.0, None)
            );
            let (t, u) = l.conservation_error_by_group(1000.0, None);
            assert!(t < 1e-12 && u < 1e-12, "{t} {u}");
            assert_eq!(l.subsidy_ratio(), Some(25.0 / 100.0));
        }
    }

    /// See issue 12 (item 11): 13.6 USD of fees at a floored or tiny outside price bought
    /// every circulating token and left the supply at 0, while both sides of the USD check
    /// carried the same overstated burn. Tokens are bought at their price, never at the
    /// floor, and what cannot be spent stays with the treasury.
    #[test]
    fn a_floored_or_tiny_price_does_not_burn_the_supply_for_a_few_dollars() {
        let fees = [17.0]; // 13.6 USD after the 20% take
        let epoch = |price: f64| EpochInput {
            minted: 400.0,
            price_usd: price,
            fees_usd: &fees,
            work: &[1.0],
            online: &[1.0],
            ..EpochInput::default()
        };
        // At the floor: nothing is bought; the treasury keeps the take and the 13.6 USD.
        let mut floored = Ledger::new(1, 1_000_000.0);
        settle(
            &mut floored,
            &design(Payment::BurnAndMint),
            &epoch(MIN_PRICE_USD),
        );
        assert_eq!((floored.burned, floored.burn_usd), (0.0, 0.0));
        assert_eq!(floored.supply, 1_000_400.0);
        assert!((floored.treasury_usd - 17.0).abs() < 1e-12);
        // At 1e-9 USD, 13.6 USD would buy 1.36e10 tokens: it buys the 1,000,400 that
        // circulate, at 1e-9 each, and the rest is not spent.
        let mut tiny = Ledger::new(1, 1_000_000.0);
        settle(&mut tiny, &design(Payment::BurnAndMint), &epoch(1e-9));
        assert_eq!(tiny.burned, 1_000_400.0);
        assert!((tiny.burn_usd - 1_000_400.0 * 1e-9).abs() < 1e-18);
        assert!((tiny.treasury_usd - (17.0 - tiny.burn_usd)).abs() < 1e-12);
        for l in [&floored, &tiny] {
            let (t, u) = l.conservation_error_by_group(1_000_000.0, None);
            assert!(t < 1e-12 && u < 1e-12, "{t} {u}");
        }
        // The check that would have caught it: burns booked at more than the tokens' worth.
        let mut wrong = tiny.clone();
        wrong.burn_usd += 13.6;
        wrong.treasury_usd -= 13.6;
        assert!(wrong.conservation_error(1_000_000.0, None).1 > 0.5);
    }

    /// See issue 12 (item 15): an outside price filled any purchase at the path's price. At
    /// 2 USD a token with a depth D of 1,000 USD the book holds 500 tokens against 1,000 USD:
    /// 100 USD of fees (125 less the 20% take) burn 500 x 100 / 1,100 = 45.45 tokens, at
    /// 2 x (1 + 100 / 1,000) = 2.2 USD on average, and leave the price at 2 x 1.1^2 = 2.42.
    /// A 10-token stake bought next pays from the moved book: 1,100 x 10 / (5,000 / 11 - 10)
    /// = 24.74 USD.
    #[test]
    fn an_outside_price_with_a_stated_depth_moves_with_the_network_s_purchases() {
        let rule = StakeRule {
            per_gpu: 10.0,
            unbonding_epochs: 1,
            slash_per_failure: 0.0,
            slash_per_slo_miss: 0.0,
            cost_of_capital_per_year: 0.0,
        };
        let d = Design {
            staking: Some(rule),
            ..Design::basic(1.0, Payment::BurnAndMint, 0.2)
        };
        let mut l = Ledger::with_stakes(10_000.0, &[0], 10.0, None);
        let mut book = Book::open(2.0, 1000.0).expect("book");
        let e = EpochInput {
            price_usd: 2.0,
            fees_usd: &[125.0],
            work: &[1.0],
            online: &[1.0],
            members: &[1],
            failures: &[0],
            slo_misses: &[0],
            ..EpochInput::default()
        };
        let mut market = Market::Outside {
            price: 2.0,
            book: &mut book,
        };
        l.settle(&d, &e, &mut market);
        let burned = 500.0 * 100.0 / 1100.0;
        assert!((l.burned - burned).abs() < 1e-12 * burned, "{}", l.burned);
        assert!((l.burn_usd / l.burned - 2.2).abs() < 1e-12);
        let stake = 1100.0 * 10.0 / (5000.0 / 11.0 - 10.0);
        assert!(
            (l.stake_usd[0] - stake).abs() < 1e-12 * stake,
            "{}",
            l.stake_usd[0]
        );
        assert_eq!(l.group_staked[0], 10.0);
        // After the burn alone the price was 2.42; the stake moved it on to
        // (1,100 + 24.74) / (4,890 / 11) = 2.53.
        let after = (1100.0 + stake) / (4890.0 / 11.0);
        assert!(
            (book.price() - after).abs() < 1e-12 * after,
            "{}",
            book.price()
        );
        let mut alone = Book::open(2.0, 1000.0).expect("book");
        let mut burn_only = Ledger::new(1, 10_000.0);
        let no_stake = Design::basic(1.0, Payment::BurnAndMint, 0.2);
        let mut market = Market::Outside {
            price: 2.0,
            book: &mut alone,
        };
        burn_only.settle(&no_stake, &e, &mut market);
        assert!((alone.price() - 2.42).abs() < 1e-12);
        for l in [&l, &burn_only] {
            let (t, u) = l.conservation_error_by_group(10_000.0, None);
            assert!(t < 1e-12 && u < 1e-12, "{t} {u}");
        }
    }

    #[test]
    fn burn_and_mint_settles_where_burns_equal_emissions() {
        // At the equilibrium price, fees / price = emission: the supply stands still.
        let (fees, emission) = (1000.0, 400.0);
        let price = fees / emission;
        let mut l = Ledger::new(1, 1e6);
        let d = Design::basic(1.0, Payment::BurnAndMint, 0.0);
        for _ in 0..100 {
            settle(
                &mut l,
                &d,
                &EpochInput {
                    minted: emission,
                    price_usd: price,
                    fees_usd: &[fees],
                    work: &[1.0],
                    online: &[1.0],
                    ..EpochInput::default()
                },
            );
        }
        assert!((l.supply - 1e6).abs() < 1e-6);
        assert!((l.minted - l.burned).abs() < 1e-6);
    }

    #[test]
    fn stakes_follow_members_through_slashing_unbonding_and_purchases() {
        let rule = StakeRule {
            per_gpu: 10.0,
            unbonding_epochs: 2,
            slash_per_failure: 0.5,
            slash_per_slo_miss: 1.0,
            cost_of_capital_per_year: 0.0,
        };
        let d = Design {
            staking: Some(rule),
            ..Design::basic(1.0, Payment::Direct, 0.0)
        };
        // Two groups of 3 and 2 GPUs stake 50 of 1000 tokens.
        let mut l = Ledger::with_stakes(1000.0, &[3, 2], 10.0, None);
        assert_eq!((l.staked, l.circulating), (50.0, 950.0));
        let base = EpochInput {
            minted: 0.0,
            price_usd: 2.0,
            fees_usd: &[0.0, 0.0],
            work: &[1.0, 1.0],
            online: &[1.0, 1.0],
            ..EpochInput::default()
        };
        // Group 0: one failure (5 tokens) and 2 misses (2) slashed, then topped up (7 tokens
        // bought for 14 USD); group 1: one GPU leaves, 10 tokens start unbonding.
        let e = EpochInput {
            members: &[3, 1],
            failures: &[1, 0],
            slo_misses: &[2, 0],
            ..base.clone()
        };
        settle(&mut l, &d, &e);
        assert_eq!(l.group_staked, vec![30.0, 10.0]);
        assert_eq!((l.slashed, l.burned, l.unbonding), (7.0, 7.0, 10.0));
        assert_eq!((l.stake_usd[0], l.slashed_usd[0]), (14.0, 14.0));
        assert_eq!(l.circulating, 950.0 - 7.0);
        let still = EpochInput {
            members: &[3, 1],
            ..base.clone()
        };
        // Two epochs later the unbonded stake circulates again.
        settle(&mut l, &d, &still);
        assert_eq!(l.unbonding, 10.0);
        settle(&mut l, &d, &still);
        assert_eq!((l.unbonding, l.circulating), (0.0, 953.0));
        let (t, u) = l.conservation_error_by_group(1000.0, None);
        assert!(t < 1e-15 && u < 1e-15, "{t} {u}");
        // A slash never takes more than the stake.
        let wipe = EpochInput {
            members: &[0, 1],
            slo_misses: &[1000, 0],
            ..base
        };
        settle(&mut l, &d, &wipe);
        assert_eq!(l.group_staked[0], 0.0);
        assert_eq!(l.slashed, 37.0);
    }

    #[test]
    fn locked_rewards_are_released_linearly_and_chain_fees_come_out_of_fees() {
        let d = Design {
            lockup: Some(Lockup {
                share: 0.75,
                release_epochs: 4,
            }),
            settlement: Some(Settlement {
                fee_per_tx_usd: 0.5,
                fee_per_payment_usd: 0.01,
                batch: 10,
            }),
            ..Design::basic(1.0, Payment::Direct, 0.1)
        };
        let mut l = Ledger::new(2, 0.0);
        let e = EpochInput {
            minted: 100.0,
            price_usd: 1.0,
            fees_usd: &[10.0, 0.0],
            work: &[1.0, 1.0],
            online: &[1.0, 1.0],
            // 25 payments: 3 transactions (1.5 USD) + 0.25 USD, all on group 0.
            payments: &[25, 0],
            ..EpochInput::default()
        };
        settle(&mut l, &d, &e);
        assert_eq!((l.vesting, l.circulating), (75.0, 25.0));
        assert_eq!(l.transactions, 3);
        assert!((l.chain_fees_usd - 1.75).abs() < 1e-12);
        assert!((l.provider_usd[0] - (10.0 - 1.0 - 1.75)).abs() < 1e-12);
        let quiet = EpochInput {
            minted: 0.0,
            fees_usd: &[0.0, 0.0],
            payments: &[0, 0],
            ..e
        };
        for k in 1..=4 {
            settle(&mut l, &d, &quiet);
            assert!((l.vesting - 75.0 * (1.0 - f64::from(k) / 4.0)).abs() < 1e-12);
        }
        assert_eq!(l.circulating, 100.0);
        let (t, u) = l.conservation_error_by_group(0.0, None);
        assert!(t < 1e-15 && u < 1e-15, "{t} {u}");
    }

    #[test]
    fn burn_and_mint_equilibrium_emerges_in_a_pool() {
        // Providers sell every reward into the pool and fees buy tokens to burn. The pool's
        // price moves to fees / emission, where burns equal emissions, from above and below.
        let (fees, emission) = (1000.0, 400.0);
        let d = Design {
            sell_share: 1.0,
            ..Design::basic(1.0, Payment::BurnAndMint, 0.0)
        };
        for start in [0.5, 10.0] {
            let mut pool = Amm::new(100_000.0, 100_000.0 * start, 0.003).unwrap();
            let mut l = Ledger::with_stakes(1e6, &[0], 0.0, Some(&pool));
            let e = EpochInput {
                minted: emission,
                price_usd: 0.0,
                fees_usd: &[fees],
                work: &[1.0],
                online: &[1.0],
                ..EpochInput::default()
            };
            for _ in 0..3000 {
                l.settle(&d, &e, &mut Market::Pool(&mut pool));
            }
            let (burned0, minted0) = (l.burned, l.minted);
            for _ in 0..100 {
                l.settle(&d, &e, &mut Market::Pool(&mut pool));
            }
            let price = pool.price();
            // The pool's fee makes each round trip a little dearer: within 1%.
            assert!(
                (price / (fees / emission) - 1.0).abs() < 0.01,
                "{start}: {price}"
            );
            let ratio = (l.burned - burned0) / (l.minted - minted0);
            assert!((ratio - 1.0).abs() < 0.01, "{start}: burned/minted {ratio}");
            let (t, u) = l.conservation_error(1e6, Some(&pool));
            assert!(t < 1e-12 && u < 1e-12, "{t} {u}");
        }
    }
}
