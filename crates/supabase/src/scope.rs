//! What one request may see of each table: every table a read names in SQL (the root table,
//! each embedded table, each junction table) goes through [`Scope::table_ref`], so row level
//! security applies per table (an embedded resource shows only the rows its own policies let the
//! role see, as in Postgres).

use crate::db::Db;
use crate::errors::ApiError;
use crate::rls::{self, Cmd, Privilege};
use crate::schema::Table;
use crate::sql::ident;

/// The FROM item for a table reference of a request.
pub trait Scope {
    /// SQL for `table` in a FROM clause, under the SQL alias `alias` (already a plain name; the
    /// result must expose the table's columns as `alias.col`), e.g. `"posts" AS "posts_1"`.
    fn table_ref(&self, table: &Table, alias: &str) -> Result<String, ApiError>;
}

/// Every row of every table (the service role, or a project without row level security).
pub struct Unrestricted;

impl Scope for Unrestricted {
    fn table_ref(&self, table: &Table, alias: &str) -> Result<String, ApiError> {
        Ok(format!("{} AS {}", ident(&table.name), ident(alias)))
    }
}

/// The request's caller under row level security and table grants: each table reference needs
/// the SELECT privilege (else 42501) and shows only the rows its SELECT policies let the caller
/// see (`(SELECT * FROM t AS a WHERE <policies>) AS a`).
pub struct Rls<'a>(pub &'a Db);

impl Scope for Rls<'_> {
    fn table_ref(&self, table: &Table, alias: &str) -> Result<String, ApiError> {
        rls::require(self.0, &table.name, &[Privilege::Select])?;
        let (t, a) = (ident(&table.name), ident(alias));
        Ok(match rls::using(self.0, table, Cmd::Select, &a)? {
            None => format!("{t} AS {a}"),
            Some(cond) => format!("(SELECT * FROM {t} AS {a} WHERE {cond}) AS {a}"),
        })
    }
}
