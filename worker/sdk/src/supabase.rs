//! A minimal supabase-js-like PostgREST client: the reads the course Worker makes.
//!
//! Like supabase-js, a failed request is not an `Err`: it yields `data: null` plus the error,
//! because the course code only ever destructures `{ data }`.

use crate::env::Env;
use crate::error::Result;
use crate::request::Request;
use serde_json::Value;

/// `Accept` value that asks PostgREST for a single object (supabase-js `.single()`).
pub const SINGLE_OBJECT: &str = "application/vnd.pgrst.object+json";

/// A Supabase project: URL and anon key, sent as `apikey` and `Authorization: Bearer`.
#[derive(Debug, Clone)]
pub struct Supabase {
    url: String,
    key: String,
    env: Option<Env>,
}

/// What a query gave: `data` (JSON, `null` on any error) and the error text, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The rows, the single row, or `null`.
    pub data: Value,
    /// The PostgREST error body or fetch failure, if the query failed.
    pub error: Option<String>,
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
}

impl Supabase {
    /// A client for `url` (e.g. `http://127.0.0.1:54321`) with the anon `key` that only builds
    /// requests; queries fail until it has an environment to fetch through.
    pub fn new(url: &str, key: &str) -> Self {
        Supabase {
            url: url.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            env: None,
        }
    }

    /// A client from the `SUPABASE_URL` and `SUPABASE_ANON_KEY` variables, fetching through `env`.
    pub fn from_env(env: &Env) -> Result<Self> {
        let mut client = Supabase::new(&env.var("SUPABASE_URL")?, &env.var("SUPABASE_ANON_KEY")?);
        client.env = Some(env.clone());
        Ok(client)
    }

    /// `GET /rest/v1/<table>?select=*` (`from(table).select('*')`).
    pub fn select_all_request(&self, table: &str) -> Result<Request> {
        self.authed(Request::get(format!(
            "{}/rest/v1/{}?select=*",
            self.url,
            encode(table)
        )))
    }

    /// `GET /rest/v1/<table>?select=*&<column>=eq.<value>` asking for one object
    /// (`from(table).select('*').match({ column: value }).single()`).
    pub fn select_single_request(&self, table: &str, column: &str, value: &str) -> Result<Request> {
        let url = format!(
            "{}/rest/v1/{}?select=*&{}=eq.{}",
            self.url,
            encode(table),
            encode(column),
            encode(value)
        );
        self.authed(Request::get(url))?
            .with_header("accept", SINGLE_OBJECT)
    }

    fn authed(&self, req: Request) -> Result<Request> {
        req.with_header("apikey", &self.key)?
            .with_header("authorization", &format!("Bearer {}", self.key))
    }

    /// All rows of `table` (`data` is `null` on any failure).
    pub async fn select_all(&self, table: &str) -> Result<QueryResult> {
        Ok(self.run(self.select_all_request(table)?).await)
    }

    /// The row of `table` whose `column` equals `value`, as one object (`null` if none).
    pub async fn select_single(
        &self,
        table: &str,
        column: &str,
        value: &str,
    ) -> Result<QueryResult> {
        Ok(self
            .run(self.select_single_request(table, column, value)?)
            .await)
    }

    async fn run(&self, req: Request) -> QueryResult {
        let sent = match &self.env {
            Some(env) => env.fetch(req).await,
            None => Err(crate::Error::Fetch(
                "this Supabase client has no environment to fetch through".into(),
            )),
        };
        match sent {
            Ok(resp) => interpret(resp.status(), resp.body()),
            Err(e) => QueryResult {
                data: Value::Null,
                error: Some(e.to_string()),
                status: None,
            },
        }
    }
}

/// Turns a PostgREST answer into `{ data, error }` as supabase-js does.
pub fn interpret(status: u16, body: &[u8]) -> QueryResult {
    let text = String::from_utf8_lossy(body).into_owned();
    if !(200..300).contains(&status) {
        return QueryResult {
            data: Value::Null,
            error: Some(text),
            status: Some(status),
        };
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(data) => QueryResult {
            data,
            error: None,
            status: Some(status),
        },
        Err(e) => QueryResult {
            data: Value::Null,
            error: Some(format!("invalid JSON from PostgREST: {e}")),
            status: Some(status),
        },
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay as they are).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
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
    fn select_all_sends_the_anon_key_twice() {
        let s = Supabase::new("http://127.0.0.1:54321/", "anon");
        let r = s.select_all_request("articles").unwrap();
        assert_eq!(r.url(), "http://127.0.0.1:54321/rest/v1/articles?select=*");
        assert_eq!(r.header("apikey"), Some("anon"));
        assert_eq!(r.header("authorization"), Some("Bearer anon"));
        assert_eq!(r.header("accept"), None);
    }

    #[test]
    fn select_single_asks_for_one_object_and_encodes_the_value() {
        let s = Supabase::new("http://h", "k");
        let r = s.select_single_request("articles", "id", "2").unwrap();
        assert_eq!(r.url(), "http://h/rest/v1/articles?select=*&id=eq.2");
        assert_eq!(r.header("accept"), Some(SINGLE_OBJECT));
        let r = s.select_single_request("articles", "id", "a b&c").unwrap();
        assert_eq!(
            r.url(),
            "http://h/rest/v1/articles?select=*&id=eq.a%20b%26c"
        );
    }

    #[test]
    fn errors_give_null_data_like_supabase_js() {
        let ok = interpret(200, br#"[{"id":1}]"#);
        assert_eq!(ok.data, serde_json::json!([{"id": 1}]));
        assert_eq!(ok.error, None);
        let none = interpret(406, br#"{"code":"PGRST116"}"#);
        assert_eq!(none.data, Value::Null);
        assert_eq!(none.error.as_deref(), Some(r#"{"code":"PGRST116"}"#));
        assert_eq!(interpret(200, b"<html>").data, Value::Null);
    }
}
