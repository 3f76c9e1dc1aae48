//! Production's rules for what the Cache API stores and for how long, and how `match` answers
//! conditional and range requests. Pure functions of headers and the emulator's time, so they
//! are unit-tested here and replay exactly under simulation.
//!
//! What `put` stores (Cloudflare's documented behaviour; see `crates/js/README.md`, "Cache API"):
//! - `Cache-Control: no-store`, `private` (without field names) and `no-cache` (without field
//!   names: the entry would have to be revalidated, which the Cache API never does) are not
//!   stored.
//! - A response with `Set-Cookie` is not stored, unless `Cache-Control: private=Set-Cookie`
//!   (or `no-cache=Set-Cookie`) names it: then it is stored without its `Set-Cookie` headers.
//!   Other field names in `private=`/`no-cache=` are stripped the same way.
//! - The time to live: `s-maxage`, else `max-age`, else `Expires` (against the emulator's
//!   clock), else the Edge TTL default for the status (200, 206, 301: 120 minutes; 302, 303:
//!   20 minutes; 404, 410: 3 minutes; any other status: not stored). A TTL of zero (or an
//!   invalid `max-age`, or an `Expires` in the past or unparsable) is not stored.
//! - Bodies over 512 MB (the per-object limit of the Free, Pro and Business plans) are not
//!   stored; like every other refusal, the put still resolves (the cache answers 413 and
//!   workerd does not throw).

use std::time::Duration;

/// The largest object the cache stores (512 MB, the Free/Pro/Business per-file limit).
pub const MAX_OBJECT_BYTES: usize = 512 * 1024 * 1024;

/// The Edge TTL Cloudflare applies when a response has neither `Cache-Control` freshness nor
/// `Expires`, by status; `None` for statuses it does not cache by default.
pub fn default_edge_ttl(status: u16) -> Option<Duration> {
    match status {
        200 | 206 | 301 => Some(Duration::from_secs(120 * 60)),
        302 | 303 => Some(Duration::from_secs(20 * 60)),
        404 | 410 => Some(Duration::from_secs(3 * 60)),
        _ => None,
    }
}

/// One `Cache-Control` directive: its lower-case name and its value (quotes removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The directive's name, lower case.
    pub name: String,
    /// Its argument, if it has one.
    pub value: Option<String>,
}

/// Parses `Cache-Control` values (several headers are joined with commas first). Commas inside
/// a quoted argument (`private="set-cookie, x-a"`) do not split directives.
pub fn parse_cache_control<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Directive> {
    let mut out = Vec::new();
    for value in values {
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        for c in value.chars() {
            match c {
                '"' => {
                    quoted = !quoted;
                    current.push(c);
                }
                ',' if !quoted => parts.push(std::mem::take(&mut current)),
                _ => current.push(c),
            }
        }
        parts.push(current);
        for part in parts {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (name, value) = match part.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"').to_string())),
                None => (part, None),
            };
            out.push(Directive {
                name: name.to_ascii_lowercase(),
                value,
            });
        }
    }
    out
}

/// What `put` decides for a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Stored for `ttl`, with these headers (fields named by `private=`/`no-cache=` removed).
    Store {
        /// How long the entry stays fresh.
        ttl: Duration,
        /// The headers to store.
        headers: Vec<(String, String)>,
    },
    /// Not stored, and why (shown in the host's events).
    Skip(String),
}

/// All values of header `name` (lower case) in `headers`.
fn values<'a>(headers: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A delta-seconds argument; `None` when it is missing or not a number (which makes the
/// response stale at once, as RFC 9111 says).
fn seconds(d: &Directive) -> Option<u64> {
    d.value.as_deref().and_then(|v| v.parse::<u64>().ok())
}

