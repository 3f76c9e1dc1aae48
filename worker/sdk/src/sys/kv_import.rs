//! [`KvBackend`] over the `edgesim:worker/kv.namespace` resource.

use super::bindings::edgesim::worker::kv as wit;
use crate::error::KvError;
use crate::kv::{
    BulkEntry, CacheStatus, GetOptions, KvBackend, ListKey, ListOptions, ListResult, PutOptions,
    RawWithMetadata,
};
use std::rc::Rc;

/// Opens the namespace bound as `binding` through the host.
pub fn open_namespace(binding: &str) -> Result<Rc<dyn KvBackend>, KvError> {
    let ns = wit::Namespace::open(binding).map_err(convert_error)?;
    Ok(Rc::new(WitNamespace(ns)))
}

struct WitNamespace(wit::Namespace);

fn convert_error(e: wit::KvError) -> KvError {
    match e {
        wit::KvError::Invalid(m) => KvError::Invalid(m),
        wit::KvError::TooManyRequests(m) => KvError::TooManyRequests(m),
        wit::KvError::Unavailable(m) => KvError::Unavailable(m),
        wit::KvError::TooManyOperations(m) => KvError::TooManyOperations(m),
        wit::KvError::NoSuchBinding(m) => KvError::NoSuchBinding(m),
    }
}

fn get_options(o: GetOptions) -> wit::GetOptions {
    wit::GetOptions {
        cache_ttl: o.cache_ttl,
    }
}

fn cache_status(s: wit::CacheStatus) -> CacheStatus {
    match s {
        wit::CacheStatus::Hit => CacheStatus::Hit,
        wit::CacheStatus::Miss => CacheStatus::Miss,
    }
}

impl KvBackend for WitNamespace {
    fn get(&self, key: &str, options: GetOptions) -> Result<Option<Vec<u8>>, KvError> {
        self.0.get(key, get_options(options)).map_err(convert_error)
    }

    fn get_with_metadata(
        &self,
        key: &str,
        options: GetOptions,
    ) -> Result<RawWithMetadata, KvError> {
        let v = self
            .0
            .get_with_metadata(key, get_options(options))
            .map_err(convert_error)?;
        Ok(RawWithMetadata {
            value: v.value,
            metadata: v.metadata,
            cache_status: cache_status(v.cache_status),
        })
    }

    fn put(&self, key: &str, value: &[u8], options: &PutOptions) -> Result<(), KvError> {
        let opts = wit::PutOptions {
            expiration: options.expiration,
            expiration_ttl: options.expiration_ttl,
            metadata: options.metadata.clone(),
        };
        self.0.put(key, value, &opts).map_err(convert_error)
    }

    fn delete(&self, key: &str) -> Result<(), KvError> {
        self.0.delete(key).map_err(convert_error)
    }

    fn list(&self, options: &ListOptions) -> Result<ListResult, KvError> {
        let opts = wit::ListOptions {
            prefix: options.prefix.clone(),
            limit: options.limit,
            cursor: options.cursor.clone(),
        };
        let r = self.0.list(&opts).map_err(convert_error)?;
        Ok(ListResult {
            keys: r
                .keys
                .into_iter()
                .map(|k| ListKey {
                    name: k.name,
                    expiration: k.expiration,
                    metadata: k.metadata,
                })
                .collect(),
            list_complete: r.list_complete,
            cursor: r.cursor,
            cache_status: cache_status(r.cache_status),
        })
    }

    fn get_bulk(&self, keys: &[String], options: GetOptions) -> Result<Vec<BulkEntry>, KvError> {
        let r = self
            .0
            .get_bulk(keys, get_options(options))
            .map_err(convert_error)?;
        Ok(r.into_iter()
            .map(|e| BulkEntry {
                key: e.key,
                value: e.value,
                metadata: e.metadata,
            })
            .collect())
    }
}
