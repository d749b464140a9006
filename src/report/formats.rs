//! The one list of output formats. It feeds the files every run (and every
//! merged run) writes, the `results:` line, the `--force` clean-up, and the
//! names `report --format` accepts. Adding a format is one writer file
//! (an [`Exporter`]) plus one line in [`FORMATS`].

use std::io::Write;

use super::{Exporter, Html, Junit, Markdown, Records, ReportError, RunSummary};
use super::{SummaryCsv, SummaryJson};

/// One output format.
pub struct Format {
    /// The name `report --format` knows it by (`None`: not offered there).
    pub name: Option<&'static str>,
    /// Its writer.
    pub writer: &'static (dyn Exporter + Sync),
    /// Whether every run directory gets this file.
    pub in_run_dir: bool,
}

/// Every format, in the order a run writes them.
pub const FORMATS: &[Format] = &[
    Format {
        name: None,
        writer: &SummaryCsv,
        in_run_dir: true,
    },
    Format {
        name: Some("json"),
        writer: &SummaryJson,
        in_run_dir: true,
    },
    Format {
        name: Some("markdown"),
        writer: &Markdown,
        in_run_dir: true,
    },
    Format {
        name: Some("junit"),
        writer: &Junit,
        in_run_dir: true,
    },
    Format {
        name: Some("html"),
        writer: &Html,
        in_run_dir: true,
    },
    Format {
        name: Some("table"),
        writer: &Table { wide: false },
        in_run_dir: false,
    },
];

/// The writers every run directory gets besides `requests.csv`.
pub fn run_dir_writers() -> impl Iterator<Item = &'static (dyn Exporter + Sync)> {
    FORMATS.iter().filter(|f| f.in_run_dir).map(|f| f.writer)
}

/// The files of a finished run directory, for the `results:` line.
pub fn run_dir_files() -> String {
    let mut names = vec!["requests.csv"];
    names.extend(run_dir_writers().map(|w| w.file_name()));
    names.push("responses.jsonl");
    names.join(", ")
}

/// The names `report --format` accepts.
pub fn report_names() -> Vec<&'static str> {
    FORMATS.iter().filter_map(|f| f.name).collect()
}

/// The format `report --format NAME` writes.
pub fn by_name(name: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.name == Some(name))
}

/// The terminal table of a run (what `run` prints), as a writer: compact to
/// fit the terminal, or every column when `wide`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Table {
    pub wide: bool,
}

impl Exporter for Table {
    fn file_name(&self) -> &'static str {
        "table.txt"
    }

    fn write<'r>(
        &self,
        summary: &RunSummary,
        _records: &Records<'r>,
        out: &mut dyn Write,
    ) -> Result<(), ReportError> {
        let view = if self.wide {
            super::table::View::Wide
        } else {
            super::table::View::Compact {
                width: crate::term::width(),
            }
        };
        out.write_all(super::table::comparison_table(summary, view).as_bytes())
            .map_err(super::write_err("table.txt"))
    }
}
