//! Colo selection, Cloudflare headers, determinism and the compiled-component cache.

mod common;

use common::{body, get, host};
use edgesim_guests::fixtures;
use edgesim_host::Limits;

fn is_ray(ray: &str, colo: &str) -> bool {
    let Some((id, suffix)) = ray.split_once('-') else {
        return false;
    };
    id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) && suffix == colo
}

#[tokio::test(start_paused = true)]
async fn requests_run_at_the_named_colo_and_carry_cf_ray() {
    let t = host(fixtures::HELLO, Limits::paid());
    let default = t.host.handle(get("/hello", &[])).await;
    assert_eq!(default.response.status(), 200);
    assert_eq!(default.colo.as_deref(), Some("SYD"));
    let ray = default.response.headers()["cf-ray"].to_str().unwrap();
    assert!(is_ray(ray, "SYD"), "{ray}");
    assert_eq!(default.ray.as_deref(), Some(ray));

    let fra = t
        .host
        .handle(get("/hello", &[("x-edgesim-colo", "fra")]))
        .await;
    assert_eq!(fra.colo.as_deref(), Some("FRA"));
    let ray = fra.response.headers()["cf-ray"].to_str().unwrap();
    assert!(is_ray(ray, "FRA"), "{ray}");

    let at = t
        .host
        .handle_at("GRU", get("/hello", &[("x-edgesim-colo", "FRA")]))
        .await;
    assert_eq!(at.colo.as_deref(), Some("GRU"));
}

#[tokio::test(start_paused = true)]
async fn an_unknown_colo_is_a_clear_400() {
    let t = host(fixtures::HELLO, Limits::paid());
    let inv = t
        .host
        .handle(get("/hello", &[("x-edgesim-colo", "XYZ")]))
        .await;
    assert_eq!(inv.response.status(), 400);
    let text = body(&inv);
    assert!(text.contains("unknown colo `XYZ`"), "{text}");
    assert!(text.contains("SYD, FRA, IAD, NRT, GRU"), "{text}");
    assert!(inv.colo.is_none() && inv.background.is_none());
    // Nothing ran, so nothing was reported.
    assert!(t.events.events().is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_same_seed_gives_the_same_rays_and_events() {
    let run = || async {
        let t = host(fixtures::HELLO, Limits::paid());
        let mut rays = Vec::new();
        for colo in ["SYD", "IAD", "SYD"] {
            let inv = t
                .host
                .handle(get("/hello", &[("x-edgesim-colo", colo)]))
                .await;
            rays.push(inv.ray.unwrap());
        }
        let events: Vec<String> = t
            .events
            .events()
            .into_iter()
            .map(|e| format!("{e:?}"))
            .collect();
        (rays, events)
    };
    let (a, ea) = run().await;
    let (b, eb) = run().await;
    assert_eq!(a, b);
    assert_eq!(ea, eb);
    assert_ne!(a[0], a[2], "each request draws a new ray");
    assert!(ea.iter().any(|e| e.starts_with("RequestEnd")));
}

#[tokio::test(start_paused = true)]
async fn the_compiled_component_is_cached_on_disk() {
    let _t = host(fixtures::HELLO, Limits::paid());
    assert!(
        edgesim_host::is_cached(
            fixtures::HELLO,
            Limits::paid().memory_bytes,
            &common::cache_dir()
        )
        .unwrap()
    );
}

#[tokio::test(start_paused = true)]
async fn colos_must_exist_in_the_kv_model() {
    let clock: edgesim_core::SharedClock = std::sync::Arc::new(common::TokioClock::new());
    let kv = edgesim_kv::KvStore::new(
        edgesim_kv::KvConfig::default(),
        clock.clone(),
        edgesim_core::SimRng::from_seed(1),
    );
    let mut config = edgesim_host::HostConfig::new(common::SUPABASE_URL);
    config.colos = edgesim_host::HostConfig::colos_from_codes(&["SYD", "LHR"]);
    let upstream = std::sync::Arc::new(edgesim_host::HttpUpstream::new());
    let err = edgesim_host::Host::new(
        fixtures::HELLO,
        config,
        kv,
        upstream,
        clock,
        edgesim_core::SimRng::from_seed(2),
        None,
    )
    .err()
    .expect("LHR is not a KV colo");
    assert!(err.to_string().contains("LHR"), "{err}");
}
