//! Running a table's triggers for the write path: row-level BEFORE (which may change or skip
//! the row) and AFTER triggers, and statement-level ones.

use crate::db::Db;
use crate::errors::ApiError;
use crate::routines::def::{Timing, TriggerDef};
use crate::routines::exec::{Row, fire, when_holds};
use crate::sqlerr::pg;
use std::sync::Arc;

/// The triggers of one table, and how to run them.
pub(super) struct Fired<'a> {
    /// The database.
    pub(super) db: &'a Db,
    /// The table's triggers, in name order.
    pub(super) triggers: Vec<Arc<TriggerDef>>,
    /// Nesting depth of the statement.
    pub(super) depth: usize,
}

impl Fired<'_> {
    pub(super) fn matching(
        &self,
        timing: Timing,
        op: &str,
        set_cols: &[String],
    ) -> Vec<Arc<TriggerDef>> {
        self.triggers
            .iter()
            .filter(|t| t.for_each_row)
            .filter(|t| t.timing == timing && t.events.iter().any(|e| e == op))
            .filter(|t| {
                op != "UPDATE"
                    || t.update_of.is_empty()
                    || t.update_of.iter().any(|c| set_cols.contains(c))
            })
            .cloned()
            .collect()
    }

    /// Runs the BEFORE triggers; `None` when one of them skipped the row.
    pub(super) fn before(
        &self,
        op: &str,
        set_cols: &[String],
        old: Option<&Row>,
        new: Option<Row>,
    ) -> Result<Option<Option<Row>>, ApiError> {
        let mut new = new;
        for t in self.matching(Timing::Before, op, set_cols) {
            if let Some(w) = &t.when
                && !when_holds(self.db, &t.table, w, old, new.as_ref())?
            {
                continue;
            }
            let f = self.function(&t)?;
            let r = fire(self.db, &t, &f, op, old, new.as_ref(), self.depth)?;
            match r {
                None => return Ok(None),
                Some(r) => {
                    if let Some(n) = new.as_mut() {
                        for (c, v) in r.cols.iter().zip(r.vals) {
                            n.set(c, v);
                        }
                    }
                }
            }
        }
        Ok(Some(new))
    }

    #[allow(clippy::type_complexity)]
    pub(super) fn after(
        &self,
        events: &[(String, Vec<String>, Option<Row>, Option<Row>)],
    ) -> Result<(), ApiError> {
        for (op, set_cols, old, new) in events {
            for t in self.matching(Timing::After, op, set_cols) {
                if let Some(w) = &t.when
                    && !when_holds(self.db, &t.table, w, old.as_ref(), new.as_ref())?
                {
                    continue;
                }
                let f = self.function(&t)?;
                fire(self.db, &t, &f, op, old.as_ref(), new.as_ref(), self.depth)?;
            }
        }
        Ok(())
    }

    /// Runs the `for each statement` triggers of `timing` for each of `ops` (an upsert is both
    /// an INSERT and an UPDATE statement), in name order, with `NEW` and `OLD` null.
    pub(super) fn statement(
        &self,
        timing: Timing,
        ops: &[&str],
        set_cols: &[String],
    ) -> Result<(), ApiError> {
        for op in ops {
            for t in self.triggers.iter().filter(|t| {
                !t.for_each_row
                    && t.timing == timing
                    && t.events.iter().any(|e| e == op)
                    && (*op != "UPDATE"
                        || t.update_of.is_empty()
                        || t.update_of.iter().any(|c| set_cols.contains(c)))
            }) {
                if let Some(w) = &t.when
                    && !when_holds(self.db, &t.table, w, None, None)?
                {
                    continue;
                }
                let f = self.function(t)?;
                fire(self.db, t, &f, op, None, None, self.depth)?;
            }
        }
        Ok(())
    }

    pub(super) fn function(
        &self,
        t: &TriggerDef,
    ) -> Result<Arc<crate::routines::Function>, ApiError> {
        self.db
            .routines
            .functions
            .get(&t.function)
            .cloned()
            .ok_or_else(|| pg("42883", format!("function {}() does not exist", t.function)))
    }
}
