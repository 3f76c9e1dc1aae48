//! Loading a project directory in Supabase CLI layout and applying it:
//! `supabase/migrations/<digits>_<name>.sql` in version order, then `supabase/seed.sql`
//! (only on a fresh database), plus `supabase/webhooks.toml`.
//!
//! Loading never refuses a whole project: each statement goes through [`dispatch::dispatch`]
//! to the handler of its [`dispatch::Kind`], which records what happened in the
//! [`report::LoadReport`] (translated, emulated, accepted, skipped with the consequence, or an
//! error when data is affected).

mod alter;
mod columns;
mod data;
pub mod dispatch;
mod index;
pub mod lex;
pub mod platform;
pub mod report;
mod rls;
mod server;
mod table;
pub mod translate;
mod trigger;
mod usertypes;
mod views;

use crate::db::Db;
use crate::errors::ProjectError;
use crate::webhooks::{Hook, config};
use dispatch::{Ctx, Mode, Stmt};
use report::LoadReport;
use std::path::{Path, PathBuf};

/// One project file.
#[derive(Clone, Debug)]
pub struct Source {
    /// Path (for messages).
    pub path: PathBuf,
    /// Contents.
    pub text: String,
}

/// A project's migrations, seed and webhook declarations.
#[derive(Clone, Debug, Default)]
pub struct Project {
    /// `(version, source)` sorted by version.
    pub migrations: Vec<(String, Source)>,
    /// `supabase/seed.sql`.
    pub seed: Option<Source>,
    /// `supabase/webhooks.toml`.
    pub webhooks: Option<Source>,
}

fn read(path: &Path) -> Result<String, ProjectError> {
    std::fs::read_to_string(path).map_err(|source| ProjectError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Splits `<digits>_<name>.sql` into its version.
pub fn migration_version(file: &str) -> Option<String> {
    let stem = file.strip_suffix(".sql")?;
    let (v, name) = stem.split_once('_')?;
    (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty())
        .then(|| v.to_string())
}

impl Project {
    /// Reads `dir/supabase/...`.
    pub fn from_dir(dir: &Path) -> Result<Project, ProjectError> {
        let sb = dir.join("supabase");
        if !sb.is_dir() {
            return Err(ProjectError::Io {
                path: sb,
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no supabase/ directory in the project",
                ),
            });
        }
        let mut p = Project::default();
        let mdir = sb.join("migrations");
        if mdir.is_dir() {
            let entries = std::fs::read_dir(&mdir).map_err(|source| ProjectError::Io {
                path: mdir.clone(),
                source,
            })?;
            for e in entries {
                let e = e.map_err(|source| ProjectError::Io {
                    path: mdir.clone(),
                    source,
                })?;
                let name = e.file_name().to_string_lossy().into_owned();
                match migration_version(&name) {
                    Some(v) => p.migrations.push((
                        v,
                        Source {
                            path: e.path(),
                            text: read(&e.path())?,
                        },
                    )),
                    None => tracing::warn!(
                        "skipping {name}: migration files are named <timestamp>_<name>.sql"
                    ),
                }
            }
        }
        p.migrations
            .sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.path.cmp(&b.1.path)));
        let seed = sb.join("seed.sql");
        if seed.is_file() {
            p.seed = Some(Source {
                text: read(&seed)?,
                path: seed,
            });
        }
        let hooks = sb.join("webhooks.toml");
        if hooks.is_file() {
            p.webhooks = Some(Source {
                text: read(&hooks)?,
                path: hooks,
            });
        }
        Ok(p)
    }
}

/// Runs every statement of `src` (already in a transaction) through the dispatcher.
pub fn run_file(
    db: &mut Db,
    src: &Source,
    mode: Mode,
    report: &mut LoadReport,
    hooks: &mut Vec<Hook>,
) {
    let mut cx = Ctx {
        db,
        file: &src.path,
        mode,
        report,
        hooks,
        changes: 0,
    };
    for st in lex::split(&src.text) {
        dispatch::dispatch(&mut cx, &Stmt::new(&st.text, st.line));
    }
}

/// Applies pending migrations (and the seed on a fresh database); returns all webhooks and
/// the load report. Statements that cannot be applied are in the report, never an `Err`.
pub fn apply(db: &mut Db, p: &Project) -> Result<(Vec<Hook>, LoadReport), ProjectError> {
    let dberr = |e: rusqlite::Error| ProjectError::Db(e.to_string());
    let fresh: bool = db
        .conn
        .query_row(
            "SELECT count(*) = 0 FROM sqlite_master WHERE name = '_edgesim_schema_migrations'",
            [],
            |r| r.get(0),
        )
        .map_err(dberr)?;
    db.conn
        .execute_batch("CREATE TABLE IF NOT EXISTS _edgesim_schema_migrations (version TEXT PRIMARY KEY, name TEXT)")
        .map_err(dberr)?;
    let mut hooks = Vec::new();
    let mut report = LoadReport::default();
    if fresh {
        // The platform schemas (auth, storage); anything of them not loading is reported.
        let mut platform = LoadReport::default();
        db.transaction(
            false,
            |db| {
                for src in platform::sources() {
                    run_file(db, &src, Mode::Apply, &mut platform, &mut hooks);
                }
                Ok(())
            },
            dberr,
        )?;
        report.entries.extend(platform.warnings().cloned());
    }
    for (version, src) in &p.migrations {
        let applied: bool = db
            .conn
            .query_row(
                "SELECT count(*) > 0 FROM _edgesim_schema_migrations WHERE version = ?1",
                [version],
                |r| r.get(0),
            )
            .map_err(dberr)?;
        if applied {
            run_file(db, src, Mode::Replay, &mut report, &mut hooks);
            continue;
        }
        let name = src
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        db.transaction(
            false,
            |db| {
                run_file(db, src, Mode::Apply, &mut report, &mut hooks);
                db.conn
                    .execute(
                        "INSERT INTO _edgesim_schema_migrations (version, name) VALUES (?1, ?2)",
                        [version, &name],
                    )
                    .map_err(dberr)
            },
            dberr,
        )?;
    }
    if fresh && let Some(seed) = &p.seed {
        db.transaction(
            false,
            |db| {
                run_file(db, seed, Mode::Apply, &mut report, &mut hooks);
                Ok(())
            },
            dberr,
        )?;
    }
    db.refresh_schema().map_err(dberr)?;
    if let Some(src) = &p.webhooks {
        let file_hooks =
            config::parse_toml(&src.text).map_err(|message| ProjectError::Webhooks {
                file: src.path.clone(),
                message,
            })?;
        hooks.extend(file_hooks);
    }
    // A hook may come from a migration too; the error still names the webhooks file, if any.
    let invalid = |message: String| ProjectError::Webhooks {
        file: p
            .webhooks
            .as_ref()
            .map(|s| s.path.clone())
            .unwrap_or_default(),
        message,
    };
    for h in &hooks {
        if !db.schema.tables.contains_key(&h.table) {
            return Err(invalid(format!(
                "webhook {}: table public.{} does not exist",
                h.name, h.table
            )));
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for h in &hooks {
        if !names.insert(h.name.clone()) {
            return Err(invalid(format!("webhook {} is declared twice", h.name)));
        }
    }
    Ok((hooks, report))
}
