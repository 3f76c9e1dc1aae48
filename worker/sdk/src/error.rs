//! The SDK's error type.

use std::fmt;

/// Why a KV call failed; each case carries the message production's binding throws
/// (for example `KV PUT failed: 429 Too Many Requests`). Mirrors `edgesim:worker/kv.kv-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvError {
    /// Bad input: key, value, metadata or an option out of bounds.
    Invalid(String),
    /// The per-key write rate limit, or an injected 429.
    TooManyRequests(String),
    /// An injected 5xx, a partition from central, or another store failure.
    Unavailable(String),
    /// More than 1000 KV operations in one invocation.
    TooManyOperations(String),
    /// No namespace is bound under that name.
    NoSuchBinding(String),
}

impl KvError {
    /// The production message carried by the error.
    pub fn message(&self) -> &str {
        match self {
            KvError::Invalid(m)
            | KvError::TooManyRequests(m)
            | KvError::Unavailable(m)
            | KvError::TooManyOperations(m)
            | KvError::NoSuchBinding(m) => m,
        }
    }

    /// True for a 429 (rate limit), the case worth retrying with backoff.
    pub fn is_too_many_requests(&self) -> bool {
        matches!(self, KvError::TooManyRequests(_))
    }
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for KvError {}

/// Everything an SDK call can fail with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A KV binding call failed.
    Kv(KvError),
    /// An outgoing `fetch` failed before a response arrived (refused host, subrequest limit, network).
    Fetch(String),
    /// A body was not valid JSON for the requested type, or a value could not be serialised.
    Json(String),
    /// A body was not valid UTF-8.
    Utf8(String),
    /// A malformed request or response (bad header, method or URL).
    Http(String),
    /// A Worker-defined error.
    Message(String),
}

impl Error {
    /// A Worker-defined error with `message`.
    pub fn msg(message: impl Into<String>) -> Self {
        Error::Message(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Kv(e) => write!(f, "{e}"),
            Error::Fetch(m) => write!(f, "fetch failed: {m}"),
            Error::Json(m) => write!(f, "JSON error: {m}"),
            Error::Utf8(m) => write!(f, "invalid UTF-8: {m}"),
            Error::Http(m) => write!(f, "HTTP error: {m}"),
            Error::Message(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<KvError> for Error {
    fn from(e: KvError) -> Self {
        Error::Kv(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e.to_string())
    }
}

impl From<std::string::FromUtf8Error> for Error {
    fn from(e: std::string::FromUtf8Error) -> Self {
        Error::Utf8(e.to_string())
    }
}

impl From<std::str::Utf8Error> for Error {
    fn from(e: std::str::Utf8Error) -> Self {
        Error::Utf8(e.to_string())
    }
}

impl From<http::Error> for Error {
    fn from(e: http::Error) -> Self {
        Error::Http(e.to_string())
    }
}

impl From<http::header::InvalidHeaderValue> for Error {
    fn from(e: http::header::InvalidHeaderValue) -> Self {
        Error::Http(e.to_string())
    }
}

impl From<http::header::InvalidHeaderName> for Error {
    fn from(e: http::header::InvalidHeaderName) -> Self {
        Error::Http(e.to_string())
    }
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
