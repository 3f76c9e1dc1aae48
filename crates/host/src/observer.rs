//! Events the host reports as it serves, for the simulation's event log and for tests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What happened to a request's waitUntil work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitUntilOutcome {
    /// The guest finished all its work after the response.
    Completed,
    /// The work ran past [`Limits::wait_until`](crate::Limits::wait_until) and was cancelled.
    Cancelled,
    /// The guest trapped or exceeded a limit after the response (the message says which).
    Failed(String),
}

/// One thing the host did. `ray` is the request's `cf-ray` and ties events together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostEvent {
    /// A request started running at `colo`.
    RequestStart {
        /// The request's `cf-ray`.
        ray: String,
        /// Where it runs.
        colo: String,
        /// HTTP method.
        method: String,
        /// Path and query.
        path: String,
    },
    /// The response is complete (waitUntil work may still be running).
    RequestEnd {
        /// The request's `cf-ray`.
        ray: String,
        /// Where it ran.
        colo: String,
        /// HTTP method.
        method: String,
        /// Path and query.
        path: String,
        /// Response status.
        status: u16,
        /// Workers error code when the host answered with an error page (1101, 1102).
        error_code: Option<u16>,
        /// KV reads served from the colo's cache.
        kv_hits: u32,
        /// KV reads that went to central.
        kv_misses: u32,
        /// Time from start to response on tokio's clock (virtual under paused time).
        duration: Duration,
    },
    /// The client went away before the response was complete: the request is canceled
    /// (production's Trace outcome `canceled`). Its guest work runs on, watched like waitUntil
    /// work (a [`HostEvent::WaitUntilEnd`] follows).
    RequestCanceled {
        /// The request's `cf-ray`.
        ray: String,
        /// Where it ran.
        colo: String,
        /// HTTP method.
        method: String,
        /// Path and query.
        path: String,
        /// Time from start to the cancel on tokio's clock.
        duration: Duration,
    },
    /// An outgoing fetch was answered or refused.
    Fetch {
        /// The request's `cf-ray`.
        ray: String,
        /// Where the Worker ran.
        colo: String,
        /// HTTP method.
        method: String,
        /// Absolute URL.
        url: String,
        /// Response status, when there was a response.
        status: Option<u16>,
        /// Why it failed, when it did.
        error: Option<String>,
    },
    /// A KV call by the guest (name as in the binding API: `get`, `put`, ...).
    KvCall {
        /// The request's `cf-ray`.
        ray: String,
        /// Where the Worker ran.
        colo: String,
        /// Binding name (`ARTICLES`).
        binding: String,
        /// Operation.
        op: String,
        /// Key (first key for bulk gets; prefix for list).
        key: String,
        /// `hit`/`miss` for reads, `ok` for writes, or the error message.
        result: String,
    },
    /// A Cache API call by the guest (`caches.default` or `caches.open(name)`).
    CacheCall {
        /// The request's `cf-ray`.
        ray: String,
        /// The colo whose cache it used.
        colo: String,
        /// `default`, or the name given to `caches.open`.
        cache: String,
        /// `put`, `match` or `delete`.
        op: String,
        /// The cache key (the request's URL).
        url: String,
        /// `stored for N s`, `not stored: <why>`, `hit`, `hit (304)`, `miss`, `deleted`, ...
        result: String,
    },
    /// A line the guest wrote to stdout or stderr (a JavaScript Worker's `console.*` call),
    /// reported when its request (or its waitUntil work) ends.
    GuestLog {
        /// The request's `cf-ray`.
        ray: String,
        /// Where it ran.
        colo: String,
        /// `stdout` or `stderr`.
        stream: &'static str,
        /// The line, without its line break.
        line: String,
    },
    /// The request's waitUntil work ended.
    WaitUntilEnd {
        /// The request's `cf-ray`.
        ray: String,
        /// Where it ran.
        colo: String,
        /// How it ended.
        outcome: WaitUntilOutcome,
    },
}

/// Receives [`HostEvent`]s. Called synchronously on the serving task; keep it cheap.
pub trait HostObserver: Send + Sync {
    /// Records one event.
    fn event(&self, event: &HostEvent);

    /// Whether events are wanted at all; `false` lets the host skip building them (the
    /// default is `true`).
    fn enabled(&self) -> bool {
        true
    }
}

/// An observer shared by the host and every request.
pub type SharedObserver = Arc<dyn HostObserver>;

/// An observer that ignores everything.
pub struct NoopObserver;

impl HostObserver for NoopObserver {
    fn event(&self, _event: &HostEvent) {}

    fn enabled(&self) -> bool {
        false
    }
}

/// An observer that keeps every event in order (for tests and small simulations).
#[derive(Default)]
pub struct RecordingObserver(Mutex<Vec<HostEvent>>);

impl RecordingObserver {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events so far, oldest first.
    pub fn events(&self) -> Vec<HostEvent> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl HostObserver for RecordingObserver {
    fn event(&self, event: &HostEvent) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event.clone());
    }
}
