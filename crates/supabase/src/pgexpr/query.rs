//! Typed translation of queries: every expression of a `select` (projection, `where`, joins,
//! `group by`, `having`, `order by`, `limit`) goes through the expression translator with the
//! query level's tables in scope; table names become the mock's SQLite names; unnamed
//! projection columns get the name Postgres gives them; `order by` gets Postgres's null order.

use super::expr::{ident_name, object_name};
use super::ty::Ty;
use super::{R, Tr, unsupported};
use sqlparser::ast::{
    Distinct, Expr, GroupByExpr, Ident, JoinConstraint, JoinOperator, LimitClause, ObjectName,
    ObjectNamePart, OrderByKind, Query, Select, SelectItem, SetExpr, TableFactor, TableWithJoins,
};

/// Columns a query produces: (name, type).
pub(super) type Cols = Vec<(String, Ty)>;

/// Replaces `e` by raw SQLite SQL (an unquoted identifier prints as written).
pub(super) fn raw(sql: String) -> Expr {
    Expr::Identifier(Ident::new(sql))
}

/// The name Postgres gives an unnamed output column (`FigureColname`): a column's name, a
/// function's name, a cast's operand name else its type's, `case`, `array`, `exists`, else
/// `?column?`.
pub(super) fn colname(e: &Expr) -> Option<String> {
    Some(match e {
        Expr::Identifier(i) => ident_name(i),
        Expr::CompoundIdentifier(p) => ident_name(p.last()?),
        Expr::Nested(x) => return colname(x),
        Expr::Function(f) => {
            let n = object_name(&f.name);
            n.rsplit('.').next().unwrap_or(&n).to_string()
        }
        Expr::Cast {
            expr, data_type, ..
        } => {
            return colname(expr).or_else(|| Some(type_colname(&data_type.to_string())));
        }
        Expr::TypedString(ts) => type_colname(&ts.data_type.to_string()),
        Expr::Case { .. } => "case".into(),
        Expr::Array(_) => "array".into(),
        Expr::Exists { .. } => "exists".into(),
        Expr::Interval(_) => "interval".into(),
        Expr::Trim { .. } => "btrim".into(),
        Expr::Substring { .. } => "substring".into(),
        Expr::Position { .. } => "position".into(),
        Expr::Extract { .. } => "extract".into(),
        Expr::Value(v) if matches!(v.value, sqlparser::ast::Value::Boolean(_)) => "bool".into(),
        Expr::Subquery(q) => match &*q.body {
            SetExpr::Select(s) => match s.projection.first()? {
                SelectItem::UnnamedExpr(e) => return colname(e),
                SelectItem::ExprWithAlias { alias, .. } => ident_name(alias),
                _ => return None,
            },
            _ => return None,
        },
        _ => return None,
    })
}

/// Postgres's internal name of a cast's type, which names an unnamed cast column.
fn type_colname(t: &str) -> String {
    let t = t.to_ascii_lowercase();
    let base = t.split('(').next().unwrap_or(&t).trim();
    match base {
        "int" | "integer" | "int4" => "int4",
        "bigint" | "int8" => "int8",
        "smallint" | "int2" => "int2",
        "real" | "float4" => "float4",
        "double precision" | "float8" | "float" => "float8",
        "boolean" | "bool" => "bool",
        "decimal" | "numeric" => "numeric",
        "character varying" | "varchar" => "varchar",
        "character" | "char" => "bpchar",
        "timestamp with time zone" | "timestamptz" => "timestamptz",
        "timestamp" | "timestamp without time zone" => "timestamp",
        other => return other.rsplit('.').next().unwrap_or(other).to_string(),
    }
    .to_string()
}

/// The SQLite name of a table: `public.x` and `extensions.x` are `x`; other schemas' tables are
/// SQLite tables named `schema.x` (`auth.users`).
pub(super) fn sqlite_table(n: &ObjectName) -> String {
    let name = object_name(n);
    match name.split_once('.') {
        Some(("public" | "extensions", t)) => t.to_string(),
        _ => name,
    }
}

