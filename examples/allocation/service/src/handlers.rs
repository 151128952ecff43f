//! One handler per command, each one unit of work; and the event handlers.

use allocation_domain::{
    Batch, BatchFinders, BatchRef, Event, OrderId, OrderLine, OutOfStock, Product, Sku,
};
use std::time::Duration;

use uow_core::{RetryPolicy, Store, retry_with};

use crate::commands::{Allocate, ChangeBatchQuantity, CreateBatch, Deallocate};
use crate::errors::ServiceError;
use crate::notifications::Notifications;
use crate::unit_of_work::Allocation;

/// How a handler that keeps losing races with other units of work on the
/// same product retries: up to 10 attempts, pausing a random 0–2 ms after
/// the first loss, doubling up to 0–200 ms, so contenders spread out instead
/// of colliding again at once. The whole handler runs again each time: it
/// has no side effect besides its unit of work (events are handed out only
/// after the commit).
fn retries() -> RetryPolicy {
    RetryPolicy::new(10).backoff(Duration::from_millis(2), Duration::from_millis(200))
}

type Handled<T> = Result<(T, Vec<Event>), ServiceError>;

/// Adds a batch, creating its product if it is new.
pub async fn add_batch<S: Store>(store: S, command: CreateBatch) -> Handled<()> {
    let store = &store;
    let command = &command;
    retry_with(&retries(), tokio::time::sleep, || async move {
        let mut uow = Allocation::begin(store).await?;
        let batch = Batch::new(&command.reference, &command.sku, command.qty, command.eta);
        if uow
            .products
            .get_by_batch_reference(&batch.reference)
            .await?
            .is_some()
        {
            return Err(ServiceError::DuplicateBatch(batch.reference));
        }
        match uow.products.get(&batch.sku).await? {
            Some(product) => product.add_batch(batch),
            None => {
                let mut product = Product::new(&command.sku);
                product.add_batch(batch);
                uow.products.add(product)?;
            }
        }
        Ok(((), uow.commit().await?))
    })
    .await
}

/// Allocates a line to the preferred batch of its product. Running out of
/// stock commits too, to hand out the `OutOfStock` event.
pub async fn allocate<S: Store>(
    store: S,
    command: Allocate,
) -> Handled<Result<BatchRef, OutOfStock>> {
    let store = &store;
    let line = &OrderLine::new(&command.orderid, &command.sku, command.qty);
    retry_with(&retries(), tokio::time::sleep, || async move {
        let mut uow = Allocation::begin(store).await?;
        let product = uow
            .products
            .get(&line.sku)
            .await?
            .ok_or_else(|| ServiceError::UnknownSku(line.sku.clone()))?;
        let outcome = product.allocate(line.clone());
        Ok((outcome, uow.commit().await?))
    })
    .await
}

/// Takes an order's lines off the batches of a product.
pub async fn deallocate<S: Store>(store: S, command: Deallocate) -> Handled<usize> {
    let store = &store;
    let sku = &Sku::new(&command.sku);
    let orderid = &OrderId::new(&command.orderid);
    retry_with(&retries(), tokio::time::sleep, || async move {
        let mut uow = Allocation::begin(store).await?;
        let product = uow
            .products
            .get(sku)
            .await?
            .ok_or_else(|| ServiceError::UnknownSku(sku.clone()))?;
        let lines = product.deallocate(orderid).len();
        Ok((lines, uow.commit().await?))
    })
    .await
}

/// Changes a batch's quantity; the lines it no longer holds come out as
/// `Deallocated` events, which [`reallocate`] handles.
pub async fn change_batch_quantity<S: Store>(
    store: S,
    command: ChangeBatchQuantity,
) -> Handled<()> {
    let store = &store;
    let reference = &BatchRef::new(&command.reference);
    retry_with(&retries(), tokio::time::sleep, || async move {
        let mut uow = Allocation::begin(store).await?;
        let product = uow
            .products
            .get_by_batch_reference(reference)
            .await?
            .ok_or_else(|| ServiceError::UnknownBatch(reference.clone()))?;
        let sku = product.sku.clone();
        if let Some(expected) = command.expected_version
            && product.version != expected
        {
            return Err(ServiceError::StaleVersion {
                sku,
                expected,
                current: product.version,
            });
        }
        product.change_batch_quantity(reference, command.qty);
        Ok(((), uow.commit().await?))
    })
    .await
}

/// Event handler: a deallocated line is allocated again, to another batch
/// if there is room (or reported out of stock).
pub async fn reallocate<S: Store>(store: S, event: Event) -> Result<Vec<Event>, ServiceError> {
    let Event::Deallocated { orderid, sku, qty } = event else {
        return Ok(Vec::new());
    };
    let command = Allocate {
        orderid: orderid.0,
        sku: sku.0,
        qty,
    };
    let (_, events) = allocate(store, command).await?;
    Ok(events)
}

/// Event handler: tells the stock team that a product ran out.
pub async fn send_out_of_stock_notification<N: Notifications>(
    notifications: N,
    event: Event,
) -> Result<Vec<Event>, Box<dyn std::error::Error + Send + Sync>> {
    if let Event::OutOfStock { sku } = event {
        notifications
            .send("stock@made.com", &format!("Out of stock for {sku}"))
            .await?;
    }
    Ok(Vec::new())
}
