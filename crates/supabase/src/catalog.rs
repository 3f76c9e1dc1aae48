//! What the mock emulates itself rather than storing in SQLite's schema: the objects loading a
//! project registered (each feature adds its own field, e.g. enum types, policies, functions),
//! and the objects that were skipped (so later statements depending on them can say so).
//!
//! It lives on [`crate::db::Db`] so that migrations, `Supabase::execute` and request handling
//! all see the same objects. It is rebuilt on every load: migrations already applied to a
//! persistent database are replayed through their handlers in `Mode::Replay`.

use crate::migrate::lex::Tok;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// The platform schemas whose tables the mock creates itself (`auth.users`, `storage.objects`...).
pub const PLATFORM_SCHEMAS: &[&str] = &["auth", "storage"];

/// Emulated objects of the loaded project.
#[derive(Clone, Debug)]
pub struct Catalog {
    /// Skipped objects ("table `posts`", "function `search`") -> "file:line" where skipped.
    pub skipped: BTreeMap<String, String>,
    /// Schemas other than `public` whose tables are kept in SQLite under the qualified name
    /// (a table literally called `auth.users`), not exposed over REST: the platform schemas
    /// and those the project creates.
    pub schemas: BTreeSet<String>,
    /// Enum types.
    pub enums: Enums,
    /// Composite types (columns of them are stored as jsonb).
    pub composites: BTreeSet<String>,
    /// Domains.
    pub domains: BTreeMap<String, Domain>,
    /// Tables' columns as the typed translator reads them, cached per schema version.
    pub columns: ColumnCache,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog {
            skipped: BTreeMap::new(),
            schemas: PLATFORM_SCHEMAS.iter().map(|s| s.to_string()).collect(),
            enums: Enums::default(),
            composites: BTreeSet::new(),
            domains: BTreeMap::new(),
            columns: ColumnCache::default(),
        }
    }
}

/// One table's columns as SQLite declares them: (name, declared type), and (column, enum type)
/// for the columns whose `pg_enum_check` check names an enum type.
#[derive(Clone, Debug, Default)]
pub struct TableColumns {
    /// (name, declared type), in order.
    pub decls: Vec<(String, String)>,
    /// (column, enum type name) read from the table's checks.
    pub enum_checks: Vec<(String, String)>,
}

/// The columns of each table, read once per schema version instead of on every policy of every
/// request. The version is SQLite's `PRAGMA schema_version` (every DDL statement changes it)
/// with [`schema_generation`], which every re-read of the schema bumps: a rolled-back DDL
/// statement takes SQLite's number back to a value it had before, and the re-read that follows
/// the rollback keeps a later, different schema from reusing it.
#[derive(Clone, Debug, Default)]
pub struct ColumnCache(Arc<Mutex<CachedColumns>>);

/// The schema version the cache is for, and each table's columns (`None`: no such table).
type CachedColumns = (
    Option<(i64, u64)>,
    BTreeMap<String, Option<Arc<TableColumns>>>,
);

static SCHEMA_GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Marks that a database's schema was re-read (after DDL or a rollback): cached columns are
/// read again. Shared by every database of the process (another's re-read only costs a read).
pub fn schema_changed() {
    SCHEMA_GENERATION.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// How many times a schema was re-read (see [`schema_changed`]).
pub fn schema_generation() -> u64 {
    SCHEMA_GENERATION.load(std::sync::atomic::Ordering::SeqCst)
}

impl ColumnCache {
    /// The columns of `table` at schema version `version` (SQLite's number and
    /// [`schema_generation`]), read with `read` when not cached.
    pub fn get(
        &self,
        version: (i64, u64),
        table: &str,
        read: impl FnOnce() -> Option<TableColumns>,
    ) -> Option<Arc<TableColumns>> {
        {
            let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if g.0 != Some(version) {
                *g = (Some(version), BTreeMap::new());
            }
            if let Some(hit) = g.1.get(table) {
                return hit.clone();
            }
        }
        let cols = read().map(Arc::new);
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if g.0 == Some(version) {
            g.1.insert(table.to_string(), cols.clone());
        }
        cols
    }

    /// Forgets every table.
    pub fn invalidate(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = (None, BTreeMap::new());
    }

    /// How many tables are cached (for tests).
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).1.len()
    }

    /// Whether no table is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Enum types and their values, shared with the `pg_enum_check` SQL function (so that
/// `alter type ... add value` applies to columns created before it).
#[derive(Clone, Debug, Default)]
pub struct Enums(Arc<Mutex<BTreeMap<String, Vec<String>>>>);

impl Enums {
    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<String>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Defines (or redefines) enum `name`.
    pub fn define(&self, name: &str, values: Vec<String>) {
        self.map().insert(name.to_string(), values);
    }

    /// Whether the project has no enum type.
    pub fn is_empty(&self) -> bool {
        self.map().is_empty()
    }

