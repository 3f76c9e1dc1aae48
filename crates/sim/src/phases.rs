//! The phases of a run and the staleness bounds that apply in them.
//!
//! A run splits into **fault-free stretches**, **fault windows** and the **healed phase** (after
//! the last fault closed and the last write settled). Fault windows come from the event log:
//! every KV, partition and Supabase fault window (`fault_start`/`fault_end`), and, for webhooks,
//! each delivery that a fault actually hit: a dropped one, a duplicated one, or one that arrived
//! later than the webhook latency (held back or scripted late). A window of *possible* random
//! webhook faults is not itself a fault: only the deliveries it hit are.
//!
//! A superseded state served in a fault-free stretch must be gone within the **fault-free
//! bound**: the read's cacheTtl + KV propagation + webhook latency (+ the Worker's own retry
//! budget and a few round trips of processing). Where a fault is active while the Worker should
//! have been catching up (from the supersession until the fault-free bound ran out; a fault
//! starting later cannot explain missing it), the **under-faults bound** applies: what the Worker's safety net promises, its expirationTtl
//! + cacheTtl (+ the same allowances). A scenario may state either bound instead.

use crate::events::{Event, EventKind};
use crate::track::Tracker;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One window during which a fault was active.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultWindow {
    /// Start, virtual ms since the start of the run.
    pub from_ms: u64,
    /// End (inclusive; `u64::MAX` when it never closed).
    pub to_ms: u64,
    /// What it was, e.g. `kv 429 p=0.5 on put at all colos` or `webhook #3 dropped`.
    pub name: String,
    /// The row it concerns (webhook faults); `None`: every key.
    pub row: Option<String>,
}

impl FaultWindow {
    /// Whether this window overlaps `[from, to]` and concerns `row` (`None`: the list, which
    /// every row's change reaches).
    pub fn hits(&self, row: Option<&str>, from: u64, to: u64) -> bool {
        let relevant = match (&self.row, row) {
            (Some(mine), Some(r)) => mine == r,
            _ => true,
        };
        relevant && self.from_ms <= to && self.to_ms >= from
    }
}

/// Whether a fault window is a configured window of possible random webhook faults (those
/// count per delivery instead).
fn is_random_webhook_window(name: &str) -> bool {
    name.starts_with("webhooks ")
}

/// Every fault window of a run. `webhook_latency_ms`: a delivery arriving later than this after
/// it was sent counts as late.
pub fn fault_windows(events: &[Event], webhook_latency_ms: u64) -> Vec<FaultWindow> {
    let mut open: Vec<(u64, &str)> = Vec::new();
    let mut out = Vec::new();
    for e in events {
        match &e.kind {
            EventKind::FaultStart { fault } if !is_random_webhook_window(fault) => {
                open.push((e.t_ms, fault));
            }
            EventKind::FaultEnd { fault } => {
                if let Some(i) = open.iter().position(|(_, f)| *f == fault.as_str()) {
                    let (from, name) = open.remove(i);
                    out.push(FaultWindow {
                        from_ms: from,
                        to_ms: e.t_ms,
                        name: name.to_string(),
                        row: None,
                    });
                }
            }
            EventKind::WebhookDropped { delivery, row_id } => out.push(FaultWindow {
                from_ms: e.t_ms,
                to_ms: e.t_ms,
                name: format!("webhook #{delivery} for id={row_id} dropped"),
                row: Some(row_id.clone()),
            }),
            EventKind::WebhookDuplicated {
                delivery,
                row_id,
                deliver_at_ms,
            } => out.push(FaultWindow {
                from_ms: e.t_ms,
                to_ms: (*deliver_at_ms).max(e.t_ms),
                name: format!("webhook #{delivery} for id={row_id} duplicated"),
                row: Some(row_id.clone()),
            }),
            EventKind::WebhookSent {
                delivery,
                row_id,
                deliver_at_ms,
                ..
            } if deliver_at_ms.saturating_sub(e.t_ms) > webhook_latency_ms => {
                out.push(FaultWindow {
                    from_ms: e.t_ms,
                    to_ms: *deliver_at_ms,
                    name: format!(
                        "webhook #{delivery} for id={row_id} late by {} ms",
                        deliver_at_ms - e.t_ms
                    ),
                    row: Some(row_id.clone()),
                });
            }
            _ => {}
        }
    }
    for (from, name) in open {
        out.push(FaultWindow {
            from_ms: from,
            to_ms: u64::MAX,
            name: name.to_string(),
            row: None,
        });
    }
    out.sort_by(|a, b| (a.from_ms, a.to_ms, &a.name).cmp(&(b.from_ms, b.to_ms, &b.name)));
    out
}

