//! The harness API: build a simulated world, send requests, move time, change the DB, check.

use crate::SimClock;
use crate::check::{Expectations, Violation, check};
use crate::core::{Core, CoreParts, QueueDispatcher};
use crate::events::{Event, EventLog, Origin};
use crate::faults::Override;
use crate::history::DbHistory;
use crate::scenario::Variant;
use crate::track::Tracker;
use crate::upstream::{SimUpstream, UpstreamFaults};
use bytes::Bytes;
use edgesim_core::{SimRng, VIRTUAL_EPOCH_MS};
use edgesim_host::{Colo, Host};
use edgesim_kv::{CacheStatus, Delay, KvConfig, KvStore, Namespace, OpKind, ReadYourWrites};
use edgesim_supabase::{DbError, Supabase};
use edgesim_workers::{Worker, WorkerSpec};
use edgesim_world::{Runtime, Settings, WorldSpec, discover};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The Supabase URL the Worker is configured with; fetches to it stay in-process.
pub const SUPABASE_URL: &str = "http://127.0.0.1:54321";

/// How far ahead (ms of virtual time) a simulation's Cron Triggers are scheduled: ten years.
const CRON_HORIZON_MS: u64 = 10 * 365 * 24 * 3600 * 1000;

/// Virtual time between two probe requests.
pub const PROBE_GAP: Duration = Duration::from_millis(1_100);

/// Which Worker a [`Sim`] runs: a spec to resolve at build time (every form
/// [`edgesim_workers::WorkerSpec`] takes: `Variant::Course`, `"hardened"`, a component path, a
/// JS entry, a wrangler project), or a Worker already resolved (to build it once for many seeds).
#[derive(Clone, Debug)]
pub enum WorkerSource {
    /// A spec, resolved when the [`Sim`] is built.
    Spec(WorkerSpec),
    /// A resolved Worker.
    Resolved(Box<Worker>),
}

impl From<Variant> for WorkerSource {
    fn from(v: Variant) -> Self {
        WorkerSource::Spec(WorkerSpec::Embedded(v))
    }
}

impl From<WorkerSpec> for WorkerSource {
    fn from(s: WorkerSpec) -> Self {
        WorkerSource::Spec(s)
    }
}

impl From<Worker> for WorkerSource {
    fn from(w: Worker) -> Self {
        WorkerSource::Resolved(Box::new(w))
    }
}

impl From<&str> for WorkerSource {
    fn from(s: &str) -> Self {
        WorkerSource::Spec(WorkerSpec::parse(s))
    }
}

impl From<&std::path::Path> for WorkerSource {
    fn from(p: &std::path::Path) -> Self {
        WorkerSource::Spec(WorkerSpec::from_path(p))
    }
}

impl From<PathBuf> for WorkerSource {
    fn from(p: PathBuf) -> Self {
        WorkerSource::Spec(WorkerSpec::from_path(&p))
    }
}

impl WorkerSource {
    /// The resolved Worker (resolving a spec loads, and for JS builds, it).
    pub fn resolve(&self) -> Result<Worker, BuildError> {
        match self {
            WorkerSource::Spec(s) => s.resolve().map_err(|e| BuildError::Worker(e.to_string())),
            WorkerSource::Resolved(w) => Ok((**w).clone()),
        }
    }
}

pub use edgesim_world::worker_env;

/// Why a [`Sim`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Supabase project did not load.
    #[error("supabase project: {0}")]
    Supabase(String),
    /// The Worker did not compile or link.
    #[error("worker: {0}")]
    Worker(String),
    /// A setting is inconsistent.
    #[error("{0}")]
    Config(String),
}

