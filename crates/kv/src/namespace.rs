//! [`Namespace`]: the binding's operations, run at a named colo.

use crate::cache::{CacheEntry, Record};
use crate::limits::{self, KvError, backend_error};
use crate::model::{NsState, ReadAt, ReadBlocked};
use crate::store::{Inner, KvStore};
use crate::types::*;
use crate::view::{CacheView, KeyView, PendingView, RecordView};
use std::sync::Arc;
use std::time::Duration;

/// One KV namespace (e.g. `ARTICLES`). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Namespace {
    pub(crate) store: KvStore,
    pub(crate) name: Arc<str>,
}

struct OneRead {
    entry: CacheEntry,
    hit: bool,
    latency_ms: u64,
    /// The cacheTtl the read used, seconds.
    ttl_s: u64,
}

impl Namespace {
    pub(crate) fn new(store: KvStore, name: &str) -> Self {
        Self {
            store,
            name: name.into(),
        }
    }

    /// The binding name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// This namespace's effective propagation, read-your-writes and default cacheTtl.
    pub fn params(&self) -> crate::NamespaceParams {
        self.store.config().params_for(&self.name)
    }

    /// The store this namespace belongs to.
    pub fn store(&self) -> &KvStore {
        &self.store
    }

    pub(crate) fn event(&self, now: u64, colo: &str, op: OpKind, key: Option<&str>) -> KvEvent {
        KvEvent {
            at_ms: now,
            namespace: self.name.to_string(),
            colo: colo.to_string(),
            op,
            key: key.map(str::to_string),
            version: None,
            cache_status: None,
            error: None,
            latency_ms: 0,
            cache_ttl_s: None,
            expiration_ms: None,
        }
    }

    pub(crate) fn fail<T>(
        &self,
        now: u64,
        colo: &str,
        op: OpKind,
        key: Option<&str>,
        e: KvError,
    ) -> Result<T, KvError> {
        self.store.emit(|| KvEvent {
            error: Some(e.to_string()),
            ..self.event(now, colo, op, key)
        });
        Err(e)
    }

    /// Everything about a read at colo `ci` but its cacheTtl (set once the namespace is known).
    fn read_at(&self, inner: &Inner, ci: usize, colo: &str, opts: &GetOptions, now: u64) -> ReadAt {
        ReadAt {
            colo: ci,
            now_ms: now,
            ttl_s: 0,
            explicit_ttl: opts.cache_ttl.is_some(),
            latency_to_central_ms: inner.config.colos[ci].latency_to_central_ms,
            regional_tier: inner.config.regional_tier,
            partitioned: self.store.faults.is_partitioned(colo, now),
        }
    }

    /// What get and get_bulk do once their keys are valid: check `opts.cache_ttl`, resolve
    /// the colo, draw the faults for `keys` (an injected error ends the read), settle the
    /// namespace at `now`, then call `f` with it, the read's [`ReadAt`] (cacheTtl defaulting to
    /// the namespace's) and the injected extra latency.
    fn cached_read<T>(
        &self,
        op: OpKind,
        colo: &str,
        keys: &[&str],
        opts: &GetOptions,
        now: u64,
        f: impl FnOnce(&mut NsState, &ReadAt, u64) -> Result<T, KvError>,
    ) -> Result<T, KvError> {
        let requested = limits::cache_ttl(op, opts.cache_ttl)?;
        let mut inner = self.store.lock();
        let ci = inner.colo(colo)?;
        let injected = self.store.faults.inject(op, colo, keys, now);
        if let Some(e) = injected.error {
            return Err(e);
        }
        let at = self.read_at(&inner, ci, colo, opts, now);
        let ns = inner.settled(&self.name, now)?;
        let at = ReadAt {
            ttl_s: requested.unwrap_or(ns.params.default_cache_ttl_s),
            ..at
        };
        f(ns, &at, injected.extra_latency_ms)
    }

