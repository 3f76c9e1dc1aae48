//! `supabase/config.toml`, the Supabase CLI's project configuration, as far as the mock is
//! concerned.
//!
//! Honoured (they change what the mock does):
//! * `project_id`: the project's name (start banner, [`crate::Supabase::summary`]);
//! * `[api] enabled` (`false`: `/rest/v1/...` answers the gateway's 404), `port` (the default
//!   port of the mock), `max_rows` (PostgREST's cap on the rows of one response, embedded
//!   resources included), `schemas` (each schema other than `public`/`graphql_public` gets a
//!   warning naming file and line: the mock does not expose it);
//! * `[auth] jwt_expiry` (seconds), `enable_signup`, `enable_anonymous_sign_ins` and
//!   `minimum_password_length` (the Auth API, `crate::auth`);
//! * `[db.seed] enabled` and `sql_paths` (globs relative to `supabase/`, applied in order),
//!   `[db.migrations] enabled`.
//!
//! Every other key is listed once in a warning ("not emulated by edgesim, ignored: ..."),
//! grouped by top-level table; a table with `enabled = false`, an empty table and an empty
//! array configure nothing and are not listed. A TOML syntax error, or an honoured key of the
//! wrong type, is an error naming file, line and column. `env(NAME)` values are not expanded.

use crate::errors::ProjectError;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// `[api] port` when not set: the CLI's default API port.
pub const DEFAULT_API_PORT: u16 = 54321;
/// `[api] max_rows` when not set.
pub const DEFAULT_MAX_ROWS: u64 = 1000;
/// `[auth] jwt_expiry` when not set (seconds).
pub const DEFAULT_JWT_EXPIRY_S: u64 = 3600;
/// `[db.seed] sql_paths` when not set.
pub const DEFAULT_SEED_PATHS: &[&str] = &["./seed.sql"];
/// The schemas the mock exposes over `/rest/v1`.
pub const EXPOSED_SCHEMAS: &[&str] = &["public", "graphql_public"];

/// The settings of `supabase/config.toml` the mock honours (CLI defaults when absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliConfig {
    /// The file they were read from (`None`: no `config.toml`, all defaults).
    pub file: Option<PathBuf>,
    /// `project_id`.
    pub project_id: Option<String>,
    /// `[api]`.
    pub api: ApiConfig,
    /// `[auth]`.
    pub auth: AuthConfig,
    /// `[db]`.
    pub db: DbConfig,
}

/// `[api]`: PostgREST behind the gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiConfig {
    /// `enabled` (default `true`).
    pub enabled: bool,
    /// `port` (default 54321).
    pub port: u16,
    /// `schemas` (default `["public", "graphql_public"]`).
    pub schemas: Vec<String>,
    /// `max_rows` (default 1000).
    pub max_rows: u64,
}

/// `[auth]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthConfig {
    /// `jwt_expiry`, seconds (default 3600).
    pub jwt_expiry: u64,
}

/// `[db]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbConfig {
    /// `[db.migrations] enabled` (default `true`).
    pub migrations_enabled: bool,
    /// `[db.seed]`.
    pub seed: SeedConfig,
}

/// `[db.seed]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedConfig {
    /// `enabled` (default `true`).
    pub enabled: bool,
    /// `sql_paths`: globs relative to `supabase/` (default `["./seed.sql"]`).
    pub sql_paths: Vec<String>,
    /// The line of `sql_paths` in the file, when set there (for messages).
    pub line: Option<usize>,
}

impl Default for CliConfig {
    fn default() -> Self {
        CliConfig {
            file: None,
            project_id: None,
            api: ApiConfig {
                enabled: true,
                port: DEFAULT_API_PORT,
                schemas: EXPOSED_SCHEMAS.iter().map(|s| s.to_string()).collect(),
                max_rows: DEFAULT_MAX_ROWS,
            },
            auth: AuthConfig {
                jwt_expiry: DEFAULT_JWT_EXPIRY_S,
            },
            db: DbConfig {
                migrations_enabled: true,
                seed: SeedConfig {
                    enabled: true,
                    sql_paths: DEFAULT_SEED_PATHS.iter().map(|s| s.to_string()).collect(),
                    line: None,
                },
            },
        }
    }
}

