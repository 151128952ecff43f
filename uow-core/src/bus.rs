//! The message bus: commands go to exactly one handler, which runs a unit of
//! work and returns the events it committed; events go to every handler that
//! wants them, whose own units of work may produce more events, until none
//! are left ("Architecture Patterns with Python", chapters 8 and 9).

use std::any::{Any, TypeId, type_name};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tracing::Instrument;

use crate::error::Error;
use crate::retry::{Retryable, retry};
use crate::store::Store;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A request to change the system, handled by exactly one handler.
///
/// ```
/// struct Allocate { orderid: String, sku: String, qty: u32 }
///
/// impl uow_core::bus::Command for Allocate {
///     type Output = String;           // the batch reference
///     type Error = std::io::Error;    // the service's error type
/// }
/// ```
pub trait Command: Send + 'static {
    /// What the handler returns on success.
    type Output: Send + 'static;
    /// What the handler returns on failure.
    type Error: Send + 'static;
}

/// Why [`MessageBus::handle`] failed.
#[derive(Debug)]
pub enum BusError<E> {
    /// No handler is registered for the command.
    NoHandler {
        /// The command's type name.
        command: &'static str,
    },
    /// The command's handler failed; nothing it did was committed, and no
    /// event was dispatched.
    Command(E),
}

impl<E: fmt::Display> fmt::Display for BusError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BusError::NoHandler { command } => write!(
                f,
                "no handler is registered for command {command}; register one with MessageBus::command"
            ),
            BusError::Command(e) => e.fmt(f),
        }
    }
}

/// [`BusError::Command`] is transparent: its message and its source are the
/// command error's.
impl<E: std::error::Error + 'static> std::error::Error for BusError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BusError::NoHandler { .. } => None,
            BusError::Command(e) => e.source(),
        }
    }
}

/// An event handler that failed, after its retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerFailure {
    /// The handler's name, as registered.
    pub handler: &'static str,
    /// The event, as `Debug` shows it.
    pub event: String,
    /// The error's message, followed by its sources' (`": "` between them).
    pub error: String,
}

/// What happened to the events a command produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Events dispatched (the command's and those of event handlers).
    pub events: usize,
    /// Event handlers that failed. The other events were still handled.
    pub failures: Vec<HandlerFailure>,
}

type CommandHandler<S, C, E> = Arc<
    dyn Fn(S, C) -> BoxFuture<Result<(<C as Command>::Output, Vec<E>), <C as Command>::Error>>
        + Send
        + Sync,
>;

type EventHandlerFn<S, E> = Box<dyn Fn(S, E) -> BoxFuture<Result<Vec<E>, BoxError>> + Send + Sync>;

struct EventHandler<S, E> {
    name: &'static str,
    wants: Box<dyn Fn(&E) -> bool + Send + Sync>,
    handle: EventHandlerFn<S, E>,
}

/// Routes commands to their handler and events to theirs, over one store.
///
/// ```
/// use uow_core::{InMemoryStore, bus::{Command, MessageBus}};
///
/// #[derive(Clone, Debug, PartialEq)]
/// enum Event { Greeted(String), Answered(String) }
///
/// struct Greet(String);
/// impl Command for Greet {
///     type Output = usize;
///     type Error = uow_core::Error;
/// }
///
/// async fn greet(_store: InMemoryStore, Greet(name): Greet) -> Result<(usize, Vec<Event>), uow_core::Error> {
///     // A real handler runs a unit of work here and returns what commit() returned.
///     Ok((name.len(), vec![Event::Greeted(name)]))
/// }
///
/// async fn answer(_store: InMemoryStore, event: Event) -> Result<Vec<Event>, uow_core::Error> {
///     let Event::Greeted(name) = event else { return Ok(vec![]) };
///     Ok(vec![Event::Answered(format!("hello, {name}"))])
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let bus = MessageBus::new(InMemoryStore::new())
///     .command(greet)
///     .on_event("answer", |e| matches!(e, Event::Greeted(_)), answer);
/// let (len, report) = bus.handle(Greet("Ada".into())).await.unwrap();
/// assert_eq!((len, report.events), (3, 2)); // Greeted, then Answered
/// # });
/// ```
pub struct MessageBus<S, E> {
    store: S,
    commands: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    events: Vec<EventHandler<S, E>>,
    attempts: u32,
    budget: usize,
}

