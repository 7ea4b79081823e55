//! Calibration: what a GPU (or CPU) actually achieves, measured by microbenchmarks, with
//! where the numbers came from.
//!
//! A [`Profile`] records, for one device class, the achieved memory bandwidth (a streaming
//! copy), the achieved decode bandwidth by batch (a matrix-vector product over 16-bit
//! weights: the memory-bound inner loop of LLM decode) and the achieved matrix-product
//! throughput by size, each point a median with its spread, against the datasheet peaks.
//! Its `source` says whether it was `measured` (on the device, with driver, date and kernel
//! hashes), `derived` (efficiencies measured on another device of the family, applied to
//! this one's peaks) or `datasheet` (peaks only: an upper bound, not a measurement).
//!
//! Curves are read by [`Curve::at`]: linear interpolation in log size between grid points,
//! exact at them, monotone between them, and clamped (and said to be) outside the grid.

pub mod bundled;
pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod kernels;

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::physics::gpu::{GPU_CLASSES, GpuClass, find_class};
use crate::physics::rates::{BATCH_GRID, LowPrecision, Rates};

/// Where a profile's numbers come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Measured on the device by the calibration kernels.
    Measured,
    /// Efficiencies measured on another device of the family, applied to these peaks.
    Derived,
    /// The vendor's datasheet peaks: an upper bound nothing reaches.
    Datasheet,
}

/// Who measured what, where and when.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The device as its driver names it (or the datasheet's product name).
    pub device: String,
    /// Driver version (measured profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// CUDA version (measured GPU profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda: Option<String>,
    /// Date of the measurement, ISO 8601 (measured profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The document the peaks come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
    /// The profile whose efficiencies a derived profile applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<String>,
    /// SHA-256 of each kernel source that measured, by file name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kernels: BTreeMap<String, String>,
}

/// Datasheet peaks of the device.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Peaks {
    /// Dense 16-bit matrix throughput, FLOP/s.
    pub flops: f64,
    /// Memory bandwidth, bytes/s.
    pub bytes_per_s: f64,
}

/// One measured point: at size `x`, the median rate and its spread.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// Size: bytes moved, batch, or matrix dimension.
    pub x: f64,
    /// Median achieved rate (bytes/s or FLOP/s).
    pub median: f64,
    /// Spread of the repetitions: (max - min) / median.
    pub spread: f64,
    /// Repetitions timed.
    pub reps: u32,
}

/// A rate as a function of size, from measured points sorted by size.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Curve(pub Vec<Point>);

/// A curve's value at a size, and whether the size lay outside the grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading {
    /// The rate.
    pub value: f64,
    /// The size was below the first point or above the last: the nearest end's value.
    pub clamped: bool,
}

/// What bounds a curve's rate, and so which peak it is a share of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// Device memory: a share of the bandwidth.
    Memory,
    /// Arithmetic: a share of the FLOP/s.
    Compute,
    /// The link between host and device (PCIe): no datasheet peak of the GPU bounds it.
    Host,
}

impl Curve {
    /// Whether the curve has no point.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The rate at size `x`: linear in log size between the two grid points around it,
    /// exact at a grid point; outside the grid the nearest end's rate, `clamped`. None for
    /// an empty curve.
    pub fn at(&self, x: f64) -> Option<Reading> {
        let p = &self.0;
        let (first, last) = (p.first()?, p.last()?);
        if x <= first.x {
            return Some(Reading {
                value: first.median,
                clamped: x < first.x,
            });
        }
        if x >= last.x {
            return Some(Reading {
                value: last.median,
                clamped: x > last.x,
            });
        }
        // 1 <= i < len: the first point strictly above x.
        let i = p.partition_point(|q| q.x <= x);
        let (a, b) = (p[i - 1], p[i]);
        let w = (x.ln() - a.x.ln()) / (b.x.ln() - a.x.ln());
        Some(Reading {
            value: a.median + w * (b.median - a.median),
            clamped: false,
        })
    }

