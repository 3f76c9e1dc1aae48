//! Serving a [`Supabase`] over HTTP/1 on [`edgesim_http::serve`]: production-style URL, header
//! and body limits, a header-read timeout, and graceful shutdown.

use crate::Supabase;
use bytes::Bytes;
use std::future::Future;

/// Accepts connections on `listener` forever (HTTP/1.1, keep-alive), answering each request with
/// [`Supabase::handle`]. Accept errors are logged and retried, so it only returns to satisfy the
/// signature's contract for callers that `select!` on it.
pub async fn serve(listener: tokio::net::TcpListener, supabase: Supabase) -> std::io::Result<()> {
    serve_with_shutdown(listener, supabase, std::future::pending()).await
}

/// Like [`serve`], until `shutdown` completes; then requests in flight finish (bounded) and it
/// returns. The caller checkpoints the database afterwards ([`Supabase::checkpoint`]).
pub async fn serve_with_shutdown(
    listener: tokio::net::TcpListener,
    supabase: Supabase,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let handler = move |req: http::Request<Bytes>| {
        let sb = supabase.clone();
        async move { sb.handle(req) }
    };
    edgesim_http::serve(listener, edgesim_http::Limits::default(), shutdown, handler).await
}
