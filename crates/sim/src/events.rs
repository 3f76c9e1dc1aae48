//! The event log: everything that happened in a run, in virtual-time order, with a stable text
//! form and a digest. Reports and checkers read only this log (plus the DB history).

use edgesim_core::SharedClock;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};

/// What a response body was, measured against the database history when it was served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "version")]
pub enum Served {
    /// Equal to the committed state of that row (or list) at DB version `v`.
    Version(u64),
    /// Equal to no committed state up to that time: a phantom value.
    Phantom,
    /// An error status (5xx, 429...): no data served.
    Error,
    /// The path is not one the checkers track.
    Untracked,
}

impl fmt::Display for Served {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Served::Version(v) => write!(f, "v{v}"),
            Served::Phantom => f.write_str("phantom"),
            Served::Error => f.write_str("error"),
            Served::Untracked => f.write_str("-"),
        }
    }
}

/// Who issued a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The scenario's generated workload.
    Workload,
    /// The convergence probe at the end of a run.
    Probe,
    /// A Database Webhook delivery.
    Webhook,
    /// A call through the harness API ([`crate::Sim::request`]).
    User,
}

/// One thing that happened. `t_ms` is virtual milliseconds since the start of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Virtual milliseconds since the run started.
    pub t_ms: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The kinds of event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A request reached the Worker at `colo`.
    RequestStart {
        id: u64,
        colo: Arc<str>,
        method: Arc<str>,
        path: Arc<str>,
        origin: Origin,
    },
    /// The Worker answered request `id`.
    RequestEnd {
        id: u64,
        colo: Arc<str>,
        path: Arc<str>,
        status: u16,
        /// First 16 hex digits of the SHA-256 of the body.
        body_hash: Arc<str>,
        served: Served,
    },
    /// A KV operation, with the version the model served or wrote (if any).
    Kv {
        colo: Arc<str>,
        op: Arc<str>,
        key: Arc<str>,
        version: Option<u64>,
        outcome: Arc<str>,
        /// The cacheTtl a successful read used, seconds (the Worker's, else the KV default).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_ttl_s: Option<u64>,
        /// How long after a successful put its value expires, ms (from the put's
        /// `expiration` or `expirationTtl`; KV keeps whole epoch seconds). `None`: never.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_in_ms: Option<u64>,
    },
    /// A committed database change: the new DB version and the row it touched.
    DbCommit {
        version: u64,
        table: String,
        op: String,
        row_id: String,
        /// Hash of the new row (empty for a delete).
        row_hash: String,
    },
    /// Supabase queued a webhook delivery; `deliver_at_ms` is when the sim will deliver it.
    WebhookSent {
        delivery: u64,
        event: String,
        row_id: String,
        db_version: u64,
        deliver_at_ms: u64,
    },
    /// A delivery was dropped by an injected fault.
    WebhookDropped { delivery: u64, row_id: String },
    /// A delivery was duplicated; the copy arrives at `deliver_at_ms`.
    WebhookDuplicated {
        delivery: u64,
        row_id: String,
        deliver_at_ms: u64,
    },
    /// A delivery reached the Worker and got `status`.
    WebhookDelivered {
        delivery: u64,
        row_id: String,
        colo: Arc<str>,
        status: u16,
    },
    /// A fault window opened.
    FaultStart { fault: String },
    /// A fault window closed.
    FaultEnd { fault: String },
    /// An injected Supabase failure answered one of the Worker's outgoing fetches.
    UpstreamFault {
        method: Arc<str>,
        path: Arc<str>,
        status: u16,
    },
    /// Free text from the harness (phase changes and the like).
    Note { text: String },
    /// A Cron Trigger ran: its expression, its `scheduledTime` (ms since the start of the run)
    /// and how it ended (`ok`, `exception`, `exceededCpu`, ...: `ScheduledStatus::as_str`).
    Scheduled {
        cron: String,
        scheduled_ms: u64,
        outcome: String,
    },
}

