//! Injected failures, latency and partitions.

mod common;

use common::*;
use edgesim_kv::*;
use std::time::Duration;

#[test]
fn rules_filter_by_op_colo_prefix_and_window() {
    let env = Env::fixed(ReadYourWrites::On);
    let f = env.store.faults();
    f.fail(FaultRule {
        ops: vec![OpKind::Put],
        colo: Some("SYD".into()),
        key_prefix: Some("/articles".into()),
        probability: 1.0,
        from_ms: T0 + 1_000,
        to_ms: T0 + 2_000,
        effect: FaultEffect::ServerError { status: 503 },
    });
    let put = |colo: &str, key: &str| env.ns.put(colo, key, b"v".to_vec(), &PutOptions::default());
    assert!(put("SYD", "/articles/1").is_ok(), "before the window");
    env.at(1_000);
    assert_eq!(
        put("SYD", "/articles/2").unwrap_err().to_string(),
        "KV PUT failed: 503 Service Unavailable"
    );
    assert!(put("FRA", "/articles/3").is_ok(), "other colo");
    assert!(put("SYD", "/other").is_ok(), "other prefix");
    assert!(
        env.ns
            .get("SYD", "/articles/2", &GetOptions::default())
            .is_ok(),
        "other op"
    );
    env.at(2_000);
    assert!(put("SYD", "/articles/4").is_ok(), "window is half-open");
    assert_eq!(f.rules().len(), 1);
}

#[test]
fn extra_latency_adds_to_hits_misses_and_writes() {
    let env = Env::fixed(ReadYourWrites::On);
    env.store.faults().fail(FaultRule::always(
        FaultEffect::ExtraLatency { ms: 250 },
        0,
        u64::MAX,
    ));
    assert_eq!(env.get("FRA", "k").latency, Duration::from_millis(270));
    assert_eq!(env.get("FRA", "k").latency, Duration::from_millis(250));
    assert_eq!(env.put("SYD", "k", "v").latency, Duration::from_millis(400));
    let l = env.ns.list("IAD", &ListOptions::default()).unwrap();
    assert_eq!(l.latency, Duration::from_millis(260));
}

#[test]
fn probability_draws_are_seeded_and_failed_ops_change_nothing() {
    let run = || {
        let env = Env::fixed(ReadYourWrites::On);
        env.store.faults().fail(FaultRule {
            probability: 0.3,
            ..FaultRule::always(FaultEffect::TooManyRequests, 0, u64::MAX)
        });
        (0..200)
            .map(|i| {
                env.at(i * 1_000);
                env.ns
                    .put("SYD", "k", b"v".to_vec(), &PutOptions::default())
                    .is_ok()
            })
            .collect::<Vec<_>>()
    };
    let a = run();
    assert_eq!(a, run());
    let ok = a.iter().filter(|x| **x).count();
    assert!(
        (100..180).contains(&ok),
        "{ok} of 200 succeeded at p=0.3 failure"
    );
}

#[test]
fn partition_serves_fresh_cache_and_fails_misses_and_writes() {
    let env = Env::fixed(ReadYourWrites::On);
    env.put("SYD", "a", "1");
    env.at(1_000);
    env.get("FRA", "a");
    env.ns.list("FRA", &ListOptions::default()).unwrap();
    let f = env.store.faults();
    let id = f.partition("FRA", T0 + 2_000, T0 + 100_000);
    env.at(2_000);
    assert!(f.is_partitioned("FRA", T0 + 2_000) && !f.is_partitioned("SYD", T0 + 2_000));
    let r = env.get("FRA", "a");
    assert_eq!((text(&r), r.cache_status), (Some("1"), CacheStatus::Hit));
    assert_eq!(
        env.ns
            .list("FRA", &ListOptions::default())
            .unwrap()
            .cache_status,
        CacheStatus::Hit
    );
    let miss = env.ns.get("FRA", "b", &GetOptions::default()).unwrap_err();
    assert_eq!(
        miss,
        KvError::Unavailable("KV GET failed: 503 Service Unavailable".into())
    );
    let put = env
        .ns
        .put("FRA", "c", vec![], &PutOptions::default())
        .unwrap_err();
    assert_eq!(put.to_string(), "KV PUT failed: 503 Service Unavailable");
    assert_eq!(env.ns.view("c").pending.len(), 0, "writes are not queued");
    // The entry expires during the partition: now a miss, which fails.
    env.at(61_000);
    assert!(env.ns.get("FRA", "a", &GetOptions::default()).is_err());
    assert!(env.ns.list("FRA", &ListOptions::default()).is_err());
    // Other colos are unaffected; healing restores FRA.
    assert_eq!(text(&env.get("SYD", "a")), Some("1"));
    assert!(f.remove(id));
    assert!(!f.remove(id));
    assert_eq!(text(&env.get("FRA", "a")), Some("1"));
}

#[test]
fn writes_in_flight_land_during_a_partition_of_their_origin() {
    let env = Env::fixed(ReadYourWrites::On);
    env.put("SYD", "k", "v");
    env.store.faults().partition("SYD", T0, T0 + 10_000);
    env.at(600);
    assert_eq!(text(&env.get("IAD", "k")), Some("v"));
}

#[test]
fn clear_removes_rules_and_partitions() {
    let env = Env::fixed(ReadYourWrites::On);
    let f = env.store.faults();
    f.fail(FaultRule::always(FaultEffect::TooManyRequests, 0, u64::MAX));
    f.partition("SYD", 0, u64::MAX);
    assert_eq!((f.rules().len(), f.partitions().len()), (1, 1));
    f.clear();
    assert!(f.rules().is_empty() && f.partitions().is_empty());
    assert!(
        env.ns
            .put("SYD", "k", vec![], &PutOptions::default())
            .is_ok()
    );
}

#[test]
fn first_matching_failure_wins_and_latencies_add() {
    let env = Env::fixed(ReadYourWrites::On);
    let f = env.store.faults();
    f.fail(FaultRule::always(
        FaultEffect::ExtraLatency { ms: 5 },
        0,
        u64::MAX,
    ));
    f.fail(FaultRule::always(
        FaultEffect::ServerError { status: 502 },
        0,
        u64::MAX,
    ));
    f.fail(FaultRule::always(FaultEffect::TooManyRequests, 0, u64::MAX));
    assert_eq!(
        env.ns
            .get("SYD", "k", &GetOptions::default())
            .unwrap_err()
            .to_string(),
        "KV GET failed: 502 Bad Gateway"
    );
}
