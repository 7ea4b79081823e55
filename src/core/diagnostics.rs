//! Problems found in a scenario: each names the YAML path, the line where it can, what is
//! wrong and how to fix it. Validation collects them all before reporting.

use std::fmt;

use super::path::YamlPath;

/// One problem in a scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    /// Where in the document.
    pub path: YamlPath,
    /// Line and column (1-based), when the path (or its nearest ancestor) is in the file.
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => write!(f, "line {line}:{col}, {}: ", self.path)?,
            None => write!(f, "{}: ", self.path)?,
        }
        write!(f, "{}", self.message)?;
        if !self.fix.is_empty() {
            write!(f, "\n    fix: {}", self.fix)?;
        }
        Ok(())
    }
}

/// A collector of issues, passed down through validation.
#[derive(Debug, Default)]
pub struct Issues {
    list: Vec<Issue>,
}

impl Issues {
    /// Records a problem at `path`.
    pub fn push(&mut self, path: &YamlPath, message: impl Into<String>, fix: impl Into<String>) {
        self.list.push(Issue {
            path: path.clone(),
            position: None,
            message: message.into(),
            fix: fix.into(),
        });
    }

    /// Moves every problem of `other` into this list.
    pub fn append(&mut self, mut other: Issues) {
        self.list.append(&mut other.list);
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Number of problems.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The problems, in the order they were found.
    pub fn iter(&self) -> std::slice::Iter<'_, Issue> {
        self.list.iter()
    }

    /// Checks `value > 0` and finite, recording an issue otherwise. Returns whether it passed.
    pub fn positive(&mut self, path: &YamlPath, value: f64, fix: &str) -> bool {
        let ok = value.is_finite() && value > 0.0;
        if !ok {
            self.push(path, format!("must be a positive number, got {value}"), fix);
        }
        ok
    }

    /// Checks `value >= 0` and finite.
    pub fn non_negative(&mut self, path: &YamlPath, value: f64, fix: &str) -> bool {
        let ok = value.is_finite() && value >= 0.0;
        if !ok {
            self.push(path, format!("must be zero or more, got {value}"), fix);
        }
        ok
    }

    /// Checks that a count is at least 1.
    pub fn at_least_one(&mut self, path: &YamlPath, value: u32, fix: &str) -> bool {
        let ok = value >= 1;
        if !ok {
            self.push(path, "must be at least 1", fix);
        }
        ok
    }

    /// Checks `lo <= value <= hi`.
    pub fn within(&mut self, path: &YamlPath, value: f64, lo: f64, hi: f64, fix: &str) -> bool {
        let ok = value.is_finite() && (lo..=hi).contains(&value);
        if !ok {
            self.push(
                path,
                format!("must be between {lo} and {hi}, got {value}"),
                fix,
            );
        }
        ok
    }

    /// Attaches the line and column `locate` finds for each path and returns the list,
    /// ordered by position in the file. Problems at paths for which `from_override` is true came from `--set`: they get
    /// no line (the file is not at fault) and say so.
    pub fn into_located(
        self,
        locate: impl Fn(&YamlPath) -> Option<(usize, usize)>,
        from_override: impl Fn(&YamlPath) -> bool,
    ) -> Vec<Issue> {
        let mut list: Vec<Issue> = self
            .list
            .into_iter()
            .map(|mut i| {
                if from_override(&i.path) {
                    i.message.push_str(" (value given with --set)");
                } else {
                    i.position = i.position.or_else(|| locate(&i.path));
                }
                i
            })
            .collect();
        list.sort_by_key(|i| i.position.unwrap_or((usize::MAX, 0)));
        list
    }
}
