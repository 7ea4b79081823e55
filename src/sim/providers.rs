//! Providers' metrics over the measurement window [warm-up, horizon]: each group's
//! utilisation, availability, GPUs, revenue, costs and returns, and the network's totals.
//! Income is users' fees, or with a token the fees received and token rewards (valued as
//! `token.reward_valuation` says), less slashed stakes, the stakes' cost of capital and what
//! verifying the group's answers cost it (`economics::verification`); costs
//! are full costs of the GPU-time in the network that the owners lent (a card with owners' hours costs nothing while they have it back), and
//! availability is the share of that lent time online.

use crate::economics::provider::ProviderKind;
use crate::metrics::Metrics;
use crate::metrics::names::{self, pool as q, provider as n};
use crate::scenario::Scenario;

use super::pool::{PoolDelta, PoolState};
use super::tokens::Tokens;

/// The groups' windows: `all` from the warm-up to the horizon, `settled` those over which
/// income is measured (with a token, from the warm-up to the end of the last settled epoch;
/// else the same windows).
pub struct Windows<'a> {
    /// From the warm-up to the horizon.
    pub all: &'a [PoolDelta],
    /// Over which income is measured.
    pub settled: &'a [PoolDelta],
}

/// Adds the providers' metrics over `windows`; `capacity_rps` is what each group answers
/// per second with full batches and at the mean batch its replicas ran, and `verification`
/// what verifying each group's answers cost it over its settled window (out of its income).
pub fn metrics(
    s: &Scenario,
    pools: &[PoolState],
    windows: &Windows,
    capacity_rps: &[(f64, f64)],
    verification: &[f64],
    tokens: Option<&Tokens>,
    m: &mut Metrics,
) {
    let (settled, windows) = (windows.settled, windows.all);
    let (mut busy, mut member, mut revenue, mut cost) = (0.0, 0.0, 0.0, 0.0);
    let (mut capacity, mut as_run, mut gpus_final) = (0.0, 0.0, 0u64);
    for (((p, st), d), &(rps, run_rps)) in
        s.pools().iter().zip(pools).zip(windows).zip(capacity_rps)
    {
        let window_ns = d.dt as f64;
        let b = d.busy as f64;
        let member_ns = d.member_ns();
        // Providers pay for their GPUs while they are in the network and lent: not for the
        // hours their owners have them back.
        let pool_cost = p.cost.full(d.lent_h(), d.busy_h());
        let key = |quantity: &str| names::pool(&p.name, quantity);
        if member_ns > 0.0 {
            m.insert(key(q::UTILISATION), b / member_ns);
            let lent = d.lent_ns();
            if lent > 0.0 {
                m.insert(key(q::AVAILABLE), 1.0 - d.unavailable_ns() / lent);
            }
        }
        m.insert(key(q::DEPARTED_GPUS), f64::from(st.failed_out_measured()));
        m.insert(key(q::FAILURES), st.failures_measured() as f64);
        m.insert(key(q::GPUS_MEAN), member_ns / window_ns);
        m.insert(key(q::GPUS_FINAL), f64::from(st.members()));
        m.insert(key(q::JOINED_GPUS), f64::from(st.joined()));
        m.insert(key(q::LEFT_GPUS), f64::from(st.left()));
        m.insert(key(q::REVENUE_USD), d.fees);
        m.insert(key(q::COST_USD), pool_cost);
        m.insert(key(q::PROFIT_USD), d.fees - pool_cost);
        busy += b;
        member += member_ns;
        revenue += d.fees;
        cost += pool_cost;
        gpus_final += u64::from(st.members());
        // Capacity of the GPUs in the network, averaged over the window.
        capacity += rps * member_ns / window_ns / f64::from(p.count);
        as_run += run_rps * member_ns / window_ns / f64::from(p.count);
    }
    let window_ns = (s.horizon() - s.warmup()) as f64;
    if member > 0.0 {
        m.insert(names::gpu::UTILISATION.into(), busy / member);
    }
    m.insert(n::GPUS_MEAN.into(), member / window_ns);
    m.insert(n::GPUS_FINAL.into(), gpus_final as f64);
    let demand: f64 = s.users().iter().map(|u| u.rate_per_s).sum();
    if demand > 0.0 {
        // Requests per second the network's GPUs could answer with full batches, against
        // the requests users issue: above 1, supply outgrows demand.
        m.insert(n::CAPACITY_DEMAND.into(), capacity / demand);
        // The same at the batches the replicas ran: spreading requests over idle replicas at
        // batch ~1 uses far less of the GPUs' capacity than full batches would.
        m.insert(n::CAPACITY_DEMAND_AS_RUN.into(), as_run / demand);
    }
    m.insert(n::REVENUE_USD.into(), revenue);
    m.insert(n::COST_USD.into(), cost);
    m.insert(n::PROFIT_USD.into(), revenue - cost);
    returns(s, settled, verification, tokens, m);
}

