//! `create [or replace] [materialized] view name [(cols)] [with (...)] as select ...`: a SQLite
//! view, selectable over REST like a table. A materialized view becomes a plain view (always
//! fresh; `refresh materialized view` is accepted). A view whose query SQLite cannot run is
//! skipped.

use super::dispatch::{Ctx, Stmt, display_name, name_index, qualified_name};
use super::lex::{Tok, render};
use super::translate::{matching, rewrite};

/// Handles one `create view`.
pub fn handle(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let t = &st.toks;
    let (s, name, mut i) =
        qualified_name(t, name_index(st, "view")).ok_or("expected a view name")?;
    let shown = display_name(&s, &name);
    let object = format!("view `{shown}`");
    let materialized = t.iter().take(5).any(|x| x.is("materialized"));
    let replace = t.get(1).is_some_and(|x| x.is("or"));
    let mut cols = String::new();
    if t.get(i).is_some_and(|x| x.is_p("(")) {
        let close = matching(t, i).ok_or("unbalanced parentheses")?;
        cols = format!(" {}", render(&t[i..=close]));
        i = close + 1;
    }
    if t.get(i).is_some_and(|x| x.is("with")) && t.get(i + 1).is_some_and(|x| x.is_p("(")) {
        i = matching(t, i + 1).ok_or("unbalanced parentheses")? + 1;
    }
    if !t.get(i).is_some_and(|x| x.is("as")) {
        return Err("expected `as select ...`".into());
    }
    let mut body = &t[i + 1..];
    // Trailing `with [cascaded|local] check option` / `with [no] data`.
    if let Some(w) = body.iter().rposition(|x| x.is("with"))
        && body[w + 1..].iter().all(|x| {
            x.is("check")
                || x.is("option")
                || x.is("cascaded")
                || x.is("local")
                || x.is("data")
                || x.is("no")
        })
    {
        body = &body[..w];
    }
    // The typed translator keeps casts, division and dates as Postgres computes them; a view
    // using a construct it cannot keep faithful is refused (never a different answer). A query
    // `sqlparser` cannot parse keeps the token rewrite.
    let body = super::dispatch::qualify_schemas(body, &cx.db.catalog.schemas);
    let mut types = Vec::new();
    let select = match crate::pgexpr::translate_view(&render(&body), &cx.db.typed_env(None)) {
        Ok((sql, tys)) => {
            types = tys;
            sql
        }
        Err(crate::pgexpr::PgExprError::Parse(_)) => render(&rewrite(&body)?),
        Err(e) => {
            cx.skipped(
                st,
                object,
                format!("`/rest/v1/{name}` answers PGRST205 (its query does not translate: {e})"),
            );
            return Ok(());
        }
    };
    let q = Tok::QIdent(shown.clone()).sql();
    let mut sql = String::new();
    if replace || materialized {
        sql.push_str(&format!("DROP VIEW IF EXISTS {q}; "));
    }
    sql.push_str(&format!("CREATE VIEW {q}{cols} AS {select}; "));
    sql.push_str(&crate::pgexpr::view_types_sql(&shown, &types));
    if let Err(e) = cx.run(&sql, true) {
        cx.skipped(
            st,
            object,
            format!("`/rest/v1/{name}` answers PGRST205 ({})", e.message),
        );
        return Ok(());
    }
    // SQLite resolves tables and functions when the view is used: try it now.
    let probe = if cx.mode == super::dispatch::Mode::Replay {
        Ok(())
    } else {
        cx.db
            .prepare(&format!("SELECT * FROM {q} LIMIT 0"))
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    if let Err(msg) = probe {
        let _ = cx.run(&format!("DROP VIEW IF EXISTS {q}"), true);
        cx.skipped(
            st,
            object,
            format!("`/rest/v1/{name}` answers PGRST205 (its query does not translate: {msg})"),
        );
        return Ok(());
    }
    let note = if materialized {
        "a plain SQLite view (always fresh; refresh is a no-op)"
    } else {
        ""
    };
    cx.translated(st, object, note);
    Ok(())
}
