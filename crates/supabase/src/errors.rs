//! Error values: PostgREST/gateway error bodies, project-loading errors and direct-SQL errors.

use http::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;

/// An error answered over HTTP with the PostgREST body `{code, details, hint, message}`.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// PostgREST (`PGRSTxxx`) or Postgres SQLSTATE code.
    pub code: String,
    /// The `message` field.
    pub message: String,
    /// The `details` field (`null` when absent).
    pub details: Option<String>,
    /// The `hint` field (`null` when absent).
    pub hint: Option<String>,
    /// A structured `details` value (PGRST201's list of relationships); wins over `details`.
    pub details_value: Option<Box<Value>>,
}

impl ApiError {
    /// A new error with no details or hint.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code: code.to_string(),
            message: message.into(),
            details: None,
            hint: None,
            details_value: None,
        }
    }

    /// Sets `details`.
    pub fn details(mut self, d: impl Into<String>) -> Self {
        self.details = Some(d.into());
        self
    }

    /// Sets a structured `details` value.
    pub fn details_json(mut self, d: Value) -> Self {
        self.details_value = Some(Box::new(d));
        self
    }

    /// Sets `hint`.
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }

    /// PGRST100: a query-string part failed to parse. `what` is e.g. `filter (noop.0)`.
    pub fn parse(what: &str, column: usize, details: impl Into<String>) -> Self {
        Self::new(
            400,
            "PGRST100",
            format!("\"failed to parse {what}\" (line 1, column {column})"),
        )
        .details(details)
    }

    /// The JSON body, keys in PostgREST's (alphabetical) order.
    pub fn body(&self) -> Value {
        json!({
            "code": self.code,
            "details": self.details_value.as_deref().cloned().unwrap_or_else(|| json!(self.details)),
            "hint": self.hint,
            "message": self.message,
        })
    }
}

/// Loading a project directory failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The webhook declarations are invalid.
    #[error("{file}: {message}")]
    Webhooks {
        /// The webhooks file.
        file: PathBuf,
        /// Why it is invalid.
        message: String,
    },
    /// The database could not be opened.
    #[error("database: {0}")]
    Db(String),
    /// `supabase/config.toml` is not valid TOML, or an honoured key has the wrong type.
    #[error("{}:{line}:{column}: {message}", file.display())]
    Config {
        /// The config file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong (naming the key, when it is about one).
        message: String,
    },
}

/// Direct SQL (`Supabase::execute`) failed; the transaction was rolled back.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct DbError {
    /// Postgres-style SQLSTATE (e.g. `23505`, `42601`).
    pub code: String,
    /// Postgres-style message.
    pub message: String,
}

impl From<ApiError> for DbError {
    fn from(e: ApiError) -> Self {
        DbError {
            code: e.code,
            message: e.message,
        }
    }
}
