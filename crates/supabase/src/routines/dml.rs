//! The write path: every INSERT, UPDATE and DELETE (PostgREST writes, migrations, the seed,
//! `Supabase::execute`, function bodies) runs here. On a table without triggers the statement
//! runs as is; on a table with row-level triggers it runs row by row, the way Postgres does:
//! for each row the BEFORE triggers (in name order) see and may change `NEW` or skip the row
//! (`return null`), the row is written, and the AFTER triggers run at the end of the statement,
//! in row order. Everything stays inside the caller's transaction, so an error in a trigger rolls
//! the whole statement back (and no Database Webhook fires, since those are built after commit).

use super::def::{Timing, TriggerDef, qualified};
use super::exec::{Row, fire, when_holds};
use crate::db::Db;
use crate::errors::ApiError;
use crate::migrate::lex::{Tok, render, tokenize};
use crate::sql::ident;
use crate::sqlerr::pg;
use rusqlite::types::Value;
use std::sync::Arc;

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
    let mut st = db.conn.prepare(sql).map_err(|e| map(&e))?;
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

/// A column of the written table.
struct Col {
    name: String,
    default: Option<String>,
}

/// The table's name and schema for `pragma_table_info`: a table literally named `auth.users`
/// (how platform-schema tables are stored) first, else an attached schema.
fn table_ref(db: &Db, tg: &Target) -> (Option<String>, String) {
    let exists = db
        .conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [&tg.key],
            |r| r.get::<_, i64>(0),
        )
        .unwrap_or(0)
        > 0;
    match tg.key.split_once('.') {
        Some((s, n)) if !exists => (Some(s.to_string()), n.to_string()),
        _ => (None, tg.key.clone()),
    }
}

fn columns(db: &Db, tg: &Target, map: MapErr<'_>) -> Result<Vec<Col>, ApiError> {
    let (schema, name) = table_ref(db, tg);
    let sql = match &schema {
        Some(_) => "SELECT name, dflt_value FROM pragma_table_info(?1, ?2)",
        None => "SELECT name, dflt_value FROM pragma_table_info(?1)",
    };
    let mut st = db.conn.prepare(sql).map_err(|e| map(&e))?;
    let mut params = vec![Value::Text(name.clone())];
    if let Some(s) = schema {
        params.push(Value::Text(s));
    }
    let cols: Vec<Col> = st
        .query_map(rusqlite::params_from_iter(params.iter()), |r| {
            Ok(Col {
                name: r.get(0)?,
                default: r.get(1)?,
            })
        })
        .map_err(|e| map(&e))?
        .collect::<Result<_, _>>()
        .map_err(|e| map(&e))?;
    if cols.is_empty() {
        // The table may be known to SQLite under its rendered name only (e.g. an attached
        // schema); read its columns from a query.
        let st = db
            .conn
            .prepare(&format!("SELECT * FROM {} LIMIT 0", tg.sql))
            .map_err(|e| map(&e))?;
        return Ok(st
            .column_names()
            .into_iter()
            .map(|n| Col {
                name: n.to_string(),
                default: None,
            })
            .collect());
    }
    Ok(cols)
}

fn query_all(
    db: &Db,
    sql: &str,
    params: &[Value],
    map: MapErr<'_>,
) -> Result<Vec<Vec<Value>>, ApiError> {
    let mut st = db.conn.prepare(sql).map_err(|e| map(&e))?;
    let n = st.column_count();
    let used = st.parameter_count().min(params.len());
    let mut rows = st
        .query(rusqlite::params_from_iter(params[..used].iter()))
        .map_err(|e| map(&e))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(|e| map(&e))? {
        let mut vals = Vec::with_capacity(n);
        for i in 0..n {
            vals.push(Value::from(r.get_ref(i).map_err(|e| map(&e))?));
        }
        out.push(vals);
    }
    Ok(out)
}

/// The triggers of one table, and how to run them.
struct Fired<'a> {
    db: &'a Db,
    triggers: Vec<Arc<TriggerDef>>,
    depth: usize,
}

