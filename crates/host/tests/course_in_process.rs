//! The course walkthrough with no sockets, on paused tokio time: the course Worker, the KV model
//! and the mock Supabase in one process, as the simulation drives them. Run twice, the event
//! logs are identical.

mod common;

use bytes::Bytes;
use common::TokioClock;
use edgesim_core::{SharedClock, SimRng};
use edgesim_host::{Host, HostConfig, HostEvent, InProcessUpstream, Invocation, RecordingObserver};
use edgesim_kv::{KvConfig, KvStore};
use edgesim_supabase::{Supabase, WebhookDelivery, WebhookDispatcher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SUPABASE_URL: &str = "http://supabase.local";

/// Keeps webhook deliveries for the test to hand to the Worker.
#[derive(Default)]
struct Outbox(Mutex<Vec<WebhookDelivery>>);

impl WebhookDispatcher for Outbox {
    fn dispatch(&self, delivery: WebhookDelivery) {
        self.0.lock().unwrap().push(delivery);
    }
}

struct World {
    host: Host,
    supabase: Supabase,
    outbox: Arc<Outbox>,
    events: Arc<RecordingObserver>,
}

fn world(seed: u64) -> World {
    let clock: SharedClock = Arc::new(TokioClock::new());
    let root = SimRng::from_seed(seed);
    let outbox = Arc::new(Outbox::default());
    let supabase = Supabase::demo(clock.clone(), outbox.clone()).expect("the demo project loads");
    let kv = KvStore::new(KvConfig::default(), clock.clone(), root.fork("kv"));
    let mut config = HostConfig::new(SUPABASE_URL);
    config.colos = HostConfig::colos_from_codes(&kv.colos());
    config.vars.insert(
        "SUPABASE_ANON_KEY".into(),
        edgesim_supabase::ANON_KEY.into(),
    );
    let sb = supabase.clone();
    let upstream = InProcessUpstream::new(SUPABASE_URL, Arc::new(move |r| sb.handle(r)));
    let events = Arc::new(RecordingObserver::new());
    let host = Host::new(
        edgesim_guests::COURSE,
        config,
        kv,
        Arc::new(upstream),
        clock,
        root.fork("host"),
        Some(&common::cache_dir()),
    )
    .expect("the course Worker links")
    .with_observer(events.clone());
    World {
        host,
        supabase,
        outbox,
        events,
    }
}

async fn get(w: &World, colo: &str, path: &str) -> Invocation {
    let inv = w.host.handle_at(colo, common::get(path, &[])).await;
    assert_eq!(
        inv.response.status(),
        200,
        "{path} at {colo}: {}",
        common::body(&inv)
    );
    inv
}

fn title(inv: &Invocation) -> String {
    common::json(inv)["title"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The whole walkthrough; returns the host's event log.
async fn walkthrough(seed: u64) -> Vec<String> {
    let w = world(seed);
    get(&w, "SYD", "/articles").await;
    get(&w, "SYD", "/articles").await;
    assert_eq!(title(&get(&w, "FRA", "/articles/2").await), "second blog");
    // One write per second per key: let the misses' writes age before the webhook writes.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let key = edgesim_supabase::SERVICE_ROLE_KEY;
    let patch = http::Request::patch(format!("{SUPABASE_URL}/rest/v1/articles?id=eq.2"))
        .header("apikey", key)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Bytes::from_static(br#"{"title":"cool second blog"}"#))
        .unwrap();
    let resp = w.supabase.handle(patch);
    assert!(resp.status().is_success(), "{:?}", resp.body());

    let deliveries: Vec<WebhookDelivery> = std::mem::take(&mut *w.outbox.0.lock().unwrap());
    assert_eq!(deliveries.len(), 1);
    for d in deliveries {
        let mut req = http::Request::builder()
            .method(d.method.as_str())
            .uri(d.url.as_str());
        for (k, v) in &d.headers {
            req = req.header(k, v);
        }
        let inv = w.host.handle(req.body(d.body.clone()).unwrap()).await;
        assert_eq!(inv.response.status(), 200, "{}", common::body(&inv));
        assert_eq!(inv.colo.as_deref(), Some("SYD"));
        if let Some(bg) = inv.background {
            assert_eq!(bg.wait().await, edgesim_host::WaitUntilOutcome::Completed);
        }
    }

    assert_eq!(
        title(&get(&w, "SYD", "/articles/2").await),
        "cool second blog"
    );
    assert_eq!(title(&get(&w, "FRA", "/articles/2").await), "second blog");
    tokio::time::sleep(Duration::from_secs(120)).await;
    for colo in ["SYD", "FRA", "IAD", "NRT", "GRU"] {
        assert_eq!(
            title(&get(&w, colo, "/articles/2").await),
            "cool second blog",
            "at {colo}"
        );
        let list = common::body(&get(&w, colo, "/articles").await);
        assert!(
            list.contains("cool second blog"),
            "/articles at {colo}: {list}"
        );
    }

    let events = w.events.events();
    let kv: Vec<(u32, u32)> = events
        .iter()
        .filter_map(|e| match e {
            HostEvent::RequestEnd {
                path,
                kv_hits,
                kv_misses,
                ..
            } if path == "/articles" => Some((*kv_hits, *kv_misses)),
            _ => None,
        })
        .take(2)
        .collect();
    assert_eq!(kv, [(0, 1), (1, 0)], "a miss, then a hit");
    events.iter().map(|e| format!("{e:?}")).collect()
}

#[tokio::test(start_paused = true)]
async fn the_course_walkthrough_runs_in_process_and_replays_exactly() {
    let first = walkthrough(42).await;
    let second = walkthrough(42).await;
    assert_eq!(first, second);
    assert!(first.iter().any(|e| e.starts_with("Fetch")));
}
