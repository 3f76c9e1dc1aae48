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
}

/// A foreign key `table(from) references parent(to)`.
#[derive(Clone, Debug)]
pub struct ForeignKey {
    /// Referenced table.
    pub parent: String,
    /// Local column.
    pub from: String,
    /// Referenced column.
    pub to: String,
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
}

/// Whether a SQLite table is internal (never exposed over REST or webhooks).
pub fn is_internal(name: &str) -> bool {
    name.starts_with("sqlite_") || name.starts_with("_edgesim")
}

impl Schema {
    /// Reads the schema from the database.
    pub fn load(conn: &Connection) -> rusqlite::Result<Schema> {
        let mut names: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        names.retain(|n| !is_internal(n));
        let mut tables = BTreeMap::new();
        let mut hidden = BTreeMap::new();
        for name in names {
            let mut columns = Vec::new();
            let mut st =
                conn.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)")?;
            let rows = st.query_map([&name], |r| {
                let decl: String = r.get(1)?;
                let pk: i64 = r.get(3)?;
                Ok(Column {
                    name: r.get(0)?,
                    kind: Kind::from_decl(&decl),
                    notnull: r.get::<_, i64>(2)? != 0 || pk > 0,
                    pk: pk > 0,
                })
            })?;
            for c in rows {
                columns.push(c?);
            }
            let mut st = conn
                .prepare("SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1)")?;
            let fks = st
                .query_map([&name], |r| {
                    Ok(ForeignKey {
                        parent: r.get(0)?,
                        from: r.get(1)?,
                        to: r
                            .get::<_, Option<String>>(2)?
                            .unwrap_or_else(|| "id".into()),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let t = Table {
                name: name.clone(),
                columns,
                fks,
            };
            if name.contains('.') {
                hidden.insert(name, t);
            } else {
                tables.insert(name, t);
            }
        }
        Ok(Schema { tables, hidden })
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

/// 1 - normalised Levenshtein distance.
fn similarity(a: &str, b: &str) -> f64 {
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
