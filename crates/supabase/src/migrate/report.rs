//! The load report: what happened to every statement of a project's migrations and seed.
//!
//! Every statement handler appends exactly one [`ReportEntry`] per statement (through
//! [`super::Ctx`]): translated to SQLite, emulated by the mock, accepted and recorded (it only
//! matters to a Postgres server), skipped with a warning naming the consequence, or an error
//! (skipping it changed data: a seed row is missing).

use std::fmt;
use std::path::PathBuf;

/// What the mock did with one statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Translated to SQLite and run.
    Translated,
    /// Emulated by the mock itself (policies, functions, triggers, types, platform schemas...).
    Emulated,
    /// Accepted and recorded: only matters to a Postgres server (grants to unmodelled roles,
    /// `comment on`, `set`, owners, publications, extensions the mock does not need).
    Accepted,
    /// Not applied; the schema differs from Postgres in the way the note says. A warning.
    Skipped,
    /// Not applied, and data differs: a seed or migration row is missing or wrong.
    Error,
}

impl Outcome {
    /// The word used in report lines.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Translated => "translated",
            Outcome::Emulated => "emulated",
            Outcome::Accepted => "accepted",
            Outcome::Skipped => "skipped",
            Outcome::Error => "ERROR, not applied",
        }
    }

    /// Skipped or error: printed as a warning on every load.
    pub fn is_warning(self) -> bool {
        matches!(self, Outcome::Skipped | Outcome::Error)
    }
}

/// One statement's fate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportEntry {
    /// The migration or seed file.
    pub file: PathBuf,
    /// 1-based line where the statement starts.
    pub line: usize,
    /// What happened.
    pub outcome: Outcome,
    /// The object, as Postgres names it, e.g. "table `posts`", "policy `own` on `posts`",
    /// "function `search`", "insert into `posts`".
    pub object: String,
    /// How it was handled (translated/emulated/accepted) or the consequence (skipped/error),
    /// e.g. "`rpc/f` answers PGRST202".
    pub note: String,
    /// Postgres SQLSTATE for errors that came from running the statement (for
    /// `Supabase::execute`), `0A000` for unsupported statements.
    pub code: Option<String>,
    /// Postgres's error message, when running the statement failed (for `Supabase::execute`).
    pub pg_message: Option<String>,
    /// The statement's first line, for context.
    pub statement: String,
}

impl fmt::Display for ReportEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {} {}",
            self.file.display(),
            self.line,
            self.object,
            self.outcome.word()
        )?;
        if !self.note.is_empty() {
            write!(f, ": {}", self.note)?;
        }
        Ok(())
    }
}

/// The report of one load (migrations, seed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// One entry per statement, in load order.
    pub entries: Vec<ReportEntry>,
}

impl LoadReport {
    /// Entries with outcome `o`.
    pub fn with(&self, o: Outcome) -> impl Iterator<Item = &ReportEntry> {
        self.entries.iter().filter(move |e| e.outcome == o)
    }

    /// Skipped statements and errors.
    pub fn warnings(&self) -> impl Iterator<Item = &ReportEntry> {
        self.entries.iter().filter(|e| e.outcome.is_warning())
    }

    /// Whether a data statement was affected (an [`Outcome::Error`]).
    pub fn has_errors(&self) -> bool {
        self.entries.iter().any(|e| e.outcome == Outcome::Error)
    }

    /// Counts per outcome, in [`Outcome`] order.
    pub fn counts(&self) -> Vec<(Outcome, usize)> {
        [
            Outcome::Translated,
            Outcome::Emulated,
            Outcome::Accepted,
            Outcome::Skipped,
            Outcome::Error,
        ]
        .into_iter()
        .map(|o| (o, self.with(o).count()))
        .collect()
    }

    /// One line of counts: "12 translated, 3 emulated, 2 accepted, 1 skipped, 0 errors".
    pub fn summary(&self) -> String {
        let c = self.counts();
        format!(
            "{} translated, {} emulated, {} accepted, {} skipped, {} errors",
            c[0].1, c[1].1, c[2].1, c[3].1, c[4].1
        )
    }

    /// The warnings (skipped, errors), one per line; empty when there are none.
    pub fn render_warnings(&self) -> String {
        self.warnings().map(|e| format!("warning: {e}\n")).collect()
    }

    /// The full report: every entry grouped by outcome, then the summary.
    pub fn render_full(&self) -> String {
        let mut out = String::new();
        for (o, n) in self.counts() {
            if n == 0 {
                continue;
            }
            out.push_str(&format!("{} ({n}):\n", o.word()));
            for e in self.with(o) {
                out.push_str(&format!("  {e}\n"));
            }
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }
}
