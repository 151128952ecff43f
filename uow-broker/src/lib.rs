//! # uow-broker
//!
//! The events of a uow service leaving it, and the messages of other
//! services taking effect in it once: publishers for the outbox
//! [`Relay`](uow_core::outbox::Relay) and consumers that run a handler per
//! message through an [`Inbox`], for three brokers,
//! each behind a cargo feature so a service compiles only the client it uses:
//!
//! | feature | publisher | consumer | confirmed when | deduplicated by the broker |
//! |---|---|---|---|---|
//! | `nats` | `nats::NatsPublisher` (JetStream) | `nats::NatsConsumer` (durable pull consumer) | the stream stored it (publish ack) | yes: the event id is the `Nats-Msg-Id`, dropped within the stream's duplicate window |
//! | `rabbitmq` | `rabbitmq::RabbitPublisher` (topic exchange, persistent, publisher confirms) | `rabbitmq::RabbitConsumer` (durable queue, prefetch 1) | the broker confirmed it and a queue took it (mandatory) | no: the inbox drops the copies |
//! | `redis` | `redis::RedisPublisher` (`XADD`) | `redis::RedisConsumer` (consumer group) | `XADD` answered with the entry id | no: the inbox drops the copies |
//!
//! A publication counts as delivered (the relay marks the outbox message
//! delivered) only when the broker has confirmed it; otherwise the relay
//! retries it with backoff, in order per aggregate.
//!
//! ## Where a message goes: the [`Route`]
//!
//! The NATS subject, the RabbitMQ routing key and the Redis stream key of an
//! event are given by a [`Route`]. The default rule is
//! `<prefix>.<AggregateType>.<EventType>` (`allocation.Product.Allocated`)
//! for NATS and RabbitMQ, and `<prefix>.<AggregateType>` for Redis (one
//! stream per aggregate type, since the order of a consumer group holds
//! within a stream only). [`Route::custom`] overrides it.
//!
//! ## What a message carries
//!
//! The payload is the event's JSON as the outbox stored it. The event id,
//! event type, aggregate type and aggregate id travel beside it (NATS
//! headers, AMQP message id, type and headers, Redis stream fields), and a
//! consumer hands them to the handler as a [`Delivery`].
//!
//! ## Consuming once, in order
//!
//! A consumer handles one message at a time: it runs the handler through the
//! inbox ([`Inbox::handle`](uow_core::inbox::Inbox::handle)), which records
//! the message id in the handler's own commit, and acknowledges the message
//! only after that commit. A message redelivered (the consumer died before
//! acknowledging it, the relay published it twice) is acknowledged without
//! running the handler again. A handler that fails is retried in place, up
//! to [`ConsumerOptions::handler_attempts`] times, before the consumer stops
//! with [`BrokerError::Handler`] (leaving the message unacknowledged):
//! skipping it would apply the aggregate's later events before it. The order
//! of each aggregate's events is kept as far as the broker keeps it: a
//! JetStream consumer with one message pending, a RabbitMQ queue read with a
//! prefetch of one, a Redis stream read by one consumer of its group.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use uow_core::inbox::{Handled, Inbox, InboxError, InboxStore, Receiving};
use uow_core::outbox::OutboxRecord;

#[cfg(feature = "nats")]
#[cfg_attr(docsrs, doc(cfg(feature = "nats")))]
pub mod nats;
#[cfg(feature = "rabbitmq")]
#[cfg_attr(docsrs, doc(cfg(feature = "rabbitmq")))]
pub mod rabbitmq;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;

/// The names under which a message's metadata travels beside its payload
/// (NATS headers, AMQP headers, Redis stream fields).
pub mod fields {
    /// The event id (also the NATS `Nats-Msg-Id` and the AMQP message id).
    pub const MESSAGE_ID: &str = "Uow-Message-Id";
    /// The event type (also the AMQP `type` property).
    pub const EVENT_TYPE: &str = "Uow-Event-Type";
    /// The aggregate's type name.
    pub const AGGREGATE_TYPE: &str = "Uow-Aggregate-Type";
    /// The aggregate's id, as text.
    pub const AGGREGATE_ID: &str = "Uow-Aggregate-Id";
    /// The payload (Redis stream field; NATS and AMQP carry it as the body).
    pub const PAYLOAD: &str = "payload";
}

