//! The project's own functions inside a table's expressions (generated columns, `check`s and
//! defaults): each call is inlined, as Postgres itself inlines simple SQL functions, so the
//! expression stays one SQLite expression the typed translator ([`crate::pgexpr`]) writes and
//! SQLite computes on every insert and update.
//!
//! A call `f(a, b)` becomes `(body)::rettype`, where `body` is the function's one expression
//! with each parameter replaced by `(arg)::paramtype` (Postgres converts the arguments to the
//! parameter types and the result to the return type). Inlined:
//! - `language sql` functions whose body is one `select <expr>` without `from`, `where` or
//!   other clauses;
//! - PL/pgSQL functions without declarations or exception handlers whose body is `return
//!   <expr>;`, or `if`/`elsif`/`else` arms each ending in a `return` (a `case` expression).
//!
//! `strict` functions give NULL when an argument is NULL, as Postgres's do. A generated column
//! may call a function declared `immutable`, or a `language sql` one Postgres inlines before
//! its check (not `strict`, not `security definer`; SQLite then refuses a body calling a
//! non-deterministic function such as `now()`, as Postgres refuses it). Calls of other
//! project functions inside the body are inlined in turn. Anything else (a body reading
//! tables, loops, variables, named arguments, `setof` results) is refused with the reason:
//! the caller refuses the table rather than compute a different value.

use super::lex::{Tok, split_top};
use super::translate::matching;
use crate::routines::def::{FunctionDef, Language, Returns, positional_name};
use crate::routines::plpgsql::{Block, Stmt};
use crate::routines::{Function, Program};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How deep inlined calls may nest (a recursive function is refused).
const MAX_DEPTH: usize = 16;

/// A project function, with what its definition says beyond [`FunctionDef`].
#[derive(Clone, Debug)]
pub(crate) struct ProjectFn {
    /// The registered function.
    pub f: Arc<Function>,
    /// Declared `immutable` (a generated column may only call immutable functions).
    pub immutable: bool,
    /// Declared `strict` / `returns null on null input`.
    pub strict: bool,
}

/// The project's functions, by registry name (`join_names`, `util.slug`).
#[derive(Clone, Debug, Default)]
pub(crate) struct ProjectFns {
    fns: BTreeMap<String, ProjectFn>,
}

impl ProjectFns {
    /// The functions of `db`, with their volatility and strictness read from their stored
    /// source.
    pub(crate) fn load(db: &crate::db::Db) -> ProjectFns {
        let mut fns = BTreeMap::new();
        for (name, f) in &db.routines.functions {
            let source: String = db
                .query_row(
                    "SELECT source FROM _edgesim_functions WHERE name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .unwrap_or_default();
            let (immutable, strict) = attributes(&source);
            fns.insert(
                name.clone(),
                ProjectFn {
                    f: f.clone(),
                    immutable,
                    strict,
                },
            );
        }
        ProjectFns { fns }
    }

    /// A set of functions (for tests).
    #[cfg(test)]
    pub(crate) fn from_sources(sources: &[&str]) -> ProjectFns {
        let mut fns = BTreeMap::new();
        for s in sources {
            let def = crate::routines::def::create_function(s).expect("function");
            let program = crate::routines::compile(&def);
            let (immutable, strict) = attributes(s);
            let name = def.name.clone();
            let f = Arc::new(Function { def, program });
            fns.insert(
                name,
                ProjectFn {
                    f,
                    immutable,
                    strict,
                },
            );
        }
        ProjectFns { fns }
    }

    fn get(&self, name: &str) -> Option<&ProjectFn> {
        self.fns.get(name)
    }
}

impl ProjectFn {
    /// Whether Postgres inlines a call of this function before it checks a generation
    /// expression's immutability (a `language sql` function, not `strict`, not `security
    /// definer`): the body's own functions then decide, not the declared volatility (SQLite
    /// refuses a body calling a non-deterministic one, such as `now()`).
    fn inlined_by_postgres(&self) -> bool {
        self.f.def.language == Language::Sql && !self.strict && !self.f.def.security_definer
    }
}

impl ProjectFns {
    /// Whether any project function is called in `toks`.
    pub(crate) fn calls_any(&self, toks: &[Tok]) -> bool {
        (0..toks.len()).any(|i| self.call_at(toks, i).is_some())
    }

