//! `edgesim.toml`: edgesim's own settings for a project (what a wrangler file cannot say: colos,
//! the KV model, limits, outbound rules, where the Supabase project is and which hosts are the
//! Worker's). `edgesim dev` and `edgesim run` read it from the project directory. Unknown keys
//! are errors that name the file, line and key.
//!
//! ```toml
//! name = "course"
//! worker = "worker/js/course"   # a component, JS entry or wrangler project; or:
//!                               # variant = "hardened" (embedded: course, hardened, anchor)
//! default_colo = "SYD"
//! allowlist = ["api.example.com"]
//! supabase = "../backend"        # the directory holding supabase/ (default: found as the
//!                               # Supabase CLI finds it)
//! worker_hosts = ["api.example.com"]  # webhooks to these hosts reach the local Worker
//! webhook_colo = "SYD"          # the colo Database Webhooks reach
//!
//! [vars]
//! GREETING = "hello"
//!
//! [[kv_namespaces]]
//! binding = "ARTICLES"
//!
//! [[colos]]
//! code = "SYD"
//! country = "AU"                # optional for well-known codes
//! latency_ms = 150              # colo ↔ central, one way
//!
//! [limits]
//! profile = "paid"              # or "free"; the keys below override the profile
//! cpu_ms = 30000
//!
//! [kv]
//! propagation_min_ms = 100
//! propagation_max_ms = 2000
//! read_your_writes = true
//! default_cache_ttl_s = 60
//! ```

use crate::WorldError;
use edgesim_host::rules::{OutboundRules, RuleSpec};
use edgesim_host::{Colo, Limits};
use edgesim_kv::{ColoConfig, Delay, KvConfig, ReadYourWrites};
use edgesim_workers::WorkerSpec;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

type Result<T> = std::result::Result<T, WorldError>;

fn bail<T>(msg: String) -> Result<T> {
    Err(WorldError::Config(msg))
}

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// A name for the project (shown at start).
    pub name: Option<String>,
    /// The Worker (relative to the file): a component, a JS or TS entry, or a wrangler
    /// project; see [`WorkerSpec`].
    #[serde(default, deserialize_with = "spec")]
    pub worker: Option<WorkerSpec>,
    /// Which embedded Worker to run when `worker` is not set: `course` or `hardened`.
    pub variant: Option<String>,
    /// The colo of requests without `x-edgesim-colo`.
    pub default_colo: Option<String>,
    /// Hosts the Worker may fetch besides Supabase.
    #[serde(default)]
    pub allowlist: Vec<String>,
    /// The directory holding the project's `supabase/` (relative to the file).
    pub supabase: Option<PathBuf>,
    /// Hosts that are the Worker's in production besides `*.workers.dev` and its wrangler
    /// `routes`: a Database Webhook to one of them reaches the local Worker.
    #[serde(default)]
    pub worker_hosts: Vec<String>,
    /// The colo Database Webhooks reach (default: the default colo).
    pub webhook_colo: Option<String>,
    /// `[[outbound]]` rules: canned answers for third-party APIs (see
    /// [`edgesim_host::rules`]).
    #[serde(default)]
    pub outbound: Vec<RuleSpec>,
    /// The rules, compiled when the file is read.
    #[serde(skip)]
    pub outbound_rules: OutboundRules,
    /// Environment variables (merged over `SUPABASE_URL` and `SUPABASE_ANON_KEY`).
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// KV bindings.
    #[serde(default)]
    pub kv_namespaces: Vec<KvNamespace>,
    /// Colos.
    #[serde(default)]
    pub colos: Vec<ColoEntry>,
    /// Limits.
    #[serde(default)]
    pub limits: LimitsEntry,
    /// KV model parameters.
    #[serde(default)]
    pub kv: KvEntry,
}

/// `[[kv_namespaces]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvNamespace {
    /// The binding name the Worker opens.
    pub binding: String,
    /// Accepted for wrangler compatibility; unused.
    pub id: Option<String>,
    /// Accepted for wrangler compatibility; unused.
    pub preview_id: Option<String>,
}

/// `[[colos]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColoEntry {
    /// IATA code.
    pub code: String,
    /// Two-letter country code (default: the well-known airport's, else `XX`).
    pub country: Option<String>,
    /// One-way latency to KV central, ms (default 50).
    pub latency_ms: Option<u64>,
}

/// `[limits]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsEntry {
    /// `paid` (default) or `free`.
    pub profile: Option<String>,
    /// CPU ms per invocation.
    pub cpu_ms: Option<u64>,
    /// Memory per instance, MiB.
    pub memory_mb: Option<usize>,
    /// Subrequests per invocation.
    pub subrequests: Option<u32>,
    /// KV operations per invocation.
    pub kv_ops: Option<u32>,
    /// Seconds waitUntil work may run after the response.
    pub wait_until_s: Option<u64>,
}

