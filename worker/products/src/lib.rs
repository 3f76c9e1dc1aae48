//! The products Worker in Rust: the twin of `worker/js/products` (same routes, KV keys, JSON
//! shapes and webhook handling), judged by the same scenario
//! (`worker/js/products/products-routes.toml`).
//!
//! - `GET /api/products` → `{ "data": [...rows by id], "total": n }` (KV key `products:list`)
//! - `GET /api/products?page=N` → `{ "data": [2 rows], "page": N, "total": n }` (same key)
//! - `GET /api/products/:id` → `{ "product": {...row, "fetched_at": ms} }` or 404
//!   (KV key `product:{id}`, value `{ "product": row | null }`)
//! - `GET /api/categories` → `{ "categories": [...rows by slug] }` (KV key `categories:list`)
//! - `GET /api/categories/:slug` → `{ "category": row }` or 404 (same key)
//! - `GET /api/categories/:slug/products` → `{ "data": [...rows of that category] }`
//! - `POST /hooks/products`, `POST /hooks/categories`: the Database Webhooks.
//!
//! [`Variant::Correct`] refetches the changed row and the list on a products webhook and every
//! value expires after 300 s; [`Variant::Flawed`] refreshes only the list and caches items with
//! no expiry, so `/api/products/<id>` never converges after a change.

use edgesim_worker::kv::KvStore;
use edgesim_worker::{Env, Error, Request, Response, Result};
use serde_json::{Value, json};

/// The KV key of the whole list.
pub const LIST_KEY: &str = "products:list";
/// The KV key of the categories.
pub const CATEGORIES_KEY: &str = "categories:list";
/// Products a page.
pub const PAGE_SIZE: usize = 2;
/// How long the correct variant keeps a value, seconds.
pub const TTL_S: u64 = 300;

/// Which products Worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Refetches row and list on a webhook; every value expires after [`TTL_S`].
    Correct,
    /// Refreshes only the list on a webhook; items never expire.
    Flawed,
}

/// The KV key of one product.
pub fn item_key(id: &str) -> String {
    format!("product:{id}")
}

/// `${id}` of a JSON id (a number or a string).
fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Percent-decodes a path segment.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a PostgREST filter value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One page of `rows` (pages from 1), or `None` for a page number below 1 or not a number.
pub fn page_of(rows: &[Value], page: &str) -> Option<(u64, Vec<Value>)> {
    let n: u64 = page.trim().parse().ok().filter(|n| *n >= 1)?;
    let start = (n as usize - 1).saturating_mul(PAGE_SIZE);
    Some((
        n,
        rows.iter().skip(start).take(PAGE_SIZE).cloned().collect(),
    ))
}

/// The rows of one category.
pub fn in_category(rows: &[Value], slug: &str) -> Vec<Value> {
    rows.iter()
        .filter(|r| r.get("category").and_then(Value::as_str) == Some(slug))
        .cloned()
        .collect()
}

/// GETs PostgREST `query` on `table`; an error on a non-2xx answer.
async fn rest(env: &Env, table: &str, query: &str) -> Result<Value> {
    let url = env.var("SUPABASE_URL")?;
    let key = env.var("SUPABASE_ANON_KEY")?;
    let req = Request::get(format!("{url}/rest/v1/{table}?{query}"))
        .with_header("apikey", &key)?
        .with_header("authorization", &format!("Bearer {key}"))?;
    let resp = env.fetch(req).await?;
    if !(200..300).contains(&resp.status()) {
        return Err(Error::msg(format!("PostgREST {}", resp.status())));
    }
    resp.json_body()
}

async fn fetch_row(env: &Env, id: &str) -> Result<Value> {
    let rows = rest(env, "products", &format!("select=*&id=eq.{}", encode(id))).await?;
    Ok(rows.get(0).cloned().unwrap_or(Value::Null))
}

async fn fetch_all(env: &Env) -> Result<Value> {
    rest(env, "products", "select=*&order=id.asc").await
}

async fn fetch_categories(env: &Env) -> Result<Value> {
    rest(env, "categories", "select=*&order=slug.asc").await
}

impl Variant {
    async fn put(self, kv: &KvStore, key: &str, value: &Value) -> Result<()> {
        let put = kv.put_json(key, value)?;
        match self {
            Variant::Correct => put.expiration_ttl(TTL_S).execute().await,
            Variant::Flawed => put.execute().await,
        }
    }

    /// The list from KV, else from the database (then cached).
    async fn cached_list(self, env: &Env, kv: &KvStore) -> Result<Value> {
        if let Some(v) = kv.get_json::<Value>(LIST_KEY).await? {
            return Ok(v);
        }
        let rows = fetch_all(env).await?;
        let total = rows.as_array().map_or(0, Vec::len);
        let v = json!({"data": rows, "total": total});
        self.put(kv, LIST_KEY, &v).await?;
        Ok(v)
    }

    /// The categories from KV, else from the database (then cached).
    async fn cached_categories(self, env: &Env, kv: &KvStore) -> Result<Value> {
        if let Some(v) = kv.get_json::<Value>(CATEGORIES_KEY).await? {
            return Ok(v);
        }
        let v = json!({"categories": fetch_categories(env).await?});
        self.put(kv, CATEGORIES_KEY, &v).await?;
        Ok(v)
    }