/// The 1-based line and column of byte offset `at` in `text`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

type KeyName<'i> = Spanned<Cow<'i, str>>;
type Val<'i> = Spanned<DeValue<'i>>;

/// A table's entries in file order.
fn entries<'a, 'i>(t: &'a DeTable<'i>) -> Vec<(&'a KeyName<'i>, &'a Val<'i>)> {
    let mut v: Vec<_> = t.iter().collect();
    v.sort_by_key(|(k, _)| k.span().start);
    v
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Configures nothing: a table with `enabled = false`, an empty array, a table of such
/// (`[auth.external.apple] enabled = false` alone).
fn inert(v: &DeValue<'_>) -> bool {
    match v {
        DeValue::Table(t) => {
            t.iter()
                .any(|(k, v)| k.get_ref() == "enabled" && v.get_ref().as_bool() == Some(false))
                || t.values()
                    .all(|v| matches!(v.get_ref(), DeValue::Table(_)) && inert(v.get_ref()))
        }
        DeValue::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// What a table walker did with one key.
enum Key {
    /// Honoured by the mock.
    Honoured,
    /// Not emulated (listed in the warning unless it configures nothing).
    Ignored,
    /// A sub-table whose keys were recorded one by one.
    Walked,
}

/// The keys one top-level table contributed.
struct Group {
    top: String,
    /// Whether the mock honours some keys of this table (`api`, `auth`, `db`).
    known: bool,
    /// Honoured keys present, relative to `top`.
    honoured: Vec<String>,
    /// Ignored keys, full dotted paths.
    ignored: Vec<String>,
}

impl Group {
    fn render(&self) -> Option<String> {
        if self.ignored.is_empty() {
            return None;
        }
        Some(if !self.known {
            self.top.clone()
        } else if self.ignored.len() <= 4 {
            self.ignored.join(", ")
        } else if self.honoured.is_empty() {
            self.top.clone()
        } else {
            format!("{} (all but {})", self.top, self.honoured.join(", "))
        })
    }
}

struct Walk<'a> {
    text: &'a str,
    file: &'a Path,
    warnings: Vec<String>,
    groups: Vec<Group>,
}

impl Walk<'_> {
    fn err_at(&self, at: usize, message: String) -> ProjectError {
        let (line, column) = line_col(self.text, at);
        ProjectError::Config {
            file: self.file.to_path_buf(),
            line,
            column,
            message,
        }
    }

    fn expected(&self, path: &str, v: &Val<'_>, what: &str) -> ProjectError {
        self.err_at(
            v.span().start,
            format!("{path}: expected {what}, found {}", type_name(v.get_ref())),
        )
    }

    fn bool(&self, path: &str, v: &Val<'_>) -> Result<bool, ProjectError> {
        v.get_ref()
            .as_bool()
            .ok_or_else(|| self.expected(path, v, "a boolean"))
    }

    fn uint(&self, path: &str, v: &Val<'_>, min: u64, max: u64) -> Result<u64, ProjectError> {
        let DeValue::Integer(i) = v.get_ref() else {
            return Err(self.expected(path, v, "an integer"));
        };
        match i128::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) if n >= min as i128 && n <= max as i128 => Ok(n as u64),
            _ => Err(self.err_at(
                v.span().start,
                format!("{path}: {i} is out of range ({min} to {max})"),
            )),
        }
    }

    fn string(&self, path: &str, v: &Val<'_>) -> Result<String, ProjectError> {
        v.get_ref()
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| self.expected(path, v, "a string"))
    }

    /// An array of strings, each with its byte offset.
    fn strings(&self, path: &str, v: &Val<'_>) -> Result<Vec<(String, usize)>, ProjectError> {
        let DeValue::Array(a) = v.get_ref() else {
            return Err(self.expected(path, v, "an array of strings"));
        };
        a.iter()
            .map(|e| Ok((self.string(path, e)?, e.span().start)))
            .collect()
    }

    /// Walks the table `v` at `path` of group `g`: `on` says what it did with each key; every
    /// ignored key that configures something is recorded.
    fn table<'i>(
        &mut self,
        g: usize,
        path: &str,
        v: &Val<'i>,
        on: &mut dyn FnMut(&mut Self, &str, &Val<'i>) -> Result<Key, ProjectError>,
    ) -> Result<(), ProjectError> {
        let DeValue::Table(t) = v.get_ref() else {
            return Err(self.expected(path, v, "a table"));
        };
        for (k, val) in entries(t) {
            let key = k.get_ref().as_ref();
            let full = format!("{path}.{key}");
            match on(self, key, val)? {
                Key::Honoured => {
                    let top = &self.groups[g].top;
                    let rel = full
                        .strip_prefix(&format!("{top}."))
                        .unwrap_or(&full)
                        .to_string();
                    self.groups[g].honoured.push(rel);
                }
                Key::Ignored if !inert(val.get_ref()) => self.groups[g].ignored.push(full),
                Key::Ignored | Key::Walked => {}
            }
        }
        Ok(())
    }

    fn group(&mut self, top: &str, known: bool) -> usize {
        self.groups.push(Group {
            top: top.to_string(),
            known,
            honoured: Vec::new(),
            ignored: Vec::new(),
        });
        self.groups.len() - 1
    }
}

