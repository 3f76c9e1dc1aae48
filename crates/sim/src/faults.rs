//! Faults a run can suffer, as the public API takes them ([`KvFault`], [`SupabaseFault`],
//! [`Override`]), and the seeded webhook faults: for each delivery, whether and when it
//! arrives (drop, delay, duplicate, reorder), drawn from the `webhooks` RNG fork.

use crate::scenario::{FaultKind, RangeMs, WebhookFate, WebhookFaults};
use edgesim_core::SimRng;
use edgesim_kv::{FaultEffect, FaultRule, OpKind};

/// A KV fault over a window (what a `[[faults.kv]]` entry says), for [`crate::Sim::kv_fault`].
#[derive(Clone, Debug, PartialEq)]
pub struct KvFault {
    /// `429`, `5xx` (503) or added latency.
    pub kind: FaultKind,
    /// Chance per matching operation, 0 to 1.
    pub rate: f64,
    /// Added latency of a `latency` fault, ms.
    pub latency_ms: u64,
    /// Only operations of this kind (`get`, `put`, `delete`, `list`); `None`: all.
    pub op: Option<String>,
    /// Only this colo; `None`: all.
    pub colo: Option<String>,
    /// Only keys starting with this; `None`: all.
    pub key_prefix: Option<String>,
}

impl KvFault {
    /// `kind` on every operation everywhere, with probability 1.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            rate: 1.0,
            latency_ms: 0,
            op: None,
            colo: None,
            key_prefix: None,
        }
    }

    /// How the event log names this fault's window.
    pub fn name(&self) -> String {
        let kind = match self.kind {
            FaultKind::TooMany => "429".to_string(),
            FaultKind::ServerError => "503".to_string(),
            FaultKind::Latency => format!("+{}ms", self.latency_ms),
        };
        let scope = self.colo.clone().unwrap_or_else(|| "all colos".into());
        let mut op = self.op.clone().unwrap_or_else(|| "any op".into());
        if let Some(p) = &self.key_prefix {
            op.push_str(&format!(" of {p}*"));
        }
        format!("kv {kind} p={} on {op} at {scope}", self.rate)
    }

    /// The KV model's rule for this fault over `[from_ms, to_ms)` (clock time, epoch ms).
    pub(crate) fn rule(&self, from_ms: u64, to_ms: u64) -> FaultRule {
        let effect = match self.kind {
            FaultKind::TooMany => FaultEffect::TooManyRequests,
            FaultKind::ServerError => FaultEffect::ServerError { status: 503 },
            FaultKind::Latency => FaultEffect::ExtraLatency {
                ms: self.latency_ms,
            },
        };
        let ops = match self.op.as_deref() {
            Some("get") => vec![OpKind::Get, OpKind::GetWithMetadata, OpKind::GetBulk],
            Some("put") => vec![OpKind::Put],
            Some("delete") => vec![OpKind::Delete],
            Some("list") => vec![OpKind::List],
            _ => Vec::new(),
        };
        FaultRule {
            ops,
            colo: self.colo.clone(),
            key_prefix: self.key_prefix.clone(),
            probability: self.rate,
            from_ms,
            to_ms,
            effect,
        }
    }
}

/// A Supabase fault over a window (what a `[[faults.supabase]]` entry says), seen by the
/// Worker's outgoing fetches; for [`crate::Sim::supabase_fault`].
#[derive(Clone, Debug, PartialEq)]
pub struct SupabaseFault {
    /// `429`, `5xx` or added latency.
    pub kind: FaultKind,
    /// Chance per request, 0 to 1.
    pub rate: f64,
    /// Status of a `5xx` fault (default 503).
    pub status: Option<u16>,
    /// Added latency, ms.
    pub latency_ms: u64,
}

