//! Route patterns: a path template with `{params}` (`/api/products/{id}`), optionally followed by
//! a query-string part (`?page={page}&category={cat}`), and the KV key templates
//! (`product:{id}`).

use std::collections::BTreeMap;

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Param(String),
}

/// A template such as `/api/products/{id}` or `product:{id}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    text: String,
    pieces: Vec<Piece>,
}

/// Whether `s` is a parameter (or column) name: letters, digits and `_`.
pub(crate) fn param_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Template {
    /// Parses `text`; `{name}` is a parameter.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Lit(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("{text:?}: `{{` without `}}`"))?;
            let name = &rest[open + 1..open + close];
            if !param_name(name) {
                return Err(format!("{text:?}: bad parameter name {name:?}"));
            }
            if matches!(pieces.last(), Some(Piece::Param(_))) {
                return Err(format!("{text:?}: two parameters need text between them"));
            }
            pieces.push(Piece::Param(name.to_string()));
            rest = &rest[open + close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("{text:?}: `}}` without `{{`"));
        }
        if !rest.is_empty() {
            pieces.push(Piece::Lit(rest.to_string()));
        }
        Ok(Self {
            text: text.to_string(),
            pieces,
        })
    }

    /// The template as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parameter names, in order.
    pub fn params(&self) -> Vec<&str> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Param(n) => Some(n.as_str()),
                Piece::Lit(_) => None,
            })
            .collect()
    }

    /// The parameters of `s` when it matches (a parameter is non-empty and, when `stop` is
    /// given, never contains it: `/` for paths).
    pub fn matches(&self, s: &str, stop: Option<char>) -> Option<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        let mut rest = s;
        for (i, p) in self.pieces.iter().enumerate() {
            match p {
                Piece::Lit(l) => rest = rest.strip_prefix(l.as_str())?,
                Piece::Param(name) => {
                    let end = match self.pieces.get(i + 1) {
                        Some(Piece::Lit(next)) => rest.find(next.as_str())?,
                        _ => rest.len(),
                    };
                    let v = &rest[..end];
                    if v.is_empty() || stop.is_some_and(|c| v.contains(c)) {
                        return None;
                    }
                    out.insert(name.clone(), v.to_string());
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(out)
    }

    /// The text with each parameter replaced (missing ones stay as `{name}`).
    pub fn fill(&self, params: &BTreeMap<String, String>) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(l) => l.clone(),
                Piece::Param(n) => params.get(n).cloned().unwrap_or_else(|| format!("{{{n}}}")),
            })
            .collect()
    }
}

/// The value a query parameter must have: a route parameter, or a fixed text.
#[derive(Clone, Debug, PartialEq, Eq)]
enum QueryValue {
    Param(String),
    Fixed(String),
}

/// A route pattern: a path template and the query parameters it requires
/// (`/api/products?page={page}&sort=price`). Parameters in the path match one segment; those in
/// the query match the (percent-decoded) value of that query parameter. A request may carry
/// query parameters the pattern does not name (they are ignored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathPattern {
    text: String,
    path: Template,
    query: Vec<(String, QueryValue)>,
}

