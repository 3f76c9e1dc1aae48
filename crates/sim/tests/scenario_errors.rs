//! Cross-field scenario errors name the line and key at fault (not `file:1:1`), and every fault
//! window, `[faults.webhooks]` included, is validated the same way.

use edgesim_sim::scenario::Scenario;

const GOOD: &str = r#"name = "t"
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

fn starts(e: &str, want: &str) {
    assert!(e.starts_with(want), "want {want:?}, got {e:?}");
}

#[test]
fn colo_errors_point_at_the_colos() {
    starts(
        &err(
            "name = \"t\"\nduration_s = 10\ncolos = []\n[expect]\nconverge_within_s = 5\noutcome = { course = \"pass\", hardened = \"pass\" }\n",
        ),
        "x.toml:3:9: key `colos`: at least one [[colos]] entry is required",
    );
    starts(
        &err(&GOOD.replace(
            "[expect]",
            "[[colos]]\ncode = \"FRA\"\n[[colos]]\ncode = \"SYD\"\n[expect]",
        )),
        "x.toml:8:8: key `code`: colo SYD is listed twice",
    );
}

#[test]
fn a_late_mutation_names_its_at_s() {
    starts(
        &err(&format!(
            "{GOOD}[[mutations]]\nsql = \"select 1\"\nat_s = 11\n"
        )),
        "x.toml:10:8: key `at_s`: mutation at_s = 11 is after duration_s = 10",
    );
}

#[test]
fn bad_op_and_status_name_their_own_lines() {
    starts(
        &err(&format!(
            "{GOOD}[[faults.kv]]\nkind = \"429\"\nop = \"fetch\"\nfrom_s = 1\nto_s = 2\n"
        )),
        "x.toml:10:6: key `op`: op must be get, put, delete or list",
    );
    starts(
        &err(&format!(
            "{GOOD}[[faults.supabase]]\nkind = \"5xx\"\nstatus = 200\nfrom_s = 1\nto_s = 2\n"
        )),
        "x.toml:10:10: key `status`: status must be 400..=599, got 200",
    );
}

#[test]
fn webhook_fault_windows_are_validated_like_the_others() {
    let hooks = |body: &str| err(&format!("{GOOD}[faults.webhooks]\ndrop = 0.5\n{body}"));
    starts(
        &hooks("from_s = -1\n"),
        "x.toml:10:10: key `from_s`: must be zero or a positive number, got -1",
    );
    starts(
        &hooks("from_s = 5\nto_s = 3\n"),
        "x.toml:11:8: key `to_s`: the window must end after from_s (5)",
    );
    starts(
        &hooks("to_s = 30\n"),
        "x.toml:10:8: key `to_s`: the window must end after from_s (0) and within duration_s (10)",
    );
    starts(
        &hooks("from_s = 12\n"),
        "x.toml:10:10: key `from_s`: the window must end after from_s (12)",
    );
    assert!(
        Scenario::parse(
            "x.toml",
            &format!("{GOOD}[faults.webhooks]\nfrom_s = 2\nto_s = 10\n")
        )
        .is_ok()
    );
    // A negative from_s elsewhere is refused as the value is read, on its own line.
    starts(
        &err(&format!(
            "{GOOD}[[faults.partition]]\ncolo = \"SYD\"\nfrom_s = -1\nto_s = 2\n"
        )),
        "x.toml:10:10: key `from_s`: must be zero or a positive number",
    );
}