/// Whether `put` stores a response with `status`, `headers` and a body of `size` bytes at
/// `now_ms` (the emulator's clock, ms since the epoch), and for how long.
pub fn decide(status: u16, headers: &[(String, String)], size: usize, now_ms: u64) -> Decision {
    if size > MAX_OBJECT_BYTES {
        return Decision::Skip(format!(
            "the body is {size} bytes, over the 512 MB object limit"
        ));
    }
    let cc = parse_cache_control(values(headers, "cache-control"));
    let mut strip: Vec<String> = Vec::new();
    for d in &cc {
        match (d.name.as_str(), &d.value) {
            ("no-store", _) => return Decision::Skip("Cache-Control: no-store".into()),
            ("private", None) => return Decision::Skip("Cache-Control: private".into()),
            ("no-cache", None) => return Decision::Skip("Cache-Control: no-cache".into()),
            ("private" | "no-cache", Some(fields)) => strip.extend(
                fields
                    .split(',')
                    .map(|f| f.trim().to_ascii_lowercase())
                    .filter(|f| !f.is_empty()),
            ),
            _ => {}
        }
    }
    let kept: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| !strip.iter().any(|s| k.eq_ignore_ascii_case(s)))
        .cloned()
        .collect();
    if values(&kept, "set-cookie").next().is_some() {
        return Decision::Skip(
            "the response sets a cookie (Set-Cookie without Cache-Control: private=Set-Cookie)"
                .into(),
        );
    }
    let find = |name: &str| cc.iter().find(|d| d.name == name);
    let ttl = if let Some(d) = find("s-maxage") {
        seconds(d).map(Duration::from_secs)
    } else if let Some(d) = find("max-age") {
        seconds(d).map(Duration::from_secs)
    } else if let Some(expires) = values(headers, "expires").next() {
        Some(
            parse_http_date(expires)
                .map(|at| Duration::from_millis(at.saturating_sub(now_ms)))
                .unwrap_or_default(),
        )
    } else {
        match default_edge_ttl(status) {
            Some(ttl) => Some(ttl),
            None => {
                return Decision::Skip(format!(
                    "status {status} is not cached without Cache-Control or Expires"
                ));
            }
        }
    };
    match ttl {
        Some(ttl) if !ttl.is_zero() => Decision::Store { ttl, headers: kept },
        _ => Decision::Skip("already stale (a TTL of zero)".into()),
    }
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, the format HTTP dates are sent in)
/// to ms since the epoch. Other formats are `None`, as in Miniflare.
pub fn parse_http_date(s: &str) -> Option<u64> {
    let s = s.trim();
    let (_, rest) = s.split_once(", ")?;
    let mut it = rest.split(' ');
    let day: u64 = it.next()?.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':');
    let h: u64 = hms.next()?.parse().ok()?;
    let m: u64 = hms.next()?.parse().ok()?;
    let sec: u64 = hms.next()?.parse().ok()?;
    if it.next()? != "GMT" || it.next().is_some() || day == 0 || day > 31 || h > 23 || m > 59 {
        return None;
    }
    if sec > 60 || year < 1970 {
        return None;
    }
    let days = days_from_civil(year, month, day as i64);
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + sec;
    Some(secs * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An entity tag without its weak prefix and quotes (`If-None-Match` compares weakly).
fn etag(v: &str) -> Option<&str> {
    let v = v.trim();
    let v = v.strip_prefix("W/").unwrap_or(v);
    v.strip_prefix('"')?.strip_suffix('"')
}

/// Whether a conditional `match` (request `If-None-Match` against the stored `ETag`, else
/// `If-Modified-Since` against `Last-Modified`) answers 304 Not Modified.
pub fn not_modified(request: &[(String, String)], stored: &[(String, String)]) -> bool {
    let stored_etag = values(stored, "etag").next().and_then(etag);
    if let (Some(inm), Some(tag)) = (values(request, "if-none-match").next(), stored_etag) {
        if inm.trim() == "*" {
            return true;
        }
        if inm.split(',').any(|t| etag(t) == Some(tag)) {
            return true;
        }
    }
    if let (Some(since), Some(modified)) = (
        values(request, "if-modified-since").next(),
        values(stored, "last-modified").next(),
    ) && let (Some(since), Some(modified)) = (parse_http_date(since), parse_http_date(modified))
    {
        return modified <= since;
    }
    false
}

/// A `Range: bytes=...` request header against a body of `size` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Range {
    /// No range (or one this model does not serve as a range: several ranges, another unit):
    /// the whole body.
    Whole,
    /// Bytes `start..=end`.
    Part {
        /// First byte.
        start: usize,
        /// Last byte (inclusive).
        end: usize,
    },
    /// 416 Range Not Satisfiable.
    Unsatisfiable,
}

