//! One request: colo headers, an instance (reused or fresh), the response, error pages, and
//! waitUntil.

use crate::config::Colo;
use crate::host::{Host, StoreParts};
use crate::observer::{HostEvent, WaitUntilOutcome};
use crate::pages::{self, Failure};
use crate::state::InvocationStats;
use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::Duration;
use tokio::task::JoinHandle;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

mod streaming;
pub use streaming::{BodyChunks, BodyRest};

/// The header that picks the colo a request runs at.
pub const COLO_HEADER: &str = "x-edgesim-colo";

/// Logged when a canceled request's guest call (its handler, or waitUntil work it registered)
/// still ran at the waitUntil limit after its client went away. Production stops a request's
/// own work at the disconnect and lets only waitUntil work run on; one wasm instance cannot
/// stop part of a call, so edgesim lets the whole call run to the limit and says so here.
pub const CANCELED_WORK_STOPPED: &str = "the canceled request's work (its handler or its waitUntil() tasks) was still running at the waitUntil() limit after the client went away and has been stopped; production stops a canceled request's own work at once and only its waitUntil() tasks run on";

/// Logged (at warn) when waitUntil work is cut off, as production logs it.
pub const WAIT_UNTIL_CANCELLED: &str = "waitUntil() tasks did not complete within the allowed time after invocation end and have been cancelled.";

/// How often (tokio time) the waitUntil watcher re-reads the emulator's clock, so a clock that
/// jumps (`time/advance` in `edgesim dev`) cancels overdue work promptly.
const DEADLINE_POLL: Duration = Duration::from_secs(1);

/// The result of [`Host::handle`].
pub struct Invocation {
    /// The response, complete (body buffered), with `cf-ray`.
    pub response: Response<Bytes>,
    /// The colo the request ran at (`None` when the colo was unknown).
    pub colo: Option<String>,
    /// The request's `cf-ray` (`None` when the colo was unknown).
    pub ray: Option<String>,
    /// Work the guest still does after the response (waitUntil), if any.
    pub background: Option<BackgroundTask>,
}

/// The guest's work after the response. It runs on its own tokio task whether or not this
/// handle is kept; dropping the handle detaches it. It ends on its own, or is cancelled
/// [`Limits::wait_until`](crate::Limits::wait_until) after the response on the emulator's clock
/// (the injected `SharedClock`, re-read at the deadline and at least every second of tokio
/// time, so a clock that jumps ahead cancels overdue work within a second).
pub struct BackgroundTask {
    join: JoinHandle<WaitUntilOutcome>,
}

impl BackgroundTask {
    /// Waits until the work completes or is cancelled.
    pub async fn wait(self) -> WaitUntilOutcome {
        match self.join.await {
            Ok(outcome) => outcome,
            Err(e) => WaitUntilOutcome::Failed(format!("waitUntil task failed: {e}")),
        }
    }

    /// Whether the work has ended.
    pub fn is_finished(&self) -> bool {
        self.join.is_finished()
    }
}

/// How the guest's `handle` call ended, and what it printed.
struct GuestExit {
    result: wasmtime::Result<()>,
    stdout: Bytes,
    stderr: Bytes,
}

impl GuestExit {
    fn failed(result: wasmtime::Result<()>) -> Self {
        Self {
            result,
            stdout: Bytes::new(),
            stderr: Bytes::new(),
        }
    }
}

/// The guest's `handle` call as a future that owns its instance.
type CallFuture = Pin<Box<dyn Future<Output = GuestExit> + Send>>;

/// What the guest's response head arrives on.
type HeadReceiver =
    tokio::sync::oneshot::Receiver<Result<hyper::Response<HyperOutgoingBody>, ErrorCode>>;

/// The part of the guest's response the host still reads.
enum Reading {
    /// Waiting for the head (`response-outparam.set`).
    Head(HeadReceiver),
    /// Reading the body.
    Body(HyperOutgoingBody),
    /// Nothing more to read.
    Done,
}

