//! The statement dispatcher: each statement is classified by its leading keywords into a
//! [`Kind`], and each kind goes to its own handler module.
//!
//! A handler is `fn(&mut Ctx, &Stmt) -> Result<(), String>`. It records exactly one report
//! entry for the statement through [`Ctx::translated`], [`Ctx::emulated`], [`Ctx::accepted`],
//! [`Ctx::skipped`] or [`Ctx::error`]; returning `Err(reason)` instead makes the dispatcher
//! record the statement as skipped (or as an error, for data statements) with that reason.
//! Handlers never abort the load. To add a feature: a new module with a `handle` function, and
//! one line in [`dispatch`].

use super::lex::{Tok, tokenize};
use super::report::{LoadReport, Outcome, ReportEntry};
use super::{alter, data, index, rls, server, table, trigger, usertypes, views};
use crate::db::Db;
use crate::sqlerr::{self, ErrCtx};
use crate::webhooks::Hook;
use std::path::Path;

/// What a statement is, from its leading keywords.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `create [unlogged|temp] table`.
    CreateTable,
    /// `create [unique] index`.
    CreateIndex,
    /// `alter table` (other than row level security).
    AlterTable,
    /// `alter table ... enable|disable|force|no force row level security`.
    TableRls,
    /// `drop table|index|view|type|domain|schema|extension|sequence ...`.
    Drop,
    /// `insert`, `update`, `delete`, `with ...`, `merge`.
    Data,
    /// `select ...` (seeds often call functions this way).
    Select,
    /// `create [or replace] [materialized] view`.
    CreateView,
    /// `create type` (enum, composite, range).
    CreateType,
    /// `create domain`.
    CreateDomain,
    /// `alter type` (enum values).
    AlterType,
    /// `create schema`.
    CreateSchema,
    /// `create extension`.
    CreateExtension,
    /// `create [or replace] function|procedure`.
    CreateFunction,
    /// `drop function|procedure`.
    DropFunction,
    /// `create [or replace] [constraint] trigger`.
    CreateTrigger,
    /// `drop trigger`.
    DropTrigger,
    /// `create policy`.
    CreatePolicy,
    /// `alter policy`.
    AlterPolicy,
    /// `drop policy`.
    DropPolicy,
    /// `grant`.
    Grant,
    /// `revoke`.
    Revoke,
    /// `do $$ ... $$`.
    Do,
    /// `call proc(...)`.
    Call,
    /// Statements that only matter to a Postgres server: `comment on`, `set`, `alter default
    /// privileges`, publications, roles, owners, sequences, `analyze`, `notify`...
    ServerOnly,
    /// `begin`, `commit`, `start transaction`, `end` (each file runs in one transaction).
    Transaction,
    /// Anything else.
    Other,
}

/// One statement, tokenized and classified.
#[derive(Clone, Debug)]
pub struct Stmt {
    /// Text as written (without the `;`).
    pub text: String,
    /// 1-based line where it starts.
    pub line: usize,
    /// Tokens (comments dropped). Empty when the text does not tokenize (`lex_error`).
    pub toks: Vec<Tok>,
    /// Why the text does not tokenize.
    pub lex_error: Option<String>,
    /// Its kind.
    pub kind: Kind,
}

