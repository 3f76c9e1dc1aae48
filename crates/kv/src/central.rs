//! KV from outside any Worker: what `wrangler kv key|bulk`, the dashboard and the REST API do.
//!
//! Such a write goes straight to central storage: no colo issues it, nothing is in flight, no
//! colo cache changes. It then reaches each colo like any write: a colo that has the key cached
//! (a value or a "not found") keeps serving that entry until its cacheTtl runs out; a colo with
//! nothing cached reads the new value on its next read. Reads and lists here look at central.
//!
//! Validation is the binding's: key, value, metadata and expiration limits, with production's
//! messages (`KV PUT failed: 400 Invalid expiration_ttl of 30. ...`).
//!
//! **One write per key per second applies here too.** The reference lists it among KV's limits
//! ("Writes to the same key: 1 per second"), not among the Workers binding's, and the REST API
//! is documented as subject to the Cloudflare API's own rate limits *as well*; so a write from
//! outside within a second of another write to the same key (from a Worker or from outside)
//! fails with `KV PUT failed: 429 Too Many Requests`. Within one bulk write, a key may appear
//! more than once (the later pair wins); the bulk is validated as a whole before anything is
//! written, so a bad pair writes nothing. Not modelled: the REST API's account-wide request rate
//! limit, and injected faults and partitions (they concern colos).

use crate::cache::Record;
use crate::limits::{self, KvError};
use crate::list::decode_cursor;
use crate::namespace::Namespace;
use crate::types::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// The colo name events of operations from outside any Worker carry.
pub const CENTRAL: &str = "central";

/// Most pairs (or keys) in one bulk write or bulk delete, as the REST API allows.
pub const MAX_BULK_WRITE_KEYS: usize = 10_000;

impl Namespace {
    /// Writes `key` straight to central, as `wrangler kv key put` or the REST API does.
    pub fn put_central(
        &self,
        key: &str,
        value: Vec<u8>,
        opts: &PutOptions,
    ) -> Result<Write, KvError> {
        let now = self.store.clock.now_ms();
        let r = self
            .put_record(OpKind::Put, key, value, opts, now)
            .and_then(|record| self.write_central(&[(key.to_string(), record)], now));
        self.finish_central(now, OpKind::Put, key, r)
    }

    /// Deletes `key` at central (a tombstone), as `wrangler kv key delete` does.
    pub fn delete_central(&self, key: &str) -> Result<Write, KvError> {
        let op = OpKind::Delete;
        let now = self.store.clock.now_ms();
        let r = limits::validate_key(op, key)
            .and_then(|()| self.write_central(&[(key.to_string(), tombstone())], now));
        self.finish_central(now, op, key, r)
    }

    /// Writes every pair of a bulk write (`wrangler kv bulk put`), in order. The whole bulk is
    /// validated first: one bad pair (or a key written within the last second) writes nothing.
    /// Returns one [`Write`] per pair.
    pub fn put_central_bulk(&self, pairs: &[BulkWrite]) -> Result<Vec<Write>, KvError> {
        let op = OpKind::Put;
        let now = self.store.clock.now_ms();
        let keys: Vec<&str> = pairs.iter().map(|p| p.key.as_str()).collect();
        let r = (|| {
            validate_bulk_count(op, pairs.len())?;
            let mut records = Vec::with_capacity(pairs.len());
            for p in pairs {
                let value = if p.base64 {
                    STANDARD.decode(p.value.as_bytes()).map_err(|_| {
                        KvError::Invalid(limits::failed(
                            op,
                            400,
                            &format!("Could not decode the base64 value of key {}", p.key),
                        ))
                    })?
                } else {
                    p.value.as_bytes().to_vec()
                };
                let opts = PutOptions {
                    expiration: p.expiration,
                    expiration_ttl: p.expiration_ttl,
                    metadata: p.metadata.clone(),
                };
                records.push((
                    p.key.clone(),
                    self.put_record(op, &p.key, value, &opts, now)?,
                ));
            }
            self.write_central_all(&records, now)
        })();
        self.finish_central_bulk(now, op, &keys, r)
    }

