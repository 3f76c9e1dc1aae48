//! Supabase Auth (GoTrue) as supabase-js and server code call it, under `/auth/v1`, against the
//! project's own `auth.users` (so triggers on `auth.users`, such as the usual
//! `handle_new_user`, fire, and deleting a user cascades through foreign keys to it).
//!
//! Emulated (GoTrue v2 behaviour with the Supabase CLI's local defaults: email confirmations
//! off, so sign-up returns a session at once):
//! - `POST /signup` (email + password + `data`; with neither email nor phone: anonymous
//!   sign-in, when `[auth] enable_anonymous_sign_ins = true`), `POST /token?grant_type=password`
//!   and `grant_type=refresh_token` (rotation, see [`tokens`]), `GET`/`PUT /user`,
//!   `POST /logout?scope=global|local|others`, `GET /settings`, `GET /health`;
//! - admin, with a `service_role` (or `supabase_admin`) bearer: `GET`/`POST /admin/users`,
//!   `GET`/`PUT`/`DELETE /admin/users/{id}`.
//!
//! Not emulated (a 422 naming the feature): OAuth providers (`/authorize`, `/callback`,
//! `id_token`/`pkce` grants), email and SMS delivery (`/otp`, `/magiclink`, `/verify`,
//! `/recover`, `/resend`, `/invite`, `/reauthenticate`, `/admin/generate_link`), MFA
//! (`/factors`), SSO/SAML (`/sso`, `/saml`), identity linking (`/user/identities`).
//!
//! GoTrue facts this relies on (from `supabase/auth`'s `internal/api`):
//! - errors: see [`errors`] (two body shapes picked by `X-Supabase-Api-Version`);
//! - `/signup` (the password is checked before the email): invalid email 400
//!   `validation_failed` "Unable to validate email address: invalid format"; no password 422 `validation_failed` "Signup requires a valid password"; shorter
//!   than `[auth] minimum_password_length` (6) 422 `weak_password` "Password should be at least
//!   6 characters." with `weak_password.reasons = ["length"]`; more than 72 bytes (bcrypt's
//!   limit) 400 `validation_failed` "Password cannot be longer than 72 characters"; a taken
//!   email 422 `user_already_exists` "User already registered"; anonymous sign-ins off 422
//!   `anonymous_provider_disabled` "Anonymous sign-ins are disabled"; `[auth] enable_signup =
//!   false` 422 `signup_disabled` "Signups not allowed for this instance";
//! - `app_metadata` starts as `{"provider": "email", "providers": ["email"]}` (`anonymous` for
//!   anonymous users); the identity's data (`sub`, `email`, `email_verified`, `phone_verified`)
//!   is merged into `user_metadata` after the insert;
//! - `/token?grant_type=password` (`token.go`, in this order): neither email nor phone 400
//!   `validation_failed` "missing email or phone"; unknown email or a user without password 400
//!   `invalid_credentials` "Invalid login credentials"; a banned user (`banned_until` in the
//!   future) 400 `user_banned` "User is banned"; a wrong password `invalid_credentials`; an
//!   unconfirmed email 400 `email_not_confirmed` "Email not confirmed"; another grant type 400
//!   `invalid_credentials` "unsupported_grant_type";
//! - bearer checks (`auth.go`, `/user`, `/logout`): none 401 `no_authorization` "This endpoint
//!   requires a Bearer token"; bad or expired 403 `bad_jwt` "invalid JWT: unable to parse or
//!   verify signature, <golang-jwt's reason>" (`token has invalid claims: token is expired`,
//!   `token signature is invalid: signature is invalid`, ...; no leeway on `exp`); no `sub` 403
//!   `bad_jwt` "invalid claim: missing sub claim", a `sub` that is not a uuid 400 `bad_jwt`; a
//!   deleted session 403 `session_not_found`; a deleted user 403 `user_not_found` "User from sub
//!   claim in JWT does not exist"; admin routes with another role 403 `not_admin` "User not
//!   allowed";
//! - `/logout`: scope checked after authentication (400 `validation_failed` "Unsupported logout
//!   scope \"x\""); without a `session_id` claim every session of the user ends; 204;
//! - admin (`admin.go`): a malformed id 404 `validation_failed` "user_id must be an UUID", an
//!   unknown one 404 `user_not_found` "User not found"; create without email and phone 400
//!   `validation_failed` "Cannot create a user without either an email or phone", a taken email
//!   422 `email_exists`; `app_metadata` is `{provider, providers}` merged with the given one;
//!   `ban_duration` is a Go duration (`"24h"`) or `"none"`; list is `created_at desc`; delete
//!   answers `{}`;
//! - passwords: bcrypt, cost 10, `$2a$` (Go's `golang.org/x/crypto/bcrypt`).
//!
//! Deviations: tokens never come from cookies; `aud` is not checked against the request's
//! `X-JWT-AUD`; the `user_metadata` a trigger sees on INSERT is the sign-up `data` (as in
//! GoTrue); a user seeded with the mock's pgcrypto `crypt()` stand-in can sign in with its
//! password; an email is looked up case-insensitively whatever the row's `aud`.

