//! The `select=` parser: columns, `alias:col`, `col::cast`, JSON paths.

use super::ast::{EmbedSelect, SelectItem};
use super::cursor::Cursor;
use super::field::{NAME_STOP, field};
use crate::errors::ApiError;

/// Parses a `select` value. An empty value selects nothing (`[{}]` rows).
pub fn parse_select(src: &str) -> Result<Vec<SelectItem>, ApiError> {
    let mut c = Cursor::new(src, format!("select parameter ({src})"));
    c.skip_ws();
    if c.at_end() {
        return Ok(Vec::new());
    }
    let items = item_list(&mut c, false)?;
    Ok(items)
}

/// A comma-separated list of items, ending at the end of input (top level) or at `)` (nested,
/// the `)` consumed). A nested list may be empty (`rel()`).
fn item_list(c: &mut Cursor<'_>, nested: bool) -> Result<Vec<SelectItem>, ApiError> {
    let mut items = Vec::new();
    c.skip_ws();
    if nested && c.eat(")") {
        return Ok(items);
    }
    loop {
        c.skip_ws();
        items.push(item(c)?);
        c.skip_ws();
        if nested {
            if c.eat(")") {
                return Ok(items);
            }
            if !c.eat(",") {
                return Err(c.error("\",\" or \")\""));
            }
        } else if c.list_end()? {
            return Ok(items);
        }
    }
}

fn item(c: &mut Cursor<'_>) -> Result<SelectItem, ApiError> {
    if c.eat("*") {
        return Ok(SelectItem::Star);
    }
    if c.eat("...") {
        let name = c.ident(NAME_STOP, "field name (* or [a..z0..9_$])")?;
        return embed(c, name, None, true);
    }
    let first = field(c)?;
    let (alias, f) = if first.path.is_empty() && c.peek() == Some(':') && c.peek_at(1) != Some(':')
    {
        c.bump();
        (Some(first.name), field(c)?)
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
    if f.path.is_empty() && (c.peek() == Some('(') || c.peek() == Some('!')) {
        return embed(c, f.name, alias, false);
    }
    let cast = if c.eat("::") {
        let t = c.ident(NAME_STOP, "a type name")?;
        Some(t.to_ascii_lowercase())
    } else {
        None
    };
    Ok(SelectItem::Field {
        field: f,
        alias,
        cast,
    })
}

/// The rest of an embedded resource after its name: `[!hint][!inner|!left](items)`.
fn embed(
    c: &mut Cursor<'_>,
    name: String,
    alias: Option<String>,
    spread: bool,
) -> Result<SelectItem, ApiError> {
    let mut hint = None;
    let mut inner = false;
    while c.eat("!") {
        let h = c.ident(NAME_STOP, "an embed hint or join type")?;
        match h.as_str() {
            "inner" => inner = true,
            "left" => inner = false,
            _ if hint.is_none() => hint = Some(h),
            _ => return Err(c.error("\"(\"")),
        }
    }
    c.expect("(")?;
    let items = item_list(c, true)?;
    Ok(SelectItem::Embed(EmbedSelect {
        name,
        alias,
        hint,
        inner,
        spread,
        items,
    }))
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
        let items = parse_select("id,t:title,salary::text,data->a->>b, \"x y\"").unwrap();
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
            vec![SelectItem::Embed(EmbedSelect {
                name: "author".into(),
                alias: None,
                hint: None,
                inner: false,
                spread: false,
                items: vec![SelectItem::Star]
            })]
        );
        let items =
            parse_select("id, w:users!posts_author_fkey!inner(name, c:country()),...tags(*)")
                .unwrap();
        match &items[1] {
            SelectItem::Embed(e) => {
                assert_eq!(e.key(), "w");
                assert_eq!(e.hint.as_deref(), Some("posts_author_fkey"));
                assert!(e.inner && !e.spread);
                assert!(matches!(&e.items[1], SelectItem::Embed(c) if c.items.is_empty()));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&items[2], SelectItem::Embed(e) if e.spread && e.name == "tags"));
        assert!(parse_select("a(b").is_err());
        assert!(parse_select("a(b))").is_err());
        assert_eq!(parse_columns("\"a\",\"b\"").unwrap(), vec!["a", "b"]);
    }
}
