//! The statements this module owns, as migrations, the seed and `Supabase::execute` meet them:
//! `create [or replace] function`, `drop function`, `create [or replace] trigger` (row-level,
//! with a user function), `drop trigger`, `do $$ ... $$`, `alter function`, and a top-level
//! `select f(...)` calling a user function (a seed that fills tables that way).

use super::def::{self, Returns};
use super::exec;
use crate::db::Db;
use crate::errors::ApiError;
use crate::migrate::lex::{Tok, tokenize};
use rusqlite::types::Value;

/// What happened to a statement.
#[derive(Debug)]
pub enum Handled {
    /// Not a statement of this module.
    NotMine,
    /// Applied; `warnings` name what the mock will not do (e.g. a function body it cannot run).
    Done {
        /// One line per limitation.
        warnings: Vec<String>,
    },
    /// Skipped (nothing changed), with the reason.
    Skipped(String),
}

fn words(text: &str) -> Vec<String> {
    // The head of the statement, before any dollar-quoted body.
    let head = match def::split_dollar(text) {
        Some((before, _, _)) => before,
        None => text.to_string(),
    };
    tokenize(&head)
        .unwrap_or_default()
        .iter()
        .take(4)
        .map(|t| t.name().unwrap_or_default())
        .collect()
}

fn err_text(e: ApiError) -> String {
    e.message
}

/// Applies one statement if it is this module's (`NotMine` otherwise).
pub fn handle(db: &mut Db, text: &str) -> Result<Handled, String> {
    let w = words(text);
    let w = |i: usize| w.get(i).map(String::as_str).unwrap_or("");
    let create_or = w(0) == "create" && w(1) == "or" && w(2) == "replace";
    let obj = if create_or { w(3) } else { w(1) };
    db.routines_dirty = true;
    match (w(0), obj) {
        ("create", "function") => create_function(db, text),
        ("create", "procedure") => Ok(Handled::Skipped(
            "procedures are not supported by the mock (PostgREST cannot call them either)".into(),
        )),
        ("create", "trigger") if !text.contains("http_request") => create_trigger(db, text),
        ("drop", "function") => {
            let toks = tokenize(text)?;
            let (names, if_exists) = def::drop_function(&toks)?;
            for n in names {
                if db.routines.functions.remove(&n).is_none() && !if_exists {
                    return Err(format!("function {n}() does not exist"));
                }
                super::delete_function(db, &n).map_err(|e| e.to_string())?;
            }
            Ok(Handled::Done {
                warnings: Vec::new(),
            })
        }
        ("drop", "trigger") => {
            let toks = tokenize(text)?;
            let (name, table, if_exists) = def::drop_trigger(&toks)?;
            if !db.routines.remove_trigger(&table, &name) && !if_exists {
                return Err(format!(
                    "trigger \"{name}\" for table \"{table}\" does not exist"
                ));
            }
            super::delete_trigger(db, &table, &name).map_err(|e| e.to_string())?;
            Ok(Handled::Done {
                warnings: Vec::new(),
            })
        }
        ("alter", "function") => Ok(Handled::Skipped(
            "alter function (owner, search_path, security) has no effect in the mock".into(),
        )),
        ("do", _) => run_do(db, text),
        _ => Ok(Handled::NotMine),
    }
}

fn create_function(db: &mut Db, text: &str) -> Result<Handled, String> {
    let mut d = def::create_function(text)?;
    super::resolve_returns(&mut d, |t| {
        db.schema.tables.contains_key(t)
            || db.schema.hidden.contains_key(t)
            || db.schema.views.contains(t)
    });
    // Postgres refuses some bodies at creation: so does the mock (the function is not created).
    if d.language == def::Language::Plpgsql
        && let Ok(block) = super::plpgsql::parse(&d.body)
        && let Some(why) = super::plpgsql::return_shape_error(&d, &block)
    {
        return Err(why);
    }
    if !d.replace && db.routines.functions.contains_key(&d.name) {
        return Err(format!(
            "function \"{}\" already exists with same argument types",
            d.name
        ));
    }
    super::store_function(db, &d.name, text).map_err(|e| e.to_string())?;
    let name = d.name.clone();
    let previous = db.routines.functions.get(&name).cloned();
    let mut f = db.routines.add_function(d);
    let body = sql_body_check(db, &f);
    // A result of the wrong type: Postgres does not create the function (the statement's
    // savepoint takes back the stored text; the previous definition, if any, stays).
    if let Some(why) = body.mismatch {
        match previous {
            Some(old) => db.routines.functions.insert(name, old),
            None => db.routines.functions.remove(&name),
        };
        return Err(why);
    }
    // A `language sql` body the typed translator refuses (an ordering of a value of unknown
    // type, a window function, ...) is refused now, with the statement's file and line, not
    // only when called.
    if let Some(why) = body.refused {
        f = std::sync::Arc::new(super::Function {
            def: f.def.clone(),
            program: Err(why),
        });
        db.routines.functions.insert(name.clone(), f.clone());
    }
    let mut warnings = Vec::new();
    if let Err(why) = &f.program {
        let consequence = if f.def.returns == Returns::Trigger {
            "triggers calling it fail the write with an error".to_string()
        } else {
            format!("rpc/{name} answers an error")
        };
        warnings.push(format!(
            "function `{name}` cannot run in the mock ({why}): {consequence}"
        ));
    }
    Ok(Handled::Done { warnings })
}

