//! The interpreter: runs `language sql` and PL/pgSQL functions, trigger functions and `do`
//! blocks. Expressions and queries run as SQLite SQL with variables bound as parameters; writes
//! go through [`super::dml`] so they fire triggers too. Everything runs inside the caller's
//! transaction: an error (`raise exception` included) propagates and rolls the statement back.

use super::plpgsql::{Block, Stmt};
use super::sqlbind::{Scope, bind};
use crate::db::Db;
use crate::errors::ApiError;
use crate::migrate::lex::Tok;
use crate::pgexpr::{Env as _, Ty};
use crate::sqlerr::{self, ErrCtx, pg};
use rusqlite::types::Value;
use std::collections::BTreeMap;

mod entry;
mod env;
mod raise;

pub use entry::{call, fire, run_do, when_holds};
use env::{Env, Flow, Ret, Var};
pub use env::{Output, Row, truthy, value_text};
use raise::condition_code;

/// Why a block with exception handlers failed: its body (a handler may catch it) or the
/// savepoint around it (none may).
enum BlockErr {
    Body(ApiError),
    Savepoint(ApiError),
}

/// Nesting limit for function calls and triggers (Postgres' `max_stack_depth` stand-in).
pub const MAX_DEPTH: usize = 32;
/// Statements one call may run before it is cancelled (an endless loop must not hang the mock).
pub const MAX_STEPS: u64 = 1_000_000;

/// The running state of one call.
pub struct Ctx<'a> {
    /// The database (inside the caller's transaction).
    pub db: &'a Db,
    /// Nesting depth.
    pub depth: usize,
    steps: u64,
    out_rows: Vec<Row>,
    out_values: Vec<Value>,
    row_count: usize,
    /// Security invoker: reads see only the rows the caller's policies allow.
    invoker: bool,
    /// The function's OUT/INOUT parameter names (`return next;` emits their values).
    outs: Vec<String>,
}

/// A Postgres error as PostgREST forwards it; `message` keeps PostgREST's body shape.
fn err(code: &str, message: impl Into<String>) -> ApiError {
    pg(code, message)
}

fn plerr(message: impl Into<String>) -> ApiError {
    err("0A000", message)
}

