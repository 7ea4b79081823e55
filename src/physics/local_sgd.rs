//! Low-communication training (the DiLoCo family): each worker takes H inner steps on its
//! own data with its own optimizer, then the workers exchange pseudo-gradients (the change
//! of their weights since the last outer synchronisation) and apply the average with an
//! outer optimizer (Douillard et al. 2023, arXiv 2311.08105). A round is H inner steps and
//! one outer synchronisation:
//!
//! ```text
//! inner step = compute of the worker's share of the global batch
//!              + the worker's own data-parallel collectives over its host's interconnect
//! exchange   = ring all-reduce over W workers of N_trained x bits / 8 x sent fraction bytes
//!              (hierarchical: W hosts on the link between hosts, then an all-gather of the
//!               16-bit result inside a replicated host)
//! round      = H x inner step + exchange - min(overlap x exchange, H x inner step)
//! ```
//!
//! Hierarchical exchange (INTELLECT-1's PRIME: a local process group inside a node, a
//! global one across nodes; Jaghouar et al. 2024, arXiv 2412.01152) makes the workers
//! hosts: inside a host the job's data-parallel choice holds (replicated, or the states
//! sharded over the host's GPUs only), and every GPU of a host has the same pseudo-gradient
//! or its own shard of it, so the hosts' GPUs send disjoint shards over the host's link and
//! the ring across hosts moves the whole payload once per host. A flat ring makes every GPU
//! a worker holding all the states; with H = 1, 16 bits, nothing overlapped and the whole
//! payload sent it is the `every_step` data-parallel step exactly.
//!
//! Overlap (streaming DiLoCo, Douillard et al. 2025, arXiv 2501.18512) hides a share of
//! the exchange behind the next round's inner steps, at most as long as they take. The
//! payload shrinks with low-bit pseudo-gradients (INTELLECT-1: int8) and with a sent
//! fraction (DeMo, Peng et al. 2024, arXiv 2411.19870, sends a few components of each
//! tensor's transform).
//!
//! A worker that fails loses only its own inner steps since the last outer synchronisation
//! and rejoins from the last global state, which the other workers hold, at the first
//! synchronisation after its restart ([`run_local_sgd`]); a job of one worker restarts at
//! once from its last synchronisation. Nothing rolls the whole job back.

use rand::Rng;

use super::training::{JobTime, StepModel, ring_allgather_s, ring_allreduce_s};
use crate::core::dist::Dist;

/// Bits of the 16-bit (BF16) pseudo-gradient as computed, before any compression.
const FULL_BITS: f64 = 16.0;

/// The local-SGD settings of a job class, validated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LocalSgd {
    /// Inner steps between outer synchronisations (H).
    pub inner_steps: u32,
    /// Bits per exchanged pseudo-gradient value.
    pub payload_bits: f64,
    /// Share of the pseudo-gradient's values sent.
    pub sent_fraction: f64,
    /// Share of the exchange hidden behind the next round's inner steps.
    pub overlap: f64,
    /// Workers are hosts (exchange inside a host, then a ring across hosts) or GPUs.
    pub hierarchical: bool,
    /// Tokens needed to reach the same loss as every-step training, as a ratio (>= 1).
    pub token_ratio: f64,
    /// Growth of that ratio with each doubling of the workers: ratio x (1 + g)^log2(W).
    pub token_ratio_per_doubling: f64,
    /// Bytes per trained parameter of the outer optimizer's state on the workers' GPUs
    /// (the last global weights and the outer momentum, FP32: 8), sharded over a host's GPUs.
    pub outer_state_bytes_per_param: f64,
    /// A stated time of one outer synchronisation, s, instead of the computed exchange.
    pub sync_s: Option<f64>,
}

impl LocalSgd {
    /// Bytes one worker sends into the ring for `trained_params` trained parameters.
    pub fn payload_bytes(&self, trained_params: f64) -> f64 {
        trained_params * self.payload_bits / 8.0 * self.sent_fraction
    }

    /// The token ratio at `workers` workers.
    pub fn token_ratio_at(&self, workers: u32) -> f64 {
        self.token_ratio
            * (1.0 + self.token_ratio_per_doubling).powf(f64::from(workers.max(1)).log2())
    }
}

/// One round of local SGD on a placement: every worker's inner step (the slowest one paces
/// the round) and the exchange.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Round {
    /// The slowest worker's inner step: its GPUs, its share of the global batch, its own
    /// data-parallel collectives over its host's interconnect.
    pub inner: StepModel,
    /// Inner steps per round.
    pub inner_steps: u32,
    /// The outer synchronisation, s (all of it, hidden or not).
    pub exchange_s: f64,
    /// Share of the exchange hidden behind the next round's inner steps.
    pub overlap: f64,
}

