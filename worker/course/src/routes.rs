//! The lesson 11 router and its handlers.

use crate::logic::{self, Articles};
use edgesim_worker::{Request, Response, Result, RouteContext, Router};

/// The course Worker's routes.
pub fn router() -> Router {
    Router::new()
        .get("/hello", hello)
        .get("/articles", all_articles)
        .get("/articles/:id", one_article)
        .get("/revalidate", revalidate_all)
        .post("/revalidate", webhook)
        .get("/read-kv", read_kv)
        .get("/write-kv", write_kv)
}

/// `GET /hello`: `ok` (benchmarks). The hardened Worker serves it as is.
pub async fn hello(_req: Request, _cx: RouteContext) -> Result<Response> {
    Ok(Response::ok("ok"))
}

async fn all_articles(_req: Request, cx: RouteContext) -> Result<Response> {
    let (value, hit) = Articles::from_env(&cx.env)?.all().await?;
    logic::json_with_kv_status(&value, hit)
}

async fn one_article(_req: Request, cx: RouteContext) -> Result<Response> {
    let id = cx.param("id").unwrap_or_default().to_owned();
    let (value, hit) = Articles::from_env(&cx.env)?.one(&id).await?;
    logic::json_with_kv_status(&value, hit)
}

async fn revalidate_all(_req: Request, cx: RouteContext) -> Result<Response> {
    Articles::from_env(&cx.env)?.refresh_all().await?;
    Response::json(&logic::received())
}

async fn webhook(req: Request, cx: RouteContext) -> Result<Response> {
    let articles = Articles::from_env(&cx.env)?;
    let body = req.into_body();
    cx.ctx.wait_until(async move {
        if let Err(e) = articles.apply_webhook(&body).await {
            // A rejected waitUntil promise: logged, the response is already out.
            eprintln!("Uncaught (in promise) {e}");
        }
    });
    Response::json(&logic::received())
}

/// `GET /read-kv` (lesson 6): `/articles` as stored, plain `get` (no cacheTtl), `null` when
/// missing. The hardened Worker serves it as is.
pub async fn read_kv(_req: Request, cx: RouteContext) -> Result<Response> {
    let value = logic::read_from(&cx.env.kv("ARTICLES")?, "/articles").await?;
    Response::json(&value)
}

async fn write_kv(_req: Request, cx: RouteContext) -> Result<Response> {
    let value = logic::write_kv_sample();
    logic::write_to(&cx.env.kv("ARTICLES")?, "/articles", &value).await?;
    Response::json(&value)
}
