//! Orderings the mock cannot type never fail open, checked against PostgreSQL 15: enum values
//! ordered through subqueries, aggregates, `greatest`/`least` and `order by` give PostgreSQL's
//! rows; an ordering of a value whose type the mock does not know denies (policies, with a
//! warning naming file and line); the enum lookup follows migrations (`alter type ... add
//! value`); Postgres's string functions; PL/pgSQL `VARIADIC`, bare `TG_ARGV`, and `RETURN
//! <expr>` refused where Postgres refuses it at creation.
//!
//! Each case is a request to the mock and the SQL whose rows PostgreSQL answers it with; the
//! schema runs in both. Without PostgreSQL the differential parts are skipped visibly (see
//! `pg::start_or_skip`); the mock-only assertions always run.

mod common;
mod pg;

use edgesim_supabase::gateway::auth::sign_jwt;
use edgesim_supabase::{ANON_KEY, JWT_SECRET, Supabase};
use pg::{PgCase, Role};
use serde_json::{Value, json};

const MID: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const HIGH: &str = "bbbbbbbb-0000-4000-8000-000000000002";

/// Enum orderings Postgres would type, in policies, views and functions; string functions.
const SCHEMA: &str = r#"
create type lvl as enum ('low', 'mid', 'high');
create table clearances (id uuid primary key, level lvl not null);
insert into clearances values
  ('aaaaaaaa-0000-4000-8000-000000000001', 'mid'),
  ('bbbbbbbb-0000-4000-8000-000000000002', 'high');
create table docs (id int primary key, doc_level lvl not null, title text not null);
insert into docs values (1, 'low', 'alpha beta'), (2, 'mid', 'banana'), (3, 'high', 'gamma ray'),
  (4, 'high', 'a,b,c');
alter table docs enable row level security;
create policy "up to my clearance" on docs for select to authenticated
  using (doc_level <= (select max(level) from clearances where id = auth.uid()));
create policy "greatest" on docs for select to anon
  using (greatest(doc_level, 'low'::lvl) <= 'mid'::lvl or split_part(title, ',', -1) = 'c');
-- Policies calling the project's own `language sql` functions (inlined; an enum result orders
-- by label position; `strict`; `security definer` reads without the caller's policies).
create function my_clearance() returns lvl language sql stable as $$
  select level from clearances where id = auth.uid()
$$;
create function above(a lvl, b lvl) returns boolean language sql immutable strict as $$
  select a > b
$$;
create function fixed_level() returns lvl language sql immutable as $$ select 'mid'::lvl $$;
create table secrets (id int primary key, lvl_needed lvl not null);
insert into secrets values (1, 'high');
alter table secrets enable row level security;
create function needed() returns lvl language sql stable security definer as $$
  select lvl_needed from secrets where id = 1
$$;
create function needed_invoker() returns lvl language sql stable as $$
  select lvl_needed from secrets where id = 1
$$;
create table reports (id int primary key, rl lvl);
insert into reports values (1, 'low'), (2, 'mid'), (3, 'high'), (4, null);
alter table reports enable row level security;
create policy "fn clearance" on reports for select to authenticated
  using (rl <= my_clearance() and rl < needed());
create policy "fn compare" on reports for select to anon
  using (above(rl, fixed_level()) or my_clearance() is null and rl < fixed_level()
         or above(null, rl) is null and rl is null);
create policy "invoker" on reports for select to anon using (rl >= needed_invoker());
create view doc_levels as
  select id, greatest(doc_level, 'mid') as g, least(doc_level, 'mid'::lvl) as l,
         doc_level between 'low' and 'mid' as lowish
  from docs;
create view docs_by_level as select id from docs order by doc_level desc, id;
create function top_level() returns lvl language sql stable security definer as $$
  select max(doc_level) from docs
$$;
create function low_level() returns lvl language sql stable security definer as $$
  select min(doc_level) from docs
$$;
create view strs as
  select id, split_part(title, 'a', -1) as sp, split_part(title, ' ', 2) as sp2,
         strpos(title, 'a') as pos, left(title, -2) as l, right(title, 2) as r,
         left(title, 3) as l3, right(title, -3) as r3,
         lpad(title, 7, '*') as lp, rpad(title, 3) as rp, lpad(title, 12) as lp2,
         initcap(title || ' x-y') as ic, reverse(title) as rev,
         translate(title, 'ae', 'E') as tr, repeat(title, 2) as rep, repeat(title, -1) as rep0
  from docs;
