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

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: SimTime = 3_600_000_000_000;

    fn requests(arrived: u64) -> EpochRequests {
        EpochRequests {
            acc: EpochAcc {
                arrived,
                ..EpochAcc::default()
            },
            system_ns: 1.5 * HOUR as f64,
            queued: 2,
        }
    }

    #[test]
    fn a_row_covers_its_epoch_only() {
        // Two groups of 2 GPUs at 1 and 3 USD per busy GPU-hour.
        let mut pools = vec![PoolState::new(2, 2, 1.0), PoolState::new(2, 2, 3.0)];
        let mut ts = TimeSeries::new(7, HOUR, 2);
        pools[0].occupy(0, 1);
        let u = ts.close(HOUR, &pools, requests(5), None);
        // One of four GPUs busy for the hour; group 0 at 1/2, group 1 at 0.
        assert_eq!(u, vec![Some(0.5), Some(0.0)]);
        pools[1].occupy(HOUR, 2);
        pools[0].leave(HOUR, 1); // its idle GPU leaves the network
        let u = ts.close(2 * HOUR, &pools, requests(3), None);
        assert_eq!(u, vec![Some(1.0), Some(1.0)]);
        let rows = ts.into_rows();
        let (a, b) = (&rows[0], &rows[1]);
        assert_eq!(
            (a.replication, a.epoch, a.start_h, a.warmup),
            (7, 0, 0.0, true)
        );
        assert_eq!((b.epoch, b.start_h, b.warmup), (1, 1.0, false));
        assert_eq!((a.gpu_utilisation, b.gpu_utilisation), (0.25, 1.0));
        // Fees: 1 GPU-hour at 1 USD, then 1 at 1 USD and 2 at 3 USD.
        assert!((a.revenue_usd - 1.0).abs() < 1e-12);
        assert!((b.revenue_usd - 7.0).abs() < 1e-12);
        assert_eq!((a.gpus, b.gpus), (4, 3));
        assert_eq!((a.arrived, b.arrived, a.queued_at_end), (5, 3, 2));
        assert_eq!(a.in_system_mean, 1.5);
        assert_eq!(a.token_price_usd, None);
    }
}
