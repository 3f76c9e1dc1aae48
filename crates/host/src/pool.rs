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
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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
    /// Instances that may exist at once: busy (producing a response, or running waitUntil
    /// work or a canceled request's rest, each at most the waitUntil limit) and idle (default
    /// `None`: unbounded; `edgesim dev --max-instances`, 64). A request that needs a new
    /// instance past it waits for an idle one or for one to end (at most the waitUntil limit,
    /// then error 1102, as for [`InstancePolicy::max_live`]).
    pub max_instances: Option<usize>,
}

impl Default for InstancePolicy {
    fn default() -> Self {
        Self {
            reuse: true,
            max_uses: 1_000,
            max_idle: 16,
            max_live: None,
            max_instances: None,
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
    /// Its entry in the host's [`Census`] (removed when the instance is dropped).
    pub ticket: Ticket,
    /// Its place under [`InstancePolicy::max_instances`], given back when it is dropped.
    pub _room: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// Idle instances, most recently returned last.
pub(crate) struct Pool {
    idle: Mutex<Vec<Instance>>,
    max_idle: usize,
    /// Room for instances under [`InstancePolicy::max_instances`].
    room: Option<Arc<tokio::sync::Semaphore>>,
    /// Woken when an instance becomes idle (for requests waiting for room).
    returned: tokio::sync::Notify,
}

/// Where a request's instance comes from (see [`Pool::slot`]).
pub(crate) enum Slot {
    /// An idle instance to reuse.
    Idle(Instance),
    /// Room for a new instance (`None` without a bound).
    New(Option<tokio::sync::OwnedSemaphorePermit>),
}

impl Pool {
    pub fn new(policy: &InstancePolicy) -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
            max_idle: policy.max_idle,
            room: policy
                .max_instances
                .map(|n| Arc::new(tokio::sync::Semaphore::new(n.max(1)))),
            returned: tokio::sync::Notify::new(),
        }
    }

    /// An idle instance (when `reuse`) or room for a new one; with no room under
    /// [`InstancePolicy::max_instances`], waits up to `limit` for either (`None` past it).
    pub async fn slot(&self, reuse: bool, limit: std::time::Duration) -> Option<Slot> {
        let Some(room) = &self.room else {
            return Some(match reuse.then(|| self.pop()).flatten() {
                Some(instance) => Slot::Idle(instance),
                None => Slot::New(None),
            });
        };
        let wait = async {
            loop {
                let returned = self.returned.notified();
                let mut returned = std::pin::pin!(returned);
                returned.as_mut().enable();
                if reuse && let Some(instance) = self.pop() {
                    return Some(Slot::Idle(instance));
                }
                if let Ok(permit) = room.clone().try_acquire_owned() {
                    return Some(Slot::New(Some(permit)));
                }
                tokio::select! {
                    permit = room.clone().acquire_owned() => {
                        return permit.ok().map(|p| Slot::New(Some(p)));
                    }
                    () = &mut returned => {}
                }
            }
        };
        tokio::time::timeout(limit, wait).await.ok().flatten()
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
            drop(idle);
            self.returned.notify_waiters();
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

/// What the host is running right now: requests, work after responses, and every instance
/// with its memory (`GET /__edgesim/status`, [`Host::status`](crate::Host::status)).
#[derive(Default)]
pub(crate) struct Census {
    /// Requests producing a response.
    requests: AtomicUsize,
    /// Guest calls still running after their response (waitUntil work) or after their client
    /// went away.
    background: AtomicUsize,
    next_id: AtomicU64,
    instances: Mutex<BTreeMap<u64, InstanceInfo>>,
    /// Guest calls that have ended, and the fuel (wasm operators) they used in all.
    calls: AtomicU64,
    fuel: AtomicU64,
}

/// One instantiated Worker, as [`Host::status`](crate::Host::status) reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InstanceInfo {
    /// A number naming the instance while it lives (in creation order).
    pub id: u64,
    /// `idle` (in the pool, ready for reuse) or `busy` (serving a request or its waitUntil work).
    pub state: &'static str,
    /// Calls it served (or is serving).
    pub uses: u32,
    /// Bytes of its linear memories and tables (wasm never shrinks them); for a busy instance,
    /// as of when its current call started.
    pub memory_bytes: usize,
}

/// A snapshot of the Worker's instances and the limits in force (`GET /__edgesim/status`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InstanceStatus {
    /// Requests producing a response right now.
    pub live_requests: usize,
    /// Guest calls running after their response (waitUntil work) or after their client
    /// went away.
    pub background_calls: usize,
    /// Instances in the pool, ready for the next request.
    pub idle_instances: usize,
    /// Instances that exist (busy or idle).
    pub instances: usize,
    /// Sum of [`InstanceInfo::memory_bytes`] over every instance.
    pub memory_bytes: usize,
    /// Each instance, oldest first.
    pub per_instance: Vec<InstanceInfo>,
    /// Guest calls ended since the host started (requests, scheduled events, and their
    /// waitUntil work).
    pub calls_total: u64,
    /// Fuel those calls used: wasm operators the guest executed, a deterministic measure of
    /// its work (divide by `calls_total` for the work per call). 0 when CPU is metered with
    /// epochs (`limits.cpu_meter`, `edgesim dev` without `--fuel`).
    pub guest_fuel_total: u64,
    /// The limits in force.
    pub limits: StatusLimits,
}

/// The instance limits [`InstanceStatus`] reports.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StatusLimits {
    /// [`InstancePolicy::reuse`].
    pub reuse: bool,
    /// [`InstancePolicy::max_live`] (`null`: unbounded).
    pub max_live: Option<usize>,
    /// [`InstancePolicy::max_idle`].
    pub max_idle: usize,
    /// [`InstancePolicy::max_uses`].
    pub max_uses: u32,
    /// [`InstancePolicy::max_instances`] (`null`: unbounded).
    pub max_instances: Option<usize>,
    /// The memory limit of one instance, bytes.
    pub memory_bytes_per_instance: usize,
    /// How the CPU limit is measured: `"fuel"` or `"epoch"` ([`crate::CpuMeter`]).
    pub cpu_meter: &'static str,
}

