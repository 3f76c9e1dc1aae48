//! Chaos scenarios: the TOML format ([`schema`]) and loading with located errors ([`load`]).

pub mod load;
pub mod schema;

pub use load::{ScenarioError, secs_to_ms};
pub use schema::*;
