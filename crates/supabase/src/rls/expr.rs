//! Parsing the Postgres expressions of policies (`using (...)`, `with check (...)`) into a
//! small syntax tree: column references, literals, function calls, boolean logic, comparisons,
//! `is [not] null`, `in (...)`, `between`, `like`/`ilike`, `case`, casts, the JSON operators
//! `->`/`->>`, `= any(array[...])`, and `exists (select ...)`, `in (select ...)` and scalar
//! `(select ...)` subqueries. Anything else is a parse error, which makes the policy deny.

use crate::migrate::lex::Tok;

/// A literal.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    /// A string (unescaped content).
    Str(String),
    /// A number as written.
    Num(String),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `[qualifier.]column`.
    Col {
        /// Table name or alias.
        qual: Option<String>,
        /// Column name.
        name: String,
    },
    /// A literal.
    Lit(Lit),
    /// `[schema.]name(args)`; `name` is lower-case and schema-qualified when written so.
    Func {
        /// `auth.uid`, `coalesce`, ...
        name: String,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// `not e`.
    Not(Box<Expr>),
    /// `-e`.
    Neg(Box<Expr>),
    /// A binary operator (lower-case keyword or symbol: `and`, `or`, `=`, `<>`, `->>`, ...).
    Bin(String, Box<Expr>, Box<Expr>),
    /// `e is [not] null`.
    IsNull(Box<Expr>, bool),
    /// `e is [not] true|false`.
    IsBool(Box<Expr>, bool, bool),
    /// `a is [not] distinct from b`.
    IsDistinct(Box<Expr>, Box<Expr>, bool),
    /// `e [not] in (list)`.
    InList(Box<Expr>, Vec<Expr>, bool),
    /// `e [not] in (select ...)`.
    InSelect(Box<Expr>, Box<Select>, bool),
    /// `e [not] between lo and hi`.
    Between(Box<Expr>, Box<Expr>, Box<Expr>, bool),
    /// `e [not] like|ilike pattern`.
    Like(Box<Expr>, Box<Expr>, bool, bool),
    /// `exists (select ...)`.
    Exists(Box<Select>),
    /// `(select ...)`.
    Scalar(Box<Select>),
    /// `case [operand] when .. then .. [else ..] end`.
    Case(Option<Box<Expr>>, Vec<(Expr, Expr)>, Option<Box<Expr>>),
    /// `e::type` / `cast(e as type)`.
    Cast(Box<Expr>, String),
    /// `array[a, b, ...]`.
    Array(Vec<Expr>),
    /// `e[i]`.
    Subscript(Box<Expr>, Box<Expr>),
    /// `e op any(arr)` (`false`) / `e op all(arr)` (`true`) over an array value.
    Quantified(Box<Expr>, String, Box<Expr>, bool),
}

/// A table in a subquery's `from`.
#[derive(Clone, Debug, PartialEq)]
pub struct FromItem {
    /// Schema, when written (`auth.users`).
    pub schema: Option<String>,
    /// Table name.
    pub table: String,
    /// Alias.
    pub alias: Option<String>,
    /// `join ... on cond` (None for the first table and comma joins).
    pub on: Option<Expr>,
}

/// `select items from tables [where cond] [limit n]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    /// Output expressions (`None` = `*`).
    pub items: Option<Vec<Expr>>,
    /// Tables (may be empty: `(select auth.uid())`).
    pub from: Vec<FromItem>,
    /// `where`.
    pub filter: Option<Expr>,
    /// `limit`.
    pub limit: Option<Expr>,
}

struct P<'a> {
    t: &'a [Tok],
    i: usize,
}

type R<T> = Result<T, String>;

const RESERVED: &[&str] = &[
    "and", "or", "not", "is", "in", "between", "like", "ilike", "from", "where", "limit", "then",
    "when", "else", "end", "as", "on", "join", "inner", "left", "select", "order", "group",
    "union", "similar",
];

