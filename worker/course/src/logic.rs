//! The course's KV helpers and route logic, kept free of wasm-only calls where possible.

use edgesim_worker::kv::KvStore;
use edgesim_worker::supabase::Supabase;
use edgesim_worker::{Env, Response, Result};
use serde_json::{Value, json};

/// `readFrom(ns, key)`: `get` then `JSON.parse`; a missing key parses to `null`.
pub async fn read_from(kv: &KvStore, key: &str) -> Result<Value> {
    match kv.get_text(key).await? {
        Some(text) => Ok(serde_json::from_str(&text)?),
        None => Ok(Value::Null),
    }
}

/// `writeTo(ns, key, value)`: `put(key, JSON.stringify(value))`.
pub async fn write_to(kv: &KvStore, key: &str, value: &Value) -> Result<()> {
    kv.put_json(key, value)?.execute().await
}

/// JavaScript truthiness of a parsed JSON value (`if (cached)`).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `${value}` of a JSON value in a JS template string (how `record.id` becomes a key).
pub fn template(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Array(a) => a.iter().map(template).collect::<Vec<_>>().join(","),
        Value::Object(_) => "[object Object]".into(),
        other => other.to_string(),
    }
}

/// `{"received":true}`.
pub fn received() -> Value {
    json!({"received": true})
}

/// The fixed list lesson 6's `/write-kv` stores.
pub fn write_kv_sample() -> Value {
    json!([
        {"id": 1, "title": "first blog"},
        {"id": 2, "title": "second blog"}
    ])
}

/// A JSON response with `x-kv: hit|miss`.
pub fn json_with_kv_status(value: &Value, hit: bool) -> Result<Response> {
    Response::json(value)?.with_header("x-kv", if hit { "hit" } else { "miss" })
}

/// A Database Webhook payload, parsed as loosely as the JS destructuring reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookAction {
    /// INSERT or UPDATE: write `record` under `/articles/<record.id>`.
    Write { key: String, record: Value },
    /// DELETE: delete `/articles/<old_record.id>`.
    Delete { key: String },
    /// Any other type: only the list refresh happens.
    Other,
}

/// Reads `{type, record, old_record}`; a missing record is the TypeError JS would throw.
pub fn parse_webhook(body: &[u8]) -> Result<WebhookAction> {
    let payload: Value = serde_json::from_slice(body)?;
    let ty = payload.get("type").and_then(Value::as_str).unwrap_or("");
    let id_of = |field: &str| -> Result<String> {
        match payload.get(field) {
            Some(rec) if rec.is_object() => Ok(rec.get("id").map_or("undefined".into(), template)),
            _ => Err(edgesim_worker::Error::msg(format!(
                "TypeError: Cannot read properties of {} (reading 'id')",
                if payload.get(field).is_some_and(Value::is_null) {
                    "null"
                } else {
                    "undefined"
                }
            ))),
        }
    };
    Ok(match ty {
        "INSERT" | "UPDATE" => Write {
            key: format!("/articles/{}", id_of("record")?),
            record: payload["record"].clone(),
        },
        "DELETE" => Delete {
            key: format!("/articles/{}", id_of("old_record")?),
        },
        _ => Other,
    })
}

use WebhookAction::{Delete, Other, Write};

/// The `ARTICLES` namespace and the Supabase project.
pub struct Articles {
    /// The `ARTICLES` binding.
    pub kv: KvStore,
    /// `SUPABASE_URL` with `SUPABASE_ANON_KEY`.
    pub supabase: Supabase,
}

impl Articles {
    /// Opens `ARTICLES` and reads the Supabase variables.
    pub fn from_env(env: &Env) -> Result<Self> {
        Ok(Articles {
            kv: env.kv("ARTICLES")?,
            supabase: Supabase::from_env(env)?,
        })
    }

    /// `GET /articles`: (value, hit).
    pub async fn all(&self) -> Result<(Value, bool)> {
        let cached = read_from(&self.kv, "/articles").await?;
        if truthy(&cached) {
            return Ok((cached, true));
        }
        Ok((self.refresh_all().await?, false))
    }

    /// `GET /articles/:id`: (value, hit).
    pub async fn one(&self, id: &str) -> Result<(Value, bool)> {
        let key = format!("/articles/{id}");
        let cached = read_from(&self.kv, &key).await?;
        if truthy(&cached) {
            return Ok((cached, true));
        }
        let data = self
            .supabase
            .select_single("articles", "id", id)
            .await?
            .data;
        write_to(&self.kv, &key, &data).await?;
        Ok((data, false))
    }

    /// Selects all rows and writes them to `/articles`.
    pub async fn refresh_all(&self) -> Result<Value> {
        let data = self.supabase.select_all("articles").await?.data;
        write_to(&self.kv, "/articles", &data).await?;
        Ok(data)
    }

    /// The lesson 11 webhook work (run inside `waitUntil`).
    pub async fn apply_webhook(&self, body: &[u8]) -> Result<()> {
        match parse_webhook(body)? {
            Write { key, record } => write_to(&self.kv, &key, &record).await?,
            Delete { key } => self.kv.delete(&key).await?,
            Other => {}
        }
        self.refresh_all().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_truthiness() {
        for v in [json!(null), json!(false), json!(0), json!(0.0), json!("")] {
            assert!(!truthy(&v), "{v}");
        }
        for v in [json!([]), json!({}), json!("x"), json!(1), json!(true)] {
            assert!(truthy(&v), "{v}");
        }
    }

    #[test]
    fn template_strings_format_ids_like_js() {
        assert_eq!(template(&json!(2)), "2");
        assert_eq!(template(&json!("abc")), "abc");
        assert_eq!(template(&json!(null)), "null");
        assert_eq!(template(&json!({"a": 1})), "[object Object]");
    }

    #[test]
    fn webhook_payloads() {
        let w = parse_webhook(br#"{"type":"UPDATE","record":{"id":2,"title":"t"}}"#).unwrap();
        assert_eq!(
            w,
            Write {
                key: "/articles/2".into(),
                record: json!({"id": 2, "title": "t"})
            }
        );
        let d = parse_webhook(br#"{"type":"DELETE","old_record":{"id":"x"}}"#).unwrap();
        assert_eq!(
            d,
            Delete {
                key: "/articles/x".into()
            }
        );
        let no_id = parse_webhook(br#"{"type":"INSERT","record":{}}"#).unwrap();
        assert_eq!(
            no_id,
            Write {
                key: "/articles/undefined".into(),
                record: json!({})
            }
        );
        assert_eq!(parse_webhook(br#"{"type":"TRUNCATE"}"#).unwrap(), Other);
        let err = parse_webhook(br#"{"type":"DELETE","old_record":null}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "TypeError: Cannot read properties of null (reading 'id')"
        );
        assert!(parse_webhook(b"nope").is_err());
    }
}
