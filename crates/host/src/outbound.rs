//! The Worker's outgoing `fetch`: [`OutboundRules`] first, then Supabase and allowlisted hosts
//! through an [`Upstream`] ([`HttpUpstream`] speaks HTTP and HTTPS), error 1021 for the rest,
//! and the subrequest limit.

use crate::internal::INTERNAL_AUTHORITY;
use crate::kv::KvCtx;
use crate::observer::{HostEvent, SharedObserver};
use crate::rules::{OutboundRules, refusal_hint};
use crate::state::InvocationStats;
use bytes::Bytes;
use edgesim_core::SimRng;
use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// Production's message when a Worker goes over its subrequest limit.
pub const TOO_MANY_SUBREQUESTS: &str = "Too many subrequests by single Worker invocation.";

/// The message of error 1021 for a refused host, as production words it. edgesim's refusal
/// continues with a hint in parentheses: the `[[outbound]]` rule or allowlist entry that would
/// answer it (see [`refusal_hint`]).
pub fn host_refused_message(host: &str) -> String {
    format!("error code: 1021: Worker has requested a host it cannot access: {host}")
}

/// Why an [`Upstream`] could not produce a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Nothing answered at that address.
    #[error("connection refused: {0}")]
    ConnectionRefused(String),
    /// The connection could not be made (refused, unreachable, unknown name); the message
    /// names the address, the URL and the cause.
    #[error("{0}")]
    Connect(String),
    /// The TLS handshake failed (untrusted or mismatched certificate, no common protocol).
    #[error("{0}")]
    Tls(String),
    /// The connection was lost mid-request (an `[[outbound]]` rule's `error_rate`).
    #[error("{0}")]
    Reset(String),
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

type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// An [`Upstream`] that makes real HTTP/1.1 requests, `http://` and `https://` (rustls on
/// `ring`, trusting Mozilla's roots from `webpki-roots`: the same on every machine, no system
/// store), for `edgesim dev`.
///
/// Failures are [`FetchError::Connect`] (naming the address, the URL and the cause, e.g.
/// `could not connect to 127.0.0.1:9 for https://127.0.0.1:9/x: Connection refused (os error
/// 111)`), [`FetchError::Tls`] for a failed handshake, and [`FetchError::Other`]; the Worker's
/// fetch fails with that message as a network error, as production's does.
pub struct HttpUpstream {
    client: hyper_util::client::legacy::Client<Connector, Full<Bytes>>,
}

impl HttpUpstream {
    /// A client with a connection pool, trusting the public web's roots.
    pub fn new() -> Self {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        Self::with_roots(roots)
    }

