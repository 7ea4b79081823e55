//! A path to a node inside a scenario YAML document, such as `regions[0].bandwidth_mbps`.
//!
//! Deserialization errors, source positions (see `scenario::lines`) and `--set` overrides
//! (see `scenario::overrides`) all need to name the same place in a scenario file, so they
//! share this one representation and its one way of being printed.

use std::fmt;

use serde_path_to_error::Segment;

/// One step in a [`YamlPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A mapping key (or the variant name of an externally tagged enum).
    Key(String),
    /// A zero-based position in a sequence.
    Index(usize),
}

/// A path from the top of a YAML document down to one node.
///
/// Displays as users write it: `regions[0].bandwidth_mbps`; the empty path displays as
/// `(top level)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct YamlPath(Vec<Seg>);

impl YamlPath {
    /// The path of the document itself.
    pub fn root() -> Self {
        Self::default()
    }

    /// This path extended by the mapping key `k`.
    pub fn key(&self, k: impl Into<String>) -> Self {
        self.with(Seg::Key(k.into()))
    }

    /// This path extended by the sequence position `i`.
    pub fn index(&self, i: usize) -> Self {
        self.with(Seg::Index(i))
    }

    /// The steps of this path, outermost first.
    pub fn segments(&self) -> &[Seg] {
        &self.0
    }

    /// The path one step shorter, or `None` for the root.
    pub fn parent(&self) -> Option<YamlPath> {
        let (_, init) = self.0.split_last()?;
        Some(YamlPath(init.to_vec()))
    }

    /// Whether this is the path of the document itself.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Converts the path that `serde_path_to_error` reports for a failed deserialization.
    ///
    /// Enum variants become [`Seg::Key`] because an externally tagged enum is written in YAML
    /// as a one-key mapping; `Unknown` segments carry no location and are skipped.
    pub fn from_serde(path: &serde_path_to_error::Path) -> Self {
        let segs = path.iter().filter_map(|seg| match seg {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            Segment::Unknown => None,
        });
        YamlPath(segs.collect())
    }

    fn with(&self, seg: Seg) -> Self {
        let mut segs = self.0.clone();
        segs.push(seg);
        YamlPath(segs)
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str("(top level)");
        }
        for (pos, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(i) => write!(f, "[{i}]")?,
                Seg::Key(k) => {
                    if pos > 0 {
                        f.write_str(".")?;
                    }
                    write_key(f, k)?;
                }
            }
        }
        Ok(())
    }
}

/// Quotes keys that would otherwise read as several segments (or none), so that a printed
/// path can be pasted back into `--set` and mean the same node.
fn write_key(f: &mut fmt::Formatter<'_>, key: &str) -> fmt::Result {
    if !needs_quotes(key) {
        return f.write_str(key);
    }
    f.write_str("\"")?;
    for c in key.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

/// Beyond the characters that split segments, `"` is quoted because a bare key starting with it
/// would be read back as a quoted key, and `=` because `--set` splits PATH from VALUE there.
fn needs_quotes(key: &str) -> bool {
    key.is_empty()
        || key
            .chars()
            .any(|c| matches!(c, '.' | '[' | ']' | '"' | '=') || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_users_write_paths() {
        let p = YamlPath::root()
            .key("regions")
            .index(0)
            .key("bandwidth_mbps");
        assert_eq!(p.to_string(), "regions[0].bandwidth_mbps");
        let p = YamlPath::root()
            .key("network")
            .key("rtt_ms")
            .key("us-east")
            .key("eu-west");
        assert_eq!(p.to_string(), "network.rtt_ms.us-east.eu-west");
        assert_eq!(YamlPath::root().to_string(), "(top level)");
        assert_eq!(YamlPath::root().index(2).key("a").to_string(), "[2].a");
        assert_eq!(
            YamlPath::root().key("m").index(1).index(2).to_string(),
            "m[1][2]"
        );
    }

    #[test]
    fn quotes_awkward_keys() {
        let cases = [
            ("a.b", r#"labels."a.b""#),
            ("", r#"labels."""#),
            ("x y", r#"labels."x y""#),
            ("tab\there", "labels.\"tab\there\""),
            ("[0]", r#"labels."[0]""#),
            ("a]", r#"labels."a]""#),
            (r#"say "hi""#, r#"labels."say \"hi\"""#),
            (r"back\slash.", r#"labels."back\\slash.""#),
            (r"plain\slash", r"labels.plain\slash"),
            ("a=b", r#"labels."a=b""#),
            ("us-east", "labels.us-east"),
            ("ünï", "labels.ünï"),
        ];
        for (key, want) in cases {
            assert_eq!(YamlPath::root().key("labels").key(key).to_string(), want);
        }
        assert_eq!(YamlPath::root().key("a b").to_string(), r#""a b""#);
    }

    #[test]
    fn builders_do_not_modify_the_original() {
        let base = YamlPath::root().key("a");
        let longer = base.index(3);
        assert_eq!(base.segments(), &[Seg::Key("a".into())]);
        assert_eq!(longer.segments(), &[Seg::Key("a".into()), Seg::Index(3)]);
    }

    #[test]
    fn parent_and_root() {
        let p = YamlPath::root().key("a").index(1);
        assert!(!p.is_root());
        assert_eq!(p.parent(), Some(YamlPath::root().key("a")));
        assert_eq!(p.parent().and_then(|p| p.parent()), Some(YamlPath::root()));
        assert!(YamlPath::root().is_root());
        assert_eq!(YamlPath::root().parent(), None);
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    enum Dist {
        Normal { mean: f64 },
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Region {
        name: String,
        latency: Dist,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        regions: Vec<Region>,
    }

    fn serde_error_path(yaml: &str) -> YamlPath {
        let de = serde_json::from_str::<serde_json::Value>(yaml).expect("test input is JSON");
        let err = serde_path_to_error::deserialize::<_, Doc>(de).expect_err("input is invalid");
        YamlPath::from_serde(err.path())
    }

    #[test]
    fn converts_serde_paths_with_enum_variants_as_keys() {
        let p = serde_error_path(
            r#"{"regions": [{"name": "a", "latency": {"Normal": {"mean": 1}}},
                            {"name": "b", "latency": {"Normal": {"mean": "x"}}}]}"#,
        );
        assert_eq!(p.to_string(), "regions[1].latency.Normal.mean");
        let p = serde_error_path(r#"{"regions": [{"name": 5}]}"#);
        assert_eq!(p.to_string(), "regions[0].name");
        let p = serde_error_path(r#"{"regions": 3}"#);
        assert_eq!(p.to_string(), "regions");
    }

    #[test]
    fn empty_serde_path_is_root() {
        let err = serde_path_to_error::deserialize::<_, Doc>(serde_json::json!(5))
            .expect_err("a number is not a Doc");
        assert!(YamlPath::from_serde(err.path()).is_root());
    }
}