impl<S, E> fmt::Debug for MessageBus<S, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageBus")
            .field("commands", &self.commands.len())
            .field(
                "event_handlers",
                &self.events.iter().map(|h| h.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<S, E> MessageBus<S, E>
where
    S: Store + Clone + 'static,
    E: Clone + fmt::Debug + Send + Sync + 'static,
{
    /// A bus over `store` with no handlers.
    pub fn new(store: S) -> Self {
        MessageBus {
            store,
            commands: HashMap::new(),
            events: Vec::new(),
            attempts: 3,
            budget: 10_000,
        }
    }

    /// The store handlers run on.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Registers the handler of command `C`, replacing any earlier one. It
    /// returns its output and the events its unit of work committed.
    pub fn command<C, F, Fut>(mut self, handler: F) -> Self
    where
        C: Command,
        F: Fn(S, C) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(C::Output, Vec<E>), C::Error>> + Send + 'static,
    {
        let handler: CommandHandler<S, C, E> =
            Arc::new(move |store, command| Box::pin(handler(store, command)));
        self.commands.insert(TypeId::of::<C>(), Box::new(handler));
        self
    }

    /// Registers an event handler, named for reports and logs, for the events
    /// `wants` accepts. It returns the events its own units of work
    /// committed. A handler that fails with a retryable error (a version
    /// conflict) is run again, up to [`attempts`](Self::attempts) times.
    pub fn on_event<F, Fut, Err>(
        mut self,
        name: &'static str,
        wants: fn(&E) -> bool,
        handler: F,
    ) -> Self
    where
        F: Fn(S, E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<E>, Err>> + Send + 'static,
        Err: Into<BoxError> + 'static,
    {
        self.events.push(EventHandler {
            name,
            wants: Box::new(wants),
            handle: Box::new(move |store, event| {
                let fut = handler(store, event);
                Box::pin(async move { fut.await.map_err(Into::into) })
            }),
        });
        self
    }

    /// How many times an event handler is tried when it keeps losing races
    /// (default 3).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// Handles a command, then dispatches the events it produced and those
    /// their handlers produce, until none are left.
    pub async fn handle<C: Command>(
        &self,
        command: C,
    ) -> Result<(C::Output, DispatchReport), BusError<C::Error>> {
        let handler = self
            .commands
            .get(&TypeId::of::<C>())
            .and_then(|h| h.downcast_ref::<CommandHandler<S, C, E>>())
            .ok_or(BusError::NoHandler {
                command: type_name::<C>(),
            })?;
        let (output, events) = handler(self.store.clone(), command)
            .instrument(tracing::debug_span!("command", command = type_name::<C>()))
            .await
            .map_err(BusError::Command)?;
        let report = self.dispatch(events).await;
        Ok((output, report))
    }

    /// Dispatches events (and the events their handlers produce) to every
    /// handler that wants them, in order. A failing handler is logged and
    /// reported; the other events are still handled.
    pub async fn dispatch(&self, events: Vec<E>) -> DispatchReport {
        let mut queue: VecDeque<E> = events.into();
        let mut report = DispatchReport::default();
        while let Some(event) = queue.pop_front() {
            report.events += 1;
            if report.events > self.budget {
                report.failures.push(HandlerFailure {
                    handler: "message bus",
                    event: format!("{event:?}"),
                    error: format!(
                        "more than {} events from one command: handlers producing events forever?",
                        self.budget
                    ),
                });
                break;
            }
            for handler in self.events.iter().filter(|h| (h.wants)(&event)) {
                let outcome = retry(self.attempts, || async {
                    (handler.handle)(self.store.clone(), event.clone())
                        .await
                        .map_err(HandlerError)
                })
                .instrument(tracing::debug_span!(
                    "event_handler",
                    handler = handler.name
                ))
                .await;
                match outcome {
                    Ok(more) => queue.extend(more),
                    Err(HandlerError(error)) => {
                        let error = messages(&*error);
                        tracing::warn!(
                            handler = handler.name,
                            event = ?event,
                            error = %error,
                            "event handler failed"
                        );
                        report.failures.push(HandlerFailure {
                            handler: handler.name,
                            event: format!("{event:?}"),
                            error,
                        });
                    }
                }
            }
        }
        report
    }
}

/// The messages of `error` and of its sources, joined by `": "` (each
/// error's message leaves its source's out).
fn messages(error: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(error), |e| (*e).source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// An event handler's error, retryable when it is a uow conflict.
struct HandlerError(BoxError);

impl Retryable for HandlerError {
    fn is_retryable(&self) -> bool {
        self.0
            .downcast_ref::<Error>()
            .is_some_and(Error::is_conflict)
            || retryable_source(&*self.0)
    }
}

/// Whether a uow conflict is anywhere in the error's source chain (a
/// service error wrapping `uow_core::Error`).
fn retryable_source(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = error.source();
    while let Some(e) = source {
        if e.downcast_ref::<Error>().is_some_and(Error::is_conflict) {
            return true;
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InMemoryStore;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Clone, Debug, PartialEq)]
    enum Event {
        Ping(u32),
        Pong(u32),
    }

    struct Start(u32);
    impl Command for Start {
        type Output = &'static str;
        type Error = String;
    }

    #[test]
    fn a_command_error_is_transparent_with_its_source() {
        let failed: BusError<Error> = BusError::Command(Error::from(crate::BackendError::new(
            "commit",
            std::io::Error::other("connection reset"),
        )));
        assert_eq!(failed.to_string(), "database error during commit");
        let source = std::error::Error::source(&failed).expect("the driver's error");
        assert_eq!(source.to_string(), "connection reset");
        let missing: BusError<Error> = BusError::NoHandler { command: "Start" };
        assert!(std::error::Error::source(&missing).is_none());
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn events_of_event_handlers_are_dispatched_until_none_are_left() {
        let bus = MessageBus::new(InMemoryStore::new())
            .command(|_, Start(n): Start| async move { Ok(("started", vec![Event::Ping(n)])) })
            .on_event(
                "pong",
                |e| matches!(e, Event::Ping(_)),
                |_, e| async move {
                    let Event::Ping(n) = e else { return Ok(vec![]) };
                    Ok::<_, Error>(if n > 0 {
                        vec![Event::Pong(n), Event::Ping(n - 1)]
                    } else {
                        vec![]
                    })
                },
            );
        let (output, report) = block_on(bus.handle(Start(2))).expect("handled");
        assert_eq!(output, "started");
        // Ping(2), Pong(2), Ping(1), Pong(1), Ping(0)
        assert_eq!(report.events, 5);
        assert!(report.failures.is_empty());
    }

    #[test]
    fn a_failing_event_handler_is_reported_and_the_others_still_run() {
        let seen = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&seen);
        let bus = MessageBus::new(InMemoryStore::new())
            .command(|_, Start(n): Start| async move {
                Ok(("started", vec![Event::Ping(n), Event::Ping(n + 1)]))
            })
            .on_event(
                "broken",
                |_| true,
                |_, _| async { Err::<Vec<Event>, _>("the mail server is down") },
            )
            .on_event(
                "counter",
                |_| true,
                move |_, _| {
                    let counter = Arc::clone(&counter);
                    async move {
                        counter.fetch_add(1, Ordering::SeqCst);
                        Ok::<_, Error>(vec![])
                    }
                },
            );
        let (_, report) = block_on(bus.handle(Start(1))).expect("handled");
        assert_eq!(seen.load(Ordering::SeqCst), 2);
        assert_eq!(report.failures.len(), 2);
        assert_eq!(report.failures[0].handler, "broken");
        assert_eq!(report.failures[0].event, "Ping(1)");
        assert_eq!(report.failures[0].error, "the mail server is down");
    }

    #[test]
    fn a_handler_failure_keeps_the_messages_of_the_whole_chain() {
        let bus = MessageBus::new(InMemoryStore::new())
            .command(|_, Start(n): Start| async move { Ok(("started", vec![Event::Ping(n)])) })
            .on_event(
                "storing",
                |_| true,
                |_, _| async {
                    Err::<Vec<Event>, _>(Error::from(crate::BackendError::new(
                        "commit",
                        std::io::Error::other("disk full"),
                    )))
                },
            );
        let (_, report) = block_on(bus.handle(Start(1))).expect("handled");
        assert_eq!(
            report.failures[0].error,
            "database error during commit: disk full"
        );
    }

    #[test]
    fn a_failing_command_returns_its_error_and_dispatches_nothing() {
        let bus = MessageBus::new(InMemoryStore::new())
            .command(|_, _: Start| async { Err::<(&str, Vec<Event>), _>("invalid sku".to_owned()) })
            .on_event(
                "never",
                |_| true,
                |_, _| async {
                    panic!("no event should be dispatched");
                    #[allow(unreachable_code)]
                    Ok::<Vec<Event>, Error>(vec![])
                },
            );
        match block_on(bus.handle(Start(0))) {
            Err(BusError::Command(e)) => assert_eq!(e, "invalid sku"),
            other => panic!("expected the command's error, got {other:?}"),
        }
    }

    #[test]
    fn a_command_without_handler_is_an_error_naming_it() {
        let bus: MessageBus<InMemoryStore, Event> = MessageBus::new(InMemoryStore::new());
        let err = block_on(bus.handle(Start(0))).expect_err("no handler");
        assert!(err.to_string().contains("Start"), "{err}");
    }

    #[test]
    fn conflicting_event_handlers_are_retried() {
        let tries = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&tries);
        let bus = MessageBus::new(InMemoryStore::new())
            .command(|_, Start(n): Start| async move { Ok(("started", vec![Event::Ping(n)])) })
            .on_event(
                "flaky",
                |_| true,
                move |_, _| {
                    let counter = Arc::clone(&counter);
                    async move {
                        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                            Err(Error::Conflict {
                                aggregate: "Product",
                                id: "LAMP".into(),
                                expected: 1,
                            })
                        } else {
                            Ok(vec![])
                        }
                    }
                },
            );
        let (_, report) = block_on(bus.handle(Start(0))).expect("handled");
        assert!(report.failures.is_empty());
        assert_eq!(tries.load(Ordering::SeqCst), 2);
    }
}
