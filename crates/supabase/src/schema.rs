//! The schema cache: tables and columns read from SQLite, with Postgres kinds.

use crate::errors::ApiError;
use crate::types::Kind;
use rusqlite::Connection;
use std::collections::BTreeMap;

/// A column of an exposed table.
#[derive(Clone, Debug)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Postgres type family.
    pub kind: Kind,
    /// `NOT NULL`.
    pub notnull: bool,
    /// Part of the primary key.
    pub pk: bool,
    /// The enum type of a column of one (stored as text with `CHECK (pg_enum_check('t',
    /// "col"))`): `order=` and comparison filters use the label position, as Postgres does.
    pub enum_type: Option<EnumType>,
}

/// A column's enum type: its name, and the project's enum labels (shared with the catalog, so
/// `alter type ... add value` is seen at once).
#[derive(Clone, Debug)]
pub struct EnumType {
    /// The type's name.
    pub name: String,
    /// The project's enum types.
    pub enums: crate::catalog::Enums,
}

impl EnumType {
    /// `Ok` when `v` is a label of the type, else Postgres's 22P02 `invalid input value for
    /// enum lvl: "x"` (HTTP 400, as PostgREST answers it).
    pub fn check(&self, v: &str) -> Result<(), ApiError> {
        if self.enums.accepts(&self.name, v) {
            Ok(())
        } else {
            Err(ApiError::new(
                400,
                "22P02",
                format!("invalid input value for enum {}: \"{v}\"", self.name),
            ))
        }
    }
}

/// A foreign key `table(cols) references parent(cols)`.
#[derive(Clone, Debug)]
pub struct ForeignKey {
    /// The constraint name: as declared (`constraint x foreign key ...`), else the name Postgres
    /// would choose (`<table>_<col>[_<col>...]_fkey`).
    pub name: String,
    /// Referenced table.
    pub parent: String,
    /// First local column.
    pub from: String,
    /// First referenced column.
    pub to: String,
    /// Every (local, referenced) column pair, in key order.
    pub cols: Vec<(String, String)>,
}

/// An exposed table of the `public` schema.
#[derive(Clone, Debug)]
pub struct Table {
    /// Table name.
    pub name: String,
    /// Columns in declaration order.
    pub columns: Vec<Column>,
    /// Foreign keys.
    pub fks: Vec<ForeignKey>,
    /// Keys PostgREST infers through views (`crate::viewkeys`): a view's keys from its base
    /// tables, and a table's keys to views selecting the columns it references. Relationships
    /// only; constraint errors name the real keys.
    pub derived_fks: Vec<ForeignKey>,
    /// The column sets of the primary key and of each unique constraint (sorted).
    pub uniques: Vec<Vec<String>>,
}

impl Table {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The primary-key columns.
    pub fn pk(&self) -> Vec<&Column> {
        self.columns.iter().filter(|c| c.pk).collect()
    }

    /// PGRST204 for an unknown payload or `columns` key.
    pub fn unknown_column(&self, col: &str) -> ApiError {
        ApiError::new(
            400,
            "PGRST204",
            format!(
                "Could not find the '{col}' column of '{}' in the schema cache",
                self.name
            ),
        )
    }

    /// Postgres 42703 for an unknown column in select/filter/order.
    pub fn undefined_column(&self, col: &str) -> ApiError {
        ApiError::new(
            400,
            "42703",
            format!("column {}.{col} does not exist", self.name),
        )
    }
}

/// All exposed tables.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
    /// Tables of other schemas (`auth.users`, `storage.objects`, a project's `private.x`),
    /// by qualified name: in SQLite, not exposed over REST.
    pub hidden: BTreeMap<String, Table>,
    /// Which of `tables` are views (readable, not writable; no webhooks).
    pub views: std::collections::BTreeSet<String>,
}