mod account;
mod admin;
pub mod errors;
pub mod tokens;
pub mod users;

use crate::Supabase;
use crate::db::Db;
use bytes::Bytes;
use errors::AuthError;
use http::request::Parts;
use http::{HeaderMap, Method, Response, header};
use serde_json::{Value, json};
use tokens::Issuer;
use users::User;

/// The GoTrue version `/health` reports.
pub const GOTRUE_VERSION: &str = "v2.177.0";

/// `[auth]` settings of `supabase/config.toml` the Auth API honours.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// `enable_signup` (default true).
    pub enable_signup: bool,
    /// `enable_anonymous_sign_ins` (default false, as the CLI's template).
    pub anonymous: bool,
    /// `minimum_password_length` (default 6).
    pub min_password: usize,
}

impl AuthSettings {
    /// The settings the project opened with.
    pub fn load(sb: &Supabase) -> Self {
        sb.inner.auth.clone()
    }

    /// Reads the settings from the project's `config.toml` (defaults when there is none or a
    /// key is absent or of another type; the file was validated when the project loaded).
    pub fn from_config(config: &crate::migrate::CliConfig) -> Self {
        let mut s = AuthSettings {
            enable_signup: true,
            anonymous: false,
            min_password: 6,
        };
        let Some(file) = config.file.as_ref() else {
            return s;
        };
        let Some(auth) = std::fs::read_to_string(file)
            .ok()
            .and_then(|t| t.parse::<toml::Table>().ok())
            .and_then(|t| t.get("auth").and_then(|a| a.as_table()).cloned())
        else {
            return s;
        };
        if let Some(b) = auth.get("enable_signup").and_then(toml::Value::as_bool) {
            s.enable_signup = b;
        }
        if let Some(b) = auth
            .get("enable_anonymous_sign_ins")
            .and_then(toml::Value::as_bool)
        {
            s.anonymous = b;
        }
        if let Some(n) = auth
            .get("minimum_password_length")
            .and_then(toml::Value::as_integer)
        {
            s.min_password = n.clamp(0, 72) as usize;
        }
        s
    }
}

/// One request to the Auth API.
pub(crate) struct Req<'a> {
    sb: &'a Supabase,
    method: &'a Method,
    headers: &'a HeaderMap,
    query: &'a [(String, String)],
    body: &'a Bytes,
    issuer: Issuer,
}

