//! Seed campaigns for `edgesim run`: which (scenario, seed) pairs this invocation runs (several
//! files or a directory, a seed range, a shard of N), running them on `-j` threads, and the
//! JUnit XML and JSON Lines outputs CI systems read.

use edgesim_sim::runner::{RunError, RunResult, run_worker};
use edgesim_sim::scenario::Scenario;
use edgesim_sim::{Status, Variant, Worker};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `K/N`: the K-th (1-based) of N disjoint slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, 1..=n.
    pub k: usize,
    /// How many slices.
    pub n: usize,
}

/// Parses `K/N` with 1 <= K <= N.
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad = || format!("expected K/N with 1 <= K <= N, got {s:?}");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k: usize = k.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok(Shard { k, n })
}

/// The scenario files `inputs` name: files as given, directories expanded to their `*.toml`
/// files in name order.
pub fn scenario_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "toml") && f.is_file())
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(format!("{}: no *.toml scenario files", p.display()));
            }
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// One unit of a campaign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    /// Index into the scenario list.
    pub scenario: usize,
    /// The seed.
    pub seed: u64,
}

/// Every (scenario, seed) pair in order (scenario-major), and the slice `shard` takes: pair `i`
/// belongs to shard `i % n + 1`, so N shards are disjoint and together cover every pair.
pub fn plan(scenarios: usize, seeds: (u64, u64), shard: Option<Shard>) -> Vec<Pair> {
    let mut all = Vec::new();
    for scenario in 0..scenarios {
        for seed in seeds.0..seeds.1 {
            all.push(Pair { scenario, seed });
        }
    }
    match shard {
        None => all,
        Some(s) => all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % s.n == s.k - 1)
            .map(|(_, p)| p)
            .collect(),
    }
}

/// The result of one pair (the run's events are dropped unless a report needs them).
pub struct Outcome {
    /// The pair.
    pub pair: Pair,
    /// The run.
    pub result: RunResult,
}

/// Runs `pairs` on `jobs` threads; results come back in `pairs` order whatever the schedule.
/// `keep_events(i, passed)` says whether pair `i`'s event log is kept (for a report). Stops
/// at the first bad scenario (a [`RunError`]).
pub fn run_all(
    scenarios: &[Scenario],
    workers: &[Worker],
    pairs: &[Pair],
    jobs: usize,
    keep_events: &(dyn Fn(usize, bool) -> bool + Sync),
    progress: &(dyn Fn(&RunResult) + Sync),
) -> Result<Vec<Outcome>, (Pair, RunError)> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<RunResult, RunError>>>> =
        pairs.iter().map(|_| Mutex::new(None)).collect();
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(pairs.len().max(1)) {
            scope.spawn(|| {
                loop {
                    if failed.load(Ordering::SeqCst) {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(pair) = pairs.get(i) else { return };
                    let r = run_worker(
                        &scenarios[pair.scenario],
                        pair.seed,
                        &workers[pair.scenario],
                    )
                    .map(|mut r| {
                        if !keep_events(i, r.passed()) {
                            r.events = Vec::new();
                            r.history = None;
                        }
                        progress(&r);
                        r
                    });
                    if r.is_err() {
                        failed.store(true, Ordering::SeqCst);
                    }
                    *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                }
            });
        }
    });
    let mut out = Vec::new();
    for (pair, slot) in pairs.iter().zip(slots) {
        match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(Ok(result)) => out.push(Outcome {
                pair: pair.clone(),
                result,
            }),
            Some(Err(e)) => return Err((pair.clone(), e)),
            None => {}
        }
    }
    Ok(out)
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The failure text of a run: every violation with its witness, then the replay line.
pub fn failure_text(r: &RunResult, replay: &str) -> String {
    let mut t = String::new();
    for v in &r.violations {
        t.push_str(&v.to_string());
        t.push('\n');
    }
    t.push_str(&format!("replay: {replay}\n"));
    t
}

/// The testcase name of a pair: `<scenario> seed <n>`.
pub fn case_name(r: &RunResult) -> String {
    format!("{} seed {}", r.scenario, r.seed)
}

