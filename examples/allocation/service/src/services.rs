//! The use cases.

use allocation_domain::{
    Batch, BatchLocation, BatchRef, Event, OrderId, OrderLine, OutOfStock, Product, Sku,
};
use chrono::NaiveDate;
use uow_core::{Retryable, Store, retry};

use crate::unit_of_work::Allocation;

/// How many times a use case is attempted when it loses a race with another
/// unit of work on the same product.
const ATTEMPTS: u32 = 5;

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No product has this SKU.
    #[error("invalid sku {0}")]
    UnknownSku(Sku),
    /// No batch has this reference.
    #[error("unknown batch {0}")]
    UnknownBatch(BatchRef),
    /// A batch with this reference exists already.
    #[error("batch {0} exists already")]
    DuplicateBatch(BatchRef),
    /// Storage failed, or conflicts persisted after every attempt.
    #[error(transparent)]
    Store(#[from] uow_core::Error),
}

impl Retryable for ServiceError {
    fn is_retryable(&self) -> bool {
        matches!(self, ServiceError::Store(e) if e.is_conflict())
    }
}

/// Why an allocation failed.
#[derive(Debug, thiserror::Error)]
pub enum AllocateError {
    /// No batch of the SKU has enough left.
    #[error(transparent)]
    OutOfStock(#[from] OutOfStock),
    /// Any other failure.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<uow_core::Error> for AllocateError {
    fn from(e: uow_core::Error) -> Self {
        AllocateError::Service(ServiceError::Store(e))
    }
}

impl Retryable for AllocateError {
    fn is_retryable(&self) -> bool {
        matches!(self, AllocateError::Service(e) if e.is_retryable())
    }
}

/// Adds a batch of `qty` units of `sku`, creating the product if it is new.
pub async fn add_batch<S: Store>(
    store: &S,
    reference: &str,
    sku: &str,
    qty: u32,
    eta: Option<NaiveDate>,
) -> Result<(), ServiceError> {
    retry(ATTEMPTS, || async move {
        let mut uow = Allocation::begin(store).await?;
        let batch = Batch::new(reference, sku, qty, eta);
        if uow.locations.get(&batch.reference).await?.is_some() {
            return Err(ServiceError::DuplicateBatch(batch.reference));
        }
        uow.locations.add(BatchLocation::new(
            batch.reference.clone(),
            batch.sku.clone(),
        ))?;
        match uow.products.get(&batch.sku).await? {
            Some(product) => product.add_batch(batch),
            None => {
                let mut product = Product::new(sku);
                product.add_batch(batch);
                uow.products.add(product)?;
            }
        }
        uow.commit().await?;
        Ok(())
    })
    .await
}

/// Allocates a line to the preferred batch of its product and returns the
/// batch's reference.
///
/// Running out of stock is an error, but the unit of work still commits to
/// hand out the [`Event::OutOfStock`] it recorded.
pub async fn allocate<S: Store>(
    store: &S,
    orderid: &str,
    sku: &str,
    qty: u32,
) -> Result<(BatchRef, Vec<Event>), AllocateError> {
    let line = &OrderLine::new(orderid, sku, qty);
    retry(ATTEMPTS, || async move {
        let mut uow = Allocation::begin(store).await?;
        let product = uow
            .products
            .get(&line.sku)
            .await?
            .ok_or_else(|| ServiceError::UnknownSku(line.sku.clone()))?;
        let outcome = product.allocate(line.clone());
        let events = uow.commit().await?;
        Ok((outcome?, events))
    })
    .await
}

/// Takes the lines of order `orderid` off the batches of `sku`; returns how
/// many lines were deallocated.
pub async fn deallocate<S: Store>(
    store: &S,
    orderid: &str,
    sku: &str,
) -> Result<usize, ServiceError> {
    let sku = &Sku::new(sku);
    let orderid = &OrderId::new(orderid);
    retry(ATTEMPTS, || async move {
        let mut uow = Allocation::begin(store).await?;
        let product = uow
            .products
            .get(sku)
            .await?
            .ok_or_else(|| ServiceError::UnknownSku(sku.clone()))?;
        let lines = product.deallocate(orderid);
        uow.commit().await?;
        Ok(lines.len())
    })
    .await
}

/// Changes a batch's purchased quantity; lines that no longer fit are
/// reallocated to the product's other batches (or reported out of stock).
/// Returns the events of the change and of the reallocations.
pub async fn change_batch_quantity<S: Store>(
    store: &S,
    reference: &str,
    qty: u32,
) -> Result<Vec<Event>, ServiceError> {
    let reference = &BatchRef::new(reference);
    let mut events = retry(ATTEMPTS, || async move {
        let mut uow = Allocation::begin(store).await?;
        let sku = uow
            .locations
            .get(reference)
            .await?
            .ok_or_else(|| ServiceError::UnknownBatch(reference.clone()))?
            .sku
            .clone();
        let product = uow
            .products
            .get(&sku)
            .await?
            .ok_or_else(|| ServiceError::UnknownSku(sku.clone()))?;
        product.change_batch_quantity(reference, qty);
        Ok::<_, ServiceError>(uow.commit().await?)
    })
    .await?;

    let mut reallocations = Vec::new();
    for event in &events {
        if let Event::Deallocated { orderid, sku, qty } = event {
            match allocate(store, &orderid.0, &sku.0, *qty).await {
                Ok((_, more)) => reallocations.extend(more),
                Err(AllocateError::OutOfStock(_)) => {
                    reallocations.push(Event::OutOfStock { sku: sku.clone() });
                }
                Err(AllocateError::Service(e)) => return Err(e),
            }
        }
    }
    events.extend(reallocations);
    Ok(events)
}

/// The product with this SKU, as stored (a read outside any change).
pub async fn product_of<S: Store>(store: &S, sku: &str) -> Result<Option<Product>, ServiceError> {
    let mut uow = Allocation::begin(store).await?;
    Ok(uow.products.get(&Sku::new(sku)).await?.cloned())
}
