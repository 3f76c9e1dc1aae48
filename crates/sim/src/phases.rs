//! The phases of a run and the staleness bounds that apply in them.
//!
//! A run splits into **fault-free stretches**, **fault windows** and the **healed phase** (after
//! the last fault closed and the last write settled). Fault windows come from the event log:
//! every KV, partition and Supabase fault window (`fault_start`/`fault_end`), and, for webhooks,
//! each delivery that a fault actually hit: a dropped one, a duplicated one, or one that arrived
//! later than the webhook latency (held back or scripted late). A window of *possible* random
//! webhook faults is not itself a fault: only the deliveries it hit are.
//!
//! A superseded state served in a fault-free stretch must be gone within the **fault-free
//! bound**: the read's cacheTtl + KV propagation + webhook latency (+ the Worker's own retry
//! budget and a few round trips of processing). Where a fault is active while the Worker should
//! have been catching up (from the supersession until the fault-free bound ran out; a fault
//! starting later cannot explain missing it), the **under-faults bound** applies: what the Worker's safety net promises, its expirationTtl
//! + cacheTtl (+ the same allowances). A scenario may state either bound instead.

use crate::events::{Event, EventKind};
use crate::scenario::WorkerTtls;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One window during which a fault was active.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultWindow {
    /// Start, virtual ms since the start of the run.
    pub from_ms: u64,
    /// End (inclusive; `u64::MAX` when it never closed).
    pub to_ms: u64,
    /// What it was, e.g. `kv 429 p=0.5 on put at all colos` or `webhook #3 dropped`.
    pub name: String,
    /// The row it concerns (webhook faults); `None`: every key.
    pub row: Option<String>,
}

impl FaultWindow {
    /// Whether this window overlaps `[from, to]` and concerns `row` (`None`: the list, which
    /// every row's change reaches).
    pub fn hits(&self, row: Option<&str>, from: u64, to: u64) -> bool {
        let relevant = match (&self.row, row) {
            (Some(mine), Some(r)) => mine == r,
            _ => true,
        };
        relevant && self.from_ms <= to && self.to_ms >= from
    }
}

/// Whether a fault window is a configured window of possible random webhook faults (those
/// count per delivery instead).
fn is_random_webhook_window(name: &str) -> bool {
    name.starts_with("webhooks ")
}

/// Every fault window of a run. `webhook_latency_ms`: a delivery arriving later than this after
/// it was sent counts as late.
pub fn fault_windows(events: &[Event], webhook_latency_ms: u64) -> Vec<FaultWindow> {
    let mut open: Vec<(u64, &str)> = Vec::new();
    let mut out = Vec::new();
    for e in events {
        match &e.kind {
            EventKind::FaultStart { fault } if !is_random_webhook_window(fault) => {
                open.push((e.t_ms, fault));
            }
            EventKind::FaultEnd { fault } => {
                if let Some(i) = open.iter().position(|(_, f)| *f == fault.as_str()) {
                    let (from, name) = open.remove(i);
                    out.push(FaultWindow {
                        from_ms: from,
                        to_ms: e.t_ms,
                        name: name.to_string(),
                        row: None,
                    });
                }
            }
            EventKind::WebhookDropped { delivery, row_id } => out.push(FaultWindow {
                from_ms: e.t_ms,
                to_ms: e.t_ms,
                name: format!("webhook #{delivery} for id={row_id} dropped"),
                row: Some(row_id.clone()),
            }),
            EventKind::WebhookDuplicated {
                delivery,
                row_id,
                deliver_at_ms,
            } => out.push(FaultWindow {
                from_ms: e.t_ms,
                to_ms: (*deliver_at_ms).max(e.t_ms),
                name: format!("webhook #{delivery} for id={row_id} duplicated"),
                row: Some(row_id.clone()),
            }),
            EventKind::WebhookSent {
                delivery,
                row_id,
                deliver_at_ms,
                ..
            } if deliver_at_ms.saturating_sub(e.t_ms) > webhook_latency_ms => {
                out.push(FaultWindow {
                    from_ms: e.t_ms,
                    to_ms: *deliver_at_ms,
                    name: format!(
                        "webhook #{delivery} for id={row_id} late by {} ms",
                        deliver_at_ms - e.t_ms
                    ),
                    row: Some(row_id.clone()),
                });
            }
            _ => {}
        }
    }
    for (from, name) in open {
        out.push(FaultWindow {
            from_ms: from,
            to_ms: u64::MAX,
            name: name.to_string(),
            row: None,
        });
    }
    out.sort_by(|a, b| (a.from_ms, a.to_ms, &a.name).cmp(&(b.from_ms, b.to_ms, &b.name)));
    out
}

