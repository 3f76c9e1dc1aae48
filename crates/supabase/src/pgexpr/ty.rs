//! Postgres types as the typed translator tracks them, and how they map to the mock's storage
//! (the declared SQLite column types the migration translator writes, and the type names the
//! SQLite function `pg_cast(value, from, to)` understands).

/// The Postgres type of an expression, as far as the translator knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    /// An untyped string literal or `null`: takes the type its context asks for, as in Postgres.
    Unknown,
    /// Not known to the translator (a variable, a user function's result): passed through.
    Any,
    /// `boolean`, stored as 0/1.
    Bool,
    /// `smallint`, `integer`, `bigint`.
    Int(&'static str),
    /// `numeric` / `decimal`, stored as REAL.
    Numeric,
    /// `real`, `double precision`.
    Float(&'static str),
    /// `text`, `varchar`, `char`, `citext` and other text-stored types.
    Text,
    /// `uuid`, stored as text.
    Uuid,
    /// `date`, stored as `YYYY-MM-DD`.
    Date,
    /// `timestamp without time zone`.
    Timestamp,
    /// `timestamp with time zone`.
    Timestamptz,
    /// `interval`: only literals, kept as SQLite date modifiers (`+1 days`).
    Interval(Vec<String>),
    /// `json`.
    Json,
    /// `jsonb`.
    Jsonb,
    /// An enum type of the project (stored as text, labels checked on cast).
    Enum(String),
    /// An array (stored as a JSON array).
    Array(Box<Ty>),
}

impl Ty {
    /// The type of a column declared `decl` in SQLite (as the migration translator writes it).
    pub fn from_decl(decl: &str) -> Ty {
        if decl == "INTEGER" {
            return Ty::Int("bigint");
        }
        let d = decl.trim().to_ascii_lowercase();
        if d.is_empty() {
            return Ty::Any;
        }
        if let Some(base) = d.strip_suffix("[]") {
            return Ty::Array(Box::new(Ty::from_decl(base)));
        }
        let base = d.split('(').next().unwrap_or("").trim();
        match base {
            "bigint" | "int8" | "bigserial" | "serial8" => Ty::Int("bigint"),
            "smallint" | "int2" | "smallserial" => Ty::Int("smallint"),
            "integer" | "int" | "int4" | "serial" | "serial4" => Ty::Int("integer"),
            "double precision" | "float8" | "float" => Ty::Float("double precision"),
            "real" | "float4" => Ty::Float("real"),
            "numeric" | "decimal" => Ty::Numeric,
            "boolean" | "bool" => Ty::Bool,
            "json" => Ty::Json,
            "jsonb" => Ty::Jsonb,
            "timestamptz" | "timestamp with time zone" => Ty::Timestamptz,
            "timestamp" | "timestamp without time zone" => Ty::Timestamp,
            "date" => Ty::Date,
            "uuid" => Ty::Uuid,
            _ => Ty::Text,
        }
    }

    /// The type named `name` in a cast (`::int`, `cast(x as numeric(10,2))`), lower case;
    /// `None` when it is not a type the translator can convert to.
    pub fn from_cast_name(name: &str, is_enum: &dyn Fn(&str) -> bool) -> Option<Ty> {
        let n = name.trim().to_ascii_lowercase();
        if let Some(base) = n.strip_suffix("[]") {
            return Some(Ty::Array(Box::new(Ty::from_cast_name(base, is_enum)?)));
        }
        let n = n
            .strip_prefix("pg_catalog.")
            .or_else(|| n.strip_prefix("public."))
            .unwrap_or(&n)
            .to_string();
        let base = n.split('(').next().unwrap_or("").trim().to_string();
        Some(match base.as_str() {
            "int" | "integer" | "int4" => Ty::Int("integer"),
            "bigint" | "int8" => Ty::Int("bigint"),
            "smallint" | "int2" => Ty::Int("smallint"),
            "numeric" | "decimal" => Ty::Numeric,
            "real" | "float4" => Ty::Float("real"),
            "double precision" | "float8" | "double" | "float" => Ty::Float("double precision"),
            "boolean" | "bool" => Ty::Bool,
            "text" | "varchar" | "character varying" | "char" | "character" | "bpchar"
            | "citext" | "name" => Ty::Text,
            "uuid" => Ty::Uuid,
            "date" => Ty::Date,
            "timestamp" | "timestamp without time zone" => Ty::Timestamp,
            "timestamptz" | "timestamp with time zone" => Ty::Timestamptz,
            "json" => Ty::Json,
            "jsonb" => Ty::Jsonb,
            other if is_enum(other) => Ty::Enum(other.to_string()),
            _ => return None,
        })
    }

    /// The type name `pg_cast` and `Kind::from_decl` understand (`""` for untyped).
    pub fn decl(&self) -> &str {
        match self {
            Ty::Unknown | Ty::Any => "",
            Ty::Bool => "boolean",
            Ty::Int("smallint") => "smallint",
            Ty::Int("integer") => "int4",
            Ty::Int(_) => "bigint",
            Ty::Numeric => "numeric",
            Ty::Float("real") => "real",
            Ty::Float(_) => "double precision",
            Ty::Text | Ty::Enum(_) | Ty::Interval(_) => "text",
            Ty::Uuid => "uuid",
            Ty::Date => "date",
            Ty::Timestamp => "timestamp",
            Ty::Timestamptz => "timestamptz",
            Ty::Json => "json",
            Ty::Jsonb => "jsonb",
            Ty::Array(_) => "jsonb",
        }
    }

    /// Postgres's name of the type, for messages.
    pub fn pg_name(&self) -> String {
        match self {
            Ty::Unknown => "unknown".into(),
            Ty::Any => "anyelement".into(),
            Ty::Int(n) | Ty::Float(n) => (*n).into(),
            Ty::Enum(n) => n.clone(),
            Ty::Array(e) => format!("{}[]", e.pg_name()),
            Ty::Interval(_) => "interval".into(),
            Ty::Timestamp => "timestamp without time zone".into(),
            Ty::Timestamptz => "timestamp with time zone".into(),
            other => other.decl().into(),
        }
    }

    /// `smallint`, `integer`, `bigint`.
    pub fn is_int(&self) -> bool {
        matches!(self, Ty::Int(_))
    }

    /// `numeric`, `real`, `double precision`.
    pub fn is_inexact(&self) -> bool {
        matches!(self, Ty::Numeric | Ty::Float(_))
    }

    /// Any number type.
    pub fn is_number(&self) -> bool {
        self.is_int() || self.is_inexact()
    }

    /// `date`, `timestamp`, `timestamptz`.
    pub fn is_datetime(&self) -> bool {
        matches!(self, Ty::Date | Ty::Timestamp | Ty::Timestamptz)
    }

    /// `json`, `jsonb`.
    pub fn is_json(&self) -> bool {
        matches!(self, Ty::Json | Ty::Jsonb)
    }

    /// Whether the value's stored form is its Postgres text form (so `::text` changes nothing).
    pub fn text_is_stored(&self) -> bool {
        matches!(
            self,
            Ty::Text | Ty::Uuid | Ty::Enum(_) | Ty::Date | Ty::Int(_) | Ty::Unknown
        )
    }

    /// Whether the type is known (not `Unknown` or `Any`).
    pub fn known(&self) -> bool {
        !matches!(self, Ty::Unknown | Ty::Any)
    }
}

/// Parses an interval literal (`'1 day'`, `'2 hours 30 minutes'`, `'-3 weeks'`, `'1 mon'`)
/// into SQLite date modifiers; `None` for forms the mock does not convert (`'1:30'`, ISO 8601).
pub fn interval_modifiers(s: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::new();
    for pair in words.chunks(2) {
        let n: f64 = pair[0].parse().ok()?;
        let unit = pair[1].to_ascii_lowercase();
        let unit = unit.trim_end_matches('s');
        let (n, unit) = match unit {
            "second" | "sec" => (n, "seconds"),
            "minute" | "min" => (n, "minutes"),
            "hour" | "hr" => (n, "hours"),
            "day" => (n, "days"),
            "week" => (n * 7.0, "days"),
            "month" | "mon" => (n, "months"),
            "year" | "yr" => (n, "years"),
            _ => return None,
        };
        if matches!(unit, "months" | "years") && n.fract() != 0.0 {
            return None;
        }
        out.push(format!("{n:+} {unit}"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_literals_become_modifiers() {
        assert_eq!(
            interval_modifiers("1 day").unwrap(),
            vec!["+1 days".to_string()]
        );
        assert_eq!(
            interval_modifiers("2 hours 30 mins").unwrap(),
            vec!["+2 hours".to_string(), "+30 minutes".to_string()]
        );
        assert_eq!(
            interval_modifiers("-1 week").unwrap(),
            vec!["-7 days".to_string()]
        );
        assert!(interval_modifiers("1:30").is_none());
        assert!(interval_modifiers("P1D").is_none());
    }

    #[test]
    fn declared_types_map_back() {
        assert_eq!(Ty::from_decl("int4"), Ty::Int("integer"));
        assert_eq!(Ty::from_decl("INTEGER"), Ty::Int("bigint"));
        assert_eq!(Ty::from_decl("numeric(10,2)"), Ty::Numeric);
        assert_eq!(Ty::from_decl("text[]"), Ty::Array(Box::new(Ty::Text)));
        let no = |_: &str| false;
        assert_eq!(
            Ty::from_cast_name("character varying(20)", &no),
            Some(Ty::Text)
        );
        assert_eq!(Ty::from_cast_name("point", &no), None);
    }
}
