//! What verifying inference costs, method by method, in GPU time, chain fees, capital and
//! the time until a result counts as verified.
//!
//! Two methods are simulated: [`Method::Reexecute`] and [`Method::SpotCheck`] run requests
//! again on other groups as real requests (shadow requests that use GPUs and are paid for),
//! so their cost is already in what users pay. The other three are accounted, not
//! simulated: their work runs on verifiers' or provers' GPUs outside the simulated groups,
//! charged at the network's own price for the work (`W`, the window's inference fees: what
//! users paid for the answers' GPU time), and the proofs reach the chain one of two ways
//! ([`OnChain`]): as one Merkle root of them every `e` seconds, a transaction of `R` USD each
//! (the default: the validators keep the proofs, as rollups post state roots), or every
//! proof's bytes at `p` USD per byte. With `N` answers and `T` output tokens in a window of
//! `D` seconds, chain fees are `D R / e` with roots, or as below with proofs:
//!
//! | method | GPU time, USD | chain fees, USD | capital, USD | latency until verified |
//! |---|---|---|---|---|
//! | `fingerprint` | `f W` | `T b p` | 0 | `f s` |
//! | `optimistic` | `d W` | `N c p` | `m W r w / year` | `w` |
//! | `zk` | `k W` | `N B p` | 0 | `L` |
//!
//! - `fingerprint` (TOPLOC, Ong et al., ICML 2025): a validator recomputes the activations'
//!   hashes at a fraction `f` of the work (default 0.01: validation up to ~100x faster than
//!   the inference) and each answer's proof, `b` bytes per output token (default 258 bytes
//!   per 32 tokens), is settled on chain; it is verified `f s` after the answer (`s`: the
//!   mean time an answer spent in its replica).
//! - `optimistic` (opML): each result is committed on chain (`c` bytes, a 32-byte hash) and
//!   final after a challenge window `w`; challengers re-execute a share `d` of the results,
//!   which is the probability that a false one is detected, and a detected one loses its
//!   bond. The bond is `m` times the result's fee, by default `1 / d`: the smallest bond that
//!   makes cheating lose money (skipping the work saves at most the fee, and is caught with
//!   probability `d`, so `d m >= 1`). Bonds are locked for the window, so they cost the
//!   return `r` a year that the money could earn: `m W r w / year` (by Little's law, the
//!   bonds locked at once are `m` times the fees of a window `w`).
//! - `zk` (zkLLM, Sun et al., CCS 2024): proving costs `k` times the work and takes `L`,
//!   and each answer's proof (`B` bytes) is settled on chain.
//!
//! The provider whose answer is checked bears its verification: a provider is paid only for
//! verified work, so these costs come out of its income (in proportion to its inference
//! fees), and the viability table counts them in the network's cost of verified work.

use std::fmt;

/// A verification method with its parameters, validated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Each request run `redundancy` times on different groups, and a share `spot` once
    /// more: simulated.
    Reexecute {
        /// Executions per request (1: none again).
        redundancy: u32,
        /// Share of requests run once more.
        spot: f64,
    },
    /// A sampled share of requests run again on another group: simulated.
    SpotCheck {
        /// Share of requests run again.
        share: f64,
    },
    /// Proof of inference by activation fingerprints (TOPLOC): accounted.
    Fingerprint {
        /// Validator's cost as a fraction of the work.
        validator_fraction: f64,
        /// Proof bytes per output token.
        proof_bytes_per_token: f64,
        /// How the proofs or commitments reach the chain.
        chain: OnChain,
    },
    /// Optimistic verification with a challenge window (opML): accounted.
    Optimistic {
        /// Challenge window, s.
        window_s: f64,
        /// Share of results challengers re-execute: the detection probability.
        detection: f64,
        /// Bond per result, as a multiple of its fee.
        bond_multiple: f64,
        /// Return per year the bonded money forgoes.
        capital_per_year: f64,
        /// Bytes committed on chain per result.
        commitment_bytes: f64,
        /// How the proofs or commitments reach the chain.
        chain: OnChain,
    },
    /// Zero-knowledge proofs of inference (zkLLM): accounted.
    Zk {
        /// Proving cost as a multiple of the work.
        proving_multiple: f64,
        /// Time to prove one answer, s.
        proof_latency_s: f64,
        /// Proof bytes per answer.
        proof_bytes: f64,
        /// How the proofs or commitments reach the chain.
        chain: OnChain,
    },
}

