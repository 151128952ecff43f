//! The MySQL 8 and MariaDB 10.6+ driver: DATETIME(6) in UTC for
//! timestamps, BINARY(16) for UUIDs, binary no-pad collation for text so
//! comparisons are exact, decimals as their sort key
//! ([`uow_core::backend::decimal_sort_key`]) since `DECIMAL(p, s)` drops a
//! value's scale; each connection's session set to the isolation level and
//! timeouts when it opens (or, on a pool made elsewhere, with each `BEGIN`).

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::mysql::{
    MySqlConnectOptions, MySqlConnection, MySqlDatabaseError, MySqlPoolOptions, MySqlRow,
    MySqlValueRef,
};
use sqlx::types::chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use sqlx::types::{Decimal, JsonRawValue};
use sqlx::{Executor, MySql, Row, ValueRef};
use uow_core::{
    ValueError, ValueErrorKind,
    backend::{AggregateMeta, ColumnKind, Value, decimal_from_sort_key},
};

use super::MySqlSql;
use crate::driver::chrono_values as cv;
use crate::driver::{Driver, Failure, StalePlans, Stmt, decimal_key, decode_raw};
use crate::existing::{ExistingColumn, ExistingIndex, ExistingTable};
use crate::options::{Isolation, StoreOptions};

/// The MySQL/MariaDB driver.
pub(crate) struct MySqlDriver;

