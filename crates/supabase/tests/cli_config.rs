//! `supabase/config.toml`: the settings the mock honours (`[api] max_rows`, `port`, `schemas`,
//! `enabled`, `[auth] jwt_expiry`, `[db.seed]`, `project_id`), the warning listing what it
//! ignores, errors naming file, line and column; seed files in order with their own
//! file:line; a broken migration; the start-banner summary.

mod common;

use edgesim_core::{ManualClock, SharedClock};
use edgesim_supabase::migrate::Project;
use edgesim_supabase::migrate::report::Outcome;
use edgesim_supabase::{NoopDispatcher, ProjectError, Supabase};
use std::path::Path;
use std::sync::Arc;

fn clock() -> SharedClock {
    Arc::new(ManualClock::new())
}

fn open(dir: &Path) -> Supabase {
    Supabase::open(dir, None, clock(), Arc::new(NoopDispatcher)).unwrap()
}

fn get(sb: &Supabase, uri: &str) -> (u16, String, String) {
    let req = http::Request::builder()
        .uri(uri)
        .header("apikey", edgesim_supabase::SERVICE_ROLE_KEY)
        .body(bytes::Bytes::new())
        .unwrap();
    let r = sb.handle(req);
    let range = r
        .headers()
        .get("content-range")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        r.status().as_u16(),
        String::from_utf8_lossy(r.body()).into_owned(),
        range,
    )
}

const AUTHORS_POSTS: &str = "
create table authors (id bigint primary key, name text);
create table posts (id bigint primary key, author_id bigint references authors (id), title text);
";

const THREE_POSTS: &str = "
insert into authors (id, name) values (1, 'ann');
insert into posts (id, author_id, title) values (1, 1, 'a'), (2, 1, 'b'), (3, 1, 'c');
";

#[test]
fn max_rows_caps_a_get_and_an_embedded_resource() {
    let dir = common::project(&[
        ("supabase/config.toml", "[api]\nmax_rows = 2\n"),
        ("supabase/migrations/1_init.sql", AUTHORS_POSTS),
        ("supabase/seed.sql", THREE_POSTS),
    ]);
    let sb = open(&dir);
    assert_eq!(sb.settings().api.max_rows, 2);
    let (status, body, range) = get(&sb, "/rest/v1/posts?select=id&order=id");
    assert_eq!(
        (status, body.as_str()),
        (200, "[{\"id\":1}, \n {\"id\":2}]")
    );
    assert_eq!(range, "0-1/*");
    // A larger limit is still capped; the window starts at the offset.
    let (_, body, range) = get(&sb, "/rest/v1/posts?select=id&order=id&limit=10&offset=1");
    assert_eq!(body, "[{\"id\":2}, \n {\"id\":3}]");
    assert_eq!(range, "1-2/*");
    // The exact count still counts every row.
    let req = http::Request::builder()
        .uri("/rest/v1/posts?select=id")
        .header("apikey", edgesim_supabase::SERVICE_ROLE_KEY)
        .header("prefer", "count=exact")
        .body(bytes::Bytes::new())
        .unwrap();
    let r = sb.handle(req);
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "0-1/3");
    // The embedded to-many resource is capped too.
    let (status, body, _) = get(&sb, "/rest/v1/authors?select=id,posts(id)");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["posts"].as_array().unwrap().len(), 2, "{body}");

    // Without config.toml: PostgREST's default of 1000 returns all three.
    let dir = common::project(&[
        ("supabase/migrations/1_init.sql", AUTHORS_POSTS),
        ("supabase/seed.sql", THREE_POSTS),
    ]);
    let sb = open(&dir);
    assert_eq!(sb.settings().api.max_rows, 1000);
    let (_, body, _) = get(&sb, "/rest/v1/authors?select=id,posts(id)");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["posts"].as_array().unwrap().len(), 3, "{body}");
    assert!(sb.warnings().is_empty(), "{:?}", sb.warnings());
}

/// A config as `supabase init` writes it (abridged): the honoured keys, the warnings.
const TEMPLATE: &str = r#"# A string used to distinguish different Supabase projects on the same host.
project_id = "my-app"

[api]
enabled = true
port = 54331
schemas = ["public", "graphql_public", "storage", "private"]
extra_search_path = ["public", "extensions"]
max_rows = 500

[api.tls]
enabled = false

[db]
port = 54322
shadow_port = 54320
major_version = 15

