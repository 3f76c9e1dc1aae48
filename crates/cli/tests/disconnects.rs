//! Clients that go away mid-request, over loopback against `edgesim dev`: the request is
//! canceled as production cancels it (the log says `outcome=canceled`, production's Trace
//! outcome), nothing is reported as the Worker's exception (no 1101), waitUntil work already
//! registered still runs (its KV write lands), and the next request is served normally. For a
//! JavaScript Worker (`worker/js/slow`, needs Node: SKIPPED without it) and the embedded Rust
//! course Worker. Also `GET /__edgesim/status`.

use edgesim_testkit::require_node;
use edgesim_tests::{DevServer, npm_ci_if_needed, request, temp_dir};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");

/// Sends `bytes` on a new connection, waits `linger`, then closes the socket without reading.
fn abandon(dev: &DevServer, bytes: &str, linger: Duration) {
    let mut s = TcpStream::connect(("127.0.0.1", dev.port)).expect("connect");
    s.write_all(bytes.as_bytes()).expect("write");
    std::thread::sleep(linger);
    drop(s);
}

/// A complete `GET path` head at `colo`, keeping the connection open.
fn head(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nx-edgesim-colo: SYD\r\n\r\n")
}

/// Waits (up to 30 s) until `f` holds, panicking with `what` and the server's output.
fn eventually(dev: &DevServer, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "{what}\n{}", dev.output());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Central's value of `key` in `binding`, if any.
fn central(dev: &DevServer, binding: &str, key: &str) -> Option<String> {
    let path = format!("/__edgesim/kv/{binding}/{key}?value");
    let r = request(dev.port, "GET", &path, &[], None).ok()?;
    (r.status == 200).then_some(r.body)
}

fn canceled_line(path: &str) -> String {
    format!("method=GET path={path} outcome=canceled")
}

fn status(dev: &DevServer) -> serde_json::Value {
    let r = request(dev.port, "GET", "/__edgesim/status", &[], None).expect("status");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// No exception, no error page for the host's own cancels.
fn assert_no_exception(dev: &DevServer) {
    let out = dev.output();
    assert!(!out.contains("1101"), "an error 1101 was logged:\n{out}");
    assert!(
        !out.contains("threw exception"),
        "an exception was logged:\n{out}"
    );
    assert!(!out.contains("unknown handle"), "{out}");
}

#[test]
fn a_js_worker_whose_client_goes_away_is_canceled_and_its_wait_until_work_lands() {
    require_node!();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../worker/js/slow");
    npm_ci_if_needed(&dir);
    let state = temp_dir("disconnects-js");
    let dev = DevServer::start_in(Path::new(BIN), Some(&dir), &state, &["--seed", "5"]);
    assert!(
        dev.output().contains("/__edgesim/status"),
        "the banner names the status endpoint:\n{}",
        dev.output()
    );
    // A warm instance first, so the timings below are the Worker's own.
    assert_eq!(dev.get_ok("SYD", "/").body, "ok\n");

    // Before the request head is complete: the Worker never runs.
    abandon(
        &dev,
        "GET /kv?key=never HTTP/1.1\r\nhost: localh",
        Duration::from_millis(100),
    );
    // While the Worker awaits KV and a timer.
    abandon(&dev, &head("/kv?key=k1"), Duration::from_millis(400));
    // While it streams its body.
    abandon(&dev, &head("/stream"), Duration::from_millis(700));
    // After it registered waitUntil work, before its response.
    abandon(
        &dev,
        &head("/wait?key=w1&after=1500"),
        Duration::from_millis(400),
    );
    // After the response, while its waitUntil work runs.
    {
        let mut s = TcpStream::connect(("127.0.0.1", dev.port)).expect("connect");
        s.write_all(head("/wait?key=w2").as_bytes()).expect("write");
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).expect("read");
        assert!(
            String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&buf[..n])
        );
    }

    for path in ["/kv?key=k1", "/stream", "/wait?key=w1&after=1500"] {
        let line = canceled_line(path);
        eventually(&dev, &format!("no `{line}`"), || {
            dev.output().contains(&line)
        });
    }
    // The waitUntil writes land, the canceled request's and the answered one's.
    for key in ["w1", "w2"] {
        eventually(
            &dev,
            &format!("the waitUntil write of {key} did not land"),
            || central(&dev, "KV", key).as_deref() == Some("done"),
        );
    }
    // The canceled guests finish (in the background) and nothing is left running.
    eventually(&dev, "calls still running after their cancel", || {
        let s = status(&dev);
        s["background_calls"] == 0 && s["live_requests"] == 0
    });
    assert!(
        !dev.output().contains("path=/kv?key=never"),
        "a request that never arrived was logged:\n{}",
        dev.output()
    );

    // The next requests, on new connections, are served correctly (on reused instances).
    assert_eq!(dev.get_ok("SYD", "/").body, "ok\n");
    let streamed = dev.get_ok("SYD", "/stream");
    assert_eq!(streamed.body.lines().count(), 6, "{}", streamed.body);
    assert_no_exception(&dev);

    // The status: every instance with its memory, and the limits in force.
    let s = status(&dev);
    let per: Vec<serde_json::Value> = s["per_instance"].as_array().cloned().unwrap_or_default();
    assert_eq!(s["instances"], per.len(), "{s:#}");
    assert!(!per.is_empty(), "{s:#}");
    let sum: u64 = per.iter().filter_map(|i| i["memory_bytes"].as_u64()).sum();
    assert_eq!(s["memory_bytes"], sum, "{s:#}");
    assert!(
        per.iter()
            .all(|i| i["memory_bytes"].as_u64().unwrap_or(0) > 0),
        "{s:#}"
    );
    assert_eq!(
        s["idle_instances"],
        per.iter().filter(|i| i["state"] == "idle").count(),
        "{s:#}"
    );
    assert_eq!(s["limits"]["max_live"], 16, "{s:#}");
    assert_eq!(s["limits"]["max_idle"], 16, "{s:#}");
    assert_eq!(s["limits"]["max_instances"], 64, "{s:#}");
    assert!(s["instances"].as_u64() <= Some(64), "{s:#}");
    assert_eq!(s["limits"]["reuse"], true, "{s:#}");
    // dev counts CPU with epochs (no fuel, so no fuel total).
    assert_eq!(s["limits"]["cpu_meter"], "epoch", "{s:#}");
    assert_eq!(s["guest_fuel_total"], 0, "{s:#}");
}

