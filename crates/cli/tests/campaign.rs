//! The campaign command line as CI runs it: `edgesim run DIR --seeds A..B --shard K/4 --junit
//! FILE` on four jobs writes four JUnit files whose testcases together cover every (scenario,
//! seed) pair of the directory exactly once, each failing one with its witness and replay line.
//!
//! The directory is a copy of `fixtures/scenarios` without `standard.toml` (one virtual hour,
//! tens of seconds per seed: a benchmark, not a test), and the seeds are few, to stay fast. The
//! full plan (`fixtures/scenarios`, seeds 1..101, four shards) is checked without running it
//! by `campaign::tests::shards_are_disjoint_and_cover_the_campaign`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_edgesim");

/// The value of attribute `name` in the XML start tag `tag` (the text after `<testcase `).
fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
    let key = format!("{name}=\"");
    let at = tag
        .match_indices(&key)
        .find(|(i, _)| *i == 0 || tag[..*i].ends_with(' '))
        .map(|(i, _)| i + key.len());
    at.map(|i| &tag[i..])
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
}

#[test]
fn four_shards_with_junit_cover_every_scenario_and_seed_exactly_once() {
    let dir = std::env::temp_dir().join(format!("edgesim-cli-campaign-{}", std::process::id()));
    let scen = dir.join("scenarios");
    std::fs::create_dir_all(&scen).unwrap();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/scenarios");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let p = entry.unwrap().path();
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        if p.extension().is_some_and(|e| e == "toml") && stem != "standard" {
            std::fs::copy(&p, scen.join(p.file_name().unwrap())).unwrap();
            names.push(stem);
        }
    }
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    let seeds = 1..3u64;
    let mut seen: BTreeMap<(String, u64), u32> = BTreeMap::new();
    let mut total_tests = 0;
    for k in 1..=4 {
        let junit = dir.join(format!("shard-{k}.xml"));
        let out = Command::new(BIN)
            .arg("run")
            .arg(&scen)
            .args(["--seeds", "1..3", "--shard", &format!("{k}/4")])
            .args(["-j", if k == 2 { "2" } else { "1" }])
            .arg("--junit")
            .arg(&junit)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The course Worker fails most shipped scenarios: exit 1, never 2 (a bad file).
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "shard {k}: {:?}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        // The run says which staleness bounds applied.
        assert!(stdout.contains("staleness bounds: fault-free "), "{stdout}");
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(xml.starts_with("<?xml"), "{xml}");
        total_tests += attr(xml.split("<testsuites").nth(1).unwrap(), "tests")
            .parse::<u32>()
            .unwrap();
        for case in xml.split("<testcase ").skip(1) {
            let classname = attr(case, "classname");
            let name = attr(case, "name");
            let (scenario, seed) = name.split_once(" seed ").unwrap();
            assert_eq!(classname, format!("edgesim.{scenario}"));
            let seed: u64 = seed.parse().unwrap();
            *seen.entry((scenario.to_string(), seed)).or_insert(0) += 1;
            let case = case.split("</testcase>").next().unwrap();
            assert!(
                case.contains("replay: edgesim run ") && case.contains(&format!("--seed {seed}")),
                "{case}"
            );
            if case.contains("<failure ") {
                // The failure text: the violated properties with their witnesses.
                assert!(case.contains("witness: t="), "{case}");
            }
        }
    }
    let want: Vec<(String, u64)> = names
        .iter()
        .flat_map(|n| seeds.clone().map(move |s| (n.clone(), s)))
        .collect();
    assert_eq!(seen.keys().cloned().collect::<Vec<_>>(), want);
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
    assert_eq!(total_tests as usize, want.len());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `edgesim run ... | head -1`: a reader that goes away ends the output quietly; the exit code
/// is still the verdict's (1: violated), not a panic's.
#[test]
fn a_closed_stdout_is_no_panic() {
    let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/scenarios/dropped-webhook.toml");
    let mut child = Command::new(BIN)
        .arg("run")
        .arg(&scenario)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the run has printed anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
}