/// The work of a measurement window that verification checks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Work {
    /// What users paid for the answers' GPU time, USD (`W`).
    pub fees_usd: f64,
    /// Answers (`N`).
    pub answers: f64,
    /// Output tokens of the answers (`T`).
    pub output_tokens: f64,
    /// Mean time an answer spent in its replica, s (`s`).
    pub service_s: f64,
    /// Length of the window, s.
    pub window_s: f64,
}

/// How proofs and commitments reach the chain.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OnChain {
    /// Every proof's or commitment's bytes, at `usd_per_byte` (`p`).
    Proofs {
        /// USD per byte settled on chain.
        usd_per_byte: f64,
    },
    /// One Merkle root of all of them every `every_s`, in a transaction of `usd_per_root`;
    /// the validators keep the proofs, and a disputed answer's proof is checked against the
    /// root.
    Root {
        /// Time between roots, s.
        every_s: f64,
        /// What settling one root costs, USD.
        usd_per_root: f64,
    },
}

impl OnChain {
    /// What settling `bytes` of proofs or commitments made over `window_s` costs, USD.
    pub fn usd(&self, bytes: f64, window_s: f64) -> f64 {
        match *self {
            OnChain::Proofs { usd_per_byte } => bytes * usd_per_byte,
            OnChain::Root {
                every_s,
                usd_per_root,
            } => window_s / every_s * usd_per_root,
        }
    }
}

/// What verifying a window's work costs (the module's table).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cost {
    /// Verifiers' or provers' GPU time at the network's price, USD.
    pub gpu_usd: f64,
    /// Proof and commitment bytes settled on chain, USD.
    pub chain_usd: f64,
    /// Return forgone on bonds locked for the challenge window, USD.
    pub capital_usd: f64,
    /// Time from an answer until it counts as verified, s.
    pub latency_s: f64,
}

impl Cost {
    /// GPU time, chain fees and capital together, USD.
    pub fn total_usd(&self) -> f64 {
        self.gpu_usd + self.chain_usd + self.capital_usd
    }
}

/// Seconds in a year of 365.25 days, for the return on bonds.
const SECONDS_PER_YEAR: f64 = 365.25 * 24.0 * 3600.0;

impl Method {
    /// Runs of each request beyond the first: (executions per request, share run once
    /// more), as the simulation makes them; (1, 0) for the accounted methods.
    pub fn reruns(&self) -> (u32, f64) {
        match *self {
            Method::Reexecute { redundancy, spot } => (redundancy, spot),
            Method::SpotCheck { share } => (1, share),
            _ => (1, 0.0),
        }
    }

