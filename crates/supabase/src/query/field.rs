//! Field names with JSON paths: `col`, `"quoted col"`, `data->a->0->>b`.

use super::ast::{Field, JsonKey, JsonStep};
use super::cursor::Cursor;
use crate::errors::ApiError;

/// Characters that end an unquoted name.
pub const NAME_STOP: &str = ",.:()\"!";

/// Parses a field: a name and an optional JSON path.
pub fn field(c: &mut Cursor<'_>) -> Result<Field, ApiError> {
    let name = c.ident(NAME_STOP, "field name (* or [a..z0..9_$])")?;
    let mut path = Vec::new();
    loop {
        let text = if c.eat("->>") {
            true
        } else if c.eat("->") {
            false
        } else {
            break;
        };
        let key = if c.peek() == Some('"') {
            JsonKey::Name(c.quoted()?)
        } else {
            let raw = c.ident(NAME_STOP, "a JSON key or index")?;
            match raw.parse::<i64>() {
                Ok(i) => JsonKey::Index(i),
                Err(_) => JsonKey::Name(raw),
            }
        };
        path.push(JsonStep { text, key });
    }
    Ok(Field { name, path })
}
