//! Translating parsed select/filter/order into SQLite SQL with Postgres semantics.

use crate::errors::ApiError;
use crate::query::ast::{
    CmpOp, Field, Filter, IsVal, JsonKey, Op, OrderTerm, Quant, SelectItem, SetOp,
};
use crate::schema::{EnumType, Table};
use crate::sqlerr::pg;
use crate::types::Kind;
use rusqlite::types::Value;
use serde_json::{Map, Value as Json};

/// `"name"` with embedded quotes doubled.
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `'text'` with embedded quotes doubled.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A value as a SQL literal.
pub fn sql_value(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) if f.is_nan() => "NULL".into(),
        Value::Real(f) if f.is_infinite() => if *f > 0.0 { "9e999" } else { "-9e999" }.into(),
        Value::Real(f) => format!("{f:?}"),
        Value::Text(s) if s.chars().any(char::is_control) => format!(
            "CAST(X'{}' AS TEXT)",
            s.bytes().map(|b| format!("{b:02x}")).collect::<String>()
        ),
        Value::Text(s) => literal(s),
        Value::Blob(b) => format!(
            "X'{}'",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
    }
}

/// Replaces the `?` placeholders of `sql` (outside quotes) with `params` as literals.
pub fn inline(sql: &str, params: &[Value]) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut next = params.iter();
    for ch in sql.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '\'' || ch == '"' => quote = Some(ch),
            None if ch == '?' => {
                out.push_str(&next.next().map(sql_value).unwrap_or_else(|| "NULL".into()));
                continue;
            }
            None => {}
        }
        out.push(ch);
    }
    out
}

/// A select list: the SQL expressions and each output key with its kind.
#[derive(Clone, Debug)]
pub struct Projection {
    /// Comma-separated SQL expressions (never empty).
    pub sql: String,
    /// Output keys and kinds, one per expression (may be empty for `select=`).
    pub cols: Vec<(String, Kind)>,
}

impl Projection {
    /// Builds one JSON object from a result row.
    pub fn row_json(&self, row: &rusqlite::Row<'_>) -> rusqlite::Result<Map<String, Json>> {
        let mut m = Map::new();
        for (i, (name, kind)) in self.cols.iter().enumerate() {
            m.insert(name.clone(), kind.to_json(row.get_ref(i)?));
        }
        Ok(m)
    }
}

/// A SQL expression for a field and the Postgres kind of its value.
pub fn field_expr(t: &Table, f: &Field) -> Result<(String, Kind), ApiError> {
    field_expr_in(t, None, f)
}

/// [`field_expr`] with the column qualified by a table alias (`"alias"."col"`); errors name the
/// alias as Postgres does.
pub fn field_expr_in(t: &Table, qual: Option<&str>, f: &Field) -> Result<(String, Kind), ApiError> {
    let col = t.column(&f.name).ok_or_else(|| match qual {
        Some(q) => ApiError::new(
            400,
            "42703",
            format!("column {q}.{} does not exist", f.name),
        ),
        None => t.undefined_column(&f.name),
    })?;
    let col_sql = match qual {
        Some(q) => format!("{}.{}", ident(q), ident(&col.name)),
        None => ident(&col.name),
    };
    if f.path.is_empty() {
        let sql = match col.kind {
            Kind::Timestamptz | Kind::Timestamp | Kind::Date | Kind::Bool => {
                format!("pg_norm({col_sql}, {})", literal(col.kind.pg_name()))
            }
            _ => col_sql,
        };
        return Ok((sql, col.kind.clone()));
    }
    if !matches!(col.kind, Kind::Json(_)) {
        let op = if f.path[0].text { "->>" } else { "->" };
        return Err(pg("42883", format!("operator does not exist: {} {op} unknown", col.kind.pg_name()))
            .hint("No operator matches the given name and argument types. You might need to add explicit type casts."));
    }
    let mut path = String::from("$");
    for (i, step) in f.path.iter().enumerate() {
        if step.text && i + 1 != f.path.len() {
            return Err(pg("42883", "operator does not exist: text -> unknown"));
        }
        match &step.key {
            JsonKey::Name(n) => path.push_str(&format!(".\"{n}\"")),
            JsonKey::Index(i) if *i >= 0 => path.push_str(&format!("[{i}]")),
            JsonKey::Index(i) => path.push_str(&format!("[#{i}]")),
        }
    }
    let base = format!("({col_sql} -> {})", literal(&path));
    if f.path.last().is_some_and(|s| s.text) {
        Ok((format!("pg_json_text({base})"), Kind::Text("text")))
    } else {
        Ok((base, Kind::Json("jsonb")))
    }
}