    /// Deletes every key of a bulk delete (`wrangler kv bulk delete`); validated as a whole first.
    pub fn delete_central_bulk(&self, keys: &[String]) -> Result<Vec<Write>, KvError> {
        let op = OpKind::Delete;
        let now = self.store.clock.now_ms();
        let names: Vec<&str> = keys.iter().map(String::as_str).collect();
        let r = (|| {
            validate_bulk_count(op, keys.len())?;
            let mut records = Vec::with_capacity(keys.len());
            for k in keys {
                limits::validate_key(op, k)?;
                records.push((k.clone(), tombstone()));
            }
            self.write_central_all(&records, now)
        })();
        self.finish_central_bulk(now, op, &names, r)
    }

    /// `key`'s live value at central (`None` when missing, deleted or expired), as `wrangler kv
    /// key get` reads it. Touches no colo cache.
    pub fn get_central(&self, key: &str) -> Result<Option<CentralValue>, KvError> {
        limits::validate_key(OpKind::Get, key)?;
        let now = self.store.clock.now_ms();
        let mut inner = self.store.lock();
        let ns = inner.settled(&self.name, now)?;
        Ok(ns
            .central_record(key)
            .filter(|r| r.live_at(now))
            .map(|r| CentralValue {
                value: r.value.as_deref().cloned().unwrap_or_default(),
                metadata: r.metadata.as_deref().cloned(),
                expiration: r.expiration,
                version: r.version,
            }))
    }

    /// A page of central's live keys (`wrangler kv key list`): the same order, limit and cursor
    /// rules as a Worker's `list`, but no colo and no list cache.
    pub fn list_central(&self, opts: &ListOptions) -> Result<ListResult, KvError> {
        let limit = limits::list_limit(opts.limit)?;
        let prefix = opts.prefix.as_deref().unwrap_or("");
        limits::validate_prefix(prefix)?;
        let after = opts.cursor.as_deref().map(decode_cursor).transpose()?;
        let now = self.store.clock.now_ms();
        let mut inner = self.store.lock();
        let ns = inner.settled(&self.name, now)?;
        let page = ns.list_central(prefix, limit, after.as_deref(), now, 0);
        Ok(ListResult {
            keys: page
                .keys
                .into_iter()
                .map(|(name, expiration, metadata)| ListKey {
                    name,
                    expiration,
                    metadata: metadata.as_deref().cloned(),
                })
                .collect(),
            list_complete: page.cursor.is_none(),
            cursor: page.cursor,
        })
    }

    /// Every live key at central with `prefix`, all pages.
    pub fn keys_central(&self, prefix: Option<&str>) -> Result<Vec<ListKey>, KvError> {
        let mut opts = ListOptions {
            prefix: prefix.map(str::to_string),
            ..ListOptions::default()
        };
        let mut keys = Vec::new();
        loop {
            let page = self.list_central(&opts)?;
            keys.extend(page.keys);
            match page.cursor {
                Some(c) if !page.list_complete => opts.cursor = Some(c),
                _ => return Ok(keys),
            }
        }
    }

    /// The record a put of `value` with `opts` stores, after the binding's checks.
    fn put_record(
        &self,
        op: OpKind,
        key: &str,
        value: Vec<u8>,
        opts: &PutOptions,
        now: u64,
    ) -> Result<Record, KvError> {
        limits::validate_key(op, key)?;
        let expiration = limits::expiration(op, opts.expiration, opts.expiration_ttl, now / 1000)?;
        if let Some(m) = &opts.metadata {
            limits::validate_metadata(op, m)?;
        }
        limits::validate_value(op, value.len())?;
        Ok(Record {
            value: Some(Arc::new(value)),
            metadata: opts.metadata.clone().map(Arc::new),
            expiration,
            version: 0,
        })
    }

    fn write_central(&self, records: &[(String, Record)], now: u64) -> Result<Write, KvError> {
        let writes = self.write_central_all(records, now)?;
        Ok(writes.into_iter().next_back().unwrap_or(Write {
            version: 0,
            latency: Duration::ZERO,
        }))
    }

