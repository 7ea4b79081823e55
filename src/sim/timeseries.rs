//! The time series: one row per simulation epoch (`simulation.epoch_h`) with arrivals,
//! answers, drops, latency, utilisation, requests in the system, revenue, GPUs in the
//! network and the token's state, from each group's window since the last row.

use crate::core::engine::SimTime;
use crate::core::units::NANOS_PER_HOUR;
use crate::metrics::EpochRow;
use crate::metrics::recorder::EpochAcc;

use super::pool::{PoolMark, PoolState};
use super::tokens::TokenState;

/// What inference measured over one epoch.
pub struct EpochRequests {
    /// Counts and latencies.
    pub acc: EpochAcc,
    /// Requests in the system integrated over the epoch, request-nanoseconds.
    pub system_ns: f64,
    /// Requests waiting at the end.
    pub queued: u64,
}

/// The rows of one replication, and where the current epoch started.
pub struct TimeSeries {
    replication: u32,
    warmup: SimTime,
    index: u32,
    start: SimTime,
    marks: Vec<PoolMark>,
    rows: Vec<EpochRow>,
}

impl TimeSeries {
    /// No row yet, for `groups` groups.
    pub fn new(replication: u32, warmup: SimTime, groups: usize) -> Self {
        Self {
            replication,
            warmup,
            index: 0,
            start: 0,
            marks: vec![PoolMark::default(); groups],
            rows: Vec::new(),
        }
    }

    /// When the current epoch started.
    pub fn start(&self) -> SimTime {
        self.start
    }

    /// Ends the current epoch at `now`: writes its row and returns each group's
    /// utilisation over it (busy GPU-time / GPU-time in the network; None without GPU-time).
    pub fn close(
        &mut self,
        now: SimTime,
        pools: &[PoolState],
        requests: EpochRequests,
        token: Option<TokenState>,
    ) -> Vec<Option<f64>> {
        let dt = (now - self.start) as f64;
        let (mut busy, mut member, mut revenue, mut gpus) = (0.0, 0.0, 0.0, 0u64);
        let mut utilisation = Vec::with_capacity(pools.len());
        for (p, mark) in pools.iter().zip(self.marks.iter_mut()) {
            let d = p.roll(mark, now);
            let (b, m) = (d.busy as f64, d.member_ns());
            busy += b;
            member += m;
            gpus += u64::from(p.members());
            revenue += d.fees;
            utilisation.push((m > 0.0).then(|| b / m));
        }
        let acc = requests.acc;
        self.rows.push(EpochRow {
            replication: self.replication,
            epoch: self.index,
            start_h: self.start as f64 / NANOS_PER_HOUR,
            warmup: self.start < self.warmup,
            arrived: acc.arrived,
            dropped: acc.dropped,
            completed: acc.completed,
            e2e_mean_s: (acc.completed > 0).then(|| acc.e2e_sum_s / acc.completed as f64),
            gpu_utilisation: if member > 0.0 { busy / member } else { 0.0 },
            in_system_mean: if dt > 0.0 {
                requests.system_ns / dt
            } else {
                0.0
            },
            queued_at_end: requests.queued,
            revenue_usd: revenue,
            gpus,
            token_price_usd: token.map(|t| t.price_usd),
            token_circulating: token.map(|t| t.circulating),
            token_staked: token.map(|t| t.staked),
            token_locked: token.map(|t| t.locked),
            token_burned: token.map(|t| t.burned),
        });
        self.index += 1;
        self.start = now;
        utilisation
    }

    /// The rows written.
    pub fn into_rows(self) -> Vec<EpochRow> {
        self.rows
    }
}
