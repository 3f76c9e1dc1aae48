//! The running world: host, KV, Supabase, the webhook scheduler, the DB history and the log.

use crate::events::{EventKind, EventLog, Origin, short_hash};
use crate::faults::{Override, decide};
use crate::history::{DbHistory, id_text};
use crate::scenario::WebhookFaults;
use crate::track::Tracker;
use crate::{SimClock, upstream::UpstreamFaults};
use bytes::Bytes;
use edgesim_core::{Clock, SimRng};
use edgesim_host::Host;
use edgesim_kv::KvStore;
use edgesim_supabase::{
    DeliveryOutcome, SERVICE_ROLE_KEY, Supabase, WebhookDelivery, WebhookDispatcher,
};
use edgesim_world::routing::{Delivery, WebhookRouter, deliver_within, failed, unanswered};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Collects deliveries; the core schedules them once the commit is in the DB history.
#[derive(Default)]
pub(crate) struct QueueDispatcher(pub Mutex<Vec<WebhookDelivery>>);

impl WebhookDispatcher for QueueDispatcher {
    fn dispatch(&self, delivery: WebhookDelivery) {
        lock(&self.0).push(delivery);
    }
}

/// Webhook fault settings of a run.
#[derive(Clone, Debug, Default)]
pub(crate) struct WebhookPlan {
    pub faults: WebhookFaults,
    /// `[from, to)` in ms since start.
    pub window: (u64, u64),
}

/// The running world. Its fields are private: [`crate::Sim`] (the one public API) reaches them
/// through the methods below, so scenario files and Rust tests drive the same code.
pub(crate) struct Core {
    log: EventLog,
    clock: SimClock,
    start_ms: u64,
    kv: KvStore,
    supabase: Supabase,
    queue: Arc<QueueDispatcher>,
    host: OnceLock<Host>,
    history: Mutex<DbHistory>,
    tracker: Tracker,
    table: String,
    webhook_colo: String,
    router: WebhookRouter,
    webhooks: Mutex<WebhookPlan>,
    webhook_rng: Mutex<SimRng>,
    next_override: Mutex<Override>,
    upstream_faults: Arc<UpstreamFaults>,
    next_request: AtomicU64,
    /// Scheduled SQL that failed: (ms since start, message).
    failed_sql: Mutex<Vec<(u64, String)>>,
    /// Access tokens of the users random mutations write as: email → (JWT, minted at ms).
    tokens: Mutex<std::collections::BTreeMap<String, (String, u64)>>,
    me: OnceLock<Weak<Core>>,
}

/// What [`Core::new`] builds a world from.
pub(crate) struct CoreParts {
    pub log: EventLog,
    pub clock: SimClock,
    pub start_ms: u64,
    pub kv: KvStore,
    pub supabase: Supabase,
    pub queue: Arc<QueueDispatcher>,
    pub tracker: Tracker,
    pub table: String,
    pub webhook_colo: String,
    pub router: WebhookRouter,
    pub webhook_rng: SimRng,
    pub upstream_faults: UpstreamFaults,
}

impl Core {
    /// Builds the world (no host yet: [`Core::set_host`]) and records the table's initial rows
    /// as DB version 0.
    pub fn new(p: CoreParts) -> Arc<Core> {
        let core = Arc::new(Core {
            log: p.log,
            clock: p.clock,
            start_ms: p.start_ms,
            kv: p.kv,
            supabase: p.supabase,
            queue: p.queue,
            host: OnceLock::new(),
            history: Mutex::new(DbHistory::new("id", Vec::new(), 0)),
            tracker: p.tracker,
            table: p.table,
            webhook_colo: p.webhook_colo,
            router: p.router,
            webhooks: Mutex::new(WebhookPlan::default()),
            webhook_rng: Mutex::new(p.webhook_rng),
            next_override: Mutex::new(Override::default()),
            upstream_faults: Arc::new(p.upstream_faults),
            next_request: AtomicU64::new(1),
            failed_sql: Mutex::new(Vec::new()),
            tokens: Mutex::default(),
            me: OnceLock::new(),
        });
        let _ = core.me.set(Arc::downgrade(&core));
        let mut history = DbHistory::new("id", core.table_rows(), 0);
        for t in core.tracker.other_tables() {
            history.add_table(&t, core.rows_of(&t));
        }
        *lock(&core.history) = history;
        lock(&core.queue.0).clear();
        let weak = Arc::downgrade(&core);
        core.supabase
            .set_change_hook(Arc::new(move |changes: &[edgesim_supabase::Change]| {
                if let Some(core) = weak.upgrade() {
                    core.on_changes(changes);
                }
            }));
        core
    }

