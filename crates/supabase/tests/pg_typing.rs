//! Postgres typing in the mock: the four statements of issue 21's table, each asserted against
//! PostgreSQL's answer (written here as a literal, as PostgreSQL 15 gives it), and the
//! fail-closed outcomes of constructs the typed translator cannot keep faithful.

mod common;

use edgesim_supabase::gateway::auth::sign_jwt;
use edgesim_supabase::{ANON_KEY, JWT_SECRET, Supabase};
use serde_json::{Value, json};

const MIGRATION: &str = r#"
create table public.notes (id int primary key, body text);
insert into notes values (1, 'a'), (2, 'b'), (3, 'c');
alter table notes enable row level security;
-- Supabase's documented pattern for keeping anonymous users out.
create policy "no anonymous" on notes for select to authenticated
  using ((select (auth.jwt()->>'is_anonymous')::boolean) is false);

create table public.things (id int primary key);
insert into things values (1), (2), (3);
create function half_count() returns numeric language sql as $$
  select count(*)::numeric / 2 from things
$$;

create function eight() returns int language plpgsql as $$
declare
  n int := 7.9;
begin
  return n;
end $$;

create function fixed() returns int language plpgsql as $$
declare
  k constant int := 1;
begin
  k := 2;
  return k;
end $$;

create table public.scores (id int primary key, made date, score int);
insert into scores values (1, '2024-01-31', 3);
create view score_view as select id, (made + 1)::text as next_day, score::numeric / 4 as quarter from scores;
"#;

fn typing_project() -> Supabase {
    common::open_project(&[("supabase/migrations/20240101000000_typing.sql", MIGRATION)])
}

fn token(claims: Value) -> String {
    sign_jwt(&claims, JWT_SECRET.as_bytes())
}

fn call(sb: &Supabase, method: &str, path: &str, bearer: &str) -> (u16, Value) {
    let path = path.strip_prefix("/rest/v1/").expect("a /rest/v1/ path");
    let body = if method == "POST" { "{}" } else { "" };
    common::rest(sb, method, path, body, bearer, None)
}

fn anonymous_user() -> String {
    token(json!({"aud": "authenticated", "role": "authenticated",
        "sub": "aaaaaaaa-0000-4000-8000-000000000001", "is_anonymous": true,
        "exp": 4_000_000_000u64}))
}

fn signed_in_user() -> String {
    token(json!({"aud": "authenticated", "role": "authenticated",
        "sub": "bbbbbbbb-0000-4000-8000-000000000002", "is_anonymous": false,
        "user_metadata": {"name": "Bob"}, "exp": 4_000_000_000u64}))
}

#[test]
fn row_1_anonymous_users_are_refused_by_the_is_anonymous_policy() {
    let sb = typing_project();
    // PostgreSQL: no rows for the anonymous user (edgesim before: every row).
    let (status, body) = call(&sb, "GET", "/rest/v1/notes?select=id", &anonymous_user());
    assert_eq!(status, 200);
    assert_eq!(body, json!([]));
    // And all three for a signed-in user.
    let (_, body) = call(
        &sb,
        "GET",
        "/rest/v1/notes?select=id&order=id",
        &signed_in_user(),
    );
    assert_eq!(body, json!([{"id": 1}, {"id": 2}, {"id": 3}]));
}

#[test]
fn row_2_numeric_division_in_a_sql_function() {
    let sb = typing_project();
    // PostgreSQL: 1.5 (edgesim before: 1).
    let (status, body) = call(&sb, "POST", "/rest/v1/rpc/half_count", ANON_KEY);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_f64(), Some(1.5), "{body}");
}

#[test]
fn row_3_plpgsql_declare_keeps_its_type() {
    let sb = typing_project();
    // PostgreSQL: 8 (edgesim before: 7.9).
    let (status, body) = call(&sb, "POST", "/rest/v1/rpc/eight", ANON_KEY);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!(8));
    // A constant cannot be assigned.
    let (status, body) = call(&sb, "POST", "/rest/v1/rpc/fixed", ANON_KEY);
    assert!(status >= 400, "{status} {body}");
    assert!(body.to_string().contains("CONSTANT"), "{body}");
}

#[test]
fn row_4_view_columns_keep_date_and_numeric_meaning() {
    let sb = typing_project();
    // PostgreSQL: '2024-02-01' and 0.75 (edgesim before: 2025 and 0).
    let (status, body) = call(
        &sb,
        "GET",
        "/rest/v1/score_view?select=next_day,quarter",
        ANON_KEY,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["next_day"], json!("2024-02-01"));
    assert_eq!(body[0]["quarter"].as_f64(), Some(0.75), "{body}");
}

