//! Helpers for the JS Worker tests: the toolchain check (skip, or fail on CI), fixture builds
//! shared by the tests of one binary, and a host on virtual time.

#![allow(dead_code)]

use bytes::Bytes;
use edgesim_core::{Clock, SharedClock, SimRng, VIRTUAL_EPOCH_MS};
use edgesim_host::{Host, HostConfig, InProcessUpstream, Invocation, RecordingObserver};
use edgesim_kv::{KvConfig, KvStore};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Where the fake Supabase lives.
pub const SUPABASE_URL: &str = "http://supabase.test";

/// Whether Node.js and npm are here. Without them: on CI (`CI=true`) the test fails; elsewhere
/// it records a visible SKIPPED line (`edgesim_testkit`) and the caller returns.
pub fn node_or_skip(test: &str) -> bool {
    let missing = edgesim_js::node_version().err();
    edgesim_testkit::require_tool(
        test,
        "node",
        missing.is_none(),
        &missing.map(|e| e.to_string()).unwrap_or_default(),
    )
}

/// A fixture's entry file.
pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// The compiled-component cache the tests share (under the target dir).
pub fn compiled_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgesim-js-compiled")
}

/// The component of fixture `entry`, built once per test binary (componentize-js runs only
/// when the bundle changed since the last run) and compiled once (the first host).
pub fn component(entry: &str) -> Arc<Vec<u8>> {
    type Built = Vec<(String, Arc<Vec<u8>>)>;
    static BUILT: OnceLock<Mutex<Built>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, wasm)) = built.iter().find(|(e, _)| e == entry) {
        return wasm.clone();
    }
    let c = edgesim_js::build(&fixture(entry), &edgesim_js::BuildOptions::default())
        .unwrap_or_else(|e| panic!("building {entry}: {e}"));
    let wasm = Arc::new(c.wasm);
    // Compile it now, under the lock, so parallel tests do not each compile it.
    let _ = TestHost::new(&wasm, |_| {});
    built.push((entry.to_string(), wasm.clone()));
    wasm
}

/// A clock that follows tokio's clock (paused in these tests).
pub struct TokioClock {
    start: tokio::time::Instant,
}

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        VIRTUAL_EPOCH_MS + self.start.elapsed().as_millis() as u64
    }
}

/// A host running a component, its KV store and the events it reported.
pub struct TestHost {
    pub host: Host,
    pub kv: KvStore,
    pub events: Arc<RecordingObserver>,
    pub clock: SharedClock,
}

fn fake_supabase(req: http::Request<Bytes>) -> http::Response<Bytes> {
    if req.uri().path() == "/rest/v1/articles" {
        http::Response::builder()
            .header("content-type", "application/json")
            .body(Bytes::from_static(br#"[{"id":1,"title":"first"}]"#))
            .unwrap()
    } else {
        http::Response::builder()
            .status(404)
            .body(Bytes::from_static(b"{}"))
            .unwrap()
    }
}

impl TestHost {
    /// A host with the default colos, one `ARTICLES` binding and two vars, `tweak`ed.
    pub fn new(wasm: &[u8], tweak: impl FnOnce(&mut HostConfig)) -> TestHost {
        let clock: SharedClock = Arc::new(TokioClock {
            start: tokio::time::Instant::now(),
        });
        let rng = SimRng::from_seed(7);
        let kv = KvStore::new(KvConfig::default(), clock.clone(), rng.fork("kv"));
        let mut config = HostConfig::new(SUPABASE_URL);
        config.colos = HostConfig::colos_from_codes(&kv.colos());
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
            wasm,
            config,
            kv.clone(),
            upstream,
            clock.clone(),
            rng.fork("host"),
            Some(&compiled_dir()),
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

    /// GET `path` at the default colo.
    pub async fn get(&self, path: &str) -> Invocation {
        self.host.handle(request("GET", path, &[], "")).await
    }
}

/// A request for `https://worker.test{path}`.
pub fn request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> http::Request<Bytes> {
    let mut b = http::Request::builder()
        .method(method)
        .uri(format!("https://worker.test{path}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Bytes::from(body.to_string())).unwrap()
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
