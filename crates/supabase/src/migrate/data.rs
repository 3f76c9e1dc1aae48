//! Data statements (`insert`, `update`, `delete`, `with ...`) and `select`. Not applying one
//! changes data, so a failure is an [`super::report::Outcome::Error`] naming what is missing
//! and, when it depends on a skipped object, where that was skipped.

use super::columns::array_literal_to_json_typed;
use super::dispatch::{Ctx, Stmt, display_name, qualified_name};
use super::lex::split_top_nonempty;
use super::lex::{Tok, render};
use super::translate::{matching, rewrite};

/// The table a data statement writes: `insert into t`, `update [only] t`, `delete from t`.
fn target(st: &Stmt) -> Option<(String, String)> {
    let verb = st.word(0);
    let i = match verb.as_str() {
        "insert" | "delete" => st.toks.iter().position(|t| t.is("into") || t.is("from"))? + 1,
        "update" => 1 + usize::from(st.toks.get(1).is_some_and(|t| t.is("only"))),
        "truncate" => 1 + usize::from(st.toks.get(1).is_some_and(|t| t.is("table"))),
        _ => return None,
    };
    let (s, n, _) = qualified_name(&st.toks, i)?;
    Some((verb, display_name(&s, &n)))
}

/// What a failure's consequence says: the message, and the skip it follows from.
fn consequence(cx: &Ctx<'_>, message: &str, table: Option<&str>) -> String {
    let mut out = message.to_string();
    // SQLite says "no such table: x" / "no such function: f".
    let dep = table
        .map(|t| format!("table `{t}`"))
        .filter(|o| cx.skipped_at(o).is_some())
        .or_else(|| {
            let (what, name) = if let Some(n) = message.strip_prefix("no such table: ") {
                ("table", n)
            } else if let Some(n) = message.strip_prefix("no such function: ") {
                ("function", n)
            } else {
                return None;
            };
            Some(format!("{what} `{}`", name.trim().to_ascii_lowercase()))
        });
    if let Some(dep) = dep
        && let Some(at) = cx.skipped_at(&dep)
    {
        out.push_str(&format!(" ({dep} was skipped at {at})"));
    }
    out
}

/// `insert`, `update`, `delete`, `with ...`.
pub fn handle(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let tgt = target(st);
    let object = match &tgt {
        Some((verb, t)) if verb == "insert" => format!("insert into `{t}`"),
        Some((verb, t)) if verb == "delete" => format!("delete from `{t}`"),
        Some((verb, t)) => format!("{verb} `{t}`"),
        None => format!("`{}` statement", st.word(0)),
    };
    if st.word(0) == "truncate" {
        let t = tgt.as_ref().map(|(_, t)| t.clone()).unwrap_or_default();
        let sql = format!("DELETE FROM {}", Tok::QIdent(t).sql());
        return finish(cx, st, object, &sql, None);
    }
    // Writes go through the typed translator (a value takes its column's type, casts keep
    // Postgres's meaning); a form or construct it does not handle keeps the token rewrite when
    // that drops nothing (see `rewrite_drops`), else the statement is refused.
    let typed = if matches!(st.word(0).as_str(), "insert" | "update" | "delete") {
        let body = super::dispatch::qualify_schemas(&st.toks, &cx.db.catalog.schemas);
        crate::pgexpr::translate_query(&render(&body), &cx.db.typed_env(None)).ok()
    } else {
        None
    };
    let t = match typed {
        Some((sql, _)) => super::lex::tokenize(&sql)?,
        // The token rewrite drops casts: only a statement without them may fall back to it;
        // one with them is not run (never a different value than Postgres would write).
        None => match super::columns::rewrite_drops(&st.toks) {
            Some(what) => {
                cx.error(
                    st,
                    object,
                    format!(
                        "the typed translator does not handle this statement and the mock's \
                         fallback would drop {what}, writing different values than Postgres; \
                         the statement is not run and the rows it would write are missing"
                    ),
                    None,
                );
                return Ok(());
            }
            None => rewrite(&st.toks)?,
        },
    };
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
    let table = tgt.map(|(_, t)| t);
    if st.word(0) == "insert"
        && let Some(t) = &table
    {
        out = positional_columns(cx, t, out);
        out = array_values(cx, t, out);
    }
    // `overriding system value`: explicit values of `generated always` identity columns are
    // accepted for this statement (`super::identity`).
    let system = (st.toks.windows(2)).any(|w| w[0].is("overriding") && w[1].is("system"));
    if system {
        let _ = cx.db.execute_batch("SELECT pg_seq_override(1)");
    }
    let r = finish(cx, st, object, &render(&out), table.as_deref());
    if system {
        let _ = cx.db.execute_batch("SELECT pg_seq_override(0)");
    }
    r
}

