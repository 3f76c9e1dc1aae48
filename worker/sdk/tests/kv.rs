//! The typed KV layer over the in-memory test namespace.

use edgesim_worker::kv::{CacheStatus, PutOptions};
use edgesim_worker::testing::{MemoryKv, TestEnv, block_on};
use edgesim_worker::{Env, Error, KvError};
use serde_json::{Value, json};

fn env() -> (Env, std::rc::Rc<MemoryKv>) {
    let kv = MemoryKv::new();
    (TestEnv::new().kv("ARTICLES", kv.clone()).build(), kv)
}

#[test]
fn text_and_json_reads_and_writes() {
    let (env, mem) = env();
    let kv = env.kv("ARTICLES").unwrap();
    block_on(async {
        assert_eq!(kv.get_text("/articles").await.unwrap(), None);
        assert_eq!(kv.get_json::<Value>("/articles").await.unwrap(), None);
        kv.put_json("/articles", &json!([{"id": 1, "title": "first blog"}]))
            .unwrap()
            .execute()
            .await
            .unwrap();
        assert_eq!(
            kv.get_text("/articles").await.unwrap().as_deref(),
            Some(r#"[{"id":1,"title":"first blog"}]"#)
        );
        let v: Value = kv
            .get("/articles")
            .cache_ttl(30)
            .json()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v[0]["title"], "first blog");
        kv.put("bad", "{not json").execute().await.unwrap();
        assert!(matches!(
            kv.get_json::<Value>("bad").await,
            Err(Error::Json(_))
        ));
        kv.put("bin", vec![0xff]).execute().await.unwrap();
        assert!(matches!(kv.get_text("bin").await, Err(Error::Utf8(_))));
        kv.delete("/articles").await.unwrap();
        assert_eq!(kv.get_text("/articles").await.unwrap(), None);
    });
    assert_eq!(mem.log()[0], "get /articles");
}

#[test]
fn put_options_and_metadata_reach_the_backend() {
    let (env, mem) = env();
    let kv = env.kv("ARTICLES").unwrap();
    block_on(async {
        kv.put("k", "v")
            .expiration_ttl(120)
            .metadata(&json!({"version": 3}))
            .unwrap()
            .execute()
            .await
            .unwrap();
        kv.put("abs", "v")
            .expiration(2_000_000_000)
            .execute()
            .await
            .unwrap();
        let got = kv
            .get_with_metadata("k")
            .cache_ttl(60)
            .text()
            .await
            .unwrap();
        assert_eq!(got.value.as_deref(), Some("v"));
        assert_eq!(got.cache_status, CacheStatus::Miss);
        assert_eq!(
            got.metadata_as::<Value>().unwrap(),
            Some(json!({"version": 3}))
        );
        let missing = kv.get_with_metadata("nope").json::<Value>().await.unwrap();
        assert_eq!(missing.value, None);
        assert_eq!(missing.metadata, None);
    });
    assert_eq!(
        mem.entry("k").unwrap().options,
        PutOptions {
            expiration: None,
            expiration_ttl: Some(120),
            metadata: Some(r#"{"version":3}"#.into()),
        }
    );
    assert_eq!(
        mem.entry("abs").unwrap().options.expiration,
        Some(2_000_000_000)
    );
}

#[test]
fn list_pages_with_prefix_limit_and_cursor() {
    let (env, mem) = env();
    for k in [
        "/articles",
        "/articles/1",
        "/articles/2",
        "/articles/3",
        "/other",
    ] {
        mem.seed(k, "1");
    }
    let kv = env.kv("ARTICLES").unwrap();
    block_on(async {
        let page = kv
            .list()
            .prefix("/articles/")
            .limit(2)
            .execute()
            .await
            .unwrap();
        let names: Vec<_> = page.keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["/articles/1", "/articles/2"]);
        assert!(!page.list_complete);
        let next = kv
            .list()
            .prefix("/articles/")
            .cursor(page.cursor.unwrap())
            .execute()
            .await
            .unwrap();
        let names: Vec<_> = next.keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["/articles/3"]);
        assert!(next.list_complete);
        assert_eq!(next.cursor, None);
    });
}

#[test]
fn get_bulk_keeps_key_order() {
    let (env, mem) = env();
    mem.seed("a", r#"{"n":1}"#);
    mem.seed("c", r#"{"n":3}"#);
    let kv = env.kv("ARTICLES").unwrap();
    block_on(async {
        let text = kv.get_bulk(&["c", "b", "a"]).text().await.unwrap();
        assert_eq!(
            text,
            vec![
                ("c".to_owned(), Some(r#"{"n":3}"#.to_owned())),
                ("b".to_owned(), None),
                ("a".to_owned(), Some(r#"{"n":1}"#.to_owned())),
            ]
        );
        let json = kv
            .get_bulk(&["a"])
            .cache_ttl(30)
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(json[0].1, Some(json!({"n": 1})));
    });
}

#[test]
fn backend_errors_carry_the_production_message() {
    let (env, mem) = env();
    let kv = env.kv("ARTICLES").unwrap();
    mem.fail_next(
        "put",
        KvError::TooManyRequests("KV PUT failed: 429 Too Many Requests".into()),
    );
    let err = block_on(kv.put("k", "v").execute()).unwrap_err();
    assert_eq!(err.to_string(), "KV PUT failed: 429 Too Many Requests");
    assert!(matches!(&err, Error::Kv(e) if e.is_too_many_requests()));
    block_on(kv.put("k", "v").execute()).unwrap();
    assert_eq!(mem.text("k").as_deref(), Some("v"));
}

#[test]
fn unknown_bindings_and_variables_are_errors() {
    let env = TestEnv::new().var("SUPABASE_URL", "http://s").build();
    assert!(matches!(
        env.kv("NOPE"),
        Err(Error::Kv(KvError::NoSuchBinding(_)))
    ));
    assert_eq!(env.var("SUPABASE_URL").unwrap(), "http://s");
    assert_eq!(
        env.var("MISSING").unwrap_err().to_string(),
        "Binding `MISSING` is undefined."
    );
    assert_eq!(env.var_opt("MISSING"), None);
}