/// The enum type of `f` when it names a column of one (without a JSON path).
pub fn field_enum<'t>(t: &'t Table, f: &Field) -> Option<&'t EnumType> {
    if !f.path.is_empty() {
        return None;
    }
    t.column(&f.name)?.enum_type.as_ref()
}

/// The sort key of `f` for `order=`: [`field_expr_in`], except that a column of an enum type
/// sorts by its label's position in the type (`pg_enum_ord`), as Postgres orders enums.
pub fn order_key_in(t: &Table, qual: Option<&str>, f: &Field) -> Result<String, ApiError> {
    let (sql, _) = field_expr_in(t, qual, f)?;
    Ok(match field_enum(t, f) {
        Some(e) => enum_ord(&e.name, &sql),
        None => sql,
    })
}

/// `pg_enum_ord('type', sql)`: the position of a label in enum `ty` (22P02 for a value that is
/// not one of its labels, NULL for NULL).
fn enum_ord(ty: &str, sql: &str) -> String {
    format!("pg_enum_ord({}, {sql})", literal(ty))
}

fn known_cast(name: &str) -> bool {
    matches!(
        name,
        "text"
            | "varchar"
            | "character varying"
            | "int"
            | "integer"
            | "int4"
            | "bigint"
            | "int8"
            | "smallint"
            | "int2"
            | "float"
            | "float8"
            | "double precision"
            | "real"
            | "float4"
            | "numeric"
            | "decimal"
            | "bool"
            | "boolean"
            | "json"
            | "jsonb"
            | "timestamptz"
            | "timestamp"
            | "date"
            | "uuid"
    )
}

/// One output column: its key, SQL expression and kind.
pub type OutCol = (String, String, Kind);

/// The columns `select` items name (`Star` and `Field` items; embeddings are skipped), with
/// column references qualified by `qual` when given.
pub fn select_columns(
    t: &Table,
    qual: Option<&str>,
    items: &[SelectItem],
) -> Result<Vec<OutCol>, ApiError> {
    let mut out = Vec::new();
    for item in items {
        match item {
            SelectItem::Star => {
                for c in &t.columns {
                    let f = Field {
                        name: c.name.clone(),
                        path: Vec::new(),
                    };
                    let (sql, _) = field_expr_in(t, qual, &f)?;
                    out.push((c.name.clone(), sql, c.kind.clone()));
                }
            }
            SelectItem::Field { field, alias, cast } => {
                let (mut sql, mut kind) = field_expr_in(t, qual, field)?;
                if let Some(ty) = cast {
                    if !known_cast(ty) {
                        return Err(pg("42704", format!("type \"{ty}\" does not exist")));
                    }
                    let from = kind.pg_name();
                    sql = format!("pg_cast({sql}, {}, {})", literal(from), literal(ty));
                    kind = Kind::from_decl(ty);
                }
                out.push((
                    alias.clone().unwrap_or_else(|| field.output_name()),
                    sql,
                    kind,
                ));
            }
            SelectItem::Embed(_) => {}
        }
    }
    Ok(out)
}

impl Projection {
    /// A projection of output columns.
    pub fn from_cols(cols: Vec<OutCol>) -> Projection {
        let mut exprs: Vec<String> = cols.iter().map(|c| c.1.clone()).collect();
        if exprs.is_empty() {
            exprs.push("NULL".into());
        }
        Projection {
            sql: exprs.join(", "),
            cols: cols.into_iter().map(|(n, _, k)| (n, k)).collect(),
        }
    }
}

