//! Writing a parsed policy expression as SQLite SQL for one caller.
//!
//! Column references resolve as Postgres resolves them (innermost query level first, so an
//! unqualified `team_id` inside `exists (select 1 from members ...)` is `members.team_id`).
//! Tables of subqueries get generated aliases and, for an API role, their own SELECT policies
//! and the SELECT privilege check, as Postgres applies them to the policy's subqueries.

use super::expr::{Expr, FromItem, Lit, Select};
use super::{Cmd, Model};
use crate::errors::ApiError;
use crate::gateway::auth::Role;
use crate::schema::{Schema, Table};
use crate::sql::{ident, like_to_glob, literal};
use crate::sqlerr::pg;

/// Why an expression could not be written.
#[derive(Debug)]
pub enum EmitErr {
    /// The expression uses something the mock cannot translate (the policy denies).
    Untranslatable(String),
    /// Evaluating it for this caller fails as in Postgres (42501 on a subquery table, 42P17).
    Api(ApiError),
}

impl From<ApiError> for EmitErr {
    fn from(e: ApiError) -> Self {
        EmitErr::Api(e)
    }
}

type R<T> = Result<T, EmitErr>;

/// WITH CHECK conditions: the policy name (restrictive ones) and the SQL condition.
pub type Wcos = Vec<(Option<String>, String)>;

fn no(msg: impl Into<String>) -> EmitErr {
    EmitErr::Untranslatable(msg.into())
}

/// A table visible at one query level.
struct Entry<'a> {
    /// Names it answers to (its alias, else its name).
    name: String,
    /// How SQL refers to it (`"posts"`, `NEW`, `_rls3`).
    sql: String,
    table: &'a Table,
}

/// The writer's state for one caller.
pub struct Emitter<'a> {
    /// Tables.
    pub schema: &'a Schema,
    /// Policies and privileges.
    pub model: &'a Model,
    /// The caller (`None`: validation only; subquery tables are not expanded).
    pub role: Option<Role>,
    /// Whether a function name (as SQLite knows it) exists on the connection.
    pub has_function: &'a dyn Fn(&str) -> bool,
    /// Tables whose policies are being expanded (recursion detection).
    pub stack: Vec<String>,
    /// Alias counter.
    pub n: usize,
}

/// A SQLite function for a Postgres built-in the policies commonly call.
fn builtin(name: &str, args: &[String]) -> Option<String> {
    let a = |i: usize| args.get(i).cloned().unwrap_or_else(|| "NULL".into());
    Some(match (name, args.len()) {
        ("auth.uid", 0) => "auth_uid()".into(),
        ("auth.role", 0) => "auth_role()".into(),
        ("auth.jwt", 0) => "auth_jwt()".into(),
        ("auth.email", 0) => "auth_email()".into(),
        ("current_setting", 1 | 2) => format!("current_setting({})", args.join(", ")),
        ("now" | "statement_timestamp" | "transaction_timestamp", 0) => "now()".into(),
        ("current_user", 0) => "current_setting('role')".into(),
        ("coalesce", n) if n > 0 => format!("coalesce({}, NULL)", args.join(", ")),
        ("nullif", 2) => format!("nullif({}, {})", a(0), a(1)),
        ("lower", 1) => format!("pg_lower({})", a(0)),
        ("upper", 1) => format!("upper({})", a(0)),
        ("length" | "char_length", 1) => format!("length({})", a(0)),
        ("trim" | "btrim", 1) => format!("trim({})", a(0)),
        ("abs", 1) => format!("abs({})", a(0)),
        _ => return None,
    })
}

impl<'a> Emitter<'a> {
    /// A fresh writer.
    pub fn new(
        schema: &'a Schema,
        model: &'a Model,
        role: Option<Role>,
        has_function: &'a dyn Fn(&str) -> bool,
    ) -> Self {
        Emitter {
            schema,
            model,
            role,
            has_function,
            stack: Vec::new(),
            n: 0,
        }
    }

    /// Writes `e`, a policy expression of `table`, whose row SQL calls `qual`.
    pub fn policy_expr(&mut self, e: &Expr, table: &'a Table, qual: &str) -> R<String> {
        let scope = vec![vec![Entry {
            name: table.name.clone(),
            sql: qual.to_string(),
            table,
        }]];
        self.expr(e, &scope)
    }

