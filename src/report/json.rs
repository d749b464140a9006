//! `summary.json`: the [`RunSummary`] as pretty JSON, and its reader.

use std::path::Path;

use super::{Exporter, Records, ReportError, RunSummary, SCHEMA_VERSION};

/// Writes `summary.json`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SummaryJson;

impl Exporter for SummaryJson {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }

    fn write<'r>(
        &self,
        summary: &RunSummary,
        _records: &Records<'r>,
        out: &mut dyn std::io::Write,
    ) -> Result<(), ReportError> {
        let bytes = self.bytes(summary)?;
        out.write_all(&bytes)
            .map_err(super::write_err("summary.json"))
    }
}

impl SummaryJson {
    fn bytes(&self, summary: &RunSummary) -> Result<Vec<u8>, ReportError> {
        let mut out = serde_json::to_vec_pretty(summary).map_err(|source| ReportError::Json {
            context: "cannot serialize summary.json".into(),
            source,
        })?;
        out.push(b'\n');
        Ok(out)
    }
}

/// Read a `summary.json`, refusing a schema version this build does not know.
pub fn read_summary(path: &Path) -> Result<RunSummary, ReportError> {
    let bytes = std::fs::read(path).map_err(|source| ReportError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    // Look at the version first so a newer file gets the right message
    // rather than a confusing missing-field error.
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: u32,
    }
    let context = || format!("{} is not a valid evalgate summary", path.display());
    let version: Version = serde_json::from_slice(&bytes).map_err(|source| ReportError::Json {
        context: context(),
        source,
    })?;
    if version.schema_version != SCHEMA_VERSION {
        return Err(ReportError::Schema {
            path: path.to_path_buf(),
            found: version.schema_version,
        });
    }
    serde_json::from_slice(&bytes).map_err(|source| ReportError::Json {
        context: context(),
        source,
    })
}

#[cfg(test)]
mod tests;
