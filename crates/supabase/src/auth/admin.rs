//! The admin users API (`/admin/users`), for a `service_role` bearer.

use super::account::{check_password, validate_email};
use super::errors::{AuthError, ok};
use super::users::{self, NewUser};
use super::{AuthSettings, Req, tokens, transaction};
use bytes::Bytes;
use http::{Response, header};
use rusqlite::types::Value as Sql;
use serde_json::{Value, json};

fn str_field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

pub(super) fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.chars().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// GoTrue's `loadUser`: 404 `user_not_found` for an unknown id, 404 `validation_failed` for a
/// malformed one.
fn check_id(id: &str) -> Result<(), AuthError> {
    let ok = is_uuid(id);
    if ok {
        Ok(())
    } else {
        Err(AuthError::new(
            404,
            "validation_failed",
            "user_id must be an UUID",
        ))
    }
}

/// `GET /admin/users?page=&per_page=`: `{"users": [...], "aud": "authenticated"}`, newest
/// first, with `X-Total-Count` and a `Link` header (`rel="next"`, `rel="last"`).
pub fn list(req: &Req<'_>) -> Result<Response<Bytes>, AuthError> {
    req.require_admin()?;
    let num = |k: &str, d: u64| -> Result<u64, AuthError> {
        match req.param(k) {
            None | Some("") => Ok(d),
            Some(v) => v.parse::<u64>().map_err(|_| {
                AuthError::validation(format!("Bad Pagination Parameters: {k} must be a number"))
            }),
        }
    };
    let page = num("page", 1)?.max(1);
    let per_page = num("per_page", 50)?.max(1);
    let (rows, total) = transaction(req.sb, |db| {
        let (rows, total) = users::page(db, page, per_page)?;
        let rows = rows
            .iter()
            .map(|u| users::to_json(db, u))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((rows, total))
    })?;
    let last = total.div_ceil(per_page).max(1);
    let mut links = Vec::new();
    if page < last {
        links.push(format!(
            "</admin/users?page={}&per_page={per_page}>; rel=\"next\"",
            page + 1
        ));
    }
    links.push(format!(
        "</admin/users?page={last}&per_page={per_page}>; rel=\"last\""
    ));
    let mut resp = ok(200, &json!({"users": rows, "aud": "authenticated"}));
    let h = resp.headers_mut();
    if let Ok(v) = header::HeaderValue::from_str(&total.to_string()) {
        h.insert("x-total-count", v);
    }
    if let Ok(v) = header::HeaderValue::from_str(&links.join(", ")) {
        h.insert(header::LINK, v);
    }
    Ok(resp)
}

/// `POST /admin/users`: `email`, `phone`, `password`, `email_confirm`, `phone_confirm`,
/// `user_metadata`, `app_metadata`, `id`, `ban_duration`.
pub fn create(req: &Req<'_>) -> Result<Response<Bytes>, AuthError> {
    req.require_admin()?;
    let body = req.json()?;
    let settings = AuthSettings::load(req.sb);
    let email = str_field(&body, "email").map(validate_email).transpose()?;
    let phone = str_field(&body, "phone").map(str::to_string);
    if email.is_none() && phone.is_none() {
        return Err(AuthError::validation(
            "Cannot create a user without either an email or phone",
        ));
    }
    let password = str_field(&body, "password");
    if let Some(pw) = password {
        check_password(pw, settings.min_password)?;
    }
    if let Some(id) = str_field(&body, "id") {
        if !is_uuid(id) {
            return Err(AuthError::validation(
                "ID must conform to the uuid v4 format",
            ));
        }
        if id == "00000000-0000-0000-0000-000000000000" {
            return Err(AuthError::validation("ID cannot be a nil uuid"));
        }
    }
    let ban = ban_duration(&body)?;
    let is = req.issuer.clone();
    let v = transaction(req.sb, |db| {
        if let Some(e) = &email
            && users::by_email(db, e)?.is_some()
        {
            return Err(AuthError::new(
                422,
                "email_exists",
                "A user with this email address has already been registered",
            ));
        }
        if let Some(p) = &phone
            && users::by_phone(db, p)?.is_some()
        {
            return Err(AuthError::new(
                422,
                "phone_exists",
                "Phone number already registered by another user",
            ));
        }
        let provider = if email.is_some() { "email" } else { "phone" };
        let mut app = json!({"provider": provider, "providers": [provider]});
        if let Some(a) = body.get("app_metadata").filter(|a| a.is_object()) {
            users::merge(&mut app, a);
        }
        let hash = password.map(|p| tokens::hash_password(db, p)).transpose()?;
        let user = users::insert(
            db,
            NewUser {
                email: email.as_deref(),
                phone: phone.as_deref(),
                password_hash: hash,
                user_metadata: body
                    .get("user_metadata")
                    .filter(|d| d.is_object())
                    .cloned()
                    .unwrap_or_else(|| json!({})),
                app_metadata: app,
                email_confirmed: body["email_confirm"].as_bool() == Some(true),
                phone_confirmed: body["phone_confirm"].as_bool() == Some(true),
                anonymous: false,
                id: str_field(&body, "id").map(str::to_string),
            },
            &is.now(),
        )?;
        if let Some(ms) = ban {
            ban_until(db, &user.id, ms, &is)?;
        }
        let user = users::by_id(db, &user.id)?.ok_or_else(AuthError::user_not_found)?;
        users::to_json(db, &user)
    })?;
    Ok(ok(200, &v))
}

