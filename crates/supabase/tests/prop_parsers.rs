//! Fuzz-style property tests: the query-string, select, filter, order and SQL parsers never
//! panic, and the whole request path answers bad input with a PostgREST error, never a 500.

use bytes::Bytes;
use edgesim_core::ManualClock;
use edgesim_supabase::migrate::{lex, translate};
use edgesim_supabase::query::{decode_pairs, filter, order, parse_query, select};
use edgesim_supabase::{ANON_KEY, NoopDispatcher, Supabase};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};

/// Strings built from the characters the grammars care about, plus some noise.
fn grammar_text() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "id",
        "title",
        "content",
        "created_at",
        "data",
        "->",
        "->>",
        ".",
        ",",
        ":",
        "::",
        "(",
        ")",
        "{",
        "}",
        "\"",
        "\\",
        "*",
        "eq",
        "neq",
        "gt",
        "like",
        "ilike",
        "in",
        "is",
        "not",
        "or",
        "and",
        "any",
        "all",
        "null",
        "true",
        "asc",
        "desc",
        "nullsfirst",
        "text",
        "int",
        " ",
        "%",
        "_",
        "1",
        "-1",
        "é",
        "Σ",
        "!",
        "...",
        "$",
        "'",
        ";",
        "\u{0}",
    ]);
    prop_oneof![
        proptest::collection::vec(atoms, 0..12).prop_map(|v| v.concat()),
        ".{0,24}",
    ]
}

fn supabase() -> &'static Supabase {
    static SB: OnceLock<Supabase> = OnceLock::new();
    SB.get_or_init(|| {
        Supabase::demo(Arc::new(ManualClock::new()), Arc::new(NoopDispatcher)).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(s in grammar_text(), k in grammar_text()) {
        let _ = select::parse_select(&s);
        let _ = select::parse_columns(&s);
        let _ = order::parse_order(&s);
        let _ = filter::parse_logic(false, true, &s);
        let _ = filter::pg_array(&s);
        let _ = parse_query(&[(k.clone(), s.clone())]);
        let _ = parse_query(&decode_pairs(&s));
        for st in lex::split(&s) {
            let _ = translate::translate(&st.text);
        }
    }

    #[test]
    fn bad_requests_get_postgrest_errors_not_500s(
        key in grammar_text(),
        value in grammar_text(),
        method in prop::sample::select(vec!["GET", "HEAD", "PATCH", "DELETE", "POST"]),
        body in prop_oneof![Just(String::new()), grammar_text(), Just(r#"{"title":"x"}"#.to_string())],
        prefer in prop_oneof![Just(""), Just("return=representation"), Just("count=exact"), Just("handling=strict, x=y")],
        accept in prop_oneof![Just(""), Just("application/vnd.pgrst.object+json"), Just("text/csv")],
    ) {
        let qs = format!("{}={}", utf8_percent_encode(&key, NON_ALPHANUMERIC), utf8_percent_encode(&value, NON_ALPHANUMERIC));
        // Only read-only or row-scoped writes, so the shared demo stays usable.
        let uri = match method {
            "GET" | "HEAD" => format!("/rest/v1/articles?{qs}"),
            _ => format!("/rest/v1/articles?id=eq.999&{qs}"),
        };
        let mut b = http::Request::builder().method(method).uri(&uri).header("apikey", ANON_KEY);
        if !prefer.is_empty() {
            b = b.header("prefer", prefer);
        }
        if !accept.is_empty() {
            b = b.header("accept", accept);
        }
        let resp = supabase().handle(b.body(Bytes::from(body)).unwrap());
        let status = resp.status().as_u16();
        prop_assert!(status < 500, "{method} {uri} -> {status} {:?}", resp.body());
        if status >= 400 && method != "HEAD" {
            let v: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
            prop_assert!(v.get("message").is_some(), "{v}");
            prop_assert!(v.get("code").is_some(), "{v}");
        }
    }
}
