//! `depinsim completions` and `depinsim man`: shell completions and manual pages, generated
//! from the clap definitions the parser itself uses, so they cannot drift from it.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;
use depinsim::cli::{Cli, CompletionsArgs, ManArgs};
use depinsim::export::file::write_atomic;

/// Prints the completion script for the shell.
pub(super) fn completions(a: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "depinsim", &mut script);
    // A closed pipe (`depinsim completions bash | head`) is not an error.
    let _ = std::io::stdout().write_all(&script);
    Ok(ExitCode::SUCCESS)
}

/// Prints depinsim.1, or writes it and a page per command into `--out`.
pub(super) fn man(a: ManArgs) -> Result<ExitCode> {
    let cmd = Cli::command();
    let Some(dir) = a.out else {
        let _ = std::io::stdout().write_all(&page(&cmd)?);
        return Ok(ExitCode::SUCCESS);
    };
    let mut pages = vec![("depinsim.1".to_string(), page(&cmd)?)];
    for sub in cmd.get_subcommands() {
        let name = format!("depinsim-{}", sub.get_name());
        let sub = sub.clone().name(name.clone()).bin_name(name.clone());
        pages.push((format!("{name}.1"), page(&sub)?));
    }
    // Every page is refused before any is written, so a refusal leaves nothing half done.
    if !a.force
        && let Some((name, _)) = pages.iter().find(|(n, _)| dir.join(n).exists())
    {
        return Err(depinsim::export::file::WriteError::Exists(dir.join(name)).into());
    }
    for (name, roff) in &pages {
        write_atomic(&dir.join(name), roff, true)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The manual page of `cmd`, as roff.
fn page(cmd: &clap::Command) -> Result<Vec<u8>> {
    let mut roff = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut roff)?;
    Ok(roff)
}
