//! Suite files: the YAML schema users write, defaults merged into cases,
//! `{{var}}` templates rendered, and validation whose errors name the file,
//! line and field.
//!
//! `raw` is the wire schema (serde, unknown fields denied), `build` turns it
//! into a [`Suite`], `lines` finds the line of things serde cannot locate,
//! and `error` words every problem with its file, line and fix.

mod build;
mod error;
mod lines;
mod load;
mod raw;
mod types;

pub use crate::record::{AssertSpec, Message};
pub use error::SuiteError;
pub use load::{errors, load, parse};
pub use types::{Case, Suite, SuitePrice, SuiteTimeouts};

#[cfg(test)]
mod tests;
