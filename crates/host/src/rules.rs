//! Outbound fetch rules: canned answers for the third-party APIs a Worker calls, as
//! vitest-pool-workers' `fetchMock` and Miniflare's `outboundService` give.
//!
//! A rule matches a request by method (any when unset), host and path prefix, and answers a
//! status, headers and a body, after a latency, with fault rates drawn from a seeded RNG. In
//! `edgesim.toml` and scenario files rules are `[[outbound]]` tables ([`RuleSpec`]), compiled
//! with [`compile`]; in code, [`OutboundRule`] and [`OutboundRules::new`].
//!
//! ```toml
//! [[outbound]]
//! method = "POST"                          # any method when unset
//! host = "api.stripe.com"                  # or "*.stripe.com", or "127.0.0.1:9000"
//! path_prefix = "/v1/charges"              # default "/"; the query counts only if it has a "?"
//! status = 200                             # default 200
//! headers = { "content-type" = "application/json" }
//! body = '{"id":"ch_1","paid":true}'       # or body_file = "stripe/charge.json" (relative to the file)
//! latency_ms = 120                         # default 0, on the emulator's (tokio's) clock
//! error_rate = 0.05                        # share of matches failing as a network error
//! status_5xx_rate = 0.1                    # share of matches answered 503
//! times = 3                                # answer at most 3 times, then fall through
//! ```
//!
//! Rules are checked before Supabase and the allowlist, so they can also stand in for (or
//! inject faults into) Supabase paths. A rule's answer counts as a subrequest and is reported
//! as a fetch, as production counts every fetch. Fault draws use the invocation's seed (forked
//! as `"outbound"`), so a seed replays the same faults; they apply in `edgesim dev` too, where
//! the seed is the one printed at start. What is edgesim's own, not production's: an injected
//! 503 has a `text/plain` body naming the rule, an injected network error says which rule
//! fired after workerd's `Network connection lost.`, and error 1021's message continues with
//! the rule that would answer it ([`refusal_hint`]).

use crate::outbound::FetchError;
use bytes::Bytes;
use edgesim_core::SimRng;
use futures::future::BoxFuture;
use http::{HeaderName, HeaderValue, Method, Uri};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use toml::Spanned;

/// The message a Worker's fetch fails with when a rule's `error_rate` fires: workerd's message
/// for a connection dropped mid-request.
pub const NETWORK_CONNECTION_LOST: &str = "Network connection lost.";

/// One `[[outbound]]` table as written in `edgesim.toml` or a scenario file. Unknown keys are
/// rejected; values that need checking keep their span so an error can name the line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// `GET`, `POST`, ... (case-insensitive); any method when unset.
    pub method: Option<Spanned<String>>,
    /// `api.example.com`, `*.example.com` (any subdomain) or `host:port`; case-insensitive.
    pub host: Spanned<String>,
    /// The start of the path (default `/`). The query is compared only when this has a `?`.
    pub path_prefix: Option<Spanned<String>>,
    /// The answer's status (default 200).
    pub status: Option<Spanned<u16>>,
    /// The answer's headers.
    pub headers: Option<Spanned<BTreeMap<String, String>>>,
    /// The answer's body, inline.
    pub body: Option<Spanned<String>>,
    /// The answer's body, read from this file (relative to the config file's directory).
    pub body_file: Option<Spanned<String>>,
    /// Delay before the answer, in milliseconds of the emulator's clock.
    #[serde(default)]
    pub latency_ms: u64,
    /// Share (0..=1) of matched fetches that fail as a network error.
    pub error_rate: Option<Spanned<f64>>,
    /// Share (0..=1) of matched fetches answered 503.
    pub status_5xx_rate: Option<Spanned<f64>>,
    /// Answer at most this many times (shared by every invocation of a host), then the rule
    /// stops matching.
    pub times: Option<Spanned<u32>>,
}

/// Where a rule's body comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleBody {
    /// The body itself.
    Inline(String),
    /// A file read when the rules are built (relative paths against the `base_dir` given to
    /// [`OutboundRules::new`]).
    File(PathBuf),
}

impl Default for RuleBody {
    fn default() -> Self {
        RuleBody::Inline(String::new())
    }
}

