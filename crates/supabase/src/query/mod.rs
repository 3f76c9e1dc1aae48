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
use std::collections::BTreeMap;

/// Parameters addressed to an embedded resource: `rel.col=eq.x`, `rel.or=(...)`,
/// `rel.order=col`, `rel.limit=n`, `rel.offset=n` (`a.b.col` for nested resources).
#[derive(Clone, Debug, Default)]
pub struct EmbedParams {
    /// Filters on the embedded rows, AND-ed.
    pub filters: Vec<Filter>,
    /// Order of the embedded rows.
    pub order: Vec<OrderTerm>,
    /// `rel.limit=`.
    pub limit: Option<u64>,
    /// `rel.offset=`.
    pub offset: Option<u64>,
}

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
    /// Parameters of embedded resources, by embedding path (aliases or names).
    pub embedded: BTreeMap<Vec<String>, EmbedParams>,
}

impl Query {
    /// Whether `select` embeds any resource.
    pub fn has_embeds(&self) -> bool {
        self.select
            .as_deref()
            .is_some_and(|s| s.iter().any(|i| matches!(i, SelectItem::Embed(_))))
    }
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
            "select" => q.select = Some(select::parse_select(v)?),
            "columns" => q.columns = Some(select::parse_columns(v)?),
            "on_conflict" => q.on_conflict = Some(select::parse_columns(v)?),
            _ => {
                let (path, key) = parse_key(k)?;
                if path.is_empty() {
                    root_param(&mut q, key, v)?;
                } else {
                    embed_param(q.embedded.entry(path).or_default(), key, v)?;
                }
            }
        }
    }
    Ok(q)
}

/// The last part of a query key after its embedding path.
enum Key {
    /// `order`, `limit`, `offset`.
    Reserved(&'static str),
    /// `or`, `and`, `not.or`, `not.and`.
    Logic { negate: bool, and: bool },
    /// A column filter.
    Field(Field),
}

fn root_param(q: &mut Query, key: Key, v: &str) -> Result<(), ApiError> {
    match key {
        Key::Reserved("order") => q.order = order::parse_order(v)?,
        Key::Reserved("limit") => q.limit = Some(parse_count("limit", v)?),
        Key::Reserved(_) => q.offset = Some(parse_count("offset", v)?),
        Key::Logic { negate, and } => q.filters.push(filter::parse_logic(negate, and, v)?),
        Key::Field(f) => q.filters.push(filter::parse_filter(f, v)?),
    }
    Ok(())
}

fn embed_param(p: &mut EmbedParams, key: Key, v: &str) -> Result<(), ApiError> {
    match key {
        Key::Reserved("order") => p.order = order::parse_order(v)?,
        Key::Reserved("limit") => p.limit = Some(parse_count("limit", v)?),
        Key::Reserved(_) => p.offset = Some(parse_count("offset", v)?),
        Key::Logic { negate, and } => p.filters.push(filter::parse_logic(negate, and, v)?),
        Key::Field(f) => p.filters.push(filter::parse_filter(f, v)?),
    }
    Ok(())
}

/// A query key: an optional embedding path (`a.b.`) and a column, `order`, `limit`, `offset`,
/// `or`, `and`, `not.or` or `not.and`.
fn parse_key(k: &str) -> Result<(Vec<String>, Key), ApiError> {
    let mut c = cursor::Cursor::new(k, format!("filter ({k})"));
    let mut parts = vec![field::field(&mut c)?];
    while c.eat(".") {
        parts.push(field::field(&mut c)?);
    }
    if !c.at_end() {
        return Err(c.error("end of input"));
    }
    let plain = |f: &Field| f.path.is_empty();
    let n = parts.len();
    let (path_len, key) = if n >= 2
        && plain(&parts[n - 2])
        && parts[n - 2].name == "not"
        && plain(&parts[n - 1])
        && matches!(parts[n - 1].name.as_str(), "or" | "and")
    {
        (
            n - 2,
            Key::Logic {
                negate: true,
                and: parts[n - 1].name == "and",
            },
        )
    } else {
        let last = parts.pop().unwrap_or(Field {
            name: String::new(),
            path: Vec::new(),
        });
        let key = match (last.path.is_empty(), last.name.as_str()) {
            (true, "order") => Key::Reserved("order"),
            (true, "limit") => Key::Reserved("limit"),
            (true, "offset") => Key::Reserved("offset"),
            (true, "or") => Key::Logic {
                negate: false,
                and: false,
            },
            (true, "and") => Key::Logic {
                negate: false,
                and: true,
            },
            _ => Key::Field(last),
        };
        (parts.len(), key)
    };
    parts.truncate(path_len);
    if let Some(bad) = parts.iter().find(|p| !p.path.is_empty()) {
        return Err(ApiError::parse(
            &format!("filter ({k})"),
            bad.name.chars().count() + 1,
            "unexpected \"-\" expecting \".\" or end of input",
        ));
    }
    Ok((parts.into_iter().map(|p| p.name).collect(), key))
}

/// PGRST108: a query parameter names an embedding that `select` does not have.
pub fn not_embedded(rel: &str) -> ApiError {
    ApiError::new(
        400,
        "PGRST108",
        format!("'{rel}' is not an embedded resource in this request"),
    )
    .hint(format!(
        "Verify that '{rel}' is included in the 'select' query parameter."
    ))
}
