//! The hardened routes on the host target, with an in-memory KV and a scripted Supabase.

use crate::{BACKOFF_MS, EXPIRATION_TTL, SUPABASE_RETRY_MS, router};
use edgesim_worker::testing::{MemoryKv, TestEnv, block_on, dispatch};
use edgesim_worker::{Env, KvError, Request, Response, WaitUntilQueue};
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// A fake PostgREST for `articles` whose rows can change after a given number of requests
/// (to script races) and which can be made to fail.
#[derive(Default)]
struct FakeSupabase {
    rows: RefCell<Vec<Value>>,
    requests: Cell<usize>,
    change_after: RefCell<Option<(usize, Vec<Value>)>>,
    down: Cell<bool>,
    /// Fail this many more requests with 503, then answer normally.
    fail_first: Cell<usize>,
}

impl FakeSupabase {
    fn answer(&self, req: Request) -> edgesim_worker::Result<Response> {
        self.requests.set(self.requests.get() + 1);
        if self.down.get() {
            return Response::error("upstream down", 503);
        }
        if self.fail_first.get() > 0 {
            self.fail_first.set(self.fail_first.get() - 1);
            return Response::error("upstream blip", 503);
        }
        let resp = {
            let rows = self.rows.borrow();
            match req.query_param("id") {
                None => Response::json(&*rows)?,
                Some(filter) => {
                    let id = filter.trim_start_matches("eq.").to_owned();
                    match rows.iter().find(|r| id_text(r) == id) {
                        Some(row) => Response::json(row)?,
                        None => Response::error(r#"{"code":"PGRST116"}"#, 406)?,
                    }
                }
            }
        };
        let mut change = self.change_after.borrow_mut();
        if change
            .as_ref()
            .is_some_and(|(n, _)| self.requests.get() >= *n)
        {
            *self.rows.borrow_mut() = change.take().unwrap().1;
        }
        Ok(resp)
    }
}

struct World {
    kv: Rc<MemoryKv>,
    supabase: Rc<FakeSupabase>,
    sleeps: Rc<RefCell<Vec<u64>>>,
    env: Env,
}

fn row(id: u32, title: &str) -> Value {
    json!({"id": id, "title": title, "content": "c", "created_at": "2024-01-01T00:00:00Z"})
}

fn world() -> World {
    let kv = MemoryKv::new();
    let supabase = Rc::new(FakeSupabase::default());
    *supabase.rows.borrow_mut() = vec![row(1, "first blog"), row(2, "second blog")];
    let s = supabase.clone();
    let test_env = TestEnv::new()
        .var("SUPABASE_URL", "http://127.0.0.1:54321")
        .var("SUPABASE_ANON_KEY", "anon-key")
        .kv("ARTICLES", kv.clone())
        .fetch_with(move |req| s.answer(req));
    let sleeps = test_env.sleeps();
    World {
        kv,
        supabase,
        sleeps,
        env: test_env.build(),
    }
}

fn call(w: &World, req: Request) -> (Response, WaitUntilQueue) {
    dispatch(&router(), &w.env, req)
}

fn get(w: &World, path: &str) -> Response {
    call(w, Request::get(format!("http://worker{path}"))).0
}

fn deliver(w: &World, payload: Value) {
    let req = Request::post("http://worker/revalidate")
        .with_json(&payload)
        .unwrap();
    let (resp, queue) = call(w, req);
    assert_eq!(resp.text().unwrap(), r#"{"received":true}"#);
    block_on(queue.run_all());
}

fn stored(w: &World, key: &str) -> Option<Value> {
    w.kv.text(key).map(|t| serde_json::from_str(&t).unwrap())
}

#[test]
fn reads_use_cache_ttl_and_writes_carry_the_expiry_safety_net() {
    let w = world();
    let first = get(&w, "/articles/2");
    assert_eq!(first.header("x-kv"), Some("miss"));
    assert_eq!(first.json_body::<Value>().unwrap(), row(2, "second blog"));
    assert_eq!(w.kv.log()[0], "get /articles/2 cacheTtl=30");
    let entry = w.kv.entry("/articles/2").unwrap();
    assert_eq!(entry.options.expiration_ttl, Some(EXPIRATION_TTL));
    assert_eq!(get(&w, "/articles/2").header("x-kv"), Some("hit"));
    assert_eq!(get(&w, "/articles").header("x-kv"), Some("miss"));
    assert_eq!(get(&w, "/articles").header("x-kv"), Some("hit"));
}

#[test]
fn a_stale_payload_is_ignored_in_favour_of_the_current_row() {
    let w = world();
    w.supabase.rows.borrow_mut()[1] = row(2, "cool second blog");
    // The older UPDATE's webhook arrives last: its record must not win.
    deliver(
        &w,
        json!({"type": "UPDATE", "record": row(2, "cool second blog"), "old_record": row(2, "second blog")}),
    );
    deliver(
        &w,
        json!({"type": "UPDATE", "record": row(2, "second blog"), "old_record": row(2, "x")}),
    );
    assert_eq!(stored(&w, "/articles/2"), Some(row(2, "cool second blog")));
    assert_eq!(
        stored(&w, "/articles").unwrap()[1]["title"],
        "cool second blog"
    );
    assert!(w.sleeps.borrow().is_empty());
}

#[test]
fn a_deleted_row_deletes_the_key_even_if_the_payload_says_insert() {
    let w = world();
    w.kv.seed("/articles/1", &row(1, "first blog").to_string());
    w.supabase.rows.borrow_mut().remove(0);
    deliver(
        &w,
        json!({"type": "INSERT", "record": row(1, "first blog")}),
    );
    assert_eq!(stored(&w, "/articles/1"), None);
    assert_eq!(
        stored(&w, "/articles").unwrap().as_array().unwrap().len(),
        1
    );
}

#[test]
fn kv_429s_are_retried_with_backoff_on_the_worker_clock() {
    let w = world();
    for _ in 0..2 {
        w.kv.fail_next(
            "put",
            KvError::TooManyRequests("KV PUT failed: 429 Too Many Requests".into()),
        );
    }
    w.supabase.rows.borrow_mut()[1] = row(2, "cool second blog");
    deliver(
        &w,
        json!({"type": "UPDATE", "record": row(2, "cool second blog")}),
    );
    assert_eq!(*w.sleeps.borrow(), vec![BACKOFF_MS[0], BACKOFF_MS[1]]);
    assert_eq!(stored(&w, "/articles/2"), Some(row(2, "cool second blog")));
    assert_eq!(
        stored(&w, "/articles").unwrap()[1]["title"],
        "cool second blog"
    );
}

#[test]
fn retries_give_up_after_the_backoff_schedule_and_the_list_still_syncs() {
    let w = world();
    for _ in 0..=BACKOFF_MS.len() {
        w.kv.fail_next(
            "put",
            KvError::TooManyRequests("KV PUT failed: 429 Too Many Requests".into()),
        );
    }
    deliver(
        &w,
        json!({"type": "UPDATE", "record": row(2, "second blog")}),
    );
    assert_eq!(*w.sleeps.borrow(), BACKOFF_MS.to_vec());
    assert_eq!(stored(&w, "/articles/2"), None);
    assert!(stored(&w, "/articles").is_some());
    let total: u64 = BACKOFF_MS.iter().sum();
    assert!(total < 30_000, "retries must fit in the waitUntil budget");
}

#[test]
fn invalid_kv_errors_are_not_retried() {
    let w = world();
    w.kv.fail_next(
        "put",
        KvError::Invalid("KV PUT failed: 400 Bad Request".into()),
    );
    deliver(
        &w,
        json!({"type": "UPDATE", "record": row(2, "second blog")}),
    );
    assert!(w.sleeps.borrow().is_empty());
    assert_eq!(stored(&w, "/articles/2"), None);
}

#[test]
fn a_change_during_the_write_is_caught_by_verification() {
    let w = world();
    // Supabase changes right after the first fetch of the row (a racing update).
    *w.supabase.change_after.borrow_mut() =
        Some((1, vec![row(1, "first blog"), row(2, "raced title")]));
    deliver(
        &w,
        json!({"type": "UPDATE", "record": row(2, "second blog")}),
    );
    assert_eq!(stored(&w, "/articles/2"), Some(row(2, "raced title")));
    let puts: Vec<_> =
        w.kv.log()
            .into_iter()
            .filter(|l| l == "put /articles/2")
            .collect();
    assert_eq!(puts.len(), 2);
}

#[test]
fn a_bad_payload_still_refreshes_the_list() {
    let w = world();
    let (resp, queue) = call(
        &w,
        Request::post("http://worker/revalidate").with_body("nope"),
    );
    assert_eq!(resp.text().unwrap(), r#"{"received":true}"#);
    block_on(queue.run_all());
    assert!(stored(&w, "/articles").is_some());
}

#[test]
fn missing_rows_and_supabase_failures_are_not_cached() {
    let w = world();
    let missing = get(&w, "/articles/99");
    assert_eq!(
        (missing.status(), missing.text().unwrap()),
        (200, "null".to_owned())
    );
    assert_eq!(w.kv.text("/articles/99"), None);
    w.supabase.down.set(true);
    let down = get(&w, "/articles");
    assert_eq!(down.status(), 502);
    assert!(down.text().unwrap().contains("upstream down"));
    assert_eq!(w.kv.text("/articles"), None);
}

#[test]
fn a_failed_write_on_the_read_path_still_serves_the_data() {
    let w = world();
    w.kv.fail_next(
        "put",
        KvError::Invalid("KV PUT failed: 400 Bad Request".into()),
    );
    let resp = get(&w, "/articles/1");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json_body::<Value>().unwrap(), row(1, "first blog"));
}

#[test]
fn same_routes_as_the_course_worker() {
    let w = world();
    assert_eq!(
        get(&w, "/revalidate").text().unwrap(),
        r#"{"received":true}"#
    );
    assert_eq!(get(&w, "/hello").text().unwrap(), "ok");
    assert_eq!(get(&w, "/write-kv").body(), get(&w, "/read-kv").body());
    assert_eq!(get(&w, "/nope").status(), 404);
}

/// The `id` column as PostgREST filters compare it.
fn id_text(row: &Value) -> String {
    row["id"].to_string()
}

#[test]
fn a_supabase_failure_in_a_webhook_is_retried_then_the_key_is_dropped() {
    let w = world();
    w.kv.seed("/articles/2", &row(2, "second blog").to_string());
    w.supabase.down.set(true);
    deliver(
        &w,
        json!({"type": "UPDATE", "record": row(2, "cool second blog")}),
    );
    assert_eq!(w.kv.text("/articles/2"), None, "no guess is left behind");
    assert_eq!(
        *w.sleeps.borrow(),
        [SUPABASE_RETRY_MS, SUPABASE_RETRY_MS].concat(),
        "the row, then the list"
    );
}

#[test]
fn a_supabase_blip_in_a_webhook_is_ridden_out() {
    let w = world();
    w.supabase.rows.borrow_mut()[1] = row(2, "new");
    w.supabase.fail_first.set(1);
    deliver(&w, json!({"type": "UPDATE", "record": row(2, "new")}));
    assert_eq!(stored(&w, "/articles/2"), Some(row(2, "new")));
    assert_eq!(*w.sleeps.borrow(), vec![SUPABASE_RETRY_MS[0]]);
}
