//! `edgesim run`.

use std::process::ExitCode;

/// Arguments of `edgesim run`.
#[derive(clap::Args)]
pub struct RunArgs {}

/// Runs `edgesim run`.
pub fn main(_args: RunArgs) -> ExitCode {
    eprintln!("edgesim run: not built yet");
    ExitCode::from(2)
}