[db.pooler]
enabled = false
port = 54329

[db.migrations]
enabled = true
schema_paths = []

[db.seed]
enabled = true
sql_paths = ["./seed.sql"]

[realtime]
enabled = true

[studio]
enabled = true
port = 54323

[storage]
enabled = true
file_size_limit = "50MiB"

[auth]
enabled = true
site_url = "http://127.0.0.1:3000"
additional_redirect_urls = ["https://127.0.0.1:3000"]
jwt_expiry = 7200
enable_signup = true
minimum_password_length = 6

[auth.email]
enable_signup = true

[auth.external.apple]
enabled = false

[analytics]
enabled = false
port = 54327
"#;

#[test]
fn the_template_config_sets_the_honoured_keys_and_lists_the_rest_once() {
    let dir = common::project(&[
        ("supabase/config.toml", TEMPLATE),
        ("supabase/migrations/1_init.sql", AUTHORS_POSTS),
        ("supabase/seed.sql", THREE_POSTS),
    ]);
    let p = Project::from_dir(&dir).unwrap();
    assert_eq!(p.name.as_deref(), Some("my-app"));
    let c = &p.config;
    assert!(c.api.enabled);
    assert_eq!(c.api.port, 54331);
    assert_eq!(c.api.max_rows, 500);
    assert_eq!(c.auth.jwt_expiry, 7200);
    assert_eq!(
        c.api.schemas,
        ["public", "graphql_public", "storage", "private"]
    );
    let file = dir.join("supabase/config.toml").display().to_string();
    assert_eq!(
        p.warnings,
        [
            format!(
                "{file}:7: api.schemas: schema `storage` is not exposed by edgesim (only public and graphql_public are); requests for it answer PGRST106"
            ),
            format!(
                "{file}:7: api.schemas: schema `private` is not exposed by edgesim (only public and graphql_public are); requests for it answer PGRST106"
            ),
            format!(
                "{file}: not emulated by edgesim, ignored: api.extra_search_path, db.port, db.shadow_port, db.major_version, realtime, studio, storage, auth.enabled, auth.site_url, auth.additional_redirect_urls, auth.email"
            ),
        ]
    );
    let sb = Supabase::from_project(&p, None, clock(), Arc::new(NoopDispatcher)).unwrap();
    assert_eq!(sb.jwt_expiry_s(), 7200);
    assert_eq!(sb.api_port(), 54331);
    assert_eq!(sb.name(), Some("my-app"));
    assert_eq!(sb.settings(), c);
    assert_eq!(sb.warnings(), p.warnings.as_slice());
}

#[test]
fn defaults_without_config_toml() {
    let dir = common::project(&[("supabase/migrations/1_init.sql", AUTHORS_POSTS)]);
    let sb = open(&dir);
    let s = sb.settings();
    assert_eq!(s.file, None);
    assert_eq!(
        (s.api.port, s.api.max_rows, s.auth.jwt_expiry),
        (54321, 1000, 3600)
    );
    assert!(s.api.enabled && s.db.seed.enabled && s.db.migrations_enabled);
    assert_eq!(s.db.seed.sql_paths, ["./seed.sql"]);
    assert_eq!(sb.jwt_expiry_s(), 3600);
    assert_eq!(sb.name(), None);
}

#[test]
fn a_syntax_error_names_file_line_and_column() {
    let dir = common::project(&[(
        "supabase/config.toml",
        "project_id = \"x\"\n\n[api]\nport = 54321\nmax_rows = = 3\n",
    )]);
    let err = Project::from_dir(&dir).unwrap_err();
    let ProjectError::Config { file, line, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(file, &dir.join("supabase/config.toml"));
    assert_eq!(*line, 5);
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "{}:5:",
            dir.join("supabase/config.toml").display()
        )),
        "{text}"
    );
}

#[test]
fn an_honoured_key_of_the_wrong_type_is_an_error_naming_key_and_line() {
    let dir = common::project(&[(
        "supabase/config.toml",
        "[api]\nport = 54321\nmax_rows = \"many\"\n",
    )]);
    let err = Project::from_dir(&dir).unwrap_err().to_string();
    assert!(
        err.ends_with("config.toml:3:12: api.max_rows: expected an integer, found a string"),
        "{err}"
    );
    let dir = common::project(&[("supabase/config.toml", "[api]\nport = 70000\n")]);
    let err = Project::from_dir(&dir).unwrap_err().to_string();
    assert!(
        err.ends_with("config.toml:2:8: api.port: 70000 is out of range (0 to 65535)"),
        "{err}"
    );
    let dir = common::project(&[("supabase/config.toml", "[db.seed]\nsql_paths = [1]\n")]);
    let err = Project::from_dir(&dir).unwrap_err().to_string();
    assert!(
        err.ends_with("config.toml:2:14: db.seed.sql_paths: expected a string, found an integer"),
        "{err}"
    );
}

