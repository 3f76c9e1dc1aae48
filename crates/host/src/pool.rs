//! Instance reuse: a LIFO stack of idle instantiated Workers, as production keeps an isolate
//! warm between requests (so module globals persist from one request to the next there too).
//!
//! An instance goes back on the stack only after a `handle` call (waitUntil work included)
//! returned without a trap and without hitting a limit; a trapped, out-of-fuel, memory-capped or
//! cancelled instance is dropped. Popping the most recently returned instance keeps the choice
//! deterministic (it depends only on the order calls end, which paused tokio time replays) and
//! reuses the instance whose memory is warmest.

use crate::capture::Capture;
use crate::state::{GuestRng, StoreState};
use std::sync::Mutex;
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::Proxy;

/// When instances are reused and how many may exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstancePolicy {
    /// Reuse an instance for later requests after a clean call (default `true`); `false` gives
    /// every request a fresh instance (`edgesim dev --fresh-instances`).
    pub reuse: bool,
    /// Calls an instance serves before it is retired (default 1,000).
    pub max_uses: u32,
    /// Idle instances kept for reuse; more are dropped when they finish (default 16).
    pub max_idle: usize,
    /// Requests that may be producing a response at once; the others wait, in arrival order,
    /// before they get an instance (default `None`: unbounded). waitUntil work after the
    /// response does not count, so a Worker that keeps long waitUntil tasks never blocks others.
    pub max_live: Option<usize>,
}

impl Default for InstancePolicy {
    fn default() -> Self {
        Self {
            reuse: true,
            max_uses: 1_000,
            max_idle: 16,
            max_live: None,
        }
    }
}

/// An instantiated Worker, its store and the handles its per-invocation state is reset through.
pub(crate) struct Instance {
    pub store: Store<StoreState>,
    pub proxy: Proxy,
    pub stdout: Capture,
    pub stderr: Capture,
    pub insecure: GuestRng,
    pub secure: GuestRng,
    /// Calls served so far.
    pub uses: u32,
}

/// Idle instances, most recently returned last.
pub(crate) struct Pool {
    idle: Mutex<Vec<Instance>>,
    max_idle: usize,
}

impl Pool {
    pub fn new(max_idle: usize) -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    /// The most recently returned idle instance.
    pub fn pop(&self) -> Option<Instance> {
        self.lock().pop()
    }

    /// Keeps `instance` for reuse, unless the stack is full (then it is dropped, outside the lock).
    pub fn push(&self, instance: Instance) {
        let mut idle = self.lock();
        if idle.len() < self.max_idle {
            idle.push(instance);
        } else {
            drop(idle);
            drop(instance);
        }
    }

    /// Idle instances right now.
    pub fn idle(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Instance>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}
