//! An HTTP request with a fully buffered body, as handlers receive it and `fetch` sends it.

use crate::error::{Error, Result};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An HTTP request: method, absolute URL (or a path), headers and a buffered body.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Request {
    /// A request with no headers and an empty body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: HeaderMap::new(),
            body: Vec::new(),
        }
    }

    /// A `GET` of `url`.
    pub fn get(url: impl Into<String>) -> Self {
        Request::new(Method::GET, url)
    }

    /// A `POST` to `url`.
    pub fn post(url: impl Into<String>) -> Self {
        Request::new(Method::POST, url)
    }

    /// Builds a request from parts (used by the runtime glue and tests).
    pub fn from_parts(method: Method, url: String, headers: HeaderMap, body: Vec<u8>) -> Self {
        Request {
            method,
            url,
            headers,
            body,
        }
    }

    /// Adds a header (appending to any already there).
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self> {
        let name = HeaderName::from_bytes(name.as_bytes())?;
        self.headers.append(name, HeaderValue::from_str(value)?);
        Ok(self)
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Replaces the body with `value` as JSON and sets `content-type: application/json`.
    pub fn with_json<T: Serialize + ?Sized>(mut self, value: &T) -> Result<Self> {
        self.body = serde_json::to_vec(value)?;
        self.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok(self)
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL as received or given (absolute for incoming requests).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The path of the URL, without the query (`/` when empty).
    pub fn path(&self) -> &str {
        let path = split_url(&self.url).0;
        if path.is_empty() { "/" } else { path }
    }

    /// The raw query string (without `?`), if any.
    pub fn query(&self) -> Option<&str> {
        split_url(&self.url).1
    }

    /// The first value of query parameter `name`, percent- and `+`-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query()?;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k) == name).then(|| decode_component(v))
        })
    }

    /// All headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name` if it is valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Consumes the request, returning its body.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<String> {
        Ok(std::str::from_utf8(&self.body)?.to_owned())
    }

    /// The body parsed as JSON into `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Json(e.to_string()))
    }
}

/// Splits a URL (absolute or a bare path) into its path and query, dropping any fragment.
pub(crate) fn split_url(url: &str) -> (&str, Option<&str>) {
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    let rest = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            match after.find(['/', '?']) {
                Some(j) => &after[j..],
                None => "",
            }
        }
        None => url,
    };
    match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    }
}

/// Decodes `%XX` escapes and `+` (as a space) in a query component; invalid escapes stay as they are.
pub(crate) fn decode_component(s: &str) -> String {
    percent_decode(&s.replace('+', " "))
}

/// Decodes `%XX` escapes; invalid escapes and invalid UTF-8 are kept (lossily) rather than rejected.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_query_of_absolute_and_relative_urls() {
        let r = Request::get("http://localhost:8787/articles/2?x=1&y=a+b#frag");
        assert_eq!(r.path(), "/articles/2");
        assert_eq!(r.query(), Some("x=1&y=a+b"));
        assert_eq!(r.query_param("y").as_deref(), Some("a b"));
        assert_eq!(r.query_param("z"), None);
        assert_eq!(Request::get("http://h").path(), "/");
        assert_eq!(Request::get("http://h?q=1").path(), "/");
        assert_eq!(Request::get("http://h?q=1").query(), Some("q=1"));
        assert_eq!(Request::get("/hello").path(), "/hello");
    }

    #[test]
    fn percent_decoding_keeps_invalid_escapes() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("%E2%9C%93"), "✓");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%4"), "%4");
    }

    #[test]
    fn json_body_round_trips_and_bad_json_is_an_error() {
        #[derive(serde::Deserialize, serde::Serialize, PartialEq, Debug)]
        struct P {
            id: u32,
        }
        let r = Request::post("/x").with_json(&P { id: 7 }).unwrap();
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.json::<P>().unwrap(), P { id: 7 });
        let bad = Request::post("/x").with_body("{nope");
        assert!(matches!(bad.json::<P>(), Err(Error::Json(_))));
        let bad_utf8 = Request::post("/x").with_body(vec![0xff, 0xfe]);
        assert!(matches!(bad_utf8.text(), Err(Error::Utf8(_))));
    }
}