    /// Records problems with the points under `at` (the curve's place in the profile):
    /// sizes positive and strictly increasing, rates positive and finite, spreads not
    /// negative.
    fn validate(&self, at: &YamlPath, issues: &mut Issues) {
        for (i, q) in self.0.iter().enumerate() {
            let p = at.index(i);
            if !(q.x.is_finite() && q.x > 0.0) {
                issues.push(
                    &p.key("x"),
                    format!("must be a positive size, got {}", q.x),
                    "",
                );
            }
            if !(q.median.is_finite() && q.median > 0.0) {
                issues.push(
                    &p.key("median"),
                    format!("must be a positive rate, got {}", q.median),
                    "",
                );
            }
            if !(q.spread.is_finite() && q.spread >= 0.0) {
                issues.push(
                    &p.key("spread"),
                    format!("must be 0 or more, got {}", q.spread),
                    "",
                );
            }
            if i > 0 && q.x <= self.0[i - 1].x {
                issues.push(&p.key("x"), "must be above the previous point's", "");
            }
        }
    }
}

/// What one device class achieves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The device class: a GPU class of the datasheet table (`h100_sxm`, ...) or `cpu`.
    pub class: String,
    /// Where the numbers come from.
    pub source: Source,
    /// Who measured what, where and when.
    pub provenance: Provenance,
    /// Datasheet peaks (for a CPU: the measured maxima).
    pub peaks: Peaks,
    /// Streaming copy: achieved bytes/s (read + written) by bytes copied.
    #[serde(default)]
    pub copy: Curve,
    /// Decode: achieved bytes/s of weights read by batch (matrix-vector product over 16-bit
    /// weights, `batch` vectors at once).
    #[serde(default)]
    pub decode: Curve,
    /// The vendor library's product (cuBLAS) at decode's shapes: bytes/s of weights read by
    /// batch. Runs read decode at the faster of this and `decode` at each batch.
    #[serde(default, skip_serializing_if = "Curve::is_empty")]
    pub decode_library: Curve,
    /// Matrix product: achieved FLOP/s by dimension n of an n x n x n product.
    #[serde(default)]
    pub matmul: Curve,
    /// The vendor library's matrix product (cuBLAS), FLOP/s by n: the reference for what is
    /// achievable.
    #[serde(default, skip_serializing_if = "Curve::is_empty")]
    pub matmul_library: Curve,
    /// Attention over a KV cache: bytes/s of keys and values read, by cached positions.
    #[serde(default, skip_serializing_if = "Curve::is_empty")]
    pub attention: Curve,
    /// Host-to-device copies (weight loading), bytes/s by bytes.
    #[serde(default, skip_serializing_if = "Curve::is_empty")]
    pub host_to_device: Curve,
    /// Device-to-host copies (checkpoints), bytes/s by bytes.
    #[serde(default, skip_serializing_if = "Curve::is_empty")]
    pub device_to_host: Curve,
}

/// A problem with a profile file.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file does not parse as a profile (a missing field, a wrong type).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What serde said, with the line.
        message: String,
    },
    /// Values out of range or an unknown class.
    #[error("{path}: {}", listed(.problems))]
    Invalid {
        /// The file.
        path: String,
        /// Every problem found, at its path inside the file.
        problems: Issues,
    },
}

/// Problems as `path message` (the message alone for the file as a whole), joined by `; `.
fn listed(problems: &Issues) -> String {
    let each: Vec<String> = problems
        .iter()
        .map(|i| {
            if i.path.is_root() {
                i.message.clone()
            } else {
                format!("{} {}", i.path, i.message)
            }
        })
        .collect();
    each.join("; ")
}

impl Profile {
    /// The datasheet profile of `class`: its peaks, and one point per curve at the peak
    /// (no measurement; read as an upper bound).
    pub fn datasheet(class: &GpuClass) -> Self {
        let flops = class.bf16_tflops * 1e12;
        let bytes = class.mem_bandwidth_tbs * 1e12;
        let one = |x: f64, median: f64| {
            Curve(vec![Point {
                x,
                median,
                spread: 0.0,
                reps: 0,
            }])
        };
        Self {
            class: class.id.to_string(),
            source: Source::Datasheet,
            provenance: Provenance {
                device: class.name.to_string(),
                citation: Some(class.source.trim_start_matches("datasheet: ").to_string()),
                ..Provenance::default()
            },
            peaks: Peaks {
                flops,
                bytes_per_s: bytes,
            },
            copy: one(1e9, bytes),
            decode: one(1.0, bytes),
            matmul: one(8192.0, flops),
            ..Self::empty()
        }
    }

