//! The outbox contract on every backend: events are stored with the commit
//! that produced them and only then, and relays deliver them at least once,
//! in order per aggregate, each exactly once when nothing fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use uow_core::{
    Error, Store,
    outbox::{Backoff, OutboxMessage, OutboxStore, Publisher, Relay},
};
use uow_sqlx::{SqlxStore, StoreOptions};
use uow_tests::backends::Backend;
use uow_tests::bank::{Account, AccountId, AuditedBank, LedgerEntry};

use scenarios::amount_of;

/// A publisher that records what it is given and fails the first
/// `failures` attempts of the events it is told to.
#[derive(Clone, Default)]
struct Recorder {
    delivered: Arc<Mutex<Vec<OutboxMessage>>>,
    failures: Arc<Mutex<HashMap<String, u32>>>,
    pause: Duration,
}

impl Recorder {
    fn delivered(&self) -> Vec<OutboxMessage> {
        self.delivered.lock().expect("lock").clone()
    }

    /// Fails the deposit of `amount` into `account` the first `times` times.
    fn fail(&self, account: &str, amount: i64, times: u32) {
        self.failures
            .lock()
            .expect("lock")
            .insert(format!("{account}#{amount}"), times);
    }
}

impl Publisher for Recorder {
    async fn publish(
        &self,
        message: &OutboxMessage,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if !self.pause.is_zero() {
            tokio::time::sleep(self.pause).await;
        }
        if let Some(left) = self
            .failures
            .lock()
            .expect("lock")
            .get_mut(&format!(
                "{}#{}",
                message.record.aggregate_id,
                amount_of(&message.record.payload)
            ))
            .filter(|left| **left > 0)
        {
            *left -= 1;
            return Err("the broker is unavailable".into());
        }
        self.delivered.lock().expect("lock").push(message.clone());
        Ok(())
    }
}

/// No waiting between attempts, so tests retry at once.
const IMMEDIATELY: Backoff = Backoff {
    base: Duration::ZERO,
    max: Duration::ZERO,
};

/// Runs a relay until a batch finds nothing to do.
async fn drain<O: OutboxStore>(relay: &Relay<O, Recorder>) {
    for _ in 0..1_000 {
        let report = relay.run_once().await.expect("relay");
        if report.delivered + report.failed + report.held_back + report.dead == 0 {
            return;
        }
    }
    panic!("the relay never ran dry");
}

async fn open<S: Store>(store: &S, id: &str) {
    let mut uow = AuditedBank::begin(store).await.expect("begin");
    uow.accounts
        .add(Account::open(id, "Ada", "north"))
        .expect("add");
    uow.commit().await.expect("open");
}

async fn deposit<S: Store>(store: &S, id: &str, amount: i64) -> Result<(), Error> {
    let mut uow = AuditedBank::begin(store).await?;
    if let Some(account) = uow.accounts.get(&AccountId::new(id)).await? {
        account.deposit(amount);
    }
    uow.commit().await.map(drop)
}

mod scenarios {
    use super::*;

    pub async fn events_are_returned_and_stored_only_after_a_successful_commit<B: Backend>()
    where
        B::Store: OutboxStore + 'static,
    {
        let Some(store) = B::fresh().await else {
            return;
        };
        store_outbox(&store).await;
        open(&store, "acc-1").await;

        // Dropped, failed and conflicting units of work leave nothing.
        let mut dropped = AuditedBank::begin(&store).await.expect("begin");
        dropped
            .accounts
            .get(&AccountId::new("acc-1"))
            .await
            .expect("get")
            .expect("stored")
            .deposit(1);
        drop(dropped);

        let mut loser = AuditedBank::begin(&store).await.expect("begin");
        loser
            .accounts
            .get(&AccountId::new("acc-1"))
            .await
            .expect("get")
            .expect("stored")
            .deposit(2);
        deposit(&store, "acc-1", 3)
            .await
            .expect("the winner commits");
        assert!(matches!(loser.commit().await, Err(Error::Conflict { .. })));

        let relay = Relay::new("relay", store.clone(), Recorder::default()).backoff(IMMEDIATELY);
        drain(&relay).await;
        let delivered = relay.publisher().delivered();
        assert_eq!(
            delivered.len(),
            1,
            "only the committed deposit: {delivered:?}"
        );
        let record = &delivered[0].record;
        assert_eq!(record.aggregate_type, "Account");
        assert_eq!(record.aggregate_id, "acc-1");
        assert_eq!(record.event_type, "Account");
        let payload: serde_json::Value = serde_json::from_str(&record.payload).expect("JSON");
        assert_eq!(
            payload,
            serde_json::json!({"Account": {"Deposited": {"account": "acc-1", "amount": 3}}})
        );
        assert_eq!(record.event_id.len(), 36, "a UUID: {}", record.event_id);
    }

