//! The stores the contract suite runs against.
//!
//! Server backends read their URL from `UOW_TEST_POSTGRES_URL` and
//! `UOW_TEST_MYSQL_URL`. When a URL is unset the backend's tests are skipped
//! and say so on the terminal (once per test binary) — unless `CI=true`, in
//! which case an unset or unreachable server fails the test. Each test gets a
//! schema (PostgreSQL) or database (MySQL) of its own, so tests run in
//! parallel and rerun on a dirty server; leftovers of finished test processes
//! are dropped on first use.

use std::future::Future;
use std::io::Write;
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{ConnectOptions, Connection, Executor};
use tokio::sync::OnceCell;
use uow_core::{InMemoryStore, Store, backend::AggregateMeta};
use uow_sqlx::{SqlxStore, StoreOptions};

use crate::bank::TABLES;

/// A backend: how to make a fresh, isolated store.
pub trait Backend {
    /// The store type.
    type Store: Store + Clone;
    /// The backend's name, as in test names.
    const NAME: &'static str;
    /// A fresh store with no tables, or `None` when the backend is not
    /// available here and not required.
    fn empty() -> impl Future<Output = Option<Self::Store>>;
    /// A fresh store with the tables of `aggregates`.
    fn fresh_with(
        aggregates: &'static [&'static AggregateMeta],
    ) -> impl Future<Output = Option<Self::Store>>;
    /// A fresh store with the bank's tables.
    fn fresh() -> impl Future<Output = Option<Self::Store>> {
        Self::fresh_with(TABLES)
    }
}

/// The in-memory store.
pub struct InMemory;

impl Backend for InMemory {
    type Store = InMemoryStore;
    const NAME: &'static str = "in_memory";
    async fn empty() -> Option<InMemoryStore> {
        Some(InMemoryStore::new())
    }
    async fn fresh_with(_: &'static [&'static AggregateMeta]) -> Option<InMemoryStore> {
        Some(InMemoryStore::new())
    }
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A name no other test of any process uses: `uow_t_<pid>_<n>`.
fn unique_name() -> String {
    format!(
        "uow_t_{}_{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    )
}

/// SQLite, one new database file per test in the temp directory.
pub struct Sqlite;

impl Backend for Sqlite {
    type Store = SqlxStore;
    const NAME: &'static str = "sqlite";
    async fn empty() -> Option<SqlxStore> {
        Sqlite::empty_with(StoreOptions::new()).await
    }
    async fn fresh_with(aggregates: &'static [&'static AggregateMeta]) -> Option<SqlxStore> {
        with_tables(Self::empty().await, aggregates).await
    }
}

impl Sqlite {
    /// A fresh store with no tables, connected with `options`.
    pub async fn empty_with(options: StoreOptions) -> Option<SqlxStore> {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        Some(
            SqlxStore::connect_with(&format!("sqlite://{}", path.display()), options)
                .await
                .expect("open a SQLite file in the temp directory"),
        )
    }
}

async fn with_tables(store: Option<SqlxStore>, aggregates: &[&AggregateMeta]) -> Option<SqlxStore> {
    let store = store?;
    store
        .create_tables(aggregates)
        .await
        .expect("create the tables");
    Some(store)
}

/// Whether the run requires every server suite (`CI=true`).
pub fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The URL of a server backend, or `None` (after saying so once) when it is
/// not configured and not required.
fn server_url(variable: &str, backend: &str, said: &OnceLock<()>) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if required() => panic!(
            "{variable} is not set, and CI=true requires the {backend} suites: set it to a \
             reachable server (see .ci/run)"
        ),
        _ => {
            said.get_or_init(|| {
                // Written past the test harness's capture, so it shows.
                let _ = writeln!(
                    std::io::stderr(),
                    "note: {backend} suites skipped in this test binary: {variable} is not set"
                );
            });
            None
        }
    }
}

fn unreachable_server(backend: &str, url: &str, error: impl std::fmt::Display) -> ! {
    panic!("{backend} at {url} is configured but unreachable: {error}")
}

/// Whether the test process that made `name` has ended.
fn abandoned(name: &str) -> bool {
    let pid = name
        .strip_prefix("uow_t_")
        .and_then(|rest| rest.split('_').next());
    match pid {
        Some(pid) if pid == std::process::id().to_string() => false,
        Some(pid) => !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        None => false,
    }
}

/// PostgreSQL: a new schema per test, selected through `search_path`.
pub struct Postgres;

static POSTGRES_SAID: OnceLock<()> = OnceLock::new();
static POSTGRES_SWEPT: OnceCell<()> = OnceCell::const_new();

impl Postgres {
    /// The configured URL, if any.
    pub fn url() -> Option<String> {
        server_url("UOW_TEST_POSTGRES_URL", "PostgreSQL", &POSTGRES_SAID)
    }
}

