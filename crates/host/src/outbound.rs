//! The Worker's outgoing `fetch`: Supabase through an [`Upstream`], allowlisted hosts, error 1021
//! for the rest, and the subrequest limit.

use crate::internal::INTERNAL_AUTHORITY;
use crate::kv::KvCtx;
use crate::observer::{HostEvent, SharedObserver};
use crate::state::InvocationStats;
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// Production's message when a Worker goes over its subrequest limit.
pub const TOO_MANY_SUBREQUESTS: &str = "Too many subrequests by single Worker invocation.";

/// The message of error 1021 for a refused host; the guest's fetch fails with it.
pub fn host_refused_message(host: &str) -> String {
    format!("error code: 1021: Worker has requested a host it cannot access: {host}")
}

/// Why an [`Upstream`] could not produce a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Nothing answered at that address.
    #[error("connection refused: {0}")]
    ConnectionRefused(String),
    /// The upstream did not answer in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// Anything else (a malformed request, an I/O error).
    #[error("{0}")]
    Other(String),
}

/// Where the Worker's permitted fetches go: the mock Supabase in-process under simulation,
/// real HTTP in `edgesim dev`. Requests and responses are whole (bodies buffered).
pub trait Upstream: Send + Sync {
    /// Sends `req` (absolute URI) and returns the response.
    fn fetch(
        &self,
        req: http::Request<Bytes>,
    ) -> BoxFuture<'static, Result<http::Response<Bytes>, FetchError>>;
}

/// A synchronous in-process HTTP handler (the mock Supabase's `handle`).
pub type Handler = Arc<dyn Fn(http::Request<Bytes>) -> http::Response<Bytes> + Send + Sync>;

/// An [`Upstream`] that answers from an in-process handler, with no socket: under simulation,
/// `InProcessUpstream::new(url, Arc::new(move |r| supabase.handle(r)))`. Requests for any
/// other authority fail with [`FetchError::ConnectionRefused`], or go to a fallback
/// ([`InProcessUpstream::with_fallback`]; `edgesim dev` sends allowlisted hosts over sockets).
pub struct InProcessUpstream {
    handler: Handler,
    authority: String,
    fallback: Option<Arc<dyn Upstream>>,
}

impl InProcessUpstream {
    /// Serves requests for `base_url`'s authority with `handler`.
    pub fn new(base_url: &str, handler: Handler) -> Self {
        Self {
            handler,
            authority: authority_of(base_url),
            fallback: None,
        }
    }

    /// Sends requests for every other authority to `fallback` (for example an [`HttpUpstream`]).
    pub fn with_fallback(mut self, fallback: Arc<dyn Upstream>) -> Self {
        self.fallback = Some(fallback);
        self
    }
}

impl Upstream for InProcessUpstream {
    fn fetch(
        &self,
        req: http::Request<Bytes>,
    ) -> BoxFuture<'static, Result<http::Response<Bytes>, FetchError>> {
        let host = req
            .uri()
            .authority()
            .map(|a| a.as_str().to_ascii_lowercase())
            .unwrap_or_default();
        if host != self.authority {
            return match &self.fallback {
                Some(f) => f.fetch(req),
                None => Box::pin(async move { Err(FetchError::ConnectionRefused(host)) }),
            };
        }
        let resp = (self.handler)(req);
        Box::pin(async move { Ok(resp) })
    }
}

/// An [`Upstream`] that makes real HTTP/1.1 requests (plain `http://` only), for `edgesim dev`.
pub struct HttpUpstream {
    client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
}

impl HttpUpstream {
    /// A client with a connection pool.
    pub fn new() -> Self {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        Self { client }
    }
}

impl Default for HttpUpstream {
    fn default() -> Self {
        Self::new()
    }
}

impl Upstream for HttpUpstream {
    fn fetch(
        &self,
        req: http::Request<Bytes>,
    ) -> BoxFuture<'static, Result<http::Response<Bytes>, FetchError>> {
        let client = self.client.clone();
        Box::pin(async move {
            let target = req.uri().to_string();
            let resp = client.request(req.map(Full::new)).await.map_err(|e| {
                if e.is_connect() {
                    FetchError::ConnectionRefused(format!("{target}: {e}"))
                } else {
                    FetchError::Other(format!("{target}: {e}"))
                }
            })?;
            let (parts, body) = resp.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| FetchError::Other(format!("{target}: reading the body: {e}")))?
                .to_bytes();
            Ok(http::Response::from_parts(parts, body))
        })
    }
}

