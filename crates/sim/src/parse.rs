//! Reading an event log back from its text form ([`crate::events::render_text`], what
//! `edgesim run --events` writes), so a history recorded elsewhere can be checked.

use crate::events::{Event, EventKind, Origin, Served};
use std::sync::Arc;

/// A line that is not an event, with its 1-based number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses the text form: one event per line (blank lines are skipped).
pub fn parse_text(text: &str) -> Result<Vec<Event>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse_line(line).map_err(|message| ParseError {
            line: i + 1,
            message,
        })?);
    }
    Ok(out)
}

/// Splits `s` into words and Debug-quoted strings (unescaped).
fn tokens(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == ' ' {
            chars.next();
            continue;
        }
        if c == '"' {
            chars.next();
            let mut t = String::new();
            loop {
                match chars.next() {
                    None => return Err("unterminated string".into()),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some('n') => t.push('\n'),
                        Some('r') => t.push('\r'),
                        Some('t') => t.push('\t'),
                        Some('0') => t.push('\0'),
                        Some('u') => {
                            if chars.next() != Some('{') {
                                return Err("bad \\u escape".into());
                            }
                            let mut hex = String::new();
                            for h in chars.by_ref() {
                                if h == '}' {
                                    break;
                                }
                                hex.push(h);
                            }
                            let code = u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or("bad \\u escape")?;
                            t.push(code);
                        }
                        Some(other) => t.push(other),
                        None => return Err("unterminated string".into()),
                    },
                    Some(other) => t.push(other),
                }
            }
            out.push(t);
        } else {
            let mut t = String::new();
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                t.push(c);
                chars.next();
            }
            out.push(t);
        }
    }
    Ok(out)
}

fn field<'a>(t: &'a [String], i: usize, prefix: &str) -> Result<&'a str, String> {
    let tok = t
        .get(i)
        .ok_or_else(|| format!("missing field {i} ({prefix}...)"))?;
    tok.strip_prefix(prefix)
        .ok_or_else(|| format!("expected {prefix}..., got {tok:?}"))
}

/// The number after `prefix` in the first token from `from` on that starts with it (an optional
/// trailing field), `None` when no token does.
fn opt_field(t: &[String], from: usize, prefix: &str) -> Result<Option<u64>, String> {
    t.iter()
        .skip(from)
        .find_map(|tok| tok.strip_prefix(prefix))
        .map(num)
        .transpose()
}

fn num(s: &str) -> Result<u64, String> {
    s.parse().map_err(|_| format!("not a number: {s:?}"))
}

fn served(s: &str) -> Result<Served, String> {
    Ok(match s {
        "phantom" => Served::Phantom,
        "error" => Served::Error,
        "-" => Served::Untracked,
        v => Served::Version(num(v.strip_prefix('v').ok_or("bad served")?)?),
    })
}

fn origin(s: &str) -> Result<Origin, String> {
    Ok(match s {
        "Workload" => Origin::Workload,
        "Probe" => Origin::Probe,
        "Webhook" => Origin::Webhook,
        "User" => Origin::User,
        o => return Err(format!("unknown origin {o:?}")),
    })
}

