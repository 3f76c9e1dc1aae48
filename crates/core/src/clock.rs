//! Time as every room sees it: milliseconds since the Unix epoch, read through [`Clock`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where virtual time starts: 2026-01-01T00:00:00Z, in Unix milliseconds.
pub const VIRTUAL_EPOCH_MS: u64 = 1_767_225_600_000;

/// A source of "now", in milliseconds since the Unix epoch.
///
/// Components never read the wall clock themselves; they are handed a `Clock`.
pub trait Clock: Send + Sync + 'static {
    /// The current time in Unix epoch milliseconds.
    fn now_ms(&self) -> u64;

    /// The current time in whole Unix epoch seconds (what KV `expiration` is measured in).
    fn now_secs(&self) -> u64 {
        self.now_ms() / 1000
    }
}

/// A clock shared between components.
pub type SharedClock = Arc<dyn Clock>;

/// A clock that moves only when told to. Cheap to clone; clones share one time.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock standing at [`VIRTUAL_EPOCH_MS`].
    pub fn new() -> Self {
        Self::at_epoch_ms(VIRTUAL_EPOCH_MS)
    }

    /// A clock standing at `ms` Unix epoch milliseconds.
    pub fn at_epoch_ms(ms: u64) -> Self {
        Self(Arc::new(AtomicU64::new(ms)))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }

    /// Sets the clock to `ms`; time never goes backwards, so an earlier value is ignored.
    pub fn set_ms(&self, ms: u64) {
        self.0.fetch_max(ms, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Wall-clock time plus an offset that can only grow: `edgesim dev` uses it so that
/// `POST /__edgesim/time/advance` moves cacheTtl, expiration and propagation forward.
#[derive(Clone, Debug, Default)]
pub struct OffsetWallClock(Arc<AtomicU64>);

impl OffsetWallClock {
    /// A wall clock with no offset.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves this clock `by` ahead of the wall clock (cumulative).
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }

    /// How far ahead of the wall clock this clock runs.
    pub fn offset(&self) -> Duration {
        Duration::from_millis(self.0.load(Ordering::SeqCst))
    }
}

impl Clock for OffsetWallClock {
    fn now_ms(&self) -> u64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        wall + self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_forward() {
        let c = ManualClock::at_epoch_ms(10);
        c.set_ms(5);
        assert_eq!(c.now_ms(), 10);
        c.advance(Duration::from_secs(2));
        assert_eq!(c.now_ms(), 2_010);
        assert_eq!(c.now_secs(), 2);
    }

    #[test]
    fn offset_clock_runs_ahead_of_wall_time() {
        let c = OffsetWallClock::new();
        let before = c.now_ms();
        c.advance(Duration::from_secs(60));
        assert!(c.now_ms() >= before + 60_000);
        assert_eq!(c.offset(), Duration::from_secs(60));
    }
}
