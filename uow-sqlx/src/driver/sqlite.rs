//! SQLite: values as INTEGER, REAL, TEXT and BLOB in `STRICT` tables; dates,
//! times and UUIDs as text in fixed formats, decimals as their sort key
//! ([`uow_core::backend::decimal_sort_key`]): exact, with their scale, and in numeric
//! order under SQLite's byte-wise text comparison.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::backend::Pool;
use crate::store::StoreOptions;
use std::future::Future;
use std::sync::Arc;

use sqlx::sqlite::SqliteRow;
use sqlx::types::Uuid;
use sqlx::{Row, Sqlite, ValueRef};
use uow_core::{
    ValueError, ValueErrorKind,
    backend::{AggregateMeta, ColumnKind, Value, decimal_from_sort_key},
};

use super::temporal;
use super::{Driver, Failure, Stmt, decimal_key};
use crate::dialect::Dialect;
use crate::schema::{ExistingColumn, ExistingIndex, ExistingTable};

/// The SQLite driver.
pub(crate) struct SqliteDriver;

impl Driver for SqliteDriver {
    type Db = Sqlite;
    const DIALECT: Dialect = Dialect::Sqlite;
    const MAX_PARAMETERS: usize = 32_766;
    const RETRY_DEAD_CONNECTIONS: bool = false;
    const SINGLE_WRITER: bool = true;
    const PAD_BATCHES: bool = true;

    fn table(
        pool: &sqlx::SqlitePool,
        table: &str,
    ) -> impl Future<Output = Result<ExistingTable, sqlx::Error>> + Send {
        read_table(pool, table)
    }

    fn rows_affected(result: &<Self::Db as sqlx::Database>::QueryResult) -> u64 {
        result.rows_affected()
    }

    fn bind(stmt: Stmt<Self>, value: Value, _kind: ColumnKind) -> Result<Stmt<Self>, ValueError> {
        Ok(match value {
            Value::Null => stmt.bind(None::<i64>),
            Value::Bool(v) => stmt.bind(v),
            Value::Int(v) => stmt.bind(v),
            Value::Float(v) => stmt.bind(v),
            Value::Text(v) | Value::Json(v) => stmt.bind(v),
            Value::Decimal(v) => stmt.bind(decimal_key(&v)?),
            Value::Bytes(v) => stmt.bind(v),
            Value::Uuid(v) => stmt.bind(Uuid::from_bytes(v).hyphenated().to_string()),
            Value::Timestamp(v) => stmt.bind(temporal::format_timestamp(v)?),
            Value::Date(v) => stmt.bind(temporal::format_date(v)?),
            Value::Time(v) => stmt.bind(temporal::format_time(v)?),
            other => {
                return Err(ValueError::new(format!(
                    "no SQLite binding for {}",
                    other.kind_name()
                )));
            }
        })
    }

    fn bind_copy(
        stmt: Stmt<Self>,
        value: &Value,
        kind: ColumnKind,
    ) -> Result<Stmt<Self>, ValueError> {
        match value {
            // sqlx keeps text in an `Arc`: copied straight into an `Arc<str>`
            // it takes one allocation, where a cloned `String` takes two.
            Value::Text(v) | Value::Json(v) => Ok(stmt.bind(Arc::<str>::from(v.as_str()))),
            other => Self::bind(stmt, other.clone(), kind),
        }
    }

