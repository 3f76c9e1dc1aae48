//! Sessions, access tokens and refresh tokens, as GoTrue issues them.
//!
//! - An access token is an HS256 JWT signed with the project's JWT secret, with GoTrue's
//!   `AccessTokenClaims`: `iss`, `sub`, `aud`, `exp`, `iat`, `email`, `phone`, `app_metadata`,
//!   `user_metadata`, `role`, `aal`, `amr` (`[{method, timestamp}]`), `session_id`,
//!   `is_anonymous`; `exp - iat` is `[auth] jwt_expiry`. `iat` is the emulator clock's time.
//! - A session is a row of `auth.sessions`; its sign-in method a row of `auth.mfa_amr_claims`.
//! - A refresh token is a 12-character string (GoTrue's `crypto.SecureAlphanumeric(12)`), a row
//!   of `auth.refresh_tokens`. Using it revokes it and issues its child (rotation). Using a
//!   revoked token again within `refresh_token_reuse_interval` (10 s, the CLI's default) of its
//!   revocation returns its active child again; later it revokes the whole session's token
//!   family and answers 400 `refresh_token_already_used` "Invalid Refresh Token: Already Used".
//!
//! Randomness (user and session ids, refresh tokens, bcrypt salts) comes from the database's
//! `gen_random_uuid()`, i.e. the project's injected RNG: a simulation's seed decides it.

use super::errors::AuthError;
use super::users::{self, User, opt};
use crate::db::Db;
use rusqlite::OptionalExtension;
use rusqlite::types::Value as Sql;
use serde_json::{Value, json};

/// GoTrue's `refresh_token_reuse_interval` default (seconds).
pub const REUSE_INTERVAL_S: i64 = 10;
/// GoTrue's bcrypt cost (`bcrypt.DefaultCost`).
pub const BCRYPT_COST: u32 = 10;

/// A uuid drawn from the project's RNG (`gen_random_uuid()`).
pub fn uuid(db: &Db) -> Result<String, AuthError> {
    db.query_row("SELECT gen_random_uuid()", [], |r| r.get(0))
        .map_err(|e| AuthError::database("generating an id", e))
}

fn random_u128(db: &Db) -> Result<u128, AuthError> {
    let u = uuid(db)?.replace('-', "");
    u128::from_str_radix(&u, 16).map_err(|e| AuthError::database("generating a token", e))
}

/// A 12-character lowercase alphanumeric refresh token.
pub fn refresh_token_string(db: &Db) -> Result<String, AuthError> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut n = random_u128(db)?;
    Ok((0..12)
        .map(|_| {
            let c = ALPHABET[(n % 36) as usize] as char;
            n /= 36;
            c
        })
        .collect())
}

/// bcrypt (`$2a$`, cost 10) of `password`, salted from the project's RNG.
pub fn hash_password(db: &Db, password: &str) -> Result<String, AuthError> {
    let salt = random_u128(db)?.to_le_bytes();
    bcrypt::hash_with_salt(password, BCRYPT_COST, salt)
        .map(|h| h.format_for_version(bcrypt::Version::TwoA))
        .map_err(|e| AuthError::database("hashing the password", e))
}

/// Whether `password` matches `hash`: a bcrypt hash, or the stand-in the mock's pgcrypto
/// `crypt(pw, gen_salt('bf'))` writes in seeds (`<salt>$<sha256 hex of salt + pw>`).
pub fn verify_password(password: &str, hash: &str) -> bool {
    if let Ok(ok) = bcrypt::verify(password, hash) {
        return ok;
    }
    use sha2::Digest;
    let Some((salt, hex)) = hash.rsplit_once('$') else {
        return false;
    };
    let d = sha2::Sha256::digest(format!("{salt}{password}").as_bytes());
    let mine: String = d.iter().map(|b| format!("{b:02x}")).collect();
    mine == hex
}

/// Where a token grant starts from: the clock, the expiry and the issuer.
#[derive(Clone, Debug)]
pub struct Issuer {
    /// Now, epoch milliseconds (the emulator clock).
    pub now_ms: u64,
    /// `[auth] jwt_expiry`, seconds.
    pub expiry_s: u64,
    /// `iss`: the API URL + `/auth/v1`.
    pub iss: String,
}

