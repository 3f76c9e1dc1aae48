//! Cron Triggers on JavaScript Workers (`worker/js/cron`): `Host::scheduled` in module and
//! service-worker syntax (controller fields, KV, `ctx.waitUntil`, `noRetry()`, a failing run,
//! a missing handler), a client cannot pose as a Cron Trigger, Workers without the adapter are
//! refused, `GET /__scheduled` as `wrangler dev --test-scheduled` answers it, and the dev
//! driver firing each minute a clock jump passes over.

mod common;

use bytes::Bytes;
use common::{TestHost, body, json};
use edgesim_core::{ManualClock, SharedClock, SimRng, VIRTUAL_EPOCH_MS};
use edgesim_host::{
    Control, CronSchedule, Host, HostConfig, HostSlot, InProcessUpstream, ScheduledStatus,
    serve_with_shutdown, spawn_dev_cron,
};
use edgesim_kv::{KvConfig, KvStore};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Components built so far: (entry file, wasm).
type Built = Vec<(String, Arc<Vec<u8>>)>;

/// The component of `worker/js/cron/src/<file>`, built once per test binary.
fn cron_component(file: &str) -> Arc<Vec<u8>> {
    static BUILT: OnceLock<Mutex<Built>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some((_, w)) = built.iter().find(|(f, _)| f == file) {
        return w.clone();
    }
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worker/js/cron");
    let opts = edgesim_js::BuildOptions {
        project_dir: Some(project.clone()),
        ..Default::default()
    };
    let c = edgesim_js::build(&project.join("src").join(file), &opts)
        .unwrap_or_else(|e| panic!("building worker/js/cron/src/{file}: {e}"));
    let wasm = Arc::new(c.wasm);
    built.push((file.to_string(), wasm.clone()));
    wasm
}

const MINUTE: u64 = 60_000;

