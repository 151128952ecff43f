//! The unit of work of the allocation service.

use allocation_domain::{BatchLocation, Event, Product};
use uow_core::unit_of_work;

/// One atomic allocation operation: the products and the batch locations it
/// touches, committed together, or not at all.
#[unit_of_work(events = Event)]
pub struct Allocation {
    pub products: Product,
    pub locations: BatchLocation,
}
