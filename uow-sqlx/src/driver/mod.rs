//! One module per database, holding everything that differs between them:
//! `driver/<database>/sql.rs` its SQL text (a [`SqlDialect`], compiled
//! whatever the features, so any build prints any database's DDL), and
//! `driver/<database>/driver.rs`, behind the database's cargo feature, its
//! [`Driver`]: how its pool is opened, how a unit of work begins, how values
//! are bound and rows decoded, what its errors mean, how its tables are
//! introspected, its relay lease, and its policy flags (associated
//! constants). Everything else — the read path ([`fetch`]), the batched
//! flush, schema verification, sessions, commit markers, outbox claims — is
//! written once, generic over [`Driver`]; the database is picked at run time
//! in one place, `crate::backend`.

pub(crate) mod mysql;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::database::HasStatementCache;
use sqlx::{Database, Executor, IntoArguments};
use uow_core::{
    Aggregate, BackendError, Error, TimeoutKind, ValueError,
    backend::{AggregateMeta, ColumnKind, Loaded, Query, RowSource, Value, decode_row},
};

use crate::dialect::SqlDialect;
use crate::existing::ExistingTable;
use crate::options::StoreOptions;
use crate::sql::TableSql;

pub(crate) type Args<D> = <<D as Driver>::Db as Database>::Arguments;
/// A statement with its bound parameters.
pub(crate) type Stmt<D> = sqlx::query::Query<'static, <D as Driver>::Db, Args<D>>;
pub(crate) type Conn<D> = <<D as Driver>::Db as Database>::Connection;
pub(crate) type DbRow<D> = <<D as Driver>::Db as Database>::Row;

