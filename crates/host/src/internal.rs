//! The reserved internal host, `http://edgesim.internal`: what a JavaScript Worker's adapter
//! (crate `edgesim-js`) asks the host for with ordinary outgoing `fetch`es.
//!
//! A JS Worker cannot call a custom WIT import without blocking its whole instance, so its KV
//! binding goes through wasi:http instead: the engine's event loop awaits these requests like
//! any fetch, so other promises keep running and `Promise.all` over KV calls overlaps them.
//! The answers come from the same [`KvCtx`] operations as the `edgesim:worker/kv` interface of
//! Rust Workers: same budget, validation, error messages, events and modelled latency (slept
//! on tokio's clock before the answer). These requests are not subrequests: they are neither
//! counted against the subrequest limit nor reported as fetches.
//!
//! Routes (the wire format is private to the adapter and this module):
//! - `GET /config`: `{"vars": {NAME: value}, "kv": [BINDING], "cf": {COLO: request.cf}}` from
//!   the [`HostConfig`] (`cf`: [`crate::cf`]); the
//!   adapter asks once per instance, at its first request (never at build time, so nothing is
//!   frozen into the component by wizer's snapshot).
//! - (`crypto.subtle` operations the engine lacks go over the synchronous host link instead:
//!   [`crate::js_link`], [`crate::subtle`].)
//! - `POST /kv/<BINDING>/<op>`: the body is one line of JSON parameters, a newline, then (for
//!   `put`) the raw value. The answer is one line of JSON, a newline, then (for `get` and
//!   `getWithMetadata`) the raw value. A failure answers `{"error": message, "name": "Error" |
//!   "TypeError"}`, production's message and class.

use crate::config::HostConfig;
use crate::kv::KvCtx;
use bytes::{Bytes, BytesMut};
use edgesim_kv::{BulkEntry, CacheStatus, GetOptions, KvError, ListOptions, PutOptions, limits};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// The authority of the reserved internal host.
pub const INTERNAL_AUTHORITY: &str = "edgesim.internal";

/// The `/config` answer, built once per host.
pub(crate) fn config_json(config: &HostConfig) -> Bytes {
    let vars: serde_json::Map<String, Value> = config
        .vars
        .iter()
        .map(|(k, v)| {
            let value = if config.json_vars.contains(k) {
                serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.clone()))
            } else {
                Value::String(v.clone())
            };
            (k.clone(), value)
        })
        .collect();
    Bytes::from(
        json!({
            "vars": vars,
            "kv": config.kv_bindings,
            "cf": crate::cf::table(&config.colos),
        })
        .to_string(),
    )
}

/// Parameters of a KV call (the fields each operation uses).
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Params {
    key: Option<String>,
    keys: Option<Vec<String>>,
    #[serde(rename = "type")]
    ty: Option<String>,
    cache_ttl: Option<f64>,
    expiration: Option<f64>,
    expiration_ttl: Option<f64>,
    metadata: Option<Value>,
    prefix: Option<String>,
    limit: Option<f64>,
    cursor: Option<String>,
}

/// A JavaScript number as the binding converts it to an integer option (truncated; negative
/// and NaN become 0, which the model then refuses with production's message).
fn integer(n: Option<f64>) -> Option<u64> {
    n.map(|n| {
        if n.is_finite() && n > 0.0 {
            n.trunc() as u64
        } else {
            0
        }
    })
}

/// Serves one request to the internal host. KV answers wait the model's latency first.
pub(crate) async fn serve(
    kv: &KvCtx,
    config: &Bytes,
    method: &http::Method,
    path: &str,
    body: Bytes,
) -> http::Response<Bytes> {
    if method == http::Method::GET && path == "/config" {
        return respond(200, config.clone());
    }
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    let (Some("kv"), Some(binding), Some(op)) = (parts.next(), parts.next(), parts.next()) else {
        return respond(
            404,
            Bytes::from(format!("edgesim.internal has no route {path}")),
        );
    };
    let (resp, latency) = kv_now(kv, binding, op, body);
    sleep(latency).await;
    resp
}

/// One KV call (`binding` percent-encoded, as in the route) answered at once, with the latency
/// the model charges for it: [`serve`] waits it out before answering, and JavaScript Workers'
/// synchronous host link ([`crate::js_link`]) hands it to the guest, which waits on its own
/// (virtual) clock, so its other promises run meanwhile.
pub(crate) fn kv_now(
    kv: &KvCtx,
    binding: &str,
    op: &str,
    body: Bytes,
) -> (http::Response<Bytes>, Duration) {
    let binding = percent_encoding::percent_decode_str(binding).decode_utf8_lossy();
    let (head, value) = match body.iter().position(|&b| b == b'\n') {
        Some(i) => (body.slice(..i), body.slice(i + 1..)),
        None => (body.clone(), Bytes::new()),
    };
    let params: Params = match serde_json::from_slice(&head) {
        Ok(p) => p,
        Err(e) => {
            let why = format!("bad KV call parameters: {e}");
            return (respond(400, Bytes::from(why)), Duration::ZERO);
        }
    };
    match kv_call(kv, &binding, op, params, value) {
        Ok((meta, value, latency)) => (framed(meta, &value), latency),
        Err(e) => (framed(error_json(&e), &[]), Duration::ZERO),
    }
}

