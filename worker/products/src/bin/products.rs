//! The correct products Worker component (see the crate docs).
#![cfg_attr(target_arch = "wasm32", no_main)]

#[cfg(target_arch = "wasm32")]
mod app {
    use edgesim_worker::{Ctx, Env, Request, Response, Result};

    edgesim_worker::export_worker!(fetch);

    async fn fetch(req: Request, env: Env, _ctx: Ctx) -> Result<Response> {
        products::Variant::Correct.fetch(req, env).await
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "the products Worker is a wasm32-wasip2 component; build it with --target wasm32-wasip2"
    );
}
