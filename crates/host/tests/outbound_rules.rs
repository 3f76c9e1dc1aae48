//! `[[outbound]]` rules answer a Worker's fetches (status, headers, body, latency on the
//! paused clock, seeded faults); unmatched hosts get error 1021 naming the rule that would
//! answer; allowlisted `https://` hosts work through rustls.

mod common;

use bytes::Bytes;
use common::{SUPABASE_URL, TokioClock, body, cache_dir, get, host_with, json};
use edgesim_core::{SharedClock, SimRng};
use edgesim_guests::fixtures;
use edgesim_host::{
    FetchError, Host, HostConfig, HostEvent, HttpUpstream, InProcessUpstream, OutboundRule,
    OutboundRules, RecordingObserver, RuleBody, Upstream,
};
use edgesim_kv::{KvConfig, KvStore};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn rules(list: &[OutboundRule]) -> OutboundRules {
    OutboundRules::new(list, Path::new(".")).expect("valid rules")
}

fn stripe_charge() -> OutboundRule {
    let mut rule = OutboundRule::new("api.stripe.com");
    rule.method = Some("get".into());
    rule.path_prefix = "/v1/charges".into();
    rule.status = 402;
    rule.headers
        .insert("content-type".into(), "application/json".into());
    rule.headers.insert("request-id".into(), "req_1".into());
    rule.body = RuleBody::Inline(r#"{"error":{"code":"card_declined"}}"#.into());
    rule
}

/// What the Worker's (last) fetch of `url` gave: its JSON report.
async fn fetch_via_worker(host: &Host, url: &str, n: u32) -> serde_json::Value {
    let inv = host.handle(get(&format!("/?n={n}&url={url}"), &[])).await;
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
    json(&inv)
}

#[tokio::test(start_paused = true)]
async fn a_rule_answers_the_workers_fetch_with_its_status_headers_and_body() {
    let t = host_with(fixtures::SUBREQUESTS, |c| {
        c.outbound = rules(&[stripe_charge()]);
    });
    let v = fetch_via_worker(
        &t.host,
        "https://api.stripe.com/v1/charges/ch_1?expand=x",
        2,
    )
    .await;
    assert_eq!(v["succeeded"], 2, "{v}");
    assert_eq!(v["error"], serde_json::Value::Null, "{v}");
    let last = &v["last"];
    assert_eq!(last["status"], 402, "{v}");
    assert_eq!(last["headers"]["content-type"], "application/json", "{v}");
    assert_eq!(last["headers"]["request-id"], "req_1", "{v}");
    assert_eq!(last["body"], r#"{"error":{"code":"card_declined"}}"#, "{v}");
    // Reported as fetches with their status, and counted as subrequests.
    let fetches: Vec<_> = t
        .events
        .events()
        .into_iter()
        .filter_map(|e| match e {
            HostEvent::Fetch {
                url, status, error, ..
            } => Some((url, status, error)),
            _ => None,
        })
        .collect();
    assert_eq!(fetches.len(), 2, "{fetches:?}");
    assert!(
        fetches.iter().all(
            |(u, s, e)| u.starts_with("https://api.stripe.com/v1/charges/ch_1")
                && *s == Some(402)
                && e.is_none()
        ),
        "{fetches:?}"
    );
    // Rule answers count against the subrequest limit, as production counts every fetch.
    let t = host_with(fixtures::SUBREQUESTS, |c| {
        c.outbound = rules(&[stripe_charge()]);
        c.limits.subrequests = 1;
    });
    let v = fetch_via_worker(&t.host, "https://api.stripe.com/v1/charges", 2).await;
    assert_eq!(v["succeeded"], 1, "rule answers count as subrequests: {v}");
}

#[tokio::test(start_paused = true)]
async fn rules_go_before_supabase_and_can_inject_faults_there() {
    let mut rule = OutboundRule::new("supabase.test");
    rule.path_prefix = "/rest/v1/articles".into();
    rule.status = 200;
    rule.body = RuleBody::Inline("[]".into());
    let t = host_with(fixtures::SUBREQUESTS, |c| c.outbound = rules(&[rule]));
    let v = fetch_via_worker(&t.host, &format!("{SUPABASE_URL}/rest/v1/articles"), 1).await;
    assert_eq!(v["last"]["body"], "[]", "{v}");
    // Other Supabase paths still reach the upstream.
    let v = fetch_via_worker(&t.host, &format!("{SUPABASE_URL}/rest/v1/other"), 1).await;
    assert_eq!(v["last"]["status"], 404, "{v}");
}

#[tokio::test(start_paused = true)]
async fn an_unmatched_host_is_refused_naming_the_host_and_the_rule_that_would_answer() {
    let t = host_with(fixtures::SUBREQUESTS, |c| {
        c.outbound = rules(&[stripe_charge()]);
    });
    let v = fetch_via_worker(&t.host, "https://api.github.com/repos/x/y?page=2", 1).await;
    assert_eq!(v["succeeded"], 0, "{v}");
    let error = v["error"].as_str().unwrap_or_default();
    // Production's part first, then edgesim's hint.
    assert!(
        error.contains(
            "error code: 1021: Worker has requested a host it cannot access: api.github.com (edgesim:"
        ),
        "{error}"
    );
    assert!(
        error.contains(
            r#"[[outbound]] host = "api.github.com" path_prefix = "/repos/x/y" status = 200"#
        ),
        "{error}"
    );
    assert!(
        error.contains(r#"allowlist = ["api.github.com"]"#),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn latency_is_spent_on_the_paused_clock() {
    let mut rule = stripe_charge();
    rule.latency_ms = 1_500;
    let t = host_with(fixtures::SUBREQUESTS, |c| c.outbound = rules(&[rule]));
    let start = tokio::time::Instant::now();
    let v = fetch_via_worker(&t.host, "https://api.stripe.com/v1/charges", 3).await;
    let elapsed = start.elapsed();
    assert_eq!(v["succeeded"], 3, "{v}");
    assert!(
        elapsed >= Duration::from_millis(4_500) && elapsed < Duration::from_millis(4_600),
        "three fetches one after the other take 3 × 1.5 s of virtual time, took {elapsed:?}"
    );
}

/// A host on `seed` running the subrequests fixture against `upstream`, with `tweak` applied.
fn seeded_host(
    seed: u64,
    upstream: Arc<dyn Upstream>,
    tweak: impl FnOnce(&mut HostConfig),
) -> (Host, Arc<RecordingObserver>) {
    let clock: SharedClock = Arc::new(TokioClock::new());
    let rng = SimRng::from_seed(seed);
    let kv = KvStore::new(KvConfig::default(), clock.clone(), rng.fork("kv"));
    let mut config = HostConfig::new(SUPABASE_URL);
    config.colos = HostConfig::colos_from_codes(&kv.colos());
    tweak(&mut config);
    let events = Arc::new(RecordingObserver::new());
    let host = Host::new(
        fixtures::SUBREQUESTS,
        config,
        kv,
        upstream,
        clock,
        rng.fork("host"),
        Some(&cache_dir()),
    )
    .expect("the host starts")
    .with_observer(events.clone());
    (host, events)
}

fn fake_supabase() -> Arc<dyn Upstream> {
    Arc::new(InProcessUpstream::new(
        SUPABASE_URL,
        Arc::new(|_| http::Response::new(Bytes::from_static(b"[]"))),
    ))
}

/// The outcome of 30 requests of one fetch each to a flaky rule, as a string: `.` answered,
/// `5` a 503, `E` a network error.
async fn flaky_run(seed: u64, config_rules: &OutboundRules) -> String {
    let (host, _) = seeded_host(seed, fake_supabase(), |c| {
        c.outbound = config_rules.clone();
    });
    let mut out = String::new();
    for _ in 0..30 {
        let v = fetch_via_worker(&host, "https://flaky.example/v1", 1).await;
        out.push(match (&v["error"], v["last"]["status"].as_u64()) {
            (serde_json::Value::String(e), _) => {
                assert!(e.contains("Network connection lost."), "{e}");
                assert!(e.contains("error_rate of [[outbound]] rule 1"), "{e}");
                'E'
            }
            (_, Some(503)) => '5',
            (_, Some(200)) => '.',
            other => panic!("unexpected {other:?}: {v}"),
        });
    }
    out
}

#[tokio::test(start_paused = true)]
async fn fault_rates_are_deterministic_for_a_seed() {
    let mut rule = OutboundRule::new("flaky.example");
    rule.error_rate = 0.3;
    rule.status_5xx_rate = 0.3;
    let config_rules = rules(&[rule]);
    let a = flaky_run(11, &config_rules).await;
    assert_eq!(
        a,
        flaky_run(11, &config_rules).await,
        "same seed, same faults"
    );
    assert_ne!(
        a,
        flaky_run(12, &config_rules).await,
        "another seed, other faults"
    );
    assert!(a.contains('E') && a.contains('5') && a.contains('.'), "{a}");
}

#[tokio::test(start_paused = true)]
async fn times_lets_a_rule_answer_a_few_times_then_falls_through() {
    let mut first = OutboundRule::new("api.example.com");
    first.times = Some(2);
    first.status = 503;
    let then = OutboundRule::new("api.example.com");
    let list = rules(&[first, then]);
    // Two hosts from one config count apart.
    for _ in 0..2 {
        let (host, _) = seeded_host(1, fake_supabase(), |c| c.outbound = list.clone());
        let mut statuses = Vec::new();
        for _ in 0..3 {
            let v = fetch_via_worker(&host, "https://api.example.com/x", 1).await;
            statuses.push(v["last"]["status"].as_u64().unwrap_or_default());
        }
        assert_eq!(statuses, [503, 503, 200]);
    }
}

/// A self-signed certificate for 127.0.0.1 and an HTTPS server on a free port answering
/// `hello over tls: PATH`. Returns the port and the certificate (DER).
async fn tls_server() -> (u16, Vec<u8>) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("a certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(signing_key.serialize_der().into());
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .expect("the server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(|req: http::Request<_>| async move {
                    let text = format!("hello over tls: {}", req.uri().path());
                    Ok::<_, std::convert::Infallible>(
                        http::Response::builder()
                            .header("x-served-by", "rcgen")
                            .body(http_body_util::Full::new(Bytes::from(text)))
                            .unwrap(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (port, cert.der().to_vec())
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

fn get_url(url: &str) -> http::Request<Bytes> {
    http::Request::get(url).body(Bytes::new()).unwrap()
}

#[tokio::test]
async fn https_works_with_injected_roots_and_fails_clearly_otherwise() {
    let (port, cert) = tls_server().await;
    let url = format!("https://127.0.0.1:{port}/v1/ping");
    let trusting = HttpUpstream::with_root_certificates([&cert]).expect("a certificate");
    let resp = trusting
        .fetch(get_url(&url))
        .await
        .expect("an https answer");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-served-by"], "rcgen");
    assert_eq!(resp.body().as_ref(), b"hello over tls: /v1/ping");

    // The public roots do not trust a self-signed certificate: a TLS error says so.
    let err = HttpUpstream::new().fetch(get_url(&url)).await.unwrap_err();
    assert!(matches!(err, FetchError::Tls(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "TLS handshake with 127.0.0.1:{port} failed for {url}: "
        )),
        "{text}"
    );
    assert!(text.contains("certificate"), "{text}");

    // Nothing listening: the address, the URL and the OS's reason, once each.
    let dead = closed_port().await;
    let dead_url = format!("https://127.0.0.1:{dead}/x");
    let err = trusting.fetch(get_url(&dead_url)).await.unwrap_err();
    assert!(matches!(err, FetchError::Connect(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "could not connect to 127.0.0.1:{dead} for {dead_url}: "
        )),
        "{text}"
    );
    assert!(
        text.to_ascii_lowercase().contains("connection refused"),
        "{text}"
    );

    // Not a certificate: an error, not a panic.
    assert!(HttpUpstream::with_root_certificates([b"junk".as_slice()]).is_err());

    // Plain http goes through the same client.
    let err = trusting
        .fetch(get_url(&format!("http://127.0.0.1:{dead}/")))
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Connect(_)), "{err:?}");
}

#[tokio::test]
async fn a_worker_fetches_an_allowlisted_https_host() {
    let (port, cert) = tls_server().await;
    let https: Arc<dyn Upstream> =
        Arc::new(HttpUpstream::with_root_certificates([&cert]).expect("a certificate"));
    let upstream = Arc::new(
        InProcessUpstream::new(
            SUPABASE_URL,
            Arc::new(|_| http::Response::new(Bytes::new())),
        )
        .with_fallback(https),
    );
    let (host, events) = seeded_host(3, upstream, |c| {
        c.allowlist = vec![format!("127.0.0.1:{port}")];
    });
    let v = fetch_via_worker(&host, &format!("https://127.0.0.1:{port}/api"), 1).await;
    assert_eq!(v["error"], serde_json::Value::Null, "{v}");
    assert_eq!(v["last"]["status"], 200, "{v}");
    assert_eq!(v["last"]["body"], "hello over tls: /api", "{v}");
    assert!(events.events().iter().any(|e| matches!(
        e,
        HostEvent::Fetch { status: Some(200), url, .. } if url.starts_with("https://127.0.0.1")
    )));
    // An allowlisted https host that does not answer: the fetch fails with a clear message.
    let dead = closed_port().await;
    let upstream = Arc::new(
        InProcessUpstream::new(
            SUPABASE_URL,
            Arc::new(|_| http::Response::new(Bytes::new())),
        )
        .with_fallback(Arc::new(HttpUpstream::new())),
    );
    let (host, _) = seeded_host(3, upstream, |c| {
        c.allowlist = vec![format!("127.0.0.1:{dead}")];
    });
    let v = fetch_via_worker(&host, &format!("https://127.0.0.1:{dead}/api"), 1).await;
    assert_eq!(v["succeeded"], 0, "{v}");
    let error = v["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!(
            "could not connect to 127.0.0.1:{dead} for https://127.0.0.1:{dead}/api: "
        )),
        "{error}"
    );
}