#[test]
fn untranslatable_constructs_fail_closed() {
    let sb = common::open_project(&[(
        "supabase/migrations/20240101000000_closed.sql",
        r#"
create table public.items (id int primary key, at timestamptz, made date);
insert into items values (1, '2024-01-01T00:00:00+00:00', '2024-01-01');
alter table items enable row level security;
-- A cast the mock cannot translate (date -> integer does not exist in Postgres either):
-- the policy denies, never allows.
create policy "odd" on items for select using (made::integer > 0);
create view odd_view as select id, at - at as span from items;
create table checked (id int primary key, made date check (made::integer > 0));
create function odd_fn() returns int language sql as $$ select count(*)::point from items $$;
"#,
    )]);
    let (status, body) = call(&sb, "GET", "/rest/v1/items?select=id", ANON_KEY);
    assert_eq!(status, 200);
    assert_eq!(body, json!([]));
    let report: Vec<String> = sb.load_report().warnings().map(|w| w.to_string()).collect();
    let joined = report.join("\n");
    assert!(joined.contains("20240101000000_closed.sql:7"), "{joined}");
    assert!(joined.contains("odd_view"), "{joined}");
    let (status, _) = call(&sb, "GET", "/rest/v1/odd_view", ANON_KEY);
    assert_eq!(status, 404);
    // A check the mock cannot translate refuses the table (it would accept rows Postgres
    // rejects otherwise).
    assert!(joined.contains("20240101000000_closed.sql:9"), "{joined}");
    let (status, _) = call(&sb, "GET", "/rest/v1/checked", ANON_KEY);
    assert_eq!(status, 404);
    // A function whose query the mock cannot translate answers 0A000 naming the construct.
    let (status, body) = call(&sb, "POST", "/rest/v1/rpc/odd_fn", ANON_KEY);
    assert!(status >= 400, "{status} {body}");
    assert_eq!(body["code"], json!("0A000"), "{body}");
    assert!(body.to_string().contains("point"), "{body}");
}

#[test]
fn a_doubled_comma_in_create_table_is_an_error() {
    let sb = common::open_project(&[(
        "supabase/migrations/20240101000000_comma.sql",
        "create table public.t (id int,, x text);\n",
    )]);
    let joined = sb
        .load_report()
        .warnings()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(joined.contains("20240101000000_comma.sql:1"), "{joined}");
    assert!(joined.contains("syntax error"), "{joined}");
}

/// Regular expressions Rust's engine cannot run as Postgres does (back-references, lookahead,
/// the newline-sensitive option) fail closed in every position: a policy denies, a view is
/// refused with the file and line, a function answers 0A000 naming the construct, and a
/// PostgREST `match` filter answers 0A000; never a different answer.
#[test]
fn untranslatable_regular_expressions_fail_closed() {
    let sb = common::open_project(&[(
        "supabase/migrations/20240101000000_regex.sql",
        r#"
create table public.words (id int primary key, w text);
insert into words values (1, 'aa'), (2, 'ab');
alter table words enable row level security;
create policy "doubled" on words for select using (w ~ '(a)\1');
create table public.open_words (id int primary key, w text);
insert into open_words values (1, 'aa'), (2, 'ab');
create view ahead as select id, w ~ 'a(?=b)' as m from open_words;
create function re_fn(p text) returns int language sql stable as $$
  select count(*)::int from open_words where w ~ p
$$;
create function re_lit() returns int language sql as $$
  select count(*)::int from open_words where w ~ '(?n)^a'
$$;
"#,
    )]);
    let joined = sb
        .load_report()
        .warnings()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    // The policy denies (PostgreSQL: row 1), with a warning naming file and line.
    let (status, body) = call(&sb, "GET", "/rest/v1/words?select=id", ANON_KEY);
    assert_eq!((status, body), (200, json!([])));
    assert!(joined.contains("20240101000000_regex.sql:5"), "{joined}");
    assert!(joined.contains("back-reference"), "{joined}");
    // The view is refused.
    assert!(joined.contains("20240101000000_regex.sql:8"), "{joined}");
    let (status, _) = call(&sb, "GET", "/rest/v1/ahead", ANON_KEY);
    assert_eq!(status, 404);
    // A pattern given at run time: 0A000 naming it.
    let (status, body) = call(&sb, "GET", "/rest/v1/rpc/re_fn?p=%28a%29%5C1", ANON_KEY);
    assert_eq!(status / 100, 4, "{status} {body}");
    assert_eq!(body["code"], json!("0A000"), "{body}");
    assert!(body.to_string().contains("back-reference"), "{body}");
    // A pattern Postgres runs like Rust's engine works in the same function.
    let (status, body) = call(&sb, "GET", "/rest/v1/rpc/re_fn?p=%5Ea%5Cy", ANON_KEY);
    assert_eq!((status, body), (200, json!(0)));
    let (status, body) = call(&sb, "POST", "/rest/v1/rpc/re_lit", ANON_KEY);
    assert!(status >= 400, "{status} {body}");
    assert_eq!(body["code"], json!("0A000"), "{body}");
    // PostgREST's `match` filter.
    let (status, body) = call(
        &sb,
        "GET",
        "/rest/v1/open_words?select=id&w=match.%28a%29%5C1",
        ANON_KEY,
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], json!("0A000"), "{body}");
}