impl Round {
    /// The exchange of `payload` bytes over `workers` workers on links of `bandwidth`
    /// bytes/s and `latency` s, and for replicated hosts of `host_gpus` GPUs the all-gather
    /// of the 16-bit result of `trained_params` parameters over `host_bandwidth`,
    /// `host_latency` inside the host.
    pub fn exchange_s(
        workers: u32,
        payload: f64,
        link: (f64, f64),
        host_gather: Option<(u32, f64, f64, f64)>,
    ) -> f64 {
        let across = ring_allreduce_s(workers, payload, link.0, link.1);
        let inside = host_gather.map_or(0.0, |(gpus, trained_params, bw, lat)| {
            ring_allgather_s(gpus, trained_params * FULL_BITS / 8.0, bw, lat)
        });
        across + inside
    }

    /// H inner steps, s.
    pub fn inner_s(&self) -> f64 {
        f64::from(self.inner_steps) * self.inner.step_s()
    }

    /// The exchange not hidden behind inner steps, s.
    pub fn exposed_s(&self) -> f64 {
        self.exchange_s - (self.overlap * self.exchange_s).min(self.inner_s())
    }

    /// One round, s.
    pub fn round_s(&self) -> f64 {
        self.inner_s() + self.exposed_s()
    }

    /// Share of the round spent computing.
    pub fn compute_share(&self) -> f64 {
        f64::from(self.inner_steps) * self.inner.compute_s() / self.round_s()
    }

    /// Share of the round the GPUs wait: the workers' own collectives and the exposed
    /// exchange (1 - compute share).
    pub fn idle_share(&self) -> f64 {
        (f64::from(self.inner_steps) * self.inner.comm_s() + self.exposed_s()) / self.round_s()
    }
}

