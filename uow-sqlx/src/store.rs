//! [`SqlxStore`]: the uow store over an sqlx connection pool, and
//! [`SqlxTransaction`], one unit of work's session on it. Written once,
//! generic over [`Driver`]: a unit of work's [`Session`] is of its
//! database's types, held in a [`Backend`] that `crate::backend` dispatches
//! on.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Connection, Executor, SqlStr};
use tokio::sync::{Mutex, watch};
use tracing::Instrument;
use uow_core::{
    Aggregate, BackendError, CommitOutcome, Error, Store, UnitId, UnitOfWork,
    backend::{AggregateMeta, ChangeSet, Filter, Loaded, Query, Transaction},
};

use crate::backend::{Backend, ConnectError, Dispatch, PerDriver, Pool, Pools, with_backend};
use crate::commit_marker::{self, COMMITS_META, MarkerSql};
use crate::dialect::Dialect;
#[cfg(feature = "mysql")]
use crate::driver::mysql::MySqlDriver;
#[cfg(feature = "postgres")]
use crate::driver::postgres::PostgresDriver;
#[cfg(feature = "sqlite")]
use crate::driver::sqlite::SqliteDriver;
use crate::driver::{
    self, Conn, Driver, Failure, StalePlans, connection_error, driver_source, failure,
};
use crate::flush::{AloneFailure, Writer};
use crate::options::StoreOptions;
use crate::query;
use crate::schema;
use crate::sql::TableSql;
use crate::statements::Statements;

/// A uow [`Store`] backed by SQLite, PostgreSQL or MySQL/MariaDB through sqlx.
///
/// Each unit of work holds one pooled connection for its life (pooled
/// connections are not pinged on acquire: no extra round trip). Every
/// `UPDATE` and `DELETE` carries `WHERE id = ? AND version = ?`, and a
/// statement that matches no row fails the commit with [`Error::Conflict`]
/// naming the aggregate, its id and the expected version. Statement texts are
/// built once per aggregate and prepared once per connection; values are
/// always bound parameters.
///
/// - **SQLite**: reads run in autocommit mode (each sees the latest commit,
///   like the in-memory store) and the commit runs all writes in one
///   `BEGIN IMMEDIATE` transaction, which takes SQLite's single write lock up
///   front instead of failing to upgrade a read transaction.
/// - **PostgreSQL, MySQL/MariaDB at READ COMMITTED** (the default): the
///   same — reads in autocommit mode on the unit's one connection (a read
///   outside a transaction sees what one inside a READ COMMITTED
///   transaction would), the transaction spans the commit's writes only,
///   and a commit of one update and nothing else is one statement without
///   `BEGIN`/`COMMIT`, its commit marker folded in where the database
///   allows (PostgreSQL: a data-modifying CTE; MariaDB: a compound
///   statement), inserted only when the version check matched. Load,
///   change and commit one aggregate: two round trips.
/// - **At REPEATABLE READ or SERIALIZABLE** (see
///   [`Isolation`](crate::Isolation)), and on PostgreSQL with a lock or
///   statement timeout: the unit of work runs in one transaction from
///   `begin` to `commit`.
///
/// Cloning gives another handle to the same pool.
///
/// ```no_run
/// # async fn run() -> Result<(), uow_core::Error> {
/// let store = uow_sqlx::SqlxStore::connect("sqlite://allocation.db").await?;
/// let store = uow_sqlx::SqlxStore::connect("postgres://postgres@localhost/app").await?;
/// let store = uow_sqlx::SqlxStore::connect("mysql://root@localhost/app").await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct SqlxStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pool: Pool,
    statements: Statements,
    /// The options the store was made with.
    options: StoreOptions,
    /// Whether the pool's connections were set up by `connect_with`
    /// (MySQL: session isolation and timeouts in `after_connect`).
    sessions_set: bool,
    /// The statement that opens a unit of work's transaction
    /// ([`Driver::begin_statement`]); `None`: sqlx's `BEGIN`.
    begin: Option<SqlStr>,
    /// Whether units of work hold their transaction from `begin`
    /// ([`Driver::transaction_from_begin`]) or read in autocommit mode.
    transaction_from_begin: bool,
    /// Whether the server runs the dialect's marker-folding update
    /// ([`Driver::folds_markers`]), once asked.
    folds_markers: std::sync::OnceLock<bool>,
    /// The statement that opens a read-only unit of work's transaction.
    begin_read_only: Option<SqlStr>,
    pub(crate) executed: AtomicU64,
    /// `BEGIN`s and `COMMIT`s units of work have sent (for the round-trip
    /// tests, beside `executed`).
    transaction_statements: AtomicU64,
    /// Whether commits write markers, and for how long they are kept.
    markers: bool,
    markers_kept: Duration,
    /// Marked commits so far, to prune markers every `PRUNE_EVERY`.
    marked: AtomicU64,
    /// Outcome checks run so far.
    checks: AtomicU64,
    /// Commits that ran on after their futures were dropped.
    background: Arc<Background>,
    /// The SQLite outbox relay lease's length.
    pub(crate) relay_lease: Duration,
    /// When a connection's prepared statements were last found stale.
    stale_plans: Arc<StalePlans>,
}

