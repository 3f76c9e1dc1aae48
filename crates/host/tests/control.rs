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
    let control = Control::new(move |d| advancing.advance(d));
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
    assert!(body.contains("Bound: ARTICLES."), "{body}");
    // Without a key: the list of central's keys, as `wrangler kv key list` prints it.
    let (status, body) = call(&host, &control, "GET", "/__edgesim/kv/ARTICLES");
    assert_eq!(
        (status, body.trim()),
        (
            200,
            r#"[
  {
    "name": "/articles/1"
  }
]"#
        )
    );
    assert_eq!(call(&host, &control, "GET", "/__edgesim/nothing").0, 404);
}

fn send(
    host: &Host,
    control: &Control,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> http::Response<Bytes> {
    let mut req = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = control_endpoint(
        host,
        control,
        &req.body(Bytes::copy_from_slice(body)).unwrap(),
    );
    assert_eq!(resp.headers()["x-edgesim"], "control");
    resp
}

#[test]
fn kv_writes_from_outside_land_at_central_and_colos_keep_their_cache() {
    let (host, control, clock) = setup();
    clock.advance(Duration::from_secs(1_800_000_000));
    let ns = host.kv().namespace("ARTICLES").unwrap();
    ns.put("SYD", "/articles", b"old".to_vec(), &PutOptions::default())
        .unwrap();
    clock.advance(Duration::from_secs(5));
    ns.get("FRA", "/articles", &GetOptions::default()).unwrap();

    let meta = [("x-edgesim-kv-metadata", r#"{"by":"cli"}"#)];
    let r = send(
        &host,
        &control,
        "PUT",
        "/__edgesim/kv/ARTICLES/%2Farticles?expiration_ttl=3600",
        &meta,
        b"[]",
    );
    assert_eq!(r.status(), 200, "{:?}", r.body());
    // Central has it at once; FRA keeps serving its cached copy; IAD reads the new one.
    let r = send(
        &host,
        &control,
        "GET",
        "/__edgesim/kv/ARTICLES//articles?value",
        &[],
        b"",
    );
    assert_eq!((r.status().as_u16(), &r.body()[..]), (200, &b"[]"[..]));
    assert_eq!(r.headers()["x-edgesim-kv-metadata"], r#"{"by":"cli"}"#);
    let expected_exp = clock.now_ms() / 1000 + 3600;
    assert_eq!(
        r.headers()["x-edgesim-kv-expiration"],
        expected_exp.to_string().as_str()
    );
    let fra = ns.get("FRA", "/articles", &GetOptions::default()).unwrap();
    assert_eq!(fra.value.as_deref(), Some(&b"old"[..]));
    let iad = ns.get("IAD", "/articles", &GetOptions::default()).unwrap();
    assert_eq!(iad.value.as_deref(), Some(&b"[]"[..]));

    // Bad input: production's message, 400; the 1 write/s rule: 429.
    clock.advance(Duration::from_secs(2));
    let r = send(
        &host,
        &control,
        "PUT",
        "/__edgesim/kv/ARTICLES/k?expiration_ttl=30",
        &[],
        b"v",
    );
    assert_eq!(r.status(), 400);
    assert_eq!(
        String::from_utf8_lossy(r.body()).trim(),
        "KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60."
    );
    let r = send(
        &host,
        &control,
        "PUT",
        "/__edgesim/kv/ARTICLES/k",
        &[("x-edgesim-kv-metadata", "{")],
        b"v",
    );
    assert_eq!(r.status(), 400);
    assert_eq!(
        send(
            &host,
            &control,
            "PUT",
            "/__edgesim/kv/ARTICLES/k",
            &[],
            b"v"
        )
        .status(),
        200
    );
    assert_eq!(
        send(
            &host,
            &control,
            "PUT",
            "/__edgesim/kv/ARTICLES/k",
            &[],
            b"w"
        )
        .status(),
        429
    );

    // Bulk write, list with a prefix, delete, bulk delete.
    clock.advance(Duration::from_secs(2));
    let bulk = br#"[{"key":"/a/1","value":"one"},{"key":"/a/2","value":"AAE=","base64":true,"metadata":{"n":2}}]"#;
    assert_eq!(
        send(&host, &control, "PUT", "/__edgesim/kv/ARTICLES", &[], bulk).status(),
        200
    );
    let r = send(
        &host,
        &control,
        "GET",
        "/__edgesim/kv/ARTICLES?prefix=%2Fa%2F",
        &[],
        b"",
    );
    let listed: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(
        listed,
        serde_json::json!([{"name": "/a/1"}, {"name": "/a/2", "metadata": {"n": 2}}])
    );
    // A write within a second of the bulk write: 429; a second later it goes through.
    assert_eq!(
        send(
            &host,
            &control,
            "DELETE",
            "/__edgesim/kv/ARTICLES//a/1",
            &[],
            b""
        )
        .status(),
        429
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        send(
            &host,
            &control,
            "DELETE",
            "/__edgesim/kv/ARTICLES//a/1",
            &[],
            b""
        )
        .status(),
        200
    );
    let r = send(
        &host,
        &control,
        "GET",
        "/__edgesim/kv/ARTICLES//a/1?value",
        &[],
        b"",
    );
    assert_eq!(r.status(), 404);
    assert_eq!(
        send(
            &host,
            &control,
            "DELETE",
            "/__edgesim/kv/ARTICLES",
            &[],
            br#"["k","/a/2"]"#
        )
        .status(),
        200
    );
    let r = send(
        &host,
        &control,
        "GET",
        "/__edgesim/kv/ARTICLES?prefix=%2Fa%2F",
        &[],
        b"",
    );
    assert_eq!(String::from_utf8_lossy(r.body()).trim(), "[]");
    assert_eq!(
        send(&host, &control, "PUT", "/__edgesim/kv/ARTICLES", &[], b"{}").status(),
        400
    );
    assert_eq!(
        send(
            &host,
            &control,
            "POST",
            "/__edgesim/kv/ARTICLES/k",
            &[],
            b""
        )
        .status(),
        405
    );
}