/// The projection for `select` items (`None` = `*`).
pub fn projection(t: &Table, items: Option<&[SelectItem]>) -> Result<Projection, ApiError> {
    let star = [SelectItem::Star];
    let items = items.unwrap_or(&star);
    Ok(Projection::from_cols(select_columns(t, None, items)?))
}

/// The WHERE expression for all filters (AND-ed); `None` when there are none.
pub fn where_clause(
    t: &Table,
    filters: &[Filter],
    params: &mut Vec<Value>,
) -> Result<Option<String>, ApiError> {
    if filters.is_empty() {
        return Ok(None);
    }
    let parts = filters
        .iter()
        .map(|f| filter_sql(t, f, params))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(parts.join(" AND ")))
}

fn filter_sql(t: &Table, f: &Filter, params: &mut Vec<Value>) -> Result<String, ApiError> {
    let (sql, negate) = match f {
        Filter::Logic {
            negate,
            and,
            children,
        } => {
            let parts = children
                .iter()
                .map(|c| filter_sql(t, c, params))
                .collect::<Result<Vec<_>, _>>()?;
            (
                format!("({})", parts.join(if *and { " AND " } else { " OR " })),
                *negate,
            )
        }
        Filter::Cond { field, negate, op } => {
            let (lhs, kind) = field_expr(t, field)?;
            let e = field_enum(t, field);
            (
                format!("({})", cond_sql(&lhs, &kind, e, op, params)?),
                *negate,
            )
        }
    };
    Ok(if negate { format!("NOT {sql}") } else { sql })
}

/// The SQL condition `op` on the expression `lhs` of kind `kind` (without the `not.` prefix);
/// `enum_ty` is the enum type of `lhs` when it is a column of one (its values compare by label
/// position, and a value that is not a label is Postgres's 22P02, as PostgREST answers it).
pub fn cond_sql(
    lhs: &str,
    kind: &Kind,
    enum_ty: Option<&EnumType>,
    op: &Op,
    params: &mut Vec<Value>,
) -> Result<String, ApiError> {
    let ord_lhs = enum_ty.map(|e| enum_ord(&e.name, lhs));
    let lhs_cmp = ord_lhs.as_deref().unwrap_or(lhs);
    // A value compared with an enum column: its label position (22P02 when not a label).
    let mark = |v: &str, params: &mut Vec<Value>| -> Result<String, ApiError> {
        params.push(kind.from_text(v)?);
        Ok(match enum_ty {
            Some(e) => {
                e.check(v)?;
                enum_ord(&e.name, "?")
            }
            None => "?".into(),
        })
    };
    match op {
        Op::Cmp(c, v) => cmp_sql(lhs, kind, enum_ty, *c, Some(v), params),
        Op::Quant(c, q, items) => {
            if let Some(e) = enum_ty
                && matches!(c, CmpOp::Like | CmpOp::Ilike | CmpOp::Match | CmpOp::Imatch)
            {
                return Err(no_operator(&e.name, cmp_symbol(*c)));
            }
            if items.is_empty() {
                return Ok(if *q == Quant::Any { "0" } else { "1" }.into());
            }
            let parts = items
                .iter()
                .map(|v| cmp_sql(lhs, kind, enum_ty, *c, v.as_deref(), params))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(parts.join(if *q == Quant::Any { " OR " } else { " AND " }))
        }
        Op::In(items) => {
            if items.is_empty() {
                return Ok("0".into());
            }
            let mut marks = Vec::new();
            for v in items {
                match v {
                    Some(v) => marks.push(mark(v, params)?),
                    None => marks.push("NULL".into()),
                }
            }
            Ok(format!("{lhs_cmp} IN ({})", marks.join(", ")))
        }
        Op::Is(v) => {
            let need_bool = |word: &str| -> Result<(), ApiError> {
                if *kind == Kind::Bool {
                    Ok(())
                } else {
                    Err(pg(
                        "42804",
                        format!(
                            "argument of IS {word} must be type boolean, not type {}",
                            kind.pg_name()
                        ),
                    ))
                }
            };
            Ok(match v {
                IsVal::Null => format!("{lhs} IS NULL"),
                IsVal::NotNull => format!("{lhs} IS NOT NULL"),
                IsVal::True => {
                    need_bool("TRUE")?;
                    format!("{lhs} IS TRUE")
                }
                IsVal::False => {
                    need_bool("FALSE")?;
                    format!("{lhs} IS FALSE")
                }
                IsVal::Unknown => {
                    need_bool("UNKNOWN")?;
                    format!("{lhs} IS NULL")
                }
            })
        }
        Op::IsDistinct(v) => {
            let m = mark(v, params)?;
            Ok(format!("{lhs_cmp} IS NOT {m}"))
        }
        Op::Set(op, v) => match enum_ty {
            Some(e) => Err(no_operator(&e.name, op.symbol())),
            None => set_sql(lhs, kind, *op, v, params),
        },
        Op::Unsupported(name) => Err(pg(
            "0A000",
            format!("edgesim: the \"{name}\" operator is not supported by the mock Supabase"),
        )),
    }
}

