//! `list`: UTF-8 byte order, prefix, limit, opaque cursor, and a per-colo list cache.

use crate::cache::{CachedList, expired};
use crate::limits::{KvError, invalid_cursor};
use crate::model::{NsState, ReadBlocked};
use crate::types::{ListKey, ListResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::ops::Bound;

/// The cursor handed out after `last_key`.
pub(crate) fn encode_cursor(last_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_key.as_bytes())
}

/// The key a cursor continues after.
pub(crate) fn decode_cursor(cursor: &str) -> Result<String, KvError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid_cursor())?;
    String::from_utf8(bytes).map_err(|_| invalid_cursor())
}

/// One list page as the model answers it.
pub(crate) struct ListServed {
    pub result: ListResult,
    pub hit: bool,
    pub latency_ms: u64,
}

impl NsState {
    /// A list page at colo `colo`: served from the colo's list cache while fresh, else computed
    /// from central and cached for `ttl_ms`. Keys that expired since are never returned.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn list(
        &mut self,
        colo: usize,
        prefix: &str,
        limit: u64,
        cursor: Option<&str>,
        now_ms: u64,
        ttl_ms: u64,
        latency_to_central_ms: u64,
        partitioned: bool,
    ) -> Result<Result<ListServed, ReadBlocked>, KvError> {
        let after = cursor.map(decode_cursor).transpose()?;
        let cache_key = (prefix.to_string(), limit, cursor.map(str::to_string));
        let cached = self.caches[colo]
            .lists
            .get(&cache_key)
            .filter(|l| now_ms < l.expires_at_ms)
            .cloned();
        let (page, hit, latency_ms) = match cached {
            Some(page) => (page, true, 0),
            None if partitioned => return Ok(Err(ReadBlocked::Partitioned)),
            None => {
                let page = self.list_central(prefix, limit, after.as_deref(), now_ms, ttl_ms);
                self.caches[colo].lists.insert(cache_key, page.clone());
                (page, false, latency_to_central_ms)
            }
        };
        let keys = page
            .keys
            .iter()
            .filter(|(_, exp, _)| !expired(*exp, now_ms))
            .map(|(name, expiration, metadata)| ListKey {
                name: name.clone(),
                expiration: *expiration,
                metadata: metadata.as_deref().cloned(),
            })
            .collect();
        Ok(Ok(ListServed {
            result: ListResult {
                keys,
                list_complete: page.cursor.is_none(),
                cursor: page.cursor,
            },
            hit,
            latency_ms,
        }))
    }

    pub(crate) fn list_central(
        &self,
        prefix: &str,
        limit: u64,
        after: Option<&str>,
        now_ms: u64,
        ttl_ms: u64,
    ) -> CachedList {
        let start = match after {
            Some(a) if a >= prefix => Bound::Excluded(a.to_string()),
            _ => Bound::Included(prefix.to_string()),
        };
        let mut keys = Vec::new();
        let mut more = false;
        for (name, rec) in self.central.range::<String, _>((start, Bound::Unbounded)) {
            if !name.starts_with(prefix) {
                break;
            }
            if !rec.live_at(now_ms) {
                continue;
            }
            if keys.len() as u64 == limit {
                more = true;
                break;
            }
            keys.push((name.clone(), rec.expiration, rec.metadata.clone()));
        }
        let cursor = if more {
            keys.last().map(|(k, _, _)| encode_cursor(k))
        } else {
            None
        };
        CachedList {
            keys,
            cursor,
            expires_at_ms: now_ms.saturating_add(ttl_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = encode_cursor("/articles/ü");
        assert_eq!(decode_cursor(&c).unwrap(), "/articles/ü");
        assert_eq!(
            decode_cursor("!!").unwrap_err().to_string(),
            "KV GET failed: 400 Invalid cursor"
        );
    }
}