impl Stmt {
    /// Tokenizes and classifies `text`.
    pub fn new(text: &str, line: usize) -> Stmt {
        let (toks, lex_error) = match tokenize(text) {
            Ok(t) => (t, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        let kind = classify(&toks);
        Stmt {
            text: text.to_string(),
            line,
            toks,
            lex_error,
            kind,
        }
    }

    /// The lowercased word at `i` ("" when it is not a word).
    pub fn word(&self, i: usize) -> String {
        word(&self.toks, i)
    }

    /// The first line of the text, shortened, for messages.
    pub fn head(&self) -> String {
        let first = self.text.lines().next().unwrap_or("").trim();
        if first.chars().count() > 100 {
            format!("{}...", first.chars().take(100).collect::<String>())
        } else if self.text.contains('\n') {
            format!("{first} ...")
        } else {
            first.to_string()
        }
    }
}

fn word(toks: &[Tok], i: usize) -> String {
    match toks.get(i) {
        Some(Tok::Word(w)) => w.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// Classifies a statement by its leading keywords.
pub fn classify(toks: &[Tok]) -> Kind {
    let w = |i: usize| word(toks, i);
    // `create or replace x`, `create temp|temporary|unlogged|materialized|unique|constraint x`.
    let mut i = 1;
    if w(1) == "or" && w(2) == "replace" {
        i = 3;
    }
    while matches!(
        w(i).as_str(),
        "temp"
            | "temporary"
            | "unlogged"
            | "materialized"
            | "unique"
            | "constraint"
            | "global"
            | "local"
            | "recursive"
            | "trusted"
            | "procedural"
    ) {
        i += 1;
    }
    match w(0).as_str() {
        "" => Kind::Other,
        "create" => match w(i).as_str() {
            "table" => Kind::CreateTable,
            "index" => Kind::CreateIndex,
            "view" => Kind::CreateView,
            "type" => Kind::CreateType,
            "domain" => Kind::CreateDomain,
            "schema" => Kind::CreateSchema,
            "extension" => Kind::CreateExtension,
            "function" | "procedure" => Kind::CreateFunction,
            "trigger" => Kind::CreateTrigger,
            "policy" => Kind::CreatePolicy,
            "publication" | "role" | "user" | "sequence" | "language" | "event" | "cast"
            | "collation" | "operator" | "aggregate" | "server" | "subscription" | "statistics"
            | "text" | "foreign" => Kind::ServerOnly,
            _ => Kind::Other,
        },
        "alter" => match w(1).as_str() {
            "table" => {
                let rls = toks
                    .windows(3)
                    .any(|x| x[0].is("row") && x[1].is("level") && x[2].is("security"));
                if rls {
                    Kind::TableRls
                } else {
                    Kind::AlterTable
                }
            }
            "policy" => Kind::AlterPolicy,
            "type" => Kind::AlterType,
            "default" | "publication" | "role" | "user" | "schema" | "sequence" | "database"
            | "function" | "procedure" | "view" | "domain" | "extension" | "materialized"
            | "trigger" | "event" | "system" | "index" => Kind::ServerOnly,
            _ => Kind::Other,
        },
        "drop" => match w(1).as_str() {
            "function" | "procedure" => Kind::DropFunction,
            "trigger" => Kind::DropTrigger,
            "policy" => Kind::DropPolicy,
            "table" | "index" | "view" | "materialized" | "type" | "domain" | "schema"
            | "extension" | "sequence" => Kind::Drop,
            "publication" | "role" | "user" | "owned" | "event" => Kind::ServerOnly,
            _ => Kind::Other,
        },
        "insert" | "update" | "delete" | "with" | "merge" | "truncate" => Kind::Data,
        "select" | "values" => Kind::Select,
        "grant" => Kind::Grant,
        "revoke" => Kind::Revoke,
        "do" => Kind::Do,
        "call" => Kind::Call,
        "comment" | "set" | "reset" | "analyze" | "vacuum" | "notify" | "listen" | "unlisten"
        | "security" | "reindex" | "cluster" | "discard" | "lock" | "checkpoint" | "refresh"
        | "reassign" => Kind::ServerOnly,
        "begin" | "commit" | "start" | "end" | "savepoint" | "release" => Kind::Transaction,
        _ => Kind::Other,
    }
}

/// How statements are applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Run against the database (a pending migration, the seed).
    Apply,
    /// A migration already applied to a persistent database: SQL is not run again, but
    /// emulated objects held in memory (webhooks, and whatever a handler keeps in
    /// `Db::catalog`) are registered again.
    Replay,
    /// `Supabase::execute`: like `Apply`, but the caller turns any skip into an error.
    Direct,
}

/// A SQL statement failed; the message is Postgres's (mapped from SQLite's).
#[derive(Clone, Debug)]
pub struct SqlFail {
    /// SQLSTATE.
    pub code: String,
    /// Postgres-style message.
    pub message: String,
}

/// What a handler works with.
pub struct Ctx<'a> {
    /// The database (and its catalog of emulated objects, `db.catalog`).
    pub db: &'a mut Db,
    /// The file the statement comes from.
    pub file: &'a Path,
    /// How to apply.
    pub mode: Mode,
    /// The report to append to.
    pub report: &'a mut LoadReport,
    /// Database Webhooks declared so far.
    pub hooks: &'a mut Vec<Hook>,
    /// Rows inserted, updated or deleted by data statements.
    pub changes: usize,
}

impl Ctx<'_> {
    /// Appends an entry for `st`.
    pub fn record(
        &mut self,
        st: &Stmt,
        outcome: Outcome,
        object: impl Into<String>,
        note: impl Into<String>,
        fail: Option<SqlFail>,
    ) {
        let (code, pg_message) = match fail {
            Some(f) => (Some(f.code), Some(f.message)),
            None if outcome.is_warning() => (Some("0A000".to_string()), None),
            None => (None, None),
        };
        self.report.entries.push(ReportEntry {
            file: self.file.to_path_buf(),
            line: st.line,
            outcome,
            object: object.into(),
            note: note.into(),
            code,
            pg_message,
            statement: st.head(),
        });
    }

    /// Translated to SQLite and run; `note` says how (may be empty).
    pub fn translated(&mut self, st: &Stmt, object: impl Into<String>, note: impl Into<String>) {
        self.record(st, Outcome::Translated, object, note, None);
    }

    /// Emulated by the mock; `note` says how.
    pub fn emulated(&mut self, st: &Stmt, object: impl Into<String>, note: impl Into<String>) {
        self.record(st, Outcome::Emulated, object, note, None);
    }

    /// Accepted and recorded (only matters to a Postgres server); `note` says why.
    pub fn accepted(&mut self, st: &Stmt, object: impl Into<String>, note: impl Into<String>) {
        self.record(st, Outcome::Accepted, object, note, None);
    }

    /// Skipped; `consequence` says what differs from Postgres, e.g. "`rpc/f` answers
    /// PGRST202". `object` is remembered so that later statements depending on it can say so.
    pub fn skipped(
        &mut self,
        st: &Stmt,
        object: impl Into<String>,
        consequence: impl Into<String>,
    ) {
        let object = object.into();
        self.remember_skip(st, &object);
        self.record(st, Outcome::Skipped, object, consequence, None);
    }

    /// Not applied, and data differs; `consequence` says which rows are missing or wrong;
    /// `fail` is the database error when running it failed.
    pub fn error(
        &mut self,
        st: &Stmt,
        object: impl Into<String>,
        consequence: impl Into<String>,
        fail: Option<SqlFail>,
    ) {
        let object = object.into();
        self.remember_skip(st, &object);
        self.record(st, Outcome::Error, object, consequence, fail);
    }

    fn remember_skip(&mut self, st: &Stmt, object: &str) {
        let at = format!("{}:{}", self.file.display(), st.line);
        self.db.catalog.skipped.insert(object.to_string(), at);
    }

    /// Where `object` (e.g. "table `posts`") was skipped, if it was.
    pub fn skipped_at(&self, object: &str) -> Option<&str> {
        self.db.catalog.skipped.get(object).map(String::as_str)
    }

    /// Runs translated SQL (not in [`Mode::Replay`]) inside a savepoint, so that a failure
    /// leaves the database as it was. `ddl` when the schema may change.
    pub fn run(&mut self, sql: &str, ddl: bool) -> Result<(), SqlFail> {
        self.run_inner(sql, ddl, false)
    }

    /// Runs one `insert`/`update`/`delete` like [`Ctx::run`] and adds its row count to
    /// [`Ctx::changes`].
    pub fn run_write(&mut self, sql: &str) -> Result<(), SqlFail> {
        self.run_inner(sql, false, true)
    }

    fn run_inner(&mut self, sql: &str, ddl: bool, count: bool) -> Result<(), SqlFail> {
        if self.mode == Mode::Replay {
            return Ok(());
        }
        let conn_err = |e: rusqlite::Error| SqlFail {
            code: "XX000".into(),
            message: e.to_string(),
        };
        let ctx_map = |db: &Db, e: &rusqlite::Error| {
            sqlerr::map(
                e,
                &ErrCtx {
                    schema: Some(&db.schema),
                    ..Default::default()
                },
            )
        };
        let r = self.db.with_savepoint(
            |db| {
                let r = if ddl {
                    let r = db.execute_ddl(sql);
                    r.map(|()| 0).map_err(|e| ctx_map(db, &e))
                } else if count {
                    // Writes go through the write path, so row-level triggers fire.
                    let db = &*db;
                    db.execute_write(sql, &|e: &rusqlite::Error| ctx_map(db, e))
                } else {
                    let r = db.execute_batch(sql);
                    r.map(|()| 0).map_err(|e| ctx_map(db, &e))
                };
                r.map_err(|mapped| SqlFail {
                    code: mapped.code,
                    message: mapped.message,
                })
            },
            conn_err,
        );
        match r {
            Ok(n) => {
                if count {
                    self.changes += n;
                }
                Ok(())
            }
            Err(e) => {
                if ddl {
                    // The rollback undid the DDL: the schema cache follows.
                    let _ = self.db.refresh_schema();
                }
                Err(e)
            }
        }
    }
}

/// Whether a kind writes rows (skipping it loses data: an error, not a warning).
pub fn is_data(kind: Kind) -> bool {
    matches!(kind, Kind::Data | Kind::Select | Kind::Do | Kind::Call)
}

/// Replaces `schema.name` (for a schema in `schemas`: `auth`, `storage`, those the project
/// created) by one quoted identifier `"schema.name"`, the SQLite table holding it; function
/// calls (`auth.uid()`, `storage.foldername(...)`) are left alone (a name followed by `(` is a
/// table only after `table`, `into`, `references`, `on`, `from`, `join`, `update`...).
pub fn qualify_schemas(toks: &[Tok], schemas: &std::collections::BTreeSet<String>) -> Vec<Tok> {
    let mut out = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        if let (Some(s), Some(dot), Some(n)) = (toks[i].name(), toks.get(i + 1), toks.get(i + 2))
            && dot.is_p(".")
            && schemas.contains(&s)
            && let Some(n) = n.name()
            && (!toks.get(i + 3).is_some_and(|t| t.is_p("("))
                || (i > 0
                    && [
                        "table",
                        "exists",
                        "into",
                        "references",
                        "on",
                        "from",
                        "join",
                        "update",
                        "only",
                        "view",
                    ]
                    .iter()
                    .any(|k| toks[i - 1].is(k))))
            && !(i > 0 && toks[i - 1].is_p("."))
        {
            out.push(Tok::QIdent(format!("{s}.{n}")));
            i += 3;
            continue;
        }
        out.push(toks[i].clone());
        i += 1;
    }
    out
}

