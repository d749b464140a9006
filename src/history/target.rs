//! Where the history lives: `--history`, `$EVALGATE_HISTORY_URL`, or the
//! default SQLite file.

use std::path::PathBuf;

/// Environment variable naming the history store.
pub const HISTORY_URL_ENV: &str = "EVALGATE_HISTORY_URL";

/// The default store, relative to the working directory.
pub const DEFAULT_SQLITE_PATH: &str = "results/history.sqlite";

/// A history store location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryTarget {
    /// An SQLite file (created on first use).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user@host:port/db`).
    Postgres(String),
}

impl HistoryTarget {
    /// `postgres://…` / `postgresql://…` → PostgreSQL; `sqlite:PATH`,
    /// `sqlite://PATH` or a bare path → SQLite; `None` → the default file.
    pub fn from_flag(value: Option<&str>) -> HistoryTarget {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => HistoryTarget::Sqlite(PathBuf::from(DEFAULT_SQLITE_PATH)),
            Some(v) if v.starts_with("postgres://") || v.starts_with("postgresql://") => {
                HistoryTarget::Postgres(v.to_string())
            }
            Some(v) => {
                let path = v
                    .strip_prefix("sqlite://")
                    .or_else(|| v.strip_prefix("sqlite:"))
                    .unwrap_or(v);
                HistoryTarget::Sqlite(PathBuf::from(path))
            }
        }
    }

    /// A printable location with any password removed.
    pub fn display(&self) -> String {
        match self {
            HistoryTarget::Sqlite(p) => p.display().to_string(),
            HistoryTarget::Postgres(url) => redact(url),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((auth, host)) => match auth.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests;
