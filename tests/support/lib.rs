//! Shared helpers for edgesim's end-to-end tests (spawning the `edgesim` binary, waiting for ports).