/// Configures a [`Sim`]. Defaults: seed 0, colos SYD and FRA (30 ms to central), the course
/// Worker, the embedded demo project, webhooks landing at the first colo.
#[derive(Clone, Debug)]
pub struct SimBuilder {
    seed: u64,
    colos: Vec<(String, u64)>,
    worker: WorkerSource,
    project: Option<PathBuf>,
    webhook_colo: Option<String>,
    propagation: (u64, u64),
    read_your_writes: f64,
    supabase_latency_ms: u64,
    table: String,
    routes: Vec<crate::routes::Route>,
    cache_dir: Option<PathBuf>,
    settings: Option<Settings>,
    project_dir: Option<PathBuf>,
    worker_set: bool,
    outbound: Option<edgesim_host::rules::OutboundRules>,
}

impl Default for SimBuilder {
    fn default() -> Self {
        Self {
            seed: 0,
            colos: vec![("SYD".into(), 30), ("FRA".into(), 30)],
            worker: WorkerSource::from(Variant::Course),
            project: None,
            webhook_colo: None,
            propagation: (50, 500),
            read_your_writes: 1.0,
            supabase_latency_ms: 0,
            table: "articles".into(),
            routes: Vec::new(),
            cache_dir: None,
            settings: None,
            project_dir: None,
            worker_set: false,
            outbound: None,
        }
    }
}

