//! User functions and triggers: `create function` (`language sql` and the PL/pgSQL subset of
//! [`plpgsql`]), row-level `create trigger`, `do` blocks, their registry (persisted in the
//! database, so a `--db FILE` reopened later keeps them) and the interpreter ([`exec`]) that
//! runs them. Writes on a table with triggers go through [`dml`], the one write path that REST,
//! migrations, the seed and function bodies share.

pub mod cascade;
pub mod def;
pub mod dml;
pub mod exec;
pub mod invoker;
pub mod plpgsql;
pub mod sqlbind;
pub mod statement;

use crate::db::Db;
use crate::migrate::lex::{Tok, tokenize};
use def::{FunctionDef, Language, TriggerDef};
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A function's executable form.
#[derive(Clone, Debug)]
pub enum Program {
    /// `language sql`: its statements' tokens.
    Sql(Vec<Vec<Tok>>),
    /// `language plpgsql`.
    Pl(plpgsql::Block),
}

/// A registered function.
#[derive(Clone, Debug)]
pub struct Function {
    /// The definition.
    pub def: FunctionDef,
    /// The parsed body, or why the mock cannot run it.
    pub program: Result<Program, String>,
}

/// Every function and trigger of the database.
#[derive(Clone, Debug, Default)]
pub struct Routines {
    /// Functions by name.
    pub functions: BTreeMap<String, Arc<Function>>,
    /// Row-level triggers by table, each list sorted by trigger name (Postgres fires triggers
    /// of the same timing in name order).
    pub triggers: BTreeMap<String, Vec<Arc<TriggerDef>>>,
}

/// Whether a type name is a scalar (not a table's row type): a type the mock stores natively,
/// an array, or another scalar a function may take or return.
pub fn is_scalar_type(ty: &str) -> bool {
    let base = ty.trim_end_matches("[]");
    let base = base.split('(').next().unwrap_or(base).trim();
    crate::types::is_native_type(base)
        || matches!(
            base,
            "character varying"
                | "timestamp with time zone"
                | "timestamp without time zone"
                | "time"
                | "interval"
                | "record"
                | "void"
                | "trigger"
                | "bytea"
                | "name"
                | "regclass"
        )
        || ty.ends_with("[]")
}

/// A declared `returns <name>` that names no table or view (an enum, a domain) is a scalar
/// result, not a row type: Postgres requires the type to exist when the function is created.
pub fn resolve_returns(def: &mut FunctionDef, is_table: impl Fn(&str) -> bool) {
    if let def::Returns::Rows { table, set } = &def.returns
        && !is_table(table)
    {
        def.returns = def::Returns::Scalar {
            ty: table.clone(),
            set: *set,
        };
    }
}

/// Parses a function body into its program.
pub fn compile(def: &FunctionDef) -> Result<Program, String> {
    match def.language {
        Language::Plpgsql => plpgsql::parse(&def.body).map(Program::Pl),
        Language::Sql => {
            let text = def::positional_words(&def.body);
            let mut out = Vec::new();
            for st in crate::migrate::lex::split(&text) {
                out.push(tokenize(&st.text)?);
            }
            if out.is_empty() {
                return Err("empty function body".into());
            }
            Ok(Program::Sql(out))
        }
    }
}

const CREATE_TABLES: &str = "CREATE TABLE IF NOT EXISTS _edgesim_functions (name TEXT PRIMARY KEY, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _edgesim_triggers (tbl TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (tbl, name));";

impl Routines {
    /// Reads the persisted definitions (creating their tables on a new database).
    pub fn load(conn: &Connection) -> rusqlite::Result<Routines> {
        conn.execute_batch(CREATE_TABLES)?;
        let mut r = Routines::default();
        let mut st = conn.prepare("SELECT source FROM _edgesim_functions ORDER BY name")?;
        let sources: Vec<String> = st
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        for s in sources {
            if let Ok(mut def) = def::create_function(&s) {
                resolve_returns(&mut def, |t| {
                    conn.query_row(
                        "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1",
                        [t],
                        |_| Ok(()),
                    )
                    .is_ok()
                });
                r.add_function(def);
            }
        }
        let mut st = conn.prepare("SELECT source FROM _edgesim_triggers ORDER BY tbl, name")?;
        let sources: Vec<String> = st
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        for s in sources {
            if let Ok(toks) = tokenize(&s)
                && let Ok(Some(t)) = def::create_trigger(&toks)
            {
                r.add_trigger(t);
            }
        }
        Ok(r)
    }

    /// Registers (or replaces) a function.
    pub fn add_function(&mut self, def: FunctionDef) -> Arc<Function> {
        let program = compile(&def);
        let f = Arc::new(Function { def, program });
        self.functions.insert(f.def.name.clone(), f.clone());
        f
    }

    /// Registers (or replaces) a trigger.
    pub fn add_trigger(&mut self, t: TriggerDef) {
        let list = self.triggers.entry(t.table.clone()).or_default();
        list.retain(|o| o.name != t.name);
        list.push(Arc::new(t));
        list.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// Removes a trigger; whether it existed.
    pub fn remove_trigger(&mut self, table: &str, name: &str) -> bool {
        let Some(list) = self.triggers.get_mut(table) else {
            return false;
        };
        let before = list.len();
        list.retain(|t| t.name != name);
        let removed = list.len() != before;
        if list.is_empty() {
            self.triggers.remove(table);
        }
        removed
    }

    /// Whether `table` has any trigger.
    pub fn has_triggers(&self, table: &str) -> bool {
        self.triggers.get(table).is_some_and(|l| !l.is_empty())
    }
}

/// Persists a function definition.
pub fn store_function(db: &Db, name: &str, source: &str) -> rusqlite::Result<()> {
    db.execute(
        "INSERT INTO _edgesim_functions (name, source) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET source = excluded.source",
        [name, source],
    )?;
    Ok(())
}

/// Forgets a function definition.
pub fn delete_function(db: &Db, name: &str) -> rusqlite::Result<()> {
    db.execute("DELETE FROM _edgesim_functions WHERE name = ?1", [name])?;
    Ok(())
}

/// Persists a trigger definition.
pub fn store_trigger(db: &Db, table: &str, name: &str, source: &str) -> rusqlite::Result<()> {
    db.execute(
        "INSERT INTO _edgesim_triggers (tbl, name, source) VALUES (?1, ?2, ?3) ON CONFLICT (tbl, name) DO UPDATE SET source = excluded.source",
        [table, name, source],
    )?;
    Ok(())
}

/// Forgets a trigger definition.
pub fn delete_trigger(db: &Db, table: &str, name: &str) -> rusqlite::Result<()> {
    db.execute(
        "DELETE FROM _edgesim_triggers WHERE tbl = ?1 AND name = ?2",
        [table, name],
    )?;
    Ok(())
}

/// Index of the `)` matching the `(` at `open`.
pub fn def_close(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (j, t) in toks.iter().enumerate().skip(open) {
        if t.is_p("(") {
            depth += 1;
        } else if t.is_p(")") {
            depth -= 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}
