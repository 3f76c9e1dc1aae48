//! Every error string, asserted exactly.

mod common;

use common::*;
use edgesim_kv::limits::*;
use edgesim_kv::*;

fn invalid(s: &str) -> KvError {
    KvError::Invalid(s.to_string())
}

#[test]
fn key_names() {
    let env = Env::fixed(ReadYourWrites::On);
    let g = GetOptions::default();
    let p = PutOptions::default();
    assert_eq!(
        env.ns.get("SYD", "", &g).unwrap_err(),
        invalid("Key name cannot be empty.")
    );
    assert_eq!(
        env.ns.put("SYD", ".", vec![], &p).unwrap_err(),
        invalid("\".\" is not allowed as a key name.")
    );
    assert_eq!(
        env.ns.delete("SYD", "..").unwrap_err(),
        invalid("\"..\" is not allowed as a key name.")
    );
    let long = "x".repeat(513);
    assert_eq!(
        env.ns.get("SYD", &long, &g).unwrap_err().to_string(),
        "KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."
    );
    assert_eq!(
        env.ns
            .get_with_metadata("SYD", &long, &g)
            .unwrap_err()
            .to_string(),
        "KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."
    );
    assert_eq!(
        env.ns
            .put("SYD", &long, vec![], &p)
            .unwrap_err()
            .to_string(),
        "KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."
    );
    // 171 three-byte characters: 513 bytes.
    assert_eq!(
        env.ns
            .delete("SYD", &"€".repeat(171))
            .unwrap_err()
            .to_string(),
        "KV DELETE failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."
    );
    assert!(env.ns.get("SYD", &"x".repeat(512), &g).is_ok());
}

#[test]
fn value_and_metadata_sizes() {
    let env = Env::fixed(ReadYourWrites::On);
    let e = env
        .ns
        .put("SYD", "k", vec![0; 26_214_401], &PutOptions::default())
        .unwrap_err();
    assert_eq!(
        e,
        invalid("KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400.")
    );
    assert!(
        env.ns
            .put("SYD", "k", vec![0; 26_214_400], &PutOptions::default())
            .is_ok()
    );
    // "x" + 1022 chars + "x" quotes: a JSON string of 1025 bytes.
    let meta = serde_json::Value::String("m".repeat(1023));
    let opts = PutOptions {
        metadata: Some(meta),
        ..PutOptions::default()
    };
    assert_eq!(
        env.ns.put("SYD", "m", vec![], &opts).unwrap_err(),
        invalid("KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024.")
    );
    let ok = PutOptions {
        metadata: Some(serde_json::Value::String("m".repeat(1022))),
        ..PutOptions::default()
    };
    assert!(env.ns.put("SYD", "m", vec![], &ok).is_ok());
}

