//! The database adapter: which store the service runs on.

use allocation_service::Allocation;
use uow_core::Error;
use uow_sqlx::SqlxStore;

/// Where the service keeps its data unless `DATABASE_URL` says otherwise: a
/// SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://allocation.db";

/// Connects to `url`, creates the service's tables if they are missing (a
/// convenience of the example; a production service runs migrations made
/// from `allocation schema`), and checks that the tables fit the aggregates,
/// so a mismatch stops the service at start-up with a message naming the
/// table and column.
pub async fn open(url: &str) -> Result<SqlxStore, Error> {
    let store = SqlxStore::connect(url).await?;
    store.create_tables_for::<Allocation<SqlxStore>>().await?;
    store.verify_tables_for::<Allocation<SqlxStore>>().await?;
    Ok(store)
}