    /// What verifying `w` costs by the module's table; None for the simulated methods,
    /// whose runs are paid for as requests.
    pub fn cost(&self, w: &Work) -> Option<Cost> {
        match *self {
            Method::Reexecute { .. } | Method::SpotCheck { .. } => None,
            Method::Fingerprint {
                validator_fraction: f,
                proof_bytes_per_token: b,
                chain,
            } => Some(Cost {
                gpu_usd: f * w.fees_usd,
                chain_usd: chain.usd(w.output_tokens * b, w.window_s),
                capital_usd: 0.0,
                latency_s: f * w.service_s,
            }),
            Method::Optimistic {
                window_s,
                detection,
                bond_multiple,
                capital_per_year,
                commitment_bytes,
                chain,
            } => Some(Cost {
                gpu_usd: detection * w.fees_usd,
                chain_usd: chain.usd(w.answers * commitment_bytes, w.window_s),
                capital_usd: bond_multiple * w.fees_usd * capital_per_year * window_s
                    / SECONDS_PER_YEAR,
                latency_s: window_s,
            }),
            Method::Zk {
                proving_multiple,
                proof_latency_s,
                proof_bytes,
                chain,
            } => Some(Cost {
                gpu_usd: proving_multiple * w.fees_usd,
                chain_usd: chain.usd(w.answers * proof_bytes, w.window_s),
                capital_usd: 0.0,
                latency_s: proof_latency_s,
            }),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Reexecute { .. } => "reexecute",
            Method::SpotCheck { .. } => "spot_check",
            Method::Fingerprint { .. } => "fingerprint",
            Method::Optimistic { .. } => "optimistic",
            Method::Zk { .. } => "zk",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A window of $100 of fees, 1,000 answers of 200 output tokens, 2 s in a replica each.
    const WORK: Work = Work {
        fees_usd: 100.0,
        answers: 1000.0,
        output_tokens: 200_000.0,
        service_s: 2.0,
        window_s: 7200.0,
    };

    #[test]
    fn simulated_methods_cost_nothing_beyond_their_runs() {
        let r = Method::Reexecute {
            redundancy: 2,
            spot: 0.1,
        };
        assert_eq!((r.cost(&WORK), r.reruns()), (None, (2, 0.1)));
        let s = Method::SpotCheck { share: 0.05 };
        assert_eq!((s.cost(&WORK), s.reruns()), (None, (1, 0.05)));
    }

    #[test]
    fn fingerprint_costs_a_fraction_of_the_work_and_its_proof_bytes() {
        // TOPLOC's figures: f = 1/100, 258 bytes per 32 tokens, at $1e-4 a byte.
        let m = Method::Fingerprint {
            validator_fraction: 0.01,
            proof_bytes_per_token: 258.0 / 32.0,
            chain: OnChain::Proofs { usd_per_byte: 1e-4 },
        };
        let c = m.cost(&WORK).expect("accounted");
        // GPU: 0.01 x $100 = $1; chain: 200,000 tokens x 8.0625 bytes x $1e-4 = $161.25;
        // verified 0.01 x 2 s = 0.02 s after the answer.
        assert!((c.gpu_usd - 1.0).abs() < 1e-12);
        assert!((c.chain_usd - 161.25).abs() < 1e-9);
        assert_eq!(c.capital_usd, 0.0);
        assert!((c.latency_s - 0.02).abs() < 1e-15);
        assert!((c.total_usd() - 162.25).abs() < 1e-9);
    }

    #[test]
    fn optimistic_costs_challenges_commitments_and_the_bonds_capital() {
        // A 7-day window, every result challenged (d = 1), a bond of 1 x the fee, 4.5% a
        // year, 32-byte commitments at $1e-4 a byte.
        let week = 7.0 * 86_400.0;
        let m = Method::Optimistic {
            window_s: week,
            detection: 1.0,
            bond_multiple: 1.0,
            capital_per_year: 0.045,
            commitment_bytes: 32.0,
            chain: OnChain::Proofs { usd_per_byte: 1e-4 },
        };
        let c = m.cost(&WORK).expect("accounted");
        // GPU: 1 x $100; chain: 1,000 x 32 x 1e-4 = $3.2; capital: 1 x $100 x 0.045 x
        // 7 / 365.25 = $0.086242...
        assert!((c.gpu_usd - 100.0).abs() < 1e-12);
        assert!((c.chain_usd - 3.2).abs() < 1e-12);
        assert!((c.capital_usd - 100.0 * 0.045 * 7.0 / 365.25).abs() < 1e-12);
        assert_eq!(c.latency_s, week);
    }

    #[test]
    fn zk_costs_a_multiple_of_the_work_and_its_proofs() {
        let m = Method::Zk {
            proving_multiple: 5000.0,
            proof_latency_s: 900.0,
            proof_bytes: 200_000.0,
            chain: OnChain::Proofs { usd_per_byte: 1e-4 },
        };
        let c = m.cost(&WORK).expect("accounted");
        // GPU: 5,000 x $100 = $500,000; chain: 1,000 proofs x 200 kB x 1e-4 = $20,000.
        assert!((c.gpu_usd - 500_000.0).abs() < 1e-6);
        assert!((c.chain_usd - 20_000.0).abs() < 1e-6);
        assert_eq!((c.capital_usd, c.latency_s), (0.0, 900.0));
        assert_eq!(m.to_string(), "zk");
    }

    #[test]
    fn a_root_an_hour_costs_its_transactions_whatever_the_proofs_weigh() {
        // A 2-hour window, a root an hour at $0.15: $0.30 of chain fees, for TOPLOC's proofs
        // of 200,000 tokens (1.6 MB, $161.25 as calldata) or zkLLM's of 1,000 answers alike.
        let root = OnChain::Root {
            every_s: 3600.0,
            usd_per_root: 0.15,
        };
        assert!((root.usd(1.6e6, WORK.window_s) - 0.30).abs() < 1e-12);
        let m = Method::Zk {
            proving_multiple: 5000.0,
            proof_latency_s: 900.0,
            proof_bytes: 200_000.0,
            chain: root,
        };
        let c = m.cost(&WORK).expect("accounted");
        assert!((c.chain_usd - 0.30).abs() < 1e-12);
        assert_eq!(c.gpu_usd, 500_000.0);
    }
}
