//! Production limits, input validation and the exact error strings a Worker sees.
//!
//! Strings follow workerd's `kv.c++` (`KV <METHOD> failed: <status> <statusText>`, key-name
//! `TypeError`s) and the backend messages Miniflare mirrors (reference §1.6).

use crate::types::OpKind;
use serde::Serialize;

/// Longest key, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Largest value: 25 MiB.
pub const MAX_VALUE_BYTES: usize = 25 * 1024 * 1024;
/// Largest serialised metadata, in bytes.
pub const MAX_METADATA_BYTES: usize = 1024;
/// Smallest `cacheTtl`, seconds.
pub const MIN_CACHE_TTL_S: u64 = 30;
/// `cacheTtl` when a read names none, seconds.
pub const DEFAULT_CACHE_TTL_S: u64 = 60;
/// Largest `cacheTtl` (JavaScript's `Number.MAX_SAFE_INTEGER`).
pub const MAX_CACHE_TTL_S: u64 = (1 << 53) - 1;
/// Smallest `expirationTtl`, and how far in the future an `expiration` must be, seconds.
pub const MIN_EXPIRATION_TTL_S: u64 = 60;
/// Most keys one `list` page returns (and its default).
pub const MAX_LIST_LIMIT: u64 = 1000;
/// Most keys in one bulk get.
pub const MAX_BULK_KEYS: usize = 100;
/// Largest bulk-get response.
pub const MAX_BULK_BYTES: usize = 25 * 1000 * 1000;
/// Minimum time between two writes to one key, ms (1 write per second per key).
pub const WRITE_INTERVAL_MS: u64 = 1000;
/// KV operations per Worker invocation (a bulk get counts as one).
pub const MAX_OPS_PER_INVOCATION: u32 = 1000;

/// Why a KV operation failed. `Display` is the message production's binding throws.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum KvError {
    /// Bad input (production's 400, 413, 414 and key-name `TypeError`s).
    #[error("{0}")]
    Invalid(String),
    /// Per-key write rate limit or an injected 429.
    #[error("{0}")]
    TooManyRequests(String),
    /// An injected 5xx or a partition from central.
    #[error("{0}")]
    Unavailable(String),
    /// More than 1000 KV operations in one invocation.
    #[error("{0}")]
    TooManyOperations(String),
    /// No namespace bound under that name (or an unknown colo).
    #[error("{0}")]
    NoSuchBinding(String),
}

impl KvError {
    /// The message, as `Display` prints it.
    pub fn message(&self) -> &str {
        match self {
            KvError::Invalid(m)
            | KvError::TooManyRequests(m)
            | KvError::Unavailable(m)
            | KvError::TooManyOperations(m)
            | KvError::NoSuchBinding(m) => m,
        }
    }
}

/// `KV <METHOD> failed: <status> <text>`, as workerd formats a backend error.
pub fn failed(op: OpKind, status: u16, text: &str) -> String {
    format!("KV {} failed: {status} {text}", op.method())
}