    pub async fn a_commit_that_fails_after_writing_aggregates_stores_no_outbox_rows<B: Backend>()
    where
        B::Store: OutboxStore + 'static,
    {
        let Some(store) = B::fresh().await else {
            return;
        };
        store_outbox(&store).await;
        let mut uow = AuditedBank::begin(&store).await.expect("begin");
        uow.accounts
            .add(Account::open("acc-1", "Ada", "north"))
            .expect("add");
        uow.entries
            .add(LedgerEntry {
                id: 1,
                version: 0,
                account: "acc-1".into(),
                amount: 0,
            })
            .expect("add");
        uow.commit().await.expect("seed");

        // The account's update (with its event) is written first, then the
        // ledger entry's conflicts: the whole commit fails.
        let mut loser = AuditedBank::begin(&store).await.expect("begin");
        loser
            .accounts
            .get(&AccountId::new("acc-1"))
            .await
            .expect("get")
            .expect("stored")
            .deposit(5);
        loser
            .entries
            .get(&1)
            .await
            .expect("get")
            .expect("stored")
            .amount = 5;
        let mut winner = AuditedBank::begin(&store).await.expect("begin");
        winner
            .entries
            .get(&1)
            .await
            .expect("get")
            .expect("stored")
            .amount = 7;
        winner.commit().await.expect("commit");
        assert!(loser.commit().await.is_err());

        let relay = Relay::new("relay", store.clone(), Recorder::default()).backoff(IMMEDIATELY);
        drain(&relay).await;
        assert!(
            relay.publisher().delivered().is_empty(),
            "neither the account's change nor its event is stored"
        );
    }

    pub async fn a_failing_publisher_still_gets_every_event_in_order_per_aggregate<B: Backend>()
    where
        B::Store: OutboxStore + 'static,
    {
        let Some(store) = B::fresh().await else {
            return;
        };
        store_outbox(&store).await;
        for id in ["acc-1", "acc-2"] {
            open(&store, id).await;
        }
        for amount in 1..=5 {
            deposit(&store, "acc-1", amount).await.expect("deposit");
            deposit(&store, "acc-2", amount * 10)
                .await
                .expect("deposit");
        }

        let recorder = Recorder::default();
        // The second deposit of acc-1 fails twice before it goes through.
        recorder.fail("acc-1", 2, 2);
        let relay = Relay::new("relay", store.clone(), recorder.clone())
            .backoff(IMMEDIATELY)
            .batch_size(4);
        drain(&relay).await;

        let delivered = recorder.delivered();
        assert_eq!(delivered.len(), 10, "every event delivered");
        for (id, unit) in [("acc-1", 1), ("acc-2", 10)] {
            let amounts: Vec<i64> = delivered
                .iter()
                .filter(|m| m.record.aggregate_id == id)
                .map(|m| amount_of(&m.record.payload))
                .collect();
            let expected: Vec<i64> = (1..=5).map(|a| a * unit).collect();
            assert_eq!(amounts, expected, "{id}'s events in the order committed");
        }
        let retried = delivered
            .iter()
            .find(|m| m.record.aggregate_id == "acc-1" && amount_of(&m.record.payload) == 2)
            .expect("the flaky event was delivered");
        assert_eq!(retried.attempts, 2, "after two failed attempts");
    }

