//! Differential property test: the SQLite translation of PostgREST filters agrees with a plain
//! Rust evaluation of the same filter under Postgres semantics (three-valued logic, NULLs,
//! case-sensitive `like`, Unicode `ilike`, `any`/`all`, `in`, `is`, `isdistinct`, `not`, trees).

use bytes::Bytes;
use edgesim_core::ManualClock;
use edgesim_supabase::{ANON_KEY, NoopDispatcher, Supabase};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use std::sync::Arc;

#[derive(Clone, Debug)]
struct Row {
    n: Option<i64>,
    t: Option<String>,
    b: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cmp {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Clone, Debug)]
enum Cond {
    NCmp(Cmp, i64),
    TCmp(Cmp, String),
    Like(bool, String),
    NIn(Vec<i64>),
    TIn(Vec<String>),
    IsNull(&'static str),
    BIs(Option<bool>),
    BEq(bool),
    NDistinct(i64),
    TDistinct(String),
    TQuant(bool, bool, Vec<Option<String>>), // ilike?, all?, patterns
    NQuant(Cmp, bool, Vec<Option<i64>>),
    Match(bool, String),
}

#[derive(Clone, Debug)]
enum F {
    C(bool, Cond),
    Tree(bool, bool, Vec<F>),
}

fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec![
            'a', 'A', 'é', 'É', 'σ', 'Σ', 'ß', ' ', ',', '(', ')', '"', '\\',
        ]),
        0..3,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn pattern() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec!['a', 'A', 'é', 'É', '%', '_', '*', 'σ', 'Σ', ',']),
        0..3,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn cmp() -> impl Strategy<Value = Cmp> {
    prop::sample::select(vec![
        Cmp::Eq,
        Cmp::Neq,
        Cmp::Gt,
        Cmp::Gte,
        Cmp::Lt,
        Cmp::Lte,
    ])
}

fn cond() -> impl Strategy<Value = Cond> {
    prop_oneof![
        (cmp(), -3i64..4).prop_map(|(c, v)| Cond::NCmp(c, v)),
        (cmp(), text()).prop_map(|(c, v)| Cond::TCmp(c, v)),
        (any::<bool>(), pattern()).prop_map(|(i, p)| Cond::Like(i, p)),
        proptest::collection::vec(-3i64..4, 0..3).prop_map(Cond::NIn),
        proptest::collection::vec(text(), 0..3).prop_map(Cond::TIn),
        prop::sample::select(vec!["n", "t", "b"]).prop_map(Cond::IsNull),
        prop::option::of(any::<bool>()).prop_map(Cond::BIs),
        any::<bool>().prop_map(Cond::BEq),
        (-3i64..4).prop_map(Cond::NDistinct),
        text().prop_map(Cond::TDistinct),
        (
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(prop::option::weighted(0.85, pattern()), 0..3)
        )
            .prop_map(|(i, a, p)| Cond::TQuant(i, a, p)),
        (
            cmp(),
            any::<bool>(),
            proptest::collection::vec(prop::option::weighted(0.85, -3i64..4), 0..3)
        )
            .prop_map(|(c, a, v)| Cond::NQuant(c, a, v)),
        (any::<bool>(), proptest::collection::vec(regex_atom(), 0..3))
            .prop_map(|(ci, v)| Cond::Match(ci, v.concat())),
    ]
}

fn regex_atom() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["a", "A", "é", "É", ".", "^", "$", "σ", ",", " "])
}

fn filter() -> impl Strategy<Value = F> {
    let leaf = || (prop::bool::weighted(0.25), cond()).prop_map(|(n, c)| F::C(n, c));
    let tree = leaf().prop_recursive(3, 12, 3, |inner| {
        (
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(inner, 1..4),
        )
            .prop_map(|(n, a, v)| F::Tree(n, a, v))
    });
    prop_oneof![2 => leaf(), 1 => tree]
}

