//! `create type` (enum, composite), `alter type` (enum values) and `create domain`.
//!
//! * Enum types are registered in [`crate::catalog::Catalog::enums`]; a column of an enum type
//!   is stored as text with `CHECK (pg_enum_check('mood', col))`, which fails with Postgres's
//!   22P02 `invalid input value for enum mood: "x"`. `alter type ... add value` / `rename
//!   value` update the registry (so existing columns accept the new value).
//! * Composite types: columns are stored as `jsonb` (PostgREST renders composites as JSON
//!   objects); fields are not checked.
//! * Domains: a column of a domain type gets the base type, the domain's `not null` and its
//!   checks (`value` replaced by the column). A check SQLite cannot evaluate is dropped with a
//!   warning.
//! * Range types and `create type x` without a body are skipped.

use super::dispatch::{Ctx, Stmt, display_name, name_index, qualified_name};
use super::lex::split_top_nonempty;
use super::lex::{Tok, render};
use super::translate::{matching, rewrite};
use crate::catalog::Domain;

fn unquote(t: &Tok) -> Option<String> {
    match t {
        Tok::Str(s) => Some(s[1..s.len() - 1].replace("''", "'")),
        _ => None,
    }
}

/// `create type name as enum (...)` / `as (...)` / `as range (...)`.
pub fn create(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    if st.kind == super::dispatch::Kind::CreateDomain {
        return domain(cx, st);
    }
    let (s, name, i) =
        qualified_name(&st.toks, name_index(st, "type")).ok_or("expected a type name")?;
    let name = display_name(&s, &name);
    let object = format!("type `{name}`");
    let t = &st.toks;
    if !t.get(i).is_some_and(|x| x.is("as")) {
        cx.skipped(
            st,
            object,
            "a shell type has no values; columns of it are refused",
        );
        return Ok(());
    }
    if t.get(i + 1).is_some_and(|x| x.is("enum")) {
        let open = i + 2;
        let close = matching(t, open).ok_or("unbalanced parentheses")?;
        let values: Option<Vec<String>> = split_top_nonempty(&t[open + 1..close])
            .iter()
            .map(|v| v.first().and_then(unquote))
            .collect();
        let values = values.ok_or("enum values must be string literals")?;
        let n = values.len();
        cx.db.catalog.enums.define(&name, values);
        cx.emulated(
            st,
            object,
            format!("enum of {n} values, checked on write (22P02 for others)"),
        );
        return Ok(());
    }
    if t.get(i + 1).is_some_and(|x| x.is_p("(")) {
        cx.db.catalog.composites.insert(name.clone());
        cx.emulated(
            st,
            object,
            "composite: columns of it are stored as jsonb objects; fields are not checked",
        );
        return Ok(());
    }
    cx.skipped(
        st,
        object,
        format!(
            "{} types are not emulated; columns of it are refused",
            st.word(i + 1)
        ),
    );
    Ok(())
}

