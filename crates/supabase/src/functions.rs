//! SQL functions the mock registers: `now()` on the injected clock, `gen_random_uuid()` from
//! the injected RNG, SQLite's `random()` and date built-ins rerouted (see `builtins`), `regexp`
//! for `match`/`imatch`, Unicode `pg_lower`, JSON text and casts, `pg_jv(value, type)` (a value
//! as the JSON PostgREST prints, for embedded resources).

use crate::jsonb::jsonb_text;
use crate::types::{Kind, parse_bool, parse_float};
use edgesim_core::{SharedClock, SimRng};
use regex::Regex;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Error};
use std::sync::{Arc, Mutex};

/// Prefix marking an error raised by our SQL functions: `PGERR|<sqlstate>|<message>`.
pub const PGERR: &str = "PGERR|";

fn pg_err(code: &str, msg: String) -> Error {
    Error::UserFunctionError(format!("{PGERR}{code}|{msg}").into())
}

fn text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// Registers every function on `conn`: `now()` and SQLite's date functions read `clock`;
/// `gen_random_uuid()`, `random()` and `randomblob()` draw from `rng`.
pub fn register(conn: &Connection, clock: SharedClock, rng: SimRng) -> rusqlite::Result<()> {
    let inno = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_INNOCUOUS;
    let det = inno | FunctionFlags::SQLITE_DETERMINISTIC;
    let now_clock = clock.clone();
    conn.create_scalar_function("now", 0, inno, move |_| {
        Ok(crate::time::timestamptz_from_ms(now_clock.now_ms()))
    })?;
    crate::builtins::register(conn, clock, Arc::new(Mutex::new(rng.fork("sqlite-random"))))?;
    crate::migrate::identity::register(conn)?;
    let rng = Arc::new(Mutex::new(rng.fork("gen_random_uuid")));
    conn.create_scalar_function("gen_random_uuid", 0, inno, move |_| {
        let mut r = rng.lock().unwrap_or_else(|p| p.into_inner());
        let (a, b) = (r.next_u64(), r.next_u64());
        let a = (a & !0xf000) | 0x4000;
        let b = (b & !(0xc000 << 48)) | (0x8000 << 48);
        let h = format!("{a:016x}{b:016x}");
        Ok(format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        ))
    })?;
    // pgcrypto's crypt/gen_salt, as seeds of auth.users call them: a deterministic stand-in
    // (the mock does not check passwords).
    conn.create_scalar_function("gen_salt", -1, det, |ctx| {
        Ok(format!(
            "$2a$06${}",
            text(ctx.get_raw(0)).unwrap_or_default()
        ))
    })?;
    conn.create_scalar_function("crypt", 2, det, |ctx| {
        use sha2::Digest;
        let pw = text(ctx.get_raw(0)).unwrap_or_default();
        let salt = text(ctx.get_raw(1)).unwrap_or_default();
        let d = sha2::Sha256::digest(format!("{salt}{pw}").as_bytes());
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        Ok(format!("{salt}${hex}"))
    })?;
    for name in ["char_length", "character_length"] {
        conn.create_scalar_function(name, 1, det, |ctx| {
            Ok(text(ctx.get_raw(0)).map(|s| s.chars().count() as i64))
        })?;
    }
    conn.create_scalar_function("pg_lower", 1, det, |ctx| {
        Ok(text(ctx.get_raw(0)).map(|s| crate::types::pg_lower(&s)))
    })?;
    // Postgres `upper()` in a UTF-8 database: each character's own upper case (`é` -> `É`);
    // one without a single-character upper case (`ß`) stays as it is, as glibc's towupper.
    conn.create_scalar_function("pg_upper", 1, det, |ctx| {
        Ok(text(ctx.get_raw(0)).map(|s| crate::pgexpr::pg_upper(&s)))
    })?;
    conn.create_scalar_function("regexp", 2, det, regexp)?;
    // `pg_nonzero(x)`: x, or Postgres's 22012 when x is zero (SQLite divides by zero to NULL).
    conn.create_scalar_function("pg_nonzero", 1, det, |ctx| {
        let v = Value::from(ctx.get_raw(0));
        match v {
            Value::Integer(0) => Err(pg_err("22012", "division by zero".into())),
            Value::Real(0.0) => Err(pg_err("22012", "division by zero".into())),
            other => Ok(other),
        }
    })?;
    conn.create_scalar_function("pg_json_text", 1, det, |ctx| {
        Ok(
            text(ctx.get_raw(0)).and_then(|s| {
                match serde_json::from_str::<serde_json::Value>(&s) {
                    Ok(serde_json::Value::Null) => None,
                    Ok(serde_json::Value::String(s)) => Some(s),
                    Ok(v) => Some(jsonb_text(&v)),
                    Err(_) => Some(s),
                }
            }),
        )
    })?;
    // Postgres LIKE (case-sensitive, `\` escapes) for `x LIKE y` in translated SQL, and ILIKE
    // as `x MATCH y` (function bodies and policies write `ilike`, translated to MATCH).
    conn.create_scalar_function("like", 2, det, |ctx| {
        Ok(match (text(ctx.get_raw(0)), text(ctx.get_raw(1))) {
            (Some(p), Some(s)) => Some(like_match(&p, &s)),
            _ => None,
        })
    })?;
    conn.create_scalar_function("match", 2, det, |ctx| {
        Ok(match (text(ctx.get_raw(0)), text(ctx.get_raw(1))) {
            (Some(p), Some(s)) => Some(like_match(
                &crate::types::pg_lower(&p),
                &crate::types::pg_lower(&s),
            )),
            _ => None,
        })
    })?;
    conn.create_scalar_function("pg_cast", 3, det, pg_cast)?;
    conn.create_scalar_function("pg_norm", 2, det, pg_norm)?;
    conn.create_scalar_function("pg_jsonb_contains", 2, det, |ctx| {
        let parse = |i: usize| {
            text(ctx.get_raw(i)).and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        };
        Ok(match (parse(0), parse(1)) {
            (Some(a), Some(b)) => Some(crate::jsonb::contains(&a, &b)),
            _ => None,
        })
    })?;
    conn.create_scalar_function("pg_array_op", 3, det, |ctx| {
        let op = text(ctx.get_raw(0)).unwrap_or_default();
        let parse = |i: usize| {
            text(ctx.get_raw(i)).and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        };
        Ok(match (parse(1), parse(2)) {
            (Some(serde_json::Value::Array(a)), Some(serde_json::Value::Array(b))) => {
                Some(array_op(&op, &a, &b))
            }
            _ => None,
        })
    })?;
    conn.create_scalar_function("pg_jv", 2, det, |ctx| {
        let kind = Kind::from_decl(&text(ctx.get_raw(1)).unwrap_or_default());
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => None,
            v => Some(kind.to_json(v).to_string()),
        })
    })?;
    Ok(())
}

