//! The database adapter: which store the service runs on.

use uow_core::Error;
use uow_sqlx::SqlxStore;

/// Where the service keeps its data unless `DATABASE_URL` says otherwise.
pub const DEFAULT_DATABASE_URL: &str = "{{database_url}}";

/// Connects to `url`; on SQLite (or with `create_tables`) creates the
/// service's tables and its outbox if they are missing; then checks that the
/// tables fit the aggregates, so a mismatch stops the service at start-up
/// with a message naming the table and column.
pub async fn open(url: &str, create_tables: bool) -> Result<SqlxStore, Error> {
    let store = SqlxStore::connect(url).await?;
    if create_tables || store.dialect() == uow_sqlx::Dialect::Sqlite {
        store.create_tables({{crate}}_service::AGGREGATES).await?;
        store.create_outbox().await?;
    }
    store.verify_tables({{crate}}_service::AGGREGATES).await?;
    Ok(store)
}
