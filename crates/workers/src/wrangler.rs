//! wrangler configuration (`wrangler.toml`, `wrangler.json`, `wrangler.jsonc`) and the
//! `.dev.vars` beside it: what edgesim emulates of it, and a warning listing the rest.
//!
//! Read: `name`, `main` (the JS or TS entry, relative to the file; optional when the entry is
//! given on the command line, as `wrangler dev src/index.ts`), `compatibility_date`, `vars`
//! (strings, and numbers, booleans, arrays and objects, which reach the Worker as JSON values as
//! in production), `kv_namespaces` (each `binding`; `id` and `preview_id` are ignored, as
//! `wrangler dev` keeps local namespaces), `triggers.crons` (Cron Triggers), `route` /
//! `routes` / `workers_dev` (which hosts are this Worker's: a Database Webhook to one of them
//! reaches the local Worker) and `[env.NAME]` (with `--env NAME`, wrangler's inheritance: `vars`
//! and `kv_namespaces` are not inherited from the top level, the other keys are; the name
//! becomes `<name>-<NAME>` unless the environment sets one). Every other key is listed once in
//! a warning and otherwise ignored; never fatal, since real wrangler files carry many.

use crate::dotvars;
use crate::tree::{self, Entry, Node, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The wrangler file names, in the order wrangler looks for them.
pub const WRANGLER_FILES: [&str; 3] = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"];

/// Keys an `[env.NAME]` table does not inherit from the top level (wrangler's
/// "non-inheritable keys"; of those edgesim reads, `vars` and `kv_namespaces`).
const NOT_INHERITED: [&str; 2] = ["vars", "kv_namespaces"];

/// One `triggers.crons` entry: the expression as written and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronEntry {
    /// The cron expression.
    pub expr: String,
    /// The file it came from.
    pub file: PathBuf,
    /// Its line.
    pub line: usize,
}

/// What edgesim takes from a wrangler file (and its `.dev.vars`).
#[derive(Clone, Debug, PartialEq)]
pub struct WranglerConfig {
    /// The file read.
    pub path: PathBuf,
    /// The environment selected (`--env`), if any.
    pub env: Option<String>,
    /// `name` (`<name>-<env>` for an environment without its own name).
    pub name: Option<String>,
    /// `main`, joined to the file's directory; `None` when the file names no entry (it must
    /// then come from the command line).
    pub main: Option<PathBuf>,
    /// `compatibility_date`.
    pub compatibility_date: Option<String>,
    /// `vars`, then `.dev.vars` over them (as `wrangler dev` merges them). Non-string values
    /// are kept as JSON text and named in [`WranglerConfig::json_vars`].
    pub vars: BTreeMap<String, String>,
    /// The vars whose value is JSON text (numbers, booleans, arrays, objects in the file).
    pub json_vars: BTreeSet<String>,
    /// The KV binding names, in file order.
    pub kv_bindings: Vec<String>,
    /// `triggers.crons`.
    pub crons: Vec<CronEntry>,
    /// Hosts this Worker answers on in production: each `route`/`routes` pattern's host
    /// (`example.com`, `*.example.com`); `*.workers.dev` is always the Worker's.
    pub routes: Vec<String>,
    /// The `.dev.vars` file, when there is one.
    pub dev_vars: Option<PathBuf>,
    /// What was read but is not emulated (one line each).
    pub warnings: Vec<String>,
}

/// A wrangler file that cannot be used; the message names the file, line and key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct WranglerError(pub String);

/// The wrangler file in `dir`, if any (the first of [`WRANGLER_FILES`] that exists).
pub fn find_in(dir: &Path) -> Option<PathBuf> {
    WRANGLER_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

/// Whether `path`'s file name is one of [`WRANGLER_FILES`].
pub fn is_wrangler_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| WRANGLER_FILES.contains(&n))
}

