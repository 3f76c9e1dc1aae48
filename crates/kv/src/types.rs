//! Options and results of the binding's operations, and the events the model reports.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Options of `get`, `get_with_metadata` and `get_bulk`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetOptions {
    /// Seconds this colo may serve the result from cache (minimum 30, default 60).
    pub cache_ttl: Option<u64>,
}

/// Options of `put`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PutOptions {
    /// Absolute expiry, Unix epoch seconds (at least 60 s in the future).
    pub expiration: Option<u64>,
    /// Expiry in seconds from now (at least 60); wins over `expiration`.
    pub expiration_ttl: Option<u64>,
    /// Arbitrary JSON, at most 1024 bytes serialised.
    pub metadata: Option<serde_json::Value>,
}

/// Options of `list`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListOptions {
    /// Only keys starting with this.
    pub prefix: Option<String>,
    /// Page size, 1 to 1000 (0 or none: 1000).
    pub limit: Option<u64>,
    /// Where the previous page stopped.
    pub cursor: Option<String>,
}

/// Whether a read was answered from the colo's cache or went to central.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CacheStatus {
    /// Served from the colo's cache.
    Hit,
    /// Fetched from central (and now cached).
    Miss,
}

/// The result of a read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Read<T> {
    /// What the Worker gets.
    pub value: T,
    /// HIT or MISS at the colo.
    pub cache_status: CacheStatus,
    /// The write version served; `None` when the key read as missing.
    pub version: Option<u64>,
    /// Latency to charge the caller (colo↔central on a miss, plus injected latency).
    pub latency: Duration,
}

/// The result of a put or delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Write {
    /// This write's version (monotonic per namespace).
    pub version: u64,
    /// Latency to charge the caller.
    pub latency: Duration,
}

/// `getWithMetadata`'s value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ValueWithMetadata {
    /// The value, `None` when missing.
    pub value: Option<Vec<u8>>,
    /// The metadata, when the key has some.
    pub metadata: Option<serde_json::Value>,
}

/// One key of a list page.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ListKey {
    /// The key.
    pub name: String,
    /// Absolute expiry, epoch seconds (always absolute, even when set as a TTL).
    pub expiration: Option<u64>,
    /// The key's metadata, when set.
    pub metadata: Option<serde_json::Value>,
}

/// A page of `list`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ListResult {
    /// Keys in UTF-8 byte order.
    pub keys: Vec<ListKey>,
    /// `false` when more keys follow.
    pub list_complete: bool,
    /// Pass this back to get the next page.
    pub cursor: Option<String>,
}

/// One key of a bulk get; `value` is `None` for a missing key.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BulkEntry {
    /// The key asked for.
    pub key: String,
    /// Its value, or `None` when missing.
    pub value: Option<Vec<u8>>,
    /// Its metadata, when set.
    pub metadata: Option<serde_json::Value>,
    /// The version served, `None` when missing.
    pub version: Option<u64>,
    /// Whether this key came from the colo's cache.
    pub cache_status: CacheStatus,
}

/// The kind of a KV operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// `get`.
    Get,
    /// `getWithMetadata`.
    GetWithMetadata,
    /// `put`.
    Put,
    /// `delete`.
    Delete,
    /// `list`.
    List,
    /// Bulk `get`.
    GetBulk,
}

impl OpKind {
    /// The method name workerd puts in its error messages.
    pub fn method(self) -> &'static str {
        match self {
            OpKind::Get | OpKind::GetWithMetadata | OpKind::List => "GET",
            OpKind::Put => "PUT",
            OpKind::Delete => "DELETE",
            OpKind::GetBulk => "GET_BULK",
        }
    }

    /// Whether this operation writes.
    pub fn is_write(self) -> bool {
        matches!(self, OpKind::Put | OpKind::Delete)
    }
}

/// One KV operation as the simulation's event log records it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KvEvent {
    /// Clock time of the operation, epoch ms.
    pub at_ms: u64,
    /// The binding.
    pub namespace: String,
    /// Where it ran ([`crate::CENTRAL`] for a write or read from outside any Worker).
    pub colo: String,
    /// What it was.
    pub op: OpKind,
    /// The key (`None` for list; the first key for a bulk get).
    pub key: Option<String>,
    /// Version written, or served by a read (`None` when missing or failed).
    pub version: Option<u64>,
    /// HIT or MISS, for reads that succeeded.
    pub cache_status: Option<CacheStatus>,
    /// The error message, when the operation failed.
    pub error: Option<String>,
    /// Latency charged, ms.
    pub latency_ms: u64,
    /// The cacheTtl a read that succeeded used, seconds: the Worker's `cacheTtl` (clamped to
    /// the maximum), else the namespace default. `None` for writes, lists and failed operations.
    pub cache_ttl_s: Option<u64>,
    /// When the value a successful put wrote expires, epoch ms (from its `expiration` or
    /// `expirationTtl`, whole seconds as KV keeps them). `None`: it never expires, or not a put.
    pub expiration_ms: Option<u64>,
}

/// A key's value at central, as a read from outside any Worker sees it (`wrangler kv key get`,
/// the REST API): no colo, no cache.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CentralValue {
    /// The value.
    pub value: Vec<u8>,
    /// Its metadata, when set.
    pub metadata: Option<serde_json::Value>,
    /// Absolute expiry, epoch seconds.
    pub expiration: Option<u64>,
    /// The version of the write that stored it.
    pub version: u64,
}

/// One pair of a bulk write, in the format of `wrangler kv bulk put` and the REST API's
/// `PUT .../bulk`: `{key, value, expiration?, expiration_ttl?, metadata?, base64?}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkWrite {
    /// The key.
    pub key: String,
    /// The value: UTF-8 text, or base64 when `base64` is true.
    pub value: String,
    /// Absolute expiry, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<u64>,
    /// Expiry in seconds from now (at least 60); wins over `expiration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_ttl: Option<u64>,
    /// Arbitrary JSON, at most 1024 bytes serialised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// Whether `value` is base64 that central decodes before storing it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub base64: bool,
}
