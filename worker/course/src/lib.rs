//! The course Worker, lesson 11, faithful to the original (see `course-worker.md`):
//!
//! - `GET /articles`: KV `/articles`, else select all rows, write them, respond.
//! - `GET /articles/:id`: KV `/articles/<id>`, else select the row as one object
//!   (`Accept: application/vnd.pgrst.object+json`, `id=eq.<id>`); a missing row gives `null`,
//!   which is written and served and, being falsy, refetched on every request.
//! - `GET /revalidate` (lesson 8): select all, write `/articles`, respond `{"received":true}`.
//! - `POST /revalidate`: a Database Webhook; respond `{"received":true}` at once and, inside
//!   `waitUntil`, write `record` (trusted, not refetched) or delete `old_record`'s key, then
//!   refresh `/articles`.
//! - `GET /read-kv`, `GET /write-kv`: lesson 6's debugging routes. `GET /hello`: `ok` (benchmarks).
//! - Anything else: 404 `Not found`.
//!
//! KV is used as the course does: plain `get`/`put` of JSON text, no cacheTtl, no expiration,
//! so the binding's defaults apply. The two GET article routes add `x-kv: hit|miss`.
//! Supabase failures give `null` data, as supabase-js's `{ data }` does.

pub mod logic;
pub mod routes;
#[cfg(test)]
mod tests;

pub use routes::router;
