//! Where each [`YamlPath`] of a scenario file is in its text, so that errors found after
//! deserialization (a negative bandwidth, an unknown region name) can point at a line.
//!
//! The index is built from the parser's event stream rather than from the deserialized value
//! because deserialized values no longer know where they came from.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser, Span};

use crate::core::path::YamlPath;

/// The 1-based line and column of every addressable node in the first document of a YAML text.
#[derive(Clone, Debug, Default)]
pub struct LineIndex {
    positions: HashMap<YamlPath, (usize, usize)>,
}

impl LineIndex {
    /// Indexes `text`.
    ///
    /// Never fails: on a syntax error it keeps what it indexed so far, because serde-saphyr
    /// reports syntax errors itself and with better context.
    pub fn build(text: &str) -> LineIndex {
        let mut walker = Walker::default();
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            if walker.step(&event, span) == Flow::Stop {
                break;
            }
        }
        LineIndex {
            positions: walker.positions,
        }
    }

    /// The line and column of `path`.
    ///
    /// For a path that is not in the file (e.g. a missing required field), the position of its
    /// nearest ancestor that is. `None` for an empty index.
    pub fn locate(&self, path: &YamlPath) -> Option<(usize, usize)> {
        let mut current = path.clone();
        loop {
            if let Some(pos) = self.positions.get(&current) {
                return Some(*pos);
            }
            current = current.parent()?;
        }
    }

    /// Like [`LineIndex::locate`], but never falls back to the top of the document: a path
    /// whose only ancestor in the file is the root (a missing section) has no line.
    pub fn locate_below_root(&self, path: &YamlPath) -> Option<(usize, usize)> {
        let mut current = path.clone();
        while !current.is_root() {
            if let Some(pos) = self.positions.get(&current) {
                return Some(*pos);
            }
            current = current.parent()?;
        }
        path.is_root()
            .then(|| self.positions.get(path).copied())
            .flatten()
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

/// What a mapping expects next. Keys alternate with values, so one flag plus the last key
/// tells where a node belongs.
#[derive(Debug)]
enum Expect {
    Key,
    /// `None` when the key was not a plain scalar (a complex key or an alias): its value has no
    /// path a deserialization error could name, so nothing below it is indexed.
    Value(Option<String>),
}

#[derive(Debug)]
enum Frame {
    Mapping {
        path: YamlPath,
        expect: Expect,
    },
    Sequence {
        path: YamlPath,
        next: usize,
    },
    /// A collection with no path (inside a complex key, or under one); only its nesting matters.
    Unaddressable,
}

/// Where an incoming node belongs.
struct Slot {
    /// The path of the node itself, which its children extend; `None` when unaddressable.
    path: Option<YamlPath>,
    /// The path whose position this node's start gives, if any. Differs from `path` for a
    /// mapping key, which stands in for its value.
    record_at: Option<YamlPath>,
}

impl Slot {
    fn item(path: YamlPath) -> Self {
        Slot {
            record_at: Some(path.clone()),
            path: Some(path),
        }
    }

    fn nothing() -> Self {
        Slot {
            path: None,
            record_at: None,
        }
    }
}

#[derive(Default)]
struct Walker {
    positions: HashMap<YamlPath, (usize, usize)>,
    stack: Vec<Frame>,
    seen_root: bool,
}

impl Walker {
    fn step(&mut self, event: &Event<'_>, span: Span) -> Flow {
        match event {
            // Only the first document can hold the scenario.
            Event::DocumentEnd | Event::StreamEnd => return Flow::Stop,
            Event::Scalar(text, ..) => self.leaf(Some(text), span),
            Event::Alias(_) | Event::UnresolvedAlias(_) => self.leaf(None, span),
            Event::MappingStart(..) => self.open(span, true),
            Event::SequenceStart(..) => self.open(span, false),
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
        Flow::Continue
    }

    /// A scalar or alias; `text` is `None` for an alias, whose text cannot serve as a key.
    fn leaf(&mut self, text: Option<&str>, span: Span) {
        let slot = self.place(text);
        self.record(&slot, span);
    }

    fn open(&mut self, span: Span, mapping: bool) {
        let slot = self.place(None);
        self.record(&slot, span);
        let frame = match (slot.path, mapping) {
            (None, _) => Frame::Unaddressable,
            (Some(path), true) => Frame::Mapping {
                path,
                expect: Expect::Key,
            },
            (Some(path), false) => Frame::Sequence { path, next: 0 },
        };
        self.stack.push(frame);
    }

    /// Works out where the next node belongs and advances the enclosing container past it.
    /// `scalar` is the node's text when it is a scalar.
    fn place(&mut self, scalar: Option<&str>) -> Slot {
        match self.stack.last_mut() {
            None if self.seen_root => Slot::nothing(),
            None => {
                self.seen_root = true;
                Slot::item(YamlPath::root())
            }
            Some(Frame::Unaddressable) => Slot::nothing(),
            Some(Frame::Sequence { path, next }) => {
                let item = path.index(*next);
                *next = next.saturating_add(1);
                Slot::item(item)
            }
            Some(Frame::Mapping { path, expect }) => map_slot(path, expect, scalar),
        }
    }

    fn record(&mut self, slot: &Slot, span: Span) {
        if let Some(path) = &slot.record_at {
            let pos = (span.start.line(), span.start.col().saturating_add(1));
            // The first occurrence wins so that a duplicate key points at the original.
            self.positions.entry(path.clone()).or_insert(pos);
        }
    }
}

/// A key node is recorded as the position of its value's path (that is the line a user wants
/// to see for `bandwidth_mbps: -5`); the value node itself then records nothing.
fn map_slot(path: &YamlPath, expect: &mut Expect, scalar: Option<&str>) -> Slot {
    match std::mem::replace(expect, Expect::Key) {
        Expect::Key => {
            let key = scalar.map(str::to_owned);
            let record_at = key.as_deref().map(|k| path.key(k));
            *expect = Expect::Value(key);
            // A key's own contents (a complex key) are not addressable.
            Slot {
                path: None,
                record_at,
            }
        }
        Expect::Value(key) => Slot {
            path: key.map(|k| path.key(k)),
            record_at: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = r#"# A realistic scenario file.
simulation:
  horizon_h: 48   # two days
  seed: 7
regions:
  - name: us-east
    bandwidth_mbps: -5
    providers:
      - {name: a, count: 1}
      - name: b
        tags: [gpu, "h100"]
  - name: eu-west
    notes: |
      multi-line
      text
    bandwidth_mbps: 100
network:
  rtt_ms:
    us-east: {eu-west: 80, ap-south: [1, 2]}
"labels":
  "a.b": x
  'single': >
    folded
    text
  empty:
after_block: 1
"#;

    /// Builds a path from `regions.0.name`-style text; digits are indices.
    fn p(text: &str) -> YamlPath {
        text.split('.')
            .filter(|s| !s.is_empty())
            .fold(YamlPath::root(), |acc, s| match s.parse::<usize>() {
                Ok(i) => acc.index(i),
                Err(_) => acc.key(s),
            })
    }

    fn check(text: &str, cases: &[(&str, (usize, usize))]) {
        let index = LineIndex::build(text);
        for (path, want) in cases {
            assert_eq!(index.locate(&p(path)), Some(*want), "path {path}");
        }
    }

    #[test]
    fn locates_exact_paths_in_a_realistic_file() {
        check(
            SCENARIO,
            &[
                ("", (2, 1)),
                ("simulation", (2, 1)),
                ("simulation.horizon_h", (3, 3)),
                ("simulation.seed", (4, 3)),
                ("regions", (5, 1)),
                ("regions.0", (6, 5)),
                ("regions.0.name", (6, 5)),
                ("regions.0.bandwidth_mbps", (7, 5)),
                ("regions.0.providers.0", (9, 9)),
                ("regions.0.providers.0.name", (9, 10)),
                ("regions.0.providers.0.count", (9, 19)),
                ("regions.0.providers.1.name", (10, 9)),
                ("regions.0.providers.1.tags.0", (11, 16)),
                ("regions.0.providers.1.tags.1", (11, 21)),
                ("regions.1.name", (12, 5)),
                ("regions.1.notes", (13, 5)),
                ("regions.1.bandwidth_mbps", (16, 5)),
                ("network.rtt_ms.us-east.eu-west", (19, 15)),
                ("network.rtt_ms.us-east.ap-south", (19, 28)),
                ("network.rtt_ms.us-east.ap-south.1", (19, 42)),
                ("labels", (20, 1)),
                ("labels.single", (22, 3)),
                ("labels.empty", (25, 3)),
                ("after_block", (26, 1)),
            ],
        );
        let index = LineIndex::build(SCENARIO);
        let dotted = YamlPath::root().key("labels").key("a.b");
        assert_eq!(index.locate(&dotted), Some((21, 3)));
    }

    #[test]
    fn missing_paths_fall_back_to_nearest_ancestor() {
        check(
            SCENARIO,
            &[
                ("regions.0.missing", (6, 5)),
                ("regions.0.providers.0.missing.deeper", (9, 9)),
                ("regions.7.name", (5, 1)),
                ("simulation.horizon_h.sub", (3, 3)),
                ("nowhere", (2, 1)),
            ],
        );
    }

    #[test]
    fn empty_or_comment_only_text_has_no_positions() {
        for text in ["", "# only a comment\n", "\n\n"] {
            assert_eq!(LineIndex::build(text).locate(&YamlPath::root()), None);
            assert_eq!(LineIndex::build(text).locate(&p("a.0.b")), None);
        }
    }

    #[test]
    fn scalar_document_is_its_root() {
        check("  42\n", &[("", (1, 3)), ("a.b", (1, 3))]);
    }

    #[test]
    fn explicit_document_start_and_only_first_document() {
        let text = "---\na: 1\n---\nb: 2\n";
        check(text, &[("a", (2, 1)), ("b", (2, 1))]);
    }

    #[test]
    fn anchors_and_aliases_count_as_nodes() {
        let text = "base: &b {x: 1}\nitems:\n  - *b\n  - &v 5\n  - *v\n  - last\ncopy: *b\n";
        check(
            text,
            &[
                ("base.x", (1, 11)),
                ("items.0", (3, 5)),
                // The parser starts an anchored scalar at its content, not at `&v`.
                ("items.1", (4, 8)),
                ("items.2", (5, 5)),
                ("items.3", (6, 5)),
                ("copy", (7, 1)),
                ("copy.x", (7, 1)),
            ],
        );
    }

    #[test]
    fn complex_keys_do_not_disturb_later_entries() {
        let text = "? [a, b]\n: {deep: 1}\n? {k: v}\n: 2\n*x : 3\nafter: 4\nlist:\n  - ? [1]\n    : 2\n    z: 9\n";
        let text = format!("anchor: &x key\n{text}");
        check(
            &text,
            &[
                ("after", (7, 1)),
                ("list.0", (9, 5)),
                ("list.0.z", (11, 5)),
                ("deep", (1, 1)),
            ],
        );
    }

    #[test]
    fn nested_sequences_and_empty_items() {
        let text = "- - 1\n  - 2\n-\n- x:\n";
        check(
            text,
            &[
                ("0", (1, 3)),
                ("0.0", (1, 5)),
                ("0.1", (2, 5)),
                ("1", (3, 2)),
                ("2.x", (4, 3)),
            ],
        );
    }

    #[test]
    fn duplicate_key_points_at_first_occurrence() {
        check("a: 1\na: 2\n", &[("a", (1, 1))]);
    }

    #[test]
    fn broken_yaml_keeps_what_was_indexed() {
        let text = "good: 1\nlist: [1,\nbad: 2\n";
        check(text, &[("good", (1, 1)), ("list.0", (2, 8))]);
    }

    #[test]
    fn broken_yaml_never_panics() {
        let samples = [
            "a: [1, 2",
            "a: {b: 1",
            "a:\n  - b\n c: 1",
            "\t- tab",
            "key: \"unterminated",
            "*unknown",
            "a: *unknown",
            "? ? ? [",
            "]]]",
            "- a\nb: c",
            "a: b: c",
            "%YAML 9.9\n---\na",
            "&a &b x",
            "!<tag> {",
            "\u{feff}a: 1\n\u{feff}b: 2",
            "a:\n  b:\n    c:\n      - [[[[[[[[[[",
        ];
        for text in samples {
            let index = LineIndex::build(text);
            let _ = index.locate(&p("a.b.0"));
        }
        let deep = "[".repeat(10_000);
        let _ = LineIndex::build(&deep).locate(&YamlPath::root());
    }
}