/// A handler that never answers and keeps re-arming a timer: after its client goes away it runs
/// on (one wasm instance cannot stop part of a call) until the waitUntil limit on the emulator
/// clock, and is then stopped with a line that says what was stopped and how production differs,
/// not production's waitUntil warning.
#[test]
fn a_canceled_js_handler_that_never_answers_is_stopped_at_the_limit_with_its_own_line() {
    require_node!();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../worker/js/slow");
    npm_ci_if_needed(&dir);
    let state = temp_dir("disconnects-rearm");
    let dev = DevServer::start_in(Path::new(BIN), Some(&dir), &state, &["--seed", "6"]);
    assert_eq!(dev.get_ok("SYD", "/").body, "ok\n");
    abandon(&dev, &head("/rearm"), Duration::from_millis(300));
    let line = canceled_line("/rearm");
    eventually(&dev, &format!("no `{line}`"), || {
        dev.output().contains(&line)
    });
    assert_eq!(status(&dev)["background_calls"], 1, "{}", dev.output());
    dev.advance(31);
    eventually(&dev, "the canceled call was not stopped", || {
        dev.output().contains(edgesim_host::CANCELED_WORK_STOPPED)
    });
    eventually(&dev, "calls still running after the stop", || {
        status(&dev)["background_calls"] == 0
    });
    let out = dev.output();
    assert!(!out.contains(edgesim_host::WAIT_UNTIL_CANCELLED), "{out}");
    assert_no_exception(&dev);
    assert_eq!(dev.get_ok("SYD", "/").body, "ok\n");
}

#[test]
fn the_rust_course_worker_whose_client_goes_away_is_canceled_cleanly() {
    let state = temp_dir("disconnects-rust");
    let dev = DevServer::start(Path::new(BIN), &state, &["--seed", "5"]);
    // `/articles` on empty KV at SYD: the miss waits 150 ms on central, then Supabase, then the
    // Worker writes the list to KV. The client leaves during the miss.
    abandon(&dev, &head("/articles"), Duration::from_millis(40));
    let line = canceled_line("/articles");
    eventually(&dev, &format!("no `{line}`"), || {
        dev.output().contains(&line)
    });
    // The canceled call ran on to its end: its KV write landed.
    eventually(&dev, "the canceled request's KV write did not land", || {
        central(&dev, "ARTICLES", "/articles").is_some()
    });
    eventually(&dev, "calls still running after their cancel", || {
        let s = status(&dev);
        s["background_calls"] == 0 && s["live_requests"] == 0
    });
    // Its instance ended cleanly, so it is kept for the next request, which is served.
    let s = status(&dev);
    assert!(s["idle_instances"].as_u64() >= Some(1), "{s:#}");
    let next = dev.get_ok("SYD", "/articles");
    assert!(next.body.contains("second blog"), "{}", next.body);
    assert_no_exception(&dev);
    // A control path that does not exist names the status endpoint.
    let r = request(dev.port, "GET", "/__edgesim/nope", &[], None).expect("request");
    assert_eq!(r.status, 404);
    assert!(r.body.contains("/__edgesim/status"), "{}", r.body);
}
