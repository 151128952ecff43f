//! The unit of work of the {{name}} service.

use {{crate}}_domain::{Event, Item};
// cargo-uow: imports
use uow_core::unit_of_work;

/// One atomic operation: the aggregates it touches, committed together, or
/// not at all. Its events are stored in the outbox with the commit.
#[unit_of_work(events = Event, outbox)]
pub struct Work {
    /// The items.
    pub items: Item,
    // cargo-uow: repositories
}
