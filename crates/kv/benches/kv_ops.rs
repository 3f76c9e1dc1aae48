//! Operations per second of the KV model: cache-hit get, read-through miss, put (5 colos).
//!
//! `cargo bench -p edgesim-kv`. Plain timing loops (no harness), one thread.

use edgesim_core::{ManualClock, SimRng};
use edgesim_kv::*;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn store() -> (ManualClock, Namespace) {
    let clock = ManualClock::new();
    let kv = KvStore::new(
        KvConfig::default(),
        Arc::new(clock.clone()),
        SimRng::from_seed(1),
    );
    (clock, kv.namespace("ARTICLES").unwrap())
}

fn report(name: &str, n: u64, elapsed: Duration) {
    let per_s = n as f64 / elapsed.as_secs_f64();
    println!(
        "{name:<28} {:>12.0} ops/s  ({:.0} ns/op)",
        per_s,
        1e9 / per_s
    );
}

fn main() {
    let colos = KvConfig::default()
        .colos
        .into_iter()
        .map(|c| c.name)
        .collect::<Vec<_>>();
    let value = vec![b'x'; 1024];
    let opts = GetOptions::default();

    // Cache-hit get: every colo has the key cached; the clock does not move.
    let (_clock, ns) = store();
    ns.put("SYD", "/articles", value.clone(), &PutOptions::default())
        .unwrap();
    for c in &colos {
        ns.get(c, "/articles", &opts).unwrap();
    }
    let n = 5_000_000u64;
    let start = Instant::now();
    for i in 0..n {
        let r = ns
            .get(&colos[(i % 5) as usize], "/articles", &opts)
            .unwrap();
        black_box(r);
    }
    report("get, cache hit (1 KiB)", n, start.elapsed());

    // Read-through miss: the clock jumps past the cacheTtl before each read.
    let (clock, ns) = store();
    ns.put("SYD", "/articles", value.clone(), &PutOptions::default())
        .unwrap();
    let n = 1_000_000u64;
    let start = Instant::now();
    for i in 0..n {
        clock.advance(Duration::from_secs(61));
        let r = ns
            .get(&colos[(i % 5) as usize], "/articles", &opts)
            .unwrap();
        black_box(r);
    }
    report("get, miss (read-through)", n, start.elapsed());

    // Put: distinct keys, so the 1 write/s rule never triggers; writes land as time moves.
    let (clock, ns) = store();
    let keys: Vec<String> = (0..1_000).map(|i| format!("/articles/{i}")).collect();
    let n = 1_000_000u64;
    let start = Instant::now();
    for i in 0..n {
        if i % 1_000 == 0 {
            clock.advance(Duration::from_secs(3));
        }
        let w = ns
            .put(
                &colos[(i % 5) as usize],
                &keys[(i % 1_000) as usize],
                value.clone(),
                &PutOptions::default(),
            )
            .unwrap();
        black_box(w);
    }
    report("put (5 colos, 1 KiB)", n, start.elapsed());
}
