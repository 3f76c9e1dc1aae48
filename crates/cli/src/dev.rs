//! `edgesim dev`: the Worker on 127.0.0.1:8787, the mock Supabase on 127.0.0.1:54321 with its
//! webhook pointed at the Worker's `POST /revalidate`, the multi-region KV, wall-clock time
//! (movable with `POST /__edgesim/time/advance?seconds=N`), state under `.edgesim/`.
//!
//! Which Worker: `--worker` (any [`WorkerSpec`]), else the config's, else the wrangler project
//! in the current directory, else the embedded course Worker. A wrangler or JS Worker is
//! rebuilt when a file of its project changes; a failed build is logged and the last good
//! build keeps serving (or an error page, when there is none yet).

mod config;
mod watch;

use anyhow::{Context, Result, bail};
use config::DevConfig;
use edgesim_core::{OffsetWallClock, SharedClock, SimRng};
use edgesim_host::{
    Control, Host, HostConfig, HostSlot, HttpUpstream, InProcessUpstream, Upstream,
};
use edgesim_workers::{Worker, WorkerError, WorkerSpec};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
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
    /// Configuration file: an edgesim.toml, or a wrangler file (wrangler.toml, wrangler.json,
    /// wrangler.jsonc). Default: ./edgesim.toml, else the wrangler file here.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The Worker: `course` (default), `hardened`, `anchor`, a component (.wasm), a JS or TS
    /// entry, or a wrangler project (a directory or its wrangler file).
    #[arg(long)]
    worker: Option<WorkerSpec>,
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
    let (cfg, spec) = load_config(&args)?;
    // A bad configuration stops here; a failed JS build does not (dev waits for the fix).
    let first = resolve(spec.clone()).await;
    let worker = match first {
        Ok(w) => Some(w),
        Err(WorkerError::Config(e)) => bail!("{e}"),
        Err(WorkerError::Build(e)) => {
            tracing::error!("building the Worker failed; fix it and save to retry:\n{e}");
            None
        }
    };
    let bindings = match (&worker, spec.wrangler_config()) {
        _ if !cfg.kv_namespaces.is_empty() => cfg.bindings(),
        (Some(w), _) => w.kv_bindings.clone(),
        (None, Some(Ok(wrangler))) => wrangler.kv_bindings,
        (None, _) => cfg.bindings(),
    };
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
    eprint!("{}", supabase.load_report().render_warnings());
    supabase.set_webhook_url(None, &format!("{worker_url}/revalidate"));

    let mut kv_config = cfg.kv_config();
    kv_config.namespaces = bindings.clone();
    let kv =
        edgesim_kv::KvStore::open_persistent(kv_config, clock.clone(), rng.fork("kv"), &kv_path)
            .map_err(|e| anyhow::anyhow!("opening KV at {}: {e}", kv_path.display()))?;
    // Time advanced in an earlier session is not kept: never start before the writes it left
    // in flight, or they would land after (and win over) this session's.
    if let Some(issued) = kv.latest_in_flight_issue_ms()
        && issued >= clock.now_ms()
    {
        wall.advance(Duration::from_millis(issued + 1 - clock.now_ms()));
    }

    // The Worker's fetches to the mock Supabase stay in-process, as in simulation; only
    // allowlisted hosts go over sockets.
    let upstream: Arc<dyn Upstream> = {
        let supabase = supabase.clone();
        Arc::new(
            InProcessUpstream::new(&supabase_url, Arc::new(move |r| supabase.handle(r)))
                .with_fallback(Arc::new(HttpUpstream::new())),
        )
    };
    let mut base_config = host_config(&cfg, &supabase_url)?;
    base_config.instances.reuse = !args.fresh_instances;
    base_config.instances.max_live = Some(args.max_live.max(1));
    let colos: Vec<String> = base_config.colos.iter().map(|c| c.code.clone()).collect();
    let default_colo = base_config.default_colo.clone();
    let kv_for_stop = kv.clone();
    let builder = HostBuilder {
        base: base_config,
        cfg_vars: cfg.vars.clone(),
        bindings,
        kv,
        upstream,
        clock: clock.clone(),
        rng: rng.fork("host"),
        cache: dir.join("cache"),
        supabase_url: supabase_url.clone(),
    };
    let slot = HostSlot::default();
    let worker_name = match &worker {
        Some(w) => {
            report_warnings(w, &supabase_url);
            let host = builder.build(w.clone()).await?;
            slot.set(host);
            w.name.clone()
        }
        None => {
            slot.set_error(format!("building {spec} failed; see edgesim's output"));
            spec.to_string()
        }
    };

    print_status(&Status {
        name: cfg.name.as_deref().unwrap_or(&worker_name),
        worker: &worker_name,
        worker_url: &worker_url,
        supabase_url: &supabase_url,
        colos: &colos,
        default_colo: &default_colo,
        dir: &dir.display().to_string(),
        seed: rng.seed(),
    });

    if let Some(root) = spec.watch_root() {
        let watched = watch::Watched {
            root: Some(root),
            files: worker.as_ref().map(|w| w.watch.clone()).unwrap_or_default(),
            skip: Some(dir.clone()),
        };
        tokio::spawn(rebuild_on_change(
            spec.clone(),
            watched,
            builder,
            slot.clone(),
        ));
    }

    let control = Control {
        advance: Arc::new(move |d| wall.advance(d)),
    };
    // SIGTERM or Ctrl-C stops both servers: no new connections, requests in flight finish
    // (bounded), then the databases are checkpointed and the process exits 0.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let mut supabase_task = tokio::spawn(edgesim_supabase::serve_with_shutdown(
        supabase_listener,
        supabase.clone(),
        stopped(),
    ));
    let mut worker_task = tokio::spawn(edgesim_host::serve_with_shutdown(
        worker_listener,
        slot,
        Some(control),
        stopped(),
    ));
    tokio::select! {
        () = edgesim_http::shutdown_signal() => {}
        r = &mut worker_task => bail!("the Worker server stopped: {}", stop_reason(r)),
        r = &mut supabase_task => bail!("the mock Supabase stopped: {}", stop_reason(r)),
    }
    let _ = stop_tx.send(true);
    let (worker_served, supabase_served) = tokio::join!(worker_task, supabase_task);
    worker_served
        .context("the Worker server failed")?
        .context("serving the Worker")?;
    supabase_served
        .context("the mock Supabase failed")?
        .context("serving the mock Supabase")?;
    supabase
        .checkpoint()
        .map_err(|e| anyhow::anyhow!("checkpointing the Supabase database: {e}"))?;
    kv_for_stop
        .checkpoint()
        .map_err(|e| anyhow::anyhow!("checkpointing KV: {e}"))?;
    tracing::info!("stopped");
    Ok(())
}

