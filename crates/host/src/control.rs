//! The `/__edgesim/` control endpoints of `edgesim dev`: the clock, and KV from outside the
//! Worker (what `edgesim kv` and curl use).
//!
//! - `POST /__edgesim/time/advance?seconds=N` moves the clock forward N seconds.
//! - `GET /__edgesim/status`: the Worker's instances as JSON ([`InstanceStatus`]): requests
//!   producing a response, calls running after theirs (waitUntil work, canceled requests),
//!   idle and total instances, their memory (sum and per instance) and the limits in force.
//! - `GET /__edgesim/kv/<BINDING>/<key>`: the key's central record and version, writes in
//!   flight and each colo's cache entry, as JSON ([`edgesim_kv::KeyView`]).
//! - `GET /__edgesim/kv/<BINDING>/<key>?value`: central's value, raw (404 `Value not found`);
//!   its metadata (JSON) and expiration in the headers `x-edgesim-kv-metadata` and
//!   `x-edgesim-kv-expiration`.
//! - `PUT /__edgesim/kv/<BINDING>/<key>?expiration=EPOCH_S&expiration_ttl=S`: writes the body
//!   to central, with the metadata JSON in the header `x-edgesim-kv-metadata`.
//! - `DELETE /__edgesim/kv/<BINDING>/<key>`: deletes the key at central.
//! - `GET /__edgesim/kv/<BINDING>?prefix=P`: central's live keys with that prefix, as
//!   `wrangler kv key list` prints them (`[{name, expiration?, metadata?}]`).
//! - `PUT /__edgesim/kv/<BINDING>` with a JSON array of `{key, value, expiration?,
//!   expiration_ttl?, metadata?, base64?}` (wrangler's bulk format): a bulk write.
//! - `DELETE /__edgesim/kv/<BINDING>` with a JSON array of keys: a bulk delete.
//! - `GET /__edgesim/route?path=P[&binding=B]`: which declared route (`edgesim.routes.toml`)
//!   the path `P` is, its parameters, the KV key it reads and that key's view, as JSON
//!   (`{path, route, at, params, key, binding, view}`); 404 when nothing is declared or no
//!   route matches (naming the declared ones).
//! - `POST /__edgesim/cache/purge[?colo=C][&cache=NAME][&url=URL]`: purges the Cache API
//!   (`{"purged": n}`); `GET /__edgesim/cache[?colo=C]` lists its fresh entries
//!   ([`crate::cache`]).
//!
//! Keys are percent-decoded (`/articles` is `/__edgesim/kv/ARTICLES/%2Farticles`, or
//! `/__edgesim/kv/ARTICLES//articles`). Writes land at central as production's dashboard and
//! REST API writes do ([`edgesim_kv::Namespace::put_central`]): colos that cached the key keep
//! serving it until their cacheTtl runs out. Errors: an unknown binding is a 404 naming the
//! bound ones; bad input a 400 with the KV binding's message; the 1 write/s per key a 429.
//! Every response carries `x-edgesim: control`, so clients know they reached edgesim.

use crate::host::Host;
use crate::pages::text;
use crate::serve::Control;
use bytes::Bytes;
use edgesim_kv::{BulkWrite, KvError, ListKey, Namespace, PutOptions};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use std::time::Duration;

pub use crate::pool::{InstanceInfo, InstanceStatus, StatusLimits};

/// Header holding a key's metadata (JSON) on `PUT` and on `GET ...?value`.
pub const METADATA_HEADER: &str = "x-edgesim-kv-metadata";
/// Header holding a key's absolute expiration (epoch seconds) on `GET ...?value`.
pub const EXPIRATION_HEADER: &str = "x-edgesim-kv-expiration";
/// Header every control response carries (`x-edgesim: control`).
pub const CONTROL_HEADER: &str = "x-edgesim";

/// Answers a `/__edgesim/` request.
pub fn control_endpoint(host: &Host, control: &Control, req: &Request<Bytes>) -> Response<Bytes> {
    let mut resp = route(host, control, req);
    resp.headers_mut()
        .insert(CONTROL_HEADER, HeaderValue::from_static("control"));
    resp
}