    /// The function called at `i` (`name(` or `public.name(`, not after a `.`) and the index
    /// of its `(`.
    fn call_at(&self, toks: &[Tok], i: usize) -> Option<(&ProjectFn, usize)> {
        if i > 0 && toks[i - 1].is_p(".") {
            return None;
        }
        let first = toks.get(i)?.name()?;
        let (key, open) = if toks.get(i + 1).is_some_and(|t| t.is_p(".")) {
            let second = toks.get(i + 2)?.name()?;
            let key = if first == "public" {
                second
            } else {
                format!("{first}.{second}")
            };
            (key, i + 3)
        } else {
            (first, i + 1)
        };
        if !toks.get(open)?.is_p("(") {
            return None;
        }
        self.get(&key).map(|f| (f, open))
    }

    /// `toks` with every call of a project function inlined; `immutable` refuses functions
    /// not declared `immutable` (generated columns, as Postgres's 42P17 "generation
    /// expression is not immutable").
    pub(crate) fn inline(&self, toks: &[Tok], immutable: bool) -> Result<Vec<Tok>, String> {
        self.inline_at(toks, immutable, 0)
    }

    fn inline_at(&self, toks: &[Tok], immutable: bool, depth: usize) -> Result<Vec<Tok>, String> {
        let mut out = Vec::with_capacity(toks.len());
        let mut i = 0;
        while i < toks.len() {
            let Some((f, open)) = self.call_at(toks, i) else {
                out.push(toks[i].clone());
                i += 1;
                continue;
            };
            let name = &f.f.def.name;
            if depth >= MAX_DEPTH {
                return Err(format!(
                    "function {name}() calls itself (or nests deeper than {MAX_DEPTH} calls)"
                ));
            }
            if immutable && !f.immutable && !f.inlined_by_postgres() {
                return Err(format!(
                    "generation expression is not immutable (function {name}() is not declared immutable)"
                ));
            }
            let close = matching(toks, open).ok_or("unbalanced parentheses")?;
            let args: Vec<Vec<Tok>> = split_top(&toks[open + 1..close])
                .into_iter()
                .filter(|a| !a.is_empty())
                .map(|a| self.inline_at(&a, immutable, depth))
                .collect::<Result<_, _>>()?;
            let body = expand(f, &args)?;
            let body = self.inline_at(&body, immutable, depth + 1)?;
            out.push(Tok::Punct("(".into()));
            out.extend(body);
            out.push(Tok::Punct(")".into()));
            i = close + 1;
        }
        Ok(out)
    }
}

/// Whether a `create function` source declares `immutable` and `strict` (outside its body).
fn attributes(source: &str) -> (bool, bool) {
    let Ok(toks) = super::lex::tokenize(source) else {
        return (false, false);
    };
    let immutable = toks.iter().any(|t| t.is("immutable"));
    let strict = toks.iter().any(|t| t.is("strict"))
        || toks
            .windows(4)
            .any(|w| w[0].is("null") && w[1].is("on") && w[2].is("null") && w[3].is("input"));
    (immutable, strict)
}

fn punct(p: &str) -> Tok {
    Tok::Punct(p.into())
}

/// `(toks)::ty` as tokens.
fn cast_to(toks: Vec<Tok>, ty: &str) -> Result<Vec<Tok>, String> {
    let mut out = vec![punct("(")];
    out.extend(toks);
    out.push(punct(")"));
    out.push(punct("::"));
    out.extend(super::lex::tokenize(ty)?);
    Ok(out)
}

/// The body of `f` as one expression of its arguments `args`.
fn expand(pf: &ProjectFn, args: &[Vec<Tok>]) -> Result<Vec<Tok>, String> {
    let f = &pf.f;
    let def = &f.def;
    let name = &def.name;
    let named = |a: &Vec<Tok>| {
        a.iter().any(|t| t.is_p("=>") || t.is_p(":="))
            || a.windows(2).any(|w| w[0].is_p("=") && w[1].is_p(">"))
    };
    if args.iter().any(named) {
        return Err(format!("named arguments in a call of {name}()"));
    }
    if !def.outs.is_empty() {
        return Err(format!("function {name}() has OUT parameters"));
    }
    let Returns::Scalar {
        ty: ret,
        set: false,
    } = &def.returns
    else {
        return Err(format!(
            "function {name}() does not return one scalar value"
        ));
    };
    if args.len() > def.params.len() {
        return Err(format!(
            "function {name}() takes {} arguments, {} given",
            def.params.len(),
            args.len()
        ));
    }
    // Each parameter's value: the argument converted to the parameter's type, or its default.
    let mut values: Vec<Vec<Tok>> = Vec::new();
    for (k, p) in def.params.iter().enumerate() {
        let v = match args.get(k) {
            Some(a) => a.clone(),
            None => p
                .default
                .clone()
                .ok_or_else(|| format!("function {name}() needs argument {}", p.name))?,
        };
        values.push(cast_to(v, &p.ty)?);
    }
    let program = f
        .program
        .as_ref()
        .map_err(|why| format!("function {name}() cannot run in the mock: {why}"))?;
    let body = match program {
        Program::Sql(stmts) => sql_body(def, stmts)?,
        Program::Pl(block) => pl_body(def, block)?,
    };
    let body = substitute(def, &body, &values);
    let mut out = cast_to(body, ret)?;
    if pf.strict && !values.is_empty() {
        // `case when a is null or b is null then null else (body) end`.
        let mut s = vec![Tok::Word("CASE".into()), Tok::Word("WHEN".into())];
        for (k, v) in values.iter().enumerate() {
            if k > 0 {
                s.push(Tok::Word("OR".into()));
            }
            s.push(punct("("));
            s.extend(v.iter().cloned());
            s.push(punct(")"));
            s.extend([Tok::Word("IS".into()), Tok::Word("NULL".into())]);
        }
        s.extend([
            Tok::Word("THEN".into()),
            Tok::Word("NULL".into()),
            Tok::Word("ELSE".into()),
        ]);
        s.extend(out);
        s.push(Tok::Word("END".into()));
        out = s;
    }
    Ok(out)
}

/// Clauses that make a `select` more than one expression.
const CLAUSES: &[&str] = &[
    "from",
    "where",
    "group",
    "having",
    "order",
    "limit",
    "offset",
    "union",
    "intersect",
    "except",
    "window",
    "into",
    "for",
    "fetch",
];

/// The expression of a `language sql` body `select <expr>`.
fn sql_body(def: &FunctionDef, stmts: &[Vec<Tok>]) -> Result<Vec<Tok>, String> {
    let name = &def.name;
    let refuse = || {
        format!(
            "function {name}(): only a `language sql` body that is one `select <expression>` \
             (no from, where or other clauses) can be computed in a table's expression"
        )
    };
    let [stmt] = stmts else { return Err(refuse()) };
    let Some(first) = stmt.first() else {
        return Err(refuse());
    };
    if !first.is("select") || stmt.get(1).is_some_and(|t| t.is("distinct") || t.is("all")) {
        return Err(refuse());
    }
    let expr = &stmt[1..];
    let mut depth = 0i32;
    for t in expr {
        if t.is_p("(") || t.is_p("[") {
            depth += 1;
        } else if t.is_p(")") || t.is_p("]") {
            depth -= 1;
        } else if depth == 0 && (t.is_p(",") || CLAUSES.iter().any(|c| t.is(c))) {
            return Err(refuse());
        }
    }
    // An output alias (`select a || b as full`) is not part of the expression.
    let expr = match expr.len() {
        n if n >= 2 && expr[n - 2].is("as") => &expr[..n - 2],
        _ => expr,
    };
    if expr.is_empty() {
        return Err(refuse());
    }
    Ok(expr.to_vec())
}

/// The expression a PL/pgSQL body computes: `return <expr>`, or `if` arms each ending in a
/// `return`, as a `case` expression.
fn pl_body(def: &FunctionDef, block: &Block) -> Result<Vec<Tok>, String> {
    let name = &def.name;
    let refuse = || {
        format!(
            "function {name}(): only a PL/pgSQL body of `return <expression>` (or `if` arms \
             each returning one) without declarations can be computed in a table's expression"
        )
    };
    if !block.decls.is_empty() || !block.handlers.is_empty() {
        return Err(refuse());
    }
    lower(&block.body).ok_or_else(refuse)
}

/// The value a statement list returns, as one expression; `None` when it does something else
/// or may end without returning.
fn lower(stmts: &[Stmt]) -> Option<Vec<Tok>> {
    match stmts.first()? {
        Stmt::Return(Some(e)) => Some(e.clone()),
        Stmt::If { arms, otherwise } => {
            let mut out = vec![Tok::Word("CASE".into())];
            for (cond, body) in arms {
                out.push(Tok::Word("WHEN".into()));
                out.push(punct("("));
                out.extend(cond.iter().cloned());
                out.push(punct(")"));
                out.push(Tok::Word("THEN".into()));
                out.push(punct("("));
                out.extend(lower(body)?);
                out.push(punct(")"));
            }
            // No `else`, or one that does not return: what follows the `if` runs.
            let rest = match lower(otherwise) {
                Some(e) => e,
                None if otherwise.is_empty() => lower(&stmts[1..])?,
                None => return None,
            };
            out.push(Tok::Word("ELSE".into()));
            out.push(punct("("));
            out.extend(rest);
            out.push(punct(")"));
            out.push(Tok::Word("END".into()));
            Some(out)
        }
        _ => None,
    }
}

/// `body` with each parameter reference (its name, or `$N`) replaced by its value.
fn substitute(def: &FunctionDef, body: &[Tok], values: &[Vec<Tok>]) -> Vec<Tok> {
    let sql = def.language == Language::Sql;
    let mut names: Vec<(String, usize)> = Vec::new();
    for (k, p) in def.params.iter().enumerate() {
        if !p.name.starts_with('$') {
            names.push((p.name.to_ascii_lowercase(), k));
        }
        let pos = if sql { k + 1 } else { p.position };
        names.push((positional_name(pos), k));
    }
    let mut out = Vec::with_capacity(body.len());
    for (i, t) in body.iter().enumerate() {
        let after_dot = i > 0 && body[i - 1].is_p(".");
        let before_call = body.get(i + 1).is_some_and(|n| n.is_p("(") || n.is_p("."));
        let param = match t {
            Tok::Word(_) | Tok::QIdent(_) if !after_dot && !before_call => t
                .name()
                .and_then(|n| names.iter().find(|(p, _)| *p == n).map(|(_, k)| *k)),
            _ => None,
        };
        match param {
            Some(k) => {
                out.push(punct("("));
                out.extend(values[k].iter().cloned());
                out.push(punct(")"));
            }
            None => out.push(t.clone()),
        }
    }
    out
}

/// The inlined form of `expr` as text (for messages and tests).
#[cfg(test)]
fn inlined(fns: &ProjectFns, expr: &str, immutable: bool) -> Result<String, String> {
    let toks = super::lex::tokenize(expr)?;
    fns.inline(&toks, immutable).map(|t| super::lex::render(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fns() -> ProjectFns {
        ProjectFns::from_sources(&[
            "create function public.join_names(a text, b text) returns text language sql immutable as $$ select a || ' ' || b $$",
            "create function initials(a text, b text) returns text language plpgsql immutable as $$ begin if a is null then return upper(left(b, 1)); end if; return upper(left(a, 1) || left(b, 1)); end $$",
            "create function pos(int) returns int language sql immutable strict as $$ select coalesce($1, 0) + 1 $$",
            "create function vol(a text) returns text language sql as $$ select a $$",
            "create function plvol(a text) returns text language plpgsql as $$ begin return a; end $$",
            "create function reads(a int) returns int language sql immutable as $$ select count(*) from t where id = a $$",
            "create function wrap(a text, b text) returns text language sql immutable as $$ select '<' || join_names(a, b) || '>' $$",
            "create function looped(a int) returns int language plpgsql immutable as $$ declare n int := 0; begin return a + n; end $$",
            "create function me(a int) returns int language sql immutable as $$ select me(a) $$",
        ])
    }

    #[test]
    fn sql_and_plpgsql_bodies_are_inlined() {
        let f = fns();
        let s = inlined(&f, "public.join_names(first, last)", true).unwrap();
        assert_eq!(
            s, "((((first) :: text) || ' ' || ((last) :: text)) :: text)",
            "{s}"
        );
        let s = inlined(&f, "initials(first, last)", true).unwrap();
        assert!(s.contains("CASE WHEN"), "{s}");
        assert!(s.contains("ELSE (upper"), "{s}");
        let s = inlined(&f, "pos(n)", true).unwrap();
        assert!(
            s.starts_with("(CASE WHEN ((n) :: int) IS NULL THEN NULL"),
            "{s}"
        );
        let s = inlined(&f, "wrap(a, b)", true).unwrap();
        assert!(!s.contains("join_names"), "{s}");
        assert!(f.calls_any(&super::super::lex::tokenize("x + pos(1)").unwrap()));
        assert!(!f.calls_any(&super::super::lex::tokenize("x.pos(1)").unwrap()));
    }

    #[test]
    fn what_cannot_be_inlined_is_refused() {
        let f = fns();
        // Postgres inlines a volatile `language sql` function before its immutability check,
        // never a PL/pgSQL one.
        assert!(inlined(&f, "vol(a)", true).is_ok());
        let e = inlined(&f, "plvol(a)", true).unwrap_err();
        assert!(e.contains("not immutable"), "{e}");
        assert!(inlined(&f, "plvol(a)", false).is_ok());
        let e = inlined(&f, "reads(id)", true).unwrap_err();
        assert!(e.contains("no from"), "{e}");
        let e = inlined(&f, "looped(id)", true).unwrap_err();
        assert!(e.contains("declarations"), "{e}");
        let e = inlined(&f, "me(id)", true).unwrap_err();
        assert!(e.contains("calls itself"), "{e}");
        let e = inlined(&f, "join_names(a => x, b => y)", true).unwrap_err();
        assert!(e.contains("named"), "{e}");
    }
}
