//! The end-user endpoints: `/signup`, `/token`, `/user`, `/logout`.

use super::errors::{AuthError, ok};
use super::users::{self, NewUser};
use super::{AuthSettings, Req, tokens, transaction};
use bytes::Bytes;
use http::Response;
use rusqlite::types::Value as Sql;
use serde_json::{Value, json};

fn str_field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// GoTrue's `validateEmail`.
pub fn validate_email(email: &str) -> Result<String, AuthError> {
    if email.len() > 255 {
        return Err(AuthError::validation("An email address is too long"));
    }
    let ok = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.is_empty()
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email.chars().any(|c| c.is_whitespace())
            && !domain.contains('@')
    });
    if !ok {
        return Err(AuthError::validation(
            "Unable to validate email address: invalid format",
        ));
    }
    Ok(email.to_lowercase())
}

/// GoTrue's password checks: the minimum length (`weak_password`) and bcrypt's 72 bytes.
pub fn check_password(pw: &str, min: usize) -> Result<(), AuthError> {
    if pw.len() > 72 {
        return Err(AuthError::validation(
            "Password cannot be longer than 72 characters",
        ));
    }
    // Go's len: bytes.
    if pw.len() < min {
        let mut e = AuthError::new(
            422,
            "weak_password",
            format!("Password should be at least {min} characters."),
        );
        e.reasons = vec!["length"];
        return Err(e);
    }
    Ok(())
}

/// `POST /signup`.
pub fn signup(req: &Req<'_>) -> Result<Response<Bytes>, AuthError> {
    let body = req.json()?;
    let settings = AuthSettings::load(req.sb);
    if !settings.enable_signup {
        return Err(AuthError::new(
            422,
            "signup_disabled",
            "Signups not allowed for this instance",
        ));
    }
    let data = body
        .get("data")
        .filter(|d| d.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}));
    let email = str_field(&body, "email");
    let phone = str_field(&body, "phone");
    if email.is_none() && phone.is_none() {
        if !settings.anonymous {
            return Err(AuthError::new(
                422,
                "anonymous_provider_disabled",
                "Anonymous sign-ins are disabled",
            ));
        }
        let is = req.issuer.clone();
        let v = transaction(req.sb, |db| {
            let now = is.now();
            let user = users::insert(
                db,
                NewUser {
                    email: None,
                    phone: None,
                    password_hash: None,
                    user_metadata: data,
                    app_metadata: json!({}),
                    email_confirmed: false,
                    phone_confirmed: false,
                    anonymous: true,
                    id: None,
                },
                &now,
            )?;
            tokens::sign_in(db, &user, "anonymous", &is)
        })?;
        return Ok(ok(200, &v));
    }
    if phone.is_some() && email.is_none() {
        return Err(AuthError::not_emulated(
            "phone_provider_disabled",
            "Phone sign-up (SMS delivery)",
        ));
    }
    // GoTrue validates the password before the email.
    let Some(password) = str_field(&body, "password") else {
        return Err(AuthError::new(
            422,
            "validation_failed",
            "Signup requires a valid password",
        ));
    };
    check_password(password, settings.min_password)?;
    let email = validate_email(email.unwrap_or(""))?;
    let is = req.issuer.clone();
    let v = transaction(req.sb, |db| {
        if users::by_email(db, &email)?.is_some() {
            return Err(AuthError::new(
                422,
                "user_already_exists",
                "User already registered",
            ));
        }
        let now = is.now();
        let hash = tokens::hash_password(db, password)?;
        let user = users::insert(
            db,
            NewUser {
                email: Some(&email),
                phone: None,
                password_hash: Some(hash),
                user_metadata: data,
                app_metadata: json!({"provider": "email", "providers": ["email"]}),
                email_confirmed: true,
                phone_confirmed: false,
                anonymous: false,
                id: None,
            },
            &now,
        )?;
        tokens::sign_in(db, &user, "password", &is)
    })?;
    Ok(ok(200, &v))
}

