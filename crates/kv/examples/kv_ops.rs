//! KV model operations per second, for `bench/run.sh` (`cargo run -p edgesim-kv --example kv_ops`).
//!
//! Runs the model in process on one thread, with a manual clock (the wall clock only times the
//! loops), and prints one JSON line: `{"ops":[{"name","count","seconds","ops_per_s"}],"note"}`.

use edgesim_core::{ManualClock, SharedClock, SimRng};
use edgesim_kv::{CacheStatus, GetOptions, KvConfig, KvStore, ListOptions, PutOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEYS: usize = 20_000;
const HOT_READS: usize = 200_000;
const PERSISTED_PUTS: usize = 2_000;
const LISTS: usize = 2_000;

struct Op {
    name: &'static str,
    count: usize,
    seconds: f64,
    /// For reads: how many were colo cache hits (checks the label).
    hits: Option<usize>,
}

fn timed(name: &'static str, count: usize, mut f: impl FnMut(usize)) -> Op {
    let start = Instant::now();
    for i in 0..count {
        f(i);
    }
    Op {
        name,
        count,
        seconds: start.elapsed().as_secs_f64(),
        hits: None,
    }
}

/// Times `count` gets at `colo` and counts the cache hits.
fn reads(
    name: &'static str,
    count: usize,
    ns: &edgesim_kv::Namespace,
    colo: &str,
    key: impl Fn(usize) -> String,
) -> Op {
    let opts = GetOptions::default();
    let mut hits = 0;
    let mut op = timed(name, count, |i| {
        let r = ns.get(colo, &key(i), &opts).expect("get");
        hits += usize::from(r.cache_status == CacheStatus::Hit);
    });
    op.hits = Some(hits);
    op
}

fn key(i: usize) -> String {
    format!("/articles/{i}")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let value = vec![b'x'; 1024];
    let clock = Arc::new(ManualClock::at_epoch_ms(1_700_000_000_000));
    let shared: SharedClock = clock.clone();
    let store = KvStore::new(
        KvConfig::default(),
        shared.clone(),
        SimRng::from_seed(7).fork("kv"),
    );
    let ns = store.namespace("ARTICLES")?;
    let put = PutOptions::default();
    let mut ops = Vec::new();

    ops.push(timed("put (in memory, 1 KiB, distinct keys)", KEYS, |i| {
        ns.put("FRA", &key(i), value.clone(), &put).expect("put");
    }));
    // Let every write reach central, so the reads below see settled data.
    clock.advance(Duration::from_millis(
        KvConfig::default().max_propagation_ms() + 1,
    ));
    ops.push(reads(
        "get, colo cache miss (fetch from central)",
        KEYS,
        &ns,
        "SYD",
        key,
    ));
    ops.push(reads(
        "get, colo cache hit (distinct keys)",
        KEYS,
        &ns,
        "SYD",
        key,
    ));
    ops.push(reads(
        "get, colo cache hit (one hot key, the /articles path)",
        HOT_READS,
        &ns,
        "SYD",
        |_| key(1),
    ));
    let list = ListOptions {
        prefix: Some("/articles/1".into()),
        limit: Some(100),
        cursor: None,
    };
    ops.push(timed("list (prefix, 100 keys a page)", LISTS, |_| {
        ns.list("FRA", &list).expect("list");
    }));

    let path = std::env::temp_dir().join(format!("edgesim-kv-ops-{}.sqlite3", std::process::id()));
    let persisted = KvStore::open_persistent(
        KvConfig::default(),
        shared,
        SimRng::from_seed(7).fork("kv"),
        &path,
    )?;
    let pns = persisted.namespace("ARTICLES")?;
    ops.push(timed(
        "put (persisted to SQLite, 1 KiB)",
        PERSISTED_PUTS,
        |i| {
            pns.put("FRA", &key(i), value.clone(), &put).expect("put");
        },
    ));
    drop((pns, persisted));
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }

    let ops: Vec<_> = ops
        .iter()
        .map(|o| {
            serde_json::json!({
                "name": o.name, "count": o.count, "seconds": o.seconds,
                "ops_per_s": o.count as f64 / o.seconds.max(1e-9), "hits": o.hits,
            })
        })
        .collect();
    let note = "One thread, the whole model (validation, faults check, settling, cache) per op; 5 colos, default config.";
    println!("{}", serde_json::json!({ "ops": ops, "note": note }));
    Ok(())
}
