//! NATS JetStream: a publisher whose publications the stream confirms and
//! deduplicates by event id, and a durable pull consumer that handles one
//! message at a time through the inbox.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use uow_broker::nats::{NatsConsumer, NatsPublisher};
//! use uow_core::{InMemoryStore, inbox::Inbox, outbox::Relay};
//!
//! let client = async_nats::connect("127.0.0.1:4222").await?;
//! let publisher = NatsPublisher::new(client.clone(), "allocation");
//! publisher.ensure_stream("ALLOCATION").await?; // captures `allocation.>`
//! let store = InMemoryStore::new();
//! let relay = Relay::new("relay-1", store.clone(), publisher);
//! relay.run_once().await?;
//!
//! let consumer = NatsConsumer::new(client, "ALLOCATION", "reporting");
//! let inbox = Inbox::new("reporting", store);
//! consumer
//!     .run(&inbox, |_store, delivery: uow_broker::Delivery| async move {
//!         println!("{} {}", delivery.event_type, delivery.payload);
//!         Ok::<(), uow_core::Error>(())
//!     })
//!     .await?;
//! # Ok(()) }
//! ```

use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, message::PublishMessage, stream};
use futures_util::StreamExt;
use uow_core::inbox::{Inbox, InboxStore};
use uow_core::outbox::{OutboxMessage, Publisher};

use crate::{BrokerError, ConsumerOptions, Delivery, Handler, Route, fields, handle_delivery};

/// Publishes outbox messages to JetStream. The subject is the [`Route`]
/// (default `<prefix>.<AggregateType>.<EventType>`); the event id is the
/// `Nats-Msg-Id`, so a message the relay publishes again within the
/// stream's duplicate window is dropped by the server. A publication is
/// delivered when the stream acknowledged it.
#[derive(Clone, Debug)]
pub struct NatsPublisher {
    jetstream: jetstream::Context,
    prefix: String,
    route: Route,
}

impl NatsPublisher {
    /// A publisher on `client`, with subjects under `prefix`.
    pub fn new(client: async_nats::Client, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        NatsPublisher {
            jetstream: jetstream::new(client),
            route: Route::by_event_type(prefix.clone()),
            prefix,
        }
    }

    /// Another subject rule.
    pub fn route(mut self, route: Route) -> Self {
        self.route = route;
        self
    }

    /// The JetStream context.
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    /// Creates stream `name` capturing `<prefix>.>` if it does not exist
    /// (file storage, a two-minute duplicate window). A stream of your own
    /// making works as well: it must capture the publisher's subjects.
    pub async fn ensure_stream(&self, name: &str) -> Result<(), BrokerError> {
        self.jetstream
            .get_or_create_stream(stream::Config {
                name: name.to_owned(),
                subjects: vec![format!("{}.>", self.prefix)],
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(|e| BrokerError::connect(format!("create JetStream stream `{name}`"), e))?;
        Ok(())
    }
}

impl Publisher for NatsPublisher {
    async fn publish(
        &self,
        message: &OutboxMessage,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let record = &message.record;
        let publish = PublishMessage::build()
            .message_id(&record.event_id)
            .header(fields::EVENT_TYPE, record.event_type.as_str())
            .header(fields::AGGREGATE_TYPE, record.aggregate_type.as_str())
            .header(fields::AGGREGATE_ID, record.aggregate_id.as_str())
            .payload(bytes::Bytes::from(record.payload.clone()));
        let ack = self
            .jetstream
            .send_publish(self.route.of(record), publish)
            .await?
            .await?;
        if ack.duplicate {
            tracing::debug!(event_id = %record.event_id, "JetStream dropped a republished message");
        }
        Ok(())
    }
}

/// A durable JetStream pull consumer: hands each message of its stream to a
/// handler through the inbox, one at a time (`max_ack_pending` 1, so a
/// message redelivered after a crash comes before any later one), and
/// acknowledges it (a double ack, confirmed by the server) after the
/// handler's commit.
#[derive(Clone, Debug)]
pub struct NatsConsumer {
    jetstream: jetstream::Context,
    stream: String,
    durable: String,
    filter: Option<String>,
    ack_wait: Duration,
    options: ConsumerOptions,
}

impl NatsConsumer {
    /// The durable consumer `durable` of stream `stream`, created if it
    /// does not exist.
    pub fn new(
        client: async_nats::Client,
        stream: impl Into<String>,
        durable: impl Into<String>,
    ) -> Self {
        NatsConsumer {
            jetstream: jetstream::new(client),
            stream: stream.into(),
            durable: durable.into(),
            filter: None,
            ack_wait: Duration::from_secs(30),
            options: ConsumerOptions::default(),
        }
    }

    /// Only the subjects matching `filter` (`allocation.Product.*`).
    pub fn filter_subject(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// How long the server waits for an acknowledgement before it delivers
    /// the message again (default 30 s; set when the consumer is created).
    pub fn ack_wait(mut self, wait: Duration) -> Self {
        self.ack_wait = wait;
        self
    }

    /// How a failing handler is retried.
    pub fn options(mut self, options: ConsumerOptions) -> Self {
        self.options = options;
        self
    }

    /// Consumes until an error: each message is handled through `inbox` and
    /// then acknowledged. Run it in a task of its own; aborting the task
    /// leaves the message in hand unacknowledged, to be delivered again.
    pub async fn run<S, H>(&self, inbox: &Inbox<S>, handler: H) -> Result<(), BrokerError>
    where
        S: InboxStore + Clone,
        H: Handler<S>,
    {
        let stream = self
            .jetstream
            .get_stream(&self.stream)
            .await
            .map_err(|e| BrokerError::connect(format!("get stream `{}`", self.stream), e))?;
        let consumer = stream
            .get_or_create_consumer(
                &self.durable,
                pull::Config {
                    durable_name: Some(self.durable.clone()),
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: self.ack_wait,
                    max_ack_pending: 1,
                    filter_subject: self.filter.clone().unwrap_or_default(),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| BrokerError::connect(format!("create consumer `{}`", self.durable), e))?;
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| BrokerError::consume("pull messages", e))?;
        while let Some(message) = messages.next().await {
            let message = message.map_err(|e| BrokerError::consume("receive a message", e))?;
            let delivery = delivery(&message)?;
            handle_delivery(inbox, &handler, &delivery, &self.options).await?;
            message
                .double_ack()
                .await
                .map_err(|e| BrokerError::consume("acknowledge a message", e))?;
        }
        Err(BrokerError::consume(
            "pull messages",
            "the message stream ended",
        ))
    }
}

fn delivery(message: &jetstream::Message) -> Result<Delivery, BrokerError> {
    let route = message.subject.to_string();
    let header = |name: &'static str| {
        message
            .headers
            .as_ref()
            .and_then(|headers| headers.get(name))
            .map(|value| value.as_str().to_owned())
            .ok_or(BrokerError::Malformed {
                route: route.clone(),
                missing: name,
            })
    };
    Ok(Delivery {
        message_id: header("Nats-Msg-Id")?,
        event_type: header(fields::EVENT_TYPE)?,
        aggregate_type: header(fields::AGGREGATE_TYPE)?,
        aggregate_id: header(fields::AGGREGATE_ID)?,
        payload: String::from_utf8_lossy(&message.payload).into_owned(),
        route,
    })
}
