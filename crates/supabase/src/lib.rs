//! A mock Supabase: PostgREST over SQLite behind the API gateway, with Database Webhooks.
//!
//! [`Supabase`] is a library first: [`Supabase::handle`] takes an `http::Request<Bytes>` and
//! returns the response, in-process; [`serve`] puts it on a socket with hyper.
//!
//! * **Project layout** (Supabase CLI): `supabase/config.toml` ([`migrate::cliconfig`]: the
//!   settings the mock honours, [`Supabase::settings`]), `supabase/migrations/<digits>_<name>.sql`
//!   applied in version order, then the seed files (`[db.seed] sql_paths`, default
//!   `supabase/seed.sql`) on a fresh database, then the webhooks of `supabase/webhooks.toml` and
//!   of `create trigger ... supabase_functions.http_request(...)` statements.
//!   [`migrate::find_project`] finds the project directory as the CLI does. Each statement goes to the handler of its kind ([`migrate::dispatch`]);
//!   loading never refuses the project: what cannot be applied is skipped with a warning
//!   naming file, line, object and consequence, and [`Supabase::load_report`] says what
//!   happened to every statement (an error where data was affected).
//! * **Gateway**: `apikey` header or query parameter must be one of the CLI's keys
//!   ([`ANON_KEY`], [`SERVICE_ROLE_KEY`], [`PUBLISHABLE_KEY`], [`SECRET_KEY`]); a Bearer JWT is
//!   verified with [`JWT_SECRET`] (HS256); its role and claims are what the request's SQL runs as
//!   ([`claims`]: `auth.uid()` and friends).
//! * **Auth** ([`auth`]): Supabase Auth (GoTrue) under `/auth/v1`: sign-up, password and
//!   refresh-token grants, `/user`, `/logout`, anonymous sign-in and the admin users API, against
//!   the project's `auth.users` (its triggers fire), with GoTrue's claims and errors.
//! * **Row level security and grants** ([`rls`]): policies and table privileges of the API
//!   roles, enforced on every read and write as Postgres does.
//! * **Webhooks**: one delivery per changed row, built only after the change commits, handed to
//!   a [`WebhookDispatcher`]; all recorded, readable at `GET /__edgesim/deliveries`.
//! * **Time**: `now()` and defaults read the injected clock.

pub mod auth;
mod builtins;
pub mod catalog;
pub mod claims;
pub mod db;
pub mod embed;
pub mod errors;
mod fknames;
mod functions;
pub mod gateway;
pub mod jsonb;
mod keys;
pub mod migrate;
pub mod pgexpr;
pub mod query;
pub mod relations;
pub mod rest;
pub mod rls;
pub mod routines;
pub mod schema;
pub mod scope;
mod server;
pub mod sql;
pub mod sqlerr;
pub mod time;
pub mod types;
mod viewkeys;
pub mod webhooks;

pub use errors::{ApiError, DbError, ProjectError};
pub use keys::{ANON_KEY, JWT_SECRET, PUBLISHABLE_KEY, SECRET_KEY, SERVICE_ROLE_KEY};
pub use server::{serve, serve_with_shutdown};
pub use webhooks::PG_NET_VERSION;
pub use webhooks::http::HttpDispatcher;
pub use webhooks::{
    DeliveryOutcome, DeliveryRecord, Hook, NoopDispatcher, WebhookDelivery, WebhookDispatcher,
};

use bytes::Bytes;
use db::Db;
use edgesim_core::{SharedClock, SimRng};
use http::{Request, Response, header};
use migrate::report::LoadReport;
use migrate::{CliConfig, Project, ProjectInfo, Source};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use webhooks::capture::RowChange;

struct Inner {
    db: Mutex<Db>,
    report: migrate::report::LoadReport,
    settings: CliConfig,
    info: ProjectInfo,
    warnings: Vec<String>,
    hooks: Mutex<Vec<Hook>>,
    records: Mutex<webhooks::log::DeliveryLog>,
    next_id: Mutex<u64>,
    clock: SharedClock,
    dispatcher: Arc<dyn WebhookDispatcher>,
    change_hook: Mutex<Option<ChangeHook>>,
    auth: auth::AuthSettings,
}

