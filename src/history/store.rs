//! The history API the commands use: append a finished run, find the
//! latest (green) run of a suite, load a run back for `compare`, list a
//! suite's runs for `trend`. Statements are written once for both backends.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::maintain::HistoryRows;
use super::postgres::Postgres;
use super::sqlite::Sqlite;
use super::target::HistoryTarget;
use super::value::{NextBatch, Value};
use super::HistoryError;
use crate::metrics::RunSummary;
use crate::record::{RequestRow, Status};

/// A finished run to append.
pub struct Entry<'a> {
    /// The run's summary (what `summary.json` holds).
    pub summary: &'a RunSummary,
    /// The run's final exit code (0 = green).
    pub exit_code: i32,
    /// The run directory, if it has one.
    pub run_dir: Option<&'a Path>,
    /// Which request rows to store (`--history-rows`).
    pub rows: HistoryRows,
}

/// A run read back from the store.
#[derive(Clone, Debug)]
pub struct StoredRun {
    /// The run's id in the store.
    pub id: String,
    /// RFC 3339 start time.
    pub started_at: String,
    /// The run directory it was written to.
    pub run_dir: Option<String>,
    /// Its exit code.
    pub exit_code: i64,
    /// Its summary.
    pub summary: RunSummary,
}

/// A stored run's summary and every row, read back for `compare`.
#[derive(Clone, Debug)]
pub struct LoadedRun {
    /// How to name it: its run directory, else `history:<id>`.
    pub label: String,
    /// Its summary.
    pub summary: RunSummary,
    /// Its rows, in the order they were stored.
    pub rows: Vec<RequestRow>,
}

enum Backend {
    Sqlite(Sqlite),
    Postgres(Postgres),
}

/// An open, migrated history store.
pub struct History {
    backend: Backend,
    location: String,
}

const INSERT_RUN: &str = "INSERT INTO runs (id, suite, suite_hash, suite_path, models, gateway_url, \
simulated, tool_version, git_commit, started_at, ended_at, exit_code, green, run_dir, shard, \
stopped_by, summary_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";

const INSERT_MODEL: &str = "INSERT INTO model_summaries (run_id, model, requests, ok, errors, \
skipped, ttft_p50_ms, ttft_p95_ms, ttft_p99_ms, duration_p50_ms, duration_p95_ms, duration_p99_ms, \
cost_usd, cost_per_request_usd, input_tokens, output_tokens, pass_rate) VALUES ($1, $2, $3, $4, \
$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";

const INSERT_REQUEST: &str = "INSERT INTO requests (run_id, seq, job, case_id, model, \
repeat_index, status, error_kind, ttft_ms, duration_ms, output_tokens, cost_usd, passed, row_json) \
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

/// Request rows held in memory at once while a run is written.
const BATCH_ROWS: usize = 1000;

/// A stable id for a run: its start time and a hash of what identifies it,
/// so appending a resumed run again replaces its first entry.
fn run_id(summary: &RunSummary, run_dir: Option<&Path>) -> String {
    let mut h = Sha256::new();
    h.update(summary.run.suite_hash.as_bytes());
    h.update(summary.run.started_at.as_bytes());
    h.update(
        summary
            .run
            .options
            .shard
            .as_deref()
            .unwrap_or("")
            .as_bytes(),
    );
    if let Some(d) = run_dir {
        h.update(d.display().to_string().as_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", summary.run.started_at)
}

/// The parameters of [`INSERT_REQUEST`] for the `seq`-th row of a run.
fn request_params(id: &str, seq: usize, row: &RequestRow) -> Result<Vec<Value>, HistoryError> {
    let json = serde_json::to_string(row).map_err(|err| HistoryError::Corrupt {
        id: id.to_string(),
        reason: err.to_string(),
    })?;
    Ok(vec![
        id.into(),
        (seq as u64).into(),
        row.job.into(),
        row.case_id.clone().into(),
        row.model.clone().into(),
        u64::from(row.repeat).into(),
        status_str(row.status).into(),
        row.error_kind.map(|k| k.as_str().to_string()).into(),
        row.ttft_ms.into(),
        row.duration_ms.into(),
        row.output_tokens.into(),
        row.cost_usd.into(),
        row.passed.into(),
        json.into(),
    ])
}

fn status_str(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Error => "error",
        Status::Skipped => "skipped",
    }
}

pub(super) fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(t) => t.clone(),
        Value::Int(i) => i.map(|i| i.to_string()),
        Value::Real(r) => r.map(|r| r.to_string()),
        Value::Bool(b) => b.map(|b| b.to_string()),
    }
}