    /// Whether `name` is an enum type.
    pub fn contains(&self, name: &str) -> bool {
        self.map().contains_key(name)
    }

    /// The values of `name`, in order.
    pub fn values(&self, name: &str) -> Option<Vec<String>> {
        self.map().get(name).cloned()
    }

    /// Adds `value` (before or after `(other, after)`, else last); no-op if present.
    pub fn add_value(&self, name: &str, value: String, pos: Option<(String, bool)>) {
        let mut m = self.map();
        let Some(vs) = m.get_mut(name) else { return };
        if vs.contains(&value) {
            return;
        }
        let at = pos
            .and_then(|(o, after)| {
                vs.iter()
                    .position(|v| *v == o)
                    .map(|p| p + usize::from(after))
            })
            .unwrap_or(vs.len());
        vs.insert(at, value);
    }

    /// Renames value `from` of `name` to `to`.
    pub fn rename_value(&self, name: &str, from: &str, to: &str) {
        if let Some(vs) = self.map().get_mut(name) {
            for v in vs.iter_mut().filter(|v| *v == from) {
                *v = to.to_string();
            }
        }
    }

    /// Registers `pg_enum_check(type, value)` on `conn`: true, or Postgres's 22P02
    /// `invalid input value for enum mood: "x"` (NULL passes).
    /// Also registers the typed translator's string functions
    /// ([`crate::pgexpr::register_functions`]), which every connection with a catalog needs.
    pub fn register(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        use rusqlite::functions::FunctionFlags;
        self.register_ord(conn)?;
        self.register_label(conn)?;
        crate::pgexpr::register_functions(conn)?;
        let me = self.clone();
        conn.create_scalar_function(
            "pg_enum_check",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            move |ctx| {
                let ty: String = ctx.get(0)?;
                let v: Option<String> = ctx.get(1)?;
                match v {
                    Some(v) if !me.accepts(&ty, &v) => Err(rusqlite::Error::UserFunctionError(
                        format!(
                            "{}22P02|invalid input value for enum {ty}: \"{v}\"",
                            crate::functions::PGERR
                        )
                        .into(),
                    )),
                    _ => Ok(true),
                }
            },
        )
    }

    /// Registers `pg_enum_ord(type, value)` on `conn`: the label's position in the enum (how
    /// Postgres orders enum values), or 22P02 for a label the enum lacks (NULL stays NULL).
    pub fn register_ord(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        use rusqlite::functions::FunctionFlags;
        let me = self.clone();
        conn.create_scalar_function(
            "pg_enum_ord",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            move |ctx| {
                let ty: String = ctx.get(0)?;
                let v: Option<String> = ctx.get(1)?;
                let Some(v) = v else { return Ok(None) };
                let pos = me
                    .map()
                    .get(&ty)
                    .and_then(|vs| vs.iter().position(|x| *x == v));
                match pos {
                    Some(p) => Ok(Some(p as i64)),
                    None => Err(rusqlite::Error::UserFunctionError(
                        format!(
                            "{}22P02|invalid input value for enum {ty}: \"{v}\"",
                            crate::functions::PGERR
                        )
                        .into(),
                    )),
                }
            },
        )
    }

    /// Registers `pg_enum_label(type, position)` on `conn`: the label at that position (the
    /// inverse of `pg_enum_ord`, for `greatest`/`least`/`min`/`max` of enum values).
    pub fn register_label(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        use rusqlite::functions::FunctionFlags;
        let me = self.clone();
        conn.create_scalar_function(
            "pg_enum_label",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            move |ctx| {
                let ty: String = ctx.get(0)?;
                let pos: Option<i64> = ctx.get(1)?;
                Ok(pos.and_then(|p| {
                    let m = me.map();
                    let vs = m.get(&ty)?;
                    usize::try_from(p).ok().and_then(|p| vs.get(p).cloned())
                }))
            },
        )
    }

    /// Whether `v` is a label of some enum type of the project.
    pub fn is_label(&self, v: &str) -> bool {
        self.map().values().any(|vs| vs.iter().any(|x| x == v))
    }

    /// Whether `value` is valid for `name` (unknown types accept everything).
    pub fn accepts(&self, name: &str, value: &str) -> bool {
        self.map()
            .get(name)
            .is_none_or(|vs| vs.iter().any(|v| v == value))
    }
}

/// A domain: its base type, `not null`, default and checks (SQLite expressions over `value`).
#[derive(Clone, Debug)]
pub struct Domain {
    /// The base type's tokens (`text`, `numeric(10,2)`).
    pub base: Vec<Tok>,
    /// `not null`.
    pub notnull: bool,
    /// `default` expression tokens.
    pub default: Option<Vec<Tok>>,
    /// `(constraint name, expression)` with `value` standing for the column.
    pub checks: Vec<(String, Vec<Tok>)>,
}
