//! Pieces of PL/pgSQL statements the parser splits out: the bounds of an integer `for` loop
//! (`a..b [by s]`) and the `into` targets of a query.

use crate::migrate::lex::{Tok, split_top};

#[allow(clippy::type_complexity)]
pub(super) fn range_parts(head: &[Tok]) -> Result<(Vec<Tok>, Vec<Tok>, Option<Vec<Tok>>), String> {
    // `1..10` lexes as one number; `a .. b` as words around two dots.
    let mut flat = Vec::new();
    for t in head {
        match t {
            Tok::Num(n) if n.contains("..") => {
                let (a, b) = n.split_once("..").unwrap_or((n, ""));
                if !a.is_empty() {
                    flat.push(Tok::Num(a.into()));
                }
                flat.push(Tok::Punct("..".into()));
                if !b.is_empty() {
                    flat.push(Tok::Num(b.into()));
                }
            }
            Tok::Num(n) if n.ends_with('.') && n.len() > 1 => {
                flat.push(Tok::Num(n[..n.len() - 1].into()));
                flat.push(Tok::Punct(".".into()));
            }
            Tok::Num(n) if n.starts_with('.') && n.len() > 1 => {
                flat.push(Tok::Punct(".".into()));
                flat.push(Tok::Num(n[1..].into()));
            }
            other => flat.push(other.clone()),
        }
    }
    let mut merged: Vec<Tok> = Vec::new();
    for t in flat {
        if t.is_p(".") && merged.last().is_some_and(|l| l.is_p(".")) {
            merged.pop();
            merged.push(Tok::Punct("..".into()));
        } else {
            merged.push(t);
        }
    }
    let dots = merged
        .iter()
        .position(|t| t.is_p(".."))
        .ok_or("FOR loops run over a query or an integer range a..b")?;
    let from = merged[..dots].to_vec();
    let rest = &merged[dots + 1..];
    let (to, by) = match rest.iter().position(|t| t.is("by")) {
        Some(p) => (rest[..p].to_vec(), Some(rest[p + 1..].to_vec())),
        None => (rest.to_vec(), None),
    };
    Ok((from, to, by))
}

/// Takes `into [strict] a, b` out of a statement (after the select list, or after `returning`).
pub(super) fn take_into(all: &[Tok]) -> Result<(Vec<Tok>, Vec<String>, bool), String> {
    let mut depth = 0;
    for (k, t) in all.iter().enumerate() {
        if t.is_p("(") {
            depth += 1;
        } else if t.is_p(")") {
            depth -= 1;
        } else if depth == 0 && t.is("into") && k > 0 && !all[0].is("insert") {
            let mut j = k + 1;
            let strict = all.get(j).is_some_and(|x| x.is("strict"));
            if strict {
                j += 1;
            }
            let mut into = Vec::new();
            loop {
                let n = all
                    .get(j)
                    .and_then(Tok::name)
                    .ok_or("expected an INTO target")?;
                j += 1;
                if all.get(j).is_some_and(|x| x.is_p(".")) {
                    return Err(
                        "INTO a record field is not supported by the mock's PL/pgSQL".into(),
                    );
                }
                into.push(n);
                if all.get(j).is_some_and(|x| x.is_p(",")) {
                    j += 1;
                } else {
                    break;
                }
            }
            let mut sql = all[..k].to_vec();
            sql.extend_from_slice(&all[j..]);
            return Ok((sql, into, strict));
        }
    }
    // `insert ... returning x into v`: the INTO after RETURNING.
    if all.first().is_some_and(|t| t.is("insert"))
        && let Some(r) = all.iter().position(|t| t.is("returning"))
        && let Some(k) = all[r..].iter().position(|t| t.is("into")).map(|p| p + r)
    {
        let mut j = k + 1;
        let strict = all.get(j).is_some_and(|x| x.is("strict"));
        if strict {
            j += 1;
        }
        let into: Vec<String> = split_top(&all[j..])
            .iter()
            .filter_map(|p| p.first().and_then(Tok::name))
            .collect();
        return Ok((all[..k].to_vec(), into, strict));
    }
    Ok((all.to_vec(), Vec::new(), false))
}
