//! Each misbehaving fixture gets its documented error, and the host keeps serving afterwards.

mod common;

use common::{body, get, host, host_with, json};
use edgesim_guests::fixtures;
use edgesim_host::{HostEvent, Limits, TOO_MANY_SUBREQUESTS, WaitUntilOutcome};
use std::time::Duration;

/// A well-behaved request on the same host after the failure: the host still serves.
async fn still_serves(t: &common::TestHost, path: &str) {
    let inv = t.host.handle(get(path, &[])).await;
    assert!(
        inv.response.status().as_u16() < 500,
        "{path} after the failure: {} {}",
        inv.response.status(),
        body(&inv)
    );
}

#[tokio::test(start_paused = true)]
async fn infinite_loop_gets_1102_cpu() {
    let t = host(
        fixtures::LOOP,
        Limits {
            cpu_ms: 20,
            ..Limits::paid()
        },
    );
    let inv = t.host.handle(get("/", &[])).await;
    assert_eq!(inv.response.status(), 503);
    assert_eq!(
        body(&inv),
        "error code: 1102\nWorker exceeded CPU time limit.\n"
    );
    assert!(inv.response.headers().contains_key("cf-ray"));
    assert!(inv.background.is_none());
    // The same instance-per-request host answers the next request with a fresh store (and
    // runs out of fuel again at the same point: fuel is deterministic).
    let again = t.host.handle(get("/", &[])).await;
    assert_eq!(again.response.status(), 503);
    let ends: Vec<_> = t
        .events
        .events()
        .into_iter()
        .filter_map(|e| match e {
            HostEvent::RequestEnd { error_code, .. } => error_code,
            _ => None,
        })
        .collect();
    assert_eq!(ends, [1102, 1102]);
}

#[tokio::test(start_paused = true)]
async fn the_free_plan_cpu_limit_stops_a_loop_but_not_hello() {
    let looping = host(fixtures::LOOP, Limits::free());
    let inv = looping.host.handle(get("/", &[])).await;
    assert_eq!(inv.response.status(), 503);
    let hello = host(fixtures::HELLO, Limits::free());
    let inv = hello.host.handle(get("/hello", &[])).await;
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
    assert_eq!(body(&inv), "ok");
}

#[tokio::test(start_paused = true)]
async fn memory_bomb_gets_1102_memory() {
    let t = host(fixtures::MEMBOMB, Limits::paid());
    let inv = t.host.handle(get("/?mib=512", &[])).await;
    assert_eq!(inv.response.status(), 503, "{}", body(&inv));
    assert_eq!(
        body(&inv),
        "error code: 1102\nWorker exceeded memory limit.\n"
    );
    // Under the limit the same Worker succeeds.
    let small = t.host.handle(get("/?mib=16", &[])).await;
    assert_eq!(small.response.status(), 200, "{}", body(&small));
    assert_eq!(body(&small), "allocated 16 MiB");
}

#[tokio::test(start_paused = true)]
async fn trap_gets_1101_and_the_host_keeps_serving() {
    let t = host(fixtures::TRAP, Limits::paid());
    for _ in 0..3 {
        let inv = t.host.handle(get("/", &[])).await;
        assert_eq!(inv.response.status(), 500);
        assert!(
            body(&inv).starts_with("error code: 1101\nWorker threw exception"),
            "{}",
            body(&inv)
        );
    }
    let hello = host(fixtures::HELLO, Limits::paid());
    still_serves(&hello, "/hello").await;
}

#[tokio::test(start_paused = true)]
async fn too_many_subrequests_is_an_error_the_worker_catches() {
    let t = host(fixtures::SUBREQUESTS, Limits::free());
    let inv = t.host.handle(get("/?n=51", &[])).await;
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
    let v = json(&inv);
    assert_eq!(v["attempted"], 51);
    assert_eq!(v["succeeded"], 50);
    let error = v["error"].as_str().unwrap_or_default();
    assert!(error.contains(TOO_MANY_SUBREQUESTS), "{error}");
    // Each invocation has its own budget.
    let inv = t.host.handle(get("/?n=50", &[])).await;
    assert_eq!(json(&inv)["succeeded"], 50);
}

