//! Randomness and time inside SQL: `gen_random_uuid()` never repeats across restarts of a kept
//! database and follows the seed in simulation; SQLite's `random()`, `randomblob()` and date
//! built-ins read the seed and the injected clock; a failed multi-statement `execute` leaves
//! the schema cache agreeing with the rolled-back database.

mod common;

use edgesim_core::{ManualClock, SharedClock, SimRng};
use edgesim_supabase::db::Db;
use edgesim_supabase::migrate::Project;
use edgesim_supabase::{NoopDispatcher, Supabase};
use std::sync::Arc;

fn clock() -> SharedClock {
    Arc::new(ManualClock::new())
}

fn get(sb: &Supabase, uri: &str) -> (u16, String) {
    let req = http::Request::builder()
        .uri(uri)
        .header("apikey", edgesim_supabase::SERVICE_ROLE_KEY)
        .body(bytes::Bytes::new())
        .unwrap();
    let r = sb.handle(req);
    (
        r.status().as_u16(),
        String::from_utf8_lossy(r.body()).into_owned(),
    )
}

const UUID_TABLE: &str =
    "create table items (id uuid primary key default gen_random_uuid(), n int4);";

#[test]
fn a_kept_database_never_repeats_uuids_across_restarts() {
    let dir = common::project(&[("supabase/migrations/1_init.sql", UUID_TABLE)]);
    let db = dir.join("local.db");
    for round in 0..3 {
        let sb = Supabase::open(&dir, Some(&db), clock(), Arc::new(NoopDispatcher)).unwrap();
        for i in 0..5 {
            sb.execute(&format!(
                "insert into items (n) values ({})",
                round * 10 + i
            ))
            .unwrap_or_else(|e| panic!("round {round}: insert {i} after a restart: {e}"));
        }
    }
    let (status, body) = get(
        &Supabase::open(&dir, Some(&db), clock(), Arc::new(NoopDispatcher)).unwrap(),
        "/rest/v1/items?select=id",
    );
    assert_eq!(status, 200);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(rows.len(), 15);
}

/// The `id`s a fresh in-memory project generates for three inserts with `seed`.
fn uuids_with_seed(seed: u64) -> String {
    let project = Project {
        migrations: vec![(
            "1".into(),
            edgesim_supabase::migrate::Source {
                path: "1_init.sql".into(),
                text: UUID_TABLE.into(),
            },
        )],
        ..Project::default()
    };
    let sb = Supabase::from_project_with_rng(
        &project,
        None,
        clock(),
        SimRng::from_seed(seed),
        Arc::new(NoopDispatcher),
    )
    .unwrap();
    sb.execute("insert into items (n) values (1), (2), (3)")
        .unwrap();
    get(&sb, "/rest/v1/items?select=id&order=n").1
}

#[test]
fn simulated_uuids_follow_the_seed() {
    assert_eq!(uuids_with_seed(7), uuids_with_seed(7));
    assert_ne!(uuids_with_seed(7), uuids_with_seed(8));
}

fn db_at(ms: u64, seed: u64) -> Db {
    Db::open(
        None,
        Arc::new(ManualClock::at_epoch_ms(ms)),
        SimRng::from_seed(seed),
    )
    .unwrap()
}

fn one(db: &Db, sql: &str) -> String {
    db.query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0))
        .map(|v| format!("{v:?}"))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn sqlite_random_builtins_follow_the_seed() {
    let q = "select random() || '/' || hex(randomblob(20)) || '/' || length(randomblob(0))";
    let (a, b, c) = (db_at(0, 1), db_at(0, 1), db_at(0, 2));
    let first = one(&a, q);
    assert_eq!(first, one(&b, q), "the same seed gives the same draws");
    assert_ne!(first, one(&c, q), "another seed gives other draws");
    assert_ne!(one(&a, q), first, "the stream advances");
    assert!(
        first.ends_with("/1\")"),
        "randomblob(0) is one byte: {first}"
    );
}

#[test]
fn sqlite_date_builtins_read_the_injected_clock() {
    // 2001-09-09T01:46:40.123Z
    let db = db_at(1_000_000_000_123, 0);
    let cases = [
        ("select datetime('now')", "Text(\"2001-09-09 01:46:40\")"),
        ("select datetime()", "Text(\"2001-09-09 01:46:40\")"),
        ("select date('NOW', '+1 day')", "Text(\"2001-09-10\")"),
        ("select time('now')", "Text(\"01:46:40\")"),
        ("select unixepoch('now')", "Integer(1000000000)"),
        ("select unixepoch()", "Integer(1000000000)"),
        ("select strftime('%Y %f', 'now')", "Text(\"2001 40.123\")"),
        ("select strftime('%s')", "Text(\"1000000000\")"),
        ("select julianday('now') > 2452161.5", "Integer(1)"),
        ("select current_timestamp", "Text(\"2001-09-09 01:46:40\")"),
        ("select current_date", "Text(\"2001-09-09\")"),
        ("select current_time", "Text(\"01:46:40\")"),
        (
            "select datetime('2020-01-01', '+1 month')",
            "Text(\"2020-02-01 00:00:00\")",
        ),
        ("select date(0, 'unixepoch')", "Text(\"1970-01-01\")"),
        (
            "select timediff('now', '2001-09-08 01:46:40')",
            "Text(\"+0000-00-01 00:00:00.123\")",
        ),
    ];
    for (sql, want) in cases {
        assert_eq!(one(&db, sql), want, "{sql}");
    }
    // A column default of CURRENT_TIMESTAMP reads the clock too.
    db.execute_batch(
        "create table t (id integer primary key, at text default current_timestamp);
             insert into t (id) values (1);",
    )
    .unwrap();
    assert_eq!(
        one(&db, "select at from t"),
        "Text(\"2001-09-09 01:46:40\")"
    );
}

#[test]
fn a_failed_execute_rolls_the_schema_cache_back_with_the_database() {
    let sb = Supabase::from_project(&Project::default(), None, clock(), Arc::new(NoopDispatcher))
        .unwrap();
    sb.execute("create table kept (id int8 primary key);")
        .unwrap();
    let unknown = get(&sb, "/rest/v1/nosuch");
    assert_eq!(unknown.0, 404, "{unknown:?}");

    // DDL, then a failing statement: the whole batch rolls back.
    let err = sb.execute(
        "create table fresh (id int8 primary key);
         alter table kept add column extra text;
         insert into missing_table values (1);",
    );
    assert!(err.is_err());
    assert_eq!(
        get(&sb, "/rest/v1/fresh").0,
        404,
        "the rolled-back table is gone"
    );
    let (status, body) = get(&sb, "/rest/v1/kept?select=extra");
    assert_eq!(status, 400, "the rolled-back column is gone: {body}");
    assert!(body.contains("42703"), "{body}");

    // Dropping a table and failing keeps the table exposed.
    assert!(
        sb.execute("drop table kept; insert into missing_table values (1);")
            .is_err()
    );
    assert_eq!(get(&sb, "/rest/v1/kept").0, 200);
    // And the same DDL succeeds afterwards.
    sb.execute("create table fresh (id int8 primary key);")
        .unwrap();
    assert_eq!(get(&sb, "/rest/v1/fresh"), (200, "[]".into()));
}
