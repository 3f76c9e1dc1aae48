//! The one place the emulated world is built. `edgesim dev`, the simulation (`Sim`, `edgesim
//! run`) and the tests describe a world with a [`WorldSpec`] (from `edgesim.toml`, a scenario
//! file or a builder), find the project's files with [`discover`], turn spec and Worker into a
//! [`Plan`] (the host configuration, the KV model, the Supabase project, webhook routing and
//! crons) and open it on a clock, a seed and a transport with [`Plan::open`]. Dev and
//! simulation differ only in what they pass there: the wall clock and sockets, or the virtual
//! clock and in-process calls.
//!
//! What the Worker sees in its environment, in order (later wins): its wrangler `vars`, its
//! `.dev.vars`, then what edgesim injects for the mock Supabase (`SUPABASE_URL`,
//! `SUPABASE_ANON_KEY`, and `SUPABASE_SERVICE_ROLE_KEY` when the Worker defines it), then
//! `edgesim.toml`'s `[vars]`.

#![deny(missing_docs)]

pub mod discover;
pub mod routing;
pub mod settings;

pub use discover::{Layout, SupabaseSource};
pub use routing::{WebhookRoute, WebhookRouter};
pub use settings::Settings;

use edgesim_core::{SharedClock, SimRng};
use edgesim_host::rules::OutboundRules;
use edgesim_host::{Colo, CronSchedule, HostConfig, Limits};
use edgesim_kv::{ColoConfig, KvConfig, KvStore};
use edgesim_supabase::migrate::Project;
use edgesim_supabase::{ANON_KEY, SERVICE_ROLE_KEY, Supabase, WebhookDispatcher};
use edgesim_workers::{CronEntry, Worker};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Why a world cannot be built; the message names the file (and line and key) at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorldError {
    /// A bad setting.
    #[error("{0}")]
    Config(String),
    /// The Supabase project could not be opened.
    #[error("supabase project: {0}")]
    Supabase(String),
    /// The KV store could not be opened.
    #[error("KV: {0}")]
    Kv(String),
}

/// Everything a world is built from besides the Worker: what `edgesim.toml`, a scenario file
/// or a builder says.
#[derive(Clone, Debug)]
pub struct WorldSpec {
    /// The colos with their one-way latency to KV central (ms), in order.
    pub colos: Vec<(Colo, u64)>,
    /// The colo of a request that names none (default: the first).
    pub default_colo: Option<String>,
    /// The colo Database Webhooks reach (default: the default colo).
    pub webhook_colo: Option<String>,
    /// The KV model's parameters (its colos and namespaces are filled in by [`WorldSpec::plan`]).
    pub kv: KvConfig,
    /// KV bindings, when the spec names them (else the Worker's).
    pub bindings: Option<Vec<String>>,
    /// Limits per invocation.
    pub limits: Limits,
    /// Hosts the Worker may fetch besides Supabase.
    pub allowlist: Vec<String>,
    /// Canned answers for third-party APIs (`[[outbound]]`), for the Worker's fetches and for
    /// webhooks to outside hosts.
    pub outbound: OutboundRules,
    /// Vars over the Worker's and the injected ones (`edgesim.toml`'s `[vars]`).
    pub vars: BTreeMap<String, String>,
    /// The Supabase project.
    pub supabase: SupabaseSource,
    /// Hosts that are the Worker's besides `*.workers.dev` and its wrangler `routes`.
    pub worker_hosts: Vec<String>,
}

impl Default for WorldSpec {
    /// The default world: five colos (SYD, FRA, IAD, NRT, GRU), the KV model's defaults, paid
    /// limits, no allowlist, the demo Supabase project.
    fn default() -> Self {
        let kv = KvConfig::default();
        Self {
            colos: kv
                .colos
                .iter()
                .map(|c| (Colo::from_code(&c.name), c.latency_to_central_ms))
                .collect(),
            default_colo: None,
            webhook_colo: None,
            kv,
            bindings: None,
            limits: Limits::paid(),
            allowlist: Vec::new(),
            outbound: OutboundRules::none(),
            vars: BTreeMap::new(),
            supabase: SupabaseSource::Demo,
            worker_hosts: Vec::new(),
        }
    }
}

