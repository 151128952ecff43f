//! Wiring the handlers to the bus.

use uow_core::{Store, bus::MessageBus};

use crate::Bus;
use crate::handlers;

/// The service's bus over `store`.
pub fn bootstrap<S>(store: S) -> Bus<S>
where
    S: Store + Clone + 'static,
{
    MessageBus::new(store)
        .command(handlers::create_item::<S>)
        .command(handlers::rename_item::<S>)
}