    /// The read path shared by get and get_with_metadata.
    fn read(
        &self,
        op: OpKind,
        colo: &str,
        key: &str,
        opts: &GetOptions,
    ) -> Result<OneRead, KvError> {
        let now = self.store.clock.now_ms();
        let r = (|| {
            limits::validate_key(op, key)?;
            self.cached_read(op, colo, &[key], opts, now, |ns, at, extra_ms| {
                match ns.read(at, key) {
                    Ok(s) => Ok(OneRead {
                        entry: s.entry,
                        hit: s.hit,
                        latency_ms: s.latency_ms + extra_ms,
                        ttl_s: at.ttl_s,
                    }),
                    Err(ReadBlocked::Partitioned) => Err(backend_error(op, 503)),
                }
            })
        })();
        match r {
            Ok(one) => {
                self.store.emit(|| KvEvent {
                    version: one.entry.served_version(),
                    cache_status: Some(status(one.hit)),
                    latency_ms: one.latency_ms,
                    cache_ttl_s: Some(one.ttl_s),
                    ..self.event(now, colo, op, Some(key))
                });
                Ok(one)
            }
            Err(e) => self.fail(now, colo, op, Some(key), e),
        }
    }

    /// `get(key, {cacheTtl})` at `colo`: the value, or `None` when missing.
    pub fn get(
        &self,
        colo: &str,
        key: &str,
        opts: &GetOptions,
    ) -> Result<Read<Option<Vec<u8>>>, KvError> {
        let one = self.read(OpKind::Get, colo, key, opts)?;
        Ok(Read {
            version: one.entry.served_version(),
            value: one.entry.value.as_deref().cloned(),
            cache_status: status(one.hit),
            latency: Duration::from_millis(one.latency_ms),
        })
    }

    /// `getWithMetadata(key, {cacheTtl})` at `colo`.
    pub fn get_with_metadata(
        &self,
        colo: &str,
        key: &str,
        opts: &GetOptions,
    ) -> Result<Read<ValueWithMetadata>, KvError> {
        let one = self.read(OpKind::GetWithMetadata, colo, key, opts)?;
        Ok(Read {
            version: one.entry.served_version(),
            value: ValueWithMetadata {
                value: one.entry.value.as_deref().cloned(),
                metadata: one.entry.metadata.as_deref().cloned(),
            },
            cache_status: status(one.hit),
            latency: Duration::from_millis(one.latency_ms),
        })
    }

    /// `put(key, value, {expiration, expirationTtl, metadata})` at `colo`.
    pub fn put(
        &self,
        colo: &str,
        key: &str,
        value: Vec<u8>,
        opts: &PutOptions,
    ) -> Result<Write, KvError> {
        let op = OpKind::Put;
        let now = self.store.clock.now_ms();
        let mut expires = None;
        let r = (|| {
            limits::validate_key(op, key)?;
            let expiration =
                limits::expiration(op, opts.expiration, opts.expiration_ttl, now / 1000)?;
            expires = expiration.map(|s| s.saturating_mul(1000));
            if let Some(m) = &opts.metadata {
                limits::validate_metadata(op, m)?;
            }
            limits::validate_value(op, value.len())?;
            let record = Record {
                value: Some(Arc::new(value)),
                metadata: opts.metadata.clone().map(Arc::new),
                expiration,
                version: 0,
            };
            self.write(op, colo, key, record, now)
        })();
        self.finish_write(now, colo, op, key, r, expires)
    }

    /// `delete(key)` at `colo`: a tombstone that travels like a put.
    pub fn delete(&self, colo: &str, key: &str) -> Result<Write, KvError> {
        let op = OpKind::Delete;
        let now = self.store.clock.now_ms();
        let r = (|| {
            limits::validate_key(op, key)?;
            let record = Record {
                value: None,
                metadata: None,
                expiration: None,
                version: 0,
            };
            self.write(op, colo, key, record, now)
        })();
        self.finish_write(now, colo, op, key, r, None)
    }

    /// Emits a write's event; `expiration_ms`: when a put's value expires (epoch ms).
    fn finish_write(
        &self,
        now: u64,
        colo: &str,
        op: OpKind,
        key: &str,
        r: Result<Write, KvError>,
        expiration_ms: Option<u64>,
    ) -> Result<Write, KvError> {
        match r {
            Ok(w) => {
                self.store.emit(|| KvEvent {
                    version: Some(w.version),
                    latency_ms: w.latency.as_millis() as u64,
                    expiration_ms,
                    ..self.event(now, colo, op, Some(key))
                });
                Ok(w)
            }
            Err(e) => self.fail(now, colo, op, Some(key), e),
        }
    }

