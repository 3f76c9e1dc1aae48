//! A client that goes away mid-request (hyper drops the request's future) cancels the request
//! without losing the Worker's work: the guest call moves to a task of its own, watched like
//! waitUntil work, and ends cleanly.

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
    // The request is reported canceled, and nothing as the Worker's exception: the host reads
    // and discards the abandoned response, so the guest's writes succeed, it ends cleanly and
    // its instance goes back to the pool.
    let canceled = events
        .iter()
        .any(|e| matches!(e, HostEvent::RequestCanceled { path, .. } if path == "/articles"));
    assert!(canceled, "the cancel was not reported: {events:#?}");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, HostEvent::RequestEnd { .. })),
        "a canceled request has no RequestEnd: {events:#?}"
    );
    let ended = events.iter().any(|e| {
        matches!(
            e,
            HostEvent::WaitUntilEnd {
                outcome: WaitUntilOutcome::Completed,
                ..
            }
        )
    });
    assert!(ended, "the abandoned call did not end cleanly: {events:#?}");
    assert_eq!(t.host.idle_instances(), 1, "its instance was not kept");
    let status = t.host.status();
    assert_eq!(
        (
            status.live_requests,
            status.background_calls,
            status.instances
        ),
        (0, 0, 1),
        "{status:#?}"
    );

    // The next request is served normally, from the cache the abandoned one filled.
    let inv = t.host.handle(common::get("/articles", &[])).await;
    assert_eq!(inv.response.status(), 200, "{}", common::body(&inv));
    assert_eq!(inv.response.headers()["x-kv"], "hit");
}
