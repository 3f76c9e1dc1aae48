//! Postgres regular expressions (ARE, the flavour of `~`, `~*`, `!~`, `!~*`) written in the
//! syntax of Rust's `regex` crate, which the mock's SQLite `regexp` function runs.
//!
//! What differs and is translated:
//! * `.` and bracket negations match a newline in Postgres (no newline-sensitive mode by
//!   default): the pattern runs with `(?s)`;
//! * `\m` / `\M` (start / end of a word), `\y` / `\Y` (word boundary / not one), `\A`, `\Z`;
//! * `\b` is a backspace and `\B` a backslash in Postgres (word boundaries in Rust);
//! * `\d`, `\D` are ASCII digits (`[[:digit:]]`); `[[:alpha:]]`, `[[:alnum:]]`, `[[:upper:]]`,
//!   `[[:lower:]]` are Unicode classes in a UTF-8 database (ASCII in Rust);
//! * `\<`, `\>` and other escaped punctuation are that character (word boundaries in Rust);
//! * `[` inside brackets, and `&&`, `--`, `~~` there, are plain characters (nested classes and
//!   set operations in Rust);
//! * embedded options at the start (`(?i)`, `(?c)`, `(?s)`, `(?q)`) and the `***=` (literal)
//!   and `***:` prefixes.
//!
//! What Rust's engine cannot do is an error naming it, never a different answer:
//! back-references (`\1`), lookahead and lookbehind constraints, the newline-sensitive and
//! expanded options (`(?n)`, `(?p)`, `(?w)`, `(?x)`), basic and extended flavours (`(?b)`,
//! `(?e)`), collating elements and equivalence classes (`[[.x.]]`, `[[=x=]]`).

