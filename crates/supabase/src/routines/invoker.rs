//! Security invoker: a function without `security definer` runs with its caller's rights, so in
//! Postgres the tables its queries read show only the rows the caller's SELECT policies allow
//! (an `rpc/search` called by anon sees no drafts). The mock applies this to the tables a
//! function body reads (`from`/`join`, also in subqueries): each becomes `(SELECT * FROM t AS a
//! WHERE <policies>) AS a`, as [`crate::scope::Rls`] does for REST reads. Writes inside the
//! body are not filtered (they run with the owner's rights).

use crate::db::Db;
use crate::errors::ApiError;
use crate::migrate::lex::Tok;
use crate::rls::{self, Cmd};
use crate::sql::ident;

/// Words that end a FROM item (so they are not a table alias).
const NOT_ALIAS: &[&str] = &[
    "where",
    "join",
    "inner",
    "left",
    "right",
    "full",
    "cross",
    "on",
    "using",
    "group",
    "order",
    "limit",
    "offset",
    "having",
    "union",
    "intersect",
    "except",
    "natural",
    "for",
    "window",
    "returning",
    "set",
    "into",
    "loop",
    "then",
    "and",
    "or",
    "when",
    "else",
    "end",
    "as",
];

/// `toks` with every table it reads replaced by its rows visible to the request's caller.
/// Unchanged for the owner (migrations, seeds, `Supabase::execute`) and `service_role`.
pub fn scope_reads(db: &Db, toks: Vec<Tok>) -> Result<Vec<Tok>, ApiError> {
    if db.auth.role().is_none() {
        return Ok(toks);
    }
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let x = &toks[i];
        let reads =
            (x.is("from") || x.is("join")) && !(x.is("from") && i > 0 && toks[i - 1].is("delete"));
        if !reads {
            out.push(x.clone());
            i += 1;
            continue;
        }
        out.push(x.clone());
        // `public.t` or `t`.
        let mut j = i + 1;
        if toks.get(j).and_then(Tok::name).as_deref() == Some("public")
            && toks.get(j + 1).is_some_and(|d| d.is_p("."))
        {
            j += 2;
        }
        let Some(name) = toks.get(j).and_then(Tok::name) else {
            i += 1;
            continue;
        };
        if toks.get(j + 1).is_some_and(|p| p.is_p("(") || p.is_p(".")) {
            i += 1;
            continue;
        }
        let Some(t) = db.schema.tables.get(&name) else {
            i += 1;
            continue;
        };
        let mut end = j + 1;
        let alias = match toks.get(end) {
            Some(a) if a.is("as") => {
                end += 2;
                toks.get(end - 1).and_then(Tok::name)
            }
            Some(a @ (Tok::Word(_) | Tok::QIdent(_))) if !NOT_ALIAS.iter().any(|k| a.is(k)) => {
                end += 1;
                a.name()
            }
            _ => None,
        }
        .unwrap_or_else(|| name.clone());
        let a = ident(&alias);
        match rls::using(db, t, Cmd::Select, &a)? {
            None => out.extend_from_slice(&toks[i + 1..end]),
            // One opaque token: the policy SQL is SQLite already and binds no variable.
            Some(cond) => out.push(Tok::Punct(format!(
                "(SELECT * FROM {} AS {a} WHERE {cond}) AS {a}",
                ident(&t.name)
            ))),
        }
        i = end;
    }
    Ok(out)
}