impl Issuer {
    /// Now as a `timestamptz` text.
    pub fn now(&self) -> String {
        crate::time::timestamptz_from_ms(self.now_ms)
    }

    fn now_s(&self) -> u64 {
        self.now_ms / 1000
    }
}

/// The claims of an access token for `user` in session `session_id`.
pub fn claims(u: &User, session_id: &str, amr: &[(String, u64)], is: &Issuer) -> Value {
    let iat = is.now_s();
    json!({
        "iss": is.iss,
        "sub": u.id,
        "aud": u.aud.clone().unwrap_or_else(|| "authenticated".into()),
        "exp": iat + is.expiry_s,
        "iat": iat,
        "email": u.email.clone().unwrap_or_default(),
        "phone": u.phone.clone().unwrap_or_default(),
        "app_metadata": u.app_metadata,
        "user_metadata": u.user_metadata,
        "role": u.role.clone().unwrap_or_else(|| "authenticated".into()),
        "aal": "aal1",
        "amr": amr.iter().map(|(m, t)| json!({"method": m, "timestamp": t})).collect::<Vec<_>>(),
        "session_id": session_id,
        "is_anonymous": u.is_anonymous,
    })
}

/// The sign-in methods recorded for a session.
fn amr(db: &Db, session_id: &str) -> Result<Vec<(String, u64)>, AuthError> {
    let err = |e| AuthError::database("finding the session", e);
    let mut st = db
        .prepare(
            "SELECT authentication_method, created_at FROM \"auth.mfa_amr_claims\" \
             WHERE session_id = ?1 ORDER BY created_at",
        )
        .map_err(err)?;
    st.query_map([session_id], |r| {
        let m: String = r.get(0)?;
        let at: String = r.get(1)?;
        let secs = crate::time::parse_timestamp(&at).map_or(0, |us| (us / 1_000_000) as u64);
        Ok((m, secs))
    })
    .map_err(err)?
    .collect::<Result<Vec<_>, _>>()
    .map_err(err)
}

/// GoTrue's `AccessTokenResponse` for `user` in `session_id` with `refresh_token`.
pub fn session_response(
    db: &Db,
    user: &User,
    session_id: &str,
    refresh_token: &str,
    is: &Issuer,
) -> Result<Value, AuthError> {
    let claims = claims(user, session_id, &amr(db, session_id)?, is);
    let token = crate::gateway::auth::sign_jwt(&claims, crate::JWT_SECRET.as_bytes());
    Ok(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": is.expiry_s,
        "expires_at": is.now_s() + is.expiry_s,
        "refresh_token": refresh_token,
        "user": users::to_json(db, user)?,
    }))
}

/// Signs `user` in with `method` (`password`, `anonymous`): a new session and refresh token,
/// `last_sign_in_at` updated. Returns the session response.
pub fn sign_in(db: &Db, user: &User, method: &str, is: &Issuer) -> Result<Value, AuthError> {
    let now = is.now();
    let session_id = uuid(db)?;
    users::write(
        db,
        "creating the session",
        "INSERT INTO \"auth.sessions\" (id, user_id, created_at, updated_at, aal) \
         VALUES (?1, ?2, ?3, ?3, 'aal1')",
        &[
            Sql::Text(session_id.clone()),
            Sql::Text(user.id.clone()),
            Sql::Text(now.clone()),
        ],
    )?;
    users::write(
        db,
        "creating the session",
        "INSERT INTO \"auth.mfa_amr_claims\" (session_id, created_at, updated_at, \
         authentication_method, id) VALUES (?1, ?2, ?2, ?3, ?4)",
        &[
            Sql::Text(session_id.clone()),
            Sql::Text(now.clone()),
            Sql::Text(method.into()),
            Sql::Text(uuid(db)?),
        ],
    )?;
    let token = new_refresh_token(db, &user.id, &session_id, None, &now)?;
    users::set(
        db,
        &user.id,
        "last_sign_in_at",
        Sql::Text(now.clone()),
        &now,
    )?;
    let user = users::by_id(db, &user.id)?.unwrap_or_else(|| user.clone());
    session_response(db, &user, &session_id, &token, is)
}

