//! Row level security and table privileges, as Postgres applies them to PostgREST's roles.
//!
//! * **State** (kept in the database, so `--db FILE` keeps it): which tables have RLS enabled
//!   (`_edgesim_rls`), their policies with the Postgres text of `using` / `with check`
//!   (`_edgesim_policies`), and the privileges revoked from `anon`, `authenticated` and
//!   `service_role` (`_edgesim_revoked`). Supabase grants all three roles every privilege on
//!   `public` tables by default, so a table nobody revoked anything on is fully granted.
//! * **Statements** ([`stmt`]): `alter table ... enable/disable/force row level security`,
//!   `create/alter/drop policy`, `grant`/`revoke` on tables.
//! * **Requests**: `service_role` bypasses RLS (but not privileges); `anon` and `authenticated`
//!   see the rows their SELECT policies allow; writes are filtered by the USING expressions and
//!   new rows are checked against the WITH CHECK expressions inside the statement (a temporary
//!   trigger raises 42501 and the transaction rolls back). Policies are written as SQLite SQL
//!   per request ([`emit`]); one that cannot be translated denies.

pub mod emit;
pub mod expr;
pub mod stmt;

use crate::db::Db;
use crate::errors::ApiError;
use crate::gateway::auth::Role;
use crate::schema::Table;
use crate::sql::{ident, literal};
use crate::sqlerr::pg;
use emit::Emitter;
use rusqlite::Connection;
use std::collections::{BTreeMap, BTreeSet};

/// The command a policy applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    /// `for all` (the default).
    All,
    /// `for select`.
    Select,
    /// `for insert`.
    Insert,
    /// `for update`.
    Update,
    /// `for delete`.
    Delete,
}

impl Cmd {
    /// The SQL keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Cmd::All => "all",
            Cmd::Select => "select",
            Cmd::Insert => "insert",
            Cmd::Update => "update",
            Cmd::Delete => "delete",
        }
    }

    fn parse(s: &str) -> Option<Cmd> {
        Some(match s {
            "all" => Cmd::All,
            "select" => Cmd::Select,
            "insert" => Cmd::Insert,
            "update" => Cmd::Update,
            "delete" => Cmd::Delete,
            _ => return None,
        })
    }
}

/// A table privilege.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Privilege {
    /// `select`.
    Select,
    /// `insert`.
    Insert,
    /// `update`.
    Update,
    /// `delete`.
    Delete,
}

/// Every table privilege Postgres knows (those not enforced are still recorded).
pub const PRIVILEGES: &[&str] = &[
    "select",
    "insert",
    "update",
    "delete",
    "truncate",
    "references",
    "trigger",
];

impl Privilege {
    fn as_str(self) -> &'static str {
        match self {
            Privilege::Select => "select",
            Privilege::Insert => "insert",
            Privilege::Update => "update",
            Privilege::Delete => "delete",
        }
    }
}

/// The roles requests run as.
pub const API_ROLES: &[&str] = &["anon", "authenticated", "service_role"];

/// The Postgres name of a role.
pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::Anon => "anon",
        Role::Authenticated => "authenticated",
        Role::ServiceRole => "service_role",
    }
}

/// A policy expression: its Postgres text and its parse (an error makes it deny).
#[derive(Clone, Debug)]
pub struct Parsed {
    /// As written.
    pub text: String,
    /// The syntax tree, or why it could not be parsed.
    pub expr: Result<expr::Expr, String>,
}

impl Parsed {
    /// Parses `text`.
    pub fn new(text: &str) -> Parsed {
        let expr = crate::migrate::lex::tokenize(text).and_then(|t| expr::parse(&t));
        Parsed {
            text: text.to_string(),
            expr,
        }
    }
}

/// A policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Its table.
    pub table: String,
    /// Its name.
    pub name: String,
    /// Permissive (OR-ed) or restrictive (AND-ed).
    pub permissive: bool,
    /// The command.
    pub cmd: Cmd,
    /// The roles (`public` = all).
    pub roles: Vec<String>,
    /// `using (...)`.
    pub using: Option<Parsed>,
    /// `with check (...)`.
    pub check: Option<Parsed>,
}

