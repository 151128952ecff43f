//! [`SqlxStore`]: the uow store over an sqlx connection pool.

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Executor;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::Mutex;
use uow_core::{
    Aggregate, AggregateMeta, BackendError, ChangeSet, Error, Query, Store, Transaction, UnitOfWork,
};

use crate::dialect::Dialect;
use crate::schema;
use crate::sqlite;
use crate::statements::Statements;

/// A uow [`Store`] backed by a database through sqlx.
///
/// Each unit of work holds one pooled connection for its life and commits in
/// one database transaction; every `UPDATE` and `DELETE` carries
/// `WHERE id = ? AND version = ?` and a statement that matches no row fails
/// the commit with [`Error::Conflict`]. Statement texts are built once per
/// aggregate and prepared once per connection; values are always bound.
///
/// Cloning gives another handle to the same pool.
///
/// ```no_run
/// # async fn run() -> Result<(), uow_core::Error> {
/// let store = uow_sqlx::SqlxStore::connect("sqlite://allocation.db").await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct SqlxStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: Pool,
    statements: Statements,
}

#[derive(Debug)]
enum Pool {
    Sqlite(SqlitePool),
}

impl SqlxStore {
    /// Connects to the database at `url`: `sqlite:` URLs for now
    /// (`sqlite://path/to/file.db`, created if missing, or `sqlite::memory:`).
    ///
    /// SQLite files are opened in WAL mode with a 5 s busy timeout, so readers
    /// never wait for the writer and writers queue instead of failing.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|e| sqlite::backend(&format!("parse the URL `{url}`"), e))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(|e| sqlite::backend(&format!("connect to `{url}`"), e))?;
                Ok(SqlxStore::from(pool))
            }
            _ => Err(Error::Backend(BackendError::new(
                format!("connect to `{url}`"),
                format!(
                    "unsupported URL scheme `{scheme}:`; this version of uow-sqlx supports `sqlite:`"
                ),
            ))),
        }
    }

    /// The dialect of the database.
    pub fn dialect(&self) -> Dialect {
        match self.inner.pool {
            Pool::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// The underlying SQLite pool, if this is a SQLite store (for queries of
    /// your own, such as read models).
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.inner.pool {
            Pool::Sqlite(pool) => Some(pool),
        }
    }

    /// The DDL that creates the tables of `aggregates` in this store's
    /// dialect, to seed a migration file.
    pub fn ddl(&self, aggregates: &[&AggregateMeta]) -> String {
        schema::ddl(self.dialect(), aggregates)
    }

    /// The DDL of the tables of unit of work `U`
    /// (`store.ddl_for::<Allocation<SqlxStore>>()`).
    pub fn ddl_for<U: UnitOfWork>(&self) -> String {
        self.ddl(U::AGGREGATES)
    }

    /// Creates the missing tables of unit of work `U`
    /// (`store.create_tables_for::<Allocation<SqlxStore>>()`).
    pub async fn create_tables_for<U: UnitOfWork>(&self) -> Result<(), Error> {
        self.create_tables(U::AGGREGATES).await
    }

    /// Creates the tables (and indexes) of `aggregates` that do not exist yet.
    /// Meant for development and tests; production schemas belong in
    /// migrations (see [`ddl`](Self::ddl)).
    pub async fn create_tables(&self, aggregates: &[&AggregateMeta]) -> Result<(), Error> {
        for meta in aggregates {
            for statement in schema::create_table(self.dialect(), meta) {
                match &self.inner.pool {
                    Pool::Sqlite(pool) => pool
                        .execute(sqlx::AssertSqlSafe(statement))
                        .await
                        .map_err(|e| sqlite::backend(&format!("create table {}", meta.table), e))?,
                };
            }
        }
        Ok(())
    }
}

impl From<SqlitePool> for SqlxStore {
    /// A store over an existing SQLite pool. Configure it with a busy timeout
    /// (and WAL mode for files) as [`SqlxStore::connect`] does.
    fn from(pool: SqlitePool) -> Self {
        SqlxStore {
            inner: Arc::new(Inner {
                pool: Pool::Sqlite(pool),
                statements: Statements::new(Dialect::Sqlite),
            }),
        }
    }
}

/// One unit of work's connection to the database.
#[derive(Debug)]
pub struct SqlxTransaction {
    inner: Arc<Inner>,
    connection: Mutex<Connection>,
}

#[derive(Debug)]
enum Connection {
    Sqlite(PoolConnection<sqlx::Sqlite>),
}

impl Store for SqlxStore {
    type Tx = SqlxTransaction;

    fn begin(&self) -> impl Future<Output = Result<Self::Tx, Error>> + Send {
        let inner = Arc::clone(&self.inner);
        async move {
            let connection = match &inner.pool {
                Pool::Sqlite(pool) => Connection::Sqlite(
                    pool.acquire()
                        .await
                        .map_err(|e| sqlite::backend("acquire a connection", e))?,
                ),
            };
            Ok(SqlxTransaction {
                inner,
                connection: Mutex::new(connection),
            })
        }
    }
}

impl Transaction for SqlxTransaction {
    async fn fetch<A: Aggregate>(&self, query: Query) -> Result<Vec<A>, Error> {
        let sql = self.inner.statements.get(A::META);
        let mut connection = self.connection.lock().await;
        match &mut *connection {
            Connection::Sqlite(conn) => sqlite::fetch::<A>(conn, &sql, query).await,
        }
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), Error> {
        if changes.is_empty() {
            return Ok(());
        }
        let writes = changes.len();
        let mut connection = self.connection.lock().await;
        let outcome = match &mut *connection {
            Connection::Sqlite(conn) => sqlite::commit(conn, &self.inner.statements, changes).await,
        };
        match &outcome {
            Ok(()) => tracing::debug!(writes, "unit of work committed"),
            Err(e) => tracing::debug!(writes, error = %e, "unit of work rolled back"),
        }
        outcome
    }
}