/// The JSON of a failure: the message, and the class production throws it as (key-name and
/// response-type checks are `TypeError`s; backend failures, `KV <METHOD> failed: ...`, and the
/// operation limit are `Error`s).
fn error_json(e: &KvError) -> Value {
    let msg = e.message();
    let type_error = matches!(e, KvError::Invalid(_)) && !msg.starts_with("KV ");
    json!({"error": msg, "name": if type_error { "TypeError" } else { "Error" }})
}

fn status(s: CacheStatus) -> &'static str {
    match s {
        CacheStatus::Hit => "HIT",
        CacheStatus::Miss => "MISS",
    }
}

async fn sleep(latency: Duration) {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
}

/// The answer of one KV operation and the latency the model charges for it.
fn kv_call(
    kv: &KvCtx,
    binding: &str,
    op: &str,
    p: Params,
    value: Bytes,
) -> Result<(Value, Bytes, Duration), KvError> {
    let key = p.key.clone().unwrap_or_default();
    let get = GetOptions {
        cache_ttl: integer(p.cache_ttl),
    };
    match op {
        "get" => {
            limits::validate_get_type(p.ty.as_deref().unwrap_or("text"))?;
            let r = kv.get(binding, &key, &get)?;
            let meta = json!({"found": r.value.is_some(), "cacheStatus": status(r.cache_status)});
            Ok((
                meta,
                r.value.map(Bytes::from).unwrap_or_default(),
                r.latency,
            ))
        }
        "getWithMetadata" => {
            limits::validate_get_type(p.ty.as_deref().unwrap_or("text"))?;
            let r = kv.get_with_metadata(binding, &key, &get)?;
            let meta = json!({
                "found": r.value.value.is_some(),
                "metadata": r.value.metadata,
                "cacheStatus": status(r.cache_status),
            });
            let value = r.value.value.map(Bytes::from).unwrap_or_default();
            Ok((meta, value, r.latency))
        }
        "getBulk" => {
            let keys = p.keys.unwrap_or_default();
            let ty = p.ty.unwrap_or_else(|| "text".to_string());
            let r = kv.get_bulk(binding, &keys, &get, |entries| {
                limits::validate_bulk_type(&ty)?;
                if ty == "json" && !entries.iter().all(is_json) {
                    return Err(limits::bulk_not_json());
                }
                Ok(())
            })?;
            let entries: Vec<Value> = r
                .value
                .into_iter()
                .map(|e| {
                    json!({
                        "key": e.key,
                        "value": e.value.map(|v| String::from_utf8_lossy(&v).into_owned()),
                        "metadata": e.metadata,
                    })
                })
                .collect();
            Ok((json!({"entries": entries}), Bytes::new(), r.latency))
        }
        "put" => {
            let opts = PutOptions {
                expiration: integer(p.expiration),
                expiration_ttl: integer(p.expiration_ttl),
                metadata: p.metadata,
            };
            let w = kv.put(binding, &key, value.to_vec(), &opts)?;
            Ok((json!({}), Bytes::new(), w.latency))
        }
        "delete" => {
            let w = kv.delete(binding, &key)?;
            Ok((json!({}), Bytes::new(), w.latency))
        }
        "list" => {
            let opts = ListOptions {
                prefix: p.prefix,
                limit: integer(p.limit),
                cursor: p.cursor,
            };
            let r = kv.list(binding, &opts)?;
            let page = r.value;
            let keys: Vec<Value> = page
                .keys
                .into_iter()
                .map(|k| {
                    let mut o = json!({"name": k.name});
                    if let Some(e) = k.expiration {
                        o["expiration"] = json!(e);
                    }
                    if let Some(m) = k.metadata {
                        o["metadata"] = m;
                    }
                    o
                })
                .collect();
            let mut meta = json!({
                "keys": keys,
                "list_complete": page.list_complete,
                "cacheStatus": status(r.cache_status),
            });
            if !page.list_complete
                && let Some(c) = page.cursor
            {
                meta["cursor"] = json!(c);
            }
            Ok((meta, Bytes::new(), r.latency))
        }
        other => Err(KvError::Invalid(format!(
            "edgesim.internal: unknown KV operation {other}"
        ))),
    }
}

fn is_json(e: &BulkEntry) -> bool {
    e.value
        .as_ref()
        .is_none_or(|v| serde_json::from_slice::<Value>(v).is_ok())
}

fn framed(meta: Value, value: &[u8]) -> http::Response<Bytes> {
    let head = meta.to_string();
    let mut body = BytesMut::with_capacity(head.len() + 1 + value.len());
    body.extend_from_slice(head.as_bytes());
    body.extend_from_slice(b"\n");
    body.extend_from_slice(value);
    respond(200, body.freeze())
}

fn respond(status: u16, body: Bytes) -> http::Response<Bytes> {
    let mut resp = http::Response::new(body);
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    resp
}
