//! End-to-end tests of the sim over real loopback HTTP (reqwest), reading raw
//! bytes with plain string operations and serde_json, never `evalgate::gateway`. Only the sim's public API is used.

mod faults;
mod support;
mod wire;
