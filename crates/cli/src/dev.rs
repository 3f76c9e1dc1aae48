//! `edgesim dev`.

use std::process::ExitCode;

/// Arguments of `edgesim dev`.
#[derive(clap::Args)]
pub struct DevArgs {}

/// Runs `edgesim dev`.
pub fn main(_args: DevArgs) -> ExitCode {
    eprintln!("edgesim dev: not built yet");
    ExitCode::from(2)
}
