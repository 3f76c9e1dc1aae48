//! Postgres string functions as SQLite functions: `left`, `right`, `repeat`, `strpos`,
//! `split_part`, `lpad`, `rpad`, `initcap`, `reverse`, `translate`, with PostgreSQL 15's
//! semantics (lengths and positions in characters, 1-based; a NULL argument gives NULL;
//! negative counts as Postgres reads them; `split_part` with a negative field counts from the
//! end, as since PostgreSQL 14). The translator (`funcs.rs`) calls them as `pg_<name>`.

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;

/// Postgres's cap on one value (`MaxAllocSize`, 1 GB - 1): a longer result is 54000.
const MAX_ALLOC: usize = 0x3fff_ffff;

fn pg_err(code: &str, msg: &str) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(format!("{}{code}|{msg}", crate::functions::PGERR).into())
}

fn text(ctx: &Context<'_>, i: usize) -> Option<String> {
    match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

fn int(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n),
        ValueRef::Real(f) => Some(f.round() as i64),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(
            String::from_utf8_lossy(t)
                .trim()
                .parse()
                .map_err(|_| pg_err("22P02", "invalid input syntax for type integer"))?,
        ),
    })
}

fn too_long(bytes: usize) -> rusqlite::Result<()> {
    if bytes > MAX_ALLOC {
        return Err(pg_err("54000", "requested length too large"));
    }
    Ok(())
}

/// `left(s, n)`: the first `n` characters; all but the last `|n|` when `n` is negative.
pub fn left(s: &str, n: i64) -> String {
    let len = s.chars().count() as i64;
    let take = if n >= 0 { n.min(len) } else { (len + n).max(0) };
    s.chars().take(take as usize).collect()
}

/// `right(s, n)`: the last `n` characters; all but the first `|n|` when `n` is negative.
pub fn right(s: &str, n: i64) -> String {
    let len = s.chars().count() as i64;
    let skip = if n >= 0 {
        (len - n).max(0)
    } else {
        (-n).min(len)
    };
    s.chars().skip(skip as usize).collect()
}

/// `strpos(s, sub)`: the 1-based character position of the first `sub`, 0 when absent (1 for
/// an empty `sub`).
pub fn strpos(s: &str, sub: &str) -> i64 {
    match s.find(sub) {
        Some(b) => s[..b].chars().count() as i64 + 1,
        None => 0,
    }
}

/// `split_part(s, delim, n)`: field `n` (1-based; negative counts from the end), `''` when
/// there is no such field; `None` for `n = 0` (22023).
pub fn split_part(s: &str, delim: &str, n: i64) -> Option<String> {
    if n == 0 {
        return None;
    }
    if delim.is_empty() {
        // The whole string is the only field.
        return Some(if n == 1 || n == -1 {
            s.to_string()
        } else {
            String::new()
        });
    }
    let fields: Vec<&str> = s.split(delim).collect();
    let i = if n > 0 {
        n - 1
    } else {
        fields.len() as i64 + n
    };
    Some(if s.is_empty() {
        String::new()
    } else {
        usize::try_from(i)
            .ok()
            .and_then(|i| fields.get(i))
            .map(|f| f.to_string())
            .unwrap_or_default()
    })
}

/// `lpad`/`rpad(s, len, fill)`: `s` filled on the left (right) with `fill` repeated up to
/// `len` characters, or cut to its first `len`; an empty `fill` leaves `s` (cut).
pub fn pad(s: &str, len: i64, fill: &str, left: bool) -> String {
    let len = len.max(0) as usize;
    let n = s.chars().count();
    if n >= len {
        return s.chars().take(len).collect();
    }
    if fill.is_empty() {
        return s.to_string();
    }
    let padding: String = fill.chars().cycle().take(len - n).collect();
    if left {
        padding + s
    } else {
        s.to_string() + &padding
    }
}

/// `initcap(s)`: each word's first letter upper case, the rest lower case; words are runs of
/// letters and digits (as Postgres's `iswalnum`).
pub fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for c in s.chars() {
        if in_word {
            out.extend(one_char(c.to_lowercase(), c));
        } else {
            out.extend(one_char(c.to_uppercase(), c));
        }
        in_word = c.is_alphanumeric();
    }
    out
}

/// A character's case mapping when it is one character (as glibc's `towupper`/`towlower`);
/// else the character itself.
fn one_char(mut m: impl Iterator<Item = char>, c: char) -> Option<char> {
    match (m.next(), m.next()) {
        (Some(x), None) => Some(x),
        _ => Some(c),
    }
}

/// `translate(s, from, to)`: each character of `s` found in `from` replaced by the character
/// at the same position in `to`, or removed when `to` is shorter (the first occurrence in
/// `from` counts).
pub fn translate(s: &str, from: &str, to: &str) -> String {
    let from: Vec<char> = from.chars().collect();
    let to: Vec<char> = to.chars().collect();
    s.chars()
        .filter_map(|c| match from.iter().position(|f| *f == c) {
            Some(i) => to.get(i).copied(),
            None => Some(c),
        })
        .collect()
}

