//! Runs a [`Scenario`] for one seed: chaos phase (workload, mutations, faults), healed phase,
//! probe, checks. Same scenario + seed + variant → byte-identical event log. The runner drives
//! the world only through the public [`Sim`] API (faults, scheduled SQL, workload streams).

use crate::check::{Expectations, PropertyReport, Violation, check_all};
use crate::drive::RandomMutations;
use crate::events::{Event, EventKind, digest_of, render_text};
use crate::faults::{KvFault, Override, SupabaseFault};
use crate::history::DbHistory;
use crate::phases::{ModelTimes, Phase, StalenessBounds, fault_windows, observe, phases};
use crate::routes::Route;
use crate::scenario::{Outcome, RouteSelect, Scenario, Variant, WorkloadSpec, secs_to_ms};
use crate::sim::{BuildError, Sim, SimBuilder};
use crate::track::Tracker;
use edgesim_workers::{Worker, WorkerSpec};
use serde::Serialize;
use std::time::Duration;

/// Why a run could not happen (a bad scenario rather than a violated expectation).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scenario file is bad.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
    /// The world could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A file the scenario names could not be read.
    #[error("{0}")]
    File(String),
    /// A scripted mutation's SQL failed.
    #[error("mutation at {at_s}s failed: {message}")]
    Mutation {
        /// When it ran.
        at_s: f64,
        /// The database's error.
        message: String,
    },
}

/// The result of one run.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    /// Scenario name.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// The Worker variant (`None` for any other Worker).
    pub variant: Option<Variant>,
    /// The Worker's name (the variant, the wrangler `name`, or its path).
    pub worker: String,
    /// Violated expectations (the enforced properties), with witnesses.
    pub violations: Vec<Violation>,
    /// Every property's verdict (enforced or reported only), with its first witness.
    pub properties: Vec<PropertyReport>,
    /// The staleness bounds that applied (`None`: the scenario turned them off), with what
    /// they were derived from ([`StalenessBounds::observed_text`]).
    pub bounds: Option<StalenessBounds>,
    /// What the derived bounds were read from, one line ([`StalenessBounds::observed_text`]):
    /// `bounds observed: /articles/2 cacheTtl 30 s (12 reads), ...; propagation ≤ 500 ms; ...`.
    pub bounds_observed: Option<String>,
    /// Why the run checked nothing, when it did not (the run then fails with a
    /// `nothing_checked` violation).
    pub nothing_checked: Option<String>,
    /// The run's fault-free stretches, fault windows and healed phase.
    pub phases: Vec<Phase>,
    /// What the scenario file expects for this variant.
    pub expected: Option<Outcome>,
    /// SHA-256 of the event log text.
    pub digest: String,
    /// Virtual ms simulated.
    pub virtual_ms: u64,
    /// Wall-clock ms the run took (measurement only; never read by the simulation).
    pub wall_ms: u64,
    /// When the last fault healed and the last write settled (virtual ms).
    pub healed_ms: u64,
    /// Every colo must serve the current state from here on (healed + converge bound).
    pub deadline_ms: u64,
    /// Requests served.
    pub requests: u64,
    /// Events logged.
    pub event_count: usize,
    /// The colos.
    pub colos: Vec<String>,
    /// Problems that did not stop the run (e.g. a declared route no request reached), each
    /// naming file, line and key.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Every event.
    #[serde(skip)]
    pub events: Vec<Event>,
    /// The DB history.
    #[serde(skip)]
    pub history: Option<DbHistory>,
}

impl RunResult {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The event log's text form.
    pub fn event_text(&self) -> String {
        render_text(&self.events)
    }
}

/// Which Worker a run uses: `over` (a spec from the command line, for example), else the
/// scenario's `[worker]`; resolved (a JS Worker is built) once, to run many seeds with.
pub fn worker_of(s: &Scenario, over: Option<&WorkerSpec>) -> Result<Worker, RunError> {
    let spec = match over {
        Some(spec) => spec.clone(),
        None => s.worker.spec(s.base_dir.as_deref()),
    };
    spec.resolve()
        .map_err(|e| RunError::Build(BuildError::Worker(e.to_string())))
}

/// Runs `s` with `seed`; `variant` overrides the scenario's Worker.
pub fn run(s: &Scenario, seed: u64, variant: Option<Variant>) -> Result<RunResult, RunError> {
    let worker = worker_of(s, variant.map(WorkerSpec::Embedded).as_ref())?;
    run_worker(s, seed, &worker)
}

