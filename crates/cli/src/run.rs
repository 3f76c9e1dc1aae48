//! `edgesim run`: chaos scenarios in virtual time, for one seed or a campaign of many.
//!
//! Several scenario files (or directories of them) times a seed range make a campaign of
//! (scenario, seed) pairs; `--shard K/N` takes the K-th of N disjoint slices, `-j N` runs them
//! on N threads (each run is deterministic per seed, whatever the schedule), and `--junit` /
//! `--jsonl` write one result per pair.
//!
//! Exit status: 0 when every expectation holds for every pair, 1 when one is violated, 2 when
//! a scenario file (or a file it names) is bad.

use crate::campaign::{self, Outcome, Shard};
use edgesim_sim::runner::{RunResult, worker_of};
use edgesim_sim::scenario::ProjectContext;
use edgesim_sim::scenario::Scenario;
use edgesim_sim::{Status, WorkerSpec};
use edgesim_world::{Layout, discover};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `edgesim run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// Scenario files, or directories of them (every `*.toml`, in name order).
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Run this one seed (default 1).
    #[arg(long, conflicts_with = "seeds")]
    pub seed: Option<u64>,
    /// Run a range of seeds for each scenario: `A..B` (B excluded) or `A..=B`.
    #[arg(long, value_parser = parse_seeds)]
    pub seeds: Option<(u64, u64)>,
    /// Run this Worker instead of the scenario's: `course`, `hardened`, `hardened-no-webhook`, a
    /// component (.wasm), a JS or TS entry, or a wrangler project (a directory or its wrangler file).
    #[arg(long)]
    pub worker: Option<WorkerSpec>,
    /// The directory holding the project's `supabase/`, for scenarios that name no `[supabase]
    /// project` (default: found from the Worker's project as the Supabase CLI finds it).
    #[arg(long)]
    pub supabase: Option<PathBuf>,
    /// Run this many (scenario, seed) pairs at once (default: the machine's cores).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Run only the K-th of N disjoint slices of the (scenario, seed) pairs (`K/N`, 1-based):
    /// N jobs with K = 1..N together run every pair exactly once.
    #[arg(long, value_parser = campaign::parse_shard)]
    pub shard: Option<Shard>,
    /// Write JUnit XML: one testcase per scenario and seed; a violation's witness and replay
    /// line are the failure text.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write one JSON object per line and pair (outcome, properties, digest, replay).
    #[arg(long)]
    pub jsonl: Option<PathBuf>,
    /// Write a self-contained HTML report (the first violating pair, else the last one run).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Write the event log's text form of that same run here (`edgesim check` reads it back).
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// Print JSON (per pair: outcome, properties, bounds, digest, virtual_ms, wall_ms,
    /// violations) instead of text.
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

/// The one-line command that replays `r` of `file`.
fn replay_line(file: &str, worker: Option<&WorkerSpec>, r: &RunResult) -> String {
    let mut line = format!("edgesim run {file} --seed {}", r.seed);
    if let Some(w) = worker {
        line.push_str(&format!(" --worker {w}"));
    } else if let Some(v) = r.variant {
        line.push_str(&format!(" --worker {}", v.name()));
    }
    line
}

/// Attaches the user's project to `s`: the project directory of `worker` (or of the
/// scenario's own Worker path), its `edgesim.toml`, and its Supabase project (`supabase`, else
/// found from the project directory) unless the scenario names one. Embedded Workers run
/// against the scenario's project (the demo by default).
fn attach_project(
    s: &mut Scenario,
    worker: Option<&WorkerSpec>,
    supabase: Option<&Path>,
) -> Result<(), String> {
    let spec = worker
        .cloned()
        .unwrap_or_else(|| s.worker.spec(s.base_dir.as_deref()));
    let Some(dir) = spec.project_dir() else {
        if let Some(dir) = supabase {
            s.project.supabase = Some(dir.to_path_buf());
        }
        return Ok(());
    };
    let layout = Layout::find(&dir, None).map_err(|e| e.to_string())?;
    let settings = layout.settings().map_err(|e| e.to_string())?;
    if s.supabase.project.is_none() {
        s.project.supabase = match discover::choose_supabase(supabase, &settings, Some(&dir)) {
            discover::SupabaseSource::Dir(d) => Some(d),
            discover::SupabaseSource::Demo => None,
        };
    }
    // The project's routes (`edgesim.routes.toml` beside its wrangler file).
    let routes = edgesim_sim::routes::Route::load_project(&dir).map_err(|e| e.to_string())?;
    s.project = ProjectContext {
        settings: Some(settings),
        supabase: s.project.supabase.take(),
        routes,
    };
    Ok(())
}

