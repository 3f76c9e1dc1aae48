//! Row-change capture, the way Database Webhooks see changes: `AFTER ... FOR EACH ROW`
//! triggers (temporary, one set per exposed table) call `_edgesim_capture(...)` with the OLD
//! and NEW values, so PostgREST writes and direct SQL are captured alike.

use crate::schema::{Schema, Table};
use crate::sql::{ident, literal};
use crate::types::Kind;
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use serde_json::{Map, Value as Json};
use std::sync::{Arc, Mutex};

/// One changed row, with its values in column order.
#[derive(Clone, Debug)]
pub struct RowChange {
    /// Table name.
    pub table: String,
    /// `INSERT`, `UPDATE` or `DELETE`.
    pub event: &'static str,
    /// Values before (UPDATE, DELETE).
    pub old: Option<Vec<Value>>,
    /// Values after (INSERT, UPDATE).
    pub new: Option<Vec<Value>>,
}

/// Registers `_edgesim_capture(table, event, values...)`, which appends to `pending`.
pub fn install(conn: &Connection, pending: Arc<Mutex<Vec<RowChange>>>) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "_edgesim_capture",
        -1,
        FunctionFlags::SQLITE_UTF8,
        move |ctx| {
            let table: String = ctx.get(0)?;
            let event: String = ctx.get(1)?;
            let vals: Vec<Value> = (2..ctx.len())
                .map(|i| Value::from(ctx.get_raw(i)))
                .collect();
            let event: &'static str = match event.as_str() {
                "INSERT" => "INSERT",
                "UPDATE" => "UPDATE",
                _ => "DELETE",
            };
            let change = match event {
                "INSERT" => RowChange {
                    table,
                    event,
                    old: None,
                    new: Some(vals),
                },
                "DELETE" => RowChange {
                    table,
                    event,
                    old: Some(vals),
                    new: None,
                },
                _ => {
                    let half = vals.len() / 2;
                    RowChange {
                        table,
                        event,
                        old: Some(vals[..half].to_vec()),
                        new: Some(vals[half..].to_vec()),
                    }
                }
            };
            pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(change);
            Ok(Value::Null)
        },
    )
}

/// Drops every capture trigger (before DDL, which may rename or drop columns they name).
pub fn drop_triggers(conn: &Connection) -> rusqlite::Result<()> {
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_temp_master WHERE type = 'trigger' AND name LIKE '\\_edgesim\\_cap\\_%' ESCAPE '\\'")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for n in names {
        conn.execute_batch(&format!("DROP TRIGGER IF EXISTS temp.{}", ident(&n)))?;
    }
    Ok(())
}

/// (Re)creates the capture triggers for every exposed table.
pub fn create_triggers(conn: &Connection, schema: &Schema) -> rusqlite::Result<()> {
    drop_triggers(conn)?;
    for (i, t) in schema.tables.values().enumerate() {
        if schema.views.contains(&t.name) {
            continue;
        }
        let cols = |prefix: &str| {
            t.columns
                .iter()
                .map(|c| format!("{prefix}.{}", ident(&c.name)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (old, new) = (cols("OLD"), cols("NEW"));
        let tl = literal(&t.name);
        let tn = format!("main.{}", ident(&t.name));
        let sep = |v: &str| {
            if v.is_empty() {
                String::new()
            } else {
                format!(", {v}")
            }
        };
        let sql = format!(
            "CREATE TEMP TRIGGER \"_edgesim_cap_ins_{i}\" AFTER INSERT ON {tn} BEGIN SELECT _edgesim_capture({tl}, 'INSERT'{n}); END;
             CREATE TEMP TRIGGER \"_edgesim_cap_upd_{i}\" AFTER UPDATE ON {tn} BEGIN SELECT _edgesim_capture({tl}, 'UPDATE'{o}{n}); END;
             CREATE TEMP TRIGGER \"_edgesim_cap_del_{i}\" AFTER DELETE ON {tn} BEGIN SELECT _edgesim_capture({tl}, 'DELETE'{o}); END;",
            n = sep(&new),
            o = sep(&old),
        );
        conn.execute_batch(&sql)?;
    }
    Ok(())
}

/// A captured row as the JSON record Postgres' `to_jsonb(NEW)` would give.
pub fn record(t: &Table, values: &[Value]) -> Map<String, Json> {
    let mut m = Map::new();
    for (i, c) in t.columns.iter().enumerate() {
        let v = values.get(i).cloned().unwrap_or(Value::Null);
        let kind: &Kind = &c.kind;
        m.insert(c.name.clone(), kind.to_json((&v).into()));
    }
    m
}
