//! The project corpus (`tests/projects/<name>/supabase/...`): projects in the style of real
//! Supabase projects load, every table is served, and the load report lists exactly the
//! statements the mock does not emulate yet (tightened as features land).

use edgesim_core::ManualClock;
use edgesim_supabase::migrate::report::{LoadReport, Outcome};
use edgesim_supabase::{NoopDispatcher, SERVICE_ROLE_KEY, Supabase};
use std::path::PathBuf;
use std::sync::Arc;

fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/projects")
        .join(name)
}

fn load(name: &str) -> Supabase {
    Supabase::open(
        &dir(name),
        None,
        Arc::new(ManualClock::new()),
        Arc::new(NoopDispatcher),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `file:line: object outcome` for every warning.
fn warnings(r: &LoadReport) -> Vec<String> {
    r.warnings()
        .map(|e| {
            let file = e.file.file_name().unwrap().to_string_lossy();
            format!("{file}:{}: {} {}", e.line, e.object, e.outcome.word())
        })
        .collect()
}

fn req(sb: &Supabase, method: &str, uri: &str, body: &str) -> (u16, String) {
    let r = sb.handle(
        http::Request::builder()
            .method(method)
            .uri(uri)
            .header("apikey", SERVICE_ROLE_KEY)
            .header("Authorization", format!("Bearer {SERVICE_ROLE_KEY}"))
            .header("Content-Type", "application/json")
            .body(bytes::Bytes::from(body.to_string()))
            .unwrap(),
    );
    (
        r.status().as_u16(),
        String::from_utf8_lossy(r.body()).into_owned(),
    )
}

/// Every exposed table (from the OpenAPI root) answers a select.
fn serves_every_table(sb: &Supabase, expected: &[&str]) {
    let (status, root) = req(sb, "GET", "/rest/v1/", "");
    assert_eq!(status, 200, "{root}");
    let root: serde_json::Value = serde_json::from_str(&root).unwrap();
    let mut tables: Vec<String> = root["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "/")
        .map(|k| k.trim_start_matches('/').to_string())
        .collect();
    tables.sort();
    assert_eq!(tables, expected);
    for t in tables {
        let (status, body) = req(sb, "GET", &format!("/rest/v1/{t}?select=*"), "");
        assert_eq!(status, 200, "{t}: {body}");
    }
}

#[test]
fn blog_loads_and_serves_every_table() {
    let sb = load("blog");
    let r = sb.load_report();
    // Functions, triggers, RLS, the enum and the junction table all load: nothing is skipped.
    let expected: Vec<String> = Vec::new();
    assert_eq!(warnings(r), expected, "{}", r.render_full());
    assert!(!r.has_errors(), "{}", r.render_full());
    serves_every_table(&sb, &["post_tags", "posts", "profiles", "tags"]);
    assert_eq!(
        req(&sb, "GET", "/rest/v1/tags?select=name&order=id", ""),
        (
            200,
            "[{\"name\":\"intro\"}, \n {\"name\":\"rust\"}, \n {\"name\":\"diy\"}]".into()
        )
    );
    // auth.users was seeded (crypt/gen_salt) and is not exposed; handle_new_user (an AFTER
    // INSERT trigger on auth.users) made one profile per seeded user, so the seed's posts and
    // their tags, which reference those profiles, are there too.
    assert_eq!(req(&sb, "GET", "/rest/v1/users", "").0, 404);
    let (status, body) = req(&sb, "GET", "/rest/v1/profiles?select=id", "");
    assert_eq!(status, 200, "{body}");
    let profiles: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(profiles.as_array().map(Vec::len), Some(2), "{body}");
    let (status, body) = req(
        &sb,
        "POST",
        "/rest/v1/profiles",
        r#"{"id":"99999999-9999-9999-9999-999999999999","username":"nobody"}"#,
    );
    assert_eq!(status, 409, "no such auth user: {body}");
    // The enum status column checks its values, with Postgres's error.
    let (status, body) = req(
        &sb,
        "POST",
        "/rest/v1/posts",
        r#"{"author_id":"11111111-1111-1111-1111-111111111111","title":"x","status":"deleted"}"#,
    );
    assert_eq!(status, 400, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["code"], "22P02");
    assert_eq!(
        body["message"],
        "invalid input value for enum post_status: \"deleted\""
    );
    let (status, body) = req(
        &sb,
        "POST",
        "/rest/v1/posts?select=status",
        r#"{"author_id":"11111111-1111-1111-1111-111111111111","title":"x"}"#,
    );
    assert_eq!(
        (status, body.as_str()),
        (201, ""),
        "default 'draft' accepted"
    );
}

#[test]
fn todo_loads_with_enums_domains_arrays_and_a_view() {
    let sb = load("todo");
    let r = sb.load_report();
    let expected: Vec<String> = Vec::new();
    assert_eq!(warnings(r), expected, "{}", r.render_full());
    serves_every_table(&sb, &["todo_stats", "todos"]);
    assert_eq!(
        req(&sb, "GET", "/rest/v1/todos?select=task,priority,labels&order=id", ""),
        (
            200,
            "[{\"task\":\"Buy milk\",\"priority\":\"high\",\"labels\":[\"home\",\"shopping\"]}, \n {\"task\":\"Write the report\",\"priority\":\"urgent\",\"labels\":[\"work\"]}, \n {\"task\":\"Call mum\",\"priority\":\"low\",\"labels\":[]}]".into()
        )
    );
    assert_eq!(
        req(&sb, "GET", "/rest/v1/todo_stats?select=total,done", ""),
        (200, "[{\"total\":3,\"done\":1}]".into())
    );
    // The domain's check and the column's own check both hold.
    let long = "x".repeat(201);
    let (status, body) = req(
        &sb,
        "POST",
        "/rest/v1/todos",
        &format!(r#"{{"user_id":"33333333-3333-3333-3333-333333333333","task":"{long}"}}"#),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("23514"), "{body}");
    let (status, body) = req(
        &sb,
        "POST",
        "/rest/v1/todos",
        r#"{"user_id":"33333333-3333-3333-3333-333333333333","task":"abc"}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("23514"), "{body}");
    let (status, body) = req(
        &sb,
        "POST",
        "/rest/v1/todos",
        r#"{"user_id":"33333333-3333-3333-3333-333333333333","task":"abcd","priority":"whenever"}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("invalid input value for enum priority: \\\"whenever\\\""),
        "{body}"
    );
}

#[test]
fn storage_project_loads_buckets_objects_and_vectors() {
    let sb = load("storage");
    let r = sb.load_report();
    let expected: Vec<String> = Vec::new();
    assert_eq!(warnings(r), expected, "{}", r.render_full());
    let idx: Vec<String> = r
        .with(Outcome::Translated)
        .filter(|e| e.object.starts_with("index"))
        .map(|e| format!("{} {}", e.object, e.note))
        .collect();
    assert_eq!(
        idx,
        [
            "index `documents_embedding_idx` using hnsw: a plain SQLite index (its operators are not indexed)",
            "index `documents_title_trgm_idx` using gin: a plain SQLite index (its operators are not indexed)",
            "index `documents_tags_idx` using gin: a plain SQLite index (its operators are not indexed)",
        ]
    );
    serves_every_table(&sb, &["documents"]);
    assert_eq!(
        req(&sb, "GET", "/rest/v1/documents?select=title,tags,embedding", ""),
        (
            200,
            "[{\"title\":\"Quarterly report\",\"tags\":[\"finance\",\"q1\"],\"embedding\":\"[0.1,0.2,0.3]\"}]".into()
        )
    );
    // storage.objects is a table (seeded above, referenced by documents) but not exposed.
    assert_eq!(req(&sb, "GET", "/rest/v1/objects", "").0, 404);
    // The unique constraint added by alter table holds.
    let (status, body) = req(
        &sb,
        "POST",
        "/rest/v1/documents",
        r#"{"title":"Quarterly report"}"#,
    );
    assert_eq!(status, 409, "{body}");
}

#[test]
fn unsupported_statements_are_named_with_file_and_line_and_the_rest_loads() {
    let sb = load("unsupported");
    let r = sb.load_report();
    let m = "20240401000000_mixed.sql";
    assert_eq!(
        warnings(r),
        [
            format!("{m}:7: table `bookings` skipped"),
            format!("{m}:14: table `readings` skipped"),
            format!("{m}:20: type `float_range` skipped"),
            format!("{m}:22: statement `create rule no_delete as` skipped"),
            "seed.sql:2: insert into `bookings` ERROR, not applied".to_string(),
            "seed.sql:3: insert into `readings` ERROR, not applied".to_string(),
            "seed.sql:4: `select` statement ERROR, not applied".to_string(),
        ],
        "{}",
        r.render_full()
    );
    let w: Vec<String> = r.warnings().map(|e| e.to_string()).collect();
    assert!(
        w[0].contains("`/rest/v1/bookings` answers PGRST205"),
        "{}",
        w[0]
    );
    assert!(
        w[4].contains("table `bookings` was skipped at "),
        "{}",
        w[4]
    );
    assert!(w[6].contains("whatever it writes is missing"), "{}", w[6]);
    assert!(r.has_errors());
    serves_every_table(&sb, &["rooms"]);
    assert_eq!(
        req(&sb, "GET", "/rest/v1/rooms?select=name&order=id", ""),
        (200, "[{\"name\":\"Blue\"}, \n {\"name\":\"Green\"}]".into())
    );
}
