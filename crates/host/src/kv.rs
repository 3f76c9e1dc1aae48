//! The guest's KV: our `edgesim:worker/kv` interface on the multi-region model, at the request's
//! colo, charged against the per-invocation operation budget. Each call sleeps the latency the
//! model returns (on tokio's clock, so virtual time under simulation) before answering.

use crate::observer::{HostEvent, SharedObserver};
use crate::state::InvocationStats;
use edgesim_kv::{CacheStatus, KvError, KvStore, OpBudget};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::{HasData, Resource, ResourceTable};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "edgesim:worker/kv-imports",
        imports: { default: async | trappable },
        with: { "edgesim:worker/kv.namespace": super::NamespaceHandle },
    });
}

use bindings::edgesim::worker::kv as wit;

pub(crate) use wit::add_to_linker;

#[cfg(test)]
pub(crate) mod tests;

/// A namespace the guest opened: its binding name.
pub struct NamespaceHandle {
    binding: String,
}

/// Per-request KV state. Clones share the operation budget (the internal host that serves
/// JavaScript Workers' KV calls holds a clone).
#[derive(Clone)]
pub(crate) struct KvCtx {
    pub store: KvStore,
    pub colo: String,
    pub ray: String,
    pub bindings: Arc<Vec<String>>,
    pub budget: Arc<Mutex<OpBudget>>,
    pub stats: Arc<InvocationStats>,
    pub observer: SharedObserver,
}

impl KvCtx {
    /// Charges one operation; the error when the budget is spent.
    pub fn charge(&self) -> Result<(), KvError> {
        self.stats.kv_ops.fetch_add(1, Ordering::Relaxed);
        self.budget
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .charge()
    }

    /// The model's namespace for `binding`, if the Worker has it bound.
    pub fn namespace(&self, binding: &str) -> Result<edgesim_kv::Namespace, KvError> {
        if !self.bindings.iter().any(|b| b == binding) {
            return Err(KvError::NoSuchBinding(format!(
                "No KV namespace is bound as \"{binding}\"."
            )));
        }
        self.store.namespace(binding)
    }

    /// Counts a read's cache status and reports the call.
    pub fn record(&self, binding: &str, op: &str, key: &str, result: Result<CacheStatus, &str>) {
        let result = match result {
            Ok(CacheStatus::Hit) => {
                self.stats.kv_hits.fetch_add(1, Ordering::Relaxed);
                "hit"
            }
            Ok(CacheStatus::Miss) => {
                self.stats.kv_misses.fetch_add(1, Ordering::Relaxed);
                "miss"
            }
            Err(msg) => msg,
        };
        if !self.observer.enabled() {
            return;
        }
        self.observer.event(&HostEvent::KvCall {
            ray: self.ray.clone(),
            colo: self.colo.clone(),
            binding: binding.to_string(),
            op: op.to_string(),
            key: key.to_string(),
            result: result.to_string(),
        });
    }

    /// Reports a write.
    pub fn record_write(&self, binding: &str, op: &str, key: &str, result: Result<(), &str>) {
        if !self.observer.enabled() {
            return;
        }
        self.observer.event(&HostEvent::KvCall {
            ray: self.ray.clone(),
            colo: self.colo.clone(),
            binding: binding.to_string(),
            op: op.to_string(),
            key: key.to_string(),
            result: match result {
                Ok(()) => "ok".to_string(),
                Err(m) => m.to_string(),
            },
        });
    }
}

/// The borrowed view the generated `Host` traits are implemented on.
pub(crate) struct KvView<'a> {
    pub ctx: &'a mut KvCtx,
    pub table: &'a mut ResourceTable,
}

/// [`HasData`] marker for linking the KV interfaces.
pub(crate) struct HasKv;

impl HasData for HasKv {
    type Data<'a> = KvView<'a>;
}

fn to_wit(e: KvError) -> wit::KvError {
    match e {
        KvError::Invalid(m) => wit::KvError::Invalid(m),
        KvError::TooManyRequests(m) => wit::KvError::TooManyRequests(m),
        KvError::Unavailable(m) => wit::KvError::Unavailable(m),
        KvError::TooManyOperations(m) => wit::KvError::TooManyOperations(m),
        KvError::NoSuchBinding(m) => wit::KvError::NoSuchBinding(m),
    }
}

fn wit_status(s: CacheStatus) -> wit::CacheStatus {
    match s {
        CacheStatus::Hit => wit::CacheStatus::Hit,
        CacheStatus::Miss => wit::CacheStatus::Miss,
    }
}

fn get_options(o: wit::GetOptions) -> edgesim_kv::GetOptions {
    edgesim_kv::GetOptions {
        cache_ttl: o.cache_ttl.map(u64::from),
    }
}

/// Parses metadata JSON text from the guest.
fn metadata(text: Option<String>) -> Result<Option<serde_json::Value>, KvError> {
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| KvError::Invalid(format!("KV PUT failed: 400 Invalid metadata JSON: {e}")))
    })
    .transpose()
}

