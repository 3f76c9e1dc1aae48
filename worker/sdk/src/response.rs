//! An HTTP response with a fully buffered body.

use crate::error::{Error, Result};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// `content-type` of [`Response::json`] (as itty-router-extras' `json()` sends it).
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// `content-type` of [`Response::ok`] (as a JS `new Response(string)` gets it).
pub const TEXT_CONTENT_TYPE: &str = "text/plain;charset=UTF-8";

/// An HTTP response: status, headers and a buffered body.
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Response {
    /// A 200 response with `body` and no headers.
    pub fn from_bytes(body: impl Into<Vec<u8>>) -> Self {
        Response {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }

    /// A 200 text response.
    pub fn ok(text: impl Into<String>) -> Self {
        Response::from_bytes(text.into()).content_type(TEXT_CONTENT_TYPE)
    }

    /// A 200 response with `value` serialised as JSON.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self> {
        Ok(Response::from_json_text(serde_json::to_vec(value)?))
    }

    /// A 200 JSON response whose body is already JSON text (e.g. a KV value), sent as is.
    pub fn from_json_text(text: impl Into<Vec<u8>>) -> Self {
        Response::from_bytes(text).content_type(JSON_CONTENT_TYPE)
    }

    /// A text response with `status` (e.g. `Response::error("Not found", 404)`).
    pub fn error(text: impl Into<String>, status: u16) -> Result<Self> {
        Response::ok(text).with_status(status)
    }

    /// An empty 200 response.
    pub fn empty() -> Self {
        Response::from_bytes(Vec::new())
    }

    /// Builds a response from parts (used by the runtime glue and tests).
    pub fn from_parts(status: StatusCode, headers: HeaderMap, body: Vec<u8>) -> Self {
        Response {
            status,
            headers,
            body,
        }
    }

    /// Sets the status; fails for codes outside 100..=999.
    pub fn with_status(mut self, status: u16) -> Result<Self> {
        self.status =
            StatusCode::from_u16(status).map_err(|e| Error::Http(format!("{status}: {e}")))?;
        Ok(self)
    }

    /// Sets header `name` to `value`, replacing earlier values.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self> {
        let name = HeaderName::from_bytes(name.as_bytes())?;
        self.headers.insert(name, HeaderValue::from_str(value)?);
        Ok(self)
    }

    fn content_type(mut self, value: &'static str) -> Self {
        self.headers
            .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(value));
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
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

    /// Consumes the response, returning status, headers and body.
    pub fn into_parts(self) -> (StatusCode, HeaderMap, Vec<u8>) {
        (self.status, self.headers, self.body)
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<String> {
        Ok(std::str::from_utf8(&self.body)?.to_owned())
    }

    /// The body parsed as JSON into `T`.
    pub fn json_body<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Json(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_response_has_content_type_and_round_trips() {
        let r = Response::json(&serde_json::json!({"received": true})).unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.header("content-type"), Some(JSON_CONTENT_TYPE));
        assert_eq!(r.text().unwrap(), r#"{"received":true}"#);
        let v: serde_json::Value = r.json_body().unwrap();
        assert_eq!(v["received"], true);
    }

    #[test]
    fn null_serialises_to_the_text_null() {
        let r = Response::json(&serde_json::Value::Null).unwrap();
        assert_eq!(r.body(), b"null");
    }

    #[test]
    fn error_sets_status_and_text() {
        let r = Response::error("Not found", 404).unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(r.text().unwrap(), "Not found");
        assert_eq!(r.header("content-type"), Some(TEXT_CONTENT_TYPE));
        assert!(Response::error("x", 1000).is_err());
    }

    #[test]
    fn headers_replace_and_reject_bad_names() {
        let r = Response::ok("a")
            .with_header("x-kv", "miss")
            .unwrap()
            .with_header("x-kv", "hit")
            .unwrap();
        assert_eq!(r.header("x-kv"), Some("hit"));
        assert!(Response::ok("a").with_header("bad name", "v").is_err());
        assert!(Response::ok("a").with_header("x", "bad\nvalue").is_err());
    }
}
