//! The virtual clock: tokio's paused clock, seen as Unix epoch milliseconds.

use edgesim_core::{Clock, VIRTUAL_EPOCH_MS};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::time::Instant;

/// `VIRTUAL_EPOCH_MS + (tokio::time::Instant::now() - base)`, read inside the sim's runtime.
///
/// Outside a runtime context (harness code between calls) it returns the last value any read
/// inside the runtime produced (a mirrored `AtomicU64`; the driver refreshes it after every
/// `block_on`), never the wall clock.
#[derive(Clone, Debug)]
pub struct SimClock {
    base: Instant,
    mirror: Arc<AtomicU64>,
}

impl SimClock {
    /// A clock reading [`VIRTUAL_EPOCH_MS`] now. Must be called inside the paused runtime.
    pub fn new() -> Self {
        Self {
            base: Instant::now(),
            mirror: Arc::new(AtomicU64::new(VIRTUAL_EPOCH_MS)),
        }
    }

    /// The tokio instant at virtual epoch ms `ms` (for `sleep_until`).
    pub fn instant_at(&self, ms: u64) -> Instant {
        self.base + std::time::Duration::from_millis(ms.saturating_sub(VIRTUAL_EPOCH_MS))
    }

    /// Refreshes the mirror from tokio's clock; call inside the runtime.
    pub fn sync(&self) -> u64 {
        let ms = VIRTUAL_EPOCH_MS + (Instant::now() - self.base).as_millis() as u64;
        self.mirror.fetch_max(ms, Ordering::SeqCst);
        self.mirror.load(Ordering::SeqCst)
    }
}

impl Default for SimClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SimClock {
    fn now_ms(&self) -> u64 {
        if tokio::runtime::Handle::try_current().is_ok() {
            self.sync()
        } else {
            self.mirror.load(Ordering::SeqCst)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn follows_paused_time_and_mirrors_outside() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let clock = rt.block_on(async { SimClock::new() });
        assert_eq!(clock.now_ms(), VIRTUAL_EPOCH_MS);
        rt.block_on(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            assert_eq!(clock.now_ms(), VIRTUAL_EPOCH_MS + 3_600_000);
        });
        // Outside the runtime: the mirror, not the wall clock.
        assert_eq!(clock.now_ms(), VIRTUAL_EPOCH_MS + 3_600_000);
        assert_eq!(
            clock.instant_at(VIRTUAL_EPOCH_MS + 5) - clock.instant_at(VIRTUAL_EPOCH_MS),
            Duration::from_millis(5)
        );
    }
}