/// A guest call polled inline by the request's own task while the response is produced, so
/// the common request (no waitUntil work) needs no task, channel or cross-thread wake-up.
/// Whatever is left once the response is complete (waitUntil work) moves to a task of its own
/// ([`GuestCall::into_background`]).
///
/// Dropped unfinished (the client went away mid-request: hyper drops the request's future),
/// the call is canceled as production cancels it: the call moves to a task of its own, watched
/// like waitUntil work (so work the Worker registered with `ctx.waitUntil` runs on, within
/// its limit), and that task keeps reading the guest's response and discards it, so the guest
/// never sees its response stream closed under it: it ends cleanly and its instance stays
/// reusable. Nothing about the cancel is reported as the Worker's exception.
struct GuestCall {
    host: Host,
    meta: Meta,
    stats: Arc<InvocationStats>,
    call: Option<CallFuture>,
    exit: Option<GuestExit>,
    reading: Reading,
}

impl GuestCall {
    /// Polls the guest (until it ends) once.
    fn poll_call(&mut self, cx: &mut std::task::Context<'_>) {
        if let Some(call) = self.call.as_mut()
            && let Poll::Ready(exit) = call.as_mut().poll(cx)
        {
            self.call = None;
            self.exit = Some(exit);
        }
    }

    /// The response head, polling the guest alongside; `None` when the guest dropped its
    /// response outparam without setting it.
    async fn head(&mut self) -> Option<Result<hyper::Response<HyperOutgoingBody>, ErrorCode>> {
        let out = poll_fn(|cx| {
            self.poll_call(cx);
            match &mut self.reading {
                Reading::Head(rx) => match Pin::new(rx).poll(cx) {
                    Poll::Ready(head) => Poll::Ready(head.ok()),
                    // The call ended without answering; its outparam may live on, unset, in
                    // the instance's table (a guest that never dropped it): nothing will come.
                    Poll::Pending if self.call.is_none() => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                },
                _ => Poll::Ready(None),
            }
        })
        .await;
        self.reading = Reading::Done;
        out
    }

    /// Reads `body` to its end, polling the guest alongside. With one chunk (the common case)
    /// no bytes are copied.
    async fn body(&mut self, body: HyperOutgoingBody) -> Result<Bytes, String> {
        use hyper::body::Body as _;
        self.reading = Reading::Body(body);
        let mut chunks: Vec<Bytes> = Vec::new();
        let out = poll_fn(|cx| {
            self.poll_call(cx);
            let Reading::Body(body) = &mut self.reading else {
                return Poll::Ready(Ok(()));
            };
            loop {
                match Pin::new(&mut *body).poll_frame(cx) {
                    Poll::Ready(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data()
                            && !data.is_empty()
                        {
                            chunks.push(data);
                        }
                    }
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e.to_string())),
                    Poll::Ready(None) => return Poll::Ready(Ok(())),
                    Poll::Pending => return Poll::Pending,
                }
            }
        })
        .await;
        self.reading = Reading::Done;
        out?;
        Ok(match chunks.len() {
            0 => Bytes::new(),
            1 => chunks.pop().unwrap_or_default(),
            _ => Bytes::from(chunks.concat()),
        })
    }

    /// How the guest ended, waiting at most `limit`; `None` (and the call cancelled) past it.
    async fn finish_within(mut self, limit: Duration) -> Option<GuestExit> {
        if let Some(exit) = self.exit.take() {
            return Some(exit);
        }
        let call = self.call.take()?;
        tokio::time::timeout(limit, call).await.ok()
    }

    /// After the response: the guest's remaining work as a [`BackgroundTask`], or `None` (and
    /// its output logged) when it has already finished.
    fn into_background(mut self) -> Option<BackgroundTask> {
        if let Some(exit) = self.exit.take() {
            self.host.after_response(&self.meta, exit, &self.stats);
            return None;
        }
        self.detach(false)
    }

    /// Moves an unfinished call to a task of its own, watched like waitUntil work; the task
    /// also reads (and discards) whatever of the response the host had not read yet.
    fn detach(&mut self, canceled: bool) -> Option<BackgroundTask> {
        let call = self.call.take()?;
        let reading = std::mem::replace(&mut self.reading, Reading::Done);
        let join = tokio::spawn(async move {
            let (exit, ()) = futures::future::join(call, discard(reading)).await;
            exit
        });
        let mut meta = self.meta.clone();
        meta.canceled = canceled;
        Some(self.host.watch_wait_until(meta, join, self.stats.clone()))
    }
}

