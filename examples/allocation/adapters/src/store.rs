//! The database adapter: which store the service runs on.

use allocation_service::Allocation;
use uow_core::Error;
use uow_sqlx::SqlxStore;

/// Where the service keeps its data unless `DATABASE_URL` says otherwise: a
/// SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://allocation.db";

/// Connects to `url` and creates the service's tables if they are missing.
pub async fn open(url: &str) -> Result<SqlxStore, Error> {
    let store = SqlxStore::connect(url).await?;
    store.create_tables_for::<Allocation<SqlxStore>>().await?;
    Ok(store)
}
