//! The course routes on the host target, with an in-memory KV and a fake Supabase.

use crate::router;
use edgesim_worker::supabase::SINGLE_OBJECT;
use edgesim_worker::testing::{MemoryKv, TestEnv, block_on, dispatch};
use edgesim_worker::{Env, Request, Response, WaitUntilQueue};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::rc::Rc;

/// A fake PostgREST for `articles`: `select=*` and `select=*&id=eq.<id>` (single object).
#[derive(Default)]
struct FakeSupabase {
    rows: RefCell<Vec<Value>>,
    requests: RefCell<Vec<Request>>,
}

impl FakeSupabase {
    fn answer(&self, req: Request) -> edgesim_worker::Result<Response> {
        self.requests.borrow_mut().push(req.clone());
        let rows = self.rows.borrow();
        match req.query_param("id") {
            None => Response::json(&*rows),
            Some(filter) => {
                let id = filter.trim_start_matches("eq.");
                let found: Vec<&Value> = rows.iter().filter(|r| id_text(r) == id).collect();
                assert_eq!(req.header("accept"), Some(SINGLE_OBJECT));
                match found.as_slice() {
                    [one] => Response::json(one),
                    _ => Response::error(
                        r#"{"code":"PGRST116","message":"JSON object requested, multiple (or no) rows returned"}"#,
                        406,
                    ),
                }
            }
        }
    }
}

struct World {
    kv: Rc<MemoryKv>,
    supabase: Rc<FakeSupabase>,
    env: Env,
}

fn world() -> World {
    let kv = MemoryKv::new();
    let supabase = Rc::new(FakeSupabase::default());
    *supabase.rows.borrow_mut() = vec![
        json!({"id": 1, "title": "first blog", "content": "a", "created_at": "2024-01-01T00:00:00Z"}),
        json!({"id": 2, "title": "second blog", "content": "b", "created_at": "2024-01-02T00:00:00Z"}),
    ];
    let s = supabase.clone();
    let env = TestEnv::new()
        .var("SUPABASE_URL", "http://127.0.0.1:54321")
        .var("SUPABASE_ANON_KEY", "anon-key")
        .kv("ARTICLES", kv.clone())
        .fetch_with(move |req| s.answer(req))
        .build();
    World { kv, supabase, env }
}

fn call(w: &World, req: Request) -> (Response, WaitUntilQueue) {
    dispatch(&router(), &w.env, req)
}

fn get(w: &World, path: &str) -> Response {
    call(w, Request::get(format!("http://worker{path}"))).0
}

#[test]
fn articles_miss_then_hit_with_the_anon_key() {
    let w = world();
    let first = get(&w, "/articles");
    assert_eq!(first.header("x-kv"), Some("miss"));
    assert_eq!(
        first.header("content-type"),
        Some(edgesim_worker::JSON_CONTENT_TYPE)
    );
    let rows: Value = first.json_body().unwrap();
    assert_eq!(rows[1]["title"], "second blog");
    let sent = w.supabase.requests.borrow()[0].clone();
    assert_eq!(
        sent.url(),
        "http://127.0.0.1:54321/rest/v1/articles?select=*"
    );
    assert_eq!(sent.header("apikey"), Some("anon-key"));
    assert_eq!(sent.header("authorization"), Some("Bearer anon-key"));
    // Key order of the rows is kept (JSON.stringify of the parsed rows).
    assert!(
        w.kv.text("/articles")
            .unwrap()
            .starts_with(r#"[{"id":1,"title":"first blog""#)
    );

    let second = get(&w, "/articles");
    assert_eq!(second.header("x-kv"), Some("hit"));
    assert_eq!(second.body(), first.body());
    assert_eq!(w.supabase.requests.borrow().len(), 1);
}

#[test]
fn one_article_is_fetched_as_a_single_object_and_cached() {
    let w = world();
    let first = get(&w, "/articles/2");
    assert_eq!(first.header("x-kv"), Some("miss"));
    assert_eq!(first.json_body::<Value>().unwrap()["title"], "second blog");
    let sent = w.supabase.requests.borrow()[0].clone();
    assert_eq!(
        sent.url(),
        "http://127.0.0.1:54321/rest/v1/articles?select=*&id=eq.2"
    );
    assert_eq!(w.kv.text("/articles/2").unwrap(), first.text().unwrap());
    assert_eq!(get(&w, "/articles/2").header("x-kv"), Some("hit"));
}

#[test]
fn a_missing_row_is_null_written_and_refetched_every_time() {
    let w = world();
    for _ in 0..2 {
        let resp = get(&w, "/articles/99");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.text().unwrap(), "null");
        assert_eq!(resp.header("x-kv"), Some("miss"));
    }
    assert_eq!(w.kv.text("/articles/99").as_deref(), Some("null"));
    assert_eq!(w.supabase.requests.borrow().len(), 2);
}

