//! Swarm property test (TigerBeetle VOPR style): each case draws its own topology, workload,
//! mutation schedule and fault parameters, runs a chaos phase then a healed phase, and the
//! hardened Worker must converge and never serve a phantom. A failing case is shrunk to a
//! minimal scenario and printed as a scenario file plus its seed; failures are saved in
//! `proptest-regressions/swarm.txt` and replayed first.

use edgesim_sim::scenario::Scenario;
use edgesim_sim::{Variant, run};
use proptest::prelude::*;
use std::fmt::Write as _;

const CODES: [&str; 5] = ["SYD", "FRA", "IAD", "NRT", "GRU"];

#[derive(Clone, Debug)]
struct Mutation {
    at_ms: u64,
    row: u8,
    kind: u8,
    fate: u8,
    delay_ms: Option<u64>,
}

#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    colos: Vec<(usize, u64)>,
    webhook_colo: usize,
    propagation_max: u64,
    rate: f64,
    mutations: Vec<Mutation>,
    drop: f64,
    duplicate: f64,
    reorder: f64,
    kv429: Option<(f64, u64, u64)>,
    partition: Option<(usize, u64, u64)>,
    outage: Option<(f64, u64, u64)>,
}

const CHAOS_S: u64 = 30;

fn window() -> impl Strategy<Value = (u64, u64)> {
    (0u64..25, 1u64..10).prop_map(|(a, len)| (a, (a + len).min(CHAOS_S)))
}

fn case() -> impl Strategy<Value = Case> {
    let colos = proptest::sample::subsequence((0..CODES.len()).collect::<Vec<_>>(), 1..=3)
        .prop_flat_map(|idx| {
            let n = idx.len();
            (Just(idx), proptest::collection::vec(5u64..150, n))
        })
        .prop_map(|(idx, lat)| idx.into_iter().zip(lat).collect::<Vec<_>>());
    let mutation = (
        0u64..CHAOS_S * 1000,
        1u8..=4,
        0u8..10,
        0u8..10,
        prop::option::of(0u64..6000),
    )
        .prop_map(|(at_ms, row, kind, fate, delay_ms)| Mutation {
            at_ms,
            row,
            kind,
            fate,
            delay_ms,
        });
    (
        any::<u64>(),
        colos,
        0usize..3,
        0u64..3000,
        0.2f64..1.5,
        proptest::collection::vec(mutation, 0..6),
        (0.0f64..1.0, 0.0f64..1.0, 0.0f64..1.0),
        prop::option::of((0.0f64..1.0, window())),
        prop::option::of((0usize..3, window())),
        prop::option::of((0.0f64..1.0, window())),
    )
        .prop_map(
            |(
                seed,
                colos,
                wc,
                prop_max,
                rate,
                mutations,
                (drop, duplicate, reorder),
                kv,
                part,
                out,
            )| {
                let n = colos.len();
                Case {
                    seed,
                    webhook_colo: wc % n,
                    colos,
                    propagation_max: prop_max,
                    rate,
                    mutations,
                    drop,
                    duplicate,
                    reorder,
                    kv429: kv.map(|(p, (a, b))| (p, a, b)),
                    partition: part.map(|(c, (a, b))| (c % n, a, b)),
                    outage: out.map(|(p, (a, b))| (p, a, b)),
                }
            },
        )
}

