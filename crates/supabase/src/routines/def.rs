//! Parsing `create [or replace] function`, `drop function`, `create trigger` (row-level, with a
//! user function) and `drop trigger` into definitions the registry stores.

use crate::migrate::lex::{Tok, render, split_top_nonempty, tokenize};
use crate::migrate::translate::rewrite;

/// A function parameter.
#[derive(Clone, Debug)]
pub struct Param {
    /// Name (`$N` for an unnamed parameter).
    pub name: String,
    /// Declared type, lower case.
    pub ty: String,
    /// `default` expression tokens.
    pub default: Option<Vec<Tok>>,
    /// 1-based position among all the declared parameters (OUT ones included), for `$N`.
    pub position: usize,
}

/// A parameter's mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    In,
    Out,
    InOut,
    /// `variadic`: an IN parameter of an array type taking the trailing arguments.
    Variadic,
}

/// What a function returns.
#[derive(Clone, Debug, PartialEq)]
pub enum Returns {
    /// `void`.
    Void,
    /// A scalar (or a row of a table: `returns profiles`); `set` for `setof <scalar>`.
    Scalar {
        /// Type name, lower case.
        ty: String,
        /// `setof`.
        set: bool,
    },
    /// `setof <table>` (or a table's row type when `set` is false).
    Rows {
        /// The table.
        table: String,
        /// `setof`.
        set: bool,
    },
    /// `table (col type, ...)`, or `setof record` with several OUT parameters.
    Table(Vec<(String, String)>),
    /// One record of several OUT/INOUT parameters (`returns record`, not `setof`).
    Record(Vec<(String, String)>),
    /// `trigger`.
    Trigger,
}

/// The body language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// `language sql`.
    Sql,
    /// `language plpgsql`.
    Plpgsql,
}

/// A parsed `create function`.
#[derive(Clone, Debug)]
pub struct FunctionDef {
    /// Function name (schema `public` dropped; other schemas kept as `schema.name`).
    pub name: String,
    /// The parameters a caller passes (IN and INOUT), in order.
    pub params: Vec<Param>,
    /// The OUT and INOUT parameters, in order: the function's result is their record (their
    /// value with only one).
    pub outs: Vec<Param>,
    /// Return type.
    pub returns: Returns,
    /// Language.
    pub language: Language,
    /// The body text (inside the dollar quotes).
    pub body: String,
    /// `or replace`.
    pub replace: bool,
    /// `security definer`: runs with the owner's rights (else the caller's: its reads see only
    /// the rows the caller's policies allow, see [`super::invoker`]).
    pub security_definer: bool,
    /// The last parameter of `params` is `variadic` (an array taking the trailing arguments
    /// of a positional call; `variadic <array>` passes the array itself).
    pub variadic: bool,
    /// `strict` / `returns null on null input`: NULL when an argument is NULL.
    pub strict: bool,
}

/// Row-level trigger timing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timing {
    /// `before`.
    Before,
    /// `after`.
    After,
}

/// A parsed `create trigger ... for each row execute function f()`.
#[derive(Clone, Debug)]
pub struct TriggerDef {
    /// Trigger name.
    pub name: String,
    /// Table (as [`table_key`] spells it).
    pub table: String,
    /// Before or after.
    pub timing: Timing,
    /// `INSERT`, `UPDATE`, `DELETE`.
    pub events: Vec<String>,
    /// `update of col, ...` (empty = any column).
    pub update_of: Vec<String>,
    /// `when (...)` condition tokens.
    pub when: Option<Vec<Tok>>,
    /// The trigger function.
    pub function: String,
    /// `for each row` (else `for each statement`: fired once per statement, with `NEW` and
    /// `OLD` null).
    pub for_each_row: bool,
    /// The literal arguments of `execute function f('a', 2)`, as text (`TG_ARGV`).
    pub args: Vec<String>,
}

/// Splits `text` around its first dollar-quoted string: `(before, body, after)`.
pub fn split_dollar(text: &str) -> Option<(String, String, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            i += 1;
            continue;
        }
        if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '$' && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')) {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let digits = j > i + 1 && chars[i + 1..j].iter().all(char::is_ascii_digit);
            if chars.get(j) == Some(&'$') && !digits {
                let tag: String = chars[i..=j].iter().collect();
                let rest: String = chars[j + 1..].iter().collect();
                let end = rest.find(&tag)?;
                let before: String = chars[..i].iter().collect();
                let body = rest[..end].to_string();
                let after = rest[end + tag.len()..].to_string();
                return Some((before, body, after));
            }
        }
        i += 1;
    }
    None
}