/// Why a server task ended before the shutdown signal.
fn stop_reason(r: Result<std::io::Result<()>, tokio::task::JoinError>) -> String {
    match r {
        Ok(Ok(())) => "it returned".into(),
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    }
}

/// Resolves (for JS: builds) `spec` off the async threads.
async fn resolve(spec: WorkerSpec) -> Result<Worker, WorkerError> {
    tokio::task::spawn_blocking(move || spec.resolve())
        .await
        .unwrap_or_else(|e| Err(WorkerError::Build(format!("the build stopped: {e}"))))
}

fn report_warnings(w: &Worker, supabase_url: &str) {
    for warning in w
        .warnings
        .iter()
        .chain(&edgesim_sim::worker_env(w, supabase_url).1)
    {
        tracing::warn!("{warning}");
    }
}

/// What every [`Host`] of this dev session is built from; only the Worker changes.
struct HostBuilder {
    base: HostConfig,
    cfg_vars: std::collections::BTreeMap<String, String>,
    bindings: Vec<String>,
    kv: edgesim_kv::KvStore,
    upstream: Arc<dyn Upstream>,
    clock: SharedClock,
    rng: SimRng,
    cache: PathBuf,
    supabase_url: String,
}

impl HostBuilder {
    /// A host for `worker` (compiling it, or loading it from the cache, off the async threads).
    async fn build(&self, worker: Worker) -> Result<Host> {
        let mut config = self.base.clone();
        // The Worker's vars, the mock's Supabase settings over them, edgesim.toml's over all.
        config.vars = edgesim_sim::worker_env(&worker, &self.supabase_url).0;
        config.vars.extend(self.cfg_vars.clone());
        config.kv_bindings = self.bindings.clone();
        let missing: Vec<&String> = worker
            .kv_bindings
            .iter()
            .filter(|b| !self.bindings.contains(b))
            .collect();
        if !missing.is_empty() {
            tracing::warn!(
                "KV bindings {missing:?} are new since edgesim dev started; restart it to add their namespaces"
            );
        }
        let (kv, upstream, clock, rng, cache) = (
            self.kv.clone(),
            self.upstream.clone(),
            self.clock.clone(),
            self.rng.clone(),
            self.cache.clone(),
        );
        tokio::task::spawn_blocking(move || {
            Host::new(
                worker.component.bytes(),
                config,
                kv,
                upstream,
                clock,
                rng,
                Some(&cache),
            )
        })
        .await
        .context("building the host")?
    }
}

