//! Deterministic simulation: one virtual clock, one seeded RNG, chaos scenarios and convergence checks.
