//! `cks`: the command-line client. All logic lives in the library (`cks_cli::run`); this maps
//! its error to the documented exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match cks_cli::run(std::env::args_os()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = cks_cli::exit_code(&err);
            if code != 0 {
                eprintln!("cks: {err:#}");
            }
            ExitCode::from(code)
        }
    }
}
