//! Reading the written table for the write path: its columns and defaults, its primary key,
//! a row by rowid or by key, and what an upsert's `DO UPDATE` would make of a row.

use super::{MapErr, Target, run_plain};
use crate::db::Db;
use crate::errors::ApiError;
use crate::routines::exec::Row;
use crate::sql::ident;
use rusqlite::types::Value;

/// A column of the written table.
pub(super) struct Col {
    /// Column name.
    pub(super) name: String,
    /// Its default expression (SQLite SQL), if any.
    pub(super) default: Option<String>,
}

/// The table's name and schema for `pragma_table_info`: a table literally named `auth.users`
/// (how platform-schema tables are stored) first, else an attached schema.
pub(super) fn table_ref(db: &Db, tg: &Target) -> (Option<String>, String) {
    let exists = db
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [&tg.key],
            |r| r.get::<_, i64>(0),
        )
        .unwrap_or(0)
        > 0;
    match tg.key.split_once('.') {
        Some((s, n)) if !exists => (Some(s.to_string()), n.to_string()),
        _ => (None, tg.key.clone()),
    }
}

pub(super) fn columns(db: &Db, tg: &Target, map: MapErr<'_>) -> Result<Vec<Col>, ApiError> {
    let (schema, name) = table_ref(db, tg);
    let sql = match &schema {
        Some(_) => "SELECT name, dflt_value FROM pragma_table_info(?1, ?2)",
        None => "SELECT name, dflt_value FROM pragma_table_info(?1)",
    };
    let mut st = db.prepare(sql).map_err(|e| map(&e))?;
    let mut params = vec![Value::Text(name.clone())];
    if let Some(s) = schema {
        params.push(Value::Text(s));
    }
    let cols: Vec<Col> = st
        .query_map(rusqlite::params_from_iter(params.iter()), |r| {
            Ok(Col {
                name: r.get(0)?,
                default: r.get(1)?,
            })
        })
        .map_err(|e| map(&e))?
        .collect::<Result<_, _>>()
        .map_err(|e| map(&e))?;
    if cols.is_empty() {
        // The table may be known to SQLite under its rendered name only (e.g. an attached
        // schema); read its columns from a query.
        let st = db
            .prepare(&format!("SELECT * FROM {} LIMIT 0", tg.sql))
            .map_err(|e| map(&e))?;
        return Ok(st
            .column_names()
            .into_iter()
            .map(|n| Col {
                name: n.to_string(),
                default: None,
            })
            .collect());
    }
    Ok(cols)
}

pub(super) fn query_all(
    db: &Db,
    sql: &str,
    params: &[Value],
    map: MapErr<'_>,
) -> Result<Vec<Vec<Value>>, ApiError> {
    let mut st = db.prepare(sql).map_err(|e| map(&e))?;
    let n = st.column_count();
    let used = st.parameter_count().min(params.len());
    let mut rows = st
        .query(rusqlite::params_from_iter(params[..used].iter()))
        .map_err(|e| map(&e))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(|e| map(&e))? {
        let mut vals = Vec::with_capacity(n);
        for i in 0..n {
            vals.push(Value::from(r.get_ref(i).map_err(|e| map(&e))?));
        }
        out.push(vals);
    }
    Ok(out)
}

/// The row an upsert's `DO UPDATE` would make of the existing row `rowid`: the INSERT runs in
/// a savepoint that is rolled back (with its captured changes). `None` when it changes nothing
/// (`DO UPDATE ... WHERE` false).
pub(super) fn upsert_result(
    db: &Db,
    tg: &Target,
    names: &[String],
    insert: &str,
    params: &[Value],
    rowid: i64,
    map: MapErr<'_>,
) -> Result<Option<Row>, ApiError> {
    db.dry_run(
        |db| {
            let before = db.total_changes();
            run_plain(db, insert, params, &mut None, map)?;
            if db.total_changes() == before {
                Ok(None)
            } else {
                read_row(db, tg, names, rowid, map)
            }
        },
        |e| map(&e),
    )
}

pub(super) fn pk_columns(db: &Db, tg: &Target, map: MapErr<'_>) -> Result<Vec<String>, ApiError> {
    let (schema, name) = table_ref(db, tg);
    let sql = match &schema {
        Some(_) => "SELECT name FROM pragma_table_info(?1, ?2) WHERE pk > 0 ORDER BY pk",
        None => "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
    };
    let mut p = vec![Value::Text(name)];
    if let Some(s) = schema {
        p.push(Value::Text(s));
    }
    Ok(query_all(db, sql, &p, map)?
        .into_iter()
        .filter_map(|r| match r.into_iter().next() {
            Some(Value::Text(s)) => Some(s),
            _ => None,
        })
        .collect())
}

pub(super) fn existing_row(
    db: &Db,
    tg: &Target,
    names: &[String],
    key_cols: &[String],
    new: &Row,
    map: MapErr<'_>,
) -> Result<Option<(i64, Row)>, ApiError> {
    if key_cols.is_empty() {
        return Ok(None);
    }
    let mut p = Vec::new();
    let mut conds = Vec::new();
    for c in key_cols {
        match new.get(c) {
            Some(Value::Null) | None => return Ok(None),
            Some(v) => {
                p.push(v.clone());
                conds.push(format!("{} = ?{}", ident(c), p.len()));
            }
        }
    }
    let cols = names
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let s = format!(
        "SELECT rowid, {cols} FROM {} WHERE {}",
        tg.sql,
        conds.join(" AND ")
    );
    Ok(query_all(db, &s, &p, map)?
        .into_iter()
        .next()
        .and_then(|vals| {
            let Value::Integer(rowid) = vals[0] else {
                return None;
            };
            Some((
                rowid,
                Row {
                    cols: names.to_vec(),
                    vals: vals[1..].to_vec(),
                },
            ))
        }))
}

pub(super) fn read_row(
    db: &Db,
    tg: &Target,
    names: &[String],
    rowid: i64,
    map: MapErr<'_>,
) -> Result<Option<Row>, ApiError> {
    let cols = names
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let s = format!("SELECT {cols} FROM {} WHERE rowid = ?1", tg.sql);
    Ok(query_all(db, &s, &[Value::Integer(rowid)], map)?
        .into_iter()
        .next()
        .map(|vals| Row {
            cols: names.to_vec(),
            vals,
        }))
}
