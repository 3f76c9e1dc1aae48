//! POST (insert/upsert), PATCH and DELETE, each in one transaction.

use super::prefer::{Media, Prefs, Return, essence, parse_accept, parse_prefer};
use super::response::{self, JSON, OBJECT};
use crate::db::Db;
use crate::errors::ApiError;
use crate::query::Query;
use crate::rls::{self, Cmd, Privilege, Write};
use crate::schema::Table;
use crate::sql::{self, Projection, ident};
use crate::sqlerr::ErrCtx;
use crate::webhooks::capture::RowChange;
use bytes::Bytes;
use http::{HeaderMap, Response, header};
use rusqlite::types::Value;
use serde_json::{Map, Value as Json};

type Out = Result<(Response<Bytes>, Vec<RowChange>), ApiError>;

fn invalid_json() -> ApiError {
    ApiError::new(400, "PGRST102", "Empty or invalid json")
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        None => Ok(()),
        Some(ct) => {
            let mt = essence(ct);
            if mt == "application/json" || mt.is_empty() {
                Ok(())
            } else {
                Err(ApiError::new(
                    415,
                    "PGRST107",
                    format!("Content-Type not acceptable: {ct}"),
                ))
            }
        }
    }
}

fn parse_body(body: &Bytes) -> Result<Json, ApiError> {
    serde_json::from_slice(body).map_err(|_| invalid_json())
}

/// Builds the response of a write.
struct Written<'a> {
    prefs: &'a Prefs,
    media: Media,
    texts: Vec<String>,
    status_body: u16,
    status_empty: u16,
    range: String,
    location: Option<String>,
}

fn respond(w: Written<'_>) -> Response<Bytes> {
    let mut b = Response::builder().header("content-range", w.range);
    let applied: Vec<&str> = w
        .prefs
        .applied
        .iter()
        .map(String::as_str)
        .filter(|p| !p.starts_with("tx=") && !p.starts_with("timezone"))
        .collect();
    if !applied.is_empty() {
        b = b.header("preference-applied", applied.join(", "));
    }
    match w.prefs.ret {
        Some(Return::Representation) => {
            let (ct, body) = if w.media == Media::Object {
                (OBJECT, w.texts.first().cloned().unwrap_or_default())
            } else {
                (JSON, response::array_text(&w.texts))
            };
            b.status(w.status_body)
                .header(header::CONTENT_TYPE, ct)
                .body(Bytes::from(body))
        }
        Some(Return::HeadersOnly) => {
            if let Some(l) = w.location {
                b = b.header(header::LOCATION, l);
            }
            b.status(w.status_empty).body(Bytes::new())
        }
        _ => b.status(w.status_empty).body(Bytes::new()),
    }
    .unwrap_or_default()
}

fn check_single(media: Media, n: usize) -> Result<(), ApiError> {
    if media == Media::Object && n != 1 {
        return Err(super::not_single(n));
    }
    Ok(())
}

fn check_max_affected(p: &Prefs, n: usize) -> Result<(), ApiError> {
    if let (true, Some(max)) = (p.strict, p.max_affected)
        && n as u64 > max
    {
        return Err(ApiError::new(
            400,
            "PGRST124",
            "Query result exceeds max-affected preference constraint",
        )
        .details(format!("The query affects {n} rows")));
    }
    Ok(())
}

fn sql_err(e: rusqlite::Error) -> ApiError {
    crate::sqlerr::map(&e, &ErrCtx::default())
}

/// `filters AND (policy filter)`.
fn with_filter(wh: String, rls: Option<String>) -> String {
    match rls {
        Some(r) => format!("({wh}) AND ({r})"),
        None => wh,
    }
}

/// The representation projection (`select=`, default `*`), and whether it embeds: then the
/// statement returns every column raw and [`embedded_representation`] renders the rows.
fn rep_projection(db: &Db, t: &Table, q: &Query) -> Result<(Projection, bool), ApiError> {
    let root = crate::embed::plan::plan(&db.schema, t, q)?;
    if root.children.is_empty() {
        return Ok((sql::projection(t, q.select.as_deref())?, false));
    }
    let cols: Vec<String> = t.columns.iter().map(|c| ident(&c.name)).collect();
    Ok((
        Projection {
            sql: cols.join(", "),
            cols: t
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.kind.clone()))
                .collect(),
        },
        true,
    ))
}

/// The temp table holding a write's returned rows while their representation is read.
const WRITTEN: &str = "_edgesim_written";