#[tokio::test(start_paused = true)]
async fn a_host_not_allowlisted_is_refused_with_1021() {
    let t = host(fixtures::SUBREQUESTS, Limits::paid());
    let inv = t
        .host
        .handle(get("/?n=1&url=https://evil.example/steal", &[]))
        .await;
    let v = json(&inv);
    assert_eq!(v["succeeded"], 0);
    let error = v["error"].as_str().unwrap_or_default();
    assert!(error.contains("1021"), "{error}");
    assert!(error.contains("evil.example"), "{error}");
    // Allowlisting the host lets the request through to the upstream (which refuses it: the
    // in-process upstream only serves Supabase), so the error is no longer 1021.
    let t = host_with(fixtures::SUBREQUESTS, |c| {
        c.allowlist = vec!["evil.example".into()]
    });
    let inv = t
        .host
        .handle(get("/?n=1&url=https://evil.example/steal", &[]))
        .await;
    let error = json(&inv)["error"].as_str().unwrap_or_default().to_string();
    assert!(!error.contains("1021"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn too_many_kv_operations_is_an_error_the_worker_catches() {
    let t = host(fixtures::KVOPS, Limits::paid());
    let inv = t.host.handle(get("/?n=1001", &[])).await;
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
    let v = json(&inv);
    assert_eq!(v["succeeded"], 1000);
    assert_eq!(v["kind"], "too-many-operations");
    let inv = t.host.handle(get("/?n=3", &[])).await;
    assert_eq!(json(&inv)["succeeded"], 3);
}

#[tokio::test(start_paused = true)]
async fn wait_until_forever_is_cancelled_after_30_seconds_of_emulator_time() {
    let t = host(fixtures::WAITUNTIL_FOREVER, Limits::paid());
    let start = tokio::time::Instant::now();
    let inv = t.host.handle(get("/", &[])).await;
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
    let bg = inv
        .background
        .expect("the Worker keeps working after responding");
    assert_eq!(bg.wait().await, WaitUntilOutcome::Cancelled);
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(30) && waited <= Duration::from_secs(32),
        "{waited:?}"
    );
    assert!(t.events.events().iter().any(|e| matches!(
        e,
        HostEvent::WaitUntilEnd {
            outcome: WaitUntilOutcome::Cancelled,
            ..
        }
    )));
    still_serves(&t, "/").await;
}

#[tokio::test(start_paused = true)]
async fn hundreds_of_pending_wait_until_tasks_do_not_exhaust_the_host() {
    let t = host(fixtures::WAITUNTIL_FOREVER, Limits::paid());
    let mut background = Vec::new();
    for _ in 0..300 {
        let inv = t.host.handle(get("/", &[])).await;
        assert_eq!(inv.response.status(), 200, "{}", body(&inv));
        background.extend(inv.background);
    }
    assert_eq!(background.len(), 300);
    for bg in background {
        assert_eq!(bg.wait().await, WaitUntilOutcome::Cancelled);
    }
    still_serves(&t, "/").await;
}

/// `edgesim dev`'s meter (epoch interruption instead of fuel): a loop still ends in 1102 CPU
/// after its limit, a request within it is answered, and the host keeps serving.
#[tokio::test]
async fn the_epoch_meter_stops_a_loop_and_serves_hello() {
    let looping = host_with(fixtures::LOOP, |c| {
        c.cpu_meter = edgesim_host::CpuMeter::Epoch;
        c.limits = Limits {
            cpu_ms: 50,
            ..Limits::paid()
        };
    });
    let started = std::time::Instant::now();
    let inv = looping.host.handle(get("/", &[])).await;
    assert_eq!(inv.response.status(), 503);
    assert_eq!(
        body(&inv),
        "error code: 1102\nWorker exceeded CPU time limit.\n"
    );
    // Counted in real milliseconds: 50 ms of looping, not the seconds fuel would allow a slow
    // machine, nor forever.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let hello = host_with(fixtures::HELLO, |c| {
        c.cpu_meter = edgesim_host::CpuMeter::Epoch;
        c.limits = Limits::free();
    });
    for _ in 0..3 {
        let inv = hello.host.handle(get("/hello", &[])).await;
        assert_eq!(inv.response.status(), 200, "{}", body(&inv));
        assert_eq!(body(&inv), "ok");
    }
}
