//! Wiring the handlers to the bus.

use allocation_domain::Event;
use uow_core::{Store, bus::MessageBus};

use crate::Bus;
use crate::handlers;
use crate::notifications::Notifications;
use crate::read_model;

/// The service's bus over `store`, sending notifications through
/// `notifications`.
pub fn bootstrap<S, N>(store: S, notifications: N) -> Bus<S>
where
    S: Store + Clone + 'static,
    N: Notifications,
{
    MessageBus::new(store)
        .command(handlers::add_batch::<S>)
        .command(handlers::allocate::<S>)
        .command(handlers::deallocate::<S>)
        .command(handlers::change_batch_quantity::<S>)
        .on_event(
            "reallocate",
            |e| matches!(e, Event::Deallocated { .. }),
            handlers::reallocate::<S>,
        )
        .on_event(
            "add allocation to read model",
            |e| matches!(e, Event::Allocated { .. }),
            read_model::add_allocation::<S>,
        )
        .on_event(
            "remove allocation from read model",
            |e| {
                matches!(
                    e,
                    Event::Deallocated { .. } | Event::AllocationCancelled { .. }
                )
            },
            read_model::remove_allocation::<S>,
        )
        .on_event(
            "send out-of-stock notification",
            |e| matches!(e, Event::OutOfStock { .. }),
            move |_, event| handlers::send_out_of_stock_notification(notifications.clone(), event),
        )
}
