//! wrangler configuration (`wrangler.toml`, `wrangler.json`, `wrangler.jsonc`) and the
//! `.dev.vars` beside it: what edgesim emulates of it, and a warning listing the rest.
//!
//! Read: `name`, `main` (the JS or TS entry, relative to the file), `compatibility_date`,
//! `vars` (strings; other JSON values reach the Worker as their JSON text, as wrangler passes
//! them to the Worker as JSON), `kv_namespaces` (each `binding`; `id` and `preview_id` are
//! ignored, as `wrangler dev` keeps local namespaces). Every other key is listed once in a
//! warning and otherwise ignored; never fatal, since real wrangler files carry many.

use crate::dotvars;
use crate::tree::{self, Entry, Node, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The wrangler file names, in the order wrangler looks for them.
pub const WRANGLER_FILES: [&str; 3] = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"];

/// What edgesim takes from a wrangler file (and its `.dev.vars`).
#[derive(Clone, Debug, PartialEq)]
pub struct WranglerConfig {
    /// The file read.
    pub path: PathBuf,
    /// `name`.
    pub name: Option<String>,
    /// `main`, joined to the file's directory.
    pub main: PathBuf,
    /// `compatibility_date`.
    pub compatibility_date: Option<String>,
    /// `vars`, then `.dev.vars` over them (as `wrangler dev` merges them).
    pub vars: BTreeMap<String, String>,
    /// The KV binding names, in file order.
    pub kv_bindings: Vec<String>,
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

impl WranglerConfig {
    /// Reads `path` and the `.dev.vars` beside it.
    pub fn load(path: &Path) -> Result<WranglerConfig, WranglerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| WranglerError(format!("{}: {e}", path.display())))?;
        let mut cfg = Self::parse(&text, path)?;
        let dev_vars = path.parent().unwrap_or(Path::new(".")).join(".dev.vars");
        if dev_vars.is_file() {
            let text = std::fs::read_to_string(&dev_vars)
                .map_err(|e| WranglerError(format!("{}: {e}", dev_vars.display())))?;
            let parsed = dotvars::parse(&text);
            for skipped in &parsed.skipped {
                cfg.warnings
                    .push(format!("{}: {skipped}; ignored", dev_vars.display()));
            }
            cfg.vars.extend(parsed.vars);
            cfg.dev_vars = Some(dev_vars);
        }
        Ok(cfg)
    }

    /// Parses `text`, read from `path` (its extension picks TOML, JSON or JSONC; `main` is
    /// resolved against its directory). `.dev.vars` is not read.
    pub fn parse(text: &str, path: &Path) -> Result<WranglerConfig, WranglerError> {
        let file = path.display().to_string();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("toml");
        let doc = match ext {
            "json" => tree::parse_json(text, false),
            "jsonc" => tree::parse_json(text, true),
            _ => tree::parse_toml(text),
        }
        .map_err(|e| WranglerError(format!("{file}: {e}")))?;
        let Value::Table(entries) = doc.value else {
            return Err(WranglerError(format!(
                "{file}:{}: expected a table of settings, found {}",
                doc.line,
                doc.value.kind()
            )));
        };
        let err = |line: usize, key: &str, msg: String| {
            WranglerError(format!("{file}:{line}: key `{key}`: {msg}"))
        };
        let mut cfg = WranglerConfig {
            path: path.to_path_buf(),
            name: None,
            main: PathBuf::new(),
            compatibility_date: None,
            vars: BTreeMap::new(),
            kv_bindings: Vec::new(),
            dev_vars: None,
            warnings: Vec::new(),
        };
        let mut main = None;
        let mut ignored: Vec<String> = Vec::new();
        let mut non_string_vars = Vec::new();
        for Entry { key, line, node } in entries {
            match key.as_str() {
                "name" => cfg.name = Some(string(&node, &key, line, &err)?),
                "main" => main = Some((string(&node, &key, line, &err)?, line)),
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
                                non_string_vars.push(v.key.clone());
                                other.to_json()
                            }
                        };
                        cfg.vars.insert(v.key, text);
                    }
                }
                "kv_namespaces" => {
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
                                    let b = string(&f.node, "binding", f.line, &err)?;
                                    if b.is_empty() {
                                        return Err(err(
                                            f.line,
                                            "binding",
                                            "must not be empty".into(),
                                        ));
                                    }
                                    if cfg.kv_bindings.contains(&b) {
                                        return Err(err(
                                            f.line,
                                            "binding",
                                            format!("{b:?} is bound twice"),
                                        ));
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
                }
                other => {
                    if !ignored.iter().any(|k| k == other) {
                        ignored.push(other.to_string());
                    }
                }
            }
        }
        let Some((main, _)) = main else {
            return Err(WranglerError(format!(
                "{file}: no `main`: name the Worker's entry module (for example main = \"src/index.js\")"
            )));
        };
        cfg.main = path.parent().unwrap_or(Path::new(".")).join(main);
        if !ignored.is_empty() {
            ignored.sort();
            cfg.warnings.push(format!(
                "{file}: not emulated by edgesim, ignored: {}",
                ignored.join(", ")
            ));
        }
        if !non_string_vars.is_empty() {
            cfg.warnings.push(format!(
                "{file}: vars {} are not strings; the Worker gets their JSON text",
                non_string_vars.join(", ")
            ));
        }
        Ok(cfg)
    }
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

