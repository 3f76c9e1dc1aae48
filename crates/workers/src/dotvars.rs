//! `.dev.vars`: local secrets beside the wrangler file, in the dotenv format wrangler reads
//! (`KEY=VALUE` per line, `#` comments, optional `export `, single, double or backtick quotes,
//! `\n` escapes inside double quotes, quoted values may span lines).

use std::collections::BTreeMap;

/// The variables of a `.dev.vars` file and what was left out.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DevVars {
    /// Variables by name (a later line wins, as dotenv does).
    pub vars: BTreeMap<String, String>,
    /// Lines that are not `KEY=VALUE`, as `line N: ...` (ignored, as dotenv does, but said).
    pub skipped: Vec<String>,
}

/// Parses the text of a `.dev.vars` file.
pub fn parse(text: &str) -> DevVars {
    let mut out = DevVars::default();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let raw = lines[i];
        i += 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((key, rest)) = line.split_once('=').or_else(|| line.split_once(": ")) else {
            out.skipped
                .push(format!("line {number}: {raw:?} is not KEY=VALUE"));
            continue;
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            out.skipped
                .push(format!("line {number}: {key:?} is not a variable name"));
            continue;
        }
        let rest = rest.trim_start();
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'' | '`')) => {
                // A quoted value runs to the matching quote, possibly on a later line.
                let mut buf = rest[1..].to_string();
                loop {
                    if let Some(end) = closing_quote(&buf, q) {
                        buf.truncate(end);
                        break;
                    }
                    if i >= lines.len() {
                        // No closing quote: dotenv keeps the text as written on the first line.
                        buf = rest
                            .split('#')
                            .next()
                            .unwrap_or_default()
                            .trim()
                            .to_string();
                        break;
                    }
                    buf.push('\n');
                    buf.push_str(lines[i]);
                    i += 1;
                }
                if q == '"' {
                    buf.replace("\\n", "\n").replace("\\r", "\r")
                } else {
                    buf
                }
            }
            _ => rest
                .split(" #")
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
        };
        out.vars.insert(key.to_string(), value);
    }
    out
}

/// Byte offset of the first unescaped `q` in `s`.
fn closing_quote(s: &str, q: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == q {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrangler_dotenv_format() {
        let text = "# secrets\nSUPABASE_ANON_KEY=abc.def\nexport GREETING = \"hi there\" # c\nSINGLE='a # b'\nMULTI=\"line1\nline2\"\nESC=\"a\\nb\"\nPLAIN=x # comment\nEMPTY=\n\nnot a var\nA=1\nA=2\n";
        let v = parse(text);
        assert_eq!(v.vars["SUPABASE_ANON_KEY"], "abc.def");
        assert_eq!(v.vars["GREETING"], "hi there");
        assert_eq!(v.vars["SINGLE"], "a # b");
        assert_eq!(v.vars["MULTI"], "line1\nline2");
        assert_eq!(v.vars["ESC"], "a\nb");
        assert_eq!(v.vars["PLAIN"], "x");
        assert_eq!(v.vars["EMPTY"], "");
        assert_eq!(v.vars["A"], "2");
        assert_eq!(v.skipped.len(), 1);
        assert!(v.skipped[0].starts_with("line 11:"), "{:?}", v.skipped);
    }
}