impl Drop for GuestCall {
    fn drop(&mut self) {
        if tokio::runtime::Handle::try_current().is_ok() {
            drop(self.detach(true));
        }
    }
}

/// Reads the rest of a response nobody will receive (its client went away), so the guest's
/// writes succeed as they would have; ends when the guest finishes or drops the body.
async fn discard(reading: Reading) {
    use http_body_util::BodyExt as _;
    let body = match reading {
        Reading::Head(rx) => match rx.await {
            Ok(Ok(resp)) => resp.into_body(),
            _ => return,
        },
        Reading::Body(body) => body,
        Reading::Done => return,
    };
    let mut body = body;
    while let Some(Ok(_)) = body.frame().await {}
}

/// A request producing its response. Dropped before the response is complete (the client
/// went away and hyper dropped the request's future), it reports the request as canceled, as
/// production's Trace outcome `canceled`: one log line `request ... outcome=canceled` and a
/// [`HostEvent::RequestCanceled`].
struct InFlight<'a> {
    host: &'a Host,
    meta: &'a Meta,
    stats: &'a InvocationStats,
    log: bool,
    canceled: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.host.inner.census.request_ended();
        if self.canceled {
            self.host.report_canceled(self.meta, self.stats, self.log);
        }
    }
}

/// Request facts for logs and events.
#[derive(Clone)]
struct Meta {
    colo: String,
    ray: String,
    method: String,
    path: String,
    start: tokio::time::Instant,
    /// Whether the client went away before the response was complete.
    canceled: bool,
}

impl Host {
    /// Serves `req` at the colo named by its `x-edgesim-colo` header, else the default colo.
    /// An unknown colo gets a 400 naming the configured ones.
    pub async fn handle(&self, req: Request<Bytes>) -> Invocation {
        let colo = req
            .headers()
            .get(COLO_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| self.inner.config.default_colo.clone());
        self.handle_at(&colo, req).await
    }

    /// Serves `req` at `colo` (case-insensitive), ignoring any `x-edgesim-colo` header.
    pub async fn handle_at(&self, colo: &str, req: Request<Bytes>) -> Invocation {
        self.invoke_at(colo, req, None).await
    }

