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
//! Conservation, checked after every epoch: tokens minted - tokens burned = change in supply
//! (every token is held by someone: providers or everyone else), and USD paid by users = USD
//! received by providers + treasury + USD spent on burns.

use serde::{Deserialize, Serialize};

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
#[derive(Clone, Debug)]
pub struct EpochInput<'a> {
    /// Tokens the schedule mints this epoch.
    pub minted: f64,
    /// Market price of the token, USD.
    pub price_usd: f64,
    /// Users' fees per group, USD.
    pub fees_usd: &'a [f64],
    /// Busy GPU-hours per group.
    pub work: &'a [f64],
    /// Online GPU-hours per group.
    pub online: &'a [f64],
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
}

/// Running totals of the token economy of one replication.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ledger {
    /// Tokens in existence.
    pub supply: f64,
    /// Tokens minted so far.
    pub minted: f64,
    /// Tokens burned so far.
    pub burned: f64,
    /// USD value of the minted tokens, each at its epoch's price.
    pub minted_usd: f64,
    /// Tokens earned per group.
    pub provider_tokens: Vec<f64>,
    /// USD value of the tokens earned per group, each at its epoch's price.
    pub provider_tokens_usd: Vec<f64>,
    /// Fees received per group, USD.
    pub provider_usd: Vec<f64>,
    /// USD paid by users.
    pub users_paid_usd: f64,
    /// USD kept by the treasury.
    pub treasury_usd: f64,
    /// USD spent on tokens to burn.
    pub burn_usd: f64,
    /// Epochs settled.
    pub epochs: u64,
    /// Epochs whose emission found no GPU online and was not minted.
    pub unminted_epochs: u64,
    /// Tokens paid out to providers, summed as they are paid (checks the split).
    pub paid_tokens: f64,
    /// USD received by providers, summed as it is paid.
    pub provider_usd_total: f64,
}

impl Ledger {
    /// A ledger of `groups` provider groups and `initial_supply` tokens.
    pub fn new(groups: usize, initial_supply: f64) -> Self {
        Self {
            supply: initial_supply,
            provider_tokens: vec![0.0; groups],
            provider_tokens_usd: vec![0.0; groups],
            provider_usd: vec![0.0; groups],
            ..Self::default()
        }
    }

    /// Settles one epoch; returns the tokens actually minted (none when no GPU was online).
    pub fn settle(&mut self, d: &Design, e: &EpochInput<'_>) -> f64 {
        self.epochs += 1;
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
        for ((tokens, usd), (&w, &o)) in self
            .provider_tokens
            .iter_mut()
            .zip(self.provider_tokens_usd.iter_mut())
            .zip(e.work.iter().zip(e.online))
        {
            let t = w * per_work + o * per_online;
            *tokens += t;
            *usd += t * e.price_usd;
            paid += t;
        }
        self.paid_tokens += paid;
        self.minted += minted;
        self.minted_usd += minted * e.price_usd;
        self.supply += minted;

        for (i, &fee) in e.fees_usd.iter().enumerate() {
            self.users_paid_usd += fee;
            let take = fee * d.take_rate;
            let rest = fee - take;
            match d.payment {
                Payment::Direct => {
                    self.treasury_usd += take;
                    self.provider_usd[i] += rest;
                    self.provider_usd_total += rest;
                }
                Payment::BurnAndMint => {
                    self.treasury_usd += take;
                    self.burn(rest, e.price_usd);
                }
                Payment::BuybackAndBurn => {
                    self.provider_usd[i] += rest;
                    self.provider_usd_total += rest;
                    self.burn(take, e.price_usd);
                }
            }
        }
        minted
    }

    /// Spends `usd` on tokens at `price` and burns them (never more than exist).
    fn burn(&mut self, usd: f64, price: f64) {
        if usd <= 0.0 || price <= 0.0 {
            return;
        }
        let tokens = (usd / price).min(self.supply);
        self.burned += tokens;
        self.supply -= tokens;
        self.burn_usd += usd;
    }

    /// Relative error of the two conservation laws, (tokens, USD), from running totals (in
    /// constant time, so that it can be checked every epoch).
    pub fn conservation_error(&self, initial_supply: f64) -> (f64, f64) {
        let tokens = (initial_supply + self.minted - self.burned - self.supply).abs()
            / (initial_supply + self.minted).max(1.0);
        let tokens = tokens.max((self.minted - self.paid_tokens).abs() / self.minted.max(1.0));
        let received = self.provider_usd_total + self.treasury_usd + self.burn_usd;
        let usd = (self.users_paid_usd - received).abs() / self.users_paid_usd.max(1.0);
        (tokens, usd)
    }