impl SupabaseFault {
    /// `kind` on every request, with probability 1.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            rate: 1.0,
            status: None,
            latency_ms: 0,
        }
    }

    /// The status a failing request gets.
    pub fn failure_status(&self) -> u16 {
        match self.kind {
            FaultKind::TooMany => 429,
            _ => self.status.unwrap_or(503),
        }
    }

    /// How the event log names this fault's window.
    pub fn name(&self) -> String {
        match self.kind {
            FaultKind::Latency => format!("supabase +{}ms p={}", self.latency_ms, self.rate),
            FaultKind::TooMany => format!("supabase 429 p={}", self.rate),
            FaultKind::ServerError => {
                format!("supabase {} p={}", self.status.unwrap_or(503), self.rate)
            }
        }
    }
}

/// How the event log names a window of random webhook faults.
pub fn webhook_faults_name(f: &WebhookFaults) -> String {
    format!(
        "webhooks drop={} duplicate={} reorder={}",
        f.drop, f.duplicate, f.reorder
    )
}

/// A scripted override for the webhooks of one mutation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Override {
    /// Drop, duplicate or deliver.
    pub fate: WebhookFate,
    /// A fixed delay instead of a random one.
    pub delay_ms: Option<u64>,
}

/// What happens to one delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Delay of each copy that arrives: empty = dropped, two entries = duplicated.
    pub copies: Vec<u64>,
    /// Whether the first copy was held back to be overtaken.
    pub reordered: bool,
}

fn draw(rng: &mut SimRng, r: RangeMs) -> u64 {
    rng.range_u64(r.min, r.max)
}

/// Decides one delivery sent at `t_ms` (ms since start): random faults apply inside the window
/// `[from, to)`; an override with a non-default fate or delay wins. Draws the same number of
/// values whatever the outcome, so one decision never shifts the next.
pub fn decide(
    faults: &WebhookFaults,
    window: (u64, u64),
    ov: Override,
    rng: &mut SimRng,
    t_ms: u64,
) -> Decision {
    let in_window = (window.0..window.1).contains(&t_ms);
    let (u_drop, u_dup, u_re) = (rng.unit(), rng.unit(), rng.unit());
    let base = draw(rng, faults.delay_ms);
    let second = draw(rng, faults.delay_ms);
    let hold = draw(rng, faults.reorder_ms);
    let active = |p: f64, u: f64| in_window && u < p;
    let delay = ov.delay_ms.unwrap_or(base);
    match ov.fate {
        WebhookFate::Drop => Decision {
            copies: vec![],
            reordered: false,
        },
        WebhookFate::Duplicate => Decision {
            copies: vec![delay, delay + second],
            reordered: false,
        },
        WebhookFate::Deliver => {
            if ov.delay_ms.is_some() {
                return Decision {
                    copies: vec![delay],
                    reordered: false,
                };
            }
            if active(faults.drop, u_drop) {
                return Decision {
                    copies: vec![],
                    reordered: false,
                };
            }
            let reordered = active(faults.reorder, u_re);
            let first = if reordered { delay + hold } else { delay };
            let mut copies = vec![first];
            if active(faults.duplicate, u_dup) {
                copies.push(delay + second);
            }
            Decision { copies, reordered }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_windows_and_overrides() {
        let mut rng = SimRng::from_seed(1);
        let all = WebhookFaults {
            drop: 1.0,
            ..WebhookFaults::default()
        };
        assert!(
            decide(&all, (0, 100), Override::default(), &mut rng, 5)
                .copies
                .is_empty()
        );
        // Outside the window: delivered once, within the default delay.
        let d = decide(&all, (0, 100), Override::default(), &mut rng, 100);
        assert_eq!(d.copies.len(), 1);
        assert!((5..=50).contains(&d.copies[0]));
        let ov = Override {
            fate: WebhookFate::Deliver,
            delay_ms: Some(4_000),
        };
        assert_eq!(decide(&all, (0, 100), ov, &mut rng, 5).copies, vec![4_000]);
        let dup = Override {
            fate: WebhookFate::Duplicate,
            delay_ms: Some(10),
        };
        let d = decide(&WebhookFaults::default(), (0, 100), dup, &mut rng, 5);
        assert_eq!(d.copies.len(), 2);
        let re = WebhookFaults {
            reorder: 1.0,
            ..WebhookFaults::default()
        };
        let d = decide(&re, (0, 100), Override::default(), &mut rng, 5);
        assert!(d.reordered && d.copies[0] >= 1_500);
    }
}
