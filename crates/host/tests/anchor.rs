//! The Miniflare anchor's Worker ported to Rust (`fixtures::ANCHOR`, what `just bench` serves):
//! the same routes, KV keys, bodies and headers as `anchors/miniflare/worker.mjs`.

mod common;

use edgesim_guests::fixtures::ANCHOR;

/// `JSON.stringify(seedArticles())`, built independently of the guest.
fn seed_articles() -> String {
    let list: Vec<serde_json::Value> = (1..=10)
        .map(|i| {
            serde_json::json!({
                "id": i,
                "title": format!("Article {i}"),
                "content": format!("This is the content of article {i}."),
                "created_at": "2024-01-01T00:00:00Z",
            })
        })
        .collect();
    serde_json::to_string(&list).unwrap()
}

#[tokio::test(start_paused = true)]
async fn articles_miss_writes_the_seed_list_then_hits() {
    let t = common::host_with(ANCHOR, |_| {});
    let first = t.host.handle(common::get("/articles", &[])).await;
    assert_eq!(first.response.status(), 200, "{}", common::body(&first));
    assert_eq!(first.response.headers()["x-kv"], "miss");
    assert_eq!(
        first.response.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(common::body(&first), seed_articles());
    assert_eq!(common::body(&first).len(), 1114);

    let second = t.host.handle(common::get("/articles", &[])).await;
    assert_eq!(second.response.headers()["x-kv"], "hit");
    assert_eq!(common::body(&second), seed_articles());
}

#[tokio::test(start_paused = true)]
async fn other_routes_answer_as_worker_mjs_does() {
    let t = common::host_with(ANCHOR, |_| {});
    let hello = t.host.handle(common::get("/hello", &[])).await;
    assert_eq!(common::body(&hello), "ok");
    assert_eq!(
        hello.response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );

    let one = t.host.handle(common::get("/articles/%207", &[])).await;
    assert_eq!(one.response.headers()["x-kv"], "miss");
    assert_eq!(
        common::body(&one),
        r#"{"id":7,"title":"Article 7","content":"This is the content of article 7.","created_at":"2024-01-01T00:00:00Z"}"#
    );
    let named = t.host.handle(common::get("/articles/x1", &[])).await;
    assert!(common::body(&named).starts_with(r#"{"id":"x1","title":"Article x1","#));

    let missing = t.host.handle(common::get("/nope", &[])).await;
    assert_eq!(missing.response.status(), 404);
    assert_eq!(common::body(&missing), "not found");

    let post = http::Request::post("/hello")
        .header("host", "127.0.0.1")
        .body(bytes::Bytes::new())
        .unwrap();
    let post = t.host.handle(post).await;
    assert_eq!(post.response.status(), 405);
    assert_eq!(common::body(&post), "method not allowed");

    // `decodeURIComponent` throws: an uncaught exception, error 1101.
    let bad = t.host.handle(common::get("/articles/%E0", &[])).await;
    assert_eq!(bad.response.status(), 500);
    assert!(
        common::body(&bad).contains("1101"),
        "{}",
        common::body(&bad)
    );
}