impl SimBuilder {
    /// The seed every random choice derives from.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Colos by code, 30 ms from KV central each.
    pub fn colos<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, codes: I) -> Self {
        self.colos = codes
            .into_iter()
            .map(|c| (c.as_ref().to_string(), 30))
            .collect();
        self
    }
    /// Colos with their one-way latency to KV central (ms).
    pub fn colos_with_latency(mut self, colos: Vec<(String, u64)>) -> Self {
        self.colos = colos;
        self
    }
    /// The Worker: `Variant::Course`, `"hardened"`, a component or JS entry path, a wrangler
    /// project, a [`WorkerSpec`] or a resolved [`Worker`].
    pub fn worker(mut self, w: impl Into<WorkerSource>) -> Self {
        self.worker = w.into();
        self.worker_set = true;
        self
    }
    /// A user's project directory, taken whole as `edgesim dev` takes it: its wrangler project
    /// is the Worker (unless [`SimBuilder::worker`] names another), its `edgesim.toml` applies
    /// (see [`SimBuilder::settings`]) and its Supabase project is found as the Supabase CLI
    /// finds it (unless [`SimBuilder::supabase_project`] names one).
    pub fn project(mut self, dir: impl Into<PathBuf>) -> Self {
        self.project_dir = Some(dir.into());
        self
    }
    /// A Supabase project directory (CLI layout); default: the embedded demo.
    pub fn supabase_project(mut self, dir: impl Into<PathBuf>) -> Self {
        self.project = Some(dir.into());
        self
    }
    /// The colo Database Webhooks are delivered to (default: the first colo).
    pub fn webhook_colo(mut self, colo: &str) -> Self {
        self.webhook_colo = Some(colo.to_string());
        self
    }
    /// KV propagation delay to central, uniform in `[min, max]` ms.
    pub fn kv_propagation_ms(mut self, min: u64, max: u64) -> Self {
        self.propagation = (min, max.max(min));
        self
    }
    /// Probability a KV write is visible at once at the writing colo.
    pub fn kv_read_your_writes(mut self, p: f64) -> Self {
        self.read_your_writes = p;
        self
    }
    /// One-way latency between any colo and Supabase (ms).
    pub fn supabase_latency_ms(mut self, ms: u64) -> Self {
        self.supabase_latency_ms = ms;
        self
    }
    /// The declared routes the checkers track instead of `/<table>` and `/<table>/<id>`
    /// (their table must be [`SimBuilder::table`]).
    pub fn routes(mut self, routes: Vec<crate::routes::Route>) -> Self {
        self.routes = routes;
        self
    }

    /// The table the checkers track (`/<table>` and `/<table>/<id>`), default `articles`.
    pub fn table(mut self, table: &str) -> Self {
        self.table = table.to_string();
        self
    }
    /// The project's `edgesim.toml`: its vars, limits, allowlist, outbound rules, the hosts
    /// that are the Worker's and its Supabase project apply as in `edgesim dev` (the colos and
    /// the KV model stay the builder's, i.e. the scenario's).
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = Some(settings);
        self
    }
    /// `[[outbound]]` rules for the Worker's fetches to third-party APIs (and webhooks to
    /// outside hosts), replacing the project's.
    pub fn outbound(mut self, rules: edgesim_host::rules::OutboundRules) -> Self {
        self.outbound = Some(rules);
        self
    }
    /// Where compiled components are cached (default: the per-user `~/.cache/edgesim/workers`,
    /// see `edgesim_core::cache`; a directory others can write is refused).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Builds the world at virtual time [`VIRTUAL_EPOCH_MS`].
    pub fn build(self) -> Result<Sim, BuildError> {
        if self.colos.is_empty() {
            return Err(BuildError::Config("at least one colo is required".into()));
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .map_err(|e| BuildError::Config(format!("tokio runtime: {e}")))?;
        let mut this = self;
        if let Some(dir) = this.project_dir.clone() {
            let layout = edgesim_world::Layout::find(&dir, None)
                .map_err(|e| BuildError::Config(e.to_string()))?;
            if this.settings.is_none() {
                this.settings = Some(
                    layout
                        .settings()
                        .map_err(|e| BuildError::Config(e.to_string()))?,
                );
            }
            if !this.worker_set {
                this.worker = match layout.wrangler {
                    Some(file) => WorkerSource::Spec(WorkerSpec::Wrangler(file)),
                    None => {
                        return Err(BuildError::Config(format!(
                            "{}: no wrangler.toml, wrangler.json or wrangler.jsonc in the project",
                            dir.display()
                        )));
                    }
                };
            }
        }
        let worker = this.worker.resolve()?;
        let (core, warnings) = rt.block_on(async { this.core(&worker) })?;
        Ok(Sim {
            rt,
            core,
            seed: this.seed,
            worker: worker.name,
            warnings,
        })
    }

    /// The world this builder describes, as `edgesim dev` would build it from the same files.
    pub fn world_spec(&self) -> Result<WorldSpec, BuildError> {
        let mut spec = match &self.settings {
            Some(s) => {
                WorldSpec::from_settings(s).map_err(|e| BuildError::Config(e.to_string()))?
            }
            None => WorldSpec::default(),
        };
        spec.colos = self
            .colos
            .iter()
            .map(|(c, ms)| (Colo::from_code(c), *ms))
            .collect();
        spec.default_colo = None;
        spec.webhook_colo = self
            .webhook_colo
            .clone()
            .or_else(|| self.settings.as_ref().and_then(|s| s.webhook_colo.clone()));
        spec.kv = KvConfig {
            propagation: Delay::Uniform {
                min_ms: self.propagation.0,
                max_ms: self.propagation.1,
            },
            read_your_writes: if self.read_your_writes >= 1.0 {
                ReadYourWrites::On
            } else if self.read_your_writes <= 0.0 {
                ReadYourWrites::Off
            } else {
                ReadYourWrites::Probability(self.read_your_writes)
            },
            ..KvConfig::default()
        };
        if let Some(rules) = &self.outbound {
            spec.outbound = rules.clone();
        }
        spec.supabase = discover::choose_supabase(
            self.project.as_deref(),
            self.settings.as_ref().unwrap_or(&Settings::default()),
            self.project_dir.as_deref(),
        );
        Ok(spec)
    }

    fn core(&self, worker: &Worker) -> Result<(Arc<Core>, Vec<String>), BuildError> {
        let clock = SimClock::new();
        let shared: edgesim_core::SharedClock = Arc::new(clock.clone());
        let root = SimRng::from_seed(self.seed);
        let plan = self
            .world_spec()?
            .plan(worker, SUPABASE_URL)
            .map_err(|e| match e {
                edgesim_world::WorldError::Supabase(m) => BuildError::Supabase(m),
                other => BuildError::Config(other.to_string()),
            })?;
        let queue = Arc::new(QueueDispatcher::default());
        // The SQL functions' randomness (gen_random_uuid, random) comes from the run's seed.
        let world = plan
            .open(Runtime {
                clock: shared.clone(),
                kv_rng: root.fork("kv"),
                sql_rng: root.fork("supabase-sql"),
                kv_file: None,
                db_file: None,
                dispatcher: queue.clone(),
            })
            .map_err(|e| match e {
                edgesim_world::WorldError::Supabase(m) => BuildError::Supabase(m),
                other => BuildError::Config(other.to_string()),
            })?;
        let kv = world.kv;
        let log = EventLog::new(shared.clone(), VIRTUAL_EPOCH_MS);
        let core = Core::new(CoreParts {
            log: log.clone(),
            clock: clock.clone(),
            start_ms: VIRTUAL_EPOCH_MS,
            kv: kv.clone(),
            supabase: world.supabase,
            queue,
            tracker: Tracker::with_routes(&self.table, self.routes.clone()),
            table: self.table.clone(),
            webhook_colo: plan.webhook_colo.clone(),
            router: plan.router.clone(),
            webhook_rng: root.fork("webhooks"),
            upstream_faults: UpstreamFaults::new(
                self.supabase_latency_ms,
                root.fork("supabase-faults"),
            ),
        });
        let log2 = log.clone();
        kv.set_observer(Arc::new(move |e: &edgesim_kv::KvEvent| {
            let outcome = match (&e.error, e.cache_status) {
                (Some(err), _) => log2.intern(&format!("error: {err}")),
                (None, Some(CacheStatus::Hit)) => log2.intern("hit"),
                (None, Some(CacheStatus::Miss)) => log2.intern("miss"),
                (None, None) => log2.intern("ok"),
            };
            log2.push(crate::events::EventKind::Kv {
                colo: log2.intern(&e.colo),
                op: log2.intern(op_name(e.op)),
                key: log2.intern(e.key.as_deref().unwrap_or_default()),
                version: e.version,
                outcome,
                cache_ttl_s: e.cache_ttl_s,
                expires_in_ms: e.expiration_ms.map(|x| x.saturating_sub(e.at_ms)),
            })
        }));
        // The compiled-Worker cache: the given directory, else the per-user one
        // (`~/.cache/edgesim/workers`, owner-only); without either, compile in memory.
        let cache = match &self.cache_dir {
            Some(dir) => Some(dir.clone()),
            None => edgesim_core::cache::cache_dir("workers")
                .inspect_err(|e| eprintln!("edgesim: no compiled-Worker cache: {e}"))
                .ok(),
        };
        let upstream = Arc::new(SimUpstream {
            core: Arc::downgrade(&core),
        });
        let host = Host::new(
            worker.component.bytes(),
            plan.host.clone(),
            kv,
            upstream,
            shared,
            root.fork("host"),
            cache.as_deref(),
        )
        .map_err(|e| BuildError::Worker(format!("{e:#}")))?;
        core.set_host(host.clone());
        if !plan.schedule.is_empty() {
            // Cron Triggers fire on virtual time for as long as the simulation runs.
            // Detached: it ends with the runtime.
            drop(crate::cron::spawn(
                core.clone(),
                host,
                plan.schedule.clone(),
                CRON_HORIZON_MS,
            ));
        }
        Ok((core, plan.notes))
    }
}