    fn column(&self, qual: Option<&str>, name: &str, scopes: &[Vec<Entry<'a>>]) -> R<String> {
        for level in scopes.iter().rev() {
            for en in level {
                if qual.is_some_and(|q| q != en.name) {
                    continue;
                }
                if en.table.column(name).is_some() {
                    return Ok(format!("{}.{}", en.sql, ident(name)));
                }
                if qual.is_some() {
                    return Err(no(format!(
                        "column {}.{name} does not exist",
                        en.table.name
                    )));
                }
            }
        }
        Err(no(match qual {
            Some(q) => format!("missing FROM-clause entry for table \"{q}\""),
            None => format!("column \"{name}\" does not exist"),
        }))
    }

    fn table(&self, f: &FromItem) -> R<&'a Table> {
        let schema: &'a Schema = self.schema;
        let name = match f.schema.as_deref() {
            None | Some("public") => f.table.clone(),
            Some(s) => format!("{s}.{}", f.table),
        };
        schema
            .tables
            .get(&name)
            .or_else(|| schema.hidden.get(&name))
            .ok_or_else(|| no(format!("relation \"{name}\" is not known to the mock")))
    }

    fn select(&mut self, s: &Select, scopes: &[Vec<Entry<'a>>]) -> R<String> {
        let mut level = Vec::new();
        let mut conds = Vec::new();
        let mut from_sql = Vec::new();
        for f in &s.from {
            let t = self.table(f)?;
            self.n += 1;
            let alias = format!("_rls{}", self.n);
            level.push(Entry {
                name: f.alias.clone().unwrap_or_else(|| f.table.clone()),
                sql: alias.clone(),
                table: t,
            });
            if let Some(role) = self.role {
                super::require_role(self.model, role, &t.name, &[super::Privilege::Select])?;
                if let Some(filter) = self.using(t, Cmd::Select, &alias)? {
                    conds.push(filter);
                }
            }
        }
        let mut inner: Vec<Vec<Entry<'a>>> = Vec::new();
        // Scopes are borrowed from the caller; rebuild the chain with this level on top.
        for l in scopes {
            inner.push(
                l.iter()
                    .map(|e| Entry {
                        name: e.name.clone(),
                        sql: e.sql.clone(),
                        table: e.table,
                    })
                    .collect(),
            );
        }
        inner.push(level);
        for (i, f) in s.from.iter().enumerate() {
            let t = &inner[inner.len() - 1][i];
            let mut part = format!("{} AS {}", ident(&t.table.name), t.sql);
            if let Some(on) = &f.on {
                part = format!("JOIN {part} ON ({})", self.expr(on, &inner)?);
            } else if i > 0 {
                part = format!(", {part}");
            }
            from_sql.push(part);
        }
        let items = match &s.items {
            None => "*".to_string(),
            Some(items) => items
                .iter()
                .map(|e| self.expr(e, &inner))
                .collect::<R<Vec<_>>>()?
                .join(", "),
        };
        if let Some(f) = &s.filter {
            conds.insert(0, self.expr(f, &inner)?);
        }
        let mut sql = format!("SELECT {items}");
        if !from_sql.is_empty() {
            sql.push_str(&format!(" FROM {}", from_sql.join(" ")));
        }
        if !conds.is_empty() {
            let c: Vec<String> = conds.iter().map(|c| format!("({c})")).collect();
            sql.push_str(&format!(" WHERE {}", c.join(" AND ")));
        }
        if let Some(l) = &s.limit {
            sql.push_str(&format!(" LIMIT {}", self.expr(l, &inner)?));
        }
        Ok(sql)
    }

    /// The row filter of `cmd` on `t` for this caller (`None` when RLS does not apply), with
    /// `qual` naming the row. Untranslatable policies count as `false`.
    pub fn using(
        &mut self,
        t: &'a Table,
        cmd: Cmd,
        qual: &str,
    ) -> Result<Option<String>, ApiError> {
        let Some(role) = self.role else {
            return Ok(None);
        };
        if role == Role::ServiceRole || !self.model.enabled(&t.name) {
            return Ok(None);
        }
        if self.stack.iter().any(|s| s == &t.name) {
            return Err(pg(
                "42P17",
                format!(
                    "infinite recursion detected in policy for relation \"{}\"",
                    t.name
                ),
            ));
        }
        self.stack.push(t.name.clone());
        let out = self.combine(t, cmd, qual, |p| p.using.as_ref());
        self.stack.pop();
        Ok(Some(out?.0))
    }

    /// Permissive OR-ed (false when none), restrictive AND-ed; also returns the parts.
    fn combine(
        &mut self,
        t: &'a Table,
        cmd: Cmd,
        qual: &str,
        pick: impl Fn(&super::Policy) -> Option<&super::Parsed>,
    ) -> Result<(String, Wcos), ApiError> {
        let role = self.role.map(super::role_name).unwrap_or("postgres");
        let model: &'a Model = self.model;
        let pols = model.applicable(&t.name, cmd, role);
        let mut perm = Vec::new();
        let mut restr = Vec::new();
        for p in pols {
            let Some(parsed) = pick(p) else { continue };
            let sql = match &parsed.expr {
                Ok(e) => match self.policy_expr(e, t, qual) {
                    Ok(s) => s,
                    Err(EmitErr::Untranslatable(_)) => "0".into(),
                    Err(EmitErr::Api(e)) => return Err(e),
                },
                Err(_) => "0".into(),
            };
            if p.permissive {
                perm.push(sql);
            } else {
                restr.push((Some(p.name.clone()), sql));
            }
        }
        let permissive = if perm.is_empty() {
            "0".to_string()
        } else {
            perm.iter()
                .map(|s| format!("({s})"))
                .collect::<Vec<_>>()
                .join(" OR ")
        };
        let mut all = format!("({permissive})");
        for (_, r) in &restr {
            all.push_str(&format!(" AND ({r})"));
        }
        let mut parts = vec![(None, permissive)];
        if !perm.is_empty() {
            parts.extend(restr);
        }
        Ok((all, parts))
    }

    /// The `with check` conditions (WCOs) for new rows of `cmd`: the permissive ones OR-ed
    /// (unnamed), then each restrictive one (named). `force_using` takes the USING expressions
    /// (SELECT policies checked against new rows). `None` when RLS does not apply.
    pub fn checks(
        &mut self,
        t: &'a Table,
        cmd: Cmd,
        qual: &str,
        force_using: bool,
    ) -> Result<Option<Wcos>, ApiError> {
        let Some(role) = self.role else {
            return Ok(None);
        };
        if role == Role::ServiceRole || !self.model.enabled(&t.name) {
            return Ok(None);
        }
        self.stack.push(t.name.clone());
        let out = self.combine(t, cmd, qual, |p| {
            if force_using {
                p.using.as_ref()
            } else {
                p.check.as_ref().or(p.using.as_ref())
            }
        });
        self.stack.pop();
        Ok(Some(out?.1))
    }

    fn expr(&mut self, e: &Expr, sc: &[Vec<Entry<'a>>]) -> R<String> {
        Ok(match e {
            Expr::Col { qual, name } => self.column(qual.as_deref(), name, sc)?,
            Expr::Lit(Lit::Str(s)) => literal(s),
            Expr::Lit(Lit::Num(n)) => n.clone(),
            Expr::Lit(Lit::Bool(b)) => if *b { "1" } else { "0" }.into(),
            Expr::Lit(Lit::Null) => "NULL".into(),
            Expr::Func { name, args } => {
                let name = name.strip_prefix("public.").unwrap_or(name);
                let args = args
                    .iter()
                    .map(|a| self.expr(a, sc))
                    .collect::<R<Vec<_>>>()?;
                if let Some(s) = builtin(name, &args) {
                    s
                } else if (self.has_function)(name) {
                    format!("{}({})", ident(name), args.join(", "))
                } else {
                    return Err(no(format!("function {name}() is not known to the mock")));
                }
            }
            Expr::Not(x) => format!("(NOT {})", self.expr(x, sc)?),
            Expr::Neg(x) => format!("(- {})", self.expr(x, sc)?),
            Expr::Bin(op, l, r) if op == "->" || op == "->>" => {
                let base = self.expr(l, sc)?;
                let path = match &**r {
                    Expr::Lit(Lit::Str(k)) => format!("$.\"{}\"", k.replace('"', "\\\"")),
                    Expr::Lit(Lit::Num(n)) if n.parse::<i64>().is_ok_and(|i| i >= 0) => {
                        format!("$[{n}]")
                    }
                    _ => return Err(no("JSON operators need a literal key")),
                };
                let got = format!("({base} -> {})", literal(&path));
                if op == "->>" {
                    format!("pg_json_text({got})")
                } else {
                    got
                }
            }
            Expr::Bin(op, l, r) => {
                let sym = match op.as_str() {
                    "and" => "AND",
                    "or" => "OR",
                    o @ ("=" | "<>" | "<" | ">" | "<=" | ">=" | "||" | "+" | "-" | "*" | "/"
                    | "%") => o,
                    other => return Err(no(format!("operator {other} is not supported"))),
                };
                format!("({} {sym} {})", self.expr(l, sc)?, self.expr(r, sc)?)
            }
            Expr::IsNull(x, not) => {
                format!(
                    "({} IS {}NULL)",
                    self.expr(x, sc)?,
                    if *not { "NOT " } else { "" }
                )
            }
            Expr::IsBool(x, v, not) => format!(
                "({} IS {}{})",
                self.expr(x, sc)?,
                if *not { "NOT " } else { "" },
                if *v { "TRUE" } else { "FALSE" }
            ),
            Expr::IsDistinct(l, r, not) => format!(
                "({} IS {}{})",
                self.expr(l, sc)?,
                if *not { "" } else { "NOT " },
                self.expr(r, sc)?
            ),
            Expr::InList(x, items, not) => {
                let items = items
                    .iter()
                    .map(|i| self.expr(i, sc))
                    .collect::<R<Vec<_>>>()?;
                format!(
                    "({} {}IN ({}))",
                    self.expr(x, sc)?,
                    if *not { "NOT " } else { "" },
                    items.join(", ")
                )
            }
            Expr::InSelect(x, s, not) => {
                if s.items.as_ref().is_none_or(|i| i.len() != 1) {
                    return Err(no("subquery has too many columns"));
                }
                let lhs = self.expr(x, sc)?;
                format!(
                    "({lhs} {}IN ({}))",
                    if *not { "NOT " } else { "" },
                    self.select(s, sc)?
                )
            }
            Expr::Between(x, lo, hi, not) => format!(
                "({} {}BETWEEN {} AND {})",
                self.expr(x, sc)?,
                if *not { "NOT " } else { "" },
                self.expr(lo, sc)?,
                self.expr(hi, sc)?
            ),
            Expr::Like(x, pat, ci, not) => {
                let lhs = self.expr(x, sc)?;
                let body = match &**pat {
                    Expr::Lit(Lit::Str(p)) => {
                        let p = if *ci {
                            crate::types::pg_lower(p)
                        } else {
                            p.clone()
                        };
                        let glob = like_to_glob(&p).map_err(|e| no(e.message))?;
                        if *ci {
                            format!("pg_lower({lhs}) GLOB {}", literal(&glob))
                        } else {
                            format!("{lhs} GLOB {}", literal(&glob))
                        }
                    }
                    other if *ci => format!("{lhs} LIKE {}", self.expr(other, sc)?),
                    _ => return Err(no("`like` needs a literal pattern")),
                };
                if *not {
                    format!("(NOT ({body}))")
                } else {
                    format!("({body})")
                }
            }
            Expr::Exists(s) => format!("(EXISTS ({}))", self.select(s, sc)?),
            Expr::Scalar(s) => format!("({})", self.select(s, sc)?),
            Expr::Case(op, whens, els) => {
                let mut out = String::from("(CASE");
                if let Some(o) = op {
                    out.push_str(&format!(" {}", self.expr(o, sc)?));
                }
                for (c, v) in whens {
                    out.push_str(&format!(
                        " WHEN {} THEN {}",
                        self.expr(c, sc)?,
                        self.expr(v, sc)?
                    ));
                }
                if let Some(e) = els {
                    out.push_str(&format!(" ELSE {}", self.expr(e, sc)?));
                }
                out.push_str(" END)");
                out
            }
            Expr::Cast(x, ty) => {
                let inner = self.expr(x, sc)?;
                match ty.as_str() {
                    "int" | "integer" | "int4" | "int8" | "bigint" | "smallint" | "int2" => {
                        format!("CAST({inner} AS INTEGER)")
                    }
                    "numeric" | "decimal" | "real" | "float4" | "float8" | "float"
                    | "double precision" => format!("CAST({inner} AS REAL)"),
                    "text"
                    | "varchar"
                    | "character varying"
                    | "uuid"
                    | "json"
                    | "jsonb"
                    | "timestamptz"
                    | "timestamp"
                    | "timestamp with time zone"
                    | "timestamp without time zone"
                    | "date"
                    | "boolean"
                    | "bool"
                    | "name" => inner,
                    other => return Err(no(format!("cast to {other} is not supported"))),
                }
            }
        })
    }
}
