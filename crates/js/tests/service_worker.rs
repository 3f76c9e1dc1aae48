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

/// Service-worker syntax reading a binding at top level (`new Client(POSTGREST_ENDPOINT)`):
/// production evaluates the script with its bindings as globals; edgesim runs the top level at
/// the instance's first event (not at build time, before bindings exist), once per instance.
#[tokio::test(start_paused = true)]
async fn a_service_worker_reads_bindings_at_top_level() {
    if !common::node_or_skip("a_service_worker_reads_bindings_at_top_level") {
        return;
    }
    let t = TestHost::new(
        &common::component("service-worker-top-level/index.js"),
        |c| {
            c.vars
                .insert("POSTGREST_ENDPOINT".into(), "http://postgrest.test".into());
        },
    );
    let first = t.get("/").await;
    assert_eq!(first.response.status(), 200, "{}", body(&first));
    assert_eq!(
        body(&first),
        "http://postgrest.test http://postgrest.test evaluations=1 requests=1 kv=null"
    );
    let second = t.get("/").await;
    assert_eq!(
        body(&second),
        "http://postgrest.test http://postgrest.test evaluations=1 requests=2 kv=null",
        "the top level ran once for the instance"
    );
    assert_eq!(t.host.idle_instances(), 1);

    // Without the var, the top level throws, and every request of the instance fails with it
    // (as a script that fails to start), with the script's own message.
    let t = TestHost::new(
        &common::component("service-worker-top-level/index.js"),
        |_| {},
    );
    let inv = t.get("/").await;
    assert_eq!(inv.response.status(), 500, "{}", body(&inv));
    assert!(
        body(&inv).contains("POSTGREST_ENDPOINT is not defined"),
        "{}",
        body(&inv)
    );
}
