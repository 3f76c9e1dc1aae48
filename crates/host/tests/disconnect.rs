//! A client that goes away mid-request (hyper drops the request's future) does not lose the
//! Worker's work: the guest call moves to a task of its own, watched like waitUntil work.

mod common;

use edgesim_host::{HostEvent, WaitUntilOutcome};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn a_dropped_request_still_finishes_its_guest_work() {
    let t = common::host_with(edgesim_guests::COURSE, |_| {});
    {
        // `/articles` on empty KV: the miss waits on the modelled latency to central, so the
        // first poll leaves the guest mid-call, before any response.
        let mut request = pin!(t.host.handle(common::get("/articles", &[])));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(request.as_mut().poll(&mut cx).is_pending());
    } // dropped here, as hyper drops it when the connection closes
    tokio::time::sleep(Duration::from_secs(5)).await;

    let events = t.events.events();
    let wrote = events.iter().any(|e| {
        matches!(e, HostEvent::KvCall { op, key, result, .. }
            if op == "put" && key == "/articles" && result == "ok")
    });
    assert!(wrote, "the Worker's KV write was lost: {events:#?}");
    // Its response has no reader any more, so writing it fails and the guest ends with an
    // uncaught error (its instance is not reused); the watcher reports that end.
    let ended = events.iter().any(|e| {
        matches!(
            e,
            HostEvent::WaitUntilEnd {
                outcome: WaitUntilOutcome::Failed(_),
                ..
            }
        )
    });
    assert!(
        ended,
        "the abandoned call was not watched to its end: {events:#?}"
    );

    // The next request is served normally, from the cache the abandoned one filled.
    let inv = t.host.handle(common::get("/articles", &[])).await;
    assert_eq!(inv.response.status(), 200, "{}", common::body(&inv));
    assert_eq!(inv.response.headers()["x-kv"], "hit");
}
