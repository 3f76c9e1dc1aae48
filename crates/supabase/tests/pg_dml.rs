//! Differential test: `insert`, `update` and `delete` inside `language sql` and PL/pgSQL
//! function bodies, and expression defaults, against PostgreSQL 15. The values written go
//! through Postgres's assignment casts (`n int` given `7.5` stores 8, a `boolean` given
//! `'yes'::boolean` stores true, a `date` given `'2024-01-31'::date + i`), `on conflict do
//! update` reads `excluded`, and a positional `insert ... values (i)` fills the defaults.
//!
//! Each case calls one function over `POST /rest/v1/rpc/<fn>` in the mock and `select fn(...)`
//! in PostgreSQL (rolled back); every case writes its own ids, so the mock's persisting writes
//! never meet another case's. Without PostgreSQL the test prints a SKIPPED line.

mod common;
mod pg;

use bytes::Bytes;
use edgesim_core::{ManualClock, SharedClock};
use edgesim_supabase::{NoopDispatcher, SERVICE_ROLE_KEY, Supabase};
use pg::{PgCase, Role};
use serde_json::{Value, json};
use std::sync::Arc;

const SCHEMA: &str = r#"
create table tallies (
  id int primary key,
  n int,
  amount numeric,
  ok boolean,
  at date,
  label text default 'none',
  due date default (date '2024-01-01' + 30),
  tags text[] default '{}'
);
create function add_n(i int, x numeric) returns int language sql as $$
  insert into tallies (id, n) values (i, x);
  select n from tallies where id = i;
$$;
create function add_ok(i int, flag text) returns boolean language sql as $$
  insert into tallies (id, ok) values (i, flag::boolean);
  select ok from tallies where id = i;
$$;
create function add_at(i int) returns text language sql as $$
  insert into tallies (id, at) values (i, '2024-01-31'::date + i);
  select at::text || '/' || due::text || '/' || label from tallies where id = i;
$$;
create function add_amount(i int, x int) returns numeric language sql as $$
  insert into tallies (id, amount) values (i, x::numeric / 4);
  select amount from tallies where id = i;
$$;
create function bump(i int, x numeric) returns int language plpgsql as $$
begin
  insert into tallies values (i);
  update tallies set n = x * 2, label = label || '!' where id = i;
  return (select n from tallies where id = i);
end $$;
create function drop_big(i int) returns int language plpgsql as $$
begin
  insert into tallies (id, n) values (i, 5), (i + 1000, 50);
  delete from tallies where id in (i, i + 1000) and n::numeric / 10 > 1;
  return (select count(*)::int from tallies where id in (i, i + 1000));
end $$;
create function upsert_n(i int, x numeric) returns int language sql as $$
  insert into tallies (id, n) values (i, 1);
  insert into tallies (id, n) values (i, x) on conflict (id) do update set n = excluded.n + 0.6;
  select n from tallies where id = i;
$$;
create function tagged(i int, t text) returns text language sql as $$
  insert into tallies (id, tags) values (i, array[t, upper(t)]);
  select tags[2] from tallies where id = i;
$$;
"#;

