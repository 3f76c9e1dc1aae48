//! Parsing a PostgREST query string into select, filters, order and paging.

pub mod ast;
mod cursor;
mod field;
pub mod filter;
pub mod order;
pub mod select;

use crate::errors::ApiError;
use ast::{Field, Filter, OrderTerm, SelectItem};
use percent_encoding::percent_decode_str;

/// A parsed query string.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// `select=` items; `None` means `*`.
    pub select: Option<Vec<SelectItem>>,
    /// Filters, AND-ed.
    pub filters: Vec<Filter>,
    /// `order=` terms.
    pub order: Vec<OrderTerm>,
    /// `limit=`.
    pub limit: Option<u64>,
    /// `offset=`.
    pub offset: Option<u64>,
    /// `columns=`.
    pub columns: Option<Vec<String>>,
    /// `on_conflict=`.
    pub on_conflict: Option<Vec<String>>,
    /// An embedded resource named in `select` (answered with PGRST200).
    pub embed: Option<String>,
}

/// Splits and decodes a query string (`+` is a space, `%XX` escapes), keeping order.
pub fn decode_pairs(qs: &str) -> Vec<(String, String)> {
    qs.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn parse_count(key: &str, v: &str) -> Result<u64, ApiError> {
    v.trim().parse::<u64>().map_err(|_| {
        let bad = v.chars().find(|c| !c.is_ascii_digit()).unwrap_or(' ');
        ApiError::parse(
            &format!("{key} parameter ({v})"),
            1,
            format!("unexpected \"{bad}\" expecting digit"),
        )
    })
}

/// Parses decoded query pairs (the gateway's `apikey` already removed).
pub fn parse_query(pairs: &[(String, String)]) -> Result<Query, ApiError> {
    let mut q = Query::default();
    for (k, v) in pairs {
        match k.as_str() {
            "select" => match select::parse_select(v)? {
                Ok(items) => q.select = Some(items),
                Err(select::Embed(name)) => q.embed = Some(name),
            },
            "order" => q.order = order::parse_order(v)?,
            "limit" => q.limit = Some(parse_count("limit", v)?),
            "offset" => q.offset = Some(parse_count("offset", v)?),
            "columns" => q.columns = Some(select::parse_columns(v)?),
            "on_conflict" => q.on_conflict = Some(select::parse_columns(v)?),
            "or" | "and" | "not.or" | "not.and" => {
                let negate = k.starts_with("not.");
                let and = k.ends_with("and");
                q.filters.push(filter::parse_logic(negate, and, v)?);
            }
            _ => {
                let f = parse_key(k)?;
                q.filters.push(filter::parse_filter(f, v)?);
            }
        }
    }
    Ok(q)
}

/// A filter key: a field, or `rel.col` which names an embedded resource (PGRST108).
fn parse_key(k: &str) -> Result<Field, ApiError> {
    let mut c = cursor::Cursor::new(k, format!("filter ({k})"));
    let f = field::field(&mut c)?;
    if c.peek() == Some('.') {
        let rel = f.name;
        return Err(ApiError::new(
            400,
            "PGRST108",
            format!("'{rel}' is not an embedded resource in this request"),
        )
        .hint(format!(
            "Verify that '{rel}' is included in the select query parameter."
        )));
    }
    if !c.at_end() {
        return Err(c.error("end of input"));
    }
    Ok(f)
}