impl WorldSpec {
    /// The world `edgesim.toml` describes (defaults for what it leaves out).
    pub fn from_settings(s: &Settings) -> Result<WorldSpec, WorldError> {
        let kv = s.kv_config();
        let mut spec = WorldSpec {
            colos: s.colos(),
            default_colo: s.default_colo.clone(),
            webhook_colo: s.webhook_colo.clone(),
            kv,
            bindings: (!s.kv_namespaces.is_empty()).then(|| s.bindings()),
            limits: s.limits()?,
            allowlist: s.allowlist.clone(),
            outbound: s.outbound_rules.clone(),
            vars: s.vars.clone(),
            supabase: SupabaseSource::Demo,
            worker_hosts: s.worker_hosts.clone(),
        };
        if let Some(dir) = &s.supabase {
            spec.supabase = SupabaseSource::Dir(dir.clone());
        }
        spec.plan_colos()?;
        Ok(spec)
    }

    /// Checks the colos and returns (default colo, webhook colo).
    fn plan_colos(&self) -> Result<(String, String), WorldError> {
        let codes: Vec<&str> = self.colos.iter().map(|(c, _)| c.code.as_str()).collect();
        let Some(first) = codes.first() else {
            return Err(WorldError::Config("at least one colo is required".into()));
        };
        let pick = |what: &str, c: &Option<String>, default: &str| {
            let code = c
                .as_deref()
                .map_or(default.to_string(), str::to_ascii_uppercase);
            if codes.contains(&code.as_str()) {
                Ok(code)
            } else {
                Err(WorldError::Config(format!(
                    "{what} = {code:?} is not among the colos ({})",
                    codes.join(", ")
                )))
            }
        };
        let default = pick("default_colo", &self.default_colo, first)?;
        let webhook = pick("webhook_colo", &self.webhook_colo, &default)?;
        Ok((default, webhook))
    }

    /// The world for `worker`, with the mock Supabase at `supabase_url`.
    pub fn plan(&self, worker: &Worker, supabase_url: &str) -> Result<Plan, WorldError> {
        let (default_colo, webhook_colo) = self.plan_colos()?;
        let bindings = self
            .bindings
            .clone()
            .unwrap_or_else(|| worker.kv_bindings.clone());
        let (mut vars, mut notes) = worker_env(worker, supabase_url);
        vars.extend(self.vars.clone());
        let mut json_vars = worker.json_vars.clone();
        json_vars.retain(|k| !self.vars.contains_key(k));
        notes.extend(worker.warnings.iter().cloned());

        let mut host = HostConfig::new(supabase_url);
        host.colos = self.colos.iter().map(|(c, _)| c.clone()).collect();
        host.default_colo = default_colo;
        host.vars = vars;
        host.json_vars = json_vars;
        host.kv_bindings = bindings.clone();
        host.limits = self.limits.clone();
        host.allowlist = self.allowlist.clone();
        host.outbound = self.outbound.clone();
        host.scheduled_events = worker.javascript;

        let mut kv = self.kv.clone();
        kv.colos = self
            .colos
            .iter()
            .map(|(c, ms)| ColoConfig::new(&c.code, *ms))
            .collect();
        kv.namespaces = bindings;

        let router = WebhookRouter::new(worker.routes.iter().chain(self.worker_hosts.iter()));
        let (project, project_label) = self.supabase.load()?;
        notes.extend(project.warnings.iter().cloned());
        Ok(Plan {
            host,
            kv,
            router,
            webhook_colo,
            crons: worker.crons.clone(),
            schedule: cron_schedule(&worker.crons)?,
            project,
            project_label,
            notes,
        })
    }
}

