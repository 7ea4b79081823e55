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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_fit_in_metric_names_and_be_distinct() {
        let list = ["us-east", "eu_west2", "", "a.b", "x y", "us-east", "émigré"];
        let mut names = Names::new("regions");
        let mut issues = Issues::default();
        for (i, name) in list.iter().enumerate() {
            names.check(
                &YamlPath::root().key("regions").index(i),
                name,
                i,
                &mut issues,
            );
        }
        let found: Vec<(String, &str)> = issues
            .iter()
            .map(|i| (i.path.to_string(), i.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("regions[2].name".into(), "`` is not a usable name"),
                ("regions[3].name".into(), "`a.b` is not a usable name"),
                ("regions[4].name".into(), "`x y` is not a usable name"),
                (
                    "regions[5].name".into(),
                    "`us-east` is also the name of regions[0]"
                ),
                ("regions[6].name".into(), "`émigré` is not a usable name"),
            ]
        );
        assert!(issues.iter().take(3).all(|i| i.fix == NAME_FIX));
    }

    #[test]
    fn gpu_classes_come_from_the_datasheet_table() {
        let mut issues = Issues::default();
        let at = YamlPath::root().key("gpu");
        assert_eq!(
            gpu_class("h100_sxm", &at, &mut issues).map(|c| c.id),
            Some("h100_sxm")
        );
        assert!(gpu_class("h100", &at, &mut issues).is_none());
        let found: Vec<&crate::core::diagnostics::Issue> = issues.iter().collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].message, "unknown GPU class `h100`");
        assert!(found[0].fix.starts_with("use one of: h100_sxm, "));
    }
}
