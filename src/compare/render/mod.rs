//! Comparison output, every format together: [`rows`] formats each verdict
//! row once, one file per format renders it, and [`formats`] is the one list
//! `compare --format` takes its names and renderers from.

mod formats;
pub mod html;
pub mod json;
pub mod markdown;
mod rows;
pub mod table;
#[cfg(test)]
mod tests;

pub use formats::{by_name, names, Format, RenderError, RenderInput, FORMATS};
pub use html::{render_compare, CompareRowView, CompareView};
pub use json::{json, CompareJson, MetricJson, COMPARE_SCHEMA_VERSION};
pub use markdown::markdown;
pub use rows::{display_rows, verdict_text, DisplayRow};
pub use table::{compact_table, table};