/// Which part of a run a stretch of time belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    /// No fault active.
    FaultFree,
    /// At least one fault active.
    Faults,
    /// After the last fault closed and the last write settled.
    Healed,
}

/// A stretch of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    /// What kind.
    pub kind: PhaseKind,
    /// Start, virtual ms.
    pub from_ms: u64,
    /// End, virtual ms.
    pub to_ms: u64,
}

/// The run split into fault-free stretches, fault windows and the healed phase from `healed_ms`
/// to `end_ms`.
pub fn phases(windows: &[FaultWindow], healed_ms: u64, end_ms: u64) -> Vec<Phase> {
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for w in windows {
        let (a, b) = (w.from_ms.min(healed_ms), w.to_ms.min(healed_ms));
        if b <= a {
            // An instant (a dropped webhook): it makes the stale reads it explains fall under
            // faults, but splits no stretch.
            continue;
        }
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let mut out = Vec::new();
    let mut t = 0;
    for (a, b) in merged {
        if a > t {
            out.push(Phase {
                kind: PhaseKind::FaultFree,
                from_ms: t,
                to_ms: a,
            });
        }
        out.push(Phase {
            kind: PhaseKind::Faults,
            from_ms: a,
            to_ms: b,
        });
        t = t.max(b);
    }
    if healed_ms > t {
        out.push(Phase {
            kind: PhaseKind::FaultFree,
            from_ms: t,
            to_ms: healed_ms,
        });
    }
    out.push(Phase {
        kind: PhaseKind::Healed,
        from_ms: healed_ms,
        to_ms: end_ms.max(healed_ms),
    });
    out
}

/// Where a bound came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundSource {
    /// Derived from the KV model and what the event log shows the Worker did; the text says how.
    Derived(String),
    /// Stated by the scenario file.
    Scenario,
}

/// The KV default cacheTtl, seconds: the fallback for a key the log shows no read of (and no
/// read at all), as a read without `cacheTtl` uses.
pub const DEFAULT_CACHE_TTL_S: u64 = edgesim_kv::limits::DEFAULT_CACHE_TTL_S;

/// What the event log shows the Worker did with one KV key (or, merged, with every key).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUse {
    /// Successful reads that recorded their cacheTtl.
    pub reads: u64,
    /// The largest cacheTtl they used, seconds.
    pub cache_ttl_s: Option<u64>,
    /// Successful puts.
    pub puts: u64,
    /// Those that set an expiry (`expiration` or `expirationTtl`).
    pub expiring_puts: u64,
    /// The longest a put's value lived before expiring, ms after the put.
    pub expires_in_max_ms: Option<u64>,
    /// Retries seen: a failed write that a later successful write of the key at the same colo
    /// made good, with no new cause to write in between (see [`observe`]).
    pub retries: u64,
    /// The longest such retry, ms from the first failed attempt to the success.
    pub retry_max_ms: u64,
    /// Successful writes made while a Cron Trigger ran (between its `scheduledTime` and its
    /// `scheduled` event): the key is refreshed by cron, so a change may wait a cron interval.
    #[serde(default)]
    pub cron_writes: u64,
}

impl KeyUse {
    /// The expiry every put promised, in whole seconds (KV keeps expiry in epoch seconds):
    /// `None` when no put was seen, or one put's value never expires.
    pub fn expiration_ttl_s(&self) -> Option<u64> {
        if self.puts == 0 || self.expiring_puts < self.puts {
            return None;
        }
        self.expires_in_max_ms.map(|m| m.div_ceil(1000))
    }

