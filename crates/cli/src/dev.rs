//! `edgesim dev`: the Worker on 127.0.0.1:8787, the mock Supabase on 127.0.0.1:54321 with its
//! webhook pointed at the Worker's `POST /revalidate`, the multi-region KV, wall-clock time
//! (movable with `POST /__edgesim/time/advance?seconds=N`), state under `.edgesim/`.

mod config;

use anyhow::{Context, Result, bail};
use config::DevConfig;
use edgesim_core::{OffsetWallClock, SharedClock, SimRng};
use edgesim_host::{Control, Host, HostConfig, HttpUpstream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Arguments of `edgesim dev`.
#[derive(clap::Args)]
pub struct DevArgs {
    /// Port of the Worker (and of the `/__edgesim/` control endpoints).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Port of the mock Supabase.
    #[arg(long, default_value_t = 54321)]
    supabase_port: u16,
    /// Configuration file (default: ./edgesim.toml when it exists).
    #[arg(long)]
    config: Option<PathBuf>,
    /// A Worker component to run instead of the embedded demo Worker.
    #[arg(long)]
    worker: Option<PathBuf>,
    /// Which embedded Worker to run: `course` (default), `hardened`, or `anchor` (the Miniflare
    /// benchmark anchor's Worker ported to Rust, which `just bench` serves).
    #[arg(long)]
    variant: Option<String>,
    /// Directory for persisted state (KV central, Supabase database, compiled Worker cache).
    #[arg(long, default_value = ".edgesim")]
    persist_to: PathBuf,
    /// The Supabase database file (default: <persist-to>/supabase.sqlite3).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Start from empty KV and a fresh demo database (the compiled Worker cache is kept).
    #[arg(long)]
    reset: bool,
    /// Seed for cf-ray ids, the guest's randomness and the KV model (default: from the OS).
    #[arg(long)]
    seed: Option<u64>,
    /// A fresh Worker instance for every request. By default an instance whose last request
    /// ended cleanly serves later ones, as production reuses isolates (module globals persist).
    #[arg(long)]
    fresh_instances: bool,
    /// Requests producing a response at once; later ones wait in arrival order (bounds memory).
    #[arg(long, default_value_t = 16)]
    max_live: usize,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

/// Runs `edgesim dev`.
pub fn main(args: DevArgs) -> ExitCode {
    init_tracing();
    // A few worker threads; guests yield every ~0.2 ms of CPU (fuel), so a busy Worker cannot
    // starve the servers. (The simulation runs its own single-threaded runtime on paused time.)
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("edgesim dev: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edgesim dev: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,cranelift=warn,wasmtime=warn")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn run(args: DevArgs) -> Result<()> {
    let cfg = load_config(&args)?;
    let dir = &args.persist_to;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let kv_path = dir.join("kv.sqlite3");
    let db_path = args
        .db
        .clone()
        .unwrap_or_else(|| dir.join("supabase.sqlite3"));
    if args.reset {
        let mut files = Vec::new();
        for db in [&kv_path, &db_path] {
            files.push(db.clone());
            for suffix in ["-wal", "-shm", "-journal"] {
                let mut name = db.clone().into_os_string();
                name.push(suffix);
                files.push(PathBuf::from(name));
            }
        }
        for p in &files {
            match std::fs::remove_file(p) {
                Ok(()) => tracing::info!("reset: removed {}", p.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => bail!("reset: cannot remove {}: {e}", p.display()),
            }
        }
    }

    let wall = OffsetWallClock::new();
    let clock: SharedClock = Arc::new(wall.clone());
    let rng = args
        .seed
        .map(SimRng::from_seed)
        .unwrap_or_else(SimRng::from_os);

    let worker_listener = bind(args.port, "the Worker").await?;
    let supabase_listener = bind(args.supabase_port, "the mock Supabase").await?;
    let worker_url = format!("http://{}", worker_listener.local_addr()?);
    let supabase_url = format!("http://{}", supabase_listener.local_addr()?);

    let dispatcher = edgesim_supabase::HttpDispatcher::new(tokio::runtime::Handle::current());
    let supabase = edgesim_supabase::Supabase::from_project(
        &edgesim_supabase::demo_project(),
        Some(&db_path),
        clock.clone(),
        dispatcher.clone(),
    )
    .map_err(|e| anyhow::anyhow!("opening the Supabase database {}: {e}", db_path.display()))?;
    dispatcher.attach(&supabase);
    supabase.set_webhook_url(None, &format!("{worker_url}/revalidate"));

    let kv = edgesim_kv::KvStore::open_persistent(
        cfg.kv_config(),
        clock.clone(),
        rng.fork("kv"),
        &kv_path,
    )
    .map_err(|e| anyhow::anyhow!("opening KV at {}: {e}", kv_path.display()))?;

    let (bytes, worker_name) = worker_bytes(&args, &cfg)?;
    let mut host_config = host_config(&cfg, &supabase_url)?;
    host_config.instances.reuse = !args.fresh_instances;
    host_config.instances.max_live = Some(args.max_live.max(1));
    let colos: Vec<String> = host_config.colos.iter().map(|c| c.code.clone()).collect();
    let default_colo = host_config.default_colo.clone();
    let host = Host::new(
        &bytes,
        host_config,
        kv,
        Arc::new(HttpUpstream::new()),
        clock.clone(),
        rng.fork("host"),
        Some(&dir.join("cache")),
    )?;

    print_status(&Status {
        name: cfg.name.as_deref().unwrap_or("edgesim"),
        worker: &worker_name,
        worker_url: &worker_url,
        supabase_url: &supabase_url,
        colos: &colos,
        default_colo: &default_colo,
        dir: &dir.display().to_string(),
        seed: rng.seed(),
    });

    let control = Control {
        advance: Arc::new(move |d| wall.advance(d)),
    };
    let supabase_task = tokio::spawn(edgesim_supabase::serve(supabase_listener, supabase));
    tokio::select! {
        biased;
        r = tokio::signal::ctrl_c() => { r?; tracing::info!("shutting down"); }
        r = edgesim_host::serve(worker_listener, host, Some(control)) => r.context("serving the Worker")?,
        r = supabase_task => {
            match r {
                Ok(Ok(())) => bail!("the mock Supabase stopped"),
                Ok(Err(e)) => bail!("the mock Supabase failed: {e}"),
                Err(e) => bail!("the mock Supabase failed: {e}"),
            }
        }
    }
    Ok(())
}

fn load_config(args: &DevArgs) -> Result<DevConfig> {
    match &args.config {
        Some(path) => DevConfig::load(path),
        None => {
            let default = PathBuf::from("edgesim.toml");
            if default.exists() {
                DevConfig::load(&default)
            } else {
                Ok(DevConfig::default())
            }
        }
    }
}

async fn bind(port: u16, what: &str) -> Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| {
            format!("cannot listen on 127.0.0.1:{port} for {what} (is another edgesim running?)")
        })
}

/// The component to run and a name for it: `--worker`, else `worker` in the config, else the
/// embedded variant.
fn worker_bytes(args: &DevArgs, cfg: &DevConfig) -> Result<(Vec<u8>, String)> {
    if let Some(path) = args.worker.as_ref().or(cfg.worker.as_ref()) {
        let bytes = std::fs::read(path)
            .with_context(|| format!("reading the Worker {}", path.display()))?;
        return Ok((bytes, path.display().to_string()));
    }
    let variant = args
        .variant
        .as_deref()
        .or(cfg.variant.as_deref())
        .unwrap_or("course");
    let Some(bytes) = config::embedded_worker(variant) else {
        bail!("--variant {variant}: expected {}", config::VARIANT_NAMES);
    };
    Ok((bytes.to_vec(), format!("embedded {variant} Worker")))
}

fn host_config(cfg: &DevConfig, supabase_url: &str) -> Result<HostConfig> {
    let mut host = HostConfig::new(supabase_url);
    host.colos = cfg.colos().into_iter().map(|(c, _)| c).collect();
    host.default_colo = match &cfg.default_colo {
        Some(c) => c.to_ascii_uppercase(),
        None => host
            .colos
            .first()
            .map(|c| c.code.clone())
            .unwrap_or_default(),
    };
    if host.colo(&host.default_colo).is_none() {
        bail!(
            "default_colo = {:?} is not among the colos ({})",
            host.default_colo,
            host.colos
                .iter()
                .map(|c| c.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    host.vars.insert(
        "SUPABASE_ANON_KEY".to_string(),
        edgesim_supabase::ANON_KEY.to_string(),
    );
    host.vars.extend(cfg.vars.clone());
    host.kv_bindings = cfg.bindings();
    host.limits = cfg.limits()?;
    host.allowlist = cfg.allowlist.clone();
    Ok(host)
}

struct Status<'a> {
    name: &'a str,
    worker: &'a str,
    worker_url: &'a str,
    supabase_url: &'a str,
    colos: &'a [String],
    default_colo: &'a str,
    dir: &'a str,
    seed: u64,
}

fn print_status(s: &Status<'_>) {
    println!("{} is running.\n", s.name);
    println!("         Worker URL: {}", s.worker_url);
    println!("             Worker: {}", s.worker);
    println!(
        "              Colos: {} (default {}; pick with header x-edgesim-colo)",
        s.colos.join(", "),
        s.default_colo
    );
    println!("       Supabase URL: {}", s.supabase_url);
    println!("            API URL: {}/rest/v1", s.supabase_url);
    println!("           anon key: {}", edgesim_supabase::ANON_KEY);
    println!(
        "   service_role key: {}",
        edgesim_supabase::SERVICE_ROLE_KEY
    );
    println!("            Webhook: POST {}/revalidate", s.worker_url);
    println!(
        "       Advance time: curl -X POST '{}/__edgesim/time/advance?seconds=60'",
        s.worker_url
    );
    println!(
        "      Inspect a key: curl '{}/__edgesim/kv/ARTICLES//articles'",
        s.worker_url
    );
    println!("              State: {}", s.dir);
    println!("               Seed: {}", s.seed);
    println!();
}
