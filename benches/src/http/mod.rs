//! End to end over HTTP (`--benches http`): the flagship allocation service
//! (`allocation_adapters`, in-process, on uow-sqlx) against a hand-written
//! axum + sqlx service ([`hand`]) under the same concurrent `POST /allocate`
//! load ([`load`]), interleaved round by round, on PostgreSQL. After every
//! round the database is checked: one allocation row per 201 answer, on the
//! batch the answer named, no order twice, no batch overbooked.
//!
//! Each service has a database of its own (`uow_bench_http`,
//! `uow_bench_http_hand`), both with the tables uow creates
//! (`allocation_adapters::store::open(url, true)`) and the same stock, reset
//! to it before every round.

mod hand;
pub mod load;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Executor, Row as _};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::backends::{Backend, MAX_CONNECTIONS, server_url, with_database};
use crate::handwritten::BoxError;
use load::{Demand, Round};

/// The flagship's database and the hand-written service's.
const UOW_DATABASE: &str = "uow_bench_http";
const HAND_DATABASE: &str = "uow_bench_http_hand";
const HAND_AS_FLAGSHIP_DATABASE: &str = "uow_bench_http_hand_as_flagship";

/// The stock: `SKUS` products of three batches each (warehouse stock of
/// 1,000, a shipment of 100,000 in June 2030 and one of 100,000 in January
/// 2030, in that position order, so that the earliest shipment is not the
/// first in position), enough that a round never runs out.
const SKUS: usize = 1_000;
const HOT: usize = 4;
const HOT_SHARE: f64 = 0.25;
/// The two loads: contended (a quarter of the requests on the hot
/// products, whose aggregates grow by an allocation with each) and spread
/// (every product alike).
const LOADS: [(&str, f64); 2] = [("contended", HOT_SHARE), ("spread", 0.0)];
const CONNECTIONS: usize = 16;
const ROUND_TIME: Duration = Duration::from_secs(3);
const WARMUP_TIME: Duration = Duration::from_secs(1);
const MAX_ROUNDS: usize = 6;

/// What the database held after a service's rounds, summed over the rounds.
#[derive(Debug, Default)]
pub struct Check {
    /// 201 answers.
    pub created: u64,
    /// Rows of `allocations`.
    pub rows: u64,
    /// 201 answers with no row for their order on the batch they named.
    pub lost: u64,
    /// Rows no 201 answer accounts for.
    pub phantom: u64,
    /// Orders with more than one row.
    pub double: u64,
    /// Batches holding more than their purchased quantity.
    pub overbooked: u64,
    /// Rows of the read model (`order_allocations`).
    pub read_model: u64,
    /// `Allocated` events in the outbox.
    pub events: u64,
}

impl Check {
    pub fn exact(&self) -> bool {
        self.rows == self.created
            && self.lost == 0
            && self.phantom == 0
            && self.double == 0
            && self.overbooked == 0
            && self.read_model == self.created
            && self.events == self.created
    }

    fn add(&mut self, other: Check) {
        self.created += other.created;
        self.rows += other.rows;
        self.lost += other.lost;
        self.phantom += other.phantom;
        self.double += other.double;
        self.overbooked += other.overbooked;
        self.read_model += other.read_model;
        self.events += other.events;
    }
}

/// One service's measured rounds.
#[derive(Debug, Default)]
pub struct Service {
    /// Requests per second of each round.
    pub per_second: Vec<f64>,
    /// Every latency of every measured round, µs, sorted.
    pub latencies: Vec<u32>,
    pub created: u64,
    pub out_of_stock: u64,
    pub conflicts: u64,
    pub other: u64,
    pub check: Check,
    /// Transactions the server rolled back in the service's database over
    /// the whole run (warm-up included): conflicts, mostly.
    pub rollbacks: Option<i64>,
    /// Round trips to the database over the measured rounds (statements,
    /// `BEGIN`, `COMMIT`), counted by the flagship's store; zero for the
    /// hand-written services (7 and 14 per attempt by construction).
    pub round_trips: u64,
    /// Conflicts a hand-written service retried (warm-up included).
    pub retries: u64,
}

