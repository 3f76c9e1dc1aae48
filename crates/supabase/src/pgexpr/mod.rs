//! One typed translation of Postgres expressions into SQLite SQL.
//!
//! SQL text is parsed with `sqlparser`'s PostgreSQL dialect; each expression's Postgres type is
//! inferred from column types (the declared SQLite types the migration translator writes),
//! literals (`7.9` is `numeric`, `'x'` is `unknown` until its context types it), casts and the
//! result types of the functions the mock knows (`auth.uid()` is `uuid`, `count(*)` is
//! `bigint`, ...), and the SQLite SQL written for it keeps Postgres's meaning: casts run
//! through the mock's `pg_cast` (booleans from `'true'`/`'f'`/`'yes'`..., `numeric -> int`
//! rounding half away from zero, dates and timestamps in Postgres's text form), integer
//! division truncates while `numeric` divides exactly, `date + int` is a date, `ilike` and the
//! regular-expression operators work with any pattern. A construct it cannot keep faithful is
//! [`PgExprError::Unsupported`], never a different answer: callers deny (policies) or refuse
//! the object (views, functions) with a warning.
//!
//! Entry points: [`translate_expr`] (one expression) and [`translate_query`] (a `select`, as in
//! a view or a function body). [`cast`], [`arith`] and [`compare`] are the typing rules, shared
//! with the policy emitter (`rls::emit`), whose own tree resolves columns per query level.

mod dml;
mod expr;
mod funcs;
mod query;
mod regex;
mod strings;
mod ty;

pub use expr::{
    arith, cast, coerce, compare, extremum, order_operands, quantified, sort_key, subscript,
};
pub use funcs::register as register_functions;
pub use regex::are_to_rust;
pub use ty::{Ty, interval_modifiers};

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// Why SQL could not be translated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PgExprError {
    /// `sqlparser` could not parse it.
    Parse(String),
    /// It uses a construct the mock cannot translate faithfully.
    Unsupported {
        /// The construct (`cast from date to integer`, `function foo()`, ...).
        construct: String,
    },
}

impl std::fmt::Display for PgExprError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PgExprError::Parse(m) => write!(f, "cannot parse: {m}"),
            PgExprError::Unsupported { construct } => {
                write!(f, "{construct} is not supported by the mock")
            }
        }
    }
}

pub(crate) type R<T> = Result<T, PgExprError>;

pub(crate) fn unsupported(construct: impl Into<String>) -> PgExprError {
    PgExprError::Unsupported {
        construct: construct.into(),
    }
}

/// SQLite SQL and the Postgres type of its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Typed {
    /// The SQLite SQL.
    pub sql: String,
    /// Its Postgres type.
    pub ty: Ty,
    /// The text of a string literal (for `'1 day'::interval`, `'{a,b}'::text[]`).
    pub lit: Option<String>,
}

impl Typed {
    /// SQL of a known type.
    pub fn new(sql: impl Into<String>, ty: Ty) -> Typed {
        Typed {
            sql: sql.into(),
            ty,
            lit: None,
        }
    }
}

/// What the translator needs to know about the database.
pub trait Env {
    /// The columns (name, type) of the SQLite table `table` (`profiles`, `auth.users`).
    fn columns(&self, table: &str) -> Option<Vec<(String, Ty)>>;
    /// Whether `name` is an enum type of the project.
    fn is_enum(&self, name: &str) -> bool;
    /// Whether a function of that (SQLite) name exists on the connection.
    fn has_function(&self, name: &str) -> bool;
    /// The result type of such a function (`Any` when not known).
    fn function_type(&self, _name: &str) -> Ty {
        Ty::Any
    }
    /// Whether the project has enum types (a value of unknown type may then be one, so
    /// ordering it is refused rather than compared as text). Conservatively `true`.
    fn has_enums(&self) -> bool {
        true
    }
    /// The type of a variable or parameter called `name` (PL/pgSQL, SQL function bodies);
    /// `None` when no variable has that name.
    fn var(&self, _name: &str) -> Option<Ty> {
        None
    }
}

/// The tables visible at one query level: (name it answers to, its columns).
type Level = Vec<(String, Vec<(String, Ty)>)>;

