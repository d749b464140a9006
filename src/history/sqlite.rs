//! The SQLite backend (rusqlite, bundled): one file, created on first use.

use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::migrations::{self, MIGRATIONS};
use super::value::{NextBatch, Value};
use super::HistoryError;

/// An open SQLite history file.
pub struct Sqlite {
    conn: Connection,
    path: String,
}

impl Sqlite {
    /// Open (creating the file and its directory) and migrate.
    pub fn open(path: &Path) -> Result<Sqlite, HistoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| HistoryError::Dir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let display = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| HistoryError::Sqlite {
            path: display.clone(),
            source,
        })?;
        let mut db = Sqlite {
            conn,
            path: display,
        };
        // Concurrent runs in one checkout wait for each other's writes.
        db.conn
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| db.err(e))?;
        db.migrate()?;
        Ok(db)
    }

    fn err(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn migrate(&mut self) -> Result<(), HistoryError> {
        let path = self.path.clone();
        let err = |source| HistoryError::Sqlite {
            path: path.clone(),
            source,
        };
        self.conn
            .execute_batch(migrations::CREATE_TABLE)
            .map_err(err)?;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let current: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        if current > migrations::latest() {
            return Err(HistoryError::TooNew {
                location: path.clone(),
                found: current,
                known: migrations::latest(),
            });
        }
        for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            tx.execute_batch(sql).map_err(err)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                rusqlite::params![version, name, chrono::Utc::now().to_rfc3339()],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// Write one run in one transaction: the `head` statements, then
    /// `batch_sql` once per parameter list of every batch `next_batch`
    /// yields (an empty batch ends it) through one prepared statement. An
    /// error anywhere rolls the whole run back.
    pub fn write_run(
        &mut self,
        head: &[(&str, Vec<Value>)],
        batch_sql: &str,
        next_batch: &mut NextBatch<'_>,
    ) -> Result<(), HistoryError> {
        let path = self.path.clone();
        let err = |source| HistoryError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        for (sql, params) in head {
            let mut stmt = tx.prepare_cached(sql).map_err(err)?;
            stmt.execute(rusqlite::params_from_iter(params.iter()))
                .map_err(err)?;
        }
        {
            let mut stmt = tx.prepare(batch_sql).map_err(err)?;
            loop {
                let batch = next_batch()?;
                if batch.is_empty() {
                    break;
                }
                for params in &batch {
                    stmt.execute(rusqlite::params_from_iter(params.iter()))
                        .map_err(err)?;
                }
            }
        }
        tx.commit().map_err(err)
    }

    /// `VACUUM`: rewrite the file without the free pages deleted rows left.
    pub fn vacuum(&mut self) -> Result<(), HistoryError> {
        self.conn.execute_batch("VACUUM").map_err(|e| self.err(e))
    }

    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// Rows of a query, each column as a [`Value`].
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, HistoryError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let n = stmt.column_count();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params.iter()), |row| {
                (0..n)
                    .map(|i| {
                        Ok(match row.get_ref(i)? {
                            ValueRef::Null => Value::Text(None),
                            ValueRef::Integer(v) => Value::Int(Some(v)),
                            ValueRef::Real(v) => Value::Real(Some(v)),
                            ValueRef::Text(t) | ValueRef::Blob(t) => {
                                Value::Text(Some(String::from_utf8_lossy(t).into_owned()))
                            }
                        })
                    })
                    .collect::<rusqlite::Result<Vec<Value>>>()
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }
}
