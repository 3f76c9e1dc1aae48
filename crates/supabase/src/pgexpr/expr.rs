//! Typed translation of one Postgres expression (a `sqlparser` node) into SQLite SQL.

use super::ty::{Ty, interval_modifiers};
use super::{PgExprError, R, Tr, Typed, unsupported};
use crate::sql::literal;
use sqlparser::ast::{
    BinaryOperator as B, CastKind, DateTimeField, Expr, InTarget, ObjectName, ObjectNamePart,
    UnaryOperator, Value,
};

pub(super) fn t(sql: impl Into<String>, ty: Ty) -> Typed {
    Typed {
        sql: sql.into(),
        ty,
        lit: None,
    }
}

/// The lower-case dotted name of an object name (`auth.uid`).
pub(super) fn object_name(n: &ObjectName) -> String {
    n.0.iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => ident_name(i),
            ObjectNamePart::Function(f) => ident_name(&f.name),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// An identifier as Postgres folds it (unquoted: lower case).
pub(super) fn ident_name(i: &sqlparser::ast::Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_ascii_lowercase()
    }
}

/// A SQLite quoted identifier.
pub(super) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `pg_cast(x, from, to)`: the mock's runtime cast with Postgres's semantics.
pub(super) fn pg_cast(x: &Typed, to: &str) -> String {
    let from = if x.ty == Ty::Unknown {
        "text"
    } else {
        x.ty.decl()
    };
    format!("pg_cast({}, {}, {})", x.sql, literal(from), literal(to))
}

/// Postgres's cast of `x` to `to` (`x::to`), or `Unsupported`.
pub fn cast(x: Typed, to: &Ty) -> R<Typed> {
    if &x.ty == to && !matches!(to, Ty::Interval(_)) {
        return Ok(x);
    }
    let from = x.ty.clone();
    let sql = match to {
        Ty::Text => match from {
            Ty::Text | Ty::Uuid | Ty::Enum(_) | Ty::Unknown => x.sql.clone(),
            Ty::Array(_) => return Err(unsupported("cast of an array to text")),
            Ty::Interval(_) => return Err(unsupported("cast of an interval to text")),
            _ => pg_cast(&x, "text"),
        },
        Ty::Int(_) | Ty::Numeric | Ty::Float(_) => match from {
            Ty::Date | Ty::Timestamp | Ty::Timestamptz | Ty::Uuid | Ty::Array(_) => {
                return Err(unsupported(format!(
                    "cast from {} to {}",
                    from.pg_name(),
                    to.pg_name()
                )));
            }
            Ty::Json | Ty::Jsonb => {
                // jsonb number -> numeric: the JSON text of a number is the number.
                format!(
                    "pg_cast(pg_json_text({}), 'text', {})",
                    x.sql,
                    literal(to.decl())
                )
            }
            _ => pg_cast(&x, to.decl()),
        },
        Ty::Bool => match from {
            Ty::Text | Ty::Unknown | Ty::Any | Ty::Int(_) | Ty::Enum(_) => pg_cast(&x, "boolean"),
            Ty::Json | Ty::Jsonb => format!("pg_cast(pg_json_text({}), 'text', 'boolean')", x.sql),
            _ => {
                return Err(unsupported(format!(
                    "cast from {} to boolean",
                    from.pg_name()
                )));
            }
        },
        Ty::Date => match from {
            Ty::Timestamp | Ty::Timestamptz => format!("substr({}, 1, 10)", x.sql),
            Ty::Text | Ty::Unknown | Ty::Any => pg_cast(&x, "date"),
            _ => return Err(unsupported(format!("cast from {} to date", from.pg_name()))),
        },
        Ty::Timestamp | Ty::Timestamptz => match from {
            Ty::Text | Ty::Unknown | Ty::Any | Ty::Date | Ty::Timestamp | Ty::Timestamptz => {
                pg_cast(
                    &Typed {
                        ty: Ty::Text,
                        ..x.clone()
                    },
                    to.decl(),
                )
            }
            _ => {
                return Err(unsupported(format!(
                    "cast from {} to {}",
                    from.pg_name(),
                    to.pg_name()
                )));
            }
        },
        Ty::Uuid => match from {
            Ty::Text | Ty::Unknown | Ty::Any => pg_cast(&x, "uuid"),
            _ => return Err(unsupported(format!("cast from {} to uuid", from.pg_name()))),
        },
        Ty::Json | Ty::Jsonb => match from {
            Ty::Json | Ty::Jsonb | Ty::Array(_) => x.sql.clone(),
            Ty::Text | Ty::Unknown | Ty::Any => format!("json({})", x.sql),
            _ => {
                return Err(unsupported(format!(
                    "cast from {} to {}",
                    from.pg_name(),
                    to.pg_name()
                )));
            }
        },
        Ty::Enum(name) => match from {
            Ty::Text | Ty::Unknown | Ty::Any | Ty::Enum(_) => format!(
                "(CASE WHEN pg_enum_check({}, {x}) THEN {x} END)",
                literal(name),
                x = x.sql
            ),
            _ => {
                return Err(unsupported(format!(
                    "cast from {} to {name}",
                    from.pg_name()
                )));
            }
        },
        Ty::Array(ety) => match (&from, &x.lit) {
            // Elements stored as they are: only casts that change no stored element.
            (Ty::Array(fe), _)
                if !fe.known()
                    || !ety.known()
                    || fe == ety
                    || (fe.is_int() && ety.is_number())
                    || (matches!(**ety, Ty::Text)
                        && matches!(**fe, Ty::Text | Ty::Uuid | Ty::Enum(_))) =>
            {
                x.sql.clone()
            }
            (Ty::Unknown, None) if x.sql == "NULL" => "NULL".to_string(),
            (Ty::Array(_), _) => {
                return Err(unsupported(format!(
                    "cast from {} to {}",
                    from.pg_name(),
                    to.pg_name()
                )));
            }
            (Ty::Unknown, Some(s)) => {
                let items = crate::query::filter::pg_array(s)
                    .map_err(|_| unsupported(format!("array literal {s}")))?;
                let json = serde_json::Value::Array(
                    items
                        .into_iter()
                        .map(|v| super::array_element_json(v, ety))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| unsupported(format!("array literal {s}")))?,
                );
                literal(&json.to_string())
            }
            _ => {
                return Err(unsupported(format!(
                    "cast from {} to an array",
                    from.pg_name()
                )));
            }
        },
        Ty::Interval(_) => match &x.lit {
            Some(s) => {
                let mods =
                    interval_modifiers(s).ok_or_else(|| unsupported(format!("interval '{s}'")))?;
                return Ok(t("NULL", Ty::Interval(mods)));
            }
            None => return Err(unsupported("a computed interval")),
        },
        Ty::Unknown | Ty::Any => x.sql.clone(),
    };
    Ok(t(sql, to.clone()))
}

