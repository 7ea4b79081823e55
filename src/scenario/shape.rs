//! A walk of the document against the JSON Schema, before serde sees it, so that every
//! structural problem is reported at once and in the user's words: unknown fields (with the
//! nearest known name), a list where a mapping belongs (serde would fill a struct from it by
//! position), a value of the wrong type, an unknown choice or distribution.

use serde_json::Value;

use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;

/// What the walk found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// Problems that stop deserialization (wrong types, unknown choices).
    pub fatal: usize,
    /// Unknown fields: reported, but the rest can still be validated.
    pub unknown: usize,
}

/// Records an issue for every structural problem in `doc`.
pub fn check(doc: &Value, schema: &Value, issues: &mut Issues) -> Found {
    let mut found = Found::default();
    Walk {
        root: schema,
        issues,
        found: &mut found,
    }
    .walk(doc, schema, &YamlPath::root());
    found
}

struct Walk<'a> {
    root: &'a Value,
    issues: &'a mut Issues,
    found: &'a mut Found,
}

impl Walk<'_> {
    fn fatal(&mut self, path: &YamlPath, message: String, fix: &str) {
        self.found.fatal += 1;
        self.issues.push(path, message, fix);
    }

    fn walk(&mut self, value: &Value, node: &Value, path: &YamlPath) {
        let Some(node) = self.resolve(node, value, path) else {
            return;
        };
        if let Some(expected) = type_mismatch(node, value) {
            let fix = if expected == "a mapping" {
                "write `field: value` pairs (see `depinsim schema`)"
            } else {
                "see `depinsim schema` for the expected form"
            };
            self.fatal(
                path,
                format!("expected {expected}, found {}", describe(value)),
                fix,
            );
            return;
        }
        let min = node.get("minimum").and_then(Value::as_f64);
        if let (Some(min), Some(x)) = (min, value.as_f64())
            && x < min
        {
            self.fatal(
                path,
                format!("must be at least {min}, got {x}"),
                "give a value of 0 or more",
            );
            return;
        }
        if node.get("format").and_then(Value::as_str) == Some("uint32")
            && value.as_f64().is_some_and(|x| x > f64::from(u32::MAX))
        {
            self.fatal(
                path,
                format!("is too large, got {value}"),
                "give a smaller whole number",
            );
            return;
        }
        match value {
            Value::Array(items) => {
                if let Some(item) = node.get("items") {
                    for (i, v) in items.iter().enumerate() {
                        self.walk(v, item, &path.index(i));
                    }
                }
            }
            Value::Object(map) => self.fields(map, node, path),
            _ => {}
        }
    }

    fn fields(&mut self, map: &serde_json::Map<String, Value>, node: &Value, path: &YamlPath) {
        let props = node.get("properties").and_then(Value::as_object);
        let closed = node.get("additionalProperties") == Some(&Value::Bool(false));
        for (k, v) in map {
            let child = props
                .and_then(|p| p.get(k))
                .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()));
            match child {
                Some(child) => self.walk(v, child, &path.key(k.clone())),
                None if closed => {
                    self.found.unknown += 1;
                    let known: Vec<&str> = props
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let fix = match nearest(k, &known) {
                        Some(n) => {
                            format!("did you mean `{n}`? (`depinsim schema` lists every field)")
                        }
                        None => format!("remove it; the fields here are: {}", known.join(", ")),
                    };
                    self.issues
                        .push(&path.key(k.clone()), format!("unknown field `{k}`"), fix);
                }
                None => {}
            }
        }
    }

    /// Follows `$ref`s and picks the branch of a `oneOf`/`anyOf` that the value takes,
    /// reporting an unknown choice. None when the value has already been reported.
    fn resolve<'n>(
        &mut self,
        mut node: &'n Value,
        value: &Value,
        path: &YamlPath,
    ) -> Option<&'n Value>
    where
        Self: 'n,
    {
        let root = self.root;
        for _ in 0..16 {
            if let Some(Value::String(r)) = node.get("$ref") {
                node = r
                    .strip_prefix("#/$defs/")
                    .and_then(|name| root.get("$defs")?.get(name))?;
            } else if let Some(Value::Array(branches)) =
                node.get("anyOf").or_else(|| node.get("oneOf"))
            {
                node = self.branch(branches, value, path)?;
            } else {
                return Some(node);
            }
        }
        Some(node)
    }

    fn branch<'n>(
        &mut self,
        branches: &'n [Value],
        value: &Value,
        path: &YamlPath,
    ) -> Option<&'n Value> {
        let null_branch = branches
            .iter()
            .find(|b| b.get("type") == Some(&Value::from("null")));
        if let (true, Some(b)) = (value.is_null(), null_branch) {
            return Some(b);
        }
        let non_null: Vec<&Value> = branches
            .iter()
            .filter(|b| b.get("type") != Some(&Value::from("null")))
            .collect();
        if let [one] = non_null.as_slice() {
            return Some(one);
        }
        let consts: Vec<&str> = non_null
            .iter()
            .filter_map(|b| b.get("const").and_then(Value::as_str))
            .collect();
        let tags: Vec<&str> = non_null
            .iter()
            .filter_map(|b| b.get("required")?.get(0)?.as_str())
            .collect();
        let chosen = match value {
            Value::String(s) => non_null
                .iter()
                .find(|b| b.get("const").and_then(Value::as_str) == Some(s)),
            Value::Object(m) if m.len() == 1 => m.keys().next().and_then(|k| {
                non_null.iter().find(|b| {
                    b.get("required")
                        .and_then(|r| r.get(0))
                        .and_then(Value::as_str)
                        == Some(k)
                })
            }),
            Value::Number(_) => non_null.iter().find(|b| numeric(b)),
            _ => None,
        };
        if chosen.is_none() {
            let options = if consts.is_empty() { tags } else { consts };
            let what = match value {
                Value::Object(m) if m.len() == 1 => format!(
                    "unknown choice `{}`",
                    m.keys().next().map(String::as_str).unwrap_or_default()
                ),
                Value::String(s) => format!("unknown choice `{s}`"),
                other => format!("expected one of the choices, found {}", describe(other)),
            };
            let shape = if options
                .iter()
                .any(|o| ["exponential", "constant"].contains(o))
            {
                " as a one-key mapping, e.g. {exponential: {mean: 0.5}}"
            } else {
                ""
            };
            let number = if non_null.iter().any(|b| numeric(b)) {
                ", or a whole number"
            } else {
                ""
            };
            self.fatal(
                path,
                what,
                &format!("use one of: {}{number}{shape}", options.join(", ")),
            );
        }
        chosen.copied()
    }
}

