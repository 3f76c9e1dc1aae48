//! Instance reuse: a clean call returns its instance to the pool; a trap, a limit hit or a
//! cancelled call never does; the policy's bounds hold.

mod common;

use common::{body, get, host, host_with, json};
use edgesim_guests::fixtures;
use edgesim_host::{InstancePolicy, Limits, WaitUntilOutcome};

#[tokio::test(start_paused = true)]
async fn a_clean_call_returns_its_instance_and_the_next_request_reuses_it() {
    let t = host(fixtures::HELLO, Limits::paid());
    assert_eq!(t.host.idle_instances(), 0);
    for _ in 0..5 {
        let inv = t.host.handle(get("/hello", &[])).await;
        assert_eq!(body(&inv), "ok");
        assert_eq!(t.host.idle_instances(), 1);
    }
}

#[tokio::test(start_paused = true)]
async fn fresh_instances_keep_nothing() {
    let t = host_with(fixtures::HELLO, |c| c.instances.reuse = false);
    for _ in 0..3 {
        let inv = t.host.handle(get("/hello", &[])).await;
        assert_eq!(body(&inv), "ok");
        assert_eq!(t.host.idle_instances(), 0);
    }
}

#[tokio::test(start_paused = true)]
async fn trapped_and_out_of_fuel_instances_are_dropped() {
    let t = host(fixtures::TRAP, Limits::paid());
    for _ in 0..2 {
        assert_eq!(t.host.handle(get("/", &[])).await.response.status(), 500);
        assert_eq!(t.host.idle_instances(), 0);
    }
    let t = host(
        fixtures::LOOP,
        Limits {
            cpu_ms: 20,
            ..Limits::paid()
        },
    );
    for _ in 0..2 {
        assert_eq!(t.host.handle(get("/", &[])).await.response.status(), 503);
        assert_eq!(t.host.idle_instances(), 0);
    }
}

#[tokio::test(start_paused = true)]
async fn an_instance_that_hit_the_memory_limit_is_dropped() {
    let t = host(fixtures::MEMBOMB, Limits::paid());
    let ok = t.host.handle(get("/?mib=8", &[])).await;
    assert_eq!(body(&ok), "allocated 8 MiB");
    assert_eq!(t.host.idle_instances(), 1);
    // The reused instance runs into the limit: it is not kept.
    let bomb = t.host.handle(get("/?mib=512", &[])).await;
    assert_eq!(bomb.response.status(), 503, "{}", body(&bomb));
    assert_eq!(t.host.idle_instances(), 0);
    let again = t.host.handle(get("/?mib=8", &[])).await;
    assert_eq!(body(&again), "allocated 8 MiB");
    assert_eq!(t.host.idle_instances(), 1);
}

#[tokio::test(start_paused = true)]
async fn budgets_are_per_invocation_on_a_reused_instance_and_a_spent_one_is_dropped() {
    let t = host(fixtures::KVOPS, Limits::paid());
    for _ in 0..3 {
        let inv = t.host.handle(get("/?n=600", &[])).await;
        assert_eq!(json(&inv)["succeeded"], 600, "{}", body(&inv));
        assert_eq!(t.host.idle_instances(), 1);
    }
    let inv = t.host.handle(get("/?n=1001", &[])).await;
    assert_eq!(json(&inv)["succeeded"], 1000);
    assert_eq!(t.host.idle_instances(), 0);

    let t = host(fixtures::SUBREQUESTS, Limits::free());
    for _ in 0..2 {
        let inv = t.host.handle(get("/?n=40", &[])).await;
        assert_eq!(json(&inv)["succeeded"], 40, "{}", body(&inv));
        assert_eq!(t.host.idle_instances(), 1);
    }
    let inv = t.host.handle(get("/?n=51", &[])).await;
    assert_eq!(json(&inv)["succeeded"], 50);
    assert_eq!(t.host.idle_instances(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_instance_retires_after_max_uses() {
    let t = host_with(fixtures::HELLO, |c| {
        c.instances = InstancePolicy {
            max_uses: 2,
            ..InstancePolicy::default()
        }
    });
    let idle: Vec<usize> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            t.host.handle(get("/hello", &[])).await;
            v.push(t.host.idle_instances());
        }
        v
    };
    assert_eq!(idle, [1, 0, 1, 0]);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_wait_until_drops_its_instance_and_max_live_does_not_count_wait_until() {
    let t = host_with(fixtures::WAITUNTIL_FOREVER, |c| {
        c.instances.max_live = Some(1)
    });
    let first = t.host.handle(get("/", &[])).await;
    assert_eq!(first.response.status(), 200, "{}", body(&first));
    // The first request's waitUntil still holds its instance; the bound is on responses only.
    let second = t.host.handle(get("/", &[])).await;
    assert_eq!(second.response.status(), 200, "{}", body(&second));
    for inv in [first, second] {
        let bg = inv.background.expect("waitUntil work runs on");
        assert_eq!(bg.wait().await, WaitUntilOutcome::Cancelled);
    }
    assert_eq!(t.host.idle_instances(), 0);
}