/// Whether the configuration file at `path` is a wrangler file, told by its keys rather than
/// its name: JSON, or TOML with a top-level key only wrangler has (`main`,
/// `compatibility_date`, `kv_namespaces`, `triggers`, `env`, `routes`, ...). An `edgesim.toml`
/// has none of them.
pub fn looks_like_wrangler(path: &Path, text: &str) -> bool {
    if is_wrangler_file(path) {
        return true;
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if matches!(ext, "json" | "jsonc") {
        return true;
    }
    const WRANGLER_ONLY: [&str; 12] = [
        "main",
        "compatibility_date",
        "compatibility_flags",
        "kv_namespaces",
        "triggers",
        "env",
        "routes",
        "route",
        "workers_dev",
        "account_id",
        "durable_objects",
        "r2_buckets",
    ];
    match tree::parse_toml(text) {
        Ok(Node {
            value: Value::Table(entries),
            ..
        }) => entries
            .iter()
            .any(|e| WRANGLER_ONLY.contains(&e.key.as_str())),
        _ => false,
    }
}

impl WranglerConfig {
    /// Reads `path` (top level) and the `.dev.vars` beside it.
    pub fn load(path: &Path) -> Result<WranglerConfig, WranglerError> {
        Self::load_env(path, None)
    }

    /// Reads `path` with environment `env` selected (`--env`), and the `.dev.vars` beside it
    /// (`.dev.vars.<env>` first when it exists, as wrangler does).
    pub fn load_env(path: &Path, env: Option<&str>) -> Result<WranglerConfig, WranglerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| WranglerError(format!("{}: {e}", path.display())))?;
        let mut cfg = Self::parse_env(&text, path, env)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let dev_vars = env
            .map(|e| dir.join(format!(".dev.vars.{e}")))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| dir.join(".dev.vars"));
        if dev_vars.is_file() {
            let text = std::fs::read_to_string(&dev_vars)
                .map_err(|e| WranglerError(format!("{}: {e}", dev_vars.display())))?;
            let parsed = dotvars::parse(&text);
            for skipped in &parsed.skipped {
                cfg.warnings
                    .push(format!("{}: {skipped}; ignored", dev_vars.display()));
            }
            for k in parsed.vars.keys() {
                cfg.json_vars.remove(k);
            }
            cfg.vars.extend(parsed.vars);
            cfg.dev_vars = Some(dev_vars);
        }
        Ok(cfg)
    }

    /// Parses `text`, read from `path` (its extension picks TOML, JSON or JSONC; `main` is
    /// resolved against its directory). `.dev.vars` is not read.
    pub fn parse(text: &str, path: &Path) -> Result<WranglerConfig, WranglerError> {
        Self::parse_env(text, path, None)
    }

    /// [`WranglerConfig::parse`] with environment `env` selected.
    pub fn parse_env(
        text: &str,
        path: &Path,
        env: Option<&str>,
    ) -> Result<WranglerConfig, WranglerError> {
        let file = path.display().to_string();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("toml");
        let doc = match ext {
            "json" => tree::parse_json(text, false),
            "jsonc" => tree::parse_json(text, true),
            _ => tree::parse_toml(text),
        }
        .map_err(|e| WranglerError(format!("{file}: {e}")))?;
        let Value::Table(top) = doc.value else {
            return Err(WranglerError(format!(
                "{file}:{}: expected a table of settings, found {}",
                doc.line,
                doc.value.kind()
            )));
        };
        let err = |line: usize, key: &str, msg: String| {
            WranglerError(format!("{file}:{line}: key `{key}`: {msg}"))
        };
        // The entries in force: the top level, or the environment's over the inherited keys.
        let mut env_names = Vec::new();
        let mut env_table = None;
        for e in &top {
            if e.key == "env" {
                let Value::Table(envs) = &e.node.value else {
                    return Err(err(
                        e.line,
                        "env",
                        format!("expected a table, found {}", e.node.value.kind()),
                    ));
                };
                for en in envs {
                    env_names.push(en.key.clone());
                    if Some(en.key.as_str()) == env {
                        let Value::Table(t) = &en.node.value else {
                            return Err(err(
                                en.line,
                                &format!("env.{}", en.key),
                                format!("expected a table, found {}", en.node.value.kind()),
                            ));
                        };
                        env_table = Some(t.clone());
                    }
                }
            }
        }
        let entries: Vec<Entry> = match (env, env_table) {
            (None, _) => top.into_iter().filter(|e| e.key != "env").collect(),
            (Some(name), None) => {
                return Err(WranglerError(format!(
                    "{file}: no environment named {name:?} ([env.{name}]); {}",
                    if env_names.is_empty() {
                        "the file defines none".to_string()
                    } else {
                        format!("it defines {}", env_names.join(", "))
                    }
                )));
            }
            (Some(name), Some(over)) => {
                let mut merged: Vec<Entry> = top
                    .into_iter()
                    .filter(|e| {
                        e.key != "env"
                            && !NOT_INHERITED.contains(&e.key.as_str())
                            && !over.iter().any(|o| o.key == e.key)
                    })
                    .collect();
                let has_name = over.iter().any(|o| o.key == "name");
                if !has_name
                    && let Some(n) = merged.iter_mut().find(|e| e.key == "name")
                    && let Value::Str(s) = &n.node.value
                {
                    n.node.value = Value::Str(format!("{s}-{name}"));
                }
                merged.extend(over);
                merged
            }
        };
        let mut cfg = WranglerConfig {
            path: path.to_path_buf(),
            env: env.map(str::to_string),
            name: None,
            main: None,
            compatibility_date: None,
            vars: BTreeMap::new(),
            json_vars: BTreeSet::new(),
            kv_bindings: Vec::new(),
            crons: Vec::new(),
            routes: Vec::new(),
            dev_vars: None,
            warnings: Vec::new(),
        };
        let mut ignored: Vec<String> = Vec::new();
        for Entry { key, line, node } in entries {
            match key.as_str() {
                "name" => cfg.name = Some(string(&node, &key, line, &err)?),
                "main" => {
                    let main = string(&node, &key, line, &err)?;
                    cfg.main = Some(path.parent().unwrap_or(Path::new(".")).join(main));
                }
                "compatibility_date" => {
                    cfg.compatibility_date = Some(match node.value {
                        Value::Datetime(d) => d,
                        _ => string(&node, &key, line, &err)?,
                    })
                }
                "vars" => {
                    let Value::Table(vars) = node.value else {
                        return Err(err(
                            line,
                            "vars",
                            format!("expected a table, found {}", node.value.kind()),
                        ));
                    };
                    for v in vars {
                        let text = match v.node.value {
                            Value::Str(s) => s,
                            other => {
                                cfg.json_vars.insert(v.key.clone());
                                other.to_json()
                            }
                        };
                        cfg.vars.insert(v.key, text);
                    }
                }
                "kv_namespaces" => read_kv(&mut cfg, node, line, &mut ignored, &err)?,
                "triggers" => {
                    let Value::Table(t) = node.value else {
                        return Err(err(
                            line,
                            "triggers",
                            format!("expected a table, found {}", node.value.kind()),
                        ));
                    };
                    for f in t {
                        if f.key != "crons" {
                            ignored.push(format!("triggers.{}", f.key));
                            continue;
                        }
                        let Value::Array(items) = f.node.value else {
                            return Err(err(
                                f.line,
                                "triggers.crons",
                                format!(
                                    "expected an array of strings, found {}",
                                    f.node.value.kind()
                                ),
                            ));
                        };
                        for item in items {
                            let expr = string(&item, "triggers.crons", item.line, &err)?;
                            cfg.crons.push(CronEntry {
                                expr,
                                file: path.to_path_buf(),
                                line: item.line,
                            });
                        }
                    }
                }
                "route" | "routes" => {
                    let items = match node.value {
                        Value::Array(items) => items,
                        other => vec![Node {
                            line: node.line,
                            value: other,
                        }],
                    };
                    for item in items {
                        let pattern = match &item.value {
                            Value::Str(s) => s.clone(),
                            Value::Table(fields) => fields
                                .iter()
                                .find(|f| f.key == "pattern")
                                .and_then(|f| match &f.node.value {
                                    Value::Str(s) => Some(s.clone()),
                                    _ => None,
                                })
                                .ok_or_else(|| {
                                    err(item.line, &key, "a route needs a `pattern`".into())
                                })?,
                            other => {
                                return Err(err(
                                    item.line,
                                    &key,
                                    format!(
                                        "expected a pattern or a table with `pattern`, found {}",
                                        other.kind()
                                    ),
                                ));
                            }
                        };
                        cfg.routes.push(route_host(&pattern));
                    }
                }
                // Always on locally: any *.workers.dev host is the Worker's.
                "workers_dev" => {}
                other => {
                    if !ignored.iter().any(|k| k == other) {
                        ignored.push(other.to_string());
                    }
                }
            }
        }
        if !ignored.is_empty() {
            ignored.sort();
            ignored.dedup();
            cfg.warnings.push(format!(
                "{file}: not emulated by edgesim, ignored: {}",
                ignored.join(", ")
            ));
        }
        Ok(cfg)
    }

    /// `main`, or an error saying how to name the entry.
    pub fn main_or_err(&self) -> Result<&Path, WranglerError> {
        self.main.as_deref().ok_or_else(|| {
            WranglerError(format!(
                "{}: no `main`: name the Worker's entry module (for example main = \"src/index.js\"), or give it on the command line (edgesim dev src/index.ts)",
                self.path.display()
            ))
        })
    }
}

