//! Postgres typing against PostgreSQL: casts (`::boolean` of text, `::int` rounding,
//! `::numeric` division, `::text` of dates and enums), date arithmetic, `greatest`/`nullif`,
//! `ilike` and regular expressions, in row level security policies reading JWT claims (an
//! anonymous user with `is_anonymous`, users with `user_metadata`, anon, service_role), views,
//! `language sql` and PL/pgSQL functions (typed `declare`), defaults and checks; enum values
//! ordered by label position (not as text) in policies.

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

-- Enums (casts, order), arrays (any, subscripts), Unicode case, Postgres regexes, positional
-- inserts with fewer values than columns, boolean view columns.
create type app_role as enum ('viewer', 'member', 'admin');
create table members (
  id int primary key,
  name text not null,
  role app_role not null default 'member',
  tags text[] default '{}',
  nums int[] default array[1, 2],
  active boolean default true,
  note text default 'x',
  due date default (date '2024-01-01' + 30),
  code text default upper('abc' || 'é'),
  slug text generated always as (upper(name) || '#' || (id * 2)::text) stored,
  check (name !~ '\d{3}' and role <> 'member'::app_role or id < 100)
);
insert into members values (1, 'Élan Vital', 'admin', '{a,b}', '{3,4}', true);
insert into members values (2, 'straße zoë', 'viewer', '{b}');
insert into members (id, name, role, tags, active) values
  (3, 'word boundary', 'member', '{}', false),
  (4, 'bob_2 b<b', 'admin', '{c,a}', null),
  (5, 'ÅSA 42', 'viewer', '{c}', true);
insert into members values (6, 'x.y\z', 'member');
-- Casts in seed data keep their meaning (typed translator), values take the column's type.
insert into members (id, name, role, active, nums) values
  (7, 'Seven ' || (7.5)::int, 'member'::app_role, 'on'::boolean, '{7,8}');
update members set note = note || (2.5)::int, due = due + 1 where id = 7;
alter table members enable row level security;
create policy "admins see all" on members for select to authenticated
  using ((auth.jwt()->'app_metadata'->>'role')::app_role = 'admin'::app_role);
create policy "by rank" on members for select to authenticated
  using (role <= (auth.jwt()->'user_metadata'->>'rank')::app_role);
create policy "anon viewers" on members for select to anon
  using (role = 'viewer'::app_role or 'a' = any(tags) or name ~ '\mbound');
create policy "tagged" on members for select to authenticated
  using (tags[1] = 'c' or id = any(array[3, 6]));

create view member_view as
  select id,
         upper(name) as up,
         lower(name) as low,
         role::text as role_text,
         role > 'viewer' as above_viewer,
         role < 'admin'::app_role as below_admin,
         active as active,
         active is not true as not_active,
         id > 3 as big,
         'a' = any(tags) as has_a,
         tags[1] as first_tag,
         nums[2] as second_num,
         name ~ '\mbo' as word_bo,
         name ~ 'ary\M' as word_end,
         name ~ '\yb' as y_b,
         name ~ '^[[:alpha:]]+ ' as alpha_first,
         name ~* '^[[:upper:]]' as upper_ci,
         name ~ '\d' as has_digit,
         name ~ 'b\<b' as lt,
         name ~ '[.[]' as dot_or_bracket,
         name !~ '(?i)BOB' as not_bob,
         name ~ '***=x.y' as literal_xy,
         note,
         due::text as due_text
  from members;

create function members_ranked(r text) returns int language sql stable as $$
  select count(*)::int from members where role >= r::app_role
$$;
create function shout(t text) returns text language sql immutable as $$
  select upper(t) || '/' || lower(t)
$$;
create function re(s text, p text) returns boolean language sql immutable as $$
  select s ~ p
$$;

-- Enum ordering in policies: labels ordered unlike text ('high' < 'low' < 'mid' as text), two
-- enum columns, an enum column against a scalar subquery of one, and `between`.
create type lvl as enum ('low', 'mid', 'high');
create table clearances (id uuid primary key, level lvl not null);
insert into clearances values
  ('8d0fd2b3-9ca7-4d9e-a95f-9e13a4f8c3a1', 'mid'),
  ('11111111-2222-4333-8444-555555555555', 'high');
