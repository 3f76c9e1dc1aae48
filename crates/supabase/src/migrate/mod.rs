//! Loading a project directory in Supabase CLI layout and applying it:
//! `supabase/config.toml` ([`cliconfig`]), `supabase/migrations/<digits>_<name>.sql` in version
//! order, then the seed files of `[db.seed] sql_paths` (default `supabase/seed.sql`; only on a
//! fresh database), plus `supabase/webhooks.toml`. [`find_project`] finds the project directory
//! as the CLI does.
//!
//! Loading never refuses a whole project: each statement goes through [`dispatch::dispatch`]
//! to the handler of its [`dispatch::Kind`], which records what happened in the
//! [`report::LoadReport`] (translated, emulated, accepted, skipped with the consequence, or an
//! error when data is affected).

mod alter;
pub mod cliconfig;
mod columns;
mod data;
pub mod discover;
pub mod dispatch;
mod genfn;
pub mod glob;
pub mod identity;
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
pub use cliconfig::CliConfig;
pub use discover::find_project;
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

/// A project: its settings, migrations, seed files and webhook declarations.
#[derive(Clone, Debug, Default)]
pub struct Project {
    /// `project_id` of `supabase/config.toml` (the project's name).
    pub name: Option<String>,
    /// The directory holding `supabase/` (`None` for an embedded project).
    pub dir: Option<PathBuf>,
    /// The settings of `supabase/config.toml` (defaults when there is none).
    pub config: CliConfig,
    /// `(version, source)` sorted by version.
    pub migrations: Vec<(String, Source)>,
    /// The seed files (`[db.seed] sql_paths` expanded, in order), run on a fresh database.
    pub seeds: Vec<Source>,
    /// `supabase/webhooks.toml`.
    pub webhooks: Option<Source>,
    /// What loading `supabase/config.toml` said: keys not emulated, schemas not exposed, seed
    /// patterns matching nothing. Each names its file (and line, when about one key).
    pub warnings: Vec<String>,
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

fn read_migrations(mdir: &Path) -> Result<Vec<(String, Source)>, ProjectError> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(mdir).map_err(|source| ProjectError::Io {
        path: mdir.to_path_buf(),
        source,
    })?;
    for e in entries {
        let e = e.map_err(|source| ProjectError::Io {
            path: mdir.to_path_buf(),
            source,
        })?;
        let name = e.file_name().to_string_lossy().into_owned();
        match migration_version(&name) {
            Some(v) => out.push((
                v,
                Source {
                    path: e.path(),
                    text: read(&e.path())?,
                },
            )),
            None => {
                tracing::warn!("skipping {name}: migration files are named <timestamp>_<name>.sql")
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.path.cmp(&b.1.path)));
    Ok(out)
}

/// The seed files of `[db.seed] sql_paths`, as the CLI expands them: each glob relative to
/// `sb` (the `supabase/` directory), its matches sorted, duplicates dropped. A pattern matching
/// nothing adds a warning (only when `config.toml` exists: without one the mock keeps quiet
/// about a missing `seed.sql`).
fn read_seeds(
    sb: &Path,
    config: &CliConfig,
    warnings: &mut Vec<String>,
) -> Result<Vec<Source>, ProjectError> {
    let seed = &config.db.seed;
    if !seed.enabled {
        return Ok(Vec::new());
    }
    let at = || match (&config.file, seed.line) {
        (Some(f), Some(l)) => format!("{}:{l}", f.display()),
        (Some(f), None) => f.display().to_string(),
        (None, _) => "supabase/config.toml".into(),
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for pattern in &seed.sql_paths {
        let found = glob::glob(sb, pattern).map_err(|_| ProjectError::Config {
            file: config.file.clone().unwrap_or_default(),
            line: seed.line.unwrap_or(1),
            column: 1,
            message: format!(
                "db.seed.sql_paths: failed to apply glob pattern `{pattern}`: syntax error in pattern"
            ),
        })?;
        let files: Vec<PathBuf> = found.into_iter().filter(|p| p.is_file()).collect();
        if files.is_empty() && config.file.is_some() {
            let shown = if pattern.starts_with('/') {
                glob::clean(pattern)
            } else {
                glob::clean(&format!("supabase/{pattern}"))
            };
            warnings.push(format!("{}: no seed files matched pattern: {shown}", at()));
        }
        for f in files {
            if seen.insert(f.clone()) {
                out.push(Source {
                    text: read(&f)?,
                    path: f,
                });
            }
        }
    }
    Ok(out)
}

impl Project {
    /// Reads `dir/supabase/...`: `config.toml` (if any), the migrations, the seed files and
    /// `webhooks.toml`.
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
        let config_file = sb.join("config.toml");
        let (config, mut warnings) = if config_file.is_file() {
            CliConfig::load(&config_file)?
        } else {
            (CliConfig::default(), Vec::new())
        };
        let mdir = sb.join("migrations");
        let migrations = if config.db.migrations_enabled && mdir.is_dir() {
            read_migrations(&mdir)?
        } else {
            Vec::new()
        };
        let seeds = read_seeds(&sb, &config, &mut warnings)?;
        let hooks = sb.join("webhooks.toml");
        let webhooks = if hooks.is_file() {
            Some(Source {
                text: read(&hooks)?,
                path: hooks,
            })
        } else {
            None
        };
        Ok(Project {
            name: config.project_id.clone(),
            dir: Some(dir.to_path_buf()),
            config,
            migrations,
            seeds,
            webhooks,
            warnings,
        })
    }

    /// What the start banner says of the project, less what only the database knows.
    pub fn info(&self) -> ProjectInfo {
        let sb = self.dir.as_ref().map(|d| d.join("supabase"));
        let seeds = self
            .seeds
            .iter()
            .map(|s| {
                sb.as_ref()
                    .and_then(|sb| s.path.strip_prefix(sb).ok())
                    .or_else(|| s.path.file_name().map(Path::new))
                    .unwrap_or(&s.path)
                    .to_path_buf()
            })
            .collect();
        ProjectInfo {
            name: self.name.clone(),
            dir: self.dir.clone(),
            migrations: self.migrations.len(),
            seeds,
            seed_enabled: self.config.db.seed.enabled,
        }
    }
}

/// A project as the start banner describes it (see [`ProjectInfo::summary`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectInfo {
    /// `project_id`.
    pub name: Option<String>,
    /// The directory holding `supabase/` (`None`: embedded).
    pub dir: Option<PathBuf>,
    /// How many migrations.
    pub migrations: usize,
    /// The seed files, relative to `supabase/`.
    pub seeds: Vec<PathBuf>,
    /// `[db.seed] enabled`.
    pub seed_enabled: bool,
}