/// Parses a single-range `Range` header (`bytes=0-99`, `bytes=100-`, `bytes=-50`).
pub fn range(header: Option<&str>, size: usize) -> Range {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Range::Whole;
    };
    if spec.contains(',') {
        return Range::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Range::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let parsed = match (a.is_empty(), b.is_empty()) {
        (true, true) => return Range::Whole,
        (true, false) => match b.parse::<usize>() {
            Ok(0) => return Range::Unsatisfiable,
            Ok(n) => Some((size.saturating_sub(n), size.saturating_sub(1))),
            Err(_) => return Range::Whole,
        },
        (false, _) => {
            let Ok(start) = a.parse::<usize>() else {
                return Range::Whole;
            };
            let end = if b.is_empty() {
                size.saturating_sub(1)
            } else {
                match b.parse::<usize>() {
                    Ok(e) if e >= start => e.min(size.saturating_sub(1)),
                    _ => return Range::Whole,
                }
            };
            Some((start, end))
        }
    };
    match parsed {
        Some((start, end)) if start < size && size > 0 => Range::Part { start, end },
        _ => Range::Unsatisfiable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const NOW: u64 = 1_700_000_000_000;

    fn ttl(status: u16, headers: &[(&str, &str)]) -> Option<u64> {
        match decide(status, &h(headers), 10, NOW) {
            Decision::Store { ttl, .. } => Some(ttl.as_secs()),
            Decision::Skip(_) => None,
        }
    }

    #[test]
    fn s_maxage_wins_over_max_age_which_wins_over_expires() {
        let exp = "Tue, 14 Nov 2023 22:30:00 GMT"; // NOW + 1000 s
        assert_eq!(parse_http_date(exp), Some(NOW + 1_000_000));
        assert_eq!(
            ttl(200, &[("cache-control", "max-age=60, s-maxage=300")]),
            Some(300)
        );
        assert_eq!(
            ttl(
                200,
                &[("cache-control", "public, max-age=60"), ("expires", exp)]
            ),
            Some(60)
        );
        assert_eq!(ttl(200, &[("expires", exp)]), Some(1000));
        assert_eq!(ttl(200, &[("Cache-Control", "S-MAXAGE=5")]), Some(5));
    }

    #[test]
    fn without_freshness_the_edge_ttl_defaults_apply_by_status() {
        assert_eq!(ttl(200, &[]), Some(7200));
        assert_eq!(ttl(301, &[]), Some(7200));
        assert_eq!(ttl(302, &[]), Some(1200));
        assert_eq!(ttl(404, &[]), Some(180));
        assert_eq!(ttl(500, &[]), None);
        assert_eq!(ttl(201, &[]), None);
        // Explicit freshness caches any status.
        assert_eq!(ttl(500, &[("cache-control", "max-age=10")]), Some(10));
    }

    #[test]
    fn private_no_store_no_cache_and_stale_responses_are_not_stored() {
        for cc in [
            "private",
            "no-store",
            "no-cache",
            "max-age=0",
            "s-maxage=0, max-age=60",
            "max-age=abc",
            "public, private, max-age=60",
        ] {
            assert_eq!(ttl(200, &[("cache-control", cc)]), None, "{cc}");
        }
        assert_eq!(
            ttl(200, &[("expires", "Thu, 01 Jan 1970 00:00:00 GMT")]),
            None
        );
        assert_eq!(ttl(200, &[("expires", "0")]), None);
        assert!(matches!(
            decide(200, &[], MAX_OBJECT_BYTES + 1, NOW),
            Decision::Skip(_)
        ));
    }

    #[test]
    fn set_cookie_is_stored_only_when_private_names_it_and_then_stripped() {
        assert_eq!(ttl(200, &[("set-cookie", "a=1")]), None);
        let headers = h(&[
            (
                "cache-control",
                "max-age=60, private=\"Set-Cookie, X-Secret\"",
            ),
            ("Set-Cookie", "a=1"),
            ("x-secret", "s"),
            ("content-type", "text/plain"),
        ]);
        match decide(200, &headers, 1, NOW) {
            Decision::Store { ttl, headers } => {
                assert_eq!(ttl.as_secs(), 60);
                let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
                assert_eq!(names, ["cache-control", "content-type"]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            ttl(
                200,
                &[
                    ("cache-control", "no-cache=set-cookie"),
                    ("set-cookie", "a")
                ]
            ),
            Some(7200)
        );
    }

    #[test]
    fn cache_control_parsing_keeps_quoted_commas() {
        let d = parse_cache_control(["public, max-age=5", "private=\"a, b\""]);
        assert_eq!(d.len(), 3);
        assert_eq!(d[1].value.as_deref(), Some("5"));
        assert_eq!(d[2].value.as_deref(), Some("a, b"));
    }

    #[test]
    fn conditional_requests() {
        let stored = h(&[
            ("etag", "\"v1\""),
            ("last-modified", "Tue, 14 Nov 2023 22:00:00 GMT"),
        ]);
        assert!(not_modified(&h(&[("if-none-match", "\"v1\"")]), &stored));
        assert!(not_modified(&h(&[("if-none-match", "W/\"v1\"")]), &stored));
        assert!(not_modified(
            &h(&[("if-none-match", "\"x\", \"v1\"")]),
            &stored
        ));
        assert!(not_modified(&h(&[("if-none-match", "*")]), &stored));
        assert!(!not_modified(&h(&[("if-none-match", "\"v2\"")]), &stored));
        assert!(not_modified(
            &h(&[("if-modified-since", "Tue, 14 Nov 2023 22:00:00 GMT")]),
            &stored
        ));
        assert!(!not_modified(
            &h(&[("if-modified-since", "Tue, 14 Nov 2023 21:59:59 GMT")]),
            &stored
        ));
        assert!(!not_modified(&[], &stored));
    }

    #[test]
    fn ranges() {
        assert_eq!(range(None, 10), Range::Whole);
        assert_eq!(
            range(Some("bytes=0-3"), 10),
            Range::Part { start: 0, end: 3 }
        );
        assert_eq!(
            range(Some("bytes=5-"), 10),
            Range::Part { start: 5, end: 9 }
        );
        assert_eq!(
            range(Some("bytes=-3"), 10),
            Range::Part { start: 7, end: 9 }
        );
        assert_eq!(
            range(Some("bytes=8-100"), 10),
            Range::Part { start: 8, end: 9 }
        );
        assert_eq!(range(Some("bytes=10-"), 10), Range::Unsatisfiable);
        assert_eq!(range(Some("bytes=0-1,3-4"), 10), Range::Whole);
        assert_eq!(range(Some("items=0-1"), 10), Range::Whole);
    }

    #[test]
    fn http_dates() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("garbage"), None);
    }
}