impl Fired<'_> {
    fn matching(&self, timing: Timing, op: &str, set_cols: &[String]) -> Vec<Arc<TriggerDef>> {
        self.triggers
            .iter()
            .filter(|t| t.for_each_row)
            .filter(|t| t.timing == timing && t.events.iter().any(|e| e == op))
            .filter(|t| {
                op != "UPDATE"
                    || t.update_of.is_empty()
                    || t.update_of.iter().any(|c| set_cols.contains(c))
            })
            .cloned()
            .collect()
    }

    /// Runs the BEFORE triggers; `None` when one of them skipped the row.
    fn before(
        &self,
        op: &str,
        set_cols: &[String],
        old: Option<&Row>,
        new: Option<Row>,
    ) -> Result<Option<Option<Row>>, ApiError> {
        let mut new = new;
        for t in self.matching(Timing::Before, op, set_cols) {
            if let Some(w) = &t.when
                && !when_holds(self.db, w, old, new.as_ref())?
            {
                continue;
            }
            let f = self.function(&t)?;
            let r = fire(self.db, &t, &f, op, old, new.as_ref(), self.depth)?;
            match r {
                None => return Ok(None),
                Some(r) => {
                    if let Some(n) = new.as_mut() {
                        for (c, v) in r.cols.iter().zip(r.vals) {
                            n.set(c, v);
                        }
                    }
                }
            }
        }
        Ok(Some(new))
    }

    #[allow(clippy::type_complexity)]
    fn after(
        &self,
        events: &[(String, Vec<String>, Option<Row>, Option<Row>)],
    ) -> Result<(), ApiError> {
        for (op, set_cols, old, new) in events {
            for t in self.matching(Timing::After, op, set_cols) {
                if let Some(w) = &t.when
                    && !when_holds(self.db, w, old.as_ref(), new.as_ref())?
                {
                    continue;
                }
                let f = self.function(&t)?;
                fire(self.db, &t, &f, op, old.as_ref(), new.as_ref(), self.depth)?;
            }
        }
        Ok(())
    }

    /// Runs the `for each statement` triggers of `timing` for each of `ops` (an upsert is both
    /// an INSERT and an UPDATE statement), in name order, with `NEW` and `OLD` null.
    fn statement(&self, timing: Timing, ops: &[&str], set_cols: &[String]) -> Result<(), ApiError> {
        for op in ops {
            for t in self.triggers.iter().filter(|t| {
                !t.for_each_row
                    && t.timing == timing
                    && t.events.iter().any(|e| e == op)
                    && (*op != "UPDATE"
                        || t.update_of.is_empty()
                        || t.update_of.iter().any(|c| set_cols.contains(c)))
            }) {
                if let Some(w) = &t.when
                    && !when_holds(self.db, w, None, None)?
                {
                    continue;
                }
                let f = self.function(t)?;
                fire(self.db, t, &f, op, None, None, self.depth)?;
            }
        }
        Ok(())
    }

    fn function(&self, t: &TriggerDef) -> Result<Arc<super::Function>, ApiError> {
        self.db
            .routines
            .functions
            .get(&t.function)
            .cloned()
            .ok_or_else(|| pg("42883", format!("function {}() does not exist", t.function)))
    }
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
                let before_changes = db.conn.total_changes();
                let k = run_plain(db, &s, &p, &mut on_row, map)?;
                let changed = db.conn.total_changes() != before_changes;
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
                        let rowid = db.conn.last_insert_rowid();
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
                        && !when_holds(db, w, Some(&old), None)?
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

/// The row an upsert's `DO UPDATE` would make of the existing row `rowid`: the INSERT runs in
/// a savepoint that is rolled back (with its captured changes). `None` when it changes nothing
/// (`DO UPDATE ... WHERE` false).
fn upsert_result(
    db: &Db,
    tg: &Target,
    names: &[String],
    insert: &str,
    params: &[Value],
    rowid: i64,
    map: MapErr<'_>,
) -> Result<Option<Row>, ApiError> {
    let pending = db.pending_len();
    db.conn
        .execute_batch("SAVEPOINT _edgesim_upsert")
        .map_err(|e| map(&e))?;
    let before = db.conn.total_changes();
    let r = run_plain(db, insert, params, &mut None, map).and_then(|_| {
        if db.conn.total_changes() == before {
            Ok(None)
        } else {
            read_row(db, tg, names, rowid, map)
        }
    });
    let undo = db
        .conn
        .execute_batch("ROLLBACK TO _edgesim_upsert; RELEASE _edgesim_upsert");
    db.truncate_pending(pending);
    undo.map_err(|e| map(&e))?;
    r
}

fn pk_columns(db: &Db, tg: &Target, map: MapErr<'_>) -> Result<Vec<String>, ApiError> {
    let (schema, name) = table_ref(db, tg);
    let sql = match &schema {
        Some(_) => "SELECT name FROM pragma_table_info(?1, ?2) WHERE pk > 0 ORDER BY pk",
        None => "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
    };
    let mut p = vec![Value::Text(name)];
    if let Some(s) = schema {
        p.push(Value::Text(s));
    }
    Ok(query_all(db, sql, &p, map)?
        .into_iter()
        .filter_map(|r| match r.into_iter().next() {
            Some(Value::Text(s)) => Some(s),
            _ => None,
        })
        .collect())
}

fn existing_row(
    db: &Db,
    tg: &Target,
    names: &[String],
    key_cols: &[String],
    new: &Row,
    map: MapErr<'_>,
) -> Result<Option<(i64, Row)>, ApiError> {
    if key_cols.is_empty() {
        return Ok(None);
    }
    let mut p = Vec::new();
    let mut conds = Vec::new();
    for c in key_cols {
        match new.get(c) {
            Some(Value::Null) | None => return Ok(None),
            Some(v) => {
                p.push(v.clone());
                conds.push(format!("{} = ?{}", ident(c), p.len()));
            }
        }
    }
    let cols = names
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let s = format!(
        "SELECT rowid, {cols} FROM {} WHERE {}",
        tg.sql,
        conds.join(" AND ")
    );
    Ok(query_all(db, &s, &p, map)?
        .into_iter()
        .next()
        .and_then(|vals| {
            let Value::Integer(rowid) = vals[0] else {
                return None;
            };
            Some((
                rowid,
                Row {
                    cols: names.to_vec(),
                    vals: vals[1..].to_vec(),
                },
            ))
        }))
}

fn read_row(
    db: &Db,
    tg: &Target,
    names: &[String],
    rowid: i64,
    map: MapErr<'_>,
) -> Result<Option<Row>, ApiError> {
    let cols = names
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let s = format!("SELECT {cols} FROM {} WHERE rowid = ?1", tg.sql);
    Ok(query_all(db, &s, &[Value::Integer(rowid)], map)?
        .into_iter()
        .next()
        .map(|vals| Row {
            cols: names.to_vec(),
            vals,
        }))
}
