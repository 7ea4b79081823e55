//! Calibration tables: a profile's points against its peaks, with the targets a GPU
//! calibration should reach, and the compiler's resource report of the CUDA kernels
//! (`calibrate --compile-only`).

use std::path::PathBuf;

use crate::calibration::kernels::Resources;
use crate::calibration::{Bound, Profile, Source};

/// Each point's median, spread and share of the peak (none for host-device copies, which
/// PCIe bounds), then, for a measured profile, whether it meets its targets.
pub fn profile(p: &Profile) -> String {
    let mut s = format!(
        "{} ({:?}): {}\n{:<14} {:>12} {:>16} {:>8} {:>8}\n",
        p.class, p.source, p.provenance.device, "curve", "size", "median", "spread", "of peak"
    );
    for (name, curve, bound) in p.curves() {
        let unit = if bound == Bound::Compute {
            "GFLOP/s"
        } else {
            "GB/s"
        };
        for q in &curve.0 {
            let share = p.peak(bound).map_or("-".to_string(), |peak| {
                format!("{:.1}%", 100.0 * q.median / peak)
            });
            s += &format!(
                "{name:<14} {:>12} {:>10.1} {unit:<7}{:>7.1}% {share:>8}\n",
                q.x,
                q.median / 1e9,
                100.0 * q.spread
            );
        }
    }
    if p.source == Source::Measured {
        for t in p.targets() {
            s += &format!(
                "target: {} = {:.2} (at least {:.2}): {}\n",
                t.what,
                t.value,
                t.threshold,
                if t.met() { "met" } else { "MISSED" }
            );
        }
    }
    s.trim_end().to_string()
}

/// One row per entry point compiled (registers, stack, spills, shared memory, and whether
/// it uses local memory), then the NVRTC version and where its headers came from.
pub fn resources(compiled: &[Resources], nvrtc_version: &str, include_dirs: &[PathBuf]) -> String {
    let mut rows = vec![format!(
        "{:<20} {:<7} {:>9} {:>7} {:>7} {:>8}",
        "kernel", "arch", "registers", "stack", "spills", "shared"
    )];
    for r in compiled {
        rows.push(format!(
            "{:<20} {:<7} {:>9} {:>6}B {:>6}B {:>7}B{}",
            r.function,
            r.arch,
            r.registers,
            r.stack_bytes,
            r.spill_stores + r.spill_loads,
            r.shared_bytes,
            if r.uses_local_memory() {
                "  local memory"
            } else {
                ""
            }
        ));
    }
    rows.push(format!(
        "NVRTC {nvrtc_version}; headers from: {}",
        if include_dirs.is_empty() {
            "none found".to_string()
        } else {
            include_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    rows.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::Point;
    use crate::physics::gpu::find_class;

    #[test]
    fn a_datasheet_profile_is_all_peak() {
        let p = Profile::datasheet(find_class("h100_sxm").expect("class"));
        assert_eq!(
            profile(&p),
            "h100_sxm (Datasheet): NVIDIA H100 SXM 80GB
curve                  size           median   spread  of peak
copy             1000000000     3350.0 GB/s       0.0%   100.0%
decode                    1     3350.0 GB/s       0.0%   100.0%
matmul                 8192   989000.0 GFLOP/s    0.0%   100.0%"
        );
    }

    #[test]
    fn a_measured_profile_shows_host_copies_without_a_share_and_its_targets() {
        let mut p = Profile::datasheet(find_class("h100_sxm").expect("class"));
        p.source = Source::Measured;
        p.provenance.device = "NVIDIA H100".into();
        let point = |x, median| Point {
            x,
            median,
            spread: 0.02,
            reps: 10,
        };
        p.decode.0 = vec![point(1.0, 2.68e12)];
        p.host_to_device.0 = vec![point(1e6, 2.5e10)];
        let text = profile(&p);
        assert!(
            text.starts_with("h100_sxm (Measured): NVIDIA H100\n"),
            "{text}"
        );
        assert!(
            text.contains("\nhost_to_device      1000000       25.0 GB/s       2.0%        -\n"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "target: decode kernel at batch 1 / largest copy = 0.80 (at least 0.85): MISSED"
            ),
            "{text}"
        );
    }

    #[test]
    fn the_resource_report_flags_local_memory() {
        let r = |function: &str, stack_bytes| Resources {
            function: function.into(),
            arch: "sm_90".into(),
            registers: 40,
            stack_bytes,
            spill_stores: 0,
            spill_loads: 0,
            shared_bytes: 512,
        };
        let text = resources(
            &[r("copy_f4", 0), r("kv_combine", 16)],
            "13.0",
            &[PathBuf::from("/usr/local/cuda/include")],
        );
        assert_eq!(
            text,
            "kernel               arch    registers   stack  spills   shared
copy_f4              sm_90          40      0B      0B     512B
kv_combine           sm_90          40     16B      0B     512B  local memory
NVRTC 13.0; headers from: /usr/local/cuda/include"
        );
        assert!(resources(&[], "12.8", &[]).ends_with("NVRTC 12.8; headers from: none found"));
    }
}
