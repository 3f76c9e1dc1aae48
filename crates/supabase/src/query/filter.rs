//! Horizontal filters: `col=[not.]op[(any|all)].value` and logic trees `or=(a.eq.1,and(...))`.

use super::ast::{CmpOp, Field, Filter, IsVal, Op, Quant, SetOp};
use super::cursor::Cursor;
use super::field::field;
use crate::errors::ApiError;

const EXPECT_OP: &str = "\"not\" or operator (eq, gt, ...)";

/// Parses the value of a filter parameter whose key was `field`.
pub fn parse_filter(field: Field, value: &str) -> Result<Filter, ApiError> {
    let mut c = Cursor::new(value, format!("filter ({value})"));
    let (negate, op) = operation(&mut c, false)?;
    Ok(Filter::Cond { field, negate, op })
}

/// Parses the value of `or=`/`and=` (`negate` for `not.or=`).
pub fn parse_logic(negate: bool, and: bool, value: &str) -> Result<Filter, ApiError> {
    let mut c = Cursor::new(value, format!("logic tree ({value})"));
    let children = tree_list(&mut c)?;
    if !c.at_end() {
        return Err(c.error("end of input"));
    }
    Ok(Filter::Logic {
        negate,
        and,
        children,
    })
}

fn tree_list(c: &mut Cursor<'_>) -> Result<Vec<Filter>, ApiError> {
    c.expect("(")?;
    let mut out = Vec::new();
    loop {
        out.push(tree_item(c)?);
        if c.eat(",") {
            continue;
        }
        c.expect(")")?;
        return Ok(out);
    }
}

fn tree_item(c: &mut Cursor<'_>) -> Result<Filter, ApiError> {
    let negate = c.eat("not.");
    for (kw, and) in [("and(", true), ("or(", false)] {
        if c.starts_with(kw) {
            c.eat(&kw[..kw.len() - 1]);
            let children = tree_list(c)?;
            return Ok(Filter::Logic {
                negate,
                and,
                children,
            });
        }
    }
    let f = field(c)?;
    c.expect(".")?;
    let (neg2, op) = operation(c, true)?;
    Ok(Filter::Cond {
        field: f,
        negate: negate ^ neg2,
        op,
    })
}

/// `[not.]op[(mod)].value`; in a logic tree the value stops at `,` or `)` unless quoted.
fn operation(c: &mut Cursor<'_>, in_tree: bool) -> Result<(bool, Op), ApiError> {
    let negate = c.eat("not.");
    let start_err = c.error(EXPECT_OP);
    let mut name = String::new();
    while let Some(ch) = c.peek().filter(char::is_ascii_lowercase) {
        name.push(ch);
        c.bump();
    }
    let cmp = match name.as_str() {
        "eq" => Some(CmpOp::Eq),
        "neq" => Some(CmpOp::Neq),
        "gt" => Some(CmpOp::Gt),
        "gte" => Some(CmpOp::Gte),
        "lt" => Some(CmpOp::Lt),
        "lte" => Some(CmpOp::Lte),
        "like" => Some(CmpOp::Like),
        "ilike" => Some(CmpOp::Ilike),
        "match" => Some(CmpOp::Match),
        "imatch" => Some(CmpOp::Imatch),
        _ => None,
    };
    if let Some(op) = cmp {
        let quant = if c.eat("(any)") {
            Some(Quant::Any)
        } else if c.eat("(all)") {
            Some(Quant::All)
        } else {
            None
        };
        c.expect(".")?;
        return match quant {
            Some(q) => {
                let raw = operand(c, in_tree)?;
                let items = pg_array(&raw)?;
                Ok((negate, Op::Quant(op, q, items)))
            }
            None => {
                let v = operand(c, in_tree)?;
                Ok((negate, Op::Cmp(op, v)))
            }
        };
    }
    match name.as_str() {
        "in" => {
            c.expect(".")?;
            let items = in_list(c)?;
            if !in_tree && !c.at_end() {
                return Err(c.error("end of input"));
            }
            Ok((negate, Op::In(items)))
        }
        "is" => {
            c.expect(".")?;
            let v = operand(c, in_tree)?;
            let is = match v.to_ascii_lowercase().as_str() {
                "null" => IsVal::Null,
                "not_null" => IsVal::NotNull,
                "true" => IsVal::True,
                "false" => IsVal::False,
                "unknown" => IsVal::Unknown,
                _ => {
                    return Err(ApiError::parse(
                        &format!("filter (is.{v})"),
                        4,
                        format!(
                            "unexpected \"{}\" expecting null or trilean value (unknown, true, false)",
                            v.chars().next().map(String::from).unwrap_or_default()
                        ),
                    ));
                }
            };
            Ok((negate, Op::Is(is)))
        }
        "isdistinct" => {
            c.expect(".")?;
            let v = operand(c, in_tree)?;
            Ok((negate, Op::IsDistinct(v)))
        }
        "cs" | "cd" | "ov" => {
            c.expect(".")?;
            let v = operand(c, in_tree)?;
            let op = match name.as_str() {
                "cs" => SetOp::Contains,
                "cd" => SetOp::ContainedBy,
                _ => SetOp::Overlaps,
            };
            Ok((negate, Op::Set(op, v)))
        }
        "fts" | "plfts" | "phfts" | "wfts" | "sl" | "sr" | "nxr" | "nxl" | "adj" => {
            if c.eat("(") {
                while c.bump().is_some_and(|ch| ch != ')') {}
            }
            c.expect(".")?;
            operand(c, in_tree)?;
            Ok((negate, Op::Unsupported(name)))
        }
        _ => Err(start_err),
    }
}

