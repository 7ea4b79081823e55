//! The `depinsim` binary: parse the command line, run the subcommand, map failures to exit
//! codes (0 success, 1 the run failed, 2 bad input or usage).

mod commands;

use std::process::ExitCode;

use clap::Parser;
use depinsim::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::from(commands::exit_code(&e))
        }
    }
}