fn route(host: &Host, control: &Control, req: &Request<Bytes>) -> Response<Bytes> {
    let path = req.uri().path();
    if path == ADVANCE_PATH {
        return advance(host, control, req);
    }
    if path == STATUS_PATH {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return text(StatusCode::METHOD_NOT_ALLOWED, "use GET\n".into());
        }
        return match serde_json::to_value(host.status()) {
            Ok(v) => json(StatusCode::OK, &v),
            Err(e) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("edgesim: the status could not be written: {e}\n"),
            ),
        };
    }
    if path == ROUTE_PATH {
        return route_view(host, control, req);
    }
    if path == "/__edgesim/cache" || path.starts_with("/__edgesim/cache/") {
        return crate::cache::control(host.cache(), host.clock().now_ms(), req);
    }
    if let Some(rest) = path.strip_prefix("/__edgesim/kv/") {
        let (binding, key) = match rest.split_once('/') {
            Some((b, k)) => (b, Some(percent_decode(k))),
            None => (rest, None),
        };
        let binding = percent_decode(binding);
        let ns = match host.kv().namespace(&binding) {
            Ok(ns) => ns,
            Err(e) => {
                let bound = host.kv().namespaces().join(", ");
                let bound = if bound.is_empty() {
                    "none".into()
                } else {
                    bound
                };
                return text(StatusCode::NOT_FOUND, format!("{e} Bound: {bound}.\n"));
            }
        };
        return match key {
            Some(key) => kv_key(&ns, &key, req),
            None => kv_namespace(&ns, req),
        };
    }
    text(
        StatusCode::NOT_FOUND,
        format!(
            "no control endpoint at {path}; see GET /__edgesim/status, POST /__edgesim/time/advance?seconds=N, /__edgesim/kv/<BINDING>/<key> and GET /__edgesim/route?path=P\n"
        ),
    )
}

/// The path of the route lookup (`GET ?path=P[&binding=B]`).
pub const ROUTE_PATH: &str = "/__edgesim/route";

/// `GET /__edgesim/route?path=P[&binding=B]`: the declared route `P` is and its KV key's view.
fn route_view(host: &Host, control: &Control, req: &Request<Bytes>) -> Response<Bytes> {
    use crate::serve::RouteMatch;
    if req.method() != Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED, "use GET\n".into());
    }
    let Some(lookup) = &control.routes else {
        return text(
            StatusCode::NOT_FOUND,
            "no routes declared: put them in edgesim.routes.toml beside the Worker (see fixtures/scenarios/README.md)\n".into(),
        );
    };
    let Some(path) = query_param(req, "path") else {
        return text(
            StatusCode::BAD_REQUEST,
            "expected ?path=/a/request/path\n".into(),
        );
    };
    let (route, at, params, key) = match lookup(&path) {
        RouteMatch::NoMatch { declared } => {
            return text(
                StatusCode::NOT_FOUND,
                format!(
                    "no declared route matches {path}; declared: {}\n",
                    declared.join(", ")
                ),
            );
        }
        RouteMatch::Matched {
            route,
            at,
            params,
            key,
        } => (route, at, params, key),
    };
    let bound = host.kv().namespaces();
    let binding = match query_param(req, "binding") {
        Some(b) => Some(b),
        None if bound.len() == 1 => bound.first().cloned(),
        None => None,
    };
    let view = match (&key, &binding) {
        (Some(key), Some(binding)) => match host.kv().namespace(binding) {
            Ok(ns) => serde_json::to_value(ns.view(key)).unwrap_or_default(),
            Err(e) => {
                return text(
                    StatusCode::NOT_FOUND,
                    format!("{e} Bound: {}.\n", bound.join(", ")),
                );
            }
        },
        (Some(_), None) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!(
                    "the Worker binds several KV namespaces ({}); pick one with &binding=\n",
                    bound.join(", ")
                ),
            );
        }
        (None, _) => serde_json::Value::Null,
    };
    json(
        StatusCode::OK,
        &serde_json::json!({
            "path": path,
            "route": route,
            "at": at,
            "params": params,
            "key": key,
            "binding": binding,
            "view": view,
        }),
    )
}

/// The path of the instance status (`GET`).
pub const STATUS_PATH: &str = "/__edgesim/status";