#[test]
fn expirations() {
    let env = Env::fixed(ReadYourWrites::On);
    let now = T0 / 1000;
    let put = |expiration, expiration_ttl| {
        env.ns
            .put(
                "SYD",
                "k",
                vec![],
                &PutOptions {
                    expiration,
                    expiration_ttl,
                    metadata: None,
                },
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        put(None, Some(0)).unwrap_err(),
        "KV PUT failed: 400 Invalid expiration_ttl of 0. Please specify integer greater than 0."
    );
    assert_eq!(
        put(None, Some(59)).unwrap_err(),
        "KV PUT failed: 400 Invalid expiration_ttl of 59. Expiration TTL must be at least 60."
    );
    assert_eq!(
        put(Some(now), None).unwrap_err(),
        format!(
            "KV PUT failed: 400 Invalid expiration of {now}. Please specify integer greater than the current number of seconds since the UNIX epoch."
        )
    );
    assert_eq!(
        put(Some(now + 59), None).unwrap_err(),
        format!(
            "KV PUT failed: 400 Invalid expiration of {}. Expiration times must be at least 60 seconds in the future.",
            now + 59
        )
    );
    assert_eq!(put(Some(now + 60), None), Ok(()));
    env.at(1_000);
    assert_eq!(put(None, Some(60)), Ok(()));
}

#[test]
fn cache_ttl() {
    let env = Env::fixed(ReadYourWrites::On);
    let g = GetOptions {
        cache_ttl: Some(29),
    };
    let msg = "KV GET failed: 400 Invalid cache_ttl of 29. Cache TTL must be at least 30.";
    assert_eq!(env.ns.get("SYD", "k", &g).unwrap_err(), invalid(msg));
    assert_eq!(
        env.ns.get_with_metadata("SYD", "k", &g).unwrap_err(),
        invalid(msg)
    );
    assert_eq!(
        env.ns.get_bulk("SYD", &["k".into()], &g).unwrap_err(),
        invalid("KV GET_BULK failed: 400 Invalid cache_ttl of 29. Cache TTL must be at least 30.")
    );
    assert!(
        env.ns
            .get(
                "SYD",
                "k",
                &GetOptions {
                    cache_ttl: Some(30)
                }
            )
            .is_ok()
    );
    assert!(
        env.ns
            .get(
                "SYD",
                "k",
                &GetOptions {
                    cache_ttl: Some(u64::MAX)
                }
            )
            .is_ok()
    );
}

#[test]
fn list_limits() {
    let env = Env::fixed(ReadYourWrites::On);
    let list = |limit, prefix: Option<String>, cursor: Option<&str>| {
        env.ns
            .list(
                "SYD",
                &ListOptions {
                    prefix,
                    limit,
                    cursor: cursor.map(str::to_string),
                },
            )
            .map(|r| r.value.keys.len())
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        list(Some(1001), None, None).unwrap_err(),
        "KV GET failed: 400 Invalid key_count_limit of 1001. Please specify an integer less than 1000."
    );
    assert_eq!(list(Some(1000), None, None), Ok(0));
    assert_eq!(
        list(Some(0), None, None),
        Ok(0),
        "0 means unset, as in the runtime"
    );
    assert_eq!(
        list(None, Some("p".repeat(513)), None).unwrap_err(),
        "KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."
    );
    assert_eq!(
        list(None, None, Some("not a cursor!")).unwrap_err(),
        "KV GET failed: 400 Invalid cursor"
    );
}

#[test]
fn bulk_bounds_and_types() {
    let env = Env::fixed(ReadYourWrites::On);
    let g = GetOptions::default();
    let keys = |n: usize| (0..n).map(|i| format!("k{i}")).collect::<Vec<_>>();
    assert_eq!(
        env.ns.get_bulk("SYD", &[], &g).unwrap_err(),
        invalid("KV GET_BULK failed: 400 You must request a minimum of 1 key")
    );
    assert_eq!(
        env.ns.get_bulk("SYD", &keys(101), &g).unwrap_err(),
        invalid("KV GET_BULK failed: 400 You can request a maximum of 100 keys")
    );
    assert_eq!(
        env.ns.get_bulk("SYD", &keys(100), &g).unwrap().value.len(),
        100
    );
    assert_eq!(
        env.ns.get_bulk("SYD", &[".".into()], &g).unwrap_err(),
        invalid("KV GET_BULK failed: 400 Key name . is not legal")
    );
    assert_eq!(
        env.ns.get_bulk("SYD", &["x".repeat(513)], &g).unwrap_err(),
        invalid("KV GET_BULK failed: 414 Encoded length of 513 is too long")
    );
    assert_eq!(
        validate_bulk_type("stream").unwrap_err(),
        invalid("KV GET_BULK failed: 400 \"stream\" is not a valid type. Use \"json\" or \"text\"")
    );
    assert!(validate_bulk_type("json").is_ok() && validate_bulk_type("text").is_ok());
    assert_eq!(
        bulk_not_json().to_string(),
        "KV GET_BULK failed: 400 At least one of the requested keys corresponds to a non-json value"
    );
    assert_eq!(
        validate_get_type("banana").unwrap_err(),
        invalid(
            "Unknown response type. Possible types are \"text\", \"arrayBuffer\", \"json\", and \"stream\"."
        )
    );
    assert!(validate_get_type("arrayBuffer").is_ok());
}

#[test]
fn bulk_response_over_25_mb() {
    let env = Env::fixed(ReadYourWrites::On);
    for i in 0..2 {
        env.ns
            .put(
                "SYD",
                &format!("big{i}"),
                vec![b'x'; 13_000_000],
                &PutOptions::default(),
            )
            .unwrap();
    }
    let keys = vec!["big0".to_string(), "big1".to_string()];
    assert_eq!(
        env.ns
            .get_bulk("SYD", &keys, &GetOptions::default())
            .unwrap_err(),
        invalid("KV GET_BULK failed: 413 Total size of request exceeds the limit of 25MB")
    );
}

#[test]
fn rate_limit() {
    let env = Env::fixed(ReadYourWrites::On);
    env.put("SYD", "k", "1");
    assert_eq!(
        env.ns
            .put("SYD", "k", vec![], &PutOptions::default())
            .unwrap_err(),
        KvError::TooManyRequests("KV PUT failed: 429 Too Many Requests".into())
    );
}

#[test]
fn operations_budget() {
    let mut b = OpBudget::new(1000);
    for _ in 0..1000 {
        b.charge().unwrap();
    }
    assert_eq!(b.used(), 1000);
    assert_eq!(
        b.charge().unwrap_err(),
        KvError::TooManyOperations("Too many API requests by single worker invocation.".into())
    );
    assert_eq!(b.used(), 1000);
    assert_eq!(OpBudget::default().used(), 0);
}

#[test]
fn unknown_binding_and_colo() {
    let env = Env::fixed(ReadYourWrites::On);
    assert_eq!(
        env.store.namespace("NOPE").unwrap_err(),
        KvError::NoSuchBinding("No KV namespace is bound as \"NOPE\".".into())
    );
    assert_eq!(
        env.ns.get("XXX", "k", &GetOptions::default()).unwrap_err(),
        KvError::NoSuchBinding("No colo named \"XXX\" is configured.".into())
    );
}

#[test]
fn injected_failures_and_partitions() {
    let env = Env::fixed(ReadYourWrites::On);
    let f = env.store.faults();
    let id = f.fail(FaultRule::always(FaultEffect::TooManyRequests, T0, T0 + 1));
    assert_eq!(
        env.ns.get("SYD", "k", &GetOptions::default()).unwrap_err(),
        KvError::TooManyRequests("KV GET failed: 429 Too Many Requests".into())
    );
    f.remove(id);
    f.fail(FaultRule::always(
        FaultEffect::ServerError { status: 500 },
        T0,
        T0 + 1,
    ));
    assert_eq!(
        env.ns.delete("SYD", "k").unwrap_err(),
        KvError::Unavailable("KV DELETE failed: 500 Internal Server Error".into())
    );
    f.clear();
    f.partition("SYD", T0, T0 + 1);
    assert_eq!(
        env.ns
            .put("SYD", "k", vec![], &PutOptions::default())
            .unwrap_err(),
        KvError::Unavailable("KV PUT failed: 503 Service Unavailable".into())
    );
    assert_eq!(
        env.ns
            .get_bulk("SYD", &["k".into()], &GetOptions::default())
            .unwrap_err(),
        KvError::Unavailable("KV GET_BULK failed: 503 Service Unavailable".into())
    );
}