impl fmt::Display for Event {
    /// One line, stable across runs and versions of serde: `t=<ms> <type> k=v ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={:>9} ", self.t_ms)?;
        match &self.kind {
            EventKind::RequestStart {
                id,
                colo,
                method,
                path,
                origin,
            } => write!(
                f,
                "request_start id={id} colo={colo} {method} {path:?} origin={origin:?}"
            ),
            EventKind::RequestEnd {
                id,
                colo,
                path,
                status,
                body_hash,
                served,
            } => write!(
                f,
                "request_end id={id} colo={colo} {path:?} status={status} body={body_hash} served={served}"
            ),
            EventKind::Kv {
                colo,
                op,
                key,
                version,
                outcome,
                cache_ttl_s,
                expires_in_ms,
            } => {
                write!(f, "kv colo={colo} {op} {key:?} version=")?;
                match version {
                    Some(v) => write!(f, "v{v}")?,
                    None => f.write_str("-")?,
                }
                write!(f, " {outcome:?}")?;
                // Only when present, so a line without them reads as it always did.
                if let Some(t) = cache_ttl_s {
                    write!(f, " cache_ttl_s={t}")?;
                }
                if let Some(t) = expires_in_ms {
                    write!(f, " expires_in_ms={t}")?;
                }
                Ok(())
            }
            EventKind::DbCommit {
                version,
                table,
                op,
                row_id,
                row_hash,
            } => write!(
                f,
                "db_commit v{version} {table} {op} id={row_id} row={row_hash}"
            ),
            EventKind::WebhookSent {
                delivery,
                event,
                row_id,
                db_version,
                deliver_at_ms,
            } => write!(
                f,
                "webhook_sent #{delivery} {event} id={row_id} db=v{db_version} at={deliver_at_ms}"
            ),
            EventKind::WebhookDropped { delivery, row_id } => {
                write!(f, "webhook_dropped #{delivery} id={row_id}")
            }
            EventKind::WebhookDuplicated {
                delivery,
                row_id,
                deliver_at_ms,
            } => write!(
                f,
                "webhook_duplicated #{delivery} id={row_id} at={deliver_at_ms}"
            ),
            EventKind::WebhookDelivered {
                delivery,
                row_id,
                colo,
                status,
            } => write!(
                f,
                "webhook_delivered #{delivery} id={row_id} colo={colo} status={status}"
            ),
            EventKind::FaultStart { fault } => write!(f, "fault_start {fault:?}"),
            EventKind::FaultEnd { fault } => write!(f, "fault_end {fault:?}"),
            EventKind::UpstreamFault {
                method,
                path,
                status,
            } => write!(f, "upstream_fault {method} {path:?} status={status}"),
            EventKind::Note { text } => write!(f, "note {text:?}"),
            EventKind::Scheduled {
                cron,
                scheduled_ms,
                outcome,
            } => write!(f, "scheduled {cron:?} at={scheduled_ms} outcome={outcome}"),
        }
    }
}