/// Runs `s` with `seed` and `worker` (see [`worker_of`]).
pub fn run_worker(s: &Scenario, seed: u64, worker: &Worker) -> Result<RunResult, RunError> {
    let wall = std::time::Instant::now();
    let variant = worker.variant;
    let mut b = SimBuilder::default()
        .seed(seed)
        .colos_with_latency(
            s.colos
                .iter()
                .map(|c| (c.code.clone(), c.latency_ms))
                .collect(),
        )
        .worker(worker.clone())
        .kv_propagation_ms(s.kv.propagation_ms.min, s.kv.propagation_ms.max)
        .kv_read_your_writes(s.kv.read_your_writes)
        .supabase_latency_ms(s.supabase.latency_ms);
    let routes = s.effective_routes();
    let table = tracked_table(s, &routes)?;
    b = b.table(&table).routes(routes.clone());
    if let Some(c) = &s.worker.webhook_colo {
        b = b.webhook_colo(c.get_ref());
    }
    if let Some(p) = &s.supabase.project {
        b = b.supabase_project(s.base_dir.clone().unwrap_or_default().join(p));
    } else if let Some(dir) = &s.project.supabase {
        b = b.supabase_project(dir.clone());
    }
    if let Some(settings) = &s.project.settings {
        b = b.settings(settings.clone());
    }
    if let Some(rules) = &s.outbound_rules {
        b = b.outbound(rules.fresh());
    }
    let mut sim = b.build()?;
    check_routes_against_db(&sim, s, &routes, &table)?;
    seed_kv(&sim, s)?;
    install_faults(&mut sim, s);
    let duration = s.duration_ms();
    let heal = secs_to_ms(s.expect.converge_within_s);
    sim.reserve_events(expected_events(s, duration + heal));
    let ported = crate::port::is_ported(s.compiled_routes.len(), &routes);
    schedule_mutations(&mut sim, s, ported);
    let mut port_notes = Vec::new();
    for (i, w) in s.workload.iter().enumerate() {
        let paths = if ported && w.routes.is_none() {
            ported_paths(&sim, w, &routes, &mut port_notes)?
        } else {
            workload_paths(&sim, w, &routes)?
        };
        for colo in s.workload_colos(w) {
            sim.poisson_workload(
                &i.to_string(),
                &colo,
                w.rate_per_s,
                paths.clone(),
                Duration::from_millis(duration + heal),
            );
        }
    }
    sim.advance(Duration::from_millis(duration + heal));
    if let Some((at, message)) = sim.failed_sql().into_iter().next() {
        return Err(RunError::Mutation {
            at_s: at.as_millis() as f64 / 1000.0,
            message,
        });
    }
    // A delivery held back past the chaos phase heals late: keep the full bound after it.
    let healed_ms = sim.with_events(healed_at);
    let now = sim.now().as_millis() as u64;
    if healed_ms + heal > now {
        sim.advance(Duration::from_millis(healed_ms + heal - now));
    }
    // Probe the list and every row, unless the workload tracks none of them (another Worker).
    let tracked = s
        .workload
        .iter()
        .flat_map(|w| &w.paths)
        .any(|p| sim.tracker().resource(p).is_some())
        || s.workload.iter().any(|w| w.routes.is_some());
    // A declared route no workload request reached is worth saying.
    let mut warnings = port_notes;
    sim.with_events(|events| {
        for r in &routes {
            let reached = events.iter().any(|e| {
                matches!(&e.kind, EventKind::RequestEnd { path, .. }
                    if r.matches(path).is_some())
            });
            if !reached {
                warnings.push(format!(
                    "{}: key `path`: route {} was never requested by the workload \
                     (add it to a workload's paths or set routes = true)",
                    r.at,
                    r.pattern.text()
                ));
            }
        }
    });
    if tracked {
        sim.probe();
    }
    // The run is over: move the log out rather than copy it.
    let events = sim.take_events();
    let history = sim.history();
    let bounds = s
        .expect
        .staleness_bounds
        .then(|| bounds_of(s, &events, sim.tracker()));
    let exp = Expectations {
        converge_within_ms: heal,
        max_staleness_ms: s.expect.max_staleness_s.map(secs_to_ms),
        no_phantoms: s.expect.no_phantoms,
        bounds: bounds.clone(),
        kv_read_your_writes: s.kv.read_your_writes >= 1.0,
        enforce_monotonic_reads: s.expect.monotonic_reads,
        enforce_read_your_writes: s.expect.read_your_writes,
    };
    let report = check_all(&events, sim.tracker(), &exp, healed_ms);
    let violations = report.enforced();
    let end_ms = sim.now().as_millis() as u64;
    let phases = phases(
        &fault_windows(
            &events,
            bounds
                .as_ref()
                .map_or(s.faults.webhooks.delay_ms.max, |b| b.webhook_latency_ms),
        ),
        healed_ms,
        end_ms,
    );
    let requests = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::RequestEnd { .. }))
        .count() as u64;
    Ok(RunResult {
        scenario: s.name.clone(),
        seed,
        variant,
        worker: worker.name.clone(),
        violations,
        properties: report.properties,
        bounds_observed: bounds.as_ref().and_then(StalenessBounds::observed_text),
        nothing_checked: report.nothing_checked,
        bounds,
        phases,
        expected: variant.and_then(|v| s.expect.outcome.of(v)),
        digest: digest_of(&events),
        virtual_ms: sim.now().as_millis() as u64,
        wall_ms: wall.elapsed().as_millis() as u64,
        healed_ms,
        deadline_ms: healed_ms + heal,
        requests,
        event_count: events.len(),
        colos: sim.colos(),
        warnings,
        events,
        history: Some(history),
    })
}

