//! The one list of comparison formats: `compare --format` accepts its
//! names (`--help` lists them) and renders through it. Adding a format is
//! one file with a `render` function plus one line in [`FORMATS`].

use super::super::analyze::Comparison;
use super::{html, json, markdown, table};
use crate::report::RunSummary;

/// What a comparison renderer is given.
pub struct RenderInput<'a> {
    pub cmp: &'a Comparison,
    pub baseline: &'a RunSummary,
    pub current: &'a RunSummary,
    /// Every column (`--wide`) rather than what fits `width`.
    pub wide: bool,
    /// The terminal's width in columns.
    pub width: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot encode the comparison as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// One comparison format.
pub struct Format {
    /// The name `compare --format` knows it by.
    pub name: &'static str,
    /// The whole output, as text.
    pub render: fn(&RenderInput<'_>) -> Result<String, RenderError>,
}

/// Every format; the first is the default.
pub const FORMATS: &[Format] = &[
    Format {
        name: "table",
        render: table::render,
    },
    Format {
        name: "markdown",
        render: markdown::render,
    },
    Format {
        name: "json",
        render: json::render,
    },
    Format {
        name: "html",
        render: html::render,
    },
];

/// The names `compare --format` accepts.
pub fn names() -> Vec<&'static str> {
    FORMATS.iter().map(|f| f.name).collect()
}

/// The format `compare --format NAME` renders.
pub fn by_name(name: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.name == name)
}
