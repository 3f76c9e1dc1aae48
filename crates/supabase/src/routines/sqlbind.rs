//! Turning the SQL of a function body into SQLite: the migration rewrite (casts, `public.`,
//! clock functions), a few more Postgres forms (`ilike`, `is [not] distinct from`,
//! `json[b]_build_object`, `json[b]_agg`), and variables bound as numbered parameters.

use crate::migrate::lex::{Tok, render};
use crate::migrate::translate::rewrite;
use rusqlite::types::Value;

/// Looks variables up while binding.
pub trait Scope {
    /// The value of scalar variable `name` (lower case).
    fn scalar(&self, name: &str) -> Option<Value>;
    /// Whether `name` is a row (record) variable.
    fn is_row(&self, name: &str) -> bool;
    /// Field `field` of row variable `name`: `Err` when the row has no such field or is unset.
    fn field(&self, name: &str, field: &str) -> Result<Value, String>;
}

/// SQL text with numbered parameters (`?1`, `?2`, ...) and their values.
#[derive(Clone, Debug, Default)]
pub struct Bound {
    /// The SQLite SQL.
    pub sql: String,
    /// Parameter values (`?n` is `params[n - 1]`).
    pub params: Vec<Value>,
}

fn word(s: &str) -> Tok {
    Tok::Word(s.to_string())
}

/// Postgres-only forms rewritten for SQLite.
pub fn pg_forms(t: &[Tok]) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let x = &t[i];
        let next = |k: usize| t.get(i + k);
        if x.is("is")
            && next(1).is_some_and(|y| y.is("distinct"))
            && next(2).is_some_and(|y| y.is("from"))
        {
            out.push(word("IS NOT"));
            i += 3;
            continue;
        }
        if x.is("is")
            && next(1).is_some_and(|y| y.is("not"))
            && next(2).is_some_and(|y| y.is("distinct"))
            && next(3).is_some_and(|y| y.is("from"))
        {
            out.push(word("IS"));
            i += 4;
            continue;
        }
        if x.is("ilike") {
            out.push(word("MATCH"));
            i += 1;
            continue;
        }
        if x.is_p("~~*") {
            out.push(word("MATCH"));
            i += 1;
            continue;
        }
        if next(1).is_some_and(|y| y.is_p("(")) && !out.last().is_some_and(|p| p.is_p(".")) {
            let renamed = match x.name().as_deref() {
                Some("jsonb_build_object" | "json_build_object") => Some("json_object"),
                Some("jsonb_build_array" | "json_build_array") => Some("json_array"),
                Some("jsonb_agg" | "json_agg") => Some("json_group_array"),
                Some("jsonb_object_agg" | "json_object_agg") => Some("json_group_object"),
                Some("to_jsonb" | "to_json") => Some("json_quote"),
                Some("char_length" | "character_length") => Some("length"),
                Some("strpos") => Some("instr"),
                _ => None,
            };
            if let Some(r) = renamed {
                out.push(word(r));
                i += 1;
                continue;
            }
        }
        out.push(x.clone());
        i += 1;
    }
    out
}

/// Whether the token before `i` makes the name at `i` a column (not a variable): a qualified
/// column (`t.col`), an `insert` column list, an `update ... set col =` target, `as alias`.
fn is_column_position(t: &[Tok], i: usize, in_cols: bool) -> bool {
    if in_cols {
        return true;
    }
    let prev = i.checked_sub(1).and_then(|p| t.get(p));
    if prev.is_some_and(|p| p.is_p(".") || p.is("as")) {
        return true;
    }
    // `set col = ...` / `, col = ...` in an UPDATE's SET list.
    let is_update = t.first().is_some_and(|f| f.is("update"));
    if is_update
        && t.get(i + 1).is_some_and(|n| n.is_p("="))
        && prev.is_some_and(|p| p.is("set") || p.is_p(","))
    {
        return true;
    }
    false
}

/// Rewrites `toks` for SQLite and binds variables as parameters, numbered from
/// `params.len() + 1` (so several pieces can share one parameter list).
pub fn bind(toks: &[Tok], scope: &dyn Scope, params: &mut Vec<Value>) -> Result<String, String> {
    let t = pg_forms(&rewrite(toks)?);
    let mut out: Vec<Tok> = Vec::with_capacity(t.len());
    let mut i = 0;
    // Inside `insert into t (...)` / `on conflict (...)` column lists.
    let mut col_list_end: Option<usize> = None;
    while i < t.len() {
        let x = &t[i];
        if x.is_p("(") && col_list_end.is_none() {
            let before = &t[..i];
            let insert_cols = before.first().is_some_and(|f| f.is("insert"))
                && !before
                    .iter()
                    .any(|y| y.is_p("(") || y.is("values") || y.is("select"))
                && before.iter().any(|y| y.is("into"));
            let conflict_cols = i > 0 && t[i - 1].is("conflict");
            if insert_cols || conflict_cols {
                col_list_end = crate::routines::def_close(&t, i);
            }
        }
        let in_cols = col_list_end.is_some_and(|e| i < e);
        if col_list_end.is_some_and(|e| i >= e) {
            col_list_end = None;
        }
        if let Some(name) = x.name()
            && !is_column_position(&t, i, in_cols)
            && !t.get(i + 1).is_some_and(|n| n.is_p("("))
        {
            if t.get(i + 1).is_some_and(|n| n.is_p("."))
                && scope.is_row(&name)
                && let Some(field) = t.get(i + 2).and_then(Tok::name)
            {
                params.push(scope.field(&name, &field)?);
                out.push(word(&format!("?{}", params.len())));
                i += 3;
                continue;
            }
            if !t.get(i + 1).is_some_and(|n| n.is_p("."))
                && let Some(v) = scope.scalar(&name)
            {
                params.push(v);
                out.push(word(&format!("?{}", params.len())));
                i += 1;
                continue;
            }
            if !t.get(i + 1).is_some_and(|n| n.is_p(".")) && scope.is_row(&name) {
                return Err(format!(
                    "a whole row variable ({name}) cannot be used in an expression by the mock's PL/pgSQL"
                ));
            }
        }
        out.push(x.clone());
        i += 1;
    }
    Ok(render(&out))
}

/// [`bind`] into a fresh parameter list.
pub fn bind_new(toks: &[Tok], scope: &dyn Scope) -> Result<Bound, String> {
    let mut params = Vec::new();
    let sql = bind(toks, scope, &mut params)?;
    Ok(Bound { sql, params })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::lex::tokenize;

    struct S;
    impl Scope for S {
        fn scalar(&self, name: &str) -> Option<Value> {
            (name == "uid").then(|| Value::Text("u1".into()))
        }
        fn is_row(&self, name: &str) -> bool {
            name == "new"
        }
        fn field(&self, _name: &str, field: &str) -> Result<Value, String> {
            Ok(Value::Text(field.to_string()))
        }
    }

    #[test]
    fn binds_variables_and_rewrites() {
        let b = bind_new(
            &tokenize("insert into public.profiles (id, uid) values (new.id, uid::text)").unwrap(),
            &S,
        )
        .unwrap();
        assert_eq!(b.sql, "insert into profiles (id, uid) values (?1, ?2)");
        assert_eq!(b.params.len(), 2);
        let b = bind_new(
            &tokenize("update t set uid = uid where t.uid = uid and x ilike 'a%' and a is distinct from b").unwrap(),
            &S,
        )
        .unwrap();
        assert_eq!(
            b.sql,
            "update t set uid = ?1 where t.uid = ?2 and x MATCH 'a%' and a IS NOT b"
        );
    }
}