/// An untyped literal (or null) used where `to` is expected: converted as Postgres resolves
/// `unknown` to the other operand's type.
pub fn coerce(x: Typed, to: &Ty) -> R<Typed> {
    if x.ty != Ty::Unknown || !to.known() {
        return Ok(x);
    }
    match to {
        // An untyped literal compared with an enum is read as a label of it (22P02 if not).
        Ty::Enum(_) if x.sql != "NULL" => cast(x, to),
        Ty::Text | Ty::Uuid | Ty::Enum(_) => Ok(Typed {
            ty: to.clone(),
            ..x
        }),
        Ty::Interval(_) => cast(x, &Ty::Interval(Vec::new())),
        _ if x.sql == "NULL" => Ok(Typed {
            ty: to.clone(),
            ..x
        }),
        _ => cast(x, to),
    }
}

fn wider_number(a: &Ty, b: &Ty) -> Ty {
    if matches!(a, Ty::Float(_)) || matches!(b, Ty::Float(_)) {
        Ty::Float("double precision")
    } else if *a == Ty::Numeric || *b == Ty::Numeric {
        Ty::Numeric
    } else if *a == Ty::Int("bigint") || *b == Ty::Int("bigint") {
        Ty::Int("bigint")
    } else if a.is_int() && b.is_int() {
        Ty::Int("integer")
    } else {
        Ty::Any
    }
}

/// The text form of `x` for `||` (booleans as `true`, timestamps as Postgres prints them).
pub(super) fn as_text(x: Typed) -> R<String> {
    Ok(match x.ty {
        Ty::Array(_) | Ty::Json | Ty::Jsonb => {
            return Err(unsupported("|| on arrays or json"));
        }
        Ty::Text | Ty::Uuid | Ty::Enum(_) | Ty::Unknown | Ty::Any | Ty::Int(_) | Ty::Date => x.sql,
        _ => cast(x, &Ty::Text)?.sql,
    })
}

fn days(n: &str) -> String {
    format!("(({n}) || ' days')")
}

