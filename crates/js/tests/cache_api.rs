//! The Cache API (`caches.default`, `caches.open`) of a JavaScript Worker, answered by the host
//! per colo with production's rules, on the emulator's clock.

mod common;

use common::{TestHost, json, request};
use edgesim_host::HostEvent;
use serde_json::{Value, json};
use std::time::Duration;

const WORKER: &str = "cache/index.js";
const URL: &str = "https://worker.test/articles/1";

/// Runs `ops` (one JSON operation or a list) at `colo`; the Worker's answer.
async fn ops(t: &TestHost, colo: &str, ops: Value) -> Value {
    let inv = t
        .host
        .handle_at(colo, request("POST", "/ops", &[], &ops.to_string()))
        .await;
    assert_eq!(inv.response.status(), 200, "{}", common::body(&inv));
    json(&inv)
}

fn put(url: &str, headers: Value, body: &str) -> Value {
    json!({"op": "put", "url": url, "headers": headers, "body": body})
}

fn get(url: &str) -> Value {
    json!({"op": "match", "url": url})
}

/// The body of a hit, or "undefined".
fn hit_body(r: &Value) -> String {
    match &r["ok"] {
        Value::String(s) => s.clone(),
        v if v.is_object() => v["body"].as_str().unwrap_or_default().to_string(),
        other => panic!("not a match result: {r} ({other})"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_put_at_one_colo_is_a_hit_there_a_miss_elsewhere_and_expires_on_the_emulator_clock() {
    if !common::node_or_skip(
        "a_put_at_one_colo_is_a_hit_there_a_miss_elsewhere_and_expires_on_the_emulator_clock",
    ) {
        return;
    }
    let t = TestHost::new(&common::component(WORKER), |_| {});
    let r = ops(
        &t,
        "FRA",
        put(URL, json!({"cache-control": "max-age=60"}), "v1"),
    )
    .await;
    assert_eq!(r, json!({"ok": null}), "put resolves to undefined");

    let r = ops(&t, "FRA", get(URL)).await;
    assert_eq!(r["ok"]["status"], 200, "{r}");
    assert_eq!(r["ok"]["body"], "v1");
    assert_eq!(r["ok"]["headers"]["cf-cache-status"], "HIT", "{r}");
    assert_eq!(r["ok"]["headers"]["cache-control"], "max-age=60");
    // A URL string is the same key as a GET Request.
    let r = ops(
        &t,
        "FRA",
        json!({"op": "match", "url": URL, "asString": true}),
    )
    .await;
    assert_eq!(hit_body(&r), "v1");

    let r = ops(&t, "NRT", get(URL)).await;
    assert_eq!(r, json!({"ok": "undefined"}), "NRT has its own cache");

    // 59 s later (emulator time): still fresh; at 60 s: gone.
    tokio::time::advance(Duration::from_secs(59)).await;
    assert_eq!(hit_body(&ops(&t, "FRA", get(URL)).await), "v1");
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(ops(&t, "FRA", get(URL)).await, json!({"ok": "undefined"}));

    // The events show each call with its colo and result.
    let events: Vec<(String, String, String)> = t
        .events
        .events()
        .into_iter()
        .filter_map(|e| match e {
            HostEvent::CacheCall {
                colo, op, result, ..
            } => Some((colo, op, result)),
            _ => None,
        })
        .collect();
    let expect = |colo: &str, op: &str, result: &str| (colo.into(), op.into(), result.into());
    assert_eq!(
        events,
        vec![
            expect("FRA", "put", "stored for 60 s"),
            expect("FRA", "match", "hit"),
            expect("FRA", "match", "hit"),
            expect("NRT", "match", "miss"),
            expect("FRA", "match", "hit"),
            expect("FRA", "match", "miss"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn production_rules_decide_what_is_stored_and_for_how_long() {
    if !common::node_or_skip("production_rules_decide_what_is_stored_and_for_how_long") {
        return;
    }
    let t = TestHost::new(&common::component(WORKER), |_| {});
    let u = |n: &str| format!("https://worker.test/{n}");
    let r = ops(
        &t,
        "FRA",
        json!([
            put(
                &u("private"),
                json!({"cache-control": "private, max-age=60"}),
                "p"
            ),
            put(&u("no-store"), json!({"cache-control": "no-store"}), "n"),
            put(
                &u("cookie"),
                json!({"cache-control": "max-age=60", "set-cookie": "a=1"}),
                "c"
            ),
            put(
                &u("cookie-ok"),
                json!({"cache-control": "max-age=60, private=Set-Cookie", "set-cookie": "a=1"}),
                "k"
            ),
            put(
                &u("smaxage"),
                json!({"cache-control": "max-age=10, s-maxage=100"}),
                "s"
            ),
            put(&u("default-ttl"), json!({}), "d"),
            json!({"op": "put", "url": u("teapot"), "status": 418, "body": "t"}),
            get(&u("private")),
            get(&u("no-store")),
            get(&u("cookie")),
            get(&u("cookie-ok")),
            get(&u("teapot")),
        ]),
    )
    .await;
    for (i, v) in r.as_array().unwrap()[..7].iter().enumerate() {
        assert_eq!(
            v,
            &json!({"ok": null}),
            "put {i} resolves even when not stored"
        );
    }
    assert_eq!(r[7]["ok"], "undefined", "private");
    assert_eq!(r[8]["ok"], "undefined", "no-store");
    assert_eq!(r[9]["ok"], "undefined", "Set-Cookie");
    assert_eq!(
        r[10]["ok"]["body"], "k",
        "private=Set-Cookie is stored: {}",
        r[10]
    );
    assert!(
        r[10]["ok"]["headers"].get("set-cookie").is_none(),
        "...without its Set-Cookie: {}",
        r[10]
    );
    assert_eq!(r[11]["ok"], "undefined", "418 without Cache-Control");

    // s-maxage wins over max-age; without Cache-Control a 200 lives 2 hours (Edge TTL).
    tokio::time::advance(Duration::from_secs(50)).await;
    assert_eq!(hit_body(&ops(&t, "FRA", get(&u("smaxage"))).await), "s");
    tokio::time::advance(Duration::from_secs(50)).await;
    assert_eq!(ops(&t, "FRA", get(&u("smaxage"))).await["ok"], "undefined");
    tokio::time::advance(Duration::from_secs(7_000)).await;
    assert_eq!(hit_body(&ops(&t, "FRA", get(&u("default-ttl"))).await), "d");
    tokio::time::advance(Duration::from_secs(100)).await;
    assert_eq!(
        ops(&t, "FRA", get(&u("default-ttl"))).await["ok"],
        "undefined"
    );
}

#[tokio::test(start_paused = true)]
async fn delete_named_caches_conditional_requests_and_workerd_errors() {
    if !common::node_or_skip("delete_named_caches_conditional_requests_and_workerd_errors") {
        return;
    }
    let t = TestHost::new(&common::component(WORKER), |_| {});
    let cc = json!({"cache-control": "max-age=600", "etag": "\"v7\""});
    let r = ops(
        &t,
        "FRA",
        json!([
            // caches.open(name) is its own namespace.
            {"op": "put", "cache": "a", "url": URL, "headers": cc, "body": "in a"},
            {"op": "match", "cache": "a", "url": URL},
            {"op": "match", "cache": "b", "url": URL},
            get(URL),
            {"op": "open", "cache": "x"},
            // Conditional and range requests against the stored ETag and body.
            {"op": "match", "cache": "a", "url": URL, "reqHeaders": {"if-none-match": "\"v7\""}},
            {"op": "match", "cache": "a", "url": URL, "reqHeaders": {"range": "bytes=0-1"}},
            // Non-GET: match undefined, delete false, unless ignoreMethod.
            {"op": "match", "cache": "a", "url": URL, "method": "POST"},
            {"op": "match", "cache": "a", "url": URL, "method": "POST", "ignoreMethod": true},
            {"op": "delete", "cache": "a", "url": URL, "method": "POST"},
            {"op": "delete", "cache": "a", "url": URL},
            {"op": "delete", "cache": "a", "url": URL},
            {"op": "match", "cache": "a", "url": URL},
            // workerd's TypeErrors.
            {"op": "put", "url": URL, "method": "POST"},
            {"op": "put", "url": URL, "status": 206},
            {"op": "put", "url": URL, "headers": {"vary": "*"}},
            {"op": "open", "cache": "n".repeat(1024)},
            // A 304 is dropped silently.
            {"op": "put", "url": URL, "status": 304, "body": null},
            get(URL),
        ]),
    )
    .await;
    let r = r.as_array().unwrap();
    assert_eq!(r[0], json!({"ok": null}));
    assert_eq!(r[1]["ok"]["body"], "in a");
    assert_eq!(r[2]["ok"], "undefined", "cache b");
    assert_eq!(r[3]["ok"], "undefined", "caches.default");
    assert_eq!(r[4]["ok"], json!({"isCache": true, "same": true}));
    assert_eq!(r[5]["ok"]["status"], 304, "{}", r[5]);
    assert_eq!(r[5]["ok"]["body"], "");
    assert_eq!(r[6]["ok"]["status"], 206, "{}", r[6]);
    assert_eq!(r[6]["ok"]["body"], "in");
    assert_eq!(r[6]["ok"]["headers"]["content-range"], "bytes 0-1/4");
    assert_eq!(r[7]["ok"], "undefined");
    assert_eq!(r[8]["ok"]["body"], "in a");
    assert_eq!(r[9]["ok"], false);
    assert_eq!(r[10]["ok"], true);
    assert_eq!(r[11]["ok"], false);
    assert_eq!(r[12]["ok"], "undefined");
    let type_error = |m: &str| json!({"error": {"name": "TypeError", "message": m}});
    assert_eq!(
        r[13],
        type_error("Cannot cache response to non-GET request.")
    );
    assert_eq!(
        r[14],
        type_error("Cannot cache response to a range request (206 Partial Content).")
    );
    assert_eq!(
        r[15],
        type_error("Cannot cache response with 'Vary: *' header.")
    );
    assert_eq!(r[16], type_error("Cache name is too long."));
    assert_eq!(r[17], json!({"ok": null}));
    assert_eq!(r[18]["ok"], "undefined");
}

#[tokio::test(start_paused = true)]
async fn a_worker_serves_its_page_from_each_colos_cache() {
    if !common::node_or_skip("a_worker_serves_its_page_from_each_colos_cache") {
        return;
    }
    let t = TestHost::new(&common::component(WORKER), |_| {});
    let page = |colo: &'static str| {
        let t = &t;
        async move {
            let inv = t
                .host
                .handle_at(colo, request("GET", "/page", &[], ""))
                .await;
            if let Some(bg) = inv.background {
                bg.wait().await;
            }
            (
                String::from_utf8_lossy(inv.response.body()).into_owned(),
                inv.response
                    .headers()
                    .get("cf-cache-status")
                    .map(|v| v.to_str().unwrap().to_string()),
            )
        }
    };
    assert_eq!(page("FRA").await, ("built at FRA".into(), None));
    assert_eq!(
        page("FRA").await,
        ("built at FRA".into(), Some("HIT".into()))
    );
    assert_eq!(page("NRT").await, ("built at NRT".into(), None));
    assert_eq!(page("FRA").await.0, "built at FRA");
    // Purged (as the dev control endpoint does): built again.
    assert_eq!(t.host.cache().purge(Some("FRA"), None, None), 1);
    assert_eq!(page("FRA").await, ("built at FRA".into(), None));
}

/// Server-sent events through `edgesim_host::serve` (what `edgesim dev` runs): the client reads
/// the first event about 1.5 s before the Worker writes the last one, instead of both at the
/// end. Real time (a loopback socket).
#[tokio::test]
async fn a_streamed_body_reaches_the_client_as_the_worker_writes_it() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if !common::node_or_skip("a_streamed_body_reaches_the_client_as_the_worker_writes_it") {
        return;
    }
    let t = TestHost::new(&common::component(WORKER), |_| {});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(edgesim_host::serve(listener, t.host.clone(), None));
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /events HTTP/1.1\r\nhost: worker.test\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut first_at = None;
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(30), conn.read(&mut buf))
            .await
            .expect("the response ends within 30 s")
            .unwrap();
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen);
        if first_at.is_none() && text.contains("data: first") {
            assert!(!text.contains("data: last"), "both came together: {text}");
            first_at = Some(std::time::Instant::now());
        }
    }
    let last_at = std::time::Instant::now();
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("text/event-stream"), "{text}");
    assert!(text.contains("data: last"), "{text}");
    let first_at = first_at.expect("the first event arrived");
    assert!(
        last_at - first_at >= Duration::from_millis(1000),
        "the first event came only {:?} before the end",
        last_at - first_at
    );
    // Host::handle (tests, simulation) still gives the whole body.
    let inv = t.host.handle(request("GET", "/events", &[], "")).await;
    assert_eq!(
        String::from_utf8_lossy(inv.response.body()),
        "data: first\n\ndata: last\n\n"
    );
}
