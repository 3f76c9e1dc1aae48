//! The consistency checker over a recorded history (the event log), per client session (a
//! colo). Each property is named, and each violation comes with a minimal witness:
//!
//! - **no_phantoms** (safety): every body equals some committed DB state.
//! - **bounded_staleness**: a superseded state is served no longer than the bound of the phase
//!   it was stale in ([`crate::phases`]: the fault-free bound, or the under-faults bound when a
//!   fault is active before the fault-free bound ran out), or than the scenario's flat `max_staleness_s`.
//! - **monotonic_reads**: a colo never serves an older version of a path after a newer one. The
//!   KV model allows one exception, and only one: a **read-your-writes entry ending**. The colo
//!   that wrote a key sees its own write at once; once that entry ends it reads central, which
//!   can still hold an older state if another write overtook it there. So a regression at a colo
//!   that itself wrote the key within the default cacheTtl (60 s) before the newer read is
//!   allowed. A **cache entry expiring back to an older central state** cannot happen by
//!   itself (central only moves on), so any other regression is the Worker's doing and counts.
//! - **read_your_writes**: at the colo that wrote a key, reads of it within 30 s (the minimum
//!   cacheTtl, the shortest the model keeps the writer's entry) return that write or a newer
//!   one. Checked only when the KV model promises it (`read_your_writes = 1`).
//! - **convergence** (liveness): every colo serves the current state after `healed +
//!   converge_within`.
//!
//! Which properties fail a run: phantoms (unless disabled), staleness, convergence, and the two
//! session guarantees when the scenario asks for them (`[expect] monotonic_reads = true`,
//! `read_your_writes = true`); the others are still checked and reported. Each property counts
//! the observations it checked. A run that checked nothing fails with **nothing_checked**: no
//! request to a tracked path was served a classifiable body (a committed state or a phantom),
//! or every enforced property checked zero observations. (A Worker whose routes the tracker
//! does not know, or a workload that never reaches it, would otherwise pass vacuously.)
//!
//! The staleness bounds are per path: a tracked path's KV key is the path itself (as both
//! shipped Workers and their JS twins name them), and [`StalenessBounds::for_key`] gives that
//! key's bounds, derived from what the log shows of it ([`crate::phases::observe`]).
//!
//! The checker reads only the event log: DB versions come from its `db_commit` events, so a log
//! written by `edgesim run --events` elsewhere can be checked the same way (`edgesim check`).

use crate::events::{Event, EventKind, Served};
use crate::history::DbHistory;
use crate::phases::{AppliedBound, FaultWindow, StalenessBounds, fault_windows};
use crate::track::{Resource, Tracker};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// How long the KV model keeps a writer's own entry at the least (the minimum cacheTtl).
pub const RYW_WINDOW_MS: u64 = 30_000;

/// How long after its own write a colo may still fall back to an older central state (the
/// default cacheTtl, for which the model keeps the writer's entry).
pub const RYW_ENTRY_MS: u64 = 60_000;

/// What a run must satisfy, in virtual ms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expectations {
    /// Liveness bound after the last fault heals and the last write.
    pub converge_within_ms: u64,
    /// Optional flat bound on how long a superseded state may be served.
    pub max_staleness_ms: Option<u64>,
    /// Safety: every body equals some committed state.
    pub no_phantoms: bool,
    /// The phase-aware staleness bounds (`None`: not checked).
    pub bounds: Option<StalenessBounds>,
    /// The KV model promises read-your-writes at the writing colo (its setting is 1).
    pub kv_read_your_writes: bool,
    /// Monotonic-reads violations fail the run (otherwise they are reported only).
    pub enforce_monotonic_reads: bool,
    /// Read-your-writes violations fail the run (otherwise they are reported only).
    pub enforce_read_your_writes: bool,
}

impl Default for Expectations {
    fn default() -> Self {
        Self {
            converge_within_ms: 200_000,
            max_staleness_ms: None,
            no_phantoms: true,
            bounds: None,
            kv_read_your_writes: false,
            enforce_monotonic_reads: false,
            enforce_read_your_writes: false,
        }
    }
}

/// Which property failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    /// A body equal to no committed DB state.
    Phantom,
    /// A superseded state served longer than its bound.
    Staleness,
    /// Not the current state (or an error) after `healed + converge_within`.
    Liveness,
    /// A colo served an older version after a newer one.
    MonotonicReads,
    /// The writing colo read an older value than its own write.
    ReadYourWrites,
    /// The run checked nothing: no tracked path was served, or every enforced property had
    /// nothing to check. Not a row of [`Property::ALL`]: a verdict over the run.
    NothingChecked,
}

