//! Reads that change nothing.

use allocation_domain::{Product, Sku};
use uow_core::Store;

use crate::errors::ServiceError;
use crate::unit_of_work::Allocation;

/// The product with this SKU, as stored.
pub async fn product<S: Store>(store: &S, sku: &str) -> Result<Option<Product>, ServiceError> {
    let mut uow = Allocation::begin(store).await?;
    Ok(uow.products.get(&Sku::new(sku)).await?.cloned())
}