#[test]
fn supabase_unreachable_gives_null_like_supabase_js() {
    let kv = MemoryKv::new();
    let env = TestEnv::new()
        .var("SUPABASE_URL", "http://127.0.0.1:54321")
        .var("SUPABASE_ANON_KEY", "k")
        .kv("ARTICLES", kv.clone())
        .build();
    let (resp, _q) = dispatch(&router(), &env, Request::get("http://w/articles"));
    assert_eq!(resp.text().unwrap(), "null");
    assert_eq!(kv.text("/articles").as_deref(), Some("null"));
}

fn webhook(w: &World, payload: Value) -> (Response, WaitUntilQueue) {
    let req = Request::post("http://worker/revalidate")
        .with_json(&payload)
        .unwrap();
    call(w, req)
}

#[test]
fn webhook_update_trusts_the_payload_and_refreshes_the_list_in_wait_until() {
    let w = world();
    w.supabase.rows.borrow_mut()[1]["title"] = json!("cool second blog");
    let record = json!({"id": 2, "title": "stale title from an old webhook"});
    let (resp, queue) = webhook(
        &w,
        json!({"type": "UPDATE", "table": "articles", "schema": "public", "record": record, "old_record": {"id": 2}}),
    );
    assert_eq!(resp.text().unwrap(), r#"{"received":true}"#);
    assert!(w.kv.log().is_empty(), "nothing happens before the response");
    assert_eq!(queue.len(), 1);
    block_on(queue.run_all());
    assert_eq!(
        w.kv.text("/articles/2").unwrap(),
        r#"{"id":2,"title":"stale title from an old webhook"}"#
    );
    let list: Value = serde_json::from_str(&w.kv.text("/articles").unwrap()).unwrap();
    assert_eq!(list[1]["title"], "cool second blog");
    assert_eq!(w.kv.log(), vec!["put /articles/2", "put /articles"]);
}

#[test]
fn webhook_delete_removes_the_old_key() {
    let w = world();
    w.kv.seed("/articles/1", r#"{"id":1}"#);
    let (_, queue) = webhook(
        &w,
        json!({"type": "DELETE", "table": "articles", "record": null, "old_record": {"id": 1}}),
    );
    block_on(queue.run_all());
    assert_eq!(w.kv.text("/articles/1"), None);
    assert_eq!(w.kv.log(), vec!["delete /articles/1", "put /articles"]);
}

#[test]
fn a_bad_webhook_still_gets_received_and_writes_nothing() {
    let w = world();
    let (resp, queue) = call(
        &w,
        Request::post("http://worker/revalidate").with_body("not json"),
    );
    assert_eq!(resp.text().unwrap(), r#"{"received":true}"#);
    block_on(queue.run_all());
    let (_, queue) = webhook(&w, json!({"type": "INSERT", "table": "articles"}));
    block_on(queue.run_all());
    assert!(w.kv.log().is_empty());
}

#[test]
fn a_failed_put_in_wait_until_skips_the_list_refresh() {
    let w = world();
    w.kv.fail_next(
        "put",
        edgesim_worker::KvError::TooManyRequests("KV PUT failed: 429 Too Many Requests".into()),
    );
    let (_, queue) = webhook(
        &w,
        json!({"type": "INSERT", "record": {"id": 3, "title": "new"}}),
    );
    block_on(queue.run_all());
    assert_eq!(w.kv.text("/articles/3"), None);
    assert_eq!(w.kv.text("/articles"), None);
}

#[test]
fn get_revalidate_debug_routes_hello_and_404() {
    let w = world();
    assert_eq!(
        get(&w, "/revalidate").text().unwrap(),
        r#"{"received":true}"#
    );
    assert!(w.kv.text("/articles").unwrap().contains("second blog"));
    let written = get(&w, "/write-kv");
    assert_eq!(
        written.json_body::<Value>().unwrap()[0]["title"],
        "first blog"
    );
    assert_eq!(get(&w, "/read-kv").body(), written.body());
    assert_eq!(get(&w, "/hello").text().unwrap(), "ok");
    let missing = get(&w, "/nope");
    assert_eq!(
        (missing.status(), missing.text().unwrap()),
        (404, "Not found".into())
    );
    let (wrong_method, _) = call(&w, Request::post("http://worker/articles"));
    assert_eq!(wrong_method.status(), 404);
}

/// The `id` column as PostgREST filters compare it.
fn id_text(row: &Value) -> String {
    row["id"].to_string()
}