/// (function, JSON arguments, the same arguments as SQL).
fn cases() -> Vec<(&'static str, Value, String)> {
    let mut out = Vec::new();
    let mut id = 0;
    let mut next = || {
        id += 1;
        id
    };
    for x in ["7.5", "-2.5", "0.4", "3"] {
        let i = next();
        out.push((
            "add_n",
            json!({"i": i, "x": x.parse::<f64>().unwrap()}),
            format!("{i}, {x}"),
        ));
    }
    for f in ["yes", "off", "t", "0", "maybe"] {
        let i = next();
        out.push(("add_ok", json!({"i": i, "flag": f}), format!("{i}, '{f}'")));
    }
    for _ in 0..3 {
        let i = next();
        out.push(("add_at", json!({"i": i}), format!("{i}")));
    }
    for x in [1, 3, 10] {
        let i = next();
        out.push(("add_amount", json!({"i": i, "x": x}), format!("{i}, {x}")));
    }
    for x in ["1.25", "2.5", "-0.3"] {
        let i = next();
        out.push((
            "bump",
            json!({"i": i, "x": x.parse::<f64>().unwrap()}),
            format!("{i}, {x}"),
        ));
    }
    for _ in 0..2 {
        let i = next();
        out.push(("drop_big", json!({"i": i}), format!("{i}")));
    }
    for x in ["4", "4.5"] {
        let i = next();
        out.push((
            "upsert_n",
            json!({"i": i, "x": x.parse::<f64>().unwrap()}),
            format!("{i}, {x}"),
        ));
    }
    for t in ["ab", "é"] {
        let i = next();
        out.push(("tagged", json!({"i": i, "t": t}), format!("{i}, '{t}'")));
    }
    out
}

fn ask_mock(sb: &Supabase, func: &str, args: &Value) -> Value {
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("/rest/v1/rpc/{func}"))
        .header("apikey", SERVICE_ROLE_KEY)
        .header("authorization", format!("Bearer {SERVICE_ROLE_KEY}"))
        .header("content-type", "application/json")
        .body(Bytes::from(args.to_string()))
        .expect("request");
    let resp = sb.handle(req);
    let body: Value = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
    if resp.status().is_success() {
        json!([{ "v": body }])
    } else {
        json!({"error": body["code"], "message": body["message"]})
    }
}

/// Numbers as doubles to 12 significant digits (the mock stores numeric as REAL).
fn canon(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::String(format!("#{:.11e}", n.as_f64().unwrap_or(f64::NAN))),
        Value::Array(a) => Value::Array(a.iter().map(canon).collect()),
        Value::Object(o) if o.contains_key("error") => json!({"error": o["error"]}),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), canon(v))).collect()),
        other => other.clone(),
    }
}

#[test]
fn writes_in_function_bodies_answer_like_postgres() {
    let Some(pg) = pg::start_or_skip("writes_in_function_bodies_answer_like_postgres") else {
        return;
    };
    pg.exec(pg::SUPABASE_PRELUDE)
        .unwrap_or_else(|e| panic!("prelude: {e}"));
    pg.exec(&format!(
        "begin;\n{SCHEMA}\n{}\ncommit;\n",
        pg::SUPABASE_GRANTS
    ))
    .unwrap_or_else(|e| panic!("schema in Postgres: {e}"));
    let dir = common::project(&[("supabase/migrations/20240101000000_dml.sql", SCHEMA)]);
    let clock: SharedClock = Arc::new(ManualClock::new());
    let sb = Supabase::open(&dir, None, clock, Arc::new(NoopDispatcher)).expect("project");
    let warnings: Vec<String> = sb.load_report().warnings().map(|w| w.to_string()).collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
    let cases = cases();
    let pg_cases: Vec<PgCase> = cases
        .iter()
        .map(|(f, _, sql_args)| PgCase {
            role: Role::Service,
            claims: json!({"role": "service_role"}),
            sql: format!("SELECT {f}({sql_args}) AS v"),
            write: None,
        })
        .collect();
    let expected = pg.run_cases(&pg_cases).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for ((f, args, sql_args), want) in cases.iter().zip(&expected) {
        let got = ask_mock(&sb, f, args);
        if std::env::var_os("EDGESIM_PG_DML_SHOW").is_some() {
            eprintln!("{f}({sql_args}): postgres {want} mock {got}");
        }
        if canon(&got) != canon(want) {
            failures.push(format!(
                "{f}({sql_args})\n  postgres: {want}\n  mock:     {got}"
            ));
        }
    }
    eprintln!(
        "pg_dml: {} cases, {} mismatches",
        cases.len(),
        failures.len()
    );
    for f in &failures {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ",
        failures.len(),
        cases.len()
    );
}