    fn merge(&mut self, o: &KeyUse) {
        self.reads += o.reads;
        self.cache_ttl_s = self.cache_ttl_s.max(o.cache_ttl_s);
        self.puts += o.puts;
        self.expiring_puts += o.expiring_puts;
        self.expires_in_max_ms = self.expires_in_max_ms.max(o.expires_in_max_ms);
        self.retries += o.retries;
        self.retry_max_ms = self.retry_max_ms.max(o.retry_max_ms);
        self.cron_writes += o.cron_writes;
    }

    fn is_empty(&self) -> bool {
        self.reads == 0 && self.puts == 0 && self.retries == 0
    }
}

impl fmt::Display for KeyUse {
    /// `cacheTtl 30 s (12 reads), expirationTtl 120 s (3 writes), retries ≤ 1.000s (1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cache_ttl_s {
            Some(t) => write!(f, "cacheTtl {t} s ({} reads)", self.reads)?,
            None => f.write_str("no reads")?,
        }
        match (self.puts, self.expiration_ttl_s()) {
            (0, _) => f.write_str(", no writes")?,
            (n, Some(t)) => write!(f, ", expirationTtl {t} s ({n} writes)")?,
            (n, None) => write!(f, ", no expiry ({} of {n} writes)", n - self.expiring_puts)?,
        }
        if self.retries > 0 {
            write!(
                f,
                ", retries ≤ {} ({})",
                crate::check::ms(self.retry_max_ms),
                self.retries
            )?;
        }
        if self.cron_writes > 0 {
            write!(f, ", {} writes by cron", self.cron_writes)?;
        }
        Ok(())
    }
}

/// What the event log shows about every KV key, and about all of them together.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// Per KV key.
    pub keys: BTreeMap<String, KeyUse>,
    /// Every key merged: the fallback for a key with no observation of its own.
    pub all: KeyUse,
    /// Cron Trigger runs in the log.
    #[serde(default)]
    pub cron_runs: u64,
    /// The longest wait for the next run: the largest gap between consecutive `scheduledTime`s
    /// of one cron expression, or from the start of the run to its first, ms.
    #[serde(default)]
    pub cron_interval_max_ms: u64,
}

/// Reads what the Worker did with each KV key from `events`:
///
/// - a successful read's `cache_ttl_s` (the cacheTtl it used; the largest counts);
/// - a successful put's `expires_in_ms` (from `expiration`/`expirationTtl`); a put without
///   one means that key's values may never expire;
/// - **retries**: a failed write (put or delete) of a key at a colo, then a successful write of
///   it at the same colo, is one retry lasting from the first failure to the success, unless a
///   new cause to write came in between: a webhook delivery concerning the key (its row, any
///   row for the list path or a key the tracker does not know), or a read of the key at that
///   colo that found nothing or failed (the next write is then a fresh fill, not a retry);
/// - **cron**: a successful write made while a Cron Trigger ran (between its `scheduledTime`
///   and its `scheduled` event) marks the key as refreshed by cron; the longest gap between
///   runs of one cron expression is how long a change may wait for the next run.
///
/// KV operations from outside any Worker (at KV central, not a colo) count too: their
/// values are served like the Worker's.
pub fn observe(events: &[Event], tracker: &Tracker) -> Observed {
    // Cron runs: when each ran (from its scheduledTime to its event), per expression.
    let mut cron_windows: Vec<(u64, u64)> = Vec::new();
    let mut cron_times: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for e in events {
        if let EventKind::Scheduled {
            cron, scheduled_ms, ..
        } = &e.kind
        {
            cron_windows.push((*scheduled_ms, e.t_ms));
            cron_times.entry(cron).or_default().push(*scheduled_ms);
        }
    }
    let by_cron = |t: u64| cron_windows.iter().any(|&(a, b)| a <= t && t <= b);
    let mut keys: BTreeMap<&str, KeyUse> = BTreeMap::new();
    // (colo, key) → when the first failed attempt of the open retry chain was.
    let mut open: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for e in events {
        match &e.kind {
            EventKind::Kv {
                colo,
                op,
                key,
                version,
                outcome,
                cache_ttl_s,
                expires_in_ms,
            } => {
                let failed = outcome.starts_with("error");
                let u = keys.entry(key).or_default();
                match &**op {
                    "put" | "delete" if failed => {
                        open.entry((colo, key)).or_insert(e.t_ms);
                    }
                    "put" | "delete" => {
                        if let Some(t0) = open.remove(&(&**colo, &**key)) {
                            u.retries += 1;
                            u.retry_max_ms = u.retry_max_ms.max(e.t_ms - t0);
                        }
                        if by_cron(e.t_ms) {
                            u.cron_writes += 1;
                        }
                        if &**op == "put" {
                            u.puts += 1;
                            if let Some(x) = expires_in_ms {
                                u.expiring_puts += 1;
                                u.expires_in_max_ms = u.expires_in_max_ms.max(Some(*x));
                            }
                        }
                    }
                    "get" | "getwithmetadata" | "getbulk" => {
                        if failed || version.is_none() {
                            open.remove(&(&**colo, &**key));
                        }
                        if !failed && let Some(t) = cache_ttl_s {
                            u.reads += 1;
                            u.cache_ttl_s = u.cache_ttl_s.max(Some(*t));
                        }
                    }
                    _ => {}
                }
            }
            EventKind::WebhookDelivered { row_id, .. } => {
                open.retain(|(_, key), _| match tracker.resource_of_key(key) {
                    Some(crate::track::Resource::Row(id)) => id != *row_id,
                    _ => false,
                });
            }
            _ => {}
        }
    }
    let mut out = Observed {
        cron_runs: cron_windows.len() as u64,
        ..Observed::default()
    };
    for times in cron_times.values_mut() {
        times.sort_unstable();
        let mut prev = 0;
        for &t in times.iter() {
            out.cron_interval_max_ms = out.cron_interval_max_ms.max(t - prev);
            prev = t;
        }
    }
    for (k, u) in keys {
        if u.is_empty() {
            continue;
        }
        out.all.merge(&u);
        out.keys.insert(k.to_string(), u);
    }
    out
}

