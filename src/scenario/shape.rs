//! A walk of the document against the JSON Schema that catches what serde would accept
//! silently: a list where a mapping belongs (serde fills a struct from a list by position).
//! It reports every such place at once, before deserialization.

use serde_json::Value;

use super::issue::Issues;
use super::path::YamlPath;

/// Records an issue for every list found where the schema expects a mapping.
pub fn check(doc: &Value, schema: &Value, issues: &mut Issues) {
    walk(doc, schema, schema, &YamlPath::root(), issues);
}

fn walk(value: &Value, node: &Value, root: &Value, path: &YamlPath, issues: &mut Issues) {
    let node = resolve(node, root, value);
    let wants_object = match node.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => node.get("properties").is_some(),
    };
    match value {
        Value::Array(items) if wants_object => issues.push(
            path,
            "expected a mapping of fields, found a list",
            "write `field: value` pairs (see `depinsim schema`)",
        ),
        Value::Array(items) => {
            if let Some(item) = node.get("items") {
                for (i, v) in items.iter().enumerate() {
                    walk(v, item, root, &path.index(i), issues);
                }
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let child = node
                    .get("properties")
                    .and_then(|p| p.get(k))
                    .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(child) = child {
                    walk(v, child, root, &path.key(k.clone()), issues);
                }
            }
        }
        _ => {}
    }
}

/// Follows `$ref`, and picks the non-null branch of an optional (`anyOf [X, null]`) when the
/// value is not null.
fn resolve<'a>(mut node: &'a Value, root: &'a Value, value: &Value) -> &'a Value {
    for _ in 0..16 {
        if let Some(Value::String(r)) = node.get("$ref") {
            match r
                .strip_prefix("#/$defs/")
                .and_then(|name| root.get("$defs")?.get(name))
            {
                Some(target) => node = target,
                None => return node,
            }
        } else if let Some(Value::Array(branches)) = node.get("anyOf") {
            let non_null: Vec<&Value> = branches
                .iter()
                .filter(|b| b.get("type") != Some(&Value::from("null")))
                .collect();
            match (non_null.as_slice(), value.is_null()) {
                ([one], false) => node = one,
                _ => return node,
            }
        } else {
            return node;
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load::schema_value;

    fn problems(yaml: &str) -> Vec<String> {
        let doc: Value = serde_saphyr::from_str(yaml).expect("yaml");
        let mut issues = Issues::default();
        check(&doc, &schema_value(), &mut issues);
        format!("{issues:?}")
            .split("path: ")
            .skip(1)
            .map(|s| s.split(',').next().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn lists_where_mappings_belong_are_found_everywhere() {
        assert!(problems("regions: [{name: a}]\nsimulation: {horizon_h: 2}").is_empty());
        assert_eq!(problems("simulation: [1, 2]").len(), 1);
        assert_eq!(problems("regions: [[a, 1]]\ninference: {model: [1], users: [{region: a, rate_per_s: 1, daily_cycle: [0.5]}]}").len(), 3);
        assert_eq!(
            problems("inference: {users: [{daily_cycle: [0.5]}]}").len(),
            1,
            "through an optional"
        );
        assert_eq!(
            problems("network: {rtt_ms: {a: [1, 2]}}").len(),
            1,
            "through a map of maps"
        );
    }
}
