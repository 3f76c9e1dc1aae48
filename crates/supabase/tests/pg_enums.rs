//! Enum columns through PostgREST, checked against PostgreSQL 15: `order=` (with
//! `nullsfirst`/`nullslast`, embedded resources' order and related orders) sorts by the label's
//! position in the type, comparison filters (`gt`/`gte`/`lt`/`lte`, their `any`/`all` forms,
//! `eq`/`neq`/`in`/`isdistinct`) compare as PostgreSQL compares enums, and a value that is not a
//! label answers PostgreSQL's 22P02 (HTTP 400); `like` on an enum is 42883. A policy comparing
//! an enum column with a value that is not a label is refused by the migration (22P02, with
//! file and line), as PostgreSQL refuses the `create policy`.
//!
//! Each case is a request to the mock and the SQL PostgreSQL answers it with (PostgREST sends
//! filter values as untyped literals, so `doc_level=gt.low` is `doc_level > 'low'`); the schema
//! runs in both. Without PostgreSQL the differential parts are skipped visibly (see
//! `pg::start_or_skip`; a failure under `CI=true`); the mock-only assertions always run.

mod common;
mod pg;

use edgesim_supabase::{ANON_KEY, SERVICE_ROLE_KEY, Supabase};
use pg::{PgCase, Role};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
create type lvl as enum ('low', 'mid', 'high');
create table docs (id int primary key, doc_level lvl, title text not null);
insert into docs values (1, 'low', 'a'), (2, 'mid', 'b'), (3, 'high', 'c'), (4, null, 'd'),
  (5, 'mid', 'e');
create table parts (id int primary key, doc_id int not null references docs (id),
  part_level lvl not null);
insert into parts values (1, 1, 'high'), (2, 1, 'low'), (3, 1, 'mid'), (4, 2, 'mid'),
  (5, 3, 'low'), (6, 2, 'high');
create table empty (id int primary key, l lvl);
create view doc_view as select id, doc_level, greatest(doc_level, 'mid') as g from docs;
create function levels() returns table (id int, l lvl) language sql stable as $$
  select id, doc_level from docs
$$;
"#;

/// The mock's answer: the rows, or `{"error": code, "message": message}` (with the HTTP status
/// checked: 400 for 22P02).
fn ask(sb: &Supabase, method: &str, path: &str, body: &str, key: &str) -> Value {
    let (status, v) = common::rest(sb, method, path, body, key, Some("return=representation"));
    if (200..300).contains(&status) {
        v
    } else {
        if v["code"] == "22P02" {
            assert_eq!(status, 400, "{path}: {v}");
        }
        json!({"error": v["code"], "message": v["message"]})
    }
}

/// One read case: the request, and the SQL whose rows PostgreSQL answers it with.
struct Case {
    path: &'static str,
    sql: &'static str,
}

const fn c(path: &'static str, sql: &'static str) -> Case {
    Case { path, sql }
}

