//! The gateway client layer.
pub mod error;