/// `l op r` for arithmetic, with Postgres's typing (integer vs numeric division, date
/// arithmetic, intervals).
pub fn arith(op: &str, l: Typed, r: Typed) -> R<Typed> {
    let (lt, rt) = (l.ty.clone(), r.ty.clone());
    // Date and time arithmetic.
    match (op, &lt, &rt) {
        ("+", Ty::Date, n) | ("+", n, Ty::Date) if n.is_int() || *n == Ty::Unknown => {
            let (d, n) = if lt == Ty::Date { (&l, &r) } else { (&r, &l) };
            return Ok(t(format!("date({}, {})", d.sql, days(&n.sql)), Ty::Date));
        }
        ("-", Ty::Date, n) if n.is_int() || *n == Ty::Unknown => {
            return Ok(t(
                format!("date({}, {})", l.sql, days(&format!("-({})", r.sql))),
                Ty::Date,
            ));
        }
        ("-", Ty::Date, Ty::Date) => {
            return Ok(t(
                format!(
                    "CAST(round(julianday({}) - julianday({})) AS INTEGER)",
                    l.sql, r.sql
                ),
                Ty::Int("integer"),
            ));
        }
        ("+" | "-", d, Ty::Interval(mods)) if d.is_datetime() => {
            let mods: Vec<String> = mods
                .iter()
                .map(|m| {
                    if op == "-" {
                        let flipped = match m.as_bytes().first() {
                            Some(b'-') => format!("+{}", &m[1..]),
                            Some(b'+') => format!("-{}", &m[1..]),
                            _ => format!("-{m}"),
                        };
                        literal(&flipped)
                    } else {
                        literal(m)
                    }
                })
                .collect();
            let (fmt, ty) = match d {
                Ty::Timestamptz => ("%Y-%m-%dT%H:%M:%f+00:00", Ty::Timestamptz),
                _ => ("%Y-%m-%dT%H:%M:%f", Ty::Timestamp),
            };
            return Ok(t(
                format!("strftime('{fmt}', {}, {})", l.sql, mods.join(", ")),
                ty,
            ));
        }
        ("+", Ty::Interval(_), d) if d.is_datetime() => return arith("+", r, l),
        _ => {}
    }
    if lt.is_datetime()
        || rt.is_datetime()
        || matches!(lt, Ty::Interval(_))
        || matches!(rt, Ty::Interval(_))
    {
        return Err(unsupported(format!(
            "{} {op} {}",
            lt.pg_name(),
            rt.pg_name()
        )));
    }
    if lt.is_json()
        || rt.is_json()
        || matches!(lt, Ty::Array(_))
        || matches!(rt, Ty::Array(_))
        || lt == Ty::Bool
        || rt == Ty::Bool
    {
        return Err(unsupported(format!(
            "operator {op} on {} and {}",
            lt.pg_name(),
            rt.pg_name()
        )));
    }
    // An untyped literal takes the other side's type.
    let l = coerce(l, &rt)?;
    let r = coerce(r, &lt)?;
    let ty = wider_number(&l.ty, &r.ty);
    let sql = match op {
        "/" if ty.is_inexact() => format!("(CAST({} AS REAL) / pg_nonzero({}))", l.sql, r.sql),
        "/" | "%" => format!("({} {op} pg_nonzero({}))", l.sql, r.sql),
        _ => format!("({} {op} {})", l.sql, r.sql),
    };
    Ok(t(sql, ty))
}

/// A comparison `l op r` (`=`, `<>`, `<`, ...), untyped literals converted to the other side's
/// type.
pub fn compare(op: &str, l: Typed, r: Typed) -> R<Typed> {
    if l.ty.is_json() && r.ty.is_json() {
        return Err(unsupported("comparison of json values"));
    }
    let (lt, rt) = (l.ty.clone(), r.ty.clone());
    let l = coerce(l, &rt)?;
    let r = coerce(r, &lt)?;
    let op = if op == "!=" { "<>" } else { op };
    // Enum values order by their position in the type, not as text.
    let enum_name = match (&l.ty, &r.ty) {
        (Ty::Enum(n), _) | (_, Ty::Enum(n)) => Some(n.clone()),
        _ => None,
    };
    if let Some(n) = enum_name
        && matches!(op, "<" | ">" | "<=" | ">=")
    {
        let ord = |x: &Typed| format!("pg_enum_ord({}, {})", literal(&n), x.sql);
        return Ok(t(format!("({} {op} {})", ord(&l), ord(&r)), Ty::Bool));
    }
    Ok(t(format!("({} {op} {})", l.sql, r.sql), Ty::Bool))
}

/// The two sides of an ordering (`<`, `>`, `<=`, `>=`, `between`, `greatest`/`least`, `any`),
/// as they can be compared faithfully. A side whose Postgres type the translator does not
/// know (`Any`: a record field, a function result it cannot type) may be an enum (ordered by
/// label position), a date or a number in Postgres, where SQLite would compare stored forms:
/// - against an enum: both are ordered by that enum's labels (a value that is not one is
///   22P02);
/// - against a number: it must hold a number when it runs (`pg_expect_number`: a text value,
///   which Postgres could not have compared with a number, is 42883, never a comparison);
/// - against text, in a project without enum types: compared as text (Postgres resolves it
///   as text too, or refuses it);
/// - anything else is refused (a policy denies; a view or function query is refused), never
///   compared as text.
pub fn order_operands(op: &str, l: Typed, r: Typed, has_enums: bool) -> R<(Typed, Typed)> {
    let (la, ra) = (l.ty == Ty::Any, r.ty == Ty::Any);
    if !la && !ra {
        return Ok((l, r));
    }
    if !(la && ra) {
        let other = if la { &r.ty } else { &l.ty };
        let guard = |x: Typed| Typed {
            sql: format!("pg_expect_number({})", x.sql),
            lit: None,
            ..x
        };
        match other {
            Ty::Enum(_) => return Ok((l, r)),
            Ty::Text if !has_enums => return Ok((l, r)),
            o if o.is_number() => {
                return Ok(if la { (guard(l), r) } else { (l, guard(r)) });
            }
            _ => {}
        }
    }
    Err(unsupported(format!(
        "`{op}` of {} and {}: the mock does not know the Postgres type of a side (it may be \
         an enum, ordered by label position, a date or a number; cast it, e.g. \
         `my_fn()::my_enum`)",
        l.ty.pg_name(),
        r.ty.pg_name()
    )))
}

