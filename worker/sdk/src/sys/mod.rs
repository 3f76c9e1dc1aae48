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

/// `headers` as wasi:http fields (header names and values are already valid).
pub(crate) fn to_fields(
    headers: &http::HeaderMap,
) -> crate::error::Result<wasip2::http::types::Fields> {
    let entries: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    wasip2::http::types::Fields::from_list(&entries)
        .map_err(|e| crate::error::Error::Http(format!("headers: {e:?}")))
}

/// wasi:http fields as a header map; `Err` names the first header `http` rejects.
pub(crate) fn to_header_map(
    fields: wasip2::http::types::Fields,
) -> std::result::Result<http::HeaderMap, String> {
    let mut headers = http::HeaderMap::new();
    for (name, value) in fields.entries() {
        let (Ok(header), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_bytes(&value),
        ) else {
            return Err(name);
        };
        headers.append(header, value);
    }
    Ok(headers)
}