/// Postgres's array `@>` (`cs`), `<@` (`cd`) and `&&` (`ov`) for an array stored as JSON (`a`)
/// and the elements of an array literal (`b`, strings or nulls): elements compare by value in
/// the stored element's type; NULL elements never match.
pub fn array_op(op: &str, a: &[serde_json::Value], b: &[serde_json::Value]) -> bool {
    use serde_json::Value as J;
    let eq = |x: &J, lit: &J| -> bool {
        let J::String(l) = lit else { return false };
        match x {
            J::Null => false,
            J::String(s) => s == l,
            J::Number(n) => parse_float(l).is_some_and(|f| n.as_f64() == Some(f)),
            J::Bool(v) => parse_bool(l) == Some(*v),
            other => serde_json::from_str::<J>(l).is_ok_and(|p| &p == other),
        }
    };
    match op {
        "cs" => b.iter().all(|y| a.iter().any(|x| eq(x, y))),
        "cd" => a.iter().all(|x| b.iter().any(|y| eq(x, y))),
        _ => a.iter().any(|x| b.iter().any(|y| eq(x, y))),
    }
}

/// Postgres LIKE: `%` any run, `_` one character, `\` escapes the next one.
pub fn like_match(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = s.chars().collect();
    // Iterative matcher with backtracking to the last `%`.
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && p[i] == '%' {
            star = Some((i, j));
            i += 1;
            continue;
        }
        let (lit, width) = match p.get(i) {
            Some('\\') => (p.get(i + 1).copied(), 2),
            Some('_') => (Some(t[j]), 1),
            Some(c) => (Some(*c), 1),
            None => (None, 0),
        };
        if lit == Some(t[j]) {
            i += width;
            j += 1;
            continue;
        }
        match star {
            Some((si, sj)) => {
                i = si + 1;
                j = sj + 1;
                star = Some((si, sj + 1));
            }
            None => return false,
        }
    }
    while i < p.len() && p[i] == '%' {
        i += 1;
    }
    i == p.len()
}

