//! `--set path.to.field=value` overrides, applied to a parsed scenario document before it is
//! deserialized, so that any field (defaulted ones included) can be changed from the command
//! line without editing the file.
//!
//! Values are read as YAML with serde-saphyr's default options, the same as the scenario file,
//! with these consequences users may not expect (observed with serde-saphyr 2.2):
//! - YAML 1.1 booleans are accepted: `yes`, `no`, `on`, `off`, `y`, `n` (any case) are booleans,
//!   so `--set name=no` sets `false`; quote it (`name='"no"'`) for the string.
//! - `null`, `~` and an all-blank value are null (only a value that is exactly empty is the
//!   empty string, see [`parse_override`]).
//! - `0x10`, `0o10` and `0b101` are integers, `1_000` is 1000, but a leading zero gives a
//!   float: `010` is `10.0`, not 8 and not 10.
//! - Integers beyond `i64`/`u64` become floats; `.inf`, `.nan` and overflowing floats such as
//!   `1e400` are rejected.
//! - `-` alone is a one-item list `[null]`, `a: b` is a mapping, and a value starting with `#`
//!   is a comment, so `--set a=#x` sets null.
//! - Timestamps (`2024-01-01`) and times (`12:30`) stay strings.
//!
//! A scalar becomes a JSON number or bool even where the scenario expects a string (a region
//! named `5`), so a typed deserializer that reads this value must accept that or the user must
//! quote the value.

use serde_json::{Map, Value};

use crate::core::path::YamlPath;

/// One parsed `--set` argument.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// Where to write, outermost step first.
    pub path: Vec<OverrideSeg>,
    /// What to write there.
    pub value: Value,
    /// The argument as the user gave it, for error messages.
    pub text: String,
}

/// One step of an [`Override`] path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverrideSeg {
    /// A `.key` step. An all-digit key into a sequence selects by position, any other key into
    /// a sequence selects the element with that `name`.
    Key(String),
    /// A `[n]` step.
    Index(usize),
}

impl Override {
    /// The path as written, for error reporting; an all-digit key stays a key.
    pub fn yaml_path(&self) -> YamlPath {
        self.path
            .iter()
            .fold(YamlPath::root(), |acc, seg| match seg {
                OverrideSeg::Key(k) => acc.key(k.as_str()),
                OverrideSeg::Index(i) => acc.index(*i),
            })
    }

    /// Sets the field at `keys` (mapping keys, outermost first) to `value`, as
    /// `--set keys=value` would: for flags that stand for an override (`--seed`).
    pub fn field(keys: &[&str], value: Value) -> Self {
        let path = keys
            .iter()
            .map(|k| OverrideSeg::Key((*k).to_owned()))
            .collect();
        let mut ov = Self {
            path,
            value,
            text: String::new(),
        };
        ov.text = format!("{}={}", ov.yaml_path(), ov.value);
        ov
    }
}

const EXAMPLE: &str = "e.g. --set simulation.horizon_h=48";

/// Parses `a.b[0].c=value` or `a.b.0.c=value`.
///
/// The path is split at the first `=` outside a quoted key; a key containing `.`, `[`, `]`,
/// `=` or whitespace can be written quoted, as paths are printed: `labels."a.b"=x`. The value
/// is parsed as YAML with serde-saphyr, so `5` is a number, `true` a bool, `[1, 2]` a list,
/// `{mean: 2}` a mapping and `us-east` a string; an empty value is the empty string.
///
/// Errors name the argument and the fix, e.g.
/// `--set 'foo': expected PATH=VALUE, e.g. --set simulation.horizon_h=48`.
pub fn parse_override(arg: &str) -> Result<Override, String> {
    let fail = |msg: String| format!("--set '{arg}': {msg}");
    let Some((path_text, value_text)) = split_assignment(arg) else {
        return Err(fail(format!("expected PATH=VALUE, {EXAMPLE}")));
    };
    let path = parse_path(path_text.trim()).map_err(fail)?;
    let value = parse_value(path_text, value_text).map_err(fail)?;
    Ok(Override {
        path,
        value,
        text: arg.to_owned(),
    })
}

/// Splits at the first `=` that is not inside a quoted key.
fn split_assignment(arg: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    let mut escaped = false;
    for (pos, c) in arg.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '=' if !quoted => return Some((arg.get(..pos)?, arg.get(pos + 1..)?)),
            _ => {}
        }
    }
    None
}

