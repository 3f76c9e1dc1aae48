//! Where a Database Webhook goes. A project's webhook triggers name the production Worker
//! (`https://my-worker.acct.workers.dev/hooks/articles`); a delivery whose host is the Worker's
//! reaches the local Worker with its path, query, headers and payload kept. Any other host is
//! an outside service: the outbound rules or the allowlist answer it, else the delivery fails
//! with a message naming the host.

use edgesim_supabase::DeliveryOutcome;

/// The hosts that are the Worker's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookRouter {
    /// Host patterns (`api.example.com`, `*.example.com`), lower case.
    hosts: Vec<String>,
    /// Ports at which a loopback host (`127.0.0.1`, `localhost`, `host.docker.internal`, where
    /// a local Supabase's pg_net reaches `wrangler dev`) is the Worker: `edgesim dev`'s default
    /// 8787 and the port it actually listens on.
    local_ports: Vec<u16>,
}

/// Where a delivery goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookRoute {
    /// To the local Worker: the path and query to request.
    Worker {
        /// `/hooks/articles?x=1`.
        path_and_query: String,
    },
    /// To an outside host (`host[:port]`), through the outbound rules and the allowlist.
    External {
        /// The host.
        host: String,
    },
    /// Not a URL a request can be made to.
    Invalid(String),
}

/// What to do with one delivery.
#[derive(Debug)]
pub enum Delivery {
    /// Send this request to the local Worker (its URL is the hook's, as in production).
    Worker(http::Request<bytes::Bytes>),
    /// Send this request to an outside host (`host[:port]`).
    External(String, http::Request<bytes::Bytes>),
    /// It cannot be sent; the outcome's error.
    Failed(String),
}

impl WebhookRouter {
    /// The request a delivery makes, and where it goes: the same in `edgesim dev` and in
    /// simulation. A delivery whose request cannot be built fails with the reason.
    pub fn delivery(&self, d: &edgesim_supabase::WebhookDelivery) -> Delivery {
        let route = self.route(&d.url);
        if let WebhookRoute::Invalid(why) = route {
            return Delivery::Failed(format!("webhook {}: {why}", d.hook));
        }
        let mut req = http::Request::builder()
            .method(d.method.as_str())
            .uri(d.url.as_str());
        for (k, v) in &d.headers {
            req = req.header(k, v);
        }
        let req = match req.body(d.body.clone()) {
            Ok(r) => r,
            Err(e) => return Delivery::Failed(format!("webhook {}: {e}", d.hook)),
        };
        match route {
            WebhookRoute::Worker { .. } => Delivery::Worker(req),
            WebhookRoute::External { host } => Delivery::External(host, req),
            WebhookRoute::Invalid(_) => unreachable!("handled above"),
        }
    }
}

/// Awaits a delivery's answer (its status, or why it failed) within the hook's `timeout_ms`,
/// as pg_net does: the outcome `GET /__edgesim/deliveries` shows. `edgesim dev` and the
/// simulation both report through it.
pub async fn deliver_within(
    timeout_ms: u64,
    send: impl std::future::Future<Output = Result<u16, String>>,
) -> DeliveryOutcome {
    let limit = std::time::Duration::from_millis(timeout_ms.max(1));
    match tokio::time::timeout(limit, send).await {
        Ok(Ok(status)) => DeliveryOutcome {
            status: Some(status),
            timed_out: false,
            error: None,
        },
        Ok(Err(e)) => failed(e),
        Err(_) => DeliveryOutcome {
            status: None,
            timed_out: true,
            error: Some(format!("Timeout of {timeout_ms} ms reached")),
        },
    }
}

/// A delivery that failed without an answer.
pub fn failed(error: String) -> DeliveryOutcome {
    DeliveryOutcome {
        status: None,
        timed_out: false,
        error: Some(error),
    }
}

/// The error of a delivery to an outside host that nothing answers.
pub fn unanswered(host: &str) -> String {
    format!(
        "edgesim: no outbound rule answers {host}: add an [[outbound]] rule for it, put it in allowlist to send it for real, or name it in worker_hosts if it is this Worker's (edgesim.toml)"
    )
}

/// `wrangler dev`'s port, which local webhook URLs usually name.
pub const DEFAULT_DEV_PORT: u16 = 8787;

