//! `edgesim`: a local edge emulator and test harness.
//!
//! Each subcommand lives in its own module: `dev`, `supabase`, `run` (with `campaign`), `check`.

/// `println!` for results on stdout: a closed pipe (`edgesim run ... | head`) ends the output
/// quietly instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod campaign;
mod check;
mod dev;
mod kv;

mod run;
mod supabase;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// A local edge emulator: a real wasm Worker, a multi-region eventually consistent KV,
/// a mock Supabase, one virtual clock and seeded faults.
#[derive(Parser)]
#[command(name = "edgesim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Worker, the multi-region KV and the mock Supabase on loopback (wall clock).
    Dev(dev::DevArgs),
    /// Serve a mock Supabase project (PostgREST + Database Webhooks) on loopback.
    Supabase(supabase::SupabaseArgs),
    /// Run chaos scenarios in virtual time: one seed, or a campaign of many (sharded, parallel).
    Run(run::RunArgs),
    /// Check a recorded event log (`edgesim run --events FILE`) with the consistency checker.
    Check(check::CheckArgs),
    /// Workers KV from outside the Worker, as `wrangler kv key|bulk` (put, get, delete, list).
    Kv(kv::KvArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Dev(args) => dev::main(args),
        Command::Supabase(args) => supabase::main(args),
        Command::Run(args) => run::main(args),
        Command::Check(args) => check::main(args),
        Command::Kv(args) => kv::main(args),
    }
}
