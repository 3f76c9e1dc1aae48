//! A configuration document as a tree of values that remember their line, so every error and
//! warning can name the file, the line and the key. TOML is read with `toml`'s spanned parser;
//! JSON and JSONC (comments, trailing commas) with a small parser of our own.

/// One value and the line (1-based) it starts on.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the value starts.
    pub line: usize,
    /// The value.
    pub value: Value,
}

/// A configuration value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string.
    Str(String),
    /// A number, as written.
    Num(String),
    /// A boolean.
    Bool(bool),
    /// `null` (JSON only).
    Null,
    /// A TOML date or time, as written.
    Datetime(String),
    /// An array.
    Array(Vec<Node>),
    /// A table or object: keys in document order, each with the line of the key.
    Table(Vec<Entry>),
}

/// One key of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The line the key is on.
    pub line: usize,
    /// Its value.
    pub node: Node,
}

impl Value {
    /// What kind of value this is, for messages (`a string`, `a table`).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Num(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
            Value::Datetime(_) => "a date",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }

    /// The value as JSON text (how a non-string var reaches the Worker).
    pub fn to_json(&self) -> String {
        match self {
            Value::Str(s) | Value::Datetime(s) => json_string(s),
            Value::Num(n) => n.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".into(),
            Value::Array(a) => format!(
                "[{}]",
                a.iter()
                    .map(|n| n.value.to_json())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Value::Table(t) => format!(
                "{{{}}}",
                t.iter()
                    .map(|e| format!("{}:{}", json_string(&e.key), e.node.value.to_json()))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The 1-based line of byte offset `at` in `text`.
pub fn line_at(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Parses TOML. Errors are `line L, column C: message`.
pub fn parse_toml(text: &str) -> Result<Node, String> {
    let doc = toml::de::DeTable::parse(text).map_err(|e| {
        let msg = e.message().trim().to_string();
        match e.span() {
            Some(span) => {
                let line = line_at(text, span.start);
                let line_start = text[..span.start.min(text.len())]
                    .rfind('\n')
                    .map_or(0, |i| i + 1);
                format!(
                    "line {line}, column {}: {msg}",
                    text[line_start..span.start.min(text.len())].chars().count() + 1
                )
            }
            None => msg,
        }
    })?;
    let span = doc.span();
    Ok(toml_table(
        text,
        doc.into_inner(),
        line_at(text, span.start),
    ))
}

fn toml_table(text: &str, t: toml::de::DeTable<'_>, line: usize) -> Node {
    let entries = t
        .into_iter()
        .map(|(k, v)| {
            let key_line = line_at(text, k.span().start);
            Entry {
                key: k.into_inner().into_owned(),
                line: key_line,
                node: toml_node(text, v),
            }
        })
        .collect();
    Node {
        line,
        value: Value::Table(entries),
    }
}

fn toml_node(text: &str, v: toml::Spanned<toml::de::DeValue<'_>>) -> Node {
    use toml::de::DeValue;
    let line = line_at(text, v.span().start);
    let value = match v.into_inner() {
        DeValue::String(s) => Value::Str(s.into_owned()),
        DeValue::Integer(i) => Value::Num(i.to_string()),
        DeValue::Float(f) => Value::Num(f.as_str().to_string()),
        DeValue::Boolean(b) => Value::Bool(b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(a) => Value::Array(a.into_iter().map(|n| toml_node(text, n)).collect()),
        DeValue::Table(t) => return toml_table(text, t, line),
    };
    Node { line, value }
}

/// Parses JSON, or JSONC when `jsonc` (`//` and `/* */` comments, trailing commas). Errors
/// are `line L, column C: message`.
pub fn parse_json(text: &str, jsonc: bool) -> Result<Node, String> {
    let mut p = JsonParser {
        s: text.as_bytes(),
        text,
        i: 0,
        jsonc,
    };
    let node = p.value(0)?;
    p.ws()?;
    if p.i < p.s.len() {
        return Err(p.err("unexpected text after the document"));
    }
    Ok(node)
}

struct JsonParser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    jsonc: bool,
}

impl JsonParser<'_> {
    fn err(&self, msg: &str) -> String {
        let at = self.i.min(self.s.len());
        let line = line_at(self.text, at);
        let start = self.text[..at].rfind('\n').map_or(0, |i| i + 1);
        format!(
            "line {line}, column {}: {msg}",
            self.text[start..at].chars().count() + 1
        )
    }

    fn ws(&mut self) -> Result<(), String> {
        loop {
            match self.s.get(self.i) {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.i += 1,
                Some(b'/') if self.jsonc => match self.s.get(self.i + 1) {
                    Some(b'/') => {
                        while self.i < self.s.len() && self.s[self.i] != b'\n' {
                            self.i += 1;
                        }
                    }
                    Some(b'*') => {
                        let start = self.i;
                        self.i += 2;
                        loop {
                            if self.i + 1 >= self.s.len() {
                                self.i = start;
                                return Err(self.err("unterminated /* comment"));
                            }
                            if &self.s[self.i..self.i + 2] == b"*/" {
                                self.i += 2;
                                break;
                            }
                            self.i += 1;
                        }
                    }
                    _ => return Ok(()),
                },
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, String> {
        if depth > 128 {
            return Err(self.err("nested too deeply"));
        }
        self.ws()?;
        let line = line_at(self.text, self.i);
        let value = match self.s.get(self.i) {
            None => return Err(self.err("unexpected end of file")),
            Some(b'{') => {
                self.i += 1;
                let mut entries = Vec::new();
                loop {
                    self.ws()?;
                    match self.s.get(self.i) {
                        Some(b'}') => {
                            self.i += 1;
                            break;
                        }
                        Some(b'"') => {}
                        _ => return Err(self.err("expected a \"key\" or '}'")),
                    }
                    let key_line = line_at(self.text, self.i);
                    let key = self.string()?;
                    self.ws()?;
                    if self.s.get(self.i) != Some(&b':') {
                        return Err(self.err("expected ':' after the key"));
                    }
                    self.i += 1;
                    let node = self.value(depth + 1)?;
                    entries.push(Entry {
                        key,
                        line: key_line,
                        node,
                    });
                    self.ws()?;
                    match self.s.get(self.i) {
                        Some(b',') => {
                            self.i += 1;
                            self.ws()?;
                            if self.s.get(self.i) == Some(&b'}') && !self.jsonc {
                                return Err(self.err("trailing comma (allowed in .jsonc only)"));
                            }
                        }
                        Some(b'}') => {
                            self.i += 1;
                            break;
                        }
                        _ => return Err(self.err("expected ',' or '}'")),
                    }
                }
                Value::Table(entries)
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws()?;
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    self.ws()?;
                    match self.s.get(self.i) {
                        Some(b',') => {
                            self.i += 1;
                            self.ws()?;
                            if self.s.get(self.i) == Some(&b']') && !self.jsonc {
                                return Err(self.err("trailing comma (allowed in .jsonc only)"));
                            }
                        }
                        Some(b']') => {
                            self.i += 1;
                            break;
                        }
                        _ => return Err(self.err("expected ',' or ']'")),
                    }
                }
                Value::Array(items)
            }
            Some(b'"') => Value::Str(self.string()?),
            Some(b't') if self.s[self.i..].starts_with(b"true") => {
                self.i += 4;
                Value::Bool(true)
            }
            Some(b'f') if self.s[self.i..].starts_with(b"false") => {
                self.i += 5;
                Value::Bool(false)
            }
            Some(b'n') if self.s[self.i..].starts_with(b"null") => {
                self.i += 4;
                Value::Null
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.s.get(self.i)
                {
                    self.i += 1;
                }
                let n = &self.text[start..self.i];
                if n.parse::<f64>().is_err() {
                    self.i = start;
                    return Err(self.err(&format!("bad number {n:?}")));
                }
                Value::Num(n.to_string())
            }
            Some(_) => return Err(self.err("expected a value")),
        };
        Ok(Node { line, value })
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1; // the opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(&b) = self.s.get(self.i) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(&self.text[start..self.i]);
            match self.s.get(self.i) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc = self.s.get(self.i + 1).copied();
                    self.i += 2;
                    match esc {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(c.unwrap_or('\u{fffd}'));
                        }
                        _ => {
                            self.i -= 2;
                            return Err(self.err("bad escape in a string"));
                        }
                    }
                }
                Some(_) => return Err(self.err("control character in a string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .text
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("bad \\u escape"))?;
        let v = u32::from_str_radix(digits, 16).map_err(|_| self.err("bad \\u escape"))?;
        self.i += 4;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: &Node) -> Vec<(String, usize)> {
        match &n.value {
            Value::Table(t) => t.iter().map(|e| (e.key.clone(), e.line)).collect(),
            _ => panic!("not a table"),
        }
    }

    #[test]
    fn toml_keys_keep_their_lines() {
        let n = parse_toml("name = \"x\"\n\n[vars]\nA = 1\n").unwrap();
        assert_eq!(keys(&n), [("name".into(), 1), ("vars".into(), 3)]);
        let Value::Table(t) = &n.value else { panic!() };
        assert_eq!(keys(&t[1].node), [("A".into(), 4)]);
        let e = parse_toml("a = \n").unwrap_err();
        assert!(e.starts_with("line 1, column"), "{e}");
    }

    #[test]
    fn jsonc_comments_trailing_commas_and_lines() {
        let text = "{\n  // the name\n  \"name\": \"x\", /* c */\n  \"vars\": {\"A\": [1, true, null,],},\n}\n";
        let n = parse_json(text, true).unwrap();
        assert_eq!(keys(&n), [("name".into(), 3), ("vars".into(), 4)]);
        assert!(parse_json(text, false).is_err());
        let e = parse_json("{\n\"a\": tru }", false).unwrap_err();
        assert!(e.starts_with("line 2, column 6"), "{e}");
        let s = parse_json(r#""a\"\u00e9\ud83d\ude00\n""#, false).unwrap();
        assert_eq!(s.value, Value::Str("a\"é😀\n".into()));
        assert_eq!(s.value.to_json(), r#""a\"é😀\n""#);
    }
}