    async fn item(self, env: &Env, kv: &KvStore, id: &str) -> Result<Response> {
        let key = item_key(id);
        let cached = match kv.get_json::<Value>(&key).await? {
            Some(v) => v,
            None => {
                let v = json!({"product": fetch_row(env, id).await?});
                self.put(kv, &key, &v).await?;
                v
            }
        };
        match cached.get("product") {
            Some(Value::Object(p)) => {
                let mut p = p.clone();
                p.insert("fetched_at".into(), json!(0));
                Response::json(&json!({"product": p}))
            }
            _ => Response::json(&json!({"error": "no such product"}))?.with_status(404),
        }
    }

    async fn products_hook(self, env: &Env, kv: &KvStore, body: &[u8]) -> Result<Response> {
        let payload: Value = serde_json::from_slice(body)?;
        if self == Variant::Correct {
            let rec = payload
                .get("record")
                .filter(|r| r.is_object())
                .or_else(|| payload.get("old_record"));
            if let Some(id) = rec.and_then(|r| r.get("id")) {
                let id = id_text(id);
                let row = fetch_row(env, &id).await?;
                self.put(kv, &item_key(&id), &json!({"product": row}))
                    .await?;
            }
        }
        let rows = fetch_all(env).await?;
        let total = rows.as_array().map_or(0, Vec::len);
        self.put(kv, LIST_KEY, &json!({"data": rows, "total": total}))
            .await?;
        Response::json(&json!({"ok": true}))
    }

    async fn categories_hook(self, env: &Env, kv: &KvStore) -> Result<Response> {
        let v = json!({"categories": fetch_categories(env).await?});
        self.put(kv, CATEGORIES_KEY, &v).await?;
        Response::json(&json!({"ok": true}))
    }

    /// Serves one request.
    pub async fn fetch(self, req: Request, env: Env) -> Result<Response> {
        match self.route(req, &env).await {
            Ok(r) => Ok(r),
            Err(e) => Response::json(&json!({"error": e.to_string()}))?.with_status(503),
        }
    }

    async fn route(self, req: Request, env: &Env) -> Result<Response> {
        let kv = env.kv("PRODUCTS")?;
        let method = req.method().as_str().to_string();
        let path = req.path().to_string();
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method.as_str(), segs.as_slice()) {
            ("POST", ["hooks", "products"]) => {
                let body = req.into_body();
                self.products_hook(env, &kv, &body).await
            }
            ("POST", ["hooks", "categories"]) => self.categories_hook(env, &kv).await,
            ("GET", ["api", "products"]) => {
                let list = self.cached_list(env, &kv).await?;
                let Some(page) = req.query_param("page") else {
                    return Response::json(&list);
                };
                let rows = list["data"].as_array().cloned().unwrap_or_default();
                match page_of(&rows, &page) {
                    Some((n, data)) => {
                        Response::json(&json!({"data": data, "page": n, "total": list["total"]}))
                    }
                    None => Response::json(&json!({"error": "page must be 1 or more"}))?
                        .with_status(400),
                }
            }
            ("GET", ["api", "products", id]) => self.item(env, &kv, &decode(id)).await,
            ("GET", ["api", "categories"]) => {
                Response::json(&self.cached_categories(env, &kv).await?)
            }
            ("GET", ["api", "categories", slug]) => {
                let slug = decode(slug);
                let cats = self.cached_categories(env, &kv).await?;
                let found = cats["categories"]
                    .as_array()
                    .and_then(|c| c.iter().find(|c| c["slug"].as_str() == Some(slug.as_str())))
                    .cloned();
                match found {
                    Some(category) => Response::json(&json!({"category": category})),
                    None => Response::json(&json!({"error": "no such category"}))?.with_status(404),
                }
            }
            ("GET", ["api", "categories", slug, "products"]) => {
                let list = self.cached_list(env, &kv).await?;
                let rows = list["data"].as_array().cloned().unwrap_or_default();
                Response::json(&json!({"data": in_category(&rows, &decode(slug))}))
            }
            ("GET", _) => Ok(Response::ok("not found").with_status(404)?),
            _ => Ok(Response::ok("method not allowed").with_status(405)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_categories_and_decoding() {
        let rows: Vec<Value> = (1..=5)
            .map(|i| json!({"id": i, "category": if i % 2 == 0 { "a" } else { "b" }}))
            .collect();
        assert_eq!(page_of(&rows, "1").unwrap().1.len(), 2);
        assert_eq!(
            page_of(&rows, "3").unwrap().1,
            vec![json!({"id": 5, "category": "b"})]
        );
        assert!(page_of(&rows, "4").unwrap().1.is_empty());
        assert_eq!(page_of(&rows, "0"), None);
        assert_eq!(page_of(&rows, "x"), None);
        assert_eq!(in_category(&rows, "a").len(), 2);
        assert_eq!(decode("home%20goods"), "home goods");
        assert_eq!(encode("a b"), "a%20b");
        assert_eq!(item_key("7"), "product:7");
    }
}
