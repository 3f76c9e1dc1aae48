//! The scenario file format (`fixtures/scenarios/*.toml`). Every table rejects unknown keys;
//! values are checked as they are read so errors point at the offending line.

use serde::{Deserialize, Deserializer, Serialize, de::Error as _};
use toml::Spanned;

/// A chaos scenario: topology, Worker, workload, mutations, faults and what must hold.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, e.g. `dropped-webhook`.
    pub name: String,
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// Virtual seconds of the chaos phase (workload, mutations and faults). A healed phase of
    /// `expect.converge_within_s` follows.
    #[serde(deserialize_with = "positive")]
    pub duration_s: f64,
    /// The colos, with their latency to KV central.
    pub colos: Vec<ColoSpec>,
    /// KV model parameters.
    #[serde(default)]
    pub kv: KvSpec,
    /// Which Worker runs and where webhooks land.
    #[serde(default)]
    pub worker: WorkerSpec,
    /// The Supabase project and its latency.
    #[serde(default)]
    pub supabase: SupabaseSpec,
    /// The user's routes the checkers judge (default: the project's `edgesim.routes.toml`,
    /// else the `[supabase] table` shorthand). Format: [`crate::routes`].
    #[serde(default)]
    pub routes: Vec<crate::routes::RouteSpec>,
    /// The routes, compiled when the file is read.
    #[serde(skip)]
    pub compiled_routes: Vec<crate::routes::Route>,
    /// Requests per colo.
    #[serde(default)]
    pub workload: Vec<WorkloadSpec>,
    /// Scripted database mutations.
    #[serde(default)]
    pub mutations: Vec<MutationSpec>,
    /// Random database mutations: one `[random_mutations]` table, or several
    /// `[[random_mutations]]` (say one per table).
    #[serde(default, deserialize_with = "one_or_many")]
    pub random_mutations: Vec<RandomMutations>,
    /// Injected faults.
    #[serde(default)]
    pub faults: FaultsSpec,
    /// Canned answers for the third-party APIs the Worker calls (and webhooks to outside
    /// hosts), with latency and seeded fault rates; they replace the project's `edgesim.toml`
    /// rules when present. Format: [`edgesim_host::rules`].
    #[serde(default)]
    pub outbound: Vec<edgesim_host::rules::RuleSpec>,
    /// The rules, compiled when the file is read.
    #[serde(skip)]
    pub outbound_rules: Option<edgesim_host::rules::OutboundRules>,
    /// What must hold, and the expected outcome per Worker variant.
    pub expect: ExpectSpec,
    /// The directory relative paths are resolved against (set by [`Scenario::load`]).
    #[serde(skip)]
    pub base_dir: Option<std::path::PathBuf>,
    /// The user's project the scenario runs against (set by `edgesim run` from the directory
    /// it runs in or `--worker`): its `edgesim.toml` and its Supabase project, used when the
    /// scenario names none.
    #[serde(skip)]
    pub project: ProjectContext,
}

/// The user's project around a scenario run (see [`Scenario::project`]).
#[derive(Clone, Debug, Default)]
pub struct ProjectContext {
    /// The project's `edgesim.toml` settings.
    pub settings: Option<edgesim_world::Settings>,
    /// The directory holding the project's `supabase/`.
    pub supabase: Option<std::path::PathBuf>,
    /// The project's `edgesim.routes.toml`, used when the scenario declares no `[[routes]]`.
    pub routes: Option<Vec<crate::routes::Route>>,
}

/// One colo (three-letter code) and its one-way latency to KV central.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColoSpec {
    /// IATA-style code such as `SYD`.
    #[serde(deserialize_with = "colo_code")]
    pub code: String,
    /// Milliseconds to KV central.
    #[serde(default = "default_latency")]
    pub latency_ms: u64,
}

fn default_latency() -> u64 {
    30
}

/// KV model parameters.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvSpec {
    /// Propagation delay from the writing colo to central, uniform in this range.
    #[serde(default = "default_propagation")]
    pub propagation_ms: RangeMs,
    /// Probability that a write is visible at once at the writing colo (production: usually).
    #[serde(default = "one", deserialize_with = "probability")]
    pub read_your_writes: f64,
    /// Keys in central storage when the run starts (as `edgesim kv key put` before it).
    #[serde(default)]
    pub seed: Vec<KvSeed>,
}

impl Default for KvSpec {
    fn default() -> Self {
        Self {
            propagation_ms: default_propagation(),
            read_your_writes: 1.0,
            seed: Vec::new(),
        }
    }
}

