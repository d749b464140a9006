//! End-to-end tests of the sim over real loopback HTTP (reqwest), reading raw
//! bytes with plain string operations and serde_json, never `crate::gateway`.

mod faults;
mod support;
mod wire;
