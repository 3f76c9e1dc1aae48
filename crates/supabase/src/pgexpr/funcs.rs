//! Function calls in the typed translator: the Postgres built-ins the mock knows, with their
//! result types and SQLite forms; the project's own SQLite functions pass through.

use super::expr::{as_text, object_name, pg_cast, quote, t};
use super::ty::Ty;
use super::{R, Tr, Typed, coerce, unsupported};
use sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments};

impl Tr<'_> {
    /// A value as an element of a JSON array/object built by SQLite (booleans as `true`).
    pub(super) fn json_value(&self, x: Typed) -> String {
        match x.ty {
            Ty::Bool => format!("json(pg_cast({}, 'boolean', 'jsonb'))", x.sql),
            Ty::Json | Ty::Jsonb | Ty::Array(_) => format!("json({})", x.sql),
            _ => x.sql,
        }
    }

    fn args(&mut self, f: &sqlparser::ast::Function) -> R<(Vec<Typed>, bool, bool)> {
        let mut out = Vec::new();
        let mut star = false;
        let mut distinct = false;
        match &f.args {
            FunctionArguments::None => {}
            FunctionArguments::Subquery(_) => return Err(unsupported("function(subquery)")),
            FunctionArguments::List(l) => {
                if !l.clauses.is_empty() {
                    return Err(unsupported(format!("{f}")));
                }
                distinct = matches!(
                    l.duplicate_treatment,
                    Some(sqlparser::ast::DuplicateTreatment::Distinct)
                );
                for a in &l.args {
                    match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => out.push(self.expr(e)?),
                        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => star = true,
                        _ => return Err(unsupported("named or wildcard function arguments")),
                    }
                }
            }
        }
        Ok((out, star, distinct))
    }

    pub(super) fn function(&mut self, f: &sqlparser::ast::Function) -> R<Typed> {
        if f.over.is_some() || !f.within_group.is_empty() || f.null_treatment.is_some() {
            return Err(unsupported("window and ordered-set functions"));
        }
        let full = object_name(&f.name);
        let name = full
            .strip_prefix("public.")
            .or_else(|| full.strip_prefix("pg_catalog."))
            .or_else(|| full.strip_prefix("extensions."))
            .unwrap_or(&full)
            .to_string();
        let (args, star, distinct) = self.args(f)?;
        let filter = match &f.filter {
            Some(c) => {
                let c = coerce(self.expr(c)?, &Ty::Bool)?;
                format!(" FILTER (WHERE {})", c.sql)
            }
            None => String::new(),
        };
        let d = if distinct { "DISTINCT " } else { "" };
        let n = args.len();
        let first_ty = args.first().map(|a| a.ty.clone()).unwrap_or(Ty::Unknown);
        let join = |args: Vec<Typed>| {
            args.into_iter()
                .map(|a| a.sql)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let common_ty = args
            .iter()
            .map(|a| a.ty.clone())
            .find(Ty::known)
            .unwrap_or(Ty::Unknown);
        let coerced = |args: Vec<Typed>| -> R<Vec<Typed>> {
            args.into_iter().map(|a| coerce(a, &common_ty)).collect()
        };
        let r = match (name.as_str(), n) {
            ("auth.uid", 0) => t("auth_uid()", Ty::Uuid),
            ("auth.role", 0) => t("auth_role()", Ty::Text),
            ("auth.jwt", 0) => t("auth_jwt()", Ty::Jsonb),
            ("auth.email", 0) => t("auth_email()", Ty::Text),
            ("current_setting", 1 | 2) => t(format!("current_setting({})", join(args)), Ty::Text),
            (
                "now"
                | "statement_timestamp"
                | "transaction_timestamp"
                | "clock_timestamp"
                | "current_timestamp",
                0,
            ) => t("now()", Ty::Timestamptz),
            ("current_date", 0) => t("substr(now(), 1, 10)", Ty::Date),
            ("current_user" | "session_user", 0) => t("current_setting('role')", Ty::Text),
            ("gen_random_uuid" | "uuid_generate_v4", 0) => t("gen_random_uuid()", Ty::Uuid),
            ("count", _) => {
                let a = if star { "*".to_string() } else { join(args) };
                t(format!("count({d}{a}){filter}"), Ty::Int("bigint"))
            }
            ("sum", 1) => {
                let ty = match first_ty {
                    Ty::Int(_) => {
                        if first_ty == Ty::Int("bigint") {
                            Ty::Numeric
                        } else {
                            Ty::Int("bigint")
                        }
                    }
                    Ty::Numeric | Ty::Float(_) | Ty::Any => first_ty.clone(),
                    other => return Err(unsupported(format!("sum({})", other.pg_name()))),
                };
                t(format!("sum({d}{}){filter}", join(args)), ty)
            }
            ("avg", 1) => {
                let ty = if matches!(first_ty, Ty::Float(_)) {
                    Ty::Float("double precision")
                } else {
                    Ty::Numeric
                };
                t(format!("avg({d}{}){filter}", join(args)), ty)
            }
            ("min" | "max", 1) => {
                // An enum's min/max is by label position; an unknown type may be an enum.
                let a = args
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| t("NULL", Ty::Unknown));
                let key = super::expr::sort_key(a, self.env.has_enums())?;
                match &first_ty {
                    Ty::Enum(e) => t(
                        format!(
                            "pg_enum_label({}, {name}({d}{}){filter})",
                            crate::sql::literal(e),
                            key.sql
                        ),
                        first_ty.clone(),
                    ),
                    _ => t(format!("{name}({d}{}){filter}", key.sql), first_ty),
                }
            }
            ("bool_and" | "every", 1) => t(format!("min({}){filter}", join(args)), Ty::Bool),
            ("bool_or", 1) => t(format!("max({}){filter}", join(args)), Ty::Bool),
            ("string_agg", 2) => t(format!("group_concat({d}{}){filter}", join(args)), Ty::Text),
            ("array_agg", 1) => {
                let ety = first_ty.clone();
                let a = self.json_value(
                    args.into_iter()
                        .next()
                        .unwrap_or_else(|| t("NULL", Ty::Unknown)),
                );
                t(
                    format!("json_group_array({d}{a}){filter}"),
                    Ty::Array(Box::new(ety)),
                )
            }
            ("json_agg" | "jsonb_agg", 1) => {
                let a = self.json_value(
                    args.into_iter()
                        .next()
                        .unwrap_or_else(|| t("NULL", Ty::Unknown)),
                );
                t(format!("json_group_array({d}{a}){filter}"), Ty::Jsonb)
            }
            _ if !filter.is_empty() || distinct => {
                return Err(unsupported(format!("{name}(distinct ...)/filter")));
            }
            ("coalesce", 1..) => {
                let args = coerced(args)?;
                let extra = if n == 1 { ", NULL" } else { "" };
                t(
                    format!("coalesce({}{extra})", join(args)),
                    common_ty.clone(),
                )
            }
            ("nullif", 2) => t(
                format!("nullif({})", join(coerced(args)?)),
                common_ty.clone(),
            ),
            ("greatest" | "least", 1..) => {
                super::expr::extremum(name == "greatest", args, self.env.has_enums())?
            }
            ("lower", 1) => t(format!("pg_lower({})", join(coerced_text(args)?)), Ty::Text),
            ("upper", 1) => t(format!("pg_upper({})", join(coerced_text(args)?)), Ty::Text),
            ("length" | "char_length" | "character_length", 1) => t(
                format!("length({})", join(coerced_text(args)?)),
                Ty::Int("integer"),
            ),
            ("trim" | "btrim" | "ltrim" | "rtrim", 1 | 2) => {
                let f = if name == "btrim" {
                    "trim"
                } else {
                    name.as_str()
                };
                t(format!("{f}({})", join(coerced_text(args)?)), Ty::Text)
            }
            ("abs", 1) => t(format!("abs({})", join(args)), first_ty),
            ("round", 1 | 2) => {
                if matches!(first_ty, Ty::Float(_)) && n == 2 {
                    return Err(unsupported("round(double precision, int)"));
                }
                let ty = if first_ty.is_int() {
                    Ty::Numeric
                } else {
                    first_ty.clone()
                };
                t(format!("round({})", join(args)), ty)
            }
            ("concat", _) => {
                let parts = args
                    .into_iter()
                    .map(|a| as_text(a).map(|s| format!("coalesce({s}, '')")))
                    .collect::<R<Vec<_>>>()?;
                t(
                    format!(
                        "({})",
                        if parts.is_empty() {
                            "''".into()
                        } else {
                            parts.join(" || ")
                        }
                    ),
                    Ty::Text,
                )
            }
            ("replace", 3) => t(format!("replace({})", join(coerced_text(args)?)), Ty::Text),
            ("left" | "right" | "repeat", 2) => {
                let (s, k) = text_int(args)?;
                t(format!("pg_{name}({s}, {k})"), Ty::Text)
            }
            ("strpos", 2) => {
                let a = coerced_text(args)?;
                t(format!("pg_strpos({})", join(a)), Ty::Int("integer"))
            }
            ("split_part", 3) => {
                let mut it = args.into_iter();
                let (s, d, k) = (
                    coerce(
                        it.next().unwrap_or_else(|| t("NULL", Ty::Unknown)),
                        &Ty::Text,
                    )?,
                    coerce(
                        it.next().unwrap_or_else(|| t("NULL", Ty::Unknown)),
                        &Ty::Text,
                    )?,
                    int_arg(it.next().unwrap_or_else(|| t("NULL", Ty::Unknown)))?,
                );
                t(
                    format!("pg_split_part({}, {}, {k})", s.sql, d.sql),
                    Ty::Text,
                )
            }
            ("lpad" | "rpad", 2 | 3) => {
                let mut it = args.into_iter();
                let s = coerce(
                    it.next().unwrap_or_else(|| t("NULL", Ty::Unknown)),
                    &Ty::Text,
                )?;
                let k = int_arg(it.next().unwrap_or_else(|| t("NULL", Ty::Unknown)))?;
                let fill = match it.next() {
                    Some(f) => coerce(f, &Ty::Text)?.sql,
                    None => "' '".into(),
                };
                t(format!("pg_{name}({}, {k}, {fill})", s.sql), Ty::Text)
            }
            ("initcap" | "reverse", 1) => t(
                format!("pg_{name}({})", join(coerced_text(args)?)),
                Ty::Text,
            ),
            ("translate", 3) => t(
                format!("pg_translate({})", join(coerced_text(args)?)),
                Ty::Text,
            ),
            ("jsonb_build_object" | "json_build_object", _) => {
                let a: Vec<String> = args.into_iter().map(|a| self.json_value(a)).collect();
                t(format!("json_object({})", a.join(", ")), Ty::Jsonb)
            }
            ("jsonb_build_array" | "json_build_array", _) => {
                let a: Vec<String> = args.into_iter().map(|a| self.json_value(a)).collect();
                t(format!("json_array({})", a.join(", ")), Ty::Jsonb)
            }
            ("to_jsonb" | "to_json", 1) => {
                let a = args
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| t("NULL", Ty::Unknown));
                let sql = match a.ty {
                    Ty::Text | Ty::Uuid | Ty::Enum(_) | Ty::Unknown | Ty::Date => {
                        format!("json_quote({})", a.sql)
                    }
                    Ty::Json | Ty::Jsonb | Ty::Array(_) => a.sql,
                    _ => pg_cast(&a, "jsonb"),
                };
                t(sql, Ty::Jsonb)
            }
            ("jsonb_array_length" | "json_array_length" | "cardinality", 1) => t(
                format!("json_array_length({})", join(args)),
                Ty::Int("integer"),
            ),
            ("array_length", 2) => {
                let a = args
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| t("NULL", Ty::Unknown));
                t(
                    format!("nullif(json_array_length({}), 0)", a.sql),
                    Ty::Int("integer"),
                )
            }
            ("timezone", 2) => t("now()", Ty::Timestamptz),
            _ => {
                if self.env.has_function(&name) {
                    t(
                        format!("{}({})", quote(&name), join(args)),
                        self.env.function_type(&name),
                    )
                } else {
                    return Err(unsupported(format!("function {full}()")));
                }
            }
        };
        if !filter.is_empty() && !r.sql.contains(" FILTER ") {
            return Err(unsupported(format!("{name}(...) filter")));
        }
        Ok(r)
    }
}

