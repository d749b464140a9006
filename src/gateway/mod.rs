//! The gateway client layer: HTTP client with timing and retries, the SSE
//! stream parser and the model catalog. Imports only the shared vocabulary
//! in [`crate::record`].
pub mod catalog;
pub mod client;
pub mod generation;
mod proxy;
pub mod sse;
mod stream;
#[cfg(test)]
mod testserver;
pub mod toolcalls;
#[cfg(test)]
mod toolcalls_tests;
pub mod wire;

pub use crate::record::ErrorKind;
pub use client::{
    ChatRequest, ChatWatch, Credits, Gateway, GatewayConfig, GatewayError, Outcome, RequestError,
    RetryPolicy, Timeouts, DEFAULT_MAX_ANSWER_BYTES,
};