/// One `[[kv.seed]]` key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvSeed {
    /// The Worker's binding (`ARTICLES`).
    pub binding: Spanned<String>,
    /// The key.
    pub key: String,
    /// The value, as text.
    pub value: String,
    /// `expirationTtl`, seconds (at least 60).
    #[serde(default)]
    pub expiration_ttl: Option<u64>,
    /// Metadata (any TOML value, given to the Worker as JSON).
    #[serde(default)]
    pub metadata: Option<toml::Value>,
}

fn default_propagation() -> RangeMs {
    RangeMs { min: 50, max: 500 }
}

fn one() -> f64 {
    1.0
}

/// An inclusive range of milliseconds, `{ min = .., max = .. }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RangeMs {
    /// Lower bound.
    pub min: u64,
    /// Upper bound (at least `min`).
    pub max: u64,
}

impl<'de> Deserialize<'de> for RangeMs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            min: u64,
            max: u64,
        }
        let r = Raw::deserialize(d)?;
        if r.max < r.min {
            return Err(D::Error::custom(format!(
                "max ({}) must be at least min ({})",
                r.max, r.min
            )));
        }
        Ok(RangeMs {
            min: r.min,
            max: r.max,
        })
    }
}

/// Which Worker runs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSpec {
    /// `course` or `hardened` (the embedded components), unless `path` is set.
    #[serde(default)]
    pub variant: Variant,
    /// Any other Worker (relative to the scenario file): a component (`.wasm`), a JS or TS
    /// entry, or a wrangler project (a directory or its wrangler file); see
    /// [`edgesim_workers::WorkerSpec`].
    #[serde(default)]
    pub path: Option<String>,
    /// The colo that receives Database Webhooks (default: the first colo).
    #[serde(default)]
    pub webhook_colo: Option<Spanned<String>>,
}

impl Default for WorkerSpec {
    fn default() -> Self {
        Self {
            variant: Variant::Course,
            path: None,
            webhook_colo: None,
        }
    }
}

impl WorkerSpec {
    /// The Worker this table names, paths joined to `base_dir` (the scenario file's directory).
    pub fn spec(&self, base_dir: Option<&std::path::Path>) -> edgesim_workers::WorkerSpec {
        match &self.path {
            Some(p) => edgesim_workers::WorkerSpec::from_path(std::path::Path::new(p))
                .relative_to(base_dir.unwrap_or(std::path::Path::new(""))),
            None => edgesim_workers::WorkerSpec::Embedded(self.variant),
        }
    }
}

/// The embedded Worker variants (defined with the Worker specs in `edgesim-workers`).
pub use edgesim_workers::Variant;

/// The Supabase side.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupabaseSpec {
    /// Project directory in Supabase CLI layout (relative to the scenario file); default: the demo.
    #[serde(default)]
    pub project: Option<String>,
    /// One-way latency from any colo to Supabase, in ms.
    #[serde(default)]
    pub latency_ms: u64,
    /// The table the checkers track (default `articles`).
    #[serde(default)]
    pub table: Option<String>,
}

/// Requests at one colo (or `*` for every colo).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// A colo code, or `*`.
    pub colo: Spanned<String>,
    /// Mean requests per virtual second (Poisson arrivals).
    #[serde(deserialize_with = "positive")]
    pub rate_per_s: f64,
    /// Paths, picked uniformly per request.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Also request the declared routes: `true` for all, or a list of route patterns; a
    /// pattern's parameters are drawn from the table's rows (each id, and one absent id).
    #[serde(default)]
    pub routes: Option<RouteSelect>,
}

/// Which declared routes a workload requests.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum RouteSelect {
    /// `true`: every route; `false`: none.
    All(bool),
    /// These patterns.
    Patterns(Vec<String>),
}

/// A scripted mutation.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MutationSpec {
    /// Virtual seconds after the start.
    #[serde(deserialize_with = "non_negative")]
    pub at_s: f64,
    /// SQL run against the Supabase project (fires its webhooks).
    pub sql: String,
    /// What happens to the webhooks this mutation fires: `deliver` (subject to random faults),
    /// `drop` or `duplicate`.
    #[serde(default)]
    pub webhook: WebhookFate,
    /// A fixed delivery delay for those webhooks, in ms (overrides the random delay).
    #[serde(default)]
    pub webhook_delay_ms: Option<u64>,
}

/// A scripted webhook outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFate {
    /// Delivered, subject to the random webhook faults.
    #[default]
    Deliver,
    /// Never delivered.
    Drop,
    /// Delivered twice.
    Duplicate,
}