impl Service {
    fn record(&mut self, round: &Round) {
        self.per_second.push(round.per_second());
        self.latencies.extend(&round.latencies);
        self.created += round.created;
        self.out_of_stock += round.out_of_stock;
        self.conflicts += round.conflicts;
        self.other += round.other;
    }

    /// The latency at quantile `q` (0–1), ms.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        f64::from(self.latencies[i]) / 1_000.0
    }

    pub fn median_per_second(&self) -> f64 {
        crate::harness::median(&self.per_second)
    }
}

/// The three services of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// The flagship, on uow.
    Uow,
    /// The hand-written service, the fewest round trips the work allows.
    Hand,
    /// The hand-written service sending the flagship's statements.
    HandAsFlagship,
}

impl Subject {
    const ALL: [Subject; 3] = [Subject::Uow, Subject::Hand, Subject::HandAsFlagship];

    pub fn name(self) -> &'static str {
        match self {
            Subject::Uow => "uow (flagship)",
            Subject::Hand => "hand-written axum + sqlx",
            Subject::HandAsFlagship => "hand-written, the flagship's statements",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Subject::Uow => "uow",
            Subject::Hand => "hand",
            Subject::HandAsFlagship => "hand-as-flagship",
        }
    }

    fn database(self) -> &'static str {
        match self {
            Subject::Uow => UOW_DATABASE,
            Subject::Hand => HAND_DATABASE,
            Subject::HandAsFlagship => HAND_AS_FLAGSHIP_DATABASE,
        }
    }

    fn index(self) -> usize {
        match self {
            Subject::Uow => 0,
            Subject::Hand => 1,
            Subject::HandAsFlagship => 2,
        }
    }
}

/// The HTTP comparison on one database under one load.
#[derive(Debug)]
pub struct Outcome {
    pub backend: Backend,
    /// The load's name, and the share of its requests on the hot products.
    pub load: &'static str,
    pub hot_share: f64,
    pub rounds: usize,
    /// The services' measurements, in the order of [`Subject::ALL`].
    pub services: Vec<Service>,
}

impl Outcome {
    pub fn service(&self, subject: Subject) -> &Service {
        &self.services[subject.index()]
    }

    /// `a` ÷ `b` requests per second: the median of the per-round ratios.
    pub fn ratio(&self, a: Subject, b: Subject) -> f64 {
        let ratios: Vec<f64> = self
            .service(a)
            .per_second
            .iter()
            .zip(&self.service(b).per_second)
            .map(|(x, y)| x / y)
            .collect();
        crate::harness::median(&ratios)
    }

    /// uow ÷ hand-written requests per second.
    pub fn rate_ratio(&self) -> f64 {
        self.ratio(Subject::Uow, Subject::Hand)
    }

    /// `a` ÷ `b` latency at quantile `q`.
    pub fn latency_ratio(&self, a: Subject, b: Subject, q: f64) -> f64 {
        self.service(a).quantile(q) / self.service(b).quantile(q)
    }
}

/// `url` with its database replaced by `name`.
async fn recreate_database(admin: &PgPool, name: &str) -> Result<(), sqlx::Error> {
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await?;
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await?;
    Ok(())
}

/// The pool of the hand-written service: the settings of
/// `SqlxStore::connect`, as the flagship's pool has.
async fn hand_pool(url: &str) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .connect_with(PgConnectOptions::from_str(url)?)
        .await
}

