//! The interpreter's values: rows, call outputs, variables and their scopes, and how a
//! statement ends (control flow).

use crate::routines::sqlbind::Scope;
use rusqlite::types::Value;
use std::collections::BTreeMap;

/// A row: column names and values.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Column names.
    pub cols: Vec<String>,
    /// Values, one per column.
    pub vals: Vec<Value>,
}

impl Row {
    /// The value of column `c`.
    pub fn get(&self, c: &str) -> Option<&Value> {
        self.cols.iter().position(|x| x == c).map(|i| &self.vals[i])
    }

    /// Sets column `c`; `false` when there is no such column.
    pub fn set(&mut self, c: &str, v: Value) -> bool {
        match self.cols.iter().position(|x| x == c) {
            Some(i) => {
                self.vals[i] = v;
                true
            }
            None => false,
        }
    }
}

/// What a call produced.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// `returns void`.
    Void,
    /// A scalar.
    Value(Value),
    /// `setof <scalar>`.
    Values(Vec<Value>),
    /// A single row (`returns <table>`), `None` for NULL.
    Row(Option<Row>),
    /// `setof <table>` / `returns table (...)`.
    Rows(Vec<Row>),
}

/// A variable's value.
#[derive(Clone, Debug)]
pub(super) enum Var {
    /// A scalar variable.
    Scalar(Value),
    /// A row (`record`, `%rowtype`, `NEW`/`OLD`); `None` when unassigned.
    Row(Option<Row>),
}

/// The variables in scope, innermost block last.
#[derive(Default)]
pub(super) struct Env {
    pub(super) scopes: Vec<BTreeMap<String, Var>>,
    /// Declared types of scalar variables and parameters (assignment casts, typed translation).
    pub(super) types: BTreeMap<String, crate::pgexpr::Ty>,
    /// Variables declared `constant`.
    pub(super) constants: std::collections::BTreeSet<String>,
    /// A trigger's arguments (`TG_ARGV`); `None` outside a trigger.
    pub(super) tg_argv: Option<Vec<String>>,
}

impl Env {
    pub(super) fn lookup(&self, name: &str) -> Option<&Var> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }
    pub(super) fn lookup_mut(&mut self, name: &str) -> Option<&mut Var> {
        self.scopes.iter_mut().rev().find_map(|s| s.get_mut(name))
    }
    pub(super) fn declare(&mut self, name: &str, v: Var) {
        if self.scopes.is_empty() {
            self.scopes.push(BTreeMap::new());
        }
        if let Some(s) = self.scopes.last_mut() {
            s.insert(name.to_string(), v);
        }
    }
    pub(super) fn set_found(&mut self, found: bool) {
        if let Some(s) = self.scopes.first_mut() {
            s.insert(
                "found".into(),
                Var::Scalar(Value::Integer(i64::from(found))),
            );
        }
    }
}

impl Scope for Env {
    fn scalar(&self, name: &str) -> Option<Value> {
        match self.lookup(name) {
            Some(Var::Scalar(v)) => Some(v.clone()),
            _ => None,
        }
    }
    fn is_row(&self, name: &str) -> bool {
        matches!(self.lookup(name), Some(Var::Row(_)))
    }
    fn field(&self, name: &str, field: &str) -> Result<Value, String> {
        match self.lookup(name) {
            Some(Var::Row(Some(r))) => r
                .get(field)
                .cloned()
                .ok_or_else(|| format!("record \"{name}\" has no field \"{field}\"")),
            _ => Err(format!("record \"{name}\" is not assigned yet")),
        }
    }
}

/// How a statement ended.
pub(super) enum Flow {
    /// Go on with the next statement.
    Next,
    /// `exit [label]`.
    Exit(Option<String>),
    /// `continue [label]`.
    Continue(Option<String>),
    /// `return ...`.
    Return(Ret),
}

/// What `return` gave.
#[derive(Clone, Debug)]
pub(super) enum Ret {
    /// `return null` (or `return;`).
    Null,
    /// A scalar.
    Value(Value),
    /// A row (`return new`).
    Row(Row),
}

/// The text of a value as `raise` and `||` print it.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "<NULL>".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => match crate::types::float_json(*f) {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        },
        Value::Text(s) => s.clone(),
        Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Postgres truthiness of a SQLite value (NULL is false).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Integer(i) => *i != 0,
        Value::Real(f) => *f != 0.0,
        Value::Text(s) => crate::types::parse_bool(s).unwrap_or(false),
        Value::Blob(b) => !b.is_empty(),
    }
}
