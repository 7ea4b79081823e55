//! What one replication measures about inference: counts, latency histograms by user region
//! and overall, and the per-epoch rows of the time series. The model calls it; it never
//! allocates per request.

use crate::engine::SimTime;

use super::hist::LatencyHist;

/// Latencies and counts for one group of users (a region, or everyone).
#[derive(Clone, Debug, Default)]
pub struct GroupStats {
    /// Requests issued.
    pub arrived: u64,
    /// Requests turned away (no pool with room).
    pub dropped: u64,
    /// Requests answered.
    pub completed: u64,
    /// Time to first token.
    pub ttft: LatencyHist,
    /// Time per output token after the first (requests with at least two).
    pub tpot: LatencyHist,
    /// End-to-end latency.
    pub e2e: LatencyHist,
    /// Answered requests that met the TTFT objective.
    pub met_ttft: u64,
    /// Answered requests that met the TPOT objective (one-token answers meet it).
    pub met_tpot: u64,
    /// Answered requests that met both.
    pub met_both: u64,
}

impl GroupStats {
    /// Share of the finished requests (answered or turned away) that met an objective:
    /// a request turned away meets none. None before any request finished.
    pub fn attainment(&self, met: u64) -> Option<f64> {
        let finished = self.completed + self.dropped;
        (finished > 0).then(|| met as f64 / finished as f64)
    }

    fn merge_latencies(&mut self, other: &Self) {
        self.ttft.merge(&other.ttft);
        self.tpot.merge(&other.tpot);
        self.e2e.merge(&other.e2e);
        self.met_ttft += other.met_ttft;
        self.met_tpot += other.met_tpot;
        self.met_both += other.met_both;
    }
}

/// One completed request, as the model reports it.
#[derive(Clone, Copy, Debug)]
pub struct Completion {
    /// User region index.
    pub region: usize,
    /// Time spent queueing at the pool.
    pub wait: SimTime,
    /// Time on the GPU.
    pub service: SimTime,
    /// Time to first token, network included.
    pub ttft: SimTime,
    /// Mean time per output token after the first (streamed answers of two or more tokens).
    pub tpot: Option<SimTime>,
    /// End-to-end latency, network included.
    pub e2e: SimTime,
    /// Tokens generated.
    pub output_tokens: u32,
}

/// One row of the per-epoch time series.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochRow {
    /// Replication index.
    pub replication: u32,
    /// Epoch index (0-based).
    pub epoch: u32,
    /// Start of the epoch, hours.
    pub start_h: f64,
    /// Whether the epoch lies (at least partly) in the warm-up.
    pub warmup: bool,
    /// Requests issued in the epoch.
    pub arrived: u64,
    /// Requests turned away in the epoch.
    pub dropped: u64,
    /// Requests answered in the epoch.
    pub completed: u64,
    /// Mean end-to-end latency of those answered, seconds (None if none).
    pub e2e_mean_s: Option<f64>,
    /// Busy GPU-time / GPU-time over the epoch.
    pub gpu_utilisation: f64,
    /// Time-average number of requests queued or in service.
    pub in_system_mean: f64,
    /// Requests waiting at the end of the epoch.
    pub queued_at_end: u64,
    /// Users' payments for busy GPU time in the epoch, USD.
    pub revenue_usd: f64,
}

/// The per-epoch accumulators, reset at each epoch boundary.
#[derive(Clone, Debug, Default)]
pub struct EpochAcc {
    /// Requests issued.
    pub arrived: u64,
    /// Requests dropped.
    pub dropped: u64,
    /// Requests completed.
    pub completed: u64,
    /// Sum of end-to-end latencies, seconds.
    pub e2e_sum_s: f64,
}

/// Everything one replication measures about inference.
#[derive(Clone, Debug)]
pub struct Recorder {
    /// Per user region.
    pub regions: Vec<GroupStats>,
    /// All users: counts only while running; [`Recorder::overall`] merges the histograms.
    pub all: GroupStats,
    /// Sum of queueing waits, nanoseconds (the mean is what queueing theory predicts).
    pub wait_sum_ns: u128,
    /// Requests that had to wait (Erlang C's probability of waiting, measured).
    pub waited: u64,
    /// Sum of service times, nanoseconds.
    pub service_sum_ns: u128,
    /// Tokens generated.
    pub output_tokens: u64,
    /// Requests whose GPU failed while serving them (they were served again).
    pub preempted: u64,
    /// Requests dropped because the owners took their GPUs back (part of the drops).
    pub withdrawn: u64,
    /// Requests refused because their prompt does not fit the context (part of the drops).
    pub too_long: u64,
    /// Time-to-first-token objective.
    slo_ttft: SimTime,
    /// Time-per-output-token objective.
    slo_tpot: SimTime,
    /// Current epoch's accumulators.
    pub epoch: EpochAcc,
    /// Finished epoch rows.
    pub rows: Vec<EpochRow>,
}

impl Recorder {
    /// A recorder for `regions` user regions and the two latency objectives.
    pub fn new(regions: usize, slo_ttft: SimTime, slo_tpot: SimTime) -> Self {
        Self {
            regions: vec![GroupStats::default(); regions],
            all: GroupStats::default(),
            wait_sum_ns: 0,
            waited: 0,
            service_sum_ns: 0,
            output_tokens: 0,
            preempted: 0,
            withdrawn: 0,
            too_long: 0,
            slo_ttft,
            slo_tpot,
            epoch: EpochAcc::default(),
            rows: Vec::new(),
        }
    }

    /// A request was issued; `measured` when after the warm-up.
    #[inline]
    pub fn arrived(&mut self, region: usize, measured: bool) {
        self.epoch.arrived += 1;
        if measured {
            self.regions[region].arrived += 1;
            self.all.arrived += 1;
        }
    }

    /// A request was turned away.
    #[inline]
    pub fn dropped(&mut self, region: usize, measured: bool) {
        self.epoch.dropped += 1;
        if measured {
            self.regions[region].dropped += 1;
            self.all.dropped += 1;
        }
    }

    /// A request was answered; `measured` when it was issued after the warm-up.
    #[inline]
    pub fn completed(&mut self, c: Completion, measured: bool) {
        self.epoch.completed += 1;
        self.epoch.e2e_sum_s += crate::engine::to_secs(c.e2e);
        if !measured {
            return;
        }
        let g = &mut self.regions[c.region];
        g.completed += 1;
        g.ttft.record(c.ttft);
        g.e2e.record(c.e2e);
        let ttft_ok = c.ttft <= self.slo_ttft;
        let tpot_ok = match c.tpot {
            Some(t) => {
                g.tpot.record(t);
                t <= self.slo_tpot
            }
            None => true,
        };
        g.met_ttft += u64::from(ttft_ok);
        g.met_tpot += u64::from(tpot_ok);
        g.met_both += u64::from(ttft_ok && tpot_ok);
        self.all.completed += 1;
        self.wait_sum_ns += u128::from(c.wait);
        self.waited += u64::from(c.wait > 0);
        self.service_sum_ns += u128::from(c.service);
        self.output_tokens += u64::from(c.output_tokens);
    }

    /// Counts and latency histograms of all users together.
    pub fn overall(&self) -> GroupStats {
        let mut all = self.all.clone();
        for g in &self.regions {
            all.merge_latencies(g);
        }
        all
    }

    /// Takes the current epoch's accumulators, starting a fresh epoch.
    pub fn take_epoch(&mut self) -> EpochAcc {
        std::mem::take(&mut self.epoch)
    }
}
