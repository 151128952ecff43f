//! Domain events: what aggregates record in their `#[aggregate(events)]`
//! field and a unit of work returns from `commit()`.

use std::any::Any;
use std::fmt;

/// The event type of an aggregate that records none. It has no values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoEvents {}

/// An event of any type: what `commit()` returns for a unit of work declared
/// without `#[unit_of_work(events = MyEvent)]`.
///
/// Declaring the event type is better for a service with several aggregates:
/// `commit()` then returns `Vec<MyEvent>`, each aggregate's event converted
/// with `Into`. `AnyEvent` lets a unit of work collect events without it.
///
/// ```
/// use uow_core::AnyEvent;
/// #[derive(Debug, PartialEq)]
/// struct Allocated { orderid: String }
///
/// let event = AnyEvent::new(Allocated { orderid: "o1".into() });
/// assert!(event.is::<Allocated>());
/// assert_eq!(event.downcast_ref::<Allocated>().unwrap().orderid, "o1");
/// ```
pub struct AnyEvent {
    event: Box<dyn Any + Send>,
    type_name: &'static str,
}

impl AnyEvent {
    /// Wraps an event.
    pub fn new<E: Send + 'static>(event: E) -> Self {
        AnyEvent {
            event: Box::new(event),
            type_name: std::any::type_name::<E>(),
        }
    }

    /// Whether the event is an `E`.
    pub fn is<E: 'static>(&self) -> bool {
        self.event.is::<E>()
    }

    /// The event as an `E`, if it is one.
    pub fn downcast_ref<E: 'static>(&self) -> Option<&E> {
        self.event.downcast_ref()
    }

    /// The event as an `E`, or itself back if it is not one.
    pub fn downcast<E: 'static>(self) -> Result<E, Self> {
        let type_name = self.type_name;
        self.event
            .downcast()
            .map(|e| *e)
            .map_err(|event| AnyEvent { event, type_name })
    }

    /// The Rust type name of the event.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
}

impl fmt::Debug for AnyEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnyEvent({})", self.type_name)
    }
}