/// The translator's state.
pub(crate) struct Tr<'a> {
    env: &'a dyn Env,
    scopes: Vec<Level>,
}

impl<'a> Tr<'a> {
    fn new(env: &'a dyn Env) -> Self {
        Tr {
            env,
            scopes: Vec::new(),
        }
    }

    /// A column reference (innermost query level first, as Postgres resolves it); a variable
    /// when no table has it; `Any` when neither is known.
    fn column(&self, qual: Option<&str>, name: &str) -> Typed {
        let sql = match qual {
            Some(q) => format!("{}.{}", expr::quote(q), expr::quote(name)),
            None => expr::quote(name),
        };
        for level in self.scopes.iter().rev() {
            for (tname, cols) in level {
                if qual.is_some_and(|q| q != tname) {
                    continue;
                }
                if let Some((_, ty)) = cols.iter().find(|(c, _)| c == name) {
                    return Typed::new(sql, ty.clone());
                }
            }
        }
        if qual.is_none()
            && let Some(ty) = self.env.var(name)
        {
            return Typed::new(sql, ty);
        }
        // A field of a record variable (`new.score`): its type when the variable's is known.
        if let Some(q) = qual
            && let Some(ty) = self.env.var(&format!("{q}.{name}"))
        {
            return Typed::new(sql, ty);
        }
        match (qual, name) {
            (None, "current_timestamp" | "localtimestamp") => Typed::new("now()", Ty::Timestamptz),
            (None, "current_date") => Typed::new("substr(now(), 1, 10)", Ty::Date),
            (None, "current_user" | "session_user") => {
                Typed::new("current_setting('role')", Ty::Text)
            }
            _ => Typed::new(sql, Ty::Any),
        }
    }

    fn cast_type(&self, name: &str) -> R<Ty> {
        let env = self.env;
        Ty::from_cast_name(name, &|n| env.is_enum(n))
            .ok_or_else(|| unsupported(format!("cast to {}", name.to_ascii_lowercase())))
    }
}

fn parse_one(sql: &str) -> R<sqlparser::ast::Statement> {
    let mut stmts = Parser::parse_sql(&PostgreSqlDialect {}, sql)
        .map_err(|e| PgExprError::Parse(e.to_string()))?;
    if stmts.len() != 1 {
        return Err(PgExprError::Parse("expected one statement".into()));
    }
    Ok(stmts.remove(0))
}

/// Translates one Postgres expression (a policy's `using`, a `check`, a default, a generated
/// column, a PL/pgSQL expression), with `tables` (SQLite table names) in scope.
pub fn translate_expr(text: &str, env: &dyn Env, tables: &[&str]) -> Result<Typed, PgExprError> {
    let e = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(text)
        .and_then(|mut p| {
            let e = p.parse_expr()?;
            p.expect_token(&sqlparser::tokenizer::Token::EOF)?;
            Ok(e)
        })
        .map_err(|e| PgExprError::Parse(e.to_string()))?;
    let mut tr = Tr::new(env);
    let level = tables
        .iter()
        .map(|t| {
            let name = t.rsplit('.').next().unwrap_or(t).to_string();
            (name, env.columns(t).unwrap_or_default())
        })
        .collect();
    tr.scopes.push(level);
    tr.expr(&e)
}

/// Translates a query (`select ...`, `with ... select ...`, `values`) or a write (`insert`,
/// `update`, `delete`, see `dml`): returns the SQLite SQL and the Postgres type of its first
/// (or first `returning`) column.
pub fn translate_query(text: &str, env: &dyn Env) -> Result<(String, Ty), PgExprError> {
    let mut st = parse_one(text)?;
    let mut tr = Tr::new(env);
    let cols = match &mut st {
        sqlparser::ast::Statement::Query(q) => tr.query(q)?,
        sqlparser::ast::Statement::Insert(_)
        | sqlparser::ast::Statement::Update(_)
        | sqlparser::ast::Statement::Delete(_) => tr.statement(&mut st)?,
        _ => return Err(PgExprError::Parse("expected a query".into())),
    };
    Ok((
        st.to_string(),
        cols.into_iter().next().map(|(_, t)| t).unwrap_or(Ty::Any),
    ))
}