impl Driver for MySqlDriver {
    type Db = MySql;
    type Sql = MySqlSql;
    const SCHEMES: &'static [&'static str] = &["mysql", "mariadb"];
    const MAX_PARAMETERS: usize = 65_535;

    fn connect(
        url: &str,
        options: &StoreOptions,
        _stale_plans: Arc<StalePlans>,
    ) -> impl Future<Output = Result<sqlx::MySqlPool, sqlx::Error>> + Send {
        connect(url, options)
    }

    /// From `begin` at REPEATABLE READ and SERIALIZABLE, and on a pool made
    /// elsewhere with a lock timeout, which only the `BEGIN` sets (a commit
    /// of one statement sends none).
    fn transaction_from_begin(options: &StoreOptions, set_up: bool) -> bool {
        options.isolation != crate::Isolation::ReadCommitted
            || (!set_up && options.lock_timeout.is_some())
    }

    /// MariaDB (its `VERSION()` says so) folds the commit marker into an
    /// update with a compound statement; MySQL does not.
    async fn folds_markers(conn: &mut sqlx::MySqlConnection) -> Result<bool, sqlx::Error> {
        let version: String = sqlx::query_scalar("SELECT VERSION()")
            .fetch_one(conn)
            .await?;
        Ok(version.contains("MariaDB"))
    }

    /// On connections `connect` opened, their sessions are set up already:
    /// sqlx's `BEGIN`. On a pool made elsewhere: the isolation level of the
    /// next transaction and the session's lock timeout, then `BEGIN`, in one
    /// round trip.
    /// A read-only unit of work: `START TRANSACTION READ ONLY`.
    fn begin_statement(options: &StoreOptions, set_up: bool, read_only: bool) -> Option<String> {
        let start = if read_only {
            "START TRANSACTION READ ONLY"
        } else {
            "BEGIN"
        };
        if set_up {
            return read_only.then(|| start.to_owned());
        }
        let mut begin = format!(
            "SET TRANSACTION ISOLATION LEVEL {}; ",
            options.isolation.sql()
        );
        if let Some(t) = options.lock_timeout {
            begin.push_str(&lock_timeout(t));
            begin.push_str("; ");
        }
        begin.push_str(start);
        Some(begin)
    }

    fn table(
        pool: &sqlx::MySqlPool,
        table: &str,
    ) -> impl Future<Output = Result<ExistingTable, sqlx::Error>> + Send {
        read_table(pool, table)
    }

    /// MySQL has no `CREATE INDEX IF NOT EXISTS`: an index that exists
    /// already (ER_DUP_KEYNAME) is fine.
    fn exists_already(error: &sqlx::Error) -> bool {
        matches!(error, sqlx::Error::Database(db)
            if db.code().as_deref() == Some("42000")
                && db.message().contains("Duplicate key name"))
    }

    fn rows_affected(result: &<Self::Db as sqlx::Database>::QueryResult) -> u64 {
        result.rows_affected()
    }

    fn bind(stmt: Stmt<Self>, value: Value, kind: ColumnKind) -> Result<Stmt<Self>, ValueError> {
        Ok(match value {
            Value::Null => stmt.bind(None::<i64>),
            Value::Bool(v) => stmt.bind(v),
            Value::Int(v) => stmt.bind(v),
            Value::Float(v) if kind == ColumnKind::Real => stmt.bind(v as f32),
            Value::Float(v) => stmt.bind(v),
            Value::Text(v) | Value::Json(v) => stmt.bind(v),
            // DECIMAL(P, S) takes the decimal's text exactly.
            Value::Decimal(v) if matches!(kind, ColumnKind::FixedDecimal { .. }) => stmt.bind(v),
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
        })
    }

    fn get(row: &MySqlRow, index: usize, kind: ColumnKind) -> Result<Value, ValueError> {
        // The raw value is taken once: to tell NULL apart, then decoded.
        let raw = row.try_get_raw(index).map_err(driver)?;
        if raw.is_null() {
            return Ok(Value::Null);
        }
        Ok(match kind {
            ColumnKind::Bool => Value::Bool(read(raw, index)?),
            ColumnKind::SmallInt => Value::Int(read::<i16>(raw, index)?.into()),
            ColumnKind::Int => Value::Int(read::<i32>(raw, index)?.into()),
            ColumnKind::BigInt => Value::Int(read(raw, index)?),
            ColumnKind::Real => Value::Float(read::<f32>(raw, index)?.into()),
            ColumnKind::Double => Value::Float(read(raw, index)?),
            ColumnKind::Bytes => Value::Bytes(read(raw, index)?),
            ColumnKind::Json => {
                let json: Box<JsonRawValue> = read(raw, index)?;
                Value::Json(json.get().to_owned())
            }
            ColumnKind::Uuid => {
                let bytes: Vec<u8> = read(raw, index)?;
                Value::Uuid(bytes.try_into().map_err(|b: Vec<u8>| {
                    ValueError::new(format!("a UUID has 16 bytes, the column holds {}", b.len()))
                })?)
            }
            ColumnKind::TimestampTz | ColumnKind::Timestamp => Value::Timestamp(
                read::<NaiveDateTime>(raw, index)?
                    .and_utc()
                    .timestamp_micros(),
            ),
            ColumnKind::Date => Value::Date(cv::days(read::<NaiveDate>(raw, index)?)?),
            ColumnKind::Time => Value::Time(cv::micros_of_day(read::<NaiveTime>(raw, index)?)),
            ColumnKind::FixedDecimal { .. } => {
                Value::Decimal(read::<Decimal>(raw, index)?.to_string())
            }
            ColumnKind::Decimal => {
                let key: String = read(raw, index)?;
                Value::Decimal(decimal_from_sort_key(&key).ok_or_else(|| {
                    ValueError::new(format!("`{key}` is not a decimal in the stored format"))
                })?)
            }
            ColumnKind::Text => Value::Text(read(raw, index)?),
        })
    }

    async fn execute(conn: &mut MySqlConnection, stmt: Stmt<Self>) -> Result<u64, sqlx::Error> {
        match conn.execute(stmt).await {
            Ok(done) => Ok(done.rows_affected()),
            Err(sqlx::Error::Database(db)) => Err(with_key_columns(conn, db).await),
            Err(e) => Err(e),
        }
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
        // A key named in a migration: the columns of its index, looked up
        // when the statement failed (see `with_key_columns`).
        if let sqlx::Error::Database(db) = error
            && let Some(looked_up) = db.try_downcast_ref::<KeyColumns>()
            && let Some(column) = looked_up
                .columns
                .iter()
                .find_map(|c| meta.column_index(c).map(|i| meta.columns[i].name))
        {
            return Some(column.to_owned());
        }
        let column = match duplicate_key(mysql_error(error)?) {
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
        sqlx::Error::Database(db) => db.try_downcast_ref::<MySqlDatabaseError>().or_else(|| {
            db.try_downcast_ref::<KeyColumns>()
                .and_then(|k| k.error.try_downcast_ref::<MySqlDatabaseError>())
        }),
        _ => None,
    }
}

