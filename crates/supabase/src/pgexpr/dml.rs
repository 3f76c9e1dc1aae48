//! Typed translation of `insert`, `update` and `delete` (in SQL and PL/pgSQL function bodies):
//! every expression goes through the expression translator with the target table in scope,
//! and a value written to a column is converted to the column's type as Postgres's assignment
//! cast does (`n int` given `7.9` stores 8, a `boolean` given `'yes'` stores true, a `date`
//! given `'2024-01-31'::date + 1` stores `2024-02-01`). `returning` is translated like a
//! projection. Forms the translator does not handle (`insert ... overriding`, `delete ...
//! using`, tuple assignments, `update ... order by`) are [`super::PgExprError::Parse`], so the
//! caller keeps its token rewrite for them, as before.

use super::expr::ident_name;
use super::query::{Cols, raw, sqlite_table};
use super::ty::Ty;
use super::{PgExprError, R, Tr, Typed};
use sqlparser::ast::{
    AssignmentTarget, Delete, FromTable, Ident, Insert, ObjectName, ObjectNamePart,
    OnConflictAction, OnInsert, SelectItem, SetExpr, Statement, TableFactor, TableObject, Update,
    UpdateTableFromKind,
};

fn not_handled(what: &str) -> PgExprError {
    PgExprError::Parse(format!("{what} is left to the token rewrite"))
}

/// The value `x` written to a column of type `to`, converted as Postgres's assignment cast.
fn assign(x: Typed, to: &Ty) -> R<String> {
    if !to.known() || x.ty == *to {
        return Ok(x.sql);
    }
    if x.ty == Ty::Unknown {
        return Ok(super::coerce(x, to)?.sql);
    }
    let converts = match to {
        Ty::Int(_) => x.ty.is_inexact(),
        Ty::Text => !matches!(x.ty, Ty::Any | Ty::Array(_) | Ty::Interval(_)),
        Ty::Date => matches!(x.ty, Ty::Timestamp | Ty::Timestamptz),
        Ty::Timestamp | Ty::Timestamptz => x.ty.is_datetime(),
        _ => false,
    };
    if converts {
        Ok(super::cast(x, to)?.sql)
    } else {
        Ok(x.sql)
    }
}

