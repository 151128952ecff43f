//! Exactly-once effects over real brokers: 1,000 events of 10 aggregates go
//! from the outbox through a relay that is killed and restarted at random
//! points, over NATS JetStream, RabbitMQ or Redis Streams, into a consumer
//! that is killed mid-handler; every event's effect is applied exactly once
//! on the consumer's side, counted in its database, in order per aggregate.
//!
//! Each test uses stream, subject, exchange and queue names of its own run
//! and removes them at the end. Without `CI=true` a broker that does not
//! answer skips its test (said on the terminal); with it, the test fails.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use uow_broker::nats::{NatsConsumer, NatsPublisher};
use uow_broker::rabbitmq::{RabbitConsumer, RabbitPublisher};
use uow_broker::redis::{RedisConsumer, RedisPublisher};
use uow_broker::{ConsumerOptions, Delivery};
use uow_core::inbox::{Inbox, InboxStore, Receiving};
use uow_core::outbox::{OutboxStore, Publisher, Relay};
use uow_core::{Aggregate, ColumnValue, Error, Store, unit_of_work};

const AGGREGATES: u32 = 10;
const EVENTS_PER_AGGREGATE: u32 = 100;

/// The producer's aggregate: a counter whose increments are the events.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "counters")]
pub struct Counter {
    #[aggregate(id)]
    pub id: CounterId,
    #[aggregate(version)]
    pub version: u64,
    pub value: i64,
    #[aggregate(events)]
    pub events: Vec<CounterEvent>,
}

#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CounterId(pub String);

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum CounterEvent {
    Incremented { counter: String, value: i64 },
}

#[unit_of_work(events = CounterEvent, outbox)]
pub struct Counting {
    pub counters: Counter,
}

/// The consumer's read model: what it saw of each counter.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "tallies")]
pub struct Tally {
    #[aggregate(id)]
    pub counter: String,
    #[aggregate(version)]
    pub version: u64,
    /// The last value applied.
    pub last: i64,
    /// Effects applied.
    pub applied: i64,
    /// Events that arrived out of order or twice (a value not one above
    /// the last).
    pub out_of_order: i64,
}

#[unit_of_work]
pub struct Tallying {
    pub tallies: Tally,
}