    fn write(
        &self,
        op: OpKind,
        colo: &str,
        key: &str,
        record: Record,
        now: u64,
    ) -> Result<Write, KvError> {
        let mut inner = self.store.lock();
        let ci = inner.colo(colo)?;
        if self.store.faults.is_partitioned(colo, now) {
            return Err(backend_error(op, 503));
        }
        let injected = self.store.faults.inject(op, colo, &[key], now);
        if let Some(e) = injected.error {
            return Err(e);
        }
        let limited =
            inner
                .settled(&self.name, now)?
                .rate_limited(key, now, limits::WRITE_INTERVAL_MS);
        if limited {
            return Err(limits::rate_limited(op));
        }
        let params = inner.settled(&self.name, now)?.params;
        let delay = params.propagation.sample(&mut inner.rng);
        let ryw = inner.read_your_writes(params.read_your_writes);
        let default_ttl_ms = params.default_cache_ttl_s.saturating_mul(1000);
        let latency_ms = inner.config.colos[ci].latency_to_central_ms + injected.extra_latency_ms;
        let ns = inner.settled(&self.name, now)?;
        let arrival = now.saturating_add(delay);
        let (version, pending) = ns.write(ci, key, record, now, arrival, ryw, default_ttl_ms);
        let next = ns.next_version;
        if let Some(db) = &inner.db {
            db.save_pending(&self.name, colo, &pending, next)?;
        }
        Ok(Write {
            version,
            latency: Duration::from_millis(latency_ms),
        })
    }

    /// `list({prefix, limit, cursor})` at `colo`, eventually consistent like reads.
    pub fn list(&self, colo: &str, opts: &ListOptions) -> Result<Read<ListResult>, KvError> {
        let op = OpKind::List;
        let now = self.store.clock.now_ms();
        let prefix = opts.prefix.as_deref().unwrap_or("");
        let r = (|| {
            let limit = limits::list_limit(opts.limit)?;
            limits::validate_prefix(prefix)?;
            let mut inner = self.store.lock();
            let ci = inner.colo(colo)?;
            let injected = self.store.faults.inject(op, colo, &[prefix], now);
            if let Some(e) = injected.error {
                return Err(e);
            }
            let partitioned = self.store.faults.is_partitioned(colo, now);
            let lat = inner.config.colos[ci].latency_to_central_ms;

            let ns = inner.settled(&self.name, now)?;
            let ttl_ms = ns.params.default_cache_ttl_s.saturating_mul(1000);
            match ns.list(
                ci,
                prefix,
                limit,
                opts.cursor.as_deref(),
                now,
                ttl_ms,
                lat,
                partitioned,
            )? {
                Ok(s) => Ok(Read {
                    value: s.result,
                    cache_status: status(s.hit),
                    version: None,
                    latency: Duration::from_millis(s.latency_ms + injected.extra_latency_ms),
                }),
                Err(ReadBlocked::Partitioned) => Err(backend_error(op, 503)),
            }
        })();
        match r {
            Ok(read) => {
                self.store.emit(|| KvEvent {
                    cache_status: Some(read.cache_status),
                    latency_ms: read.latency.as_millis() as u64,
                    ..self.event(now, colo, op, opts.prefix.as_deref())
                });
                Ok(read)
            }
            Err(e) => self.fail(now, colo, op, opts.prefix.as_deref(), e),
        }
    }