/// What a database's error means to a unit of work.
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(not(all(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) enum Failure {
    /// A unique constraint (the primary key or a `unique` column) was violated.
    Unique,
    /// Transient contention: serialization failure, deadlock, busy.
    Contention,
    /// A lock wait took longer than the lock timeout.
    LockTimeout,
    /// A statement took longer than the statement timeout.
    StatementTimeout,
    /// The connection is gone (killed, reset, server shut down): a
    /// statement sent on it did not run, or its outcome is not known.
    Connection,
    /// PostgreSQL's `cached plan must not change result type`: a table
    /// changed under a prepared statement of the connection.
    CachedPlan,
    /// Anything else.
    Other,
}

/// What an error means, with the failures every driver shares (the
/// connection's I/O) looked at before the driver's own codes.
pub(crate) fn failure<D: Driver>(error: &sqlx::Error) -> Failure {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => Failure::Connection,
        _ => D::classify(error),
    }
}

/// What sqlx's `Executor` gives every database's `&mut` connection, as a
/// trait of the connection itself: a bound on [`Driver::Db`]'s connection
/// type holds wherever `D: Driver` does (a `for<'c> &'c mut Conn:
/// Executor<'c>` clause on the trait would have to be repeated at every
/// use), so [`Driver`]'s statement runners are written once, as default
/// methods.
pub(crate) trait Runs<DB: Database>: Send {
    /// `Executor::execute`.
    fn run_execute(
        &mut self,
        stmt: sqlx::query::Query<'static, DB, DB::Arguments>,
    ) -> impl Future<Output = Result<DB::QueryResult, sqlx::Error>> + Send;

    /// `Executor::fetch_all`.
    fn run_fetch_all(
        &mut self,
        stmt: sqlx::query::Query<'static, DB, DB::Arguments>,
    ) -> impl Future<Output = Result<Vec<DB::Row>, sqlx::Error>> + Send;

    /// `Executor::fetch_optional`.
    fn run_fetch_optional(
        &mut self,
        stmt: sqlx::query::Query<'static, DB, DB::Arguments>,
    ) -> impl Future<Output = Result<Option<DB::Row>, sqlx::Error>> + Send;
}

impl<DB, C> Runs<DB> for C
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    C: Send,
    for<'c> &'c mut C: Executor<'c, Database = DB>,
{
    fn run_execute(
        &mut self,
        stmt: sqlx::query::Query<'static, DB, DB::Arguments>,
    ) -> impl Future<Output = Result<DB::QueryResult, sqlx::Error>> + Send {
        self.execute(stmt)
    }

    fn run_fetch_all(
        &mut self,
        stmt: sqlx::query::Query<'static, DB, DB::Arguments>,
    ) -> impl Future<Output = Result<Vec<DB::Row>, sqlx::Error>> + Send {
        self.fetch_all(stmt)
    }

    fn run_fetch_optional(
        &mut self,
        stmt: sqlx::query::Query<'static, DB, DB::Arguments>,
    ) -> impl Future<Output = Result<Option<DB::Row>, sqlx::Error>> + Send {
        self.fetch_optional(stmt)
    }
}

/// A database as uow drives it.
pub(crate) trait Driver: Sized + Send + Sync + 'static {
    /// sqlx's database.
    type Db: Database<Connection: Runs<Self::Db>, Arguments: IntoArguments<Self::Db>>
        + HasStatementCache;
    /// Its SQL text.
    type Sql: SqlDialect;
    /// The URL schemes `SqlxStore::connect` opens with this driver.
    const SCHEMES: &'static [&'static str];
    /// The most bind parameters one statement may carry.
    const MAX_PARAMETERS: usize;
    /// Whether `begin` tries another pooled connection when the first is
    /// found dead (a server's connections die with a restart; an embedded
    /// database's do not).
    const RETRY_DEAD_CONNECTIONS: bool = true;
    /// Whether the last batch of a flush is padded up to a power of two with
    /// rows the statement filters out (fewer distinct statements to
    /// prepare; SQLite, whose every statement is a round trip to its thread).
    const PAD_BATCHES: bool = false;
    /// Whether a failed statement aborts the whole transaction (PostgreSQL),
    /// so a batch that may be re-run row by row needs a savepoint first.
    const FAILURE_ABORTS_TRANSACTION: bool = false;
    /// Whether a unit of work of a store with `options` holds its
    /// transaction from `begin` to `commit`, or reads in autocommit mode and
    /// opens its write transaction at commit (each read then sees the latest
    /// commit, as on the in-memory store, and the transaction spans the
    /// commit's writes only). The servers hold it where the isolation level
    /// needs it for its guarantee (REPEATABLE READ, SERIALIZABLE) or where
    /// the transaction carries a setting the reads must run under; at READ
    /// COMMITTED a read outside a transaction sees what a read inside one
    /// would, and the version check, not the transaction, protects a
    /// read-modify-write. `set_up`: as for
    /// [`begin_statement`](Driver::begin_statement).
    fn transaction_from_begin(options: &StoreOptions, set_up: bool) -> bool {
        let _ = set_up;
        options.isolation != crate::Isolation::ReadCommitted
    }
    /// Whether the database runs in the process (SQLite): no connection to
    /// lose between `COMMIT` and its answer, so commit markers are off by
    /// default and a commit's outcome is known from what the store saw;
    /// outcome checks run on a pooled connection (a new connection to
    /// `sqlite::memory:` would open another database), on a server on a new
    /// one (the pool may hold dead ones).
    const IN_PROCESS: bool = false;
    /// Whether outbox relays take turns holding a lease
    /// ([`take_lease`](Driver::take_lease)) instead of locking the rows they
    /// claim (`SKIP LOCKED`).
    const RELAY_LEASE: bool = false;

    /// Opens the pool of `connect_with` for `url` (one of
    /// [`SCHEMES`](Driver::SCHEMES)).
    fn connect(
        url: &str,
        options: &StoreOptions,
        stale_plans: Arc<StalePlans>,
    ) -> impl Future<Output = Result<sqlx::Pool<Self::Db>, sqlx::Error>> + Send;

    /// The statement that opens a unit of work's transaction with the
    /// store's options (isolation level, timeouts), or `None` for sqlx's
    /// plain `BEGIN`. `set_up`: the pool's connections were opened by
    /// `connect`, which set up their sessions. `read_only`: for a read-only
    /// unit of work (`begin_read_only`), a transaction that cannot write.
    fn begin_statement(options: &StoreOptions, set_up: bool, read_only: bool) -> Option<String>;

    /// The statement that opens a write transaction outside a unit of work
    /// (the relay's marks on a leased connection).
    const WRITE_BEGIN: &'static str = "BEGIN";

    /// Whether the server `conn` is on runs the dialect's
    /// [`marked_update`](crate::dialect::SqlDialect::marked_update) (asked
    /// once per store, on the first unit of work's connection): MySQL and
    /// MariaDB share a dialect, and only MariaDB has compound statements.
    fn folds_markers(
        conn: &mut Conn<Self>,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send {
        let _ = conn;
        async { Ok(true) }
    }

    /// Takes or renews the outbox relay lease for `relay`; `false` when
    /// another relay holds it. Only called where
    /// [`RELAY_LEASE`](Driver::RELAY_LEASE) is set.
    fn take_lease(
        conn: &mut Conn<Self>,
        relay: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<bool, Error>> + Send {
        let _ = (conn, relay, lease);
        async { Ok(true) }
    }

    /// Whether a failed read means that a table changed under the prepared
    /// statements of the connection (PostgreSQL's `cached plan must not
    /// change result type`).
    fn is_stale_plan(error: &Error) -> bool {
        let _ = error;
        false
    }

    /// Reads the columns and indexes of `table` (for schema verification).
    fn table(
        pool: &sqlx::Pool<Self::Db>,
        table: &str,
    ) -> impl Future<Output = Result<ExistingTable, sqlx::Error>> + Send;

    /// Whether a failed `CREATE` means that what it creates exists already
    /// (a database without `CREATE INDEX IF NOT EXISTS`).
    fn exists_already(error: &sqlx::Error) -> bool {
        let _ = error;
        false
    }

    /// A statement whose parameter list has room for `parameters` values
    /// (a batch: no growing and copying of the list while binding).
    fn query_with_capacity(sql: sqlx::SqlStr, parameters: usize) -> Stmt<Self> {
        let mut arguments = Args::<Self>::default();
        sqlx::Arguments::reserve(&mut arguments, parameters, parameters * 16);
        sqlx::query_with(sql, arguments)
    }

    /// Binds `value`, stored in a column of `kind`, as the next parameter;
    /// an error (never a parameter of another type or value) when the value
    /// cannot be converted to what the column stores.
    fn bind(stmt: Stmt<Self>, value: Value, kind: ColumnKind) -> Result<Stmt<Self>, ValueError>;

    /// Binds a copy of `value`: what a batch does, which keeps its rows to
    /// re-run them one by one if the batch fails.
    fn bind_copy(
        stmt: Stmt<Self>,
        value: &Value,
        kind: ColumnKind,
    ) -> Result<Stmt<Self>, ValueError> {
        Self::bind(stmt, value.clone(), kind)
    }

    /// Reads column `index`, of `kind`, from a row.
    fn get(row: &DbRow<Self>, index: usize, kind: ColumnKind) -> Result<Value, ValueError>;

    /// The number of rows a statement affected.
    fn rows_affected(result: &<Self::Db as Database>::QueryResult) -> u64;

    /// Runs a statement; the number of rows it affected.
    fn execute(
        conn: &mut Conn<Self>,
        stmt: Stmt<Self>,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send {
        async move { Ok(Self::rows_affected(&conn.run_execute(stmt).await?)) }
    }

    /// Runs a query; its rows.
    fn fetch_all(
        conn: &mut Conn<Self>,
        stmt: Stmt<Self>,
    ) -> impl Future<Output = Result<Vec<DbRow<Self>>, sqlx::Error>> + Send {
        conn.run_fetch_all(stmt)
    }

    /// Runs a query that matches at most one row (a primary-key lookup); its
    /// row. Cheaper than [`fetch_all`](Driver::fetch_all) on SQLite, whose
    /// worker thread then stops after the row instead of stepping to the end
    /// and sending one more message.
    fn fetch_optional(
        conn: &mut Conn<Self>,
        stmt: Stmt<Self>,
    ) -> impl Future<Output = Result<Option<DbRow<Self>>, sqlx::Error>> + Send {
        conn.run_fetch_optional(stmt)
    }

    /// Adds `values` (one column of many rows, stored as `kind`) to `args`
    /// as one array parameter, for PostgreSQL's array batches; the values
    /// are encoded where they are, not copied first. `None` where the
    /// database has no arrays or a value does not fit the column's array
    /// type; the caller then writes the rows with a `VALUES` batch.
    fn bind_array<'v>(
        args: &mut Args<Self>,
        values: impl Iterator<Item = &'v Value>,
        kind: ColumnKind,
    ) -> Option<()> {
        let _ = (args, values.count(), kind);
        None
    }

    /// What an error means.
    fn classify(error: &sqlx::Error) -> Failure;

    /// The column of `meta` whose unique constraint a unique violation names.
    fn unique_column(error: &sqlx::Error, meta: &AggregateMeta) -> Option<String>;
}

/// A table changed under the prepared statements of a connection (see
/// [`Driver::is_stale_plan`]); every connection opened before the change
/// holds such statements. The first one to fail records when, and
/// connections older than that are closed when next acquired (a
/// `before_acquire` of the pool `connect` opens), so the next unit of work
/// runs on a fresh one.
#[derive(Debug)]
pub(crate) struct StalePlans {
    since: Instant,
    /// Microseconds after `since` of the last report; 0 for none.
    reported_at: AtomicU64,
}

impl StalePlans {
    pub(crate) fn new() -> Self {
        StalePlans {
            since: Instant::now(),
            reported_at: AtomicU64::new(0),
        }
    }

    /// Records that a connection's statements were found stale now.
    pub(crate) fn report(&self) {
        let at = u64::try_from(self.since.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.reported_at.fetch_max(at.max(1), Ordering::Relaxed);
    }

    /// Whether a connection `age` old was opened before the last report.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn is_stale(&self, age: Duration) -> bool {
        let reported = self.reported_at.load(Ordering::Relaxed);
        if reported == 0 {
            return false;
        }
        let opened = self.since.elapsed().saturating_sub(age);
        opened <= Duration::from_micros(reported)
    }
}

/// A row of any driver, read column by column in the kinds the aggregate's
/// metadata expects.
pub(crate) struct DriverRow<'a, D: Driver> {
    pub(crate) row: &'a DbRow<D>,
    pub(crate) meta: &'static AggregateMeta,
}

