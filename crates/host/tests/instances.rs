//! The Worker's instances as [`Host::status`] reports them (what `GET /__edgesim/status`
//! answers), and `InstancePolicy::max_instances`: a request that needs a new instance past the
//! bound waits until one ends.

mod common;

use common::{body, get, host_with};
use edgesim_guests::fixtures;
use edgesim_host::{InstancePolicy, WaitUntilOutcome};
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn the_status_lists_each_instance_with_its_memory() {
    let t = host_with(edgesim_guests::COURSE, |_| {});
    let s = t.host.status();
    assert_eq!((s.instances, s.live_requests, s.memory_bytes), (0, 0, 0));
    let inv = t.host.handle(get("/articles", &[])).await;
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
    if let Some(bg) = inv.background {
        assert_eq!(bg.wait().await, WaitUntilOutcome::Completed);
    }
    let s = t.host.status();
    assert_eq!(
        (
            s.instances,
            s.idle_instances,
            s.live_requests,
            s.background_calls
        ),
        (1, 1, 0, 0),
        "{s:#?}"
    );
    assert_eq!(s.per_instance[0].state, "idle");
    assert_eq!(s.per_instance[0].uses, 1);
    assert!(s.per_instance[0].memory_bytes > 0, "{s:#?}");
    assert_eq!(s.memory_bytes, s.per_instance[0].memory_bytes);
    assert_eq!(s.limits.max_idle, InstancePolicy::default().max_idle);
    assert_eq!(s.limits.max_instances, None);
}

#[tokio::test(start_paused = true)]
async fn past_max_instances_a_request_waits_for_an_instance_to_end() {
    let t = host_with(fixtures::WAITUNTIL_FOREVER, |c| {
        c.instances.max_instances = Some(2);
    });
    // Two requests, each leaving its instance busy with waitUntil work for 30 s.
    let mut background = Vec::new();
    for _ in 0..2 {
        let inv = t.host.handle(get("/", &[])).await;
        assert_eq!(inv.response.status(), 200, "{}", body(&inv));
        background.extend(inv.background);
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    let s = t.host.status();
    assert_eq!((s.instances, s.background_calls), (2, 2), "{s:#?}");

    // A third needs a new instance: it waits until the first waitUntil work is cancelled at
    // 30 s, 20 s from now.
    let start = tokio::time::Instant::now();
    let host = t.host.clone();
    let third = tokio::spawn(async move { host.handle(get("/", &[])).await });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!third.is_finished(), "the third request did not wait");
    let s = t.host.status();
    assert_eq!(
        (s.instances, s.live_requests, s.background_calls),
        (2, 1, 2),
        "{s:#?}"
    );
    let inv = third.await.expect("the third request");
    assert_eq!(inv.response.status(), 200, "{}", body(&inv));
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(19) && waited <= Duration::from_secs(22),
        "{waited:?}"
    );
    assert!(t.host.status().instances <= 2);
    for bg in background {
        assert_eq!(bg.wait().await, WaitUntilOutcome::Cancelled);
    }
}
