//! Postgres typing against PostgreSQL: casts (`::boolean` of text, `::int` rounding,
//! `::numeric` division, `::text` of dates and enums), date arithmetic, `greatest`/`nullif`,
//! `ilike` and regular expressions, in row level security policies reading JWT claims (an
//! anonymous user with `is_anonymous`, users with `user_metadata`, anon, service_role), views,
//! `language sql` and PL/pgSQL functions (typed `declare`), defaults and checks.

use super::{Case, USER, enc};
use crate::pg::Role;
use edgesim_core::SimRng;
use serde_json::{Value, json};

/// The scenario's migrations (run in both).
pub const SCHEMA: &str = r#"
create type mood as enum ('sad', 'ok', 'happy');
create table facts (
  id int primary key,
  made date not null,
  score int not null default 2.5 check (score >= 0),
  price numeric(10,2),
  ok boolean default true,
  label text check (length(label) > 0 and label ~ '^[A-Za-z _]+$'),
  feel mood default 'ok',
  meta jsonb default '{}'::jsonb,
  owner uuid,
  rating smallint default 7.9,
  fine boolean default 'yes',
  half_price numeric generated always as (price / 2) stored,
  made_text text generated always as (lower(label) || '#' || score::text) stored
);
insert into facts (id, made, score, price, ok, label, feel, meta, owner) values
  (1, '2024-01-31', 3, 2.50, true, 'Alpha', 'happy', '{"a": "true", "n": 2}', '8d0fd2b3-9ca7-4d9e-a95f-9e13a4f8c3a1'),
  (2, '2024-02-28', 10, 7.25, false, 'beta', 'sad', '{"a": "false", "n": 5}', null),
  (3, '2023-12-31', 0, null, null, 'Gamma ray', 'ok', '{"a": "t", "n": 0}', null),
  (4, '2024-03-01', 7, 1.10, true, 'delta_x', 'happy', '{"a": "off"}', '8d0fd2b3-9ca7-4d9e-a95f-9e13a4f8c3a1'),
  (6, '2024-12-31', 1, 3.30, false, 'Zeta', 'sad', '{"n": 9}', null);
insert into facts (id, made, label) values (5, '2024-01-15', 'echo');
alter table facts enable row level security;
-- Supabase's pattern: anonymous sign-ins are authenticated users with is_anonymous = true.
create policy "members by level" on facts for select to authenticated
  using ((select (auth.jwt()->>'is_anonymous')::boolean) is false
         and coalesce((auth.jwt()->'user_metadata'->>'level')::int, 0) >= score / 3);
create policy "owners" on facts for select to authenticated
  using (owner = auth.uid() and (meta->>'a')::boolean is not false);
create policy "public a-d" on facts for select to anon
  using (label ~* '^[a-d]' and made > '2024-01-01'::date);

create view fact_view as
  select id,
         (made + 1)::text as next_day,
         score::numeric / 4 as quarter,
         score / 4 as int_quarter,
         made - date '2024-01-01' as days,
         ok::text as ok_text,
         greatest(score, 5) as g,
         least(price, 3) as l,
         nullif(label, 'beta') as nl,
         case when label ilike '%A%' then 'y' else 'n' end as has_a,
         case when label ~ '^[A-Z]' then 'upper' else 'lower' end as initial,
         feel::text as feel_text,
         (meta->>'n')::int * 2 as n2,
         coalesce((meta->>'a')::boolean::text, 'none') as a_text,
         (price * 2)::int as price2
  from facts;

create function half(n int) returns numeric language sql immutable as $$
  select n::numeric / 2
$$;
create function rounded(x numeric) returns int language plpgsql immutable as $$
declare
  r int := x;
begin
  return r;
end;
$$;
create function days_after(d date, n int) returns text language sql immutable as $$
  select (d + n)::text
$$;
create function is_yes(v text) returns boolean language sql immutable as $$
  select v::boolean
$$;
create function visible_ratio() returns numeric language sql stable as $$
  select count(*)::numeric / 6 from facts
