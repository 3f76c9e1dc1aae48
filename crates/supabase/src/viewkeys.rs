//! The keys of views, inferred from their base tables as PostgREST's schema cache does: a view
//! column that is a plain reference to a base table column carries that column's foreign keys
//! and unique sets, so views embed (view to table, table to view, view to view) wherever the
//! key columns appear in the view's select list.
//!
//! SQLite traces each result column of `SELECT * FROM view` back to the table column it reads
//! (`sqlite3_column_table_name`/`origin_name`), through joins, subqueries and nested views;
//! computed columns have no origin and carry no key.

use crate::schema::{ForeignKey, Table};
use rusqlite::Connection;
use std::collections::{BTreeMap, BTreeSet};

/// For each base (table, column), the view columns reading it, in view order.
type Origins = BTreeMap<(String, String), Vec<String>>;

/// The column origins of view `view`.
fn origins(conn: &Connection, view: &str) -> rusqlite::Result<Origins> {
    let st = conn.prepare(&format!("SELECT * FROM {}", crate::sql::ident(view)))?;
    let mut out = Origins::new();
    for c in st.columns_with_metadata() {
        if let (Some(t), Some(o)) = (c.table_name(), c.origin_name()) {
            out.entry((t.to_string(), o.to_string()))
                .or_default()
                .push(c.name().to_string());
        }
    }
    Ok(out)
}

/// The view columns reading `cols` of base table `table` (the first view column for each),
/// or `None` when one of them is not in the view.
fn map_cols(o: &Origins, table: &str, cols: &[&String]) -> Option<Vec<String>> {
    cols.iter()
        .map(|c| {
            o.get(&(table.to_string(), c.to_string()))
                .and_then(|v| v.first().cloned())
        })
        .collect()
}

/// Adds to each view of `views` (found in `tables`) the foreign keys and unique sets of its
/// base tables whose columns it selects, and to every exposed relation whose key references a
/// view's base table columns a derived key to that view. `hidden` holds the other schemas'
/// tables (a public view over `auth.users` is embeddable from a key to `auth.users`).
pub fn infer(
    conn: &Connection,
    views: &BTreeSet<String>,
    tables: &mut BTreeMap<String, Table>,
    hidden: &BTreeMap<String, Table>,
) {
    let mut all_origins: BTreeMap<String, Origins> = BTreeMap::new();
    for v in views.iter().filter(|v| tables.contains_key(*v)) {
        // A view SQLite cannot prepare (a dropped base table) simply carries no key.
        if let Ok(o) = origins(conn, v) {
            all_origins.insert(v.clone(), o);
        }
    }
    let base = |name: &str| tables.get(name).or_else(|| hidden.get(name)).cloned();
    // 1. A view holds its base tables' keys (to their parents) and their unique sets.
    let mut derived: BTreeMap<String, (Vec<ForeignKey>, Vec<Vec<String>>)> = BTreeMap::new();
    for (v, o) in &all_origins {
        let bases: BTreeSet<&String> = o.keys().map(|(t, _)| t).collect();
        let mut fks = Vec::new();
        let mut uniques = Vec::new();
        for b in bases {
            let Some(bt) = base(b) else { continue };
            for fk in &bt.fks {
                let locals: Vec<&String> = fk.cols.iter().map(|c| &c.0).collect();
                if let Some(mapped) = map_cols(o, b, &locals) {
                    let cols: Vec<(String, String)> = mapped
                        .into_iter()
                        .zip(fk.cols.iter().map(|c| c.1.clone()))
                        .collect();
                    fks.push(ForeignKey {
                        name: fk.name.clone(),
                        parent: fk.parent.clone(),
                        from: cols[0].0.clone(),
                        to: cols[0].1.clone(),
                        cols,
                    });
                }
            }
            for u in &bt.uniques {
                let cols: Vec<&String> = u.iter().collect();
                if let Some(mut mapped) = map_cols(o, b, &cols) {
                    mapped.sort();
                    if !uniques.contains(&mapped) {
                        uniques.push(mapped);
                    }
                }
            }
        }
        derived.insert(v.clone(), (fks, uniques));
    }
    for (v, (fks, uniques)) in &derived {
        if let Some(t) = tables.get_mut(v) {
            t.derived_fks.extend(fks.iter().cloned());
            for u in uniques {
                if !t.uniques.contains(u) {
                    t.uniques.push(u.clone());
                }
            }
        }
    }
    // 2. A key to a base table's columns is also a key to each view selecting those columns.
    let names: Vec<String> = tables.keys().cloned().collect();
    for name in names {
        let Some(t) = tables.get(&name) else { continue };
        let mut extra = Vec::new();
        for fk in t.fks.iter().chain(t.derived_fks.iter()) {
            let referenced: Vec<&String> = fk.cols.iter().map(|c| &c.1).collect();
            for (v, o) in &all_origins {
                if let Some(mapped) = map_cols(o, &fk.parent, &referenced) {
                    let cols: Vec<(String, String)> =
                        fk.cols.iter().map(|c| c.0.clone()).zip(mapped).collect();
                    extra.push(ForeignKey {
                        name: fk.name.clone(),
                        parent: v.clone(),
                        from: cols[0].0.clone(),
                        to: cols[0].1.clone(),
                        cols,
                    });
                }
            }
        }
        if let Some(t) = tables.get_mut(&name) {
            t.derived_fks.extend(extra);
        }
    }
}
