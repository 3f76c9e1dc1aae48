//! `edgesim dev`: the user's project as it is. The Worker (the wrangler project here, or
//! `--worker`, or an entry given as `edgesim dev src/index.ts`) on 127.0.0.1:8787, the
//! project's own Supabase (found as the Supabase CLI finds `supabase/`, else the demo) on
//! 127.0.0.1:54321 with its Database Webhooks routed to the local Worker, the multi-region KV,
//! Cron Triggers, wall-clock time (movable with `POST /__edgesim/time/advance?seconds=N`),
//! state under `.edgesim/`. The world is built by `edgesim_world`, as in simulation; only the
//! clock and the transport differ.
//!
//! A wrangler or JS Worker is rebuilt when a file of its project changes; a failed build is
//! logged and the last good build keeps serving (or an error page, when there is none yet).

mod banner;
mod watch;
mod webhooks;

use anyhow::{Context, Result, bail};
use edgesim_core::{OffsetWallClock, SharedClock, SimRng};
use edgesim_host::{Control, CpuMeter, Host, HostSlot, HttpUpstream, InProcessUpstream, Upstream};
use edgesim_workers::{Component, ProjectOptions, Worker, WorkerError, WorkerSpec};
use edgesim_world::{Layout, Plan, Runtime, Settings, WorldSpec, discover};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Arguments of `edgesim dev`.
#[derive(clap::Args)]
pub struct DevArgs {
    /// The Worker's entry module (as `wrangler dev src/index.ts`): the rest (vars, bindings,
    /// `.dev.vars`, crons) comes from the wrangler file here, when there is one.
    script: Option<PathBuf>,
    /// Port of the Worker (and of the `/__edgesim/` control endpoints).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Port of the mock Supabase (default: `[api] port` of supabase/config.toml, else 54321).
    #[arg(long)]
    supabase_port: Option<u16>,
    /// Configuration file: a wrangler file (any name: told by its keys) or an edgesim.toml.
    /// Default: the wrangler file and edgesim.toml in the current directory.
    #[arg(long, short = 'c')]
    config: Option<PathBuf>,
    /// The wrangler environment (`[env.NAME]`), with wrangler's inheritance rules.
    #[arg(long, short = 'e')]
    env: Option<String>,
    /// The directory holding the project's `supabase/` (default: found as the Supabase CLI
    /// finds it, from the Worker's directory up to the repository root; else the demo project).
    #[arg(long)]
    supabase: Option<PathBuf>,
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
    /// Start from empty KV and a fresh database (the compiled Worker cache is kept).
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
    /// Worker instances that may exist at once, busy (a response, waitUntil work) or idle;
    /// a request needing a new one past it waits (bounds memory; see GET /__edgesim/status).
    #[arg(long, default_value_t = 64)]
    max_instances: usize,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Measure the Worker's CPU limit with fuel, as simulation does (deterministic, about 10 %
    /// slower for a JavaScript Worker; GET /__edgesim/status then reports guest_fuel_total).
    /// By default dev counts CPU time with epoch interruption (a millisecond tick).
    #[arg(long)]
    fuel: bool,
}