/// One rule, in code. [`OutboundRule::new`] gives the defaults (any method, path `/`, 200, no
/// headers, empty body, no latency, no faults, unlimited).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRule {
    /// The method matched (case-insensitive); any when `None`.
    pub method: Option<String>,
    /// `api.example.com`, `*.example.com` or `host:port`.
    pub host: String,
    /// The start of the path (with the query when it contains `?`).
    pub path_prefix: String,
    /// The answer's status.
    pub status: u16,
    /// The answer's headers.
    pub headers: BTreeMap<String, String>,
    /// The answer's body.
    pub body: RuleBody,
    /// Delay before the answer (or the injected fault), on tokio's clock.
    pub latency_ms: u64,
    /// Share of matches that fail as a network error ([`NETWORK_CONNECTION_LOST`]).
    pub error_rate: f64,
    /// Share of matches answered 503.
    pub status_5xx_rate: f64,
    /// How many times the rule answers before it stops matching; unlimited when `None`.
    pub times: Option<u32>,
}

impl OutboundRule {
    /// A rule answering every request to `host` with an empty 200.
    pub fn new(host: &str) -> Self {
        Self {
            method: None,
            host: host.to_string(),
            path_prefix: "/".to_string(),
            status: 200,
            headers: BTreeMap::new(),
            body: RuleBody::default(),
            latency_ms: 0,
            error_rate: 0.0,
            status_5xx_rate: 0.0,
            times: None,
        }
    }
}

/// Why rules could not be built: which rule (0-based, in file order), which key, where in the
/// file (when known) and what is wrong. Its `Display` is `outbound rule N: KEY: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The rule's position among the `[[outbound]]` tables, from 0.
    pub index: usize,
    /// The key at fault (`status`, `body_file`, ...).
    pub key: &'static str,
    /// The value's byte range in the file, when the rule came from [`compile`].
    pub span: Option<Range<usize>>,
    /// What is wrong, naming the value.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "outbound rule {}: {}: {}",
            self.index + 1,
            self.key,
            self.message
        )
    }
}

impl std::error::Error for RuleError {}

/// Builds rules from `[[outbound]]` tables, reading `body_file`s relative to `base_dir` (the
/// directory of the file the tables came from). Errors carry the value's span.
pub fn compile(specs: &[RuleSpec], base_dir: &Path) -> Result<OutboundRules, RuleError> {
    let mut compiled = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        let at = |key: &'static str, span: Range<usize>, message: String| RuleError {
            index,
            key,
            span: Some(span),
            message,
        };
        let body = match (&spec.body, &spec.body_file) {
            (Some(_), Some(file)) => {
                return Err(at(
                    "body_file",
                    file.span(),
                    "give `body` or `body_file`, not both".into(),
                ));
            }
            (Some(b), None) => RuleBody::Inline(b.get_ref().clone()),
            (None, Some(file)) => RuleBody::File(PathBuf::from(file.get_ref())),
            (None, None) => RuleBody::default(),
        };
        let rule = OutboundRule {
            method: spec.method.as_ref().map(|m| m.get_ref().clone()),
            host: spec.host.get_ref().clone(),
            path_prefix: spec
                .path_prefix
                .as_ref()
                .map_or_else(|| "/".to_string(), |p| p.get_ref().clone()),
            status: spec.status.as_ref().map_or(200, |s| *s.get_ref()),
            headers: spec
                .headers
                .as_ref()
                .map(|h| h.get_ref().clone())
                .unwrap_or_default(),
            body,
            latency_ms: spec.latency_ms,
            error_rate: spec.error_rate.as_ref().map_or(0.0, |r| *r.get_ref()),
            status_5xx_rate: spec.status_5xx_rate.as_ref().map_or(0.0, |r| *r.get_ref()),
            times: spec.times.as_ref().map(|t| *t.get_ref()),
        };
        let c = Compiled::new(&rule, base_dir).map_err(|(key, message)| {
            let span = match key {
                "method" => spec.method.as_ref().map(Spanned::span),
                "host" => Some(spec.host.span()),
                "path_prefix" => spec.path_prefix.as_ref().map(Spanned::span),
                "status" => spec.status.as_ref().map(Spanned::span),
                "headers" => spec.headers.as_ref().map(Spanned::span),
                "body_file" => spec.body_file.as_ref().map(Spanned::span),
                "error_rate" => spec.error_rate.as_ref().map(Spanned::span),
                "status_5xx_rate" => spec.status_5xx_rate.as_ref().map(Spanned::span),
                "times" => spec.times.as_ref().map(Spanned::span),
                _ => None,
            };
            RuleError {
                index,
                key,
                span: span.or_else(|| Some(spec.host.span())),
                message,
            }
        })?;
        compiled.push(c);
    }
    Ok(OutboundRules::from_compiled(compiled))
}

