//! The hardened Worker with its webhook handler disabled (a mutant for edgesim's property
//! tests): exports [`hardened::router_without_webhook`] as the `wasi:http` handler.
#![cfg_attr(target_arch = "wasm32", no_main)]

#[cfg(target_arch = "wasm32")]
mod app {
    use edgesim_worker::{Ctx, Env, Request, Response, Result};

    edgesim_worker::export_worker!(fetch);

    async fn fetch(req: Request, env: Env, ctx: Ctx) -> Result<Response> {
        hardened::router_without_webhook().run(req, env, ctx).await
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "hardened-no-webhook is a wasm32-wasip2 component; build it with --target wasm32-wasip2"
    );
}
