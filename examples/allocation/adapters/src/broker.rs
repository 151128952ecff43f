//! The broker adapter: the service's events leave through the outbox to NATS
//! JetStream, and `ChangeBatchQuantity` commands from other services arrive
//! from it through the inbox, as in chapter 11 of "Architecture Patterns
//! with Python" (where the message bus is Redis pub/sub).
//!
//! - **Events out:** a relay publishes each committed event on
//!   `allocation.<Aggregate>.<Event>` (`allocation.Product.Allocated`), JSON
//!   as serde writes [`Event`](allocation_domain::Event), into stream
//!   `ALLOCATION`.
//! - **Commands in:** messages on `allocation-commands.Batch.ChangeBatchQuantity`
//!   (stream `ALLOCATION_COMMANDS`), JSON `{"ChangeBatchQuantity":
//!   {"reference": "...", "qty": 5}}`, are handled once each through the
//!   inbox by the same message bus the HTTP API uses.
//!
//! With the cargo features `rabbitmq` and `redis`, `start_rabbitmq` and
//! `start_redis` do the same over RabbitMQ (events to the topic exchange
//! `allocation`, commands from the queue `allocation-commands` bound to the
//! exchange `allocation-commands`) and Redis Streams (events on
//! `allocation.Product`, commands from `allocation-commands.Batch`).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use uow_broker::nats::{NatsConsumer, NatsPublisher};
use uow_broker::{BrokerError, Delivery};
use uow_core::Store;
use uow_core::bus::BusError;
use uow_core::inbox::{Inbox, InboxStore, Receiving};
use uow_core::outbox::{OutboxStore, Relay};

use allocation_service::{ChangeBatchQuantity, ServiceError};

use crate::notifications::LoggedNotifications;

/// The subjects and streams of the service's messages (the defaults are the
/// service's contract; tests use names of their own).
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// The subject prefix of the events it publishes.
    pub events_prefix: String,
    /// The stream holding them.
    pub events_stream: String,
    /// The subject prefix of the commands it consumes.
    pub commands_prefix: String,
    /// The stream holding them.
    pub commands_stream: String,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            events_prefix: "allocation".into(),
            events_stream: "ALLOCATION".into(),
            commands_prefix: "allocation-commands".into(),
            commands_stream: "ALLOCATION_COMMANDS".into(),
        }
    }
}

/// A command another service sends to this one through the broker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExternalCommand {
    /// Change the purchased quantity of a batch (reallocating what no longer
    /// fits).
    ChangeBatchQuantity {
        /// The batch.
        reference: String,
        /// Its new quantity.
        qty: u32,
    },
}

/// Why a command from the broker was not handled (it is retried).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct CommandFailed(#[from] BusError<ServiceError>);

