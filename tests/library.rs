//! The scenario library's own promises (scenarios/README.md): every shipped scenario and sweep
//! opens with its question, is listed in the library's table with today's answer, and every
//! scenario but the speed benchmark has a committed baseline that CI checks
//! (scenarios/baselines/baselines.sh), made from that scenario.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The YAML files directly in `dir` (under the project root), as paths relative to
/// `scenarios/`, sorted.
fn yaml_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(root().join(dir))
        .expect("scenarios folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            p.strip_prefix(root().join("scenarios"))
                .expect("under scenarios/")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    files.sort();
    files
}

fn scenarios() -> Vec<String> {
    let mut files = yaml_files("scenarios");
    files.extend(yaml_files("scenarios/published"));
    files
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_shipped_file_opens_with_its_question() {
    let mut files = scenarios();
    files.extend(yaml_files("scenarios/sweeps"));
    assert!(files.len() >= 18, "{files:?}");
    for file in files {
        let text = read(&root().join("scenarios").join(&file));
        let opening: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
        assert!(
            opening.len() >= 3,
            "{file} opens with {} comment lines, not its question and sources",
            opening.len()
        );
        assert!(
            opening.iter().any(|l| l.contains('?')) || file.starts_with("published/"),
            "{file}: its opening comment asks no question"
        );
    }
}

#[test]
fn every_shipped_file_is_in_the_library_table() {
    let readme = read(&root().join("scenarios/README.md"));
    let mut files = scenarios();
    files.extend(yaml_files("scenarios/sweeps"));
    for file in files {
        let row = format!("| `{file}` |");
        assert!(
            readme.lines().any(|l| l.starts_with(&row)),
            "scenarios/README.md has no row for {file}"
        );
    }
}

#[test]
fn every_scenario_but_the_benchmark_has_a_checked_baseline() {
    let script = read(&root().join("scenarios/baselines/baselines.sh"));
    for file in scenarios() {
        if file == "bench-year.yaml" {
            continue;
        }
        let case = format!("\"{file}|");
        assert!(
            script.lines().any(|l| l.trim_start().starts_with(&case)),
            "scenarios/baselines/baselines.sh does not check {file}"
        );
        let baseline: PathBuf = root()
            .join("scenarios/baselines")
            .join(file.replace(".yaml", ".baseline.json"));
        let json: serde_json::Value =
            serde_json::from_str(&read(&baseline)).expect("a baseline is JSON");
        let name = read(&root().join("scenarios").join(&file))
            .lines()
            .find_map(|l| l.strip_prefix("name: ").map(str::to_owned))
            .unwrap_or_else(|| panic!("{file} has no name"));
        assert_eq!(
            json["scenario"].as_str(),
            Some(name.trim()),
            "{} was made from another scenario",
            baseline.display()
        );
        assert_eq!(
            json["scenario_file"].as_str(),
            Some(format!("scenarios/{file}").as_str()),
            "{}",
            baseline.display()
        );
    }
}
