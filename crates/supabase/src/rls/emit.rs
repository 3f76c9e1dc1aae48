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
use crate::migrate::lex::Tok;
use crate::pgexpr::{self, Ty, Typed};
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
    /// The project's enum types (casts to them are checked by `pg_enum_check`).
    pub enums: Option<crate::catalog::Enums>,
    /// The typed view of the database: which columns are of an enum type (the schema reads
    /// them as text). Without it, an ordering comparison that may involve an enum denies.
    pub env: Option<&'a dyn pgexpr::Env>,
    /// The project's functions a policy may call (inlined, see [`Emitter::inline_call`]).
    pub project_fn: Option<&'a ProjectFns<'a>>,
    /// Project functions being inlined (a recursive one denies).
    pub inlining: Vec<String>,
}

/// Looks up a project function by name.
pub type ProjectFns<'a> = dyn Fn(&str) -> Option<ProjectFn> + 'a;

/// A project function as a policy sees it.
#[derive(Clone, Debug)]
pub struct ProjectFn {
    /// The registered function.
    pub f: std::sync::Arc<crate::routines::Function>,
    /// Declared `strict` / `returns null on null input`.
    pub strict: bool,
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
        ("upper", 1) => format!("pg_upper({})", a(0)),
        ("length" | "char_length", 1) => format!("length({})", a(0)),
        ("trim" | "btrim", 1) => format!("trim({})", a(0)),
        ("abs", 1) => format!("abs({})", a(0)),
        ("left" | "right" | "repeat" | "strpos", 2)
        | ("initcap" | "reverse", 1)
        | ("split_part" | "translate" | "lpad" | "rpad", 3) => {
            format!("pg_{name}({})", args.join(", "))
        }
        ("lpad" | "rpad", 2) => format!("pg_{name}({}, {}, ' ')", a(0), a(1)),
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
            enums: None,
            env: None,
            project_fn: None,
            inlining: Vec::new(),
        }
    }

    /// The writer, inlining calls of the project's `language sql` functions.
    pub fn with_functions(mut self, f: &'a ProjectFns<'a>) -> Self {
        self.project_fn = Some(f);
        self
    }

    /// The writer, knowing the project's enum types (without them, casts to enums deny).
    pub fn with_enums(mut self, enums: &crate::catalog::Enums) -> Self {
        self.enums = Some(enums.clone());
        self
    }

    /// The writer, reading columns' enum types from `env` (so `<`/`>`/`between` of enum
    /// values order by the type's label order, as Postgres does).
    pub fn with_env(mut self, env: &'a dyn pgexpr::Env) -> Self {
        self.env = Some(env);
        self
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
        Ok(self.select_typed(s, scopes)?.0)
    }

    /// A subquery's SQL and the Postgres type of its (first) output column.
    fn select_typed(&mut self, s: &Select, scopes: &[Vec<Entry<'a>>]) -> R<(String, Ty)> {
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
        let mut first_ty = Ty::Any;
        let items = match &s.items {
            None => "*".to_string(),
            Some(items) => {
                let typed = items
                    .iter()
                    .map(|e| self.typed(e, &inner))
                    .collect::<R<Vec<_>>>()?;
                if let Some(f) = typed.first() {
                    first_ty = f.ty.clone();
                }
                typed
                    .into_iter()
                    .map(|t| t.sql)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
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
        Ok((sql, first_ty))
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
        Ok(self.typed(e, sc)?.sql)
    }

    /// Writes `e` with its Postgres type; the typing rules (casts, comparisons of untyped
    /// literals, arithmetic, regular expressions) are [`crate::pgexpr`]'s, shared with views and
    /// function bodies.
    fn typed(&mut self, e: &Expr, sc: &[Vec<Entry<'a>>]) -> R<Typed> {
        let b = |sql: String| Typed::new(sql, Ty::Bool);
        Ok(match e {
            Expr::Col { qual, name } => {
                let sql = self.column(qual.as_deref(), name, sc)?;
                let ty = self
                    .column_kind(qual.as_deref(), name, sc)
                    .map_or(Ty::Any, |k| kind_ty(&k));
                // The schema reads enum columns as text; the typed view knows their enum.
                let ty = match ty {
                    Ty::Text => self
                        .enum_of(e, &Typed::new(String::new(), Ty::Text), sc)
                        .map_or(Ty::Text, Ty::Enum),
                    other => other,
                };
                Typed::new(sql, ty)
            }
            Expr::Lit(Lit::Str(s)) => Typed {
                sql: literal(s),
                ty: Ty::Unknown,
                lit: Some(s.clone()),
            },
            Expr::Lit(Lit::Num(n)) => {
                let ty = if n.contains(['.', 'e', 'E']) {
                    Ty::Numeric
                } else if n.parse::<i32>().is_ok() {
                    Ty::Int("integer")
                } else {
                    Ty::Int("bigint")
                };
                Typed::new(n.clone(), ty)
            }
            Expr::Lit(Lit::Bool(v)) => Typed::new(if *v { "1" } else { "0" }, Ty::Bool),
            Expr::Lit(Lit::Null) => Typed::new("NULL", Ty::Unknown),
            Expr::Func { name, args } => {
                let name = name.strip_prefix("public.").unwrap_or(name);
                let typed = args
                    .iter()
                    .map(|a| self.typed(a, sc))
                    .collect::<R<Vec<_>>>()?;
                let common = typed
                    .iter()
                    .map(|a| a.ty.clone())
                    .find(Ty::known)
                    .unwrap_or(Ty::Unknown);
                let has_enums = self.has_enums();
                match (name, typed.len()) {
                    ("greatest" | "least", 1..) => {
                        return pgexpr::extremum(name == "greatest", typed, has_enums)
                            .map_err(unsupported);
                    }
                    ("min" | "max", 1) => {
                        let a = typed
                            .into_iter()
                            .next()
                            .unwrap_or_else(|| Typed::new("NULL", Ty::Unknown));
                        let ty = a.ty.clone();
                        let key = pgexpr::sort_key(a, has_enums).map_err(unsupported)?;
                        let sql = format!("{name}({})", key.sql);
                        return Ok(match &ty {
                            Ty::Enum(n) => Typed::new(
                                format!("pg_enum_label({}, {sql})", literal(n)),
                                ty.clone(),
                            ),
                            _ => Typed::new(sql, ty),
                        });
                    }
                    _ => {}
                }
                let ty = match name {
                    "count" => Ty::Int("bigint"),
                    "auth.uid" => Ty::Uuid,
                    "auth.jwt" => Ty::Jsonb,
                    "auth.role" | "auth.email" | "current_setting" | "current_user" | "lower"
                    | "upper" | "trim" | "btrim" => Ty::Text,
                    "now" | "statement_timestamp" | "transaction_timestamp" => Ty::Timestamptz,
                    "length" | "char_length" | "strpos" => Ty::Int("integer"),
                    "substr" | "substring" | "replace" if typed.len() >= 2 => Ty::Text,
                    "left" | "right" | "repeat" | "initcap" | "reverse" | "translate"
                    | "split_part" | "lpad" | "rpad" => Ty::Text,
                    "coalesce" | "nullif" | "abs" => common.clone(),
                    _ => Ty::Any,
                };
                let args = typed
                    .into_iter()
                    .map(|a| {
                        if matches!(name, "coalesce" | "nullif") {
                            pgexpr::coerce(a, &common).map(|a| a.sql)
                        } else {
                            Ok(a.sql)
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unsupported)?;
                if let Some(s) = builtin(name, &args) {
                    Typed::new(s, ty)
                } else if let Some(pf) = self.project_fn.and_then(|f| f(name)) {
                    let Expr::Func { args, .. } = e else {
                        return Err(no("internal: not a call"));
                    };
                    return self.inline_call(name, &pf, args, sc);
                } else if (self.has_function)(name) {
                    Typed::new(format!("{}({})", ident(name), args.join(", ")), Ty::Any)
                } else {
                    return Err(no(format!("function {name}() is not known to the mock")));
                }
            }
            Expr::Not(x) => {
                let x = pgexpr::coerce(self.typed(x, sc)?, &Ty::Bool).map_err(unsupported)?;
                b(format!("(NOT {})", x.sql))
            }
            Expr::Neg(x) => {
                let x = self.typed(x, sc)?;
                Typed::new(format!("(- {})", x.sql), x.ty)
            }
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
                    Typed::new(format!("pg_json_text({got})"), Ty::Text)
                } else {
                    Typed::new(got, Ty::Jsonb)
                }
            }
            Expr::Bin(op, l, r) => {
                let lt = self.typed(l, sc)?;
                let rt = self.typed(r, sc)?;
                let out = match op.as_str() {
                    "and" | "or" => {
                        let lt = pgexpr::coerce(lt, &Ty::Bool).map_err(unsupported)?;
                        let rt = pgexpr::coerce(rt, &Ty::Bool).map_err(unsupported)?;
                        Ok(b(format!(
                            "({} {} {})",
                            lt.sql,
                            op.to_ascii_uppercase(),
                            rt.sql
                        )))
                    }
                    "<" | ">" | "<=" | ">=" if self.has_enum_side(l, &lt, r, &rt, sc) => {
                        let (lt, rt) = self.enum_pair(op, l, lt, r, rt, sc)?;
                        pgexpr::compare(op, lt, rt)
                    }
                    "<" | ">" | "<=" | ">=" if self.maybe_enum_order(&lt, &rt) => {
                        return Err(no(format!(
                            "`{op}` between a text column and an enum label (the policy \
                             emitter cannot tell an enum column from text; cast the label: \
                             `'x'::type`)"
                        )));
                    }
                    "<" | ">" | "<=" | ">=" => {
                        let (l2, r2) = (lt.ty.clone(), rt.ty.clone());
                        let lt = pgexpr::coerce(lt, &r2).map_err(unsupported)?;
                        let rt = pgexpr::coerce(rt, &l2).map_err(unsupported)?;
                        pgexpr::order_operands(op, lt, rt, self.has_enums())
                            .and_then(|(lt, rt)| pgexpr::compare(op, lt, rt))
                    }
                    "=" | "<>" => pgexpr::compare(op, lt, rt),
                    "+" | "-" | "*" | "/" | "%" => pgexpr::arith(op, lt, rt),
                    "||" => {
                        let txt = |x: Typed| {
                            pgexpr::coerce(x, &Ty::Text).and_then(|x| {
                                if matches!(
                                    x.ty,
                                    Ty::Bool
                                        | Ty::Timestamptz
                                        | Ty::Timestamp
                                        | Ty::Numeric
                                        | Ty::Float(_)
                                ) {
                                    pgexpr::cast(x, &Ty::Text)
                                } else if x.ty.is_json() || matches!(x.ty, Ty::Array(_)) {
                                    Err(pgexpr::PgExprError::Unsupported {
                                        construct: "|| on json or arrays".into(),
                                    })
                                } else {
                                    Ok(x)
                                }
                            })
                        };
                        let (l, r) = (txt(lt), txt(rt));
                        l.and_then(|l| {
                            r.map(|r| Typed::new(format!("({} || {})", l.sql, r.sql), Ty::Text))
                        })
                    }
                    "~" | "~*" | "!~" | "!~*" => {
                        if let Some(p) = &rt.lit {
                            pgexpr::are_to_rust(p, false).map_err(no)?;
                        }
                        let x = pgexpr::cast(
                            pgexpr::coerce(lt, &Ty::Text).map_err(unsupported)?,
                            &Ty::Text,
                        );
                        let p = pgexpr::cast(
                            pgexpr::coerce(rt, &Ty::Text).map_err(unsupported)?,
                            &Ty::Text,
                        );
                        let (x, p) = (x.map_err(unsupported)?, p.map_err(unsupported)?);
                        let p = if op.contains('*') {
                            format!("('(?i)' || {})", p.sql)
                        } else {
                            p.sql
                        };
                        let m = format!("regexp({p}, {})", x.sql);
                        Ok(b(if op.starts_with('!') {
                            format!("(NOT {m})")
                        } else {
                            format!("({m})")
                        }))
                    }
                    other => return Err(no(format!("operator {other} is not supported"))),
                };
                out.map_err(unsupported)?
            }
            Expr::IsNull(x, not) => b(format!(
                "({} IS {}NULL)",
                self.expr(x, sc)?,
                if *not { "NOT " } else { "" }
            )),
            Expr::IsBool(x, v, not) => {
                let x = pgexpr::coerce(self.typed(x, sc)?, &Ty::Bool).map_err(unsupported)?;
                if x.ty.known() && x.ty != Ty::Bool {
                    return Err(no(format!("IS TRUE/FALSE on {}", x.ty.pg_name())));
                }
                b(format!(
                    "({} IS {}{})",
                    x.sql,
                    if *not { "NOT " } else { "" },
                    if *v { "TRUE" } else { "FALSE" }
                ))
            }
            Expr::IsDistinct(l, r, not) => {
                let c = pgexpr::compare("IS", self.typed(l, sc)?, self.typed(r, sc)?)
                    .map_err(unsupported)?;
                let op = if *not { " IS " } else { " IS NOT " };
                b(c.sql.replacen(" IS ", op, 1))
            }
            Expr::InList(x, items, not) => {
                let x = self.typed(x, sc)?;
                let items = items
                    .iter()
                    .map(|i| {
                        let i = self.typed(i, sc)?;
                        pgexpr::coerce(i, &x.ty).map(|i| i.sql).map_err(unsupported)
                    })
                    .collect::<R<Vec<_>>>()?;
                b(format!(
                    "({} {}IN ({}))",
                    x.sql,
                    if *not { "NOT " } else { "" },
                    items.join(", ")
                ))
            }
            Expr::InSelect(x, s, not) => {
                if s.items.as_ref().is_none_or(|i| i.len() != 1) {
                    return Err(no("subquery has too many columns"));
                }
                let lhs = self.expr(x, sc)?;
                b(format!(
                    "({lhs} {}IN ({}))",
                    if *not { "NOT " } else { "" },
                    self.select(s, sc)?
                ))
            }
            Expr::Between(xe, loe, hie, not) => {
                let x = self.typed(xe, sc)?;
                let (lo, hi) = (self.typed(loe, sc)?, self.typed(hie, sc)?);
                if self.has_enum_side(xe, &x, loe, &lo, sc)
                    || self.has_enum_side(xe, &x, hie, &hi, sc)
                {
                    // `x between lo and hi` is `x >= lo and x <= hi` (Postgres rewrites it so),
                    // each side ordered by the enum's labels.
                    let (x1, lo) = self.enum_pair("between", xe, x.clone(), loe, lo, sc)?;
                    let (x2, hi) = self.enum_pair("between", xe, x, hie, hi, sc)?;
                    let ge = pgexpr::compare(">=", x1, lo).map_err(unsupported)?;
                    let le = pgexpr::compare("<=", x2, hi).map_err(unsupported)?;
                    let both = format!("({} AND {})", ge.sql, le.sql);
                    return Ok(b(if *not { format!("(NOT {both})") } else { both }));
                }
                if self.maybe_enum_order(&x, &lo) || self.maybe_enum_order(&x, &hi) {
                    return Err(no(
                        "`between` a text column and enum labels (cast the labels: `'x'::type`)",
                    ));
                }
                let lo = pgexpr::coerce(lo, &x.ty).map_err(unsupported)?;
                let hi = pgexpr::coerce(hi, &x.ty).map_err(unsupported)?;
                let x = pgexpr::coerce(x, &lo.ty).map_err(unsupported)?;
                let (x, lo) = pgexpr::order_operands("between", x, lo, self.has_enums())
                    .map_err(unsupported)?;
                let (x, hi) = pgexpr::order_operands("between", x, hi, self.has_enums())
                    .map_err(unsupported)?;
                b(format!(
                    "({} {}BETWEEN {} AND {})",
                    x.sql,
                    if *not { "NOT " } else { "" },
                    lo.sql,
                    hi.sql
                ))
            }
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
                    // Any other pattern: the mock's `like` / `match` SQLite functions, with
                    // Postgres's rules (`\` escapes; `match` is case-insensitive).
                    other => {
                        let p = self.expr(other, sc)?;
                        format!("{lhs} {} {p}", if *ci { "MATCH" } else { "LIKE" })
                    }
                };
                b(if *not {
                    format!("(NOT ({body}))")
                } else {
                    format!("({body})")
                })
            }
            Expr::Exists(s) => b(format!("(EXISTS ({}))", self.select(s, sc)?)),
            Expr::Scalar(s) => {
                let (sql, ty) = self.select_typed(s, sc)?;
                Typed::new(format!("({sql})"), ty)
            }
            Expr::Case(op, whens, els) => {
                let mut out = String::from("(CASE");
                if let Some(o) = op {
                    out.push_str(&format!(" {}", self.expr(o, sc)?));
                }
                let mut ty = Ty::Unknown;
                for (c, v) in whens {
                    let v = self.typed(v, sc)?;
                    if !ty.known() {
                        ty = v.ty.clone();
                    }
                    out.push_str(&format!(" WHEN {} THEN {}", self.expr(c, sc)?, v.sql));
                }
                if let Some(e) = els {
                    out.push_str(&format!(" ELSE {}", self.expr(e, sc)?));
                }
                out.push_str(" END)");
                Typed::new(out, ty)
            }
            Expr::Array(items) => {
                let items = items
                    .iter()
                    .map(|i| self.typed(i, sc))
                    .collect::<R<Vec<_>>>()?;
                let ety = items
                    .iter()
                    .map(|i| i.ty.clone())
                    .find(Ty::known)
                    .unwrap_or(Ty::Text);
                if matches!(ety, Ty::Bool | Ty::Json | Ty::Jsonb | Ty::Array(_)) {
                    return Err(no(format!("arrays of {} are not supported", ety.pg_name())));
                }
                let items = items
                    .into_iter()
                    .map(|i| pgexpr::coerce(i, &ety).map(|i| i.sql))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unsupported)?;
                Typed::new(
                    format!("json_array({})", items.join(", ")),
                    Ty::Array(Box::new(ety)),
                )
            }
            Expr::Subscript(a, i) => {
                let (a, i) = (self.typed(a, sc)?, self.typed(i, sc)?);
                pgexpr::subscript(a, i).map_err(unsupported)?
            }
            Expr::Quantified(x, op, a, all) => {
                let (x, a) = (self.typed(x, sc)?, self.typed(a, sc)?);
                let a =
                    pgexpr::coerce(a, &Ty::Array(Box::new(x.ty.clone()))).map_err(unsupported)?;
                let x = if matches!(op.as_str(), "<" | ">" | "<=" | ">=") {
                    let ety = match &a.ty {
                        Ty::Array(e) => (**e).clone(),
                        _ => Ty::Any,
                    };
                    let x = pgexpr::coerce(x, &ety).map_err(unsupported)?;
                    let v = Typed::new("_any.value", ety);
                    pgexpr::order_operands(op, x, v, self.has_enums())
                        .map_err(unsupported)?
                        .0
                } else {
                    x
                };
                pgexpr::quantified(op, *all, x, a).map_err(unsupported)?
            }
            Expr::Cast(x, ty) => {
                let inner = self.typed(x, sc)?;
                let has_enum = |n: &str| self.model_enum(n);
                let to = Ty::from_cast_name(ty, &has_enum)
                    .ok_or_else(|| no(format!("cast to {ty} is not supported")))?;
                pgexpr::cast(inner, &to).map_err(unsupported)?
            }
        })
    }

    /// The table a column reference resolves to (as [`Self::column`] resolves it).
    fn column_table(
        &self,
        qual: Option<&str>,
        name: &str,
        scopes: &[Vec<Entry<'a>>],
    ) -> Option<&'a Table> {
        for level in scopes.iter().rev() {
            for en in level {
                if qual.is_some_and(|q| q != en.name) {
                    continue;
                }
                if en.table.column(name).is_some() {
                    return Some(en.table);
                }
            }
        }
        None
    }

    /// The type of a column reference (as [`Self::column`] resolves it).
    fn column_kind(
        &self,
        qual: Option<&str>,
        name: &str,
        scopes: &[Vec<Entry<'a>>],
    ) -> Option<crate::types::Kind> {
        for level in scopes.iter().rev() {
            for en in level {
                if qual.is_some_and(|q| q != en.name) {
                    continue;
                }
                if let Some(c) = en.table.column(name) {
                    return Some(c.kind.clone());
                }
            }
        }
        None
    }

    /// Whether an ordering comparison of `a` and `b` may be an enum column against an untyped
    /// label: the schema reads enum columns as text, and Postgres orders enum values by their
    /// position, not as text, so such a comparison denies rather than guess.
    fn maybe_enum_order(&self, a: &Typed, b: &Typed) -> bool {
        let Some(enums) = &self.enums else {
            return false;
        };
        let label =
            |x: &Typed| x.ty == Ty::Unknown && x.lit.as_ref().is_some_and(|l| enums.is_label(l));
        (a.ty == Ty::Text && label(b)) || (b.ty == Ty::Text && label(a))
    }

    /// The enum type of `e` when the policy's SQL gives it one Postgres would see: a column of
    /// an enum type, an enum cast, or a scalar subquery of one such column.
    fn enum_of(&self, e: &Expr, t: &Typed, sc: &[Vec<Entry<'a>>]) -> Option<String> {
        if let Ty::Enum(n) = &t.ty {
            return Some(n.clone());
        }
        let env = self.env?;
        match e {
            Expr::Col { qual, name } => {
                let table = self.column_table(qual.as_deref(), name, sc)?;
                env.columns(&table.name)?
                    .into_iter()
                    .find(|(c, _)| c == name)
                    .and_then(|(_, ty)| match ty {
                        Ty::Enum(n) => Some(n),
                        _ => None,
                    })
            }
            Expr::Scalar(s) => {
                let [item] = s.items.as_deref()? else {
                    return None;
                };
                let mut level = Vec::new();
                for f in &s.from {
                    let table = self.table(f).ok()?;
                    level.push(Entry {
                        name: f.alias.clone().unwrap_or_else(|| f.table.clone()),
                        sql: String::new(),
                        table,
                    });
                }
                let mut inner: Vec<Vec<Entry<'a>>> = sc
                    .iter()
                    .map(|l| {
                        l.iter()
                            .map(|e| Entry {
                                name: e.name.clone(),
                                sql: e.sql.clone(),
                                table: e.table,
                            })
                            .collect()
                    })
                    .collect();
                inner.push(level);
                let ty = match item {
                    Expr::Cast(_, ty) => {
                        let has_enum = |n: &str| self.model_enum(n);
                        Ty::from_cast_name(ty, &has_enum).unwrap_or(Ty::Any)
                    }
                    _ => Ty::Any,
                };
                self.enum_of(item, &Typed::new(String::new(), ty), &inner)
            }
            _ => None,
        }
    }

    /// Whether an ordering comparison of `l` and `r` may involve an enum value: one side is of
    /// an enum type, or a side of unknown type meets an enum label.
    fn has_enum_side(
        &self,
        l: &Expr,
        lt: &Typed,
        r: &Expr,
        rt: &Typed,
        sc: &[Vec<Entry<'a>>],
    ) -> bool {
        if self.enum_of(l, lt, sc).is_some() || self.enum_of(r, rt, sc).is_some() {
            return true;
        }
        let Some(enums) = &self.enums else {
            return false;
        };
        // A side of unknown type (a function's result, a subquery) against an enum label: it
        // may be an enum (Postgres orders by position).
        let label =
            |x: &Typed| x.ty == Ty::Unknown && x.lit.as_ref().is_some_and(|l| enums.is_label(l));
        (lt.ty == Ty::Any && label(rt)) || (rt.ty == Ty::Any && label(lt))
    }

    /// The two sides of an enum ordering comparison, typed as that enum; denies unless both are
    /// of the same enum type (or one is a label literal, read as a label of the other's type).
    fn enum_pair(
        &self,
        op: &str,
        l: &Expr,
        lt: Typed,
        r: &Expr,
        rt: Typed,
        sc: &[Vec<Entry<'a>>],
    ) -> R<(Typed, Typed)> {
        let (le, re) = (self.enum_of(l, &lt, sc), self.enum_of(r, &rt, sc));
        let name = |x: &Option<String>, t: &Typed| x.clone().unwrap_or_else(|| t.ty.pg_name());
        match (&le, &re) {
            (Some(a), Some(b)) if a == b => Ok((
                Typed {
                    ty: Ty::Enum(a.clone()),
                    ..lt
                },
                Typed {
                    ty: Ty::Enum(b.clone()),
                    ..rt
                },
            )),
            (Some(a), None) if rt.ty == Ty::Unknown => Ok((
                Typed {
                    ty: Ty::Enum(a.clone()),
                    ..lt
                },
                rt,
            )),
            (None, Some(b)) if lt.ty == Ty::Unknown => Ok((
                lt,
                Typed {
                    ty: Ty::Enum(b.clone()),
                    ..rt
                },
            )),
            _ => Err(no(format!(
                "`{op}` of {} and {}: the mock cannot establish that both sides are of the \
                 same enum type (Postgres orders enum values by label position, not as text; \
                 cast the side whose type is unknown, e.g. `my_fn()::level`)",
                name(&le, &lt),
                name(&re, &rt)
            ))),
        }
    }

    /// A call of the project's function `name`, inlined as Postgres inlines SQL functions: a
    /// `language sql` body `select <expr>` (or a query, as a scalar subquery; its tables get
    /// the caller's policies unless the function is `security definer`), each parameter
    /// replaced by its argument cast to the parameter's type, the result cast to the declared
    /// return type (so an enum result orders by label position); `strict` gives NULL for a
    /// NULL argument. Any other function denies.
    fn inline_call(
        &mut self,
        name: &str,
        pf: &ProjectFn,
        args: &[Expr],
        sc: &[Vec<Entry<'a>>],
    ) -> R<Typed> {
        use crate::routines::Program;
        use crate::routines::def::{Language, Returns};
        let def = &pf.f.def;
        let refuse = |why: &str| {
            no(format!(
                "function {name}() cannot be inlined in a policy ({why})"
            ))
        };
        let stmts = match (&def.language, &pf.f.program) {
            (Language::Sql, Ok(Program::Sql(stmts))) if stmts.len() == 1 => &stmts[0],
            (Language::Sql, _) => return Err(refuse("its body is not one query")),
            _ => return Err(refuse("only `language sql` functions are")),
        };
        let Returns::Scalar { ty, set: false } = &def.returns else {
            return Err(refuse("it does not return one scalar"));
        };
        if !def.outs.is_empty() || args.len() != def.params.len() {
            return Err(refuse(
                "OUT parameters, defaults or a different argument count",
            ));
        }
        if self.inlining.iter().any(|n| n == name) || self.inlining.len() > 16 {
            return Err(refuse("it calls itself"));
        }
        if !stmts.first().is_some_and(|t| t.is("select")) {
            return Err(refuse("its body is not a select"));
        }
        let mut toks = vec![Tok::Punct("(".into())];
        toks.extend(stmts.iter().cloned());
        toks.push(Tok::Punct(")".into()));
        let body = super::expr::parse(&toks).map_err(|e| refuse(&e))?;
        let Expr::Scalar(sel) = body else {
            return Err(refuse("its body is not a select"));
        };
        let from_cols: Vec<String> = sel
            .from
            .iter()
            .filter_map(|f| self.table(f).ok())
            .flat_map(|t| t.columns.iter().map(|c| c.name.clone()))
            .collect();
        // Parameters by name and by position (`$1` is `_edgesim_p1` in a stored body).
        let mut subst: Vec<(String, Expr)> = Vec::new();
        for (i, (p, a)) in def.params.iter().zip(args).enumerate() {
            let arg = Expr::Cast(Box::new(a.clone()), p.ty.clone());
            if !p.name.starts_with('$') {
                if from_cols.contains(&p.name) {
                    return Err(refuse("a parameter named like a column of its query"));
                }
                subst.push((p.name.clone(), arg.clone()));
            }
            subst.push((crate::routines::def::positional_name(i + 1), arg));
        }
        let simple = sel.from.is_empty()
            && sel.filter.is_none()
            && sel.limit.is_none()
            && sel.items.as_ref().is_some_and(|i| i.len() == 1);
        let mut inner = if simple {
            sel.items.unwrap_or_default().remove(0)
        } else {
            if sel.items.as_ref().is_none_or(|i| i.len() != 1) {
                return Err(refuse("its query has more than one column"));
            }
            Expr::Scalar(sel)
        };
        substitute(&mut inner, &subst);
        let mut out = Expr::Cast(Box::new(inner), ty.clone());
        if pf.strict && !args.is_empty() {
            let any_null = args
                .iter()
                .map(|a| Expr::IsNull(Box::new(a.clone()), false))
                .reduce(|x, y| Expr::Bin("or".into(), Box::new(x), Box::new(y)))
                .unwrap_or(Expr::Lit(Lit::Bool(false)));
            out = Expr::Case(
                None,
                vec![(any_null, Expr::Lit(Lit::Null))],
                Some(Box::new(out)),
            );
        }
        // A `security definer` body reads its tables with the owner's rights (no policies).
        let role = self.role;
        if def.security_definer {
            self.role = None;
        }
        self.inlining.push(name.to_string());
        let r = self.typed(&out, sc);
        self.inlining.pop();
        self.role = role;
        let r = r?;
        // The CASE of a strict call is typed by its first branch (NULL): keep the cast's type.
        let has_enum = |n: &str| self.model_enum(n);
        let rty = Ty::from_cast_name(ty, &has_enum).unwrap_or(r.ty.clone());
        Ok(Typed { ty: rty, ..r })
    }

    /// Whether the project has enum types (without the catalog, assume it may).
    fn has_enums(&self) -> bool {
        self.enums.as_ref().is_none_or(|e| !e.is_empty())
    }

    /// Whether `name` is an enum type of the project (stored as text; a cast to it is checked
    /// by `pg_enum_check`, and `<`/`>` compare by position with `pg_enum_ord`).
    fn model_enum(&self, name: &str) -> bool {
        self.enums.as_ref().is_some_and(|e| e.contains(name))
    }
}

/// Replaces unqualified column references named like a parameter with its argument
/// (subqueries included).
fn substitute(e: &mut Expr, subst: &[(String, Expr)]) {
    let sub = |x: &mut Expr| substitute(x, subst);
    match e {
        Expr::Col { qual: None, name } => {
            if let Some((_, a)) = subst.iter().find(|(n, _)| n == name) {
                *e = a.clone();
            }
        }
        Expr::Col { .. } | Expr::Lit(_) => {}
        Expr::Func { args, .. } | Expr::Array(args) => args.iter_mut().for_each(sub),
        Expr::Not(x) | Expr::Neg(x) | Expr::IsNull(x, _) | Expr::IsBool(x, _, _) => sub(x),
        Expr::Cast(x, _) => sub(x),
        Expr::Bin(_, a, b)
        | Expr::IsDistinct(a, b, _)
        | Expr::Like(a, b, _, _)
        | Expr::Subscript(a, b)
        | Expr::Quantified(a, _, b, _) => {
            sub(a);
            sub(b);
        }
        Expr::InList(x, items, _) => {
            sub(x);
            items.iter_mut().for_each(sub);
        }
        Expr::InSelect(x, s, _) => {
            sub(x);
            substitute_select(s, subst);
        }
        Expr::Between(a, b, c, _) => {
            sub(a);
            sub(b);
            sub(c);
        }
        Expr::Exists(s) | Expr::Scalar(s) => substitute_select(s, subst),
        Expr::Case(op, whens, els) => {
            if let Some(o) = op {
                sub(o);
            }
            for (c, v) in whens {
                sub(c);
                sub(v);
            }
            if let Some(x) = els {
                sub(x);
            }
        }
    }
}

fn substitute_select(s: &mut Select, subst: &[(String, Expr)]) {
    if let Some(items) = &mut s.items {
        items.iter_mut().for_each(|x| substitute(x, subst));
    }
    for f in &mut s.from {
        if let Some(on) = &mut f.on {
            substitute(on, subst);
        }
    }
    if let Some(x) = &mut s.filter {
        substitute(x, subst);
    }
    if let Some(x) = &mut s.limit {
        substitute(x, subst);
    }
}

/// The typed translator's view of a schema column kind.
fn kind_ty(k: &crate::types::Kind) -> Ty {
    use crate::types::Kind;
    match k {
        Kind::Int(n) => Ty::Int(n),
        Kind::Float("numeric") => Ty::Numeric,
        Kind::Float(n) => Ty::Float(n),
        Kind::Bool => Ty::Bool,
        Kind::Text("uuid") => Ty::Uuid,
        Kind::Text(_) => Ty::Text,
        Kind::Json("json") => Ty::Json,
        Kind::Json("array") => Ty::Array(Box::new(Ty::Any)),
        Kind::Json(_) => Ty::Jsonb,
        Kind::Timestamptz => Ty::Timestamptz,
        Kind::Timestamp => Ty::Timestamp,
        Kind::Date => Ty::Date,
    }
}

fn unsupported(e: pgexpr::PgExprError) -> EmitErr {
    EmitErr::Untranslatable(e.to_string())
}
