//! The gateway client layer: HTTP client with timing and retries, the SSE
//! stream parser, the model catalog, and the error vocabulary.
pub mod error;
pub mod sse;

pub use error::ErrorKind;