fn parse_value(path: &str, text: &str) -> Result<Value, String> {
    if text.is_empty() {
        return Ok(Value::String(String::new()));
    }
    serde_saphyr::from_str::<Value>(text).map_err(|e| {
        let reason = e.without_snippet().to_string();
        let reason = reason.lines().next().unwrap_or_default().to_owned();
        format!(
            "VALUE '{text}' is not valid YAML ({reason}); \
             to pass it as a string, quote it: --set '{path}=\"{text}\"'"
        )
    })
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn parse_path(text: &str) -> Result<Vec<OverrideSeg>, String> {
    if text.is_empty() {
        return Err(format!("missing PATH before '=', {EXAMPLE}"));
    }
    let mut chars = text.chars().peekable();
    let mut segs = Vec::new();
    loop {
        parse_step(&mut chars, &mut segs).map_err(|m| format!("PATH '{text}': {m}"))?;
        match chars.next() {
            None => return Ok(segs),
            Some('.') => {}
            Some(c) => {
                return Err(format!(
                    "unexpected '{c}' in PATH '{text}'; separate keys with '.' and quote \
                     keys containing '{c}', e.g. labels.\"a{c}b\""
                ));
            }
        }
    }
}

/// One key (bare or quoted) followed by any number of `[n]`; only the first step may be a
/// bare `[n]`, which addresses a document that is a list.
fn parse_step(chars: &mut Chars<'_>, segs: &mut Vec<OverrideSeg>) -> Result<(), String> {
    match chars.peek() {
        Some('"') => segs.push(OverrideSeg::Key(parse_quoted(chars)?)),
        Some('[') if segs.is_empty() => {}
        _ => segs.push(OverrideSeg::Key(parse_bare(chars)?)),
    }
    while chars.next_if_eq(&'[').is_some() {
        segs.push(OverrideSeg::Index(parse_index(chars)?));
    }
    Ok(())
}

fn parse_bare(chars: &mut Chars<'_>) -> Result<String, String> {
    let mut key = String::new();
    while let Some(c) = chars.next_if(|c| !matches!(c, '.' | '[' | ']' | '"')) {
        key.push(c);
    }
    if key.is_empty() {
        return Err(
            "empty key; write one '.' between keys, and \"\" for a key that is really empty"
                .to_owned(),
        );
    }
    Ok(key)
}

fn parse_quoted(chars: &mut Chars<'_>) -> Result<String, String> {
    chars.next();
    let mut key = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(key),
            '\\' => key.extend(chars.next()),
            _ => key.push(c),
        }
    }
    Err("unterminated quoted key; close it with '\"', e.g. labels.\"a.b\"".to_owned())
}

fn parse_index(chars: &mut Chars<'_>) -> Result<usize, String> {
    let mut digits = String::new();
    while let Some(c) = chars.next_if(|c| *c != ']') {
        digits.push(c);
    }
    if chars.next().is_none() {
        return Err(format!(
            "missing ']' after '[{digits}'; write e.g. regions[0]"
        ));
    }
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'[{digits}]' is not a list position; use a whole number, e.g. regions[0]"
        ));
    }
    digits
        .parse()
        .map_err(|_| format!("list position [{digits}] is too large"))
}

/// Applies an override to a parsed scenario document.
///
/// - a key into a mapping replaces the value or inserts it (so defaulted fields can be set);
/// - a key into a sequence of mappings selects the element whose `name` field equals the key
///   (so `--set providers.us-h100.count=4` works); it is an error if none or several match;
/// - an index (or an all-digit key) into a sequence selects that element; out of range is an
///   error that gives the length;
/// - missing intermediate mappings are created when the parent is a mapping or null;
/// - stepping into a scalar is an error naming the path prefix and what is there.
///
/// A document that is null (an empty file) is treated as an empty mapping. On error the
/// document is left unchanged; errors name the `--set` argument, the path prefix where it
/// failed, and the fix.
pub fn apply(doc: &mut Value, ov: &Override) -> Result<(), String> {
    let fail = |msg: String| format!("--set '{}': {msg}", ov.text);
    let Some((last, init)) = ov.path.split_last() else {
        return Err(fail(format!("missing PATH before '=', {EXAMPLE}")));
    };
    // Work on a copy so that a failure halfway leaves no created mappings behind.
    let mut work = doc.clone();
    let mut at = YamlPath::root();
    let mut cur = &mut work;
    for seg in init {
        cur = descend(cur, seg, &mut at).map_err(fail)?;
    }
    let target = descend(cur, last, &mut at).map_err(fail)?;
    *target = ov.value.clone();
    *doc = work;
    Ok(())
}

