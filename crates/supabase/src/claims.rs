//! The request's identity as SQL sees it: the database role PostgREST switches to and the
//! verified JWT claims it puts in `request.jwt.claims`, and the SQL functions reading them.
//!
//! [`RequestAuth`] is per-connection state: [`crate::Supabase`] sets it before a request runs
//! and resets it after, so everything that runs SQL for the request (REST reads and writes, row
//! level security, defaults, triggers, functions) sees the same caller. Outside a request
//! (migrations, seed, `Supabase::execute`) the caller is the database owner with no claims.
//!
//! SQLite has no schema-qualified functions, so the migration translator writes `auth.uid()`
//! as `auth_uid()` (see [`crate::migrate::translate::rewrite`]). Registered functions:
//!
//! | Postgres | SQLite | answers |
//! |---|---|---|
//! | `auth.uid()` | `auth_uid()` | the `sub` claim as a uuid (22P02 when it is not one), else NULL |
//! | `auth.role()` | `auth_role()` | the `role` claim, else NULL |
//! | `auth.email()` | `auth_email()` | the `email` claim, else NULL |
//! | `auth.jwt()` | `auth_jwt()` | all claims as jsonb text, else NULL |
//! | `current_setting(name [, missing_ok])` | same | `request.jwt.claims` (claims JSON), `role` (the role name), `request.method`/`request.path` are not modelled; a legacy `request.jwt.claim.<x>` GUC is NULL, as PostgREST 12+ no longer sets them |

use crate::functions::PGERR;
use crate::gateway::auth::Role;
use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// Who runs the SQL of a request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestAuth {
    /// The API role (`None`: the database owner, as in migrations and the seed).
    pub role: Option<Role>,
    /// The verified JWT claims (`None` outside a request).
    pub claims: Option<Value>,
}

impl RequestAuth {
    /// The Postgres role name (`postgres` for the owner).
    pub fn role_name(&self) -> &'static str {
        match self.role {
            None => "postgres",
            Some(Role::Anon) => "anon",
            Some(Role::Authenticated) => "authenticated",
            Some(Role::ServiceRole) => "service_role",
        }
    }

    fn claim_text(&self, key: &str) -> Option<String> {
        match self.claims.as_ref()?.get(key)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(crate::jsonb::jsonb_text(other)),
        }
    }
}

/// The shared, per-connection request identity.
#[derive(Clone, Debug, Default)]
pub struct AuthState(Arc<Mutex<RequestAuth>>);

impl AuthState {
    /// Replaces the current identity; returns the previous one.
    pub fn set(&self, auth: RequestAuth) -> RequestAuth {
        std::mem::replace(&mut *self.lock(), auth)
    }

    /// The current role (`None`: the owner).
    pub fn role(&self) -> Option<Role> {
        self.lock().role
    }

