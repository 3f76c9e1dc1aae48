//! Workers KV bindings: `env.kv("ARTICLES")` and the Cloudflare binding's operations and options.
//!
//! The typed layer (text, JSON, metadata, builders) sits on [`KvBackend`], which the wasm
//! runtime implements with the `edgesim:worker/kv` import and host tests with an in-memory store.

use crate::error::{Error, KvError, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::rc::Rc;

/// Options of `get`, `get-with-metadata` and `get-bulk`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GetOptions {
    /// Seconds the colo may serve the result from cache (minimum 30, default 60).
    pub cache_ttl: Option<u32>,
}

/// Whether a read was answered from the colo's cache or went to central.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    /// Served from the colo's cache.
    Hit,
    /// Fetched from central.
    Miss,
}

/// A raw value with its metadata (JSON text), as `getWithMetadata` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawWithMetadata {
    /// The value; `None` when the key is missing.
    pub value: Option<Vec<u8>>,
    /// Metadata as JSON text, when the key has some.
    pub metadata: Option<String>,
    /// Hit or miss at this colo.
    pub cache_status: CacheStatus,
}

/// Options of `put`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// Absolute expiry, Unix epoch seconds.
    pub expiration: Option<u64>,
    /// Expiry in seconds from now (at least 60).
    pub expiration_ttl: Option<u64>,
    /// Metadata as JSON text (at most 1024 bytes).
    pub metadata: Option<String>,
}

/// Options of `list`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Only keys starting with this prefix.
    pub prefix: Option<String>,
    /// 1 to 1000; default 1000.
    pub limit: Option<u32>,
    /// Where the previous page ended.
    pub cursor: Option<String>,
}

/// One key of a `list` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListKey {
    /// The key.
    pub name: String,
    /// Absolute expiry, Unix epoch seconds.
    pub expiration: Option<u64>,
    /// Metadata as JSON text.
    pub metadata: Option<String>,
}

/// A page of `list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListResult {
    /// Keys of this page, in key order.
    pub keys: Vec<ListKey>,
    /// True on the last page.
    pub list_complete: bool,
    /// Pass to the next `list` call to get the next page.
    pub cursor: Option<String>,
    /// Hit or miss at this colo.
    pub cache_status: CacheStatus,
}

/// One key of a `get-bulk` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkEntry {
    /// The key asked for.
    pub key: String,
    /// The value; `None` for a missing key.
    pub value: Option<Vec<u8>>,
    /// Metadata as JSON text.
    pub metadata: Option<String>,
}

/// The raw operations of a KV namespace (the `edgesim:worker/kv.namespace` resource).
pub trait KvBackend {
    /// Reads `key`.
    fn get(&self, key: &str, options: GetOptions) -> Result<Option<Vec<u8>>, KvError>;
    /// Reads `key` with its metadata and cache status.
    fn get_with_metadata(&self, key: &str, options: GetOptions)
    -> Result<RawWithMetadata, KvError>;
    /// Writes `key`.
    fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<(), KvError>;
    /// Deletes `key`.
    fn delete(&self, key: &str) -> Result<(), KvError>;
    /// Lists keys.
    fn list(&self, options: &ListOptions) -> Result<ListResult, KvError>;
    /// Reads 1 to 100 keys, keeping their order.
    fn get_bulk(&self, keys: &[String], options: GetOptions) -> Result<Vec<BulkEntry>, KvError>;
}

/// A KV namespace bound to the Worker, e.g. `env.kv("ARTICLES")`.
#[derive(Clone)]
pub struct KvStore {
    binding: String,
    backend: Rc<dyn KvBackend>,
}

impl std::fmt::Debug for KvStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvStore")
            .field("binding", &self.binding)
            .finish()
    }
}

impl KvStore {
    /// Wraps a backend under a binding name.
    pub fn new(binding: impl Into<String>, backend: Rc<dyn KvBackend>) -> Self {
        KvStore {
            binding: binding.into(),
            backend,
        }
    }

    /// The binding name.
    pub fn binding(&self) -> &str {
        &self.binding
    }

