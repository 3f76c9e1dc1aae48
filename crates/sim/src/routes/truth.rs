//! A route's truth: the small SQL form a route declares (parsed), and its evaluation over a
//! committed state of the table.
//!
//! ```text
//! select <* | col, ...> from [public.]<table>
//!   [where <col> = <value> [and <col> = <value>]...]
//!   [order by <col> [asc|desc] [, ...]]
//!   [limit <n>] [offset <n>]
//! ```
//!
//! A `<value>` is a parameter (`{slug}` or `:slug`, compared as text with the column's value)
//! or a literal (`'tools'`, `7`, `true`, `null`). A limit or offset `<n>` is an integer
//! expression of numbers and parameters with `+ - *` and parentheses:
//! `limit 10 offset ({page} - 1) * 10`.

use crate::history::id_text;
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// What a column is compared with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    /// A route parameter.
    Param(String),
    /// A literal, as text (`'a'` is `a`, `7` is `7`, `true`, `null`).
    Lit(String),
}

/// An integer expression (limit, offset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A number.
    Num(i64),
    /// A route parameter (its value must be an integer).
    Param(String),
    /// `a op b`, op one of `+ - *`.
    Bin(Box<Expr>, char, Box<Expr>),
}

impl Expr {
    fn eval(&self, params: &BTreeMap<String, String>) -> Option<i64> {
        match self {
            Expr::Num(n) => Some(*n),
            Expr::Param(p) => params.get(p)?.trim().parse().ok(),
            Expr::Bin(a, op, b) => {
                let (a, b) = (a.eval(params)?, b.eval(params)?);
                match op {
                    '+' => a.checked_add(b),
                    '-' => a.checked_sub(b),
                    _ => a.checked_mul(b),
                }
            }
        }
    }

    fn params<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Num(_) => {}
            Expr::Param(p) => out.push(p),
            Expr::Bin(a, _, b) => {
                a.params(out);
                b.params(out);
            }
        }
    }
}

/// The supported truth SQL, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truth {
    /// The table.
    pub table: String,
    /// The selected columns (empty: `*`).
    pub columns: Vec<String>,
    /// `where <column> = <value> and ...`.
    pub filters: Vec<(String, Operand)>,
    /// `order by <column> [desc], ...`: (column, descending).
    pub order_by: Vec<(String, bool)>,
    /// `limit`.
    pub limit: Option<Expr>,
    /// `offset`.
    pub offset: Option<Expr>,
}

/// The supported form, for messages.
pub const FORM: &str = "the supported form is `select <* | columns> from <table> \
     [where <column> = <{param} | literal> [and ...]] [order by <column> [asc|desc], ...] \
     [limit <n>] [offset <n>]`";

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Num(i64),
    Str(String),
    Param(String),
    Sym(char),
}

