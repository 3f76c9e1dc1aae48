//! Database Webhooks end to end: a change over HTTP or SQL → one pg_net-style request per row,
//! only after commit, recorded with its outcome and readable over HTTP.

mod common;

use common::{Receiver, eventually};
use edgesim_supabase::{PG_NET_VERSION as PG_NET, Supabase};
use serde_json::json;
use std::time::Duration;

fn demo_with_receiver() -> (common::Server, Receiver) {
    let rx = Receiver::start(200, Duration::ZERO);
    let s = common::demo();
    s.sb.set_webhook_url(Some("articles_revalidate"), &rx.url("/revalidate"));
    (s, rx)
}

#[test]
fn a_patch_delivers_the_pg_net_payload_after_commit() {
    let (s, rx) = demo_with_receiver();
    let r = s.req(
        "PATCH",
        "/rest/v1/articles?id=eq.2",
        &[("content-type", "application/json")],
        r#"{"title":"cool second blog"}"#,
    );
    assert_eq!(r.status, 204);
    let got = rx.wait_for(1);
    assert_eq!(got.len(), 1);
    let w = &got[0];
    assert_eq!(
        (w.method.as_str(), w.target.as_str()),
        ("POST", "/revalidate")
    );
    assert_eq!(w.header("content-type"), Some("application/json"));
    assert_eq!(
        w.header("user-agent"),
        Some(format!("pg_net/{PG_NET}").as_str())
    );
    assert_eq!(
        w.body,
        "{\"type\": \"UPDATE\", \"table\": \"articles\", \"record\": {\"id\": 2, \"title\": \"cool second blog\", \"content\": \"This is my second blog post.\", \"created_at\": \"2026-01-01T00:00:00+00:00\", \"updated_at\": \"2026-01-01T00:00:00+00:00\"}, \"schema\": \"public\", \"old_record\": {\"id\": 2, \"title\": \"second blog\", \"content\": \"This is my second blog post.\", \"created_at\": \"2026-01-01T00:00:00+00:00\", \"updated_at\": \"2026-01-01T00:00:00+00:00\"}}"
    );
    assert!(eventually(|| s
        .sb
        .deliveries()
        .first()
        .is_some_and(|d| d.outcome.is_some())));
    let r = s.req("GET", "/__edgesim/deliveries", &[("apikey", "")], "");
    assert_eq!(r.status, 200);
    let log = r.json();
    assert_eq!(log[0]["id"], 1);
    assert_eq!(log[0]["hook"], "articles_revalidate");
    assert_eq!(log[0]["event"], "UPDATE");
    assert_eq!(log[0]["url"], rx.url("/revalidate"));
    assert_eq!(
        log[0]["outcome"],
        json!({"status": 200, "timed_out": false, "error": null})
    );
}

#[test]
fn one_request_per_row_for_inserts_updates_deletes_and_direct_sql() {
    let (s, rx) = demo_with_receiver();
    let r = s.req(
        "POST",
        "/rest/v1/articles",
        &[],
        r#"[{"title":"a"},{"title":"b"}]"#,
    );
    assert_eq!(r.status, 201);
    let r = s.req(
        "PATCH",
        "/rest/v1/articles?id=lte.2",
        &[],
        r#"{"content":"x"}"#,
    );
    assert_eq!(r.status, 204);
    assert_eq!(
        s.sb.execute("delete from articles where id = 3").unwrap(),
        1
    );
    let got = rx.wait_for(5);
    assert_eq!(got.len(), 5);
    let bodies: Vec<serde_json::Value> = got
        .iter()
        .map(|g| serde_json::from_str(&g.body).unwrap())
        .collect();
    let mut events: Vec<(String, i64)> = bodies
        .iter()
        .map(|b| {
            let rec = if b["type"] == "DELETE" {
                &b["old_record"]
            } else {
                &b["record"]
            };
            (
                b["type"].as_str().unwrap().to_string(),
                rec["id"].as_i64().unwrap(),
            )
        })
        .collect();
    events.sort();
    assert_eq!(
        events,
        vec![
            ("DELETE".into(), 3),
            ("INSERT".into(), 4),
            ("INSERT".into(), 5),
            ("UPDATE".into(), 1),
            ("UPDATE".into(), 2)
        ]
    );
    let del = bodies.iter().find(|b| b["type"] == "DELETE").unwrap();
    assert_eq!(del["record"], serde_json::Value::Null);
    assert_eq!(del["old_record"]["title"], "third blog");
    let ins = bodies.iter().find(|b| b["type"] == "INSERT").unwrap();
    assert_eq!(ins["old_record"], serde_json::Value::Null);
    assert_eq!(ins["schema"], "public");
    assert_eq!(s.sb.deliveries().len(), 5);
}

#[test]
fn rolled_back_changes_fire_nothing() {
    let (s, rx) = demo_with_receiver();
    let r = s.req(
        "PATCH",
        "/rest/v1/articles?id=gt.0",
        &[("accept", "application/vnd.pgrst.object+json")],
        r#"{"title":"all"}"#,
    );
    assert_eq!(r.status, 406);
    let r = s.req(
        "POST",
        "/rest/v1/articles",
        &[],
        r#"[{"id":10,"title":"ok"},{"id":1,"title":"dup"}]"#,
    );
    assert_eq!(r.status, 409);
    assert!(
        s.sb.execute("insert into articles (title) values ('x'); insert into nope values (1);")
            .is_err()
    );
    assert!(s.sb.deliveries().is_empty());
    let r = s.req("DELETE", "/rest/v1/articles?id=eq.1", &[], "");
    assert_eq!(r.status, 204);
    let got = rx.wait_for(1);
    std::thread::sleep(Duration::from_millis(200));
    let got_later = rx.wait_for(1);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got_later.len(),
        1,
        "only the committed delete was delivered"
    );
    assert!(got[0].body.starts_with("{\"type\": \"DELETE\""));
    assert_eq!(s.sb.deliveries().len(), 1);
    assert_eq!(s.sb.deliveries()[0].delivery.id, 1);
}