/// One key's staleness bounds, ms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyBounds {
    /// How long a superseded state may be served when no fault overlaps its staleness.
    pub fault_free_ms: u64,
    /// How long when a fault does (`None`: no promise).
    pub under_faults_ms: Option<u64>,
}

/// The staleness bounds of a run, in virtual ms: per KV key (a tracked path is its own key)
/// from what the log shows of that key, and run-wide (the loosest: every key's observations
/// merged) for a path whose key the log shows nothing of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StalenessBounds {
    /// How long a superseded state may be served when no fault overlaps its staleness.
    pub fault_free_ms: u64,
    /// Where `fault_free_ms` came from.
    pub fault_free_source: BoundSource,
    /// How long when a fault does (`None`: the Worker promises nothing; not checked).
    pub under_faults_ms: Option<u64>,
    /// Where `under_faults_ms` came from.
    pub under_faults_source: BoundSource,
    /// A delivery arriving later than this after it was sent is a (late-webhook) fault.
    pub webhook_latency_ms: u64,
    /// Each observed key's own bounds (derived ones only; a stated bound applies to every key).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, KeyBounds>,
    /// What the log showed and the model times, when derived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<(Observed, ModelTimes)>,
}

/// The inputs of [`StalenessBounds::derive`] that come from the KV model and the topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelTimes {
    /// Slowest KV propagation to central, ms.
    pub propagation_max_ms: u64,
    /// Slowest webhook network delay, ms.
    pub webhook_latency_ms: u64,
    /// One-way latency to Supabase, ms.
    pub supabase_latency_ms: u64,
    /// Slowest colo's one-way latency to KV central, ms.
    pub colo_latency_max_ms: u64,
}

impl ModelTimes {
    /// The KV model's and demo world's defaults (propagation ≤ 500 ms, webhook delay ≤ 50 ms,
    /// Supabase in-process, colos ≤ 30 ms from central): for a log checked without its scenario.
    pub const DEFAULTS: ModelTimes = ModelTimes {
        propagation_max_ms: 500,
        webhook_latency_ms: 50,
        supabase_latency_ms: 0,
        colo_latency_max_ms: 30,
    };
}

