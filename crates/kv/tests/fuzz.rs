//! Fuzzing KV's key, value and option validation through the binding's operations (see
//! `edgesim_testkit::fuzz`): any key, value and options give a result or the documented error,
//! never a panic. Input: `op\nkey\noptions-json\nvalue`. `just fuzz` runs `fuzz_campaign`.

use edgesim_core::{ManualClock, SharedClock, SimRng};
use edgesim_kv::{GetOptions, KvConfig, KvStore, ListOptions, PutOptions};
use edgesim_testkit::fuzz;
use std::sync::{Arc, OnceLock};

const DICT: &[&str] = &[
    "put\n",
    "get\n",
    "getWithMetadata\n",
    "delete\n",
    "list\n",
    "bulk\n",
    "\"expiration\":",
    "\"expiration_ttl\":",
    "\"metadata\":",
    "\"cache_ttl\":",
    "\"prefix\":",
    "\"limit\":",
    "\"cursor\":",
    "{",
    "}",
    ":",
    ",",
    "null",
    "59",
    "60",
    "30",
    "29",
    "1001",
    "1024",
    ".",
    "..",
    "/",
    "%2F",
    "\u{0}",
];

fn store() -> &'static KvStore {
    static S: OnceLock<KvStore> = OnceLock::new();
    S.get_or_init(|| {
        let clock: SharedClock = Arc::new(ManualClock::new());
        KvStore::new(KvConfig::default(), clock, SimRng::from_seed(1))
    })
}

fn target(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let op = parts.next().unwrap_or("");
    let key = parts.next().unwrap_or("");
    let opts = parts.next().unwrap_or("");
    let value = parts.next().unwrap_or("").as_bytes().to_vec();
    let kv = store();
    let ns = kv.namespace("ARTICLES").expect("the default binding");
    let colo = kv.colos()[0].clone();
    let c = |r: Result<(), edgesim_kv::KvError>| fuzz::class_of(&r, 40);
    match op {
        "put" => match serde_json::from_str::<PutOptions>(opts) {
            Ok(o) => c(ns.put(&colo, key, value, &o).map(|_| ())),
            Err(_) => "bad-options".into(),
        },
        "get" | "getWithMetadata" => match serde_json::from_str::<GetOptions>(opts) {
            Ok(o) if op == "get" => c(ns.get(&colo, key, &o).map(|_| ())),
            Ok(o) => c(ns.get_with_metadata(&colo, key, &o).map(|_| ())),
            Err(_) => "bad-options".into(),
        },
        "delete" => c(ns.delete(&colo, key).map(|_| ())),
        "list" => match serde_json::from_str::<ListOptions>(opts) {
            Ok(o) => c(ns.list(&colo, &o).map(|_| ())),
            Err(_) => "bad-options".into(),
        },
        "bulk" => {
            let keys: Vec<String> = key.split(',').map(str::to_string).collect();
            match serde_json::from_str::<GetOptions>(opts) {
                Ok(o) => c(ns.get_bulk(&colo, &keys, &o).map(|_| ())),
                Err(_) => "bad-options".into(),
            }
        }
        _ => "no-op".into(),
    }
}

#[test]
fn fuzz_corpus_replays_without_panics() {
    let r = fuzz::run("kv_validation", None, DICT, target);
    assert!(r.corpus_before > 0);
}

/// `just fuzz`.
#[test]
#[ignore = "a campaign: run by `just fuzz`"]
fn fuzz_campaign() {
    let budget = fuzz::budget_from_env().unwrap_or(std::time::Duration::from_secs(10));
    let r = fuzz::run("kv_validation", Some(budget), DICT, target);
    fuzz::record(&r);
    println!("{}", r.row());
    assert_eq!(r.crashes, 0, "crashes in fuzz/crashes/kv_validation/");
}
