//! The synchronous host link of JavaScript Workers: the import `edgesim:js-worker/link`,
//! `call(path, body) -> (status, body, latency-ms)`.
//!
//! The adapter (crate `edgesim-js`) reaches the platform through outgoing wasi:http requests to
//! `edgesim.internal` ([`crate::internal`]), which the engine awaits natively. For plain reads
//! and KV operations that machinery (a web `Request`, body streams, a `Response`, a dozen
//! resource calls, a spawned host task) cost 0.5–1 ms per call (measured in `edgesim dev`;
//! bench/results/js-speed-2026-12-07.md). This import answers the same routes
//! at once, in one call: the KV operation runs now, exactly as the internal host runs it (same
//! [`KvCtx`](crate::kv::KvCtx), budget, events), and its modelled latency is handed back for the
//! adapter to wait on the guest's own clock (a timer, which is virtual under simulation), so the
//! instance is never blocked and `Promise.all` over KV calls still overlaps them.
//!
//! Routes: `/config` (the internal host's `/config` answer), `/kv/<BINDING>/<op>` (the
//! internal host's KV wire format), `/html/<op>` (HTMLRewriter, [`crate::html_rewriter`]),
//! `/subtle/<op>` (`crypto.subtle`, [`crate::subtle`]) and `/cache/<op>` (the Cache API at the
//! call's colo, [`crate::cache`]). Any other path answers 404 with no latency; the adapter uses
//! the wasi:http route for those.
//!
//! The request itself also crosses in one call each way ([`Exchange`]): `/request` answers its
//! head (method, path, authority, headers) as one JSON value, and `/respond` takes a whole
//! response (status and headers as a JSON line, then the body). Every wasi:http resource call
//! the adapter would otherwise make (method, path, authority, headers, entries, fields,
//! outgoing response, status, body, outparam, stream, writes, finish: about fifteen a request)
//! costs the engine some 80,000 operators of glue, more than the Worker's own JavaScript on a
//! simple route. Bodies that stream (a request body, a response whose body is a stream) keep
//! the wasi:http resources, which the call still receives.

use crate::state::StoreState;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use std::sync::{Arc, Mutex};
use wasmtime::StoreContextMut;
use wasmtime::component::Linker;
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Where a guest call's response head goes: taken by whichever of the wasi:http outparam and
/// the link's `/respond` answers first (the other then finds it empty).
pub(crate) type Responder = Arc<
    Mutex<
        Option<tokio::sync::oneshot::Sender<Result<hyper::Response<HyperOutgoingBody>, ErrorCode>>>,
    >,
>;

/// The request of the call in progress on an instance, as the link hands it over.
pub(crate) struct Exchange {
    /// `[method, path-with-query, authority, [[name, value], ...]]` as JSON.
    pub head: Vec<u8>,
    pub responder: Responder,
}

impl Exchange {
    /// The exchange for `parts` (the request's head, before its body goes to wasi:http).
    pub fn new(parts: &http::request::Parts, responder: Responder) -> Exchange {
        let authority = match parts.uri.authority() {
            Some(a) => a.as_str().to_string(),
            None => parts
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default()
                .to_string(),
        };
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let headers: Vec<(&str, std::borrow::Cow<'_, str>)> = parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), String::from_utf8_lossy(v.as_bytes())))
            .collect();
        let head = serde_json::to_vec(&(parts.method.as_str(), path, authority, headers))
            .unwrap_or_default();
        Exchange { head, responder }
    }
}

/// The hyper response for a `/respond` body: a JSON line `[status, [[name, value], ...]]`,
/// then the body's bytes. `Err` names what is wrong (the adapter throws it as a TypeError).
fn response_of(body: Vec<u8>) -> Result<hyper::Response<HyperOutgoingBody>, String> {
    let split = body.iter().position(|b| *b == b'\n').unwrap_or(body.len());
    let (status, headers): (u16, Vec<(String, String)>) = serde_json::from_slice(&body[..split])
        .map_err(|e| format!("the response head is not valid: {e}"))?;
    let start = (split + 1).min(body.len());
    let bytes = Bytes::from(body).slice(start..);
    let mut builder = hyper::Response::builder().status(status);
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("Invalid header name: {name}"))?;
        let value = http::HeaderValue::from_str(&value)
            .map_err(|_| format!("Invalid header value for {name}"))?;
        // A body's length is what it is: a `Content-Length` copied from another response
        // (`new Response(newBody, oldResponse)`) must not cut or stall it. workerd too sends
        // the length of the body it has. Without a body (a HEAD answer) the header stays.
        if name == http::header::CONTENT_LENGTH && !bytes.is_empty() {
            continue;
        }
        builder = builder.header(name, value);
    }
    let full = Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync();
    builder.body(full).map_err(|e| e.to_string())
}

/// `/respond`: hands the response to whoever waits for the call's head. 409 when the call has
/// already responded (or has no exchange: a Worker that is not called through the adapter).
fn respond(state: &mut StoreState, body: Vec<u8>) -> (u16, Vec<u8>, u32) {
    let Some(exchange) = state.link.as_ref() else {
        return (409, b"no request is in progress".to_vec(), 0);
    };
    let response = match response_of(body) {
        Ok(r) => r,
        Err(why) => return (400, why.into_bytes(), 0),
    };
    let sender = exchange
        .responder
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    match sender {
        Some(tx) => {
            let _ = tx.send(Ok(response)); // the host may have stopped waiting (a canceled call)
            (200, Vec::new(), 0)
        }
        None => (409, b"the response was already sent".to_vec(), 0),
    }
}

