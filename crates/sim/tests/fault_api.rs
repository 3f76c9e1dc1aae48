//! Every fault a scenario file can state, injected from Rust through the public `Sim` API, with
//! windows in durations since the start (one time unit for KV, partitions, webhooks and
//! Supabase alike).

use edgesim_sim::{
    FaultKind, KvFault, Override, Sim, SupabaseFault, Variant, WebhookFate, WebhookFaults,
};
use std::time::Duration;

fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

#[test]
fn kv_partition_webhook_and_supabase_faults_through_the_sim_api() {
    let mut sim = Sim::builder()
        .seed(5)
        .colos(["SYD", "FRA"])
        .webhook_colo("SYD")
        .worker(Variant::Course)
        .build()
        .unwrap();
    sim.kv_fault(
        KvFault {
            op: Some("put".into()),
            key_prefix: Some("/articles".into()),
            ..KvFault::new(FaultKind::TooMany)
        },
        s(10),
        s(20),
    );
    sim.partition_between("FRA", s(30), s(40));
    sim.supabase_fault(
        SupabaseFault {
            status: Some(503),
            ..SupabaseFault::new(FaultKind::ServerError)
        },
        s(50),
        s(60),
    );
    sim.webhook_faults_between(
        WebhookFaults {
            drop: 1.0,
            ..WebhookFaults::default()
        },
        s(70),
        s(80),
    );
    sim.sql_at(
        s(12),
        "update articles set title = 'during 429' where id = 1",
        Override::default(),
    );
    sim.sql_at(
        s(72),
        "update articles set title = 'dropped' where id = 2",
        Override::default(),
    );
    sim.sql_at(
        s(85),
        "update articles set title = 'late' where id = 2",
        Override {
            fate: WebhookFate::Deliver,
            delay_ms: Some(3_000),
        },
    );
    sim.sql_at(s(90), "update no_such_table set x = 1", Override::default());
    sim.poisson_workload(
        "0",
        "FRA",
        1.0,
        vec!["/articles".into(), "/articles/1".into()],
        s(100),
    );
    sim.advance(s(55));
    // Supabase answers 503 inside its window (the course Worker turns it into a phantom list).
    assert_eq!(sim.get("SYD", "/articles/3").status(), 200);
    sim.advance(s(50));
    let text = sim.event_text();
    for (start, end, name) in [
        (10, 20, "kv 429 p=1 on put of /articles* at all colos"),
        (30, 40, "partition FRA from KV central"),
        (50, 60, "supabase 503 p=1"),
        (70, 80, "webhooks drop=1 duplicate=0 reorder=0"),
    ] {
        assert!(
            text.contains(&format!("t={:>9} fault_start {name:?}", start * 1000)),
            "{name}:\n{text}"
        );
        assert!(
            text.contains(&format!("t={:>9} fault_end {name:?}", end * 1000)),
            "{name}"
        );
    }
    // The 429 window hit the webhook's write; the webhook in the drop window was dropped; the
    // late one arrived 3 s after its commit; Supabase failed inside its window.
    assert!(text.contains("429 Too Many Requests"), "{text}");
    assert!(text.contains("t=    72000 webhook_dropped"), "{text}");
    assert!(
        text.contains("webhook_sent #3 UPDATE id=2 db=v3 at=88000"),
        "{text}"
    );
    assert!(text.contains("upstream_fault GET"), "{text}");
    // The failed SQL is reported with its time.
    let failed = sim.failed_sql();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, s(90));
    assert!(text.contains("origin=Workload"));
}
