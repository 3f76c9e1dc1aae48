//! GET and HEAD: select, filters, order, paging, `Range`, counts and singular objects.

use super::prefer::{Media, parse_accept, parse_prefer};
use super::response::{self, JSON, OBJECT};
use crate::db::Db;
use crate::embed::plan;
use crate::embed::sqlgen::Gen;
use crate::errors::ApiError;
use crate::query::Query;
use crate::scope::Scope;
use crate::sql::Projection;
use bytes::Bytes;
use http::{HeaderMap, Response, header};
use rusqlite::types::Value;

/// A requested row window, inclusive `upper` (`None` = unbounded).
#[derive(Clone, Copy, Debug)]
struct Window {
    lower: u64,
    upper: Option<u64>,
}

fn header_range(headers: &HeaderMap) -> Result<Option<Window>, ApiError> {
    let Some(r) = headers.get("range").and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let spec = r.trim().strip_prefix("items=").unwrap_or(r.trim());
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let Ok(lower) = a.trim().parse::<u64>() else {
        return Ok(None);
    };
    let upper = match b.trim() {
        "" => None,
        s => match s.parse::<u64>() {
            Ok(u) => Some(u),
            Err(_) => return Ok(None),
        },
    };
    if upper.is_some_and(|u| u < lower) {
        return Err(ApiError::new(416, "PGRST103", "Requested range not satisfiable").details(
            "The lower boundary must be lower than or equal to the upper boundary in the Range header.",
        ));
    }
    Ok(Some(Window { lower, upper }))
}

/// The rows to return: `limit`/`offset` and `Range`, capped at `max_rows` (`[api] max_rows`).
fn window(q: &Query, headers: &HeaderMap, max_rows: u64) -> Result<(Window, u64), ApiError> {
    let mut w = Window {
        lower: q.offset.unwrap_or(0),
        upper: None,
    };
    if let Some(l) = q.limit.filter(|l| *l > 0) {
        w.upper = Some(w.lower.saturating_add(l - 1));
    }
    if let Some(h) = header_range(headers)? {
        let lower = w.lower.max(h.lower);
        let upper = match (w.upper, h.upper) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        w = Window { lower, upper };
    }
    let cap = w.lower.saturating_add(max_rows.max(1) - 1);
    w.upper = Some(w.upper.map_or(cap, |u| u.min(cap)));
    // Rows to fetch: `limit=0` asks for none.
    let count = match (q.limit, w.upper) {
        (Some(0), _) => 0,
        (_, Some(u)) if u >= w.lower => u - w.lower + 1,
        _ => 0,
    };
    Ok((w, count))
}

/// `Content-Range` for reads: `first-last/total`, `*/total` when nothing was returned.
pub fn content_range(lower: u64, n: usize, total: Option<u64>) -> String {
    let total_s = total.map_or("*".to_string(), |t| t.to_string());
    if n == 0 || total == Some(0) {
        format!("*/{total_s}")
    } else {
        format!("{lower}-{}/{total_s}", lower + n as u64 - 1)
    }
}

/// Serves GET (`head = false`) and HEAD; every table is read through `scope`.
pub fn read(
    db: &Db,
    table: &str,
    q: &Query,
    headers: &HeaderMap,
    head: bool,
    scope: &dyn Scope,
) -> Result<Response<Bytes>, ApiError> {
    let t = db.schema.table(table)?;
    read_from(db, t, q, headers, head, scope)
}

/// Serves a read of `t`'s rows as `scope` gives them (the table itself, or a function's
/// result rows for `rpc/<fn>`).
pub fn read_from(
    db: &Db,
    t: &crate::schema::Table,
    q: &Query,
    headers: &HeaderMap,
    head: bool,
    scope: &dyn Scope,
) -> Result<Response<Bytes>, ApiError> {
    let media = parse_accept(headers)?;
    let prefs = parse_prefer(headers)?;
    let root = plan::plan(&db.schema, t, q)?;
    let g = Gen {
        scope,
        max_rows: db.max_rows,
    };
    let proj = Projection::from_cols(g.out_cols(&root)?);
    let from = g.root_from(&root)?;
    let wh = g.where_sql(&root)?;
    let ord = g.order_sql(&root)?;
    let params: Vec<Value> = Vec::new();
    let (w, fetch) = window(q, headers, db.max_rows)?;
    let where_sql = wh.map(|w| format!(" WHERE {w}")).unwrap_or_default();
    let total = match prefs.count {
        Some(_) => {
            let s = format!("SELECT count(*) FROM {from}{where_sql}");
            Some(db.query_count(&s, &params, t)?)
        }
        None => None,
    };
    let limit = fetch.min(i64::MAX as u64) as i64;
    let mut s = format!("SELECT {} FROM {from}{where_sql}", proj.sql);
    if let Some(o) = ord {
        s.push_str(&format!(" ORDER BY {o}"));
    }
    s.push_str(&format!(
        " LIMIT {limit} OFFSET {}",
        w.lower.min(i64::MAX as u64)
    ));
    let rows = db.query_rows(&s, &params, &proj, t, media == Media::Csv)?;
    let n = rows.texts.len();
    if let Some(total) = total
        && w.lower > total
    {
        return Err(
            ApiError::new(416, "PGRST103", "Requested range not satisfiable").details(format!(
                "An offset of {} was requested, but there are only {total} rows.",
                w.lower
            )),
        );
    }
    let status = match total {
        Some(t) if (n as u64) < t => 206,
        _ => 200,
    };
    let (ctype, body) = match media {
        Media::Object => {
            if n != 1 {
                return Err(super::not_single(n));
            }
            (OBJECT, rows.texts[0].clone())
        }
        Media::Json => (JSON, response::array_text(&rows.texts)),
        Media::Csv => (
            "text/csv; charset=utf-8",
            response::csv_text(&proj, &rows.maps),
        ),
    };
    let mut b = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, ctype)
        .header("content-range", content_range(w.lower, n, total));
    if let Some(c) = prefs.count {
        b = b.header("preference-applied", format!("count={c}"));
    }
    let body = if head {
        Bytes::new()
    } else {
        Bytes::from(body)
    };
    Ok(b.body(body).unwrap_or_default())
}
