//! The seams that hold edgesim's rooms together.
//!
//! Every component takes its **clock** and its **randomness** from outside, so the same code runs
//! in `edgesim dev` (wall clock, OS-seeded RNG) and in simulation (virtual clock, one seeded RNG).
//! Transport is the third seam; it lives with the types it carries (`http::Request<Bytes>` in,
//! `http::Response<Bytes>` out) in `edgesim-supabase` and `edgesim-host`.
//!
//! ```
//! use edgesim_core::{Clock, ManualClock, SimRng};
//! use std::time::Duration;
//!
//! let clock = ManualClock::at_epoch_ms(1_000);
//! clock.advance(Duration::from_millis(500));
//! assert_eq!(clock.now_ms(), 1_500);
//!
//! let mut a = SimRng::from_seed(7).fork("kv");
//! let mut b = SimRng::from_seed(7).fork("kv");
//! assert_eq!(a.next_u64(), b.next_u64());
//! ```

pub mod cache;
mod clock;
pub mod cron;
mod rng;

pub use clock::{Clock, ManualClock, OffsetWallClock, SharedClock, VIRTUAL_EPOCH_MS};
pub use rng::SimRng;
