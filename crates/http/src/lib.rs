//! The HTTP/1.1 server loop both edgesim servers (the Worker host and the mock Supabase) run on
//! loopback, hardened against hostile clients, with graceful shutdown.
//!
//! - **Sizes** (Cloudflare's documented limits, see [`Limits::default`]): a URL over 16 KiB gets
//!   `414`, a request head (request line and headers) over 16 + 128 KiB gets `431`, a body over
//!   the plan's 100 MB gets `413` (at once when `Content-Length` says so, else when the limit is
//!   crossed), a malformed request gets `400` — each before any handler runs.
//! - **Slow clients**: a request head must arrive within [`Limits::header_read_timeout`] (this
//!   also closes keep-alive connections idle that long) and a body within
//!   [`Limits::body_read_timeout`] (else `408`), so trickling clients cannot pin connections.
//! - **Clients that go away**: when a client closes its connection before the response is
//!   written, hyper notices (it keeps reading the socket while the handler runs) and drops the
//!   handler's future; a handler that must finish work anyway (edgesim-host cancels the request
//!   and lets the Worker's waitUntil work run on) does so from `Drop`.
//! - **Shutdown**: when the `shutdown` future completes the listener closes, idle connections
//!   close, requests in flight finish (up to [`Limits::drain_timeout`], then they are dropped),
//!   and [`serve`] returns.

mod body;

pub use body::{Body, Chunks};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Request limits and timeouts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest URL (path and query), bytes. Cloudflare: 16 KB (`414 URI Too Long` past it).
    pub max_url_bytes: usize,
    /// Largest request head (request line plus headers), bytes. Cloudflare: headers 128 KB in
    /// all (past it `431 Request Header Fields Too Large`), plus the URL.
    pub max_head_bytes: usize,
    /// Most header lines in a request.
    pub max_headers: usize,
    /// Largest request body, bytes. Cloudflare: 100 MB on the Free and Pro plans (`413`).
    pub max_body_bytes: usize,
    /// Time a client has to send a complete request head; also how long an idle keep-alive
    /// connection stays open.
    pub header_read_timeout: Duration,
    /// Time a client has to send the whole body once the head arrived (`408` past it).
    pub body_read_timeout: Duration,
    /// How long requests in flight may take to finish after shutdown starts.
    pub drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_url_bytes: 16 << 10,
            max_head_bytes: (16 << 10) + (128 << 10),
            max_headers: 1000,
            max_body_bytes: 100 * 1000 * 1000,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C): the shutdown signal of the edgesim servers.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
                    _ = int.recv() => tracing::info!("SIGINT: shutting down"),
                }
                return;
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!("cannot watch SIGTERM/SIGINT ({e}); stopping on Ctrl-C only");
            }
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Serves connections on `listener` with `handler` until `shutdown` completes, then drains
/// (see the crate docs) and returns. Accept errors (out of file descriptors and the like) are
/// logged and retried. The handler answers with a whole body ([`Bytes`]) or a [`Body`], which
/// may stream.
pub async fn serve<H, Fut, B>(
    listener: TcpListener,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    handler: H,
) -> std::io::Result<()>
where
    H: Fn(Request<Bytes>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: Into<Body> + 'static,
{
    let limits = Arc::new(limits);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut conns = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        conns.spawn(connection(
            stream,
            limits.clone(),
            handler.clone(),
            stop_rx.clone(),
        ));
        while conns.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let open = conns.len();
    if open > 0 {
        tracing::info!("waiting for {open} connection(s) to finish");
    }
    let drained = tokio::time::timeout(limits.drain_timeout, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            "{} connection(s) still busy after {:?}; dropping them",
            conns.len(),
            limits.drain_timeout
        );
        conns.shutdown().await;
    }
    Ok(())
}

async fn connection<H, Fut, B>(
    stream: tokio::net::TcpStream,
    limits: Arc<Limits>,
    handler: H,
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    H: Fn(Request<Bytes>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: Into<Body> + 'static,
{
    let l = limits.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let handler = handler.clone();
        let limits = l.clone();
        async move { Ok::<_, Infallible>(respond(req, &limits, handler).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_head_bytes)
        .max_buf_size(limits.max_head_bytes.max(8192) + 8192)
        .max_headers(limits.max_headers);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    let mut conn = pin!(conn);
    let stopped = async move {
        // Drop the `watch::Ref` at once: it must not live across an await.
        let _ = stop.wait_for(|s| *s).await.map(|_| ());
    };
    let result = tokio::select! {
        r = conn.as_mut() => r,
        () = stopped => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!("connection ended: {e}");
    }
}

/// A plain-text response that closes the connection (the rest of the request is not read).
fn refuse(status: StatusCode, message: &str) -> Response<Body> {
    let mut resp = Response::new(Body::from(Bytes::from(format!("{message}\n"))));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=UTF-8"),
    );
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Checks the URL and body against `limits`, reads the body, then runs `handler`.
async fn respond<H, Fut, B>(req: Request<Incoming>, limits: &Limits, handler: H) -> Response<Body>
where
    H: Fn(Request<Bytes>) -> Fut,
    Fut: Future<Output = Response<B>>,
    B: Into<Body>,
{
    let url_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if url_len > limits.max_url_bytes {
        return refuse(
            StatusCode::URI_TOO_LONG,
            &format!(
                "414 URI Too Long: the URL has {url_len} bytes; the limit is {}",
                limits.max_url_bytes
            ),
        );
    }
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "413 Request Entity Too Large: the body exceeds {} bytes",
                limits.max_body_bytes
            ),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let read = Limited::new(body, limits.max_body_bytes).collect();
    let body = match tokio::time::timeout(limits.body_read_timeout, read).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return too_large(),
        Ok(Err(e)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("400 Bad Request: reading the body failed: {e}"),
            );
        }
        Err(_) => {
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "408 Request Timeout: the body did not arrive within {:?}",
                    limits.body_read_timeout
                ),
            );
        }
    };
    handler(Request::from_parts(parts, body))
        .await
        .map(Into::into)
}
