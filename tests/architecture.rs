//! The shape of the library, checked from its source: each layer imports only the layers
//! ARCHITECTURE.md allows it, no two files import each other (directly or round a circle),
//! and no file is longer than a reader can hold before its unit tests begin.
//!
//! Sources are parsed (`syn`), so grouped, nested, renamed and multi-line `use` trees and
//! paths written inside the code all count; items under `#[cfg(test)]` do not. A name used
//! through a module that re-exports it (`crate::scenario::Scenario`, defined in
//! `scenario/spec.rs`) is an import of the file that defines it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// Each top-level module of the library and the modules it may import from (besides itself).
const ALLOWED: &[(&str, &[&str])] = &[
    ("core", &[]),
    ("metrics", &["core"]),
    ("physics", &["core"]),
    ("economics", &["core"]),
    ("calibration", &["core", "physics"]),
    (
        "scenario",
        &["core", "metrics", "physics", "economics", "calibration"],
    ),
    (
        "sim",
        &[
            "core",
            "metrics",
            "physics",
            "economics",
            "calibration",
            "scenario",
        ],
    ),
    (
        "experiment",
        &[
            "core",
            "metrics",
            "physics",
            "economics",
            "calibration",
            "scenario",
            "sim",
        ],
    ),
    (
        "export",
        &[
            "core",
            "metrics",
            "physics",
            "economics",
            "calibration",
            "scenario",
            "sim",
            "experiment",
        ],
    ),
    (
        "report",
        &[
            "core",
            "metrics",
            "physics",
            "economics",
            "calibration",
            "scenario",
            "sim",
            "experiment",
            "export",
        ],
    ),
    ("cli", &["calibration"]),
];

/// A module path from the crate root: `["sim", "pool"]`.
type ModPath = Vec<String>;

/// What one file defines and uses.
#[derive(Default)]
struct FileInfo {
    /// Names its items define (and modules it declares).
    defines: BTreeSet<String>,
    /// Re-exported names: name -> the absolute path it stands for; globs under "*".
    reexports: Vec<(String, ModPath)>,
    /// Absolute paths its code names (from `use` trees and paths in the code).
    uses: Vec<ModPath>,
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

/// The module path of a file under `src/`: `sim/pool.rs` -> [sim, pool]; `lib.rs` -> [].
fn module_of(rel: &Path) -> ModPath {
    let mut parts: ModPath = rel
        .iter()
        .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "lib" || p == "main") {
        parts.pop();
    }
    parts
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

/// `segments` as written inside module `module`, made absolute; None for paths that do not
/// start at the crate (`std::...`, a local name).
fn absolute(segments: &[String], module: &[String]) -> Option<ModPath> {
    let mut it = segments.iter().peekable();
    let mut abs: ModPath = match it.peek().map(|s| s.as_str()) {
        Some("crate") => {
            it.next();
            Vec::new()
        }
        Some("super") => {
            let mut m = module.to_vec();
            while it.peek().map(|s| s.as_str()) == Some("super") {
                it.next();
                m.pop();
            }
            m
        }
        Some("self") => {
            it.next();
            module.to_vec()
        }
        _ => return None,
    };
    abs.extend(it.cloned());
    Some(abs)
}

/// Expands a `use` tree into its paths (`a::{b, c::d as e, f::*}`), each with the name it
/// binds (`*` for a glob).
fn expand(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(ModPath, String)>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            expand(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            let mut path = prefix.clone();
            if name != "self" {
                path.push(name.clone());
            }
            let bound = if name == "self" {
                prefix.last().cloned().unwrap_or_default()
            } else {
                name
            };
            out.push((path, bound));
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            out.push((path, r.rename.to_string()));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), "*".to_string())),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                expand(t, prefix, out);
            }
        }
    }
}

/// Collects the paths named in code (not in `use` items, which are expanded apart).
struct Paths<'a> {
    module: &'a [String],
    out: &'a mut Vec<ModPath>,
}

impl<'ast> Visit<'ast> for Paths<'_> {
    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(abs) = absolute(&segs, self.module) {
            self.out.push(abs);
        }
        syn::visit::visit_path(self, p);
    }
    // `pub(super)` and `pub(in crate::x)` say who may see an item, not what it uses.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}
    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {}
    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {}
}

