//! A JavaScript Worker's KV binding on the host's KV model: the whole API, every error with
//! the model's message and production's class, the operation limit, and KV calls that overlap
//! instead of stalling the instance.

mod common;

use common::{TestHost, body, json};
use edgesim_host::HostEvent;
use edgesim_kv::limits::{self, TOO_MANY_OPERATIONS};
use edgesim_kv::{KvError, OpKind};
use serde_json::{Value, json};

const MODULE: &str = "module/index.js";

/// The outcome the suite reports for a failure: production's class for the model's error.
fn thrown(e: KvError) -> Value {
    let message = e.message().to_string();
    let name = if matches!(e, KvError::Invalid(_)) && !message.starts_with("KV ") {
        "TypeError"
    } else {
        "Error"
    };
    json!({"error": {"name": name, "message": message, "isError": true}})
}

#[tokio::test(start_paused = true)]
async fn the_kv_api_surface_and_every_error_message_come_from_the_model() {
    if !common::node_or_skip("the_kv_api_surface_and_every_error_message_come_from_the_model") {
        return;
    }
    let t = TestHost::new(&common::component(MODULE), |_| {});
    let inv = t.get("/kv-suite").await;
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
    let r = json(&inv);
    let ok = |name: &str| -> Value {
        let v = &r[name];
        assert!(v.get("error").is_none(), "{name} failed: {v}");
        v["ok"].clone()
    };

    // Writes of every value type, read back as every type.
    for put in [
        "putString",
        "putJson",
        "putArrayBuffer",
        "putView",
        "putStream",
        "putMeta",
        "putExpiration",
    ] {
        assert_eq!(ok(put), Value::Null, "{put}");
    }
    assert_eq!(ok("getText"), "hello");
    assert_eq!(ok("getTextOption"), "hello");
    assert_eq!(ok("getJson"), json!({"a": [1, 2]}));
    assert_eq!(ok("getArrayBuffer"), json!([1, 2, 255]));
    assert_eq!(ok("getView"), json!([8, 7, 6]));
    assert_eq!(ok("getStream"), "from a stream");
    assert_eq!(ok("getMissing"), Value::Null);
    let m = ok("getWithMetadata");
    assert_eq!(m["value"], "with metadata");
    assert_eq!(m["metadata"], json!({"source": "suite", "n": 1}));
    assert!(m["cacheStatus"].is_string(), "{m}");
    let m = ok("getWithMetadataJson");
    assert_eq!(m["value"], json!({"a": [1, 2]}));
    assert_eq!(m["metadata"], Value::Null);
    let m = ok("getWithMetadataMissing");
    assert_eq!((&m["value"], &m["metadata"]), (&Value::Null, &Value::Null));

    // Bulk reads: a Map per key, missing keys null.
    assert_eq!(
        ok("bulkText"),
        json!({"s": "hello", "missing": null, "j": "{\"a\":[1,2]}"})
    );
    assert_eq!(ok("bulkJson"), json!({"j": {"a": [1, 2]}}));
    assert_eq!(
        ok("bulkWithMetadata"),
        json!({
            "m": {"value": "with metadata", "metadata": {"source": "suite", "n": 1}},
            "missing": {"value": null, "metadata": null},
        })
    );

    // Lists: names, metadata, pages and cursors.
    let all = ok("listPrefix");
    let names: Vec<&str> = all["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["p/1", "p/2", "p/3"], "{all}");
    assert_eq!(all["keys"][0]["metadata"], json!({"k": "p/1"}));
    assert_eq!(all["list_complete"], true);
    assert!(all.get("cursor").is_none(), "{all}");
    let page1 = ok("listPage1");
    assert_eq!(page1["keys"].as_array().unwrap().len(), 2);
    assert_eq!(page1["list_complete"], false);
    assert!(page1["cursor"].is_string());
    let page2 = ok("listPage2");
    assert_eq!(page2["keys"][0]["name"], "p/3", "{page2}");
    assert_eq!(page2["list_complete"], true);

    assert_eq!(ok("delete"), Value::Null);
    assert_eq!(ok("getDeleted"), Value::Null);

    // Every error, with the model's message and production's class.
    let long = "k".repeat(513);
    let expected: Vec<(&str, KvError)> = vec![
        (
            "errEmptyKey",
            limits::validate_key(OpKind::Get, "").unwrap_err(),
        ),
        (
            "errDotKey",
            limits::validate_key(OpKind::Get, ".").unwrap_err(),
        ),
        (
            "errDotDotKey",
            limits::validate_key(OpKind::Put, "..").unwrap_err(),
        ),
        (
            "errLongKey",
            limits::validate_key(OpKind::Get, &long).unwrap_err(),
        ),
        (
            "errDeleteEmpty",
            limits::validate_key(OpKind::Delete, "").unwrap_err(),
        ),
        ("errType", limits::validate_get_type("banana").unwrap_err()),
        (
            "errCacheTtl",
            limits::cache_ttl(OpKind::Get, Some(10)).unwrap_err(),
        ),
        (
            "errExpirationTtlZero",
            limits::expiration(OpKind::Put, None, Some(0), 0).unwrap_err(),
        ),
        (
            "errExpirationTtlShort",
            limits::expiration(OpKind::Put, None, Some(10), 0).unwrap_err(),
        ),
        (
            "errMetadataLarge",
            limits::validate_metadata(OpKind::Put, &json!({"pad": "x".repeat(1100)})).unwrap_err(),
        ),
        (
            "errValueLarge",
            limits::validate_value(OpKind::Put, 25 * 1024 * 1024 + 1).unwrap_err(),
        ),
        ("errRateLimited", limits::rate_limited(OpKind::Put)),
        ("errListLimit", limits::list_limit(Some(1001)).unwrap_err()),
        ("errListCursor", limits::invalid_cursor()),
        (
            "errListPrefix",
            limits::validate_prefix(&"p".repeat(513)).unwrap_err(),
        ),
        ("errBulkEmpty", limits::validate_bulk_count(0).unwrap_err()),
        (
            "errBulkTooMany",
            limits::validate_bulk_count(101).unwrap_err(),
        ),
        ("errBulkKey", limits::validate_bulk_key("..").unwrap_err()),
        (
            "errBulkType",
            limits::validate_bulk_type("arrayBuffer").unwrap_err(),
        ),
        ("errBulkNotJson", limits::bulk_not_json()),
    ];
    for (name, e) in expected {
        assert_eq!(r[name], thrown(e), "{name}");
    }
    // Expiration errors quote the expiration given; the suite chose now - 10 and now + 10.
    for (name, needle) in [
        (
            "errExpirationPast",
            "greater than the current number of seconds",
        ),
        ("errExpirationSoon", "at least 60 seconds in the future"),
    ] {
        let e = &r[name]["error"];
        assert_eq!(e["name"], "Error", "{name}: {e}");
        let msg = e["message"].as_str().unwrap();
        assert!(
            msg.starts_with("KV PUT failed: 400 Invalid expiration of "),
            "{msg}"
        );
        assert!(msg.contains(needle), "{msg}");
    }

    // The calls went through the same path as a Rust Worker's: recorded as KV calls.
    let events = t.events.events();
    let kv_calls = events
        .iter()
        .filter(|e| matches!(e, HostEvent::KvCall { .. }))
        .count();
    assert!(kv_calls > 40, "{kv_calls} KV call events");
    assert!(events.iter().any(|e| matches!(e,
        HostEvent::KvCall { op, key, result, .. }
            if op == "put" && key == "twice" && result == "KV PUT failed: 429 Too Many Requests")));
    // None of them is a subrequest.
    assert!(!events.iter().any(|e| matches!(e, HostEvent::Fetch { .. })));
}

#[tokio::test(start_paused = true)]
async fn the_operation_limit_is_production_s_error() {
    if !common::node_or_skip("the_operation_limit_is_production_s_error") {
        return;
    }
    let t = TestHost::new(&common::component(MODULE), |_| {});
    let v = json(&t.get("/kv-ops").await);
    assert_eq!(
        v,
        json!({"name": "Error", "message": TOO_MANY_OPERATIONS}),
        "the 1001st operation fails"
    );
}

#[tokio::test(start_paused = true)]
async fn kv_calls_in_promise_all_overlap_on_the_virtual_clock() {
    if !common::node_or_skip("kv_calls_in_promise_all_overlap_on_the_virtual_clock") {
        return;
    }
    let t = TestHost::new(&common::component(MODULE), |_| {});
    let v = json(&t.get("/overlap").await);
    let (one, both, sequential) = (
        v["one"].as_u64().unwrap(),
        v["both"].as_u64().unwrap(),
        v["sequential"].as_u64().unwrap(),
    );
    // SYD is 150 ms from central: a miss costs one round trip.
    assert!(one >= 150, "{v}");
    assert!(
        both < one + one / 2,
        "two gets in Promise.all took {both} ms, one took {one}: {v}"
    );
    assert!(sequential >= 2 * 150, "{v}");
}