    pub async fn a_restarted_relay_delivers_nothing_twice<B: Backend>()
    where
        B::Store: OutboxStore + 'static,
    {
        let Some(store) = B::fresh().await else {
            return;
        };
        store_outbox(&store).await;
        open(&store, "acc-1").await;
        for amount in 1..=9 {
            deposit(&store, "acc-1", amount).await.expect("deposit");
        }
        let recorder = Recorder::default();
        let first = Relay::new("relay", store.clone(), recorder.clone()).batch_size(4);
        first.run_once().await.expect("one batch");
        drop(first);
        assert_eq!(recorder.delivered().len(), 4);

        let second = Relay::new("relay", store.clone(), recorder.clone()).batch_size(4);
        drain(&second).await;
        let ids: Vec<String> = recorder
            .delivered()
            .iter()
            .map(|m| m.record.event_id.clone())
            .collect();
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(ids.len(), 9);
        assert_eq!(unique.len(), 9, "nothing delivered twice");
    }

    pub async fn two_relays_at_once_deliver_each_event_exactly_once<B: Backend>()
    where
        B::Store: OutboxStore + Clone + 'static,
    {
        let Some(store) = B::fresh().await else {
            return;
        };
        store_outbox(&store).await;
        const ACCOUNTS: usize = 6;
        const DEPOSITS: i64 = 10;
        for a in 0..ACCOUNTS {
            open(&store, &format!("acc-{a}")).await;
        }
        for amount in 1..=DEPOSITS {
            for a in 0..ACCOUNTS {
                deposit(&store, &format!("acc-{a}"), amount)
                    .await
                    .expect("deposit");
            }
        }
        let total = ACCOUNTS * DEPOSITS as usize;
        let recorder = Recorder {
            pause: Duration::from_millis(1),
            ..Recorder::default()
        };
        let relays: Vec<_> = ["relay-a", "relay-b"]
            .into_iter()
            .map(|name| {
                let relay = Relay::new(name, store.clone(), recorder.clone()).batch_size(5);
                let recorder = recorder.clone();
                tokio::spawn(async move {
                    let mut mine = 0;
                    for _ in 0..2_000 {
                        if recorder.delivered().len() >= total {
                            break;
                        }
                        match relay.run_once().await {
                            Ok(report) if report.delivered == 0 => {
                                tokio::time::sleep(Duration::from_millis(2)).await;
                            }
                            Ok(report) => mine += report.delivered,
                            // SQLite: the other relay holds the write lock.
                            Err(e) if e.is_conflict() => {}
                            Err(e) => panic!("relay failed: {e}"),
                        }
                    }
                    mine
                })
            })
            .collect();
        let mut counts = Vec::new();
        for relay in relays {
            counts.push(relay.await.expect("no panic"));
        }
        let delivered = recorder.delivered();
        let mut per_event: HashMap<String, usize> = HashMap::new();
        for message in &delivered {
            *per_event
                .entry(message.record.event_id.clone())
                .or_default() += 1;
        }
        assert_eq!(per_event.len(), total, "every event delivered");
        assert!(
            per_event.values().all(|&n| n == 1),
            "each event exactly once across both relays"
        );
        assert_eq!(counts.iter().sum::<usize>(), total);
        for a in 0..ACCOUNTS {
            let id = format!("acc-{a}");
            let amounts: Vec<i64> = delivered
                .iter()
                .filter(|m| m.record.aggregate_id == id)
                .map(|m| amount_of(&m.record.payload))
                .collect();
            assert_eq!(amounts, (1..=DEPOSITS).collect::<Vec<_>>(), "{id} in order");
        }
        uow_tests::report(&format!(
            "{}: two relays delivered {total} events exactly once ({} + {})",
            B::NAME,
            counts[0],
            counts[1]
        ));
    }