impl Tr<'_> {
    /// Translates an `insert`, `update` or `delete` in place; returns its `returning` columns.
    pub(super) fn statement(&mut self, st: &mut Statement) -> R<Cols> {
        match st {
            Statement::Insert(i) => self.insert(i),
            Statement::Update(u) => self.update(u),
            Statement::Delete(d) => self.delete(d),
            _ => Err(not_handled("this statement")),
        }
    }

    /// The target table: its SQLite name written back quoted, the name it answers to, its
    /// columns.
    fn target(&self, name: &mut ObjectName) -> (String, Cols) {
        let table = sqlite_table(name);
        let cols = self.env.columns(&table).unwrap_or_default();
        let shown = table.rsplit('.').next().unwrap_or(&table).to_string();
        *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::with_quote(
            '"', &table,
        ))]);
        (shown, cols)
    }

    fn returning(&mut self, items: &mut Option<Vec<SelectItem>>) -> R<Cols> {
        let mut cols = Vec::new();
        let Some(items) = items else {
            return Ok(cols);
        };
        for item in items.iter_mut() {
            if !self.project_item(item, &mut cols, false)? {
                return Err(not_handled("this returning item"));
            }
        }
        Ok(cols)
    }

    fn insert(&mut self, i: &mut Insert) -> R<Cols> {
        if i.or.is_some()
            || i.ignore
            || i.overriding.is_some()
            || i.partitioned.is_some()
            || !i.after_columns.is_empty()
            || !i.assignments.is_empty()
            || i.output.is_some()
            || i.replace_into
        {
            return Err(not_handled("this insert form"));
        }
        let TableObject::TableName(name) = &mut i.table else {
            return Err(not_handled("insert into a table function"));
        };
        let (shown, cols) = self.target(name);
        let answer = i
            .table_alias
            .as_ref()
            .map_or(shown, |a| ident_name(&a.alias));
        let targets: Vec<String> = if i.columns.is_empty() {
            cols.iter().map(|(n, _)| n.clone()).collect()
        } else {
            i.columns
                .iter()
                .map(|c| {
                    c.0.last()
                        .and_then(|p| p.as_ident())
                        .map(ident_name)
                        .unwrap_or_default()
                })
                .collect()
        };
        let ty_of = |name: &str| {
            cols.iter()
                .find(|(c, _)| c == name)
                .map_or(Ty::Any, |(_, t)| t.clone())
        };
        if let Some(src) = &mut i.source {
            match &mut *src.body {
                SetExpr::Values(v) if src.with.is_none() && src.order_by.is_none() => {
                    let mut width = 0;
                    for row in &mut v.rows {
                        width = width.max(row.len());
                        for (k, e) in row.iter_mut().enumerate() {
                            if matches!(e, sqlparser::ast::Expr::Identifier(id) if id.value.eq_ignore_ascii_case("default") && id.quote_style.is_none())
                            {
                                continue;
                            }
                            let x = self.expr(e)?;
                            let to = targets.get(k).map_or(Ty::Any, |t| ty_of(t));
                            *e = raw(assign(x, &to)?);
                        }
                    }
                    // Fewer values than columns, no list: Postgres fills the first columns.
                    if i.columns.is_empty() && width < cols.len() && !cols.is_empty() {
                        i.columns = targets
                            .iter()
                            .take(width)
                            .map(|c| {
                                ObjectName(vec![ObjectNamePart::Identifier(Ident::with_quote(
                                    '"', c,
                                ))])
                            })
                            .collect();
                    }
                }
                _ => {
                    self.query(src)?;
                }
            }
        }
        let level = vec![
            (answer.clone(), cols.clone()),
            ("excluded".to_string(), cols.clone()),
        ];
        self.scopes.push(level);
        let r = (|| {
            if let Some(OnInsert::OnConflict(oc)) = &mut i.on {
                if let OnConflictAction::DoUpdate(du) = &mut oc.action {
                    for a in &mut du.assignments {
                        let AssignmentTarget::ColumnName(c) = &a.target else {
                            return Err(not_handled("tuple assignments"));
                        };
                        let name =
                            c.0.last()
                                .and_then(|p| p.as_ident())
                                .map(ident_name)
                                .unwrap_or_default();
                        let x = self.expr(&a.value)?;
                        a.value = raw(assign(x, &ty_of(&name))?);
                    }
                    if let Some(w) = &mut du.selection {
                        let x = super::coerce(self.expr(w)?, &Ty::Bool)?;
                        *w = raw(x.sql);
                    }
                }
            } else if i.on.is_some() {
                return Err(not_handled("on duplicate key"));
            }
            Ok(())
        })();
        self.scopes.pop();
        r?;
        self.scopes.push(vec![(answer, cols)]);
        let r = self.returning(&mut i.returning);
        self.scopes.pop();
        r
    }

    fn update(&mut self, u: &mut Update) -> R<Cols> {
        if !u.table.joins.is_empty()
            || u.output.is_some()
            || u.or.is_some()
            || !u.order_by.is_empty()
            || u.limit.is_some()
            || u.settings.is_some()
            || u.on_cluster.is_some()
        {
            return Err(not_handled("this update form"));
        }
        let TableFactor::Table { name, alias, .. } = &mut u.table.relation else {
            return Err(not_handled("update of a non-table"));
        };
        let (shown, cols) = self.target(name);
        let answer = alias.as_ref().map_or(shown, |a| ident_name(&a.name));
        let mut level = vec![(answer, cols.clone())];
        if let Some(from) = &mut u.from {
            let (UpdateTableFromKind::BeforeSet(items) | UpdateTableFromKind::AfterSet(items)) =
                from;
            for twj in items {
                self.add_from(twj, &mut level)?;
            }
        }
        self.scopes.push(level);
        let r = (|| {
            for a in &mut u.assignments {
                let AssignmentTarget::ColumnName(c) = &a.target else {
                    return Err(not_handled("tuple assignments"));
                };
                let name =
                    c.0.last()
                        .and_then(|p| p.as_ident())
                        .map(ident_name)
                        .unwrap_or_default();
                let to = cols
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or(Ty::Any, |(_, t)| t.clone());
                let x = self.expr(&a.value)?;
                a.value = raw(assign(x, &to)?);
            }
            if let Some(w) = &mut u.selection {
                let x = super::coerce(self.expr(w)?, &Ty::Bool)?;
                *w = raw(x.sql);
            }
            self.returning(&mut u.returning)
        })();
        self.scopes.pop();
        r
    }

    fn delete(&mut self, d: &mut Delete) -> R<Cols> {
        if !d.tables.is_empty()
            || d.using.is_some()
            || d.output.is_some()
            || !d.order_by.is_empty()
            || d.limit.is_some()
            || d.settings.is_some()
            || d.on_cluster.is_some()
        {
            return Err(not_handled("this delete form"));
        }
        let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &mut d.from;
        let [twj] = from.as_mut_slice() else {
            return Err(not_handled("delete from several tables"));
        };
        if !twj.joins.is_empty() {
            return Err(not_handled("delete with joins"));
        }
        let TableFactor::Table { name, alias, .. } = &mut twj.relation else {
            return Err(not_handled("delete from a non-table"));
        };
        let (shown, cols) = self.target(name);
        let answer = alias.as_ref().map_or(shown, |a| ident_name(&a.name));
        self.scopes.push(vec![(answer, cols)]);
        let r = (|| {
            if let Some(w) = &mut d.selection {
                let x = super::coerce(self.expr(w)?, &Ty::Bool)?;
                *w = raw(x.sql);
            }
            self.returning(&mut d.returning)
        })();
        self.scopes.pop();
        r
    }
}