$$;
create function label_matches(p text) returns int language sql stable as $$
  select count(*)::int from facts where label ~* p
$$;
"#;

/// The kinds of caller, with their JWT claims (`None`: the role's default claims).
fn callers() -> Vec<(Role, Option<String>, Option<Value>)> {
    let user = |claims: Value| (Role::Authenticated, Some(USER.to_string()), Some(claims));
    vec![
        (Role::Anon, None, None),
        (Role::Service, None, None),
        user(json!({"role": "authenticated", "sub": USER, "is_anonymous": true})),
        user(
            json!({"role": "authenticated", "sub": USER, "is_anonymous": false,
            "user_metadata": {"level": "2"}}),
        ),
        user(
            json!({"role": "authenticated", "sub": "11111111-2222-4333-8444-555555555555",
            "is_anonymous": false, "user_metadata": {"level": 9}}),
        ),
        user(
            json!({"role": "authenticated", "sub": "11111111-2222-4333-8444-555555555555",
            "is_anonymous": false}),
        ),
    ]
}

fn case(
    c: &(Role, Option<String>, Option<Value>),
    path: String,
    sql: String,
    wrap: Option<&'static str>,
) -> Case {
    Case {
        role: c.0,
        sub: c.1.clone(),
        path,
        sql,
        ordered: true,
        wrap,
        claims: c.2.clone(),
    }
}

/// The cases: every caller reads the table (its policies), the view and calls the functions.
pub fn cases(seed: u64) -> Vec<Case> {
    let mut rng = SimRng::from_seed(seed).fork("typing");
    let mut out = Vec::new();
    let view_cols = "id,next_day,quarter,int_quarter,days,ok_text,g,l,nl,has_a,initial,feel_text,n2,a_text,price2";
    for c in callers() {
        out.push(case(
            &c,
            "facts?select=id,made,score,price,ok,label,feel,meta,owner&order=id".into(),
            "SELECT id, made, score, price, ok, label, feel, meta, owner FROM facts ORDER BY id"
                .into(),
            None,
        ));
        out.push(case(
            &c,
            format!("fact_view?select={view_cols}&order=id"),
            format!(
                "SELECT {} FROM fact_view ORDER BY id",
                view_cols.replace(',', ", ")
            ),
            None,
        ));
        out.push(case(
            &c,
            "rpc/visible_ratio".into(),
            "SELECT visible_ratio() AS v".into(),
            Some("v"),
        ));
        for p in ["^a", "a", "^[A-Z]", "x$", " "] {
            out.push(case(
                &c,
                format!("rpc/label_matches?p={}", enc(p)),
                format!("SELECT label_matches({}) AS v", super::lit(p)),
                Some("v"),
            ));
        }
    }
    let anyone = (Role::Anon, None, None);
    for n in [0, 1, 3, 7, -5] {
        out.push(case(
            &anyone,
            format!("rpc/half?n={n}"),
            format!("SELECT half({n}) AS v"),
            Some("v"),
        ));
    }
    for x in ["2.5", "-2.5", "7.9", "7.4", "0.5", "3"] {
        out.push(case(
            &anyone,
            format!("rpc/rounded?x={x}"),
            format!("SELECT rounded({x}) AS v"),
            Some("v"),
        ));
    }
    for _ in 0..6 {
        let d = format!(
            "2024-0{}-{:02}",
            1 + rng.next_u64() % 9,
            1 + rng.next_u64() % 28
        );
        let n = (rng.next_u64() % 70) as i64 - 20;
        out.push(case(
            &anyone,
            format!("rpc/days_after?d={d}&n={n}"),
            format!("SELECT days_after('{d}', {n}) AS v"),
            Some("v"),
        ));
    }
    for v in ["true", "f", "yes", "NO", "on", "off", "1", "0", "maybe"] {
        out.push(case(
            &anyone,
            format!("rpc/is_yes?v={v}"),
            format!("SELECT is_yes('{v}') AS v"),
            Some("v"),
        ));
    }
    out
}
