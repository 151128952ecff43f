//! SQL of your own in a unit of work's transaction: a ledger row written with
//! the unit's own statements commits with its aggregates, and rolls back with
//! them on a version conflict and when the unit is dropped, on SQLite,
//! PostgreSQL and MySQL/MariaDB.
//!
//! Two ways in: `SqlxTransaction::with_*` runs statements at once in the
//! unit's transaction (SQLite: which it opens early, taking the write lock),
//! and `SqlxTransaction::at_commit_*` runs them in the commit's transaction
//! after the aggregates are written. The service below stays generic over
//! `Store` through a port, `Ledger`, with an in-memory implementation and a
//! SQL one; statements of your own leave the in-memory store behind, which is
//! why the in-memory ledger is a fake of its own.

use std::future::Future;
use std::sync::Mutex;

use uow_core::{Error, InMemoryStore, Store, UnitId, UnitOfWork, unit_of_work};
use uow_sqlx::{Dialect, SqlxStore, SqlxTransaction};
use uow_testing::Backend;
use uow_tests::bank::Account;
use uow_tests::raw_sql;

#[unit_of_work]
pub struct Payments {
    pub accounts: Account,
}

/// The port through which the payment service records a ledger row in the
/// unit of work that moves the money.
pub trait Ledger<S: Store>: Send + Sync {
    /// Records `entry` in the transaction of the unit of work `tx`: stored
    /// if and only if that unit of work commits.
    fn record(
        &self,
        tx: &S::Tx,
        entry: &str,
        amount: i64,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// The entries stored, in entry order.
    fn entries(&self, store: &S) -> impl Future<Output = Vec<(String, i64)>> + Send;
}

/// The ledger of the in-memory store: entries kept with the id of the unit
/// of work that wrote them, and shown once that unit's commit is known to be
/// stored (`Store::commit_outcome`).
#[derive(Default)]
pub struct MemoryLedger {
    written: Mutex<Vec<(UnitId, String, i64)>>,
}

impl Ledger<InMemoryStore> for MemoryLedger {
    async fn record(
        &self,
        tx: &<InMemoryStore as Store>::Tx,
        entry: &str,
        amount: i64,
    ) -> Result<(), Error> {
        use uow_core::backend::Transaction;
        let unit = tx.unit_id().clone();
        self.written
            .lock()
            .unwrap()
            .push((unit, entry.to_owned(), amount));
        Ok(())
    }

    async fn entries(&self, store: &InMemoryStore) -> Vec<(String, i64)> {
        let written = self.written.lock().unwrap().clone();
        let mut stored = Vec::new();
        for (unit, entry, amount) in written {
            if store.commit_outcome(&unit).await.unwrap() == uow_core::CommitOutcome::Committed {
                stored.push((entry, amount));
            }
        }
        stored.sort();
        stored
    }
}

/// The ledger of a SQL store: a row of table `payment_ledger`, inserted by
/// the commit's transaction after the aggregates are written.
pub struct SqlLedger;

impl Ledger<SqlxStore> for SqlLedger {
    async fn record(&self, tx: &SqlxTransaction, entry: &str, amount: i64) -> Result<(), Error> {
        record_at_commit(tx, entry, amount).await
    }

    async fn entries(&self, store: &SqlxStore) -> Vec<(String, i64)> {
        ledger_rows(store).await
    }
}

/// The service: moves `amount` from one account to another and records it
/// in the ledger, all in one unit of work; generic over the store.
pub async fn pay<S: Store, L: Ledger<S>>(
    store: &S,
    ledger: &L,
    from: &str,
    to: &str,
    amount: i64,
    entry: &str,
) -> Result<(), Error> {
    let mut uow = Payments::begin(store).await?;
    let payer = uow.accounts.get(&account(from)).await?;
    payer.expect("the payer's account").balance -= amount;
    let payee = uow.accounts.get(&account(to)).await?;
    payee.expect("the payee's account").deposit(amount);
    ledger.record(uow.transaction(), entry, amount).await?;
    uow.commit().await?;
    Ok(())
}

fn account(id: &str) -> uow_tests::bank::AccountId {
    uow_tests::bank::AccountId::new(id)
}

/// Inserts a ledger row now, in the unit of work's transaction.
async fn record_now(tx: &SqlxTransaction, entry: &str, amount: i64) -> Result<(), Error> {
    let entry = entry.to_owned();
    match tx.dialect() {
        Dialect::Postgres => {
            tx.with_postgres(move |conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO payment_ledger (entry, amount) VALUES ($1, $2)")
                        .bind(entry)
                        .bind(amount)
                        .execute(conn)
                        .await
                        .map(drop)
                })
            })
            .await
        }
        Dialect::MySql => {
            tx.with_mysql(move |conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO payment_ledger (entry, amount) VALUES (?, ?)")
                        .bind(entry)
                        .bind(amount)
                        .execute(conn)
                        .await
                        .map(drop)
                })
            })
            .await
        }
        Dialect::Sqlite => {
            tx.with_sqlite(move |conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO payment_ledger (entry, amount) VALUES (?, ?)")
                        .bind(entry)
                        .bind(amount)
                        .execute(conn)
                        .await
                        .map(drop)
                })
            })
            .await
        }
        other => panic!("no ledger SQL for {other:?}"),
    }
}