impl Property {
    /// Every property, in report order.
    pub const ALL: [Property; 5] = [
        Property::Phantom,
        Property::Staleness,
        Property::MonotonicReads,
        Property::ReadYourWrites,
        Property::Liveness,
    ];

    /// The property's name in reports: `no_phantoms`, `bounded_staleness`, `monotonic_reads`,
    /// `read_your_writes`, `convergence`.
    pub fn name(self) -> &'static str {
        match self {
            Property::Phantom => "no_phantoms",
            Property::Staleness => "bounded_staleness",
            Property::Liveness => "convergence",
            Property::MonotonicReads => "monotonic_reads",
            Property::ReadYourWrites => "read_your_writes",
            Property::NothingChecked => "nothing_checked",
        }
    }
}

/// A violated property and its minimal witness.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    /// The property.
    pub property: Property,
    /// The colo (session) where it showed.
    pub colo: String,
    /// The path requested (for read-your-writes: the KV key).
    pub path: String,
    /// What it served (for read-your-writes: the KV version read; error when none).
    pub served: Served,
    /// The DB version current when it was served (for monotonic reads: the newer version served
    /// before; for read-your-writes: the KV version the colo wrote).
    pub current: u64,
    /// First time (virtual ms) this colo served this state of this path in the offending run.
    pub from_ms: u64,
    /// Last time it did.
    pub to_ms: u64,
    /// When the served state was superseded in the DB, if it was.
    pub superseded_ms: Option<u64>,
    /// For staleness: which bound applied, and its value in ms.
    pub bound: Option<(AppliedBound, u64)>,
    /// The fault windows that overlap the offending interval (their names).
    pub during: Vec<String>,
    /// The events that show it: the reads, writes, commits and deliveries.
    pub witness: Vec<Event>,
    /// The events that explain it: the commit(s) it missed and the faults that hit this key or colo.
    pub causes: Vec<Event>,
    /// For `nothing_checked`: what was missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Violation {
    /// A `nothing_checked` verdict saying what was missing.
    fn nothing_checked(detail: String) -> Self {
        Violation {
            property: Property::NothingChecked,
            colo: String::new(),
            path: String::new(),
            served: Served::Untracked,
            current: 0,
            from_ms: 0,
            to_ms: 0,
            superseded_ms: None,
            bound: None,
            during: Vec::new(),
            witness: Vec::new(),
            causes: Vec::new(),
            detail: Some(detail),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.property.name();
        match self.property {
            Property::NothingChecked => {
                return write!(f, "{name}: {}", self.detail.as_deref().unwrap_or_default());
            }
            Property::Phantom if self.detail.is_some() => {
                return write!(f, "{name}: {}", self.detail.as_deref().unwrap_or_default());
            }
            Property::MonotonicReads => write!(
                f,
                "{name}: {} {} served {} at t={} after serving v{} at t={}",
                self.colo,
                self.path,
                self.served,
                ms(self.to_ms),
                self.current,
                ms(self.from_ms)
            )?,
            Property::ReadYourWrites => write!(
                f,
                "{name}: {} read KV {:?} as {} at t={} after writing it as KV v{} at t={}",
                self.colo,
                self.path,
                match self.served {
                    Served::Version(v) => format!("KV v{v}"),
                    _ => "missing".to_string(),
                },
                ms(self.to_ms),
                self.current,
                ms(self.from_ms)
            )?,
            _ => {
                let what = match self.property {
                    Property::Phantom => "served a phantom value",
                    Property::Staleness => "served a stale value for too long",
                    _ => "did not converge",
                };
                write!(
                    f,
                    "{name}: {} {} {what}: {} while the DB was at v{}, from t={} to t={}",
                    self.colo,
                    self.path,
                    self.served,
                    self.current,
                    ms(self.from_ms),
                    ms(self.to_ms)
                )?;
                if let Some(s) = self.superseded_ms {
                    write!(f, " (superseded at t={})", ms(s))?;
                }
                if let Some((b, limit)) = self.bound {
                    write!(f, " [{b}: {}]", ms(limit))?;
                }
            }
        }
        if !self.during.is_empty() {
            write!(f, "\n    during: {}", self.during.join("; "))?;
        }
        for w in &self.witness {
            write!(f, "\n    witness: {w}")?;
        }
        for c in &self.causes {
            write!(f, "\n    because: {c}")?;
        }
        Ok(())
    }
}

/// `12.345s`.
pub fn ms(t: u64) -> String {
    format!("{}.{:03}s", t / 1000, t % 1000)
}

/// Whether a property held, failed, or was not checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "why")]
pub enum Status {
    /// Checked; no violation.
    Holds,
    /// Checked; at least one violation.
    Violated,
    /// Not checked, and why.
    NotChecked(String),
}

