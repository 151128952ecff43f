//! RabbitMQ: a publisher to a durable topic exchange with publisher
//! confirms, persistent messages and the event id as the message id, and a
//! consumer of a durable queue that handles one message at a time through
//! the inbox.
//!
//! RabbitMQ does not deduplicate: a message the relay publishes again (it
//! died between the confirm and marking the message delivered) reaches the
//! queue twice, and the consumer's inbox drops the copy.

use futures_util::StreamExt;
use lapin::Confirmation;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ExchangeKind};
use uow_core::inbox::{Inbox, InboxStore};
use uow_core::outbox::{OutboxMessage, Publisher};

use crate::{BrokerError, ConsumerOptions, Delivery, Handler, Route, fields, handle_delivery};

/// Declares the durable topic exchange `exchange`, if it does not exist.
async fn declare_exchange(channel: &Channel, exchange: &str) -> Result<(), BrokerError> {
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(|e| BrokerError::connect(format!("declare exchange `{exchange}`"), e))
}

/// Publishes outbox messages to a durable topic exchange, with the
/// [`Route`] as routing key (default `<prefix>.<AggregateType>.<EventType>`),
/// persistent, the event id as message id and the event type as type. A
/// publication is delivered when the broker confirmed it and a queue took
/// it: an unroutable message (no queue bound) or a negative confirm is an
/// error, retried by the relay.
#[derive(Clone, Debug)]
pub struct RabbitPublisher {
    channel: Channel,
    exchange: String,
    route: Route,
}

impl RabbitPublisher {
    /// A publisher to exchange `exchange` (declared here if missing), with
    /// routing keys under `exchange` as prefix, on a channel of its own in
    /// confirm mode.
    pub async fn new(
        connection: &Connection,
        exchange: impl Into<String>,
    ) -> Result<Self, BrokerError> {
        let exchange = exchange.into();
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| BrokerError::connect("open a channel", e))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| BrokerError::connect("enable publisher confirms", e))?;
        declare_exchange(&channel, &exchange).await?;
        Ok(RabbitPublisher {
            channel,
            route: Route::by_event_type(exchange.clone()),
            exchange,
        })
    }

    /// Another routing-key rule.
    pub fn route(mut self, route: Route) -> Self {
        self.route = route;
        self
    }
}

impl Publisher for RabbitPublisher {
    async fn publish(
        &self,
        message: &OutboxMessage,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let record = &message.record;
        let mut headers = FieldTable::default();
        for (name, value) in [
            (fields::AGGREGATE_TYPE, &record.aggregate_type),
            (fields::AGGREGATE_ID, &record.aggregate_id),
        ] {
            headers.insert(
                ShortString::from(name),
                AMQPValue::LongString(value.as_str().into()),
            );
        }
        let properties = BasicProperties::default()
            .with_message_id(record.event_id.as_str().into())
            .with_type(record.event_type.as_str().into())
            .with_content_type("application/json".into())
            .with_delivery_mode(2)
            .with_headers(headers);
        let confirmation = self
            .channel
            .basic_publish(
                self.exchange.as_str().into(),
                self.route.of(record).into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                record.payload.as_bytes(),
                properties,
            )
            .await?
            .await?;
        match confirmation {
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Ack(Some(_)) => Err(format!(
                "no queue is bound to exchange `{}` for routing key `{}`: the message was returned",
                self.exchange,
                self.route.of(record)
            )
            .into()),
            Confirmation::Nack(_) => {
                Err("the broker refused the message (negative confirm)".into())
            }
            Confirmation::NotRequested => {
                Err("the channel is not in confirm mode: the broker did not confirm".into())
            }
        }
    }
}

/// A consumer of a durable queue bound to a topic exchange: hands each
/// message to a handler through the inbox, one at a time (prefetch 1), and
/// acknowledges it after the handler's commit. A message unacknowledged when
/// the consumer dies is requeued by the broker and delivered again.
#[derive(Clone, Debug)]
pub struct RabbitConsumer {
    connection_uri: String,
    exchange: String,
    queue: String,
    binding: String,
    options: ConsumerOptions,
}