/// The host part of a rule, lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// `api.example.com` (any port) or `api.example.com:8443` (that port).
    Exact { host: String, port: Option<u16> },
    /// `*.example.com`: any subdomain of `example.com` (not `example.com` itself), any port.
    Subdomains(String),
}

impl HostPattern {
    fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim().to_ascii_lowercase();
        if t.is_empty() {
            return Err("the host is empty".into());
        }
        if t.contains("://") || t.contains('/') || t.contains('?') {
            return Err(format!(
                "{text:?} is not a host: give the host name alone (like \"api.example.com\"), \
                 and the path in `path_prefix`"
            ));
        }
        if let Some(rest) = t.strip_prefix("*.") {
            if rest.is_empty() || rest.contains('*') || rest.contains(':') {
                return Err(format!(
                    "{text:?}: a wildcard host is `*.` and a domain (like \"*.example.com\"), \
                     without a port"
                ));
            }
            return Ok(HostPattern::Subdomains(rest.to_string()));
        }
        if t.contains('*') {
            return Err(format!(
                "{text:?}: `*` is allowed only as a leading `*.` (like \"*.example.com\")"
            ));
        }
        // The authority must parse as one (bracketed IPv6 included).
        let authority: http::uri::Authority = t
            .parse()
            .map_err(|_| format!("{text:?} is not a host name or host:port"))?;
        Ok(HostPattern::Exact {
            host: authority.host().to_string(),
            port: authority.port_u16(),
        })
    }

    fn matches(&self, host: &str, port: Option<u16>) -> bool {
        match self {
            HostPattern::Exact { host: h, port: p } => {
                h.eq_ignore_ascii_case(host) && p.is_none_or(|p| Some(p) == port)
            }
            HostPattern::Subdomains(domain) => {
                let host = host.to_ascii_lowercase();
                host.len() > domain.len() + 1
                    && host.ends_with(domain.as_str())
                    && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
            }
        }
    }
}

/// A validated rule, ready to answer.
#[derive(Debug)]
struct Compiled {
    method: Option<Method>,
    host: HostPattern,
    /// The host as written, for messages.
    host_text: String,
    path_prefix: String,
    status: http::StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    latency: Duration,
    error_rate: f64,
    status_5xx_rate: f64,
    times: Option<u32>,
}

const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
];