/// Stores the stock (the same in both databases).
async fn seed(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO products (sku, version) \
         SELECT 'SKU-' || lpad(i::TEXT, 5, '0'), 1 FROM generate_series(0, $1 - 1) AS i",
    )
    .bind(SKUS as i64)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO batches (root_id, position, reference, sku, eta, purchased_quantity) \
         SELECT s, k, s || '-B' || k, s, \
                CASE k WHEN 0 THEN NULL WHEN 1 THEN DATE '2030-06-01' ELSE DATE '2030-01-01' END, \
                CASE k WHEN 0 THEN 1000 ELSE 100000 END \
         FROM (SELECT 'SKU-' || lpad(i::TEXT, 5, '0') AS s FROM generate_series(0, $1 - 1) AS i) AS p, \
              generate_series(0, 2) AS k",
    )
    .bind(SKUS as i64)
    .execute(pool)
    .await?;
    pool.execute("VACUUM ANALYZE").await?;
    Ok(())
}

/// Back to the seeded stock: no allocation, no event, no read model.
async fn reset(pool: &PgPool) -> Result<(), sqlx::Error> {
    pool.execute("TRUNCATE allocations, uow_outbox, order_allocations, uow_commits")
        .await?;
    pool.execute("VACUUM ANALYZE products, batches").await?;
    Ok(())
}

/// What the database holds after `round`.
async fn check(pool: &PgPool, round: &Round) -> Result<Check, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT orderid, parent_id FROM allocations")
        .fetch_all(pool)
        .await?;
    let mut stored = std::collections::HashMap::with_capacity(rows.len());
    let mut double = 0;
    for (orderid, batch) in rows.iter() {
        if stored.insert(orderid.as_str(), batch.as_str()).is_some() {
            double += 1;
        }
    }
    let mut lost = 0;
    for (orderid, batchref) in &round.allocated {
        if stored.remove(orderid.as_str()) != Some(batchref.as_str()) {
            lost += 1;
        }
    }
    let overbooked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM batches b WHERE b.purchased_quantity < \
         (SELECT COALESCE(SUM(a.qty), 0) FROM allocations a \
          WHERE a.root_id = b.root_id AND a.parent_id = b.reference)",
    )
    .fetch_one(pool)
    .await?;
    let read_model: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM order_allocations")
        .fetch_one(pool)
        .await?;
    let events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM uow_outbox WHERE event_type = 'Allocated'")
            .fetch_one(pool)
            .await?;
    Ok(Check {
        created: round.created,
        rows: rows.len() as u64,
        lost,
        phantom: stored.len() as u64,
        double,
        overbooked: overbooked as u64,
        read_model: read_model as u64,
        events: events as u64,
    })
}

/// A service listening on a port of its own until `stop` is sent.
struct Running {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn stop(self) -> Result<(), BoxError> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }
}

async fn listener() -> Result<(TcpListener, SocketAddr), std::io::Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    Ok((listener, address))
}

async fn start_uow(url: &str) -> Result<(Running, uow_sqlx::SqlxStore), BoxError> {
    let store = allocation_adapters::store::open(url, false).await?;
    let (listener, address) = listener().await?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(allocation_adapters::serve_until(
        listener,
        store.clone(),
        async {
            let _ = stopped.await;
        },
    ));
    Ok((
        Running {
            address,
            stop,
            task,
        },
        store,
    ))
}

async fn start_hand(
    pool: PgPool,
    statements: hand::Statements,
    retries: Arc<AtomicU64>,
) -> Result<Running, BoxError> {
    let (listener, address) = listener().await?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, hand::router(pool, statements, retries))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(Running {
        address,
        stop,
        task,
    })
}

fn demand(duration: Duration, hot_share: f64) -> Demand {
    Demand {
        connections: CONNECTIONS,
        duration,
        skus: SKUS,
        hot: HOT,
        hot_share,
        max_qty: 10,
    }
}

/// Rolled-back transactions in database `name` (read once the services'
/// connections are closed, so that their counts have reached the server's
/// statistics).
async fn rollbacks(admin: &PgPool, name: &str) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT xact_rollback FROM pg_stat_database WHERE datname = $1")
        .bind(name)
        .fetch_one(admin)
        .await?
        .try_get(0)
}

