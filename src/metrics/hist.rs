//! Latency distributions in constant memory: an HDR histogram (3 significant digits, so
//! quantiles are within 0.1%) plus the exact sum for the mean.

use hdrhistogram::Histogram;

use crate::core::engine::SimTime;

/// Smallest and largest recordable latency, microseconds (1 us to about 11.6 days; larger
/// values are clamped to the top and counted in [`LatencyHist::clamped`]).
const LOW_US: u64 = 1;
const HIGH_US: u64 = 1_000_000_000_000;
/// Significant decimal digits: quantiles within 0.1%.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A latency histogram.
#[derive(Clone, Debug)]
pub struct LatencyHist {
    hist: Histogram<u64>,
    sum_ns: u128,
    count: u64,
    clamped: u64,
}

impl Default for LatencyHist {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHist {
    /// An empty histogram.
    pub fn new() -> Self {
        // The bounds are constants that hdrhistogram accepts; a failure here is a bug.
        let hist = Histogram::new_with_bounds(LOW_US, HIGH_US, SIGNIFICANT_DIGITS)
            .expect("valid histogram bounds");
        Self {
            hist,
            sum_ns: 0,
            count: 0,
            clamped: 0,
        }
    }

    /// Records one latency.
    #[inline]
    pub fn record(&mut self, t: SimTime) {
        let us = t / 1_000;
        if us > HIGH_US {
            self.clamped += 1;
        }
        self.hist.saturating_record(us.clamp(LOW_US, HIGH_US));
        self.sum_ns += u128::from(t);
        self.count += 1;
    }

    /// Bytes of a histogram's counts on the heap, for memory estimates, by hdrhistogram's
    /// own sizing for these bounds (pinned by a test against a real histogram). Computed,
    /// not measured on one: a 248 KiB allocation freed at once raises glibc's mmap
    /// threshold, and the replications' histograms would then stay in its heaps (6 MiB more
    /// at the peak of a quickstart run, measured).
    pub fn heap_bytes() -> usize {
        // Values below 2 x 10^digits are exact; each bucket doubles the range of the last.
        let exact = 2 * 10u64.pow(u32::from(SIGNIFICANT_DIGITS));
        let sub_buckets = 1u64 << (u64::BITS - (exact - 1).leading_zeros());
        let mut untrackable = sub_buckets << LOW_US.ilog2();
        let mut buckets = 1;
        while untrackable <= HIGH_US {
            untrackable <<= 1;
            buckets += 1;
        }
        (buckets + 1) * (sub_buckets / 2) as usize * size_of::<u64>()
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Values above the top of the range.
    pub fn clamped(&self) -> u64 {
        self.clamped
    }

    /// Exact mean in seconds (None when empty).
    pub fn mean_s(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_ns as f64 / 1e9 / self.count as f64)
    }

    /// Adds every value of `other` (histograms of regions merge into the overall one).
    pub fn merge(&mut self, other: &LatencyHist) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.hist.add(&other.hist);
        self.sum_ns += other.sum_ns;
        self.count += other.count;
        self.clamped += other.clamped;
    }

    /// Share of values at most `t` (within the histogram's 0.1% resolution); None when empty.
    pub fn share_at_most(&self, t: SimTime) -> Option<f64> {
        (self.count > 0).then(|| self.hist.quantile_below((t / 1_000).clamp(LOW_US, HIGH_US)))
    }

    /// Quantile `q` (0..=1) in seconds, within 0.1% (None when empty).
    pub fn quantile_s(&self, q: f64) -> Option<f64> {
        (self.count > 0).then(|| self.hist.value_at_quantile(q) as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counts_take_what_hdrhistogram_allocates() {
        // 2,048 sub-buckets (2,000 values exact at 3 digits), 30 buckets to reach 10^12 us:
        // (30 + 1) x 1,024 counts of 8 bytes.
        assert_eq!(LatencyHist::heap_bytes(), 31 * 1024 * 8);
        assert_eq!(
            LatencyHist::heap_bytes(),
            LatencyHist::new().hist.distinct_values() * size_of::<u64>()
        );
    }

    #[test]
    fn quantiles_are_within_a_tenth_of_a_percent() {
        let mut h = LatencyHist::new();
        for ms in 1..=1000u64 {
            h.record(ms * 1_000_000); // 1 ms .. 1 s
        }
        let p50 = h.quantile_s(0.5).unwrap_or_default();
        let p99 = h.quantile_s(0.99).unwrap_or_default();
        assert!((p50 - 0.5).abs() <= 0.5 * 1e-3, "{p50}");
        assert!((p99 - 0.99).abs() <= 0.99 * 1e-3, "{p99}");
        assert!((h.mean_s().unwrap_or_default() - 0.5005).abs() < 1e-12);
        assert!((h.share_at_most(250_000_000).unwrap_or_default() - 0.25).abs() < 1e-3);
        assert_eq!(h.count(), 1000);
    }

    #[test]
    fn merging_equals_recording_everything_in_one() {
        let (mut a, mut b, mut all) = (LatencyHist::new(), LatencyHist::new(), LatencyHist::new());
        for i in 1..=500u64 {
            let t = i * i * 1_000;
            if i % 3 == 0 {
                a.record(t)
            } else {
                b.record(t)
            }
            all.record(t);
        }
        a.merge(&b);
        assert_eq!(a.count(), all.count());
        assert_eq!(a.mean_s(), all.mean_s());
        for q in [0.1, 0.5, 0.9, 0.99] {
            assert_eq!(a.quantile_s(q), all.quantile_s(q));
        }
    }

    #[test]
    fn empty_has_no_statistics_and_huge_values_are_counted_as_clamped() {
        let mut h = LatencyHist::new();
        assert_eq!(h.mean_s(), None);
        assert_eq!(h.quantile_s(0.5), None);
        h.record(u64::MAX);
        assert_eq!(h.clamped(), 1);
    }
}
