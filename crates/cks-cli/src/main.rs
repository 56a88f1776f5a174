//! `cks`: the command-line client. All logic lives in the library (`cks_cli::run`).

use std::process::ExitCode;

fn main() -> ExitCode {
    match cks_cli::run(std::env::args_os()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cks: {err:#}");
            ExitCode::from(2)
        }
    }
}
