//! One namespace's state: central, writes in flight, per-colo caches; the read and write rules.

use crate::cache::{CacheEntry, ColoCache, Pending, Record};
use crate::config::NamespaceParams;
use std::collections::BTreeMap;

/// A read answered by the model.
#[derive(Clone, Debug)]
pub(crate) struct Served {
    pub entry: CacheEntry,
    pub hit: bool,
    /// Latency to central paid (0 on a hit).
    pub latency_ms: u64,
}

/// Where, when and how a read happens.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadAt {
    /// Index of the colo.
    pub colo: usize,
    pub now_ms: u64,
    /// The read's cacheTtl, seconds.
    pub ttl_s: u64,
    /// Whether the caller named the cacheTtl (only then may it shorten a cached entry).
    pub explicit_ttl: bool,
    pub latency_to_central_ms: u64,
    pub regional_tier: bool,
    /// Whether the colo is cut from central.
    pub partitioned: bool,
}

/// Why a read could not be answered.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadBlocked {
    /// A miss while the colo is cut from central.
    Partitioned,
}

/// A namespace: central store, in-flight writes and colo caches.
#[derive(Debug)]
pub(crate) struct NsState {
    /// Propagation, read-your-writes and default cacheTtl of this namespace.
    pub params: NamespaceParams,
    /// Central's records, tombstones included.
    pub central: BTreeMap<String, Record>,
    /// Writes in flight, ordered by (arrival ms, version): the order central applies them.
    pub pending: BTreeMap<(u64, u64), Pending>,
    /// The version the next write gets.
    pub next_version: u64,
    /// Clock time of the last accepted write per key (the 1 write/s rule).
    pub last_write_ms: BTreeMap<String, u64>,
    /// Per-colo caches, indexed like the config's colos.
    pub caches: Vec<ColoCache>,
    /// Regional tier: until when each key is hot there (epoch ms).
    pub hot_until_ms: BTreeMap<String, u64>,
    /// Ops since the last prune of expired cache entries.
    ops_since_prune: u32,
}

/// Writes that landed at central during a settle, for persistence.
pub(crate) type Landed = Vec<(u64, Pending)>;

impl NsState {
    pub fn new(params: NamespaceParams, colos: usize) -> Self {
        Self {
            params,
            central: BTreeMap::new(),
            pending: BTreeMap::new(),
            next_version: 1,
            last_write_ms: BTreeMap::new(),
            caches: vec![ColoCache::default(); colos],
            hot_until_ms: BTreeMap::new(),
            ops_since_prune: 0,
        }
    }

    /// Applies every write that has arrived at central by `now_ms`, in arrival order
    /// (ties: lower version first, so the higher version wins). Returns what landed.
    pub fn settle(&mut self, now_ms: u64) -> Landed {
        let mut landed = Vec::new();
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > now_ms {
                break;
            }
            let ((_, version), p) = entry.remove_entry();
            self.central.insert(p.key.clone(), p.record.clone());
            landed.push((version, p));
        }
        self.ops_since_prune += 1;
        if self.ops_since_prune >= 4096 {
            self.ops_since_prune = 0;
            for c in &mut self.caches {
                c.prune(now_ms);
            }
            self.hot_until_ms.retain(|_, t| *t > now_ms);
            self.last_write_ms
                .retain(|_, t| now_ms < t.saturating_add(crate::limits::WRITE_INTERVAL_MS));
        }
        landed
    }

    /// Central's record for `key` (tombstones included), after [`NsState::settle`].
    pub fn central_record(&self, key: &str) -> Option<&Record> {
        self.central.get(key)
    }

    /// A read of `key` as `at` describes it: a fresh cache entry is a hit; otherwise central
    /// is read (unless partitioned) and the result cached for the read's cacheTtl.
    pub fn read(&mut self, at: &ReadAt, key: &str) -> Result<Served, ReadBlocked> {
        let ReadAt {
            colo,
            now_ms,
            ttl_s,
            explicit_ttl,
            latency_to_central_ms,
            regional_tier,
            partitioned,
        } = *at;
        let ttl_ms = ttl_s.saturating_mul(1000);
        let cache = &mut self.caches[colo];
        if let Some(e) = cache.entries.get_mut(key) {
            if explicit_ttl {
                e.expires_at_ms = e.expires_at_ms.min(e.cached_at_ms.saturating_add(ttl_ms));
            }
            if now_ms < e.expires_at_ms {
                return Ok(Served {
                    entry: e.clone(),
                    hit: true,
                    latency_ms: 0,
                });
            }
        }
        if partitioned {
            return Err(ReadBlocked::Partitioned);
        }
        let entry = CacheEntry::new(self.central.get(key), now_ms, ttl_ms);
        self.caches[colo]
            .entries
            .insert(key.to_string(), entry.clone());
        let mut latency_ms = latency_to_central_ms;
        if regional_tier {
            let hot = self.hot_until_ms.entry(key.to_string()).or_insert(0);
            if *hot > now_ms {
                latency_ms /= 2;
            }
            *hot = (*hot).max(now_ms.saturating_add(ttl_ms));
        }
        Ok(Served {
            entry,
            hit: false,
            latency_ms,
        })
    }

    /// Accepts a write issued at colo `origin` at `now_ms`, landing at central at `arrival_ms`.
    /// With `read_your_writes`, the writer's cache serves it until it has landed (and at least
    /// `default_ttl_ms`). Returns the write's version.
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &mut self,
        origin: usize,
        key: &str,
        mut record: Record,
        now_ms: u64,
        arrival_ms: u64,
        read_your_writes: bool,
        default_ttl_ms: u64,
    ) -> (u64, Pending) {
        let version = self.next_version;
        self.next_version += 1;
        record.version = version;
        if read_your_writes {
            let ttl = default_ttl_ms.max(arrival_ms.saturating_sub(now_ms));
            let entry = CacheEntry::new(Some(&record), now_ms, ttl);
            self.caches[origin].entries.insert(key.to_string(), entry);
        }
        self.last_write_ms.insert(key.to_string(), now_ms);
        let pending = Pending {
            key: key.to_string(),
            record,
            origin,
            issued_ms: now_ms,
            arrival_ms,
        };
        self.pending.insert((arrival_ms, version), pending.clone());
        (version, pending)
    }

    /// A write from outside any Worker (wrangler, the dashboard, the REST API) at `now_ms`: it
    /// takes the next version and is central's record at once. No colo cache changes: colos that
    /// hold the key keep serving their entry until it expires. Writes still in flight that arrive
    /// later win over it, as any later arrival does. Returns the record as stored.
    pub fn write_central(&mut self, key: &str, mut record: Record, now_ms: u64) -> Record {
        record.version = self.next_version;
        self.next_version += 1;
        self.last_write_ms.insert(key.to_string(), now_ms);
        self.central.insert(key.to_string(), record.clone());
        record
    }

    /// Whether a write to `key` at `now_ms` breaks the 1 write per second rule.
    pub fn rate_limited(&self, key: &str, now_ms: u64, interval_ms: u64) -> bool {
        self.last_write_ms
            .get(key)
            .is_some_and(|&t| now_ms < t.saturating_add(interval_ms))
    }
}
