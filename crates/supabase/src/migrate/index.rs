//! `create [unique] index`: translated to a plain SQLite index.

use super::dispatch::{Ctx, Stmt, name_index};
use super::translate::create_index;

/// Handles one `create index` statement.
pub fn handle(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let i = name_index(st, "index");
    let name = st
        .toks
        .get(i)
        .filter(|t| !t.is("on") && !t.is("concurrently"))
        .and_then(|t| t.name())
        .unwrap_or_else(|| "(unnamed)".into());
    let object = format!("index `{name}`");
    let unique = st.toks.iter().take(3).any(|t| t.is("unique"));
    let consequence = if unique {
        "its uniqueness is not enforced"
    } else {
        "queries are unaffected (only unindexed)"
    };
    let sql = match create_index(&st.toks) {
        Ok(sql) => sql,
        Err(reason) => {
            cx.skipped(st, object, format!("{consequence} ({reason})"));
            return Ok(());
        }
    };
    let method = st
        .toks
        .iter()
        .position(|t| t.is("using"))
        .and_then(|u| st.toks.get(u + 1))
        .and_then(|t| t.name())
        .filter(|m| m != "btree");
    let note = method
        .map(|m| format!("using {m}: a plain SQLite index (its operators are not indexed)"))
        .unwrap_or_default();
    match cx.run(&sql, true) {
        Ok(()) => cx.translated(st, object, note),
        Err(e) => cx.skipped(st, object, format!("{consequence} ({})", e.message)),
    }
    Ok(())
}
