//! `/rest/v1/rpc/<fn>`: calling a user function over GET/HEAD (arguments from the query string)
//! or POST (a JSON object of named arguments, or the whole body with
//! `Prefer: params=single-object`). Set-returning functions answer like a table read (filters,
//! `select`, `order`, `limit`, counts); scalars answer their JSON value; `void` answers 204.
//! Errors are PostgREST's: PGRST202 when no function matches the name and argument names,
//! P0001 (400) for `raise exception`, PGRST101 for other methods.

use super::prefer::{essence, parse_accept};
use super::read;
use crate::db::Db;
use crate::errors::ApiError;
use crate::query;
use crate::routines::Function;
use crate::routines::def::Returns;
use crate::routines::exec::{self, Output, Row};
use crate::schema::{Column, Table};
use crate::sql::ident;
use crate::types::Kind;
use crate::webhooks::capture::RowChange;
use bytes::Bytes;
use http::{HeaderMap, Method, Response, header};
use rusqlite::types::Value;
use serde_json::{Map, Value as Json};
use std::sync::Arc;

/// Query-string keys that are never function arguments.
const RESERVED: &[&str] = &[
    "select",
    "order",
    "limit",
    "offset",
    "columns",
    "on_conflict",
    "or",
    "and",
    "not.or",
    "not.and",
];

/// The temporary table a set-returning call's rows are read from.
const RESULT_TABLE: &str = "_edgesim_rpc_result";

fn not_found(func: &str, args: &[String], f: Option<&Function>) -> ApiError {
    let mut args = args.to_vec();
    args.sort();
    let (message, details) = if args.is_empty() {
        (
            format!(
                "Could not find the function public.{func} without parameters in the schema cache"
            ),
            format!(
                "Searched for the function public.{func} without parameters or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache."
            ),
        )
    } else {
        let list = args.join(", ");
        let noun = if args.len() == 1 {
            "parameter"
        } else {
            "parameters"
        };
        (
            format!("Could not find the function public.{func}({list}) in the schema cache"),
            format!(
                "Searched for the function public.{func} with {noun} {list} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache."
            ),
        )
    };
    let mut e = ApiError::new(404, "PGRST202", message).details(details);
    if let Some(f) = f {
        let mut names: Vec<&str> = f.def.params.iter().map(|p| p.name.as_str()).collect();
        names.sort();
        e = e.hint(format!(
            "Perhaps you meant to call the function public.{func}({})",
            names.join(", ")
        ));
    }
    e
}

fn is_json_type(ty: &str) -> bool {
    matches!(ty, "json" | "jsonb")
}

/// Serves one call; returns the response and the committed row changes.
pub fn handle(
    db: &mut Db,
    method: &Method,
    func: &str,
    pairs: &[(String, String)],
    headers: &HeaderMap,
    body: &Bytes,
) -> (Response<Bytes>, Vec<RowChange>) {
    let head = method == Method::HEAD;
    match call(db, method, func, pairs, headers, body) {
        Ok(r) => r,
        Err(e) => (super::response::error(&e, head), Vec::new()),
    }
}

