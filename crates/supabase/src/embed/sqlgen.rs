//! SQL for a read plan: one SELECT whose embedded resources are correlated subqueries built
//! with SQLite's JSON functions (`json_object` for a row, `json_group_array` for many rows).
//!
//! Every table reference goes through the request's [`Scope`]; filter values are inlined as SQL
//! literals (so the fragments compose in any order without positional parameters).

use super::plan::{Child, Node};
use crate::errors::ApiError;
use crate::query::ast::{Filter, IsVal, Op, OrderTerm};
use crate::query::not_embedded;
use crate::relations::Card;
use crate::scope::Scope;
use crate::sql::{
    OutCol, cond_sql, field_enum, field_expr_in, ident, inline, literal, order_key_in,
    select_columns,
};
use crate::types::Kind;

/// Builds SQL for plan nodes under one request's scope.
pub struct Gen<'a> {
    /// How each table is read.
    pub scope: &'a dyn Scope,
    /// The most rows an embedded to-many resource returns (`[api] max_rows`).
    pub max_rows: u64,
}

/// `"alias"."col"`.
fn qcol(alias: &str, col: &str) -> String {
    format!("{}.{}", ident(alias), ident(col))
}

/// A value of kind `kind` as an argument of `json_object`/`json_group_array`, printed as
/// PostgREST prints it (booleans, JSON, numbers and timestamps in Postgres form).
pub fn jsonify(sql: &str, kind: &Kind) -> String {
    match kind {
        Kind::Int(_) | Kind::Text(_) => sql.to_string(),
        Kind::Json(_) => format!("json({sql})"),
        other => format!("json(pg_jv({sql}, {}))", literal(other.pg_name())),
    }
}

