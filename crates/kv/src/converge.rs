//! Convergence check: does every colo serve what central holds, with nothing in flight?

use crate::cache::CachedList;
use crate::list::decode_cursor;
use crate::model::NsState;
use serde::Serialize;

/// A fresh colo cache entry serving something other than central's current value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaleEntry {
    /// The key.
    pub key: String,
    /// The colo.
    pub colo: String,
    /// Version the colo serves (`None`: missing).
    pub served_version: Option<u64>,
    /// Version central serves (`None`: missing, deleted or expired).
    pub central_version: Option<u64>,
    /// When the colo's entry runs out, epoch ms.
    pub expires_at_ms: u64,
}

/// A fresh cached list page that differs from what central would list now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaleList {
    /// The colo.
    pub colo: String,
    /// The page's prefix.
    pub prefix: String,
    /// When the cached page runs out, epoch ms.
    pub expires_at_ms: u64,
}

/// How far a namespace is from convergence, without touching any cache.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Convergence {
    /// Clock time of the check, epoch ms.
    pub now_ms: u64,
    /// Writes still in flight to central.
    pub pending_writes: usize,
    /// Cache entries that would serve a value other than central's.
    pub stale: Vec<StaleEntry>,
    /// Cached list pages that differ from central.
    pub stale_lists: Vec<StaleList>,
}

impl Convergence {
    /// Nothing in flight and every colo would read exactly what central holds.
    pub fn is_converged(&self) -> bool {
        self.pending_writes == 0 && self.stale.is_empty() && self.stale_lists.is_empty()
    }

    /// The earliest time at which every stale cache entry and list page has run out
    /// (ignores writes in flight); `now_ms` when nothing is stale.
    pub fn stale_until_ms(&self) -> u64 {
        self.stale
            .iter()
            .map(|s| s.expires_at_ms)
            .chain(self.stale_lists.iter().map(|s| s.expires_at_ms))
            .max()
            .unwrap_or(self.now_ms)
    }
}

impl NsState {
    /// Compares every fresh cache entry and list page with central, as of `now_ms`.
    pub(crate) fn convergence(&self, colos: &[String], now_ms: u64) -> Convergence {
        let mut stale = Vec::new();
        let mut stale_lists = Vec::new();
        for (colo, cache) in colos.iter().zip(&self.caches) {
            for (key, e) in &cache.entries {
                if now_ms >= e.expires_at_ms {
                    continue;
                }
                let central = self
                    .central
                    .get(key)
                    .filter(|r| r.live_at(now_ms))
                    .map(|r| r.version);
                if e.served_version() != central {
                    stale.push(StaleEntry {
                        key: key.clone(),
                        colo: colo.clone(),
                        served_version: e.served_version(),
                        central_version: central,
                        expires_at_ms: e.expires_at_ms,
                    });
                }
            }
            for ((prefix, limit, cursor), page) in &cache.lists {
                if now_ms >= page.expires_at_ms {
                    continue;
                }
                let after = cursor.as_deref().and_then(|c| decode_cursor(c).ok());
                let now = self.list_central(prefix, *limit, after.as_deref(), now_ms, 0);
                if !same_page(page, &now, now_ms) {
                    stale_lists.push(StaleList {
                        colo: colo.clone(),
                        prefix: prefix.clone(),
                        expires_at_ms: page.expires_at_ms,
                    });
                }
            }
        }
        Convergence {
            now_ms,
            pending_writes: self.pending.len(),
            stale,
            stale_lists,
        }
    }
}

fn same_page(cached: &CachedList, central: &CachedList, now_ms: u64) -> bool {
    let live = cached
        .keys
        .iter()
        .filter(|(_, exp, _)| !crate::cache::expired(*exp, now_ms));
    cached.cursor == central.cursor && live.eq(central.keys.iter())
}
