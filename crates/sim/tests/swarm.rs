//! Swarm property test (TigerBeetle VOPR style): each case draws its own topology, workload,
//! mutation schedule and fault parameters (a quarter of the cases calm, with no fault at all),
//! runs a chaos phase then a healed phase, and the hardened Worker must converge, never serve
//! a phantom, and keep **both staleness bounds**:
//! the fault-free bound (cacheTtl + propagation + webhook latency + its retries) where no fault
//! overlaps a stale read, and its safety net's bound (expirationTtl + cacheTtl + the same) where
//! one does. A failing case is shrunk to a minimal scenario and printed as a scenario file plus
//! its seed; failures are saved in `proptest-regressions/swarm.txt` and replayed first.
//!
//! The bounds have teeth: the `hardened-no-webhook` mutant (webhooks acknowledged, ignored)
//! still converges within the old 200 s, but the swarm property rejects it, and it fails the
//! fault-free bound on most of the swarm's cases once their faults are removed (under a fault
//! only the safety net's bound applies, which expiry meets: see the mutation tests below).
//!
//! Campaigns: `PROPTEST_CASES` sets the total number of cases (default 96), spread over
//! [`SHARDS`] test functions with fixed, distinct RNG seeds, so `cargo nextest run --partition
//! count:K/N` spreads a campaign over N jobs (each shard is deterministic: same cases every run).

use edgesim_sim::scenario::Scenario;
use edgesim_sim::{Property, RunResult, Variant, run};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
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

/// A swarm case. A quarter are calm (swarm testing: every fault class switched off), so the
/// tight fault-free bound is exercised on whole runs, not only on the stretches between faults.
fn case() -> impl Strategy<Value = Case> {
    (faulty_case(), prop::bool::weighted(0.25)).prop_map(
        |(c, calm)| {
            if calm { without_faults(c) } else { c }
        },
    )
}

/// A case with the swarm's faults: webhook fault rates, scripted fates and delays, and each of
/// the KV, partition and Supabase windows in about half the cases.
fn faulty_case() -> impl Strategy<Value = Case> {
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

/// Runs case `c` with `variant`.
fn run_case(c: &Case, variant: Variant) -> (RunResult, String) {
    let text = toml_of(c);
    let s = Scenario::parse("swarm.toml", &text).expect("generated scenarios are valid");
    (run(&s, c.seed, Some(variant)).expect("runs"), text)
}

/// The swarm property: every expectation holds (convergence within 200 s, no phantoms, both
/// staleness bounds).
fn property(c: &Case, variant: Variant) -> Result<(), TestCaseError> {
    let (r, text) = run_case(c, variant);
    let report: Vec<String> = r.violations.iter().map(|v| v.to_string()).collect();
    let bounds = r.bounds.as_ref().map(|b| b.to_string()).unwrap_or_default();
    prop_assert!(
        r.passed(),
        "{} Worker, seed {} violated ({bounds}):\n{}\n--- scenario (save as swarm.toml, then: edgesim run swarm.toml --seed {} --worker {}) ---\n{}",
        variant.name(),
        c.seed,
        report.join("\n"),
        c.seed,
        variant.name(),
        text
    );
    Ok(())
}

/// Shards of the property; each is one test function (for nextest's `--partition`).
const SHARDS: u32 = 4;

/// Total cases: `PROPTEST_CASES`, else 96.
fn total_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(96)
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        max_shrink_iters: 200,
        // `cargo test` runs in the crate root: failures land in the committed directory.
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("proptest-regressions/swarm.txt"),
        )),
        ..Config::default()
    }
}

/// A fixed RNG per shard: the same cases on every run and machine.
fn shard_rng(shard: u32) -> TestRng {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&shard.to_le_bytes());
    seed[4..8].copy_from_slice(b"swrm");
    TestRng::from_seed(RngAlgorithm::ChaCha, &seed)
}

/// Runs shard `shard` of the hardened property; panics with the shrunk case on failure.
fn hardened_shard(shard: u32) {
    let cases = total_cases().div_ceil(SHARDS).max(1);
    let mut runner = TestRunner::new_with_rng(config(cases), shard_rng(shard));
    let ran = std::sync::atomic::AtomicU32::new(0);
    if let Err(e) = runner.run(&case(), |c| {
        ran.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        property(&c, Variant::Hardened)
    }) {
        panic!("shard {}/{SHARDS}: {e}", shard + 1);
    }
    let ran = ran.into_inner();
    // Every case of this shard's share ran (plus any saved regressions, replayed first).
    assert!(
        ran >= cases,
        "shard {shard}/{SHARDS}: {ran} of {cases} cases ran"
    );
    eprintln!(
        "swarm shard {}/{SHARDS}: {ran} cases (PROPTEST_CASES={})",
        shard + 1,
        std::env::var("PROPTEST_CASES").unwrap_or_else(|_| "unset: 96 in all".into())
    );
}

#[test]
fn hardened_keeps_both_staleness_bounds_converges_and_never_serves_phantoms_1() {
    hardened_shard(0);
}

#[test]
fn hardened_keeps_both_staleness_bounds_converges_and_never_serves_phantoms_2() {
    hardened_shard(1);
}

