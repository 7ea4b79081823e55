//! The token's `verification`: the method, its parameters with their defaults filled in
//! place (so the resolved scenario repeats the run), and every impossible value named at
//! its path.

use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::economics::verification::{Method, OnChain};
use crate::scenario::defaults;
use crate::scenario::raw::{RawOnChain, RawToken, RawVerification, RawVerificationMethod};

/// The verification method of the token at `at`; `groups` provider groups can serve (None:
/// unknown, after another problem), and each run again needs another. Without a token,
/// nothing is verified.
pub(super) fn validate(
    t: Option<&mut RawToken>,
    groups: Option<usize>,
    at: &YamlPath,
    issues: &mut Issues,
) -> Method {
    let Some(t) = t else {
        return Method::Reexecute {
            redundancy: defaults::REDUNDANCY,
            spot: defaults::SPOT_CHECK_RATE,
        };
    };
    let v = &mut t.verification;
    issues.within(
        &at.key("spot_check_rate"),
        v.spot_check_rate,
        0.0,
        1.0,
        "a share of requests, e.g. 0.05",
    );
    let method = v.method.unwrap_or_default();
    if method != RawVerificationMethod::Reexecute {
        not_reexecuting(v, method, at, issues);
    }
    match method {
        RawVerificationMethod::Reexecute | RawVerificationMethod::SpotCheck => {
            reexecution(v, groups, at, issues);
            let spot = v.spot_check_rate;
            if method == RawVerificationMethod::SpotCheck {
                Method::SpotCheck { share: spot }
            } else {
                Method::Reexecute {
                    redundancy: v.redundancy.max(1),
                    spot,
                }
            }
        }
        RawVerificationMethod::Fingerprint => {
            let f = fill(
                &mut v.validator_cost_fraction,
                defaults::FINGERPRINT_VALIDATOR_FRACTION,
            );
            let b = fill(
                &mut v.proof_bytes_per_token,
                defaults::FINGERPRINT_PROOF_BYTES_PER_TOKEN,
            );
            let fix = "the validator's cost as a fraction of the work, e.g. 0.01 (TOPLOC)";
            issues.non_negative(&at.key("validator_cost_fraction"), f, fix);
            let fix = "proof bytes per output token, e.g. 8.0625 (TOPLOC: 258 per 32)";
            issues.non_negative(&at.key("proof_bytes_per_token"), b, fix);
            Method::Fingerprint {
                validator_fraction: f,
                proof_bytes_per_token: b,
                chain: chain(v, at, issues),
            }
        }
        RawVerificationMethod::Optimistic => optimistic(v, at, issues),
        RawVerificationMethod::Zk => {
            let k = fill(&mut v.proving_cost_multiple, defaults::ZK_PROVING_MULTIPLE);
            let l = fill(&mut v.proof_latency_s, defaults::ZK_PROOF_LATENCY_S);
            let b = fill(&mut v.proof_bytes, defaults::ZK_PROOF_BYTES);
            let fix = "proving cost as a multiple of the work, 0 or more, e.g. 5270 (zkLLM)";
            issues.non_negative(&at.key("proving_cost_multiple"), k, fix);
            let fix = "seconds until a proof exists, e.g. 900 (zkLLM, 13B)";
            issues.non_negative(&at.key("proof_latency_s"), l, fix);
            let fix = "proof bytes per answer, e.g. 200000 (zkLLM)";
            issues.non_negative(&at.key("proof_bytes"), b, fix);
            Method::Zk {
                proving_multiple: k,
                proof_latency_s: l,
                proof_bytes: b,
                chain: chain(v, at, issues),
            }
        }
    }
}

/// The value given, or `default` filled in place.
fn fill(field: &mut Option<f64>, default: f64) -> f64 {
    *field.get_or_insert(default)
}

