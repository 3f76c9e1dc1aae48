//! The Workers Cache API (`caches.default`, `caches.open(name)`), per colo, on the host.
//!
//! A JavaScript Worker's `caches` (crate `edgesim-js`, `js/cache.js`) checks its arguments as
//! workerd does (the `TypeError`s of `put`) and sends each operation over the synchronous host
//! link (`/cache/<op>`, [`crate::js_link`]; the wasi:http route
//! `http://edgesim.internal/cache/<op>` of `crates/host/src/outbound.rs` answers the same); this module
//! answers it from a [`CacheStore`] shared by the host's instances, at the colo the request
//! runs at, with production's rules ([`rules`]) and the emulator's clock for expiry. Each
//! operation is reported as a [`HostEvent::CacheCall`].
//!
//! Wire format (private to `cache.js` and this module), like KV's: the request body is one
//! line of JSON, a newline, then (for `put`) the response body; the answer is one line of
//! JSON, a newline, then (for a `match` hit) the body.
//! - `put`: `{cache, url, status, headers}` → `{stored, reason?}`
//! - `match`: `{cache, url, headers}` (the request's headers) → `{hit, status, headers}`
//! - `delete`: `{cache, url}` → `{deleted}`
//!
//! `cache` is `null` for `caches.default`, else the name given to `caches.open`.

pub mod rules;
mod store;

pub use store::{CacheStore, Entry, Key};

use crate::observer::{HostEvent, SharedObserver};
use bytes::{Bytes, BytesMut};
use edgesim_core::SharedClock;
use serde::Deserialize;
use serde_json::{Value, json};

/// The header a `match` hit carries, as production's cache adds it.
pub const CACHE_STATUS_HEADER: &str = "cf-cache-status";

/// One invocation's view of the cache: its colo, and what reports and times its calls.
#[derive(Clone)]
pub(crate) struct CacheCtx {
    pub store: CacheStore,
    pub colo: String,
    pub ray: String,
    pub observer: SharedObserver,
    pub clock: SharedClock,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Params {
    cache: Option<String>,
    url: String,
    status: u16,
    headers: Vec<(String, String)>,
}

/// The cache key of a URL: as given, without its fragment. `None` when it is not an absolute
/// `http`/`https` URL (workerd: "Invalid URL. Cache API keys must be fully-qualified, valid
/// URLs.").
fn key_url(url: &str) -> Option<String> {
    let url = url.split('#').next().unwrap_or_default();
    let uri: http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    (matches!(scheme.as_str(), "http" | "https") && uri.authority().is_some())
        .then(|| url.to_string())
}

impl CacheCtx {
    fn report(&self, cache: &Option<String>, op: &str, url: &str, result: String) {
        if !self.observer.enabled() {
            return;
        }
        self.observer.event(&HostEvent::CacheCall {
            ray: self.ray.clone(),
            colo: self.colo.clone(),
            cache: cache.clone().unwrap_or_else(|| "default".into()),
            op: op.to_string(),
            url: url.to_string(),
            result,
        });
    }

    fn put(&self, p: Params, body: Bytes) -> Value {
        let now = self.clock.now_ms();
        let Some(url) = key_url(&p.url) else {
            return invalid_url();
        };
        // workerd silently drops a 304 (its cache would answer later requests with it).
        if p.status == 304 {
            self.report(&p.cache, "put", &url, "not stored: status 304".into());
            return json!({"stored": false, "reason": "status 304"});
        }
        match rules::decide(p.status, &p.headers, body.len(), now) {
            rules::Decision::Store { ttl, headers } => {
                let expires_ms = now.saturating_add(ttl.as_millis() as u64);
                self.store.put(
                    (self.colo.clone(), p.cache.clone(), url.clone()),
                    Entry {
                        status: p.status,
                        headers,
                        body,
                        stored_ms: now,
                        expires_ms,
                    },
                );
                self.report(
                    &p.cache,
                    "put",
                    &url,
                    format!("stored for {} s", ttl.as_secs()),
                );
                json!({"stored": true})
            }
            rules::Decision::Skip(reason) => {
                self.report(&p.cache, "put", &url, format!("not stored: {reason}"));
                json!({"stored": false, "reason": reason})
            }
        }
    }

