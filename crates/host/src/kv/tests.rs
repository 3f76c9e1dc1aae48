//! The KV interfaces called directly on their host implementations (no guest needed).

use super::wit::{self, HostNamespace};
use super::{KvCtx, KvView, NamespaceHandle};
use crate::observer::{HostEvent, RecordingObserver};
use crate::state::InvocationStats;
use edgesim_core::{ManualClock, SimRng};
use edgesim_kv::{KvConfig, KvStore, OpBudget};
use std::sync::Arc;
use wasmtime::component::{Resource, ResourceTable};

pub(crate) fn kv_ctx(colo: &str, ops: u32) -> (KvCtx, Arc<RecordingObserver>, ManualClock) {
    let clock = ManualClock::new();
    let store = KvStore::new(
        KvConfig::default(),
        Arc::new(clock.clone()),
        SimRng::from_seed(1),
    );
    let events = Arc::new(RecordingObserver::new());
    let ctx = KvCtx {
        store,
        colo: colo.to_string(),
        ray: "0000000000000001-SYD".to_string(),
        bindings: Arc::new(vec!["ARTICLES".to_string()]),
        budget: Arc::new(std::sync::Mutex::new(OpBudget::new(ops))),
        stats: Arc::new(InvocationStats::default()),
        observer: events.clone(),
    };
    (ctx, events, clock)
}

fn borrow(ns: &Resource<NamespaceHandle>) -> Resource<NamespaceHandle> {
    Resource::new_borrow(ns.rep())
}

#[tokio::test(start_paused = true)]
async fn binding_calls_reach_the_model_with_their_options() {
    let (mut ctx, events, clock) = kv_ctx("SYD", 1000);
    let mut table = ResourceTable::new();
    let mut kv = KvView {
        ctx: &mut ctx,
        table: &mut table,
    };
    let missing = kv.open("NOPE".into()).await.unwrap();
    assert!(matches!(missing, Err(wit::KvError::NoSuchBinding(m)) if m.contains("NOPE")));
    let ns = kv.open("ARTICLES".into()).await.unwrap().unwrap();

    let put = wit::PutOptions {
        expiration: None,
        expiration_ttl: Some(120),
        metadata: Some(r#"{"source":"test"}"#.into()),
    };
    kv.put(borrow(&ns), "/articles/1".into(), b"one".to_vec(), put)
        .await
        .unwrap()
        .unwrap();
    let got = kv
        .get_with_metadata(
            borrow(&ns),
            "/articles/1".into(),
            wit::GetOptions { cache_ttl: None },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.value.as_deref(), Some(&b"one"[..]));
    assert_eq!(got.metadata.as_deref(), Some(r#"{"source":"test"}"#));
    assert!(
        matches!(got.cache_status, wit::CacheStatus::Hit),
        "read your own write"
    );

    // Production's validation errors arrive as `invalid` with the binding's message.
    let bad = kv
        .put(
            borrow(&ns),
            "k".into(),
            b"v".to_vec(),
            wit::PutOptions {
                expiration: None,
                expiration_ttl: Some(5),
                metadata: None,
            },
        )
        .await
        .unwrap();
    assert!(matches!(bad, Err(wit::KvError::Invalid(_))), "{bad:?}");

    let page = kv
        .list(
            borrow(&ns),
            wit::ListOptions {
                prefix: Some("/articles/".into()),
                limit: None,
                cursor: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    // The write is still on its way to central, which is what list reads.
    assert!(page.list_complete);

    // One write per second per key: a delete right away is refused, a second later it is not.
    let early = kv.delete(borrow(&ns), "/articles/1".into()).await.unwrap();
    assert!(
        matches!(early, Err(wit::KvError::TooManyRequests(_))),
        "{early:?}"
    );
    clock.advance(std::time::Duration::from_secs(2));
    kv.delete(borrow(&ns), "/articles/1".into())
        .await
        .unwrap()
        .unwrap();
    let gone = kv
        .get(
            borrow(&ns),
            "/articles/1".into(),
            wit::GetOptions {
                cache_ttl: Some(60),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone, None);
    let bulk = kv
        .get_bulk(
            borrow(&ns),
            vec!["a".into(), "b".into()],
            wit::GetOptions { cache_ttl: None },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        bulk.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    kv.drop(ns).await.unwrap();

    let calls: Vec<(String, String)> = events
        .events()
        .into_iter()
        .filter_map(|e| match e {
            HostEvent::KvCall { op, result, .. } => Some((op, result)),
            _ => None,
        })
        .collect();
    assert_eq!(calls[0], ("put".to_string(), "ok".to_string()));
    assert_eq!(
        calls[1],
        ("get_with_metadata".to_string(), "hit".to_string())
    );
    assert_eq!(calls[2].0, "put");
    assert_ne!(calls[2].1, "ok");
}

#[tokio::test(start_paused = true)]
async fn the_operation_budget_ends_in_too_many_operations() {
    let (mut ctx, _, _) = kv_ctx("FRA", 2);
    let stats = ctx.stats.clone();
    let mut table = ResourceTable::new();
    let mut kv = KvView {
        ctx: &mut ctx,
        table: &mut table,
    };
    let ns = kv.open("ARTICLES".into()).await.unwrap().unwrap();
    for _ in 0..2 {
        let r = kv
            .get(borrow(&ns), "k".into(), wit::GetOptions { cache_ttl: None })
            .await
            .unwrap();
        assert_eq!(r.unwrap(), None);
    }
    let third = kv
        .get(borrow(&ns), "k".into(), wit::GetOptions { cache_ttl: None })
        .await
        .unwrap();
    assert!(
        matches!(third, Err(wit::KvError::TooManyOperations(_))),
        "{third:?}"
    );
    assert_eq!(stats.kv_hits_misses(), (1, 1));
}