/// What the creation-time checks of a `language sql` body found.
#[derive(Default)]
struct SqlBodyCheck {
    /// Why the typed translator refuses one of its statements (the function is kept; calling
    /// it answers the refusal).
    refused: Option<String>,
    /// Postgres's refusal of its result type (the function is not created).
    mismatch: Option<String>,
}

/// Checks `f`'s `language sql` body, its parameters typed as declared: each query through the
/// typed translator, and the last one's result against the declared type.
fn sql_body_check(db: &Db, f: &super::Function) -> SqlBodyCheck {
    match sql_body_error(db, f) {
        Ok(mismatch) => SqlBodyCheck {
            refused: None,
            mismatch,
        },
        Err(refused) => SqlBodyCheck {
            refused: Some(refused),
            mismatch: None,
        },
    }
}

/// `Err`: why the typed translator refuses a statement of `f`'s `language sql` body; `Ok`:
/// Postgres's refusal of its result type, if any (`Ok(None)`: nothing to refuse, or not a
/// `language sql` function).
fn sql_body_error(db: &Db, f: &super::Function) -> Result<Option<String>, String> {
    let Ok(super::Program::Sql(stmts)) = &f.program else {
        return Ok(None);
    };
    let cat = &db.catalog;
    let mut types = std::collections::BTreeMap::new();
    for (n, p) in f.def.params.iter().enumerate() {
        let ty = crate::pgexpr::Ty::from_cast_name(&p.ty, &|e| cat.enums.contains(e))
            .unwrap_or(crate::pgexpr::Ty::Any);
        types.insert(def::positional_name(n + 1), ty.clone());
        if !p.name.starts_with('$') {
            types.insert(p.name.clone(), ty);
        }
    }
    let vars = |n: &str| types.get(n).cloned();
    let mut last = None;
    for (i, toks) in stmts.iter().enumerate() {
        let is_query = toks.first().is_some_and(|t| {
            ["select", "with", "values", "insert", "update", "delete"]
                .iter()
                .any(|w| t.is(w))
        });
        if !is_query {
            continue;
        }
        let toks = crate::migrate::dispatch::qualify_schemas(toks, &cat.schemas);
        let text = crate::migrate::lex::render(&toks);
        match crate::pgexpr::translate_query(&text, &db.typed_env(Some(&vars))) {
            Err(e @ crate::pgexpr::PgExprError::Unsupported { .. }) => return Err(e.to_string()),
            Ok((_, ty)) if i + 1 == stmts.len() => last = Some(ty),
            _ => {}
        }
    }
    let Returns::Scalar { ty: declared, .. } = &f.def.returns else {
        return Ok(None);
    };
    let is_enum = |e: &str| cat.enums.contains(e);
    let (Some(actual), Some(declared)) =
        (last, crate::pgexpr::Ty::from_cast_name(declared, &is_enum))
    else {
        return Ok(None);
    };
    // A date/time result of another date/time type: Postgres converts it by the assignment
    // cast; the mock does not, so it refuses the function rather than answer differently.
    if actual.is_datetime() && declared.is_datetime() && actual != declared {
        return Err(format!(
            "the conversion of the result from {} to the declared {} is not emulated",
            actual.pg_name(),
            declared.pg_name()
        ));
    }
    Ok(return_type_mismatch(&actual, &declared))
}