/// Round trips (to Supabase or KV central) a revalidation takes: refetch, write and verify the
/// row, then the list.
const SYNC_ROUND_TRIPS: u64 = 8;

/// One key's (or the run's) inputs and the bounds they give.
fn key_bounds(
    u: &KeyUse,
    fallback: &KeyUse,
    cron_interval_ms: u64,
    times: ModelTimes,
) -> (KeyBounds, String, String) {
    let (cache_s, cache_how) = match (u.cache_ttl_s, fallback.cache_ttl_s) {
        (Some(t), _) => (t, format!("cacheTtl {t}s")),
        (None, Some(t)) => (t, format!("cacheTtl {t}s (other keys' reads)")),
        (None, None) => (
            DEFAULT_CACHE_TTL_S,
            format!("cacheTtl {DEFAULT_CACHE_TTL_S}s (KV default: no read seen)"),
        ),
    };
    // A key nobody wrote: what the other keys' writes promise.
    let writes = if u.puts > 0 { u } else { fallback };
    let retry_ms = if u.is_empty() {
        fallback.retry_max_ms
    } else {
        u.retry_max_ms
    };
    let processing = SYNC_ROUND_TRIPS * 2 * (times.supabase_latency_ms + times.colo_latency_max_ms);
    // A key cron refreshes may wait for the next run.
    let cron_ms = if u.cron_writes > 0 || (u.is_empty() && fallback.cron_writes > 0) {
        cron_interval_ms
    } else {
        0
    };
    let fault_free_ms = cache_s * 1000
        + times.propagation_max_ms
        + times.webhook_latency_ms
        + cron_ms
        + retry_ms
        + processing;
    let cron_how = if cron_ms > 0 {
        format!(" + cron interval {}", crate::check::ms(cron_ms))
    } else {
        String::new()
    };
    let ff_how = format!(
        "{cache_how} + propagation {} + webhook latency {}{cron_how} + retries {} + processing {}",
        crate::check::ms(times.propagation_max_ms),
        crate::check::ms(times.webhook_latency_ms),
        crate::check::ms(retry_ms),
        crate::check::ms(processing),
    );
    let (under_faults_ms, uf_how) = match writes.expiration_ttl_s() {
        Some(exp) => (
            Some(exp * 1000 + fault_free_ms),
            format!("expirationTtl {exp}s + {cache_how} + the same allowances"),
        ),
        None if writes.puts == 0 => (None, "no write seen: no promise".to_string()),
        None => (None, "a write without expiry: no promise".to_string()),
    };
    (
        KeyBounds {
            fault_free_ms,
            under_faults_ms,
        },
        ff_how,
        uf_how,
    )
}

impl StalenessBounds {
    /// The bounds of a Worker that did what `observed` shows, in a world with `times`: per key,
    /// its reads' largest cacheTtl (else the other keys', else the KV default, 60 s) +
    /// propagation + webhook latency + its longest retry + processing; under faults, plus the
    /// expirationTtl every put of it set (no promise if one put set none). The run-wide bounds
    /// come from every key merged.
    pub fn derive(observed: Observed, times: ModelTimes) -> Self {
        let cron = observed.cron_interval_max_ms;
        let (all, ff_how, uf_how) = key_bounds(&observed.all, &observed.all, cron, times);
        let keys = observed
            .keys
            .iter()
            .map(|(k, u)| (k.clone(), key_bounds(u, &observed.all, cron, times).0))
            .collect();
        Self {
            fault_free_ms: all.fault_free_ms,
            fault_free_source: BoundSource::Derived(ff_how),
            under_faults_ms: all.under_faults_ms,
            under_faults_source: BoundSource::Derived(uf_how),
            webhook_latency_ms: times.webhook_latency_ms,
            keys,
            observed: Some((observed, times)),
        }
    }

    /// Bounds a scenario or the command line states, the same for every key.
    pub fn stated(
        fault_free_ms: u64,
        under_faults_ms: Option<u64>,
        webhook_latency_ms: u64,
    ) -> Self {
        Self {
            fault_free_ms,
            fault_free_source: BoundSource::Scenario,
            under_faults_ms,
            under_faults_source: BoundSource::Scenario,
            webhook_latency_ms,
            keys: BTreeMap::new(),
            observed: None,
        }
    }