/// Where a step leads within its parent.
enum Slot {
    Field(String),
    Item(usize),
}

/// Takes one step from `cur` (at path `at`), creating a null placeholder for a missing key,
/// and extends `at` to the place reached.
fn descend<'v>(
    cur: &'v mut Value,
    seg: &OverrideSeg,
    at: &mut YamlPath,
) -> Result<&'v mut Value, String> {
    if cur.is_null() && matches!(seg, OverrideSeg::Key(_)) {
        *cur = Value::Object(Map::new());
    }
    let slot = resolve(cur, seg, at)?;
    let (next, child) = match (cur, slot) {
        (Value::Object(map), Slot::Field(k)) => {
            (at.key(k.as_str()), map.entry(k).or_insert(Value::Null))
        }
        (Value::Array(items), Slot::Item(i)) => (
            at.index(i),
            items
                .get_mut(i)
                .ok_or_else(|| format!("{at}[{i}] disappeared while applying the override"))?,
        ),
        _ => return Err(format!("{at} changed while applying the override")),
    };
    *at = next;
    Ok(child)
}

fn resolve(cur: &Value, seg: &OverrideSeg, at: &YamlPath) -> Result<Slot, String> {
    match (cur, seg) {
        (Value::Object(_), OverrideSeg::Key(k)) => Ok(Slot::Field(k.clone())),
        (Value::Array(items), OverrideSeg::Index(i)) => item_slot(items, *i, at),
        (Value::Array(items), OverrideSeg::Key(k)) => match digits_index(k, at)? {
            Some(i) => item_slot(items, i, at),
            None => named_slot(items, k, at),
        },
        (Value::Object(_), OverrideSeg::Index(i)) => Err(format!(
            "{at} is a mapping, not a list, so it has no item [{i}]; select a field by name, \
             e.g. {}",
            at.key("FIELD")
        )),
        (Value::Null, OverrideSeg::Index(i)) => Err(format!(
            "{at} is empty (null), so it has no item [{i}]; set the whole list instead, \
             e.g. --set {}=[...]",
            settable(at)
        )),
        (scalar, seg) => Err(format!(
            "{at} is {}, so it has no {}; {}",
            describe(scalar),
            describe_step(seg),
            replace_scalar_fix(at)
        )),
    }
}

fn replace_scalar_fix(at: &YamlPath) -> String {
    if at.is_root() {
        return "a scenario file must be a mapping of settings at the top level".to_owned();
    }
    format!("set {at} itself instead, e.g. --set {at}=VALUE")
}

/// An all-digit key into a list is a position, as in `regions.0.name`.
fn digits_index(key: &str, at: &YamlPath) -> Result<Option<usize>, String> {
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    key.parse()
        .map(Some)
        .map_err(|_| format!("list position {at}[{key}] is too large"))
}

fn item_slot(items: &[Value], i: usize, at: &YamlPath) -> Result<Slot, String> {
    if i < items.len() {
        return Ok(Slot::Item(i));
    }
    let fix = match items.len() {
        0 => format!(
            "it is empty; set the whole list instead, e.g. --set {}=[...]",
            settable(at)
        ),
        n => format!("use a position from 0 to {}", n - 1),
    };
    Err(format!(
        "{at} has {}, so there is no item [{i}]; {fix}",
        count(items.len(), "item")
    ))
}

fn named_slot(items: &[Value], name: &str, at: &YamlPath) -> Result<Slot, String> {
    let matches: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| item_name(item) == Some(name))
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [i] => Ok(Slot::Item(*i)),
        [] => Err(format!(
            "{at} is a list with no item whose name is '{name}' (names: {}); use a listed \
             name or a position, e.g. {}",
            list_names(items),
            at.index(0)
        )),
        several => Err(format!(
            "{at} has {} named '{name}' (at {}); select one by position instead, e.g. {}",
            count(several.len(), "item"),
            several
                .iter()
                .map(|i| format!("[{i}]"))
                .collect::<Vec<_>>()
                .join(", "),
            at.index(several.first().copied().unwrap_or_default())
        )),
    }
}

