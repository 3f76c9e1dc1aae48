//! Each consistency rule, at exact times on a virtual clock.

mod common;

use common::*;
use edgesim_kv::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn negative_cache_hides_a_remote_write_until_cache_ttl() {
    let env = Env::fixed(ReadYourWrites::On);
    let r = env.get("FRA", "k");
    assert_eq!(
        (text(&r), r.cache_status, r.version),
        (None, CacheStatus::Miss, None)
    );
    assert_eq!(r.latency, Duration::from_millis(20));
    env.at(1_000);
    assert_eq!(env.put("SYD", "k", "v1").version, 1);
    env.at(59_900);
    let r = env.get("FRA", "k");
    assert_eq!((text(&r), r.cache_status), (None, CacheStatus::Hit));
    assert_eq!(r.latency, Duration::ZERO);
    env.at(60_100);
    let r = env.get("FRA", "k");
    assert_eq!(
        (text(&r), r.cache_status, r.version),
        (Some("v1"), CacheStatus::Miss, Some(1))
    );
}

#[test]
fn writer_sees_its_write_at_once_with_read_your_writes_on() {
    let env = Env::fixed(ReadYourWrites::On);
    env.put("SYD", "k", "v1");
    let r = env.get("SYD", "k");
    assert_eq!(
        (text(&r), r.cache_status, r.version),
        (Some("v1"), CacheStatus::Hit, Some(1))
    );
    // Other colos only see it once it has landed at central (500 ms).
    env.at(499);
    assert_eq!(text(&env.get("IAD", "k")), None);
    env.at(500);
    assert_eq!(text(&env.get("NRT", "k")), Some("v1"));
}

#[test]
fn writer_does_not_see_its_write_with_read_your_writes_off() {
    let env = Env::fixed(ReadYourWrites::Off);
    env.put("SYD", "k", "v1");
    let r = env.get("SYD", "k");
    assert_eq!((text(&r), r.cache_status), (None, CacheStatus::Miss));
    // That "not found" is now cached at SYD for 60 s, though central has the value at 500 ms.
    env.at(59_999);
    assert_eq!(text(&env.get("SYD", "k")), None);
    env.at(60_000);
    assert_eq!(text(&env.get("SYD", "k")), Some("v1"));
}

#[test]
fn writer_keeps_its_stale_entry_with_read_your_writes_off() {
    let env = Env::fixed(ReadYourWrites::Off);
    env.put("SYD", "k", "v1");
    env.at(1_000);
    assert_eq!(text(&env.get("SYD", "k")), Some("v1"));
    env.at(2_000);
    env.put("SYD", "k", "v2");
    env.at(60_999);
    assert_eq!(text(&env.get("SYD", "k")), Some("v1"));
    env.at(61_000);
    assert_eq!(text(&env.get("SYD", "k")), Some("v2"));
}

#[test]
fn read_your_writes_probability_is_drawn_per_write_and_seeded() {
    let seen = |seed_env: &Env| {
        (0..40)
            .map(|i| {
                let key = format!("k{i}");
                seed_env.put("SYD", &key, "v");
                seed_env.get("SYD", &key).value.is_some()
            })
            .collect::<Vec<_>>()
    };
    let cfg = || KvConfig {
        propagation: Delay::Fixed { ms: 500 },
        read_your_writes: ReadYourWrites::Probability(0.5),
        ..KvConfig::default()
    };
    let a = seen(&Env::new(cfg()));
    let b = seen(&Env::new(cfg()));
    assert_eq!(a, b, "same seed, same draws");
    assert!(a.iter().any(|x| *x) && a.iter().any(|x| !*x), "{a:?}");
}

#[test]
fn read_your_writes_entry_lasts_until_the_write_lands() {
    let env = Env::new(KvConfig {
        propagation: Delay::Fixed { ms: 90_000 },
        ..KvConfig::default()
    });
    env.put("SYD", "k", "v1");
    env.at(89_999);
    assert_eq!(env.get("SYD", "k").cache_status, CacheStatus::Hit);
    assert_eq!(text(&env.get("FRA", "k")), None);
    env.at(90_000);
    let r = env.get("SYD", "k");
    assert_eq!((text(&r), r.cache_status), (Some("v1"), CacheStatus::Miss));
}

