//! Identity and `serial` columns that are not the primary key, emulated with one sequence per
//! column, as Postgres gives each such column its own sequence (`<table>_<column>_seq`).
//!
//! The sequence's state lives in `_edgesim_sequences` (one row per column: start, increment,
//! bounds, `cycle` and the last value issued), so a `--db FILE` reopened later goes on where it
//! stopped. The column is `NOT NULL DEFAULT (pg_nextval('t', 'c'))`: SQLite computes the default
//! only for a row that leaves the column out, so an explicit value of a `by default` column is
//! stored as given and does not advance the sequence, as in Postgres. A value, once issued, is
//! never issued again: deletes do not give it back, and neither does a rolled-back statement
//! (the connection remembers the highest value issued, as Postgres's `nextval` is outside
//! transactions too).
//!
//! `generated always` columns get two SQLite triggers: an insert whose value did not come from
//! the column's own `pg_nextval` fails with Postgres's 428C9 `cannot insert a non-DEFAULT value
//! into column "c"`, an update that changes it with 428C9 `column "c" can only be updated to
//! DEFAULT` (mapped in [`crate::sqlerr`], the same path as generated columns).

use super::lex::Tok;
use crate::functions::PGERR;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::{Connection, Error};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// A column's sequence: Postgres's `start with`, `increment by`, `minvalue`, `maxvalue`,
/// `cycle`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SeqSpec {
    /// The first value.
    pub start: i64,
    /// The step (never zero).
    pub inc: i64,
    /// The lowest value.
    pub min: i64,
    /// The highest value.
    pub max: i64,
    /// Wrap around at the bound instead of failing.
    pub cycle: bool,
}

/// An identity or serial column of a table being created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    /// The column.
    pub col: String,
    /// Its sequence.
    pub spec: SeqSpec,
    /// `generated always` (explicit values refused).
    pub always: bool,
}

/// The range of an identity column's type (`smallint`, `integer`, `bigint` and the serials),
/// with the type's Postgres name; `None` for any other type.
fn type_range(ty: &str) -> Option<(i64, i64, &'static str)> {
    match ty.to_ascii_lowercase().as_str() {
        "smallint" | "int2" | "smallserial" | "serial2" => {
            Some((i16::MIN.into(), i16::MAX.into(), "smallint"))
        }
        "int" | "integer" | "int4" | "serial" | "serial4" => {
            Some((i32::MIN.into(), i32::MAX.into(), "integer"))
        }
        "bigint" | "int8" | "bigserial" | "serial8" => Some((i64::MIN, i64::MAX, "bigint")),
        _ => None,
    }
}

/// A signed integer at `toks[i]` (`5`, `- 5`, `+5`) and the index after it.
fn number(toks: &[Tok], i: usize) -> Result<(i64, usize), String> {
    let (neg, i) = match toks.get(i) {
        Some(t) if t.is_p("-") => (true, i + 1),
        Some(t) if t.is_p("+") => (false, i + 1),
        _ => (false, i),
    };
    match toks.get(i) {
        Some(Tok::Num(n)) => {
            let text = if neg { format!("-{n}") } else { n.clone() };
            let v = text
                .parse::<i64>()
                .map_err(|_| format!("sequence option value {text} is not a bigint"))?;
            Ok((v, i + 1))
        }
        _ => Err("expected a number in the sequence options".into()),
    }
}

