//! `auth.users` rows: reading them, rendering them as GoTrue's `User` JSON, and writing them
//! through the mock's write path (so triggers on `auth.users`, such as `handle_new_user`, fire
//! and deletes cascade through foreign keys).

use super::errors::AuthError;
use crate::db::Db;
use rusqlite::OptionalExtension;
use rusqlite::types::Value as Sql;
use serde_json::{Map, Value, json};

/// The columns of `auth.users` the Auth API reads.
const COLUMNS: &str = "id, aud, role, email, phone, encrypted_password, email_confirmed_at, \
     phone_confirmed_at, confirmed_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data, \
     created_at, updated_at, is_anonymous, banned_until";

/// One `auth.users` row.
#[derive(Clone, Debug, Default)]
pub struct User {
    /// `id` (uuid text).
    pub id: String,
    /// `aud` (`authenticated`).
    pub aud: Option<String>,
    /// `role` (`authenticated`).
    pub role: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `phone`.
    pub phone: Option<String>,
    /// `encrypted_password` (bcrypt).
    pub encrypted_password: Option<String>,
    /// `email_confirmed_at`.
    pub email_confirmed_at: Option<String>,
    /// `phone_confirmed_at`.
    pub phone_confirmed_at: Option<String>,
    /// `confirmed_at`.
    pub confirmed_at: Option<String>,
    /// `last_sign_in_at`.
    pub last_sign_in_at: Option<String>,
    /// `raw_app_meta_data`.
    pub app_metadata: Value,
    /// `raw_user_meta_data`.
    pub user_metadata: Value,
    /// `created_at`.
    pub created_at: Option<String>,
    /// `updated_at`.
    pub updated_at: Option<String>,
    /// `is_anonymous`.
    pub is_anonymous: bool,
    /// `banned_until`.
    pub banned_until: Option<String>,
}

fn json_col(s: Option<String>) -> Value {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}))
}

fn text_col(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match r.get::<_, Sql>(i)? {
        Sql::Null => None,
        Sql::Text(s) => Some(s),
        Sql::Integer(n) => Some(n.to_string()),
        Sql::Real(f) => Some(f.to_string()),
        Sql::Blob(b) => Some(String::from_utf8_lossy(&b).into_owned()),
    })
}

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: text_col(r, 0)?.unwrap_or_default(),
        aud: text_col(r, 1)?,
        role: text_col(r, 2)?,
        email: text_col(r, 3)?,
        phone: text_col(r, 4)?,
        encrypted_password: text_col(r, 5)?,
        email_confirmed_at: text_col(r, 6)?,
        phone_confirmed_at: text_col(r, 7)?,
        confirmed_at: text_col(r, 8)?,
        last_sign_in_at: text_col(r, 9)?,
        app_metadata: json_col(text_col(r, 10)?),
        user_metadata: json_col(text_col(r, 11)?),
        created_at: text_col(r, 12)?,
        updated_at: text_col(r, 13)?,
        is_anonymous: matches!(text_col(r, 14)?.as_deref(), Some("1" | "true" | "t")),
        banned_until: text_col(r, 15)?,
    })
}

/// The user whose `id` is `id`.
pub fn by_id(db: &Db, id: &str) -> Result<Option<User>, AuthError> {
    db.query_row(
        &format!("SELECT {COLUMNS} FROM \"auth.users\" WHERE id = ?1"),
        [id],
        read,
    )
    .optional()
    .map_err(|e| AuthError::database("querying schema", e))
}

/// The user whose email is `email` (compared case-insensitively, as GoTrue stores it lowered).
pub fn by_email(db: &Db, email: &str) -> Result<Option<User>, AuthError> {
    db.query_row(
        &format!(
            "SELECT {COLUMNS} FROM \"auth.users\" WHERE lower(email) = lower(?1) \
                 AND is_sso_user = 0 ORDER BY created_at LIMIT 1"
        ),
        [email],
        read,
    )
    .optional()
    .map_err(|e| AuthError::database("querying schema", e))
}

/// The user whose phone is `phone`.
pub fn by_phone(db: &Db, phone: &str) -> Result<Option<User>, AuthError> {
    db.query_row(
        &format!("SELECT {COLUMNS} FROM \"auth.users\" WHERE phone = ?1 LIMIT 1"),
        [phone],
        read,
    )
    .optional()
    .map_err(|e| AuthError::database("querying schema", e))
}