/// The path of the clock advance.
pub(crate) const ADVANCE_PATH: &str = "/__edgesim/time/advance";

fn advance(host: &Host, control: &Control, req: &Request<Bytes>) -> Response<Bytes> {
    match advance_by(req) {
        Ok(secs) => {
            (control.advance)(Duration::from_secs_f64(secs));
            advanced(host, secs)
        }
        Err(resp) => *resp,
    }
}

/// The seconds a `POST /__edgesim/time/advance?seconds=N` asks for, or the error answer.
pub(crate) fn advance_by(req: &Request<Bytes>) -> Result<f64, Box<Response<Bytes>>> {
    if req.method() != Method::POST {
        return Err(Box::new(text(
            StatusCode::METHOD_NOT_ALLOWED,
            "use POST\n".into(),
        )));
    }
    match query_param(req, "seconds").map(|s| s.parse::<f64>()) {
        Some(Ok(s)) if s.is_finite() && s >= 0.0 => Ok(s),
        _ => Err(Box::new(text(
            StatusCode::BAD_REQUEST,
            "expected ?seconds=N with N a non-negative number\n".into(),
        ))),
    }
}

/// The answer once the clock moved `secs` forward.
pub(crate) fn advanced(host: &Host, secs: f64) -> Response<Bytes> {
    let now = host.clock().now_ms();
    json(
        StatusCode::OK,
        &serde_json::json!({ "advanced_seconds": secs, "now_ms": now }),
    )
}

/// `/__edgesim/kv/<BINDING>/<key>`: the view, the raw value, a write or a delete.
fn kv_key(ns: &Namespace, key: &str, req: &Request<Bytes>) -> Response<Bytes> {
    match *req.method() {
        Method::GET if query_param(req, "value").is_some() => match ns.get_central(key) {
            Ok(Some(v)) => {
                let mut resp = Response::new(Bytes::from(v.value));
                let headers = resp.headers_mut();
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                if let Some(m) = v
                    .metadata
                    .and_then(|m| HeaderValue::from_str(&m.to_string()).ok())
                {
                    headers.insert(METADATA_HEADER, m);
                }
                if let Some(e) = v.expiration {
                    headers.insert(EXPIRATION_HEADER, HeaderValue::from(e));
                }
                resp
            }
            Ok(None) => text(StatusCode::NOT_FOUND, "Value not found\n".into()),
            Err(e) => kv_error(&e),
        },
        Method::GET => match serde_json::to_value(ns.view(key)) {
            Ok(v) => json(StatusCode::OK, &v),
            Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        },
        Method::PUT => {
            let opts = match put_options(req) {
                Ok(o) => o,
                Err(msg) => return text(StatusCode::BAD_REQUEST, format!("{msg}\n")),
            };
            written(
                ns.put_central(key, req.body().to_vec(), &opts)
                    .map(|w| vec![w]),
            )
        }
        Method::DELETE => written(ns.delete_central(key).map(|w| vec![w])),
        _ => text(
            StatusCode::METHOD_NOT_ALLOWED,
            "use GET, PUT or DELETE\n".into(),
        ),
    }
}

/// `/__edgesim/kv/<BINDING>`: list, bulk write, bulk delete.
fn kv_namespace(ns: &Namespace, req: &Request<Bytes>) -> Response<Bytes> {
    match *req.method() {
        Method::GET => {
            let prefix = query_param(req, "prefix");
            match ns.keys_central(prefix.as_deref()) {
                Ok(keys) => json(
                    StatusCode::OK,
                    &serde_json::Value::Array(keys.iter().map(wrangler_key).collect()),
                ),
                Err(e) => kv_error(&e),
            }
        }
        Method::PUT => match serde_json::from_slice::<Vec<BulkWrite>>(req.body()) {
            Ok(pairs) => written(ns.put_central_bulk(&pairs)),
            Err(e) => text(
                StatusCode::BAD_REQUEST,
                format!(
                    "expected a JSON array of {{key, value, expiration?, expiration_ttl?, metadata?, base64?}}: {e}\n"
                ),
            ),
        },
        Method::DELETE => match serde_json::from_slice::<Vec<String>>(req.body()) {
            Ok(keys) => written(ns.delete_central_bulk(&keys)),
            Err(e) => text(
                StatusCode::BAD_REQUEST,
                format!("expected a JSON array of key strings: {e}\n"),
            ),
        },
        _ => text(
            StatusCode::METHOD_NOT_ALLOWED,
            "use GET (list), PUT (bulk write) or DELETE (bulk delete)\n".into(),
        ),
    }
}

