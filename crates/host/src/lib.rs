//! The wasmtime host: runs a wasi:http Worker component bound to the KV model and the mock Supabase.
//!
//! A [`Host`] compiles a component once (cached on disk), pre-instantiates it, and serves each
//! request at a colo on a warm instance (reused after a clean call, as production reuses
//! isolates; see [`InstancePolicy`]) or a fresh one, with the Workers limits (CPU via fuel,
//! memory, subrequests, KV operations, waitUntil) reset for every invocation. Everything that decides behaviour reads the injected
//! clock and RNG or tokio's clock, so a current-thread runtime with paused time replays a run
//! exactly. [`serve`] puts a host on a TCP listener for `edgesim dev`.
//!
//! Under simulation, with the mock Supabase in-process (no sockets):
//!
//! ```no_run
//! use edgesim_core::{ManualClock, SharedClock, SimRng};
//! use edgesim_host::{Host, HostConfig, InProcessUpstream};
//! use std::sync::Arc;
//!
//! # async fn demo(component: &[u8], supabase: edgesim_supabase::Supabase) -> anyhow::Result<()> {
//! let clock: SharedClock = Arc::new(ManualClock::new());
//! let root = SimRng::from_seed(42);
//! let kv = edgesim_kv::KvStore::new(Default::default(), clock.clone(), root.fork("kv"));
//! let mut config = HostConfig::new("http://supabase.local");
//! config.colos = HostConfig::colos_from_codes(&kv.colos());
//! let upstream = InProcessUpstream::new(
//!     "http://supabase.local",
//!     Arc::new(move |req| supabase.handle(req)),
//! );
//! let host = Host::new(component, config, kv, Arc::new(upstream), clock, root.fork("host"), None)?;
//! let req = http::Request::get("https://worker/articles").body(bytes::Bytes::new())?;
//! let inv = host.handle_at("SYD", req).await; // inside a tokio runtime
//! println!("{} {:?}", inv.response.status(), inv.response.headers()["cf-ray"]);
//! if let Some(work) = inv.background {
//!     println!("waitUntil: {:?}", work.wait().await);
//! }
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

pub mod cache;
mod capture;
pub mod cf;
mod config;
pub mod control;
mod cpu;
mod cron;
mod engine;
mod function_cache;
mod host;
mod html_rewriter;
mod internal;
mod invoke;
mod js_link;
mod keyvalue;
mod kv;
mod observer;
mod outbound;
mod pages;
mod pool;
pub mod rules;
mod scheduled;
mod serve;
mod state;
mod subtle;

pub use config::{
    Colo, CpuMeter, FUEL_PER_CPU_MS, FUEL_YIELD_INTERVAL, HostConfig, InstancePolicy, Limits,
};
pub use cron::{CronSchedule, DEV_CLOCK_POLL, DevCron, run_due, spawn_dev_cron};
pub use engine::is_cached;
pub use host::Host;
pub use internal::INTERNAL_AUTHORITY;
pub use invoke::{
    BackgroundTask, CANCELED_WORK_STOPPED, COLO_HEADER, Invocation, WAIT_UNTIL_CANCELLED,
};
pub use invoke::{BodyChunks, BodyRest};
pub use observer::{
    HostEvent, HostObserver, NoopObserver, RecordingObserver, SharedObserver, WaitUntilOutcome,
};
pub use outbound::{
    FetchError, Handler, HttpUpstream, InProcessUpstream, TOO_MANY_SUBREQUESTS, Upstream,
    host_refused_message,
};
pub use pages::{
    CPU_EXCEEDED, Failure, MEMORY_EXCEEDED, NEVER_RESPONDS, OVERLOADED, THREW_EXCEPTION,
};
pub use rules::{OutboundRule, OutboundRules, RuleBody, RuleError, RuleSpec};
pub use scheduled::{
    CRON_CPU_MS_HOURLY, CRON_CPU_MS_SUBHOURLY, CRON_WALL_LIMIT,
    EVENT_HEADER as SCHEDULED_EVENT_HEADER, ScheduledOutcome, ScheduledStatus, cron_cpu_ms,
    test_scheduled,
};
pub use serve::{
    Control, HostSlot, RouteLookup, RouteMatch, SteppedAdvance, control_endpoint, serve,
    serve_slot, serve_with_shutdown,
};
pub use state::InvocationStats;
