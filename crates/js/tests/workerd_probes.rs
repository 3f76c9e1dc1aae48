//! The differential probe suite: every probe Worker in `tests/probes/` runs in edgesim (built
//! with edgesim-js, served by a test host) and in workerd (Miniflare, `tests/probes/workerd.mjs`),
//! and their JSON answers are compared probe by probe.
//!
//! The test fails on a probe whose results differ unless `tests/probes/known-differences.toml`
//! lists it with a reason, and on a listed probe that no longer differs (or no longer exists), so
//! the list stays honest. The README's "Differences from workerd" table must match the list
//! (`EDGESIM_BLESS=1` rewrites it). Both sides' answers and a report are written to
//! `<target>/tmp/workerd-probes/`.
//!
//! Needs Node.js and npm (`npm ci` of Miniflare in `tests/probes/` on first run); without them
//! the test is a visible skip, and a failure under `CI=true`.

mod common;

use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn probes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probes")
}

/// The probe Workers: every `.js` file of `tests/probes/` but the shared runner (`lib.js`).
fn probe_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(probes_dir())
        .expect("tests/probes exists")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".js") && n != "lib.js")
        .collect();
    files.sort();
    files
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownDifferences {
    #[serde(default)]
    difference: Vec<Difference>,
}

/// One reason and the probes (`<file>/<probe>`) it explains.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Difference {
    reason: String,
    probes: Vec<String>,
}