/// Reads the items of a module (a file, or an inline `mod` in it) into `info`.
fn read_items(items: &[syn::Item], module: &ModPath, info: &mut FileInfo) {
    for item in items {
        let attrs = match item {
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Trait(t) => &t.attrs,
            syn::Item::Type(t) => &t.attrs,
            syn::Item::Macro(m) => &m.attrs,
            _ => continue,
        };
        if is_test_only(attrs) {
            continue;
        }
        match item {
            syn::Item::Use(u) => {
                let mut found = Vec::new();
                expand(&u.tree, &mut Vec::new(), &mut found);
                let public = !matches!(u.vis, syn::Visibility::Inherited);
                for (path, bound) in found {
                    let Some(abs) = absolute(&path, module) else {
                        // `use child::X` inside a module names its own child.
                        let Some(first) = path.first() else { continue };
                        if first == "std" || first == "core" || first == "alloc" {
                            continue;
                        }
                        let mut abs = module.clone();
                        abs.extend(path);
                        if public {
                            info.reexports.push((bound, abs.clone()));
                        }
                        info.uses.push(abs);
                        continue;
                    };
                    if public {
                        info.reexports.push((bound, abs.clone()));
                    }
                    info.uses.push(abs);
                }
            }
            syn::Item::Mod(m) => {
                info.defines.insert(m.ident.to_string());
                if let Some((_, inner)) = &m.content {
                    let mut sub = module.clone();
                    sub.push(m.ident.to_string());
                    read_items(inner, &sub, info);
                }
            }
            other => {
                let name = match other {
                    syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
                    syn::Item::Struct(s) => Some(s.ident.to_string()),
                    syn::Item::Enum(e) => Some(e.ident.to_string()),
                    syn::Item::Const(c) => Some(c.ident.to_string()),
                    syn::Item::Static(s) => Some(s.ident.to_string()),
                    syn::Item::Trait(t) => Some(t.ident.to_string()),
                    syn::Item::Type(t) => Some(t.ident.to_string()),
                    _ => None,
                };
                if let Some(n) = name {
                    info.defines.insert(n);
                }
                let mut v = Paths {
                    module,
                    out: &mut info.uses,
                };
                v.visit_item(other);
            }
        }
    }
}

/// The library's files, parsed: module path -> (file, what it defines and uses).
fn library() -> (PathBuf, BTreeMap<ModPath, (PathBuf, FileInfo)>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    sources(&root, &mut all);
    let mut files = BTreeMap::new();
    for file in all {
        let module = module_of(file.strip_prefix(&root).expect("under src"));
        let text = std::fs::read_to_string(&file).expect("readable source");
        let parsed = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{}: does not parse: {e}", file.display()));
        let mut info = FileInfo::default();
        read_items(&parsed.items, &module, &mut info);
        files.insert(module, (file, info));
    }
    (root, files)
}

/// The file that defines what `path` names: the longest prefix that is a file, followed
/// through that file's re-exports of the next segment.
fn resolve(
    path: &[String],
    files: &BTreeMap<ModPath, (PathBuf, FileInfo)>,
    depth: u32,
) -> Option<ModPath> {
    let n = (1..=path.len())
        .rev()
        .find(|&n| files.contains_key(&path[..n]))?;
    let module = path[..n].to_vec();
    let Some(next) = path.get(n) else {
        return Some(module);
    };
    let (_, info) = &files[&module];
    if depth < 8 && !info.defines.contains(next) {
        let mut rest = path[n + 1..].to_vec();
        if let Some((_, target)) = info.reexports.iter().find(|(b, _)| b == next) {
            let mut t = target.clone();
            t.append(&mut rest);
            return resolve(&t, files, depth + 1).or(Some(module));
        }
        for (b, target) in &info.reexports {
            if b == "*" {
                let mut t = target.clone();
                t.push(next.clone());
                t.extend(rest.iter().cloned());
                if let Some(found) = resolve(&t, files, depth + 1)
                    && found != module
                {
                    return Some(found);
                }
            }
        }
    }
    Some(module)
}

