//! The checker judges any Worker from what it did: the staleness bounds come from the event
//! log (the cacheTtl of its reads, the expiration of its writes, its retries), so the embedded
//! hardened Worker run as a plain component file (no variant, as a JS twin is) gets the same
//! bounds as the hardened variant; and a run that checked nothing fails.

use edgesim_sim::runner::{run_worker, worker_of};
use edgesim_sim::scenario::Scenario;
use edgesim_sim::{Property, Variant, WorkerSpec};
use std::path::PathBuf;

fn scenario(name: &str) -> Scenario {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/scenarios")
        .join(format!("{name}.toml"));
    Scenario::load(&p).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_component_gets_the_bounds_of_the_variant_it_is() {
    let s = scenario("burst-429");
    let hardened = worker_of(&s, Some(&WorkerSpec::Embedded(Variant::Hardened))).unwrap();
    let dir = std::env::temp_dir().join(format!("edgesim-bounds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("hardened.wasm");
    std::fs::write(&file, hardened.component.bytes()).unwrap();
    let component = worker_of(&s, Some(&WorkerSpec::Component(file))).unwrap();
    assert_eq!(component.variant, None);

    let a = run_worker(&s, 1, &hardened).unwrap();
    let b = run_worker(&s, 1, &component).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        a.passed() && b.passed(),
        "{:?}\n{:?}",
        a.violations,
        b.violations
    );
    assert_eq!(a.bounds, b.bounds);
    assert_eq!(a.bounds_observed, b.bounds_observed);
    let bounds = a.bounds.as_ref().unwrap();
    let keys = &bounds.observed.as_ref().unwrap().0.keys;
    for key in ["/articles", "/articles/1", "/articles/2"] {
        let u = &keys[key];
        assert_eq!(u.cache_ttl_s, Some(30), "{key}: {u}");
        assert_eq!(u.expiration_ttl_s(), Some(120), "{key}: {u}");
        // cacheTtl 30 s + propagation 0.5 s + webhook delay 0.05 s + processing 8 × 2 ×
        // 60 ms + the retries the log shows; under faults, expirationTtl 120 s on top.
        let (ff, uf) = bounds.for_key(key);
        assert_eq!(ff, 30_000 + 500 + 50 + 960 + u.retry_max_ms, "{key}");
        assert_eq!(uf, Some(120_000 + ff), "{key}");
    }
    let text = a.bounds_observed.as_deref().unwrap();
    assert!(
        text.contains("/articles/2 cacheTtl 30 s (") && text.contains("expirationTtl 120 s ("),
        "{text}"
    );
    assert!(
        text.ends_with("propagation ≤ 500 ms; webhook delay ≤ 50 ms"),
        "{text}"
    );

    // The course Worker: plain reads (the KV default, 60 s), writes without expiry.
    let course = edgesim_sim::run(&s, 1, Some(Variant::Course)).unwrap();
    let cb = course.bounds.as_ref().unwrap();
    let u = &cb.observed.as_ref().unwrap().0.keys["/articles/2"];
    assert_eq!((u.cache_ttl_s, u.expiration_ttl_s()), (Some(60), None));
    assert_eq!(cb.for_key("/articles/2").1, None);
}

#[test]
fn a_run_that_serves_no_tracked_path_fails_with_nothing_checked() {
    let mut s = scenario("dropped-webhook");
    for w in &mut s.workload {
        w.paths = vec!["/hello".into()];
    }
    let r = edgesim_sim::run(&s, 1, Some(Variant::Hardened)).unwrap();
    assert!(!r.passed());
    assert_eq!(r.violations.len(), 1, "{:?}", r.violations);
    assert_eq!(r.violations[0].property, Property::NothingChecked);
    let why = r.nothing_checked.as_deref().unwrap();
    assert!(
        why.starts_with("no request to a tracked path (/articles"),
        "{why}"
    );
    assert!(r.properties.iter().all(|p| p.checked == 0));
}