/// A page of users, newest first (GoTrue's default `created_at desc`), and the total count.
pub fn page(db: &Db, page: u64, per_page: u64) -> Result<(Vec<User>, u64), AuthError> {
    let err = |e| AuthError::database("finding users", e);
    let total: i64 = db
        .query_row("SELECT count(*) FROM \"auth.users\"", [], |r| r.get(0))
        .map_err(err)?;
    let mut st = db
        .prepare(&format!(
            "SELECT {COLUMNS} FROM \"auth.users\" ORDER BY created_at DESC, rowid DESC \
             LIMIT ?1 OFFSET ?2"
        ))
        .map_err(err)?;
    let offset = page.saturating_sub(1).saturating_mul(per_page);
    let rows = st
        .query_map([per_page as i64, offset.min(i64::MAX as u64) as i64], read)
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    Ok((rows, total as u64))
}

/// GoTrue's timestamps in JSON: RFC 3339 in UTC (`2026-01-01T00:00:00.123Z`).
pub fn ts_json(s: &Option<String>) -> Value {
    match s.as_deref().and_then(crate::time::parse_timestamp) {
        Some(us) => Value::String(format!("{}Z", crate::time::format_timestamp(us))),
        None => Value::Null,
    }
}

/// The user's identities as GoTrue renders them.
pub fn identities(db: &Db, user_id: &str) -> Result<Vec<Value>, AuthError> {
    let err = |e| AuthError::database("finding identities", e);
    let mut st = db
        .prepare(
            "SELECT id, provider_id, user_id, identity_data, provider, last_sign_in_at, \
             created_at, updated_at, email FROM \"auth.identities\" WHERE user_id = ?1 \
             ORDER BY created_at, rowid",
        )
        .map_err(err)?;
    let rows = st
        .query_map([user_id], |r| {
            Ok(json!({
                "identity_id": text_col(r, 0)?,
                "id": text_col(r, 1)?,
                "user_id": text_col(r, 2)?,
                "identity_data": json_col(text_col(r, 3)?),
                "provider": text_col(r, 4)?,
                "last_sign_in_at": ts_json(&text_col(r, 5)?),
                "created_at": ts_json(&text_col(r, 6)?),
                "updated_at": ts_json(&text_col(r, 7)?),
                "email": text_col(r, 8)?,
            }))
        })
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    Ok(rows)
}

fn put_ts(m: &mut Map<String, Value>, k: &str, v: &Option<String>) {
    let j = ts_json(v);
    if !j.is_null() {
        m.insert(k.into(), j);
    }
}

/// The user as GoTrue's `User` JSON (optional timestamps omitted when unset, as `omitempty`).
pub fn to_json(db: &Db, u: &User) -> Result<Value, AuthError> {
    let mut m = Map::new();
    m.insert("id".into(), json!(u.id));
    m.insert(
        "aud".into(),
        json!(u.aud.clone().unwrap_or_else(|| "authenticated".into())),
    );
    m.insert(
        "role".into(),
        json!(u.role.clone().unwrap_or_else(|| "authenticated".into())),
    );
    m.insert("email".into(), json!(u.email.clone().unwrap_or_default()));
    put_ts(&mut m, "email_confirmed_at", &u.email_confirmed_at);
    m.insert("phone".into(), json!(u.phone.clone().unwrap_or_default()));
    put_ts(&mut m, "phone_confirmed_at", &u.phone_confirmed_at);
    let confirmed = u
        .confirmed_at
        .clone()
        .or_else(|| u.email_confirmed_at.clone())
        .or_else(|| u.phone_confirmed_at.clone());
    put_ts(&mut m, "confirmed_at", &confirmed);
    put_ts(&mut m, "last_sign_in_at", &u.last_sign_in_at);
    put_ts(&mut m, "banned_until", &u.banned_until);
    m.insert("app_metadata".into(), u.app_metadata.clone());
    m.insert("user_metadata".into(), u.user_metadata.clone());
    m.insert("identities".into(), Value::Array(identities(db, &u.id)?));
    m.insert("created_at".into(), ts_json(&u.created_at));
    m.insert("updated_at".into(), ts_json(&u.updated_at));
    m.insert("is_anonymous".into(), json!(u.is_anonymous));
    Ok(Value::Object(m))
}

/// Runs one write through the write path (row-level triggers fire, deletes cascade).
pub fn write(db: &Db, what: &str, sql: &str, params: &[Sql]) -> Result<usize, AuthError> {
    let map = |e: &rusqlite::Error| crate::sqlerr::map(e, &Default::default());
    crate::routines::dml::execute(db, sql, params, None, &map, 1)
        .map_err(|e| AuthError::database(what, format!("{}: {}", e.code, e.message)))
}

/// Text or NULL.
pub fn opt(s: Option<&str>) -> Sql {
    s.map_or(Sql::Null, |s| Sql::Text(s.to_string()))
}

/// Merges `patch` into the object `base` as GoTrue's `UpdateUserMetaData` does: each key
/// replaced, a `null` value removing the key.
pub fn merge(base: &mut Value, patch: &Value) {
    let (Some(b), Some(p)) = (base.as_object_mut(), patch.as_object()) else {
        return;
    };
    for (k, v) in p {
        if v.is_null() {
            b.remove(k);
        } else {
            b.insert(k.clone(), v.clone());
        }
    }
}