const CASES: &[Case] = &[
    // `order=` by label position, with PostgREST's null placement.
    c(
        "docs?select=id,doc_level&order=doc_level.desc,id",
        "select id, doc_level from docs order by doc_level desc, id",
    ),
    c(
        "docs?select=id&order=doc_level,id",
        "select id from docs order by doc_level, id",
    ),
    c(
        "docs?select=id&order=doc_level.asc.nullsfirst,id",
        "select id from docs order by doc_level asc nulls first, id",
    ),
    c(
        "docs?select=id&order=doc_level.desc.nullslast,id.desc",
        "select id from docs order by doc_level desc nulls last, id desc",
    ),
    // Comparison filters.
    c(
        "docs?select=id&doc_level=gt.low&order=id",
        "select id from docs where doc_level > 'low' order by id",
    ),
    c(
        "docs?select=id&doc_level=gte.mid&order=id",
        "select id from docs where doc_level >= 'mid' order by id",
    ),
    c(
        "docs?select=id&doc_level=lt.high&order=id",
        "select id from docs where doc_level < 'high' order by id",
    ),
    c(
        "docs?select=id&doc_level=lte.mid&order=id",
        "select id from docs where doc_level <= 'mid' order by id",
    ),
    c(
        "docs?select=id&doc_level=not.gt.low&order=id",
        "select id from docs where not (doc_level > 'low') order by id",
    ),
    c(
        "docs?select=id&doc_level=gt(any).{high,low}&order=id",
        "select id from docs where doc_level > any('{high,low}') order by id",
    ),
    c(
        "docs?select=id&doc_level=lt(all).{high,mid}&order=id",
        "select id from docs where doc_level < all('{high,mid}') order by id",
    ),
    c(
        "docs?select=id&doc_level=eq.mid&order=id",
        "select id from docs where doc_level = 'mid' order by id",
    ),
    c(
        "docs?select=id&doc_level=neq.mid&order=id",
        "select id from docs where doc_level <> 'mid' order by id",
    ),
    c(
        "docs?select=id&doc_level=in.(high,low)&order=id",
        "select id from docs where doc_level = any('{high,low}') order by id",
    ),
    c(
        "docs?select=id&doc_level=isdistinct.mid&order=id",
        "select id from docs where doc_level is distinct from 'mid' order by id",
    ),
    c(
        "docs?select=id&or=(doc_level.gt.mid,doc_level.is.null)&order=id",
        "select id from docs where doc_level > 'mid' or doc_level is null order by id",
    ),
    // Values that are not labels: 22P02, also over an empty table and inside `any`/`in`.
    c(
        "docs?select=id&doc_level=gt.bogus",
        "select id from docs where doc_level > 'bogus'",
    ),
    c(
        "docs?select=id&doc_level=eq.bogus",
        "select id from docs where doc_level = 'bogus'",
    ),
    c(
        "docs?select=id&doc_level=in.(low,bogus)",
        "select id from docs where doc_level = any('{low,bogus}')",
    ),
    c(
        "docs?select=id&doc_level=gte(any).{low,Mid}",
        "select id from docs where doc_level >= any('{low,Mid}')",
    ),
    c(
        "docs?select=id&doc_level=isdistinct.bogus",
        "select id from docs where doc_level is distinct from 'bogus'",
    ),
    c(
        "empty?select=id&l=lt.bogus",
        "select id from empty where l < 'bogus'",
    ),
    c(
        "empty?select=id&l=eq.bogus",
        "select id from empty where l = 'bogus'",
    ),
    // Enums have no LIKE operator.
    c(
        "docs?select=id&doc_level=like.*i*",
        "select id from docs where doc_level like '%i%'",
    ),
    // Embedded resources: their order and filters.
    c(
        "docs?select=id,parts(id,part_level)&parts.order=part_level.desc&order=id",
        "select d.id, coalesce((select json_agg(json_build_object('id', p.id, 'part_level', \
         p.part_level) order by p.part_level desc) from parts p where p.doc_id = d.id), '[]') \
         as parts from docs d order by d.id",
    ),
    c(
        "docs?select=id,parts(id)&parts.part_level=gte.mid&parts.order=id&order=id",
        "select d.id, coalesce((select json_agg(json_build_object('id', p.id) order by p.id) \
         from parts p where p.doc_id = d.id and p.part_level >= 'mid'), '[]') as parts \
         from docs d order by d.id",
    ),
    c(
        "docs?select=id,parts!inner(id)&parts.part_level=gt.mid&order=id",
        "select d.id, (select json_agg(json_build_object('id', p.id) order by p.id) \
         from parts p where p.doc_id = d.id and p.part_level > 'mid') as parts \
         from docs d where exists (select 1 from parts p where p.doc_id = d.id \
         and p.part_level > 'mid') order by d.id",
    ),
    // A related order: parts by their document's level.
    c(
        "parts?select=id,docs(id)&order=docs(doc_level).desc,id",
        "select p.id, json_build_object('id', d.id) as docs from parts p \
         join docs d on d.id = p.doc_id order by d.doc_level desc, p.id",
    ),
    // A view's enum columns (a column of the table, and a computed one).
    c(
        "doc_view?select=id,doc_level&order=doc_level.desc,id",
        "select id, doc_level from doc_view order by doc_level desc, id",
    ),
    c(
        "doc_view?select=id,g&g=gt.mid&order=g,id",
        "select id, g from doc_view where g > 'mid' order by g, id",
    ),
    c(
        "doc_view?select=id&doc_level=lte.bogus",
        "select id from doc_view where doc_level <= 'bogus'",
    ),
    // A function's result rows.
    c(
        "rpc/levels?select=id&order=l.desc,id",
        "select id from levels() order by l desc, id",
    ),
    c(
        "rpc/levels?select=id&l=lt.high&order=id",
        "select id from levels() where l < 'high' order by id",
    ),
];

