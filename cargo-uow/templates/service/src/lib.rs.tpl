//! The {{name}} service layer: commands go through a message bus to one
//! handler each; each handler runs one unit of work and returns the events it
//! committed. Everything is generic over the store, so the tests run the same
//! service on the in-memory store and on every database.

mod bootstrap;
mod commands;
mod errors;
mod handlers;
mod unit_of_work;
mod views;

pub use bootstrap::bootstrap;
pub use commands::{CreateItem, RenameItem};
pub use errors::ServiceError;
pub use unit_of_work::Work;
pub use views::item;

/// Every aggregate the service stores, for schema tools.
pub const AGGREGATES: &[&uow_core::backend::AggregateMeta] = &[
    <{{crate}}_domain::Item as uow_core::Aggregate>::META,
    // cargo-uow: aggregates
];

/// The service's message bus over store `S`.
pub type Bus<S> = uow_core::bus::MessageBus<S, {{crate}}_domain::Event>;
