//! A module-syntax JavaScript Worker on the host: instance reuse, request and response,
//! `request.cf`, vars, console, timers on the virtual clock, waitUntil, uncaught exceptions,
//! a Worker that never responds, outgoing fetch, the `WebSocket` stub.

mod common;

use common::{TestHost, body, json, request};
use edgesim_host::{HostEvent, WaitUntilOutcome};
use std::time::Duration;

const MODULE: &str = "module/index.js";

macro_rules! skip_without_node {
    ($name:expr) => {
        if !common::node_or_skip($name) {
            return;
        }
    };
}

#[tokio::test(start_paused = true)]
async fn one_instance_serves_many_requests() {
    skip_without_node!("one_instance_serves_many_requests");
    let t = TestHost::new(&common::component(MODULE), |_| {});
    for _ in 0..3 {
        let inv = t.get("/hello").await;
        assert_eq!(inv.response.status(), 200, "{}", body(&inv));
        assert_eq!(body(&inv), "hello from js");
        assert!(inv.response.headers().contains_key("cf-ray"));
    }
    assert_eq!(
        t.host.idle_instances(),
        1,
        "the same instance served all three"
    );

    let inv = t
        .host
        .handle(request(
            "POST",
            "/echo",
            &[("x-echo", "yes")],
            "posted body",
        ))
        .await;
    assert_eq!(inv.response.status(), 201);
    assert_eq!(body(&inv), "posted body");
    assert_eq!(inv.response.headers()["x-method"], "POST");
    assert_eq!(inv.response.headers()["x-echo"], "yes");
    assert_eq!(t.get("/nope").await.response.status(), 404);
}

#[tokio::test(start_paused = true)]
async fn request_cf_names_the_colo_that_took_the_request() {
    skip_without_node!("request_cf_names_the_colo_that_took_the_request");
    let t = TestHost::new(&common::component(MODULE), |_| {});
    let inv = t
        .host
        .handle(request("GET", "/cf", &[("x-edgesim-colo", "FRA")], ""))
        .await;
    let v = json(&inv);
    assert_eq!(v["cf"]["colo"], "FRA");
    assert_eq!(v["cf"]["country"], "DE");
    assert!(v["ray"].as_str().unwrap().ends_with("-FRA"));
    let v = json(&t.get("/cf").await);
    assert_eq!(v["cf"]["colo"], "SYD");
    assert_eq!(v["cf"]["country"], "AU");
}

#[tokio::test(start_paused = true)]
async fn vars_come_from_the_host_at_request_time() {
    skip_without_node!("vars_come_from_the_host_at_request_time");
    let wasm = common::component(MODULE);
    let t = TestHost::new(&wasm, |_| {});
    let v = json(&t.get("/env").await);
    assert_eq!(v["SUPABASE_URL"], common::SUPABASE_URL);
    assert_eq!(v["SUPABASE_ANON_KEY"], "anon-key");
    assert_eq!(v["kv"], "function");
    // The same component with other vars: nothing was frozen at build time.
    let t = TestHost::new(&wasm, |c| {
        c.vars
            .insert("SUPABASE_ANON_KEY".into(), "another-key".into());
    });
    let v = json(&t.get("/env").await);
    assert_eq!(v["SUPABASE_ANON_KEY"], "another-key");
}