#[test]
fn expiration_beats_a_longer_cache_ttl() {
    let env = Env::fixed(ReadYourWrites::On);
    let opts = PutOptions {
        expiration: Some(T0 / 1000 + 120),
        ..PutOptions::default()
    };
    env.ns.put("SYD", "k", b"v".to_vec(), &opts).unwrap();
    env.at(1_000);
    let r = env.get_ttl("FRA", "k", 300);
    assert_eq!((text(&r), r.cache_status), (Some("v"), CacheStatus::Miss));
    env.at(119_999);
    assert_eq!(env.get_ttl("FRA", "k", 300).cache_status, CacheStatus::Hit);
    env.at(120_000);
    for colo in ["FRA", "SYD", "IAD"] {
        assert_eq!(text(&env.get_ttl(colo, "k", 300)), None, "{colo}");
    }
    let v = env.ns.view("k");
    assert!(v.central.unwrap().expired);
}

#[test]
fn expiration_ttl_is_relative_and_listed_as_absolute() {
    let env = Env::fixed(ReadYourWrites::On);
    env.at(5_000);
    let opts = PutOptions {
        expiration_ttl: Some(60),
        expiration: Some(1), // ignored: expiration_ttl wins
        metadata: Some(serde_json::json!({"a": 1})),
    };
    env.ns.put("SYD", "k", b"v".to_vec(), &opts).unwrap();
    env.at(6_000);
    let page = env.ns.list("FRA", &ListOptions::default()).unwrap().value;
    assert_eq!(page.keys[0].expiration, Some(T0 / 1000 + 65));
    assert_eq!(page.keys[0].metadata, Some(serde_json::json!({"a": 1})));
    env.at(64_999);
    assert!(env.get("IAD", "k").value.is_some());
    env.at(65_000);
    assert!(env.get("IAD", "k").value.is_none());
    assert!(
        env.ns
            .list("FRA", &ListOptions::default())
            .unwrap()
            .value
            .keys
            .is_empty()
    );
}

#[test]
fn lower_cache_ttl_shortens_the_entry_in_that_colo_only() {
    let env = Env::fixed(ReadYourWrites::On);
    env.get_ttl("FRA", "k", 300);
    env.get_ttl("IAD", "k", 300);
    env.put("SYD", "k", "v1");
    env.at(40_000);
    // A read with cacheTtl 30 at FRA: the entry cached at 0 is now older than 30 s.
    let r = env.get_ttl("FRA", "k", 30);
    assert_eq!((text(&r), r.cache_status), (Some("v1"), CacheStatus::Miss));
    // IAD keeps its 300 s negative entry.
    let r = env.get("IAD", "k");
    assert_eq!((text(&r), r.cache_status), (None, CacheStatus::Hit));
    env.at(299_999);
    assert_eq!(text(&env.get("IAD", "k")), None);
    env.at(300_000);
    assert_eq!(text(&env.get("IAD", "k")), Some("v1"));
}

#[test]
fn higher_cache_ttl_does_not_extend_a_cached_entry() {
    let env = Env::fixed(ReadYourWrites::On);
    env.get("FRA", "k"); // cached 60 s
    env.put("SYD", "k", "v1");
    env.at(59_000);
    assert_eq!(env.get_ttl("FRA", "k", 600).cache_status, CacheStatus::Hit);
    env.at(60_000);
    assert_eq!(text(&env.get_ttl("FRA", "k", 600)), Some("v1"));
}

#[test]
fn delete_is_a_tombstone_that_travels_like_a_put() {
    let env = Env::fixed(ReadYourWrites::On);
    env.put("SYD", "k", "v1");
    env.at(1_000);
    assert_eq!(text(&env.get("FRA", "k")), Some("v1"));
    env.at(2_000);
    let w = env.ns.delete("IAD", "k").unwrap();
    assert_eq!(w.version, 2);
    assert_eq!(
        text(&env.get("IAD", "k")),
        None,
        "read-your-writes of a delete"
    );
    env.at(2_499);
    assert_eq!(text(&env.get("NRT", "k")), Some("v1"));
    env.at(2_500);
    assert_eq!(text(&env.get("GRU", "k")), None);
    assert_eq!(
        text(&env.get("FRA", "k")),
        Some("v1"),
        "FRA's cache is still fresh"
    );
    env.at(61_000);
    assert_eq!(text(&env.get("FRA", "k")), None);
    let c = env.ns.view("k").central.unwrap();
    assert!(c.deleted);
    assert_eq!(c.version, 2);
}

