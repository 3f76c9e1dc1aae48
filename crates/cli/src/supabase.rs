//! `edgesim supabase`: serve a mock Supabase project (PostgREST + Database Webhooks) on loopback.

use edgesim_core::{OffsetWallClock, SharedClock};
use edgesim_supabase::{
    ANON_KEY, HttpDispatcher, JWT_SECRET, PUBLISHABLE_KEY, SECRET_KEY, SERVICE_ROLE_KEY, Supabase,
};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `edgesim supabase`.
#[derive(clap::Args)]
pub struct SupabaseArgs {
    /// Project directory in Supabase CLI layout (`supabase/migrations`, `supabase/seed.sql`,
    /// `supabase/webhooks.toml`). Without it, `fixtures/supabase` if present, else the embedded demo.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 54321)]
    port: u16,
    /// SQLite database file (in-memory when absent).
    #[arg(long)]
    db: Option<PathBuf>,
}

/// The `supabase status`-style summary.
pub fn status_text(port: u16) -> String {
    let api = format!("http://127.0.0.1:{port}");
    [
        ("API URL", api.clone()),
        ("REST URL", format!("{api}/rest/v1")),
        ("Deliveries", format!("{api}/__edgesim/deliveries")),
        ("Publishable key", PUBLISHABLE_KEY.to_string()),
        ("Secret key", SECRET_KEY.to_string()),
        ("JWT secret", JWT_SECRET.to_string()),
        ("anon key", ANON_KEY.to_string()),
        ("service_role key", SERVICE_ROLE_KEY.to_string()),
    ]
    .iter()
    .map(|(k, v)| format!("{k:>17}: {v}"))
    .collect::<Vec<_>>()
    .join("\n")
}

/// Runs `edgesim supabase`.
pub fn main(args: SupabaseArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("edgesim supabase: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let clock: SharedClock = Arc::new(OffsetWallClock::new());
    let dispatcher = HttpDispatcher::new(rt.handle().clone());
    let default_dir = PathBuf::from("fixtures/supabase");
    let dir = args
        .dir
        .clone()
        .or_else(|| default_dir.is_dir().then_some(default_dir));
    let opened = match &dir {
        Some(d) => Supabase::open(d, args.db.as_deref(), clock, dispatcher.clone()),
        None if args.db.is_none() => Supabase::demo(clock, dispatcher.clone()),
        None => {
            eprintln!("edgesim supabase: --db needs a project (--dir)");
            return ExitCode::from(2);
        }
    };
    let sb = match opened {
        Ok(sb) => sb,
        Err(e) => {
            eprintln!("edgesim supabase: {e}");
            return ExitCode::FAILURE;
        }
    };
    dispatcher.attach(&sb);
    let project = dir.map_or("embedded demo".to_string(), |d| d.display().to_string());
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "edgesim supabase: cannot listen on 127.0.0.1:{}: {e}",
                    args.port
                );
                return ExitCode::FAILURE;
            }
        };
        println!(
            "Serving {project} (mock Supabase; webhooks: {} declared).\n",
            sb.hooks().len()
        );
        println!("{}", status_text(args.port));
        tokio::select! {
            r = edgesim_supabase::serve(listener, sb) => {
                if let Err(e) = r {
                    eprintln!("edgesim supabase: {e}");
                    return ExitCode::FAILURE;
                }
                ExitCode::SUCCESS
            }
            _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
        }
    })
}
