//! Runs a [`Scenario`] for one seed: chaos phase (workload, mutations, faults), healed phase,
//! probe, checks. Same scenario + seed + variant → byte-identical event log.

use crate::check::{Expectations, Violation, check};
use crate::core::{Core, WebhookPlan, lock};
use crate::events::{Event, EventKind, Origin, digest_of, render_text};
use crate::faults::Override;
use crate::history::DbHistory;
use crate::scenario::{FaultKind, Outcome, Scenario, Variant, secs_to_ms};
use crate::sim::{BuildError, Sim, SimBuilder};
use crate::upstream::SupabaseFaultRule;
use bytes::Bytes;
use edgesim_core::{SimRng, VIRTUAL_EPOCH_MS};
use edgesim_kv::{FaultEffect, FaultRule, OpKind};
use edgesim_workers::{Worker, WorkerSpec};
use serde::Serialize;
use std::sync::Arc;
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
    /// Violated expectations, with witnesses.
    pub violations: Vec<Violation>,
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
        .supabase_latency_ms(s.supabase.latency_ms)
        .table(s.supabase.table.as_deref().unwrap_or("articles"));
    if let Some(c) = &s.worker.webhook_colo {
        b = b.webhook_colo(c.get_ref());
    }
    if let Some(p) = &s.supabase.project {
        b = b.supabase_project(s.base_dir.clone().unwrap_or_default().join(p));
    }
    let mut sim = b.build()?;
    install_faults(&sim, s);
    let duration = s.duration_ms();
    let heal = secs_to_ms(s.expect.converge_within_s);
    let core = sim.core.clone();
    core.log.reserve(expected_events(s, duration + heal));
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    sim.block_on({
        let core = core.clone();
        let s = s.clone();
        let errors = errors.clone();
        async move {
            spawn_fault_markers(&core, &s);
            spawn_mutations(&core, &s, seed, errors);
            spawn_workload(&core, &s, seed, duration + heal);
        }
    });
    sim.advance(Duration::from_millis(duration + heal));
    if let Some((at_s, message)) = lock(&errors).first().cloned() {
        return Err(RunError::Mutation { at_s, message });
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
        .any(|p| sim.tracker().resource(p).is_some());
    if tracked {
        sim.probe();
    }
    // The run is over: move the log out rather than copy it.
    let events = sim.core.log.take();
    let history = sim.history();
    let exp = Expectations {
        converge_within_ms: heal,
        max_staleness_ms: s.expect.max_staleness_s.map(secs_to_ms),
        no_phantoms: s.expect.no_phantoms,
    };
    let violations = check(&events, &history, sim.tracker(), &exp, healed_ms);
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
        expected: variant.map(|v| match v {
            Variant::Course => s.expect.outcome.course,
            Variant::Hardened => s.expect.outcome.hardened,
        }),
        digest: digest_of(&events),
        virtual_ms: sim.now().as_millis() as u64,
        wall_ms: wall.elapsed().as_millis() as u64,
        healed_ms,
        deadline_ms: healed_ms + heal,
        requests,
        event_count: events.len(),
        colos: sim.colos(),
        events,
        history: Some(history),
    })
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

