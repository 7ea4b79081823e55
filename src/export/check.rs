//! What `depinsim check` writes: check.json (every verdict with its figures) and JUnit XML
//! (one test case per metric, for CI systems' test reports).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::baseline::Baseline;
use super::file::{WriteError, write_atomic, write_json_atomic};
use crate::core::markup::escape;
use crate::metrics::regression::{
    Checked, Direction, EQUIVALENCE_LEVEL, FAMILY_ALPHA, Judgement, Outcome, Verdict,
};

/// How the run was judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// summary.json is byte-identical to the baseline's: passed at once.
    Exact,
    /// Metric by metric, paired replications against the margins.
    Statistical,
}

/// The contents of check.json.
#[derive(Debug, Serialize)]
pub struct CheckReport<'a> {
    /// The scenario's name.
    pub scenario: &'a str,
    /// The baseline file, as given.
    pub baseline_file: String,
    /// The master seed both sides ran on.
    pub seed: u64,
    /// Replications paired with the baseline's.
    pub pairs: usize,
    /// This depinsim's version.
    pub depinsim_version: &'static str,
    /// The version that wrote the baseline.
    pub baseline_version: &'a str,
    /// How the run was judged.
    pub tier: Tier,
    /// The baseline's summary.json SHA-256.
    pub baseline_summary_sha256: &'a str,
    /// The run's summary.json SHA-256.
    pub summary_sha256: &'a str,
    /// The family-wise error rate of the regression verdicts (Holm's correction).
    pub family_alpha: f64,
    /// The confidence of the equivalence intervals.
    pub equivalence_level: f64,
    /// Metrics in Holm's family.
    pub family: usize,
    /// The whole check's outcome.
    pub outcome: Outcome,
    /// The exit code it gives.
    pub exit_code: u8,
    /// Every metric of the baseline, judged.
    pub metrics: &'a [Judgement],
    /// Metrics new in the run: listed, not judged.
    pub new_metrics: &'a [String],
    /// What the reader should know about how the run was judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl<'a> CheckReport<'a> {
    /// The report of `checked`, a run of `baseline` (read from `baseline_file`) whose
    /// summary.json hashes to `summary_sha256`, over `pairs` paired replications: the exact
    /// tier when the hashes match (a pass), else the statistical tier's outcome.
    pub fn new(
        baseline: &'a Baseline,
        baseline_file: &Path,
        summary_sha256: &'a str,
        checked: &'a Checked,
        pairs: usize,
    ) -> Self {
        // The hash alone is trusted only while the baseline's values agree with it: a
        // baseline edited by hand is judged metric by metric, so that the exit code, the
        // verdicts and the JUnit file never disagree.
        let same = baseline.summary_sha256 == summary_sha256;
        let outcome = Outcome::of(checked);
        let tier = if same && outcome == Outcome::Pass {
            Tier::Exact
        } else {
            Tier::Statistical
        };
        let note = (same && tier == Tier::Statistical).then(|| {
            "summary.json is byte-identical to the baseline's, but the baseline's values are not the run's (was it edited?): judged metric by metric".to_string()
        });
        Self {
            scenario: &baseline.scenario,
            baseline_file: baseline_file.display().to_string(),
            seed: baseline.seed,
            pairs,
            depinsim_version: env!("CARGO_PKG_VERSION"),
            baseline_version: &baseline.depinsim_version,
            tier,
            baseline_summary_sha256: &baseline.summary_sha256,
            summary_sha256,
            family_alpha: FAMILY_ALPHA,
            equivalence_level: EQUIVALENCE_LEVEL,
            family: checked.family,
            outcome,
            exit_code: outcome.exit_code(),
            metrics: &checked.metrics,
            new_metrics: &checked.new_metrics,
            note,
        }
    }

    /// Writes check.json to `path` (an existing file only when `replace`).
    ///
    /// # Errors
    /// As [`write_json_atomic`].
    pub fn write_json(&self, path: &Path, replace: bool) -> Result<(), WriteError> {
        write_json_atomic(path, self, replace)
    }

    /// Writes the JUnit XML to `path` (an existing file only when `replace`).
    ///
    /// # Errors
    /// As [`write_atomic`].
    pub fn write_junit(&self, path: &Path, replace: bool) -> Result<(), WriteError> {
        write_atomic(path, self.junit().as_bytes(), replace)
    }

    /// Adds a note for the reader (after any already there).
    pub fn add_note(&mut self, text: &str) {
        self.note = Some(match self.note.take() {
            Some(n) => format!("{n}; {text}"),
            None => text.to_string(),
        });
    }

    /// The check as JUnit XML: a suite named after the scenario with the seed, versions, tier
    /// and hashes as properties, one test case per metric; a regression is a failure
    /// carrying the values, an inconclusive metric is skipped with the replications it
    /// needs.
    pub fn junit(&self) -> String {
        let count = |v: Verdict| self.metrics.iter().filter(|j| j.verdict == v).count();
        let (failures, skipped) = (count(Verdict::Regression), count(Verdict::Inconclusive));
        let tests = self.metrics.len();
        let suite = escape(self.scenario);
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            x,
            "<testsuites name=\"depinsim check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"0\">"
        );
        let _ = writeln!(
            x,
            "  <testsuite name=\"{suite}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"0\">"
        );
        x.push_str("    <properties>\n");
        let tier = match self.tier {
            Tier::Exact => "exact",
            Tier::Statistical => "statistical",
        };
        for (name, value) in [
            ("seed", self.seed.to_string()),
            ("depinsim_version", self.depinsim_version.to_string()),
            ("baseline_version", self.baseline_version.to_string()),
            ("baseline_file", self.baseline_file.clone()),
            ("tier", tier.to_string()),
            ("summary_sha256", self.summary_sha256.to_string()),
            (
                "baseline_summary_sha256",
                self.baseline_summary_sha256.to_string(),
            ),
            ("family_alpha", FAMILY_ALPHA.to_string()),
            ("equivalence_level", EQUIVALENCE_LEVEL.to_string()),
        ] {
            let _ = writeln!(
                x,
                "      <property name=\"{name}\" value=\"{}\"/>",
                escape(&value)
            );
        }
        x.push_str("    </properties>\n");
        for j in self.metrics {
            let name = escape(&j.metric);
            let open = format!("    <testcase name=\"{name}\" classname=\"{suite}\" time=\"0\"");
            match j.verdict {
                Verdict::Pass | Verdict::Improvement => {
                    let _ = writeln!(x, "{open}>");
                    let _ = writeln!(x, "      <system-out>{}</system-out>", escape(&describe(j)));
                    x.push_str("    </testcase>\n");
                }
                Verdict::Regression => {
                    let _ = writeln!(x, "{open}>");
                    let _ = writeln!(
                        x,
                        "      <failure message=\"{}\" type=\"regression\">{}</failure>",
                        escape(&headline(j)),
                        escape(&describe(j))
                    );
                    x.push_str("    </testcase>\n");
                }
                Verdict::Inconclusive => {
                    let _ = writeln!(x, "{open}>");
                    let _ = writeln!(x, "      <skipped message=\"{}\"/>", escape(&headline(j)));
                    x.push_str("    </testcase>\n");
                }
            }
        }
        x.push_str("  </testsuite>\n</testsuites>\n");
        x
    }
}

