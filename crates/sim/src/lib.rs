//! Deterministic simulation: one virtual clock, one seeded RNG, chaos scenarios and convergence checks.
//!
//! The real Worker component (under `edgesim-host`), the multi-region KV model (`edgesim-kv`)
//! and the mock Supabase (`edgesim-supabase`) run in one process on one virtual clock. Database
//! Webhooks go through a simulated dispatcher that drops, delays, duplicates or reorders them
//! from the seed, and the Worker's fetches reach Supabase in-process with injected 5xx and
//! latency. Everything that happens goes to an [`EventLog`]; the checkers ([`check`]) compare
//! what each colo served with the database's history ([`DbHistory`]).
//!
//! - [`Sim`]: the harness API for your own tests (see its example).
//! - [`Scenario`] + [`run`]: TOML chaos scenarios (`fixtures/scenarios/README.md` has the format),
//!   run by `edgesim run`; [`report::html`] draws a run.
//! - [`virtual_to_wall`]: the speed of a scenario, for the benchmark.
//!
//! # Determinism
//!
//! Virtual time is a tokio **current_thread runtime started paused** (`start_paused(true)`):
//! everything (requests, KV propagation and cacheTtl, webhook delivery, Worker sleeps and
//! waitUntil) waits with `tokio::time::sleep_until`, and when every task is waiting tokio jumps
//! the clock to the next timer. [`SimClock`] reads that clock as
//! `VIRTUAL_EPOCH_MS + (tokio::time::Instant::now() - base)` whenever it is called inside the
//! runtime, and otherwise returns the last value it saw (a mirrored `AtomicU64`, refreshed by the
//! driver after every `block_on`), so components read a sensible time from harness code too.
//!
//! One `u64` seed drives every random choice through [`edgesim_core::SimRng`] forks:
//! `kv`, `webhooks`, `workload`, `mutations`, `supabase-faults`, `host`. Nothing on a behaviour
//! path reads the wall clock or OS randomness, iterates a `HashMap`, or uses an unbiased
//! `select!`. The only wall-clock read is the runner's `wall_ms` figure, which never feeds back.
//! The determinism test runs a seed twice and compares event-log digests.

pub mod check;
pub mod clock;
mod core;
mod cron;
mod drive;
pub mod events;
pub mod faults;
pub mod history;
mod inject;
pub mod parse;
pub mod phases;
pub mod port;
pub mod report;
pub mod routes;
pub mod runner;
pub mod scenario;
mod sim;
pub mod track;
mod upstream;

pub use check::{CheckReport, Expectations, Property, PropertyReport, Status, Violation};
pub use clock::SimClock;
pub use drive::RandomMutations;
pub use edgesim_workers::{Worker, WorkerSpec};
pub use events::{Event, EventKind, EventLog, Origin, Served};
pub use faults::{KvFault, Override, SupabaseFault};
pub use history::DbHistory;
pub use phases::{AppliedBound, StalenessBounds};
pub use runner::{RunError, RunResult, Speed, run, virtual_to_wall};
pub use scenario::{FaultKind, WebhookFate, WebhookFaults};
pub use scenario::{Scenario, ScenarioError, Variant};
pub use sim::{BuildError, SUPABASE_URL, Sim, SimBuilder, SimSupabase, WorkerSource, worker_env};
pub use track::{Resource, Tracker};
