//! Integration tests: the real `evalgate` binary and library against the
//! built-in simulated gateway over loopback HTTP, one module per area.

mod accounting;
mod bad_input;
mod budget;
mod cache_probe;
mod checks;
mod common;
mod compare;
mod decision;
mod disk;
mod docs;
mod events;
mod everyday;
mod faults;
mod hardening;
mod history;
mod html;
mod layering;
mod lookups;
mod newuser;
mod openloop;
mod pipes;
mod resume;
mod run;
mod rundir;
mod secrets;
mod shards;
mod ship;
mod sim;
mod timeouts;
mod tools;
mod truth;
mod warmup;
