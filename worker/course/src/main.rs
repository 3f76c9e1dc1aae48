//! The course Worker, lesson 11, faithful to the original (see `course-worker.md`):
//!
//! - `GET /articles`: KV `/articles`, else select all rows, write them, respond.
//! - `GET /articles/:id`: KV `/articles/<id>`, else select the row as one object
//!   (`Accept: application/vnd.pgrst.object+json`); a missing row gives `null`, which is
//!   written and served and, being falsy, refetched on every request.
//! - `GET /revalidate` (lesson 8): select all, write `/articles`, respond `{"received":true}`.
//! - `POST /revalidate`: a Database Webhook; respond `{"received":true}` at once and, inside
//!   `waitUntil`, write `record` (trusted, not refetched) or delete `old_record`'s key, then
//!   refresh `/articles`.
//! - `GET /read-kv`, `GET /write-kv`: lesson 6's debugging routes. `GET /hello`: `ok` (benchmarks).
//! - Anything else: 404 `Not found`.
//!
//! KV is used as the course does: plain `get`/`put` of JSON text, no cacheTtl, no expiration.
//! The two GET article routes add `x-kv: hit|miss`.

#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

mod logic;

#[cfg(target_arch = "wasm32")]
mod app {
    use crate::logic::{self, Articles};
    use edgesim_worker::supabase::Supabase;
    use edgesim_worker::{Ctx, Env, Request, Response, Result, RouteContext, Router};

    edgesim_worker::export_worker!(fetch);

    async fn fetch(req: Request, env: Env, ctx: Ctx) -> Result<Response> {
        Router::new()
            .get("/hello", |_, _| async { Ok(Response::ok("ok")) })
            .get("/articles", all_articles)
            .get("/articles/:id", one_article)
            .get("/revalidate", revalidate_all)
            .post("/revalidate", webhook)
            .get("/read-kv", read_kv)
            .get("/write-kv", write_kv)
            .run(req, env, ctx)
            .await
    }

    fn articles(cx: &RouteContext) -> Result<Articles> {
        Ok(Articles {
            kv: cx.env.kv("ARTICLES")?,
            supabase: Supabase::from_env(&cx.env)?,
        })
    }

    async fn all_articles(_req: Request, cx: RouteContext) -> Result<Response> {
        let (value, status) = articles(&cx)?.all().await?;
        logic::json_with_kv_status(&value, status)
    }

    async fn one_article(_req: Request, cx: RouteContext) -> Result<Response> {
        let id = cx.param("id").unwrap_or_default().to_owned();
        let (value, status) = articles(&cx)?.one(&id).await?;
        logic::json_with_kv_status(&value, status)
    }

    async fn revalidate_all(_req: Request, cx: RouteContext) -> Result<Response> {
        articles(&cx)?.refresh_all().await?;
        Response::json(&logic::received())
    }

    async fn webhook(req: Request, cx: RouteContext) -> Result<Response> {
        let articles = articles(&cx)?;
        let body = req.into_body();
        cx.ctx.wait_until(async move {
            if let Err(e) = articles.apply_webhook(&body).await {
                eprintln!("Uncaught (in promise) {e}");
            }
        });
        Response::json(&logic::received())
    }

    async fn read_kv(_req: Request, cx: RouteContext) -> Result<Response> {
        let value = logic::read_from(&cx.env.kv("ARTICLES")?, "/articles").await?;
        Response::json(&value)
    }

    async fn write_kv(_req: Request, cx: RouteContext) -> Result<Response> {
        let value = logic::write_kv_sample();
        logic::write_to(&cx.env.kv("ARTICLES")?, "/articles", &value).await?;
        Response::json(&value)
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "the course Worker is a wasm32-wasip2 component; build it with --target wasm32-wasip2"
    );
}
