//! Calibration profiles that ship inside the binary: the measured and derived profiles
//! committed under `kernels/profiles/measured/` and `kernels/profiles/derived/`. A run uses
//! the best one of a GPU class that its scenario names no profile for (measured before
//! derived, then the latest date), unless `calibration.bundled_profiles: false`; without one
//! the class runs at its datasheet peaks times the efficiency factors.
//!
//! To bundle a profile, commit it (a measured one with the log of its run beside it) and add
//! its line to [`BUNDLED`]; a test checks that the list and the folders agree, that each file
//! is a valid profile of its folder's kind, and that runs can read it.

use super::{Profile, Source};

/// Each bundled profile: its path under `kernels/profiles/`, and its text.
pub const BUNDLED: &[(&str, &str)] = &[
    // ("measured/h200_sxm-2026-12-01.yaml", include_str!("../../kernels/profiles/measured/h200_sxm-2026-12-01.yaml")),
];

/// Every bundled profile, parsed, with its path (`measured/<file>`).
///
/// # Panics
/// Never for the committed files: the test `bundled_profiles_match_the_folders` parses
/// each one.
pub fn all() -> Vec<(String, Profile)> {
    BUNDLED
        .iter()
        .map(|(path, text)| {
            let p = Profile::from_yaml(text, path)
                .unwrap_or_else(|e| panic!("bundled profile {path}: {e}"));
            ((*path).to_string(), p)
        })
        .collect()
}

/// The profile a run of `class` should use among `candidates`: measured before derived
/// (datasheet profiles never: the datasheet peaks times the efficiency factors serve
/// better), then the latest `provenance.date`, then the last path in order.
pub fn best<'a>(class: &str, candidates: &'a [(String, Profile)]) -> Option<&'a (String, Profile)> {
    let rank = |s: Source| match s {
        Source::Measured => 2,
        Source::Derived => 1,
        Source::Datasheet => 0,
    };
    candidates
        .iter()
        .filter(|(_, p)| p.class == class && rank(p.source) > 0)
        .max_by(|(a, p), (b, q)| {
            rank(p.source)
                .cmp(&rank(q.source))
                .then_with(|| p.provenance.date.cmp(&q.provenance.date))
                .then_with(|| a.cmp(b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::gpu::find_class;
    use std::path::Path;

    fn profile(class: &str, source: Source, date: &str) -> Profile {
        let mut p = Profile::datasheet(find_class(class).unwrap());
        p.source = source;
        p.provenance.date = Some(date.into());
        if source == Source::Derived {
            p.provenance.derived_from = Some("m.yaml".into());
        }
        p
    }

    #[test]
    fn measured_beats_derived_then_the_latest_date_wins() {
        let c = vec![
            (
                "derived/h100_pcie.yaml".to_string(),
                profile("h100_pcie", Source::Derived, "2026-12-09"),
            ),
            (
                "measured/h200-a.yaml".to_string(),
                profile("h200_sxm", Source::Measured, "2026-12-01"),
            ),
            (
                "derived/h200.yaml".to_string(),
                profile("h200_sxm", Source::Derived, "2026-12-09"),
            ),
            (
                "measured/h200-b.yaml".to_string(),
                profile("h200_sxm", Source::Measured, "2026-12-05"),
            ),
            (
                "datasheet/a100.yaml".to_string(),
                profile("a100_80gb_sxm", Source::Datasheet, "2026-12-09"),
            ),
        ];
        assert_eq!(best("h200_sxm", &c).unwrap().0, "measured/h200-b.yaml");
        assert_eq!(best("h100_pcie", &c).unwrap().0, "derived/h100_pcie.yaml");
        assert!(best("a100_80gb_sxm", &c).is_none());
        assert!(best("rtx_4090", &c).is_none());
    }

    #[test]
    fn bundled_profiles_match_the_folders() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels/profiles");
        let mut on_disk = Vec::new();
        for kind in ["measured", "derived"] {
            let Ok(dir) = std::fs::read_dir(root.join(kind)) else {
                continue;
            };
            for entry in dir {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                if name.ends_with(".yaml") {
                    on_disk.push(format!("{kind}/{name}"));
                }
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = BUNDLED.iter().map(|(p, _)| (*p).to_string()).collect();
        listed.sort();
        assert_eq!(
            listed, on_disk,
            "BUNDLED and kernels/profiles/{{measured,derived}}/ differ"
        );
        for (path, p) in all() {
            let text = std::fs::read_to_string(root.join(&path)).unwrap();
            assert_eq!(Profile::from_yaml(&text, &path).unwrap(), p, "{path}");
            let kind = if path.starts_with("measured/") {
                Source::Measured
            } else {
                Source::Derived
            };
            assert_eq!(p.source, kind, "{path}");
            if kind == Source::Measured {
                let log = root.join(path.replace(".yaml", ".log"));
                assert!(
                    log.is_file(),
                    "{path}: the log of its run, {}",
                    log.display()
                );
            }
            let has_matmul = !p.matmul.is_empty() || !p.matmul_library.is_empty();
            assert!(
                has_matmul && !p.decode.is_empty(),
                "{path}: runs need matmul and decode points"
            );
            assert!(find_class(&p.class).is_some(), "{path}: a GPU class");
        }
    }
}
