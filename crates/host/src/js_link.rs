//! The synchronous host link of JavaScript Workers: the import `edgesim:js-worker/link`,
//! `call(path, body) -> (status, body, latency-ms)`.
//!
//! The adapter (crate `edgesim-js`) reaches the platform through outgoing wasi:http requests to
//! `edgesim.internal` ([`crate::internal`]), which the engine awaits natively. For plain reads
//! and KV operations that machinery (a web `Request`, body streams, a `Response`, a dozen
//! resource calls, a spawned host task) cost 0.5–1 ms per call (measured in `edgesim dev`;
//! bench/results/js-speed-2026-12-07.md). This import answers the same routes
//! at once, in one call: the KV operation runs now, exactly as the internal host runs it (same
//! [`KvCtx`](crate::kv::KvCtx), budget, events), and its modelled latency is handed back for the
//! adapter to wait on the guest's own clock (a timer, which is virtual under simulation), so the
//! instance is never blocked and `Promise.all` over KV calls still overlaps them.
//!
//! Routes: `/config` (the internal host's `/config` answer), `/kv/<BINDING>/<op>` (the
//! internal host's KV wire format) and `/html/<op>` (HTMLRewriter, [`crate::html_rewriter`]).
//! Any other path answers 404 with no latency; the adapter uses the wasi:http route for those.

use crate::state::StoreState;
use bytes::Bytes;
use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

/// The import's interface name.
pub(crate) const INTERFACE: &str = "edgesim:js-worker/link";

/// Defines the import in `linker` (Workers that do not import it are unaffected).
pub(crate) fn add_to_linker(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    let mut link = linker.instance(INTERFACE)?;
    link.func_wrap(
        "call",
        |cx: StoreContextMut<'_, StoreState>, (path, body): (String, Vec<u8>)| {
            let (status, body, latency) = answer(cx.data(), &path, body);
            Ok(((status, body, latency),))
        },
    )?;
    Ok(())
}

/// The answer to `path`: status, body and the milliseconds of latency the guest must wait
/// before it uses the answer (rounded up).
fn answer(state: &StoreState, path: &str, body: Vec<u8>) -> (u16, Vec<u8>, u32) {
    if path == "/config" {
        return (200, state.hooks.internal_config.to_vec(), 0);
    }
    if let Some(op) = path.strip_prefix("/html/") {
        let (status, out) = crate::html_rewriter::answer(op, &body);
        return (status, out, 0);
    }
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    let (Some("kv"), Some(binding), Some(op)) = (parts.next(), parts.next(), parts.next()) else {
        let why = format!("edgesim.internal has no synchronous route {path}");
        return (404, why.into_bytes(), 0);
    };
    let (resp, latency) = crate::internal::kv_now(&state.kv, binding, op, Bytes::from(body));
    let ms = u32::try_from(latency.as_micros().div_ceil(1000)).unwrap_or(u32::MAX);
    (resp.status().as_u16(), resp.into_body().to_vec(), ms)
}