/// Whether a branch of a choice is a number rather than a named choice.
fn numeric(branch: &Value) -> bool {
    branch.get("const").is_none()
        && matches!(
            branch.get("type").and_then(Value::as_str),
            Some("integer" | "number")
        )
}

/// What the schema node expects, when the value is not of that type.
fn type_mismatch(node: &Value, value: &Value) -> Option<&'static str> {
    let types: Vec<&str> = match node.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    let ok = types.iter().any(|t| match *t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64()
                || value.is_u64()
                || value
                    .as_f64()
                    .is_some_and(|x| x.fract() == 0.0 && x.abs() < 9e15)
        }
        _ => true,
    });
    if ok {
        return None;
    }
    Some(match types.first().copied().unwrap_or_default() {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "text",
        "boolean" => "true or false",
        "integer" => "a whole number",
        "number" => "a number",
        _ => "another kind of value",
    })
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the text `{s}`"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// The known name closest to `name` (edit distance at most a third of its length, min 2).
fn nearest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    let limit = (name.chars().count() / 3).max(2);
    known
        .iter()
        .map(|k| (levenshtein(name, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load::schema_value;

    /// The paths and messages of every problem found in `yaml`.
    fn problems(yaml: &str) -> Vec<String> {
        let doc: Value = serde_saphyr::from_str(yaml).expect("yaml");
        let mut issues = Issues::default();
        check(&doc, &schema_value(), &mut issues);
        issues
            .into_located(|_| None, |_| false)
            .iter()
            .map(|i| format!("{}: {}", i.path, i.message))
            .collect()
    }

    fn check_one(yaml: &str, expected: &[&str]) {
        let got = problems(yaml);
        assert_eq!(got.len(), expected.len(), "{yaml}\n{got:#?}");
        for (g, e) in got.iter().zip(expected) {
            assert!(g.contains(e), "{yaml}: `{g}` lacks `{e}`");
        }
    }

    #[test]
    fn a_well_formed_document_has_no_problems() {
        check_one(
            "regions: [{name: a}]\nsimulation: {horizon_h: 2, seed: 3}\ninference: {routing: least_latency, prompt_tokens: {lognormal: {median: 5, sigma: 1}}, service_time_s: null}",
            &[],
        );
    }

    #[test]
    fn every_structural_problem_is_found() {
        check_one(
            "simulation: [1, 2]",
            &["simulation: expected a mapping, found a list"],
        );
        check_one(
            "simulation: {horizon_h: abc}",
            &["simulation.horizon_h: expected a number, found the text `abc`"],
        );
        check_one(
            "simulation: {replications: 2.5}",
            &["expected a whole number"],
        );
        check_one(
            "providers: [{count: -3}]",
            &["providers[0].count: must be at least 0"],
        );
        check_one("simulation: {horizn_h: 5}", &["unknown field `horizn_h`"]);
        check_one(
            "inference: {routing: fastest}",
            &["inference.routing: unknown choice `fastest`"],
        );
        check_one(
            "inference: {prompt_tokens: {expo: {mean: 1}}}",
            &["unknown choice `expo`"],
        );
        check_one(
            "inference: {prompt_tokens: {exponential: {mean: 1, foo: 2}}}",
            &["prompt_tokens.exponential.foo: unknown field"],
        );
        check_one(
            "inference: {prompt_tokens: 5}",
            &["expected one of the choices, found the number 5"],
        );
        check_one("network: {rtt_ms: {a: [1, 2]}}", &["expected a mapping"]);
        check_one(
            "inference: {users: [{daily_cycle: [0.5]}]}",
            &["daily_cycle: expected a mapping"],
        );
        check_one(
            "simulation: {horizon_h: x, warmup_h: y}\nregions: [[a]]\ncolour: red",
            &[
                "unknown field `colour`",
                "regions[0]",
                "horizon_h",
                "warmup_h",
            ],
        );
    }

    #[test]
    fn unknown_fields_get_the_nearest_name() {
        assert_eq!(
            nearest("bandwith_mbps", &["name", "bandwidth_mbps", "utc_offset_h"]),
            Some("bandwidth_mbps")
        );
        assert_eq!(nearest("zzz", &["name", "bandwidth_mbps"]), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
