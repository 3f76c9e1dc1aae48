//! A user's whole project, as it is: `examples/full-project` (a TypeScript Hono Worker with KV,
//! a cron and a third-party API, and its own `supabase/` with RLS, a seed and a Database
//! Webhook to `https://full-project.example.workers.dev/hooks/articles`), copied and served by
//! `edgesim dev` over loopback, then judged by `edgesim run` with shipped scenarios.
//! Needs Node and npm (SKIPPED without them; a failure under `CI=true`).

use edgesim_testkit::require_node;
use edgesim_tests::{DevServer, Reply, copy_project, request, temp_dir};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");
const ANON: &str = edgesim_supabase::ANON_KEY;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A copy of the example project, with `npm ci` run in it, as a user would after cloning it.
fn copy_of_example(name: &str) -> edgesim_tests::TempDir {
    copy_project(&repo().join("examples/full-project"), name)
}

fn get(dev: &DevServer, colo: &str, path: &str) -> Reply {
    dev.get_ok(colo, path)
}

fn title_of(r: &Reply) -> String {
    r.json()["title"].as_str().unwrap_or_default().to_string()
}

/// Polls `f` until it gives `Some` (a webhook's waitUntil work, KV propagation).
fn eventually<T>(dev: &DevServer, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}\n{}", dev.output());
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn edgesim(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run edgesim")
}

