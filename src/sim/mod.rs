//! The simulated gateway.
