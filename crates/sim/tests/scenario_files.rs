//! Every shipped scenario parses; bad files are rejected with file, line and key.

use edgesim_sim::scenario::{Outcome, Scenario};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/scenarios")
}

#[test]
fn shipped_scenarios_parse_and_state_outcomes() {
    for name in [
        "course-happy-path",
        "dropped-webhook",
        "reordered-webhooks",
        "burst-429",
        "colo-partition",
        "supabase-outage",
        "standard",
    ] {
        let s =
            Scenario::load(&dir().join(format!("{name}.toml"))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.name, name);
        assert_eq!(s.expect.outcome.hardened, Outcome::Pass, "{name}");
    }
}

const GOOD: &str = r#"
name = "t"
duration_s = 10
[[colos]]
code = "SYD"
[expect]
converge_within_s = 5
outcome = { course = "pass", hardened = "pass" }
"#;

fn err(text: &str) -> String {
    Scenario::parse("x.toml", text).unwrap_err().to_string()
}

#[test]
fn errors_name_file_line_and_key() {
    assert!(Scenario::parse("x.toml", GOOD).is_ok());
    let e = err(&format!("{GOOD}\n[faults.webhooks]\ndrop = 1.5\n"));
    assert_eq!(
        e,
        "x.toml:11:8: key `drop`: must be a probability between 0 and 1, got 1.5"
    );
    let e = err(&format!("{GOOD}\n[faults.webhooks]\ndorp = 0.5\n"));
    assert!(
        e.starts_with("x.toml:11:1: key `dorp`: unknown field `dorp`"),
        "{e}"
    );
    let e = err(&format!(
        "{GOOD}\n[[faults.partition]]\ncolo = \"FRA\"\nfrom_s = 1\nto_s = 2\n"
    ));
    assert!(
        e.starts_with("x.toml:11:8: key `colo`: unknown colo \"FRA\""),
        "{e}"
    );
    let e = err(&format!(
        "{GOOD}\n[[faults.partition]]\ncolo = \"SYD\"\nfrom_s = 1\nto_s = 20\n"
    ));
    assert!(
        e.starts_with("x.toml:13:8: key `to_s`: the window must end"),
        "{e}"
    );
    let e = err(&GOOD.replace("code = \"SYD\"", "code = \"sydney\""));
    assert!(e.starts_with("x.toml:5:8: key `code`: a colo code"), "{e}");
    let e = err(&format!(
        "{GOOD}\n[kv]\npropagation_ms = {{ min = 9, max = 1 }}\n"
    ));
    assert!(e.contains("key `propagation_ms`"), "{e}");
    assert!(e.contains("max (1) must be at least min (9)"), "{e}");
    let e = err(&GOOD.replace("course = \"pass\"", "course = \"maybe\""));
    assert!(e.starts_with("x.toml:8:"), "{e}");
    assert!(e.contains("unknown variant `maybe`"), "{e}");
    let e = err("name = \"t\"\n");
    assert!(e.contains("missing field"), "{e}");
}