/// Postgres's creation-time check of a `language sql` function's result
/// (`check_sql_fn_retval`): the last query's column must be the declared type or have an
/// assignment cast to it. An untyped literal or `null` there is `text` (Postgres 10+). Types
/// the translator does not know pass.
fn return_type_mismatch(
    actual: &crate::pgexpr::Ty,
    declared: &crate::pgexpr::Ty,
) -> Option<String> {
    use crate::pgexpr::Ty;
    let actual = if *actual == Ty::Unknown {
        Ty::Text
    } else {
        actual.clone()
    };
    let assignable = actual == *declared
        || matches!(actual, Ty::Any | Ty::Array(_) | Ty::Interval(_))
        || matches!(
            declared,
            Ty::Text | Ty::Any | Ty::Array(_) | Ty::Interval(_)
        )
        || (actual.is_number() && declared.is_number())
        || (actual.is_datetime() && declared.is_datetime())
        || (actual.is_json() && declared.is_json());
    (!assignable).then(|| {
        format!(
            "return type mismatch in function declared to return {} (Actual return type is {}.) (42P13)",
            declared.pg_name(),
            actual.pg_name()
        )
    })
}

fn create_trigger(db: &mut Db, text: &str) -> Result<Handled, String> {
    let toks = tokenize(text)?;
    let Some(t) = def::create_trigger(&toks)? else {
        return Ok(Handled::NotMine);
    };
    let exists = db
        .routines
        .triggers
        .get(&t.table)
        .is_some_and(|l| l.iter().any(|o| o.name == t.name));
    let replace = toks.get(1).is_some_and(|x| x.is("or"));
    if exists && !replace {
        return Err(format!(
            "trigger \"{}\" for relation \"{}\" already exists",
            t.name, t.table
        ));
    }
    super::store_trigger(db, &t.table, &t.name, text).map_err(|e| e.to_string())?;
    let mut warnings = Vec::new();
    match db.routines.functions.get(&t.function) {
        None => warnings.push(format!(
            "trigger `{}` on `{}`: function {}() does not exist yet; writes to `{}` fail until it does",
            t.name, t.table, t.function, t.table
        )),
        Some(f) if f.program.is_err() => warnings.push(format!(
            "trigger `{}` on `{}` calls {}(), which the mock cannot run: writes to `{}` fail",
            t.name, t.table, t.function, t.table
        )),
        _ => {}
    }
    db.routines.add_trigger(t);
    Ok(Handled::Done { warnings })
}

fn run_do(db: &mut Db, text: &str) -> Result<Handled, String> {
    let Some((_, body, _)) = def::split_dollar(text) else {
        return Ok(Handled::Skipped(
            "DO block without a dollar-quoted body".into(),
        ));
    };
    let lower = text.to_ascii_lowercase();
    if lower.contains("language") && !lower.contains("plpgsql") {
        return Ok(Handled::Skipped(
            "DO block in a language other than plpgsql".into(),
        ));
    }
    match super::plpgsql::parse(&body) {
        Ok(block) => {
            exec::run_do(db, &block).map_err(err_text)?;
            Ok(Handled::Done {
                warnings: Vec::new(),
            })
        }
        Err(why) => Ok(Handled::Skipped(format!(
            "DO block skipped: the mock cannot run it ({why})"
        ))),
    }
}

fn call_with_exprs(db: &Db, f: &super::Function, args: &[Tok]) -> Result<(), ApiError> {
    let parts = crate::migrate::lex::split_top(args);
    let mut values: Vec<Option<Value>> = vec![None; f.def.params.len()];
    // A VARIADIC parameter takes the trailing positional arguments as one array.
    let vslot = f.def.variadic.then(|| f.def.params.len().saturating_sub(1));
    let mut spread: Option<Vec<serde_json::Value>> = None;
    for (k, p) in parts.iter().enumerate() {
        if let Some(v) = vslot
            && k >= v
            && !(p.len() > 2 && p[1].is_p("=") && p[2].is_p(">"))
        {
            if p.first().is_some_and(|t| t.is("variadic")) {
                // `f(variadic array[...])`: the array itself, as the last argument.
                if k != v || k + 1 != parts.len() {
                    return Err(crate::sqlerr::pg(
                        "42883",
                        format!("function {}() does not exist", f.def.name),
                    ));
                }
                values[v] = Some(eval_arg(db, &p[1..])?);
            } else {
                let x = eval_arg(db, p)?;
                spread.get_or_insert_with(Vec::new).push(match x {
                    Value::Null => serde_json::Value::Null,
                    Value::Integer(i) => serde_json::Value::from(i),
                    Value::Real(r) => serde_json::Value::from(r),
                    Value::Text(t) => serde_json::Value::String(t),
                    Value::Blob(b) => {
                        serde_json::Value::String(String::from_utf8_lossy(&b).into_owned())
                    }
                });
            }
            continue;
        }
        // Named notation: `name => value`.
        let (slot, expr) = if p.len() > 2 && p[1].is_p("=") && p[2].is_p(">") {
            let n = p[0].name().unwrap_or_default();
            let slot = f
                .def
                .params
                .iter()
                .position(|x| x.name == n)
                .ok_or_else(|| {
                    crate::sqlerr::pg(
                        "42883",
                        format!("function {}() has no parameter {n}", f.def.name),
                    )
                })?;
            (slot, &p[3..])
        } else {
            (k, &p[..])
        };
        if slot >= values.len() {
            return Err(crate::sqlerr::pg(
                "42883",
                format!("function {}() called with too many arguments", f.def.name),
            ));
        }
        values[slot] = Some(eval_arg(db, expr)?);
    }
    if let (Some(v), Some(items)) = (vslot, spread) {
        values[v] = Some(Value::Text(serde_json::Value::Array(items).to_string()));
    }
    exec::call(db, f, values, 1).map(|_| ())
}

