//! The database adapter: which store the service runs on.

use std::path::Path;

use sqlx::migrate::Migrator;
use uow_sqlx::SqlxStore;

/// Why the store could not be opened: a connection, migration or schema error.
pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Where the service keeps its data unless `DATABASE_URL` says otherwise.
pub const DEFAULT_DATABASE_URL: &str = "{{database_url}}";

/// Where the service's migrations are (sqlx's layout:
/// `<version>_<name>.sql`, written by `cargo uow migration new NAME`),
/// relative to the working directory unless `MIGRATIONS_DIR` says otherwise.
pub const MIGRATIONS_DIR: &str = "migrations";

/// Connects to `url`; applies the migrations of [`MIGRATIONS_DIR`] (if the
/// directory exists) with sqlx's `Migrator`; on SQLite (or with
/// `create_tables`) creates the service's tables and its outbox if they are
/// still missing; then checks that the tables fit the aggregates, so a
/// mismatch stops the service at start-up with a message naming the table
/// and column.
pub async fn open(url: &str, create_tables: bool) -> Result<SqlxStore, Failure> {
    let store = SqlxStore::connect(url).await?;
    let dir = std::env::var("MIGRATIONS_DIR").unwrap_or_else(|_| MIGRATIONS_DIR.into());
    if Path::new(&dir).is_dir() {
        migrate(&store, Path::new(&dir)).await?;
    }
    if create_tables || store.dialect() == uow_sqlx::Dialect::Sqlite {
        store.create_tables({{crate}}_service::AGGREGATES).await?;
        store.create_outbox().await?;
    }
    store.verify_tables({{crate}}_service::AGGREGATES).await?;
    Ok(store)
}

/// Applies the migrations of `dir` that the database has not applied yet.
pub async fn migrate(store: &SqlxStore, dir: &Path) -> Result<(), Failure> {
    let migrator = Migrator::new(dir)
        .await
        .map_err(|e| format!("read the migrations of {}: {e}", dir.display()))?;
    let applied = if let Some(pool) = store.postgres_pool() {
        migrator.run(pool).await
    } else if let Some(pool) = store.mysql_pool() {
        migrator.run(pool).await
    } else if let Some(pool) = store.sqlite_pool() {
        migrator.run(pool).await
    } else {
        return Err("migrations: the store's database is not supported".into());
    };
    applied.map_err(|e| format!("apply the migrations of {}: {e}", dir.display()))?;
    Ok(())
}