impl<'a> P<'a> {
    fn peek(&self) -> Option<&'a Tok> {
        self.t.get(self.i)
    }
    fn peek_at(&self, k: usize) -> Option<&'a Tok> {
        self.t.get(self.i + k)
    }
    fn kw(&self, k: &str) -> bool {
        self.peek().is_some_and(|t| t.is(k))
    }
    fn p(&self, s: &str) -> bool {
        self.peek().is_some_and(|t| t.is_p(s))
    }
    fn eat_kw(&mut self, k: &str) -> bool {
        let y = self.kw(k);
        if y {
            self.i += 1;
        }
        y
    }
    fn eat_p(&mut self, s: &str) -> bool {
        let y = self.p(s);
        if y {
            self.i += 1;
        }
        y
    }
    fn expect_p(&mut self, s: &str) -> R<()> {
        if self.eat_p(s) {
            Ok(())
        } else {
            Err(format!("expected `{s}` at {}", self.here()))
        }
    }
    fn expect_kw(&mut self, k: &str) -> R<()> {
        if self.eat_kw(k) {
            Ok(())
        } else {
            Err(format!("expected `{k}` at {}", self.here()))
        }
    }
    fn here(&self) -> String {
        self.peek()
            .map(|t| format!("`{}`", t.sql()))
            .unwrap_or_else(|| "the end".into())
    }
    fn ident(&mut self) -> R<String> {
        match self.peek() {
            Some(Tok::QIdent(q)) => {
                self.i += 1;
                Ok(q.clone())
            }
            Some(Tok::Word(w)) if !RESERVED.iter().any(|r| w.eq_ignore_ascii_case(r)) => {
                self.i += 1;
                Ok(w.to_ascii_lowercase())
            }
            _ => Err(format!("expected a name at {}", self.here())),
        }
    }

    fn or(&mut self) -> R<Expr> {
        let mut l = self.and()?;
        while self.eat_kw("or") {
            let r = self.and()?;
            l = Expr::Bin("or".into(), Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn and(&mut self) -> R<Expr> {
        let mut l = self.not()?;
        while self.eat_kw("and") {
            let r = self.not()?;
            l = Expr::Bin("and".into(), Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn not(&mut self) -> R<Expr> {
        if self.eat_kw("not") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.is()
    }
    fn is(&mut self) -> R<Expr> {
        let mut e = self.cmp()?;
        loop {
            if self.eat_kw("isnull") {
                e = Expr::IsNull(Box::new(e), false);
            } else if self.eat_kw("notnull") {
                e = Expr::IsNull(Box::new(e), true);
            } else if self.eat_kw("is") {
                let neg = self.eat_kw("not");
                if self.eat_kw("null") {
                    e = Expr::IsNull(Box::new(e), neg);
                } else if self.eat_kw("true") {
                    e = Expr::IsBool(Box::new(e), true, neg);
                } else if self.eat_kw("false") {
                    e = Expr::IsBool(Box::new(e), false, neg);
                } else if self.eat_kw("distinct") {
                    self.expect_kw("from")?;
                    let r = self.cmp()?;
                    e = Expr::IsDistinct(Box::new(e), Box::new(r), neg);
                } else {
                    return Err(format!("unsupported `is` form at {}", self.here()));
                }
            } else {
                return Ok(e);
            }
        }
    }
    fn cmp(&mut self) -> R<Expr> {
        let l = self.pred()?;
        for op in [
            "=", "<>", "!=", "<=", ">=", "<", ">", "~", "~*", "!~", "!~*",
        ] {
            if self.p(op) {
                self.i += 1;
                if op.contains('~') {
                    let r = self.pred()?;
                    return Ok(Expr::Bin(op.into(), Box::new(l), Box::new(r)));
                }
                if self.kw("any") || self.kw("some") || self.kw("all") {
                    return self.quantified(l, op);
                }
                let r = self.pred()?;
                let op = if op == "!=" { "<>" } else { op };
                return Ok(Expr::Bin(op.into(), Box::new(l), Box::new(r)));
            }
        }
        Ok(l)
    }
    /// `x = any(array[...])` / `x = any(select ...)` / `<> all(...)`.
    fn quantified(&mut self, l: Expr, op: &str) -> R<Expr> {
        let all = self.kw("all");
        self.i += 1;
        self.expect_p("(")?;
        let any_eq = op == "=" && !all;
        let all_ne = (op == "<>" || op == "!=") && all;
        let op = if op == "!=" { "<>" } else { op };
        if !(any_eq || all_ne) {
            if self.kw("select") {
                return Err(format!("`{op} any/all (select ...)` is not supported"));
            }
            let arr = self.or()?;
            self.expect_p(")")?;
            return Ok(Expr::Quantified(Box::new(l), op.into(), Box::new(arr), all));
        }
        let neg = all_ne;
        if self.kw("select") {
            let s = self.select()?;
            self.expect_p(")")?;
            return Ok(Expr::InSelect(Box::new(l), Box::new(s), neg));
        }
        if self.eat_kw("array") {
            self.expect_p("[")?;
            let items = self.list("]")?;
            self.expect_p(")")?;
            return Ok(Expr::InList(Box::new(l), items, neg));
        }
        let arr = self.or()?;
        self.expect_p(")")?;
        Ok(Expr::Quantified(Box::new(l), op.into(), Box::new(arr), all))
    }
    fn list(&mut self, close: &str) -> R<Vec<Expr>> {
        let mut items = Vec::new();
        if self.eat_p(close) {
            return Ok(items);
        }
        loop {
            items.push(self.or()?);
            if self.eat_p(close) {
                return Ok(items);
            }
            self.expect_p(",")?;
        }
    }
    fn pred(&mut self) -> R<Expr> {
        let l = self.other()?;
        let save = self.i;
        let neg = self.eat_kw("not");
        if self.eat_kw("in") {
            self.expect_p("(")?;
            if self.kw("select") {
                let s = self.select()?;
                self.expect_p(")")?;
                return Ok(Expr::InSelect(Box::new(l), Box::new(s), neg));
            }
            let items = self.list(")")?;
            return Ok(Expr::InList(Box::new(l), items, neg));
        }
        if self.eat_kw("between") {
            let lo = self.other()?;
            self.expect_kw("and")?;
            let hi = self.other()?;
            return Ok(Expr::Between(Box::new(l), Box::new(lo), Box::new(hi), neg));
        }
        for (k, ci) in [("like", false), ("ilike", true)] {
            if self.eat_kw(k) {
                let r = self.other()?;
                return Ok(Expr::Like(Box::new(l), Box::new(r), ci, neg));
            }
        }
        self.i = save;
        Ok(l)
    }
    fn other(&mut self) -> R<Expr> {
        let mut l = self.add()?;
        loop {
            // Regular-expression matches are "any other operator" in Postgres's grammar: they
            // bind tighter than comparisons (`a ~ 'x' or b` is `(a ~ 'x') or b`).
            let op = if self.p("->>")
                || self.p("->")
                || self.p("||")
                || self.p("~")
                || self.p("~*")
                || self.p("!~")
                || self.p("!~*")
            {
                match self.peek() {
                    Some(Tok::Punct(p)) => p.clone(),
                    _ => unreachable!("checked above"),
                }
            } else if self.p("@") || self.p("#") || self.p("?") || self.p("~") {
                return Err(format!(
                    "operator {} is not supported in policies",
                    self.here()
                ));
            } else {
                return Ok(l);
            };
            self.i += 1;
            let r = self.add()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }
    fn add(&mut self) -> R<Expr> {
        let mut l = self.mul()?;
        while self.p("+") || self.p("-") {
            let op = if self.p("+") { "+" } else { "-" };
            self.i += 1;
            let r = self.mul()?;
            l = Expr::Bin(op.into(), Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn mul(&mut self) -> R<Expr> {
        let mut l = self.unary()?;
        while self.p("*") || self.p("/") || self.p("%") {
            let op = match self.peek() {
                Some(Tok::Punct(p)) => p.clone(),
                _ => unreachable!("checked above"),
            };
            self.i += 1;
            let r = self.unary()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn unary(&mut self) -> R<Expr> {
        if self.eat_p("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        if self.eat_p("+") {
            return self.unary();
        }
        self.cast()
    }
    fn cast(&mut self) -> R<Expr> {
        let mut e = self.primary()?;
        while self.eat_p("[") {
            let i = self.or()?;
            if self.p(":") {
                return Err("array slices are not supported".into());
            }
            self.expect_p("]")?;
            e = Expr::Subscript(Box::new(e), Box::new(i));
        }
        while self.eat_p("::") {
            let ty = self.type_name()?;
            e = Expr::Cast(Box::new(e), ty);
        }
        Ok(e)
    }
    fn type_name(&mut self) -> R<String> {
        let mut words = vec![self.ident()?];
        while self.eat_p(".") {
            words = vec![self.ident()?];
        }
        // Multi-word types.
        while let Some(Tok::Word(w)) = self.peek() {
            let w = w.to_ascii_lowercase();
            if matches!(
                w.as_str(),
                "precision" | "varying" | "with" | "without" | "time" | "zone"
            ) {
                words.push(w);
                self.i += 1;
            } else {
                break;
            }
        }
        if self.eat_p("(") {
            while !self.eat_p(")") {
                if self.peek().is_none() {
                    return Err("unbalanced parentheses in a type".into());
                }
                self.i += 1;
            }
        }
        if self.eat_p("[") {
            return Err("array types are not supported".into());
        }
        Ok(words.join(" "))
    }
    fn primary(&mut self) -> R<Expr> {
        let Some(t) = self.peek() else {
            return Err("unexpected end of expression".into());
        };
        match t {
            Tok::Str(s) => {
                self.i += 1;
                let inner = &s[1..s.len().saturating_sub(1).max(1)];
                Ok(Expr::Lit(Lit::Str(inner.replace("''", "'"))))
            }
            Tok::Num(n) => {
                self.i += 1;
                Ok(Expr::Lit(Lit::Num(n.clone())))
            }
            Tok::Punct(p) if p == "(" => {
                self.i += 1;
                if self.kw("select") {
                    let s = self.select()?;
                    self.expect_p(")")?;
                    return Ok(Expr::Scalar(Box::new(s)));
                }
                let e = self.or()?;
                self.expect_p(")")?;
                Ok(e)
            }
            Tok::Word(w) => {
                let lw = w.to_ascii_lowercase();
                match lw.as_str() {
                    "true" | "false" => {
                        self.i += 1;
                        return Ok(Expr::Lit(Lit::Bool(lw == "true")));
                    }
                    "null" => {
                        self.i += 1;
                        return Ok(Expr::Lit(Lit::Null));
                    }
                    "exists" => {
                        self.i += 1;
                        self.expect_p("(")?;
                        let s = self.select()?;
                        self.expect_p(")")?;
                        return Ok(Expr::Exists(Box::new(s)));
                    }
                    "case" => {
                        self.i += 1;
                        return self.case();
                    }
                    "cast" if self.peek_at(1).is_some_and(|t| t.is_p("(")) => {
                        self.i += 2;
                        let e = self.or()?;
                        self.expect_kw("as")?;
                        let ty = self.type_name()?;
                        self.expect_p(")")?;
                        return Ok(Expr::Cast(Box::new(e), ty));
                    }
                    "current_timestamp" | "localtimestamp" => {
                        self.i += 1;
                        return Ok(Expr::Func {
                            name: "now".into(),
                            args: Vec::new(),
                        });
                    }
                    "current_user" | "session_user" | "current_role" | "user" => {
                        self.i += 1;
                        return Ok(Expr::Func {
                            name: "current_user".into(),
                            args: Vec::new(),
                        });
                    }
                    "interval" => return Err("intervals are not supported".into()),
                    "array" if self.peek_at(1).is_some_and(|t| t.is_p("[")) => {
                        self.i += 2;
                        return Ok(Expr::Array(self.list("]")?));
                    }
                    _ => {}
                }
                self.name_or_call()
            }
            Tok::QIdent(_) => self.name_or_call(),
            _ => Err(format!("unexpected {}", self.here())),
        }
    }
    fn name_or_call(&mut self) -> R<Expr> {
        let mut parts = vec![self.ident()?];
        while self.p(".") {
            self.i += 1;
            parts.push(self.ident()?);
        }
        if self.eat_p("(") {
            let mut args = Vec::new();
            if !self.eat_p(")") {
                if self.eat_kw("distinct") {
                    return Err("aggregate forms are not supported".into());
                }
                loop {
                    if self.p("*") {
                        return Err("`f(*)` is not supported".into());
                    }
                    args.push(self.or()?);
                    if self.eat_p(")") {
                        break;
                    }
                    self.expect_p(",")?;
                }
            }
            if self.kw("over") || self.kw("filter") {
                return Err("window and aggregate functions are not supported".into());
            }
            return Ok(Expr::Func {
                name: parts.join("."),
                args,
            });
        }
        match parts.len() {
            1 => Ok(Expr::Col {
                qual: None,
                name: parts.remove(0),
            }),
            2 => {
                let name = parts.pop().unwrap_or_default();
                Ok(Expr::Col {
                    qual: parts.pop(),
                    name,
                })
            }
            // schema.table.column: the table qualifies it.
            3 => {
                let name = parts.pop().unwrap_or_default();
                Ok(Expr::Col {
                    qual: parts.pop(),
                    name,
                })
            }
            _ => Err(format!("unsupported name {}", parts.join("."))),
        }
    }
    fn case(&mut self) -> R<Expr> {
        let operand = if self.kw("when") {
            None
        } else {
            Some(Box::new(self.or()?))
        };
        let mut whens = Vec::new();
        while self.eat_kw("when") {
            let c = self.or()?;
            self.expect_kw("then")?;
            let v = self.or()?;
            whens.push((c, v));
        }
        let els = if self.eat_kw("else") {
            Some(Box::new(self.or()?))
        } else {
            None
        };
        self.expect_kw("end")?;
        if whens.is_empty() {
            return Err("`case` without `when`".into());
        }
        Ok(Expr::Case(operand, whens, els))
    }
    fn select(&mut self) -> R<Select> {
        self.expect_kw("select")?;
        if self.kw("distinct") {
            self.i += 1;
        }
        let items = if self.eat_p("*") {
            None
        } else {
            let mut items = vec![self.item()?];
            while self.eat_p(",") {
                items.push(self.item()?);
            }
            Some(items)
        };
        let mut from = Vec::new();
        if self.eat_kw("from") {
            from.push(self.table_ref(None)?);
            loop {
                if self.eat_p(",") {
                    from.push(self.table_ref(None)?);
                    continue;
                }
                let save = self.i;
                self.eat_kw("inner");
                if self.eat_kw("join") {
                    let mut f = self.table_ref(None)?;
                    self.expect_kw("on")?;
                    f.on = Some(self.or()?);
                    from.push(f);
                    continue;
                }
                self.i = save;
                if self.kw("left") || self.kw("right") || self.kw("full") || self.kw("cross") {
                    return Err("outer and cross joins are not supported in policies".into());
                }
                break;
            }
        }
        let filter = if self.eat_kw("where") {
            Some(self.or()?)
        } else {
            None
        };
        let limit = if self.eat_kw("limit") {
            Some(self.or()?)
        } else {
            None
        };
        if !self.p(")") {
            return Err(format!("unsupported subquery clause at {}", self.here()));
        }
        Ok(Select {
            items,
            from,
            filter,
            limit,
        })
    }
    fn item(&mut self) -> R<Expr> {
        let e = self.or()?;
        let bare = matches!(self.peek(), Some(Tok::Word(w)) if !RESERVED.iter().any(|r| w.eq_ignore_ascii_case(r)));
        if self.eat_kw("as") || bare {
            self.ident()?;
        }
        Ok(e)
    }
    fn table_ref(&mut self, on: Option<Expr>) -> R<FromItem> {
        if self.p("(") {
            return Err("derived tables in `from` are not supported".into());
        }
        let first = self.ident()?;
        let (schema, table) = if self.eat_p(".") {
            (Some(first), self.ident()?)
        } else {
            (None, first)
        };
        if self.p("(") {
            return Err(format!(
                "set-returning function {table}() in `from` is not supported"
            ));
        }
        let bare = matches!(self.peek(), Some(Tok::Word(w)) if !RESERVED.iter().any(|r| w.eq_ignore_ascii_case(r)))
            || matches!(self.peek(), Some(Tok::QIdent(_)));
        let alias = if self.eat_kw("as") || bare {
            Some(self.ident()?)
        } else {
            None
        };
        Ok(FromItem {
            schema,
            table,
            alias,
            on,
        })
    }
}

/// Parses a whole expression.
pub fn parse(toks: &[Tok]) -> Result<Expr, String> {
    let mut p = P { t: toks, i: 0 };
    let e = p.or()?;
    if p.i != toks.len() {
        return Err(format!("unexpected {} after the expression", p.here()));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::lex::tokenize;

    fn e(s: &str) -> Result<Expr, String> {
        parse(&tokenize(s).unwrap())
    }

    #[test]
    fn parses_the_common_policy_forms() {
        for s in [
            "auth.uid() = user_id",
            "(select auth.uid()) = user_id",
            "published = true or auth.uid() = author_id",
            "auth.role() = 'authenticated'",
            "(auth.jwt() -> 'app_metadata' ->> 'role')::text = 'admin'",
            "exists (select 1 from members m where m.team_id = posts.team_id and m.user_id = auth.uid())",
            "team_id in (select team_id from members where user_id = (select auth.uid()))",
            "current_setting('request.jwt.claims', true)::json ->> 'sub' = user_id::text",
            "status in ('a', 'b') and not deleted",
            "coalesce(is_public, false) is true",
            "case when a then b else c end",
            "x = any(array['a','b'])",
            "x = any(tags)",
            "tags[1] = 'c' or 3 < all(nums)",
            "name ~ '^a' or b",
            "id between 1 and 10 and name ilike '%x%'",
            "\"Owner\" = auth.uid()",
            "public.posts.user_id = auth.uid()",
        ] {
            e(s).unwrap_or_else(|err| panic!("{s}: {err}"));
        }
        for s in [
            "tags @> array['x']",
            "created_at > now() - interval '1 day'",
            "tags[1:2] = tags",
            "count(*) > 1",
            "a = ",
            "a b",
        ] {
            assert!(e(s).is_err(), "{s}");
        }
        assert_eq!(
            e("a = 1 or b and not c").unwrap(),
            Expr::Bin(
                "or".into(),
                Box::new(Expr::Bin(
                    "=".into(),
                    Box::new(Expr::Col {
                        qual: None,
                        name: "a".into()
                    }),
                    Box::new(Expr::Lit(Lit::Num("1".into())))
                )),
                Box::new(Expr::Bin(
                    "and".into(),
                    Box::new(Expr::Col {
                        qual: None,
                        name: "b".into()
                    }),
                    Box::new(Expr::Not(Box::new(Expr::Col {
                        qual: None,
                        name: "c".into()
                    })))
                ))
            )
        );
    }
}