/// A sort key for `order by x` (and `min`/`max`): an enum value sorts by its label position;
/// a value of unknown type is refused when the project has enum types (it may be one).
pub fn sort_key(x: Typed, has_enums: bool) -> R<Typed> {
    match &x.ty {
        Ty::Enum(n) => Ok(t(
            format!("pg_enum_ord({}, {})", literal(n), x.sql),
            x.ty.clone(),
        )),
        Ty::Any if has_enums => Err(unsupported(
            "ordering by a value whose Postgres type the mock does not know (it may be an \
             enum, ordered by label position)",
        )),
        _ => Ok(x),
    }
}

/// `greatest(...)` / `least(...)` with Postgres's typing: arguments converted to their common
/// type, nulls ignored (null only when all are), enum values by label position.
pub fn extremum(greatest: bool, args: Vec<Typed>, has_enums: bool) -> R<Typed> {
    let common = args
        .iter()
        .map(|a| a.ty.clone())
        .find(Ty::known)
        .unwrap_or(Ty::Unknown);
    let name = if greatest { "greatest" } else { "least" };
    let mut args = args
        .into_iter()
        .map(|a| coerce(a, &common))
        .collect::<R<Vec<_>>>()?;
    if args.iter().any(|a| a.ty == Ty::Any) {
        // Each unknown argument is ordered against the common type.
        let other = t(
            "NULL",
            if common.known() {
                common.clone()
            } else {
                Ty::Any
            },
        );
        args = args
            .into_iter()
            .map(|a| {
                if a.ty == Ty::Any {
                    order_operands(name, a, other.clone(), has_enums).map(|(a, _)| a)
                } else {
                    Ok(a)
                }
            })
            .collect::<R<Vec<_>>>()?;
    }
    if args.is_empty() {
        return Err(unsupported(name));
    }
    let keyed = matches!(common, Ty::Enum(_));
    let sqls: Vec<String> = args
        .into_iter()
        .map(|a| sort_key(a, false).map(|k| k.sql))
        .collect::<R<Vec<_>>>()?;
    let f = if greatest { "max" } else { "min" };
    let n = sqls.len();
    let body = if n == 1 {
        sqls[0].clone()
    } else {
        // Postgres ignores nulls; SQLite's max/min do not: each argument first, the others
        // standing in for it when it is null.
        let rot: Vec<String> = (0..n)
            .map(|i| {
                let mut v = vec![sqls[i].clone()];
                v.extend(
                    sqls.iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, s)| s.clone()),
                );
                format!("coalesce({})", v.join(", "))
            })
            .collect();
        format!("{f}({})", rot.join(", "))
    };
    let sql = match &common {
        Ty::Enum(e) if keyed => format!("pg_enum_label({}, {body})", literal(e)),
        _ => body,
    };
    Ok(t(sql, common))
}

/// `x op any(arr)` / `x op all(arr)` over an array (stored as a JSON array), with Postgres's
/// three-valued answer: a null array, or no decisive element and a null comparison, is null
/// (so `not (x = any(arr))` never admits a row Postgres would not).
pub fn quantified(op: &str, all: bool, x: Typed, arr: Typed) -> R<Typed> {
    let ety = match &arr.ty {
        Ty::Array(e) => (**e).clone(),
        Ty::Any => Ty::Any,
        other => {
            return Err(unsupported(format!("any/all over {}", other.pg_name())));
        }
    };
    if !matches!(op, "=" | "<>" | "!=" | "<" | ">" | "<=" | ">=") {
        return Err(unsupported(format!("{op} any/all")));
    }
    let x = coerce(x, &ety)?;
    let cmp = compare(op, x, t("_any.value", ety))?.sql;
    let each = format!("SELECT 1 FROM json_each({}) AS _any", arr.sql);
    let (decisive, hit, miss) = if all {
        (format!("NOT {cmp}"), "0", "1")
    } else {
        (cmp.clone(), "1", "0")
    };
    Ok(t(
        format!(
            "(CASE WHEN {a} IS NULL THEN NULL WHEN EXISTS ({each} WHERE {decisive}) THEN {hit} \
             WHEN EXISTS ({each} WHERE {cmp} IS NULL) THEN NULL ELSE {miss} END)",
            a = arr.sql
        ),
        Ty::Bool,
    ))
}

/// `arr[i]`: the element (1-based; null out of range), as its SQL value.
pub fn subscript(arr: Typed, i: Typed) -> R<Typed> {
    let ety = match &arr.ty {
        Ty::Array(e) => (**e).clone(),
        Ty::Any => Ty::Any,
        other => return Err(unsupported(format!("subscript of {}", other.pg_name()))),
    };
    let i = coerce(i, &Ty::Int("integer"))?;
    if !(i.ty.is_int() || i.ty == Ty::Any) {
        return Err(unsupported(format!("a {} subscript", i.ty.pg_name())));
    }
    Ok(t(
        format!(
            "(CASE WHEN ({i}) >= 1 THEN json_extract({a}, '$[' || (({i}) - 1) || ']') END)",
            i = i.sql,
            a = arr.sql
        ),
        ety,
    ))
}