/// The (column, enum type) pairs of `table`: the `pg_enum_check('type', "col")` checks the
/// migration translator writes for columns of an enum type.
fn enum_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<(String, String)>> {
    static CHECK: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let sql: Option<String> = conn
        .prepare_cached("SELECT sql FROM sqlite_master WHERE name = ?1 AND type = 'table'")?
        .query_row([table], |r| r.get(0))
        .ok();
    let re = CHECK.get_or_init(|| {
        regex::Regex::new(r#"pg_enum_check"?\s*\(\s*'((?:[^']|'')+)'\s*,\s*"((?:[^"]|"")+)"\s*\)"#)
            .ok()
    });
    Ok(match (sql, re) {
        (Some(sql), Some(re)) if sql.contains("pg_enum_check") => re
            .captures_iter(&sql)
            .map(|c| (c[2].replace("\"\"", "\""), c[1].replace("''", "'")))
            .collect(),
        _ => Vec::new(),
    })
}

/// The (column, enum type) pairs of view `view`, as its migration recorded them
/// (`pgexpr::view_types_sql`: every declared type but `boolean` is an enum's name).
fn view_enum_columns(conn: &Connection, view: &str) -> rusqlite::Result<Vec<(String, String)>> {
    conn.prepare_cached(&format!(
        "SELECT col, decl FROM {} WHERE view = ?1 AND decl <> 'boolean'",
        crate::pgexpr::VIEW_TYPES
    ))?
    .query_map([view], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// Whether a SQLite table is internal (never exposed over REST or webhooks).
pub fn is_internal(name: &str) -> bool {
    name.starts_with("sqlite_") || name.starts_with("_edgesim")
}

impl Schema {
    /// Reads the schema from the database; `enums` are the project's enum types (columns of
    /// them know their type).
    pub fn load(conn: &Connection, enums: &crate::catalog::Enums) -> rusqlite::Result<Schema> {
        let mut names: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        names.retain(|n| !is_internal(n));
        let mut tables = BTreeMap::new();
        let mut hidden = BTreeMap::new();
        let views: std::collections::BTreeSet<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'view'")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        // Computed boolean view columns (no declared type in SQLite), recorded by the view's
        // migration (`pgexpr::view_types_sql`).
        let typed_views = conn
            .prepare("SELECT 1 FROM sqlite_master WHERE name = ?1")?
            .exists([crate::pgexpr::VIEW_TYPES])?;
        for name in names {
            let mut columns = Vec::new();
            let mut st = if typed_views && views.contains(&name) {
                conn.prepare(&format!(
                    "SELECT p.name, coalesce((SELECT decl FROM {} v WHERE v.view = ?1 \
                     AND v.col = p.name AND p.type = ''), p.type), p.\"notnull\", p.pk \
                     FROM pragma_table_info(?1) p",
                    crate::pgexpr::VIEW_TYPES
                ))?
            } else {
                // `table_xinfo` also lists generated columns (hidden 2 and 3), which PostgREST
                // reads like any other.
                conn.prepare(
                    "SELECT name, type, \"notnull\", pk FROM pragma_table_xinfo(?1) \
                     WHERE hidden IN (0, 2, 3)",
                )?
            };
            let rows = st.query_map([&name], |r| {
                let decl: String = r.get(1)?;
                let pk: i64 = r.get(3)?;
                Ok(Column {
                    name: r.get(0)?,
                    kind: Kind::from_decl(&decl),
                    notnull: r.get::<_, i64>(2)? != 0 || pk > 0,
                    pk: pk > 0,
                    enum_type: None,
                })
            })?;
            for c in rows {
                columns.push(c?);
            }
            let enum_cols = match (views.contains(&name), typed_views) {
                (false, _) => enum_columns(conn, &name)?,
                (true, true) => view_enum_columns(conn, &name)?,
                (true, false) => Vec::new(),
            };
            for (col, ty) in enum_cols {
                if let Some(c) = columns.iter_mut().find(|c| c.name == col) {
                    c.enum_type = Some(EnumType {
                        name: ty,
                        enums: enums.clone(),
                    });
                }
            }
            let fks = foreign_keys(conn, &name)?;
            let uniques = unique_sets(conn, &name, &columns)?;
            let t = Table {
                name: name.clone(),
                columns,
                fks,
                derived_fks: Vec::new(),
                uniques,
            };
            if name.contains('.') {
                hidden.insert(name, t);
            } else {
                tables.insert(name, t);
            }
        }
        // A key that names no referenced columns references the parent's primary key.
        let pks: BTreeMap<String, Vec<String>> = tables
            .values()
            .chain(hidden.values())
            .map(|t| {
                (
                    t.name.clone(),
                    t.pk().iter().map(|c| c.name.clone()).collect(),
                )
            })
            .collect();
        for t in tables.values_mut().chain(hidden.values_mut()) {
            for fk in &mut t.fks {
                let pk = pks.get(&fk.parent);
                for (i, (_, to)) in fk.cols.iter_mut().enumerate() {
                    if to.is_empty() {
                        *to = pk
                            .and_then(|p| p.get(i).cloned())
                            .unwrap_or_else(|| "id".into());
                    }
                }
                fk.to = fk.cols.first().map(|c| c.1.clone()).unwrap_or_default();
            }
        }
        crate::viewkeys::infer(conn, &views, &mut tables, &hidden);
        Ok(Schema {
            tables,
            hidden,
            views,
        })
    }

    /// The table called `name`, or PGRST205 with PostgREST's "Perhaps you meant" hint.
    pub fn table(&self, name: &str) -> Result<&Table, ApiError> {
        if let Some(t) = self.tables.get(name) {
            return Ok(t);
        }
        let mut err = ApiError::new(
            404,
            "PGRST205",
            format!("Could not find the table 'public.{name}' in the schema cache"),
        );
        let best = self
            .tables
            .keys()
            .map(|k| (similarity(name, k), k))
            .filter(|(s, _)| *s >= 0.33)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, k)) = best {
            err = err.hint(format!("Perhaps you meant the table 'public.{k}'"));
        }
        Err(err)
    }
}

/// The foreign keys of `table`, with their constraint names read from its DDL.
fn foreign_keys(conn: &Connection, table: &str) -> rusqlite::Result<Vec<ForeignKey>> {
    let mut st = conn.prepare(
        "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )?;
    let rows = st
        .query_map([table], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?.unwrap_or_default(),
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let ddl: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1",
            [table],
            |r| r.get::<_, Option<String>>(0),
        )?
        .unwrap_or_default();
    let declared = crate::fknames::declared_fk_names(&ddl);
    let mut out: Vec<ForeignKey> = Vec::new();
    let mut last_id = None;
    for (id, parent, from, to) in rows {
        if last_id == Some(id)
            && let Some(fk) = out.last_mut()
        {
            fk.cols.push((from, to));
            continue;
        }
        last_id = Some(id);
        out.push(ForeignKey {
            name: String::new(),
            parent,
            from: from.clone(),
            to: to.clone(),
            cols: vec![(from, to)],
        });
    }
    // SQLite lists keys last-declared first; Postgres orders them by name, which we do later.
    out.reverse();
    for fk in &mut out {
        let locals: Vec<String> = fk.cols.iter().map(|c| c.0.clone()).collect();
        fk.name = declared
            .iter()
            .find(|(cols, _)| *cols == locals)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| crate::fknames::default_fk_name(table, &locals));
    }
    Ok(out)
}

/// The primary key's and the unique constraints' column sets (sorted), as PostgREST reads them.
fn unique_sets(
    conn: &Connection,
    table: &str,
    columns: &[Column],
) -> rusqlite::Result<Vec<Vec<String>>> {
    let mut out = Vec::new();
    let mut pk: Vec<String> = columns
        .iter()
        .filter(|c| c.pk)
        .map(|c| c.name.clone())
        .collect();
    if !pk.is_empty() {
        pk.sort();
        out.push(pk);
    }
    let mut st = conn.prepare(
        "SELECT name FROM pragma_index_list(?1) WHERE \"unique\" = 1 AND partial = 0 AND origin IN ('pk', 'u')",
    )?;
    let names = st
        .query_map([table], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    for idx in names {
        let mut st = conn.prepare("SELECT name FROM pragma_index_info(?1)")?;
        let mut cols = st
            .query_map([&idx], |r| r.get::<_, Option<String>>(0))?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect::<Vec<_>>();
        cols.sort();
        if !cols.is_empty() && !out.contains(&cols) {
            out.push(cols);
        }
    }
    Ok(out)
}

/// 1 - normalised Levenshtein distance.
pub fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let max = a.len().max(b.len());
    if max == 0 {
        return 1.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    1.0 - prev[b.len()] as f64 / max as f64
}
