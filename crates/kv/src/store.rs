//! [`KvStore`]: every namespace, the topology, faults and the observer behind one lock.

use crate::config::{KvConfig, ReadYourWrites};
use crate::faults::Faults;
use crate::limits::KvError;
use crate::model::{Landed, NsState};
use crate::namespace::Namespace;
use crate::persist::Db;
use crate::types::KvEvent;
use edgesim_core::{SharedClock, SimRng};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// Receives every KV operation (the simulation's event log).
pub type Observer = Arc<dyn Fn(&KvEvent) + Send + Sync>;

pub(crate) struct Inner {
    pub config: KvConfig,
    pub colo_index: BTreeMap<String, usize>,
    pub namespaces: BTreeMap<String, NsState>,
    pub rng: SimRng,
    pub db: Option<Db>,
}

impl Inner {
    /// The colo's index, or the error an unknown colo gets.
    pub fn colo(&self, colo: &str) -> Result<usize, KvError> {
        self.colo_index.get(colo).copied().ok_or_else(|| {
            KvError::NoSuchBinding(format!("No colo named \"{colo}\" is configured."))
        })
    }

    /// Whether a write at this moment is visible to its writer (draws for `Probability`).
    pub fn read_your_writes(&mut self, setting: ReadYourWrites) -> bool {
        match setting {
            ReadYourWrites::On => true,
            ReadYourWrites::Off => false,
            ReadYourWrites::Probability(p) => self.rng.chance(p),
        }
    }

    /// Lands due writes of namespace `ns` and persists them; returns the namespace.
    pub fn settled(&mut self, ns: &str, now_ms: u64) -> Result<&mut NsState, KvError> {
        let state = self
            .namespaces
            .get_mut(ns)
            .ok_or_else(|| no_such_binding(ns))?;
        let landed: Landed = state.settle(now_ms);
        if let (Some(db), false) = (&self.db, landed.is_empty()) {
            db.land(ns, &landed)?;
        }
        Ok(state)
    }
}

pub(crate) fn no_such_binding(binding: &str) -> KvError {
    KvError::NoSuchBinding(format!("No KV namespace is bound as \"{binding}\"."))
}

/// The KV model: every namespace, the colo topology and the fault rules.
///
/// Cheap to clone (clones share state), `Send + Sync`, synchronous: every call computes its
/// result as of `clock.now_ms()` and returns the latency the caller should wait.
#[derive(Clone)]
pub struct KvStore {
    pub(crate) inner: Arc<Mutex<Inner>>,
    pub(crate) clock: SharedClock,
    pub(crate) faults: Faults,
    pub(crate) observer: Arc<RwLock<Option<Observer>>>,
}

impl std::fmt::Debug for KvStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvStore")
            .field("colos", &self.colos())
            .finish_non_exhaustive()
    }
}

impl KvStore {
    /// An in-memory store. `rng` should be the component's fork (e.g. `root.fork("kv")`).
    pub fn new(config: KvConfig, clock: SharedClock, rng: SimRng) -> Self {
        let colo_index = config
            .colos
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        let namespaces = config
            .namespaces
            .iter()
            .map(|n| {
                let state = NsState::new(config.params_for(n), config.colos.len());
                (n.clone(), state)
            })
            .collect();
        let faults = Faults::new(rng.fork("kv.faults"));
        Self {
            inner: Arc::new(Mutex::new(Inner {
                colo_index,
                namespaces,
                rng: rng.fork("kv.model"),
                db: None,
                config,
            })),
            clock,
            faults,
            observer: Arc::new(RwLock::new(None)),
        }
    }

    /// A store whose central data (and writes in flight) live in SQLite at `sqlite_path`, so
    /// they survive a restart; colo caches stay in memory and start cold.
    pub fn open_persistent(
        config: KvConfig,
        clock: SharedClock,
        rng: SimRng,
        sqlite_path: &Path,
    ) -> Result<Self, KvError> {
        let store = Self::new(config, clock, rng);
        let db = Db::open(sqlite_path)?;
        {
            let mut inner = store.lock();
            let Inner {
                namespaces,
                colo_index,
                ..
            } = &mut *inner;
            for (name, ns) in namespaces.iter_mut() {
                db.load(name, ns, colo_index)?;
            }
            db.record_namespaces(&namespaces.keys().cloned().collect::<Vec<_>>())?;
            inner.db = Some(db);
        }
        Ok(store)
    }

    /// The namespaces a persisted store at `sqlite_path` knows (the bindings `edgesim dev`
    /// opened it with, and any namespace holding data), in byte order; empty when there is no
    /// file yet. Opening creates the file's tables when they are missing.
    pub fn persisted_namespaces(sqlite_path: &Path) -> Result<Vec<String>, KvError> {
        if !sqlite_path.exists() {
            return Ok(Vec::new());
        }
        Db::open(sqlite_path)?.namespaces()
    }

    /// The latest clock time at which a write still in flight was issued (`None` with none in
    /// flight). A store reopened from disk may hold writes issued at a clock time later than the
    /// new clock's (`edgesim dev`'s time was advanced before a restart); the caller moves its
    /// clock past this, or those older writes would land after, and win over, new ones.
    pub fn latest_in_flight_issue_ms(&self) -> Option<u64> {
        self.lock()
            .namespaces
            .values()
            .flat_map(|ns| ns.pending.values().map(|p| p.issued_ms))
            .max()
    }

    /// Checkpoints the SQLite file behind central (a clean shutdown leaves one self-contained
    /// file); a no-op for an in-memory store.
    pub fn checkpoint(&self) -> Result<(), KvError> {
        match &self.lock().db {
            Some(db) => db.checkpoint(),
            None => Ok(()),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The namespace bound as `binding`.
    pub fn namespace(&self, binding: &str) -> Result<Namespace, KvError> {
        if !self.lock().namespaces.contains_key(binding) {
            return Err(no_such_binding(binding));
        }
        Ok(Namespace::new(self.clone(), binding))
    }

    /// Binding names of all namespaces.
    pub fn namespaces(&self) -> Vec<String> {
        self.lock().namespaces.keys().cloned().collect()
    }

    /// Colo names, in configuration order.
    pub fn colos(&self) -> Vec<String> {
        self.lock()
            .config
            .colos
            .iter()
            .map(|c| c.name.clone())
            .collect()
    }

    /// The configuration the store runs with.
    pub fn config(&self) -> KvConfig {
        self.lock().config.clone()
    }

    /// The clock the store reads.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Handle to add and remove fault rules and partitions.
    pub fn faults(&self) -> Faults {
        self.faults.clone()
    }

    /// Calls `f` with every operation (after the store's lock is released).
    pub fn set_observer(&self, f: Observer) {
        *self.observer.write().unwrap_or_else(|e| e.into_inner()) = Some(f);
    }

    /// Removes the observer.
    pub fn clear_observer(&self) {
        *self.observer.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The longest time after a write until every colo serves it without faults, over all
    /// namespaces: max propagation + default cacheTtl (longer explicit cacheTtls extend it).
    pub fn convergence_bound_ms(&self) -> u64 {
        let inner = self.lock();
        inner
            .namespaces
            .values()
            .map(|n| n.params.convergence_bound_ms())
            .max()
            .unwrap_or(0)
    }

    pub(crate) fn emit(&self, make: impl FnOnce() -> KvEvent) {
        let obs = self
            .observer
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(f) = obs {
            f(&make());
        }
    }
}