/// Which part of a run a stretch of time belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    /// No fault active.
    FaultFree,
    /// At least one fault active.
    Faults,
    /// After the last fault closed and the last write settled.
    Healed,
}

/// A stretch of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    /// What kind.
    pub kind: PhaseKind,
    /// Start, virtual ms.
    pub from_ms: u64,
    /// End, virtual ms.
    pub to_ms: u64,
}

/// The run split into fault-free stretches, fault windows and the healed phase from `healed_ms`
/// to `end_ms`.
pub fn phases(windows: &[FaultWindow], healed_ms: u64, end_ms: u64) -> Vec<Phase> {
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for w in windows {
        let (a, b) = (w.from_ms.min(healed_ms), w.to_ms.min(healed_ms));
        if b <= a {
            // An instant (a dropped webhook): it makes the stale reads it explains fall under
            // faults, but splits no stretch.
            continue;
        }
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let mut out = Vec::new();
    let mut t = 0;
    for (a, b) in merged {
        if a > t {
            out.push(Phase {
                kind: PhaseKind::FaultFree,
                from_ms: t,
                to_ms: a,
            });
        }
        out.push(Phase {
            kind: PhaseKind::Faults,
            from_ms: a,
            to_ms: b,
        });
        t = t.max(b);
    }
    if healed_ms > t {
        out.push(Phase {
            kind: PhaseKind::FaultFree,
            from_ms: t,
            to_ms: healed_ms,
        });
    }
    out.push(Phase {
        kind: PhaseKind::Healed,
        from_ms: healed_ms,
        to_ms: end_ms.max(healed_ms),
    });
    out
}

/// Where a bound came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundSource {
    /// Derived from the KV model and the Worker's declared TTLs; the text says how.
    Derived(String),
    /// Stated by the scenario file.
    Scenario,
}

/// The two staleness bounds of a run, in virtual ms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StalenessBounds {
    /// How long a superseded state may be served when no fault overlaps its staleness.
    pub fault_free_ms: u64,
    /// Where `fault_free_ms` came from.
    pub fault_free_source: BoundSource,
    /// How long when a fault does (`None`: the Worker promises nothing; not checked).
    pub under_faults_ms: Option<u64>,
    /// Where `under_faults_ms` came from.
    pub under_faults_source: BoundSource,
    /// A delivery arriving later than this after it was sent is a (late-webhook) fault.
    pub webhook_latency_ms: u64,
}

/// The inputs of [`StalenessBounds::derive`] that come from the KV model and the topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelTimes {
    /// Slowest KV propagation to central, ms.
    pub propagation_max_ms: u64,
    /// Slowest webhook network delay, ms.
    pub webhook_latency_ms: u64,
    /// One-way latency to Supabase, ms.
    pub supabase_latency_ms: u64,
    /// Slowest colo's one-way latency to KV central, ms.
    pub colo_latency_max_ms: u64,
}

/// Round trips (to Supabase or KV central) a revalidation takes: refetch, write and verify the
/// row, then the list.
const SYNC_ROUND_TRIPS: u64 = 8;

impl StalenessBounds {
    /// The defaults for a Worker declaring `ttls` in a world with `times`.
    pub fn derive(ttls: WorkerTtls, times: ModelTimes) -> Self {
        let processing =
            SYNC_ROUND_TRIPS * 2 * (times.supabase_latency_ms + times.colo_latency_max_ms);
        let allowances =
            times.propagation_max_ms + times.webhook_latency_ms + ttls.retry_budget_ms + processing;
        let cache_ms = ttls.cache_ttl_s * 1000;
        let fault_free_ms = cache_ms + allowances;
        let fault_free_source = BoundSource::Derived(format!(
            "cacheTtl {}s + propagation {} + webhook latency {} + retries {} + processing {}",
            ttls.cache_ttl_s,
            crate::check::ms(times.propagation_max_ms),
            crate::check::ms(times.webhook_latency_ms),
            crate::check::ms(ttls.retry_budget_ms),
            crate::check::ms(processing),
        ));
        let (under_faults_ms, under_faults_source) = match ttls.expiration_ttl_s {
            Some(exp) => (
                Some(exp * 1000 + fault_free_ms),
                BoundSource::Derived(format!(
                    "expirationTtl {exp}s + cacheTtl {}s + the same allowances",
                    ttls.cache_ttl_s
                )),
            ),
            None => (
                None,
                BoundSource::Derived("the Worker sets no expirationTtl: no promise".into()),
            ),
        };
        Self {
            fault_free_ms,
            fault_free_source,
            under_faults_ms,
            under_faults_source,
            webhook_latency_ms: times.webhook_latency_ms,
        }
    }
}