#[test]
fn layers_import_only_what_they_may_and_files_form_no_circle() {
    let (_, files) = library();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut upward = BTreeSet::new();
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (module, (file, info)) in &files {
        let Some(top) = module.first() else { continue };
        // The binary's own modules (main.rs and commands/) sit above every layer.
        let Some(may) = allowed.get(top.as_str()) else {
            continue;
        };
        for path in &info.uses {
            let Some(used) = path.first() else { continue };
            if used != top && allowed.contains_key(used.as_str()) && !may.contains(&used.as_str()) {
                upward.insert(format!(
                    "{} uses crate::{}",
                    file.display(),
                    path.join("::")
                ));
            }
            if let Some(target) = resolve(path, &files, 0)
                && &target != module
            {
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports the layers do not allow (see ARCHITECTURE.md):\n{}",
        upward.into_iter().collect::<Vec<_>>().join("\n")
    );
    if let Some(circle) = find_circle(&edges) {
        panic!(
            "files that import each other: {}",
            circle
                .iter()
                .map(|m| format!("{}.rs", m.join("/")))
                .collect::<Vec<_>>()
                .join(" -> ")
        );
    }
}

/// A circle in `edges`, if there is one.
fn find_circle(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Option<Vec<ModPath>> {
    fn visit<'a>(
        f: &'a ModPath,
        edges: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        state: &mut BTreeMap<&'a ModPath, u8>,
        stack: &mut Vec<&'a ModPath>,
    ) -> Option<Vec<ModPath>> {
        match state.get(f) {
            Some(2) => return None,
            Some(1) => {
                let at = stack.iter().position(|g| *g == f).unwrap_or(0);
                let mut c: Vec<ModPath> = stack[at..].iter().map(|g| (*g).clone()).collect();
                c.push(f.clone());
                return Some(c);
            }
            _ => {}
        }
        state.insert(f, 1);
        stack.push(f);
        for g in edges.get(f).into_iter().flatten() {
            if let Some(c) = visit(g, edges, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(f, 2);
        None
    }
    let mut state = BTreeMap::new();
    let mut stack = Vec::new();
    edges
        .keys()
        .find_map(|f| visit(f, edges, &mut state, &mut stack))
}

/// The checker itself: each way of writing an import it must see.
#[test]
fn the_checker_sees_every_way_of_writing_an_import() {
    let module: ModPath = vec!["sim".into(), "pool".into()];
    let code = "
use crate::{report::run, sim::{world::World, event}};
use super::world as w;
use crate
    ::export::file::write;
fn f() { let _ = crate :: scenario :: load_str; }
#[cfg(test)]
mod tests { use crate::cli::Cli; }
";
    let parsed = syn::parse_file(code).expect("parses");
    let mut info = FileInfo::default();
    read_items(&parsed.items, &module, &mut info);
    let seen: BTreeSet<String> = info.uses.iter().map(|p| p.join("::")).collect();
    for want in [
        "report::run",
        "sim::world::World",
        "sim::event",
        "sim::world",
        "export::file::write",
        "scenario::load_str",
    ] {
        assert!(seen.contains(want), "missed {want}: {seen:?}");
    }
    assert!(
        !seen.iter().any(|p| p.starts_with("cli")),
        "test code counted"
    );
    // A circle of two files is found.
    let a: ModPath = vec!["x".into()];
    let b: ModPath = vec!["y".into()];
    let edges = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone()])),
    ]);
    assert!(find_circle(&edges).is_some());
}

/// The most lines a file of `src/` may have before its first `#[cfg(test)]` (or in all, if it
/// has none): a file longer than this holds more than one job.
const MAX_LINES: usize = 650;

/// Lines of `text` before its first `#[cfg(test)]` attribute.
fn lines_before_tests(text: &str) -> usize {
    text.lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .count()
}

#[test]
fn no_file_is_longer_than_its_job_before_its_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(files.len() > 50, "found only {} files", files.len());
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).expect("readable source");
            let n = lines_before_tests(&text);
            (n > MAX_LINES).then(|| format!("{}: {n} lines", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "files above {MAX_LINES} lines before their tests: {long:?}"
    );
    // The count stops at the tests and only there.
    assert_eq!(lines_before_tests("a\nb\n#[cfg(test)]\nmod tests {}\n"), 2);
    assert_eq!(
        lines_before_tests("a\n// #[cfg(test)] in a comment\nb\n"),
        3
    );
}
