//! The SQLite connection: functions, change capture, transactions and row queries.

use crate::catalog::Catalog;
use crate::claims::{AuthState, RequestAuth};
use crate::errors::{ApiError, ProjectError};
use crate::gateway::auth::Principal;
use crate::rest::response::row_text;
use crate::routines::Routines;
use crate::schema::{Schema, Table};
use crate::sql::Projection;
use crate::sqlerr::{self, ErrCtx};
use crate::webhooks::capture::{self, RowChange};
use edgesim_core::{SharedClock, SimRng};
use rusqlite::Connection;
use rusqlite::types::Value;
use serde_json::{Map, Value as Json};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The database and its schema cache.
pub struct Db {
    /// The connection (only ever used under the `Supabase` mutex). Private: callers go through
    /// the operations below, so transactions, savepoints and change capture stay consistent.
    conn: Connection,
    /// Exposed tables.
    pub schema: Schema,
    /// Objects the mock emulates (types, policies, functions...), and the skipped ones.
    pub catalog: Catalog,
    /// Who the SQL runs as (the request's role and JWT claims; the owner outside requests).
    pub auth: AuthState,
    /// Row level security and table privileges.
    pub rls: crate::rls::Model,
    /// User functions and triggers.
    pub routines: Routines,
    /// Set when a statement changed the routines (reloaded from the database on rollback).
    pub routines_dirty: bool,
    /// PostgREST's cap on the rows of one response (`[api] max_rows`), embedded resources
    /// included.
    pub max_rows: u64,
    pending: Arc<Mutex<Vec<RowChange>>>,
    /// DDL ran inside the open transaction: a rollback must re-read the schema, or the cache
    /// would keep tables and columns SQLite just rolled back.
    ddl_in_tx: bool,
    /// Typed translations of function-body queries ([`Db::typed_query`]), cleared with the
    /// schema cache.
    typed: std::cell::RefCell<std::collections::HashMap<String, TypedResult>>,
    /// How many [`Db::with_savepoint`] scopes are open (names the next savepoint).
    savepoints: std::cell::Cell<usize>,
}

type TypedResult = Result<String, crate::pgexpr::PgExprError>;

/// An open savepoint of [`Db::with_savepoint`]: its name and how many row changes had been
/// captured when it opened.
struct Savepoint {
    name: String,
    pending: usize,
}

/// Rows of a query: rendered texts, and JSON maps when asked for.
pub struct Rows {
    /// Each row as `row_to_json` text.
    pub texts: Vec<String>,
    /// Each row as a JSON object (only when requested).
    pub maps: Vec<Map<String, Json>>,
}

impl Db {
    /// Opens `file` (or an in-memory database) with the mock's functions and change capture.
    /// `rng` feeds `gen_random_uuid()`, `random()` and `randomblob()`.
    pub fn open(file: Option<&Path>, clock: SharedClock, rng: SimRng) -> Result<Db, ProjectError> {
        let err = |e: rusqlite::Error| ProjectError::Db(e.to_string());
        let conn = match file {
            Some(f) => Connection::open(f).map_err(err)?,
            None => Connection::open_in_memory().map_err(err)?,
        };
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA recursive_triggers = ON;")
            .map_err(err)?;
        if file.is_some() {
            // Write-ahead log, synced at checkpoints only: start-up (migrations, seed) and each
            // write commit without an fsync (a crash may lose the last commits, never corrupt).
            conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA journal_mode = WAL;")
                .map_err(err)?;
        }
        crate::functions::register(&conn, clock, rng).map_err(err)?;
        let auth = AuthState::default();
        crate::claims::register(&conn, &auth).map_err(err)?;
        let pending = Arc::new(Mutex::new(Vec::new()));
        capture::install(&conn, pending.clone()).map_err(err)?;
        let catalog = Catalog::default();
        let schema = Schema::load(&conn, &catalog.enums).map_err(err)?;
        capture::create_triggers(&conn, &schema).map_err(err)?;
        let rls = crate::rls::Model::load(&conn).map_err(err)?;
        catalog.enums.register(&conn).map_err(err)?;
        let routines = Routines::load(&conn).map_err(err)?;
        Ok(Db {
            conn,
            schema,
            catalog,
            auth,
            rls,
            routines,
            routines_dirty: false,
            max_rows: crate::migrate::cliconfig::DEFAULT_MAX_ROWS,
            pending,
            ddl_in_tx: false,
            typed: Default::default(),
            savepoints: Default::default(),
        })
    }