/// `[kv]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvEntry {
    /// Shortest delay from a write to central, ms.
    pub propagation_min_ms: Option<u64>,
    /// Longest delay from a write to central, ms.
    pub propagation_max_ms: Option<u64>,
    /// Whether the writing colo sees its own write at once.
    pub read_your_writes: Option<bool>,
    /// cacheTtl of reads that name none, seconds.
    pub default_cache_ttl_s: Option<u64>,
    /// Model the regional cache tier.
    pub regional_tier: Option<bool>,
}

/// A rule's error as `file:line: [[outbound]] rule N: key: message`.
pub fn rule_error(path: &Path, text: &str, e: &edgesim_host::rules::RuleError) -> String {
    match &e.span {
        Some(span) => {
            let at = span.start.min(text.len());
            let line = text.as_bytes()[..at]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            format!("{}:{line}: [[outbound]] {e}", path.display())
        }
        None => format!("{}: [[outbound]] {e}", path.display()),
    }
}

/// The embedded Workers a `variant` names.
pub const VARIANT_NAMES: &str = "`course`, `hardened` or `anchor`";

fn spec<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<WorkerSpec>, D::Error> {
    Ok(Some(WorkerSpec::parse(&String::deserialize(d)?)))
}

impl Settings {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Settings> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| WorldError::Config(format!("reading {}: {e}", path.display())))?;
        Self::parse(&text, path)
    }

    /// Parses `text` (read from `path`, for messages). Relative paths are joined to the file's
    /// directory.
    pub fn parse(text: &str, path: &Path) -> Result<Settings> {
        let mut cfg: Settings = toml::from_str(text)
            .map_err(|e| WorldError::Config(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new(""));
        if let Some(worker) = cfg.worker.take() {
            cfg.worker = Some(worker.relative_to(base));
        }
        if let Some(dir) = cfg.supabase.take() {
            cfg.supabase = Some(if dir.is_relative() {
                base.join(dir)
            } else {
                dir
            });
        }
        cfg.outbound_rules = edgesim_host::rules::compile(&cfg.outbound, base)
            .map_err(|e| WorldError::Config(rule_error(path, text, &e)))?;
        if let Some(v) = &cfg.variant
            && !matches!(v.as_str(), "course" | "hardened" | "anchor")
        {
            return bail(format!(
                "{}: variant = {v:?}: expected {VARIANT_NAMES}",
                path.display()
            ));
        }
        Ok(cfg)
    }

    /// The colos (defaults when none are configured) with their KV latencies.
    pub fn colos(&self) -> Vec<(Colo, u64)> {
        if self.colos.is_empty() {
            let kv = KvConfig::default();
            return kv
                .colos
                .iter()
                .map(|c| (Colo::from_code(&c.name), c.latency_to_central_ms))
                .collect();
        }
        self.colos
            .iter()
            .map(|c| {
                let colo = match &c.country {
                    Some(country) => Colo::new(&c.code, country),
                    None => Colo::from_code(&c.code),
                };
                (colo, c.latency_ms.unwrap_or(50))
            })
            .collect()
    }

    /// KV binding names (`ARTICLES` when none are configured).
    pub fn bindings(&self) -> Vec<String> {
        if self.kv_namespaces.is_empty() {
            vec!["ARTICLES".to_string()]
        } else {
            self.kv_namespaces
                .iter()
                .map(|n| n.binding.clone())
                .collect()
        }
    }

    /// The limits: the profile, then the overrides.
    pub fn limits(&self) -> Result<Limits> {
        let l = &self.limits;
        let mut limits = match l.profile.as_deref() {
            None | Some("paid") => Limits::paid(),
            Some("free") => Limits::free(),
            Some(other) => {
                return bail(format!(
                    "[limits] profile = {other:?}: expected \"paid\" or \"free\""
                ));
            }
        };
        if let Some(v) = l.cpu_ms {
            limits.cpu_ms = v;
        }
        if let Some(v) = l.memory_mb {
            limits.memory_bytes = v << 20;
        }
        if let Some(v) = l.subrequests {
            limits.subrequests = v;
        }
        if let Some(v) = l.kv_ops {
            limits.kv_ops = v;
        }
        if let Some(v) = l.wait_until_s {
            limits.wait_until = Duration::from_secs(v);
        }
        Ok(limits)
    }

    /// The KV model's configuration.
    pub fn kv_config(&self) -> KvConfig {
        let mut kv = KvConfig {
            colos: self
                .colos()
                .into_iter()
                .map(|(c, ms)| ColoConfig::new(&c.code, ms))
                .collect(),
            namespaces: self.bindings(),
            ..KvConfig::default()
        };
        let k = &self.kv;
        if k.propagation_min_ms.is_some() || k.propagation_max_ms.is_some() {
            let min_ms = k.propagation_min_ms.unwrap_or(0);
            kv.propagation = Delay::Uniform {
                min_ms,
                max_ms: k.propagation_max_ms.unwrap_or(min_ms).max(min_ms),
            };
        }
        if let Some(on) = k.read_your_writes {
            kv.read_your_writes = if on {
                ReadYourWrites::On
            } else {
                ReadYourWrites::Off
            };
        }
        if let Some(s) = k.default_cache_ttl_s {
            kv.default_cache_ttl_s = s;
        }
        if let Some(r) = k.regional_tier {
            kv.regional_tier = r;
        }
        kv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_file() {
        let text = r#"
name = "course"
default_colo = "LHR"
[vars]
A = "b"
[[kv_namespaces]]
binding = "ARTICLES"
id = "abc"
[[colos]]
code = "LHR"
latency_ms = 20
[[colos]]
code = "XYZ"
country = "nz"
[limits]
profile = "free"
subrequests = 7
[kv]
propagation_min_ms = 5
propagation_max_ms = 9
read_your_writes = false
"#;
        let cfg = Settings::parse(text, Path::new("edgesim.toml")).unwrap();
        let colos = cfg.colos();
        assert_eq!(colos[0].0.country, "GB");
        assert_eq!(colos[1].0.country, "NZ");
        assert_eq!(colos[1].1, 50);
        let limits = cfg.limits().unwrap();
        assert_eq!(limits.cpu_ms, 10);
        assert_eq!(limits.subrequests, 7);
        let kv = cfg.kv_config();
        assert_eq!(kv.colos.len(), 2);
        assert_eq!(kv.read_your_writes, ReadYourWrites::Off);
        assert_eq!(kv.propagation.max_ms(), 9);
    }

    #[test]
    fn unknown_keys_name_file_line_and_key() {
        let text = "name = \"x\"\n[limits]\nprofile = \"paid\"\ncpu_msec = 5\n";
        let err = Settings::parse(text, Path::new("conf/edgesim.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("conf/edgesim.toml"), "{err}");
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("cpu_msec"), "{err}");
        let err = Settings::parse("colour = 1\n", Path::new("e.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1") && err.contains("colour"), "{err}");
    }

    #[test]
    fn bad_profile_and_variant_are_errors() {
        let cfg = Settings::parse("[limits]\nprofile = \"gold\"\n", Path::new("e.toml")).unwrap();
        assert!(cfg.limits().unwrap_err().to_string().contains("gold"));
        assert!(Settings::parse("variant = \"x\"\n", Path::new("e.toml")).is_err());
    }
}

/// Fuzzing `edgesim.toml` (see `edgesim_testkit::fuzz`): parsing and every derived setting
/// (colos, KV, limits, the host config) must give a value or an error, never a panic.
#[cfg(test)]
mod fuzz {
    use super::*;
    use edgesim_testkit::fuzz;

    const DICT: &[&str] = &[
        "name = ",
        "worker = ",
        "variant = ",
        "default_colo = ",
        "allowlist = ",
        "[vars]",
        "[[kv_namespaces]]",
        "binding = ",
        "id = ",
        "[[colos]]",
        "code = ",
        "country = ",
        "latency_ms = ",
        "[limits]",
        "profile = ",
        "\"paid\"",
        "\"free\"",
        "cpu_ms = ",
        "memory_mb = ",
        "subrequests = ",
        "[kv]",
        "propagation_min_ms = ",
        "propagation_max_ms = ",
        "read_your_writes = ",
        "default_cache_ttl_s = ",
        "\"SYD\"",
        "\"course\"",
        "\"hardened\"",
        "true",
        "false",
        "-1",
        "18446744073709551615",
        "1e309",
        "\n",
        "\"",
        "[",
        "]",
        "{",
        "}",
    ];

    fn target(data: &[u8]) -> String {
        let text = String::from_utf8_lossy(data);
        match Settings::parse(&text, Path::new("edgesim.toml")) {
            Err(e) => format!("err:{}", fuzz::shape(&e.to_string(), 40)),
            Ok(cfg) => {
                let _ = cfg.colos();
                let _ = cfg.bindings();
                let _ = cfg.kv_config();
                let limits = cfg.limits().map(|_| ());
                let host = crate::WorldSpec::from_settings(&cfg).map(|_| ());
                format!(
                    "ok:{}:{}",
                    fuzz::class_of(&limits, 20),
                    fuzz::class_of(&host, 20)
                )
            }
        }
    }

    #[test]
    fn fuzz_corpus_replays_without_panics() {
        let r = fuzz::run("edgesim_toml", None, DICT, target);
        assert!(r.corpus_before > 0);
    }

    /// `just fuzz`.
    #[test]
    #[ignore = "a campaign: run by `just fuzz`"]
    fn fuzz_campaign() {
        let budget = fuzz::budget_from_env().unwrap_or(std::time::Duration::from_secs(10));
        let r = fuzz::run("edgesim_toml", Some(budget), DICT, target);
        fuzz::record(&r);
        println!("{}", r.row());
        assert_eq!(r.crashes, 0, "crashes in fuzz/crashes/edgesim_toml/");
    }
}