fn install_faults(sim: &Sim, s: &Scenario) {
    let core = &sim.core;
    let faults = core.kv.faults();
    let at = |sec: f64| VIRTUAL_EPOCH_MS + secs_to_ms(sec);
    for f in &s.faults.kv {
        let effect = match f.kind {
            FaultKind::TooMany => FaultEffect::TooManyRequests,
            FaultKind::ServerError => FaultEffect::ServerError { status: 503 },
            FaultKind::Latency => FaultEffect::ExtraLatency { ms: f.latency_ms },
        };
        let ops = match f.op.as_deref() {
            Some("get") => vec![OpKind::Get, OpKind::GetWithMetadata, OpKind::GetBulk],
            Some("put") => vec![OpKind::Put],
            Some("delete") => vec![OpKind::Delete],
            Some("list") => vec![OpKind::List],
            _ => Vec::new(),
        };
        faults.fail(FaultRule {
            ops,
            colo: f.colo.as_ref().map(|c| c.get_ref().clone()),
            key_prefix: f.key_prefix.clone(),
            probability: f.rate,
            from_ms: at(f.from_s),
            to_ms: at(*f.to_s.get_ref()),
            effect,
        });
    }
    for p in &s.faults.partition {
        faults.partition(p.colo.get_ref(), at(p.from_s), at(*p.to_s.get_ref()));
    }
    *lock(&core.upstream_faults.rules) = s
        .faults
        .supabase
        .iter()
        .map(|f| SupabaseFaultRule {
            kind: f.kind,
            rate: f.rate,
            status: match f.kind {
                FaultKind::TooMany => 429,
                _ => f.status.unwrap_or(503),
            },
            latency_ms: f.latency_ms,
            from_ms: secs_to_ms(f.from_s),
            to_ms: secs_to_ms(*f.to_s.get_ref()),
        })
        .collect();
    let w = &s.faults.webhooks;
    *lock(&core.webhooks) = WebhookPlan {
        faults: w.clone(),
        window: (
            secs_to_ms(w.from_s.unwrap_or(0.0)),
            w.to_s.map_or(s.duration_ms(), secs_to_ms),
        ),
    };
}

/// Logs FaultStart/FaultEnd at each window's edges, in a fixed order.
fn spawn_fault_markers(core: &Arc<Core>, s: &Scenario) {
    let mut marks: Vec<(u64, u64, String)> = Vec::new();
    for f in &s.faults.kv {
        let kind = match f.kind {
            FaultKind::TooMany => "429".to_string(),
            FaultKind::ServerError => "503".to_string(),
            FaultKind::Latency => format!("+{}ms", f.latency_ms),
        };
        let scope = f
            .colo
            .as_ref()
            .map_or("all colos".into(), |c| c.get_ref().clone());
        let mut op = f.op.clone().unwrap_or_else(|| "any op".into());
        if let Some(p) = &f.key_prefix {
            op.push_str(&format!(" of {p}*"));
        }
        marks.push((
            secs_to_ms(f.from_s),
            secs_to_ms(*f.to_s.get_ref()),
            format!("kv {kind} p={} on {op} at {scope}", f.rate),
        ));
    }
    for p in &s.faults.partition {
        marks.push((
            secs_to_ms(p.from_s),
            secs_to_ms(*p.to_s.get_ref()),
            format!("partition {} from KV central", p.colo.get_ref()),
        ));
    }
    for f in &s.faults.supabase {
        marks.push((
            secs_to_ms(f.from_s),
            secs_to_ms(*f.to_s.get_ref()),
            match f.kind {
                FaultKind::Latency => format!("supabase +{}ms p={}", f.latency_ms, f.rate),
                FaultKind::TooMany => format!("supabase 429 p={}", f.rate),
                FaultKind::ServerError => {
                    format!("supabase {} p={}", f.status.unwrap_or(503), f.rate)
                }
            },
        ));
    }
    let w = &s.faults.webhooks;
    if w.drop > 0.0 || w.duplicate > 0.0 || w.reorder > 0.0 {
        marks.push((
            secs_to_ms(w.from_s.unwrap_or(0.0)),
            w.to_s.map_or(s.duration_ms(), secs_to_ms),
            format!(
                "webhooks drop={} duplicate={} reorder={}",
                w.drop, w.duplicate, w.reorder
            ),
        ));
    }
    for (from, to, name) in marks {
        let core = core.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(core.clock.instant_at(VIRTUAL_EPOCH_MS + from)).await;
            core.log.push(EventKind::FaultStart {
                fault: name.clone(),
            });
            tokio::time::sleep_until(core.clock.instant_at(VIRTUAL_EPOCH_MS + to)).await;
            core.log.push(EventKind::FaultEnd { fault: name });
        });
    }
}