/// Row level security and privileges of every table.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Tables with RLS enabled: `forced` flag.
    pub enabled: BTreeMap<String, bool>,
    /// Policies in creation order.
    pub policies: Vec<Policy>,
    /// `(table, role, privilege)` revoked from an API role.
    pub revoked: BTreeSet<(String, String, String)>,
}

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS _edgesim_rls (tbl TEXT PRIMARY KEY, enabled INTEGER NOT NULL,
  forced INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS _edgesim_policies (seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tbl TEXT NOT NULL, name TEXT NOT NULL, permissive INTEGER NOT NULL, cmd TEXT NOT NULL,
  roles TEXT NOT NULL, using_expr TEXT, check_expr TEXT, UNIQUE (tbl, name));
CREATE TABLE IF NOT EXISTS _edgesim_revoked (tbl TEXT NOT NULL, role TEXT NOT NULL,
  privilege TEXT NOT NULL, PRIMARY KEY (tbl, role, privilege));
";

impl Model {
    /// Creates the state tables (if needed) and reads them; state of tables that no longer
    /// exist is dropped first (as `drop table` drops a table's policies and grants).
    pub fn load(conn: &Connection) -> rusqlite::Result<Model> {
        // Read on every re-read of the schema (after DDL, and after a rollback that undid
        // some): the typed translator's cached columns follow it.
        crate::catalog::schema_changed();
        conn.execute_batch(TABLES)?;
        conn.execute_batch(
            "DELETE FROM _edgesim_rls WHERE tbl NOT IN (SELECT name FROM sqlite_master WHERE type = 'table');
             DELETE FROM _edgesim_policies WHERE tbl NOT IN (SELECT name FROM sqlite_master WHERE type = 'table');
             DELETE FROM _edgesim_revoked WHERE tbl NOT IN (SELECT name FROM sqlite_master WHERE type = 'table');",
        )?;
        let mut m = Model::default();
        let mut st = conn.prepare("SELECT tbl, forced FROM _edgesim_rls WHERE enabled")?;
        for r in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (t, f) = r?;
            m.enabled.insert(t, f != 0);
        }
        let mut st = conn.prepare(
            "SELECT tbl, name, permissive, cmd, roles, using_expr, check_expr FROM _edgesim_policies ORDER BY seq",
        )?;
        let rows = st.query_map([], |r| {
            Ok(Policy {
                table: r.get(0)?,
                name: r.get(1)?,
                permissive: r.get::<_, i64>(2)? != 0,
                cmd: Cmd::parse(&r.get::<_, String>(3)?).unwrap_or(Cmd::All),
                roles: r
                    .get::<_, String>(4)?
                    .split(',')
                    .map(str::to_string)
                    .collect(),
                using: r.get::<_, Option<String>>(5)?.as_deref().map(Parsed::new),
                check: r.get::<_, Option<String>>(6)?.as_deref().map(Parsed::new),
            })
        })?;
        for p in rows {
            m.policies.push(p?);
        }
        let mut st = conn.prepare("SELECT tbl, role, privilege FROM _edgesim_revoked")?;
        for r in st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
            m.revoked.insert(r?);
        }
        Ok(m)
    }

    /// Whether RLS is enabled on `table`.
    pub fn enabled(&self, table: &str) -> bool {
        self.enabled.contains_key(table)
    }

    /// The policies of `table` that apply to `cmd` for `role`.
    pub fn applicable<'s>(&'s self, table: &str, cmd: Cmd, role: &str) -> Vec<&'s Policy> {
        self.policies
            .iter()
            .filter(|p| p.table == table && (p.cmd == cmd || p.cmd == Cmd::All))
            .filter(|p| p.roles.iter().any(|r| r == "public" || r == role))
            .collect()
    }

    /// Whether `role` holds `privilege` on `table`. As on Supabase, the tables of the `auth`
    /// schema are not granted to `anon` and `authenticated`.
    pub fn granted(&self, table: &str, role: &str, privilege: &str) -> bool {
        if table.starts_with("auth.") && role != "service_role" {
            return false;
        }
        !self
            .revoked
            .contains(&(table.to_string(), role.to_string(), privilege.to_string()))
    }
}

/// 42501 `permission denied for table t`.
pub fn permission_denied(table: &str) -> ApiError {
    // Postgres names the relation without its schema.
    let name = table.rsplit('.').next().unwrap_or(table);
    pg("42501", format!("permission denied for table {name}"))
}