/// A simulated world: the Worker at several colos, the multi-region KV, the mock Supabase and
/// its webhooks, all on one paused tokio clock and one seed.
///
/// A `Sim` owns its (current-thread, paused) tokio runtime and drives it from synchronous
/// calls, so use it from plain `#[test]` functions, not from inside another tokio runtime.
///
/// ```
/// use edgesim_sim::{Sim, Variant};
/// use std::time::Duration;
///
/// let mut sim = Sim::builder()
///     .seed(7)
///     .colos(["SYD", "FRA"])
///     .worker(Variant::Hardened)
///     .build()
///     .unwrap();
/// // Warm both colos' caches, then edit a row: its webhook reaches the Worker at SYD.
/// assert_eq!(sim.get("FRA", "/articles/2").status(), 200);
/// sim.supabase().execute("update articles set title = 'cool second blog' where id = 2").unwrap();
/// sim.advance(Duration::from_secs(1));
/// assert!(sim.kv("ARTICLES").view("/articles/2").central.is_some());
/// // Faults are over; every colo must serve the current row within five minutes.
/// sim.check_converged(Duration::from_secs(300)).unwrap();
/// let body = sim.get("FRA", "/articles/2").into_body();
/// assert!(String::from_utf8_lossy(&body).contains("cool second blog"));
/// ```
pub struct Sim {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) core: Arc<Core>,
    seed: u64,
    worker: String,
    warnings: Vec<String>,
}