impl SqlxStore {
    /// Connects to the database at `url` with the default [`StoreOptions`]:
    /// `sqlite:` (a file, created if missing, or `sqlite::memory:`),
    /// `postgres:`/`postgresql:`, or `mysql:`/`mariadb:`.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        SqlxStore::connect_with(url, StoreOptions::default()).await
    }

    /// Connects to the database at `url` with `options`.
    ///
    /// SQLite files are opened in WAL mode, so readers never wait for the
    /// writer, and with a busy timeout, so writers queue instead of failing.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Self, Error> {
        let context = || format!("connect to `{}`", redact(url));
        let stale_plans = Arc::new(StalePlans::new());
        let pool = match Pool::connect(url, &options, Arc::clone(&stale_plans)).await {
            Ok(pool) => pool,
            Err(ConnectError::Scheme(why)) => {
                return Err(Error::Backend(BackendError::new(context(), why)));
            }
            Err(ConnectError::Driver(e)) => return Err(connection_error(context(), e)),
        };
        Ok(SqlxStore::new(pool, options, stale_plans, true))
    }

    /// A store over a pool made outside uow (for queries of your own on the
    /// same pool, or a pool set up with options of its own), with `options`.
    ///
    /// The options that shape a unit of work are honoured as by
    /// [`connect_with`](Self::connect_with): the isolation level (MySQL:
    /// `SET TRANSACTION ISOLATION LEVEL` sent with each unit of work's
    /// `BEGIN`, in the same round trip, since the pool's connections were not
    /// opened by uow), the lock timeout (MySQL: `innodb_lock_wait_timeout`
    /// set with the `BEGIN` too), the PostgreSQL statement timeout, commit
    /// markers, the relay lease. The options that build a pool
    /// ([`max_connections`](StoreOptions::max_connections),
    /// [`acquire_timeout`](StoreOptions::acquire_timeout),
    /// [`busy_timeout`](StoreOptions::busy_timeout)) are the pool's own, and
    /// so is the MySQL/MariaDB statement timeout (set it in the pool's
    /// `after_connect`).
    ///
    /// ```no_run
    /// # #[cfg(feature = "postgres")]
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use uow_sqlx::{Isolation, SqlxStore, StoreOptions};
    ///
    /// let pool = sqlx::PgPool::connect("postgres://postgres@localhost/app").await?;
    /// let store = SqlxStore::from_pool(pool, StoreOptions::new().isolation(Isolation::Serializable));
    /// # let _ = store; Ok(()) }
    /// ```
    pub fn from_pool(pool: impl SqlxPool, options: StoreOptions) -> Self {
        pool.into_store(options)
    }

    fn new(
        pool: Pool,
        options: StoreOptions,
        stale_plans: Arc<StalePlans>,
        sessions_set: bool,
    ) -> Self {
        let (statements, begin, begin_read_only, in_process, transaction_from_begin) =
            with_backend!(&pool, |_pool, D| (
                Statements::new::<<D as Driver>::Sql>(),
                D::begin_statement(&options, sessions_set, false),
                D::begin_statement(&options, sessions_set, true),
                D::IN_PROCESS,
                D::transaction_from_begin(&options, sessions_set)
            ));
        SqlxStore {
            inner: Arc::new(Inner {
                pool,
                statements,
                begin: begin.map(crate::dialect::sql),
                transaction_from_begin,
                folds_markers: std::sync::OnceLock::new(),
                begin_read_only: begin_read_only.map(crate::dialect::sql),
                executed: AtomicU64::new(0),
                transaction_statements: AtomicU64::new(0),
                markers: options.commit_markers.unwrap_or(!in_process),
                markers_kept: options.commit_markers_kept,
                marked: AtomicU64::new(0),
                checks: AtomicU64::new(0),
                background: Arc::default(),
                relay_lease: options.relay_lease,
                stale_plans,
                sessions_set,
                options,
            }),
        }
    }

    /// Another store over the same pool, with commit markers on or off (see
    /// [`StoreOptions::commit_markers`]): for a pool made outside uow
    /// (`SqlxStore::from(pool)`), or to measure what the markers cost.
    pub fn with_commit_markers(&self, on: bool) -> SqlxStore {
        SqlxStore::new(
            self.inner.pool.clone(),
            self.inner.options.clone().commit_markers(on),
            Arc::clone(&self.inner.stale_plans),
            self.inner.sessions_set,
        )
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The dialect of the database.
    pub fn dialect(&self) -> Dialect {
        self.inner.pool.dialect()
    }

    /// The SQLite pool, if this is a SQLite store (for queries of your own,
    /// such as read models).
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        SqliteDriver::of::<Pools>(&self.inner.pool)
    }

    /// The PostgreSQL pool, if this is a PostgreSQL store.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn postgres_pool(&self) -> Option<&sqlx::PgPool> {
        PostgresDriver::of::<Pools>(&self.inner.pool)
    }

    /// The MySQL/MariaDB pool, if this is a MySQL store.
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    pub fn mysql_pool(&self) -> Option<&sqlx::MySqlPool> {
        MySqlDriver::of::<Pools>(&self.inner.pool)
    }

    /// A test hook, not part of the supported API: how many statements the
    /// units of work of this store have sent, all told (reads, writes,
    /// savepoints; not `BEGIN`/`COMMIT`), for the round-trip tests.
    #[doc(hidden)]
    pub fn statements_executed(&self) -> u64 {
        self.inner.executed.load(Ordering::Relaxed)
    }

    /// A test hook, not part of the supported API: how many round trips the
    /// units of work of this store have made, all told: the statements of
    /// [`statements_executed`](Self::statements_executed) and every `BEGIN`
    /// and `COMMIT` (a rollback rides on the connection's next statement).
    #[doc(hidden)]
    pub fn round_trips(&self) -> u64 {
        self.inner.executed.load(Ordering::Relaxed)
            + self.inner.transaction_statements.load(Ordering::Relaxed)
    }

    /// How many times this store has checked a commit marker to find out
    /// whether a commit was stored (a connection that failed during
    /// `COMMIT`, [`Store::commit_outcome`]). For tests and diagnostics.
    pub fn outcome_checks(&self) -> u64 {
        self.inner.checks.load(Ordering::Relaxed)
    }

    /// The DDL that creates the tables of `aggregates` in this store's
    /// dialect, to seed a migration file.
    ///
    /// With commit markers on (the default), the script creates the marker
    /// table (`uow_commits`) too.
    pub fn ddl(&self, aggregates: &[&'static AggregateMeta]) -> String {
        with_backend!(&self.inner.pool, |_pool, D| {
            let mut ddl = schema::ddl::<<D as Driver>::Sql>(aggregates);
            if self.inner.markers {
                ddl.push_str(&commit_marker::ddl::<<D as Driver>::Sql>());
                ddl.push_str(";\n");
            }
            ddl
        })
    }

    /// The DDL of the tables of unit of work `U`
    /// (`store.ddl_for::<Allocation<SqlxStore>>()`).
    pub fn ddl_for<U: UnitOfWork>(&self) -> String {
        let mut ddl = self.ddl(U::AGGREGATES);
        if U::OUTBOX {
            for statement in crate::backend::outbox_ddl(self.dialect()) {
                ddl.push_str(&statement);
                ddl.push_str(";\n");
            }
        }
        ddl
    }

    /// Creates the tables (and indexes) of `aggregates` that do not exist
    /// yet. Meant for development and tests; production schemas belong in
    /// migrations (see [`ddl`](Self::ddl)).
    ///
    /// With commit markers on (the default), the marker table
    /// (`uow_commits`) too.
    pub async fn create_tables(&self, aggregates: &[&'static AggregateMeta]) -> Result<(), Error> {
        for meta in aggregates {
            let statements = with_backend!(&self.inner.pool, |_pool, D| {
                schema::create_tables::<<D as Driver>::Sql>(meta)
            });
            for statement in statements {
                self.execute_ddl(statement, meta.table).await?;
            }
        }
        if self.inner.markers {
            let marker_table = with_backend!(&self.inner.pool, |_pool, D| commit_marker::ddl::<
                <D as Driver>::Sql,
            >());
            self.execute_ddl(marker_table, commit_marker::COMMITS_TABLE)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn execute_ddl(&self, statement: String, table: &str) -> Result<(), Error> {
        let statement = sqlx::AssertSqlSafe(statement);
        let outcome = with_backend!(
            &self.inner.pool,
            |pool, D| match pool.execute(statement).await {
                Err(e) if D::exists_already(&e) => Ok(()),
                other => other.map(drop),
            }
        );
        outcome.map_err(|e| connection_error(format!("create table {table}"), e))
    }

    /// Whether commits write markers (the marker table is then needed).
    pub(crate) fn markers(&self) -> bool {
        self.inner.markers
    }

    /// Creates the missing tables of unit of work `U`
    /// (`store.create_tables_for::<Allocation<SqlxStore>>()`).
    pub async fn create_tables_for<U: UnitOfWork>(&self) -> Result<(), Error> {
        self.create_tables(U::AGGREGATES).await?;
        if U::OUTBOX {
            self.create_outbox().await?;
        }
        Ok(())
    }

    /// Creates the outbox table (and, on SQLite, the relay lease table) if
    /// missing. [`create_tables_for`](Self::create_tables_for) does it for a
    /// unit of work declared with `outbox`.
    pub async fn create_outbox(&self) -> Result<(), Error> {
        for statement in crate::backend::outbox_ddl(self.dialect()) {
            self.execute_ddl(statement, crate::outbox_table::OUTBOX_TABLE)
                .await?;
        }
        Ok(())
    }

    /// Checks that the tables of `aggregates` behave as the in-memory store
    /// does: every column the aggregates store, of a type that holds every
    /// value of its field (integer width, no `CHAR(n)` for text, decimals
    /// unrounded, JSON), with the field's nullability; id and key columns
    /// compared byte by byte (collation); the primary key on the id; a
    /// UNIQUE constraint (any name) on each `unique` field; an index serving
    /// each `find_by`; no other `NOT NULL` column without a default. Call it
    /// at start-up to fail fast with [`Error::Schema`] naming the table, the
    /// column and what is wrong, instead of failing (or diverging from the
    /// in-memory store) on the first unit of work that needs them.
    ///
    /// With commit markers on (the default on PostgreSQL and MySQL), the
    /// marker table (`uow_commits`) is checked too, as [`ddl`](Self::ddl)
    /// and [`create_tables`](Self::create_tables) include it: every commit
    /// writes to it.
    pub async fn verify_tables(&self, aggregates: &[&'static AggregateMeta]) -> Result<(), Error> {
        self.verify_metas(aggregates).await?;
        if self.inner.markers {
            self.verify_metas(&[&COMMITS_META]).await?;
        }
        Ok(())
    }

    async fn verify_metas(&self, aggregates: &[&'static AggregateMeta]) -> Result<(), Error> {
        for meta in aggregates {
            with_backend!(&self.inner.pool, |pool, D| {
                let table = D::table(pool, meta.table).await.map_err(|e| {
                    connection_error(format!("read the columns of {}", meta.table), e)
                })?;
                schema::verify::<<D as Driver>::Sql>(meta, &table)?;
                for child in &meta.child_layout().tables {
                    let name = child.table_name();
                    let table = D::table(pool, name)
                        .await
                        .map_err(|e| connection_error(format!("read the columns of {name}"), e))?;
                    schema::verify_child::<<D as Driver>::Sql>(child, &table)?;
                }
            });
        }
        Ok(())
    }

    /// Checks the tables of unit of work `U` (see
    /// [`verify_tables`](Self::verify_tables)): its aggregates' tables, the
    /// marker table when commit markers are on, and the outbox table when
    /// `U` stores its events there.
    pub async fn verify_tables_for<U: UnitOfWork>(&self) -> Result<(), Error> {
        self.verify_tables(U::AGGREGATES).await?;
        if U::OUTBOX {
            self.verify_metas(&[&crate::outbox_table::OUTBOX_META])
                .await?;
        }
        Ok(())
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
impl From<sqlx::SqlitePool> for SqlxStore {
    /// A store over an existing SQLite pool. Configure it with a busy timeout
    /// (and WAL mode for files) as [`SqlxStore::connect`] does.
    fn from(pool: sqlx::SqlitePool) -> Self {
        SqlxStore::from_pool(pool, StoreOptions::default())
    }
}

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl From<sqlx::PgPool> for SqlxStore {
    /// A store over an existing PostgreSQL pool; units of work run at READ
    /// COMMITTED.
    fn from(pool: sqlx::PgPool) -> Self {
        SqlxStore::from_pool(pool, StoreOptions::default())
    }
}

#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
impl From<sqlx::MySqlPool> for SqlxStore {
    /// A store over an existing MySQL/MariaDB pool with the default
    /// [`StoreOptions`]: units of work run at READ COMMITTED, set with each
    /// `BEGIN` (see [`SqlxStore::from_pool`]).
    fn from(pool: sqlx::MySqlPool) -> Self {
        SqlxStore::from_pool(pool, StoreOptions::default())
    }
}

/// A connection pool [`SqlxStore::from_pool`] takes: sqlx's `SqlitePool`,
/// `PgPool` or `MySqlPool`, for the features compiled in. Sealed.
pub trait SqlxPool: sealed::Sealed {}

mod sealed {
    use super::{SqlxStore, StoreOptions};

    /// What makes a pool a store; implemented in this crate only.
    pub trait Sealed {
        /// The store over this pool.
        fn into_store(self, options: StoreOptions) -> SqlxStore;
    }
}

macro_rules! sqlx_pool {
    ($feature:literal, $pool:ty, $driver:ident) => {
        #[cfg(feature = $feature)]
        #[cfg_attr(docsrs, doc(cfg(feature = $feature)))]
        impl SqlxPool for $pool {}

        #[cfg(feature = $feature)]
        impl sealed::Sealed for $pool {
            fn into_store(self, options: StoreOptions) -> SqlxStore {
                SqlxStore::new(
                    $driver::wrap::<Pools>(self),
                    options,
                    Arc::new(StalePlans::new()),
                    false,
                )
            }
        }
    };
}
sqlx_pool!("sqlite", sqlx::SqlitePool, SqliteDriver);
sqlx_pool!("postgres", sqlx::PgPool, PostgresDriver);
sqlx_pool!("mysql", sqlx::MySqlPool, MySqlDriver);

/// One unit of work's connection to the database, and statements of your
/// own in its transaction.
///
/// A unit of work's `transaction()` is this type on a [`SqlxStore`]. Two
/// ways run SQL of your own so that it commits or rolls back with the
/// unit's aggregates (a failed commit, a version conflict, a unit dropped
/// without commit store none of it), each taking sqlx's own connection of
/// the database at hand:
///
/// - `with_postgres`, `with_mysql`, `with_sqlite` run statements at once,
///   in the unit's transaction, and return what they return (a row you
///   read back, a count). PostgreSQL and MySQL/MariaDB hold that
///   transaction from `begin`. SQLite reads in autocommit mode until the
///   commit; the first statements of your own open the unit's write
///   transaction (`BEGIN IMMEDIATE`) early, and it holds SQLite's one write
///   lock from then until the commit or the drop: other writers wait for it
///   (up to the busy timeout), and the unit's later reads run in it.
/// - `at_commit_postgres`, `at_commit_mysql`, `at_commit_sqlite` keep
///   statements for the commit, which runs them in its transaction after
///   the aggregates are written and before `COMMIT` (on SQLite, without
///   taking the write lock early). Their error fails the commit, which
///   stores nothing.
///
/// A statement of yours that fails now is your error to handle: on
/// PostgreSQL it aborts the unit's transaction (the commit then fails and
/// stores nothing), on MySQL/MariaDB and SQLite only that statement is
/// undone. On SQLite, a write transaction that cannot be opened (another
/// writer held the lock past the busy timeout) ends the unit of work: begin
/// a new one.
///
/// A unit of work with statements of your own commits (and, with commit
/// markers, is marked) even if no aggregate changed, and the commit outcome
/// machinery covers them as the rest of the commit. Calling the method of a
/// database the store is not on is an error.
///
/// Statements of your own leave the in-memory store behind: a service that
/// uses them stays generic over [`Store`] through a port trait of its own
/// with an in-memory implementation and one that uses these methods (see
/// the README, "SQL of your own in the unit of work").
///
/// ```no_run
/// # #[cfg(feature = "postgres")]
/// # async fn run(tx: &uow_sqlx::SqlxTransaction) -> Result<(), uow_core::Error> {
/// tx.at_commit_postgres(|conn| {
///     Box::pin(async move {
///         sqlx::query("INSERT INTO ledger (entry, amount) VALUES ($1, $2)")
///             .bind("payment-17")
///             .bind(250_i64)
///             .execute(conn)
///             .await
///             .map(drop)
///     })
/// })
/// .await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SqlxTransaction {
    inner: Arc<Inner>,
    unit: UnitId,
    session: Mutex<Backend<Sessions>>,
}

impl SqlxTransaction {
    /// The database the unit of work runs on.
    pub fn dialect(&self) -> Dialect {
        self.inner.pool.dialect()
    }

    /// Runs `statements` now in the unit of work's transaction of a
    /// database of driver `D`, opening it first where reads run without
    /// one (SQLite).
    async fn run_own<D: Dispatch, R>(
        &self,
        statements: impl for<'c> FnOnce(&'c mut Conn<D>) -> OwnSql<'c, R> + Send,
    ) -> Result<R, Error> {
        let mut session = self.session.lock().await;
        let session = D::of_mut::<Sessions>(&mut session).ok_or_else(|| self.not_on::<D>())?;
        if let State::Reading(_) = session.state {
            // The transaction opens on the reads' connection: one
            // connection per unit of work. (`Transaction::begin` is what
            // sqlx's `Pool::begin_with` runs on the connection it acquires.)
            let State::Reading(conn) = std::mem::replace(&mut session.state, State::Finished)
            else {
                return Err(finished());
            };
            session.fresh = false;
            self.inner
                .transaction_statements
                .fetch_add(1, Ordering::Relaxed);
            let begin = sqlx::Transaction::begin(conn, self.inner.begin.clone()).await;
            let tx = begin.map_err(|e| {
                driver::backend::<D>(
                    "open the unit of work's transaction for statements of your own",
                    e,
                )
            })?;
            session.state = State::Open(tx);
        }
        session.own = true;
        let conn = session.conn()?;
        statements(conn)
            .await
            .map_err(|e| driver::backend::<D>("run statements of your own", e))
    }

    /// Keeps `statements` for the commit of the unit of work, on a
    /// database of driver `D`.
    async fn keep_for_commit<D: Dispatch>(
        &self,
        statements: impl for<'c> FnOnce(&'c mut Conn<D>) -> OwnSql<'c, ()> + Send + 'static,
    ) -> Result<(), Error> {
        let mut session = self.session.lock().await;
        let session = D::of_mut::<Sessions>(&mut session).ok_or_else(|| self.not_on::<D>())?;
        if let State::Finished = session.state {
            return Err(finished());
        }
        session.at_commit.push(Box::new(statements));
        session.own = true;
        Ok(())
    }

    /// The error of a method of database `D` on a unit of work of another.
    fn not_on<D: Driver>(&self) -> Error {
        Error::Backend(BackendError::new(
            format!(
                "run statements of your own on {}",
                <D::Sql as crate::dialect::SqlDialect>::NAME
            ),
            format!("this unit of work runs on {}", self.dialect().name()),
        ))
    }
}

/// The per-database methods of [`SqlxTransaction`].
macro_rules! own_sql {
    ($feature:literal, $driver:ident, $conn:ty, $name:literal, $with:ident, $at_commit:ident) => {
        #[cfg(feature = $feature)]
        #[cfg_attr(docsrs, doc(cfg(feature = $feature)))]
        impl SqlxTransaction {
            #[doc = concat!("Runs `statements` now, in the unit of work's transaction on ", $name, ", with sqlx's connection;")]
            #[doc = "what they return. They commit or roll back with the unit of work (see"]
            #[doc = "[`SqlxTransaction`])."]
            #[doc = ""]
            #[doc = "# Errors"]
            #[doc = ""]
            #[doc = concat!("The statements' error, as [`Error::Backend`] (retryable where the database says so), or an error when the store is not on ", $name, ".")]
            pub async fn $with<R>(
                &self,
                statements: impl for<'c> FnOnce(&'c mut $conn) -> OwnSql<'c, R> + Send,
            ) -> Result<R, Error> {
                self.run_own::<$driver, R>(statements).await
            }

            #[doc = concat!("Keeps `statements` for the commit of the unit of work on ", $name, ", which runs them")]
            #[doc = "in its transaction after the aggregates are written (see [`SqlxTransaction`])."]
            #[doc = ""]
            #[doc = "# Errors"]
            #[doc = ""]
            #[doc = concat!("An error when the store is not on ", $name, " or the unit of work has committed.")]
            pub async fn $at_commit(
                &self,
                statements: impl for<'c> FnOnce(&'c mut $conn) -> OwnSql<'c, ()> + Send + 'static,
            ) -> Result<(), Error> {
                self.keep_for_commit::<$driver>(statements).await
            }
        }
    };
}
own_sql!(
    "sqlite",
    SqliteDriver,
    sqlx::SqliteConnection,
    "SQLite",
    with_sqlite,
    at_commit_sqlite
);
own_sql!(
    "postgres",
    PostgresDriver,
    sqlx::PgConnection,
    "PostgreSQL",
    with_postgres,
    at_commit_postgres
);
own_sql!(
    "mysql",
    MySqlDriver,
    sqlx::MySqlConnection,
    "MySQL/MariaDB",
    with_mysql,
    at_commit_mysql
);

/// The sessions: a unit of work's connection, on each database.
#[derive(Debug)]
pub(crate) struct Sessions;

impl PerDriver for Sessions {
    type Of<D: Driver> = Session<D>;
}

/// Statements of your own, run on a unit of work's connection (see
/// [`SqlxTransaction::with_postgres`] and its siblings): a closure that
/// takes sqlx's connection of the database and returns this boxed future,
/// as sqlx's own `Connection::transaction` takes.
pub type OwnSql<'c, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'c>>;

/// Statements of your own to run in the commit's transaction.
type AtCommit<D> = Box<dyn for<'c> FnOnce(&'c mut Conn<D>) -> OwnSql<'c, ()> + Send>;

/// One unit of work's connection to a database of driver `D`, and the
/// statements of the caller's own it carries.
pub(crate) struct Session<D: Driver> {
    state: State<D>,
    /// Run in the commit's transaction after the aggregates are written.
    at_commit: Vec<AtCommit<D>>,
    /// Whether statements of the caller's own ran in the unit's transaction
    /// or wait for its commit: the commit then writes (and is marked) even
    /// without changes of aggregates.
    own: bool,
    /// Whether nothing has been sent on the connection yet: a pooled
    /// connection the server has closed is found out by the first read of
    /// a unit that reads in autocommit mode, which then moves to another
    /// (as `begin` does when its `BEGIN` fails).
    fresh: bool,
}

/// Where a unit of work's connection is.
enum State<D: Driver> {
    /// Reads in autocommit mode ([`Driver::transaction_from_begin`] unset):
    /// the write transaction is opened at commit (or when statements of the
    /// caller's own ask for it).
    Reading(PoolConnection<D::Db>),
    /// The unit of work's transaction.
    Open(sqlx::Transaction<'static, D::Db>),
    /// Handed to its commit.
    Finished,
}

impl<D: Driver> Session<D> {
    fn new(state: State<D>) -> Self {
        Session {
            fresh: matches!(state, State::Reading(_)),
            state,
            at_commit: Vec::new(),
            own: false,
        }
    }

    /// The connection statements of the unit of work run on.
    fn conn(&mut self) -> Result<&mut Conn<D>, Error> {
        match &mut self.state {
            State::Reading(conn) => Ok(&mut **conn),
            State::Open(tx) => Ok(&mut **tx),
            State::Finished => Err(finished()),
        }
    }
}

/// Why `begin` failed: the error, and whether the pooled connection was
/// found dead (nothing was sent on it that could be stored).
fn begin_failure<D: Driver>(error: sqlx::Error) -> (bool, Error) {
    const CONTEXT: &str = "begin a unit of work";
    let lost = failure::<D>(&error) == Failure::Connection;
    let error = match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => connection_error(CONTEXT, error),
        error => driver::backend::<D>(CONTEXT, error),
    };
    (lost, error)
}

/// Opens a unit of work's session: its transaction, or (SQLite) a
/// connection for its reads. A pooled connection found dead is replaced, up
/// to as many times as the pool has connections (then a newly opened one).
async fn begin_session<D: Driver>(
    inner: &Inner,
    pool: &sqlx::Pool<D::Db>,
    read_only: bool,
) -> Result<Session<D>, Error> {
    let begin = if read_only {
        &inner.begin_read_only
    } else {
        &inner.begin
    };
    let attempts = if D::RETRY_DEAD_CONNECTIONS {
        pool.options().get_max_connections() + 1
    } else {
        1
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        // A read-only unit on a server keeps its READ ONLY transaction from
        // `begin`: it is what refuses writes of statements of your own.
        let outcome = if inner.transaction_from_begin || read_only && !D::IN_PROCESS {
            inner.transaction_statements.fetch_add(1, Ordering::Relaxed);
            match begin {
                None => pool.begin().await,
                Some(begin) => pool.begin_with(begin.clone()).await,
            }
            .map(State::Open)
        } else {
            match pool.acquire().await {
                Ok(mut conn) => {
                    if inner.markers && inner.folds_markers.get().is_none() {
                        // Once per store; a failure leaves it to the next
                        // unit of work (and this one commits as the others).
                        match D::folds_markers(&mut conn).await {
                            Ok(folds) => drop(inner.folds_markers.set(folds)),
                            Err(e) => {
                                tracing::debug!(error = %e, "could not ask the server whether it folds commit markers")
                            }
                        }
                    }
                    Ok(State::Reading(conn))
                }
                Err(e) => Err(e),
            }
        };
        match outcome.map_err(begin_failure::<D>) {
            Ok(state) => return Ok(Session::new(state)),
            Err((true, error)) if attempt < attempts => {
                tracing::debug!(%error, attempt, "a pooled connection was dead; beginning on another");
            }
            Err((_, error)) => return Err(error),
        }
    }
}

impl Store for SqlxStore {
    type Tx = SqlxTransaction;

    /// Begins a unit of work on a pooled connection. A pooled connection
    /// the server has closed since (a restart, a kill, an idle timeout)
    /// fails its `BEGIN`; nothing was sent on it that could be stored, so
    /// `begin` tries the next one, and after as many attempts as the pool
    /// has connections, a newly opened one.
    async fn begin(&self) -> Result<SqlxTransaction, Error> {
        self.begin_unit(false).await
    }

    /// A read-only unit of work: on PostgreSQL and MySQL/MariaDB a `READ
    /// ONLY` transaction (no write transaction, no transaction id); on
    /// SQLite, as every unit of work, autocommit reads on one connection.
    async fn begin_read_only(&self) -> Result<SqlxTransaction, Error> {
        self.begin_unit(true).await
    }

    async fn commit_outcome(&self, unit: &UnitId) -> Result<CommitOutcome, Error> {
        self.commit_outcome_of(unit).await
    }
}

impl SqlxStore {
    async fn begin_unit(&self, read_only: bool) -> Result<SqlxTransaction, Error> {
        let inner = Arc::clone(&self.inner);
        // Each database's future boxed: this one then holds a pointer, not
        // the largest of the three, and moving it copies little.
        let session = with_backend!(&inner.pool, |pool, D| {
            D::wrap::<Sessions>(Box::pin(begin_session::<D>(&inner, pool, read_only)).await?)
        });
        Ok(SqlxTransaction {
            inner,
            unit: UnitId::new(),
            session: Mutex::new(session),
        })
    }

    /// Whether the commit of unit of work `unit` was stored, from its commit
    /// marker, on a new connection; a commit of it still in flight is waited
    /// for, and one that has not written its marker yet can no longer commit
    /// (see [`uow_core::Store::commit_outcome`]). Fails when commit markers
    /// are off.
    async fn commit_outcome_of(&self, unit: &UnitId) -> Result<CommitOutcome, Error> {
        if let Some(outcome) = self.inner.background.outcome(unit).await {
            return Ok(outcome);
        }
        if !self.inner.markers {
            if let Some(outcome) = self.inner.background.finished_outcome(unit) {
                return Ok(outcome);
            }
            // No commit of it ran on in the background, and none ended in
            // the last minute. On SQLite (one process, no network between it
            // and its database) a unit of work begun within that minute then
            // never began its commit, and never will (`commit` consumed it);
            // of one begun earlier, the outcome is no longer known.
            let in_process = with_backend!(&self.inner.pool, |_pool, D| D::IN_PROCESS);
            if in_process && begun_within(unit, Background::FINISHED_KEPT) {
                return Ok(CommitOutcome::NotCommitted);
            }
            if in_process {
                return Err(Error::Backend(BackendError::new(
                    format!("find out whether unit of work `{unit}` was committed"),
                    "commit markers are off for this store (StoreOptions::commit_markers) and outcomes are kept in memory for a minute after the unit of work begins",
                )));
            }
            return Err(Error::Backend(BackendError::new(
                format!("find out whether unit of work `{unit}` was committed"),
                "commit markers are off for this store (StoreOptions::commit_markers)",
            )));
        }
        self.inner.check_outcome(unit).await.map_err(|e| {
            connection_error(
                format!("find out whether unit of work `{unit}` was committed"),
                e,
            )
        })
    }
}

impl Inner {
    /// One outcome check (see [`outcome_once`]).
    async fn outcome_once(&self, unit: &UnitId) -> Result<CommitOutcome, sqlx::Error> {
        let markers = &self.statements.markers;
        with_backend!(&self.pool, |pool, D| outcome_once::<D>(pool, markers, unit)
            .await)
    }

    /// The outcome check, tried [`CHECK_ATTEMPTS`] times over about two
    /// seconds (a server that is restarting comes back), then given up with
    /// the last error.
    async fn check_outcome(&self, unit: &UnitId) -> Result<CommitOutcome, sqlx::Error> {
        self.checks.fetch_add(1, Ordering::Relaxed);
        let mut pause = Duration::from_millis(50);
        let mut attempt = 1;
        loop {
            match self.outcome_once(unit).await {
                Ok(outcome) => return Ok(outcome),
                Err(e) if attempt >= CHECK_ATTEMPTS => return Err(e),
                Err(e) => {
                    tracing::debug!(error = %e, attempt, "commit outcome check failed; trying again");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                    attempt += 1;
                }
            }
        }
    }

    /// Deletes expired markers every `PRUNE_EVERY` marked commits, in a task
    /// of its own on a pooled connection.
    fn count_marked_commit(&self) {
        let marked = self.marked.fetch_add(1, Ordering::Relaxed) + 1;
        if !marked.is_multiple_of(commit_marker::PRUNE_EVERY) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let kept = i64::try_from(self.markers_kept.as_micros()).unwrap_or(i64::MAX);
        let before = uow_core::backend::now_micros().saturating_sub(kept);
        let pool = self.pool.clone();
        let markers = Arc::clone(&self.statements.markers);
        runtime.spawn(async move {
            let outcome = with_backend!(pool, |pool, D| match pool.acquire().await {
                Ok(mut c) => commit_marker::prune::<D>(&markers, &mut c, before).await,
                Err(e) => Err(e),
            });
            match outcome {
                Ok(deleted) => tracing::debug!(deleted, "commit markers pruned"),
                Err(error) => tracing::debug!(%error, "commit markers not pruned"),
            }
        });
    }
}

/// One outcome check, on a new connection (a server: the pool may hold dead
/// ones) or a pooled one (a database in the process: a new connection to
/// `sqlite::memory:` would open another database).
async fn outcome_once<D: Driver>(
    pool: &sqlx::Pool<D::Db>,
    markers: &MarkerSql,
    unit: &UnitId,
) -> Result<CommitOutcome, sqlx::Error> {
    if D::IN_PROCESS {
        let mut conn = pool.acquire().await?;
        return commit_marker::check::<D>(markers, &mut conn, unit).await;
    }
    let mut conn = Conn::<D>::connect_with(&pool.connect_options()).await?;
    let outcome = commit_marker::check::<D>(markers, &mut conn, unit).await;
    let _ = conn.close().await;
    outcome
}

/// How many times a commit's outcome is checked before it is reported
/// unknown.
const CHECK_ATTEMPTS: u32 = 5;

fn finished() -> Error {
    Error::Backend(BackendError::new(
        "use a unit of work",
        "its transaction has ended with commit()",
    ))
}

/// A failure of a commit that ended before `COMMIT` was sent: rolled back.
fn rolled_back(error: Error) -> Error {
    match error {
        Error::Backend(e) => Error::Backend(e.rolled_back()),
        other => other,
    }
}

impl Transaction for SqlxTransaction {
    fn unit_id(&self) -> &UnitId {
        &self.unit
    }

    async fn count<A: Aggregate>(&self, filter: Filter) -> Result<u64, Error> {
        self.inner.executed.fetch_add(1, Ordering::Relaxed);
        let mut session = self.session.lock().await;
        with_backend!(&mut *session, |session, D| {
            query::count::<D, A>(session.conn()?, &filter).await
        })
    }

    async fn fetch<A: Aggregate>(&self, query: Query) -> Result<Vec<A>, Error> {
        let loaded = self.fetch_loaded::<A>(query).await?;
        Ok(loaded.into_iter().map(|l| l.aggregate).collect())
    }

    async fn fetch_loaded<A: Aggregate>(&self, query: Query) -> Result<Vec<Loaded<A>>, Error> {
        let sql = self.inner.statements.get(A::META);
        self.inner.executed.fetch_add(1, Ordering::Relaxed);
        let mut session = self.session.lock().await;
        // As in `begin_unit`: each database's future boxed.
        with_backend!(&mut *session, |session, D| {
            Box::pin(fetch_in::<D, A>(&self.inner, session, &sql, query)).await
        })
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), Error> {
        let mut session = self.session.lock().await;
        // A commit whose future is dropped half-way (a timeout, a cancelled
        // request) still runs to its end — all of the unit of work or
        // nothing, as an in-memory commit — instead of leaving its
        // connection in the middle of a statement: a MySQL connection left so
        // waits for ever, holding its row locks and its place in the pool.
        // The writes run in the caller's task (no hop to another thread) and
        // move to a task of their own only if the caller drops them.
        let task = with_backend!(&mut *session, |session, D| {
            commit_task::<D>(&self.inner, &self.unit, session, changes)?
        });
        match task {
            Some(task) => task.await,
            None => Ok(()),
        }
    }
}

/// Loads the aggregates matching `query` in a unit of work's session; a
/// connection whose prepared statements are found stale is reported (the
/// pool replaces the connections opened before) and its statements dropped
/// (for a pool made elsewhere).
async fn fetch_in<D: Dispatch, A: Aggregate>(
    inner: &Inner,
    session: &mut Session<D>,
    sql: &TableSql,
    query: Query,
) -> Result<Vec<Loaded<A>>, Error> {
    if std::mem::replace(&mut session.fresh, false) && D::RETRY_DEAD_CONNECTIONS {
        return first_read::<D, A>(inner, session, sql, query).await;
    }
    let conn = session.conn()?;
    let outcome = match driver::fetch::<D, A>(conn, sql, query).await {
        Ok(roots) => crate::children::load::<D, A>(conn, sql, roots, &inner.executed).await,
        Err(e) => Err(e),
    };
    if let Err(error) = &outcome
        && D::is_stale_plan(error)
    {
        inner.stale_plans.report();
        if let Err(e) = conn.clear_cached_statements().await {
            tracing::debug!(error = %e, "could not clear the statement cache");
        }
    }
    outcome
}

/// The first read of a unit of work that reads in autocommit mode, on a
/// server: a pooled connection found dead by it is closed and the read runs
/// on another, up to as many times as the
/// pool has connections, as `begin` does for a unit that opens its
/// transaction at once. Nothing was sent on the connection before, so
/// nothing of the unit is lost.
async fn first_read<D: Dispatch, A: Aggregate>(
    inner: &Inner,
    session: &mut Session<D>,
    sql: &TableSql,
    query: Query,
) -> Result<Vec<Loaded<A>>, Error> {
    let Some(pool) = D::of::<Pools>(&inner.pool) else {
        return Err(finished());
    };
    let attempts = pool.options().get_max_connections() + 1;
    let mut attempt = 1;
    loop {
        let State::Reading(conn) = &mut session.state else {
            return Err(finished());
        };
        let outcome = driver::fetch::<D, A>(conn, sql, query.clone()).await;
        match outcome {
            Err(error) if D::is_stale_plan(&error) => {
                // As any read's (`fetch_in`): the unit fails, retryable.
                inner.stale_plans.report();
                if let Err(e) = conn.clear_cached_statements().await {
                    tracing::debug!(error = %e, "could not clear the statement cache");
                }
                return Err(error);
            }
            Err(error) if attempt < attempts && error.is_retryable() => {
                tracing::debug!(%error, attempt, "the first read of a unit of work failed; reading on another connection");
                conn.close_on_drop();
                session.state = State::Finished;
                let conn = pool.acquire().await.map_err(|e| begin_failure::<D>(e).1)?;
                session.state = State::Reading(conn);
                attempt += 1;
            }
            Ok(roots) => {
                return crate::children::load::<D, A>(conn, sql, roots, &inner.executed).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// The writes and the commit of a unit of work's changes, to be awaited
/// ([`RunToEnd`]); `None` when there is nothing to do (no changes, and no
/// transaction open).
fn commit_task<D: Driver>(
    inner: &Arc<Inner>,
    unit: &UnitId,
    session: &mut Session<D>,
    changes: ChangeSet,
) -> Result<Option<RunToEnd>, Error> {
    let (store, this_unit) = (Arc::clone(inner), unit.clone());
    let Session {
        state,
        at_commit,
        own,
        fresh: _,
    } = std::mem::replace(session, Session::new(State::Finished));
    let own = Own { at_commit, own };
    match state {
        State::Finished => Err(finished()),
        State::Reading(conn) if changes.is_empty() && !own.own => {
            *session = Session::new(State::Reading(conn));
            Ok(None)
        }
        State::Reading(mut conn) => Ok(Some(RunToEnd::new(inner, unit, async move {
            // A server's commit of one update and nothing else runs as one
            // statement (SQLite's commit takes its write lock up front).
            let changes = if D::IN_PROCESS || own.own {
                changes
            } else {
                let alone = |meta| {
                    !store.markers
                        || store.folds_markers.get() == Some(&true)
                            && store.statements.get(meta).update_marked.is_some()
                };
                match crate::flush::lone_update(changes, alone) {
                    Ok(lone) => {
                        return commit_alone::<D>(&store, &mut conn, &this_unit, lone).await;
                    }
                    Err(changes) => changes,
                }
            };
            store.transaction_statements.fetch_add(1, Ordering::Relaxed);
            let begin = match &store.begin {
                None => conn.begin().await,
                Some(begin) => conn.begin_with(begin.clone()).await,
            };
            let tx = begin.map_err(|e| {
                rolled_back(driver::backend::<D>("begin the commit transaction", e))
            })?;
            write_and_commit::<D>(&store, tx, &this_unit, changes, own).await
        }))),
        State::Open(tx) => Ok(Some(RunToEnd::new(inner, unit, async move {
            write_and_commit::<D>(&store, tx, &this_unit, changes, own).await
        }))),
    }
}

/// Statements of the caller's own that a commit carries.
struct Own<D: Driver> {
    /// Run after the aggregates are written, before `COMMIT`.
    at_commit: Vec<AtCommit<D>>,
    /// Whether there were any (at commit or earlier in the unit's
    /// transaction).
    own: bool,
}

/// Writes the commit marker (first, so that an outcome check waits for this
/// commit's end), the changes, and commits; when the connection fails during
/// `COMMIT`, finds out from the marker whether the commit was stored.
async fn write_and_commit<D: Driver>(
    inner: &Inner,
    mut tx: sqlx::Transaction<'_, D::Db>,
    unit: &UnitId,
    changes: ChangeSet,
    own: Own<D>,
) -> Result<(), Error> {
    let writes = !changes.is_empty() || own.own;
    let marked = inner.markers && writes;
    if marked {
        inner.executed.fetch_add(1, Ordering::Relaxed);
        commit_marker::write::<D>(&inner.statements.markers, &mut tx, unit)
            .await
            .map_err(|e| marker_error::<D>(unit, e))?;
    }
    writer::<D>(inner, &mut tx)
        .flush(changes)
        .await
        .map_err(rolled_back)?;
    for statements in own.at_commit {
        statements(&mut *tx).await.map_err(|e| {
            rolled_back(driver::backend::<D>(
                "run statements of your own at commit",
                e,
            ))
        })?;
    }
    inner.transaction_statements.fetch_add(1, Ordering::Relaxed);
    match tx.commit().await {
        Ok(()) => {
            if marked {
                inner.count_marked_commit();
            }
            Ok(())
        }
        Err(e) if failure::<D>(&e) == Failure::Connection => {
            if !writes {
                // Nothing was to be stored.
                Err(rolled_back(driver::backend::<D>("commit", e)))
            } else if marked {
                resolve(inner, unit, e).await
            } else {
                Err(Error::CommitOutcomeUnknown {
                    unit_id: unit.to_string(),
                    source: BackendError::new("commit (commit markers are off)", driver_source(e)),
                })
            }
        }
        Err(e) => Err(rolled_back(driver::backend::<D>("commit", e))),
    }
}

/// A commit of one update and nothing else, in autocommit mode: one
/// statement, one round trip, no `BEGIN`/`COMMIT`. With commit markers on,
/// the marker's insert is folded into the update where the database allows
/// it ([`SqlDialect::marked_update`](crate::dialect::SqlDialect::marked_update),
/// PostgreSQL), so it is stored exactly when the update is; where it does
/// not (MySQL/MariaDB), the commit runs in a transaction as any other.
/// Without markers (and on SQLite, whose commit never reaches this), the
/// update alone.
async fn commit_alone<D: Driver>(
    inner: &Inner,
    conn: &mut Conn<D>,
    unit: &UnitId,
    lone: crate::flush::LoneUpdate,
) -> Result<(), Error> {
    let marked = inner.markers;
    let outcome = writer::<D>(inner, conn)
        .update_alone(lone, marked.then_some(unit))
        .await;
    match outcome {
        Ok(()) => {
            if marked {
                inner.count_marked_commit();
            }
            Ok(())
        }
        Err(AloneFailure::Refused(error)) => Err(rolled_back(error)),
        Err(AloneFailure::Failed { meta, id, error }) => match failure::<D>(&error) {
            Failure::Connection if marked => resolve(inner, unit, error).await,
            Failure::Connection => Err(Error::CommitOutcomeUnknown {
                unit_id: unit.to_string(),
                source: BackendError::new("commit (commit markers are off)", driver_source(error)),
            }),
            // The update never writes the aggregate's id: a duplicate key
            // that is not one of its `unique` columns is the marker's.
            Failure::Unique
                if marked
                    && (is_marker_table(&error)
                        || D::unique_column(&error, meta)
                            .is_none_or(|c| c == meta.id_column().name)) =>
            {
                Err(marker_error::<D>(unit, error))
            }
            _ => Err(rolled_back(AloneFailure::not_stored::<D>(meta, &id, error))),
        },
    }
}

/// Whether a database error is about the commit marker table (its key).
fn is_marker_table(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.table() == Some(commit_marker::COMMITS_TABLE)
                || db
                    .constraint()
                    .is_some_and(|c| c.contains(commit_marker::COMMITS_TABLE))
                || db.message().contains(commit_marker::COMMITS_TABLE)
        }
        _ => false,
    }
}

/// The outcome of a commit whose connection failed during `COMMIT`.
async fn resolve(inner: &Inner, unit: &UnitId, error: sqlx::Error) -> Result<(), Error> {
    match inner.check_outcome(unit).await {
        Ok(CommitOutcome::Committed) => {
            tracing::debug!(%unit, %error, "the connection failed during COMMIT; the commit was stored");
            Ok(())
        }
        Ok(CommitOutcome::NotCommitted) => Err(Error::Backend(
            BackendError::new(
                "commit (checked on a new connection: not stored)",
                driver_source(error),
            )
            .rolled_back()
            .retryable(),
        )),
        Err(check) => {
            tracing::debug!(%unit, %error, %check, "the outcome of a commit could not be checked");
            Err(Error::CommitOutcomeUnknown {
                unit_id: unit.to_string(),
                source: BackendError::new("commit", driver_source(error)),
            })
        }
    }
}

/// A failed insert of a commit's marker.
fn marker_error<D: Driver>(unit: &UnitId, error: sqlx::Error) -> Error {
    if failure::<D>(&error) == Failure::Unique {
        return Error::Backend(
            BackendError::new(
                "commit",
                format!(
                    "the outcome of unit of work `{unit}` was asked for before its commit began, and answered `not committed`"
                ),
            )
            .rolled_back()
            .retryable(),
        );
    }
    rolled_back(driver::backend::<D>(
        format!(
            "write the commit marker (table `{}`: SqlxStore::create_tables or ddl make it)",
            commit_marker::COMMITS_TABLE
        ),
        error,
    ))
}

/// The writes of a commit, run where they are awaited; dropped before their
/// end, they are spawned to run to it.
struct RunToEnd {
    writes: Option<Writes>,
    /// Where the outcome of writes that run on after their future was
    /// dropped is kept for `commit_outcome`.
    background: Arc<Background>,
    unit: UnitId,
    /// Whether to remember the outcome of writes that end where they are
    /// awaited: on a store without commit markers, the only record of it.
    remember: bool,
    /// The span the commit was awaited in (the unit of work's), which the
    /// writes stay in if they move to a task of their own.
    span: tracing::Span,
}

/// The commits that ran on in a task of their own after the caller dropped
/// their futures, by unit id: what `commit_outcome` answers from in this
/// process (waiting for one still running) before it looks at the markers.
#[derive(Debug, Default)]
pub(crate) struct Background {
    commits: std::sync::Mutex<BackgroundCommits>,
    /// Outcomes of commits that ended where they were awaited, on a store
    /// without commit markers (SQLite by default), kept [`Background::FINISHED_KEPT`].
    finished: std::sync::Mutex<Finished>,
}

/// Unit id → (when its commit ended, whether it was stored); the size at
/// which it is next swept of outcomes older than `FINISHED_KEPT`.
#[derive(Debug, Default)]
struct Finished {
    outcomes: HashMap<UnitId, (Instant, bool)>,
    sweep_at: usize,
}

/// Unit id → (when its commit went to the background, whether it was
/// stored once it has ended).
type BackgroundCommits = HashMap<UnitId, (Instant, watch::Receiver<Option<bool>>)>;

impl Background {
    /// How long an outcome is kept.
    const KEPT: Duration = Duration::from_secs(3_600);

    fn lock(&self) -> std::sync::MutexGuard<'_, BackgroundCommits> {
        self.commits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn started(&self, unit: UnitId) -> watch::Sender<Option<bool>> {
        let (sender, receiver) = watch::channel(None);
        let mut commits = self.lock();
        if commits.len() >= 1_024 {
            commits.retain(|_, (at, _)| at.elapsed() < Self::KEPT);
        }
        commits.insert(unit, (Instant::now(), receiver));
        sender
    }

    /// How long the outcome of a commit that ended where it was awaited is
    /// kept on a store without commit markers.
    pub(crate) const FINISHED_KEPT: Duration = Duration::from_secs(60);

    /// Records the outcome of a commit that ended where it was awaited
    /// (amortized: the map is swept when it has doubled since the last sweep).
    fn finished(&self, unit: UnitId, stored: bool) {
        let mut finished = self
            .finished
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if finished.outcomes.len() >= finished.sweep_at {
            finished
                .outcomes
                .retain(|_, (at, _)| at.elapsed() < Self::FINISHED_KEPT);
            finished.sweep_at = (finished.outcomes.len() * 2).max(1_024);
        }
        finished.outcomes.insert(unit, (Instant::now(), stored));
    }

    /// The recorded outcome of a commit that ended where it was awaited.
    fn finished_outcome(&self, unit: &UnitId) -> Option<CommitOutcome> {
        let finished = self
            .finished
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (at, stored) = finished.outcomes.get(unit)?;
        (at.elapsed() < Self::FINISHED_KEPT).then_some(if *stored {
            CommitOutcome::Committed
        } else {
            CommitOutcome::NotCommitted
        })
    }

    /// Whether the background commit of `unit` was stored, once it has
    /// ended; `None` when none ran in this process (or its task died).
    async fn outcome(&self, unit: &UnitId) -> Option<CommitOutcome> {
        let mut receiver = self.lock().get(unit).map(|(_, r)| r.clone())?;
        let stored = *receiver.wait_for(Option::is_some).await.ok()?;
        Some(if stored == Some(true) {
            CommitOutcome::Committed
        } else {
            CommitOutcome::NotCommitted
        })
    }
}

/// Whether unit of work `unit` (a UUIDv7, so its id tells when it began)
/// began less than `window` ago.
fn begun_within(unit: &UnitId, window: Duration) -> bool {
    let Some((secs, nanos)) = sqlx::types::Uuid::parse_str(unit.as_str())
        .ok()
        .and_then(|id| id.get_timestamp())
        .map(|t| t.to_unix())
    else {
        return false;
    };
    let begun = std::time::UNIX_EPOCH + Duration::new(secs, nanos);
    std::time::SystemTime::now()
        .duration_since(begun)
        .is_ok_and(|age| age < window)
        || begun > std::time::SystemTime::now()
}

/// The writes and the commit of a unit of work, on its connection.
type Writes = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

impl RunToEnd {
    fn new(
        inner: &Inner,
        unit: &UnitId,
        writes: impl Future<Output = Result<(), Error>> + Send + 'static,
    ) -> Self {
        RunToEnd {
            writes: Some(Box::pin(writes)),
            background: Arc::clone(&inner.background),
            unit: unit.clone(),
            remember: !inner.markers,
            span: tracing::Span::current(),
        }
    }
}

impl Future for RunToEnd {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(writes) = self.writes.as_mut() else {
            return Poll::Ready(Err(finished()));
        };
        let outcome = std::task::ready!(writes.as_mut().poll(cx));
        self.writes = None;
        if self.remember {
            self.background.finished(self.unit.clone(), outcome.is_ok());
        }
        Poll::Ready(outcome)
    }
}

impl Drop for RunToEnd {
    fn drop(&mut self) {
        if let (Some(writes), Ok(runtime)) =
            (self.writes.take(), tokio::runtime::Handle::try_current())
        {
            let outcome = self.background.started(self.unit.clone());
            let span = std::mem::replace(&mut self.span, tracing::Span::none());
            runtime.spawn(
                async move {
                    let stored = writes.await.is_ok();
                    let _ = outcome.send(Some(stored));
                }
                .instrument(span),
            );
        }
    }
}

fn writer<'a, D: Driver>(inner: &'a Inner, conn: &'a mut driver::Conn<D>) -> Writer<'a, D> {
    Writer {
        conn,
        statements: &inner.statements,
        counter: &inner.executed,
    }
}