#[test]
fn seed_files_apply_in_order_each_reported_with_its_own_file_and_line() {
    let dir = common::project(&[
        (
            "supabase/config.toml",
            "[db.seed]\nsql_paths = [\"./seeds/*.sql\", \"./extra.sql\", \"./seeds/02_posts.sql\", \"./missing/*.sql\"]\n",
        ),
        ("supabase/migrations/1_init.sql", AUTHORS_POSTS),
        (
            "supabase/seeds/01_authors.sql",
            "insert into authors (id, name) values (1, 'ann');\n",
        ),
        (
            "supabase/seeds/02_posts.sql",
            "insert into posts (id, author_id, title) values (1, 1, 'a');\n\ninsert into posts (id, author_id, title) values (2, 7, 'no author');\n",
        ),
        (
            "supabase/extra.sql",
            "update posts set title = title || '!' where id = 1;\n",
        ),
        ("supabase/seed.sql", "insert into authors (id) values (99);"),
    ]);
    let p = Project::from_dir(&dir).unwrap();
    let sb_dir = dir.join("supabase");
    let names: Vec<_> = p
        .seeds
        .iter()
        .map(|s| s.path.strip_prefix(&sb_dir).unwrap().display().to_string())
        .collect();
    // Sorted within a pattern, in pattern order, each file once; seed.sql is not a default
    // any more.
    assert_eq!(
        names,
        ["seeds/01_authors.sql", "seeds/02_posts.sql", "extra.sql"]
    );
    assert_eq!(
        p.warnings,
        [format!(
            "{}:2: no seed files matched pattern: supabase/missing/*.sql",
            dir.join("supabase/config.toml").display()
        )]
    );
    let sb = Supabase::from_project(&p, None, clock(), Arc::new(NoopDispatcher)).unwrap();
    let (_, body, _) = get(&sb, "/rest/v1/posts?select=id,title&order=id");
    assert_eq!(body, "[{\"id\":1,\"title\":\"a!\"}]");
    let (_, body, _) = get(&sb, "/rest/v1/authors?select=id");
    assert_eq!(body, "[{\"id\":1}]");
    // The failing insert is reported in its own file, at its own line.
    let errors: Vec<_> = sb.load_report().with(Outcome::Error).collect();
    assert_eq!(errors.len(), 1, "{}", sb.load_report().render_full());
    assert_eq!(errors[0].file, sb_dir.join("seeds/02_posts.sql"));
    assert_eq!(errors[0].line, 3);
    let extra = sb
        .load_report()
        .entries
        .iter()
        .find(|e| e.file == sb_dir.join("extra.sql"))
        .expect("extra.sql is in the report");
    assert_eq!(extra.line, 1);
}

#[test]
fn seeds_disabled_and_migrations_disabled() {
    let dir = common::project(&[
        (
            "supabase/config.toml",
            "[db.seed]\nenabled = false\nsql_paths = [\"./nothing/*.sql\"]\n",
        ),
        ("supabase/migrations/1_init.sql", AUTHORS_POSTS),
        ("supabase/seed.sql", THREE_POSTS),
    ]);
    let sb = open(&dir);
    assert!(sb.warnings().is_empty(), "{:?}", sb.warnings());
    let (_, body, _) = get(&sb, "/rest/v1/posts?select=id");
    assert_eq!(body, "[]");
    assert!(
        sb.summary().contains(", seed disabled,"),
        "{}",
        sb.summary()
    );

    let dir = common::project(&[
        ("supabase/config.toml", "[db.migrations]\nenabled = false\n"),
        ("supabase/migrations/1_init.sql", AUTHORS_POSTS),
    ]);
    let p = Project::from_dir(&dir).unwrap();
    assert!(p.migrations.is_empty());
    // The default pattern matches nothing: the CLI's warning.
    assert_eq!(
        p.warnings,
        [format!(
            "{}: no seed files matched pattern: supabase/seed.sql",
            dir.join("supabase/config.toml").display()
        )]
    );
}

