//! `evalgate compare`: is the current run worse than the baseline, metric by
//! metric and model by model, beyond noise?
//!
//! [`input`] loads a run (a directory or a history entry) into samples,
//! [`analyze`] builds one Holm family of tests over the whole comparison with
//! the statistics in [`crate::stats`], and [`render`] turns the result into a
//! terminal table, Markdown or JSON through dedicated output types.

pub mod analyze;
pub mod input;
pub mod render;

pub use analyze::{compare, Comparison, MetricKind, MetricRow, Thresholds};
pub use input::{CompareError, RunData};
#[cfg(test)]
mod tests;
