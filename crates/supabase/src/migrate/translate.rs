//! Translating the Postgres statements migrations commonly use into SQLite.
//!
//! Accepted (see the crate docs for the full list): `create table` with `bigint generated
//! {by default|always} as identity primary key` / `serial` (→ `integer primary key
//! autoincrement`), `text`, `varchar(n)`, `uuid default gen_random_uuid()`, `boolean`,
//! `smallint/integer/bigint`, `real/double precision/numeric(p,s)`, `json/jsonb`, `date`,
//! `timestamp[tz] default now()` (also `timezone('utc', now())`, `current_timestamp`),
//! `not null`, `unique`, `check`, `references`; `create index`; `alter table add/drop/rename
//! column`; `drop table/index`; `insert/update/delete`; `::type` casts and `public.` prefixes
//! are dropped. No-ops: `grant`, `revoke`, `comment on`, `create extension/schema`, `set`,
//! `alter ... owner to`, `select ...`, `begin/commit`. Database Webhook triggers
//! (`create trigger ... execute function supabase_functions.http_request(...)`) declare hooks.
//! Anything else (functions, policies, row level security, arrays, enums) is refused.

use super::columns::{column_def, consume_type, table_pk_column};
use super::lex::{Tok, render, tokenize};
use crate::webhooks::Hook;

/// What a statement becomes.
#[derive(Debug)]
pub enum Translated {
    /// SQLite SQL to run; `ddl` when the schema may change.
    Sql {
        /// The SQLite statement.
        sql: String,
        /// Whether it is DDL.
        ddl: bool,
    },
    /// Accepted and ignored.
    Skip,
    /// A Database Webhook declaration.
    Hook(Hook),
}

const SKIP_FIRST: &[&str] = &[
    "grant", "revoke", "comment", "set", "reset", "begin", "commit", "start", "end", "select",
    "analyze", "vacuum", "notify", "listen",
];

/// Translates one statement.
pub fn translate(stmt: &str) -> Result<Translated, String> {
    let toks = tokenize(stmt)?;
    let Some(first) = toks.first() else {
        return Ok(Translated::Skip);
    };
    let word = |i: usize| {
        toks.get(i)
            .and_then(|t| {
                if let Tok::Word(w) = t {
                    Some(w.to_ascii_lowercase())
                } else {
                    None
                }
            })
            .unwrap_or_default()
    };
    if SKIP_FIRST.iter().any(|k| first.is(k)) {
        return Ok(Translated::Skip);
    }
    match (word(0).as_str(), word(1).as_str()) {
        ("create", "extension")
        | ("create", "schema")
        | ("alter", "default")
        | ("alter", "publication")
        | ("create", "publication")
        | ("alter", "role")
        | ("create", "role")
        | ("alter", "schema")
        | ("create", "sequence")
        | ("alter", "sequence") => return Ok(Translated::Skip),
        ("create", "table") | ("create", "unlogged") => return create_table(&toks),
        ("create", "index") | ("create", "unique") => return create_index(&toks),
        ("create", "trigger") | ("create", "or") => {
            let t = rewrite(&toks)?;
            return super::trigger::create_trigger(&t)
                .map(Translated::Hook)
                .map_err(|e| if e.is_empty() { unsupported(&toks) } else { e });
        }
        ("alter", "table") => return alter_table(&toks),
        ("drop", "table") | ("drop", "index") => {
            let t: Vec<Tok> = rewrite(&toks)?
                .into_iter()
                .filter(|t| !t.is("cascade") && !t.is("restrict"))
                .collect();
            return Ok(Translated::Sql {
                sql: render(&t),
                ddl: true,
            });
        }
        ("insert", _) | ("update", _) | ("delete", _) | ("with", _) => {
            let t: Vec<Tok> = rewrite(&toks)?;
            let mut out = Vec::new();
            let mut i = 0;
            while i < t.len() {
                if t[i].is("overriding") && t.get(2 + i).is_some_and(|x| x.is("value")) {
                    i += 3;
                    continue;
                }
                out.push(t[i].clone());
                i += 1;
            }
            return Ok(Translated::Sql {
                sql: render(&out),
                ddl: false,
            });
        }
        _ => {}
    }
    Err(unsupported(&toks))
}

fn unsupported(toks: &[Tok]) -> String {
    let head: Vec<String> = toks.iter().take(3).map(Tok::sql).collect();
    let what = head.join(" ").to_ascii_lowercase();
    if what.contains("policy") || toks.iter().any(|t| t.is("security")) {
        return "row level security and policies are not supported by the mock (every role has full access)".into();
    }
    format!("statement not supported by the mock Supabase: {what} ...")
}

