//! Database Webhooks: declarations, row-change capture, payloads and the delivery seam.
//!
//! Deliveries are fire-and-forget: one per changed row, produced only after the change
//! commits, handed to a [`WebhookDispatcher`] (real HTTP, or the simulation's scheduler),
//! never retried. Every delivery is recorded with its outcome, in a log bounded the way pg_net
//! bounds its response table ([`log`]).

pub mod capture;
pub mod config;
pub mod http;
pub mod log;

use crate::jsonb::jsonb_text;
use crate::schema::Schema;
use bytes::Bytes;
use capture::RowChange;
pub use config::Hook;
use serde::Serialize;
use serde_json::{Value, json};

/// The pg_net version whose `User-Agent` the mock sends (`pg_net/<version>`).
pub const PG_NET_VERSION: &str = "0.20.5";

/// Where deliveries go: the simulation schedules/drops/delays them on its virtual clock;
/// `edgesim supabase`/`dev` send real HTTP ([`http::HttpDispatcher`]).
pub trait WebhookDispatcher: Send + Sync {
    /// Takes one delivery; must not block on the network.
    fn dispatch(&self, delivery: WebhookDelivery);
}

/// A dispatcher that drops every delivery (they are still recorded, without an outcome).
pub struct NoopDispatcher;

impl WebhookDispatcher for NoopDispatcher {
    fn dispatch(&self, _delivery: WebhookDelivery) {}
}

/// One webhook request, ready to send.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookDelivery {
    /// Delivery id (1, 2, ... per `Supabase`), like `net.http_request_queue.id`.
    pub id: u64,
    /// Hook name.
    pub hook: String,
    /// Changed table.
    pub table: String,
    /// `INSERT`, `UPDATE` or `DELETE`.
    pub event: String,
    /// Full URL, `params` already in the query string.
    pub url: String,
    /// `POST` or `GET`.
    pub method: String,
    /// Request headers in sending order (configured ones, then `User-Agent`).
    pub headers: Vec<(String, String)>,
    /// Request body (empty for GET).
    #[serde(serialize_with = "body_as_str")]
    pub body: Bytes,
    /// Request timeout.
    pub timeout_ms: u64,
    /// Clock time of the commit that produced it.
    pub committed_at_ms: u64,
}

fn body_as_str<S: serde::Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(b))
}

/// What happened to a delivery (pg_net's `net._http_response` columns).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryOutcome {
    /// HTTP status, when a response came back.
    pub status: Option<u16>,
    /// The request timed out.
    pub timed_out: bool,
    /// Transport error message.
    pub error: Option<String>,
}

/// A delivery and, once reported, its outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeliveryRecord {
    /// The delivery as dispatched.
    #[serde(flatten)]
    pub delivery: WebhookDelivery,
    /// `None` until the dispatcher reports.
    pub outcome: Option<DeliveryOutcome>,
}

/// The deliveries for committed row changes, in change order.
pub fn deliveries_for(
    changes: &[RowChange],
    hooks: &[Hook],
    schema: &Schema,
    next_id: &mut u64,
    committed_at_ms: u64,
) -> Vec<WebhookDelivery> {
    let mut out = Vec::new();
    for ch in changes {
        let Some(t) = schema.tables.get(&ch.table) else {
            continue;
        };
        for h in hooks
            .iter()
            .filter(|h| h.table == ch.table && h.events.iter().any(|e| e == ch.event))
        {
            let rec = ch
                .new
                .as_ref()
                .map(|v| Value::Object(capture::record(t, v)));
            let old = ch
                .old
                .as_ref()
                .map(|v| Value::Object(capture::record(t, v)));
            let payload = json!({
                "type": ch.event,
                "table": ch.table,
                "record": rec,
                "schema": "public",
                "old_record": old,
            });
            *next_id += 1;
            let body = if h.method == "GET" {
                Bytes::new()
            } else {
                Bytes::from(jsonb_text(&payload))
            };
            out.push(WebhookDelivery {
                id: *next_id,
                hook: h.name.clone(),
                table: ch.table.clone(),
                event: ch.event.to_string(),
                url: h.full_url(),
                method: h.method.clone(),
                headers: h.request_headers(),
                body,
                timeout_ms: h.timeout_ms,
                committed_at_ms,
            });
        }
    }
    out
}