fn parse_line(line: &str) -> Result<Event, String> {
    let rest = line
        .strip_prefix("t=")
        .ok_or("expected t=<ms>")?
        .trim_start();
    let (t, rest) = rest.split_once(' ').ok_or("expected an event type")?;
    let t_ms = num(t)?;
    let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let t = tokens(rest)?;
    let a = |s: &str| -> Arc<str> { s.into() };
    let kind = match kind {
        "request_start" => EventKind::RequestStart {
            id: num(field(&t, 0, "id=")?)?,
            colo: a(field(&t, 1, "colo=")?),
            method: a(field(&t, 2, "")?),
            path: a(field(&t, 3, "")?),
            origin: origin(field(&t, 4, "origin=")?)?,
        },
        "request_end" => EventKind::RequestEnd {
            id: num(field(&t, 0, "id=")?)?,
            colo: a(field(&t, 1, "colo=")?),
            path: a(field(&t, 2, "")?),
            status: num(field(&t, 3, "status=")?)? as u16,
            body_hash: a(field(&t, 4, "body=")?),
            served: served(field(&t, 5, "served=")?)?,
        },
        "kv" => EventKind::Kv {
            colo: a(field(&t, 0, "colo=")?),
            op: a(field(&t, 1, "")?),
            key: a(field(&t, 2, "")?),
            version: match field(&t, 3, "version=")? {
                "-" => None,
                v => Some(num(v.strip_prefix('v').ok_or("bad version")?)?),
            },
            outcome: a(field(&t, 4, "")?),
            cache_ttl_s: opt_field(&t, 5, "cache_ttl_s=")?,
            expires_in_ms: opt_field(&t, 5, "expires_in_ms=")?,
        },
        "db_commit" => EventKind::DbCommit {
            version: num(field(&t, 0, "v")?)?,
            table: field(&t, 1, "")?.to_string(),
            op: field(&t, 2, "")?.to_string(),
            row_id: field(&t, 3, "id=")?.to_string(),
            row_hash: field(&t, 4, "row=")?.to_string(),
        },
        "webhook_sent" => EventKind::WebhookSent {
            delivery: num(field(&t, 0, "#")?)?,
            event: field(&t, 1, "")?.to_string(),
            row_id: field(&t, 2, "id=")?.to_string(),
            db_version: num(field(&t, 3, "db=v")?)?,
            deliver_at_ms: num(field(&t, 4, "at=")?)?,
        },
        "webhook_dropped" => EventKind::WebhookDropped {
            delivery: num(field(&t, 0, "#")?)?,
            row_id: field(&t, 1, "id=")?.to_string(),
        },
        "webhook_duplicated" => EventKind::WebhookDuplicated {
            delivery: num(field(&t, 0, "#")?)?,
            row_id: field(&t, 1, "id=")?.to_string(),
            deliver_at_ms: num(field(&t, 2, "at=")?)?,
        },
        "webhook_delivered" => EventKind::WebhookDelivered {
            delivery: num(field(&t, 0, "#")?)?,
            row_id: field(&t, 1, "id=")?.to_string(),
            colo: a(field(&t, 2, "colo=")?),
            status: num(field(&t, 3, "status=")?)? as u16,
        },
        "fault_start" => EventKind::FaultStart {
            fault: field(&t, 0, "")?.to_string(),
        },
        "fault_end" => EventKind::FaultEnd {
            fault: field(&t, 0, "")?.to_string(),
        },
        "upstream_fault" => EventKind::UpstreamFault {
            method: a(field(&t, 0, "")?),
            path: a(field(&t, 1, "")?),
            status: num(field(&t, 2, "status=")?)? as u16,
        },
        "scheduled" => EventKind::Scheduled {
            cron: field(&t, 0, "")?.to_string(),
            scheduled_ms: num(field(&t, 1, "at=")?)?,
            outcome: field(&t, 2, "outcome=")?.to_string(),
        },
        "note" => EventKind::Note {
            text: field(&t, 0, "")?.to_string(),
        },
        other => return Err(format!("unknown event type {other:?}")),
    };
    Ok(Event { t_ms, kind })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::render_text;

    #[test]
    fn the_text_form_reads_back_to_the_same_events() {
        let e = |t_ms, kind| Event { t_ms, kind };
        let events = vec![
            e(
                0,
                EventKind::RequestStart {
                    id: 1,
                    colo: "SYD".into(),
                    method: "GET".into(),
                    path: "/articles/1?x=\"y\"".into(),
                    origin: Origin::Workload,
                },
            ),
            e(
                5,
                EventKind::RequestEnd {
                    id: 1,
                    colo: "SYD".into(),
                    path: "/articles/1".into(),
                    status: 200,
                    body_hash: "abcd".into(),
                    served: Served::Version(3),
                },
            ),
            e(
                6,
                EventKind::Kv {
                    colo: "FRA".into(),
                    op: "put".into(),
                    key: "/articles".into(),
                    version: None,
                    outcome: "error: KV PUT failed: 429 Too Many Requests".into(),
                    cache_ttl_s: None,
                    expires_in_ms: None,
                },
            ),
            e(
                6,
                EventKind::Kv {
                    colo: "FRA".into(),
                    op: "get".into(),
                    key: "/articles/2".into(),
                    version: Some(3),
                    outcome: "hit".into(),
                    cache_ttl_s: Some(30),
                    expires_in_ms: None,
                },
            ),
            e(
                6,
                EventKind::Kv {
                    colo: "FRA".into(),
                    op: "put".into(),
                    key: "/articles/2".into(),
                    version: Some(4),
                    outcome: "ok".into(),
                    cache_ttl_s: None,
                    expires_in_ms: Some(119_994),
                },
            ),
            e(
                7,
                EventKind::DbCommit {
                    version: 4,
                    table: "articles".into(),
                    op: "UPDATE".into(),
                    row_id: "2".into(),
                    row_hash: "ff".into(),
                },
            ),
            e(
                8,
                EventKind::WebhookSent {
                    delivery: 1,
                    event: "UPDATE".into(),
                    row_id: "2".into(),
                    db_version: 4,
                    deliver_at_ms: 50,
                },
            ),
            e(
                9,
                EventKind::WebhookDropped {
                    delivery: 2,
                    row_id: "2".into(),
                },
            ),
            e(
                9,
                EventKind::WebhookDuplicated {
                    delivery: 3,
                    row_id: "2".into(),
                    deliver_at_ms: 90,
                },
            ),
            e(
                10,
                EventKind::WebhookDelivered {
                    delivery: 1,
                    row_id: "2".into(),
                    colo: "SYD".into(),
                    status: 200,
                },
            ),
            e(
                11,
                EventKind::FaultStart {
                    fault: "kv 429 p=0.5 on put of /articles/* at all colos".into(),
                },
            ),
            e(
                12,
                EventKind::FaultEnd {
                    fault: "partition SYD from KV central".into(),
                },
            ),
            e(
                13,
                EventKind::UpstreamFault {
                    method: "GET".into(),
                    path: "/rest/v1/articles".into(),
                    status: 503,
                },
            ),
            e(
                14,
                EventKind::Note {
                    text: "a \\ note\nwith \u{1} lines".into(),
                },
            ),
            e(
                14,
                EventKind::Scheduled {
                    cron: "*/5 * * * MON-FRI".into(),
                    scheduled_ms: 300_000,
                    outcome: "exceededCpu".into(),
                },
            ),
            e(
                15,
                EventKind::RequestEnd {
                    id: 2,
                    colo: "SYD".into(),
                    path: "/hello".into(),
                    status: 500,
                    body_hash: "00".into(),
                    served: Served::Untracked,
                },
            ),
        ];
        let text = render_text(&events);
        assert_eq!(parse_text(&text).unwrap(), events);
        // A kv line without the optional fields (as logs written before them) is unchanged.
        assert!(text.contains(
            "kv colo=FRA put \"/articles\" version=- \"error: KV PUT failed: 429 Too Many Requests\"\n"
        ));
        assert!(text.contains("\"hit\" cache_ttl_s=30\n"), "{text}");
        assert!(text.contains("\"ok\" expires_in_ms=119994\n"), "{text}");
        let err = parse_text("t=1 request_start id=x").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(parse_text("hello").is_err());
    }
}
