//! evalgate: run YAML prompt suites against many models through one
//! OpenAI-compatible gateway, measure TTFT, duration, tokens and cost exactly,
//! check the answers, and write results a CI job can gate on.
//!
//! `main.rs` only parses arguments and calls [`app::main_with`]; everything else
//! lives here so integration tests can drive it directly.

pub mod app;
pub mod assert;
pub mod build_info;
pub mod cache;
pub mod cells;
pub mod cli;
pub mod cmd;
pub mod compare;
pub mod duration;
pub mod exit;
pub mod gateway;
pub mod generations;
pub mod history;
pub mod job_index;
pub mod journal;
pub mod merge;
pub mod metrics;
pub mod output;
pub mod plan;
pub mod pricing;
pub mod progress;
pub mod record;
pub mod report;
pub mod rundir;
pub mod runner;
pub mod secret;
pub mod sim;
pub mod stats;
pub mod stdout_relay;
pub mod suite;
pub mod term;
pub mod trend;
