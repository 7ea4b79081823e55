//! A job class's `sync` and `local_sgd` settings: the method, and local SGD's inner steps,
//! payload, overlap and token ratio, each checked against what it can be.

use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::physics::local_sgd::LocalSgd;
use crate::scenario::defaults::LOCAL_SGD_MAX_PAYLOAD_BITS;
use crate::scenario::raw::{RawJobClass, RawLocalSgd, Sync};

/// The class's local-SGD settings at `at` (the class), its defaults filled in for
/// scenario.resolved.yaml; None when it synchronises every step (a `local_sgd` block is
/// then left as written and unused).
pub(super) fn validate(
    j: &mut RawJobClass,
    at: &YamlPath,
    issues: &mut Issues,
) -> Option<LocalSgd> {
    if j.sync == Sync::EveryStep {
        // Kept, unused: a paired comparison switches the method with --set alone.
        return None;
    }
    let l: &RawLocalSgd = j.local_sgd.get_or_insert_with(RawLocalSgd::default);
    let at = at.key("local_sgd");
    issues.at_least_one(
        &at.key("inner_steps"),
        l.inner_steps,
        "give the inner steps between synchronisations, e.g. 100 (INTELLECT-1) or 500 (DiLoCo)",
    );
    if !(l.payload_bits.is_finite()
        && l.payload_bits >= 1.0
        && l.payload_bits <= LOCAL_SGD_MAX_PAYLOAD_BITS)
    {
        issues.push(
            &at.key("payload_bits"),
            format!(
                "must be between 1 and {LOCAL_SGD_MAX_PAYLOAD_BITS}, got {}",
                l.payload_bits
            ),
            "give the bits per exchanged value: 16 (BF16), 8 (int8), 4 or 2",
        );
    }
    if !(l.sent_fraction.is_finite() && l.sent_fraction > 0.0 && l.sent_fraction <= 1.0) {
        issues.push(
            &at.key("sent_fraction"),
            format!("must be more than 0 and at most 1, got {}", l.sent_fraction),
            "give the share of the pseudo-gradient's values sent, e.g. 1 (all of them)",
        );
    }
    issues.within(
        &at.key("overlap"),
        l.overlap,
        0.0,
        1.0,
        "give the share of the exchange hidden behind the next inner steps, from 0 to 1",
    );
    issues.within(
        &at.key("token_ratio"),
        l.token_ratio,
        1.0,
        100.0,
        "give the tokens needed relative to every-step training, at least 1, e.g. 1",
    );
    issues.within(
        &at.key("token_ratio_per_doubling"),
        l.token_ratio_per_doubling,
        0.0,
        10.0,
        "give the ratio's growth per doubling of the workers, e.g. 0",
    );
    issues.within(
        &at.key("outer_state_bytes_per_param"),
        l.outer_state_bytes_per_param,
        0.0,
        64.0,
        "give the outer optimizer's bytes per parameter on the GPUs, e.g. 8, or 0 if held in host memory",
    );
    if let Some(s) = l.sync_s {
        issues.non_negative(
            &at.key("sync_s"),
            s,
            "give a measured synchronisation time in seconds, or null to compute it",
        );
    }
    Some(LocalSgd {
        inner_steps: l.inner_steps.max(1),
        payload_bits: l.payload_bits,
        sent_fraction: l.sent_fraction,
        overlap: l.overlap,
        hierarchical: l.hierarchical,
        token_ratio: l.token_ratio,
        token_ratio_per_doubling: l.token_ratio_per_doubling,
        outer_state_bytes_per_param: l.outer_state_bytes_per_param,
        sync_s: l.sync_s,
    })
}