    /// Bulk `get` of 1 to 100 keys at `colo`; entries keep the order of `keys`. The read is a
    /// HIT only if every key was; its latency is the slowest key's.
    pub fn get_bulk(
        &self,
        colo: &str,
        keys: &[String],
        opts: &GetOptions,
    ) -> Result<Read<Vec<BulkEntry>>, KvError> {
        let op = OpKind::GetBulk;
        let now = self.store.clock.now_ms();
        let first = keys.first().map(String::as_str);
        let mut ttl_s = None;
        let r = (|| {
            limits::validate_bulk_count(keys.len())?;
            for k in keys {
                limits::validate_bulk_key(k)?;
            }
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            self.cached_read(op, colo, &refs, opts, now, |ns, at, extra_ms| {
                ttl_s = Some(at.ttl_s);
                let mut entries = Vec::with_capacity(keys.len());
                let (mut all_hit, mut latency_ms, mut total) = (true, 0, 0usize);
                for k in keys {
                    let s = ns.read(at, k).map_err(|_| backend_error(op, 503))?;
                    all_hit &= s.hit;
                    latency_ms = latency_ms.max(s.latency_ms);
                    total += s.entry.value.as_ref().map_or(0, |v| v.len());
                    entries.push(BulkEntry {
                        key: k.clone(),
                        version: s.entry.served_version(),
                        value: s.entry.value.as_deref().cloned(),
                        metadata: s.entry.metadata.as_deref().cloned(),
                        cache_status: status(s.hit),
                    });
                }
                if total > limits::MAX_BULK_BYTES {
                    return Err(limits::bulk_too_large());
                }
                Ok(Read {
                    value: entries,
                    cache_status: status(all_hit),
                    version: None,
                    latency: Duration::from_millis(latency_ms + extra_ms),
                })
            })
        })();
        match r {
            Ok(read) => {
                self.store.emit(|| KvEvent {
                    cache_status: Some(read.cache_status),
                    version: read.value.first().and_then(|e| e.version),
                    latency_ms: read.latency.as_millis() as u64,
                    cache_ttl_s: ttl_s,
                    ..self.event(now, colo, op, first)
                });
                Ok(read)
            }
            Err(e) => self.fail(now, colo, op, first, e),
        }
    }

    /// Central's record, the writes in flight and every colo's cache entry for `key`, as of now.
    pub fn view(&self, key: &str) -> KeyView {
        let now = self.store.clock.now_ms();
        let mut inner = self.store.lock();
        let names: Vec<String> = inner.config.colos.iter().map(|c| c.name.clone()).collect();
        let Ok(ns) = inner.settled(&self.name, now) else {
            return KeyView {
                key: key.to_string(),
                now_ms: now,
                central: None,
                pending: Vec::new(),
                colos: names.into_iter().map(|n| (n, None)).collect(),
            };
        };
        KeyView {
            key: key.to_string(),
            now_ms: now,
            central: ns
                .central_record(key)
                .map(|r| RecordView::from_record(r, now)),
            pending: ns
                .pending
                .values()
                .filter(|p| p.key == key)
                .map(|p| {
                    PendingView::from_pending(p, names.get(p.origin).map_or("", String::as_str))
                })
                .collect(),
            colos: names
                .iter()
                .zip(&ns.caches)
                .map(|(n, c)| {
                    (
                        n.clone(),
                        c.entries.get(key).map(|e| CacheView::from_entry(e, now)),
                    )
                })
                .collect(),
        }
    }

    /// Keys central holds (live or not), in byte order: for convergence checks.
    pub fn central_keys(&self) -> Vec<String> {
        let now = self.store.clock.now_ms();
        let mut inner = self.store.lock();
        match inner.settled(&self.name, now) {
            Ok(ns) => ns.central.keys().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Which colos would serve something other than central's current value, and how many
    /// writes are in flight: for `check_converged`. Touches no cache.
    pub fn convergence(&self) -> crate::Convergence {
        let now = self.store.clock.now_ms();
        let mut inner = self.store.lock();
        let names: Vec<String> = inner.config.colos.iter().map(|c| c.name.clone()).collect();
        match inner.settled(&self.name, now) {
            Ok(ns) => ns.convergence(&names, now),
            Err(_) => crate::Convergence {
                now_ms: now,
                pending_writes: 0,
                stale: Vec::new(),
                stale_lists: Vec::new(),
            },
        }
    }

    /// Number of writes still in flight to central.
    pub fn pending_writes(&self) -> usize {
        let now = self.store.clock.now_ms();
        let mut inner = self.store.lock();
        inner
            .settled(&self.name, now)
            .map_or(0, |ns| ns.pending.len())
    }
}

fn status(hit: bool) -> CacheStatus {
    if hit {
        CacheStatus::Hit
    } else {
        CacheStatus::Miss
    }
}