#[test]
fn last_write_to_arrive_at_central_wins() {
    let env = Env::new(KvConfig {
        propagation: Delay::Uniform {
            min_ms: 0,
            max_ms: 30_000,
        },
        ..KvConfig::default()
    });
    let colos = env.store.colos();
    for (i, colo) in colos.iter().enumerate() {
        env.at(1_000 * i as u64 + 1_000);
        env.ns
            .put(colo, "k", colo.as_bytes().to_vec(), &PutOptions::default())
            .unwrap();
    }
    let view = env.ns.view("k");
    let last = view
        .pending
        .iter()
        .max_by_key(|p| (p.arrival_ms, p.version))
        .unwrap()
        .clone();
    let arrivals: Vec<_> = view
        .pending
        .iter()
        .map(|p| (p.arrival_ms, p.version))
        .collect();
    let mut sorted = arrivals.clone();
    sorted.sort();
    assert_eq!(arrivals, sorted, "pending listed in landing order");
    assert_ne!(
        last.version,
        colos.len() as u64,
        "seed 1 reorders the writes (otherwise this test proves nothing)"
    );
    env.at(40_000);
    let c = env.ns.view("k").central.unwrap();
    assert_eq!((c.version, c.value), (last.version, last.value));
    env.at(200_000);
    for colo in &colos {
        assert_eq!(env.get(colo, "k").version, Some(last.version));
    }
}

#[test]
fn simultaneous_arrivals_land_in_version_order() {
    let env = Env::fixed(ReadYourWrites::Off);
    env.put("SYD", "a", "1");
    env.put("FRA", "b", "2");
    env.at(500);
    assert_eq!(env.ns.view("a").central.unwrap().version, 1);
    assert_eq!(env.ns.view("b").central.unwrap().version, 2);
}

#[test]
fn versions_are_monotonic_per_namespace() {
    let env = Env::new(KvConfig {
        namespaces: vec!["ARTICLES".into(), "OTHER".into()],
        ..KvConfig::default()
    });
    let other = env.store.namespace("OTHER").unwrap();
    assert_eq!(env.put("SYD", "a", "1").version, 1);
    assert_eq!(env.put("SYD", "b", "1").version, 2);
    assert_eq!(
        other
            .put("SYD", "a", b"1".to_vec(), &PutOptions::default())
            .unwrap()
            .version,
        1
    );
    env.at(1_000);
    assert_eq!(env.ns.delete("SYD", "a").unwrap().version, 3);
}

#[test]
fn one_write_per_second_per_key() {
    let env = Env::fixed(ReadYourWrites::On);
    env.put("SYD", "k", "v1");
    env.at(999);
    let e = env
        .ns
        .put("FRA", "k", b"v2".to_vec(), &PutOptions::default())
        .unwrap_err();
    assert_eq!(
        e,
        KvError::TooManyRequests("KV PUT failed: 429 Too Many Requests".into())
    );
    let e = env.ns.delete("IAD", "k").unwrap_err();
    assert_eq!(e.to_string(), "KV DELETE failed: 429 Too Many Requests");
    env.put("SYD", "other", "x");
    env.at(1_000);
    assert_eq!(
        env.put("FRA", "k", "v2").version,
        3,
        "the rejected writes took no version"
    );
}

#[test]
fn get_with_metadata_returns_metadata_and_cache_status() {
    let env = Env::fixed(ReadYourWrites::On);
    let meta = serde_json::json!({"etag": "x", "n": [1, 2]});
    let opts = PutOptions {
        metadata: Some(meta.clone()),
        ..PutOptions::default()
    };
    env.ns.put("SYD", "k", b"v".to_vec(), &opts).unwrap();
    env.at(1_000);
    let r = env
        .ns
        .get_with_metadata("FRA", "k", &GetOptions::default())
        .unwrap();
    assert_eq!(r.value.value.as_deref(), Some(&b"v"[..]));
    assert_eq!(r.value.metadata, Some(meta.clone()));
    assert_eq!(r.cache_status, CacheStatus::Miss);
    let r = env
        .ns
        .get_with_metadata("FRA", "k", &GetOptions::default())
        .unwrap();
    assert_eq!(
        (r.cache_status, r.value.metadata),
        (CacheStatus::Hit, Some(meta))
    );
    let r = env
        .ns
        .get_with_metadata("FRA", "nope", &GetOptions::default())
        .unwrap();
    assert_eq!(
        r.value,
        ValueWithMetadata {
            value: None,
            metadata: None
        }
    );
}