/// `cs`/`cd`/`ov`: containment on jsonb (Postgres's `@>` rules) and overlap on arrays.
fn set_sql(
    lhs: &str,
    kind: &Kind,
    op: SetOp,
    v: &str,
    params: &mut Vec<Value>,
) -> Result<String, ApiError> {
    let no_op = || {
        pg(
            "42883",
            format!(
                "operator does not exist: {} {} unknown",
                kind.pg_name(),
                op.symbol()
            ),
        )
        .hint("No operator matches the given name and argument types. You might need to add explicit type casts.")
    };
    match kind {
        Kind::Json("jsonb") if op != SetOp::Overlaps => {
            params.push(kind.from_text(v)?);
            Ok(match op {
                SetOp::Contains => format!("pg_jsonb_contains({lhs}, ?)"),
                _ => format!("pg_jsonb_contains(?, {lhs})"),
            })
        }
        // Arrays are stored as JSON arrays; the value is a Postgres array literal (`{a,b}`).
        Kind::Json("array") => {
            let items = crate::query::filter::pg_array(v)?;
            params.push(Value::Text(serde_json::Value::from(items).to_string()));
            let name = match op {
                SetOp::Contains => "cs",
                SetOp::ContainedBy => "cd",
                SetOp::Overlaps => "ov",
            };
            Ok(format!("pg_array_op('{name}', {lhs}, ?)"))
        }
        _ => Err(no_op()),
    }
}

/// Postgres's 42883 for `<ty> <sym> unknown` (an operator the type lacks).
fn no_operator(ty: &str, sym: &str) -> ApiError {
    pg("42883", format!("operator does not exist: {ty} {sym} unknown")).hint(
        "No operator matches the given name and argument types. You might need to add explicit type casts.",
    )
}

/// The Postgres operator of a comparison.
fn cmp_symbol(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Neq => "<>",
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
        CmpOp::Like => "~~",
        CmpOp::Ilike => "~~*",
        CmpOp::Match => "~",
        CmpOp::Imatch => "~*",
    }
}