fn regexp(ctx: &Context<'_>) -> rusqlite::Result<Option<bool>> {
    let re: Arc<Regex> = ctx.get_or_create_aux(
        0,
        |v| -> Result<Regex, Box<dyn std::error::Error + Send + Sync>> {
            // Callers write `~*` as `(?i)` before the pattern; the pattern is Postgres's ARE.
            let p = text(v).unwrap_or_default();
            let (ci, p) = match p.strip_prefix("(?i)") {
                Some(rest) => (true, rest.to_string()),
                None => (false, p),
            };
            let rust = crate::pgexpr::are_to_rust(&p, ci)
                .map_err(|e| format!("{PGERR}0A000|{e} is not supported by the mock"))?;
            Regex::new(&rust)
                .map_err(|e| format!("{PGERR}2201B|invalid regular expression: {e}").into())
        },
    )?;
    Ok(text(ctx.get_raw(1)).map(|s| re.is_match(&s)))
}

/// `pg_norm(value, kind)`: the canonical stored form of a value written by raw SQL
/// (`'2026-01-01 10:00Z'` → `2026-01-01T10:00:00+00:00`, `'true'` → 1); other values unchanged.
fn pg_norm(ctx: &Context<'_>) -> rusqlite::Result<Value> {
    let v = ctx.get_raw(0);
    let kind = Kind::from_decl(&text(ctx.get_raw(1)).unwrap_or_default());
    let owned = Value::from(v);
    Ok(match (v, &kind) {
        (ValueRef::Text(_), Kind::Timestamptz | Kind::Timestamp | Kind::Date | Kind::Bool) => kind
            .from_text(&text(v).unwrap_or_default())
            .unwrap_or(owned),
        (ValueRef::Real(f), Kind::Bool) => Value::Integer(i64::from(f != 0.0)),
        _ => owned,
    })
}

/// Postgres's rounding of a number cast to an integer type: `numeric` (and untyped values,
/// whose REAL most often comes from a numeric) half away from zero, `real`/`double precision`
/// half to even (`rint`).
fn round_to_int(f: f64, from: &Kind) -> i64 {
    match from {
        Kind::Float("double precision" | "real") => f.round_ties_even() as i64,
        _ => f.round() as i64,
    }
}