impl<'a> Ctx<'a> {
    /// A new call context at `depth`.
    pub fn new(db: &'a Db, depth: usize) -> Result<Ctx<'a>, ApiError> {
        if depth > MAX_DEPTH {
            return Err(err("54001", "stack depth limit exceeded").hint(
                "Functions or triggers call each other too deeply (the mock stops at 32 levels).",
            ));
        }
        Ok(Ctx {
            db,
            depth,
            steps: 0,
            out_rows: Vec::new(),
            out_values: Vec::new(),
            row_count: 0,
            invoker: false,
            outs: Vec::new(),
        })
    }

    fn sql_err(&self, e: &rusqlite::Error) -> ApiError {
        sqlerr::map(
            e,
            &ErrCtx {
                schema: Some(&self.db.schema),
                ..Default::default()
            },
        )
    }

    fn bind(&self, toks: &[Tok], env: &Env, params: &mut Vec<Value>) -> Result<String, ApiError> {
        // `auth.users` and other platform-schema tables are SQLite tables named `"auth.users"`.
        let toks = match &env.tg_argv {
            Some(args) => tg_argv(toks, args),
            None => toks.to_vec(),
        };
        let mut toks = crate::migrate::dispatch::qualify_schemas(&toks, &self.db.catalog.schemas);
        toks = self.typed(toks, env)?;
        if self.invoker {
            toks = super::invoker::scope_reads(self.db, toks)?;
        }
        bind(&toks, env, params).map_err(|m| {
            if m.starts_with("record ") {
                err("42703", m)
            } else {
                plerr(m)
            }
        })
    }

    /// Runs a query; returns column names and rows.
    fn query(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<(Vec<String>, Vec<Vec<Value>>), ApiError> {
        let mut st = self.db.prepare(sql).map_err(|e| self.sql_err(&e))?;
        let cols: Vec<String> = st.column_names().iter().map(|c| c.to_string()).collect();
        let n = cols.len();
        let used = st.parameter_count().min(params.len());
        let mut rows = st
            .query(rusqlite::params_from_iter(params[..used].iter()))
            .map_err(|e| self.sql_err(&e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.sql_err(&e))? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(Value::from(r.get_ref(i).map_err(|e| self.sql_err(&e))?));
            }
            out.push(vals);
        }
        Ok((cols, out))
    }

    /// A query (`select`, `with`, `values`) or a write (`insert`, `update`, `delete`) through
    /// the typed translator
    /// ([`crate::pgexpr`]): casts, division and dates keep Postgres's meaning; a construct it
    /// cannot keep faithful is a `0A000` error, never a different answer. Other statements, and
    /// queries `sqlparser` cannot parse, keep the token rewrite.
    fn typed(&self, toks: Vec<Tok>, env: &Env) -> Result<Vec<Tok>, ApiError> {
        let is_query = toks.first().is_some_and(|t| {
            t.is("select")
                || t.is("with")
                || t.is("values")
                || t.is("insert")
                || t.is("update")
                || t.is("delete")
        });
        if !is_query {
            return Ok(toks);
        }
        let text = crate::migrate::lex::render(&toks);
        let vars = |n: &str| match env.lookup(n) {
            Some(Var::Scalar(_)) => Some(env.types.get(n).cloned().unwrap_or(Ty::Any)),
            Some(Var::Row(_)) => Some(Ty::Any),
            // `rec.field`: typed when the record's table is known (`new`, `old`, `%rowtype`).
            None => {
                let (rec, _) = n.split_once('.')?;
                match env.lookup(rec) {
                    Some(Var::Row(_)) => env.types.get(n).cloned(),
                    _ => None,
                }
            }
        };
        let key = format!("{text}\u{0}{:?}", env.types);
        match self.db.typed_query(&key, &text, &vars) {
            Ok(sql) => crate::migrate::lex::tokenize(&sql).map_err(plerr),
            Err(crate::pgexpr::PgExprError::Parse(_)) => Ok(toks),
            Err(e) => Err(err("0A000", e.to_string())),
        }
    }

    /// Gives record variable `var` the field types of `query`'s output columns (so orderings
    /// and casts of `var.field` are typed); fields of unknown type stay untyped.
    fn type_row_var(&self, var: &str, query: &[Tok], env: &mut Env) {
        let toks = match &env.tg_argv {
            Some(args) => tg_argv(query, args),
            None => query.to_vec(),
        };
        let toks = crate::migrate::dispatch::qualify_schemas(&toks, &self.db.catalog.schemas);
        let text = crate::migrate::lex::render(&toks);
        let types = &env.types;
        let scopes = &env.scopes;
        let lookup = |n: &str| scopes.iter().rev().find_map(|s| s.get(n));
        let vars = |n: &str| match lookup(n) {
            Some(Var::Scalar(_)) => Some(types.get(n).cloned().unwrap_or(Ty::Any)),
            Some(Var::Row(_)) => Some(Ty::Any),
            None => {
                let (rec, _) = n.split_once('.')?;
                match lookup(rec) {
                    Some(Var::Row(_)) => types.get(n).cloned(),
                    _ => None,
                }
            }
        };
        let cols = crate::pgexpr::query_columns(&text, &self.db.typed_env(Some(&vars)))
            .unwrap_or_default();
        set_row_types(env, var, cols);
    }

    /// Evaluates an expression to one value.
    fn eval(&self, toks: &[Tok], env: &Env) -> Result<Value, ApiError> {
        let mut params = Vec::new();
        let mut q = vec![Tok::Word("SELECT".into())];
        q.extend(toks.iter().cloned());
        let sql = self.bind(&q, env, &mut params)?;
        let (_, rows) = self.query(&sql, &params)?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .unwrap_or(Value::Null))
    }