#[test]
fn api_disabled_answers_the_gateway_404() {
    let dir = common::project(&[
        ("supabase/config.toml", "[api]\nenabled = false\n"),
        ("supabase/migrations/1_init.sql", AUTHORS_POSTS),
    ]);
    let sb = open(&dir);
    assert!(!sb.settings().api.enabled);
    let (status, body, _) = get(&sb, "/rest/v1/posts?select=id");
    assert_eq!(
        (status, body.as_str()),
        (404, "{\"message\":\"no Route matched with those values\"}")
    );
    // The delivery log is edgesim's own, still served.
    assert_eq!(get(&sb, "/__edgesim/deliveries").0, 200);
}

#[test]
fn a_broken_migration_still_loads_and_names_the_failing_statement() {
    let dir = common::project(&[
        (
            "supabase/migrations/20240101000000_init.sql",
            "create table authors (id bigint primary key, name text);\n\ncreate table broken (id bigint primary key title text);\n\ninsert into authors (id, name) values (1, 'ann');\n",
        ),
        (
            "supabase/migrations/20240102000000_more.sql",
            "create table tags (id bigint primary key, label text);\ninsert into tags (id, label) valuez (2, 'y');\ninsert into tags (id, label) values (1, 'x');\n",
        ),
    ]);
    let sb = open(&dir);
    let report = sb.load_report();
    let bad: Vec<_> = report.warnings().collect();
    assert_eq!(bad.len(), 2, "{}", report.render_full());
    assert_eq!(
        bad[0].file,
        dir.join("supabase/migrations/20240101000000_init.sql")
    );
    assert_eq!((bad[0].line, bad[0].outcome), (3, Outcome::Skipped));
    assert_eq!(bad[0].object, "table `broken`");
    assert!(bad[0].note.contains("syntax error"), "{}", bad[0]);
    // A data statement with a syntax error is an error: its rows are missing.
    assert_eq!(
        bad[1].file,
        dir.join("supabase/migrations/20240102000000_more.sql")
    );
    assert_eq!((bad[1].line, bad[1].outcome), (2, Outcome::Error));
    assert!(bad[1].note.contains("syntax error"), "{}", bad[1]);
    assert_eq!(report.with(Outcome::Translated).count(), 4);
    // The statements around it and the later migration applied.
    assert_eq!(
        get(&sb, "/rest/v1/authors?select=name").1,
        "[{\"name\":\"ann\"}]"
    );
    assert_eq!(
        get(&sb, "/rest/v1/tags?select=label").1,
        "[{\"label\":\"x\"}]"
    );
    assert_eq!(get(&sb, "/rest/v1/broken").0, 404);
}

#[test]
fn the_summary_names_project_migrations_seeds_tables_and_webhooks() {
    let dir = common::project(&[
        ("supabase/config.toml", "project_id = \"my-app\"\n"),
        ("supabase/migrations/1_init.sql", AUTHORS_POSTS),
        (
            "supabase/migrations/2_tags.sql",
            "create table tags (id bigint primary key);",
        ),
        ("supabase/seed.sql", THREE_POSTS),
        (
            "supabase/webhooks.toml",
            "[[webhook]]\nname = \"posts_hook\"\ntable = \"posts\"\nevents = [\"INSERT\"]\nurl = \"https://full-project.example.workers.dev/hooks/posts\"\n",
        ),
    ]);
    let sb = open(&dir);
    assert_eq!(
        sb.summary(),
        format!(
            "my-app ({}/): 2 migrations, seed.sql, tables: authors, posts, tags, webhooks: posts_hook -> https://full-project.example.workers.dev/hooks/posts",
            dir.join("supabase").display()
        )
    );
    // No project_id: the directory's name; the embedded demo: "demo (embedded)".
    let dir = common::project(&[("supabase/migrations/1_init.sql", AUTHORS_POSTS)]);
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        open(&dir).summary().starts_with(&format!(
            "{name} ({}/): 1 migration, no seed, tables: authors, posts, no webhooks",
            dir.join("supabase").display()
        )),
        "{}",
        open(&dir).summary()
    );
    let demo = Supabase::demo(clock(), Arc::new(NoopDispatcher)).unwrap();
    assert!(
        demo.summary()
            .starts_with("demo (embedded): 1 migration, seed.sql, tables: articles"),
        "{}",
        demo.summary()
    );
}
