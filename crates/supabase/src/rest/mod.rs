//! The PostgREST part of the mock: `/rest/v1/<table>` for GET, HEAD, POST, PATCH and DELETE.

pub mod prefer;
pub mod read;
pub mod response;
pub mod rpc;
pub mod write;

use crate::db::Db;
use crate::errors::ApiError;
use crate::query;
use crate::webhooks::capture::RowChange;
use bytes::Bytes;
use http::{HeaderMap, Method, Response};

/// PGRST116 for a singular response over `n` rows.
pub fn not_single(n: usize) -> ApiError {
    ApiError::new(
        406,
        "PGRST116",
        "Cannot coerce the result to a single JSON object",
    )
    .details(format!("The result contains {n} rows"))
}

/// Serves one request on a table; returns the response and the committed row changes.
pub fn handle(
    db: &mut Db,
    method: &Method,
    table: &str,
    pairs: &[(String, String)],
    headers: &HeaderMap,
    body: &Bytes,
) -> (Response<Bytes>, Vec<RowChange>) {
    let head = method == Method::HEAD;
    let result = query::parse_query(pairs).and_then(|q| match *method {
        Method::GET | Method::HEAD => {
            read::read(db, table, &q, headers, head, &crate::scope::Rls(db))
                .map(|r| (r, Vec::new()))
        }
        Method::POST => write::insert(db, table, &q, headers, body),
        Method::PATCH => write::update(db, table, &q, headers, body),
        Method::DELETE => write::delete(db, table, &q, headers),
        Method::PUT => write::put(db, table, &q, headers, body),
        _ => Err(ApiError::new(
            405,
            "PGRST117",
            format!("Unsupported HTTP method: {method}"),
        )),
    });
    match result {
        Ok(r) => r,
        Err(mut e) => {
            crate::rls::insufficient_privilege_status(db, &mut e);
            (response::error(&e, head), Vec::new())
        }
    }
}
