//! Events per second from one service's outbox to another service's inbox
//! over each broker, on PostgreSQL, beside the broker's own rate for the
//! same messages published by its client, in the same run.
//!
//! ```sh
//! cargo run --release --manifest-path benches/Cargo.toml -p uow-broker-benches [-- --events N --runs N]
//! ```
//!
//! PostgreSQL is `UOW_TEST_POSTGRES_URL` (default the local test database);
//! the brokers are the local ones (`UOW_TEST_NATS_ADDR`,
//! `UOW_TEST_RABBITMQ_ADDR`, `UOW_TEST_REDIS_ADDR` override them). A broker
//! that does not answer is listed as skipped. Writes `benches/brokers.md`
//! and its section of `BENCHMARKS.md`.

use std::fmt::Write as _;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use uow_broker::nats::{NatsConsumer, NatsPublisher};
use uow_broker::rabbitmq::{RabbitConsumer, RabbitPublisher};
use uow_broker::redis::{RedisConsumer, RedisPublisher};
use uow_broker::{ConsumerOptions, Delivery};
use uow_core::inbox::{Inbox, InboxStore, Receiving};
use uow_core::outbox::{OutboxMessage, OutboxRecord, Publisher, Relay};
use uow_core::{Aggregate, ColumnValue, Error, Store, unit_of_work};
use uow_sqlx::SqlxStore;
use uow_testing::Backend;

const AGGREGATES: usize = 10;

#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CounterId(pub String);

/// The producing service's aggregate.
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

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum CounterEvent {
    Incremented { counter: String, value: i64 },
}

#[unit_of_work(events = CounterEvent, outbox)]
pub struct Counting {
    pub counters: Counter,
}

/// The consuming service's read model.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "tallies")]
pub struct Tally {
    #[aggregate(id)]
    pub counter: String,
    #[aggregate(version)]
    pub version: u64,
    pub last: i64,
    pub applied: i64,
}