/// Generic rewrites: drop `public.`/`extensions.` prefixes and `::type` casts; clock-based
/// time functions become `now()`; `uuid_generate_v4()` becomes `gen_random_uuid()`.
pub fn rewrite(toks: &[Tok]) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let next_dot = toks.get(i + 1).is_some_and(|n| n.is_p("."));
        if next_dot && matches!(t.name().as_deref(), Some("public") | Some("extensions")) {
            i += 2;
            continue;
        }
        if t.is_p("::") {
            let (_, j) = consume_type(toks, i + 1)?;
            i = j;
            continue;
        }
        if t.is("current_timestamp") || t.is("localtimestamp") {
            out.extend([
                Tok::Word("now".into()),
                Tok::Punct("(".into()),
                Tok::Punct(")".into()),
            ]);
            i += 1;
            continue;
        }
        if (t.is("timezone") || t.is("uuid_generate_v4"))
            && toks.get(i + 1).is_some_and(|n| n.is_p("("))
        {
            let end = matching(toks, i + 1).ok_or("unbalanced parentheses")?;
            let name = if t.is("timezone") {
                "now"
            } else {
                "gen_random_uuid"
            };
            out.extend([
                Tok::Word(name.into()),
                Tok::Punct("(".into()),
                Tok::Punct(")".into()),
            ]);
            i = end + 1;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    Ok(out)
}

