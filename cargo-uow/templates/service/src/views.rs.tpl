//! Reads that change nothing.

use {{crate}}_domain::{Item, ItemId};
use uow_core::Store;

use crate::errors::ServiceError;
use crate::unit_of_work::Work;

/// The item with this id, as stored.
pub async fn item<S: Store>(store: &S, id: &str) -> Result<Option<Item>, ServiceError> {
    let mut uow = Work::begin(store).await?;
    Ok(uow.items.get(&ItemId::new(id)).await?.cloned())
}