#[test]
fn timeouts_and_connection_errors_are_recorded() {
    let slow = Receiver::start(200, Duration::from_millis(1500));
    let dir = common::project(&[
        (
            "supabase/migrations/1_t.sql",
            "create table t (id bigint generated by default as identity primary key, v text);",
        ),
        (
            "supabase/webhooks.toml",
            &format!(
                "[[webhook]]\nname='slow'\ntable='t'\nevents=['INSERT']\nurl='{}'\ntimeout_ms=200\n\n[[webhook]]\nname='down'\ntable='t'\nevents=['INSERT']\nurl='http://127.0.0.1:9/x'\n",
                slow.url("/slow")
            ),
        ),
    ]);
    let s = common::start_with(move |c, d| Supabase::open(&dir, None, c, d).unwrap(), true);
    assert_eq!(s.req("POST", "/rest/v1/t", &[], r#"{"v":"x"}"#).status, 201);
    assert!(eventually(|| s
        .sb
        .deliveries()
        .iter()
        .all(|d| d.outcome.is_some())));
    let d = s.sb.deliveries();
    assert_eq!(d.len(), 2);
    let slow_rec = d.iter().find(|r| r.delivery.hook == "slow").unwrap();
    let o = slow_rec.outcome.clone().unwrap();
    assert!(o.timed_out);
    assert_eq!(o.status, None);
    assert_eq!(o.error.as_deref(), Some("Timeout of 200 ms reached"));
    let down = d
        .iter()
        .find(|r| r.delivery.hook == "down")
        .unwrap()
        .outcome
        .clone()
        .unwrap();
    assert!(!down.timed_out);
    assert_eq!(down.error.as_deref(), Some("Couldn't connect to server"));
    assert_eq!(slow.wait_for(1).len(), 1, "no retry after the timeout");
}

#[test]
fn get_hooks_params_and_trigger_sql_declarations() {
    let rx = Receiver::start(204, Duration::ZERO);
    let trigger = format!(
        "create trigger \"notify_get\" after delete on \"public\".\"items\" for each row execute function \"supabase_functions\".\"http_request\"('{}', 'GET', '{{\"X-Token\":\"abc\"}}', '{{\"source\":\"db hook\"}}', '1000');",
        rx.url("/hook")
    );
    let dir = common::project(&[
        (
            "supabase/migrations/20240101000000_items.sql",
            "create table items (id bigint generated by default as identity primary key, name text);",
        ),
        ("supabase/migrations/20240102000000_hook.sql", &trigger),
        (
            "supabase/seed.sql",
            "insert into items (name) values ('a'), ('b');",
        ),
    ]);
    let s = common::start_with(move |c, d| Supabase::open(&dir, None, c, d).unwrap(), true);
    assert_eq!(s.sb.hooks().len(), 1);
    assert!(s.sb.deliveries().is_empty(), "the seed fires no webhooks");
    assert_eq!(
        s.req("PATCH", "/rest/v1/items?id=eq.1", &[], r#"{"name":"z"}"#)
            .status,
        204,
        "UPDATE is not a declared event"
    );
    assert_eq!(
        s.req("DELETE", "/rest/v1/items?id=eq.2", &[], "").status,
        204
    );
    let got = rx.wait_for(1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].method, "GET");
    assert_eq!(got[0].target, "/hook?source=db%20hook");
    assert_eq!(got[0].header("x-token"), Some("abc"));
    assert_eq!(got[0].body, "");
    assert!(eventually(|| s.sb.deliveries().first().is_some_and(|d| d
        .outcome
        .as_ref()
        .is_some_and(|o| o.status == Some(204)))));
}

#[test]
fn the_delivery_log_drops_what_pg_net_would_after_its_6_hour_ttl_and_says_how_many() {
    let (s, rx) = demo_with_receiver();
    let patch = |title: &str| {
        let body = format!(r#"{{"title":"{title}"}}"#);
        let r = s.req(
            "PATCH",
            "/rest/v1/articles?id=eq.2",
            &[("content-type", "application/json")],
            &body,
        );
        assert_eq!(r.status, 204);
    };
    patch("one");
    rx.wait_for(1);
    let r = s.req("GET", "/__edgesim/deliveries", &[("apikey", "")], "");
    assert_eq!(r.header("x-edgesim-deliveries-evicted"), Some("0"));
    // pg_net deletes `net._http_response` rows older than `pg_net.ttl` (6 hours).
    s.clock.advance(Duration::from_secs(6 * 3600 + 1));
    patch("two");
    rx.wait_for(2);
    let r = s.req("GET", "/__edgesim/deliveries", &[("apikey", "")], "");
    assert_eq!(r.header("x-edgesim-deliveries-evicted"), Some("1"));
    let ids: Vec<u64> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [2]);
    assert_eq!(s.sb.deliveries_evicted(), 1);
}