impl Req<'_> {
    fn param(&self, k: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON body (an empty body is `{}`); 400 `bad_json` when it is not JSON.
    fn json(&self) -> Result<Value, AuthError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        let v: Value = serde_json::from_slice(self.body).map_err(|e| {
            AuthError::new(
                400,
                "bad_json",
                format!("Could not parse request body as JSON: {e}"),
            )
        })?;
        if v.is_object() {
            Ok(v)
        } else {
            Err(AuthError::new(
                400,
                "bad_json",
                "Could not parse request body as JSON: expected an object",
            ))
        }
    }

    fn bearer(&self) -> Option<String> {
        let a = self.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, rest) = a.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let t = rest.trim();
        // The gateway turns the new-style keys into the legacy key JWTs.
        Some(if t.starts_with("sb_secret_") {
            crate::SERVICE_ROLE_KEY.to_string()
        } else if t.starts_with("sb_publishable_") {
            crate::ANON_KEY.to_string()
        } else {
            t.to_string()
        })
    }

    /// The verified claims of the bearer token (GoTrue's `requireAuthentication`).
    fn claims(&self) -> Result<Value, AuthError> {
        let Some(token) = self.bearer() else {
            return Err(AuthError::new(
                401,
                "no_authorization",
                "This endpoint requires a Bearer token",
            ));
        };
        let now = self.issuer.now_ms / 1000;
        let bad = |why: &str| {
            AuthError::new(
                403,
                "bad_jwt",
                format!("invalid JWT: unable to parse or verify signature, {why}"),
            )
        };
        let (_, claims) =
            crate::gateway::auth::verify_claims(&token, crate::JWT_SECRET.as_bytes(), now)
                .map_err(|e| {
                    // golang-jwt's wording for what PostgREST's check found.
                    let m = e.body["message"].as_str().unwrap_or("");
                    bad(match m {
                        "JWT expired" => "token has invalid claims: token is expired",
                        "JWT not yet valid" => "token has invalid claims: token is not valid yet",
                        "JWT issued at future" => {
                            "token has invalid claims: token used before issued"
                        }
                        "JWT cryptographic operation failed" => {
                            "token signature is invalid: signature is invalid"
                        }
                        m if m.starts_with("Expected 3 parts") => {
                            "token is malformed: token contains an invalid number of segments"
                        }
                        m if m.contains("algorithm") || m.contains("key type") => {
                            "token is unverifiable: signing method is invalid"
                        }
                        _ => "token is malformed: could not parse the claims",
                    })
                })?;
        // GoTrue allows no leeway on `exp`.
        if claims["exp"].as_f64().is_some_and(|exp| now as f64 > exp) {
            return Err(bad("token has invalid claims: token is expired"));
        }
        Ok(claims)
    }

    /// The signed-in user and session of the bearer token.
    fn user(&self, db: &Db) -> Result<(User, Option<String>), AuthError> {
        let claims = self.claims()?;
        let sub = claims["sub"].as_str().unwrap_or("");
        if sub.is_empty() {
            return Err(AuthError::new(
                403,
                "bad_jwt",
                "invalid claim: missing sub claim",
            ));
        }
        if !admin::is_uuid(sub) {
            return Err(AuthError::new(
                400,
                "bad_jwt",
                "invalid claim: sub claim must be a UUID",
            ));
        }
        let Some(user) = users::by_id(db, sub)? else {
            return Err(AuthError::new(
                403,
                "user_not_found",
                "User from sub claim in JWT does not exist",
            ));
        };
        let session = claims["session_id"].as_str().map(str::to_string);
        if let Some(s) = &session
            && !tokens::session_exists(db, s)?
        {
            return Err(AuthError::new(
                403,
                "session_not_found",
                "Session from session_id claim in JWT does not exist",
            ));
        }
        Ok((user, session))
    }

    /// GoTrue's `requireAdmin`: the bearer's role must be `service_role` or `supabase_admin`.
    fn require_admin(&self) -> Result<(), AuthError> {
        let claims = self.claims()?;
        match claims["role"].as_str() {
            Some("service_role" | "supabase_admin") => Ok(()),
            _ => Err(AuthError::new(403, "not_admin", "User not allowed")),
        }
    }
}

/// Whether `user` is banned at `now_ms`.
pub fn banned(user: &User, now_ms: u64) -> bool {
    user.banned_until
        .as_deref()
        .and_then(crate::time::parse_timestamp)
        .is_some_and(|us| us > (now_ms as i64) * 1000)
}

/// The DDL of `auth.sessions`, `auth.refresh_tokens` and `auth.mfa_amr_claims` (the part of the
/// platform's `auth.sql` after its `@edgesim:sessions` marker).
fn sessions_ddl() -> &'static str {
    let all = include_str!("../migrate/platform/auth.sql");
    all.split_once("-- @edgesim:sessions")
        .and_then(|(_, rest)| rest.split_once('\n'))
        .map_or("", |(_, rest)| rest)
}

/// Creates the session tables in a database made before they were part of the platform schema
/// (`edgesim supabase --db FILE` with an older file).
fn ensure_tables(sb: &Supabase) -> Result<(), AuthError> {
    let present = {
        let db = crate::lock(&sb.inner.db);
        db.query_row(
            "SELECT count(*) = 3 FROM sqlite_master WHERE type = 'table' AND name IN \
                 ('auth.sessions', 'auth.refresh_tokens', 'auth.mfa_amr_claims')",
            [],
            |r| r.get::<_, bool>(0),
        )
        .map_err(|e| AuthError::database("querying schema", e))?
    };
    if !present {
        sb.execute(sessions_ddl())
            .map_err(|e| AuthError::database("creating the auth.sessions tables", e))?;
    }
    Ok(())
}

/// Runs `f` in one transaction as the database owner (GoTrue's `supabase_auth_admin`); the
/// row changes it made reach Database Webhooks and the change hook after the commit.
fn transaction<T>(
    sb: &Supabase,
    f: impl FnOnce(&Db) -> Result<T, AuthError>,
) -> Result<T, AuthError> {
    let mut db = crate::lock(&sb.inner.db);
    let r = db.as_caller(None, |db| {
        db.transaction(
            false,
            |db| f(db),
            |e| AuthError::database("querying schema", e),
        )
    });
    let (v, changes) = r?;
    let committed = sb.committed(&db, &changes);
    drop(db);
    sb.publish(committed);
    Ok(v)
}