/// Checks that `role` holds every privilege on `table`.
pub fn require_role(
    model: &Model,
    role: Role,
    table: &str,
    privileges: &[Privilege],
) -> Result<(), ApiError> {
    for p in privileges {
        if !model.granted(table, role_name(role), p.as_str()) {
            return Err(permission_denied(table));
        }
    }
    Ok(())
}

/// Checks that the request's caller holds every privilege on `table` (the owner always does).
pub fn require(db: &Db, table: &str, privileges: &[Privilege]) -> Result<(), ApiError> {
    match db.auth.role() {
        None => Ok(()),
        Some(role) => require_role(&db.rls, role, table, privileges),
    }
}

/// What a policy emitter over `db` borrows: its function lookups and its typed environment.
/// [`emit_context`] makes it and [`EmitContext::emitter`] the emitter, the one way every
/// policy translation builds one.
pub(crate) struct EmitContext<'d, H, P> {
    db: &'d Db,
    has_function: H,
    env: crate::pgexpr::DbEnv<'d>,
    project_fns: P,
}

/// The context for `db`: whether a function exists, the project's functions (inlined by the
/// emitter when a policy calls them) and the typed environment.
pub(crate) fn emit_context(
    db: &Db,
) -> EmitContext<'_, impl Fn(&str) -> bool + '_, impl Fn(&str) -> Option<emit::ProjectFn> + '_> {
    EmitContext {
        db,
        has_function: move |name: &str| db.has_function(name),
        env: db.typed_env(None),
        project_fns: move |name: &str| {
            let f = db.routines.functions.get(name)?.clone();
            let strict = f.def.strict;
            Some(emit::ProjectFn { f, strict })
        },
    }
}

impl<'d, H, P> EmitContext<'d, H, P>
where
    H: Fn(&str) -> bool + 'd,
    P: Fn(&str) -> Option<emit::ProjectFn> + 'd,
{
    /// The policy emitter for `role`, with the project's enums, typed columns and functions.
    pub(crate) fn emitter(&self, role: Option<Role>) -> Emitter<'_> {
        Emitter::new(&self.db.schema, &self.db.rls, role, &self.has_function)
            .with_enums(&self.db.catalog.enums)
            .with_env(&self.env)
            .with_functions(&self.project_fns)
    }
}

/// The row filter the caller's `cmd` policies put on `t` (`None` when RLS does not apply: the
/// owner, `service_role`, or RLS disabled), with `qual` naming the row (`"t"`, an alias).
pub fn using(db: &Db, t: &Table, cmd: Cmd, qual: &str) -> Result<Option<String>, ApiError> {
    let cx = emit_context(db);
    cx.emitter(db.auth.role()).using(t, cmd, qual)
}

/// The filter of rows a PATCH (`Cmd::Update`) or DELETE may touch: its USING policies and,
/// as PostgREST's filters read the rows, the SELECT policies too.
pub fn write_filter(db: &Db, t: &Table, cmd: Cmd) -> Result<Option<String>, ApiError> {
    let q = ident(&t.name);
    let a = using(db, t, cmd, &q)?;
    let b = using(db, t, Cmd::Select, &q)?;
    Ok(match (a, b) {
        (Some(a), Some(b)) => Some(format!("({a}) AND ({b})")),
        (a, b) => a.or(b),
    })
}

/// What a write statement is, for the checks on the rows it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// INSERT; `returning` when the new rows are read back (SELECT policies apply to them).
    Insert {
        /// Rows are returned.
        returning: bool,
    },
    /// INSERT ... ON CONFLICT DO UPDATE (merge-duplicates, PUT).
    Upsert,
    /// INSERT ... ON CONFLICT DO NOTHING.
    InsertIgnore {
        /// Rows are returned.
        returning: bool,
    },
    /// UPDATE (PostgREST's filters read the rows, so SELECT policies apply to new rows).
    Update,
}

/// Temporary triggers checking the rows one write statement produces against the caller's
/// WITH CHECK policies; they raise 42501 (the statement and its transaction roll back).
#[derive(Debug, Default)]
pub struct Checks {
    creates: Vec<String>,
    names: Vec<String>,
}

impl Checks {
    /// Creates the triggers (call inside the write's transaction).
    pub fn install(&self, db: &Db) -> rusqlite::Result<()> {
        for c in &self.creates {
            db.execute_batch(c)?;
        }
        Ok(())
    }