/// The representation of written rows (`raw`: every column of `t`, in order) with embedded
/// resources, as PostgREST's `WITH pgrst_source AS (<write> RETURNING ...) SELECT ... FROM
/// pgrst_source`: the rows are read from a temp table, each embedded table through the caller's
/// row level security. Root filters, order and range addressed the write, not the read.
fn embedded_representation(
    db: &Db,
    t: &Table,
    q: &Query,
    raw: &[Vec<Value>],
) -> Result<Vec<String>, ApiError> {
    let mut cols: Vec<String> = t.columns.iter().map(|c| ident(&c.name)).collect();
    cols.push("\"_edgesim_ord\"".into());
    let rows = raw.iter().enumerate().map(|(i, r)| {
        let mut vals = r.clone();
        vals.push(Value::Integer(i as i64));
        vals
    });
    db.with_temp_table(WRITTEN, &cols, rows, |db| {
        let mut root = crate::embed::plan::plan(&db.schema, t, q)?;
        root.filters.clear();
        root.order.clear();
        root.limit = None;
        root.offset = None;
        let g = crate::embed::sqlgen::Gen {
            scope: &crate::scope::Rls(db),
            max_rows: db.max_rows,
        };
        let proj = Projection::from_cols(g.out_cols(&root)?);
        let wh = g
            .where_sql(&root)?
            .map(|w| format!(" WHERE {w}"))
            .unwrap_or_default();
        let s = format!(
            "SELECT {} FROM temp.{WRITTEN} AS {}{wh} ORDER BY \"_edgesim_ord\"",
            proj.sql,
            ident(&root.alias)
        );
        Ok(db.query_rows(&s, &[], &proj, t, false)?.texts)
    })
}

/// What every write resolves before it touches the database.
struct Target {
    media: Media,
    prefs: Prefs,
    t: Table,
    proj: Projection,
    /// The representation embeds: `proj` returns every column raw.
    embed: bool,
    /// The request's query (select and embedded parameters of the representation).
    q: Query,
    /// Row level security checks on the rows the statement writes.
    checks: rls::Checks,
}

impl Target {
    /// Checks `Accept`, `Prefer`, then (for a method with a body) `Content-Type`, then
    /// resolves the table and the representation projection, in that order.
    fn resolve(
        db: &Db,
        table: &str,
        q: &Query,
        headers: &HeaderMap,
        has_body: bool,
    ) -> Result<Target, ApiError> {
        let media = parse_accept(headers)?;
        let prefs = parse_prefer(headers)?;
        if has_body {
            check_content_type(headers)?;
        }
        let t = db.schema.table(table)?.clone();
        let (proj, embed) = rep_projection(db, &t, q)?;
        Ok(Target {
            media,
            prefs,
            t,
            proj,
            embed,
            q: q.clone(),
            checks: rls::Checks::default(),
        })
    }

    /// Checks the caller's privileges and prepares the row checks of a `kind` write.
    fn guard(
        &mut self,
        db: &Db,
        privileges: &[Privilege],
        kind: Option<Write>,
    ) -> Result<(), ApiError> {
        rls::require(db, &self.t.name, privileges)?;
        if let Some(k) = kind {
            self.checks = rls::write_checks(db, &self.t, k)?;
        }
        Ok(())
    }

    /// Runs one `... RETURNING` statement in a transaction. The singular-object check (and,
    /// when `max_affected`, the `max-affected` check) run inside it, so a failure rolls back.
    fn returning(
        &self,
        db: &mut Db,
        sql: &str,
        params: &[Value],
        row: Option<&Map<String, Json>>,
        delete: bool,
        max_affected: bool,
    ) -> Result<(Vec<String>, Vec<RowChange>), ApiError> {
        db.transaction(
            false,
            |db| {
                let ctx = ErrCtx {
                    table: Some(&self.t),
                    schema: Some(&db.schema),
                    row,
                    delete,
                };
                self.checks.install(db).map_err(sql_err)?;
                let texts = if self.embed {
                    let raw = db.query_values_ctx(sql, params, &ctx)?;
                    self.checks.remove(db).map_err(sql_err)?;
                    self.render_embedded(db, &raw)?
                } else {
                    let r = db.query_rows_ctx(sql, params, &self.proj, &ctx, false)?;
                    self.checks.remove(db).map_err(sql_err)?;
                    r.texts
                };
                check_single(self.media, texts.len())?;
                if max_affected {
                    check_max_affected(&self.prefs, texts.len())?;
                }
                Ok(texts)
            },
            sql_err,
        )
    }