/// First 16 hex digits of the SHA-256 of `bytes`.
pub fn short_hash(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The shared, append-only event log of one run. Clones share the log.
///
/// Events are stamped with the simulation clock when pushed, so the log is in virtual-time order.
/// A run logs the same few colos, paths, keys and outcomes hundreds of thousands of times, so
/// events share one copy of each text ([`EventLog::intern`]).
#[derive(Clone)]
pub struct EventLog {
    clock: SharedClock,
    start_ms: u64,
    events: Arc<Mutex<Vec<Event>>>,
    texts: Arc<Mutex<BTreeSet<Arc<str>>>>,
}

impl EventLog {
    /// An empty log whose `t_ms` counts from `start_ms` on `clock`.
    pub fn new(clock: SharedClock, start_ms: u64) -> Self {
        Self {
            clock,
            start_ms,
            events: Arc::new(Mutex::new(Vec::new())),
            texts: Arc::default(),
        }
    }

    /// The log's shared copy of `text`.
    pub fn intern(&self, text: &str) -> Arc<str> {
        let mut texts = self.texts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = texts.get(text) {
            return t.clone();
        }
        let t: Arc<str> = text.into();
        texts.insert(t.clone());
        t
    }

    /// Virtual milliseconds since the start of the run.
    pub fn now(&self) -> u64 {
        self.clock.now_ms().saturating_sub(self.start_ms)
    }

    /// Appends `kind` stamped with the current virtual time.
    pub fn push(&self, kind: EventKind) {
        let t_ms = self.now();
        self.lock().push(Event { t_ms, kind });
    }

    /// A copy of every event so far.
    pub fn snapshot(&self) -> Vec<Event> {
        self.lock().clone()
    }

    /// Runs `f` on the events so far, without copying them (the log is locked meanwhile).
    pub fn with_events<R>(&self, f: impl FnOnce(&[Event]) -> R) -> R {
        f(&self.lock())
    }

    /// Makes room for `additional` more events, so a long run's log does not copy itself as it
    /// grows.
    pub(crate) fn reserve(&self, additional: usize) {
        self.lock().reserve(additional);
    }

    /// Moves every event out, leaving the log empty (for a run that is over).
    pub(crate) fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.lock())
    }

    /// How many events so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing has been logged.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stable text form: one [`Event`] per line.
    pub fn text(&self) -> String {
        render_text(&self.lock())
    }

    /// SHA-256 (hex) of the text form: equal digests mean byte-identical logs.
    pub fn digest(&self) -> String {
        digest_of(&self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Event>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The stable text form of `events`, one line each.
pub fn render_text(events: &[Event]) -> String {
    let mut s = String::new();
    for e in events {
        s.push_str(&e.to_string());
        s.push('\n');
    }
    s
}

/// SHA-256 (hex) of [`render_text`], hashed line by line as it is rendered (a long run's text
/// is never held in memory whole).
pub fn digest_of(events: &[Event]) -> String {
    use std::fmt::Write;
    let mut hasher = HashWriter(Sha256::new());
    for e in events {
        // Writing to a hasher cannot fail.
        let _ = writeln!(hasher, "{e}");
    }
    let d = hasher.0.finalize();
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A `fmt::Write` that feeds what is written to SHA-256.
struct HashWriter(Sha256);

impl fmt::Write for HashWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgesim_core::ManualClock;

    #[test]
    fn text_form_is_stable_and_digest_tracks_it() {
        let clock = ManualClock::at_epoch_ms(1_000);
        let log = EventLog::new(Arc::new(clock.clone()), 1_000);
        log.push(EventKind::RequestStart {
            id: 1,
            colo: "SYD".into(),
            method: "GET".into(),
            path: "/articles/1".into(),
            origin: Origin::Workload,
        });
        clock.advance(std::time::Duration::from_millis(12));
        log.push(EventKind::RequestEnd {
            id: 1,
            colo: "SYD".into(),
            path: "/articles/1".into(),
            status: 200,
            body_hash: short_hash(b"{}").into(),
            served: Served::Version(3),
        });
        let text = log.text();
        assert_eq!(
            text.lines().next().unwrap(),
            "t=        0 request_start id=1 colo=SYD GET \"/articles/1\" origin=Workload"
        );
        assert!(text.contains("t=       12 request_end id=1 colo=SYD \"/articles/1\" status=200"));
        assert!(text.contains("served=v3"));
        let d1 = log.digest();
        let whole = Sha256::digest(log.text().as_bytes());
        assert_eq!(
            d1,
            whole.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        log.push(EventKind::Note { text: "x".into() });
        assert_ne!(d1, log.digest());
        // Interned texts are one shared copy; reading in place sees what a snapshot copies.
        assert!(Arc::ptr_eq(&log.intern("SYD"), &log.intern("SYD")));
        assert_eq!(log.with_events(|e| e.len()), log.snapshot().len());
        let json = serde_json::to_string(&log.snapshot()[1]).unwrap();
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, log.snapshot()[1]);
        let all = log.snapshot();
        assert_eq!(log.take(), all);
        assert!(log.is_empty());
    }
}
