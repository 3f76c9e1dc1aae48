//! The hardened Worker's routes (same paths and responses as the course Worker).

use crate::store::{Store, Truth};
use course::logic::{self, WebhookAction};
use edgesim_worker::{Request, Response, Result, RouteContext, Router};
use serde_json::{Value, json};

/// The hardened Worker's routes.
pub fn router() -> Router {
    routes().post("/revalidate", webhook)
}

/// A mutant for edgesim's property tests (`hardened-no-webhook.wasm`): the same Worker with its
/// webhook handler disabled. It acknowledges every Database Webhook and does nothing, so only
/// the `expirationTtl` safety net refreshes KV: it still converges eventually (within
/// expirationTtl + cacheTtl) but serves superseded rows far longer than a revalidating Worker.
pub fn router_without_webhook() -> Router {
    routes().post("/revalidate", ignore_webhook)
}

fn routes() -> Router {
    Router::new()
        .get("/hello", course::routes::hello)
        .get("/articles", all_articles)
        .get("/articles/:id", one_article)
        .get("/revalidate", revalidate_all)
        .get("/read-kv", course::routes::read_kv)
        .get("/write-kv", write_kv)
}

async fn ignore_webhook(_req: Request, _cx: RouteContext) -> Result<Response> {
    Response::json(&logic::received())
}

/// Answers a read that missed KV from Supabase's `truth`, writing it back once (no retries on
/// the read path: a 429 here only means the next read misses too).
async fn serve(store: &Store, key: &str, truth: Truth) -> Result<Response> {
    match truth {
        Truth::Value(v) => {
            if let Err(e) = store.put_once(key, &v).await {
                eprintln!("hardened: writing {key} after a miss failed: {e}");
            }
            logic::json_with_kv_status(&v, false)
        }
        Truth::Absent => logic::json_with_kv_status(&Value::Null, false),
        Truth::Unknown(why) => Response::json(&json!({ "error": why }))?
            .with_status(502)?
            .with_header("x-kv", "miss"),
    }
}

async fn all_articles(_req: Request, cx: RouteContext) -> Result<Response> {
    let store = Store::from_env(&cx.env)?;
    if let Some(v) = store.read("/articles").await? {
        return logic::json_with_kv_status(&v, true);
    }
    let truth = store.truth_all().await?;
    serve(&store, "/articles", truth).await
}

async fn one_article(_req: Request, cx: RouteContext) -> Result<Response> {
    let store = Store::from_env(&cx.env)?;
    let id = cx.param("id").unwrap_or_default().to_owned();
    let key = format!("/articles/{id}");
    if let Some(v) = store.read(&key).await? {
        return logic::json_with_kv_status(&v, true);
    }
    let truth = store.truth_one(&id).await?;
    serve(&store, &key, truth).await
}

async fn revalidate_all(_req: Request, cx: RouteContext) -> Result<Response> {
    let store = Store::from_env(&cx.env)?;
    store.sync("/articles", || store.truth_all()).await?;
    Response::json(&logic::received())
}

/// The id a webhook is about (`record.id`, or `old_record.id` for DELETE), as a KV key suffix.
fn changed_id(body: &[u8]) -> Result<Option<String>> {
    Ok(match logic::parse_webhook(body)? {
        WebhookAction::Write { key, .. } | WebhookAction::Delete { key } => {
            Some(key.strip_prefix("/articles/").unwrap_or(&key).to_owned())
        }
        WebhookAction::Other => None,
    })
}

async fn webhook(req: Request, cx: RouteContext) -> Result<Response> {
    let store = Store::from_env(&cx.env)?;
    let body = req.into_body();
    cx.ctx.wait_until(async move {
        let id = match changed_id(&body) {
            Ok(id) => id,
            Err(e) => {
                eprintln!("hardened: ignoring a webhook I cannot read: {e}");
                None
            }
        };
        if let Some(id) = id {
            let key = format!("/articles/{id}");
            if let Err(e) = store.sync(&key, || store.truth_one(&id)).await {
                eprintln!("hardened: syncing {key} failed: {e}");
            }
        }
        if let Err(e) = store.sync("/articles", || store.truth_all()).await {
            eprintln!("hardened: syncing /articles failed: {e}");
        }
    });
    Response::json(&logic::received())
}

async fn write_kv(_req: Request, cx: RouteContext) -> Result<Response> {
    let store = Store::from_env(&cx.env)?;
    let value = logic::write_kv_sample();
    store.put("/articles", &value).await?;
    Response::json(&value)
}
