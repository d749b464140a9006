//! `evalgate trend`: one line per run per model over time — TTFT and
//! duration p50/p95, cost per request, pass rate — from plain run
//! directories or from the history store. Both sources yield the same
//! [`TrendPoint`]s, so the figures agree wherever they come from.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};

use crate::report::table::{fmt_ms, fmt_pct, fmt_usd};
use crate::report::{self, ReportError, RunSummary};

/// Why a trend could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TrendError {
    /// The directory does not exist.
    #[error("{0} is not a directory; pass results/<suite>/ (its subdirectories are runs) or --suite NAME to read the history")]
    NotADir(PathBuf),
    /// No runs found.
    #[error("no runs found in {0}: expected subdirectories holding summary.json")]
    NoRuns(String),
    /// A run's summary could not be read.
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// One model in one run: a CSV row of `trend --csv`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct TrendPoint {
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// The run directory's name (its timestamp by default).
    pub run: String,
    /// Git commit the run was made at, if known.
    pub git_commit: Option<String>,
    pub model: String,
    pub requests: u64,
    pub ok: u64,
    pub errors: u64,
    pub ttft_p50_ms: Option<f64>,
    pub ttft_p95_ms: Option<f64>,
    pub duration_p50_ms: Option<f64>,
    pub duration_p95_ms: Option<f64>,
    pub cost_per_request_usd: Option<f64>,
    /// 0..1; empty when nothing was checked.
    pub pass_rate: Option<f64>,
}

/// A run's name: the last component of its directory.
pub fn run_name(dir: &str) -> String {
    Path::new(dir)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.to_string())
}

/// The points of one run, in its model order.
pub fn points(run: &str, summary: &RunSummary) -> Vec<TrendPoint> {
    summary
        .models
        .iter()
        .map(|m| TrendPoint {
            started_at: summary.run.started_at.clone(),
            run: run.to_string(),
            git_commit: summary.run.git_commit.clone(),
            model: m.model.clone(),
            requests: m.requests,
            ok: m.ok,
            errors: m.errors,
            ttft_p50_ms: m.ttft_p50_ms,
            ttft_p95_ms: m.ttft_p95_ms,
            duration_p50_ms: m.duration_p50_ms,
            duration_p95_ms: m.duration_p95_ms,
            cost_per_request_usd: m.cost_per_request_usd,
            pass_rate: m.pass_rate,
        })
        .collect()
}

/// Every run under `dir` (each subdirectory with a `summary.json`), oldest first.
pub fn from_dir(dir: &Path) -> Result<Vec<TrendPoint>, TrendError> {
    let entries = std::fs::read_dir(dir).map_err(|_| TrendError::NotADir(dir.to_path_buf()))?;
    let mut runs: Vec<(String, String, RunSummary)> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let file = path.join("summary.json");
        if file.is_file() {
            let summary = report::read_summary(&file)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            runs.push((summary.run.started_at.clone(), name, summary));
        }
    }
    if runs.is_empty() {
        return Err(TrendError::NoRuns(dir.display().to_string()));
    }
    runs.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Ok(runs
        .iter()
        .flat_map(|(_, name, s)| points(name, s))
        .collect())
}

/// The points as CSV (header included), cells spreadsheet-safe.
pub fn csv(points: &[TrendPoint]) -> Result<String, crate::report::ReportError> {
    let bytes = crate::report::csv::safe_csv(points)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The points as a terminal table.
pub fn table(points: &[TrendPoint]) -> String {
    let mut b = Builder::default();
    b.push_record([
        "started",
        "run",
        "commit",
        "model",
        "ok/req",
        "TTFT p50 ms",
        "TTFT p95 ms",
        "dur p50 ms",
        "dur p95 ms",
        "cost/req",
        "pass",
    ]);
    for p in points {
        b.push_record([
            p.started_at
                .chars()
                .take(19)
                .collect::<String>()
                .replace('T', " "),
            p.run.clone(),
            p.git_commit
                .as_deref()
                .map_or_else(|| "-".into(), |c| c.chars().take(8).collect()),
            p.model.clone(),
            format!("{}/{}", p.ok, p.requests),
            fmt_ms(p.ttft_p50_ms),
            fmt_ms(p.ttft_p95_ms),
            fmt_ms(p.duration_p50_ms),
            fmt_ms(p.duration_p95_ms),
            p.cost_per_request_usd.map_or_else(|| "-".into(), fmt_usd),
            fmt_pct(p.pass_rate),
        ]);
    }
    let mut t = b.build();
    t.with(Style::rounded());
    for col in 4..11 {
        t.modify(Columns::single(col), Alignment::right());
    }
    t.to_string()
}
