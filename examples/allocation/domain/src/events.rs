//! What happens in the allocation domain.

use serde::{Deserialize, Serialize};

use crate::model::{BatchRef, OrderId, Sku};

/// A domain event recorded by a [`Product`](crate::Product). Serialized
/// (serde's externally tagged form, `{"Allocated": {...}}`) into the outbox
/// when the service publishes its events to a broker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// A line was allocated to a batch.
    Allocated {
        orderid: OrderId,
        sku: Sku,
        qty: u32,
        batchref: BatchRef,
    },
    /// A line was taken off a batch whose quantity dropped; it needs a new home.
    Deallocated {
        orderid: OrderId,
        sku: Sku,
        qty: u32,
    },
    /// A line could not be allocated: no batch of the SKU has enough left.
    OutOfStock { sku: Sku },
    /// An order's line was taken off its batch at the customer's request
    /// (not to be allocated again).
    AllocationCancelled {
        orderid: OrderId,
        sku: Sku,
        batchref: BatchRef,
    },
}
