//! [`SqlxStore`]: the uow store over an sqlx connection pool.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Executor, MySql, Postgres, Sqlite};
use tokio::sync::Mutex;
use uow_core::{
    Aggregate, AggregateMeta, BackendError, ChangeSet, Error, Query, Store, Transaction, UnitOfWork,
};

use crate::dialect::Dialect;
use crate::driver::mysql::MySqlDriver;
use crate::driver::postgres::PostgresDriver;
use crate::driver::sqlite::SqliteDriver;
use crate::driver::{self, Driver, connection_error};
use crate::flush::Writer;
use crate::schema;
use crate::statements::Statements;

/// The isolation level of a unit of work's transaction on PostgreSQL and
/// MySQL/MariaDB. SQLite transactions are always serializable.
///
/// Whatever the level, lost updates are prevented by the version check on
/// every `UPDATE` and `DELETE`. A higher level adds consistency between the
/// reads of one unit of work, at the price of the database aborting more
/// transactions; those aborts surface as retryable errors
/// ([`Error::is_conflict`]) that [`uow_core::retry`] re-runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Isolation {
    /// Each read sees what was committed when it ran — the same view the
    /// in-memory store gives. The default.
    #[default]
    ReadCommitted,
    /// All reads of a unit of work see one snapshot.
    RepeatableRead,
    /// Units of work behave as if run one after the other.
    Serializable,
}

impl Isolation {
    fn begin_postgres(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "BEGIN ISOLATION LEVEL READ COMMITTED",
            Isolation::RepeatableRead => "BEGIN ISOLATION LEVEL REPEATABLE READ",
            Isolation::Serializable => "BEGIN ISOLATION LEVEL SERIALIZABLE",
        }
    }

    fn set_mysql_session(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
            Isolation::RepeatableRead => "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
            Isolation::Serializable => "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        }
    }
}

/// How [`SqlxStore::connect_with`] sets up its pool.
///
/// ```
/// use std::time::Duration;
/// use uow_sqlx::{Isolation, StoreOptions};
///
/// let options = StoreOptions::new()
///     .max_connections(32)
///     .acquire_timeout(Duration::from_secs(2))
///     .isolation(Isolation::Serializable);
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct StoreOptions {
    max_connections: u32,
    acquire_timeout: Duration,
    busy_timeout: Duration,
    isolation: Isolation,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(5),
            isolation: Isolation::ReadCommitted,
        }
    }
}

impl StoreOptions {
    /// The defaults: 10 connections, 10 s to acquire one, 5 s SQLite busy
    /// timeout, READ COMMITTED.
    pub fn new() -> Self {
        StoreOptions::default()
    }

    /// The most connections the pool opens. Each unit of work holds one for
    /// its whole life, so this bounds the units of work running at once.
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How long `begin` waits for a free connection before failing with a
    /// backend error (rather than hanging when the pool is exhausted).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// How long a SQLite writer waits for the write lock before failing
    /// with a retryable error.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// The isolation level of units of work (PostgreSQL, MySQL/MariaDB).
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }
}

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
/// - **PostgreSQL, MySQL/MariaDB**: the unit of work runs in one transaction
///   from `begin` to `commit`, at the configured [`Isolation`]
///   (default READ COMMITTED).
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
    isolation: Isolation,
    pub(crate) executed: AtomicU64,
}