impl<D: Driver> RowSource for DriverRow<'_, D> {
    fn get(&self, index: usize) -> Result<Value, ValueError> {
        let column = self
            .meta
            .columns
            .get(index)
            .ok_or_else(|| ValueError::new(format!("no column {index}")))?;
        D::get(self.row, index, column.kind)
    }
}

/// Decodes column `index`'s raw value as a `T`, with the type check of
/// sqlx's `Row::try_get` (and its errors). A driver's [`Driver::get`] takes
/// the raw value once, to tell `NULL` apart, and decodes that same value:
/// `try_get` would look the column up a second time.
pub(crate) fn decode_raw<'r, DB, T>(
    raw: <DB as Database>::ValueRef<'r>,
    index: usize,
) -> Result<T, sqlx::Error>
where
    DB: Database,
    T: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
{
    use sqlx::{TypeInfo, ValueRef};
    {
        let ty = raw.type_info();
        if !ty.is_null() && !T::compatible(&ty) {
            return Err(sqlx::Error::ColumnDecode {
                index: format!("{index:?}"),
                source: sqlx::error::mismatched_types::<DB, T>(&ty),
            });
        }
    }
    T::decode(raw).map_err(|source| sqlx::Error::ColumnDecode {
        index: format!("{index:?}"),
        source,
    })
}

