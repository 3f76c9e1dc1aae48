//! The PL/pgSQL subset the mock interprets, parsed from a function body into statements whose
//! expressions and queries stay token lists (they run as SQL, with variables bound).
//!
//! Supported: `declare` (scalars with defaults, `record`, `t%rowtype`), nested `begin ... end`
//! blocks, `exception when ... then` handlers, `:=`/`=` assignment (also `new.col := ...`),
//! `if/elsif/else`, `case` (simple and searched), `loop`, `while`, `for r in <query> loop`,
//! `for i in a..b loop`, `exit/continue [when]`, `return [expr]`, `return next`, `return query`,
//! `raise` (levels, `%` placeholders), `perform`, `select ... into`, `insert/update/delete
//! [returning ... into]`, `null`, `get diagnostics v = row_count`. Anything else (dynamic
//! `execute`, cursors, `foreach`, ...) is refused at parse time with the construct's name.

mod ast;
mod parts;

use crate::migrate::lex::{Tok, split_top, tokenize};
pub use ast::{Block, Decl, Level, Stmt};
use parts::{range_parts, take_into};

/// Parses a PL/pgSQL body (`[declare ...] begin ... end`).
pub fn parse(body: &str) -> Result<Block, String> {
    let text = super::def::positional_words(body);
    let toks = tokenize(&text)?;
    let mut p = Parser { t: toks, i: 0 };
    let b = p.block()?;
    if p.peek_p(";") {
        p.i += 1;
    }
    if p.i < p.t.len() {
        return Err(format!(
            "unexpected `{}` after the body's END",
            p.t[p.i].sql()
        ));
    }
    Ok(b)
}

struct Parser {
    t: Vec<Tok>,
    i: usize,
}

