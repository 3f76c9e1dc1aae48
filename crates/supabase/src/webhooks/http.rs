//! Real HTTP delivery (pg_net's role) for `edgesim supabase` and `edgesim dev`.

use super::{DeliveryOutcome, WebhookDelivery, WebhookDispatcher};
use crate::{Supabase, WeakSupabase};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Sends each delivery once on a tokio runtime (no retry), and records the outcome into the
/// [`Supabase`] it is attached to.
pub struct HttpDispatcher {
    runtime: tokio::runtime::Handle,
    client: Client<HttpConnector, Full<Bytes>>,
    target: Mutex<Option<WeakSupabase>>,
}

impl HttpDispatcher {
    /// A dispatcher spawning onto `runtime`. Call [`HttpDispatcher::attach`] once the
    /// `Supabase` exists.
    pub fn new(runtime: tokio::runtime::Handle) -> Arc<Self> {
        let client = Client::builder(TokioExecutor::new()).build_http();
        Arc::new(Self {
            runtime,
            client,
            target: Mutex::new(None),
        })
    }

    /// Reports outcomes into `sb` from now on.
    pub fn attach(&self, sb: &Supabase) {
        *self.target.lock().unwrap_or_else(|p| p.into_inner()) = Some(sb.downgrade());
    }

    async fn send(
        client: Client<HttpConnector, Full<Bytes>>,
        d: WebhookDelivery,
    ) -> DeliveryOutcome {
        if d.url.starts_with("https://") {
            return DeliveryOutcome {
                status: None,
                timed_out: false,
                error: Some("edgesim: https webhook URLs are not supported".into()),
            };
        }
        let mut b = http::Request::builder()
            .method(d.method.as_str())
            .uri(&d.url);
        for (k, v) in &d.headers {
            b = b.header(k, v);
        }
        let req = match b.body(Full::new(d.body.clone())) {
            Ok(r) => r,
            Err(e) => {
                return DeliveryOutcome {
                    status: None,
                    timed_out: false,
                    error: Some(e.to_string()),
                };
            }
        };
        let fut = async {
            let resp = client.request(req).await?;
            let status = resp.status().as_u16();
            let _ = resp.into_body().collect().await;
            Ok::<u16, hyper_util::client::legacy::Error>(status)
        };
        match tokio::time::timeout(Duration::from_millis(d.timeout_ms), fut).await {
            Err(_) => DeliveryOutcome {
                status: None,
                timed_out: true,
                error: Some(format!("Timeout of {} ms reached", d.timeout_ms)),
            },
            Ok(Ok(status)) => DeliveryOutcome {
                status: Some(status),
                timed_out: false,
                error: None,
            },
            Ok(Err(e)) => {
                let msg = if e.is_connect() {
                    "Couldn't connect to server".to_string()
                } else {
                    e.to_string()
                };
                DeliveryOutcome {
                    status: None,
                    timed_out: false,
                    error: Some(msg),
                }
            }
        }
    }
}

impl WebhookDispatcher for HttpDispatcher {
    fn dispatch(&self, delivery: WebhookDelivery) {
        let client = self.client.clone();
        let target = self
            .target
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        self.runtime.spawn(async move {
            let id = delivery.id;
            let outcome = Self::send(client, delivery).await;
            if let Some(sb) = target.and_then(|t| t.upgrade()) {
                sb.record_outcome(id, outcome);
            }
        });
    }
}