fn new_refresh_token(
    db: &Db,
    user_id: &str,
    session_id: &str,
    parent: Option<&str>,
    now: &str,
) -> Result<String, AuthError> {
    let token = refresh_token_string(db)?;
    users::write(
        db,
        "granting the refresh token",
        "INSERT INTO \"auth.refresh_tokens\" (instance_id, token, user_id, revoked, created_at, \
         updated_at, parent, session_id) VALUES ('00000000-0000-0000-0000-000000000000', ?1, ?2, \
         0, ?3, ?3, ?4, ?5)",
        &[
            Sql::Text(token.clone()),
            Sql::Text(user_id.into()),
            Sql::Text(now.into()),
            opt(parent),
            Sql::Text(session_id.into()),
        ],
    )?;
    Ok(token)
}

/// `grant_type=refresh_token`: rotates `token` (see the module docs).
pub fn refresh(db: &Db, token: &str, is: &Issuer) -> Result<Value, AuthError> {
    let err = |e| AuthError::database("finding the refresh token", e);
    let row: Option<(String, i64, String, Option<String>)> = db
        .query_row(
            "SELECT user_id, revoked, updated_at, session_id FROM \"auth.refresh_tokens\" \
             WHERE token = ?1",
            [token],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(err)?;
    let not_found = || {
        AuthError::new(
            400,
            "refresh_token_not_found",
            "Invalid Refresh Token: Refresh Token Not Found",
        )
    };
    let Some((user_id, revoked, updated_at, Some(session_id))) = row else {
        return Err(not_found());
    };
    let Some(user) = users::by_id(db, &user_id)? else {
        return Err(not_found());
    };
    if super::banned(&user, is.now_ms) {
        return Err(AuthError::new(
            400,
            "user_banned",
            "Invalid Refresh Token: User Banned",
        ));
    }
    let now = is.now();
    if revoked != 0 {
        let child: Option<String> = db
            .query_row(
                "SELECT token FROM \"auth.refresh_tokens\" WHERE parent = ?1 AND revoked = 0",
                [token],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        let revoked_us = crate::time::parse_timestamp(&updated_at).unwrap_or(0);
        let within = (is.now_ms as i64) * 1000 < revoked_us + REUSE_INTERVAL_S * 1_000_000;
        if let (Some(child), true) = (child, within) {
            return session_response(db, &user, &session_id, &child, is);
        }
        users::write(
            db,
            "revoking the token family",
            "UPDATE \"auth.refresh_tokens\" SET revoked = 1, updated_at = ?1 \
             WHERE session_id = ?2 AND revoked = 0",
            &[Sql::Text(now), Sql::Text(session_id)],
        )?;
        return Err(AuthError::new(
            400,
            "refresh_token_already_used",
            "Invalid Refresh Token: Already Used",
        ));
    }
    users::write(
        db,
        "revoking the refresh token",
        "UPDATE \"auth.refresh_tokens\" SET revoked = 1, updated_at = ?1 WHERE token = ?2",
        &[Sql::Text(now.clone()), Sql::Text(token.into())],
    )?;
    let child = new_refresh_token(db, &user.id, &session_id, Some(token), &now)?;
    users::write(
        db,
        "refreshing the session",
        "UPDATE \"auth.sessions\" SET refreshed_at = ?1, updated_at = ?1 WHERE id = ?2",
        &[Sql::Text(now), Sql::Text(session_id.clone())],
    )?;
    session_response(db, &user, &session_id, &child, is)
}

/// Whether session `id` exists.
pub fn session_exists(db: &Db, id: &str) -> Result<bool, AuthError> {
    db.query_row(
        "SELECT 1 FROM \"auth.sessions\" WHERE id = ?1",
        [id],
        |_| Ok(()),
    )
    .optional()
    .map(|o| o.is_some())
    .map_err(|e| AuthError::database("finding the session", e))
}