    /// [`Host::handle_at`], or with `special` an invocation the host makes itself (a scheduled
    /// event): its marker header is set after the client's copy is stripped, its CPU limit
    /// replaces the request limit, and it is logged under its own name.
    pub(crate) async fn invoke_at(
        &self,
        colo: &str,
        mut req: Request<Bytes>,
        special: Option<&Special>,
    ) -> Invocation {
        if let Some(why) = pages::host_problem(&req) {
            return Invocation {
                response: pages::bad_host(why),
                colo: None,
                ray: None,
                background: None,
            };
        }
        let Some(colo) = self.inner.config.colo(colo) else {
            return Invocation {
                response: pages::unknown_colo(colo, &self.inner.colo_codes),
                colo: None,
                ray: None,
                background: None,
            };
        };
        let (ray, guest_seed) = self.draw_ray(&colo.code);
        let (method, path) = match special {
            Some(s) => (s.method.to_string(), s.path.clone()),
            None => (
                req.method().to_string(),
                req.uri()
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "/".into()),
            ),
        };
        let meta = Meta {
            colo: colo.code.clone(),
            ray: ray.clone(),
            method,
            path,
            start: tokio::time::Instant::now(),
            canceled: false,
        };
        cf_headers(req.headers_mut(), colo, &ray);
        if let Some(s) = special {
            req.headers_mut()
                .insert(crate::scheduled::EVENT_HEADER, s.marker.clone());
        }
        if self.inner.observer.enabled() {
            self.inner.observer.event(&HostEvent::RequestStart {
                ray: ray.clone(),
                colo: colo.code.clone(),
                method: meta.method.clone(),
                path: meta.path.clone(),
            });
        }
        let stats = Arc::new(InvocationStats::default());
        let fuel = special.map_or_else(
            || self.inner.config.limits.fuel(),
            |s| s.cpu_ms.saturating_mul(crate::FUEL_PER_CPU_MS),
        );
        let mut in_flight = InFlight {
            host: self,
            meta: &meta,
            stats: &stats,
            log: special.is_none(),
            canceled: true,
        };
        self.inner.census.request_started();
        let (response, background, error_code) =
            self.run(req, &meta, guest_seed, fuel, &stats).await;
        in_flight.canceled = false;
        drop(in_flight);
        let mut response = response;
        if let Ok(v) = HeaderValue::from_str(&ray) {
            response.headers_mut().insert("cf-ray", v);
        }
        self.report_end(&meta, &response, error_code, &stats, special.is_none());
        Invocation {
            response,
            colo: Some(meta.colo.clone()),
            ray: Some(ray),
            background,
        }
    }

    async fn run(
        &self,
        req: Request<Bytes>,
        meta: &Meta,
        guest_seed: u64,
        fuel: u64,
        stats: &Arc<InvocationStats>,
    ) -> (Response<Bytes>, Option<BackgroundTask>, Option<u16>) {
        let parts = StoreParts {
            colo: meta.colo.clone(),
            ray: meta.ray.clone(),
            guest_seed,
            fuel,
            stats: stats.clone(),
        };
        // With a bound on live requests, wait (in arrival order, at most the waitUntil limit)
        // before taking an instance; the permit is held until the response is complete, not
        // through waitUntil work.
        let _permit = match &self.inner.live {
            Some(live) => match live.clone().try_acquire_owned() {
                // The common case, a free slot, needs no timer. (A free permit means nobody
                // is queued: released permits go to waiters first.)
                Ok(permit) => Some(permit),
                Err(_) => {
                    let limit = self.inner.config.limits.wait_until;
                    match tokio::time::timeout(limit, live.clone().acquire_owned()).await {
                        Ok(permit) => permit.ok(),
                        Err(_) => {
                            let f = Failure::overloaded(&format!(
                                "no instance became free within {} s",
                                limit.as_secs()
                            ));
                            tracing::error!(ray = %meta.ray, "error {}: {}", f.code, f.reason);
                            return (f.response(), None, Some(f.code));
                        }
                    }
                }
            },
            None => None,
        };
        // An idle instance, or room for a new one under the bound on instances.
        let Some(slot) = self.slot(self.inner.config.limits.wait_until).await else {
            let limit = self.inner.config.limits.wait_until;
            let f = Failure::overloaded(&format!(
                "no instance became free within {} s (at most {} instances)",
                limit.as_secs(),
                self.inner.config.instances.max_instances.unwrap_or(0)
            ));
            tracing::error!(ray = %meta.ray, "error {}: {}", f.code, f.reason);
            return (f.response(), None, Some(f.code));
        };
        let req_may_stream = req.extensions().get::<streaming::MayStream>().is_some();
        let (tx, rx) = tokio::sync::oneshot::channel();
        // The response head comes through the wasi:http outparam or, for a JavaScript Worker,
        // the host link's `/respond`: whichever answers first takes the sender.
        let responder: crate::js_link::Responder = Arc::new(std::sync::Mutex::new(Some(tx)));
        let host = self.clone();
        let stats_guest = stats.clone();
        let call = Box::pin(async move {
            let mut instance = match host.checkout(slot, &parts).await {
                Ok(instance) => instance,
                Err(e) => return GuestExit::failed(Err(e)),
            };
            let store = &mut instance.store;
            let result = async {
                let (head, body) = req.into_parts();
                if host.inner.uses_link {
                    let exchange = crate::js_link::Exchange::new(&head, responder.clone());
                    store.data_mut().link = Some(exchange);
                }
                let req = Request::from_parts(head, Full::new(body));
                let incoming = store
                    .data_mut()
                    .http()
                    .new_incoming_request(Scheme::Https, req)?;
                let out = store
                    .data_mut()
                    .http()
                    .new_response_outparam_from_callback(move |response| {
                        let sender = responder.lock().unwrap_or_else(|e| e.into_inner()).take();
                        if let Some(tx) = sender {
                            let _ = tx.send(response);
                        }
                    })?;
                instance
                    .proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut *store, incoming, out)
                    .await
            }
            .await;
            store.data_mut().link = None;
            let used = crate::cpu::fuel_used(store, host.inner.config.cpu_meter, parts.fuel);
            host.inner.census.call_ended(used);
            let exit = GuestExit {
                stdout: instance.stdout.take(),
                stderr: instance.stderr.take(),
                result,
            };
            host.checkin(instance, &exit.result, &stats_guest);
            exit
        });
        let mut guest = GuestCall {
            host: self.clone(),
            meta: meta.clone(),
            stats: stats.clone(),
            call: Some(call),
            exit: None,
            reading: Reading::Head(rx),
        };

        let may_stream = req_may_stream;
        let head = guest.head().await;
        let body = match head {
            Some(Ok(resp)) => {
                let (parts, body) = resp.into_parts();
                // Host::handle_streaming: the body so far when the guest first waits.
                let read = if may_stream {
                    guest.body_so_far(body).await.map(|(b, _)| b)
                } else {
                    guest.body(body).await
                };
                match read {
                    Ok(b) => Ok(Response::from_parts(parts, b)),
                    Err(e) => Err(format!("the response body failed: {e}")),
                }
            }
            Some(Err(code)) => {
                // The Worker answered with an error and may keep working (waitUntil). A
                // JavaScript Worker's uncaught exception arrives as `internal-error` carrying
                // its message and stack: logged once as it is, its first line on the page.
                let why = match &code {
                    ErrorCode::InternalError(Some(msg)) => msg.clone(),
                    other => format!("the Worker responded with an error: {other:?}"),
                };
                // A refused memory.grow that the engine turned into an exception (SpiderMonkey's
                // "out of memory") is still the isolate going over its limit: 1102, as in
                // production, not the exception's 1101.
                let failure = if stats.memory_exceeded.load(Ordering::Relaxed) {
                    Failure::memory()
                } else {
                    Failure::exception(why.lines().next().unwrap_or_default())
                };
                tracing::error!(
                    colo = %meta.colo, ray = %meta.ray,
                    "error {}: {}: {why}", failure.code, failure.reason
                );
                return (
                    failure.response(),
                    guest.into_background(),
                    Some(failure.code),
                );
            }
            // The guest returned without a response and nothing left to run: workerd's
            // message for a handler whose promise can no longer settle.
            None => Err(pages::NEVER_RESPONDS.to_string()),
        };
        match body {
            // The Worker answered after going over its memory limit (it caught the engine's
            // out-of-memory exception): production has terminated the isolate, 1102.
            Ok(_) if stats.memory_exceeded.load(Ordering::Relaxed) => {
                let failure = Failure::memory();
                tracing::error!(colo = %meta.colo, ray = %meta.ray, "error 1102: {}", failure.reason);
                (failure.response(), None, Some(failure.code))
            }
            Ok(mut response) if guest.body_unfinished() => {
                let rest = guest.stream_rest(&mut response);
                (response, Some(rest), None)
            }
            Ok(response) => (response, guest.into_background(), None),
            Err(why) => {
                // The store is gone or going (a trap, a limit, or a return without a
                // response): the guest ends at once. Bound the wait anyway; past it the call
                // is dropped, which cancels it.
                let limit = self.inner.config.limits.wait_until;
                let Some(exit) = guest.finish_within(limit).await else {
                    tracing::error!(colo = %meta.colo, ray = %meta.ray, "error 1101: {why}");
                    let failure = Failure::exception(&why);
                    return (failure.response(), None, Some(failure.code));
                };
                let failure = match &exit.result {
                    Err(e) => {
                        let mut f = Failure::from_guest_error(
                            e,
                            stats.memory_exceeded.load(Ordering::Relaxed),
                        );
                        // No response, and StarlingMonkey's event loop ran dry with the
                        // handler's promise still pending (not a panic or an exception): what
                        // workerd reports for such a Worker.
                        if f.code == 1101
                            && why == pages::NEVER_RESPONDS
                            && String::from_utf8_lossy(&exit.stderr)
                                .contains(Self::EVENT_LOOP_RAN_DRY)
                        {
                            f = Failure::exception(pages::NEVER_RESPONDS);
                        }
                        // One line with the guest's own message; the wasm backtrace at debug.
                        tracing::error!(
                            colo = %meta.colo, ray = %meta.ray,
                            "error {}: {}: {}", f.code, f.reason, guest_message(&exit.stderr, e)
                        );
                        tracing::debug!(colo = %meta.colo, ray = %meta.ray, "guest error: {e:?}");
                        f
                    }
                    Ok(()) => {
                        tracing::error!(colo = %meta.colo, ray = %meta.ray, "error 1101: {why}");
                        Failure::exception(&why)
                    }
                };
                // The error line above already carries the guest's message: its output goes
                // to debug (the observer still sees every line).
                self.log_guest_output(meta, &exit, false);
                (failure.response(), None, Some(failure.code))
            }
        }
    }

    /// What StarlingMonkey prints when its event loop ends with the handler's promise pending
    /// and no exception to report.
    const EVENT_LOOP_RAN_DRY: &str = "event loop error, but no exception is pending";

    /// Logs how a guest that finished with (or right after) its response ended.
    fn after_response(
        &self,
        meta: &Meta,
        exit: GuestExit,
        stats: &InvocationStats,
    ) -> WaitUntilOutcome {
        self.log_guest_output(meta, &exit, true);
        match &exit.result {
            Ok(()) => WaitUntilOutcome::Completed,
            Err(e) => {
                let f = Failure::from_guest_error(e, stats.memory_exceeded.load(Ordering::Relaxed));
                let when = if meta.canceled {
                    "after the client went away"
                } else {
                    "after the response"
                };
                tracing::error!(
                    colo = %meta.colo, ray = %meta.ray,
                    "{when}, error {}: {}: {}", f.code, f.reason,
                    guest_message(&exit.stderr, e)
                );
                tracing::debug!(colo = %meta.colo, ray = %meta.ray, "guest error: {e:?}");
                WaitUntilOutcome::Failed(f.reason)
            }
        }
    }

    fn watch_wait_until(
        &self,
        meta: Meta,
        mut guest: JoinHandle<GuestExit>,
        stats: Arc<InvocationStats>,
    ) -> BackgroundTask {
        let host = self.clone();
        let counted = self.inner.census.background();
        let join = tokio::spawn(async move {
            let _counted = counted;
            let clock = host.inner.clock.clone();
            let limit = host.inner.config.limits.wait_until;
            let deadline = clock.now_ms().saturating_add(limit.as_millis() as u64);
            let outcome = loop {
                let now = clock.now_ms();
                if now >= deadline {
                    guest.abort();
                    if meta.canceled {
                        tracing::warn!(colo = %meta.colo, ray = %meta.ray, "{CANCELED_WORK_STOPPED}");
                    } else {
                        tracing::warn!(colo = %meta.colo, ray = %meta.ray, "{WAIT_UNTIL_CANCELLED}");
                    }
                    break WaitUntilOutcome::Cancelled;
                }
                let wait = Duration::from_millis(deadline - now).min(DEADLINE_POLL);
                tokio::select! {
                    biased;
                    exit = &mut guest => {
                        let exit = exit.unwrap_or_else(|e| {
                            GuestExit::failed(Err(wasmtime::format_err!(
                                "the guest task failed: {e}"
                            )))
                        });
                        let outcome = host.after_response(&meta, exit, &stats);
                        if outcome == WaitUntilOutcome::Completed {
                            if meta.canceled {
                                tracing::info!(
                                    target: "edgesim::request",
                                    colo = %meta.colo,
                                    method = %meta.method,
                                    path = %meta.path,
                                    "canceled request's work completed"
                                );
                            } else {
                                tracing::info!(
                                    target: "edgesim::request",
                                    colo = %meta.colo,
                                    method = %meta.method,
                                    path = %meta.path,
                                    "waitUntil completed"
                                );
                            }
                        }
                        break outcome;
                    }
                    _ = tokio::time::sleep(wait) => {}
                }
            };
            host.inner.observer.event(&HostEvent::WaitUntilEnd {
                ray: meta.ray.clone(),
                colo: meta.colo.clone(),
                outcome: outcome.clone(),
            });
            outcome
        });
        BackgroundTask { join }
    }

    /// Reports a request whose client went away before its response was complete.
    fn report_canceled(&self, meta: &Meta, stats: &InvocationStats, log: bool) {
        let (kv_hits, kv_misses) = stats.kv_hits_misses();
        let duration = meta.start.elapsed();
        if log {
            tracing::info!(
            target: "edgesim::request",
            colo = %meta.colo,
            method = %meta.method,
            path = %meta.path,
            outcome = %"canceled",
            kv_hits,
            kv_misses,
            duration_ms = (duration.as_secs_f64() * 10_000.0).round() / 10.0,
            "request"
            );
        }
        if self.inner.observer.enabled() {
            self.inner.observer.event(&HostEvent::RequestCanceled {
                ray: meta.ray.clone(),
                colo: meta.colo.clone(),
                method: meta.method.clone(),
                path: meta.path.clone(),
                duration,
            });
        }
    }

    fn report_end(
        &self,
        meta: &Meta,
        response: &Response<Bytes>,
        error_code: Option<u16>,
        stats: &InvocationStats,
        log: bool,
    ) {
        let (kv_hits, kv_misses) = stats.kv_hits_misses();
        let duration = meta.start.elapsed();
        if log {
            tracing::info!(
            target: "edgesim::request",
            colo = %meta.colo,
            method = %meta.method,
            path = %meta.path,
            status = response.status().as_u16(),
            kv_hits,
            kv_misses,
            duration_ms = (duration.as_secs_f64() * 10_000.0).round() / 10.0,
            "request"
            );
        }
        if !self.inner.observer.enabled() {
            return;
        }
        self.inner.observer.event(&HostEvent::RequestEnd {
            ray: meta.ray.clone(),
            colo: meta.colo.clone(),
            method: meta.method.clone(),
            path: meta.path.clone(),
            status: response.status().as_u16(),
            error_code,
            kv_hits,
            kv_misses,
            duration,
        });
    }
}