impl Sim {
    /// A builder with the defaults of [`SimBuilder`].
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }

    /// The seed this world was built with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The Worker's name (`course`, the wrangler `name`, or its path).
    pub fn worker_name(&self) -> &str {
        &self.worker
    }

    /// Configuration of the Worker that was read but is not emulated, and vars replaced by the
    /// mock's; print each once.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Runs `f` to completion on the sim's runtime (spawned work runs meanwhile).
    pub(crate) fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        let out = self.rt.block_on(f);
        let _g = self.rt.enter();
        self.core.clock().sync();
        out
    }

    /// Serves `req` at `colo` and returns the response (virtual time passes for its latency;
    /// waitUntil work keeps running in later calls).
    pub fn request(&mut self, colo: &str, req: http::Request<Bytes>) -> http::Response<Bytes> {
        let core = self.core.clone();
        let colo = colo.to_string();
        self.block_on(async move { core.request(&colo, req, Origin::User).await })
    }

    /// `GET path` at `colo`.
    pub fn get(&mut self, colo: &str, path: &str) -> http::Response<Bytes> {
        let req = http::Request::get(format!("https://worker.sim{path}"))
            .body(Bytes::new())
            .expect("a path");
        self.request(colo, req)
    }

    /// Lets `by` of virtual time pass; everything scheduled meanwhile runs.
    pub fn advance(&mut self, by: Duration) {
        self.block_on(async move { tokio::time::sleep(by).await });
    }

    /// Virtual time since the start.
    pub fn now(&self) -> Duration {
        Duration::from_millis(self.core.log().now())
    }

    /// The Supabase project, with `execute` that records the DB history and fires webhooks.
    pub fn supabase(&mut self) -> SimSupabase<'_> {
        SimSupabase { sim: self }
    }

    /// The KV namespace bound as `binding` (e.g. `ARTICLES`), for `view(key)` and the like.
    pub fn kv(&self, binding: &str) -> Namespace {
        let _g = self.rt.enter();
        self.core
            .kv()
            .namespace(binding)
            .unwrap_or_else(|e| panic!("no KV namespace {binding}: {e}"))
    }

    /// The KV model (faults, colos, introspection).
    pub fn kv_store(&self) -> &KvStore {
        self.core.kv()
    }

    /// Every event so far (a copy; [`Sim::with_events`] reads them in place).
    pub fn events(&self) -> Vec<Event> {
        self.core.log().snapshot()
    }

    /// Runs `f` on the events so far without copying them.
    pub fn with_events<R>(&self, f: impl FnOnce(&[Event]) -> R) -> R {
        self.core.log().with_events(f)
    }

    /// The event log's stable text form.
    pub fn event_text(&self) -> String {
        self.core.log().text()
    }

    /// SHA-256 of the event log's text form.
    pub fn digest(&self) -> String {
        self.core.log().digest()
    }

    /// The DB history so far.
    pub fn history(&self) -> DbHistory {
        self.core.history().clone()
    }

    /// The paths the checkers track and how bodies map to DB states.
    pub fn tracker(&self) -> &Tracker {
        self.core.tracker()
    }

    /// The database's table names.
    pub fn db_tables(&self) -> Vec<String> {
        self.core.supabase().table_names()
    }

    /// Whether `table` has `column` (asked of PostgREST as the service role).
    pub fn db_has_column(&self, table: &str, column: &str) -> bool {
        let req = http::Request::get(format!(
            "http://supabase.sim/rest/v1/{table}?select={column}&limit=0"
        ))
        .header("apikey", edgesim_supabase::SERVICE_ROLE_KEY)
        .body(Bytes::new());
        req.is_ok_and(|r| self.core.supabase().handle(r).status().is_success())
    }

    /// The colos, in order.
    pub fn colos(&self) -> Vec<String> {
        self.core.kv().colos()
    }

    /// GETs the list and every row that ever existed at every colo (probe requests), one every
    /// [`PROBE_GAP`].
    pub fn probe(&mut self) {
        let paths = self.core.tracker().probe_paths(&self.core.history());
        let core = self.core.clone();
        let colos = self.colos();
        self.block_on(async move {
            for p in &paths {
                for colo in &colos {
                    // KV takes one write per key per second: space the probes so they do not
                    // make the Worker's read-through writes collide.
                    tokio::time::sleep(PROBE_GAP).await;
                    let req = http::Request::get(format!("https://worker.sim{p}"))
                        .body(Bytes::new())
                        .expect("a path");
                    core.request(colo, req, Origin::Probe).await;
                }
            }
        });
    }

    /// Faults are over from now on: lets `within` pass, probes every colo for the list and every
    /// row, and checks that each serves the current DB state (and that nothing ever served a
    /// phantom). Returns the violations with their witnesses.
    pub fn check_converged(&mut self, within: Duration) -> Result<(), Vec<Violation>> {
        let healed = self.core.log().now();
        self.advance(within);
        self.probe();
        let exp = Expectations {
            converge_within_ms: within.as_millis() as u64,
            ..Expectations::default()
        };
        let history = self.history();
        let v =
            self.with_events(|events| check(events, &history, self.core.tracker(), &exp, healed));
        if v.is_empty() { Ok(()) } else { Err(v) }
    }

    /// Runs SQL with a scripted webhook override.
    pub(crate) fn execute_with(&mut self, sql: &str, ov: Override) -> Result<usize, DbError> {
        let _g = self.rt.enter();
        self.core.execute(sql, ov)
    }
}