fn cmp_sql(
    lhs: &str,
    kind: &Kind,
    enum_ty: Option<&EnumType>,
    op: CmpOp,
    v: Option<&str>,
    params: &mut Vec<Value>,
) -> Result<String, ApiError> {
    let text_only = |sym: &str| -> Result<(), ApiError> {
        match enum_ty {
            // Enums have no LIKE or regular-expression operators (Postgres: 42883).
            Some(e) => Err(no_operator(&e.name, sym)),
            None if kind.is_text() => Ok(()),
            None => Err(no_operator(kind.pg_name(), sym)),
        }
    };
    let sym = cmp_symbol(op);
    if matches!(
        op,
        CmpOp::Like | CmpOp::Ilike | CmpOp::Match | CmpOp::Imatch
    ) {
        text_only(sym)?;
    }
    let Some(v) = v else { return Ok("NULL".into()) };
    match op {
        CmpOp::Like | CmpOp::Ilike => {
            let pat = v.replace('*', "%");
            if op == CmpOp::Like {
                params.push(Value::Text(like_to_glob(&pat)?));
                Ok(format!("{lhs} GLOB ?"))
            } else {
                params.push(Value::Text(like_to_glob(&crate::types::pg_lower(&pat))?));
                Ok(format!("pg_lower({lhs}) GLOB ?"))
            }
        }
        CmpOp::Match | CmpOp::Imatch => {
            let pat = if op == CmpOp::Imatch {
                format!("(?i){v}")
            } else {
                v.to_string()
            };
            let rust = crate::pgexpr::are_to_rust(v, op == CmpOp::Imatch)
                .map_err(|e| pg("0A000", format!("{e} is not supported by the mock")))?;
            regex::Regex::new(&rust)
                .map_err(|e| pg("2201B", format!("invalid regular expression: {e}")))?;
            params.push(Value::Text(pat));
            Ok(format!("{lhs} REGEXP ?"))
        }
        _ => {
            params.push(kind.from_text(v)?);
            Ok(match enum_ty {
                // Enum values compare by label position; the value must be a label (22P02).
                Some(e) => {
                    e.check(v)?;
                    format!(
                        "{} {sym} {}",
                        enum_ord(&e.name, lhs),
                        enum_ord(&e.name, "?")
                    )
                }
                None => format!("{lhs} {sym} ?"),
            })
        }
    }
}

/// Converts a Postgres LIKE pattern (`%`, `_`, `\` escape) to an equivalent SQLite GLOB.
pub fn like_to_glob(pat: &str) -> Result<String, ApiError> {
    let mut out = String::new();
    let mut it = pat.chars();
    while let Some(c) = it.next() {
        let lit = match c {
            '%' => {
                out.push('*');
                continue;
            }
            '_' => {
                out.push('?');
                continue;
            }
            '\\' => it
                .next()
                .ok_or_else(|| pg("22025", "LIKE pattern must not end with escape character"))?,
            c => c,
        };
        match lit {
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `ORDER BY` terms with Postgres NULL placement (last for ASC, first for DESC, unless given).
pub fn order_clause(t: &Table, order: &[OrderTerm]) -> Result<Option<String>, ApiError> {
    if order.is_empty() {
        return Ok(None);
    }
    let mut parts = Vec::new();
    for o in order {
        let lhs = order_key_in(t, None, &o.field)?;
        let nulls_first = o.nulls_first.unwrap_or(o.desc);
        parts.push(format!(
            "{lhs} {} NULLS {}",
            if o.desc { "DESC" } else { "ASC" },
            if nulls_first { "FIRST" } else { "LAST" }
        ));
    }
    Ok(Some(parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inlines_parameters_outside_quotes() {
        let s = inline(
            "\"a?\" = ? AND 'x?' GLOB ? AND b IN (?, ?)",
            &[
                Value::Text("it's".into()),
                Value::Integer(3),
                Value::Real(1.5),
                Value::Null,
            ],
        );
        assert_eq!(s, "\"a?\" = 'it''s' AND 'x?' GLOB 3 AND b IN (1.5, NULL)");
        assert_eq!(
            sql_value(&Value::Text("a\nb".into())),
            "CAST(X'610a62' AS TEXT)"
        );
    }

    #[test]
    fn like_patterns_become_globs() {
        assert_eq!(like_to_glob("a%b_c").unwrap(), "a*b?c");
        assert_eq!(like_to_glob("[x]*?").unwrap(), "[[]x][*][?]");
        assert_eq!(like_to_glob("100\\%").unwrap(), "100%");
        assert!(like_to_glob("bad\\").is_err());
    }
}
