//! Which Worker runs: one notion shared by `edgesim dev`, `edgesim run`, scenario files and
//! `Sim::builder().worker(...)`.
//!
//! A [`WorkerSpec`] names a Worker the way a user does: `course` or `hardened` (the embedded
//! Rust Workers), `anchor` (the benchmark anchor), a component file (`.wasm`), a JavaScript or
//! TypeScript entry (`.js`, `.mjs`, `.ts`, ...), or a wrangler project (a directory holding
//! `wrangler.toml` / `wrangler.json` / `wrangler.jsonc`, or that file itself).
//! [`WorkerSpec::resolve`] turns it into a [`Worker`]: the component, its KV bindings, its vars
//! (wrangler `vars` with `.dev.vars` over them), a name, the files a rebuild watches, and
//! warnings about configuration edgesim does not emulate.
//!
//! ```
//! use edgesim_workers::{Variant, WorkerSpec};
//! assert_eq!(WorkerSpec::parse("hardened"), WorkerSpec::Embedded(Variant::Hardened));
//! assert!(matches!(WorkerSpec::parse("worker/js/course"), WorkerSpec::Path(_)));
//! let w = WorkerSpec::parse("course").resolve().unwrap();
//! assert_eq!(w.kv_bindings, ["ARTICLES"]);
//! ```

#![deny(missing_docs)]

pub mod dotvars;
pub mod js;
pub mod tree;
pub mod wrangler;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
pub use wrangler::{CronEntry, WRANGLER_FILES, WranglerConfig, WranglerError};

/// The embedded Rust Worker variants (scenario files state an outcome for each).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// The course's Worker, faithful to the lessons.
    #[default]
    Course,
    /// The variant that survives dropped, duplicated and reordered webhooks and 429s.
    Hardened,
    /// A mutant of the hardened Worker whose webhook handler does nothing (for edgesim's
    /// property tests: only its expirationTtl safety net refreshes KV).
    #[serde(rename = "hardened-no-webhook")]
    HardenedNoWebhook,
}

impl Variant {
    /// `course`, `hardened` or `hardened-no-webhook`.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Course => "course",
            Variant::Hardened => "hardened",
            Variant::HardenedNoWebhook => "hardened-no-webhook",
        }
    }

    /// The variant called `name`.
    pub fn by_name(name: &str) -> Option<Variant> {
        [
            Variant::Course,
            Variant::Hardened,
            Variant::HardenedNoWebhook,
        ]
        .into_iter()
        .find(|v| v.name() == name)
    }

    /// The embedded component.
    pub fn component(self) -> &'static [u8] {
        match self {
            Variant::Course => edgesim_guests::COURSE,
            Variant::Hardened => edgesim_guests::HARDENED,
            Variant::HardenedNoWebhook => edgesim_guests::fixtures::HARDENED_NO_WEBHOOK,
        }
    }
}

/// The forms a spec takes, for messages.
pub const SPEC_FORMS: &str = "`course`, `hardened`, `anchor`, a component (.wasm), a JS or TS entry (.js, .mjs, .ts), or a wrangler project (a directory or its wrangler.toml / wrangler.json / wrangler.jsonc)";

/// A Worker as a user names it (see the crate docs). Paths are kept as given; resolve them
/// against a base directory with [`WorkerSpec::relative_to`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerSpec {
    /// An embedded Rust Worker.
    Embedded(Variant),
    /// The Miniflare benchmark anchor's Worker, ported to Rust (what `just bench` serves).
    Anchor,
    /// A wasi:http component file.
    Component(PathBuf),
    /// A JavaScript or TypeScript entry module, bundled and componentized.
    JsEntry(PathBuf),
    /// A wrangler file.
    Wrangler(PathBuf),
    /// A path of another kind: a directory holding a wrangler file, or a component file.
    Path(PathBuf),
}

/// Extensions of JS and TS entries.
const JS_EXTENSIONS: [&str; 8] = ["js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx"];

