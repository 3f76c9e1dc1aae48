//! `alter table` (row level security forms are classified apart, as `Kind::TableRls`).

use super::columns::column_def;
use super::dispatch::{Ctx, Stmt, display_name, qualified_name};
use super::lex::{Tok, render};
use super::translate::rewrite;

/// Handles one `alter table` statement.
pub fn handle(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let mut i = 2;
    while st
        .toks
        .get(i)
        .is_some_and(|x| x.is("if") || x.is("exists") || x.is("only"))
    {
        i += 1;
    }
    let (schema, name, j) = qualified_name(&st.toks, i).ok_or("expected a table name")?;
    let table = display_name(&schema, &name);
    let action: Vec<String> = st.toks[j..].iter().take(3).filter_map(Tok::name).collect();
    let a = |k: usize| action.get(k).map(String::as_str).unwrap_or("");
    let object = format!("alter table `{table}` {}", a(0));
    if matches!(a(0), "owner" | "replica" | "cluster" | "set") && a(1) != "default" {
        cx.accepted(st, object.trim(), "only matters to a Postgres server");
        return Ok(());
    }
    let t = rewrite(&st.toks)?;
    // `rewrite` drops a `public.` prefix: re-find the action after the name.
    let k = j - usize::from(matches!(schema.as_deref(), Some("public" | "extensions"))) * 2;
    let sql = match (a(0), a(1)) {
        ("add", second)
            if !matches!(
                second,
                "constraint" | "primary" | "unique" | "foreign" | "check" | "exclude"
            ) =>
        {
            let mut c = k + 1;
            if t.get(c).is_some_and(|x| x.is("column")) {
                c += 1;
            }
            while t
                .get(c)
                .is_some_and(|x| x.is("if") || x.is("not") || x.is("exists"))
            {
                c += 1;
            }
            let (def, _) = column_def(t.get(c..).unwrap_or_default(), None)?;
            format!(
                "ALTER TABLE {} ADD COLUMN {def}",
                Tok::QIdent(name.clone()).sql()
            )
        }
        ("drop", _) | ("rename", _) => render(&t),
        _ => {
            cx.skipped(
                st,
                object.trim(),
                format!(
                    "this alter table form is not supported by the mock; `{table}` keeps its previous definition"
                ),
            );
            return Ok(());
        }
    };
    match cx.run(&sql, true) {
        Ok(()) => cx.translated(st, object.trim(), ""),
        Err(e) => cx.skipped(
            st,
            object.trim(),
            format!("{}; `{table}` keeps its previous definition", e.message),
        ),
    }
    Ok(())
}
