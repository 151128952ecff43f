//! Redis Streams: a publisher that appends each message to a stream with
//! `XADD`, and a consumer-group consumer that handles one entry at a time
//! through the inbox and acknowledges it with `XACK` after the handler's
//! commit.
//!
//! Redis does not deduplicate: a message the relay publishes again reaches
//! the stream twice, and the consumer's inbox drops the copy. A consumer
//! that restarts under the same name first reads the entries it had been
//! given and not acknowledged, in order, then new ones: keep the consumer
//! name stable across restarts.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamId, StreamReadOptions, StreamReadReply};
use uow_core::inbox::{Inbox, InboxStore};
use uow_core::outbox::{OutboxMessage, Publisher};

use crate::{BrokerError, ConsumerOptions, Delivery, Handler, Route, fields, handle_delivery};

/// Publishes outbox messages to Redis streams with `XADD`; the stream key is
/// the [`Route`] (default `<prefix>.<AggregateType>`). A publication is
/// delivered when `XADD` answered with the entry's id.
#[derive(Clone)]
pub struct RedisPublisher {
    connection: MultiplexedConnection,
    route: Route,
}

impl std::fmt::Debug for RedisPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPublisher")
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

impl RedisPublisher {
    /// A publisher on `client`, with stream keys under `prefix`.
    pub async fn new(
        client: &redis::Client,
        prefix: impl Into<String>,
    ) -> Result<Self, BrokerError> {
        let connection = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| BrokerError::connect("connect to Redis", e))?;
        Ok(RedisPublisher {
            connection,
            route: Route::by_aggregate_type(prefix),
        })
    }

    /// Another stream-key rule.
    pub fn route(mut self, route: Route) -> Self {
        self.route = route;
        self
    }
}

impl Publisher for RedisPublisher {
    async fn publish(
        &self,
        message: &OutboxMessage,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let record = &message.record;
        let mut connection = self.connection.clone();
        let _: String = connection
            .xadd(
                self.route.of(record),
                "*",
                &[
                    (fields::MESSAGE_ID, record.event_id.as_str()),
                    (fields::EVENT_TYPE, record.event_type.as_str()),
                    (fields::AGGREGATE_TYPE, record.aggregate_type.as_str()),
                    (fields::AGGREGATE_ID, record.aggregate_id.as_str()),
                    (fields::PAYLOAD, record.payload.as_str()),
                ],
            )
            .await?;
        Ok(())
    }
}

/// A consumer of one or more Redis streams in consumer group `group` (created
/// at the streams' start if missing), under a stable consumer name.
#[derive(Clone, Debug)]
pub struct RedisConsumer {
    client: redis::Client,
    streams: Vec<String>,
    group: String,
    name: String,
    options: ConsumerOptions,
}

/// How long one `XREADGROUP` waits for new entries: below the client's
/// response timeout.
const BLOCK: Duration = Duration::from_millis(200);

impl RedisConsumer {
    /// Consumer `name` of group `group`, reading `streams`.
    pub fn new(
        client: redis::Client,
        streams: impl IntoIterator<Item = impl Into<String>>,
        group: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        RedisConsumer {
            client,
            streams: streams.into_iter().map(Into::into).collect(),
            group: group.into(),
            name: name.into(),
            options: ConsumerOptions::default(),
        }
    }

    /// How a failing handler is retried.
    pub fn options(mut self, options: ConsumerOptions) -> Self {
        self.options = options;
        self
    }

    /// Creates the group on each stream (and the stream) if missing, reading
    /// from the stream's start, so entries added before the consumer first
    /// runs are kept for it.
    pub async fn declare(&self) -> Result<(), BrokerError> {
        let mut connection = self.connect().await?;
        for stream in &self.streams {
            let created: redis::RedisResult<()> = connection
                .xgroup_create_mkstream(stream, &self.group, "0")
                .await;
            match created {
                Ok(()) => {}
                Err(e) if e.code() == Some("BUSYGROUP") => {}
                Err(e) => {
                    return Err(BrokerError::connect(
                        format!("create group `{}` on stream `{stream}`", self.group),
                        e,
                    ));
                }
            }
        }
        Ok(())
    }

    async fn connect(&self) -> Result<MultiplexedConnection, BrokerError> {
        self.client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| BrokerError::connect("connect to Redis", e))
    }

    /// Consumes until an error: first the entries this consumer was given
    /// and had not acknowledged (it died), then new ones; each handled
    /// through `inbox` and then acknowledged. Run it in a task of its own.
    pub async fn run<S, H>(&self, inbox: &Inbox<S>, handler: H) -> Result<(), BrokerError>
    where
        S: InboxStore + Clone,
        H: Handler<S>,
    {
        self.declare().await?;
        let mut connection = self.connect().await?;
        let mut pending = true;
        loop {
            let from = if pending { "0" } else { ">" };
            let mut options = StreamReadOptions::default()
                .group(&self.group, &self.name)
                .count(16);
            if !pending {
                options = options.block(BLOCK.as_millis() as usize);
            }
            let ids = vec![from; self.streams.len()];
            let reply: Option<StreamReadReply> = connection
                .xread_options(&self.streams, &ids, &options)
                .await
                .map_err(|e| BrokerError::consume("XREADGROUP", e))?;
            let entries: Vec<(String, StreamId)> = reply
                .map(|reply| {
                    reply
                        .keys
                        .into_iter()
                        .flat_map(|key| {
                            let stream = key.key;
                            key.ids.into_iter().map(move |id| (stream.clone(), id))
                        })
                        .collect()
                })
                .unwrap_or_default();
            if entries.is_empty() {
                pending = false;
                continue;
            }
            for (stream, entry) in entries {
                let delivery = delivery(&stream, &entry)?;
                handle_delivery(inbox, &handler, &delivery, &self.options).await?;
                let _: u64 = connection
                    .xack(&stream, &self.group, &[&entry.id])
                    .await
                    .map_err(|e| BrokerError::consume("XACK", e))?;
            }
        }
    }
}

fn delivery(stream: &str, entry: &StreamId) -> Result<Delivery, BrokerError> {
    let field = |name: &'static str| {
        entry
            .get::<String>(name)
            .ok_or_else(|| BrokerError::Malformed {
                route: stream.to_owned(),
                missing: name,
            })
    };
    Ok(Delivery {
        message_id: field(fields::MESSAGE_ID)?,
        event_type: field(fields::EVENT_TYPE)?,
        aggregate_type: field(fields::AGGREGATE_TYPE)?,
        aggregate_id: field(fields::AGGREGATE_ID)?,
        payload: field(fields::PAYLOAD)?,
        route: stream.to_owned(),
    })
}