/// A world ready to open: everything decided, nothing running.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The Worker's host configuration (colos, vars, bindings, limits, allowlist).
    pub host: HostConfig,
    /// The KV model's configuration.
    pub kv: KvConfig,
    /// Which webhook URLs are the Worker's.
    pub router: WebhookRouter,
    /// The colo webhooks reach.
    pub webhook_colo: String,
    /// The Worker's Cron Triggers, as written.
    pub crons: Vec<CronEntry>,
    /// The same, parsed: what dev's cron task and the simulation fire.
    pub schedule: CronSchedule,
    /// The Supabase project.
    pub project: Project,
    /// What the project is, for the banner (`the demo project`, `my-app/supabase`).
    pub project_label: String,
    /// Warnings to print once: configuration read but not emulated, vars replaced.
    pub notes: Vec<String>,
}

/// What differs between `edgesim dev` and the simulation when a [`Plan`] is opened: the clock,
/// the randomness and where state lives. (The transport is the host's upstream and the webhook
/// dispatcher.)
pub struct Runtime {
    /// The clock KV, Supabase and the Worker read.
    pub clock: SharedClock,
    /// The KV model's randomness.
    pub kv_rng: SimRng,
    /// The randomness of SQL functions (`gen_random_uuid()`, `random()`).
    pub sql_rng: SimRng,
    /// KV's persisted state (in memory when `None`).
    pub kv_file: Option<PathBuf>,
    /// The database file (in memory when `None`).
    pub db_file: Option<PathBuf>,
    /// Where Database Webhook deliveries go.
    pub dispatcher: Arc<dyn WebhookDispatcher>,
}

/// An open world: the KV model and the Supabase project (the host comes from
/// [`edgesim_host::Host::new`] with [`Plan::host`]).
pub struct World {
    /// The multi-colo KV model.
    pub kv: KvStore,
    /// The mock Supabase.
    pub supabase: Supabase,
}

impl Plan {
    /// Opens the KV model and the Supabase project on `rt`.
    pub fn open(&self, rt: Runtime) -> Result<World, WorldError> {
        let kv = match &rt.kv_file {
            Some(path) => {
                KvStore::open_persistent(self.kv.clone(), rt.clock.clone(), rt.kv_rng, path)
                    .map_err(|e| WorldError::Kv(format!("opening {}: {e}", path.display())))?
            }
            None => KvStore::new(self.kv.clone(), rt.clock.clone(), rt.kv_rng),
        };
        let supabase = Supabase::from_project_with_rng(
            &self.project,
            rt.db_file.as_deref(),
            rt.clock,
            rt.sql_rng,
            rt.dispatcher,
        )
        .map_err(|e| match &rt.db_file {
            Some(f) => WorldError::Supabase(format!("opening {}: {e}", f.display())),
            None => WorldError::Supabase(e.to_string()),
        })?;
        Ok(World { kv, supabase })
    }
}

/// The Worker's Cron Triggers, parsed; an expression production rejects is an error naming
/// the file and line it came from.
pub fn cron_schedule(crons: &[CronEntry]) -> Result<CronSchedule, WorldError> {
    let exprs: Vec<&str> = crons.iter().map(|c| c.expr.as_str()).collect();
    CronSchedule::parse(&exprs).map_err(|(i, e)| {
        let c = &crons[i];
        WorldError::Config(format!(
            "{}:{}: key `triggers.crons`: {:?} is not a cron expression Cloudflare accepts: {e}",
            c.file.display(),
            c.line,
            c.expr
        ))
    })
}

