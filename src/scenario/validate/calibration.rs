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
use crate::physics::rates::{FactorBasis, Rates};
use crate::scenario::defaults;
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
        None => Rates::efficiency(class, cal.compute_efficiency, cal.memory_efficiency)
            .with_basis(factor_basis(class, cal)),
    }
}

/// What the efficiency factors rest on for `class`: the defaults were measured on one class
/// and are an assumption on every other; factors the scenario gives are its own.
fn factor_basis(class: &GpuClass, cal: &RawCalibration) -> FactorBasis {
    let defaults = cal.compute_efficiency == defaults::COMPUTE_EFFICIENCY
        && cal.memory_efficiency == defaults::MEMORY_EFFICIENCY;
    match (defaults, class.id == defaults::EFFICIENCY_MEASURED_ON) {
        (true, true) => FactorBasis::Measured,
        (true, false) => FactorBasis::Assumed,
        (false, _) => FactorBasis::Scenario,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_found, load, load_in};
    use super::*;
    use crate::calibration::Curve;
    use crate::physics::gpu::find_class;
    use crate::scenario::Scenario;

    /// A folder holding `h100.yaml` (the H100 SXM's datasheet profile), `l40s.yaml` (the
    /// L40S's), `bare.yaml` (an H100 profile without decode points) and `bad.yaml` (one
    /// with negative peaks).
    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let sheet = |id: &str| Profile::datasheet(find_class(id).expect("class"));
        let write = |name: &str, p: &Profile| {
            std::fs::write(dir.path().join(name), p.to_yaml()).expect("write");
        };
        write("h100.yaml", &sheet("h100_sxm"));
        write("l40s.yaml", &sheet("l40s"));
        let mut bare = sheet("h100_sxm");
        bare.decode = Curve::default();
        write("bare.yaml", &bare);
        let mut bad = sheet("h100_sxm");
        bad.peaks.flops = -1.0;
        write("bad.yaml", &bad);
        dir
    }

    #[test]
    fn each_named_profile_must_load_and_fit_its_class() {
        let dir = folder();
        let shown = |f: &str| dir.path().join(f).display().to_string();
        let cases: [(&str, Vec<(&str, String)>); 6] = [
            ("{h100_sxm: h100.yaml}", vec![]),
            (
                "{h100_sxm: l40s.yaml}",
                vec![("h100_sxm", "l40s.yaml is a profile of `l40s`".into())],
            ),
            (
                "{h100_sxm: bare.yaml}",
                vec![(
                    "h100_sxm",
                    "bare.yaml has no matrix-product or no decode points".into(),
                )],
            ),
            (
                "{h100_sxm: bad.yaml}",
                vec![(
                    "h100_sxm",
                    format!(
                        "{}: peaks.flops must be a positive rate, got -1",
                        shown("bad.yaml")
                    ),
                )],
            ),
            (
                "{h100_sxm: nowhere.yaml}",
                vec![("h100_sxm", format!("{}: ", shown("nowhere.yaml")))],
            ),
            (
                "{h100: h100.yaml, l40s: nowhere.yaml}",
                vec![
                    ("h100", "unknown GPU class `h100`".into()),
                    ("l40s", "nowhere.yaml".into()),
                ],
            ),
        ];
        for (profiles, want) in cases {
            let fragment = format!("calibration: {{profiles: {profiles}}}");
            let found = load_in(&fragment, dir.path()).err().unwrap_or_default();
            let paths: Vec<String> = want
                .iter()
                .map(|(class, _)| format!("calibration.profiles.{class}"))
                .collect();
            let want: Vec<(&str, &str)> = paths
                .iter()
                .zip(&want)
                .map(|(p, (_, m))| (p.as_str(), m.as_str()))
                .collect();
            assert_found(&fragment, &found, &want);
        }
    }

    #[test]
    fn a_class_with_a_profile_runs_at_its_rates_and_the_cloud_too() {
        let dir = folder();
        let s =
            load_in("calibration: {profiles: {h100_sxm: h100.yaml}}", dir.path()).expect("valid");
        let rates = &s.pools()[0].rates;
        assert_eq!(
            (rates.kind, rates.origin.as_str()),
            ("datasheet profile", "h100.yaml")
        );
        assert_eq!(
            rates.flops, 989e12,
            "a datasheet profile's peak, not 0.8 of it"
        );
        assert_eq!(s.cloud().flops, rates.training_flops);
        let s = load_in("", dir.path()).expect("valid");
        assert_eq!(s.pools()[0].rates.kind, "datasheet");
        assert_eq!(s.pools()[0].rates.flops, 989e12 * 0.8);
    }

    #[test]
    fn efficiency_factors_measured_on_an_h100_are_marked_assumed_on_other_classes() {
        let basis = |s: &Scenario, i: usize| s.pools()[i].rates.efficiency.map(|e| e.basis);
        let two = "providers: [{name: a, region: us-east, gpu: h100_sxm, hourly_cost_usd: 1.5, count: 8}, \
                   {name: b, region: us-east, gpu: rtx_4090, count: 8, hourly_cost_usd: 0.2}]";
        let s = load(two).expect("valid");
        assert_eq!(basis(&s, 0), Some(FactorBasis::Measured));
        assert_eq!(basis(&s, 1), Some(FactorBasis::Assumed));
        // The cloud's H100s rest on the same measurement.
        let cloud = s.cloud().rates.as_ref().and_then(|r| r.efficiency);
        assert_eq!(cloud.map(|e| e.basis), Some(FactorBasis::Measured));
        // Factors the scenario sets are its own, on every class.
        let set = format!("{two}\ncalibration: {{compute_efficiency: 0.7}}");
        let s = load(&set).expect("valid");
        assert_eq!(basis(&s, 0), Some(FactorBasis::Scenario));
        assert_eq!(basis(&s, 1), Some(FactorBasis::Scenario));
        assert_eq!(s.pools()[1].rates.efficiency.map(|e| e.compute), Some(0.7));
    }

    #[test]
    fn efficiency_factors_are_shares() {
        let cal = |compute, memory| RawCalibration {
            compute_efficiency: compute,
            memory_efficiency: memory,
            ..RawCalibration::default()
        };
        let at = YamlPath::root().key("calibration");
        let cases = [
            ((0.8, 0.9), vec![]),
            ((0.0, 0.9), vec!["calibration.compute_efficiency"]),
            ((1.0, 1.5), vec!["calibration.memory_efficiency"]),
            (
                (-1.0, 0.0),
                vec![
                    "calibration.compute_efficiency",
                    "calibration.memory_efficiency",
                ],
            ),
        ];
        for ((compute, memory), want) in cases {
            let mut issues = Issues::default();
            let ok = efficiencies(&cal(compute, memory), &at, &mut issues);
            let found: Vec<String> = issues.iter().map(|i| i.path.to_string()).collect();
            assert_eq!(found, want, "({compute}, {memory})");
            assert_eq!(ok, want.is_empty());
        }
    }
}