/// Random updates (and optionally inserts and deletes) of the tracked table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomMutations {
    /// Seconds between mutations (the first at `every_s`).
    #[serde(deserialize_with = "positive")]
    pub every_s: f64,
    /// Probability that a mutation inserts a row instead of updating one.
    #[serde(default, deserialize_with = "probability")]
    pub insert: f64,
    /// Probability that a mutation deletes a row instead of updating one.
    #[serde(default, deserialize_with = "probability")]
    pub delete: f64,
    /// Stop mutating after this many seconds (default: the whole chaos phase).
    #[serde(default)]
    pub until_s: Option<f64>,
    /// The table mutated (default: the tracked table; it must be the tracked table).
    #[serde(default)]
    pub table: Option<Spanned<String>>,
    /// The columns an update changes, each to a generated value of its type (default: the
    /// course's `title` and `content`).
    #[serde(default)]
    pub columns: Vec<String>,
    /// Write through PostgREST as this role (`anon`, `authenticated` or `service_role`), so
    /// the table's grants and row-level security decide which writes land (default: SQL as
    /// the database owner).
    #[serde(default)]
    pub role: Option<Spanned<String>>,
    /// With `role = "authenticated"`: the email of the user whose JWT the writes carry
    /// (created, confirmed, through the Auth API when the run starts, if there is no such user).
    #[serde(default)]
    pub user: Option<Spanned<String>>,
    /// Where it is written, `file:line` (set when the file is read, for messages).
    #[serde(skip)]
    pub at: String,
}

/// All faults.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsSpec {
    /// Webhook delivery faults.
    #[serde(default)]
    pub webhooks: WebhookFaults,
    /// KV failures and latency.
    #[serde(default)]
    pub kv: Vec<KvFault>,
    /// Colo↔central partitions.
    #[serde(default)]
    pub partition: Vec<Partition>,
    /// Supabase failures and latency.
    #[serde(default)]
    pub supabase: Vec<SupabaseFault>,
}

/// Random webhook faults, applied to deliveries sent inside the window.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookFaults {
    /// Probability a delivery is dropped.
    #[serde(default, deserialize_with = "probability")]
    pub drop: f64,
    /// Probability a delivery is sent twice.
    #[serde(default, deserialize_with = "probability")]
    pub duplicate: f64,
    /// Probability a delivery is held back by `reorder_ms`, so later ones overtake it.
    #[serde(default, deserialize_with = "probability")]
    pub reorder: f64,
    /// The hold-back of a reordered delivery.
    #[serde(default = "default_reorder")]
    pub reorder_ms: RangeMs,
    /// Network delay of every delivery.
    #[serde(default = "default_delay")]
    pub delay_ms: RangeMs,
    /// Window start in seconds (default 0).
    #[serde(default)]
    pub from_s: Option<f64>,
    /// Window end in seconds (default: end of the chaos phase).
    #[serde(default)]
    pub to_s: Option<f64>,
}

impl Default for WebhookFaults {
    fn default() -> Self {
        Self {
            drop: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_ms: default_reorder(),
            delay_ms: default_delay(),
            from_s: None,
            to_s: None,
        }
    }
}

fn default_reorder() -> RangeMs {
    RangeMs {
        min: 1_500,
        max: 5_000,
    }
}

fn default_delay() -> RangeMs {
    RangeMs { min: 5, max: 50 }
}

/// What a KV or Supabase fault does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum FaultKind {
    /// `429 Too Many Requests`.
    #[serde(rename = "429")]
    TooMany,
    /// A 5xx (`status`, default 503).
    #[serde(rename = "5xx")]
    ServerError,
    /// Added latency only.
    #[serde(rename = "latency")]
    Latency,
}

/// A KV fault over a window.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvFault {
    /// `429`, `5xx` or `latency`.
    pub kind: FaultKind,
    /// Probability per matching operation.
    #[serde(default = "one", deserialize_with = "probability")]
    pub rate: f64,
    /// Added latency for `latency` faults, in ms.
    #[serde(default)]
    pub latency_ms: u64,
    /// Only operations of this kind (`get`, `put`, `delete`, `list`); default: all.
    #[serde(default)]
    pub op: Option<String>,
    /// Only this colo; default: all.
    #[serde(default)]
    pub colo: Option<Spanned<String>>,
    /// Only keys starting with this; default: all.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Window start, seconds.
    #[serde(deserialize_with = "non_negative")]
    pub from_s: f64,
    /// Window end, seconds.
    pub to_s: Spanned<f64>,
}

