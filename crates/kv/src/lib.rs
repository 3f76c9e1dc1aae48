//! Cloudflare Workers KV as seen from many colos at once: an eventually consistent model,
//! pure and synchronous, with its clock and RNG injected.
//!
//! A stale read at one colo and a fresh one at another:
//!
//! ```
//! use edgesim_core::{ManualClock, SimRng};
//! use edgesim_kv::{CacheStatus, Delay, GetOptions, KvConfig, KvStore, PutOptions};
//! use std::{sync::Arc, time::Duration};
//!
//! let clock = ManualClock::new();
//! let config = KvConfig { propagation: Delay::Fixed { ms: 500 }, ..KvConfig::default() };
//! let kv = KvStore::new(config, Arc::new(clock.clone()), SimRng::from_seed(7).fork("kv"));
//! let articles = kv.namespace("ARTICLES")?;
//! let opts = GetOptions::default();
//!
//! // FRA reads a missing key: a MISS, and "not found" is now cached at FRA for 60 s.
//! assert_eq!(articles.get("FRA", "/articles", &opts)?.value, None);
//! articles.put("SYD", "/articles", b"[1,2]".to_vec(), &PutOptions::default())?;
//! clock.advance(Duration::from_secs(10));
//!
//! // IAD has nothing cached: it reads central, where the write landed after 500 ms.
//! let fresh = articles.get("IAD", "/articles", &opts)?;
//! assert_eq!(fresh.value.as_deref(), Some(&b"[1,2]"[..]));
//! assert_eq!(fresh.cache_status, CacheStatus::Miss);
//!
//! // FRA still serves its cached "not found" until its cacheTtl runs out.
//! let stale = articles.get("FRA", "/articles", &opts)?;
//! assert_eq!((stale.value, stale.cache_status), (None, CacheStatus::Hit));
//! clock.advance(Duration::from_secs(51));
//! assert_eq!(articles.get("FRA", "/articles", &opts)?.version, Some(1));
//! # Ok::<(), edgesim_kv::KvError>(())
//! ```
//!
//! # Model
//!
//! - **Topology.** One central store and named colos ([`KvConfig::colos`]), each with its own
//!   cache of keys and of list pages. With [`KvConfig::regional_tier`], a miss for a key that
//!   another colo fetched within its cacheTtl costs half the colo's latency to central (writes
//!   revalidate that tier, so its content is always central's).
//! - **Per namespace**, [`KvConfig::namespace_overrides`] may change the propagation delay,
//!   read-your-writes and default cacheTtl ([`Namespace::params`] shows the effective ones).
//! - **Writes.** A put or delete at colo X gets the next version of its namespace (monotonic)
//!   and lands at central after a propagation delay drawn from [`KvConfig::propagation`]. Writes
//!   land lazily: each operation first applies every write whose arrival time has passed, in
//!   arrival order (ties: lower version first), so the last write to *arrive* wins. A delete is
//!   a tombstone that travels the same way. The writer is charged its colo's latency to central.
//! - **Read-your-writes.** With it on (or when the [`ReadYourWrites::Probability`] draw says so)
//!   the write replaces X's cache entry until the write has landed (and at least the default
//!   cacheTtl); with it off X keeps whatever it had cached.
//! - **Reads.** A fresh cache entry (positive or negative) is a HIT with no latency. Otherwise
//!   the read goes to central (MISS, paying the colo's latency) and the result, "not found"
//!   included, is cached for that read's `cacheTtl` (minimum 30 s, default 60 s). A later read
//!   with a lower `cacheTtl` shortens the entry at that colo only; a higher one never extends it.
//! - **Expiration** (`expiration`, `expirationTtl` ≥ 60 s) caps every cache entry, so an expired
//!   key reads as missing everywhere, whatever the cacheTtl.
//! - **List** pages are computed from central in UTF-8 byte order and cached per colo for the
//!   default cacheTtl (keyed by prefix, limit and cursor); keys that expired meanwhile are
//!   dropped when served. A limit of 0 means "not set" (1000), as in the runtime. Not
//!   modelled: production's short pages (`list_complete: false` with fewer keys) caused by
//!   recently deleted or expired keys; our pages are always full until the last.
//! - **Limits** ([`limits`]): key, value, metadata, expiration, cacheTtl, list and bulk bounds
//!   with production's messages; at most one write per second per key, else
//!   `KV PUT failed: 429 Too Many Requests`. The 1000-operations budget is an [`OpBudget`] the
//!   host keeps per invocation (a bulk get counts as one).
//!
//! # Introspection
//!
//! [`Namespace::view`] shows, for one key, central's record and version, the writes in flight
//! (origin, issue and arrival times) and every colo's cache entry (version, cached-at,
//! expires-at, negative). [`Namespace::convergence`] lists every fresh cache entry or list page
//! that differs from central, without touching any cache.
//!
//! # Writes from outside a Worker
//!
//! [`Namespace::put_central`], [`Namespace::delete_central`] and their bulk forms write
//! straight to central, as wrangler's `kv key put` / `kv bulk put`, the dashboard and the REST
//! API do (`edgesim kv` uses them); [`Namespace::get_central`] and [`Namespace::list_central`]
//! read central. Colo caches are not touched: a colo that cached the key keeps serving its
//! entry until its cacheTtl runs out. Same validation and 1 write/s per key as the binding.
//!
//! # Faults
//!
//! [`Faults`] (from [`KvStore::faults`]) injects, over a time window and with a probability
//! drawn from the store's RNG: a 429 ([`KvError::TooManyRequests`]), a 5xx
//! ([`KvError::Unavailable`], `KV GET failed: 503 Service Unavailable`), or extra latency.
//!
//! **Partitions** ([`Faults::partition`]) cut a colo from central over `[from, to)`. Production
//! documents no behaviour for this; we chose what a Worker would see if its colo could not
//! reach KV's upper tiers: fresh cache entries (and cached list pages) are still served as
//! HITs; any read that would go to central fails with `KV <METHOD> failed: 503 Service
//! Unavailable`; writes fail the same way (`KV PUT failed: 503 ...`) and are *not* queued, so a
//! Worker must retry. Writes already in flight when the partition starts still land.
//!
//! # Determinism
//!
//! No wall clock and no OS randomness: time is the injected [`edgesim_core::SharedClock`],
//! every draw comes from the injected [`edgesim_core::SimRng`] (forks `kv.model` for
//! propagation and read-your-writes, `kv.faults` for fault rules), and all state lives in
//! `BTreeMap`s. Observers ([`KvStore::set_observer`]) see every operation as a [`KvEvent`].
//!
//! # Persistence
//!
//! [`KvStore::open_persistent`] keeps central's records and writes in flight in SQLite, for
//! `edgesim dev`; colo caches stay in memory and start cold after a restart.

mod cache;
mod central;
pub mod config;
mod converge;
pub mod faults;
pub mod limits;
mod list;
mod model;
mod namespace;
mod persist;
mod store;
pub mod types;
pub mod view;

pub use central::{CENTRAL, MAX_BULK_WRITE_KEYS};
pub use config::{ColoConfig, Delay, KvConfig, NamespaceOverride, NamespaceParams, ReadYourWrites};
pub use converge::{Convergence, StaleEntry, StaleList};
pub use faults::{FaultEffect, FaultId, FaultRule, Faults, Partition};
pub use limits::{KvError, OpBudget};
pub use namespace::Namespace;
pub use store::{KvStore, Observer};
pub use types::{
    BulkEntry, BulkWrite, CacheStatus, CentralValue, GetOptions, KvEvent, ListKey, ListOptions,
    ListResult, OpKind, PutOptions, Read, ValueWithMetadata, Write,
};
pub use view::{CacheView, KeyView, PendingView, RecordView};