/// Index of the `)` matching the `(` at `open`.
pub(super) fn matching(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (j, t) in toks.iter().enumerate().skip(open) {
        if t.is_p("(") {
            depth += 1;
        } else if t.is_p(")") {
            depth -= 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

/// Reads a type name at `i`; returns the normalised name and the index after it.
pub(super) fn split_top(toks: &[Tok]) -> Vec<Vec<Tok>> {
    let mut out = vec![Vec::new()];
    let mut depth = 0;
    for t in toks {
        if t.is_p("(") {
            depth += 1;
        } else if t.is_p(")") {
            depth -= 1;
        } else if t.is_p(",") && depth == 0 {
            out.push(Vec::new());
            continue;
        }
        out.last_mut().expect("non-empty").push(t.clone());
    }
    out.retain(|v| !v.is_empty());
    out
}

fn create_table(toks: &[Tok]) -> Result<Translated, String> {
    let open = toks
        .iter()
        .position(|t| t.is_p("("))
        .ok_or("expected a column list")?;
    let close = matching(toks, open).ok_or("unbalanced parentheses")?;
    if close + 1 != toks.len() {
        return Err("table options after the column list are not supported".into());
    }
    let head = rewrite(&toks[..open])?;
    let head: Vec<Tok> = head.into_iter().filter(|t| !t.is("unlogged")).collect();
    let items = split_top(&toks[open + 1..close]);
    let table_pk = table_pk_column(&items);
    let mut defs = Vec::new();
    let mut identity_pk_moved = false;
    for (n, item) in items.iter().enumerate() {
        let is_constraint = [
            "constraint",
            "primary",
            "unique",
            "foreign",
            "check",
            "exclude",
        ]
        .iter()
        .any(|k| item[0].is(k));
        if is_constraint {
            if item[0].is("exclude") {
                return Err("exclusion constraints are not supported by the mock".into());
            }
            defs.push((n, render(&rewrite(item)?)));
            continue;
        }
        let (sql, _) = column_def(item, table_pk.as_ref().map(|(_, c)| c.as_str()))?;
        if sql.contains("AUTOINCREMENT")
            && table_pk
                .as_ref()
                .is_some_and(|(_, c)| item[0].name().as_deref() == Some(c.as_str()))
        {
            identity_pk_moved = true;
        }
        defs.push((n, sql));
    }
    if identity_pk_moved && let Some((idx, _)) = &table_pk {
        defs.retain(|(n, _)| n != idx);
    }
    let body: Vec<String> = defs.into_iter().map(|(_, s)| s).collect();
    Ok(Translated::Sql {
        sql: format!("{} ({})", render(&head), body.join(", ")),
        ddl: true,
    })
}

fn create_index(toks: &[Tok]) -> Result<Translated, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if t.is("concurrently") || (t.is("only") && i > 0 && toks[i - 1].is("on")) {
            i += 1;
            continue;
        }
        if t.is("using") {
            i += 2;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    Ok(Translated::Sql {
        sql: render(&rewrite(&out)?),
        ddl: true,
    })
}

fn alter_table(toks: &[Tok]) -> Result<Translated, String> {
    let t = rewrite(toks)?;
    let mut i = 2;
    while t
        .get(i)
        .is_some_and(|x| x.is("if") || x.is("exists") || x.is("only"))
    {
        i += 1;
    }
    let name = t.get(i).ok_or("expected a table name")?.clone();
    let action: Vec<String> = t[i + 1..]
        .iter()
        .take(3)
        .filter_map(Tok::name)
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let a = |k: usize| action.get(k).map(String::as_str).unwrap_or("");
    match (a(0), a(1)) {
        ("owner", _) | ("replica", _) => Ok(Translated::Skip),
        ("enable", _) | ("disable", _) | ("force", _) | ("no", _) => Err(unsupported(toks)),
        ("add", "column") | ("add", _)
            if !matches!(
                a(1),
                "constraint" | "primary" | "unique" | "foreign" | "check"
            ) =>
        {
            let mut j = i + 2;
            if t.get(i + 2).is_some_and(|x| x.is("column")) {
                j += 1;
            }
            while t
                .get(j)
                .is_some_and(|x| x.is("if") || x.is("not") || x.is("exists"))
            {
                j += 1;
            }
            let (def, _) = column_def(t.get(j..).unwrap_or_default(), None)?;
            Ok(Translated::Sql {
                sql: format!("ALTER TABLE {} ADD COLUMN {def}", name.sql()),
                ddl: true,
            })
        }
        ("drop", _) | ("rename", _) => Ok(Translated::Sql {
            sql: render(&t),
            ddl: true,
        }),
        _ => Err(format!(
            "alter table form not supported by the mock: {}",
            render(&t[i + 1..])
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(s: &str) -> String {
        match translate(s).unwrap() {
            Translated::Sql { sql, .. } => sql,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_statements_are_errors_not_panics() {
        for s in [
            "alter table x add",
            "alter table",
            "alter table x add column",
            "create trigger",
            "create or",
            "create table t",
            "create table t ()",
            "create table t (id)",
            "create table t (id bigint default)",
            "create index",
            "drop table",
            "insert",
            "alter table x drop",
            "create trigger h after",
            "create trigger h after insert on t",
            "create table t (id serial)",
            "alter table x add constraint",
        ] {
            let _ = translate(s);
        }
        assert!(translate("create table t (id serial)").is_err());
    }

    #[test]
    fn translates_common_forms() {
        let s = sql(
            "create table public.articles (id bigint generated by default as identity primary key, title text not null, created_at timestamptz default now(), meta jsonb default '{}'::jsonb, ok boolean default false)",
        );
        assert!(
            s.contains("\"id\" INTEGER PRIMARY KEY AUTOINCREMENT"),
            "{s}"
        );
        assert!(s.contains("DEFAULT (now ())"), "{s}");
        let s2 = sql("create table s (id serial primary key)");
        assert!(s2.contains("\"id\" INTEGER PRIMARY KEY AUTOINCREMENT"));
        assert!(s.contains("DEFAULT ('{}')"), "{s}");
        assert!(!s.contains("public"), "{s}");
        let s = sql(
            "create table t (id bigint generated by default as identity not null, x timestamp with time zone default timezone('utc'::text, now()) not null, constraint t_pkey primary key (id))",
        );
        assert!(s.contains("AUTOINCREMENT"), "{s}");
        assert!(!s.contains("t_pkey"), "{s}");
        assert!(s.contains("timestamptz"), "{s}");
        assert!(matches!(
            translate("grant all on table articles to anon").unwrap(),
            Translated::Skip
        ));
        assert!(
            translate("alter table articles enable row level security")
                .unwrap_err()
                .contains("row level security")
        );
        assert!(
            translate("create function f() returns int as $$ select 1 $$ language sql").is_err()
        );
        assert!(
            translate("create table t (tags text[])")
                .unwrap_err()
                .contains("array")
        );
        match translate("create trigger \"hook\" after insert or update on \"public\".\"articles\" for each row execute function \"supabase_functions\".\"http_request\"('http://h/x', 'POST', '{\"Content-type\":\"application/json\"}', '{}', '5000')").unwrap() {
            Translated::Hook(h) => {
                assert_eq!(h.events, vec!["INSERT", "UPDATE"]);
                assert_eq!(h.table, "articles");
                assert_eq!(h.timeout_ms, 5000);
            }
            other => panic!("{other:?}"),
        }
    }
}
