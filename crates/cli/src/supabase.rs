//! `edgesim supabase`.

use std::process::ExitCode;

/// Arguments of `edgesim supabase`.
#[derive(clap::Args)]
pub struct SupabaseArgs {}

/// Runs `edgesim supabase`.
pub fn main(_args: SupabaseArgs) -> ExitCode {
    eprintln!("edgesim supabase: not built yet");
    ExitCode::from(2)
}