    fn cond(&self, toks: &[Tok], env: &Env) -> Result<bool, ApiError> {
        Ok(truthy(&self.eval(toks, env)?))
    }

    /// Runs a statement (query or write) with bound variables; returns its rows and the count
    /// of affected (or returned) rows.
    #[allow(clippy::type_complexity)]
    fn run_sql(
        &mut self,
        toks: &[Tok],
        env: &Env,
    ) -> Result<(Vec<String>, Vec<Vec<Value>>, usize), ApiError> {
        let mut params = Vec::new();
        let sql = self.bind(toks, env, &mut params)?;
        let is_write = toks
            .first()
            .is_some_and(|t| t.is("insert") || t.is("update") || t.is("delete"));
        if !is_write {
            let (cols, rows) = self.query(&sql, &params)?;
            let n = rows.len();
            return Ok((cols, rows, n));
        }
        let mut cols = Vec::new();
        let mut rows = Vec::new();
        let mut on_row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<()> {
            let st = r.as_ref();
            if cols.is_empty() {
                cols = st.column_names().iter().map(|c| c.to_string()).collect();
            }
            let mut vals = Vec::new();
            for i in 0..st.column_count() {
                vals.push(Value::from(r.get_ref(i)?));
            }
            rows.push(vals);
            Ok(())
        };
        let db = self.db;
        let map = |e: &rusqlite::Error| {
            sqlerr::map(
                e,
                &ErrCtx {
                    schema: Some(&db.schema),
                    ..Default::default()
                },
            )
        };
        let n = super::dml::execute(db, &sql, &params, Some(&mut on_row), &map, self.depth + 1)?;
        Ok((cols, rows, n))
    }