/// The host of a route pattern (`example.com/*` → `example.com`, `https://*.a.com/x*` →
/// `*.a.com`), lower case.
pub fn route_host(pattern: &str) -> String {
    let p = pattern
        .strip_prefix("https://")
        .or_else(|| pattern.strip_prefix("http://"))
        .unwrap_or(pattern);
    let host = p.split('/').next().unwrap_or(p);
    host.split(':').next().unwrap_or(host).to_ascii_lowercase()
}

fn read_kv(
    cfg: &mut WranglerConfig,
    node: Node,
    line: usize,
    ignored: &mut Vec<String>,
    err: &impl Fn(usize, &str, String) -> WranglerError,
) -> Result<(), WranglerError> {
    let Value::Array(items) = node.value else {
        return Err(err(
            line,
            "kv_namespaces",
            format!("expected an array of tables, found {}", node.value.kind()),
        ));
    };
    for item in items {
        let Value::Table(fields) = item.value else {
            return Err(err(
                item.line,
                "kv_namespaces",
                format!(
                    "expected a table with `binding`, found {}",
                    item.value.kind()
                ),
            ));
        };
        let mut binding = None;
        for f in fields {
            match f.key.as_str() {
                "binding" => {
                    let b = string(&f.node, "binding", f.line, err)?;
                    if b.is_empty() {
                        return Err(err(f.line, "binding", "must not be empty".into()));
                    }
                    if cfg.kv_bindings.contains(&b) {
                        return Err(err(f.line, "binding", format!("{b:?} is bound twice")));
                    }
                    binding = Some(b);
                }
                // Namespace ids: local namespaces stand in, as in `wrangler dev`.
                "id" | "preview_id" => {}
                other => ignored.push(format!("kv_namespaces.{other}")),
            }
        }
        let Some(b) = binding else {
            return Err(err(
                item.line,
                "kv_namespaces",
                "an entry has no `binding`".into(),
            ));
        };
        cfg.kv_bindings.push(b);
    }
    Ok(())
}