/// One property's verdict over a run: the per-property row of the reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PropertyReport {
    /// The property.
    pub property: Property,
    /// Its name (as [`Property::name`]).
    pub name: &'static str,
    /// The verdict.
    pub status: Status,
    /// Whether a violation fails the run.
    pub enforced: bool,
    /// How many (colo, path) pairs violate it.
    pub violations: usize,
    /// How many observations it checked: served bodies (no_phantoms), served versions
    /// (bounded_staleness), reads after an earlier one at the same colo and path
    /// (monotonic_reads), KV reads within the window after the colo's own write
    /// (read_your_writes), requests after the convergence deadline (convergence).
    pub checked: usize,
    /// The first violation: its minimal witness.
    pub witness: Option<Violation>,
}

/// Everything the checker found.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CheckReport {
    /// One row per property, in [`Property::ALL`] order.
    pub properties: Vec<PropertyReport>,
    /// Every violation of every property, enforced or not (and `nothing_checked`, if so).
    pub all: Vec<Violation>,
    /// Why the run checked nothing, when it did not (a `nothing_checked` violation is in `all`).
    pub nothing_checked: Option<String>,
}

impl CheckReport {
    /// The violations that fail the run.
    pub fn enforced(&self) -> Vec<Violation> {
        let mut on: Vec<Property> = self
            .properties
            .iter()
            .filter(|p| p.enforced)
            .map(|p| p.property)
            .collect();
        on.push(Property::NothingChecked);
        self.all
            .iter()
            .filter(|v| on.contains(&v.property))
            .cloned()
            .collect()
    }

    /// The row of `p`.
    pub fn get(&self, p: Property) -> Option<&PropertyReport> {
        self.properties.iter().find(|r| r.property == p)
    }
}

/// DB versions over time, as the log's `db_commit` events record them (version 0 at t=0).
#[derive(Clone, Debug, Default)]
pub struct Versions {
    rows: BTreeMap<String, Vec<(u64, u64)>>,
    list: Vec<(u64, u64)>,
    /// The commits of each other table the routes read ([`Resource::Table`]).
    tables: BTreeMap<String, Vec<(u64, u64)>>,
}

impl Versions {
    /// Reads the commits of `events` (one tracked table).
    pub fn from_events(events: &[Event]) -> Self {
        Self::from_events_for(events, &[])
    }

    /// Reads the commits of `events`; those of `others` (the other tables the routes read) are
    /// kept apart from the tracked table's.
    pub fn from_events_for(events: &[Event], others: &[String]) -> Self {
        let mut v = Versions {
            rows: BTreeMap::new(),
            list: vec![(0, 0)],
            tables: others.iter().map(|t| (t.clone(), vec![(0, 0)])).collect(),
        };
        for e in events {
            if let EventKind::DbCommit {
                version,
                row_id,
                table,
                ..
            } = &e.kind
            {
                if let Some(t) = v.tables.get_mut(table) {
                    t.push((*version, e.t_ms));
                    continue;
                }
                v.rows
                    .entry(row_id.clone())
                    .or_insert_with(|| vec![(0, 0)])
                    .push((*version, e.t_ms));
                v.list.push((*version, e.t_ms));
            }
        }
        v
    }

    fn states(&self, res: &Resource) -> &[(u64, u64)] {
        const INITIAL: &[(u64, u64)] = &[(0, 0)];
        match res {
            Resource::List => &self.list,
            Resource::Row(id) => self.rows.get(id).map_or(INITIAL, Vec::as_slice),
            Resource::Table(t) => self.tables.get(t).map_or(INITIAL, Vec::as_slice),
        }
    }

    /// The version of `res` current at `t_ms`.
    pub fn current_at(&self, res: &Resource, t_ms: u64) -> u64 {
        self.states(res)
            .iter()
            .rev()
            .find(|s| s.1 <= t_ms)
            .map_or(0, |s| s.0)
    }

    /// When the state at `version` of `res` stopped being current.
    pub fn superseded_at(&self, res: &Resource, version: u64) -> Option<u64> {
        let states = self.states(res);
        let i = states.iter().rposition(|s| s.0 <= version)?;
        states.get(i + 1).map(|s| s.1)
    }
}

struct Served1<'a> {
    idx_start: Option<usize>,
    idx_end: usize,
    t_start: u64,
    t_end: u64,
    colo: &'a str,
    path: &'a str,
    served: Served,
}

/// Runs every checker and returns the violations that fail the run. `healed_ms`: when the last
/// fault healed and the last write committed. (`history` is not needed: the log's commits say
/// everything; it is kept for callers.)
pub fn check(
    events: &[Event],
    _history: &DbHistory,
    tracker: &Tracker,
    exp: &Expectations,
    healed_ms: u64,
) -> Vec<Violation> {
    check_all(events, tracker, exp, healed_ms).enforced()
}

