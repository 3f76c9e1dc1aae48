//! Why a JavaScript Worker could not be built.

use std::fmt;
use std::path::PathBuf;

/// One error esbuild reported, at a place in the user's sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as esbuild names it (relative to the project directory when inside it).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// Column as esbuild prints it (0-based).
    pub column: u32,
    /// esbuild's message.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    /// `file:line:column: message`, as esbuild prints the location.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.file.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

/// Why [`build`](crate::build) failed.
#[derive(Debug, thiserror::Error)]
pub enum JsBuildError {
    /// Node.js (18 or newer) or npm is missing; the message says what to install.
    #[error("{0}")]
    NodeMissing(String),
    /// `npm ci` of the toolchain failed (its output is in the message).
    #[error("installing edgesim's JavaScript toolchain failed: {0}")]
    Install(String),
    /// The entry file does not exist.
    #[error("the Worker's entry {} does not exist", .0.display())]
    NoEntry(PathBuf),
    /// esbuild refused the sources: syntax errors, unresolved imports. Each line of the
    /// message is `file:line:column: message`.
    #[error("{}", lines(.0))]
    Syntax(Vec<Diagnostic>),
    /// componentize-js failed (for example the module's top level threw while it was
    /// snapshotted).
    #[error("componentize-js failed: {0}")]
    Componentize(String),
    /// Reading or writing the cache, or running node, failed.
    #[error("{0}")]
    Io(String),
}

fn lines(d: &[Diagnostic]) -> String {
    d.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl JsBuildError {
    /// An I/O error with what was being done.
    pub(crate) fn io(what: impl fmt::Display, e: impl fmt::Display) -> Self {
        JsBuildError::Io(format!("{what}: {e}"))
    }
}