    /// A client that trusts only the given DER-encoded root certificates (a test's self-signed
    /// certificate, a private CA). Fails when one is not a certificate.
    pub fn with_root_certificates<I, C>(ders: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = C>,
        C: AsRef<[u8]>,
    {
        let mut roots = rustls::RootCertStore::empty();
        for (i, der) in ders.into_iter().enumerate() {
            let cert = rustls::pki_types::CertificateDer::from(der.as_ref().to_vec());
            roots
                .add(cert)
                .map_err(|e| format!("root certificate {}: {e}", i + 1))?;
        }
        Ok(Self::with_roots(roots))
    }

    fn with_roots(roots: rustls::RootCertStore) -> Self {
        // rustls 0.23.48 deprecates its ring provider for lacking post-quantum key exchange.
        // ring builds in seconds with no cmake or nasm (aws-lc-rs does not), and classical
        // X25519/ECDHE is what every API still accepts: fine for an emulator's client.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring offers TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
        Self { client }
    }
}

impl Default for HttpUpstream {
    fn default() -> Self {
        Self::new()
    }
}

/// The innermost cause of `e` (the OS's or rustls's words), without hyper's wrappers.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Whether a rustls error is somewhere in `e`'s chain: hyper-rustls wraps tokio-rustls's
/// `io::Error`, which wraps rustls's error, in another `io::Error`, and `io::Error::source`
/// skips its payload, so payloads are opened too.
fn involves_rustls(e: &(dyn std::error::Error + 'static)) -> bool {
    if e.is::<rustls::Error>() {
        return true;
    }
    if let Some(inner) = e
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        && involves_rustls(inner)
    {
        return true;
    }
    e.source().is_some_and(involves_rustls)
}

/// A hyper client error as a [`FetchError`] that says what failed where.
fn describe(target: &http::Uri, e: &hyper_util::client::legacy::Error) -> FetchError {
    let authority = target.authority().map_or("", |a| a.as_str());
    let cause = root_cause(e);
    let tls = involves_rustls(e);
    if tls {
        FetchError::Tls(format!(
            "TLS handshake with {authority} failed for {target}: {cause}"
        ))
    } else if e.is_connect() {
        FetchError::Connect(format!(
            "could not connect to {authority} for {target}: {cause}"
        ))
    } else {
        FetchError::Other(format!("{target}: {cause}"))
    }
}

impl Upstream for HttpUpstream {
    fn fetch(
        &self,
        req: http::Request<Bytes>,
    ) -> BoxFuture<'static, Result<http::Response<Bytes>, FetchError>> {
        let client = self.client.clone();
        Box::pin(async move {
            let target = req.uri().clone();
            match target.scheme_str() {
                Some("http" | "https") => {}
                other => {
                    return Err(FetchError::Other(format!(
                        "{target}: unsupported scheme {} (http and https are)",
                        other.unwrap_or("(none)")
                    )));
                }
            }
            let resp = client
                .request(req.map(Full::new))
                .await
                .map_err(|e| describe(&target, &e))?;
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
    /// The host's outbound rules (checked before the allowlist; shared `times` counters).
    pub rules: OutboundRules,
    /// The Cache API at this colo, for the internal host's `/cache/` routes.
    pub cache: crate::cache::CacheCtx,
    /// Seeds [`OutboundHooks::rng`] (the invocation's seed).
    pub rng_seed: u64,
    /// The fault draws of this invocation's rules, made on its first matched fetch from
    /// `rng_seed` forked as `"outbound"`: the same seed gives the same faults in the same order.
    pub rng: Option<SimRng>,
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
        let resp = if let Some(op) = path.strip_prefix("/cache/") {
            crate::cache::serve(&self.cache, op, body)
        } else {
            crate::internal::serve(&self.kv, &self.internal_config, &parts.method, path, body).await
        };
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
        if request
            .uri()
            .authority()
            .is_some_and(|a| a.as_str().eq_ignore_ascii_case(INTERNAL_AUTHORITY))
        {
            let me = self.clone();
            return Box::new(async move { me.internal(request).await });
        }
        // Counting, the limit and the rule (with its fault draws) are decided here, when the
        // guest calls fetch, so their order is the guest's order.
        let n = self.stats.subrequests.fetch_add(1, Ordering::Relaxed) + 1;
        let over = n > self.subrequest_limit;
        let ruled = if over || self.rules.is_empty() {
            None
        } else {
            let seed = self.rng_seed;
            let rng = self
                .rng
                .get_or_insert_with(|| SimRng::from_seed(seed).fork("outbound"));
            self.rules
                .answer_parts(request.method(), request.uri(), rng)
        };
        let me = self.clone();
        Box::new(async move {
            let method = request.method().to_string();
            let url = request.uri().to_string();
            let authority = request
                .uri()
                .authority()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let report = |status: Option<u16>, error: Option<String>| {
                me.observer.event(&HostEvent::Fetch {
                    ray: me.ray.clone(),
                    colo: me.colo.clone(),
                    method: method.clone(),
                    url: url.clone(),
                    status,
                    error,
                });
            };
            let refuse = |error: String| {
                report(None, Some(error.clone()));
                HttpError::InternalError(Some(error))
            };
            if over {
                drain(request);
                return Err(refuse(TOO_MANY_SUBREQUESTS.to_string()));
            }
            let resp = if let Some(answer) = ruled {
                tracing::debug!(colo = %me.colo, %url, rule = answer.rule + 1, "an [[outbound]] rule answers");
                // Read the body, as the API would, before answering.
                let _ = request.into_body().collect().await?;
                answer.respond().await.map_err(|e| refuse(e.to_string()))?
            } else if me.permits(&authority) {
                let (parts, body) = request.into_parts();
                let body = body.collect().await?.to_bytes();
                me.upstream
                    .fetch(http::Request::from_parts(parts, body))
                    .await
                    .map_err(|e| refuse(e.to_string()))?
            } else {
                tracing::warn!(colo = %me.colo, host = %authority, "refused a fetch (error 1021)");
                let host = authority.split(':').next().unwrap_or_default().to_string();
                let hint = refusal_hint(request.method(), request.uri());
                drain(request);
                return Err(refuse(format!("{} ({hint})", host_refused_message(&host))));
            };
            report(Some(resp.status().as_u16()), None);
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