    /// Starts a `get` of `key` (choose the type with `.bytes()`, `.text()` or `.json()`).
    pub fn get(&self, key: &str) -> GetBuilder<'_> {
        GetBuilder {
            store: self,
            key: key.to_owned(),
            options: GetOptions::default(),
        }
    }

    /// `get(key)` as text.
    pub async fn get_text(&self, key: &str) -> Result<Option<String>> {
        self.get(key).text().await
    }

    /// `get(key, "json")`: the value parsed as JSON (`None` when missing; invalid JSON is an error).
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        self.get(key).json().await
    }

    /// Starts a `getWithMetadata` of `key`.
    pub fn get_with_metadata(&self, key: &str) -> GetWithMetadataBuilder<'_> {
        GetWithMetadataBuilder {
            store: self,
            key: key.to_owned(),
            options: GetOptions::default(),
        }
    }

    /// Starts a `put` of `value` under `key`.
    pub fn put(&self, key: &str, value: impl Into<Vec<u8>>) -> PutBuilder<'_> {
        PutBuilder {
            store: self,
            key: key.to_owned(),
            value: value.into(),
            options: PutOptions::default(),
        }
    }

    /// Starts a `put` of `value` serialised as JSON text.
    pub fn put_json<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<PutBuilder<'_>> {
        Ok(self.put(key, serde_json::to_vec(value)?))
    }

    /// Deletes `key`.
    pub async fn delete(&self, key: &str) -> Result<()> {
        Ok(self.backend.delete(key)?)
    }

    /// Starts a `list`.
    pub fn list(&self) -> ListBuilder<'_> {
        ListBuilder {
            store: self,
            options: ListOptions::default(),
        }
    }

    /// Starts a bulk `get` of `keys` (1 to 100).
    pub fn get_bulk<S: AsRef<str>>(&self, keys: &[S]) -> BulkBuilder<'_> {
        BulkBuilder {
            store: self,
            keys: keys.iter().map(|k| k.as_ref().to_owned()).collect(),
            options: GetOptions::default(),
        }
    }
}

fn decode_text(bytes: Vec<u8>) -> Result<String> {
    Ok(String::from_utf8(bytes)?)
}

fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Json(e.to_string()))
}

/// A pending `get`.
#[derive(Debug)]
pub struct GetBuilder<'a> {
    store: &'a KvStore,
    key: String,
    options: GetOptions,
}

impl GetBuilder<'_> {
    /// Lets the colo serve the result from cache for `seconds` (minimum 30).
    pub fn cache_ttl(mut self, seconds: u32) -> Self {
        self.options.cache_ttl = Some(seconds);
        self
    }

    /// The value as bytes.
    pub async fn bytes(self) -> Result<Option<Vec<u8>>> {
        Ok(self.store.backend.get(&self.key, self.options)?)
    }

    /// The value as text.
    pub async fn text(self) -> Result<Option<String>> {
        self.bytes().await?.map(decode_text).transpose()
    }

    /// The value parsed as JSON.
    pub async fn json<T: DeserializeOwned>(self) -> Result<Option<T>> {
        self.bytes().await?.map(|b| decode_json(&b)).transpose()
    }
}

/// A value with its metadata and cache status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithMetadata<T> {
    /// The value; `None` when the key is missing.
    pub value: Option<T>,
    /// Metadata as JSON text.
    pub metadata: Option<String>,
    /// Hit or miss at this colo (`cacheStatus`).
    pub cache_status: CacheStatus,
}

impl<T> WithMetadata<T> {
    /// The metadata parsed as JSON into `M`.
    pub fn metadata_as<M: DeserializeOwned>(&self) -> Result<Option<M>> {
        self.metadata
            .as_deref()
            .map(|m| decode_json(m.as_bytes()))
            .transpose()
    }
}

/// A pending `getWithMetadata`.
#[derive(Debug)]
pub struct GetWithMetadataBuilder<'a> {
    store: &'a KvStore,
    key: String,
    options: GetOptions,
}