/// Enum casts in policies: a label the enum lacks is PostgreSQL's 22P02, for the caller whose
/// claims carry it; the others are admitted by enum order.
#[test]
fn enum_casts_in_policies_check_labels() {
    let sb = common::open_project(&[(
        "supabase/migrations/20240101000000_enum.sql",
        r#"
create type app_role as enum ('viewer', 'member', 'admin');
create table public.docs (id int primary key, min_role app_role not null);
insert into docs values (1, 'viewer'), (2, 'member'), (3, 'admin');
alter table docs enable row level security;
create policy "by role" on docs for select to authenticated
  using (min_role <= (auth.jwt()->'app_metadata'->>'role')::app_role);
-- Ordered against an untyped label: Postgres orders by the enum (viewer < member, though
-- 'viewer' > 'member' as text), and so does the mock.
create policy "anon by label" on docs for select to anon using (min_role < 'member');
"#,
    )]);
    let user = |role: &str| {
        token(json!({"aud": "authenticated", "role": "authenticated",
            "sub": "bbbbbbbb-0000-4000-8000-000000000002",
            "app_metadata": {"role": role}, "exp": 4_000_000_000u64}))
    };
    let (status, body) = call(
        &sb,
        "GET",
        "/rest/v1/docs?select=id&order=id",
        &user("member"),
    );
    assert_eq!((status, body), (200, json!([{"id": 1}, {"id": 2}])));
    let (status, body) = call(
        &sb,
        "GET",
        "/rest/v1/docs?select=id&order=id",
        &user("admin"),
    );
    assert_eq!(
        (status, body),
        (200, json!([{"id": 1}, {"id": 2}, {"id": 3}]))
    );
    // PostgreSQL 15: [{"id": 1}] (viewer is the only label before member).
    let (status, body) = call(&sb, "GET", "/rest/v1/docs?select=id", ANON_KEY);
    assert_eq!((status, body), (200, json!([{"id": 1}])));
    let joined = sb
        .load_report()
        .warnings()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!joined.contains("20240101000000_enum.sql:10"), "{joined}");
    let (status, body) = call(&sb, "GET", "/rest/v1/docs?select=id", &user("boss"));
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], json!("22P02"), "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("invalid input value for enum app_role")),
        "{body}"
    );
}

/// Ordering an enum column against a value whose type the mock cannot establish (a function's
/// result, a text column) fails closed: the policy denies, with a warning naming file and line
/// (PostgreSQL orders enum values by label position, so a text comparison could admit rows it
/// refuses). Two columns of the same enum type, or one and a cast, order by label position.
#[test]
fn enum_ordering_of_unknown_types_fails_closed() {
    let sb = common::open_project(&[(
        "supabase/migrations/20240101000000_lvl.sql",
        r#"
create type lvl as enum ('low', 'mid', 'high');
create function my_level() returns lvl language sql stable as $$ select 'mid'::lvl $$;
create table public.docs (id int primary key, doc_level lvl not null, floor lvl not null,
  note text not null);
insert into docs values (1, 'low', 'mid', 'high'), (2, 'high', 'low', 'low');
alter table docs enable row level security;
create policy "by function" on docs for select to anon using (doc_level <= my_level());
create policy "by text" on docs for select to authenticated using (doc_level >= note);
create table public.open_docs (id int primary key, doc_level lvl not null, floor lvl not null);
insert into open_docs values (1, 'low', 'mid'), (2, 'high', 'low'), (3, 'mid', 'mid');
alter table open_docs enable row level security;
create policy "in band" on open_docs for select to anon
  using (floor <= doc_level and doc_level between floor and 'high'::lvl);
"#,
    )]);
    let joined = sb
        .load_report()
        .warnings()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    // PostgreSQL: row 1 (low <= mid); as text 'high' <= 'mid' as well. The function is
    // inlined with its declared enum result, so it orders by label position.
    let (status, body) = call(&sb, "GET", "/rest/v1/docs?select=id", ANON_KEY);
    assert_eq!((status, body), (200, json!([{"id": 1}])));
    assert!(!joined.contains("20240101000000_lvl.sql:8"), "{joined}");
    assert!(joined.contains("same enum type"), "{joined}");
    // PostgreSQL: `lvl >= text` is an error (no such operator); the mock denies.
    assert!(joined.contains("20240101000000_lvl.sql:9"), "{joined}");
    let user = token(json!({"aud": "authenticated", "role": "authenticated",
        "sub": "bbbbbbbb-0000-4000-8000-000000000002", "exp": 4_000_000_000u64}));
    let (status, body) = call(&sb, "GET", "/rest/v1/docs?select=id", &user);
    assert_eq!((status, body), (200, json!([])));
    // Same enum type on both sides: PostgreSQL 15 answers rows 2 and 3.
    let (status, body) = call(
        &sb,
        "GET",
        "/rest/v1/open_docs?select=id&order=id",
        ANON_KEY,
    );
    assert_eq!((status, body), (200, json!([{"id": 2}, {"id": 3}])));
    assert!(!joined.contains("20240101000000_lvl.sql:13"), "{joined}");
}