impl WorkerSpec {
    /// Reads a spec as typed on a command line or in a config file. Never fails: a bad path
    /// fails in [`WorkerSpec::resolve`]. `course`, `hardened` and `anchor` are names; write
    /// `./course` for a directory of that name.
    pub fn parse(s: &str) -> WorkerSpec {
        match s {
            "course" => WorkerSpec::Embedded(Variant::Course),
            "hardened" => WorkerSpec::Embedded(Variant::Hardened),
            "hardened-no-webhook" => WorkerSpec::Embedded(Variant::HardenedNoWebhook),
            "anchor" => WorkerSpec::Anchor,
            _ => WorkerSpec::from_path(Path::new(s)),
        }
    }

    /// Classifies a path by its name.
    pub fn from_path(p: &Path) -> WorkerSpec {
        let ext = p
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if wrangler::is_wrangler_file(p) {
            WorkerSpec::Wrangler(p.to_path_buf())
        } else if ext.as_deref() == Some("wasm") {
            WorkerSpec::Component(p.to_path_buf())
        } else if ext.as_deref().is_some_and(|e| JS_EXTENSIONS.contains(&e)) {
            WorkerSpec::JsEntry(p.to_path_buf())
        } else {
            WorkerSpec::Path(p.to_path_buf())
        }
    }

    /// The same spec with a relative path joined to `base` (names are unchanged).
    pub fn relative_to(self, base: &Path) -> WorkerSpec {
        let join = |p: PathBuf| if p.is_relative() { base.join(p) } else { p };
        match self {
            WorkerSpec::Component(p) => WorkerSpec::Component(join(p)),
            WorkerSpec::JsEntry(p) => WorkerSpec::JsEntry(join(p)),
            WorkerSpec::Wrangler(p) => WorkerSpec::Wrangler(join(p)),
            WorkerSpec::Path(p) => WorkerSpec::Path(join(p)),
            other => other,
        }
    }

    /// The embedded variant, if this is one.
    pub fn variant(&self) -> Option<Variant> {
        match self {
            WorkerSpec::Embedded(v) => Some(*v),
            _ => None,
        }
    }

    /// The wrangler configuration this spec names, if it names a wrangler project (read again
    /// on every call; `None` for the other forms).
    pub fn wrangler_config(&self) -> Option<Result<WranglerConfig, WorkerError>> {
        self.wrangler_config_env(None)
    }

    /// [`WorkerSpec::wrangler_config`] with environment `env` selected.
    pub fn wrangler_config_env(
        &self,
        env: Option<&str>,
    ) -> Option<Result<WranglerConfig, WorkerError>> {
        Some(WranglerConfig::load_env(&self.wrangler_file()?, env).map_err(WorkerError::from))
    }

    /// The wrangler file this spec names (a wrangler file, or a directory holding one).
    pub fn wrangler_file(&self) -> Option<PathBuf> {
        match self {
            WorkerSpec::Wrangler(p) => Some(p.clone()),
            WorkerSpec::Path(p) if p.is_dir() => wrangler::find_in(p),
            _ => None,
        }
    }

    /// The directory of the user's project: a wrangler file's directory, a project directory,
    /// a JS entry's directory. `None` for embedded Workers and component files.
    pub fn project_dir(&self) -> Option<PathBuf> {
        match self {
            WorkerSpec::Wrangler(p) | WorkerSpec::JsEntry(p) => Some(dir_of(p)),
            WorkerSpec::Path(p) if p.is_dir() => Some(p.clone()),
            _ => None,
        }
    }

    /// The directory (or file) whose changes mean the Worker must be resolved again: a wrangler
    /// project's directory, a JS entry's directory, a component file. `None` for embedded ones.
    pub fn watch_root(&self) -> Option<PathBuf> {
        match self {
            WorkerSpec::Embedded(_) | WorkerSpec::Anchor => None,
            WorkerSpec::Component(p) => Some(p.clone()),
            WorkerSpec::JsEntry(p) | WorkerSpec::Wrangler(p) => Some(dir_of(p)),
            WorkerSpec::Path(p) => Some(p.clone()),
        }
    }