/// Inserts a ledger row in the commit's transaction, after the aggregates.
async fn record_at_commit(tx: &SqlxTransaction, entry: &str, amount: i64) -> Result<(), Error> {
    let entry = entry.to_owned();
    match tx.dialect() {
        Dialect::Postgres => {
            tx.at_commit_postgres(move |conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO payment_ledger (entry, amount) VALUES ($1, $2)")
                        .bind(entry)
                        .bind(amount)
                        .execute(conn)
                        .await
                        .map(drop)
                })
            })
            .await
        }
        Dialect::MySql => {
            tx.at_commit_mysql(move |conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO payment_ledger (entry, amount) VALUES (?, ?)")
                        .bind(entry)
                        .bind(amount)
                        .execute(conn)
                        .await
                        .map(drop)
                })
            })
            .await
        }
        Dialect::Sqlite => {
            tx.at_commit_sqlite(move |conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO payment_ledger (entry, amount) VALUES (?, ?)")
                        .bind(entry)
                        .bind(amount)
                        .execute(conn)
                        .await
                        .map(drop)
                })
            })
            .await
        }
        other => panic!("no ledger SQL for {other:?}"),
    }
}

async fn create_ledger(store: &SqlxStore) {
    raw_sql::run(
        store,
        &["CREATE TABLE payment_ledger (entry VARCHAR(64) PRIMARY KEY, amount BIGINT NOT NULL)"],
    )
    .await;
}

/// The ledger rows stored, read on a connection of their own.
async fn ledger_rows(store: &SqlxStore) -> Vec<(String, i64)> {
    let rows = raw_sql::integer(store, "SELECT COUNT(*) FROM payment_ledger")
        .await
        .expect("count the ledger rows");
    let mut entries = Vec::new();
    for n in 0..rows {
        let entry = raw_sql::text(
            store,
            &format!("SELECT entry FROM payment_ledger ORDER BY entry LIMIT 1 OFFSET {n}"),
        )
        .await
        .expect("read an entry");
        let amount = raw_sql::integer(
            store,
            &format!("SELECT amount FROM payment_ledger ORDER BY entry LIMIT 1 OFFSET {n}"),
        )
        .await
        .expect("read an amount");
        entries.push((entry, amount));
    }
    entries
}

async fn accounts(store: &impl Store) -> Vec<(String, i64)> {
    let mut uow = Payments::begin(store).await.unwrap();
    let mut all: Vec<(String, i64)> = uow
        .accounts
        .list(100)
        .await
        .unwrap()
        .iter()
        .map(|a| (a.id.0.clone(), a.balance))
        .collect();
    all.sort();
    all
}

async fn open_accounts(store: &impl Store, ids: &[&str]) {
    let mut uow = Payments::begin(store).await.unwrap();
    for id in ids {
        let mut opened = Account::open(id, "owner", "north");
        opened.balance = 100;
        uow.accounts.add(opened).unwrap();
    }
    uow.commit().await.unwrap();
}

mod scenarios {
    use super::*;

