//! The `/__edgesim/` control endpoints of `edgesim dev`, called in-process.

mod common;

use bytes::Bytes;
use edgesim_core::{Clock, ManualClock, SharedClock, SimRng};
use edgesim_guests::fixtures;
use edgesim_host::{Control, Host, HostConfig, InProcessUpstream, control_endpoint};
use edgesim_kv::{GetOptions, KvConfig, KvStore, PutOptions};
use std::sync::Arc;
use std::time::Duration;

fn setup() -> (Host, Control, ManualClock) {
    let manual = ManualClock::new();
    let clock: SharedClock = Arc::new(manual.clone());
    let kv = KvStore::new(KvConfig::default(), clock.clone(), SimRng::from_seed(3));
    let mut config = HostConfig::new(common::SUPABASE_URL);
    config.colos = HostConfig::colos_from_codes(&kv.colos());
    let upstream = InProcessUpstream::new(
        common::SUPABASE_URL,
        Arc::new(|_| http::Response::new(Bytes::new())),
    );
    let host = Host::new(
        fixtures::HELLO,
        config,
        kv,
        Arc::new(upstream),
        clock,
        SimRng::from_seed(4),
        Some(&common::cache_dir()),
    )
    .unwrap();
    let advancing = manual.clone();
    let control = Control {
        advance: Arc::new(move |d| advancing.advance(d)),
    };
    (host, control, manual)
}

fn call(host: &Host, control: &Control, method: &str, uri: &str) -> (u16, String) {
    let req = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(Bytes::new())
        .unwrap();
    let resp = control_endpoint(host, control, &req);
    (
        resp.status().as_u16(),
        String::from_utf8_lossy(resp.body()).into_owned(),
    )
}

#[test]
fn time_advance_moves_the_clock_and_rejects_bad_input() {
    let (host, control, clock) = setup();
    let before = clock.now_ms();
    let (status, body) = call(
        &host,
        &control,
        "POST",
        "/__edgesim/time/advance?seconds=90",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(clock.now_ms(), before + 90_000);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["now_ms"], before + 90_000);
    for bad in ["", "?seconds=", "?seconds=-1", "?seconds=abc", "?minutes=1"] {
        let (status, body) = call(
            &host,
            &control,
            "POST",
            &format!("/__edgesim/time/advance{bad}"),
        );
        assert_eq!(status, 400, "{bad}: {body}");
    }
    assert_eq!(
        call(&host, &control, "GET", "/__edgesim/time/advance?seconds=1").0,
        405
    );
    assert_eq!(clock.now_ms(), before + 90_000);
}

#[test]
fn kv_view_shows_central_and_each_colo() {
    let (host, control, clock) = setup();
    let ns = host.kv().namespace("ARTICLES").unwrap();
    ns.put(
        "SYD",
        "/articles/1",
        b"one".to_vec(),
        &PutOptions::default(),
    )
    .unwrap();
    clock.advance(Duration::from_secs(5));
    ns.get("FRA", "/articles/1", &GetOptions::default())
        .unwrap();
    let (status, body) = call(
        &host,
        &control,
        "GET",
        "/__edgesim/kv/ARTICLES/%2Farticles%2F1",
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["key"], "/articles/1");
    assert_eq!(v["central"]["value"], "one");
    assert_eq!(v["colos"]["FRA"]["value"], "one");
    assert!(v["colos"]["IAD"].is_null());

    let (status, body) = call(&host, &control, "GET", "/__edgesim/kv/NOPE/k");
    assert_eq!(status, 404);
    assert!(body.contains("NOPE"), "{body}");
    assert_eq!(
        call(&host, &control, "GET", "/__edgesim/kv/ARTICLES").0,
        400
    );
    assert_eq!(call(&host, &control, "GET", "/__edgesim/nothing").0, 404);
}
