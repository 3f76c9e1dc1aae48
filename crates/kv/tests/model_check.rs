//! Property test: random puts, deletes, gets, lists and clock steps across colos, checked
//! against a reference model that knows only what was issued when (not the drawn delays).
//!
//! Checked on every step: no phantom reads (a read returns only bytes some accepted write
//! wrote, under that write's version); bounded staleness (a read never serves a write that a
//! write issued at least `P` later had superseded by `t - P - T`, where P is the largest
//! propagation delay and T the largest cacheTtl); the 1 write/s rule and version numbering;
//! read-your-writes at the writer when it is on. After a quiet period of `P + T`, every colo
//! serves central's value for every key and lists exactly central's live keys. Some puts carry
//! an `expirationTtl`: an expired write is never served, and reads then see the key missing.

mod common;

use common::T0;
use edgesim_core::{ManualClock, SimRng};
use edgesim_kv::*;
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use std::collections::BTreeMap;
use std::sync::Arc;

const COLOS: [&str; 5] = ["SYD", "FRA", "IAD", "NRT", "GRU"];
const KEYS: [&str; 3] = ["k0", "k1", "k2"];
/// Largest cacheTtl the test uses, ms.
const T_MAX: u64 = 120_000;

#[derive(Clone, Debug)]
struct Setup {
    propagation: Delay,
    ryw: bool,
    seed: u64,
}

#[derive(Clone, Debug)]
enum Step {
    Put {
        colo: usize,
        key: usize,
        value: u16,
        expiration_ttl: Option<u64>,
    },
    Delete {
        colo: usize,
        key: usize,
    },
    Get {
        colo: usize,
        key: usize,
        ttl: Option<u64>,
    },
    List {
        colo: usize,
        limit: Option<u64>,
    },
    Advance {
        ms: u64,
    },
    Quiesce,
}

struct Reference;

impl ReferenceStateMachine for Reference {
    type State = Setup;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Setup> {
        let propagation = prop_oneof![
            Just(Delay::Fixed { ms: 500 }),
            Just(Delay::Uniform {
                min_ms: 0,
                max_ms: 5_000
            }),
            Just(Delay::LogNormal {
                median_ms: 1_000,
                sigma: 1.0,
                max_ms: 70_000
            }),
        ];
        (propagation, any::<bool>(), any::<u64>())
            .prop_map(|(propagation, ryw, seed)| Setup {
                propagation,
                ryw,
                seed,
            })
            .boxed()
    }

    fn transitions(_: &Setup) -> BoxedStrategy<Step> {
        let colo = 0..COLOS.len();
        let key = 0..KEYS.len();
        prop_oneof![
            4 => (colo.clone(), key.clone(), any::<u16>(), prop_oneof![6 => Just(None), 1 => Just(Some(60)), 1 => Just(Some(150))])
                .prop_map(|(colo, key, value, expiration_ttl)| Step::Put { colo, key, value, expiration_ttl }),
            1 => (colo.clone(), key.clone()).prop_map(|(colo, key)| Step::Delete { colo, key }),
            5 => (colo.clone(), key, prop_oneof![Just(None), Just(Some(30)), Just(Some(60)), Just(Some(120))])
                .prop_map(|(colo, key, ttl)| Step::Get { colo, key, ttl }),
            1 => (colo, prop_oneof![Just(None), (1..3u64).prop_map(Some)])
                .prop_map(|(colo, limit)| Step::List { colo, limit }),
            4 => prop_oneof![0..2_000u64, 20_000..130_000u64].prop_map(|ms| Step::Advance { ms }),
            1 => Just(Step::Quiesce),
        ]
        .boxed()
    }

    fn apply(state: Setup, _: &Step) -> Setup {
        state
    }
}

/// An accepted write as the reference model records it (`value: None` is a delete).
#[derive(Clone, Debug)]
struct W {
    version: u64,
    value: Option<Vec<u8>>,
    issued: u64,
    /// When an `expirationTtl` makes it read as missing, epoch ms.
    expires_at: Option<u64>,
}

impl W {
    fn expired_at(&self, t: u64) -> bool {
        self.expires_at.is_some_and(|e| e <= t)
    }
}

