//! One handler per command, each one unit of work.

use std::time::Duration;

use {{crate}}_domain::{Event, Item, ItemId};
use uow_core::{RetryPolicy, Store, retry_with};

use crate::commands::{CreateItem, RenameItem};
use crate::errors::ServiceError;
use crate::unit_of_work::Work;

/// Up to 5 attempts when another unit of work wins a race on the same
/// aggregate, pausing a random 2–100 ms between them.
fn retries() -> RetryPolicy {
    RetryPolicy::new(5).backoff(Duration::from_millis(2), Duration::from_millis(100))
}

type Handled<T> = Result<(T, Vec<Event>), ServiceError>;

/// Creates an item.
pub async fn create_item<S: Store>(store: S, command: CreateItem) -> Handled<()> {
    let store = &store;
    let command = &command;
    retry_with(&retries(), tokio::time::sleep, || async move {
        let mut uow = Work::begin(store).await?;
        let id = ItemId::new(&command.id);
        if uow.items.get(&id).await?.is_some() {
            return Err(ServiceError::DuplicateItem(id));
        }
        uow.items.add(Item::new(&command.id, &command.name))?;
        Ok(((), uow.commit().await?))
    })
    .await
}

/// Renames an item if it is at the version the caller saw.
pub async fn rename_item<S: Store>(store: S, command: RenameItem) -> Handled<u64> {
    let store = &store;
    let command = &command;
    retry_with(&retries(), tokio::time::sleep, || async move {
        let mut uow = Work::begin(store).await?;
        let id = ItemId::new(&command.id);
        let item = uow
            .items
            .get(&id)
            .await?
            .ok_or_else(|| ServiceError::UnknownItem(id.clone()))?;
        if let Some(expected) = command.expected_version
            && expected != item.version
        {
            return Err(ServiceError::StaleVersion {
                id,
                expected,
                current: item.version,
            });
        }
        item.rename(&command.name);
        let events = uow.commit().await?;
        let mut uow = Work::begin(store).await?;
        let version = uow.items.get(&id).await?.map_or(0, |item| item.version);
        Ok((version, events))
    })
    .await
}