/// Replaces positional parameters `$1` (outside strings) with words `_edgesim_p1`, so bodies
/// tokenize with the migration lexer.
pub fn positional_words(body: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                    out.push(c);
                } else if c == '$' && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                    out.push_str("_edgesim_p");
                } else {
                    out.push(c);
                }
            }
        }
        i += 1;
    }
    out
}

/// The name a positional parameter gets after [`positional_words`].
pub fn positional_name(n: usize) -> String {
    format!("_edgesim_p{n}")
}

/// A qualified name at `i` (`schema.name` or `name`): the key (`public.` dropped) and the index
/// after it.
pub fn qualified(t: &[Tok], i: usize) -> Option<(String, usize)> {
    let first = t.get(i)?.name()?;
    if t.get(i + 1).is_some_and(|x| x.is_p(".")) {
        let second = t.get(i + 2)?.name()?;
        let key = if first == "public" {
            second
        } else {
            format!("{first}.{second}")
        };
        return Some((key, i + 3));
    }
    Some((first, i + 1))
}

/// The registry key of a table named by `toks` (after the migration rewrite), e.g. `profiles`
/// or `auth.users`.
pub fn table_key(toks: &[Tok]) -> Option<String> {
    let t = rewrite(toks).ok()?;
    qualified(&t, 0).map(|(k, _)| k)
}

const OPTION_WORDS: &[&str] = &[
    "language",
    "as",
    "security",
    "stable",
    "immutable",
    "volatile",
    "set",
    "strict",
    "parallel",
    "cost",
    "rows",
    "leakproof",
    "not",
    "called",
    "returns",
    "window",
    "external",
    "support",
];