/// How proofs reach the chain, the defaults of the way chosen filled in place.
fn chain(v: &mut RawVerification, at: &YamlPath, issues: &mut Issues) -> OnChain {
    match *v.on_chain.get_or_insert(RawOnChain::Root) {
        RawOnChain::Root => {
            let h = fill(&mut v.root_interval_h, defaults::PROOF_ROOT_INTERVAL_H);
            let usd = fill(&mut v.root_usd, defaults::PROOF_ROOT_USD);
            let fix = "hours between the roots settled, above 0, e.g. 1";
            issues.positive(&at.key("root_interval_h"), h, fix);
            let fix = "USD per root settled, e.g. 0.1463 (an Ethereum transaction at 2 gwei)";
            issues.non_negative(&at.key("root_usd"), usd, fix);
            OnChain::Root {
                every_s: h * 3600.0,
                usd_per_root: usd,
            }
        }
        RawOnChain::Proofs => {
            let kb = fill(&mut v.chain_usd_per_kb, defaults::PROOF_CHAIN_USD_PER_KB);
            let fix = "USD per kB settled on chain, e.g. 0.1088 (Ethereum calldata at 2 gwei)";
            issues.non_negative(&at.key("chain_usd_per_kb"), kb, fix);
            OnChain::Proofs {
                usd_per_byte: kb / 1000.0,
            }
        }
    }
}

/// Redundancy and spot checks: each run again needs another group that can serve.
fn reexecution(v: &RawVerification, groups: Option<usize>, at: &YamlPath, issues: &mut Issues) {
    let extra = v.redundancy.saturating_sub(1) + u32::from(v.spot_check_rate > 0.0);
    let fix = "1 runs each request once; 2 runs it twice on different groups";
    if issues.at_least_one(&at.key("redundancy"), v.redundancy, fix)
        && let Some(groups) = groups
        && extra as usize >= groups.max(1)
    {
        issues.push(
            &at.key("redundancy"),
            format!(
                "each request needs {} different groups, but {groups} can serve",
                extra + 1
            ),
            "lower redundancy (or spot checks), or add provider groups",
        );
    }
}

/// Settings of re-execution given with a method that does not use them, or missing where
/// `spot_check` needs them.
fn not_reexecuting(
    v: &RawVerification,
    method: RawVerificationMethod,
    at: &YamlPath,
    issues: &mut Issues,
) {
    if v.redundancy != defaults::REDUNDANCY {
        issues.push(
            &at.key("redundancy"),
            format!(
                "redundancy {} is given, but only `reexecute` runs each request several times",
                v.redundancy
            ),
            "leave redundancy out, or use method: reexecute",
        );
    }
    let spot = v.spot_check_rate > 0.0;
    match method {
        RawVerificationMethod::SpotCheck if !spot => issues.push(
            &at.key("spot_check_rate"),
            "spot_check re-runs a share of requests, but the share is 0 or not given",
            "give the share of requests to run again, e.g. spot_check_rate: 0.05",
        ),
        RawVerificationMethod::SpotCheck => {}
        _ if spot => issues.push(
            &at.key("spot_check_rate"),
            "spot checks run requests again, which this method does not",
            "leave spot_check_rate out, or use method: spot_check",
        ),
        _ => {}
    }
}