    /// States the fault-free bound for every key.
    pub fn state_fault_free(&mut self, ms: u64) {
        self.fault_free_ms = ms;
        self.fault_free_source = BoundSource::Scenario;
    }

    /// States the under-faults bound for every key.
    pub fn state_under_faults(&mut self, ms: u64) {
        self.under_faults_ms = Some(ms);
        self.under_faults_source = BoundSource::Scenario;
    }

    /// The (fault-free, under-faults) bounds of the path or KV key `key`: its own when derived
    /// and observed, else the run-wide ones.
    pub fn for_key(&self, key: &str) -> (u64, Option<u64>) {
        let key = key.split('?').next().unwrap_or(key);
        let own = self.keys.get(key);
        let ff = match (&self.fault_free_source, own) {
            (BoundSource::Derived(_), Some(k)) => k.fault_free_ms,
            _ => self.fault_free_ms,
        };
        let uf = match (&self.under_faults_source, own) {
            (BoundSource::Derived(_), Some(k)) => k.under_faults_ms,
            _ => self.under_faults_ms,
        };
        (ff, uf)
    }

    /// What the bounds were derived from, one line: `bounds observed: /articles/2 cacheTtl 30 s
    /// (12 reads), expirationTtl 120 s (3 writes); propagation ≤ 500 ms; webhook delay ≤ 50 ms`.
    /// `None` when nothing was derived.
    pub fn observed_text(&self) -> Option<String> {
        let (o, t) = self.observed.as_ref()?;
        let mut parts: Vec<String> = o.keys.iter().map(|(k, u)| format!("{k} {u}")).collect();
        if parts.is_empty() {
            parts.push("no KV read or write of any key".into());
        }
        parts.push(format!("propagation ≤ {} ms", t.propagation_max_ms));
        parts.push(format!("webhook delay ≤ {} ms", t.webhook_latency_ms));
        if o.cron_runs > 0 {
            parts.push(format!(
                "cron every ≤ {} s ({} runs)",
                o.cron_interval_max_ms.div_ceil(1000),
                o.cron_runs
            ));
        }
        Some(format!("bounds observed: {}", parts.join("; ")))
    }
}

impl fmt::Display for StalenessBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let src = |s: &BoundSource| match s {
            BoundSource::Derived(how) => format!("derived: {how}"),
            BoundSource::Scenario => "stated by the scenario".into(),
        };
        write!(
            f,
            "fault-free {} ({}); under faults ",
            crate::check::ms(self.fault_free_ms),
            src(&self.fault_free_source)
        )?;
        match self.under_faults_ms {
            Some(b) => write!(f, "{}", crate::check::ms(b))?,
            None => f.write_str("unbounded")?,
        }
        write!(f, " ({})", src(&self.under_faults_source))
    }
}

/// Which bound a staleness check used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppliedBound {
    /// No fault overlapped the stale interval.
    FaultFree,
    /// A fault did.
    UnderFaults,
    /// The scenario's flat `max_staleness_s`.
    Flat,
}