impl Compiled {
    /// Validates `rule`; on error, the key at fault and what is wrong.
    fn new(rule: &OutboundRule, base_dir: &Path) -> Result<Self, (&'static str, String)> {
        let method = match &rule.method {
            None => None,
            Some(m) => {
                let upper = m.trim().to_ascii_uppercase();
                if !METHODS.contains(&upper.as_str()) {
                    return Err((
                        "method",
                        format!(
                            "{m:?} is not an HTTP method (one of {})",
                            METHODS.join(", ")
                        ),
                    ));
                }
                Some(Method::from_bytes(upper.as_bytes()).map_err(|e| ("method", e.to_string()))?)
            }
        };
        let host = HostPattern::parse(&rule.host).map_err(|e| ("host", e))?;
        if !rule.path_prefix.starts_with('/') {
            return Err((
                "path_prefix",
                format!(
                    "{:?} must start with \"/\" (like \"/v1/charges\")",
                    rule.path_prefix
                ),
            ));
        }
        if !(100..=599).contains(&rule.status) {
            return Err((
                "status",
                format!(
                    "{} is not an HTTP status (expected 100 to 599)",
                    rule.status
                ),
            ));
        }
        let status =
            http::StatusCode::from_u16(rule.status).map_err(|e| ("status", e.to_string()))?;
        let mut headers = Vec::with_capacity(rule.headers.len());
        for (name, value) in &rule.headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ("headers", format!("{name:?} is not a header name")))?;
            let v = HeaderValue::from_str(value).map_err(|_| {
                (
                    "headers",
                    format!("the value of {name:?} is not a header value"),
                )
            })?;
            headers.push((n, v));
        }
        let body = match &rule.body {
            RuleBody::Inline(text) => Bytes::from(text.clone()),
            RuleBody::File(path) => {
                let full = base_dir.join(path);
                let bytes = std::fs::read(&full)
                    .map_err(|e| ("body_file", format!("cannot read {}: {e}", full.display())))?;
                Bytes::from(bytes)
            }
        };
        for (key, rate) in [
            ("error_rate", rule.error_rate),
            ("status_5xx_rate", rule.status_5xx_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err((key, format!("{rate} is not a share between 0 and 1")));
            }
        }
        if rule.times == Some(0) {
            return Err((
                "times",
                "must be at least 1 (remove the rule to never answer)".into(),
            ));
        }
        Ok(Compiled {
            method,
            host,
            host_text: rule.host.trim().to_ascii_lowercase(),
            path_prefix: rule.path_prefix.clone(),
            status,
            headers,
            body,
            latency: Duration::from_millis(rule.latency_ms),
            error_rate: rule.error_rate,
            status_5xx_rate: rule.status_5xx_rate,
            times: rule.times,
        })
    }

    fn matches(&self, method: &Method, uri: &Uri) -> bool {
        if self.method.as_ref().is_some_and(|m| m != method) {
            return false;
        }
        let Some(authority) = uri.authority() else {
            return false;
        };
        if !self.host.matches(authority.host(), authority.port_u16()) {
            return false;
        }
        if self.path_prefix.contains('?') {
            let pq = uri.path_and_query().map_or("/", |pq| pq.as_str());
            pq.starts_with(&self.path_prefix)
        } else {
            let path = if uri.path().is_empty() {
                "/"
            } else {
                uri.path()
            };
            path.starts_with(&self.path_prefix)
        }
    }
}

/// A set of rules, first match wins (file order). Cheap to clone; clones share the `times`
/// counters ([`OutboundRules::fresh`] gives a copy with its own). Empty by default.
#[derive(Clone, Default)]
pub struct OutboundRules {
    rules: Arc<[Compiled]>,
    /// How many times each rule answered.
    used: Arc<[AtomicU32]>,
}

impl fmt::Debug for OutboundRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.rules.iter().map(|r| {
                format!(
                    "{} {}{}",
                    r.method.as_ref().map_or("*", |m| m.as_str()),
                    r.host_text,
                    r.path_prefix
                )
            }))
            .finish()
    }
}

/// What a matched rule does with one request: drawn when the request matched, played out by
/// [`RuleAnswer::respond`].
#[derive(Debug)]
pub struct RuleAnswer {
    /// The rule's position (0-based, file order).
    pub rule: usize,
    /// The delay before the outcome.
    pub latency: Duration,
    /// The outcome.
    pub outcome: Result<http::Response<Bytes>, FetchError>,
}

impl RuleAnswer {
    /// Waits the latency on tokio's clock (virtual under paused time), then gives the outcome.
    pub async fn respond(self) -> Result<http::Response<Bytes>, FetchError> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        self.outcome
    }
}

impl OutboundRules {
    /// Builds `rules`, reading body files relative to `base_dir`.
    pub fn new(rules: &[OutboundRule], base_dir: &Path) -> Result<Self, RuleError> {
        let mut compiled = Vec::with_capacity(rules.len());
        for (index, rule) in rules.iter().enumerate() {
            compiled.push(
                Compiled::new(rule, base_dir).map_err(|(key, message)| RuleError {
                    index,
                    key,
                    span: None,
                    message,
                })?,
            );
        }
        Ok(Self::from_compiled(compiled))
    }

    fn from_compiled(compiled: Vec<Compiled>) -> Self {
        let used = compiled.iter().map(|_| AtomicU32::new(0)).collect();
        Self {
            rules: compiled.into(),
            used,
        }
    }

