//! `wasi:keyvalue/store` on the same KV model, so Workers written against the standard interface
//! run unchanged. A bucket is the namespace bound under the bucket's identifier; reads use the
//! default cacheTtl; every call is charged like a binding call.

use crate::kv::{HasKv, KvView};
use edgesim_kv::{GetOptions, KvError, ListOptions, PutOptions};
use std::time::Duration;
use wasmtime::component::Resource;

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/keyvalue",
        world: "wasi:keyvalue/store-imports",
        imports: { default: async | trappable },
        with: { "wasi:keyvalue/store.bucket": super::Bucket },
    });
}

use bindings::wasi::keyvalue::store as wit;

/// Adds `wasi:keyvalue/store` to the linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    get: fn(&mut T) -> KvView<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasKv>(linker, get)
}

/// An open bucket: the binding, and the list cursors handed out as numbers.
pub struct Bucket {
    binding: String,
    cursors: Vec<String>,
}

fn to_wit(e: KvError) -> wit::Error {
    match e {
        KvError::NoSuchBinding(_) => wit::Error::NoSuchStore,
        other => wit::Error::Other(other.to_string()),
    }
}

type Answer<T> = wasmtime::Result<Result<T, wit::Error>>;

async fn sleep(latency: Duration) {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
}

impl wit::Host for KvView<'_> {
    async fn open(&mut self, identifier: String) -> Answer<Resource<Bucket>> {
        if let Err(e) = self.ctx.namespace(&identifier) {
            return Ok(Err(to_wit(e)));
        }
        Ok(Ok(self.table.push(Bucket {
            binding: identifier,
            cursors: Vec::new(),
        })?))
    }
}

impl KvView<'_> {
    fn bucket(&self, b: &Resource<Bucket>) -> wasmtime::Result<String> {
        Ok(self.table.get(b)?.binding.clone())
    }

    async fn read(&mut self, binding: &str, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.ctx.charge()?;
        let r = self
            .ctx
            .namespace(binding)?
            .get(&self.ctx.colo, key, &GetOptions::default());
        match r {
            Ok(r) => {
                self.ctx.record(binding, "get", key, Ok(r.cache_status));
                sleep(r.latency).await;
                Ok(r.value)
            }
            Err(e) => {
                self.ctx.record(binding, "get", key, Err(e.message()));
                Err(e)
            }
        }
    }
}

