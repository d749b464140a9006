//! One file per subcommand; each takes its parsed arguments and returns the
//! exit code.

pub mod common;
pub mod compare;
pub mod endpoints;
pub mod history;
pub mod info;
pub mod init;
pub mod merge;
pub mod report;
pub mod run;
pub mod run_config;
mod run_print;
mod run_setup;
pub mod shell;
pub mod sim;
pub mod sweep;
pub mod trend;
pub mod validate;
