//! No lost updates under contention, on every backend: many concurrent read-
//! modify-write units of work on one aggregate, retried on conflict, add up
//! exactly.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use std::time::Duration;

use uow_core::{Error, RetryPolicy, Retryable, Store, retry, retry_with};
use uow_tests::backends::Backend;
use uow_tests::bank::{Account, AccountEvent, AccountId, Bank};

mod scenarios {
    use super::*;

    const TASKS: u64 = 8;
    const DEPOSITS_PER_TASK: u64 = 100;

    /// Deposits 1 into `acc-1` in its own unit of work; counts the conflicts
    /// it lost and retried.
    async fn deposit_one<S: Store>(store: &S, retried: &AtomicU64) -> Result<(), Error> {
        retry(10_000, || async {
            let outcome = async {
                let mut uow = Bank::begin(store).await?;
                uow.accounts
                    .get(&AccountId::new("acc-1"))
                    .await?
                    .ok_or(Error::NotFound {
                        aggregate: "Account",
                        id: "acc-1".into(),
                    })?
                    .balance += 1;
                uow.commit().await.map(drop)
            }
            .await;
            if outcome.as_ref().is_err_and(Retryable::is_retryable) {
                retried.fetch_add(1, Ordering::Relaxed);
            }
            outcome
        })
        .await
    }