fn string(
    node: &Node,
    key: &str,
    line: usize,
    err: &impl Fn(usize, &str, String) -> WranglerError,
) -> Result<String, WranglerError> {
    match &node.value {
        Value::Str(s) => Ok(s.clone()),
        other => Err(err(
            line,
            key,
            format!("expected a string, found {}", other.kind()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"name = "course-js"
main = "src/index.js"
compatibility_date = "2024-09-23"
account_id = "abc"
workers_dev = true
routes = ["shop.example.com/*", { pattern = "https://API.example.com/v1*", zone_name = "example.com" }]

[vars]
GREETING = "hello"
LIMIT = 5

[[kv_namespaces]]
binding = "ARTICLES"
id = "0123"
preview_id = "4567"

[[kv_namespaces]]
binding = "CACHE"

[triggers]
crons = ["*/5 * * * *", "0 0 * * MON"]

[env.staging]
main = "src/staging.js"
[env.staging.vars]
GREETING = "staging"
[[env.staging.kv_namespaces]]
binding = "STAGING_KV"

[env.production]
name = "prod"
"#;

    #[test]
    fn reads_toml() {
        let c = WranglerConfig::parse(TOML, Path::new("proj/wrangler.toml")).unwrap();
        assert_eq!(c.name.as_deref(), Some("course-js"));
        assert_eq!(c.main.as_deref(), Some(Path::new("proj/src/index.js")));
        assert_eq!(c.compatibility_date.as_deref(), Some("2024-09-23"));
        assert_eq!(c.kv_bindings, ["ARTICLES", "CACHE"]);
        assert_eq!(c.vars["GREETING"], "hello");
        assert_eq!(c.vars["LIMIT"], "5");
        assert!(c.json_vars.contains("LIMIT") && !c.json_vars.contains("GREETING"));
        assert_eq!(c.routes, ["shop.example.com", "api.example.com"]);
        let crons: Vec<_> = c.crons.iter().map(|c| (c.expr.as_str(), c.line)).collect();
        assert_eq!(crons, [("*/5 * * * *", 21), ("0 0 * * MON", 21)]);
        assert_eq!(
            c.warnings,
            ["proj/wrangler.toml: not emulated by edgesim, ignored: account_id"]
        );
    }

    #[test]
    fn environments_follow_wranglers_inheritance() {
        let c =
            WranglerConfig::parse_env(TOML, Path::new("wrangler.toml"), Some("staging")).unwrap();
        assert_eq!(c.name.as_deref(), Some("course-js-staging"));
        assert_eq!(c.main.as_deref(), Some(Path::new("src/staging.js")));
        // Inherited: compatibility_date, triggers, routes. Not inherited: vars, kv_namespaces.
        assert_eq!(c.compatibility_date.as_deref(), Some("2024-09-23"));
        assert_eq!(c.crons.len(), 2);
        assert_eq!(c.routes.len(), 2);
        assert_eq!(c.vars.len(), 1);
        assert_eq!(c.vars["GREETING"], "staging");
        assert_eq!(c.kv_bindings, ["STAGING_KV"]);
        let p = WranglerConfig::parse_env(TOML, Path::new("wrangler.toml"), Some("production"))
            .unwrap();
        assert_eq!(p.name.as_deref(), Some("prod"));
        assert!(p.vars.is_empty() && p.kv_bindings.is_empty());
        assert_eq!(p.main.as_deref(), Some(Path::new("src/index.js")));
        let e = WranglerConfig::parse_env(TOML, Path::new("wrangler.toml"), Some("qa"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no environment named \"qa\"") && e.contains("production, staging"),
            "{e}"
        );
    }

    #[test]
    fn reads_json_and_jsonc() {
        let json = r#"{
  "name": "j",
  "main": "./index.mjs",
  "vars": {"A": "b", "OBJ": {"x": [1, 2]}, "ON": true},
  "kv_namespaces": [{"binding": "ARTICLES", "id": "x"}],
  "observability": {"enabled": true},
  "triggers": {"crons": ["0 * * * *"]}
}"#;
        let c = WranglerConfig::parse(json, Path::new("wrangler.json")).unwrap();
        assert_eq!(c.main.as_deref(), Some(Path::new("./index.mjs")));
        assert_eq!(c.vars["OBJ"], r#"{"x":[1,2]}"#);
        assert_eq!(c.vars["ON"], "true");
        assert_eq!(
            c.json_vars.iter().map(String::as_str).collect::<Vec<_>>(),
            ["OBJ", "ON"]
        );
        assert_eq!(c.kv_bindings, ["ARTICLES"]);
        assert_eq!(c.crons[0].expr, "0 * * * *");
        assert_eq!(c.crons[0].line, 7);
        assert!(
            c.warnings[0].ends_with("ignored: observability"),
            "{:?}",
            c.warnings
        );
        let jsonc =
            "// comment\n{\n  \"main\": \"a.ts\", /* inline */\n  \"vars\": {\"A\": \"b\",},\n}\n";
        let c = WranglerConfig::parse(jsonc, Path::new("d/wrangler.jsonc")).unwrap();
        assert_eq!(c.main.as_deref(), Some(Path::new("d/a.ts")));
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn a_file_without_main_parses_and_says_so_when_asked() {
        let c = WranglerConfig::parse("name = \"x\"\n", Path::new("wrangler.toml")).unwrap();
        assert!(c.main.is_none());
        let e = c.main_or_err().unwrap_err().to_string();
        assert!(e.contains("no `main`") && e.contains("command line"), "{e}");
    }

    #[test]
    fn tells_a_wrangler_file_by_its_keys() {
        let p = Path::new("conf/staging.toml");
        assert!(looks_like_wrangler(p, "name = \"x\"\nmain = \"a.js\"\n"));
        assert!(looks_like_wrangler(
            p,
            "[[kv_namespaces]]\nbinding = \"A\"\n"
        ));
        assert!(!looks_like_wrangler(
            p,
            "name = \"x\"\n[[colos]]\ncode = \"SYD\"\n"
        ));
        assert!(looks_like_wrangler(Path::new("w.jsonc"), "{}"));
        assert!(looks_like_wrangler(Path::new("wrangler.toml"), ""));
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = WranglerConfig::parse(
            "main = \"a.js\"\n\n[[kv_namespaces]]\nbinding = 3\n",
            Path::new("w/wrangler.toml"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "w/wrangler.toml:4: key `binding`: expected a string, found a number"
        );
        let e = WranglerConfig::parse(
            "main = \"a.js\"\n[[kv_namespaces]]\nid = \"x\"\n",
            Path::new("wrangler.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("wrangler.toml:2: key `kv_namespaces`"), "{e}");
        let e = WranglerConfig::parse("{\n  \"main\": 1\n}", Path::new("wrangler.json"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "wrangler.json:2: key `main`: expected a string, found a number"
        );
        let e = WranglerConfig::parse(
            "{\n  \"main\": \"a.js\",\n  \"vars\": []\n}",
            Path::new("wrangler.json"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "wrangler.json:3: key `vars`: expected a table, found an array"
        );
        let e = WranglerConfig::parse(
            "main = \"a.js\"\n[triggers]\ncrons = [5]\n",
            Path::new("wrangler.toml"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "wrangler.toml:3: key `triggers.crons`: expected a string, found a number"
        );
        let e = WranglerConfig::parse("name = \n", Path::new("wrangler.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("wrangler.toml: line 1, column"), "{e}");
    }

    #[test]
    fn dev_vars_override_vars_and_bad_lines_are_said() {
        let dir = std::env::temp_dir().join(format!("edgesim-wrangler-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("wrangler.toml"),
            "main = \"i.js\"\n[vars]\nA = \"from toml\"\nB = \"b\"\nN = 3\n",
        )
        .unwrap();
        std::fs::write(
            dir.join(".dev.vars"),
            "A=\"from dev vars\"\nN=4\nnonsense\n",
        )
        .unwrap();
        assert_eq!(find_in(&dir), Some(dir.join("wrangler.toml")));
        let c = WranglerConfig::load(&dir.join("wrangler.toml")).unwrap();
        assert_eq!(c.vars["A"], "from dev vars");
        assert_eq!(c.vars["B"], "b");
        // A secret from .dev.vars is a string, whatever the file said.
        assert_eq!(c.vars["N"], "4");
        assert!(c.json_vars.is_empty());
        assert!(
            c.warnings[0].contains(".dev.vars: line 3"),
            "{:?}",
            c.warnings
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
