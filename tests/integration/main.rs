//! Integration tests: the real `evalgate` binary and library against the
//! built-in simulated gateway over loopback HTTP, one module per area.

mod accounting;
mod bad_input;
mod checks;
mod common;
mod compare;
mod decision;
mod docs;
mod events;
mod everyday;
mod faults;
mod history;
mod html;
mod layering;
mod openloop;
mod resume;
mod run;
mod secrets;
mod shards;
mod ship;
mod sim;
mod tools;
mod truth;
mod warmup;
