//! `edgesim dev`'s Database Webhook transport: a delivery to the Worker's own host goes to the
//! Worker being served, in-process, at the webhook colo, with the hook's path, query, headers
//! and payload; one to an outside host goes to the outbound rules or, when allowlisted, over
//! the network (`allowlist`); anything else fails with its reason and is logged. Each is sent once, never
//! retried (pg_net's behaviour), and its outcome lands in `GET /__edgesim/deliveries`.

use bytes::Bytes;
use edgesim_core::SimRng;
use edgesim_host::{HostSlot, OutboundRules, Upstream};
use edgesim_supabase::{
    DeliveryOutcome, Supabase, WeakSupabase, WebhookDelivery, WebhookDispatcher,
};
use edgesim_world::routing::{Delivery, WebhookRouter, deliver_within, failed, unanswered};
use std::sync::{Arc, Mutex};

/// Routes and sends deliveries (see the module docs).
pub struct DevDispatcher {
    runtime: tokio::runtime::Handle,
    state: Mutex<Option<Attached>>,
}

#[derive(Clone)]
struct Attached {
    supabase: WeakSupabase,
    slot: HostSlot,
    router: WebhookRouter,
    colo: String,
    /// Outside hosts: the outbound rules, then the allowlisted hosts over sockets.
    rules: OutboundRules,
    rng: Arc<Mutex<SimRng>>,
    external: Arc<dyn Upstream>,
    allowlist: Vec<String>,
}

/// Where outside deliveries go: the outbound rules (with the fault draws' seed), then the
/// allowlisted hosts over `network`.
pub struct Outside {
    /// The `[[outbound]]` rules.
    pub rules: OutboundRules,
    /// Their fault draws.
    pub rng: SimRng,
    /// Allowlisted hosts over sockets.
    pub network: Arc<dyn Upstream>,
    /// The allowlist.
    pub allowlist: Vec<String>,
}

impl DevDispatcher {
    /// A dispatcher spawning onto `runtime`; deliveries before [`DevDispatcher::attach`] fail.
    pub fn new(runtime: tokio::runtime::Handle) -> Arc<Self> {
        Arc::new(Self {
            runtime,
            state: Mutex::new(None),
        })
    }

    /// Sends deliveries to `slot`'s Worker at `colo` (per `router`) and reports outcomes into
    /// `supabase`.
    pub fn attach(
        &self,
        supabase: &Supabase,
        slot: HostSlot,
        router: WebhookRouter,
        colo: String,
        outside: Outside,
    ) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = Some(Attached {
            supabase: supabase.downgrade(),
            slot,
            router,
            colo,
            rules: outside.rules,
            rng: Arc::new(Mutex::new(outside.rng)),
            external: outside.network,
            allowlist: outside.allowlist,
        });
    }
}

impl Attached {
    async fn send(&self, d: &WebhookDelivery) -> DeliveryOutcome {
        match self.router.delivery(d) {
            Delivery::Failed(why) => failed(why),
            Delivery::Worker(req) => {
                let Some(host) = self.slot.host() else {
                    return failed("edgesim: no Worker is being served (its build failed)".into());
                };
                deliver_within(d.timeout_ms, async {
                    Ok(host
                        .handle_at(&self.colo, req)
                        .await
                        .response
                        .status()
                        .as_u16())
                })
                .await
            }
            Delivery::External(host, req) => {
                deliver_within(d.timeout_ms, async {
                    self.external_answer(&host, req)
                        .await
                        .map(|r| r.status().as_u16())
                })
                .await
            }
        }
    }

    /// An outside host's answer: the outbound rules first, then the network when `host` is
    /// allowlisted; else the error naming the host and what would answer it.
    async fn external_answer(
        &self,
        host: &str,
        req: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, String> {
        let ruled = {
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            self.rules.answer(&req, &mut rng)
        };
        if let Some(answer) = ruled {
            return answer.await.map_err(|e| e.to_string());
        }
        let bare = host.split(':').next().unwrap_or_default();
        let allowed = self
            .allowlist
            .iter()
            .any(|a| a.eq_ignore_ascii_case(host) || a.eq_ignore_ascii_case(bare));
        if !allowed {
            return Err(unanswered(host));
        }
        self.external.fetch(req).await.map_err(|e| e.to_string())
    }
}

impl WebhookDispatcher for DevDispatcher {
    fn dispatch(&self, delivery: WebhookDelivery) {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner()).clone();
        self.runtime.spawn(async move {
            let Some(state) = state else {
                return;
            };
            let id = delivery.id;
            let outcome = state.send(&delivery).await;
            if let Some(err) = &outcome.error {
                tracing::warn!(
                    "webhook {} ({} {}) failed: {err}",
                    delivery.hook,
                    delivery.method,
                    delivery.url
                );
            }
            if let Some(sb) = state.supabase.upgrade() {
                sb.record_outcome(id, outcome);
            }
        });
    }
}