pub(super) fn int(v: &Value) -> i64 {
    match v {
        Value::Int(Some(i)) => *i,
        Value::Text(Some(t)) => t.parse().unwrap_or(0),
        _ => 0,
    }
}

impl History {
    /// Open (and migrate) the store.
    pub async fn open(target: &HistoryTarget) -> Result<History, HistoryError> {
        let location = target.display();
        let backend = match target {
            HistoryTarget::Sqlite(path) => Backend::Sqlite(Sqlite::open(path)?),
            HistoryTarget::Postgres(url) => {
                Backend::Postgres(Postgres::connect(url, location.clone()).await?)
            }
        };
        Ok(History { backend, location })
    }

    /// Where the store is, printable (no password).
    pub fn location(&self) -> &str {
        &self.location
    }

    async fn write_run(
        &mut self,
        head: &[(&str, Vec<Value>)],
        batch_sql: &str,
        next_batch: &mut NextBatch<'_>,
    ) -> Result<(), HistoryError> {
        match &mut self.backend {
            Backend::Sqlite(db) => db.write_run(head, batch_sql, next_batch),
            Backend::Postgres(db) => db.write_run(head, batch_sql, next_batch).await,
        }
    }

    pub(super) async fn query(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<Vec<Value>>, HistoryError> {
        match &self.backend {
            Backend::Sqlite(db) => db.query(sql, params),
            Backend::Postgres(db) => db.query(sql, params).await,
        }
    }

    /// Run `statements` in one transaction.
    pub(super) async fn execute_all(
        &mut self,
        statements: &[(&str, Vec<Value>)],
    ) -> Result<(), HistoryError> {
        self.write_run(statements, "SELECT 1", &mut || Ok(Vec::new()))
            .await
    }

    /// Give the space of deleted rows back (`VACUUM`; outside a transaction).
    pub(super) async fn vacuum(&mut self) -> Result<(), HistoryError> {
        match &mut self.backend {
            Backend::Sqlite(db) => db.vacuum(),
            Backend::Postgres(db) => db.vacuum().await,
        }
    }

    /// The store's size in bytes: the SQLite file, or the PostgreSQL database.
    pub async fn size(&self) -> Result<u64, HistoryError> {
        match &self.backend {
            Backend::Sqlite(db) => Ok(db.size()),
            Backend::Postgres(db) => db.size().await,
        }
    }

    /// Append a finished run (replacing an earlier entry of the same run,
    /// e.g. before `--resume`) with its rows, streamed into the store in
    /// batches (a row that cannot be read fails the append); returns its id.
    pub async fn append<E: std::fmt::Display>(
        &mut self,
        e: &Entry<'_>,
        rows: impl Iterator<Item = Result<RequestRow, E>> + Send,
    ) -> Result<String, HistoryError> {
        let s = e.summary;
        let id = run_id(s, e.run_dir);
        let corrupt = |err: serde_json::Error| HistoryError::Corrupt {
            id: id.clone(),
            reason: err.to_string(),
        };
        let mut st: Vec<(&str, Vec<Value>)> = vec![
            (
                "DELETE FROM requests WHERE run_id = $1",
                vec![id.clone().into()],
            ),
            (
                "DELETE FROM model_summaries WHERE run_id = $1",
                vec![id.clone().into()],
            ),
            ("DELETE FROM runs WHERE id = $1", vec![id.clone().into()]),
        ];
        let r = &s.run;
        st.push((
            INSERT_RUN,
            vec![
                id.clone().into(),
                r.suite.clone().into(),
                r.suite_hash.clone().into(),
                r.suite_path.clone().into(),
                serde_json::to_string(&r.models).map_err(corrupt)?.into(),
                r.gateway_url.clone().into(),
                r.simulated.into(),
                r.tool_version.clone().into(),
                r.git_commit.clone().into(),
                r.started_at.clone().into(),
                r.ended_at.clone().into(),
                i64::from(e.exit_code).into(),
                (e.exit_code == crate::exit::OK).into(),
                e.run_dir.map(|d| d.display().to_string()).into(),
                r.options.shard.clone().into(),
                r.stopped_by.clone().into(),
                serde_json::to_string(s).map_err(corrupt)?.into(),
            ],
        ));
        for m in &s.models {
            st.push((
                INSERT_MODEL,
                vec![
                    id.clone().into(),
                    m.model.clone().into(),
                    m.requests.into(),
                    m.ok.into(),
                    m.errors.into(),
                    m.skipped.into(),
                    m.ttft_p50_ms.into(),
                    m.ttft_p95_ms.into(),
                    m.ttft_p99_ms.into(),
                    m.duration_p50_ms.into(),
                    m.duration_p95_ms.into(),
                    m.duration_p99_ms.into(),
                    m.cost_usd.into(),
                    m.cost_per_request_usd.into(),
                    m.input_tokens.into(),
                    m.output_tokens.into(),
                    m.pass_rate.into(),
                ],
            ));
        }
        // One batch of request rows in memory at a time, all in the one
        // transaction: a failed write leaves no partial run.
        let mut rows = rows.enumerate();
        let mut next_batch = || -> Result<Vec<Vec<Value>>, HistoryError> {
            let mut batch = Vec::with_capacity(BATCH_ROWS);
            // `seq` stays the row's place in `requests.csv` when only some are kept.
            while batch.len() < BATCH_ROWS {
                let Some((seq, row)) = rows.next() else { break };
                let row = row.map_err(|e| HistoryError::Requests(e.to_string()))?;
                if e.rows.keeps(&row) {
                    batch.push(request_params(&id, seq, &row)?);
                }
            }
            Ok(batch)
        };
        self.write_run(&st, INSERT_REQUEST, &mut next_batch).await?;
        Ok(id)
    }

    /// The id of the newest whole run of `suite` (newest green run if
    /// `green_only`), optionally only among runs started before `before`.
    /// Shards and partial runs (stopped early, or merged from some shards)
    /// cover part of a plan, so they are never a baseline.
    pub async fn latest(
        &self,
        suite: &str,
        green_only: bool,
        before: Option<&str>,
    ) -> Result<Option<String>, HistoryError> {
        let green = if green_only { " AND green" } else { "" };
        let sql = format!(
            "SELECT id FROM runs WHERE suite = $1 AND started_at < $2{green} \
             AND shard IS NULL AND stopped_by IS NULL \
             ORDER BY started_at DESC, id DESC LIMIT 1"
        );
        // "~" sorts after every RFC 3339 timestamp.
        let rows = self
            .query(&sql, &[suite.into(), before.unwrap_or("~").into()])
            .await?;
        Ok(rows.first().and_then(|r| text(&r[0])))
    }

    /// A stored run's summary and rows, as `compare` reads them.
    pub async fn load(&self, id: &str) -> Result<LoadedRun, HistoryError> {
        let corrupt = |reason: String| HistoryError::Corrupt {
            id: id.to_string(),
            reason,
        };
        let runs = self
            .query(
                "SELECT summary_json, run_dir FROM runs WHERE id = $1",
                &[id.into()],
            )
            .await?;
        let json = runs
            .first()
            .and_then(|r| text(&r[0]))
            .ok_or_else(|| corrupt("no such run".into()))?;
        // Named by its directory, which the user can open; the id otherwise.
        let label = runs
            .first()
            .and_then(|r| text(&r[1]))
            .unwrap_or_else(|| format!("history:{id}"));
        let summary: RunSummary =
            serde_json::from_str(&json).map_err(|e| corrupt(e.to_string()))?;
        let rows = self
            .query(
                "SELECT row_json FROM requests WHERE run_id = $1 ORDER BY seq",
                &[id.into()],
            )
            .await?
            .iter()
            .map(|r| {
                let t = text(&r[0]).unwrap_or_default();
                serde_json::from_str::<RequestRow>(&t).map_err(|e| corrupt(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LoadedRun {
            label,
            summary,
            rows,
        })
    }

    /// Every run of `suite`, oldest first.
    pub async fn runs(&self, suite: &str) -> Result<Vec<StoredRun>, HistoryError> {
        let rows = self
            .query(
                "SELECT id, started_at, run_dir, exit_code, summary_json FROM runs \
                 WHERE suite = $1 ORDER BY started_at, id",
                &[suite.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let id = text(&r[0]).unwrap_or_default();
                let summary =
                    serde_json::from_str(&text(&r[4]).unwrap_or_default()).map_err(|e| {
                        HistoryError::Corrupt {
                            id: id.clone(),
                            reason: e.to_string(),
                        }
                    })?;
                Ok(StoredRun {
                    started_at: text(&r[1]).unwrap_or_default(),
                    run_dir: text(&r[2]),
                    exit_code: int(&r[3]),
                    summary,
                    id,
                })
            })
            .collect()
    }

    /// Applied migration versions, ascending.
    pub async fn schema_versions(&self) -> Result<Vec<i64>, HistoryError> {
        let rows = self
            .query(
                "SELECT version FROM schema_migrations ORDER BY version",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| int(&r[0])).collect())
    }
}