/// A column default the typed translator does not handle, whose fallback would drop a cast,
/// is left off (the table loads, a warning names the column, file and line); a string literal
/// cast to the column's own type, and a default without casts, keep the fallback.
#[test]
fn defaults_whose_fallback_drops_a_cast_are_refused() {
    let sb = common::open_project(&[(
        "supabase/migrations/20240101000000_defaults.sql",
        r#"
create type status as enum ('open', 'closed');
create table public.tickets (
  id int primary key,
  clock text default (now()::time)::text,
  state status default 'open'::status,
  meta jsonb default '{}'::jsonb,
  who text default current_setting('app.who', true),
  tags text[] default array[]::text[]
);
insert into tickets (id) values (1);
alter table tickets add column late text default (now()::time)::text;
"#,
    )]);
    let joined = sb
        .load_report()
        .warnings()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(joined.contains("20240101000000_defaults.sql:3"), "{joined}");
    assert!(joined.contains("`tickets.clock`"), "{joined}");
    assert!(joined.contains("::time"), "{joined}");
    assert!(!joined.contains("tickets.state"), "{joined}");
    assert!(!joined.contains("tickets.meta"), "{joined}");
    assert!(!joined.contains("tickets.tags"), "{joined}");
    // Without the table's columns in scope (`alter table ... add column`), the statement is
    // refused with its file and line.
    assert!(
        joined.contains("20240101000000_defaults.sql:12"),
        "{joined}"
    );
    let (status, body) = call(
        &sb,
        "GET",
        "/rest/v1/tickets?select=id,clock,state,meta,tags",
        ANON_KEY,
    );
    assert_eq!(
        (status, body),
        (
            200,
            json!([{"id": 1, "clock": null, "state": "open", "meta": {}, "tags": []}])
        )
    );
}

/// A seed or migration write the typed translator does not handle (here a tuple assignment),
/// whose fallback would drop a cast, is not run: a warning names file and line, and no row
/// gets a value Postgres would not write. One without casts still runs through the fallback.
#[test]
fn writes_whose_fallback_drops_a_cast_are_refused() {
    let sb = common::open_project(&[(
        "supabase/migrations/20240101000000_writes.sql",
        r#"
create table public.nums (id int primary key, n int, s text);
insert into nums values (1, 0, 'a'), (2, 0, 'a');
update nums set (n, s) = (5, 'c') where id = 2;
update nums set (n, s) = ('7.9'::numeric, 'b') where id = 1;
"#,
    )]);
    let joined = sb
        .load_report()
        .warnings()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(joined.contains("20240101000000_writes.sql:5"), "{joined}");
    assert!(joined.contains("::numeric"), "{joined}");
    assert!(!joined.contains("20240101000000_writes.sql:4"), "{joined}");
    let (status, body) = call(&sb, "GET", "/rest/v1/nums?select=id,n,s&order=id", ANON_KEY);
    // PostgreSQL writes (1, 8, 'b'); the mock never writes (1, 7.9, 'b').
    assert_eq!(
        (status, body),
        (
            200,
            json!([{"id": 1, "n": 0, "s": "a"}, {"id": 2, "n": 5, "s": "c"}])
        )
    );
}

/// Generated columns are read over REST like any column; writing one is PostgreSQL's error.
#[test]
fn generated_columns_are_read_and_not_written() {
    let sb = common::open_project(&[(
        "supabase/migrations/20240101000000_gen.sql",
        r#"
create table public.priced (id int primary key, price numeric,
  half numeric generated always as (price / 2) stored);
insert into priced (id, price) values (1, 3);
"#,
    )]);
    let (status, body) = call(&sb, "GET", "/rest/v1/priced?select=id,half", ANON_KEY);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["half"].as_f64(), Some(1.5), "{body}");
    let (status, body) = common::rest(
        &sb,
        "POST",
        "priced",
        r#"{"id": 2, "price": 4, "half": 9}"#,
        ANON_KEY,
        None,
    );
    // PostgREST over PostgreSQL 15: 400, 428C9.
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], json!("428C9"), "{body}");
    assert_eq!(
        body["message"],
        json!("cannot insert a non-DEFAULT value into column \"half\""),
        "{body}"
    );
}
