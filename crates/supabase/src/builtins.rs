//! SQLite's own nondeterministic built-ins, rerouted through the seams: `random()` and
//! `randomblob(n)` draw from the mock's seeded RNG, and `date`, `time`, `datetime`, `julianday`,
//! `unixepoch`, `strftime`, `timediff` and the `CURRENT_TIMESTAMP` / `CURRENT_DATE` /
//! `CURRENT_TIME` keywords read `'now'` from the injected clock instead of the wall clock.
//!
//! Application-defined functions take precedence over SQLite's built-ins of the same name (the
//! keywords parse as calls of `current_timestamp()` etc.). The time functions substitute the
//! clock's instant for every `'now'` time value (and for an omitted one), then let an auxiliary
//! connection, which has no overrides, compute the result: SQLite's own formatting and modifiers,
//! minus the wall clock.

use edgesim_core::{SharedClock, SimRng};
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::Value;
use rusqlite::{Connection, Error};
use std::sync::{Arc, Mutex};

/// SQLite's default `SQLITE_MAX_LENGTH` (1 000 000 000 bytes): a larger `randomblob` fails the
/// same way SQLite does.
const MAX_BLOB: i64 = 1_000_000_000;

/// Which arguments of a date function are time values (the rest are formats or modifiers).
#[derive(Clone, Copy)]
enum TimeArgs {
    /// `f(timevalue, modifier...)`; no argument means `'now'`.
    First,
    /// `strftime(format, timevalue, modifier...)`; only a format means `'now'`.
    Second,
    /// `timediff(a, b)`.
    Both,
    /// `current_timestamp` and friends: no arguments, computed as the named function of `'now'`.
    Keyword(&'static str),
}

const TIME_FUNCTIONS: &[(&str, TimeArgs)] = &[
    ("date", TimeArgs::First),
    ("time", TimeArgs::First),
    ("datetime", TimeArgs::First),
    ("julianday", TimeArgs::First),
    ("unixepoch", TimeArgs::First),
    ("strftime", TimeArgs::Second),
    ("timediff", TimeArgs::Both),
    ("current_timestamp", TimeArgs::Keyword("datetime")),
    ("current_date", TimeArgs::Keyword("date")),
    ("current_time", TimeArgs::Keyword("time")),
];

/// Registers the overrides on `conn`: randomness from `rng`, `'now'` from `clock`.
pub fn register(
    conn: &Connection,
    clock: SharedClock,
    rng: Arc<Mutex<SimRng>>,
) -> rusqlite::Result<()> {
    let inno = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_INNOCUOUS;
    let r = rng.clone();
    conn.create_scalar_function("random", 0, inno, move |_| {
        Ok(r.lock().unwrap_or_else(|p| p.into_inner()).next_u64() as i64)
    })?;
    conn.create_scalar_function("randomblob", 1, inno, move |ctx| {
        // SQLite: a size below 1 gives one byte.
        let n = ctx
            .get::<Option<i64>>(0)
            .unwrap_or(None)
            .unwrap_or(1)
            .max(1);
        if n > MAX_BLOB {
            return Err(Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_TOOBIG),
                Some("string or blob too big".into()),
            ));
        }
        let mut g = rng.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::with_capacity(n as usize);
        while out.len() < n as usize {
            let w = g.next_u64().to_le_bytes();
            let take = (n as usize - out.len()).min(8);
            out.extend_from_slice(&w[..take]);
        }
        Ok(out)
    })?;
    // The date functions are deterministic for a given instant (SQLite marks its own "constant
    // within a statement"); flagging them so keeps them usable in CHECKs and index expressions.
    let det = inno | FunctionFlags::SQLITE_DETERMINISTIC;
    let aux = Arc::new(Mutex::new(Connection::open_in_memory()?));
    for &(name, args) in TIME_FUNCTIONS {
        let (clock, aux) = (clock.clone(), aux.clone());
        let n_arg = if matches!(args, TimeArgs::Keyword(_)) {
            0
        } else {
            -1
        };
        conn.create_scalar_function(name, n_arg, det, move |ctx| {
            let now = now_text(clock.now_ms());
            let (func, values) = substitute(name, args, ctx, &now);
            let sql = format!(
                "SELECT {func}({})",
                (1..=values.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let aux = aux.lock().unwrap_or_else(|p| p.into_inner());
            aux.prepare_cached(&sql)?
                .query_row(rusqlite::params_from_iter(values.iter()), |r| {
                    r.get::<_, Value>(0)
                })
        })?;
    }
    Ok(())
}

/// The clock's instant as a SQLite time value (`YYYY-MM-DDTHH:MM:SS.SSS`, UTC).
fn now_text(ms: u64) -> String {
    crate::time::format_timestamp(ms as i64 * 1000)
}

/// True for SQLite's `'now'` time value (compared case-insensitively, as SQLite does).
fn is_now(v: &Value) -> bool {
    matches!(v, Value::Text(t) if t.eq_ignore_ascii_case("now"))
}

/// The function to run on the auxiliary connection and its arguments, `'now'` replaced.
fn substitute(
    name: &'static str,
    args: TimeArgs,
    ctx: &Context<'_>,
    now: &str,
) -> (&'static str, Vec<Value>) {
    let mut values: Vec<Value> = (0..ctx.len())
        .map(|i| Value::from(ctx.get_raw(i)))
        .collect();
    let now_value = || Value::Text(now.to_string());
    let fix = |v: &mut Value| {
        if is_now(v) {
            *v = now_value();
        }
    };
    match args {
        TimeArgs::Keyword(func) => return (func, vec![now_value()]),
        TimeArgs::First => match values.first_mut() {
            Some(v) => fix(v),
            None => values.push(now_value()),
        },
        TimeArgs::Second => {
            if values.len() == 1 {
                values.push(now_value());
            } else if let Some(v) = values.get_mut(1) {
                fix(v);
            }
        }
        TimeArgs::Both => values.iter_mut().take(2).for_each(fix),
    }
    (name, values)
}