impl Gen<'_> {
    /// The output columns of `n`: its own fields, then its embedded resources (PostgREST's order).
    pub fn out_cols(&self, n: &Node<'_>) -> Result<Vec<OutCol>, ApiError> {
        let mut cols = select_columns(n.table, Some(&n.alias), &n.fields)?;
        for c in &n.children {
            if c.is_empty() {
                continue;
            }
            if c.spread {
                cols.extend(self.spread_cols(n, c)?);
            } else {
                cols.push((c.key.clone(), self.embed_value(n, c)?, Kind::Json("json")));
            }
        }
        Ok(cols)
    }

    /// The FROM item of the root table.
    pub fn root_from(&self, n: &Node<'_>) -> Result<String, ApiError> {
        self.scope.table_ref(n.table, &n.alias)
    }

    /// The WHERE conditions on `n`'s own rows: its filters, `!inner` embeddings and
    /// `rel=[not.]is.null` filters (`None` when there are none).
    pub fn where_sql(&self, n: &Node<'_>) -> Result<Option<String>, ApiError> {
        let mut conds = Vec::new();
        for f in &n.filters {
            conds.push(self.filter_sql(n, f)?);
        }
        for c in n.children.iter().filter(|c| c.inner) {
            conds.push(self.exists(n, c)?);
        }
        Ok((!conds.is_empty()).then(|| conds.join(" AND ")))
    }

    /// `ORDER BY` terms of `n` (`None` when unordered).
    pub fn order_sql(&self, n: &Node<'_>) -> Result<Option<String>, ApiError> {
        if n.order.is_empty() {
            return Ok(None);
        }
        let mut parts = Vec::new();
        for o in &n.order {
            let lhs = self.order_expr(n, o)?;
            let nulls_first = o.nulls_first.unwrap_or(o.desc);
            parts.push(format!(
                "{lhs} {} NULLS {}",
                if o.desc { "DESC" } else { "ASC" },
                if nulls_first { "FIRST" } else { "LAST" }
            ));
        }
        Ok(Some(parts.join(", ")))
    }

    fn order_expr(&self, n: &Node<'_>, o: &OrderTerm) -> Result<String, ApiError> {
        let Some(rel) = &o.relation else {
            return order_key_in(n.table, Some(&n.alias), &o.field);
        };
        let c = n
            .children
            .iter()
            .find(|c| &c.key == rel)
            .ok_or_else(|| not_embedded(rel))?;
        if !c.rel.is_to_one() {
            return Err(ApiError::new(
                400,
                "PGRST118",
                format!("A related order on '{rel}' is not possible"),
            )
            .details(format!(
                "'{}' and '{rel}' do not form a many-to-one or one-to-one relationship",
                n.table.name
            )));
        }
        let expr = order_key_in(c.node.table, Some(&c.node.alias), &o.field)?;
        Ok(format!("({})", self.rows(n, c, &expr, false)?))
    }

    fn filter_sql(&self, n: &Node<'_>, f: &Filter) -> Result<String, ApiError> {
        let (sql, negate) = match f {
            Filter::Logic {
                negate,
                and,
                children,
            } => {
                let parts = children
                    .iter()
                    .map(|c| self.filter_sql(n, c))
                    .collect::<Result<Vec<_>, _>>()?;
                (
                    format!("({})", parts.join(if *and { " AND " } else { " OR " })),
                    *negate,
                )
            }
            Filter::Cond { field, negate, op } => {
                let embedded = field
                    .path
                    .is_empty()
                    .then(|| n.children.iter().find(|c| c.key == field.name))
                    .flatten();
                match (embedded, op) {
                    (Some(c), Op::Is(is @ (IsVal::Null | IsVal::NotNull))) => {
                        let e = self.exists(n, c)?;
                        let s = if *is == IsVal::Null {
                            format!("(NOT {e})")
                        } else {
                            format!("({e})")
                        };
                        (s, *negate)
                    }
                    _ => {
                        let (lhs, kind) = field_expr_in(n.table, Some(&n.alias), field)?;
                        let mut params = Vec::new();
                        let e = field_enum(n.table, field);
                        let s = cond_sql(&lhs, &kind, e, op, &mut params)?;
                        (format!("({})", inline(&s, &params)), *negate)
                    }
                }
            }
        };
        Ok(if negate { format!("NOT {sql}") } else { sql })
    }

    /// `FROM` items and join conditions of child `c` under parent `p`.
    fn joined_tables(
        &self,
        p: &Node<'_>,
        c: &Child<'_>,
    ) -> Result<(String, Vec<String>), ApiError> {
        let cn = &c.node;
        let mut from = self.scope.table_ref(cn.table, &cn.alias)?;
        let mut conds = Vec::new();
        match &c.rel.card {
            Card::M2M(j) => {
                let jt = c.junction.ok_or_else(|| {
                    ApiError::new(500, "XX000", format!("junction table {} missing", j.table))
                })?;
                let jalias = format!("{}_{}_junction", j.table, cn.depth);
                from.push_str(", ");
                from.push_str(&self.scope.table_ref(jt, &jalias)?);
                for (tcol, jcol) in &j.cols_target {
                    conds.push(format!(
                        "{} = {}",
                        qcol(&jalias, jcol),
                        qcol(&cn.alias, tcol)
                    ));
                }
                for (scol, jcol) in &j.cols_source {
                    conds.push(format!(
                        "{} = {}",
                        qcol(&jalias, jcol),
                        qcol(&p.alias, scol)
                    ));
                }
            }
            _ => {
                for (pcol, ccol) in &c.rel.cols {
                    conds.push(format!(
                        "{} = {}",
                        qcol(&cn.alias, ccol),
                        qcol(&p.alias, pcol)
                    ));
                }
            }
        }
        Ok((from, conds))
    }

    /// `SELECT <select> FROM <child> WHERE <join and child conditions> [ORDER/LIMIT]`; `ranged`
    /// adds the child's order and range (to-many), otherwise `LIMIT 1`.
    fn rows(
        &self,
        p: &Node<'_>,
        c: &Child<'_>,
        select: &str,
        ranged: bool,
    ) -> Result<String, ApiError> {
        let (from, mut conds) = self.joined_tables(p, c)?;
        if let Some(w) = self.where_sql(&c.node)? {
            conds.push(w);
        }
        let mut s = format!("SELECT {select} FROM {from}");
        if !conds.is_empty() {
            s.push_str(&format!(" WHERE {}", conds.join(" AND ")));
        }
        if ranged {
            if let Some(o) = self.order_sql(&c.node)? {
                s.push_str(&format!(" ORDER BY {o}"));
            }
            let limit = c.node.limit.unwrap_or(self.max_rows).min(self.max_rows);
            s.push_str(&format!(" LIMIT {limit}"));
            if let Some(off) = c.node.offset {
                s.push_str(&format!(" OFFSET {}", off.min(i64::MAX as u64)));
            }
        } else {
            s.push_str(" LIMIT 1");
        }
        Ok(s)
    }

    /// Whether `c` has a matching row for the parent row (for `!inner` and `rel=not.is.null`).
    fn exists(&self, p: &Node<'_>, c: &Child<'_>) -> Result<String, ApiError> {
        let to_many = !c.rel.is_to_one();
        Ok(format!("EXISTS ({})", self.rows(p, c, "1", to_many)?))
    }

    /// The JSON value of embedding `c`: an object or null (to-one), an array (to-many).
    fn embed_value(&self, p: &Node<'_>, c: &Child<'_>) -> Result<String, ApiError> {
        let obj = self.object(&c.node)?;
        if c.rel.is_to_one() {
            Ok(format!("({})", self.rows(p, c, &obj, false)?))
        } else {
            let inner = self.rows(p, c, &format!("{obj} AS j"), true)?;
            Ok(format!("(SELECT json_group_array(json(j)) FROM ({inner}))"))
        }
    }

    /// `json_object(...)` of a node's output columns.
    fn object(&self, n: &Node<'_>) -> Result<String, ApiError> {
        let args: Vec<String> = self
            .out_cols(n)?
            .iter()
            .map(|(name, sql, kind)| format!("{}, {}", literal(name), jsonify(sql, kind)))
            .collect();
        Ok(format!("json_object({})", args.join(", ")))
    }

    /// The columns a spread (`...rel(cols)`) adds to its parent: values (to-one) or arrays of
    /// values (to-many).
    fn spread_cols(&self, p: &Node<'_>, c: &Child<'_>) -> Result<Vec<OutCol>, ApiError> {
        let mut out = Vec::new();
        for (name, sql, kind) in self.out_cols(&c.node)? {
            if c.rel.is_to_one() {
                out.push((name, format!("({})", self.rows(p, c, &sql, false)?), kind));
            } else {
                let inner = self.rows(p, c, &format!("{sql} AS v"), true)?;
                out.push((
                    name,
                    format!(
                        "(SELECT json_group_array({}) FROM ({inner}))",
                        jsonify("v", &kind)
                    ),
                    Kind::Json("json"),
                ));
            }
        }
        Ok(out)
    }
}
