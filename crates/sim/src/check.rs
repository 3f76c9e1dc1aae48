//! Checkers over a finished run: safety (no phantoms), bounded staleness, and liveness (every
//! colo serves the current DB state once faults heal), each violation with a minimal witness.

use crate::events::{Event, EventKind, Served};
use crate::history::DbHistory;
use crate::track::{Resource, Tracker};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// What a run must satisfy, in virtual ms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expectations {
    /// Liveness bound after the last fault heals and the last write.
    pub converge_within_ms: u64,
    /// Optional bound on how long a superseded state may be served.
    pub max_staleness_ms: Option<u64>,
    /// Safety: every body equals some committed state.
    pub no_phantoms: bool,
}

/// Which property failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    /// A body equal to no committed DB state.
    Phantom,
    /// A superseded state served longer than `max_staleness`.
    Staleness,
    /// Not the current state (or an error) after `healed + converge_within`.
    Liveness,
}

/// A violated expectation and its minimal witness.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    /// The property.
    pub property: Property,
    /// The colo that served it.
    pub colo: String,
    /// The path requested.
    pub path: String,
    /// What it served (the offending request's classification).
    pub served: Served,
    /// The DB version current when it was served.
    pub current: u64,
    /// First time (virtual ms) this colo served this state of this path in the offending run.
    pub from_ms: u64,
    /// Last time it did.
    pub to_ms: u64,
    /// When the served state was superseded in the DB, if it was.
    pub superseded_ms: Option<u64>,
    /// The events that explain it: the commit(s) it missed and the faults that hit this key or colo.
    pub causes: Vec<Event>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.property {
            Property::Phantom => "served a phantom value",
            Property::Staleness => "served a stale value for too long",
            Property::Liveness => "did not converge",
        };
        write!(
            f,
            "{}: {} {} {what}: {} while the DB was at v{}, from t={} to t={}",
            self.property_name(),
            self.colo,
            self.path,
            self.served,
            self.current,
            ms(self.from_ms),
            ms(self.to_ms)
        )?;
        if let Some(s) = self.superseded_ms {
            write!(f, " (superseded at t={})", ms(s))?;
        }
        for c in &self.causes {
            write!(f, "\n    because: {c}")?;
        }
        Ok(())
    }
}

impl Violation {
    fn property_name(&self) -> &'static str {
        match self.property {
            Property::Phantom => "safety",
            Property::Staleness => "staleness",
            Property::Liveness => "liveness",
        }
    }
}

/// `12.345s`.
pub fn ms(t: u64) -> String {
    format!("{}.{:03}s", t / 1000, t % 1000)
}

struct Served1<'a> {
    t_start: u64,
    t_end: u64,
    colo: &'a str,
    path: &'a str,
    served: Served,
}

/// Runs every checker. `healed_ms`: when the last fault healed and the last write committed.
pub fn check(
    events: &[Event],
    history: &DbHistory,
    tracker: &Tracker,
    exp: &Expectations,
    healed_ms: u64,
) -> Vec<Violation> {
    let mut starts = BTreeMap::new();
    let mut served: Vec<Served1<'_>> = Vec::new();
    for e in events {
        match &e.kind {
            EventKind::RequestStart { id, .. } => {
                starts.insert(*id, e.t_ms);
            }
            EventKind::RequestEnd {
                id,
                colo,
                path,
                served: s,
                ..
            } if *s != Served::Untracked => served.push(Served1 {
                t_start: starts.get(id).copied().unwrap_or(e.t_ms),
                t_end: e.t_ms,
                colo,
                path,
                served: *s,
            }),
            _ => {}
        }
    }
    // One violation per (property, colo, path): the first offending request.
    let mut found: BTreeMap<(Property, &str, &str), Violation> = BTreeMap::new();
    let deadline = healed_ms + exp.converge_within_ms;
    for (i, r) in served.iter().enumerate() {
        let Some(res) = tracker.resource(r.path) else {
            continue;
        };
        let current = tracker.current_at(history, &res, r.t_end);
        let mut flag = |p: Property, sup: Option<u64>| {
            let key = (p, r.colo, r.path);
            found.entry(key).or_insert_with(|| {
                let (from_ms, to_ms) = run_bounds(&served, i);
                Violation {
                    property: p,
                    colo: r.colo.to_string(),
                    path: r.path.to_string(),
                    served: r.served,
                    current,
                    from_ms,
                    to_ms,
                    superseded_ms: sup,
                    causes: causes(events, tracker, &res, r.colo, r.path, r.served, sup),
                }
            });
        };
        match r.served {
            Served::Phantom if exp.no_phantoms => flag(Property::Phantom, None),
            Served::Version(v) if v != current => {
                let sup = tracker.superseded_at(history, &res, v);
                if let (Some(max), Some(s)) = (exp.max_staleness_ms, sup)
                    && r.t_end.saturating_sub(s) > max
                {
                    flag(Property::Staleness, sup);
                }
                if r.t_start >= deadline {
                    flag(Property::Liveness, sup);
                }
            }
            Served::Error if r.t_start >= deadline => flag(Property::Liveness, None),
            _ => {}
        }
    }
    found.into_values().collect()
}

