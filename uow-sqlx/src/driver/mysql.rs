//! MySQL 8 and MariaDB 10.6+: DATETIME(6) in UTC for timestamps, BINARY(16)
//! for UUIDs, binary no-pad collation for text so comparisons are exact,
//! decimals as their sort key ([`uow_core::decimal_sort_key`]) since
//! `DECIMAL(p, s)` drops a value's scale.

use sqlx::mysql::{MySqlConnection, MySqlDatabaseError, MySqlRow};
use sqlx::types::JsonRawValue;
use sqlx::types::chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use sqlx::{Executor, MySql, Row, ValueRef};
use uow_core::{AggregateMeta, ColumnKind, Value, ValueError, decimal_from_sort_key};

use super::chrono_values as cv;
use super::sqlite::decimal_key;
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

    fn bind(stmt: Stmt<Self>, value: Value, kind: ColumnKind) -> Result<Stmt<Self>, ValueError> {
        Ok(match value {
            Value::Null => stmt.bind(None::<i64>),
            Value::Bool(v) => stmt.bind(v),
            Value::Int(v) => stmt.bind(v),
            Value::Float(v) if kind == ColumnKind::Real => stmt.bind(v as f32),
            Value::Float(v) => stmt.bind(v),
            Value::Text(v) | Value::Json(v) => stmt.bind(v),
            Value::Decimal(v) => stmt.bind(decimal_key(&v)?),
            Value::Bytes(v) => stmt.bind(v),
            Value::Uuid(v) => stmt.bind(v.to_vec()),
            Value::Timestamp(v) => stmt.bind(
                cv::timestamp(v)
                    .ok_or_else(|| ValueError::new(format!("timestamp {v}µs is out of range")))?,
            ),
            Value::Date(v) => stmt.bind(
                cv::date(v).ok_or_else(|| ValueError::new(format!("day {v} is out of range")))?,
            ),
            Value::Time(v) => stmt.bind(
                cv::time(v)
                    .ok_or_else(|| ValueError::new(format!("time {v}µs is out of range")))?,
            ),
            other => {
                return Err(ValueError::new(format!(
                    "no MySQL binding for {}",
                    other.kind_name()
                )));
            }
        })
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
            ColumnKind::Decimal => {
                let key: String = row.try_get(index).map_err(e)?;
                Value::Decimal(decimal_from_sort_key(&key).ok_or_else(|| {
                    ValueError::new(format!("`{key}` is not a decimal in the stored format"))
                })?)
            }
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
            // Deadlock, lock wait timeout, MariaDB's "record has changed".
            Some(1213 | 1205 | 1020) => Failure::Contention,
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