    /// A message that can never be delivered (a poison message) fails as
    /// many times as the relay allows, then is set aside as dead with its
    /// last error; the messages after it, of its aggregate too, are
    /// delivered in order. Requeued, it is delivered.
    pub async fn a_poison_message_is_set_aside_and_the_others_are_delivered<B: Backend>()
    where
        B::Store: OutboxStore + 'static,
    {
        let Some(store) = B::fresh().await else {
            return;
        };
        store_outbox(&store).await;
        for id in ["acc-1", "acc-2"] {
            open(&store, id).await;
        }
        for amount in 1..=4 {
            deposit(&store, "acc-1", amount).await.expect("deposit");
        }
        deposit(&store, "acc-2", 10).await.expect("deposit");
        let recorder = Recorder::default();
        recorder.fail("acc-1", 2, u32::MAX);
        let relay = Relay::new("relay", store.clone(), recorder.clone())
            .backoff(IMMEDIATELY)
            .max_attempts(3);
        drain(&relay).await;

        let amounts = |id: &str| -> Vec<i64> {
            recorder
                .delivered()
                .iter()
                .filter(|m| m.record.aggregate_id == id)
                .map(|m| amount_of(&m.record.payload))
                .collect()
        };
        assert_eq!(amounts("acc-1"), [1, 3, 4], "the others, in order");
        assert_eq!(amounts("acc-2"), [10]);
        let dead = store.dead_messages().await.expect("dead messages");
        assert_eq!(dead.len(), 1, "{dead:?}");
        assert_eq!(amount_of(&dead[0].message.record.payload), 2);
        assert_eq!(
            dead[0].message.attempts, 3,
            "set aside after three attempts"
        );
        assert!(
            dead[0].last_error.contains("the broker is unavailable"),
            "its last error: {}",
            dead[0].last_error
        );

        recorder.fail("acc-1", 2, 0);
        assert!(store.requeue(dead[0].message.seq).await.expect("requeue"));
        assert!(!store.requeue(dead[0].message.seq).await.expect("requeue"));
        drain(&relay).await;
        assert_eq!(amounts("acc-1"), [1, 3, 4, 2], "requeued, then delivered");
        assert!(store.dead_messages().await.expect("dead").is_empty());
    }

    /// A publisher that panics on one message: the panic fails that message
    /// only; `run_relay` goes on delivering the others, and the message is
    /// set aside as dead.
    pub async fn run_relay_survives_a_panicking_publisher<B: Backend>()
    where
        B::Store: OutboxStore + 'static,
    {
        let Some(store) = B::fresh().await else {
            return;
        };
        store_outbox(&store).await;
        open(&store, "acc-1").await;
        for amount in 1..=5 {
            deposit(&store, "acc-1", amount).await.expect("deposit");
        }
        let recorder = Recorder::default();
        let publisher = Panicking {
            recorder: recorder.clone(),
            on_amount: 3,
        };
        let relay = Relay::new("relay", store.clone(), publisher)
            .backoff(IMMEDIATELY)
            .max_attempts(2);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let watcher = async {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            loop {
                let dead = store.dead_messages().await.expect("dead").len();
                if recorder.delivered().len() == 4 && dead == 1 {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "delivered {:?}, {dead} dead",
                    recorder.delivered().len()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let _ = stop.send(());
        };
        tokio::join!(
            uow_sqlx::run_relay(&relay, Duration::from_millis(5), stopped),
            watcher
        );
        let amounts: Vec<i64> = recorder
            .delivered()
            .iter()
            .map(|m| amount_of(&m.record.payload))
            .collect();
        assert_eq!(amounts, [1, 2, 4, 5]);
        let dead = store.dead_messages().await.expect("dead");
        assert!(
            dead[0].last_error.contains("panicked"),
            "{}",
            dead[0].last_error
        );
    }

    pub(super) fn amount_of(payload: &str) -> i64 {
        let json: serde_json::Value = serde_json::from_str(payload).expect("JSON");
        json["Account"]["Deposited"]["amount"]
            .as_i64()
            .expect("a deposit")
    }

    /// Creates the outbox table where the store has tables.
    async fn store_outbox<S: 'static>(store: &S) {
        if let Some(sql) = (store as &dyn std::any::Any).downcast_ref::<uow_sqlx::SqlxStore>() {
            sql.create_outbox().await.expect("outbox table");
        }
    }
}

/// A publisher that panics on the deposits of one amount.
struct Panicking {
    recorder: Recorder,
    on_amount: i64,
}

impl Publisher for Panicking {
    async fn publish(
        &self,
        message: &OutboxMessage,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if amount_of(&message.record.payload) == self.on_amount {
            panic!("a bug in the publisher");
        }
        self.recorder.publish(message).await
    }
}

/// Two SQLite relays with a lease much shorter than one publication: the
/// relay that holds the lease renews it while it publishes, so the other
/// never takes it over, and no message is published by both at once or
/// delivered twice. The lease (1 s, renewed every third of it) leaves the
/// renewal 2/3 s of slack: the test once failed under a load average of 6
/// with a 300 ms lease, when a renewal waited longer than the lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_slower_than_the_sqlite_lease_delivers_nothing_twice_at_once() {
    let store: SqlxStore = uow_tests::backends::Sqlite::empty_with(
        StoreOptions::new().relay_lease(Duration::from_millis(1000)),
    )
    .await
    .expect("sqlite");
    store
        .create_tables(uow_tests::bank::TABLES)
        .await
        .expect("tables");
    store.create_outbox().await.expect("outbox");
    open(&store, "acc-1").await;
    for amount in 1..=3 {
        deposit(&store, "acc-1", amount).await.expect("deposit");
    }
    let recorder = Recorder {
        pause: Duration::from_millis(1500),
        ..Recorder::default()
    };
    let in_flight: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let overlaps = Arc::new(Mutex::new(0u32));
    let relays: Vec<_> = ["relay-a", "relay-b"]
        .into_iter()
        .map(|name| {
            let publisher = Watched {
                recorder: recorder.clone(),
                in_flight: Arc::clone(&in_flight),
                overlaps: Arc::clone(&overlaps),
            };
            let relay = Relay::new(name, store.clone(), publisher).batch_size(3);
            let recorder = recorder.clone();
            tokio::spawn(async move {
                let deadline = std::time::Instant::now() + Duration::from_secs(30);
                while recorder.delivered().len() < 3 && std::time::Instant::now() < deadline {
                    match relay.run_once().await {
                        Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                        // The other relay holds SQLite's write lock, or it
                        // took the lease over.
                        Err(e) if e.is_retryable() => {}
                        Err(e) => panic!("relay failed: {e}"),
                    }
                }
            })
        })
        .collect();
    for relay in relays {
        relay.await.expect("no panic");
    }
    let delivered = recorder.delivered();
    let ids: std::collections::HashSet<_> = delivered.iter().map(|m| &m.record.event_id).collect();
    assert_eq!(
        *overlaps.lock().expect("lock"),
        0,
        "published by two relays at once"
    );
    assert_eq!(
        delivered.len(),
        3,
        "each message delivered once: {delivered:?}"
    );
    assert_eq!(ids.len(), 3);
}