/// The value of one argument expression of a top-level `select f(...)`.
fn eval_arg(db: &Db, expr: &[Tok]) -> Result<Value, ApiError> {
    let bound =
        super::sqlbind::bind_new(expr, &NoVars).map_err(|m| crate::sqlerr::pg("0A000", m))?;
    let mut st = db
        .prepare(&format!("SELECT {}", bound.sql))
        .map_err(|e| crate::sqlerr::map(&e, &Default::default()))?;
    st.query_row([], |r| Ok(Value::from(r.get_ref(0)?)))
        .map_err(|e| crate::sqlerr::map(&e, &Default::default()))
}

struct NoVars;

impl super::sqlbind::Scope for NoVars {
    fn scalar(&self, _: &str) -> Option<Value> {
        None
    }
    fn is_row(&self, _: &str) -> bool {
        false
    }
    fn field(&self, name: &str, _: &str) -> Result<Value, String> {
        Err(format!("missing FROM-clause entry for table \"{name}\""))
    }
}

// --- Handlers for the migration dispatcher (`migrate::dispatch`). ---

use crate::migrate::dispatch::{Ctx, Mode, SqlFail, Stmt};

fn function_name(text: &str) -> String {
    let head = def::split_dollar(text).map_or_else(|| text.to_string(), |(h, _, _)| h);
    let toks = tokenize(&head).unwrap_or_default();
    let i = toks
        .iter()
        .position(|t| t.is("function") || t.is("procedure"))
        .map_or(toks.len(), |p| p + 1);
    let i = if toks.get(i).is_some_and(|t| t.is("if")) {
        i + 2
    } else {
        i
    };
    def::qualified(&toks, i).map(|(n, _)| n).unwrap_or_default()
}

/// Runs `f` inside a savepoint ([`Db::with_savepoint`]): on error the database and the
/// captured changes are as before.
fn in_savepoint<T>(
    db: &mut Db,
    f: impl FnOnce(&mut Db) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    db.with_savepoint(f, |e| crate::sqlerr::pg("XX000", e.to_string()))
}

fn fail(e: ApiError) -> SqlFail {
    SqlFail {
        code: e.code,
        message: e.message,
    }
}

/// `create [or replace] function|procedure` and `drop function|procedure`.
pub fn dispatch_function(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let name = function_name(&st.text);
    if st.word(0) == "drop" {
        if cx.mode != Mode::Replay {
            handle(cx.db, &st.text)?;
        }
        cx.emulated(st, format!("drop function `{name}`"), "");
        return Ok(());
    }
    if cx.mode == Mode::Replay {
        // The definition is stored in the database; report what it is.
        let why = cx
            .db
            .routines
            .functions
            .get(&name)
            .and_then(|f| f.program.as_ref().err().cloned());
        match why {
            Some(why) => cx.skipped(
                st,
                format!("function `{name}`"),
                format!("the mock cannot run it ({why}): `rpc/{name}` and triggers calling it answer an error"),
            ),
            None => cx.emulated(st, format!("function `{name}`"), "run by the mock's interpreter"),
        }
        return Ok(());
    }
    match handle(cx.db, &st.text)? {
        Handled::Skipped(why) => cx.skipped(st, format!("function `{name}`"), why),
        Handled::Done { warnings } if !warnings.is_empty() => {
            let why = cx
                .db
                .routines
                .functions
                .get(&name)
                .and_then(|f| f.program.as_ref().err().cloned())
                .unwrap_or_else(|| warnings.join("; "));
            cx.skipped(
                st,
                format!("function `{name}`"),
                format!("the mock cannot run it ({why}): `rpc/{name}` and triggers calling it answer an error"),
            );
        }
        _ => {
            let lang = cx
                .db
                .routines
                .functions
                .get(&name)
                .map(|f| match f.def.language {
                    def::Language::Sql => "language sql",
                    def::Language::Plpgsql => "PL/pgSQL",
                })
                .unwrap_or_default();
            cx.emulated(
                st,
                format!("function `{name}`"),
                format!("{lang}, run by the mock's interpreter"),
            );
        }
    }
    Ok(())
}

