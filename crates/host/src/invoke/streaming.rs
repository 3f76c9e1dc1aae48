//! Streamed response bodies for `edgesim dev`: [`Host::handle_streaming`] answers with the
//! head and whatever the Worker has written when it first waits (a timer, a fetch), and
//! forwards the rest as the Worker writes it, so server-sent events reach the client as
//! written, as in production. [`Host::handle`] (tests, simulation) still buffers the whole body.

use super::{BackgroundTask, GuestCall, Invocation, Reading};
use crate::host::Host;
use crate::observer::WaitUntilOutcome;
use bytes::Bytes;
use http::{Request, Response};
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use tokio::sync::mpsc;

/// Chunks of a streamed body in order; an `Err` ends it abnormally.
pub type BodyChunks = mpsc::Receiver<Result<Bytes, String>>;

/// Marks a request whose response may stream (set by [`Host::handle_streaming`]).
#[derive(Clone, Copy)]
pub(crate) struct MayStream;

/// In a response's extensions when its body streams: the response's own body holds what the
/// Worker had written when the head was ready, [`BodyRest::take`] the rest.
#[derive(Clone)]
pub struct BodyRest(Arc<Mutex<Option<BodyChunks>>>);

impl BodyRest {
    /// The rest of the body (once; `None` after).
    pub fn take(&self) -> Option<BodyChunks> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// How many chunks may wait between the Worker and a slow client before the Worker's writes
/// wait too.
const CHUNKS_IN_FLIGHT: usize = 16;

impl Host {
    /// [`Host::handle`], except that a body the Worker is still writing when it first waits
    /// streams: `response`'s body is what was written by then and its extensions hold a
    /// [`BodyRest`] with the rest. The request's end is reported when the head is ready; the
    /// guest's work after the body (waitUntil) is `background`, as for [`Host::handle`].
    pub async fn handle_streaming(&self, mut req: Request<Bytes>) -> Invocation {
        req.extensions_mut().insert(MayStream);
        self.handle(req).await
    }
}

impl GuestCall {
    /// Like `body`, except that it returns when the guest waits with the body unfinished:
    /// then the body stays in `self.reading` and `Ok(false)` says it is incomplete.
    pub(super) async fn body_so_far(
        &mut self,
        body: wasmtime_wasi_http::p2::body::HyperOutgoingBody,
    ) -> Result<(Bytes, bool), String> {
        use hyper::body::Body as _;
        self.reading = Reading::Body(body);
        let mut chunks: Vec<Bytes> = Vec::new();
        let out = poll_fn(|cx| {
            self.poll_call(cx);
            let Reading::Body(body) = &mut self.reading else {
                return Poll::Ready(Ok(true));
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
                    Poll::Ready(None) => return Poll::Ready(Ok(true)),
                    Poll::Pending => return Poll::Ready(Ok(false)),
                }
            }
        })
        .await;
        if !matches!(out, Ok(false)) {
            self.reading = Reading::Done;
        }
        let complete = out?;
        let bytes = match chunks.len() {
            0 => Bytes::new(),
            1 => chunks.pop().unwrap_or_default(),
            _ => Bytes::from(chunks.concat()),
        };
        Ok((bytes, complete))
    }

    /// Whether the body is still being written (after [`GuestCall::body_so_far`]).
    pub(super) fn body_unfinished(&self) -> bool {
        matches!(self.reading, Reading::Body(_))
    }

    /// Moves the rest of the body and the guest's later work to a task of its own: the body's
    /// chunks go, as written, to a [`BodyRest`] put in `response`'s extensions; then the
    /// guest's remaining work is watched as waitUntil work. A client that goes away stops
    /// receiving (the request is then reported canceled, after its line at the head); the
    /// guest's writes keep succeeding (they are discarded).
    pub(super) fn stream_rest(mut self, response: &mut Response<Bytes>) -> BackgroundTask {
        let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
        response
            .extensions_mut()
            .insert(BodyRest(Arc::new(Mutex::new(Some(rx)))));
        let join = tokio::spawn(async move {
            self.forward(tx).await;
            if let Some(exit) = self.exit.take() {
                return self.host.after_response(&self.meta, exit, &self.stats);
            }
            match self.detach(false) {
                Some(work) => work.wait().await,
                None => WaitUntilOutcome::Completed,
            }
        });
        BackgroundTask { join }
    }

    async fn forward(&mut self, tx: mpsc::Sender<Result<Bytes, String>>) {
        use hyper::body::Body as _;
        let mut tx = Some(tx);
        loop {
            let frame = poll_fn(|cx| {
                self.poll_call(cx);
                match &mut self.reading {
                    Reading::Body(body) => Pin::new(body).poll_frame(cx),
                    _ => Poll::Ready(None),
                }
            })
            .await;
            let item = match frame {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) if !data.is_empty() => Ok(data),
                    _ => continue,
                },
                Some(Err(e)) => Err(format!("the response body failed: {e}")),
                None => break,
            };
            let failed = item.is_err();
            if let Some(sender) = &tx
                && sender.send(item).await.is_err()
            {
                // The client went away mid-body: production's Trace outcome is `canceled`, so
                // a line says so after the one logged with the head. Read on and discard.
                tx = None;
                self.meta.canceled = true;
                self.host.report_canceled(&self.meta, &self.stats, true);
            }
            if failed {
                break;
            }
        }
        self.reading = Reading::Done;
    }
}
