//! GoTrue's error responses (`internal/api/errors.go`, `errorcodes.go`).
//!
//! GoTrue renders an error in one of two shapes, chosen by the request's
//! `X-Supabase-Api-Version` header (supabase-js sends `2024-01-01`):
//! - `2024-01-01` or later: `{"code": "<error_code>", "message": "..."}`, the header echoed back;
//! - no header (the initial version): `{"code": <status>, "error_code": "<error_code>", "msg": "..."}`.
//!
//! A weak password adds `"weak_password": {"reasons": [...]}` to either shape. supabase-js reads
//! `code` (or `error_code`) as `AuthApiError.code` and `message`/`msg` as its message.

use bytes::Bytes;
use http::{Response, header};
use serde_json::{Value, json};

/// The API version header supabase-js sends and GoTrue echoes.
pub const API_VERSION_HEADER: &str = "x-supabase-api-version";

/// An error as GoTrue answers it: HTTP status, `error_code` and message.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthError {
    /// HTTP status.
    pub status: u16,
    /// GoTrue's `error_code` (`invalid_credentials`, `weak_password`, ...).
    pub code: &'static str,
    /// The message (`msg`, or `message` in the 2024-01-01 shape).
    pub msg: String,
    /// `weak_password.reasons`, for `weak_password`.
    pub reasons: Vec<&'static str>,
}

impl AuthError {
    /// An error with `status`, `code` and `msg`.
    pub fn new(status: u16, code: &'static str, msg: impl Into<String>) -> Self {
        AuthError {
            status,
            code,
            msg: msg.into(),
            reasons: Vec::new(),
        }
    }

    /// 400 `validation_failed`.
    pub fn validation(msg: impl Into<String>) -> Self {
        Self::new(400, "validation_failed", msg)
    }

    /// 400 `invalid_credentials` / "Invalid login credentials".
    pub fn invalid_credentials() -> Self {
        Self::new(400, "invalid_credentials", "Invalid login credentials")
    }

    /// 404 `user_not_found` / "User not found".
    pub fn user_not_found() -> Self {
        Self::new(404, "user_not_found", "User not found")
    }

    /// 500 `unexpected_failure` with GoTrue's "Database error ..." message; the SQL error
    /// (e.g. a failing trigger on `auth.users`) is logged, as GoTrue logs it.
    pub fn database(what: &str, cause: impl std::fmt::Display) -> Self {
        tracing::warn!("auth: database error {what}: {cause}");
        Self::new(500, "unexpected_failure", format!("Database error {what}"))
    }

    /// A feature of GoTrue the mock does not emulate (422; `code` names GoTrue's code for the
    /// feature being off where it has one, else `not_emulated`).
    pub fn not_emulated(code: &'static str, what: &str) -> Self {
        Self::new(
            422,
            code,
            format!(
                "{what} is not emulated by edgesim's mock Supabase Auth (it emulates sign-up, \
                 password and refresh-token sign-in, anonymous sign-in, /user, /logout and the \
                 admin users API)"
            ),
        )
    }

    /// The response in the shape `api_version` asks for (see the module docs).
    pub fn response(&self, api_version: Option<&str>) -> Response<Bytes> {
        let dated = api_version.is_some_and(|v| v >= "2024-01-01" && valid_version(v));
        let mut body = if dated {
            json!({"code": self.code, "message": self.msg})
        } else {
            json!({"code": self.status, "error_code": self.code, "msg": self.msg})
        };
        if !self.reasons.is_empty() {
            body["weak_password"] = json!({"reasons": self.reasons});
        }
        let mut b = Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, "application/json");
        if dated && let Some(v) = api_version {
            b = b.header(API_VERSION_HEADER, v);
        }
        b.body(Bytes::from(body.to_string())).unwrap_or_default()
    }
}

/// `YYYY-MM-DD`, as GoTrue parses the version header.
fn valid_version(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// A JSON success response.
pub fn ok(status: u16, body: &Value) -> Response<Bytes> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Bytes::from(body.to_string()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes() {
        let e = AuthError::invalid_credentials();
        let legacy: Value = serde_json::from_slice(e.response(None).body()).unwrap();
        assert_eq!(
            legacy,
            json!({"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"})
        );
        let r = e.response(Some("2024-01-01"));
        assert_eq!(r.headers()[API_VERSION_HEADER], "2024-01-01");
        let dated: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(
            dated,
            json!({"code": "invalid_credentials", "message": "Invalid login credentials"})
        );
        assert!(!valid_version("2024-1-01x"));
    }
}