"#;

fn bearer(role: Role, sub: Option<&str>) -> String {
    match role {
        Role::Anon => ANON_KEY.to_string(),
        Role::Service => edgesim_supabase::SERVICE_ROLE_KEY.to_string(),
        Role::Authenticated => sign_jwt(
            &json!({"sub": sub, "role": "authenticated", "aud": "authenticated",
                "exp": 4_000_000_000u64}),
            JWT_SECRET.as_bytes(),
        ),
    }
}

fn claims(role: Role, sub: Option<&str>) -> Value {
    match role {
        Role::Anon => json!({"role": "anon"}),
        Role::Service => json!({"role": "service_role"}),
        Role::Authenticated => json!({"role": "authenticated", "sub": sub}),
    }
}

/// The mock's answer: the rows (or the value), or `{"error": code}`.
fn ask(sb: &Supabase, method: &str, path: &str, body: &str, bearer: &str) -> Value {
    let (status, v) = common::rest(sb, method, path, body, bearer, None);
    if (200..300).contains(&status) {
        v
    } else {
        json!({"error": v["code"]})
    }
}

/// One differential case.
struct Case {
    role: Role,
    sub: Option<&'static str>,
    path: &'static str,
    /// Rows PostgreSQL answers with (a scalar rpc: one row `{"v": value}`).
    sql: &'static str,
    scalar: bool,
}

fn case(role: Role, sub: Option<&'static str>, path: &'static str, sql: &'static str) -> Case {
    Case {
        role,
        sub,
        path,
        sql,
        scalar: false,
    }
}

fn cases() -> Vec<Case> {
    use Role::*;
    let mut v = vec![
        case(
            Authenticated,
            Some(MID),
            "docs?select=id&order=id",
            "select id from docs order by id",
        ),
        case(
            Authenticated,
            Some(HIGH),
            "docs?select=id&order=id",
            "select id from docs order by id",
        ),
        case(
            Authenticated,
            Some("cccccccc-0000-4000-8000-000000000003"),
            "docs?select=id&order=id",
            "select id from docs order by id",
        ),
        case(
            Anon,
            None,
            "docs?select=id&order=id",
            "select id from docs order by id",
        ),
        case(
            Authenticated,
            Some(MID),
            "reports?select=id&order=id",
            "select id from reports order by id",
        ),
        case(
            Authenticated,
            Some(HIGH),
            "reports?select=id&order=id",
            "select id from reports order by id",
        ),
        case(
            Anon,
            None,
            "reports?select=id&order=id",
            "select id from reports order by id",
        ),
        case(
            Service,
            None,
            "doc_levels?select=id,g,l,lowish&order=id",
            "select id, g, l, lowish from doc_levels order by id",
        ),
        case(
            Service,
            None,
            "docs_by_level?select=id",
            "select id from docs_by_level",
        ),
        case(
            Service,
            None,
            "strs?order=id",
            "select * from strs order by id",
        ),
    ];
    for (path, sql) in [
        ("rpc/top_level", "select top_level() as v"),
        ("rpc/low_level", "select low_level() as v"),
    ] {
        v.push(Case {
            role: Anon,
            sub: None,
            path,
            sql,
            scalar: true,
        });
    }
    v
}

/// Runs `schema` in PostgreSQL and the cases there; `None` without PostgreSQL.
fn postgres_answers(test: &str, schema: &str, cases: &[Case]) -> Option<Vec<Value>> {
    let pg = pg::start_or_skip(test)?;
    pg.exec(pg::SUPABASE_PRELUDE).expect("prelude");
    pg.exec(&format!(
        "begin;\n{schema}\n{}\ncommit;\n",
        pg::SUPABASE_GRANTS
    ))
    .unwrap_or_else(|e| panic!("schema in Postgres: {e}"));
    let pg_cases: Vec<PgCase> = cases
        .iter()
        .map(|c| PgCase {
            role: c.role,
            claims: claims(c.role, c.sub),
            sql: c.sql.to_string(),
            write: None,
        })
        .collect();
    Some(pg.run_cases(&pg_cases).expect("cases in Postgres"))
}

