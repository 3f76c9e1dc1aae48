//! The Worker's route to Supabase under simulation: in-process, with latency and seeded
//! Supabase faults (5xx, 429, added latency) on the virtual clock.

use crate::core::{Core, lock};
use crate::events::EventKind;
use crate::scenario::FaultKind;
use bytes::Bytes;
use edgesim_core::SimRng;
use edgesim_host::{FetchError, Upstream};
use futures::future::BoxFuture;
use std::sync::{Mutex, Weak};
use std::time::Duration;

/// One Supabase fault over `[from_ms, to_ms)` (ms since start).
#[derive(Clone, Debug)]
pub struct SupabaseFaultRule {
    /// `5xx`, `429` or `latency`.
    pub kind: FaultKind,
    /// Chance per request.
    pub rate: f64,
    /// Status of a failure.
    pub status: u16,
    /// Added latency, ms.
    pub latency_ms: u64,
    /// Window start.
    pub from_ms: u64,
    /// Window end (exclusive).
    pub to_ms: u64,
}

/// Supabase latency and fault rules, with their RNG (`supabase-faults` fork).
pub(crate) struct UpstreamFaults {
    latency_ms: u64,
    rules: Mutex<Vec<SupabaseFaultRule>>,
    rng: Mutex<SimRng>,
}

impl UpstreamFaults {
    /// `latency_ms` one way, no fault rules yet.
    pub fn new(latency_ms: u64, rng: SimRng) -> Self {
        Self {
            latency_ms,
            rules: Mutex::new(Vec::new()),
            rng: Mutex::new(rng),
        }
    }

    /// Adds a fault rule.
    pub fn add(&self, rule: SupabaseFaultRule) {
        lock(&self.rules).push(rule);
    }

    /// The one-way latency, ms.
    pub fn latency_ms(&self) -> u64 {
        self.latency_ms
    }

    /// (failure status, extra latency) for a request at `now` (ms since start). Every active
    /// rule draws once, in order, whatever the earlier draws gave.
    fn decide(&self, now: u64) -> (Option<u16>, u64) {
        let rules = lock(&self.rules);
        let mut rng = lock(&self.rng);
        let (mut fail, mut extra) = (None, 0);
        for r in rules.iter().filter(|r| (r.from_ms..r.to_ms).contains(&now)) {
            if !rng.chance(r.rate) {
                continue;
            }
            extra += r.latency_ms;
            match r.kind {
                FaultKind::Latency => {}
                FaultKind::TooMany | FaultKind::ServerError => {
                    fail = fail.or(Some(r.status));
                }
            }
        }
        (fail, extra)
    }
}

/// The Supabase side of the Worker's fetches.
pub(crate) struct SimUpstream {
    pub(crate) core: Weak<Core>,
}

fn failure(status: u16) -> http::Response<Bytes> {
    let body = serde_json::json!({
        "message": format!("An invalid response was received from the upstream server (edgesim: injected {status})")
    });
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_string()))
        .unwrap_or_default()
}

impl Upstream for SimUpstream {
    fn fetch(
        &self,
        req: http::Request<Bytes>,
    ) -> BoxFuture<'static, Result<http::Response<Bytes>, FetchError>> {
        let core = self.core.upgrade();
        Box::pin(async move {
            let core = core.ok_or_else(|| FetchError::ConnectionRefused("supabase".into()))?;
            let faults = core.upstream_faults();
            let (fail, extra) = faults.decide(core.now());
            let one_way = Duration::from_millis(faults.latency_ms());
            tokio::time::sleep(one_way + Duration::from_millis(extra)).await;
            if let Some(status) = fail {
                core.log().push(EventKind::UpstreamFault {
                    method: core.log().intern(req.method().as_str()),
                    path: core.log().intern(req.uri().path()),
                    status,
                });
                tokio::time::sleep(one_way).await;
                return Ok(failure(status));
            }
            let writes = !matches!(*req.method(), http::Method::GET | http::Method::HEAD);
            let resp = core.supabase().handle(req);
            if writes {
                core.after_commit();
            }
            tokio::time::sleep(one_way).await;
            Ok(resp)
        })
    }
}