/// Where a message is published: the NATS subject, the RabbitMQ routing key
/// or the Redis stream key of an outbox record.
#[derive(Clone)]
pub struct Route(Arc<dyn Fn(&OutboxRecord) -> String + Send + Sync>);

impl Route {
    /// `<prefix>.<AggregateType>.<EventType>`, as
    /// `allocation.Product.Allocated` (the NATS and RabbitMQ default).
    pub fn by_event_type(prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        Route(Arc::new(move |record: &OutboxRecord| {
            format!("{prefix}.{}.{}", record.aggregate_type, record.event_type)
        }))
    }

    /// `<prefix>.<AggregateType>`, as `allocation.Product` (the Redis
    /// default: one stream per aggregate type keeps each aggregate's events
    /// in one stream, in order).
    pub fn by_aggregate_type(prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        Route(Arc::new(move |record: &OutboxRecord| {
            format!("{prefix}.{}", record.aggregate_type)
        }))
    }

    /// A rule of your own. Keep all events of one aggregate on one stream
    /// (or queue) if its consumers rely on their order.
    pub fn custom(rule: impl Fn(&OutboxRecord) -> String + Send + Sync + 'static) -> Self {
        Route(Arc::new(rule))
    }

    /// The destination of `record`.
    pub fn of(&self, record: &OutboxRecord) -> String {
        (self.0)(record)
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Route(..)")
    }
}

/// One message as a consumer hands it to a handler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The message id: the outbox event id, what the inbox records.
    pub message_id: String,
    /// The NATS subject, the RabbitMQ routing key or the Redis stream key it
    /// came by.
    pub route: String,
    /// The event type (`Allocated`).
    pub event_type: String,
    /// The type name of the aggregate that recorded the event.
    pub aggregate_type: String,
    /// The aggregate's id, as text.
    pub aggregate_id: String,
    /// The event as JSON.
    pub payload: String,
}

/// What a consumer runs for each message: usually a closure
/// `async |store: Receiving<S>, delivery: Delivery| -> Result<(), E>` that
/// begins its units of work on `store` (see [`Inbox::handle`]).
pub trait Handler<S>: Send + Sync {
    /// The handler's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Handles one message.
    fn handle(
        &self,
        store: Receiving<S>,
        delivery: Delivery,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

impl<S, F, Fut, E> Handler<S> for F
where
    F: Fn(Receiving<S>, Delivery) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), E>> + Send,
    E: std::error::Error + Send + Sync + 'static,
{
    type Error = E;

    fn handle(
        &self,
        store: Receiving<S>,
        delivery: Delivery,
    ) -> impl Future<Output = Result<(), E>> + Send {
        self(store, delivery)
    }
}

/// How a consumer treats a failing handler.
#[derive(Clone, Debug)]
pub struct ConsumerOptions {
    /// How many times a message's handler runs before the consumer stops
    /// with [`BrokerError::Handler`] (default 5).
    pub handler_attempts: u32,
    /// The wait between two attempts (default 200 ms).
    pub retry_wait: Duration,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        ConsumerOptions {
            handler_attempts: 5,
            retry_wait: Duration::from_millis(200),
        }
    }
}

