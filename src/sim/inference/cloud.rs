//! The cloud reference for inference, sized two ways (`cloud.sizing`): right-sized, the
//! fewest cloud GPUs that meet the network's objectives at its attainment for the demand it
//! served, paid per provisioned GPU-hour; and matched-batch, the same requests on cloud
//! replicas at the network's mean batch, paid per busy GPU-hour. Both use the requests as
//! served (prompt and output means of the measured requests answered).

use crate::core::engine::{SimTime, to_secs};
use crate::core::units::SECONDS_PER_HOUR;
use crate::metrics::Recorder;
use crate::physics::sizing::{objective_batch, seconds_by_hour_of_day, servers_for};
use crate::scenario::defaults::CLOUD_MIN_MISS;
use crate::scenario::{Cloud, CloudServing, Provisioned};

/// The right-sized cloud for a run's demand.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct RightSized {
    /// USD per million output tokens.
    pub(super) usd_per_million_tokens: f64,
    /// GPUs provisioned, averaged over the window.
    pub(super) gpus: f64,
    /// The batch its replicas run at.
    pub(super) batch: u32,
    /// Whether a replica meets both objectives at all.
    pub(super) meets: bool,
}

/// Mean prompt and output tokens of the measured requests answered (None: none answered).
pub(super) fn served_means(rec: &Recorder) -> Option<(f64, f64)> {
    let n = rec.all.completed;
    (n > 0).then(|| {
        let n = n as f64;
        (rec.prompt_tokens as f64 / n, rec.output_tokens as f64 / n)
    })
}

/// USD per million output tokens of the served requests on cloud replicas at `batch`.
pub(super) fn matched_batch(cloud: &Cloud, rec: &Recorder, batch: f64) -> Option<f64> {
    let (prompt, output) = served_means(rec)?;
    cloud.usd_per_million_tokens(prompt, output, batch)
}

/// The right-sized cloud for the measured requests answered in `[warmup, horizon]`, whose
/// share meeting both objectives was `attainment`; `slo` is (TTFT, TPOT) in seconds.
pub(super) fn right_sized(
    cloud: &Cloud,
    rec: &Recorder,
    window: (SimTime, SimTime),
    slo: (f64, f64),
    attainment: f64,
) -> Option<RightSized> {
    let (prompt, output) = served_means(rec)?;
    let miss = (1.0 - cloud.attainment.unwrap_or(attainment)).max(CLOUD_MIN_MISS);
    let (slo_ttft, slo_tpot) = slo;
    // A server: its GPUs, its slots, a slot's mean holding time, the slack its queue may
    // use under the time-to-first-token objective, and whether it meets the objectives.
    let (gpus_per_server, slots, hold_s, slack_s, meets) = match cloud.serving {
        CloudServing::Batched(s) => {
            let o = objective_batch(&s, prompt, output, slo_ttft, slo_tpot);
            (s.tp, o.batch, o.hold_s(), slo_ttft - o.prefill_s, o.meets)
        }
        // One request per GPU: the answer is the time to first token.
        CloudServing::Drawn(mean) => (1, 1, mean, slo_ttft - mean, mean <= slo_ttft),
        CloudServing::Unfit => return None,
    };
    let secs = seconds_by_hour_of_day(to_secs(window.0), to_secs(window.1));
    let servers: Vec<u32> = secs
        .iter()
        .zip(&rec.completed_by_hour)
        .map(|(&t, &n)| {
            let lambda = if t > 0.0 { n as f64 / t } else { 0.0 };
            servers_for(lambda, hold_s, slots, slack_s, miss)
        })
        .collect();
    let peak = servers.iter().copied().max().unwrap_or(0);
    let server_s: f64 = match cloud.provisioned {
        Provisioned::Hourly => servers
            .iter()
            .zip(&secs)
            .map(|(&n, &t)| f64::from(n) * t)
            .sum(),
        Provisioned::Peak => f64::from(peak) * secs.iter().sum::<f64>(),
    };
    let gpu_h = server_s * f64::from(gpus_per_server) / SECONDS_PER_HOUR;
    let window_h = secs.iter().sum::<f64>() / SECONDS_PER_HOUR;
    let tokens = rec.output_tokens as f64;
    (tokens > 0.0 && window_h > 0.0).then(|| RightSized {
        usd_per_million_tokens: cloud.price_usd_per_gpu_hour * gpu_h / tokens * 1e6,
        gpus: gpu_h / window_h,
        batch: slots,
        meets,
    })
}