    fn get(row: &SqliteRow, index: usize, kind: ColumnKind) -> Result<Value, ValueError> {
        let raw = row.try_get_raw(index).map_err(driver)?;
        if raw.is_null() {
            return Ok(Value::Null);
        }
        let text = || row.try_get::<String, _>(index).map_err(driver);
        Ok(match kind {
            ColumnKind::Bool => Value::Bool(row.try_get(index).map_err(driver)?),
            ColumnKind::SmallInt | ColumnKind::Int | ColumnKind::BigInt => {
                Value::Int(row.try_get(index).map_err(driver)?)
            }
            ColumnKind::Real | ColumnKind::Double => {
                Value::Float(row.try_get(index).map_err(driver)?)
            }
            ColumnKind::Bytes => Value::Bytes(row.try_get(index).map_err(driver)?),
            ColumnKind::Json => Value::Json(text()?),
            ColumnKind::Decimal | ColumnKind::FixedDecimal { .. } => {
                let t = text()?;
                Value::Decimal(decimal_from_sort_key(&t).ok_or_else(|| malformed("decimal", &t))?)
            }
            ColumnKind::Uuid => {
                let t = text()?;
                Value::Uuid(
                    Uuid::parse_str(&t)
                        .map_err(|_| malformed("UUID", &t))?
                        .into_bytes(),
                )
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

    fn unique_column(error: &sqlx::Error, meta: &AggregateMeta) -> Option<String> {
        unique_column_of(error, meta)
    }

    fn classify(error: &sqlx::Error) -> Failure {
        let sqlx::Error::Database(db) = error else {
            return Failure::Other;
        };
        if db.is_unique_violation() {
            return Failure::Unique;
        }
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
        let code = db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
        if matches!(code & 0xff, 5 | 6) {
            Failure::Contention
        } else {
            Failure::Other
        }
    }
}

fn unique_column_of(error: &sqlx::Error, meta: &AggregateMeta) -> Option<String> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    // "UNIQUE constraint failed: products.ean_code"
    db.message()
        .rsplit_once('.')
        .map(|(_, c)| c.trim().to_owned())
        .filter(|c| meta.column_index(c).is_some())
}

fn driver(e: sqlx::Error) -> ValueError {
    ValueError::with_kind(ValueErrorKind::Driver, "the driver cannot read the value").caused_by(e)
}

fn malformed(what: &str, text: &str) -> ValueError {
    ValueError::new(format!("`{text}` is not a {what} in the stored format"))
}

/// Reads the columns and indexes of `table` on SQLite.
async fn read_table(pool: &sqlx::SqlitePool, table: &str) -> Result<ExistingTable, sqlx::Error> {
    let rows: Vec<(String, String, i64, Option<String>, i64)> = sqlx::query_as(
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    let mut columns: Vec<ExistingColumn> = rows
        .iter()
        .map(|(name, ty, not_null, default, pk)| ExistingColumn {
            name: name.clone(),
            ty: ty.to_lowercase(),
            nullable: *not_null == 0 && *pk == 0,
            has_default: default.is_some(),
            ..ExistingColumn::default()
        })
        .collect();
    // A lone INTEGER PRIMARY KEY is the rowid: filled in when an insert
    // leaves it out.
    if let [(name, ty, _, _, _)] = &rows.iter().filter(|r| r.4 > 0).collect::<Vec<_>>()[..]
        && ty.eq_ignore_ascii_case("integer")
        && let Some(c) = columns.iter_mut().find(|c| &c.name == name)
    {
        c.has_default = true;
    }
    let mut indexes = Vec::new();
    // An INTEGER PRIMARY KEY is the rowid: a primary key without an index.
    let mut pk: Vec<(i64, String)> = rows
        .iter()
        .filter(|r| r.4 > 0)
        .map(|r| (r.4, r.0.clone()))
        .collect();
    pk.sort();
    let listed: Vec<(String, i64, String, i64)> =
        sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?)")
            .bind(table)
            .fetch_all(pool)
            .await?;
    let mut pk_indexed = false;
    for (name, unique, origin, partial) in listed {
        let keys: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT name, coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno",
        )
        .bind(&name)
        .fetch_all(pool)
        .await?;
        let expression = keys.iter().any(|(column, _)| column.is_none());
        for (column, coll) in &keys {
            let (Some(column), Some(coll)) = (column, coll) else {
                continue;
            };
            if !coll.eq_ignore_ascii_case("binary")
                && let Some(c) = columns.iter_mut().find(|c| &c.name == column)
            {
                c.comparison = Some(format!(
                    "index {name} compares it under collation {coll}, not byte by byte"
                ));
            }
        }
        let primary = origin == "pk";
        pk_indexed |= primary;
        indexes.push(ExistingIndex {
            name,
            columns: keys.into_iter().filter_map(|(c, _)| c).collect(),
            unique: unique == 1,
            primary,
            partial: partial == 1 || expression,
        });
    }
    if !pk.is_empty() && !pk_indexed {
        indexes.push(ExistingIndex {
            name: "PRIMARY KEY".to_owned(),
            columns: pk.into_iter().map(|(_, c)| c).collect(),
            unique: true,
            primary: true,
            partial: false,
        });
    }
    Ok(ExistingTable { columns, indexes })
}

/// The pool of `connect_with` for a `sqlite:` URL: WAL mode for files (readers
/// never wait for the writer), a busy timeout (writers queue), foreign keys on.
pub(crate) async fn connect(url: &str, options: &StoreOptions) -> Result<Pool, sqlx::Error> {
    let connect = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(options.busy_timeout)
        .foreign_keys(true);
    Ok(Pool::Sqlite(
        SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(false)
            .connect_with(connect)
            .await?,
    ))
}