/// A colo cut off from KV central over a window.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    /// The colo.
    pub colo: Spanned<String>,
    /// Window start, seconds.
    #[serde(deserialize_with = "non_negative")]
    pub from_s: f64,
    /// Window end, seconds.
    pub to_s: Spanned<f64>,
}

/// A Supabase fault over a window, seen by the Worker's outgoing fetches.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupabaseFault {
    /// `5xx` or `latency` (`429` answers 429).
    pub kind: FaultKind,
    /// Probability per request.
    #[serde(default = "one", deserialize_with = "probability")]
    pub rate: f64,
    /// Status of a `5xx` fault (500..=599, default 503).
    #[serde(default)]
    pub status: Option<u16>,
    /// Added latency, ms.
    #[serde(default)]
    pub latency_ms: u64,
    /// Window start, seconds.
    #[serde(deserialize_with = "non_negative")]
    pub from_s: f64,
    /// Window end, seconds.
    pub to_s: Spanned<f64>,
}

/// What must hold.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// Every colo must serve the current DB state this many seconds after the last fault heals
    /// and the last write.
    #[serde(deserialize_with = "positive")]
    pub converge_within_s: f64,
    /// Optional: no colo may serve a superseded state longer than this after it was superseded.
    #[serde(default)]
    pub max_staleness_s: Option<f64>,
    /// The fault-free staleness bound in seconds (default: derived per KV key from the KV model
    /// and what the event log shows the Worker did: cacheTtl + propagation + webhook latency +
    /// its retries; see `crate::phases::observe`).
    #[serde(default, deserialize_with = "opt_positive")]
    pub fault_free_staleness_s: Option<f64>,
    /// The under-faults staleness bound in seconds (default: derived: the expirationTtl of the
    /// Worker's writes + cacheTtl + the same allowances; unbounded when a write sets none).
    #[serde(default, deserialize_with = "opt_positive")]
    pub under_faults_staleness_s: Option<f64>,
    /// Check the phase-aware staleness bounds at all (default true).
    #[serde(default = "yes")]
    pub staleness_bounds: bool,
    /// Monotonic-read violations fail the run (default false: reported only).
    #[serde(default)]
    pub monotonic_reads: bool,
    /// Read-your-writes violations fail the run (default false: reported only).
    #[serde(default)]
    pub read_your_writes: bool,
    /// Every body must equal some committed DB state (default true).
    #[serde(default = "yes")]
    pub no_phantoms: bool,
    /// The expected outcome per Worker variant.
    pub outcome: OutcomeSpec,
}

fn yes() -> bool {
    true
}

/// Expected outcome per variant.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeSpec {
    /// `pass` or `fail` for the course Worker.
    pub course: Outcome,
    /// `pass` or `fail` for the hardened Worker.
    pub hardened: Outcome,
    /// `pass` or `fail` for the `hardened-no-webhook` mutant (default: not stated).
    #[serde(default, rename = "hardened-no-webhook")]
    pub hardened_no_webhook: Option<Outcome>,
}

impl OutcomeSpec {
    /// The outcome the file states for `v`.
    pub fn of(&self, v: Variant) -> Option<Outcome> {
        match v {
            Variant::Course => Some(self.course),
            Variant::Hardened => Some(self.hardened),
            Variant::HardenedNoWebhook => self.hardened_no_webhook,
        }
    }
}

/// Whether the expectations hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every expectation holds.
    Pass,
    /// At least one is violated.
    Fail,
}

/// A table or an array of tables (`[x]` or `[[x]]`), each read with its own errors.
fn one_or_many<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a table or an array of tables")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<Vec<T>, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(m)).map(|t| vec![t])
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, s: A) -> Result<Vec<T>, A::Error> {
            Vec::<T>::deserialize(serde::de::value::SeqAccessDeserializer::new(s))
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

fn probability<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if !(0.0..=1.0).contains(&v) {
        return Err(D::Error::custom(format!(
            "must be a probability between 0 and 1, got {v}"
        )));
    }
    Ok(v)
}

fn positive<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if !(v > 0.0 && v.is_finite()) {
        return Err(D::Error::custom(format!(
            "must be a positive number, got {v}"
        )));
    }
    Ok(v)
}

fn opt_positive<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    positive(d).map(Some)
}

fn non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if !(v >= 0.0 && v.is_finite()) {
        return Err(D::Error::custom(format!(
            "must be zero or a positive number, got {v}"
        )));
    }
    Ok(v)
}

fn colo_code<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = String::deserialize(d)?;
    if v.len() != 3 || !v.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(D::Error::custom(format!(
            "a colo code is three uppercase letters such as SYD, got {v:?}"
        )));
    }
    Ok(v)
}
