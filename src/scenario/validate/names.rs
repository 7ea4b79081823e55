//! Names that other parts of a scenario refer to: the names of regions, provider groups and
//! job classes, which appear inside metric names, and GPU classes from the datasheet table.

use std::collections::HashMap;

use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;
use crate::physics::gpu::{GpuClass, class_ids, find_class};

/// Names appear inside dot-separated metric names (`region.<name>.ttft_s.p95`).
const NAME_FIX: &str = "use letters, digits, '-' and '_' only (names appear in metric names)";

/// The names seen so far in one list of the scenario (`regions`, `providers`, `training`).
pub(super) struct Names {
    list: &'static str,
    seen: HashMap<String, usize>,
}

impl Names {
    /// No name of `list` seen yet.
    pub(super) fn new(list: &'static str) -> Self {
        Self {
            list,
            seen: HashMap::new(),
        }
    }

    /// Checks that item `i`, at `item`, has a usable name that no earlier item has.
    pub(super) fn check(&mut self, item: &YamlPath, name: &str, i: usize, issues: &mut Issues) {
        if !usable(name) {
            issues.push(
                &item.key("name"),
                format!("`{name}` is not a usable name"),
                NAME_FIX,
            );
        } else if let Some(j) = self.seen.insert(name.to_string(), i) {
            issues.push(
                &item.key("name"),
                format!("`{name}` is also the name of {}[{j}]", self.list),
                "give every item a distinct name",
            );
        }
    }
}

fn usable(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The GPU class `id` names, or None after recording that it names none.
pub(super) fn gpu_class(id: &str, at: &YamlPath, issues: &mut Issues) -> Option<&'static GpuClass> {
    let class = find_class(id);
    if class.is_none() {
        issues.push(
            at,
            format!("unknown GPU class `{id}`"),
            format!("use one of: {}", class_ids()),
        );
    }
    class
}