#[test]
fn hardened_keeps_both_staleness_bounds_converges_and_never_serves_phantoms_3() {
    hardened_shard(2);
}

#[test]
fn hardened_keeps_both_staleness_bounds_converges_and_never_serves_phantoms_4() {
    hardened_shard(3);
}

/// Case `c` with no faults: webhooks delivered once and on time, no KV, partition or Supabase
/// fault windows.
fn without_faults(mut c: Case) -> Case {
    c.drop = 0.0;
    c.duplicate = 0.0;
    c.reorder = 0.0;
    c.kv429 = None;
    c.partition = None;
    c.outage = None;
    for m in &mut c.mutations {
        m.fate = 9;
        m.delay_ms = None;
    }
    c
}

/// `n` swarm cases from a fixed RNG.
fn sample(n: usize, salt: u32) -> Vec<Case> {
    let mut runner = TestRunner::new_with_rng(Config::default(), shard_rng(1000 + salt));
    let strategy = case();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).expect("a case").current())
        .collect()
}

/// Whether `r` broke the fault-free staleness bound.
fn broke_fault_free_bound(r: &RunResult) -> bool {
    r.violations.iter().any(|v| {
        v.property == Property::Staleness
            && matches!(v.bound, Some((edgesim_sim::AppliedBound::FaultFree, _)))
    })
}

/// The swarm property itself, as it runs above (faults and all), rejects the mutant whose
/// webhook handler is disabled, and says why: the fault-free bound. (No shrinking here: the
/// point is that it fails, and the failure names the bound.)
#[test]
fn the_swarm_property_rejects_a_worker_that_ignores_webhooks() {
    let config = Config {
        cases: 16,
        max_shrink_iters: 0,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, shard_rng(1001));
    let err = runner
        .run(&case(), |c| property(&c, Variant::HardenedNoWebhook))
        .expect_err("the swarm property must reject the hardened-no-webhook mutant");
    let msg = err.to_string();
    assert!(msg.contains("[fault-free bound: "), "{msg}");
    assert!(msg.contains("hardened-no-webhook Worker, seed "), "{msg}");
}

/// The mutation test: with its webhook handler disabled, the hardened Worker still converges
/// within the old 200 s (expiry heals everything), so the old property could not tell it from
/// the real one; the fault-free staleness bound fails it on most cases that change anything.
///
/// The cases are the swarm's with their faults removed, and this is deliberate. Where a fault
/// overlaps the time a stale read was due to catch up (a dropped, duplicated or late webhook of
/// that row, a KV 429 window, a partition, a Supabase outage), only the under-faults bound
/// applies, and the mutant, which heals by expiry, meets it, exactly like the real Worker
/// whose webhook was lost. The swarm draws its faults densely (each window in half the cases,
/// webhook fault rates uniform in 0..1), so on these 16 cases as drawn the fault-free bound
/// caught the mutant in 3, exactly the three calm ones (5 with only the webhook faults removed;
/// all 12 cases that mutate anything once every fault is removed). The swarm property as a
/// whole rejects it: [`the_swarm_property_rejects_a_worker_that_ignores_webhooks`].
#[test]
fn the_fault_free_bound_catches_a_worker_that_ignores_webhooks() {
    // The swarm's cases without their faults: every stretch is fault-free, so the tight bound
    // applies to every stale read. A case without a mutation has nothing to revalidate: a
    // Worker that ignores webhooks cannot show there, so those do not count.
    let cases: Vec<Case> = sample(16, 1)
        .into_iter()
        .map(without_faults)
        .filter(|c| !c.mutations.is_empty())
        .collect();
    assert!(cases.len() >= 8, "only {} cases mutate", cases.len());
    let mut caught = 0;
    for c in &cases {
        let (r, text) = run_case(c, Variant::HardenedNoWebhook);
        let live: Vec<String> = r
            .violations
            .iter()
            .filter(|v| matches!(v.property, Property::Liveness | Property::Phantom))
            .map(|v| v.to_string())
            .collect();
        assert!(
            live.is_empty(),
            "seed {}: the mutant must still converge within 200 s:\n{}\n{text}",
            c.seed,
            live.join("\n")
        );
        if broke_fault_free_bound(&r) {
            caught += 1;
        }
        // The real Worker keeps the tight bound on the very same case.
        let (real, text) = run_case(c, Variant::Hardened);
        assert!(
            real.passed(),
            "seed {}: the hardened Worker failed a fault-free case:\n{}\n{text}",
            c.seed,
            real.violations
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert!(
        caught * 2 > cases.len(),
        "the fault-free bound caught the no-webhook mutant in only {caught} of {} cases",
        cases.len()
    );
}

/// The same swarm finds the course Worker's bugs: the property can fail.
#[test]
fn the_swarm_catches_the_course_worker() {
    let cases = sample(24, 2);
    let failures = cases
        .iter()
        .filter(|c| !run_case(c, Variant::Course).0.passed())
        .count();
    assert!(
        failures >= 3,
        "only {failures} of 24 swarm cases broke the course Worker"
    );
}
