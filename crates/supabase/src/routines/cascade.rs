//! Referential actions that fire triggers: in Postgres, `on delete cascade` and `on delete set
//! null` run as DELETE/UPDATE statements on the child table, so the child's row triggers fire.
//! SQLite applies them silently; the write path ([`super::dml`]) runs them itself, through
//! [`super::dml::execute`], before it deletes a parent row, whenever the child table (or a
//! table below it) has triggers.

use crate::db::Db;
use crate::sql::ident;
use rusqlite::types::Value;
use std::collections::BTreeSet;

/// What happens to the child rows of a deleted parent row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `on delete cascade`: the child rows are deleted.
    Cascade,
    /// `on delete set null`: their key columns become NULL.
    SetNull,
}

/// A foreign key referencing a table, with an action that fires the child's triggers.
#[derive(Clone, Debug)]
pub struct ChildKey {
    /// The child table (its SQLite name).
    pub child: String,
    /// (child column, parent column) pairs.
    pub cols: Vec<(String, String)>,
    /// The delete action.
    pub action: Action,
}

/// Every table name of the database (SQLite names, e.g. `posts` or `auth.users`).
fn table_names(db: &Db) -> Vec<String> {
    let Ok(mut st) = db.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_edgesim%'",
    ) else {
        return Vec::new();
    };
    st.query_map([], |r| r.get::<_, String>(0))
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
}

/// The primary-key columns of `table`, in key order.
fn pk_of(db: &Db, table: &str) -> Vec<String> {
    let Ok(mut st) = db.prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")
    else {
        return Vec::new();
    };
    st.query_map([table], |r| r.get::<_, String>(0))
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
}

/// The keys referencing `parent` with a cascading or nulling delete action.
fn child_keys(db: &Db, parent: &str) -> Vec<ChildKey> {
    let mut out: Vec<ChildKey> = Vec::new();
    for child in table_names(db) {
        let Ok(mut st) = db.prepare(
            "SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        ) else {
            continue;
        };
        let rows: Vec<(i64, String, String, Option<String>, String)> = st
            .query_map([&child], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .map(|rows| rows.flatten().collect())
            .unwrap_or_default();
        let mut last: Option<i64> = None;
        for (id, table, from, to, on_delete) in rows {
            if table != parent {
                continue;
            }
            let action = match on_delete.to_ascii_uppercase().as_str() {
                "CASCADE" => Action::Cascade,
                "SET NULL" => Action::SetNull,
                _ => continue,
            };
            if last == Some(id)
                && let Some(k) = out.last_mut()
            {
                k.cols.push((from, to.unwrap_or_default()));
                continue;
            }
            last = Some(id);
            out.push(ChildKey {
                child: child.clone(),
                cols: vec![(from, to.unwrap_or_default())],
                action,
            });
        }
    }
    // A key naming no referenced columns references the parent's primary key.
    let pk = pk_of(db, parent);
    for k in &mut out {
        for (i, c) in k.cols.iter_mut().enumerate() {
            if c.1.is_empty() {
                c.1 = pk.get(i).cloned().unwrap_or_else(|| "id".into());
            }
        }
    }
    out
}

/// Whether deleting rows of `table` reaches, through cascading or nulling keys, a table with
/// triggers (`table` itself excluded).
fn reaches_triggers(db: &Db, table: &str, seen: &mut BTreeSet<String>) -> bool {
    if !seen.insert(table.to_string()) {
        return false;
    }
    child_keys(db, table).iter().any(|k| {
        db.routines.has_triggers(&k.child)
            || (k.action == Action::Cascade && reaches_triggers(db, &k.child, seen))
    })
}

/// The keys whose actions the write path must run itself when a row of `parent` is deleted
/// (those reaching a table with triggers); empty when SQLite's own actions are equivalent.
pub fn keys_to_run(db: &Db, parent: &str) -> Vec<ChildKey> {
    if db.routines.triggers.is_empty() {
        return Vec::new();
    }
    child_keys(db, parent)
        .into_iter()
        .filter(|k| {
            db.routines.has_triggers(&k.child)
                || (k.action == Action::Cascade
                    && reaches_triggers(db, &k.child, &mut BTreeSet::from([parent.to_string()])))
        })
        .collect()
}

/// The statement applying `k`'s action to the children of the parent row whose key values
/// are `parent_vals` (one per pair of `k.cols`), with its parameters.
pub fn statement(k: &ChildKey, parent_vals: Vec<Value>) -> (String, Vec<Value>) {
    let cond: Vec<String> = k
        .cols
        .iter()
        .enumerate()
        .map(|(i, (c, _))| format!("{} = ?{}", ident(c), i + 1))
        .collect();
    let sql = match k.action {
        Action::Cascade => format!(
            "DELETE FROM {} WHERE {}",
            ident(&k.child),
            cond.join(" AND ")
        ),
        Action::SetNull => format!(
            "UPDATE {} SET {} WHERE {}",
            ident(&k.child),
            k.cols
                .iter()
                .map(|(c, _)| format!("{} = NULL", ident(c)))
                .collect::<Vec<_>>()
                .join(", "),
            cond.join(" AND ")
        ),
    };
    (sql, parent_vals)
}
