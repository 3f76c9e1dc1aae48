//! Shared test setup: a store on a manual clock at a round epoch.

#![allow(dead_code)]

use edgesim_core::{ManualClock, SimRng};
use edgesim_kv::*;
use std::sync::Arc;

/// Test time zero, epoch ms (a whole second, so epoch-second arithmetic is exact).
pub const T0: u64 = 1_767_225_600_000;

pub struct Env {
    pub clock: ManualClock,
    pub store: KvStore,
    pub ns: Namespace,
}

impl Env {
    pub fn new(config: KvConfig) -> Self {
        let clock = ManualClock::at_epoch_ms(T0);
        let store = KvStore::new(
            config,
            Arc::new(clock.clone()),
            SimRng::from_seed(1).fork("kv"),
        );
        let ns = store.namespace("ARTICLES").unwrap();
        Self { clock, store, ns }
    }

    /// Fixed 500 ms propagation, the given read-your-writes.
    pub fn fixed(ryw: ReadYourWrites) -> Self {
        Self::new(KvConfig {
            propagation: Delay::Fixed { ms: 500 },
            read_your_writes: ryw,
            ..KvConfig::default()
        })
    }

    /// Moves the clock to `ms` after T0.
    pub fn at(&self, ms: u64) {
        self.clock.set_ms(T0 + ms);
    }

    pub fn get(&self, colo: &str, key: &str) -> Read<Option<Vec<u8>>> {
        self.ns.get(colo, key, &GetOptions::default()).unwrap()
    }

    pub fn get_ttl(&self, colo: &str, key: &str, ttl: u64) -> Read<Option<Vec<u8>>> {
        self.ns
            .get(
                colo,
                key,
                &GetOptions {
                    cache_ttl: Some(ttl),
                },
            )
            .unwrap()
    }

    pub fn put(&self, colo: &str, key: &str, v: &str) -> Write {
        self.ns
            .put(colo, key, v.as_bytes().to_vec(), &PutOptions::default())
            .unwrap()
    }
}

pub fn text(r: &Read<Option<Vec<u8>>>) -> Option<&str> {
    r.value.as_deref().map(|b| std::str::from_utf8(b).unwrap())
}
