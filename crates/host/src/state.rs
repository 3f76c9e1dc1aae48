//! The data of an instance's `Store`: WASI and wasi:http contexts, KV view, limits and counters.
//! The per-invocation parts (KV context, outbound hooks, stats, guest randomness) are replaced
//! before each call, so a reused instance starts every request with fresh budgets.

use crate::kv::KvCtx;
use crate::outbound::OutboundHooks;
use edgesim_core::{SharedClock, SimRng};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// What one invocation did, shared between the running guest and the host that reports on it.
#[derive(Debug, Default)]
pub struct InvocationStats {
    /// KV reads answered from the colo's cache.
    pub kv_hits: AtomicU32,
    /// KV reads that went to central.
    pub kv_misses: AtomicU32,
    /// KV operations charged (every call, including failed ones).
    pub kv_ops: AtomicU32,
    /// Outgoing fetches attempted.
    pub subrequests: AtomicU32,
    /// Whether the guest asked for more memory than the limit allows.
    pub memory_exceeded: AtomicBool,
}

impl InvocationStats {
    /// `(hits, misses)` so far.
    pub fn kv_hits_misses(&self) -> (u32, u32) {
        (
            self.kv_hits.load(Ordering::Relaxed),
            self.kv_misses.load(Ordering::Relaxed),
        )
    }
}

/// The `T` of `Store<T>` for one instance.
pub(crate) struct StoreState {
    pub table: ResourceTable,
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub hooks: OutboundHooks,
    pub kv: KvCtx,
    pub limiter: Limiter,
    /// The request of the call in progress, for a JavaScript Worker's host link
    /// ([`crate::js_link::Exchange`]); `None` between calls.
    pub link: Option<crate::js_link::Exchange>,
    /// The invocation's CPU count under [`crate::CpuMeter::Epoch`] (unused under fuel).
    pub epoch: crate::cpu::EpochBudget,
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for StoreState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// Bytes one table element costs (Wasmtime stores a pointer per element).
const TABLE_ELEMENT_BYTES: usize = std::mem::size_of::<usize>();

/// The memory limit for a whole instance (a store holds one Worker instance): the sum of all its
/// linear memories and tables, not each one separately, so a component with several memories or
/// large tables cannot exceed it. Also records when a guest hit the limit (→ error 1102).
pub(crate) struct Limiter {
    inner: StoreLimits,
    memory_bytes: usize,
    /// Bytes of every memory and table of the instance granted so far (wasm never shrinks them).
    used: usize,
    /// The growth granted last, taken back if the allocation then failed.
    last_grant: usize,
    /// The current invocation's stats (replaced before each call).
    pub stats: Arc<InvocationStats>,
}

impl Limiter {
    pub fn new(memory_bytes: usize, stats: Arc<InvocationStats>) -> Self {
        Self {
            inner: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .instances(64)
                .build(),
            memory_bytes,
            used: 0,
            last_grant: 0,
            stats,
        }
    }

    /// Grants `grow` more bytes when the instance's total stays within the limit.
    fn grant(&mut self, grow: usize) -> bool {
        match self.used.checked_add(grow) {
            Some(total) if total <= self.memory_bytes => {
                self.used = total;
                self.last_grant = grow;
                true
            }
            _ => {
                self.stats.memory_exceeded.store(true, Ordering::Relaxed);
                false
            }
        }
    }