/// Applies one statement: its handler records one report entry. Names in the platform and
/// project schemas are qualified first (see [`qualify_schemas`]).
pub fn dispatch(cx: &mut Ctx<'_>, st: &Stmt) {
    let qualified;
    let st = if st.toks.windows(2).any(|w| w[1].is_p(".")) {
        qualified = Stmt {
            toks: qualify_schemas(&st.toks, &cx.db.catalog.schemas),
            ..st.clone()
        };
        &qualified
    } else {
        st
    };
    let before = cx.report.entries.len();
    let r = if let Some(e) = &st.lex_error {
        Err(format!("it does not parse: {e}"))
    } else {
        match st.kind {
            Kind::CreateTable => table::create(cx, st),
            Kind::CreateIndex => index::handle(cx, st),
            Kind::AlterTable => alter::handle(cx, st),
            Kind::Drop => table::drop(cx, st),
            Kind::Data => data::handle(cx, st),
            Kind::Select => crate::routines::statement::dispatch_select(cx, st)
                .unwrap_or_else(|| data::select(cx, st)),
            Kind::CreateTrigger => trigger::handle(cx, st),
            Kind::ServerOnly | Kind::Transaction => server::handle(cx, st),
            Kind::CreateSchema => server::create_schema(cx, st),
            Kind::CreateExtension => server::create_extension(cx, st),
            Kind::Grant
            | Kind::Revoke
            | Kind::TableRls
            | Kind::CreatePolicy
            | Kind::AlterPolicy
            | Kind::DropPolicy => rls::handle(cx, st),
            Kind::CreateFunction | Kind::DropFunction => {
                crate::routines::statement::dispatch_function(cx, st)
            }
            Kind::DropTrigger => crate::routines::statement::dispatch_drop_trigger(cx, st),
            Kind::Do | Kind::Call => crate::routines::statement::dispatch_do(cx, st),
            Kind::CreateView => views::handle(cx, st),
            Kind::CreateType | Kind::CreateDomain => usertypes::create(cx, st),
            Kind::AlterType => usertypes::alter(cx, st),
            Kind::Other => Err("statement not supported by the mock".into()),
        }
    };
    match r {
        Err(reason) => {
            let object = describe(st);
            if is_data(st.kind) {
                cx.error(
                    st,
                    object,
                    format!("{reason}; the rows it would write are missing"),
                    None,
                );
            } else {
                cx.skipped(st, object, reason);
            }
        }
        Ok(()) if cx.report.entries.len() == before => {
            let object = describe(st);
            cx.translated(st, object, "");
        }
        Ok(()) => {}
    }
}