/// What went wrong with a broker.
#[derive(Debug)]
#[non_exhaustive]
pub enum BrokerError {
    /// The broker could not be reached, or refused a setup step (a stream,
    /// an exchange, a queue, a consumer).
    Connect {
        /// What was being done.
        operation: String,
        /// The client's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A message arrived without the metadata a uow publisher sets.
    Malformed {
        /// Where it came from.
        route: String,
        /// What is missing.
        missing: &'static str,
    },
    /// Receiving or acknowledging a message failed.
    Consume {
        /// What was being done.
        operation: String,
        /// The client's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The inbox could not be read or written.
    Storage(uow_core::Error),
    /// The handler failed on every attempt; the message was left
    /// unacknowledged, to be delivered again.
    Handler {
        /// The message.
        message_id: String,
        /// The attempts made.
        attempts: u32,
        /// The last attempt's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl BrokerError {
    pub(crate) fn connect(
        operation: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        BrokerError::Connect {
            operation: operation.into(),
            source: source.into(),
        }
    }

    pub(crate) fn consume(
        operation: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        BrokerError::Consume {
            operation: operation.into(),
            source: source.into(),
        }
    }
}

impl fmt::Display for BrokerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrokerError::Connect { operation, .. } => {
                write!(f, "the broker refused or could not be reached: {operation}")
            }
            BrokerError::Malformed { route, missing } => write!(
                f,
                "a message on `{route}` has no {missing}: it was not published by a uow publisher"
            ),
            BrokerError::Consume { operation, .. } => {
                write!(f, "consuming from the broker failed: {operation}")
            }
            BrokerError::Storage(_) => f.write_str("the inbox could not be used"),
            BrokerError::Handler {
                message_id,
                attempts,
                ..
            } => write!(
                f,
                "the handler of message `{message_id}` failed {attempts} times; the message is left unacknowledged"
            ),
        }
    }
}

impl std::error::Error for BrokerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BrokerError::Connect { source, .. }
            | BrokerError::Consume { source, .. }
            | BrokerError::Handler { source, .. } => Some(&**source),
            BrokerError::Storage(error) => Some(error),
            BrokerError::Malformed { .. } => None,
        }
    }
}

/// Runs `handler` for `delivery` through the inbox, retrying a failing
/// handler in place; `Ok` means the message may be acknowledged.
pub(crate) async fn handle_delivery<S, H>(
    inbox: &Inbox<S>,
    handler: &H,
    delivery: &Delivery,
    options: &ConsumerOptions,
) -> Result<Handled, BrokerError>
where
    S: InboxStore + Clone,
    H: Handler<S>,
{
    let attempts = options.handler_attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let outcome = inbox
            .handle(&delivery.message_id, |store| {
                handler.handle(store, delivery.clone())
            })
            .await;
        match outcome {
            Ok(handled) => return Ok(handled),
            Err(InboxError::Storage(error)) if attempt >= attempts => {
                return Err(BrokerError::Storage(error));
            }
            Err(InboxError::Handler(error)) if attempt >= attempts => {
                return Err(BrokerError::Handler {
                    message_id: delivery.message_id.clone(),
                    attempts: attempt,
                    source: Box::new(error),
                });
            }
            Err(error) => {
                tracing::warn!(
                    consumer = inbox.consumer(),
                    message_id = %delivery.message_id,
                    attempt,
                    %error,
                    "handling a message failed; retrying it"
                );
                tokio::time::sleep(options.retry_wait).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> OutboxRecord {
        OutboxRecord {
            event_id: "0193a0e2-7c1d-7e6f-9a51-0c2d3e4f5a6b".into(),
            aggregate_type: "Product".into(),
            aggregate_id: "LAMP".into(),
            event_type: "Allocated".into(),
            payload: "{}".into(),
            created_at: 0,
        }
    }

    #[test]
    fn the_default_routes_name_the_aggregate_and_event_types() {
        assert_eq!(
            Route::by_event_type("allocation").of(&record()),
            "allocation.Product.Allocated"
        );
        assert_eq!(
            Route::by_aggregate_type("allocation").of(&record()),
            "allocation.Product"
        );
        assert_eq!(
            Route::custom(|r| format!("events.{}", r.aggregate_id.to_lowercase())).of(&record()),
            "events.lamp"
        );
    }
}