/// Starts the relay of the service's outbox to NATS and the consumer of its
/// commands, creating their streams if missing; the tasks run until aborted
/// (a consumer that fails is started again after a pause).
pub async fn start_nats<S>(
    client: async_nats::Client,
    store: S,
    config: BrokerConfig,
) -> Result<Vec<JoinHandle<()>>, BrokerError>
where
    S: Store + OutboxStore + InboxStore + Clone + 'static,
{
    let publisher = NatsPublisher::new(client.clone(), &config.events_prefix);
    publisher.ensure_stream(&config.events_stream).await?;
    NatsPublisher::new(client.clone(), &config.commands_prefix)
        .ensure_stream(&config.commands_stream)
        .await?;
    let relay = spawn_relay(store.clone(), publisher);
    let consumer = NatsConsumer::new(client, config.commands_stream, "allocation");
    let inbox = Inbox::new("allocation", store);
    let commands = tokio::spawn(async move {
        loop {
            if let Err(error) = consumer.run(&inbox, handle_command::<S>).await {
                tracing::warn!(%error, "the command consumer stopped; restarting it");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    Ok(vec![relay, commands])
}

/// Runs the relay of the service's outbox to `publisher` until aborted.
fn spawn_relay<S, P>(store: S, publisher: P) -> JoinHandle<()>
where
    S: OutboxStore + Clone + 'static,
    P: uow_core::outbox::Publisher + 'static,
{
    let relay = Relay::new("allocation", store, publisher);
    tokio::spawn(async move {
        uow_sqlx::run_relay(
            &relay,
            Duration::from_millis(50),
            std::future::pending::<()>(),
        )
        .await;
    })
}

/// Starts the relay to RabbitMQ (topic exchange `events_prefix`) and the
/// consumer of the commands (queue `commands_prefix`, bound to exchange
/// `commands_prefix`), declaring them if missing.
#[cfg(feature = "rabbitmq")]
pub async fn start_rabbitmq<S>(
    uri: &str,
    store: S,
    config: BrokerConfig,
) -> Result<Vec<JoinHandle<()>>, BrokerError>
where
    S: Store + OutboxStore + InboxStore + Clone + 'static,
{
    use uow_broker::rabbitmq::{RabbitConsumer, RabbitPublisher};
    let connection = lapin::Connection::connect(uri, lapin::ConnectionProperties::default())
        .await
        .map_err(|e| BrokerError::Connect {
            operation: format!("connect to RabbitMQ at {uri}"),
            source: Box::new(e),
        })?;
    let publisher = RabbitPublisher::new(&connection, &config.events_prefix).await?;
    let consumer = RabbitConsumer::new(uri, &config.commands_prefix, &config.commands_prefix);
    consumer.declare().await?;
    let inbox = Inbox::new("allocation", store.clone());
    let commands = tokio::spawn(async move {
        loop {
            if let Err(error) = consumer.run(&inbox, handle_command::<S>).await {
                tracing::warn!(%error, "the command consumer stopped; restarting it");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    Ok(vec![spawn_relay(store, publisher), commands])
}

/// Starts the relay to Redis streams (`<events_prefix>.<Aggregate>`) and the
/// consumer of the commands (stream `<commands_prefix>.Batch`, group
/// `allocation`).
#[cfg(feature = "redis")]
pub async fn start_redis<S>(
    url: &str,
    store: S,
    config: BrokerConfig,
) -> Result<Vec<JoinHandle<()>>, BrokerError>
where
    S: Store + OutboxStore + InboxStore + Clone + 'static,
{
    use uow_broker::redis::{RedisConsumer, RedisPublisher};
    let client = redis::Client::open(url).map_err(|e| BrokerError::Connect {
        operation: format!("open Redis at {url}"),
        source: Box::new(e),
    })?;
    let publisher = RedisPublisher::new(&client, &config.events_prefix).await?;
    let consumer = RedisConsumer::new(
        client,
        [format!("{}.Batch", config.commands_prefix)],
        "allocation",
        "allocation-1",
    );
    consumer.declare().await?;
    let inbox = Inbox::new("allocation", store.clone());
    let commands = tokio::spawn(async move {
        loop {
            if let Err(error) = consumer.run(&inbox, handle_command::<S>).await {
                tracing::warn!(%error, "the command consumer stopped; restarting it");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    Ok(vec![spawn_relay(store, publisher), commands])
}

/// Handles one command from the broker with the service's message bus, on
/// the inbox's store (so its first commit records the message). A command
/// the service refuses (an unknown batch) is logged and acknowledged: running
/// it again would not change the answer.
pub async fn handle_command<S: Store + Clone + 'static>(
    store: Receiving<S>,
    delivery: Delivery,
) -> Result<(), CommandFailed> {
    let command: ExternalCommand = match serde_json::from_str(&delivery.payload) {
        Ok(command) => command,
        Err(error) => {
            tracing::warn!(message_id = %delivery.message_id, %error, "not a command of this service; dropped");
            return Ok(());
        }
    };
    let bus = allocation_service::bootstrap(store, LoggedNotifications);
    let ExternalCommand::ChangeBatchQuantity { reference, qty } = command;
    let outcome = bus
        .handle(ChangeBatchQuantity {
            reference,
            qty,
            expected_version: None,
        })
        .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(BusError::Command(error)) if !matches!(error, ServiceError::Store(_)) => {
            tracing::warn!(message_id = %delivery.message_id, %error, "command refused");
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}