/// An invocation the host makes itself (see [`Host::invoke_at`]).
pub(crate) struct Special {
    /// The value of the marker header ([`crate::scheduled::EVENT_HEADER`]).
    pub marker: HeaderValue,
    /// The invocation's CPU limit.
    pub cpu_ms: u64,
    /// What logs and host events show as its method (`SCHEDULED`)...
    pub method: &'static str,
    /// ...and as its path (the cron expression).
    pub path: String,
}

/// What the Worker sees of the edge: `cf-ray`, `cf-connecting-ip` and `cf-ipcountry` for
/// `colo` (replacing whatever the client sent), and no `x-edgesim-colo` nor the host's
/// scheduled-event marker (so no client can pose as a Cron Trigger).
fn cf_headers(headers: &mut http::HeaderMap, colo: &Colo, ray: &str) {
    headers.remove(COLO_HEADER);
    headers.remove(crate::scheduled::EVENT_HEADER);
    for (name, value) in [
        ("cf-ray", ray),
        ("cf-connecting-ip", colo.client_ip.as_str()),
        ("cf-ipcountry", colo.country.as_str()),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
}

impl Host {
    /// Logs what the guest printed, one log line per line of output, with the request's colo
    /// and ray, and reports each line to the observer. At info level normally; at debug level
    /// after a failure (`info` false), whose one error line already carries the guest's message.
    fn log_guest_output(&self, meta: &Meta, exit: &GuestExit, info: bool) {
        for (stream, bytes) in [("stdout", &exit.stdout), ("stderr", &exit.stderr)] {
            if bytes.is_empty() {
                continue;
            }
            for line in String::from_utf8_lossy(bytes).lines() {
                if info {
                    tracing::info!(
                        target: "edgesim::guest",
                        colo = %meta.colo, ray = %meta.ray, stream,
                        "{line}"
                    );
                } else {
                    tracing::debug!(
                        target: "edgesim::guest",
                        colo = %meta.colo, ray = %meta.ray, stream,
                        "{line}"
                    );
                }
                if self.inner.observer.enabled() {
                    self.inner.observer.event(&HostEvent::GuestLog {
                        ray: meta.ray.clone(),
                        colo: meta.colo.clone(),
                        stream,
                        line: line.to_string(),
                    });
                }
            }
        }
    }
}

/// The guest's own account of a failure, on one line: the message of a Rust panic (the line
/// after `panicked at ...:`), else the last line it wrote to stderr, else the error itself
/// without its backtrace (`wasm trap: ...`).
pub(crate) fn guest_message(stderr: &[u8], err: &wasmtime::Error) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    if let Some(i) = lines.iter().position(|l| l.contains("panicked at"))
        && let Some(msg) = lines.get(i + 1)
    {
        return (*msg).to_string();
    }
    if let Some(last) = lines.last() {
        return (*last).to_string();
    }
    match err.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => format!("wasm trap: {trap}"),
        None => err
            .root_cause()
            .to_string()
            .lines()
            .next()
            .unwrap_or("")
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guest_failure_is_summed_up_in_one_line() {
        let err = wasmtime::format_err!("error while executing at wasm backtrace:\n 0: 0x1 - f");
        let panic = b"thread '<unnamed>' panicked at src/bin/trap.rs:12:5:\nboom\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(guest_message(panic, &err), "boom");
        assert_eq!(guest_message(b"first\nlast words\n", &err), "last words");
        let trap = wasmtime::Error::from(wasmtime::Trap::UnreachableCodeReached);
        assert!(
            guest_message(b"", &trap).starts_with("wasm trap: "),
            "{}",
            guest_message(b"", &trap)
        );
        assert_eq!(
            guest_message(b"", &err),
            "error while executing at wasm backtrace:"
        );
    }

    #[test]
    fn the_worker_sees_headers_consistent_with_the_colo() {
        let mut h = http::HeaderMap::new();
        h.insert(COLO_HEADER, HeaderValue::from_static("SYD"));
        h.insert("cf-ipcountry", HeaderValue::from_static("US"));
        h.insert("accept", HeaderValue::from_static("*/*"));
        let syd = Colo::from_code("SYD");
        cf_headers(&mut h, &syd, "0123456789abcdef-SYD");
        assert!(h.get(COLO_HEADER).is_none());
        assert_eq!(h["cf-ray"], "0123456789abcdef-SYD");
        assert_eq!(h["cf-ipcountry"], "AU");
        assert_eq!(h["cf-connecting-ip"], syd.client_ip.as_str());
        assert_eq!(h["accept"], "*/*");
    }
}
