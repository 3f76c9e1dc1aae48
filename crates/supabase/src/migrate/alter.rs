//! `alter table` (row level security forms are classified apart, as `Kind::TableRls`).

use super::columns::column_def;
use super::dispatch::{Ctx, Stmt, display_name, qualified_name};
use super::lex::{Tok, render};
use super::translate::{matching, rewrite};

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
            let if_not_exists = t.get(c).is_some_and(|x| x.is("if"));
            while t
                .get(c)
                .is_some_and(|x| x.is("if") || x.is("not") || x.is("exists"))
            {
                c += 1;
            }
            let col = t.get(c).and_then(Tok::name).unwrap_or_default();
            if if_not_exists && column_exists(cx, &name, &col) {
                cx.accepted(st, object.trim(), format!("column `{col}` already exists"));
                return Ok(());
            }
            let (def, _) = column_def(t.get(c..).unwrap_or_default(), None, &cx.db.catalog)?;
            format!(
                "ALTER TABLE {} ADD COLUMN {def}",
                Tok::QIdent(name.clone()).sql()
            )
        }
        ("add", _) => return add_constraint(cx, st, &t[k + 1..], &name, &table, &object),
        ("alter", _) => return alter_column(cx, st, &t[k + 1..], &name, &table),
        ("drop", _) => {
            // `drop column|constraint [if exists] x`: SQLite has no `if exists` here.
            let mut d = k + 1;
            let what = t.get(d).and_then(Tok::name).unwrap_or_default();
            if what == "column" || what == "constraint" {
                d += 1;
            }
            let if_exists = t.get(d).is_some_and(|x| x.is("if"));
            if if_exists {
                d += 2;
            }
            let target = t.get(d).and_then(Tok::name).unwrap_or_default();
            if what == "constraint" {
                return drop_constraint(cx, st, &name, &target, &object);
            }
            let exists = cx
                .db
                .prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")
                .and_then(|mut q| q.exists([name.as_str(), target.as_str()]))
                .unwrap_or(false);
            if !exists && if_exists {
                cx.accepted(
                    st,
                    object.trim(),
                    format!("column `{target}` does not exist"),
                );
                return Ok(());
            }
            format!(
                "ALTER TABLE {} DROP COLUMN {}",
                Tok::QIdent(name.clone()).sql(),
                Tok::QIdent(target).sql()
            )
        }
        ("rename", _) => render(&t),
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

fn column_exists(cx: &Ctx<'_>, table: &str, col: &str) -> bool {
    cx.db
        .prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")
        .and_then(|mut q| q.exists([table, col]))
        .unwrap_or(false)
}

/// The name of the trigger emulating constraint `c` of `table`.
fn constraint_trigger(table: &str, c: &str, op: &str) -> String {
    Tok::QIdent(format!("_edgesim_constraint_{table}_{c}_{op}")).sql()
}

/// `add [constraint c] unique (cols)` -> a unique index; `check (expr)` -> triggers raising
/// SQLite's check error (existing rows are validated first, as Postgres does); primary and
/// foreign keys are skipped.
fn add_constraint(
    cx: &mut Ctx<'_>,
    st: &Stmt,
    t: &[Tok],
    name: &str,
    table: &str,
    object: &str,
) -> Result<(), String> {
    let mut i = 0;
    let mut cname = None;
    if t.first().is_some_and(|x| x.is("constraint")) {
        cname = t.get(1).and_then(Tok::name);
        i = 2;
    }
    let kind = t.get(i).and_then(Tok::name).unwrap_or_default();
    let object = match &cname {
        Some(c) => format!("constraint `{c}` on `{table}`"),
        None => object.trim().to_string(),
    };
    let qt = Tok::QIdent(name.to_string()).sql();
    match kind.as_str() {
        "unique" => {
            let open = t[i..].iter().position(|x| x.is_p("(")).ok_or("expected a column list")? + i;
            let close = matching(t, open).ok_or("unbalanced parentheses")?;
            let cname = cname.unwrap_or_else(|| format!("{name}_key"));
            let sql = format!(
                "CREATE UNIQUE INDEX {} ON {qt} {}",
                Tok::QIdent(cname).sql(),
                render(&t[open..=close])
            );
            match cx.run(&sql, true) {
                Ok(()) => cx.translated(st, object, "as a unique index"),
                Err(e) => cx.skipped(st, object, format!("uniqueness is not enforced ({})", e.message)),
            }
        }
        "check" => {
            let open = i + 1;
            let close = matching(t, open).ok_or("unbalanced parentheses")?;
            let expr = render(&t[open + 1..close]);
            let cname = cname.unwrap_or_else(|| format!("{name}_check"));
            let bad: Result<i64, _> = cx.db.query_row(
                &format!("SELECT count(*) FROM {qt} WHERE NOT ({expr})"),
                [],
                |r| r.get(0),
            );
            match bad {
                Ok(0) => {}
                Ok(_) => {
                    cx.error(
                        st,
                        object,
                        format!("check constraint \"{cname}\" of relation \"{table}\" is violated by some row; not added"),
                        None,
                    );
                    return Ok(());
                }
                Err(e) => {
                    cx.skipped(st, object, format!("not enforced: the check does not translate ({e})"));
                    return Ok(());
                }
            }
            let mut sql = String::new();
            for op in ["INSERT", "UPDATE"] {
                let newexpr = format!("NOT ({})", qualify_new(&t[open + 1..close]));
                sql.push_str(&format!(
                    "CREATE TRIGGER {} BEFORE {op} ON {qt} WHEN {newexpr} BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {}'); END; ",
                    constraint_trigger(name, &cname, op),
                    cname.replace('\'', "''")
                ));
            }
            match cx.run(&sql, true) {
                Ok(()) => cx.emulated(st, object, "checked by triggers on insert and update"),
                Err(e) => cx.skipped(st, object, format!("not enforced ({})", e.message)),
            }
        }
        _ => cx.skipped(
            st,
            object,
            format!("adding a {kind} constraint to an existing table is not emulated: it is not enforced"),
        ),
    }
    Ok(())
}

