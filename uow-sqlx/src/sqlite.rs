//! SQLite: binding [`Value`]s and decoding rows, the transaction pattern, and
//! error classification.
//!
//! **Transactions.** A unit of work holds one pooled connection for its life.
//! Its reads run on that connection in autocommit mode, each seeing the latest
//! committed state, exactly like the in-memory store; its writes all run at
//! commit inside one `BEGIN IMMEDIATE` transaction. SQLite allows one writer at
//! a time, so taking the write lock up front avoids the `SQLITE_BUSY` that a
//! read transaction upgrading to a write one would get, and leaves lost-update
//! protection to the version check in every `UPDATE` and `DELETE`.

use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow};
use sqlx::{Connection, Row, Sqlite, ValueRef};
use uow_core::{
    Aggregate, AggregateMeta, BackendError, ChangeSet, ColumnKind, Error, Query, RowSource, Value,
    ValueError, decode_row, format_uuid, parse_uuid,
};

use crate::sql::TableSql;
use crate::statements::Statements;
use crate::temporal;

type SqliteQuery = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

/// Binds one value as the next parameter.
fn bind(query: SqliteQuery, value: Value) -> SqliteQuery {
    match value {
        Value::Null => query.bind(None::<i64>),
        Value::Bool(v) => query.bind(v),
        Value::Int(v) => query.bind(v),
        Value::Float(v) => query.bind(v),
        Value::Text(v) | Value::Json(v) | Value::Decimal(v) => query.bind(v),
        Value::Bytes(v) => query.bind(v),
        Value::Uuid(v) => query.bind(format_uuid(&v)),
        Value::Timestamp(v) => query.bind(temporal::format_timestamp(v)),
        Value::Date(v) => query.bind(temporal::format_date(v)),
        Value::Time(v) => query.bind(temporal::format_time(v)),
        other => query.bind(other.to_string()),
    }
}

/// A row read from SQLite, decoded column by column into [`Value`]s of the
/// kinds the aggregate's metadata expects.
struct SqliteRowSource<'a> {
    row: &'a SqliteRow,
    meta: &'static AggregateMeta,
}

impl RowSource for SqliteRowSource<'_> {
    fn get(&self, index: usize) -> Result<Value, ValueError> {
        let column = self
            .meta
            .columns
            .get(index)
            .ok_or_else(|| ValueError::new(format!("no column {index}")))?;
        let raw = self.row.try_get_raw(index).map_err(driver)?;
        if raw.is_null() {
            return Ok(Value::Null);
        }
        let text = || self.row.try_get::<String, _>(index).map_err(driver);
        Ok(match column.kind {
            ColumnKind::Bool => Value::Bool(self.row.try_get(index).map_err(driver)?),
            ColumnKind::SmallInt | ColumnKind::Int | ColumnKind::BigInt => {
                Value::Int(self.row.try_get(index).map_err(driver)?)
            }
            ColumnKind::Real | ColumnKind::Double => {
                Value::Float(self.row.try_get(index).map_err(driver)?)
            }
            ColumnKind::Bytes => Value::Bytes(self.row.try_get(index).map_err(driver)?),
            ColumnKind::Json => Value::Json(text()?),
            ColumnKind::Decimal => Value::Decimal(text()?),
            ColumnKind::Uuid => {
                let t = text()?;
                Value::Uuid(parse_uuid(&t).ok_or_else(|| malformed("UUID", &t))?)
            }
            ColumnKind::TimestampTz | ColumnKind::Timestamp => {
                let t = text()?;
                Value::Timestamp(
                    temporal::parse_timestamp(&t).ok_or_else(|| malformed("timestamp", &t))?,
                )
            }
            ColumnKind::Date => {
                let t = text()?;
                Value::Date(temporal::parse_date(&t).ok_or_else(|| malformed("date", &t))?)
            }
            ColumnKind::Time => {
                let t = text()?;
                Value::Time(temporal::parse_time(&t).ok_or_else(|| malformed("time", &t))?)
            }
            _ => Value::Text(text()?),
        })
    }
}

fn driver(e: sqlx::Error) -> ValueError {
    ValueError::new(e.to_string())
}

fn malformed(what: &str, text: &str) -> ValueError {
    ValueError::new(format!("`{text}` is not a {what} in the stored format"))
}

