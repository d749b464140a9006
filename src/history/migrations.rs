//! Numbered SQL migrations, applied in order and recorded in
//! `schema_migrations (version, name, applied_at)`. Never edit a released
//! migration: add the next number.

/// `(version, name, SQL)`, ascending. The SQL runs unchanged on SQLite and PostgreSQL.
pub const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "init", include_str!("migrations/0001_init.sql"))];

/// Creates the bookkeeping table; the same on both databases.
pub const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

/// The newest version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}
