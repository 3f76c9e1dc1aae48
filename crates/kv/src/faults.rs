//! Injected faults: failures (429 / 5xx), extra latency and colo↔central partitions.
//!
//! Rules are matched in the order they were added; every matching rule whose probability draw
//! succeeds adds its latency, and the first matching failure wins. Draws come from the KV
//! store's RNG fork `kv.faults`, and a rule with probability 0 or 1 draws nothing.

use crate::limits::{KvError, backend_error};
use crate::types::OpKind;
use edgesim_core::SimRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Identifies an added rule or partition, for [`Faults::remove`].
pub type FaultId = u64;

/// What an injected fault does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultEffect {
    /// Fails with `KV <METHOD> failed: 429 Too Many Requests`.
    TooManyRequests,
    /// Fails with `KV <METHOD> failed: <status> <text>` (e.g. 503 Service Unavailable).
    ServerError { status: u16 },
    /// Adds `ms` to the operation's latency; the operation itself succeeds.
    ExtraLatency { ms: u64 },
}

/// A fault rule: which operations it hits, when, how often, and what it does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Only these operation kinds; empty = all.
    #[serde(default)]
    pub ops: Vec<OpKind>,
    /// Only this colo; `None` = all.
    #[serde(default)]
    pub colo: Option<String>,
    /// Only keys starting with this. A bulk get matches if any of its keys does; a list
    /// matches if its own prefix starts with this.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Chance per matching operation, 0 to 1.
    pub probability: f64,
    /// Active from this clock time, epoch ms (inclusive).
    pub from_ms: u64,
    /// Active until this clock time, epoch ms (exclusive).
    pub to_ms: u64,
    /// What happens.
    pub effect: FaultEffect,
}

impl FaultRule {
    /// A rule that always applies `effect` to every operation, from `from_ms` to `to_ms`.
    pub fn always(effect: FaultEffect, from_ms: u64, to_ms: u64) -> Self {
        Self {
            ops: Vec::new(),
            colo: None,
            key_prefix: None,
            probability: 1.0,
            from_ms,
            to_ms,
            effect,
        }
    }

    fn matches(&self, op: OpKind, colo: &str, keys: &[&str], now_ms: u64) -> bool {
        (self.from_ms..self.to_ms).contains(&now_ms)
            && (self.ops.is_empty() || self.ops.contains(&op))
            && self.colo.as_deref().is_none_or(|c| c == colo)
            && self
                .key_prefix
                .as_deref()
                .is_none_or(|p| keys.iter().any(|k| k.starts_with(p)))
    }
}

/// A colo cut from central over `[from_ms, to_ms)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// The colo.
    pub colo: String,
    /// Start, epoch ms (inclusive).
    pub from_ms: u64,
    /// End, epoch ms (exclusive).
    pub to_ms: u64,
}

#[derive(Debug)]
struct State {
    rules: BTreeMap<FaultId, FaultRule>,
    partitions: BTreeMap<FaultId, Partition>,
    next_id: FaultId,
    rng: SimRng,
}

/// The outcome of fault injection for one operation.
#[derive(Debug, Default)]
pub(crate) struct Injected {
    pub error: Option<KvError>,
    pub extra_latency_ms: u64,
}

/// Handle to add and remove faults; clones share the same rules.
#[derive(Clone, Debug)]
pub struct Faults {
    state: Arc<Mutex<State>>,
    any: Arc<AtomicBool>,
}

impl Faults {
    pub(crate) fn new(rng: SimRng) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                rules: BTreeMap::new(),
                partitions: BTreeMap::new(),
                next_id: 1,
                rng,
            })),
            any: Arc::new(AtomicBool::new(false)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn refresh(&self, s: &State) {
        self.any.store(
            !(s.rules.is_empty() && s.partitions.is_empty()),
            Ordering::Release,
        );
    }

    /// Adds a failure / latency rule.
    pub fn fail(&self, rule: FaultRule) -> FaultId {
        let mut s = self.lock();
        let id = s.next_id;
        s.next_id += 1;
        s.rules.insert(id, rule);
        self.refresh(&s);
        id
    }

    /// Cuts `colo` from central over `[from_ms, to_ms)`.
    pub fn partition(&self, colo: &str, from_ms: u64, to_ms: u64) -> FaultId {
        let mut s = self.lock();
        let id = s.next_id;
        s.next_id += 1;
        s.partitions.insert(
            id,
            Partition {
                colo: colo.to_string(),
                from_ms,
                to_ms,
            },
        );
        self.refresh(&s);
        id
    }

    /// Removes one rule or partition; `false` if there was none with that id.
    pub fn remove(&self, id: FaultId) -> bool {
        let mut s = self.lock();
        let found = s.rules.remove(&id).is_some() || s.partitions.remove(&id).is_some();
        self.refresh(&s);
        found
    }

    /// Removes every rule and partition.
    pub fn clear(&self) {
        let mut s = self.lock();
        s.rules.clear();
        s.partitions.clear();
        self.refresh(&s);
    }

    /// The current rules, by id.
    pub fn rules(&self) -> Vec<(FaultId, FaultRule)> {
        self.lock()
            .rules
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect()
    }

    /// The current partitions, by id.
    pub fn partitions(&self) -> Vec<(FaultId, Partition)> {
        self.lock()
            .partitions
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect()
    }

    /// Whether `colo` is cut from central at `now_ms`.
    pub fn is_partitioned(&self, colo: &str, now_ms: u64) -> bool {
        if !self.any.load(Ordering::Acquire) {
            return false;
        }
        self.lock()
            .partitions
            .values()
            .any(|p| p.colo == colo && (p.from_ms..p.to_ms).contains(&now_ms))
    }

    /// Draws the injected failure and latency for one operation.
    pub(crate) fn inject(&self, op: OpKind, colo: &str, keys: &[&str], now_ms: u64) -> Injected {
        let mut out = Injected::default();
        if !self.any.load(Ordering::Acquire) {
            return out;
        }
        let mut s = self.lock();
        let State { rules, rng, .. } = &mut *s;
        for rule in rules.values() {
            if !rule.matches(op, colo, keys, now_ms) || !rng.chance(rule.probability) {
                continue;
            }
            match rule.effect {
                FaultEffect::ExtraLatency { ms } => out.extra_latency_ms += ms,
                FaultEffect::TooManyRequests if out.error.is_none() => {
                    out.error = Some(backend_error(op, 429))
                }
                FaultEffect::ServerError { status } if out.error.is_none() => {
                    out.error = Some(backend_error(op, status))
                }
                _ => {}
            }
        }
        out
    }
}
