//! The unit of work of the allocation service.

use allocation_domain::{Event, Product};
use uow_core::unit_of_work;

/// One atomic allocation operation: the products it touches (with their
/// batches and allocations), committed together, or not at all. Its events
/// are stored in the outbox with the commit, for a relay to publish to a
/// broker (see the adapters' `broker` module); with no relay running they
/// stay there.
#[unit_of_work(events = Event, outbox)]
pub struct Allocation {
    pub products: Product,
}
