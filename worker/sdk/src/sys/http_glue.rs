//! `wasi:http` glue: the incoming handler (request in, response out, then `waitUntil` work).

use super::fetch::fetch;
use super::kv_import::open_namespace;
use crate::env::{Ctx, Env};
use crate::error::{Error, Result};
use crate::request::Request;
use crate::response::Response;
use http::{Method, Uri};
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use std::sync::OnceLock;
use wasip2::http::types::{
    ErrorCode, IncomingBody, IncomingRequest, Method as WasiMethod, OutgoingBody, OutgoingResponse,
    ResponseOutparam, Scheme,
};
use wasip2::io::streams::StreamError;

/// Bytes asked for per blocking read of the request body.
const READ_CHUNK: u64 = 64 << 10;

/// Bytes per `blocking-write-and-flush` (its documented maximum is 4096).
const WRITE_CHUNK: usize = 4096;

/// The Worker's variables. The WASI environment is fixed for the life of an instance, so it
/// is read once rather than on every request.
fn environment() -> BTreeMap<String, String> {
    static VARS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    VARS.get_or_init(|| std::env::vars().collect()).clone()
}

fn describe_stream(e: &StreamError) -> String {
    match e {
        StreamError::Closed => "the stream is closed".into(),
        StreamError::LastOperationFailed(e) => e.to_debug_string(),
    }
}

/// Runs one invocation: reads the request, calls `handler`, sends its response, and keeps
/// driving `ctx.wait_until` futures after the response is out.
///
/// wstd's `block_on` returns only when no task is runnable and none waits on a pollable, so
/// detached `waitUntil` tasks keep running after `response-outparam.set` and the body is
/// finished; the host cancels them when its waitUntil budget runs out.
///
/// A handler error is an uncaught exception: the guest panics (traps) and the host answers
/// with its 1101 error page, as Cloudflare does.
pub fn serve<F, Fut>(incoming: IncomingRequest, out: ResponseOutparam, handler: F)
where
    F: FnOnce(Request, Env, Ctx) -> Fut,
    Fut: Future<Output = Result<Response>>,
{
    wstd::runtime::block_on(async move {
        let req = match read_request(incoming) {
            Ok(req) => req,
            Err(e) => {
                ResponseOutparam::set(out, Err(ErrorCode::InternalError(Some(e.to_string()))));
                return;
            }
        };
        let vars = environment();
        let env = Env::new(
            vars,
            Box::new(open_namespace),
            Rc::new(|req| Box::pin(fetch(req))),
            Rc::new(|ms| Box::pin(super::sleep_ms(ms))),
        );
        let ctx = Ctx::new(Rc::new(|fut| wstd::runtime::spawn(fut).detach()));
        match handler(req, env, ctx).await {
            Ok(resp) => {
                if let Err(e) = send_response(out, resp).await {
                    panic!("Uncaught Error: sending the response failed: {e}");
                }
            }
            Err(e) => panic!("Uncaught Error: {e}"),
        }
    });
}

/// The incoming request, body buffered. Nothing else runs in the guest yet, so the body is
/// read with blocking reads (one host call per chunk instead of a subscribe/poll round each).
fn read_request(incoming: IncomingRequest) -> Result<Request> {
    let bad = |what: &str, e: &dyn std::fmt::Display| Error::Http(format!("{what}: {e}"));
    let method = match incoming.method() {
        WasiMethod::Get => Method::GET,
        WasiMethod::Head => Method::HEAD,
        WasiMethod::Post => Method::POST,
        WasiMethod::Put => Method::PUT,
        WasiMethod::Delete => Method::DELETE,
        WasiMethod::Connect => Method::CONNECT,
        WasiMethod::Options => Method::OPTIONS,
        WasiMethod::Trace => Method::TRACE,
        WasiMethod::Patch => Method::PATCH,
        WasiMethod::Other(m) => Method::from_bytes(m.as_bytes()).map_err(|e| bad("method", &e))?,
    };
    let headers = super::to_header_map(incoming.headers())
        .map_err(|name| Error::Http(format!("invalid request header {name}")))?;
    let scheme = match incoming.scheme() {
        Some(Scheme::Http) => Some("http".to_owned()),
        Some(Scheme::Https) => Some("https".to_owned()),
        Some(Scheme::Other(s)) => Some(s),
        None => None,
    };
    let mut uri = Uri::builder();
    if let Some(scheme) = scheme {
        uri = uri.scheme(scheme.as_str());
    }
    if let Some(authority) = incoming.authority() {
        uri = uri.authority(authority);
    }
    if let Some(path) = incoming.path_with_query() {
        uri = uri.path_and_query(path);
    }
    let uri = uri.build().map_err(|e| bad("request URI", &e))?;
    let body = incoming
        .consume()
        .map_err(|()| Error::Http("request body taken twice".into()))?;
    let mut bytes = Vec::new();
    {
        let stream = body
            .stream()
            .map_err(|()| Error::Http("request stream taken twice".into()))?;
        loop {
            match stream.blocking_read(READ_CHUNK) {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(Error::Http(format!(
                        "reading the request body: {}",
                        e.to_debug_string()
                    )));
                }
            }
        }
    }
    drop(IncomingBody::finish(body));
    Ok(Request::from_parts(method, uri.to_string(), headers, bytes))
}

async fn send_response(out: ResponseOutparam, resp: Response) -> Result<()> {
    let (status, headers, body) = resp.into_parts();
    let wasi_resp = OutgoingResponse::new(super::to_fields(&headers)?);
    wasi_resp
        .set_status_code(status.as_u16())
        .map_err(|()| Error::Http(format!("status {status}")))?;
    let wasi_body = wasi_resp
        .body()
        .map_err(|()| Error::Http("response body taken twice".into()))?;
    ResponseOutparam::set(out, Ok(wasi_resp));
    {
        let stream = wasi_body
            .write()
            .map_err(|()| Error::Http("response stream taken twice".into()))?;
        // The host drains the body while the guest writes, so a blocking write (one host call
        // per chunk) cannot stall; the guest's waitUntil tasks resume right after.
        for chunk in body.chunks(WRITE_CHUNK) {
            stream.blocking_write_and_flush(chunk).map_err(|e| {
                Error::Http(format!(
                    "writing the response body: {}",
                    describe_stream(&e)
                ))
            })?;
        }
    }
    OutgoingBody::finish(wasi_body, None)
        .map_err(|e| Error::Http(format!("finishing the response body: {e:?}")))?;
    Ok(())
}
