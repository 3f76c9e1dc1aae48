//! The `Prefer` request header (first occurrence of each preference wins) and `Accept`.

use crate::errors::ApiError;
use http::HeaderMap;

/// `return=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Return {
    /// No body (the default for writes).
    Minimal,
    /// No body, but a `Location` header.
    HeadersOnly,
    /// The affected rows in the body.
    Representation,
}

/// Parsed preferences.
#[derive(Clone, Debug, Default)]
pub struct Prefs {
    /// `return=`.
    pub ret: Option<Return>,
    /// `count=exact|planned|estimated` (all counted exactly here).
    pub count: Option<&'static str>,
    /// `resolution=merge-duplicates` (`Some(true)`) or `ignore-duplicates` (`Some(false)`).
    pub merge: Option<bool>,
    /// `missing=default`.
    pub missing_default: bool,
    /// `handling=strict`.
    pub strict: bool,
    /// `max-affected=N`.
    pub max_affected: Option<u64>,
    /// `tx=rollback`.
    pub rollback: bool,
    /// Applied preferences, in order, for `Preference-Applied`.
    pub applied: Vec<String>,
}

/// Parses every `Prefer` header.
pub fn parse_prefer(headers: &HeaderMap) -> Result<Prefs, ApiError> {
    let mut p = Prefs::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut invalid = Vec::new();
    for h in headers.get_all("prefer") {
        let Ok(s) = h.to_str() else { continue };
        for raw in s.split(',') {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let (k, v) = raw.split_once('=').unwrap_or((raw, ""));
            let (k, v) = (k.trim(), v.trim());
            if !seen.insert(k.to_string()) {
                continue;
            }
            let ok = match (k, v) {
                ("return", "minimal") => set(&mut p.ret, Return::Minimal),
                ("return", "headers-only") => set(&mut p.ret, Return::HeadersOnly),
                ("return", "representation") => set(&mut p.ret, Return::Representation),
                ("count", "exact") => set(&mut p.count, "exact"),
                ("count", "planned") => set(&mut p.count, "planned"),
                ("count", "estimated") => set(&mut p.count, "estimated"),
                ("resolution", "merge-duplicates") => set(&mut p.merge, true),
                ("resolution", "ignore-duplicates") => set(&mut p.merge, false),
                ("missing", "default") => {
                    p.missing_default = true;
                    true
                }
                ("missing", "null") => true,
                ("handling", "strict") => {
                    p.strict = true;
                    true
                }
                ("handling", "lenient") => true,
                ("max-affected", n) => n.parse().map(|n| p.max_affected = Some(n)).is_ok(),
                ("tx", "rollback") => {
                    p.rollback = true;
                    true
                }
                ("tx", "commit") => true,
                ("timezone", _) => true,
                _ => false,
            };
            if ok {
                p.applied.push(raw.to_string());
            } else {
                invalid.push(raw.to_string());
            }
        }
    }
    if p.strict && !invalid.is_empty() {
        return Err(ApiError::new(
            400,
            "PGRST122",
            "Invalid preferences given with handling=strict",
        )
        .details(format!("Invalid preferences: {}", invalid.join(", "))));
    }
    Ok(p)
}

fn set<T>(slot: &mut Option<T>, v: T) -> bool {
    *slot = Some(v);
    true
}

/// The response media type chosen from `Accept`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/json` (also `*/*` and no header).
    Json,
    /// `application/vnd.pgrst.object+json`: exactly one row as an object.
    Object,
    /// `text/csv`.
    Csv,
}

/// A media type without its parameters, trimmed and lower-cased (`Application/JSON; x=1`
/// gives `application/json`).
pub(super) fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Picks the first acceptable media type, or 406 PGRST107.
pub fn parse_accept(headers: &HeaderMap) -> Result<Media, ApiError> {
    let Some(a) = headers.get("accept").and_then(|v| v.to_str().ok()) else {
        return Ok(Media::Json);
    };
    if a.trim().is_empty() {
        return Ok(Media::Json);
    }
    for part in a.split(',') {
        match essence(part).as_str() {
            "application/json" | "*/*" | "application/*" => return Ok(Media::Json),
            "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object" => {
                return Ok(Media::Object);
            }
            "text/csv" | "text/*" => return Ok(Media::Csv),
            _ => {}
        }
    }
    Err(ApiError::new(
        406,
        "PGRST107",
        format!("None of these media types are available: {a}"),
    ))
}
