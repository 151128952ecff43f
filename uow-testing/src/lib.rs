//! Test fixtures for services built on uow, in the spirit of sqlx's
//! `#[sqlx::test]` — and beside each database, the in-memory store.
//!
//! - **A fresh database per test.** [`Postgres`] makes a schema of its own
//!   for each store, [`MySql`] a database, [`Sqlite`] a file, from
//!   `UOW_TEST_POSTGRES_URL` and `UOW_TEST_MYSQL_URL`. Inside [`isolated`]
//!   (which [`on_backends!`] and [`on_every_backend`] use) they are dropped
//!   when the test ends, passing or panicking; leftovers of a killed test
//!   process are dropped by the next run.
//! - **Skipped loudly, required in CI.** When a URL is unset, that backend's
//!   tests return early and say so on the terminal, once per test binary —
//!   unless `CI=true`, where an unset or unreachable server fails the test.
//! - **One scenario, every backend, compared with the fake.**
//!   [`on_every_backend`] runs a [`Scenario`] on the in-memory store and on
//!   every configured database, and fails if a database's outcome differs
//!   from the in-memory store's; [`on_backends!`] makes one `#[tokio::test]`
//!   per backend from a generic scenario function.
//!
//! ```
//! use uow_core::{Aggregate, Store, unit_of_work};
//! use uow_testing::{Scenario, on_every_backend};
//!
//! #[derive(Aggregate, Clone, Debug)]
//! #[aggregate(table = "counters")]
//! pub struct Counter {
//!     #[aggregate(id)]
//!     pub id: String,
//!     #[aggregate(version)]
//!     pub version: u64,
//!     pub count: i64,
//! }
//!
//! #[unit_of_work]
//! pub struct Counting {
//!     pub counters: Counter,
//! }
//!
//! /// Two increments in two units of work: the count and the version.
//! struct TwoIncrements;
//!
//! impl Scenario for TwoIncrements {
//!     type Outcome = (i64, u64);
//!     async fn run<S: Store + Clone>(&self, store: S) -> (i64, u64) {
//!         let mut uow = Counting::begin(&store).await.unwrap();
//!         uow.counters.add(Counter { id: "c".into(), version: 0, count: 0 }).unwrap();
//!         uow.commit().await.unwrap();
//!         for _ in 0..2 {
//!             let mut uow = Counting::begin(&store).await.unwrap();
//!             uow.counters.get(&"c".to_owned()).await.unwrap().unwrap().count += 1;
//!             uow.commit().await.unwrap();
//!         }
//!         let mut uow = Counting::begin(&store).await.unwrap();
//!         let counter = uow.counters.get(&"c".to_owned()).await.unwrap().unwrap();
//!         (counter.count, counter.version)
//!     }
//! }
//!
//! // In a `#[tokio::test]`: in memory, then SQLite, PostgreSQL and MySQL when
//! // configured; each outcome must equal the in-memory store's, `(2, 3)`.
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let outcomes = on_every_backend(&[Counter::META], &TwoIncrements).await;
//! assert_eq!(outcomes[0], ("in_memory", (2, 3)));
//! assert_eq!(outcomes[1], ("sqlite", (2, 3)));
//! # });
//! ```

use std::fmt::Debug;
use std::future::Future;
use std::io::Write;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use sqlx::{ConnectOptions, Connection, Executor};
use tokio::sync::OnceCell;
use uow_core::backend::AggregateMeta;
use uow_core::{InMemoryStore, Store};
use uow_sqlx::{SqlxStore, StoreOptions};