[vars]
GREETING = "hello"
LIMIT = 5

[[kv_namespaces]]
binding = "ARTICLES"
id = "0123"
preview_id = "4567"

[[kv_namespaces]]
binding = "CACHE"

[env.production]
name = "x"
"#;

    #[test]
    fn reads_toml() {
        let c = WranglerConfig::parse(TOML, Path::new("proj/wrangler.toml")).unwrap();
        assert_eq!(c.name.as_deref(), Some("course-js"));
        assert_eq!(c.main, Path::new("proj/src/index.js"));
        assert_eq!(c.compatibility_date.as_deref(), Some("2024-09-23"));
        assert_eq!(c.kv_bindings, ["ARTICLES", "CACHE"]);
        assert_eq!(c.vars["GREETING"], "hello");
        assert_eq!(c.vars["LIMIT"], "5");
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert_eq!(
            c.warnings[0],
            "proj/wrangler.toml: not emulated by edgesim, ignored: account_id, env, workers_dev"
        );
        assert!(c.warnings[1].contains("LIMIT"), "{:?}", c.warnings);
    }

    #[test]
    fn reads_json_and_jsonc() {
        let json = r#"{
  "name": "j",
  "main": "./index.mjs",
  "vars": {"A": "b", "OBJ": {"x": [1, 2]}},
  "kv_namespaces": [{"binding": "ARTICLES", "id": "x"}],
  "observability": {"enabled": true}
}"#;
        let c = WranglerConfig::parse(json, Path::new("wrangler.json")).unwrap();
        assert_eq!(c.main, Path::new("./index.mjs"));
        assert_eq!(c.vars["OBJ"], r#"{"x":[1,2]}"#);
        assert_eq!(c.kv_bindings, ["ARTICLES"]);
        assert!(
            c.warnings[0].ends_with("ignored: observability"),
            "{:?}",
            c.warnings
        );
        let jsonc =
            "// comment\n{\n  \"main\": \"a.ts\", /* inline */\n  \"vars\": {\"A\": \"b\",},\n}\n";
        let c = WranglerConfig::parse(jsonc, Path::new("d/wrangler.jsonc")).unwrap();
        assert_eq!(c.main, Path::new("d/a.ts"));
        assert!(c.warnings.is_empty());
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
        let e = WranglerConfig::parse("name = \"x\"\n", Path::new("wrangler.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no `main`"), "{e}");
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
            "main = \"i.js\"\n[vars]\nA = \"from toml\"\nB = \"b\"\n",
        )
        .unwrap();
        std::fs::write(dir.join(".dev.vars"), "A=\"from dev vars\"\nnonsense\n").unwrap();
        assert_eq!(find_in(&dir), Some(dir.join("wrangler.toml")));
        let c = WranglerConfig::load(&dir.join("wrangler.toml")).unwrap();
        assert_eq!(c.vars["A"], "from dev vars");
        assert_eq!(c.vars["B"], "b");
        assert!(
            c.warnings[0].contains(".dev.vars: line 2"),
            "{:?}",
            c.warnings
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