/// What a new user starts with.
pub struct NewUser<'a> {
    /// Lower-cased email, if any.
    pub email: Option<&'a str>,
    /// Phone, if any.
    pub phone: Option<&'a str>,
    /// bcrypt hash, if any.
    pub password_hash: Option<String>,
    /// `raw_user_meta_data` (the sign-up `data`).
    pub user_metadata: Value,
    /// `raw_app_meta_data`.
    pub app_metadata: Value,
    /// Whether the email counts as confirmed at once.
    pub email_confirmed: bool,
    /// Whether the phone counts as confirmed at once.
    pub phone_confirmed: bool,
    /// `is_anonymous`.
    pub anonymous: bool,
    /// The id to use (admin create may pass one).
    pub id: Option<String>,
}

/// Inserts a user and its identity as GoTrue's `signupNewUser` + `createNewIdentity` do: the
/// `auth.users` row first (an AFTER INSERT trigger sees `raw_user_meta_data` = the sign-up
/// `data`), then the identity, then the identity's data merged into `raw_user_meta_data`.
pub fn insert(db: &Db, n: NewUser<'_>, now: &str) -> Result<User, AuthError> {
    let id = match n.id {
        Some(id) => id,
        None => super::tokens::uuid(db)?,
    };
    let confirmed = |b: bool| if b { Sql::Text(now.into()) } else { Sql::Null };
    write(
        db,
        "saving new user",
        "INSERT INTO \"auth.users\" (instance_id, id, aud, role, email, encrypted_password, \
         email_confirmed_at, phone, phone_confirmed_at, confirmed_at, raw_app_meta_data, \
         raw_user_meta_data, is_super_admin, created_at, updated_at, is_anonymous) VALUES \
         ('00000000-0000-0000-0000-000000000000', ?1, 'authenticated', 'authenticated', ?2, ?3, \
         ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?10, ?11)",
        &[
            Sql::Text(id.clone()),
            opt(n.email),
            opt(n.password_hash.as_deref()),
            confirmed(n.email_confirmed),
            opt(n.phone),
            confirmed(n.phone_confirmed),
            confirmed(n.email_confirmed || n.phone_confirmed),
            Sql::Text(n.app_metadata.to_string()),
            Sql::Text(n.user_metadata.to_string()),
            Sql::Text(now.into()),
            Sql::Integer(i64::from(n.anonymous)),
        ],
    )?;
    let provider = if n.email.is_some() {
        Some("email")
    } else if n.phone.is_some() {
        Some("phone")
    } else {
        None
    };
    if let Some(provider) = provider {
        let mut data = json!({
            "sub": id,
            "email_verified": false,
            "phone_verified": false,
        });
        if let Some(e) = n.email {
            data["email"] = json!(e);
        }
        if let Some(p) = n.phone {
            data["phone"] = json!(p);
        }
        let identity_id = super::tokens::uuid(db)?;
        write(
            db,
            "saving new user",
            "INSERT INTO \"auth.identities\" (provider_id, user_id, identity_data, provider, \
             last_sign_in_at, created_at, updated_at, email, id) VALUES (?1, ?1, ?2, ?3, ?4, ?4, \
             ?4, ?5, ?6)",
            &[
                Sql::Text(id.clone()),
                Sql::Text(data.to_string()),
                Sql::Text(provider.into()),
                Sql::Text(now.into()),
                opt(n.email),
                Sql::Text(identity_id),
            ],
        )?;
        let mut meta = n.user_metadata.clone();
        if !meta.is_object() {
            meta = json!({});
        }
        merge(&mut meta, &data);
        if n.email_confirmed {
            meta["email_verified"] = json!(true);
        }
        if n.phone_confirmed {
            meta["phone_verified"] = json!(true);
        }
        write(
            db,
            "saving new user",
            "UPDATE \"auth.users\" SET raw_user_meta_data = ?1 WHERE id = ?2",
            &[Sql::Text(meta.to_string()), Sql::Text(id.clone())],
        )?;
    }
    by_id(db, &id)?.ok_or_else(|| AuthError::database("saving new user", "row vanished"))
}

/// Sets one column of a user (through the write path: UPDATE triggers fire).
pub fn set(db: &Db, id: &str, column: &str, value: Sql, now: &str) -> Result<(), AuthError> {
    write(
        db,
        "updating user",
        &format!("UPDATE \"auth.users\" SET {column} = ?1, updated_at = ?2 WHERE id = ?3"),
        &[value, Sql::Text(now.into()), Sql::Text(id.into())],
    )?;
    Ok(())
}
