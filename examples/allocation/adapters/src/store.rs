//! The database adapter: which store the service runs on.

use uow_core::Error;
use uow_sqlx::SqlxStore;

/// Where the service keeps its data unless `DATABASE_URL` says otherwise: a
/// SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://allocation.db";

/// Connects to `url`; on SQLite creates the service's tables if they are
/// missing (the zero-setup default); then checks that the tables fit the
/// aggregates, so a mismatch stops the service at start-up with a message
/// naming the table and column. On PostgreSQL and MySQL the tables come from
/// migrations (`allocation schema` prints their DDL) — or pass
/// `--create-tables` to create them for development.
pub async fn open(url: &str, create_tables: bool) -> Result<SqlxStore, Error> {
    let store = SqlxStore::connect(url).await?;
    if create_tables || store.dialect() == uow_sqlx::Dialect::Sqlite {
        store.create_tables(allocation_service::AGGREGATES).await?;
        // The outbox its units of work store their events in, and the inbox
        // of the commands it consumes from a broker.
        store.create_outbox().await?;
        store.create_inbox().await?;
    }
    store.verify_tables(allocation_service::AGGREGATES).await?;
    Ok(store)
}