/// A key as `wrangler kv key list` prints it: `expiration` and `metadata` only when set.
pub fn wrangler_key(k: &ListKey) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    o.insert("name".into(), k.name.clone().into());
    if let Some(e) = k.expiration {
        o.insert("expiration".into(), e.into());
    }
    if let Some(m) = &k.metadata {
        o.insert("metadata".into(), m.clone());
    }
    serde_json::Value::Object(o)
}

/// `expiration`, `expiration_ttl` (query) and the metadata header of a `PUT`.
fn put_options(req: &Request<Bytes>) -> Result<PutOptions, String> {
    let number = |name: &str| -> Result<Option<u64>, String> {
        query_param(req, name)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| format!("?{name}={v} is not a whole number of seconds"))
            })
            .transpose()
    };
    let expiration = number("expiration")?;
    let expiration_ttl = number("expiration_ttl")?;
    let metadata = match req.headers().get(METADATA_HEADER) {
        None => None,
        Some(v) => {
            let parsed = serde_json::from_slice(v.as_bytes());
            Some(parsed.map_err(|e| format!("{METADATA_HEADER} is not JSON: {e}"))?)
        }
    };
    Ok(PutOptions {
        expiration,
        expiration_ttl,
        metadata,
    })
}

/// The outcome of a write: the versions written, or the KV error.
fn written(r: Result<Vec<edgesim_kv::Write>, KvError>) -> Response<Bytes> {
    match r {
        Ok(writes) => json(
            StatusCode::OK,
            &serde_json::json!({
                "success": true,
                "versions": writes.iter().map(|w| w.version).collect::<Vec<_>>(),
            }),
        ),
        Err(e) => kv_error(&e),
    }
}

fn kv_error(e: &KvError) -> Response<Bytes> {
    let status = match e {
        KvError::Invalid(_) => StatusCode::BAD_REQUEST,
        KvError::TooManyRequests(_) | KvError::TooManyOperations(_) => {
            StatusCode::TOO_MANY_REQUESTS
        }
        KvError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        KvError::NoSuchBinding(_) => StatusCode::NOT_FOUND,
    };
    text(status, format!("{e}\n"))
}

/// The first `name` or `name=value` of the query, percent-decoded (`""` for a bare `name`).
fn query_param(req: &Request<Bytes>, name: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| percent_decode(v))
    })
}

fn json(status: StatusCode, v: &serde_json::Value) -> Response<Bytes> {
    let mut resp = text(status, format!("{v:#}\n"));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_keys() {
        assert_eq!(percent_decode("%2Farticles%2F2"), "/articles/2");
        assert_eq!(percent_decode("/articles"), "/articles");
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn reads_query_parameters() {
        let req = Request::get("/x?value&prefix=%2Fa+b%20c&expiration_ttl=60")
            .body(Bytes::new())
            .unwrap();
        assert_eq!(query_param(&req, "value").as_deref(), Some(""));
        assert_eq!(query_param(&req, "prefix").as_deref(), Some("/a+b c"));
        assert_eq!(query_param(&req, "missing"), None);
        let opts = put_options(&req).unwrap();
        assert_eq!(opts.expiration_ttl, Some(60));
        let bad = Request::put("/x?expiration=soon")
            .header(METADATA_HEADER, "{")
            .body(Bytes::new())
            .unwrap();
        assert!(put_options(&bad).unwrap_err().contains("expiration=soon"));
    }

    #[test]
    fn lists_keys_as_wrangler_prints_them() {
        let k = ListKey {
            name: "a".into(),
            expiration: None,
            metadata: Some(serde_json::json!({"x": 1})),
        };
        assert_eq!(
            wrangler_key(&k).to_string(),
            r#"{"name":"a","metadata":{"x":1}}"#
        );
    }
}