    fn lookup(&self, p: Params) -> (Value, Bytes) {
        let now = self.clock.now_ms();
        let Some(url) = key_url(&p.url) else {
            return (invalid_url(), Bytes::new());
        };
        let key = (self.colo.clone(), p.cache.clone(), url.clone());
        let Some(entry) = self.store.get(&key, now) else {
            self.report(&p.cache, "match", &url, "miss".into());
            return (json!({"hit": false}), Bytes::new());
        };
        let mut headers = entry.headers.clone();
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case(CACHE_STATUS_HEADER));
        headers.push((CACHE_STATUS_HEADER.into(), "HIT".into()));
        let set = |headers: &mut Vec<(String, String)>, name: &str, value: String| {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
            headers.push((name.to_string(), value));
        };
        let (status, body, result) = if rules::not_modified(&p.headers, &entry.headers) {
            (304, Bytes::new(), "hit (304)")
        } else {
            let range = p
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("range"))
                .map(|(_, v)| v.as_str());
            let size = entry.body.len();
            match rules::range(range, size) {
                rules::Range::Whole => (entry.status, entry.body.clone(), "hit"),
                rules::Range::Part { start, end } if entry.status == 200 => {
                    set(
                        &mut headers,
                        "content-range",
                        format!("bytes {start}-{end}/{size}"),
                    );
                    set(
                        &mut headers,
                        "content-length",
                        (end - start + 1).to_string(),
                    );
                    (206, entry.body.slice(start..=end), "hit (206)")
                }
                rules::Range::Part { .. } => (entry.status, entry.body.clone(), "hit"),
                rules::Range::Unsatisfiable => {
                    set(&mut headers, "content-range", format!("bytes */{size}"));
                    (416, Bytes::new(), "hit (416)")
                }
            }
        };
        self.report(&p.cache, "match", &url, result.into());
        (
            json!({"hit": true, "status": status, "headers": headers}),
            body,
        )
    }

    fn delete(&self, p: Params) -> Value {
        let Some(url) = key_url(&p.url) else {
            return invalid_url();
        };
        let key = (self.colo.clone(), p.cache.clone(), url.clone());
        let deleted = self.store.delete(&key, self.clock.now_ms());
        self.report(
            &p.cache,
            "delete",
            &url,
            if deleted { "deleted" } else { "not found" }.into(),
        );
        json!({"deleted": deleted})
    }
}

fn invalid_url() -> Value {
    json!({
        "error": "Invalid URL. Cache API keys must be fully-qualified, valid URLs.",
        "name": "TypeError",
    })
}

