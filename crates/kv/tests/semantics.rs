//! Exact-time rules on a virtual clock.

use edgesim_core::{ManualClock, SimRng};
use edgesim_kv::*;
use std::sync::Arc;
use std::time::Duration;

fn setup(ryw: ReadYourWrites) -> (ManualClock, KvStore, Namespace) {
    let clock = ManualClock::at_epoch_ms(1_000_000);
    let config = KvConfig {
        propagation: Delay::Fixed { ms: 500 },
        read_your_writes: ryw,
        ..KvConfig::default()
    };
    let store = KvStore::new(
        config,
        Arc::new(clock.clone()),
        SimRng::from_seed(1).fork("kv"),
    );
    let ns = store.namespace("ARTICLES").unwrap();
    (clock, store, ns)
}

fn at(clock: &ManualClock, ms: u64) {
    clock.set_ms(1_000_000 + ms);
}

fn get(ns: &Namespace, colo: &str) -> Read<Option<Vec<u8>>> {
    ns.get(colo, "k", &GetOptions::default()).unwrap()
}

#[test]
fn negative_cache_hides_a_remote_write_until_cache_ttl() {
    let (clock, _store, ns) = setup(ReadYourWrites::On);
    let r = get(&ns, "FRA");
    assert_eq!((r.value, r.cache_status), (None, CacheStatus::Miss));
    assert_eq!(r.latency, Duration::from_millis(20));
    at(&clock, 1_000);
    let w = ns
        .put("SYD", "k", b"v1".to_vec(), &PutOptions::default())
        .unwrap();
    assert_eq!(w.version, 1);
    at(&clock, 59_900);
    let r = get(&ns, "FRA");
    assert_eq!((r.value, r.cache_status), (None, CacheStatus::Hit));
    at(&clock, 60_100);
    let r = get(&ns, "FRA");
    assert_eq!(r.value.as_deref(), Some(&b"v1"[..]));
    assert_eq!((r.cache_status, r.version), (CacheStatus::Miss, Some(1)));
}