fn index_of(t: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (j, x) in t.iter().enumerate().skip(open) {
        if x.is_p("(") {
            depth += 1;
        } else if x.is_p(")") {
            depth -= 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

fn type_text(toks: &[Tok]) -> String {
    render(toks).to_ascii_lowercase().replace(" [", "[")
}

fn param(item: &[Tok], n: usize) -> Result<(Mode, Param), String> {
    let mut i = 1;
    let mode = match item.first() {
        Some(t) if t.is("in") => Mode::In,
        Some(t) if t.is("out") => Mode::Out,
        Some(t) if t.is("inout") => Mode::InOut,
        Some(t) if t.is("variadic") => Mode::Variadic,
        _ => {
            i = 0;
            Mode::In
        }
    };
    let rest = &item[i..];
    let def_at = rest
        .iter()
        .position(|t| t.is("default") || t.is_p("="))
        .unwrap_or(rest.len());
    let decl = &rest[..def_at];
    let default = (def_at < rest.len()).then(|| rest[def_at + 1..].to_vec());
    let named = decl.len() >= 2
        && decl[0].name().is_some()
        && !matches!(
            decl[0].name().as_deref(),
            Some("double" | "character" | "timestamp" | "time" | "bit")
        );
    let (name, ty) = if named {
        (decl[0].name().unwrap_or_default(), type_text(&decl[1..]))
    } else {
        (format!("${n}"), type_text(decl))
    };
    if ty.is_empty() {
        return Err("expected a parameter type".into());
    }
    Ok((
        mode,
        Param {
            name,
            ty,
            default,
            position: n,
        },
    ))
}

/// Parses `create [or replace] function ...`.
pub fn create_function(stmt: &str) -> Result<FunctionDef, String> {
    let (head, body, tail) = match split_dollar(stmt) {
        Some(parts) => parts,
        None => return Err("function bodies must be dollar-quoted ($$ ... $$) in the mock".into()),
    };
    let mut t = tokenize(&head)?;
    let tail_toks = tokenize(&tail)?;
    t.extend(tail_toks);
    let mut i = 1;
    let replace = t.get(1).is_some_and(|x| x.is("or"));
    if replace {
        i = 3;
    }
    if !t.get(i).is_some_and(|x| x.is("function")) {
        return Err("expected FUNCTION".into());
    }
    let (name, j) = qualified(&t, i + 1).ok_or("expected a function name")?;
    if !t.get(j).is_some_and(|x| x.is_p("(")) {
        return Err("expected a parameter list".into());
    }
    let close = index_of(&t, j).ok_or("unbalanced parentheses")?;
    let all = split_top_nonempty(&t[j + 1..close])
        .iter()
        .enumerate()
        .map(|(n, p)| param(p, n + 1))
        .collect::<Result<Vec<_>, _>>()?;
    let params: Vec<Param> = all
        .iter()
        .filter(|(m, _)| *m != Mode::Out)
        .map(|(_, p)| p.clone())
        .collect();
    let outs: Vec<Param> = all
        .iter()
        .filter(|(m, _)| matches!(m, Mode::Out | Mode::InOut))
        .map(|(_, p)| p.clone())
        .collect();
    // Postgres: the VARIADIC parameter is the last input one, of an array type.
    let variadic = all.iter().any(|(m, _)| *m == Mode::Variadic);
    if variadic {
        let last_in = all.iter().rposition(|(m, _)| *m != Mode::Out);
        match last_in.map(|i| &all[i]) {
            Some((Mode::Variadic, p)) if p.ty.replace(' ', "").ends_with("[]") => {}
            Some((Mode::Variadic, _)) => {
                return Err("VARIADIC parameter must be an array (42P13)".into());
            }
            _ => return Err("VARIADIC parameter must be the last input parameter (42P13)".into()),
        }
    }
    let mut k = close + 1;
    let mut returns = None;
    let mut language = None;
    let mut security_definer = false;
    let strict = t[close..].iter().any(|x| x.is("strict"))
        || t[close..]
            .windows(4)
            .any(|w| w[0].is("null") && w[1].is("on") && w[2].is("null") && w[3].is("input"));
    while k < t.len() {
        let x = &t[k];
        if x.is("security") {
            security_definer = t.get(k + 1).is_some_and(|y| y.is("definer"));
            k += 2;
            continue;
        }
        if x.is("returns") && returns.is_none() {
            let start = k + 1;
            if t.get(start).is_some_and(|y| y.is("table")) {
                let open = start + 1;
                let end = index_of(&t, open).ok_or("unbalanced parentheses")?;
                let cols = split_top_nonempty(&t[open + 1..end])
                    .iter()
                    .map(|c| {
                        let n = c.first().and_then(Tok::name).unwrap_or_default();
                        (n, type_text(&c[1..]))
                    })
                    .collect();
                returns = Some(Returns::Table(cols));
                k = end + 1;
                continue;
            }
            let mut e = start;
            while e < t.len() && !OPTION_WORDS.iter().any(|w| t[e].is(w)) {
                e += 1;
            }
            let spec = &t[start..e];
            let set = spec.first().is_some_and(|y| y.is("setof"));
            let ty_toks = if set { &spec[1..] } else { spec };
            let ty = type_text(ty_toks);
            returns = Some(match ty.as_str() {
                "void" => Returns::Void,
                "trigger" => Returns::Trigger,
                "" => return Err("expected a return type".into()),
                _ => {
                    let is_table = qualified(ty_toks, 0)
                        .is_some_and(|(_, end)| end == ty_toks.len())
                        && !crate::routines::is_scalar_type(&ty);
                    if is_table {
                        Returns::Rows {
                            table: qualified(ty_toks, 0).map(|(k, _)| k).unwrap_or_default(),
                            set,
                        }
                    } else {
                        Returns::Scalar { ty, set }
                    }
                }
            });
            k = e;
            continue;
        }
        if x.is("language") {
            let l = t.get(k + 1).map(|y| match y {
                Tok::Str(s) => s.trim_matches('\'').to_ascii_lowercase(),
                other => other.name().unwrap_or_default(),
            });
            language = Some(match l.as_deref() {
                Some("sql") => Language::Sql,
                Some("plpgsql") => Language::Plpgsql,
                Some(other) => {
                    return Err(format!("language {other} is not supported by the mock"));
                }
                None => return Err("expected a language".into()),
            });
            k += 2;
            continue;
        }
        k += 1;
    }
    if !outs.is_empty() {
        returns = Some(out_returns(&outs, returns)?);
    }
    Ok(FunctionDef {
        name,
        params,
        outs,
        returns: returns.ok_or("expected RETURNS")?,
        language: language.unwrap_or(Language::Sql),
        body,
        replace,
        security_definer,
        variadic,
        strict,
    })
}

/// The result of a function with OUT/INOUT parameters: their value with one, their record
/// with several (`setof` when declared `returns setof record` or `setof <type>`).
fn out_returns(outs: &[Param], declared: Option<Returns>) -> Result<Returns, String> {
    let set = match &declared {
        None => false,
        Some(Returns::Scalar { set, .. } | Returns::Rows { set, .. }) => *set,
        Some(_) => {
            return Err("function result type must match its OUT parameters".into());
        }
    };
    if let [one] = outs {
        return Ok(Returns::Scalar {
            ty: one.ty.clone(),
            set,
        });
    }
    let cols = outs
        .iter()
        .map(|p| (p.name.clone(), p.ty.clone()))
        .collect();
    Ok(if set {
        Returns::Table(cols)
    } else {
        Returns::Record(cols)
    })
}

/// Parses `drop function [if exists] name[(types)] [, ...] [cascade]`: the names.
pub fn drop_function(toks: &[Tok]) -> Result<(Vec<String>, bool), String> {
    let mut i = 2;
    let mut if_exists = false;
    if toks.get(2).is_some_and(|t| t.is("if")) && toks.get(3).is_some_and(|t| t.is("exists")) {
        if_exists = true;
        i = 4;
    }
    let mut names = Vec::new();
    while i < toks.len() {
        let (name, mut j) = qualified(toks, i).ok_or("expected a function name")?;
        names.push(name);
        if toks.get(j).is_some_and(|t| t.is_p("(")) {
            j = index_of(toks, j).ok_or("unbalanced parentheses")? + 1;
        }
        if toks.get(j).is_some_and(|t| t.is_p(",")) {
            i = j + 1;
        } else {
            break;
        }
    }
    Ok((names, if_exists))
}

/// Parses `create [or replace] trigger name {before|after} events on table for each row
/// [when (cond)] execute {function|procedure} f()`. `Ok(None)` for a Database Webhook trigger
/// (handled by the webhook translator).
pub fn create_trigger(toks: &[Tok]) -> Result<Option<TriggerDef>, String> {
    let t = rewrite(toks)?;
    if t.windows(3).any(|w| {
        w[0].name().as_deref() == Some("supabase_functions")
            && w[1].is_p(".")
            && w[2].name().as_deref() == Some("http_request")
    }) {
        return Ok(None);
    }
    let mut i = 1;
    if t.get(1).is_some_and(|x| x.is("or")) {
        i = 3;
    }
    if t.get(i).is_some_and(|x| x.is("constraint")) {
        return Err("constraint triggers are not supported by the mock".into());
    }
    if !t.get(i).is_some_and(|x| x.is("trigger")) {
        return Err("expected TRIGGER".into());
    }
    let name = t
        .get(i + 1)
        .and_then(Tok::name)
        .ok_or("expected a trigger name")?;
    let timing = match t.get(i + 2) {
        Some(x) if x.is("before") => Timing::Before,
        Some(x) if x.is("after") => Timing::After,
        Some(x) if x.is("instead") => {
            return Err("INSTEAD OF triggers (on views) are not supported by the mock".into());
        }
        _ => return Err("expected BEFORE or AFTER".into()),
    };
    let mut j = i + 3;
    let mut events = Vec::new();
    let mut update_of = Vec::new();
    while let Some(x) = t.get(j) {
        if x.is("on") {
            break;
        }
        if x.is("insert") || x.is("update") || x.is("delete") {
            events.push(x.sql().to_ascii_uppercase());
        } else if x.is("truncate") {
            return Err("TRUNCATE triggers are not supported by the mock".into());
        } else if x.is("of") {
            j += 1;
            while let Some(c) = t.get(j) {
                if c.is("or") || c.is("on") {
                    break;
                }
                if let Some(n) = c.name() {
                    update_of.push(n);
                }
                j += 1;
            }
            continue;
        }
        j += 1;
    }
    let (table, mut k) = qualified(&t, j + 1).ok_or("expected a table name")?;
    let mut row = false;
    let mut when = None;
    let mut function = None;
    let mut args = Vec::new();
    while k < t.len() {
        let x = &t[k];
        if x.is("referencing") {
            return Err("REFERENCING (transition tables) is not supported by the mock".into());
        }
        if x.is("row") {
            row = true;
        }
        if x.is("when") && t.get(k + 1).is_some_and(|y| y.is_p("(")) {
            let end = index_of(&t, k + 1).ok_or("unbalanced parentheses")?;
            when = Some(t[k + 2..end].to_vec());
            k = end + 1;
            continue;
        }
        if x.is("execute") {
            let (f, end) = qualified(&t, k + 2).ok_or("expected a trigger function")?;
            if t.get(end).is_some_and(|y| y.is_p("(")) {
                let close = index_of(&t, end).ok_or("unbalanced parentheses")?;
                for a in split_top_nonempty(&t[end + 1..close]) {
                    args.push(trigger_arg(&a)?);
                }
            }
            function = Some(f);
            break;
        }
        k += 1;
    }
    Ok(Some(TriggerDef {
        name,
        table,
        timing,
        events,
        update_of,
        when,
        function: function.ok_or("expected EXECUTE FUNCTION")?,
        for_each_row: row,
        args,
    }))
}

/// One trigger argument: a string literal, a number or a bare word, as text (Postgres stores
/// them all as strings).
fn trigger_arg(a: &[Tok]) -> Result<String, String> {
    let refuse = || {
        format!(
            "trigger function arguments must be literals (got `{}`)",
            render(a)
        )
    };
    match a {
        [Tok::Str(s)] => {
            let inner = s
                .strip_prefix('\'')
                .and_then(|x| x.strip_suffix('\''))
                .ok_or_else(refuse)?;
            Ok(inner.replace("''", "'"))
        }
        [Tok::Num(n)] => Ok(n.clone()),
        [Tok::Punct(m), Tok::Num(n)] if m == "-" => Ok(format!("-{n}")),
        [Tok::Word(w)] => Ok(w.to_ascii_lowercase()),
        [Tok::QIdent(w)] => Ok(w.clone()),
        _ => Err(refuse()),
    }
}

/// Parses `drop trigger [if exists] name on table [cascade]`: `(name, table, if_exists)`.
pub fn drop_trigger(toks: &[Tok]) -> Result<(String, String, bool), String> {
    let t = rewrite(toks)?;
    let mut i = 2;
    let mut if_exists = false;
    if t.get(2).is_some_and(|x| x.is("if")) && t.get(3).is_some_and(|x| x.is("exists")) {
        if_exists = true;
        i = 4;
    }
    let name = t
        .get(i)
        .and_then(Tok::name)
        .ok_or("expected a trigger name")?;
    if !t.get(i + 1).is_some_and(|x| x.is("on")) {
        return Err("expected ON table".into());
    }
    let (table, _) = qualified(&t, i + 2).ok_or("expected a table name")?;
    Ok((name, table, if_exists))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_functions_and_triggers() {
        let f = create_function(
            "create or replace function public.search(query text, lim int default 10) returns setof public.articles language sql stable as $$ select * from articles where title ilike '%' || query || '%' limit lim $$",
        )
        .unwrap();
        assert_eq!(f.name, "search");
        assert_eq!(f.params.len(), 2);
        assert_eq!(f.params[1].name, "lim");
        assert!(f.params[1].default.is_some());
        assert_eq!(
            f.returns,
            Returns::Rows {
                table: "articles".into(),
                set: true
            }
        );
        assert_eq!(f.language, Language::Sql);
        let g = create_function(
            "create function handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $fn$ begin insert into public.profiles (id) values (new.id); return new; end; $fn$;",
        )
        .unwrap();
        assert_eq!(g.returns, Returns::Trigger);
        assert_eq!(g.language, Language::Plpgsql);
        assert!(g.body.contains("insert into public.profiles"));
        let h = create_function(
            "create function f(integer, b text) returns table (id bigint, name text) as $$ select 1, b $$ language sql",
        )
        .unwrap();
        assert_eq!(h.params[0].name, "$1");
        assert_eq!(h.params[1].name, "b");
        assert!(matches!(h.returns, Returns::Table(ref c) if c.len() == 2));
        let tr = create_trigger(
            &tokenize("create trigger on_auth_user_created after insert on auth.users for each row execute procedure public.handle_new_user()").unwrap(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(tr.table, "auth.users");
        assert_eq!(tr.function, "handle_new_user");
        assert_eq!(tr.timing, Timing::After);
        let tr = create_trigger(
            &tokenize("create trigger t1 before update of title or delete on public.posts for each row when (old.title is distinct from new.title) execute function touch()").unwrap(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(tr.events, vec!["UPDATE", "DELETE"]);
        assert_eq!(tr.update_of, vec!["title"]);
        assert!(tr.when.is_some());
        let tr = create_trigger(
            &tokenize("create trigger t2 before insert on x for each row execute function f('a', 2, 'it''s', Word)").unwrap(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(tr.args, vec!["a", "2", "it's", "word"]);
        assert!(
            create_trigger(
                &tokenize(
                    "create trigger t3 before insert on x for each row execute function f(1 + 2)"
                )
                .unwrap(),
            )
            .is_err()
        );
        assert_eq!(
            positional_words("select $1 || '$2'"),
            "select _edgesim_p1 || '$2'"
        );
    }
}