/// `alter type name add value [if not exists] 'v' [before|after 'w']`, `rename value 'a' to
/// 'b'`, `rename to`, `owner to`.
pub fn alter(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let (s, name, i) =
        qualified_name(&st.toks, name_index(st, "type")).ok_or("expected a type name")?;
    let name = display_name(&s, &name);
    let object = format!("alter type `{name}`");
    let t = &st.toks;
    let w = |k: usize| t.get(k).and_then(Tok::name).unwrap_or_default();
    if w(i) == "owner" {
        cx.accepted(st, object, "only matters to a Postgres server");
        return Ok(());
    }
    if !cx.db.catalog.enums.contains(&name) {
        cx.skipped(st, object, format!("`{name}` is not an emulated enum type"));
        return Ok(());
    }
    match (w(i).as_str(), w(i + 1).as_str()) {
        ("add", "value") => {
            let mut k = i + 2;
            while matches!(w(k).as_str(), "if" | "not" | "exists") {
                k += 1;
            }
            let v = t
                .get(k)
                .and_then(unquote)
                .ok_or("expected a string literal")?;
            let pos = match (w(k + 1).as_str(), t.get(k + 2).and_then(unquote)) {
                ("before", Some(o)) => Some((o, false)),
                ("after", Some(o)) => Some((o, true)),
                _ => None,
            };
            cx.db.catalog.enums.add_value(&name, v.clone(), pos);
            cx.emulated(st, object, format!("value '{v}' added"));
        }
        ("rename", "value") => {
            let (Some(a), Some(b)) = (
                t.get(i + 2).and_then(unquote),
                t.get(i + 4).and_then(unquote),
            ) else {
                return Err("expected rename value 'a' to 'b'".into());
            };
            cx.db.catalog.enums.rename_value(&name, &a, &b);
            cx.skipped(
                st,
                object,
                format!(
                    "value '{a}' is renamed for new writes, but rows already holding '{a}' keep it"
                ),
            );
        }
        _ => cx.skipped(st, object, "this alter type form is not emulated"),
    }
    Ok(())
}

/// `create domain name [as] base [default x] [not null] [constraint c] check (expr) ...`.
fn domain(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let (s, name, mut i) =
        qualified_name(&st.toks, name_index(st, "domain")).ok_or("expected a domain name")?;
    let name = display_name(&s, &name);
    let object = format!("domain `{name}`");
    let t = &st.toks;
    if t.get(i).is_some_and(|x| x.is("as")) {
        i += 1;
    }
    let start = i;
    let (_, after) = super::columns::consume_type(t, i)?;
    let base: Vec<Tok> = t[start..after].to_vec();
    let mut i = after;
    let mut checks = Vec::new();
    let mut dropped = Vec::new();
    let mut notnull = false;
    let mut default = None;
    let mut cname = None;
    while i < t.len() {
        if t[i].is("not") && t.get(i + 1).is_some_and(|x| x.is("null")) {
            notnull = true;
            i += 2;
        } else if t[i].is("constraint") {
            cname = t.get(i + 1).and_then(Tok::name);
            i += 2;
        } else if t[i].is("check") && t.get(i + 1).is_some_and(|x| x.is_p("(")) {
            let close = matching(t, i + 1).ok_or("unbalanced parentheses")?;
            let expr = rewrite(&t[i + 2..close])?;
            let cn = cname
                .take()
                .unwrap_or_else(|| format!("{}_check", name.rsplit('.').next().unwrap_or(&name)));
            // Does SQLite understand it? Try it with `value` as NULL.
            let probe: Vec<Tok> = expr
                .iter()
                .map(|x| {
                    if x.is("value") {
                        Tok::Word("NULL".into())
                    } else {
                        x.clone()
                    }
                })
                .collect();
            if cx
                .db
                .prepare(&format!("SELECT ({})", render(&probe)))
                .is_ok()
            {
                checks.push((cn, expr));
            } else {
                dropped.push(render(&t[i..=close]));
            }
            i = close + 1;
        } else if t[i].is("default") {
            let mut j = i + 1;
            while j < t.len() && !t[j].is("not") && !t[j].is("check") && !t[j].is("constraint") {
                j += 1;
            }
            default = Some(t[i + 1..j].to_vec());
            i = j;
        } else {
            i += 1;
        }
    }
    let n = checks.len();
    cx.db.catalog.domains.insert(
        name.clone(),
        Domain {
            base,
            notnull,
            default,
            checks,
        },
    );
    if dropped.is_empty() {
        cx.emulated(
            st,
            object,
            format!("columns of it get its base type, not null and {n} check(s)"),
        );
    } else {
        cx.skipped(
            st,
            object,
            format!(
                "columns of it get its base type, but `{}` is not enforced (not translatable to SQLite)",
                dropped.join(" ")
            ),
        );
    }
    Ok(())
}
