//! The `order=` parser: `col.desc.nullslast,data->>x,...`.

use super::ast::OrderTerm;
use super::cursor::Cursor;
use super::field::field;
use crate::errors::ApiError;

/// Parses an `order` value.
pub fn parse_order(src: &str) -> Result<Vec<OrderTerm>, ApiError> {
    let mut c = Cursor::new(src, format!("order ({src})"));
    let mut out = Vec::new();
    loop {
        let mut f = field(&mut c)?;
        let mut relation = None;
        if f.path.is_empty() && c.eat("(") {
            relation = Some(f.name);
            f = field(&mut c)?;
            c.expect(")")?;
        }
        let mut term = OrderTerm {
            relation,
            field: f,
            desc: false,
            nulls_first: None,
        };
        if c.eat(".") {
            if c.eat("asc") {
            } else if c.eat("desc") {
                term.desc = true;
            } else if c.eat("nullsfirst") {
                term.nulls_first = Some(true);
            } else if c.eat("nullslast") {
                term.nulls_first = Some(false);
            } else {
                return Err(c.error("\"asc\", \"desc\", \"nullsfirst\" or \"nullslast\""));
            }
            if term.nulls_first.is_none() && c.eat(".") {
                if c.eat("nullsfirst") {
                    term.nulls_first = Some(true);
                } else if c.eat("nullslast") {
                    term.nulls_first = Some(false);
                } else {
                    return Err(c.error("\"nullsfirst\" or \"nullslast\""));
                }
            }
        }
        out.push(term);
        if c.list_end()? {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terms() {
        let t = parse_order("age.desc.nullslast,name,data->>x.asc").unwrap();
        assert_eq!(t.len(), 3);
        assert!(t[0].desc && t[0].nulls_first == Some(false));
        assert!(!t[1].desc && t[1].nulls_first.is_none());
        assert_eq!(t[2].field.path.len(), 1);
        assert!(parse_order("age.sideways").is_err());
        let t = parse_order("author(name).desc,id").unwrap();
        assert_eq!(t[0].relation.as_deref(), Some("author"));
        assert_eq!(t[0].field.name, "name");
        assert!(t[0].desc && t[1].relation.is_none());
        assert!(parse_order("").is_err());
    }
}
