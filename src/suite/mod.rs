//! Suite files: the YAML schema users write, defaults merged into cases,
//! templates rendered (minijinja), cases expanded from data files and
//! variable lists, images read, and validation whose errors name the file,
//! line (or data row) and field.
//!
//! `raw` is the wire schema (serde, unknown fields denied), `build` turns it
//! into a [`Suite`], `lines` finds the line of things serde cannot locate,
//! and `error` words every problem with its file, line and fix.

mod build;
mod case;
mod data;
mod error;
mod guard;
mod lines;
mod load;
mod media;
mod raw;
mod request;
mod template;
mod types;

pub use crate::record::{AssertSpec, Message};
pub use error::SuiteError;
pub use load::{errors, load, load_with, parse, read, LoadOptions};
pub use media::DEFAULT_MAX_IMAGE_BYTES;
pub use types::{Case, Suite, SuitePrice, SuiteTimeouts};

#[cfg(test)]
mod request_tests;
#[cfg(test)]
mod tests;
