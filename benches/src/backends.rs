//! The databases the benchmark runs on, and the one pool per database that
//! all three implementations share: the same pool settings by construction,
//! and the settings `SqlxStore::connect` uses.

use std::str::FromStr;
use std::time::Duration;

use sea_orm::{DatabaseConnection, SqlxMySqlConnector, SqlxPostgresConnector, SqlxSqliteConnector};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Executor, Row as _};
use uow_core::Aggregate;
use uow_sqlx::SqlxStore;

use crate::handwritten::Handwritten;
use crate::model::{Account, INSERTED_FROM, Ledger, SEEDED, TABLE, account};

/// The pool settings of `SqlxStore::connect` (its `StoreOptions` defaults).
pub const MAX_CONNECTIONS: u32 = 10;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A database the benchmark runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in WAL mode (synchronous = NORMAL).
    SqliteFile,
    /// An in-memory SQLite database (shared cache, as `sqlite::memory:` gives).
    SqliteMemory,
    /// PostgreSQL over TCP.
    Postgres,
    /// MySQL/MariaDB over TCP.
    MySql,
}

impl Backend {
    pub const ALL: [Backend; 4] = [
        Backend::SqliteFile,
        Backend::SqliteMemory,
        Backend::Postgres,
        Backend::MySql,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Backend::SqliteFile => "SQLite file (WAL)",
            Backend::SqliteMemory => "SQLite in memory",
            Backend::Postgres => "PostgreSQL",
            Backend::MySql => "MariaDB",
        }
    }

    /// The short name used on the command line (`--backends sqlite,postgres`).
    pub fn key(self) -> &'static str {
        match self {
            Backend::SqliteFile => "sqlite",
            Backend::SqliteMemory => "sqlite-memory",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }

    pub fn is_sqlite(self) -> bool {
        matches!(self, Backend::SqliteFile | Backend::SqliteMemory)
    }
}

/// The pool of one database, shared by the three implementations.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// One database, set up with the table and the seeded rows, and the three
/// implementations' handles on it.
pub struct Database {
    pub backend: Backend,
    pub pool: Pool,
    /// uow: `SqlxStore::from(pool)` (commit markers as the dialect's
    /// default: on for the servers, off for SQLite).
    pub store: SqlxStore,
    /// uow on the same pool with its commit markers on.
    pub marked: SqlxStore,
    /// uow on the same pool with its commit markers off.
    pub unmarked: SqlxStore,
    /// Hand-written sqlx: static SQL on the same pool.
    pub hand: Handwritten,
    /// SeaORM: `Sqlx*Connector::from_sqlx_*_pool(pool)`.
    pub sea: DatabaseConnection,
    /// `SELECT version()` or `sqlite_version()`.
    pub server_version: String,
    sqlite_file: Option<std::path::PathBuf>,
}

/// Where the server URLs come from: `BENCH_POSTGRES_URL`, then
/// `UOW_TEST_POSTGRES_URL`, then the local default (likewise for MySQL).
pub fn server_url(backend: Backend) -> Option<String> {
    let (own, test, default) = match backend {
        Backend::Postgres => (
            "BENCH_POSTGRES_URL",
            "UOW_TEST_POSTGRES_URL",
            "postgres://postgres@127.0.0.1:5432/test",
        ),
        Backend::MySql => (
            "BENCH_MYSQL_URL",
            "UOW_TEST_MYSQL_URL",
            "mysql://root@127.0.0.1:3306/test",
        ),
        _ => return None,
    };
    Some(
        std::env::var(own)
            .or_else(|_| std::env::var(test))
            .unwrap_or_else(|_| default.to_owned()),
    )
}

/// The database the benchmark's own tables live in on a server: created on
/// first use, so that the tables it drops and recreates (its own, and uow's
/// `uow_commits`/`uow_inbox`) never touch the database the URL names.
pub const BENCH_DATABASE: &str = "uow_bench";

/// `url` with its database replaced by `name` (the rest kept).
pub fn with_database(url: &str, name: &str) -> String {
    let authority = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    format!("{}/{name}{query}", &base[..path])
}

/// Connects to the server of `url` and creates [`BENCH_DATABASE`] there if
/// it is missing; returns the URL of that database.
async fn bench_database(backend: Backend, url: &str) -> Result<String, sqlx::Error> {
    match backend {
        Backend::Postgres => {
            let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                    .bind(BENCH_DATABASE)
                    .fetch_one(&mut admin)
                    .await?;
            if !exists {
                admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "CREATE DATABASE {BENCH_DATABASE}"
                    )))
                    .await?;
            }
        }
        Backend::MySql => {
            let mut admin = <sqlx::MySqlConnection as sqlx::Connection>::connect(url).await?;
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "CREATE DATABASE IF NOT EXISTS {BENCH_DATABASE}"
                )))
                .await?;
        }
        Backend::SqliteFile | Backend::SqliteMemory => return Ok(url.to_owned()),
    }
    Ok(with_database(url, BENCH_DATABASE))
}

fn sqlite_options(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true))
}

