//! Host-target helpers for testing Worker logic: an in-memory KV namespace.
