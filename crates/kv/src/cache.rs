//! What central holds, what is in flight, and what each colo has cached.

use std::collections::BTreeMap;
use std::sync::Arc;

/// One write as central stores it (and as it travels there). `value: None` is a tombstone.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Record {
    pub value: Option<Arc<Vec<u8>>>,
    pub metadata: Option<Arc<serde_json::Value>>,
    /// Absolute expiry, epoch seconds.
    pub expiration: Option<u64>,
    pub version: u64,
}

impl Record {
    /// Whether the record reads as a live value at `now_ms` (not a tombstone, not expired).
    pub fn live_at(&self, now_ms: u64) -> bool {
        self.value.is_some() && !expired(self.expiration, now_ms)
    }
}

/// Whether an absolute expiry (epoch seconds) has passed at `now_ms`.
pub(crate) fn expired(expiration: Option<u64>, now_ms: u64) -> bool {
    expiration.is_some_and(|e| e.saturating_mul(1000) <= now_ms)
}

/// A write on its way to central.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub key: String,
    pub record: Record,
    /// Index of the colo that wrote it.
    pub origin: usize,
    pub issued_ms: u64,
    pub arrival_ms: u64,
}

/// One key in a colo's cache: a value, or a negative entry (`value: None`).
#[derive(Clone, Debug)]
pub(crate) struct CacheEntry {
    pub value: Option<Arc<Vec<u8>>>,
    pub metadata: Option<Arc<serde_json::Value>>,
    pub expiration: Option<u64>,
    /// Version of the record cached (a tombstone's version for a deleted key; `None` if the
    /// key never existed at central when it was read).
    pub version: Option<u64>,
    pub cached_at_ms: u64,
    pub expires_at_ms: u64,
}

impl CacheEntry {
    /// An entry for `record` (or a negative one), cached at `now_ms` for `ttl_ms`, never
    /// outliving the record's own expiration.
    pub fn new(record: Option<&Record>, now_ms: u64, ttl_ms: u64) -> Self {
        let live = record.filter(|r| r.live_at(now_ms));
        let mut expires_at_ms = now_ms.saturating_add(ttl_ms);
        if let Some(e) = live.and_then(|r| r.expiration) {
            expires_at_ms = expires_at_ms.min(e.saturating_mul(1000));
        }
        Self {
            value: live.and_then(|r| r.value.clone()),
            metadata: live.and_then(|r| r.metadata.clone()),
            expiration: live.and_then(|r| r.expiration),
            version: record.map(|r| r.version),
            cached_at_ms: now_ms,
            expires_at_ms,
        }
    }

    /// The version a read of this entry serves: `None` when it is negative.
    pub fn served_version(&self) -> Option<u64> {
        self.value.as_ref().and(self.version)
    }
}

/// Cache key of a list page: prefix, limit, cursor.
pub(crate) type ListCacheKey = (String, u64, Option<String>);

/// A cached list page.
#[derive(Clone, Debug)]
pub(crate) struct CachedList {
    /// Keys with their expiration and metadata.
    pub keys: Vec<(String, Option<u64>, Option<Arc<serde_json::Value>>)>,
    pub cursor: Option<String>,
    pub expires_at_ms: u64,
}

/// One colo's cache.
#[derive(Clone, Debug, Default)]
pub(crate) struct ColoCache {
    pub entries: BTreeMap<String, CacheEntry>,
    pub lists: BTreeMap<ListCacheKey, CachedList>,
}

impl ColoCache {
    /// Drops entries that expired at or before `now_ms`.
    pub fn prune(&mut self, now_ms: u64) {
        self.entries.retain(|_, e| e.expires_at_ms > now_ms);
        self.lists.retain(|_, l| l.expires_at_ms > now_ms);
    }
}