/// `pg_cast(value, from_kind, to_type)`: Postgres cast semantics for the casts `select` allows.
fn pg_cast(ctx: &Context<'_>) -> rusqlite::Result<Value> {
    let v = ctx.get_raw(0);
    let from = Kind::from_decl(&text(ctx.get_raw(1)).unwrap_or_default());
    let to = text(ctx.get_raw(2)).unwrap_or_default();
    if matches!(v, ValueRef::Null) {
        return Ok(Value::Null);
    }
    let as_text = || -> String {
        match (&from, v) {
            (Kind::Bool, ValueRef::Integer(i)) => if i != 0 { "true" } else { "false" }.into(),
            (Kind::Timestamptz, _) => text(v)
                .unwrap_or_default()
                .replace('T', " ")
                .replace("+00:00", "+00"),
            (Kind::Timestamp, _) => text(v).unwrap_or_default().replace('T', " "),
            (Kind::Json(_), _) => text(v)
                .and_then(|s| {
                    serde_json::from_str::<serde_json::Value>(&s)
                        .ok()
                        .map(|j| jsonb_text(&j))
                })
                .unwrap_or_default(),
            (_, ValueRef::Real(f)) => match crate::types::float_json(f) {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            },
            _ => text(v).unwrap_or_default(),
        }
    };
    let target = Kind::from_decl(&to);
    match target {
        Kind::Text("uuid") => {
            let s = as_text();
            target.from_text(&s).map_err(|e| pg_err(&e.code, e.message))
        }
        Kind::Text(_) => Ok(Value::Text(as_text())),
        Kind::Int(name) => {
            let i = match v {
                ValueRef::Integer(i) => i,
                ValueRef::Real(f) => round_to_int(f, &from),
                _ => {
                    let s = as_text();
                    if matches!(from, Kind::Float(_)) {
                        parse_float(&s).map(|f| round_to_int(f, &from))
                    } else {
                        s.trim().parse().ok()
                    }
                    .ok_or_else(|| {
                        pg_err(
                            "22P02",
                            format!("invalid input syntax for type {name}: \"{s}\""),
                        )
                    })?
                }
            };
            let fits = match name {
                "integer" => i32::try_from(i).is_ok(),
                "smallint" => i16::try_from(i).is_ok(),
                _ => true,
            };
            if fits {
                Ok(Value::Integer(i))
            } else {
                Err(pg_err("22003", format!("{name} out of range")))
            }
        }
        Kind::Float(name) => match v {
            ValueRef::Integer(i) => Ok(Value::Real(i as f64)),
            ValueRef::Real(f) => Ok(Value::Real(f)),
            _ => {
                let s = as_text();
                parse_float(&s).map(Value::Real).ok_or_else(|| {
                    pg_err(
                        "22P02",
                        format!("invalid input syntax for type {name}: \"{s}\""),
                    )
                })
            }
        },
        Kind::Bool => match v {
            ValueRef::Integer(i) => Ok(Value::Integer(i64::from(i != 0))),
            _ => {
                let s = as_text();
                parse_bool(&s)
                    .map(|b| Value::Integer(i64::from(b)))
                    .ok_or_else(|| {
                        pg_err(
                            "22P02",
                            format!("invalid input syntax for type boolean: \"{s}\""),
                        )
                    })
            }
        },
        Kind::Json(_) => {
            let j = match (&from, v) {
                (Kind::Json(_), _) => return Ok(Value::Text(text(v).unwrap_or_default())),
                (Kind::Bool, ValueRef::Integer(i)) => serde_json::Value::Bool(i != 0),
                (_, ValueRef::Integer(i)) => serde_json::Value::from(i),
                (_, ValueRef::Real(f)) => crate::types::float_json(f),
                _ => serde_json::Value::String(as_text()),
            };
            Ok(Value::Text(j.to_string()))
        }
        Kind::Timestamptz | Kind::Timestamp | Kind::Date => {
            let s = as_text();
            match target.from_text(&s) {
                Ok(v) => Ok(v),
                Err(e) => Err(pg_err(&e.code, e.message)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::array_op;
    use serde_json::json;

    #[test]
    fn array_operators_follow_postgres() {
        let a = |v: serde_json::Value| v.as_array().cloned().unwrap_or_default();
        assert!(array_op(
            "cs",
            &a(json!(["a", "b", "c"])),
            &a(json!(["c", "a"]))
        ));
        assert!(!array_op("cs", &a(json!(["a"])), &a(json!(["a", "b"]))));
        assert!(array_op("cs", &a(json!([1, 2])), &a(json!(["2"]))));
        assert!(!array_op("cs", &a(json!(["a", null])), &a(json!([null]))));
        assert!(array_op("cd", &a(json!(["a"])), &a(json!(["a", "b"]))));
        assert!(array_op("cd", &a(json!([])), &a(json!([]))));
        assert!(array_op("ov", &a(json!([true, false])), &a(json!(["t"]))));
        assert!(!array_op("ov", &a(json!(["a"])), &a(json!([]))));
    }
}
