//! MySQL 8 and MariaDB 10.6+: DATETIME(6) in UTC for timestamps, BINARY(16)
//! for UUIDs, binary collation for text so comparisons are exact.

use sqlx::mysql::{MySqlConnection, MySqlDatabaseError, MySqlRow};
use sqlx::types::chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use sqlx::types::{Decimal, JsonRawValue};
use sqlx::{Executor, MySql, Row, ValueRef};
use uow_core::{AggregateMeta, ColumnKind, Value, ValueError};

use super::chrono_values as cv;
use super::{Driver, Failure, Stmt};
use crate::dialect::Dialect;

/// The MySQL/MariaDB driver.
pub(crate) struct MySqlDriver;

impl Driver for MySqlDriver {
    type Db = MySql;
    const DIALECT: Dialect = Dialect::MySql;
    const MAX_PARAMETERS: usize = 65_535;

    fn query_with_capacity(sql: sqlx::SqlStr, parameters: usize) -> Stmt<Self> {
        let mut arguments = sqlx::mysql::MySqlArguments::default();
        sqlx::Arguments::reserve(&mut arguments, parameters, parameters * 16);
        sqlx::query_with(sql, arguments)
    }

    fn bind(stmt: Stmt<Self>, value: Value, kind: ColumnKind) -> Stmt<Self> {
        match value {
            Value::Null => stmt.bind(None::<i64>),
            Value::Bool(v) => stmt.bind(v),
            Value::Int(v) => stmt.bind(v),
            Value::Float(v) if kind == ColumnKind::Real => stmt.bind(v as f32),
            Value::Float(v) => stmt.bind(v),
            Value::Text(v) | Value::Json(v) | Value::Decimal(v) => stmt.bind(v),
            Value::Bytes(v) => stmt.bind(v),
            Value::Uuid(v) => stmt.bind(v.to_vec()),
            Value::Timestamp(v) => match cv::timestamp(v) {
                Some(t) => stmt.bind(t),
                None => stmt.bind(v),
            },
            Value::Date(v) => match cv::date(v) {
                Some(d) => stmt.bind(d),
                None => stmt.bind(v),
            },
            Value::Time(v) => match cv::time(v) {
                Some(t) => stmt.bind(t),
                None => stmt.bind(v),
            },
            other => stmt.bind(other.to_string()),
        }
    }

    fn get(row: &MySqlRow, index: usize, kind: ColumnKind) -> Result<Value, ValueError> {
        let raw = row.try_get_raw(index).map_err(driver)?;
        if raw.is_null() {
            return Ok(Value::Null);
        }
        let e = driver;
        Ok(match kind {
            ColumnKind::Bool => Value::Bool(row.try_get(index).map_err(e)?),
            ColumnKind::SmallInt => Value::Int(row.try_get::<i16, _>(index).map_err(e)?.into()),
            ColumnKind::Int => Value::Int(row.try_get::<i32, _>(index).map_err(e)?.into()),
            ColumnKind::BigInt => Value::Int(row.try_get(index).map_err(e)?),
            ColumnKind::Real => Value::Float(row.try_get::<f32, _>(index).map_err(e)?.into()),
            ColumnKind::Double => Value::Float(row.try_get(index).map_err(e)?),
            ColumnKind::Bytes => Value::Bytes(row.try_get(index).map_err(e)?),
            ColumnKind::Json => {
                let raw: Box<JsonRawValue> = row.try_get(index).map_err(e)?;
                Value::Json(raw.get().to_owned())
            }
            ColumnKind::Uuid => {
                let bytes: Vec<u8> = row.try_get(index).map_err(e)?;
                Value::Uuid(bytes.try_into().map_err(|b: Vec<u8>| {
                    ValueError::new(format!("a UUID has 16 bytes, the column holds {}", b.len()))
                })?)
            }
            ColumnKind::TimestampTz | ColumnKind::Timestamp => Value::Timestamp(
                row.try_get::<NaiveDateTime, _>(index)
                    .map_err(e)?
                    .and_utc()
                    .timestamp_micros(),
            ),
            ColumnKind::Date => {
                Value::Date(cv::days(row.try_get::<NaiveDate, _>(index).map_err(e)?)?)
            }
            ColumnKind::Time => Value::Time(cv::micros_of_day(
                row.try_get::<NaiveTime, _>(index).map_err(e)?,
            )),
            ColumnKind::Decimal => Value::Decimal(
                row.try_get::<Decimal, _>(index)
                    .map_err(e)?
                    .normalize()
                    .to_string(),
            ),
            _ => Value::Text(row.try_get(index).map_err(e)?),
        })
    }

    async fn execute(conn: &mut MySqlConnection, stmt: Stmt<Self>) -> Result<u64, sqlx::Error> {
        Ok(conn.execute(stmt).await?.rows_affected())
    }

    async fn fetch_all(
        conn: &mut MySqlConnection,
        stmt: Stmt<Self>,
    ) -> Result<Vec<MySqlRow>, sqlx::Error> {
        conn.fetch_all(stmt).await
    }

    async fn fetch_optional(
        conn: &mut MySqlConnection,
        stmt: Stmt<Self>,
    ) -> Result<Option<MySqlRow>, sqlx::Error> {
        conn.fetch_optional(stmt).await
    }

    fn classify(error: &sqlx::Error) -> Failure {
        match mysql_error(error).map(MySqlDatabaseError::number) {
            Some(1062) => Failure::Unique,
            // Deadlock, MariaDB's "record has changed".
            Some(1213 | 1020) => Failure::Contention,
            Some(1205) => Failure::LockTimeout,
            // MariaDB's max_statement_time, MySQL's max_execution_time.
            Some(1969 | 3024) => Failure::StatementTimeout,
            // Connection killed (MariaDB), server shutdown, server gone, lost.
            Some(1927 | 1053 | 2006 | 2013) => Failure::Connection,
            _ => Failure::Other,
        }
    }

    fn unique_column(error: &sqlx::Error, meta: &AggregateMeta) -> Option<String> {
        // ER_DUP_ENTRY: "Duplicate entry '…' for key 'accounts.email'"
        // (MySQL 8) or "… for key 'email'" (MariaDB); 'PRIMARY' for the id.
        let key = mysql_error(error)?
            .message()
            .rsplit_once("for key '")
            .map(|(_, key)| key.trim_end_matches('\''))
            .map(|key| key.rsplit_once('.').map_or(key, |(_, k)| k));
        let column = match key {
            Some("PRIMARY") | None => meta.id_column().name,
            Some(key) => meta
                .column_index(key)
                .map_or(meta.id_column().name, |i| meta.columns[i].name),
        };
        Some(column.to_owned())
    }
}

fn mysql_error(error: &sqlx::Error) -> Option<&MySqlDatabaseError> {
    match error {
        sqlx::Error::Database(db) => db.try_downcast_ref::<MySqlDatabaseError>(),
        _ => None,
    }
}

fn driver(e: sqlx::Error) -> ValueError {
    ValueError::new(e.to_string())
}