/// One service listening, with the benchmark's own connection to its
/// database (seeding, resetting, checking).
struct Served {
    subject: Subject,
    db: PgPool,
    server: Running,
    /// Conflicts retried (the hand-written services).
    retries: Arc<AtomicU64>,
}

/// The databases, set up, and the services listening.
struct Setup {
    admin: PgPool,
    served: Vec<Served>,
    /// The flagship's store (a clone of the one it serves), for its
    /// round-trip counter.
    uow_store: uow_sqlx::SqlxStore,
}

impl Setup {
    async fn new() -> Result<Setup, BoxError> {
        let admin_url = server_url(Backend::Postgres).unwrap_or_default();
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(PgConnectOptions::from_str(&admin_url)?)
            .await?;
        let mut served = Vec::new();
        let mut uow_store = None;
        for subject in Subject::ALL {
            // Each database with the tables uow creates and the same stock.
            let url = with_database(&admin_url, subject.database());
            recreate_database(&admin, subject.database()).await?;
            drop(allocation_adapters::store::open(&url, true).await?);
            let db = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(PgConnectOptions::from_str(&url)?)
                .await?;
            seed(&db).await?;
            let retries = Arc::new(AtomicU64::new(0));
            let server = match subject {
                Subject::Uow => {
                    let (server, store) = start_uow(&url).await?;
                    uow_store = Some(store);
                    server
                }
                Subject::Hand | Subject::HandAsFlagship => {
                    let statements = if subject == Subject::Hand {
                        hand::Statements::Fewest
                    } else {
                        hand::Statements::Flagship
                    };
                    start_hand(hand_pool(&url).await?, statements, Arc::clone(&retries)).await?
                }
            };
            served.push(Served {
                subject,
                db,
                server,
                retries,
            });
        }
        Ok(Setup {
            admin,
            served,
            uow_store: uow_store.ok_or("the flagship did not start")?,
        })
    }

    /// One round against `subject`, from the seeded stock, checked.
    async fn round(
        &self,
        subject: Subject,
        duration: Duration,
        hot_share: f64,
        tag: String,
    ) -> Result<(Round, Check), BoxError> {
        let served = &self.served[subject.index()];
        reset(&served.db).await?;
        let seen = load::round(served.server.address, demand(duration, hot_share), tag).await?;
        let checked = check(&served.db, &seen).await?;
        Ok((seen, checked))
    }

    /// Stops the services and closes every connection; each service's
    /// retries and the rolled-back transactions of its database, once the
    /// services' connections have ended (their statistics reach the server
    /// as they end).
    async fn close(self) -> Result<Vec<(u64, Option<i64>)>, BoxError> {
        let mut dbs = Vec::new();
        let mut retries = Vec::new();
        for served in self.served {
            served.server.stop().await?;
            retries.push((served.subject, served.retries.load(Ordering::Relaxed)));
            dbs.push(served.db);
        }
        drop(self.uow_store);
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let mut out = Vec::new();
        for (subject, retried) in retries {
            out.push((
                retried,
                rollbacks(&self.admin, subject.database()).await.ok(),
            ));
        }
        for db in dbs {
            db.close().await;
        }
        self.admin.close().await;
        Ok(out)
    }
}

/// Runs the comparison on PostgreSQL under each load: `rounds` measured
/// rounds per service (at most six), interleaved.
pub async fn run(rounds: usize) -> Result<Vec<Outcome>, BoxError> {
    let mut outcomes = Vec::new();
    for (load, hot_share) in LOADS {
        outcomes.push(run_load(load, hot_share, rounds).await?);
    }
    Ok(outcomes)
}

