//! Statement kinds the mock does not emulate yet: each is skipped with a warning naming the
//! consequence (or accepted, where nothing observable changes). A feature that emulates one
//! gets its own module and replaces its line in `dispatch::dispatch`.

use super::dispatch::{Ctx, Stmt, display_name, name_index, qualified_name};

fn name_at(st: &Stmt, keyword: &str) -> String {
    qualified_name(&st.toks, name_index(st, keyword))
        .map(|(s, n, _)| display_name(&s, &n))
        .unwrap_or_default()
}

/// The table after the first `on` (policies, triggers, grants).
fn on_table(st: &Stmt) -> String {
    st.toks
        .iter()
        .position(|t| t.is("on"))
        .map(|i| i + 1 + usize::from(st.toks.get(i + 1).is_some_and(|t| t.is("table"))))
        .and_then(|i| qualified_name(&st.toks, i))
        .map(|(s, n, _)| display_name(&s, &n))
        .unwrap_or_default()
}

/// `create function|procedure` and `drop function`.
pub fn function(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let kw = if st.toks.iter().take(4).any(|t| t.is("procedure")) {
        "procedure"
    } else {
        "function"
    };
    let name = name_at(st, kw);
    if st.word(0) == "drop" {
        cx.accepted(
            st,
            format!("drop {kw} `{name}`"),
            "the mock keeps no functions",
        );
        return Ok(());
    }
    cx.skipped(
        st,
        format!("function `{name}`"),
        format!("`rpc/{name}` answers PGRST202 and triggers calling it do not run"),
    );
    Ok(())
}

/// Triggers other than Database Webhooks.
pub fn trigger(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let name = name_at(st, "trigger");
    let t = on_table(st);
    cx.skipped(
        st,
        format!("trigger `{name}` on `{t}`"),
        format!("writes to `{t}` do not run it"),
    );
    Ok(())
}

/// `drop trigger name on t`: drops a Database Webhook of that name.
pub fn drop_trigger(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let name = name_at(st, "trigger");
    let t = on_table(st);
    let object = format!("drop trigger `{name}` on `{t}`");
    let before = cx.hooks.len();
    cx.hooks.retain(|h| h.name != name);
    if cx.hooks.len() < before {
        cx.emulated(st, object, "the Database Webhook is removed");
    } else {
        cx.accepted(st, object, "no such trigger is emulated");
    }
    Ok(())
}

/// `do` blocks and `call`: not run. When the body writes rows, that is an error.
pub fn do_block(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let writes = st.toks.iter().any(|t| {
        t.dollar_body().is_some_and(|b| {
            let b = b.to_ascii_lowercase();
            ["insert ", "update ", "delete ", "perform "]
                .iter()
                .any(|k| b.contains(k))
        })
    }) || st.word(0) == "call";
    let object = format!("`{}` block", st.word(0));
    if writes {
        cx.error(
            st,
            object,
            "not run (plpgsql is not emulated); the rows it would write are missing",
            None,
        );
    } else {
        cx.skipped(st, object, "not run (plpgsql is not emulated)");
    }
    Ok(())
}