/// Runs `edgesim run`.
pub fn main(args: RunArgs) -> ExitCode {
    let files = match campaign::scenario_files(&args.scenarios) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut scenarios: Vec<Scenario> = Vec::new();
    for f in &files {
        match Scenario::load(f) {
            Ok(s) => scenarios.push(s),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    // The user's project: `--worker`, else the wrangler project in this directory (for
    // scenarios that name no Worker path), with its edgesim.toml and Supabase project.
    let here_project = Layout::find(Path::new("."), None)
        .ok()
        .and_then(|l| l.wrangler)
        .map(WorkerSpec::Wrangler);
    // Resolve (for JS: build) each scenario's Worker once for every seed.
    let mut workers = Vec::new();
    for (s, f) in scenarios.iter_mut().zip(&files) {
        let over = args.worker.clone().or_else(|| {
            s.worker
                .path
                .is_none()
                .then(|| here_project.clone())
                .flatten()
        });
        if let Err(e) = attach_project(s, over.as_ref(), args.supabase.as_deref()) {
            eprintln!("error: {}: {e}", f.display());
            return ExitCode::from(2);
        }
        match worker_of(s, over.as_ref()) {
            Ok(w) => workers.push(w),
            Err(e) => {
                eprintln!("error: {}: {e}", f.display());
                return ExitCode::from(2);
            }
        }
    }
    // Warnings once: configuration not emulated, vars replaced by the mock's.
    for w in &workers {
        for warning in edgesim_world::worker_env(w, edgesim_sim::SUPABASE_URL)
            .1
            .iter()
            .chain(&w.warnings)
        {
            eprintln!("warning: {warning}");
        }
    }
    let seeds = args
        .seeds
        .unwrap_or_else(|| args.seed.map_or((1, 2), |s| (s, s.saturating_add(1))));
    let pairs = campaign::plan(files.len(), seeds, args.shard);
    if pairs.is_empty() {
        outln!(
            "nothing to run: shard {:?} of this campaign is empty",
            args.shard
        );
        return ExitCode::SUCCESS;
    }
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let bar = if pairs.len() > 1 && !args.json {
        let pb = indicatif::ProgressBar::new(pairs.len() as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} runs  {msg}  [{elapsed_precise} < {eta_precise}]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(pb)
    } else {
        None
    };
    // Keep the event log of the first violating pair (in campaign order) and of the last pair.
    let wants_log = args.report.is_some() || args.events.is_some();
    let first_fail = std::sync::Mutex::new(usize::MAX);
    let last = pairs.len() - 1;
    let keep = |i: usize, passed: bool| {
        if !wants_log {
            return false;
        }
        if i == last {
            return true;
        }
        let mut f = first_fail.lock().unwrap_or_else(|p| p.into_inner());
        if !passed && i < *f {
            *f = i;
            return true;
        }
        false
    };
    let violated = std::sync::atomic::AtomicU64::new(0);
    let progress = |r: &RunResult| {
        if let Some(pb) = &bar {
            if !r.passed() {
                violated.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            pb.set_message(format!(
                "{} violated",
                violated.load(std::sync::atomic::Ordering::SeqCst)
            ));
            pb.inc(1);
        }
    };
    let outcomes = match campaign::run_all(&scenarios, &workers, &pairs, jobs, &keep, &progress) {
        Ok(o) => o,
        Err((pair, e)) => {
            if let Some(pb) = &bar {
                pb.abandon();
            }
            eprintln!("error: {}: {e}", files[pair.scenario].display());
            return ExitCode::from(2);
        }
    };
    if let Some(pb) = &bar {
        pb.finish();
    }
    let replay = |o: &Outcome| {
        replay_line(
            &campaign::display(&files, o.pair.scenario),
            args.worker.as_ref(),
            &o.result,
        )
    };
    let chosen = outcomes
        .iter()
        .find(|o| !o.result.passed())
        .or_else(|| outcomes.last())
        .expect("at least one pair");
    if let Some(path) = &args.report {
        let s = &scenarios[chosen.pair.scenario];
        let html = edgesim_sim::report::html(
            &chosen.result,
            &campaign::display(&files, chosen.pair.scenario),
            &s.tracker(),
        );
        if let Err(e) = std::fs::write(path, html) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if let Some(path) = &args.events
        && let Err(e) = std::fs::write(path, chosen.result.event_text())
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::from(2);
    }
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, campaign::junit(&files, &outcomes, &replay))
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::from(2);
    }
    if let Some(path) = &args.jsonl
        && let Err(e) = std::fs::write(path, campaign::jsonl(&files, &outcomes, &replay))
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::from(2);
    }
    if args.json {
        print_json(&files, &outcomes, &replay);
    } else {
        for i in 0..files.len() {
            let mine: Vec<&Outcome> = outcomes.iter().filter(|o| o.pair.scenario == i).collect();
            if !mine.is_empty() {
                print_text(&mine, &replay);
            }
        }
        if files.len() > 1 || args.shard.is_some() {
            let failed = outcomes.iter().filter(|o| !o.result.passed()).count();
            outln!(
                "campaign: {} run(s) of {} scenario(s), {failed} violated{}",
                outcomes.len(),
                files.len(),
                args.shard
                    .map(|s| format!(" (shard {}/{})", s.k, s.n))
                    .unwrap_or_default()
            );
        }
    }
    if outcomes.iter().any(|o| !o.result.passed()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_json(files: &[PathBuf], outcomes: &[Outcome], replay: &dyn Fn(&Outcome) -> String) {
    let virtual_ms: u64 = outcomes.iter().map(|o| o.result.virtual_ms).sum();
    let wall_ms: u64 = outcomes.iter().map(|o| o.result.wall_ms).sum();
    let runs: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            let mut v = serde_json::to_value(&o.result).unwrap_or_default();
            v["passed"] = serde_json::Value::Bool(o.result.passed());
            v["replay"] = serde_json::Value::String(replay(o));
            v
        })
        .collect();
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let out = serde_json::json!({
        "scenario": if names.len() == 1 { serde_json::Value::from(names[0].clone()) } else { serde_json::Value::from(names) },
        "seeds": outcomes.len(),
        "violated": outcomes.iter().filter(|o| !o.result.passed()).count(),
        "virtual_ms": virtual_ms,
        "wall_ms": wall_ms,
        "virtual_to_wall": if wall_ms > 0 { virtual_ms as f64 / wall_ms as f64 } else { 0.0 },
        "runs": runs,
    });
    outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
}