/// `optimistic`: the challenge window, detection, bond and its capital, commitments.
fn optimistic(v: &mut RawVerification, at: &YamlPath, issues: &mut Issues) -> Method {
    let w = fill(
        &mut v.challenge_window_h,
        defaults::OPTIMISTIC_CHALLENGE_WINDOW_H,
    );
    let d = fill(
        &mut v.detection_probability,
        defaults::OPTIMISTIC_DETECTION_PROBABILITY,
    );
    let fix = "hours a result can be challenged, e.g. 168 (7 days)";
    issues.non_negative(&at.key("challenge_window_h"), w, fix);
    let fix = "the share of results challengers re-execute, above 0 and at most 1, e.g. 1";
    let detects = issues.within(&at.key("detection_probability"), d, 0.0, 1.0, fix);
    if detects && d == 0.0 {
        issues.push(
            &at.key("detection_probability"),
            "a detection probability of 0 catches no false result, so no bond deters one",
            fix,
        );
    }
    // The smallest deterring bond, 1 / d, unless given.
    let m = match v.bond_multiple {
        Some(m) => m,
        None if d > 0.0 && d.is_finite() => fill(&mut v.bond_multiple, 1.0 / d),
        None => 0.0,
    };
    let fix = "the bond as a multiple of the result's fee, 0 or more, e.g. 1";
    if issues.non_negative(&at.key("bond_multiple"), m, fix)
        && d > 0.0
        && d <= 1.0
        && m * d < 1.0 - 1e-12
    {
        // Providers are simulated honest: a bond too small to deter cheating would only
        // make the method look cheaper than it can be.
        issues.push(
            &at.key("bond_multiple"),
            format!(
                "a bond of {m} times the fee, caught with probability {d}, does not deter cheating (skipping the work saves the fee; it loses bond x probability = {})",
                m * d
            ),
            format!(
                "give a bond of at least 1 / detection_probability = {} times the fee, or leave it out",
                1.0 / d
            ),
        );
    }
    let r = fill(
        &mut v.cost_of_capital_per_year,
        defaults::STAKE_COST_OF_CAPITAL_PER_YEAR,
    );
    let fix = "the return a year the bonded money forgoes, e.g. 0.045";
    issues.non_negative(&at.key("cost_of_capital_per_year"), r, fix);
    let c = fill(
        &mut v.commitment_bytes,
        defaults::OPTIMISTIC_COMMITMENT_BYTES,
    );
    let fix = "bytes committed on chain per result, e.g. 32";
    issues.non_negative(&at.key("commitment_bytes"), c, fix);
    Method::Optimistic {
        window_s: w * 3600.0,
        detection: d,
        bond_multiple: m,
        capital_per_year: r,
        commitment_bytes: c,
        chain: chain(v, at, issues),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, load};
    use super::*;

    /// A token section with `verification` as given.
    fn token(verification: &str) -> String {
        format!(
            "providers: [{{name: a, region: us-east, gpu: h100_sxm, count: 4, hourly_cost_usd: 1}}, \
             {{name: b, region: us-east, gpu: h100_sxm, count: 4, hourly_cost_usd: 1}}]\n\
             token: {{emission: {{schedule: {{constant: {{per_epoch: 1}}}}, epoch_h: 1}}, \
             price: {{constant: {{usd: 1}}}}, work_share: 1, verification: {verification}}}"
        )
    }

    #[test]
    fn each_method_gets_its_sourced_defaults() {
        let method = |v: &str| load(&token(v)).expect("valid").verification_method();
        assert_eq!(
            method("{}"),
            Method::Reexecute {
                redundancy: 1,
                spot: 0.0
            }
        );
        assert_eq!(
            method("{method: spot_check, spot_check_rate: 0.1}"),
            Method::SpotCheck { share: 0.1 }
        );
        // A root an hour, each an Ethereum transaction with 32 bytes of calldata:
        // (21,000 + 32 x 16) gas x 2 gwei x $3,400 = $0.1462816.
        let root = OnChain::Root {
            every_s: 3600.0,
            usd_per_root: defaults::PROOF_ROOT_USD,
        };
        assert!((defaults::PROOF_ROOT_USD - 0.1462816).abs() < 1e-12);
        assert_eq!(
            method("{method: fingerprint}"),
            Method::Fingerprint {
                validator_fraction: 0.01,
                proof_bytes_per_token: 258.0 / 32.0,
                chain: root,
            }
        );
        // Every proof's bytes instead: 16 gas x 2 gwei x $3,400 = $1.088e-4 per byte.
        let per_byte = defaults::PROOF_CHAIN_USD_PER_KB / 1000.0;
        assert!((per_byte - 1.088e-4).abs() < 1e-12);
        let Method::Fingerprint { chain, .. } = method("{method: fingerprint, on_chain: proofs}")
        else {
            panic!("fingerprint");
        };
        assert_eq!(
            chain,
            OnChain::Proofs {
                usd_per_byte: per_byte
            }
        );
        // The bond defaults to 1 / d: at d = 0.25, four times the fee.
        assert_eq!(
            method("{method: optimistic, detection_probability: 0.25}"),
            Method::Optimistic {
                window_s: 168.0 * 3600.0,
                detection: 0.25,
                bond_multiple: 4.0,
                capital_per_year: 0.045,
                commitment_bytes: 32.0,
                chain: root,
            }
        );
        let Method::Zk {
            proving_multiple,
            proof_latency_s,
            proof_bytes,
            ..
        } = method("{method: zk}")
        else {
            panic!("zk");
        };
        // 900 s / (2 x 13e9 x 2048 / 312e12 s) = 900 / 0.170667 = 5273.4.
        assert!((proving_multiple - 5273.4375).abs() < 1e-6);
        assert_eq!((proof_latency_s, proof_bytes), (900.0, 200_000.0));
    }

    #[test]
    fn the_filled_defaults_are_in_the_resolved_scenario() {
        let s = load(&token("{method: optimistic, detection_probability: 0.5}")).expect("valid");
        let text = s.resolved_yaml();
        for want in [
            "method: optimistic",
            "bond_multiple: 2",
            "challenge_window_h: 168",
        ] {
            assert!(text.contains(want), "{want} in {text}");
        }
        // Re-execution at its defaults adds nothing to the resolved scenario.
        let s = load(&token("{}")).expect("valid");
        assert!(
            !s.resolved_yaml().contains("method"),
            "{}",
            s.resolved_yaml()
        );
    }

    #[test]
    fn impossible_values_are_named_at_their_paths() {
        let cases: [(&str, &[(&str, &str)]); 8] = [
            (
                "{method: optimistic, detection_probability: 0.1, bond_multiple: 1}",
                &[(
                    "token.verification.bond_multiple",
                    "does not deter cheating",
                )],
            ),
            (
                "{method: fingerprint, root_interval_h: 0}",
                &[(
                    "token.verification.root_interval_h",
                    "must be a positive number",
                )],
            ),
            (
                "{method: zk, root_usd: -1}",
                &[("token.verification.root_usd", "must be zero or more")],
            ),
            (
                "{method: zk, proving_cost_multiple: -1, proof_latency_s: -5, proof_bytes: -1}",
                &[
                    (
                        "token.verification.proving_cost_multiple",
                        "must be zero or more",
                    ),
                    ("token.verification.proof_latency_s", "must be zero or more"),
                    ("token.verification.proof_bytes", "must be zero or more"),
                ],
            ),
            (
                "{method: fingerprint, validator_cost_fraction: -0.5, on_chain: proofs, chain_usd_per_kb: -1}",
                &[
                    (
                        "token.verification.validator_cost_fraction",
                        "must be zero or more",
                    ),
                    (
                        "token.verification.chain_usd_per_kb",
                        "must be zero or more",
                    ),
                ],
            ),
            (
                "{method: optimistic, detection_probability: 1.5, bond_multiple: -2, challenge_window_h: -1}",
                &[
                    (
                        "token.verification.challenge_window_h",
                        "must be zero or more",
                    ),
                    (
                        "token.verification.detection_probability",
                        "must be between 0 and 1",
                    ),
                    ("token.verification.bond_multiple", "must be zero or more"),
                ],
            ),
            (
                "{method: optimistic, detection_probability: 0}",
                &[(
                    "token.verification.detection_probability",
                    "catches no false result",
                )],
            ),
            (
                "{method: spot_check, redundancy: 2}",
                &[
                    ("token.verification.redundancy", "only `reexecute` runs"),
                    (
                        "token.verification.spot_check_rate",
                        "the share is 0 or not given",
                    ),
                ],
            ),
        ];
        for (v, want) in cases {
            check(&token(v), want);
        }
        check(
            &token("{method: zk, spot_check_rate: 0.1}"),
            &[(
                "token.verification.spot_check_rate",
                "which this method does not",
            )],
        );
    }
}
