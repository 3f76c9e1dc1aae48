//! The wasm runtime glue: `wasi:http` via wstd, the `edgesim:worker/kv` import, clocks.
//! Only compiled for `wasm32`.

pub(crate) mod bindings;
mod fetch;
mod http_glue;
mod kv_import;

pub use fetch::fetch;
pub use http_glue::serve;
pub use kv_import::open_namespace;

/// Sleeps for `ms` milliseconds on the WASI monotonic clock (the emulator's clock under edgesim).
pub async fn sleep_ms(ms: u64) {
    wstd::task::sleep(wstd::time::Duration::from_millis(ms)).await;
}