/// Runs `schema` in PostgreSQL and `cases` there; `None` without PostgreSQL.
fn postgres_answers(test: &str, schema: &str, cases: Vec<PgCase>) -> Option<Vec<Value>> {
    let pg = pg::start_or_skip(test)?;
    pg.exec(pg::SUPABASE_PRELUDE).expect("prelude");
    pg.exec(&format!(
        "begin;\n{schema}\n{}\ncommit;\n",
        pg::SUPABASE_GRANTS
    ))
    .unwrap_or_else(|e| panic!("schema in Postgres: {e}"));
    Some(pg.run_cases(&cases).expect("cases in Postgres"))
}

fn read_case(sql: &str) -> PgCase {
    PgCase {
        role: Role::Service,
        claims: json!({"role": "service_role"}),
        sql: sql.to_string(),
        write: None,
    }
}

/// The parts of a PostgreSQL answer the mock must give: the rows, or the error's code and
/// message.
fn expected(v: Value) -> Value {
    match v.get("error") {
        Some(code) => json!({"error": code, "message": v["message"]}),
        None => v,
    }
}

#[test]
fn enum_orders_and_filters_answer_as_postgres() {
    let sb = common::open_project(&[("supabase/migrations/20240101000000_lvl.sql", SCHEMA)]);
    let warnings = sb.load_report().render_warnings();
    assert!(warnings.is_empty(), "{warnings}");
    // Mock-only: the orders and errors the bug report names.
    assert_eq!(
        ask(
            &sb,
            "GET",
            "docs?select=doc_level&order=doc_level.desc&doc_level=not.is.null",
            "",
            SERVICE_ROLE_KEY
        ),
        json!([{"doc_level": "high"}, {"doc_level": "mid"}, {"doc_level": "mid"},
               {"doc_level": "low"}])
    );
    assert_eq!(
        ask(
            &sb,
            "GET",
            "docs?select=id&doc_level=gt.low&order=id",
            "",
            SERVICE_ROLE_KEY
        ),
        json!([{"id": 2}, {"id": 3}, {"id": 5}])
    );
    assert_eq!(
        ask(
            &sb,
            "GET",
            "empty?select=id&l=gt.bogus",
            "",
            SERVICE_ROLE_KEY
        ),
        json!({"error": "22P02", "message": "invalid input value for enum lvl: \"bogus\""})
    );
    // A PATCH and a DELETE select their rows by label position too.
    let patched = ask(
        &sb,
        "PATCH",
        "docs?doc_level=lt.mid&select=id",
        r#"{"title": "low"}"#,
        SERVICE_ROLE_KEY,
    );
    assert_eq!(patched, json!([{"id": 1}]));
    let bad = ask(
        &sb,
        "DELETE",
        "docs?doc_level=gte.nope&select=id",
        "",
        SERVICE_ROLE_KEY,
    );
    assert_eq!(bad["error"], "22P02", "{bad}");

    let cases = CASES.iter().map(|c| read_case(c.sql)).collect();
    let Some(want) = postgres_answers("enum_orders_and_filters_answer_as_postgres", SCHEMA, cases)
    else {
        return;
    };
    let mut failures = Vec::new();
    for (c, want) in CASES.iter().zip(want) {
        let got = ask(&sb, "GET", c.path, "", SERVICE_ROLE_KEY);
        let want = expected(want);
        if got != want {
            failures.push(format!("{}\n  postgres: {want}\n  mock:     {got}", c.path));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// The statements of a migration, each on its own line; `true` for those PostgreSQL refuses
/// with 22P02 because a literal is not a label of the enum it is compared with.
const POLICY_STMTS: &[(&str, bool)] = &[
    ("create type st as enum ('open', 'closed');", false),
    (
        "create table tickets (id int primary key, status st not null, note text);",
        false,
    ),
    (
        "insert into tickets values (1, 'open', 'a'), (2, 'closed', 'b');",
        false,
    ),
    ("alter table tickets enable row level security;", false),
    (
        "create policy \"open ones\" on tickets for select to anon using (status = 'open');",
        false,
    ),
    (
        "create policy \"bogus\" on tickets for select to anon using (status = 'bogus');",
        true,
    ),
    (
        "create policy \"bogus order\" on tickets for select to authenticated using (status > 'zzz' or true);",
        true,
    ),
    (
        "create policy \"bogus in\" on tickets for select to authenticated using (status in ('closed', 'nah'));",
        true,
    ),
    (
        "create policy \"bogus cast\" on tickets for insert to anon with check ('x'::st = status);",
        true,
    ),
    (
        "create policy \"closed\" on tickets for select to authenticated using (status = 'closed' and note <> 'zzz');",
        false,
    ),
    (
        "alter policy \"open ones\" on tickets using (status = 'shut');",
        true,
    ),
];

#[test]
fn policies_with_a_literal_that_is_not_a_label_are_refused_as_postgres_refuses_them() {
    let file: String = POLICY_STMTS.iter().map(|(s, _)| format!("{s}\n")).collect();
    let sb = common::open_project(&[("supabase/migrations/20240101000000_st.sql", &file)]);
    let warnings = sb.load_report().render_warnings();
    for (i, (stmt, refused)) in POLICY_STMTS.iter().enumerate() {
        let at = format!("20240101000000_st.sql:{}: ", i + 1);
        assert_eq!(warnings.contains(&at), *refused, "{stmt}\n{warnings}");
    }
    for label in ["bogus", "zzz", "nah", "x", "shut"] {
        let msg = format!("invalid input value for enum st: \"{label}\"");
        assert!(warnings.contains(&msg), "{msg}\n{warnings}");
    }
    // Requests are answered by the policies that remain, never with 22P02.
    let auth = edgesim_supabase::gateway::auth::sign_jwt(
        &json!({"sub": "aaaaaaaa-0000-4000-8000-000000000001", "role": "authenticated",
                "aud": "authenticated", "exp": 4_000_000_000u64}),
        edgesim_supabase::JWT_SECRET.as_bytes(),
    );
    let mine = [
        ask(&sb, "GET", "tickets?select=id&order=id", "", ANON_KEY),
        ask(&sb, "GET", "tickets?select=id&order=id", "", &auth),
        ask(
            &sb,
            "POST",
            "tickets?select=id",
            r#"{"id": 3, "status": "open", "note": "c"}"#,
            ANON_KEY,
        ),
    ];
    assert_eq!(mine[0], json!([{"id": 1}]));
    assert_eq!(mine[1], json!([{"id": 2}]));
    assert_eq!(mine[2]["error"], "42501", "{}", mine[2]);

    let Some(pg) = pg::start_or_skip(
        "policies_with_a_literal_that_is_not_a_label_are_refused_as_postgres_refuses_them",
    ) else {
        return;
    };
    pg.exec(pg::SUPABASE_PRELUDE).expect("prelude");
    let kept: String = POLICY_STMTS
        .iter()
        .filter(|(_, refused)| !refused)
        .map(|(s, _)| format!("{s}\n"))
        .collect();
    pg.exec(&format!(
        "begin;\n{kept}\n{}\ncommit;\n",
        pg::SUPABASE_GRANTS
    ))
    .unwrap_or_else(|e| panic!("schema in Postgres: {e}"));
    // PostgreSQL refuses each of the others with the error the mock reports.
    for (stmt, _) in POLICY_STMTS.iter().filter(|(_, refused)| *refused) {
        let err = pg
            .exec(&format!("\\set VERBOSITY verbose\n{stmt}\n"))
            .expect_err(stmt);
        let line = err
            .lines()
            .find(|l| l.contains("ERROR:"))
            .unwrap_or_default();
        let msg = line.split("ERROR:").nth(1).unwrap_or_default().trim();
        let msg = msg
            .strip_prefix("22P02: ")
            .unwrap_or_else(|| panic!("{stmt}: {err}"));
        assert!(warnings.contains(msg), "{stmt}: {msg}\n{warnings}");
    }
    let claims_auth =
        json!({"role": "authenticated", "sub": "aaaaaaaa-0000-4000-8000-000000000001"});
    let cases = vec![
        PgCase {
            role: Role::Anon,
            claims: json!({"role": "anon"}),
            sql: "select id from tickets order by id".into(),
            write: None,
        },
        PgCase {
            role: Role::Authenticated,
            claims: claims_auth,
            sql: "select id from tickets order by id".into(),
            write: None,
        },
        PgCase {
            role: Role::Anon,
            claims: json!({"role": "anon"}),
            sql: "select id from tickets order by id".into(),
            write: Some("insert into tickets values (3, 'open', 'c') returning id".into()),
        },
    ];
    let want = pg.run_cases(&cases).expect("cases in Postgres");
    assert_eq!(want[0], mine[0]);
    assert_eq!(want[1], mine[1]);
    assert_eq!(want[2]["error"], mine[2]["error"], "{}", want[2]);
}
