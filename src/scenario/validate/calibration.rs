//! The `calibration` section: the efficiency factors, the calibration profiles the scenario
//! names (read beforehand, see `files.rs`) and the bundled ones, and the rates of a GPU
//! class that follow from them.

use std::collections::BTreeMap;

use super::files::Files;
use super::names::gpu_class;
use crate::calibration::{Profile, bundled};
use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::physics::gpu::{GPU_CLASSES, GpuClass};
use crate::physics::rates::Rates;
use crate::scenario::raw::RawCalibration;

/// Calibration profiles by GPU class, each with where it comes from (its file as the
/// scenario writes it, or `bundled: kernels/profiles/...`).
pub(super) type Profiles = BTreeMap<String, (Profile, String)>;

/// The scenario's profiles (at `at`, the `calibration` section), each of which must parse,
/// be a profile of its class (or of `cpu`) and have matrix-product and decode points; then,
/// unless the scenario declines them, the best bundled profile of every other class.
pub(super) fn profiles(
    cal: &RawCalibration,
    files: &Files,
    at: &YamlPath,
    issues: &mut Issues,
) -> Profiles {
    let pp = at.key("profiles");
    let mut out = Profiles::new();
    for (class, file) in &cal.profiles {
        if let Some(p) = named(class, file, files, &pp.key(class), issues) {
            out.insert(class.clone(), (p, file.clone()));
        }
    }
    if cal.bundled_profiles {
        let all = bundled::all();
        for class in GPU_CLASSES {
            if out.contains_key(class.id) {
                continue;
            }
            if let Some((path, p)) = bundled::best(class.id, &all) {
                out.insert(
                    class.id.to_string(),
                    (p.clone(), format!("bundled: kernels/profiles/{path}")),
                );
            }
        }
    }
    out
}

/// The profile `file` holds for `class`, or None after recording at `at` why it is unusable.
fn named(
    class: &str,
    file: &str,
    files: &Files,
    at: &YamlPath,
    issues: &mut Issues,
) -> Option<Profile> {
    gpu_class(class, at, issues)?;
    let shown = files.shown(file);
    let loaded = files
        .text(file)
        .map_err(|e| format!("{shown}: {e}"))
        .and_then(|text| Profile::from_yaml(&text, &shown).map_err(|e| e.to_string()));
    match loaded {
        Err(e) => issues.push(
            at,
            e,
            "give the path, relative to the scenario file, of a profile written by `depinsim calibrate`",
        ),
        Ok(p) if p.class != class && p.class != "cpu" => issues.push(
            at,
            format!("{file} is a profile of `{}`", p.class),
            format!("give a profile of `{class}` (or of `cpu`)"),
        ),
        Ok(p) if p.matmul.is_empty() && p.matmul_library.is_empty() || p.decode.is_empty() => {
            issues.push(
                at,
                format!("{file} has no matrix-product or no decode points"),
                "give a profile with matmul and decode points",
            );
        }
        Ok(p) => return Some(p),
    }
    None
}

/// The efficiency factors at `at`, each a share in (0, 1]. Returns whether both are.
pub(super) fn efficiencies(cal: &RawCalibration, at: &YamlPath, issues: &mut Issues) -> bool {
    issues.within(
        &at.key("compute_efficiency"),
        cal.compute_efficiency,
        1e-6,
        1.0,
        "give achieved / peak FLOP/s, e.g. 0.8",
    ) & issues.within(
        &at.key("memory_efficiency"),
        cal.memory_efficiency,
        1e-6,
        1.0,
        "give achieved / peak bandwidth, e.g. 0.9",
    )
}

/// The rates of `class`: its calibration profile's (the scenario's, else a bundled one), read
/// at the token budget and the model's context; else its datasheet peaks times the
/// efficiency factors.
pub(super) fn class_rates(
    class: &GpuClass,
    profiles: &Profiles,
    budget: f64,
    context: f64,
    cal: &RawCalibration,
) -> Rates {
    match profiles.get(class.id) {
        // Checked to have the points these lookups need.
        Some((profile, file)) => profile
            .rates(budget, context, file)
            .unwrap_or_else(|_| Rates::efficiency(class, 1.0, 1.0)),
        None => Rates::efficiency(class, cal.compute_efficiency, cal.memory_efficiency),
    }
}