impl RabbitConsumer {
    /// A consumer connecting to `uri` (`amqp://guest:guest@127.0.0.1:5672/%2f`),
    /// reading durable queue `queue`, bound to exchange `exchange` with
    /// binding key `#` (every message); both declared if missing.
    pub fn new(
        uri: impl Into<String>,
        exchange: impl Into<String>,
        queue: impl Into<String>,
    ) -> Self {
        RabbitConsumer {
            connection_uri: uri.into(),
            exchange: exchange.into(),
            queue: queue.into(),
            binding: "#".into(),
            options: ConsumerOptions::default(),
        }
    }

    /// Binds the queue with another key (`allocation.Product.*`).
    pub fn binding_key(mut self, key: impl Into<String>) -> Self {
        self.binding = key.into();
        self
    }

    /// How a failing handler is retried.
    pub fn options(mut self, options: ConsumerOptions) -> Self {
        self.options = options;
        self
    }

    /// Declares the exchange, the queue and its binding, so messages
    /// published before the consumer first runs are kept for it.
    pub async fn declare(&self) -> Result<(), BrokerError> {
        let connection = self.connect().await?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| BrokerError::connect("open a channel", e))?;
        self.declare_on(&channel).await?;
        let _ = connection.close(200, "declared".into()).await;
        Ok(())
    }

    async fn connect(&self) -> Result<Connection, BrokerError> {
        Connection::connect(&self.connection_uri, lapin::ConnectionProperties::default())
            .await
            .map_err(|e| BrokerError::connect("connect to RabbitMQ", e))
    }

    async fn declare_on(&self, channel: &Channel) -> Result<(), BrokerError> {
        declare_exchange(channel, &self.exchange).await?;
        channel
            .queue_declare(
                self.queue.as_str().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| BrokerError::connect(format!("declare queue `{}`", self.queue), e))?;
        channel
            .queue_bind(
                self.queue.as_str().into(),
                self.exchange.as_str().into(),
                self.binding.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| BrokerError::connect(format!("bind queue `{}`", self.queue), e))
    }

    /// Consumes until an error: each message is handled through `inbox` and
    /// then acknowledged. Run it in a task of its own; aborting the task
    /// closes its connection, and the broker requeues the message in hand.
    pub async fn run<S, H>(&self, inbox: &Inbox<S>, handler: H) -> Result<(), BrokerError>
    where
        S: InboxStore + Clone,
        H: Handler<S>,
    {
        let connection = self.connect().await?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| BrokerError::connect("open a channel", e))?;
        self.declare_on(&channel).await?;
        channel
            .basic_qos(1, BasicQosOptions::default())
            .await
            .map_err(|e| BrokerError::connect("set the prefetch to 1", e))?;
        let mut consumer = channel
            .basic_consume(
                self.queue.as_str().into(),
                inbox.consumer().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| BrokerError::connect(format!("consume queue `{}`", self.queue), e))?;
        while let Some(message) = consumer.next().await {
            let message = message.map_err(|e| BrokerError::consume("receive a message", e))?;
            let delivery = delivery(&message)?;
            handle_delivery(inbox, &handler, &delivery, &self.options).await?;
            message
                .ack(BasicAckOptions::default())
                .await
                .map_err(|e| BrokerError::consume("acknowledge a message", e))?;
        }
        Err(BrokerError::consume(
            "consume messages",
            "the consumer was cancelled",
        ))
    }
}

fn delivery(message: &lapin::message::Delivery) -> Result<Delivery, BrokerError> {
    let route = message.routing_key.to_string();
    let properties = &message.properties;
    let missing = |missing: &'static str| BrokerError::Malformed {
        route: route.clone(),
        missing,
    };
    let header = |name: &'static str| -> Result<String, BrokerError> {
        let value = properties
            .headers()
            .as_ref()
            .and_then(|headers| headers.inner().get(name))
            .ok_or_else(|| missing(name))?;
        match value {
            AMQPValue::LongString(text) => Ok(text.to_string()),
            AMQPValue::ShortString(text) => Ok(text.to_string()),
            _ => Err(missing(name)),
        }
    };
    Ok(Delivery {
        message_id: properties
            .message_id()
            .as_ref()
            .map(|id| id.to_string())
            .ok_or_else(|| missing("message id"))?,
        event_type: properties
            .kind()
            .as_ref()
            .map(|kind| kind.to_string())
            .ok_or_else(|| missing("type"))?,
        aggregate_type: header(fields::AGGREGATE_TYPE)?,
        aggregate_id: header(fields::AGGREGATE_ID)?,
        payload: String::from_utf8_lossy(&message.data).into_owned(),
        route,
    })
}
