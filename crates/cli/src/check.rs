//! `edgesim check EVENTS_FILE`: the consistency checker alone, over an event log written by
//! `edgesim run --events` (here or elsewhere).
//!
//! The staleness bounds are derived from the log itself, per KV key, as `edgesim run` derives
//! them (the cacheTtl of the Worker's reads, the expiration of its writes, its retries), with
//! the KV model times of `--scenario`, else the model's defaults; the flags override them.
//! Exit status: 0 when every enforced property holds and something was checked, 1 when one is
//! violated or nothing was checked, 2 when the log or the scenario cannot be read.

use edgesim_sim::check::{Expectations, check_all};
use edgesim_sim::phases::{ModelTimes, StalenessBounds, observe};
use edgesim_sim::runner::{bounds_of, healed_at};
use edgesim_sim::scenario::{Scenario, secs_to_ms};
use edgesim_sim::{Event, Status, Tracker};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `edgesim check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// The event log (`edgesim run --events FILE`).
    pub events: PathBuf,
    /// Take the bounds and expectations from this scenario file (as `edgesim run` does).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// The tracked table (default: the scenario's, else `articles`).
    #[arg(long)]
    pub table: Option<String>,
    /// Convergence bound after the last fault and write, seconds (default: the scenario's, else 200).
    #[arg(long)]
    pub converge_within_s: Option<f64>,
    /// Fault-free staleness bound, seconds (overrides the derived one).
    #[arg(long)]
    pub fault_free_s: Option<f64>,
    /// Under-faults staleness bound, seconds (overrides the derived one).
    #[arg(long)]
    pub under_faults_s: Option<f64>,
    /// Late webhook threshold, ms (default: the scenario's webhook delay max, else 50).
    #[arg(long)]
    pub webhook_latency_ms: Option<u64>,
    /// The KV model ran with read-your-writes on (default: the scenario's setting, else on).
    #[arg(long)]
    pub read_your_writes: Option<bool>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `edgesim check`.
pub fn main(args: CheckArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.events) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.events.display());
            return ExitCode::from(2);
        }
    };
    let events = match edgesim_sim::parse::parse_text(&text) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {}: {e}", args.events.display());
            return ExitCode::from(2);
        }
    };
    let scenario = match &args.scenario {
        Some(p) => match Scenario::load(p) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    // The scenario's tracker (its declared routes, else its table), unless --table names one.
    let tracker = match (&args.table, &scenario) {
        (Some(table), _) => Tracker::new(table),
        (None, Some(s)) => s.tracker(),
        (None, None) => Tracker::new("articles"),
    };
    let exp = expectations(&args, scenario.as_ref(), &events, &tracker);
    let healed = healed_at(&events);
    let report = check_all(&events, &tracker, &exp, healed);
    let failed = report.enforced();
    if args.json {
        let out = serde_json::json!({
            "events": events.len(),
            "healed_ms": healed,
            "bounds": exp.bounds,
            "bounds_observed": exp.bounds.as_ref().and_then(StalenessBounds::observed_text),
            "passed": failed.is_empty(),
            "nothing_checked": report.nothing_checked,
            "properties": report.properties,
        });
        outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        outln!(
            "{}: {} events, healed at t={}",
            args.events.display(),
            events.len(),
            edgesim_sim::check::ms(healed)
        );
        if let Some(b) = &exp.bounds {
            outln!("  staleness bounds: {b}");
            if let Some(o) = b.observed_text() {
                outln!("  {o}");
            }
        }
        for p in &report.properties {
            let verdict = match &p.status {
                Status::Holds => format!("holds ({} checked)", p.checked),
                Status::Violated => format!("VIOLATED ({}; {} checked)", p.violations, p.checked),
                Status::NotChecked(why) => format!("not checked: {why}"),
            };
            let note = if p.enforced { "" } else { " (reported only)" };
            outln!("  {:<18} {verdict}{note}", p.name);
            if let Some(w) = &p.witness {
                outln!("    {}", w.to_string().replace('\n', "\n    "));
            }
        }
        if let Some(why) = &report.nothing_checked {
            outln!("  NOTHING CHECKED: {why}");
        }
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// What the log must satisfy: the scenario's expectations (or the defaults), the bounds derived
/// from `events` (with the scenario's model times, else the KV model's defaults), then the flags.
fn expectations(
    args: &CheckArgs,
    s: Option<&Scenario>,
    events: &[Event],
    tracker: &Tracker,
) -> Expectations {
    let mut exp = Expectations::default();
    let mut bounds: Option<StalenessBounds> = None;
    if let Some(s) = s {
        exp.converge_within_ms = secs_to_ms(s.expect.converge_within_s);
        exp.max_staleness_ms = s.expect.max_staleness_s.map(secs_to_ms);
        exp.no_phantoms = s.expect.no_phantoms;
        exp.kv_read_your_writes = s.kv.read_your_writes >= 1.0;
        exp.enforce_monotonic_reads = s.expect.monotonic_reads;
        exp.enforce_read_your_writes = s.expect.read_your_writes;
        if s.expect.staleness_bounds {
            bounds = Some(bounds_of(s, events, tracker));
        }
    } else {
        exp.kv_read_your_writes = true;
        bounds = Some(StalenessBounds::derive(
            observe(events, tracker),
            ModelTimes::DEFAULTS,
        ));
    }
    if let Some(c) = args.converge_within_s {
        exp.converge_within_ms = secs_to_ms(c);
    }
    if let Some(r) = args.read_your_writes {
        exp.kv_read_your_writes = r;
    }
    if args.fault_free_s.is_some() || args.under_faults_s.is_some() {
        let b = bounds.get_or_insert(StalenessBounds::stated(
            u64::MAX,
            None,
            ModelTimes::DEFAULTS.webhook_latency_ms,
        ));
        if let Some(x) = args.fault_free_s {
            b.state_fault_free(secs_to_ms(x));
        }
        if let Some(x) = args.under_faults_s {
            b.state_under_faults(secs_to_ms(x));
        }
    }
    if let (Some(b), Some(l)) = (bounds.as_mut(), args.webhook_latency_ms) {
        b.webhook_latency_ms = l;
    }
    exp.bounds = bounds;
    exp
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgesim_sim::Variant;

    fn check_args(events: PathBuf) -> CheckArgs {
        CheckArgs {
            events,
            scenario: None,
            table: None,
            converge_within_s: None,
            fault_free_s: None,
            under_faults_s: None,
            webhook_latency_ms: None,
            read_your_writes: None,
            json: false,
        }
    }

    /// A log written by `edgesim run --events` checks the same alone: the course Worker's
    /// dropped-webhook run violates convergence, the hardened Worker's holds.
    #[test]
    fn checks_a_log_written_by_run_events() {
        let dir = std::env::temp_dir().join(format!("edgesim-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/scenarios/dropped-webhook.toml");
        for (worker, want) in [(Variant::Course, 1u8), (Variant::Hardened, 0)] {
            let log = dir.join(format!("{}.log", worker.name()));
            let run = crate::run::RunArgs {
                scenarios: vec![scenario.clone()],
                seed: Some(3),
                seeds: None,
                worker: Some(edgesim_sim::WorkerSpec::Embedded(worker)),
                supabase: None,
                jobs: None,
                shard: None,
                junit: None,
                jsonl: None,
                report: None,
                events: Some(log.clone()),
                json: true,
            };
            assert_eq!(crate::run::main(run), ExitCode::from(want));
            let mut a = check_args(log.clone());
            a.scenario = Some(scenario.clone());
            assert_eq!(main(a), ExitCode::from(want), "{}", worker.name());
            // Without the scenario: the default convergence bound, and staleness bounds derived
            // from the log with the KV model's default times.
            assert_eq!(main(check_args(log)), ExitCode::from(want));
        }
        std::fs::write(dir.join("bad.log"), "t=1 nonsense\n").unwrap();
        assert_eq!(main(check_args(dir.join("bad.log"))), ExitCode::from(2));
        assert_eq!(main(check_args(dir.join("missing.log"))), ExitCode::from(2));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