    /// A ledger row inserted at once and one inserted at commit are stored
    /// with the two accounts the unit of work adds.
    pub async fn a_ledger_row_written_with_the_units_own_sql_commits_with_two_aggregates<
        B: Backend<Store = SqlxStore>,
    >() {
        let Some(store) = B::fresh_with(Payments::<SqlxStore>::AGGREGATES).await else {
            return;
        };
        create_ledger(&store).await;
        let mut uow = Payments::begin(&store).await.unwrap();
        uow.accounts
            .add(Account::open("a-1", "Ann", "north"))
            .unwrap();
        uow.accounts
            .add(Account::open("a-2", "Bob", "north"))
            .unwrap();
        record_now(uow.transaction(), "pay-1", 10).await.unwrap();
        record_at_commit(uow.transaction(), "pay-2", 20)
            .await
            .unwrap();
        assert!(
            ledger_rows(&store).await.is_empty(),
            "nothing is visible before the commit"
        );
        uow.commit().await.unwrap();
        assert_eq!(
            ledger_rows(&store).await,
            [("pay-1".to_owned(), 10), ("pay-2".to_owned(), 20)]
        );
        assert_eq!(
            accounts(&store).await,
            [("a-1".to_owned(), 0), ("a-2".to_owned(), 0)]
        );
    }

    /// A unit of work that loses a version check stores neither its
    /// aggregates nor its ledger rows.
    pub async fn a_ledger_row_rolls_back_with_the_aggregates_on_a_version_conflict<
        B: Backend<Store = SqlxStore>,
    >() {
        let Some(store) = B::fresh_with(Payments::<SqlxStore>::AGGREGATES).await else {
            return;
        };
        create_ledger(&store).await;
        open_accounts(&store, &["a-1"]).await;

        let mut late = Payments::begin(&store).await.unwrap();
        let stale = late.accounts.get(&account("a-1")).await.unwrap().unwrap();

        let mut first = Payments::begin(&store).await.unwrap();
        first
            .accounts
            .get(&account("a-1"))
            .await
            .unwrap()
            .unwrap()
            .deposit(1);
        first.commit().await.unwrap();

        stale.deposit(5);
        late.accounts
            .add(Account::open("a-2", "Bob", "north"))
            .unwrap();
        record_now(late.transaction(), "pay-3", 5).await.unwrap();
        record_at_commit(late.transaction(), "pay-4", 5)
            .await
            .unwrap();
        let error = late.commit().await.expect_err("a version conflict");
        assert!(matches!(error, Error::Conflict { .. }), "{error}");

        assert!(
            ledger_rows(&store).await.is_empty(),
            "{:?}",
            ledger_rows(&store).await
        );
        assert_eq!(accounts(&store).await, [("a-1".to_owned(), 101)]);
    }

    /// A unit of work dropped without commit stores none of its ledger rows
    /// (and, on SQLite, releases the write lock it took for them).
    pub async fn a_ledger_row_rolls_back_when_the_unit_is_dropped<B: Backend<Store = SqlxStore>>() {
        let Some(store) = B::fresh_with(Payments::<SqlxStore>::AGGREGATES).await else {
            return;
        };
        create_ledger(&store).await;
        let mut uow = Payments::begin(&store).await.unwrap();
        uow.accounts
            .add(Account::open("a-1", "Ann", "north"))
            .unwrap();
        record_now(uow.transaction(), "pay-5", 5).await.unwrap();
        record_at_commit(uow.transaction(), "pay-6", 6)
            .await
            .unwrap();
        drop(uow);

        assert!(ledger_rows(&store).await.is_empty());
        assert!(accounts(&store).await.is_empty());
        // The next unit of work writes at once: nothing was left holding a
        // lock.
        open_accounts(&store, &["a-2"]).await;
        assert_eq!(accounts(&store).await, [("a-2".to_owned(), 100)]);
    }

    /// A unit of work whose only writes are ledger rows of its own commits
    /// them, and its commit's outcome is known as any other's.
    pub async fn a_unit_with_only_a_ledger_row_commits_and_its_outcome_is_known<
        B: Backend<Store = SqlxStore>,
    >() {
        let Some(store) = B::fresh_with(Payments::<SqlxStore>::AGGREGATES).await else {
            return;
        };
        create_ledger(&store).await;
        let uow = Payments::begin(&store).await.unwrap();
        let now = uow.unit_id().clone();
        record_now(uow.transaction(), "pay-10", 10).await.unwrap();
        uow.commit().await.unwrap();
        let uow = Payments::begin(&store).await.unwrap();
        let at_commit = uow.unit_id().clone();
        record_at_commit(uow.transaction(), "pay-11", 11)
            .await
            .unwrap();
        uow.commit().await.unwrap();

        assert_eq!(
            ledger_rows(&store).await,
            [("pay-10".to_owned(), 10), ("pay-11".to_owned(), 11)]
        );
        for unit in [now, at_commit] {
            assert_eq!(
                store.commit_outcome(&unit).await.unwrap(),
                uow_core::CommitOutcome::Committed
            );
        }
    }

