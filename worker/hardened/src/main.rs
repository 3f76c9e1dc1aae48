//! The hardened Worker component: exports [`hardened::router`] as the `wasi:http` handler.
#![cfg_attr(target_arch = "wasm32", no_main)]

#[cfg(target_arch = "wasm32")]
mod app {
    use edgesim_worker::{Ctx, Env, Request, Response, Result};

    edgesim_worker::export_worker!(fetch);

    async fn fetch(req: Request, env: Env, ctx: Ctx) -> Result<Response> {
        hardened::router().run(req, env, ctx).await
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "the hardened Worker is a wasm32-wasip2 component; build it with --target wasm32-wasip2"
    );
}