/// One load, on databases and services set up afresh (so that the
/// servers' statistics count this load alone).
async fn run_load(load: &'static str, hot_share: f64, rounds: usize) -> Result<Outcome, BoxError> {
    let rounds = rounds.clamp(1, MAX_ROUNDS);
    let setup = Setup::new().await?;
    // A warm-up round each (statements prepared on every connection), then
    // the measured rounds, the order reversed from round to round (uow,
    // hand-written, hand-written as the flagship; then backwards) so that a
    // drift of the machine falls on all alike.
    let mut services: Vec<Service> = Subject::ALL.iter().map(|_| Service::default()).collect();
    for round in 0..=rounds {
        let measured = round > 0;
        let duration = if measured { ROUND_TIME } else { WARMUP_TIME };
        let mut order = Subject::ALL;
        if round % 2 == 1 {
            order.reverse();
        }
        for subject in order {
            let service = &mut services[subject.index()];
            let name = subject.key();
            let trips = setup.uow_store.round_trips();
            let (seen, checked) = setup
                .round(subject, duration, hot_share, format!("{name}-r{round}"))
                .await?;
            if measured {
                service.record(&seen);
                service.check.add(checked);
                if subject == Subject::Uow {
                    service.round_trips += setup.uow_store.round_trips() - trips;
                }
            } else if !checked.exact() {
                return Err(format!(
                    "{name}: the warm-up round's allocations do not add up: {checked:?}"
                )
                .into());
            }
            eprintln!(
                "http {load:<9} {name:<16} round {round}: {:>6.0} requests/s, {} × 201, {} × 400, {} × 409, {} other{}",
                seen.per_second(),
                seen.created,
                seen.out_of_stock,
                seen.conflicts,
                seen.other,
                if measured { "" } else { " (warm-up)" }
            );
        }
    }
    for (service, (retries, rollbacks)) in services.iter_mut().zip(setup.close().await?) {
        service.retries = retries;
        service.rollbacks = rollbacks;
        service.latencies.sort_unstable();
    }
    Ok(Outcome {
        backend: Backend::Postgres,
        load,
        hot_share,
        rounds,
        services,
    })
}

/// Loads one service (`uow`, `hand` or `hand-as-flagship`) alone for
/// `duration` under the contended load, for a profiler (`perf record -g
/// target/release/uow-benches --profile-http uow 20`); prints what the
/// round saw.
pub async fn profile(service: &str, duration: Duration) -> Result<(), BoxError> {
    let subject = Subject::ALL
        .into_iter()
        .find(|s| s.key() == service)
        .ok_or_else(|| format!("unknown service `{service}` (uow, hand, hand-as-flagship)"))?;
    let setup = Setup::new().await?;
    setup
        .round(subject, WARMUP_TIME, HOT_SHARE, "warm-up".to_owned())
        .await?;
    let trips = setup.uow_store.round_trips();
    let (seen, checked) = setup
        .round(subject, duration, HOT_SHARE, "profile".to_owned())
        .await?;
    let mut s = Service::default();
    s.record(&seen);
    s.latencies.sort_unstable();
    eprintln!(
        "http {service}: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, {} × 201, {} × 409, {}, allocations {}",
        seen.per_second(),
        s.quantile(0.5),
        s.quantile(0.99),
        seen.created,
        seen.conflicts,
        if subject == Subject::Uow {
            format!(
                "{:.1} round trips per request",
                (setup.uow_store.round_trips() - trips) as f64 / seen.requests() as f64
            )
        } else {
            format!(
                "{} conflicts retried",
                setup.served[subject.index()]
                    .retries
                    .load(Ordering::Relaxed)
            )
        },
        if checked.exact() { "exact" } else { "WRONG" }
    );
    setup.close().await?;
    Ok(())
}

fn cell_rate(s: &Service) -> String {
    let min = s.per_second.iter().copied().fold(f64::INFINITY, f64::min);
    let max = s
        .per_second
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    format!(
        "**{:.0}** <sub>{min:.0}–{max:.0}</sub>",
        s.median_per_second()
    )
}

fn count(n: Option<i64>) -> String {
    n.map_or_else(|| "–".to_owned(), |n| n.to_string())
}