    /// A statement of your own that fails at commit fails the commit:
    /// nothing of the unit of work is stored.
    pub async fn a_ledger_row_that_fails_at_commit_stores_nothing<B: Backend<Store = SqlxStore>>() {
        let Some(store) = B::fresh_with(Payments::<SqlxStore>::AGGREGATES).await else {
            return;
        };
        create_ledger(&store).await;
        let uow = Payments::begin(&store).await.unwrap();
        record_at_commit(uow.transaction(), "pay-8", 8)
            .await
            .unwrap();
        uow.commit().await.unwrap();

        let mut uow = Payments::begin(&store).await.unwrap();
        uow.accounts
            .add(Account::open("a-1", "Ann", "north"))
            .unwrap();
        record_at_commit(uow.transaction(), "pay-8", 9)
            .await
            .unwrap();
        let error = uow.commit().await.expect_err("a duplicate ledger entry");
        assert!(
            matches!(&error, Error::Backend(backend) if backend.rolled_back),
            "nothing was stored: {}",
            uow_tests::error_chain(&error)
        );
        assert_eq!(ledger_rows(&store).await, [("pay-8".to_owned(), 8)]);
        assert!(accounts(&store).await.is_empty());
    }

    /// Statements written for another database than the store's are
    /// refused, naming the database the unit of work runs on.
    pub async fn ledger_statements_for_another_database_are_refused<
        B: Backend<Store = SqlxStore>,
    >() {
        let Some(store) = B::fresh_with(Payments::<SqlxStore>::AGGREGATES).await else {
            return;
        };
        let uow = Payments::begin(&store).await.unwrap();
        let tx = uow.transaction();
        let (now, at_commit) = if tx.dialect() == Dialect::Sqlite {
            (
                tx.with_postgres(|_| Box::pin(async { Ok(()) })).await,
                tx.at_commit_mysql(|_| Box::pin(async { Ok(()) })).await,
            )
        } else {
            (
                tx.with_sqlite(|_| Box::pin(async { Ok(()) })).await,
                tx.at_commit_sqlite(|_| Box::pin(async { Ok(()) })).await,
            )
        };
        for refused in [now, at_commit] {
            let error = refused.expect_err("another database's statements");
            let chain = uow_tests::error_chain(&error);
            assert!(
                chain.contains(&format!("this unit of work runs on {}", B::NAME)),
                "{chain}"
            );
        }
    }

    /// The payment service, generic over the store, records its ledger row
    /// through the port: stored with the payment on the database, and shown
    /// by the in-memory ledger once the payment is committed.
    pub async fn the_ledger_port_records_a_payment_with_its_unit_of_work<
        B: Backend<Store = SqlxStore>,
    >() {
        let Some(store) = B::fresh_with(Payments::<SqlxStore>::AGGREGATES).await else {
            return;
        };
        create_ledger(&store).await;
        open_accounts(&store, &["a-1", "a-2"]).await;
        pay(&store, &SqlLedger, "a-1", "a-2", 30, "pay-7")
            .await
            .unwrap();

        let memory = InMemoryStore::new();
        let memory_ledger = MemoryLedger::default();
        open_accounts(&memory, &["a-1", "a-2"]).await;
        pay(&memory, &memory_ledger, "a-1", "a-2", 30, "pay-7")
            .await
            .unwrap();

        assert_eq!(
            SqlLedger.entries(&store).await,
            memory_ledger.entries(&memory).await
        );
        assert_eq!(accounts(&store).await, accounts(&memory).await);
        assert_eq!(
            accounts(&store).await,
            [("a-1".to_owned(), 70), ("a-2".to_owned(), 130)]
        );
    }
}

uow_tests::on_backends!([sqlite, postgres, mysql] scenarios: [
    a_ledger_row_written_with_the_units_own_sql_commits_with_two_aggregates,
    a_ledger_row_rolls_back_with_the_aggregates_on_a_version_conflict,
    a_ledger_row_rolls_back_when_the_unit_is_dropped,
    a_ledger_row_that_fails_at_commit_stores_nothing,
    a_unit_with_only_a_ledger_row_commits_and_its_outcome_is_known,
    ledger_statements_for_another_database_are_refused,
    the_ledger_port_records_a_payment_with_its_unit_of_work,
]);