/// The key ER_DUP_ENTRY names: "Duplicate entry '…' for key
/// 'accounts.email'" (MySQL 8) or "… for key 'email'" (MariaDB);
/// `PRIMARY` for the primary key.
fn duplicate_key(error: &MySqlDatabaseError) -> Option<&str> {
    error
        .message()
        .rsplit_once("for key '")
        .map(|(_, key)| key.trim_end_matches('\''))
        .map(|key| key.rsplit_once('.').map_or(key, |(_, k)| k))
}

/// A duplicate-key error with the columns of the unique index it names: a
/// key is named after its column when uow creates the table, but a
/// migration may name it anything (`uq_payments_idempotency_key`), and the
/// error names only the key.
#[derive(Debug)]
struct KeyColumns {
    error: Box<dyn DatabaseError>,
    /// The first column of each index of that name in the database.
    columns: Vec<String>,
}

impl std::fmt::Display for KeyColumns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for KeyColumns {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.error.as_error())
    }
}

impl DatabaseError for KeyColumns {
    fn message(&self) -> &str {
        self.error.message()
    }
    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.error.code()
    }
    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }
    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }
    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }
    fn constraint(&self) -> Option<&str> {
        self.error
            .try_downcast_ref::<MySqlDatabaseError>()
            .and_then(duplicate_key)
    }
    fn kind(&self) -> ErrorKind {
        self.error.kind()
    }
}

/// A duplicate on a key other than the primary key: the error, with the
/// columns of the index it names looked up (the transaction is still open;
/// MySQL rolled back the statement only). Any other error as it is.
async fn with_key_columns(conn: &mut MySqlConnection, db: Box<dyn DatabaseError>) -> sqlx::Error {
    let key = match db.try_downcast_ref::<MySqlDatabaseError>() {
        Some(e) if e.number() == 1062 => duplicate_key(e).map(str::to_owned),
        _ => None,
    };
    let Some(key) = key.filter(|k| k != "PRIMARY") else {
        return sqlx::Error::Database(db);
    };
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(column_name AS CHAR) FROM information_schema.statistics \
         WHERE table_schema = DATABASE() AND index_name = ? AND seq_in_index = 1",
    )
    .bind(key)
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    sqlx::Error::Database(Box::new(KeyColumns { error: db, columns }))
}

/// Decodes the raw value of column `index` (see [`decode_raw`]).
fn read<'r, T: sqlx::Decode<'r, MySql> + sqlx::Type<MySql>>(
    raw: MySqlValueRef<'r>,
    index: usize,
) -> Result<T, ValueError> {
    decode_raw::<MySql, T>(raw, index).map_err(driver)
}

fn driver(e: sqlx::Error) -> ValueError {
    ValueError::with_kind(ValueErrorKind::Driver, "the driver cannot read the value").caused_by(e)
}