impl CliConfig {
    /// Reads `path` (a `supabase/config.toml`): the settings and the warnings loading it
    /// produced.
    pub fn load(path: &Path) -> Result<(CliConfig, Vec<String>), ProjectError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProjectError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses the text of `file` (named in messages).
    pub fn parse(text: &str, file: &Path) -> Result<(CliConfig, Vec<String>), ProjectError> {
        let mut w = Walk {
            text,
            file,
            warnings: Vec::new(),
            groups: Vec::new(),
        };
        let doc = DeTable::parse(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start);
            w.err_at(at, e.message().trim().to_string())
        })?;
        let mut c = CliConfig {
            file: Some(file.to_path_buf()),
            ..CliConfig::default()
        };
        for (k, v) in entries(doc.get_ref()) {
            let top = k.get_ref().as_ref();
            match top {
                "project_id" => c.project_id = Some(w.string(top, v)?),
                "api" => {
                    let g = w.group(top, true);
                    w.table(g, top, v, &mut |w, key, v| {
                        let path = format!("api.{key}");
                        match key {
                            "enabled" => c.api.enabled = w.bool(&path, v)?,
                            "port" => c.api.port = w.uint(&path, v, 0, u16::MAX as u64)? as u16,
                            "max_rows" => {
                                c.api.max_rows = w.uint(&path, v, 1, i64::MAX as u64)?;
                            }
                            "schemas" => {
                                let list = w.strings(&path, v)?;
                                for (s, at) in &list {
                                    if !EXPOSED_SCHEMAS.contains(&s.as_str()) {
                                        let (line, _) = line_col(w.text, *at);
                                        w.warnings.push(format!(
                                            "{}:{line}: api.schemas: schema `{s}` is not exposed by edgesim (only public and graphql_public are); requests for it answer PGRST106",
                                            w.file.display()
                                        ));
                                    }
                                }
                                c.api.schemas = list.into_iter().map(|(s, _)| s).collect();
                            }
                            _ => return Ok(Key::Ignored),
                        }
                        Ok(Key::Honoured)
                    })?;
                }
                "auth" => {
                    let g = w.group(top, true);
                    w.table(g, top, v, &mut |w, key, v| match key {
                        "jwt_expiry" => {
                            c.auth.jwt_expiry = w.uint("auth.jwt_expiry", v, 1, i64::MAX as u64)?;
                            Ok(Key::Honoured)
                        }
                        // Read by the Auth API itself (`crate::auth::AuthSettings`).
                        "enable_signup"
                        | "enable_anonymous_sign_ins"
                        | "minimum_password_length" => Ok(Key::Honoured),
                        _ => Ok(Key::Ignored),
                    })?;
                }
                "db" => {
                    let g = w.group(top, true);
                    w.table(g, top, v, &mut |w, key, v| match key {
                        "seed" => {
                            w.table(g, "db.seed", v, &mut |w, key, v| {
                                let path = format!("db.seed.{key}");
                                match key {
                                    "enabled" => c.db.seed.enabled = w.bool(&path, v)?,
                                    "sql_paths" => {
                                        let list = w.strings(&path, v)?;
                                        c.db.seed.sql_paths =
                                            list.into_iter().map(|(s, _)| s).collect();
                                        c.db.seed.line = Some(line_col(w.text, v.span().start).0);
                                    }
                                    _ => return Ok(Key::Ignored),
                                }
                                Ok(Key::Honoured)
                            })?;
                            Ok(Key::Walked)
                        }
                        "migrations" => {
                            w.table(g, "db.migrations", v, &mut |w, key, v| match key {
                                "enabled" => {
                                    c.db.migrations_enabled = w.bool("db.migrations.enabled", v)?;
                                    Ok(Key::Honoured)
                                }
                                _ => Ok(Key::Ignored),
                            })?;
                            Ok(Key::Walked)
                        }
                        _ => Ok(Key::Ignored),
                    })?;
                }
                _ => {
                    if !inert(v.get_ref()) {
                        let g = w.group(top, false);
                        w.groups[g].ignored.push(top.to_string());
                    }
                }
            }
        }
        let list: Vec<String> = w.groups.iter().filter_map(Group::render).collect();
        if !list.is_empty() {
            w.warnings.push(format!(
                "{}: not emulated by edgesim, ignored: {}",
                file.display(),
                list.join(", ")
            ));
        }
        Ok((c, w.warnings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warnings(text: &str) -> Vec<String> {
        CliConfig::parse(text, Path::new("c.toml")).unwrap().1
    }

    #[test]
    fn line_col_is_one_based() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 99), (1, 3));
    }

    #[test]
    fn ignored_keys_are_grouped_by_top_level_table() {
        assert_eq!(
            warnings(
                "typo = 1\n[auth]\nsite_url = \"x\"\njwt_expiry = 60\n[edge_runtime]\npolicy = \"oneshot\"\n"
            ),
            ["c.toml: not emulated by edgesim, ignored: typo, auth.site_url, edge_runtime"]
        );
        // Every key of a known table ignored, many of them: the table's name.
        assert_eq!(
            warnings("[auth]\na = 1\nb = 1\nc = 1\nd = 1\ne = 1\n"),
            ["c.toml: not emulated by edgesim, ignored: auth"]
        );
        // Disabled features and empty lists configure nothing.
        assert!(
            warnings(
                "[analytics]\nenabled = false\nport = 1\n[auth.external.github]\nenabled = false\n[db.migrations]\nschema_paths = []\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn honoured_keys_read_into_settings() {
        let (c, w) = CliConfig::parse(
            "project_id = \"p\"\n[api]\nport = 0x10\nschemas = [\"graphql_public\"]\n[db.seed]\nsql_paths = [\"a.sql\", \"b/*.sql\"]\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.project_id.as_deref(), Some("p"));
        assert_eq!(c.api.port, 16);
        assert_eq!(c.api.schemas, ["graphql_public"]);
        assert_eq!(c.db.seed.sql_paths, ["a.sql", "b/*.sql"]);
        assert_eq!(c.db.seed.line, Some(6));
        let err = CliConfig::parse("[auth]\njwt_expiry = -5\n", Path::new("c.toml")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "c.toml:2:14: auth.jwt_expiry: -5 is out of range (1 to {})",
                i64::MAX
            )
        );
        let err = CliConfig::parse("api = 3\n", Path::new("c.toml")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.toml:1:7: api: expected a table, found an integer"
        );
    }
}