impl ProjectInfo {
    /// `name (dir/supabase/): 3 migrations, seed.sql, tables: a, b, webhooks: h -> url`, given
    /// the tables the API exposes and the webhooks. The name is `project_id`, else the
    /// directory's name, else `demo` for the embedded project.
    pub fn summary(&self, tables: &[&str], hooks: &[Hook]) -> String {
        let dir_name = self.dir.as_ref().and_then(|d| {
            let abs;
            let named = match d.file_name() {
                Some(_) => d,
                None => {
                    abs = std::path::absolute(d).ok()?;
                    &abs
                }
            };
            named.file_name().map(|n| n.to_string_lossy().into_owned())
        });
        let name = self
            .name
            .clone()
            .or(dir_name)
            .unwrap_or_else(|| "demo".into());
        let place = match &self.dir {
            Some(d) => {
                let s = d.join("supabase").display().to_string();
                format!("{}/", s.strip_prefix("./").unwrap_or(&s))
            }
            None => "embedded".into(),
        };
        let n = self.migrations;
        let mut parts = vec![format!("{n} migration{}", if n == 1 { "" } else { "s" })];
        parts.push(if !self.seed_enabled {
            "seed disabled".into()
        } else if self.seeds.is_empty() {
            "no seed".into()
        } else {
            self.seeds
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        });
        parts.push(if tables.is_empty() {
            "no tables".into()
        } else {
            format!("tables: {}", tables.join(", "))
        });
        parts.push(if hooks.is_empty() {
            "no webhooks".into()
        } else {
            let list: Vec<String> = hooks
                .iter()
                .map(|h| format!("{} -> {}", h.name, h.url))
                .collect();
            format!("webhooks: {}", list.join(", "))
        });
        format!("{name} ({place}): {}", parts.join(", "))
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
        .query_row(
            "SELECT count(*) = 0 FROM sqlite_master WHERE name = '_edgesim_schema_migrations'",
            [],
            |r| r.get(0),
        )
        .map_err(dberr)?;
    db
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
                db.execute(
                    "INSERT INTO _edgesim_schema_migrations (version, name) VALUES (?1, ?2)",
                    [version, &name],
                )
                .map_err(dberr)
            },
            dberr,
        )?;
    }
    for seed in p.seeds.iter().filter(|_| fresh) {
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