    pub async fn eight_tasks_of_a_hundred_deposits_add_up_to_exactly_800<B: Backend>()
    where
        B::Store: 'static,
    {
        let Some(store) = B::fresh().await else {
            return;
        };
        let mut uow = Bank::begin(&store).await.expect("begin");
        uow.accounts
            .add(Account::open("acc-1", "Ada", "north"))
            .expect("add");
        uow.commit().await.expect("seed");

        let retried = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let store = store.clone();
                let retried = Arc::clone(&retried);
                tokio::spawn(async move {
                    for _ in 0..DEPOSITS_PER_TASK {
                        deposit_one(&store, &retried)
                            .await
                            .expect("deposit commits");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("no task panicked");
        }

        let mut uow = Bank::begin(&store).await.expect("begin");
        let account = uow
            .accounts
            .get(&AccountId::new("acc-1"))
            .await
            .expect("get")
            .expect("stored");
        assert_eq!(account.balance, (TASKS * DEPOSITS_PER_TASK) as i64);
        assert_eq!(account.version, 1 + TASKS * DEPOSITS_PER_TASK);
        let retried = retried.load(Ordering::Relaxed);
        uow_tests::report(&format!(
            "{}: {} deposits by {TASKS} tasks, final balance {}, {retried} conflicts retried",
            B::NAME,
            TASKS * DEPOSITS_PER_TASK,
            account.balance
        ));
    }

    /// Sixteen units of work deposit into one account at the same moment,
    /// each retried until it commits: once with immediate retries, once
    /// with `retry_with`'s backoff and jitter. Every deposit lands exactly
    /// once either way; the report shows how many attempts each way took.
    pub async fn sixteen_contenders_on_one_aggregate_each_commit_once<B: Backend>()
    where
        B::Store: 'static,
    {
        let Some(store) = B::fresh().await else {
            return;
        };
        let mut uow = Bank::begin(&store).await.expect("begin");
        uow.accounts
            .add(Account::open("acc-1", "Ada", "north"))
            .expect("add");
        uow.commit().await.expect("seed");
        let mut attempts_of = Vec::new();
        for backoff in [false, true] {
            let attempts = Arc::new(AtomicU64::new(0));
            let start = Arc::new(tokio::sync::Barrier::new(16));
            let tasks: Vec<_> = (0..16)
                .map(|_| {
                    let (store, attempts, start) =
                        (store.clone(), Arc::clone(&attempts), Arc::clone(&start));
                    tokio::spawn(async move {
                        start.wait().await;
                        let deposit = || async {
                            attempts.fetch_add(1, Ordering::Relaxed);
                            let mut uow = Bank::begin(&store).await?;
                            uow.accounts
                                .get(&AccountId::new("acc-1"))
                                .await?
                                .expect("stored")
                                .balance += 1;
                            uow.commit().await.map(drop)
                        };
                        if backoff {
                            let policy = RetryPolicy::new(1_000)
                                .backoff(Duration::from_millis(1), Duration::from_millis(50));
                            retry_with(&policy, tokio::time::sleep, deposit).await
                        } else {
                            retry(1_000, deposit).await
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("no panic").expect("the deposit commits");
            }
            attempts_of.push(attempts.load(Ordering::Relaxed));
        }
        let mut uow = Bank::begin(&store).await.expect("begin");
        let account = uow
            .accounts
            .get(&AccountId::new("acc-1"))
            .await
            .expect("get")
            .expect("stored");
        assert_eq!(account.balance, 32, "each of the 32 deposits once");
        assert_eq!(account.version, 33);
        uow_tests::report(&format!(
            "{}: 16 contenders on one account: {} attempts retrying at once, {} with backoff and jitter",
            B::NAME,
            attempts_of[0],
            attempts_of[1]
        ));
    }

    /// A unit of work removes an account and adds a new one with the same
    /// id: the commit replaces the stored account (version + 1). When
    /// another unit of work changed it in between, the replacement is a
    /// version conflict, like any write decided on a stale version.
    pub async fn removing_then_adding_an_id_replaces_it_checked_against_the_version_loaded<
        B: Backend,
    >() {
        let Some(store) = B::fresh().await else {
            return;
        };
        let mut uow = Bank::begin(&store).await.expect("begin");
        uow.accounts
            .add(Account::open("acc-1", "Ada", "north"))
            .expect("add");
        uow.commit().await.expect("seed");

        let mut uow = Bank::begin(&store).await.expect("begin");
        uow.accounts
            .remove(&AccountId::new("acc-1"))
            .await
            .expect("remove");
        uow.accounts
            .add(Account::open("acc-1", "Bob", "south"))
            .expect("the removed id can be added again");
        uow.commit().await.expect("the replacement commits");
        let mut uow = Bank::begin(&store).await.expect("begin");
        let stored = uow
            .accounts
            .get(&AccountId::new("acc-1"))
            .await
            .expect("get")
            .expect("stored")
            .clone();
        drop(uow);
        assert_eq!((stored.owner.as_str(), stored.version), ("Bob", 2));

        let mut replacing = Bank::begin(&store).await.expect("begin");
        replacing
            .accounts
            .remove(&AccountId::new("acc-1"))
            .await
            .expect("remove");
        replacing
            .accounts
            .add(Account::open("acc-1", "Cy", "east"))
            .expect("add");
        let mut depositing = Bank::begin(&store).await.expect("begin");
        depositing
            .accounts
            .get(&AccountId::new("acc-1"))
            .await
            .expect("get")
            .expect("stored")
            .deposit(5);
        depositing
            .commit()
            .await
            .expect("the deposit commits first");
        let error = replacing
            .commit()
            .await
            .expect_err("the replacement was decided on version 2");
        assert!(
            matches!(error, Error::Conflict { expected: 2, .. }),
            "{error:?}"
        );
    }

    /// Two units of work load the same version of an account and each
    /// decide to close it: a decision recorded as an event, with no change
    /// to the account's stored state. The event makes the account a write
    /// of each unit, version-checked: exactly one of them commits, the other
    /// gets the version conflict, and the version moves on once.
    pub async fn two_units_recording_an_event_on_one_version_cannot_both_commit<B: Backend>() {
        let Some(store) = B::fresh().await else {
            return;
        };
        let mut uow = Bank::begin(&store).await.expect("begin");
        uow.accounts
            .add(Account::open("acc-1", "Ada", "north"))
            .expect("add");
        uow.commit().await.expect("seed");

        let mut first = Bank::begin(&store).await.expect("begin");
        let mut second = Bank::begin(&store).await.expect("begin");
        for uow in [&mut first, &mut second] {
            let account = uow
                .accounts
                .get(&AccountId::new("acc-1"))
                .await
                .expect("get")
                .expect("stored");
            assert_eq!(account.version, 1);
            let id = account.id.clone();
            account.events.push(AccountEvent::Closed { account: id });
        }
        let first = first.commit().await;
        let second = second.commit().await;
        let committed = [&first, &second].iter().filter(|o| o.is_ok()).count();
        assert_eq!(committed, 1, "first: {first:?}, second: {second:?}");
        let error = second.expect_err("the second decided on a stale version");
        assert!(
            matches!(error, Error::Conflict { expected: 1, .. }),
            "a version conflict: {error:?}"
        );
        assert_eq!(first.expect("the first commits").len(), 1, "its event");

        let mut uow = Bank::begin(&store).await.expect("begin");
        let account = uow
            .accounts
            .get(&AccountId::new("acc-1"))
            .await
            .expect("get")
            .expect("stored");
        assert_eq!(account.version, 2, "the event bumped the version once");
        assert_eq!(account.balance, 0);
    }
}

uow_tests::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
    eight_tasks_of_a_hundred_deposits_add_up_to_exactly_800,
    two_units_recording_an_event_on_one_version_cannot_both_commit,
    removing_then_adding_an_id_replaces_it_checked_against_the_version_loaded,
    sixteen_contenders_on_one_aggregate_each_commit_once,
]);

/// At REPEATABLE READ, PostgreSQL itself aborts the second writer with a
/// serialization failure (40001) before the version check runs; it surfaces
/// as a retryable conflict, so `retry` handles it like a version conflict.
#[tokio::test]
async fn postgres_serialization_failures_are_retryable_conflicts() {
    use uow_sqlx::{Isolation, StoreOptions};
    use uow_tests::backends::Postgres;

    let options = StoreOptions::new()
        .max_connections(5)
        .isolation(Isolation::RepeatableRead);
    let Some(store) = Postgres::empty_with(options).await else {
        return;
    };
    store
        .create_tables(uow_tests::bank::TABLES)
        .await
        .expect("tables");
    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .add(Account::open("acc-1", "Ada", "north"))
        .expect("add");
    uow.commit().await.expect("seed");

    let id = AccountId::new("acc-1");
    let mut first = Bank::begin(&store).await.expect("begin");
    let mut second = Bank::begin(&store).await.expect("begin");
    first
        .accounts
        .get(&id)
        .await
        .expect("get")
        .expect("stored")
        .balance += 1;
    second
        .accounts
        .get(&id)
        .await
        .expect("get")
        .expect("stored")
        .balance += 2;
    first.commit().await.expect("first wins");
    let err = second.commit().await.expect_err("second loses");
    assert!(err.is_conflict(), "retryable: {err}");
    assert!(
        matches!(&err, Error::Backend(e) if e.retryable),
        "reported by PostgreSQL as a serialization failure: {err:?}"
    );
    let chain = uow_tests::error_chain(&err);
    assert!(chain.contains("could not serialize"), "{chain}");
}