/// Runs every checker over `events` and reports each property.
pub fn check_all(
    events: &[Event],
    tracker: &Tracker,
    exp: &Expectations,
    healed_ms: u64,
) -> CheckReport {
    let versions = Versions::from_events_for(events, &tracker.other_tables());
    let windows = match &exp.bounds {
        Some(b) => fault_windows(events, b.webhook_latency_ms),
        None => Vec::new(),
    };
    let mut starts = BTreeMap::new();
    let mut served: Vec<Served1<'_>> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        match &e.kind {
            EventKind::RequestStart { id, .. } => {
                starts.insert(*id, (i, e.t_ms));
            }
            EventKind::RequestEnd {
                id,
                colo,
                path,
                served: s,
                ..
            } if *s != Served::Untracked => {
                let start = starts.get(id).copied();
                served.push(Served1 {
                    idx_start: start.map(|s| s.0),
                    idx_end: i,
                    t_start: start.map_or(e.t_ms, |s| s.1),
                    t_end: e.t_ms,
                    colo,
                    path,
                    served: *s,
                })
            }
            _ => {}
        }
    }
    // One violation per (property, colo, path): the first offending request.
    let mut found: BTreeMap<(Property, String, String), Violation> = BTreeMap::new();
    let deadline = healed_ms + exp.converge_within_ms;
    let mut newest: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    // Observations checked, per property (in [`Property::ALL`] order by `slot`).
    let mut checked = [0usize; 5];
    let slot = |p: Property| Property::ALL.iter().position(|&q| q == p).unwrap_or(0);
    for (i, r) in served.iter().enumerate() {
        let Some(res) = tracker.resource(r.path) else {
            continue;
        };
        if matches!(r.served, Served::Version(_) | Served::Phantom) {
            checked[slot(Property::Phantom)] += 1;
        }
        if matches!(r.served, Served::Version(_)) {
            checked[slot(Property::Staleness)] += 1;
        }
        if r.t_start >= deadline && r.served != Served::Untracked {
            checked[slot(Property::Liveness)] += 1;
        }
        let row = match &res {
            Resource::Row(id) => Some(id.as_str()),
            Resource::List | Resource::Table(_) => None,
        };
        let current = versions.current_at(&res, r.t_end);
        let mut flag = |p: Property,
                        sup: Option<u64>,
                        bound: Option<(AppliedBound, u64)>,
                        during: Vec<String>| {
            let key = (p, r.colo.to_string(), r.path.to_string());
            found.entry(key).or_insert_with(|| {
                let (from_ms, to_ms) = run_bounds(&served, i);
                let mut witness = Vec::new();
                if let Some(s) = sup {
                    witness.extend(commit_at(events, row, s));
                }
                witness.extend(request_events(events, r));
                Violation {
                    property: p,
                    colo: r.colo.to_string(),
                    path: r.path.to_string(),
                    served: r.served,
                    current,
                    from_ms,
                    to_ms,
                    superseded_ms: sup,
                    bound,
                    during,
                    witness,
                    causes: causes(events, tracker, &res, r.colo, r.path, r.served, sup),
                    detail: None,
                }
            });
        };
        match r.served {
            Served::Phantom if exp.no_phantoms => flag(Property::Phantom, None, None, Vec::new()),
            Served::Version(v) if v != current => {
                let sup = versions.superseded_at(&res, v);
                if let Some(s) = sup {
                    let age = r.t_end.saturating_sub(s);
                    if let Some(max) = exp.max_staleness_ms
                        && age > max
                    {
                        flag(
                            Property::Staleness,
                            sup,
                            Some((AppliedBound::Flat, max)),
                            Vec::new(),
                        );
                    }
                    if let Some(b) = &exp.bounds {
                        // This path's own bounds (its KV key's), else the run-wide ones.
                        let (fault_free_ms, under_faults_ms) = b.for_key(&tracker.kv_key(r.path));
                        // Only a fault active while the Worker should have been catching
                        // up (from the supersession until the fault-free bound ran out) can
                        // explain missing that bound: one starting later excuses nothing.
                        let catch_up_by = s.saturating_add(fault_free_ms).min(r.t_end);
                        let during = overlapping(&windows, row, s, catch_up_by);
                        let applied = if during.is_empty() {
                            Some((AppliedBound::FaultFree, fault_free_ms))
                        } else {
                            under_faults_ms.map(|m| (AppliedBound::UnderFaults, m))
                        };
                        if let Some((kind, limit)) = applied
                            && age > limit
                        {
                            flag(Property::Staleness, sup, Some((kind, limit)), during);
                        }
                    }
                }
                if r.t_start >= deadline {
                    let during = overlapping(&windows, row, sup.unwrap_or(0), r.t_end);
                    flag(Property::Liveness, sup, None, during);
                }
            }
            Served::Error if r.t_start >= deadline => {
                flag(Property::Liveness, None, None, Vec::new())
            }
            _ => {}
        }
        // Monotonic reads, per (colo, path).
        if let Served::Version(v) = r.served {
            let key = (r.colo, r.path);
            if newest.contains_key(&key) {
                checked[slot(Property::MonotonicReads)] += 1;
            }
            match newest.get(&key).map(|&j| (j, &served[j])) {
                Some((j, hi)) if matches!(hi.served, Served::Version(h) if h > v) => {
                    let Served::Version(h) = hi.served else {
                        continue;
                    };
                    if !own_write_before(events, r.colo, r.path, hi.t_end) {
                        let k = (
                            Property::MonotonicReads,
                            r.colo.to_string(),
                            r.path.to_string(),
                        );
                        found.entry(k).or_insert_with(|| {
                            let mut witness = request_events(events, hi);
                            witness.extend(request_events(events, r));
                            Violation {
                                property: Property::MonotonicReads,
                                colo: r.colo.to_string(),
                                path: r.path.to_string(),
                                served: r.served,
                                current: h,
                                from_ms: served[j].t_end,
                                to_ms: r.t_end,
                                superseded_ms: versions.superseded_at(&res, v),
                                bound: None,
                                during: overlapping(&windows, row, hi.t_end, r.t_end),
                                witness,
                                causes: causes(
                                    events,
                                    tracker,
                                    &res,
                                    r.colo,
                                    r.path,
                                    r.served,
                                    Some(hi.t_end),
                                ),
                                detail: None,
                            }
                        });
                    }
                }
                Some(_) => {
                    newest.insert(key, i);
                }
                None => {
                    newest.insert(key, i);
                }
            }
        }
    }
    if exp.kv_read_your_writes {
        let (violations, n) = read_your_writes(events);
        checked[slot(Property::ReadYourWrites)] = n;
        for v in violations {
            found
                .entry((Property::ReadYourWrites, v.colo.clone(), v.path.clone()))
                .or_insert(v);
        }
    }
    // A route whose bodies could not be mapped: once per route, as such (its bodies counted
    // as phantoms, never as fresh).
    for (pattern, path, why, n) in tracker.unmapped() {
        if !exp.no_phantoms {
            break;
        }
        let mut v = Violation::nothing_checked(format!(
            "route {pattern}: {n} bod{} could not be mapped onto its rows, first at {path}: {why}",
            if n == 1 { "y" } else { "ies" }
        ));
        v.property = Property::Phantom;
        v.path = pattern.clone();
        v.colo = "*".into();
        v.served = Served::Phantom;
        found.insert((Property::Phantom, "*".into(), pattern), v);
    }
    let mut all: Vec<Violation> = found.into_values().collect();
    let properties: Vec<PropertyReport> = Property::ALL
        .iter()
        .map(|&p| {
            let mine: Vec<&Violation> = all.iter().filter(|v| v.property == p).collect();
            let (status, enforced) = match p {
                Property::Phantom if !exp.no_phantoms => (
                    Status::NotChecked("the scenario sets no_phantoms = false".into()),
                    false,
                ),
                Property::Staleness if exp.bounds.is_none() && exp.max_staleness_ms.is_none() => {
                    (Status::NotChecked("no staleness bound".into()), false)
                }
                Property::ReadYourWrites if !exp.kv_read_your_writes => (
                    Status::NotChecked(
                        "the KV model does not promise it (read_your_writes < 1)".into(),
                    ),
                    false,
                ),
                _ => (
                    if mine.is_empty() {
                        Status::Holds
                    } else {
                        Status::Violated
                    },
                    match p {
                        Property::MonotonicReads => exp.enforce_monotonic_reads,
                        Property::ReadYourWrites => exp.enforce_read_your_writes,
                        _ => true,
                    },
                ),
            };
            PropertyReport {
                property: p,
                name: p.name(),
                status,
                enforced,
                violations: mine.len(),
                checked: checked[slot(p)],
                witness: mine.first().map(|v| (*v).clone()),
            }
        })
        .collect();
    let nothing_checked = nothing_checked(&properties, checked[slot(Property::Phantom)], tracker);
    if let Some(why) = &nothing_checked {
        all.push(Violation::nothing_checked(why.clone()));
    }
    CheckReport {
        properties,
        all,
        nothing_checked,
    }
}