struct Sut {
    clock: ManualClock,
    ns: Namespace,
    p_max: u64,
    ryw: bool,
    writes: BTreeMap<&'static str, Vec<W>>,
    last_accept: BTreeMap<&'static str, u64>,
    next_version: u64,
}

impl Sut {
    fn now(&self) -> u64 {
        use edgesim_core::Clock;
        self.clock.now_ms()
    }

    /// Whether serving `w` (or, for `None`, "never written") at `t` is within the bound.
    fn allowed(&self, key: &str, w: Option<&W>, t: u64) -> bool {
        let horizon = t.saturating_sub(self.p_max + T_MAX);
        let settled: Vec<&W> = self
            .writes
            .get(key)
            .map(|ws| {
                ws.iter()
                    .filter(|x| x.issued <= horizon && t >= self.p_max + T_MAX)
                    .collect()
            })
            .unwrap_or_default();
        match w {
            None => settled.is_empty(),
            Some(w) if w.issued > horizon || t < self.p_max + T_MAX => true,
            Some(w) => !settled.iter().any(|x| x.issued >= w.issued + self.p_max),
        }
    }

    fn check_read(&self, key: &'static str, version: Option<u64>, value: Option<&[u8]>, t: u64) {
        let ws = self.writes.get(key).cloned().unwrap_or_default();
        match version {
            Some(v) => {
                let w = ws.iter().find(|w| w.version == v);
                let w = w.unwrap_or_else(|| panic!("phantom: {key} served v{v}, never written"));
                assert_eq!(
                    w.value.as_deref(),
                    value,
                    "{key} v{v}: bytes differ from the write"
                );
                assert!(
                    w.value.is_some(),
                    "{key} v{v} is a delete but was served as a value"
                );
                assert!(!w.expired_at(t), "{key} v{v} served after it expired");
                assert!(
                    self.allowed(key, Some(w), t),
                    "stale: {key} served v{v} at {t}: {ws:?}"
                );
            }
            None => {
                assert_eq!(value, None);
                let ok = self.allowed(key, None, t)
                    || ws.iter().any(|w| {
                        (w.value.is_none() || w.expired_at(t)) && self.allowed(key, Some(w), t)
                    });
                assert!(ok, "stale: {key} served missing at {t}: {ws:?}");
            }
        }
    }

    fn write(&mut self, colo: usize, key: &'static str, value: Option<Vec<u8>>, ttl: Option<u64>) {
        let t = self.now();
        let opts = PutOptions {
            expiration_ttl: ttl,
            ..PutOptions::default()
        };
        let r = match &value {
            Some(v) => self.ns.put(COLOS[colo], key, v.clone(), &opts),
            None => self.ns.delete(COLOS[colo], key),
        };
        let limited = self.last_accept.get(key).is_some_and(|&l| t < l + 1_000);
        if limited {
            assert!(matches!(r, Err(KvError::TooManyRequests(_))), "{r:?}");
            return;
        }
        let w = r.expect("write accepted");
        assert_eq!(w.version, self.next_version);
        self.next_version += 1;
        self.last_accept.insert(key, t);
        self.writes.entry(key).or_default().push(W {
            version: w.version,
            value: value.clone(),
            issued: t,
            expires_at: ttl.map(|s| (t / 1000 + s) * 1000),
        });
        if self.ryw {
            let r = self
                .ns
                .get(COLOS[colo], key, &GetOptions::default())
                .unwrap();
            assert_eq!(r.cache_status, CacheStatus::Hit);
            assert_eq!(
                r.version,
                value.is_some().then_some(w.version),
                "read-your-writes"
            );
        }
    }
}

struct KvMachine;

impl StateMachineTest for KvMachine {
    type SystemUnderTest = Sut;
    type Reference = Reference;

