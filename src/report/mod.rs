//! Report writers: one file per format behind one [`Exporter`] trait.
//!
//! Writers are pure — a finished [`RunSummary`] and the run's records in,
//! bytes out — so each is tested by comparing to expected text. They read
//! finished results and never drive a run.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::metrics::MetricsError;
pub use crate::metrics::{RunSummary, SCHEMA_VERSION};
use crate::record::ResponseRecord;

pub mod csv;
pub mod decision;
pub mod failing;
pub mod formats;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod svg;
pub mod table;
#[cfg(test)]
pub(crate) mod test_support;

pub use self::csv::{read_requests, stream_requests, RequestsCsv, SummaryCsv};
pub use self::formats::{Format, FORMATS};
pub use self::html::Html;
pub use self::json::{read_summary, SummaryJson};
pub use self::junit::Junit;
pub use self::markdown::Markdown;
pub use self::table::{comparison_table, errors_table};

/// Printed above every table and report of a run against the sim gateway.
pub const SIMULATED_BANNER: &str =
    "SIMULATED — answers and timings come from the built-in sim gateway, not real models";

/// [`SIMULATED_BANNER`] for narrow terminals.
pub const SIMULATED_BANNER_SHORT: &str =
    "SIMULATED — answers and timings come from the built-in sim";

/// Why a report could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading or writing a file failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// CSV could not be written or parsed.
    #[error("{context}: {source}")]
    Csv {
        context: String,
        source: ::csv::Error,
    },
    /// JSON could not be written or parsed.
    #[error("{context}: {source}")]
    Json {
        context: String,
        source: serde_json::Error,
    },
    /// `summary.json` from a newer (or unknown) evalgate.
    #[error("{path}: summary schema_version {found} is not supported (this evalgate reads {SCHEMA_VERSION}); upgrade evalgate")]
    Schema { path: PathBuf, found: u32 },
    /// The run's journal could not be read for another pass.
    #[error("{0}")]
    Journal(String),
    /// The histograms in a summary could not be rebuilt.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// A fresh pass over a run's records, in journal order, each time it is
/// called: writers that need the rows more than once (JUnit's per-model
/// suites) read them again instead of holding them in memory.
pub type Records<'r> =
    dyn Fn() -> Result<Box<dyn Iterator<Item = ResponseRecord> + 'r>, ReportError> + 'r;

/// A pass over the rows when `needed`, else no rows at all: writers that
/// list only failing rows skip reading the journal when the summary says
/// there are none.
pub(crate) fn rows_if<'r>(
    needed: bool,
    records: &Records<'r>,
) -> Result<Box<dyn Iterator<Item = ResponseRecord> + 'r>, ReportError> {
    if needed {
        records()
    } else {
        Ok(Box::new(std::iter::empty()))
    }
}

/// One output format: a pure function from a finished run to file bytes.
pub trait Exporter {
    /// The file name this format is written to inside the run directory.
    fn file_name(&self) -> &'static str;

    /// Write the report to `out` with memory bounded by the number of models
    /// (not of rows). `records` starts a new pass over the run's rows; a
    /// writer that needs only the summary may never call it.
    fn write<'r>(
        &self,
        summary: &RunSummary,
        records: &Records<'r>,
        out: &mut dyn Write,
    ) -> Result<(), ReportError>;

    /// Render the report into memory (for tests and small runs): the rows
    /// are collected once and [`Exporter::write`] reads them from there.
    fn render(
        &self,
        summary: &RunSummary,
        records: &mut dyn Iterator<Item = ResponseRecord>,
    ) -> Result<Vec<u8>, ReportError> {
        let rows: Vec<ResponseRecord> = records.collect();
        let mut out = Vec::new();
        let pass = || -> Result<Box<dyn Iterator<Item = ResponseRecord> + '_>, ReportError> {
            Ok(Box::new(rows.iter().cloned()))
        };
        self.write(summary, &pass, &mut out)?;
        Ok(out)
    }

    /// Write the report to `path` through a buffer.
    fn write_file<'r>(
        &self,
        summary: &RunSummary,
        records: &Records<'r>,
        path: &Path,
    ) -> Result<(), ReportError> {
        let io = |source| ReportError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
        self.write(summary, records, &mut out)?;
        out.flush().map_err(io)
    }
}

/// An I/O error while writing a report to `out` (the destination's path is
/// not known here).
pub(crate) fn write_err(file: &'static str) -> impl Fn(std::io::Error) -> ReportError {
    move |source| ReportError::Io {
        action: "write",
        path: PathBuf::from(file),
        source,
    }
}
