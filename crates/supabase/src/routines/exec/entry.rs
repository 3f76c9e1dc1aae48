//! The interpreter's entry points: calling a function (`rpc/<fn>`, `select f(...)`), firing a
//! trigger for one row or statement, a trigger's `when` condition, and `do` blocks.

use super::{Ctx, Env, Flow, Output, Ret, Row, Var, err, plerr};
use crate::db::Db;
use crate::errors::ApiError;
use crate::migrate::lex::Tok;
use crate::routines::def::{Returns, TriggerDef};
use crate::routines::plpgsql::Block;
use crate::routines::{Function, Program};
use rusqlite::types::Value;
use std::collections::BTreeMap;

/// Arguments bound to a function's parameters, `None` = use the default.
pub fn call(
    db: &Db,
    f: &Function,
    args: Vec<Option<Value>>,
    depth: usize,
) -> Result<Output, ApiError> {
    let program = f.program.as_ref().map_err(|why| {
        plerr(format!(
            "function {}() cannot run in the mock: {why}",
            f.def.name
        ))
    })?;
    let mut ctx = Ctx::new(db, depth)?;
    ctx.invoker = !f.def.security_definer;
    let mut env = Env::default();
    env.scopes.push(BTreeMap::new());
    env.set_found(false);
    // `$N` counts every parameter in PL/pgSQL, only the input ones in a `language sql` body.
    let sql_body = matches!(program, Program::Sql(_));
    for (n, (p, a)) in f.def.params.iter().zip(args).enumerate() {
        let v = match a {
            Some(v) => v,
            None => match &p.default {
                Some(d) => ctx.eval(d, &env)?,
                None => Value::Null,
            },
        };
        env.declare(
            &crate::routines::def::positional_name(if sql_body { n + 1 } else { p.position }),
            Var::Scalar(v.clone()),
        );
        if !p.name.starts_with('$') {
            let ty = ctx.decl_type(&p.ty);
            if ty.known() {
                env.types.insert(p.name.clone(), ty);
            }
            env.declare(&p.name, Var::Scalar(v));
        }
    }
    // OUT parameters: variables initialised to NULL (INOUT ones hold their argument).
    for p in &f.def.outs {
        let inout = f.def.params.iter().any(|q| q.position == p.position);
        if inout || p.name.starts_with('$') {
            continue;
        }
        let ty = ctx.decl_type(&p.ty);
        if ty.known() {
            env.types.insert(p.name.clone(), ty);
        }
        env.declare(&p.name, Var::Scalar(Value::Null));
    }
    ctx.outs = f.def.outs.iter().map(|p| p.name.clone()).collect();
    match program {
        Program::Sql(stmts) => {
            let mut last = (Vec::new(), Vec::new());
            for s in stmts {
                let (cols, rows, _) = ctx.run_sql(s, &env)?;
                last = (cols, rows);
            }
            let (cols, rows) = last;
            Ok(shape_rows(&f.def.returns, cols, rows))
        }
        Program::Pl(block) => {
            let flow = ctx.block(block, &mut env)?;
            let ret = match flow {
                Flow::Return(r) => Some(r),
                _ => None,
            };
            if !f.def.outs.is_empty() {
                return Ok(out_result(&f.def.returns, &ctx, &env));
            }
            match &f.def.returns {
                Returns::Void => Ok(Output::Void),
                Returns::Trigger => Err(err(
                    "0A000",
                    "trigger functions can only be called as triggers",
                )),
                Returns::Scalar { set: true, .. } => Ok(Output::Values(ctx.out_values)),
                Returns::Rows { set: true, .. } | Returns::Table(_) => {
                    Ok(Output::Rows(ctx.out_rows))
                }
                Returns::Record(_) => Err(plerr("a record result needs OUT parameters")),
                Returns::Scalar { set: false, .. } => match ret {
                    Some(Ret::Value(v)) => Ok(Output::Value(v)),
                    Some(Ret::Null) => Ok(Output::Value(Value::Null)),
                    Some(Ret::Row(_)) => Err(plerr("a row returned where a scalar was expected")),
                    None => Err(err(
                        "2F005",
                        "control reached end of function without RETURN",
                    )),
                },
                Returns::Rows { set: false, .. } => match ret {
                    Some(Ret::Row(r)) => Ok(Output::Row(Some(r))),
                    Some(Ret::Null) => Ok(Output::Row(None)),
                    Some(Ret::Value(_)) => Err(plerr("a scalar returned where a row was expected")),
                    None => Err(err(
                        "2F005",
                        "control reached end of function without RETURN",
                    )),
                },
            }
        }
    }
}

/// A PL/pgSQL function's result from its OUT parameters: their current values (after `return;`
/// or the end of the body), or the rows `return next;` collected for a `setof` one.
fn out_result(returns: &Returns, ctx: &Ctx, env: &Env) -> Output {
    let value = |n: &String| match env.lookup(n) {
        Some(Var::Scalar(v)) => v.clone(),
        _ => Value::Null,
    };
    match returns {
        Returns::Scalar { set: true, .. } => Output::Values(ctx.out_values.clone()),
        Returns::Table(_) => Output::Rows(ctx.out_rows.clone()),
        Returns::Record(_) => Output::Row(Some(Row {
            cols: ctx.outs.clone(),
            vals: ctx.outs.iter().map(value).collect(),
        })),
        _ => Output::Value(ctx.outs.first().map(value).unwrap_or(Value::Null)),
    }
}

