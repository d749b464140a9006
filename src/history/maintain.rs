//! Keeping the history small: list the stored runs with their size, prune
//! old ones (then reclaim the space), and which request rows a run stores
//! (`--history-rows`). Per-model summaries are always kept.

use chrono::{DateTime, Utc};

use super::store::{int, text, History};
use super::value::Value;
use super::HistoryError;
use crate::record::{RequestRow, Status};

/// Which request rows `append` stores (`--history-rows`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryRows {
    /// No request rows: the run's metadata and per-model summaries only.
    None,
    /// Only rows that failed: an error, a skip, or a failed check.
    Failed,
    /// Every row (what `compare last` needs for its statistics).
    #[default]
    All,
}

impl HistoryRows {
    /// Whether `row` is stored under this policy.
    pub fn keeps(self, row: &RequestRow) -> bool {
        match self {
            HistoryRows::None => false,
            HistoryRows::Failed => row.status != Status::Ok || row.passed == Some(false),
            HistoryRows::All => true,
        }
    }
}

/// One stored run as `history list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunListing {
    pub id: String,
    pub suite: String,
    pub started_at: String,
    pub exit_code: i64,
    /// Request rows stored for it.
    pub rows: u64,
    /// Bytes of its stored JSON (summary and rows): what pruning it frees, roughly.
    pub bytes: u64,
}

/// Which runs `history prune` deletes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prune {
    /// All but the newest N runs of each suite.
    KeepLast(usize),
    /// Runs started before this time.
    OlderThan(DateTime<Utc>),
}

/// What `history prune` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub runs: u64,
    pub rows: u64,
    /// The store's size before and after (file size, or the PostgreSQL database size).
    pub bytes_before: u64,
    pub bytes_after: u64,
}

const LIST: &str = "SELECT r.id, r.suite, r.started_at, r.exit_code, \
(SELECT COUNT(*) FROM requests q WHERE q.run_id = r.id), \
LENGTH(r.summary_json) + (SELECT COALESCE(SUM(LENGTH(q.row_json)), 0) FROM requests q WHERE q.run_id = r.id) \
FROM runs r";

impl History {
    /// Stored runs, oldest first; only `suite`'s when given.
    pub async fn list(&self, suite: Option<&str>) -> Result<Vec<RunListing>, HistoryError> {
        let (sql, params): (String, Vec<Value>) = match suite {
            Some(s) => (
                format!("{LIST} WHERE r.suite = $1 ORDER BY r.started_at, r.id"),
                vec![s.into()],
            ),
            None => (format!("{LIST} ORDER BY r.started_at, r.id"), vec![]),
        };
        let rows = self.query(&sql, &params).await?;
        Ok(rows
            .iter()
            .map(|r| RunListing {
                id: text(&r[0]).unwrap_or_default(),
                suite: text(&r[1]).unwrap_or_default(),
                started_at: text(&r[2]).unwrap_or_default(),
                exit_code: int(&r[3]),
                rows: int(&r[4]).max(0) as u64,
                bytes: int(&r[5]).max(0) as u64,
            })
            .collect())
    }

    /// The newest of the last 200 runs whose models include `model`: its id
    /// and summary.
    pub async fn latest_with_model(
        &self,
        model: &str,
    ) -> Result<Option<(String, crate::metrics::RunSummary)>, HistoryError> {
        let rows = self
            .query(
                "SELECT id, models, summary_json FROM runs ORDER BY started_at DESC, id DESC LIMIT 200",
                &[],
            )
            .await?;
        for r in &rows {
            let models: Vec<String> =
                serde_json::from_str(&text(&r[1]).unwrap_or_default()).unwrap_or_default();
            if models.iter().any(|m| m == model) {
                let id = text(&r[0]).unwrap_or_default();
                let summary =
                    serde_json::from_str(&text(&r[2]).unwrap_or_default()).map_err(|e| {
                        HistoryError::Corrupt {
                            id: id.clone(),
                            reason: e.to_string(),
                        }
                    })?;
                return Ok(Some((id, summary)));
            }
        }
        Ok(None)
    }

    /// Delete the runs `which` selects (of `suite` only, when given) with
    /// their summaries and rows in one transaction, then reclaim the space.
    pub async fn prune(
        &mut self,
        which: &Prune,
        suite: Option<&str>,
    ) -> Result<PruneReport, HistoryError> {
        let bytes_before = self.size().await?;
        let listed = self.list(suite).await?;
        let doomed = select(&listed, which);
        let mut report = PruneReport {
            runs: doomed.len() as u64,
            rows: doomed.iter().map(|r| r.rows).sum(),
            bytes_before,
            ..PruneReport::default()
        };
        let mut statements: Vec<(&str, Vec<Value>)> = Vec::with_capacity(3 * doomed.len());
        for run in &doomed {
            let id: Value = run.id.clone().into();
            statements.push(("DELETE FROM requests WHERE run_id = $1", vec![id.clone()]));
            statements.push((
                "DELETE FROM model_summaries WHERE run_id = $1",
                vec![id.clone()],
            ));
            statements.push(("DELETE FROM runs WHERE id = $1", vec![id]));
        }
        if !statements.is_empty() {
            self.execute_all(&statements).await?;
            self.vacuum().await?;
        }
        report.bytes_after = self.size().await?;
        Ok(report)
    }
}

/// The runs `which` deletes, from a listing sorted oldest first.
fn select<'a>(listed: &'a [RunListing], which: &Prune) -> Vec<&'a RunListing> {
    match which {
        Prune::KeepLast(n) => {
            let mut seen: std::collections::HashMap<&str, usize> = Default::default();
            let mut doomed: Vec<&RunListing> = listed
                .iter()
                .rev()
                .filter(|r| {
                    let k = seen.entry(r.suite.as_str()).or_default();
                    *k += 1;
                    *k > *n
                })
                .collect();
            doomed.reverse();
            doomed
        }
        Prune::OlderThan(cutoff) => listed
            .iter()
            .filter(|r| {
                DateTime::parse_from_rfc3339(&r.started_at)
                    .is_ok_and(|t| t.with_timezone(&Utc) < *cutoff)
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
