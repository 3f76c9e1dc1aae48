//! A character cursor shared by the query-string parsers, with 1-based columns for errors.

use crate::errors::ApiError;

/// A cursor over one query-parameter value.
pub struct Cursor<'a> {
    chars: Vec<char>,
    pos: usize,
    /// What is being parsed, for the PGRST100 message, e.g. `select parameter (a,b)`.
    what: String,
    _src: &'a str,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `src`; `what` names the part for error messages.
    pub fn new(src: &'a str, what: String) -> Self {
        Self {
            chars: src.chars().collect(),
            pos: 0,
            what,
            _src: src,
        }
    }

    /// The next character, if any.
    pub fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// The character `n` ahead.
    pub fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    /// Consumes one character.
    pub fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    /// Whether the input is used up.
    pub fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    /// Whether the rest starts with `s`.
    pub fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
    }

    /// Consumes `s` if the rest starts with it.
    pub fn eat(&mut self, s: &str) -> bool {
        if self.starts_with(s) {
            self.pos += s.chars().count();
            true
        } else {
            false
        }
    }

    /// Skips spaces.
    pub fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// The unconsumed rest.
    pub fn rest(&self) -> String {
        self.chars[self.pos.min(self.chars.len())..]
            .iter()
            .collect()
    }

    /// Consumes and returns the rest.
    pub fn take_rest(&mut self) -> String {
        let r = self.rest();
        self.pos = self.chars.len();
        r
    }

    /// A PGRST100 error at the current position: `unexpected <x> expecting <expecting>`.
    pub fn error(&self, expecting: &str) -> ApiError {
        let unexpected = match self.peek() {
            Some(c) => format!("unexpected \"{c}\""),
            None => "unexpected end of input".to_string(),
        };
        ApiError::parse(
            &self.what,
            self.pos + 1,
            format!("{unexpected} expecting {expecting}"),
        )
    }

    /// Between the items of a comma-separated list: `true` at the end of input, `false`
    /// after consuming the `,` that starts the next item, else the PGRST100 error.
    pub fn list_end(&mut self) -> Result<bool, ApiError> {
        if self.at_end() {
            return Ok(true);
        }
        if !self.eat(",") {
            return Err(self.error("\",\" or end of input"));
        }
        Ok(false)
    }

    /// Expects and consumes `s`.
    pub fn expect(&mut self, s: &str) -> Result<(), ApiError> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.error(&format!("\"{s}\"")))
        }
    }

    /// A double-quoted string with `\"` and `\\` escapes (the cursor is on the opening quote).
    pub fn quoted(&mut self) -> Result<String, ApiError> {
        self.expect("\"")?;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("\"\\\"\" to close the quoted value")),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some(c) => out.push(c),
                    None => return Err(self.error("an escaped character")),
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// An identifier: quoted, or a run of characters not in `stop` (and not the start of `->`).
    pub fn ident(&mut self, stop: &str, expecting: &str) -> Result<String, ApiError> {
        self.skip_ws();
        if self.peek() == Some('"') {
            let s = self.quoted()?;
            self.skip_ws();
            return Ok(s);
        }
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if stop.contains(c) || (c == '-' && self.peek_at(1) == Some('>')) {
                break;
            }
            out.push(c);
            self.pos += 1;
        }
        let out = out.trim().to_string();
        if out.is_empty() {
            return Err(self.error(expecting));
        }
        Ok(out)
    }
}