/// Polls the project for changes; on one, rebuilds and swaps the Worker in. A failed build is
/// logged with its message (esbuild's file:line:column for a syntax error) and the last good
/// Worker keeps serving; the next save retries.
async fn rebuild_on_change(
    spec: WorkerSpec,
    mut watched: watch::Watched,
    builder: HostBuilder,
    slot: HostSlot,
) {
    let fingerprint = |w: &watch::Watched| {
        let w = w.clone();
        tokio::task::spawn_blocking(move || w.fingerprint())
    };
    let Ok(mut last) = fingerprint(&watched).await else {
        return;
    };
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let Ok(now) = fingerprint(&watched).await else {
            return;
        };
        if now == last {
            continue;
        }
        // Let an editor finish writing (several files, or write-then-rename).
        tokio::time::sleep(Duration::from_millis(100)).await;
        last = fingerprint(&watched).await.unwrap_or(now);
        tracing::info!("a source file changed; rebuilding {spec}");
        match resolve(spec.clone()).await {
            Ok(w) => {
                report_warnings(&w, &builder.supabase_url);
                watched.files = w.watch.clone();
                match builder.build(w).await {
                    Ok(host) => {
                        slot.set(host);
                        tracing::info!("rebuilt the Worker; serving the new build");
                    }
                    Err(e) => {
                        tracing::error!("the rebuilt Worker does not load: {e:#}");
                        slot.set_error(format!("{e:#}"));
                    }
                }
            }
            Err(e) => {
                tracing::error!(
                    "rebuilding the Worker failed; the last good build keeps serving. Fix it and save to retry:\n{e}"
                );
                slot.set_error(e.to_string());
            }
        }
    }
}

/// The configuration and the Worker: `--config` (edgesim.toml or a wrangler file), else
/// ./edgesim.toml, else defaults; the Worker from `--worker`, `--variant`, the edgesim.toml,
/// a wrangler file (`--config`, or in the current directory), else the course Worker.
fn load_config(args: &DevArgs) -> Result<(DevConfig, WorkerSpec)> {
    let (cfg, wrangler) = match &args.config {
        Some(path) if edgesim_workers::wrangler::is_wrangler_file(path) => {
            (DevConfig::default(), Some(path.clone()))
        }
        Some(path) => (DevConfig::load(path)?, None),
        None => {
            let default = PathBuf::from("edgesim.toml");
            let cfg = if default.exists() {
                DevConfig::load(&default)?
            } else {
                DevConfig::default()
            };
            (cfg, edgesim_workers::wrangler::find_in(Path::new(".")))
        }
    };
    let spec = if let Some(spec) = &args.worker {
        spec.clone()
    } else if let Some(v) = &args.variant {
        variant_spec(v).with_context(|| format!("--variant {v}"))?
    } else if let Some(spec) = &cfg.worker {
        spec.clone()
    } else if let Some(v) = &cfg.variant {
        variant_spec(v)?
    } else if let Some(file) = wrangler {
        WorkerSpec::Wrangler(file)
    } else {
        WorkerSpec::parse("course")
    };
    Ok((cfg, spec))
}

fn variant_spec(v: &str) -> Result<WorkerSpec> {
    match v {
        "course" | "hardened" | "anchor" => Ok(WorkerSpec::parse(v)),
        _ => bail!("expected {}, got {v:?}", config::VARIANT_NAMES),
    }
}

async fn bind(port: u16, what: &str) -> Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| {
            format!("cannot listen on 127.0.0.1:{port} for {what} (is another edgesim running?)")
        })
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