#[unit_of_work]
pub struct Tallying {
    pub tallies: Tally,
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

struct Options {
    events: usize,
    runs: usize,
}

fn options() -> Result<Options, Failure> {
    let mut options = Options {
        events: 2_000,
        runs: 3,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value: usize = pair
            .get(1)
            .ok_or(format!("{} needs a value", pair[0]))?
            .parse()?;
        match pair[0].as_str() {
            "--events" => options.events = value,
            "--runs" => options.runs = value,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    Ok(options)
}

/// Fills the producer's outbox with `events` increments over 10 counters,
/// 100 events per unit of work.
async fn fill_outbox(store: &SqlxStore, events: usize) -> Result<(), Error> {
    let mut uow = Counting::begin(store).await?;
    for c in 0..AGGREGATES {
        uow.counters.add(Counter {
            id: CounterId(format!("c{c}")),
            version: 0,
            value: 0,
            events: Vec::new(),
        })?;
    }
    uow.commit().await?;
    let per_commit = 100;
    let mut written = 0;
    while written < events {
        let mut uow = Counting::begin(store).await?;
        for i in 0..per_commit.min(events - written) {
            let id = CounterId(format!("c{}", (written + i) % AGGREGATES));
            let counter = uow.counters.get(&id).await?.expect("stored");
            counter.value += 1;
            let value = counter.value;
            counter.events.push(CounterEvent::Incremented {
                counter: id.0.clone(),
                value,
            });
        }
        written += per_commit.min(events - written);
        uow.commit().await?;
    }
    Ok(())
}

/// The consumer's handler: one read and one write per event.
async fn apply<S: Store + Clone>(
    store: Receiving<S>,
    delivery: Delivery,
    applied: Arc<AtomicUsize>,
) -> Result<(), Error> {
    let CounterEvent::Incremented { counter, value } =
        serde_json::from_str(&delivery.payload).expect("an increment");
    let mut uow = Tallying::begin(&store).await?;
    match uow.tallies.get(&counter).await? {
        Some(tally) => {
            tally.last = value;
            tally.applied += 1;
        }
        None => uow.tallies.add(Tally {
            counter,
            version: 0,
            last: value,
            applied: 1,
        })?,
    }
    uow.commit().await?;
    applied.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

/// One broker's side of the benchmark.
trait Broker {
    type Publisher: Publisher + Send + Sync + 'static;
    fn name(&self) -> &'static str;
    /// Makes the destinations of run `run` and its publisher.
    fn publisher(&self, run: &str) -> impl Future<Output = Result<Self::Publisher, Failure>>;
    /// Consumes run `run` until aborted.
    fn consume<S: InboxStore + Clone + 'static>(
        &self,
        run: &str,
        inbox: Inbox<S>,
        applied: Arc<AtomicUsize>,
    ) -> impl Future<Output = ()> + Send + 'static;
    fn clean_up(&self, run: &str) -> impl Future<Output = ()>;
}

/// Publishes `events` messages with the relay's publisher, one at a time,
/// each confirmed: the broker's own rate for what the relay sends.
async fn raw_rate<B: Broker>(broker: &B, events: usize) -> Result<f64, Failure> {
    let run = run_name(broker.name());
    let publisher = broker.publisher(&run).await?;
    let started = Instant::now();
    for i in 0..events {
        let message = OutboxMessage {
            seq: i as i64 + 1,
            record: OutboxRecord {
                event_id: format!("{run}-{i}"),
                aggregate_type: "Counter".into(),
                aggregate_id: format!("c{}", i % AGGREGATES),
                event_type: "Incremented".into(),
                payload: format!(
                    r#"{{"Incremented":{{"counter":"c{}","value":{}}}}}"#,
                    i % AGGREGATES,
                    i / AGGREGATES + 1
                ),
                created_at: 0,
            },
            attempts: 0,
        };
        publisher.publish(&message).await?;
    }
    let rate = events as f64 / started.elapsed().as_secs_f64();
    broker.clean_up(&run).await;
    Ok(rate)
}

/// Outbox -> relay -> broker -> inbox: the events per second from the
/// relay's start until the consumer has committed the last effect.
async fn pipeline_rate<B: Broker>(broker: &B, events: usize) -> Result<(f64, f64), Failure> {
    let run = run_name(broker.name());
    let producer = uow_testing::Postgres::empty()
        .await
        .ok_or("PostgreSQL is not configured")?;
    producer.create_tables(&[Counter::META]).await?;
    producer.create_outbox().await?;
    let consumer = uow_testing::Postgres::empty()
        .await
        .ok_or("PostgreSQL is not configured")?;
    consumer.create_tables(&[Tally::META]).await?;
    consumer.create_inbox().await?;
    fill_outbox(&producer, events).await?;

    let publisher = broker.publisher(&run).await?;
    let applied = Arc::new(AtomicUsize::new(0));
    let inbox = Inbox::new("tallies", consumer.clone());
    let started = Instant::now();
    let relay = Relay::new("bench", producer.clone(), publisher).batch_size(100);
    let relayed = Arc::new(std::sync::Mutex::new(None));
    let relay = {
        let relayed = Arc::clone(&relayed);
        tokio::spawn(async move {
            let mut delivered = 0;
            loop {
                let report = relay.run_once().await.expect("relay");
                delivered += report.delivered;
                if delivered >= events {
                    relayed
                        .lock()
                        .expect("lock")
                        .get_or_insert(started.elapsed());
                }
                if report.delivered == 0 {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        })
    };
    let consumer_task = tokio::spawn(broker.consume(&run, inbox, Arc::clone(&applied)));
    while applied.load(Ordering::SeqCst) < events {
        if started.elapsed() > Duration::from_secs(600) {
            return Err("the pipeline did not finish in 10 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    relay.abort();
    consumer_task.abort();
    broker.clean_up(&run).await;
    let mut uow = Tallying::begin(&consumer).await?;
    let stored: i64 = uow.tallies.list(100).await?.iter().map(|t| t.applied).sum();
    assert_eq!(stored as usize, events, "every effect stored once");
    let relayed = relayed.lock().expect("lock").unwrap_or(elapsed);
    Ok((
        events as f64 / relayed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64(),
    ))
}

fn run_name(broker: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "uowbench{}{broker}{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

const OPTIONS: ConsumerOptions = ConsumerOptions {
    handler_attempts: 50,
    retry_wait: Duration::from_millis(20),
};

struct Nats(async_nats::Client);

impl Broker for Nats {
    type Publisher = NatsPublisher;
    fn name(&self) -> &'static str {
        "nats"
    }
    async fn publisher(&self, run: &str) -> Result<NatsPublisher, Failure> {
        let publisher = NatsPublisher::new(self.0.clone(), run);
        publisher.ensure_stream(&run.to_uppercase()).await?;
        Ok(publisher)
    }
    fn consume<S: InboxStore + Clone + 'static>(
        &self,
        run: &str,
        inbox: Inbox<S>,
        applied: Arc<AtomicUsize>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let consumer =
            NatsConsumer::new(self.0.clone(), run.to_uppercase(), "tallies").options(OPTIONS);
        async move {
            let outcome = consumer
                .run(&inbox, move |store, delivery| {
                    apply(store, delivery, Arc::clone(&applied))
                })
                .await;
            panic!("the consumer stopped: {outcome:?}");
        }
    }
    async fn clean_up(&self, run: &str) {
        let _ = async_nats::jetstream::new(self.0.clone())
            .delete_stream(run.to_uppercase())
            .await;
    }
}

struct Rabbit(String);

impl Rabbit {
    fn consumer(&self, run: &str) -> RabbitConsumer {
        RabbitConsumer::new(&self.0, run, run).options(OPTIONS)
    }
}

impl Broker for Rabbit {
    type Publisher = RabbitPublisher;
    fn name(&self) -> &'static str {
        "rabbitmq"
    }
    async fn publisher(&self, run: &str) -> Result<RabbitPublisher, Failure> {
        self.consumer(run).declare().await?;
        let connection =
            lapin::Connection::connect(&self.0, lapin::ConnectionProperties::default()).await?;
        Ok(RabbitPublisher::new(&connection, run).await?)
    }
    fn consume<S: InboxStore + Clone + 'static>(
        &self,
        run: &str,
        inbox: Inbox<S>,
        applied: Arc<AtomicUsize>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let consumer = self.consumer(run);
        async move {
            let outcome = consumer
                .run(&inbox, move |store, delivery| {
                    apply(store, delivery, Arc::clone(&applied))
                })
                .await;
            panic!("the consumer stopped: {outcome:?}");
        }
    }
    async fn clean_up(&self, run: &str) {
        if let Ok(connection) =
            lapin::Connection::connect(&self.0, lapin::ConnectionProperties::default()).await
            && let Ok(channel) = connection.create_channel().await
        {
            let _ = channel.queue_delete(run.into(), Default::default()).await;
            let _ = channel
                .exchange_delete(run.into(), Default::default())
                .await;
        }
    }
}

struct Redis(redis::Client);

impl Redis {
    fn consumer(&self, run: &str) -> RedisConsumer {
        RedisConsumer::new(
            self.0.clone(),
            [format!("{run}.Counter")],
            "tallies",
            "tallies-1",
        )
        .options(OPTIONS)
    }
}

impl Broker for Redis {
    type Publisher = RedisPublisher;
    fn name(&self) -> &'static str {
        "redis"
    }
    async fn publisher(&self, run: &str) -> Result<RedisPublisher, Failure> {
        self.consumer(run).declare().await?;
        Ok(RedisPublisher::new(&self.0, run).await?)
    }
    fn consume<S: InboxStore + Clone + 'static>(
        &self,
        run: &str,
        inbox: Inbox<S>,
        applied: Arc<AtomicUsize>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let consumer = self.consumer(run);
        async move {
            let outcome = consumer
                .run(&inbox, move |store, delivery| {
                    apply(store, delivery, Arc::clone(&applied))
                })
                .await;
            panic!("the consumer stopped: {outcome:?}");
        }
    }
    async fn clean_up(&self, run: &str) {
        if let Ok(mut connection) = self.0.get_multiplexed_async_connection().await {
            let _: Result<(), _> = redis::cmd("DEL")
                .arg(format!("{run}.Counter"))
                .query_async(&mut connection)
                .await;
        }
    }
}

/// One row of the table: raw rates and pipeline rates of every run.
struct Row {
    broker: &'static str,
    raw: Vec<f64>,
    relay: Vec<f64>,
    pipeline: Vec<f64>,
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

async fn measure<B: Broker>(broker: B, options: &Options) -> Result<Row, Failure> {
    let mut row = Row {
        broker: broker.name(),
        raw: Vec::new(),
        relay: Vec::new(),
        pipeline: Vec::new(),
    };
    // Interleaved, so a change of the machine's load hits both alike.
    for run in 0..options.runs {
        let raw = raw_rate(&broker, options.events).await?;
        let (relay, pipeline) =
            uow_testing::isolated(pipeline_rate(&broker, options.events)).await?;
        eprintln!(
            "{} run {}: raw {raw:.0}/s, relay {relay:.0}/s, pipeline {pipeline:.0}/s",
            broker.name(),
            run + 1
        );
        row.raw.push(raw);
        row.relay.push(relay);
        row.pipeline.push(pipeline);
    }
    Ok(row)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn command(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Failure> {
    let options = options()?;
    if std::env::var("UOW_TEST_POSTGRES_URL").is_err() {
        // SAFETY: set before any other thread reads the environment.
        unsafe {
            std::env::set_var(
                "UOW_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/test",
            )
        };
    }
    let load_before = load_average();
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    match uow_testing::broker("NATS", "UOW_TEST_NATS_ADDR", "127.0.0.1:4222") {
        Some(address) => {
            rows.push(measure(Nats(async_nats::connect(address).await?), &options).await?)
        }
        None => skipped.push("NATS"),
    }
    match uow_testing::broker("RabbitMQ", "UOW_TEST_RABBITMQ_ADDR", "127.0.0.1:5672") {
        Some(address) => rows.push(
            measure(
                Rabbit(format!("amqp://guest:guest@{address}/%2f")),
                &options,
            )
            .await?,
        ),
        None => skipped.push("RabbitMQ"),
    }
    match uow_testing::broker("Redis", "UOW_TEST_REDIS_ADDR", "127.0.0.1:6379") {
        Some(address) => rows.push(
            measure(
                Redis(redis::Client::open(format!("redis://{address}/"))?),
                &options,
            )
            .await?,
        ),
        None => skipped.push("Redis"),
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Brokers: outbox -> relay -> broker -> inbox\n\n\
         Written by `cargo run --release --manifest-path benches/Cargo.toml -p uow-broker-benches`\n\
         (`benches/brokers/`); {} events of {AGGREGATES} aggregates per run, {} runs per broker, \
         raw and pipeline runs interleaved; medians (and the range).\n",
        options.events, options.runs
    );
    let _ = writeln!(
        out,
        "- **pipeline**: the events are in the producer's outbox (PostgreSQL) before the clock \
         starts; one relay (batches of 100, each publication awaited until the broker confirmed \
         it) and one consumer run at once; the clock stops when the consumer has committed the \
         last effect in its own PostgreSQL database through the inbox (one unit of work per \
         event: read the tally, update it, insert the inbox row).\n\
         - **relay**: the same run, until the relay had every event confirmed by the broker \
         (outbox -> broker alone, while the consumer already runs).\n\
         - **raw publish**: the same messages published by the same publisher without uow around \
         it, one at a time, each awaited until confirmed: the broker's own rate for the relay's \
         way of publishing.\n"
    );
    let _ = writeln!(
        out,
        "| broker | raw publish (msg/s) | relay (events/s) | pipeline (events/s) | pipeline / raw |\n|---|---:|---:|---:|---:|"
    );
    for row in &rows {
        let range = |v: &[f64]| {
            format!(
                "{:.0} ({:.0}–{:.0})",
                median(v),
                v.iter().copied().fold(f64::INFINITY, f64::min),
                v.iter().copied().fold(0.0, f64::max)
            )
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.2} |",
            row.broker,
            range(&row.raw),
            range(&row.relay),
            range(&row.pipeline),
            median(&row.pipeline) / median(&row.raw)
        );
    }
    for broker in &skipped {
        let _ = writeln!(out, "| {broker} | skipped (not reachable) | | | |");
    }
    let _ = writeln!(
        out,
        "\nThe consumer bounds the pipeline: it handles one message at a time (so each \
         aggregate's events stay in order, and a redelivery comes before any later message), \
         each the inbox check, a unit of work on PostgreSQL and the broker's acknowledgement, \
         a few milliseconds on this shared machine. The relay alone is bound by the broker's \
         confirmation of each message (RabbitMQ's persistent, confirmed publication is the \
         slowest)."
    );
    let _ = writeln!(
        out,
        "\nMachine: {} cores, load average {load_before} at the start and {} at the end \
         (other work shared the machine); {}; {:.0} s in all; {}.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        command("rustc", &["--version"]),
        started.elapsed().as_secs_f64(),
        command("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
    );
    print!("{out}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::write(dir.join("brokers.md"), &out)?;
    // The section of BENCHMARKS.md between the markers (added before the
    // analysis the first time); the main benchmark keeps it when it
    // rewrites the file.
    let path = dir.join("../BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let section = format!("{BEGIN}\n{out}{END}\n");
    let updated = match (text.find(BEGIN), text.find(END)) {
        (Some(begin), Some(end)) => format!(
            "{}{section}{}",
            &text[..begin],
            &text[end + END.len() + 1..]
        ),
        _ => match text.find("## Analysis") {
            Some(at) => format!("{}{section}\n{}", &text[..at], &text[at..]),
            None => format!("{text}\n{section}"),
        },
    };
    std::fs::write(&path, updated)?;
    eprintln!("wrote benches/brokers.md and its section of BENCHMARKS.md");
    Ok(())
}

const BEGIN: &str = "<!-- brokers: written by benches/brokers -->";
const END: &str = "<!-- end of brokers -->";
