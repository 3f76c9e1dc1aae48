//! Each shipped scenario gives the outcome its file states, for both Worker variants (seeds 1-3),
//! and where the course Worker fails, it fails for the reason the scenario describes: every
//! violation's witness names that cause (the 429, the 503 window, the dropped or late webhook,
//! the partition), so a Worker failing for an unrelated reason does not count.

use edgesim_sim::scenario::{Outcome, Scenario};
use edgesim_sim::{Variant, run};
use std::path::PathBuf;

fn scenario(name: &str) -> Scenario {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/scenarios")
        .join(format!("{name}.toml"));
    Scenario::load(&p).unwrap_or_else(|e| panic!("{e}"))
}

fn assert_outcome(name: &str) {
    assert_outcome_because(name, None);
}

/// Like [`assert_outcome`]; every violation of a failing run must name `cause` in its
/// explanation (its `during:` fault windows or its `because:` events), not merely in the
/// witness's reads.
fn assert_outcome_because(name: &str, cause: Option<&str>) {
    let s = scenario(name);
    for (variant, seed) in [Variant::Course, Variant::Hardened]
        .into_iter()
        .flat_map(|v| (1..=3).map(move |seed| (v, seed)))
    {
        let r = run(&s, seed, Some(variant)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = r.expected.unwrap();
        let got = if r.passed() {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        let report: Vec<String> = r.violations.iter().map(|v| v.to_string()).collect();
        assert_eq!(
            got,
            want,
            "{name} with the {} Worker, seed {seed}: {}",
            variant.name(),
            report.join("\n")
        );
        if let Some(cause) = cause {
            for v in &report {
                let explains = v
                    .lines()
                    .map(str::trim_start)
                    .filter(|l| l.starts_with("during:") || l.starts_with("because:"))
                    .any(|l| l.contains(cause));
                assert!(
                    explains,
                    "{name}, {} Worker, seed {seed}: the witness does not name {cause:?}:\n{v}",
                    variant.name()
                );
            }
        }
    }
}

#[test]
fn course_happy_path() {
    assert_outcome("course-happy-path");
}

#[test]
fn dropped_webhook() {
    assert_outcome_because("dropped-webhook", Some("webhook_dropped"));
}

#[test]
fn reordered_webhooks() {
    assert_outcome_because("reordered-webhooks", Some("late by"));
}

#[test]
fn burst_429() {
    assert_outcome_because("burst-429", Some("kv 429"));
}

#[test]
fn colo_partition() {
    assert_outcome_because("colo-partition", Some("partition FRA"));
}

#[test]
fn supabase_outage() {
    assert_outcome_because("supabase-outage", Some("status=503"));
}

#[test]
fn a_component_file_named_by_the_scenario_runs() {
    let dir = std::env::temp_dir().join(format!("edgesim-sim-component-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hello.wasm"), edgesim_guests::fixtures::HELLO).unwrap();
    let text = r#"
name = "hello"
duration_s = 20
[[colos]]
code = "SYD"
[[colos]]
code = "NRT"
[worker]
path = "hello.wasm"
[[workload]]
colo = "*"
rate_per_s = 2.0
paths = ["/hello"]
[expect]
converge_within_s = 10
outcome = { course = "pass", hardened = "pass" }
"#;
    std::fs::write(dir.join("hello.toml"), text).unwrap();
    let s = Scenario::load(&dir.join("hello.toml")).unwrap();
    let r = run(&s, 1, None).unwrap();
    // It runs and serves, but /hello is no tracked path: the checker had nothing to judge, and
    // says so instead of passing.
    let kinds: Vec<_> = r.violations.iter().map(|v| v.property).collect();
    assert_eq!(kinds, [edgesim_sim::Property::NothingChecked]);
    assert_eq!(r.variant, None);
    assert!(r.requests > 40, "{} requests", r.requests);
    assert!(r.event_text().contains("status=200"));
    std::fs::write(
        dir.join("broken.toml"),
        text.replace("hello.wasm", "missing.wasm"),
    )
    .unwrap();
    let s = Scenario::load(&dir.join("broken.toml")).unwrap();
    let e = run(&s, 1, None).unwrap_err().to_string();
    assert!(e.contains("missing.wasm"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