/// The sequence of a column of type `ty` with the identity options `opts` (the tokens inside
/// `as identity ( ... )`, empty for none), checked as Postgres checks them (22023 messages).
pub(crate) fn spec(ty: &str, opts: &[Tok]) -> Result<SeqSpec, String> {
    let Some((lo, hi, tyname)) = type_range(ty) else {
        return Err("identity column type must be smallint, integer, or bigint".into());
    };
    let (mut start, mut inc, mut min, mut max, mut cycle) = (None, 1i64, None, None, false);
    let mut i = 0;
    while i < opts.len() {
        let t = &opts[i];
        let next_is = |w: &str| opts.get(i + 1).is_some_and(|x| x.is(w));
        if t.is("start") {
            let at = if next_is("with") { i + 2 } else { i + 1 };
            let (v, j) = number(opts, at)?;
            start = Some(v);
            i = j;
        } else if t.is("increment") {
            let at = if next_is("by") { i + 2 } else { i + 1 };
            let (v, j) = number(opts, at)?;
            inc = v;
            i = j;
        } else if t.is("minvalue") {
            let (v, j) = number(opts, i + 1)?;
            min = Some(v);
            i = j;
        } else if t.is("maxvalue") {
            let (v, j) = number(opts, i + 1)?;
            max = Some(v);
            i = j;
        } else if t.is("cache") {
            // Values each session preallocates: no effect on a single connection.
            i = number(opts, i + 1)?.1;
        } else if t.is("cycle") {
            cycle = true;
            i += 1;
        } else if t.is("no")
            && opts
                .get(i + 1)
                .is_some_and(|x| x.is("cycle") || x.is("minvalue") || x.is("maxvalue"))
        {
            i += 2;
        } else {
            return Err(format!(
                "identity option `{}` is not supported by the mock",
                t.sql()
            ));
        }
    }
    if inc == 0 {
        return Err("INCREMENT must not be zero".into());
    }
    let min = min.unwrap_or(if inc > 0 { 1 } else { lo });
    let max = max.unwrap_or(if inc > 0 { hi } else { -1 });
    for (what, v) in [("MINVALUE", min), ("MAXVALUE", max)] {
        if v < lo || v > hi {
            return Err(format!(
                "{what} ({v}) is out of range for sequence data type {tyname}"
            ));
        }
    }
    if min >= max {
        return Err(format!(
            "MINVALUE ({min}) must be less than MAXVALUE ({max})"
        ));
    }
    let start = start.unwrap_or(if inc > 0 { min } else { max });
    if start < min {
        return Err(format!(
            "START value ({start}) cannot be less than MINVALUE ({min})"
        ));
    }
    if start > max {
        return Err(format!(
            "START value ({start}) cannot be greater than MAXVALUE ({max})"
        ));
    }
    Ok(SeqSpec {
        start,
        inc,
        min,
        max,
        cycle,
    })
}

fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The column's default: the next value of its sequence.
pub(crate) fn default_sql(table: &str, col: &str) -> String {
    format!("pg_nextval({}, {})", lit(table), lit(col))
}

/// The SQL that creates the sequences of `table`'s identity columns (run with the `create
/// table`, in the same savepoint): their `_edgesim_sequences` rows (kept by `create table if
/// not exists` of an existing table; `drop table` forgets them, see [`FORGET_SQL`]) and the
/// triggers of the `generated always` ones.
pub(crate) fn setup_sql(table: &str, ids: &[Identity]) -> String {
    let mut sql = String::from(
        "CREATE TABLE IF NOT EXISTS _edgesim_sequences (tbl TEXT NOT NULL, col TEXT NOT NULL, \
         start INTEGER NOT NULL, inc INTEGER NOT NULL, minv INTEGER NOT NULL, maxv INTEGER NOT \
         NULL, cycle INTEGER NOT NULL, last INTEGER, epoch INTEGER NOT NULL, PRIMARY KEY (tbl, \
         col));\n",
    );
    for id in ids {
        let s = &id.spec;
        sql.push_str(&format!(
            "INSERT OR IGNORE INTO _edgesim_sequences (tbl, col, start, inc, minv, maxv, cycle, \
             last, epoch) VALUES ({}, {}, {}, {}, {}, {}, {}, NULL, (SELECT coalesce(max(epoch), \
             0) + 1 FROM _edgesim_sequences));\n",
            lit(table),
            lit(&id.col),
            s.start,
            s.inc,
            s.min,
            s.max,
            i64::from(s.cycle)
        ));
        if id.always {
            let trig = |what: &str| ident(&format!("_edgesim_identity_{what}_{table}_{}", id.col));
            let c = ident(&id.col);
            let msg = |what: &str| lit(&format!("{what} identity column \"{}\"", id.col));
            sql.push_str(&format!(
                "CREATE TRIGGER IF NOT EXISTS {} BEFORE INSERT ON {} WHEN NOT pg_seq_issued({}, {}, NEW.{c}) \
                 BEGIN SELECT RAISE(ABORT, {}); END;\n",
                trig("ins"),
                ident(table),
                lit(table),
                lit(&id.col),
                msg("cannot INSERT into"),
            ));
            sql.push_str(&format!(
                "CREATE TRIGGER IF NOT EXISTS {} BEFORE UPDATE OF {c} ON {} WHEN NEW.{c} IS NOT OLD.{c} \
                 BEGIN SELECT RAISE(ABORT, {}); END;\n",
                trig("upd"),
                ident(table),
                msg("cannot UPDATE"),
            ));
        }
    }
    sql
}

