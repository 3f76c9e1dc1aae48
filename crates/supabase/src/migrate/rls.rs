//! Row level security, policies and grants: the dispatcher's handler, applying them through
//! [`crate::rls::stmt`] and reporting what each one means for requests.

use super::dispatch::{Ctx, Kind, Mode, SqlFail, Stmt, display_name, name_index, qualified_name};
use super::report::Outcome;
use crate::migrate::lex::Tok;

/// The object a statement is about, as the report names it.
fn object(st: &Stmt) -> String {
    let on_table = || {
        st.toks
            .iter()
            .position(|t| t.is("on"))
            .and_then(|i| qualified_name(&st.toks, i + 1))
            .map(|(s, n, _)| display_name(&s, &n))
            .unwrap_or_default()
    };
    match st.kind {
        Kind::TableRls => {
            let t = qualified_name(&st.toks, name_index(st, "table"))
                .map(|(s, n, _)| display_name(&s, &n))
                .unwrap_or_default();
            format!("row level security on `{t}`")
        }
        Kind::CreatePolicy | Kind::AlterPolicy | Kind::DropPolicy => {
            let name = st
                .toks
                .get(name_index(st, "policy"))
                .and_then(Tok::name)
                .unwrap_or_default();
            format!("policy `{name}` on `{}`", on_table())
        }
        _ => format!("`{}`", st.head()),
    }
}

/// `alter table ... row level security`, `create|alter|drop policy`, `grant`, `revoke`.
pub fn handle(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let obj = object(st);
    if cx.mode == Mode::Replay {
        cx.emulated(st, obj, "kept in the database");
        return Ok(());
    }
    match crate::rls::stmt::apply_tokens(cx.db, &st.toks) {
        Err(message) => {
            let code = crate::rls::stmt::error_code(&message).to_string();
            cx.record(
                st,
                Outcome::Skipped,
                obj,
                format!("not applied: {message}"),
                Some(SqlFail { code, message }),
            );
        }
        Ok(out) if !out.warnings.is_empty() => cx.skipped(st, obj, out.warnings.join("; ")),
        Ok(out) if out.noop => cx.accepted(st, obj, out.notes.join("; ")),
        Ok(out) => {
            let mut note = match st.kind {
                Kind::Grant | Kind::Revoke => "privileges of anon, authenticated and service_role",
                _ => "enforced for anon and authenticated requests (service_role bypasses RLS)",
            }
            .to_string();
            for n in out.notes {
                note.push_str("; ");
                note.push_str(&n);
            }
            cx.emulated(st, obj, note);
        }
    }
    Ok(())
}