/// The table the checkers track first: the first route's (other tables the routes read are
/// tracked beside it), else `[supabase] table`, else `articles`. `[supabase] table` must be one
/// the routes read, and each `[random_mutations] table` one that is tracked.
fn tracked_table(s: &Scenario, routes: &[Route]) -> Result<String, RunError> {
    let named = s.supabase.table.clone();
    let table = match (routes.first(), &named) {
        (Some(r), Some(t)) if !routes.iter().any(|r| r.table() == t) => {
            return Err(RunError::File(format!(
                "{}: key `sql`: the routes read table {:?} but [supabase] table = {t:?}",
                r.at,
                r.table()
            )));
        }
        (Some(r), _) => r.table().to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => "articles".to_string(),
    };
    for m in &s.random_mutations {
        if let Some(t) = &m.table
            && t.get_ref() != &table
            && !routes.iter().any(|r| r.table() == t.get_ref())
        {
            return Err(RunError::File(format!(
                "{}: key `table`: [random_mutations] table {:?} is not a tracked table \
                 (one the routes read, or [supabase] table): {}",
                m.at,
                t.get_ref(),
                tracked_tables(&table, routes).join(", ")
            )));
        }
    }
    Ok(table)
}

/// `table` and the other tables the routes read.
fn tracked_tables(table: &str, routes: &[Route]) -> Vec<String> {
    let mut out = vec![table.to_string()];
    for r in routes {
        if !out.iter().any(|t| t == r.table()) {
            out.push(r.table().to_string());
        }
    }
    out
}

/// Every table and column the routes and random mutations name must exist in the database.
fn check_routes_against_db(
    sim: &Sim,
    s: &Scenario,
    routes: &[Route],
    table: &str,
) -> Result<(), RunError> {
    let tables = sim.db_tables();
    let unknown = |at: &str, key: &str, t: &str| {
        RunError::File(format!(
            "{at}: key `{key}`: unknown table {t:?}; the database has {tables:?}"
        ))
    };
    if routes.is_empty() && !s.random_mutations.is_empty() && !tables.iter().any(|t| t == table) {
        return Err(unknown(&s.random_mutations[0].at, "table", table));
    }
    for r in routes {
        let t = r.table();
        if !tables.iter().any(|x| x == t) {
            return Err(unknown(&r.at, "sql", t));
        }
        for (key, col) in r.columns() {
            if !sim.db_has_column(t, col) {
                return Err(RunError::File(format!(
                    "{}: key `{key}`: table {t:?} has no column {col:?} (route {})",
                    r.at,
                    r.pattern.text()
                )));
            }
        }
    }
    for m in &s.random_mutations {
        let t = m.table.as_ref().map_or(table, |t| t.get_ref().as_str());
        if !tables.iter().any(|x| x == t) {
            return Err(unknown(&m.at, "table", t));
        }
        for col in &m.columns {
            if !sim.db_has_column(t, col) {
                return Err(RunError::File(format!(
                    "{}: key `columns`: [random_mutations] table {t:?} has no column {col:?}",
                    m.at
                )));
            }
        }
    }
    Ok(())
}

