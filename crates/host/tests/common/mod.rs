//! Helpers for the host tests: a host on virtual time with an in-process fake upstream.

#![allow(dead_code)]

use bytes::Bytes;
use edgesim_core::{Clock, SharedClock, SimRng, VIRTUAL_EPOCH_MS};
use edgesim_host::{Host, HostConfig, InProcessUpstream, Invocation, Limits, RecordingObserver};
use edgesim_kv::{KvConfig, KvStore};
use std::sync::Arc;

/// Where the fake Supabase lives.
pub const SUPABASE_URL: &str = "http://supabase.test";

/// A clock that follows tokio's clock (paused in these tests): virtual time advances when
/// every task is idle, so sleeps and the waitUntil deadline resolve instantly and exactly.
pub struct TokioClock {
    start: tokio::time::Instant,
}

impl TokioClock {
    pub fn new() -> Self {
        Self {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        VIRTUAL_EPOCH_MS + self.start.elapsed().as_millis() as u64
    }
}

/// A host, its KV store and the events it reported.
pub struct TestHost {
    pub host: Host,
    pub kv: KvStore,
    pub events: Arc<RecordingObserver>,
    pub clock: SharedClock,
}

/// A fake Supabase: `GET /rest/v1/articles...` answers two rows; anything else 404.
fn fake_supabase(req: http::Request<Bytes>) -> http::Response<Bytes> {
    if req.uri().path() == "/rest/v1/articles" {
        let body = r#"[{"id":1,"title":"first blog"},{"id":2,"title":"second blog"}]"#;
        http::Response::builder()
            .header("content-type", "application/json")
            .body(Bytes::from(body))
            .unwrap()
    } else {
        http::Response::builder()
            .status(404)
            .body(Bytes::from_static(b"{}"))
            .unwrap()
    }
}

/// A host running `component` with `limits` (call inside a tokio runtime).
pub fn host(component: &[u8], limits: Limits) -> TestHost {
    host_with(component, |c| c.limits = limits)
}

/// A host running `component`, with `tweak` applied to the default config.
pub fn host_with(component: &[u8], tweak: impl FnOnce(&mut HostConfig)) -> TestHost {
    let clock: SharedClock = Arc::new(TokioClock::new());
    let rng = SimRng::from_seed(7);
    let kv_config = KvConfig::default();
    let kv = KvStore::new(kv_config.clone(), clock.clone(), rng.fork("kv"));
    let mut config = HostConfig::new(SUPABASE_URL);
    config.colos = HostConfig::colos_from_codes(&kv.colos());
    config.default_colo = "SYD".into();
    config
        .vars
        .insert("SUPABASE_ANON_KEY".into(), "anon-key".into());
    tweak(&mut config);
    let upstream = Arc::new(InProcessUpstream::new(
        SUPABASE_URL,
        Arc::new(fake_supabase),
    ));
    let events = Arc::new(RecordingObserver::new());
    let host = Host::new(
        component,
        config,
        kv.clone(),
        upstream,
        clock.clone(),
        rng.fork("host"),
        Some(&cache_dir()),
    )
    .expect("the host starts")
    .with_observer(events.clone());
    TestHost {
        host,
        kv,
        events,
        clock,
    }
}

/// The compiled-component cache the tests share (under the target dir).
pub fn cache_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgesim-host-cache")
}

/// A GET of `path` with optional extra headers.
pub fn get(path: &str, headers: &[(&str, &str)]) -> http::Request<Bytes> {
    let mut b = http::Request::get(format!("https://worker.test{path}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Bytes::new()).unwrap()
}

/// The body as text.
pub fn body(inv: &Invocation) -> String {
    String::from_utf8_lossy(inv.response.body()).into_owned()
}

/// The body as JSON.
pub fn json(inv: &Invocation) -> serde_json::Value {
    serde_json::from_slice(inv.response.body())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", body(inv)))
}