impl Census {
    pub fn request_started(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn request_ended(&self) {
        self.requests.fetch_sub(1, Ordering::Relaxed);
    }

    /// Counts one guest call running after its response until the guard is dropped.
    pub fn background(self: &Arc<Self>) -> BackgroundGuard {
        self.background.fetch_add(1, Ordering::Relaxed);
        BackgroundGuard(self.clone())
    }

    /// Counts one ended guest call that used `fuel`.
    pub fn call_ended(&self, fuel: u64) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.fuel.fetch_add(fuel, Ordering::Relaxed);
    }

    /// Registers a new instance; it stays listed until the ticket is dropped (with the
    /// instance).
    pub fn register(self: &Arc<Self>, memory_bytes: usize) -> Ticket {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().insert(
            id,
            InstanceInfo {
                id,
                state: "busy",
                uses: 0,
                memory_bytes,
            },
        );
        Ticket {
            census: self.clone(),
            id,
        }
    }

    /// Records an instance's state, calls and memory.
    pub fn update(&self, ticket: &Ticket, idle: bool, uses: u32, memory_bytes: usize) {
        if let Some(info) = self.lock().get_mut(&ticket.id) {
            info.state = if idle { "idle" } else { "busy" };
            info.uses = uses;
            info.memory_bytes = memory_bytes;
        }
    }

    /// The snapshot (`limits` filled in by the caller).
    pub fn snapshot(&self, idle_instances: usize, limits: StatusLimits) -> InstanceStatus {
        let per_instance: Vec<InstanceInfo> = self.lock().values().cloned().collect();
        InstanceStatus {
            live_requests: self.requests.load(Ordering::Relaxed),
            background_calls: self.background.load(Ordering::Relaxed),
            idle_instances,
            instances: per_instance.len(),
            memory_bytes: per_instance.iter().map(|i| i.memory_bytes).sum(),
            per_instance,
            calls_total: self.calls.load(Ordering::Relaxed),
            guest_fuel_total: self.fuel.load(Ordering::Relaxed),
            limits,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, InstanceInfo>> {
        self.instances.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Keeps a guest call counted as background work (see [`Census::background`]).
pub(crate) struct BackgroundGuard(Arc<Census>);

impl Drop for BackgroundGuard {
    fn drop(&mut self) {
        self.0.background.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An instance's entry in the [`Census`], removed when the instance is dropped.
pub(crate) struct Ticket {
    census: Arc<Census>,
    id: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.census.lock().remove(&self.id);
    }
}