create table docs (id int primary key, title text not null, doc_level lvl not null, floor lvl not null);
insert into docs values
  (1, 'a', 'low', 'low'), (2, 'b', 'mid', 'low'), (3, 'c', 'high', 'mid'),
  (4, 'd', 'high', 'low'), (5, 'e', 'mid', 'high'), (6, 'f', 'low', 'high');
alter table docs enable row level security;
create policy "cleared" on docs for select to authenticated
  using (doc_level <= (select level from clearances where id = auth.uid()));
create policy "claimed" on docs for select to authenticated
  using (doc_level > (auth.jwt()->'user_metadata'->>'doc')::lvl);
create policy "anon in band" on docs for select to anon
  using ('mid' between floor and doc_level or floor > doc_level and doc_level >= 'mid');
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
        user(
            json!({"role": "authenticated", "sub": USER, "is_anonymous": false,
            "app_metadata": {"provider": "email", "role": "admin"}}),
        ),
        user(
            json!({"role": "authenticated", "sub": USER, "is_anonymous": false,
            "app_metadata": {"provider": "email"}, "user_metadata": {"rank": "member"}}),
        ),
        user(
            json!({"role": "authenticated", "sub": USER, "is_anonymous": false,
            "user_metadata": {"rank": "viewer", "level": 1}}),
        ),
        user(
            json!({"role": "authenticated", "sub": USER, "is_anonymous": false,
            "user_metadata": {"rank": "boss"}}),
        ),
        user(
            json!({"role": "authenticated", "sub": "99999999-2222-4333-8444-555555555555",
            "is_anonymous": false, "user_metadata": {"doc": "low"}}),
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
    let member_cols = "id,up,low,role_text,above_viewer,below_admin,active,not_active,big,has_a,first_tag,second_num,word_bo,word_end,y_b,alpha_first,upper_ci,has_digit,lt,dot_or_bracket,not_bob,literal_xy,note,due_text";
    let view_cols = "id,next_day,quarter,int_quarter,days,ok_text,g,l,nl,has_a,initial,feel_text,n2,a_text,price2";
    for c in callers() {
        out.push(case(
            &c,
            "facts?select=id,made,score,price,ok,label,feel,meta,owner,half_price,made_text&order=id"
                .into(),
            "SELECT id, made, score, price, ok, label, feel, meta, owner, half_price, made_text \
             FROM facts ORDER BY id"
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
        out.push(case(
            &c,
            "members?select=id,name,role,tags,nums,active,note,due,code,slug&order=id".into(),
            "SELECT id, name, role, tags, nums, active, note, due, code, slug FROM members ORDER BY id"
                .into(),
            None,
        ));
        out.push(case(
            &c,
            format!("member_view?select={member_cols}&order=id"),
            format!(
                "SELECT {} FROM member_view ORDER BY id",
                member_cols.replace(',', ", ")
            ),
            None,
        ));
        out.push(case(
            &c,
            "docs?select=id,title,doc_level,floor&order=id".into(),
            "SELECT id, title, doc_level, floor FROM docs ORDER BY id".into(),
            None,
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
    for r in ["viewer", "member", "admin", "boss"] {
        out.push(case(
            &anyone,
            format!("rpc/members_ranked?r={r}"),
            format!("SELECT members_ranked('{r}') AS v"),
            Some("v"),
        ));
    }
    for t in ["héllo wörld", "ÉCOLE", "straße", "ǅ İ ı", "abc"] {
        out.push(case(
            &anyone,
            format!("rpc/shout?t={}", enc(t)),
            format!("SELECT shout({}) AS v", super::lit(t)),
            Some("v"),
        ));
    }
    let res: [(&str, &str); 14] = [
        ("word boundary", r"\mbound"),
        ("word boundary", r"\mound"),
        ("word boundary", r"ary\M"),
        ("a word", r"\yword\y"),
        ("a sword", r"\Yword"),
        ("Élan", r"^[[:alpha:]]+$"),
        ("a\nb", "a.b"),
        ("x1", r"\d"),
        ("a<b", r"a\<b"),
        ("[x", "[[]"),
        ("ABC", "(?i)abc"),
        ("a.c", "***=a.c"),
        ("abc", "***=a.c"),
        ("aaxxb", "x{2,}"),
    ];
    for (s, p) in res {
        out.push(case(
            &anyone,
            format!("rpc/re?s={}&p={}", enc(s), enc(p)),
            format!("SELECT re({}, {}) AS v", super::lit(s), super::lit(p)),
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