/// [`Sim::supabase`]: the project, with history-recording `execute`.
pub struct SimSupabase<'a> {
    sim: &'a mut Sim,
}

impl SimSupabase<'_> {
    /// Runs SQL as the database owner; row changes become DB versions and fire webhooks, which
    /// the simulation schedules (with the run's webhook faults) on the virtual clock.
    pub fn execute(&mut self, sql: &str) -> Result<usize, DbError> {
        self.sim.execute_with(sql, Override::default())
    }

    /// Like [`SimSupabase::execute`], but the webhooks this SQL fires are dropped, duplicated or
    /// delivered after a fixed delay as `webhooks` says (instead of the random webhook faults).
    pub fn execute_with(&mut self, sql: &str, webhooks: Override) -> Result<usize, DbError> {
        self.sim.execute_with(sql, webhooks)
    }

    /// The underlying mock (PostgREST `handle`, deliveries, hooks).
    pub fn raw(&self) -> &Supabase {
        self.sim.core.supabase()
    }
}

/// How the event log names a KV operation (the variant's name, lower case).
fn op_name(op: OpKind) -> &'static str {
    match op {
        OpKind::Get => "get",
        OpKind::GetWithMetadata => "getwithmetadata",
        OpKind::Put => "put",
        OpKind::Delete => "delete",
        OpKind::List => "list",
        OpKind::GetBulk => "getbulk",
    }
}