/// One message being published.
struct Publishing {
    in_flight: Arc<Mutex<HashMap<String, u32>>>,
    id: String,
}

impl Drop for Publishing {
    fn drop(&mut self) {
        if let Ok(mut in_flight) = self.in_flight.lock() {
            *in_flight.entry(self.id.clone()).or_default() -= 1;
        }
    }
}

/// A publisher that notes each message it is publishing, and counts the
/// times a message was being published by two relays at once.
struct Watched {
    recorder: Recorder,
    in_flight: Arc<Mutex<HashMap<String, u32>>>,
    overlaps: Arc<Mutex<u32>>,
}

impl Publisher for Watched {
    async fn publish(
        &self,
        message: &OutboxMessage,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let id = message.record.event_id.clone();
        {
            let mut in_flight = self.in_flight.lock().expect("lock");
            let n = in_flight.entry(id.clone()).or_default();
            *n += 1;
            if *n > 1 {
                *self.overlaps.lock().expect("lock") += 1;
            }
        }
        // Ends the mark however the publication ends: returned, or dropped
        // by a relay that lost its lease.
        let _publishing = Publishing {
            in_flight: Arc::clone(&self.in_flight),
            id,
        };
        self.recorder.publish(message).await
    }
}

mod contract {
    mod outbox {
        use super::super::scenarios;

        uow_tests::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
            events_are_returned_and_stored_only_after_a_successful_commit,
            a_commit_that_fails_after_writing_aggregates_stores_no_outbox_rows,
            a_failing_publisher_still_gets_every_event_in_order_per_aggregate,
            a_restarted_relay_delivers_nothing_twice,
            two_relays_at_once_deliver_each_event_exactly_once,
            a_poison_message_is_set_aside_and_the_others_are_delivered,
            run_relay_survives_a_panicking_publisher,
        ]);
    }
}
