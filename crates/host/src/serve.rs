//! Serving a [`Host`] over loopback HTTP/1.1, with the `/__edgesim/` control endpoints.

use crate::host::Host;
use crate::pages::text;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Control hooks for `edgesim dev`: how `POST /__edgesim/time/advance` moves the clock.
#[derive(Clone)]
pub struct Control {
    /// Moves the emulator clock forward.
    pub advance: Arc<dyn Fn(Duration) + Send + Sync>,
    /// When set, moves the clock instead of [`Control::advance`], and the answer waits for it:
    /// `edgesim dev` steps through each due Cron Trigger minute on the way
    /// ([`DevCron::advance`](crate::DevCron::advance)).
    pub stepped: Option<SteppedAdvance>,
    /// The project's declared routes, for `GET /__edgesim/route?path=P` (which route a path
    /// is and the KV key it reads); `None` when the project declares none.
    pub routes: Option<RouteLookup>,
}

/// Looks a request path up among the project's declared routes (see [`Control::routes`]).
pub type RouteLookup = Arc<dyn Fn(&str) -> RouteMatch + Send + Sync>;

/// A request path looked up among the declared routes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteMatch {
    /// No declared route matches; the declared patterns.
    NoMatch {
        /// Every declared pattern.
        declared: Vec<String>,
    },
    /// The route the path is.
    Matched {
        /// Its pattern as declared.
        route: String,
        /// Where it was declared (`file:line`).
        at: String,
        /// The path's parameter values.
        params: std::collections::BTreeMap<String, String>,
        /// The KV key the route reads for them (`None`: the route names none).
        key: Option<String>,
    },
}

/// An asynchronous clock advance (see [`Control::stepped`]).
pub type SteppedAdvance =
    Arc<dyn Fn(Duration) -> futures::future::BoxFuture<'static, ()> + Send + Sync>;

impl Control {
    /// A control whose advance moves the clock at once with `advance`.
    pub fn new(advance: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        Self {
            advance: Arc::new(advance),
            stepped: None,
            routes: None,
        }
    }
}

/// The Worker a server serves, replaceable while it runs (`edgesim dev` swaps in a rebuilt
/// Worker). Requests already running finish on the Worker they started on.
#[derive(Clone, Default)]
pub struct HostSlot {
    inner: Arc<std::sync::RwLock<SlotState>>,
}

#[derive(Default)]
struct SlotState {
    host: Option<Host>,
    /// Why there is no Worker to serve yet (a failed first build), shown as the error page.
    error: Option<String>,
}

impl HostSlot {
    /// A slot serving `host`.
    pub fn new(host: Host) -> Self {
        let slot = Self::default();
        slot.set(host);
        slot
    }

    /// Serves `host` from now on.
    pub fn set(&self, host: Host) {
        let mut s = self.inner.write().unwrap_or_else(|p| p.into_inner());
        s.host = Some(host);
        s.error = None;
    }

    /// Records why no Worker can be served; requests get it as a 500 page until [`HostSlot::set`].
    /// A Worker already in the slot keeps serving.
    pub fn set_error(&self, message: String) {
        self.inner.write().unwrap_or_else(|p| p.into_inner()).error = Some(message);
    }

    /// The Worker being served, if any.
    pub fn host(&self) -> Option<Host> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .host
            .clone()
    }

    fn current(&self) -> Result<Host, String> {
        let s = self.inner.read().unwrap_or_else(|p| p.into_inner());
        match (&s.host, &s.error) {
            (Some(h), _) => Ok(h.clone()),
            (None, Some(e)) => Err(e.clone()),
            (None, None) => Err("the Worker is still being built".into()),
        }
    }
}

/// Accepts connections on `listener` forever, serving each request with `host` (waitUntil work
/// runs on after the response). With `control`, `/__edgesim/` paths are control endpoints
/// (see [`crate::control`]): `POST /__edgesim/time/advance?seconds=N` moves the clock;
/// `/__edgesim/kv/<BINDING>/<key>` shows a key's central record and each colo's cache entry
/// (`GET`), reads central's value (`GET ?value`), writes (`PUT`) or deletes it at central.
///
/// Requests go through [`edgesim_http::serve`]: production's URL, header and body limits and a
/// header-read timeout apply before the Worker runs.
pub async fn serve(
    listener: TcpListener,
    host: Host,
    control: Option<Control>,
) -> std::io::Result<()> {
    serve_slot(listener, HostSlot::new(host), control).await
}

/// [`serve`] with a replaceable Worker: each request is served by the Worker in `slot` when it
/// arrives; with none yet, by a 500 page naming why (a failed build).
pub async fn serve_slot(
    listener: TcpListener,
    slot: HostSlot,
    control: Option<Control>,
) -> std::io::Result<()> {
    serve_with_shutdown(listener, slot, control, std::future::pending()).await
}

/// [`serve_slot`] until `shutdown` completes; then the listener closes, idle connections close,
/// requests in flight finish (bounded, see [`edgesim_http::Limits::drain_timeout`]) and it
/// returns.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    slot: HostSlot,
    control: Option<Control>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let handler = move |req: Request<Bytes>| {
        let host = slot.current();
        let control = control.clone();
        async move {
            match host {
                Ok(host) => streamed(respond(&host, control.as_ref(), req).await),
                Err(why) => text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("edgesim: no Worker to serve: {why}\n"),
                )
                .map(Into::into),
            }
        }
    };
    edgesim_http::serve(listener, edgesim_http::Limits::default(), shutdown, handler).await
}

/// `resp` for the server: a body the Worker is still writing ([`crate::BodyRest`] in the
/// extensions, see [`Host::handle_streaming`]) streams to the client as written.
fn streamed(resp: Response<Bytes>) -> Response<edgesim_http::Body> {
    let rest = resp
        .extensions()
        .get::<crate::BodyRest>()
        .and_then(crate::BodyRest::take);
    resp.map(|first| match rest {
        Some(rest) => edgesim_http::Body::stream(first, rest),
        None => first.into(),
    })
}

async fn respond(host: &Host, control: Option<&Control>, req: Request<Bytes>) -> Response<Bytes> {
    if let Some(control) = control
        && req.uri().path().starts_with("/__edgesim/")
    {
        if let Some(stepped) = &control.stepped
            && req.uri().path() == crate::control::ADVANCE_PATH
        {
            return match crate::control::advance_by(&req) {
                Ok(secs) => {
                    stepped(Duration::from_secs_f64(secs)).await;
                    crate::control::advanced(host, secs)
                }
                Err(resp) => *resp,
            };
        }
        return control_endpoint(host, control, &req);
    }
    // `wrangler dev --test-scheduled`'s route: runs one scheduled event (edgesim dev only).
    if control.is_some() && req.uri().path() == "/__scheduled" {
        return crate::scheduled::test_scheduled(host, &req).await;
    }
    let inv = host.handle_streaming(req).await;
    // Let the other connections whose requests are ready run their Workers before this response
    // is written, so responses leave in batches: a client that is still busy reading earlier
    // ones needs no new wake-up per response. On the 2-core benchmark machine this cut the
    // server's kernel time per request from ≈22 to ≈13 µs and raised `/articles` at c=16 from
    // ≈15.7k to ≈19k req/s, with no loss at c=1 (nothing else is ready there, so it costs one
    // trip through the scheduler).
    tokio::task::yield_now().await;
    inv.response
}

pub use crate::control::control_endpoint;