/// `GET /admin/users/{id}`.
pub fn get(req: &Req<'_>, id: &str) -> Result<Response<Bytes>, AuthError> {
    req.require_admin()?;
    check_id(id)?;
    let v = transaction(req.sb, |db| {
        let u = users::by_id(db, id)?.ok_or_else(AuthError::user_not_found)?;
        users::to_json(db, &u)
    })?;
    Ok(ok(200, &v))
}

/// `PUT /admin/users/{id}`: `email`, `password`, `email_confirm`, `user_metadata` and
/// `app_metadata` (merged), `role`, `ban_duration` (a Go duration such as `"24h"`; `"none"`
/// lifts a ban).
pub fn update(req: &Req<'_>, id: &str) -> Result<Response<Bytes>, AuthError> {
    req.require_admin()?;
    check_id(id)?;
    let body = req.json()?;
    let settings = AuthSettings::load(req.sb);
    let ban = ban_duration(&body)?;
    let is = req.issuer.clone();
    let v = transaction(req.sb, |db| {
        let u = users::by_id(db, id)?.ok_or_else(AuthError::user_not_found)?;
        let now = is.now();
        if let Some(e) = str_field(&body, "email") {
            let e = validate_email(e)?;
            if users::by_email(db, &e)?.is_some_and(|o| o.id != u.id) {
                return Err(AuthError::new(
                    422,
                    "email_exists",
                    "A user with this email address has already been registered",
                ));
            }
            users::set(db, id, "email", Sql::Text(e), &now)?;
        }
        if let Some(p) = str_field(&body, "phone") {
            users::set(db, id, "phone", Sql::Text(p.into()), &now)?;
        }
        if let Some(pw) = str_field(&body, "password") {
            check_password(pw, settings.min_password)?;
            let hash = tokens::hash_password(db, pw)?;
            users::set(db, id, "encrypted_password", Sql::Text(hash), &now)?;
        }
        if body["email_confirm"].as_bool() == Some(true) && u.email_confirmed_at.is_none() {
            users::set(db, id, "email_confirmed_at", Sql::Text(now.clone()), &now)?;
        }
        if body["phone_confirm"].as_bool() == Some(true) && u.phone_confirmed_at.is_none() {
            users::set(db, id, "phone_confirmed_at", Sql::Text(now.clone()), &now)?;
        }
        if let Some(role) = str_field(&body, "role") {
            users::set(db, id, "role", Sql::Text(role.into()), &now)?;
        }
        for (key, column, current) in [
            ("user_metadata", "raw_user_meta_data", &u.user_metadata),
            ("app_metadata", "raw_app_meta_data", &u.app_metadata),
        ] {
            if let Some(patch) = body.get(key).filter(|d| d.is_object()) {
                let mut meta = current.clone();
                users::merge(&mut meta, patch);
                users::set(db, id, column, Sql::Text(meta.to_string()), &now)?;
            }
        }
        if let Some(ms) = ban {
            ban_until(db, id, ms, &is)?;
        }
        let u = users::by_id(db, id)?.ok_or_else(AuthError::user_not_found)?;
        users::to_json(db, &u)
    })?;
    Ok(ok(200, &v))
}

/// `DELETE /admin/users/{id}`: deletes the row (sessions, identities and every row whose
/// foreign key to `auth.users` says `on delete cascade` go with it); `{}`.
pub fn delete(req: &Req<'_>, id: &str) -> Result<Response<Bytes>, AuthError> {
    req.require_admin()?;
    check_id(id)?;
    let body = req.json()?;
    if body["should_soft_delete"].as_bool() == Some(true) {
        return Err(AuthError::not_emulated(
            "not_emulated",
            "Soft deletion of users",
        ));
    }
    transaction(req.sb, |db| {
        users::by_id(db, id)?.ok_or_else(AuthError::user_not_found)?;
        users::write(
            db,
            "deleting user",
            "DELETE FROM \"auth.users\" WHERE id = ?1",
            &[Sql::Text(id.into())],
        )?;
        Ok(())
    })?;
    Ok(ok(200, &json!({})))
}

/// `ban_duration` in milliseconds (`Some(0)` for `"none"`), parsed as Go's
/// `time.ParseDuration` (`"1h30m"`, `"90s"`, `"1.5h"`; units ns, us, µs, ms, s, m, h).
fn ban_duration(body: &Value) -> Result<Option<u64>, AuthError> {
    let Some(d) = str_field(body, "ban_duration") else {
        return Ok(None);
    };
    if d == "none" {
        return Ok(Some(0));
    }
    parse_go_duration(d).map(Some).ok_or_else(|| {
        AuthError::validation(format!(
            "invalid format for ban duration: time: invalid duration {d:?}"
        ))
    })
}

fn parse_go_duration(s: &str) -> Option<u64> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Some(0);
    }
    let mut rest = s;
    let mut total_ns = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total_ns += n * scale;
    }
    Some((total_ns / 1e6) as u64)
}

/// GoTrue's `User.Ban`: `banned_until = now + d`, or NULL for a zero duration.
fn ban_until(db: &crate::db::Db, id: &str, ms: u64, is: &tokens::Issuer) -> Result<(), AuthError> {
    let until = if ms == 0 {
        Sql::Null
    } else {
        Sql::Text(crate::time::timestamptz_from_ms(is.now_ms + ms))
    };
    users::set(db, id, "banned_until", until, &is.now())
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("24h"), Some(86_400_000));
        assert_eq!(parse_go_duration("1h30m"), Some(5_400_000));
        assert_eq!(parse_go_duration("1.5s"), Some(1_500));
        assert_eq!(parse_go_duration("0"), Some(0));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("x"), None);
        assert_eq!(parse_go_duration(""), None);
    }
}