/// Reads the columns and indexes of `table` in the current database on
/// MySQL/MariaDB.
async fn read_table(pool: &sqlx::MySqlPool, table: &str) -> Result<ExistingTable, sqlx::Error> {
    type Row = (
        String,
        String,
        String,
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT CAST(column_name AS CHAR), CAST(data_type AS CHAR), CAST(is_nullable AS CHAR), \
                CAST(column_default IS NOT NULL OR extra LIKE '%auto_increment%' \
                     OR extra LIKE '%GENERATED%' AS SIGNED), \
                CAST(character_maximum_length AS SIGNED), CAST(numeric_precision AS SIGNED), \
                CAST(numeric_scale AS SIGNED), CAST(collation_name AS CHAR) \
         FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = ? \
         ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    let columns = rows
        .into_iter()
        .map(
            |(name, ty, nullable, has_default, length, precision, scale, collation)| ExistingColumn {
                name,
                ty: ty.to_lowercase(),
                nullable: nullable.eq_ignore_ascii_case("yes"),
                has_default: has_default != 0,
                length,
                precision,
                scale,
                comparison: collation.filter(|c| !mysql_collation_is_exact(c)).map(|c| {
                    format!(
                        "its collation {c} does not compare byte by byte without padding (use utf8mb4_nopad_bin)"
                    )
                }),
            },
        )
        .collect();
    let parts: Vec<(String, i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT CAST(index_name AS CHAR), CAST(non_unique AS SIGNED), CAST(column_name AS CHAR), \
                CAST(sub_part AS SIGNED) \
         FROM information_schema.statistics \
         WHERE table_schema = DATABASE() AND table_name = ? \
         ORDER BY index_name, seq_in_index",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    let mut indexes: Vec<ExistingIndex> = Vec::new();
    for (name, non_unique, column, sub_part) in parts {
        if indexes.last().is_none_or(|i| i.name != name) {
            indexes.push(ExistingIndex {
                primary: name == "PRIMARY",
                name,
                unique: non_unique == 0,
                ..ExistingIndex::default()
            });
        }
        if let Some(index) = indexes.last_mut() {
            index.columns.push(column);
            index.partial |= sub_part.is_some();
        }
    }
    Ok(ExistingTable { columns, indexes })
}

/// Whether a MySQL/MariaDB collation compares byte by byte without padding:
/// MariaDB's `*_nopad_bin`, MySQL 8's `utf8mb4_0900_bin`, `binary`.
fn mysql_collation_is_exact(collation: &str) -> bool {
    let c = collation.to_ascii_lowercase();
    c.ends_with("_nopad_bin") || c == "utf8mb4_0900_bin" || c == "binary"
}

/// The pool of `connect_with` for a `mysql:` (`mariadb:`) URL: each
/// connection set to the isolation level and timeouts when it opens.
async fn connect(url: &str, options: &StoreOptions) -> Result<sqlx::MySqlPool, sqlx::Error> {
    let url = url.replacen("mariadb:", "mysql:", 1);
    let connect = MySqlConnectOptions::from_str(&url)?;
    let isolation = session_isolation(options.isolation);
    let lock_timeout = options.lock_timeout.map(lock_timeout);
    let statement_timeout = options.statement_timeout;
    MySqlPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            let lock_timeout = lock_timeout.clone();
            Box::pin(async move {
                conn.execute(isolation).await?;
                if let Some(sql) = lock_timeout {
                    conn.execute(sqlx::AssertSqlSafe(sql)).await?;
                }
                if let Some(t) = statement_timeout {
                    set_mysql_statement_timeout(conn, t).await?;
                }
                Ok(())
            })
        })
        .connect_with(connect)
        .await
}

/// The statement that sets a session's isolation level.
fn session_isolation(isolation: Isolation) -> &'static str {
    match isolation {
        Isolation::ReadCommitted => "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        Isolation::RepeatableRead => "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        Isolation::Serializable => "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
    }
}

/// MySQL's lock timeout: whole seconds, at least one.
fn lock_timeout(timeout: Duration) -> String {
    format!(
        "SET SESSION innodb_lock_wait_timeout = {}",
        timeout.as_secs_f64().ceil().max(1.0) as u64
    )
}

/// Sets the statement timeout of a MySQL/MariaDB session: MariaDB's
/// `max_statement_time` (seconds, any statement), else MySQL's
/// `max_execution_time` (milliseconds, reads only).
async fn set_mysql_statement_timeout(
    conn: &mut MySqlConnection,
    timeout: Duration,
) -> Result<(), sqlx::Error> {
    let mariadb = format!("SET SESSION max_statement_time = {}", timeout.as_secs_f64());
    if conn.execute(sqlx::AssertSqlSafe(mariadb)).await.is_ok() {
        return Ok(());
    }
    let mysql = format!(
        "SET SESSION max_execution_time = {}",
        timeout.as_millis().max(1)
    );
    conn.execute(sqlx::AssertSqlSafe(mysql)).await.map(drop)
}
