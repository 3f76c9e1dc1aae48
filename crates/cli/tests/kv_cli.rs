//! `edgesim kv key|bulk` over loopback against `edgesim dev` (the embedded course Worker), and
//! offline on its persisted state.

use edgesim_tests::{DevServer, Reply, free_port, request, temp_dir};
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");

/// Runs `edgesim kv ARGS` in `cwd`.
fn kv(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(cwd)
        .arg("kv")
        .args(args)
        .output()
        .expect("cannot run edgesim kv")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `edgesim kv ARGS` and asserts it succeeded; returns its stdout.
fn ok(cwd: &Path, args: &[&str]) -> String {
    let o = kv(cwd, args);
    assert!(
        o.status.success(),
        "edgesim kv {args:?} failed:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Runs `edgesim kv ARGS` and asserts it failed; returns its stderr.
fn fails(cwd: &Path, args: &[&str]) -> String {
    let o = kv(cwd, args);
    assert!(
        !o.status.success(),
        "edgesim kv {args:?} succeeded:\n{}",
        stdout(&o)
    );
    stderr(&o)
}

fn view(port: u16, key_path: &str) -> serde_json::Value {
    let r = request(
        port,
        "GET",
        &format!("/__edgesim/kv/ARTICLES/{key_path}"),
        &[],
        None,
    )
    .expect("GET view");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn title(r: &Reply) -> String {
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["title"].as_str().unwrap_or_default().to_string()
}

#[test]
fn kv_commands_against_a_running_dev() {
    let cwd = temp_dir("kv-cli-cwd");
    let state = temp_dir("kv-cli-state");
    let dev = DevServer::start_in(Path::new(BIN), Some(&cwd), &state, &[]);
    let port = dev.port.to_string();
    let at = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend(["--binding", "ARTICLES", "--port", &port].map(String::from));
        v
    };
    let run_ok = |args: &[&str]| {
        let a = at(args);
        ok(&cwd, &a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let run_fails = |args: &[&str]| {
        let a = at(args);
        fails(&cwd, &a.iter().map(String::as_str).collect::<Vec<_>>())
    };

    // put: lands at central; the stderr line says where it acted.
    let o = kv(
        &cwd,
        &at(&["key", "put", "/articles", "[]"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "using the running edgesim dev at http://127.0.0.1:{port}"
        )),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        stdout(&o).trim(),
        "Writing the value \"[]\" to key \"/articles\" on namespace ARTICLES."
    );
    assert_eq!(view(dev.port, "/articles")["central"]["value"], "[]");
    assert_eq!(run_ok(&["key", "get", "/articles"]), "[]");
    assert_eq!(run_ok(&["key", "get", "/articles", "--text"]), "[]\n");
    // The Worker serves it (no colo had it cached).
    assert_eq!(dev.get_at("IAD", "/articles").body.trim(), "[]");

    // A colo that cached a key keeps serving it until its cacheTtl; others see the new value.
    assert_eq!(title(&dev.get_at("FRA", "/articles/2")), "second blog");
    dev.advance(2); // past the one write per second of the Worker's own put
    run_ok(&[
        "key",
        "put",
        "/articles/2",
        r#"{"id":2,"title":"from the cli"}"#,
        "--metadata",
        r#"{"by":"cli"}"#,
        "--ttl",
        "3600",
    ]);
    assert_eq!(title(&dev.get_at("FRA", "/articles/2")), "second blog");
    assert_eq!(title(&dev.get_at("IAD", "/articles/2")), "from the cli");
    dev.advance(61);
    assert_eq!(title(&dev.get_at("FRA", "/articles/2")), "from the cli");

    // list with a prefix: wrangler's JSON.
    let listed: serde_json::Value =
        serde_json::from_str(&run_ok(&["key", "list", "--prefix", "/articles/"])).unwrap();
    let keys = listed.as_array().expect("an array");
    assert_eq!(keys.len(), 1, "{listed}");
    assert_eq!(keys[0]["name"], "/articles/2");
    assert_eq!(keys[0]["metadata"], serde_json::json!({"by": "cli"}));
    assert!(keys[0]["expiration"].as_u64().is_some(), "{listed}");

    // Bad input: production's messages; unknown binding: the bound ones.
    let e = run_fails(&["key", "put", "k", "v", "--ttl", "30"]);
    assert!(
        e.contains(
            "KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60."
        ),
        "{e}"
    );
    let e = fails(
        &cwd,
        &["key", "get", "k", "--binding", "NOPE", "--port", &port],
    );
    assert!(
        e.contains("No KV namespace is bound as \"NOPE\". Bound: ARTICLES."),
        "{e}"
    );
    run_ok(&["key", "put", "k", "v"]);
    let e = run_fails(&["key", "put", "k", "again"]);
    assert!(e.contains("KV PUT failed: 429 Too Many Requests"), "{e}");

    // delete.
    dev.advance(2);
    run_ok(&["key", "delete", "/articles"]);
    assert_eq!(
        run_ok(&["key", "get", "/articles"]).trim(),
        "Value not found"
    );
    assert_eq!(view(dev.port, "%2Farticles")["central"]["deleted"], true);

    // bulk put of a JSON file (base64 decoded), then bulk delete.
    let pairs = cwd.join("pairs.json");
    std::fs::write(
        &pairs,
        r#"[{"key":"/bulk/1","value":"one"},{"key":"/bulk/2","value":"dHdv","base64":true,"expiration_ttl":600}]"#,
    )
    .unwrap();
    assert_eq!(run_ok(&["bulk", "put", "pairs.json"]).trim(), "Success!");
    assert_eq!(run_ok(&["key", "get", "/bulk/2"]), "two");
    let names: Vec<String> =
        serde_json::from_str::<serde_json::Value>(&run_ok(&["key", "list", "--prefix", "/bulk"]))
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap().to_string())
            .collect();
    assert_eq!(names, ["/bulk/1", "/bulk/2"]);
    let bad = cwd.join("bad.json");
    std::fs::write(&bad, "[{\"key\": \"a\", \"value\": \"b\"},\n  {oops}]").unwrap();
    let e = run_fails(&["bulk", "put", "bad.json"]);
    assert!(e.contains("bad.json:2:"), "{e}");
    std::fs::write(&bad, r#"[{"key":"a","value":1}]"#).unwrap();
    let e = run_fails(&["bulk", "put", "bad.json"]);
    assert!(e.contains("Unexpected JSON input from \"bad.json\""), "{e}");
    assert!(
        e.contains(r#"The item at index 0 is {"key":"a","value":1}"#),
        "{e}"
    );
    dev.advance(2);
    std::fs::write(cwd.join("keys.json"), r#"["/bulk/1","/bulk/2"]"#).unwrap();
    assert_eq!(
        run_ok(&["bulk", "delete", "keys.json", "--force"]).trim(),
        "Success!"
    );
    assert_eq!(run_ok(&["key", "list", "--prefix", "/bulk"]).trim(), "[]");
}

#[test]
fn kv_commands_on_persisted_state_without_a_server() {
    let cwd = temp_dir("kv-cli-offline");
    let state = temp_dir("kv-cli-offline-state");
    let dir = state.to_str().unwrap();
    let port = free_port().to_string(); // nothing listens there
    let at = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend(
            [
                "--binding",
                "ARTICLES",
                "--port",
                &port,
                "--persist-to",
                dir,
            ]
            .map(String::from),
        );
        v
    };
    let args = at(&["key", "put", "/articles", r#"[{"id":1,"title":"offline"}]"#]);
    let o = kv(&cwd, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no edgesim dev answers") && stderr(&o).contains("kv.sqlite3"),
        "{}",
        stderr(&o)
    );
    let args = at(&["key", "get", "/articles"]);
    assert_eq!(
        ok(&cwd, &args.iter().map(String::as_str).collect::<Vec<_>>()),
        r#"[{"id":1,"title":"offline"}]"#
    );
    // The state file now knows ARTICLES; another binding is refused, naming the known ones.
    let e = fails(
        &cwd,
        &[
            "key",
            "get",
            "x",
            "--binding",
            "NOPE",
            "--port",
            &port,
            "--persist-to",
            dir,
        ],
    );
    assert!(
        e.contains("\"NOPE\"") && e.contains("Known: ARTICLES."),
        "{e}"
    );

    // edgesim dev on that state serves the key.
    let dev = DevServer::start_in(Path::new(BIN), Some(&cwd), &state, &[]);
    assert_eq!(
        view(dev.port, "/articles")["central"]["value"],
        r#"[{"id":1,"title":"offline"}]"#
    );
    let r = dev.get_at("SYD", "/articles");
    assert_eq!(r.json()[0]["title"], "offline", "{}", r.body);
}