impl wit::HostBucket for KvView<'_> {
    async fn get(&mut self, b: Resource<Bucket>, key: String) -> Answer<Option<Vec<u8>>> {
        let binding = self.bucket(&b)?;
        Ok(self.read(&binding, &key).await.map_err(to_wit))
    }

    async fn set(&mut self, b: Resource<Bucket>, key: String, value: Vec<u8>) -> Answer<()> {
        let binding = self.bucket(&b)?;
        let w = self.ctx.charge().and_then(|()| {
            self.ctx
                .namespace(&binding)?
                .put(&self.ctx.colo, &key, value, &PutOptions::default())
        });
        match w {
            Ok(w) => {
                self.ctx.record_write(&binding, "put", &key, Ok(()));
                sleep(w.latency).await;
                Ok(Ok(()))
            }
            Err(e) => {
                self.ctx
                    .record_write(&binding, "put", &key, Err(e.message()));
                Ok(Err(to_wit(e)))
            }
        }
    }

    async fn delete(&mut self, b: Resource<Bucket>, key: String) -> Answer<()> {
        let binding = self.bucket(&b)?;
        let w = self
            .ctx
            .charge()
            .and_then(|()| self.ctx.namespace(&binding)?.delete(&self.ctx.colo, &key));
        match w {
            Ok(w) => {
                self.ctx.record_write(&binding, "delete", &key, Ok(()));
                sleep(w.latency).await;
                Ok(Ok(()))
            }
            Err(e) => {
                self.ctx
                    .record_write(&binding, "delete", &key, Err(e.message()));
                Ok(Err(to_wit(e)))
            }
        }
    }

    async fn exists(&mut self, b: Resource<Bucket>, key: String) -> Answer<bool> {
        let binding = self.bucket(&b)?;
        Ok(self
            .read(&binding, &key)
            .await
            .map(|v| v.is_some())
            .map_err(to_wit))
    }

    async fn list_keys(
        &mut self,
        b: Resource<Bucket>,
        cursor: Option<u64>,
    ) -> Answer<wit::KeyResponse> {
        let binding = self.bucket(&b)?;
        let cursor = match cursor {
            None => None,
            Some(n) => match self.table.get(&b)?.cursors.get(n as usize) {
                Some(c) => Some(c.clone()),
                None => return Ok(Err(wit::Error::Other(edgesim_kv_invalid_cursor()))),
            },
        };
        let r = self.ctx.charge().and_then(|()| {
            self.ctx.namespace(&binding)?.list(
                &self.ctx.colo,
                &ListOptions {
                    prefix: None,
                    limit: None,
                    cursor,
                },
            )
        });
        let page = match r {
            Ok(r) => {
                self.ctx.record(&binding, "list", "", Ok(r.cache_status));
                sleep(r.latency).await;
                r.value
            }
            Err(e) => {
                self.ctx.record(&binding, "list", "", Err(e.message()));
                return Ok(Err(to_wit(e)));
            }
        };
        let next = match (page.list_complete, page.cursor) {
            (false, Some(c)) => {
                let bucket = self.table.get_mut(&b)?;
                bucket.cursors.push(c);
                Some(bucket.cursors.len() as u64 - 1)
            }
            _ => None,
        };
        Ok(Ok(wit::KeyResponse {
            keys: page.keys.into_iter().map(|k| k.name).collect(),
            cursor: next,
        }))
    }

    async fn drop(&mut self, b: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

fn edgesim_kv_invalid_cursor() -> String {
    "KV GET failed: 400 Invalid cursor".to_string()
}

#[cfg(test)]
mod tests {
    use super::Bucket;
    use super::wit::{self, Host as _, HostBucket as _};
    use crate::kv::KvView;
    use crate::kv::tests::kv_ctx;
    use wasmtime::component::{Resource, ResourceTable};

    fn borrow(b: &Resource<Bucket>) -> Resource<Bucket> {
        Resource::new_borrow(b.rep())
    }

    #[tokio::test(start_paused = true)]
    async fn buckets_are_kv_bindings() {
        let (mut ctx, _, _) = kv_ctx("SYD", 1000);
        let mut table = ResourceTable::new();
        let mut kv = KvView {
            ctx: &mut ctx,
            table: &mut table,
        };
        assert!(matches!(
            kv.open("NOPE".into()).await.unwrap(),
            Err(wit::Error::NoSuchStore)
        ));
        let b = kv.open("ARTICLES".into()).await.unwrap().unwrap();
        assert_eq!(kv.get(borrow(&b), "k".into()).await.unwrap().unwrap(), None);
        assert!(!kv.exists(borrow(&b), "k".into()).await.unwrap().unwrap());
        kv.set(borrow(&b), "k".into(), b"v".to_vec())
            .await
            .unwrap()
            .unwrap();
        // The colo that took the request sees its own write.
        assert_eq!(
            kv.get(borrow(&b), "k".into()).await.unwrap().unwrap(),
            Some(b"v".to_vec())
        );
        // A second write within a second gets production's 429 message.
        let again = kv.set(borrow(&b), "k".into(), b"w".to_vec()).await.unwrap();
        assert!(
            matches!(&again, Err(wit::Error::Other(m)) if m == "KV PUT failed: 429 Too Many Requests"),
            "{again:?}"
        );
        let page = kv.list_keys(borrow(&b), None).await.unwrap().unwrap();
        assert_eq!(page.cursor, None);
        assert!(matches!(
            kv.list_keys(borrow(&b), Some(7)).await.unwrap(),
            Err(wit::Error::Other(_))
        ));
        kv.drop(b).await.unwrap();
    }
}