impl Backend for Postgres {
    type Store = SqlxStore;
    const NAME: &'static str = "postgres";
    async fn empty() -> Option<SqlxStore> {
        Postgres::empty_with(StoreOptions::new().max_connections(5)).await
    }
    async fn fresh_with(aggregates: &'static [&'static AggregateMeta]) -> Option<SqlxStore> {
        with_tables(Self::empty().await, aggregates).await
    }
}

impl Postgres {
    /// A fresh store with no tables, connected with `options`.
    pub async fn empty_with(options: StoreOptions) -> Option<SqlxStore> {
        let url = Postgres::url()?;
        let admin_options = sqlx::postgres::PgConnectOptions::from_str(&url)
            .unwrap_or_else(|e| unreachable_server("PostgreSQL", &url, e));
        let mut admin = admin_options
            .connect()
            .await
            .unwrap_or_else(|e| unreachable_server("PostgreSQL", &url, e));
        POSTGRES_SWEPT
            .get_or_init(|| async {
                let schemas: Vec<(String,)> = sqlx::query_as(
                    "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'uow\\_t\\_%'",
                )
                .fetch_all(&mut admin)
                .await
                .unwrap_or_default();
                for (schema,) in schemas.into_iter().filter(|(s,)| abandoned(s)) {
                    let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                    let _ = admin.execute(sqlx::AssertSqlSafe(drop)).await;
                }
            })
            .await;
        let schema = unique_name();
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
            .await
            .expect("create a test schema");
        let _ = admin.close().await;
        let separator = if url.contains('?') { '&' } else { '?' };
        // The application name is the schema's: a test finds (and kills)
        // the sessions of its own pool by it, and no one else's.
        let scoped = format!(
            "{url}{separator}options=-c%20search_path%3D{schema}&application_name={schema}"
        );
        Some(
            SqlxStore::connect_with(&scoped, options)
                .await
                .unwrap_or_else(|e| unreachable_server("PostgreSQL", &url, e)),
        )
    }
}

/// MySQL/MariaDB: a new database per test.
pub struct MySql;

static MYSQL_SAID: OnceLock<()> = OnceLock::new();
static MYSQL_SWEPT: OnceCell<()> = OnceCell::const_new();

impl MySql {
    /// The configured URL, if any.
    pub fn url() -> Option<String> {
        server_url("UOW_TEST_MYSQL_URL", "MySQL", &MYSQL_SAID)
    }
}

/// `url` with its database (the last path segment) replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

impl Backend for MySql {
    type Store = SqlxStore;
    const NAME: &'static str = "mysql";
    async fn empty() -> Option<SqlxStore> {
        MySql::empty_with(StoreOptions::new().max_connections(5)).await
    }
    async fn fresh_with(aggregates: &'static [&'static AggregateMeta]) -> Option<SqlxStore> {
        with_tables(Self::empty().await, aggregates).await
    }
}

impl MySql {
    /// A fresh store with no tables, connected with `options`.
    pub async fn empty_with(store_options: StoreOptions) -> Option<SqlxStore> {
        let url = MySql::url()?;
        let options =
            sqlx::mysql::MySqlConnectOptions::from_str(&url.replacen("mariadb:", "mysql:", 1))
                .unwrap_or_else(|e| unreachable_server("MySQL", &url, e));
        let mut admin = options
            .connect()
            .await
            .unwrap_or_else(|e| unreachable_server("MySQL", &url, e));
        MYSQL_SWEPT
            .get_or_init(|| async {
                let databases: Vec<(String,)> = sqlx::query_as(
                    "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
                     WHERE schema_name LIKE 'uow\\_t\\_%'",
                )
                .fetch_all(&mut admin)
                .await
                .unwrap_or_default();
                for (database,) in databases.into_iter().filter(|(d,)| abandoned(d)) {
                    let drop = format!("DROP DATABASE IF EXISTS `{database}`");
                    let _ = admin.execute(sqlx::AssertSqlSafe(drop)).await;
                }
            })
            .await;
        let database = unique_name();
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )))
            .await
            .expect("create a test database");
        let _ = admin.close().await;
        Some(
            SqlxStore::connect_with(&with_database(&url, &database), store_options)
                .await
                .unwrap_or_else(|e| unreachable_server("MySQL", &url, e)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306/test", "uow_t_1_2"),
            "mysql://root@127.0.0.1:3306/uow_t_1_2"
        );
        assert_eq!(
            with_database("mysql://root@localhost/test?ssl-mode=disabled", "x"),
            "mysql://root@localhost/x?ssl-mode=disabled"
        );
        assert_eq!(
            with_database("mysql://root@localhost", "x"),
            "mysql://root@localhost/x"
        );
    }

    #[test]
    fn only_names_of_ended_processes_are_abandoned() {
        assert!(!abandoned(&unique_name()));
        assert!(abandoned("uow_t_999999999_0"));
        assert!(!abandoned("someone_elses_schema"));
    }
}