/// Forgets the sequences of a dropped table (`?1`: its SQLite name); a no-op for a database
/// that never had one.
pub(crate) const FORGET_SQL: &str = "DELETE FROM _edgesim_sequences WHERE tbl = ?1";

/// The connection's memory of its sequences: the last value issued per (table, column, epoch)
/// (so a rolled-back statement does not give values back), and the values issued but not yet
/// stored (what `generated always` accepts).
#[derive(Default)]
struct Memory {
    last: BTreeMap<(String, String, i64), i64>,
    issued: BTreeMap<(String, String), BTreeSet<i64>>,
    /// `overriding system value`: every value is accepted.
    overriding: bool,
}

/// At most this many issued-but-unstored values are remembered per column (a statement that
/// failed after `pg_nextval` leaves its value behind).
const MAX_ISSUED: usize = 1024;

fn pg_err(code: &str, msg: String) -> Error {
    Error::UserFunctionError(format!("{PGERR}{code}|{msg}").into())
}

type SeqRow = (i64, i64, i64, i64, bool, Option<i64>, i64);

/// `pg_nextval(table, column)`: the next value of the column's sequence.
fn nextval(ctx: &Context<'_>, mem: &Mutex<Memory>) -> rusqlite::Result<i64> {
    let table: String = ctx.get(0)?;
    let col: String = ctx.get(1)?;
    // SAFETY: the connection is used only during this call, on this thread, and not closed.
    let conn = unsafe { ctx.get_connection()? };
    let row: Option<SeqRow> = conn
        .query_row(
            "SELECT start, inc, minv, maxv, cycle, last, epoch FROM _edgesim_sequences \
             WHERE tbl = ?1 AND col = ?2",
            [&table, &col],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            },
        )
        .map(Some)
        .or_else(|e| match e {
            Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    let Some((start, inc, min, max, cycle, last, epoch)) = row else {
        return Err(pg_err(
            "42P01",
            format!("relation \"{table}_{col}_seq\" does not exist"),
        ));
    };
    let mut m = mem.lock().unwrap_or_else(|p| p.into_inner());
    let key = (table.clone(), col.clone(), epoch);
    let remembered = m.last.get(&key).copied();
    // The value furthest along: stored (committed or this transaction's) or remembered.
    let cur = match (last, remembered) {
        (Some(a), Some(b)) if inc > 0 => Some(a.max(b)),
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let seq = format!("{table}_{col}_seq");
    let next = match cur {
        None => start,
        Some(c) => match c.checked_add(inc).filter(|n| (min..=max).contains(n)) {
            Some(n) => n,
            None if cycle => {
                if inc > 0 {
                    min
                } else {
                    max
                }
            }
            None if inc > 0 => {
                return Err(pg_err(
                    "2200H",
                    format!("nextval: reached maximum value of sequence \"{seq}\" ({max})"),
                ));
            }
            None => {
                return Err(pg_err(
                    "2200H",
                    format!("nextval: reached minimum value of sequence \"{seq}\" ({min})"),
                ));
            }
        },
    };
    conn.execute(
        "UPDATE _edgesim_sequences SET last = ?3 WHERE tbl = ?1 AND col = ?2",
        rusqlite::params![table, col, next],
    )?;
    m.last.insert(key, next);
    let issued = m.issued.entry((table, col)).or_default();
    if issued.len() >= MAX_ISSUED {
        issued.clear();
    }
    issued.insert(next);
    Ok(next)
}

/// Registers `pg_nextval(table, column)`, `pg_seq_issued(table, column, value)` (whether
/// `value` came from `pg_nextval` and is not stored yet; it is then taken) and
/// `pg_seq_override(on)` (a migration or seed statement with `overriding system value`) on
/// `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_INNOCUOUS;
    let mem = Arc::new(Mutex::new(Memory::default()));
    let m = mem.clone();
    conn.create_scalar_function("pg_nextval", 2, flags, move |ctx| nextval(ctx, &m))?;
    let m = mem.clone();
    conn.create_scalar_function("pg_seq_override", 1, flags, move |ctx| {
        let on = ctx.get::<Option<i64>>(0)?.unwrap_or(0) != 0;
        m.lock().unwrap_or_else(|p| p.into_inner()).overriding = on;
        Ok(on)
    })?;
    conn.create_scalar_function("pg_seq_issued", 3, flags, move |ctx| {
        let table: String = ctx.get(0)?;
        let col: String = ctx.get(1)?;
        let Some(v) = ctx.get::<Option<i64>>(2).ok().flatten() else {
            return Ok(false);
        };
        let mut m = mem.lock().unwrap_or_else(|p| p.into_inner());
        if m.overriding {
            return Ok(true);
        }
        Ok(m.issued
            .get_mut(&(table, col))
            .is_some_and(|s| s.remove(&v)))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::lex::tokenize;

    fn opts(ty: &str, s: &str) -> Result<SeqSpec, String> {
        spec(ty, &tokenize(s).unwrap())
    }

    #[test]
    fn options_are_read_and_checked_as_postgres_does() {
        let s = opts("bigint", "start with 100 increment by 5").unwrap();
        assert_eq!((s.start, s.inc, s.min, s.max), (100, 5, 1, i64::MAX));
        let s = opts("integer", "increment by -2").unwrap();
        assert_eq!((s.start, s.min, s.max), (-1, i32::MIN as i64, -1));
        let s = opts("smallint", "start 3 minvalue 2 maxvalue 4 cycle cache 10").unwrap();
        assert_eq!((s.start, s.min, s.max, s.cycle), (3, 2, 4, true));
        assert!(
            opts("bigint", "increment by 0")
                .unwrap_err()
                .contains("zero")
        );
        let e = opts("integer", "start with 0").unwrap_err();
        assert_eq!(e, "START value (0) cannot be less than MINVALUE (1)");
        let e = opts("smallint", "maxvalue 40000").unwrap_err();
        assert!(
            e.contains("out of range for sequence data type smallint"),
            "{e}"
        );
        assert!(opts("text", "").is_err());
        assert!(opts("bigint", "owned by t.x").is_err());
    }

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let ids = [
            Identity {
                col: "seq".into(),
                spec: opts("smallint", "start with 10 increment by 5 maxvalue 25").unwrap(),
                always: true,
            },
            Identity {
                col: "n".into(),
                spec: opts("integer", "").unwrap(),
                always: false,
            },
        ];
        c.execute_batch(&format!(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, seq int2 NOT NULL DEFAULT ({}), n int4 NOT NULL DEFAULT ({}));\n{}",
            default_sql("t", "seq"),
            default_sql("t", "n"),
            setup_sql("t", &ids)
        ))
        .unwrap();
        c
    }

    fn rows(c: &Connection) -> Vec<(i64, i64)> {
        let mut st = c.prepare("SELECT seq, n FROM t ORDER BY id").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn sequences_issue_values_once_and_refuse_explicit_always_values() {
        let c = db();
        c.execute("INSERT INTO t (id) VALUES (1)", []).unwrap();
        c.execute("INSERT INTO t (id, n) VALUES (2, 50)", [])
            .unwrap();
        c.execute("DELETE FROM t WHERE id = 2", []).unwrap();
        c.execute("INSERT INTO t (id) VALUES (3)", []).unwrap();
        assert_eq!(rows(&c), vec![(10, 1), (20, 2)]);
        let e = c
            .execute("INSERT INTO t (id, seq) VALUES (4, 99)", [])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot INSERT into identity column \"seq\""),
            "{e}"
        );
        let e = c
            .execute("UPDATE t SET seq = 1 WHERE id = 1", [])
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot UPDATE identity column \"seq\""), "{e}");
        // A rolled-back insert does not give its values back.
        c.execute_batch("BEGIN; INSERT INTO t (id) VALUES (5); ROLLBACK;")
            .unwrap();
        let e = c
            .execute("INSERT INTO t (id) VALUES (6)", [])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("reached maximum value of sequence \"t_seq_seq\" (25)"),
            "{e}"
        );
    }
}