/// The run of consecutive requests at the same colo and path serving the same thing around `i`.
fn run_bounds(served: &[Served1<'_>], i: usize) -> (u64, u64) {
    let r = &served[i];
    let same = |o: &Served1<'_>| o.colo == r.colo && o.path == r.path;
    let mut from = r.t_end;
    for o in served[..i].iter().rev().filter(|o| same(o)) {
        if o.served != r.served {
            break;
        }
        from = o.t_end;
    }
    let mut to = r.t_end;
    for o in served[i + 1..].iter().filter(|o| same(o)) {
        if o.served != r.served {
            break;
        }
        to = o.t_end;
    }
    (from, to)
}

/// The events that explain a bad read of `res` at `colo`: commits newer than what was served,
/// webhook trouble for that row, failed KV operations on that key, and faults at that colo.
fn causes(
    events: &[Event],
    tracker: &Tracker,
    res: &Resource,
    colo: &str,
    path: &str,
    served: Served,
    superseded: Option<u64>,
) -> Vec<Event> {
    // Before the served state was superseded nothing could make it stale.
    let since = superseded.unwrap_or(0);
    let served_v = match served {
        Served::Version(v) => v,
        _ => 0,
    };
    let row_matches = |id: &str| match res {
        Resource::List => true,
        Resource::Row(r) => r == id,
    };
    let mut out: Vec<Event> = events
        .iter()
        .filter(|e| match &e.kind {
            EventKind::FaultStart { .. } | EventKind::FaultEnd { .. } => true,
            _ => e.t_ms >= since,
        })
        .filter(|e| match &e.kind {
            EventKind::DbCommit {
                version, row_id, ..
            } => *version > served_v && row_matches(row_id),
            EventKind::WebhookDropped { row_id, .. } => row_matches(row_id),
            EventKind::WebhookDuplicated { row_id, .. } => row_matches(row_id),
            EventKind::WebhookSent { row_id, .. } | EventKind::WebhookDelivered { row_id, .. } => {
                row_matches(row_id)
            }
            EventKind::Kv {
                key, outcome, op, ..
            } => {
                (&**key == path || (matches!(res, Resource::List) && &**key == tracker.list_path()))
                    && &**op != "get"
                    && outcome.starts_with("error")
            }
            EventKind::FaultStart { fault } | EventKind::FaultEnd { fault } => {
                !fault.starts_with("partition") || fault.contains(colo)
            }
            EventKind::UpstreamFault { .. } => true,
            _ => false,
        })
        .cloned()
        .collect();
    // Keep the witness short: the first of each kind of upstream fault burst.
    let mut last_upstream = false;
    out.retain(|e| {
        let up = matches!(e.kind, EventKind::UpstreamFault { .. });
        let keep = !(up && last_upstream);
        last_upstream = up;
        keep
    });
    out.truncate(12);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Origin;
    use serde_json::json;

    fn ev(t_ms: u64, kind: EventKind) -> Event {
        Event { t_ms, kind }
    }

    fn req(id: u64, t: u64, colo: &str, path: &str, served: Served) -> [Event; 2] {
        [
            ev(
                t,
                EventKind::RequestStart {
                    id,
                    colo: colo.into(),
                    method: "GET".into(),
                    path: path.into(),
                    origin: Origin::Workload,
                },
            ),
            ev(
                t + 5,
                EventKind::RequestEnd {
                    id,
                    colo: colo.into(),
                    path: path.into(),
                    status: 200,
                    body_hash: "".into(),
                    served,
                },
            ),
        ]
    }

    #[test]
    fn finds_phantoms_staleness_and_non_convergence_with_witness() {
        let mut h = DbHistory::new("id", vec![json!({"id":1,"t":"a"})], 0);
        h.record(vec![json!({"id":1,"t":"b"})], 10_000);
        let tracker = Tracker::new("articles");
        let mut events = vec![
            ev(
                10_000,
                EventKind::DbCommit {
                    version: 1,
                    table: "articles".into(),
                    op: "UPDATE".into(),
                    row_id: "1".into(),
                    row_hash: String::new(),
                },
            ),
            ev(
                10_000,
                EventKind::WebhookDropped {
                    delivery: 1,
                    row_id: "1".into(),
                },
            ),
        ];
        events.extend(req(1, 1_000, "SYD", "/articles/1", Served::Version(0)));
        events.extend(req(2, 20_000, "SYD", "/articles/1", Served::Version(0)));
        events.extend(req(3, 90_000, "SYD", "/articles/1", Served::Version(0)));
        events.extend(req(4, 90_000, "FRA", "/articles/1", Served::Version(1)));
        events.extend(req(5, 30_000, "FRA", "/articles", Served::Phantom));
        events.sort_by_key(|e| e.t_ms);
        let exp = Expectations {
            converge_within_ms: 60_000,
            max_staleness_ms: Some(30_000),
            no_phantoms: true,
        };
        let v = check(&events, &h, &tracker, &exp, 10_000);
        let kinds: Vec<(Property, &str, &str)> = v
            .iter()
            .map(|v| (v.property, v.colo.as_str(), v.path.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (Property::Phantom, "FRA", "/articles"),
                (Property::Staleness, "SYD", "/articles/1"),
                (Property::Liveness, "SYD", "/articles/1"),
            ]
        );
        let live = &v[2];
        assert_eq!((live.from_ms, live.to_ms), (1_005, 90_005));
        assert_eq!(live.superseded_ms, Some(10_000));
        assert!(
            live.to_string().contains("webhook_dropped #1 id=1"),
            "{live}"
        );
        // A later bound, or no staleness limit and phantoms allowed: nothing to report.
        let lax = Expectations {
            converge_within_ms: 90_000,
            max_staleness_ms: None,
            no_phantoms: false,
        };
        assert!(check(&events, &h, &tracker, &lax, 10_000).is_empty());
    }
}