/// Providers' returns: per group and per kind of provider (sharing economy, datacenter),
/// income (less what verifying its answers cost each group) against full costs over the
/// same `windows`, and the years until hardware is paid back.
fn returns(
    s: &Scenario,
    windows: &[PoolDelta],
    verification: &[f64],
    tokens: Option<&Tokens>,
    m: &mut Metrics,
) {
    // (income, cost) per kind; each group's ROI with its GPU-hours, for percentiles.
    let mut kinds = [(0.0, 0.0); 2];
    let mut rois: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
    for (i, (p, d)) in s.pools().iter().zip(windows).enumerate() {
        let cost = p.cost.full(d.lent_h(), d.busy_h());
        let key = |quantity: &str| names::pool(&p.name, quantity);
        let income = match tokens {
            Some(t) => {
                let (rewards, received) = t.window_income(s, i);
                let capital = t.capital_cost_usd(i);
                if capital > 0.0 {
                    m.insert(key(q::STAKE_CAPITAL_COST_USD), capital);
                }
                rewards + received - t.slashed_usd(i) - capital
            }
            None => d.fees,
        };
        let verified = verification.get(i).copied().unwrap_or(0.0);
        if verified > 0.0 {
            m.insert(key(q::VERIFICATION_USD), verified);
        }
        let income = income - verified;
        let member_h = d.lent_h();
        if tokens.is_some() {
            m.insert(key(q::INCOME_WITH_REWARDS_USD), income);
        }
        let kind = usize::from(p.kind == ProviderKind::Datacenter);
        if cost > 0.0 {
            let roi = (income - cost) / cost;
            m.insert(key(q::ROI), roi);
            rois[kind].push((roi, member_h));
        }
        if let Some(y) = p.cost.payback_years(income, member_h, d.busy_h()) {
            m.insert(key(q::PAYBACK_YEARS), y);
        }
        kinds[kind].0 += income;
        kinds[kind].1 += cost;
    }
    let (income, cost) = (kinds[0].0 + kinds[1].0, kinds[0].1 + kinds[1].1);
    m.insert(n::INCOME_USD.into(), income);
    m.insert(n::NET_PROFIT_USD.into(), income - cost);
    for (kind, ((income, cost), mut r)) in [ProviderKind::Sharing, ProviderKind::Datacenter]
        .into_iter()
        .zip(kinds.into_iter().zip(rois))
    {
        let name = kind.name();
        if cost > 0.0 {
            m.insert(names::provider_kind(name, n::ROI), (income - cost) / cost);
        }
        // The spread of returns across the kind's groups, weighted by GPU-hours.
        r.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: f64 = r.iter().map(|x| x.1).sum();
        if total > 0.0 {
            for (share, label) in n::ROI_PERCENTILES {
                let mut acc = 0.0;
                let at = r
                    .iter()
                    .find(|x| {
                        acc += x.1;
                        acc >= share * total
                    })
                    .map_or(r[r.len() - 1].0, |x| x.0);
                m.insert(names::provider_kind(name, label), at);
            }
        }
    }
}
