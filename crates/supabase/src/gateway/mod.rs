//! The API gateway in front of PostgREST: routing, CORS, `apikey`/JWT auth, schema profiles.

pub mod auth;

use crate::errors::ApiError;
use crate::rest::response;
use bytes::Bytes;
use http::{HeaderMap, Method, Response, header};
use serde_json::json;

/// Where a request goes after the gateway.
pub enum Route {
    /// `/rest/v1/<table>`.
    Table(String),
    /// `/rest/v1/rpc/<fn>`.
    Rpc(String),
    /// `/rest/v1/` (the OpenAPI root).
    Root,
    /// `/__edgesim/deliveries` (the webhook delivery log).
    Deliveries,
    /// `/auth/v1<rest>` (the Auth API, [`crate::auth`]), its `apikey` checked.
    Auth(String),
    /// An answer decided at the gateway (404, CORS preflight, auth failure, ...).
    Done(Response<Bytes>),
}

fn json_response(status: u16, body: serde_json::Value) -> Response<Bytes> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, response::JSON)
        .body(Bytes::from(body.to_string()))
        .unwrap_or_default()
}

/// The answer to a CORS preflight (`OPTIONS`).
fn preflight() -> Response<Bytes> {
    Response::builder()
        .status(200)
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT")
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS, "authorization,x-client-info,apikey,content-type,prefer,accept-profile,content-profile,range,range-unit,x-supabase-api-version")
        .header(header::ACCESS_CONTROL_MAX_AGE, "3600")
        .body(Bytes::new())
        .unwrap_or_default()
}

/// Adds the CORS headers Kong's `cors` plugin sets.
pub fn cors(resp: &mut Response<Bytes>) {
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        header::HeaderValue::from_static("Content-Range, Preference-Applied, Location"),
    );
}

/// Takes `apikey` out of the decoded query pairs (it is a gateway credential, not a filter).
pub fn take_apikey(pairs: &mut Vec<(String, String)>) -> Option<String> {
    let pos = pairs.iter().position(|(k, _)| k == "apikey")?;
    Some(pairs.remove(pos).1)
}

/// The caller of a request that [`route`] accepted: its role and JWT claims (`None` when the
/// credentials do not authenticate, which `route` has already answered).
pub fn caller(
    headers: &HeaderMap,
    query_apikey: Option<&str>,
    now_secs: u64,
) -> Option<auth::Principal> {
    let header_key = headers.get("apikey").and_then(|v| v.to_str().ok());
    let authz = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    auth::principal(header_key.or(query_apikey), authz, now_secs).ok()
}

/// Routes a request and authenticates it.
pub fn route(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    query_apikey: Option<&str>,
    now_secs: u64,
) -> Route {
    if path == "/__edgesim/deliveries" {
        return Route::Deliveries;
    }
    if let Some(sub) = path
        .strip_prefix("/auth/v1")
        .filter(|s| s.is_empty() || s.starts_with('/'))
    {
        // Kong's key-auth guards the Auth API too; GoTrue itself checks the bearer token.
        if method == Method::OPTIONS {
            return Route::Done(preflight());
        }
        let key = headers.get("apikey").and_then(|v| v.to_str().ok());
        if let Err(e) = auth::principal(key.or(query_apikey), None, now_secs) {
            return Route::Done(json_response(e.status, e.body));
        }
        return Route::Auth(sub.to_string());
    }
    let Some(rest) = path.strip_prefix("/rest/v1") else {
        return Route::Done(json_response(
            404,
            json!({"message": "no Route matched with those values"}),
        ));
    };
    if method == Method::OPTIONS {
        return Route::Done(preflight());
    }
    let header_key = headers.get("apikey").and_then(|v| v.to_str().ok());
    let authz = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Err(e) = auth::authenticate(header_key.or(query_apikey), authz, now_secs) {
        let mut resp = json_response(e.status, e.body);
        if let Some(w) = e.www_authenticate
            && let Ok(v) = header::HeaderValue::from_str(&w)
        {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        return Route::Done(resp);
    }
    let profile_header = if matches!(*method, Method::GET | Method::HEAD) {
        "accept-profile"
    } else {
        "content-profile"
    };
    if let Some(p) = headers.get(profile_header).and_then(|v| v.to_str().ok())
        && p != "public"
    {
        let e = ApiError::new(406, "PGRST106", format!("Invalid schema: {p}"))
            .hint("Only the following schemas are exposed: public, graphql_public");
        return Route::Done(response::error(&e, method == Method::HEAD));
    }
    let rest = rest.trim_start_matches('/');
    if rest.is_empty() {
        return Route::Root;
    }
    let decoded = percent_encoding::percent_decode_str(rest)
        .decode_utf8_lossy()
        .into_owned();
    if let Some(func) = decoded.strip_prefix("rpc/") {
        return Route::Rpc(func.to_string());
    }
    if decoded.contains('/') {
        let e = ApiError::new(404, "PGRST125", "Invalid path specified in request URL");
        return Route::Done(response::error(&e, method == Method::HEAD));
    }
    Route::Table(decoded)
}