/// JUnit XML: one testsuite per scenario file, one testcase per (scenario, seed); a violated
/// run is a `<failure>` whose text is the witness and the replay line.
pub fn junit(
    files: &[PathBuf],
    outcomes: &[Outcome],
    replay: &dyn Fn(&Outcome) -> String,
) -> String {
    let failures = outcomes.iter().filter(|o| !o.result.passed()).count();
    let wall: u64 = outcomes.iter().map(|o| o.result.wall_ms).sum();
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"edgesim\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">\n",
        outcomes.len(),
        wall as f64 / 1000.0
    );
    for (i, file) in files.iter().enumerate() {
        let mine: Vec<&Outcome> = outcomes.iter().filter(|o| o.pair.scenario == i).collect();
        if mine.is_empty() {
            continue;
        }
        let name = mine[0].result.scenario.clone();
        let f = mine.iter().filter(|o| !o.result.passed()).count();
        let t: u64 = mine.iter().map(|o| o.result.wall_ms).sum();
        x.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" time=\"{:.3}\" file=\"{}\">\n",
            xml(&name),
            mine.len(),
            t as f64 / 1000.0,
            xml(&file.display().to_string())
        ));
        for o in mine {
            let r = &o.result;
            let variant = r.variant.map_or("component", Variant::name);
            x.push_str(&format!(
                "    <testcase classname=\"edgesim.{}\" name=\"{}\" time=\"{:.3}\">\n",
                xml(&name),
                xml(&case_name(r)),
                r.wall_ms as f64 / 1000.0
            ));
            if !r.passed() {
                let first = r
                    .violations
                    .first()
                    .map(|v| v.to_string().lines().next().unwrap_or_default().to_string())
                    .unwrap_or_default();
                x.push_str(&format!(
                    "      <failure message=\"{} Worker: {}\" type=\"violation\">{}</failure>\n",
                    variant,
                    xml(&first),
                    xml(&failure_text(r, &replay(o)))
                ));
            }
            x.push_str(&format!(
                "      <system-out>replay: {}\ndigest: {}</system-out>\n    </testcase>\n",
                xml(&replay(o)),
                r.digest
            ));
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// One JSON object per line and pair: what a merge of many shards needs.
pub fn jsonl(
    files: &[PathBuf],
    outcomes: &[Outcome],
    replay: &dyn Fn(&Outcome) -> String,
) -> String {
    let mut s = String::new();
    for o in outcomes {
        let r = &o.result;
        let props: serde_json::Map<String, serde_json::Value> = r
            .properties
            .iter()
            .map(|p| {
                let v = match &p.status {
                    Status::Holds => "holds",
                    Status::Violated => "violated",
                    Status::NotChecked(_) => "not_checked",
                };
                (p.name.to_string(), serde_json::Value::from(v))
            })
            .collect();
        let line = serde_json::json!({
            "scenario": r.scenario,
            "file": files.get(o.pair.scenario).map(|f| f.display().to_string()),
            "seed": r.seed,
            "variant": r.variant.map(Variant::name),
            "passed": r.passed(),
            "expected": r.expected,
            "violations": r.violations.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            "properties": props,
            "digest": r.digest,
            "virtual_ms": r.virtual_ms,
            "wall_ms": r.wall_ms,
            "replay": replay(o),
        });
        s.push_str(&line.to_string());
        s.push('\n');
    }
    s
}

/// The file name a replay line uses for scenario `i`.
pub fn display(files: &[PathBuf], i: usize) -> String {
    files
        .get(i)
        .map_or_else(String::new, |f| Path::new(f).display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn shards_are_disjoint_and_cover_the_campaign() {
        assert_eq!(parse_shard("2/4"), Ok(Shard { k: 2, n: 4 }));
        assert!(parse_shard("0/4").is_err());
        assert!(parse_shard("5/4").is_err());
        assert!(parse_shard("x").is_err());
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/scenarios");
        let files = scenario_files(&[dir]).unwrap();
        assert!(files.len() >= 7, "{files:?}");
        let all: Vec<Pair> = plan(files.len(), (1, 101), None);
        assert_eq!(all.len(), files.len() * 100);
        let mut seen = BTreeSet::new();
        let mut sizes = Vec::new();
        for k in 1..=4 {
            let mine = plan(files.len(), (1, 101), Some(Shard { k, n: 4 }));
            sizes.push(mine.len());
            for p in mine {
                assert!(seen.insert((p.scenario, p.seed)), "{p:?} in two shards");
            }
        }
        assert_eq!(seen.len(), all.len());
        // Balanced: shard sizes differ by at most one.
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
    }
}