    /// The same, summing the per-group holdings (linear in the groups: for the end of a run).
    pub fn conservation_error_by_group(&self, initial_supply: f64) -> (f64, f64) {
        let held: f64 = self.provider_tokens.iter().sum();
        let received: f64 =
            self.provider_usd.iter().sum::<f64>() + self.treasury_usd + self.burn_usd;
        let (tokens, _) = self.conservation_error(initial_supply);
        (
            tokens.max((self.minted - held).abs() / self.minted.max(1.0)),
            (self.users_paid_usd - received).abs() / self.users_paid_usd.max(1.0),
        )
    }

    /// USD value of the emissions / fees paid by users: how much of providers' income is
    /// subsidy (None before any fee).
    pub fn subsidy_ratio(&self) -> Option<f64> {
        (self.users_paid_usd > 0.0).then(|| self.minted_usd / self.users_paid_usd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(payment: Payment) -> Design {
        Design {
            work_share: 0.75,
            payment,
            take_rate: 0.2,
        }
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
        };
        assert_eq!(l.settle(&design(Payment::Direct), &e), 100.0);
        // Work: 75 split 3:1; availability: 25 split 1:1.
        assert_eq!(l.provider_tokens, vec![56.25 + 12.5, 18.75 + 12.5]);
        assert_eq!(l.provider_tokens_usd[0], 2.0 * 68.75);
        assert_eq!(l.supply, 1100.0);
        assert_eq!(l.conservation_error(1000.0), (0.0, 0.0));
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
        };
        l.settle(&design(Payment::Direct), &idle);
        assert_eq!(l.provider_tokens, vec![2.5, 7.5]);
        let dark = EpochInput {
            online: &[0.0, 0.0],
            ..idle
        };
        assert_eq!(l.settle(&design(Payment::Direct), &dark), 0.0);
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
        };
        let mut direct = Ledger::new(2, 1000.0);
        direct.settle(&design(Payment::Direct), &e);
        assert_eq!(direct.provider_usd, vec![64.0, 16.0]);
        assert_eq!((direct.treasury_usd, direct.burned), (20.0, 0.0));

        let mut bme = Ledger::new(2, 1000.0);
        bme.settle(&design(Payment::BurnAndMint), &e);
        // 80 USD of fees after the take buy 160 tokens at 0.5 USD, all burned.
        assert_eq!(bme.provider_usd, vec![0.0, 0.0]);
        assert_eq!((bme.burned, bme.supply), (160.0, 1000.0 + 50.0 - 160.0));

        let mut buyback = Ledger::new(2, 1000.0);
        buyback.settle(&design(Payment::BuybackAndBurn), &e);
        assert_eq!(buyback.provider_usd, vec![64.0, 16.0]);
        assert_eq!((buyback.burned, buyback.treasury_usd), (40.0, 0.0));

        for l in [&direct, &bme, &buyback] {
            assert_eq!(
                l.conservation_error(1000.0),
                l.conservation_error_by_group(1000.0)
            );
            let (t, u) = l.conservation_error_by_group(1000.0);
            assert!(t < 1e-12 && u < 1e-12, "{t} {u}");
            assert_eq!(l.subsidy_ratio(), Some(25.0 / 100.0));
        }
    }

    #[test]
    fn burn_and_mint_settles_where_burns_equal_emissions() {
        // At the equilibrium price, fees / price = emission: the supply stands still.
        let (fees, emission) = (1000.0, 400.0);
        let price = fees / emission;
        let mut l = Ledger::new(1, 1e6);
        let d = Design {
            work_share: 1.0,
            payment: Payment::BurnAndMint,
            take_rate: 0.0,
        };
        for _ in 0..100 {
            l.settle(
                &d,
                &EpochInput {
                    minted: emission,
                    price_usd: price,
                    fees_usd: &[fees],
                    work: &[1.0],
                    online: &[1.0],
                },
            );
        }
        assert!((l.supply - 1e6).abs() < 1e-6);
        assert!((l.minted - l.burned).abs() < 1e-6);
    }
}
