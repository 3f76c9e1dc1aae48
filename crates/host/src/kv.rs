//! The guest's KV: our `edgesim:worker/kv` interface on the multi-region model, at the request's
//! colo, charged against the per-invocation operation budget. Each call sleeps the latency the
//! model returns (on tokio's clock, so virtual time under simulation) before answering.

use crate::observer::{HostEvent, SharedObserver};
use crate::state::InvocationStats;
use edgesim_kv::{CacheStatus, KvError, KvStore, OpBudget};
use std::sync::Arc;
use std::sync::atomic::Ordering;
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

/// Per-request KV state.
pub(crate) struct KvCtx {
    pub store: KvStore,
    pub colo: String,
    pub ray: String,
    pub bindings: Arc<Vec<String>>,
    pub budget: OpBudget,
    pub stats: Arc<InvocationStats>,
    pub observer: SharedObserver,
}

impl KvCtx {
    /// Charges one operation; the error when the budget is spent.
    pub fn charge(&mut self) -> Result<(), KvError> {
        self.stats.kv_ops.fetch_add(1, Ordering::Relaxed);
        self.budget.charge()
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

impl KvView<'_> {
    fn binding(&self, ns: &Resource<NamespaceHandle>) -> wasmtime::Result<String> {
        Ok(self.table.get(ns)?.binding.clone())
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
        let read = self.ctx.charge().and_then(|()| {
            self.ctx
                .namespace(&binding)?
                .get(&self.ctx.colo, &key, &get_options(options))
        });
        self.finish_read(&binding, "get", &key, read, |r| r.value)
            .await
    }

    async fn get_with_metadata(
        &mut self,
        ns: Resource<NamespaceHandle>,
        key: String,
        options: wit::GetOptions,
    ) -> Answer<wit::ValueWithMetadata> {
        let binding = self.binding(&ns)?;
        let read = self.ctx.charge().and_then(|()| {
            self.ctx.namespace(&binding)?.get_with_metadata(
                &self.ctx.colo,
                &key,
                &get_options(options),
            )
        });
        self.finish_read(&binding, "get_with_metadata", &key, read, |r| {
            wit::ValueWithMetadata {
                value: r.value.value,
                metadata: json_text(r.value.metadata),
                cache_status: wit_status(r.cache_status),
            }
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
        let write = self.ctx.charge().and_then(|()| {
            let opts = edgesim_kv::PutOptions {
                expiration: options.expiration,
                expiration_ttl: options.expiration_ttl,
                metadata: metadata(options.metadata)?,
            };
            self.ctx
                .namespace(&binding)?
                .put(&self.ctx.colo, &key, value, &opts)
        });
        self.finish_write(&binding, "put", &key, write).await
    }

    async fn delete(&mut self, ns: Resource<NamespaceHandle>, key: String) -> Answer<()> {
        let binding = self.binding(&ns)?;
        let write = self
            .ctx
            .charge()
            .and_then(|()| self.ctx.namespace(&binding)?.delete(&self.ctx.colo, &key));
        self.finish_write(&binding, "delete", &key, write).await
    }

    async fn list(
        &mut self,
        ns: Resource<NamespaceHandle>,
        options: wit::ListOptions,
    ) -> Answer<wit::ListResult> {
        let binding = self.binding(&ns)?;
        let prefix = options.prefix.clone().unwrap_or_default();
        let read = self.ctx.charge().and_then(|()| {
            let opts = edgesim_kv::ListOptions {
                prefix: options.prefix,
                limit: options.limit.map(u64::from),
                cursor: options.cursor,
            };
            self.ctx.namespace(&binding)?.list(&self.ctx.colo, &opts)
        });
        self.finish_read(&binding, "list", &prefix, read, |r| {
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
        let first = keys.first().cloned().unwrap_or_default();
        let read = self.ctx.charge().and_then(|()| {
            self.ctx
                .namespace(&binding)?
                .get_bulk(&self.ctx.colo, &keys, &get_options(options))
        });
        match read {
            Ok(r) => {
                for entry in &r.value {
                    self.ctx
                        .record(&binding, "get_bulk", &entry.key, Ok(entry.cache_status));
                }
                charge_latency(r.latency).await;
                Ok(Ok(r
                    .value
                    .into_iter()
                    .map(|e| wit::BulkEntry {
                        key: e.key,
                        value: e.value,
                        metadata: json_text(e.metadata),
                    })
                    .collect()))
            }
            Err(e) => {
                self.ctx
                    .record(&binding, "get_bulk", &first, Err(e.message()));
                Ok(Err(to_wit(e)))
            }
        }
    }

    async fn drop(&mut self, ns: Resource<NamespaceHandle>) -> wasmtime::Result<()> {
        self.table.delete(ns)?;
        Ok(())
    }
}

impl KvView<'_> {
    /// Records a single-key read (hit, miss or error), charges its latency, and converts it.
    async fn finish_read<T, U>(
        &mut self,
        binding: &str,
        op: &str,
        key: &str,
        read: Result<edgesim_kv::Read<T>, KvError>,
        convert: impl FnOnce(edgesim_kv::Read<T>) -> U,
    ) -> Answer<U> {
        match read {
            Ok(r) => {
                self.ctx.record(binding, op, key, Ok(r.cache_status));
                charge_latency(r.latency).await;
                Ok(Ok(convert(r)))
            }
            Err(e) => {
                self.ctx.record(binding, op, key, Err(e.message()));
                Ok(Err(to_wit(e)))
            }
        }
    }

    async fn finish_write(
        &mut self,
        binding: &str,
        op: &str,
        key: &str,
        write: Result<edgesim_kv::Write, KvError>,
    ) -> Answer<()> {
        match write {
            Ok(w) => {
                self.ctx.record_write(binding, op, key, Ok(()));
                charge_latency(w.latency).await;
                Ok(Ok(()))
            }
            Err(e) => {
                self.ctx.record_write(binding, op, key, Err(e.message()));
                Ok(Err(to_wit(e)))
            }
        }
    }
}