/// Why a run checked nothing, if it did not: no request to a tracked path was served a
/// classifiable body (`bodies` is how many were), or every enforced property checked zero
/// observations.
fn nothing_checked(
    properties: &[PropertyReport],
    bodies: usize,
    tracker: &Tracker,
) -> Option<String> {
    if bodies == 0 {
        let list = tracker.describe();
        return Some(format!(
            "no request to a tracked path ({list}) was served a committed state or a phantom: \
             the workload reaches none, or the Worker answers them with errors or bodies of another shape"
        ));
    }
    let enforced: Vec<&PropertyReport> = properties
        .iter()
        .filter(|p| p.enforced && !matches!(p.status, Status::NotChecked(_)))
        .collect();
    if enforced.iter().all(|p| p.checked == 0) {
        let names: Vec<&str> = enforced.iter().map(|p| p.name).collect();
        return Some(format!(
            "no enforced property had anything to check ({} checked 0 observations)",
            if names.is_empty() {
                "none is enforced; every one".to_string()
            } else {
                names.join(", ")
            }
        ));
    }
    None
}

/// The names of the fault windows that concern `row` and overlap `[from, to]`.
fn overlapping(windows: &[FaultWindow], row: Option<&str>, from: u64, to: u64) -> Vec<String> {
    windows
        .iter()
        .filter(|w| w.hits(row, from, to))
        .map(|w| w.name.clone())
        .collect()
}

