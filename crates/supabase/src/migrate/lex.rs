//! Splitting SQL files into statements and statements into tokens.

/// A SQL token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// A bare word: keyword or unquoted identifier (original spelling).
    Word(String),
    /// A `"quoted"` identifier (unescaped content).
    QIdent(String),
    /// A `'string'` literal (raw text including quotes).
    Str(String),
    /// A number.
    Num(String),
    /// Punctuation or an operator (`(`, `,`, `::`, `->>`, `>=`, ...).
    Punct(String),
    /// A dollar-quoted string `$tag$...$tag$` (raw text including both tags): function
    /// bodies and `do` blocks.
    Dollar(String),
}

impl Tok {
    /// Whether this is the keyword `kw` (case-insensitive).
    pub fn is(&self, kw: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    /// Whether this is the punctuation `p`.
    pub fn is_p(&self, p: &str) -> bool {
        matches!(self, Tok::Punct(x) if x == p)
    }

    /// The identifier name of a word or quoted identifier.
    pub fn name(&self) -> Option<String> {
        match self {
            Tok::Word(w) => Some(w.to_ascii_lowercase()),
            Tok::QIdent(q) => Some(q.clone()),
            _ => None,
        }
    }

    /// The body of a dollar-quoted string (`$tag$body$tag$` -> `body`).
    pub fn dollar_body(&self) -> Option<&str> {
        let Tok::Dollar(s) = self else { return None };
        let tag_len = s[1..].find('$')? + 2;
        s.get(tag_len..s.len().checked_sub(tag_len)?)
    }

    /// SQL text for this token.
    pub fn sql(&self) -> String {
        match self {
            Tok::Word(w) => w.clone(),
            Tok::QIdent(q) => format!("\"{}\"", q.replace('"', "\"\"")),
            Tok::Str(s) | Tok::Num(s) | Tok::Punct(s) | Tok::Dollar(s) => s.clone(),
        }
    }
}

/// Splits tokens on top-level commas (outside parentheses and brackets). Empty input gives no
/// piece; an empty piece between two commas is kept, for callers that reject `a,,b`.
pub fn split_top(toks: &[Tok]) -> Vec<Vec<Tok>> {
    if toks.is_empty() {
        return Vec::new();
    }
    let mut out = vec![Vec::new()];
    let mut depth = 0i32;
    for t in toks {
        if t.is_p("(") || t.is_p("[") {
            depth += 1;
        } else if t.is_p(")") || t.is_p("]") {
            depth -= 1;
        } else if t.is_p(",") && depth == 0 {
            out.push(Vec::new());
            continue;
        }
        if let Some(last) = out.last_mut() {
            last.push(t.clone());
        }
    }
    out
}

/// [`split_top`] without empty pieces (lists where Postgres's grammar already ruled them out).
pub fn split_top_nonempty(toks: &[Tok]) -> Vec<Vec<Tok>> {
    let mut out = split_top(toks);
    out.retain(|v| !v.is_empty());
    out
}

/// Joins tokens back into SQL.
pub fn render(toks: &[Tok]) -> String {
    let mut out = String::new();
    for (i, t) in toks.iter().enumerate() {
        if i > 0
            && !t.is_p(",")
            && !t.is_p(")")
            && !toks[i - 1].is_p("(")
            && !t.is_p(".")
            && !toks[i - 1].is_p(".")
        {
            out.push(' ');
        }
        out.push_str(&t.sql());
    }
    out
}

/// One statement of a file: its text (without the `;`) and the 1-based line where it starts.
#[derive(Clone, Debug)]
pub struct Statement {
    /// Statement text as written, trimmed.
    pub text: String,
    /// Line of its first non-blank character.
    pub line: usize,
}

/// Splits SQL text into statements on `;` outside strings, identifiers, comments and `$$` bodies.
pub fn split(sql: &str) -> Vec<Statement> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut line = 1;
    let mut start_line = None;
    let mut i = 0;
    let push = |cur: &mut String, start_line: &mut Option<usize>, out: &mut Vec<Statement>| {
        let text = cur.trim().to_string();
        if !text.is_empty() && !is_only_comments(&text) {
            out.push(Statement {
                text,
                line: start_line.unwrap_or(1),
            });
        }
        cur.clear();
        *start_line = None;
    };
    while i < chars.len() {
        let c = chars[i];
        let begin = |sl: &mut Option<usize>, l: usize| {
            if sl.is_none() {
                *sl = Some(l);
            }
        };
        // Comments before a statement starts are not part of its text.
        let keep = start_line.is_some();
        if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                if keep {
                    cur.push(chars[i]);
                }
                i += 1;
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                if chars[i] == '\n' {
                    line += 1;
                }
                if keep {
                    cur.push(chars[i]);
                }
                i += 1;
            }
            if keep {
                cur.push_str("*/");
            }
            i += 2;
            continue;
        }
        if c == '\'' || c == '"' {
            begin(&mut start_line, line);
            cur.push(c);
            i += 1;
            while i < chars.len() {
                let d = chars[i];
                cur.push(d);
                i += 1;
                if d == '\n' {
                    line += 1;
                }
                if d == c {
                    if chars.get(i) == Some(&c) {
                        cur.push(c);
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            continue;
        }
        if c == '$' {
            // $tag$ ... $tag$
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if chars.get(j) == Some(&'$') {
                begin(&mut start_line, line);
                let tag: String = chars[i..=j].iter().collect();
                cur.push_str(&tag);
                i = j + 1;
                while i < chars.len() {
                    if chars[i..]
                        .iter()
                        .take(tag.chars().count())
                        .collect::<String>()
                        == tag
                    {
                        cur.push_str(&tag);
                        i += tag.chars().count();
                        break;
                    }
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    cur.push(chars[i]);
                    i += 1;
                }
                continue;
            }
        }
        if c == ';' {
            push(&mut cur, &mut start_line, &mut out);
            i += 1;
            continue;
        }
        if c == '\n' {
            line += 1;
        } else if !c.is_whitespace() {
            begin(&mut start_line, line);
        }
        cur.push(c);
        i += 1;
    }
    push(&mut cur, &mut start_line, &mut out);
    out
}

fn is_only_comments(s: &str) -> bool {
    tokenize(s).map(|t| t.is_empty()).unwrap_or(false)
}

/// Tokenizes one statement; comments are dropped. `$tag$...$tag$` becomes one [`Tok::Dollar`];
/// `$1` (a positional parameter) is a [`Tok::Word`].
pub fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' || ((c == 'E' || c == 'e') && chars.get(i + 1) == Some(&'\'')) {
            let mut s = String::new();
            if c != '\'' {
                i += 1;
            }
            s.push('\'');
            i += 1;
            loop {
                let Some(&d) = chars.get(i) else {
                    return Err("unterminated string literal".into());
                };
                i += 1;
                if d == '\'' {
                    if chars.get(i) == Some(&'\'') {
                        s.push_str("''");
                        i += 1;
                        continue;
                    }
                    s.push('\'');
                    break;
                }
                s.push(d);
            }
            out.push(Tok::Str(s));
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                let Some(&d) = chars.get(i) else {
                    return Err("unterminated quoted identifier".into());
                };
                i += 1;
                if d == '"' {
                    if chars.get(i) == Some(&'"') {
                        s.push('"');
                        i += 1;
                        continue;
                    }
                    break;
                }
                s.push(d);
            }
            out.push(Tok::QIdent(s));
        } else if c == '$' {
            let mut j = i + 1;
            if chars.get(j).is_some_and(char::is_ascii_digit) {
                while chars.get(j).is_some_and(char::is_ascii_digit) {
                    j += 1;
                }
                out.push(Tok::Word(chars[i..j].iter().collect()));
                i = j;
                continue;
            }
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if chars.get(j) != Some(&'$') {
                return Err(format!("unexpected character $ at offset {i}"));
            }
            let tag: Vec<char> = chars[i..=j].to_vec();
            let mut k = j + 1;
            let end = loop {
                if k + tag.len() > chars.len() {
                    return Err("unterminated dollar-quoted string".into());
                }
                if chars[k..k + tag.len()] == tag[..] {
                    break k + tag.len();
                }
                k += 1;
            };
            out.push(Tok::Dollar(chars[i..end].iter().collect()));
            i = end;
        } else if c.is_alphabetic() || c == '_' {
            let mut w = String::new();
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                w.push(chars[i]);
                i += 1;
            }
            out.push(Tok::Word(w));
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let mut w = String::new();
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                w.push(chars[i]);
                i += 1;
            }
            out.push(Tok::Num(w));
        } else {
            let ops = [
                "->>", "!~*", "~~*", "::", "<=", ">=", "<>", "!=", "||", "->", "!~", "~*",
            ];
            let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
            let op = ops
                .iter()
                .find(|o| rest.starts_with(**o))
                .map(|o| o.to_string())
                .unwrap_or_else(|| c.to_string());
            i += op.chars().count();
            out.push(Tok::Punct(op));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_lines() {
        let s = split(
            "-- hi\ncreate table a (x text default 'a;b');\n\ninsert into a values ('x');\n-- end\n",
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].line, 2);
        assert_eq!(s[1].line, 4);
        let t = tokenize("select 'it''s', \"Q\"\"x\", 1.5::text -- c\n").unwrap();
        assert_eq!(t[1], Tok::Str("'it''s'".into()));
        assert_eq!(t[3], Tok::QIdent("Q\"x".into()));
        assert!(t.iter().any(|x| x.is_p("::")));
        let t =
            tokenize("create function f() as $body$ select $1; $$ $body$ language sql").unwrap();
        assert_eq!(t[6].dollar_body(), Some(" select $1; $$ "));
        assert_eq!(tokenize("select $1").unwrap()[1], Tok::Word("$1".into()));
        assert!(tokenize("do $$ begin").is_err());
    }
}