/// Serves `/auth/v1<sub>` (the gateway has checked the `apikey`).
pub fn handle(
    sb: &Supabase,
    parts: &Parts,
    sub: &str,
    query: &[(String, String)],
    body: &Bytes,
) -> Response<Bytes> {
    let version = parts
        .headers
        .get(errors::API_VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let req = Req {
        sb,
        method: &parts.method,
        headers: &parts.headers,
        query,
        body,
        issuer: Issuer {
            now_ms: sb.inner.clock.now_ms(),
            expiry_s: sb.jwt_expiry_s(),
            iss: format!("http://127.0.0.1:{}/auth/v1", sb.api_port()),
        },
    };
    match ensure_tables(sb).and_then(|()| route(&req, sub.trim_end_matches('/'))) {
        Ok(resp) => resp,
        Err(e) => e.response(version.as_deref()),
    }
}

fn route(req: &Req<'_>, sub: &str) -> Result<Response<Bytes>, AuthError> {
    let m = req.method;
    let segs: Vec<&str> = sub.trim_start_matches('/').split('/').collect();
    match (m.as_str(), segs.as_slice()) {
        ("GET", ["health"]) => Ok(errors::ok(
            200,
            &json!({"version": GOTRUE_VERSION, "name": "GoTrue", "description": "GoTrue is a user registration and authentication API"}),
        )),
        ("GET", ["settings"]) => Ok(errors::ok(200, &settings(req.sb))),
        ("POST", ["signup"]) => account::signup(req),
        ("POST", ["token"]) => account::token(req),
        ("GET", ["user"]) => account::get_user(req),
        ("PUT", ["user"]) => account::put_user(req),
        ("POST", ["logout"]) => account::logout(req),
        ("GET", ["admin", "users"]) => admin::list(req),
        ("POST", ["admin", "users"]) => admin::create(req),
        ("GET", ["admin", "users", id]) => admin::get(req, id),
        ("PUT", ["admin", "users", id]) => admin::update(req, id),
        ("DELETE", ["admin", "users", id]) => admin::delete(req, id),
        (_, [first, ..]) => Err(not_emulated(m, sub, first, &segs)),
        _ => Err(not_emulated(m, sub, "", &segs)),
    }
}

fn not_emulated(m: &Method, sub: &str, first: &str, segs: &[&str]) -> AuthError {
    let what = format!("{m} /auth/v1{sub}");
    let code = match first {
        "otp" | "magiclink" => "otp_disabled",
        "authorize" | "callback" => "provider_disabled",
        "verify" | "recover" | "resend" | "invite" | "reauthenticate" | "factors" | "sso"
        | "saml" | "generate_link" => "not_emulated",
        "admin" if segs.len() > 1 => "not_emulated",
        "user" if segs.len() > 1 => "not_emulated",
        _ => {
            return AuthError::new(
                404,
                "not_found",
                format!("{what}: no such route in edgesim's mock Supabase Auth"),
            );
        }
    };
    let feature = match first {
        "otp" | "magiclink" => "Passwordless sign-in (email and SMS delivery)",
        "authorize" | "callback" => "OAuth providers",
        "verify" | "recover" | "resend" | "invite" | "reauthenticate" | "generate_link" => {
            "Email and SMS delivery (verification, recovery, invites)"
        }
        "factors" => "MFA",
        "sso" | "saml" => "SSO",
        "admin" if segs.get(1) == Some(&"generate_link") => "Email link generation",
        "user" => "Identity linking",
        _ => "This part of the admin API",
    };
    AuthError::not_emulated(code, &format!("{feature} ({what})"))
}

/// `GET /settings`.
fn settings(sb: &Supabase) -> Value {
    let s = AuthSettings::load(sb);
    let providers = [
        "apple",
        "azure",
        "bitbucket",
        "discord",
        "facebook",
        "figma",
        "fly",
        "github",
        "gitlab",
        "google",
        "keycloak",
        "kakao",
        "linkedin",
        "linkedin_oidc",
        "notion",
        "spotify",
        "slack",
        "slack_oidc",
        "workos",
        "twitch",
        "twitter",
        "zoom",
    ];
    let mut external = serde_json::Map::new();
    for p in providers {
        external.insert(p.into(), json!(false));
    }
    external.insert("anonymous_users".into(), json!(s.anonymous));
    external.insert("email".into(), json!(true));
    external.insert("phone".into(), json!(false));
    json!({
        "external": external,
        "disable_signup": !s.enable_signup,
        "mailer_autoconfirm": true,
        "phone_autoconfirm": false,
        "sms_provider": "",
        "saml_enabled": false,
    })
}