/// The reason phrase for the statuses the model produces.
pub fn status_text(status: u16) -> &'static str {
    match status {
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

/// A backend failure with `status` (429 → `TooManyRequests`, anything else → `Unavailable`).
pub fn backend_error(op: OpKind, status: u16) -> KvError {
    let msg = failed(op, status, status_text(status));
    if status == 429 {
        KvError::TooManyRequests(msg)
    } else {
        KvError::Unavailable(msg)
    }
}

/// The per-key write limit: `KV PUT failed: 429 Too Many Requests`.
pub fn rate_limited(op: OpKind) -> KvError {
    backend_error(op, 429)
}

/// Key-name rules the runtime checks before any backend call.
pub fn validate_key(op: OpKind, key: &str) -> Result<(), KvError> {
    match key {
        "" => Err(KvError::Invalid("Key name cannot be empty.".into())),
        "." => Err(KvError::Invalid(
            "\".\" is not allowed as a key name.".into(),
        )),
        ".." => Err(KvError::Invalid(
            "\"..\" is not allowed as a key name.".into(),
        )),
        k if k.len() > MAX_KEY_BYTES => Err(KvError::Invalid(failed(
            op,
            414,
            &format!(
                "UTF-8 encoded length of {} exceeds key length limit of {MAX_KEY_BYTES}.",
                k.len()
            ),
        ))),
        _ => Ok(()),
    }
}

/// Key rules of a bulk get, as the backend words them.
pub fn validate_bulk_key(key: &str) -> Result<(), KvError> {
    let op = OpKind::GetBulk;
    if key.is_empty() || key == "." || key == ".." {
        return Err(KvError::Invalid(failed(
            op,
            400,
            &format!("Key name {key} is not legal"),
        )));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(KvError::Invalid(failed(
            op,
            414,
            &format!("Encoded length of {} is too long", key.len()),
        )));
    }
    Ok(())
}

/// The number of keys in a bulk get: 1 to 100.
pub fn validate_bulk_count(n: usize) -> Result<(), KvError> {
    let op = OpKind::GetBulk;
    if n == 0 {
        Err(KvError::Invalid(failed(
            op,
            400,
            "You must request a minimum of 1 key",
        )))
    } else if n > MAX_BULK_KEYS {
        Err(KvError::Invalid(failed(
            op,
            400,
            "You can request a maximum of 100 keys",
        )))
    } else {
        Ok(())
    }
}

/// The result type of a bulk get: only `text` and `json` are allowed.
pub fn validate_bulk_type(ty: &str) -> Result<(), KvError> {
    match ty {
        "text" | "json" => Ok(()),
        other => Err(KvError::Invalid(failed(
            OpKind::GetBulk,
            400,
            &format!("\"{other}\" is not a valid type. Use \"json\" or \"text\""),
        ))),
    }
}

/// Refusal of a bulk `json` get when a value does not parse as JSON.
pub fn bulk_not_json() -> KvError {
    KvError::Invalid(failed(
        OpKind::GetBulk,
        400,
        "At least one of the requested keys corresponds to a non-json value",
    ))
}

/// Refusal of a bulk get whose values add up to more than 25 MB.
pub fn bulk_too_large() -> KvError {
    KvError::Invalid(failed(
        OpKind::GetBulk,
        413,
        "Total size of request exceeds the limit of 25MB",
    ))
}

/// The runtime's type check on `get(key, type)`.
pub fn validate_get_type(ty: &str) -> Result<(), KvError> {
    match ty {
        "text" | "json" | "arrayBuffer" | "stream" => Ok(()),
        _ => Err(KvError::Invalid(
            "Unknown response type. Possible types are \"text\", \"arrayBuffer\", \"json\", and \"stream\"."
                .into(),
        )),
    }
}

/// Checks a read's `cacheTtl` (at least 30 s) and caps it at `Number.MAX_SAFE_INTEGER`.
pub fn cache_ttl(op: OpKind, requested: Option<u64>) -> Result<Option<u64>, KvError> {
    match requested {
        None => Ok(None),
        Some(t) if t < MIN_CACHE_TTL_S => Err(KvError::Invalid(failed(
            op,
            400,
            &format!("Invalid cache_ttl of {t}. Cache TTL must be at least {MIN_CACHE_TTL_S}."),
        ))),
        Some(t) => Ok(Some(t.min(MAX_CACHE_TTL_S))),
    }
}

/// The absolute expiry (epoch seconds) a put asks for; `expiration_ttl` wins over `expiration`.
pub fn expiration(
    op: OpKind,
    expiration: Option<u64>,
    expiration_ttl: Option<u64>,
    now_s: u64,
) -> Result<Option<u64>, KvError> {
    let bad = |msg: String| Err(KvError::Invalid(failed(op, 400, &msg)));
    if let Some(ttl) = expiration_ttl {
        if ttl == 0 {
            return bad(format!(
                "Invalid expiration_ttl of {ttl}. Please specify integer greater than 0."
            ));
        }
        if ttl < MIN_EXPIRATION_TTL_S {
            return bad(format!(
                "Invalid expiration_ttl of {ttl}. Expiration TTL must be at least {MIN_EXPIRATION_TTL_S}."
            ));
        }
        return Ok(Some(now_s.saturating_add(ttl)));
    }
    if let Some(at) = expiration {
        if at <= now_s {
            return bad(format!(
                "Invalid expiration of {at}. Please specify integer greater than the current number of seconds since the UNIX epoch."
            ));
        }
        if at < now_s + MIN_EXPIRATION_TTL_S {
            return bad(format!(
                "Invalid expiration of {at}. Expiration times must be at least {MIN_EXPIRATION_TTL_S} seconds in the future."
            ));
        }
        return Ok(Some(at));
    }
    Ok(None)
}

/// Value size: at most 25 MiB.
pub fn validate_value(op: OpKind, len: usize) -> Result<(), KvError> {
    if len > MAX_VALUE_BYTES {
        return Err(KvError::Invalid(failed(
            op,
            413,
            &format!("Value length of {len} exceeds limit of {MAX_VALUE_BYTES}."),
        )));
    }
    Ok(())
}

/// Metadata: its serialised JSON at most 1024 bytes. Returns the serialised form.
pub fn validate_metadata(op: OpKind, metadata: &serde_json::Value) -> Result<String, KvError> {
    let json = metadata.to_string();
    if json.len() > MAX_METADATA_BYTES {
        return Err(KvError::Invalid(failed(
            op,
            413,
            &format!(
                "Metadata length of {} exceeds limit of {MAX_METADATA_BYTES}.",
                json.len()
            ),
        )));
    }
    Ok(json)
}

/// The page size of a list. Like the runtime, a limit of 0 means "not set" (1000).
pub fn list_limit(limit: Option<u64>) -> Result<u64, KvError> {
    match limit {
        None | Some(0) => Ok(MAX_LIST_LIMIT),
        Some(l) if l > MAX_LIST_LIMIT => Err(KvError::Invalid(failed(
            OpKind::List,
            400,
            &format!(
                "Invalid key_count_limit of {l}. Please specify an integer less than {MAX_LIST_LIMIT}."
            ),
        ))),
        Some(l) => Ok(l),
    }
}

/// A list prefix longer than a key can be.
pub fn validate_prefix(prefix: &str) -> Result<(), KvError> {
    if prefix.len() > MAX_KEY_BYTES {
        return Err(KvError::Invalid(failed(
            OpKind::List,
            414,
            &format!(
                "UTF-8 encoded length of {} exceeds key length limit of {MAX_KEY_BYTES}.",
                prefix.len()
            ),
        )));
    }
    Ok(())
}

/// A list cursor the model did not issue. (The wording is ours: no production message for a bad
/// cursor is documented or quoted in `reference/`.)
pub fn invalid_cursor() -> KvError {
    KvError::Invalid(failed(OpKind::List, 400, "Invalid cursor"))
}

/// The message past the 1000-operations-per-invocation limit: production's error when a Worker
/// exhausts its per-invocation binding operations (KV, D1, R2), as public Workers projects quote
/// it from their logs (`Error: Too many API requests by single worker invocation.`).
pub const TOO_MANY_OPERATIONS: &str = "Too many API requests by single worker invocation.";

/// Counts KV operations of one Worker invocation; the host keeps one per request.
#[derive(Clone, Debug)]
pub struct OpBudget {
    max: u32,
    used: u32,
}

impl OpBudget {
    /// A budget of `max` operations (production: [`MAX_OPS_PER_INVOCATION`]).
    pub fn new(max: u32) -> Self {
        Self { max, used: 0 }
    }

    /// Counts one operation; fails once `max` have been used (a bulk get is one operation).
    pub fn charge(&mut self) -> Result<(), KvError> {
        if self.used >= self.max {
            return Err(KvError::TooManyOperations(TOO_MANY_OPERATIONS.into()));
        }
        self.used += 1;
        Ok(())
    }

    /// Operations counted so far.
    pub fn used(&self) -> u32 {
        self.used
    }
}

impl Default for OpBudget {
    fn default() -> Self {
        Self::new(MAX_OPS_PER_INVOCATION)
    }
}