    /// A profile with no point, to fill in.
    pub(crate) fn empty() -> Self {
        Self {
            class: String::new(),
            source: Source::Datasheet,
            provenance: Provenance::default(),
            peaks: Peaks {
                flops: 0.0,
                bytes_per_s: 0.0,
            },
            copy: Curve::default(),
            decode: Curve::default(),
            decode_library: Curve::default(),
            matmul: Curve::default(),
            matmul_library: Curve::default(),
            attention: Curve::default(),
            host_to_device: Curve::default(),
            device_to_host: Curve::default(),
        }
    }

    /// Every curve with its name in the file and what bounds it, in the file's order.
    pub fn curves(&self) -> [(&'static str, &Curve, Bound); 8] {
        use Bound::{Compute, Host, Memory};
        [
            ("copy", &self.copy, Memory),
            ("decode", &self.decode, Memory),
            ("decode_library", &self.decode_library, Memory),
            ("matmul", &self.matmul, Compute),
            ("matmul_library", &self.matmul_library, Compute),
            ("attention", &self.attention, Memory),
            ("host_to_device", &self.host_to_device, Host),
            ("device_to_host", &self.device_to_host, Host),
        ]
    }

    /// [`Profile::curves`], to change.
    fn curves_mut(&mut self) -> [(&'static str, &mut Curve, Bound); 8] {
        use Bound::{Compute, Host, Memory};
        [
            ("copy", &mut self.copy, Memory),
            ("decode", &mut self.decode, Memory),
            ("decode_library", &mut self.decode_library, Memory),
            ("matmul", &mut self.matmul, Compute),
            ("matmul_library", &mut self.matmul_library, Compute),
            ("attention", &mut self.attention, Memory),
            ("host_to_device", &mut self.host_to_device, Host),
            ("device_to_host", &mut self.device_to_host, Host),
        ]
    }

    /// The peak a curve bounded by `bound` is a share of (none for host-device copies).
    pub fn peak(&self, bound: Bound) -> Option<f64> {
        match bound {
            Bound::Memory => Some(self.peaks.bytes_per_s),
            Bound::Compute => Some(self.peaks.flops),
            Bound::Host => None,
        }
    }

    /// The profile `class` would have at this one's efficiencies: every rate scaled by the
    /// ratio of the two classes' peaks (compute curves by FLOP/s, memory curves by
    /// bandwidth; host-device copies as they are), `source: derived`, naming `origin` (the
    /// measured profile's file).
    pub fn derive(&self, class: &GpuClass, origin: &str) -> Self {
        let sheet = Self::datasheet(class);
        let mut d = Self {
            class: class.id.to_string(),
            source: Source::Derived,
            provenance: Provenance {
                device: class.name.to_string(),
                citation: sheet.provenance.citation,
                derived_from: Some(format!(
                    "{origin} ({}, {})",
                    self.provenance.device,
                    self.provenance.date.as_deref().unwrap_or("undated")
                )),
                ..Provenance::default()
            },
            peaks: sheet.peaks,
            ..self.clone()
        };
        let (f, b) = (
            d.peaks.flops / self.peaks.flops,
            d.peaks.bytes_per_s / self.peaks.bytes_per_s,
        );
        for (_, curve, bound) in d.curves_mut() {
            let k = match bound {
                Bound::Memory => b,
                Bound::Compute => f,
                Bound::Host => continue,
            };
            for q in &mut curve.0 {
                q.median *= k;
            }
        }
        d
    }

    /// Achieved / peak of the matrix product at dimension `n` (None without points).
    pub fn compute_efficiency(&self, n: f64) -> Option<f64> {
        Some(self.matmul.at(n)?.value / self.peaks.flops)
    }

    /// Achieved / peak of decode at `batch` (None without points).
    pub fn decode_efficiency(&self, batch: f64) -> Option<f64> {
        Some(self.decode.at(batch)?.value / self.peaks.bytes_per_s)
    }

    /// Records every problem under `at` (the top of the profile file): an unknown class,
    /// peaks not positive, curves out of order or with rates not positive, a measured
    /// profile without device, date or points. Returns whether there was none.
    pub fn validate(&self, at: &YamlPath, issues: &mut Issues) -> bool {
        let before = issues.len();
        if self.class != "cpu" && find_class(&self.class).is_none() {
            issues.push(
                &at.key("class"),
                format!(
                    "`{}` is not a GPU class (use cpu or one of: {})",
                    self.class,
                    GPU_CLASSES
                        .iter()
                        .map(|c| c.id)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "",
            );
        }
        let pp = at.key("peaks");
        for (name, v) in [
            ("flops", self.peaks.flops),
            ("bytes_per_s", self.peaks.bytes_per_s),
        ] {
            if !(v.is_finite() && v > 0.0) {
                issues.push(
                    &pp.key(name),
                    format!("must be a positive rate, got {v}"),
                    "",
                );
            }
        }
        for (name, c, _) in self.curves() {
            c.validate(&at.key(name), issues);
        }
        self.validate_provenance(at, issues);
        issues.len() == before
    }

    /// What a measured or derived profile must say about where it comes from. These
    /// problems concern the profile as a whole, so they are recorded at `at` itself.
    fn validate_provenance(&self, at: &YamlPath, issues: &mut Issues) {
        if self.source == Source::Measured {
            if self.provenance.device.is_empty() || self.provenance.date.is_none() {
                issues.push(
                    at,
                    "a measured profile needs provenance.device and provenance.date",
                    "",
                );
            }
            if self.copy.0.is_empty() && self.matmul.0.is_empty() {
                issues.push(at, "a measured profile needs measured points", "");
            }
        }
        if self.source == Source::Derived && self.provenance.derived_from.is_none() {
            issues.push(at, "a derived profile needs provenance.derived_from", "");
        }
    }

    /// Parses and checks a profile from YAML text; `path` names it in errors.
    ///
    /// # Errors
    /// A parse error with its line, or every problem [`Profile::validate`] finds.
    pub fn from_yaml(text: &str, path: &str) -> Result<Self, ProfileError> {
        let p: Self = serde_saphyr::from_str(text).map_err(|e| ProfileError::Parse {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        let mut problems = Issues::default();
        if p.validate(&YamlPath::root(), &mut problems) {
            Ok(p)
        } else {
            Err(ProfileError::Invalid {
                path: path.to_string(),
                problems,
            })
        }
    }

    /// Reads and checks a profile file.
    ///
    /// # Errors
    /// As [`Profile::from_yaml`], or the file cannot be read.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: name.clone(),
            source,
        })?;
        Self::from_yaml(&text, &name)
    }

    /// The profile as YAML, with a header comment saying what it is.
    pub fn to_yaml(&self) -> String {
        let head = match self.source {
            Source::Measured => "# Measured by `depinsim calibrate`; see provenance.\n",
            Source::Derived => {
                "# Derived: another device's measured efficiencies on these peaks.\n"
            }
            Source::Datasheet => "# Datasheet peaks only: an upper bound, not a measurement.\n",
        };
        let body = serde_saphyr::to_string(self).unwrap_or_default();
        format!("{head}{body}")
    }
}

/// The size of the matrix products of training steps where a profile is read: large GEMMs.
pub const TRAINING_MATMUL_N: f64 = 8192.0;

/// The faster of two curves at `x` (each may be empty), with whether the one chosen was
/// clamped.
fn faster(a: &Curve, b: &Curve, x: f64) -> Option<Reading> {
    match (a.at(x), b.at(x)) {
        (Some(p), Some(q)) => Some(if q.value > p.value { q } else { p }),
        (p, q) => p.or(q),
    }
}

impl Profile {
    /// The rates this profile gives: FLOP/s of the vendor library's product (the kernel's when
    /// the library's was not measured) at `token_budget` and at [`TRAINING_MATMUL_N`]; decode
    /// bandwidth by batch, the faster of the kernel and the library at each batch; KV-cache
    /// reads at the attention curve's rate at `context_tokens` cached positions, where the
    /// profile has one. `origin` names the file. FP8 and INT8 rates are derived: the BF16 rate
    /// x the class's datasheet FP8/BF16 (INT8/BF16) ratio; none for a CPU profile.
    ///
    /// # Errors
    /// A profile without matrix-product or decode points.
    pub fn rates(
        &self,
        token_budget: f64,
        context_tokens: f64,
        origin: &str,
    ) -> Result<Rates, String> {
        let mm = if self.matmul_library.is_empty() {
            &self.matmul
        } else {
            &self.matmul_library
        };
        let mut clamped = Vec::new();
        let mut note = |r: Option<Reading>, what: &str, x: f64| -> Result<f64, String> {
            let r = r.ok_or_else(|| format!("{origin}: the profile has no {what} points"))?;
            if r.clamped {
                clamped.push(format!("{what} at {x}"));
            }
            Ok(r.value)
        };
        let flops = note(mm.at(token_budget), "matmul", token_budget)?;
        let training_flops = note(mm.at(TRAINING_MATMUL_N), "matmul", TRAINING_MATMUL_N)?;
        let decode = |x: f64| faster(&self.decode, &self.decode_library, x);
        let bytes_per_s = note(decode(1.0), "decode", 1.0)?;
        let mut memory_scale = [1.0; BATCH_GRID];
        for (i, m) in memory_scale.iter_mut().enumerate().skip(1) {
            let batch = f64::from(1u32 << i);
            *m = bytes_per_s / note(decode(batch), "decode", batch)?;
        }
        let kv_bytes_per_s = if self.attention.is_empty() {
            None
        } else {
            Some(note(
                self.attention.at(context_tokens),
                "attention",
                context_tokens,
            )?)
        };
        Ok(Rates {
            flops,
            training_flops,
            low_precision: LowPrecision::derived(flops, find_class(&self.class)),
            bytes_per_s,
            memory_scale,
            kv_bytes_per_s,
            kind: match self.source {
                Source::Measured => "measured",
                Source::Derived => "derived",
                Source::Datasheet => "datasheet profile",
            },
            origin: origin.to_string(),
            clamped,
            efficiency: None,
        })
    }
}

/// One of the checks a measured GPU profile should pass: `value` at least `threshold`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// What is compared.
    pub what: &'static str,
    /// The measured ratio.
    pub value: f64,
    /// The least acceptable ratio.
    pub threshold: f64,
}

impl Target {
    /// Whether the measurement reaches the threshold.
    pub fn met(&self) -> bool {
        self.value >= self.threshold
    }
}

impl Profile {
    /// What a sound GPU calibration reaches, where the profile has the points: the decode
    /// kernel at batch 1 at least 85% of the bandwidth of the largest copy measured (both
    /// stream device memory), and the library's matrix product at least 70% of the datasheet
    /// dense 16-bit peak at its best size.
    pub fn targets(&self) -> Vec<Target> {
        let mut out = Vec::new();
        if let (Some(copy), Some(decode)) = (self.copy.0.last(), self.decode.at(1.0)) {
            out.push(Target {
                what: "decode kernel at batch 1 / largest copy",
                value: decode.value / copy.median,
                threshold: 0.85,
            });
        }
        if let Some(best) = self
            .matmul_library
            .0
            .iter()
            .map(|q| q.median)
            .max_by(f64::total_cmp)
        {
            out.push(Target {
                what: "library matrix product / datasheet peak",
                value: best / self.peaks.flops,
                threshold: 0.70,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every problem [`Profile::validate`] finds in `p`, at its path in the file.
    pub(crate) fn problems(p: &Profile) -> Issues {
        let mut issues = Issues::default();
        p.validate(&YamlPath::root(), &mut issues);
        issues
    }

    #[test]
    fn rates_read_a_profile_at_the_token_budget_and_by_batch() {
        let mut p = Profile::datasheet(find_class("h100_sxm").unwrap());
        p.matmul = curve(&[(1024.0, 4e14), (4096.0, 8e14)]);
        p.decode = curve(&[(1.0, 3e12), (4.0, 2e12), (64.0, 1e12)]);
        let r = p.rates(2048.0, 4096.0, "p.yaml").expect("rates");
        // Halfway in log size between 1024 and 4096.
        assert!((r.flops - 6e14).abs() < 1e3);
        assert_eq!(r.training_flops, 8e14);
        assert_eq!(r.bytes_per_s, 3e12);
        assert_eq!(r.memory_scale[0], 1.0);
        assert!((r.memory_scale[1] - 3e12 / 2.5e12).abs() < 1e-12);
        assert_eq!(r.memory_scale[2], 1.5);
        assert_eq!(r.memory_scale[6], 3.0);
        // Batches 128 and 256 and training's 8192 lie outside the grid: clamped and said.
        assert_eq!(r.memory_scale[8], 3.0);
        assert_eq!(
            r.clamped,
            vec!["matmul at 8192", "decode at 128", "decode at 256"]
        );
        assert_eq!(r.kind, "datasheet profile");
        // FP8 and INT8: the BF16 rate at the token budget x the datasheet's 1,979 / 989.
        let ratio = 1979.0 / 989.0;
        let low = r.low_precision;
        assert!((low.fp8_flops.expect("fp8") / (6e14 * ratio) - 1.0).abs() < 1e-9);
        assert!((low.int8_flops.expect("int8") / (6e14 * ratio) - 1.0).abs() < 1e-9);
        assert!(low.basis.starts_with("derived"));
        // A CPU profile, or a class without FP8 tensor cores, has no FP8 rate.
        let mut cpu = p.clone();
        cpu.class = "cpu".into();
        let c = cpu.rates(2048.0, 4096.0, "cpu.yaml").expect("rates");
        let low = c.low_precision;
        assert_eq!((low.fp8_flops, low.int8_flops), (None, None));
        let mut a100 = Profile::datasheet(find_class("a100_80gb_sxm").unwrap());
        a100.matmul = curve(&[(2048.0, 2e14)]);
        let a = a100.rates(2048.0, 4096.0, "a100.yaml").expect("rates");
        let low = a.low_precision;
        assert_eq!((low.fp8_flops, low.int8_flops), (None, Some(4e14)));
    }

    #[test]
    fn decode_takes_the_faster_of_kernel_and_library_and_kv_the_attention_rate() {
        let mut p = Profile::datasheet(find_class("h200_sxm").unwrap());
        p.decode = curve(&[(1.0, 4.0e12), (64.0, 0.5e12)]);
        p.decode_library = curve(&[(1.0, 3.5e12), (8.0, 3.8e12), (64.0, 3.2e12)]);
        p.attention = curve(&[(512.0, 2.0e12), (8192.0, 3.0e12)]);
        let r = p.rates(2048.0, 2048.0, "h200.yaml").expect("rates");
        // Batch 1: the kernel's 4.0 beats the library's 3.5.
        assert_eq!(r.bytes_per_s, 4.0e12);
        // Batch 8: the kernel is at 4.0 - 3.5 x (3/6) = 2.25 (log-linear), the library 3.8.
        assert!((r.memory_scale[3] - 4.0 / 3.8).abs() < 1e-12);
        assert!((r.memory_scale[6] - 4.0 / 3.2).abs() < 1e-12);
        // 2048 cached positions: halfway in log size between 512 and 8192.
        assert!((r.kv_bytes_per_s.unwrap() - 2.5e12).abs() < 1.0);
        assert!(r.clamped.iter().all(|c| !c.starts_with("attention")));
        // Beyond the attention grid: clamped and said.
        let long = p.rates(2048.0, 32_768.0, "h200.yaml").expect("rates");
        assert_eq!(long.kv_bytes_per_s, Some(3.0e12));
        assert!(long.clamped.contains(&"attention at 32768".to_string()));
        // No attention curve: KV reads follow the decode bandwidth.
        p.attention = Curve::default();
        assert_eq!(p.rates(2048.0, 2048.0, "x").unwrap().kv_bytes_per_s, None);
    }

    #[test]
    fn targets_compare_decode_with_the_largest_copy_and_cublas_with_the_peak() {
        let mut p = Profile::datasheet(find_class("h200_sxm").unwrap());
        p.copy = curve(&[(16e6, 9.0e12), (1e9, 4.0e12)]);
        p.decode = curve(&[(1.0, 3.6e12), (64.0, 0.3e12)]);
        p.matmul_library = curve(&[(1024.0, 3e14), (8192.0, 6.5e14)]);
        let t = p.targets();
        assert_eq!(t.len(), 2);
        assert!((t[0].value - 0.9).abs() < 1e-12 && t[0].met());
        assert!((t[1].value - 6.5e14 / 989e12).abs() < 1e-12 && !t[1].met());
        assert_eq!(t[1].threshold, 0.70);
        assert!(
            Profile::datasheet(find_class("h100_sxm").unwrap())
                .targets()
                .len()
                == 1
        );
    }

    fn curve(points: &[(f64, f64)]) -> Curve {
        Curve(
            points
                .iter()
                .map(|&(x, median)| Point {
                    x,
                    median,
                    spread: 0.01,
                    reps: 10,
                })
                .collect(),
        )
    }

    #[test]
    fn interpolation_is_exact_at_grid_points_monotone_between_and_clamped_outside() {
        let c = curve(&[(1.0, 100.0), (4.0, 300.0), (16.0, 350.0)]);
        for (x, v) in [(1.0, 100.0), (4.0, 300.0), (16.0, 350.0)] {
            assert_eq!(
                c.at(x),
                Some(Reading {
                    value: v,
                    clamped: false
                })
            );
        }
        // Halfway in log size between 1 and 4 is 2.
        assert!((c.at(2.0).unwrap().value - 200.0).abs() < 1e-12);
        let mut last = 0.0;
        for k in 0..=200 {
            let x = 1.0 + 15.0 * f64::from(k) / 200.0;
            let r = c.at(x).unwrap();
            assert!(r.value >= last && !r.clamped, "{x}");
            last = r.value;
        }
        assert_eq!(
            c.at(0.5),
            Some(Reading {
                value: 100.0,
                clamped: true
            })
        );
        assert_eq!(
            c.at(64.0),
            Some(Reading {
                value: 350.0,
                clamped: true
            })
        );
        assert_eq!(Curve::default().at(1.0), None);
    }

    #[test]
    fn datasheet_profiles_round_trip_and_carry_their_citation() {
        for class in GPU_CLASSES {
            let p = Profile::datasheet(class);
            assert!(problems(&p).is_empty(), "{}: {:?}", class.id, problems(&p));
            let back = Profile::from_yaml(&p.to_yaml(), "x").expect("round trip");
            assert_eq!(back, p);
            assert!(
                p.provenance
                    .citation
                    .as_deref()
                    .is_some_and(|c| !c.is_empty())
            );
            assert_eq!(p.compute_efficiency(8192.0), Some(1.0));
        }
    }

    #[test]
    fn committed_datasheet_profiles_match_the_table() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels/profiles/datasheet");
        for class in GPU_CLASSES {
            let p = Profile::load(&dir.join(format!("{}.yaml", class.id)))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p, Profile::datasheet(class), "{}", class.id);
        }
    }

    #[test]
    fn a_derived_profile_keeps_the_measured_efficiencies_on_the_other_peaks() {
        let mut m = Profile::datasheet(find_class("h100_sxm").unwrap());
        m.source = Source::Measured;
        m.provenance.date = Some("2026-11-25".into());
        m.matmul = curve(&[(1024.0, 5e14), (8192.0, 8e14)]);
        m.decode = curve(&[(1.0, 2.8e12), (64.0, 2.5e12)]);
        let pcie = find_class("h100_pcie").unwrap();
        let d = m.derive(pcie, "h100.yaml");
        assert!(problems(&d).is_empty(), "{:?}", problems(&d));
        assert_eq!(d.source, Source::Derived);
        assert!(
            d.provenance
                .derived_from
                .as_deref()
                .unwrap()
                .starts_with("h100.yaml")
        );
        for n in [1024.0, 3000.0, 8192.0] {
            let (a, b) = (
                m.compute_efficiency(n).unwrap(),
                d.compute_efficiency(n).unwrap(),
            );
            assert!((a - b).abs() < 1e-12, "{n}: {a} {b}");
        }
        for batch in [1.0, 8.0, 64.0] {
            let (a, b) = (
                m.decode_efficiency(batch).unwrap(),
                d.decode_efficiency(batch).unwrap(),
            );
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn bad_profiles_are_refused_with_every_problem() {
        let mut p = Profile::datasheet(find_class("h100_sxm").unwrap());
        p.class = "h100".into();
        p.peaks.flops = -1.0;
        p.decode = curve(&[(4.0, 1.0), (2.0, -3.0)]);
        p.source = Source::Measured;
        let e = Profile::from_yaml(&p.to_yaml(), "bad.yaml")
            .unwrap_err()
            .to_string();
        for want in [
            "bad.yaml",
            "class `h100` is not a GPU class",
            "peaks.flops must be a positive rate",
            "decode[1].median must be a positive rate",
            "decode[1].x must be above",
            "needs provenance.device and provenance.date",
        ] {
            assert!(e.contains(want), "`{want}` in {e}");
        }
        let missing = Profile::from_yaml("class: h100_sxm\nsource: measured\n", "m.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("m.yaml") && missing.contains("provenance"),
            "{missing}"
        );
    }
}