/// A backend: how to make a fresh, isolated store.
pub trait Backend {
    /// The store type.
    type Store: Store + Clone;
    /// The backend's name, as in test names: `in_memory`, `sqlite`,
    /// `postgres`, `mysql`.
    const NAME: &'static str;
    /// A fresh store with no tables, or `None` when the backend is not
    /// configured here and not required (after saying so once).
    fn empty() -> impl Future<Output = Option<Self::Store>>;
    /// A fresh store with the tables of `aggregates`.
    fn fresh_with(
        aggregates: &'static [&'static AggregateMeta],
    ) -> impl Future<Output = Option<Self::Store>>;
    /// A fresh store with the tables of `aggregates`, the outbox and the
    /// inbox: what a service whose units of work store their events in the
    /// outbox, and that consumes messages through an inbox, needs.
    fn fresh_with_messaging(
        aggregates: &'static [&'static AggregateMeta],
    ) -> impl Future<Output = Option<Self::Store>> {
        Self::fresh_with(aggregates)
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

/// Prints a line (figures a test measured, a seed it found) where a test run
/// shows it: past the test harness's output capture.
pub fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// What a test made on a server or on disk, to drop when it ends.
#[derive(Debug)]
enum Made {
    Schema { url: String, name: String },
    Database { url: String, name: String },
    File(std::path::PathBuf),
}

/// Everything made inside one [`isolated`] call; dropped with it.
#[derive(Debug, Default)]
struct Cleanup {
    made: Mutex<Vec<Made>>,
}

tokio::task_local! {
    static MADE: Cleanup;
}

/// Runs `test`, then drops every schema, database and SQLite file the
/// backends of this crate made for it — also when `test` panics (the drop
/// runs while the panic unwinds). [`on_backends!`] and [`on_every_backend`]
/// run each test inside it.
///
/// Stores made outside it (or in a task spawned by `test`) are left to the
/// next test process, which drops what processes that ended left behind.
pub async fn isolated<F: Future>(test: F) -> F::Output {
    MADE.scope(Cleanup::default(), test).await
}

fn remember(made: Made) {
    let _ = MADE.try_with(|list| {
        list.made
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(made)
    });
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let made = std::mem::take(self.made.get_mut().unwrap_or_else(PoisonError::into_inner));
        if made.is_empty() {
            return;
        }
        // A thread of its own with a runtime of its own: this runs while a
        // test's runtime is busy (or unwinding), and may not await on it.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                for made in made {
                    let _ = tokio::time::timeout(Duration::from_secs(20), drop_made(made)).await;
                }
            });
        });
        let _ = dropper.join();
    }
}

async fn drop_made(made: Made) {
    match made {
        Made::File(path) => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        Made::Schema { url, name } => {
            let Ok(options) = sqlx::postgres::PgConnectOptions::from_str(&url) else {
                return;
            };
            let Ok(mut admin) = options.connect().await else {
                return;
            };
            // A session of the test still in a transaction gets its
            // rollback first; one that never lets go leaves the schema to the
            // next run's sweep rather than hanging this one.
            let _ = admin.execute("SET lock_timeout = '10s'").await;
            let drop = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE");
            let _ = admin.execute(sqlx::AssertSqlSafe(drop)).await;
            let _ = admin.close().await;
        }
        Made::Database { url, name } => {
            let Ok(options) = sqlx::mysql::MySqlConnectOptions::from_str(&url) else {
                return;
            };
            let Ok(mut admin) = options.connect().await else {
                return;
            };
            let _ = admin.execute("SET SESSION lock_wait_timeout = 10").await;
            let drop = format!("DROP DATABASE IF EXISTS `{name}`");
            let _ = admin.execute(sqlx::AssertSqlSafe(drop)).await;
            let _ = admin.close().await;
        }
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
    async fn fresh_with_messaging(
        aggregates: &'static [&'static AggregateMeta],
    ) -> Option<SqlxStore> {
        with_messaging(with_tables(Self::empty().await, aggregates).await).await
    }
}

impl Sqlite {
    /// A fresh store with no tables, connected with `options`.
    pub async fn empty_with(options: StoreOptions) -> Option<SqlxStore> {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        remember(Made::File(path.clone()));
        Some(
            SqlxStore::connect_with(&format!("sqlite://{}", path.display()), options)
                .await
                .expect("open a SQLite file in the temp directory"),
        )
    }
}