fn coerced_text(args: Vec<Typed>) -> R<Vec<Typed>> {
    args.into_iter()
        .map(|a| {
            let a = coerce(a, &Ty::Text)?;
            match a.ty {
                Ty::Text | Ty::Unknown | Ty::Any | Ty::Uuid | Ty::Enum(_) => Ok(a),
                // Postgres has no implicit cast to text for these: `left(5, 1)` is an error.
                other => Err(unsupported(format!(
                    "a {} where text is expected",
                    other.pg_name()
                ))),
            }
        })
        .collect()
}

/// An integer argument (an untyped literal is read as one); numbers of other types refused.
fn int_arg(a: Typed) -> R<String> {
    let a = coerce(a, &Ty::Int("integer"))?;
    match a.ty {
        Ty::Int(_) | Ty::Any => Ok(a.sql),
        other => Err(unsupported(format!(
            "a {} where an integer is expected",
            other.pg_name()
        ))),
    }
}

/// `(text, int)` arguments of `left`, `right`, `repeat`.
fn text_int(args: Vec<Typed>) -> R<(String, String)> {
    let mut it = args.into_iter();
    let s = coerced_text(vec![it.next().unwrap_or_else(|| t("NULL", Ty::Unknown))])?;
    let k = int_arg(it.next().unwrap_or_else(|| t("NULL", Ty::Unknown)))?;
    Ok((s.into_iter().map(|a| a.sql).collect(), k))
}

/// Registers the Postgres string functions the translator calls (`pg_left`, `pg_split_part`,
/// ...; deterministic, NULL in, NULL out, counting characters as Postgres does in UTF-8) on
/// `conn`.
pub fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    super::strings::register(conn)
}
