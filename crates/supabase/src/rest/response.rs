//! Building PostgREST responses: JSON bodies as Postgres prints them, CSV, errors.

use crate::errors::ApiError;
use crate::jsonb::jsonb_text;
use crate::sql::Projection;
use crate::types::Kind;
use bytes::Bytes;
use http::{Response, StatusCode, header};
use serde_json::Value;

/// `application/json; charset=utf-8`.
pub const JSON: &str = "application/json; charset=utf-8";
/// The singular-object media type.
pub const OBJECT: &str = "application/vnd.pgrst.object+json; charset=utf-8";

/// One row as `row_to_json` prints it: compact, column order, `jsonb` values in jsonb text form.
pub fn row_text(p: &Projection, row: &rusqlite::Row<'_>) -> rusqlite::Result<String> {
    let mut out = String::from("{");
    for (i, (name, kind)) in p.cols.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String(name.clone()).to_string());
        out.push(':');
        let v = kind.to_json(row.get_ref(i)?);
        match kind {
            Kind::Json("jsonb") => out.push_str(&jsonb_text(&v)),
            _ => out.push_str(&v.to_string()),
        }
    }
    out.push('}');
    Ok(out)
}

/// Rows as `json_agg` prints them: `[{...}, \n {...}]`.
pub fn array_text(rows: &[String]) -> String {
    format!("[{}]", rows.join(", \n "))
}

/// Rows as CSV with a header line (PostgREST's `text/csv`).
pub fn csv_text(p: &Projection, rows: &[serde_json::Map<String, Value>]) -> String {
    let esc = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = p
        .cols
        .iter()
        .map(|(n, _)| esc(n))
        .collect::<Vec<_>>()
        .join(",");
    for r in rows {
        out.push('\n');
        let cells: Vec<String> = p
            .cols
            .iter()
            .map(|(n, _)| match r.get(n) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => esc(s),
                Some(v) => esc(&v.to_string()),
            })
            .collect();
        out.push_str(&cells.join(","));
    }
    out
}

/// The PostgREST error response; HEAD gets no body but a `Proxy-Status` header.
pub fn error(e: &ApiError, head: bool) -> Response<Bytes> {
    let mut b = Response::builder()
        .status(e.status)
        .header(header::CONTENT_TYPE, JSON);
    if e.status == StatusCode::UNAUTHORIZED {
        b = b.header(header::WWW_AUTHENTICATE, "Bearer");
    }
    if head {
        b = b.header("proxy-status", format!("PostgREST; error={}", e.code));
    }
    let body = if head {
        Bytes::new()
    } else {
        Bytes::from(e.body().to_string())
    };
    b.body(body).unwrap_or_default()
}