fn known_differences() -> KnownDifferences {
    let path = probes_dir().join("known-differences.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The README table (between its markers) that `known` gives.
fn readme_table(known: &KnownDifferences) -> String {
    let mut out = String::from("| Probes | Why edgesim differs |\n|---|---|\n");
    for d in &known.difference {
        let probes: Vec<String> = d.probes.iter().map(|p| format!("`{p}`")).collect();
        out.push_str(&format!(
            "| {} | {} |\n",
            probes.join(", ").replace('|', "\\|"),
            d.reason.replace('|', "\\|").replace('\n', " ")
        ));
    }
    out
}

const TABLE_START: &str = "<!-- workerd-probes:start (generated from tests/probes/known-differences.toml; EDGESIM_BLESS=1 cargo test -p edgesim-js --test workerd_probes rewrites it) -->\n";
const TABLE_END: &str = "<!-- workerd-probes:end -->";

/// Checks (or, with `EDGESIM_BLESS=1`, rewrites) the README's table. Returns a complaint.
fn check_readme(known: &KnownDifferences) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(&path).expect("the crate README");
    let table = readme_table(known);
    let (Some(start), Some(end)) = (text.find(TABLE_START), text.find(TABLE_END)) else {
        return Some(format!(
            "crates/js/README.md has no generated table (markers `{}` ... `{TABLE_END}`)",
            TABLE_START.trim()
        ));
    };
    let current = &text[start + TABLE_START.len()..end];
    if current == table {
        return None;
    }
    if std::env::var("EDGESIM_BLESS").as_deref() == Ok("1") {
        let new = format!(
            "{}{table}{}",
            &text[..start + TABLE_START.len()],
            &text[end..]
        );
        std::fs::write(&path, new).expect("writing the README");
        return None;
    }
    Some(
        "crates/js/README.md's \"Differences from workerd\" table does not match \
         tests/probes/known-differences.toml (rerun with EDGESIM_BLESS=1 to rewrite it)"
            .to_string(),
    )
}

/// workerd's answers: `node workerd.mjs --env ... <files>` (Miniflare).
fn run_workerd(files: &[String], env: &Value) -> BTreeMap<String, Value> {
    let out = std::process::Command::new("node")
        .arg("workerd.mjs")
        .arg("--env")
        .arg(env.to_string())
        .args(files)
        .current_dir(probes_dir())
        .output()
        .expect("running node");
    assert!(
        out.status.success(),
        "the workerd side (node tests/probes/workerd.mjs) failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    let all: Map<String, Value> = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("workerd.mjs printed no JSON ({e}): {line}"));
    all.into_iter().collect()
}

/// edgesim's answer for one probe Worker: built, served at the default colo.
async fn run_edgesim(file: &str) -> Value {
    let entry = probes_dir().join(file);
    let built = match edgesim_js::build(&entry, &edgesim_js::BuildOptions::default()) {
        Ok(b) => b,
        Err(e) => return serde_json::json!({ "<build>": e.to_string() }),
    };
    let t = common::TestHost::new(&built.wasm, |_| {});
    let all = get(&t, "").await;
    if all.get("<response>").is_none() {
        return all;
    }
    // The whole run failed (a probe crashed the instance): one request per probe.
    let Value::Array(names) = get(&t, "?list").await else {
        return all;
    };
    let mut out = Map::new();
    for name in names.iter().filter_map(Value::as_str) {
        let one = get(&t, &format!("?only={}", encode(name))).await;
        let value = match one.get(name) {
            Some(v) if one.get("<response>").is_none() => v.clone(),
            _ => one,
        };
        out.insert(name.to_string(), value);
    }
    Value::Object(out)
}

/// `GET /probe{query}` at the default colo, as JSON (or `{"<response>": status and text}`).
async fn get(t: &common::TestHost, query: &str) -> Value {
    let inv = t
        .host
        .handle(common::request(
            "GET",
            &format!("/probe{query}"),
            &[("accept-encoding", "gzip")],
            "",
        ))
        .await;
    let text = common::body(&inv);
    serde_json::from_str(&text).unwrap_or_else(|_| {
        let head: String = text.chars().take(500).collect();
        serde_json::json!({ "<response>": format!("{} {head}", inv.response.status()) })
    })
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `<file>/<probe>` to result, for one side. A file-level failure (a build error, a response
/// that is not JSON) stands in for each of the file's probes, so nothing is silently skipped.
fn flatten(answers: &BTreeMap<String, Value>, names: &BTreeSet<String>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for name in names {
        let (file, probe) = name.split_once('/').expect("file/probe");
        let value = match answers.get(file) {
            Some(Value::Object(m)) if m.contains_key("<build>") || m.contains_key("<response>") => {
                Value::Object(m.clone())
            }
            Some(Value::Object(m)) => m
                .get(probe)
                .cloned()
                .unwrap_or(Value::String("<absent>".into())),
            _ => Value::String("<no answer>".into()),
        };
        out.insert(name.clone(), value);
    }
    out
}

fn probe_names(answers: &BTreeMap<String, Value>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (file, v) in answers {
        if let Value::Object(m) = v {
            for probe in m.keys() {
                if !probe.starts_with('<') {
                    names.insert(format!("{file}/{probe}"));
                }
            }
        }
    }
    names
}

#[tokio::test(start_paused = true)]
async fn edgesim_matches_workerd_or_lists_why_not() {
    if !common::node_or_skip("edgesim_matches_workerd_or_lists_why_not") {
        return;
    }
    let known = known_differences();
    let files = probe_files();
    edgesim_testkit::npm_ci_if_needed(&probes_dir());

    // workerd in the background while edgesim builds (both mostly wait on other processes).
    let config = edgesim_host::HostConfig::new(common::SUPABASE_URL);
    let mut vars: Map<String, Value> = config
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    vars.insert("SUPABASE_ANON_KEY".into(), Value::String("anon-key".into()));
    // request.cf at the default colo, as the adapter completes it for `accept-encoding: gzip`.
    let colo = config
        .colo(&config.default_colo)
        .expect("the default colo")
        .clone();
    let mut cf = edgesim_host::cf::request_cf(&colo);
    cf["clientAcceptEncoding"] = Value::String("gzip".into());
    let env = serde_json::json!({ "vars": vars, "kv": config.kv_bindings, "cf": cf });
    let workerd_files = files.clone();
    let workerd = std::thread::spawn(move || run_workerd(&workerd_files, &env));

    let mut edgesim = BTreeMap::new();
    for file in &files {
        edgesim.insert(file.clone(), run_edgesim(file).await);
    }
    let workerd = workerd.join().expect("the workerd side");

    // Every probe either side knows of.
    let mut names = probe_names(&workerd);
    names.extend(probe_names(&edgesim));
    let ours = flatten(&edgesim, &names);
    let theirs = flatten(&workerd, &names);

    let mut listed: BTreeMap<&str, &str> = BTreeMap::new();
    let mut problems = Vec::new();
    for d in &known.difference {
        for p in &d.probes {
            if listed.insert(p.as_str(), d.reason.as_str()).is_some() {
                problems.push(format!("known-differences.toml lists `{p}` twice"));
            }
        }
    }
    let mut report = String::new();
    let (mut equal, mut differ_listed) = (0, 0);
    for name in &names {
        let (a, b) = (&ours[name], &theirs[name]);
        let same = a == b;
        match (same, listed.get(name.as_str())) {
            (true, None) => equal += 1,
            (true, Some(_)) => problems.push(format!(
                "`{name}` is listed in known-differences.toml but now equals workerd ({a}): remove it"
            )),
            (false, Some(_)) => differ_listed += 1,
            (false, None) => problems.push(format!(
                "`{name}` differs and is not listed:\n    edgesim: {a}\n    workerd: {b}"
            )),
        }
        if !same {
            report.push_str(&format!(
                "{name}\n  edgesim: {a}\n  workerd: {b}\n  listed: {}\n",
                listed.get(name.as_str()).unwrap_or(&"NO")
            ));
        }
    }
    for p in listed.keys() {
        if !names.contains(*p) {
            problems.push(format!(
                "known-differences.toml lists `{p}`, which no probe reports"
            ));
        }
    }
    if let Some(complaint) = check_readme(&known) {
        problems.push(complaint);
    }

    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("workerd-probes");
    let _ = std::fs::create_dir_all(&out_dir);
    let pretty = |m: &BTreeMap<String, Value>| serde_json::to_string_pretty(m).unwrap_or_default();
    let _ = std::fs::write(out_dir.join("edgesim.json"), pretty(&ours));
    let _ = std::fs::write(out_dir.join("workerd.json"), pretty(&theirs));
    let _ = std::fs::write(out_dir.join("differences.txt"), &report);
    println!(
        "workerd probes: {} probes in {} files: {equal} equal, {differ_listed} differ and are listed, {} problems (answers in {})",
        names.len(),
        files.len(),
        problems.len(),
        out_dir.display()
    );
    assert!(
        problems.is_empty(),
        "{} problem(s) in the workerd probe suite:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