#[test]
fn bulk_get_keeps_order_and_maps_missing_to_none() {
    let env = Env::fixed(ReadYourWrites::On);
    env.put("SYD", "a", "1");
    env.put("SYD", "c", "3");
    env.at(1_000);
    env.get("FRA", "a");
    let keys: Vec<String> = ["c", "b", "a"].iter().map(|s| s.to_string()).collect();
    let r = env
        .ns
        .get_bulk("FRA", &keys, &GetOptions::default())
        .unwrap();
    let got: Vec<_> = r
        .value
        .iter()
        .map(|e| (e.key.as_str(), e.value.clone(), e.cache_status))
        .collect();
    assert_eq!(
        got,
        [
            ("c", Some(b"3".to_vec()), CacheStatus::Miss),
            ("b", None, CacheStatus::Miss),
            ("a", Some(b"1".to_vec()), CacheStatus::Hit),
        ]
    );
    assert_eq!(r.cache_status, CacheStatus::Miss);
    assert_eq!(r.latency, Duration::from_millis(20));
    let r = env
        .ns
        .get_bulk("FRA", &keys, &GetOptions::default())
        .unwrap();
    assert_eq!(
        (r.cache_status, r.latency),
        (CacheStatus::Hit, Duration::ZERO)
    );
}

#[test]
fn list_pages_in_byte_order_with_cursor() {
    let env = Env::fixed(ReadYourWrites::On);
    for (i, k) in ["b", "a/2", "a/1", "é", "a/10", "Z"].iter().enumerate() {
        env.at(i as u64);
        env.put("SYD", k, "v");
    }
    env.at(10_000);
    let all = env.ns.list("FRA", &ListOptions::default()).unwrap();
    let names: Vec<_> = all.value.keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["Z", "a/1", "a/10", "a/2", "b", "é"]);
    assert!(all.value.list_complete && all.value.cursor.is_none());
    assert_eq!(all.cache_status, CacheStatus::Miss);

    let mut opts = ListOptions {
        prefix: Some("a/".into()),
        limit: Some(2),
        cursor: None,
    };
    let p1 = env.ns.list("FRA", &opts).unwrap().value;
    assert_eq!(
        p1.keys.iter().map(|k| &k.name[..]).collect::<Vec<_>>(),
        ["a/1", "a/10"]
    );
    assert!(!p1.list_complete);
    opts.cursor = p1.cursor;
    let p2 = env.ns.list("FRA", &opts).unwrap().value;
    assert_eq!(
        p2.keys.iter().map(|k| &k.name[..]).collect::<Vec<_>>(),
        ["a/2"]
    );
    assert!(p2.list_complete && p2.cursor.is_none());
}

#[test]
fn list_is_eventually_consistent_per_colo() {
    let env = Env::fixed(ReadYourWrites::On);
    env.put("SYD", "a", "1");
    env.at(1_000);
    let r = env.ns.list("FRA", &ListOptions::default()).unwrap();
    assert_eq!((r.value.keys.len(), r.cache_status), (1, CacheStatus::Miss));
    env.put("SYD", "b", "2");
    env.at(59_999);
    let r = env.ns.list("FRA", &ListOptions::default()).unwrap();
    assert_eq!((r.value.keys.len(), r.cache_status), (1, CacheStatus::Hit));
    assert_eq!(
        env.ns
            .list("IAD", &ListOptions::default())
            .unwrap()
            .value
            .keys
            .len(),
        2
    );
    env.at(61_000);
    assert_eq!(
        env.ns
            .list("FRA", &ListOptions::default())
            .unwrap()
            .value
            .keys
            .len(),
        2
    );
}