/// Loads the aggregates matching `query` on `conn`.
pub(crate) async fn fetch<A: Aggregate>(
    conn: &mut SqliteConnection,
    sql: &TableSql,
    query: Query,
) -> Result<Vec<A>, Error> {
    let statement = match query {
        Query::Id(id) => bind(sqlx::query(sql.select_by_id.clone()), id),
        Query::Column {
            column,
            value: Value::Null,
        } => sqlx::query(sql.select_by_null[column].clone()),
        Query::Column { column, value } => {
            bind(sqlx::query(sql.select_by_column[column].clone()), value)
        }
        Query::All { limit } => {
            sqlx::query(sql.select_all.clone()).bind(i64::try_from(limit).unwrap_or(i64::MAX))
        }
    };
    let meta = A::META;
    let rows = statement
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| backend(&format!("load from {}", meta.table), e))?;
    rows.iter()
        .map(|row| decode_row::<A, _>(&SqliteRowSource { row, meta }))
        .collect()
}

/// Applies `changes` in one `BEGIN IMMEDIATE` transaction; on any failure the
/// transaction is rolled back (also if this future is dropped mid-way).
pub(crate) async fn commit(
    conn: &mut SqliteConnection,
    statements: &Statements,
    changes: ChangeSet,
) -> Result<(), Error> {
    let mut tx = conn
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(|e| backend("begin the commit transaction", e))?;
    for table in changes.into_tables() {
        let meta = table.meta;
        let sql = statements.get(meta);
        for delete in table.deletes {
            let id = delete.id.to_string();
            let statement = sqlx::query(sql.delete.clone());
            let statement = bind(statement, delete.id).bind(version(delete.expected));
            let done = statement
                .execute(&mut *tx)
                .await
                .map_err(|e| write_error(meta, &id, "delete", e))?;
            if done.rows_affected() == 0 {
                return Err(conflict(meta, id, delete.expected));
            }
        }
        for update in table.updates {
            let mut row = update.row;
            let id_value = std::mem::replace(&mut row[meta.id], Value::Null);
            let id = id_value.to_string();
            let mut statement = sqlx::query(sql.update.clone());
            for (i, value) in row.into_iter().enumerate() {
                if i != meta.id {
                    statement = bind(statement, value);
                }
            }
            let statement = bind(statement, id_value).bind(version(update.expected));
            let done = statement
                .execute(&mut *tx)
                .await
                .map_err(|e| write_error(meta, &id, "update", e))?;
            if done.rows_affected() == 0 {
                return Err(conflict(meta, id, update.expected));
            }
        }
        for row in table.inserts {
            let id = row[meta.id].to_string();
            let statement = row.into_iter().fold(sqlx::query(sql.insert.clone()), bind);
            statement
                .execute(&mut *tx)
                .await
                .map_err(|e| write_error(meta, &id, "insert", e))?;
        }
    }
    tx.commit().await.map_err(|e| backend("commit", e))
}

fn version(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn conflict(meta: &AggregateMeta, id: String, expected: u64) -> Error {
    Error::Conflict {
        aggregate: meta.name,
        id,
        expected,
    }
}

/// A unique violation on insert or update is a duplicate id or `unique`
/// value; anything else is a backend failure.
fn write_error(meta: &AggregateMeta, id: &str, what: &str, e: sqlx::Error) -> Error {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        // "UNIQUE constraint failed: products.ean_code"
        let column = db
            .message()
            .rsplit_once('.')
            .map(|(_, c)| c.trim().to_owned())
            .filter(|c| meta.column_index(c).is_some())
            .unwrap_or_else(|| meta.id_column().name.to_owned());
        return Error::Duplicate {
            aggregate: meta.name,
            id: id.to_owned(),
            column,
        };
    }
    backend(&format!("{what} {} `{id}`", meta.name), e)
}

/// Wraps a driver error; `SQLITE_BUSY` and `SQLITE_LOCKED` (and their
/// extended codes) are contention, and retryable.
pub(crate) fn backend(operation: &str, e: sqlx::Error) -> Error {
    let retryable = match &e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5 | 6)),
        _ => false,
    };
    let error = BackendError::new(operation, e);
    Error::Backend(if retryable { error.retryable() } else { error })
}