fn call(
    db: &mut Db,
    method: &Method,
    func: &str,
    pairs: &[(String, String)],
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Response<Bytes>, Vec<RowChange>), ApiError> {
    let read_only = match *method {
        Method::GET | Method::HEAD => true,
        Method::POST => false,
        _ => {
            return Err(ApiError::new(
                405,
                "PGRST101",
                "For functions, only GET and POST verbs are allowed",
            ));
        }
    };
    let head = method == Method::HEAD;
    parse_accept(headers)?;
    let single_object = headers.get_all("prefer").iter().any(|h| {
        h.to_str()
            .is_ok_and(|s| s.split(',').any(|p| p.trim() == "params=single-object"))
    });
    let f = db
        .routines
        .functions
        .get(func)
        .filter(|f| f.def.returns != Returns::Trigger)
        .cloned();
    // Arguments: named values (JSON for POST, text for GET); other query pairs are filters.
    let mut named: Vec<(String, Json)> = Vec::new();
    let mut rest: Vec<(String, String)> = Vec::new();
    let mut whole_body: Option<Json> = None;
    if read_only {
        for (k, v) in pairs {
            let is_arg = !RESERVED.contains(&k.as_str())
                && f.as_ref()
                    .is_none_or(|f| f.def.params.iter().any(|p| &p.name == k));
            if is_arg {
                named.push((k.clone(), Json::String(v.clone())));
            } else {
                rest.push((k.clone(), v.clone()));
            }
        }
    } else {
        rest = pairs.to_vec();
        if let Some(ct) = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        {
            let mt = essence(ct);
            if !(mt.is_empty() || mt == "application/json") {
                return Err(ApiError::new(
                    415,
                    "PGRST107",
                    format!("Content-Type not acceptable: {ct}"),
                ));
            }
        }
        let payload: Json = if body.iter().all(u8::is_ascii_whitespace) {
            Json::Object(Map::new())
        } else {
            serde_json::from_slice(body)
                .map_err(|_| ApiError::new(400, "PGRST102", "Empty or invalid json"))?
        };
        if single_object {
            whole_body = Some(payload);
        } else {
            match payload {
                Json::Object(m) => named.extend(m),
                other => whole_body = Some(other),
            }
        }
    }
    let names: Vec<String> = named.iter().map(|(k, _)| k.clone()).collect();
    let Some(f) = f else {
        return Err(not_found(func, &names, None));
    };
    let params = &f.def.params;
    // Resolve the arguments against the parameters.
    let mut args: Vec<Option<Value>> = vec![None; params.len()];
    let single_json = params.len() == 1 && is_json_type(&params[0].ty);
    if let Some(b) = whole_body {
        if !single_json {
            return Err(not_found(func, &names, Some(&f)));
        }
        args[0] = Some(Value::Text(b.to_string()));
    } else if single_json && params[0].name.starts_with('$') {
        // A single unnamed json parameter takes the whole object.
        let obj: Map<String, Json> = named.into_iter().collect();
        args[0] = Some(Value::Text(Json::Object(obj).to_string()));
    } else {
        for (k, v) in &named {
            let Some(slot) = params.iter().position(|p| &p.name == k) else {
                return Err(not_found(func, &names, Some(&f)));
            };
            let kind = Kind::from_decl(params[slot].ty.trim_end_matches("[]"));
            let value = if params[slot].ty.ends_with("[]") {
                match v {
                    Json::String(s) if read_only => Value::Text(pg_array_json(s)),
                    other => Value::Text(other.to_string()),
                }
            } else if read_only {
                match v {
                    Json::String(s) => kind.from_text(s)?,
                    other => kind.from_json(other)?,
                }
            } else {
                kind.from_json(v)?
            };
            args[slot] = Some(value);
        }
        for (p, a) in params.iter().zip(&args) {
            if a.is_none() && p.default.is_none() {
                return Err(not_found(func, &names, Some(&f)));
            }
        }
    }
    let q = query::parse_query(&rest)?;
    let f2 = f.clone();
    let ((resp, _), changes) = db.transaction(
        false,
        move |db| -> Result<(Response<Bytes>, ()), ApiError> {
            let out = exec::call(db, &f2, args, 1)?;
            if read_only && db.pending_len() > 0 {
                return Err(crate::sqlerr::pg(
                    "25006",
                    "cannot execute INSERT, UPDATE or DELETE in a read-only transaction",
                ));
            }
            Ok((respond(db, &f2, out, &q, headers, head)?, ()))
        },
        |e| crate::sqlerr::map(&e, &Default::default()),
    )?;
    Ok((resp, changes))
}

/// `{a,b}` (a Postgres array literal in a query string) as JSON text.
fn pg_array_json(s: &str) -> String {
    let inner = s.trim().trim_start_matches('{').trim_end_matches('}');
    let items: Vec<Json> = if inner.is_empty() {
        Vec::new()
    } else {
        inner
            .split(',')
            .map(|x| {
                let x = x.trim().trim_matches('"');
                x.parse::<i64>()
                    .map(Json::from)
                    .unwrap_or_else(|_| Json::String(x.to_string()))
            })
            .collect()
    };
    Json::Array(items).to_string()
}

