//! The SQLite driver: values as INTEGER, REAL, TEXT and BLOB in `STRICT`
//! tables; dates, times and UUIDs as text in fixed formats, decimals as
//! their sort key ([`uow_core::backend::decimal_sort_key`]): exact, with
//! their scale, and in numeric order under SQLite's byte-wise text
//! comparison. Reads run in autocommit mode; a commit takes the one write
//! lock (`BEGIN IMMEDIATE`); outbox relays take turns holding a lease.

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
    SqliteValueRef,
};
use sqlx::types::Uuid;
use sqlx::{Connection, Row, Sqlite, SqliteConnection, ValueRef};
use uow_core::{
    Error, ValueError, ValueErrorKind,
    backend::{AggregateMeta, ColumnKind, Value, decimal_from_sort_key, now_micros},
};

use super::SqliteSql;
use super::temporal;
use crate::driver::{Driver, Failure, StalePlans, Stmt, backend, decimal_key, decode_raw};
use crate::existing::{ExistingColumn, ExistingIndex, ExistingTable};
use crate::options::StoreOptions;

/// The SQLite driver.
pub(crate) struct SqliteDriver;

impl Driver for SqliteDriver {
    type Db = Sqlite;
    type Sql = SqliteSql;
    const SCHEMES: &'static [&'static str] = &["sqlite"];
    const MAX_PARAMETERS: usize = 32_766;
    const RETRY_DEAD_CONNECTIONS: bool = false;
    const PAD_BATCHES: bool = true;
    const IN_PROCESS: bool = true;
    const RELAY_LEASE: bool = true;
    /// Takes the write lock up front instead of failing to upgrade a read
    /// transaction.
    const WRITE_BEGIN: &'static str = "BEGIN IMMEDIATE";

    fn connect(
        url: &str,
        options: &StoreOptions,
        _stale_plans: Arc<StalePlans>,
    ) -> impl Future<Output = Result<sqlx::SqlitePool, sqlx::Error>> + Send {
        connect(url, options)
    }

    /// Reads in autocommit mode whatever the options: SQLite's transactions
    /// are serializable, and a read transaction held from `begin` would fail
    /// to upgrade to the write lock at commit.
    fn transaction_from_begin(_options: &StoreOptions, _set_up: bool) -> bool {
        false
    }

    /// The write transaction, opened at commit (or when a unit of work asks
    /// for its transaction early); a read-only unit of work never opens it.
    fn begin_statement(_options: &StoreOptions, _set_up: bool, _read_only: bool) -> Option<String> {
        Some(Self::WRITE_BEGIN.to_owned())
    }

    fn take_lease(
        conn: &mut SqliteConnection,
        relay: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<bool, Error>> + Send {
        take_lease(conn, relay, lease)
    }

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
            Value::Null
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::Bytes(_)
            | Value::Uuid(_)
            | Value::Timestamp(_)
            | Value::Date(_)
            | Value::Time(_)
            | Value::Decimal(_) => Self::bind(stmt, value.clone(), kind),
        }
    }

    fn get(row: &SqliteRow, index: usize, kind: ColumnKind) -> Result<Value, ValueError> {
        // The raw value is taken once: to tell NULL apart, then decoded.
        let raw = row.try_get_raw(index).map_err(driver)?;
        if raw.is_null() {
            return Ok(Value::Null);
        }
        Ok(match kind {
            ColumnKind::Bool => Value::Bool(read(raw, index)?),
            ColumnKind::SmallInt | ColumnKind::Int | ColumnKind::BigInt => {
                Value::Int(read(raw, index)?)
            }
            ColumnKind::Real | ColumnKind::Double => Value::Float(read(raw, index)?),
            ColumnKind::Bytes => Value::Bytes(read(raw, index)?),
            ColumnKind::Json => Value::Json(read(raw, index)?),
            ColumnKind::Decimal | ColumnKind::FixedDecimal { .. } => {
                let t: String = read(raw, index)?;
                Value::Decimal(decimal_from_sort_key(&t).ok_or_else(|| malformed("decimal", &t))?)
            }
            ColumnKind::Uuid => {
                let t: String = read(raw, index)?;
                Value::Uuid(
                    Uuid::parse_str(&t)
                        .map_err(|_| malformed("UUID", &t))?
                        .into_bytes(),
                )
            }
            ColumnKind::TimestampTz | ColumnKind::Timestamp => {
                let t: String = read(raw, index)?;
                Value::Timestamp(
                    temporal::parse_timestamp(&t).ok_or_else(|| malformed("timestamp", &t))?,
                )
            }
            ColumnKind::Date => {
                let t: String = read(raw, index)?;
                Value::Date(temporal::parse_date(&t).ok_or_else(|| malformed("date", &t))?)
            }
            ColumnKind::Time => {
                let t: String = read(raw, index)?;
                Value::Time(temporal::parse_time(&t).ok_or_else(|| malformed("time", &t))?)
            }
            ColumnKind::Text => Value::Text(read(raw, index)?),
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

/// Decodes the raw value of column `index` (see [`decode_raw`]).
fn read<'r, T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>>(
    raw: SqliteValueRef<'r>,
    index: usize,
) -> Result<T, ValueError> {
    decode_raw::<Sqlite, T>(raw, index).map_err(driver)
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
async fn connect(url: &str, options: &StoreOptions) -> Result<sqlx::SqlitePool, sqlx::Error> {
    let connect = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(options.busy_timeout)
        .foreign_keys(true);
    SqlitePoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .test_before_acquire(false)
        .connect_with(connect)
        .await
}

/// Takes or renews the relay lease for `relay`; `false` when another relay
/// holds it.
async fn take_lease(
    conn: &mut SqliteConnection,
    relay: &str,
    lease: Duration,
) -> Result<bool, Error> {
    let now = now_micros();
    let expires = now.saturating_add(i64::try_from(lease.as_micros()).unwrap_or(i64::MAX));
    let error = |e| backend::<SqliteDriver>("take the outbox relay lease", e);
    let mut tx = conn
        .begin_with(SqliteDriver::WRITE_BEGIN)
        .await
        .map_err(error)?;
    sqlx::query(
        "INSERT OR IGNORE INTO uow_outbox_lease (name, holder, expires_at) VALUES ('relay', ?, 0)",
    )
    .bind(relay)
    .execute(&mut *tx)
    .await
    .map_err(error)?;
    let taken = sqlx::query(
        "UPDATE uow_outbox_lease SET holder = ?, expires_at = ? \
         WHERE name = 'relay' AND (holder = ? OR expires_at < ?)",
    )
    .bind(relay)
    .bind(expires)
    .bind(relay)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(error)?
    .rows_affected();
    tx.commit().await.map_err(error)?;
    Ok(taken == 1)
}