async fn with_tables(
    store: Option<SqlxStore>,
    aggregates: &[&'static AggregateMeta],
) -> Option<SqlxStore> {
    let store = store?;
    store
        .create_tables(aggregates)
        .await
        .expect("create the tables");
    Some(store)
}

async fn with_messaging(store: Option<SqlxStore>) -> Option<SqlxStore> {
    let store = store?;
    store.create_outbox().await.expect("create the outbox");
    store.create_inbox().await.expect("create the inbox");
    Some(store)
}

/// Whether the run requires every server backend (`CI=true` or `CI=1`).
pub fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The address (`host:port`) of a message broker a test needs: the value
/// of `variable` if set, else `default`. When nothing answers there, the
/// test is skipped — `None`, said once per broker on the terminal — unless
/// `CI=true`, where an unreachable broker fails the test (`.ci/run` starts
/// the brokers).
///
/// ```
/// // In a broker test: skipped loudly here when no NATS server listens.
/// if let Some(address) = uow_testing::broker("NATS", "UOW_TEST_NATS_ADDR", "127.0.0.1:4222") {
///     assert!(address.contains(':'));
/// }
/// ```
pub fn broker(name: &str, variable: &str, default: &str) -> Option<String> {
    static SAID: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let address = std::env::var(variable)
        .ok()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| default.to_owned());
    let reachable = std::net::ToSocketAddrs::to_socket_addrs(address.as_str())
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| {
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2)).is_ok()
        });
    if reachable {
        return Some(address);
    }
    if required() {
        panic!(
            "{name} is not reachable at {address} ({variable}), and CI=true requires the {name} \
             suites: start it (see .ci/run)"
        );
    }
    let mut said = SAID
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !said.iter().any(|n| n == name) {
        said.push(name.to_owned());
        let _ = writeln!(
            std::io::stderr(),
            "note: {name} suites skipped in this test binary: nothing answers at {address} ({variable})"
        );
    }
    None
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
    async fn fresh_with_messaging(
        aggregates: &'static [&'static AggregateMeta],
    ) -> Option<SqlxStore> {
        with_messaging(with_tables(Self::empty().await, aggregates).await).await
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
        remember(Made::Schema {
            url: url.clone(),
            name: schema.clone(),
        });
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
    async fn fresh_with_messaging(
        aggregates: &'static [&'static AggregateMeta],
    ) -> Option<SqlxStore> {
        with_messaging(with_tables(Self::empty().await, aggregates).await).await
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
        remember(Made::Database {
            url: url.replacen("mariadb:", "mysql:", 1),
            name: database.clone(),
        });
        Some(
            SqlxStore::connect_with(&with_database(&url, &database), store_options)
                .await
                .unwrap_or_else(|e| unreachable_server("MySQL", &url, e)),
        )
    }
}

/// A scenario run by [`on_every_backend`]: written once, generic over the
/// store, returning an outcome to compare across backends.
pub trait Scenario {
    /// What the scenario observed; equal on every backend when the
    /// databases and the in-memory store agree.
    type Outcome: PartialEq + Debug;
    /// Runs the scenario on a fresh store with the tables asked for.
    fn run<S: Store + Clone>(&self, store: S) -> impl Future<Output = Self::Outcome>;
}

/// Runs `scenario` on the in-memory store, then on SQLite and on every
/// configured server (PostgreSQL, MySQL/MariaDB), each on a fresh store with
/// the tables of `aggregates`, the outbox and the inbox
/// ([`Backend::fresh_with_messaging`]), dropped afterwards; panics, naming the
/// backend, when an outcome differs from the in-memory store's. Returns each
/// backend's name and outcome, the in-memory store's first.
///
/// An unconfigured server is skipped (and said so), or fails the test under
/// `CI=true`, as in [`Backend::empty`].
pub async fn on_every_backend<Sc: Scenario>(
    aggregates: &'static [&'static AggregateMeta],
    scenario: &Sc,
) -> Vec<(&'static str, Sc::Outcome)> {
    let expected = run_on::<InMemory, Sc>(aggregates, scenario)
        .await
        .expect("the in-memory store is always there");
    let mut outcomes = vec![expected];
    let sqlite = run_on::<Sqlite, Sc>(aggregates, scenario).await;
    agrees(&mut outcomes, sqlite);
    let postgres = run_on::<Postgres, Sc>(aggregates, scenario).await;
    agrees(&mut outcomes, postgres);
    let mysql = run_on::<MySql, Sc>(aggregates, scenario).await;
    agrees(&mut outcomes, mysql);
    outcomes
}

