//! A small workers-rs-like SDK for edgesim Workers (wasm32-wasip2 components).
//!
//! ```ignore
//! use edgesim_worker::{Ctx, Env, Request, Response, Result, RouteContext, Router};
//!
//! edgesim_worker::export_worker!(fetch);
//!
//! async fn fetch(req: Request, env: Env, ctx: Ctx) -> Result<Response> {
//!     Router::new().get("/articles/:id", article).run(req, env, ctx).await
//! }
//!
//! async fn article(_req: Request, cx: RouteContext) -> Result<Response> {
//!     let kv = cx.env.kv("ARTICLES")?;
//!     let id = cx.param("id").unwrap_or_default();
//!     match kv.get(&format!("/articles/{id}")).cache_ttl(30).text().await? {
//!         Some(text) => Ok(Response::from_json_text(text)),
//!         None => Response::error("Not found", 404),
//!     }
//! }
//! ```
//!
//! The router, request/response types, JSON helpers, KV typed layer and `Env`/`Ctx` are plain
//! Rust and unit-tested on the host target; the `wasi:http` and KV import glue is wasm-only.

mod env;
mod error;
pub mod kv;
mod request;
mod response;
mod router;
pub mod supabase;
#[cfg(target_arch = "wasm32")]
mod sys;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use env::{Ctx, Env, Fetcher, KvOpener, LocalBoxFuture, Sleeper, Spawner, WaitUntilQueue};
pub use error::{Error, KvError, Result};
pub use http::{HeaderMap, Method, StatusCode};
pub use kv::KvStore;
pub use request::Request;
pub use response::{JSON_CONTENT_TYPE, Response, TEXT_CONTENT_TYPE};
pub use router::{Pattern, RouteContext, Router};
#[cfg(target_arch = "wasm32")]
pub use sys::{fetch, open_namespace, sleep_ms};

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod __private {
    pub use crate::sys::serve;
    pub use wasip2;
}

/// Exports `handler` (`async fn(Request, Env, Ctx) -> Result<Response>`) as the component's
/// `wasi:http/incoming-handler`.
#[macro_export]
macro_rules! export_worker {
    ($handler:path) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct EdgesimWorker;
            impl $crate::__private::wasip2::exports::http::incoming_handler::Guest for EdgesimWorker {
                fn handle(
                    request: $crate::__private::wasip2::http::types::IncomingRequest,
                    response_out: $crate::__private::wasip2::http::types::ResponseOutparam,
                ) {
                    $crate::__private::serve(request, response_out, $handler)
                }
            }
            $crate::__private::wasip2::http::proxy::export!(
                EdgesimWorker with_types_in $crate::__private::wasip2
            );
        };
    };
}