    fn step(&mut self) -> Result<(), ApiError> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(err("57014", "canceling statement due to statement timeout").hint(
                "The function ran more than 1000000 statements (the mock's guard against endless loops).",
            ));
        }
        Ok(())
    }

    fn assign_into(
        &self,
        env: &mut Env,
        into: &[String],
        cols: &[String],
        row: Option<Vec<Value>>,
    ) -> Result<(), ApiError> {
        if into.len() == 1 && env.is_row(&into[0]) {
            let v = row.map(|vals| Row {
                cols: cols.to_vec(),
                vals,
            });
            if let Some(slot) = env.lookup_mut(&into[0]) {
                *slot = Var::Row(v);
            }
            return Ok(());
        }
        for (k, name) in into.iter().enumerate() {
            let v = row
                .as_ref()
                .and_then(|r| r.get(k).cloned())
                .unwrap_or(Value::Null);
            match env.lookup_mut(name) {
                Some(slot) => *slot = Var::Scalar(v),
                None => {
                    return Err(err("42601", format!("\"{name}\" is not a known variable")));
                }
            }
        }
        Ok(())
    }

    fn assign(
        &self,
        env: &mut Env,
        var: &str,
        field: Option<&str>,
        v: Value,
    ) -> Result<(), ApiError> {
        match field {
            Some(f) => match env.lookup_mut(var) {
                Some(Var::Row(Some(r))) => {
                    if r.set(f, v) {
                        Ok(())
                    } else {
                        Err(err(
                            "42703",
                            format!("record \"{var}\" has no field \"{f}\""),
                        ))
                    }
                }
                Some(Var::Row(None)) => Err(err(
                    "55000",
                    format!("record \"{var}\" is not assigned yet"),
                )),
                _ => Err(err(
                    "42601",
                    format!("\"{var}.{f}\" is not a known variable"),
                )),
            },
            None => {
                if env.constants.contains(var) {
                    return Err(err(
                        "22005",
                        format!("variable \"{var}\" is declared CONSTANT"),
                    ));
                }
                let v = match env.types.get(var) {
                    Some(t) => self.assign_cast(v, t)?,
                    None => v,
                };
                match env.lookup_mut(var) {
                    Some(Var::Scalar(slot)) => {
                        *slot = v;
                        Ok(())
                    }
                    Some(Var::Row(_)) => Err(plerr(format!(
                        "assigning a value to row variable \"{var}\" is not supported by the mock's PL/pgSQL"
                    ))),
                    None => Err(err("42601", format!("\"{var}\" is not a known variable"))),
                }
            }
        }
    }

    /// The type a `declare` names (`int`, `numeric(10,2)`, `t.col%type`); `Any` when the mock
    /// does not know it (the value is kept as computed).
    pub(super) fn decl_type(&self, t: &str) -> Ty {
        let t = t.trim().to_ascii_lowercase();
        if let Some(col) = t.strip_suffix("%type") {
            let (table, c) = col.rsplit_once('.').unwrap_or(("", col));
            let table = table.strip_prefix("public.").unwrap_or(table);
            return self
                .db
                .typed_env(None)
                .columns(table)
                .and_then(|cols| cols.into_iter().find(|(n, _)| n == c).map(|(_, t)| t))
                .unwrap_or(Ty::Any);
        }
        let cat = &self.db.catalog;
        Ty::from_cast_name(&t, &|n| cat.enums.contains(n)).unwrap_or(Ty::Any)
    }

    /// Postgres's assignment cast of `v` to a variable of type `t` (`n int := 7.9` is 8).
    pub(super) fn assign_cast(&self, v: Value, t: &Ty) -> Result<Value, ApiError> {
        if matches!(v, Value::Null) || !t.known() || matches!(t, Ty::Array(_) | Ty::Interval(_)) {
            return Ok(v);
        }
        let from = match &v {
            Value::Integer(_) => "bigint",
            Value::Real(_) => "numeric",
            _ => "text",
        };
        let to = match t {
            Ty::Enum(_) => "text",
            other => other.decl(),
        };
        self.db
            .query_row(
                "SELECT pg_cast(?1, ?2, ?3)",
                rusqlite::params![v, from, to],
                |r| r.get::<_, Value>(0),
            )
            .map_err(|e| self.sql_err(&e))
    }

    fn ret_of(&self, toks: &[Tok], env: &Env) -> Result<Ret, ApiError> {
        if toks.len() == 1
            && let Some(n) = toks[0].name()
        {
            if let Some(Var::Row(r)) = env.lookup(&n) {
                return Ok(r.clone().map_or(Ret::Null, Ret::Row));
            }
            if n == "null" {
                return Ok(Ret::Null);
            }
        }
        Ok(Ret::Value(self.eval(toks, env)?))
    }

    fn block(&mut self, b: &Block, env: &mut Env) -> Result<Flow, ApiError> {
        env.scopes.push(BTreeMap::new());
        let r = self.block_inner(b, env);
        env.scopes.pop();
        r
    }

    fn block_inner(&mut self, b: &Block, env: &mut Env) -> Result<Flow, ApiError> {
        for d in &b.decls {
            if let Some(of) = &d.alias_of {
                let v = env.lookup(&of.replace('$', "_edgesim_p")).cloned();
                let v =
                    v.ok_or_else(|| err("42704", format!("variable \"{of}\" does not exist")))?;
                env.declare(&d.name, v);
                continue;
            }
            if d.record {
                env.declare(&d.name, Var::Row(None));
                // `t%rowtype`: the table's column types.
                let table = d.ty.as_deref().and_then(|t| {
                    let t = t.trim().to_ascii_lowercase();
                    let t = t.strip_suffix("%rowtype")?.trim().to_string();
                    Some(t.strip_prefix("public.").map(str::to_string).unwrap_or(t))
                });
                let cols = table
                    .and_then(|t| crate::pgexpr::Env::columns(&self.db.typed_env(None), &t))
                    .unwrap_or_default();
                set_row_types(env, &d.name, cols);
                continue;
            }
            let v = match &d.init {
                Some(e) => self.eval(e, env)?,
                None => Value::Null,
            };
            let ty = d.ty.as_deref().map(|t| self.decl_type(t));
            let v = match &ty {
                Some(t) => self.assign_cast(v, t)?,
                None => v,
            };
            match ty {
                Some(t) => env.types.insert(d.name.clone(), t),
                None => env.types.remove(&d.name),
            };
            if d.constant {
                env.constants.insert(d.name.clone());
            } else {
                env.constants.remove(&d.name);
            }
            env.declare(&d.name, Var::Scalar(v));
        }
        if b.handlers.is_empty() {
            return self.stmts(&b.body, env);
        }
        // A block with handlers runs in a subtransaction: an error rolls its writes back.
        let db = self.db;
        let sql_err = |e: rusqlite::Error| {
            sqlerr::map(
                &e,
                &ErrCtx {
                    schema: Some(&db.schema),
                    ..Default::default()
                },
            )
        };
        // The savepoint's own failures are not the body's error: no handler catches them.
        let r = db.with_savepoint_ref(
            |_| self.stmts(&b.body, env).map_err(BlockErr::Body),
            |e| BlockErr::Savepoint(sql_err(e)),
        );
        match r {
            Ok(flow) => Ok(flow),
            Err(BlockErr::Savepoint(e)) => Err(e),
            Err(BlockErr::Body(e)) => {
                for (conds, stmts) in &b.handlers {
                    let hit = conds.iter().any(|c| {
                        c == "others"
                            || c.strip_prefix("sqlstate ") == Some(e.code.as_str())
                            || condition_code(c) == Some(e.code.as_str())
                    });
                    if hit {
                        env.scopes.push(BTreeMap::new());
                        env.declare("sqlerrm", Var::Scalar(Value::Text(e.message.clone())));
                        env.declare("sqlstate", Var::Scalar(Value::Text(e.code.clone())));
                        let r = self.stmts(stmts, env);
                        env.scopes.pop();
                        return r;
                    }
                }
                Err(e)
            }
        }
    }

    fn stmts(&mut self, list: &[Stmt], env: &mut Env) -> Result<Flow, ApiError> {
        for s in list {
            self.step()?;
            match self.stmt(s, env)? {
                Flow::Next => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Next)
    }

    /// Runs a loop body once; `Some(flow)` when the loop must stop with `flow`.
    fn loop_body(
        &mut self,
        label: &Option<String>,
        body: &[Stmt],
        env: &mut Env,
    ) -> Result<Option<Flow>, ApiError> {
        match self.stmts(body, env)? {
            Flow::Next => Ok(None),
            Flow::Exit(l) if l.is_none() || l == *label => Ok(Some(Flow::Next)),
            Flow::Continue(l) if l.is_none() || l == *label => Ok(None),
            other => Ok(Some(other)),
        }
    }

    fn stmt(&mut self, s: &Stmt, env: &mut Env) -> Result<Flow, ApiError> {
        match s {
            Stmt::Null => Ok(Flow::Next),
            Stmt::Block(b) => self.block(b, env),
            Stmt::Assign { var, field, expr } => {
                let v = self.eval(expr, env)?;
                self.assign(env, var, field.as_deref(), v)?;
                Ok(Flow::Next)
            }
            Stmt::If { arms, otherwise } => {
                for (c, body) in arms {
                    if self.cond(c, env)? {
                        return self.stmts(body, env);
                    }
                }
                self.stmts(otherwise, env)
            }
            Stmt::Case {
                subject,
                arms,
                otherwise,
            } => {
                for (c, body) in arms {
                    let hit = match subject {
                        Some(sub) => {
                            let mut t = sub.clone();
                            t.push(Tok::Word("IN".into()));
                            t.push(Tok::Punct("(".into()));
                            t.extend(c.iter().cloned());
                            t.push(Tok::Punct(")".into()));
                            self.cond(&t, env)?
                        }
                        None => self.cond(c, env)?,
                    };
                    if hit {
                        return self.stmts(body, env);
                    }
                }
                match otherwise {
                    Some(body) => self.stmts(body, env),
                    None => {
                        Err(err("20000", "case not found")
                            .hint("CASE statement is missing ELSE part."))
                    }
                }
            }
            Stmt::Loop { label, cond, body } => loop {
                self.step()?;
                if let Some(c) = cond
                    && !self.cond(c, env)?
                {
                    return Ok(Flow::Next);
                }
                if let Some(f) = self.loop_body(label, body, env)? {
                    return Ok(f);
                }
            },
            Stmt::ForRange {
                label,
                var,
                reverse,
                from,
                to,
                by,
                body,
            } => {
                let as_int = |v: Value| -> Result<i64, ApiError> {
                    match v {
                        Value::Integer(i) => Ok(i),
                        Value::Real(f) => Ok(f.round() as i64),
                        Value::Text(s) => s.trim().parse().map_err(|_| {
                            err(
                                "22P02",
                                format!("invalid input syntax for type integer: \"{s}\""),
                            )
                        }),
                        _ => Err(err("22004", "lower bound of FOR loop cannot be null")),
                    }
                };
                let a = as_int(self.eval(from, env)?)?;
                let b = as_int(self.eval(to, env)?)?;
                let step = match by {
                    Some(e) => as_int(self.eval(e, env)?)?,
                    None => 1,
                };
                if step <= 0 {
                    return Err(err(
                        "22023",
                        "BY value of FOR loop must be greater than zero",
                    ));
                }
                env.scopes.push(BTreeMap::new());
                let mut i = a;
                let result = loop {
                    if (!reverse && i > b) || (*reverse && i < b) {
                        break Ok(Flow::Next);
                    }
                    self.step()?;
                    env.declare(var, Var::Scalar(Value::Integer(i)));
                    match self.loop_body(label, body, env) {
                        Ok(None) => {}
                        Ok(Some(f)) => break Ok(f),
                        Err(e) => break Err(e),
                    }
                    i = if *reverse { i - step } else { i + step };
                };
                env.scopes.pop();
                result
            }
            Stmt::ForQuery {
                label,
                var,
                query,
                body,
            } => {
                let (cols, rows, _) = self.run_sql(query, env)?;
                env.set_found(!rows.is_empty());
                let is_row = env.is_row(var) || env.lookup(var).is_none();
                if env.lookup(var).is_none() {
                    env.declare(var, Var::Row(None));
                }
                if is_row {
                    self.type_row_var(var, query, env);
                }
                for vals in rows {
                    self.step()?;
                    if is_row {
                        if let Some(slot) = env.lookup_mut(var) {
                            *slot = Var::Row(Some(Row {
                                cols: cols.clone(),
                                vals,
                            }));
                        }
                    } else {
                        let v = vals.into_iter().next().unwrap_or(Value::Null);
                        self.assign(env, var, None, v)?;
                    }
                    if let Some(f) = self.loop_body(label, body, env)? {
                        return Ok(f);
                    }
                }
                Ok(Flow::Next)
            }
            Stmt::Exit { label, when } => {
                if let Some(c) = when
                    && !self.cond(c, env)?
                {
                    return Ok(Flow::Next);
                }
                Ok(Flow::Exit(label.clone()))
            }
            Stmt::Continue { label, when } => {
                if let Some(c) = when
                    && !self.cond(c, env)?
                {
                    return Ok(Flow::Next);
                }
                Ok(Flow::Continue(label.clone()))
            }
            Stmt::Return(e) => Ok(Flow::Return(match e {
                None => Ret::Null,
                Some(e) => self.ret_of(e, env)?,
            })),
            Stmt::ReturnNext(e) => {
                match e {
                    None => {
                        let vals: Vec<Value> = self
                            .outs
                            .iter()
                            .map(|n| match env.lookup(n) {
                                Some(Var::Scalar(v)) => v.clone(),
                                _ => Value::Null,
                            })
                            .collect();
                        match vals.len() {
                            0 => {
                                return Err(plerr(
                                    "RETURN NEXT needs an expression in a function without OUT parameters",
                                ));
                            }
                            1 => self.out_values.extend(vals),
                            _ => self.out_rows.push(Row {
                                cols: self.outs.clone(),
                                vals,
                            }),
                        }
                    }
                    Some(e) => match self.ret_of(e, env)? {
                        Ret::Row(r) => self.out_rows.push(r),
                        Ret::Value(v) => self.out_values.push(v),
                        Ret::Null => self.out_values.push(Value::Null),
                    },
                }
                Ok(Flow::Next)
            }
            Stmt::ReturnQuery(q) => {
                let (cols, rows, _) = self.run_sql(q, env)?;
                env.set_found(!rows.is_empty());
                for vals in rows {
                    self.out_rows.push(Row {
                        cols: cols.clone(),
                        vals,
                    });
                }
                Ok(Flow::Next)
            }
            Stmt::Raise {
                level,
                format,
                args,
                using,
            } => self.raise(*level, format.as_deref(), args, using, env),
            Stmt::Sql {
                sql,
                into,
                strict,
                perform: _,
            } => {
                let (cols, rows, n) = self.run_sql(sql, env)?;
                self.row_count = n;
                env.set_found(n > 0);
                if !into.is_empty() {
                    if *strict && rows.is_empty() {
                        return Err(err("P0002", "query returned no rows"));
                    }
                    if *strict && rows.len() > 1 {
                        return Err(err("P0003", "query returned more than one row")
                            .hint("Make sure the query returns a single row, or use LIMIT 1."));
                    }
                    let first = rows.into_iter().next();
                    if into.len() == 1 && env.is_row(&into[0]) {
                        self.type_row_var(&into[0], sql, env);
                    }
                    self.assign_into(env, into, &cols, first)?;
                }
                Ok(Flow::Next)
            }
            Stmt::RowCount(var) => {
                let n = self.row_count as i64;
                self.assign(env, var, None, Value::Integer(n))?;
                Ok(Flow::Next)
            }
        }
    }
}