    /// Loads (and for JS, builds) the Worker.
    pub fn resolve(&self) -> Result<Worker, WorkerError> {
        self.resolve_with(&ProjectOptions::default())
    }

    /// [`WorkerSpec::resolve`] with a wrangler environment and an entry that overrides `main`
    /// (`edgesim dev --env staging src/index.ts`, as `wrangler dev`). For a JS entry spec,
    /// `opts` is ignored.
    pub fn resolve_with(&self, opts: &ProjectOptions) -> Result<Worker, WorkerError> {
        match self {
            WorkerSpec::Embedded(v) => Ok(Worker::embedded(v.name(), v.component(), Some(*v))),
            WorkerSpec::Anchor => Ok(Worker::embedded(
                "anchor",
                edgesim_guests::fixtures::ANCHOR,
                None,
            )),
            WorkerSpec::Component(p) => component_file(p),
            WorkerSpec::JsEntry(p) => js_entry(p, None, p.display().to_string()),
            WorkerSpec::Wrangler(p) => wrangler_project(p, opts),
            WorkerSpec::Path(p) => {
                if p.is_dir() {
                    match wrangler::find_in(p) {
                        Some(file) => wrangler_project(&file, opts),
                        None => Err(WorkerError::Config(format!(
                            "{}: no wrangler.toml, wrangler.json or wrangler.jsonc in this directory",
                            p.display()
                        ))),
                    }
                } else if p.is_file() {
                    component_file(p)
                } else {
                    Err(WorkerError::Config(format!(
                        "{}: no such file or directory (a Worker is {SPEC_FORMS})",
                        p.display()
                    )))
                }
            }
        }
    }
}

impl From<Variant> for WorkerSpec {
    fn from(v: Variant) -> Self {
        WorkerSpec::Embedded(v)
    }
}

impl From<&str> for WorkerSpec {
    fn from(s: &str) -> Self {
        WorkerSpec::parse(s)
    }
}

impl From<&Path> for WorkerSpec {
    fn from(p: &Path) -> Self {
        WorkerSpec::from_path(p)
    }
}

impl From<PathBuf> for WorkerSpec {
    fn from(p: PathBuf) -> Self {
        WorkerSpec::from_path(&p)
    }
}

impl std::str::FromStr for WorkerSpec {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(WorkerSpec::parse(s))
    }
}

impl fmt::Display for WorkerSpec {
    /// The spec as a user would type it (what a replay line repeats).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerSpec::Embedded(v) => f.write_str(v.name()),
            WorkerSpec::Anchor => f.write_str("anchor"),
            WorkerSpec::Component(p)
            | WorkerSpec::JsEntry(p)
            | WorkerSpec::Wrangler(p)
            | WorkerSpec::Path(p) => {
                let s = p.display().to_string();
                // A directory literally called `course` must not read back as the name.
                if matches!(s.as_str(), "course" | "hardened" | "anchor") {
                    write!(f, "./{s}")
                } else {
                    f.write_str(&s)
                }
            }
        }
    }
}

/// Why a Worker could not be loaded or built; the message names the file (and line and key
/// for configuration errors, line and column for build errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkerError {
    /// A missing file or a bad wrangler file.
    #[error("{0}")]
    Config(String),
    /// The JS build failed (a syntax error, a missing import, no Node): `edgesim dev` keeps
    /// running and retries on the next save.
    #[error("{0}")]
    Build(String),
}

impl From<WranglerError> for WorkerError {
    fn from(e: WranglerError) -> Self {
        WorkerError::Config(e.0)
    }
}

/// A Worker's component bytes.
#[derive(Clone)]
pub enum Component {
    /// Embedded in the binary.
    Static(&'static [u8]),
    /// Read or built at run time.
    Shared(Arc<[u8]>),
}

impl Component {
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Component::Static(b) => b,
            Component::Shared(b) => b,
        }
    }
}