/// The paths workload `w` requests: its `paths`, plus its routes with their parameters drawn
/// from the tables' rows at the start ([`Tracker::route_paths`]: every value a parameter's
/// column holds and one it does not; pages up to the first empty one).
fn workload_paths(sim: &Sim, w: &WorkloadSpec, routes: &[Route]) -> Result<Vec<String>, RunError> {
    let mut paths = w.paths.clone();
    let chosen: Vec<&Route> = match &w.routes {
        None | Some(RouteSelect::All(false)) => return Ok(paths),
        Some(RouteSelect::All(true)) => routes.iter().collect(),
        Some(RouteSelect::Patterns(ps)) => {
            let mut out = Vec::new();
            for p in ps {
                let r = routes.iter().find(|r| r.pattern.text() == p).ok_or_else(|| {
                    RunError::File(format!(
                        "workload key `routes`: no declared route has the path {p:?} (routes: {})",
                        routes
                            .iter()
                            .map(|r| r.pattern.text())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
                out.push(r);
            }
            out
        }
    };
    if chosen.is_empty() {
        return Err(RunError::File(
            "workload key `routes`: the scenario and the project declare no routes".into(),
        ));
    }
    let history = sim.history();
    for r in chosen {
        paths.extend(sim.tracker().route_paths(r, &history, false));
    }
    Ok(paths)
}

/// A ported workload's paths ([`crate::port`]): the course paths no declared route matches
/// give way to every declared route's paths; a note says which.
fn ported_paths(
    sim: &Sim,
    w: &WorkloadSpec,
    routes: &[Route],
    notes: &mut Vec<String>,
) -> Result<Vec<String>, RunError> {
    let Some(kept) = crate::port::kept_paths(&w.paths, routes) else {
        return workload_paths(sim, w, routes);
    };
    let history = sim.history();
    let mut paths = kept;
    for r in routes {
        paths.extend(sim.tracker().route_paths(r, &history, false));
    }
    let note = format!(
        "the scenario's course paths {} match no route of the project; its workload requests \
         the project's routes ({}) instead, and its writes to `{}` go to the project's table",
        w.paths
            .iter()
            .filter(|p| crate::routes::route_for_path(routes, p).is_none())
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        routes
            .iter()
            .map(|r| r.pattern.text())
            .collect::<Vec<_>>()
            .join(", "),
        crate::port::COURSE_TABLE
    );
    if !notes.contains(&note) {
        notes.push(note);
    }
    Ok(paths)
}

/// Writes the scenario's `[[kv.seed]]` keys to central storage before the run starts.
fn seed_kv(sim: &Sim, s: &Scenario) -> Result<(), RunError> {
    for k in &s.kv.seed {
        let binding = k.binding.get_ref();
        let ns = sim.kv_store().namespace(binding).map_err(|e| {
            RunError::File(format!(
                "[[kv.seed]] binding {binding:?}: {e} (the Worker binds {:?})",
                sim.kv_store().namespaces()
            ))
        })?;
        let opts = edgesim_kv::PutOptions {
            expiration: None,
            expiration_ttl: k.expiration_ttl,
            metadata: k
                .metadata
                .as_ref()
                .and_then(|m| serde_json::to_value(m).ok()),
        };
        ns.put_central(&k.key, k.value.as_bytes().to_vec(), &opts)
            .map_err(|e| RunError::File(format!("[[kv.seed]] key {:?}: {e}", k.key)))?;
    }
    Ok(())
}

/// The staleness bounds of a run of `s` that logged `events`: the scenario's where it states
/// them, else derived per KV key from what the log shows the Worker did (its reads' cacheTtl,
/// its writes' expiration, its retries: [`crate::phases::observe`]) and the scenario's KV
/// propagation, webhook delay, Supabase and colo latencies. Any Worker, Rust or JS, embedded
/// or not, is judged the same way.
pub fn bounds_of(s: &Scenario, events: &[Event], tracker: &Tracker) -> StalenessBounds {
    let mut b = StalenessBounds::derive(observe(events, tracker), model_times(s));
    if let Some(x) = s.expect.fault_free_staleness_s {
        b.state_fault_free(secs_to_ms(x));
    }
    if let Some(x) = s.expect.under_faults_staleness_s {
        b.state_under_faults(secs_to_ms(x));
    }
    b
}

/// The KV model's and the topology's times in `s`.
pub fn model_times(s: &Scenario) -> ModelTimes {
    ModelTimes {
        propagation_max_ms: s.kv.propagation_ms.max,
        webhook_latency_ms: s.faults.webhooks.delay_ms.max,
        supabase_latency_ms: s.supabase.latency_ms,
        colo_latency_max_ms: s.colos.iter().map(|c| c.latency_ms).max().unwrap_or(0),
    }
}

/// About how many events the workload of `s` logs in `ms`: a request start, its end and about one
/// KV call per request (a hint for [`crate::events::EventLog::reserve`]; capped at 4 M events, a
/// few hundred MB, past which the log grows as usual).
fn expected_events(s: &Scenario, ms: u64) -> usize {
    let requests: f64 = s
        .workload
        .iter()
        .map(|w| w.rate_per_s * s.workload_colos(w).len() as f64 * ms as f64 / 1000.0)
        .sum();
    (requests * 3.0).clamp(0.0, 4e6) as usize + 1024
}

/// How fast a run went: virtual time per wall time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Speed {
    /// Virtual ms simulated.
    pub virtual_ms: u64,
    /// Wall-clock ms taken (including building the world).
    pub wall_ms: u64,
    /// Requests served.
    pub requests: u64,
    /// `virtual_ms / wall_ms`.
    pub ratio: f64,
}

/// Runs the scenario at `path` once (its own Worker) and measures the virtual-to-wall ratio.
/// The benchmark calls it with `fixtures/scenarios/standard.toml` (1 virtual hour, 5 colos,
/// 10 req/s per colo, a DB update every minute); `edgesim run <file> --json` prints the same
/// `virtual_ms` and `wall_ms`.
pub fn virtual_to_wall(path: &std::path::Path, seed: u64) -> Result<Speed, RunError> {
    let s = Scenario::load(path)?;
    let r = run(&s, seed, None)?;
    let wall_ms = r.wall_ms.max(1);
    Ok(Speed {
        virtual_ms: r.virtual_ms,
        wall_ms,
        requests: r.requests,
        ratio: r.virtual_ms as f64 / wall_ms as f64,
    })
}

/// When the last fault window closed, the last write committed, and the last webhook settled.
pub fn healed_at(events: &[Event]) -> u64 {
    events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::FaultEnd { .. }
                    | EventKind::DbCommit { .. }
                    | EventKind::WebhookDelivered { .. }
                    | EventKind::WebhookDropped { .. }
            )
        })
        .map(|e| e.t_ms)
        .max()
        .unwrap_or(0)
}

