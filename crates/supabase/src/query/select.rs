//! The `select=` parser: columns, `alias:col`, `col::cast`, JSON paths.

use super::ast::SelectItem;
use super::cursor::Cursor;
use super::field::{NAME_STOP, field};
use crate::errors::ApiError;

/// An embedded resource (`rel(...)`) was requested: the caller answers PGRST200.
#[derive(Debug, PartialEq, Eq)]
pub struct Embed(pub String);

/// Parses a `select` value. An empty value selects nothing (`[{}]` rows).
pub fn parse_select(src: &str) -> Result<Result<Vec<SelectItem>, Embed>, ApiError> {
    let mut c = Cursor::new(src, format!("select parameter ({src})"));
    let mut items = Vec::new();
    c.skip_ws();
    if c.at_end() {
        return Ok(Ok(items));
    }
    loop {
        c.skip_ws();
        if c.eat("*") {
            items.push(SelectItem::Star);
        } else if c.starts_with("...") {
            c.eat("...");
            let name = c.ident(NAME_STOP, "field name (* or [a..z0..9_$])")?;
            return Ok(Err(Embed(name)));
        } else {
            let first = field(&mut c)?;
            let (alias, f) =
                if first.path.is_empty() && c.peek() == Some(':') && c.peek_at(1) != Some(':') {
                    c.bump();
                    (Some(first.name), field(&mut c)?)
                } else {
                    (None, first)
                };
            let aggregate = ["count", "sum", "avg", "min", "max"].contains(&f.name.as_str());
            if (aggregate && c.starts_with("()")) || (c.peek() == Some('.') && f.path.is_empty()) {
                // Aggregates (`count()`, `amount.sum()`) are disabled in the CLI's PostgREST.
                return Err(ApiError::new(
                    400,
                    "PGRST123",
                    "Use of aggregate functions is not allowed",
                ));
            }
            if c.peek() == Some('(') || c.peek() == Some('!') {
                return Ok(Err(Embed(f.name)));
            }
            let cast = if c.eat("::") {
                let t = c.ident(NAME_STOP, "a type name")?;
                Some(t.to_ascii_lowercase())
            } else {
                None
            };
            items.push(SelectItem::Field {
                field: f,
                alias,
                cast,
            });
        }
        c.skip_ws();
        if c.list_end()? {
            return Ok(Ok(items));
        }
    }
}

/// Parses `columns=` (`a,b` or `"a","b"`).
pub fn parse_columns(src: &str) -> Result<Vec<String>, ApiError> {
    let mut c = Cursor::new(src, format!("columns parameter ({src})"));
    let mut out = Vec::new();
    loop {
        out.push(c.ident(NAME_STOP, "field name")?);
        c.skip_ws();
        if c.list_end()? {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::ast::{Field, JsonKey, JsonStep};

    #[test]
    fn parses_aliases_casts_and_paths() {
        let items = parse_select("id,t:title,salary::text,data->a->>b, \"x y\"")
            .unwrap()
            .unwrap();
        assert_eq!(items.len(), 5);
        assert_eq!(
            items[1],
            SelectItem::Field {
                field: Field {
                    name: "title".into(),
                    path: vec![]
                },
                alias: Some("t".into()),
                cast: None
            }
        );
        match &items[3] {
            SelectItem::Field { field, .. } => assert_eq!(
                field.path,
                vec![
                    JsonStep {
                        text: false,
                        key: JsonKey::Name("a".into())
                    },
                    JsonStep {
                        text: true,
                        key: JsonKey::Name("b".into())
                    }
                ]
            ),
            other => panic!("{other:?}"),
        }
        assert!(parse_select("id,,").is_err());
        assert_eq!(parse_select("count()").unwrap_err().code, "PGRST123");
        assert_eq!(parse_select("amount.sum()").unwrap_err().code, "PGRST123");
        assert_eq!(
            parse_select("author(*)").unwrap(),
            Err(Embed("author".into()))
        );
        assert_eq!(parse_columns("\"a\",\"b\"").unwrap(), vec!["a", "b"]);
    }
}