/// Runs `edgesim dev`.
pub fn main(args: DevArgs) -> ExitCode {
    init_tracing();
    // A few worker threads; guests yield every millisecond of CPU (an epoch tick; ~0.2 ms with
    // --fuel), so a busy Worker cannot starve the servers. (The simulation runs its own
    // single-threaded runtime on paused time.)
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

/// What `edgesim dev` serves, decided before anything starts.
struct Project {
    spec: WorkerSpec,
    opts: ProjectOptions,
    settings: Settings,
    world: WorldSpec,
}

async fn run(args: DevArgs) -> Result<()> {
    let project = load_project(&args)?;
    let (spec, opts) = (project.spec.clone(), project.opts.clone());
    // A bad configuration stops here; a failed JS build does not (dev waits for the fix).
    let first = resolve(spec.clone(), opts.clone()).await;
    let worker = match first {
        Ok(w) => Some(w),
        Err(WorkerError::Config(e)) => bail!("{e}"),
        Err(WorkerError::Build(e)) => {
            tracing::error!("building the Worker failed; fix it and save to retry:\n{e}");
            None
        }
    };
    // Plan the world from the Worker, or (its build failed) from its wrangler file.
    let planned_from = match &worker {
        Some(w) => w.clone(),
        None => placeholder(&spec, &opts)?,
    };
    let dir = &args.persist_to;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let kv_path = dir.join("kv.sqlite3");
    let db_path = args
        .db
        .clone()
        .unwrap_or_else(|| dir.join("supabase.sqlite3"));
    if args.reset {
        reset(&[&kv_path, &db_path])?;
    }

    let wall = OffsetWallClock::new();
    let clock: SharedClock = Arc::new(wall.clone());
    let rng = args
        .seed
        .map(SimRng::from_seed)
        .unwrap_or_else(SimRng::from_os);

    let worker_listener = bind(args.port, "the Worker").await?;
    let worker_url = format!("http://{}", worker_listener.local_addr()?);
    // The project's own supabase/config.toml settles the mock's default port.
    let supabase_port = match args.supabase_port {
        Some(port) => port,
        None => project.world.supabase.api_port()?,
    };
    let supabase_listener = bind(supabase_port, "the mock Supabase").await?;
    let supabase_url = format!("http://{}", supabase_listener.local_addr()?);
    let mut plan = project.world.plan(&planned_from, &supabase_url)?;
    // What the banner shows; each Worker built gets the same (`HostBuilder::build`).
    plan.host.instances.reuse = !args.fresh_instances;
    plan.host.instances.max_live = Some(args.max_live.max(1));
    plan.host.instances.max_instances = Some(args.max_instances.max(1));
    plan.router = plan
        .router
        .clone()
        .with_local_port(worker_listener.local_addr()?.port());

    let dispatcher = webhooks::DevDispatcher::new(tokio::runtime::Handle::current());
    let world = plan
        .open(Runtime {
            clock: clock.clone(),
            kv_rng: rng.fork("kv"),
            // A kept database must never see the same UUIDs again after a restart.
            sql_rng: SimRng::from_os(),
            kv_file: Some(kv_path.clone()),
            db_file: Some(db_path.clone()),
            dispatcher: dispatcher.clone(),
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (kv, supabase) = (world.kv, world.supabase);
    eprint!("{}", supabase.load_report().render_warnings());
    // Time advanced in an earlier session is not kept: never start before the writes it left
    // in flight, or they would land after (and win over) this session's.
    if let Some(issued) = kv.latest_in_flight_issue_ms()
        && issued >= clock.now_ms()
    {
        wall.advance(Duration::from_millis(issued + 1 - clock.now_ms()));
    }

    // The Worker's fetches to the mock Supabase stay in-process, as in simulation; only
    // allowlisted hosts go over sockets.
    let network: Arc<dyn Upstream> = Arc::new(HttpUpstream::new());
    let upstream: Arc<dyn Upstream> = {
        let supabase = supabase.clone();
        Arc::new(
            InProcessUpstream::new(&supabase_url, Arc::new(move |r| supabase.handle(r)))
                .with_fallback(network.clone()),
        )
    };
    let slot = HostSlot::default();
    dispatcher.attach(
        &supabase,
        slot.clone(),
        plan.router.clone(),
        plan.webhook_colo.clone(),
        webhooks::Outside {
            rules: plan.host.outbound.clone(),
            rng: rng.fork("webhook-rules"),
            network,
            allowlist: plan.host.allowlist.clone(),
        },
    );
    let kv_for_stop = kv.clone();
    let builder = HostBuilder {
        world: project.world.clone(),
        plan: plan.clone(),
        cpu_meter: if args.fuel {
            CpuMeter::Fuel
        } else {
            CpuMeter::Epoch
        },
        instances: (
            !args.fresh_instances,
            args.max_live.max(1),
            args.max_instances.max(1),
        ),
        kv,
        upstream,
        clock: clock.clone(),
        rng: rng.fork("host"),
        cache: dir.join("cache"),
        http_cache: edgesim_host::cache::CacheStore::new(),
        supabase_url: supabase_url.clone(),
    };
    for note in &plan.notes {
        tracing::warn!("{note}");
    }
    let worker_name = match &worker {
        Some(w) => {
            let host = builder.build(w.clone(), &plan).await?;
            slot.set(host);
            w.name.clone()
        }
        None => {
            slot.set_error(format!("building {spec} failed; see edgesim's output"));
            spec.to_string()
        }
    };

    let routes = route_lookup(&project)?;
    print!(
        "{}",
        banner::render(&banner::Status {
            routes: routes
                .as_ref()
                .map(|(_, p)| p.as_slice())
                .unwrap_or_default(),
            name: project.settings.name.as_deref().unwrap_or(&worker_name),
            worker: &worker_name,
            worker_url: &worker_url,
            supabase_url: &supabase_url,
            plan: &plan,
            supabase: &supabase,
            dir: &dir.display().to_string(),
            seed: rng.seed(),
        })
    );

    if let Some(root) = spec.watch_root() {
        let watched = watch::Watched {
            root: Some(root),
            files: worker.as_ref().map(|w| w.watch.clone()).unwrap_or_default(),
            skip: Some(dir.clone()),
        };
        tokio::spawn(rebuild_on_change(
            spec.clone(),
            opts.clone(),
            watched,
            builder,
            slot.clone(),
        ));
    }

    // Cron Triggers on the emulator clock: each due minute, and every minute a clock advance
    // jumps over, each with its own scheduledTime.
    let crons = Arc::new(edgesim_host::spawn_dev_cron(
        slot.clone(),
        clock.clone(),
        plan.schedule.clone(),
    ));
    let stepping = (crons.clone(), wall.clone());
    let control = Control {
        routes: routes.map(|(lookup, _)| lookup),
        advance: Arc::new(move |d| wall.advance(d)),
        stepped: Some(Arc::new(move |d| {
            let (crons, wall) = stepping.clone();
            Box::pin(async move { crons.advance(d, |step| wall.advance(step)).await })
        })),
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
    drop(crons);
    tracing::info!("stopped");
    Ok(())
}

/// Removes the databases (and their WAL files) for `--reset`.
fn reset(dbs: &[&PathBuf]) -> Result<()> {
    for db in dbs {
        let mut files = vec![(*db).clone()];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            files.push(PathBuf::from(name));
        }
        for p in &files {
            match std::fs::remove_file(p) {
                Ok(()) => tracing::info!("reset: removed {}", p.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => bail!("reset: cannot remove {}: {e}", p.display()),
            }
        }
    }
    Ok(())
}

/// A Worker standing in for one whose first build failed: what its wrangler file says (the
/// bindings, vars and crons the world is planned with), no component.
fn placeholder(spec: &WorkerSpec, opts: &ProjectOptions) -> Result<Worker> {
    let mut w = WorkerSpec::Embedded(Default::default())
        .resolve()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    w.name = spec.to_string();
    w.variant = None;
    w.component = Component::Static(&[]);
    if let Some(cfg) = spec.wrangler_config_env(opts.env.as_deref()) {
        let cfg = cfg.map_err(|e| anyhow::anyhow!("{e}"))?;
        w.kv_bindings = cfg.kv_bindings;
        w.vars = cfg.vars;
        w.json_vars = cfg.json_vars;
        w.crons = cfg.crons;
        w.routes = cfg.routes;
    }
    Ok(w)
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
async fn resolve(spec: WorkerSpec, opts: ProjectOptions) -> Result<Worker, WorkerError> {
    tokio::task::spawn_blocking(move || spec.resolve_with(&opts))
        .await
        .unwrap_or_else(|e| Err(WorkerError::Build(format!("the build stopped: {e}"))))
}

/// What every [`Host`] of this dev session is built from; only the Worker changes.
struct HostBuilder {
    world: WorldSpec,
    /// The plan the KV store and the database were opened with.
    plan: Plan,
    /// (reuse instances, live requests at most, instances at most).
    instances: (bool, usize, usize),
    /// How the CPU limit is measured (`--fuel`).
    cpu_meter: CpuMeter,
    kv: edgesim_kv::KvStore,
    upstream: Arc<dyn Upstream>,
    clock: SharedClock,
    rng: SimRng,
    cache: PathBuf,
    /// The Cache API's entries, kept across rebuilds (production's cache outlives deployments).
    http_cache: edgesim_host::cache::CacheStore,
    supabase_url: String,
}

impl HostBuilder {
    /// A host for `worker` with `plan`'s configuration (compiling it, or loading it from the
    /// cache, off the async threads).
    async fn build(&self, worker: Worker, plan: &Plan) -> Result<Host> {
        let mut config = plan.host.clone();
        config.cpu_meter = self.cpu_meter;
        config.instances.reuse = self.instances.0;
        config.instances.max_live = Some(self.instances.1);
        config.instances.max_instances = Some(self.instances.2);
        let missing: Vec<&String> = config
            .kv_bindings
            .iter()
            .filter(|b| !self.plan.host.kv_bindings.contains(b))
            .collect();
        if !missing.is_empty() {
            tracing::warn!(
                "KV bindings {missing:?} are new since edgesim dev started; restart it to add their namespaces"
            );
            config.kv_bindings = self.plan.host.kv_bindings.clone();
        }
        let (kv, upstream, clock, rng, cache, http_cache) = (
            self.kv.clone(),
            self.upstream.clone(),
            self.clock.clone(),
            self.rng.clone(),
            self.cache.clone(),
            self.http_cache.clone(),
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
            .map(|host| host.with_cache(http_cache))
        })
        .await
        .context("building the host")?
    }

    /// The plan for a rebuilt Worker (its vars may have changed), with this session's router.
    fn replan(&self, worker: &Worker) -> Result<Plan> {
        let mut plan = self.world.plan(worker, &self.supabase_url)?;
        plan.router = self.plan.router.clone();
        Ok(plan)
    }
}

/// Polls the project for changes; on one, rebuilds and swaps the Worker in. A failed build is
/// logged with its message (esbuild's file:line:column for a syntax error) and the last good
/// Worker keeps serving; the next save retries.
async fn rebuild_on_change(
    spec: WorkerSpec,
    opts: ProjectOptions,
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
        match resolve(spec.clone(), opts.clone()).await {
            Ok(w) => {
                watched.files = w.watch.clone();
                let built = match builder.replan(&w) {
                    Ok(plan) => {
                        for note in &plan.notes {
                            tracing::warn!("{note}");
                        }
                        builder.build(w, &plan).await
                    }
                    Err(e) => Err(e),
                };
                match built {
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

/// The project: the files here (or `--config`), the Worker from `--worker`, `--variant`, the
/// edgesim.toml, the script argument and the wrangler file, else the course Worker; and the
/// world from edgesim.toml with the Supabase project found for that Worker.
fn load_project(args: &DevArgs) -> Result<Project> {
    let here = Path::new(".");
    let layout = Layout::find(here, args.config.as_deref())?;
    let settings = layout.settings()?;
    let spec = if let Some(spec) = &args.worker {
        spec.clone()
    } else if let Some(v) = &args.variant {
        variant_spec(v).with_context(|| format!("--variant {v}"))?
    } else if let Some(spec) = &settings.worker {
        spec.clone()
    } else if let Some(v) = &settings.variant {
        variant_spec(v)?
    } else if let Some(file) = &layout.wrangler {
        WorkerSpec::Wrangler(file.clone())
    } else if let Some(script) = &args.script {
        WorkerSpec::JsEntry(script.clone())
    } else {
        WorkerSpec::parse("course")
    };
    if args.env.is_some() && spec.wrangler_file().is_none() {
        bail!("--env needs a wrangler file (none here; name one with --config)");
    }
    let opts = ProjectOptions {
        env: args.env.clone(),
        entry: args
            .script
            .clone()
            .filter(|_| spec.wrangler_file().is_some()),
    };
    if let Some(dir) = &args.supabase
        && !dir.join("supabase").is_dir()
    {
        bail!(
            "--supabase {}: no supabase/ directory there (a Supabase project is the directory `supabase init` ran in)",
            dir.display()
        );
    }
    let mut world = WorldSpec::from_settings(&settings)?;
    let start = match &spec {
        WorkerSpec::Embedded(_) | WorkerSpec::Anchor => None,
        WorkerSpec::Component(_) => Some(here.to_path_buf()),
        other => other.project_dir(),
    };
    world.supabase =
        discover::choose_supabase(args.supabase.as_deref(), &settings, start.as_deref());
    Ok(Project {
        spec,
        opts,
        settings,
        world,
    })
}

/// The project's declared routes (`edgesim.routes.toml` beside the Worker) for
/// `GET /__edgesim/route`, with their patterns; `None` when it declares none. A malformed file
/// is an error naming file, line and key, as `edgesim run` gives it.
fn route_lookup(project: &Project) -> Result<Option<(edgesim_host::RouteLookup, Vec<String>)>> {
    use edgesim_host::RouteMatch;
    use edgesim_sim::routes::{Route, route_for_path};
    let Some(dir) = project.spec.project_dir() else {
        return Ok(None);
    };
    let Some(routes) = Route::load_project(&dir).map_err(|e| anyhow::anyhow!("{e}"))? else {
        return Ok(None);
    };
    let patterns: Vec<String> = routes
        .iter()
        .map(|r| r.pattern.text().to_string())
        .collect();
    let declared = patterns.clone();
    let lookup: edgesim_host::RouteLookup =
        Arc::new(move |path: &str| match route_for_path(&routes, path) {
            Some((_, r, params)) => RouteMatch::Matched {
                route: r.pattern.text().to_string(),
                at: r.at.clone(),
                key: r.kv_key(&params),
                params,
            },
            None => RouteMatch::NoMatch {
                declared: declared.clone(),
            },
        });
    Ok(Some((lookup, patterns)))
}

fn variant_spec(v: &str) -> Result<WorkerSpec> {
    match v {
        "course" | "hardened" | "anchor" => Ok(WorkerSpec::parse(v)),
        _ => bail!(
            "expected {}, got {v:?}",
            edgesim_world::settings::VARIANT_NAMES
        ),
    }
}

async fn bind(port: u16, what: &str) -> Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| {
            format!("cannot listen on 127.0.0.1:{port} for {what} (is another edgesim running?)")
        })
}