/// Runs `rounds` rounds of `round_s` seconds each on `workers` workers, with failures of the
/// whole job (any worker's) drawn from `failures` between them. A failure at time t in the
/// round that began at s_k costs the failed worker its inner steps since s_k (`lost_s`,
/// (t - s_k) / W of the job's work) and its absence until the first round that begins at
/// least `restart_s` after t (`restart_s`, that time / W); with one worker the job restarts
/// from its last synchronisation after `restart_s`. `checkpoint` (interval of work, write
/// time) adds the writes of a job that checkpoints. `failed_at` hears each failure's time
/// since the job started; `max_failures` bounds a job that can never finish.
#[allow(clippy::too_many_arguments)]
pub fn run_local_sgd<R: Rng + ?Sized>(
    rounds: f64,
    round_s: f64,
    workers: u32,
    restart_s: f64,
    checkpoint: Option<(f64, f64)>,
    failures: &Dist,
    max_failures: u64,
    rng: &mut R,
    mut failed_at: impl FnMut(f64),
) -> Option<JobTime> {
    let work_s = rounds * round_s;
    let w = f64::from(workers.max(1));
    let mut t = JobTime::default();
    // Work done so far in job-seconds at full strength, wall time, and when the round in
    // progress began (rounds run back to back from `origin`).
    let (mut done, mut wall, mut origin) = (0.0, 0.0, 0.0);
    loop {
        let next = failures.sample(rng);
        if done + next >= work_s {
            t.useful_s = work_s;
            break;
        }
        done += next;
        wall += next;
        failed_at(wall);
        t.failures += 1;
        if t.failures > max_failures {
            return None;
        }
        let began = origin + ((wall - origin) / round_s).floor() * round_s;
        let lost = (wall - began) / w;
        let absent = if workers <= 1 {
            // The only worker restarts from its last synchronisation: the round begins again.
            wall += restart_s;
            origin = wall;
            done -= lost;
            restart_s
        } else {
            // The others go on; the failed worker's share of the work from `began` until it
            // rejoins at a synchronisation is made up later.
            let rejoin = origin + ((wall + restart_s - origin) / round_s).ceil() * round_s;
            let absent = (rejoin - wall) / w;
            done -= lost + absent;
            absent
        };
        t.lost_s += lost;
        t.restart_s += absent;
    }
    if let Some((interval_s, write_s)) = checkpoint {
        let writes = ((work_s / interval_s).ceil() - 1.0).max(0.0);
        t.checkpoint_s = writes * write_s;
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::diagnostics::Issues;
    use crate::core::dist::DistSpec;
    use crate::core::path::YamlPath;
    use crate::core::rng::Streams;
    use crate::physics::training::DataParallel;

    /// H = 100, int8, everything else at its default.
    fn sgd() -> LocalSgd {
        LocalSgd {
            inner_steps: 100,
            payload_bits: 8.0,
            sent_fraction: 1.0,
            overlap: 0.0,
            hierarchical: true,
            token_ratio: 1.0,
            token_ratio_per_doubling: 0.0,
            outer_state_bytes_per_param: 8.0,
            sync_s: None,
        }
    }

    fn constant(s: f64) -> Dist {
        DistSpec::Constant(s)
            .validate(&YamlPath::root(), &mut Issues::default())
            .expect("valid")
    }

    #[test]
    fn a_round_is_inner_steps_plus_the_exposed_exchange() {
        // 10B parameters trained on 14 hosts of 8 GPUs, 14 x 1,048,576 tokens per inner
        // step, H = 100, int8 pseudo-gradients, hosts sharded over a 50 GB/s, 5 us
        // interconnect, 400 TFLOP/s GPUs, 1 Gbit/s (125 MB/s) and 50 ms between hosts.
        // Inner step: compute 6 x 1e10 x 1,048,576 / (8 x 400e12) = 19.6608 s; the host's
        // FSDP collectives 3 x 7/8 x 20e9 / 50e9 + 3 x 7 x 5e-6 = 1.050105 s.
        // Exchange: 10 GB (8 bits) in a ring of 14: 2 x 13/14 x 1e10 / 1.25e8 + 2 x 13 x
        // 0.05 = 148.5714 + 1.3 s; nothing inside a sharded host.
        let sgd = sgd();
        let payload = sgd.payload_bytes(1e10);
        assert_eq!(payload, 1e10);
        let inner = StepModel {
            params: 1e10,
            flops_per_param_token: 6.0,
            tokens_per_step: 1_048_576.0,
            workers: 8,
            worker_flops: 400e12,
            gradient_bytes: 2e10,
            parallel: DataParallel::Sharded,
            link_bandwidth: 50e9,
            link_latency: 5e-6,
        };
        let exchange = Round::exchange_s(14, payload, (1.25e8, 0.05), None);
        let by_hand = 2.0 * 13.0 / 14.0 * 1e10 / 1.25e8 + 2.0 * 13.0 * 0.05;
        assert!((exchange - by_hand).abs() < 1e-9);
        let round = Round {
            inner,
            inner_steps: 100,
            exchange_s: exchange,
            overlap: 0.0,
        };
        let compute = 6.0 * 1e10 * 1_048_576.0 / (8.0 * 400e12);
        let comm = 3.0 * 7.0 / 8.0 * 2e10 / 50e9 + 3.0 * 7.0 * 5e-6;
        let total = 100.0 * (compute + comm) + by_hand;
        assert!(
            (round.round_s() - total).abs() < 1e-9,
            "{}",
            round.round_s()
        );
        assert!((round.compute_share() - 100.0 * compute / total).abs() < 1e-12);
        assert!((round.compute_share() + round.idle_share() - 1.0).abs() < 1e-12);
        // Streaming: half the exchange hides behind the inner steps.
        let streamed = Round {
            overlap: 0.5,
            ..round
        };
        assert!((streamed.round_s() - (total - by_hand / 2.0)).abs() < 1e-9);
        // A replicated host also gathers the 16-bit result inside: 7/8 x 2e10 / 50e9 + 7 x 5 us.
        let replicated =
            Round::exchange_s(14, payload, (1.25e8, 0.05), Some((8, 1e10, 50e9, 5e-6)));
        let gather = 7.0 / 8.0 * 2e10 / 50e9 + 7.0 * 5e-6;
        assert!((replicated - by_hand - gather).abs() < 1e-9);
    }

    #[test]
    fn overlap_hides_no_more_than_the_inner_steps_take() {
        let inner = StepModel {
            params: 1e9,
            flops_per_param_token: 6.0,
            tokens_per_step: 1e5,
            workers: 1,
            worker_flops: 1e14,
            gradient_bytes: 2e9,
            parallel: DataParallel::Replicated,
            link_bandwidth: 1e9,
            link_latency: 0.0,
        };
        // 10 inner steps of 6 s; an exchange of 100 s, all of it overlapped: 60 s hidden.
        let round = Round {
            inner,
            inner_steps: 10,
            exchange_s: 100.0,
            overlap: 1.0,
        };
        assert!((round.inner_s() - 60.0).abs() < 1e-9);
        assert!((round.exposed_s() - 40.0).abs() < 1e-9);
        assert!((round.round_s() - 100.0).abs() < 1e-9);
    }

    #[test]
    fn one_inner_step_of_sixteen_bits_on_a_flat_ring_is_the_every_step_step() {
        // 64 GPUs, each a worker holding all the states: its inner step computes 1/64 of
        // the batch and exchanges nothing; the outer step all-reduces the 16-bit gradients
        // of every parameter over the same ring as data-parallel training does.
        let every = StepModel {
            params: 8e9,
            flops_per_param_token: 6.0,
            tokens_per_step: 4e6,
            workers: 64,
            worker_flops: 600e12,
            gradient_bytes: 16e9,
            parallel: DataParallel::Replicated,
            link_bandwidth: 1.25e8,
            link_latency: 0.02,
        };
        let sgd = LocalSgd {
            inner_steps: 1,
            payload_bits: 16.0,
            hierarchical: false,
            ..sgd()
        };
        let round = Round {
            inner: StepModel {
                tokens_per_step: every.tokens_per_step / 64.0,
                workers: 1,
                ..every
            },
            inner_steps: 1,
            exchange_s: Round::exchange_s(64, sgd.payload_bytes(8e9), (1.25e8, 0.02), None),
            overlap: 0.0,
        };
        assert_eq!(round.round_s(), every.step_s());
        assert_eq!(round.compute_share(), every.compute_share());
    }

    #[test]
    fn the_token_ratio_grows_per_doubling_of_the_workers() {
        let sgd = LocalSgd {
            token_ratio: 1.1,
            token_ratio_per_doubling: 0.05,
            ..sgd()
        };
        // 8 workers: three doublings, 1.1 x 1.05^3 = 1.2733875.
        assert!((sgd.token_ratio_at(8) - 1.1 * 1.05f64.powi(3)).abs() < 1e-12);
        assert_eq!(sgd.token_ratio_at(1), 1.1);
    }

    #[test]
    fn a_failed_worker_loses_only_its_own_steps_since_the_last_synchronisation() {
        // 10 rounds of 100 s on 4 workers, a failure every 250 s of progress, 30 s restarts.
        // Failure at 250 s: the worker's 50 s of the round begun at 200 s are lost (50/4 of
        // the job's work) and it rejoins at the synchronisation at 300 s (50/4 absent).
        // At 500 s (a round's start) nothing is lost; it rejoins at 600 s (100/4). The same
        // repeats at 750 s and 1,000 s; the job ends at 1,000 + 4 x 25 = 1,100 s.
        let mut rng = Streams::new(1, 0).stream("test");
        let mut at = Vec::new();
        let t = run_local_sgd(
            10.0,
            100.0,
            4,
            30.0,
            None,
            &constant(250.0),
            100,
            &mut rng,
            |s| at.push(s),
        )
        .expect("finishes");
        assert_eq!(at, [250.0, 500.0, 750.0, 1000.0]);
        assert_eq!(t.lost_s, 25.0);
        assert_eq!(t.restart_s, 75.0);
        assert_eq!(t.wall_s(), 1100.0);
        // One worker: each failure loses the 50 s since its last synchronisation and
        // restarts there after 30 s: 1,000 + 4 x (50 + 30) = 1,320 s.
        let t = run_local_sgd(
            10.0,
            100.0,
            1,
            30.0,
            None,
            &constant(250.0),
            100,
            &mut rng,
            |_| {},
        )
        .expect("finishes");
        assert_eq!((t.failures, t.wall_s()), (4, 1320.0));
        // Every-step training on the same four workers rolls the whole job back instead:
        // with (free) checkpoints every 100 s of work, each failure loses 50 s of all of
        // them and the 30 s restart stops them all: 1,000 + 4 x 80 = 1,320 s, against the
        // 1,100 s above.
        let r = crate::physics::training::Recovery {
            interval_s: 100.0,
            checkpoint_s: 0.0,
            restart_s: 30.0,
        };
        let failures = constant(250.0);
        let every = crate::physics::training::run_job(1000.0, &r, &failures, 100, &mut rng, |_| {})
            .expect("finishes");
        assert_eq!((every.lost_s, every.wall_s()), (200.0, 1320.0));
    }

    #[test]
    fn a_job_that_fails_faster_than_it_progresses_gives_up() {
        let mut rng = Streams::new(1, 0).stream("test");
        let t = run_local_sgd(
            10.0,
            100.0,
            1,
            30.0,
            None,
            &constant(10.0),
            1000,
            &mut rng,
            |_| {},
        );
        assert_eq!(t, None);
    }
}
