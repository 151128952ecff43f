//! The allocation service layer, in the shape of chapters 9 and 10 of
//! "Architecture Patterns with Python": commands go through a message bus to
//! one handler each; handlers run one unit of work and return the events it
//! committed; event handlers react to them (reallocating order lines when a
//! batch shrinks, notifying when a product is out of stock).
//!
//! Everything is generic over the store, so the tests run the same service
//! on the in-memory store and on every database.

mod bootstrap;
mod commands;
mod errors;
mod handlers;
mod notifications;
mod read_model;
mod unit_of_work;
mod views;

pub use bootstrap::bootstrap;
pub use commands::{Allocate, ChangeBatchQuantity, CreateBatch, Deallocate};
pub use errors::ServiceError;
pub use notifications::{Notifications, RecordedNotifications};
pub use read_model::{AllocationLine, OrderAllocations, ReadModel, allocations};
pub use unit_of_work::Allocation;
pub use views::product;

/// Every aggregate the service stores (write model and read model), for
/// schema tools.
pub const AGGREGATES: &[&uow_core::backend::AggregateMeta] = &[
    <allocation_domain::Product as uow_core::Aggregate>::META,
    <OrderAllocations as uow_core::Aggregate>::META,
];

/// The service's message bus over store `S`.
pub type Bus<S> = uow_core::bus::MessageBus<S, allocation_domain::Event>;