fn tokens(sql: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut it = sql.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            c if c.is_whitespace() => {}
            '\'' => {
                let mut s = String::new();
                loop {
                    match it.next() {
                        Some((_, '\'')) if it.peek().is_some_and(|(_, c)| *c == '\'') => {
                            it.next();
                            s.push('\'');
                        }
                        Some((_, '\'')) => break,
                        Some((_, c)) => s.push(c),
                        None => return Err("a text literal without its closing `'`".into()),
                    }
                }
                out.push(Tok::Str(s));
            }
            '{' => {
                let rest = &sql[i + 1..];
                let end = rest.find('}').ok_or("`{` without `}`")?;
                let name = &rest[..end];
                if !super::pattern::param_name(name) {
                    return Err(format!("bad parameter name {name:?}"));
                }
                out.push(Tok::Param(name.to_string()));
                for _ in 0..=end {
                    it.next();
                }
            }
            ':' => {
                let mut name = String::new();
                while let Some((_, c)) = it
                    .peek()
                    .filter(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
                {
                    name.push(*c);
                    it.next();
                }
                if name.is_empty() {
                    return Err("`:` without a parameter name".into());
                }
                out.push(Tok::Param(name));
            }
            c if c.is_ascii_digit() => {
                let mut n = String::from(c);
                while let Some((_, d)) = it.peek().filter(|(_, d)| d.is_ascii_digit()) {
                    n.push(*d);
                    it.next();
                }
                out.push(Tok::Num(
                    n.parse().map_err(|_| format!("number {n} too large"))?,
                ));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut w = String::from(c);
                while let Some((_, d)) = it
                    .peek()
                    .filter(|(_, d)| d.is_ascii_alphanumeric() || *d == '_' || *d == '.')
                {
                    w.push(*d);
                    it.next();
                }
                out.push(Tok::Word(w));
            }
            '*' | ',' | '=' | '(' | ')' | '+' | '-' | ';' => out.push(Tok::Sym(c)),
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    while out.last() == Some(&Tok::Sym(';')) {
        out.pop();
    }
    Ok(out)
}

struct P {
    toks: Vec<Tok>,
    i: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }
    fn kw(&mut self, k: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k)) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn sym(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Sym(c)) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn ident(&mut self, what: &str) -> Result<String, String> {
        match self.next() {
            Some(Tok::Word(w)) if !w.contains('.') && !is_keyword(&w) => Ok(w),
            other => Err(format!("expected {what}, found {}", show(other.as_ref()))),
        }
    }
    fn expr(&mut self) -> Result<Expr, String> {
        let mut e = self.term()?;
        while let Some(Tok::Sym(c @ ('+' | '-'))) = self.peek().cloned() {
            self.i += 1;
            e = Expr::Bin(Box::new(e), c, Box::new(self.term()?));
        }
        Ok(e)
    }
    fn term(&mut self) -> Result<Expr, String> {
        let mut e = self.atom()?;
        while self.sym('*') {
            e = Expr::Bin(Box::new(e), '*', Box::new(self.atom()?));
        }
        Ok(e)
    }
    fn atom(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(Expr::Num(n)),
            Some(Tok::Param(p)) => Ok(Expr::Param(p)),
            Some(Tok::Sym('(')) => {
                let e = self.expr()?;
                if !self.sym(')') {
                    return Err("`(` without `)`".into());
                }
                Ok(e)
            }
            other => Err(format!(
                "expected a number, a {{param}} or `(`, found {}",
                show(other.as_ref())
            )),
        }
    }
}

fn is_keyword(w: &str) -> bool {
    [
        "select", "from", "where", "and", "order", "by", "limit", "offset", "asc", "desc",
    ]
    .iter()
    .any(|k| w.eq_ignore_ascii_case(k))
}

fn show(t: Option<&Tok>) -> String {
    match t {
        None => "the end".into(),
        Some(Tok::Word(w)) => format!("`{w}`"),
        Some(Tok::Num(n)) => format!("`{n}`"),
        Some(Tok::Str(s)) => format!("'{s}'"),
        Some(Tok::Param(p)) => format!("{{{p}}}"),
        Some(Tok::Sym(c)) => format!("`{c}`"),
    }
}

impl Truth {
    /// Parses the supported form (see the module docs).
    pub fn parse(sql: &str) -> Result<Self, String> {
        let bad = |why: String| format!("{why}: {FORM}");
        let mut p = P {
            toks: tokens(sql).map_err(bad)?,
            i: 0,
        };
        if !p.kw("select") {
            return Err(bad("must start with `select`".into()));
        }
        let mut columns = Vec::new();
        if !p.sym('*') {
            loop {
                columns.push(p.ident("a column name").map_err(bad)?);
                if !p.sym(',') {
                    break;
                }
            }
        }
        if !p.kw("from") {
            return Err(bad(format!("expected `from`, found {}", show(p.peek()))));
        }
        let table = match p.next() {
            Some(Tok::Word(w)) => {
                let t = w.strip_prefix("public.").unwrap_or(&w).to_string();
                if t.contains('.') || is_keyword(&t) {
                    return Err(bad(format!("table {w:?} is not a plain table name")));
                }
                t
            }
            other => {
                return Err(bad(format!(
                    "expected a table, found {}",
                    show(other.as_ref())
                )));
            }
        };
        let mut filters = Vec::new();
        if p.kw("where") {
            loop {
                let col = p.ident("a column name").map_err(bad)?;
                if !p.sym('=') {
                    return Err(bad(format!(
                        "`where {col}` must be `{col} = <{{param}} | literal>`, found {}",
                        show(p.peek())
                    )));
                }
                let value = match p.next() {
                    Some(Tok::Param(x)) => Operand::Param(x),
                    Some(Tok::Str(s)) => Operand::Lit(s),
                    Some(Tok::Num(n)) => Operand::Lit(n.to_string()),
                    Some(Tok::Sym('-')) => match p.next() {
                        Some(Tok::Num(n)) => Operand::Lit(format!("-{n}")),
                        other => {
                            return Err(bad(format!("`where {col} = -{}`", show(other.as_ref()))));
                        }
                    },
                    Some(Tok::Word(w))
                        if ["true", "false", "null"].contains(&w.to_ascii_lowercase().as_str()) =>
                    {
                        Operand::Lit(w.to_ascii_lowercase())
                    }
                    other => {
                        return Err(bad(format!(
                            "`where {col} =` must compare with a {{param}} or a literal, found {}",
                            show(other.as_ref())
                        )));
                    }
                };
                filters.push((col, value));
                if !p.kw("and") {
                    break;
                }
            }
        }
        let mut order_by = Vec::new();
        if p.kw("order") {
            if !p.kw("by") {
                return Err(bad("`order` without `by`".into()));
            }
            loop {
                let col = p.ident("a column name").map_err(bad)?;
                let desc = if p.kw("desc") {
                    true
                } else {
                    p.kw("asc");
                    false
                };
                order_by.push((col, desc));
                if !p.sym(',') {
                    break;
                }
            }
        }
        let limit = if p.kw("limit") {
            Some(p.expr().map_err(bad)?)
        } else {
            None
        };
        let offset = if p.kw("offset") {
            Some(p.expr().map_err(bad)?)
        } else {
            None
        };
        if let Some(t) = p.peek() {
            return Err(bad(format!("unexpected {}", show(Some(t)))));
        }
        Ok(Self {
            table,
            columns,
            filters,
            order_by,
            limit,
            offset,
        })
    }