    /// Runs `f` as `caller` (`None`: the database owner): `auth.uid()` and friends, row level
    /// security and grants answer for that caller until `f` returns.
    pub fn as_caller<T>(&mut self, caller: Option<Principal>, f: impl FnOnce(&mut Db) -> T) -> T {
        let prev = self.auth.set(RequestAuth {
            role: caller.as_ref().map(|p| p.role),
            claims: caller.map(|p| p.claims),
        });
        let out = f(self);
        self.auth.set(prev);
        out
    }

    /// The typed translator's view of this database, with `vars` (PL/pgSQL variables) in
    /// scope.
    pub fn typed_env<'a>(
        &'a self,
        vars: Option<crate::pgexpr::VarTypes<'a>>,
    ) -> crate::pgexpr::DbEnv<'a> {
        crate::pgexpr::DbEnv {
            conn: &self.conn,
            catalog: Some(&self.catalog),
            vars,
        }
    }

    /// [`crate::pgexpr::translate_query`] of `text`, cached under `key` (the text and whatever
    /// else changes the translation, such as the variables' types).
    pub fn typed_query(
        &self,
        key: &str,
        text: &str,
        vars: &dyn Fn(&str) -> Option<crate::pgexpr::Ty>,
    ) -> TypedResult {
        if let Some(r) = self.typed.borrow().get(key) {
            return r.clone();
        }
        let r = crate::pgexpr::translate_query(text, &self.typed_env(Some(vars))).map(|(s, _)| s);
        let mut cache = self.typed.borrow_mut();
        if cache.len() > 4096 {
            cache.clear();
        }
        cache.insert(key.to_string(), r.clone());
        r
    }

    /// Re-reads the schema after DDL.
    pub fn refresh_schema(&mut self) -> rusqlite::Result<()> {
        self.typed.borrow_mut().clear();
        self.schema = Schema::load(&self.conn, &self.catalog.enums)?;
        capture::create_triggers(&self.conn, &self.schema)?;
        self.reload_rls()
    }

    /// Re-reads row level security and privileges (after DDL or an RLS statement).
    pub fn reload_rls(&mut self) -> rusqlite::Result<()> {
        self.rls = crate::rls::Model::load(&self.conn)?;
        Ok(())
    }

    /// Runs one DDL statement: capture triggers are dropped first and rebuilt after.
    pub fn execute_ddl(&mut self, sql: &str) -> rusqlite::Result<()> {
        if !self.conn.is_autocommit() {
            self.ddl_in_tx = true;
        }
        capture::drop_triggers(&self.conn)?;
        let r = self.conn.execute_batch(sql);
        let refreshed = self.refresh_schema();
        r.and(refreshed)
    }

    /// Runs `f` in a transaction. On `Ok` it commits and returns the committed row changes;
    /// on `Err` (or `rollback`) everything is rolled back and no change is reported.
    pub fn transaction<T, E>(
        &mut self,
        rollback: bool,
        f: impl FnOnce(&mut Db) -> Result<T, E>,
        on_sql_err: impl Fn(rusqlite::Error) -> E,
    ) -> Result<(T, Vec<RowChange>), E> {
        self.take_pending();
        self.routines_dirty = false;
        self.conn.execute_batch("BEGIN").map_err(&on_sql_err)?;
        self.ddl_in_tx = false;
        let r = self.run_transaction(rollback, f, &on_sql_err);
        let committed = r.as_ref().is_ok_and(|(_, committed)| *committed);
        if !committed && self.routines_dirty {
            // The definitions rolled back with the transaction: read them again.
            self.routines = Routines::load(&self.conn).unwrap_or_default();
        }
        self.routines_dirty = false;
        if std::mem::take(&mut self.ddl_in_tx) && !committed {
            // The rollback undid the DDL: the schema cache and capture triggers follow suit.
            if let Err(e) = self.refresh_schema() {
                tracing::error!("re-reading the schema after a rollback failed: {e}");
            }
        }
        r.map(|(v, _)| v)
    }

    /// The body of [`Db::transaction`]; the flag says whether it committed.
    #[allow(clippy::type_complexity)]
    fn run_transaction<T, E>(
        &mut self,
        rollback: bool,
        f: impl FnOnce(&mut Db) -> Result<T, E>,
        on_sql_err: impl Fn(rusqlite::Error) -> E,
    ) -> Result<((T, Vec<RowChange>), bool), E> {
        match f(self) {
            Ok(v) if !rollback => match self.conn.execute_batch("COMMIT") {
                Ok(()) => Ok(((v, self.take_pending()), true)),
                Err(e) => {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    self.take_pending();
                    Err(on_sql_err(e))
                }
            },
            Ok(v) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                self.take_pending();
                Ok(((v, Vec::new()), false))
            }
            Err(e) => {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                self.take_pending();
                Err(e)
            }
        }
    }

    /// Runs `f` inside a savepoint (a subtransaction). On `Ok` its writes are kept (the
    /// savepoint is released); on `Err` they are rolled back, with the row changes captured
    /// since, so the database is as it was before `f`. Scopes nest (each level has its own
    /// savepoint). A savepoint statement that fails gives `on_sql_err` of its error; so does a
    /// failed rollback, in place of `f`'s error (the database could not be put back).
    pub fn with_savepoint<T, E>(
        &mut self,
        f: impl FnOnce(&mut Db) -> Result<T, E>,
        on_sql_err: impl Fn(rusqlite::Error) -> E,
    ) -> Result<T, E> {
        let sp = self.open_savepoint().map_err(&on_sql_err)?;
        let r = f(self);
        self.close_savepoint(sp, r, true, on_sql_err)
    }

    /// [`Db::with_savepoint`] for callers holding a shared `&Db` (the PL/pgSQL interpreter,
    /// the write path).
    pub fn with_savepoint_ref<T, E>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, E>,
        on_sql_err: impl Fn(rusqlite::Error) -> E,
    ) -> Result<T, E> {
        let sp = self.open_savepoint().map_err(&on_sql_err)?;
        let r = f(self);
        self.close_savepoint(sp, r, true, on_sql_err)
    }

    /// Runs `f` inside a savepoint that is always rolled back: what `f` returns, with the
    /// database and the captured changes as they were (a probe: "would this write change
    /// anything?"). A failed savepoint statement gives `on_sql_err` of its error.
    pub fn dry_run<T, E>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, E>,
        on_sql_err: impl Fn(rusqlite::Error) -> E,
    ) -> Result<T, E> {
        let sp = self.open_savepoint().map_err(&on_sql_err)?;
        let r = f(self);
        self.close_savepoint(sp, r, false, on_sql_err)
    }

    /// Opens the next nested savepoint.
    fn open_savepoint(&self) -> rusqlite::Result<Savepoint> {
        let depth = self.savepoints.get();
        let name = format!("_edgesim_sp_{depth}");
        let pending = self.pending_len();
        self.conn.execute_batch(&format!("SAVEPOINT {name}"))?;
        self.savepoints.set(depth + 1);
        Ok(Savepoint { name, pending })
    }

    /// Closes `sp`: released when `keep` and `r` is `Ok`, else rolled back (with the changes
    /// captured inside it).
    fn close_savepoint<T, E>(
        &self,
        sp: Savepoint,
        r: Result<T, E>,
        keep: bool,
        on_sql_err: impl Fn(rusqlite::Error) -> E,
    ) -> Result<T, E> {
        self.savepoints.set(self.savepoints.get().saturating_sub(1));
        let name = &sp.name;
        if keep && r.is_ok() {
            self.conn
                .execute_batch(&format!("RELEASE {name}"))
                .map_err(on_sql_err)?;
            return r;
        }
        let undo = self
            .conn
            .execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"));
        self.truncate_pending(sp.pending);
        undo.map_err(on_sql_err)?;
        r
    }

    /// Runs `sql` (one or more statements, no parameters), discarding any rows. It does not
    /// go through the write path: the project's row-level triggers do not fire (see
    /// [`Db::execute_write`]).
    pub fn execute_batch(&self, sql: &str) -> rusqlite::Result<()> {
        self.conn.execute_batch(sql)
    }

    /// Runs one statement with `params` and returns how many rows it changed (not through the
    /// write path).
    pub fn execute<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.conn.execute(sql, params)
    }

    /// The first row of `sql`, read by `f` (`QueryReturnedNoRows` when there is none).
    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.conn.query_row(sql, params, f)
    }

    /// Prepares `sql`, for callers that step through rows themselves, read the result's
    /// column names, or only check that a query compiles.
    pub fn prepare(&self, sql: &str) -> rusqlite::Result<rusqlite::Statement<'_>> {
        self.conn.prepare(sql)
    }

    /// Rows changed by every statement since the database was opened (a statement that
    /// changed nothing leaves it as it was).
    pub fn total_changes(&self) -> u64 {
        self.conn.total_changes()
    }

    /// The rowid of the last row inserted.
    pub fn last_insert_rowid(&self) -> i64 {
        self.conn.last_insert_rowid()
    }

    /// Whether SQLite knows a function `name` (a builtin, one of the mock's, or a project
    /// function registered under that name).
    pub fn has_function(&self, name: &str) -> bool {
        self.conn
            .query_row(
                "SELECT count(*) > 0 FROM pragma_function_list WHERE name = ?1",
                [name],
                |r| r.get::<_, bool>(0),
            )
            .unwrap_or(false)
    }

    /// Writes the write-ahead log into the database file and truncates it (a no-op for
    /// in-memory databases).
    pub fn checkpoint(&self) -> rusqlite::Result<()> {
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
    }

    /// Runs `f` with a temporary table `temp.<name>` (columns `columns`, SQL identifiers;
    /// one column `"_"` when there are none) holding `rows`, each a value per column. The
    /// table is dropped afterwards, whatever `f` returns (a failed drop is the error).
    pub fn with_temp_table<T>(
        &self,
        name: &str,
        columns: &[String],
        rows: impl IntoIterator<Item = Vec<Value>>,
        f: impl FnOnce(&Db) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let map = |e: rusqlite::Error| sqlerr::map(&e, &ErrCtx::default());
        let decl = if columns.is_empty() {
            "\"_\"".to_string()
        } else {
            columns.join(", ")
        };
        self.conn
            .execute_batch(&format!(
                "DROP TABLE IF EXISTS temp.{name}; CREATE TEMP TABLE {name} ({decl})"
            ))
            .map_err(map)?;
        let ins = format!(
            "INSERT INTO temp.{name} VALUES ({})",
            vec!["?"; columns.len()].join(", ")
        );
        let result = (|| {
            for vals in rows {
                self.conn
                    .execute(&ins, rusqlite::params_from_iter(vals.iter()))
                    .map_err(map)?;
            }
            f(self)
        })();
        self.conn
            .execute_batch(&format!("DROP TABLE IF EXISTS temp.{name}"))
            .map_err(map)?;
        result
    }

    /// How many `event` changes on `table` the open transaction has captured so far.
    pub fn pending_events(&self, table: &str, event: &str) -> usize {
        let p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        p.iter()
            .filter(|c| c.table == table && c.event == event)
            .count()
    }

    /// How many row changes the open transaction has captured (for savepoints).
    pub fn pending_len(&self) -> usize {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Forgets the changes captured after the first `n` (a savepoint was rolled back).
    fn truncate_pending(&self, n: usize) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .truncate(n);
    }

    /// Runs one write (or any statement) through the write path ([`crate::routines::dml`]):
    /// row-level triggers fire. Returns the rows changed.
    pub fn execute_write(
        &self,
        sql: &str,
        map: &dyn Fn(&rusqlite::Error) -> ApiError,
    ) -> Result<usize, ApiError> {
        crate::routines::dml::execute(self, sql, &[], None, map, 1)
    }

    fn take_pending(&self) -> Vec<RowChange> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// `SELECT count(*) ...`.
    pub fn query_count(&self, sql: &str, params: &[Value], t: &Table) -> Result<u64, ApiError> {
        let ctx = ErrCtx {
            table: Some(t),
            ..Default::default()
        };
        self.conn
            .query_row(sql, rusqlite::params_from_iter(params.iter()), |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|e| sqlerr::map(&e, &ctx))
    }

    /// Runs a row-returning statement (SELECT or DML with RETURNING) and renders each row.
    pub fn query_rows(
        &self,
        sql: &str,
        params: &[Value],
        proj: &Projection,
        t: &Table,
        want_maps: bool,
    ) -> Result<Rows, ApiError> {
        let ctx = ErrCtx {
            table: Some(t),
            schema: Some(&self.schema),
            ..Default::default()
        };
        self.query_rows_ctx(sql, params, proj, &ctx, want_maps)
    }

    /// Like [`Db::query_rows`] with an explicit error context.
    pub fn query_rows_ctx(
        &self,
        sql: &str,
        params: &[Value],
        proj: &Projection,
        ctx: &ErrCtx<'_>,
        want_maps: bool,
    ) -> Result<Rows, ApiError> {
        let mut out = Rows {
            texts: Vec::new(),
            maps: Vec::new(),
        };
        self.for_each_row(sql, params, ctx, &mut |r| {
            out.texts.push(row_text(proj, r)?);
            if want_maps {
                out.maps.push(proj.row_json(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs a row-returning statement and collects each row's raw column values.
    pub fn query_values_ctx(
        &self,
        sql: &str,
        params: &[Value],
        ctx: &ErrCtx<'_>,
    ) -> Result<Vec<Vec<Value>>, ApiError> {
        let mut out = Vec::new();
        self.for_each_row(sql, params, ctx, &mut |r| {
            let n = r.as_ref().column_count();
            out.push(
                (0..n)
                    .map(|i| r.get::<_, Value>(i))
                    .collect::<Result<_, _>>()?,
            );
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs a row-returning statement (SELECT, or DML with RETURNING: through the write path
    /// when the database has triggers, so they fire) and hands each row to `on_row`.
    fn for_each_row(
        &self,
        sql: &str,
        params: &[Value],
        ctx: &ErrCtx<'_>,
        on_row: crate::routines::dml::OnRow<'_>,
    ) -> Result<(), ApiError> {
        let map = |e: rusqlite::Error| sqlerr::map(&e, ctx);
        let head = sql.trim_start().get(..6).unwrap_or("");
        let is_write = ["INSERT", "UPDATE", "DELETE"]
            .iter()
            .any(|w| head.eq_ignore_ascii_case(w));
        if is_write && !self.routines.triggers.is_empty() {
            let map_ref = |e: &rusqlite::Error| sqlerr::map(e, ctx);
            crate::routines::dml::execute(self, sql, params, Some(on_row), &map_ref, 1)?;
            return Ok(());
        }
        let mut st = self.conn.prepare(sql).map_err(map)?;
        let mut rows = st
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(map)?;
        while let Some(r) = rows.next().map_err(map)? {
            on_row(r).map_err(map)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgesim_core::ManualClock;

    fn db() -> Db {
        let mut db = Db::open(
            None,
            Arc::new(ManualClock::at_epoch_ms(0)),
            SimRng::from_seed(1),
        )
        .unwrap();
        db.execute_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .unwrap();
        db
    }

    fn ids(db: &Db) -> Vec<i64> {
        let mut st = db.prepare("SELECT id FROM t ORDER BY id").unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn insert(db: &Db, id: i64) -> Result<(), String> {
        db.execute("INSERT INTO t (id, v) VALUES (?1, 'x')", [id])
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn sql_err(e: rusqlite::Error) -> String {
        format!("savepoint: {e}")
    }

    #[test]
    fn savepoint_keeps_writes_on_ok_and_rolls_back_on_err() {
        let mut db = db();
        let ((), changes) = db
            .transaction(
                false,
                |db| {
                    insert(db, 1)?;
                    let kept = db.with_savepoint(|db| insert(db, 2).map(|()| "kept"), sql_err);
                    assert_eq!(kept, Ok("kept"));
                    let failed: Result<(), String> = db.with_savepoint(
                        |db| {
                            insert(db, 3)?;
                            assert_eq!(db.pending_len(), 3);
                            Err("boom".into())
                        },
                        sql_err,
                    );
                    assert_eq!(failed, Err("boom".to_string()));
                    // The failed scope's row and its captured change are gone; the rest stays.
                    assert_eq!(ids(db), [1, 2]);
                    assert_eq!(db.pending_len(), 2);
                    Ok::<_, String>(())
                },
                sql_err,
            )
            .unwrap();
        assert_eq!(ids(&db), [1, 2]);
        let new_ids: Vec<_> = changes.iter().map(|c| c.new.clone()).collect();
        assert_eq!(changes.len(), 2, "{new_ids:?}");
        assert_eq!(db.savepoints.get(), 0);
    }

    #[test]
    fn savepoints_nest() {
        let mut db = db();
        insert(&db, 1).unwrap();
        // An inner failure is undone; the outer scope carries on and keeps its own writes.
        let r = db.with_savepoint(
            |db| {
                insert(db, 2)?;
                let inner = db.with_savepoint_ref(
                    |db| {
                        insert(db, 3)?;
                        insert(db, 1) // duplicate key: the inner scope fails
                    },
                    sql_err,
                );
                assert!(inner.unwrap_err().contains("UNIQUE"));
                assert_eq!(ids(db), [1, 2]);
                insert(db, 4)
            },
            sql_err,
        );
        assert_eq!(r, Ok(()));
        assert_eq!(ids(&db), [1, 2, 4]);
        // An outer failure undoes what an inner scope had kept.
        let r: Result<(), String> = db.with_savepoint(
            |db| {
                db.with_savepoint(|db| insert(db, 5), sql_err)?;
                assert_eq!(ids(db), [1, 2, 4, 5]);
                Err("outer".into())
            },
            sql_err,
        );
        assert_eq!(r, Err("outer".to_string()));
        assert_eq!(ids(&db), [1, 2, 4]);
        assert_eq!(db.savepoints.get(), 0);
        assert!(db.conn.is_autocommit(), "every savepoint was closed");
    }

    #[test]
    fn dry_run_answers_and_leaves_nothing() {
        let db = db();
        insert(&db, 1).unwrap();
        let pending = db.pending_len();
        let seen = db.dry_run(
            |db| {
                insert(db, 2)?;
                Ok::<_, String>(ids(db))
            },
            sql_err,
        );
        assert_eq!(seen, Ok(vec![1, 2]));
        assert_eq!(ids(&db), [1]);
        assert_eq!(db.pending_len(), pending);
    }

    #[test]
    fn temp_table_is_dropped_whatever_the_body_returns() {
        let db = db();
        let cols = ["\"a\"".to_string()];
        let rows = [vec![Value::Integer(7)], vec![Value::Integer(8)]];
        let sum = db.with_temp_table("_edgesim_test", &cols, rows.clone(), |db| {
            db.query_row("SELECT sum(a) FROM temp._edgesim_test", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(|e| sqlerr::map(&e, &ErrCtx::default()))
        });
        assert_eq!(sum.unwrap(), 15);
        let failed: Result<(), ApiError> = db.with_temp_table("_edgesim_test", &cols, rows, |_| {
            Err(sqlerr::pg("XX000", "body failed"))
        });
        assert_eq!(failed.unwrap_err().message, "body failed");
        let left: i64 = db
            .query_row(
                "SELECT count(*) FROM temp.sqlite_master WHERE name = '_edgesim_test'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }
}