    /// The texts of written rows (`raw`) under an embedding select: rendered only when the
    /// caller asked for the representation (the count is all other responses use).
    fn render_embedded(&self, db: &Db, raw: &[Vec<Value>]) -> Result<Vec<String>, ApiError> {
        if self.prefs.ret == Some(Return::Representation) {
            embedded_representation(db, &self.t, &self.q, raw)
        } else {
            Ok(vec![String::new(); raw.len()])
        }
    }

    /// The response of PATCH, DELETE and PUT: 200 with a representation, else 204.
    fn respond(&self, texts: Vec<String>, range: String) -> Response<Bytes> {
        respond(Written {
            prefs: &self.prefs,
            media: self.media,
            texts,
            status_body: 200,
            status_empty: 204,
            range,
            location: None,
        })
    }
}

/// The body of a PATCH or PUT: one object, or an array holding exactly one object.
fn single_object(body: &Bytes) -> Result<Map<String, Json>, ApiError> {
    match parse_body(body)? {
        Json::Object(m) => Ok(m),
        Json::Array(mut items) if items.len() == 1 && items[0].is_object() => match items.remove(0)
        {
            Json::Object(m) => Ok(m),
            _ => Err(invalid_json()),
        },
        _ => Err(invalid_json()),
    }
}

/// The columns of `cols` that `row` writes, and their values: a key missing from `row` is NULL,
/// or left out (to take its default) under `missing=default`. An unknown column is PGRST204.
fn row_values<'c>(
    t: &Table,
    cols: &'c [String],
    row: &Map<String, Json>,
    missing_default: bool,
) -> Result<(Vec<&'c str>, Vec<Value>), ApiError> {
    let mut names = Vec::new();
    let mut params = Vec::new();
    for c in cols {
        let col = t.column(c).ok_or_else(|| t.unknown_column(c))?;
        match row.get(c) {
            Some(v) => params.push(col.kind.from_json(v)?),
            None if missing_default => continue,
            None => params.push(Value::Null),
        }
        names.push(c.as_str());
    }
    Ok((names, params))
}

