//! Fuzzing the scenario loader (see `edgesim_testkit::fuzz`): any text gives a scenario or an
//! error naming file, line and key, never a panic. `just fuzz` runs `fuzz_campaign`.

use edgesim_sim::scenario::Scenario;
use edgesim_testkit::fuzz;

const DICT: &[&str] = &[
    "name = ",
    "duration_s = ",
    "[[colos]]",
    "code = ",
    "latency_ms = ",
    "[kv]",
    "propagation_ms = { min = 1, max = 2 }",
    "read_your_writes = ",
    "[worker]",
    "variant = ",
    "webhook_colo = ",
    "[supabase]",
    "project = ",
    "table = ",
    "[[workload]]",
    "colo = ",
    "rate_per_s = ",
    "paths = [\"/articles\"]",
    "[[mutations]]",
    "at_s = ",
    "sql = ",
    "webhook = \"drop\"",
    "webhook_delay_ms = ",
    "[random_mutations]",
    "every_s = ",
    "insert = ",
    "delete = ",
    "until_s = ",
    "[faults.webhooks]",
    "drop = ",
    "duplicate = ",
    "reorder = ",
    "reorder_ms = ",
    "delay_ms = ",
    "from_s = ",
    "to_s = ",
    "[[faults.kv]]",
    "kind = \"429\"",
    "kind = \"5xx\"",
    "kind = \"latency\"",
    "rate = ",
    "op = ",
    "key_prefix = ",
    "[[faults.partition]]",
    "[[faults.supabase]]",
    "status = ",
    "[expect]",
    "converge_within_s = ",
    "max_staleness_s = ",
    "no_phantoms = ",
    "outcome = { course = \"pass\", hardened = \"fail\" }",
    "\"SYD\"",
    "\"*\"",
    "nan",
    "inf",
    "-inf",
    "-1",
    "1e300",
];

fn target(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    match Scenario::parse("fuzz.toml", &text) {
        Ok(s) => {
            let _ = s.duration_ms();
            for w in &s.workload {
                let _ = s.workload_colos(w);
            }
            "ok".into()
        }
        Err(e) => format!(
            "err:{:?}:{}",
            e.key,
            e.message.chars().take(16).collect::<String>()
        ),
    }
}

#[test]
fn fuzz_corpus_replays_without_panics() {
    let r = fuzz::run("scenario_loader", None, DICT, target);
    assert!(r.corpus_before > 0);
}

/// `just fuzz`.
#[test]
#[ignore = "a campaign: run by `just fuzz`"]
fn fuzz_campaign() {
    let budget = fuzz::budget_from_env().unwrap_or(std::time::Duration::from_secs(10));
    let r = fuzz::run("scenario_loader", Some(budget), DICT, target);
    fuzz::record(&r);
    println!("{}", r.row());
    assert_eq!(r.crashes, 0, "crashes in fuzz/crashes/scenario_loader/");
}