    /// Checks the 1 write/s rule for every distinct key, then stores each record in order.
    fn write_central_all(
        &self,
        records: &[(String, Record)],
        now: u64,
    ) -> Result<Vec<Write>, KvError> {
        let op = match records.first() {
            Some((_, r)) if r.value.is_none() => OpKind::Delete,
            _ => OpKind::Put,
        };
        let mut inner = self.store.lock();
        {
            let ns = inner.settled(&self.name, now)?;
            let keys: BTreeSet<&str> = records.iter().map(|(k, _)| k.as_str()).collect();
            if keys
                .iter()
                .any(|k| ns.rate_limited(k, now, limits::WRITE_INTERVAL_MS))
            {
                return Err(limits::rate_limited(op));
            }
        }
        let mut writes = Vec::with_capacity(records.len());
        for (key, record) in records {
            let (stored, next) = {
                let ns = inner.settled(&self.name, now)?;
                let stored = ns.write_central(key, record.clone(), now);
                (stored, ns.next_version)
            };
            if let Some(db) = &inner.db {
                db.save_central(&self.name, key, &stored, next)?;
            }
            writes.push(Write {
                version: stored.version,
                latency: Duration::ZERO,
            });
        }
        Ok(writes)
    }

    fn finish_central(
        &self,
        now: u64,
        op: OpKind,
        key: &str,
        r: Result<Write, KvError>,
    ) -> Result<Write, KvError> {
        match r {
            Ok(w) => {
                self.store.emit(|| KvEvent {
                    version: Some(w.version),
                    ..self.event(now, CENTRAL, op, Some(key))
                });
                Ok(w)
            }
            Err(e) => self.fail(now, CENTRAL, op, Some(key), e),
        }
    }

    fn finish_central_bulk(
        &self,
        now: u64,
        op: OpKind,
        keys: &[&str],
        r: Result<Vec<Write>, KvError>,
    ) -> Result<Vec<Write>, KvError> {
        match r {
            Ok(writes) => {
                for (key, w) in keys.iter().zip(&writes) {
                    self.store.emit(|| KvEvent {
                        version: Some(w.version),
                        ..self.event(now, CENTRAL, op, Some(key))
                    });
                }
                Ok(writes)
            }
            Err(e) => self.fail(now, CENTRAL, op, keys.first().copied(), e),
        }
    }
}

fn tombstone() -> Record {
    Record {
        value: None,
        metadata: None,
        expiration: None,
        version: 0,
    }
}