/// The operand after `op.`: the rest of the parameter, or one [`tree_value`] inside a logic tree.
fn operand(c: &mut Cursor<'_>, in_tree: bool) -> Result<String, ApiError> {
    if in_tree {
        tree_value(c)
    } else {
        Ok(c.take_rest())
    }
}

/// A value inside a logic tree: quoted, a `{...}`/`(...)` group, or text up to `,`/`)`.
fn tree_value(c: &mut Cursor<'_>) -> Result<String, ApiError> {
    if c.peek() == Some('"') {
        return c.quoted();
    }
    let mut out = String::new();
    if c.peek() == Some('{') {
        while let Some(ch) = c.bump() {
            out.push(ch);
            if ch == '}' {
                return Ok(out);
            }
        }
        return Err(c.error("\"}\""));
    }
    while let Some(ch) = c.peek() {
        if ch == ',' || ch == ')' {
            break;
        }
        out.push(ch);
        c.bump();
    }
    Ok(out)
}

/// `(a,"b,c",d)`: quoted items take `\"` and `\\` escapes; every item is a value.
fn in_list(c: &mut Cursor<'_>) -> Result<Vec<Option<String>>, ApiError> {
    c.expect("(")?;
    let mut out = Vec::new();
    if c.eat(")") {
        return Ok(out);
    }
    loop {
        let item = if c.peek() == Some('"') {
            c.quoted()?
        } else {
            let mut s = String::new();
            while let Some(ch) = c.peek() {
                if ch == ',' || ch == ')' {
                    break;
                }
                s.push(ch);
                c.bump();
            }
            s
        };
        out.push(Some(item));
        if c.eat(",") {
            continue;
        }
        c.expect(")")?;
        return Ok(out);
    }
}

/// A Postgres array literal `{a, "b,c", NULL}`; unquoted `NULL` is a SQL NULL.
pub fn pg_array(raw: &str) -> Result<Vec<Option<String>>, ApiError> {
    let bad = || ApiError::new(400, "22P02", format!("malformed array literal: \"{raw}\""));
    let s = raw.trim();
    let inner = s
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .ok_or_else(bad)?;
    let mut out = Vec::new();
    if inner.trim().is_empty() {
        return Ok(out);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut v = String::new();
            loop {
                match chars.next().ok_or_else(bad)? {
                    '"' => break,
                    '\\' => v.push(chars.next().ok_or_else(bad)?),
                    ch => v.push(ch),
                }
            }
            out.push(Some(v));
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else {
            let mut v = String::new();
            while let Some(&ch) = chars.peek() {
                if ch == ',' {
                    break;
                }
                if ch == '"' || ch == '{' || ch == '}' {
                    return Err(bad());
                }
                v.push(ch);
                chars.next();
            }
            let v = v.trim().to_string();
            if v.is_empty() {
                return Err(bad());
            }
            out.push(if v.eq_ignore_ascii_case("null") {
                None
            } else {
                Some(v)
            });
        }
        match chars.next() {
            None => return Ok(out),
            Some(',') => continue,
            Some(_) => return Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str) -> Field {
        Field {
            name: name.into(),
            path: vec![],
        }
    }

    #[test]
    fn parses_operators() {
        assert_eq!(
            parse_filter(f("a"), "not.eq.x.y").unwrap(),
            Filter::Cond {
                field: f("a"),
                negate: true,
                op: Op::Cmp(CmpOp::Eq, "x.y".into())
            }
        );
        assert_eq!(
            parse_filter(f("a"), "in.(\"hi,there\",yes,\"a\\\"b\")").unwrap(),
            Filter::Cond {
                field: f("a"),
                negate: false,
                op: Op::In(vec![
                    Some("hi,there".into()),
                    Some("yes".into()),
                    Some("a\"b".into())
                ])
            }
        );
        assert_eq!(
            parse_filter(f("a"), "like(any).{O*,\"P,*\",NULL}").unwrap(),
            Filter::Cond {
                field: f("a"),
                negate: false,
                op: Op::Quant(
                    CmpOp::Like,
                    Quant::Any,
                    vec![Some("O*".into()), Some("P,*".into()), None]
                )
            }
        );
        let e = parse_filter(f("a"), "noop.0").unwrap_err();
        assert_eq!(e.code, "PGRST100");
        assert_eq!(
            e.message,
            "\"failed to parse filter (noop.0)\" (line 1, column 1)"
        );
        assert!(parse_filter(f("a"), "is.maybe").is_err());
    }

    #[test]
    fn parses_nested_trees() {
        let t = parse_logic(
            false,
            false,
            "(age.eq.14,not.and(age.gte.11,age.lte.17),name.in.(a,b),x.eq.\"a,b\")",
        )
        .unwrap();
        match t {
            Filter::Logic { children, .. } => {
                assert_eq!(children.len(), 4);
                assert!(
                    matches!(&children[1], Filter::Logic { negate: true, and: true, children } if children.len() == 2)
                );
                assert!(
                    matches!(&children[3], Filter::Cond { op: Op::Cmp(CmpOp::Eq, v), .. } if v == "a,b")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_logic(false, false, "(a.eq.1").is_err());
        assert!(parse_logic(false, false, "a.eq.1").is_err());
    }
}
