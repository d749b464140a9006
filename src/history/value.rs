//! One bind parameter type for both databases, so every statement and its
//! parameters are written once.

use bytes::BytesMut;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql as PgToSql, Type};

/// Yields the next batch of one statement's parameter lists; an empty
/// batch means there are no more.
pub type NextBatch<'a> = dyn FnMut() -> Result<Vec<Vec<Value>>, super::HistoryError> + Send + 'a;

/// A nullable SQL value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_string()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(Some(v.min(i64::MAX as u64) as i64))
    }
}
impl From<Option<u64>> for Value {
    fn from(v: Option<u64>) -> Self {
        Value::Int(v.map(|v| v.min(i64::MAX as u64) as i64))
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}
impl From<Option<f64>> for Value {
    fn from(v: Option<f64>) -> Self {
        Value::Real(v.filter(|x| x.is_finite()))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(Some(v))
    }
}
impl From<Option<bool>> for Value {
    fn from(v: Option<bool>) -> Self {
        Value::Bool(v)
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Value::Text(v) => rusqlite::ToSql::to_sql(v),
            Value::Int(v) => rusqlite::ToSql::to_sql(v),
            Value::Real(v) => rusqlite::ToSql::to_sql(v),
            Value::Bool(v) => rusqlite::ToSql::to_sql(v),
        }
    }
}

impl PgToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Text(v) => PgToSql::to_sql(v, ty, out),
            Value::Int(v) => PgToSql::to_sql(v, ty, out),
            Value::Real(v) => PgToSql::to_sql(v, ty, out),
            Value::Bool(v) => PgToSql::to_sql(v, ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <String as PgToSql>::accepts(ty)
            || <i64 as PgToSql>::accepts(ty)
            || <f64 as PgToSql>::accepts(ty)
            || <bool as PgToSql>::accepts(ty)
    }

    to_sql_checked!();
}
