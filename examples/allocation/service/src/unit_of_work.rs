//! The unit of work of the allocation service.

use allocation_domain::{Event, Product};
use uow_core::unit_of_work;

/// One atomic allocation operation: the products it touches (with their
/// batches and allocations), committed together, or not at all.
#[unit_of_work(events = Event)]
pub struct Allocation {
    pub products: Product,
}