async fn connect(backend: Backend) -> Result<(Pool, Option<std::path::PathBuf>), sqlx::Error> {
    Ok(match backend {
        Backend::SqliteFile | Backend::SqliteMemory => {
            let (url, file) = if backend == Backend::SqliteFile {
                let path =
                    std::env::temp_dir().join(format!("uow-bench-{}.db", std::process::id()));
                remove_sqlite(&path);
                (format!("sqlite://{}", path.display()), Some(path))
            } else {
                ("sqlite::memory:".to_owned(), None)
            };
            let pool = SqlitePoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .test_before_acquire(false)
                .connect_with(sqlite_options(&url)?)
                .await?;
            (Pool::Sqlite(pool), file)
        }
        Backend::Postgres => {
            let url = bench_database(backend, &server_url(backend).unwrap_or_default()).await?;
            let pool = PgPoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .test_before_acquire(false)
                .connect_with(PgConnectOptions::from_str(&url)?)
                .await?;
            (Pool::Postgres(pool), None)
        }
        Backend::MySql => {
            let url = bench_database(backend, &server_url(backend).unwrap_or_default()).await?;
            let pool = MySqlPoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .test_before_acquire(false)
                // What `SqlxStore::connect` does for its default isolation.
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                            .await?;
                        Ok(())
                    })
                })
                .connect_with(MySqlConnectOptions::from_str(&url)?)
                .await?;
            (Pool::MySql(pool), None)
        }
    })
}

fn remove_sqlite(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

impl Database {
    /// Connects, creates the table afresh (uow's DDL) and stores the seeded
    /// accounts.
    pub async fn open(backend: Backend) -> Result<Database, crate::handwritten::BoxError> {
        let (pool, sqlite_file) = connect(backend).await?;
        let (store, sea, server_version) = match &pool {
            Pool::Sqlite(p) => (
                SqlxStore::from(p.clone()),
                SqlxSqliteConnector::from_sqlx_sqlite_pool(p.clone()),
                format!(
                    "SQLite {}",
                    sqlx::query("SELECT sqlite_version()")
                        .fetch_one(p)
                        .await?
                        .try_get::<String, _>(0)?
                ),
            ),
            Pool::Postgres(p) => (
                SqlxStore::from(p.clone()),
                SqlxPostgresConnector::from_sqlx_postgres_pool(p.clone()),
                sqlx::query("SELECT version()")
                    .fetch_one(p)
                    .await?
                    .try_get::<String, _>(0)?,
            ),
            Pool::MySql(p) => (
                SqlxStore::from(p.clone()),
                SqlxMySqlConnector::from_sqlx_mysql_pool(p.clone()),
                format!(
                    "MySQL/MariaDB {}",
                    sqlx::query("SELECT version()")
                        .fetch_one(p)
                        .await?
                        .try_get::<String, _>(0)?
                ),
            ),
        };
        let server_version = server_version
            .split(" on ")
            .next()
            .unwrap_or_default()
            .to_owned();
        let db = Database {
            backend,
            hand: Handwritten::new(backend, pool.clone()),
            pool,
            marked: store.with_commit_markers(true),
            unmarked: store.with_commit_markers(false),
            store,
            sea,
            server_version,
            sqlite_file,
        };
        db.execute(&format!("DROP TABLE IF EXISTS {TABLE}")).await?;
        // The marked store's tables: the marker table too.
        db.execute("DROP TABLE IF EXISTS uow_commits").await?;
        db.marked.create_tables(&[Account::META]).await?;
        db.seed().await?;
        crate::children::setup(&db).await?;
        crate::features::setup(&db).await?;
        Ok(db)
    }

    /// Statements sent by the three uow stores.
    pub fn statements_executed(&self) -> u64 {
        self.store.statements_executed()
            + self.marked.statements_executed()
            + self.unmarked.statements_executed()
    }

    /// Round trips of the three stores' units of work (statements,
    /// `BEGIN`, `COMMIT`).
    pub fn round_trips(&self) -> u64 {
        self.store.round_trips() + self.marked.round_trips() + self.unmarked.round_trips()
    }

    async fn seed(&self) -> Result<(), uow_core::Error> {
        let mut uow = Ledger::begin(&self.store).await?;
        for id in 1..=SEEDED {
            uow.accounts.add(account(id))?;
        }
        uow.commit().await?;
        Ok(())
    }

    /// Runs one statement outside any benchmark (set-up, clean-up).
    pub async fn execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match &self.pool {
            Pool::Sqlite(p) => p.execute(sql).await.map(drop),
            Pool::Postgres(p) => p.execute(sql).await.map(drop),
            Pool::MySql(p) => p.execute(sql).await.map(drop),
        }
    }

    /// Deletes the rows a bulk-insert run added.
    pub async fn delete_inserted(&self) -> Result<(), sqlx::Error> {
        self.execute(&format!("DELETE FROM {TABLE} WHERE id >= {INSERTED_FROM}"))
            .await
    }

    pub async fn close(self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
            Pool::MySql(p) => p.close().await,
        }
        if let Some(path) = &self.sqlite_file {
            remove_sqlite(path);
        }
    }
}