/// Binds a whole row, each value with its column's kind.
pub(crate) fn bind_row<D: Driver>(
    mut stmt: Stmt<D>,
    meta: &'static AggregateMeta,
    row: Vec<Value>,
) -> Result<Stmt<D>, Error> {
    for (column, value) in row.into_iter().enumerate() {
        stmt = bind_value::<D>(stmt, meta, column, value)?;
    }
    Ok(stmt)
}

/// Binds `value` as a value of column `column` of `meta`; a value the driver
/// cannot convert is [`Error::Encode`] naming the field.
pub(crate) fn bind_value<D: Driver>(
    stmt: Stmt<D>,
    meta: &'static AggregateMeta,
    column: usize,
    value: Value,
) -> Result<Stmt<D>, Error> {
    let kind = meta.columns[column].kind;
    D::bind(stmt, value, kind).map_err(|e| unbindable(meta, column, e))
}

/// [`bind_value`] of a copy of `value`.
pub(crate) fn bind_value_copy<D: Driver>(
    stmt: Stmt<D>,
    meta: &'static AggregateMeta,
    column: usize,
    value: &Value,
) -> Result<Stmt<D>, Error> {
    let kind = meta.columns[column].kind;
    D::bind_copy(stmt, value, kind).map_err(|e| unbindable(meta, column, e))
}