/// A small random generator (xorshift), seeded per run and printed, so a
/// failing schedule can be replayed with `UOW_TEST_SEED`.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = std::env::var("UOW_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    | 1
            });
        uow_testing::report(&format!("seed {seed} (UOW_TEST_SEED)"));
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Names of this run: unique per process and test.
fn run_name(broker: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "uowt{}{broker}{}x{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() % 1_000_000),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

async fn produce<S: Store>(store: &S) {
    let mut uow = Counting::begin(store).await.expect("begin");
    for c in 0..AGGREGATES {
        uow.counters
            .add(Counter {
                id: CounterId(format!("c{c}")),
                version: 0,
                value: 0,
                events: Vec::new(),
            })
            .expect("add");
    }
    uow.commit().await.expect("counters");
    for _ in 0..EVENTS_PER_AGGREGATE {
        for c in 0..AGGREGATES {
            let mut uow = Counting::begin(store).await.expect("begin");
            let counter = uow
                .counters
                .get(&CounterId(format!("c{c}")))
                .await
                .expect("get")
                .expect("stored");
            counter.value += 1;
            let value = counter.value;
            counter.events.push(CounterEvent::Incremented {
                counter: format!("c{c}"),
                value,
            });
            uow.commit().await.expect("increment");
        }
    }
}

/// Counts handlers that were dropped (their task aborted) before they
/// finished.
struct InHandler(Arc<AtomicU32>, bool);

impl Drop for InHandler {
    fn drop(&mut self) {
        if !self.1 {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The consumer's handler: applies one increment to the tally.
async fn apply<S: Store + Clone>(
    store: Receiving<S>,
    delivery: Delivery,
    killed: Arc<AtomicU32>,
) -> Result<(), Error> {
    let mut guard = InHandler(killed, false);
    let CounterEvent::Incremented { counter, value } =
        serde_json::from_str(&delivery.payload).expect("an increment");
    assert_eq!(delivery.event_type, "Incremented");
    assert_eq!(delivery.aggregate_id, counter);
    let mut uow = Tallying::begin(&store).await?;
    match uow.tallies.get(&counter).await? {
        Some(tally) => {
            if value != tally.last + 1 {
                tally.out_of_order += 1;
            }
            tally.last = value;
            tally.applied += 1;
        }
        None => uow.tallies.add(Tally {
            counter: counter.clone(),
            version: 0,
            last: value,
            applied: 1,
            out_of_order: i64::from(value != 1),
        })?,
    }
    // Mid-handler: loaded and changed, not committed.
    tokio::time::sleep(Duration::from_millis(1)).await;
    uow.commit().await?;
    guard.1 = true;
    Ok(())
}

/// How a broker's side of the test is set up and torn down.
trait Broker {
    type Publisher: Publisher + 'static;
    /// Makes the destinations and the publisher.
    fn publisher(&self) -> impl Future<Output = Self::Publisher>;
    /// Runs a consumer until it fails or its task is aborted.
    fn consume<S: InboxStore + Clone + 'static>(
        &self,
        inbox: Inbox<S>,
        killed: Arc<AtomicU32>,
    ) -> impl Future<Output = ()> + Send + 'static;
    /// Removes what the test made.
    fn clean_up(&self) -> impl Future<Output = ()>;
}

/// Runs the whole scenario on `broker`, the producer's `outbox` and the
/// consumer's `store`.
async fn exactly_once_in_order<B, O, S>(broker: B, outbox: O, store: S)
where
    B: Broker,
    O: OutboxStore + Store + Clone + 'static,
    S: InboxStore + Clone + 'static,
{
    let mut rng = Rng::new();
    let publisher = Arc::new(broker.publisher().await);
    let inbox = Inbox::new("tallies", store.clone());
    let killed_mid_handler = Arc::new(AtomicU32::new(0));

    let producer = {
        let outbox = outbox.clone();
        tokio::spawn(async move { produce(&outbox).await })
    };
    let spawn_relay = || {
        let relay = Relay::new(
            "relay",
            outbox.clone(),
            SharedPublisher(Arc::clone(&publisher)),
        )
        .batch_size(20)
        .backoff(uow_core::outbox::Backoff {
            base: Duration::from_millis(10),
            max: Duration::from_millis(100),
        });
        tokio::spawn(async move {
            loop {
                let report = relay.run_once().await.expect("relay");
                if report.delivered + report.failed + report.held_back + report.dead == 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        })
    };
    let spawn_consumer =
        || tokio::spawn(broker.consume(inbox.clone(), Arc::clone(&killed_mid_handler)));
    let mut relay = spawn_relay();
    let mut consumer = spawn_consumer();
    let (mut relay_kills, mut consumer_kills) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(240);
    let expected = i64::from(AGGREGATES * EVENTS_PER_AGGREGATE);
    loop {
        tokio::time::sleep(Duration::from_millis(50 + rng.below(250))).await;
        let applied = applied(&store).await;
        if applied >= expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {applied} of {expected} effects applied after 240 s"
        );
        // Kill at random points while there is work left; stop killing once
        // enough kills happened, so the run ends.
        if relay_kills < 15 && rng.below(3) == 0 {
            relay.abort();
            let _ = relay.await;
            relay_kills += 1;
            relay = spawn_relay();
        }
        if consumer_kills < 15 && rng.below(3) == 0 {
            consumer.abort();
            let _ = consumer.await;
            consumer_kills += 1;
            consumer = spawn_consumer();
        }
    }
    // Let redeliveries in flight arrive: none may apply a second effect.
    tokio::time::sleep(Duration::from_millis(500)).await;
    relay.abort();
    consumer.abort();
    producer.await.expect("producer");

    let mut uow = Tallying::begin(&store).await.expect("begin");
    let tallies: Vec<(String, i64, i64, i64)> = uow
        .tallies
        .list(100)
        .await
        .expect("tallies")
        .into_iter()
        .map(|t| (t.counter.clone(), t.last, t.applied, t.out_of_order))
        .collect();
    drop(uow);
    broker.clean_up().await;
    uow_testing::report(&format!(
        "{relay_kills} relay kills, {consumer_kills} consumer kills, {} handlers killed mid-way",
        killed_mid_handler.load(Ordering::SeqCst)
    ));
    let per = i64::from(EVENTS_PER_AGGREGATE);
    let expected_tallies: Vec<(String, i64, i64, i64)> = (0..AGGREGATES)
        .map(|c| (format!("c{c}"), per, per, 0))
        .collect();
    assert_eq!(
        tallies, expected_tallies,
        "(counter, last value, effects applied, out of order) per aggregate"
    );
    assert!(
        relay_kills > 0 && consumer_kills > 0,
        "the run killed nothing"
    );
    assert!(
        killed_mid_handler.load(Ordering::SeqCst) > 0,
        "no consumer was killed mid-handler"
    );
}

async fn applied<S: Store>(store: &S) -> i64 {
    let mut uow = Tallying::begin(store).await.expect("begin");
    uow.tallies
        .list(100)
        .await
        .expect("tallies")
        .iter()
        .map(|t| t.applied)
        .sum()
}

/// One publisher shared by the relays of the run.
struct SharedPublisher<P>(Arc<P>);

impl<P: Publisher> Publisher for SharedPublisher<P> {
    fn publish(
        &self,
        message: &uow_core::outbox::OutboxMessage,
    ) -> impl Future<Output = Result<(), Box<dyn std::error::Error + Send + Sync>>> + Send {
        self.0.publish(message)
    }
}

const CONSUMER_OPTIONS: ConsumerOptions = ConsumerOptions {
    handler_attempts: 50,
    retry_wait: Duration::from_millis(20),
};

/// The stores of a run: the producer's outbox and the consumer's database,
/// each a fresh PostgreSQL schema (skipped loudly without
/// `UOW_TEST_POSTGRES_URL`, required with `CI=true`).
async fn stores() -> Option<(uow_sqlx::SqlxStore, uow_sqlx::SqlxStore)> {
    use uow_testing::Backend;
    let producer = uow_testing::Postgres::empty().await?;
    producer
        .create_tables(&[Counter::META])
        .await
        .expect("tables");
    producer.create_outbox().await.expect("outbox");
    let consumer = uow_testing::Postgres::empty().await?;
    consumer
        .create_tables(&[Tally::META])
        .await
        .expect("tables");
    consumer.create_inbox().await.expect("inbox");
    Some((producer, consumer))
}

struct Nats {
    client: async_nats::Client,
    name: String,
}

impl Broker for Nats {
    type Publisher = NatsPublisher;

    async fn publisher(&self) -> NatsPublisher {
        let publisher = NatsPublisher::new(self.client.clone(), &self.name);
        publisher
            .ensure_stream(&self.name.to_uppercase())
            .await
            .expect("stream");
        publisher
    }

    fn consume<S: InboxStore + Clone + 'static>(
        &self,
        inbox: Inbox<S>,
        killed: Arc<AtomicU32>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let consumer = NatsConsumer::new(self.client.clone(), self.name.to_uppercase(), "tallies")
            .ack_wait(Duration::from_secs(1))
            .options(CONSUMER_OPTIONS);
        async move {
            let outcome = consumer
                .run(&inbox, move |store, delivery| {
                    apply(store, delivery, Arc::clone(&killed))
                })
                .await;
            panic!("the consumer stopped: {outcome:?}");
        }
    }

    async fn clean_up(&self) {
        let _ = async_nats::jetstream::new(self.client.clone())
            .delete_stream(self.name.to_uppercase())
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_nats_every_event_applied_once_in_order_through_kills() {
    let Some(address) = uow_testing::broker("NATS", "UOW_TEST_NATS_ADDR", "127.0.0.1:4222") else {
        return;
    };
    let client = async_nats::connect(address).await.expect("NATS");
    uow_testing::isolated(async {
        let Some((producer, consumer)) = stores().await else {
            return;
        };
        let broker = Nats {
            client,
            name: run_name("nats"),
        };
        exactly_once_in_order(broker, producer, consumer).await;
    })
    .await;
}

struct Rabbit {
    uri: String,
    name: String,
}

impl Broker for Rabbit {
    type Publisher = RabbitPublisher;

    async fn publisher(&self) -> RabbitPublisher {
        // The queue exists before the first publication, so none is lost.
        self.consumer().declare().await.expect("queue");
        let connection =
            lapin::Connection::connect(&self.uri, lapin::ConnectionProperties::default())
                .await
                .expect("RabbitMQ");
        RabbitPublisher::new(&connection, &self.name)
            .await
            .expect("publisher")
    }

    fn consume<S: InboxStore + Clone + 'static>(
        &self,
        inbox: Inbox<S>,
        killed: Arc<AtomicU32>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let consumer = self.consumer();
        async move {
            let outcome = consumer
                .run(&inbox, move |store, delivery| {
                    apply(store, delivery, Arc::clone(&killed))
                })
                .await;
            panic!("the consumer stopped: {outcome:?}");
        }
    }

    async fn clean_up(&self) {
        if let Ok(connection) =
            lapin::Connection::connect(&self.uri, lapin::ConnectionProperties::default()).await
            && let Ok(channel) = connection.create_channel().await
        {
            let _ = channel
                .queue_delete(self.name.as_str().into(), Default::default())
                .await;
            let _ = channel
                .exchange_delete(self.name.as_str().into(), Default::default())
                .await;
        }
    }
}

impl Rabbit {
    fn consumer(&self) -> RabbitConsumer {
        RabbitConsumer::new(&self.uri, &self.name, &self.name).options(CONSUMER_OPTIONS)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_rabbitmq_every_event_applied_once_in_order_through_kills() {
    let Some(address) = uow_testing::broker("RabbitMQ", "UOW_TEST_RABBITMQ_ADDR", "127.0.0.1:5672")
    else {
        return;
    };
    uow_testing::isolated(async {
        let Some((producer, consumer)) = stores().await else {
            return;
        };
        let broker = Rabbit {
            uri: format!("amqp://guest:guest@{address}/%2f"),
            name: run_name("rabbitmq"),
        };
        exactly_once_in_order(broker, producer, consumer).await;
    })
    .await;
}

struct Redis {
    client: redis::Client,
    name: String,
}

impl Redis {
    fn stream(&self) -> String {
        format!("{}.Counter", self.name)
    }

    fn consumer(&self) -> RedisConsumer {
        RedisConsumer::new(self.client.clone(), [self.stream()], "tallies", "tallies-1")
            .options(CONSUMER_OPTIONS)
    }
}

impl Broker for Redis {
    type Publisher = RedisPublisher;

    async fn publisher(&self) -> RedisPublisher {
        self.consumer().declare().await.expect("group");
        RedisPublisher::new(&self.client, &self.name)
            .await
            .expect("publisher")
    }

    fn consume<S: InboxStore + Clone + 'static>(
        &self,
        inbox: Inbox<S>,
        killed: Arc<AtomicU32>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let consumer = self.consumer();
        async move {
            let outcome = consumer
                .run(&inbox, move |store, delivery| {
                    apply(store, delivery, Arc::clone(&killed))
                })
                .await;
            panic!("the consumer stopped: {outcome:?}");
        }
    }

    async fn clean_up(&self) {
        if let Ok(mut connection) = self.client.get_multiplexed_async_connection().await {
            let entries: Result<u64, _> = redis::cmd("XLEN")
                .arg(self.stream())
                .query_async(&mut connection)
                .await;
            if let Ok(entries) = entries {
                uow_testing::report(&format!(
                    "the stream holds {entries} entries: {} republished copies, dropped by the inbox",
                    entries.saturating_sub(u64::from(AGGREGATES * EVENTS_PER_AGGREGATE))
                ));
            }
            let _: Result<(), _> = redis::cmd("DEL")
                .arg(self.stream())
                .query_async(&mut connection)
                .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_redis_every_event_applied_once_in_order_through_kills() {
    let Some(address) = uow_testing::broker("Redis", "UOW_TEST_REDIS_ADDR", "127.0.0.1:6379")
    else {
        return;
    };
    uow_testing::isolated(async {
        let Some((producer, consumer)) = stores().await else {
            return;
        };
        let broker = Redis {
            client: redis::Client::open(format!("redis://{address}/")).expect("Redis URL"),
            name: run_name("redis"),
        };
        exactly_once_in_order(broker, producer, consumer).await;
    })
    .await;
}
