//! `edgesim run`: a chaos scenario in virtual time, for one seed or many.
//!
//! Exit status: 0 when every expectation holds for every seed, 1 when one is violated, 2 when
//! the scenario file (or a file it names) is bad.

use edgesim_sim::runner::{RunError, RunResult, run_worker, worker_of};
use edgesim_sim::scenario::Scenario;
use edgesim_sim::{SUPABASE_URL, Tracker, WorkerSpec, worker_env};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `edgesim run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The scenario file (see fixtures/scenarios/).
    pub scenario: PathBuf,
    /// Run this one seed (default 1).
    #[arg(long, conflicts_with = "seeds")]
    pub seed: Option<u64>,
    /// Run a range of seeds: `A..B` (B excluded) or `A..=B`.
    #[arg(long, value_parser = parse_seeds)]
    pub seeds: Option<(u64, u64)>,
    /// Run this Worker instead of the scenario's: `course`, `hardened`, a component (.wasm), a
    /// JS or TS entry, or a wrangler project (a directory or its wrangler file).
    #[arg(long)]
    pub worker: Option<WorkerSpec>,
    /// Write a self-contained HTML report (the first violating seed, else the last one run).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Write the event log's text form of that same run here.
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// Print JSON (per seed: outcome, digest, virtual_ms, wall_ms, violations) instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_seeds(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("expected A..B or A..=B with A < B, got {s:?}");
    let (a, b, inclusive) = if let Some((a, b)) = s.split_once("..=") {
        (a, b, true)
    } else if let Some((a, b)) = s.split_once("..") {
        (a, b, false)
    } else {
        return Err(bad());
    };
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    let end = if inclusive {
        b.checked_add(1).ok_or_else(bad)?
    } else {
        b
    };
    if end <= a {
        return Err(bad());
    }
    Ok((a, end))
}

/// The one-line command that replays `r`.
fn replay_line(args: &RunArgs, r: &RunResult) -> String {
    let mut line = format!("edgesim run {} --seed {}", args.scenario.display(), r.seed);
    if let Some(w) = &args.worker {
        line.push_str(&format!(" --worker {w}"));
    } else if let Some(v) = r.variant {
        line.push_str(&format!(" --worker {}", v.name()));
    }
    line
}

/// Runs `edgesim run`.
pub fn main(args: RunArgs) -> ExitCode {
    let scenario = match Scenario::load(&args.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Resolve (for JS: build) the Worker once for every seed.
    let worker = match worker_of(&scenario, args.worker.as_ref()) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {}: {e}", args.scenario.display());
            return ExitCode::from(2);
        }
    };
    for w in worker
        .warnings
        .iter()
        .chain(&worker_env(&worker, SUPABASE_URL).1)
    {
        eprintln!("warning: {w}");
    }
    let (from, to) = args
        .seeds
        .unwrap_or_else(|| args.seed.map_or((1, 2), |s| (s, s.saturating_add(1))));
    let many = to - from > 1;
    let bar = if many && !args.json {
        let pb = indicatif::ProgressBar::new(to - from);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} seeds  {msg}  [{elapsed_precise} < {eta_precise}]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(pb)
    } else {
        None
    };
    let mut results: Vec<RunResult> = Vec::new();
    let mut failed = 0u64;
    for seed in from..to {
        let r = match run_worker(&scenario, seed, &worker) {
            Ok(r) => r,
            Err(e) => {
                if let Some(pb) = &bar {
                    pb.abandon();
                }
                eprintln!("error: {}: {e}", args.scenario.display());
                // Every RunError is a bad scenario (or a file it names), never a violation.
                let _: &RunError = &e;
                return ExitCode::from(2);
            }
        };
        if !r.passed() {
            failed += 1;
        }
        if let Some(pb) = &bar {
            pb.set_message(format!("{failed} violated"));
            pb.inc(1);
        }
        results.push(r);
        // Keep the events of the first violating run and of the latest run only.
        let first_fail = results.iter().position(|r| !r.passed());
        let n = results.len();
        for (i, old) in results.iter_mut().enumerate() {
            if i + 1 != n && Some(i) != first_fail {
                old.events = Vec::new();
                old.history = None;
            }
        }
    }
    if let Some(pb) = &bar {
        pb.finish();
    }
    let chosen = results
        .iter()
        .find(|r| !r.passed())
        .or_else(|| results.last())
        .expect("at least one seed");
    if let Some(path) = &args.report {
        let table = scenario.supabase.table.as_deref().unwrap_or("articles");
        let html = edgesim_sim::report::html(
            chosen,
            &args.scenario.display().to_string(),
            &Tracker::new(table),
        );
        if let Err(e) = std::fs::write(path, html) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if let Some(path) = &args.events
        && let Err(e) = std::fs::write(path, chosen.event_text())
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::from(2);
    }
    if args.json {
        print_json(&args, &results);
    } else {
        print_text(&args, &results, chosen);
    }
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_json(args: &RunArgs, results: &[RunResult]) {
    let virtual_ms: u64 = results.iter().map(|r| r.virtual_ms).sum();
    let wall_ms: u64 = results.iter().map(|r| r.wall_ms).sum();
    let runs: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            v["passed"] = serde_json::Value::Bool(r.passed());
            v["replay"] = serde_json::Value::String(replay_line(args, r));
            v
        })
        .collect();
    let out = serde_json::json!({
        "scenario": args.scenario.display().to_string(),
        "seeds": results.len(),
        "violated": results.iter().filter(|r| !r.passed()).count(),
        "virtual_ms": virtual_ms,
        "wall_ms": wall_ms,
        "virtual_to_wall": if wall_ms > 0 { virtual_ms as f64 / wall_ms as f64 } else { 0.0 },
        "runs": runs,
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
}

fn print_text(args: &RunArgs, results: &[RunResult], chosen: &RunResult) {
    let failed: Vec<&RunResult> = results.iter().filter(|r| !r.passed()).collect();
    let variant = chosen.worker.as_str();
    if failed.is_empty() {
        if chosen.expected == Some(edgesim_sim::scenario::Outcome::Fail) {
            println!("note: the scenario file expects the {variant} Worker to fail here");
        }
        let virtual_ms: u64 = results.iter().map(|r| r.virtual_ms).sum();
        let wall_ms: u64 = results.iter().map(|r| r.wall_ms).sum::<u64>().max(1);
        println!(
            "ok: {} with the {variant} Worker: every expectation holds for {} seed(s) ({:.1} s virtual in {} ms wall, {:.0}x)",
            chosen.scenario,
            results.len(),
            virtual_ms as f64 / 1000.0,
            wall_ms,
            virtual_ms as f64 / wall_ms as f64
        );
        return;
    }
    let r = failed[0];
    println!(
        "VIOLATED: {} with the {variant} Worker, seed {} ({} of {} seed(s) violated)",
        r.scenario,
        r.seed,
        failed.len(),
        results.len()
    );
    for v in &r.violations {
        println!("  {}", v.to_string().replace('\n', "\n  "));
    }
    println!("replay: {}", replay_line(args, r));
    if r.expected == Some(edgesim_sim::scenario::Outcome::Fail) {
        println!("(the scenario file states this outcome for the {variant} Worker)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(scenario: &str, seed: u64) -> RunArgs {
        RunArgs {
            scenario: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../fixtures/scenarios")
                .join(scenario),
            seed: Some(seed),
            seeds: None,
            worker: None,
            report: None,
            events: None,
            json: true,
        }
    }

    #[test]
    fn seed_ranges() {
        assert_eq!(parse_seeds("3..7"), Ok((3, 7)));
        assert_eq!(parse_seeds("3..=7"), Ok((3, 8)));
        assert!(parse_seeds("7..3").is_err());
        assert!(parse_seeds("x..3").is_err());
        assert!(parse_seeds("5").is_err());
    }

    #[test]
    fn exit_codes_and_replay() {
        assert_eq!(main(args("course-happy-path.toml", 1)), ExitCode::SUCCESS);
        assert_eq!(main(args("dropped-webhook.toml", 1)), ExitCode::from(1));
        let mut hardened = args("dropped-webhook.toml", 1);
        hardened.worker = Some(WorkerSpec::parse("hardened"));
        assert_eq!(main(hardened), ExitCode::SUCCESS);
        assert_eq!(main(args("no-such-file.toml", 1)), ExitCode::from(2));
        let dir = std::env::temp_dir().join(format!("edgesim-run-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "name = \"x\"\nduration_s = -1\n").unwrap();
        let mut a = args("x", 1);
        a.scenario = bad;
        assert_eq!(main(a), ExitCode::from(2));
        // The report and event log of a violation; replaying the seed gives the same log.
        let mut a = args("dropped-webhook.toml", 1);
        a.report = Some(dir.join("r.html"));
        a.events = Some(dir.join("a.log"));
        assert_eq!(main(a), ExitCode::from(1));
        let mut b = args("dropped-webhook.toml", 1);
        b.events = Some(dir.join("b.log"));
        main(b);
        let (la, lb) = (
            std::fs::read(dir.join("a.log")).unwrap(),
            std::fs::read(dir.join("b.log")).unwrap(),
        );
        assert!(!la.is_empty());
        assert_eq!(la, lb);
        let html = std::fs::read_to_string(dir.join("r.html")).unwrap();
        assert!(html.contains("<svg") && html.contains("stale"));
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