#[test]
fn view_shows_central_pending_and_each_colo() {
    let env = Env::fixed(ReadYourWrites::On);
    env.get("FRA", "k");
    env.at(1_000);
    env.put("SYD", "k", "v1");
    let v = env.ns.view("k");
    assert_eq!(v.central, None);
    assert_eq!(v.pending.len(), 1);
    assert_eq!(
        (v.pending[0].origin.as_str(), v.pending[0].arrival_ms),
        ("SYD", T0 + 1_500)
    );
    let fra = v.colos["FRA"].clone().unwrap();
    assert!(fra.negative && fra.fresh);
    assert_eq!(
        (fra.version, fra.cached_at_ms, fra.expires_at_ms),
        (None, T0, T0 + 60_000)
    );
    let syd = v.colos["SYD"].clone().unwrap();
    assert_eq!((syd.version, syd.negative), (Some(1), false));
    assert_eq!(v.colos["IAD"], None);
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["colos"]["SYD"]["value"], "v1");
    env.at(1_500);
    let v = env.ns.view("k");
    assert_eq!(v.central.unwrap().version, 1);
    assert!(v.pending.is_empty());
}

#[test]
fn observer_sees_every_operation() {
    let env = Env::fixed(ReadYourWrites::On);
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    env.store.set_observer(Arc::new(move |e: &KvEvent| {
        sink.lock().unwrap().push(e.clone())
    }));
    env.put("SYD", "k", "v");
    env.get("SYD", "k");
    env.ns.get("SYD", "", &GetOptions::default()).unwrap_err();
    env.ns.list("FRA", &ListOptions::default()).unwrap();
    let ev = events.lock().unwrap();
    let summary: Vec<_> = ev
        .iter()
        .map(|e| {
            (
                e.op,
                e.colo.as_str(),
                e.version,
                e.cache_status,
                e.error.is_some(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (OpKind::Put, "SYD", Some(1), None, false),
            (OpKind::Get, "SYD", Some(1), Some(CacheStatus::Hit), false),
            (OpKind::Get, "SYD", None, None, true),
            (OpKind::List, "FRA", None, Some(CacheStatus::Miss), false),
        ]
    );
    assert_eq!(ev[0].latency_ms, 150);
    assert_eq!(ev[0].namespace, "ARTICLES");
    assert!(serde_json::to_string(&ev[1]).unwrap().contains("\"HIT\""));
}

#[test]
fn regional_tier_halves_latency_for_hot_keys() {
    let env = Env::new(KvConfig {
        regional_tier: true,
        ..KvConfig::default()
    });
    assert_eq!(env.get("SYD", "k").latency, Duration::from_millis(150));
    assert_eq!(env.get("NRT", "k").latency, Duration::from_millis(55));
    env.at(61_000);
    assert_eq!(env.get("GRU", "k").latency, Duration::from_millis(120));
}

#[test]
fn store_is_send_sync_and_clones_share_state() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<KvStore>();
    assert_send_sync::<Namespace>();
    let env = Env::fixed(ReadYourWrites::On);
    let copy = env.store.clone().namespace("ARTICLES").unwrap();
    env.put("SYD", "k", "v");
    assert_eq!(
        copy.get("SYD", "k", &GetOptions::default())
            .unwrap()
            .version,
        Some(1)
    );
    assert_eq!(copy.pending_writes(), 1);
}

#[test]
fn convergence_reports_stale_colos_without_touching_caches() {
    let env = Env::fixed(ReadYourWrites::On);
    env.get("FRA", "k");
    env.ns.list("IAD", &ListOptions::default()).unwrap();
    assert!(env.ns.convergence().is_converged());
    env.at(1_000);
    env.put("SYD", "k", "v1");
    let c = env.ns.convergence();
    assert_eq!(c.pending_writes, 1);
    assert!(!c.is_converged());
    env.at(1_500);
    let c = env.ns.convergence();
    assert_eq!(c.pending_writes, 0);
    assert_eq!(
        c.stale,
        [StaleEntry {
            key: "k".into(),
            colo: "FRA".into(),
            served_version: None,
            central_version: Some(1),
            expires_at_ms: T0 + 60_000,
        }]
    );
    assert_eq!(c.stale_lists.len(), 1);
    assert_eq!(c.stale_lists[0].colo, "IAD");
    assert_eq!(c.stale_until_ms(), T0 + 60_000);
    assert_eq!(
        env.ns.view("k").colos["FRA"].as_ref().unwrap().version,
        None
    );
    env.at(60_000);
    assert!(env.ns.convergence().is_converged());
}
