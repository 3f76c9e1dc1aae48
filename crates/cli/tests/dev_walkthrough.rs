//! End to end over loopback: the course walkthrough against `edgesim dev` with the embedded
//! course Worker, like a reader following the course with curl.
//!
//! The test lives in the cli package so cargo builds the `edgesim` binary for it
//! (`CARGO_BIN_EXE_edgesim`); the helpers are in `edgesim-tests` (`tests/support`).

use edgesim_tests::{DevServer, Reply, request, temp_dir};
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");

fn get(dev: &DevServer, colo: &str, path: &str) -> Reply {
    let r = dev.get_at(colo, path);
    assert_eq!(
        r.status,
        200,
        "GET {path} at {colo}: {}\n{}",
        r.body,
        dev.output()
    );
    let ray = r.header("cf-ray").unwrap_or_default();
    assert!(
        ray.ends_with(&format!("-{colo}")),
        "cf-ray {ray:?} at {colo}"
    );
    r
}

fn title_of(r: &Reply) -> String {
    r.json()["title"].as_str().unwrap_or_default().to_string()
}

/// `(kv_hits, kv_misses)` of each logged request line for `method path` at `colo`, in order.
fn logged_kv(output: &str, colo: &str, method: &str, path: &str) -> Vec<(u32, u32)> {
    let field = |line: &str, name: &str| -> Option<String> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .map(str::to_string)
    };
    output
        .lines()
        .filter(|l| l.contains("edgesim::request"))
        .filter(|l| {
            field(l, "colo").as_deref() == Some(colo)
                && field(l, "method").as_deref() == Some(method)
                && field(l, "path").as_deref() == Some(path)
        })
        .filter_map(|l| {
            Some((
                field(l, "kv_hits")?.parse().ok()?,
                field(l, "kv_misses")?.parse().ok()?,
            ))
        })
        .collect()
}