/// A value of `meta`'s column `column` that the driver cannot bind.
pub(crate) fn unbindable(meta: &'static AggregateMeta, column: usize, e: ValueError) -> Error {
    Error::Encode {
        aggregate: meta.name,
        field: meta.columns.get(column).map_or("?", |c| c.field),
        id: "?".to_owned(),
        reason: e,
    }
}

/// Binds a value that is not an aggregate's (outbox bookkeeping, a limit);
/// a failure is a backend error naming `what`.
pub(crate) fn bind_other<D: Driver>(
    stmt: Stmt<D>,
    value: Value,
    kind: ColumnKind,
    what: &str,
) -> Result<Stmt<D>, Error> {
    D::bind(stmt, value, kind)
        .map_err(|e| Error::Backend(BackendError::new(format!("bind {what}"), e)))
}

/// Loads the aggregates matching `query`, each with its row when it can
/// be the aggregate's snapshot (see [`decode_rows`]).
pub(crate) async fn fetch<D: Driver, A: Aggregate>(
    conn: &mut Conn<D>,
    sql: &TableSql,
    query: Query,
) -> Result<Vec<Loaded<A>>, Error> {
    let meta = A::META;
    let by_id = matches!(query, Query::Id(_));
    let stmt: Stmt<D> = match query {
        Query::Id(id) => bind_value::<D>(sqlx::query(sql.select_by_id.clone()), meta, meta.id, id)?,
        Query::Column {
            column,
            value: Value::Null,
        } => sqlx::query(sql.select_by_null[column].clone()),
        Query::Column { column, value } => bind_value::<D>(
            sqlx::query(sql.select_by_column[column].clone()),
            meta,
            column,
            value,
        )?,
        Query::Child {
            table,
            column,
            value,
        } => {
            let table = &meta.child_layout().tables[table];
            let text = crate::children::select_by_child::<D::Sql>(meta, table, column);
            bind_value::<D>(
                sqlx::query(crate::dialect::sql(text)),
                table.stored,
                column,
                value,
            )?
        }
        Query::All { limit } => bind_other::<D>(
            sqlx::query(sql.select_all.clone()),
            Value::Int(i64::try_from(limit).unwrap_or(i64::MAX)),
            ColumnKind::BigInt,
            "the row limit",
        )?,
        Query::Select(select) => return crate::query::fetch::<D, A>(conn, sql, &select).await,
    };
    let failed = |e| backend::<D>(format!("load from {}", meta.table), e);
    if by_id {
        let row = D::fetch_optional(conn, stmt).await.map_err(failed)?;
        return decode_rows::<D, A>(row.as_slice());
    }
    let rows = D::fetch_all(conn, stmt).await.map_err(failed)?;
    decode_rows::<D, A>(&rows)
}

/// Decodes `rows` of `A`'s table into aggregates, in order (into a vector
/// of their number: collecting fallible results would grow it step by
/// step). Where `A` has no JSON column, each row is read into values that
/// the aggregate is decoded from and that are kept as its snapshot (the
/// unit of work then encodes nothing); a JSON document may come back in
/// another form than the one written (PostgreSQL's `jsonb` orders keys),
/// so an aggregate with one is decoded straight from the row and encoded
/// by the unit of work.
pub(crate) fn decode_rows<D: Driver, A: Aggregate>(
    rows: &[DbRow<D>],
) -> Result<Vec<Loaded<A>>, Error> {
    let meta = A::META;
    let as_written = meta.columns.iter().all(|c| c.kind != ColumnKind::Json);
    let mut aggregates = Vec::with_capacity(rows.len());
    for row in rows {
        let source = DriverRow::<D> { row, meta };
        let columns = meta.columns.len();
        let mut values = Vec::with_capacity(if as_written { columns } else { 0 });
        if as_written {
            for index in 0..columns {
                match source.get(index) {
                    Ok(value) => values.push(value),
                    Err(_) => break,
                }
            }
        }
        // Not kept (a JSON column, or a value the driver cannot read, which
        // decoding from the row reports naming its column and the row's id).
        if values.len() < columns {
            aggregates.push(Loaded::without_snapshot(decode_row::<A, _>(&source)?));
            continue;
        }
        let aggregate = decode_row::<A, [Value]>(&values)?;
        aggregates.push(Loaded {
            aggregate,
            row: Some(values),
            children: None,
        });
    }
    Ok(aggregates)
}

