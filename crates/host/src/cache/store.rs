//! The cache's entries: one store per host, partitioned by colo (a put at FRA is not seen at
//! NRT), then by cache (`caches.default` or `caches.open(name)`), keyed by URL. Entries expire
//! on the emulator's clock; an expired entry is dropped when it is next looked at.

use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One stored response.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its status.
    pub status: u16,
    /// Its headers, as stored (fields named by `private=` removed).
    pub headers: Vec<(String, String)>,
    /// Its body.
    pub body: Bytes,
    /// When it was stored (ms since the epoch, emulator clock).
    pub stored_ms: u64,
    /// When it stops being served (ms since the epoch, emulator clock).
    pub expires_ms: u64,
}

/// Where an entry lives: colo, cache (`None` for `caches.default`), URL.
pub type Key = (String, Option<String>, String);

/// Every colo's Cache API entries. Cheap to clone; clones share the entries.
#[derive(Clone, Default)]
pub struct CacheStore {
    entries: Arc<Mutex<BTreeMap<Key, Entry>>>,
}

impl std::fmt::Debug for CacheStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CacheStore({} entries)", self.lock().len())
    }
}

impl CacheStore {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores `entry` under `key`, replacing what was there.
    pub fn put(&self, key: Key, entry: Entry) {
        self.lock().insert(key, entry);
    }

    /// The fresh entry under `key` at `now_ms`; an expired one is removed.
    pub fn get(&self, key: &Key, now_ms: u64) -> Option<Entry> {
        let mut entries = self.lock();
        match entries.get(key) {
            Some(e) if e.expires_ms > now_ms => Some(e.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Removes the entry under `key`; whether a fresh one was there.
    pub fn delete(&self, key: &Key, now_ms: u64) -> bool {
        self.lock()
            .remove(key)
            .is_some_and(|e| e.expires_ms > now_ms)
    }

    /// Removes every entry that matches: at `colo` (all colos when `None`), in `cache` (all
    /// caches when `None`; `Some(None)` is `caches.default`), for `url` (all URLs when `None`).
    /// Returns how many were removed (expired ones included).
    pub fn purge(
        &self,
        colo: Option<&str>,
        cache: Option<Option<&str>>,
        url: Option<&str>,
    ) -> usize {
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|(c, n, u), _| {
            let hit = colo.is_none_or(|x| x.eq_ignore_ascii_case(c))
                && cache.is_none_or(|x| x == n.as_deref())
                && url.is_none_or(|x| x == u);
            !hit
        });
        before - entries.len()
    }

    /// The keys of fresh entries at `now_ms`, in order (for the control endpoint and tests).
    pub fn keys(&self, now_ms: u64) -> Vec<Key> {
        self.lock()
            .iter()
            .filter(|(_, e)| e.expires_ms > now_ms)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(expires_ms: u64) -> Entry {
        Entry {
            status: 200,
            headers: vec![],
            body: Bytes::from_static(b"x"),
            stored_ms: 0,
            expires_ms,
        }
    }

    fn key(colo: &str, cache: Option<&str>, url: &str) -> Key {
        (colo.into(), cache.map(String::from), url.into())
    }

    #[test]
    fn colos_and_caches_are_apart_and_entries_expire() {
        let s = CacheStore::new();
        s.put(key("FRA", None, "https://a/"), entry(100));
        assert!(s.get(&key("FRA", None, "https://a/"), 99).is_some());
        assert!(s.get(&key("NRT", None, "https://a/"), 0).is_none());
        assert!(s.get(&key("FRA", Some("x"), "https://a/"), 0).is_none());
        assert!(s.get(&key("FRA", None, "https://a/"), 100).is_none());
        // Gone for good once seen expired.
        assert!(s.get(&key("FRA", None, "https://a/"), 0).is_none());
    }

    #[test]
    fn delete_and_purge() {
        let s = CacheStore::new();
        s.put(key("FRA", None, "https://a/"), entry(100));
        assert!(s.delete(&key("FRA", None, "https://a/"), 0));
        assert!(!s.delete(&key("FRA", None, "https://a/"), 0));
        s.put(key("FRA", None, "https://a/"), entry(100));
        s.put(key("FRA", Some("n"), "https://a/"), entry(100));
        s.put(key("NRT", None, "https://b/"), entry(100));
        assert_eq!(s.purge(Some("fra"), Some(None), None), 1);
        assert_eq!(s.keys(0).len(), 2);
        assert_eq!(s.purge(None, None, Some("https://b/")), 1);
        assert_eq!(s.purge(None, None, None), 1);
        assert!(s.keys(0).is_empty());
    }
}