/// The request's start and end events.
fn request_events(events: &[Event], r: &Served1<'_>) -> Vec<Event> {
    r.idx_start
        .into_iter()
        .chain([r.idx_end])
        .map(|i| events[i].clone())
        .collect()
}

/// The commit at `t_ms` of `row` (any row for the list).
fn commit_at(events: &[Event], row: Option<&str>, t_ms: u64) -> Option<Event> {
    events
        .iter()
        .find(|e| {
            e.t_ms == t_ms
                && matches!(&e.kind, EventKind::DbCommit { row_id, .. }
                    if row.is_none_or(|r| r == row_id.as_str()))
        })
        .cloned()
}

/// Whether `colo` wrote KV key `key` (the Worker's key for the path) within [`RYW_ENTRY_MS`]
/// before `t_ms`: the model's read-your-writes exception to monotonic reads.
fn own_write_before(events: &[Event], colo: &str, key: &str, t_ms: u64) -> bool {
    events.iter().any(|e| {
        e.t_ms <= t_ms
            && e.t_ms + RYW_ENTRY_MS >= t_ms
            && matches!(&e.kind, EventKind::Kv { colo: c, op, key: k, outcome, .. }
                if &**c == colo && &**k == key && (&**op == "put" || &**op == "delete")
                    && !outcome.starts_with("error"))
    })
}

/// Read-your-writes at the writing colo: a read of a key there within [`RYW_WINDOW_MS`] of the
/// colo's own successful write returns that write's version or a newer one. Also returns how
/// many reads it checked.
fn read_your_writes(events: &[Event]) -> (Vec<Violation>, usize) {
    let mut checked = 0;
    let mut last_write: BTreeMap<(&str, &str), (usize, u64, Option<u64>)> = BTreeMap::new();
    let mut out: BTreeMap<(String, String), Violation> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let EventKind::Kv {
            colo,
            op,
            key,
            version,
            outcome,
            ..
        } = &e.kind
        else {
            continue;
        };
        if outcome.starts_with("error") {
            continue;
        }
        match &**op {
            "put" | "delete" => {
                last_write.insert((&**colo, &**key), (i, e.t_ms, *version));
            }
            "get" | "getwithmetadata" => {
                let Some(&(wi, wt, wv)) = last_write.get(&(&**colo, &**key)) else {
                    continue;
                };
                if e.t_ms > wt + RYW_WINDOW_MS {
                    continue;
                }
                checked += 1;
                let deleted =
                    matches!(&events[wi].kind, EventKind::Kv { op, .. } if &**op == "delete");
                let ok = match (wv, version) {
                    (Some(w), Some(r)) => *r >= w,
                    (_, None) => deleted,
                    (None, Some(_)) => true,
                };
                if !ok {
                    out.entry((colo.to_string(), key.to_string()))
                        .or_insert_with(|| Violation {
                            property: Property::ReadYourWrites,
                            colo: colo.to_string(),
                            path: key.to_string(),
                            served: version.map_or(Served::Error, Served::Version),
                            current: wv.unwrap_or(0),
                            from_ms: wt,
                            to_ms: e.t_ms,
                            superseded_ms: None,
                            bound: None,
                            during: Vec::new(),
                            witness: vec![events[wi].clone(), e.clone()],
                            causes: Vec::new(),
                            detail: None,
                        });
                }
            }
            _ => {}
        }
    }
    (out.into_values().collect(), checked)
}

