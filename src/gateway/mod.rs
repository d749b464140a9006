//! The gateway client layer: HTTP client with timing and retries, the SSE
//! stream parser, the model catalog, and the error vocabulary.
pub mod catalog;
pub mod client;
pub mod error;
pub mod sse;
mod stream;
#[cfg(test)]
mod testserver;
pub mod wire;

pub use client::{
    ChatRequest, Credits, Gateway, GatewayConfig, GatewayError, Outcome, RequestError, RetryPolicy,
    Timeouts,
};
pub use error::ErrorKind;
