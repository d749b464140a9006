//! Integration tests: the real `evalgate` binary and library against the
//! built-in simulated gateway over loopback HTTP, one module per area.

mod common;
mod openloop;
mod run;