fn json_response(body: String, head: bool) -> Response<Bytes> {
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, super::response::JSON)
        .header("content-range", "0-0/*")
        .body(if head {
            Bytes::new()
        } else {
            Bytes::from(body)
        })
        .unwrap_or_default()
}

/// The table describing a function's result rows.
fn result_table(db: &Db, f: &Function) -> Result<Table, ApiError> {
    match &f.def.returns {
        Returns::Rows { table, .. } => {
            let t = db.schema.table(table)?;
            Ok(Table {
                name: table.clone(),
                columns: t
                    .columns
                    .iter()
                    .map(|c| Column {
                        pk: false,
                        ..c.clone()
                    })
                    .collect(),
                fks: Vec::new(),
                derived_fks: Vec::new(),
                uniques: Default::default(),
            })
        }
        Returns::Table(cols) | Returns::Record(cols) => Ok(Table {
            name: f.def.name.clone(),
            columns: cols
                .iter()
                .map(|(n, ty)| Column {
                    name: n.clone(),
                    kind: Kind::from_decl(ty),
                    notnull: false,
                    pk: false,
                    enum_type: db
                        .catalog
                        .enums
                        .contains(ty)
                        .then(|| crate::schema::EnumType {
                            name: ty.clone(),
                            enums: db.catalog.enums.clone(),
                        }),
                })
                .collect(),
            fks: Vec::new(),
            derived_fks: Vec::new(),
            uniques: Default::default(),
        }),
        _ => Err(crate::sqlerr::pg("XX000", "not a set-returning function")),
    }
}

/// A result row in the result table's column order (by position when the counts match, as
/// Postgres assigns a query's columns to the declared ones).
fn ordered(t: &Table, r: Row) -> Vec<Value> {
    if r.vals.len() == t.columns.len() {
        return r.vals;
    }
    t.columns
        .iter()
        .map(|c| r.get(&c.name).cloned().unwrap_or(Value::Null))
        .collect()
}

fn respond(
    db: &Db,
    f: &Arc<Function>,
    out: Output,
    q: &query::Query,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response<Bytes>, ApiError> {
    let scalar_kind = || match &f.def.returns {
        Returns::Scalar { ty, .. } => Kind::from_decl(ty.trim_end_matches("[]")),
        _ => Kind::Text("text"),
    };
    let is_array = matches!(&f.def.returns, Returns::Scalar { ty, .. } if ty.ends_with("[]"));
    let to_json = |v: &Value| -> Json {
        if is_array
            && let Value::Text(s) = v
            && let Ok(j) = serde_json::from_str::<Json>(s)
        {
            return j;
        }
        scalar_kind().to_json(v.into())
    };
    match out {
        Output::Void => Ok(Response::builder()
            .status(204)
            .body(Bytes::new())
            .unwrap_or_default()),
        Output::Value(v) => Ok(json_response(crate::jsonb::jsonb_text(&to_json(&v)), head)),
        Output::Values(vs) => {
            let arr = Json::Array(vs.iter().map(to_json).collect());
            Ok(json_response(crate::jsonb::jsonb_text(&arr), head))
        }
        Output::Row(r) => {
            let t = result_table(db, f)?;
            let body = match r {
                None => "null".to_string(),
                Some(r) => {
                    let vals = ordered(&t, r);
                    let mut m = Map::new();
                    for (c, v) in t.columns.iter().zip(&vals) {
                        m.insert(c.name.clone(), c.kind.to_json(v.into()));
                    }
                    crate::jsonb::jsonb_text(&Json::Object(m))
                }
            };
            Ok(json_response(body, head))
        }
        Output::Rows(rows) => {
            let t = result_table(db, f)?;
            let cols: Vec<String> = t.columns.iter().map(|c| ident(&c.name)).collect();
            let vals = rows.into_iter().map(|r| ordered(&t, r));
            db.with_temp_table(RESULT_TABLE, &cols, vals, |db| {
                read::read_from(db, &t, q, headers, head, &ResultRows)
            })
        }
    }
}

/// The FROM of a set-returning call: its result rows.
struct ResultRows;

impl crate::scope::Scope for ResultRows {
    fn table_ref(&self, _table: &Table, alias: &str) -> Result<String, ApiError> {
        Ok(format!("temp.{RESULT_TABLE} AS {}", ident(alias)))
    }
}
