//! From a file (or text) to a validated [`Scenario`], and the JSON Schema of the format.

use std::fmt;
use std::path::Path;

use serde_json::Value;

use super::lines::LineIndex;
use super::overrides::{Override, apply};
use super::raw::RawScenario;
use super::spec::Scenario;
use super::validate::validate;
use crate::core::diagnostics::{Issue, Issues};
use crate::core::path::{Seg, YamlPath};

/// Why a scenario could not be loaded. Every variant is the user's to fix (exit code 2).
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read.
    Read {
        /// The path as given.
        path: String,
        /// What the system said.
        reason: String,
    },
    /// The text is not valid YAML; the message shows the line with a caret.
    Syntax {
        /// Where the text came from.
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// A `--set` argument is malformed or does not fit the document.
    Override(String),
    /// The document parsed but has problems: all of them, in file order.
    Invalid {
        /// Where the text came from.
        origin: String,
        /// The problems.
        issues: Vec<Issue>,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Read { path, reason } => write!(
                f,
                "cannot read scenario file `{path}`: {reason}\n    fix: check the path (shipped scenarios are in scenarios/)"
            ),
            LoadError::Syntax { origin, message } => {
                write!(f, "{origin}: not valid YAML:\n{message}")
            }
            LoadError::Override(m) => write!(f, "{m}"),
            LoadError::Invalid { origin, issues } => {
                let n = issues.len();
                write!(f, "{origin}: {n} problem{}:", if n == 1 { "" } else { "s" })?;
                for i in issues {
                    write!(f, "\n  {i}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// Loads and validates the scenario at `path`, applying `overrides` in order.
pub fn load_file(path: &Path, overrides: &[Override]) -> Result<Scenario, LoadError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| LoadError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| LoadError::Syntax {
        origin: shown.clone(),
        message: format!(
            "the file is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    let dir = path.parent().unwrap_or(Path::new("."));
    load_str_in(&text, &shown, &stem, overrides, dir)
}

/// Loads and validates scenario `text`; `origin` names it in messages and `stem` is the
/// default scenario name. Files it names are read relative to the working directory.
pub fn load_str(
    text: &str,
    origin: &str,
    stem: &str,
    overrides: &[Override],
) -> Result<Scenario, LoadError> {
    load_str_in(text, origin, stem, overrides, Path::new("."))
}

/// [`load_str`], reading the files the scenario names relative to `dir`.
pub fn load_str_in(
    text: &str,
    origin: &str,
    stem: &str,
    overrides: &[Override],
    dir: &Path,
) -> Result<Scenario, LoadError> {
    let mut doc = parse(text, origin)?;
    let original = (!overrides.is_empty()).then(|| doc.clone());
    for ov in overrides {
        apply(&mut doc, ov).map_err(LoadError::Override)?;
    }
    let lines = LineIndex::build(text);
    let final_doc = original.as_ref().map(|_| doc.clone());
    let from_override = |p: &YamlPath| match (&original, &final_doc) {
        (Some(before), Some(after)) => value_at(before, p) != value_at(after, p),
        _ => false,
    };
    let invalid = |issues: Issues| LoadError::Invalid {
        origin: origin.to_string(),
        issues: issues.into_located(|p| lines.locate_below_root(p), from_override),
    };
    let (raw, mut issues) = structure(doc);
    let Some(raw) = raw else {
        return Err(invalid(issues));
    };
    match validate(raw, stem, dir) {
        Ok(mut s) if issues.is_empty() => {
            s.question = opening_comment(text);
            Ok(s)
        }
        Ok(_) => Err(invalid(issues)),
        Err(more) => {
            issues.append(more);
            Err(invalid(issues))
        }
    }
}

/// The comment lines a file opens with, without their `#` (and one space after it), up to
/// the first line that is not a comment; none if it opens otherwise.
fn opening_comment(text: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .take_while(|l| l.starts_with('#'))
        .map(|l| {
            let l = &l[1..];
            l.strip_prefix(' ').unwrap_or(l)
        })
        .collect();
    let joined = lines.join("\n");
    let trimmed = joined.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// The value at `path` in a document, if there is one.
fn value_at<'a>(doc: &'a Value, path: &YamlPath) -> Option<&'a Value> {
    path.segments().iter().try_fold(doc, |v, seg| match seg {
        Seg::Key(k) => v.get(k.as_str()),
        Seg::Index(i) => v.get(*i),
    })
}

/// Parses YAML into a document; an empty file is an empty mapping.
pub(super) fn parse(text: &str, origin: &str) -> Result<Value, LoadError> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    let doc: Value = serde_saphyr::from_str(text).map_err(|e| LoadError::Syntax {
        origin: origin.to_string(),
        message: syntax_message(&e.to_string(), origin),
    })?;
    Ok(if doc.is_null() {
        Value::Object(Default::default())
    } else {
        doc
    })
}

/// The parser's message in the user's terms: the file's name instead of `<input>`, the
/// parser's own configuration hints replaced by what to do, and a fix line.
fn syntax_message(message: &str, origin: &str) -> String {
    const HINTS: [(&str, &str, &str); 5] = [
        (
            ", set DuplicateKeyPolicy in Options if acceptable",
            "",
            "a key appears twice in the same mapping: keep one",
        ),
        (
            " rejected by the configured policy",
            " (numbers must be finite)",
            "write a finite number",
        ),
        (
            "use from_str_multiple or from_str_multiple_with_options",
            "a scenario file holds one document",
            "remove the extra `---` documents",
        ),
        (
            "budget breached",
            "the document is too large or too deeply nested",
            "simplify the file",
        ),
        (
            "",
            "",
            "check the indentation, colons, brackets and quotes at that line",
        ),
    ];
    let mut text = message.replace("<input>", origin);
    let mut fix = "";
    for (needle, replacement, hint) in HINTS {
        if text.contains(needle) {
            if !needle.is_empty() {
                text = text.replace(needle, replacement);
            }
            fix = hint;
            break;
        }
    }
    format!("{}\n    fix: {fix}", text.trim_end())
}

/// Deserializes the document into the serde mirror. Every structural problem is found first
/// by a walk against the schema; unknown fields alone do not stop deserialization, so the
/// values can still be validated and every problem reported in one pass.
fn structure(doc: Value) -> (Option<RawScenario>, Issues) {
    let root = YamlPath::root();
    let mut issues = Issues::default();
    let Value::Object(map) = &doc else {
        issues.push(&root, format!("the top level must be a mapping of sections, found {}", kind(&doc)), "start from scenarios/quickstart.yaml: sections `regions`, `providers`, `inference`, ...");
        return (None, issues);
    };
    let mut missing = false;
    for (section, example) in [
        ("regions", "regions: [{name: us-east}]"),
        (
            "providers",
            "providers: [{name: dc, region: us-east, gpu: h100_sxm, count: 8, hourly_cost_usd: 2.0}]",
        ),
        (
            "inference",
            "inference: {users: [{region: us-east, rate_per_s: 10}]}",
        ),
    ] {
        if !map.contains_key(section) {
            missing = true;
            issues.push(
                &root.key(section),
                format!("required section `{section}` is missing"),
                format!("add it, e.g. `{example}`"),
            );
        }
    }
    let found = super::shape::check(&doc, schema(), &mut issues);
    if missing || found.fatal > 0 {
        return (None, issues);
    }
    match serde_path_to_error::deserialize(doc) {
        Ok(raw) => (Some(raw), issues),
        Err(e) => {
            let e: serde_path_to_error::Error<serde_json::Error> = e;
            issues.push(
                &YamlPath::from_serde(e.path()),
                plain(&e.inner().to_string()),
                "see `depinsim schema` for the expected form",
            );
            (None, issues)
        }
    }
}

/// Serde names the Rust type it expected ("struct RawRegion"); users wrote a mapping.
fn plain(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("struct Raw") {
        out.push_str(&rest[..i]);
        rest = &rest[i + "struct Raw".len()..];
        let end = rest
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(rest.len());
        out.push_str("a mapping");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The JSON Schema of scenario files, pretty-printed.
pub fn schema_json() -> String {
    serde_json::to_string_pretty(&schema_value()).unwrap_or_default()
}

/// The JSON Schema of scenario files.
pub fn schema_value() -> Value {
    schema().clone()
}

/// The JSON Schema of scenario files, generated once per process: every load walks the
/// document against it, and a sweep loads every variant.
fn schema() -> &'static Value {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| schemars::schema_for!(RawScenario).to_value())
}
