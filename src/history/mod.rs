//! Run history: every finished run appended to a store — run metadata, the
//! per-model summary and the per-request rows — so `trend` can show a
//! metric over time and `--baseline last` can find the previous run.
//!
//! Embedded SQLite (`results/history.sqlite`) by default, PostgreSQL when
//! given a `postgres://` URL. Both apply the same numbered SQL migrations,
//! recorded in `schema_migrations`. See `docs/history.md` for the schema.

mod maintain;
mod migrations;
mod postgres;
mod sqlite;
mod store;
mod target;
mod value;

pub use maintain::{HistoryRows, Prune, PruneReport, RunListing};
pub use store::{Entry, History, LoadedRun, StoredRun};
pub use target::{HistoryTarget, DEFAULT_SQLITE_PATH, HISTORY_URL_ENV};

/// Why the history store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// SQLite failed.
    #[error("history database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    /// PostgreSQL failed.
    #[error("history database {url}: {source}")]
    Postgres {
        url: String,
        source: tokio_postgres::Error,
    },
    /// The directory for the SQLite file could not be made.
    #[error("cannot create {path}: {source}; pass --history with a writable path or --no-history")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    /// A stored JSON document does not parse.
    #[error("history entry {id} is damaged: {reason}")]
    Corrupt { id: String, reason: String },
    /// The run's `requests.csv` could not be read while writing it.
    #[error("cannot store the run's requests: {0}")]
    Requests(String),
    /// The database was written by a newer evalgate.
    #[error("history database {location} has schema version {found}, newer than this evalgate knows ({known}); upgrade evalgate")]
    TooNew {
        location: String,
        found: i64,
        known: i64,
    },
}