fn json_text(v: Option<serde_json::Value>) -> Option<String> {
    v.map(|v| v.to_string())
}

/// Waits the model's latency on tokio's clock.
async fn charge_latency(latency: Duration) {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
}

type Answer<T> = wasmtime::Result<Result<T, wit::KvError>>;

/// The binding operations on the model, each charged against the invocation's budget and
/// recorded (hit/miss counters, [`HostEvent::KvCall`]). Both ways a guest reaches KV use these:
/// the `edgesim:worker/kv` interface below and the reserved internal host JavaScript Workers
/// call ([`crate::internal`]), so limits, errors, events and latency are the same. The caller
/// waits the returned latency ([`charge_latency`]).
impl KvCtx {
    /// `get(key, {cacheTtl})`.
    pub fn get(
        &self,
        binding: &str,
        key: &str,
        opts: &edgesim_kv::GetOptions,
    ) -> Result<edgesim_kv::Read<Option<Vec<u8>>>, KvError> {
        let read = self
            .charge()
            .and_then(|()| self.namespace(binding)?.get(&self.colo, key, opts));
        self.recorded(binding, "get", key, read)
    }

    /// `getWithMetadata(key, {cacheTtl})`.
    pub fn get_with_metadata(
        &self,
        binding: &str,
        key: &str,
        opts: &edgesim_kv::GetOptions,
    ) -> Result<edgesim_kv::Read<edgesim_kv::ValueWithMetadata>, KvError> {
        let read = self.charge().and_then(|()| {
            self.namespace(binding)?
                .get_with_metadata(&self.colo, key, opts)
        });
        self.recorded(binding, "get_with_metadata", key, read)
    }

    /// `put(key, value, {expiration, expirationTtl, metadata})`.
    pub fn put(
        &self,
        binding: &str,
        key: &str,
        value: Vec<u8>,
        opts: &edgesim_kv::PutOptions,
    ) -> Result<edgesim_kv::Write, KvError> {
        let write = self
            .charge()
            .and_then(|()| self.namespace(binding)?.put(&self.colo, key, value, opts));
        self.record_write(
            binding,
            "put",
            key,
            write.as_ref().map(|_| ()).map_err(|e| e.message()),
        );
        write
    }

    /// `delete(key)`.
    pub fn delete(&self, binding: &str, key: &str) -> Result<edgesim_kv::Write, KvError> {
        let write = self
            .charge()
            .and_then(|()| self.namespace(binding)?.delete(&self.colo, key));
        self.record_write(
            binding,
            "delete",
            key,
            write.as_ref().map(|_| ()).map_err(|e| e.message()),
        );
        write
    }

    /// `list({prefix, limit, cursor})` (recorded under the prefix).
    pub fn list(
        &self,
        binding: &str,
        opts: &edgesim_kv::ListOptions,
    ) -> Result<edgesim_kv::Read<edgesim_kv::ListResult>, KvError> {
        let prefix = opts.prefix.clone().unwrap_or_default();
        let read = self
            .charge()
            .and_then(|()| self.namespace(binding)?.list(&self.colo, opts));
        self.recorded(binding, "list", &prefix, read)
    }

    /// Bulk `get([keys], {cacheTtl})` (one operation; each key recorded). `check`, when given,
    /// vets the result before it is recorded (the JavaScript binding's `json` type refuses
    /// values that are not JSON); its error is recorded like the model's.
    pub fn get_bulk(
        &self,
        binding: &str,
        keys: &[String],
        opts: &edgesim_kv::GetOptions,
        check: impl FnOnce(&[edgesim_kv::BulkEntry]) -> Result<(), KvError>,
    ) -> Result<edgesim_kv::Read<Vec<edgesim_kv::BulkEntry>>, KvError> {
        let first = keys.first().cloned().unwrap_or_default();
        let read = self.charge().and_then(|()| {
            let r = self.namespace(binding)?.get_bulk(&self.colo, keys, opts)?;
            check(&r.value)?;
            Ok(r)
        });
        match &read {
            Ok(r) => {
                for entry in &r.value {
                    self.record(binding, "get_bulk", &entry.key, Ok(entry.cache_status));
                }
            }
            Err(e) => self.record(binding, "get_bulk", &first, Err(e.message())),
        }
        read
    }

    /// Records a single-key read (hit, miss or error) and passes it on.
    fn recorded<T>(
        &self,
        binding: &str,
        op: &str,
        key: &str,
        read: Result<edgesim_kv::Read<T>, KvError>,
    ) -> Result<edgesim_kv::Read<T>, KvError> {
        let status = read
            .as_ref()
            .map(|r| r.cache_status)
            .map_err(|e| e.message());
        self.record(binding, op, key, status);
        read
    }
}

