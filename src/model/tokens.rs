//! The token economy at run time: at the end of every token epoch, the GPU-hours each
//! provider group worked and was online, and the fees its users paid, go to the
//! [`crate::economics::ledger::Ledger`] with the epoch's emission and market price.
//!
//! The ledger covers whole epochs from time 0 (the warm-up included: supply is a stock, not
//! a rate); an epoch cut short by the horizon is not settled.

use crate::economics::ledger::{EpochInput, Ledger};
use crate::economics::price::PriceProcess;
use crate::engine::SimTime;
use crate::metrics::Metrics;
use crate::rng::{StreamRng, Streams};
use crate::scenario::Scenario;

use super::pool::PoolState;

const NANOS_PER_HOUR: f64 = 3.6e12;

/// Run-time state of the token economy.
pub struct Tokens {
    ledger: Ledger,
    price: PriceProcess,
    rng: StreamRng,
    epoch: u64,
    /// Busy and offline GPU-time of each group at the last epoch's end.
    last: Vec<(u128, u128)>,
    last_time: SimTime,
    /// Largest conservation error seen (tokens, USD), relative.
    worst: (f64, f64),
    /// Each group's token rewards (USD) and fees received at the end of the warm-up.
    warm: Vec<(f64, f64)>,
    scratch: (Vec<f64>, Vec<f64>, Vec<f64>),
}

impl Tokens {
    /// The economy of scenario `s` (None without a token section).
    pub fn new(s: &Scenario, streams: &Streams) -> Option<Self> {
        let t = s.token()?;
        let n = s.pools().len();
        // The price path was validated with the scenario, so this never drops the economy.
        let price = PriceProcess::new(t.price.clone()).ok()?;
        Some(Self {
            ledger: Ledger::new(n, t.emission.initial_supply),
            price,
            rng: streams.stream("token_price"),
            epoch: 0,
            last: vec![(0, 0); n],
            last_time: 0,
            worst: (0.0, 0.0),
            warm: vec![(0.0, 0.0); n],
            scratch: (vec![0.0; n], vec![0.0; n], vec![0.0; n]),
        })
    }

    /// Settles the epoch that ends at `now`.
    pub fn settle(&mut self, s: &Scenario, now: SimTime, pools: &[PoolState]) {
        let Some(t) = s.token() else { return };
        let dt_h = (now - self.last_time) as f64 / NANOS_PER_HOUR;
        let (fees, work, online) = &mut self.scratch;
        // One epoch's GPU-time of one group fits in a u64 (2^64 ns is 584 GPU-years), and
        // u64 -> f64 is one instruction where u128 -> f64 is a library call.
        let hours = |a: u128, b: u128| (a - b) as u64 as f64 / NANOS_PER_HOUR;
        for ((((p, spec), last), (fee, w)), o) in pools
            .iter()
            .zip(s.pools())
            .zip(self.last.iter_mut())
            .zip(fees.iter_mut().zip(work.iter_mut()))
            .zip(online.iter_mut())
        {
            let busy = p.busy_area_at(now);
            let offline = p.offline_area_at(now);
            let busy_h = hours(busy, last.0);
            *w = busy_h;
            *o = f64::from(p.count) * dt_h - hours(offline, last.1);
            *fee = busy_h * spec.price_usd_per_gpu_hour;
            *last = (busy, offline);
        }
        let price = self.price.advance(&mut self.rng, dt_h);
        let minted = t.emission.minted(self.epoch, self.ledger.supply);
        self.ledger.settle(
            &t.design,
            &EpochInput {
                minted,
                price_usd: price,
                fees_usd: fees,
                work,
                online,
            },
        );
        let err = self.ledger.conservation_error(t.emission.initial_supply);
        debug_assert!(err.0 < 1e-9 && err.1 < 1e-9, "conservation broken: {err:?}");
        self.worst = (self.worst.0.max(err.0), self.worst.1.max(err.1));
        self.epoch += 1;
        self.last_time = now;
        if now <= s.warmup() {
            // An epoch that ends by the end of the warm-up is not measured.
            self.mark_warmup();
        }
    }

    /// Names the token metrics.
    pub fn metrics(&self, s: &Scenario, m: &mut Metrics) {
        let Some(t) = s.token() else { return };
        let l = &self.ledger;
        m.insert("token.epochs.count".into(), l.epochs as f64);
        m.insert("token.supply.final".into(), l.supply);
        m.insert("token.minted.total".into(), l.minted);
        m.insert("token.burned.total".into(), l.burned);
        m.insert("token.minted_usd.total".into(), l.minted_usd);
        m.insert("token.price_usd.final".into(), self.price.price());
        m.insert(
            "token.price_hit_zero.count".into(),
            f64::from(u8::from(self.price.hit_zero())),
        );
        m.insert("token.users_paid_usd.total".into(), l.users_paid_usd);
        m.insert("token.treasury_usd.total".into(), l.treasury_usd);
        m.insert("token.burn_usd.total".into(), l.burn_usd);
        m.insert(
            "token.unminted_epochs.count".into(),
            l.unminted_epochs as f64,
        );
        let end = l.conservation_error_by_group(t.emission.initial_supply);
        m.insert(
            "token.conservation_error_ratio.max".into(),
            self.worst.0.max(self.worst.1).max(end.0).max(end.1),
        );
        if let Some(r) = l.subsidy_ratio() {
            m.insert("token.subsidy_ratio.mean".into(), r);
        }
        let (mut tokens_usd, mut fees) = (0.0, 0.0);
        for (i, p) in s.pools().iter().enumerate() {
            let key = |q: &str| format!("pool.{}.{q}", p.name);
            m.insert(key("token_rewards.total"), l.provider_tokens[i]);
            m.insert(key("token_rewards_usd.total"), l.provider_tokens_usd[i]);
            m.insert(key("fees_received_usd.total"), l.provider_usd[i]);
            tokens_usd += l.provider_tokens_usd[i];
            fees += l.provider_usd[i];
        }
        m.insert("provider.token_rewards_usd.total".into(), tokens_usd);
        m.insert("provider.fees_received_usd.total".into(), fees);
    }

    /// Marks the end of the warm-up: income from here on is measured.
    pub fn mark_warmup(&mut self) {
        let l = &self.ledger;
        for (w, (&t, &f)) in self
            .warm
            .iter_mut()
            .zip(l.provider_tokens_usd.iter().zip(&l.provider_usd))
        {
            *w = (t, f);
        }
    }

    /// Group `i`'s token rewards (USD when earned) and fees received in the epochs settled
    /// after the warm-up.
    pub fn window_income(&self, i: usize) -> (f64, f64) {
        let l = &self.ledger;
        (
            l.provider_tokens_usd[i] - self.warm[i].0,
            l.provider_usd[i] - self.warm[i].1,
        )
    }

    /// When the next epoch ends (None past the horizon).
    pub fn next_end(&self, s: &Scenario) -> Option<SimTime> {
        let t = s.token()?;
        let at = t.epoch.checked_mul(self.epoch + 1)?;
        (at <= s.horizon()).then_some(at)
    }
}