/// One line: the verdict and the change against the margin.
fn headline(j: &Judgement) -> String {
    let verdict = match j.verdict {
        Verdict::Pass => "pass",
        Verdict::Regression => "regression",
        Verdict::Improvement => "improvement",
        Verdict::Inconclusive => "inconclusive",
    };
    if let Some(note) = &j.note {
        return format!("{verdict}: {note}");
    }
    let mut s = format!(
        "{verdict}: change {} (90% interval {} to {}), margin {} ({})",
        j.change,
        j.ci90_low,
        j.ci90_high,
        j.margin,
        direction(j.direction)
    );
    if j.verdict == Verdict::Inconclusive {
        match j.replications_needed {
            Some(n) => {
                let _ = write!(s, "; about {n} replications would decide");
            }
            None => s.push_str("; more replications alone would not decide"),
        }
    }
    s
}

/// The headline with the means and the test's p-value.
fn describe(j: &Judgement) -> String {
    let mut s = format!(
        "{}\nbaseline {}, now {}, over {} paired replications",
        headline(j),
        j.baseline,
        j.now,
        j.n
    );
    if let Some(p) = j.p_regression {
        let _ = write!(s, "; p-value of the regression test before correction {p}");
    }
    s
}

/// Which way is worse, in words.
pub fn direction(d: Direction) -> &'static str {
    match d {
        Direction::HigherIsWorse => "higher is worse",
        Direction::LowerIsWorse => "lower is worse",
        Direction::Both => "either way",
    }
}

/// Writes what the self-test measured to `path` as JSON (an existing file only when
/// `replace`).
///
/// # Errors
/// As [`write_json_atomic`].
pub fn write_self_test(
    path: &Path,
    measured: &crate::metrics::self_test::SelfTest,
    replace: bool,
) -> Result<(), WriteError> {
    write_json_atomic(path, measured, replace)
}
