//! SQLite persistence of central and of writes in flight.

mod common;

use common::T0;
use edgesim_core::{ManualClock, SimRng};
use edgesim_kv::*;
use std::sync::Arc;

fn open(clock: &ManualClock, path: &std::path::Path) -> Namespace {
    let config = KvConfig {
        propagation: Delay::Fixed { ms: 500 },
        ..KvConfig::default()
    };
    KvStore::open_persistent(config, Arc::new(clock.clone()), SimRng::from_seed(1), path)
        .unwrap()
        .namespace("ARTICLES")
        .unwrap()
}

#[test]
fn central_and_in_flight_writes_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("edgesim-kv-persist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kv.sqlite");
    let _ = std::fs::remove_file(&path);
    let clock = ManualClock::at_epoch_ms(T0);
    {
        let ns = open(&clock, &path);
        let meta = PutOptions {
            metadata: Some(serde_json::json!({"m": true})),
            expiration_ttl: Some(3_600),
            ..PutOptions::default()
        };
        ns.put("SYD", "landed", b"1".to_vec(), &meta).unwrap();
        ns.put("SYD", "gone", b"x".to_vec(), &PutOptions::default())
            .unwrap();
        clock.set_ms(T0 + 1_000);
        ns.delete("FRA", "gone").unwrap();
        ns.put("FRA", "flying", b"2".to_vec(), &PutOptions::default())
            .unwrap();
        assert_eq!(ns.pending_writes(), 2);
    }
    let ns = open(&clock, &path);
    let v = ns.view("landed");
    let c = v.central.unwrap();
    assert_eq!((c.version, c.value.as_deref()), (1, Some(&b"1"[..])));
    assert_eq!(c.expiration, Some(T0 / 1000 + 3_600));
    assert!(v.colos.values().all(Option::is_none), "caches start cold");
    assert_eq!(ns.pending_writes(), 2);
    clock.set_ms(T0 + 1_500);
    let r = ns
        .get_with_metadata("IAD", "landed", &GetOptions::default())
        .unwrap();
    assert_eq!(r.value.metadata, Some(serde_json::json!({"m": true})));
    assert_eq!(
        ns.get("IAD", "flying", &GetOptions::default())
            .unwrap()
            .version,
        Some(4)
    );
    assert_eq!(
        ns.get("IAD", "gone", &GetOptions::default()).unwrap().value,
        None
    );
    assert!(ns.view("gone").central.unwrap().deleted);
    clock.set_ms(T0 + 3_000);
    assert_eq!(
        ns.put("SYD", "next", vec![], &PutOptions::default())
            .unwrap()
            .version,
        5,
        "versions continue after a restart"
    );
    drop(ns);
    let ns = open(&clock, &path);
    assert_eq!(ns.pending_writes(), 1);
    assert_eq!(ns.central_keys(), ["flying", "gone", "landed"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unopenable_path_is_an_error_not_a_panic() {
    let clock = ManualClock::at_epoch_ms(T0);
    let e = KvStore::open_persistent(
        KvConfig::default(),
        Arc::new(clock),
        SimRng::from_seed(1),
        std::path::Path::new("/nonexistent-dir/x/kv.sqlite"),
    )
    .unwrap_err();
    assert!(
        matches!(e, KvError::Unavailable(ref m) if m.starts_with("KV storage failed: cannot open /nonexistent-dir/x/kv.sqlite")),
        "{e}"
    );
}