/// Registers the functions on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let det = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    for (name, is_left) in [("pg_left", true), ("pg_right", false)] {
        conn.create_scalar_function(name, 2, det, move |ctx| {
            let (Some(s), Some(n)) = (text(ctx, 0), int(ctx, 1)?) else {
                return Ok(None);
            };
            Ok(Some(if is_left { left(&s, n) } else { right(&s, n) }))
        })?;
    }
    conn.create_scalar_function("pg_repeat", 2, det, |ctx| {
        let (Some(s), Some(n)) = (text(ctx, 0), int(ctx, 1)?) else {
            return Ok(None);
        };
        let n = n.max(0) as usize;
        too_long(s.len().saturating_mul(n))?;
        Ok(Some(s.repeat(n)))
    })?;
    conn.create_scalar_function("pg_strpos", 2, det, |ctx| {
        let (Some(s), Some(sub)) = (text(ctx, 0), text(ctx, 1)) else {
            return Ok(None);
        };
        Ok(Some(strpos(&s, &sub)))
    })?;
    conn.create_scalar_function("pg_split_part", 3, det, |ctx| {
        let (Some(s), Some(d), Some(n)) = (text(ctx, 0), text(ctx, 1), int(ctx, 2)?) else {
            return Ok(None);
        };
        split_part(&s, &d, n)
            .map(Some)
            .ok_or_else(|| pg_err("22023", "field position must not be zero"))
    })?;
    for (name, is_left) in [("pg_lpad", true), ("pg_rpad", false)] {
        conn.create_scalar_function(name, 3, det, move |ctx| {
            let (Some(s), Some(n), Some(f)) = (text(ctx, 0), int(ctx, 1)?, text(ctx, 2)) else {
                return Ok(None);
            };
            // As Postgres: the length times the encoding's widest character (4 in UTF-8).
            too_long((n.max(0) as usize).saturating_mul(4))?;
            Ok(Some(pad(&s, n, &f, is_left)))
        })?;
    }
    // A value of unknown type ordered against a number: it must be one (Postgres, knowing
    // its type, could only have compared a number).
    conn.create_scalar_function("pg_expect_number", 1, det, |ctx| match ctx.get_raw(0) {
        ValueRef::Text(_) | ValueRef::Blob(_) => Err(pg_err(
            "42883",
            "operator does not exist: a text value compared with a number (the mock could \
             not type the value; cast it)",
        )),
        v => Ok(rusqlite::types::Value::from(v)),
    })?;
    conn.create_scalar_function("pg_initcap", 1, det, |ctx| {
        Ok(text(ctx, 0).map(|s| initcap(&s)))
    })?;
    conn.create_scalar_function("pg_reverse", 1, det, |ctx| {
        Ok(text(ctx, 0).map(|s| s.chars().rev().collect::<String>()))
    })?;
    conn.create_scalar_function("pg_translate", 3, det, |ctx| {
        let (Some(s), Some(f), Some(t)) = (text(ctx, 0), text(ctx, 1), text(ctx, 2)) else {
            return Ok(None);
        };
        Ok(Some(translate(&s, &f, &t)))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_functions_follow_postgres() {
        assert_eq!(left("héllo", 2), "hé");
        assert_eq!(left("hello", -2), "hel");
        assert_eq!(left("hi", -5), "");
        assert_eq!(right("héllo", 3), "llo");
        assert_eq!(right("hello", -2), "llo");
        assert_eq!(strpos("héllo", "l"), 3);
        assert_eq!(strpos("abc", "x"), 0);
        assert_eq!(strpos("abc", ""), 1);
        assert_eq!(split_part("a,b,c", ",", 2).unwrap(), "b");
        assert_eq!(split_part("a,b,c", ",", -1).unwrap(), "c");
        assert_eq!(split_part("a,b,c", ",", 4).unwrap(), "");
        assert_eq!(split_part("a,b,c", ",", -4).unwrap(), "");
        assert_eq!(split_part("", ",", 1).unwrap(), "");
        assert_eq!(split_part("abc", "", 1).unwrap(), "abc");
        assert!(split_part("abc", ",", 0).is_none());
        assert_eq!(pad("hi", 5, "xy", true), "xyxhi");
        assert_eq!(pad("hi", 5, "xy", false), "hixyx");
        assert_eq!(pad("hello", 2, "x", true), "he");
        assert_eq!(pad("hi", 5, "", true), "hi");
        assert_eq!(
            initcap("hello wORLD-foo o'neil 3rd"),
            "Hello World-Foo O'Neil 3rd"
        );
        assert_eq!(translate("12345", "143", "ax"), "a2x5");
    }
}