/// Waits until `count` request lines for `method path` at `colo` have been logged.
fn wait_logged(
    dev: &DevServer,
    colo: &str,
    method: &str,
    path: &str,
    count: usize,
) -> Vec<(u32, u32)> {
    for _ in 0..200 {
        let seen = logged_kv(&dev.output(), colo, method, path);
        if seen.len() >= count {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{method} {path} at {colo} was not logged {count} times:\n{}",
        dev.output()
    );
}

#[test]
fn course_walkthrough() {
    let state = temp_dir("walkthrough");
    let mut dev = DevServer::start(Path::new(BIN), &state, &["--seed", "11"]);

    // The first GET /articles at SYD misses KV (and fills it from Supabase); the second hits.
    let first = get(&dev, "SYD", "/articles");
    let titles: Vec<String> = first
        .json()
        .as_array()
        .expect("an array of rows")
        .iter()
        .map(|r| r["title"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(titles.contains(&"second blog".to_string()), "{titles:?}");
    get(&dev, "SYD", "/articles");
    assert_eq!(
        wait_logged(&dev, "SYD", "GET", "/articles", 2),
        [(0, 1), (1, 0)]
    );

    // FRA reads row 2 before the change and caches it.
    assert_eq!(title_of(&get(&dev, "FRA", "/articles/2")), "second blog");

    // KV allows one write per second per key, and the misses above wrote `/articles` and
    // `/articles/2`: let two seconds pass (well inside the 60 s cacheTtl), as they would
    // between a reader's curl commands.
    dev.advance(2);

    // PATCH the title in Supabase; its Database Webhook reaches the Worker's POST /revalidate.
    let patched = dev.supabase_patch(
        "/rest/v1/articles?id=eq.2",
        r#"{"title":"cool second blog"}"#,
    );
    assert!(
        patched.status < 300,
        "PATCH: {} {}",
        patched.status,
        patched.body
    );
    wait_logged(&dev, "SYD", "POST", "/revalidate", 1);
    // The Worker answers the webhook at once and writes KV in waitUntil; wait for that work.
    assert!(
        dev.wait_for_output(
            "waitUntil completed colo=SYD method=POST path=/revalidate",
            Duration::from_secs(20)
        ),
        "{}",
        dev.output()
    );

    // Fresh at the colo that took the webhook; stale where it was cached before.
    assert_eq!(
        title_of(&get(&dev, "SYD", "/articles/2")),
        "cool second blog"
    );
    assert_eq!(title_of(&get(&dev, "FRA", "/articles/2")), "second blog");

    // The KV introspection endpoint shows SYD's fresh entry next to FRA's stale one (central
    // gets the write after its propagation delay).
    let view = request(
        dev.port,
        "GET",
        "/__edgesim/kv/ARTICLES//articles/2",
        &[],
        None,
    )
    .unwrap();
    assert_eq!(view.status, 200, "{}", view.body);
    let view = view.json();
    let cached = |colo: &str| {
        view["colos"][colo]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(cached("SYD").contains("cool second blog"), "{view:#}");
    assert!(cached("FRA").contains("\"second blog\""), "{view:#}");

    // Past the cacheTtl every colo serves the new title, for the row and for the list.
    dev.advance(120);
    for colo in ["SYD", "FRA", "IAD", "NRT", "GRU"] {
        assert_eq!(
            title_of(&get(&dev, colo, "/articles/2")),
            "cool second blog",
            "at {colo}"
        );
        let list = get(&dev, colo, "/articles").body;
        assert!(
            list.contains("cool second blog"),
            "/articles at {colo}: {list}"
        );
    }

    // An unknown colo is a clear 400, not a crash; the server keeps serving.
    let bad = request(
        dev.port,
        "GET",
        "/articles",
        &[("x-edgesim-colo", "XYZ")],
        None,
    )
    .unwrap();
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("XYZ"), "{}", bad.body);
    get(&dev, "SYD", "/articles");
}

#[test]
fn a_restart_reuses_the_compiled_worker_and_keeps_kv() {
    let state = temp_dir("restart");
    let mut dev = DevServer::start(Path::new(BIN), &state, &[]);
    get(&dev, "IAD", "/articles");
    dev.stop();
    let first = dev.output();
    assert!(
        first.contains("compiled the Worker") || first.contains("loaded the compiled Worker"),
        "{first}"
    );

    let mut dev = DevServer::start(Path::new(BIN), &state, &[]);
    assert!(
        dev.wait_for_output(
            "loaded the compiled Worker from cache",
            Duration::from_secs(10)
        ),
        "{}",
        dev.output()
    );
    // KV survived the restart: the write is at central, or still on its way there.
    let view = request(
        dev.port,
        "GET",
        "/__edgesim/kv/ARTICLES//articles",
        &[],
        None,
    )
    .unwrap();
    let view = view.json();
    let stored = format!("{} {}", view["central"]["value"], view["pending"]);
    assert!(stored.contains("second blog"), "{view:#}");
    drop(dev);

    // `--reset` starts from empty KV.
    let dev = DevServer::start(Path::new(BIN), &state, &["--reset"]);
    let view = request(
        dev.port,
        "GET",
        "/__edgesim/kv/ARTICLES//articles",
        &[],
        None,
    )
    .unwrap();
    let view = view.json();
    assert!(view["central"].is_null(), "{view:#}");
    assert!(
        view["pending"].as_array().is_some_and(|p| p.is_empty()),
        "{view:#}"
    );
}

#[test]
fn unknown_config_keys_are_rejected_with_file_line_and_key() {
    let dir = temp_dir("badconfig");
    let path = dir.join("edgesim.toml");
    std::fs::write(
        &path,
        "name = \"demo\"\n\n[limits]\nprofile = \"free\"\ncpu_msec = 5\n",
    )
    .unwrap();
    let out = std::process::Command::new(BIN)
        .args(["dev", "--port", "0", "--supabase-port", "0", "--config"])
        .arg(&path)
        .arg("--persist-to")
        .arg(dir.join("state"))
        .output()
        .expect("edgesim runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("line 5"), "{err}");
    assert!(err.contains("cpu_msec"), "{err}");
}