#[tokio::test(start_paused = true)]
async fn timers_follow_the_virtual_clock() {
    skip_without_node!("timers_follow_the_virtual_clock");
    let t = TestHost::new(&common::component(MODULE), |_| {});
    let wall = std::time::Instant::now();
    let virtual_start = tokio::time::Instant::now();
    let inv = t.get("/sleep").await;
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
    let slept: u64 = body(&inv).parse().unwrap();
    assert!(
        (10_000..10_100).contains(&slept),
        "Date.now() moved {slept} ms"
    );
    assert!(virtual_start.elapsed() >= Duration::from_secs(10));
    assert!(
        wall.elapsed() < Duration::from_secs(5),
        "a 10 s sleep took {:?} of wall time",
        wall.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn console_lines_reach_the_log_with_colo_and_ray() {
    skip_without_node!("console_lines_reach_the_log_with_colo_and_ray");
    let t = TestHost::new(&common::component(MODULE), |_| {});
    let inv = t.get("/log").await;
    assert_eq!(body(&inv), "logged");
    let ray = inv.ray.clone().unwrap();
    let lines: Vec<(String, &'static str, String)> = t
        .events
        .events()
        .into_iter()
        .filter_map(|e| match e {
            HostEvent::GuestLog {
                ray, stream, line, ..
            } => Some((ray, stream, line)),
            _ => None,
        })
        .collect();
    assert!(lines.iter().all(|(r, _, _)| *r == ray), "{lines:?}");
    let find = |text: &str| {
        lines
            .iter()
            .find(|(_, _, l)| l.contains(text))
            .unwrap_or_else(|| panic!("no log line with {text:?}: {lines:?}"))
    };
    assert!(find("log line").2.contains("a"));
    find("info line");
    find("warn line");
    assert_eq!(find("error line").1, "stderr");
}

#[tokio::test(start_paused = true)]
async fn an_uncaught_exception_is_error_1101_and_the_host_keeps_serving() {
    skip_without_node!("an_uncaught_exception_is_error_1101_and_the_host_keeps_serving");
    let t = TestHost::new(&common::component(MODULE), |_| {});
    for (path, message) in [
        ("/throw", "Uncaught Error: boom from the Worker"),
        ("/reject", "Uncaught TypeError: rejected on purpose"),
    ] {
        let inv = t.get(path).await;
        assert_eq!(inv.response.status(), 500, "{}", body(&inv));
        let text = body(&inv);
        assert!(text.starts_with("error code: 1101\n"), "{text}");
        assert!(text.contains(message), "{text}");
        let end = t.events.events().into_iter().rev().find_map(|e| match e {
            HostEvent::RequestEnd { error_code, .. } => Some(error_code),
            _ => None,
        });
        assert_eq!(end, Some(Some(1101)));
        assert_eq!(body(&t.get("/hello").await), "hello from js");
    }
}

#[tokio::test(start_paused = true)]
async fn going_over_the_memory_limit_is_1102_even_when_the_engine_throws() {
    skip_without_node!("going_over_the_memory_limit_is_1102_even_when_the_engine_throws");
    // CPU to spare, so the memory limit is what the Worker meets first.
    let t = TestHost::new(&common::component(MODULE), |c| c.limits.cpu_ms = 30_000);
    // SpiderMonkey turns the refused memory.grow into an `out of memory` exception; uncaught
    // or caught, production has terminated the isolate: 1102, HTTP 503.
    for path in ["/mem", "/mem-caught"] {
        let inv = t.get(path).await;
        let text = body(&inv);
        assert_eq!(inv.response.status(), 503, "{path}: {text}");
        assert!(text.starts_with("error code: 1102\n"), "{path}: {text}");
        assert!(text.contains("memory"), "{path}: {text}");
        assert_eq!(body(&t.get("/hello").await), "hello from js");
    }
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_never_responds_is_cut_off_and_the_host_keeps_serving() {
    skip_without_node!("a_worker_that_never_responds_is_cut_off_and_the_host_keeps_serving");
    let t = TestHost::new(&common::component(MODULE), |_| {});
    let inv = t.get("/never").await;
    assert_eq!(inv.response.status(), 500, "{}", body(&inv));
    assert!(
        body(&inv).starts_with("error code: 1101\n"),
        "{}",
        body(&inv)
    );
    // workerd's message for a promise nothing can settle any more.
    assert!(
        body(&inv).contains("The script will never generate a response."),
        "{}",
        body(&inv)
    );
    assert_eq!(body(&t.get("/hello").await), "hello from js");
}

#[tokio::test(start_paused = true)]
async fn wait_until_work_runs_after_the_response() {
    skip_without_node!("wait_until_work_runs_after_the_response");
    let t = TestHost::new(&common::component(MODULE), |_| {});
    let start = tokio::time::Instant::now();
    let inv = t.get("/wait").await;
    assert_eq!(body(&inv), "responded first");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "the response did not wait for the work ({:?})",
        start.elapsed()
    );
    let ns = t.kv.namespace("ARTICLES").unwrap();
    assert!(
        ns.view("waited").central.is_none(),
        "the work has not run yet"
    );
    let work = inv.background.expect("waitUntil work is pending");
    assert_eq!(work.wait().await, WaitUntilOutcome::Completed);
    assert!(start.elapsed() >= Duration::from_secs(2));
    assert!(ns.view("waited").central.is_some() || !ns.view("waited").pending.is_empty());
    assert!(t.events.events().iter().any(
        |e| matches!(e, HostEvent::GuestLog { line, .. } if line.contains("waitUntil work done"))
    ));
}

#[tokio::test(start_paused = true)]
async fn wait_until_work_is_cut_30_seconds_after_the_response() {
    skip_without_node!("wait_until_work_is_cut_30_seconds_after_the_response");
    let t = TestHost::new(&common::component(MODULE), |_| {});
    let start = tokio::time::Instant::now();
    let inv = t.get("/wait-forever").await;
    assert_eq!(body(&inv), "responded");
    let work = inv.background.expect("waitUntil work is pending");
    assert_eq!(work.wait().await, WaitUntilOutcome::Cancelled);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(30) && took < Duration::from_secs(32),
        "{took:?}"
    );
    assert_eq!(body(&t.get("/hello").await), "hello from js");
}

#[tokio::test(start_paused = true)]
async fn outgoing_fetch_goes_through_the_host() {
    skip_without_node!("outgoing_fetch_goes_through_the_host");
    let t = TestHost::new(&common::component(MODULE), |_| {});
    let inv = t.get("/supabase").await;
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
    assert_eq!(body(&inv), r#"[{"id":1,"title":"first"}]"#);
    let fetches: Vec<String> = t
        .events
        .events()
        .into_iter()
        .filter_map(|e| match e {
            HostEvent::Fetch { url, .. } => Some(url),
            _ => None,
        })
        .collect();
    // Only the Worker's own fetch is a subrequest; the adapter's calls to the host are not.
    assert_eq!(
        fetches,
        vec![format!("{}/rest/v1/articles", common::SUPABASE_URL)]
    );
}

#[tokio::test(start_paused = true)]
async fn websocket_exists_but_opening_one_says_realtime_is_not_emulated() {
    skip_without_node!("websocket_exists_but_opening_one_says_realtime_is_not_emulated");
    let t = TestHost::new(&common::component(MODULE), |_| {});
    let v = json(&t.get("/websocket").await);
    assert_eq!(v["type"], "function");
    let opened = v["opened"].as_str().unwrap();
    assert!(opened.contains("realtime"), "{opened}");
    assert!(opened.contains("not emulated"), "{opened}");
}

#[tokio::test(start_paused = true)]
async fn pass_through_on_exception_forwards_to_the_origin() {
    skip_without_node!("pass_through_on_exception_forwards_to_the_origin");
    // The origin (worker.test) is not reachable from edgesim: the forward is refused (1021)
    // and the request fails with 1101 saying so.
    let t = TestHost::new(&common::component(MODULE), |_| {});
    let inv = t.get("/pass").await;
    assert_eq!(inv.response.status(), 500, "{}", body(&inv));
    let text = body(&inv);
    assert!(
        text.contains("thrown after passThroughOnException"),
        "{text}"
    );
    assert!(text.contains("passThroughOnException"), "{text}");
}
