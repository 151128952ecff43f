//! The read side (chapter 12, CQRS): which batch each line of an order is
//! allocated to, kept up to date by event handlers, read without touching
//! the `Product` aggregate.

use allocation_domain::{BatchRef, Event, OrderId, Sku};
use serde::{Deserialize, Serialize};
use uow_core::{Aggregate, Store, unit_of_work};

use crate::errors::ServiceError;

/// One allocated line of an order, as the read model shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationLine {
    pub sku: String,
    pub batchref: String,
}

/// The read model of one order: a denormalised view, stored like an
/// aggregate so it lives in the same store as everything else.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "order_allocations")]
pub struct OrderAllocations {
    #[aggregate(id)]
    pub orderid: OrderId,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(json)]
    pub lines: Vec<AllocationLine>,
}

/// The unit of work of the read-model handlers.
#[unit_of_work]
pub struct ReadModel {
    pub allocations: OrderAllocations,
}

/// The lines of order `orderid`, by SKU.
pub async fn allocations<S: Store>(
    store: &S,
    orderid: &str,
) -> Result<Vec<AllocationLine>, ServiceError> {
    let mut uow = ReadModel::begin(store).await?;
    Ok(uow
        .allocations
        .get(&OrderId::new(orderid))
        .await?
        .map(|view| view.lines.clone())
        .unwrap_or_default())
}

/// Event handler: records an allocation in the read model.
pub async fn add_allocation<S: Store>(store: S, event: Event) -> Result<Vec<Event>, ServiceError> {
    let Event::Allocated {
        orderid,
        sku,
        batchref,
        ..
    } = event
    else {
        return Ok(Vec::new());
    };
    let mut uow = ReadModel::begin(&store).await?;
    let line = AllocationLine {
        sku: sku.0,
        batchref: batchref.0,
    };
    match uow.allocations.get(&orderid).await? {
        Some(view) => {
            view.lines.retain(|l| l.sku != line.sku);
            view.lines.push(line);
            view.lines.sort_by(|a, b| a.sku.cmp(&b.sku));
        }
        None => uow.allocations.add(OrderAllocations {
            orderid,
            version: 0,
            lines: vec![line],
        })?,
    }
    uow.commit().await?;
    Ok(Vec::new())
}

/// Event handler: removes a line that was deallocated (moved or cancelled)
/// from the read model.
pub async fn remove_allocation<S: Store>(
    store: S,
    event: Event,
) -> Result<Vec<Event>, ServiceError> {
    let (orderid, sku, batchref): (OrderId, Sku, Option<BatchRef>) = match event {
        Event::Deallocated { orderid, sku, .. } => (orderid, sku, None),
        Event::AllocationCancelled {
            orderid,
            sku,
            batchref,
        } => (orderid, sku, Some(batchref)),
        _ => return Ok(Vec::new()),
    };
    let mut uow = ReadModel::begin(&store).await?;
    if let Some(view) = uow.allocations.get(&orderid).await? {
        view.lines
            .retain(|l| l.sku != sku.0 || batchref.as_ref().is_some_and(|b| l.batchref != b.0));
    }
    uow.commit().await?;
    Ok(Vec::new())
}
