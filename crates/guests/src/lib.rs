//! The guest Worker components, built for `wasm32-wasip2` from `worker/` by this crate's build
//! script and embedded as bytes.
//!
//! - [`COURSE`]: the course Worker (lesson 11), the demo `edgesim dev` serves.
//! - [`HARDENED`]: the same routes, hardened against dropped/duplicated/reordered webhooks and 429s.
//! - [`fixtures`]: `hello` for benchmarks and the misbehaving Workers the host tests use.

macro_rules! component {
    ($stem:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/", $stem, ".wasm"))
    };
}

/// The course Worker (`worker/course`), lesson 11: `/articles`, `/articles/:id`, `/revalidate`
/// (GET and the POST webhook with `waitUntil`), `/read-kv`, `/write-kv`, `/hello`.
pub const COURSE: &[u8] = component!("course");

/// The hardened Worker (`worker/hardened`): refetches rows on webhooks, retries 429s with
/// backoff, writes with an `expirationTtl` safety net and reads with a `cacheTtl`.
pub const HARDENED: &[u8] = component!("hardened");

/// Small Workers for tests and benchmarks (`worker/fixtures/src/bin/*.rs`, and mutants of the
/// hardened Worker in `worker/hardened/src/bin/`).
pub mod fixtures {
    /// The hardened Worker with its webhook handler disabled (acknowledges, does nothing): the
    /// mutant the property tests must catch with the fault-free staleness bound.
    pub const HARDENED_NO_WEBHOOK: &[u8] = component!("hardened-no-webhook");
    /// `GET /hello` → `ok`, no KV.
    pub const HELLO: &[u8] = component!("hello");
    /// The Miniflare anchor's Worker ported to Rust (same routes, KV keys and bodies): what
    /// `just bench` serves on both sides.
    pub const ANCHOR: &[u8] = component!("anchor");
    /// Spins forever (CPU limit → 1102).
    pub const LOOP: &[u8] = component!("infinite-loop");
    /// Grows memory 1 MiB at a time up to `?mib=` (default 512) (memory limit → 1102).
    pub const MEMBOMB: &[u8] = component!("membomb");
    /// Panics (trap → 1101).
    pub const TRAP: &[u8] = component!("trap");
    /// Fetches `?n=` times (default 10001) and reports the first fetch error as JSON.
    pub const SUBREQUESTS: &[u8] = component!("subrequests");
    /// Does `?n=` KV reads (default 1001) and reports the first KV error as JSON.
    pub const KVOPS: &[u8] = component!("kvops");
    /// Responds, then keeps a `waitUntil` task sleeping forever.
    pub const WAITUNTIL_FOREVER: &[u8] = component!("waituntil-forever");
}

/// Every embedded component by name, as [`by_name`] accepts them.
pub const ALL: &[(&str, &[u8])] = &[
    ("course", COURSE),
    ("hardened", HARDENED),
    ("hardened-no-webhook", fixtures::HARDENED_NO_WEBHOOK),
    ("hello", fixtures::HELLO),
    ("anchor", fixtures::ANCHOR),
    ("loop", fixtures::LOOP),
    ("membomb", fixtures::MEMBOMB),
    ("trap", fixtures::TRAP),
    ("subrequests", fixtures::SUBREQUESTS),
    ("kvops", fixtures::KVOPS),
    ("waituntil-forever", fixtures::WAITUNTIL_FOREVER),
];

/// The component called `name` (`course`, `hardened`, `hardened-no-webhook`, `hello`, `loop`, `membomb`, `trap`,
/// `subrequests`, `kvops`, `waituntil-forever`).
pub fn by_name(name: &str) -> Option<&'static [u8]> {
    ALL.iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}