/// Rewrites `TG_ARGV[i]` into `CASE (i) WHEN 0 THEN 'a' ... END`: the trigger's literal
/// arguments by 0-based subscript, NULL out of range.
/// Records the field types of record variable `var` (`var.col` in `env.types`), replacing
/// those it had.
fn set_row_types(env: &mut Env, var: &str, cols: Vec<(String, Ty)>) {
    let prefix = format!("{var}.");
    env.types.retain(|k, _| !k.starts_with(&prefix));
    for (c, ty) in cols {
        if ty.known() {
            env.types.insert(format!("{prefix}{c}"), ty);
        }
    }
}

fn tg_argv(toks: &[Tok], args: &[String]) -> Vec<Tok> {
    let mut out = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        if toks[i].is("tg_argv") && toks.get(i + 1).is_some_and(|t| t.is_p("[")) {
            let mut depth = 0;
            let mut end = None;
            for (j, t) in toks.iter().enumerate().skip(i + 1) {
                if t.is_p("[") {
                    depth += 1;
                } else if t.is_p("]") {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
            }
            if let Some(end) = end
                && args.is_empty()
            {
                // No arguments: every subscript is NULL.
                out.push(Tok::Word("NULL".into()));
                i = end + 1;
                continue;
            }
            if let Some(end) = end {
                let index = tg_argv(&toks[i + 2..end], args);
                let w = |s: &str| Tok::Word(s.to_string());
                out.push(Tok::Punct("(".into()));
                out.push(w("CASE"));
                out.push(Tok::Punct("(".into()));
                out.extend(index);
                out.push(Tok::Punct(")".into()));
                for (n, a) in args.iter().enumerate() {
                    out.push(w("WHEN"));
                    out.push(Tok::Num(n.to_string()));
                    out.push(w("THEN"));
                    out.push(Tok::Str(format!("'{}'", a.replace('\'', "''"))));
                }
                out.push(w("ELSE"));
                out.push(w("NULL"));
                out.push(w("END"));
                out.push(Tok::Punct(")".into()));
                i = end + 1;
                continue;
            }
        }
        out.push(toks[i].clone());
        i += 1;
    }
    out
}
