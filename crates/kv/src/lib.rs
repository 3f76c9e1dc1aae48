//! Cloudflare Workers KV as seen from many colos at once: an eventually consistent model,
//! pure, with its clock and RNG injected.
//!
//! TODO(first version): full module docs and runnable example follow.

mod cache;
pub mod config;
pub mod faults;
pub mod limits;
mod list;
mod model;
mod namespace;
mod persist;
mod store;
pub mod types;
pub mod view;

pub use config::{ColoConfig, Delay, KvConfig, ReadYourWrites};
pub use faults::{FaultEffect, FaultId, FaultRule, Faults, Partition};
pub use limits::{KvError, OpBudget};
pub use namespace::Namespace;
pub use store::{KvStore, Observer};
pub use types::{
    BulkEntry, CacheStatus, GetOptions, KvEvent, ListKey, ListOptions, ListResult, OpKind,
    PutOptions, Read, ValueWithMetadata, Write,
};
pub use view::{CacheView, KeyView, PendingView, RecordView};