/// The section of BENCHMARKS.md.
pub fn render(outcomes: &[Outcome], out: &mut String) {
    if outcomes.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "### HTTP end to end: `POST /allocate` under concurrent load\n\n\
         The flagship (`examples/allocation`: axum over the service layer's message bus, uow-sqlx, pool\n\
         of {MAX_CONNECTIONS} connections from `SqlxStore::connect`) and a hand-written axum + sqlx service\n\
         (`benches/src/http/hand.rs`: a pool of the same settings, the same middleware, validation and\n\
         answers), all in the benchmark's process on the same tokio runtime, each on a port and a database\n\
         of its own with the tables uow creates. A load generator on a thread of its own (hyper's HTTP/1.1\n\
         client) keeps {CONNECTIONS} keep-alive connections busy for {} s per round, a request at a time\n\
         each; the rounds rotate over the services (below) after a {} s warm-up round each. Stock:\n\
         {} products of 3 batches (warehouse 1,000, shipments of 100,000 in June and in\n\
         January 2030), reset before every round; quantities 1–10, every order id new. Two loads, each on\n\
         databases and services set up afresh: *contended*, {:.0} % of the requests on {HOT} hot products, so\n\
         that allocations race on their version (and the hot products' aggregates grow by one allocation\n\
         with each request, some hundreds per round), the rest spread evenly; and *spread*, every product\n\
         alike (few conflicts, small aggregates).\n\n\
         Per allocation the flagship reads the product in autocommit (`SELECT` of the product, of its\n\
         batches, of their allocations), then commits in one transaction its commit marker, the\n\
         version-checked `UPDATE` of the product, the `INSERT` of the allocation and of the `Allocated`\n\
         event into the outbox; the read-model handler then runs a unit of work of its own (`SELECT`,\n\
         marker, `INSERT`). The hand-written service sends `BEGIN`, one `SELECT` of the product with its\n\
         batches' allocated quantities (a `GROUP BY` over the allocations), the same version-checked\n\
         `UPDATE`, the two `INSERT`s, `COMMIT`, then one upsert of the read model. A third service, the\n\
         same hand-written code sending the flagship's statements one for one (the three `SELECT`s, the\n\
         commit markers, the read model's own transaction), separates what the flagship's statements\n\
         cost from what uow costs in the process. All retry a conflict as the flagship does (10 attempts,\n\
         0–2 ms jitter doubling up to 200 ms) and answer 409 when conflicts persist. The rounds rotate\n\
         over the three services (uow, hand-written, hand-written as the flagship, then backwards).\n",
        ROUND_TIME.as_secs(),
        WARMUP_TIME.as_secs(),
        crate::harness::thousands(SKUS),
        HOT_SHARE * 100.0,
    );
    for o in outcomes {
        let _ = writeln!(
            out,
            "{}, {} load ({}; {} measured rounds per service):\n\n\
             | service | requests/s | p50 (ms) | p99 (ms) | 201 | 400 | 409 | other | conflicts retried | rolled-back transactions | round trips/request |\n\
             |---|---|---|---|---|---|---|---|---|---|---|",
            o.backend.name(),
            o.load,
            if o.hot_share > 0.0 {
                format!(
                    "{:.0} % of the requests on {HOT} hot products",
                    o.hot_share * 100.0
                )
            } else {
                "every product alike".to_owned()
            },
            o.rounds
        );
        for subject in Subject::ALL {
            let s = o.service(subject);
            let (trips, retried) = match subject {
                Subject::Uow => (
                    format!("{:.1}", s.round_trips as f64 / s.latencies.len() as f64),
                    "–".to_owned(),
                ),
                Subject::Hand => ("7 (+3 per retry)".to_owned(), s.retries.to_string()),
                Subject::HandAsFlagship => ("14 (+6 per retry)".to_owned(), s.retries.to_string()),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} | {:.2} | {} | {} | {} | {} | {retried} | {} | {trips} |",
                subject.name(),
                cell_rate(s),
                s.quantile(0.5),
                s.quantile(0.99),
                s.created,
                s.out_of_stock,
                s.conflicts,
                s.other,
                count(s.rollbacks),
            );
        }
        for (label, b) in [
            ("**uow ÷ hand-written**", Subject::Hand),
            (
                "uow ÷ hand-written with the flagship's statements",
                Subject::HandAsFlagship,
            ),
        ] {
            let _ = writeln!(
                out,
                "| {label} | **{:.2}×** | {:.2}× | {:.2}× | | | | | | | |",
                o.ratio(Subject::Uow, b),
                o.latency_ratio(Subject::Uow, b, 0.5),
                o.latency_ratio(Subject::Uow, b, 0.99),
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Requests/s: **median** <sub>min–max</sub> over the rounds; its ratio is the median of the\n\
             per-round ratios. Latencies over every request of the measured rounds. Rolled-back\n\
             transactions: `pg_stat_database.xact_rollback` of the service's database over the whole run\n\
             (warm-up included); conflicts retried likewise. Round trips: statements, `BEGIN` and `COMMIT`\n\
             counted by the flagship's store (`SqlxStore::round_trips()`), per request.\n\n\
             Checked in the database after every round (sums over the measured rounds):\n\n\
             | service | 201 answers | allocation rows | lost | double | overbooked batches | read-model rows | `Allocated` events |\n\
             |---|---|---|---|---|---|---|---|"
        );
        for subject in Subject::ALL {
            let c = &o.service(subject).check;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                subject.name(),
                c.created,
                c.rows,
                c.lost + c.phantom,
                c.double,
                c.overbooked,
                c.read_model,
                c.events
            );
        }
        let _ = writeln!(
            out,
            "\nLost: a 201 whose order has no row on the batch it named, or a row no 201 accounts for.\n"
        );
    }
}

