//! Serving a [`Supabase`] over HTTP/1 with hyper.

use crate::Supabase;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;

/// Accepts connections on `listener` forever (HTTP/1.1, keep-alive), answering each request with
/// [`Supabase::handle`]. Accept errors are logged and retried, so it only returns to satisfy the
/// signature's contract for callers that `select!` on it.
pub async fn serve(listener: tokio::net::TcpListener, supabase: Supabase) -> std::io::Result<()> {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: keep serving once it passes.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let sb = supabase.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: hyper::Request<Incoming>| {
                let sb = sb.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let bytes = match body.collect().await {
                        Ok(b) => b.to_bytes(),
                        Err(_) => Bytes::new(),
                    };
                    let req = http::Request::from_parts(parts, bytes);
                    let resp = sb.handle(req);
                    Ok::<_, Infallible>(resp.map(Full::new))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
