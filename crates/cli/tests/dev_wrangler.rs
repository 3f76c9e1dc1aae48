//! `edgesim dev` on wrangler projects over loopback: the course walkthrough with the JS course
//! Worker (`worker/js/course`), vars from `.dev.vars`, rebuilds on save (a syntax error fixed
//! while dev runs), an uncaught exception (1101) and a Worker that never answers.
//! Needs Node and npm (SKIPPED without them; a failure under `CI=true`).

use edgesim_tests::{DevServer, Reply, npm_ci_if_needed, temp_dir};

use edgesim_testkit::require_node;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");

fn fixture(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../worker/js")
        .join(name);
    npm_ci_if_needed(&dir);
    dir
}

fn get(dev: &DevServer, colo: &str, path: &str) -> Reply {
    dev.get_ok(colo, path)
}

fn title_of(r: &Reply) -> String {
    r.json()["title"].as_str().unwrap_or_default().to_string()
}

/// Polls `GET path` until `ok` holds for the reply (a rebuild takes a few seconds).
fn eventually(dev: &DevServer, path: &str, ok: impl Fn(&Reply) -> bool, what: &str) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let r = dev.get_at("SYD", path);
        if ok(&r) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: last reply {} {}\n{}",
            r.status,
            r.body,
            dev.output()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn js_course_walkthrough_from_its_wrangler_project() {
    require_node!();
    let project = fixture("course");
    let state = temp_dir("js-walkthrough");
    // `edgesim dev` in the project's directory finds its wrangler.toml.
    let mut dev = DevServer::start_in(Path::new(BIN), Some(&project), &state, &["--seed", "11"]);
    assert!(dev.output().contains("course-js"), "{}", dev.output());

    // A miss (filled from Supabase), then a hit.
    let first = get(&dev, "SYD", "/articles");
    assert_eq!(first.header("x-kv"), Some("miss"), "{}", dev.output());
    assert!(first.body.contains("second blog"), "{}", first.body);
    assert_eq!(get(&dev, "SYD", "/articles").header("x-kv"), Some("hit"));

    // FRA caches row 2 before the change.
    assert_eq!(title_of(&get(&dev, "FRA", "/articles/2")), "second blog");
    dev.advance(2);

    // PATCH the row; its webhook reaches POST /revalidate at SYD, whose waitUntil writes KV.
    dev.patch_and_await(
        "/rest/v1/articles?id=eq.2",
        r#"{"title":"cool second blog"}"#,
        "waitUntil completed colo=SYD method=POST path=/revalidate",
        Duration::from_secs(30),
    );

    // Fresh at the webhook's colo, stale at FRA until its cacheTtl (60 s) passes.
    assert_eq!(
        title_of(&get(&dev, "SYD", "/articles/2")),
        "cool second blog"
    );
    assert_eq!(title_of(&get(&dev, "FRA", "/articles/2")), "second blog");
    dev.advance(120);
    for colo in ["SYD", "FRA", "IAD"] {
        assert_eq!(
            title_of(&get(&dev, colo, "/articles/2")),
            "cool second blog",
            "at {colo}"
        );
    }
    // The Worker's Supabase requests stayed in-process: the mock served no REST request from
    // the Worker over loopback (only the PATCH above).
    let out = dev.output();
    assert!(!out.contains("connection refused"), "{out}");
}

/// A wrangler project in a temporary directory with one `index.js`.
fn project(name: &str, wrangler: &str, js: &str) -> edgesim_tests::TempDir {
    let dir = temp_dir(name);
    std::fs::write(dir.join("wrangler.toml"), wrangler).unwrap();
    std::fs::write(dir.join("index.js"), js).unwrap();
    dir
}

/// `edgesim dev --config <dir>/wrangler.toml`, with its state inside the project.
fn dev_on(dir: &Path) -> DevServer {
    let config = dir.join("wrangler.toml");
    DevServer::start(
        Path::new(BIN),
        &dir.join(".edgesim"),
        &["--config", config.to_str().unwrap()],
    )
}

const ECHO: &str = r#"export default {
  async fetch(request, env) {
    return new Response(`${env.GREETING} ${env.SECRET} v1`);
  },
};
"#;

#[test]
fn dev_vars_rebuilds_and_a_syntax_error_fixed_while_dev_runs() {
    require_node!();
    let dir = project(
        "js-echo",
        "name = \"echo\"\nmain = \"index.js\"\naccount_id = \"x\"\n[vars]\nGREETING = \"hello\"\n",
        ECHO,
    );
    std::fs::write(dir.join(".dev.vars"), "SECRET=\"s3cret\" # local only\n").unwrap();
    let dev = dev_on(&dir);
    // Keys we do not emulate are named once.
    assert!(
        dev.output()
            .contains("not emulated by edgesim, ignored: account_id"),
        "{}",
        dev.output()
    );
    assert_eq!(get(&dev, "SYD", "/").body, "hello s3cret v1");

    // A new .dev.vars value reaches the Worker without a restart.
    std::fs::write(dir.join(".dev.vars"), "SECRET=changed\n").unwrap();
    eventually(
        &dev,
        "/",
        |r| r.body == "hello changed v1",
        ".dev.vars change",
    );

    // A syntax error: esbuild's message with file:line:column; the last good build serves on.
    std::fs::write(
        dir.join("index.js"),
        "export default {\n  async fetch(request, env) {\n    return new Response(\"v2\";\n  },\n};\n",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !dev.output().contains("index.js:3:") {
        assert!(
            Instant::now() < deadline,
            "no build error:\n{}",
            dev.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(get(&dev, "SYD", "/").body, "hello changed v1");

    // Fixed on the next save.
    std::fs::write(dir.join("index.js"), ECHO.replace("v1", "v3")).unwrap();
    eventually(
        &dev,
        "/",
        |r| r.body == "hello changed v3",
        "the fixed build",
    );
}

#[test]
fn a_first_build_that_fails_serves_an_error_page_until_fixed() {
    require_node!();
    let dir = project(
        "js-broken",
        "main = \"index.js\"\n",
        "export default { fetch() { return new Response(\"ok\") }\n",
    );
    let dev = dev_on(&dir);
    let r = dev.get_at("SYD", "/");
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(dev.output().contains("index.js:"), "{}", dev.output());
    std::fs::write(
        dir.join("index.js"),
        "export default { fetch() { return new Response(\"fixed\") } };\n",
    )
    .unwrap();
    eventually(
        &dev,
        "/",
        |r| r.status == 200 && r.body == "fixed",
        "the fixed build",
    );
}

#[test]
fn uncaught_exceptions_and_workers_that_never_answer() {
    require_node!();
    let dir = project(
        "js-misbehave",
        "main = \"index.js\"\n",
        r#"export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/throw") throw new Error("boom from the Worker");
    if (path === "/hang") return new Promise(() => {});
    return new Response("ok");
  },
};
"#,
    );
    let mut dev = dev_on(&dir);
    let thrown = dev.get_at("SYD", "/throw");
    assert_eq!(thrown.status, 500, "{}", thrown.body);
    assert!(thrown.body.contains("1101"), "{}", thrown.body);
    assert!(
        dev.wait_for_output("boom from the Worker", Duration::from_secs(10)),
        "{}",
        dev.output()
    );
    assert_eq!(get(&dev, "SYD", "/").body, "ok");
    let hung = dev.get_at("SYD", "/hang");
    assert!(hung.status >= 500, "{} {}", hung.status, hung.body);
    assert_eq!(get(&dev, "FRA", "/").body, "ok");
}
