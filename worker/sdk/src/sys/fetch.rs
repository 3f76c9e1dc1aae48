//! `fetch` on raw `wasi:http/outgoing-handler`, so a refused request reports the host's own
//! error (e.g. error 1021, or the subrequest limit) rather than a broken body stream.

use crate::error::{Error, Result};
use crate::request::Request;
use crate::response::Response;
use http::{Method, StatusCode, Uri};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, IncomingBody, IncomingResponse, Method as WasiMethod, OutgoingBody, OutgoingRequest,
    Scheme,
};
use wstd::io::{AsyncInputStream, AsyncOutputStream, AsyncPollable, AsyncRead};

/// Sends `req` and buffers the response (`fetch(request)`). A refused host, an exhausted
/// subrequest budget or a network failure is [`Error::Fetch`] with the host's message.
pub async fn fetch(req: Request) -> Result<Response> {
    let uri: Uri = req
        .url()
        .parse()
        .map_err(|e| Error::Fetch(format!("invalid URL {}: {e}", req.url())))?;
    let outgoing = OutgoingRequest::new(super::to_fields(req.headers())?);
    let refused = |what: &str| Error::Fetch(format!("{what} rejected by wasi:http"));
    outgoing
        .set_method(&wasi_method(req.method()))
        .map_err(|()| refused("method"))?;
    let scheme = match uri.scheme_str() {
        Some("http") => Scheme::Http,
        Some("https") | None => Scheme::Https,
        Some(other) => Scheme::Other(other.to_owned()),
    };
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    outgoing
        .set_authority(uri.authority().map(|a| a.as_str()))
        .map_err(|()| refused("authority"))?;
    outgoing
        .set_path_with_query(uri.path_and_query().map(|p| p.as_str()))
        .map_err(|()| refused("path"))?;
    let body = outgoing.body().map_err(|()| refused("body"))?;

    let pending =
        outgoing_handler::handle(outgoing, None).map_err(|c| Error::Fetch(describe(&c)))?;
    // A failed upload usually means the host refused the request: its reason arrives with
    // the response, so that is what gets reported.
    let upload = send_body(body, req.body()).await;
    AsyncPollable::new(pending.subscribe()).wait_for().await;
    let incoming = match pending.get() {
        Some(Ok(Ok(resp))) => resp,
        Some(Ok(Err(code))) => return Err(Error::Fetch(describe(&code))),
        Some(Err(())) | None => return Err(Error::Fetch("the response was already taken".into())),
    };
    upload?;
    read_response(incoming).await
}

fn wasi_method(m: &Method) -> WasiMethod {
    match *m {
        Method::GET => WasiMethod::Get,
        Method::HEAD => WasiMethod::Head,
        Method::POST => WasiMethod::Post,
        Method::PUT => WasiMethod::Put,
        Method::DELETE => WasiMethod::Delete,
        Method::CONNECT => WasiMethod::Connect,
        Method::OPTIONS => WasiMethod::Options,
        Method::TRACE => WasiMethod::Trace,
        Method::PATCH => WasiMethod::Patch,
        ref other => WasiMethod::Other(other.as_str().to_owned()),
    }
}

async fn send_body(body: OutgoingBody, bytes: &[u8]) -> Result<()> {
    if !bytes.is_empty() {
        let stream = body
            .write()
            .map_err(|()| Error::Fetch("request body stream taken twice".into()))?;
        let stream = AsyncOutputStream::new(stream);
        stream
            .write_all(bytes)
            .await
            .map_err(|e| Error::Fetch(format!("sending the request body: {e}")))?;
        stream
            .flush()
            .await
            .map_err(|e| Error::Fetch(format!("sending the request body: {e}")))?;
    }
    OutgoingBody::finish(body, None).map_err(|c| Error::Fetch(describe(&c)))
}

async fn read_response(incoming: IncomingResponse) -> Result<Response> {
    let status = StatusCode::from_u16(incoming.status())
        .map_err(|e| Error::Fetch(format!("invalid status from the host: {e}")))?;
    let headers = super::to_header_map(incoming.headers())
        .map_err(|name| Error::Fetch(format!("invalid response header {name}")))?;
    let body = incoming
        .consume()
        .map_err(|()| Error::Fetch("response body taken twice".into()))?;
    let mut bytes = Vec::new();
    {
        let stream = body
            .stream()
            .map_err(|()| Error::Fetch("response stream taken twice".into()))?;
        let mut stream = AsyncInputStream::new(stream);
        stream
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| Error::Fetch(format!("reading the response body: {e}")))?;
    }
    drop(IncomingBody::finish(body));
    Ok(Response::from_parts(status, headers, bytes))
}

/// The host's message for a failed outgoing request.
fn describe(code: &ErrorCode) -> String {
    match code {
        ErrorCode::InternalError(Some(m)) => m.clone(),
        other => format!("{other:?}"),
    }
}