#[test]
fn the_whole_project_runs_as_it_is_in_dev() {
    require_node!();
    let project = copy_of_example("full-project-dev");
    // A second webhook, to a host that is neither the Worker's nor answered by a rule.
    std::fs::write(
        project.join("supabase/migrations/20240601000200_feed_webhook.sql"),
        "create trigger \"articles_feed\" after insert on \"public\".\"articles\" for each row \
         execute function \"supabase_functions\".\"http_request\"('https://feed.unknown.example/ingest', \
         'POST', '{\"Content-Type\":\"application/json\"}', '{}', '1000');\n",
    )
    .unwrap();
    let state = temp_dir("full-project-state");
    let mut dev = DevServer::start_in(Path::new(BIN), Some(&project), &state, &["--seed", "5"]);
    let banner = dev.output();
    // The project's own Supabase, not the demo: its tables, its webhook routed to the Worker.
    assert!(banner.contains("full-project is running"), "{banner}");
    assert!(
        banner.contains("Supabase project:") && banner.contains("supabase"),
        "{banner}"
    );
    assert!(!banner.contains("demo project"), "{banner}");
    assert!(banner.contains("tables: articles"), "{banner}");
    assert!(
        banner.contains(
            "articles_to_worker https://full-project.example.workers.dev/hooks/articles -> the Worker at SYD /hooks/articles"
        ),
        "{banner}"
    );
    assert!(banner.contains("Crons: */5 * * * *"), "{banner}");
    assert!(banner.contains("/__edgesim/kv/CACHE/"), "{banner}");
    // The service_role key of .dev.vars is replaced by the mock's, and said so.
    assert!(
        banner.contains("SUPABASE_SERVICE_ROLE_KEY of the Worker"),
        "{banner}"
    );

    // Non-string vars reach the Worker as JSON values.
    let config = get(&dev, "SYD", "/config").json();
    assert_eq!(config["cacheTtl"], 60, "{config}");
    assert_eq!(config["cacheTtlType"], "number", "{config}");
    assert_eq!(config["features"]["rates"], true, "{config}");

    // The Worker reads the project's rows (service_role: the draft too); anon sees published
    // rows only (the project's RLS policy).
    let list = get(&dev, "SYD", "/articles");
    assert_eq!(list.header("x-kv"), Some("miss"));
    assert_eq!(
        list.json().as_array().map(Vec::len),
        Some(3),
        "{}",
        list.body
    );
    let anon = request(
        dev.supabase_port,
        "GET",
        "/rest/v1/articles?select=title",
        &[("apikey", ANON)],
        None,
    )
    .unwrap();
    assert_eq!(
        anon.json().as_array().map(Vec::len),
        Some(2),
        "{}",
        anon.body
    );

    // FRA caches row 2; a PATCH fires the project's own webhook to the local Worker at
    // /hooks/articles (path kept, its secret header kept), at SYD.
    assert_eq!(title_of(&get(&dev, "FRA", "/articles/2")), "second blog");
    dev.advance(2);
    dev.patch_and_await(
        "/rest/v1/articles?id=eq.2",
        r#"{"title":"cool second blog"}"#,
        "waitUntil completed colo=SYD method=POST path=/hooks/articles",
        Duration::from_secs(30),
    );
    let deliveries = request(dev.supabase_port, "GET", "/__edgesim/deliveries", &[], None).unwrap();
    assert!(
        deliveries.body.contains("\"status\":200"),
        "{}",
        deliveries.body
    );
    assert_eq!(
        title_of(&get(&dev, "SYD", "/articles/2")),
        "cool second blog"
    );
    assert_eq!(title_of(&get(&dev, "FRA", "/articles/2")), "second blog");
    dev.advance(61);
    assert_eq!(
        title_of(&get(&dev, "FRA", "/articles/2")),
        "cool second blog"
    );

    // An insert fires both webhooks: the Worker's, and one to a host nothing answers, which
    // fails with its host named (logged, never dropped).
    let auth = format!("Bearer {}", edgesim_supabase::SERVICE_ROLE_KEY);
    let inserted = request(
        dev.supabase_port,
        "POST",
        "/rest/v1/articles",
        &[
            ("apikey", edgesim_supabase::SERVICE_ROLE_KEY),
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        Some(r#"{"title":"third blog"}"#),
    )
    .unwrap();
    assert_eq!(inserted.status, 201, "{}", inserted.body);
    let failed = eventually(&dev, "the feed webhook's outcome", || {
        let d = request(dev.supabase_port, "GET", "/__edgesim/deliveries", &[], None).ok()?;
        let all = d.json();
        all.as_array()?
            .iter()
            .find(|r| r["hook"] == "articles_feed" && !r["outcome"].is_null())
            .cloned()
    });
    let error = failed["outcome"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(error.contains("feed.unknown.example"), "{failed}");
    assert!(
        dev.output().contains("feed.unknown.example"),
        "{}",
        dev.output()
    );

    // The third-party API is answered by the project's outbound rule.
    let rates = get(&dev, "SYD", "/rates").json();
    assert_eq!(rates["rates"]["EUR"], 0.92, "{rates}");

    // KV from outside the Worker: a put lands in central storage; a colo that never read the
    // key sees it once it propagates.
    let port = dev.port.to_string();
    let put = edgesim(
        &project,
        &[
            "kv",
            "key",
            "put",
            "/articles/1",
            r#"{"id":1,"title":"from outside"}"#,
            "--binding",
            "CACHE",
            "--port",
            &port,
        ],
    );
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    dev.advance(2);
    assert_eq!(title_of(&get(&dev, "NRT", "/articles/1")), "from outside");

    // A clock advance past the cron's minutes runs `scheduled` once for each, each at its own
    // virtual time: three runs that each rewrite `/articles`, five minutes apart (all at the end
    // of the jump they would break KV's one write per key per second).
    dev.advance(900);
    let last = eventually(&dev, "the cron's run", || {
        let r = dev.get_at("SYD", "/cron/last");
        let v = r.json();
        (!v.is_null()).then_some(v)
    });
    assert_eq!(last["cron"], "*/5 * * * *", "{last}");
    let at = last["scheduledTime"].as_u64().unwrap_or(1);
    assert_eq!(at % 300_000, 0, "a scheduledTime on the minute: {last}");
    assert_eq!(last["rows"], 4, "{last}");
    let runs = |out: &str| {
        out.lines()
            .filter(|l| l.contains("\"*/5 * * * *\" @") && l.contains("- Ok"))
            .count()
    };
    // The 900 s jump crosses three five-minute marks (the earlier 61 s may have crossed one).
    let n = runs(&dev.output());
    assert!((3..=4).contains(&n), "{n} runs\n{}", dev.output());
    assert!(!dev.output().contains("- Exception"), "{}", dev.output());
    // And on demand, as `wrangler dev --test-scheduled` (Miniflare answers the outcome, `ok`),
    // more than a second after the last run's KV writes (one write per key per second). Two
    // steps: the first may cross a five-minute mark (the clock follows the wall clock's phase),
    // whose run then writes at the mark; the second puts two more seconds after it.
    dev.advance(2);
    dev.advance(2);
    let ran = get(&dev, "SYD", "/__scheduled?cron=*/5+*+*+*+*");
    assert_eq!(ran.body.trim(), "ok", "{}", ran.body);
    dev.stop();
}

#[test]
fn environments_and_an_entry_on_the_command_line() {
    require_node!();
    let project = copy_of_example("full-project-env");
    let state = temp_dir("full-project-env-state");
    let mut dev = DevServer::start_in(
        Path::new(BIN),
        Some(&project),
        &state,
        &["--env", "staging", "src/index.ts"],
    );
    assert!(
        dev.output().contains("full-project-staging"),
        "{}",
        dev.output()
    );
    let config = get(&dev, "SYD", "/config").json();
    assert_eq!(config["environment"], "staging", "{config}");
    assert_eq!(config["cacheTtl"], 30, "{config}");
    assert_eq!(config["features"]["rates"], false, "{config}");
    dev.stop();

    // Bad input: a missing --supabase directory and an unknown environment are named.
    let out = edgesim(
        &project,
        &["dev", "--supabase", "no/such/dir", "--port", "0"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no/such/dir"), "{err}");
    let out = edgesim(&project, &["dev", "--env", "qa", "--port", "0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no environment named \"qa\""),
        "{err}"
    );
    // A cron production would reject is an error naming the file and line.
    let wrangler = project.join("wrangler.toml");
    let text = std::fs::read_to_string(&wrangler).unwrap();
    std::fs::write(&wrangler, text.replace("*/5 * * * *", "*/5 * * *")).unwrap();
    let out = edgesim(&project, &["dev", "--port", "0", "--supabase-port", "0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("wrangler.toml:19"),
        "{err}"
    );
}

#[test]
fn edgesim_run_in_the_project_uses_its_worker_and_supabase() {
    require_node!();
    let project = copy_of_example("full-project-run");
    let scenarios = repo().join("fixtures/scenarios");
    // A dropped webhook leaves /articles/2 stale for good (no expirationTtl): the checker
    // finds it, with a witness in the project's own terms.
    let out = edgesim(
        &project,
        &[
            "run",
            scenarios.join("dropped-webhook.toml").to_str().unwrap(),
            "--seed",
            "3",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    assert!(text.contains("full-project"), "{text}");
    assert!(text.contains("/articles/2"), "{text}");
    // Every webhook arrives: the project converges.
    let out = edgesim(
        &project,
        &[
            "run",
            scenarios.join("course-happy-path.toml").to_str().unwrap(),
            "--seed",
            "3",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
