//! Postgres column types as the mock models them, and value conversion in and out of SQLite.

use crate::errors::ApiError;
use crate::time;
use rusqlite::types::{Value, ValueRef};
use serde_json::Value as Json;

/// The type name of a column SQLite declares no type for (a view's computed column).
pub const UNTYPED: &str = "unknown";

/// The Postgres scalar types the mock stores natively (in a column of their [`Kind`]); other
/// column types are stored as text, translated (arrays, enums, domains) or skipped.
pub const NATIVE_TYPES: &[&str] = &[
    "text",
    "varchar",
    "char",
    "character",
    "uuid",
    "boolean",
    "bool",
    "smallint",
    "int2",
    "integer",
    "int",
    "int4",
    "bigint",
    "int8",
    "real",
    "float4",
    "float8",
    "double precision",
    "numeric",
    "decimal",
    "json",
    "jsonb",
    "date",
    "timestamp",
    "timestamptz",
];

/// Whether `base` (a type name without modifiers, lower case) is one of [`NATIVE_TYPES`].
pub fn is_native_type(base: &str) -> bool {
    NATIVE_TYPES.contains(&base)
}

/// The Postgres type family of a column (or of a select expression).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `bigint`, `integer`, `smallint` (the name is used in error messages).
    Int(&'static str),
    /// `double precision`, `real`, `numeric`.
    Float(&'static str),
    /// `boolean`, stored as 0/1.
    Bool,
    /// `text`, `varchar`, `uuid` and anything else stored as text.
    Text(&'static str),
    /// `json` / `jsonb`, stored as JSON text.
    Json(&'static str),
    /// `timestamp with time zone`, stored as `YYYY-MM-DDTHH:MM:SS[.f]+00:00`.
    Timestamptz,
    /// `timestamp without time zone`, stored as `YYYY-MM-DDTHH:MM:SS[.f]`.
    Timestamp,
    /// `date`, stored as `YYYY-MM-DD`.
    Date,
}

impl Kind {
    /// The kind of a SQLite declared column type (as written by the migration translator).
    pub fn from_decl(decl: &str) -> Kind {
        // Identity columns must be declared `INTEGER` to be SQLite rowid aliases; the migration
        // translator writes other int4 columns as `int4`, so `INTEGER` means a bigint identity.
        if decl == "INTEGER" {
            return Kind::Int("bigint");
        }
        let d = decl.trim().to_ascii_lowercase();
        if d.is_empty() {
            // A view's computed column: rendered by its value (numbers as numbers).
            return Kind::Text(UNTYPED);
        }
        if d.ends_with("[]") {
            // Arrays (`text[]`, `int4[]`) are stored as JSON arrays by the migration translator.
            return Kind::Json("array");
        }
        let base = d.split('(').next().unwrap_or("").trim();
        match base {
            "bigint" | "int8" | "bigserial" | "serial8" => Kind::Int("bigint"),
            "smallint" | "int2" | "smallserial" => Kind::Int("smallint"),
            "integer" | "int" | "int4" | "serial" | "serial4" => Kind::Int("integer"),
            "double precision" | "float8" | "float" => Kind::Float("double precision"),
            "real" | "float4" => Kind::Float("real"),
            "numeric" | "decimal" => Kind::Float("numeric"),
            "boolean" | "bool" => Kind::Bool,
            "json" => Kind::Json("json"),
            "jsonb" => Kind::Json("jsonb"),
            "timestamptz" | "timestamp with time zone" => Kind::Timestamptz,
            "timestamp" | "timestamp without time zone" => Kind::Timestamp,
            "date" => Kind::Date,
            "uuid" => Kind::Text("uuid"),
            "varchar" | "character varying" => Kind::Text("character varying"),
            _ => Kind::Text("text"),
        }
    }

    /// The Postgres type name, for error messages.
    pub fn pg_name(&self) -> &'static str {
        match self {
            Kind::Int(n) | Kind::Float(n) | Kind::Text(n) | Kind::Json(n) => n,
            Kind::Bool => "boolean",
            Kind::Timestamptz => "timestamp with time zone",
            Kind::Timestamp => "timestamp without time zone",
            Kind::Date => "date",
        }
    }

    /// Whether values compare as text (for `like`, `ilike`, `match`, `imatch`); `uuid` has no
    /// such operators in Postgres.
    pub fn is_text(&self) -> bool {
        matches!(self, Kind::Text(n) if *n != "uuid")
    }

    fn invalid(&self, s: &str) -> ApiError {
        let code = match self {
            Kind::Timestamptz | Kind::Timestamp | Kind::Date => "22007",
            _ => "22P02",
        };
        ApiError::new(
            400,
            code,
            format!("invalid input syntax for type {}: \"{s}\"", self.pg_name()),
        )
    }

    /// Converts a text literal (a filter value) to the stored SQLite value, as Postgres would
    /// coerce an `unknown` literal to this type.
    pub fn from_text(&self, s: &str) -> Result<Value, ApiError> {
        match self {
            Kind::Int(name) => {
                let v: i64 = s.trim().parse().map_err(|_| self.invalid(s))?;
                let ok = match *name {
                    "integer" => i32::try_from(v).is_ok(),
                    "smallint" => i16::try_from(v).is_ok(),
                    _ => true,
                };
                if ok {
                    Ok(Value::Integer(v))
                } else {
                    Err(ApiError::new(
                        400,
                        "22003",
                        format!("value \"{s}\" is out of range for type {name}"),
                    ))
                }
            }
            Kind::Float(_) => parse_float(s)
                .map(Value::Real)
                .ok_or_else(|| self.invalid(s)),
            Kind::Bool => parse_bool(s)
                .map(|b| Value::Integer(i64::from(b)))
                .ok_or_else(|| self.invalid(s)),
            Kind::Text("uuid") => {
                if is_uuid(s) {
                    Ok(Value::Text(s.to_ascii_lowercase()))
                } else {
                    Err(self.invalid(s))
                }
            }
            Kind::Text(_) => Ok(Value::Text(s.to_string())),
            Kind::Json(_) => match serde_json::from_str::<Json>(s) {
                Ok(v) => Ok(Value::Text(v.to_string())),
                Err(_) => Err(
                    ApiError::new(400, "22P02", "invalid input syntax for type json")
                        .details(format!("Token \"{s}\" is invalid.")),
                ),
            },
            Kind::Timestamptz => time::parse_timestamp(s)
                .map(|us| Value::Text(time::format_timestamptz(us)))
                .ok_or_else(|| self.invalid(s)),
            Kind::Timestamp => time::parse_timestamp(s)
                .map(|us| Value::Text(time::format_timestamp(us)))
                .ok_or_else(|| self.invalid(s)),
            Kind::Date => time::parse_date(s)
                .map(Value::Text)
                .ok_or_else(|| self.invalid(s)),
        }
    }

    /// Converts a JSON request-body value to the stored SQLite value (`json_populate_record` rules).
    pub fn from_json(&self, v: &Json) -> Result<Value, ApiError> {
        match (self, v) {
            (_, Json::Null) => Ok(Value::Null),
            (Kind::Json(_), v) => Ok(Value::Text(v.to_string())),
            (Kind::Text(_), Json::Object(_) | Json::Array(_)) => Ok(Value::Text(v.to_string())),
            (Kind::Int(_), Json::Number(n)) if n.is_i64() => self.from_text(&n.to_string()),
            (Kind::Float(_), Json::Number(n)) => Ok(Value::Real(n.as_f64().unwrap_or(0.0))),
            (Kind::Bool, Json::Bool(b)) => Ok(Value::Integer(i64::from(*b))),
            (_, Json::String(s)) => self.from_text(s),
            (Kind::Text(_), other) => self.from_text(&other.to_string()),
            (_, other) => Err(self.invalid(&other.to_string())),
        }
    }

    /// Converts a stored value to the JSON PostgREST would print for this type.
    pub fn to_json(&self, v: ValueRef<'_>) -> Json {
        match v {
            ValueRef::Null => Json::Null,
            ValueRef::Integer(i) => match self {
                Kind::Bool => Json::Bool(i != 0),
                Kind::Text(n) if *n != UNTYPED => Json::String(i.to_string()),
                Kind::Timestamptz | Kind::Timestamp | Kind::Date => Json::String(i.to_string()),
                _ => Json::from(i),
            },
            ValueRef::Real(f) => match self {
                Kind::Text(n) if *n != UNTYPED => Json::String(float_text(f)),
                Kind::Int(_) => Json::from(f.round() as i64),
                _ => float_json(f),
            },
            ValueRef::Text(t) => {
                let s = String::from_utf8_lossy(t);
                match self {
                    Kind::Json(_) => serde_json::from_str(&s).unwrap_or(Json::String(s.into())),
                    Kind::Int(_) | Kind::Float(_) => s
                        .parse::<i64>()
                        .map(Json::from)
                        .or_else(|_| s.parse::<f64>().map(float_json))
                        .unwrap_or(Json::String(s.into())),
                    Kind::Bool => parse_bool(&s)
                        .map(Json::Bool)
                        .unwrap_or(Json::String(s.into())),
                    // Values written by raw SQL are shown in canonical form.
                    Kind::Timestamptz | Kind::Timestamp | Kind::Date => match self.from_text(&s) {
                        Ok(Value::Text(t)) => Json::String(t),
                        _ => Json::String(s.into_owned()),
                    },
                    _ => Json::String(s.into_owned()),
                }
            }
            ValueRef::Blob(b) => Json::String(format!(
                "\\x{}",
                b.iter().map(|x| format!("{x:02x}")).collect::<String>()
            )),
        }
    }
}

/// A float as JSON; integral values print without a fraction, as Postgres does.
pub fn float_json(f: f64) -> Json {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
        Json::from(f as i64)
    } else {
        serde_json::Number::from_f64(f)
            .map(Json::Number)
            .unwrap_or(Json::String(float_text(f)))
    }
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else if f.fract() == 0.0 && f.abs() < 9.0e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Postgres float input: decimal numbers, `NaN`, `Infinity`, `-Infinity` (case-insensitive).
pub fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "nan" => return Some(f64::NAN),
        "infinity" | "+infinity" | "inf" => return Some(f64::INFINITY),
        "-infinity" | "-inf" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    if t.is_empty()
        || !t
            .bytes()
            .all(|c| c.is_ascii_digit() || b"+-.eE".contains(&c))
    {
        return None;
    }
    t.parse().ok()
}

/// Postgres boolean input: `t`/`true`/`yes`/`on`/`1` and their negatives, any unique prefix.
pub fn parse_bool(s: &str) -> Option<bool> {
    let t = s.trim().to_ascii_lowercase();
    if t.is_empty() {
        return None;
    }
    match t.as_str() {
        "1" | "on" => return Some(true),
        "0" | "of" | "off" => return Some(false),
        _ => {}
    }
    if "true".starts_with(&t) || "yes".starts_with(&t) {
        Some(true)
    } else if "false".starts_with(&t) || "no".starts_with(&t) {
        Some(false)
    } else {
        None
    }
}

fn is_uuid(s: &str) -> bool {
    let h: String = s.chars().filter(|c| *c != '-').collect();
    let dashed = s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    dashed || (s.len() == 32 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Postgres `lower()`: each character lowered on its own (no context rules such as final sigma),
/// to one character as glibc's towlower (`İ` is `i`, not `i` and a combining dot).
pub fn pg_lower(s: &str) -> String {
    s.chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect()
}
