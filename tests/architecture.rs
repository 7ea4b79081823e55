//! The import order of the library's layers, checked from the source: a module imports only
//! from its own layer or the layers below it, and no two files import each other, directly or
//! round a circle. ARCHITECTURE.md lists the layers; this test is what keeps them true.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The library's top-level modules, bottom layer first. A module may use `crate::X` only for
/// an `X` at its own position or before it.
const LAYERS: &[&[&str]] = &[
    &["core"],
    &["metrics"],
    &["physics"],
    &["economics"],
    &["calibration"],
    &["scenario"],
    &["sim"],
    &["experiment"],
    &["export"],
    &["report"],
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("readable source folder")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file under `src/`: `src/sim/pool.rs` -> [sim, pool].
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "lib" || p == "main") {
        parts.pop();
    }
    parts
}

/// The code of a file before its unit tests (tests may reach anywhere).
fn code(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// Every path the code names from the crate root or its parent module, resolved to an
/// absolute module path: `crate::a::b::C` and `super::x::Y` (inside module `m`).
fn paths(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        for (i, _) in line
            .match_indices("crate::")
            .chain(line.match_indices("super::"))
        {
            // Skip `$crate::` in macros and `depinsim::crate::...`-like false matches.
            if i > 0 && line.as_bytes()[i - 1].is_ascii_alphanumeric() {
                continue;
            }
            let rest = &line[i..];
            let segs: Vec<String> = rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            let mut abs: Vec<String> = Vec::new();
            let mut it = segs.into_iter().peekable();
            match it.peek().map(String::as_str) {
                Some("crate") => {
                    it.next();
                }
                Some("super") => {
                    abs = module.to_vec();
                    while it.peek().map(String::as_str) == Some("super") {
                        it.next();
                        abs.pop();
                    }
                }
                _ => continue,
            }
            abs.extend(it);
            if !abs.is_empty() {
                out.push(abs);
            }
        }
    }
    out
}

/// The file that defines the longest prefix of `path` among `files` (module path -> file).
fn file_of<'a>(path: &[String], files: &'a BTreeMap<Vec<String>, PathBuf>) -> Option<&'a PathBuf> {
    (1..=path.len()).rev().find_map(|n| files.get(&path[..n]))
}

#[test]
fn layers_import_only_downwards_and_files_form_no_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    sources(&root, &mut all);
    let files: BTreeMap<Vec<String>, PathBuf> = all
        .iter()
        .map(|p| {
            (
                module_of(p.strip_prefix(&root).expect("under src")),
                p.clone(),
            )
        })
        .collect();
    let mut upward = Vec::new();
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for (module, file) in &files {
        let Some(top) = module.first() else { continue };
        // The binary's own modules (main.rs and commands) sit above every layer.
        let Some(own) = layer_of(top) else { continue };
        let text = std::fs::read_to_string(file).expect("readable source");
        for path in paths(code(&text), module) {
            if let Some(used) = layer_of(&path[0])
                && used > own
            {
                upward.push(format!(
                    "{} uses crate::{}",
                    file.display(),
                    path.join("::")
                ));
            }
            if let Some(target) = file_of(&path, &files)
                && target != file
                // A parent module names its children (`mod x;` and re-exports); that is
                // containment, not an import.
                && !module.starts_with(&module_of(target.strip_prefix(&root).expect("src")))
            {
                edges
                    .entry(file.clone())
                    .or_default()
                    .insert(target.clone());
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that run up the layers (see ARCHITECTURE.md):\n{}",
        upward.join("\n")
    );
    // Depth-first search for a circle among files.
    let mut state: BTreeMap<&PathBuf, u8> = BTreeMap::new();
    let mut stack: Vec<&PathBuf> = Vec::new();
    fn visit<'a>(
        f: &'a PathBuf,
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        state: &mut BTreeMap<&'a PathBuf, u8>,
        stack: &mut Vec<&'a PathBuf>,
    ) -> Option<Vec<String>> {
        match state.get(f) {
            Some(2) => return None,
            Some(1) => {
                let at = stack.iter().position(|g| *g == f).unwrap_or(0);
                return Some(
                    stack[at..]
                        .iter()
                        .map(|g| g.display().to_string())
                        .collect(),
                );
            }
            _ => {}
        }
        state.insert(f, 1);
        stack.push(f);
        for g in edges.get(f).into_iter().flatten() {
            if let Some(circle) = visit(g, edges, state, stack) {
                return Some(circle);
            }
        }
        stack.pop();
        state.insert(f, 2);
        None
    }
    for f in edges.keys() {
        if let Some(circle) = visit(f, &edges, &mut state, &mut stack) {
            panic!("files that import each other: {}", circle.join(" -> "));
        }
    }
}

#[test]
fn the_checker_sees_an_upward_import_and_resolves_super() {
    let module = vec![
        "sim".to_string(),
        "inference".to_string(),
        "routing".to_string(),
    ];
    let found = paths(
        "use crate::scenario::Scenario;\nuse super::users::Candidate;\n// use crate::report::x;\n",
        &module,
    );
    assert_eq!(
        found,
        vec![
            vec!["scenario".to_string(), "Scenario".to_string()],
            vec![
                "sim".to_string(),
                "inference".to_string(),
                "users".to_string(),
                "Candidate".to_string()
            ],
        ]
    );
    assert!(layer_of("report") > layer_of("sim"));
}