fn row() -> impl Strategy<Value = Row> {
    (
        prop::option::weighted(0.8, -3i64..4),
        prop::option::weighted(0.8, text()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(n, t, b)| Row { n, t, b })
}

// ---------- rendering to PostgREST syntax ----------

fn op_name(c: Cmp) -> &'static str {
    match c {
        Cmp::Eq => "eq",
        Cmp::Neq => "neq",
        Cmp::Gt => "gt",
        Cmp::Gte => "gte",
        Cmp::Lt => "lt",
        Cmp::Lte => "lte",
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// (column, operation text) with the value rendered for a tree (quoted) or top level (raw).
fn render_cond(c: &Cond, in_tree: bool) -> (&'static str, String) {
    let v = |s: &str| if in_tree { quote(s) } else { s.to_string() };
    let arr = |items: Vec<String>| format!("{{{}}}", items.join(","));
    match c {
        Cond::NCmp(o, x) => ("n", format!("{}.{x}", op_name(*o))),
        Cond::TCmp(o, s) => ("t", format!("{}.{}", op_name(*o), v(s))),
        Cond::Like(i, p) => (
            "t",
            format!("{}.{}", if *i { "ilike" } else { "like" }, v(p)),
        ),
        Cond::NIn(xs) => (
            "n",
            format!(
                "in.({})",
                xs.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
        Cond::TIn(xs) => (
            "t",
            format!(
                "in.({})",
                xs.iter().map(|x| quote(x)).collect::<Vec<_>>().join(",")
            ),
        ),
        Cond::IsNull(col) => (col, "is.null".to_string()),
        Cond::BIs(b) => (
            "b",
            format!("is.{}", b.map_or("unknown".into(), |b| b.to_string())),
        ),
        Cond::BEq(b) => ("b", format!("eq.{b}")),
        Cond::NDistinct(x) => ("n", format!("isdistinct.{x}")),
        Cond::TDistinct(s) => ("t", format!("isdistinct.{}", v(s))),
        Cond::TQuant(i, all, ps) => {
            let items = ps
                .iter()
                .map(|p| p.as_ref().map_or("NULL".to_string(), |p| quote(p)))
                .collect();
            (
                "t",
                format!(
                    "{}({}).{}",
                    if *i { "ilike" } else { "like" },
                    if *all { "all" } else { "any" },
                    arr(items)
                ),
            )
        }
        Cond::NQuant(o, all, xs) => {
            let items = xs
                .iter()
                .map(|x| x.map_or("NULL".to_string(), |x| x.to_string()))
                .collect();
            (
                "n",
                format!(
                    "{}({}).{}",
                    op_name(*o),
                    if *all { "all" } else { "any" },
                    arr(items)
                ),
            )
        }
        Cond::Match(ci, p) => (
            "t",
            format!("{}.{}", if *ci { "imatch" } else { "match" }, v(p)),
        ),
    }
}

fn render_tree_item(f: &F) -> String {
    match f {
        F::C(neg, c) => {
            let (col, op) = render_cond(c, true);
            format!("{col}.{}{op}", if *neg { "not." } else { "" })
        }
        F::Tree(neg, and, kids) => format!(
            "{}{}({})",
            if *neg { "not." } else { "" },
            if *and { "and" } else { "or" },
            kids.iter()
                .map(render_tree_item)
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// A top-level query parameter `key=value` (unencoded).
fn render_param(f: &F) -> (String, String) {
    match f {
        F::C(neg, c) => {
            let (col, op) = render_cond(c, false);
            (
                col.to_string(),
                format!("{}{op}", if *neg { "not." } else { "" }),
            )
        }
        F::Tree(neg, and, kids) => (
            format!(
                "{}{}",
                if *neg { "not." } else { "" },
                if *and { "and" } else { "or" }
            ),
            format!(
                "({})",
                kids.iter()
                    .map(render_tree_item)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
    }
}

// ---------- the reference evaluator (Postgres semantics) ----------

fn cmp3<T: PartialOrd>(a: Option<&T>, o: Cmp, b: &T) -> Option<bool> {
    let a = a?;
    Some(match o {
        Cmp::Eq => a == b,
        Cmp::Neq => a != b,
        Cmp::Gt => a > b,
        Cmp::Gte => a >= b,
        Cmp::Lt => a < b,
        Cmp::Lte => a <= b,
    })
}

fn like_match(s: &[char], p: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('%') => (0..=s.len()).any(|i| like_match(&s[i..], &p[1..])),
        Some('_') => !s.is_empty() && like_match(&s[1..], &p[1..]),
        Some(c) => s.first() == Some(c) && like_match(&s[1..], &p[1..]),
    }
}

fn like(s: Option<&String>, p: &str, ci: bool) -> Option<bool> {
    let s = s?;
    let p = p.replace('*', "%");
    let lower = |x: &str| x.chars().flat_map(char::to_lowercase).collect::<String>();
    let (s, p) = if ci {
        (lower(s), lower(&p))
    } else {
        (s.clone(), p)
    };
    Some(like_match(
        &s.chars().collect::<Vec<_>>(),
        &p.chars().collect::<Vec<_>>(),
    ))
}

fn or3(xs: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut acc = Some(false);
    for x in xs {
        acc = match (acc, x) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        };
    }
    acc
}

fn and3(xs: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut acc = Some(true);
    for x in xs {
        acc = match (acc, x) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        };
    }
    acc
}

fn eval_cond(r: &Row, c: &Cond) -> Option<bool> {
    match c {
        Cond::NCmp(o, x) => cmp3(r.n.as_ref(), *o, x),
        Cond::TCmp(o, s) => cmp3(r.t.as_ref(), *o, s),
        Cond::Like(i, p) => like(r.t.as_ref(), p, *i),
        Cond::NIn(xs) => or3(xs.iter().map(|x| cmp3(r.n.as_ref(), Cmp::Eq, x))),
        Cond::TIn(xs) => or3(xs.iter().map(|x| cmp3(r.t.as_ref(), Cmp::Eq, x))),
        Cond::IsNull(col) => Some(match *col {
            "n" => r.n.is_none(),
            "t" => r.t.is_none(),
            _ => r.b.is_none(),
        }),
        Cond::BIs(b) => Some(r.b == *b),
        Cond::BEq(b) => r.b.map(|x| x == *b),
        Cond::NDistinct(x) => Some(r.n != Some(*x)),
        Cond::TDistinct(s) => Some(r.t.as_ref() != Some(s)),
        Cond::TQuant(i, all, ps) => {
            let it = ps
                .iter()
                .map(|p| p.as_ref().and_then(|p| like(r.t.as_ref(), p, *i)));
            if *all { and3(it) } else { or3(it) }
        }
        Cond::NQuant(o, all, xs) => {
            let it = xs
                .iter()
                .map(|x| x.as_ref().and_then(|x| cmp3(r.n.as_ref(), *o, x)));
            if *all { and3(it) } else { or3(it) }
        }
        Cond::Match(ci, p) => {
            let pat = if *ci { format!("(?i){p}") } else { p.clone() };
            let re = regex::Regex::new(&pat).unwrap();
            r.t.as_ref().map(|t| re.is_match(t))
        }
    }
}

fn eval(r: &Row, f: &F) -> Option<bool> {
    let (neg, v) = match f {
        F::C(neg, c) => (*neg, eval_cond(r, c)),
        F::Tree(neg, and, kids) => {
            let it = kids.iter().map(|k| eval(r, k));
            (*neg, if *and { and3(it) } else { or3(it) })
        }
    };
    if neg { v.map(|b| !b) } else { v }
}

fn sql_lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_filters_agree_with_postgres_semantics(rows in proptest::collection::vec(row(), 1..10), filters in proptest::collection::vec(filter(), 1..3)) {
        let sb = Supabase::demo(Arc::new(ManualClock::new()), Arc::new(NoopDispatcher)).unwrap();
        let mut sql = String::from("create table r (id bigint generated by default as identity primary key, n integer, t text, b boolean);");
        for row in &rows {
            sql.push_str(&format!(
                "insert into r (n, t, b) values ({}, {}, {});",
                row.n.map_or("null".into(), |n| n.to_string()),
                row.t.as_ref().map_or("null".into(), |t| sql_lit(t)),
                row.b.map_or("null".into(), |b| b.to_string()),
            ));
        }
        sb.execute(&sql).unwrap();
        let qs: Vec<String> = filters
            .iter()
            .map(render_param)
            .map(|(k, v)| format!("{}={}", utf8_percent_encode(&k, NON_ALPHANUMERIC), utf8_percent_encode(&v, NON_ALPHANUMERIC)))
            .collect();
        let uri = format!("/rest/v1/r?select=id&order=id&{}", qs.join("&"));
        let req = http::Request::builder().uri(&uri).header("apikey", ANON_KEY).body(Bytes::new()).unwrap();
        let resp = sb.handle(req);
        let body = String::from_utf8_lossy(resp.body()).into_owned();
        prop_assert_eq!(resp.status().as_u16(), 200, "{} -> {}", uri, body);
        let got: Vec<i64> = serde_json::from_str::<Vec<serde_json::Value>>(&body).unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
        let want: Vec<i64> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| and3(filters.iter().map(|f| eval(r, f))) == Some(true))
            .map(|(i, _)| i as i64 + 1)
            .collect();
        prop_assert_eq!(got, want, "query {} over {:?}", uri, rows);
    }
}