/// `insert into t values (...)` without a column list and with fewer values than `t` has
/// columns: Postgres fills the first columns in order and the rest take their defaults, so the
/// statement gets the list of those first columns (SQLite would refuse it).
fn positional_columns(cx: &Ctx<'_>, table: &str, toks: Vec<Tok>) -> Vec<Tok> {
    let Some(vpos) = toks.iter().position(|t| t.is("values")) else {
        return toks;
    };
    if vpos == 0 || toks[vpos - 1].is_p(")") || toks[vpos - 1].is("default") {
        return toks;
    }
    let Some(open) = toks.get(vpos + 1).filter(|t| t.is_p("(")).map(|_| vpos + 1) else {
        return toks;
    };
    let Some(close) = matching(&toks, open) else {
        return toks;
    };
    let n = split_top_nonempty(&toks[open + 1..close]).len();
    let names: Vec<String> = cx
        .db
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
        .and_then(|mut q| {
            q.query_map([table], |r| r.get(0))?
                .collect::<Result<_, _>>()
        })
        .unwrap_or_default();
    if n == 0 || n >= names.len() {
        return toks;
    }
    let mut out = toks[..vpos].to_vec();
    out.push(Tok::Punct("(".into()));
    for (k, name) in names.iter().take(n).enumerate() {
        if k > 0 {
            out.push(Tok::Punct(",".into()));
        }
        out.push(Tok::QIdent(name.clone()));
    }
    out.push(Tok::Punct(")".into()));
    out.extend(toks[vpos..].iter().cloned());
    out
}

/// In `insert into t [(cols)] values (...), ...`, Postgres array literals (`'{a,b}'`) bound for
/// array columns become JSON arrays (how the mock stores arrays).
fn array_values(cx: &Ctx<'_>, table: &str, toks: Vec<Tok>) -> Vec<Tok> {
    let decls: Vec<(String, String)> = cx
        .db
        .prepare("SELECT name, type FROM pragma_table_info(?1)")
        .and_then(|mut q| {
            q.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()
        })
        .unwrap_or_default();
    if !decls.iter().any(|(_, d)| d.ends_with("[]")) {
        return toks;
    }
    let Some(vpos) = toks.iter().position(|t| t.is("values")) else {
        return toks;
    };
    // The column list, if any: the parenthesised names right before `values`.
    let cols: Vec<String> = match toks[..vpos].iter().rposition(|t| t.is_p("(")) {
        Some(open) if toks[vpos - 1].is_p(")") => split_top_nonempty(&toks[open + 1..vpos - 1])
            .iter()
            .filter_map(|c| c.first().and_then(Tok::name))
            .collect(),
        _ => decls.iter().map(|(n, _)| n.clone()).collect(),
    };
    let array_decl: Vec<Option<&str>> = cols
        .iter()
        .map(|c| {
            decls
                .iter()
                .find(|(n, d)| n == c && d.ends_with("[]"))
                .map(|(_, d)| d.as_str())
        })
        .collect();
    let mut out = toks[..=vpos].to_vec();
    let mut i = vpos + 1;
    while i < toks.len() {
        if toks[i].is_p("(")
            && let Some(close) = matching(&toks, i)
        {
            out.push(toks[i].clone());
            for (k, item) in split_top_nonempty(&toks[i + 1..close])
                .into_iter()
                .enumerate()
            {
                if k > 0 {
                    out.push(Tok::Punct(",".into()));
                }
                if let Some(Some(decl)) = array_decl.get(k)
                    && item.len() == 1
                {
                    out.extend(
                        item.into_iter()
                            .map(|t| array_literal_to_json_typed(t, decl)),
                    );
                } else {
                    out.extend(item);
                }
            }
            out.push(toks[close].clone());
            i = close + 1;
            continue;
        }
        out.push(toks[i].clone());
        i += 1;
    }
    out
}

fn finish(
    cx: &mut Ctx<'_>,
    st: &Stmt,
    object: String,
    sql: &str,
    table: Option<&str>,
) -> Result<(), String> {
    match cx.run_write(sql) {
        Ok(()) => cx.translated(st, object, ""),
        Err(mut e) => {
            if let Some(t) = table {
                e.message = e
                    .message
                    .replace("on table \"\"", &format!("on table \"{t}\""));
            }
            let why = consequence(cx, &e.message, table);
            cx.error(
                st,
                object,
                format!("{why}; the rows it would write are missing"),
                Some(e),
            );
        }
    }
    Ok(())
}

/// Functions a `select` may call without writing anything the mock models.
const HARMLESS: &[&str] = &["set_config", "pg_catalog"];

/// `select ...`: run in SQLite (a seed's `select f(...)` writes through `f`); when it cannot
/// run, that is an error: whatever it writes is missing.
pub fn select(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    if st
        .toks
        .get(1)
        .is_some_and(|t| t.name().is_some_and(|n| HARMLESS.contains(&n.as_str())))
    {
        cx.accepted(
            st,
            "`select set_config(...)`",
            "session settings only matter to Postgres",
        );
        return Ok(());
    }
    let t = rewrite(&st.toks)?;
    match cx.run(&render(&t), false) {
        Ok(()) => cx.translated(st, "`select` statement", "run; its result is discarded"),
        Err(e) => {
            let why = consequence(cx, &e.message, None);
            cx.error(
                st,
                "`select` statement",
                format!("{why}; whatever it writes is missing"),
                Some(e),
            );
        }
    }
    Ok(())
}