impl PathPattern {
    /// Parses `/path/{p}[?name={q}&name=text...]`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (path_text, query_text) = match text.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (text, None),
        };
        if !path_text.starts_with('/') {
            return Err(format!("{text:?}: a route path starts with /"));
        }
        let path = Template::parse(path_text)?;
        let mut query = Vec::new();
        for pair in query_text.into_iter().flat_map(|q| q.split('&')) {
            let (name, value) = pair.split_once('=').ok_or_else(|| {
                format!("{text:?}: query part {pair:?} is not `name={{param}}` or `name=value`")
            })?;
            if name.is_empty() || name.contains(['{', '}']) {
                return Err(format!("{text:?}: bad query parameter name {name:?}"));
            }
            let value = match value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
                Some(p) if param_name(p) => QueryValue::Param(p.to_string()),
                Some(p) => return Err(format!("{text:?}: bad parameter name {p:?}")),
                None if value.contains(['{', '}']) => {
                    return Err(format!(
                        "{text:?}: a query value is a whole {{param}} or a fixed text, not {value:?}"
                    ));
                }
                None => QueryValue::Fixed(value.to_string()),
            };
            if query.iter().any(|(n, _)| n == name) {
                return Err(format!("{text:?}: query parameter {name:?} twice"));
            }
            query.push((name.to_string(), value));
        }
        let pattern = Self {
            text: text.to_string(),
            path,
            query,
        };
        let params = pattern.params();
        if let Some(p) = params
            .iter()
            .enumerate()
            .find(|(i, p)| params[..*i].contains(p))
        {
            return Err(format!("{text:?}: parameter {{{}}} twice", p.1));
        }
        Ok(pattern)
    }

    /// The pattern as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// How many query parameters it requires (a more specific pattern wins).
    pub fn query_len(&self) -> usize {
        self.query.len()
    }

    /// Every parameter name: the path's, then the query's.
    pub fn params(&self) -> Vec<&str> {
        let mut out = self.path.params();
        out.extend(self.query.iter().filter_map(|(_, v)| match v {
            QueryValue::Param(p) => Some(p.as_str()),
            QueryValue::Fixed(_) => None,
        }));
        out
    }

    /// The parameters of a request path (with its query string) when it matches.
    pub fn matches(&self, path_and_query: &str) -> Option<BTreeMap<String, String>> {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, q),
            None => (path_and_query, ""),
        };
        let mut out = self.path.matches(path, Some('/'))?;
        let pairs: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (n, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(n), decode(v))
            })
            .collect();
        for (name, want) in &self.query {
            let (_, got) = pairs.iter().find(|(n, _)| n == name)?;
            match want {
                QueryValue::Fixed(f) if f != got => return None,
                QueryValue::Fixed(_) => {}
                QueryValue::Param(_) if got.is_empty() => return None,
                QueryValue::Param(p) => {
                    out.insert(p.clone(), got.clone());
                }
            }
        }
        for (p, v) in out.iter_mut() {
            if self.path.params().contains(&p.as_str()) {
                *v = decode(v);
            }
        }
        Some(out)
    }

    /// A request path for `params` (query values percent-encoded).
    pub fn fill(&self, params: &BTreeMap<String, String>) -> String {
        let enc: BTreeMap<String, String> =
            params.iter().map(|(k, v)| (k.clone(), encode(v))).collect();
        let mut out = self.path.fill(&enc);
        for (i, (name, v)) in self.query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(name);
            out.push('=');
            match v {
                QueryValue::Fixed(f) => out.push_str(&encode(f)),
                QueryValue::Param(p) => {
                    out.push_str(&enc.get(p).cloned().unwrap_or_else(|| format!("{{{p}}}")))
                }
            }
        }
        out
    }
}

/// Percent-decodes `s` (`+` is a space, as in forms); bad escapes stay as written.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(v) => {
                    out.push(v);
                    i += 3;
                    continue;
                }
                None => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes what a path segment or query value cannot hold as is.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@!$'()*,;".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_and_fill() {
        let t = Template::parse("/api/products/{id}").unwrap();
        assert_eq!(t.params(), vec!["id"]);
        let m = t.matches("/api/products/7", Some('/')).unwrap();
        assert_eq!(m["id"], "7");
        assert!(t.matches("/api/products/7/x", Some('/')).is_none());
        assert!(t.matches("/api/products/", Some('/')).is_none());
        assert!(t.matches("/api/product/7", Some('/')).is_none());
        assert_eq!(t.fill(&m), "/api/products/7");
        let k = Template::parse("product:{id}:v2").unwrap();
        assert_eq!(k.matches("product:12:v2", None).unwrap()["id"], "12");
        assert!(k.matches("product:12", None).is_none());
        assert!(Template::parse("/a/{id").is_err());
        assert!(Template::parse("/a/{x}{y}").is_err());
        assert!(Template::parse("/a/{x-y}").is_err());
    }

    #[test]
    fn query_patterns_match_decoded_values_in_any_order() {
        let p = PathPattern::parse("/api/products?page={page}&category={cat}&v=2").unwrap();
        assert_eq!(p.params(), vec!["page", "cat"]);
        assert_eq!(p.query_len(), 3);
        let m = p
            .matches("/api/products?v=2&category=home%20goods&utm=x&page=3")
            .unwrap();
        assert_eq!((m["page"].as_str(), m["cat"].as_str()), ("3", "home goods"));
        assert!(
            p.matches("/api/products?page=3&category=a").is_none(),
            "v=2 missing"
        );
        assert!(p.matches("/api/products?page=3&category=a&v=3").is_none());
        assert!(p.matches("/api/products?page=&category=a&v=2").is_none());
        assert!(p.matches("/api/products/1?page=1&category=a&v=2").is_none());
        let filled = p.fill(&m);
        assert_eq!(filled, "/api/products?page=3&category=home%20goods&v=2");
        assert_eq!(p.matches(&filled), Some(m));
        let seg = PathPattern::parse("/c/{slug}/products").unwrap();
        assert_eq!(seg.matches("/c/a%2Fb/products").unwrap()["slug"], "a/b");
        assert_eq!(
            seg.fill(&BTreeMap::from([("slug".into(), "a b".into())])),
            "/c/a%20b/products"
        );
        for bad in [
            "api/x",
            "/x?page",
            "/x?page={p-q}",
            "/x?page=a{p}",
            "/x?a=1&a=2",
            "/x/{p}?q={p}",
        ] {
            assert!(PathPattern::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(decode("a+b%41%zz%"), "a bA%zz%");
    }
}