/// One committed row change, as the change hook receives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The table.
    pub table: String,
    /// `INSERT`, `UPDATE` or `DELETE`.
    pub op: &'static str,
    /// The row before (UPDATE, DELETE), as PostgREST prints it.
    pub old: Option<serde_json::Map<String, serde_json::Value>>,
    /// The row after (INSERT, UPDATE), as PostgREST prints it.
    pub new: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Receives each commit's row changes (see [`Supabase::set_change_hook`]).
pub type ChangeHook = Arc<dyn Fn(&[Change]) + Send + Sync>;

/// A commit's outputs, published once the database lock is released.
struct Committed {
    deliveries: Vec<WebhookDelivery>,
    changes: Vec<Change>,
}

/// The mock Supabase project. Cheap to clone (clones share one database).
#[derive(Clone)]
pub struct Supabase {
    inner: Arc<Inner>,
}

/// A weak handle, for dispatchers that report outcomes back.
#[derive(Clone)]
pub struct WeakSupabase(Weak<Inner>);

impl WeakSupabase {
    /// The project, if it is still alive.
    pub fn upgrade(&self) -> Option<Supabase> {
        self.0.upgrade().map(|inner| Supabase { inner })
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The embedded demo project (`fixtures/supabase`).
pub fn demo_project() -> Project {
    let src = |path: &str, text: &str| Source {
        path: PathBuf::from(path),
        text: text.to_string(),
    };
    Project {
        name: None,
        dir: None,
        config: CliConfig::default(),
        warnings: Vec::new(),
        migrations: vec![(
            "20240101000000".into(),
            src(
                "fixtures/supabase/supabase/migrations/20240101000000_create_articles.sql",
                include_str!(
                    "../../../fixtures/supabase/supabase/migrations/20240101000000_create_articles.sql"
                ),
            ),
        )],
        seeds: vec![src(
            "fixtures/supabase/supabase/seed.sql",
            include_str!("../../../fixtures/supabase/supabase/seed.sql"),
        )],
        webhooks: Some(src(
            "fixtures/supabase/supabase/webhooks.toml",
            include_str!("../../../fixtures/supabase/supabase/webhooks.toml"),
        )),
    }
}

impl Supabase {
    /// Opens a project directory (Supabase CLI layout) on `db_file` (in-memory when `None`).
    pub fn open(
        project_dir: &Path,
        db_file: Option<&Path>,
        clock: SharedClock,
        dispatcher: Arc<dyn WebhookDispatcher>,
    ) -> Result<Self, ProjectError> {
        let project = Project::from_dir(project_dir)?;
        Self::from_project(&project, db_file, clock, dispatcher)
    }

    /// The embedded demo project (the `articles` table, the course rows, `articles_revalidate`).
    pub fn demo(
        clock: SharedClock,
        dispatcher: Arc<dyn WebhookDispatcher>,
    ) -> Result<Self, ProjectError> {
        Self::from_project(&demo_project(), None, clock, dispatcher)
    }

    /// Opens an already-loaded project. `gen_random_uuid()`, `random()` and `randomblob()` draw
    /// from the OS-seeded RNG, so a kept database never sees the same UUIDs again after a restart.
    pub fn from_project(
        project: &Project,
        db_file: Option<&Path>,
        clock: SharedClock,
        dispatcher: Arc<dyn WebhookDispatcher>,
    ) -> Result<Self, ProjectError> {
        Self::from_project_with_rng(project, db_file, clock, SimRng::from_os(), dispatcher)
    }

    /// Like [`Supabase::from_project`], with the SQL functions' randomness from `rng` (a
    /// simulation passes a fork of its seed, so the same seed gives the same UUIDs).
    pub fn from_project_with_rng(
        project: &Project,
        db_file: Option<&Path>,
        clock: SharedClock,
        rng: SimRng,
        dispatcher: Arc<dyn WebhookDispatcher>,
    ) -> Result<Self, ProjectError> {
        let mut db = Db::open(db_file, clock.clone(), rng)?;
        db.max_rows = project.config.api.max_rows;
        let (hooks, report) = migrate::apply(&mut db, project)?;
        Ok(Supabase {
            inner: Arc::new(Inner {
                db: Mutex::new(db),
                report,
                settings: project.config.clone(),
                info: project.info(),
                warnings: project.warnings.clone(),
                hooks: Mutex::new(hooks),
                records: Mutex::new(Default::default()),
                next_id: Mutex::new(0),
                clock,
                dispatcher,
                change_hook: Mutex::new(None),
                auth: auth::AuthSettings::from_config(&project.config),
            }),
        })
    }

    /// What loading the project did with each statement of its migrations and seed
    /// (translated, emulated, accepted, skipped with a warning, errors affecting data).
    pub fn load_report(&self) -> &LoadReport {
        &self.inner.report
    }

    /// The project's settings (`supabase/config.toml`, defaults where it says nothing).
    pub fn settings(&self) -> &CliConfig {
        &self.inner.settings
    }

    /// `[auth] jwt_expiry`: how long the JWTs the Auth API issues live, in seconds.
    pub fn jwt_expiry_s(&self) -> u64 {
        self.inner.settings.auth.jwt_expiry
    }

    /// `[api] port`: the port the project's API listens on unless told otherwise.
    pub fn api_port(&self) -> u16 {
        self.inner.settings.api.port
    }

    /// `project_id`, the project's name.
    pub fn name(&self) -> Option<&str> {
        self.inner.info.name.as_deref()
    }

    /// What loading `supabase/config.toml` said (keys not emulated, schemas not exposed, seed
    /// patterns matching nothing), one message per line, each naming its file.
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }

    /// One line for the start banner: `name (dir/supabase/): 3 migrations, seed.sql, tables:
    /// a, b, webhooks: h -> url` (see [`ProjectInfo::summary`]).
    pub fn summary(&self) -> String {
        let tables: Vec<String> = lock(&self.inner.db).schema.tables.keys().cloned().collect();
        let tables: Vec<&str> = tables.iter().map(String::as_str).collect();
        self.inner.info.summary(&tables, &self.hooks())
    }

    /// A weak handle (does not keep the project alive).
    pub fn downgrade(&self) -> WeakSupabase {
        WeakSupabase(Arc::downgrade(&self.inner))
    }

    /// Serves one request: the gateway, `/rest/v1/...`, `/auth/v1/...` ([`auth`]) and
    /// `GET /__edgesim/deliveries`.
    pub fn handle(&self, req: Request<Bytes>) -> Response<Bytes> {
        let (parts, body) = req.into_parts();
        let mut pairs = query::decode_pairs(parts.uri.query().unwrap_or(""));
        let query_key = gateway::take_apikey(&mut pairs);
        let now_secs = self.inner.clock.now_secs();
        let api_off = !self.inner.settings.api.enabled
            && (parts.uri.path() == "/rest/v1" || parts.uri.path().starts_with("/rest/v1/"));
        if api_off {
            // `[api] enabled = false`: the CLI starts no PostgREST; the gateway has no route.
            let mut resp = Response::builder()
                .status(404)
                .header(header::CONTENT_TYPE, rest::response::JSON)
                .body(Bytes::from_static(
                    br#"{"message":"no Route matched with those values"}"#,
                ))
                .unwrap_or_default();
            gateway::cors(&mut resp);
            return resp;
        }
        let mut resp = match gateway::route(
            &parts.method,
            parts.uri.path(),
            &parts.headers,
            query_key.as_deref(),
            now_secs,
        ) {
            gateway::Route::Done(r) => r,
            gateway::Route::Deliveries => {
                let body =
                    serde_json::to_string(&self.deliveries()).unwrap_or_else(|_| "[]".into());
                Response::builder()
                    .header(header::CONTENT_TYPE, rest::response::JSON)
                    .header(
                        webhooks::log::EVICTED_HEADER,
                        self.deliveries_evicted().to_string(),
                    )
                    .body(Bytes::from(body))
                    .unwrap_or_default()
            }
            gateway::Route::Root => self.openapi(),
            gateway::Route::Auth(sub) => auth::handle(self, &parts, &sub, &pairs, &body),
            gateway::Route::Rpc(func) => {
                let caller = gateway::caller(&parts.headers, query_key.as_deref(), now_secs);
                let mut db = lock(&self.inner.db);
                let (resp, changes) = db.as_caller(caller, |db| {
                    rest::rpc::handle(db, &parts.method, &func, &pairs, &parts.headers, &body)
                });
                let committed = self.committed(&db, &changes);
                drop(db);
                self.publish(committed);
                resp
            }
            gateway::Route::Table(table) => {
                let caller = gateway::caller(&parts.headers, query_key.as_deref(), now_secs);
                let mut db = lock(&self.inner.db);
                let (resp, changes) = db.as_caller(caller, |db| {
                    rest::handle(db, &parts.method, &table, &pairs, &parts.headers, &body)
                });
                let committed = self.committed(&db, &changes);
                drop(db);
                self.publish(committed);
                resp
            }
        };
        gateway::cors(&mut resp);
        resp
    }

    fn openapi(&self) -> Response<Bytes> {
        let db = lock(&self.inner.db);
        let mut paths = serde_json::Map::new();
        paths.insert("/".into(), serde_json::json!({}));
        for t in db.schema.tables.keys() {
            paths.insert(format!("/{t}"), serde_json::json!({}));
        }
        let body = serde_json::json!({
            "swagger": "2.0",
            "info": {"title": "standard public schema", "version": "14.12"},
            "basePath": "/",
            "paths": paths,
        });
        Response::builder()
            .header(
                header::CONTENT_TYPE,
                "application/openapi+json; charset=utf-8",
            )
            .body(Bytes::from(body.to_string()))
            .unwrap_or_default()
    }

    fn deliveries_for(&self, db: &Db, changes: &[RowChange]) -> Vec<WebhookDelivery> {
        if changes.is_empty() {
            return Vec::new();
        }
        let hooks = lock(&self.inner.hooks);
        let mut next = lock(&self.inner.next_id);
        let now_ms = self.inner.clock.now_ms();
        let out = webhooks::deliveries_for(changes, &hooks, &db.schema, &mut next, now_ms);
        let mut records = lock(&self.inner.records);
        for d in &out {
            records.push(d.clone(), now_ms);
        }
        out
    }

    /// What a commit produced: its webhook deliveries and the change-hook view of its rows.
    fn committed(&self, db: &Db, changes: &[RowChange]) -> Committed {
        let deliveries = self.deliveries_for(db, changes);
        let hooked = lock(&self.inner.change_hook).is_some();
        let changes = if hooked {
            changes
                .iter()
                .filter_map(|c| {
                    let t = db.schema.tables.get(&c.table)?;
                    Some(Change {
                        table: c.table.clone(),
                        op: c.event,
                        old: c.old.as_ref().map(|v| webhooks::capture::record(t, v)),
                        new: c.new.as_ref().map(|v| webhooks::capture::record(t, v)),
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        Committed {
            deliveries,
            changes,
        }
    }

    /// Tells the change hook, then hands the deliveries to the dispatcher (after the commit,
    /// without the database lock held).
    fn publish(&self, c: Committed) {
        if !c.changes.is_empty() {
            let hook = lock(&self.inner.change_hook).clone();
            if let Some(h) = hook {
                h(&c.changes);
            }
        }
        for d in c.deliveries {
            self.inner.dispatcher.dispatch(d);
        }
    }

    /// Sets the change hook: called after each commit with every committed row change (all
    /// tables, in change order, one entry per row and statement, as Database Webhooks see them),
    /// before that commit's webhooks are dispatched. Replaces any previous hook.
    pub fn set_change_hook(&self, hook: ChangeHook) {
        *lock(&self.inner.change_hook) = Some(hook);
    }

    /// Runs SQL as the database owner, all statements in one transaction (like a multi-statement
    /// simple query). Postgres forms are translated as in migrations. Returns the number of rows
    /// inserted, updated or deleted; row changes fire webhooks after the commit.
    pub fn execute(&self, sql: &str) -> Result<usize, DbError> {
        let mut db = lock(&self.inner.db);
        let mut new_hooks = lock(&self.inner.hooks).clone();
        let result = db.transaction(
            false,
            |db| {
                let mut report = LoadReport::default();
                let mut cx = migrate::dispatch::Ctx {
                    db,
                    file: Path::new("<sql>"),
                    mode: migrate::dispatch::Mode::Direct,
                    report: &mut report,
                    hooks: &mut new_hooks,
                    changes: 0,
                };
                for st in migrate::lex::split(sql) {
                    let st = migrate::dispatch::Stmt::new(&st.text, st.line);
                    migrate::dispatch::dispatch(&mut cx, &st);
                    if let Some(e) = cx.report.entries.last().filter(|e| e.outcome.is_warning()) {
                        return Err(DbError {
                            code: e.code.clone().unwrap_or_else(|| "0A000".into()),
                            message: e.pg_message.clone().unwrap_or_else(|| {
                                format!("{} {}: {}", e.object, e.outcome.word(), e.note)
                            }),
                        });
                    }
                }
                Ok(cx.changes)
            },
            |e| DbError {
                code: "XX000".into(),
                message: e.to_string(),
            },
        );
        let (n, changes) = result?;
        *lock(&self.inner.hooks) = new_hooks;
        let committed = self.committed(&db, &changes);
        drop(db);
        self.publish(committed);
        Ok(n)
    }

    /// Writes the write-ahead log into the database file and truncates it (a clean shutdown
    /// leaves one self-contained file). A no-op for in-memory databases.
    pub fn checkpoint(&self) -> Result<(), DbError> {
        let db = lock(&self.inner.db);
        db.checkpoint().map_err(|e| DbError {
            code: "XX000".into(),
            message: e.to_string(),
        })
    }

    /// Points one hook (`Some(name)`) or every hook (`None`) at `url`.
    pub fn set_webhook_url(&self, hook: Option<&str>, url: &str) {
        for h in lock(&self.inner.hooks).iter_mut() {
            if hook.is_none_or(|n| n == h.name) {
                h.url = url.to_string();
            }
        }
    }

    /// The tables the API exposes, in name order.
    pub fn table_names(&self) -> Vec<String> {
        lock(&self.inner.db).schema.tables.keys().cloned().collect()
    }

    /// The declared webhooks.
    pub fn hooks(&self) -> Vec<Hook> {
        lock(&self.inner.hooks).clone()
    }

    /// The deliveries in the log, in creation order, with outcomes where reported. The log
    /// keeps what pg_net would (see [`webhooks::log`]); [`Supabase::deliveries_evicted`] counts
    /// the rest.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        lock(&self.inner.records).records().cloned().collect()
    }

    /// Deliveries evicted from the log so far (older than pg_net's ttl, or over its capacity).
    pub fn deliveries_evicted(&self) -> u64 {
        lock(&self.inner.records).evicted()
    }

    /// Records what happened to delivery `id` (the latest report wins). An outcome for a
    /// delivery already evicted from the log is not kept.
    pub fn record_outcome(&self, id: u64, outcome: DeliveryOutcome) {
        if !lock(&self.inner.records).record_outcome(id, outcome) {
            tracing::debug!("delivery {id}: outcome for a delivery no longer in the log");
        }
    }
}