/// `Location: /t?pk=eq.v` for headers-only inserts.
fn location(t: &Table, row: &Map<String, Json>) -> Option<String> {
    let pk = t.pk();
    if pk.is_empty() {
        return None;
    }
    let parts: Vec<String> = pk
        .iter()
        .map(|c| {
            let v = match row.get(&c.name) {
                Some(Json::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            };
            format!("{}=eq.{}", c.name, v)
        })
        .collect();
    Some(format!("/{}?{}", t.name, parts.join("&")))
}

/// POST: insert one object or an array; upsert with `Prefer: resolution=...`.
pub fn insert(db: &mut Db, table: &str, q: &Query, headers: &HeaderMap, body: &Bytes) -> Out {
    let mut target = Target::resolve(db, table, q, headers, true)?;
    let returning = target.prefs.ret.is_some_and(|r| r != Return::Minimal);
    let mut privileges = vec![Privilege::Insert];
    if target.prefs.merge == Some(true) {
        privileges.push(Privilege::Update);
    }
    if returning || target.prefs.merge.is_some() {
        privileges.push(Privilege::Select);
    }
    let kind = match target.prefs.merge {
        Some(true) => Write::Upsert,
        Some(false) => Write::InsertIgnore { returning },
        None => Write::Insert { returning },
    };
    target.guard(db, &privileges, Some(kind))?;
    let payload = parse_body(body)?;
    let rows: Vec<Map<String, Json>> = match payload {
        Json::Object(m) => vec![m],
        Json::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Json::Object(m) => Ok(m),
                _ => Err(invalid_json()),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(invalid_json()),
    };
    let Target {
        media,
        ref prefs,
        ref t,
        ref proj,
        embed,
        ref checks,
        ..
    } = target;
    let written = &target;
    let cols: Vec<String> = match &q.columns {
        Some(c) => c.clone(),
        None => {
            let first: Vec<String> = rows
                .first()
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default();
            for r in &rows[1.min(rows.len())..] {
                if r.len() != first.len() || !first.iter().all(|k| r.contains_key(k)) {
                    return Err(ApiError::new(400, "PGRST102", "All object keys must match"));
                }
            }
            first
        }
    };
    for c in &cols {
        if t.column(c).is_none() {
            return Err(t.unknown_column(c));
        }
    }
    let target: Vec<String> = match &q.on_conflict {
        Some(c) => c.clone(),
        None => t.pk().iter().map(|c| c.name.clone()).collect(),
    };
    if prefs.merge.is_some() {
        for c in &target {
            if t.column(c).is_none() {
                return Err(t.undefined_column(c));
            }
        }
    }
    let ((texts, maps, inserted), changes) = db.transaction(
        false,
        |db| {
            let mut texts = Vec::new();
            let mut maps: Vec<Map<String, Json>> = Vec::new();
            let mut raw = Vec::new();
            let mut seen_keys = std::collections::BTreeSet::new();
            checks.install(db).map_err(sql_err)?;
            for row in &rows {
                let (names, params) = row_values(t, &cols, row, prefs.missing_default)?;
                let names: Vec<String> = names.into_iter().map(ident).collect();
                if prefs.merge == Some(true) {
                    let key: Vec<String> = target.iter().map(|c| row.get(c).map(Json::to_string).unwrap_or_default()).collect();
                    if target.iter().all(|c| row.get(c).is_some_and(|v| !v.is_null())) && !seen_keys.insert(key) {
                        return Err(crate::sqlerr::pg("21000", "ON CONFLICT DO UPDATE command cannot affect row a second time")
                            .hint("Ensure that no rows proposed for insertion within the same command have duplicate constrained values."));
                    }
                }
                let mut s = if names.is_empty() {
                    format!("INSERT INTO {} DEFAULT VALUES", ident(&t.name))
                } else {
                    let marks = vec!["?"; names.len()].join(", ");
                    format!("INSERT INTO {} ({}) VALUES ({marks})", ident(&t.name), names.join(", "))
                };
                if let Some(merge) = prefs.merge {
                    if names.is_empty() {
                        s = format!("INSERT INTO {} DEFAULT VALUES", ident(&t.name));
                    } else {
                        let tgt: Vec<String> = target.iter().map(|c| ident(c)).collect();
                        let sets: Vec<String> = names.iter().map(|n| format!("{n} = excluded.{n}")).collect();
                        if merge && !sets.is_empty() {
                            s.push_str(&format!(" ON CONFLICT ({}) DO UPDATE SET {}", tgt.join(", "), sets.join(", ")));
                        } else {
                            s.push_str(&format!(" ON CONFLICT ({}) DO NOTHING", tgt.join(", ")));
                        }
                    }
                }
                s.push_str(&format!(" RETURNING {}", proj.sql));
                let ctx = ErrCtx { table: Some(t), schema: Some(&db.schema), row: Some(row), delete: false };
                if embed {
                    for r in db.query_values_ctx(&s, &params, &ctx)? {
                        maps.push(t.columns.iter().zip(&r).map(|(c, v)| (c.name.clone(), c.kind.to_json(v.into()))).collect());
                        raw.push(r);
                    }
                } else {
                    let r = db.query_rows_ctx(&s, &params, proj, &ctx, true)?;
                    texts.extend(r.texts);
                    maps.extend(r.maps);
                }
            }
            checks.remove(db).map_err(sql_err)?;
            if embed {
                texts = written.render_embedded(db, &raw)?;
            }
            let inserted = db.pending_events(&t.name, "INSERT");
            check_single(media, texts.len())?;
            Ok((texts, maps, inserted))
        },
        sql_err,
    )?;
    let n = texts.len();
    let status = if prefs.merge.is_some() && inserted == 0 && n > 0 {
        200
    } else {
        201
    };
    let range = match prefs.count {
        Some(_) => format!("*/{n}"),
        None => "*/*".to_string(),
    };
    let loc = maps.first().and_then(|m| location(t, m));
    let resp = respond(Written {
        prefs,
        media,
        texts,
        status_body: status,
        status_empty: status,
        range,
        location: loc,
    });
    Ok((resp, changes))
}

/// PATCH: update the filtered rows (a filter is required, as Supabase's safeupdate demands).
pub fn update(db: &mut Db, table: &str, q: &Query, headers: &HeaderMap, body: &Bytes) -> Out {
    let mut w = Target::resolve(db, table, q, headers, true)?;
    let obj = single_object(body)?;
    let keys: Vec<String> = match &q.columns {
        Some(c) => c.clone(),
        None => obj.keys().cloned().collect(),
    };
    let (names, mut params) = row_values(&w.t, &keys, &obj, w.prefs.missing_default)?;
    let sets: Vec<String> = names.iter().map(|k| format!("{} = ?", ident(k))).collect();
    let wh = sql::where_clause(&w.t, &q.filters, &mut params)?;
    let Some(wh) = wh else {
        return Err(crate::sqlerr::pg("21000", "UPDATE requires a WHERE clause"));
    };
    w.guard(
        db,
        &[Privilege::Update, Privilege::Select],
        Some(Write::Update),
    )?;
    let wh = with_filter(wh, rls::write_filter(db, &w.t, Cmd::Update)?);
    let (texts, changes) = if sets.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let s = format!(
            "UPDATE {} SET {} WHERE {wh} RETURNING {}",
            ident(&w.t.name),
            sets.join(", "),
            w.proj.sql
        );
        w.returning(db, &s, &params, Some(&obj), false, true)?
    };
    let n = texts.len();
    let total = w.prefs.count.map_or("*".to_string(), |_| n.to_string());
    let range = if n == 0 {
        format!("*/{total}")
    } else {
        format!("0-{}/{total}", n - 1)
    };
    Ok((w.respond(texts, range), changes))
}