impl fmt::Debug for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Component({} bytes)", self.bytes().len())
    }
}

/// A resolved Worker: everything a host needs besides the world it runs in.
#[derive(Clone, Debug)]
pub struct Worker {
    /// A name for messages: the variant, the wrangler `name`, or the path.
    pub name: String,
    /// The embedded variant, when it is one.
    pub variant: Option<Variant>,
    /// The component.
    pub component: Component,
    /// Whether it is a JavaScript Worker built by edgesim (its adapter runs `scheduled()` for
    /// Cron Triggers; a plain wasi:http component has no scheduled entry point).
    pub javascript: bool,
    /// KV binding names (`ARTICLES` unless a wrangler file says otherwise).
    pub kv_bindings: Vec<String>,
    /// Vars and secrets (wrangler `vars`, then `.dev.vars`), given to the Worker at request
    /// time. The runner adds `SUPABASE_URL` and `SUPABASE_ANON_KEY` for the mock.
    pub vars: BTreeMap<String, String>,
    /// The vars whose value is JSON text (non-string `vars` in the wrangler file): the Worker
    /// gets them as JSON values, as in production.
    pub json_vars: BTreeSet<String>,
    /// `compatibility_date`, when the wrangler file sets one.
    pub compatibility_date: Option<String>,
    /// Cron Triggers (`triggers.crons`), as written, with file and line.
    pub crons: Vec<CronEntry>,
    /// Hosts the Worker answers on in production (its `routes`); `*.workers.dev` hosts are
    /// always its own.
    pub routes: Vec<String>,
    /// Files whose change means the Worker must be resolved again (`edgesim dev` watches
    /// them): the wrangler file, `.dev.vars`, the sources of a JS bundle, a component file.
    pub watch: Vec<PathBuf>,
    /// Configuration that was read but is not emulated (print each once).
    pub warnings: Vec<String>,
}

