//! `create table` and `drop table|index|view|type|...`.

use super::dispatch::{Ctx, Stmt, display_name, name_index, qualified_name};
use super::lex::render;
use super::translate::{create_table, rewrite};

/// `create table`: translated to SQLite; when it cannot be, the table is skipped and its REST
/// path answers PGRST205 (inserts into it later are errors naming this skip). Identity and
/// serial columns that are not the primary key get their sequences ([`super::identity`]) in
/// the same savepoint; the project's functions called by its expressions are inlined
/// ([`super::genfn`]).
pub fn create(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let i = name_index(st, "table");
    let (schema, name, _) = qualified_name(&st.toks, i).ok_or("expected a table name")?;
    let shown = display_name(&schema, &name);
    let object = format!("table `{shown}`");
    let consequence = format!("`/rest/v1/{name}` answers PGRST205");
    super::columns::take_dropped_defaults();
    super::columns::take_identities();
    let fns = super::genfn::ProjectFns::load(cx.db);
    let made = create_table(&st.toks, &cx.db.catalog, Some(&fns));
    let identities = super::columns::take_identities();
    let made = made.map(|sql| match identities.is_empty() {
        true => sql,
        false => {
            let table = super::lex::tokenize(&sql)
                .ok()
                .and_then(|t| {
                    let open = t.iter().position(|x| x.is_p("("))?;
                    t.get(..open)?.last()?.name()
                })
                .unwrap_or_default();
            format!(
                "{sql};\n{}",
                super::identity::setup_sql(&table, &identities)
            )
        }
    });
    // Defaults the mock cannot store faithfully: the table loads without them, each a warning.
    let dropped = super::columns::take_dropped_defaults();
    match made {
        Ok(sql) => match cx.run(&sql, true) {
            Ok(()) => {
                cx.translated(st, object, "");
                for (col, why) in dropped {
                    cx.skipped(
                        st,
                        format!("default of `{shown}.{col}`"),
                        format!("{why}; the column has no default (an insert that omits it stores null, or fails its not null)"),
                    );
                }
            }
            Err(e) => cx.skipped(st, object, format!("{consequence} ({})", e.message)),
        },
        Err(reason) => cx.skipped(st, object, format!("{consequence} ({reason})")),
    }
    Ok(())
}

/// `drop table|index|view|...`: run in SQLite where the object exists there; dropping what
/// the mock never created (types, schemas, extensions, sequences) is accepted.
pub fn drop(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let what = st.word(1);
    let what = if what == "materialized" {
        "view".to_string()
    } else {
        what
    };
    let object = {
        let i = name_index(st, &what);
        match qualified_name(&st.toks, i) {
            Some((s, n, _)) => format!("drop {what} `{}`", display_name(&s, &n)),
            None => format!("drop {what}"),
        }
    };
    if !matches!(what.as_str(), "table" | "index" | "view") {
        cx.accepted(st, object, "the mock keeps no such object in SQLite");
        return Ok(());
    }
    let t: Vec<_> = rewrite(&st.toks)?
        .into_iter()
        .filter(|t| !t.is("cascade") && !t.is("restrict") && !t.is("materialized"))
        .collect();
    match cx.run(&render(&t), true) {
        Ok(()) => {
            if what == "table"
                && let Some((_, name, _)) = qualified_name(&st.toks, name_index(st, &what))
            {
                // The table's sequences go with it (none: `_edgesim_sequences` may not exist).
                let _ = cx.db.execute(super::identity::FORGET_SQL, [name]);
            }
            cx.translated(st, object, "")
        }
        Err(e) => cx.skipped(
            st,
            object,
            format!("{}; the object is still there", e.message),
        ),
    }
    Ok(())
}
