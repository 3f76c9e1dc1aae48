//! Resource embedding: `select=*,author:profiles(*),tags(name)` over foreign keys, as PostgREST.
//!
//! [`plan::plan`] resolves the embedded resources to relationships ([`crate::relations`]) and
//! attaches the parameters addressed to them (`rel.col=eq.x`, `rel.order=...`); [`sqlgen::Gen`]
//! turns the plan into one SQLite SELECT.

pub mod plan;
pub mod sqlgen;