/// `POST /token?grant_type=...`.
pub fn token(req: &Req<'_>) -> Result<Response<Bytes>, AuthError> {
    let body = req.json()?;
    let is = req.issuer.clone();
    match req.param("grant_type").unwrap_or("") {
        "password" => {
            let email = str_field(&body, "email");
            let phone = str_field(&body, "phone");
            let password = str_field(&body, "password").unwrap_or("");
            if email.is_some() && phone.is_some() {
                return Err(AuthError::validation(
                    "Only an email address or phone number should be provided on login.",
                ));
            }
            if email.is_none() && phone.is_none() {
                return Err(AuthError::validation("missing email or phone"));
            }
            let v = transaction(req.sb, |db| {
                let user = match (email, phone) {
                    (Some(e), _) => users::by_email(db, e)?,
                    (None, Some(p)) => users::by_phone(db, p)?,
                    (None, None) => None,
                };
                let Some(user) = user else {
                    return Err(AuthError::invalid_credentials());
                };
                let Some(hash) = user.encrypted_password.as_deref().filter(|h| !h.is_empty())
                else {
                    return Err(AuthError::invalid_credentials());
                };
                if super::banned(&user, is.now_ms) {
                    return Err(AuthError::new(400, "user_banned", "User is banned"));
                }
                if !tokens::verify_password(password, hash) {
                    return Err(AuthError::invalid_credentials());
                }
                if email.is_some() && user.email_confirmed_at.is_none() {
                    return Err(AuthError::new(
                        400,
                        "email_not_confirmed",
                        "Email not confirmed",
                    ));
                }
                if phone.is_some() && user.phone_confirmed_at.is_none() {
                    return Err(AuthError::new(
                        400,
                        "phone_not_confirmed",
                        "Phone not confirmed",
                    ));
                }
                tokens::sign_in(db, &user, "password", &is)
            })?;
            Ok(ok(200, &v))
        }
        "refresh_token" => {
            let Some(token) = str_field(&body, "refresh_token") else {
                return Err(AuthError::validation("refresh_token required"));
            };
            // A failed reuse still revokes the family: commit it, then answer the error.
            let r = transaction(req.sb, |db| Ok(tokens::refresh(db, token, &is)))?;
            Ok(ok(200, &r?))
        }
        "pkce" | "id_token" | "web3" => Err(AuthError::not_emulated(
            "provider_disabled",
            &format!(
                "The {} grant (OAuth providers)",
                req.param("grant_type").unwrap_or("")
            ),
        )),
        _ => Err(AuthError::new(
            400,
            "invalid_credentials",
            "unsupported_grant_type",
        )),
    }
}

/// `GET /user`.
pub fn get_user(req: &Req<'_>) -> Result<Response<Bytes>, AuthError> {
    let v = transaction(req.sb, |db| {
        let (user, _) = req.user(db)?;
        users::to_json(db, &user)
    })?;
    Ok(ok(200, &v))
}

/// `PUT /user`: `data` merged into `user_metadata`, a new `password`, a new `email` (changed at
/// once: confirmations are off).
pub fn put_user(req: &Req<'_>) -> Result<Response<Bytes>, AuthError> {
    let body = req.json()?;
    let settings = AuthSettings::load(req.sb);
    let is = req.issuer.clone();
    let v = transaction(req.sb, |db| {
        let (user, _) = req.user(db)?;
        let now = is.now();
        if str_field(&body, "phone").is_some() {
            return Err(AuthError::not_emulated(
                "phone_provider_disabled",
                "Changing the phone number (SMS delivery)",
            ));
        }
        if let Some(pw) = str_field(&body, "password") {
            check_password(pw, settings.min_password)?;
            if user
                .encrypted_password
                .as_deref()
                .is_some_and(|h| !h.is_empty() && tokens::verify_password(pw, h))
            {
                return Err(AuthError::new(
                    422,
                    "same_password",
                    "New password should be different from the old password.",
                ));
            }
            let hash = tokens::hash_password(db, pw)?;
            users::set(db, &user.id, "encrypted_password", Sql::Text(hash), &now)?;
        }
        if let Some(data) = body.get("data").filter(|d| d.is_object()) {
            let mut meta = user.user_metadata.clone();
            users::merge(&mut meta, data);
            users::set(
                db,
                &user.id,
                "raw_user_meta_data",
                Sql::Text(meta.to_string()),
                &now,
            )?;
        }
        if let Some(email) = str_field(&body, "email") {
            let email = validate_email(email)?;
            if user.email.as_deref() != Some(email.as_str()) {
                if users::by_email(db, &email)?.is_some_and(|u| u.id != user.id) {
                    return Err(AuthError::new(
                        422,
                        "email_exists",
                        "A user with this email address has already been registered",
                    ));
                }
                users::set(db, &user.id, "email", Sql::Text(email.clone()), &now)?;
                users::set(
                    db,
                    &user.id,
                    "email_confirmed_at",
                    Sql::Text(now.clone()),
                    &now,
                )?;
            }
        }
        let user = users::by_id(db, &user.id)?.ok_or_else(AuthError::user_not_found)?;
        users::to_json(db, &user)
    })?;
    Ok(ok(200, &v))
}

/// `POST /logout?scope=global|local|others` (default `global`): 204.
pub fn logout(req: &Req<'_>) -> Result<Response<Bytes>, AuthError> {
    let scope = req.param("scope").unwrap_or("global").to_string();
    transaction(req.sb, |db| {
        // Authentication comes first (middleware), then the scope.
        let (user, session) = req.user(db)?;
        if !matches!(scope.as_str(), "" | "global" | "local" | "others") {
            return Err(AuthError::validation(format!(
                "Unsupported logout scope {scope:?}"
            )));
        }
        // Without a session_id claim every session goes, whatever the scope.
        let (cond, params): (&str, Vec<Sql>) = match (scope.as_str(), session) {
            ("local", Some(sid)) => ("id = ?1", vec![Sql::Text(sid)]),
            ("others", Some(sid)) => (
                "user_id = ?1 AND id <> ?2",
                vec![Sql::Text(user.id.clone()), Sql::Text(sid)],
            ),
            _ => ("user_id = ?1", vec![Sql::Text(user.id.clone())]),
        };
        users::write(
            db,
            "logging out",
            &format!("DELETE FROM \"auth.sessions\" WHERE {cond}"),
            &params,
        )?;
        Ok(())
    })?;
    Ok(Response::builder()
        .status(204)
        .body(Bytes::new())
        .unwrap_or_default())
}
