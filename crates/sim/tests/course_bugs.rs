//! The harness catches the course Worker's real bugs: after one dropped webhook, and after two
//! updates whose webhooks arrive out of order, it never converges; the hardened Worker does,
//! on the same seeds.

use edgesim_sim::{Override, Property, Served, Sim, Variant, Violation, WebhookFate};
use std::time::Duration;

fn world(seed: u64, variant: Variant) -> Sim {
    let mut sim = Sim::builder()
        .seed(seed)
        .colos(["SYD", "FRA"])
        .webhook_colo("SYD")
        .worker(variant)
        .build()
        .unwrap();
    // Both colos read (and so cache) the list and row 2.
    for colo in ["SYD", "FRA"] {
        assert_eq!(sim.get(colo, "/articles").status(), 200);
        assert_eq!(sim.get(colo, "/articles/2").status(), 200);
        sim.advance(Duration::from_secs(2));
    }
    sim
}

fn stale_row_2(v: &[Violation]) -> bool {
    v.iter().any(|v| {
        v.property == Property::Liveness
            && v.path == "/articles/2"
            && matches!(v.served, Served::Version(_))
    })
}

fn dropped(seed: u64, variant: Variant) -> Result<(), Vec<Violation>> {
    let mut sim = world(seed, variant);
    let drop = Override {
        fate: WebhookFate::Drop,
        delay_ms: None,
    };
    sim.supabase()
        .execute_with(
            "update articles set title = 'cool second blog' where id = 2",
            drop,
        )
        .unwrap();
    sim.advance(Duration::from_secs(5));
    sim.check_converged(Duration::from_secs(200))
}

fn reordered(seed: u64, variant: Variant) -> Result<(), Vec<Violation>> {
    let mut sim = world(seed, variant);
    let late = Override {
        fate: WebhookFate::Deliver,
        delay_ms: Some(4_000),
    };
    let prompt = Override {
        fate: WebhookFate::Deliver,
        delay_ms: Some(50),
    };
    sim.supabase()
        .execute_with("update articles set title = 'draft' where id = 2", late)
        .unwrap();
    sim.advance(Duration::from_secs(1));
    sim.supabase()
        .execute_with("update articles set title = 'final' where id = 2", prompt)
        .unwrap();
    sim.advance(Duration::from_secs(10));
    sim.check_converged(Duration::from_secs(200))
}

#[test]
fn one_dropped_webhook_leaves_the_course_worker_stale_forever() {
    for seed in 1..=4 {
        let v = dropped(seed, Variant::Course).expect_err("the course Worker must not converge");
        assert!(stale_row_2(&v), "seed {seed}: {v:#?}");
        // The witness names the dropped delivery.
        assert!(
            v[0].causes
                .iter()
                .any(|e| e.to_string().contains("webhook_dropped")),
            "seed {seed}: {}",
            v[0]
        );
        if let Err(v) = dropped(seed, Variant::Hardened) {
            panic!("seed {seed}: hardened: {}", v[0]);
        }
    }
}

#[test]
fn two_reordered_webhooks_leave_the_course_worker_on_the_older_row() {
    for seed in 1..=4 {
        let v = reordered(seed, Variant::Course).expect_err("the course Worker must not converge");
        assert!(stale_row_2(&v), "seed {seed}: {v:#?}");
        if let Err(v) = reordered(seed, Variant::Hardened) {
            panic!("seed {seed}: hardened: {}", v[0]);
        }
    }
}

#[test]
fn a_partitioned_webhook_colo_breaks_the_course_worker_through_the_harness_api() {
    let run = |variant| {
        let mut sim = world(9, variant);
        sim.partition("SYD", Duration::from_secs(60));
        sim.supabase()
            .execute("update articles set title = 'cool second blog' where id = 2")
            .unwrap();
        sim.advance(Duration::from_secs(61));
        sim.check_converged(Duration::from_secs(200))
    };
    let v = run(Variant::Course).expect_err("writes during the partition are lost");
    assert!(
        v.iter().any(|v| v
            .causes
            .iter()
            .any(|e| e.to_string().contains("partition SYD"))),
        "{}",
        v[0]
    );
    run(Variant::Hardened).unwrap_or_else(|v| panic!("hardened: {}", v[0]));
}