impl Parser {
    fn peek(&self, kw: &str) -> bool {
        self.t.get(self.i).is_some_and(|t| t.is(kw))
    }
    fn peek_p(&self, p: &str) -> bool {
        self.t.get(self.i).is_some_and(|t| t.is_p(p))
    }
    fn expect(&mut self, kw: &str) -> Result<(), String> {
        if self.peek(kw) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "expected {} but found {}",
                kw.to_ascii_uppercase(),
                self.t
                    .get(self.i)
                    .map(|t| format!("`{}`", t.sql()))
                    .unwrap_or_else(|| "the end of the body".into())
            ))
        }
    }
    fn semi(&mut self) -> Result<(), String> {
        if self.peek_p(";") {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "expected ; but found {}",
                self.t
                    .get(self.i)
                    .map(|t| format!("`{}`", t.sql()))
                    .unwrap_or_else(|| "the end of the body".into())
            ))
        }
    }
    fn name(&mut self) -> Result<String, String> {
        let n = self
            .t
            .get(self.i)
            .and_then(Tok::name)
            .ok_or("expected a name")?;
        self.i += 1;
        Ok(n)
    }
    /// Tokens up to (not including) the next top-level `;` or one of `stops` (keywords).
    fn until(&mut self, stops: &[&str]) -> Vec<Tok> {
        let start = self.i;
        let mut depth = 0i32;
        let mut case_depth = 0i32;
        while let Some(t) = self.t.get(self.i) {
            if t.is_p("(") {
                depth += 1;
            } else if t.is_p(")") {
                depth -= 1;
            } else if depth == 0 {
                if t.is("case") {
                    case_depth += 1;
                } else if t.is("end") && case_depth > 0 {
                    case_depth -= 1;
                    self.i += 1;
                    continue;
                }
                if case_depth == 0 && (t.is_p(";") || stops.iter().any(|s| t.is(s))) {
                    break;
                }
            }
            self.i += 1;
        }
        self.t[start..self.i].to_vec()
    }

    fn block(&mut self) -> Result<Block, String> {
        let mut decls = Vec::new();
        if self.peek("declare") {
            self.i += 1;
            while !self.peek("begin") {
                if self.i >= self.t.len() {
                    return Err("expected BEGIN".into());
                }
                decls.push(self.decl()?);
            }
        }
        self.expect("begin")?;
        let body = self.stmts(&["end", "exception"])?;
        let mut handlers = Vec::new();
        if self.peek("exception") {
            self.i += 1;
            while self.peek("when") {
                self.i += 1;
                let mut conds = Vec::new();
                loop {
                    if self.peek("sqlstate") {
                        self.i += 1;
                        match self.t.get(self.i) {
                            Some(Tok::Str(s)) => {
                                conds.push(format!("sqlstate {}", s.trim_matches('\'')))
                            }
                            _ => return Err("expected a SQLSTATE string".into()),
                        }
                        self.i += 1;
                    } else {
                        conds.push(self.name()?);
                    }
                    if self.peek("or") {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                self.expect("then")?;
                let stmts = self.stmts(&["when", "end"])?;
                handlers.push((conds, stmts));
            }
        }
        self.expect("end")?;
        // Optional label after END.
        if self
            .t
            .get(self.i)
            .is_some_and(|t| matches!(t, Tok::Word(_)))
            && self.t.get(self.i + 1).is_some_and(|t| t.is_p(";"))
        {
            self.i += 1;
        }
        Ok(Block {
            decls,
            body,
            handlers,
        })
    }

    fn decl(&mut self) -> Result<Decl, String> {
        let name = self.name()?;
        if self.peek("alias") {
            self.i += 1;
            self.expect("for")?;
            let of = self.name()?;
            self.semi()?;
            return Ok(Decl {
                name,
                record: false,
                init: None,
                alias_of: Some(of),
                ty: None,
                constant: false,
            });
        }
        if self.peek("cursor") || self.peek("refcursor") {
            return Err("cursors are not supported by the mock's PL/pgSQL".into());
        }
        let constant = self.peek("constant");
        if constant {
            self.i += 1;
        }
        let ty = self.until(&["default"]);
        let mut ty_end = ty.len();
        let mut init = None;
        if let Some(p) = ty.windows(2).position(|w| w[0].is_p(":") && w[1].is_p("=")) {
            ty_end = p;
            init = Some(ty[p + 2..].to_vec());
        } else if let Some(p) = ty.iter().position(|t| t.is_p("=")) {
            ty_end = p;
            init = Some(ty[p + 1..].to_vec());
        }
        if self.peek("default") {
            self.i += 1;
            init = Some(self.until(&[]));
        }
        self.semi()?;
        let ty = &ty[..ty_end];
        let record = ty.first().is_some_and(|t| t.is("record"))
            || ty.windows(2).any(|w| w[0].is_p("%") && w[1].is("rowtype"));
        let plain_record = ty.first().is_some_and(|t| t.is("record"));
        let ty = (!plain_record && !ty.is_empty()).then(|| {
            ty.iter()
                .map(Tok::sql)
                .collect::<Vec<_>>()
                .join(" ")
                .replace(" %", "%")
                .replace("% ", "%")
                .replace(" . ", ".")
                .replace(" (", "(")
        });
        Ok(Decl {
            name,
            record,
            init,
            alias_of: None,
            ty,
            constant,
        })
    }

    fn stmts(&mut self, stops: &[&str]) -> Result<Vec<Stmt>, String> {
        let mut out = Vec::new();
        loop {
            if self.i >= self.t.len() {
                return Err(format!(
                    "expected {} before the end of the body",
                    stops.join(" or ").to_ascii_uppercase()
                ));
            }
            if stops.iter().any(|s| self.peek(s)) {
                return Ok(out);
            }
            out.push(self.stmt()?);
        }
    }

    fn label(&mut self) -> Option<String> {
        if self.peek_p("<") && self.t.get(self.i + 1).is_some_and(|t| t.is_p("<")) {
            let name = self.t.get(self.i + 2).and_then(Tok::name);
            if name.is_some()
                && self.t.get(self.i + 3).is_some_and(|t| t.is_p(">"))
                && self.t.get(self.i + 4).is_some_and(|t| t.is_p(">"))
            {
                self.i += 5;
                return name;
            }
        }
        None
    }

    fn end_loop(&mut self) -> Result<(), String> {
        self.expect("end")?;
        self.expect("loop")?;
        if !self.peek_p(";") {
            self.i += 1;
        }
        self.semi()
    }

    fn exit_like(&mut self) -> Result<(Option<String>, Option<Vec<Tok>>), String> {
        self.i += 1;
        let mut label = None;
        if !self.peek("when") && !self.peek_p(";") {
            label = Some(self.name()?);
        }
        let mut when = None;
        if self.peek("when") {
            self.i += 1;
            when = Some(self.until(&[]));
        }
        self.semi()?;
        Ok((label, when))
    }

    fn stmt(&mut self) -> Result<Stmt, String> {
        let label = self.label();
        let Some(first) = self.t.get(self.i).cloned() else {
            return Err("unexpected end of the body".into());
        };
        let word = first.name().unwrap_or_default();
        let is_word = matches!(first, Tok::Word(_));
        // Assignment: `x := ...`, `x = ...`, `r.f := ...`.
        let assign_at = |k: usize| {
            (self.t.get(self.i + k).is_some_and(|t| t.is_p(":"))
                && self.t.get(self.i + k + 1).is_some_and(|t| t.is_p("=")))
                || self.t.get(self.i + k).is_some_and(|t| t.is_p("="))
        };
        if first.name().is_some() && !self.peek("return") {
            let (field, k) = if self.t.get(self.i + 1).is_some_and(|t| t.is_p(".")) {
                (self.t.get(self.i + 2).and_then(Tok::name), 3)
            } else {
                (None, 1)
            };
            if assign_at(k) && (k == 1 || field.is_some()) {
                self.i += k;
                self.i += if self.peek_p(":") { 2 } else { 1 };
                let expr = self.until(&[]);
                self.semi()?;
                return Ok(Stmt::Assign {
                    var: word,
                    field,
                    expr,
                });
            }
        }
        if !is_word {
            return Err(format!("unexpected `{}`", first.sql()));
        }
        match word.as_str() {
            "begin" | "declare" => {
                let b = self.block()?;
                self.semi()?;
                Ok(Stmt::Block(Box::new(b)))
            }
            "null" => {
                self.i += 1;
                self.semi()?;
                Ok(Stmt::Null)
            }
            "if" => {
                self.i += 1;
                let mut arms = Vec::new();
                let cond = self.until(&["then"]);
                self.expect("then")?;
                let body = self.stmts(&["elsif", "elseif", "else", "end"])?;
                arms.push((cond, body));
                let mut otherwise = Vec::new();
                loop {
                    if self.peek("elsif") || self.peek("elseif") {
                        self.i += 1;
                        let cond = self.until(&["then"]);
                        self.expect("then")?;
                        let body = self.stmts(&["elsif", "elseif", "else", "end"])?;
                        arms.push((cond, body));
                    } else if self.peek("else") {
                        self.i += 1;
                        otherwise = self.stmts(&["end"])?;
                    } else {
                        break;
                    }
                }
                self.expect("end")?;
                self.expect("if")?;
                self.semi()?;
                Ok(Stmt::If { arms, otherwise })
            }
            "case" => {
                self.i += 1;
                let subject = if self.peek("when") {
                    None
                } else {
                    Some(self.until(&["when"]))
                };
                let mut arms = Vec::new();
                let mut otherwise = None;
                while self.peek("when") {
                    self.i += 1;
                    let cond = self.until(&["then"]);
                    self.expect("then")?;
                    let body = self.stmts(&["when", "else", "end"])?;
                    arms.push((cond, body));
                }
                if self.peek("else") {
                    self.i += 1;
                    otherwise = Some(self.stmts(&["end"])?);
                }
                self.expect("end")?;
                self.expect("case")?;
                self.semi()?;
                Ok(Stmt::Case {
                    subject,
                    arms,
                    otherwise,
                })
            }
            "loop" => {
                self.i += 1;
                let body = self.stmts(&["end"])?;
                self.end_loop()?;
                Ok(Stmt::Loop {
                    label,
                    cond: None,
                    body,
                })
            }
            "while" => {
                self.i += 1;
                let cond = self.until(&["loop"]);
                self.expect("loop")?;
                let body = self.stmts(&["end"])?;
                self.end_loop()?;
                Ok(Stmt::Loop {
                    label,
                    cond: Some(cond),
                    body,
                })
            }
            "for" => {
                self.i += 1;
                let var = self.name()?;
                self.expect("in")?;
                let reverse = self.peek("reverse");
                if reverse {
                    self.i += 1;
                }
                if self.peek("execute") {
                    return Err(
                        "FOR ... IN EXECUTE (dynamic SQL) is not supported by the mock's PL/pgSQL"
                            .into(),
                    );
                }
                let head = self.until(&["loop"]);
                self.expect("loop")?;
                let body = self.stmts(&["end"])?;
                self.end_loop()?;
                let is_query = head
                    .first()
                    .is_some_and(|t| t.is("select") || t.is("with") || t.is("values"));
                if is_query {
                    return Ok(Stmt::ForQuery {
                        label,
                        var,
                        query: head,
                        body,
                    });
                }
                let (from, to, by) = range_parts(&head)?;
                Ok(Stmt::ForRange {
                    label,
                    var,
                    reverse,
                    from,
                    to,
                    by,
                    body,
                })
            }
            "foreach" => Err("FOREACH is not supported by the mock's PL/pgSQL".into()),
            "exit" => {
                let (label, when) = self.exit_like()?;
                Ok(Stmt::Exit { label, when })
            }
            "continue" => {
                let (label, when) = self.exit_like()?;
                Ok(Stmt::Continue { label, when })
            }
            "return" => {
                self.i += 1;
                if self.peek("next") {
                    self.i += 1;
                    let e = self.until(&[]);
                    self.semi()?;
                    return Ok(Stmt::ReturnNext((!e.is_empty()).then_some(e)));
                }
                if self.peek("query") {
                    self.i += 1;
                    if self.peek("execute") {
                        return Err("RETURN QUERY EXECUTE (dynamic SQL) is not supported by the mock's PL/pgSQL".into());
                    }
                    let q = self.until(&[]);
                    self.semi()?;
                    return Ok(Stmt::ReturnQuery(q));
                }
                let e = self.until(&[]);
                self.semi()?;
                Ok(Stmt::Return((!e.is_empty()).then_some(e)))
            }
            "raise" => self.raise(),
            "perform" => {
                self.i += 1;
                let mut sql = vec![Tok::Word("SELECT".into())];
                sql.extend(self.until(&[]));
                self.semi()?;
                Ok(Stmt::Sql {
                    sql,
                    into: Vec::new(),
                    strict: false,
                    perform: true,
                })
            }
            "select" | "insert" | "update" | "delete" | "with" => {
                let all = self.until(&[]);
                self.semi()?;
                let (sql, into, strict) = take_into(&all)?;
                Ok(Stmt::Sql {
                    sql,
                    into,
                    strict,
                    perform: false,
                })
            }
            "get" => {
                self.i += 1;
                if self.peek("current") {
                    self.i += 1;
                }
                self.expect("diagnostics")?;
                let var = self.name()?;
                if self.peek_p(":") {
                    self.i += 2;
                } else if self.peek_p("=") {
                    self.i += 1;
                }
                let item = self.name()?;
                self.semi()?;
                if item != "row_count" {
                    return Err(format!(
                        "GET DIAGNOSTICS {item} is not supported by the mock's PL/pgSQL"
                    ));
                }
                Ok(Stmt::RowCount(var))
            }
            "execute" => {
                Err("EXECUTE (dynamic SQL) is not supported by the mock's PL/pgSQL".into())
            }
            "open" | "fetch" | "close" | "move" => {
                Err("cursors are not supported by the mock's PL/pgSQL".into())
            }
            "commit" | "rollback" => {
                Err("transaction control is not supported in functions".into())
            }
            other => Err(format!(
                "statement `{other} ...` is not supported by the mock's PL/pgSQL"
            )),
        }
    }

    fn raise(&mut self) -> Result<Stmt, String> {
        self.i += 1;
        let mut level = Level::Exception;
        for (kw, l) in [
            ("debug", Level::Notice),
            ("log", Level::Notice),
            ("info", Level::Notice),
            ("notice", Level::Notice),
            ("warning", Level::Notice),
            ("exception", Level::Exception),
        ] {
            if self.peek(kw) {
                self.i += 1;
                level = l;
                break;
            }
        }
        let mut format = None;
        let mut args = Vec::new();
        match self.t.get(self.i).cloned() {
            Some(Tok::Str(s)) => {
                format = Some(s[1..s.len() - 1].replace("''", "'"));
                self.i += 1;
                let rest = self.until(&["using"]);
                args = split_top(&rest)
                    .into_iter()
                    .filter(|a| !a.is_empty())
                    .collect();
            }
            Some(t) if t.name().is_some() && !t.is("using") => {
                // `raise unique_violation` / `raise sqlstate '...'`.
                if t.is("sqlstate") {
                    self.i += 1;
                    if let Some(Tok::Str(s)) = self.t.get(self.i) {
                        format = Some(format!("sqlstate {}", s.trim_matches('\'')));
                    }
                    self.i += 1;
                } else {
                    format = t.name().map(|n| format!("condition {n}"));
                    self.i += 1;
                }
            }
            _ => {}
        }
        let mut using = Vec::new();
        if self.peek("using") {
            self.i += 1;
            let rest = self.until(&[]);
            for part in split_top(&rest) {
                let name = part
                    .first()
                    .and_then(Tok::name)
                    .ok_or("expected a USING option")?;
                let eq = part
                    .iter()
                    .position(|t| t.is_p("="))
                    .ok_or("expected = in USING")?;
                using.push((name, part[eq + 1..].to_vec()));
            }
        }
        self.semi()?;
        Ok(Stmt::Raise {
            level,
            format,
            args,
            using,
        })
    }
}

/// Postgres's creation-time check of `return` statements (`make_return_stmt` in
/// `pl_gram.y`): a `return <expr>` is refused (42804) in a function returning a set, returning
/// `void`, or with OUT parameters, as is `return next <expr>` with OUT parameters. `None`
/// when the body passes.
pub fn return_shape_error(def: &super::def::FunctionDef, block: &Block) -> Option<String> {
    use super::def::Returns;
    let set = matches!(
        def.returns,
        Returns::Scalar { set: true, .. } | Returns::Rows { set: true, .. } | Returns::Table(_)
    );
    let void = def.returns == Returns::Void && def.outs.is_empty();
    let outs = !def.outs.is_empty();
    let mut found: Option<&str> = None;
    let mut check = |s: &Stmt| {
        if found.is_some() {
            return;
        }
        found = match s {
            Stmt::Return(Some(_)) if set => Some(
                "RETURN cannot have a parameter in function returning set (42804; use RETURN \
                 NEXT or RETURN QUERY)",
            ),
            Stmt::Return(Some(_)) if void => {
                Some("RETURN cannot have a parameter in function returning void (42804)")
            }
            Stmt::Return(Some(_)) if outs => {
                Some("RETURN cannot have a parameter in function with OUT parameters (42804)")
            }
            Stmt::ReturnNext(Some(_)) if outs => {
                Some("RETURN NEXT cannot have a parameter in function with OUT parameters (42804)")
            }
            _ => None,
        };
    };
    walk(&block.body, &mut check);
    for (_, h) in &block.handlers {
        walk(h, &mut check);
    }
    found.map(str::to_string)
}

/// Calls `f` on every statement of `body`, nested ones included.
fn walk(body: &[Stmt], f: &mut dyn FnMut(&Stmt)) {
    for s in body {
        f(s);
        match s {
            Stmt::If { arms, otherwise } => {
                for (_, b) in arms {
                    walk(b, f);
                }
                walk(otherwise, f);
            }
            Stmt::Case {
                arms, otherwise, ..
            } => {
                for (_, b) in arms {
                    walk(b, f);
                }
                if let Some(o) = otherwise {
                    walk(o, f);
                }
            }
            Stmt::Loop { body, .. } | Stmt::ForQuery { body, .. } | Stmt::ForRange { body, .. } => {
                walk(body, f)
            }
            Stmt::Block(b) => {
                walk(&b.body, f);
                for (_, h) in &b.handlers {
                    walk(h, f);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_common_shapes() {
        let b = parse(
            "declare n int := 0; r record; begin
               if new.title is null then raise exception 'title required for %', new.id;
               elsif n > 1 then n := n + 1; else null; end if;
               for r in select * from t loop n := n + 1; exit when n > 3; end loop;
               for i in 1..10 loop continue; end loop;
               select count(*) into n from t where x = $1;
               insert into log (m) values ('x') returning id into n;
               perform pg_sleep(0);
               new.updated_at := now();
               case n when 1, 2 then null; else n = 3; end case;
               while n < 5 loop n := n + 1; end loop;
               return new;
             exception when others then return null;
             end;",
        )
        .unwrap();
        assert_eq!(b.decls.len(), 2);
        assert!(b.decls[1].record);
        assert_eq!(b.body.len(), 10);
        assert_eq!(b.handlers.len(), 1);
        match &b.body[3] {
            Stmt::Sql { into, .. } => assert_eq!(into, &vec!["n".to_string()]),
            other => panic!("{other:?}"),
        }
        match &b.body[4] {
            Stmt::Sql { into, sql, .. } => {
                assert_eq!(into, &vec!["n".to_string()]);
                assert_eq!(sql.iter().filter(|t| t.is("into")).count(), 1);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&b.body[6], Stmt::Assign { field: Some(f), .. } if f == "updated_at"));
        assert!(parse("begin execute 'drop table x'; end").is_err());
        assert!(parse("begin return 1; end").is_ok());
    }
}