fn toml_of(c: &Case) -> String {
    let code = |i: usize| CODES[c.colos[i].0];
    let mut s = String::new();
    let _ = writeln!(s, "name = \"swarm\"\nduration_s = {CHAOS_S}");
    for (i, lat) in &c.colos {
        let _ = writeln!(s, "[[colos]]\ncode = \"{}\"\nlatency_ms = {lat}", CODES[*i]);
    }
    let _ = writeln!(
        s,
        "[kv]\npropagation_ms = {{ min = 0, max = {} }}",
        c.propagation_max
    );
    let _ = writeln!(
        s,
        "[worker]\nvariant = \"hardened\"\nwebhook_colo = \"{}\"",
        code(c.webhook_colo)
    );
    let _ = writeln!(
        s,
        "[[workload]]\ncolo = \"*\"\nrate_per_s = {:.3}\npaths = [\"/articles\", \"/articles/1\", \"/articles/2\", \"/articles/4\"]",
        c.rate
    );
    let mut ms: Vec<&Mutation> = c.mutations.iter().collect();
    ms.sort_by_key(|m| m.at_ms);
    for (n, m) in ms.iter().enumerate() {
        let sql = match (m.kind, m.row) {
            (0, _) => format!("insert into articles (title, content) values ('new {n}', 'c')"),
            (1, r) => format!("delete from articles where id = {r}"),
            (_, r) => format!("update articles set title = 'edit {n}' where id = {r}"),
        };
        let fate = match m.fate {
            0 => "drop",
            1 => "duplicate",
            _ => "deliver",
        };
        let _ = writeln!(
            s,
            "[[mutations]]\nat_s = {:.3}\nsql = \"{sql}\"\nwebhook = \"{fate}\"",
            m.at_ms as f64 / 1000.0
        );
        if let Some(d) = m.delay_ms {
            let _ = writeln!(s, "webhook_delay_ms = {d}");
        }
    }
    let _ = writeln!(
        s,
        "[faults.webhooks]\ndrop = {:.3}\nduplicate = {:.3}\nreorder = {:.3}",
        c.drop, c.duplicate, c.reorder
    );
    if let Some((p, a, b)) = c.kv429 {
        let _ = writeln!(
            s,
            "[[faults.kv]]\nkind = \"429\"\nop = \"put\"\nrate = {p:.3}\nfrom_s = {a}\nto_s = {b}"
        );
    }
    if let Some((i, a, b)) = c.partition {
        let _ = writeln!(
            s,
            "[[faults.partition]]\ncolo = \"{}\"\nfrom_s = {a}\nto_s = {b}",
            code(i)
        );
    }
    if let Some((p, a, b)) = c.outage {
        let _ = writeln!(
            s,
            "[[faults.supabase]]\nkind = \"5xx\"\nrate = {p:.3}\nfrom_s = {a}\nto_s = {b}"
        );
    }
    let _ = writeln!(
        s,
        "[expect]\nconverge_within_s = 200\noutcome = {{ course = \"fail\", hardened = \"pass\" }}"
    );
    s
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        max_shrink_iters: 200,
        // `cargo test` runs in the crate root: failures land in the committed directory.
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("proptest-regressions/swarm.txt"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn hardened_worker_always_converges_and_never_serves_phantoms(c in case()) {
        let text = toml_of(&c);
        let s = Scenario::parse("swarm.toml", &text).expect("generated scenarios are valid");
        let r = run(&s, c.seed, Some(Variant::Hardened)).expect("runs");
        let report: Vec<String> = r.violations.iter().map(|v| v.to_string()).collect();
        prop_assert!(
            r.passed(),
            "seed {} violated:\n{}\n--- scenario (save as swarm.toml, then: edgesim run swarm.toml --seed {}) ---\n{}",
            c.seed,
            report.join("\n"),
            c.seed,
            text
        );
    }
}

/// The same swarm finds the course Worker's bugs: the property can fail.
#[test]
fn the_swarm_catches_the_course_worker() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = case();
    let mut failures = 0;
    for _ in 0..24 {
        let c = strategy.new_tree(&mut runner).expect("a case").current();
        let s = Scenario::parse("swarm.toml", &toml_of(&c)).expect("valid");
        if !run(&s, c.seed, Some(Variant::Course))
            .expect("runs")
            .passed()
        {
            failures += 1;
        }
    }
    assert!(
        failures >= 3,
        "only {failures} of 24 swarm cases broke the course Worker"
    );
}