    /// Every parameter the SQL uses, in order (once each).
    pub fn params(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .filters
            .iter()
            .filter_map(|(_, v)| match v {
                Operand::Param(p) => Some(p.as_str()),
                Operand::Lit(_) => None,
            })
            .collect();
        for e in self.limit.iter().chain(&self.offset) {
            e.params(&mut out);
        }
        let mut seen = Vec::new();
        out.retain(|p| {
            let new = !seen.contains(p);
            seen.push(p);
            new
        });
        out
    }

    /// The column a parameter is compared with, when it is in a `where` (else it is a page
    /// parameter of `limit`/`offset`).
    pub fn column_of(&self, param: &str) -> Option<&str> {
        self.filters.iter().find_map(|(c, v)| match v {
            Operand::Param(p) if p == param => Some(c.as_str()),
            _ => None,
        })
    }

    /// `Some(param)` when the SQL selects one row by its key: exactly `where id = {param}`,
    /// no limit or offset (the per-row resource the course's routes have).
    pub fn key_param(&self) -> Option<&str> {
        match (self.filters.as_slice(), &self.limit, &self.offset) {
            ([(c, Operand::Param(p))], None, None) if c == "id" => Some(p),
            _ => None,
        }
    }

    /// The rows the SQL gives over `rows` (a committed state of the table), or `None` when a
    /// parameter is missing or a limit/offset is not a non-negative integer for these `params`
    /// (Postgres would refuse the query; such a request is not judged).
    pub fn eval(&self, rows: &[Value], params: &BTreeMap<String, String>) -> Option<Vec<Value>> {
        let mut wanted = Vec::new();
        for (col, v) in &self.filters {
            let text = match v {
                Operand::Param(p) => params.get(p)?.clone(),
                Operand::Lit(l) => l.clone(),
            };
            wanted.push((col.as_str(), text));
        }
        let mut out: Vec<Value> = rows
            .iter()
            .filter(|r| {
                wanted
                    .iter()
                    .all(|(c, t)| id_text(r.get(*c).unwrap_or(&Value::Null)) == *t)
            })
            .cloned()
            .collect();
        self.sort(&mut out);
        let offset = match &self.offset {
            Some(e) => usize::try_from(e.eval(params)?).ok()?,
            None => 0,
        };
        let limit = match &self.limit {
            Some(e) => usize::try_from(e.eval(params)?).ok()?,
            None => usize::MAX,
        };
        Some(out.into_iter().skip(offset).take(limit).collect())
    }

    /// Sorts `rows` by the `order by` (ties: by `id`, then as stored).
    pub fn sort(&self, rows: &mut [Value]) {
        if self.order_by.is_empty() {
            return;
        }
        rows.sort_by(|a, b| {
            self.order_by
                .iter()
                .map(|(c, desc)| {
                    let o = cmp_json(a.get(c), b.get(c));
                    if *desc { o.reverse() } else { o }
                })
                .find(|o| o.is_ne())
                .unwrap_or_else(|| cmp_json(a.get("id"), b.get("id")))
        });
    }

