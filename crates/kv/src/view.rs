//! Introspection of one key: central, writes in flight, and every colo's cache.

use crate::cache::{CacheEntry, Pending, Record};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

fn lossy<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_some(&String::from_utf8_lossy(b)),
        None => s.serialize_none(),
    }
}

/// Everything the model knows about one key, as of the clock's now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeyView {
    /// The key.
    pub key: String,
    /// Clock time of this view, epoch ms.
    pub now_ms: u64,
    /// Central's record (a tombstone shows `deleted: true`); `None` if never written.
    pub central: Option<RecordView>,
    /// Writes still in flight to central, in the order they will land.
    pub pending: Vec<PendingView>,
    /// Each colo's cache entry for the key (`None`: nothing cached).
    pub colos: BTreeMap<String, Option<CacheView>>,
}

/// A record at central.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordView {
    /// Version of the write.
    pub version: u64,
    /// The value (JSON shows it as UTF-8 text, lossy); `None` for a tombstone.
    #[serde(serialize_with = "lossy")]
    pub value: Option<Vec<u8>>,
    /// Metadata.
    pub metadata: Option<serde_json::Value>,
    /// Absolute expiry, epoch seconds.
    pub expiration: Option<u64>,
    /// Whether this is a delete.
    pub deleted: bool,
    /// Whether the expiration has passed (the key reads as missing).
    pub expired: bool,
}

/// A write in flight.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PendingView {
    /// Version of the write.
    pub version: u64,
    /// The colo that wrote it.
    pub origin: String,
    /// When it was written, epoch ms.
    pub issued_ms: u64,
    /// When it lands at central, epoch ms.
    pub arrival_ms: u64,
    /// The value; `None` for a delete.
    #[serde(serialize_with = "lossy")]
    pub value: Option<Vec<u8>>,
    /// Whether this is a delete.
    pub deleted: bool,
}

/// A colo's cache entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheView {
    /// Version of the record cached (`None`: the key did not exist at central).
    pub version: Option<u64>,
    /// The cached value; `None` for a negative entry.
    #[serde(serialize_with = "lossy")]
    pub value: Option<Vec<u8>>,
    /// The cached record's absolute expiry, epoch seconds.
    pub expiration: Option<u64>,
    /// When it was cached, epoch ms.
    pub cached_at_ms: u64,
    /// When it stops being served, epoch ms.
    pub expires_at_ms: u64,
    /// A cached "not found".
    pub negative: bool,
    /// Whether a read now would be a hit.
    pub fresh: bool,
}

impl RecordView {
    pub(crate) fn from_record(r: &Record, now_ms: u64) -> Self {
        Self {
            version: r.version,
            value: r.value.as_deref().cloned(),
            metadata: r.metadata.as_deref().cloned(),
            expiration: r.expiration,
            deleted: r.value.is_none(),
            expired: crate::cache::expired(r.expiration, now_ms),
        }
    }
}

impl PendingView {
    pub(crate) fn from_pending(p: &Pending, origin: &str) -> Self {
        Self {
            version: p.record.version,
            origin: origin.to_string(),
            issued_ms: p.issued_ms,
            arrival_ms: p.arrival_ms,
            value: p.record.value.as_deref().cloned(),
            deleted: p.record.value.is_none(),
        }
    }
}

impl CacheView {
    pub(crate) fn from_entry(e: &CacheEntry, now_ms: u64) -> Self {
        Self {
            version: e.version,
            value: e.value.as_deref().cloned(),
            expiration: e.expiration,
            cached_at_ms: e.cached_at_ms,
            expires_at_ms: e.expires_at_ms,
            negative: e.value.is_none(),
            fresh: now_ms < e.expires_at_ms,
        }
    }
}
