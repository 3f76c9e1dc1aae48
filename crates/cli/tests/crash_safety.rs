//! Crash safety and graceful shutdown of `edgesim supabase --db` and `edgesim dev --persist-to`.
//!
//! A writer drives acknowledged writes (REST inserts and updates; KV puts through the Worker's
//! `GET /revalidate`), the process is killed with SIGKILL at a seeded random moment, restarted on
//! the same files, and every acknowledged write must be there, nothing torn, and the server
//! serving. Then SIGTERM must let a request in flight finish, checkpoint SQLite and exit 0.
//! Seeds: `EDGESIM_CRASH_SEEDS=1,2,3` (default), each a kill point.

use edgesim_core::SimRng;
use edgesim_supabase::SERVICE_ROLE_KEY;
use edgesim_tests::{DevServer, SupabaseServer, request, temp_dir};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");

fn seeds() -> Vec<u64> {
    std::env::var("EDGESIM_CRASH_SEEDS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .filter(|v: &Vec<u64>| !v.is_empty())
        .unwrap_or_else(|| vec![1, 2, 3])
}

/// Milliseconds to let the writer run before the kill, drawn from `seed`.
fn kill_after(seed: u64, what: &str) -> Duration {
    let mut rng = SimRng::from_seed(seed).fork(what);
    Duration::from_millis(150 + rng.next_u64() % 600)
}

fn auth() -> Vec<(&'static str, String)> {
    vec![
        ("apikey", SERVICE_ROLE_KEY.to_string()),
        ("authorization", format!("Bearer {SERVICE_ROLE_KEY}")),
        ("content-type", "application/json".to_string()),
    ]
}

fn rest(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<edgesim_tests::Reply> {
    let h = auth();
    let headers: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    request(port, method, path, &headers, body)
}

/// `edgesim supabase --dir <project> --db <file>`.
fn supa(project: &Path, db: &Path) -> SupabaseServer {
    let db = db.to_str().expect("a UTF-8 temp path");
    SupabaseServer::start(Path::new(BIN), project, &["--db", db])
}

const MIGRATION: &str = "create table items (
  id uuid primary key default gen_random_uuid(),
  n int8 not null unique,
  v int8,
  note text
);";

/// The rows of `items`: `n -> v`, checking nothing is torn (each row's note matches its n).
/// Read a page at a time: the API returns at most `max_rows` (1000) rows per request.
fn rows(port: u16) -> std::collections::BTreeMap<i64, Option<i64>> {
    let mut out = std::collections::BTreeMap::new();
    loop {
        let path = format!(
            "/rest/v1/items?select=n,v,note&order=n&limit=500&offset={}",
            out.len()
        );
        let r = rest(port, "GET", &path, None).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.json();
        let page = page.as_array().unwrap();
        for row in page {
            let n = row["n"].as_i64().unwrap();
            assert_eq!(
                row["note"],
                format!("row {n} {}", "x".repeat(200)),
                "torn row {row}"
            );
            out.insert(n, row["v"].as_i64());
        }
        if page.len() < 500 {
            return out;
        }
    }
}

#[test]
fn supabase_db_keeps_every_acknowledged_write_across_kill_9_and_stops_cleanly() {
    let dir = temp_dir("crash-supabase");
    let mig = dir.join("supabase/migrations");
    std::fs::create_dir_all(&mig).unwrap();
    std::fs::write(mig.join("1_items.sql"), MIGRATION).unwrap();
    let db = dir.join("local.db");
    // n of the next insert; inserts acknowledged so far: 0..acked_n; updates acknowledged: v = n.
    let mut next = 0i64;
    let mut acked_updates = std::collections::BTreeSet::new();
    for seed in seeds() {
        let mut srv = supa(&dir, &db);
        let port = srv.port;
        let stop = Arc::new(AtomicBool::new(false));
        let acked_insert = Arc::new(AtomicI64::new(next - 1));
        let writer = {
            let (stop, acked_insert) = (stop.clone(), acked_insert.clone());
            std::thread::spawn(move || {
                let mut updates = Vec::new();
                let mut n = next;
                while !stop.load(Ordering::Relaxed) {
                    let body = format!(r#"{{"n":{n},"note":"row {n} {}"}}"#, "x".repeat(200));
                    match rest(port, "POST", "/rest/v1/items", Some(&body)) {
                        Ok(r) if r.status == 201 => acked_insert.store(n, Ordering::SeqCst),
                        Ok(r) => panic!("insert {n}: {} {}", r.status, r.body),
                        Err(_) => break,
                    }
                    if n % 2 == 0 {
                        let patch = format!(r#"{{"v":{n}}}"#);
                        match rest(
                            port,
                            "PATCH",
                            &format!("/rest/v1/items?n=eq.{n}"),
                            Some(&patch),
                        ) {
                            Ok(r) if r.status == 204 => updates.push(n),
                            Ok(r) => panic!("update {n}: {} {}", r.status, r.body),
                            Err(_) => break,
                        }
                    }
                    n += 1;
                }
                (n, updates)
            })
        };
        std::thread::sleep(kill_after(seed, "supabase"));
        srv.process.child.kill().unwrap(); // SIGKILL
        srv.process.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        let (attempted_to, updates) = writer.join().unwrap();
        acked_updates.extend(updates);
        let acked = acked_insert.load(Ordering::SeqCst);
        assert!(
            acked >= next,
            "seed {seed}: no write was acknowledged before the kill"
        );

        let srv = supa(&dir, &db);
        let got = rows(srv.port);
        for n in 0..=acked {
            assert!(
                got.contains_key(&n),
                "seed {seed}: acknowledged insert {n} lost"
            );
        }
        for n in &acked_updates {
            assert_eq!(
                got[n],
                Some(*n),
                "seed {seed}: acknowledged update of {n} lost"
            );
        }
        for (n, v) in &got {
            assert!(
                *n < attempted_to + 1,
                "seed {seed}: a row never written: {n}"
            );
            assert!(
                v.is_none() || *v == Some(*n),
                "seed {seed}: torn update {n} = {v:?}"
            );
        }
        // Every row that exists counts from now on (an insert may commit unacknowledged).
        next = got.keys().max().map_or(0, |m| m + 1);
        // The restarted server serves writes (no UUID repeats after the restart).
        let body = format!(r#"{{"n":{next},"note":"row {next} {}"}}"#, "x".repeat(200));
        let r = rest(srv.port, "POST", "/rest/v1/items", Some(&body)).unwrap();
        assert_eq!(r.status, 201, "seed {seed}: {}", r.body);
        next += 1;
    }

    // Graceful: SIGTERM with a request in flight; it completes, exit 0, the WAL is checkpointed.
    let mut srv = supa(&dir, &db);
    let port = srv.port;
    let big: String = (0..300)
        .map(|i| {
            format!(
                r#"{{"n":{},"note":"row {} {}"}}"#,
                next + i,
                next + i,
                "x".repeat(200)
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    let in_flight =
        std::thread::spawn(move || rest(port, "POST", "/rest/v1/items", Some(&format!("[{big}]"))));
    std::thread::sleep(Duration::from_millis(5));
    let status = srv.process.terminate();
    let r = in_flight.join().unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    // The insert either completed (201) or had not reached the server (connection refused).
    let inserted = matches!(&r, Ok(r) if r.status == 201);
    if let Ok(r) = &r {
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let wal = dir.join("local.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "the WAL was not checkpointed"
    );
    let srv = supa(&dir, &db);
    let got = rows(srv.port);
    assert_eq!(got.contains_key(&(next + 299)), inserted);
}

/// The newest value of `/articles` the KV model holds (pending writes land after central's).
fn newest_articles(port: u16) -> serde_json::Value {
    let view = request(port, "GET", "/__edgesim/kv/ARTICLES//articles", &[], None)
        .unwrap()
        .json();
    let text = view["pending"]
        .as_array()
        .and_then(|p| p.last())
        .map(|p| p["value"].clone())
        .unwrap_or_else(|| view["central"]["value"].clone());
    let text = text
        .as_str()
        .unwrap_or_else(|| panic!("no /articles in KV: {view:#}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("torn KV value ({e}): {text}"))
}

fn title_of_1(articles: &serde_json::Value) -> i64 {
    articles
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == 1)
        .and_then(|a| a["title"].as_str())
        .and_then(|t| t.strip_prefix("t"))
        .and_then(|t| t.parse().ok())
        .unwrap_or(-1)
}

#[test]
fn dev_persist_to_keeps_acknowledged_db_and_kv_writes_across_kill_9_and_stops_cleanly() {
    let state = temp_dir("crash-dev");
    let mut last_db = -1i64;
    let mut last_kv = -1i64;
    let mut i = 0i64;
    for seed in seeds() {
        let mut dev = DevServer::start(Path::new(BIN), &state, &["--seed", &seed.to_string()]);
        let (port, sport) = (dev.port, dev.supabase_port);
        let stop = Arc::new(AtomicBool::new(false));
        let acked_db = Arc::new(AtomicI64::new(last_db));
        let acked_kv = Arc::new(AtomicI64::new(last_kv));
        let writer = {
            let (stop, acked_db, acked_kv) = (stop.clone(), acked_db.clone(), acked_kv.clone());
            std::thread::spawn(move || {
                let mut i = i;
                while !stop.load(Ordering::Relaxed) {
                    let body = format!(r#"{{"title":"t{i}"}}"#);
                    match rest(sport, "PATCH", "/rest/v1/articles?id=eq.1", Some(&body)) {
                        Ok(r) if r.status == 204 => acked_db.store(i, Ordering::SeqCst),
                        Ok(r) => panic!("PATCH {i}: {} {}", r.status, r.body),
                        Err(_) => break,
                    }
                    // KV allows one write per second per key (production's limit, on the
                    // emulator clock): move the clock past it.
                    match request(port, "POST", "/__edgesim/time/advance?seconds=2", &[], None) {
                        Ok(r) if r.status == 200 => {}
                        Ok(r) => panic!("advance {i}: {} {}", r.status, r.body),
                        Err(_) => break,
                    }
                    // The Worker reads every row and puts `/articles` before it answers. A 500
                    // is the same limit (the PATCH's webhook refresh put `/articles` after the
                    // advance): not acknowledged, so not counted.
                    match request(port, "GET", "/revalidate", &[], None) {
                        Ok(r) if r.status == 200 => acked_kv.store(i, Ordering::SeqCst),
                        Ok(r) if r.status == 500 => {}
                        Ok(r) => panic!("revalidate {i}: {} {}", r.status, r.body),
                        Err(_) => break,
                    }
                    i += 1;
                }
                i
            })
        };
        std::thread::sleep(kill_after(seed, "dev"));
        dev.stop(); // SIGKILL
        stop.store(true, Ordering::Relaxed);
        let attempted = writer.join().unwrap();
        last_db = acked_db.load(Ordering::SeqCst);
        last_kv = acked_kv.load(Ordering::SeqCst);

        let dev = DevServer::start(Path::new(BIN), &state, &["--seed", &seed.to_string()]);
        let r = rest(
            dev.supabase_port,
            "GET",
            "/rest/v1/articles?id=eq.1&select=title",
            None,
        )
        .unwrap();
        let title: i64 = r.json()[0]["title"]
            .as_str()
            .and_then(|t| t.strip_prefix('t'))
            .and_then(|t| t.parse().ok())
            .unwrap_or(-1);
        assert!(
            title >= last_db && title <= attempted,
            "seed {seed}: the database has t{title}; acknowledged t{last_db}, attempted up to t{attempted}"
        );
        // The newest KV value holds the last acknowledged put's rows, or (when the webhook's
        // waitUntil refresh of the previous update read the table just before and landed just
        // after it: last write wins) the previous update's.
        let kv = if last_kv < 0 {
            last_kv
        } else {
            title_of_1(&newest_articles(dev.port))
        };
        assert!(
            kv >= last_kv - 1 && kv <= attempted,
            "seed {seed}: KV has t{kv}; acknowledged t{last_kv}\n{}\n{}",
            request(
                dev.port,
                "GET",
                "/__edgesim/kv/ARTICLES//articles",
                &[],
                None
            )
            .unwrap()
            .body,
            dev.output()
        );
        let r = request(dev.port, "GET", "/articles", &[], None).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        i = attempted + 1;
    }

    // Graceful: SIGTERM lets a request in flight finish, checkpoints both databases, exits 0.
    let mut dev = DevServer::start(Path::new(BIN), &state, &[]);
    let port = dev.port;
    let in_flight = std::thread::spawn(move || request(port, "GET", "/revalidate", &[], None));
    std::thread::sleep(Duration::from_millis(5));
    let status = dev.terminate();
    assert!(
        status.success(),
        "exit status after SIGTERM: {status:?}\n{}",
        dev.output()
    );
    if let Ok(r) = in_flight.join().unwrap() {
        assert_eq!(r.status, 200, "{}", r.body);
    }
    for f in ["supabase.sqlite3-wal", "kv.sqlite3-wal"] {
        let p = state.join(f);
        assert!(
            !p.exists() || std::fs::metadata(&p).unwrap().len() == 0,
            "{f} was not checkpointed"
        );
    }
    assert!(dev.output().contains("stopped"), "{}", dev.output());
}
