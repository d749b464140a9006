//! A run as `compare` sees it: its summary and its per-request rows, read
//! from a run directory (`summary.json` + `requests.csv`) or from the
//! history store.

use std::path::{Path, PathBuf};

use crate::record::{RequestRow, Status};
use crate::report::RunSummary;

/// Why two runs could not be compared. Every variant is the user's input.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The run directory does not exist or is not a run.
    #[error("{path} is not a finished run directory ({reason}); pass a directory written by `evalgate run`, e.g. results/<suite>/<timestamp>")]
    NotARun { path: PathBuf, reason: String },
    /// A file of the run could not be read.
    #[error("cannot read the run {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    /// `--threshold` is malformed or names an unknown metric.
    #[error("{0}")]
    Threshold(String),
}

/// One side of a comparison.
#[derive(Clone, Debug)]
pub struct RunData {
    /// Where the run came from: its directory, or `history:<id>`.
    pub label: String,
    /// The run's `summary.json`.
    pub summary: RunSummary,
    /// Every row of `requests.csv`.
    pub rows: Vec<RequestRow>,
}

impl RunData {
    /// Read a run directory.
    pub fn load(dir: &Path) -> Result<RunData, CompareError> {
        if !dir.is_dir() {
            return Err(CompareError::NotARun {
                path: dir.to_path_buf(),
                reason: "no such directory".into(),
            });
        }
        let summary_path = dir.join("summary.json");
        if !summary_path.is_file() {
            return Err(CompareError::NotARun {
                path: dir.to_path_buf(),
                reason: "it has no summary.json".into(),
            });
        }
        let unreadable = |e: crate::report::ReportError| CompareError::Unreadable {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        };
        let summary = crate::report::read_summary(&summary_path).map_err(unreadable)?;
        let rows = crate::report::read_requests(&dir.join("requests.csv")).map_err(unreadable)?;
        Ok(RunData {
            label: dir.display().to_string(),
            summary,
            rows,
        })
    }

    /// Per-request samples of one model.
    pub fn samples(&self, model: &str) -> Samples {
        let mut s = Samples::default();
        for r in self.rows.iter().filter(|r| r.model == model) {
            match r.status {
                Status::Ok => {
                    s.sent += 1;
                    s.ttft_ms.extend(r.ttft_ms);
                    s.duration_ms.extend(r.duration_ms);
                    s.cost_usd.extend(r.cost_usd);
                    s.output_tokens.extend(r.output_tokens.map(|t| t as f64));
                }
                Status::Error => {
                    s.sent += 1;
                    s.errors += 1;
                }
                Status::Skipped => {}
            }
            if let Some(p) = r.passed {
                s.checked += 1;
                s.passed += u64::from(p);
            }
        }
        s
    }
}

impl RunData {
    /// Checked outcomes of one model keyed by (case id, repeat), sorted by
    /// key: what a paired pass-rate test matches across runs.
    pub fn pass_outcomes(&self, model: &str) -> Vec<((&str, u32), bool)> {
        let mut v: Vec<((&str, u32), bool)> = self
            .rows
            .iter()
            .filter(|r| r.model == model)
            .filter_map(|r| Some(((r.case_id.as_str(), r.repeat), r.passed?)))
            .collect();
        v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

/// The samples of one model in one run.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    /// TTFT of ok rows, ms.
    pub ttft_ms: Vec<f64>,
    /// Duration of ok rows, ms.
    pub duration_ms: Vec<f64>,
    /// Cost of ok rows with a known cost, USD.
    pub cost_usd: Vec<f64>,
    /// Output tokens of ok rows with usage.
    pub output_tokens: Vec<f64>,
    /// Rows sent (ok or error).
    pub sent: u64,
    /// Rows sent that failed.
    pub errors: u64,
    /// Rows whose answer was checked.
    pub checked: u64,
    /// Checked rows that passed.
    pub passed: u64,
}