/// The Worker's environment: its own vars, with `SUPABASE_URL` and `SUPABASE_ANON_KEY` set to
/// the mock's, and `SUPABASE_SERVICE_ROLE_KEY` when the Worker defines one (a value the
/// Worker's configuration gave them is replaced, and a note says so).
pub fn worker_env(worker: &Worker, supabase_url: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let mut vars = worker.vars.clone();
    let mut notes = Vec::new();
    let mut inject = vec![
        ("SUPABASE_URL", supabase_url, supabase_url),
        ("SUPABASE_ANON_KEY", ANON_KEY, "its anon key"),
    ];
    if vars.contains_key("SUPABASE_SERVICE_ROLE_KEY") {
        inject.push((
            "SUPABASE_SERVICE_ROLE_KEY",
            SERVICE_ROLE_KEY,
            "its service_role key",
        ));
    }
    for (k, v, said) in inject {
        if let Some(old) = vars.insert(k.to_string(), v.to_string())
            && old != v
        {
            notes.push(format!(
                "{k} of the Worker {} is replaced by the mock Supabase's ({said})",
                worker.name
            ));
        }
    }
    (vars, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgesim_workers::{Variant, WorkerSpec};
    use std::path::PathBuf;

    fn worker() -> Worker {
        let mut w = WorkerSpec::Embedded(Variant::Course).resolve().unwrap();
        w.vars
            .insert("SUPABASE_URL".into(), "https://prod.supabase.co".into());
        w.vars
            .insert("SUPABASE_SERVICE_ROLE_KEY".into(), "prod-secret".into());
        w.vars.insert("LIMIT".into(), "5".into());
        w.vars.insert("MODE".into(), "from .dev.vars".into());
        w.json_vars.insert("LIMIT".into());
        w
    }

    #[test]
    fn the_environment_layers_worker_vars_injected_keys_then_settings() {
        let mut spec = WorldSpec::default();
        spec.vars.insert("MODE".into(), "from edgesim.toml".into());
        let plan = spec.plan(&worker(), "http://127.0.0.1:1").unwrap();
        let vars = &plan.host.vars;
        assert_eq!(vars["SUPABASE_URL"], "http://127.0.0.1:1");
        assert_eq!(vars["SUPABASE_ANON_KEY"], ANON_KEY);
        assert_eq!(vars["SUPABASE_SERVICE_ROLE_KEY"], SERVICE_ROLE_KEY);
        assert_eq!(vars["MODE"], "from edgesim.toml");
        assert!(plan.host.json_vars.contains("LIMIT"));
        assert_eq!(plan.notes.len(), 2, "{:?}", plan.notes);
        assert!(plan.notes[0].contains("SUPABASE_URL"), "{:?}", plan.notes);
        // A Worker that does not define the service_role key does not get it.
        let plain = WorkerSpec::Embedded(Variant::Course).resolve().unwrap();
        let plan = spec.plan(&plain, "http://127.0.0.1:1").unwrap();
        assert!(!plan.host.vars.contains_key("SUPABASE_SERVICE_ROLE_KEY"));
        assert_eq!(plan.host.kv_bindings, ["ARTICLES"]);
        assert_eq!(plan.kv.namespaces, ["ARTICLES"]);
        assert_eq!(plan.kv.colos.len(), plan.host.colos.len());
        assert!(!plan.host.scheduled_events);
    }

    #[test]
    fn bad_colos_and_crons_are_named() {
        let spec = WorldSpec {
            webhook_colo: Some("LHR".into()),
            ..WorldSpec::default()
        };
        let e = spec.plan(&worker(), "http://x").unwrap_err().to_string();
        assert!(
            e.contains("webhook_colo = \"LHR\"") && e.contains("SYD"),
            "{e}"
        );
        let mut w = worker();
        w.crons.push(CronEntry {
            expr: "*/5 * * *".into(),
            file: PathBuf::from("proj/wrangler.toml"),
            line: 19,
        });
        let e = WorldSpec::default()
            .plan(&w, "http://x")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("proj/wrangler.toml:19: key `triggers.crons`"),
            "{e}"
        );
    }

    #[test]
    fn outbound_rules_in_edgesim_toml_name_their_line() {
        let text = "[[outbound]]\nhost = \"api.example.com\"\nstatus = 900\n";
        let e = Settings::parse(text, std::path::Path::new("p/edgesim.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p/edgesim.toml:3: [[outbound]]"), "{e}");
        let s = Settings::parse(
            "[[outbound]]\nhost = \"api.example.com\"\nbody = \"{}\"\n",
            std::path::Path::new("edgesim.toml"),
        )
        .unwrap();
        let spec = WorldSpec::from_settings(&s).unwrap();
        assert_eq!(spec.outbound.len(), 1);
        let plan = spec.plan(&worker(), "http://x").unwrap();
        assert_eq!(plan.host.outbound.len(), 1);
    }
}