    fn init_test(setup: &Setup) -> Sut {
        let clock = ManualClock::at_epoch_ms(T0);
        let config = KvConfig {
            propagation: setup.propagation,
            read_your_writes: if setup.ryw {
                ReadYourWrites::On
            } else {
                ReadYourWrites::Off
            },
            ..KvConfig::default()
        };
        let store = KvStore::new(
            config,
            Arc::new(clock.clone()),
            SimRng::from_seed(setup.seed),
        );
        Sut {
            clock,
            ns: store.namespace("ARTICLES").unwrap(),
            p_max: setup.propagation.max_ms(),
            ryw: setup.ryw,
            writes: BTreeMap::new(),
            last_accept: BTreeMap::new(),
            next_version: 1,
        }
    }

    fn apply(mut sut: Sut, _: &Setup, step: Step) -> Sut {
        let t = sut.now();
        match step {
            Step::Put {
                colo,
                key,
                value,
                expiration_ttl,
            } => sut.write(
                colo,
                KEYS[key],
                Some(value.to_string().into_bytes()),
                expiration_ttl,
            ),
            Step::Delete { colo, key } => sut.write(colo, KEYS[key], None, None),
            Step::Get { colo, key, ttl } => {
                let r = sut
                    .ns
                    .get(COLOS[colo], KEYS[key], &GetOptions { cache_ttl: ttl })
                    .unwrap();
                let expect_latency = match r.cache_status {
                    CacheStatus::Hit => 0,
                    CacheStatus::Miss => KvConfig::default().colos[colo].latency_to_central_ms,
                };
                assert_eq!(r.latency.as_millis() as u64, expect_latency);
                sut.check_read(KEYS[key], r.version, r.value.as_deref(), t);
            }
            Step::List { colo, limit } => {
                let r = sut
                    .ns
                    .list(
                        COLOS[colo],
                        &ListOptions {
                            limit,
                            ..ListOptions::default()
                        },
                    )
                    .unwrap()
                    .value;
                let names: Vec<_> = r.keys.iter().map(|k| k.name.clone()).collect();
                let mut sorted = names.clone();
                sorted.sort();
                sorted.dedup();
                assert_eq!(names, sorted);
                assert!(names.len() as u64 <= limit.unwrap_or(1000));
                for k in &r.keys {
                    let e = k.expiration.map_or(u64::MAX, |e| e * 1000);
                    assert!(e > t, "expired key {} listed", k.name);
                }
                for n in &names {
                    let ever_put = sut
                        .writes
                        .get(n.as_str())
                        .is_some_and(|ws| ws.iter().any(|w| w.value.is_some()));
                    assert!(ever_put, "phantom key {n} listed");
                }
                assert_eq!(r.list_complete, r.cursor.is_none());
            }
            Step::Advance { ms } => {
                sut.clock.set_ms(t + ms);
                // Whatever convergence reports stale must run out within the bound.
                let c = sut.ns.convergence();
                assert!(c.stale_until_ms() <= t + ms + T_MAX.max(sut.p_max), "{c:?}");
            }
            Step::Quiesce => {
                let q = t + sut.p_max + T_MAX + 1;
                sut.clock.set_ms(q);
                let mut live = Vec::new();
                for key in KEYS {
                    let central = sut.ns.view(key).central;
                    let expect = central
                        .as_ref()
                        .filter(|c| !c.deleted && !c.expired)
                        .map(|c| c.version);
                    if expect.is_some() {
                        live.push(key.to_string());
                    }
                    for colo in COLOS {
                        let r = sut.ns.get(colo, key, &GetOptions::default()).unwrap();
                        assert_eq!(r.version, expect, "{colo} has not converged on {key}");
                        sut.check_read(key, r.version, r.value.as_deref(), q);
                    }
                    let n_writes = sut.writes.get(key).map_or(0, Vec::len);
                    assert_eq!(central.is_some(), n_writes > 0);
                }
                for colo in COLOS {
                    let r = sut.ns.list(colo, &ListOptions::default()).unwrap().value;
                    let names: Vec<_> = r.keys.into_iter().map(|k| k.name).collect();
                    assert_eq!(names, live, "{colo}'s list has not converged");
                }
                assert_eq!(sut.ns.pending_writes(), 0);
                let c = sut.ns.convergence();
                assert!(c.is_converged(), "{c:?}");
            }
        }
        sut
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    #[test]
    fn kv_model_matches_reference(sequential 1..60 => KvMachine);
}