/// The authority (`host[:port]`) of a URL, lower case; the URL itself when it has none.
pub(crate) fn authority_of(url: &str) -> String {
    url.parse::<http::Uri>()
        .ok()
        .and_then(|u| u.authority().map(|a| a.as_str().to_ascii_lowercase()))
        .unwrap_or_else(|| url.to_ascii_lowercase())
}

/// The per-request [`WasiHttpHooks`]: decides where each fetch goes and counts subrequests.
#[derive(Clone)]
pub(crate) struct OutboundHooks {
    pub upstream: Arc<dyn Upstream>,
    /// Authorities that may be fetched (Supabase's first, then the allowlist).
    pub allowed: Arc<Vec<String>>,
    pub subrequest_limit: u32,
    pub stats: Arc<InvocationStats>,
    pub observer: SharedObserver,
    pub colo: String,
    pub ray: String,
    /// The invocation's KV context (shares its budget), for the internal host.
    pub kv: KvCtx,
    /// The internal host's `/config` answer.
    pub internal_config: Bytes,
}

impl OutboundHooks {
    fn permits(&self, authority: &str) -> bool {
        let authority = authority.to_ascii_lowercase();
        let host = authority.split(':').next().unwrap_or_default();
        self.allowed.iter().any(|a| *a == authority || *a == host)
    }
}

impl OutboundHooks {
    /// A request to the reserved internal host: answered here, neither counted as a
    /// subrequest nor reported as a fetch.
    async fn internal(
        &self,
        request: http::Request<WasiBody>,
    ) -> Result<(http::Response<WasiBody>, IoFuture), HttpError> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await?.to_bytes();
        let path = parts.uri.path();
        let resp =
            crate::internal::serve(&self.kv, &self.internal_config, &parts.method, path, body)
                .await;
        let resp = resp.map(|b| Full::new(b).map_err(|never| match never {}).boxed_unsync());
        Ok((resp, Box::new(async { Ok(()) }) as IoFuture))
    }
}

/// Reads a refused request's body to its end on the side. Dropping it at once would make the
/// guest's body write fail ("connection reset") before the guest sees the refusal.
fn drain(request: http::Request<WasiBody>) {
    let body = request.into_body();
    tokio::spawn(async move {
        let _ = body.collect().await;
    });
}

type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: IoFuture,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), HttpError>> + Send>
    {
        let me = self.clone();
        Box::new(async move {
            if request
                .uri()
                .authority()
                .is_some_and(|a| a.as_str().eq_ignore_ascii_case(INTERNAL_AUTHORITY))
            {
                return me.internal(request).await;
            }
            let method = request.method().to_string();
            let url = request.uri().to_string();
            let authority = request
                .uri()
                .authority()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let n = me.stats.subrequests.fetch_add(1, Ordering::Relaxed) + 1;
            let refuse = |status: Option<u16>, error: String| {
                me.observer.event(&HostEvent::Fetch {
                    ray: me.ray.clone(),
                    colo: me.colo.clone(),
                    method: method.clone(),
                    url: url.clone(),
                    status,
                    error: Some(error.clone()),
                });
                HttpError::InternalError(Some(error))
            };
            if n > me.subrequest_limit {
                drain(request);
                return Err(refuse(None, TOO_MANY_SUBREQUESTS.to_string()));
            }
            if !me.permits(&authority) {
                tracing::warn!(colo = %me.colo, host = %authority, "refused a fetch (error 1021)");
                drain(request);
                let host = authority.split(':').next().unwrap_or_default();
                return Err(refuse(None, host_refused_message(host)));
            }
            let (parts, body) = request.into_parts();
            let body = body.collect().await?.to_bytes();
            let resp = me
                .upstream
                .fetch(http::Request::from_parts(parts, body))
                .await
                .map_err(|e| refuse(None, e.to_string()))?;
            me.observer.event(&HostEvent::Fetch {
                ray: me.ray.clone(),
                colo: me.colo.clone(),
                method,
                url,
                status: Some(resp.status().as_u16()),
                error: None,
            });
            let resp = resp.map(|b| Full::new(b).map_err(|never| match never {}).boxed_unsync());
            Ok((resp, Box::new(async { Ok(()) }) as IoFuture))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_and_messages() {
        assert_eq!(authority_of("http://127.0.0.1:54321"), "127.0.0.1:54321");
        assert_eq!(authority_of("https://Example.COM/x"), "example.com");
        assert!(host_refused_message("evil.example").contains("1021"));
        assert!(host_refused_message("evil.example").ends_with("cannot access: evil.example"));
    }
}
