//! The JavaScript fixtures (`worker/js/course`, `worker/js/hardened`, wrangler projects) give
//! every shipped scenario the outcome its file states for the Rust Worker of the same strategy
//! (seeds 1-2; `standard` once, shortened to one virtual minute). Needs Node and npm: without
//! them the test prints a SKIPPED line, or fails under `CI=true`. Installs the fixtures with
//! `npm ci` when needed.

use edgesim_sim::runner::{run_worker, worker_of};
use edgesim_sim::scenario::{Outcome, Scenario};
use edgesim_sim::{Variant, Worker, WorkerSpec};
use edgesim_testkit::require_node;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn js_worker(name: &str) -> Worker {
    let dir = root().join("worker/js").join(name);
    edgesim_testkit::npm_ci_if_needed(&dir);
    WorkerSpec::from_path(&dir)
        .resolve()
        .unwrap_or_else(|e| panic!("building worker/js/{name}: {e}"))
}

fn scenario(name: &str) -> Scenario {
    let p = root()
        .join("fixtures/scenarios")
        .join(format!("{name}.toml"));
    Scenario::load(&p).unwrap_or_else(|e| panic!("{e}"))
}

const SCENARIOS: [&str; 6] = [
    "course-happy-path",
    "dropped-webhook",
    "reordered-webhooks",
    "burst-429",
    "colo-partition",
    "supabase-outage",
];

/// Every scenario, for `worker` (the JS twin of `variant`): the outcome the file states for
/// `variant`, and the same violated properties as the Rust Worker when it fails.
fn assert_parity(worker: &Worker, variant: Variant) {
    let mut runs: Vec<(Scenario, u64)> = Vec::new();
    for name in SCENARIOS {
        for seed in 1..=2 {
            runs.push((scenario(name), seed));
        }
    }
    // The benchmark scenario, shortened to its first virtual minute (an hour at 50 req/s takes
    // minutes of JS CPU); its stated outcome holds for both variants.
    let mut standard = scenario("standard");
    standard.duration_s = 60.0;
    standard.mutations.retain(|m| m.at_s < 60.0);
    runs.push((standard, 1));
    for (s, seed) in runs {
        let rust =
            edgesim_sim::run(&s, seed, Some(variant)).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        let js = run_worker(&s, seed, worker).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        let want = match variant {
            Variant::Course => s.expect.outcome.course,
            _ => s.expect.outcome.hardened,
        };
        let got = if js.passed() {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        let report: Vec<String> = js.violations.iter().map(|v| v.to_string()).collect();
        assert_eq!(
            got,
            want,
            "{} with the {} Worker, seed {seed} (replay: edgesim run fixtures/scenarios/{}.toml --seed {seed} --worker worker/js/{}):\n{}",
            s.name,
            worker.name,
            s.name,
            variant.name(),
            report.join("\n")
        );
        let kinds = |r: &edgesim_sim::RunResult| {
            let mut k: Vec<String> = r
                .violations
                .iter()
                .map(|v| format!("{:?}", v.property))
                .collect();
            k.sort();
            k.dedup();
            k
        };
        assert_eq!(
            kinds(&js),
            kinds(&rust),
            "{} seed {seed}: the JS and Rust {} Workers violate different properties",
            s.name,
            variant.name()
        );
    }
}

#[test]
fn js_course_worker_matches_the_rust_course_worker() {
    require_node!();
    let w = js_worker("course");
    assert_eq!(w.name, "course-js");
    assert_eq!(w.kv_bindings, ["ARTICLES"]);
    assert_parity(&w, Variant::Course);
}

#[test]
fn js_hardened_worker_matches_the_rust_hardened_worker() {
    require_node!();
    assert_parity(&js_worker("hardened"), Variant::Hardened);
}

#[test]
fn a_scenario_file_names_a_wrangler_project() {
    require_node!();
    edgesim_testkit::npm_ci_if_needed(&root().join("worker/js/course"));
    let dir = std::env::temp_dir().join(format!("edgesim-js-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(root().join("fixtures/scenarios/dropped-webhook.toml"))
        .unwrap()
        .replace(
            "variant = \"course\"",
            &format!(
                "path = \"{}\"",
                root().join("worker/js/course/wrangler.toml").display()
            ),
        );
    std::fs::write(dir.join("s.toml"), text).unwrap();
    let s = Scenario::load(&dir.join("s.toml")).unwrap();
    let w = worker_of(&s, None).unwrap();
    assert_eq!(w.name, "course-js");
    let r = run_worker(&s, 1, &w).unwrap();
    assert!(!r.passed(), "the course strategy loses a dropped webhook");
    assert_eq!(r.worker, "course-js");
    let _ = std::fs::remove_dir_all(&dir);
}