/// The run of consecutive requests at the same colo and path serving the same thing around `i`.
fn run_bounds(served: &[Served1<'_>], i: usize) -> (u64, u64) {
    let r = &served[i];
    let same = |o: &Served1<'_>| o.colo == r.colo && o.path == r.path;
    let mut from = r.t_end;
    for o in served[..i].iter().rev().filter(|o| same(o)) {
        if o.served != r.served {
            break;
        }
        from = o.t_end;
    }
    let mut to = r.t_end;
    for o in served[i + 1..].iter().filter(|o| same(o)) {
        if o.served != r.served {
            break;
        }
        to = o.t_end;
    }
    (from, to)
}

/// The events that explain a bad read of `res` at `colo`: commits newer than what was served,
/// webhook trouble for that row, failed KV operations on that key, and faults at that colo.
fn causes(
    events: &[Event],
    tracker: &Tracker,
    res: &Resource,
    colo: &str,
    path: &str,
    served: Served,
    superseded: Option<u64>,
) -> Vec<Event> {
    // Before the served state was superseded nothing could make it stale.
    let since = superseded.unwrap_or(0);
    let served_v = match served {
        Served::Version(v) => v,
        _ => 0,
    };
    let kv_key = tracker.kv_key(path);
    let row_matches = |id: &str| match res {
        Resource::List | Resource::Table(_) => true,
        Resource::Row(r) => r == id,
    };
    let mut out: Vec<Event> = events
        .iter()
        .filter(|e| match &e.kind {
            EventKind::FaultStart { .. } | EventKind::FaultEnd { .. } => true,
            _ => e.t_ms >= since,
        })
        .filter(|e| match &e.kind {
            EventKind::DbCommit {
                version, row_id, ..
            } => *version > served_v && row_matches(row_id),
            EventKind::WebhookDropped { row_id, .. } => row_matches(row_id),
            EventKind::WebhookDuplicated { row_id, .. } => row_matches(row_id),
            EventKind::WebhookSent { row_id, .. } | EventKind::WebhookDelivered { row_id, .. } => {
                row_matches(row_id)
            }
            EventKind::Kv {
                key, outcome, op, ..
            } => {
                (**key == *kv_key
                    || (matches!(res, Resource::List) && &**key == tracker.list_path()))
                    && &**op != "get"
                    && outcome.starts_with("error")
            }
            EventKind::FaultStart { fault } | EventKind::FaultEnd { fault } => {
                !fault.starts_with("partition") || fault.contains(colo)
            }
            EventKind::UpstreamFault { .. } => true,
            _ => false,
        })
        .cloned()
        .collect();
    // Keep the witness short: the first of each kind of upstream fault burst.
    let mut last_upstream = false;
    out.retain(|e| {
        let up = matches!(e.kind, EventKind::UpstreamFault { .. });
        let keep = !(up && last_upstream);
        last_upstream = up;
        keep
    });
    out.truncate(12);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Origin;
    use serde_json::json;

    fn ev(t_ms: u64, kind: EventKind) -> Event {
        Event { t_ms, kind }
    }

    fn req(id: u64, t: u64, colo: &str, path: &str, served: Served) -> [Event; 2] {
        [
            ev(
                t,
                EventKind::RequestStart {
                    id,
                    colo: colo.into(),
                    method: "GET".into(),
                    path: path.into(),
                    origin: Origin::Workload,
                },
            ),
            ev(
                t + 5,
                EventKind::RequestEnd {
                    id,
                    colo: colo.into(),
                    path: path.into(),
                    status: 200,
                    body_hash: "".into(),
                    served,
                },
            ),
        ]
    }

    #[test]
    fn finds_phantoms_staleness_and_non_convergence_with_witness() {
        let mut h = DbHistory::new("id", vec![json!({"id":1,"t":"a"})], 0);
        h.record(vec![json!({"id":1,"t":"b"})], 10_000);
        let tracker = Tracker::new("articles");
        let mut events = vec![
            ev(
                10_000,
                EventKind::DbCommit {
                    version: 1,
                    table: "articles".into(),
                    op: "UPDATE".into(),
                    row_id: "1".into(),
                    row_hash: String::new(),
                },
            ),
            ev(
                10_000,
                EventKind::WebhookDropped {
                    delivery: 1,
                    row_id: "1".into(),
                },
            ),
        ];
        events.extend(req(1, 1_000, "SYD", "/articles/1", Served::Version(0)));
        events.extend(req(2, 20_000, "SYD", "/articles/1", Served::Version(0)));
        events.extend(req(3, 90_000, "SYD", "/articles/1", Served::Version(0)));
        events.extend(req(4, 90_000, "FRA", "/articles/1", Served::Version(1)));
        events.extend(req(5, 30_000, "FRA", "/articles", Served::Phantom));
        events.sort_by_key(|e| e.t_ms);
        let exp = Expectations {
            converge_within_ms: 60_000,
            max_staleness_ms: Some(30_000),
            no_phantoms: true,
            ..Expectations::default()
        };
        let v = check(&events, &h, &tracker, &exp, 10_000);
        let kinds: Vec<(Property, &str, &str)> = v
            .iter()
            .map(|v| (v.property, v.colo.as_str(), v.path.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (Property::Phantom, "FRA", "/articles"),
                (Property::Staleness, "SYD", "/articles/1"),
                (Property::Liveness, "SYD", "/articles/1"),
            ]
        );
        let live = &v[2];
        assert_eq!((live.from_ms, live.to_ms), (1_005, 90_005));
        assert_eq!(live.superseded_ms, Some(10_000));
        assert!(
            live.to_string().contains("webhook_dropped #1 id=1"),
            "{live}"
        );
        // A later bound, or no staleness limit and phantoms allowed: nothing to report, but
        // then the only enforced property (convergence) had nothing to check either.
        let lax = Expectations {
            converge_within_ms: 90_000,
            max_staleness_ms: None,
            no_phantoms: false,
            ..Expectations::default()
        };
        let v = check(&events, &h, &tracker, &lax, 10_000);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].property, Property::NothingChecked);
        assert_eq!(
            v[0].to_string(),
            "nothing_checked: no enforced property had anything to check (convergence checked 0 observations)"
        );
        // One request after the deadline gives convergence something to check.
        events.extend(req(6, 101_000, "FRA", "/articles/1", Served::Version(1)));
        let r = check_all(&events, &tracker, &lax, 10_000);
        assert!(r.enforced().is_empty(), "{:?}", r.enforced());
        let checked: Vec<(&str, usize)> =
            r.properties.iter().map(|p| (p.name, p.checked)).collect();
        assert_eq!(
            checked,
            [
                ("no_phantoms", 6),
                ("bounded_staleness", 5),
                ("monotonic_reads", 3),
                ("read_your_writes", 0),
                ("convergence", 1)
            ]
        );
    }

    #[test]
    fn a_run_that_served_no_tracked_path_checked_nothing() {
        let h = DbHistory::new("id", vec![json!({"id":1})], 0);
        let tracker = Tracker::new("articles");
        let mut events = Vec::new();
        events.extend(req(1, 1_000, "SYD", "/hello", Served::Untracked));
        // A tracked path answered only with errors: no body to classify.
        events.extend(req(2, 2_000, "SYD", "/articles/1", Served::Error));
        let v = check(&events, &h, &tracker, &Expectations::default(), 0);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].property, Property::NothingChecked);
        let text = v[0].to_string();
        assert!(
            text.starts_with("nothing_checked: no request to a tracked path (/articles or /articles/<id>) was served"),
            "{text}"
        );
        let r = check_all(&events, &tracker, &Expectations::default(), 0);
        assert!(r.nothing_checked.is_some());
        // Not a row: every property's row is still there, and none is violated.
        assert_eq!(r.properties.len(), Property::ALL.len());
        assert!(r.properties.iter().all(|p| p.violations == 0));
    }

    #[test]
    fn versions_keep_each_tracked_table_apart() {
        let commit = |t, version, table: &str, row: &str| {
            ev(
                t,
                EventKind::DbCommit {
                    version,
                    table: table.into(),
                    op: "UPDATE".into(),
                    row_id: row.into(),
                    row_hash: String::new(),
                },
            )
        };
        let events = vec![
            commit(10, 1, "products", "1"),
            commit(20, 2, "categories", "1"),
            commit(30, 3, "products", "2"),
        ];
        let v = Versions::from_events_for(&events, &["categories".to_string()]);
        let cats = Resource::Table("categories".into());
        assert_eq!(
            v.current_at(&Resource::List, 25),
            1,
            "a category commit is not the list's"
        );
        assert_eq!(v.superseded_at(&Resource::List, 1), Some(30));
        assert_eq!(
            v.current_at(&Resource::Row("1".into()), 40),
            1,
            "nor row 1's"
        );
        assert_eq!(v.current_at(&cats, 15), 0);
        assert_eq!(v.current_at(&cats, 40), 2);
        assert_eq!(v.superseded_at(&cats, 0), Some(20));
        // One table (an older log, or `edgesim check` without routes): every commit counts.
        let one = Versions::from_events(&events);
        assert_eq!(one.current_at(&Resource::List, 25), 2);
    }
}