#[tokio::test(start_paused = true)]
async fn scheduled_runs_reach_module_and_service_worker_handlers() {
    if !common::node_or_skip("scheduled_runs_reach_module_and_service_worker_handlers") {
        return;
    }
    // Module syntax: controller.cron / scheduledTime, KV, ctx.waitUntil.
    let t = TestHost::new(&cron_component("index.js"), |c| c.scheduled_events = true);
    let at = VIRTUAL_EPOCH_MS + MINUTE;
    let o = t.host.scheduled(None, "* * * * *", at).await;
    assert_eq!(o.status, ScheduledStatus::Ok, "{o:?}");
    assert!(!o.no_retry && o.error.is_none(), "{o:?}");
    assert_eq!(o.colo.as_deref(), Some("SYD"));
    let runs = json(&t.get(&format!("/runs?t={at}")).await);
    assert_eq!(runs[0]["cron"], "* * * * *", "{runs}");
    assert_eq!(runs[0]["scheduledTime"], at, "{runs}");
    assert_eq!(runs[0]["syntax"], "module");
    assert_eq!(
        runs[0]["done"], true,
        "the waitUntil write is part of the run: {runs}"
    );
    let o = t
        .host
        .scheduled(Some("FRA"), "*/5 * * * *", at + MINUTE)
        .await;
    assert_eq!(
        (o.status, o.colo.as_deref()),
        (ScheduledStatus::Ok, Some("FRA"))
    );
    let o = t.host.scheduled(Some("XYZ"), "* * * * *", at).await;
    assert_eq!(o.status, ScheduledStatus::UnknownColo);

    // A client request carrying the marker header is an ordinary request to fetch().
    let inv = t
        .host
        .handle(common::request(
            "POST",
            "/__edgesim/scheduled",
            &[("x-edgesim-scheduled", "1")],
            r#"{"cron":"* * * * *","scheduledTime":1}"#,
        ))
        .await;
    assert_eq!(inv.response.status(), 404, "{}", body(&inv));
    assert!(
        body(&inv).contains("lists recorded cron runs"),
        "{}",
        body(&inv)
    );
    assert!(inv.response.headers().get("x-edgesim-scheduled").is_none());

    // The same component without the flag (as a Rust Worker is run): nothing is attempted.
    let rust_like = TestHost::new(&cron_component("index.js"), |_| {});
    let o = rust_like.host.scheduled(None, "* * * * *", at).await;
    assert_eq!(o.status, ScheduledStatus::Unsupported);
    assert!(o.error.unwrap().contains("JavaScript Workers"));

    // Service-worker syntax: addEventListener("scheduled"), globals, event.waitUntil.
    let sw = TestHost::new(&cron_component("service-worker.js"), |c| {
        c.scheduled_events = true
    });
    let o = sw.host.scheduled(None, "*/5 * * * *", at).await;
    assert_eq!(o.status, ScheduledStatus::Ok, "{o:?}");
    let inv = sw.get(&format!("/?t={at}")).await;
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
    assert!(
        body(&inv).contains(r#""syntax":"service-worker""#),
        "{}",
        body(&inv)
    );
    assert!(
        body(&inv).contains(r#""cron":"*/5 * * * *""#),
        "{}",
        body(&inv)
    );
    // A failing run: noRetry() and a rejected waitUntil promise.
    let o = sw.host.scheduled(None, "0 0 1 1 *", at).await;
    assert_eq!(o.status, ScheduledStatus::Exception, "{o:?}");
    assert!(o.no_retry);
    assert!(
        o.error
            .as_deref()
            .unwrap()
            .contains("Error: the yearly job failed"),
        "{o:?}"
    );

    // A module Worker without scheduled(): workerd's error, noRetry set.
    let plain = TestHost::new(&common::component("module/index.js"), |c| {
        c.scheduled_events = true
    });
    let o = plain.host.scheduled(None, "* * * * *", at).await;
    assert_eq!(o.status, ScheduledStatus::Exception);
    assert!(o.no_retry);
    assert!(
        o.error
            .as_deref()
            .unwrap()
            .contains("Error: Handler does not export a scheduled() function"),
        "{o:?}"
    );
}

/// A host on `clock` (which the test moves) running the cron fixture.
fn host_on(clock: &ManualClock) -> Host {
    let shared: SharedClock = Arc::new(clock.clone());
    let rng = SimRng::from_seed(3);
    let kv = KvStore::new(KvConfig::default(), shared.clone(), rng.fork("kv"));
    let mut config = HostConfig::new(common::SUPABASE_URL);
    config.colos = HostConfig::colos_from_codes(&kv.colos());
    config.scheduled_events = true;
    let upstream = Arc::new(InProcessUpstream::new(
        common::SUPABASE_URL,
        Arc::new(|_| http::Response::new(Bytes::new())),
    ));
    Host::new(
        &cron_component("index.js"),
        config,
        kv,
        upstream,
        shared,
        rng.fork("host"),
        Some(&common::compiled_dir()),
    )
    .expect("the host starts")
}

/// One HTTP/1.1 GET to `addr`: (status, body).
async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (status, body.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_scheduled_route_and_the_dev_driver_across_a_clock_jump() {
    if !common::node_or_skip("test_scheduled_route_and_the_dev_driver_across_a_clock_jump") {
        return;
    }
    let clock = ManualClock::at_epoch_ms(VIRTUAL_EPOCH_MS + 5_000);
    let host = host_on(&clock);
    let slot = HostSlot::new(host.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let c2 = clock.clone();
    let control = Control::new(move |d| c2.advance(d));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_with_shutdown(
        listener,
        slot.clone(),
        Some(control),
        async {
            let _ = stopped.await;
        },
    ));

    // wrangler dev --test-scheduled: the outcome as text, scheduledTime = now (or ?time=).
    let (status, text) = get(addr, "/__scheduled?cron=*+*+*+*+*").await;
    assert_eq!((status, text.as_str()), (200, "ok"));
    let now = VIRTUAL_EPOCH_MS + 5_000;
    let (_, runs) = get(addr, &format!("/runs?t={now}")).await;
    assert!(runs.contains(r#""cron":"* * * * *""#), "{runs}");
    let (status, text) = get(addr, "/__scheduled?cron=*%2F5+*+*+*+*&time=42&format=json").await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v, serde_json::json!({"outcome": "ok", "noRetry": false}));
    let (_, runs) = get(addr, "/runs?t=42").await;
    assert!(runs.contains(r#""cron":"*/5 * * * *""#), "{runs}");

    // The dev driver: a jump of 3 minutes fires the 3 minutes it passed, each with its own
    // scheduledTime, oldest first.
    let schedule = CronSchedule::parse(&["* * * * *"]).unwrap();
    let dev = spawn_dev_cron(slot.clone(), Arc::new(clock.clone()), schedule);
    tokio::time::sleep(Duration::from_millis(600)).await;
    clock.advance(Duration::from_secs(180));
    dev.notify_advanced();
    let want: Vec<u64> = (1..=3).map(|m| VIRTUAL_EPOCH_MS + m * MINUTE).collect();
    let query: Vec<String> = want.iter().map(|t| format!("t={t}")).collect();
    let path = format!("/runs?{}", query.join("&"));
    let mut runs = serde_json::Value::Null;
    for _ in 0..300 {
        let (_, text) = get(addr, &path).await;
        runs = serde_json::from_str(&text).unwrap();
        if runs.as_array().map(Vec::len) == Some(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let times: Vec<u64> = runs
        .as_array()
        .unwrap_or_else(|| panic!("{runs}"))
        .iter()
        .map(|r| r["scheduledTime"].as_u64().unwrap())
        .collect();
    assert_eq!(times, want, "{runs}");
    // Each ran after the jump, at the clock's time then.
    assert!(runs[0]["ranAt"].as_u64().unwrap() >= VIRTUAL_EPOCH_MS + 185_000);
    // Nothing more is due until the next minute.
    let (_, text) = get(addr, &format!("/runs?t={}", VIRTUAL_EPOCH_MS + 4 * MINUTE)).await;
    assert_eq!(text, "[]");
    drop(dev);
    let _ = stop.send(());
    let _ = server.await;
}