impl Tr<'_> {
    /// Translates a query in place; returns its output columns.
    pub(super) fn query(&mut self, q: &mut Query) -> R<Cols> {
        if q.fetch.is_some() || !q.pipe_operators.is_empty() || q.for_clause.is_some() {
            return Err(unsupported("fetch/for clauses"));
        }
        // Row locks (`for update`) have no effect on SQLite's single writer.
        q.locks.clear();
        let mut ctes: super::Level = Vec::new();
        if let Some(w) = &mut q.with {
            if w.recursive {
                return Err(unsupported("with recursive"));
            }
            for cte in &mut w.cte_tables {
                self.scopes.push(ctes.clone());
                let cols = self.query(&mut cte.query);
                self.scopes.pop();
                ctes.push((ident_name(&cte.alias.name), cols?));
            }
        }
        self.scopes.push(ctes);
        let out = self.set_expr(&mut q.body, q.order_by.as_mut().map(|o| &mut o.kind));
        let out = out.and_then(|cols| {
            if let Some(l) = &mut q.limit_clause {
                match l {
                    LimitClause::LimitOffset { limit, offset, .. } => {
                        if let Some(e) = limit {
                            *e = raw(self.expr(e)?.sql);
                        }
                        if let Some(o) = offset {
                            o.value = raw(self.expr(&o.value)?.sql);
                        }
                    }
                    LimitClause::OffsetCommaLimit { .. } => {
                        return Err(unsupported("limit a, b"));
                    }
                }
            }
            Ok(cols)
        });
        self.scopes.pop();
        out
    }

    fn set_expr(&mut self, s: &mut SetExpr, order: Option<&mut OrderByKind>) -> R<Cols> {
        match s {
            SetExpr::Select(sel) => self.select(sel, order),
            SetExpr::Query(q) => {
                let cols = self.query(q)?;
                self.order(order, &cols)?;
                Ok(cols)
            }
            SetExpr::SetOperation { left, right, .. } => {
                let cols = self.set_expr(left, None)?;
                self.set_expr(right, None)?;
                self.order(order, &cols)?;
                Ok(cols)
            }
            SetExpr::Values(v) => {
                let mut cols = Vec::new();
                for row in &mut v.rows {
                    for (i, e) in row.iter_mut().enumerate() {
                        let x = self.expr(e)?;
                        if cols.len() <= i {
                            cols.push((format!("column{}", i + 1), x.ty.clone()));
                        }
                        *e = raw(x.sql);
                    }
                }
                self.order(order, &cols)?;
                Ok(cols)
            }
            _ => Err(unsupported("data-modifying statements in a query")),
        }
    }

    /// `order by` over output columns (set operations, values).
    fn order(&mut self, order: Option<&mut OrderByKind>, cols: &Cols) -> R<()> {
        self.scopes.push(vec![(String::new(), cols.clone())]);
        let r = self.order_items(order);
        self.scopes.pop();
        r
    }

    fn order_items(&mut self, order: Option<&mut OrderByKind>) -> R<()> {
        let Some(order) = order else { return Ok(()) };
        let OrderByKind::Expressions(items) = order else {
            return Err(unsupported("order by all"));
        };
        for it in items {
            // Enum values sort by label position; an unknown type may be an enum.
            let key = super::expr::sort_key(self.expr(&it.expr)?, self.env.has_enums())?;
            it.expr = raw(key.sql);
            // Postgres sorts nulls as larger than any value; SQLite as smaller.
            if matches!(it.options.sort, Some(sqlparser::ast::OrderBySort::Using(_))) {
                return Err(unsupported("order by ... using"));
            }
            if it.options.nulls_first.is_none() {
                it.options.nulls_first = Some(matches!(
                    it.options.sort,
                    Some(sqlparser::ast::OrderBySort::Desc)
                ));
            }
        }
        Ok(())
    }

    /// Registers a `from` item's tables in `level`, translating derived tables.
    fn factor(&mut self, f: &mut TableFactor, level: &mut super::Level) -> R<()> {
        match f {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                if args.is_some() {
                    return Err(unsupported(format!("table function {name}")));
                }
                let table = sqlite_table(name);
                let cte = self
                    .scopes
                    .iter()
                    .rev()
                    .flat_map(|l| l.iter())
                    .find(|(n, _)| *n == table)
                    .map(|(_, c)| c.clone());
                let cols = cte.or_else(|| self.env.columns(&table)).unwrap_or_default();
                let shown = table.rsplit('.').next().unwrap_or(&table).to_string();
                *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::with_quote(
                    '"', &table,
                ))]);
                let answer = alias.as_ref().map_or(shown, |a| ident_name(&a.name));
                level.push((answer, cols));
                Ok(())
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                let cols = self.query(subquery)?;
                let Some(a) = alias else {
                    return Err(unsupported("a subquery in from without an alias"));
                };
                let mut cols = cols;
                for (i, c) in a.columns.iter().enumerate() {
                    if let Some(col) = cols.get_mut(i) {
                        col.0 = ident_name(&c.name);
                    }
                }
                level.push((ident_name(&a.name), cols));
                Ok(())
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
                let mut inner = Vec::new();
                self.add_from(table_with_joins, &mut inner)?;
                level.extend(inner);
                Ok(())
            }
            other => Err(unsupported(format!("from item {other}"))),
        }
    }

    pub(super) fn add_from(&mut self, twj: &mut TableWithJoins, level: &mut super::Level) -> R<()> {
        self.factor(&mut twj.relation, level)?;
        for j in &mut twj.joins {
            self.factor(&mut j.relation, level)?;
        }
        Ok(())
    }

    fn select(&mut self, s: &mut Select, order: Option<&mut OrderByKind>) -> R<Cols> {
        if matches!(s.distinct, Some(Distinct::On(_))) {
            return Err(unsupported("distinct on"));
        }
        if s.top.is_some() || s.qualify.is_some() || !s.named_window.is_empty() {
            return Err(unsupported("top/qualify/window clauses"));
        }
        let mut level = Vec::new();
        for twj in &mut s.from {
            self.add_from(twj, &mut level)?;
        }
        self.scopes.push(level);
        let r = self.select_body(s, order);
        self.scopes.pop();
        r
    }

    fn select_body(&mut self, s: &mut Select, order: Option<&mut OrderByKind>) -> R<Cols> {
        for twj in &mut s.from {
            for j in &mut twj.joins {
                let c = match &mut j.join_operator {
                    JoinOperator::Join(c)
                    | JoinOperator::Inner(c)
                    | JoinOperator::Left(c)
                    | JoinOperator::LeftOuter(c)
                    | JoinOperator::Right(c)
                    | JoinOperator::RightOuter(c)
                    | JoinOperator::FullOuter(c)
                    | JoinOperator::CrossJoin(c) => c,
                    _ => return Err(unsupported("this kind of join")),
                };
                if let JoinConstraint::On(e) = c {
                    let x = super::coerce(self.expr(e)?, &Ty::Bool)?;
                    *e = raw(x.sql);
                }
            }
        }
        let mut cols = Vec::new();
        for item in &mut s.projection {
            if self.project_item(item, &mut cols, true)? {
                continue;
            }
            match item {
                SelectItem::QualifiedWildcard(..) => cols.push(("*".into(), Ty::Any)),
                SelectItem::ExprWithAliases { .. } => {
                    return Err(unsupported("multiple aliases"));
                }
                _ => return Err(unsupported("this select item")),
            }
        }
        if let Some(w) = &mut s.selection {
            let x = super::coerce(self.expr(w)?, &Ty::Bool)?;
            *w = raw(x.sql);
        }
        if let GroupByExpr::Expressions(items, mods) = &mut s.group_by {
            if !mods.is_empty() {
                return Err(unsupported("group by modifiers"));
            }
            for e in items {
                *e = raw(self.expr(e)?.sql);
            }
        } else {
            return Err(unsupported("group by all"));
        }
        if let Some(h) = &mut s.having {
            let x = super::coerce(self.expr(h)?, &Ty::Bool)?;
            *h = raw(x.sql);
        }
        // `order by` sees the select's tables and its output names.
        self.scopes.push(vec![(String::new(), cols.clone())]);
        let r = self.order_items(order);
        self.scopes.pop();
        r?;
        Ok(cols)
    }

    /// A subquery inside an expression: its SQL and the type of its first column.
    /// Translates one output column of a `select` or a `returning` list (an expression, an
    /// aliased one, or `*` of the level's tables), adding its name and type to `cols`; `false`
    /// (nothing done) for the other kinds, which the caller decides on. An unnamed expression
    /// gets Postgres's column name as an alias unless it is a bare column reference
    /// (`qualified_is_plain`: `t.col` counts as one too), which SQLite already names so.
    pub(super) fn project_item(
        &mut self,
        item: &mut SelectItem,
        cols: &mut Cols,
        qualified_is_plain: bool,
    ) -> R<bool> {
        match item {
            SelectItem::UnnamedExpr(e) => {
                let plain = matches!(e, Expr::Identifier(_))
                    || (qualified_is_plain && matches!(e, Expr::CompoundIdentifier(_)));
                let name = colname(e).unwrap_or_else(|| "?column?".into());
                let x = self.expr(e)?;
                cols.push((name.clone(), x.ty.clone()));
                if plain {
                    *e = raw(x.sql);
                } else {
                    *item = SelectItem::ExprWithAlias {
                        expr: raw(x.sql),
                        alias: Ident::with_quote('"', name),
                    };
                }
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                let x = self.expr(expr)?;
                cols.push((ident_name(alias), x.ty.clone()));
                *expr = raw(x.sql);
            }
            SelectItem::Wildcard(_) => {
                for level in self.scopes.last().iter() {
                    for (_, c) in level.iter() {
                        cols.extend(c.iter().cloned());
                    }
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(super) fn subquery(&mut self, q: &Query) -> R<(String, Ty)> {
        let mut q = q.clone();
        let cols = self.query(&mut q)?;
        Ok((
            q.to_string(),
            cols.into_iter().next().map(|(_, t)| t).unwrap_or(Ty::Any),
        ))
    }
}