    /// Every column the SQL names.
    pub fn named_columns(&self) -> Vec<&str> {
        self.columns
            .iter()
            .map(String::as_str)
            .chain(self.filters.iter().map(|f| f.0.as_str()))
            .chain(self.order_by.iter().map(|o| o.0.as_str()))
            .collect()
    }
}

/// Orders JSON values: null first, then numbers numerically, then text, then the rest as text.
pub fn cmp_json(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn rank(v: Option<&Value>) -> u8 {
        match v {
            None | Some(Value::Null) => 0,
            Some(Value::Number(_)) => 1,
            Some(Value::String(_)) => 2,
            _ => 3,
        }
    }
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        _ => rank(a)
            .cmp(&rank(b))
            .then_with(|| a.map(Value::to_string).cmp(&b.map(Value::to_string))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sql_forms() {
        let t = Truth::parse("SELECT * FROM public.products WHERE id = {id};").unwrap();
        assert_eq!(t.table, "products");
        assert_eq!(t.key_param(), Some("id"));
        let t = Truth::parse("select id, name from products order by name desc").unwrap();
        assert_eq!(t.columns, vec!["id", "name"]);
        assert_eq!(t.order_by, vec![("name".into(), true)]);
        let t = Truth::parse(
            "select * from products where category = :slug and active = true \
             order by price desc, id limit 2 offset ({page} - 1) * 2",
        )
        .unwrap();
        assert_eq!(t.params(), vec!["slug", "page"]);
        assert_eq!(t.column_of("slug"), Some("category"));
        assert_eq!(t.column_of("page"), None);
        assert_eq!(t.key_param(), None);
        let t = Truth::parse("select * from t where name = 'it''s' and n = -3").unwrap();
        assert_eq!(
            t.filters,
            vec![
                ("name".into(), Operand::Lit("it's".into())),
                ("n".into(), Operand::Lit("-3".into()))
            ]
        );
        for bad in [
            "delete from products",
            "select * from products where id = 7 or id = 8",
            "select * from products where id > {id}",
            "select * from products limit {n",
            "select * from products where name = 'x",
            "select * from products order by",
            "select * from products offset page",
            "select * from a.b.c",
        ] {
            assert!(Truth::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn evaluation_filters_orders_and_pages() {
        let rows = vec![
            json!({"id": 1, "cat": "a", "price": 5}),
            json!({"id": 2, "cat": "b", "price": 9}),
            json!({"id": 3, "cat": "a", "price": 9}),
            json!({"id": 10, "cat": "a", "price": 1}),
        ];
        let t = Truth::parse(
            "select * from p where cat = {c} order by price desc limit 2 offset ({page} - 1) * 2",
        )
        .unwrap();
        let ids = |v: Option<Vec<Value>>| {
            v.map(|v| v.iter().map(|r| r["id"].clone()).collect::<Vec<_>>())
        };
        assert_eq!(
            ids(t.eval(&rows, &params(&[("c", "a"), ("page", "1")]))),
            Some(vec![json!(3), json!(1)])
        );
        assert_eq!(
            ids(t.eval(&rows, &params(&[("c", "a"), ("page", "2")]))),
            Some(vec![json!(10)])
        );
        assert_eq!(
            ids(t.eval(&rows, &params(&[("c", "a"), ("page", "3")]))),
            Some(vec![])
        );
        assert_eq!(
            ids(t.eval(&rows, &params(&[("c", "z"), ("page", "1")]))),
            Some(vec![])
        );
        assert_eq!(
            t.eval(&rows, &params(&[("c", "a"), ("page", "0")])),
            None,
            "negative offset"
        );
        assert_eq!(t.eval(&rows, &params(&[("c", "a"), ("page", "x")])), None);
        assert_eq!(t.eval(&rows, &params(&[("page", "1")])), None);
        let by_id = Truth::parse("select * from p where id = {id}").unwrap();
        assert_eq!(
            ids(by_id.eval(&rows, &params(&[("id", "10")]))),
            Some(vec![json!(10)])
        );
        let ties = Truth::parse("select * from p order by price desc").unwrap();
        assert_eq!(
            ids(ties.eval(&rows, &BTreeMap::new())),
            Some(vec![json!(2), json!(3), json!(1), json!(10)]),
            "ties by id"
        );
    }
}