/// A bulk write or delete holds at most 10,000 pairs (an empty one does nothing). Our wording:
/// the REST API's exact message is not in the reference.
fn validate_bulk_count(op: OpKind, n: usize) -> Result<(), KvError> {
    if n > MAX_BULK_WRITE_KEYS {
        return Err(KvError::Invalid(limits::failed(
            op,
            400,
            &format!("A bulk request may hold at most {MAX_BULK_WRITE_KEYS} keys, not {n}"),
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Delay, KvConfig, KvStore, ReadYourWrites};
    use edgesim_core::{ManualClock, SimRng};

    const T0: u64 = 1_800_000_000_000;

    fn store(clock: &ManualClock) -> Namespace {
        let config = KvConfig {
            propagation: Delay::Fixed { ms: 500 },
            read_your_writes: ReadYourWrites::On,
            ..KvConfig::default()
        };
        KvStore::new(config, Arc::new(clock.clone()), SimRng::from_seed(3))
            .namespace("ARTICLES")
            .unwrap()
    }

    fn get(ns: &Namespace, colo: &str, key: &str) -> (Option<String>, CacheStatus) {
        let r = ns.get(colo, key, &GetOptions::default()).unwrap();
        let text = r.value.map(|v| String::from_utf8(v).unwrap());
        (text, r.cache_status)
    }

    #[test]
    fn a_central_write_reaches_colos_as_their_caches_expire() {
        let clock = ManualClock::at_epoch_ms(T0);
        let ns = store(&clock);
        ns.put("SYD", "/articles", b"old".to_vec(), &PutOptions::default())
            .unwrap();
        clock.advance(Duration::from_secs(1));
        // FRA caches the old value; NRT caches "not found" for another key.
        assert_eq!(get(&ns, "FRA", "/articles").0.as_deref(), Some("old"));
        assert_eq!(get(&ns, "NRT", "/new").0, None);
        clock.advance(Duration::from_secs(10));

        let w = ns
            .put_central("/articles", b"new".to_vec(), &PutOptions::default())
            .unwrap();
        ns.put_central("/new", b"born".to_vec(), &PutOptions::default())
            .unwrap();
        assert_eq!(ns.get_central("/articles").unwrap().unwrap().value, b"new");
        assert_eq!(ns.pending_writes(), 0, "nothing is in flight");

        // A colo with nothing cached sees the new value at once (it is central's already).
        assert_eq!(
            get(&ns, "IAD", "/articles"),
            (Some("new".into()), CacheStatus::Miss)
        );
        assert_eq!(
            ns.view("/articles").colos["IAD"].as_ref().unwrap().version,
            Some(w.version)
        );
        // Colos that cached the key keep serving their entry (value or "not found")...
        assert_eq!(
            get(&ns, "FRA", "/articles"),
            (Some("old".into()), CacheStatus::Hit)
        );
        assert_eq!(get(&ns, "NRT", "/new"), (None, CacheStatus::Hit));
        // ...and even the writer of the old value (read-your-writes on) keeps its own entry.
        assert_eq!(get(&ns, "SYD", "/articles").0.as_deref(), Some("old"));
        // Until their cacheTtl (60 s from their read) runs out.
        clock.advance(Duration::from_secs(50));
        assert_eq!(
            get(&ns, "FRA", "/articles"),
            (Some("new".into()), CacheStatus::Miss)
        );
        assert_eq!(get(&ns, "NRT", "/new").0.as_deref(), Some("born"));
    }

    #[test]
    fn central_deletes_and_lists_skip_colos() {
        let clock = ManualClock::at_epoch_ms(T0);
        let ns = store(&clock);
        let meta = PutOptions {
            metadata: Some(serde_json::json!({"v": 1})),
            expiration_ttl: Some(120),
            ..PutOptions::default()
        };
        ns.put_central("/articles/1", b"a".to_vec(), &meta).unwrap();
        ns.put_central("/articles/2", b"b".to_vec(), &PutOptions::default())
            .unwrap();
        ns.put_central("/other", b"c".to_vec(), &PutOptions::default())
            .unwrap();
        assert_eq!(get(&ns, "FRA", "/articles/2").0.as_deref(), Some("b"));
        clock.advance(Duration::from_secs(2));
        ns.delete_central("/articles/2").unwrap();
        assert_eq!(ns.get_central("/articles/2").unwrap(), None);
        // FRA still serves its cached copy.
        assert_eq!(get(&ns, "FRA", "/articles/2").0.as_deref(), Some("b"));

        let keys = ns.keys_central(Some("/articles")).unwrap();
        assert_eq!(
            keys,
            vec![ListKey {
                name: "/articles/1".into(),
                expiration: Some(T0 / 1000 + 120),
                metadata: Some(serde_json::json!({"v": 1})),
            }]
        );
        let page = ns
            .list_central(&ListOptions {
                limit: Some(1),
                ..ListOptions::default()
            })
            .unwrap();
        assert_eq!((page.keys.len(), page.list_complete), (1, false));
        let rest = ns
            .list_central(&ListOptions {
                cursor: page.cursor,
                ..ListOptions::default()
            })
            .unwrap();
        assert_eq!(rest.keys[0].name, "/other");
        // Expired keys read and list as missing.
        clock.advance(Duration::from_secs(120));
        assert_eq!(ns.get_central("/articles/1").unwrap(), None);
        assert!(ns.keys_central(Some("/articles")).unwrap().is_empty());
    }

    #[test]
    fn central_writes_are_validated_like_the_binding() {
        let clock = ManualClock::at_epoch_ms(T0);
        let ns = store(&clock);
        let ttl = |s| PutOptions {
            expiration_ttl: Some(s),
            ..PutOptions::default()
        };
        let err = |r: Result<Write, KvError>| r.unwrap_err().to_string();
        assert_eq!(
            err(ns.put_central("k", b"v".to_vec(), &ttl(30))),
            "KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60."
        );
        assert_eq!(
            err(ns.put_central(&"k".repeat(513), b"v".to_vec(), &PutOptions::default())),
            "KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."
        );
        let big_meta = PutOptions {
            metadata: Some(serde_json::json!("x".repeat(1100))),
            ..PutOptions::default()
        };
        assert!(err(ns.put_central("k", b"v".to_vec(), &big_meta)).contains("413 Metadata length"));
        assert_eq!(err(ns.delete_central("")), "Key name cannot be empty.");
        assert_eq!(
            ns.central_keys(),
            Vec::<String>::new(),
            "nothing was written"
        );
    }

    #[test]
    fn one_write_per_key_per_second_counts_worker_and_central_writes() {
        let clock = ManualClock::at_epoch_ms(T0);
        let ns = store(&clock);
        ns.put("SYD", "k", b"worker".to_vec(), &PutOptions::default())
            .unwrap();
        let e = ns
            .put_central("k", b"cli".to_vec(), &PutOptions::default())
            .unwrap_err();
        assert_eq!(e.to_string(), "KV PUT failed: 429 Too Many Requests");
        clock.advance(Duration::from_millis(1000));
        ns.put_central("k", b"cli".to_vec(), &PutOptions::default())
            .unwrap();
        // The Worker's write is in flight until T0+500 and landed before; central holds ours.
        assert_eq!(ns.get_central("k").unwrap().unwrap().value, b"cli");
        assert!(ns.delete_central("k").is_err(), "a delete is a write too");
    }

    #[test]
    fn bulk_writes_are_all_or_nothing_and_decode_base64() {
        let clock = ManualClock::at_epoch_ms(T0);
        let ns = store(&clock);
        let pair = |k: &str, v: &str| BulkWrite {
            key: k.into(),
            value: v.into(),
            ..BulkWrite::default()
        };
        let bad = vec![
            pair("a", "1"),
            BulkWrite {
                expiration_ttl: Some(10),
                ..pair("b", "2")
            },
        ];
        let e = ns.put_central_bulk(&bad).unwrap_err();
        assert!(
            e.to_string().contains("Invalid expiration_ttl of 10"),
            "{e}"
        );
        assert_eq!(
            ns.get_central("a").unwrap(),
            None,
            "a bad pair writes nothing"
        );

        let good = vec![
            pair("a", "1"),
            BulkWrite {
                base64: true,
                ..pair("img", "AAEC")
            },
            pair("a", "2"),
        ];
        let writes = ns.put_central_bulk(&good).unwrap();
        assert_eq!(writes.len(), 3);
        assert_eq!(
            ns.get_central("a").unwrap().unwrap().value,
            b"2",
            "the later pair wins"
        );
        assert_eq!(
            ns.get_central("img").unwrap().unwrap().value,
            vec![0u8, 1, 2]
        );
        let e = ns
            .put_central_bulk(&[BulkWrite {
                base64: true,
                ..pair("x", "%%")
            }])
            .unwrap_err();
        assert!(e.to_string().contains("base64"), "{e}");

        clock.advance(Duration::from_secs(1));
        ns.delete_central_bulk(&["a".into(), "img".into(), "never".into()])
            .unwrap();
        assert_eq!(ns.keys_central(None).unwrap(), Vec::new());
    }

    #[test]
    fn central_writes_persist_and_the_file_names_its_namespaces() {
        let dir = std::env::temp_dir().join(format!("edgesim-kv-central-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kv.sqlite3");
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            KvStore::persisted_namespaces(&path).unwrap(),
            Vec::<String>::new()
        );
        let clock = ManualClock::at_epoch_ms(T0);
        let open = || {
            let config = KvConfig {
                namespaces: vec!["ARTICLES".into(), "USERS".into()],
                ..KvConfig::default()
            };
            KvStore::open_persistent(config, Arc::new(clock.clone()), SimRng::from_seed(1), &path)
                .unwrap()
        };
        {
            let ns = open().namespace("ARTICLES").unwrap();
            ns.put_central("/articles", b"[]".to_vec(), &PutOptions::default())
                .unwrap();
        }
        assert_eq!(
            KvStore::persisted_namespaces(&path).unwrap(),
            vec!["ARTICLES".to_string(), "USERS".to_string()]
        );
        let store = open();
        let ns = store.namespace("ARTICLES").unwrap();
        let v = ns.get_central("/articles").unwrap().unwrap();
        assert_eq!(v.value, b"[]");
        // The version counter survived: the next write gets a higher version.
        clock.advance(Duration::from_secs(1));
        let w = ns
            .put("SYD", "/articles", b"[1]".to_vec(), &PutOptions::default())
            .unwrap();
        assert!(w.version > v.version);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