impl KvView<'_> {
    fn binding(&self, ns: &Resource<NamespaceHandle>) -> wasmtime::Result<String> {
        Ok(self.table.get(ns)?.binding.clone())
    }
}

/// Waits a read's latency and converts its value, or converts its error.
async fn answer_read<T, U>(
    read: Result<edgesim_kv::Read<T>, KvError>,
    convert: impl FnOnce(edgesim_kv::Read<T>) -> U,
) -> Answer<U> {
    match read {
        Ok(r) => {
            charge_latency(r.latency).await;
            Ok(Ok(convert(r)))
        }
        Err(e) => Ok(Err(to_wit(e))),
    }
}

/// Waits a write's latency, or converts its error.
async fn answer_write(write: Result<edgesim_kv::Write, KvError>) -> Answer<()> {
    match write {
        Ok(w) => {
            charge_latency(w.latency).await;
            Ok(Ok(()))
        }
        Err(e) => Ok(Err(to_wit(e))),
    }
}

impl wit::Host for KvView<'_> {}

impl wit::HostNamespace for KvView<'_> {
    async fn open(&mut self, binding: String) -> Answer<Resource<NamespaceHandle>> {
        if let Err(e) = self.ctx.namespace(&binding) {
            return Ok(Err(to_wit(e)));
        }
        Ok(Ok(self.table.push(NamespaceHandle { binding })?))
    }

    async fn get(
        &mut self,
        ns: Resource<NamespaceHandle>,
        key: String,
        options: wit::GetOptions,
    ) -> Answer<Option<Vec<u8>>> {
        let binding = self.binding(&ns)?;
        let read = self.ctx.get(&binding, &key, &get_options(options));
        answer_read(read, |r| r.value).await
    }

    async fn get_with_metadata(
        &mut self,
        ns: Resource<NamespaceHandle>,
        key: String,
        options: wit::GetOptions,
    ) -> Answer<wit::ValueWithMetadata> {
        let binding = self.binding(&ns)?;
        let read = self
            .ctx
            .get_with_metadata(&binding, &key, &get_options(options));
        answer_read(read, |r| wit::ValueWithMetadata {
            value: r.value.value,
            metadata: json_text(r.value.metadata),
            cache_status: wit_status(r.cache_status),
        })
        .await
    }

    async fn put(
        &mut self,
        ns: Resource<NamespaceHandle>,
        key: String,
        value: Vec<u8>,
        options: wit::PutOptions,
    ) -> Answer<()> {
        let binding = self.binding(&ns)?;
        let write = match metadata(options.metadata) {
            Ok(metadata) => {
                let opts = edgesim_kv::PutOptions {
                    expiration: options.expiration,
                    expiration_ttl: options.expiration_ttl,
                    metadata,
                };
                self.ctx.put(&binding, &key, value, &opts)
            }
            // Charged and recorded like any failed put.
            Err(e) => self.ctx.charge().and(Err(e)).inspect_err(|e| {
                self.ctx
                    .record_write(&binding, "put", &key, Err(e.message()))
            }),
        };
        answer_write(write).await
    }

    async fn delete(&mut self, ns: Resource<NamespaceHandle>, key: String) -> Answer<()> {
        let binding = self.binding(&ns)?;
        let write = self.ctx.delete(&binding, &key);
        answer_write(write).await
    }

    async fn list(
        &mut self,
        ns: Resource<NamespaceHandle>,
        options: wit::ListOptions,
    ) -> Answer<wit::ListResult> {
        let binding = self.binding(&ns)?;
        let opts = edgesim_kv::ListOptions {
            prefix: options.prefix,
            limit: options.limit.map(u64::from),
            cursor: options.cursor,
        };
        let read = self.ctx.list(&binding, &opts);
        answer_read(read, |r| {
            let page = r.value;
            wit::ListResult {
                keys: page
                    .keys
                    .into_iter()
                    .map(|k| wit::ListKey {
                        name: k.name,
                        expiration: k.expiration,
                        metadata: json_text(k.metadata),
                    })
                    .collect(),
                list_complete: page.list_complete,
                cursor: page.cursor,
                cache_status: wit_status(r.cache_status),
            }
        })
        .await
    }

    async fn get_bulk(
        &mut self,
        ns: Resource<NamespaceHandle>,
        keys: Vec<String>,
        options: wit::GetOptions,
    ) -> Answer<Vec<wit::BulkEntry>> {
        let binding = self.binding(&ns)?;
        let read = self
            .ctx
            .get_bulk(&binding, &keys, &get_options(options), |_| Ok(()));
        answer_read(read, |r| {
            r.value
                .into_iter()
                .map(|e| wit::BulkEntry {
                    key: e.key,
                    value: e.value,
                    metadata: json_text(e.metadata),
                })
                .collect()
        })
        .await
    }

    async fn drop(&mut self, ns: Resource<NamespaceHandle>) -> wasmtime::Result<()> {
        self.table.delete(ns)?;
        Ok(())
    }
}
