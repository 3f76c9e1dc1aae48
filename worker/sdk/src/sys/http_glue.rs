//! `wasi:http` glue: the incoming handler (request in, response out, then `waitUntil` work).

use super::fetch::fetch;
use super::kv_import::open_namespace;
use crate::env::{Ctx, Env};
use crate::error::{Error, Result};
use crate::request::Request;
use crate::response::Response;
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wstd::io::AsyncOutputStream;

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
        let req = match read_request(incoming).await {
            Ok(req) => req,
            Err(e) => {
                ResponseOutparam::set(out, Err(ErrorCode::InternalError(Some(e.to_string()))));
                return;
            }
        };
        let vars: BTreeMap<String, String> = std::env::vars().collect();
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

async fn read_request(incoming: IncomingRequest) -> Result<Request> {
    let req = wstd::http::request::try_from_incoming(incoming)
        .map_err(|e| Error::Http(format!("{e:#}")))?;
    let (parts, mut body) = req.into_parts();
    let bytes = body
        .contents()
        .await
        .map_err(|e| Error::Http(format!("reading the request body: {e:#}")))?
        .to_vec();
    Ok(Request::from_parts(
        parts.method,
        parts.uri.to_string(),
        parts.headers,
        bytes,
    ))
}

async fn send_response(out: ResponseOutparam, resp: Response) -> Result<()> {
    let (status, headers, body) = resp.into_parts();
    let entries: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    let fields = Fields::from_list(&entries).map_err(|e| Error::Http(format!("{e:?}")))?;
    let wasi_resp = OutgoingResponse::new(fields);
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
        let stream = AsyncOutputStream::new(stream);
        stream
            .write_all(&body)
            .await
            .map_err(|e| Error::Http(format!("writing the response body: {e}")))?;
        stream
            .flush()
            .await
            .map_err(|e| Error::Http(format!("flushing the response body: {e}")))?;
    }
    OutgoingBody::finish(wasi_body, None)
        .map_err(|e| Error::Http(format!("finishing the response body: {e:?}")))?;
    Ok(())
}
