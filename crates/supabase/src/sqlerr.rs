//! Mapping SQLite failures to the Postgres errors PostgREST would forward.

use crate::errors::ApiError;
use crate::functions::PGERR;
use crate::schema::{Schema, Table};
use serde_json::{Map, Value};

/// What was being written when the error happened, for constraint names and `details`.
#[derive(Default)]
pub struct ErrCtx<'a> {
    /// The target table.
    pub table: Option<&'a Table>,
    /// The schema (to find referencing tables).
    pub schema: Option<&'a Schema>,
    /// The row being inserted or the PATCH body.
    pub row: Option<&'a Map<String, Value>>,
    /// A DELETE (foreign-key errors name the referencing table).
    pub delete: bool,
}

/// The HTTP status PostgREST gives a Postgres SQLSTATE.
pub fn status_for(code: &str) -> u16 {
    match code {
        "23503" | "23505" => 409,
        "25006" => 405,
        "42883" | "42P01" => 404,
        "42P17" => 500,
        "42501" => 401,
        c if c.starts_with("XX") || c.starts_with("53") || c.starts_with("58") => 500,
        _ => 400,
    }
}

/// A Postgres error with the PostgREST status for its code.
pub fn pg(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(status_for(code), code, message)
}

fn pg_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "null".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Maps a rusqlite error to the Postgres error PostgREST would return.
pub fn map(e: &rusqlite::Error, ctx: &ErrCtx<'_>) -> ApiError {
    let msg = match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        rusqlite::Error::UserFunctionError(inner) => inner.to_string(),
        other => other.to_string(),
    };
    if let Some(rest) = msg.find(PGERR).map(|i| &msg[i + PGERR.len()..]) {
        let (code, m) = rest.split_once('|').unwrap_or(("XX000", rest));
        return pg(code, m);
    }
    let tname = ctx.table.map(|t| t.name.clone()).unwrap_or_default();
    if let Some(cols) = msg.strip_prefix("UNIQUE constraint failed: ") {
        let cols: Vec<&str> = cols
            .split(", ")
            .map(|c| c.rsplit('.').next().unwrap_or(c))
            .collect();
        let is_pk = ctx.table.is_some_and(|t| {
            let pk: Vec<&str> = t.pk().iter().map(|c| c.name.as_str()).collect();
            pk == cols
        });
        let name = if is_pk {
            format!("{tname}_pkey")
        } else {
            format!("{tname}_{}_key", cols.join("_"))
        };
        let mut err = pg(
            "23505",
            format!("duplicate key value violates unique constraint \"{name}\""),
        );
        if let Some(row) = ctx.row {
            let vals: Vec<String> = cols.iter().map(|c| pg_text(row.get(*c))).collect();
            err = err.details(format!(
                "Key ({})=({}) already exists.",
                cols.join(", "),
                vals.join(", ")
            ));
        }
        return err;
    }
    if let Some(col) = msg.strip_prefix("NOT NULL constraint failed: ") {
        let col = col.rsplit('.').next().unwrap_or(col);
        return pg(
            "23502",
            format!(
                "null value in column \"{col}\" of relation \"{tname}\" violates not-null constraint"
            ),
        );
    }
    // A `generated always` identity column (`migrate::identity`'s triggers) or a generated
    // column written (PostgREST sends every payload key).
    for (kind, what) in [
        ("identity", "an identity column defined as GENERATED ALWAYS"),
        ("generated", "a generated column"),
    ] {
        for insert in [true, false] {
            let prefix = if insert {
                format!("cannot INSERT into {kind} column ")
            } else {
                format!("cannot UPDATE {kind} column ")
            };
            let Some(col) = msg.strip_prefix(prefix.as_str()) else {
                continue;
            };
            let col = col.trim_matches('"');
            let message = if insert {
                format!("cannot insert a non-DEFAULT value into column \"{col}\"")
            } else {
                format!("column \"{col}\" can only be updated to DEFAULT")
            };
            let err = pg("428C9", message).details(format!("Column \"{col}\" is {what}."));
            return if insert && kind == "identity" {
                err.hint("Use OVERRIDING SYSTEM VALUE to override.")
            } else {
                err
            };
        }
    }
    if msg.starts_with("FOREIGN KEY constraint failed") {
        return fk_error(ctx, &tname);
    }
    if let Some(name) = msg.strip_prefix("CHECK constraint failed: ") {
        return pg(
            "23514",
            format!("new row for relation \"{tname}\" violates check constraint \"{name}\""),
        );
    }
    if msg.contains("ON CONFLICT clause does not match") {
        return pg(
            "42P10",
            "there is no unique or exclusion constraint matching the ON CONFLICT specification",
        );
    }
    if msg.contains("datatype mismatch") {
        return pg("22P02", "invalid input syntax for type bigint");
    }
    if msg.contains("malformed JSON") {
        return pg("22P02", "invalid input syntax for type json");
    }
    if msg.contains("too many SQL variables") || msg.contains("too many terms") {
        return pg("54000", "the request is too large");
    }
    pg("XX000", msg)
}

fn fk_error(ctx: &ErrCtx<'_>, tname: &str) -> ApiError {
    if ctx.delete {
        let child = ctx.schema.and_then(|s| {
            s.tables.values().find_map(|t| {
                t.fks
                    .iter()
                    .find(|f| f.parent == tname)
                    .map(|f| (t.name.clone(), f.clone()))
            })
        });
        return match child {
            Some((child, fk)) => pg(
                "23503",
                format!(
                    "update or delete on table \"{tname}\" violates foreign key constraint \"{}\" on table \"{child}\"",
                    fk.name
                ),
            )
            .details(format!("Key is still referenced from table \"{child}\".")),
            None => pg("23503", format!("update or delete on table \"{tname}\" violates a foreign key constraint")),
        };
    }
    let fk = ctx.table.and_then(|t| {
        t.fks
            .iter()
            .find(|f| {
                ctx.row
                    .is_none_or(|r| r.get(&f.from).is_some_and(|v| !v.is_null()))
            })
            .cloned()
    });
    match fk {
        Some(fk) => {
            let mut err = pg(
                "23503",
                format!(
                    "insert or update on table \"{tname}\" violates foreign key constraint \"{}\"",
                    fk.name
                ),
            );
            if let Some(row) = ctx.row {
                err = err.details(format!(
                    "Key ({})=({}) is not present in table \"{}\".",
                    fk.from,
                    pg_text(row.get(&fk.from)),
                    fk.parent
                ));
            }
            err
        }
        None => pg(
            "23503",
            format!("insert or update on table \"{tname}\" violates a foreign key constraint"),
        ),
    }
}
