//! The write path: every INSERT, UPDATE and DELETE (PostgREST writes, migrations, the seed,
//! `Supabase::execute`, function bodies) runs here. On a table without triggers the statement
//! runs as is; on a table with row-level triggers it runs row by row, the way Postgres does:
//! for each row the BEFORE triggers (in name order) see and may change `NEW` or skip the row
//! (`return null`), the row is written, and the AFTER triggers run at the end of the statement,
//! in row order. Everything stays inside the caller's transaction, so an error in a trigger rolls
//! the whole statement back (and no Database Webhook fires, since those are built after commit).

mod fired;
mod rows;

use super::def::{Timing, qualified};
use super::exec::{Row, fire, when_holds};
use crate::db::Db;
use crate::errors::ApiError;
use crate::migrate::lex::{Tok, render, tokenize};
use crate::sql::ident;
use crate::sqlerr::pg;
use fired::Fired;
use rows::{columns, existing_row, pk_columns, query_all, read_row, upsert_result};
use rusqlite::types::Value;

/// Called with each row a statement's RETURNING clause produces.
pub type OnRow<'a> = &'a mut dyn FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<()>;
/// Maps a SQLite error to the error the caller reports.
pub type MapErr<'a> = &'a dyn Fn(&rusqlite::Error) -> ApiError;

/// Runs one statement as is: rows go to `on_row`; returns the rows returned or changed.
fn run_plain(
    db: &Db,
    sql: &str,
    params: &[Value],
    on_row: &mut Option<OnRow<'_>>,
    map: MapErr<'_>,
) -> Result<usize, ApiError> {
    let mut st = db.prepare(sql).map_err(|e| map(&e))?;
    let used = st.parameter_count().min(params.len());
    let p = rusqlite::params_from_iter(params[..used].iter());
    if st.column_count() == 0 {
        return st.execute(p).map_err(|e| map(&e));
    }
    let mut rows = st.query(p).map_err(|e| map(&e))?;
    let mut n = 0;
    while let Some(r) = rows.next().map_err(|e| map(&e))? {
        if let Some(cb) = on_row.as_mut() {
            cb(r).map_err(|e| map(&e))?;
        }
        n += 1;
    }
    Ok(n)
}

/// The table an INSERT/UPDATE/DELETE writes: its registry key, SQL reference and alias.
struct Target {
    key: String,
    sql: String,
    /// Index after the table name (and alias).
    end: usize,
}

fn target(t: &[Tok], i: usize) -> Option<Target> {
    let mut i = i;
    if t.get(i).is_some_and(|x| x.is("only")) {
        i += 1;
    }
    let (key, mut end) = qualified(t, i)?;
    let sql = render(&t[i..end]);
    if t.get(end).is_some_and(|x| x.is("as")) {
        end += 2;
    } else if t.get(end).is_some_and(|x| {
        matches!(x, Tok::Word(_))
            && ![
                "set",
                "where",
                "returning",
                "using",
                "values",
                "select",
                "default",
                "on",
                "with",
            ]
            .iter()
            .any(|k| x.is(k))
    }) {
        end += 1;
    }
    Some(Target { key, sql, end })
}

/// The statement's table key when it is an INSERT/UPDATE/DELETE.
fn write_target(t: &[Tok]) -> Option<(String, Target)> {
    let first = t.first()?;
    let kind = first.name()?;
    let tg = match kind.as_str() {
        "insert" => {
            let into = t.iter().position(|x| x.is("into"))?;
            target(t, into + 1)?
        }
        "update" => target(t, 1)?,
        "delete" => {
            if !t.get(1).is_some_and(|x| x.is("from")) {
                return None;
            }
            target(t, 2)?
        }
        _ => return None,
    };
    Some((kind, tg))
}

/// Numbers anonymous `?` parameters (`?1`, `?2`, ...) and joins `?` `N` into `?N`.
fn number_params(toks: Vec<Tok>) -> Vec<Tok> {
    let mut out = Vec::with_capacity(toks.len());
    let mut next = 0;
    let mut it = toks.into_iter().peekable();
    while let Some(t) = it.next() {
        if t.is_p("?") {
            if let Some(Tok::Num(n)) = it.peek() {
                let w = format!("?{n}");
                it.next();
                out.push(Tok::Word(w));
            } else {
                next += 1;
                out.push(Tok::Word(format!("?{next}")));
            }
        } else {
            out.push(t);
        }
    }
    out
}

