//! What a [`Host`](crate::Host) is told at start: colos, vars, KV bindings, limits, where Supabase is.

pub use crate::pool::InstancePolicy;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Fuel units that stand for one millisecond of CPU time.
///
/// Wasmtime charges about one unit of fuel per executed WebAssembly operator. Measured here
/// (2 shared cores, Cranelift code): a tight loop burns about 10¹⁰ units per second; code that
/// touches memory and calls functions burns fewer. 5 × 10⁶ units per ms sits between the two.
/// Fuel makes the CPU limit deterministic: the same guest on the same input runs out at the
/// same operator on every machine and under paused (virtual) time.
pub const FUEL_PER_CPU_MS: u64 = 5_000_000;

/// How often (in fuel units, ≈ 0.2 ms of CPU) a running guest yields to the async executor,
/// so an infinite loop cannot starve other requests, timers or the simulation.
pub const FUEL_YIELD_INTERVAL: u64 = 1_000_000;

/// How the CPU limit is measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CpuMeter {
    /// Wasmtime fuel at [`FUEL_PER_CPU_MS`]: deterministic (the same guest runs out at the same
    /// operator on every machine and under virtual time), so simulation and tests use it. It
    /// costs an interpreter such as a JavaScript Worker's engine about 10 % of its speed.
    #[default]
    Fuel,
    /// Epoch interruption: a thread ticks every millisecond, and each tick that finds the guest
    /// running counts one millisecond of CPU (waiting on I/O or timers is not counted, as in
    /// production). Cheaper than fuel but not deterministic: `edgesim dev` uses it.
    Epoch,
}

/// A data center a request can run at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Colo {
    /// IATA-style code, upper case (`SYD`).
    pub code: String,
    /// Two-letter country code the Worker sees in `cf-ipcountry` (`AU`).
    pub country: String,
    /// The client address the Worker sees in `cf-connecting-ip` for requests at this colo.
    pub client_ip: String,
}

impl Colo {
    /// A colo with the given code and country; the client IP is a documentation address
    /// (RFC 5737, `203.0.113.0/24`) derived from the code, so it is stable across runs.
    pub fn new(code: &str, country: &str) -> Self {
        let code = code.to_ascii_uppercase();
        let octet = code
            .bytes()
            .fold(0u32, |h, b| (h * 31 + u32::from(b)) % 250)
            + 2;
        Self {
            client_ip: format!("203.0.113.{octet}"),
            code,
            country: country.to_ascii_uppercase(),
        }
    }

    /// A colo from its code alone, with the country of the well-known airport, or `XX`
    /// (Cloudflare's "unknown") when the code is not in [`Colo::well_known`].
    pub fn from_code(code: &str) -> Self {
        let upper = code.to_ascii_uppercase();
        let country = WELL_KNOWN
            .iter()
            .find(|(c, _)| *c == upper)
            .map(|(_, country)| *country)
            .unwrap_or("XX");
        Self::new(&upper, country)
    }

    /// The default colos, the same as the KV model's default topology: SYD, FRA, IAD, NRT, GRU.
    pub fn defaults() -> Vec<Colo> {
        ["SYD", "FRA", "IAD", "NRT", "GRU"]
            .iter()
            .map(|c| Colo::from_code(c))
            .collect()
    }

    /// Codes this module knows the country of.
    pub fn well_known() -> impl Iterator<Item = &'static str> {
        WELL_KNOWN.iter().map(|(c, _)| *c)
    }
}

const WELL_KNOWN: &[(&str, &str)] = &[
    ("SYD", "AU"),
    ("MEL", "AU"),
    ("LHR", "GB"),
    ("IAD", "US"),
    ("SJC", "US"),
    ("DFW", "US"),
    ("LAX", "US"),
    ("ORD", "US"),
    ("SIN", "SG"),
    ("NRT", "JP"),
    ("HKG", "HK"),
    ("GRU", "BR"),
    ("FRA", "DE"),
    ("CDG", "FR"),
    ("AMS", "NL"),
    ("BOM", "IN"),
    ("JNB", "ZA"),
    ("YYZ", "CA"),
];

/// Per-invocation limits, as the Workers platform enforces them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// CPU time per invocation (response and waitUntil work together), in milliseconds,
    /// enforced with fuel at [`FUEL_PER_CPU_MS`] (or epochs, [`CpuMeter`]). Exceeding it gives
    /// error 1102.
    pub cpu_ms: u64,
    /// Linear memory per instance, in bytes. Exceeding it gives error 1102.
    pub memory_bytes: usize,
    /// Outgoing `fetch`es per invocation; the next one fails with
    /// `Too many subrequests by single Worker invocation.`
    pub subrequests: u32,
    /// KV operations per invocation; the next one fails with `too-many-operations`.
    pub kv_ops: u32,
    /// How long waitUntil work may run after the response, on the emulator's clock.
    pub wait_until: Duration,
}

impl Limits {
    /// The Workers Paid plan defaults: 30 s CPU, 128 MiB, 10,000 subrequests, 1,000 KV ops, 30 s waitUntil.
    pub fn paid() -> Self {
        Self {
            cpu_ms: 30_000,
            memory_bytes: 128 << 20,
            subrequests: 10_000,
            kv_ops: 1_000,
            wait_until: Duration::from_secs(30),
        }
    }