/// A generic description of a statement for the report: "statement `create foo ...`".
pub fn describe(st: &Stmt) -> String {
    let words: Vec<String> = st.toks.iter().take(4).map(Tok::sql).collect();
    format!("statement `{}`", words.join(" ").to_ascii_lowercase())
}

/// Reads a possibly schema-qualified name at `i`: `(schema, name, next index)`; the schema is
/// `None` when unqualified.
pub fn qualified_name(toks: &[Tok], i: usize) -> Option<(Option<String>, String, usize)> {
    let first = toks.get(i)?.name()?;
    if toks.get(i + 1).is_some_and(|t| t.is_p("."))
        && let Some(second) = toks.get(i + 2).and_then(Tok::name)
    {
        return Some((Some(first), second, i + 3));
    }
    Some((None, first, i + 1))
}

/// The name as reports print it: `public.` dropped, other schemas kept (`auth.users`).
pub fn display_name(schema: &Option<String>, name: &str) -> String {
    match schema.as_deref() {
        None | Some("public") => name.to_string(),
        Some(s) => format!("{s}.{name}"),
    }
}

/// Index of the first token after `create [or replace] [modifiers] <keyword>` and an optional
/// `if [not] exists`: where the object's name starts.
pub fn name_index(st: &Stmt, keyword: &str) -> usize {
    let mut i = st
        .toks
        .iter()
        .position(|t| t.is(keyword))
        .map_or(st.toks.len(), |p| p + 1);
    while st
        .toks
        .get(i)
        .is_some_and(|t| t.is("if") || t.is("not") || t.is("exists") || t.is("only"))
    {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Kind {
        Stmt::new(s, 1).kind
    }

    #[test]
    fn classifies_by_leading_keywords() {
        for (s, k) in [
            ("create table if not exists t (id int)", Kind::CreateTable),
            ("create unlogged table t (id int)", Kind::CreateTable),
            ("create unique index i on t (x)", Kind::CreateIndex),
            ("create or replace view v as select 1", Kind::CreateView),
            ("create materialized view v as select 1", Kind::CreateView),
            ("create type mood as enum ('a')", Kind::CreateType),
            ("create domain d as text", Kind::CreateDomain),
            (
                "create or replace function f() returns int as $$ select 1 $$ language sql",
                Kind::CreateFunction,
            ),
            (
                "create constraint trigger t after insert on x for each row execute function f()",
                Kind::CreateTrigger,
            ),
            (
                "create policy \"p\" on t for select using (true)",
                Kind::CreatePolicy,
            ),
            ("alter table t enable row level security", Kind::TableRls),
            ("alter table only t add column x int", Kind::AlterTable),
            (
                "alter default privileges in schema public grant all on tables to anon",
                Kind::ServerOnly,
            ),
            ("drop policy if exists p on t", Kind::DropPolicy),
            ("drop table t cascade", Kind::Drop),
            ("grant select on t to anon", Kind::Grant),
            ("do $$ begin end $$", Kind::Do),
            ("insert into t values (1)", Kind::Data),
            ("select f(1)", Kind::Select),
            ("comment on table t is 'x'", Kind::ServerOnly),
            ("begin", Kind::Transaction),
            ("frobnicate", Kind::Other),
        ] {
            assert_eq!(kind(s), k, "{s}");
        }
        let st = Stmt::new("create policy \"own\" on public.posts for all", 3);
        assert_eq!(
            qualified_name(&st.toks, name_index(&st, "policy")).map(|x| x.1),
            Some("own".into())
        );
        let st = Stmt::new("create table if not exists auth.users (id uuid)", 1);
        let (s, n, _) = qualified_name(&st.toks, name_index(&st, "table")).unwrap();
        assert_eq!(display_name(&s, &n), "auth.users");
    }
}