/// DELETE: delete the filtered rows (a filter is required).
pub fn delete(db: &mut Db, table: &str, q: &Query, headers: &HeaderMap) -> Out {
    let mut w = Target::resolve(db, table, q, headers, false)?;
    let mut params: Vec<Value> = Vec::new();
    let Some(wh) = sql::where_clause(&w.t, &q.filters, &mut params)? else {
        return Err(crate::sqlerr::pg("21000", "DELETE requires a WHERE clause"));
    };
    w.guard(db, &[Privilege::Delete, Privilege::Select], None)?;
    let wh = with_filter(wh, rls::write_filter(db, &w.t, Cmd::Delete)?);
    let s = format!(
        "DELETE FROM {} WHERE {wh} RETURNING {}",
        ident(&w.t.name),
        w.proj.sql
    );
    let (texts, changes) = w.returning(db, &s, &params, None, true, true)?;
    let n = texts.len();
    let range = format!(
        "*/{}",
        w.prefs.count.map_or("*".to_string(), |_| n.to_string())
    );
    Ok((w.respond(texts, range), changes))
}

/// PUT: single-row upsert addressed by `eq` filters on every primary-key column.
pub fn put(db: &mut Db, table: &str, q: &Query, headers: &HeaderMap, body: &Bytes) -> Out {
    use crate::query::ast::{CmpOp, Filter, Op};
    let mut w = Target::resolve(db, table, q, headers, true)?;
    if q.limit.is_some() || q.offset.is_some() {
        return Err(ApiError::new(
            400,
            "PGRST114",
            "limit/offset querystring parameters are not allowed for PUT",
        ));
    }
    let pk: Vec<String> = w.t.pk().iter().map(|c| c.name.clone()).collect();
    let mut keys: Vec<(String, String)> = Vec::new();
    for f in &q.filters {
        match f {
            Filter::Cond {
                field,
                negate: false,
                op: Op::Cmp(CmpOp::Eq, v),
            } if field.path.is_empty() => {
                keys.push((field.name.clone(), v.clone()));
            }
            _ => keys.push((String::new(), String::new())),
        }
    }
    let mut names: Vec<&String> = keys.iter().map(|(k, _)| k).collect();
    names.sort();
    let mut want: Vec<&String> = pk.iter().collect();
    want.sort();
    if pk.is_empty() || names != want {
        return Err(ApiError::new(
            405,
            "PGRST105",
            "Filters must include all and only primary key columns with 'eq' operators",
        ));
    }
    let row = single_object(body)?;
    w.guard(
        db,
        &[Privilege::Insert, Privilege::Update, Privilege::Select],
        Some(Write::Upsert),
    )?;
    let t = &w.t;
    for k in row.keys() {
        if t.column(k).is_none() {
            return Err(t.unknown_column(k));
        }
    }
    if t.columns.iter().any(|c| !row.contains_key(&c.name)) {
        return Err(ApiError::new(
            400,
            "PGRST102",
            "You must specify all columns in the payload when using PUT",
        ));
    }
    let mut params = Vec::new();
    for c in &t.columns {
        params.push(c.kind.from_json(&row[&c.name])?);
    }
    for (k, v) in &keys {
        let col = t.column(k).ok_or_else(|| t.undefined_column(k))?;
        if col.kind.from_text(v)? != col.kind.from_json(&row[k])? {
            return Err(ApiError::new(
                400,
                "PGRST115",
                "Payload values do not match URL in primary key column(s)",
            ));
        }
    }
    let cols: Vec<String> = t.columns.iter().map(|c| ident(&c.name)).collect();
    let sets: Vec<String> = cols.iter().map(|c| format!("{c} = excluded.{c}")).collect();
    let tgt: Vec<String> = pk.iter().map(|c| ident(c)).collect();
    let s = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {} RETURNING {}",
        ident(&t.name),
        cols.join(", "),
        vec!["?"; cols.len()].join(", "),
        tgt.join(", "),
        sets.join(", "),
        w.proj.sql
    );
    let (texts, changes) = w.returning(db, &s, &params, Some(&row), false, false)?;
    Ok((w.respond(texts, "*/*".into()), changes))
}