    /// The Workers Free plan: 10 ms CPU, 128 MiB, 50 subrequests, 1,000 KV ops, 30 s waitUntil.
    pub fn free() -> Self {
        Self {
            cpu_ms: 10,
            subrequests: 50,
            ..Self::paid()
        }
    }

    /// The fuel an invocation starts with.
    pub fn fuel(&self) -> u64 {
        self.cpu_ms.saturating_mul(FUEL_PER_CPU_MS)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::paid()
    }
}

/// Everything the host needs besides the component, the KV model, the upstream, clock and RNG.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// The colos requests may run at (`x-edgesim-colo`). Must match the KV model's colos.
    pub colos: Vec<Colo>,
    /// The colo of a request without `x-edgesim-colo`.
    pub default_colo: String,
    /// Environment variables and secrets (`SUPABASE_URL`, `SUPABASE_ANON_KEY`), given to the
    /// Worker as its WASI environment.
    pub vars: BTreeMap<String, String>,
    /// The vars whose value is JSON text (non-string wrangler `vars`): a JS Worker gets them
    /// as JSON values, as in production.
    pub json_vars: BTreeSet<String>,
    /// KV binding names the Worker may open (e.g. `ARTICLES`); each is a namespace of the KV model.
    pub kv_bindings: Vec<String>,
    /// Limits per invocation.
    pub limits: Limits,
    /// Base URL of the Supabase project (`http://127.0.0.1:54321`): fetches to its authority go
    /// to the [`Upstream`](crate::Upstream).
    pub supabase_url: String,
    /// Other authorities (`host` or `host:port`) the Worker may fetch; every other host is
    /// refused with error 1021.
    pub allowlist: Vec<String>,
    /// `[[outbound]]` rules: canned answers (with latency and fault rates) for fetches they
    /// match, checked before Supabase and the allowlist. None by default.
    pub outbound: crate::rules::OutboundRules,
    /// Instance reuse and bounds (default: reuse on, live requests unbounded).
    pub instances: InstancePolicy,
    /// Whether the Worker takes scheduled events (Cron Triggers): `true` for JavaScript Workers,
    /// whose edgesim adapter runs `scheduled()`; `false` (the default) for wasi:http Workers
    /// such as the Rust ones, which have no scheduled entry point: their runs end
    /// [`ScheduledStatus::Unsupported`](crate::ScheduledStatus::Unsupported) without a call.
    pub scheduled_events: bool,
    /// How [`Limits::cpu_ms`] is measured (fuel by default; `edgesim dev` uses epochs).
    pub cpu_meter: CpuMeter,
}

impl HostConfig {
    /// A config with the default colos (SYD first), one `ARTICLES` binding, paid limits and
    /// the given Supabase URL (also exported to the Worker as `SUPABASE_URL`).
    pub fn new(supabase_url: &str) -> Self {
        let mut vars = BTreeMap::new();
        vars.insert("SUPABASE_URL".to_string(), supabase_url.to_string());
        Self {
            colos: Colo::defaults(),
            default_colo: "SYD".to_string(),
            vars,
            json_vars: BTreeSet::new(),
            kv_bindings: vec!["ARTICLES".to_string()],
            limits: Limits::paid(),
            supabase_url: supabase_url.to_string(),
            allowlist: Vec::new(),
            outbound: crate::rules::OutboundRules::none(),
            instances: InstancePolicy::default(),
            scheduled_events: false,
            cpu_meter: CpuMeter::Fuel,
        }
    }

    /// Colos named `codes` (countries from [`Colo::from_code`]), e.g. the KV model's colos.
    pub fn colos_from_codes<S: AsRef<str>>(codes: &[S]) -> Vec<Colo> {
        codes.iter().map(|c| Colo::from_code(c.as_ref())).collect()
    }

    /// The colo called `code` (case-insensitive), if configured.
    pub fn colo(&self, code: &str) -> Option<&Colo> {
        self.colos
            .iter()
            .find(|c| c.code.eq_ignore_ascii_case(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colos_have_stable_countries_and_ips() {
        let syd = Colo::from_code("syd");
        assert_eq!(syd.code, "SYD");
        assert_eq!(syd.country, "AU");
        assert_eq!(syd, Colo::from_code("SYD"));
        assert!(syd.client_ip.starts_with("203.0.113."));
        assert_ne!(syd.client_ip, Colo::from_code("LHR").client_ip);
        assert_eq!(Colo::from_code("ZZZ").country, "XX");
    }

    #[test]
    fn limit_profiles_match_the_platform() {
        assert_eq!(Limits::paid().cpu_ms, 30_000);
        assert_eq!(Limits::free().cpu_ms, 10);
        assert_eq!(Limits::free().subrequests, 50);
        assert_eq!(Limits::paid().subrequests, 10_000);
        assert_eq!(Limits::free().memory_bytes, 128 * 1024 * 1024);
        assert_eq!(Limits::free().fuel(), 10 * FUEL_PER_CPU_MS);
        let cfg = HostConfig::new("http://127.0.0.1:54321");
        assert_eq!(cfg.colo("fra").map(|c| c.code.as_str()), Some("FRA"));
        assert!(cfg.colo("XYZ").is_none());
    }
}