#[test]
fn enum_orderings_and_string_functions_answer_as_postgres() {
    let sb = common::open_project(&[("supabase/migrations/20240101000000_lvl.sql", SCHEMA)]);
    let warnings = sb.load_report().render_warnings();
    assert!(warnings.is_empty(), "{warnings}");
    let cases = cases();
    let Some(want) = postgres_answers(
        "enum_orderings_and_string_functions_answer_as_postgres",
        SCHEMA,
        &cases,
    ) else {
        return;
    };
    assert_eq!(want.len(), cases.len());
    let mut failures = Vec::new();
    for (c, want) in cases.iter().zip(want) {
        let method = if c.scalar { "POST" } else { "GET" };
        let body = if c.scalar { "{}" } else { "" };
        let mut got = ask(&sb, method, c.path, body, &bearer(c.role, c.sub));
        if c.scalar {
            got = json!([{ "v": got }]);
        }
        if got != want {
            failures.push(format!(
                "{:?} {}\n  postgres: {want}\n  mock:     {got}",
                c.role, c.path
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Orderings of values whose Postgres type the mock cannot establish: the policy denies (a
/// warning names file and line) where PostgreSQL admits rows; never more rows than PostgreSQL.
/// An ordering whose type Postgres resolves (`coalesce` of a cast enum and a literal) admits
/// exactly PostgreSQL's rows.
const UNKNOWN: &str = r#"
create type lvl as enum ('low', 'mid', 'high');
create table notes (id int primary key, body text not null, rank lvl not null);
insert into notes values (1, 'apple', 'low'), (2, 'kiwi', 'high');
alter table notes enable row level security;
create policy "by ltrim" on notes for select to anon using (ltrim(body) > 'b');
create policy "by function" on notes for select to authenticated
  using (rank <= coalesce(nullif(current_setting('my.rank', true), '')::lvl, 'high'));
create view by_unknown as select id from notes order by sign(id - 1);
create function signed() returns setof notes language sql stable as $$
  select * from notes where sign(id - 1) > '0'
$$;
"#;

#[test]
fn orderings_of_unknown_types_deny() {
    let sb = common::open_project(&[("supabase/migrations/20240101000000_unknown.sql", UNKNOWN)]);
    let warnings = sb.load_report().render_warnings();
    // The ltrim policy (line 6): the policy emitter calls SQLite's `ltrim` without knowing the
    // type of its result.
    assert!(
        warnings.contains("20240101000000_unknown.sql:6"),
        "{warnings}"
    );
    assert!(
        warnings.contains("does not know the Postgres type"),
        "{warnings}"
    );
    // The view ordered by a value of unknown type, in a project with enums: refused.
    assert!(
        warnings.contains("20240101000000_unknown.sql:9"),
        "{warnings}"
    );
    // The `language sql` function ordering an unknown value (line 10): refused at load.
    assert!(
        warnings.contains("20240101000000_unknown.sql:10") && warnings.contains("`signed`"),
        "{warnings}"
    );
    let got = ask(&sb, "POST", "rpc/signed", "{}", ANON_KEY);
    assert!(got.get("error").is_some(), "{got}");
    let got = ask(&sb, "GET", "notes?select=id", "", ANON_KEY);
    assert_eq!(got, json!([]));
    let got = ask(&sb, "GET", "by_unknown?select=id", "", ANON_KEY);
    assert!(got.get("error").is_some(), "{got}");
    // The coalesce policy is typed (no warning for its lines 7-8): with `my.rank` unset it
    // admits every rank up to 'high'.
    assert!(
        !warnings.contains("20240101000000_unknown.sql:7"),
        "{warnings}"
    );
    let signed_in = ask(
        &sb,
        "GET",
        "notes?select=id&order=id",
        "",
        &bearer(Role::Authenticated, Some(MID)),
    );
    assert_eq!(signed_in, json!([{"id": 1}, {"id": 2}]));
    let cases = vec![
        case(
            Role::Anon,
            None,
            "notes?select=id",
            "select id from notes order by id",
        ),
        case(
            Role::Authenticated,
            Some(MID),
            "notes?select=id&order=id",
            "select id from notes order by id",
        ),
    ];
    if let Some(want) = postgres_answers("orderings_of_unknown_types_deny", UNKNOWN, &cases) {
        assert_eq!(want.len(), 2);
        // PostgreSQL admits the kiwi row: the mock's denial is the documented fail-closed
        // answer (fewer rows, never more).
        assert_eq!(want[0], json!([{"id": 2}]));
        assert_eq!(want[1], signed_in);
    }
}

/// The enum lookup is cached per schema version: a later migration adding a label (which
/// moves the others' positions) and a new table with an enum column are seen at once.
#[test]
fn enum_cache_follows_migrations() {
    let sb = common::open_project(&[(
        "supabase/migrations/20240101000000_lvl.sql",
        r#"
create type lvl as enum ('low', 'high');
create table docs (id int primary key, doc_level lvl not null);
insert into docs values (1, 'low'), (2, 'high');
alter table docs enable row level security;
create policy "below high" on docs for select to anon using (doc_level < 'high'::lvl);
"#,
    )]);
    assert_eq!(
        ask(&sb, "GET", "docs?select=id&order=id", "", ANON_KEY),
        json!([{"id": 1}])
    );
    sb.execute(
        "alter type lvl add value 'mid' before 'low';
         insert into docs values (3, 'mid');
         create table later (id int primary key, l lvl not null);
         insert into later values (1, 'low'), (2, 'mid'), (3, 'high');
         alter table later enable row level security;
         create policy \"above mid\" on later for select to anon using (l > 'mid'::lvl);",
    )
    .unwrap();
    // PostgreSQL: 'mid' now sorts first, so it is below 'high' too.
    assert_eq!(
        ask(&sb, "GET", "docs?select=id&order=id", "", ANON_KEY),
        json!([{"id": 1}, {"id": 3}])
    );
    assert_eq!(
        ask(&sb, "GET", "later?select=id&order=id", "", ANON_KEY),
        json!([{"id": 1}, {"id": 3}])
    );
}

/// A rolled-back transaction takes SQLite's schema version back; a later, different column of
/// the same name must not reuse the columns cached inside it (the cache is also keyed by
/// `catalog::schema_generation`, which the re-read after the rollback bumps; here other lookups
/// at the older version already empty it, so this guards the answer, not that key alone).
#[test]
fn enum_cache_survives_a_rolled_back_column() {
    let sb = common::open_project(&[(
        "supabase/migrations/20240101000000_lvl.sql",
        "create type lvl as enum ('low', 'high');
         create table t2 (id int primary key);",
    )]);
    // The view reads t2's columns (l: lvl) into the cache; the bad label rolls it all back.
    let failed = sb.execute(
        "alter table t2 add column l lvl;
         create view v2 as select id from t2 where l > 'low';
         insert into t2 values (1, 'nope');",
    );
    assert!(failed.is_err());
    // Now `l` is text: 'zoo' > 'low' as text ('apple' is not).
    sb.execute(
        "alter table t2 add column l text;
         create view v2 as select id from t2 where l > 'low';
         insert into t2 values (1, 'apple'), (2, 'zoo');",
    )
    .unwrap();
    let svc = edgesim_supabase::SERVICE_ROLE_KEY;
    assert_eq!(
        ask(&sb, "GET", "v2?select=id&order=id", "", svc),
        json!([{"id": 2}])
    );
}

/// PL/pgSQL edges, each with PostgreSQL's answer.
const PLPGSQL: &str = r#"
create table log (id serial primary key, what text not null, n int);
create function total(variadic xs int[]) returns int language plpgsql as $$
declare s int := 0; i int;
begin
  for i in 1 .. coalesce(array_length(xs, 1), 0) loop
    s := s + xs[i];
  end loop;
  insert into log (what, n) values ('total', s);
  return s;
end $$;
select total(1, 2, 3);
select total(variadic array[4, 5]);
create table items (id int primary key, note text);
create function tagged() returns trigger language plpgsql as $$
begin
  new.note := coalesce(array_length(tg_argv, 1), 0)::text || ':' || coalesce(tg_argv[0], '-')
    || ':' || ('b' = any(tg_argv))::text || ':' || coalesce((tg_argv is null)::text, '?');
  return new;
end $$;
create trigger tag before insert on items for each row execute function tagged('a', 'b');
insert into items (id) values (1);
drop trigger tag on items;
create trigger tag0 before insert on items for each row execute function tagged();
insert into items (id) values (2);
create type mood as enum ('sad', 'ok', 'happy');
create table events (id int primary key, at date not null, feel mood not null,
  label text not null);
insert into events values (1, '2024-01-05', 'happy', 'b'), (2, '2023-12-31', 'sad', 'a'),
  (3, '2024-02-01', 'ok', 'c');
create function recent(since date) returns int language plpgsql stable as $$
declare
  r record;
  n int := 0;
  e events%rowtype;
begin
  for r in select at, feel, label from events order by id loop
    if r.at > since and r.feel >= 'ok' and r.label < 'c' then
      n := n + 1;
    end if;
  end loop;
  select * into e from events where id = 3;
  if e.feel > 'sad'::mood and e.at > since then
    n := n + 10;
  end if;
  return n;
end $$;
create table moods (id int primary key, feel mood not null, flagged boolean not null default false);
create function flag() returns trigger language plpgsql as $$
begin
  new.flagged := true;
  return new;
end $$;
create trigger flag_happy before insert on moods for each row when (new.feel > 'ok')
  execute function flag();
insert into moods (id, feel) values (1, 'sad'), (2, 'happy'), (3, 'ok');
"#;

/// Refused by PostgreSQL at creation (42804), one per migration so the others still load.
const REFUSED: &str = r#"create function one(out a int) language plpgsql as $$
begin
  return 1;
end $$;"#;

#[test]
fn plpgsql_edges_answer_as_postgres() {
    let sb = common::open_project(&[
        ("supabase/migrations/20240101000000_pl.sql", PLPGSQL),
        ("supabase/migrations/20240102000000_refused.sql", REFUSED),
    ]);
    let warnings = sb.load_report().render_warnings();
    assert!(
        warnings.contains("20240102000000_refused.sql:1")
            && warnings.contains("RETURN cannot have a parameter in function with OUT parameters"),
        "{warnings}"
    );
    assert!(!warnings.contains("20240101000000_pl.sql"), "{warnings}");
    // The refused function does not exist (PGRST202, as Postgres never created it).
    let got = ask(
        &sb,
        "POST",
        "rpc/one",
        "{}",
        edgesim_supabase::SERVICE_ROLE_KEY,
    );
    assert_eq!(got, json!({"error": "PGRST202"}));
    let svc = edgesim_supabase::SERVICE_ROLE_KEY;
    let rpc = ask(&sb, "POST", "rpc/total", r#"{"xs": [10, 20]}"#, svc);
    let log = ask(&sb, "GET", "log?select=what,n&order=id", "", svc);
    let items = ask(&sb, "GET", "items?select=id,note&order=id", "", svc);
    let recent = ask(&sb, "POST", "rpc/recent", r#"{"since": "2024-01-01"}"#, svc);
    let moods = ask(&sb, "GET", "moods?select=id,flagged&order=id", "", svc);
    let cases = [
        case(
            Role::Service,
            None,
            "",
            "select what, n from log order by id",
        ),
        case(
            Role::Service,
            None,
            "",
            "select id, note from items order by id",
        ),
        case(
            Role::Service,
            None,
            "",
            "select total(variadic array[10, 20]) as v",
        ),
        case(Role::Service, None, "", "select recent('2024-01-01') as v"),
        case(
            Role::Service,
            None,
            "",
            "select id, flagged from moods order by id",
        ),
    ];
    let Some(pg) = pg::start_or_skip("plpgsql_edges_answer_as_postgres") else {
        return;
    };
    pg.exec(pg::SUPABASE_PRELUDE).expect("prelude");
    pg.exec(&format!(
        "begin;\n{PLPGSQL}\n{}\ncommit;\n",
        pg::SUPABASE_GRANTS
    ))
    .unwrap_or_else(|e| panic!("schema in Postgres: {e}"));
    let refused = pg.exec(REFUSED).unwrap_err();
    assert!(
        refused.contains("RETURN cannot have a parameter in function with OUT parameters"),
        "{refused}"
    );
    let pg_cases: Vec<PgCase> = cases
        .iter()
        .map(|c| PgCase {
            role: c.role,
            claims: claims(c.role, None),
            sql: c.sql.to_string(),
            write: None,
        })
        .collect();
    let want = pg.run_cases(&pg_cases).expect("cases");
    // The log as it was before the rpc call (which runs in its own rolled-back case there).
    let log_before: Vec<Value> = log
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .take(2)
        .collect();
    assert_eq!(Value::from(log_before), want[0]);
    assert_eq!(items, want[1]);
    assert_eq!(json!([{ "v": rpc }]), want[2]);
    // Record fields typed from the query (a date, an enum, text) and from `%rowtype`.
    assert_eq!(json!([{ "v": recent }]), want[3]);
    // A trigger's `when (new.feel > 'ok')` orders the enum column by label position.
    assert_eq!(moods, want[4]);
}

/// `language sql` results of the declared type or with an assignment cast to it (PostgreSQL
/// creates these), then ones it refuses at creation (42P13), one per migration.
const SQL_RESULTS: &str = r#"
create type tier as enum ('low', 'mid', 'high');
create function as_text() returns text language sql as $$ select 5 $$;
create function as_int() returns int language sql as $$ select 5.5::numeric $$;
create function as_date() returns date language sql as $$ select '2024-03-04'::date $$;
create function as_jsonb() returns jsonb language sql as $$ select '{"a": 1}'::json $$;
create function tier_text() returns text language sql as $$ select 'mid'::tier $$;
create function as_tier() returns tier language sql as $$ select 'mid'::tier $$;
create function to_date() returns date language sql as $$ select '2024-03-04 05:06:07+00'::timestamptz $$;
"#;

const SQL_MISMATCHES: [(&str, &str); 4] = [
    (
        "create function bare_label() returns tier language sql as $$ select 'mid' $$;",
        "return type mismatch in function declared to return tier",
    ),
    (
        "create function text_int() returns int language sql as $$ select 'x'::text $$;",
        "return type mismatch in function declared to return integer",
    ),
    (
        "create function int_bool() returns boolean language sql as $$ select 1 $$;",
        "return type mismatch in function declared to return boolean",
    ),
    (
        "create function null_int() returns int language sql as $$ select null $$;",
        "return type mismatch in function declared to return integer",
    ),
];

#[test]
fn sql_function_results_are_checked_as_postgres_checks_them() {
    let mut files = vec![(
        "supabase/migrations/20240101000000_results.sql".to_string(),
        SQL_RESULTS.to_string(),
    )];
    for (i, (sql, _)) in SQL_MISMATCHES.iter().enumerate() {
        files.push((
            format!("supabase/migrations/2024010200000{i}_refused.sql"),
            sql.to_string(),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let sb = common::open_project(&refs);
    let warnings = sb.load_report().render_warnings();
    assert!(
        warnings.matches("20240101000000_results.sql:").count() == 1,
        "{warnings}"
    );
    for (i, (_, message)) in SQL_MISMATCHES.iter().enumerate() {
        assert!(
            warnings.contains(&format!("2024010200000{i}_refused.sql:1"))
                && warnings.contains(message),
            "{message}: {warnings}"
        );
    }
    let svc = edgesim_supabase::SERVICE_ROLE_KEY;
    // Postgres converts a timestamptz result of a `returns date` function; the mock does not,
    // so it refuses the function (file and line) and calling it answers an error, never a
    // different value.
    assert!(
        warnings.contains("20240101000000_results.sql:9")
            && warnings.contains("timestamp with time zone to the declared date is not emulated"),
        "{warnings}"
    );
    let converted = ask(&sb, "POST", "rpc/to_date", "{}", svc);
    assert!(converted.get("error").is_some(), "{converted}");
    // Not created, as in Postgres: PostgREST answers PGRST202.
    for name in ["bare_label", "text_int", "int_bool", "null_int"] {
        let got = ask(&sb, "POST", &format!("rpc/{name}"), "{}", svc);
        assert_eq!(got, json!({"error": "PGRST202"}), "rpc/{name}");
    }
    let names = [
        "as_text",
        "as_int",
        "as_date",
        "as_jsonb",
        "tier_text",
        "as_tier",
    ];
    let got: Vec<Value> = names
        .iter()
        .map(|n| json!([{ "v": ask(&sb, "POST", &format!("rpc/{n}"), "{}", svc) }]))
        .collect();
    let Some(pg) = pg::start_or_skip("sql_function_results_are_checked_as_postgres_checks_them")
    else {
        return;
    };
    pg.exec(pg::SUPABASE_PRELUDE).expect("prelude");
    pg.exec(&format!(
        "begin;\n{SQL_RESULTS}\n{}\ncommit;\n",
        pg::SUPABASE_GRANTS
    ))
    .unwrap_or_else(|e| panic!("schema in Postgres: {e}"));
    for (sql, message) in SQL_MISMATCHES {
        let refused = pg.exec(sql).unwrap_err();
        assert!(refused.contains(message), "{refused}");
    }
    let sqls: Vec<String> = names.iter().map(|n| format!("select {n}() as v")).collect();
    let pg_cases: Vec<PgCase> = sqls
        .iter()
        .map(|sql| PgCase {
            role: Role::Service,
            claims: claims(Role::Service, None),
            sql: sql.clone(),
            write: None,
        })
        .collect();
    let want = pg.run_cases(&pg_cases).expect("cases");
    assert_eq!(want.len(), names.len());
    for ((name, got), want) in names.iter().zip(&got).zip(&want) {
        assert_eq!(got, want, "rpc/{name}");
    }
}