impl fmt::Display for StalenessBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let src = |s: &BoundSource| match s {
            BoundSource::Derived(how) => format!("derived: {how}"),
            BoundSource::Scenario => "stated by the scenario".into(),
        };
        write!(
            f,
            "fault-free {} ({}); under faults ",
            crate::check::ms(self.fault_free_ms),
            src(&self.fault_free_source)
        )?;
        match self.under_faults_ms {
            Some(b) => write!(f, "{}", crate::check::ms(b))?,
            None => f.write_str("unbounded")?,
        }
        write!(f, " ({})", src(&self.under_faults_source))
    }
}

/// Which bound a staleness check used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppliedBound {
    /// No fault overlapped the stale interval.
    FaultFree,
    /// A fault did.
    UnderFaults,
    /// The scenario's flat `max_staleness_s`.
    Flat,
}

impl fmt::Display for AppliedBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AppliedBound::FaultFree => "fault-free bound",
            AppliedBound::UnderFaults => "under-faults bound",
            AppliedBound::Flat => "max_staleness_s",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t_ms: u64, kind: EventKind) -> Event {
        Event { t_ms, kind }
    }

    #[test]
    fn windows_and_phases() {
        let events = vec![
            ev(
                1_000,
                EventKind::FaultStart {
                    fault: "webhooks drop=0.5 duplicate=0 reorder=0".into(),
                },
            ),
            ev(
                2_000,
                EventKind::FaultStart {
                    fault: "partition SYD from KV central".into(),
                },
            ),
            ev(
                3_000,
                EventKind::WebhookSent {
                    delivery: 1,
                    event: "UPDATE".into(),
                    row_id: "2".into(),
                    db_version: 1,
                    deliver_at_ms: 7_000,
                },
            ),
            ev(
                4_000,
                EventKind::FaultEnd {
                    fault: "partition SYD from KV central".into(),
                },
            ),
            ev(
                9_000,
                EventKind::WebhookDropped {
                    delivery: 2,
                    row_id: "3".into(),
                },
            ),
        ];
        let w = fault_windows(&events, 50);
        let names: Vec<&str> = w.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "partition SYD from KV central",
                "webhook #1 for id=2 late by 4000 ms",
                "webhook #2 for id=3 dropped"
            ]
        );
        assert!(w[1].hits(Some("2"), 6_000, 8_000));
        assert!(!w[1].hits(Some("3"), 6_000, 8_000));
        assert!(w[1].hits(None, 6_000, 8_000));
        let p = phases(&w, 10_000, 20_000);
        let kinds: Vec<(PhaseKind, u64, u64)> =
            p.iter().map(|p| (p.kind, p.from_ms, p.to_ms)).collect();
        assert_eq!(
            kinds,
            [
                (PhaseKind::FaultFree, 0, 2_000),
                (PhaseKind::Faults, 2_000, 7_000),
                (PhaseKind::FaultFree, 7_000, 10_000),
                (PhaseKind::Healed, 10_000, 20_000),
            ]
        );
    }

    #[test]
    fn derived_bounds() {
        let b = StalenessBounds::derive(
            WorkerTtls {
                cache_ttl_s: 30,
                expiration_ttl_s: Some(120),
                retry_budget_ms: 18_000,
            },
            ModelTimes {
                propagation_max_ms: 500,
                webhook_latency_ms: 50,
                supabase_latency_ms: 0,
                colo_latency_max_ms: 30,
            },
        );
        assert_eq!(b.fault_free_ms, 30_000 + 500 + 50 + 18_000 + 480);
        assert_eq!(b.under_faults_ms, Some(120_000 + b.fault_free_ms));
        assert!(b.to_string().contains("cacheTtl 30s"), "{b}");
    }
}