    /// No rules: every request falls through to the allowlist.
    pub fn none() -> Self {
        Self::default()
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The same rules with their `times` counters at zero, shared with nobody (each
    /// [`Host`](crate::Host) takes one, so hosts built from one config count apart).
    pub fn fresh(&self) -> Self {
        let used = self.rules.iter().map(|_| AtomicU32::new(0)).collect();
        Self {
            rules: self.rules.clone(),
            used,
        }
    }

    /// How many times rule `index` has answered (for tests and reports).
    pub fn uses(&self, index: usize) -> u32 {
        self.used
            .get(index)
            .map_or(0, |u| u.load(Ordering::Relaxed))
    }

    /// The first rule matching `method` and `uri` that has answers left, counted as used, with
    /// its outcome drawn from `rng` (one draw per non-zero fault rate): a network error
    /// ([`NETWORK_CONNECTION_LOST`]) at `error_rate`, else a 503 at `status_5xx_rate`, else the
    /// rule's answer. `None` when no rule matches.
    pub fn answer_parts(&self, method: &Method, uri: &Uri, rng: &mut SimRng) -> Option<RuleAnswer> {
        let index = (0..self.rules.len()).find(|&i| {
            let r = &self.rules[i];
            r.matches(method, uri)
                && match r.times {
                    None => {
                        self.used[i].fetch_add(1, Ordering::Relaxed);
                        true
                    }
                    Some(max) => self.used[i]
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                            (u < max).then_some(u + 1)
                        })
                        .is_ok(),
                }
        })?;
        let rule = &self.rules[index];
        let outcome = if rule.error_rate > 0.0 && rng.chance(rule.error_rate) {
            Err(FetchError::Reset(format!(
                "{NETWORK_CONNECTION_LOST} (edgesim: error_rate of [[outbound]] rule {} for {})",
                index + 1,
                rule.host_text
            )))
        } else if rule.status_5xx_rate > 0.0 && rng.chance(rule.status_5xx_rate) {
            Ok(http::Response::builder()
                .status(http::StatusCode::SERVICE_UNAVAILABLE)
                .header(http::header::CONTENT_TYPE, "text/plain")
                .body(Bytes::from(format!(
                    "edgesim: status_5xx_rate of [[outbound]] rule {} for {}",
                    index + 1,
                    rule.host_text
                )))
                .unwrap_or_default())
        } else {
            let mut resp = http::Response::new(rule.body.clone());
            *resp.status_mut() = rule.status;
            let headers = resp.headers_mut();
            for (name, value) in &rule.headers {
                headers.append(name.clone(), value.clone());
            }
            Ok(resp)
        };
        Some(RuleAnswer {
            rule: index,
            latency: rule.latency,
            outcome,
        })
    }

    /// [`OutboundRules::answer_parts`] for a whole request, as a future: usable outside a
    /// Worker invocation (for example for webhook deliveries). `None` when no rule matches.
    pub fn answer(
        &self,
        req: &http::Request<Bytes>,
        rng: &mut SimRng,
    ) -> Option<BoxFuture<'static, Result<http::Response<Bytes>, FetchError>>> {
        let answer = self.answer_parts(req.method(), req.uri(), rng)?;
        Some(Box::pin(answer.respond()))
    }
}