/// Column references in a check expression as `NEW.col` (bare words that are not keywords or
/// function names).
fn qualify_new(expr: &[Tok]) -> String {
    const KEYWORDS: &[&str] = &[
        "and", "or", "not", "null", "is", "in", "between", "like", "ilike", "true", "false",
        "case", "when", "then", "else", "end", "distinct", "from", "glob", "escape", "cast", "as",
    ];
    let out: Vec<Tok> = expr
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let is_call = expr.get(i + 1).is_some_and(|n| n.is_p("("));
            let after_dot = i > 0 && expr[i - 1].is_p(".");
            match t {
                Tok::Word(w)
                    if !is_call
                        && !after_dot
                        && !KEYWORDS.contains(&w.to_ascii_lowercase().as_str()) =>
                {
                    Tok::Word(format!("NEW.{}", Tok::QIdent(w.to_ascii_lowercase()).sql()))
                }
                Tok::QIdent(q) if !is_call && !after_dot => {
                    Tok::Word(format!("NEW.{}", Tok::QIdent(q.clone()).sql()))
                }
                other => other.clone(),
            }
        })
        .collect();
    render(&out)
}

/// `drop constraint [if exists] c`: drops the index or triggers emulating it.
fn drop_constraint(
    cx: &mut Ctx<'_>,
    st: &Stmt,
    table: &str,
    c: &str,
    object: &str,
) -> Result<(), String> {
    let sql = format!(
        "DROP INDEX IF EXISTS {}; DROP TRIGGER IF EXISTS {}; DROP TRIGGER IF EXISTS {};",
        Tok::QIdent(c.to_string()).sql(),
        constraint_trigger(table, c, "INSERT"),
        constraint_trigger(table, c, "UPDATE"),
    );
    match cx.run(&sql, true) {
        Ok(()) => cx.emulated(
            st,
            object.trim(),
            format!("constraint `{c}` dropped where the mock emulates it (unique indexes, added checks); constraints declared in create table stay"),
        ),
        Err(e) => cx.skipped(st, object.trim(), e.message),
    }
    Ok(())
}

/// `alter [column] c set not null | drop not null | set default x | drop default | type t`.
fn alter_column(
    cx: &mut Ctx<'_>,
    st: &Stmt,
    t: &[Tok],
    name: &str,
    table: &str,
) -> Result<(), String> {
    let mut i = 0;
    if t.first().is_some_and(|x| x.is("column")) {
        i = 1;
    }
    let col = t
        .get(i)
        .and_then(Tok::name)
        .ok_or("expected a column name")?;
    let w = |k: usize| t.get(i + k).and_then(Tok::name).unwrap_or_default();
    let object = format!("alter column `{table}.{col}`");
    let qt = Tok::QIdent(name.to_string()).sql();
    let qc = Tok::QIdent(col.clone()).sql();
    match (w(1).as_str(), w(2).as_str()) {
        ("set", "not") => {
            let nulls: i64 = cx
                .db
                .query_row(&format!("SELECT count(*) FROM {qt} WHERE {qc} IS NULL"), [], |r| r.get(0))
                .map_err(|e| e.to_string())?;
            if nulls > 0 {
                cx.error(
                    st,
                    object,
                    format!("column \"{col}\" of relation \"{table}\" contains null values; not null not added"),
                    None,
                );
                return Ok(());
            }
            let mut sql = String::new();
            for op in ["INSERT", "UPDATE"] {
                sql.push_str(&format!(
                    "CREATE TRIGGER {} BEFORE {op} ON {qt} WHEN NEW.{qc} IS NULL BEGIN SELECT RAISE(ABORT, 'NOT NULL constraint failed: {}.{}'); END; ",
                    constraint_trigger(name, &format!("{col}_not_null"), op),
                    name.replace('\'', "''"),
                    col.replace('\'', "''"),
                ));
            }
            match cx.run(&sql, true) {
                Ok(()) => cx.emulated(st, object, "not null checked by triggers on insert and update"),
                Err(e) => cx.skipped(st, object, format!("not null is not enforced ({})", e.message)),
            }
        }
        ("drop", "not") => {
            let sql = format!(
                "DROP TRIGGER IF EXISTS {}; DROP TRIGGER IF EXISTS {};",
                constraint_trigger(name, &format!("{col}_not_null"), "INSERT"),
                constraint_trigger(name, &format!("{col}_not_null"), "UPDATE"),
            );
            let declared: bool = cx
                .db
                .prepare("SELECT \"notnull\" FROM pragma_table_info(?1) WHERE name = ?2")
                .and_then(|mut q| q.query_row([name, col.as_str()], |r| r.get(0)))
                .unwrap_or(false);
            let _ = cx.run(&sql, true);
            if declared {
                cx.skipped(st, object, format!("`{col}` still refuses nulls (declared not null in create table)"));
            } else {
                cx.emulated(st, object, "not null dropped");
            }
        }
        ("set", "default") | ("drop", "default") => cx.skipped(
            st,
            object,
            format!("the default of `{table}.{col}` is unchanged (SQLite cannot alter a column's default)"),
        ),
        ("type", _) | ("set", "data") => cx.skipped(
            st,
            object,
            format!("`{table}.{col}` keeps its type (values are stored as written)"),
        ),
        _ => cx.skipped(st, object, "this alter column form is not emulated"),
    }
    Ok(())
}