    /// A copy of the current identity.
    pub fn get(&self) -> RequestAuth {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RequestAuth> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn pg_err(code: &str, msg: String) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(format!("{PGERR}{code}|{msg}").into())
}

fn text_arg(ctx: &Context<'_>, i: usize) -> Option<String> {
    match ctx.get_raw(i) {
        rusqlite::types::ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `auth.uid()`: the `sub` claim cast to uuid.
fn uid(a: &RequestAuth) -> rusqlite::Result<Option<String>> {
    let Some(sub) = a.claim_text("sub").filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    match crate::types::Kind::Text("uuid").from_text(&sub) {
        Ok(rusqlite::types::Value::Text(s)) => Ok(Some(s)),
        _ => Err(pg_err(
            "22P02",
            format!("invalid input syntax for type uuid: \"{sub}\""),
        )),
    }
}

/// `current_setting(name, missing_ok)`.
fn setting(a: &RequestAuth, name: &str, missing_ok: bool) -> rusqlite::Result<Option<String>> {
    match name {
        "request.jwt.claims" if a.claims.is_some() => Ok(a.claims.as_ref().map(|c| c.to_string())),
        "role" => Ok(Some(match a.role {
            None => "none".to_string(),
            Some(_) => a.role_name().to_string(),
        })),
        _ if missing_ok => Ok(None),
        _ => Err(pg_err(
            "42704",
            format!("unrecognized configuration parameter \"{name}\""),
        )),
    }
}

/// Registers `auth_uid`, `auth_role`, `auth_email`, `auth_jwt` and `current_setting` on `conn`.
pub fn register(conn: &Connection, state: &AuthState) -> rusqlite::Result<()> {
    // Not deterministic: the answer changes from one request to the next.
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_INNOCUOUS;
    let s = state.clone();
    conn.create_scalar_function("auth_uid", 0, flags, move |_| uid(&s.lock()))?;
    let s = state.clone();
    conn.create_scalar_function("auth_role", 0, flags, move |_| {
        Ok(s.lock().claim_text("role"))
    })?;
    let s = state.clone();
    conn.create_scalar_function("auth_email", 0, flags, move |_| {
        Ok(s.lock().claim_text("email"))
    })?;
    let s = state.clone();
    conn.create_scalar_function("auth_jwt", 0, flags, move |_| {
        Ok(s.lock().claims.as_ref().map(Value::to_string))
    })?;
    let s = state.clone();
    conn.create_scalar_function("current_setting", 1, flags, move |ctx| {
        let name = text_arg(ctx, 0).unwrap_or_default();
        setting(&s.lock(), &name, false)
    })?;
    let s = state.clone();
    conn.create_scalar_function("current_setting", 2, flags, move |ctx| {
        let name = text_arg(ctx, 0).unwrap_or_default();
        let missing_ok = match ctx.get_raw(1) {
            rusqlite::types::ValueRef::Integer(i) => i != 0,
            rusqlite::types::ValueRef::Text(t) => {
                crate::types::parse_bool(&String::from_utf8_lossy(t)).unwrap_or(false)
            }
            _ => false,
        };
        setting(&s.lock(), &name, missing_ok)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(conn: &Connection, sql: &str) -> rusqlite::Result<Option<String>> {
        conn.query_row(sql, [], |r| r.get(0))
    }

    #[test]
    fn functions_answer_from_the_current_request() {
        let conn = Connection::open_in_memory().unwrap();
        let st = AuthState::default();
        register(&conn, &st).unwrap();
        assert_eq!(q(&conn, "select auth_uid()").unwrap(), None);
        assert_eq!(
            q(&conn, "select current_setting('role')").unwrap().unwrap(),
            "none"
        );
        assert!(q(&conn, "select current_setting('request.jwt.claims')").is_err());
        st.set(RequestAuth {
            role: Some(Role::Authenticated),
            claims: Some(json!({"sub": "8F2A1B3C-0000-4000-8000-000000000001", "role": "authenticated", "email": "a@x.io", "app_metadata": {"plan": "pro"}})),
        });
        assert_eq!(
            q(&conn, "select auth_uid()").unwrap().unwrap(),
            "8f2a1b3c-0000-4000-8000-000000000001"
        );
        assert_eq!(
            q(&conn, "select auth_role()").unwrap().unwrap(),
            "authenticated"
        );
        assert_eq!(q(&conn, "select auth_email()").unwrap().unwrap(), "a@x.io");
        assert_eq!(
            q(&conn, "select auth_jwt() -> 'app_metadata' ->> 'plan'")
                .unwrap()
                .unwrap(),
            "pro"
        );
        assert_eq!(
            q(
                &conn,
                "select current_setting('request.jwt.claims', true) ->> 'sub'"
            )
            .unwrap()
            .unwrap(),
            "8F2A1B3C-0000-4000-8000-000000000001"
        );
        assert_eq!(
            q(
                &conn,
                "select current_setting('request.jwt.claim.sub', true)"
            )
            .unwrap(),
            None
        );
        assert_eq!(
            q(&conn, "select current_setting('role', true)")
                .unwrap()
                .unwrap(),
            "authenticated"
        );
        st.set(RequestAuth {
            role: Some(Role::Authenticated),
            claims: Some(json!({"sub": "not-a-uuid"})),
        });
        let e = q(&conn, "select auth_uid()").unwrap_err().to_string();
        assert!(e.contains("22P02") && e.contains("not-a-uuid"), "{e}");
    }
}