/// The end of error 1021's message in edgesim: how to make `method` `uri` work, as a rule to
/// paste into `edgesim.toml` or an allowlist entry.
pub fn refusal_hint(method: &Method, uri: &Uri) -> String {
    let host = uri.host().unwrap_or_default();
    let authority = uri.authority().map_or(host, |a| a.as_str());
    let method = if *method == Method::GET {
        String::new()
    } else {
        format!("method = \"{method}\" ")
    };
    let path = match uri.path() {
        "" => "/",
        p => p,
    };
    format!(
        "edgesim: to answer it, add to edgesim.toml: [[outbound]] {method}host = \"{host}\" \
         path_prefix = \"{path}\" status = 200 body = \"...\" — or allowlist = [\"{authority}\"]"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Result<OutboundRules, RuleError> {
        #[derive(Deserialize)]
        struct Doc {
            outbound: Vec<RuleSpec>,
        }
        let doc: Doc = toml::from_str(text).expect("parses");
        compile(&doc.outbound, Path::new("."))
    }

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    fn matched(r: &OutboundRules, method: Method, url: &str) -> Option<usize> {
        r.answer_parts(&method, &uri(url), &mut SimRng::from_seed(1))
            .map(|a| a.rule)
    }

    #[test]
    fn first_match_by_method_host_and_prefix() {
        let r = rules(
            r#"
            [[outbound]]
            method = "post"
            host = "API.Stripe.com"
            path_prefix = "/v1/charges"
            status = 201
            [[outbound]]
            host = "*.example.com"
            [[outbound]]
            host = "api.stripe.com"
            path_prefix = "/v1/search?q=x"
            [[outbound]]
            host = "127.0.0.1:9000"
            "#,
        )
        .unwrap();
        assert_eq!(
            matched(&r, Method::POST, "https://api.stripe.com/v1/charges/ch_1"),
            Some(0)
        );
        assert_eq!(
            matched(&r, Method::GET, "https://api.stripe.com/v1/charges"),
            None
        );
        assert_eq!(
            matched(
                &r,
                Method::POST,
                "https://api.stripe.com:8443/v1/charges?x=1"
            ),
            Some(0),
            "the query is ignored, a rule without port takes any port"
        );
        assert_eq!(
            matched(&r, Method::GET, "http://a.b.example.com/x"),
            Some(1)
        );
        assert_eq!(matched(&r, Method::GET, "http://example.com/x"), None);
        assert_eq!(matched(&r, Method::GET, "http://badexample.com/x"), None);
        assert_eq!(
            matched(&r, Method::GET, "https://api.stripe.com/v1/search?q=xyz"),
            Some(2)
        );
        assert_eq!(
            matched(&r, Method::GET, "https://api.stripe.com/v1/search?q=y"),
            None
        );
        assert_eq!(matched(&r, Method::GET, "http://127.0.0.1:9000/"), Some(3));
        assert_eq!(matched(&r, Method::GET, "http://127.0.0.1:9001/"), None);
    }

    #[test]
    fn answers_status_headers_and_body() {
        let r = rules(
            r#"
            [[outbound]]
            host = "api.example.com"
            status = 402
            headers = { "content-type" = "application/json", "x-a" = "1" }
            body = '{"error":"card_declined"}'
            latency_ms = 250
            "#,
        )
        .unwrap();
        let a = r
            .answer_parts(
                &Method::GET,
                &uri("https://api.example.com/v1"),
                &mut SimRng::from_seed(0),
            )
            .unwrap();
        assert_eq!(a.latency, Duration::from_millis(250));
        let resp = a.outcome.unwrap();
        assert_eq!(resp.status(), 402);
        assert_eq!(resp.headers()["content-type"], "application/json");
        assert_eq!(resp.headers()["x-a"], "1");
        assert_eq!(resp.body().as_ref(), br#"{"error":"card_declined"}"#);
    }

    #[test]
    fn times_limits_answers_and_fresh_resets_them() {
        let r = rules(
            r#"
            [[outbound]]
            host = "a.test"
            times = 2
            status = 500
            [[outbound]]
            host = "a.test"
            "#,
        )
        .unwrap();
        let seq: Vec<_> = (0..4)
            .map(|_| matched(&r, Method::GET, "http://a.test/").unwrap())
            .collect();
        assert_eq!(seq, [0, 0, 1, 1]);
        assert_eq!(r.uses(0), 2);
        assert_eq!(r.uses(1), 2);
        let f = r.fresh();
        assert_eq!(f.uses(0), 0);
        assert_eq!(matched(&f, Method::GET, "http://a.test/"), Some(0));
        assert_eq!(r.uses(0), 2, "the original's counters are untouched");
    }

    #[test]
    fn fault_rates_are_deterministic_per_seed() {
        let r = rules(
            r#"
            [[outbound]]
            host = "flaky.test"
            error_rate = 0.3
            status_5xx_rate = 0.3
            "#,
        )
        .unwrap();
        let run = |seed| {
            let mut rng = SimRng::from_seed(seed);
            (0..200)
                .map(|_| {
                    match r
                        .answer_parts(&Method::GET, &uri("http://flaky.test/"), &mut rng)
                        .unwrap()
                        .outcome
                    {
                        Err(e) => {
                            assert!(e.to_string().starts_with(NETWORK_CONNECTION_LOST), "{e}");
                            'E'
                        }
                        Ok(resp) if resp.status() == 503 => '5',
                        Ok(_) => '.',
                    }
                })
                .collect::<String>()
        };
        let a = run(9);
        assert_eq!(a, run(9));
        assert_ne!(a, run(10));
        let errors = a.matches('E').count();
        let fives = a.matches('5').count();
        // 30 % errors, then 30 % of the rest (21 %) 503s: wide bounds, the stream is fixed.
        assert!((40..=80).contains(&errors), "{a}");
        assert!((20..=65).contains(&fives), "{a}");
    }

    #[test]
    fn bad_rules_name_the_key_and_the_value() {
        let cases = [
            ("method = \"FETCH\"", "method", "FETCH"),
            ("status = 700", "status", "700"),
            ("path_prefix = \"v1\"", "path_prefix", "\"v1\""),
            (
                "body_file = \"no/such/file.json\"",
                "body_file",
                "no/such/file.json",
            ),
            ("error_rate = 1.5", "error_rate", "1.5"),
            ("status_5xx_rate = -0.1", "status_5xx_rate", "-0.1"),
            ("times = 0", "times", "at least 1"),
            (
                "headers = { \"bad header\" = \"x\" }",
                "headers",
                "bad header",
            ),
            ("body = \"x\"\nbody_file = \"y\"", "body_file", "not both"),
        ];
        for (extra, key, needle) in cases {
            let text = format!("[[outbound]]\nhost = \"a.test\"\n{extra}\n");
            let e = rules(&text).expect_err(extra);
            assert_eq!(e.key, key, "{extra}: {e}");
            assert!(e.message.contains(needle), "{extra}: {e}");
            assert!(e.to_string().starts_with("outbound rule 1: "), "{e}");
            let span = e.span.clone().expect("a span");
            let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
            assert!(
                text[line_start..].starts_with(key),
                "{extra}: the span is on the key's line"
            );
        }
        for host in ["https://a.test", "a.test/v1", "", "a.*.test", "*.a.test:80"] {
            let text = format!("[[outbound]]\nhost = \"{host}\"\n");
            let e = rules(&text).expect_err(host);
            assert_eq!(e.key, "host", "{host}: {e}");
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Doc {
            outbound: Vec<RuleSpec>,
        }
        let unknown = toml::from_str::<Doc>("[[outbound]]\nhost = \"a\"\nstatsu = 200\n");
        assert!(unknown.unwrap_err().to_string().contains("statsu"));
    }

    #[test]
    fn body_files_are_read_relative_to_the_base_dir() {
        let dir = std::env::temp_dir().join(format!("edgesim-rules-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("api")).unwrap();
        std::fs::write(dir.join("api/charge.json"), b"{\"id\":\"ch_1\"}").unwrap();
        let mut rule = OutboundRule::new("api.stripe.com");
        rule.body = RuleBody::File("api/charge.json".into());
        let r = OutboundRules::new(&[rule], &dir).unwrap();
        let resp = r
            .answer_parts(
                &Method::GET,
                &uri("https://api.stripe.com/"),
                &mut SimRng::from_seed(0),
            )
            .unwrap()
            .outcome
            .unwrap();
        assert_eq!(resp.body().as_ref(), b"{\"id\":\"ch_1\"}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_hint_is_a_rule_to_paste() {
        let hint = refusal_hint(&Method::POST, &uri("https://api.stripe.com/v1/charges?x=1"));
        assert!(
            hint.contains(
                "[[outbound]] method = \"POST\" host = \"api.stripe.com\" path_prefix = \"/v1/charges\" status = 200"
            ),
            "{hint}"
        );
        assert!(hint.ends_with("allowlist = [\"api.stripe.com\"]"), "{hint}");
        let hint = refusal_hint(&Method::GET, &uri("http://127.0.0.1:9000"));
        assert!(
            hint.contains("[[outbound]] host = \"127.0.0.1\" path_prefix = \"/\""),
            "{hint}"
        );
        assert!(hint.ends_with("allowlist = [\"127.0.0.1:9000\"]"), "{hint}");
    }
}