/// The results of one scenario: a summary line, the bounds that applied, the per-property rows
/// and the first violation's witness.
fn print_text(outcomes: &[&Outcome], replay: &dyn Fn(&Outcome) -> String) {
    let failed: Vec<&&Outcome> = outcomes.iter().filter(|o| !o.result.passed()).collect();
    let shown = failed
        .first()
        .copied()
        .unwrap_or(&outcomes[outcomes.len() - 1]);
    let chosen = &shown.result;
    let variant = chosen.worker.as_str();
    if failed.is_empty() {
        if chosen.expected == Some(edgesim_sim::scenario::Outcome::Fail) {
            outln!("note: the scenario file expects the {variant} Worker to fail here");
        }
        let virtual_ms: u64 = outcomes.iter().map(|o| o.result.virtual_ms).sum();
        let wall_ms: u64 = outcomes
            .iter()
            .map(|o| o.result.wall_ms)
            .sum::<u64>()
            .max(1);
        outln!(
            "ok: {} with the {variant} Worker: every expectation holds for {} seed(s) ({:.1} s virtual in {} ms wall, {:.0}x)",
            chosen.scenario,
            outcomes.len(),
            virtual_ms as f64 / 1000.0,
            wall_ms,
            virtual_ms as f64 / wall_ms as f64
        );
    } else {
        outln!(
            "VIOLATED: {} with the {variant} Worker, seed {} ({} of {} seed(s) violated)",
            chosen.scenario,
            chosen.seed,
            failed.len(),
            outcomes.len()
        );
    }
    match &chosen.bounds {
        Some(b) => outln!("  staleness bounds: {b}"),
        None => outln!("  staleness bounds: off (expect.staleness_bounds = false)"),
    }
    if let Some(o) = &chosen.bounds_observed {
        outln!("  {o}");
    }
    for w in &chosen.warnings {
        outln!("  warning: {w}");
    }
    for p in &chosen.properties {
        let verdict = match &p.status {
            Status::Holds => format!("holds ({} checked)", p.checked),
            Status::Violated => format!("VIOLATED ({}; {} checked)", p.violations, p.checked),
            Status::NotChecked(why) => format!("not checked: {why}"),
        };
        let note = if p.enforced { "" } else { " (reported only)" };
        outln!("  {:<18} {verdict}{note}", p.name);
    }
    if !failed.is_empty() {
        for v in &chosen.violations {
            outln!("  {}", v.to_string().replace('\n', "\n  "));
        }
        outln!("replay: {}", replay(shown));
        if chosen.expected == Some(edgesim_sim::scenario::Outcome::Fail) {
            outln!("(the scenario file states this outcome for the {variant} Worker)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(scenario: &str, seed: u64) -> RunArgs {
        RunArgs {
            scenarios: vec![
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../../fixtures/scenarios")
                    .join(scenario),
            ],
            seed: Some(seed),
            seeds: None,
            worker: None,
            supabase: None,
            jobs: None,
            shard: None,
            junit: None,
            jsonl: None,
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
        a.scenarios = vec![bad];
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
        // A pass/fail row per property, and the witness outlined on the timelines.
        for p in [
            "no_phantoms",
            "bounded_staleness",
            "monotonic_reads",
            "read_your_writes",
        ] {
            assert!(
                html.contains(&format!(
                    "<tr class=\"prop-{p}\"><td><code>{p}</code></td><td class=\"pass\">holds"
                )),
                "{p}"
            );
        }
        assert!(html.contains(
            "<tr class=\"prop-convergence\"><td><code>convergence</code></td><td class=\"fail\">violated"
        ));
        assert!(html.contains("<pre class=\"witness\">convergence: "));
        assert!(html.contains("<rect class=\"witness\""));
        assert!(html.contains("<title>witness of convergence: convergence: "));
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `--shard K/N` over a directory and a seed range: the JUnit files of the N shards together
    /// hold one testcase per (scenario, seed) pair, each exactly once; `-j 2` gives the same
    /// digests as `-j 1`; the JSON Lines file has one line per pair.
    #[test]
    fn sharded_campaign_junit_covers_every_pair_exactly_once() {
        let dir = std::env::temp_dir().join(format!("edgesim-campaign-{}", std::process::id()));
        let scen = dir.join("scenarios");
        std::fs::create_dir_all(&scen).unwrap();
        let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/scenarios");
        for f in ["dropped-webhook.toml", "reordered-webhooks.toml"] {
            std::fs::copy(fixtures.join(f), scen.join(f)).unwrap();
        }
        let mut seen = std::collections::BTreeMap::new();
        let mut digests = std::collections::BTreeMap::new();
        for k in 1..=3 {
            let mut a = args("x", 1);
            a.scenarios = vec![scen.clone()];
            a.seed = None;
            a.seeds = Some((1, 4));
            a.shard = Some(Shard { k, n: 3 });
            a.jobs = Some(if k == 1 { 1 } else { 2 });
            a.json = false;
            a.junit = Some(dir.join(format!("junit-{k}.xml")));
            a.jsonl = Some(dir.join(format!("runs-{k}.jsonl")));
            // The course Worker fails both scenarios: exit 1, a failure per testcase.
            assert_eq!(main(a), ExitCode::from(1));
            let xml = std::fs::read_to_string(dir.join(format!("junit-{k}.xml"))).unwrap();
            assert!(xml.starts_with("<?xml"), "{xml}");
            for case in xml.split("<testcase ").skip(1) {
                let name = case
                    .split(" name=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                *seen.entry(name.to_string()).or_insert(0) += 1;
                assert!(case.contains("<failure message="), "{case}");
                assert!(case.contains("replay: edgesim run "), "{case}");
                assert!(case.contains("--worker course"), "{case}");
            }
            let lines = std::fs::read_to_string(dir.join(format!("runs-{k}.jsonl"))).unwrap();
            for line in lines.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                digests.insert(
                    (
                        v["scenario"].as_str().unwrap().to_string(),
                        v["seed"].as_u64().unwrap(),
                    ),
                    v["digest"].as_str().unwrap().to_string(),
                );
            }
        }
        let want: Vec<String> = ["dropped-webhook", "reordered-webhooks"]
            .iter()
            .flat_map(|s| (1..4).map(move |seed| format!("{s} seed {seed}")))
            .collect();
        assert_eq!(seen.keys().cloned().collect::<Vec<_>>(), want);
        assert!(seen.values().all(|&n| n == 1), "{seen:?}");
        assert_eq!(digests.len(), 6);
        // Deterministic per seed whatever the schedule: shard 1 again on two threads.
        let mut a = args("x", 1);
        a.scenarios = vec![scen.clone()];
        a.seed = None;
        a.seeds = Some((1, 4));
        a.shard = Some(Shard { k: 1, n: 3 });
        a.jobs = Some(2);
        a.json = false;
        a.jsonl = Some(dir.join("again.jsonl"));
        main(a);
        for line in std::fs::read_to_string(dir.join("again.jsonl"))
            .unwrap()
            .lines()
        {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let key = (
                v["scenario"].as_str().unwrap().to_string(),
                v["seed"].as_u64().unwrap(),
            );
            assert_eq!(digests[&key], v["digest"].as_str().unwrap());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