fn shape_rows(returns: &Returns, cols: Vec<String>, rows: Vec<Vec<Value>>) -> Output {
    match returns {
        Returns::Record(outs) => Output::Row(rows.into_iter().next().map(|vals| Row {
            cols: outs.iter().map(|(n, _)| n.clone()).collect(),
            vals,
        })),
        Returns::Void | Returns::Trigger => Output::Void,
        Returns::Scalar { set: false, .. } => Output::Value(
            rows.into_iter()
                .next()
                .and_then(|r| r.into_iter().next())
                .unwrap_or(Value::Null),
        ),
        Returns::Scalar { set: true, .. } => Output::Values(
            rows.into_iter()
                .map(|r| r.into_iter().next().unwrap_or(Value::Null))
                .collect(),
        ),
        Returns::Rows { set: false, .. } => Output::Row(rows.into_iter().next().map(|vals| Row {
            cols: cols.clone(),
            vals,
        })),
        Returns::Rows { set: true, .. } | Returns::Table(_) => Output::Rows(
            rows.into_iter()
                .map(|vals| Row {
                    cols: cols.clone(),
                    vals,
                })
                .collect(),
        ),
    }
}

/// Runs trigger `t` (function `f`) for one row. Returns the row the function returned
/// (`None` = `return null`, which skips the row in a BEFORE trigger).
pub fn fire(
    db: &Db,
    t: &TriggerDef,
    f: &Function,
    op: &str,
    old: Option<&Row>,
    new: Option<&Row>,
    depth: usize,
) -> Result<Option<Row>, ApiError> {
    let program = f.program.as_ref().map_err(|why| {
        plerr(format!(
            "trigger {} on {}: function {}() cannot run in the mock: {why}",
            t.name, t.table, f.def.name
        ))
    })?;
    let Program::Pl(block) = program else {
        return Err(plerr(format!(
            "trigger function {}() must be written in plpgsql",
            f.def.name
        )));
    };
    if f.def.returns != Returns::Trigger {
        return Err(err(
            "42P17",
            format!("function {}() must return type trigger", f.def.name),
        ));
    }
    let mut ctx = Ctx::new(db, depth)?;
    ctx.invoker = !f.def.security_definer;
    let mut env = Env::default();
    env.scopes.push(BTreeMap::new());
    env.set_found(false);
    env.declare("new", Var::Row(new.cloned()));
    env.declare("old", Var::Row(old.cloned()));
    type_new_old(db, &mut env, &t.table);
    let text = |s: &str| Var::Scalar(Value::Text(s.to_string()));
    env.declare("tg_op", text(op));
    env.declare("tg_name", text(&t.name));
    let (schema, table) = match t.table.split_once('.') {
        Some((s, n)) => (s.to_string(), n.to_string()),
        None => ("public".to_string(), t.table.clone()),
    };
    env.declare("tg_table_name", text(&table));
    env.declare("tg_relname", text(&table));
    env.declare("tg_table_schema", text(&schema));
    env.declare(
        "tg_when",
        text(match t.timing {
            crate::routines::def::Timing::Before => "BEFORE",
            crate::routines::def::Timing::After => "AFTER",
        }),
    );
    env.declare("tg_nargs", Var::Scalar(Value::Integer(t.args.len() as i64)));
    env.types
        .insert("tg_nargs".into(), crate::pgexpr::Ty::Int("integer"));
    env.tg_argv = Some(t.args.clone());
    // Bare `TG_ARGV`: the arguments as a text array (NULL without arguments, as in Postgres).
    let argv = (!t.args.is_empty()).then(|| serde_json::Value::from(t.args.clone()).to_string());
    env.declare(
        "tg_argv",
        Var::Scalar(argv.map_or(Value::Null, Value::Text)),
    );
    env.types.insert(
        "tg_argv".into(),
        crate::pgexpr::Ty::Array(Box::new(crate::pgexpr::Ty::Text)),
    );
    env.declare(
        "tg_level",
        text(if t.for_each_row { "ROW" } else { "STATEMENT" }),
    );
    let flow = ctx.block(block, &mut env)?;
    match flow {
        Flow::Return(Ret::Row(r)) => Ok(Some(r)),
        Flow::Return(Ret::Null) => Ok(None),
        Flow::Return(Ret::Value(Value::Null)) => Ok(None),
        Flow::Return(Ret::Value(_)) => Err(err(
            "42804",
            "returned row structure does not match the structure of the triggering table",
        )),
        _ => Err(err(
            "2F005",
            format!(
                "control reached end of trigger procedure without RETURN (function {})",
                f.def.name
            ),
        )),
    }
}

/// `new.col` / `old.col` get the column types of `table` (orderings and casts need them).
fn type_new_old(db: &Db, env: &mut Env, table: &str) {
    for (c, ty) in crate::pgexpr::Env::columns(&db.typed_env(None), table).unwrap_or_default() {
        if ty.known() {
            env.types.insert(format!("new.{c}"), ty.clone());
            env.types.insert(format!("old.{c}"), ty);
        }
    }
}

/// Evaluates a trigger's `when (...)` condition for one row of `table`.
pub fn when_holds(
    db: &Db,
    table: &str,
    cond: &[Tok],
    old: Option<&Row>,
    new: Option<&Row>,
) -> Result<bool, ApiError> {
    let ctx = Ctx::new(db, 0)?;
    let mut env = Env::default();
    env.declare("new", Var::Row(new.cloned()));
    env.declare("old", Var::Row(old.cloned()));
    type_new_old(db, &mut env, table);
    ctx.cond(cond, &env)
}

/// Runs a `do $$ ... $$` block.
pub fn run_do(db: &Db, block: &Block) -> Result<(), ApiError> {
    let mut ctx = Ctx::new(db, 0)?;
    let mut env = Env::default();
    env.scopes.push(BTreeMap::new());
    env.set_found(false);
    ctx.block(block, &mut env)?;
    Ok(())
}