#[derive(Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
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
        let scheme = url.split(':').next().unwrap_or_default();
        let context = || format!("connect to `{}`", redact(url));
        let pool = match scheme {
            "sqlite" => {
                let connect = SqliteConnectOptions::from_str(url)
                    .map_err(|e| connection_error(context(), e))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(options.busy_timeout)
                    .foreign_keys(true);
                Pool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(options.max_connections)
                        .acquire_timeout(options.acquire_timeout)
                        .test_before_acquire(false)
                        .connect_with(connect)
                        .await
                        .map_err(|e| connection_error(context(), e))?,
                )
            }
            "postgres" | "postgresql" => {
                let connect =
                    PgConnectOptions::from_str(url).map_err(|e| connection_error(context(), e))?;
                Pool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(options.max_connections)
                        .acquire_timeout(options.acquire_timeout)
                        .test_before_acquire(false)
                        .connect_with(connect)
                        .await
                        .map_err(|e| connection_error(context(), e))?,
                )
            }
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                let connect = MySqlConnectOptions::from_str(&url)
                    .map_err(|e| connection_error(context(), e))?;
                let isolation = options.isolation.set_mysql_session();
                Pool::MySql(
                    MySqlPoolOptions::new()
                        .max_connections(options.max_connections)
                        .acquire_timeout(options.acquire_timeout)
                        .test_before_acquire(false)
                        .after_connect(move |conn, _| {
                            Box::pin(async move {
                                conn.execute(isolation).await?;
                                Ok(())
                            })
                        })
                        .connect_with(connect)
                        .await
                        .map_err(|e| connection_error(context(), e))?,
                )
            }
            _ => {
                return Err(Error::Backend(BackendError::new(
                    context(),
                    format!(
                        "unsupported URL scheme `{scheme}:`; use sqlite:, postgres: or mysql: (mariadb:)"
                    ),
                )));
            }
        };
        Ok(SqlxStore::new(pool, options.isolation))
    }

    fn new(pool: Pool, isolation: Isolation) -> Self {
        let dialect = match pool {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
            Pool::MySql(_) => Dialect::MySql,
        };
        SqlxStore {
            inner: Arc::new(Inner {
                pool,
                statements: Statements::new(dialect),
                isolation,
                executed: AtomicU64::new(0),
            }),
        }
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The dialect of the database.
    pub fn dialect(&self) -> Dialect {
        match self.inner.pool {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
            Pool::MySql(_) => Dialect::MySql,
        }
    }

    /// The SQLite pool, if this is a SQLite store (for queries of your own,
    /// such as read models).
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.inner.pool {
            Pool::Sqlite(pool) => Some(pool),
            _ => None,
        }
    }

    /// The PostgreSQL pool, if this is a PostgreSQL store.
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.inner.pool {
            Pool::Postgres(pool) => Some(pool),
            _ => None,
        }
    }

    /// The MySQL/MariaDB pool, if this is a MySQL store.
    pub fn mysql_pool(&self) -> Option<&MySqlPool> {
        match &self.inner.pool {
            Pool::MySql(pool) => Some(pool),
            _ => None,
        }
    }

    /// How many statements the units of work of this store have sent, all
    /// told (reads, writes, savepoints; not `BEGIN`/`COMMIT`). For tests and
    /// diagnostics of round trips.
    pub fn statements_executed(&self) -> u64 {
        self.inner.executed.load(Ordering::Relaxed)
    }

    /// The DDL that creates the tables of `aggregates` in this store's
    /// dialect, to seed a migration file.
    pub fn ddl(&self, aggregates: &[&AggregateMeta]) -> String {
        schema::ddl(self.dialect(), aggregates)
    }

    /// The DDL of the tables of unit of work `U`
    /// (`store.ddl_for::<Allocation<SqlxStore>>()`).
    pub fn ddl_for<U: UnitOfWork>(&self) -> String {
        let mut ddl = self.ddl(U::AGGREGATES);
        if U::OUTBOX {
            for statement in crate::outbox::outbox_ddl(self.dialect()) {
                ddl.push_str(&statement);
                ddl.push_str(";\n");
            }
        }
        ddl
    }

    /// Creates the tables (and indexes) of `aggregates` that do not exist
    /// yet. Meant for development and tests; production schemas belong in
    /// migrations (see [`ddl`](Self::ddl)).
    pub async fn create_tables(&self, aggregates: &[&AggregateMeta]) -> Result<(), Error> {
        for meta in aggregates {
            for statement in schema::create_table(self.dialect(), meta) {
                self.execute_ddl(statement, meta.table).await?;
            }
        }
        Ok(())
    }

    async fn execute_ddl(&self, statement: String, table: &str) -> Result<(), Error> {
        let statement = sqlx::AssertSqlSafe(statement);
        let outcome = match &self.inner.pool {
            Pool::Sqlite(pool) => pool.execute(statement).await.map(drop),
            Pool::Postgres(pool) => pool.execute(statement).await.map(drop),
            Pool::MySql(pool) => match pool.execute(statement).await {
                // MySQL has no CREATE INDEX IF NOT EXISTS: an index that
                // exists already (ER_DUP_KEYNAME) is fine.
                Err(sqlx::Error::Database(db))
                    if db.code().as_deref() == Some("42000")
                        && db.message().contains("Duplicate key name") =>
                {
                    Ok(())
                }
                other => other.map(drop),
            },
        };
        outcome.map_err(|e| connection_error(format!("create table {table}"), e))
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
        for statement in crate::outbox::outbox_ddl(self.dialect()) {
            self.execute_ddl(statement, crate::outbox::OUTBOX_TABLE)
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
    pub async fn verify_tables(&self, aggregates: &[&AggregateMeta]) -> Result<(), Error> {
        for meta in aggregates {
            let table = match &self.inner.pool {
                Pool::Sqlite(pool) => schema::sqlite_table(pool, meta.table).await,
                Pool::Postgres(pool) => schema::postgres_table(pool, meta.table).await,
                Pool::MySql(pool) => schema::mysql_table(pool, meta.table).await,
            }
            .map_err(|e| connection_error(format!("read the columns of {}", meta.table), e))?;
            schema::verify(self.dialect(), meta, &table)?;
        }
        Ok(())
    }

    /// Checks the tables of unit of work `U` (see [`verify_tables`](Self::verify_tables)).
    pub async fn verify_tables_for<U: UnitOfWork>(&self) -> Result<(), Error> {
        self.verify_tables(U::AGGREGATES).await?;
        if U::OUTBOX {
            self.verify_tables(&[&crate::outbox::OUTBOX_META]).await?;
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

impl From<SqlitePool> for SqlxStore {
    /// A store over an existing SQLite pool. Configure it with a busy timeout
    /// (and WAL mode for files) as [`SqlxStore::connect`] does.
    fn from(pool: SqlitePool) -> Self {
        SqlxStore::new(Pool::Sqlite(pool), Isolation::default())
    }
}

impl From<PgPool> for SqlxStore {
    /// A store over an existing PostgreSQL pool; units of work run at READ
    /// COMMITTED.
    fn from(pool: PgPool) -> Self {
        SqlxStore::new(Pool::Postgres(pool), Isolation::default())
    }
}

impl From<MySqlPool> for SqlxStore {
    /// A store over an existing MySQL/MariaDB pool; units of work run at the
    /// pool's session isolation level (InnoDB's default is REPEATABLE READ;
    /// the version check prevents lost updates at any level).
    fn from(pool: MySqlPool) -> Self {
        SqlxStore::new(Pool::MySql(pool), Isolation::default())
    }
}

/// One unit of work's connection to the database.
#[derive(Debug)]
pub struct SqlxTransaction {
    inner: Arc<Inner>,
    session: Mutex<Session>,
}

#[derive(Debug)]
enum Session {
    /// Autocommit reads; the write transaction is opened at commit.
    /// `None` once committed.
    Sqlite(Option<PoolConnection<Sqlite>>),
    /// The unit of work's transaction; `None` once committed.
    Postgres(Option<sqlx::Transaction<'static, Postgres>>),
    MySql(Option<sqlx::Transaction<'static, MySql>>),
}

impl Store for SqlxStore {
    type Tx = SqlxTransaction;

    async fn begin(&self) -> Result<SqlxTransaction, Error> {
        let inner = Arc::clone(&self.inner);
        let context = "begin a unit of work";
        let session = match &inner.pool {
            Pool::Sqlite(pool) => Session::Sqlite(Some(
                pool.acquire()
                    .await
                    .map_err(|e| connection_error(context, e))?,
            )),
            Pool::Postgres(pool) => Session::Postgres(Some(
                pool.begin_with(inner.isolation.begin_postgres())
                    .await
                    .map_err(|e| connection_error(context, e))?,
            )),
            Pool::MySql(pool) => Session::MySql(Some(
                pool.begin()
                    .await
                    .map_err(|e| connection_error(context, e))?,
            )),
        };
        Ok(SqlxTransaction {
            inner,
            session: Mutex::new(session),
        })
    }
}

fn finished() -> Error {
    Error::Backend(BackendError::new(
        "use a unit of work",
        "its transaction has ended with commit()",
    ))
}

impl Transaction for SqlxTransaction {
    async fn fetch<A: Aggregate>(&self, query: Query) -> Result<Vec<A>, Error> {
        let sql = self.inner.statements.get(A::META);
        self.inner.executed.fetch_add(1, Ordering::Relaxed);
        let mut session = self.session.lock().await;
        match &mut *session {
            Session::Sqlite(Some(conn)) => {
                driver::fetch::<SqliteDriver, A>(conn, &sql, query).await
            }
            Session::Postgres(Some(tx)) => {
                driver::fetch::<PostgresDriver, A>(tx, &sql, query).await
            }
            Session::MySql(Some(tx)) => driver::fetch::<MySqlDriver, A>(tx, &sql, query).await,
            Session::Sqlite(None) | Session::Postgres(None) | Session::MySql(None) => {
                Err(finished())
            }
        }
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), Error> {
        let writes = changes.len();
        let mut session = self.session.lock().await;
        let inner = Arc::clone(&self.inner);
        // A commit whose future is dropped half-way (a timeout, a cancelled
        // request) still runs to its end — all of the unit of work or
        // nothing, as an in-memory commit — instead of leaving its
        // connection in the middle of a statement: a MySQL connection left so
        // waits for ever, holding its row locks and its place in the pool.
        // The writes run in the caller's task (no hop to another thread) and
        // move to a task of their own only if the caller drops them.
        let task = match &mut *session {
            Session::Sqlite(conn) => {
                if changes.is_empty() {
                    return Ok(());
                }
                let mut conn = conn.take().ok_or_else(finished)?;
                RunToEnd::new(async move {
                    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(|e| {
                        driver::backend::<SqliteDriver>("begin the commit transaction", e)
                    })?;
                    writer::<SqliteDriver>(&inner, &mut tx)
                        .flush(changes)
                        .await?;
                    tx.commit()
                        .await
                        .map_err(|e| driver::backend::<SqliteDriver>("commit", e))
                })
            }
            Session::Postgres(tx) => {
                let mut tx = tx.take().ok_or_else(finished)?;
                RunToEnd::new(async move {
                    writer::<PostgresDriver>(&inner, &mut tx)
                        .flush(changes)
                        .await?;
                    tx.commit()
                        .await
                        .map_err(|e| driver::backend::<PostgresDriver>("commit", e))
                })
            }
            Session::MySql(tx) => {
                let mut tx = tx.take().ok_or_else(finished)?;
                RunToEnd::new(async move {
                    writer::<MySqlDriver>(&inner, &mut tx)
                        .flush(changes)
                        .await?;
                    tx.commit()
                        .await
                        .map_err(|e| driver::backend::<MySqlDriver>("commit", e))
                })
            }
        };
        let outcome = task.await;
        match &outcome {
            Ok(()) => tracing::debug!(writes, "unit of work committed"),
            Err(e) => tracing::debug!(writes, error = %e, "unit of work rolled back"),
        }
        outcome
    }
}

/// The writes of a commit, run where they are awaited; dropped before their
/// end, they are spawned to run to it.
struct RunToEnd {
    writes: Option<Writes>,
}

/// The writes and the commit of a unit of work, on its connection.
type Writes = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

impl RunToEnd {
    fn new(writes: impl Future<Output = Result<(), Error>> + Send + 'static) -> Self {
        RunToEnd {
            writes: Some(Box::pin(writes)),
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
        Poll::Ready(outcome)
    }
}

impl Drop for RunToEnd {
    fn drop(&mut self) {
        if let (Some(writes), Ok(runtime)) =
            (self.writes.take(), tokio::runtime::Handle::try_current())
        {
            runtime.spawn(writes);
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