/// Translates Postgres ARE `p` (case-insensitive when `ci`) into Rust `regex` syntax; `Err`
/// names the construct the mock cannot run faithfully.
pub fn are_to_rust(p: &str, ci: bool) -> Result<String, String> {
    let mut ci = ci;
    let mut rest = p;
    if let Some(lit) = rest.strip_prefix("***=") {
        return Ok(format!(
            "{}{}",
            if ci { "(?i)" } else { "" },
            regex_escape(lit)
        ));
    }
    if let Some(r) = rest.strip_prefix("***:") {
        rest = r;
    }
    if let Some(r) = rest.strip_prefix("(?")
        && let Some(end) = r.find(')')
        && r[..end].chars().all(|c| c.is_ascii_alphabetic())
    {
        let mut literal = false;
        for c in r[..end].chars() {
            match c {
                'i' => ci = true,
                'c' => ci = false,
                's' | 't' => {}
                'q' => literal = true,
                other => {
                    return Err(format!("the regular-expression option `(?{other})`"));
                }
            }
        }
        rest = &r[end + 1..];
        if literal {
            return Ok(format!(
                "{}{}",
                if ci { "(?i)" } else { "" },
                regex_escape(rest)
            ));
        }
    }
    let mut out = String::from(if ci { "(?si)" } else { "(?s)" });
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err("a regular expression ending in `\\`".into());
                };
                i += 2;
                match n {
                    'm' => out.push_str(r"\b{start}"),
                    'M' => out.push_str(r"\b{end}"),
                    'y' => out.push_str(r"\b"),
                    'Y' => out.push_str(r"\B"),
                    'A' => out.push_str(r"\A"),
                    'Z' => out.push_str(r"\z"),
                    'b' => out.push_str(r"\x08"),
                    'B' => out.push_str(r"\\"),
                    'e' => out.push_str(r"\x1B"),
                    'd' => out.push_str("[0-9]"),
                    'D' => out.push_str("[^0-9]"),
                    's' | 'S' | 'w' | 'W' | 'n' | 't' | 'r' | 'f' | 'v' | 'a' => {
                        out.push('\\');
                        out.push(n);
                    }
                    '1'..='9' => {
                        return Err(format!(
                            "the back-reference `\\{n}` in a regular expression"
                        ));
                    }
                    'x' | 'u' | 'U' => {
                        let max = match n {
                            'u' => 4,
                            'U' => 8,
                            _ => usize::MAX,
                        };
                        let hex: String = chars[i..]
                            .iter()
                            .take_while(|c| c.is_ascii_hexdigit())
                            .take(max)
                            .collect();
                        if hex.is_empty() || (n != 'x' && hex.len() != max) {
                            return Err(format!("the escape `\\{n}` in a regular expression"));
                        }
                        i += hex.len();
                        out.push_str(&format!("\\x{{{hex}}}"));
                    }
                    c if c.is_ascii_alphanumeric() => {
                        return Err(format!("the escape `\\{c}` in a regular expression"));
                    }
                    c => out.push_str(&regex_escape(&c.to_string())),
                }
            }
            '[' => {
                i = bracket(&chars, i, &mut out)?;
            }
            '(' if chars.get(i + 1) == Some(&'?') => match chars.get(i + 2) {
                Some(':') => {
                    out.push_str("(?:");
                    i += 3;
                }
                Some('=' | '!' | '<') => {
                    return Err(
                        "lookahead and lookbehind constraints in a regular expression".into(),
                    );
                }
                _ => return Err("an embedded option inside a regular expression".into()),
            },
            '{' => {
                // A bound: `{m}`, `{m,}`, `{m,n}` (anything else is an error in Postgres too).
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .map(|e| e + i)
                    .ok_or("an unclosed `{` in a regular expression")?;
                let inner: String = chars[i + 1..end].iter().collect();
                if inner.is_empty() || !inner.chars().all(|c| c.is_ascii_digit() || c == ',') {
                    return Err("an invalid bound `{...}` in a regular expression".into());
                }
                out.push('{');
                out.push_str(&inner);
                out.push('}');
                i = end + 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Writes the bracket expression starting at `chars[start]` (`[`); returns the index after it.
fn bracket(chars: &[char], start: usize, out: &mut String) -> Result<usize, String> {
    let mut i = start + 1;
    out.push('[');
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    // A `]` first is a literal.
    if chars.get(i) == Some(&']') {
        out.push_str(r"\]");
        i += 1;
    }
    loop {
        let Some(&c) = chars.get(i) else {
            return Err("an unclosed `[` in a regular expression".into());
        };
        match c {
            ']' => {
                out.push(']');
                return Ok(i + 1);
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                let name: String = chars[i + 2..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect();
                let close = i + 2 + name.chars().count();
                if chars.get(close) != Some(&':') || chars.get(close + 1) != Some(&']') {
                    return Err("an invalid character class in a regular expression".into());
                }
                out.push_str(match name.as_str() {
                    "alpha" => r"\p{Alphabetic}",
                    "alnum" => r"\p{Alphabetic}0-9",
                    "upper" => r"\p{Uppercase}",
                    "lower" => r"\p{Lowercase}",
                    "digit" => "0-9",
                    "space" => r"\s",
                    "xdigit" => "0-9A-Fa-f",
                    "blank" => r" \t",
                    _ => {
                        return Err(format!(
                            "the character class `[:{name}:]` in a regular expression"
                        ));
                    }
                });
                i = close + 2;
            }
            '[' if matches!(chars.get(i + 1), Some('.' | '=')) => {
                return Err(
                    "collating elements and equivalence classes in a regular expression".into(),
                );
            }
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err("an unclosed `[` in a regular expression".into());
                };
                i += 2;
                match n {
                    'd' => out.push_str("0-9"),
                    's' | 'w' | 'n' | 't' | 'r' | 'f' | 'v' | 'a' => {
                        out.push('\\');
                        out.push(n);
                    }
                    'b' => out.push_str(r"\x08"),
                    'B' => out.push_str(r"\\"),
                    'e' => out.push_str(r"\x1B"),
                    c if c.is_ascii_alphanumeric() => {
                        return Err(format!(
                            "the escape `\\{c}` inside brackets in a regular expression"
                        ));
                    }
                    c => out.push_str(&regex_escape(&c.to_string())),
                }
            }
            // Plain characters in Postgres, syntax in Rust.
            '[' | '&' | '~' | '-'
                if c == '['
                    || chars.get(i + 1) == Some(&c)
                    || (c == '-' && chars.get(i + 1) == Some(&']')) =>
            {
                out.push('\\');
                out.push(c);
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// `s` with every regex meta character escaped.
fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::are_to_rust;

    fn m(p: &str, s: &str) -> bool {
        ::regex::Regex::new(&are_to_rust(p, false).unwrap())
            .unwrap()
            .is_match(s)
    }

    #[test]
    fn postgres_specifics_translate() {
        assert!(m(r"\mbound", "word boundary"));
        assert!(!m(r"\mound", "word boundary"));
        assert!(m(r"ary\M", "word boundary"));
        assert!(m(r"\yword\y", "a word here"));
        assert!(m(r"^[[:alpha:]]+$", "Élan"));
        assert!(!m(r"^\d+$", "١٢"));
        assert!(m("a.b", "a\nb"));
        assert!(m(r"a\<b", "a<b"));
        assert!(m(r"[[]", "["));
        assert!(m(r"[a&&b]", "&"));
        assert!(m(r"(?i)abc", "ABC"));
        assert!(m(r"***=a.c", "a.c"));
        assert!(!m(r"***=a.c", "abc"));
        assert!(m(r"x{2,}", "axxb"));
        assert!(m(r"\x41", "A"));
    }

    #[test]
    fn what_rust_cannot_run_is_an_error() {
        for p in [
            r"(a)\1", r"a(?=b)", r"(?n)a", r"[[.a.]]", r"(?x) a", r"a(?i)b",
        ] {
            assert!(are_to_rust(p, false).is_err(), "{p}");
        }
    }
}