/// The output columns (name, Postgres type) of a query or of a write's `returning` list, as
/// [`translate_query`] types them (a PL/pgSQL `record` filled by it gets these field types).
pub fn query_columns(text: &str, env: &dyn Env) -> Result<Vec<(String, Ty)>, PgExprError> {
    let mut st = parse_one(text)?;
    let mut tr = Tr::new(env);
    match &mut st {
        sqlparser::ast::Statement::Query(q) => tr.query(q),
        sqlparser::ast::Statement::Insert(_)
        | sqlparser::ast::Statement::Update(_)
        | sqlparser::ast::Statement::Delete(_) => tr.statement(&mut st),
        _ => Err(PgExprError::Parse("expected a query".into())),
    }
}

/// Postgres `upper()` in a UTF-8 database (glibc's `towupper` per character): a character
/// whose upper case is one character takes it; one whose upper case is longer (`ß`) stays.
pub fn pg_upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut u = c.to_uppercase();
            match (u.next(), u.next()) {
                (Some(one), None) => one,
                _ => c,
            }
        })
        .collect()
}

/// Translates a view's query: the SQLite SQL and the Postgres type of each output column.
pub fn translate_view(text: &str, env: &dyn Env) -> Result<(String, Vec<Ty>), PgExprError> {
    let st = parse_one(text)?;
    let sqlparser::ast::Statement::Query(mut q) = st else {
        return Err(PgExprError::Parse("expected a query".into()));
    };
    let mut tr = Tr::new(env);
    let cols = tr.query(&mut q)?;
    Ok((q.to_string(), cols.into_iter().map(|(_, t)| t).collect()))
}

/// SQL recording which columns of view `view` are computed booleans, so the schema reads them
/// as `boolean` (SQLite gives a computed view column no declared type, and PostgREST must
/// render `true`/`false`, not 1/0). Run right after `CREATE VIEW`.
pub fn view_types_sql(view: &str, types: &[Ty]) -> String {
    let v = crate::sql::literal(view);
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS {VIEW_TYPES} (view TEXT NOT NULL, col TEXT NOT NULL, \
         decl TEXT NOT NULL, PRIMARY KEY (view, col)); DELETE FROM {VIEW_TYPES} WHERE view = {v};"
    );
    let bools: Vec<String> = types
        .iter()
        .enumerate()
        .filter(|(_, t)| **t == Ty::Bool)
        .map(|(i, _)| i.to_string())
        .collect();
    if !bools.is_empty() {
        sql.push_str(&format!(
            " INSERT INTO {VIEW_TYPES} SELECT {v}, name, 'boolean' FROM pragma_table_info({v}) \
             WHERE cid IN ({}) AND type = '';",
            bools.join(", ")
        ));
    }
    // Columns of an enum type (declared `text` in SQLite): the enum's name, so PostgREST's
    // `order=` and comparison filters on the view use label positions.
    for (i, t) in types.iter().enumerate() {
        if let Ty::Enum(n) = t {
            sql.push_str(&format!(
                " INSERT INTO {VIEW_TYPES} SELECT {v}, name, {} FROM pragma_table_info({v}) \
                 WHERE cid = {i};",
                crate::sql::literal(n)
            ));
        }
    }
    sql
}

/// The table [`view_types_sql`] writes: (view, column, declared type).
pub const VIEW_TYPES: &str = "_edgesim_view_types";

/// One element of a Postgres array literal (`'{3,4}'`) as the JSON value the mock stores for
/// an element of type `ety`: numbers and booleans typed, others as strings; `None` when an
/// element is not valid for the type.
pub fn array_element_json(v: Option<String>, ety: &Ty) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    let Some(v) = v else { return Some(J::Null) };
    Some(match ety {
        Ty::Int(_) => J::from(v.trim().parse::<i64>().ok()?),
        Ty::Numeric | Ty::Float(_) => J::from(v.trim().parse::<f64>().ok()?),
        Ty::Bool => match v.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "yes" | "on" | "1" | "y" => J::Bool(true),
            "f" | "false" | "no" | "off" | "0" | "n" => J::Bool(false),
            _ => return None,
        },
        _ => J::String(v),
    })
}

/// The types of the variables in scope (`None`: no variable of that name).
pub type VarTypes<'a> = &'a dyn Fn(&str) -> Option<Ty>;