/// Wraps a driver error in [`Error::Backend`] (or [`Error::Timeout`]),
/// marking retryable what a new attempt may clear: contention, a lost
/// connection (nothing sent on it after the failure is stored; a commit's
/// own outcome is checked before it is reported), a stale cached plan.
pub(crate) fn backend<D: Driver>(operation: impl Into<String>, error: sqlx::Error) -> Error {
    let kind = match failure::<D>(&error) {
        Failure::LockTimeout => Some(TimeoutKind::LockWait),
        Failure::StatementTimeout => Some(TimeoutKind::Statement),
        Failure::Contention | Failure::Connection | Failure::CachedPlan => None,
        Failure::Unique | Failure::Other => {
            return Error::Backend(BackendError::new(operation, driver_source(error)));
        }
    };
    match kind {
        Some(kind) => Error::Timeout {
            operation: operation.into(),
            kind,
            source: driver_source(error),
        },
        None => Error::Backend(BackendError::new(operation, driver_source(error)).retryable()),
    }
}

/// An error outside any aggregate (connecting, beginning): retryable when
/// the connection failed or the pool had none free in time.
pub(crate) fn connection_error(operation: impl Into<String>, error: sqlx::Error) -> Error {
    let transient = matches!(
        error,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::PoolTimedOut
    );
    let error = BackendError::new(operation, driver_source(error));
    Error::Backend(if transient { error.retryable() } else { error })
}

/// A driver error as the source of uow's: the database's own error without
/// sqlx's wrapper, whose message ("error returned from database: ...")
/// would print the database's message a second time down the chain.
pub(crate) fn driver_source(error: sqlx::Error) -> Box<dyn std::error::Error + Send + Sync> {
    match error {
        sqlx::Error::Database(database) => database,
        other => Box::new(other),
    }
}

/// The stored form of a decimal (see [`uow_core::backend::decimal_sort_key`]):
/// SQLite's and MySQL's.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) fn decimal_key(text: &str) -> Result<String, ValueError> {
    uow_core::backend::decimal_sort_key(text)
        .ok_or_else(|| ValueError::new(format!("`{text}` is not a decimal in canonical form")))
}

/// Conversions between uow's neutral date/time values and chrono, for the
/// drivers that bind native date/time types.
pub(crate) mod chrono_values {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};
    use uow_core::ValueError;

    fn epoch() -> NaiveDate {
        NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
    }

    /// Microseconds since the epoch → date and time (UTC).
    pub(crate) fn timestamp(micros: i64) -> Option<NaiveDateTime> {
        DateTime::from_timestamp_micros(micros).map(|t| t.naive_utc())
    }

    /// Days since the epoch → date.
    pub(crate) fn date(days: i32) -> Option<NaiveDate> {
        epoch().checked_add_signed(TimeDelta::days(days.into()))
    }

    /// Microseconds since midnight → time of day.
    pub(crate) fn time(micros: i64) -> Option<NaiveTime> {
        let secs = u32::try_from(micros.div_euclid(1_000_000)).ok()?;
        let nanos = u32::try_from(micros.rem_euclid(1_000_000) * 1_000).ok()?;
        NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
    }

    /// Date → days since the epoch.
    pub(crate) fn days(date: NaiveDate) -> Result<i32, ValueError> {
        i32::try_from(date.signed_duration_since(epoch()).num_days())
            .map_err(|_| ValueError::new(format!("date {date} is out of range")))
    }

    /// Time of day → microseconds since midnight.
    pub(crate) fn micros_of_day(time: NaiveTime) -> i64 {
        i64::from(time.num_seconds_from_midnight()) * 1_000_000
            + i64::from(time.nanosecond() / 1_000)
    }
}