impl GetWithMetadataBuilder<'_> {
    /// Lets the colo serve the result from cache for `seconds` (minimum 30).
    pub fn cache_ttl(mut self, seconds: u32) -> Self {
        self.options.cache_ttl = Some(seconds);
        self
    }

    /// The value as bytes.
    pub async fn bytes(self) -> Result<WithMetadata<Vec<u8>>> {
        let raw = self
            .store
            .backend
            .get_with_metadata(&self.key, self.options)?;
        Ok(WithMetadata {
            value: raw.value,
            metadata: raw.metadata,
            cache_status: raw.cache_status,
        })
    }

    /// The value as text.
    pub async fn text(self) -> Result<WithMetadata<String>> {
        let raw = self.bytes().await?;
        Ok(WithMetadata {
            value: raw.value.map(decode_text).transpose()?,
            metadata: raw.metadata,
            cache_status: raw.cache_status,
        })
    }

    /// The value parsed as JSON.
    pub async fn json<T: DeserializeOwned>(self) -> Result<WithMetadata<T>> {
        let raw = self.bytes().await?;
        Ok(WithMetadata {
            value: raw.value.map(|b| decode_json(&b)).transpose()?,
            metadata: raw.metadata,
            cache_status: raw.cache_status,
        })
    }
}

/// A pending `put`.
#[derive(Debug)]
pub struct PutBuilder<'a> {
    store: &'a KvStore,
    key: String,
    value: Vec<u8>,
    options: PutOptions,
}

impl PutBuilder<'_> {
    /// Expires the key at `unix_seconds`.
    pub fn expiration(mut self, unix_seconds: u64) -> Self {
        self.options.expiration = Some(unix_seconds);
        self
    }

    /// Expires the key `seconds` from now (at least 60).
    pub fn expiration_ttl(mut self, seconds: u64) -> Self {
        self.options.expiration_ttl = Some(seconds);
        self
    }

    /// Attaches `metadata`, serialised as JSON.
    pub fn metadata<M: Serialize + ?Sized>(mut self, metadata: &M) -> Result<Self> {
        self.options.metadata = Some(serde_json::to_string(metadata)?);
        Ok(self)
    }

    /// The options collected so far.
    pub fn options(&self) -> &PutOptions {
        &self.options
    }

    /// Performs the write.
    pub async fn execute(self) -> Result<()> {
        Ok(self
            .store
            .backend
            .put(&self.key, &self.value, &self.options)?)
    }
}

/// A pending `list`.
#[derive(Debug)]
pub struct ListBuilder<'a> {
    store: &'a KvStore,
    options: ListOptions,
}

impl ListBuilder<'_> {
    /// Only keys starting with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.options.prefix = Some(prefix.into());
        self
    }

    /// At most `limit` keys (1 to 1000).
    pub fn limit(mut self, limit: u32) -> Self {
        self.options.limit = Some(limit);
        self
    }

    /// Continue from `cursor`.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.options.cursor = Some(cursor.into());
        self
    }

    /// Performs the list.
    pub async fn execute(self) -> Result<ListResult> {
        Ok(self.store.backend.list(&self.options)?)
    }
}

/// A pending bulk `get`.
#[derive(Debug)]
pub struct BulkBuilder<'a> {
    store: &'a KvStore,
    keys: Vec<String>,
    options: GetOptions,
}

impl BulkBuilder<'_> {
    /// Lets the colo serve the results from cache for `seconds` (minimum 30).
    pub fn cache_ttl(mut self, seconds: u32) -> Self {
        self.options.cache_ttl = Some(seconds);
        self
    }

    /// The raw entries, in the order of the keys.
    pub async fn bytes(self) -> Result<Vec<BulkEntry>> {
        Ok(self.store.backend.get_bulk(&self.keys, self.options)?)
    }

    /// `(key, text)` pairs, in the order of the keys.
    pub async fn text(self) -> Result<Vec<(String, Option<String>)>> {
        self.bytes()
            .await?
            .into_iter()
            .map(|e| Ok((e.key, e.value.map(decode_text).transpose()?)))
            .collect()
    }

    /// `(key, parsed JSON)` pairs, in the order of the keys.
    pub async fn json<T: DeserializeOwned>(self) -> Result<Vec<(String, Option<T>)>> {
        self.bytes()
            .await?
            .into_iter()
            .map(|e| Ok((e.key, e.value.map(|b| decode_json(&b)).transpose()?)))
            .collect()
    }
}