/// An [`Env`] over a SQLite connection and the project's catalog.
pub struct DbEnv<'a> {
    /// The connection (tables and functions).
    pub conn: &'a rusqlite::Connection,
    /// Enum types.
    pub catalog: Option<&'a crate::catalog::Catalog>,
    /// Variables and their types.
    pub vars: Option<VarTypes<'a>>,
}

impl DbEnv<'_> {
    /// The columns of `table` as SQLite declares them, with the enum types their
    /// `pg_enum_check` checks name: read from the schema once per schema version (cached in
    /// the catalog), not on every use.
    fn table_columns(&self, table: &str) -> Option<std::sync::Arc<crate::catalog::TableColumns>> {
        let read = || read_table_columns(self.conn, table);
        match self.catalog {
            Some(cat) => {
                let version: i64 = self
                    .conn
                    .query_row("PRAGMA schema_version", [], |r| r.get(0))
                    .ok()?;
                let generation = crate::catalog::schema_generation();
                cat.columns.get((version, generation), table, read)
            }
            None => read().map(std::sync::Arc::new),
        }
    }
}

/// Reads `table`'s columns and the enum types its `pg_enum_check` checks name.
fn read_table_columns(
    conn: &rusqlite::Connection,
    table: &str,
) -> Option<crate::catalog::TableColumns> {
    static ENUM_CHECK: std::sync::OnceLock<Option<::regex::Regex>> = std::sync::OnceLock::new();
    let mut st = conn
        .prepare_cached("SELECT name, type FROM pragma_table_xinfo(?1)")
        .ok()?;
    let decls: Vec<(String, String)> = st
        .query_map([table], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .ok()?
        .filter_map(Result::ok)
        .collect();
    if decls.is_empty() {
        return None;
    }
    // A column of an enum type is stored as text with `CHECK (pg_enum_check('mood', col))`.
    let sql: Option<String> = conn
        .prepare_cached("SELECT sql FROM sqlite_master WHERE name = ?1 AND type = 'table'")
        .and_then(|mut st| st.query_row([table], |r| r.get(0)))
        .ok();
    let re = ENUM_CHECK.get_or_init(|| {
        ::regex::Regex::new(
            r#"pg_enum_check"?\s*\(\s*'((?:[^']|'')+)'\s*,\s*"((?:[^"]|"")+)"\s*\)"#,
        )
        .ok()
    });
    let enum_checks = match (sql, re) {
        (Some(sql), Some(re)) => re
            .captures_iter(&sql)
            .map(|c| (c[2].replace("\"\"", "\""), c[1].replace("''", "'")))
            .collect(),
        _ => Vec::new(),
    };
    Some(crate::catalog::TableColumns { decls, enum_checks })
}

impl Env for DbEnv<'_> {
    fn columns(&self, table: &str) -> Option<Vec<(String, Ty)>> {
        let tc = self.table_columns(table)?;
        let is_enum = |e: &str| self.catalog.is_some_and(|c| c.enums.contains(e));
        let cols = tc
            .decls
            .iter()
            .map(|(n, d)| {
                let ty = if is_enum(d) {
                    Ty::Enum(d.clone())
                } else {
                    Ty::from_decl(d)
                };
                let ty = match tc.enum_checks.iter().find(|(c, e)| c == n && is_enum(e)) {
                    Some((_, e)) if ty == Ty::Text => Ty::Enum(e.clone()),
                    _ => ty,
                };
                (n.clone(), ty)
            })
            .collect::<Vec<_>>();
        Some(cols)
    }

    fn is_enum(&self, name: &str) -> bool {
        self.catalog.is_some_and(|c| c.enums.contains(name))
    }

    fn has_enums(&self) -> bool {
        self.catalog.is_some_and(|c| !c.enums.is_empty())
    }

    fn has_function(&self, name: &str) -> bool {
        let mut st = match self
            .conn
            .prepare_cached("SELECT 1 FROM pragma_function_list WHERE name = ?1")
        {
            Ok(s) => s,
            Err(_) => return false,
        };
        st.exists([name]).unwrap_or(false)
    }

    fn var(&self, name: &str) -> Option<Ty> {
        self.vars.and_then(|v| v(name))
    }
}

#[cfg(test)]
mod tests;