impl Tr<'_> {
    /// Translates `e`.
    pub fn expr(&mut self, e: &Expr) -> R<Typed> {
        match e {
            Expr::Identifier(i) => Ok(self.column(None, &ident_name(i))),
            Expr::CompoundIdentifier(parts) => {
                let names: Vec<String> = parts.iter().map(ident_name).collect();
                match names.as_slice() {
                    [q, c] => Ok(self.column(Some(q), c)),
                    [s, q, c] => Ok(self.column(Some(&format!("{s}.{q}")), c)),
                    _ => Err(unsupported(format!("the name {e}"))),
                }
            }
            Expr::Value(v) => self.value(&v.value),
            Expr::Nested(x) => {
                let x = self.expr(x)?;
                Ok(Typed {
                    sql: format!("({})", x.sql),
                    ..x
                })
            }
            Expr::Cast {
                kind,
                expr,
                data_type,
                format: None,
            } if !matches!(kind, CastKind::TryCast | CastKind::SafeCast) => {
                let name = data_type.to_string();
                let to = self.cast_type(&name)?;
                let x = self.expr(expr)?;
                cast(x, &to)
            }
            Expr::TypedString(ts) => {
                let to = self.cast_type(&ts.data_type.to_string())?;
                let x = self.value(&ts.value.value)?;
                cast(x, &to)
            }
            Expr::Interval(iv) => {
                let x = self.expr(&iv.value)?;
                let Some(mut s) = x.lit.clone() else {
                    return Err(unsupported("a computed interval"));
                };
                if let Some(f) = &iv.leading_field {
                    if iv.last_field.is_some() {
                        return Err(unsupported("interval field ranges"));
                    }
                    s = format!("{s} {f}");
                }
                cast(Typed { lit: Some(s), ..x }, &Ty::Interval(Vec::new()))
            }
            Expr::UnaryOp { op, expr } => {
                let x = self.expr(expr)?;
                match op {
                    UnaryOperator::Not => {
                        let x = coerce(x, &Ty::Bool)?;
                        Ok(t(format!("(NOT {})", x.sql), Ty::Bool))
                    }
                    UnaryOperator::Minus => Ok(Typed {
                        sql: format!("(- {})", x.sql),
                        lit: None,
                        ..x
                    }),
                    UnaryOperator::Plus => Ok(x),
                    other => Err(unsupported(format!("operator {other}"))),
                }
            }
            Expr::BinaryOp { left, op, right } => self.binary(left, op, right),
            Expr::IsNull(x) => Ok(t(format!("({} IS NULL)", self.expr(x)?.sql), Ty::Bool)),
            Expr::IsNotNull(x) => Ok(t(format!("({} IS NOT NULL)", self.expr(x)?.sql), Ty::Bool)),
            Expr::IsTrue(x) => self.is_bool(x, "IS TRUE"),
            Expr::IsFalse(x) => self.is_bool(x, "IS FALSE"),
            Expr::IsNotTrue(x) => self.is_bool(x, "IS NOT TRUE"),
            Expr::IsNotFalse(x) => self.is_bool(x, "IS NOT FALSE"),
            Expr::IsUnknown(x) => self.is_bool(x, "IS NULL"),
            Expr::IsNotUnknown(x) => self.is_bool(x, "IS NOT NULL"),
            Expr::IsDistinctFrom(l, r) | Expr::IsNotDistinctFrom(l, r) => {
                let c = compare("IS", self.expr(l)?, self.expr(r)?)?;
                let op = if matches!(e, Expr::IsDistinctFrom(..)) {
                    " IS NOT "
                } else {
                    " IS "
                };
                Ok(t(c.sql.replacen(" IS ", op, 1), Ty::Bool))
            }
            Expr::In {
                expr,
                target: InTarget::List(list),
                negated,
                ..
            } => {
                let x = self.expr(expr)?;
                let mut items = Vec::new();
                for i in list {
                    let i = coerce(self.expr(i)?, &x.ty)?;
                    items.push(i.sql);
                }
                Ok(t(
                    format!(
                        "({} {}IN ({}))",
                        x.sql,
                        if *negated { "NOT " } else { "" },
                        items.join(", ")
                    ),
                    Ty::Bool,
                ))
            }
            Expr::In {
                expr,
                target: InTarget::Subquery(subquery),
                negated,
                ..
            } => {
                let x = self.expr(expr)?;
                let (sql, _) = self.subquery(subquery)?;
                Ok(t(
                    format!(
                        "({} {}IN ({sql}))",
                        x.sql,
                        if *negated { "NOT " } else { "" }
                    ),
                    Ty::Bool,
                ))
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let x = self.expr(expr)?;
                let lo = coerce(self.expr(low)?, &x.ty)?;
                let hi = coerce(self.expr(high)?, &x.ty)?;
                let x = coerce(x, &lo.ty)?;
                let has_enums = self.env.has_enums();
                let (x, lo) = order_operands("between", x, lo, has_enums)?;
                let (x, hi) = order_operands("between", x, hi, has_enums)?;
                if matches!(x.ty, Ty::Enum(_)) || matches!(lo.ty, Ty::Enum(_)) {
                    // `x between a and b` is `x >= a and x <= b`, by label position.
                    let ge = compare(">=", x.clone(), lo)?;
                    let le = compare("<=", x, hi)?;
                    let both = format!("({} AND {})", ge.sql, le.sql);
                    return Ok(t(
                        if *negated {
                            format!("(NOT {both})")
                        } else {
                            both
                        },
                        Ty::Bool,
                    ));
                }
                Ok(t(
                    format!(
                        "({} {}BETWEEN {} AND {})",
                        x.sql,
                        if *negated { "NOT " } else { "" },
                        lo.sql,
                        hi.sql
                    ),
                    Ty::Bool,
                ))
            }
            Expr::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            }
            | Expr::ILike {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            } => {
                if let Some(esc) = escape_char
                    && esc.to_string() != "'\\'"
                {
                    return Err(unsupported(format!("like ... escape {esc}")));
                }
                let x = coerce(self.expr(expr)?, &Ty::Text)?;
                let p = coerce(self.expr(pattern)?, &Ty::Text)?;
                // The mock's `like` (case-sensitive) and `match` (case-insensitive, for ilike)
                // SQLite functions follow Postgres: `\` escapes, `_` and `%`.
                let op = if matches!(e, Expr::ILike { .. }) {
                    "MATCH"
                } else {
                    "LIKE"
                };
                let body = format!("{} {op} {}", as_text(x)?, as_text(p)?);
                Ok(t(
                    if *negated {
                        format!("(NOT ({body}))")
                    } else {
                        format!("({body})")
                    },
                    Ty::Bool,
                ))
            }
            Expr::Exists { subquery, negated } => {
                let (sql, _) = self.subquery(subquery)?;
                Ok(t(
                    format!("({}EXISTS ({sql}))", if *negated { "NOT " } else { "" }),
                    Ty::Bool,
                ))
            }
            Expr::Subquery(q) => {
                let (sql, ty) = self.subquery(q)?;
                Ok(t(format!("({sql})"), ty))
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case(operand.as_deref(), conditions, else_result.as_deref()),
            Expr::Function(f) => self.function(f),
            Expr::Array(a) => {
                let mut items = Vec::new();
                let mut ety = Ty::Unknown;
                for x in &a.elem {
                    let x = self.expr(x)?;
                    if x.ty.known() && !ety.known() {
                        ety = x.ty.clone();
                    }
                    items.push(x);
                }
                let items = items
                    .into_iter()
                    .map(|x| coerce(x, &ety).map(|x| self.json_value(x)))
                    .collect::<R<Vec<_>>>()?;
                let ety = if ety == Ty::Unknown { Ty::Text } else { ety };
                Ok(t(
                    format!("json_array({})", items.join(", ")),
                    Ty::Array(Box::new(ety)),
                ))
            }
            Expr::AnyOp {
                left,
                compare_op,
                right,
                ..
            }
            | Expr::AllOp {
                left,
                compare_op,
                right,
            } => {
                let all = matches!(e, Expr::AllOp { .. });
                let x = self.expr(left)?;
                let op = compare_op.to_string();
                if !matches!(op.as_str(), "=" | "<>" | "!=" | "<" | ">" | "<=" | ">=") {
                    return Err(unsupported(format!("{op} any/all")));
                }
                let ordering = matches!(op.as_str(), "<" | ">" | "<=" | ">=");
                let has_enums = self.env.has_enums();
                match &**right {
                    Expr::Subquery(q) => {
                        let (sql, ety) = self.subquery(q)?;
                        let v = t("_any.value", ety.clone());
                        let x = coerce(x, &ety)?;
                        let (x, v) = if ordering {
                            order_operands(&op, x, v, has_enums)?
                        } else {
                            (x, v)
                        };
                        let inner = format!("SELECT 1 FROM ({sql}) AS _any(value)");
                        let cmp = compare(&op, x, v)?;
                        let sql = if all {
                            format!("(NOT EXISTS ({inner} WHERE NOT {}))", cmp.sql)
                        } else {
                            format!("(EXISTS ({inner} WHERE {}))", cmp.sql)
                        };
                        Ok(t(sql, Ty::Bool))
                    }
                    other => {
                        let arr = self.expr(other)?;
                        let arr = coerce(arr, &Ty::Array(Box::new(x.ty.clone())))?;
                        let x = if ordering {
                            let ety = match &arr.ty {
                                Ty::Array(e) => (**e).clone(),
                                _ => Ty::Any,
                            };
                            let x = coerce(x, &ety)?;
                            order_operands(&op, x, t("_any.value", ety), has_enums)?.0
                        } else {
                            x
                        };
                        quantified(&op, all, x, arr)
                    }
                }
            }
            Expr::CompoundFieldAccess { root, access_chain } => {
                let base = self.expr(root)?;
                let [
                    sqlparser::ast::AccessExpr::Subscript(sqlparser::ast::Subscript::Index {
                        index,
                    }),
                ] = access_chain.as_slice()
                else {
                    return Err(unsupported("array slices"));
                };
                let i = self.expr(index)?;
                subscript(base, i)
            }
            Expr::Extract { field, expr, .. } => {
                let x = self.expr(expr)?;
                let x = coerce(x, &Ty::Timestamptz)?;
                if !x.ty.is_datetime() && x.ty != Ty::Any {
                    return Err(unsupported(format!("extract from {}", x.ty.pg_name())));
                }
                let f = match field {
                    DateTimeField::Year => "%Y",
                    DateTimeField::Month => "%m",
                    DateTimeField::Day => "%d",
                    DateTimeField::Hour => "%H",
                    DateTimeField::Minute => "%M",
                    DateTimeField::Dow => "%w",
                    DateTimeField::Doy => "%j",
                    DateTimeField::Epoch => {
                        return Ok(t(
                            format!("((julianday({}) - 2440587.5) * 86400.0)", x.sql),
                            Ty::Numeric,
                        ));
                    }
                    other => return Err(unsupported(format!("extract({other})"))),
                };
                Ok(t(
                    format!("CAST(strftime('{f}', {}) AS INTEGER)", x.sql),
                    Ty::Numeric,
                ))
            }
            Expr::Trim {
                expr,
                trim_where: None,
                trim_what: None,
                trim_characters: None,
            } => {
                let x = coerce(self.expr(expr)?, &Ty::Text)?;
                Ok(t(format!("trim({})", x.sql), Ty::Text))
            }
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let x = coerce(self.expr(expr)?, &Ty::Text)?;
                let from = match substring_from {
                    Some(f) => coerce(self.expr(f)?, &Ty::Int("integer"))?.sql,
                    None => "1".into(),
                };
                let sql = match substring_for {
                    Some(n) => format!(
                        "substr({}, {from}, {})",
                        x.sql,
                        coerce(self.expr(n)?, &Ty::Int("integer"))?.sql
                    ),
                    None => format!("substr({}, {from})", x.sql),
                };
                Ok(t(sql, Ty::Text))
            }
            Expr::Position { expr, r#in } => {
                let a = coerce(self.expr(expr)?, &Ty::Text)?;
                let b = coerce(self.expr(r#in)?, &Ty::Text)?;
                Ok(t(
                    format!("instr({}, {})", b.sql, a.sql),
                    Ty::Int("integer"),
                ))
            }
            other => Err(unsupported(truncated(other))),
        }
    }

    fn is_bool(&mut self, x: &Expr, op: &str) -> R<Typed> {
        let x = self.expr(x)?;
        let x = coerce(x, &Ty::Bool)?;
        if x.ty.known() && x.ty != Ty::Bool {
            return Err(unsupported(format!("{op} on {}", x.ty.pg_name())));
        }
        Ok(t(format!("({} {op})", x.sql), Ty::Bool))
    }

    fn value(&mut self, v: &Value) -> R<Typed> {
        Ok(match v {
            Value::Number(n, _) => {
                let exact = !n.contains(['.', 'e', 'E']);
                let ty = if !exact {
                    Ty::Numeric
                } else if n.parse::<i32>().is_ok() {
                    Ty::Int("integer")
                } else if n.parse::<i64>().is_ok() {
                    Ty::Int("bigint")
                } else {
                    Ty::Numeric
                };
                t(n.clone(), ty)
            }
            Value::SingleQuotedString(s)
            | Value::EscapedStringLiteral(s)
            | Value::UnicodeStringLiteral(s) => Typed {
                sql: literal(s),
                ty: Ty::Unknown,
                lit: Some(s.clone()),
            },
            Value::DollarQuotedString(d) => Typed {
                sql: literal(&d.value),
                ty: Ty::Unknown,
                lit: Some(d.value.clone()),
            },
            Value::Boolean(b) => t(if *b { "1" } else { "0" }, Ty::Bool),
            Value::Null => t("NULL", Ty::Unknown),
            Value::Placeholder(p) => t(p.clone(), Ty::Any),
            other => return Err(unsupported(format!("the literal {other}"))),
        })
    }

    fn binary(&mut self, left: &Expr, op: &B, right: &Expr) -> R<Typed> {
        let l = self.expr(left)?;
        let r = self.expr(right)?;
        match op {
            B::And | B::Or => {
                let l = coerce(l, &Ty::Bool)?;
                let r = coerce(r, &Ty::Bool)?;
                let o = if *op == B::And { "AND" } else { "OR" };
                Ok(t(format!("({} {o} {})", l.sql, r.sql), Ty::Bool))
            }
            B::Lt | B::Gt | B::LtEq | B::GtEq => {
                let op = op.to_string();
                let (lt, rt) = (l.ty.clone(), r.ty.clone());
                let (l, r) = (coerce(l, &rt)?, coerce(r, &lt)?);
                let (l, r) = order_operands(&op, l, r, self.env.has_enums())?;
                compare(&op, l, r)
            }
            B::Eq | B::NotEq => compare(&op.to_string(), l, r),
            B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo => {
                arith(&op.to_string(), l, r)
            }
            B::StringConcat => {
                if matches!(l.ty, Ty::Array(_) | Ty::Jsonb | Ty::Json)
                    || matches!(r.ty, Ty::Array(_) | Ty::Jsonb | Ty::Json)
                {
                    return Err(unsupported("|| on arrays or jsonb"));
                }
                Ok(t(format!("({} || {})", as_text(l)?, as_text(r)?), Ty::Text))
            }
            B::Arrow | B::LongArrow => {
                if l.ty.known() && !l.ty.is_json() {
                    return Err(unsupported(format!("-> on {}", l.ty.pg_name())));
                }
                let path = match (&r.lit, &r.ty) {
                    (Some(k), _) => literal(&format!("$.\"{}\"", k.replace('"', "\\\""))),
                    (None, Ty::Int(_)) if r.sql.parse::<i64>().is_ok_and(|i| i >= 0) => {
                        literal(&format!("$[{}]", r.sql))
                    }
                    (None, Ty::Int(_)) => {
                        return Err(unsupported("-> with a computed or negative index"));
                    }
                    _ => format!("('$.\"' || replace({}, '\"', '\\\"') || '\"')", r.sql),
                };
                let got = format!("({} -> {path})", l.sql);
                Ok(if *op == B::LongArrow {
                    t(format!("pg_json_text({got})"), Ty::Text)
                } else {
                    t(
                        got,
                        if l.ty == Ty::Json {
                            Ty::Json
                        } else {
                            Ty::Jsonb
                        },
                    )
                })
            }
            B::AtArrow | B::ArrowAt => {
                let (a, b) = if *op == B::AtArrow { (l, r) } else { (r, l) };
                let (a, b) = match (&a.ty, &b.ty) {
                    (Ty::Array(_), _) | (_, Ty::Array(_)) => {
                        let (aty, bty) = (a.ty.clone(), b.ty.clone());
                        let a = coerce(a, &bty)?;
                        let b = coerce(b, &aty)?;
                        return Ok(t(
                            format!("pg_array_op('cs', {}, {})", a.sql, b.sql),
                            Ty::Bool,
                        ));
                    }
                    _ => (cast(a, &Ty::Jsonb)?, cast(b, &Ty::Jsonb)?),
                };
                Ok(t(
                    format!("pg_jsonb_contains({}, {})", a.sql, b.sql),
                    Ty::Bool,
                ))
            }
            B::PGRegexMatch | B::PGRegexIMatch | B::PGRegexNotMatch | B::PGRegexNotIMatch => {
                // A literal pattern Rust's engine cannot run faithfully is refused here (a
                // computed one raises 0A000 when it runs).
                if let Some(p) = &r.lit {
                    super::regex::are_to_rust(p, false).map_err(unsupported)?;
                }
                let x = as_text(coerce(l, &Ty::Text)?)?;
                let p = as_text(coerce(r, &Ty::Text)?)?;
                let ci = matches!(op, B::PGRegexIMatch | B::PGRegexNotIMatch);
                let neg = matches!(op, B::PGRegexNotMatch | B::PGRegexNotIMatch);
                let p = if ci { format!("('(?i)' || {p})") } else { p };
                let m = format!("regexp({p}, {x})");
                Ok(t(
                    if neg {
                        format!("(NOT {m})")
                    } else {
                        format!("({m})")
                    },
                    Ty::Bool,
                ))
            }
            other => Err(unsupported(format!("operator {other}"))),
        }
    }

    fn case(
        &mut self,
        operand: Option<&Expr>,
        conditions: &[sqlparser::ast::CaseWhen],
        els: Option<&Expr>,
    ) -> R<Typed> {
        let op = operand.map(|o| self.expr(o)).transpose()?;
        let mut whens = Vec::new();
        let mut results = Vec::new();
        for w in conditions {
            let c = self.expr(&w.condition)?;
            let c = match &op {
                Some(o) => coerce(c, &o.ty)?,
                None => coerce(c, &Ty::Bool)?,
            };
            whens.push(c.sql);
            results.push(self.expr(&w.result)?);
        }
        let els = els.map(|e| self.expr(e)).transpose()?;
        let ty = results
            .iter()
            .chain(els.iter())
            .map(|r| r.ty.clone())
            .find(Ty::known)
            .unwrap_or(Ty::Unknown);
        let mut sql = String::from("(CASE");
        if let Some(o) = &op {
            sql.push_str(&format!(" {}", o.sql));
        }
        for (c, r) in whens.into_iter().zip(results) {
            sql.push_str(&format!(" WHEN {c} THEN {}", coerce(r, &ty)?.sql));
        }
        if let Some(e) = els {
            sql.push_str(&format!(" ELSE {}", coerce(e, &ty)?.sql));
        }
        sql.push_str(" END)");
        Ok(t(sql, ty))
    }
}

fn truncated(e: &Expr) -> String {
    let s = e.to_string();
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

impl From<PgExprError> for String {
    fn from(e: PgExprError) -> String {
        e.to_string()
    }
}
