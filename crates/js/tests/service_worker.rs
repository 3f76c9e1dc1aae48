//! A service-worker-syntax JavaScript Worker: `addEventListener("fetch")`, bindings and vars as
//! globals, `event.waitUntil`, and an uncaught exception.

mod common;

use common::{TestHost, body};
use edgesim_host::WaitUntilOutcome;

#[tokio::test(start_paused = true)]
async fn a_service_worker_serves_with_globals_and_wait_until() {
    if !common::node_or_skip("a_service_worker_serves_with_globals_and_wait_until") {
        return;
    }
    let t = TestHost::new(&common::component("service-worker/index.js"), |_| {});
    let inv = t
        .host
        .handle(common::request(
            "GET",
            "/a",
            &[("x-edgesim-colo", "IAD")],
            "",
        ))
        .await;
    assert_eq!(
        body(&inv),
        format!("service worker /a {} IAD", common::SUPABASE_URL)
    );
    let work = inv.background.expect("event.waitUntil work");
    assert_eq!(work.wait().await, WaitUntilOutcome::Completed);
    let ns = t.kv.namespace("ARTICLES").unwrap();
    let view = ns.view("sw-count");
    assert!(
        view.central.is_some() || !view.pending.is_empty(),
        "the waitUntil put reached the model"
    );

    let inv = t.get("/throw").await;
    assert_eq!(inv.response.status(), 500);
    assert!(body(&inv).contains("service worker boom"), "{}", body(&inv));
    let inv = t.get("/b").await;
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
    if let Some(work) = inv.background {
        assert_eq!(work.wait().await, WaitUntilOutcome::Completed);
    }
    assert_eq!(
        t.host.idle_instances(),
        1,
        "one instance served every request"
    );
}