    /// Bytes of memories and tables the instance holds.
    pub fn used(&self) -> usize {
        self.used
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if !self.inner.memory_growing(current, desired, maximum)? {
            if desired > self.memory_bytes {
                self.stats.memory_exceeded.store(true, Ordering::Relaxed);
            }
            return Ok(false);
        }
        Ok(self.grant(desired.saturating_sub(current)))
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.used -= std::mem::take(&mut self.last_grant);
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if !self.inner.table_growing(current, desired, maximum)? {
            return Ok(false);
        }
        Ok(self.grant(
            desired
                .saturating_sub(current)
                .saturating_mul(TABLE_ELEMENT_BYTES),
        ))
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.used -= std::mem::take(&mut self.last_grant);
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// WASI `wall-clock` read from the emulator's [`SharedClock`].
pub(crate) struct SimWallClock(pub SharedClock);

impl HostWallClock for SimWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }
    fn now(&self) -> Duration {
        Duration::from_millis(self.0.now_ms())
    }
}

/// WASI `monotonic-clock` on tokio's clock, which stands still under paused time; guest
/// sleeps (`subscribe-duration`) are tokio timers too, so both follow virtual time.
pub(crate) struct TokioMonotonicClock(pub tokio::time::Instant);

impl HostMonotonicClock for TokioMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// The guest's randomness: the stream `name` forked from the invocation's seed, reseeded before
/// each invocation (clones share the stream), so what a request draws does not depend on which
/// instance serves it. The stream is set up on the first draw (most requests draw nothing).
#[derive(Clone)]
pub(crate) struct GuestRng {
    name: &'static str,
    stream: Arc<Mutex<Stream>>,
}

struct Stream {
    seed: u64,
    rng: Option<SimRng>,
}

impl GuestRng {
    pub fn new(seed: u64, name: &'static str) -> Self {
        Self {
            name,
            stream: Arc::new(Mutex::new(Stream { seed, rng: None })),
        }
    }

    /// Restarts the stream from `seed`.
    pub fn reseed(&self, seed: u64) {
        *self.lock() = Stream { seed, rng: None };
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Stream> {
        self.stream.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with<R>(&self, f: impl FnOnce(&mut SimRng) -> R) -> R {
        let mut stream = self.lock();
        let seed = stream.seed;
        f(stream
            .rng
            .get_or_insert_with(|| SimRng::from_seed(seed).fork(self.name)))
    }
}

impl rand_core::TryRng for GuestRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.with(rand::RngCore::next_u32))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.with(|r| r.next_u64()))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.with(|r| rand::RngCore::fill_bytes(r, dst));
        Ok(())
    }
}

impl rand_core::TryCryptoRng for GuestRng {}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn limiter() -> Limiter {
        Limiter::new(128 * MIB, Arc::new(InvocationStats::default()))
    }

    #[test]
    fn the_limit_counts_every_memory_of_the_instance() {
        let mut l = limiter();
        assert!(l.memory_growing(0, 100 * MIB, None).unwrap());
        // A second memory that alone is under the limit, but not together with the first.
        assert!(!l.memory_growing(0, 30 * MIB, None).unwrap());
        assert!(l.stats.memory_exceeded.load(Ordering::Relaxed));
        assert!(
            l.memory_growing(0, 28 * MIB, None).unwrap(),
            "exactly 128 MiB in all"
        );
        assert!(!l.memory_growing(100 * MIB, 100 * MIB + 1, None).unwrap());
        assert_eq!(l.used(), 128 * MIB);
    }

    #[test]
    fn tables_count_towards_the_limit() {
        let mut l = limiter();
        assert!(l.memory_growing(0, 127 * MIB, None).unwrap());
        let elems = MIB / TABLE_ELEMENT_BYTES;
        assert!(
            l.table_growing(0, elems, None).unwrap(),
            "1 MiB of table fits"
        );
        assert!(!l.table_growing(elems, elems + 1, None).unwrap());
        assert!(
            !l.memory_growing(127 * MIB, 127 * MIB + 65536, None)
                .unwrap()
        );
    }

    #[test]
    fn growth_that_then_fails_is_not_counted() {
        let mut l = limiter();
        assert!(l.memory_growing(0, 64 * MIB, None).unwrap());
        assert!(l.memory_growing(64 * MIB, 100 * MIB, None).unwrap());
        l.memory_grow_failed(wasmtime::format_err!("out of address space"))
            .unwrap();
        assert_eq!(l.used(), 64 * MIB);
    }
}