type Errors = Arc<std::sync::Mutex<Vec<(f64, String)>>>;

fn spawn_mutations(core: &Arc<Core>, s: &Scenario, seed: u64, errors: Errors) {
    let mut scripted: Vec<(u64, String, Override, f64)> = s
        .mutations
        .iter()
        .map(|m| {
            let ov = Override {
                fate: m.webhook,
                delay_ms: m.webhook_delay_ms,
            };
            (secs_to_ms(m.at_s), m.sql.clone(), ov, m.at_s)
        })
        .collect();
    scripted.sort_by_key(|m| m.0);
    let core2 = core.clone();
    let errors2 = errors.clone();
    tokio::spawn(async move {
        for (at, sql, ov, at_s) in scripted {
            tokio::time::sleep_until(core2.clock.instant_at(VIRTUAL_EPOCH_MS + at)).await;
            if let Err(e) = core2.execute(&sql, ov) {
                lock(&errors2).push((at_s, e.to_string()));
            }
        }
    });
    let Some(r) = s.random_mutations.clone() else {
        return;
    };
    let every = secs_to_ms(r.every_s).max(1);
    let until = r
        .until_s
        .map_or(s.duration_ms(), secs_to_ms)
        .min(s.duration_ms());
    let core = core.clone();
    let table = core.table.clone();
    let mut rng = SimRng::from_seed(seed).fork("mutations");
    tokio::spawn(async move {
        let mut t = every;
        let mut n = 0u64;
        while t <= until {
            tokio::time::sleep_until(core.clock.instant_at(VIRTUAL_EPOCH_MS + t)).await;
            n += 1;
            let ids: Vec<String> = {
                let h = lock(&core.history);
                h.row_ids()
                    .into_iter()
                    .filter(|id| h.current_row(id).is_some())
                    .collect()
            };
            let u = rng.unit();
            let tag = format!("{:08x}", rng.next_u64() as u32);
            let pick = ids
                .get(rng.range_u64(0, ids.len().max(1) as u64 - 1) as usize)
                .cloned();
            let sql = match pick {
                Some(id) if u < r.delete && ids.len() > 1 => {
                    format!("delete from {table} where id = {id}")
                }
                Some(id) if u >= r.delete + r.insert => format!(
                    "update {table} set title = 'edit {n} {tag}', content = 'content {tag}' where id = {id}"
                ),
                _ => format!(
                    "insert into {table} (title, content) values ('new {n} {tag}', 'content {tag}')"
                ),
            };
            if let Err(e) = core.execute(&sql, Override::default()) {
                lock(&errors).push((t as f64 / 1000.0, format!("{sql}: {e}")));
            }
            t += every;
        }
    });
}

fn spawn_workload(core: &Arc<Core>, s: &Scenario, seed: u64, until_ms: u64) {
    for (i, w) in s.workload.iter().enumerate() {
        for colo in s.workload_colos(w) {
            let core = core.clone();
            let paths = w.paths.clone();
            let rate = w.rate_per_s;
            let mut rng = SimRng::from_seed(seed).fork(&format!("workload/{i}/{colo}"));
            tokio::spawn(async move {
                let mut t = 0.0f64;
                loop {
                    let u = rng.unit();
                    t += -(1.0 - u).ln() / rate * 1000.0;
                    let at = t.round() as u64;
                    if at >= until_ms {
                        break;
                    }
                    let path = paths[rng.range_u64(0, paths.len() as u64 - 1) as usize].clone();
                    tokio::time::sleep_until(core.clock.instant_at(VIRTUAL_EPOCH_MS + at)).await;
                    let core = core.clone();
                    let colo = colo.clone();
                    tokio::spawn(async move {
                        let req = http::Request::get(format!("https://worker.sim{path}"))
                            .body(Bytes::new())
                            .expect("a path");
                        core.request(&colo, req, Origin::Workload).await;
                    });
                }
            });
        }
    }
}
