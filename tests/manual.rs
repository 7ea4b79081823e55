//! `depinsim completions` and `depinsim man`: generated from the parser's own definitions,
//! so every command appears, the scripts parse, and written pages are never overwritten
//! unasked. See issue 16.

use assert_cmd::cargo::cargo_bin_cmd;
use clap::CommandFactory;
use depinsim::cli::Cli;

fn depinsim() -> assert_cmd::Command {
    cargo_bin_cmd!("depinsim")
}

fn stdout(args: &[&str]) -> String {
    let out = depinsim().args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Every subcommand's name, from the definitions.
fn commands() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}

#[test]
fn completions_name_every_command_and_bash_parses_its_script() {
    let names = commands();
    assert!(names.len() >= 14 && names.contains(&"check".to_string()));
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout(&["completions", shell]);
        for n in &names {
            assert!(script.contains(n.as_str()), "{shell}: no `{n}`");
        }
        // A command's options, not only its name (fish spells them `-l max-memory`).
        assert!(
            script.contains("max-memory") && script.contains("self-test"),
            "{shell}"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("depinsim.bash");
    std::fs::write(&file, stdout(&["completions", "bash"])).expect("write");
    let bash = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .status()
        .expect("bash");
    assert!(bash.success(), "bash -n rejected the completion script");
    depinsim().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn man_pages_cover_every_command_and_are_not_overwritten_unasked() {
    let page = stdout(&["man"]);
    assert!(
        page.contains(".TH depinsim 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    for n in commands() {
        assert!(page.contains(&n), "depinsim.1 does not list `{n}`");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("man1");
    depinsim()
        .arg("man")
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let mut want: Vec<String> = commands()
        .iter()
        .map(|n| format!("depinsim-{n}.1"))
        .chain(["depinsim.1".to_string()])
        .collect();
    want.sort();
    assert_eq!(written, want);
    let check = std::fs::read_to_string(out.join("depinsim-check.1")).expect("page");
    assert!(
        check.contains(".TH depinsim\\-check 1") || check.contains(".TH depinsim-check 1"),
        "{check}"
    );
    assert!(check.contains("baseline"));
    // Again without --force: refused before anything is written, pages untouched.
    std::fs::write(out.join("depinsim.1"), "mine").expect("write");
    depinsim()
        .arg("man")
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    assert_eq!(
        std::fs::read_to_string(out.join("depinsim.1")).expect("kept"),
        "mine"
    );
    depinsim()
        .arg("man")
        .arg("--out")
        .arg(&out)
        .arg("--force")
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(out.join("depinsim.1"))
            .expect("page")
            .contains(".TH")
    );
}
