//! Token-level translation of Postgres statements into SQLite (the forms the handlers of
//! `create table`, `create index`, `alter table` and data statements share). The accepted forms
//! are listed in the crate README's "Postgres -> SQLite translation" section.

use super::columns::{TableEnv, column_def_typed, consume_type, table_pk_column, typed_checks};
use super::lex::{Tok, render, split_top};
use crate::catalog::Catalog;

/// `auth.uid(` / `auth.role(` / `auth.jwt(` / `auth.email(` at `i` (three tokens): the SQLite
/// name of that function (`auth_uid`, ...; see [`crate::claims`]).
pub fn auth_function(toks: &[Tok], i: usize) -> Option<String> {
    if toks.get(i)?.name()? != "auth" || !toks.get(i + 1)?.is_p(".") {
        return None;
    }
    let f = toks.get(i + 2)?.name()?;
    let known = matches!(f.as_str(), "uid" | "role" | "jwt" | "email");
    (known && toks.get(i + 3)?.is_p("(")).then(|| format!("auth_{f}"))
}

/// Generic rewrites: drop `public.`/`extensions.` prefixes and `::type` casts; clock-based
/// time functions become `now()`; `uuid_generate_v4()` becomes `gen_random_uuid()`;
/// `auth.uid()` and the other `auth.*` functions become `auth_uid()` etc.
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
        if let Some(f) = auth_function(toks, i) {
            out.push(Tok::Word(f));
            i += 3;
            continue;
        }
        if t.is("array") && toks.get(i + 1).is_some_and(|n| n.is_p("[")) {
            // `array[a, b]` -> `json_array(a, b)` (arrays are stored as JSON).
            let mut depth = 0;
            let mut end = None;
            for (j, x) in toks.iter().enumerate().skip(i + 1) {
                if x.is_p("[") {
                    depth += 1;
                } else if x.is_p("]") {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
            }
            let end = end.ok_or("unbalanced brackets")?;
            out.push(Tok::Word("json_array".into()));
            out.push(Tok::Punct("(".into()));
            out.extend(rewrite(&toks[i + 2..end])?);
            out.push(Tok::Punct(")".into()));
            i = end + 1;
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

/// `create table` as SQLite SQL; `fns`, the project's functions, are inlined where its
/// expressions call them ([`super::genfn`]).
pub(super) fn create_table(
    toks: &[Tok],
    cat: &Catalog,
    fns: Option<&super::genfn::ProjectFns>,
) -> Result<String, String> {
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
    // Postgres allows an empty column list (`create table t ()`), never an empty item.
    if items.iter().any(Vec::is_empty) && !(items.len() == 1 && open + 1 == close) {
        return Err("syntax error at or near \",\" (an empty item in the column list)".into());
    }
    let items: Vec<Vec<Tok>> = items.into_iter().filter(|v| !v.is_empty()).collect();
    let table_pk = table_pk_column(&items);
    // The columns' types, for the typed translation of checks and generated columns.
    let table = head.last().and_then(Tok::name).unwrap_or_default();
    let cols = items
        .iter()
        .filter_map(|item| {
            let name = item.first()?.name()?;
            let (ty, _) = consume_type(item, 1).ok()?;
            let ty = if cat.enums.contains(&ty) {
                crate::pgexpr::Ty::Enum(ty)
            } else {
                crate::pgexpr::Ty::from_decl(&ty)
            };
            Some((name, ty))
        })
        .collect();
    let env = TableEnv {
        table,
        cols,
        cat,
        fns,
    };
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
            defs.push((n, render(&rewrite(&typed_checks(item, Some(&env))?)?)));
            continue;
        }
        let (sql, _) = column_def_typed(
            item,
            table_pk.as_ref().map(|(_, c)| c.as_str()),
            cat,
            Some(&env),
        )?;
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
    Ok(format!("{} ({})", render(&head), body.join(", ")))
}

/// `create index` as SQLite SQL (`concurrently`, `only` and `using <method>` dropped).
pub(super) fn create_index(toks: &[Tok]) -> Result<String, String> {
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
        // Operator classes (`gin_trgm_ops`, `vector_cosine_ops`, `text_pattern_ops`).
        if t.name().is_some_and(|n| n.ends_with("_ops")) && i > 0 && !toks[i - 1].is_p("(") {
            i += 1;
            continue;
        }
        // Storage parameters `with (m = 16)`, `include (...)`, `tablespace x`.
        if (t.is("with") || t.is("include")) && toks.get(i + 1).is_some_and(|x| x.is_p("(")) {
            i = matching(toks, i + 1).ok_or("unbalanced parentheses")? + 1;
            continue;
        }
        if t.is("tablespace") {
            i += 2;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    Ok(render(&rewrite(&out)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::lex::tokenize;

    fn table(s: &str) -> Result<String, String> {
        create_table(&tokenize(s).unwrap(), &Catalog::default(), None)
    }

    #[test]
    fn truncated_statements_are_errors_not_panics() {
        for s in [
            "create table t",
            "create table t ()",
            "create table t (id)",
            "create table t (id bigint default)",
            "create table t (id serial)",
        ] {
            let _ = table(s);
        }
        let _ = create_index(&tokenize("create index").unwrap());
        // A serial column that is not the primary key gets its own sequence.
        let s = table("create table t (id serial)").unwrap();
        assert!(
            s.contains("NOT NULL DEFAULT (pg_nextval('t', 'id'))"),
            "{s}"
        );
    }

    #[test]
    fn checks_and_generated_columns_are_typed() {
        let s = table(
            "create table t (id int primary key, label text check (label ~* '^a'), price numeric, half numeric generated always as (price / 2) stored, constraint c check (id / 2 >= 0))",
        )
        .unwrap();
        assert!(s.contains("regexp"), "{s}");
        assert!(s.contains("CAST (\"price\" AS REAL)"), "{s}");
        assert!(s.contains("pg_nonzero (2)"), "{s}");
        let e = table("create table t (id int primary key, made date check (made::integer > 0))")
            .unwrap_err();
        assert!(e.contains("cast from date to integer"), "{e}");
        let e = table("create table t (id int,, x text)").unwrap_err();
        assert!(e.contains("syntax error"), "{e}");
        assert!(table("create table t ()").is_ok());
    }

    #[test]
    fn translates_common_forms() {
        let s = table(
            "create table public.articles (id bigint generated by default as identity primary key, title text not null, created_at timestamptz default now(), meta jsonb default '{}'::jsonb, ok boolean default false)",
        ).unwrap();
        assert!(
            s.contains("\"id\" INTEGER PRIMARY KEY AUTOINCREMENT"),
            "{s}"
        );
        assert!(s.contains("DEFAULT (now ())"), "{s}");
        let s2 = table("create table s (id serial primary key)").unwrap();
        assert!(s2.contains("\"id\" INTEGER PRIMARY KEY AUTOINCREMENT"));
        assert!(s.contains("DEFAULT ('{}')"), "{s}");
        assert!(!s.contains("public"), "{s}");
        let s = table(
            "create table t (id bigint generated by default as identity not null, x timestamp with time zone default timezone('utc'::text, now()) not null, constraint t_pkey primary key (id))",
        ).unwrap();
        assert!(s.contains("AUTOINCREMENT"), "{s}");
        assert!(!s.contains("t_pkey"), "{s}");
        assert!(s.contains("timestamptz"), "{s}");
        let s = table("create table t (id int4 primary key, tags text[] default '{a,\"b c\"}', v vector(3), ip inet)").unwrap();
        assert!(
            s.contains("\"tags\" text[] DEFAULT ('[\"a\",\"b c\"]')"),
            "{s}"
        );
        assert!(s.contains("\"v\" vector(3)"), "{s}");
        assert!(s.contains("\"ip\" text"), "{s}");
        let r = render(
            &rewrite(&tokenize("insert into t values (array['a', 'b']::text[])").unwrap()).unwrap(),
        );
        assert_eq!(r, "insert into t values (json_array ('a', 'b'))");
    }
}