/// Index of the first top-level keyword among `kws` at or after `from`.
fn top_kw(t: &[Tok], from: usize, kws: &[&str]) -> Option<usize> {
    let mut depth = 0;
    for (j, x) in t.iter().enumerate().skip(from) {
        if x.is_p("(") {
            depth += 1;
        } else if x.is_p(")") {
            depth -= 1;
        } else if depth == 0 && kws.iter().any(|k| x.is(k)) {
            return Some(j);
        }
    }
    None
}

/// Runs one INSERT/UPDATE/DELETE (or any other statement, as is). `params` are the values of
/// its `?`/`?N` placeholders; RETURNING rows go to `on_row`. Returns the rows returned or
/// changed.
pub fn execute(
    db: &Db,
    sql: &str,
    params: &[Value],
    on_row: Option<OnRow<'_>>,
    map: MapErr<'_>,
    depth: usize,
) -> Result<usize, ApiError> {
    let mut on_row = on_row;
    if db.routines.triggers.is_empty() {
        return run_plain(db, sql, params, &mut on_row, map);
    }
    let Ok(toks) = tokenize(sql) else {
        return run_plain(db, sql, params, &mut on_row, map);
    };
    let Some((kind, tg)) = write_target(&toks) else {
        return run_plain(db, sql, params, &mut on_row, map);
    };
    let cascades = if kind == "delete" {
        super::cascade::keys_to_run(db, &tg.key)
    } else {
        Vec::new()
    };
    let triggers = db
        .routines
        .triggers
        .get(&tg.key)
        .cloned()
        .unwrap_or_default();
    if triggers.is_empty() && cascades.is_empty() {
        return run_plain(db, sql, params, &mut on_row, map);
    }
    let t = number_params(toks);
    let fired = Fired {
        db,
        triggers,
        depth,
    };
    let unsupported = |what: &str| {
        pg(
            "0A000",
            format!(
                "{what} on table {} (which has triggers) is not supported by the mock",
                tg.key
            ),
        )
    };
    if t.iter().any(|x| x.is("with")) && t.first().is_some_and(|x| x.is("with")) {
        return Err(unsupported("a WITH query writing"));
    }
    let cols = columns(db, &tg, map)?;
    let names: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
    let all_cols = names
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let ret_at = top_kw(&t, tg.end, &["returning"]);
    let returning = ret_at.map(|r| render(&t[r..])).unwrap_or_default();
    let mut params: Vec<Value> = params.to_vec();
    let base = params.len();
    let mut events = Vec::new();
    let mut n = 0;
    // The statement-level triggers this statement fires (and the columns an UPDATE sets).
    let mut stmt_ops: Vec<&str> = Vec::new();
    let mut stmt_set_cols: Vec<String> = Vec::new();
    match kind.as_str() {
        "insert" => {
            if t.get(1).is_some_and(|x| x.is("or")) {
                return Err(unsupported("INSERT OR ..."));
            }
            let mut i = tg.end;
            let mut given: Vec<String> = names.clone();
            if t.get(i).is_some_and(|x| x.is_p("(")) {
                let close = super::def_close(&t, i).ok_or_else(|| unsupported("this INSERT"))?;
                given = crate::migrate::lex::split_top(&t[i + 1..close])
                    .iter()
                    .filter_map(|c| c.first().and_then(Tok::name))
                    .collect();
                i = close + 1;
            }
            let conflict_at =
                top_kw(&t, i, &["on"]).filter(|&k| t.get(k + 1).is_some_and(|x| x.is("conflict")));
            let src_end = conflict_at.or(ret_at).unwrap_or(t.len());
            let conflict = conflict_at
                .map(|c| render(&t[c..ret_at.unwrap_or(t.len())]))
                .unwrap_or_default();
            let source: Vec<Vec<Value>> = if t.get(i).is_some_and(|x| x.is("default")) {
                given.clear();
                vec![Vec::new()]
            } else {
                query_all(db, &render(&t[i..src_end]), &params, map)?
            };
            // Conflict target columns (default: the primary key).
            let target_cols: Vec<String> = match conflict_at {
                Some(c) if t.get(c + 2).is_some_and(|x| x.is_p("(")) => {
                    let close = super::def_close(&t, c + 2).unwrap_or(c + 2);
                    t[c + 3..close].iter().filter_map(Tok::name).collect()
                }
                _ => Vec::new(),
            };
            let do_nothing = conflict_at.is_some() && t.iter().any(|x| x.is("nothing"));
            stmt_ops.push("INSERT");
            if conflict_at.is_some() && !do_nothing {
                stmt_ops.push("UPDATE");
                stmt_set_cols = names.clone();
            }
            fired.statement(Timing::Before, &stmt_ops, &stmt_set_cols)?;
            for vals in source {
                let mut new = Row {
                    cols: names.clone(),
                    vals: Vec::with_capacity(names.len()),
                };
                for c in &cols {
                    let v = match given.iter().position(|g| g == &c.name) {
                        Some(k) => vals.get(k).cloned().unwrap_or(Value::Null),
                        None => match &c.default {
                            Some(d) => query_all(db, &format!("SELECT ({d})"), &[], map)?
                                .into_iter()
                                .next()
                                .and_then(|r| r.into_iter().next())
                                .unwrap_or(Value::Null),
                            None => Value::Null,
                        },
                    };
                    new.vals.push(v);
                }
                let Some(Some(new)) = fired.before("INSERT", &[], None, Some(new))? else {
                    continue;
                };
                // An upsert that hits an existing row is an UPDATE of that row.
                let existing = if conflict_at.is_some() {
                    let key_cols = if target_cols.is_empty() {
                        pk_columns(db, &tg, map)?
                    } else {
                        target_cols.clone()
                    };
                    existing_row(db, &tg, &names, &key_cols, &new, map)?
                } else {
                    None
                };
                let mut p = params.clone();
                p.truncate(base);
                let marks: Vec<String> = (0..names.len())
                    .map(|k| format!("?{}", base + k + 1))
                    .collect();
                p.extend(new.vals.iter().cloned());
                let insert = format!(
                    "INSERT INTO {} ({all_cols}) VALUES ({}) {conflict}",
                    tg.sql,
                    marks.join(", ")
                );
                if let Some((rowid, old)) = existing.as_ref().filter(|_| !do_nothing) {
                    // Postgres: the conflicting row is updated as DO UPDATE says, through the
                    // BEFORE UPDATE triggers (after the BEFORE INSERT ones), then AFTER UPDATE.
                    let Some(proposed) = upsert_result(db, &tg, &names, &insert, &p, *rowid, map)?
                    else {
                        continue;
                    };
                    let Some(Some(new)) =
                        fired.before("UPDATE", &names, Some(old), Some(proposed))?
                    else {
                        continue;
                    };
                    let mut p = params.clone();
                    p.truncate(base);
                    p.extend(new.vals.iter().cloned());
                    p.push(Value::Integer(*rowid));
                    let sets: Vec<String> = names
                        .iter()
                        .enumerate()
                        .map(|(k, c)| format!("{} = ?{}", ident(c), base + k + 1))
                        .collect();
                    let s = format!(
                        "UPDATE {} SET {} WHERE rowid = ?{} {returning}",
                        tg.sql,
                        sets.join(", "),
                        base + names.len() + 1
                    );
                    let k = run_plain(db, &s, &p, &mut on_row, map)?;
                    n += if returning.is_empty() { 1 } else { k };
                    let after = read_row(db, &tg, &names, *rowid, map)?;
                    events.push((
                        "UPDATE".to_string(),
                        names.clone(),
                        Some(old.clone()),
                        after,
                    ));
                    continue;
                }
                let s = format!("{insert} {returning}");
                let before_changes = db.total_changes();
                let k = run_plain(db, &s, &p, &mut on_row, map)?;
                let changed = db.total_changes() != before_changes;
                n += if returning.is_empty() {
                    usize::from(changed)
                } else {
                    k
                };
                if !changed {
                    continue;
                }
                match existing {
                    Some(_) => {}
                    None => {
                        let rowid = db.last_insert_rowid();
                        let after = read_row(db, &tg, &names, rowid, map)?;
                        events.push(("INSERT".to_string(), Vec::new(), None, after));
                    }
                }
            }
        }
        "update" => {
            let set_at = top_kw(&t, tg.end, &["set"]).ok_or_else(|| unsupported("this UPDATE"))?;
            if top_kw(&t, set_at, &["from"]).is_some() {
                return Err(unsupported("UPDATE ... FROM"));
            }
            let where_at = top_kw(&t, set_at, &["where"]);
            let set_end = where_at.or(ret_at).unwrap_or(t.len());
            let mut set_cols = Vec::new();
            let mut exprs = Vec::new();
            for a in crate::migrate::lex::split_top(&t[set_at + 1..set_end]) {
                let col = a
                    .first()
                    .and_then(Tok::name)
                    .filter(|_| a.get(1).is_some_and(|x| x.is_p("=")));
                let Some(col) = col else {
                    return Err(unsupported("this SET form"));
                };
                set_cols.push(col);
                exprs.push(format!("({})", render(&a[2..])));
            }
            stmt_ops.push("UPDATE");
            stmt_set_cols = set_cols.clone();
            fired.statement(Timing::Before, &stmt_ops, &stmt_set_cols)?;
            let cond = where_at
                .map(|w| render(&t[w..ret_at.unwrap_or(t.len())]))
                .unwrap_or_default();
            let sel = format!(
                "SELECT rowid, {all_cols}{}{} FROM {} {cond}",
                if exprs.is_empty() { "" } else { ", " },
                exprs.join(", "),
                render(&t[1..tg.end])
                    .trim_start_matches("ONLY ")
                    .trim_start_matches("only "),
            );
            let rows = query_all(db, &sel, &params, map)?;
            for vals in rows {
                let rowid = match vals.first() {
                    Some(Value::Integer(r)) => *r,
                    _ => continue,
                };
                let old = Row {
                    cols: names.clone(),
                    vals: vals[1..1 + names.len()].to_vec(),
                };
                let mut new = old.clone();
                for (c, v) in set_cols.iter().zip(&vals[1 + names.len()..]) {
                    new.set(c, v.clone());
                }
                let Some(Some(new)) = fired.before("UPDATE", &set_cols, Some(&old), Some(new))?
                else {
                    continue;
                };
                let mut p = params.clone();
                p.truncate(base);
                let sets: Vec<String> = names
                    .iter()
                    .enumerate()
                    .map(|(k, c)| format!("{} = ?{}", ident(c), base + k + 1))
                    .collect();
                p.extend(new.vals.iter().cloned());
                p.push(Value::Integer(rowid));
                let s = format!(
                    "UPDATE {} SET {} WHERE rowid = ?{} {returning}",
                    tg.sql,
                    sets.join(", "),
                    base + names.len() + 1
                );
                let k = run_plain(db, &s, &p, &mut on_row, map)?;
                n += k;
                let after = read_row(db, &tg, &names, rowid, map)?;
                events.push(("UPDATE".to_string(), set_cols.clone(), Some(old), after));
            }
        }
        _ => {
            if top_kw(&t, tg.end, &["using"]).is_some() {
                return Err(unsupported("DELETE ... USING"));
            }
            let where_at = top_kw(&t, tg.end, &["where"]);
            let cond = where_at
                .map(|w| render(&t[w..ret_at.unwrap_or(t.len())]))
                .unwrap_or_default();
            stmt_ops.push("DELETE");
            fired.statement(Timing::Before, &stmt_ops, &[])?;
            let sel = format!(
                "SELECT rowid, {all_cols} FROM {} {cond}",
                render(&t[2..tg.end])
                    .trim_start_matches("ONLY ")
                    .trim_start_matches("only ")
            );
            let rows = query_all(db, &sel, &params, map)?;
            for vals in rows {
                let rowid = match vals.first() {
                    Some(Value::Integer(r)) => *r,
                    _ => continue,
                };
                let old = Row {
                    cols: names.clone(),
                    vals: vals[1..].to_vec(),
                };
                // A BEFORE DELETE trigger skips the row by returning NULL.
                let mut skip = false;
                for tr in fired.matching(Timing::Before, "DELETE", &[]) {
                    if let Some(w) = &tr.when
                        && !when_holds(db, &tr.table, w, Some(&old), None)?
                    {
                        continue;
                    }
                    let f = fired.function(&tr)?;
                    if fire(db, &tr, &f, "DELETE", Some(&old), None, depth)?.is_none() {
                        skip = true;
                        break;
                    }
                }
                if skip {
                    continue;
                }
                // Referential actions whose child rows have triggers run as statements of
                // their own (as Postgres's RI triggers do), before SQLite would apply them.
                for k in &cascades {
                    let vals = k
                        .cols
                        .iter()
                        .map(|(_, pc)| old.get(pc).cloned().unwrap_or(Value::Null))
                        .collect();
                    let (s, p) = super::cascade::statement(k, vals);
                    execute(db, &s, &p, None, map, depth + 1)?;
                }
                params.truncate(base);
                params.push(Value::Integer(rowid));
                let s = format!(
                    "DELETE FROM {} WHERE rowid = ?{} {returning}",
                    tg.sql,
                    base + 1
                );
                n += run_plain(db, &s, &params, &mut on_row, map)?;
                events.push(("DELETE".to_string(), Vec::new(), Some(old), None));
            }
        }
    }
    fired.after(&events)?;
    fired.statement(Timing::After, &stmt_ops, &stmt_set_cols)?;
    Ok(n)
}