impl Worker {
    fn embedded(name: &str, bytes: &'static [u8], variant: Option<Variant>) -> Worker {
        Worker {
            name: name.to_string(),
            variant,
            component: Component::Static(bytes),
            javascript: false,
            kv_bindings: default_bindings(),
            vars: BTreeMap::new(),
            json_vars: BTreeSet::new(),
            compatibility_date: None,
            crons: Vec::new(),
            routes: Vec::new(),
            watch: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// The directory a file is in (`.` for a bare file name).
fn dir_of(p: &Path) -> PathBuf {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

fn default_bindings() -> Vec<String> {
    vec!["ARTICLES".to_string()]
}

fn component_file(p: &Path) -> Result<Worker, WorkerError> {
    let bytes = std::fs::read(p)
        .map_err(|e| WorkerError::Config(format!("reading the Worker {}: {e}", p.display())))?;
    Ok(Worker {
        name: p.display().to_string(),
        variant: None,
        component: Component::Shared(bytes.into()),
        javascript: false,
        kv_bindings: default_bindings(),
        vars: BTreeMap::new(),
        json_vars: BTreeSet::new(),
        compatibility_date: None,
        crons: Vec::new(),
        routes: Vec::new(),
        watch: vec![p.to_path_buf()],
        warnings: Vec::new(),
    })
}

fn js_entry(entry: &Path, project: Option<&Path>, name: String) -> Result<Worker, WorkerError> {
    if !entry.is_file() {
        return Err(WorkerError::Config(format!(
            "{}: the Worker's entry module does not exist",
            entry.display()
        )));
    }
    let built = js::build(entry, project)?;
    let mut watch = built.sources;
    if !watch.iter().any(|p| p == entry) {
        watch.insert(0, entry.to_path_buf());
    }
    Ok(Worker {
        name,
        variant: None,
        component: Component::Shared(built.component),
        javascript: true,
        kv_bindings: default_bindings(),
        vars: BTreeMap::new(),
        json_vars: BTreeSet::new(),
        compatibility_date: None,
        crons: Vec::new(),
        routes: Vec::new(),
        watch,
        warnings: Vec::new(),
    })
}

fn wrangler_project(file: &Path, opts: &ProjectOptions) -> Result<Worker, WorkerError> {
    let cfg = WranglerConfig::load_env(file, opts.env.as_deref())?;
    let name = cfg
        .name
        .clone()
        .unwrap_or_else(|| file.display().to_string());
    let main = match &opts.entry {
        Some(entry) => entry.clone(),
        None => cfg.main_or_err()?.to_path_buf(),
    };
    // Configuration problems come first, even when the build would fail too.
    if !main.is_file() {
        return Err(WorkerError::Config(match &opts.entry {
            Some(_) => format!(
                "{}: the Worker's entry module does not exist",
                main.display()
            ),
            None => format!(
                "{}: the Worker's entry module does not exist (`main` in {})",
                main.display(),
                cfg.path.display()
            ),
        }));
    }
    let dir = dir_of(file);
    let dir = dir.as_path();
    let mut w = js_entry(&main, Some(dir), name)?;
    w.kv_bindings = cfg.kv_bindings;
    w.vars = cfg.vars;
    w.json_vars = cfg.json_vars;
    w.compatibility_date = cfg.compatibility_date;
    w.crons = cfg.crons;
    w.routes = cfg.routes;
    w.warnings = cfg.warnings;
    w.watch.push(cfg.path);
    // `.dev.vars` may appear later; watch where it would be.
    w.watch
        .push(cfg.dev_vars.unwrap_or_else(|| dir.join(".dev.vars")));
    Ok(w)
}

/// How a wrangler project is resolved: `--env NAME` and an entry given on the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectOptions {
    /// The `[env.NAME]` to use.
    pub env: Option<String>,
    /// The entry module, over the file's `main`.
    pub entry: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_by_form() {
        assert_eq!(WorkerSpec::parse("course").variant(), Some(Variant::Course));
        assert_eq!(WorkerSpec::parse("anchor"), WorkerSpec::Anchor);
        assert!(matches!(
            WorkerSpec::parse("a/w.wasm"),
            WorkerSpec::Component(_)
        ));
        assert!(matches!(
            WorkerSpec::parse("src/index.ts"),
            WorkerSpec::JsEntry(_)
        ));
        assert!(matches!(
            WorkerSpec::parse("x/wrangler.jsonc"),
            WorkerSpec::Wrangler(_)
        ));
        assert!(matches!(
            WorkerSpec::parse("worker/js/course"),
            WorkerSpec::Path(_)
        ));
        assert_eq!(
            WorkerSpec::parse("w.wasm").relative_to(Path::new("base")),
            WorkerSpec::Component(PathBuf::from("base/w.wasm"))
        );
        assert_eq!(
            WorkerSpec::parse("hardened").relative_to(Path::new("base")),
            WorkerSpec::Embedded(Variant::Hardened)
        );
        assert_eq!(WorkerSpec::Path("course".into()).to_string(), "./course");
        assert_eq!(WorkerSpec::parse("a/b").to_string(), "a/b");
    }

    #[test]
    fn bad_paths_say_what_a_worker_is() {
        let e = WorkerSpec::parse("no/such/thing")
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no such file or directory") && e.contains("wrangler"),
            "{e}"
        );
        let dir = std::env::temp_dir().join(format!("edgesim-workers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = WorkerSpec::from_path(&dir)
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(e.contains("no wrangler.toml"), "{e}");
        std::fs::write(dir.join("wrangler.toml"), "main = \"missing.js\"\n").unwrap();
        let e = WorkerSpec::from_path(&dir)
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.js") && e.contains("`main`"), "{e}");
        std::fs::write(dir.join("w.wasm"), b"not wasm").unwrap();
        let w = WorkerSpec::from_path(&dir.join("w.wasm"))
            .resolve()
            .unwrap();
        assert_eq!(w.component.bytes(), b"not wasm");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