fn item_name(item: &Value) -> Option<&str> {
    item.get("name")?.as_str()
}

fn list_names(items: &[Value]) -> String {
    let names: Vec<&str> = items.iter().filter_map(item_name).collect();
    if names.is_empty() {
        return "none".to_owned();
    }
    names.join(", ")
}

/// The path as a user would type it after `--set`; the root has no such spelling.
fn settable(at: &YamlPath) -> String {
    if at.is_root() {
        return "PATH".to_owned();
    }
    at.to_string()
}

fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

fn describe_step(seg: &OverrideSeg) -> String {
    match seg {
        OverrideSeg::Key(k) => format!("field '{k}'"),
        OverrideSeg::Index(i) => format!("item [{i}]"),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "empty (null)".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string '{}'", shorten(s)),
        Value::Array(items) => format!("a list of {}", count(items.len(), "item")),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

/// Keeps messages to one readable line when the value is a long block scalar.
fn shorten(s: &str) -> String {
    const MAX: usize = 40;
    let first_line = s.lines().next().unwrap_or_default();
    if first_line.chars().count() <= MAX && first_line.len() == s.trim_end().len() {
        return first_line.to_owned();
    }
    let head: String = first_line.chars().take(MAX).collect();
    format!("{head}...")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_saphyr::from_str::<Value>(text).expect("test YAML is valid")
    }

    /// Applies `arg` to `doc` and compares with `expected`, all written as YAML.
    fn check(doc: &str, arg: &str, expected: &str) {
        let mut value = yaml(doc);
        let ov = parse_override(arg).unwrap_or_else(|e| panic!("{arg}: {e}"));
        apply(&mut value, &ov).unwrap_or_else(|e| panic!("{arg}: {e}"));
        assert_eq!(value, yaml(expected), "--set {arg}");
    }

    /// Applying `arg` to `doc` fails with a message containing every fragment, and leaves the
    /// document unchanged.
    fn check_err(doc: &str, arg: &str, fragments: &[&str]) {
        let mut value = yaml(doc);
        let before = value.clone();
        let err = parse_override(arg).and_then(|ov| apply(&mut value, &ov));
        let err = err.expect_err(arg);
        assert!(err.starts_with(&format!("--set '{arg}': ")), "{err}");
        for fragment in fragments {
            assert!(err.contains(fragment), "{arg}: {err:?} lacks {fragment:?}");
        }
        assert_eq!(value, before, "{arg} changed the document on error");
    }

    fn parse_err(arg: &str, fragments: &[&str]) {
        let err = parse_override(arg).expect_err(arg);
        assert!(err.starts_with(&format!("--set '{arg}': ")), "{err}");
        for fragment in fragments {
            assert!(err.contains(fragment), "{arg}: {err:?} lacks {fragment:?}");
        }
    }

    fn value_of(arg: &str) -> Value {
        parse_override(arg).unwrap_or_else(|e| panic!("{e}")).value
    }

    const DOC: &str = r#"
simulation: {horizon_h: 24, seed: 1}
network:
  rtt_ms: {us-east: {eu-west: 80}}
  jitter:
providers:
  - {name: us-h100, count: 2, tags: [gpu]}
  - {name: eu-a100, count: 1}
regions: [a, b, c]
labels: {"a.b": x}
"#;

    #[test]
    fn values_are_typed_as_yaml() {
        let cases = [
            ("x=5", serde_json::json!(5)),
            ("x=-5", serde_json::json!(-5)),
            ("x=5.5", serde_json::json!(5.5)),
            ("x=1e3", serde_json::json!(1000.0)),
            ("x=true", serde_json::json!(true)),
            ("x=yes", serde_json::json!(true)),
            ("x=null", Value::Null),
            ("x=~", Value::Null),
            ("x=us-east", serde_json::json!("us-east")),
            ("x='5'", serde_json::json!("5")),
            ("x=\"yes\"", serde_json::json!("yes")),
            ("x=[1, 2]", serde_json::json!([1, 2])),
            ("x={mean: 2}", serde_json::json!({"mean": 2})),
            ("x=a=b", serde_json::json!("a=b")),
            ("x=", serde_json::json!("")),
            ("x=''", serde_json::json!("")),
            ("x=hello world", serde_json::json!("hello world")),
            ("x=010", serde_json::json!(10.0)),
            ("x=0x10", serde_json::json!(16)),
            ("x=0b101", serde_json::json!(5)),
            ("x=1_000", serde_json::json!(1000)),
            (
                "x=18446744073709551616",
                serde_json::json!(18446744073709551616.0),
            ),
            ("x=no", serde_json::json!(false)),
            ("x=On", serde_json::json!(true)),
            ("x= ", Value::Null),
            ("x=-", serde_json::json!([null])),
            ("x=a: b", serde_json::json!({"a": "b"})),
            ("x=2024-01-01", serde_json::json!("2024-01-01")),
            ("x=12:30", serde_json::json!("12:30")),
            ("x=|\n  two\n  lines", serde_json::json!("two\nlines\n")),
        ];
        for (arg, want) in cases {
            assert_eq!(value_of(arg), want, "{arg}");
        }
    }

    #[test]
    fn parses_paths() {
        use OverrideSeg::{Index as I, Key as K};
        let k = |s: &str| K(s.to_owned());
        let cases = [
            ("a=1", vec![k("a")]),
            ("a.b[0].c=1", vec![k("a"), k("b"), I(0), k("c")]),
            ("a.b.0.c=1", vec![k("a"), k("b"), k("0"), k("c")]),
            ("m[1][2]=1", vec![k("m"), I(1), I(2)]),
            ("[3].name=1", vec![I(3), k("name")]),
            ("labels.\"a.b\"=1", vec![k("labels"), k("a.b")]),
            ("\"x=y\".z=1", vec![k("x=y"), k("z")]),
            ("\"q\\\"\\\\\"[0]=1", vec![k("q\"\\"), I(0)]),
            ("\"\"=1", vec![k("")]),
            ("  a.b  =1", vec![k("a"), k("b")]),
            ("us-east.eu-west=1", vec![k("us-east"), k("eu-west")]),
        ];
        for (arg, want) in cases {
            let ov = parse_override(arg).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(ov.path, want, "{arg}");
            assert_eq!(ov.text, arg);
        }
    }

    #[test]
    fn printed_paths_parse_back_to_the_same_path() {
        let paths = [
            YamlPath::root()
                .key("regions")
                .index(0)
                .key("bandwidth_mbps"),
            YamlPath::root().key("labels").key("a.b").key("x y"),
            YamlPath::root().key("q\"uote\\").index(4).index(5),
            YamlPath::root().key("").key("[0]"),
            YamlPath::root().index(1).key("a=b"),
        ];
        for path in paths {
            let ov = parse_override(&format!("{path}=1")).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(ov.yaml_path(), path);
        }
    }

    #[test]
    fn yaml_path_keeps_keys_as_written() {
        let ov = parse_override("providers.0.count=1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ov.yaml_path().to_string(), "providers.0.count");
        let ov = parse_override("providers[0].count=1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ov.yaml_path().to_string(), "providers[0].count");
    }

    #[test]
    fn parse_errors_name_the_argument_and_the_fix() {
        parse_err(
            "foo",
            &["expected PATH=VALUE", "e.g. --set simulation.horizon_h=48"],
        );
        parse_err("", &["expected PATH=VALUE"]);
        parse_err("\"a=b\"", &["expected PATH=VALUE"]);
        parse_err("=5", &["missing PATH before '='"]);
        parse_err("  =5", &["missing PATH before '='"]);
        parse_err("a..b=1", &["PATH 'a..b': empty key"]);
        parse_err(".a=1", &["empty key"]);
        parse_err("a.=1", &["empty key"]);
        parse_err("a[0=1", &["missing ']'", "regions[0]"]);
        parse_err("a[x]=1", &["'[x]' is not a list position", "whole number"]);
        parse_err("a[]=1", &["'[]' is not a list position"]);
        parse_err("a[-1]=1", &["'[-1]' is not a list position"]);
        parse_err("a[99999999999999999999999]=1", &["too large"]);
        parse_err("a]=1", &["unexpected ']'"]);
        parse_err("a[0]b=1", &["unexpected 'b'"]);
        parse_err("a\"b\"=1", &["unexpected '\"'"]);
        parse_err("\"a\"b=1", &["unexpected 'b'"]);
        parse_err("\"ab=1", &["expected PATH=VALUE"]);
        parse_err(
            "a=[1",
            &[
                "VALUE '[1' is not valid YAML",
                "unclosed",
                "quote it: --set 'a=\"[1\"'",
            ],
        );
        parse_err("a={b", &["not valid YAML"]);
        parse_err("a=.inf", &["not valid YAML", "non-finite"]);
        parse_err("a=*nope", &["not valid YAML"]);
    }

    #[test]
    fn sets_and_inserts_mapping_keys() {
        check("a: 1", "a=2", "a: 2");
        check("a: 1", "b=2", "{a: 1, b: 2}");
        check("a: {b: 1}", "a.b=[1, 2]", "a: {b: [1, 2]}");
        check("a: {b: 1}", "a={c: 3}", "a: {c: 3}");
        check("a: 1", "a=", "a: ''");
        check("a: 1", "a=null", "a: null");
        check("labels: {}", "labels.\"a.b\"=x", "labels: {a.b: x}");
        check("m: {1: one}", "m.1=uno", "m: {'1': uno}");
        check(DOC, "simulation.horizon_h=48", &DOC.replace("24", "48"));
    }

    #[test]
    fn creates_missing_intermediate_mappings() {
        check("a: 1", "x.y.z=2", "{a: 1, x: {y: {z: 2}}}");
        check("a:", "a.b=1", "a: {b: 1}");
        check("a: {b: null}", "a.b.c.d=1", "a: {b: {c: {d: 1}}}");
        check("a: 1", "x.0=2", "{a: 1, x: {'0': 2}}");
        check(
            DOC,
            "network.jitter.mean=3",
            &DOC.replace("  jitter:", "  jitter: {mean: 3}"),
        );
        check(
            DOC,
            "network.rtt_ms.us-east.ap-south=120",
            &DOC.replace("{eu-west: 80}", "{eu-west: 80, ap-south: 120}"),
        );
    }

    #[test]
    fn empty_document_is_an_empty_mapping() {
        check("", "a=1", "a: 1");
        check("# only comments\n", "a.b=1", "a: {b: 1}");
        check("~", "a=1", "a: 1");
    }

    #[test]
    fn selects_list_items_by_position() {
        check("r: [a, b]", "r[1]=z", "r: [a, z]");
        check("r: [a, b]", "r.1=z", "r: [a, z]");
        check("r: [a, b]", "r.01=z", "r: [a, z]");
        check("r: [{x: 1}]", "r[0].x=2", "r: [{x: 2}]");
        check("r: [{x: 1}]", "r.0.y=2", "r: [{x: 1, y: 2}]");
        check("r: [[1, 2], [3]]", "r[0][1]=9", "r: [[1, 9], [3]]");
        check("[a, b]", "[0]=z", "[z, b]");
        check(
            "- {name: 0}\n- {name: x}",
            "0.name=y",
            "- {name: y}\n- {name: x}",
        );
        check(
            DOC,
            "providers[1].count=3",
            &DOC.replace("eu-a100, count: 1", "eu-a100, count: 3"),
        );
    }

    #[test]
    fn selects_list_items_by_name() {
        check(
            DOC,
            "providers.us-h100.count=4",
            &DOC.replace("count: 2", "count: 4"),
        );
        check(
            DOC,
            "providers.us-h100.tags[0]=tpu",
            &DOC.replace("[gpu]", "[tpu]"),
        );
        check(
            DOC,
            "providers.eu-a100.region=eu",
            &DOC.replace("count: 1}", "count: 1, region: eu}"),
        );
        check(
            "p: [{name: a, n: 1}, 7, {n: 2}]",
            "p.a={name: a, n: 9}",
            "p: [{name: a, n: 9}, 7, {n: 2}]",
        );
    }

    #[test]
    fn error_for_out_of_range_positions_gives_the_length() {
        check_err(
            DOC,
            "regions[3]=x",
            &["regions has 3 items", "no item [3]", "0 to 2"],
        );
        check_err(DOC, "regions.5=x", &["regions has 3 items", "no item [5]"]);
        check_err("r: []", "r[0]=x", &["r has 0 items", "--set r=[...]"]);
        check_err("r: [a]", "r[1].b=x", &["r has 1 item,", "0 to 0"]);
        check_err(
            "r: [a]",
            "r.99999999999999999999999=x",
            &["r[99999999999999999999999] is too large"],
        );
    }

    #[test]
    fn error_for_unknown_or_ambiguous_names() {
        check_err(
            DOC,
            "providers.ap-h100.count=1",
            &[
                "providers is a list with no item whose name is 'ap-h100'",
                "names: us-h100, eu-a100",
                "providers[0]",
            ],
        );
        check_err(
            DOC,
            "regions.d=x",
            &["no item whose name is 'd'", "names: none"],
        );
        check_err(
            "p: [{name: a}, {name: b}, {name: a}]",
            "p.a.n=1",
            &["p has 2 items named 'a'", "[0], [2]", "e.g. p[0]"],
        );
    }

    #[test]
    fn error_for_stepping_into_a_scalar() {
        check_err(
            DOC,
            "simulation.horizon_h.x=5",
            &[
                "simulation.horizon_h is the number 24",
                "no field 'x'",
                "--set simulation.horizon_h=VALUE",
            ],
        );
        check_err(
            DOC,
            "regions[0].x=5",
            &["regions[0] is the string 'a'", "no field 'x'"],
        );
        check_err(
            DOC,
            "regions.0[1]=5",
            &["regions[0] is the string 'a'", "no item [1]"],
        );
        check_err(
            "a: true",
            "a.b.c=1",
            &["a is the boolean true", "no field 'b'"],
        );
        check_err(
            "a: |\n  long\n  text\n",
            "a.b=1",
            &["a is the string 'long...'"],
        );
        check_err(
            "5",
            "a=1",
            &["(top level) is the number 5", "must be a mapping"],
        );
        check_err(
            "just text",
            "a.b=1",
            &["(top level) is the string 'just text'"],
        );
    }

    #[test]
    fn error_for_positions_into_mappings_and_nulls() {
        check_err(
            DOC,
            "simulation[0]=1",
            &["simulation is a mapping, not a list", "simulation.FIELD"],
        );
        check_err(
            DOC,
            "network.jitter[0]=1",
            &[
                "network.jitter is empty (null)",
                "--set network.jitter=[...]",
            ],
        );
        check_err(
            "",
            "[0]=1",
            &["(top level) is empty (null)", "--set PATH=[...]"],
        );
        check_err("a: 1", "[0]=1", &["(top level) is a mapping"]);
    }

    #[test]
    fn failed_apply_leaves_no_partial_changes() {
        check_err("a: 1", "x.y[0]=1", &["x.y is empty (null)"]);
        check_err("a: {}", "a.b.c[2]=1", &["a.b.c is empty (null)"]);
    }

    #[test]
    fn an_override_without_a_path_is_an_error() {
        let ov = Override {
            path: Vec::new(),
            value: Value::Null,
            text: "hand-made".to_owned(),
        };
        let err = apply(&mut Value::Null, &ov).expect_err("no path");
        assert!(err.contains("--set 'hand-made': missing PATH"), "{err}");
    }

    #[test]
    fn odd_arguments_never_panic() {
        let args = [
            "é.ü=ö",
            "\"\\",
            "\"\\\"=",
            "[",
            "[[",
            "[0",
            "[0]",
            "[0]=",
            "a[0][",
            "\u{0}=\u{0}",
            "==",
            "a==b",
            ".=.",
            "\"\"\"=1",
            "a.\"=1",
            "a[0]\"b\"=1",
            "a=\t",
            "a=#c",
            "a=!!int x",
        ];
        for arg in args {
            let mut doc = yaml(DOC);
            if let Ok(ov) = parse_override(arg) {
                let _ = apply(&mut doc, &ov);
            }
        }
        assert_eq!(value_of("a=#comment"), Value::Null);
        assert_eq!(value_of("\"k=v\"=1"), serde_json::json!(1));
    }

    #[test]
    fn overrides_apply_in_order() {
        let mut doc = yaml(DOC);
        for arg in [
            "simulation.seed=2",
            "simulation.seed=3",
            "extra.list=[1]",
            "extra.list[0]=4",
        ] {
            let ov = parse_override(arg).unwrap_or_else(|e| panic!("{e}"));
            apply(&mut doc, &ov).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(doc["simulation"]["seed"], serde_json::json!(3));
        assert_eq!(doc["extra"]["list"], serde_json::json!([4]));
    }
}