    /// Installs the Worker (once).
    pub fn set_host(&self, host: Host) {
        let _ = self.host.set(host);
    }

    /// The event log.
    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// The virtual clock.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// Clock time (epoch ms) `ms_since_start` after the start of the run.
    pub fn epoch_ms(&self, ms_since_start: u64) -> u64 {
        self.start_ms + ms_since_start
    }

    /// The KV model.
    pub fn kv(&self) -> &KvStore {
        &self.kv
    }

    /// The mock Supabase project.
    pub fn supabase(&self) -> &Supabase {
        &self.supabase
    }

    /// The DB history (locked).
    pub fn history(&self) -> MutexGuard<'_, DbHistory> {
        lock(&self.history)
    }

    /// The tracked paths.
    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    /// The tracked table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Replaces the random webhook faults.
    pub fn set_webhook_plan(&self, plan: WebhookPlan) {
        *lock(&self.webhooks) = plan;
    }

    /// The Supabase latency and fault rules.
    pub fn upstream_faults(&self) -> &UpstreamFaults {
        &self.upstream_faults
    }

    /// Records that scheduled SQL failed.
    pub fn sql_failed(&self, message: String) {
        let now = self.now();
        lock(&self.failed_sql).push((now, message));
    }

    /// Scheduled SQL that failed so far.
    pub fn failed_sql(&self) -> Vec<(u64, String)> {
        lock(&self.failed_sql).clone()
    }

    fn arc(&self) -> Option<Arc<Core>> {
        self.me.get().and_then(Weak::upgrade)
    }

    /// The tracked table's rows, as PostgREST returns them to the service role.
    pub fn table_rows(&self) -> Vec<Value> {
        self.rows_of(&self.table)
    }

    /// The rows of `table`, as PostgREST returns them to the service role.
    pub fn rows_of(&self, table: &str) -> Vec<Value> {
        let req = http::Request::get(format!("http://supabase.sim/rest/v1/{table}?select=*"))
            .header("apikey", SERVICE_ROLE_KEY)
            .body(Bytes::new())
            .expect("static request");
        let resp = self.supabase.handle(req);
        match serde_json::from_slice(resp.body()) {
            Ok(Value::Array(rows)) => rows,
            _ => Vec::new(),
        }
    }

    /// Runs SQL; its webhooks get `ov` (drop, duplicate, fixed delay) instead of random faults.
    pub fn execute(&self, sql: &str, ov: Override) -> Result<usize, edgesim_supabase::DbError> {
        self.clock.sync();
        *lock(&self.next_override) = ov;
        let r = self.supabase.execute(sql);
        self.after_commit();
        r
    }

    /// Writes through PostgREST as `role` (`anon`, `authenticated` with `user`'s JWT, or
    /// `service_role`), so grants and row-level security decide what lands; its webhooks fire
    /// as usual. `Ok(None)`: it landed; `Ok(Some(why))`: the database refused it (an RLS or
    /// constraint error, or an update or delete that saw no row), which changes nothing;
    /// `Err`: the request itself is wrong.
    pub fn write_as(
        &self,
        role: &str,
        user: Option<&str>,
        method: http::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Option<String>, String> {
        use edgesim_supabase::ANON_KEY;
        self.clock.sync();
        *lock(&self.next_override) = Override::default();
        let (apikey, bearer) = match role {
            "service_role" => (SERVICE_ROLE_KEY, SERVICE_ROLE_KEY.to_string()),
            "authenticated" => (ANON_KEY, self.user_token(user.unwrap_or_default())?),
            _ => (ANON_KEY, ANON_KEY.to_string()),
        };
        let req = http::Request::builder()
            .method(method)
            .uri(format!("http://supabase.sim{path}"))
            .header("apikey", apikey)
            .header("authorization", format!("Bearer {bearer}"))
            .header("content-type", "application/json")
            .header("prefer", "return=representation")
            .body(body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string())))
            .map_err(|e| e.to_string())?;
        let resp = self.supabase.handle(req);
        self.after_commit();
        let status = resp.status().as_u16();
        let json: Value = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
        if resp.status().is_success() {
            return Ok(match json {
                Value::Array(rows) if rows.is_empty() => {
                    Some(format!("no row visible to {role}: RLS"))
                }
                _ => None,
            });
        }
        let code = json.get("code").and_then(Value::as_str).unwrap_or_default();
        let message = json
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if code == "42501" || code.starts_with("23") || status == 401 || status == 403 {
            Ok(Some(format!("{code}: {message}")))
        } else {
            Err(format!("{status} {code}: {message}"))
        }
    }

    /// An access token of the user with `email`, through the Auth API: the user is created
    /// (confirmed, with edgesim's own password) if there is none; a token is minted again once
    /// half its lifetime has passed on the virtual clock.
    fn user_token(&self, email: &str) -> Result<String, String> {
        const PASSWORD: &str = "edgesim-sim-password";
        let now = self.now();
        let half_life = self.supabase.jwt_expiry_s() * 500;
        if let Some((t, at)) = lock(&self.tokens).get(email)
            && now < at + half_life
        {
            return Ok(t.clone());
        }
        let call = |path: &str, key: &str, body: Value| {
            let req = http::Request::post(format!("http://supabase.sim{path}"))
                .header("apikey", key)
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", "application/json")
                .body(Bytes::from(body.to_string()))
                .expect("a static request");
            let resp = self.supabase.handle(req);
            let ok = resp.status().is_success();
            (
                ok,
                serde_json::from_slice::<Value>(resp.body()).unwrap_or(Value::Null),
            )
        };
        let user = serde_json::json!({"email": email, "password": PASSWORD});
        let (ok, first) = call(
            "/auth/v1/token?grant_type=password",
            edgesim_supabase::ANON_KEY,
            user.clone(),
        );
        let token = if ok {
            first
        } else {
            let mut create = user.clone();
            create["email_confirm"] = Value::Bool(true);
            let (created, why) = call("/auth/v1/admin/users", SERVICE_ROLE_KEY, create);
            if !created {
                return Err(format!(
                    "user {email:?}: cannot sign in ({first}) nor create the user ({why})"
                ));
            }
            call(
                "/auth/v1/token?grant_type=password",
                edgesim_supabase::ANON_KEY,
                user,
            )
            .1
        };
        let t = token
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("user {email:?}: no access token: {token}"))?
            .to_string();
        lock(&self.tokens).insert(email.to_string(), (t.clone(), now));
        Ok(t)
    }

    /// The mock's change hook: records each commit of a tracked table (the routes' tables)
    /// in the DB history (and the log) as it commits.
    pub fn on_changes(&self, changes: &[edgesim_supabase::Change]) {
        let mut tables: Vec<&str> = Vec::new();
        for c in changes {
            if !tables.contains(&c.table.as_str()) {
                tables.push(&c.table);
            }
        }
        for table in tables {
            let rows = changes
                .iter()
                .filter(|c| c.table == table)
                .map(|c| {
                    (
                        c.old.clone().map(Value::Object),
                        c.new.clone().map(Value::Object),
                    )
                })
                .collect::<Vec<_>>();
            let now = self.log.now();
            let changes = {
                let mut h = lock(&self.history);
                if table == self.table {
                    h.apply(rows, now)
                } else {
                    h.apply_table(table, rows, now)
                }
            };
            for (version, ch) in changes {
                let row_hash = ch
                    .row
                    .as_ref()
                    .map(|r| short_hash(crate::history::canonical(r).as_bytes()))
                    .unwrap_or_default();
                self.log.push(EventKind::DbCommit {
                    version,
                    table: table.to_string(),
                    op: ch.op.to_string(),
                    row_id: ch.id,
                    row_hash,
                });
            }
        }
    }

    /// After SQL ran (its commit is already in the DB history): schedule the webhooks it fired.
    pub fn after_commit(&self) {
        let ov = std::mem::take(&mut *lock(&self.next_override));
        let deliveries = std::mem::take(&mut *lock(&self.queue.0));
        for d in deliveries {
            self.schedule(d, ov);
        }
    }

    fn schedule(&self, d: WebhookDelivery, ov: Override) {
        let now = self.log.now();
        let row_id = delivery_row_id(&d);
        let db_version = {
            let h = lock(&self.history);
            match h.table(&d.table) {
                Some(other) if d.table != self.table => other.current_row_version(&row_id),
                _ => h.current_row_version(&row_id),
            }
        };
        let decision = {
            let plan = lock(&self.webhooks);
            decide(
                &plan.faults,
                plan.window,
                ov,
                &mut lock(&self.webhook_rng),
                now,
            )
        };
        self.log.push(EventKind::WebhookSent {
            delivery: d.id,
            event: d.event.clone(),
            row_id: row_id.clone(),
            db_version,
            deliver_at_ms: now + decision.copies.first().copied().unwrap_or(0),
        });
        if decision.copies.is_empty() {
            self.log.push(EventKind::WebhookDropped {
                delivery: d.id,
                row_id,
            });
            self.supabase.record_outcome(
                d.id,
                DeliveryOutcome {
                    status: None,
                    timed_out: false,
                    error: Some("dropped (injected)".into()),
                },
            );
            return;
        }
        if let Some(second) = decision.copies.get(1) {
            self.log.push(EventKind::WebhookDuplicated {
                delivery: d.id,
                row_id: row_id.clone(),
                deliver_at_ms: now + second,
            });
        }
        let Some(core) = self.arc() else { return };
        for delay in decision.copies {
            let core = core.clone();
            let d = d.clone();
            let row_id = row_id.clone();
            let at = self.clock.instant_at(self.clock.now_ms() + delay);
            tokio::spawn(async move {
                tokio::time::sleep_until(at).await;
                core.deliver(d, row_id).await;
            });
        }
    }

    /// Delivers `d` where the router sends it, as `edgesim dev` does: to the Worker at the
    /// webhook colo with the hook's own path, or to an outside host, which nothing answers in
    /// simulation (the delivery fails and says so; it is logged, never dropped silently).
    async fn deliver(self: Arc<Self>, d: WebhookDelivery, row_id: String) {
        let req = match self.router.delivery(&d) {
            Delivery::Worker(req) => req,
            Delivery::External(host, req) => {
                return self.deliver_outside(&d, row_id, &host, req).await;
            }
            Delivery::Failed(why) => return self.finish(&d, row_id, "external:-", failed(why)),
        };
        let colo = self.webhook_colo.clone();
        let outcome = deliver_within(d.timeout_ms, async {
            Ok(self
                .request(&colo, req, Origin::Webhook)
                .await
                .status()
                .as_u16())
        })
        .await;
        self.finish(&d, row_id, &colo, outcome);
    }

    /// A delivery to an outside host: answered by the outbound rules (seeded faults and
    /// latency), else failed, since nothing outside exists in simulation.
    async fn deliver_outside(
        &self,
        d: &WebhookDelivery,
        row_id: String,
        host: &str,
        req: http::Request<Bytes>,
    ) {
        let at = format!("external:{host}");
        let answer = {
            let rules = self.host.get().map(|h| h.config().outbound.clone());
            rules.and_then(|r| r.answer(&req, &mut lock(&self.webhook_rng)))
        };
        let outcome = match answer {
            Some(answer) => {
                deliver_within(d.timeout_ms, async {
                    answer
                        .await
                        .map(|r| r.status().as_u16())
                        .map_err(|e| e.to_string())
                })
                .await
            }
            None => failed(unanswered(host)),
        };
        self.finish(d, row_id, &at, outcome);
    }

    /// Logs where a delivery went (a colo, or `external:<host>` with status 0 when nothing
    /// answered) and records its outcome.
    fn finish(&self, d: &WebhookDelivery, row_id: String, at: &str, outcome: DeliveryOutcome) {
        self.log.push(EventKind::WebhookDelivered {
            delivery: d.id,
            row_id,
            colo: self.log.intern(at),
            status: outcome.status.unwrap_or(0),
        });
        self.supabase.record_outcome(d.id, outcome);
    }

    /// Serves `req` at `colo` through the Worker and logs it; waitUntil work runs on.
    pub async fn request(
        &self,
        colo: &str,
        req: http::Request<Bytes>,
        origin: Origin,
    ) -> http::Response<Bytes> {
        let id = self.next_request.fetch_add(1, Ordering::SeqCst);
        let path = self
            .log
            .intern(req.uri().path_and_query().map_or("/", |p| p.as_str()));
        let colo_text = self.log.intern(colo);
        self.log.push(EventKind::RequestStart {
            id,
            colo: colo_text.clone(),
            method: self.log.intern(req.method().as_str()),
            path: path.clone(),
            origin,
        });
        let host = self.host.get().expect("host is set at build").clone();
        let inv = host.handle_at(colo, req).await;
        let status = inv.response.status().as_u16();
        let body = inv.response.body();
        let served = {
            let h = lock(&self.history);
            self.tracker
                .classify(&h, &path, status, body, self.log.now())
        };
        self.log.push(EventKind::RequestEnd {
            id,
            colo: colo_text,
            path,
            status,
            body_hash: self.log.intern(&short_hash(body)),
            served,
        });
        inv.response
    }

    /// Milliseconds since the start of the run.
    pub fn now(&self) -> u64 {
        self.clock.now_ms().saturating_sub(self.start_ms)
    }
}

/// The row id a delivery is about: `record.id`, else `old_record.id`.
pub(crate) fn delivery_row_id(d: &WebhookDelivery) -> String {
    let payload: Value = serde_json::from_slice(&d.body).unwrap_or(Value::Null);
    ["record", "old_record"]
        .iter()
        .filter_map(|k| payload.get(k).and_then(|r| r.get("id")))
        .map(id_text)
        .next()
        .unwrap_or_default()
}