/// The import's interface name.
pub(crate) const INTERFACE: &str = "edgesim:js-worker/link";

/// Defines the import in `linker` (Workers that do not import it are unaffected).
pub(crate) fn add_to_linker(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    let mut link = linker.instance(INTERFACE)?;
    link.func_wrap(
        "call",
        |mut cx: StoreContextMut<'_, StoreState>, (path, body): (String, Vec<u8>)| {
            let state = cx.data_mut();
            let (status, body, latency) = match path.as_str() {
                "/request" => match &state.link {
                    Some(exchange) => (200, exchange.head.clone(), 0),
                    None => (409, b"no request is in progress".to_vec(), 0),
                },
                "/respond" => respond(state, body),
                _ => answer(state, &path, body),
            };
            Ok(((status, body, latency),))
        },
    )?;
    Ok(())
}

/// The answer to `path`: status, body and the milliseconds of latency the guest must wait
/// before it uses the answer (rounded up).
fn answer(state: &StoreState, path: &str, body: Vec<u8>) -> (u16, Vec<u8>, u32) {
    if path == "/config" {
        return (200, state.hooks.internal_config.to_vec(), 0);
    }
    if let Some(op) = path.strip_prefix("/html/") {
        let (status, out) = crate::html_rewriter::answer(op, &body);
        return (status, out, 0);
    }
    if let Some(op) = path.strip_prefix("/subtle/") {
        // crypto.subtle operations the engine lacks: computed at once, no modelled latency.
        return (200, crate::subtle::serve(op, &body), 0);
    }
    if let Some(op) = path.strip_prefix("/cache/") {
        // The Cache API at this call's colo, on the host's clock (the same answer as the
        // internal host's `/cache/` route; production's cache adds no latency we model).
        let resp = crate::cache::serve(&state.hooks.cache, op, Bytes::from(body));
        return (resp.status().as_u16(), resp.into_body().to_vec(), 0);
    }
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    let (Some("kv"), Some(binding), Some(op)) = (parts.next(), parts.next(), parts.next()) else {
        let why = format!("edgesim.internal has no synchronous route {path}");
        return (404, why.into_bytes(), 0);
    };
    let (resp, latency) = crate::internal::kv_now(&state.kv, binding, op, Bytes::from(body));
    let ms = u32::try_from(latency.as_micros().div_ceil(1000)).unwrap_or(u32::MAX);
    (resp.status().as_u16(), resp.into_body().to_vec(), ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_carries_method_path_authority_and_headers_in_order() {
        let req = http::Request::builder()
            .method("POST")
            .uri("/a/b?c=1")
            .header("host", "example.com")
            .header("x-one", "1")
            .header(
                "x-bytes",
                http::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
            )
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let exchange = Exchange::new(&parts, Arc::new(Mutex::new(None)));
        let head: serde_json::Value = serde_json::from_slice(&exchange.head).unwrap();
        assert_eq!(
            head,
            serde_json::json!([
                "POST",
                "/a/b?c=1",
                "example.com",
                [
                    ["host", "example.com"],
                    ["x-one", "1"],
                    ["x-bytes", "caf\u{fffd}"]
                ]
            ])
        );
    }

    #[tokio::test]
    async fn a_response_line_and_body_become_the_response() {
        let mut wire =
            br#"[201, [["content-type", "text/plain"], ["x-a", "1"], ["x-a", "2"]]]"#.to_vec();
        wire.push(b'\n');
        wire.extend_from_slice("héllo\nworld".as_bytes());
        let response = response_of(wire).unwrap();
        assert_eq!(response.status(), 201);
        let values: Vec<_> = response.headers().get_all("x-a").iter().collect();
        assert_eq!(values, ["1", "2"]);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], "héllo\nworld".as_bytes());
    }

    #[test]
    fn a_bad_response_head_is_refused_with_its_reason() {
        let mut wire = br#"[200, [["content-length", "3"]]]"#.to_vec();
        wire.extend_from_slice(b"\nlonger than three");
        let cut = response_of(wire).unwrap();
        assert!(cut.headers().get("content-length").is_none(), "{cut:?}");
        let head_only = response_of(b"[200, [[\"content-length\", \"9\"]]]\n".to_vec()).unwrap();
        assert_eq!(head_only.headers()["content-length"], "9");
        let no_body = response_of(b"[204, []]".to_vec()).unwrap();
        assert_eq!(no_body.status(), 204);
        let bad_name = response_of(b"[200, [[\"bad name\", \"v\"]]]\n".to_vec()).unwrap_err();
        assert!(bad_name.contains("Invalid header name"), "{bad_name}");
        let bad_value = response_of(b"[200, [[\"x\", \"a\\nb\"]]]\n".to_vec()).unwrap_err();
        assert!(bad_value.contains("Invalid header value"), "{bad_value}");
        let bad_status = response_of(b"[99, []]\n".to_vec()).unwrap_err();
        assert!(!bad_status.is_empty());
        assert!(response_of(b"not json\n".to_vec()).is_err());
    }
}
