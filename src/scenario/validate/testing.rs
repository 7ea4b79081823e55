//! What the sections' tests share: a small valid scenario, a fragment of YAML whose sections
//! replace its own, and a check that the result has exactly the problems expected.

use std::path::Path;

use serde_json::Value;

use crate::core::diagnostics::Issue;
use crate::scenario::load::{LoadError, load_str_in};
use crate::scenario::spec::Scenario;

/// Two regions, one datacenter group of H100s, users in one region; everything else is a
/// default.
const BASE: &str = "
simulation: {horizon_h: 2, warmup_h: 0.5, replications: 2}
regions: [{name: us-east}, {name: eu-west}]
network: {rtt_ms: {us-east: {eu-west: 76}}}
providers:
  - {name: dc, region: us-east, gpu: h100_sxm, count: 4, hourly_cost_usd: 1.5}
inference:
  users: [{region: us-east, rate_per_s: 2}]
";

/// The base scenario with the sections of `fragment` in place of its own, loaded with
/// files read from `dir`.
pub(super) fn load_in(fragment: &str, dir: &Path) -> Result<Scenario, Vec<Issue>> {
    let mut doc: Value = serde_saphyr::from_str(BASE).expect("the base is YAML");
    if !fragment.trim().is_empty() {
        let over: Value = serde_saphyr::from_str(fragment).expect("the fragment is YAML");
        let Value::Object(sections) = over else {
            panic!("the fragment is not a mapping of sections: {fragment}");
        };
        for (k, v) in sections {
            doc[k] = v;
        }
    }
    match load_str_in(&doc.to_string(), "test", "test", &[], dir) {
        Ok(s) => Ok(s),
        Err(LoadError::Invalid { issues, .. }) => Err(issues),
        Err(e) => panic!("not a validation problem: {e}"),
    }
}

/// [`load_in`] with files read from the working directory.
pub(super) fn load(fragment: &str) -> Result<Scenario, Vec<Issue>> {
    load_in(fragment, Path::new("."))
}

/// Checks that `fragment` gives exactly the problems `want`, each `(path, a part of its
/// message)`, in any order.
pub(super) fn check(fragment: &str, want: &[(&str, &str)]) {
    let found = match load(fragment) {
        Ok(_) => Vec::new(),
        Err(issues) => issues,
    };
    assert_found(fragment, &found, want);
}

/// Checks that `found` holds exactly the problems `want`.
pub(super) fn assert_found(context: &str, found: &[Issue], want: &[(&str, &str)]) {
    let shown: Vec<String> = found
        .iter()
        .map(|i| format!("{}: {}", i.path, i.message))
        .collect();
    for (path, message) in want {
        assert!(
            found
                .iter()
                .any(|i| i.path.to_string() == *path && i.message.contains(message)),
            "{context}\nwanted `{path}: ...{message}...` among {shown:#?}"
        );
    }
    assert_eq!(found.len(), want.len(), "{context}\nfound {shown:#?}");
}

/// The one problem `fragment` gives, for tests of its fix.
pub(super) fn only_issue(fragment: &str) -> Issue {
    let issues = load(fragment).err().unwrap_or_default();
    assert_eq!(issues.len(), 1, "{fragment}: {issues:#?}");
    issues[0].clone()
}

#[test]
fn the_base_scenario_is_valid() {
    check("", &[]);
}
