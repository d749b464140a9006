//! The PostgreSQL backend (tokio-postgres, no TLS: use it on a private
//! network or through a local proxy).

use futures::future::try_join_all;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls};

use super::migrations::{self, MIGRATIONS};
use super::value::{NextBatch, Value};
use super::HistoryError;

/// Any fixed number: the advisory lock that serialises migrations.
const MIGRATION_LOCK: i64 = 0x6576_616c_6761_7465;

/// A connected PostgreSQL history.
pub struct Postgres {
    client: Client,
    url: String,
    _conn: tokio::task::JoinHandle<()>,
}

impl Postgres {
    /// Connect and migrate.
    pub async fn connect(url: &str, display: String) -> Result<Postgres, HistoryError> {
        let err = |source| HistoryError::Postgres {
            url: display.clone(),
            source,
        };
        let (client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(err)?;
        let conn = tokio::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("warning: history database connection closed: {e}");
            }
        });
        let mut db = Postgres {
            client,
            url: display,
            _conn: conn,
        };
        db.migrate().await?;
        Ok(db)
    }

    fn err(&self, source: tokio_postgres::Error) -> HistoryError {
        HistoryError::Postgres {
            url: self.url.clone(),
            source,
        }
    }

    async fn migrate(&mut self) -> Result<(), HistoryError> {
        let url = self.url.clone();
        let err = |source| HistoryError::Postgres {
            url: url.clone(),
            source,
        };
        let tx = self.client.transaction().await.map_err(err)?;
        // Two CI jobs starting at once: the second waits, then sees the tables.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(err)?;
        tx.batch_execute(migrations::CREATE_TABLE)
            .await
            .map_err(err)?;
        let current: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await
            .map_err(err)?
            .get(0);
        if current > migrations::latest() {
            return Err(HistoryError::TooNew {
                location: url.clone(),
                found: current,
                known: migrations::latest(),
            });
        }
        for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            tx.batch_execute(sql).await.map_err(err)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[version, name, &chrono::Utc::now().to_rfc3339()],
            )
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }

    /// Write one run in one transaction: the `head` statements, then
    /// `batch_sql` once per parameter list of every batch `next_batch`
    /// yields (an empty batch ends it) through one prepared statement, each
    /// batch pipelined. An error anywhere rolls the whole run back.
    pub async fn write_run(
        &mut self,
        head: &[(&str, Vec<Value>)],
        batch_sql: &str,
        next_batch: &mut NextBatch<'_>,
    ) -> Result<(), HistoryError> {
        let url = self.url.clone();
        let err = |source| HistoryError::Postgres {
            url: url.clone(),
            source,
        };
        let tx = self.client.transaction().await.map_err(err)?;
        for (sql, params) in head {
            tx.execute(*sql, &refs(params)).await.map_err(err)?;
        }
        let stmt = tx.prepare(batch_sql).await.map_err(err)?;
        loop {
            let batch = next_batch()?;
            if batch.is_empty() {
                break;
            }
            let params: Vec<Vec<&(dyn ToSql + Sync)>> = batch.iter().map(|p| refs(p)).collect();
            // Sent together, answered in order: one round trip per batch.
            try_join_all(params.iter().map(|p| tx.execute(&stmt, p)))
                .await
                .map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }

    /// `VACUUM` the history's tables (outside a transaction), so the space
    /// of deleted rows is reused.
    pub async fn vacuum(&mut self) -> Result<(), HistoryError> {
        // One statement per call: several in one would be one implicit
        // transaction, where VACUUM is refused.
        for table in ["requests", "model_summaries", "runs"] {
            self.client
                .batch_execute(&format!("VACUUM {table}"))
                .await
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// The database's size in bytes.
    pub async fn size(&self) -> Result<u64, HistoryError> {
        let row = self
            .client
            .query_one("SELECT pg_database_size(current_database())", &[])
            .await
            .map_err(|e| self.err(e))?;
        Ok(row.get::<_, i64>(0).max(0) as u64)
    }

    /// Rows of a query, each column as a [`Value`].
    pub async fn query(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<Vec<Value>>, HistoryError> {
        let rows = self
            .client
            .query(sql, &refs(params))
            .await
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut cells = Vec::with_capacity(row.len());
            for (i, col) in row.columns().iter().enumerate() {
                let ty = col.type_();
                let cell = if *ty == Type::INT8 {
                    Value::Int(row.try_get(i).map_err(|e| self.err(e))?)
                } else if *ty == Type::INT4 {
                    let v: Option<i32> = row.try_get(i).map_err(|e| self.err(e))?;
                    Value::Int(v.map(i64::from))
                } else if *ty == Type::FLOAT8 {
                    Value::Real(row.try_get(i).map_err(|e| self.err(e))?)
                } else if *ty == Type::BOOL {
                    Value::Bool(row.try_get(i).map_err(|e| self.err(e))?)
                } else {
                    Value::Text(row.try_get(i).map_err(|e| self.err(e))?)
                };
                cells.push(cell);
            }
            out.push(cells);
        }
        Ok(out)
    }
}

/// Bind parameters as tokio-postgres takes them.
fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}