impl fmt::Display for AppliedBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AppliedBound::FaultFree => "fault-free bound",
            AppliedBound::UnderFaults => "under-faults bound",
            AppliedBound::Flat => "max_staleness_s",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t_ms: u64, kind: EventKind) -> Event {
        Event { t_ms, kind }
    }

    #[test]
    fn windows_and_phases() {
        let events = vec![
            ev(
                1_000,
                EventKind::FaultStart {
                    fault: "webhooks drop=0.5 duplicate=0 reorder=0".into(),
                },
            ),
            ev(
                2_000,
                EventKind::FaultStart {
                    fault: "partition SYD from KV central".into(),
                },
            ),
            ev(
                3_000,
                EventKind::WebhookSent {
                    delivery: 1,
                    event: "UPDATE".into(),
                    row_id: "2".into(),
                    db_version: 1,
                    deliver_at_ms: 7_000,
                },
            ),
            ev(
                4_000,
                EventKind::FaultEnd {
                    fault: "partition SYD from KV central".into(),
                },
            ),
            ev(
                9_000,
                EventKind::WebhookDropped {
                    delivery: 2,
                    row_id: "3".into(),
                },
            ),
        ];
        let w = fault_windows(&events, 50);
        let names: Vec<&str> = w.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "partition SYD from KV central",
                "webhook #1 for id=2 late by 4000 ms",
                "webhook #2 for id=3 dropped"
            ]
        );
        assert!(w[1].hits(Some("2"), 6_000, 8_000));
        assert!(!w[1].hits(Some("3"), 6_000, 8_000));
        assert!(w[1].hits(None, 6_000, 8_000));
        let p = phases(&w, 10_000, 20_000);
        let kinds: Vec<(PhaseKind, u64, u64)> =
            p.iter().map(|p| (p.kind, p.from_ms, p.to_ms)).collect();
        assert_eq!(
            kinds,
            [
                (PhaseKind::FaultFree, 0, 2_000),
                (PhaseKind::Faults, 2_000, 7_000),
                (PhaseKind::FaultFree, 7_000, 10_000),
                (PhaseKind::Healed, 10_000, 20_000),
            ]
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn kv(
        t_ms: u64,
        colo: &str,
        op: &str,
        key: &str,
        version: Option<u64>,
        outcome: &str,
        cache_ttl_s: Option<u64>,
        expires_in_ms: Option<u64>,
    ) -> Event {
        ev(
            t_ms,
            EventKind::Kv {
                colo: colo.into(),
                op: op.into(),
                key: key.into(),
                version,
                outcome: outcome.into(),
                cache_ttl_s,
                expires_in_ms,
            },
        )
    }

    fn delivered(t_ms: u64, row: &str) -> Event {
        ev(
            t_ms,
            EventKind::WebhookDelivered {
                delivery: t_ms,
                row_id: row.into(),
                colo: "FRA".into(),
                status: 200,
            },
        )
    }

    const TIMES: ModelTimes = ModelTimes {
        propagation_max_ms: 500,
        webhook_latency_ms: 50,
        supabase_latency_ms: 0,
        colo_latency_max_ms: 30,
    };

    #[test]
    fn bounds_come_from_each_keys_reads_writes_and_retries() {
        let err = "error: KV PUT failed: 429 Too Many Requests";
        let row = "/articles/2";
        let events = vec![
            kv(1_000, "SYD", "get", row, Some(1), "hit", Some(30), None),
            kv(2_000, "FRA", "get", row, Some(1), "miss", Some(45), None),
            kv(3_000, "FRA", "put", row, Some(2), "ok", None, Some(119_400)),
            kv(3_500, "FRA", "put", "/articles", Some(3), "ok", None, None),
            // A retry: two failures, then the success 3 s after the first.
            kv(5_000, "FRA", "put", row, None, err, None, None),
            kv(6_000, "FRA", "put", row, None, err, None, None),
            kv(8_000, "FRA", "put", row, Some(4), "ok", None, Some(120_000)),
            // Not a retry: a webhook (any row concerns the list) came in between.
            kv(10_000, "SYD", "put", "/articles", None, err, None, None),
            delivered(10_500, "3"),
            kv(11_000, "SYD", "put", "/articles", Some(5), "ok", None, None),
            // Not a retry: the key read as missing at that colo; the put is a fresh fill.
            kv(12_000, "SYD", "put", row, None, err, None, None),
            kv(12_500, "SYD", "get", row, None, "miss", Some(30), None),
            kv(
                13_000,
                "SYD",
                "put",
                row,
                Some(6),
                "ok",
                None,
                Some(120_000),
            ),
            // A retry: another row's webhook does not concern this key.
            kv(14_000, "SYD", "put", row, None, err, None, None),
            delivered(14_100, "1"),
            kv(
                15_000,
                "SYD",
                "put",
                row,
                Some(7),
                "ok",
                None,
                Some(119_001),
            ),
            // A failed read records no cacheTtl.
            kv(
                16_000,
                "SYD",
                "get",
                row,
                None,
                "error: KV GET failed: 503",
                None,
                None,
            ),
        ];
        let o = observe(&events, &Tracker::new("articles"));
        let u = &o.keys[row];
        assert_eq!((u.reads, u.cache_ttl_s), (3, Some(45)));
        assert_eq!(
            (u.puts, u.expiring_puts, u.expiration_ttl_s()),
            (4, 4, Some(120))
        );
        assert_eq!((u.retries, u.retry_max_ms), (2, 3_000));
        let l = &o.keys["/articles"];
        assert_eq!(
            (l.reads, l.puts, l.expiration_ttl_s(), l.retries),
            (0, 2, None, 0)
        );
        assert_eq!(
            u.to_string(),
            "cacheTtl 45 s (3 reads), expirationTtl 120 s (4 writes), retries ≤ 3.000s (2)"
        );
        assert_eq!(l.to_string(), "no reads, no expiry (2 of 2 writes)");

        let b = StalenessBounds::derive(o, TIMES);
        let row_ff = 45_000 + 500 + 50 + 3_000 + 480;
        assert_eq!(b.for_key(row), (row_ff, Some(120_000 + row_ff)));
        // The list: no read of its own (the other keys' cacheTtl), a put without expiry.
        assert_eq!(b.for_key("/articles"), (45_000 + 500 + 50 + 480, None));
        // A key the log never shows: the run-wide bounds, every key merged.
        assert_eq!(b.for_key("/articles/9?x=1"), (row_ff, None));
        assert!(b.to_string().contains("cacheTtl 45s"), "{b}");
        let text = b.observed_text().unwrap();
        assert!(
            text.starts_with("bounds observed: /articles no reads, no expiry (2 of 2 writes); /articles/2 cacheTtl 45 s"),
            "{text}"
        );
        assert!(
            text.ends_with("; propagation ≤ 500 ms; webhook delay ≤ 50 ms"),
            "{text}"
        );
        // A stated bound applies to every key.
        let mut s = b.clone();
        s.state_fault_free(1_000);
        assert_eq!(s.for_key(row), (1_000, Some(120_000 + row_ff)));
        s.state_under_faults(2_000);
        assert_eq!(s.for_key("/articles"), (1_000, Some(2_000)));
    }

    #[test]
    fn a_key_cron_refreshes_may_wait_a_cron_interval() {
        let scheduled = |t_ms, at| {
            ev(
                t_ms,
                EventKind::Scheduled {
                    cron: "* * * * *".into(),
                    scheduled_ms: at,
                    outcome: "ok".into(),
                },
            )
        };
        let events = vec![
            kv(
                30_000,
                "SYD",
                "get",
                "/articles",
                Some(1),
                "hit",
                Some(30),
                None,
            ),
            kv(60_010, "SYD", "put", "/articles", Some(2), "ok", None, None),
            scheduled(60_020, 60_000),
            kv(
                61_000,
                "SYD",
                "put",
                "/articles/1",
                Some(3),
                "ok",
                None,
                None,
            ),
            scheduled(120_030, 120_000),
        ];
        let o = observe(&events, &Tracker::new("articles"));
        assert_eq!((o.cron_runs, o.cron_interval_max_ms), (2, 60_000));
        assert_eq!(o.keys["/articles"].cron_writes, 1);
        assert_eq!(o.keys["/articles/1"].cron_writes, 0);
        let b = StalenessBounds::derive(o, TIMES);
        let base = 30_000 + 500 + 50 + 480;
        assert_eq!(b.for_key("/articles").0, base + 60_000);
        assert_eq!(b.for_key("/articles/1").0, base);
        assert!(
            b.observed_text()
                .unwrap()
                .ends_with("; cron every ≤ 60 s (2 runs)"),
            "{:?}",
            b.observed_text()
        );
    }

    #[test]
    fn without_observations_the_kv_defaults_apply() {
        let b = StalenessBounds::derive(Observed::default(), TIMES);
        assert_eq!(b.for_key("/articles/1"), (60_000 + 500 + 50 + 480, None));
        assert!(b.to_string().contains("KV default"), "{b}");
        assert_eq!(
            b.observed_text().unwrap(),
            "bounds observed: no KV read or write of any key; propagation ≤ 500 ms; webhook delay ≤ 50 ms"
        );
    }
}