/// Rows of the targets table: a rule and its cases `(case, value, met)`.
pub type TargetRows = Vec<(String, Vec<(String, f64, bool)>)>;

/// The targets of the HTTP comparison.
pub fn targets(outcomes: &[Outcome]) -> TargetRows {
    let mut rate = Vec::new();
    let mut p99 = Vec::new();
    let mut exact = Vec::new();
    for o in outcomes {
        let case = format!("{}, {} load", o.backend.name(), o.load);
        let r = o.rate_ratio();
        rate.push((case.clone(), r, r >= 0.9));
        let l = o.latency_ratio(Subject::Uow, Subject::Hand, 0.99);
        p99.push((case.clone(), l, l <= 1.2));
        for subject in Subject::ALL {
            let name = subject.key();
            let c = &o.service(subject).check;
            let value = if c.created == 0 {
                f64::NAN
            } else {
                c.rows as f64 / c.created as f64
            };
            exact.push((format!("{name} {case}"), value, c.exact() && c.created > 0));
        }
    }
    vec![
        (
            "HTTP: uow ≥ 0.9 × the hand-written service's requests/s".to_owned(),
            rate,
        ),
        (
            "HTTP: uow's p99 latency ≤ 1.2 × the hand-written service's".to_owned(),
            p99,
        ),
        (
            "HTTP: allocation rows ÷ 201 answers = 1, none lost, double or overbooked".to_owned(),
            exact,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "other"),
            "postgres://postgres@127.0.0.1:5432/other"
        );
        assert_eq!(
            with_database("postgres://u:p@host/test?sslmode=disable", "other"),
            "postgres://u:p@host/other?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://host:5432", "other"),
            "postgres://host:5432/other"
        );
    }

    #[test]
    fn a_check_is_exact_only_when_every_count_agrees() {
        let good = Check {
            created: 3,
            rows: 3,
            read_model: 3,
            events: 3,
            ..Check::default()
        };
        assert!(good.exact());
        let lost = Check {
            lost: 1,
            ..Check {
                created: 3,
                rows: 3,
                read_model: 3,
                events: 3,
                ..Check::default()
            }
        };
        assert!(!lost.exact());
        let short = Check {
            rows: 2,
            ..Check {
                created: 3,
                read_model: 3,
                events: 3,
                ..Check::default()
            }
        };
        assert!(!short.exact());
    }
}
