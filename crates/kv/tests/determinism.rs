//! Same seed, same operations, same clock: same results, versions, latencies and events.

mod common;

use common::T0;
use edgesim_core::{ManualClock, SimRng};
use edgesim_kv::*;
use std::sync::{Arc, Mutex};

fn run(seed: u64) -> (Vec<String>, String) {
    let clock = ManualClock::at_epoch_ms(T0);
    let config = KvConfig {
        propagation: Delay::LogNormal {
            median_ms: 800,
            sigma: 1.2,
            max_ms: 30_000,
        },
        read_your_writes: ReadYourWrites::Probability(0.7),
        regional_tier: true,
        ..KvConfig::default()
    };
    let store = KvStore::new(
        config,
        Arc::new(clock.clone()),
        SimRng::from_seed(seed).fork("kv"),
    );
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    store.set_observer(Arc::new(move |e: &KvEvent| {
        sink.lock().unwrap().push(serde_json::to_string(e).unwrap())
    }));
    store.faults().fail(FaultRule {
        probability: 0.1,
        ..FaultRule::always(FaultEffect::ServerError { status: 503 }, 0, u64::MAX)
    });
    store.faults().fail(FaultRule {
        probability: 0.2,
        ..FaultRule::always(FaultEffect::ExtraLatency { ms: 40 }, 0, u64::MAX)
    });
    let ns = store.namespace("ARTICLES").unwrap();
    let colos = store.colos();
    for i in 0..400u64 {
        clock.set_ms(T0 + i * 700);
        let colo = &colos[(i * 7 % 5) as usize];
        let key = format!("k{}", i % 4);
        match i % 5 {
            0 | 1 => {
                let _ = ns.put(
                    colo,
                    &key,
                    i.to_string().into_bytes(),
                    &PutOptions::default(),
                );
            }
            2 => {
                let _ = ns.delete(colo, &key);
            }
            3 => {
                let _ = ns.list(colo, &ListOptions::default());
            }
            _ => {
                let _ = ns.get(colo, &key, &GetOptions::default());
            }
        }
    }
    let views: String = (0..4)
        .map(|k| serde_json::to_string(&ns.view(&format!("k{k}"))).unwrap())
        .collect();
    let log = log.lock().unwrap().clone();
    (log, views)
}

#[test]
fn same_seed_same_everything() {
    let a = run(11);
    assert_eq!(a, run(11));
    assert_eq!(a.0.len(), 400);
    assert_ne!(a, run(12), "a different seed draws differently");
}

#[test]
fn observer_may_call_back_into_the_store() {
    let clock = ManualClock::at_epoch_ms(T0);
    let store = KvStore::new(KvConfig::default(), Arc::new(clock), SimRng::from_seed(1));
    let ns = store.namespace("ARTICLES").unwrap();
    let inner = ns.clone();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    store.set_observer(Arc::new(move |e: &KvEvent| {
        if let Some(k) = &e.key {
            sink.lock().unwrap().push(inner.view(k).colos.len());
        }
    }));
    ns.get("SYD", "k", &GetOptions::default()).unwrap();
    assert_eq!(*seen.lock().unwrap(), [5]);
    store.clear_observer();
    ns.get("SYD", "k", &GetOptions::default()).unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn namespaces_may_override_propagation_ryw_and_ttl() {
    let clock = ManualClock::at_epoch_ms(T0);
    let mut config = KvConfig {
        propagation: Delay::Fixed { ms: 500 },
        namespaces: vec!["ARTICLES".into(), "SLOW".into()],
        ..KvConfig::default()
    };
    config.namespace_overrides.insert(
        "SLOW".into(),
        NamespaceOverride {
            propagation: Some(Delay::Fixed { ms: 5_000 }),
            read_your_writes: Some(ReadYourWrites::Off),
            default_cache_ttl_s: Some(120),
        },
    );
    let store = KvStore::new(config, Arc::new(clock.clone()), SimRng::from_seed(1));
    let slow = store.namespace("SLOW").unwrap();
    let fast = store.namespace("ARTICLES").unwrap();
    assert_eq!(slow.params().convergence_bound_ms(), 125_000);
    assert_eq!(fast.params().convergence_bound_ms(), 60_500);
    assert_eq!(store.convergence_bound_ms(), 125_000);
    let g = GetOptions::default();
    for ns in [&slow, &fast] {
        ns.put("SYD", "k", b"v".to_vec(), &PutOptions::default())
            .unwrap();
    }
    assert_eq!(
        slow.get("SYD", "k", &g).unwrap().value,
        None,
        "read-your-writes off"
    );
    assert!(fast.get("SYD", "k", &g).unwrap().value.is_some());
    clock.set_ms(T0 + 1_000);
    assert_eq!(slow.get("FRA", "k", &g).unwrap().value, None);
    let e = slow.view("k").colos["FRA"].clone().unwrap();
    assert_eq!(e.expires_at_ms, T0 + 121_000, "default cacheTtl 120 s");
}
