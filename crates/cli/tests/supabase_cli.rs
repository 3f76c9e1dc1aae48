//! `edgesim supabase` as a user runs it, over loopback (issue 14's "done when"):
//! - `--dir` on a project with row level security, an auth-keyed profiles table, PL/pgSQL
//!   triggers, an enum and a many-to-many relation loads with no warning; anon, a signed-in
//!   user and service_role each see what they would on Supabase; `select=*,tags(*)` and
//!   `rpc/search` answer as PostgREST does;
//! - `--check` on a project with unsupported statements names each with file and line, loads
//!   the rest and exits non-zero because seed rows are missing.

use edgesim_supabase::{ANON_KEY, JWT_SECRET, SERVICE_ROLE_KEY};
use edgesim_tests::{Reply, SupabaseServer, request};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");
const ALICE: &str = "11111111-1111-1111-1111-111111111111";

fn project(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../supabase/tests/projects")
        .join(name)
}

/// A running `edgesim supabase --dir`, killed on drop; stdout and stderr collected.
struct Served(SupabaseServer);

impl Served {
    fn start(dir: &std::path::Path) -> Served {
        Served(SupabaseServer::start(std::path::Path::new(BIN), dir, &[]))
    }

    fn output(&self) -> String {
        self.0.output()
    }

    /// GET as `bearer` (a key or a user's JWT).
    fn get(&self, path: &str, bearer: &str) -> Reply {
        let auth = format!("Bearer {bearer}");
        let r = request(
            self.0.port,
            "GET",
            path,
            &[("apikey", ANON_KEY), ("authorization", &auth)],
            None,
        )
        .unwrap_or_else(|e| panic!("GET {path}: {e}\n{}", self.output()));
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
        r
    }
}

fn alice_jwt() -> String {
    edgesim_supabase::gateway::auth::sign_jwt(
        &json!({"aud": "authenticated", "role": "authenticated", "sub": ALICE, "email": "alice@example.com", "exp": 4_000_000_000u64}),
        JWT_SECRET.as_bytes(),
    )
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn a_real_style_project_loads_with_no_warning_and_answers_as_postgrest() {
    let s = Served::start(&project("blog"));
    // Warnings go to stderr before the banner goes to stdout; let both readers catch up.
    let start = std::time::Instant::now();
    while !s.output().contains("Serving") && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let out = s.output();
    assert!(out.contains("Serving"), "{out}");
    assert!(!out.contains("warning"), "{out}");
    let alice = alice_jwt();
    // Row level security: anon sees published posts, Alice also her draft, service_role all.
    let q = "/rest/v1/posts?select=id,status&order=id";
    assert_eq!(ids(&s.get(q, ANON_KEY).json()), [1, 3]);
    assert_eq!(ids(&s.get(q, &alice).json()), [1, 2, 3]);
    assert_eq!(ids(&s.get(q, SERVICE_ROLE_KEY).json()), [1, 2, 3]);
    // The auth-keyed profiles (made by the handle_new_user trigger) are public.
    assert_eq!(
        s.get("/rest/v1/profiles?select=username&order=username", ANON_KEY)
            .json(),
        json!([{"username": "alice"}, {"username": "bob"}])
    );
    // Many-to-many through post_tags: select=*,tags(*).
    let v = s
        .get("/rest/v1/posts?select=*,tags(*)&order=id", ANON_KEY)
        .json();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{v}");
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "author_id",
            "title",
            "body",
            "status",
            "created_at",
            "updated_at",
            "tags"
        ]
    );
    assert_eq!(rows[0]["status"], "published");
    assert_eq!(
        rows[0]["tags"],
        json!([{"id": 1, "name": "intro"}, {"id": 2, "name": "rust"}])
    );
    assert_eq!(rows[1]["tags"], json!([{"id": 3, "name": "diy"}]));
    // rpc/search (language sql, security invoker): the caller's policies apply to its rows.
    let q = "/rest/v1/rpc/search?term=d&select=id,title";
    assert_eq!(
        s.get(q, ANON_KEY).json(),
        json!([{"id": 1, "title": "Hello world"}, {"id": 3, "title": "Bob builds"}])
    );
    assert_eq!(ids(&s.get(q, &alice).json()), [1, 2, 3]);
    // The enum column refuses a value outside the type, with Postgres's error.
    let auth = format!("Bearer {alice}");
    let r = request(
        s.0.port,
        "PATCH",
        "/rest/v1/posts?id=eq.2",
        &[
            ("apikey", ANON_KEY),
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        Some(r#"{"status":"gone"}"#),
    )
    .unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["code"], "22P02");
}

#[test]
fn check_names_what_it_skips_with_file_and_line_and_loads_the_rest() {
    let out = Command::new(BIN)
        .args(["supabase", "--check", "--dir"])
        .arg(project("unsupported"))
        .output()
        .expect("cannot run edgesim");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "seed rows are missing: {text}");
    assert!(
        text.contains(
            "20240401000000_mixed.sql:7: table `bookings` skipped: `/rest/v1/bookings` answers PGRST205"
        ),
        "{text}"
    );
    assert!(text.contains("table `rooms` translated"), "{text}");
    assert!(
        text.ends_with(
            "data statements were affected: some rows of the migrations or seed are missing\n"
        ),
        "{text}"
    );
    // The clean project: exit 0, nothing skipped.
    let out = Command::new(BIN)
        .args(["supabase", "--check", "--dir"])
        .arg(project("blog"))
        .output()
        .expect("cannot run edgesim");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.ends_with("loaded with no warning\n"), "{text}");
}