/// Adds a backend's outcome (if it ran) after checking it against the
/// in-memory store's, which comes first in `outcomes`.
fn agrees<T: PartialEq + Debug>(
    outcomes: &mut Vec<(&'static str, T)>,
    ran: Option<(&'static str, T)>,
) {
    let Some((name, outcome)) = ran else { return };
    let expected = &outcomes[0].1;
    assert!(
        outcome == *expected,
        "{name} and the in-memory store disagree:\n  in_memory: {expected:?}\n  {name}: {outcome:?}"
    );
    outcomes.push((name, outcome));
}

async fn run_on<B: Backend, Sc: Scenario>(
    aggregates: &'static [&'static AggregateMeta],
    scenario: &Sc,
) -> Option<(&'static str, Sc::Outcome)> {
    isolated(async {
        let store = B::fresh_with_messaging(aggregates).await?;
        Some((B::NAME, scenario.run(store).await))
    })
    .await
}

/// Instantiates generic scenarios (`async fn name<B: Backend>()`, in scope as
/// `<module>::name`) once per backend, as `#[tokio::test]`s named
/// `<backend>::<name>`, each run [`isolated`]. The calling crate depends on
/// `tokio` (with the `macros` and `rt-multi-thread` features).
///
/// ```ignore
/// mod scenarios {
///     use uow_testing::Backend;
///     pub async fn allocating_reduces_the_available_quantity<B: Backend>() {
///         let Some(store) = B::fresh_with(AGGREGATES).await else { return };
///         // ...
///     }
/// }
///
/// uow_testing::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
///     allocating_reduces_the_available_quantity,
/// ]);
/// ```
#[macro_export]
macro_rules! on_backends {
    ([$($backend:ident),* $(,)?] $module:ident: $scenarios:tt) => {
        $(
            $crate::on_backends!(@backend $backend $module: $scenarios);
        )*
    };
    (@backend $backend:ident $module:ident: [$($scenario:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    $crate::isolated(
                        super::$module::$scenario::<$crate::on_backends!(@type $backend)>(),
                    )
                    .await;
                }
            )*
        }
    };
    (@type in_memory) => { $crate::InMemory };
    (@type sqlite) => { $crate::Sqlite };
    (@type postgres) => { $crate::Postgres };
    (@type mysql) => { $crate::MySql };
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

    #[tokio::test]
    async fn a_sqlite_file_made_in_a_test_that_panics_is_removed() {
        let path = std::sync::Arc::new(Mutex::new(None));
        let seen = std::sync::Arc::clone(&path);
        let test = in_a_thread_of_its_own(move || async move {
            let _store = Sqlite::empty().await.expect("sqlite");
            let made = MADE.with(|list| match list.made.lock().unwrap().first() {
                Some(Made::File(path)) => path.clone(),
                other => panic!("{other:?}"),
            });
            assert!(made.exists());
            *seen.lock().unwrap() = Some(made);
            panic!("the test fails");
        });
        assert!(test.is_err(), "the test panicked");
        let path = path.lock().unwrap().clone().expect("a file was made");
        assert!(!path.exists(), "{} is left behind", path.display());
    }

    /// Runs `test` isolated on a runtime of its own: `Err` if it panicked.
    fn in_a_thread_of_its_own<F: Future<Output = ()>>(
        test: impl FnOnce() -> F + Send + 'static,
    ) -> std::thread::Result<()> {
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(isolated(test()))
        })
        .join()
    }

    /// The schema (PostgreSQL) or database (MySQL) a panicking test made,
    /// holding a table, is gone after the test.
    async fn a_server_store_made_in_a_test_that_panics_is_dropped<B: Backend<Store = SqlxStore>>(
        count: &'static str,
        url: fn() -> Option<String>,
    ) {
        let Some(url) = url() else { return };
        let seen = std::sync::Arc::new(Mutex::new(None));
        let name = std::sync::Arc::clone(&seen);
        let test = in_a_thread_of_its_own(move || async move {
            let store = B::empty().await.expect("configured");
            let made = MADE.with(|list| match list.made.lock().unwrap().first() {
                Some(Made::Schema { name, .. } | Made::Database { name, .. }) => name.clone(),
                other => panic!("{other:?}"),
            });
            *name.lock().unwrap() = Some(made);
            let _in_use = store.clone();
            panic!("the test fails");
        });
        assert!(test.is_err(), "the test panicked");
        let name = seen.lock().unwrap().clone().expect("a schema was made");
        let count = count.replace("{name}", &name);
        let left: i64 = if B::NAME == "postgres" {
            let mut admin = sqlx::postgres::PgConnectOptions::from_str(&url)
                .unwrap()
                .connect()
                .await
                .unwrap();
            sqlx::query_scalar(sqlx::AssertSqlSafe(count))
                .fetch_one(&mut admin)
                .await
                .unwrap()
        } else {
            let mut admin = sqlx::mysql::MySqlConnectOptions::from_str(&url)
                .unwrap()
                .connect()
                .await
                .unwrap();
            sqlx::query_scalar(sqlx::AssertSqlSafe(count))
                .fetch_one(&mut admin)
                .await
                .unwrap()
        };
        assert_eq!(left, 0, "{name} is left behind");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_postgres_schema_made_in_a_test_that_panics_is_dropped() {
        a_server_store_made_in_a_test_that_panics_is_dropped::<Postgres>(
            "SELECT count(*) FROM pg_namespace WHERE nspname = '{name}'",
            Postgres::url,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_mysql_database_made_in_a_test_that_panics_is_dropped() {
        a_server_store_made_in_a_test_that_panics_is_dropped::<MySql>(
            "SELECT CAST(count(*) AS SIGNED) FROM information_schema.schemata WHERE schema_name = '{name}'",
            MySql::url,
        )
        .await;
    }

    #[test]
    fn only_names_of_ended_processes_are_abandoned() {
        assert!(!abandoned(&unique_name()));
        assert!(abandoned("uow_t_999999999_0"));
        assert!(!abandoned("someone_elses_schema"));
    }
}
