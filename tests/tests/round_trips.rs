//! What a unit of work costs in round trips to the server, counted by the
//! store (statements, and every `BEGIN` and `COMMIT`): at READ COMMITTED a
//! unit reads in autocommit mode and a commit of one update is one
//! statement, so the typical business operation — load one aggregate,
//! change it, commit — is two round trips on PostgreSQL and MariaDB;
//! at SERIALIZABLE the unit keeps its transaction from `begin`.

use uow_core::{CommitOutcome, Error, Store};
use uow_sqlx::{Isolation, SqlxStore, StoreOptions};
use uow_tests::bank::{Account, AccountId, Bank, TABLES};

/// A store of `B` made with `options`, with the bank's tables and one
/// account, `acc-1`.
async fn store_with(backend: &str, options: StoreOptions) -> Option<SqlxStore> {
    let store = match backend {
        "postgres" => uow_testing::Postgres::empty_with(options).await?,
        _ => uow_testing::MySql::empty_with(options).await?,
    };
    store.create_tables(TABLES).await.expect("create tables");
    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .add(Account::open("acc-1", "Ann", "north"))
        .expect("add");
    uow.commit().await.expect("seed");
    Some(store)
}

/// Loads `acc-1`, deposits `amount`, commits; the round trips and the
/// statements it cost.
async fn deposit(store: &SqlxStore, amount: i64) -> (u64, u64) {
    let (trips, statements) = (store.round_trips(), store.statements_executed());
    let mut uow = Bank::begin(store).await.expect("begin");
    uow.accounts
        .get(&AccountId::new("acc-1"))
        .await
        .expect("get")
        .expect("stored")
        .deposit(amount);
    uow.commit().await.expect("commit");
    (
        store.round_trips() - trips,
        store.statements_executed() - statements,
    )
}

async fn balance(store: &SqlxStore) -> (i64, u64) {
    let mut uow = Bank::begin(store).await.expect("begin");
    let account = uow
        .accounts
        .get(&AccountId::new("acc-1"))
        .await
        .expect("get")
        .expect("stored");
    (account.balance, account.version)
}

async fn a_read_modify_write_at_read_committed_is_two_round_trips(backend: &str, markers: bool) {
    let options = StoreOptions::new()
        .max_connections(2)
        .commit_markers(markers);
    let Some(store) = store_with(backend, options).await else {
        return;
    };
    for round in 1..=3 {
        let (trips, statements) = deposit(&store, 10).await;
        assert_eq!(
            (trips, statements),
            (2, 2),
            "{backend}, markers {markers}, round {round}: one SELECT and one UPDATE, no BEGIN/COMMIT"
        );
    }
    assert_eq!(balance(&store).await, (30, 4), "three deposits stored");
}

async fn a_read_modify_write_at_serializable_keeps_its_transaction(backend: &str) {
    let options = StoreOptions::new()
        .max_connections(2)
        .isolation(Isolation::Serializable);
    let Some(store) = store_with(backend, options).await else {
        return;
    };
    let (trips, statements) = deposit(&store, 10).await;
    // BEGIN, SELECT, the marker's INSERT, UPDATE, COMMIT.
    assert_eq!(
        (trips, statements),
        (5, 3),
        "{backend}: the unit's transaction spans its reads"
    );
    assert_eq!(balance(&store).await, (10, 2));
}

/// Two units load the same account; the second to commit its one-statement
/// commit gets the conflict, stores nothing, and (its marker folded into
/// the update where the database allows) is known not committed.
async fn a_one_statement_commit_still_detects_the_conflict(backend: &str) {
    let Some(store) = store_with(backend, StoreOptions::new().max_connections(3)).await else {
        return;
    };
    let mut first = Bank::begin(&store).await.expect("begin");
    let mut second = Bank::begin(&store).await.expect("begin");
    let loser = second.accounts.unit_id().clone();
    for uow in [&mut first, &mut second] {
        uow.accounts
            .get(&AccountId::new("acc-1"))
            .await
            .expect("get")
            .expect("stored")
            .deposit(5);
    }
    first.commit().await.expect("the first commit wins");
    let error = second.commit().await.expect_err("the second conflicts");
    match error {
        Error::Conflict {
            aggregate,
            id,
            expected,
        } => assert_eq!((aggregate, id.as_str(), expected), ("Account", "acc-1", 1)),
        other => panic!("{backend}: expected the conflict of acc-1, got {other:?}"),
    }
    assert_eq!(
        balance(&store).await,
        (5, 2),
        "{backend}: one deposit stored"
    );
    assert_eq!(
        store.commit_outcome(&loser).await.expect("outcome"),
        CommitOutcome::NotCommitted,
        "{backend}: the losing unit left no commit marker"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_read_modify_write_at_read_committed_is_two_round_trips() {
    a_read_modify_write_at_read_committed_is_two_round_trips("postgres", true).await;
    a_read_modify_write_at_read_committed_is_two_round_trips("postgres", false).await;
}

/// On MariaDB, whose compound statements fold the commit marker into the
/// update (the test servers are MariaDB; MySQL has no such statement and
/// keeps the commit's transaction when markers are on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_read_modify_write_at_read_committed_is_two_round_trips() {
    a_read_modify_write_at_read_committed_is_two_round_trips("mysql", true).await;
    a_read_modify_write_at_read_committed_is_two_round_trips("mysql", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_read_modify_write_at_serializable_keeps_its_transaction() {
    a_read_modify_write_at_serializable_keeps_its_transaction("postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_read_modify_write_at_serializable_keeps_its_transaction() {
    a_read_modify_write_at_serializable_keeps_its_transaction("mysql").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_one_statement_commit_still_detects_the_conflict() {
    a_one_statement_commit_still_detects_the_conflict("postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_one_statement_commit_still_detects_the_conflict() {
    a_one_statement_commit_still_detects_the_conflict("mysql").await;
}
