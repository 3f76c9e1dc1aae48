//! The course Worker, hardened: same routes and responses, but it converges to Supabase's
//! state despite dropped, duplicated and reordered webhooks and KV 429s.
//!
//! Design:
//! - **Never trust the payload.** A webhook only says *which* row changed (`record.id`, or
//!   `old_record.id` for DELETE). Inside `waitUntil` the Worker refetches that row from
//!   Supabase and writes what it finds (or deletes the key when the row is gone), so a
//!   duplicated webhook rewrites the same value and a reordered one cannot leave an older
//!   `record` behind.
//! - **Verify after writing.** After each write it reads Supabase again; if the row (or the
//!   list) changed meanwhile, because a concurrent webhook's write raced this one, it writes
//!   again, up to [`MAX_ROUNDS`] rounds. The last writer therefore writes the current state.
//! - **Retry 429s and 5xx with backoff.** KV allows one write per second per key: a write
//!   failing with `too-many-requests` or `unavailable` is retried after 1, 2, 4, 8 s
//!   ([`BACKOFF_MS`]), sleeping on the WASI clock (virtual time under simulation), which keeps
//!   the whole job well inside the 30 s `waitUntil` budget.
//! - **Retry Supabase too.** A failed refetch is retried after 1 and 2 s
//!   ([`SUPABASE_RETRY_MS`]); if Supabase still cannot answer, the key is deleted rather than
//!   left to a guess, so the next read refetches.
//! - **Expiry as a safety net.** Every write carries `expirationTtl` = [`EXPIRATION_TTL`]
//!   (120 s), so a key whose webhook was dropped (or whose retries ran out) heals at its next
//!   read after expiry.
//! - **Bounded staleness at other colos.** Reads use `cacheTtl` = [`CACHE_TTL`] (30 s, the
//!   minimum), so a colo serves a replaced value for at most 30 s.
//! - **No negative caching by the Worker.** A missing row answers `null` (as the course does)
//!   but is not written; a Supabase failure answers 502 `{"error": ...}` and writes nothing.
//!   A failed write on the read path is logged, not thrown: the client still gets the data.

mod routes;
mod store;
#[cfg(test)]
mod tests;

pub use routes::{router, router_without_webhook};
pub use store::{BACKOFF_MS, CACHE_TTL, EXPIRATION_TTL, MAX_ROUNDS, SUPABASE_RETRY_MS};