/// Installs the scenario's faults through the public [`Sim`] API.
fn install_faults(sim: &mut Sim, s: &Scenario) {
    let sec = |x: f64| Duration::from_millis(secs_to_ms(x));
    for f in &s.faults.kv {
        let fault = KvFault {
            kind: f.kind,
            rate: f.rate,
            latency_ms: f.latency_ms,
            op: f.op.clone(),
            colo: f.colo.as_ref().map(|c| c.get_ref().clone()),
            key_prefix: f.key_prefix.clone(),
        };
        sim.kv_fault(fault, sec(f.from_s), sec(*f.to_s.get_ref()));
    }
    for p in &s.faults.partition {
        sim.partition_between(p.colo.get_ref(), sec(p.from_s), sec(*p.to_s.get_ref()));
    }
    for f in &s.faults.supabase {
        let fault = SupabaseFault {
            kind: f.kind,
            rate: f.rate,
            status: f.status,
            latency_ms: f.latency_ms,
        };
        sim.supabase_fault(fault, sec(f.from_s), sec(*f.to_s.get_ref()));
    }
    let w = &s.faults.webhooks;
    sim.webhook_faults_between(
        w.clone(),
        sec(w.from_s.unwrap_or(0.0)),
        Duration::from_millis(w.to_s.map_or(s.duration_ms(), secs_to_ms)),
    );
}

/// Schedules the scripted and random mutations through the public [`Sim`] API.
/// Schedules the scripted and random mutations; when the scenario is `ported`
/// ([`crate::port`]), scripted writes to the course's table become the same writes to the
/// project's tracked table.
fn schedule_mutations(sim: &mut Sim, s: &Scenario, ported: bool) {
    let mut scripted: Vec<_> = s.mutations.iter().collect();
    scripted.sort_by_key(|m| secs_to_ms(m.at_s));
    for m in scripted {
        let ov = Override {
            fate: m.webhook,
            delay_ms: m.webhook_delay_ms,
        };
        let at = Duration::from_millis(secs_to_ms(m.at_s));
        match crate::port::course_write(&m.sql).filter(|_| ported) {
            Some(w) => sim.ported_write_at(at, w, &m.sql, ov),
            None => sim.sql_at(at, &m.sql, ov),
        }
    }
    for (i, r) in s.random_mutations.iter().enumerate() {
        let until = r
            .until_s
            .map_or(s.duration_ms(), secs_to_ms)
            .min(s.duration_ms());
        sim.random_mutations(RandomMutations {
            every: Duration::from_millis(secs_to_ms(r.every_s)),
            until: Duration::from_millis(until),
            insert: r.insert,
            delete: r.delete,
            columns: r.columns.clone(),
            table: r.table.as_ref().map(|t| t.get_ref().clone()),
            stream: i,
            role: r.role.as_ref().map(|x| x.get_ref().clone()),
            user: r.user.as_ref().map(|x| x.get_ref().clone()),
        });
    }
}