const LOOPBACK_HOSTS: [&str; 5] = [
    "127.0.0.1",
    "localhost",
    "host.docker.internal",
    "[::1]",
    "0.0.0.0",
];

impl WebhookRouter {
    /// The Worker's hosts: `*.workers.dev`, its wrangler `routes` and the extra `hosts`.
    pub fn new<S: AsRef<str>>(hosts: impl IntoIterator<Item = S>) -> Self {
        let mut all = vec!["*.workers.dev".to_string()];
        for h in hosts {
            let h = h.as_ref().trim().to_ascii_lowercase();
            if !h.is_empty() && !all.contains(&h) {
                all.push(h);
            }
        }
        Self {
            hosts: all,
            local_ports: vec![DEFAULT_DEV_PORT],
        }
    }

    /// Also treats loopback at `port` as the Worker (the port `edgesim dev` listens on).
    pub fn with_local_port(mut self, port: u16) -> Self {
        if !self.local_ports.contains(&port) {
            self.local_ports.push(port);
        }
        self
    }

    /// The host patterns, for the banner.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// Where a delivery to `url` goes.
    pub fn route(&self, url: &str) -> WebhookRoute {
        let uri: http::Uri = match url.parse() {
            Ok(u) => u,
            Err(e) => return WebhookRoute::Invalid(format!("{url:?} is not a URL: {e}")),
        };
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return WebhookRoute::Invalid(format!("{url:?} is not an absolute http(s) URL"));
        };
        if !matches!(scheme, "http" | "https") {
            return WebhookRoute::Invalid(format!("{url:?}: only http and https are supported"));
        }
        let host = authority.host().to_ascii_lowercase();
        let port = authority.port_u16();
        let path_and_query = uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string());
        let path_and_query = if path_and_query.is_empty() {
            "/".to_string()
        } else {
            path_and_query
        };
        let local = LOOPBACK_HOSTS.contains(&host.as_str())
            && port.is_some_and(|p| self.local_ports.contains(&p));
        if local || self.hosts.iter().any(|p| host_matches(p, &host)) {
            WebhookRoute::Worker { path_and_query }
        } else {
            WebhookRoute::External {
                host: authority.as_str().to_ascii_lowercase(),
            }
        }
    }
}

/// Whether `host` matches `pattern` (`*.example.com` matches any subdomain, not the apex).
pub fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workers_hosts_reach_the_worker_with_their_path() {
        let r =
            WebhookRouter::new(["shop.example.com", "*.api.example.com"]).with_local_port(40123);
        let worker = |p: &str| WebhookRoute::Worker {
            path_and_query: p.into(),
        };
        assert_eq!(
            r.route("https://full-project.example.workers.dev/hooks/articles?x=1"),
            worker("/hooks/articles?x=1")
        );
        assert_eq!(r.route("https://SHOP.example.com/h"), worker("/h"));
        assert_eq!(r.route("https://v1.api.example.com"), worker("/"));
        assert_eq!(
            r.route("http://127.0.0.1:8787/revalidate"),
            worker("/revalidate")
        );
        assert_eq!(r.route("http://host.docker.internal:40123/r"), worker("/r"));
        assert_eq!(
            r.route("http://127.0.0.1:9999/r"),
            WebhookRoute::External {
                host: "127.0.0.1:9999".into()
            }
        );
        assert_eq!(
            r.route("https://api.example.com/x"),
            WebhookRoute::External {
                host: "api.example.com".into()
            }
        );
        assert_eq!(
            r.route("https://hooks.slack.com/services/x"),
            WebhookRoute::External {
                host: "hooks.slack.com".into()
            }
        );
        assert!(matches!(r.route("not a url"), WebhookRoute::Invalid(_)));
        assert!(matches!(r.route("/relative"), WebhookRoute::Invalid(_)));
        assert!(matches!(r.route("ftp://a.b/c"), WebhookRoute::Invalid(_)));
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        assert!(host_matches("*.workers.dev", "a.b.workers.dev"));
        assert!(!host_matches("*.workers.dev", "workers.dev"));
        assert!(!host_matches("*.workers.dev", "evilworkers.dev"));
        assert!(host_matches("a.com", "a.com"));
    }
}