/// Answers `/cache/<op>`, on the synchronous host link and the internal host alike.
pub(crate) fn serve(ctx: &CacheCtx, op: &str, body: Bytes) -> http::Response<Bytes> {
    let (head, value) = match body.iter().position(|&b| b == b'\n') {
        Some(i) => (body.slice(..i), body.slice(i + 1..)),
        None => (body.clone(), Bytes::new()),
    };
    let params: Params = match serde_json::from_slice(&head) {
        Ok(p) => p,
        Err(e) => return respond(400, Bytes::from(format!("bad Cache API parameters: {e}"))),
    };
    let (meta, value) = match op {
        "put" => (ctx.put(params, value), Bytes::new()),
        "match" => ctx.lookup(params),
        "delete" => (ctx.delete(params), Bytes::new()),
        other => {
            return respond(
                404,
                Bytes::from(format!("edgesim.internal: no Cache API operation {other}")),
            );
        }
    };
    let head = meta.to_string();
    let mut out = BytesMut::with_capacity(head.len() + 1 + value.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(b"\n");
    out.extend_from_slice(&value);
    respond(200, out.freeze())
}

fn respond(status: u16, body: Bytes) -> http::Response<Bytes> {
    let mut resp = http::Response::new(body);
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    resp
}

/// `POST /__edgesim/cache/purge[?colo=FRA][&cache=NAME][&url=URL]` in `edgesim dev`: removes
/// the matching entries (every colo, cache and URL unless narrowed; `cache=default` is
/// `caches.default`) and answers `{"purged": n}`. `GET /__edgesim/cache[?colo=FRA]` lists the
/// fresh entries as `[{colo, cache, url, status, expires_ms}]`.
pub(crate) fn control(
    store: &CacheStore,
    now_ms: u64,
    req: &http::Request<Bytes>,
) -> http::Response<Bytes> {
    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect();
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let colo = get("colo");
    let cache = get("cache").map(|c| (c != "default").then_some(c));
    let url = get("url");
    let json_response = |v: Value| {
        let mut resp = respond(200, Bytes::from(format!("{v}\n")));
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        resp
    };
    match (req.method().as_str(), req.uri().path()) {
        ("POST", "/__edgesim/cache/purge") => {
            let purged = store.purge(colo, cache, url);
            tracing::info!(purged, ?colo, ?url, "purged the Cache API");
            json_response(json!({"purged": purged}))
        }
        ("GET" | "HEAD", "/__edgesim/cache") => {
            let entries: Vec<Value> = store
                .keys(now_ms)
                .into_iter()
                .filter(|(c, n, u)| {
                    colo.is_none_or(|x| x.eq_ignore_ascii_case(c))
                        && cache.is_none_or(|x| x == n.as_deref())
                        && url.is_none_or(|x| x == u)
                })
                .filter_map(|k| {
                    let e = store.get(&k, now_ms)?;
                    Some(json!({
                        "colo": k.0,
                        "cache": k.1.unwrap_or_else(|| "default".into()),
                        "url": k.2,
                        "status": e.status,
                        "expires_ms": e.expires_ms,
                    }))
                })
                .collect();
            json_response(Value::Array(entries))
        }
        _ => respond(
            404,
            Bytes::from_static(
                b"edgesim: the cache control endpoints are POST /__edgesim/cache/purge and GET /__edgesim/cache\n",
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observer::RecordingObserver;
    use edgesim_core::{Clock, ManualClock};
    use std::sync::Arc;

    fn ctx(colo: &str, store: &CacheStore, clock: &Arc<ManualClock>) -> CacheCtx {
        CacheCtx {
            store: store.clone(),
            colo: colo.into(),
            ray: format!("0-{colo}"),
            observer: Arc::new(RecordingObserver::new()),
            clock: clock.clone(),
        }
    }

    fn call(ctx: &CacheCtx, op: &str, params: Value, body: &[u8]) -> (Value, Bytes) {
        let mut b = params.to_string().into_bytes();
        b.push(b'\n');
        b.extend_from_slice(body);
        let resp = serve(ctx, op, Bytes::from(b));
        assert_eq!(resp.status(), 200);
        let body = resp.into_body();
        let nl = body.iter().position(|&b| b == b'\n').unwrap();
        (
            serde_json::from_slice(&body[..nl]).unwrap(),
            body.slice(nl + 1..),
        )
    }

    #[test]
    fn the_control_endpoint_lists_and_purges() {
        let clock = Arc::new(ManualClock::new());
        let store = CacheStore::new();
        for colo in ["FRA", "NRT"] {
            let (r, _) = call(
                &ctx(colo, &store, &clock),
                "put",
                json!({"url": "https://w.test/x", "status": 200}),
                b"x",
            );
            assert_eq!(r["stored"], true);
        }
        let now = clock.now_ms();
        let req = |method: &str, uri: &str| {
            http::Request::builder()
                .method(method)
                .uri(uri)
                .body(Bytes::new())
                .unwrap()
        };
        let body = |r: http::Response<Bytes>| -> Value {
            assert_eq!(r.status(), 200);
            serde_json::from_slice(r.body()).unwrap()
        };
        let list = body(control(
            &store,
            now,
            &req("GET", "/__edgesim/cache?colo=nrt"),
        ));
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        assert_eq!(list[0]["cache"], "default");
        let purged = body(control(
            &store,
            now,
            &req(
                "POST",
                "/__edgesim/cache/purge?colo=FRA&url=https%3A%2F%2Fw.test%2Fx",
            ),
        ));
        assert_eq!(purged, json!({"purged": 1}));
        let purged = body(control(
            &store,
            now,
            &req("POST", "/__edgesim/cache/purge?cache=other"),
        ));
        assert_eq!(purged, json!({"purged": 0}));
        let purged = body(control(&store, now, &req("POST", "/__edgesim/cache/purge")));
        assert_eq!(purged, json!({"purged": 1}));
        assert_eq!(
            control(&store, now, &req("DELETE", "/__edgesim/cache")).status(),
            404
        );
    }

    #[test]
    fn put_match_delete_per_colo_on_the_emulator_clock() {
        let clock = Arc::new(ManualClock::new());
        let store = CacheStore::new();
        let fra = ctx("FRA", &store, &clock);
        let nrt = ctx("NRT", &store, &clock);
        let url = "https://w.test/a#frag";
        let (r, _) = call(
            &fra,
            "put",
            json!({"url": url, "status": 200, "headers": [["cache-control", "max-age=60"], ["etag", "\"1\""]]}),
            b"hello",
        );
        assert_eq!(r["stored"], true);
        let (r, body) = call(
            &fra,
            "match",
            json!({"url": "https://w.test/a", "headers": []}),
            b"",
        );
        assert_eq!(
            (r["hit"].as_bool(), r["status"].as_u64()),
            (Some(true), Some(200))
        );
        assert_eq!(&body[..], b"hello");
        assert!(r["headers"].to_string().contains("cf-cache-status"));
        let (r, _) = call(&nrt, "match", json!({"url": url, "headers": []}), b"");
        assert_eq!(r["hit"], false);
        let (r, _) = call(
            &fra,
            "match",
            json!({"url": url, "headers": [["If-None-Match", "\"1\""]]}),
            b"",
        );
        assert_eq!(r["status"], 304);
        let (r, body) = call(
            &fra,
            "match",
            json!({"url": url, "headers": [["range", "bytes=1-2"]]}),
            b"",
        );
        assert_eq!((r["status"].as_u64(), &body[..]), (Some(206), &b"el"[..]));
        clock.advance(std::time::Duration::from_secs(60));
        let (r, _) = call(&fra, "match", json!({"url": url, "headers": []}), b"");
        assert_eq!(r["hit"], false, "expired after max-age");
        let (r, _) = call(&fra, "delete", json!({"url": url}), b"");
        assert_eq!(r["deleted"], false);
        let (r, _) = call(&fra, "put", json!({"url": "/relative", "status": 200}), b"");
        assert_eq!(r["name"], "TypeError");
    }
}