/// `create trigger` other than a Database Webhook: a row-level trigger.
pub fn dispatch_trigger(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let toks = tokenize(&st.text)?;
    let t = def::create_trigger(&toks)?.ok_or("not a row-level trigger")?;
    let object = format!("trigger `{}` on `{}`", t.name, t.table);
    if cx.mode != Mode::Replay
        && let Handled::Done { warnings } = handle(cx.db, &st.text)?
        && !warnings.is_empty()
    {
        cx.skipped(st, object, warnings.join("; "));
        return Ok(());
    }
    let when = match t.timing {
        def::Timing::Before => "BEFORE",
        def::Timing::After => "AFTER",
    };
    cx.emulated(
        st,
        object,
        format!(
            "{when} {} FOR EACH {} runs {}()",
            t.events.join(" OR "),
            if t.for_each_row { "ROW" } else { "STATEMENT" },
            t.function
        ),
    );
    Ok(())
}

/// `drop trigger name on t`: a row-level trigger of that name, else a Database Webhook.
pub fn dispatch_drop_trigger(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    let toks = tokenize(&st.text)?;
    let (name, table, _) = def::drop_trigger(&toks)?;
    let object = format!("drop trigger `{name}` on `{table}`");
    let before = cx.hooks.len();
    cx.hooks.retain(|h| h.name != name);
    let hook = cx.hooks.len() < before;
    let row_trigger = cx.db.routines.has_triggers(&table)
        && cx
            .db
            .routines
            .triggers
            .get(&table)
            .is_some_and(|l| l.iter().any(|t| t.name == name));
    if row_trigger && cx.mode != Mode::Replay {
        cx.db.routines_dirty = true;
        cx.db.routines.remove_trigger(&table, &name);
        super::delete_trigger(cx.db, &table, &name).map_err(|e| e.to_string())?;
    }
    if hook {
        cx.emulated(st, object, "the Database Webhook is removed");
    } else if row_trigger {
        cx.emulated(st, object, "the trigger is removed");
    } else {
        cx.accepted(st, object, "no such trigger");
    }
    Ok(())
}

/// `do $$ ... $$`: run by the interpreter (inside a savepoint); one it cannot run is an error
/// when it writes rows, else a skip.
pub fn dispatch_do(cx: &mut Ctx<'_>, st: &Stmt) -> Result<(), String> {
    if st.word(0) == "call" {
        return Err("procedures are not supported by the mock".into());
    }
    let object = "`do` block";
    let Some((_, body, _)) = def::split_dollar(&st.text) else {
        return Err("a DO block without a dollar-quoted body".into());
    };
    let block = match super::plpgsql::parse(&body) {
        Ok(b) => b,
        Err(why) => return Err(format!("not run: the mock cannot run it ({why})")),
    };
    if cx.mode == Mode::Replay {
        cx.emulated(st, object, "run by the mock's interpreter");
        return Ok(());
    }
    match in_savepoint(cx.db, |db| exec::run_do(db, &block)) {
        Ok(()) => cx.emulated(st, object, "run by the mock's interpreter"),
        Err(e) => cx.error(
            st,
            object,
            format!("{}; the rows it would write are missing", e.message),
            Some(fail(e)),
        ),
    }
    Ok(())
}

/// A `select f(...)` calling a user function: run it (`None` when it is not one).
pub fn dispatch_select(cx: &mut Ctx<'_>, st: &Stmt) -> Option<Result<(), String>> {
    let toks = tokenize(&st.text).ok()?;
    let (name, open) = def::qualified(&toks, 1)?;
    if !toks.first()?.is("select") || !toks.get(open)?.is_p("(") {
        return None;
    }
    let close = super::def_close(&toks, open)?;
    if close + 1 != toks.len() {
        return None;
    }
    let f = cx.db.routines.functions.get(&name)?.clone();
    let object = format!("`select {name}(...)`");
    if cx.mode == Mode::Replay {
        cx.emulated(st, object, "run by the mock's interpreter");
        return Some(Ok(()));
    }
    let args = toks[open + 1..close].to_vec();
    match in_savepoint(cx.db, |db| call_with_exprs(db, &f, &args)) {
        Ok(()) => cx.emulated(st, object, "run by the mock's interpreter"),
        Err(e) => cx.error(
            st,
            object,
            format!("{}; whatever it writes is missing", e.message),
            Some(fail(e)),
        ),
    }
    Some(Ok(()))
}