    /// Drops the triggers.
    pub fn remove(&self, db: &Db) -> rusqlite::Result<()> {
        for n in &self.names {
            db.execute_batch(&format!("DROP TRIGGER IF EXISTS temp.{}", ident(n)))?;
        }
        Ok(())
    }
}

/// The Postgres message of a failed WITH CHECK option.
fn wco_message(table: &str, policy: Option<&str>, using_expr: bool) -> String {
    let pol = policy.map(|p| format!(" \"{p}\"")).unwrap_or_default();
    let kind = if using_expr {
        " (USING expression)"
    } else {
        ""
    };
    format!("new row violates row-level security policy{pol}{kind} for table \"{table}\"")
}

/// The checks a write of kind `w` on `t` needs for the caller (none when RLS does not apply).
pub fn write_checks(db: &Db, t: &Table, w: Write) -> Result<Checks, ApiError> {
    let cx = emit_context(db);
    let mut e = cx.emitter(db.auth.role());
    // (trigger timing/event, row name, [(cmd, force_using, using-expression message)])
    type Spec = (&'static str, &'static str, Vec<(Cmd, bool, bool)>);
    let mut specs: Vec<Spec> = Vec::new();
    let ins = |ret: bool| {
        let mut v = vec![(Cmd::Insert, false, false)];
        if ret {
            v.push((Cmd::Select, true, false));
        }
        v
    };
    // Postgres checks a row against the WITH CHECK options after the BEFORE ROW triggers and
    // before NOT NULL, CHECK and unique constraints, so a row that breaks both is refused by
    // RLS (42501). SQLite's BEFORE triggers run at that same point (NEW holds the defaults and
    // the values the mock's BEFORE triggers set), except that an INSERT's rowid-alias key is
    // still -1 there: a check reading a key column runs AFTER INSERT instead (see below).
    match w {
        Write::Insert { returning } | Write::InsertIgnore { returning } => {
            specs.push(("BEFORE INSERT", "NEW", ins(returning)));
        }
        Write::Upsert => {
            specs.push(("AFTER INSERT", "NEW", ins(true)));
            specs.push((
                "BEFORE UPDATE",
                "OLD",
                vec![(Cmd::Update, true, true), (Cmd::Select, true, true)],
            ));
            specs.push((
                "AFTER UPDATE",
                "NEW",
                vec![(Cmd::Update, false, false), (Cmd::Select, true, false)],
            ));
        }
        Write::Update => specs.push((
            "BEFORE UPDATE",
            "NEW",
            vec![(Cmd::Update, false, false), (Cmd::Select, true, false)],
        )),
    }
    let mut out = Checks::default();
    for (n, (when, row, parts)) in specs.into_iter().enumerate() {
        let mut body = Vec::new();
        for (cmd, force_using, using_msg) in parts {
            let Some(wcos) = e.checks(t, cmd, row, force_using)? else {
                continue;
            };
            for (policy, cond) in wcos {
                let msg = format!(
                    "{}42501|{}",
                    crate::functions::PGERR,
                    wco_message(&t.name, policy.as_deref(), using_msg)
                );
                body.push(format!(
                    "SELECT RAISE(ABORT, {}) WHERE NOT coalesce(({cond}), 0);",
                    literal(&msg)
                ));
            }
        }
        if body.is_empty() {
            continue;
        }
        let reads_key = t.pk().iter().any(|c| {
            body.iter().any(|b| {
                b.contains(&format!("\"{}\"", c.name)) || b.contains(&format!(".{}", c.name))
            })
        });
        let when = if when == "BEFORE INSERT" && reads_key {
            "AFTER INSERT"
        } else {
            when
        };
        let name = format!("_edgesim_rls_check_{n}");
        out.creates.push(format!(
            "CREATE TEMP TRIGGER {} {when} ON {} BEGIN {} END",
            ident(&name),
            ident(&t.name),
            body.join(" ")
        ));
        out.names.push(name);
    }
    Ok(out)
}

/// Sets the HTTP status PostgREST gives 42501: 401 for the anonymous role, else 403.
pub fn insufficient_privilege_status(db: &Db, e: &mut ApiError) {
    if e.code == "42501" {
        let anon = matches!(db.auth.role(), Some(Role::Anon));
        e.status = if anon {
            http::StatusCode::UNAUTHORIZED
        } else {
            http::StatusCode::FORBIDDEN
        };
    }
}
